// Package probe asks hosts whether they are healthy: HTTP(S) (status, body,
// JSON paths, response time, certificate expiry), TCP, SSH (the host
// answers with its boot id) and commands run over SSH, each judged by the
// conditions of the inventory's checks. The daemon's scheduler keeps every
// target's state; a rollout's wait_healthy gate and the daemon's fresh look
// at a host held down run the same probes once, so that both agree on what
// healthy means.
package probe

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/illico-dev/illico/internal/fleet"
)

// Health runs every probe of a host once: its groups' checks, its own and
// its ssh probe, as the daemon runs them.
type Health struct {
	probe    ProbeFunc
	interval time.Duration
}

// NewHealth returns a Health that runs probes with probe ((*Prober).Probe),
// interval being the default of the checks that set none (their timeouts
// stay within it).
func NewHealth(probe ProbeFunc, interval time.Duration) *Health {
	return &Health{probe: probe, interval: interval}
}

// Host runs every probe of h at once and returns nil when all pass, or an
// error naming the first that failed, in the order of the host's targets,
// with the condition that did not hold and what was seen.
func (hc *Health) Host(ctx context.Context, inv *fleet.Inventory, h *fleet.Host) error {
	targets, err := HostTargets(inv, h, hc.interval)
	if err != nil {
		return err
	}
	reasons := make([]string, len(targets))
	var wg sync.WaitGroup
	for i := range targets {
		wg.Go(func() {
			t := &targets[i]
			o := hc.probe(ctx, t)
			if ok, why := Verdict(t.Def, &o); !ok {
				reasons[i] = why
			}
		})
	}
	wg.Wait()
	for i, why := range reasons {
		if why != "" {
			return fmt.Errorf("probe %s: %s", targets[i].Def.Name, why)
		}
	}
	return nil
}

// maxLooks bounds the hosts Down looks at in parallel.
const maxLooks = 32

// Down runs the probes of every host in hosts, at most 32 hosts at a time,
// and returns the hosts that fail one, with the first failure as reason.
func (hc *Health) Down(ctx context.Context, inv *fleet.Inventory, hosts []*fleet.Host) map[string]string {
	errs := make([]error, len(hosts))
	sem := make(chan struct{}, maxLooks)
	var wg sync.WaitGroup
	for i, h := range hosts {
		wg.Go(func() {
			sem <- struct{}{}
			defer func() { <-sem }()
			errs[i] = hc.Host(ctx, inv, h)
		})
	}
	wg.Wait()
	down := map[string]string{}
	for i, err := range errs {
		if err != nil {
			down[hosts[i].Name] = "failing " + err.Error()
		}
	}
	return down
}
