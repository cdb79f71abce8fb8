package page

import (
	"encoding/json"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/illico-dev/illico/internal/fleet"
)

// The field names and values of Statuspage's public API, v2, that widgets
// and aggregators read.
var (
	v2PageFields      = []string{"id", "name", "url", "time_zone", "updated_at"}
	v2StatusFields    = []string{"indicator", "description"}
	v2ComponentFields = []string{"id", "name", "status", "created_at", "updated_at", "position", "description",
		"showcase", "start_date", "group_id", "page_id", "group", "only_show_if_degraded"}
	v2IncidentFields = []string{"id", "name", "status", "impact", "created_at", "updated_at", "monitoring_at",
		"resolved_at", "shortlink", "started_at", "page_id", "incident_updates", "components"}
	v2MaintenanceFields = append(slices.Clone(v2IncidentFields), "scheduled_for", "scheduled_until")
	v2UpdateFields      = []string{"id", "status", "body", "incident_id", "created_at", "updated_at", "display_at", "affected_components"}
	v2AffectedFields    = []string{"code", "name", "old_status", "new_status"}

	v2ComponentStatuses   = []string{"operational", "degraded_performance", "partial_outage", "major_outage", "under_maintenance"}
	v2Indicators          = []string{"none", "minor", "major", "critical", "maintenance"}
	v2IncidentStatuses    = []string{"investigating", "identified", "monitoring", "resolved", "postmortem"}
	v2MaintenanceStatuses = []string{"scheduled", "in_progress", "verifying", "completed"}
	v2Impacts             = []string{"none", "minor", "major", "critical", "maintenance"}
)

func TestV2Compatibility(t *testing.T) {
	tp := newTestPage(t, testStatus())
	tests := []struct {
		path string
		keys []string // the document's top-level keys
		ids  []string // the IDs of its incidents or maintenances, in order
	}{
		{"/api/v2/summary.json", []string{"page", "components", "incidents", "scheduled_maintenances", "status"}, []string{"inc-open", "m-now", "m-next"}},
		{"/api/v2/status.json", []string{"page", "status"}, nil},
		{"/api/v2/components.json", []string{"page", "components"}, nil},
		{"/api/v2/incidents.json", []string{"page", "incidents"}, []string{"inc-open", "inc-old"}},
		{"/api/v2/incidents/unresolved.json", []string{"page", "incidents"}, []string{"inc-open"}},
		{"/api/v2/scheduled-maintenances.json", []string{"page", "scheduled_maintenances"}, []string{"m-next", "m-now", "m-done"}},
		{"/api/v2/scheduled-maintenances/upcoming.json", []string{"page", "scheduled_maintenances"}, []string{"m-next"}},
		{"/api/v2/scheduled-maintenances/active.json", []string{"page", "scheduled_maintenances"}, []string{"m-now"}},
	}
	for _, tt := range tests {
		t.Run(strings.TrimPrefix(tt.path, "/api/v2/"), func(t *testing.T) {
			resp, body := tp.get(t, tt.path)
			if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "application/json; charset=utf-8" {
				t.Fatalf("status %d, type %q", resp.StatusCode, resp.Header.Get("Content-Type"))
			}
			var doc map[string]any
			if err := json.Unmarshal(body, &doc); err != nil {
				t.Fatal(err)
			}
			hasKeys(t, "document", doc, tt.keys, nil)
			hasKeys(t, "page", doc["page"], v2PageFields, nil)
			if st, ok := doc["status"]; ok {
				hasKeys(t, "status", st, v2StatusFields, nil)
				oneOf(t, "status.indicator", st.(map[string]any)["indicator"], v2Indicators)
			}
			if cs, ok := doc["components"]; ok {
				checkComponents(t, cs)
			}
			var ids []string
			for _, key := range []string{"incidents", "scheduled_maintenances"} {
				list, ok := doc[key].([]any)
				if _, present := doc[key]; present && !ok {
					t.Fatalf("%s is %T, not a list", key, doc[key])
				}
				for _, it := range list {
					m := it.(map[string]any)
					ids = append(ids, m["id"].(string))
					if key == "incidents" {
						hasKeys(t, "incident", m, v2IncidentFields, nil)
						oneOf(t, "incident.status", m["status"], v2IncidentStatuses)
						oneOf(t, "incident.impact", m["impact"], v2Impacts[:4])
					} else {
						hasKeys(t, "maintenance", m, v2MaintenanceFields, nil)
						oneOf(t, "maintenance.status", m["status"], v2MaintenanceStatuses)
						oneOf(t, "maintenance.impact", m["impact"], v2Impacts)
					}
					checkComponents(t, m["components"])
					for _, u := range m["incident_updates"].([]any) {
						hasKeys(t, "incident_update", u, v2UpdateFields, []string{"deliver_notifications"})
						um := u.(map[string]any)
						oneOf(t, "incident_update.status", um["status"], append(slices.Clone(v2IncidentStatuses), v2MaintenanceStatuses...))
						if um["incident_id"] != m["id"] {
							t.Errorf("update %v: incident_id %v, want %v", um["id"], um["incident_id"], m["id"])
						}
						affected, _ := um["affected_components"].([]any)
						for _, a := range affected {
							hasKeys(t, "affected_component", a, v2AffectedFields, nil)
							am := a.(map[string]any)
							oneOf(t, "old_status", am["old_status"], v2ComponentStatuses)
							oneOf(t, "new_status", am["new_status"], v2ComponentStatuses)
						}
					}
				}
			}
			if !slices.Equal(ids, tt.ids) {
				t.Errorf("items %v, want %v", ids, tt.ids)
			}
		})
	}
}

func checkComponents(t *testing.T, v any) {
	t.Helper()
	list, ok := v.([]any)
	if !ok {
		t.Fatalf("components is %T, not a list", v)
	}
	for _, c := range list {
		m := c.(map[string]any)
		extra := []string(nil)
		if m["group"] == true {
			extra = []string{"components"}
		}
		hasKeys(t, "component", c, v2ComponentFields, extra)
		oneOf(t, "component.status", m["status"], v2ComponentStatuses)
	}
}

// hasKeys checks that v is an object with every key of want, and no other
// key than those and the optional ones.
func hasKeys(t *testing.T, what string, v any, want, optional []string) {
	t.Helper()
	m, ok := v.(map[string]any)
	if !ok {
		t.Fatalf("%s is %T, not an object", what, v)
	}
	for _, k := range want {
		if _, ok := m[k]; !ok {
			t.Errorf("%s: no field %q", what, k)
		}
	}
	for k := range m {
		if !slices.Contains(want, k) && !slices.Contains(optional, k) {
			t.Errorf("%s: field %q is not Statuspage's", what, k)
		}
	}
}

func oneOf(t *testing.T, what string, v any, values []string) {
	t.Helper()
	s, ok := v.(string)
	if !ok || !slices.Contains(values, s) {
		t.Errorf("%s: %v is not one of %v", what, v, values)
	}
}

// The enumerations of the fleet types are Statuspage's.
func TestV2Enumerations(t *testing.T) {
	for _, s := range fleet.ComponentStatuses {
		if !slices.Contains(v2ComponentStatuses, string(s)) {
			t.Errorf("component status %q", s)
		}
	}
	for _, s := range fleet.IncidentStatuses {
		if !slices.Contains(v2IncidentStatuses, string(s)) {
			t.Errorf("incident status %q", s)
		}
	}
	for _, s := range fleet.MaintenanceStatuses {
		if !slices.Contains(v2MaintenanceStatuses, string(s)) {
			t.Errorf("maintenance status %q", s)
		}
	}
	for _, s := range append(fleet.Impacts, fleet.ImpactMaintenance) {
		if !slices.Contains(v2Impacts, string(s)) {
			t.Errorf("impact %q", s)
		}
	}
	if !slices.Equal(Indicators, v2Indicators) {
		t.Errorf("indicators %v, want %v", Indicators, v2Indicators)
	}
}

func TestV2Time(t *testing.T) {
	b, err := json.Marshal(struct{ A, B v2Time }{A: v2Time(testNow)})
	if err != nil {
		t.Fatal(err)
	}
	if got, want := string(b), `{"A":"2026-03-14T10:30:00.000Z","B":null}`; got != want {
		t.Errorf("got %s, want %s", got, want)
	}
}

// A component's updated_at is when its shown status last changed, not when
// it joined the page.
func TestV2ComponentUpdatedAt(t *testing.T) {
	tp := newTestPage(t, testStatus())
	created := testNow.Add(-30 * 24 * time.Hour)
	updatedAt := func(t *testing.T) map[string]time.Time {
		t.Helper()
		_, body := tp.get(t, "/api/v2/components.json")
		var doc struct {
			Components []struct {
				ID        string    `json:"id"`
				UpdatedAt time.Time `json:"updated_at"`
			} `json:"components"`
		}
		if err := json.Unmarshal(body, &doc); err != nil {
			t.Fatal(err)
		}
		out := map[string]time.Time{}
		for _, c := range doc.Components {
			out[c.ID] = c.UpdatedAt
		}
		return out
	}
	for id, at := range updatedAt(t) {
		if !at.Equal(created) {
			t.Errorf("before any change, %s updated at %s, want its creation, %s", id, at, created)
		}
	}
	// Five minutes later, b2 is back: Web cluster B is operational again,
	// and its group only under maintenance.
	*tp.now = testNow.Add(5 * time.Minute)
	if err := tp.mem.Update(t.Context(), func(st *fleet.Status) error {
		st.Hosts["b2"] = fleet.HostUp
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	// An incident changes no component's status.
	*tp.now = testNow.Add(10 * time.Minute)
	if err := tp.mem.Update(t.Context(), func(st *fleet.Status) error {
		st.Incidents = append(st.Incidents, fleet.Incident{ID: "inc-new", Status: fleet.Investigating, Impact: fleet.ImpactMinor, Components: []string{"web-b"}})
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	want := map[string]time.Time{"web-a": created, "web-b": testNow.Add(5 * time.Minute), "ded": created, "dns": created,
		"shared": testNow.Add(5 * time.Minute), "dedicated": created}
	got := updatedAt(t)
	for id, w := range want {
		if !got[id].Equal(w) {
			t.Errorf("%s updated at %s, want %s", id, got[id], w)
		}
	}
}
