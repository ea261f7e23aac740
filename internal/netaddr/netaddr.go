// Package netaddr maps a client address to the network that limits count
// against: one IPv4 address, or one IPv6 /64. An IPv6 client usually holds
// a whole /64 and can rotate its address inside it at will, so counting
// per full IPv6 address would give it billions of fresh budgets.
package netaddr

import (
	"net/netip"
	"strings"
)

// IPv6PrefixBits is the size of the IPv6 network one client is assumed to
// control (RFC 6177 assigns end sites a /48 to /64; /64 is the smallest
// a host can pick addresses inside with SLAAC).
const IPv6PrefixBits = 64

// Network returns the key of ip's network: the address itself for IPv4
// (including IPv4-mapped IPv6 such as ::ffff:192.0.2.1), the /64 in CIDR
// form for IPv6 (2001:db8:1:2::/64), without any zone. Input that is not
// an IP address is returned trimmed, so that it is still counted as a
// network of its own rather than dropped.
func Network(ip string) string {
	ip = strings.TrimSpace(ip)
	addr, err := netip.ParseAddr(ip)
	if err != nil {
		return ip
	}
	addr = addr.WithZone("").Unmap()
	if addr.Is4() {
		return addr.String()
	}
	return netip.PrefixFrom(addr, IPv6PrefixBits).Masked().String()
}
