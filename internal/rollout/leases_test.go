package rollout

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/illico-dev/illico/internal/fleet"
	"github.com/illico-dev/illico/internal/lab"
	"github.com/illico-dev/illico/internal/lab/labtest"
)

// outOfRotation samples HAProxy's view of the lab every 100 ms until
// stopped, and records every moment when more members of a group than its
// budget allows were out of rotation at once.
type outOfRotation struct {
	stop    chan struct{}
	done    chan struct{}
	samples int
	broken  []string
}

func sampleRotation(l *lab.Lab, inv *fleet.Inventory) *outOfRotation {
	s := &outOfRotation{stop: make(chan struct{}), done: make(chan struct{})}
	go func() {
		defer close(s.done)
		tick := time.NewTicker(100 * time.Millisecond)
		defer tick.Stop()
		for {
			select {
			case <-s.stop:
				return
			case <-tick.C:
			}
			out := map[string]bool{}
			for _, h := range l.Status(context.Background()) {
				if h.Balancer != "" && h.Balancer != "UP" {
					out[h.Name] = true
				}
			}
			s.samples++
			for _, g := range inv.Groups {
				var down []string
				for _, m := range g.Members {
					if out[m] {
						down = append(down, m)
					}
				}
				if len(down) > 0 && len(down) >= len(g.Members) {
					s.broken = append(s.broken, fmt.Sprintf("%s: %s out of rotation at %s", g.Name, strings.Join(down, ", "), time.Now().Format(time.StampMilli)))
				}
			}
		}
	}()
	return s
}

func (s *outOfRotation) end() {
	close(s.stop)
	<-s.done
}

// Two operators start a rollout each at the same instant, one on each
// datacenter of a lab whose groups are pairs across the two: the ledger
// lets only one half of each pair out at a time, the rollouts wait on each
// other's hosts, both end done, and no customer request fails.
func TestTwoRolloutsNeverTakeBothHalvesOfAPair(t *testing.T) {
	if testing.Short() {
		t.Skip("a lab rollout: slow")
	}
	l := labtest.Start(t, lab.Options{Hosts: 12, RebootMin: time.Second, RebootMax: 2 * time.Second})
	tr := labtest.StartTraffic(l.Info().Frontends)
	r := startEngine(t, l, openStore(t))
	rot := sampleRotation(l, r.inv)
	src, err := os.ReadFile("testdata/patch.yaml")
	if err != nil {
		t.Fatal(err)
	}
	ids := make([]string, 2)
	errs := make([]error, 2)
	var wg sync.WaitGroup
	for i, dc := range []string{"gra", "sbg"} {
		wg.Go(func() {
			ro, err := r.engine.Start(t.Context(), StartRequest{PlanFile: "testdata/patch.yaml", PlanSource: string(src), Selector: "datacenter=" + dc})
			if err == nil {
				ids[i] = ro.ID
			}
			errs[i] = err
		})
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		t.Fatal(err)
	}
	for _, id := range ids {
		ro := waitEnded(t, r.store, id, 3*time.Minute)
		if ro.State != fleet.RolloutDone {
			t.Errorf("rollout %s (%s) ended %s: %s", id, ro.Selector, ro.State, ro.Reason)
		}
	}
	rot.end()
	total, failed := tr.End()
	t.Logf("HAProxy sampled %d times; customer requests: %d, failed: %d", rot.samples, total, failed)
	for _, b := range rot.broken {
		t.Error(b)
	}
	if failed != 0 || total == 0 {
		t.Errorf("%d of %d customer requests failed", failed, total)
	}
	if rot.samples == 0 {
		t.Error("HAProxy was never sampled")
	}
	// Every lease ended with its host's maintenance.
	if held, err := r.store.Leases(t.Context()); err != nil || len(held) != 0 {
		t.Errorf("leases after both rollouts: %+v, %v", held, err)
	}
	// The one that waited said on whom.
	if len(r.events.find(func(e Event) bool {
		return e.Kind == KindHostWaiting && strings.Contains(e.Message, "is in rollout ")
	})) == 0 {
		t.Error("no host said it waited on the other rollout's host")
	}
}
