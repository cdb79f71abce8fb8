package dashboard_test

import (
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/illico-dev/illico/internal/api"
	"github.com/illico-dev/illico/internal/statuspage/page"
)

// apiStatus reads the page's status through the API, as a script would.
func (d *daemon) apiStatus(t testing.TB) api.StatusPage {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, d.url+"/api/v1/status", nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+d.reader)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var st api.StatusPage
	if err := json.NewDecoder(resp.Body).Decode(&st); err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("GET /api/v1/status: %d %v", resp.StatusCode, err)
	}
	return st
}

// publicPage waits for the public status page to show want.
func (d *daemon) publicPage(t testing.TB, want string) string {
	t.Helper()
	c := &http.Client{Timeout: 10 * time.Second}
	var body string
	for range 200 {
		resp, err := c.Get(d.public + "/")
		if err != nil {
			t.Fatal(err)
		}
		raw, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		if err != nil {
			t.Fatal(err)
		}
		if body = string(raw); strings.Contains(body, want) {
			return body
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("the public status page never showed %q:\n%s", want, body)
	return ""
}

// section is the part of a page from the heading with id to the next
// heading of its level.
func section(body, id string) string {
	i := strings.Index(body, `<h2 id="`+id+`"`)
	if i < 0 {
		return ""
	}
	rest := body[i+1:]
	if j := strings.Index(rest, "<h2 "); j >= 0 {
		rest = rest[:j]
	}
	return rest
}

// local is t as a datetime-local field sends it, in UTC.
func local(t time.Time) string { return t.UTC().Format("2006-01-02T15:04") }

func scheduleForm(token string, from, until time.Time) url.Values {
	return url.Values{
		"csrf": {token}, "name_en": {"Mail cluster upgrade"}, "name_fr": {"Mise à jour du courrier"},
		"components": {"web-cluster-01"}, "from": {local(from)}, "until": {local(until)},
		"body_en": {"Mail may be slow for a few minutes."},
	}
}

func TestScheduleAndUpdateAMaintenance(t *testing.T) {
	d := start(t)
	b := d.browser(t)
	token := csrf(t, b.login(d.operator))
	from := d.clock.Now().UTC().Add(26 * time.Hour).Truncate(time.Minute)
	until := from.Add(2 * time.Hour)

	p := b.post("/dashboard/status/maintenances", scheduleForm(token, from, until))
	if p.status != http.StatusOK || !strings.Contains(p.body, "The maintenance is scheduled.") {
		t.Fatalf("schedule: %d\n%s", p.status, p.body)
	}
	if up := section(p.body, "upcoming"); !strings.Contains(up, "Mail cluster upgrade") || !strings.Contains(up, "scheduled by hand") {
		t.Errorf("the maintenance is not under Upcoming:\n%s", up)
	}
	st := d.apiStatus(t)
	if len(st.Maintenances) != 1 {
		t.Fatalf("the API has %d maintenances, want 1", len(st.Maintenances))
	}
	m := st.Maintenances[0]
	if !m.ScheduledFor.Equal(from) || !m.ScheduledUntil.Equal(until) || m.Status != "scheduled" || m.Name["fr"] != "Mise à jour du courrier" {
		t.Errorf("the API has %+v, want %s to %s, scheduled, named in French too", m, from, until)
	}
	public := d.publicPage(t, "Mail cluster upgrade")
	if !strings.Contains(public, `id="upcoming"`) {
		t.Errorf("the public page does not show the maintenance as upcoming:\n%s", public)
	}

	path := "/dashboard/status/maintenances/" + m.ID + "/updates"
	later := until.Add(time.Hour)
	for _, tc := range []struct {
		name   string
		until  string
		status int
		want   []string
	}{
		{"an end it cannot read", "tomorrow night", http.StatusBadRequest,
			[]string{`id="f-m-` + m.ID + `-until-err"`, `The new end &#34;tomorrow night&#34; is not a date and time`, `aria-invalid="true"`, `value="tomorrow night"`, "Delayed by the vendor."}},
		{"an end before the start, refused by the API", local(from.Add(-time.Hour)), http.StatusBadRequest,
			[]string{"The daemon refused this change", "is not after the maintenance&#39;s start", "Delayed by the vendor."}},
		{"a new end", local(later), http.StatusOK, []string{"The update is posted.", "Delayed by the vendor."}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := b.post(path, url.Values{"csrf": {token}, "status": {"scheduled"}, "until": {tc.until}, "body_en": {"Delayed by the vendor."}})
			if p.status != tc.status {
				t.Fatalf("answered %d, want %d\n%s", p.status, tc.status, p.body)
			}
			for _, want := range tc.want {
				if !strings.Contains(p.body, want) {
					t.Errorf("the page lacks %q", want)
				}
			}
		})
	}
	m = d.apiStatus(t).Maintenances[0]
	if !m.ScheduledUntil.Equal(later) || len(m.Updates) != 2 {
		t.Errorf("after the update, the API has the end %s and %d updates, want %s and 2", m.ScheduledUntil, len(m.Updates), later)
	}

	// Completed, it folds away with its timeline, and can still be updated.
	p = b.post(path, url.Values{"csrf": {token}, "status": {"completed"}, "body_fr": {"Terminé."}})
	upcoming, _, _ := strings.Cut(section(p.body, "upcoming"), "<details>")
	if p.status != http.StatusOK || strings.Contains(upcoming, "<article") {
		t.Fatalf("complete: %d, or still upcoming", p.status)
	}
	if !regexp.MustCompile(`(?s)<details><summary>Completed in the last 7 days \(1\)</summary>.*Terminé\.`).MatchString(p.body) {
		t.Errorf("the completed maintenance is not folded away:\n%s", section(p.body, "upcoming"))
	}
}

func TestScheduleFieldErrors(t *testing.T) {
	d := start(t)
	b := d.browser(t)
	token := csrf(t, b.login(d.operator))
	from := d.clock.Now().Add(time.Hour)
	for _, tc := range []struct {
		name  string
		edit  func(url.Values)
		field string
		want  string
	}{
		{"no start", func(f url.Values) { f.Del("from") }, "from", "Give the start, like 2026-03-14T22:00 (UTC)."},
		{"a start it cannot read", func(f url.Values) { f.Set("from", "14/03/2026 22:00") }, "from", "is not a date and time"},
		{"an end before the start", func(f url.Values) { f.Set("until", local(from.Add(-time.Hour))) }, "until", "The end must come after the start"},
		{"no component", func(f url.Values) { f.Del("components") }, "components", "Tick the components"},
		{"no name", func(f url.Values) { f.Del("name_en"); f.Del("name_fr") }, "name", "Write the name in at least one language."},
	} {
		t.Run(tc.name, func(t *testing.T) {
			form := scheduleForm(token, from, from.Add(time.Hour))
			tc.edit(form)
			p := b.post("/dashboard/status/maintenances", form)
			if p.status != http.StatusBadRequest {
				t.Fatalf("answered %d, want 400", p.status)
			}
			errID := `id="f-new-m-` + tc.field + `-err"`
			i := strings.Index(p.body, errID)
			if i < 0 || !strings.Contains(p.body[i:], tc.want) {
				t.Errorf("no error %q beside the field %s", tc.want, tc.field)
			}
			if !strings.Contains(p.body, `href="#f-new-m-`+tc.field+`"`) {
				t.Errorf("the summary of problems does not link to the field %s", tc.field)
			}
			if !strings.Contains(p.body, "Mail may be slow for a few minutes.") {
				t.Errorf("the page lost what the operator wrote")
			}
		})
	}
	if n := len(d.apiStatus(t).Maintenances); n != 0 {
		t.Errorf("forms with errors scheduled %d maintenances", n)
	}
}

func TestComponentOverride(t *testing.T) {
	d := start(t)
	b := d.browser(t)
	token := csrf(t, b.login(d.operator))
	path := "/dashboard/status/components/web-cluster-01"

	p := b.post(path, url.Values{"csrf": {token}, "status": {"partial_outage"}})
	if p.status != http.StatusOK || !strings.Contains(p.body, "The component&#39;s status is set.") {
		t.Fatalf("override: %d\n%s", p.status, p.body)
	}
	comps := section(p.body, "components")
	for _, want := range []string{"1 set by hand", `cs-partial_outage`, `<span class="tag">set by hand</span>`, `<option value="partial_outage" selected>`} {
		if !strings.Contains(comps, want) {
			t.Errorf("the components lack %q:\n%s", want, comps)
		}
	}
	if c := d.apiStatus(t).Components[0]; c.Override != "partial_outage" || c.Status != "partial_outage" {
		t.Errorf("the API has %+v", c)
	}

	p = b.post(path, url.Values{"csrf": {token}, "status": {"bogus"}})
	if p.status != http.StatusBadRequest || !strings.Contains(section(p.body, "components"), `status &#34;bogus&#34; is not one of`) {
		t.Errorf("a bad status: %d, without the API's reason beside the form", p.status)
	}
	if p := b.post("/dashboard/status/components/nope", url.Values{"csrf": {token}, "status": {"auto"}}); p.status != http.StatusNotFound || !strings.Contains(p.body, "no component nope") {
		t.Errorf("an unknown component: %d, without the API's reason", p.status)
	}

	p = b.post(path, url.Values{"csrf": {token}, "status": {"auto"}})
	if p.status != http.StatusOK || strings.Contains(section(p.body, "components"), "set by hand</span>") {
		t.Fatalf("back to automatic: %d, or still set by hand", p.status)
	}
	if c := d.apiStatus(t).Components[0]; c.Override != "" || c.Status != "operational" {
		t.Errorf("the API has %+v", c)
	}
}

func TestReaderSeesNoForms(t *testing.T) {
	d := start(t)
	op := d.browser(t)
	token := csrf(t, op.login(d.operator))
	from := d.clock.Now().Add(48 * time.Hour)
	if p := op.post("/dashboard/status/maintenances", scheduleForm(token, from, from.Add(time.Hour))); p.status != http.StatusOK {
		t.Fatalf("schedule: %d", p.status)
	}
	if p := op.post("/dashboard/status/incidents", url.Values{"csrf": {token}, "name_en": {"Slow DNS"}, "body_en": {"Looking."}}); p.status != http.StatusOK {
		t.Fatalf("open an incident: %d", p.status)
	}
	if p := op.post("/dashboard/status/components/web-cluster-01", url.Values{"csrf": {token}, "status": {"degraded_performance"}}); p.status != http.StatusOK {
		t.Fatalf("override: %d", p.status)
	}

	reader := d.browser(t)
	p := reader.login(d.reader)
	rtoken := csrf(t, p)
	p = reader.get("/dashboard/status")
	for _, want := range []string{"Mail cluster upgrade", "Slow DNS", "Looking.", "set by hand"} {
		if !strings.Contains(p.body, want) {
			t.Errorf("a reader does not see %q", want)
		}
	}
	main := p.body[strings.Index(p.body, "<main"):]
	if strings.Contains(main, "<form") {
		t.Errorf("a reader is shown a form:\n%s", main)
	}
	p = reader.post("/dashboard/status/maintenances", scheduleForm(rtoken, from, from.Add(time.Hour)))
	if p.status != http.StatusForbidden || !strings.Contains(p.body, `role="alert"`) || !strings.Contains(p.body, "this needs operator") {
		t.Errorf("a reader's form: %d, without the API's refusal on the page\n%s", p.status, p.body)
	}
	if n := len(d.apiStatus(t).Maintenances); n != 1 {
		t.Errorf("%d maintenances after a reader's form, want 1", n)
	}
}

func TestResolvedIncidentsFoldAway(t *testing.T) {
	d := start(t)
	b := d.browser(t)
	token := csrf(t, b.login(d.operator))
	if p := b.post("/dashboard/status/incidents", url.Values{"csrf": {token}, "name_en": {"Slow DNS"}, "body_en": {"Looking."}}); p.status != http.StatusOK {
		t.Fatalf("open an incident: %d", p.status)
	}
	id := d.apiStatus(t).Incidents[0].ID
	p := b.post("/dashboard/status/incidents/"+id+"/updates", url.Values{"csrf": {token}, "status": {"resolved"}, "body_en": {"Fixed."}})
	if p.status != http.StatusOK {
		t.Fatalf("resolve: %d", p.status)
	}
	if !strings.Contains(section(p.body, "incidents"), "<details><summary>Resolved in the last 7 days (1)</summary>") {
		t.Errorf("the resolved incident is not folded away:\n%s", section(p.body, "incidents"))
	}
	// An update whose form fails unfolds it.
	p = b.post("/dashboard/status/incidents/"+id+"/updates", url.Values{"csrf": {token}, "status": {"investigating"}})
	if p.status != http.StatusBadRequest || !strings.Contains(p.body, "<details open><summary>Resolved") {
		t.Errorf("a failed form in a resolved incident: %d, or it stays folded", p.status)
	}

	d.clock.advance(8 * 24 * time.Hour)
	b = d.browser(t)
	b.login(d.operator)
	if p := b.get("/dashboard/status"); strings.Contains(p.body, "Slow DNS") {
		t.Errorf("an incident resolved 8 days ago is still listed")
	}
}

func TestEditorInThePageTimeZone(t *testing.T) {
	paris, err := time.LoadLocation("Europe/Paris")
	if err != nil {
		t.Fatal(err)
	}
	d := startPage(t, page.Page{TimeZone: paris})
	d.clock.set(time.Date(2026, time.June, 15, 10, 0, 0, 0, time.UTC))
	b := d.browser(t)
	token := csrf(t, b.login(d.operator))
	at := func(from, until string) url.Values {
		f := scheduleForm(token, time.Time{}, time.Time{})
		f.Set("from", from)
		f.Set("until", until)
		return f
	}

	// html/template writes the offsets' + as &#43;.
	p := b.get("/dashboard/status")
	for _, want := range []string{"Europe/Paris, UTC&#43;02:00", "it is now 2026-06-15 12:00 CEST", "Start (Europe/Paris, UTC&#43;02:00)", `value="2026-06-15T13:00"`} {
		if !strings.Contains(p.body, want) {
			t.Errorf("the editor lacks %q", want)
		}
	}

	for _, tc := range []struct {
		name, from, until string
		field, want       string
	}{
		{"a start the clocks skip", "2026-03-29T02:30", "2026-03-29T04:00", "from",
			"The start &#34;2026-03-29T02:30&#34; does not exist in Europe/Paris: the clocks go from 02:00 straight to 03:00 that night"},
		{"no start", "", "2026-07-01T22:00", "from", "Give the start, like 2026-03-14T22:00 (Europe/Paris, UTC&#43;02:00)."},
		{"an end before the start", "2026-07-01T22:00", "2026-07-01T21:00", "until", "The end must come after the start, 2026-07-01T22:00 (Europe/Paris, UTC&#43;02:00)."},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := b.post("/dashboard/status/maintenances", at(tc.from, tc.until))
			if p.status != http.StatusBadRequest {
				t.Fatalf("answered %d, want 400", p.status)
			}
			i := strings.Index(p.body, `id="f-new-m-`+tc.field+`-err"`)
			if i < 0 || !strings.Contains(p.body[i:], tc.want) {
				t.Errorf("no error %q beside the field %s", tc.want, tc.field)
			}
		})
	}

	p = b.post("/dashboard/status/maintenances", at("2026-07-01T22:00", "2026-07-02T00:30"))
	if p.status != http.StatusOK || !strings.Contains(p.body, "The maintenance is scheduled.") {
		t.Fatalf("schedule: %d\n%s", p.status, p.body)
	}
	if strings.Contains(p.body, "comes twice") {
		t.Errorf("the editor speaks of a time the clocks show twice, after a summer night")
	}
	if up := section(p.body, "upcoming"); !strings.Contains(up, "2026-07-01 22:00 CEST to 2026-07-02 00:30 CEST") {
		t.Errorf("the maintenance is not shown in Paris time:\n%s", up)
	}
	st := d.apiStatus(t)
	if len(st.Maintenances) != 1 || st.TimeZone != "Europe/Paris" {
		t.Fatalf("the API has %d maintenances in %q, want 1 in Europe/Paris", len(st.Maintenances), st.TimeZone)
	}
	m := st.Maintenances[0]
	if got := m.ScheduledFor.UTC().Format(time.RFC3339) + " " + m.ScheduledUntil.UTC().Format(time.RFC3339); got != "2026-07-01T20:00:00Z 2026-07-01T22:30:00Z" {
		t.Errorf("the API has the window %s, want 20:00Z to 22:30Z", got)
	}

	// The clocks show 02:30 twice that night: the first is taken, and the
	// editor says so.
	p = b.post("/dashboard/status/maintenances/"+m.ID+"/updates", url.Values{"csrf": {token}, "status": {"scheduled"}, "until": {"2026-10-25T02:30"}, "body_en": {"Longer."}})
	want := "The end, 2026-10-25 02:30, comes twice in Europe/Paris as the clocks go back: the first was taken, 02:30 CEST (00:30 UTC)."
	if p.status != http.StatusOK || !strings.Contains(p.body, "The update is posted. "+want) {
		t.Errorf("update: %d, without %q", p.status, want)
	}
	if up := section(p.body, "upcoming"); !strings.Contains(up, "to 2026-10-25 02:30 CEST") {
		t.Errorf("the new end is not shown in Paris summer time:\n%s", up)
	}
	if m := d.apiStatus(t).Maintenances[0]; !m.ScheduledUntil.Equal(time.Date(2026, time.October, 25, 0, 30, 0, 0, time.UTC)) {
		t.Errorf("the API has the end %s, want 00:30Z", m.ScheduledUntil)
	}
}
