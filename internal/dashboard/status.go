package dashboard

import (
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/illico-dev/illico/internal/api"
	"github.com/illico-dev/illico/internal/fleet"
)

// The status page's editor: everything `illico status` does, as forms.
// Each form posts to the API as the session's principal; a refusal, or a
// field the dashboard cannot send as it is (a date it cannot read), shows
// the page again with what the operator typed and the reason beside the
// field.

// recentDays is how long resolved incidents and completed maintenances
// stay on the editor, collapsed, so that one closed too early can be
// opened again.
const recentDays = 7

// localFormats are what a datetime-local field sends, with or without
// seconds. The editor takes and shows times in UTC: the API does not say
// the page's time zone, and a browser's own zone is the operator's, not
// the customers'.
var localFormats = []string{"2006-01-02T15:04", "2006-01-02T15:04:05"}

// languages are those a status text may be written in, one field each,
// with the name each is shown under.
var languages = []struct{ Code, Name string }{{"en", "English"}, {"fr", "Français"}, {"de", "Deutsch"}}

// doneMessages confirm a form's success after the redirect, by the done
// parameter it carries.
var doneMessages = map[string]string{
	"incident":    "The incident is open.",
	"update":      "The update is posted.",
	"maintenance": "The maintenance is scheduled.",
	"component":   "The component's status is set.",
}

// fieldError is what is wrong with one field of a form.
type fieldError struct{ Field, Text string }

// statusForm is a form of the editor that failed, shown again with the
// operator's input. Its methods answer for any form: they are called on
// the nil form for those that did not fail.
type statusForm struct {
	// Key names the form on the page: "new-in", "new-m", or "in-", "m-"
	// or "c-" and the ID of what it edits. Its element is "f-"+Key, and
	// its fields "f-"+Key+"-"+field.
	Key    string
	values url.Values
	Errors []fieldError
	// Message is the API's refusal.
	Message string
}

func newStatusForm(key string, r *http.Request) *statusForm {
	return &statusForm{Key: key, values: r.PostForm}
}

// For is the form if it is the one named key, else nil.
func (f *statusForm) For(key string) *statusForm {
	if f == nil || f.Key != key {
		return nil
	}
	return f
}

// Value is what the operator typed in the field name.
func (f *statusForm) Value(name string) string {
	if f == nil {
		return ""
	}
	return f.values.Get(name)
}

// Checked says whether the operator ticked the box of value v.
func (f *statusForm) Checked(name, v string) bool {
	return f != nil && slices.Contains(f.values[name], v)
}

// Error is what is wrong with field, or "".
func (f *statusForm) Error(field string) string {
	if f == nil {
		return ""
	}
	for _, e := range f.Errors {
		if e.Field == field {
			return e.Text
		}
	}
	return ""
}

func (f *statusForm) fail(field, format string, args ...any) {
	f.Errors = append(f.Errors, fieldError{Field: field, Text: fmt.Sprintf(format, args...)})
}

// text gathers the fields prefix_en, prefix_fr… left non-empty, and says
// which field lacks all of them.
func (f *statusForm) text(prefix, what string) fleet.Text {
	t := fleet.Text{}
	for _, l := range languages {
		if v := strings.TrimSpace(f.values.Get(prefix + "_" + l.Code)); v != "" {
			t[l.Code] = v
		}
	}
	if len(t) == 0 {
		f.fail(prefix, "Write the %s in at least one language.", what)
	}
	return t
}

// time reads the datetime-local field, in UTC. A field left empty is the
// zero time, and an error unless optional.
func (f *statusForm) time(field, what string, optional bool) time.Time {
	v := strings.TrimSpace(f.values.Get(field))
	if v == "" {
		if !optional {
			f.fail(field, "Give the %s, like 2026-03-14T22:00 (UTC).", what)
		}
		return time.Time{}
	}
	for _, layout := range localFormats {
		// The zero time is how the API is told of no time at all.
		if t, err := time.ParseInLocation(layout, v, time.UTC); err == nil && !t.IsZero() {
			return t
		}
	}
	f.fail(field, "The %s %q is not a date and time; write it like 2026-03-14T22:00 (UTC).", what, v)
	return time.Time{}
}

// editorView is the status page as the editor shows it.
type editorView struct {
	Components []api.StatusComponent
	// Names are the components' names by ID.
	Names      map[string]string
	Incidents  []api.Incident
	Resolved   []api.Incident
	InProgress []api.Maintenance
	Upcoming   []api.Maintenance
	Completed  []api.Maintenance
	Overridden int
	RecentDays int
	// OpenResolved and OpenCompleted unfold the resolved incidents or the
	// completed maintenances when the form that failed is among them.
	OpenResolved, OpenCompleted bool
	// Now and the proposed window of a new maintenance, in UTC.
	Now, ScheduleStart, ScheduleEnd string
}

// newEditorView sorts the page's incidents and maintenances as the editor
// lists them, each timeline newest first.
func newEditorView(st api.StatusPage, now time.Time, failed *statusForm) editorView {
	v := editorView{Components: st.Components, Names: map[string]string{}, RecentDays: recentDays}
	for _, c := range st.Components {
		v.Names[c.ID] = c.Name
		if c.Override != "" {
			v.Overridden++
		}
	}
	since := now.AddDate(0, 0, -recentDays)
	for _, in := range st.Incidents {
		slices.Reverse(in.Updates)
		switch {
		case in.Status != string(fleet.Resolved):
			v.Incidents = append(v.Incidents, in)
		case in.ResolvedAt != nil && in.ResolvedAt.After(since):
			v.Resolved = append(v.Resolved, in)
			v.OpenResolved = v.OpenResolved || failed.For("in-"+in.ID) != nil
		}
	}
	for _, m := range st.Maintenances {
		slices.Reverse(m.Updates)
		switch status := fleet.MaintenanceStatus(m.Status); {
		case status.Active():
			v.InProgress = append(v.InProgress, m)
		case status == fleet.MaintenanceScheduled:
			v.Upcoming = append(v.Upcoming, m)
		case m.CompletedAt != nil && m.CompletedAt.After(since):
			v.Completed = append(v.Completed, m)
			v.OpenCompleted = v.OpenCompleted || failed.For("m-"+m.ID) != nil
		}
	}
	newest := func(a, b api.Incident) int { return b.CreatedAt.Compare(a.CreatedAt) }
	slices.SortStableFunc(v.Incidents, newest)
	slices.SortStableFunc(v.Resolved, newest)
	soonest := func(a, b api.Maintenance) int { return a.ScheduledFor.Compare(b.ScheduledFor) }
	slices.SortStableFunc(v.InProgress, soonest)
	slices.SortStableFunc(v.Upcoming, soonest)
	slices.SortStableFunc(v.Completed, func(a, b api.Maintenance) int { return b.ScheduledFor.Compare(a.ScheduledFor) })
	// A window proposed from the next full hour, for two hours.
	start := now.UTC().Truncate(time.Hour).Add(time.Hour)
	v.Now = now.UTC().Format("2006-01-02 15:04 UTC")
	v.ScheduleStart, v.ScheduleEnd = start.Format(localFormats[0]), start.Add(2*time.Hour).Format(localFormats[0])
	return v
}

func (d *Dashboard) status(w http.ResponseWriter, r *http.Request, s *session) {
	d.showStatus(w, r, s, http.StatusOK, nil)
}

// showStatus renders the editor; failed, if any, is the form shown again.
func (d *Dashboard) showStatus(w http.ResponseWriter, r *http.Request, s *session, code int, failed *statusForm) {
	var st api.StatusPage
	if err := d.call(r, s, http.MethodGet, api.Prefix+"/status", nil, &st); err != nil {
		d.apiFailed(w, r, s, err)
		return
	}
	d.render(w, r, code, "status", s, map[string]any{
		"View": newEditorView(st, d.now(), failed), "Failed": failed, "Done": doneMessages[r.URL.Query().Get("done")],
		"IncidentStatuses": fleet.IncidentStatuses, "Impacts": fleet.Impacts,
		"MaintenanceStatuses": fleet.MaintenanceStatuses, "ComponentStatuses": fleet.ComponentStatuses,
		"Languages": languages,
	})
}

// send posts the form's body to the API, then goes back to the editor at
// anchor, or shows the form again with what is wrong.
func (d *Dashboard) send(w http.ResponseWriter, r *http.Request, s *session, f *statusForm, path string, body any, done, anchor string) {
	if len(f.Errors) > 0 {
		d.showStatus(w, r, s, http.StatusBadRequest, f)
		return
	}
	if err := d.call(r, s, http.MethodPost, path, body, nil); err != nil {
		kind := fleet.KindOf(err)
		if kind == fleet.KindUnauthorized || kind == fleet.KindInternal {
			d.apiFailed(w, r, s, err)
			return
		}
		f.Message = err.Error()
		d.showStatus(w, r, s, api.Status(kind), f)
		return
	}
	http.Redirect(w, r, "/dashboard/status?done="+done+"#"+anchor, http.StatusSeeOther)
}

func statusPath(kind, id string) string {
	return api.Prefix + "/status/" + kind + "/" + url.PathEscape(id)
}

// openIncident sends the form to POST /api/v1/status/incidents.
func (d *Dashboard) openIncident(w http.ResponseWriter, r *http.Request, s *session) {
	f := newStatusForm("new-in", r)
	in := api.NewIncident{
		Name: f.text("name", "title"), Status: r.PostFormValue("status"), Impact: r.PostFormValue("impact"),
		Components: append([]string{}, r.PostForm["components"]...), Body: f.text("body", "message"),
	}
	d.send(w, r, s, f, api.Prefix+"/status/incidents", in, "incident", "incidents")
}

// updateIncident sends the form to POST /api/v1/status/incidents/{id}/updates.
func (d *Dashboard) updateIncident(w http.ResponseWriter, r *http.Request, s *session) {
	id := r.PathValue("id")
	f := newStatusForm("in-"+id, r)
	u := api.NewStatusUpdate{Status: r.PostFormValue("status"), Body: f.text("body", "message")}
	d.send(w, r, s, f, statusPath("incidents", id)+"/updates", u, "update", "in-"+id)
}

// scheduleMaintenance sends the form to POST /api/v1/status/maintenances.
func (d *Dashboard) scheduleMaintenance(w http.ResponseWriter, r *http.Request, s *session) {
	f := newStatusForm("new-m", r)
	m := api.NewMaintenance{Name: f.text("name", "name"), Components: append([]string{}, r.PostForm["components"]...)}
	if len(m.Components) == 0 {
		f.fail("components", "Tick the components the maintenance affects.")
	}
	m.ScheduledFor = f.time("from", "start", false)
	m.ScheduledUntil = f.time("until", "end", false)
	if !m.ScheduledFor.IsZero() && !m.ScheduledUntil.IsZero() && !m.ScheduledUntil.After(m.ScheduledFor) {
		f.fail("until", "The end must come after the start, %s UTC.", m.ScheduledFor.Format(localFormats[0]))
	}
	m.Body = f.text("body", "message")
	d.send(w, r, s, f, api.Prefix+"/status/maintenances", m, "maintenance", "maintenances")
}

// updateMaintenance sends the form to POST
// /api/v1/status/maintenances/{id}/updates; an end time left empty keeps
// the window's.
func (d *Dashboard) updateMaintenance(w http.ResponseWriter, r *http.Request, s *session) {
	id := r.PathValue("id")
	f := newStatusForm("m-"+id, r)
	u := api.NewStatusUpdate{Status: r.PostFormValue("status"), Body: f.text("body", "message")}
	if until := f.time("until", "new end", true); !until.IsZero() {
		u.ScheduledUntil = &until
	}
	d.send(w, r, s, f, statusPath("maintenances", id)+"/updates", u, "update", "m-"+id)
}

// setComponent sends the form to POST /api/v1/status/components/{id}.
func (d *Dashboard) setComponent(w http.ResponseWriter, r *http.Request, s *session) {
	id := r.PathValue("id")
	f := newStatusForm("c-"+id, r)
	d.send(w, r, s, f, statusPath("components", id), api.ComponentStatus{Status: r.PostFormValue("status")}, "component", "c-"+id)
}
