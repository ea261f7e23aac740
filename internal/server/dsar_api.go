package server

import (
	"net/http"
	"time"

	"github.com/charter-registry/charter/internal/dsar"
	"github.com/labstack/echo/v4"
)

func (h *dsarHandlers) apiListDSAR(c echo.Context) error {
	list, err := h.dsar.List(c.Request().Context(), c.QueryParam("open") == "true")
	if err != nil {
		return err
	}
	out := []dsarJSON{}
	for i := range list {
		out = append(out, toDSARJSON(&list[i], h.timeNow()))
	}
	return c.JSON(http.StatusOK, listResponse[dsarJSON]{Items: out})
}

// dsarJSON is a privacy request on the wire.
type dsarJSON struct {
	Reference          string     `json:"reference"`
	ReceivedAt         time.Time  `json:"received_at"`
	Channel            string     `json:"channel"`
	Law                string     `json:"law"`
	RequestType        string     `json:"type"`
	RequesterName      string     `json:"requester_name"`
	RequesterEmail     string     `json:"requester_email"`
	Details            string     `json:"details"`
	CustomerDPAID      *int64     `json:"customer_dpa_id"`
	Status             string     `json:"status"`
	VerificationMethod string     `json:"verification_method"`
	VerifiedAt         *time.Time `json:"verified_at"`
	VerifiedBy         string     `json:"verified_by"`
	AcknowledgedAt     *time.Time `json:"acknowledged_at"`
	ExtendedAt         *time.Time `json:"extended_at"`
	ExtensionReason    string     `json:"extension_reason"`
	SystemsSearched    string     `json:"systems_searched"`
	Outcome            string     `json:"outcome"`
	RefusalReason      string     `json:"refusal_reason"`
	ClosedAt           *time.Time `json:"closed_at"`
	ResponseSHA256     string     `json:"response_sha256"`
	ResponseName       string     `json:"response_name"`
	RedactedAt         *time.Time `json:"redacted_at"`
	CreatedAt          time.Time  `json:"created_at"`
	UpdatedAt          time.Time  `json:"updated_at"`
	Deadline           string     `json:"deadline"`
	AckDeadline        string     `json:"acknowledgement_deadline,omitempty"`
	Timing             string     `json:"timing,omitempty"`
}

func toDSARJSON(r *dsar.Request, now time.Time) dsarJSON {
	j := dsarJSON{Reference: r.Reference, ReceivedAt: r.ReceivedAt, Channel: r.Channel, Law: r.Law, RequestType: r.RequestType,
		RequesterName: r.RequesterName, RequesterEmail: r.RequesterEmail, Details: r.Details, CustomerDPAID: r.CustomerDPAID,
		Status: r.Status, VerificationMethod: r.VerificationMethod, VerifiedAt: r.VerifiedAt, VerifiedBy: r.VerifiedBy,
		AcknowledgedAt: r.AcknowledgedAt, ExtendedAt: r.ExtendedAt, ExtensionReason: r.ExtensionReason,
		SystemsSearched: r.SystemsSearched, Outcome: r.Outcome, RefusalReason: r.RefusalReason, ClosedAt: r.ClosedAt,
		ResponseSHA256: r.ResponseSHA256, ResponseName: r.ResponseName, RedactedAt: r.RedactedAt,
		CreatedAt: r.CreatedAt, UpdatedAt: r.UpdatedAt, Deadline: r.Deadline().Format(time.DateOnly)}
	if d, ok := r.AckDeadline(); ok {
		j.AckDeadline = d.Format(time.DateOnly)
	}
	if r.Open() {
		j.Timing = dsar.Timing(r.Deadline(), now)
	}
	return j
}

func (h *dsarHandlers) apiCreateDSAR(c echo.Context) error {
	var in dsarRequest
	if err := bind(c, &in); err != nil {
		return err
	}
	r, err := h.dsar.Create(c.Request().Context(), actor(c), dsar.Input(in))
	if err != nil {
		return err
	}
	return c.JSON(http.StatusCreated, toDSARJSON(r, h.timeNow()))
}

func (h *dsarHandlers) apiGetDSAR(c echo.Context) error {
	r, err := h.dsar.Get(c.Request().Context(), c.Param("ref"))
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, toDSARJSON(r, h.timeNow()))
}

func (h *dsarHandlers) apiActOnDSAR(c echo.Context) error {
	var a dsarActionRequest
	if err := bind(c, &a); err != nil {
		return err
	}
	r, err := h.dsar.Act(c.Request().Context(), actor(c), c.Param("ref"), dsar.Action(a))
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, toDSARJSON(r, h.timeNow()))
}

func (h *dsarHandlers) apiDSARMetrics(c echo.Context) error {
	year, err := yearParam(c, h.timeNow())
	if err != nil {
		return err
	}
	m, err := h.dsar.YearMetrics(c.Request().Context(), year)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, toDSARMetricsJSON(m))
}

// dsarMetricsJSON are a year's figures on the wire.
type dsarMetricsJSON struct {
	Year  int                   `json:"year"`
	Types []dsarTypeFiguresJSON `json:"types"`
}

// dsarTypeFiguresJSON are one request type's figures for the year.
type dsarTypeFiguresJSON struct {
	Type       string   `json:"type"`
	Received   int      `json:"received"`
	Complied   int      `json:"complied_in_whole_or_part"`
	Denied     int      `json:"denied"`
	MedianDays *float64 `json:"median_days_to_respond"`
}

func toDSARMetricsJSON(m *dsar.Metrics) dsarMetricsJSON {
	out := dsarMetricsJSON{Year: m.Year}
	for _, f := range m.Types {
		out.Types = append(out.Types, dsarTypeFiguresJSON(f))
	}
	return out
}
