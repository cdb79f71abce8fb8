package server

import (
	"errors"
	"fmt"
	"net/http"
	"os"
	"strings"
	"time"

	"github.com/illico-dev/illico/internal/alert"
	"github.com/illico-dev/illico/internal/api"
	"github.com/illico-dev/illico/internal/fleet"
	"github.com/illico-dev/illico/internal/httpjson"
	"github.com/illico-dev/illico/internal/labels"
	"github.com/illico-dev/illico/internal/monitor"
	"github.com/illico-dev/illico/internal/rollout"
	"github.com/illico-dev/illico/internal/store"
	"github.com/illico-dev/illico/internal/yamlx"
)

// loadAlerts reads the alerts file at path; nil without one.
func loadAlerts(path string) (*alert.Config, error) {
	if path == "" {
		return nil, nil
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fleet.Errorf(fleet.KindInvalid, "read the alerts file: %v", err)
	}
	cfg, err := alert.Load(path, data)
	var ps yamlx.Problems
	if errors.As(err, &ps) {
		return nil, &fleet.Error{Kind: fleet.KindInvalid, Err: &problemsError{
			head: fmt.Sprintf("alerts file %s refused, %d problem(s)", path, len(ps)), problems: ps}}
	}
	if err != nil {
		return nil, fleet.Errorf(fleet.KindInvalid, "alerts file %s: %v", path, err)
	}
	return cfg, nil
}

// listProbes answers GET /api/v1/probes: every target with its state and
// last result.
func (s *Server) listProbes(w http.ResponseWriter, _ *http.Request) error {
	httpjson.Write(w, http.StatusOK, api.Probes{Probes: s.monitor.Probes()})
	return nil
}

// listAlerts answers GET /api/v1/alerts: firing alerts first, newest
// first, then those resolved in the last hour.
func (s *Server) listAlerts(w http.ResponseWriter, _ *http.Request) error {
	httpjson.Write(w, http.StatusOK, api.Alerts{Alerts: s.monitor.Alerts()})
	return nil
}

func apiSilence(sl alert.Silence, now time.Time) api.Silence {
	out := api.Silence{ID: sl.ID, Matchers: []string{}, Starts: sl.StartsAt.UTC(), Ends: sl.EndsAt.UTC(),
		CreatedBy: sl.CreatedBy, Comment: sl.Comment, State: "active"}
	for _, m := range sl.Matchers {
		out.Matchers = append(out.Matchers, m.String())
	}
	switch {
	case now.Before(sl.StartsAt):
		out.State = "pending"
	case !now.Before(sl.EndsAt):
		out.State = "expired"
	}
	return out
}

func (s *Server) listSilences(w http.ResponseWriter, _ *http.Request) error {
	out := api.Silences{Silences: []api.Silence{}}
	now := s.now()
	for _, sl := range s.monitor.Silences() {
		out.Silences = append(out.Silences, apiSilence(sl, now))
	}
	httpjson.Write(w, http.StatusOK, out)
	return nil
}

func (s *Server) addSilence(w http.ResponseWriter, r *http.Request) error {
	var in api.NewSilence
	if err := httpjson.Decode(r, &in); err != nil {
		return err
	}
	now := s.now()
	by := info(r.Context()).actor()
	sl := alert.Silence{StartsAt: now, EndsAt: in.Ends, CreatedBy: by, Comment: strings.TrimSpace(in.Comment)}
	if in.Starts != nil {
		sl.StartsAt = *in.Starts
	}
	var errs []error
	for _, m := range in.Matchers {
		pm, err := labels.ParseMatcher(m)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		sl.Matchers = append(sl.Matchers, pm)
	}
	if err := errors.Join(errs...); err != nil {
		return fleet.Errorf(fleet.KindInvalid, "%v", err)
	}
	if err := sl.Validate(); err != nil {
		return err
	}
	// The store first: a silence the daemon shows must outlive it.
	stored, err := s.store.AddSilence(r.Context(), storedSilence(sl))
	if err != nil {
		return s.storeErr("add_silence", err)
	}
	sl.ID, sl.StartsAt, sl.EndsAt = stored.ID, stored.StartsAt, stored.EndsAt
	if sl, err = s.monitor.AddSilence(sl); err != nil {
		return err
	}
	s.log.Info("silence added", "request_id", requestID(r.Context()), "silence", sl.ID, "by", by)
	s.appendEvent(r, store.Event{Kind: "silence.added", Subject: "silence " + sl.ID,
		Message: fmt.Sprintf("%s silenced %s until %s: %s", by, strings.Join(apiSilence(sl, now).Matchers, ", "),
			sl.EndsAt.UTC().Format(time.RFC3339), sl.Comment)})
	httpjson.Write(w, http.StatusCreated, apiSilence(sl, now))
	return nil
}

func (s *Server) expireSilence(w http.ResponseWriter, r *http.Request) error {
	id, now := r.PathValue("id"), s.now()
	stored, err := s.store.ExpireSilence(r.Context(), id, now)
	if fleet.KindOf(err) == fleet.KindNotFound {
		return err
	}
	if err != nil {
		return s.storeErr("expire_silence", err)
	}
	// A silence the pipeline pruned already has nothing left to mute.
	if err := s.monitor.ExpireSilence(id, stored.EndsAt); err != nil && fleet.KindOf(err) != fleet.KindNotFound {
		return err
	}
	by := info(r.Context()).actor()
	s.appendEvent(r, store.Event{Kind: "silence.expired", Subject: "silence " + id,
		Message: fmt.Sprintf("%s expired silence %s", by, id)})
	sl, err := monitor.SilenceFrom(stored)
	if err != nil {
		return err
	}
	httpjson.Write(w, http.StatusOK, apiSilence(sl, now))
	return nil
}

// storedSilence is sl as the store keeps it, its matchers written out.
func storedSilence(sl alert.Silence) store.Silence {
	out := store.Silence{ID: sl.ID, StartsAt: sl.StartsAt, EndsAt: sl.EndsAt, CreatedBy: sl.CreatedBy, Comment: sl.Comment}
	for _, m := range sl.Matchers {
		out.Matchers = append(out.Matchers, m.String())
	}
	return out
}

// appendEvent records an operator's action; the action stands even if the
// record fails, and the log says so.
func (s *Server) appendEvent(r *http.Request, e store.Event) {
	if _, err := s.store.AppendEvent(r.Context(), e); err != nil {
		s.log.Error("record "+e.Kind, "request_id", requestID(r.Context()), "err", s.storeErr("append_event", err))
	}
}

// alertmanager answers POST /api/v1/alertmanager, a receiver for
// Alertmanager's webhook: each firing alert pauses every running rollout
// whose plan's pause_on_alerts matchers all match its labels.
func (s *Server) alertmanager(w http.ResponseWriter, r *http.Request) error {
	var msg api.AlertmanagerMessage
	if err := httpjson.Decode(r, &msg); err != nil {
		return err
	}
	if msg.Version != "4" {
		return fleet.Errorf(fleet.KindInvalid, "alertmanager payload version %q: illico reads version 4", msg.Version)
	}
	ctx := r.Context()
	list, err := s.engine.List(ctx, 1000)
	if err != nil {
		return s.storeErr("rollouts", err)
	}
	out := api.Paused{Rollouts: []api.PausedRollout{}}
	for _, ro := range list {
		if ro.State != fleet.RolloutRunning || ro.Plan == nil || len(ro.Plan.Strategy.PauseOnAlerts) == 0 {
			continue
		}
		ms, err := labels.ParseMatchers(ro.Plan.Strategy.PauseOnAlerts)
		if err != nil {
			continue // refused when the plan was read; a plan read before cannot pause
		}
		for _, a := range msg.Alerts {
			if a.Status != string(alert.StatusFiring) || !ms.Match(a.Labels) {
				continue
			}
			name := labels.Set(a.Labels).String()
			if err := s.engine.Order(ro.ID, rollout.Pause, "alert "+name); err != nil {
				s.log.Warn("alertmanager: could not pause a rollout", "rollout", ro.ID, "err", err)
				break
			}
			s.appendRolloutEvent(ctx, store.Event{Kind: "rollout.alert", Subject: ro.ID,
				Message: fmt.Sprintf("alert %s %s from Alertmanager (receiver %s) paused rollout %s", a.Labels[alert.LabelAlertname], name, msg.Receiver, ro.ID)}, eventData{})
			out.Rollouts = append(out.Rollouts, api.PausedRollout{ID: ro.ID, Alert: name})
			break
		}
	}
	httpjson.Write(w, http.StatusOK, out)
	return nil
}
