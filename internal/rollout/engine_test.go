package rollout

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/illico-dev/illico/internal/fleet"
	"github.com/illico-dev/illico/internal/inventory"
	"github.com/illico-dev/illico/internal/lab"
	"github.com/illico-dev/illico/internal/lab/labtest"
	"github.com/illico-dev/illico/internal/lb"
	"github.com/illico-dev/illico/internal/probe"
	"github.com/illico-dev/illico/internal/sshx"
	"github.com/illico-dev/illico/internal/store"
)

type rig struct {
	engine *Engine
	store  *store.Store
	inv    *fleet.Inventory
	events *events
	// looks are the engine's looks at which hosts are down: when each
	// began and ended.
	looks  *looks
	cancel context.CancelFunc
	done   chan struct{}
}

func startEngine(t *testing.T, l *lab.Lab, db *store.Store) *rig {
	t.Helper()
	inv, err := inventory.Load(l.Info().Files.Inventory)
	if err != nil {
		t.Fatal(err)
	}
	return startEngineOn(t, inv, db)
}

// startEngineOn is startEngine on an inventory of the caller's.
func startEngineOn(t *testing.T, inv *fleet.Inventory, db *store.Store) *rig {
	t.Helper()
	pool := sshx.NewPool(sshx.Options{})
	t.Cleanup(pool.Close)
	checker := probe.NewHealth(probe.NewProber(&http.Client{}, pool, time.Now).Probe, probe.DefaultInterval)
	ev, lk := &events{}, &looks{}
	balancers := &lb.Set{}
	e := NewEngine(Options{
		Store:     db,
		Remote:    pool,
		Balancer:  func(name string) Balancer { return balancers.For(inv.LoadBalancer(name)) },
		Health:    checker,
		Inventory: func() *fleet.Inventory { return inv },
		Down: func(ctx context.Context, hosts []*fleet.Host) map[string]string {
			began := time.Now()
			defer func() { lk.add(began, time.Now()) }()
			return checker.Down(ctx, inv, hosts)
		},
		Event: func(_ context.Context, e Event) { ev.add(e); t.Log(e.Message) },
		Poll:  100 * time.Millisecond,
		Tick:  500 * time.Millisecond,
	})
	ctx, cancel := context.WithCancel(context.Background())
	r := &rig{engine: e, store: db, inv: inv, events: ev, looks: lk, cancel: cancel, done: make(chan struct{})}
	go func() { _ = e.Run(ctx); close(r.done) }()
	t.Cleanup(r.stop)
	for e.ready() == false {
		time.Sleep(10 * time.Millisecond)
	}
	return r
}

// looks records the engine's looks at the hosts' health.
type looks struct {
	mu           sync.Mutex
	began, ended []time.Time
}

func (l *looks) add(began, ended time.Time) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.began, l.ended = append(l.began, began), append(l.ended, ended)
}

// sawAfter reports whether a look that began after from had ended by at:
// the engine knew of whatever happened at from when it acted at at.
func (l *looks) sawAfter(from, at time.Time) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	for i := range l.began {
		if l.began[i].After(from) && !l.ended[i].After(at) {
			return true
		}
	}
	return false
}

func (r *rig) stop() {
	r.cancel()
	<-r.done
}

func openStore(t testing.TB) *store.Store {
	t.Helper()
	db, err := store.Open(context.Background(), "sqlite:"+filepath.Join(t.TempDir(), "illico.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

func startRollout(t testing.TB, r *rig, planFile string) *fleet.Rollout {
	t.Helper()
	src, err := os.ReadFile(planFile)
	if err != nil {
		t.Fatal(err)
	}
	ro, err := r.engine.Start(t.Context(), StartRequest{PlanFile: planFile, PlanSource: string(src)})
	if err != nil {
		t.Fatal(err)
	}
	return ro
}

func waitEnded(t testing.TB, db *store.Store, id string, within time.Duration) *fleet.Rollout {
	t.Helper()
	ro, err := waitRollout(db, id, within)
	if err != nil {
		t.Fatal(err)
	}
	return ro
}

// waitRollout waits until the rollout has ended, as the store says.
func waitRollout(db *store.Store, id string, within time.Duration) (*fleet.Rollout, error) {
	deadline := time.Now().Add(within)
	for {
		ro, err := db.Rollout(context.Background(), id)
		if err == nil && ro.State.Ended() {
			return ro, nil
		}
		if time.Now().After(deadline) {
			return nil, fmt.Errorf("rollout %s did not end within %s (last read: %+v, %v)", id, within, ro, err)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func bootIDs(t *testing.T, l *lab.Lab) map[string]lab.HostStatus {
	t.Helper()
	out := map[string]lab.HostStatus{}
	for _, s := range l.Status(context.Background()) {
		out[s.Name] = s
	}
	return out
}

// The bar: 40 hosts in two datacenters, customer traffic through
// HAProxy the whole time, every host patched and rebooted, no failed request.
func TestRolloutPatchesEveryHostWithoutAFailedRequest(t *testing.T) {
	l := labtest.Start(t, lab.Options{Hosts: 40, RebootMin: time.Second, RebootMax: 3 * time.Second})
	before := bootIDs(t, l)
	tr := labtest.StartTraffic(l.Info().Frontends)
	r := startEngine(t, l, openStore(t))
	ro := startRollout(t, r, "testdata/patch.yaml")
	ro = waitEnded(t, r.store, ro.ID, 3*time.Minute)
	total, failed := tr.End()
	if ro.State != fleet.RolloutDone {
		t.Fatalf("rollout ended %s: %s", ro.State, ro.Reason)
	}
	after := bootIDs(t, l)
	for _, h := range ro.Hosts {
		if h.State != fleet.HostDone {
			t.Errorf("%s is %s: %s", h.Host, h.State, h.Error)
		}
		b, a := before[h.Host], after[h.Host]
		if a.BootID == b.BootID || a.Running["openssl"] != "3.0.13" || a.Balancer != "UP" {
			t.Errorf("%s: boot %s → %s, running %v, balancer %s", h.Host, b.BootID, a.BootID, a.Running, a.Balancer)
		}
	}
	t.Logf("customer requests: %d, failed: %d", total, failed)
	if failed != 0 || total == 0 {
		t.Fatalf("%d of %d customer requests failed", failed, total)
	}
}

func TestRolloutHaltsOnTheCanaryAndRollsItBack(t *testing.T) {
	l := labtest.Start(t, lab.Options{Hosts: 6, RebootMin: time.Second, RebootMax: 2 * time.Second})
	before := bootIDs(t, l)
	tr := labtest.StartTraffic(l.Info().Frontends)
	r := startEngine(t, l, openStore(t))
	ro := startRollout(t, r, "testdata/bad.yaml")
	ro = waitEnded(t, r.store, ro.ID, 3*time.Minute)
	total, failed := tr.End()
	if ro.State != fleet.RolloutHalted {
		t.Fatalf("rollout ended %s: %s", ro.State, ro.Reason)
	}
	after := bootIDs(t, l)
	for _, h := range ro.Hosts {
		a, b := after[h.Host], before[h.Host]
		switch {
		case h.Canary:
			if h.State != fleet.HostRolledBack || !h.Failed || a.Running["openssl"] != "3.0.11" || a.Balancer != "UP" {
				t.Errorf("canary %s: %s (%s), running %v, balancer %s", h.Host, h.State, h.Error, a.Running, a.Balancer)
			}
		default:
			if h.State != fleet.HostPending || a.BootID != b.BootID || a.Installed["openssl"] != "3.0.11" {
				t.Errorf("%s was touched: %s, boot %s → %s, installed %v", h.Host, h.State, b.BootID, a.BootID, a.Installed)
			}
		}
	}
	t.Logf("customer requests: %d, failed: %d", total, failed)
	if failed != 0 {
		t.Errorf("%d of %d customer requests failed", failed, total)
	}
}
