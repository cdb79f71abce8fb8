package server

import (
	"context"
	"io"
	"net/http"

	"github.com/illico-dev/illico/internal/fleet"
	"github.com/illico-dev/illico/internal/rollout"
)

// The leader's hands on the fleet, each of which asks before it acts
// whether this replica still leads: a leader frozen (SIGSTOP) past its
// deadline wakes, and the first thing any of its goroutines tries is
// refused, before its leadership has even noticed.

// guardedRemote runs the SSH commands of the engine and of the probes.
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

// client is c for the leader's notifications (the alert receivers'
// webhooks): a request is refused once this replica does not lead.
func (l *leadership) client(c *http.Client) *http.Client {
	out := *c
	base := c.Transport
	if base == nil {
		base = http.DefaultTransport
	}
	out.Transport = guardedTransport{base, l}
	return &out
}

type guardedTransport struct {
	base http.RoundTripper
	lead *leadership
}

func (g guardedTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	if !g.lead.leads() {
		if r.Body != nil {
			r.Body.Close()
		}
		return nil, g.lead.errNotLeader()
	}
	return g.base.RoundTrip(r)
}
