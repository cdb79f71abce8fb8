package rollout

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/illico-dev/illico/internal/fleet"
)

// drainTimeout bounds an operator's drain: the load balancers are told at
// once, and the sessions a server still holds get this long to end.
const drainTimeout = time.Minute

// DrainRequest is an operator taking a host out of service by hand.
type DrainRequest struct {
	Host, By, Reason string
	// Kind is the lease's: fleet.LeaseDrain when empty, or
	// fleet.LeaseMaintenance for a maintenance's host (By is its ID).
	Kind fleet.LeaseKind
	// Force takes the lease even where the budgets do not allow it.
	Force bool
}

// Drained is what a drain did: the lease taken, and, for a forced drain,
// the budget it broke ("" when it broke none).
type Drained struct {
	Lease fleet.Lease
	Broke string
}

// Drain takes host out of service by hand, through the same ledger as the
// rollouts: a drain lease, granted only when every group of the host
// allows one more member out (counting every lease held and the health
// observed), then the host's servers set to maintenance in its load
// balancers. A refusal says which budget and who is out. A drain that the
// load balancer refused keeps its lease, so that nothing takes the
// partner meanwhile; Undrain mends it.
func (e *Engine) Drain(ctx context.Context, req DrainRequest) (Drained, error) {
	inv := e.opts.Inventory()
	h := inv.Host(req.Host)
	if h == nil {
		return Drained{}, fleet.Errorf(fleet.KindNotFound, "no host %s in the inventory", req.Host)
	}
	top := NewTopology(inv, []string{h.Name})
	var down map[string]string
	if e.opts.Down != nil {
		down = e.opts.Down(ctx, topologyHosts(inv, top, []string{h.Name}))
	}
	var out Drained
	admit := func(held []fleet.Lease) error {
		err := Admit(top, h.Name, held, down)
		if err != nil && req.Force {
			out.Broke, err = err.Error(), nil
		}
		return err
	}
	kind := req.Kind
	if kind == "" {
		kind = fleet.LeaseDrain
	}
	l := fleet.Lease{Host: h.Name, Kind: kind, Holder: req.By, Reason: req.Reason, Since: e.opts.Now().UTC()}
	l, err := e.opts.Store.GrantLease(ctx, l, admit)
	if err != nil {
		if fleet.KindOf(err) == fleet.KindConflict {
			return Drained{}, fleet.Errorf(fleet.KindConflict, "%s stays in service: %v", h.Name, err)
		}
		return Drained{}, err
	}
	out.Lease = l
	dctx, cancel := context.WithTimeout(ctx, drainTimeout)
	defer cancel()
	err = eachBackend(dctx, inv, h, e.opts.Balancer, func(b Balancer, backend, server string) error { return b.Drain(dctx, backend, server) })
	if errors.Is(err, context.DeadlineExceeded) && ctx.Err() == nil {
		// In maintenance anyway: its last sessions are its customers'.
		err = nil
	}
	if err != nil {
		return out, fmt.Errorf("%s is leased to %s, but its load balancer did not drain it: %w (illico host undrain %s puts it back)", h.Name, req.By, err, h.Name)
	}
	return out, nil
}

// Undrain puts a host an operator drained back in service: its servers out
// of maintenance in its load balancers, then its lease ended. A host
// leased to a rollout that still runs is the rollout's to put back; one
// that an ended rollout left stuck is a human's, and undrained here.
func (e *Engine) Undrain(ctx context.Context, host string) (fleet.Lease, error) {
	inv := e.opts.Inventory()
	h := inv.Host(host)
	if h == nil {
		return fleet.Lease{}, fleet.Errorf(fleet.KindNotFound, "no host %s in the inventory", host)
	}
	held, err := e.opts.Store.Leases(ctx)
	if err != nil {
		return fleet.Lease{}, err
	}
	var l fleet.Lease
	for _, x := range held {
		if x.Host == h.Name {
			l = x
		}
	}
	if l.Host == "" {
		return fleet.Lease{}, fleet.Errorf(fleet.KindConflict, "%s holds no lease: it is in service as far as illico knows", h.Name)
	}
	switch l.Kind {
	case fleet.LeaseRollout:
		e.mu.Lock()
		_, running := e.runs[l.Holder]
		e.mu.Unlock()
		if running {
			return fleet.Lease{}, fleet.Errorf(fleet.KindConflict, "%s is %s: the rollout puts it back (pause or abort it with illico rollout)", h.Name, l)
		}
	case fleet.LeaseMaintenance:
		return fleet.Lease{}, fleet.Errorf(fleet.KindConflict, "%s is %s: it is back at the maintenance's end (end it now with illico status maintenance update %s --status completed)", h.Name, l, l.Holder)
	}
	return l, e.putBack(ctx, inv, h, l)
}

// putBack puts h in service again, its servers out of maintenance in its
// load balancers, then ends its lease l.
func (e *Engine) putBack(ctx context.Context, inv *fleet.Inventory, h *fleet.Host, l fleet.Lease) error {
	err := eachBackend(ctx, inv, h, e.opts.Balancer, func(b Balancer, backend, server string) error { return b.Undrain(ctx, backend, server) })
	if err != nil {
		return fmt.Errorf("%s stays leased: its load balancer did not put it back: %w", h.Name, err)
	}
	return e.opts.Store.ReleaseLease(ctx, l.Host, l.Kind, l.Holder)
}

// GroupBudget is one group as the budgets see it now.
type GroupBudget struct {
	Name    string
	Allowed int
	Members []MemberBudget
}

// MemberBudget is one member of a group: Out says why it is out of
// service ("" when it serves), Lease is who holds it out, if anyone.
type MemberBudget struct {
	Host  string
	Out   string
	Lease *fleet.Lease
}

// Budgets is every group of the fleet with its members, which are out and
// why, and the leases held: what a rollout or a drain would be measured
// against now.
func (e *Engine) Budgets(ctx context.Context) ([]GroupBudget, error) {
	inv := e.opts.Inventory()
	names := make([]string, len(inv.Hosts))
	for i, h := range inv.Hosts {
		names[i] = h.Name
	}
	top := NewTopology(inv, names)
	held, err := e.opts.Store.Leases(ctx)
	if err != nil {
		return nil, err
	}
	var down map[string]string
	if e.opts.Down != nil {
		down = e.opts.Down(ctx, inv.Hosts)
	}
	leases := map[string]*fleet.Lease{}
	for i := range held {
		leases[held[i].Host] = &held[i]
	}
	out := make([]GroupBudget, len(top.Groups))
	for i, g := range top.Groups {
		out[i] = GroupBudget{Name: g.Name, Allowed: g.Allowed}
		for _, m := range g.Members {
			mb := MemberBudget{Host: m, Lease: leases[m], Out: down[m]}
			if mb.Lease != nil {
				mb.Out = mb.Lease.String()
			}
			out[i].Members = append(out[i].Members, mb)
		}
	}
	return out, nil
}
