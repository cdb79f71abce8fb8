package server

import (
	"context"
	"time"

	"github.com/illico-dev/illico/internal/fleet"
	"github.com/illico-dev/illico/internal/rollout"
	"github.com/illico-dev/illico/internal/store"
)

// windowsEvery is how often the leader brings the hosts of the
// maintenances scheduled by hand in line with their windows: a window's
// hosts leave within this of its start, and come back within it of its
// end.
const windowsEvery = 5 * time.Second

// keepWindows runs on the leader until ctx ends: the maintenances an
// operator scheduled with hosts hold those hosts out of service, through
// the disruption ledger, while they are in progress. What it does goes to
// the log and the events; a host that must wait for its budgets is told
// once, with why, and again when the reason changes.
func (s *Server) keepWindows(ctx context.Context) {
	tick := time.NewTicker(windowsEvery)
	defer tick.Stop()
	told := map[[2]string]string{} // window and host → why it waits
	for {
		s.keepWindowsOnce(ctx, told)
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
	}
}

func (s *Server) keepWindowsOnce(ctx context.Context, told map[[2]string]string) {
	st, err := s.site.Status(ctx)
	if err != nil {
		s.log.Error("maintenances: read the status page", "err", err)
		return
	}
	var windows []rollout.Window
	for _, m := range st.Maintenance {
		if len(m.Hosts) > 0 {
			windows = append(windows, rollout.Window{ID: m.ID, Name: m.Name.In("en", ""), Hosts: m.Hosts,
				Open: m.Status == fleet.MaintenanceInProgress})
		}
	}
	kept, err := s.engine.KeepWindows(ctx, windows)
	if err != nil && ctx.Err() == nil {
		s.log.Error("maintenances: take their hosts out, or put them back", "err", err)
	}
	for _, l := range kept.Taken {
		s.log.Info("host drained for a maintenance", "host", l.Host, "maintenance", l.Holder)
		s.windowEvent(ctx, store.Event{Kind: "host.drained", Subject: "host " + l.Host,
			Message: "maintenance " + l.Holder + " drained " + l.Host + " for its window: " + l.Reason})
		delete(told, [2]string{l.Holder, l.Host})
	}
	for _, l := range kept.Ended {
		s.log.Info("host back after a maintenance", "host", l.Host, "maintenance", l.Holder)
		s.windowEvent(ctx, store.Event{Kind: "host.undrained", Subject: "host " + l.Host,
			Message: "maintenance " + l.Holder + " ended: " + l.Host + " is back in service"})
	}
	waiting := map[[2]string]bool{}
	for _, w := range kept.Waiting {
		k := [2]string{w.Window, w.Host}
		waiting[k] = true
		if told[k] == w.Why {
			continue
		}
		told[k] = w.Why
		s.log.Warn("host waits for its maintenance's lease", "host", w.Host, "maintenance", w.Window, "why", w.Why)
		s.windowEvent(ctx, store.Event{Kind: "host.waiting", Subject: "host " + w.Host,
			Message: "maintenance " + w.Window + " waits to drain " + w.Host + ": " + w.Why})
	}
	for k := range told {
		if !waiting[k] {
			delete(told, k)
		}
	}
}

// windowEvent records what the leader did to a maintenance's host, behind
// the leader's fence; the log says so if the record fails.
func (s *Server) windowEvent(ctx context.Context, e store.Event) {
	err := s.leaderStore.Tx(ctx, func(tx *store.Tx) error {
		_, err := tx.AppendEvent(ctx, e)
		return err
	})
	if err != nil {
		s.log.Error("record "+e.Kind, "err", s.storeErr("append_event", err))
	}
	s.events.wake()
}
