package webhook

import (
	"net/netip"
	"net/url"
	"strings"
	"testing"
)

// FuzzURLProblem: whatever an admin types as an endpoint's address, the
// check answers without panicking, and an address it accepts is https
// (or http to loopback, when allowed) with a host that is no private or
// reserved IP literal.
func FuzzURLProblem(f *testing.F) {
	for _, s := range []string{"https://hooks.example.com/x", "http://127.0.0.1:8080/h", "https://[::ffff:10.0.0.1]/", "https://169.254.169.254",
		"https://user@host.example", "https://xn--e1afmkfd.example/", "https://0x7f.1/", "https://2130706433/", "https://[fe80::1%25en0]/", "\x00"} {
		f.Add(s, false)
		f.Add(s, true)
	}
	f.Fuzz(func(t *testing.T, raw string, loopback bool) {
		if urlProblem(raw, loopback) != "" {
			return
		}
		u, err := url.Parse(strings.TrimSpace(raw))
		if err != nil || u.Host == "" || u.User != nil {
			t.Fatalf("accepted %q: %v", raw, err)
		}
		host := strings.TrimSuffix(u.Hostname(), ".")
		ip, literal := netip.ParseAddr(host)
		switch {
		case u.Scheme == "https":
		case u.Scheme == "http" && loopback:
			if literal == nil && !ip.Unmap().IsLoopback() {
				t.Fatalf("accepted plain http to %q", raw)
			}
		default:
			t.Fatalf("accepted the scheme of %q", raw)
		}
		if literal == nil && !allowedIP(ip, loopback) {
			t.Fatalf("accepted the address %q", raw)
		}
	})
}
