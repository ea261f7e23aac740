package publicform_test

import (
	"testing"

	"github.com/charter-registry/charter/internal/publicform"
)

func TestWorkEmail(t *testing.T) {
	builtin := publicform.NewWorkEmail(nil)
	custom := publicform.NewWorkEmail([]string{"Example.org"})
	cases := []struct {
		check *publicform.WorkEmail
		email string
		ok    bool
	}{
		{builtin, "ana@acme.example", true},
		{builtin, "ana@gmail.com", false},
		{builtin, "Ana@GMAIL.com", false},
		{builtin, "ana@mail.yahoo.com", false}, // subdomain of a free-mail domain
		{builtin, "ana@notgmail.com", true},
		{builtin, "no-at-sign", false},
		{custom, "ana@gmail.com", true},
		{custom, "ana@example.org", false},
	}
	for _, c := range cases {
		err := c.check.Check("email", c.email)
		if (err == nil) != c.ok {
			t.Errorf("%s: %v", c.email, err)
		}
	}
}
