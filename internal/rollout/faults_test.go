package rollout

import (
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/illico-dev/illico/internal/fleet"
	"github.com/illico-dev/illico/internal/lab"
	"github.com/illico-dev/illico/internal/lab/labtest"
	"github.com/illico-dev/illico/internal/store"
)

// quickPlan is the lab's patch with short timeouts, so that faults turn
// into failures within seconds.
const quickPlan = `name: Patch under faults
steps:
  - drain:
    timeout: 5s
  - run: labpkg install openssl=3.0.13
    timeout: 10s
  - reboot: if_required
    timeout: 8s
  - wait_healthy:
    min_healthy: 1s
    timeout: 10s
  - undrain:
    timeout: 10s
rollback:
  - drain:
    timeout: 5s
  - run: labpkg install openssl=3.0.11
    timeout: 10s
  - reboot: if_required
    timeout: 8s
  - wait_healthy:
    min_healthy: 1s
    timeout: 10s
  - undrain:
    timeout: 10s
strategy:
  canary: 1
  max_parallel: %s
  max_failures: %s
  blocked_timeout: 10s
`

func writePlan(t *testing.T, maxParallel, maxFailures string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "plan.yaml")
	text := strings.Replace(strings.Replace(quickPlan, "%s", maxParallel, 1), "%s", maxFailures, 1)
	if err := os.WriteFile(path, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// events collects a rollout's events as they happen.
type events struct {
	mu   sync.Mutex
	list []Event
	at   []time.Time
}

func (ev *events) add(e Event) {
	ev.mu.Lock()
	defer ev.mu.Unlock()
	ev.list = append(ev.list, e)
	ev.at = append(ev.at, time.Now())
}

func (ev *events) find(f func(Event) bool) []Event {
	ev.mu.Lock()
	defer ev.mu.Unlock()
	var out []Event
	for _, e := range ev.list {
		if f(e) {
			out = append(out, e)
		}
	}
	return out
}

// waitFor polls cond until it holds, or fails the test after within.
func waitFor(t *testing.T, within time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(within)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("waited %s for %s", within, what)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func hostRun(t *testing.T, db *store.Store, id, host string) fleet.HostRun {
	t.Helper()
	ro, err := db.Rollout(t.Context(), id)
	if err != nil {
		t.Fatal(err)
	}
	for _, h := range ro.Hosts {
		if h.Host == host {
			return h
		}
	}
	t.Fatalf("no host %s in rollout %s", host, id)
	return fleet.HostRun{}
}

func startPlan(t *testing.T, r *rig, path string) string {
	t.Helper()
	ro := startRollout(t, r, path)
	return ro.ID
}

// A host that never comes back from its reboot fails; its partner must then
// wait, never drained, and the rollout says why.
func TestRolloutHostThatNeverReturns(t *testing.T) {
	l := labtest.Start(t, lab.Options{Hosts: 6, RebootMin: time.Second, RebootMax: time.Second})
	r := startEngine(t, l, openStore(t))
	// Spread order: web-gra-01 (canary), web-sbg-01, web-gra-02, web-sbg-02...
	if _, err := l.Fault("web-gra-02", lab.FaultNoReturn); err != nil {
		t.Fatal(err)
	}
	id := startPlan(t, r, writePlan(t, "1", "1"))
	waitFor(t, 2*time.Minute, "web-sbg-02 to wait on its partner", func() bool {
		return len(r.events.find(func(e Event) bool {
			return e.Host == "web-sbg-02" && e.Kind == KindHostWaiting && strings.Contains(e.Message, "partner web-gra-02 is")
		})) > 0 && hostRun(t, r.store, id, "web-gra-02").State == fleet.HostStuck
	})
	if h := hostRun(t, r.store, id, "web-sbg-02"); h.State != fleet.HostPending {
		t.Fatalf("web-sbg-02 started while its partner was down: %+v", h)
	}
	for _, s := range l.Status(t.Context()) {
		if s.Name == "web-sbg-02" && s.Balancer != "UP" {
			t.Fatalf("web-sbg-02 was taken out of rotation: %+v", s)
		}
	}
	stuck := r.events.find(func(e Event) bool { return e.Kind == KindHostStuck && e.Host == "web-gra-02" })
	if len(stuck) == 0 {
		t.Fatal("no event says web-gra-02 needs a human")
	}
	// The others go on; then the rollout stands blocked on web-sbg-02 and
	// halts, saying why.
	ro := waitEnded(t, r.store, id, 2*time.Minute)
	if ro.State != fleet.RolloutHalted || !strings.Contains(ro.Reason, "web-sbg-02 waits: partner web-gra-02 is stuck") {
		t.Fatalf("ended %s: %s", ro.State, ro.Reason)
	}
	for _, h := range ro.Hosts {
		if h.Host != "web-gra-02" && h.Host != "web-sbg-02" && h.State != fleet.HostDone {
			t.Errorf("%s is %s: the others must go on", h.Host, h.State)
		}
	}
	if h := hostRun(t, r.store, id, "web-sbg-02"); h.State != fleet.HostPending {
		t.Fatalf("web-sbg-02 was touched: %+v", h)
	}
}

// A datacenter frozen in the middle of a rollout: the hosts in maintenance
// there fail, the rollout halts, and no host of the other datacenter is
// taken down while its partner is unreachable.
func TestRolloutDatacenterFrozen(t *testing.T) {
	l := labtest.Start(t, lab.Options{Hosts: 8, RebootMin: time.Second, RebootMax: 2 * time.Second})
	r := startEngine(t, l, openStore(t))
	id := startPlan(t, r, writePlan(t, "2", "2"))
	waitFor(t, time.Minute, "the canary to be done", func() bool {
		return hostRun(t, r.store, id, "web-gra-01").State == fleet.HostDone
	})
	if _, err := l.Fault("datacenter=gra", lab.FaultFreeze); err != nil {
		t.Fatal(err)
	}
	frozenAt := time.Now()
	ro := waitEnded(t, r.store, id, 3*time.Minute)
	if ro.State != fleet.RolloutHalted {
		t.Fatalf("ended %s: %s", ro.State, ro.Reason)
	}
	r.events.mu.Lock()
	defer r.events.mu.Unlock()
	// A host started on a look at the hosts taken before the freeze is the
	// freeze's luck; one started after a look that began after it is the
	// engine's fault.
	for i, e := range r.events.list {
		if e.Kind == KindHostStarted && strings.HasPrefix(e.Host, "web-sbg-") && r.looks.sawAfter(frozenAt, r.events.at[i]) {
			t.Errorf("%s started while its partner in gra was frozen, after a look at the hosts that began after the freeze: %s", e.Host, e.Message)
		}
	}
	waits := 0
	for _, e := range r.events.list {
		if e.Kind == KindHostWaiting && strings.Contains(e.Message, "partner web-gra-") {
			waits++
		}
	}
	if waits == 0 {
		t.Error("no event says a host waits on its frozen partner")
	}
	t.Logf("halted: %s", ro.Reason)
}
