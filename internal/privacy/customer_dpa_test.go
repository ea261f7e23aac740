package privacy_test

import (
	"testing"

	"github.com/charter-registry/charter/internal/privacy"
	"github.com/charter-registry/charter/internal/store"
	"github.com/charter-registry/charter/internal/store/storetest"
)

// The approver of a packet request sees the requester's company's DPA:
// found by the address's domain (or a parent domain) or by the company's
// name, the one furthest along when there are several.
func TestCustomerDPA(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		f := setup(t, st)
		for _, in := range []privacy.DPAInput{
			{Direction: "customer", Counterparty: "Acme Corp", ContactEmail: "legal@acme.example", Status: "requested"},
			{Direction: "customer", Counterparty: "Acme Corp", ContactEmail: "dpo@acme.example", Status: "signed", SignedOn: "2026-01-05"},
			{Direction: "customer", Counterparty: "Globex", ContactEmail: "legal@globex.example", Status: "sent"},
			{Direction: "customer", Counterparty: "Initech", ContactEmail: "legal@initech.example", Status: "terminated", SignedOn: "2025-01-01"},
			{Direction: "vendor", Counterparty: "Zendesk", Domain: "zendesk.com", Status: "signed", SignedOn: "2025-01-01"},
		} {
			if _, err := f.svc.CreateDPA(f.ctx, f.by, in); err != nil {
				t.Fatalf("%s: %v", in.Counterparty, err)
			}
		}
		tests := []struct {
			name, email, company string
			want                 string // "counterparty status", "" for none
		}{
			{"signed wins over requested", "dana@acme.example", "", "Acme Corp signed"},
			{"a subdomain's address", "dana@eu.acme.example", "", "Acme Corp signed"},
			{"by company name, case aside", "dana@other.example", "globex", "Globex sent"},
			{"a terminated one is still shown", "dana@initech.example", "Initech", "Initech terminated"},
			{"vendors are not customers", "ops@zendesk.com", "Zendesk", ""},
			{"nobody on record", "dana@newco.example", "NewCo", ""},
			{"no address nor company", "", "", ""},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				d, err := f.svc.CustomerDPA(f.ctx, tt.email, tt.company)
				if err != nil {
					t.Fatal(err)
				}
				got := ""
				if d != nil {
					got = d.Counterparty + " " + d.Status
				}
				if got != tt.want {
					t.Errorf("CustomerDPA(%q, %q) = %q, want %q", tt.email, tt.company, got, tt.want)
				}
			})
		}
	})
}
