// Package clientip says who sent an HTTP request when the daemon's
// listeners sit behind reverse proxies. The limits per client (the status
// page's subscriptions, the dashboard's logins) and the request log key on
// it: behind a proxy, the TCP peer is the proxy, the same for every
// customer.
//
// Only X-Forwarded-For is read, and only from the proxies the operator
// trusts, because a header a client may write itself is a client choosing
// its own key. RFC 7239's Forwarded is not read: a proxy that appends to
// one of the two headers passes the other through from the client
// untouched, so believing both would believe the client.
package clientip

import (
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"strings"
)

// Network is a trusted proxy's address or network, written as an IP
// (192.0.2.7, 2001:db8::7) or in CIDR notation (10.0.0.0/8, fd00::/8).
type Network struct{ prefix netip.Prefix }

// ParseNetwork reads a Network. A CIDR with bits set past its length
// (10.1.2.3/8) is refused rather than guessed at, and so is one that holds
// every address: trusting every peer lets every client pick its own key.
func ParseNetwork(s string) (Network, error) {
	if !strings.Contains(s, "/") {
		a, err := netip.ParseAddr(s)
		if err != nil || a.Zone() != "" {
			return Network{}, fmt.Errorf("trusted proxy %q: expected an IP address or a CIDR, like 10.0.0.0/8 or 2001:db8::/32", s)
		}
		a = a.Unmap()
		return Network{netip.PrefixFrom(a, a.BitLen())}, nil
	}
	p, err := netip.ParsePrefix(s)
	if err != nil {
		return Network{}, fmt.Errorf("trusted proxy %q: expected an IP address or a CIDR, like 10.0.0.0/8 or 2001:db8::/32", s)
	}
	if p.Addr().Is4In6() && p.Bits() >= 96 {
		p = netip.PrefixFrom(p.Addr().Unmap(), p.Bits()-96)
	}
	if p.Masked() != p {
		return Network{}, fmt.Errorf("trusted proxy %q: bits are set past the prefix length; did you mean %s?", s, p.Masked())
	}
	if p.Bits() == 0 {
		return Network{}, fmt.Errorf("trusted proxy %q: that is every address, and any client could then choose the address it is counted under", s)
	}
	return Network{p}, nil
}

// UnmarshalText reads a Network from a config file.
func (n *Network) UnmarshalText(b []byte) error {
	p, err := ParseNetwork(string(b))
	if err != nil {
		return err
	}
	*n = p
	return nil
}

func (n Network) String() string { return n.prefix.String() }

// Trusted is the proxies whose X-Forwarded-For is believed. The zero value
// trusts none: the client is the TCP peer.
type Trusted []Network

// maxHops bounds how far down X-Forwarded-For a request leads the walk:
// more trusted proxies than this in a row is no real chain.
const maxHops = 32

// Client is the address r came from, without a port. When its TCP peer is
// a trusted proxy, that is the right-most address of X-Forwarded-For that
// is not itself a trusted proxy: whatever a client writes there itself
// stands to the left of what the proxies append, and is never reached. A
// chain of trusted proxies only is answered with its left-most, and a
// malformed header with the peer.
func (t Trusted) Client(r *http.Request) string {
	peer, err := netip.ParseAddrPort(r.RemoteAddr)
	if err != nil {
		// Not a TCP peer (a test's request, a listener of another kind):
		// what net/http gave, as the callers took it before.
		if host, _, err := net.SplitHostPort(r.RemoteAddr); err == nil {
			return host
		}
		return r.RemoteAddr
	}
	client := normal(peer.Addr())
	if !t.trusts(client) {
		return client.String()
	}
	values := r.Header.Values("X-Forwarded-For")
	hops := 0
	for i := len(values) - 1; i >= 0; i-- {
		rest := values[i]
		for rest != "" {
			var entry string
			if j := strings.LastIndexByte(rest, ','); j >= 0 {
				rest, entry = rest[:j], rest[j+1:]
			} else {
				rest, entry = "", rest
			}
			hops++
			a, ok := parseEntry(entry)
			if !ok || hops > maxHops {
				return normal(peer.Addr()).String()
			}
			client = a
			if !t.trusts(a) {
				return a.String()
			}
		}
	}
	return client.String()
}

func (t Trusted) trusts(a netip.Addr) bool {
	for _, n := range t {
		if n.prefix.Contains(a) {
			return true
		}
	}
	return false
}

// parseEntry reads one address of X-Forwarded-For. Proxies write it bare
// (192.0.2.1, 2001:db8::1), and some with a port (192.0.2.1:4711,
// [2001:db8::1]:4711) or brackets ([2001:db8::1]).
func parseEntry(s string) (netip.Addr, bool) {
	s = strings.TrimSpace(s)
	if a, err := netip.ParseAddr(s); err == nil {
		return normal(a), true
	}
	if ap, err := netip.ParseAddrPort(s); err == nil {
		return normal(ap.Addr()), true
	}
	if inner, ok := strings.CutPrefix(s, "["); ok {
		if inner, ok := strings.CutSuffix(inner, "]"); ok {
			if a, err := netip.ParseAddr(inner); err == nil && a.Is6() {
				return normal(a), true
			}
		}
	}
	return netip.Addr{}, false
}

// normal is a as the limits key on it: an IPv4 client of a dual-stack
// listener is the same client as over IPv4, and a zone names the
// receiver's interface, not the client.
func normal(a netip.Addr) netip.Addr { return a.Unmap().WithZone("") }

// LimitKey is what limits per client count a client as: its IPv4 address,
// or the /64 network of its IPv6 address, since one customer's line gets a
// whole /64 and could otherwise rotate through it past every limit. A
// client that is not an address is its own key.
func LimitKey(client string) string {
	a, err := netip.ParseAddr(client)
	if err != nil || !a.Is6() || a.Is4In6() {
		return client
	}
	return netip.PrefixFrom(a.WithZone(""), 64).Masked().String()
}
