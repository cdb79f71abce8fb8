package rollout

import (
	"strings"
	"testing"
	"time"

	"github.com/illico-dev/illico/internal/fleet"
)

func TestPaceGrowsWhileCleanAndHalvesOnTrouble(t *testing.T) {
	t0 := time.Date(2026, 12, 4, 10, 0, 0, 0, time.UTC)
	p := newPace(150, 10*time.Second)
	if p.width != 10 {
		t.Fatalf("starts at %d, want 10", p.width)
	}
	for i := range 139 {
		if p.grow(t0) {
			t.Fatalf("full after %d hosts, at %d", i+1, p.width)
		}
	}
	if !p.grow(t0) || p.width != 150 || p.grow(t0) || p.width != 150 {
		t.Fatalf("width %d after 141 clean hosts, want 150 and no more", p.width)
	}
	if !p.trouble(t0, "x") || p.width != 75 {
		t.Fatalf("width %d after trouble, want 75", p.width)
	}
	// One burst of trouble halves once a window, and nothing grows meanwhile.
	if p.trouble(t0.Add(5*time.Second), "y") || p.grow(t0.Add(9*time.Second)) || p.width != 75 {
		t.Fatalf("width %d within the window, want 75", p.width)
	}
	if !p.trouble(t0.Add(11*time.Second), "z") || p.width != 37 || !strings.Contains(p.why, "halved as z") {
		t.Fatalf("width %d (%s) a window later, want 37, halved as z", p.width, p.why)
	}
	if small := newPace(20, 10*time.Second); small.width != 10 {
		t.Fatalf("max_parallel 20 starts at %d, want 10", small.width)
	}
	two := newPace(2, 10*time.Second)
	if two.width != 2 || !two.trouble(t0, "x") || two.width != 1 || two.trouble(t0.Add(time.Minute), "x") || two.width != 1 {
		t.Fatalf("max_parallel 2: width %d, want 2, then 1 and never 0", two.width)
	}
}

// feed gives c one reading a second of a backend that takes 100 requests a
// second, of which errs(i) fail, and returns the verdicts.
func feed(c *customers, from time.Time, seconds int, total *fleet.Traffic, errs func(i int) int64) []verdict {
	var out []verdict
	for i := range seconds {
		total.Requests += 100
		total.ServerErrors += errs(i)
		out = append(out, c.observe(from.Add(time.Duration(i)*time.Second), []fleet.Traffic{*total}))
	}
	return out
}

func TestCustomersHoldClearAndHalt(t *testing.T) {
	t0 := time.Date(2026, 12, 4, 10, 0, 0, 0, time.UTC)
	cfg := fleet.CustomerErrors{PauseAbove: 0.001, HaltAbove: 0.05, Window: 10 * time.Second, ClearFor: 30 * time.Second, HaltAfter: 10 * time.Minute}
	c := newCustomers(cfg)
	tr := fleet.Traffic{LoadBalancer: "lab", Backend: "web-041"}
	for _, v := range feed(c, t0, 20, &tr, func(int) int64 { return 0 }) {
		if v != (verdict{}) {
			t.Fatalf("clean traffic says %+v", v)
		}
	}
	// Two errors in a second: 2 % of the last ten seconds' requests.
	vs := feed(c, t0.Add(20*time.Second), 1, &tr, func(int) int64 { return 2 })
	if v := vs[0]; v.Hold != "backend web-041 on lab answers 5xx to its customers" || v.Halt != "" ||
		!strings.Contains(v.Trouble, "backend web-041 on lab answered 5xx to 0.2 % of 1000 requests in the last 10s") {
		t.Fatalf("first errors say %+v", v)
	}
	// The hold stays while errors are in the window, then for clear_for.
	vs = feed(c, t0.Add(21*time.Second), 45, &tr, func(int) int64 { return 0 })
	cleared := -1
	for i, v := range vs {
		if v.Trouble != "" || v.Halt != "" {
			t.Fatalf("second %d: %+v", 21+i, v)
		}
		if v.Cleared {
			cleared = 21 + i
			break
		}
		if v.Hold == "" {
			t.Fatalf("second %d: the hold ended without clearing", 21+i)
		}
	}
	// The errors leave the window at 30 s; the share has been clean since.
	if cleared != 60 {
		t.Fatalf("cleared at second %d, want 60", cleared)
	}
	// A flood halts at once.
	vs = feed(c, t0.Add(90*time.Second), 1, &tr, func(int) int64 { return 60 })
	if v := vs[0]; v.Halt == "" || !strings.Contains(v.Halt, "more than the 5 % the plan allows") {
		t.Fatalf("a flood says %+v", v)
	}
	// A hold that lasts halts at halt_after.
	c = newCustomers(cfg)
	tr = fleet.Traffic{LoadBalancer: "lab", Backend: "web-041"}
	vs = feed(c, t0, 700, &tr, func(int) int64 { return 1 })
	if vs[598].Halt != "" || vs[599].Hold == "" || !strings.Contains(vs[610].Halt, "held the rollout for 10m") {
		t.Fatalf("a lasting hold: %+v, then %+v", vs[598], vs[610])
	}
	// A restarted load balancer's counters begin again: no share from them.
	c = newCustomers(cfg)
	c.observe(t0, []fleet.Traffic{{LoadBalancer: "lab", Backend: "b", Requests: 10000, ServerErrors: 500}})
	if v := c.observe(t0.Add(time.Second), []fleet.Traffic{{LoadBalancer: "lab", Backend: "b", Requests: 100}}); v != (verdict{}) {
		t.Fatalf("counters that began again say %+v", v)
	}
}
