package rollout

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/illico-dev/illico/internal/fleet"
	"github.com/illico-dev/illico/internal/lab"
	"github.com/illico-dev/illico/internal/lab/labtest"
)

// TestRolloutHoldsOnCustomersErrors breaks one group's site mid-rollout: a
// host, not yet touched, answers 500 to its customers while its health
// check stays ok, so that HAProxy keeps it in rotation. The rollout stops
// starting hosts within 10 s, names the backend, goes on once the fault
// heals and its customers have seen no error for clear_for, and ends done.
func TestRolloutHoldsOnCustomersErrors(t *testing.T) {
	l := labtest.Start(t, lab.Options{Hosts: 6, RebootMin: time.Second, RebootMax: 2 * time.Second})
	tr := labtest.StartTraffic(l.Info().Frontends)
	defer tr.End()
	r := startEngine(t, l, openStore(t))
	// Half of web-03's requests fail under the fault: halt_above is set
	// past that, so that the rollout holds rather than halts.
	text := strings.Replace(strings.Replace(quickPlan, "%s", "1", 1), "%s", "0", 1) +
		"  customer_errors:\n    halt_above: 90%\n    window: 3s\n    clear_for: 3s\n"
	path := filepath.Join(t.TempDir(), "plan.yaml")
	if err := os.WriteFile(path, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
	id := startPlan(t, r, path)
	waitFor(t, time.Minute, "the canary to be done", func() bool {
		return hostRun(t, r.store, id, "web-gra-01").State == fleet.HostDone
	})
	// Spread order leaves web-sbg-03 last.
	if _, err := l.Fault("web-sbg-03", lab.FaultErrors); err != nil {
		t.Fatal(err)
	}
	broke := time.Now()
	isHold := func(e Event) bool { return e.Kind == KindPace && strings.Contains(e.Message, " holds: ") }
	waitFor(t, 10*time.Second, "the rollout to hold on web-03's errors", func() bool { return len(r.events.find(isHold)) > 0 })
	held := time.Now()
	hold := r.events.find(isHold)[0]
	if !strings.Contains(hold.Message, "backend web-03 on ") || !strings.Contains(hold.Message, "answered 5xx to") {
		t.Errorf("the hold does not name the backend and the share: %s", hold.Message)
	}
	t.Logf("held %s after the fault: %s", held.Sub(broke).Round(100*time.Millisecond), hold.Message)
	time.Sleep(5 * time.Second)
	if _, err := l.Heal("web-sbg-03"); err != nil {
		t.Fatal(err)
	}
	isClear := func(e Event) bool { return e.Kind == KindPace && strings.Contains(e.Message, " goes on: ") }
	waitFor(t, 30*time.Second, "the rollout to go on after the heal", func() bool { return len(r.events.find(isClear)) > 0 })
	ro := waitEnded(t, r.store, id, 2*time.Minute)
	if ro.State != fleet.RolloutDone {
		t.Fatalf("ended %s: %s", ro.State, ro.Reason)
	}
	// No host started between the hold and the all-clear.
	r.events.mu.Lock()
	defer r.events.mu.Unlock()
	holding := false
	for _, e := range r.events.list {
		switch {
		case isHold(e):
			holding = true
		case isClear(e):
			holding = false
		case holding && e.Kind == KindHostStarted:
			t.Errorf("%s started while customers' errors held the rollout", e.Host)
		}
	}
}
