package notify_test

import (
	"testing"

	"github.com/charter-registry/charter/internal/notify"
)

func TestValidAddress(t *testing.T) {
	tests := []struct {
		address string
		want    bool
	}{
		{"ana@example.com", true},
		{"legal@acme.co.uk", true},
		{"first.last+tag@mail.example.org", true},
		{"ana@xn--bcher-kva.example", true},
		{"ana@bücher.example", true},
		{"ops@my-company.io", true},
		{"legal@acme", false},            // no dot: not a domain anyone can reach
		{"ana@localhost", false},         // nor a local host name
		{"ana@example.", false},          // empty last label
		{"ana@.example.com", false},      // empty first label
		{"ana@example..com", false},      // empty inner label
		{"ana@-example.com", false},      // hyphen at a label's start
		{"ana@example-.com", false},      // or end
		{"ana@[192.0.2.1]", false},       // address literal
		{"ana@192.0.2.1", false},         // numeric last label
		{"ana@exa_mple.com", false},      // underscore
		{"ana", false},                   // no @
		{"ana@", false},                  // no domain
		{"@example.com", false},          // no local part
		{"Ana <ana@example.com>", false}, // display name
		{"ana@example.com ", false},      // trailing space
		{"", false},
	}
	for _, tt := range tests {
		t.Run(tt.address, func(t *testing.T) {
			if got := notify.ValidAddress(tt.address); got != tt.want {
				t.Errorf("ValidAddress(%q) = %v, want %v", tt.address, got, tt.want)
			}
		})
	}
}
