package publicform_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/charter-registry/charter/internal/apperr"
	"github.com/charter-registry/charter/internal/clocktest"
	"github.com/charter-registry/charter/internal/publicform"
	"github.com/charter-registry/charter/internal/store"
	"github.com/charter-registry/charter/internal/store/storetest"
)

// generous leaves every limit out of the way but the one a test sets.
var generous = publicform.Limits{PerNetworkPerHour: 1000, PerRecipientPerHour: 1000, PerRecipientPerDay: 1000, PerFormPerHour: 1000}

type limiterEnv struct {
	t     *testing.T
	st    *store.Store
	clock *clocktest.Clock
	start time.Time // 09:00
	l     *publicform.Limiter
}

func newLimiter(t *testing.T, st *store.Store, limits publicform.Limits) *limiterEnv {
	start := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
	c := clocktest.New(start)
	return &limiterEnv{t: t, st: st, clock: c, start: start, l: publicform.NewLimiter(st.DB, c.Now, limits)}
}

// admit expects s to be admitted.
func (e *limiterEnv) admit(s publicform.Submission) publicform.Admission {
	e.t.Helper()
	a, err := e.l.Admit(context.Background(), s)
	if err != nil {
		e.t.Fatalf("%+v at %s: %v", s, e.clock.Now().Format(time.TimeOnly), err)
	}
	return a
}

// refuse expects s to be refused by limit, retrying after wait.
func (e *limiterEnv) refuse(s publicform.Submission, limit publicform.Limit, wait time.Duration) {
	e.t.Helper()
	before := e.rows()
	_, err := e.l.Admit(context.Background(), s)
	var le *publicform.LimitError
	if !errors.As(err, &le) {
		e.t.Fatalf("%+v at %s: %v, want refused by %s", s, e.clock.Now().Format(time.TimeOnly), err, limit)
	}
	if le.Limit != limit || le.RetryAfter != wait || le.Form != s.Form {
		e.t.Fatalf("%+v: refused by %s for %s (form %q), want %s for %s", s, le.Limit, le.RetryAfter, le.Form, limit, wait)
	}
	if !apperr.Is(err, apperr.TooMany) {
		e.t.Fatalf("kind %v, want TooMany", apperr.KindOf(err))
	}
	if after := e.rows(); after != before {
		e.t.Fatalf("a refused submission was counted: %d rows, then %d", before, after)
	}
}

func (e *limiterEnv) rows() int64 {
	var n int64
	if err := e.st.DB.Table("public_form_submissions").Count(&n).Error; err != nil {
		e.t.Fatal(err)
	}
	return n
}

// with returns generous limits changed by set.
func with(set func(*publicform.Limits)) publicform.Limits {
	l := generous
	set(&l)
	return l
}

// Each case runs on fresh databases: counts of one would limit another.
func TestLimits(t *testing.T) {
	for _, c := range []struct {
		name   string
		limits publicform.Limits
		run    func(t *testing.T, e *limiterEnv)
	}{
		{"per network, sliding over an hour", with(func(l *publicform.Limits) { l.PerNetworkPerHour = 3 }), func(t *testing.T, e *limiterEnv) {
			for i, form := range []string{"subscribe", "packet_request", "privacy_request"} {
				e.admit(publicform.Submission{Form: form, ClientIP: "192.0.2.1", Recipient: fmt.Sprintf("r%d@acme.example", i)})
				e.clock.Advance(10 * time.Minute)
			}
			// 09:30: the three of 09:00, 09:10 and 09:20 count, whatever the form.
			e.refuse(publicform.Submission{Form: "dpa_request", ClientIP: "192.0.2.1"}, publicform.LimitNetwork, 30*time.Minute)
			e.admit(publicform.Submission{Form: "dpa_request", ClientIP: "192.0.2.2"})
			e.clock.Advance(30*time.Minute - time.Second)
			e.refuse(publicform.Submission{Form: "dpa_request", ClientIP: "192.0.2.1"}, publicform.LimitNetwork, time.Second)
			e.clock.Advance(time.Second) // 10:00: the 09:00 submission leaves the window
			e.admit(publicform.Submission{Form: "dpa_request", ClientIP: "::ffff:192.0.2.1"})
			e.refuse(publicform.Submission{Form: "dpa_request", ClientIP: "192.0.2.1"}, publicform.LimitNetwork, 10*time.Minute)
		}},
		{"an IPv6 client counts for its /64", with(func(l *publicform.Limits) { l.PerNetworkPerHour = 3 }), func(t *testing.T, e *limiterEnv) {
			for _, ip := range []string{"2001:db8:aa:1::1", "2001:db8:aa:1::2", "2001:db8:aa:1:ffff:1:2:3"} {
				e.admit(publicform.Submission{Form: "subscribe", ClientIP: ip})
			}
			e.refuse(publicform.Submission{Form: "subscribe", ClientIP: "2001:db8:aa:1:9:9:9:9"}, publicform.LimitNetwork, time.Hour)
			e.admit(publicform.Submission{Form: "subscribe", ClientIP: "2001:db8:aa:2::1"})
		}},
		{"per recipient, an hour and a day, whatever the source", with(func(l *publicform.Limits) { l.PerRecipientPerHour, l.PerRecipientPerDay = 2, 5 }), func(t *testing.T, e *limiterEnv) {
			victim := func(i int) publicform.Submission {
				forms := []string{"subscribe", "packet_request", "security_report"}
				return publicform.Submission{Form: forms[i%3], ClientIP: fmt.Sprintf("198.51.100.%d", i), Recipient: "victim@acme.example"}
			}
			e.admit(victim(1))
			e.clock.Advance(20 * time.Minute)
			e.admit(publicform.Submission{Form: "privacy_request", ClientIP: "203.0.113.9", Recipient: " Victim@ACME.example "})
			e.refuse(victim(3), publicform.LimitRecipientHour, 40*time.Minute)
			e.admit(publicform.Submission{Form: "subscribe", ClientIP: "198.51.100.3", Recipient: "other@acme.example"})
			e.clock.Advance(40 * time.Minute) // 10:00
			e.admit(victim(4))
			e.clock.Advance(time.Hour) // 11:00
			e.admit(victim(5))
			e.admit(victim(6))
			// Five in the day (09:00, 09:20, 10:00, 11:00, 11:00): the day is
			// full until the first of them is a day old.
			e.clock.Advance(2 * time.Hour) // 13:00
			e.refuse(victim(7), publicform.LimitRecipientDay, 20*time.Hour)
			e.clock.Advance(20 * time.Hour) // 09:00 the next day
			e.admit(victim(8))
		}},
		{"per form, from everyone", with(func(l *publicform.Limits) { l.PerFormPerHour = 3 }), func(t *testing.T, e *limiterEnv) {
			for i := range 3 {
				e.admit(publicform.Submission{Form: "security_report", ClientIP: fmt.Sprintf("198.51.100.%d", i), Recipient: fmt.Sprintf("r%d@acme.example", i)})
				e.clock.Advance(time.Minute)
			}
			e.refuse(publicform.Submission{Form: "security_report", ClientIP: "203.0.113.1", Recipient: "new@acme.example"}, publicform.LimitForm, 57*time.Minute)
			e.admit(publicform.Submission{Form: "packet_request", ClientIP: "203.0.113.1", Recipient: "new@acme.example"})
		}},
		{"refusals are not counted, so the window keeps sliding", with(func(l *publicform.Limits) { l.PerNetworkPerHour = 1 }), func(t *testing.T, e *limiterEnv) {
			e.admit(publicform.Submission{Form: "subscribe", ClientIP: "192.0.2.50"})
			for range 5 {
				e.clock.Advance(11 * time.Minute)
				e.refuse(publicform.Submission{Form: "subscribe", ClientIP: "192.0.2.50"}, publicform.LimitNetwork, time.Hour-e.clock.Now().Sub(e.start))
			}
			e.clock.Advance(5 * time.Minute) // an hour after the only admitted one
			e.admit(publicform.Submission{Form: "subscribe", ClientIP: "192.0.2.50"})
		}},
		{"a withdrawn submission stops counting for its recipient only", with(func(l *publicform.Limits) { l.PerRecipientPerHour, l.PerNetworkPerHour = 1, 2 }), func(t *testing.T, e *limiterEnv) {
			a := e.admit(publicform.Submission{Form: "privacy_request", ClientIP: "192.0.2.60", Recipient: "typo@acme.example"})
			if err := e.l.Withdraw(context.Background(), a); err != nil {
				t.Fatal(err)
			}
			e.admit(publicform.Submission{Form: "privacy_request", ClientIP: "192.0.2.60", Recipient: "typo@acme.example"})
			e.refuse(publicform.Submission{Form: "privacy_request", ClientIP: "192.0.2.60", Recipient: "else@acme.example"}, publicform.LimitNetwork, time.Hour)
			if err := e.l.Withdraw(context.Background(), publicform.Admission{}); err != nil {
				t.Fatalf("withdrawing nothing: %v", err)
			}
		}},
		{"Prune deletes only counts older than the cut-off", generous, func(t *testing.T, e *limiterEnv) {
			e.admit(publicform.Submission{Form: "subscribe", ClientIP: "192.0.2.70"})
			e.admit(publicform.Submission{Form: "subscribe", ClientIP: "192.0.2.71"})
			cut := e.clock.Now().Add(time.Minute)
			e.clock.Advance(2 * time.Minute)
			e.admit(publicform.Submission{Form: "subscribe", ClientIP: "192.0.2.70"})
			n, err := publicform.Prune(context.Background(), e.st.DB, cut)
			if err != nil {
				t.Fatal(err)
			}
			if n != 2 || e.rows() != 1 {
				t.Fatalf("pruned %d of the 2 older counts, %d left", n, e.rows())
			}
		}},
	} {
		t.Run(c.name, func(t *testing.T) {
			storetest.Each(t, func(t *testing.T, st *store.Store) { c.run(t, newLimiter(t, st, c.limits)) })
		})
	}
}

// Concurrent submissions cannot slip past a limit together: check and
// count happen in one serialised transaction.
func TestLimitsHoldUnderConcurrency(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		perRecipient, perForm, perNetwork := generous, generous, generous
		perRecipient.PerRecipientPerHour = 5
		perForm.PerFormPerHour = 7
		perNetwork.PerNetworkPerHour = 6
		for _, c := range []struct {
			name   string
			limits publicform.Limits
			submit func(i int) publicform.Submission
			want   int
		}{
			{"one recipient from many networks", perRecipient, func(i int) publicform.Submission {
				return publicform.Submission{Form: "packet_request", ClientIP: fmt.Sprintf("198.51.100.%d", i), Recipient: "victim@acme.example"}
			}, 5},
			{"one form from everyone", perForm, func(i int) publicform.Submission {
				return publicform.Submission{Form: "security_report", ClientIP: fmt.Sprintf("203.0.113.%d", i), Recipient: fmt.Sprintf("r%d@acme.example", i)}
			}, 7},
			{"one IPv6 /64 rotating addresses", perNetwork, func(i int) publicform.Submission {
				return publicform.Submission{Form: "subscribe", ClientIP: fmt.Sprintf("2001:db8:bb:1::%x", i+1), Recipient: fmt.Sprintf("s%d@acme.example", i)}
			}, 6},
		} {
			t.Run(c.name, func(t *testing.T) {
				e := newLimiter(t, st, c.limits)
				before := e.rows()
				const n = 40
				var wg sync.WaitGroup
				errs := make([]error, n)
				for i := range n {
					wg.Add(1)
					go func() {
						defer wg.Done()
						_, errs[i] = e.l.Admit(context.Background(), c.submit(i))
					}()
				}
				wg.Wait()
				admitted := 0
				for _, err := range errs {
					var le *publicform.LimitError
					switch {
					case err == nil:
						admitted++
					case !errors.As(err, &le):
						t.Fatalf("refused by something else than a limit: %v", err)
					}
				}
				if counted := e.rows() - before; admitted != c.want || counted != int64(c.want) {
					t.Fatalf("%d of %d admitted and %d counted, want %d", admitted, n, counted, c.want)
				}
			})
		}
	})
}
