package server_test

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/charter-registry/charter/internal/audit"
	"github.com/charter-registry/charter/internal/packet/packettest"
	"github.com/charter-registry/charter/internal/store"
	"github.com/charter-registry/charter/internal/store/storetest"
)

// A packet link is kept after a download, so that the next downloads
// skip its lookup; what can change about it still holds on the very next
// download: a revocation, the expiry and a new NDA. Each refusal is
// logged once, as for a link that was not kept.
func TestKeptPacketLinksFollowRevocationExpiryAndANewNDA(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		e := newEnv(t, st)
		download := func(link string) int {
			t.Helper()
			return e.browser().get(link + "/packet.pdf").status
		}
		outcomes := func(email string) []string {
			t.Helper()
			var out []string
			if err := st.DB.Table("packet_access").Joins("JOIN packets ON packets.id = packet_access.packet_id").
				Where("packets.recipient_email = ? AND packet_access.file = ?", email, "packet.pdf").
				Order("packet_access.id").Pluck("packet_access.outcome", &out).Error; err != nil {
				t.Fatal(err)
			}
			return out
		}
		publicID := func(email string) string {
			t.Helper()
			var id string
			if err := st.DB.Table("packets").Where("recipient_email = ?", email).Pluck("public_id", &id).Error; err != nil {
				t.Fatal(err)
			}
			return id
		}

		revoked := packettest.Issue(t, e.packets, st.DB, "rev@customer.example")
		expiring := packettest.Issue(t, e.packets, st.DB, "exp@customer.example")
		newNDA := packettest.Issue(t, e.packets, st.DB, "nda@customer.example")
		for _, link := range []string{revoked, expiring, newNDA} {
			for range 2 {
				if code := download(link); code != http.StatusOK {
					t.Fatalf("download: %d", code)
				}
			}
		}

		if _, err := e.packets.Revoke(t.Context(), audit.System("test"), publicID("rev@customer.example")); err != nil {
			t.Fatal(err)
		}
		if code := download(revoked); code != http.StatusGone {
			t.Errorf("revoked link: %d", code)
		}
		if got := outcomes("rev@customer.example"); strings.Join(got, ",") != "downloaded,downloaded,refused: revoked" {
			t.Errorf("revoked link's log: %q", got)
		}

		if _, err := e.packets.PublishNDA(t.Context(), audit.System("test"), strings.Repeat("The recipient keeps these documents confidential. ", 3)); err != nil {
			t.Fatal(err)
		}
		if code := download(newNDA); code != http.StatusForbidden {
			t.Errorf("download owing the new NDA: %d", code)
		}
		if got := outcomes("nda@customer.example"); strings.Join(got, ",") != "downloaded,downloaded,refused: NDA not accepted" {
			t.Errorf("new NDA's log: %q", got)
		}

		e.clock.Advance(31 * 24 * time.Hour)
		if code := download(expiring); code != http.StatusGone {
			t.Errorf("expired link: %d", code)
		}
		if got := outcomes("exp@customer.example"); strings.Join(got, ",") != "downloaded,downloaded,refused: expired" {
			t.Errorf("expired link's log: %q", got)
		}
	})
}
