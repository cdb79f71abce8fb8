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
	"github.com/illico-dev/illico/internal/httpjson"
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
// seconds, in the page's time zone.
var localFormats = []string{"2006-01-02T15:04", "2006-01-02T15:04:05"}

// doneMessages confirm a form's success after the redirect, by the done
// parameter it carries.
var doneMessages = map[string]string{
	"incident":    "The incident is open.",
	"update":      "The update is posted.",
	"maintenance": "The maintenance is scheduled.",
	"component":   "The component's status is set.",
}

// timeFields name the forms' time fields in the notes after a success.
var timeFields = map[string]string{"from": "start", "until": "end"}

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
	// zone is the one its times are typed in; firsts are those of them the
	// clocks showed twice, read as the first.
	zone   editorZone
	firsts []firstOf
}

// firstOf is a time field the clocks showed twice, and the first instant
// it was read as.
type firstOf struct {
	Field string
	At    time.Time
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
	for _, l := range fleet.Languages() {
		if v := strings.TrimSpace(f.values.Get(prefix + "_" + l.Code)); v != "" {
			t[l.Code] = v
		}
	}
	if len(t) == 0 {
		f.fail(prefix, "Write the %s in at least one language.", what)
	}
	return t
}

// time reads the datetime-local field in the form's zone. A field left
// empty is the zero time, and an error unless optional.
func (f *statusForm) time(field, what string, optional bool) time.Time {
	v := strings.TrimSpace(f.values.Get(field))
	if v == "" {
		if !optional {
			f.fail(field, "Give the %s, like 2026-03-14T22:00 (%s).", what, f.zone.label)
		}
		return time.Time{}
	}
	for _, layout := range localFormats {
		w, err := time.ParseInLocation(layout, v, time.UTC)
		if err != nil {
			continue
		}
		t, twice, err := wallClock(w, f.zone.loc)
		switch {
		case err != nil:
			f.fail(field, "The %s %q does not exist in %s: %v; give a time before or after.", what, v, f.zone.loc, err)
			return time.Time{}
		// The zero time is how the API is told of no time at all, and
		// JSON has no year beyond 9999.
		case t.IsZero() || t.UTC().Year() > 9999:
			continue
		case twice:
			f.firsts = append(f.firsts, firstOf{Field: field, At: t})
		}
		return t
	}
	f.fail(field, "The %s %q is not a date and time; write it like 2026-03-14T22:00 (%s).", what, v, f.zone.label)
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
	// Zone names the page's time zone, that every time is in, like Now
	// and the proposed window of a new maintenance.
	Zone, Now, ScheduleStart, ScheduleEnd string
}

// newEditorView sorts the page's incidents and maintenances as the editor
// lists them, each timeline newest first, with their times in z.
func newEditorView(st api.StatusPage, z editorZone, now time.Time, failed *statusForm) editorView {
	v := editorView{Components: st.Components, Names: map[string]string{}, RecentDays: recentDays, Zone: z.label}
	inZone(&st, z.loc)
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
	// A window proposed from the next full hour of the zone, for two hours.
	local := now.In(z.loc)
	start := time.Date(local.Year(), local.Month(), local.Day(), local.Hour()+1, 0, 0, 0, z.loc)
	v.Now = local.Format("2006-01-02 15:04 MST")
	v.ScheduleStart, v.ScheduleEnd = start.Format(localFormats[0]), start.Add(2*time.Hour).In(z.loc).Format(localFormats[0])
	return v
}

// inZone puts every time of st in loc, for the editor to show.
func inZone(st *api.StatusPage, loc *time.Location) {
	zoned := func(t *time.Time) *time.Time {
		if t == nil {
			return nil
		}
		l := t.In(loc)
		return &l
	}
	updates := func(us []api.StatusUpdate) {
		for i := range us {
			us[i].CreatedAt = us[i].CreatedAt.In(loc)
		}
	}
	for i := range st.Incidents {
		in := &st.Incidents[i]
		in.CreatedAt, in.ResolvedAt = in.CreatedAt.In(loc), zoned(in.ResolvedAt)
		updates(in.Updates)
	}
	for i := range st.Maintenances {
		m := &st.Maintenances[i]
		m.ScheduledFor, m.ScheduledUntil, m.CompletedAt = m.ScheduledFor.In(loc), m.ScheduledUntil.In(loc), zoned(m.CompletedAt)
		updates(m.Updates)
	}
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
	now := d.now()
	z := newEditorZone(st.TimeZone, now, d.log)
	done := doneMessages[r.URL.Query().Get("done")]
	var notes []string
	if done != "" {
		notes = firstNotes(r.URL.Query(), z)
	}
	d.render(w, r, code, "status", s, map[string]any{
		"View": newEditorView(st, z, now, failed), "Failed": failed, "Done": done, "Notes": notes,
		"IncidentStatuses": fleet.IncidentStatuses, "Impacts": fleet.Impacts,
		"MaintenanceStatuses": fleet.MaintenanceStatuses, "ComponentStatuses": fleet.ComponentStatuses,
		"Languages": fleet.Languages(), // a status text has a field for each
	})
}

// pageZone is the page's time zone, for a form's times; false when the
// API failed, which w then says.
func (d *Dashboard) pageZone(w http.ResponseWriter, r *http.Request, s *session) (editorZone, bool) {
	var st api.StatusPage
	if err := d.call(r, s, http.MethodGet, api.Prefix+"/status", nil, &st); err != nil {
		d.apiFailed(w, r, s, err)
		return editorZone{}, false
	}
	return newEditorZone(st.TimeZone, d.now(), d.log), true
}

// firstNotes say, after a success, which times of the form the clocks
// showed twice, and which of the two was taken: the redirect carries them
// as first=FIELD@INSTANT.
func firstNotes(q url.Values, z editorZone) []string {
	var notes []string
	for _, v := range q["first"] {
		field, at, _ := strings.Cut(v, "@")
		what, known := timeFields[field]
		t, err := time.Parse(time.RFC3339, at)
		if !known || err != nil {
			continue
		}
		t = t.In(z.loc)
		notes = append(notes, fmt.Sprintf("The %s, %s, comes twice in %s as the clocks go back: the first was taken, %s (%s).",
			what, t.Format("2006-01-02 15:04"), z.loc, t.Format("15:04 MST"), t.UTC().Format("15:04 UTC")))
	}
	return notes
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
		d.showStatus(w, r, s, httpjson.Status(kind), f)
		return
	}
	q := url.Values{"done": {done}}
	for _, first := range f.firsts {
		q.Add("first", first.Field+"@"+first.At.UTC().Format(time.RFC3339))
	}
	http.Redirect(w, r, "/dashboard/status?"+q.Encode()+"#"+anchor, http.StatusSeeOther)
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
	z, ok := d.pageZone(w, r, s)
	if !ok {
		return
	}
	f := newStatusForm("new-m", r)
	f.zone = z
	m := api.NewMaintenance{Name: f.text("name", "name"), Components: append([]string{}, r.PostForm["components"]...)}
	if len(m.Components) == 0 {
		f.fail("components", "Tick the components the maintenance affects.")
	}
	m.ScheduledFor = f.time("from", "start", false)
	m.ScheduledUntil = f.time("until", "end", false)
	if !m.ScheduledFor.IsZero() && !m.ScheduledUntil.IsZero() && !m.ScheduledUntil.After(m.ScheduledFor) {
		f.fail("until", "The end must come after the start, %s (%s).", m.ScheduledFor.In(f.zone.loc).Format(localFormats[0]), f.zone.label)
	}
	m.Body = f.text("body", "message")
	d.send(w, r, s, f, api.Prefix+"/status/maintenances", m, "maintenance", "maintenances")
}

// updateMaintenance sends the form to POST
// /api/v1/status/maintenances/{id}/updates; an end time left empty keeps
// the window's.
func (d *Dashboard) updateMaintenance(w http.ResponseWriter, r *http.Request, s *session) {
	id := r.PathValue("id")
	z, ok := d.pageZone(w, r, s)
	if !ok {
		return
	}
	f := newStatusForm("m-"+id, r)
	f.zone = z
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
