package page

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"encoding/xml"
	"io"
	"maps"
	"net/http"
	"net/http/httptest"
	"slices"
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
	for _, path := range []string{"/", "/api/v2/summary.json", "/history.atom"} {
		for _, method := range []string{http.MethodPost, http.MethodPut, http.MethodPatch, http.MethodDelete} {
			req, _ := http.NewRequest(method, tp.url+path, nil)
			resp, err := tp.http.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != http.StatusMethodNotAllowed || strings.Contains(resp.Header.Get("Allow"), method) {
				t.Errorf("%s %s: %d, allowing %q", method, path, resp.StatusCode, resp.Header.Get("Allow"))
			}
		}
	}
	if resp, _ := tp.get(t, "/nothing-here"); resp.StatusCode != http.StatusNotFound {
		t.Errorf("unknown path: %d", resp.StatusCode)
	}
}

// The JSON and the feed answer a browser's CORS preflight, and their GET
// lets any origin read them: widgets on other sites work. The HTML page
// is for browsers to show, not for scripts elsewhere to read.
func TestCORS(t *testing.T) {
	tp := newTestPage(t, testStatus())
	paths := []string{"/history.atom", "/api/v2/summary.json", "/api/v2/status.json", "/api/v2/components.json",
		"/api/v2/incidents.json", "/api/v2/incidents/unresolved.json", "/api/v2/scheduled-maintenances.json",
		"/api/v2/scheduled-maintenances/upcoming.json", "/api/v2/scheduled-maintenances/active.json"}
	for _, path := range paths {
		t.Run(path, func(t *testing.T) {
			req, _ := http.NewRequest(http.MethodOptions, tp.url+path, nil)
			req.Header.Set("Origin", "https://widgets.example.com")
			req.Header.Set("Access-Control-Request-Method", "GET")
			req.Header.Set("Access-Control-Request-Headers", "if-none-match")
			resp, err := tp.http.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != http.StatusNoContent || len(body) != 0 {
				t.Fatalf("preflight: %d %q, want 204 and no body", resp.StatusCode, body)
			}
			for header, want := range map[string]string{
				"Access-Control-Allow-Origin":  "*",
				"Access-Control-Allow-Methods": "GET, HEAD, OPTIONS",
				"Access-Control-Max-Age":       "86400",
			} {
				if got := resp.Header.Get(header); got != want {
					t.Errorf("preflight %s: %q, want %q", header, got, want)
				}
			}
			allowed := strings.Split(strings.ToLower(resp.Header.Get("Access-Control-Allow-Headers")), ", ")
			for _, h := range []string{"accept", "accept-language", "content-type", "if-none-match", "if-modified-since", "cache-control"} {
				if !slices.Contains(allowed, h) {
					t.Errorf("preflight allows headers %v, not %s", allowed, h)
				}
			}
			for _, method := range []string{http.MethodGet, http.MethodHead} {
				req, _ := http.NewRequest(method, tp.url+path, nil)
				req.Header.Set("Origin", "https://widgets.example.com")
				resp, err := tp.http.Do(req)
				if err != nil {
					t.Fatal(err)
				}
				resp.Body.Close()
				if resp.StatusCode != http.StatusOK || resp.Header.Get("Access-Control-Allow-Origin") != "*" {
					t.Errorf("%s: %d, Access-Control-Allow-Origin %q", method, resp.StatusCode, resp.Header.Get("Access-Control-Allow-Origin"))
				}
			}
		})
	}
	req, _ := http.NewRequest(http.MethodOptions, tp.url+"/", nil)
	resp, err := tp.http.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusMethodNotAllowed || resp.Header.Get("Access-Control-Allow-Origin") != "" {
		t.Errorf("OPTIONS on the HTML page: %d, Access-Control-Allow-Origin %q", resp.StatusCode, resp.Header.Get("Access-Control-Allow-Origin"))
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
	// RFC 4287 4.1.1: an author on the feed, or on every entry.
	if feed.Author.Name != "Example Hosting" || feed.Author.URI != "https://status.example.net" {
		t.Errorf("feed author %+v, want the page", feed.Author)
	}
}

// feedOf is the feed of page p showing st.
func feedOf(t *testing.T, p Page, st fleet.Status) atomFeed {
	t.Helper()
	h, err := Handler(Options{Page: p, Source: NewMemory(st, func() time.Time { return testNow }), Now: func() time.Time { return testNow }})
	if err != nil {
		t.Fatal(err)
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/history.atom", nil))
	var feed atomFeed
	if err := xml.Unmarshal(rec.Body.Bytes(), &feed); err != nil {
		t.Fatalf("feed: %v\n%s", err, rec.Body)
	}
	return feed
}

// feedIDs are a feed's id and its entries', by the entry's link.
func feedIDs(f atomFeed) map[string]string {
	ids := map[string]string{"feed": f.ID}
	for _, e := range f.Entries {
		ids[e.Link.Href[strings.Index(e.Link.Href, "#")+1:]] = e.ID
	}
	return ids
}

// The ids of the feed and of its entries are the page's for good: renaming
// the page or moving it changes none (RFC 4287 4.2.6), and another page has
// others.
func TestAtomIDs(t *testing.T) {
	page := Page{ID: "illico", Name: "Example Hosting", URL: "https://status.example.net"}
	ids := feedIDs(feedOf(t, page, testStatus()))
	// Name-based UUIDs (RFC 9562 5.5): the feed's is page ID "illico" in
	// illico's namespace, f8650e60-bfba-4dd0-8718-f834863149be; an entry's
	// its incident's ID in the feed's. Python's uuid.uuid5 gives the same.
	if want := "urn:uuid:f0fb55f2-3c2c-5e65-91c3-165543d28b6c"; ids["feed"] != want {
		t.Errorf("feed id %s, want %s", ids["feed"], want)
	}
	if want := "urn:uuid:07d61cf7-1459-5f86-ae05-42c4cd612868"; ids["inc-open"] != want {
		t.Errorf("entry id of inc-open %s, want %s", ids["inc-open"], want)
	}
	seen := map[string]bool{}
	for item, id := range ids {
		if !strings.HasPrefix(id, "urn:uuid:") || seen[id] {
			t.Errorf("%s: id %s is not a UUID of its own", item, id)
		}
		seen[id] = true
	}
	moved := Page{ID: "illico", Name: "Renamed Hosting", URL: "https://status.example.org/status"}
	if again := feedIDs(feedOf(t, moved, testStatus())); !maps.Equal(again, ids) {
		t.Errorf("renamed and moved, the page's feed ids went from\n%v\nto\n%v", ids, again)
	}
	for _, other := range []Page{{ID: "another"}, {ID: "illico2", Name: "Example Hosting", URL: "https://status.example.net"}} {
		for item, id := range feedIDs(feedOf(t, other, testStatus())) {
			if seen[id] {
				t.Errorf("page %q has page %q's id %s for %s", other.ID, page.ID, id, item)
			}
		}
	}
}

// A page older daemons served keeps the ids they gave its feed and the
// entries created by then; entries created since get UUIDs.
func TestAtomAdoptedIDs(t *testing.T) {
	page := Page{ID: "abc123def456", Adopted: testNow.Add(-5 * time.Hour)}
	ids := feedIDs(feedOf(t, page, testStatus()))
	want := map[string]string{
		"feed":     "urn:illico:statuspage:abc123def456",
		"inc-old":  "urn:illico:statuspage:abc123def456:inc-old", // created 72h ago
		"m-now":    "urn:illico:statuspage:abc123def456:m-now",   // 24h ago
		"m-done":   "urn:illico:statuspage:abc123def456:m-done",
		"inc-open": page.entryID("inc-open", testNow),
		"m-next":   page.entryID("m-next", testNow),
	}
	if !maps.Equal(ids, want) {
		t.Errorf("ids\n%v\nwant\n%v", ids, want)
	}
	for _, item := range []string{"inc-open", "m-next"} {
		if !strings.HasPrefix(ids[item], "urn:uuid:") {
			t.Errorf("%s, created after the ID was adopted, has id %s", item, ids[item])
		}
	}
}

// A page its operator did not name has one name in the reader's language,
// not "Status status": the same in the HTML page's title, the JSON's page
// name, the feed's title and its author.
func TestUnnamedPage(t *testing.T) {
	h, err := Handler(Options{Source: NewMemory(fleet.Status{}, func() time.Time { return testNow }), Now: func() time.Time { return testNow }})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	get := func(t *testing.T, path string) []byte {
		t.Helper()
		resp, err := http.Get(srv.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		body, err := io.ReadAll(resp.Body)
		if err != nil {
			t.Fatal(err)
		}
		return body
	}
	for lang, want := range map[string]string{"en": "Service status", "fr": "État des services", "de": "Dienststatus"} {
		t.Run(lang, func(t *testing.T) {
			body := get(t, "/?lang="+lang)
			for _, w := range []string{"<title>" + want + "</title>", `<p class="brand">` + want + "</p>", "<h1>" + want + "</h1>"} {
				if !strings.Contains(string(body), w) {
					t.Errorf("the page lacks %s", w)
				}
			}
			var sj struct {
				Page struct{ Name string } `json:"page"`
			}
			if err := json.Unmarshal(get(t, "/api/v2/status.json?lang="+lang), &sj); err != nil || sj.Page.Name != want {
				t.Errorf("status.json page name %q (%v), want %q", sj.Page.Name, err, want)
			}
			var feed atomFeed
			if err := xml.Unmarshal(get(t, "/history.atom?lang="+lang), &feed); err != nil {
				t.Fatal(err)
			}
			if feed.Title != want || feed.Author.Name != want || feed.Author.URI != "" {
				t.Errorf("feed title %q, author %+v, want both %q", feed.Title, feed.Author, want)
			}
		})
	}
}
