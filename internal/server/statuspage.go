package server

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"log/slog"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/illico-dev/illico/internal/api"
	"github.com/illico-dev/illico/internal/fleet"
	"github.com/illico-dev/illico/internal/statuspage"
)

// The public status page: its components come from the inventory's groups
// that name one, the rollouts drive its maintenances (package statusdrive),
// and operators add updates by hand through the API below. It lives in
// memory: a restart of the daemon starts it afresh.

// componentID is a component's ID on the page, from its name: stable
// across reloads as long as the name is.
func componentID(name string) string {
	var b strings.Builder
	dash := false
	for _, r := range strings.ToLower(name) {
		if r >= 'a' && r <= 'z' || r >= '0' && r <= '9' {
			b.WriteRune(r)
			dash = false
		} else if !dash && b.Len() > 0 {
			b.WriteByte('-')
			dash = true
		}
	}
	return strings.TrimSuffix(b.String(), "-")
}

// syncComponents makes the page's components those of inv: one per
// component name, served by the members of every group naming it, in the
// inventory's order. A component that left the inventory leaves the page;
// its incidents and maintenances stay.
func syncComponents(st *fleet.Status, inv *fleet.Inventory, now time.Time) {
	old := map[string]fleet.Component{}
	for _, c := range st.Components {
		old[c.ID] = c
	}
	var comps []fleet.Component
	index := map[string]int{}
	for _, g := range inv.Groups {
		if g.Component == "" {
			continue
		}
		id := componentID(g.Component)
		i, ok := index[id]
		if !ok {
			c, kept := old[id]
			if !kept {
				c = fleet.Component{ID: id, Showcase: true, CreatedAt: now, UpdatedAt: now}
			}
			c.Name, c.Position, c.Hosts = g.Component, len(comps)+1, nil
			i = len(comps)
			index[id] = i
			comps = append(comps, c)
		}
		for _, m := range g.Members {
			if !slices.Contains(comps[i].Hosts, m) {
				comps[i].Hosts = append(comps[i].Hosts, m)
			}
		}
	}
	st.Components = comps
}

// Operator API for the status page.

func updatesJSON(us []fleet.StatusUpdate) []api.StatusUpdate {
	out := []api.StatusUpdate{}
	for _, u := range us {
		out = append(out, api.StatusUpdate{ID: u.ID, Status: u.Status, Body: u.Body, CreatedAt: u.CreatedAt})
	}
	return out
}

func incidentOut(in fleet.Incident) api.Incident {
	return api.Incident{
		ID: in.ID, Name: in.Name, Status: string(in.Status), Impact: string(in.Impact),
		Components: append([]string{}, in.Components...), Rollout: in.Rollout, CreatedAt: in.CreatedAt,
		ResolvedAt: timeOrNil(in.ResolvedAt), Updates: updatesJSON(in.Updates),
	}
}

func maintenanceOut(m fleet.Maintenance) api.Maintenance {
	return api.Maintenance{
		ID: m.ID, Name: m.Name, Status: string(m.Status), Components: append([]string{}, m.Components...),
		Rollout: m.Rollout, ScheduledFor: m.ScheduledFor, ScheduledUntil: m.ScheduledUntil,
		CompletedAt: timeOrNil(m.CompletedAt), Updates: updatesJSON(m.Updates),
	}
}

// getStatus answers GET /api/v1/status: the page's status as stored, each
// component with the status the page shows.
func (s *Server) getStatus(w http.ResponseWriter, r *http.Request) error {
	st, err := s.status.Status(r.Context())
	if err != nil {
		return err
	}
	out := api.StatusPage{Version: st.Version, UpdatedAt: st.UpdatedAt,
		Components: []api.StatusComponent{}, Incidents: []api.Incident{}, Maintenances: []api.Maintenance{}}
	for _, c := range st.Components {
		out.Components = append(out.Components, api.StatusComponent{ID: c.ID, Name: c.Name,
			Status: string(statuspage.Derive(c, st.Hosts, st.Maintenance)), Hosts: append([]string{}, c.Hosts...)})
	}
	for _, in := range st.Incidents {
		out.Incidents = append(out.Incidents, incidentOut(in))
	}
	for _, m := range st.Maintenance {
		out.Maintenances = append(out.Maintenances, maintenanceOut(m))
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

// checkText refuses an empty text and one in a language the page lacks.
func checkText(field string, t fleet.Text) error {
	if len(t) == 0 {
		return fleet.Errorf(fleet.KindInvalid, "request body: %s is empty: give it in at least one language, like {\"en\": \"…\"}", field)
	}
	for lang, v := range t {
		if !slices.Contains(pageLanguages, lang) {
			return fleet.Errorf(fleet.KindInvalid, "request body: %s: no language %q on the page (have %s)", field, lang, strings.Join(pageLanguages, ", "))
		}
		if strings.TrimSpace(v) == "" {
			return fleet.Errorf(fleet.KindInvalid, "request body: %s.%s is empty", field, lang)
		}
	}
	return nil
}

// pageLanguages are the languages of the status page.
var pageLanguages = []string{"de", "en", "fr"}

// openIncident answers POST /api/v1/status/incidents.
func (s *Server) openIncident(w http.ResponseWriter, r *http.Request) error {
	var req api.NewIncident
	if err := decodeJSON(r, &req); err != nil {
		return err
	}
	if req.Status == "" {
		req.Status = string(fleet.Investigating)
	}
	if req.Impact == "" {
		req.Impact = string(fleet.ImpactMinor)
	}
	switch {
	case !fleet.IncidentStatus(req.Status).Valid():
		return fleet.Errorf(fleet.KindInvalid, "request body: status %q is not one of investigating, identified, monitoring, resolved", req.Status)
	case !fleet.Impact(req.Impact).Valid():
		return fleet.Errorf(fleet.KindInvalid, "request body: impact %q is not one of none, minor, major, critical", req.Impact)
	}
	if err := checkText("name", req.Name); err != nil {
		return err
	}
	if err := checkText("body", req.Body); err != nil {
		return err
	}
	now := s.now().UTC()
	in := fleet.Incident{
		ID: newStatusID(), Name: req.Name, Status: fleet.IncidentStatus(req.Status), Impact: fleet.Impact(req.Impact),
		Components: req.Components, StartedAt: now, CreatedAt: now, UpdatedAt: now,
	}
	in.Updates = []fleet.StatusUpdate{{ID: newStatusID(), Status: req.Status, Body: req.Body, DisplayAt: now, CreatedAt: now, UpdatedAt: now}}
	stamp(&in, now)
	err := s.status.Update(r.Context(), func(st *fleet.Status) error {
		for _, c := range req.Components {
			if !slices.ContainsFunc(st.Components, func(k fleet.Component) bool { return k.ID == c }) {
				return fleet.Errorf(fleet.KindInvalid, "request body: no component %q on the page (see GET /api/v1/status)", c)
			}
		}
		st.Incidents = append(st.Incidents, in)
		return nil
	})
	if err != nil {
		return err
	}
	s.logStatusEdit(r.Context(), "incident opened", in.ID)
	writeJSON(w, http.StatusCreated, incidentOut(in))
	return nil
}

// addIncidentUpdate answers POST /api/v1/status/incidents/{id}/updates.
func (s *Server) addIncidentUpdate(w http.ResponseWriter, r *http.Request) error {
	var req api.NewStatusUpdate
	if err := decodeJSON(r, &req); err != nil {
		return err
	}
	if !fleet.IncidentStatus(req.Status).Valid() {
		return fleet.Errorf(fleet.KindInvalid, "request body: status %q is not one of investigating, identified, monitoring, resolved", req.Status)
	}
	if err := checkText("body", req.Body); err != nil {
		return err
	}
	id, now := r.PathValue("id"), s.now().UTC()
	var out fleet.Incident
	err := s.status.Update(r.Context(), func(st *fleet.Status) error {
		i := slices.IndexFunc(st.Incidents, func(in fleet.Incident) bool { return in.ID == id })
		if i < 0 {
			return fleet.Errorf(fleet.KindNotFound, "no incident %s on the status page", id)
		}
		in := &st.Incidents[i]
		in.Status, in.UpdatedAt = fleet.IncidentStatus(req.Status), now
		in.Updates = append(in.Updates, fleet.StatusUpdate{ID: newStatusID(), Status: req.Status, Body: req.Body, DisplayAt: now, CreatedAt: now, UpdatedAt: now})
		stamp(in, now)
		out = *in
		return nil
	})
	if err != nil {
		return err
	}
	s.logStatusEdit(r.Context(), "incident updated", id)
	writeJSON(w, http.StatusCreated, incidentOut(out))
	return nil
}

// stamp records when an incident reached monitoring and resolved.
func stamp(in *fleet.Incident, now time.Time) {
	switch in.Status {
	case fleet.Monitoring:
		if in.MonitoringAt.IsZero() {
			in.MonitoringAt = now
		}
	case fleet.Resolved:
		if in.ResolvedAt.IsZero() {
			in.ResolvedAt = now
		}
	default:
		in.ResolvedAt = time.Time{}
	}
}

// addMaintenanceUpdate answers POST /api/v1/status/maintenances/{id}/updates.
func (s *Server) addMaintenanceUpdate(w http.ResponseWriter, r *http.Request) error {
	var req api.NewStatusUpdate
	if err := decodeJSON(r, &req); err != nil {
		return err
	}
	if !fleet.MaintenanceStatus(req.Status).Valid() {
		return fleet.Errorf(fleet.KindInvalid, "request body: status %q is not one of scheduled, in_progress, verifying, completed", req.Status)
	}
	if err := checkText("body", req.Body); err != nil {
		return err
	}
	id, now := r.PathValue("id"), s.now().UTC()
	var out fleet.Maintenance
	err := s.status.Update(r.Context(), func(st *fleet.Status) error {
		i := slices.IndexFunc(st.Maintenance, func(m fleet.Maintenance) bool { return m.ID == id })
		if i < 0 {
			return fleet.Errorf(fleet.KindNotFound, "no maintenance %s on the status page", id)
		}
		m := &st.Maintenance[i]
		m.Status, m.UpdatedAt = fleet.MaintenanceStatus(req.Status), now
		m.Updates = append(m.Updates, fleet.StatusUpdate{ID: newStatusID(), Status: req.Status, Body: req.Body, DisplayAt: now, CreatedAt: now, UpdatedAt: now})
		switch {
		case m.Status.Active() && m.StartedAt.IsZero():
			m.StartedAt = now
		case m.Status == fleet.MaintenanceCompleted && m.CompletedAt.IsZero():
			m.CompletedAt = now
		}
		out = *m
		return nil
	})
	if err != nil {
		return err
	}
	s.logStatusEdit(r.Context(), "maintenance updated", id)
	writeJSON(w, http.StatusCreated, maintenanceOut(out))
	return nil
}

func (s *Server) logStatusEdit(ctx context.Context, what, id string) {
	tok := info(ctx).token
	s.log.Info("status page: "+what, "request_id", requestID(ctx), "id", id, "token_id", tok.ID)
}

// newStatusID is an ID for an incident or an update, of the 12 lower-case
// letters and digits Statuspage's have.
func newStatusID() string {
	b := make([]byte, 6)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// publicServer serves the status page, read-only and without a token.
func (s *Server) publicServer() (*http.Server, error) {
	h, err := statuspage.Handler(statuspage.Options{Source: s.status, History: s.uptime(), Now: s.now, Logger: s.log})
	if err != nil {
		return nil, fmt.Errorf("status page: %w", err)
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
