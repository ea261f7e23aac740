package server

import (
	"net/http"

	"github.com/charter-registry/charter/internal/dsar"
	"github.com/charter-registry/charter/internal/packet"
	"github.com/charter-registry/charter/internal/people"
	"github.com/charter-registry/charter/internal/policy"
	"github.com/charter-registry/charter/internal/privacy"
	"github.com/charter-registry/charter/internal/worklist"
	"github.com/labstack/echo/v4"
)

// overviewHandlers serve the dashboard's overview, which counts every register.
type overviewHandlers struct {
	*kit
	policies *policy.Service
	people   *people.Service
	privacy  *privacy.Service
	packets  *packet.Service
	dsar     *dsar.Service
	worklist *worklist.Service
}

type overviewPage struct {
	// Waiting is what needs the signed-in person; the overview shows the
	// first items of each kind and links to /app/waiting for the rest.
	Waiting  *worklist.List
	Overview *policy.Overview
	People   *people.Overview
	Privacy  *privacy.Overview
	// PacketRequests is the number of policy requests awaiting a decision.
	PacketRequests int64
	// OpenDSAR privacy requests are open, DueDSAR of them due soon or late.
	OpenDSAR, DueDSAR int
	Counts            map[string]int // employees by state
	States            []stateBar
	Overdue           []bar // policies with the most overdue employees
	Courses           []bar // courses with overdue employees
}

// stateBar is one segment of the stacked bar of employee states.
type stateBar struct {
	State  people.State
	Count  int
	X, W   float64 // percent of the bar
	Colour string
}

// bar is one bar of a horizontal bar chart.
type bar struct {
	Label string
	N     int
	W     float64 // percent of the longest bar
	Y     int     // pixel offset
}

// bars lays out at most ten labelled counts, longest first.
func bars(labels []string, counts []int) []bar {
	var out []bar
	longest := 0
	for _, n := range counts {
		longest = max(longest, n)
	}
	for i := range labels {
		if i == 10 || longest == 0 {
			break
		}
		out = append(out, bar{Label: labels[i], N: counts[i], W: 100 * float64(counts[i]) / float64(longest), Y: i * 22})
	}
	return out
}

var stateColours = map[people.State]string{
	people.Compliant: "#1f7a3d", people.Due: "#c88a12", people.Overdue: "#b3261e", people.Offboarded: "#a3a9b5",
}

func (h *overviewHandlers) overviewPage(c echo.Context) error {
	ctx := c.Request().Context()
	o, err := h.policies.Overview(ctx)
	if err != nil {
		return err
	}
	po, err := h.people.Overview(ctx)
	if err != nil {
		return err
	}
	pr, err := h.privacy.Overview(ctx)
	if err != nil {
		return err
	}
	waiting, err := h.packets.PendingCount(ctx)
	if err != nil {
		return err
	}
	openDSAR, dueDSAR, err := h.dsar.RequestCount(ctx)
	if err != nil {
		return err
	}
	u := currentUser(c)
	waitingList, err := h.worklist.For(ctx, u.ID, u.Role)
	if err != nil {
		return err
	}
	p := overviewPage{Waiting: waitingList, Overview: o, People: po, Privacy: pr, PacketRequests: waiting, OpenDSAR: openDSAR, DueDSAR: dueDSAR, Counts: map[string]int{}}
	total := 0
	for _, st := range people.States {
		total += po.ByState[st]
		p.Counts[string(st)] = po.ByState[st]
	}
	x := 0.0
	for _, st := range people.States {
		if n := po.ByState[st]; n > 0 {
			w := 100 * float64(n) / float64(total)
			p.States = append(p.States, stateBar{State: st, Count: n, X: x, W: w, Colour: stateColours[st]})
			x += w
		}
	}
	var labels []string
	var counts []int
	for _, pc := range po.OverdueByPolicy {
		labels, counts = append(labels, pc.Title), append(counts, pc.Overdue)
	}
	p.Overdue = bars(labels, counts)
	labels, counts = nil, nil
	for _, cc := range po.OverdueByCourse {
		labels, counts = append(labels, cc.Course), append(counts, cc.Overdue)
	}
	p.Courses = bars(labels, counts)
	return h.render(c, http.StatusOK, "overview", "Overview", p)
}
