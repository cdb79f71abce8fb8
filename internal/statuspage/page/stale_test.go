package page

import (
	"context"
	"html/template"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/illico-dev/illico/internal/fleet"
)

// checkedSource is a Memory whose last check the test sets, and whose
// reads fail while down is set, as a store gone.
type checkedSource struct {
	*Memory
	mu      sync.Mutex
	checked time.Time
	down    bool
	failed  int // reads refused while down
}

func (s *checkedSource) Checked() time.Time {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.checked
}

func (s *checkedSource) Status(ctx context.Context) (fleet.Status, error) {
	s.mu.Lock()
	down := s.down
	s.mu.Unlock()
	if down {
		s.mu.Lock()
		s.failed++
		s.mu.Unlock()
		return fleet.Status{}, fleet.Errorf(fleet.KindUnavailable, "store down")
	}
	return s.Memory.Status(ctx)
}

func (s *checkedSource) set(checked time.Time, down bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.checked, s.down = checked, down
}

type stalePage struct {
	h   http.Handler
	src *checkedSource
	now time.Time
}

func newStalePage(t *testing.T) *stalePage {
	t.Helper()
	sp := &stalePage{now: testNow}
	sp.src = &checkedSource{Memory: NewMemory(testStatus(), func() time.Time { return sp.now }), checked: testNow}
	h, err := Handler(Options{
		Page:    Page{ID: "illico", Name: "Example Hosting", URL: "https://status.example.net", TimeZone: time.FixedZone("CET", 3600)},
		Source:  sp.src,
		History: testHistory(),
		Now:     func() time.Time { return sp.now },
	})
	if err != nil {
		t.Fatal(err)
	}
	sp.h = h
	return sp
}

// get answers path, which must be 200.
func (sp *stalePage) get(t *testing.T, path string) string {
	t.Helper()
	rec := httptest.NewRecorder()
	sp.h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, path, nil))
	if rec.Code != http.StatusOK {
		t.Fatalf("%s: %d %s", path, rec.Code, rec.Body)
	}
	return rec.Body.String()
}

// The banner the page shows when stale since testNow, 11:30 in the page's
// zone, in each language.
var staleBanners = map[string]string{
	"en": "Since March 14, 2026, 11:30 CET, this page has been unable to get the latest status: what it shows may be out of date.",
	"fr": "Depuis le 14 mars 2026 à 11:30 CET, cette page ne parvient pas à obtenir l'état le plus récent des services : ce qu'elle affiche n'est peut-être plus à jour.",
	"de": "Seit dem 14. März 2026, 11:30 Uhr CET kann diese Seite den neuesten Stand der Dienste nicht abrufen: Was sie zeigt, ist möglicherweise nicht mehr aktuell.",
}

// A page whose source was not checked for longer than StaleAfter says so,
// in every language, with the time of the last check in the page's zone,
// and stops saying so once checked again; no status change is needed for
// either. The JSON and the feed do not change.
func TestStaleBanner(t *testing.T) {
	sp := newStalePage(t)
	others := []string{"/history.atom", "/api/v2/summary.json", "/api/v2/status.json", "/api/v2/components.json",
		"/api/v2/incidents.json", "/api/v2/incidents/unresolved.json", "/api/v2/scheduled-maintenances.json",
		"/api/v2/scheduled-maintenances/upcoming.json", "/api/v2/scheduled-maintenances/active.json"}
	before := map[string]string{}
	for _, p := range others {
		before[p] = sp.get(t, p+"?lang=fr")
	}
	noBanner := func(when string) {
		t.Helper()
		for lang := range staleBanners {
			if page := sp.get(t, "/?lang="+lang); strings.Contains(page, `class="stale"`) {
				t.Errorf("%s, %s: a banner: %s", when, lang, page)
			}
		}
	}
	noBanner("fresh")
	sp.now = testNow.Add(time.Minute)
	noBanner("checked StaleAfter ago")

	sp.now = testNow.Add(time.Minute + time.Second)
	for lang, want := range staleBanners {
		page := sp.get(t, "/?lang="+lang)
		want = template.HTMLEscapeString(want)
		i := strings.Index(page, `<p class="stale">`+want)
		if i < 0 {
			t.Errorf("%s: stale, no banner %q in %s", lang, want, page)
			continue
		}
		if h1, overall := strings.Index(page, "<h1>"), strings.Index(page, `<section class="overall`); i < h1 || i > overall {
			t.Errorf("%s: the banner is not between the title and the overall status", lang)
		}
	}
	for _, p := range others {
		if got := sp.get(t, p+"?lang=fr"); got != before[p] {
			t.Errorf("%s changed with the page stale:\n%s\nwas\n%s", p, got, before[p])
		}
	}

	sp.src.set(sp.now, false)
	noBanner("checked again")
}

// Once the page was served, a source that cannot read its status never
// makes it answer anything but the page it last had, marked stale in time.
func TestStaleSourceDown(t *testing.T) {
	sp := newStalePage(t)
	first := sp.get(t, "/api/v2/status.json")
	sp.get(t, "/")
	// A change the source knows of, and can no longer read.
	if err := sp.src.Update(t.Context(), func(st *fleet.Status) error { st.Hosts["b2"] = fleet.HostUp; return nil }); err != nil {
		t.Fatal(err)
	}
	sp.src.set(testNow, true)
	for _, at := range []time.Duration{time.Second, 30 * time.Second, 2 * time.Minute, time.Hour} {
		sp.now = testNow.Add(at)
		for _, p := range []string{"/", "/?lang=de", "/api/v2/status.json", "/history.atom"} {
			sp.get(t, p) // fails the test but for a 200
		}
		if got := sp.get(t, "/api/v2/status.json"); got != first {
			t.Errorf("after %s: status.json %s, want the last read %s", at, got, first)
		}
		if stale, page := at > time.Minute, sp.get(t, "/"); stale != strings.Contains(page, `class="stale"`) {
			t.Errorf("after %s: banner %t, want %t", at, !stale, stale)
		}
	}
	sp.src.set(sp.now, false)
	if page := sp.get(t, "/"); strings.Contains(page, `class="stale"`) {
		t.Errorf("with the source back, a banner: %s", page)
	}
	if got := sp.get(t, "/api/v2/status.json"); got == first {
		t.Error("with the source back, status.json still shows the status before the change")
	}
}

// While its source cannot read a newer status, the page asks it again
// once per readRetry, not once per request: customers refreshing the page
// do not hammer a database that does not answer.
func TestStaleSourceAskedOncePerRetry(t *testing.T) {
	sp := newStalePage(t)
	sp.get(t, "/")
	if err := sp.src.Update(t.Context(), func(st *fleet.Status) error { st.Hosts["b2"] = fleet.HostUp; return nil }); err != nil {
		t.Fatal(err)
	}
	sp.src.set(testNow, true)
	reads := func() int {
		sp.src.mu.Lock()
		defer sp.src.mu.Unlock()
		return sp.src.failed
	}
	for range 100 {
		sp.get(t, "/")
	}
	if got := reads(); got != 1 {
		t.Errorf("100 requests in one instant asked the source %d times, want once", got)
	}
	sp.now = testNow.Add(readRetry - time.Millisecond)
	sp.get(t, "/api/v2/status.json")
	sp.now = testNow.Add(readRetry)
	for range 100 {
		sp.get(t, "/")
	}
	if got := reads(); got != 2 {
		t.Errorf("after readRetry, the source was asked %d times in all, want twice", got)
	}
}
