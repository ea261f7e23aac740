package people_test

import (
	"strings"
	"testing"

	"github.com/charter-registry/charter/internal/notify"
	"github.com/charter-registry/charter/internal/people"
	"github.com/charter-registry/charter/internal/store"
	"github.com/charter-registry/charter/internal/store/storetest"
)

func TestRemindersOncePerDayForWhatFallsDue(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		f := setup(t, st)
		f.hire(t, "done@example.com", "2024-01-01")
		f.ackAll(t, "done@example.com")
		f.hire(t, "acks@example.com", "2024-01-01")
		// untrained: never completed the course, started long ago
		if _, err := f.people.Create(f.ctx, f.hr, people.Input{Email: "untrained@example.com", Name: "Una", StartDate: "2024-01-01"}); err != nil {
			t.Fatal(err)
		}
		f.ackAll(t, "untrained@example.com")

		outbox := notify.NewOutbox(st.DB)
		remind := func() (int, map[string]string) {
			n, err := f.people.QueueReminders(f.ctx, f.hr)
			if err != nil {
				t.Fatal(err)
			}
			msgs, _ := outbox.List(f.ctx, notify.Filter{})
			bodies := map[string]string{}
			for _, m := range msgs {
				if m.Kind == "reminder" && bodies[m.ToAddr] == "" {
					bodies[m.ToAddr] = m.Body
				}
			}
			return n, bodies
		}
		// Day 0: the policies were published today (due in 30 days): only
		// the overdue training is reminded.
		n, bodies := remind()
		if n != 1 || !strings.Contains(bodies["untrained@example.com"], "Security awareness (OVERDUE since") {
			t.Fatalf("day 0: %d reminders %v", n, bodies)
		}
		if n, _ := remind(); n != 0 {
			t.Fatalf("a second run on the same day queued %d", n)
		}
		// Day 25: acknowledgements fall due within seven days.
		*f.clock = f.clock.AddDate(0, 0, 25)
		n, bodies = remind()
		b := bodies["acks@example.com"]
		if n != 2 || !strings.Contains(b, "Policies to read and acknowledge") || !strings.Contains(b, "Backup Policy (due ") || !strings.Contains(b, "/ack/") {
			t.Fatalf("day 25: %d reminders; acks@ got %q", n, b)
		}
		if _, ok := bodies["done@example.com"]; ok {
			t.Fatal("someone with nothing due was reminded")
		}
		// The link in the reminder works.
		i := strings.Index(b, "/ack/")
		token := b[i+5 : i+5+43]
		if v, err := f.people.AckPage(f.ctx, token); err != nil || len(v.Owed) != 20 {
			t.Fatalf("reminder link: %v", err)
		}
	})
}
