package clientip_test

import (
	"net/http"
	"net/netip"
	"strings"
	"testing"

	"github.com/illico-dev/illico/internal/clientip"
)

func trusted(t testing.TB, nets ...string) clientip.Trusted {
	t.Helper()
	var out clientip.Trusted
	for _, s := range nets {
		n, err := clientip.ParseNetwork(s)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, n)
	}
	return out
}

func request(t testing.TB, remote string, xff ...string) *http.Request {
	t.Helper()
	r, err := http.NewRequest(http.MethodGet, "http://status.example.net/", nil)
	if err != nil {
		t.Fatal(err)
	}
	r.RemoteAddr = remote
	for _, v := range xff {
		r.Header.Add("X-Forwarded-For", v)
	}
	return r
}

func TestClient(t *testing.T) {
	proxies := []string{"127.0.0.2", "10.0.0.0/8", "fd00::/8"}
	for _, tc := range []struct {
		name    string
		trusted []string
		remote  string
		xff     []string
		want    string
	}{
		{"no proxy trusted: the peer", nil, "192.0.2.1:4711", []string{"203.0.113.9"}, "192.0.2.1"},
		{"untrusted peer: its header ignored", proxies, "192.0.2.1:4711", []string{"203.0.113.9"}, "192.0.2.1"},
		{"trusted peer without the header", proxies, "127.0.0.2:4711", nil, "127.0.0.2"},
		{"trusted peer", proxies, "127.0.0.2:4711", []string{"203.0.113.9"}, "203.0.113.9"},
		{"spoofed left-most entries ignored", proxies, "127.0.0.2:4711", []string{"1.1.1.1, 8.8.8.8, 203.0.113.9"}, "203.0.113.9"},
		{"chain of trusted proxies", proxies, "127.0.0.2:4711", []string{"1.1.1.1, 203.0.113.9, 10.1.1.1, 10.2.2.2"}, "203.0.113.9"},
		{"chain over several header lines", proxies, "127.0.0.2:4711", []string{"1.1.1.1, 203.0.113.9", "10.1.1.1", "10.2.2.2"}, "203.0.113.9"},
		{"a spoofed line before the proxy's", proxies, "127.0.0.2:4711", []string{"1.1.1.1", "203.0.113.9"}, "203.0.113.9"},
		{"trusted proxies only: the left-most", proxies, "127.0.0.2:4711", []string{"10.3.3.3, 10.1.1.1"}, "10.3.3.3"},
		{"no spaces", proxies, "127.0.0.2:4711", []string{"1.1.1.1,203.0.113.9,10.1.1.1"}, "203.0.113.9"},
		{"IPv6 peer and client", proxies, "[fd00::1]:4711", []string{"2001:db8::1, fd12::7"}, "2001:db8::1"},
		{"IPv6 peer untrusted", proxies, "[2001:db8::2]:4711", []string{"2001:db8::1"}, "2001:db8::2"},
		{"IPv4-mapped peer", proxies, "[::ffff:127.0.0.2]:4711", []string{"203.0.113.9"}, "203.0.113.9"},
		{"IPv4-mapped client", proxies, "127.0.0.2:4711", []string{"::ffff:203.0.113.9"}, "203.0.113.9"},
		{"IPv4 with a port", proxies, "127.0.0.2:4711", []string{"203.0.113.9:51000"}, "203.0.113.9"},
		{"IPv6 with a port", proxies, "127.0.0.2:4711", []string{"[2001:db8::1]:51000"}, "2001:db8::1"},
		{"IPv6 in brackets", proxies, "127.0.0.2:4711", []string{"[2001:db8::1]"}, "2001:db8::1"},
		{"IPv6 with a zone", proxies, "127.0.0.2:4711", []string{"fe80::1%eth0"}, "fe80::1"},
		{"garbage: the peer", proxies, "127.0.0.2:4711", []string{"203.0.113.9, not-an-address"}, "127.0.0.2"},
		{"unknown: the peer", proxies, "127.0.0.2:4711", []string{"unknown"}, "127.0.0.2"},
		{"empty entry: the peer", proxies, "127.0.0.2:4711", []string{"203.0.113.9, "}, "127.0.0.2"},
		{"garbage left of the client: never reached", proxies, "127.0.0.2:4711", []string{"]]]:x, 203.0.113.9"}, "203.0.113.9"},
		{"garbage behind a trusted hop: the peer", proxies, "127.0.0.2:4711", []string{"203.0.113.9, bogus, 10.1.1.1"}, "127.0.0.2"},
		{"IPv4 in brackets: the peer", proxies, "127.0.0.2:4711", []string{"[203.0.113.9]"}, "127.0.0.2"},
		{"an empty header line", proxies, "127.0.0.2:4711", []string{""}, "127.0.0.2"},
		{"too many trusted hops: the peer", proxies, "127.0.0.2:4711", []string{"203.0.113.9, " + strings.Repeat("10.1.1.1, ", 40) + "10.1.1.1"}, "127.0.0.2"},
		{"a peer that is no TCP address", proxies, "pipe", []string{"203.0.113.9"}, "pipe"},
		{"a peer host that is no IP", proxies, "localhost:4711", []string{"203.0.113.9"}, "localhost"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := trusted(t, tc.trusted...).Client(request(t, tc.remote, tc.xff...)); got != tc.want {
				t.Errorf("Client = %q, want %q", got, tc.want)
			}
		})
	}
}

func TestParseNetwork(t *testing.T) {
	for _, tc := range []struct {
		in, want, err string
	}{
		{in: "192.0.2.7", want: "192.0.2.7/32"},
		{in: "10.0.0.0/8", want: "10.0.0.0/8"},
		{in: "2001:db8::7", want: "2001:db8::7/128"},
		{in: "fd00::/8", want: "fd00::/8"},
		{in: "::ffff:10.0.0.1", want: "10.0.0.1/32"},
		{in: "::ffff:10.0.0.0/104", want: "10.0.0.0/8"},
		{in: "10.1.2.3/8", err: "did you mean 10.0.0.0/8?"},
		{in: "0.0.0.0/0", err: "every address"},
		{in: "::/0", err: "every address"},
		{in: "10.0.0.0/33", err: "expected an IP address or a CIDR"},
		{in: "proxy.example.net", err: "expected an IP address or a CIDR"},
		{in: "10.0.0.1:80", err: "expected an IP address or a CIDR"},
		{in: "fe80::1%eth0", err: "expected an IP address or a CIDR"},
		{in: "", err: "expected an IP address or a CIDR"},
	} {
		t.Run(tc.in, func(t *testing.T) {
			n, err := clientip.ParseNetwork(tc.in)
			switch {
			case tc.err != "" && (err == nil || !strings.Contains(err.Error(), tc.err)):
				t.Errorf("ParseNetwork(%q) = %v, %v; want an error saying %q", tc.in, n, err, tc.err)
			case tc.err == "" && (err != nil || n.String() != tc.want):
				t.Errorf("ParseNetwork(%q) = %v, %v; want %s", tc.in, n, err, tc.want)
			}
		})
	}
}

// FuzzClient checks that no header makes Client panic, that an untrusted
// peer's header is never read, and that a trusted peer's yields an address.
func FuzzClient(f *testing.F) {
	for _, s := range []string{"203.0.113.9", "1.1.1.1, 203.0.113.9, 10.1.1.1", "[2001:db8::1]:80", "unknown", ",,,", "fe80::1%eth0"} {
		f.Add("127.0.0.2:4711", s)
	}
	f.Add("[::ffff:127.0.0.2]:1", "::ffff:1.2.3.4")
	f.Add("pipe", "1.2.3.4")
	proxies := trusted(f, "127.0.0.2", "10.0.0.0/8")
	f.Fuzz(func(t *testing.T, remote, xff string) {
		r := request(t, remote, xff)
		got := proxies.Client(r)
		if peer := clientip.Trusted(nil).Client(r); peer != got {
			if _, err := netip.ParseAddr(got); err != nil {
				t.Errorf("Client(%q, %q) = %q: not the peer %q, nor an address", remote, xff, got, peer)
			}
		}
		r.RemoteAddr = "192.0.2.1:4711"
		if got := proxies.Client(r); got != "192.0.2.1" {
			t.Errorf("an untrusted peer with X-Forwarded-For %q: %q", xff, got)
		}
	})
}

func FuzzParseNetwork(f *testing.F) {
	for _, s := range []string{"10.0.0.0/8", "::1", "::ffff:10.0.0.0/104", "10.1.2.3/8", "x"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		n, err := clientip.ParseNetwork(s)
		if err != nil {
			return
		}
		again, err := clientip.ParseNetwork(n.String())
		if err != nil || again != n {
			t.Errorf("ParseNetwork(%q) = %v, which reads back as %v, %v", s, n, again, err)
		}
	})
}

// BenchmarkClient walks a chain of two trusted proxies, as every request
// behind a load balancer and a CDN would.
func BenchmarkClient(b *testing.B) {
	proxies := trusted(b, "127.0.0.2", "10.0.0.0/8", "fd00::/8")
	r := request(b, "127.0.0.2:4711", "198.51.100.1, 203.0.113.9, 10.1.1.1")
	b.ReportAllocs()
	for b.Loop() {
		if proxies.Client(r) != "203.0.113.9" {
			b.Fatal("wrong client")
		}
	}
}

func TestLimitKey(t *testing.T) {
	for _, tt := range []struct{ client, want string }{
		{"192.0.2.7", "192.0.2.7"},
		{"2001:db8:1:2:aaaa::1", "2001:db8:1:2::/64"},
		{"2001:db8:1:2:ffff:ffff:ffff:ffff", "2001:db8:1:2::/64"},
		{"2001:db8:1:3::1", "2001:db8:1:3::/64"},
		{"::ffff:192.0.2.7", "::ffff:192.0.2.7"},
		{"pipe", "pipe"},
	} {
		if got := clientip.LimitKey(tt.client); got != tt.want {
			t.Errorf("LimitKey(%q) = %q, want %q", tt.client, got, tt.want)
		}
	}
}
