package site

import (
	"bytes"
	"encoding/json"
	"encoding/xml"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/illico-dev/illico/internal/fleet"
	"github.com/illico-dev/illico/internal/probe"
	"github.com/illico-dev/illico/internal/statuspage/page"
	"github.com/illico-dev/illico/internal/store"
	"github.com/illico-dev/illico/internal/store/pgtest"
)

var pageInventory = &fleet.Inventory{Groups: []*fleet.Group{{Name: "web", Component: "Web", Members: []string{"w1", "w2"}}}}

// newTestSite is the daemon's Site on the store at dsn, opened for it and
// closed with the test, unless the test closes it first (a restart).
func newTestSite(t *testing.T, dsn string, p page.Page, log *slog.Logger, now func() time.Time) (*Site, *store.Store) {
	t.Helper()
	st, err := store.Open(t.Context(), dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	s, err := New(Options{Store: st, Page: p, Inventory: func() *fleet.Inventory { return pageInventory },
		Runs: probe.NewMemory(1), Targets: func() []*probe.Target { return nil }, Logger: log, Now: now})
	if err != nil {
		t.Fatal(err)
	}
	return s, st
}

// served is what the page says of itself: its page_id in the JSON, its
// feed's id, author and entries' ids by item.
type served struct {
	pageID, feedID, author string
	entries                map[string]string
}

func serve(t *testing.T, s *Site) served {
	t.Helper()
	srv, err := s.HTTPServer()
	if err != nil {
		t.Fatal(err)
	}
	get := func(path string) []byte {
		rec := httptest.NewRecorder()
		srv.Handler.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, path, nil))
		if rec.Code != http.StatusOK {
			t.Fatalf("%s: %d %s", path, rec.Code, rec.Body)
		}
		return rec.Body.Bytes()
	}
	var summary struct {
		Page struct{ ID string } `json:"page"`
	}
	if err := json.Unmarshal(get("/api/v2/summary.json"), &summary); err != nil {
		t.Fatal(err)
	}
	var feed struct {
		ID     string `xml:"id"`
		Author struct {
			Name string `xml:"name"`
		} `xml:"author"`
		Entries []struct {
			ID   string `xml:"id"`
			Link struct {
				Href string `xml:"href,attr"`
			} `xml:"link"`
		} `xml:"entry"`
	}
	if err := xml.Unmarshal(get("/history.atom"), &feed); err != nil {
		t.Fatal(err)
	}
	out := served{pageID: summary.Page.ID, feedID: feed.ID, author: feed.Author.Name, entries: map[string]string{}}
	for _, e := range feed.Entries {
		_, item, _ := strings.Cut(e.Link.Href, "#")
		out.entries[item] = e.ID
	}
	return out
}

func openIncident(t *testing.T, s *Site) string {
	t.Helper()
	in, err := s.OpenIncident(t.Context(), NewIncident{Name: fleet.Text{"en": "Slow sites"}, Components: []string{"web"}, Body: fleet.Text{"en": "Looking"}})
	if err != nil {
		t.Fatal(err)
	}
	return in.ID
}

var dsns = map[string]func(testing.TB) string{
	"sqlite":   func(t testing.TB) string { return "sqlite:" + filepath.Join(t.TempDir(), "illico.db") },
	"postgres": pgtest.Start,
}

// The page's ID, and the feed's ids made of it, are drawn once and kept:
// across a restart, a new name and a new address.
func TestPageIdentity(t *testing.T) {
	for name, dsnFor := range dsns {
		t.Run(name, func(t *testing.T) {
			dsn := dsnFor(t)
			s, st := newTestSite(t, dsn, page.Page{Name: "Example Hosting", URL: "https://status.example.net"}, nil, time.Now)
			inc := openIncident(t, s)
			first := serve(t, s)
			if first.pageID == "" || first.pageID == "40q01x1tsupa" || !strings.HasPrefix(first.feedID, "urn:uuid:") ||
				!strings.HasPrefix(first.entries[inc], "urn:uuid:") || first.author != "Example Hosting" {
				t.Fatalf("a new page: %+v; want a drawn page ID (not the one derived from its name and address), UUIDs in its feed, and its name as the feed's author", first)
			}
			st.Close()

			// Restarted, renamed and moved.
			s, _ = newTestSite(t, dsn, page.Page{Name: "Renamed Hosting", URL: "https://status.example.org/x"}, nil, time.Now)
			again := serve(t, s)
			if again.pageID != first.pageID || again.feedID != first.feedID || again.entries[inc] != first.entries[inc] {
				t.Errorf("after a restart with a new name and address: %+v, want the ids of %+v", again, first)
			}
			if again.author != "Renamed Hosting" {
				t.Errorf("the feed's author %q, want the new name", again.author)
			}

			// Two pages without a name are two pages.
			a, _ := newTestSite(t, dsnFor(t), page.Page{}, nil, time.Now)
			b, _ := newTestSite(t, dsnFor(t), page.Page{}, nil, time.Now)
			if sa, sb := serve(t, a), serve(t, b); sa.pageID == sb.pageID || sa.feedID == sb.feedID {
				t.Errorf("two unnamed pages share ids: %+v and %+v", sa, sb)
			}
		})
	}
}

// A page older daemons served (its status stored, no page ID) keeps the ID
// they derived from its address and name, and the ids its feed had, even
// once renamed; what is new gets UUIDs.
func TestPageIdentityAdopted(t *testing.T) {
	for name, dsnFor := range dsns {
		t.Run(name, func(t *testing.T) {
			dsn := dsnFor(t)
			old, err := store.Open(t.Context(), dsn)
			if err != nil {
				t.Fatal(err)
			}
			created := time.Now().Add(-time.Hour).UTC()
			// What an older daemon left: an incident, and no page ID.
			if _, err := old.UpdateStatus(t.Context(), func(_ *store.Tx, st *fleet.Status) error {
				st.Incidents = []fleet.Incident{{ID: "oldinc", Name: fleet.Text{"en": "Before"}, Status: fleet.Resolved, Impact: fleet.ImpactMinor,
					CreatedAt: created, UpdatedAt: created}}
				return nil
			}); err != nil {
				t.Fatal(err)
			}
			old.Close()

			const derived = "40q01x1tsupa" // what older daemons gave this page
			s, st := newTestSite(t, dsn, page.Page{Name: "Example Hosting", URL: "https://status.example.net"}, nil, time.Now)
			inc := openIncident(t, s)
			first := serve(t, s)
			want := served{pageID: derived, feedID: "urn:illico:statuspage:" + derived, author: "Example Hosting",
				entries: map[string]string{"oldinc": "urn:illico:statuspage:" + derived + ":oldinc"}}
			if first.pageID != want.pageID || first.feedID != want.feedID || first.entries["oldinc"] != want.entries["oldinc"] {
				t.Fatalf("the page after the upgrade: %+v, want the ids of %+v", first, want)
			}
			if !strings.HasPrefix(first.entries[inc], "urn:uuid:") {
				t.Errorf("a new incident's entry: %s, want a UUID", first.entries[inc])
			}
			st.Close()

			s, _ = newTestSite(t, dsn, page.Page{Name: "Renamed", URL: "https://elsewhere.example.net"}, nil, time.Now)
			if again := serve(t, s); again.pageID != first.pageID || again.feedID != first.feedID || len(again.entries) != 2 ||
				again.entries["oldinc"] != first.entries["oldinc"] || again.entries[inc] != first.entries[inc] {
				t.Errorf("renamed and restarted: %+v, want the ids of %+v", again, first)
			}
		})
	}
}

// Without a URL, the daemon says that the page's links are relative.
func TestPageWithoutURL(t *testing.T) {
	for _, tc := range []struct {
		url  string
		warn bool
	}{{"", true}, {"https://status.example.net", false}} {
		var logs bytes.Buffer
		log := slog.New(slog.NewTextHandler(&logs, nil))
		s, _ := newTestSite(t, dsns["sqlite"](t), page.Page{URL: tc.url}, log, time.Now)
		if _, err := s.HTTPServer(); err != nil {
			t.Fatal(err)
		}
		warned := strings.Contains(logs.String(), "level=WARN") && strings.Contains(logs.String(), "relative") && strings.Contains(logs.String(), "status_page.url")
		if warned != tc.warn {
			t.Errorf("url %q: warned %v, want %v; logs:\n%s", tc.url, warned, tc.warn, logs.String())
		}
	}
}

// An operator's override dates the component only when it changes what
// the page shows.
func TestOverrideUpdatedAt(t *testing.T) {
	t0 := time.Date(2026, 3, 14, 8, 0, 0, 0, time.UTC)
	now := t0
	s, _ := newTestSite(t, dsns["sqlite"](t), page.Page{}, nil, func() time.Time { return now })
	updated := func() time.Time {
		t.Helper()
		st, err := s.Status(t.Context())
		if err != nil || len(st.Components) != 1 {
			t.Fatalf("status %+v, error %v", st, err)
		}
		return st.Components[0].UpdatedAt
	}
	for _, step := range []struct {
		override fleet.ComponentStatus
		want     time.Time
	}{
		{fleet.Operational, t0}, // what the page showed already
		{fleet.MajorOutage, t0.Add(2 * time.Minute)},
		{fleet.MajorOutage, t0.Add(2 * time.Minute)},
		{"", t0.Add(4 * time.Minute)}, // back to its hosts, which nobody reported on
	} {
		now = now.Add(time.Minute)
		if _, _, err := s.SetComponentStatus(t.Context(), "web", step.override); err != nil {
			t.Fatal(err)
		}
		if got := updated(); !got.Equal(step.want) {
			t.Errorf("override %q at %s: updated at %s, want %s", step.override, now.Format(time.TimeOnly), got.Format(time.TimeOnly), step.want.Format(time.TimeOnly))
		}
	}
}
