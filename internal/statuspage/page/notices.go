package page

import (
	"fmt"
	"strings"
	"time"

	"github.com/illico-dev/illico/internal/fleet"
)

// Notices writes the updates a rollout publishes, in every language of the
// page, so that no one has to type them while the rollout runs.
type Notices struct {
	cat *catalog
	tz  *time.Location
}

// NewNotices returns the notices, with times shown in tz (UTC when nil).
func NewNotices(tz *time.Location) (*Notices, error) {
	cat, err := loadCatalog()
	if err != nil {
		return nil, fmt.Errorf("notices: %w", err)
	}
	if tz == nil {
		tz = time.UTC
	}
	return &Notices{cat: cat, tz: tz}, nil
}

// Progress is what a notice says of a rollout.
type Progress struct {
	// Components are the names of the affected components.
	Components []string
	// Start is when the maintenance starts or started; ETA when it is
	// expected to end.
	Start, ETA time.Time
	// Done of Total hosts are through the maintenance.
	Done, Total int
}

// Kinds of notices.
const (
	MaintenanceName      = "maintenance.name"
	MaintenanceScheduled = "maintenance.scheduled"
	MaintenanceStarted   = "maintenance.started"
	MaintenanceProgress  = "maintenance.progress"
	MaintenanceCompleted = "maintenance.completed"
	// MaintenanceAborted ends the maintenance of a rollout an operator
	// aborted: the hosts done are done, the others were not touched.
	MaintenanceAborted = "maintenance.aborted"
	// WindowStarted and WindowEnded are the updates of a maintenance an
	// operator scheduled, at the start and the end of its window.
	WindowStarted      = "maintenance.window_started"
	WindowEnded        = "maintenance.window_ended"
	IncidentName       = "incident.name"
	IncidentHalted     = "incident.halted"
	IncidentRolledBack = "incident.rolled_back"
)

// NoticeKinds are all the kinds of notices.
var NoticeKinds = []string{
	MaintenanceName, MaintenanceScheduled, MaintenanceStarted, MaintenanceProgress, MaintenanceCompleted,
	MaintenanceAborted, WindowStarted, WindowEnded,
	IncidentName, IncidentHalted, IncidentRolledBack,
}

// Text writes the notice of kind about p in every language.
func (n *Notices) Text(kind string, p Progress) (fleet.Text, error) {
	t := fleet.Text{}
	for _, code := range n.cat.languages() {
		l := n.cat.locale(code)
		tmpl := l.notices["notice."+kind]
		if tmpl == nil {
			return nil, fmt.Errorf("no notice %q", kind)
		}
		data := struct {
			Components, Start, ETA string
			Done, Total            int
		}{
			Components: l.List(p.Components),
			Start:      l.DateTime(p.Start.In(n.tz)),
			ETA:        l.DateTime(p.ETA.In(n.tz)),
			Done:       p.Done,
			Total:      p.Total,
		}
		var b strings.Builder
		if err := tmpl.Execute(&b, data); err != nil {
			return nil, fmt.Errorf("notice %s in %s: %w", kind, code, err)
		}
		t[code] = b.String()
	}
	return t, nil
}
