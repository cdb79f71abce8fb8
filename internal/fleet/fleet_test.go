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
