// Package server is illico's daemon, `illico serve`: the HTTP API over the
// store and the loaded inventory, with token authentication, Prometheus
// metrics and structured access logs, and the rollout engine that rolls
// plans through the fleet. It wires the fleet's probes and alerts (package
// monitor) and the public status page (package statuspage/site) to the engine
// and the API. A Server is a value: New builds it and listens, Run serves
// until its context ends, and a test can run the whole daemon in-process on
// 127.0.0.1:0.
package server

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/illico-dev/illico/internal/clientip"
	"github.com/illico-dev/illico/internal/dashboard"
	"github.com/illico-dev/illico/internal/fleet"
	"github.com/illico-dev/illico/internal/inventory"
	"github.com/illico-dev/illico/internal/lb"
	"github.com/illico-dev/illico/internal/monitor"
	"github.com/illico-dev/illico/internal/probe"
	"github.com/illico-dev/illico/internal/rollout"
	"github.com/illico-dev/illico/internal/sshx"
	"github.com/illico-dev/illico/internal/statuspage/drive"
	"github.com/illico-dev/illico/internal/statuspage/page"
	"github.com/illico-dev/illico/internal/statuspage/site"
	"github.com/illico-dev/illico/internal/store"
	"github.com/illico-dev/illico/internal/yamlx"
)

// Options configure a Server. Store is required; the rest have defaults.
type Options struct {
	Logger *slog.Logger
	// Now is the clock; time.Now by default.
	Now   func() time.Time
	Store *store.Store
	// Listen is the address to listen on, like 127.0.0.1:8080 (port 0
	// picks a free one).
	Listen string
	// Inventory is the inventory file; without it the daemon serves an
	// empty fleet.
	Inventory string
	// AdminTokenFile, if set, receives the first admin token (mode 0600).
	AdminTokenFile string
	// AdminTokenOut is where the first admin token is shown, once: the
	// daemon's stderr. It never goes to the log.
	AdminTokenOut io.Writer
	// Version, Commit and BuildDate are reported by illico_build_info.
	Version   string
	Commit    string
	BuildDate string
	// ShutdownTimeout bounds how long Run waits for requests in flight
	// once its context ends; 10s by default.
	ShutdownTimeout time.Duration
	// Getenv reads SSH_AUTH_SOCK for hosts that log in with the agent; nil
	// is an empty environment.
	Getenv func(string) string
	// HTTPClient runs the hosts' HTTP health checks; nil is a new client.
	HTTPClient *http.Client
	// PublicListen is where the public status page listens, read-only and
	// without a token; empty for no status page.
	PublicListen string
	// Alerts is the alerts file (docs/alerts.md); without it, alerts are
	// raised and listed but told to no receiver.
	Alerts string
	// ProbeInterval is how often each host's SSH probe and the checks
	// that set no interval run; probe.DefaultInterval when zero.
	ProbeInterval time.Duration
	// Subscribers, with a public listener, lets customers subscribe to the
	// status page by e-mail or webhook; nil for no subscriptions.
	Subscribers *site.SubscriberOptions
	// StatusPage is what the public status page says of itself: its name,
	// URL, time zone and default language.
	StatusPage page.Page
	// Advertise is the URL where the other replicas reach this one's API,
	// to forward to it while it leads; by default http:// and the address
	// it listens on.
	Advertise string
	// TrustedProxies are the reverse proxies in front of both listeners,
	// whose X-Forwarded-For names the client that the limits per client
	// count and the request log shows; none by default.
	TrustedProxies clientip.Trusted
}

// Server is the daemon.
type Server struct {
	log      *slog.Logger
	now      func() time.Time
	store    *store.Store
	invPath  string
	shutdown time.Duration
	// The first admin token goes to tokenOut and tokenFile.
	tokenOut  io.Writer
	tokenFile string
	ln        net.Listener
	http      *http.Server
	metrics   *metrics
	proxies   clientip.Trusted

	inv      atomic.Pointer[loaded]
	reloadMu sync.Mutex

	engine    *rollout.Engine
	pool      *sshx.Pool
	balancers *lb.Set
	// events wakes the rollout event streams when an event is recorded;
	// stopping is closed when the HTTP server begins to shut down, to end
	// them.
	events   *hub
	stopping chan struct{}

	// site is the public status page and its subscriptions; driver keeps
	// it in step with the rollouts. public serves it on publicLn, when
	// there is one.
	site     *site.Site
	driver   *drive.Driver
	publicLn net.Listener
	public   *http.Server

	// monitor probes the fleet and alerts, muted while rollouts take
	// hosts down on purpose.
	monitor *monitor.Monitor

	// lead is this replica's part in the leader election: the leader
	// alone runs the engine, the monitor and the page's driver; every
	// replica serves, and forwards to the leader what only it can answer.
	lead *leadership
	// leaderStore is the store as the leader's work writes to it: fenced
	// by its epoch (store.Fenced).
	leaderStore *store.Store
	// proxies to the leader, by its address.
	leaderProxies sync.Map
}

// loaded is an inventory and when it was read.
type loaded struct {
	inv *fleet.Inventory
	at  time.Time
}

// New loads the inventory and listens; Run serves.
func New(opts Options) (*Server, error) {
	if opts.Store == nil {
		return nil, errors.New("server: a store is required")
	}
	s := &Server{
		log:       opts.Logger,
		now:       opts.Now,
		store:     opts.Store,
		invPath:   opts.Inventory,
		shutdown:  opts.ShutdownTimeout,
		tokenOut:  opts.AdminTokenOut,
		tokenFile: opts.AdminTokenFile,
		proxies:   opts.TrustedProxies,
	}
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	if s.now == nil {
		s.now = time.Now
	}
	if s.shutdown <= 0 {
		s.shutdown = 10 * time.Second
	}
	var err error
	inv := &fleet.Inventory{}
	if s.invPath != "" {
		if inv, err = inventory.Load(s.invPath); err != nil {
			return nil, refused(s.invPath, err)
		}
	}
	s.inv.Store(&loaded{inv: inv, at: s.now()})
	alertsCfg, err := loadAlerts(opts.Alerts)
	if err != nil {
		return nil, err
	}
	if s.metrics, err = newMetrics(buildInfo{version: opts.Version, commit: opts.Commit, date: opts.BuildDate}, s.inventory, s.rolloutStates); err != nil {
		return nil, err
	}

	if err := CheckListen(opts.Listen); err != nil {
		return nil, fleet.Errorf(fleet.KindInvalid, "%v", err)
	}
	ln, err := net.Listen("tcp", opts.Listen)
	if err != nil {
		return nil, fleet.Errorf(fleet.KindUnavailable, "listen on %s: %v", opts.Listen, err)
	}
	s.ln = ln
	advertise := opts.Advertise
	if advertise == "" {
		advertise = "http://" + ln.Addr().String()
	}
	s.lead = newLeadership(s.store, advertise, s.log, s.metrics.leadershipChanged)
	// The leader's work writes through a fenced view of the store: a
	// replica that lost the leadership writes nothing more.
	s.leaderStore = s.store.Fenced(s.lead.currentEpoch)
	s.pool = sshx.NewPool(sshx.Options{Getenv: opts.Getenv, Logger: s.log})
	s.balancers = &lb.Set{}
	httpClient := opts.HTTPClient
	if httpClient == nil {
		httpClient = &http.Client{}
	}
	interval := opts.ProbeInterval
	if interval <= 0 {
		interval = probe.DefaultInterval
	}
	// The probes' runs, kept for the status page's bars: only the daily
	// buckets are read, so one raw record per probe is enough.
	runs := probe.NewMemory(1)
	s.monitor = monitor.New(monitor.Options{
		Alerts: alertsCfg, Inventory: s.inventory, Store: s.leaderStore,
		Probe: s.lead.guardProbe(probe.NewProber(httpClient, s.pool, s.now).Probe), Interval: interval, Recorder: runs,
		Client: httpClient, Acting: s.lead.acting, Delivered: s.metrics.delivered, Logger: s.log, Now: s.now,
	})
	if err := s.metrics.registerHealth(s.monitor.Counts, s.monitor.Firing); err != nil {
		ln.Close()
		return nil, err
	}
	var subs *site.SubscriberOptions
	if opts.PublicListen != "" {
		subs = opts.Subscribers
	}
	// After the monitor: the page looks its probes up when asked.
	s.site, err = site.New(site.Options{Store: s.store, Page: opts.StatusPage, Inventory: s.inventory, Subscribers: subs,
		Runs: runs, Targets: s.monitor.Targets, Health: s.monitor.HostHealth, Proxies: s.proxies, Logger: s.log, Now: s.now})
	if err != nil {
		ln.Close()
		return nil, err
	}
	if err := s.listenPublic(opts.PublicListen); err != nil {
		ln.Close()
		return nil, err
	}
	s.engine = rollout.NewEngine(rollout.Options{
		Store:     s.leaderStore,
		Remote:    guardedRemote{s.pool, s.lead},
		Balancer:  func(name string) rollout.Balancer { return guardedBalancer{s.balancer(name), s.lead} },
		Health:    s.monitor.Health(),
		Inventory: s.inventory,
		Down:      s.down,
		// The driver is made next, for it reads the engine: the engine
		// tells events only once it runs, after New.
		Event:  s.onEvent,
		Logger: s.log,
		Now:    s.now,
	})
	s.driver = drive.New(drive.Options{
		Progress: s.engine.Progress, Update: s.site.Update, Status: s.site.Status, Notices: s.site.Notices(), Now: s.now, Logger: s.log,
	})
	s.events, s.stopping = newHub(), make(chan struct{})
	handler, err := s.routes(func(api http.Handler) (http.Handler, error) {
		return dashboard.New(dashboard.Options{Auth: s.store, Now: s.now, Logger: s.log, As: asPrincipal, Proxies: s.proxies, API: api})
	})
	if err != nil {
		s.closeListeners()
		return nil, err
	}
	s.http = &http.Server{
		Handler:           handler,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       time.Minute,
		IdleTimeout:       2 * time.Minute,
		MaxHeaderBytes:    64 << 10,
		ErrorLog:          slog.NewLogLogger(s.log.Handler(), slog.LevelWarn),
	}
	s.http.RegisterOnShutdown(func() { close(s.stopping) })
	return s, nil
}

// onEvent is the engine's Event func: the event is recorded, then the
// status page looks at the rollout again. An event of a replica that
// another one has taken over from goes nowhere: the new leader resumed
// the rollout and tells what happens in it.
func (s *Server) onEvent(ctx context.Context, ev rollout.Event) {
	if !s.recordEvent(ctx, ev) {
		return
	}
	s.monitor.RolloutEvent(ctx, ev)
	s.driver.Notify(ev)
}

// listenPublic listens for the status page on addr, if set.
func (s *Server) listenPublic(addr string) error {
	if addr == "" {
		return nil
	}
	if err := CheckListen(addr); err != nil {
		return fleet.Errorf(fleet.KindInvalid, "public listen: %v", err)
	}
	var err error
	if s.public, err = s.site.HTTPServer(); err != nil {
		return err
	}
	if s.publicLn, err = net.Listen("tcp", addr); err != nil {
		return fleet.Errorf(fleet.KindUnavailable, "listen for the status page on %s: %v", addr, err)
	}
	return nil
}

func (s *Server) closeListeners() {
	s.ln.Close()
	if s.publicLn != nil {
		s.publicLn.Close()
	}
}

// PublicAddr is the address the status page listens on; empty when it
// does not.
func (s *Server) PublicAddr() string {
	if s.publicLn == nil {
		return ""
	}
	return s.publicLn.Addr().String()
}

// Addr is the address the server listens on.
func (s *Server) Addr() string { return s.ln.Addr().String() }

// Run starts the daemon's components in order (see components): it creates
// the first admin token if the store has no token yet, restores the alerts,
// resumes the unfinished rollouts, then serves until ctx ends or a component
// fails. Then it stops them in the reverse order: it stops taking requests,
// waits for those in flight (at most the shutdown timeout) and for the
// rollouts to leave every host where it stands.
func (s *Server) Run(ctx context.Context) error {
	parts := newComponents(s.log, s.components())
	if err := parts.start(ctx); err != nil {
		return err
	}
	var failed error
	select {
	case failed = <-parts.failed():
	case <-ctx.Done():
	}
	s.log.Info("shutting down", "timeout", s.shutdown)
	return errors.Join(failed, parts.stop(context.WithoutCancel(ctx)))
}

// components is the daemon, in the order its parts start; they stop in the
// reverse order. A part may use those above it for as long as it runs.
func (s *Server) components() []component {
	// The leader's work, and whether it started before the API opened.
	lead, started := s.leaderWork(), false
	list := []component{
		// Closed last, once nothing reaches the hosts any more.
		{name: "ssh pool", stop: func(context.Context) error { s.pool.Close(); return nil }},
		// Whatever stops the daemon, even a part that fails to start,
		// frees its ports.
		{name: "listeners", stop: func(context.Context) error { s.closeListeners(); return nil }},
		// Here rather than in New, once listening worked: a daemon that
		// cannot start must not use up the one showing of the admin token.
		{name: "first admin token", start: func(ctx context.Context) error {
			return s.firstToken(ctx, s.tokenFile, s.tokenOut)
		}},
		// Every replica's page shows what the leader changes, and every
		// replica tells the subscribers (the queue is claimed in the
		// store: no notification goes twice).
		{name: "status page", start: func(ctx context.Context) error {
			if err := s.site.LoadHistory(ctx); err != nil {
				s.log.Error("the status page's bars start without their history", "err", err)
			}
			return nil
		}, run: func(ctx context.Context) error { s.site.Follow(ctx); return nil }},
	}
	if s.public != nil {
		// Customers see the page until the rollouts and the probes have
		// stopped. A page that stops serving does not stop the daemon.
		list = append(list, component{name: "public listener", start: func(context.Context) error {
			s.log.Info("status page on http://" + s.PublicAddr())
			return nil
		}, run: func(ctx context.Context) error {
			if err := s.public.Serve(s.publicLn); !errors.Is(err, http.ErrServerClosed) {
				s.log.Error("the status page stopped serving", "err", err)
			}
			<-ctx.Done()
			return nil
		}, stop: func(ctx context.Context) error {
			ctx, cancel := context.WithTimeout(ctx, s.shutdown)
			defer cancel()
			if err := s.public.Shutdown(ctx); err != nil {
				s.public.Close()
			}
			return nil
		}})
	}
	return append(list,
		// One round of the election before the API opens: a lone daemon
		// leads from its first request, its work started (the rollouts to
		// resume read, the alerts and silences restored). Then the
		// leader's work runs for as long as this replica leads, and the
		// daemon stops when it stops leading (see leadership.run).
		component{name: "leadership", start: func(ctx context.Context) error {
			if !s.lead.campaign(ctx) {
				return nil
			}
			started = true
			return lead.start(ctx)
		}, run: func(ctx context.Context) error { return s.lead.run(ctx, lead, started) }},
		// The API last: it takes requests once the rest runs, and stops
		// taking them first, its event streams ended (s.stopping) and the
		// requests in flight given the shutdown timeout. A replica that
		// does not lead forwards them to the one that does.
		component{name: "api", start: func(context.Context) error {
			// Said once the admin token exists, so that whoever waits for
			// this line finds the token file written.
			s.log.Info("illico serving on http://"+s.Addr(), "database", s.store.Dialect(), "inventory", s.invPath,
				"replica", s.lead.replica.ID, "leads", s.lead.leads())
			return nil
		}, run: func(context.Context) error {
			if err := s.http.Serve(s.ln); !errors.Is(err, http.ErrServerClosed) {
				return fmt.Errorf("serve: %w", err)
			}
			return nil
		}, stop: func(ctx context.Context) error {
			ctx, cancel := context.WithTimeout(ctx, s.shutdown)
			defer cancel()
			if err := s.http.Shutdown(ctx); err != nil {
				s.http.Close()
				return fmt.Errorf("shut down: requests still running after %s were cut off", s.shutdown)
			}
			return nil
		}},
	)
}

// leaderWork is what the leader alone runs, in the order its parts start
// and the reverse of their stops, until the context of its run ends (the
// daemon stops, or this replica may not lead any more).
func (s *Server) leaderWork() work {
	parts := newComponents(s.log, []component{
		// Before the rollouts and the probes: a silence or a maintenance
		// forgotten would page. The engine reads the rollouts it resumes,
		// each plan once, and says which hosts they hold in maintenance.
		{name: "alerts restored", start: func(ctx context.Context) error {
			in, err := s.engine.Load(ctx)
			if err != nil {
				return err
			}
			return s.monitor.Restore(ctx, in)
		}},
		// The page's own work outlives the driver, the last to change the
		// page, and the probes, whose runs it keeps.
		{name: "status page's work", run: func(ctx context.Context) error { s.site.Run(ctx); return nil }},
		// The driver outlives the engine, for the last events of the
		// rollouts.
		{name: "status page driver", run: s.driver.Run},
		// The probes and the alerts run beside the engine and stop after
		// it: its gate reads them, and its last events end maintenances.
		{name: "monitor", run: func(ctx context.Context) error { s.monitor.Run(ctx); return nil }},
		// The maintenances scheduled with hosts take them out through the
		// engine's ledger, beside its rollouts.
		{name: "maintenances' hosts", run: func(ctx context.Context) error { s.keepWindows(ctx); return nil }},
		// The engine read the rollouts to resume in "alerts restored"; should
		// it still return early, a daemon that cannot run rollouts must not
		// pretend.
		{name: "rollout engine", run: func(ctx context.Context) error {
			if err := s.engine.Run(ctx); err != nil {
				s.log.Error("cannot run rollouts; stopping", "err", err)
				return fmt.Errorf("rollouts: %w", err)
			}
			return nil
		}},
	})
	return work{start: parts.start, run: func(ctx context.Context) error {
		var failed error
		select {
		case failed = <-parts.failed():
		case <-ctx.Done():
		}
		return errors.Join(failed, parts.stop(context.WithoutCancel(ctx)))
	}}
}

// inventory is the inventory in force.
func (s *Server) inventory() *fleet.Inventory { return s.inv.Load().inv }

// reload re-reads the inventory file. A file with problems is refused and
// the inventory in force stays.
func (s *Server) reload() (*loaded, error) {
	s.reloadMu.Lock()
	defer s.reloadMu.Unlock()
	if s.invPath == "" {
		return nil, fleet.Errorf(fleet.KindConflict, "the daemon has no inventory file to reload: set inventory in its config file")
	}
	inv, err := inventory.Load(s.invPath)
	if err != nil {
		s.metrics.reloads.WithLabelValues("refused").Inc()
		return nil, refused(s.invPath, err)
	}
	l := &loaded{inv: inv, at: s.now()}
	s.inv.Store(l)
	if err := s.site.SetInventory(context.Background(), inv); err != nil {
		s.log.Error("status page: take the reloaded inventory's components", "err", err)
	}
	s.monitor.Reset(inv)
	s.metrics.reloads.WithLabelValues("ok").Inc()
	s.log.Info("inventory reloaded", "path", s.invPath, "hosts", len(inv.Hosts), "groups", len(inv.Groups))
	return l, nil
}

// refused says why an inventory file cannot be used, every problem included.
func refused(path string, err error) error {
	var ps yamlx.Problems
	if errors.As(err, &ps) {
		return &fleet.Error{Kind: fleet.KindInvalid, Err: &problemsError{
			head: fmt.Sprintf("inventory %s refused, %d problem(s)", path, len(ps)), problems: ps}}
	}
	return &fleet.Error{Kind: fleet.KindInvalid, Msg: "inventory " + path, Err: err}
}

// problemsError puts each problem of a file on a line of its own, under a
// head line that says what was refused.
type problemsError struct {
	head     string
	problems yamlx.Problems
}

func (e *problemsError) Error() string { return e.head + ":\n" + e.problems.Error() }
func (e *problemsError) Unwrap() error { return e.problems }

// firstToken creates an admin token when the store has none, shows it once
// on out and writes it to file if set. The file is written inside the
// transaction, so a token that could not be saved is not kept either.
func (s *Server) firstToken(ctx context.Context, file string, out io.Writer) error {
	n, err := s.store.CountTokens(ctx)
	if err != nil {
		return fmt.Errorf("count tokens: %w", err)
	}
	if n > 0 {
		return nil
	}
	var tok fleet.Token
	var secret fleet.Secret
	err = s.store.Tx(ctx, func(tx *store.Tx) error {
		if tok, secret, err = tx.CreateToken(ctx, "admin", fleet.RoleAdmin); err != nil {
			return err
		}
		if _, err := tx.AppendEvent(ctx, store.Event{Kind: "token.created", Subject: tok.Name,
			Message: fmt.Sprintf("token %d (%s) created with role admin on first start", tok.ID, tok.Name)}); err != nil {
			return err
		}
		if file != "" {
			return writeSecret(file, secret)
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("create the first admin token: %w", err)
	}
	s.log.Info("created the first admin token", "id", tok.ID, "file", file)
	if out != nil {
		showToken(out, secret, file)
	}
	return nil
}

// writeSecret writes secret to path with mode 0600, whatever mode an older
// file had: a new file is renamed over it.
func writeSecret(path string, secret fleet.Secret) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), ".admin-token-*")
	if err != nil {
		return fleet.Errorf(fleet.KindInvalid, "write admin token file: %v", err)
	}
	defer os.Remove(tmp.Name())
	if err := tmp.Chmod(0o600); err != nil {
		tmp.Close()
		return fmt.Errorf("write admin token file: %w", err)
	}
	if _, err := tmp.WriteString(secret.Reveal() + "\n"); err != nil {
		tmp.Close()
		return fmt.Errorf("write admin token file: %w", err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("write admin token file: %w", err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return fleet.Errorf(fleet.KindInvalid, "write admin token file: %v", err)
	}
	return nil
}

func showToken(w io.Writer, secret fleet.Secret, file string) {
	lines := []string{
		"illico: admin token (shown once):",
		"",
		"  " + secret.Reveal(),
		"",
		"Keep it in a password manager. Use it as ILLICO_TOKEN, and",
		"create narrower tokens with: illico token create NAME --role reader",
	}
	if file != "" {
		lines = append(lines, "It is also in "+file+" (mode 0600).")
	}
	width := 0
	for _, l := range lines {
		width = max(width, len(l))
	}
	border := "+" + strings.Repeat("-", width+2) + "+"
	fmt.Fprintln(w, border)
	for _, l := range lines {
		fmt.Fprintf(w, "| %-*s |\n", width, l)
	}
	fmt.Fprintln(w, border)
}
