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
	out := api.Probes{Probes: []api.Probe{}}
	for _, st := range s.monitor.Probes() {
		out.Probes = append(out.Probes, apiProbe(st))
	}
	httpjson.Write(w, http.StatusOK, out)
	return nil
}

func apiProbe(s monitor.Standing) api.Probe {
	t := s.Target
	p := api.Probe{
		ID: t.ID, Probe: t.Def.Name, Host: t.Host.Name, Kind: string(t.Def.Kind),
		Target: t.Target, Interval: t.Def.Interval.String(), State: s.Status.State.String(),
		Since: httpjson.OptionalTime(s.Status.Since),
	}
	if last := s.Status.Last; !last.At.IsZero() {
		p.Last = &api.ProbeResult{At: last.At.UTC(), TookMS: last.Took.Milliseconds(), OK: last.OK, Reason: last.Reason}
	}
	return p
}

// listAlerts answers GET /api/v1/alerts: firing alerts first, newest
// first, then those resolved in the last hour.
func (s *Server) listAlerts(w http.ResponseWriter, _ *http.Request) error {
	out := api.Alerts{Alerts: []api.Alert{}}
	for _, a := range s.monitor.Alerts() {
		out.Alerts = append(out.Alerts, api.Alert{
			Labels: a.Labels, Annotations: a.Annotations, Status: string(a.Status()),
			StartsAt: a.StartsAt.UTC(), EndsAt: httpjson.OptionalTime(a.EndsAt),
			SilencedBy: a.SilencedBy, Maintenance: a.Maintenance, Notified: a.Notified,
		})
	}
	httpjson.Write(w, http.StatusOK, out)
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
	sl, err := s.monitor.AddSilence(r.Context(), sl)
	if err != nil {
		return s.storeErr("add_silence", err)
	}
	s.log.Info("silence added", "request_id", requestID(r.Context()), "silence", sl.ID, "by", by)
	s.appendEvent(r, store.Event{Kind: "silence.added", Subject: "silence " + sl.ID,
		Message: fmt.Sprintf("%s silenced %s until %s: %s", by, strings.Join(apiSilence(sl, now).Matchers, ", "),
			sl.EndsAt.UTC().Format(time.RFC3339), sl.Comment)})
	httpjson.Write(w, http.StatusCreated, apiSilence(sl, now))
	return nil
}

func (s *Server) expireSilence(w http.ResponseWriter, r *http.Request) error {
	id := r.PathValue("id")
	sl, err := s.monitor.ExpireSilence(r.Context(), id)
	if err != nil {
		return s.storeErr("expire_silence", err)
	}
	by := info(r.Context()).actor()
	s.appendEvent(r, store.Event{Kind: "silence.expired", Subject: "silence " + id,
		Message: fmt.Sprintf("%s expired silence %s", by, id)})
	httpjson.Write(w, http.StatusOK, apiSilence(sl, s.now()))
	return nil
}

// appendEvent records an operator's action; the action stands even if the
// record fails, and the log says so.
func (s *Server) appendEvent(r *http.Request, e store.Event) {
	if _, err := s.store.AppendEvent(r.Context(), e); err != nil {
		s.log.Error("record "+e.Kind, "request_id", requestID(r.Context()), "err", s.storeErr("append_event", err))
	}
}

// alertmanager answers POST /api/v1/alertmanager, a receiver for
// Alertmanager's webhook: its firing alerts pause the running rollouts
// whose plans say so, and its resolved ones may resume them
// (rollout.Engine.OnAlerts). The payload is Alertmanager's, which adds
// fields from version to version: those illico does not read are ignored.
func (s *Server) alertmanager(w http.ResponseWriter, r *http.Request) error {
	var msg api.AlertmanagerMessage
	if err := httpjson.DecodeLenient(r, &msg); err != nil {
		return err
	}
	if msg.Version != "4" {
		return fleet.Errorf(fleet.KindInvalid, "alertmanager payload version %q: illico reads version 4", msg.Version)
	}
	var notice rollout.AlertNotice
	for _, a := range msg.Alerts {
		switch a.Status {
		case string(alert.StatusFiring):
			notice.Firing = append(notice.Firing, a.Labels)
		case string(alert.StatusResolved):
			notice.Resolved = append(notice.Resolved, a.Labels)
		}
	}
	done := s.engine.OnAlerts(notice)
	out := api.Paused{Rollouts: []api.PausedRollout{}, Resolved: []api.ResolvedAlert{}}
	for _, p := range done.Paused {
		name := p.Labels.String()
		s.appendRolloutEvent(r.Context(), store.Event{Kind: string(rollout.KindAlert), Subject: p.Rollout,
			Message: fmt.Sprintf("alert %s %s from Alertmanager (receiver %s) paused rollout %s", p.Labels[alert.LabelAlertname], name, msg.Receiver, p.Rollout)}, eventData{})
		out.Rollouts = append(out.Rollouts, api.PausedRollout{ID: p.Rollout, Alert: name})
	}
	for _, ra := range done.Resolved {
		name := ra.Labels.String()
		var then string
		switch {
		case ra.Resumed:
			then = fmt.Sprintf("no other matching alert fires: rollout %s resumes, as its plan says (resume_when_resolved)", ra.Rollout)
		case ra.StillFiring > 0:
			then = fmt.Sprintf("%d other matching alert(s) still fire", ra.StillFiring)
		default:
			then = "no other matching alert fires"
		}
		s.appendRolloutEvent(r.Context(), store.Event{Kind: string(rollout.KindAlertResolved), Subject: ra.Rollout,
			Message: fmt.Sprintf("alert %s %s resolved in Alertmanager (receiver %s); %s", ra.Labels[alert.LabelAlertname], name, msg.Receiver, then)}, eventData{})
		out.Resolved = append(out.Resolved, api.ResolvedAlert{ID: ra.Rollout, Alert: name, Resumed: ra.Resumed})
	}
	httpjson.Write(w, http.StatusOK, out)
	return nil
}
