// Package site is what customers reach on the daemon's public
// listener: the status page, with a bar per component drawn from the
// probes' history, and the subscriptions to it, whose subscribers are told
// every new incident or maintenance update.
//
// The page's components come from the inventory's groups that name one,
// the rollouts drive its maintenances (package statuspage/drive), and operators
// add updates by hand through the daemon's API, which calls the methods of
// Site. Its status lives in the store (page.Stored): a restart
// forgets nothing, and daemons sharing a database show one page.
package site

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"sync"
	"time"

	"github.com/illico-dev/illico/internal/clientip"
	"github.com/illico-dev/illico/internal/fleet"
	"github.com/illico-dev/illico/internal/probe"
	"github.com/illico-dev/illico/internal/statuspage/page"
	"github.com/illico-dev/illico/internal/store"
)

// Options configure a Site. Every field is required but Subscribers.
type Options struct {
	Store *store.Store
	// Page is what the page says of itself: its name, URL, time zone and
	// default language.
	Page page.Page
	// Inventory is the inventory in force, whose groups name the page's
	// components.
	Inventory func() *fleet.Inventory
	// Subscribers lets customers subscribe to the page; nil for no
	// subscriptions.
	Subscribers *SubscriberOptions
	// Runs is the probes' runs, the components' bars are drawn from, and
	// Targets the probes in force.
	Runs    *probe.Memory
	Targets func() []*probe.Target
	// Health is what the probes say of each host; the components' statuses
	// are derived from it. Nil leaves the hosts' health to the rollouts.
	Health func() map[string]fleet.HostHealth
	// Proxies are the reverse proxies in front of the public listener
	// whose X-Forwarded-For names the client the limits count; none by
	// default.
	Proxies clientip.Trusted
	Logger  *slog.Logger
	Now     func() time.Time
}

// Site is the status page and its subscriptions.
type Site struct {
	log  *slog.Logger
	now  func() time.Time
	page page.Page
	// status is the page's; each change that adds updates tells subs,
	// which is nil without subscriptions.
	status *pageStatus
	subs   *subscriptions
	// history keeps the probes' runs in the store, for uptime, the bars.
	history *history
	uptime  *uptime
	health  func() map[string]fleet.HostHealth
	proxies clientip.Trusted
}

// New reads the page's status from the store and gives it the components
// of the inventory in force.
func New(o Options) (*Site, error) {
	s := &Site{log: o.Logger, now: o.Now, page: o.Page, health: o.Health, proxies: o.Proxies,
		history: newHistory(o.Runs, o.Store, o.Logger, o.Now),
		uptime:  &uptime{runs: o.Runs, targets: o.Targets, inventory: o.Inventory, now: o.Now}}
	if o.Subscribers != nil {
		var err error
		if s.subs, err = newSubscribers(*o.Subscribers, o.Store, o.Logger, o.Now); err != nil {
			return nil, err
		}
	}
	if err := s.openStatus(o.Store, o.Inventory()); err != nil {
		return nil, err
	}
	return s, nil
}

// HTTPServer serves the status page and the subscriptions, read-only and
// without a token.
func (s *Site) HTTPServer() (*http.Server, error) {
	h, err := page.Handler(page.Options{Page: s.page, Source: s.status, History: s.uptime, Now: s.now, Logger: s.log})
	if err != nil {
		return nil, fmt.Errorf("status page: %w", err)
	}
	if s.page.URL == "" {
		s.log.Warn("status page: no status_page.url in the config: the links of its feed and JSON are relative, which feed readers and widgets elsewhere may not follow; set it to the page's public address, like https://status.example.net")
	}
	mux := http.NewServeMux()
	mux.Handle("/", h)
	s.subscriptionRoutes(mux)
	return &http.Server{
		Handler:           mux,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       30 * time.Second,
		IdleTimeout:       2 * time.Minute,
		MaxHeaderBytes:    16 << 10,
		ErrorLog:          slog.NewLogLogger(s.log.Handler(), slog.LevelWarn),
	}, nil
}

// LoadHistory fills the probes' runs with their stored history, for the
// bars. Run it before the probes.
func (s *Site) LoadHistory(ctx context.Context) error { return s.history.load(ctx) }

// Run is the leader's part of the page, until ctx ends: it starts and
// ends the maintenances operators scheduled, takes the hosts' health from
// the probes and keeps the probes' runs in the store. Stop it after the
// probes and whatever else changes the page: the runs of the probes are
// saved a last time.
func (s *Site) Run(ctx context.Context) {
	var wg sync.WaitGroup
	wg.Go(func() { s.tick(ctx) })
	wg.Go(func() { s.history.run(ctx) })
	wg.Wait()
	s.history.save(context.WithoutCancel(ctx))
}

// Follow is every replica's part, leader or not, until ctx ends: the page
// reads the stored version every statusTick, so that the leader's changes
// show, and the subscribers are told: the confirmations of the
// subscriptions this replica took, and the notifications of the durable
// queue, which replicas claim in the store, so that none goes twice.
// While the store cannot be read, the page serves what it read last, and
// says it is stale after a while (page.Options.StaleAfter).
// Stop it after Run: what is left in the queue goes after a restart.
func (s *Site) Follow(ctx context.Context) {
	var wg sync.WaitGroup
	if s.subs != nil {
		wg.Go(func() { s.subs.run(ctx) })
	}
	tick := time.NewTicker(statusTick)
	defer tick.Stop()
	refresh := refreshLog{log: s.log}
	for {
		if err := s.status.Refresh(ctx); ctx.Err() == nil {
			refresh.report(err, s.now())
		}
		select {
		case <-ctx.Done():
			wg.Wait()
			return
		case <-tick.C:
		}
	}
}

// SetInventory gives the page the components of a reloaded inventory.
func (s *Site) SetInventory(ctx context.Context, inv *fleet.Inventory) error {
	return s.status.Update(ctx, func(st *fleet.Status) error {
		syncComponents(st, inv, s.now().UTC())
		return nil
	})
}

// Status is the page's status.
func (s *Site) Status(ctx context.Context) (fleet.Status, error) { return s.status.Status(ctx) }

// Update changes the page's status, and tells the subscribers the
// updates it adds.
func (s *Site) Update(ctx context.Context, change func(*fleet.Status) error) error {
	return s.status.Update(ctx, change)
}

// Notices write what the page says by itself, in every language.
func (s *Site) Notices() *page.Notices { return s.status.notices }

// refreshLog tells the log when the page's refresh starts failing and when
// it works again, not at every tick in between: while the database is
// away, every replica would say it every statusTick.
type refreshLog struct {
	log *slog.Logger
	// since is when the failures in a row began; zero while it works.
	since time.Time
}

func (r *refreshLog) report(err error, now time.Time) {
	switch {
	case err != nil && r.since.IsZero():
		r.since = now
		r.log.Error("status page: read its version; serving the page as last read until it can", "err", err)
	case err == nil && !r.since.IsZero():
		r.log.Info("status page: read its version again", "failed_for", now.Sub(r.since).Round(time.Second))
		r.since = time.Time{}
	}
}
