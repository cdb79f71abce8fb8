package page

import (
	"context"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/illico-dev/illico/internal/fleet"
)

// Outbox is what a change of the status may write with it, in the same
// transaction, so that both are stored or neither: the subscribers' news.
// The store's transaction is one.
type Outbox interface {
	Enqueue(ctx context.Context, msg fleet.SubscriberMessage) (int, error)
}

// StatusStore keeps the status; *store.Store is one, its transaction the
// Outbox Tx. The page names the transaction by what it may do, not by the
// store's type, so that it links no database.
type StatusStore[Tx Outbox] interface {
	StatusVersion(ctx context.Context) (uint64, error)
	Status(ctx context.Context) (fleet.Status, error)
	UpdateStatus(ctx context.Context, change func(tx Tx, st *fleet.Status) error) (fleet.Status, error)
}

// Stored is the Source of a daemon: the status lives in the store, so that
// it survives a restart and daemons sharing a database show the same page.
//
// Version is asked on every request of the page, so it reads a number in
// memory: the version of this daemon's last change or last look at the
// store. Refresh looks, and the daemon calls it every few seconds, to
// notice the changes of another daemon on the same database. When the
// store cannot be read, the copy in memory is served as it is, and Checked
// tells since when.
type Stored[Tx Outbox] struct {
	store StatusStore[Tx]
	now   func() time.Time

	version atomic.Uint64
	checked atomic.Int64 // Checked, in nanoseconds since 1970
	mu      sync.Mutex   // guards last
	last    fleet.Status
}

// NewStored reads the status from st; now dates the changes of the
// components' statuses.
func NewStored[Tx Outbox](ctx context.Context, st StatusStore[Tx], now func() time.Time) (*Stored[Tx], error) {
	if now == nil {
		now = time.Now
	}
	s := &Stored[Tx]{store: st, now: now}
	at := now()
	cur, err := st.Status(ctx)
	if err != nil {
		return nil, err
	}
	s.remember(cur)
	s.check(at)
	return s, nil
}

// Version implements Source.
func (s *Stored[Tx]) Version() uint64 { return s.version.Load() }

// Checked implements Source: when the last read of the store that found
// the copy in memory the newest began. A Refresh that finds a newer
// version does not count: the copy is behind until Status reads it.
func (s *Stored[Tx]) Checked() time.Time { return time.Unix(0, s.checked.Load()) }

// check moves Checked up to at, never down: a slow read must not take it
// back past a later one.
func (s *Stored[Tx]) check(at time.Time) {
	n := at.UnixNano()
	for {
		cur := s.checked.Load()
		if n <= cur || s.checked.CompareAndSwap(cur, n) {
			return
		}
	}
}

// Status implements Source: the status as of Version, read again from the
// store only when Version moved past the copy in memory.
func (s *Stored[Tx]) Status(ctx context.Context) (fleet.Status, error) {
	s.mu.Lock()
	if s.last.Version == s.version.Load() {
		defer s.mu.Unlock()
		return s.last.Clone(), nil
	}
	s.mu.Unlock()
	at := s.now()
	cur, err := s.store.Status(ctx)
	if err != nil {
		return fleet.Status{}, err
	}
	s.remember(cur)
	s.check(at)
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.last.Clone(), nil
}

// Refresh reads the stored version, for Version to tell the page of
// another daemon's change, and Checked that the copy in memory is still
// the newest.
func (s *Stored[Tx]) Refresh(ctx context.Context) error {
	at := s.now()
	v, err := s.store.StatusVersion(ctx)
	if err != nil {
		return err
	}
	s.raise(v)
	s.mu.Lock()
	current := s.last.Version >= v
	s.mu.Unlock()
	if current {
		s.check(at)
	}
	return nil
}

// raise moves the version up to v, never down: a slow reader must not hide
// a newer change.
func (s *Stored[Tx]) raise(v uint64) {
	for {
		cur := s.version.Load()
		if v <= cur || s.version.CompareAndSwap(cur, v) {
			return
		}
	}
}

// remember keeps st if it is the newest status seen. The copy in memory is
// only ever read under the lock: another read or change may replace it.
func (s *Stored[Tx]) remember(st fleet.Status) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if st.Version >= s.last.Version {
		s.last = st
	}
	s.raise(s.last.Version)
}

// Update changes the status with change, all or nothing, and returns once
// the change is stored.
func (s *Stored[Tx]) Update(ctx context.Context, change func(*fleet.Status) error) error {
	return s.UpdateTx(ctx, func(_ Tx, st *fleet.Status) error { return change(st) })
}

// UpdateTx is Update with the store's transaction, for what must be stored
// with the change or not at all.
func (s *Stored[Tx]) UpdateTx(ctx context.Context, change func(tx Tx, st *fleet.Status) error) error {
	at := s.now()
	cur, err := s.store.UpdateStatus(ctx, func(tx Tx, st *fleet.Status) error {
		before := shown(st)
		if err := change(tx, st); err != nil {
			return err
		}
		stampShown(st, before, s.now().UTC())
		prune(st)
		return nil
	})
	if err != nil {
		return err
	}
	s.remember(cur)
	s.check(at)
	return nil
}

// prune forgets the resolved incidents and completed maintenances the page
// can no longer show (it lists the listLimit most recent), so that the
// stored document does not grow with every rollout. Open ones stay, however
// old: a rollout or an operator still has to close them.
func prune(st *fleet.Status) {
	st.Incidents = pruned(st.Incidents, func(in fleet.Incident) (time.Time, bool) {
		return in.CreatedAt, in.Status == fleet.Resolved
	})
	st.Maintenance = pruned(st.Maintenance, func(m fleet.Maintenance) (time.Time, bool) {
		return m.ScheduledFor, m.Status == fleet.MaintenanceCompleted
	})
}

// pruned keeps the items open, and those among the listLimit most recent
// by the time the page sorts them by; it keeps their order.
func pruned[T any](items []T, key func(T) (time.Time, bool)) []T {
	if len(items) <= listLimit {
		return items
	}
	order := make([]int, len(items))
	for i := range order {
		order[i] = i
	}
	slices.SortStableFunc(order, func(a, b int) int {
		ta, _ := key(items[a])
		tb, _ := key(items[b])
		return tb.Compare(ta)
	})
	drop := make([]bool, len(items))
	for rank, i := range order {
		_, ended := key(items[i])
		drop[i] = ended && rank >= listLimit
	}
	out := items[:0:0]
	for i, it := range items {
		if !drop[i] {
			out = append(out, it)
		}
	}
	return out
}
