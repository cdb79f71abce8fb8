package page

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"encoding/xml"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/illico-dev/illico/internal/fleet"
)

func TestLanguage(t *testing.T) {
	tp := newTestPage(t, testStatus())
	tests := []struct {
		name, query, accept, want string
	}{
		{"default", "", "", "en"},
		{"browser French", "", "fr-FR,fr;q=0.9,en;q=0.8", "fr"},
		{"browser Swiss German", "", "de-CH", "de"},
		{"first we have", "", "es, it;q=0.9, de;q=0.5, fr;q=0.4", "de"},
		{"by quality, not order", "", "en;q=0.2, fr", "fr"},
		{"refused language", "", "fr;q=0, de;q=0.1", "de"},
		{"none we have", "", "ja, zh", "en"},
		{"wildcard", "", "*", "en"},
		{"malformed", "", ";;,q=,fr;q=x", "en"},
		{"query wins", "de", "fr", "de"},
		{"unknown query", "xx", "fr", "fr"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := "/"
			if tt.query != "" {
				path += "?lang=" + tt.query
			}
			resp, body := tp.get(t, path, "Accept-Language", tt.accept)
			if resp.StatusCode != 200 {
				t.Fatalf("status %d", resp.StatusCode)
			}
			if !bytes.Contains(body, []byte(`<html lang="`+tt.want+`">`)) {
				t.Errorf("page not in %s: %.200s", tt.want, body)
			}
			if !bytes.Contains(body, []byte(`hreflang="`+tt.want+`" lang="`+tt.want+`" aria-current="page"`)) {
				t.Errorf("the switcher does not mark %s as current", tt.want)
			}
		})
	}
}

func TestTranslatedContent(t *testing.T) {
	tp := newTestPage(t, testStatus())
	tests := []struct{ lang, path, want string }{
		{"fr", "/", "Panne partielle"},
		{"fr", "/", "fr: Kernel update"},
		{"fr", "/", "14 mars 2026 à 09:30 UTC"},
		{"fr", "/", "99,98 %"},
		{"de", "/", "Teilweiser Ausfall"},
		{"de", "/", "14. März 2026, 09:30 Uhr UTC"},
		{"de", "/api/v2/summary.json", `"name":"de: Slow mail"`},
		{"de", "/api/v2/summary.json", `"description":"Teilweiser Ausfall"`},
		{"en", "/api/v2/status.json", `"description":"Partial System Outage"`},
		{"fr", "/history.atom", `xml:lang="fr"`},
		{"fr", "/history.atom", "fr: A disk is full"},
	}
	for _, tt := range tests {
		t.Run(tt.lang+tt.path+" "+tt.want, func(t *testing.T) {
			_, body := tp.get(t, tt.path+"?lang="+tt.lang)
			if !strings.Contains(string(body), tt.want) {
				t.Errorf("no %q in %s", tt.want, body)
			}
		})
	}
}

func TestCaching(t *testing.T) {
	tp := newTestPage(t, testStatus())
	for _, path := range []string{"/", "/api/v2/summary.json", "/history.atom", "/static/style.css"} {
		t.Run(path, func(t *testing.T) {
			plain, body := tp.get(t, path)
			tag := plain.Header.Get("ETag")
			if plain.StatusCode != 200 || tag == "" || plain.Header.Get("Content-Encoding") != "" {
				t.Fatalf("status %d, ETag %q, encoding %q", plain.StatusCode, tag, plain.Header.Get("Content-Encoding"))
			}
			for _, h := range []string{"Cache-Control", "Content-Security-Policy", "X-Content-Type-Options"} {
				if plain.Header.Get(h) == "" {
					t.Errorf("no %s", h)
				}
			}
			if v := plain.Header.Get("Vary"); !strings.Contains(v, "Accept-Encoding") || !strings.Contains(v, "Accept-Language") {
				t.Errorf("Vary: %q", v)
			}

			zipped, zbody := tp.get(t, path, "Accept-Encoding", "gzip, deflate, br")
			if zipped.Header.Get("Content-Encoding") != "gzip" {
				t.Fatalf("Content-Encoding %q", zipped.Header.Get("Content-Encoding"))
			}
			zr, err := gzip.NewReader(bytes.NewReader(zbody))
			if err != nil {
				t.Fatal(err)
			}
			unzipped, err := io.ReadAll(zr)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(unzipped, body) {
				t.Error("the gzipped body differs from the plain one")
			}
			if len(zbody) >= len(body) {
				t.Errorf("gzip did not shrink: %d >= %d", len(zbody), len(body))
			}
			if zipped.Header.Get("ETag") == tag {
				t.Error("the gzipped and plain bodies share an ETag")
			}
			if refused, _ := tp.get(t, path, "Accept-Encoding", "gzip;q=0"); refused.Header.Get("Content-Encoding") != "" {
				t.Error("gzip sent to a client that refused it")
			}

			for _, inm := range []string{tag, zipped.Header.Get("ETag"), `"other", ` + tag, "W/" + tag, "*"} {
				resp, b := tp.get(t, path, "If-None-Match", inm, "Accept-Encoding", "gzip")
				if resp.StatusCode != http.StatusNotModified || len(b) != 0 {
					t.Errorf("If-None-Match %s: status %d, %d bytes", inm, resp.StatusCode, len(b))
				}
				if resp.Header.Get("ETag") == "" || resp.Header.Get("Cache-Control") == "" {
					t.Errorf("If-None-Match %s: 304 without ETag or Cache-Control", inm)
				}
			}
			if resp, _ := tp.get(t, path, "If-None-Match", `"stale"`); resp.StatusCode != 200 {
				t.Errorf("a stale ETag got %d", resp.StatusCode)
			}
		})
	}
}

// A change of the status makes new responses at once; time alone makes them
// after MaxAge.
func TestRenderedOncePerChange(t *testing.T) {
	tp := newTestPage(t, testStatus())
	first, _ := tp.get(t, "/api/v2/status.json")
	again, _ := tp.get(t, "/api/v2/status.json")
	if first.Header.Get("ETag") != again.Header.Get("ETag") {
		t.Fatal("the same status gave two ETags")
	}
	err := tp.mem.Update(context.Background(), func(st *fleet.Status) error {
		st.Hosts["b2"] = fleet.HostUp
		st.Incidents[0].Status = fleet.Resolved
		st.Maintenance[0].Status = fleet.MaintenanceCompleted
		st.Hosts["a1"] = fleet.HostUp
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	resp, body := tp.get(t, "/api/v2/status.json", "If-None-Match", first.Header.Get("ETag"))
	if resp.StatusCode != 200 {
		t.Fatalf("after a change: status %d", resp.StatusCode)
	}
	if !strings.Contains(string(body), `"indicator":"none"`) {
		t.Errorf("after the change: %s", body)
	}

}

func TestRenderedAgainAfterMaxAge(t *testing.T) {
	now := testNow
	calls := 0
	h, err := Handler(Options{
		Source: NewMemory(testStatus(), time.Now),
		History: historyFunc(func(string, int) []Day {
			calls++
			return nil
		}),
		Now:    func() time.Time { return now },
		MaxAge: time.Minute,
	})
	if err != nil {
		t.Fatal(err)
	}
	get := func() {
		req, _ := http.NewRequest(http.MethodGet, "/", nil)
		h.ServeHTTP(&recorder{header: http.Header{}}, req)
	}
	get()
	get()
	if calls != 3 {
		t.Fatalf("%d history reads for two requests, want 3 (one per showcased component)", calls)
	}
	now = now.Add(time.Minute)
	get()
	if calls != 6 {
		t.Errorf("%d history reads after MaxAge, want 6", calls)
	}
}

func TestMemoryUpdateAllOrNothing(t *testing.T) {
	m := NewMemory(testStatus(), func() time.Time { return testNow })
	v := m.Version()
	err := m.Update(context.Background(), func(st *fleet.Status) error {
		st.Components = nil
		return fleet.Errorf(fleet.KindInvalid, "no")
	})
	if err == nil || m.Version() != v {
		t.Fatalf("err %v, version %d → %d", err, v, m.Version())
	}
	st, _ := m.Status(context.Background())
	if len(st.Components) == 0 {
		t.Fatal("a failed update changed the status")
	}
	st.Components[0].Name = "changed by a reader"
	st2, _ := m.Status(context.Background())
	if st2.Components[0].Name == "changed by a reader" {
		t.Fatal("a reader's copy shares memory with the status")
	}
}

func TestReadOnly(t *testing.T) {
	tp := newTestPage(t, testStatus())
	for _, method := range []string{http.MethodPost, http.MethodPut, http.MethodDelete} {
		req, _ := http.NewRequest(method, tp.url+"/api/v2/summary.json", nil)
		resp, err := tp.http.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusMethodNotAllowed {
			t.Errorf("%s: %d", method, resp.StatusCode)
		}
	}
	if resp, _ := tp.get(t, "/nothing-here"); resp.StatusCode != http.StatusNotFound {
		t.Errorf("unknown path: %d", resp.StatusCode)
	}
}

// failingSource fails until it is told to work.
type failingSource struct{ Memory }

func (*failingSource) Status(context.Context) (fleet.Status, error) {
	return fleet.Status{}, fleet.Errorf(fleet.KindUnavailable, "store down")
}

func TestSourceDown(t *testing.T) {
	h, err := Handler(Options{Source: &failingSource{}})
	if err != nil {
		t.Fatal(err)
	}
	req, _ := http.NewRequest(http.MethodGet, "/", nil)
	rec := &recorder{header: http.Header{}}
	h.ServeHTTP(rec, req)
	if rec.code != http.StatusServiceUnavailable || strings.Contains(rec.body.String(), "store down") {
		t.Errorf("status %d, body %q", rec.code, rec.body.String())
	}
}

type recorder struct {
	header http.Header
	code   int
	body   bytes.Buffer
}

func (r *recorder) Header() http.Header         { return r.header }
func (r *recorder) WriteHeader(code int)        { r.code = code }
func (r *recorder) Write(b []byte) (int, error) { return r.body.Write(b) }

func TestHTMLStructure(t *testing.T) {
	tp := newTestPage(t, testStatus())
	resp, body := tp.get(t, "/?lang=en")
	page := string(body)
	csp := resp.Header.Get("Content-Security-Policy")
	if strings.Contains(csp, "unsafe-inline") || !strings.Contains(csp, "default-src 'none'") {
		t.Errorf("CSP %q", csp)
	}
	for _, forbidden := range []string{"<script", " style=", " onclick="} {
		if strings.Contains(page, forbidden) {
			t.Errorf("the page has %q, which the CSP forbids", forbidden)
		}
	}
	wants := []string{
		`<html lang="en">`,
		`<meta name="viewport" content="width=device-width, initial-scale=1">`,
		`<a class="skip" href="#main">`,
		`<header class="top">`, `<nav aria-label="Language">`, `<main id="main">`, `<footer class="bottom">`,
		`<h1>Example Hosting status</h1>`,
		`<h2 id="overall">Partial System Outage</h2>`,
		`<h2 id="incidents">Active incidents</h2>`,
		`<h2 id="active">Maintenance in progress</h2>`,
		`<h2 id="upcoming">Upcoming maintenance</h2>`,
		`<h2 id="components">Components</h2>`,
		`<h2 id="history">Past incidents and maintenance</h2>`,
		// Statuses in words, not in colour alone.
		`<span class="st st-under_maintenance">Under maintenance</span>`,
		`<span class="st st-partial_outage">Partial outage</span>`,
		// The bars' text alternative.
		`<ol class="bars" aria-hidden="true">`,
		`<p class="vh">99.98% uptime over the last 90 days. Days with disruption: March 9, 2026 (98.00%).</p>`,
		`<article class="event past" id="inc-old">`,
		`<time datetime="2026-03-14T09:30:00Z">`,
		`<link rel="alternate" type="application/atom+xml" href="/history.atom?lang=en"`,
	}
	for _, w := range wants {
		if !strings.Contains(page, w) {
			t.Errorf("no %s", w)
		}
	}
	if n := strings.Count(page, `<ol class="bars"`); n != 3 {
		t.Errorf("%d uptime bars, want 3 (the showcased components)", n)
	}
	bars := page[strings.Index(page, `<ol class="bars"`):]
	bars = bars[:strings.Index(bars, "</ol>")]
	if n := strings.Count(bars, "<li "); n != Days {
		t.Errorf("%d bars, want %d", n, Days)
	}
	if i, j := strings.Index(page, `id="incidents"`), strings.Index(page, `id="components"`); i > j {
		t.Error("the components come before the active incidents")
	}
	css, _ := tp.get(t, page[strings.Index(page, "/static/style.css"):][:len("/static/style.css?v=12345678")])
	if css.StatusCode != 200 || css.Header.Get("Content-Type") != "text/css; charset=utf-8" {
		t.Errorf("style sheet: %d %s", css.StatusCode, css.Header.Get("Content-Type"))
	}
}

func TestHTMLEmptyAndHidden(t *testing.T) {
	st := fleet.Status{Components: []fleet.Component{
		{ID: "a", Name: "Shown", Showcase: true},
		{ID: "b", Name: "Hidden while fine", OnlyShowIfDegraded: true},
	}}
	h, err := Handler(Options{Source: NewMemory(st, time.Now), Now: func() time.Time { return testNow }})
	if err != nil {
		t.Fatal(err)
	}
	req, _ := http.NewRequest(http.MethodGet, "/", nil)
	rec := &recorder{header: http.Header{}}
	h.ServeHTTP(rec, req)
	page := rec.body.String()
	for _, w := range []string{"All Systems Operational", "No uptime data yet.", "No incidents or maintenance reported."} {
		if !strings.Contains(page, w) {
			t.Errorf("no %q", w)
		}
	}
	if strings.Contains(page, "Hidden while fine") || strings.Contains(page, `id="incidents"`) {
		t.Error("the page shows what it should hide")
	}
}

func TestAtom(t *testing.T) {
	tp := newTestPage(t, testStatus())
	resp, body := tp.get(t, "/history.atom")
	if resp.Header.Get("Content-Type") != "application/atom+xml; charset=utf-8" {
		t.Errorf("type %q", resp.Header.Get("Content-Type"))
	}
	var feed atomFeed
	if err := xml.Unmarshal(body, &feed); err != nil {
		t.Fatal(err)
	}
	if len(feed.Entries) != 5 {
		t.Fatalf("%d entries, want 5", len(feed.Entries))
	}
	if feed.Entries[0].Title != "Slow mail" || feed.Entries[0].Link.Href != "https://status.example.net/#inc-open" {
		t.Errorf("first entry %+v", feed.Entries[0])
	}
	for _, e := range feed.Entries {
		if _, err := time.Parse(time.RFC3339, e.Updated); err != nil || e.ID == "" || e.Content.Body == "" {
			t.Errorf("entry %+v", e)
		}
	}
}

// A page its operator did not name is titled in the reader's language, not
// "Status status"; the JSON still gives widgets a name.
func TestUnnamedPage(t *testing.T) {
	h, err := Handler(Options{Source: NewMemory(fleet.Status{}, func() time.Time { return testNow }), Now: func() time.Time { return testNow }})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	for lang, want := range map[string]string{"en": "Service status", "fr": "État des services", "de": "Dienststatus"} {
		resp, err := http.Get(srv.URL + "/?lang=" + lang)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		for _, w := range []string{"<title>" + want + "</title>", `<p class="brand">` + want + "</p>", "<h1>" + want + "</h1>"} {
			if !strings.Contains(string(body), w) {
				t.Errorf("%s page lacks %s", lang, w)
			}
		}
	}
	resp, err := http.Get(srv.URL + "/api/v2/status.json")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var sj struct {
		Page struct{ Name string } `json:"page"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&sj); err != nil || sj.Page.Name != "Status" {
		t.Errorf("status.json page name %q (%v), want Status", sj.Page.Name, err)
	}
}
