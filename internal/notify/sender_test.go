package notify_test

import (
	"context"
	"io"
	"log/slog"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/charter-registry/charter/internal/notify"
	"github.com/charter-registry/charter/internal/notify/notifytest"
	"github.com/charter-registry/charter/internal/store"
	"github.com/charter-registry/charter/internal/store/storetest"
	"gorm.io/gorm"
)

func enqueue(t *testing.T, db *gorm.DB, now time.Time, to string) *notify.Message {
	var m *notify.Message
	err := db.Transaction(func(tx *gorm.DB) error {
		var err error
		m, err = notify.Enqueue(tx, now, "charter.test", notify.Email{Kind: "test", To: to, Subject: "Hello", Body: "Line one.\nLine two.\n"})
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func TestSenderDeliversRetriesAndGivesUp(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		mb, cfg := notifytest.Start(t)
		clock := time.Now().UTC()
		now := func() time.Time { return clock }
		s := notify.NewSender(st.DB, now, slog.New(slog.NewTextHandler(io.Discard, nil)), cfg)

		good := enqueue(t, st.DB, clock, "ana@example.com")
		bad := enqueue(t, st.DB, clock, "gone@bounce.example")
		sent, failed, err := s.SendDue(ctx)
		if err != nil || sent != 1 || failed != 1 {
			t.Fatalf("first pass: sent %d failed %d: %v", sent, failed, err)
		}
		if len(mb.Raw()) != 1 || mb.To()[0] != "ana@example.com" || !strings.Contains(mb.Raw()[0], "Message-ID: "+good.MessageID) ||
			!strings.Contains(mb.Raw()[0], "Subject: Hello") || !strings.Contains(mb.Raw()[0], "Line two.") {
			t.Fatalf("received: %q", mb.Raw())
		}
		var g, b notify.Message
		st.DB.First(&g, good.ID)
		st.DB.First(&b, bad.ID)
		if g.State != notify.Sent || g.SentAt == nil || g.Attempts != 1 {
			t.Fatalf("delivered message: %+v", g)
		}
		if b.State != notify.Pending || b.Attempts != 1 || !strings.Contains(b.LastError, "550") || !b.NextAttemptAt.After(clock) {
			t.Fatalf("bounced message: %+v", b)
		}
		// Nothing is due until the backoff has passed; nothing is sent twice.
		if sent, failed, _ := s.SendDue(ctx); sent+failed != 0 {
			t.Fatalf("second pass: sent %d failed %d", sent, failed)
		}
		for i := 2; i <= notify.MaxAttempts; i++ {
			clock = clock.Add(2 * time.Hour)
			s.SendDue(ctx)
		}
		st.DB.First(&b, bad.ID)
		if b.State != notify.Failed || b.Attempts != notify.MaxAttempts {
			t.Fatalf("after %d attempts: %+v", notify.MaxAttempts, b)
		}
		if len(mb.Raw()) != 1 {
			t.Fatalf("%d messages delivered, want 1", len(mb.Raw()))
		}
	})
}

func TestConcurrentSendersDeliverEachMessageOnce(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		mb, cfg := notifytest.Start(t)
		clock := time.Now().UTC()
		for i := 0; i < 30; i++ {
			enqueue(t, st.DB, clock, "p"+strconv.Itoa(i)+"@example.com")
		}
		var wg sync.WaitGroup
		for i := 0; i < 3; i++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				s := notify.NewSender(st.DB, func() time.Time { return clock }, slog.New(slog.NewTextHandler(io.Discard, nil)), cfg)
				for j := 0; j < 3; j++ {
					if _, _, err := s.SendDue(context.Background()); err != nil {
						t.Error(err)
					}
				}
			}()
		}
		wg.Wait()
		seen := map[string]int{}
		for _, to := range mb.To() {
			seen[to]++
		}
		if len(mb.Raw()) != 30 || len(seen) != 30 {
			t.Fatalf("%d deliveries to %d addresses, want 30 and 30", len(mb.Raw()), len(seen))
		}
	})
}

// TestSenderAttachesTheFileAMessageNames: a message that names a file of
// the file store (the countersigned DPA) is sent with it attached, read
// through the opener the sender was given; without one it is not sent
// and is retried.
func TestSenderAttachesTheFileAMessageNames(t *testing.T) {
	tpl, err := notify.NewTemplates()
	if err != nil {
		t.Fatal(err)
	}
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		mb, cfg := notifytest.Start(t)
		clock := time.Now().UTC()
		now := func() time.Time { return clock }
		sum := strings.Repeat("c", 64)
		signed := notify.DPASigned{Name: "Bo Chen", Company: "Acme", Customer: "Initech", Version: 1, SignedAt: clock,
			TextSHA256: strings.Repeat("a", 64), PDFSHA256: sum, VerifyLink: "https://charter.example/trust/verify",
			PDF: notify.Attachment{SHA256: sum, Name: "dpa-initech-v1.pdf"}}
		var m *notify.Message
		if err := st.DB.Transaction(func(tx *gorm.DB) error {
			m, err = tpl.Enqueue(tx, clock, "charter.test", "bo@initech.example", signed)
			return err
		}); err != nil {
			t.Fatal(err)
		}
		if m.AttachmentSHA256 != sum || m.AttachmentName != "dpa-initech-v1.pdf" {
			t.Fatalf("row: %+v", m)
		}

		bare := notify.NewSender(st.DB, now, slog.New(slog.NewTextHandler(io.Discard, nil)), cfg)
		if sent, failed, _ := bare.SendDue(ctx); sent != 0 || failed != 1 {
			t.Fatalf("without a file store: sent %d failed %d", sent, failed)
		}
		clock = clock.Add(2 * time.Hour)

		opened := ""
		s := notify.NewSender(st.DB, now, slog.New(slog.NewTextHandler(io.Discard, nil)), cfg).
			AttachFrom(func(sha string) (io.ReadCloser, error) {
				opened = sha
				return io.NopCloser(strings.NewReader("%PDF-1.7 the countersigned agreement")), nil
			})
		if sent, failed, err := s.SendDue(ctx); err != nil || sent != 1 || failed != 0 {
			t.Fatalf("sent %d failed %d: %v", sent, failed, err)
		}
		raw := mb.Raw()
		if opened != sum || len(raw) != 1 || !strings.Contains(raw[0], `filename="dpa-initech-v1.pdf"`) ||
			!strings.Contains(raw[0], "Content-Disposition: attachment") || !strings.Contains(raw[0], "JVBERi0xLjcgdGhlIGNvdW50ZXJzaWduZWQgYWdyZWVtZW50") {
			t.Fatalf("opened %q; received %q", opened, raw)
		}
	})
}
