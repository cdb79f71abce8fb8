package site

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/illico-dev/illico/internal/fleet"
	"github.com/illico-dev/illico/internal/statuspage/page"
	"github.com/illico-dev/illico/internal/store"
)

// statusTick is how often the daemon looks for another daemon's change of
// the page and moves the maintenances operators scheduled along their
// window.
const statusTick = 2 * time.Second

// openStatus takes the page's ID from the store and reads its status, and
// gives it the components of inv.
func (s *Site) openStatus(st *store.Store, inv *fleet.Inventory) error {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	// Before the status is first written: the store tells a page older
	// daemons served, whose ID they derived, by its written status.
	id, err := st.StatusPageIdentity(ctx, derivedPageID(s.page))
	if err != nil {
		return fmt.Errorf("status page: %w", err)
	}
	s.page.ID, s.page.Adopted = id.ID, id.Adopted
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

// tick is the leader's part of the page's status until ctx ends: every
// statusTick, it starts and ends the maintenances operators scheduled and
// takes the hosts' health from the probes. Follow, on every replica, reads
// the stored version.
func (s *Site) tick(ctx context.Context) {
	tick := time.NewTicker(statusTick)
	defer tick.Stop()
	for {
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

// The operators' edits of the page, which the daemon's API and the
// dashboard make; the API's wire format is the server's.

// TimeZone is the zone the page shows its times in.
func (s *Site) TimeZone() *time.Location {
	if s.page.TimeZone == nil {
		return time.UTC
	}
	return s.page.TimeZone
}

// checkText refuses an empty text and one in a language the page lacks.
func checkText(field string, t fleet.Text) error {
	if len(t) == 0 {
		return fleet.Errorf(fleet.KindInvalid, "request body: %s is empty: give it in at least one language, like {\"en\": \"…\"}", field)
	}
	for lang, v := range t {
		if !fleet.IsLanguage(lang) {
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
func pageLanguages() []string { return slices.Sorted(slices.Values(fleet.LanguageCodes())) }

// NewIncident is an incident an operator opens.
type NewIncident struct {
	Name fleet.Text
	// Status and Impact are investigating and minor when empty.
	Status     fleet.IncidentStatus
	Impact     fleet.Impact
	Components []string
	// Body is the first update's.
	Body fleet.Text
}

// NewUpdate is an update an operator adds to an incident or a maintenance.
type NewUpdate struct {
	Status string
	Body   fleet.Text
	// ScheduledUntil, when set, moves a maintenance's end.
	ScheduledUntil *time.Time
}

// NewMaintenance is a maintenance an operator schedules, that no rollout
// drives.
type NewMaintenance struct {
	Name       fleet.Text
	Components []string
	// Hosts are the inventory hosts it takes out of service while in
	// progress; Components, when empty, are then theirs.
	Hosts                        []string
	ScheduledFor, ScheduledUntil time.Time
	// Body is the first update's.
	Body fleet.Text
}

// OpenIncident opens an incident on the page.
func (s *Site) OpenIncident(ctx context.Context, req NewIncident) (fleet.Incident, error) {
	if req.Status == "" {
		req.Status = fleet.Investigating
	}
	if req.Impact == "" {
		req.Impact = fleet.ImpactMinor
	}
	switch {
	case !req.Status.Valid():
		return fleet.Incident{}, fleet.Errorf(fleet.KindInvalid, "request body: status %q is not one of investigating, identified, monitoring, resolved", req.Status)
	case !req.Impact.Valid():
		return fleet.Incident{}, fleet.Errorf(fleet.KindInvalid, "request body: impact %q is not one of none, minor, major, critical", req.Impact)
	}
	if err := checkText("name", req.Name); err != nil {
		return fleet.Incident{}, err
	}
	if err := checkText("body", req.Body); err != nil {
		return fleet.Incident{}, err
	}
	now := s.now().UTC()
	in := fleet.Incident{
		ID: newStatusID(), Name: req.Name, Status: req.Status, Impact: req.Impact,
		Components: req.Components, StartedAt: now, CreatedAt: now, UpdatedAt: now,
	}
	in.Updates = []fleet.StatusUpdate{{ID: newStatusID(), Status: string(req.Status), Body: req.Body, DisplayAt: now, CreatedAt: now, UpdatedAt: now}}
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
		return fleet.Incident{}, err
	}
	return in, nil
}

// AddIncidentUpdate adds an update to incident id.
func (s *Site) AddIncidentUpdate(ctx context.Context, id string, req NewUpdate) (fleet.Incident, error) {
	if !fleet.IncidentStatus(req.Status).Valid() {
		return fleet.Incident{}, fleet.Errorf(fleet.KindInvalid, "request body: status %q is not one of investigating, identified, monitoring, resolved", req.Status)
	}
	if err := checkText("body", req.Body); err != nil {
		return fleet.Incident{}, err
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
		return fleet.Incident{}, err
	}
	return out, nil
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
func (s *Site) AddMaintenanceUpdate(ctx context.Context, id string, req NewUpdate) (fleet.Maintenance, error) {
	if !fleet.MaintenanceStatus(req.Status).Valid() {
		return fleet.Maintenance{}, fleet.Errorf(fleet.KindInvalid, "request body: status %q is not one of scheduled, in_progress, verifying, completed", req.Status)
	}
	if err := checkText("body", req.Body); err != nil {
		return fleet.Maintenance{}, err
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
		return fleet.Maintenance{}, err
	}
	return out, nil
}

// ScheduleMaintenance schedules a maintenance no rollout drives, that
// statuspage's Advance then starts and ends with its window.
func (s *Site) ScheduleMaintenance(ctx context.Context, req NewMaintenance) (fleet.Maintenance, error) {
	if err := checkText("name", req.Name); err != nil {
		return fleet.Maintenance{}, err
	}
	if err := checkText("body", req.Body); err != nil {
		return fleet.Maintenance{}, err
	}
	now := s.now().UTC()
	from, until := req.ScheduledFor.UTC(), req.ScheduledUntil.UTC()
	switch {
	case len(req.Components) == 0 && len(req.Hosts) == 0:
		return fleet.Maintenance{}, fleet.Errorf(fleet.KindInvalid, "request body: components is empty: name the components the maintenance affects (see GET /api/v1/status), or its hosts")
	case from.IsZero() || until.IsZero():
		return fleet.Maintenance{}, fleet.Errorf(fleet.KindInvalid, "request body: scheduled_for and scheduled_until are both needed, like \"2026-03-14T22:00:00Z\"")
	case !until.After(from):
		return fleet.Maintenance{}, fleet.Errorf(fleet.KindInvalid, "request body: scheduled_until %s is not after scheduled_for %s", until.Format(time.RFC3339), from.Format(time.RFC3339))
	case !until.After(now):
		return fleet.Maintenance{}, fleet.Errorf(fleet.KindInvalid, "request body: scheduled_until %s is already past", until.Format(time.RFC3339))
	}
	m := fleet.Maintenance{
		ID: newStatusID(), Name: req.Name, Status: fleet.MaintenanceScheduled, Components: req.Components, Hosts: req.Hosts,
		ScheduledFor: from, ScheduledUntil: until, CreatedAt: now, UpdatedAt: now,
	}
	// A window already open starts now, as customers would expect.
	if !from.After(now) {
		m.Status, m.StartedAt = fleet.MaintenanceInProgress, now
	}
	m.Updates = []fleet.StatusUpdate{{ID: newStatusID(), Status: string(m.Status), Body: req.Body, DisplayAt: now, CreatedAt: now, UpdatedAt: now}}
	err := s.status.Update(ctx, func(st *fleet.Status) error {
		if len(m.Components) == 0 {
			for _, c := range st.Components {
				if slices.ContainsFunc(c.Hosts, func(h string) bool { return slices.Contains(m.Hosts, h) }) {
					m.Components = append(m.Components, c.ID)
				}
			}
			if len(m.Components) == 0 {
				return fleet.Errorf(fleet.KindInvalid, "request body: no component on the page holds the hosts %s: name the components the maintenance affects (see GET /api/v1/status)", strings.Join(m.Hosts, ", "))
			}
		}
		for _, c := range m.Components {
			if !slices.ContainsFunc(st.Components, func(k fleet.Component) bool { return k.ID == c }) {
				return fleet.Errorf(fleet.KindInvalid, "request body: no component %q on the page (see GET /api/v1/status)", c)
			}
		}
		st.Maintenance = append(st.Maintenance, m)
		return nil
	})
	if err != nil {
		return fleet.Maintenance{}, err
	}
	return m, nil
}

// SetComponentStatus sets the operator's status for component id, or ""
// for its hosts' again. It returns the component and the status the page
// shows for it.
func (s *Site) SetComponentStatus(ctx context.Context, id string, override fleet.ComponentStatus) (fleet.Component, fleet.ComponentStatus, error) {
	if override != "" && !override.Valid() {
		return fleet.Component{}, "", fleet.Errorf(fleet.KindInvalid, "status %q is not one of operational, under_maintenance, degraded_performance, partial_outage, major_outage", override)
	}
	var out fleet.Component
	var shown fleet.ComponentStatus
	err := s.status.Update(ctx, func(st *fleet.Status) error {
		i := slices.IndexFunc(st.Components, func(c fleet.Component) bool { return c.ID == id })
		if i < 0 {
			return fleet.Errorf(fleet.KindNotFound, "no component %s on the status page (see GET /api/v1/status)", id)
		}
		c := &st.Components[i]
		// The page dates the component's change, once stored, if what it
		// shows for it changed.
		c.Override = override
		out, shown = *c, page.Derive(*c, st.Hosts, st.Maintenance)
		return nil
	})
	if err != nil {
		return fleet.Component{}, "", err
	}
	return out, shown, nil
}

// newStatusID is an ID for an incident or an update, of the 12 lower-case
// letters and digits Statuspage's have.
func newStatusID() string {
	b := make([]byte, 6)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}
