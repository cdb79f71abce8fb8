package server

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/illico-dev/illico/internal/api"
	"github.com/illico-dev/illico/internal/fleet"
	"github.com/illico-dev/illico/internal/httpjson"
	"github.com/illico-dev/illico/internal/plan"
	"github.com/illico-dev/illico/internal/rollout"
	"github.com/illico-dev/illico/internal/store"
)

const (
	defaultRolloutLimit = 20
	maxRolloutLimit     = 1000
	// orderWait bounds how long an order's answer waits for the rollout to
	// take it, so that it can show the new state.
	orderWait = 2 * time.Second
)

// startRollout answers POST /api/v1/rollouts: a dry run's preview, or the
// rollout started.
func (s *Server) startRollout(w http.ResponseWriter, r *http.Request) error {
	var req api.StartRollout
	if err := httpjson.Decode(r, &req); err != nil {
		return err
	}
	if strings.TrimSpace(req.Plan) == "" {
		return fleet.Errorf(fleet.KindInvalid, "request body: plan is empty: send the YAML of the plan file")
	}
	file := req.PlanFile
	if file == "" {
		file = "plan.yaml"
	}
	sr := rollout.StartRequest{PlanFile: file, PlanSource: req.Plan, Selector: req.Selector, Urgent: req.Urgent}
	ctx := r.Context()
	if req.DryRun {
		p, pv, err := s.engine.Preview(ctx, sr)
		if err != nil {
			return err
		}
		httpjson.Write(w, http.StatusOK, apiPreview(p, pv))
		return nil
	}
	ro, err := s.engine.Start(ctx, sr)
	if err != nil {
		return err
	}
	by := info(ctx).actor()
	s.log.Info("rollout started", "request_id", requestID(ctx), "rollout", ro.ID, "plan", ro.Plan.Name, "hosts", len(ro.Hosts), "by", by)
	s.appendRolloutEvent(ctx, store.Event{Kind: string(rollout.KindOrder), Subject: ro.ID,
		Message: fmt.Sprintf("%s started rollout %s", by, ro.ID)}, eventData{})
	pr, err := s.engine.Progress(ctx, ro.ID)
	if err != nil {
		pr = rollout.Progress{Rollout: ro}
	}
	httpjson.Write(w, http.StatusCreated, apiRollout(pr, true))
	return nil
}

// listRollouts answers GET /api/v1/rollouts: the most recent first, without
// their hosts.
func (s *Server) listRollouts(w http.ResponseWriter, r *http.Request) error {
	limit, err := queryInt(r.URL.Query().Get("limit"), "limit", defaultRolloutLimit, maxRolloutLimit)
	if err != nil {
		return err
	}
	list, err := s.engine.List(r.Context(), int(limit))
	if err != nil {
		return s.storeErr("rollouts", err)
	}
	out := api.Rollouts{Rollouts: []api.Rollout{}}
	for _, ro := range list {
		out.Rollouts = append(out.Rollouts, apiRollout(rollout.Progress{Rollout: ro}, false))
	}
	httpjson.Write(w, http.StatusOK, out)
	return nil
}

// getRollout answers GET /api/v1/rollouts/{id}: the rollout, its hosts and
// its ETA.
func (s *Server) getRollout(w http.ResponseWriter, r *http.Request) error {
	pr, err := s.engine.Progress(r.Context(), r.PathValue("id"))
	if err != nil {
		return s.storeErr("rollout", err)
	}
	httpjson.Write(w, http.StatusOK, apiRollout(pr, true))
	return nil
}

// orderRollout answers POST /api/v1/rollouts/{id}/pause, resume and abort,
// with the rollout once it took the order.
func (s *Server) orderRollout(c rollout.Command) handler {
	return func(w http.ResponseWriter, r *http.Request) error {
		ctx, id := r.Context(), r.PathValue("id")
		before, err := s.engine.Progress(ctx, id)
		if err != nil {
			return s.storeErr("rollout", err)
		}
		by := info(ctx).actor()
		if err := s.engine.Order(ctx, id, c, "the operator of "+by); err != nil {
			if fleet.KindOf(err) != fleet.KindNotFound {
				return err
			}
			// The engine runs only the rollouts that have not ended.
			ro, err := s.store.Rollout(ctx, id)
			if err != nil {
				return s.storeErr("rollout", err)
			}
			return fleet.Errorf(fleet.KindConflict, "rollout %s is %s; it cannot %s", id, ro.State, c)
		}
		s.log.Info("rollout order", "request_id", requestID(ctx), "rollout", id, "order", c, "by", by)
		s.appendRolloutEvent(ctx, store.Event{Kind: string(rollout.KindOrder), Subject: id,
			Message: fmt.Sprintf("%s asked to %s rollout %s", by, c, id)}, eventData{})
		pr, err := s.awaitChange(ctx, id, before.State)
		if err != nil {
			return s.storeErr("rollout", err)
		}
		httpjson.Write(w, http.StatusOK, apiRollout(pr, true))
		return nil
	}
}

// awaitChange returns the rollout once its state is no longer from, or as
// it is after orderWait: the engine takes an order at its own pace.
func (s *Server) awaitChange(ctx context.Context, id string, from fleet.RolloutState) (rollout.Progress, error) {
	timer := time.NewTimer(orderWait)
	defer timer.Stop()
	for {
		// The engine says every change of state with an event.
		next := s.events.wait()
		pr, err := s.engine.Progress(ctx, id)
		if err != nil || pr.State != from {
			return pr, err
		}
		select {
		case <-next:
		case <-timer.C:
			return pr, nil
		case <-ctx.Done():
			return pr, ctx.Err()
		}
	}
}

func apiRollout(pr rollout.Progress, withHosts bool) api.Rollout {
	r := pr.Rollout
	p := r.Plan
	if p == nil && withHosts {
		// The engine holds the plans of the rollouts it runs; the store
		// keeps an ended one's source, read here for its step counts alone.
		// A source that no longer parses leaves them out.
		p, _ = plan.Parse(r.PlanFile, []byte(r.PlanSource))
	}
	out := api.Rollout{
		ID: r.ID, PlanFile: r.PlanFile, Plan: r.PlanName, State: string(r.State), Reason: r.Reason, Urgent: r.Urgent,
		Selector: r.Selector, Created: r.CreatedAt, Updated: r.UpdatedAt, Ended: httpjson.OptionalTime(r.EndedAt),
		Counts:     map[string]int{},
		ETASeconds: pr.ETA.Seconds(), Finishes: pr.Finishes, PerHostSeconds: pr.PerHost.Seconds(), PerHostGuessed: pr.Guessed,
		Waiting: pr.Waiting,
		Width:   pr.Width, MaxParallel: pr.MaxParallel, WidthReason: pr.WidthWhy, Held: pr.Held,
	}
	for state, n := range r.Counts() {
		out.Counts[string(state)] = n
	}
	if !withHosts {
		return out
	}
	out.Hosts = []api.RolloutHost{}
	for _, h := range r.Hosts {
		out.Hosts = append(out.Hosts, apiRolloutHost(p, h))
	}
	return out
}

// apiRolloutHost shows a host run with its step counted from 1 among the
// steps it is in: the plan's, or the rollback's once it rolls back.
func apiRolloutHost(p *fleet.Plan, h fleet.HostRun) api.RolloutHost {
	out := api.RolloutHost{
		Host: h.Host, State: string(h.State), Wave: h.Wave, Canary: h.Canary, Failed: h.Failed, Error: h.Error,
		Started: httpjson.OptionalTime(h.StartedAt), Ended: httpjson.OptionalTime(h.EndedAt),
	}
	if p != nil {
		out.Steps = len(p.Steps)
		switch h.State {
		case fleet.HostRollingBack, fleet.HostRolledBack, fleet.HostStuck:
			out.Steps = len(p.Rollback)
		}
	}
	switch h.State {
	case fleet.HostPending:
	case fleet.HostDone, fleet.HostRolledBack:
		out.Step = out.Steps
	default:
		out.Step = min(h.Step+1, out.Steps)
	}
	return out
}

func apiPreview(p *fleet.Plan, pv rollout.Preview) api.Preview {
	out := api.Preview{
		Plan: p.Name, Hosts: []api.PreviewHost{}, MaxParallel: pv.MaxParallel, MaxFailures: pv.MaxFailures,
		PerHostSeconds: pv.PerHost.Seconds(), EstimateSeconds: pv.Estimate.Seconds(), Finishes: pv.Finishes,
		Waiting: map[string]string{}, Groups: []api.Budget{},
	}
	for _, h := range pv.Hosts {
		out.Hosts = append(out.Hosts, api.PreviewHost{Host: h.Host, Wave: h.Wave, Canary: h.Canary})
	}
	for h, reason := range pv.Waiting {
		out.Waiting[h] = reason
	}
	for _, g := range pv.Groups {
		out.Groups = append(out.Groups, api.Budget{Name: g.Name, Members: append([]string{}, g.Members...), Allowed: g.Allowed})
	}
	return out
}

// balancer is the engine's way to a load balancer of the inventory in force.
func (s *Server) balancer(name string) rollout.Balancer {
	l := s.inventory().LoadBalancer(name)
	if l == nil {
		return missingBalancer(name)
	}
	return s.balancers.For(l)
}

// missingBalancer is a load balancer that a reload took out of the
// inventory while a rollout needed it.
type missingBalancer string

func (m missingBalancer) Drain(context.Context, string, string) error   { return m.err() }
func (m missingBalancer) Undrain(context.Context, string, string) error { return m.err() }
func (m missingBalancer) Traffic(context.Context) ([]fleet.Traffic, error) {
	return nil, m.err()
}

func (m missingBalancer) err() error {
	return fleet.Errorf(fleet.KindNotFound, "load balancer %q is no longer in the inventory", string(m))
}

// activeStates are the states of a rollout that has not ended.
var activeStates = []fleet.RolloutState{fleet.RolloutRunning, fleet.RolloutPaused, fleet.RolloutHalting, fleet.RolloutAborting}

// rolloutStates counts the rollouts that have not ended, by state.
func (s *Server) rolloutStates(ctx context.Context) (map[fleet.RolloutState]int, error) {
	list, err := s.store.UnfinishedRollouts(ctx)
	if err != nil {
		return nil, s.storeErr("unfinished_rollouts", err)
	}
	out := map[fleet.RolloutState]int{}
	for _, r := range list {
		out[r.State]++
	}
	return out, nil
}

// stateCollector reports illico_rollouts, the rollouts that have not ended
// by state, from the store at each scrape: the store, not this process,
// knows the rollouts a restart resumed.
type stateCollector struct {
	desc  *prometheus.Desc
	count func(context.Context) (map[fleet.RolloutState]int, error)
}

func newStateCollector(count func(context.Context) (map[fleet.RolloutState]int, error)) stateCollector {
	return stateCollector{
		desc:  prometheus.NewDesc("illico_rollouts", "Rollouts that have not ended, by state (running, paused, halting, aborting).", []string{"state"}, nil),
		count: count,
	}
}

func (c stateCollector) Describe(ch chan<- *prometheus.Desc) { ch <- c.desc }

func (c stateCollector) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	counts, err := c.count(ctx)
	if err != nil {
		ch <- prometheus.NewInvalidMetric(c.desc, err)
		return
	}
	for _, state := range activeStates {
		m, err := prometheus.NewConstMetric(c.desc, prometheus.GaugeValue, float64(counts[state]), string(state))
		if err != nil {
			m = prometheus.NewInvalidMetric(c.desc, err)
		}
		ch <- m
	}
}
