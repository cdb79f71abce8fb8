package site

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/illico-dev/illico/internal/api"
	"github.com/illico-dev/illico/internal/fleet"
	"github.com/illico-dev/illico/internal/httpjson"
	"github.com/illico-dev/illico/internal/statuspage/page"
	"github.com/illico-dev/illico/internal/store"
	"github.com/illico-dev/illico/internal/statuspage/texts"
)

// statusTick is how often the daemon looks for another daemon's change of
// the page and moves the maintenances operators scheduled along their
// window.
const statusTick = 2 * time.Second

// openStatus reads the page's status from the store and gives it the
// components of inv.
func (s *Site) openStatus(st page.StatusStore[*store.Tx], inv *fleet.Inventory) error {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	notices, err := page.NewNotices(s.page.TimeZone)
	if err != nil {
		return err
	}
	src, err := page.NewStored(ctx, st, s.now)
	if err != nil {
		return fmt.Errorf("status page: %w", err)
	}
	s.status = &pageStatus{Stored: src, notices: notices, subs: s.subs}
	if err := s.SetInventory(ctx, inv); err != nil {
		return fmt.Errorf("status page: take the inventory's components: %w", err)
	}
	return nil
}

// tick keeps the page's status moving until ctx ends: every statusTick,
// it looks at the stored version, for the page to show another daemon's
// change, starts and ends the maintenances operators scheduled, and takes
// the hosts' health from the probes.
func (s *Site) tick(ctx context.Context) {
	tick := time.NewTicker(statusTick)
	defer tick.Stop()
	for {
		if err := s.status.Refresh(ctx); err != nil && ctx.Err() == nil {
			s.log.Error("status page: read its version", "err", err)
		}
		if err := s.advance(ctx); err != nil && ctx.Err() == nil {
			s.log.Error("status page: move the scheduled maintenances on", "err", err)
		}
		if s.health != nil {
			if err := s.syncHealth(ctx, s.health()); err != nil && ctx.Err() == nil {
				s.log.Error("status page: take the hosts' health from the probes", "err", err)
			}
		}
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
	}
}

// advance starts and ends the maintenances operators scheduled when their
// time comes. It looks at the status in memory first, so that a tick with
// nothing to do writes nothing.
func (s *Site) advance(ctx context.Context) error {
	st, err := s.status.Status(ctx)
	if err != nil {
		return err
	}
	now := s.now().UTC()
	if due, err := s.status.notices.Advance(&st, now); err != nil || !due {
		return err
	}
	return s.status.Update(ctx, func(st *fleet.Status) error {
		_, err := s.status.notices.Advance(st, now)
		return err
	})
}

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
// inventory's order, under the component groups the inventory names. A
// component that left the inventory leaves the page; its incidents and
// maintenances stay.
func syncComponents(st *fleet.Status, inv *fleet.Inventory, now time.Time) {
	old := map[string]fleet.Component{}
	for _, c := range st.Components {
		old[c.ID] = c
	}
	oldGroups := map[string]fleet.ComponentGroup{}
	for _, g := range st.Groups {
		oldGroups[g.ID] = g
	}
	var comps []fleet.Component
	var groups []fleet.ComponentGroup
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
			c.Name, c.Position, c.Hosts, c.Redundant, c.Group = g.Component, len(comps)+1, nil, false, ""
			if g.ComponentGroup != "" {
				// Prefixed: the JSON lists groups among the components, and
				// a group may be named like one.
				c.Group = "group-" + componentID(g.ComponentGroup)
				if !slices.ContainsFunc(groups, func(cg fleet.ComponentGroup) bool { return cg.ID == c.Group }) {
					cg, kept := oldGroups[c.Group]
					if !kept {
						cg = fleet.ComponentGroup{ID: c.Group, CreatedAt: now, UpdatedAt: now}
					}
					cg.Name, cg.Position = g.ComponentGroup, len(groups)+1
					groups = append(groups, cg)
				}
			}
			i = len(comps)
			index[id] = i
			comps = append(comps, c)
		}
		comps[i].Redundant = comps[i].Redundant || g.Balancer != nil
		for _, m := range g.Members {
			if !slices.Contains(comps[i].Hosts, m) {
				comps[i].Hosts = append(comps[i].Hosts, m)
			}
		}
	}
	st.Components, st.Groups = comps, groups
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
		ResolvedAt: httpjson.OptionalTime(in.ResolvedAt), Updates: updatesJSON(in.Updates),
	}
}

func maintenanceOut(m fleet.Maintenance) api.Maintenance {
	return api.Maintenance{
		ID: m.ID, Name: m.Name, Status: string(m.Status), Components: append([]string{}, m.Components...),
		Rollout: m.Rollout, ScheduledFor: m.ScheduledFor, ScheduledUntil: m.ScheduledUntil,
		CompletedAt: httpjson.OptionalTime(m.CompletedAt), Updates: updatesJSON(m.Updates),
	}
}

func componentOut(c fleet.Component, st *fleet.Status) api.StatusComponent {
	return api.StatusComponent{ID: c.ID, Name: c.Name, Status: string(page.Derive(c, st.Hosts, st.Maintenance)),
		Override: string(c.Override), Hosts: append([]string{}, c.Hosts...)}
}

// StatusPage is the page's status as stored, each component with the
// status the page shows.
func (s *Site) StatusPage(ctx context.Context) (api.StatusPage, error) {
	st, err := s.status.Status(ctx)
	if err != nil {
		return api.StatusPage{}, err
	}
	out := api.StatusPage{Version: st.Version, UpdatedAt: st.UpdatedAt, TimeZone: zoneName(s.page.TimeZone),
		Components: []api.StatusComponent{}, Incidents: []api.Incident{}, Maintenances: []api.Maintenance{}}
	for _, c := range st.Components {
		out.Components = append(out.Components, componentOut(c, &st))
	}
	for _, in := range st.Incidents {
		out.Incidents = append(out.Incidents, incidentOut(in))
	}
	for _, m := range st.Maintenance {
		out.Maintenances = append(out.Maintenances, maintenanceOut(m))
	}
	return out, nil
}

// zoneName is the IANA name of the page's zone.
func zoneName(tz *time.Location) string {
	if tz == nil {
		return time.UTC.String()
	}
	return tz.String()
}

// checkText refuses an empty text and one in a language the page lacks.
func checkText(field string, t fleet.Text) error {
	if len(t) == 0 {
		return fleet.Errorf(fleet.KindInvalid, "request body: %s is empty: give it in at least one language, like {\"en\": \"…\"}", field)
	}
	for lang, v := range t {
		if !texts.Known(lang) {
			return fleet.Errorf(fleet.KindInvalid, "request body: %s: no language %q on the page (have %s)", field, lang, strings.Join(pageLanguages(), ", "))
		}
		if strings.TrimSpace(v) == "" {
			return fleet.Errorf(fleet.KindInvalid, "request body: %s.%s is empty", field, lang)
		}
	}
	return nil
}

// pageLanguages are the codes of the status page's languages, sorted, as
// its messages list them.
func pageLanguages() []string { return slices.Sorted(slices.Values(texts.Codes())) }

// OpenIncident opens an incident on the page.
func (s *Site) OpenIncident(ctx context.Context, req api.NewIncident) (api.Incident, error) {
	if req.Status == "" {
		req.Status = string(fleet.Investigating)
	}
	if req.Impact == "" {
		req.Impact = string(fleet.ImpactMinor)
	}
	switch {
	case !fleet.IncidentStatus(req.Status).Valid():
		return api.Incident{}, fleet.Errorf(fleet.KindInvalid, "request body: status %q is not one of investigating, identified, monitoring, resolved", req.Status)
	case !fleet.Impact(req.Impact).Valid():
		return api.Incident{}, fleet.Errorf(fleet.KindInvalid, "request body: impact %q is not one of none, minor, major, critical", req.Impact)
	}
	if err := checkText("name", req.Name); err != nil {
		return api.Incident{}, err
	}
	if err := checkText("body", req.Body); err != nil {
		return api.Incident{}, err
	}
	now := s.now().UTC()
	in := fleet.Incident{
		ID: newStatusID(), Name: req.Name, Status: fleet.IncidentStatus(req.Status), Impact: fleet.Impact(req.Impact),
		Components: req.Components, StartedAt: now, CreatedAt: now, UpdatedAt: now,
	}
	in.Updates = []fleet.StatusUpdate{{ID: newStatusID(), Status: req.Status, Body: req.Body, DisplayAt: now, CreatedAt: now, UpdatedAt: now}}
	stamp(&in, now)
	err := s.status.Update(ctx, func(st *fleet.Status) error {
		for _, c := range req.Components {
			if !slices.ContainsFunc(st.Components, func(k fleet.Component) bool { return k.ID == c }) {
				return fleet.Errorf(fleet.KindInvalid, "request body: no component %q on the page (see GET /api/v1/status)", c)
			}
		}
		st.Incidents = append(st.Incidents, in)
		return nil
	})
	if err != nil {
		return api.Incident{}, err
	}
	return incidentOut(in), nil
}

// AddIncidentUpdate adds an update to incident id.
func (s *Site) AddIncidentUpdate(ctx context.Context, id string, req api.NewStatusUpdate) (api.Incident, error) {
	if !fleet.IncidentStatus(req.Status).Valid() {
		return api.Incident{}, fleet.Errorf(fleet.KindInvalid, "request body: status %q is not one of investigating, identified, monitoring, resolved", req.Status)
	}
	if err := checkText("body", req.Body); err != nil {
		return api.Incident{}, err
	}
	now := s.now().UTC()
	var out fleet.Incident
	err := s.status.Update(ctx, func(st *fleet.Status) error {
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
		return api.Incident{}, err
	}
	return incidentOut(out), nil
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

// AddMaintenanceUpdate adds an update to maintenance id, and moves its
// window's end if req says so.
func (s *Site) AddMaintenanceUpdate(ctx context.Context, id string, req api.NewStatusUpdate) (api.Maintenance, error) {
	if !fleet.MaintenanceStatus(req.Status).Valid() {
		return api.Maintenance{}, fleet.Errorf(fleet.KindInvalid, "request body: status %q is not one of scheduled, in_progress, verifying, completed", req.Status)
	}
	if err := checkText("body", req.Body); err != nil {
		return api.Maintenance{}, err
	}
	now := s.now().UTC()
	var out fleet.Maintenance
	err := s.status.Update(ctx, func(st *fleet.Status) error {
		i := slices.IndexFunc(st.Maintenance, func(m fleet.Maintenance) bool { return m.ID == id })
		if i < 0 {
			return fleet.Errorf(fleet.KindNotFound, "no maintenance %s on the status page", id)
		}
		m := &st.Maintenance[i]
		if req.ScheduledUntil != nil {
			if !req.ScheduledUntil.After(m.ScheduledFor) {
				return fleet.Errorf(fleet.KindInvalid, "request body: scheduled_until %s is not after the maintenance's start, %s",
					req.ScheduledUntil.UTC().Format(time.RFC3339), m.ScheduledFor.UTC().Format(time.RFC3339))
			}
			m.ScheduledUntil = req.ScheduledUntil.UTC()
		}
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
		return api.Maintenance{}, err
	}
	return maintenanceOut(out), nil
}

// ScheduleMaintenance schedules a maintenance no rollout drives, that
// statuspage's Advance then starts and ends with its window.
func (s *Site) ScheduleMaintenance(ctx context.Context, req api.NewMaintenance) (api.Maintenance, error) {
	if err := checkText("name", req.Name); err != nil {
		return api.Maintenance{}, err
	}
	if err := checkText("body", req.Body); err != nil {
		return api.Maintenance{}, err
	}
	now := s.now().UTC()
	from, until := req.ScheduledFor.UTC(), req.ScheduledUntil.UTC()
	switch {
	case len(req.Components) == 0:
		return api.Maintenance{}, fleet.Errorf(fleet.KindInvalid, "request body: components is empty: name the components the maintenance affects (see GET /api/v1/status)")
	case from.IsZero() || until.IsZero():
		return api.Maintenance{}, fleet.Errorf(fleet.KindInvalid, "request body: scheduled_for and scheduled_until are both needed, like \"2026-03-14T22:00:00Z\"")
	case !until.After(from):
		return api.Maintenance{}, fleet.Errorf(fleet.KindInvalid, "request body: scheduled_until %s is not after scheduled_for %s", until.Format(time.RFC3339), from.Format(time.RFC3339))
	case !until.After(now):
		return api.Maintenance{}, fleet.Errorf(fleet.KindInvalid, "request body: scheduled_until %s is already past", until.Format(time.RFC3339))
	}
	m := fleet.Maintenance{
		ID: newStatusID(), Name: req.Name, Status: fleet.MaintenanceScheduled, Components: req.Components,
		ScheduledFor: from, ScheduledUntil: until, CreatedAt: now, UpdatedAt: now,
	}
	// A window already open starts now, as customers would expect.
	if !from.After(now) {
		m.Status, m.StartedAt = fleet.MaintenanceInProgress, now
	}
	m.Updates = []fleet.StatusUpdate{{ID: newStatusID(), Status: string(m.Status), Body: req.Body, DisplayAt: now, CreatedAt: now, UpdatedAt: now}}
	err := s.status.Update(ctx, func(st *fleet.Status) error {
		for _, c := range req.Components {
			if !slices.ContainsFunc(st.Components, func(k fleet.Component) bool { return k.ID == c }) {
				return fleet.Errorf(fleet.KindInvalid, "request body: no component %q on the page (see GET /api/v1/status)", c)
			}
		}
		st.Maintenance = append(st.Maintenance, m)
		return nil
	})
	if err != nil {
		return api.Maintenance{}, err
	}
	return maintenanceOut(m), nil
}

// SetComponentStatus sets the operator's status for component id, or
// api.AutoStatus for its hosts' again.
func (s *Site) SetComponentStatus(ctx context.Context, id string, req api.ComponentStatus) (api.StatusComponent, error) {
	override := fleet.ComponentStatus(req.Status)
	switch {
	case req.Status == api.AutoStatus:
		override = ""
	case !override.Valid():
		return api.StatusComponent{}, fleet.Errorf(fleet.KindInvalid, "request body: status %q is not one of auto, operational, under_maintenance, degraded_performance, partial_outage, major_outage", req.Status)
	}
	now := s.now().UTC()
	var out api.StatusComponent
	err := s.status.Update(ctx, func(st *fleet.Status) error {
		i := slices.IndexFunc(st.Components, func(c fleet.Component) bool { return c.ID == id })
		if i < 0 {
			return fleet.Errorf(fleet.KindNotFound, "no component %s on the status page (see GET /api/v1/status)", id)
		}
		c := &st.Components[i]
		if c.Override != override {
			c.Override, c.UpdatedAt = override, now
		}
		out = componentOut(*c, st)
		return nil
	})
	if err != nil {
		return api.StatusComponent{}, err
	}
	return out, nil
}

// newStatusID is an ID for an incident or an update, of the 12 lower-case
// letters and digits Statuspage's have.
func newStatusID() string {
	b := make([]byte, 6)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}
