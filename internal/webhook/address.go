package webhook

import (
	"context"
	"fmt"
	"net"
	"net/netip"
	"net/url"
	"strings"
	"syscall"
)

// Requests to endpoints must not reach Charter's own network (SSRF): an
// endpoint's address is checked when it is registered, and again at
// every connection, on the address the name resolved to, so that a name
// that later resolves inward is refused too.

// reserved are ranges that are neither private nor loopback by net/netip's
// tests but still not the public internet.
func reserved() []netip.Prefix {
	return []netip.Prefix{
		netip.MustParsePrefix("0.0.0.0/8"),      // "this network"
		netip.MustParsePrefix("100.64.0.0/10"),  // carrier-grade NAT
		netip.MustParsePrefix("192.0.0.0/24"),   // IETF protocol assignments
		netip.MustParsePrefix("198.18.0.0/15"),  // benchmarking
		netip.MustParsePrefix("240.0.0.0/4"),    // reserved
		netip.MustParsePrefix("64:ff9b::/96"),   // NAT64: reaches IPv4 inside
		netip.MustParsePrefix("64:ff9b:1::/48"), // local-use NAT64
		netip.MustParsePrefix("2002::/16"),      // 6to4: embeds any IPv4
		netip.MustParsePrefix("2001::/32"),      // Teredo: embeds any IPv4
		netip.MustParsePrefix("fec0::/10"),      // deprecated site-local
		netip.MustParsePrefix("100::/64"),       // discard-only
		netip.MustParsePrefix("2001:db8::/32"),  // documentation
		netip.MustParsePrefix("169.254.0.0/16"), // link-local, cloud metadata
		netip.MustParsePrefix("fe80::/10"),      // link-local
		netip.MustParsePrefix("255.255.255.255/32"),
	}
}

// allowedIP reports whether a webhook may connect to ip: a public unicast
// address, or a loopback one when loopback is allowed (tests, and a
// receiver on the same host when the operator says so).
func allowedIP(ip netip.Addr, loopback bool) bool {
	ip = ip.WithZone("").Unmap()
	if ip.IsLoopback() {
		return loopback
	}
	if !ip.IsGlobalUnicast() || ip.IsPrivate() {
		return false
	}
	for _, p := range reserved() {
		if p.Contains(ip) {
			return false
		}
	}
	return true
}

// urlProblem says what is wrong with an endpoint's address, or "".
func urlProblem(raw string, loopback bool) string {
	u, err := url.Parse(strings.TrimSpace(raw))
	if err != nil || u.Host == "" || u.Opaque != "" {
		return "must be an address such as https://hooks.example.com/charter"
	}
	if u.User != nil {
		return "must not carry a user name or password"
	}
	host := strings.ToLower(strings.TrimSuffix(u.Hostname(), "."))
	isLoopback := host == "localhost" || strings.HasSuffix(host, ".localhost")
	ip, literal := netip.ParseAddr(host)
	if literal == nil {
		isLoopback = ip.Unmap().IsLoopback()
	}
	switch {
	case u.Scheme == "https":
	case u.Scheme == "http" && loopback && isLoopback:
	default:
		return "must start with https://"
	}
	if isLoopback {
		if !loopback {
			return "must be a public address, not this machine"
		}
		return ""
	}
	if literal == nil {
		if !allowedIP(ip, loopback) {
			return "must be a public address, not a private or reserved one"
		}
		return ""
	}
	if !strings.Contains(host, ".") {
		return "must name a public host, such as hooks.example.com"
	}
	// Names that never resolve on the public internet.
	for _, s := range []string{".local", ".internal", ".intranet", ".lan", ".home.arpa", ".corp"} {
		if strings.HasSuffix(host, s) {
			return "must name a public host, not an internal one"
		}
	}
	return ""
}

// guardedDialer connects only to addresses allowedIP accepts, checked on
// the resolved address of each connection.
func guardedDialer(loopback bool) *net.Dialer {
	return &net.Dialer{Control: func(_, address string, _ syscall.RawConn) error {
		ap, err := netip.ParseAddrPort(address)
		if err != nil {
			return fmt.Errorf("webhook address %s: %w", address, err)
		}
		if !allowedIP(ap.Addr(), loopback) {
			return fmt.Errorf("refused to connect to %s: not a public address", ap.Addr())
		}
		return nil
	}}
}

// dialContext is the dialer's DialContext, for an http.Transport.
func dialContext(loopback bool) func(ctx context.Context, network, addr string) (net.Conn, error) {
	return guardedDialer(loopback).DialContext
}
