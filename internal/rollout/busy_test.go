package rollout

import (
	"io"
	"net"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/illico-dev/illico/internal/fleet"
	"github.com/illico-dev/illico/internal/inventory"
	"github.com/illico-dev/illico/internal/lab"
	"github.com/illico-dev/illico/internal/lab/labtest"
)

// TestBusyLoadBalancerFailsNoHost holds that a load balancer whose runtime
// API stops answering for a while slows the rollout down and fails no
// host: the lab's HAProxy is reached through a relay that, for its first
// seconds, takes connections and answers nothing, as a saturated HAProxy
// does.
func TestBusyLoadBalancerFailsNoHost(t *testing.T) {
	l := labtest.Start(t, lab.Options{Hosts: 4, RebootMin: time.Second, RebootMax: 2 * time.Second})
	inv, err := inventory.Load(l.Info().Files.Inventory)
	if err != nil {
		t.Fatal(err)
	}
	const stall = 7 * time.Second
	for _, b := range inv.LoadBalancers {
		b.Socket = stallingRelay(t, b.Socket, stall)
	}
	tr := labtest.StartTraffic(l.Info().Frontends)
	r := startEngineOn(t, inv, openStore(t))
	ro := startRollout(t, r, "testdata/patch.yaml")
	ro = waitEnded(t, r.store, ro.ID, 3*time.Minute)
	total, failed := tr.End()
	if ro.State != fleet.RolloutDone {
		t.Fatalf("rollout ended %s: %s", ro.State, ro.Reason)
	}
	for _, h := range ro.Hosts {
		if h.State != fleet.HostDone || h.Failed {
			t.Errorf("%s is %s: %s", h.Host, h.State, h.Error)
		}
	}
	if len(r.events.find(func(e Event) bool {
		return e.Kind == KindHostDrain && strings.Contains(e.Message, "not taken yet")
	})) == 0 {
		t.Error("no event said that the load balancer did not take a drain")
	}
	if failed != 0 {
		t.Errorf("%d of %d customer requests failed", failed, total)
	}
}

// stallingRelay relays a runtime API socket through a socket of its own,
// which for its first stall takes connections and answers nothing; it
// returns that socket's path. Connections held by the stall are closed when
// it ends, and everything when the test ends.
func stallingRelay(t *testing.T, target string, stall time.Duration) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "relay.sock")
	ln, err := net.Listen("unix", path)
	if err != nil {
		t.Fatal(err)
	}
	until := time.Now().Add(stall)
	var mu sync.Mutex
	var open []net.Conn
	var wg sync.WaitGroup
	track := func(c net.Conn) {
		mu.Lock()
		open = append(open, c)
		mu.Unlock()
	}
	t.Cleanup(func() {
		ln.Close()
		mu.Lock()
		for _, c := range open {
			c.Close()
		}
		mu.Unlock()
		wg.Wait()
	})
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			track(c)
			wg.Add(1)
			go func() {
				defer wg.Done()
				defer c.Close()
				if wait := time.Until(until); wait > 0 {
					// Hold the connection, unanswered, until the stall ends.
					_ = c.SetReadDeadline(time.Now().Add(wait))
					_, _ = io.Copy(io.Discard, c)
					return
				}
				up, err := net.Dial("unix", target)
				if err != nil {
					return
				}
				track(up)
				defer up.Close()
				go func() { _, _ = io.Copy(up, c) }()
				_, _ = io.Copy(c, up)
			}()
		}
	}()
	return path
}
