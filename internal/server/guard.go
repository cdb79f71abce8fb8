package server

import (
	"context"
	"io"

	"github.com/illico-dev/illico/internal/fleet"
	"github.com/illico-dev/illico/internal/probe"
	"github.com/illico-dev/illico/internal/rollout"
)

// The leader's hands on the fleet and its voice to the on-call, each of
// which asks before it acts whether this replica still leads: a leader
// frozen (SIGSTOP) past its deadline wakes, and the first thing any of its
// goroutines tries is refused, before its leadership has even noticed.

// guardedRemote runs the engine's SSH commands.
type guardedRemote struct {
	rollout.Remote
	lead *leadership
}

func (g guardedRemote) Run(ctx context.Context, h *fleet.Host, cmd string, stdout, stderr io.Writer) (fleet.CommandResult, error) {
	if !g.lead.leads() {
		return fleet.CommandResult{}, g.lead.errNotLeader()
	}
	return g.Remote.Run(ctx, h, cmd, stdout, stderr)
}

// guardedBalancer drains and undrains.
type guardedBalancer struct {
	rollout.Balancer
	lead *leadership
}

func (g guardedBalancer) Drain(ctx context.Context, backend, server string) error {
	if !g.lead.leads() {
		return g.lead.errNotLeader()
	}
	return g.Balancer.Drain(ctx, backend, server)
}

func (g guardedBalancer) Undrain(ctx context.Context, backend, server string) error {
	if !g.lead.leads() {
		return g.lead.errNotLeader()
	}
	return g.Balancer.Undrain(ctx, backend, server)
}

// acting is nil while this replica leads, and says why it must not act
// otherwise: the monitor asks it before each notification it sends.
func (l *leadership) acting() error {
	if !l.leads() {
		return l.errNotLeader()
	}
	return nil
}

// guardProbe runs the probes, HTTP and TCP as well as SSH, while this
// replica leads: a refused run fails, and the replica that no longer leads
// exits before its outcome tells anyone.
func (l *leadership) guardProbe(run probe.ProbeFunc) probe.ProbeFunc {
	return func(ctx context.Context, t *probe.Target) probe.Observation {
		if err := l.acting(); err != nil {
			return probe.Observation{Err: err}
		}
		return run(ctx, t)
	}
}
