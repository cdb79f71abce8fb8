package rollout

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"log/slog"
	"maps"
	"slices"
	"sync"
	"time"

	"github.com/illico-dev/illico/internal/fleet"
	"github.com/illico-dev/illico/internal/inventory"
	"github.com/illico-dev/illico/internal/plan"
)

// Store keeps rollouts and the leases their hosts hold; *store.Store is
// one.
type Store interface {
	CreateRollout(ctx context.Context, r *fleet.Rollout) error
	UpdateRollout(ctx context.Context, r *fleet.Rollout) error
	SaveHostRun(ctx context.Context, rolloutID string, h fleet.HostRun) error
	UnfinishedRollouts(ctx context.Context) ([]*fleet.Rollout, error)
	Rollout(ctx context.Context, id string) (*fleet.Rollout, error)
	Rollouts(ctx context.Context, limit int) ([]*fleet.Rollout, error)
	// The disruption ledger (see fleet.Lease).
	GrantLease(ctx context.Context, l fleet.Lease, admit func(held []fleet.Lease) error) (fleet.Lease, error)
	ReleaseLease(ctx context.Context, host string, kind fleet.LeaseKind, holder string) error
	Leases(ctx context.Context) ([]fleet.Lease, error)
}

// Options wire an Engine to the world.
type Options struct {
	Store     Store
	Remote    Remote
	Balancer  func(name string) Balancer
	Health    Health
	Inventory func() *fleet.Inventory
	// Down returns the hosts among hosts that are down for reasons of their
	// own, with the reason; the budgets count them.
	Down func(ctx context.Context, hosts []*fleet.Host) map[string]string
	// Event records an event; it must not block for long.
	Event  func(ctx context.Context, e Event)
	Logger *slog.Logger
	Now    func() time.Time
	// Poll is how often a rebooting host and a waiting gate are looked at.
	Poll time.Duration
	// Tick is how often a rollout looks at the fleet's health again when
	// nothing else happens.
	Tick time.Duration
}

// Engine runs the daemon's rollouts.
type Engine struct {
	opts Options
	ctx  context.Context // the daemon's lifetime, set by Run
	// resumed is closed once Run has resumed the unfinished rollouts: a new
	// rollout waits for it, or it could overlap one being resumed.
	resumed chan struct{}

	// notices takes the notices of Alertmanager one at a time (OnAlerts).
	notices sync.Mutex

	mu sync.Mutex
	// loaded says that Load read the unfinished rollouts, to resume.
	loaded     bool
	unfinished []*fleet.Rollout
	runs       map[string]*run
	wg         sync.WaitGroup
}

// NewEngine returns an engine; Load, then Run give it its lifetime.
func NewEngine(opts Options) *Engine {
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Poll == 0 {
		opts.Poll = 250 * time.Millisecond
	}
	if opts.Tick == 0 {
		opts.Tick = time.Second
	}
	return &Engine{opts: opts, runs: map[string]*run{}, resumed: make(chan struct{})}
}

// Load reads the unfinished rollouts for Run to resume, each plan parsed
// once, and returns the hosts they hold inside a maintenance: the alerts
// must know those before any probe runs, or a host rebooting on plan when
// the daemon restarted would page. Run loads them itself when Load was not
// called before.
func (e *Engine) Load(ctx context.Context) ([]Maintained, error) {
	list, err := e.opts.Store.UnfinishedRollouts(ctx)
	if err != nil {
		return nil, fmt.Errorf("load unfinished rollouts: %w", err)
	}
	var unfinished []*fleet.Rollout
	var in []Maintained
	for _, r := range list {
		p, err := plan.Parse(r.PlanFile, []byte(r.PlanSource))
		if err != nil {
			e.opts.Logger.Error("cannot resume rollout: its plan no longer parses", "rollout", r.ID, "err", err)
			continue
		}
		r.Plan = p
		unfinished = append(unfinished, r)
		in = append(in, maintained(r)...)
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	e.loaded, e.unfinished = true, unfinished
	return in, nil
}

// Run resumes every unfinished rollout and runs until ctx ends; then it
// waits for the rollouts' goroutines, which leave every host run where it
// stands, for the next start to resume.
func (e *Engine) Run(ctx context.Context) error {
	e.mu.Lock()
	e.ctx = ctx
	loaded := e.loaded
	e.mu.Unlock()
	if !loaded {
		if _, err := e.Load(ctx); err != nil {
			return err
		}
	}
	e.mu.Lock()
	unfinished := e.unfinished
	e.unfinished = nil
	e.mu.Unlock()
	if err := e.recoverLeases(ctx, unfinished); err != nil {
		// The leases stay held: they keep their hosts' partners in, which
		// is safe, until a start of the daemon can read the ledger.
		e.opts.Logger.Error("cannot recover the leases of ended rollouts", "err", err)
	}
	for _, r := range unfinished {
		e.opts.Logger.Info("resuming rollout", "rollout", r.ID, "state", r.State)
		e.emit(ctx, Event{Rollout: r.ID, Kind: KindResumed, Message: fmt.Sprintf("rollout %s resumed after a restart of the daemon, %s", r.ID, r.State)})
		e.launch(r)
	}
	close(e.resumed)
	<-ctx.Done()
	e.wg.Wait()
	return nil
}

// recoverLeases ends the leases that rollouts which will not run again
// left behind (a daemon killed between a host's end and the release of
// its lease): those of a rollout the store no longer has, and those of an
// ended rollout's hosts back in service. A stuck host keeps its lease,
// until a human releases it. Unfinished rollouts mend their own as they
// resume.
func (e *Engine) recoverLeases(ctx context.Context, unfinished []*fleet.Rollout) error {
	held, err := e.opts.Store.Leases(ctx)
	if err != nil {
		return err
	}
	running := map[string]bool{}
	for _, r := range unfinished {
		running[r.ID] = true
	}
	seen := map[string]bool{}
	for _, l := range held {
		if l.Kind != fleet.LeaseRollout || running[l.Holder] || seen[l.Holder] {
			continue
		}
		seen[l.Holder] = true
		r, err := e.opts.Store.Rollout(ctx, l.Holder)
		if fleet.KindOf(err) == fleet.KindNotFound {
			r, err = &fleet.Rollout{ID: l.Holder}, nil
		}
		if err != nil {
			return err
		}
		if err := releaseStale(ctx, e.opts.Store, r, held); err != nil {
			return err
		}
	}
	return nil
}

// ready reports whether Run has resumed the unfinished rollouts and takes
// new ones.
func (e *Engine) ready() bool {
	select {
	case <-e.resumed:
		return true
	default:
		return false
	}
}

// StartRequest asks for a rollout.
type StartRequest struct {
	PlanFile   string
	PlanSource string
	Selector   string
	Urgent     bool
}

// request is a StartRequest read against the inventory in force.
type request struct {
	plan            *fleet.Plan
	inv             *fleet.Inventory
	hosts, canaries []*fleet.Host
}

func (e *Engine) prepare(req StartRequest) (*request, error) {
	p, err := plan.Parse(req.PlanFile, []byte(req.PlanSource))
	if err != nil {
		return nil, &fleet.Error{Kind: fleet.KindInvalid, Msg: "the plan has problems", Err: err}
	}
	inv := e.opts.Inventory()
	hosts, err := inventory.Select(inv, req.Selector)
	if err != nil {
		return nil, &fleet.Error{Kind: fleet.KindInvalid, Msg: "select hosts", Err: err}
	}
	if len(hosts) == 0 {
		return nil, fleet.Errorf(fleet.KindInvalid, "the selection %q holds no host", req.Selector)
	}
	var canaries []*fleet.Host
	if p.Strategy.CanaryHosts != "" {
		canaries, err = inventory.Select(inv, p.Strategy.CanaryHosts)
		if err != nil {
			return nil, &fleet.Error{Kind: fleet.KindInvalid, Msg: "select canary hosts", Err: err}
		}
	}
	return &request{plan: p, inv: inv, hosts: hosts, canaries: canaries}, nil
}

// Preview says what a rollout would do on the fleet as it stands now, its
// down hosts counted, and starts nothing.
func (e *Engine) Preview(ctx context.Context, req StartRequest) (*fleet.Plan, Preview, error) {
	r, err := e.prepare(req)
	if err != nil {
		return nil, Preview{}, err
	}
	var down map[string]string
	if e.opts.Down != nil {
		names := make([]string, len(r.hosts))
		for i, h := range r.hosts {
			names[i] = h.Name
		}
		down = e.opts.Down(ctx, topologyHosts(r.inv, NewTopology(r.inv, names), names))
	}
	return r.plan, NewPreview(r.inv, r.plan, r.hosts, r.canaries, down), nil
}

// Start creates a rollout and starts it.
func (e *Engine) Start(ctx context.Context, req StartRequest) (*fleet.Rollout, error) {
	prep, err := e.prepare(req)
	if err != nil {
		return nil, err
	}
	p := prep.plan
	now := e.opts.Now().UTC()
	r := &fleet.Rollout{
		ID: newID(now), Plan: p, PlanName: p.Name, PlanSource: req.PlanSource, PlanFile: req.PlanFile,
		Selector: req.Selector, Urgent: req.Urgent, State: fleet.RolloutRunning,
		Reason: "started", CreatedAt: now, UpdatedAt: now,
		Hosts: Schedule(prep.inv, p.Strategy, prep.hosts, prep.canaries),
	}
	select {
	case <-e.resumed:
	case <-ctx.Done():
		return nil, fleet.Errorf(fleet.KindUnavailable, "the daemon is still resuming its rollouts; try again in a moment")
	}
	ru, err := e.create(ctx, r)
	if err != nil {
		return nil, err
	}
	e.emit(ctx, Event{Rollout: r.ID, Kind: KindCreated, Message: fmt.Sprintf("rollout %s of %q started on %d hosts%s", r.ID, p.Name, len(r.Hosts), urgentNote(req.Urgent))})
	// The copy is taken before the rollout's loop owns r.
	started := snapshot(r)
	e.start(ru)
	return started, nil
}

// create records r and holds its hosts, unless another rollout holds one
// of them: the check and the record are one step under e.mu.
func (e *Engine) create(ctx context.Context, r *fleet.Rollout) (*run, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.ctx.Err() != nil {
		return nil, fleet.Errorf(fleet.KindUnavailable, "the daemon is stopping")
	}
	for _, other := range e.runs {
		if busy := other.overlap(r); busy != "" {
			return nil, fleet.Errorf(fleet.KindConflict, "rollout %s is still running on %s; wait for it, or abort it", other.id, busy)
		}
	}
	if err := e.opts.Store.CreateRollout(ctx, r); err != nil {
		return nil, fmt.Errorf("record the rollout: %w", err)
	}
	return e.addLocked(r), nil
}

func urgentNote(urgent bool) string {
	if urgent {
		return " (urgent: the maintenance window is ignored, never the budgets)"
	}
	return ""
}

func newID(now time.Time) string {
	b := make([]byte, 3)
	_, _ = rand.Read(b)
	return now.Format("20060102-150405") + "-" + hex.EncodeToString(b)
}

// Progress is a rollout as the operator sees it now.
type Progress struct {
	*fleet.Rollout
	// ETA is how much longer the rollout should take; Finishes is false
	// when it cannot finish as the fleet stands (hosts wait on budgets
	// nothing will free). Both are zero once it ended.
	ETA      time.Duration
	Finishes bool
	// PerHost is the time a host takes in maintenance: measured on the
	// hosts done so far, guessed from the steps before.
	PerHost time.Duration
	// Guessed says that no host is done yet: PerHost, and so the ETA, come
	// from the plan's steps, not from this fleet.
	Guessed bool
	// Waiting says why each waiting host waits.
	Waiting map[string]string
	// Width is how many hosts the rollout takes at once now, at most
	// MaxParallel, and WidthWhy says why (see pace); Held names what its
	// customers see that holds it, when it does.
	Width, MaxParallel int
	WidthWhy, Held     string
}

// Progress returns a rollout with its ETA: a running one from the engine,
// an ended one from the store.
func (e *Engine) Progress(ctx context.Context, id string) (Progress, error) {
	e.mu.Lock()
	ru := e.runs[id]
	e.mu.Unlock()
	if ru == nil {
		r, err := e.opts.Store.Rollout(ctx, id)
		if err != nil {
			return Progress{}, err
		}
		return Progress{Rollout: r, Finishes: true}, nil
	}
	ru.mu.Lock()
	r := snapshot(ru.r)
	pr := Progress{Rollout: r, Waiting: maps.Clone(ru.waiting), PerHost: GuessPerHost(r.Plan.Steps),
		Width: ru.pace.width, MaxParallel: ru.pace.max, WidthWhy: ru.pace.why, Held: ru.customers.held}
	ru.mu.Unlock()
	now := e.opts.Now()
	var total time.Duration
	var n int
	elapsed := map[string]time.Duration{}
	for _, h := range r.Hosts {
		switch {
		case h.State == fleet.HostDone && !h.EndedAt.IsZero():
			total += h.EndedAt.Sub(h.StartedAt)
			n++
		case h.State.Active():
			elapsed[h.Host] = now.Sub(h.StartedAt)
		}
	}
	if n > 0 {
		pr.PerHost = total / time.Duration(n)
	} else {
		pr.Guessed = true
	}
	names := make([]string, len(r.Hosts))
	for i, h := range r.Hosts {
		names[i] = h.Host
	}
	inv := e.opts.Inventory()
	in := newInput(r.Plan, r.State, r.Hosts, ru.lastDown())
	pr.ETA, pr.Finishes = Estimate(NewTopology(inv, names), in, pr.PerHost, elapsed)
	return pr, nil
}

// List returns the most recent rollouts, the running ones as the engine
// knows them.
func (e *Engine) List(ctx context.Context, limit int) ([]*fleet.Rollout, error) {
	list, err := e.opts.Store.Rollouts(ctx, limit)
	if err != nil {
		return nil, err
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	for i, r := range list {
		if ru := e.runs[r.ID]; ru != nil {
			ru.mu.Lock()
			list[i] = snapshot(ru.r)
			ru.mu.Unlock()
		}
	}
	return list, nil
}

// Command is an operator's order to a running rollout.
type Command string

const (
	Pause  Command = "pause"
	Resume Command = "resume"
	Abort  Command = "abort"
)

// Order sends a command to a running rollout; by says who asks ("an
// operator", "alert HighLoad"), for the rollout's reason and events. A
// daemon that has just started, or has just taken the lead, resumes its
// unfinished rollouts first: an order sent meanwhile waits for that, so
// that it reaches the rollout rather than being told it does not run.
func (e *Engine) Order(ctx context.Context, id string, c Command, by string) error {
	select {
	case <-e.resumed:
	case <-ctx.Done():
		return fleet.Errorf(fleet.KindUnavailable, "the daemon is still resuming its rollouts; try again in a moment")
	}
	_, err := e.command(id, order{c: c, by: by})
	return err
}

// command sends o to a running rollout. An order of the alerts is waited
// for: applied says whether the rollout took it (see run.order).
func (e *Engine) command(id string, o order) (applied bool, err error) {
	e.mu.Lock()
	r := e.runs[id]
	e.mu.Unlock()
	if r == nil {
		return false, fleet.Errorf(fleet.KindNotFound, "no running rollout %s", id)
	}
	r.mu.Lock()
	state := r.r.State
	r.mu.Unlock()
	switch c := o.c; {
	case c == Pause && state != fleet.RolloutRunning,
		c == Resume && state != fleet.RolloutPaused,
		c == Abort && (state == fleet.RolloutAborting || state.Ended()):
		return false, fleet.Errorf(fleet.KindConflict, "rollout %s is %s; it cannot %s", id, state, c)
	}
	if o.alerts {
		o.applied = make(chan bool, 1)
	}
	select {
	case r.commands <- o:
	case <-r.done:
		return false, fleet.Errorf(fleet.KindConflict, "rollout %s has ended", id)
	}
	if o.applied == nil {
		return true, nil
	}
	select {
	case applied = <-o.applied:
		return applied, nil
	case <-r.done:
		return false, fleet.Errorf(fleet.KindConflict, "rollout %s has ended", id)
	}
}

func (e *Engine) launch(r *fleet.Rollout) {
	e.mu.Lock()
	ru := e.addLocked(r)
	e.mu.Unlock()
	e.start(ru)
}

// addLocked makes r one of the engine's runs; e.mu is held. start runs it.
func (e *Engine) addLocked(r *fleet.Rollout) *run {
	ru := &run{
		runDeps: runDeps{Options: e.opts, emit: e.emit, spawn: e.wg.Go},
		id:      r.ID, plan: r.Plan, r: r,
		commands: make(chan order), results: make(chan fleet.HostRun, 2*len(r.Hosts)+1), done: make(chan struct{}),
		waiting:   map[string]string{},
		pace:      newPace(MaxParallel(r.Plan.Strategy, len(r.Hosts)), r.Plan.Strategy.CustomerErrors.Window),
		customers: newCustomers(r.Plan.Strategy.CustomerErrors),
	}
	e.runs[r.ID] = ru
	return ru
}

// start runs ru's loop until the daemon stops or the rollout ends.
func (e *Engine) start(ru *run) {
	e.wg.Go(func() {
		ru.loop(e.ctx)
		close(ru.done)
		e.mu.Lock()
		delete(e.runs, ru.id)
		e.mu.Unlock()
	})
}

// emit records an event; no run's lock is held, as the consumers may ask
// the engine about the rollout.
func (e *Engine) emit(ctx context.Context, ev Event) {
	e.opts.Logger.Info(ev.Message, "rollout", ev.Rollout, "kind", ev.Kind)
	if e.opts.Event != nil {
		e.opts.Event(ctx, ev)
	}
}

func snapshot(r *fleet.Rollout) *fleet.Rollout {
	c := *r
	c.Hosts = slices.Clone(r.Hosts)
	return &c
}

// topologyHosts lists every host whose health counts for the rollout: the
// members of the groups its hosts belong to, and the hosts themselves.
func topologyHosts(inv *fleet.Inventory, top *Topology, names []string) []*fleet.Host {
	seen := map[string]bool{}
	var out []*fleet.Host
	add := func(n string) {
		if h := inv.Host(n); h != nil && !seen[n] {
			seen[n] = true
			out = append(out, h)
		}
	}
	for _, g := range top.Groups {
		for _, m := range g.Members {
			add(m)
		}
	}
	for _, n := range names {
		add(n)
	}
	return out
}
