package server

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"sync/atomic"
	"time"

	"github.com/illico-dev/illico/internal/api"
	"github.com/illico-dev/illico/internal/fleet"
	"github.com/illico-dev/illico/internal/httpjson"
	"github.com/illico-dev/illico/internal/store"
)

// Leadership's timings. A leader renews its lease every renewEvery; one
// that could not renew for renewDeadline stops acting, well before its
// lease (leaseTTL) can expire and another replica take over; a replica
// that does not lead campaigns every renewEvery, so a takeover after a
// leader's death comes within leaseTTL + renewEvery (8 s).
const (
	leaseTTL      = 6 * time.Second
	renewEvery    = 2 * time.Second
	renewDeadline = 4 * time.Second
)

// errLostLeadership stops the daemon of a leader that could not renew:
// its supervisor starts it again, as a replica that does not lead until
// it wins a campaign, with nothing of the old leader's work in memory.
var errLostLeadership = errors.New("this replica lost the leadership; it stops, for its supervisor to start it again")

// leadership is this replica's part in the leader election: every replica
// serves the API and the status page; the leader alone acts (rollouts,
// probes, alerts, the status page's driver and its notifications).
type leadership struct {
	store   *store.Store
	replica fleet.Replica
	log     *slog.Logger
	ttl     time.Duration
	every   time.Duration
	// deadline is how long after its last renewal the leader still acts.
	deadline time.Duration
	changes  func(won bool)
	// sole is set on SQLite, whose file serves one daemon (the daemon's
	// store holds its lock, and refuses a second): it leads from its first
	// campaign to its stop, however slow a renewal (SQLite's one writer,
	// busy saving a lost datacenter's probes, may hold one for seconds).
	sole bool

	// epoch is the lease's epoch while this replica leads, 0 otherwise;
	// renewed is when it last renewed, on the monotonic clock (a leader
	// frozen by SIGSTOP wakes to find it old).
	epoch   atomic.Int64
	renewed atomic.Pointer[time.Time]
	// failing is when the campaigns began to fail, nil while they work.
	failing atomic.Pointer[time.Time]
}

func newLeadership(st *store.Store, address string, log *slog.Logger, changes func(won bool)) *leadership {
	id := make([]byte, 4)
	rand.Read(id)
	return &leadership{
		store: st, log: log, changes: changes,
		replica: fleet.Replica{ID: hex.EncodeToString(id), Address: address},
		ttl:     leaseTTL, every: renewEvery, deadline: renewDeadline,
		sole: st.Dialect() == "sqlite",
	}
}

// leads reports whether this replica leads now: it holds the lease and
// renewed it within the deadline. Whatever acts on the fleet asks first.
func (l *leadership) leads() bool {
	if l.sole {
		return l.epoch.Load() != 0
	}
	r := l.renewed.Load()
	return l.epoch.Load() != 0 && r != nil && time.Since(*r) < l.deadline
}

// currentEpoch is the epoch the leader's writes carry (store.Fenced).
func (l *leadership) currentEpoch() int64 { return l.epoch.Load() }

// errNotLeader is what the leader's work says once this replica does not
// lead.
func (l *leadership) errNotLeader() error {
	return fleet.Errorf(fleet.KindUnavailable, "replica %s does not lead (any more): it acts on no host", l.replica.ID)
}

// work is what the leader alone does: start readies it (the rollouts to
// resume, the alerts restored), run lives until its context ends.
type work struct {
	start func(ctx context.Context) error
	run   func(ctx context.Context) error
}

// run campaigns until this replica leads and starts w, unless started
// says w started already (a lone daemon leads from its first campaign,
// and starts its work before it serves); then it runs w with a context
// that ends the moment this replica might not lead any more: a renewal
// refused, or none for the deadline. It returns errLostLeadership then,
// w's error if w ends by itself, and nil when ctx ends, once w has
// returned and the lease is resigned for another replica to take at once.
func (l *leadership) run(ctx context.Context, w work, started bool) error {
	tick := time.NewTicker(l.every)
	defer tick.Stop()
	if !started {
		for !l.campaign(ctx) {
			select {
			case <-ctx.Done():
				return nil
			case <-tick.C:
			}
		}
		if err := w.start(ctx); err != nil {
			l.resign()
			return err
		}
	}
	leadCtx, cancel := context.WithCancel(ctx)
	defer cancel()
	ended := make(chan error, 1)
	go func() { ended <- w.run(leadCtx) }()
	check := time.NewTicker(l.every / 4)
	defer check.Stop()
	for {
		select {
		case <-ctx.Done():
			err := <-ended
			l.resign()
			return err
		case err := <-ended:
			l.resign()
			if err == nil {
				err = errors.New("the leader's work ended by itself")
			}
			return err
		case <-tick.C:
			l.campaign(ctx)
		case <-check.C:
		}
		if !l.leads() {
			cancel()
			<-ended
			l.log.Error("lost the leadership: stopped acting", "replica", l.replica.ID, "epoch", l.epoch.Load())
			l.epoch.Store(0)
			l.changes(false)
			l.awaitStore(ctx)
			return errLostLeadership
		}
	}
}

// awaitStore returns once the database answers, or ctx ends. A leader
// that lost the leadership to an unreachable database stops acting at once,
// but stops its daemon only once the database is back, for its supervisor
// to start it again: a daemon does not start without its database, and
// meanwhile this one goes on serving the status page as it last read it,
// as every replica that does not lead does.
func (l *leadership) awaitStore(ctx context.Context) {
	tick := time.NewTicker(l.every)
	defer tick.Stop()
	for logged := false; ; {
		cctx, cancel := context.WithTimeout(ctx, l.deadline)
		_, _, err := l.store.Leader(cctx)
		cancel()
		if err == nil || fleet.KindOf(err) == fleet.KindNotFound || ctx.Err() != nil {
			return
		}
		if !logged {
			l.log.Warn("the database does not answer: this replica serves the status page as it last read it, and stops once the database is back", "err", err)
			logged = true
		}
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
	}
}

// campaign runs one round of the election; it reports whether this
// replica leads after it. A leader whose round fails keeps leading until
// its deadline, which the next round may still beat.
func (l *leadership) campaign(ctx context.Context) bool {
	// A slow round may take until the deadline: a leader renewing late
	// still leads, and a busy database is no reason to step down.
	cctx, cancel := context.WithTimeout(ctx, l.deadline)
	defer cancel()
	start := time.Now()
	lease, err := l.store.Campaign(cctx, l.replica, l.ttl)
	if err != nil {
		// Told once when the rounds start failing, not every round.
		if ctx.Err() == nil && l.failing.Load() == nil {
			l.failing.Store(&start)
			l.log.Warn("leader election: campaign failed; trying again every round, quietly until one works", "replica", l.replica.ID, "err", err)
		}
		return l.leads()
	}
	if since := l.failing.Swap(nil); since != nil {
		l.log.Info("leader election: campaigning again", "replica", l.replica.ID, "failed_for", time.Since(*since).Round(time.Second))
	}
	if lease.Holder != l.replica.ID {
		if l.epoch.Load() != 0 {
			// Taken over: stop at once, do not wait for the deadline.
			l.renewed.Store(&time.Time{})
		}
		return false
	}
	// The lease runs from the database's time of the round, which is
	// after start: counting from start keeps the deadline on the safe side.
	l.renewed.Store(&start)
	if old := l.epoch.Swap(lease.Epoch); old != lease.Epoch {
		l.log.Info("this replica leads", "replica", l.replica.ID, "epoch", lease.Epoch, "address", l.replica.Address)
		l.changes(true)
	}
	return true
}

// resign lets another replica take over at its next campaign.
func (l *leadership) resign() {
	epoch := l.epoch.Swap(0)
	if epoch == 0 {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), l.every)
	defer cancel()
	if err := l.store.Resign(ctx, l.replica.ID, epoch); err != nil {
		l.log.Warn("leader election: resign", "replica", l.replica.ID, "err", err)
	}
	l.changes(false)
}

// describe says who leads, for the operator.
func describe(lease fleet.Leadership, now time.Time) string {
	if !now.Before(lease.Expires) {
		return fmt.Sprintf("no replica leads: %s's lease of epoch %d expired at %s", lease.Holder, lease.Epoch, lease.Expires.UTC().Format(time.TimeOnly))
	}
	return fmt.Sprintf("%s leads (epoch %d, at %s)", lease.Holder, lease.Epoch, lease.Address)
}

// cluster answers GET /api/v1/cluster, on every replica.
func (s *Server) cluster(w http.ResponseWriter, r *http.Request) error {
	out := api.Cluster{This: s.lead.replica.ID, Replicas: []api.Replica{}}
	lease, now, err := s.store.Leader(r.Context())
	switch {
	case fleet.KindOf(err) == fleet.KindNotFound:
		out.Said = "no replica has led yet"
	case err != nil:
		return s.storeErr("leader", err)
	default:
		held := now.Before(lease.Expires)
		out.Leader = &api.Leader{Replica: lease.Holder, Address: lease.Address, Epoch: lease.Epoch, Renewed: lease.Renewed, Expires: lease.Expires, Held: held}
		out.Said = describe(lease, now)
	}
	reps, err := s.store.Replicas(r.Context())
	if err != nil {
		return s.storeErr("replicas", err)
	}
	for _, rep := range reps {
		out.Replicas = append(out.Replicas, api.Replica{ID: rep.ID, Address: rep.Address, Started: rep.Started, Seen: rep.Seen,
			Leads: out.Leader != nil && out.Leader.Held && out.Leader.Replica == rep.ID})
	}
	httpjson.Write(w, http.StatusOK, out)
	return nil
}
