package server_test

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/charter-registry/charter/internal/document/documenttest"
	"github.com/charter-registry/charter/internal/notify"
	"github.com/charter-registry/charter/internal/notify/notifytest"
	"github.com/charter-registry/charter/internal/policy"
	"github.com/charter-registry/charter/internal/store"
	"github.com/charter-registry/charter/internal/store/storetest"
	"gorm.io/gorm"
)

// changeMails returns the change notices queued for to.
func changeMails(t *testing.T, e *env, to string) []notify.Message {
	t.Helper()
	var out []notify.Message
	if err := e.st.DB.Where("kind = ? AND to_addr = ?", "packet_changed", to).Order("id").Find(&out).Error; err != nil {
		t.Fatal(err)
	}
	return out
}

// packetOf returns the public ID of the packet issued to email.
func packetOf(t *testing.T, e *env, email string) string {
	t.Helper()
	_, list := e.api("viewer", http.MethodGet, "/api/v1/packets", nil)
	for _, it := range list["items"].([]any) {
		if p := it.(map[string]any); p["recipient_email"] == email {
			return p["packet_id"].(string)
		}
	}
	t.Fatalf("no packet for %s in %v", email, list)
	return ""
}

// publishPolicy drafts, approves and publishes a version of a policy.
func publishPolicy(t *testing.T, e *env, slug, version string, material bool) {
	t.Helper()
	base := "/api/v1/policies/" + slug + "/versions"
	if code, body := e.api("editor", http.MethodPost, base, map[string]any{"body": "# " + slug + "\n\nVersion " + version + ".\n", "change_summary": "Update", "material": material}); code != http.StatusCreated || body["version"] != version {
		t.Fatalf("draft %s %s: %d %v", slug, version, code, body)
	}
	if code, body := e.api("editor2", http.MethodPost, base+"/"+version+"/approve", nil); code != http.StatusOK {
		t.Fatalf("approve: %d %v", code, body)
	}
	if code, body := e.api("admin", http.MethodPost, base+"/"+version+"/publish", nil); code != http.StatusOK {
		t.Fatalf("publish: %d %v", code, body)
	}
}

// TestPacketHoldersTold: a new major version of a policy in a live packet
// queues one email to its recipient, with a link to request it; a minor
// version, a revoked packet, a packet whose notices are off and a version
// already told of queue none; several policies changed at once make one
// email; a new version of a trust document in a packet is told too.
func TestPacketHoldersTold(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		e := newEnv(t, st)
		mb, smtp := notifytest.Start(t)
		year := e.clock.Now().AddDate(1, 0, 0).Format(time.DateOnly)
		report := e.uploadDocument(t, "SOC 2 Type II report", "on_request", year, false, documenttest.PDF(t, "SOC 2 report", 2))

		const dana, eve, fay = "dana@customer.example", "eve@other.example", "fay@third.example"
		v := e.browser()
		if r := submitRequestForm(v, dana, []string{"backup", "encryption"}, []string{report}); r.status != http.StatusOK {
			t.Fatalf("request: %d", r.status)
		}
		confirmRequest(t, e, smtp, mb, v, dana)
		approveNewest(t, e, smtp, mb, dana, url.Values{"expiry_days": {"30"}})
		for _, who := range []string{eve, fay} {
			requestPacketFor(t, e, smtp, mb, who, "Other Co", "backup", "encryption")
			approveNewest(t, e, smtp, mb, who, url.Values{"expiry_days": {"30"}})
		}
		danaPacket, evePacket, fayPacket := packetOf(t, e, dana), packetOf(t, e, eve), packetOf(t, e, fay)
		if code, body := e.api("editor", http.MethodPost, "/api/v1/packets/"+evePacket+"/revoke", nil); code != http.StatusOK {
			t.Fatalf("revoke: %d %v", code, body)
		}
		// The switch: a viewer may not turn it off, a bad body is a 422
		// naming the field, an editor turns it off.
		if code, _ := e.api("viewer", http.MethodPut, "/api/v1/packets/"+fayPacket+"/change-notices", map[string]any{"notify_on_change": false}); code != http.StatusForbidden {
			t.Fatalf("viewer switched notices off: %d", code)
		}
		if code, body := e.api("editor", http.MethodPut, "/api/v1/packets/"+fayPacket+"/change-notices", map[string]any{}); code != http.StatusUnprocessableEntity ||
			body["error"].(map[string]any)["fields"].(map[string]any)["notify_on_change"] == nil {
			t.Fatalf("no value: %d %v", code, body)
		}
		if code, body := e.api("editor", http.MethodPut, "/api/v1/packets/"+fayPacket+"/change-notices", map[string]any{"notify_on_change": false}); code != http.StatusOK || body["notify_on_change"] != false {
			t.Fatalf("switch off: %d %v", code, body)
		}
		if ev := e.lastEvent(); ev.Action != "packet.notify_on_change_set" || ev.ObjectID != fayPacket {
			t.Fatalf("audit: %+v", ev)
		}

		publishPolicy(t, e, "backup", "1.1", false)
		if n := len(changeMails(t, e, dana)); n != 0 {
			t.Fatalf("a minor version sent %d change notices", n)
		}
		publishPolicy(t, e, "backup", "2.0", true)
		mails := changeMails(t, e, dana)
		if len(mails) != 1 {
			t.Fatalf("%d change notices to the holder, want 1", len(mails))
		}
		if n := len(changeMails(t, e, eve)) + len(changeMails(t, e, fay)); n != 0 {
			t.Fatalf("%d change notices to a revoked packet or one with notices off", n)
		}
		body := mails[0].Body
		if !strings.Contains(body, "Backup Policy: version 2.0") || !strings.Contains(body, danaPacket) ||
			!strings.Contains(body, "http://charter.test/trust/request?company=") || !strings.Contains(body, "policies=backup") {
			t.Fatalf("change notice:\n%s", body)
		}
		if ev := e.lastEvent(); ev.Action != "policy.version.published" {
			t.Fatalf("last event %s", ev.Action)
		}
		var told int64
		st.DB.Table("audit_events").Where("action = ? AND object_id = ?", "packet.holder_notified", danaPacket).Count(&told)
		if told != 1 {
			t.Fatalf("%d audit events of the notice, want 1", told)
		}
		// The form the link opens is filled in.
		link := strings.TrimPrefix(strings.Fields(body[strings.Index(body, "http://charter.test/trust/request?"):])[0], "http://charter.test")
		if r := e.browser().get(link); r.status != http.StatusOK || !strings.Contains(r.body, `value="`+dana+`"`) || !strings.Contains(r.body, `value="backup" checked`) {
			t.Fatalf("request link %s: %d", link, r.status)
		}

		// The same versions seen again tell nobody twice; several
		// policies changing at once make one email naming each.
		var backup2, encryption2 policy.Version
		ctx := context.Background()
		err := st.DB.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
			if err := tx.Joins("JOIN policies ON policies.id = policy_versions.policy_id").Where("policies.slug = ? AND major = 2", "backup").Take(&backup2).Error; err != nil {
				return err
			}
			return e.packets.PoliciesChanged(tx, []policy.Version{backup2})
		})
		if err != nil || len(changeMails(t, e, dana)) != 1 {
			t.Fatalf("the same version told again: %v, %d emails", err, len(changeMails(t, e, dana)))
		}
		publishPolicy(t, e, "encryption", "2.0", true)
		if n := len(changeMails(t, e, dana)); n != 2 {
			t.Fatalf("%d change notices after encryption 2.0, want 2", n)
		}
		err = st.DB.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
			if err := tx.Joins("JOIN policies ON policies.id = policy_versions.policy_id").Where("policies.slug = ? AND major = 2", "encryption").Take(&encryption2).Error; err != nil {
				return err
			}
			return e.packets.PoliciesChanged(tx, []policy.Version{backup2, encryption2})
		})
		if err != nil || len(changeMails(t, e, dana)) != 2 {
			t.Fatalf("versions told of once before told again: %v", err)
		}
		// Fay's notices were off while both changed: turned on, the two
		// changes seen at once make one email naming both.
		if code, body := e.api("editor", http.MethodPut, "/api/v1/packets/"+fayPacket+"/change-notices", map[string]any{"notify_on_change": true}); code != http.StatusOK || body["notify_on_change"] != true {
			t.Fatalf("switch on: %d %v", code, body)
		}
		err = st.DB.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
			return e.packets.PoliciesChanged(tx, []policy.Version{backup2, encryption2})
		})
		if mails := changeMails(t, e, fay); err != nil || len(mails) != 1 || !strings.Contains(mails[0].Body, "Backup Policy: version 2.0") || !strings.Contains(mails[0].Body, "Encryption Policy: version 2.0") {
			t.Fatalf("two changes at once: %v %v", err, mails)
		}

		// A trust document in the packet gets a new version.
		if status, body := e.apiUpload("editor", "/api/v1/documents/"+report+"/versions", map[string]string{"version": "2027", "issued_on": "2026-06-01"}, "r.pdf", documenttest.PDF(t, "SOC 2 report 2027", 2)); status != http.StatusCreated {
			t.Fatalf("new document version: %d %v", status, body)
		}
		mails = changeMails(t, e, dana)
		if len(mails) != 3 || !strings.Contains(mails[2].Body, "SOC 2 Type II report (document): version 2027") || !strings.Contains(mails[2].Body, "document="+report) {
			t.Fatalf("document change: %d emails", len(mails))
		}

		// The packet page shows the switch and what was told.
		ed := e.browser().login("editor")
		if r := ed.get("/app/packets/" + danaPacket); r.status != http.StatusOK || !strings.Contains(r.body, "Told so far: 3 new versions") || !strings.Contains(r.body, "Stop change notices") {
			t.Fatalf("packet page: %d", r.status)
		}
		if r := ed.post("/app/packets/"+danaPacket+"/change-notices", url.Values{"notify_on_change": {"false"}}); r.status != http.StatusSeeOther {
			t.Fatalf("switch off from the page: %d", r.status)
		}
		if code, body := e.api("viewer", http.MethodGet, "/api/v1/packets/"+danaPacket+"/change-notices", nil); code != http.StatusOK || body["notify_on_change"] != false || len(body["notices"].([]any)) != 3 {
			t.Fatalf("change notices: %d %v", code, body)
		}
		publishPolicy(t, e, "backup", "3.0", true)
		if n := len(changeMails(t, e, dana)); n != 3 {
			t.Fatalf("%d change notices with notices off, want 3", n)
		}
	})
}
