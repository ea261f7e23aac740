package notify

import (
	"context"
	"io"
	"log/slog"
	"sync"
	"testing"
	"time"

	"github.com/charter-registry/charter/internal/store"
	"github.com/charter-registry/charter/internal/store/storetest"
	"gorm.io/gorm"
)

// Issue 20, item 4: a sender that claimed messages and died (claimed,
// never recorded) loses them to another sender once the lease has
// passed, and not before; each arrives with the Message-ID it was given,
// and none is lost.
func TestADeadSendersMessagesGoOutAfterTheLease(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		start := time.Date(2026, 3, 1, 6, 0, 0, 0, time.UTC)
		var mu sync.Mutex
		clock := start
		now := func() time.Time { mu.Lock(); defer mu.Unlock(); return clock }
		set := func(t time.Time) { mu.Lock(); clock = t; mu.Unlock() }
		log := slog.New(slog.NewTextHandler(io.Discard, nil))

		want := map[string]bool{}
		for _, to := range []string{"ana@example.com", "ben@example.com", "cy@example.com"} {
			var m *Message
			err := st.DB.Transaction(func(tx *gorm.DB) error {
				var err error
				m, err = Enqueue(tx, start, "charter.test", Email{Kind: "test", To: to, Subject: "Hello", Body: "Hi.\n"})
				return err
			})
			if err != nil {
				t.Fatal(err)
			}
			want[m.MessageID] = true
		}

		dead := &Sender{db: st.DB, now: now, log: log, lease: 20 * time.Second}
		claimed, err := dead.claim(ctx)
		if err != nil || len(claimed) != 3 {
			t.Fatalf("the dying sender claimed %d: %v", len(claimed), err)
		}

		var delivered []string
		survivor := &Sender{db: st.DB, now: now, log: log, lease: 20 * time.Second,
			deliver: func(_ context.Context, m *Message) error {
				delivered = append(delivered, m.MessageID)
				return nil
			}}
		set(start.Add(19 * time.Second))
		if sent, _, err := survivor.SendDue(ctx); err != nil || sent != 0 {
			t.Fatalf("within the lease: sent %d: %v", sent, err)
		}
		set(start.Add(21 * time.Second))
		if sent, _, err := survivor.SendDue(ctx); err != nil || sent != 3 {
			t.Fatalf("after the lease: sent %d, want 3: %v", sent, err)
		}
		for _, id := range delivered {
			if !want[id] {
				t.Fatalf("delivered %s, not a Message-ID the outbox gave", id)
			}
			delete(want, id)
		}
		if len(want) != 0 {
			t.Fatalf("lost: %v", want)
		}
		var pending int64
		st.DB.Model(&Message{}).Where("state <> ?", Sent).Count(&pending)
		if pending != 0 {
			t.Fatalf("%d messages not recorded as sent", pending)
		}
		// The dead sender, were it to wake, cannot record a failure over
		// the survivor's outcome, nor renew a claim that is gone.
		if held, err := dead.renew(ctx, &claimed[0]); err != nil || held {
			t.Fatalf("a lost claim renewed: %v %v", held, err)
		}
		set(start.Add(time.Hour))
		if sent, _, _ := survivor.SendDue(ctx); sent != 0 || len(delivered) != 3 {
			t.Fatalf("sent again: %d, %d deliveries", sent, len(delivered))
		}
	})
}

// A sender stalled past the lease on one message does not send the rest
// of its batch when another sender took them over meanwhile: only the
// message in flight can arrive twice.
func TestAStalledSenderSkipsMessagesTakenOver(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		start := time.Date(2026, 3, 1, 6, 0, 0, 0, time.UTC)
		var mu sync.Mutex
		clock := start
		now := func() time.Time { mu.Lock(); defer mu.Unlock(); return clock }
		log := slog.New(slog.NewTextHandler(io.Discard, nil))
		for _, to := range []string{"ana@example.com", "ben@example.com"} {
			if err := st.DB.Transaction(func(tx *gorm.DB) error {
				_, err := Enqueue(tx, start, "charter.test", Email{Kind: "test", To: to, Subject: "Hello", Body: "Hi.\n"})
				return err
			}); err != nil {
				t.Fatal(err)
			}
		}
		deliveries := map[string]int{}
		var other *Sender
		count := func(_ context.Context, m *Message) error { deliveries[m.ToAddr]++; return nil }
		stalled := &Sender{db: st.DB, now: now, log: log, lease: 20 * time.Second,
			deliver: func(ctx context.Context, m *Message) error {
				if m.ToAddr == "ana@example.com" {
					// Stalls past the lease of the rest of the batch; the
					// other sender takes ben's message over.
					mu.Lock()
					clock = start.Add(time.Minute)
					mu.Unlock()
					// Its own renewals did not reach the database (the
					// clock jumped), so ana's message, in flight, goes
					// out from the other sender too: the one duplicate
					// at-least-once allows.
					if sent, _, err := other.SendDue(ctx); err != nil || sent != 2 {
						t.Errorf("the other sender sent %d: %v", sent, err)
					}
				}
				return count(ctx, m)
			}}
		other = &Sender{db: st.DB, now: now, log: log, lease: 20 * time.Second, deliver: count}
		if _, _, err := stalled.SendDue(ctx); err != nil {
			t.Fatal(err)
		}
		if deliveries["ana@example.com"] != 2 || deliveries["ben@example.com"] != 1 {
			t.Fatalf("deliveries: %v", deliveries)
		}
	})
}
