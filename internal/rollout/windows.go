package rollout

import (
	"context"
	"errors"
	"fmt"
	"slices"

	"github.com/illico-dev/illico/internal/fleet"
)

// Window is a maintenance an operator scheduled with hosts: while it is
// open, its hosts are out of service, each under a lease of the ledger
// that the maintenance holds.
type Window struct {
	// ID is the maintenance's, the holder of its leases.
	ID    string
	Name  string
	Hosts []string
	Open  bool
}

// Waiting is a host of an open window still in service, and why: the
// budgets of one of its groups, or another holder's lease.
type Waiting struct {
	Window, Host, Why string
}

// Kept is what one round of KeepWindows did: the leases it took (hosts
// drained), those it ended (hosts back), and the hosts still waiting.
type Kept struct {
	Taken, Ended []fleet.Lease
	Waiting      []Waiting
}

// KeepWindows brings the ledger and the load balancers in line with
// windows, and is called again and again by the leader: each host of an
// open window is drained under the window's lease once every group of the
// host allows one more member out, like any rollout's host (a host refused
// waits, and says why); each host whose
// window is no longer open (ended, or gone from the page) is put back in
// service and its lease ended. A host leased to another holder waits for
// it: a window never takes a host from a rollout or from an operator.
func (e *Engine) KeepWindows(ctx context.Context, windows []Window) (Kept, error) {
	var out Kept
	held, err := e.opts.Store.Leases(ctx)
	if err != nil {
		return out, err
	}
	open := map[string]bool{}
	var errs []error
	for _, w := range windows {
		if !w.Open {
			continue
		}
		open[w.ID] = true
		for _, host := range w.Hosts {
			if slices.ContainsFunc(held, func(l fleet.Lease) bool {
				return l.Host == host && l.Held(fleet.LeaseMaintenance, w.ID)
			}) {
				continue
			}
			d, err := e.Drain(ctx, DrainRequest{Host: host, Kind: fleet.LeaseMaintenance, By: w.ID, Reason: w.Name})
			if d.Lease.Host != "" {
				out.Taken = append(out.Taken, d.Lease)
			}
			switch fleet.KindOf(err) {
			case fleet.KindConflict, fleet.KindNotFound:
				out.Waiting = append(out.Waiting, Waiting{Window: w.ID, Host: host, Why: err.Error()})
			default:
				if err != nil {
					errs = append(errs, fmt.Errorf("maintenance %s: %w", w.ID, err))
				}
			}
		}
	}
	inv := e.opts.Inventory()
	for _, l := range held {
		if l.Kind != fleet.LeaseMaintenance || open[l.Holder] {
			continue
		}
		var err error
		if h := inv.Host(l.Host); h != nil {
			err = e.putBack(ctx, inv, h, l)
		} else {
			// Gone from the inventory: no load balancer of it to tell.
			err = e.opts.Store.ReleaseLease(ctx, l.Host, l.Kind, l.Holder)
		}
		if err != nil {
			errs = append(errs, fmt.Errorf("maintenance %s ended: %w", l.Holder, err))
			continue
		}
		out.Ended = append(out.Ended, l)
	}
	return out, errors.Join(errs...)
}
