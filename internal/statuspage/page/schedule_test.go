package page

import (
	"strings"
	"testing"
	"time"

	"github.com/illico-dev/illico/internal/fleet"
)

// A maintenance an operator scheduled moves along its window by itself,
// unless a rollout drives it or an operator took it on.
func TestAdvance(t *testing.T) {
	n, err := NewNotices(time.UTC)
	if err != nil {
		t.Fatal(err)
	}
	from, until := testNow.Add(time.Hour), testNow.Add(3*time.Hour)
	tests := []struct {
		name    string
		status  fleet.MaintenanceStatus
		rollout string
		at      time.Duration // after testNow
		want    fleet.MaintenanceStatus
		say     string // in English, in the update added
	}{
		{"before its start", fleet.MaintenanceScheduled, "", 59 * time.Minute, fleet.MaintenanceScheduled, ""},
		{"at its start", fleet.MaintenanceScheduled, "", time.Hour, fleet.MaintenanceInProgress, "The scheduled maintenance on Web cluster A has started. We expect to finish by March 14, 2026, 13:30 UTC."},
		{"during", fleet.MaintenanceInProgress, "", 2 * time.Hour, fleet.MaintenanceInProgress, ""},
		{"at its end", fleet.MaintenanceInProgress, "", 3 * time.Hour, fleet.MaintenanceCompleted, "The scheduled maintenance window on Web cluster A has ended."},
		{"verifying, by an operator", fleet.MaintenanceVerifying, "", 4 * time.Hour, fleet.MaintenanceVerifying, ""},
		{"completed early by an operator", fleet.MaintenanceCompleted, "", 4 * time.Hour, fleet.MaintenanceCompleted, ""},
		{"a rollout's", fleet.MaintenanceInProgress, "r1", 4 * time.Hour, fleet.MaintenanceInProgress, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			st := fleet.Status{
				Components: []fleet.Component{{ID: "web-a", Name: "Web cluster A", Hosts: []string{"a1"}}},
				Maintenance: []fleet.Maintenance{{ID: "m1", Name: fleet.Text{"en": "Network"}, Status: tt.status, Components: []string{"web-a"},
					ScheduledFor: from, ScheduledUntil: until, Rollout: tt.rollout,
					Updates: []fleet.StatusUpdate{{ID: "u1", Status: string(tt.status), Body: fleet.Text{"en": "Planned."}}}}},
			}
			now := testNow.Add(tt.at)
			changed, err := n.Advance(&st, now)
			if err != nil {
				t.Fatal(err)
			}
			m := st.Maintenance[0]
			if m.Status != tt.want || changed != (tt.say != "") {
				t.Fatalf("maintenance %s (changed %v), want %s", m.Status, changed, tt.want)
			}
			if tt.say == "" {
				if len(m.Updates) != 1 {
					t.Errorf("updates %+v, want none added", m.Updates)
				}
				return
			}
			u := m.Updates[len(m.Updates)-1]
			if len(m.Updates) != 2 || u.ID != "m1-2" || u.Status != string(tt.want) || !strings.Contains(u.Body["en"], tt.say) || u.Body["fr"] == "" || u.Body["de"] == "" || !u.CreatedAt.Equal(now) {
				t.Errorf("update %+v, want one saying %q", u, tt.say)
			}
			if tt.want == fleet.MaintenanceInProgress {
				if !m.StartedAt.Equal(now) || len(u.Affected) != 1 || u.Affected[0].Old != fleet.Operational || u.Affected[0].New != fleet.UnderMaintenance {
					t.Errorf("started %s, affected %+v", m.StartedAt, u.Affected)
				}
			} else if !m.CompletedAt.Equal(now) || u.Affected[0].Old != fleet.UnderMaintenance || u.Affected[0].New != fleet.Operational {
				t.Errorf("completed %s, affected %+v", m.CompletedAt, u.Affected)
			}
		})
	}
}

// The stored status keeps what the page can show: the open incidents and
// maintenances however old, and the listLimit most recent others.
func TestPrune(t *testing.T) {
	var st fleet.Status
	for i := range listLimit + 20 {
		in := fleet.Incident{ID: string(rune('A' + i)), Status: fleet.Resolved, CreatedAt: testNow.Add(time.Duration(i) * time.Hour)}
		if i < 3 {
			in.Status = fleet.Monitoring
		}
		st.Incidents = append(st.Incidents, in)
		st.Maintenance = append(st.Maintenance, fleet.Maintenance{ID: in.ID, Status: fleet.MaintenanceCompleted, ScheduledFor: in.CreatedAt})
	}
	prune(&st)
	if len(st.Incidents) != listLimit+3 || len(st.Maintenance) != listLimit {
		t.Fatalf("kept %d incidents and %d maintenances, want %d and %d", len(st.Incidents), len(st.Maintenance), listLimit+3, listLimit)
	}
	for i, in := range st.Incidents[:3] {
		if in.Status != fleet.Monitoring || in.ID != string(rune('A'+i)) {
			t.Errorf("incident %d: %+v, want the old open ones first, in order", i, in)
		}
	}
	if first := st.Incidents[3].ID; first != string(rune('A'+20)) {
		t.Errorf("oldest resolved incident kept: %s", first)
	}
}
