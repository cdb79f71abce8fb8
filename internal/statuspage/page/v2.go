package page

import (
	"encoding/json"
	"time"

	"github.com/illico-dev/illico/internal/fleet"
)

// The JSON of Atlassian Statuspage's public API, version 2: the same field
// names, the same values, null where Statuspage has null.

type v2Time time.Time

// MarshalJSON writes Statuspage's timestamps (milliseconds and the page's
// offset), null for a time not yet reached.
func (t v2Time) MarshalJSON() ([]byte, error) {
	if time.Time(t).IsZero() {
		return []byte("null"), nil
	}
	return []byte(`"` + time.Time(t).Format("2006-01-02T15:04:05.000Z07:00") + `"`), nil
}

type v2Page struct {
	ID        string `json:"id"`
	Name      string `json:"name"`
	URL       string `json:"url"`
	TimeZone  string `json:"time_zone"`
	UpdatedAt v2Time `json:"updated_at"`
}

type v2Status struct {
	Indicator   string `json:"indicator"`
	Description string `json:"description"`
}

type v2Component struct {
	ID                 string   `json:"id"`
	Name               string   `json:"name"`
	Status             string   `json:"status"`
	CreatedAt          v2Time   `json:"created_at"`
	UpdatedAt          v2Time   `json:"updated_at"`
	Position           int      `json:"position"`
	Description        *string  `json:"description"`
	Showcase           bool     `json:"showcase"`
	StartDate          *string  `json:"start_date"`
	GroupID            *string  `json:"group_id"`
	PageID             string   `json:"page_id"`
	Group              bool     `json:"group"`
	OnlyShowIfDegraded bool     `json:"only_show_if_degraded"`
	Components         []string `json:"components,omitempty"`
}

type v2Affected struct {
	Code      string `json:"code"`
	Name      string `json:"name"`
	OldStatus string `json:"old_status"`
	NewStatus string `json:"new_status"`
}

type v2Update struct {
	ID                   string       `json:"id"`
	Status               string       `json:"status"`
	Body                 string       `json:"body"`
	IncidentID           string       `json:"incident_id"`
	CreatedAt            v2Time       `json:"created_at"`
	UpdatedAt            v2Time       `json:"updated_at"`
	DisplayAt            v2Time       `json:"display_at"`
	AffectedComponents   []v2Affected `json:"affected_components"`
	DeliverNotifications bool         `json:"deliver_notifications"`
}

type v2Incident struct {
	ID              string        `json:"id"`
	Name            string        `json:"name"`
	Status          string        `json:"status"`
	CreatedAt       v2Time        `json:"created_at"`
	UpdatedAt       v2Time        `json:"updated_at"`
	MonitoringAt    v2Time        `json:"monitoring_at"`
	ResolvedAt      v2Time        `json:"resolved_at"`
	Impact          string        `json:"impact"`
	Shortlink       string        `json:"shortlink"`
	StartedAt       v2Time        `json:"started_at"`
	PageID          string        `json:"page_id"`
	IncidentUpdates []v2Update    `json:"incident_updates"`
	Components      []v2Component `json:"components"`
}

type v2Maintenance struct {
	v2Incident
	ScheduledFor   v2Time `json:"scheduled_for"`
	ScheduledUntil v2Time `json:"scheduled_until"`
}

// v2Doc is one JSON document; each endpoint fills in its fields.
type v2Doc struct {
	Page                  v2Page           `json:"page"`
	Components            *[]v2Component   `json:"components,omitempty"`
	Incidents             *[]v2Incident    `json:"incidents,omitempty"`
	ScheduledMaintenances *[]v2Maintenance `json:"scheduled_maintenances,omitempty"`
	Status                *v2Status        `json:"status,omitempty"`
}

// v2 renders the JSON documents of one view in one language.
type v2 struct {
	v *view
	l *locale
}

func (j v2) time(t time.Time) v2Time { return v2Time(t.In(j.v.page.TimeZone)) }

func (j v2) page() v2Page {
	return v2Page{
		ID: j.v.page.ID, Name: pageName(j.l, j.v.page), URL: j.v.page.URL,
		TimeZone:  j.v.page.TimeZone.String(),
		UpdatedAt: j.time(j.v.status.UpdatedAt),
	}
}

func (j v2) status() *v2Status {
	return &v2Status{Indicator: j.v.indicate, Description: j.l.T("indicator." + j.v.indicate)}
}

func nullable(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

func (j v2) component(c *fleet.Component) v2Component {
	start := c.CreatedAt.In(j.v.page.TimeZone).Format(time.DateOnly)
	return v2Component{
		ID: c.ID, Name: c.Name, Status: string(j.v.derived[c.ID]),
		CreatedAt: j.time(c.CreatedAt), UpdatedAt: j.time(c.UpdatedAt),
		Position: c.Position, Description: nullable(c.Description), Showcase: c.Showcase,
		StartDate: &start, GroupID: nullable(c.Group), PageID: j.v.page.ID,
		OnlyShowIfDegraded: c.OnlyShowIfDegraded,
	}
}

// components lists groups and components the way Statuspage does: every
// group, followed by every component, each group naming its members.
func (j v2) components() *[]v2Component {
	out := make([]v2Component, 0, len(j.v.groups)+len(j.v.comps))
	for _, g := range j.v.groups {
		members := []string{}
		for _, c := range j.v.comps {
			if c.Group == g.ID {
				members = append(members, c.ID)
			}
		}
		out = append(out, v2Component{
			ID: g.ID, Name: g.Name, Status: string(j.v.groupStatus(g.ID)),
			CreatedAt: j.time(g.CreatedAt), UpdatedAt: j.time(g.UpdatedAt),
			Position: g.Position, Description: nullable(g.Description),
			PageID: j.v.page.ID, Group: true, Components: members,
		})
	}
	for i := range j.v.comps {
		out = append(out, j.component(&j.v.comps[i]))
	}
	return &out
}

func (j v2) updates(id string, us []fleet.StatusUpdate) []v2Update {
	out := make([]v2Update, 0, len(us))
	// Newest first, as Statuspage lists them.
	for i := len(us) - 1; i >= 0; i-- {
		u := us[i]
		var affected []v2Affected
		for _, a := range u.Affected {
			name := a.Component
			if c := j.v.byID[a.Component]; c != nil {
				name = c.Name
			}
			affected = append(affected, v2Affected{Code: a.Component, Name: name, OldStatus: string(a.Old), NewStatus: string(a.New)})
		}
		display := u.DisplayAt
		if display.IsZero() {
			display = u.CreatedAt
		}
		out = append(out, v2Update{
			ID: u.ID, Status: u.Status, Body: j.l.Name(u.Body), IncidentID: id,
			CreatedAt: j.time(u.CreatedAt), UpdatedAt: j.time(u.UpdatedAt), DisplayAt: j.time(display),
			AffectedComponents: affected, DeliverNotifications: true,
		})
	}
	return out
}

func (j v2) affected(ids []string) []v2Component {
	out := []v2Component{}
	for _, id := range ids {
		if c := j.v.byID[id]; c != nil {
			out = append(out, j.component(c))
		}
	}
	return out
}

func (j v2) incident(in fleet.Incident) v2Incident {
	return v2Incident{
		ID: in.ID, Name: j.l.Name(in.Name), Status: string(in.Status),
		CreatedAt: j.time(in.CreatedAt), UpdatedAt: j.time(in.UpdatedAt),
		MonitoringAt: j.time(in.MonitoringAt), ResolvedAt: j.time(in.ResolvedAt),
		Impact: string(in.Impact), Shortlink: j.v.link(in.ID), StartedAt: j.time(in.StartedAt),
		PageID: j.v.page.ID, IncidentUpdates: j.updates(in.ID, in.Updates), Components: j.affected(in.Components),
	}
}

func (j v2) maintenance(m fleet.Maintenance) v2Maintenance {
	started := m.StartedAt
	if started.IsZero() {
		started = m.ScheduledFor
	}
	return v2Maintenance{
		v2Incident: v2Incident{
			ID: m.ID, Name: j.l.Name(m.Name), Status: string(m.Status),
			CreatedAt: j.time(m.CreatedAt), UpdatedAt: j.time(m.UpdatedAt),
			MonitoringAt: j.time(time.Time{}), ResolvedAt: j.time(m.CompletedAt),
			Impact: string(fleet.ImpactMaintenance), Shortlink: j.v.link(m.ID), StartedAt: j.time(started),
			PageID: j.v.page.ID, IncidentUpdates: j.updates(m.ID, m.Updates), Components: j.affected(m.Components),
		},
		ScheduledFor: j.time(m.ScheduledFor), ScheduledUntil: j.time(m.ScheduledUntil),
	}
}

func (j v2) incidents(ins []fleet.Incident) *[]v2Incident {
	out := make([]v2Incident, 0, len(ins))
	for _, in := range ins {
		out = append(out, j.incident(in))
	}
	return &out
}

func (j v2) maintenances(ms ...[]fleet.Maintenance) *[]v2Maintenance {
	out := []v2Maintenance{}
	for _, list := range ms {
		for _, m := range list {
			out = append(out, j.maintenance(m))
		}
	}
	return &out
}

// The documents, by endpoint.

func (j v2) summary() v2Doc {
	return v2Doc{
		Page: j.page(), Components: j.components(), Incidents: j.incidents(j.v.unresolved),
		ScheduledMaintenances: j.maintenances(j.v.active, j.v.upcoming), Status: j.status(),
	}
}

func (j v2) statusDoc() v2Doc     { return v2Doc{Page: j.page(), Status: j.status()} }
func (j v2) componentsDoc() v2Doc { return v2Doc{Page: j.page(), Components: j.components()} }
func (j v2) incidentsDoc() v2Doc  { return v2Doc{Page: j.page(), Incidents: j.incidents(j.v.incidents)} }
func (j v2) unresolvedDoc() v2Doc {
	return v2Doc{Page: j.page(), Incidents: j.incidents(j.v.unresolved)}
}
func (j v2) maintenanceDoc() v2Doc {
	return v2Doc{Page: j.page(), ScheduledMaintenances: j.maintenances(j.v.maintenance)}
}
func (j v2) upcomingDoc() v2Doc {
	return v2Doc{Page: j.page(), ScheduledMaintenances: j.maintenances(j.v.upcoming)}
}
func (j v2) activeDoc() v2Doc {
	return v2Doc{Page: j.page(), ScheduledMaintenances: j.maintenances(j.v.active)}
}

func renderJSON(doc v2Doc) ([]byte, error) {
	b, err := json.Marshal(doc)
	if err != nil {
		return nil, err
	}
	return append(b, '\n'), nil
}
