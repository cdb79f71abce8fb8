package fleet

import (
	"errors"
	"fmt"
	"strings"
	"testing"
)

func TestQuantityAndBudget(t *testing.T) {
	tests := []struct {
		in      string
		size    int
		max     bool // the quantity is a max_unavailable, else a min_available
		allowed int
		err     bool
	}{
		{"1", 2, true, 1, false},
		{"50%", 3, true, 1, false}, // rounds down: never more than it says
		{"100%", 4, true, 4, false},
		{"0", 4, true, 0, false},
		{"50%", 3, false, 1, false}, // keeps 2 of 3 up: rounds up what must stay
		{"3", 2, false, 0, false},
		{"101%", 1, true, 0, true},
		{"-1", 1, true, 0, true},
		{"two", 1, true, 0, true},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprintf("%s of %d", tt.in, tt.size), func(t *testing.T) {
			var q Quantity
			err := q.UnmarshalText([]byte(tt.in))
			if (err != nil) != tt.err {
				t.Fatalf("error %v, want error %v", err, tt.err)
			}
			if err != nil {
				return
			}
			b := Budget{MinAvailable: &q}
			if tt.max {
				b = Budget{MaxUnavailable: &q}
			}
			if got := b.Allowed(tt.size); got != tt.allowed {
				t.Errorf("%s allows %d of %d down, want %d", b, got, tt.size, tt.allowed)
			}
		})
	}
}

func TestSecretNeverPrints(t *testing.T) {
	s := Secret("hunter2")
	for _, out := range []string{fmt.Sprint(s), fmt.Sprintf("%v %+v %#v %s", s, s, s, s)} {
		if out == "" || strings.Contains(out, "hunter2") {
			t.Fatalf("secret printed: %q", out)
		}
	}
	if s.Reveal() != "hunter2" {
		t.Fatal("Reveal")
	}
}

func TestKindOf(t *testing.T) {
	err := fmt.Errorf("load: %w", Errorf(KindNotFound, "no host %s", "x"))
	if KindOf(err) != KindNotFound || err.Error() != "load: no host x" {
		t.Fatalf("%v %v", KindOf(err), err)
	}
	if KindOf(errors.New("plain")) != KindInternal {
		t.Fatal("a plain error is internal")
	}
	wrapped := &Error{Kind: KindUnavailable, Msg: "dial", Err: errors.New("refused")}
	if wrapped.Error() != "dial: refused" || !errors.Is(wrapped, wrapped.Err) {
		t.Fatal(wrapped)
	}
}

func TestHostExpand(t *testing.T) {
	hosts := map[string]*Host{
		"name": {Name: "web-01", Address: "web-01.example.net", SSH: SSH{Port: 22}},
		"ipv4": {Name: "web-02", Address: "192.0.2.10", SSH: SSH{Port: 2222}},
		"ipv6": {Name: "web-03", Address: "2001:db8::10", SSH: SSH{Port: 2222}},
	}
	tests := []struct {
		target string
		want   map[string]string
	}{
		{"http://${address}:8080/healthz", map[string]string{
			"name": "http://web-01.example.net:8080/healthz",
			"ipv4": "http://192.0.2.10:8080/healthz",
			"ipv6": "http://[2001:db8::10]:8080/healthz",
		}},
		{"${address}:5432", map[string]string{
			"name": "web-01.example.net:5432", "ipv4": "192.0.2.10:5432", "ipv6": "[2001:db8::10]:5432",
		}},
		{"https://[${address}]/", map[string]string{
			"name": "https://web-01.example.net/", "ipv4": "https://192.0.2.10/", "ipv6": "https://[2001:db8::10]/",
		}},
		{"ping -c1 ${address_bare} && curl -s http://${address}/${name}", map[string]string{
			"name": "ping -c1 web-01.example.net && curl -s http://web-01.example.net/web-01",
			"ipv4": "ping -c1 192.0.2.10 && curl -s http://192.0.2.10/web-02",
			"ipv6": "ping -c1 2001:db8::10 && curl -s http://[2001:db8::10]/web-03",
		}},
		{"[${address_bare}]:1 [${address}", map[string]string{
			"name": "[web-01.example.net]:1 [web-01.example.net", "ipv4": "[192.0.2.10]:1 [192.0.2.10",
			"ipv6": "[2001:db8::10]:1 [[2001:db8::10]",
		}},
		{"${unknown} ${name", map[string]string{"name": "${unknown} ${name", "ipv4": "${unknown} ${name", "ipv6": "${unknown} ${name"}},
	}
	for _, tt := range tests {
		for kind, h := range hosts {
			if got := h.Expand(tt.target); got != tt.want[kind] {
				t.Errorf("%s host: Expand(%q) = %q, want %q", kind, tt.target, got, tt.want[kind])
			}
		}
	}
	for kind, want := range map[string]string{"name": "web-01.example.net:22", "ipv4": "192.0.2.10:2222", "ipv6": "[2001:db8::10]:2222"} {
		if got := hosts[kind].SSHAddress(); got != want {
			t.Errorf("%s host: SSHAddress() = %q, want %q", kind, got, want)
		}
	}
}
