package dashboard_test

import (
	"bufio"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/illico-dev/illico/internal/api"
	"github.com/illico-dev/illico/internal/dashboard"
	"github.com/illico-dev/illico/internal/fleet"
	"github.com/illico-dev/illico/internal/server"
	"github.com/illico-dev/illico/internal/server/servertest"
	"github.com/illico-dev/illico/internal/statuspage/page"
	"github.com/illico-dev/illico/internal/store"
)

// clock is the daemon's: the real time, moved forward when a test says.
type clock struct{ ahead atomic.Int64 }

func (c *clock) Now() time.Time          { return time.Now().Add(time.Duration(c.ahead.Load())) }
func (c *clock) advance(d time.Duration) { c.ahead.Add(int64(d)) }

// set puts the clock at t, from where it goes on.
func (c *clock) set(t time.Time) { c.ahead.Store(int64(time.Until(t))) }

// daemon is a whole daemon in-process, with its status page on a port of
// its own, and tokens of each role.
type daemon struct {
	url, public      string
	clock            *clock
	operator, reader string
	// operatorID is the operator token's, which the daemon names it by.
	operatorID int64
	logs       *servertest.Buffer
	store      *store.Store
}

func start(t testing.TB) *daemon {
	t.Helper()
	return startPage(t, page.Page{})
}

// startPage starts a daemon whose status page says page of itself.
func startPage(t testing.TB, p page.Page) *daemon {
	t.Helper()
	return startWith(t, server.Options{StatusPage: p})
}

// startWith starts a daemon with o's options, over those every test's
// daemon has: its clock, store, log and listeners, and testdata's
// inventory unless o names one.
func startWith(t testing.TB, o server.Options) *daemon {
	t.Helper()
	st, err := store.Open(t.Context(), "sqlite:"+filepath.Join(t.TempDir(), "illico.db"))
	if err != nil {
		t.Fatal(err)
	}
	if o.Inventory == "" {
		o.Inventory = filepath.Join(t.TempDir(), "inventory.yaml")
		data, err := os.ReadFile("testdata/inventory.yaml")
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(o.Inventory, data, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	d := &daemon{clock: &clock{}, logs: &servertest.Buffer{}, store: st}
	o.Logger, o.Now, o.Store = slog.New(slog.NewTextHandler(d.logs, nil)), d.clock.Now, st
	o.Listen, o.PublicListen, o.AdminTokenOut = "127.0.0.1:0", "127.0.0.1:0", io.Discard
	srv, err := server.New(o)
	if err != nil {
		st.Close()
		t.Fatal(err)
	}
	d.url, d.public = "http://"+srv.Addr(), "http://"+srv.PublicAddr()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- srv.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("daemon: %v", err)
		}
		st.Close()
		if t.Failed() {
			t.Logf("daemon log:\n%s", d.logs)
		}
	})
	for _, tok := range []struct {
		role fleet.Role
		to   *string
	}{{fleet.RoleOperator, &d.operator}, {fleet.RoleReader, &d.reader}} {
		created, secret, err := st.CreateToken(t.Context(), string(tok.role), tok.role)
		if err != nil {
			t.Fatal(err)
		}
		*tok.to = secret.Reveal()
		if tok.role == fleet.RoleOperator {
			d.operatorID = created.ID
		}
	}
	return d
}

// browser is a client with a cookie jar, that follows redirects.
type browser struct {
	t    testing.TB
	d    *daemon
	http *http.Client
}

func (d *daemon) browser(t testing.TB) *browser {
	t.Helper()
	jar, err := cookiejar.New(nil)
	if err != nil {
		t.Fatal(err)
	}
	return &browser{t: t, d: d, http: &http.Client{Jar: jar, Timeout: 30 * time.Second}}
}

// answer is an answer: its final URL, status and body.
type answer struct {
	url    string
	status int
	body   string
}

func (b *browser) do(req *http.Request) answer {
	b.t.Helper()
	resp, err := b.http.Do(req)
	if err != nil {
		b.t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		b.t.Fatal(err)
	}
	return answer{url: resp.Request.URL.Path, status: resp.StatusCode, body: string(body)}
}

func (b *browser) get(path string) answer {
	b.t.Helper()
	req, err := http.NewRequest(http.MethodGet, b.d.url+path, nil)
	if err != nil {
		b.t.Fatal(err)
	}
	return b.do(req)
}

func (b *browser) post(path string, form url.Values, header ...string) answer {
	b.t.Helper()
	req, err := http.NewRequest(http.MethodPost, b.d.url+path, strings.NewReader(form.Encode()))
	if err != nil {
		b.t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	return b.do(req)
}

func (b *browser) login(token string) answer {
	b.t.Helper()
	p := b.post("/dashboard/login", url.Values{"token": {token}})
	if p.status != http.StatusOK || p.url != "/dashboard/rollouts" {
		b.t.Fatalf("login: %d at %s: %s", p.status, p.url, p.body)
	}
	return p
}

var csrfRE = regexp.MustCompile(`name="csrf" value="([0-9a-f]+)"`)

func csrf(t testing.TB, p answer) string {
	t.Helper()
	m := csrfRE.FindStringSubmatch(p.body)
	if m == nil {
		t.Fatalf("no CSRF token on %s", p.url)
	}
	return m[1]
}

func TestLoginLogout(t *testing.T) {
	d := start(t)
	b := d.browser(t)
	if p := b.get("/dashboard/rollouts"); p.url != "/dashboard/login" {
		t.Fatalf("without a session, the rollouts went to %s", p.url)
	}
	if p := b.post("/dashboard/login", url.Values{"token": {d.operator + "x"}}); p.status != http.StatusUnauthorized || strings.Contains(p.body, d.operator) {
		t.Fatalf("a wrong token: %d, or the page repeats it", p.status)
	}
	p := b.login(d.operator)
	if !strings.Contains(p.body, "operator (operator)") {
		t.Errorf("the page does not say who is logged in")
	}
	cookies := b.http.Jar.Cookies(mustURL(t, d.url+"/dashboard/"))
	if len(cookies) != 1 || strings.Contains(cookies[0].Value, d.operator) {
		t.Fatalf("cookies %v: want one, without the token", cookies)
	}
	if p := b.post("/dashboard/logout", url.Values{"csrf": {csrf(t, p)}}); p.url != "/dashboard/login" {
		t.Fatalf("logout ended at %s", p.url)
	}
	if p := b.get("/dashboard/rollouts"); p.url != "/dashboard/login" {
		t.Fatalf("after logout, the rollouts went to %s", p.url)
	}
	if strings.Contains(d.logs.String(), d.operator) {
		t.Errorf("the daemon's log shows the token")
	}
}

func mustURL(t testing.TB, s string) *url.URL {
	t.Helper()
	u, err := url.Parse(s)
	if err != nil {
		t.Fatal(err)
	}
	return u
}

func TestSessionExpires(t *testing.T) {
	d := start(t)
	b := d.browser(t)
	b.login(d.reader)
	d.clock.advance(dashboard.DefaultLifetime - time.Minute)
	if p := b.get("/dashboard/status"); p.status != http.StatusOK || p.url != "/dashboard/status" {
		t.Fatalf("before the end of the session: %d at %s", p.status, p.url)
	}
	d.clock.advance(2 * time.Minute)
	p := b.get("/dashboard/status")
	if p.url != "/dashboard/login" || !strings.Contains(p.body, "session ended") {
		t.Fatalf("after the end of the session: %d at %s", p.status, p.url)
	}
}

func TestForgedPostsAreRefused(t *testing.T) {
	d := start(t)
	b := d.browser(t)
	p := b.login(d.operator)
	token := csrf(t, p)
	form := func(csrf string) url.Values {
		return url.Values{"csrf": {csrf}, "name_en": {"Forged"}, "body_en": {"Forged"}}
	}
	// Every form of the status page's editor, with what it would change.
	from := d.clock.Now().UTC().Add(time.Hour)
	forms := map[string]url.Values{
		"/dashboard/status/incidents": {"name_en": {"Forged"}, "body_en": {"Forged"}},
		"/dashboard/status/maintenances": {"name_en": {"Forged"}, "body_en": {"Forged"}, "components": {"web-cluster-01"},
			"from": {from.Format("2006-01-02T15:04")}, "until": {from.Add(time.Hour).Format("2006-01-02T15:04")}},
		"/dashboard/status/components/web-cluster-01": {"status": {"major_outage"}},
	}
	for _, tc := range []struct {
		name   string
		csrf   string
		header []string
	}{
		{"no CSRF token", "", nil},
		{"a wrong CSRF token", strings.Repeat("0", len(token)), nil},
		{"from another site", token, []string{"Origin", "http://evil.example"}},
	} {
		for path, fields := range forms {
			t.Run(tc.name+" to "+path, func(t *testing.T) {
				f := url.Values{"csrf": {tc.csrf}}
				for k, v := range fields {
					f[k] = v
				}
				if p := b.post(path, f, tc.header...); p.status != http.StatusForbidden {
					t.Errorf("answered %d, want 403", p.status)
				}
			})
		}
	}
	if p := b.get("/dashboard/status"); strings.Contains(p.body, "Forged") || strings.Contains(p.body, "set by hand</span>") {
		t.Errorf("a forged form changed the status page")
	}
	// Another operator's session has its own token.
	other := d.browser(t)
	if p := other.post("/dashboard/status/incidents", form(token)); p.status != http.StatusSeeOther && p.url != "/dashboard/login" {
		t.Errorf("a session-less form with a CSRF token: %d at %s", p.status, p.url)
	}
}

// laterPlan waits for a window three days ahead: its rollouts run and
// touch no host.
func laterPlan() string {
	day := strings.ToLower(time.Now().UTC().AddDate(0, 0, 3).Weekday().String()[:3])
	return "name: Later\nsteps:\n  - run: \"true\"\nstrategy:\n  max_parallel: 1\nwindow:\n  days: [" + day + "]\n  hours: 09:00-10:00\n"
}

func startLater(t testing.TB, d *daemon) string {
	t.Helper()
	body, err := json.Marshal(api.StartRollout{PlanFile: "later.yaml", Plan: laterPlan()})
	if err != nil {
		t.Fatal(err)
	}
	req, err := http.NewRequest(http.MethodPost, d.url+"/api/v1/rollouts", strings.NewReader(string(body)))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+d.operator)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var ro api.Rollout
	if err := json.NewDecoder(resp.Body).Decode(&ro); err != nil || resp.StatusCode != http.StatusCreated {
		t.Fatalf("start a rollout: %d %v", resp.StatusCode, err)
	}
	return ro.ID
}

// waitPage gets path until its body has want.
func (b *browser) waitPage(path, want string) answer {
	b.t.Helper()
	var p answer
	for range 200 {
		if p = b.get(path); strings.Contains(p.body, want) {
			return p
		}
		time.Sleep(50 * time.Millisecond)
	}
	b.t.Fatalf("%s never showed %q; last: %d\n%s", path, want, p.status, p.body)
	return p
}

func TestRolloutPage(t *testing.T) {
	d := start(t)
	id := startLater(t, d)
	path := "/dashboard/rollouts/" + id

	reader := d.browser(t)
	reader.login(d.reader)
	if p := reader.get("/dashboard/rollouts"); !strings.Contains(p.body, id) {
		t.Errorf("the list of rollouts lacks %s", id)
	}
	p := reader.waitPage(path, "outside the maintenance window")
	for _, want := range []string{"Later", "running", "pending", "web-gra-01", "not started, 1 to go", "class=\"eta\"", "live.js", `http-equiv="refresh"`, "rollout.created"} {
		if !strings.Contains(p.body, want) {
			t.Errorf("the rollout page lacks %q:\n%s", want, p.body)
		}
	}
	if strings.Contains(p.body, ">Pause<") {
		t.Errorf("a reader is shown the pause button")
	}
	if p := reader.post(path+"/pause", url.Values{"csrf": {csrf(t, p)}}); p.status != http.StatusForbidden {
		t.Errorf("a reader's pause: %d, want 403", p.status)
	}

	op := d.browser(t)
	op.login(d.operator)
	p = op.get(path)
	if !strings.Contains(p.body, ">Pause<") || !strings.Contains(p.body, ">Abort<") {
		t.Fatalf("an operator is not shown the buttons")
	}
	token := csrf(t, p)
	if p := op.post(path+"/pause", url.Values{"csrf": {token}}); p.status != http.StatusOK || !strings.Contains(p.body, ">Resume<") {
		t.Fatalf("pause: %d\n%s", p.status, p.body)
	}
	if p := op.post(path+"/pause", url.Values{"csrf": {token}}); p.status != http.StatusConflict {
		t.Errorf("pausing a paused rollout: %d, want 409", p.status)
	}
	if p := op.post(path+"/abort", url.Values{"csrf": {token}}); p.status != http.StatusOK {
		t.Fatalf("abort: %d\n%s", p.status, p.body)
	}
	op.waitPage(path, "aborted")

	// The stream the page's script follows: unnamed events, then the end.
	req, err := http.NewRequest(http.MethodGet, d.url+path+"/events", nil)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := op.http.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if ct := resp.Header.Get("Content-Type"); ct != "text/event-stream" {
		t.Fatalf("the event stream is %q", ct)
	}
	var events []string
	sc := bufio.NewScanner(resp.Body)
	for sc.Scan() {
		if line := sc.Text(); strings.HasPrefix(line, "event:") || strings.HasPrefix(line, "data:") {
			events = append(events, line)
		}
	}
	if n := len(events); n < 3 || events[n-2] != "event: end" {
		t.Fatalf("the stream did not end with its end event: %q", events)
	}
	for _, e := range events[:len(events)-2] {
		if strings.HasPrefix(e, "event:") {
			t.Errorf("the stream names an event: %q", e)
		}
	}
}

func TestEditorPostsToThePublicPage(t *testing.T) {
	d := start(t)
	b := d.browser(t)
	token := csrf(t, b.login(d.operator))
	p := b.post("/dashboard/status/incidents", url.Values{
		"csrf": {token}, "name_en": {"Slow mailboxes"}, "name_fr": {"Boîtes lentes"},
		"status": {"investigating"}, "impact": {"minor"}, "components": {"web-cluster-01"},
		"body_en": {"We are looking into slow mailboxes."},
	})
	if p.status != http.StatusOK || !strings.Contains(p.body, "Slow mailboxes") {
		t.Fatalf("open an incident: %d\n%s", p.status, p.body)
	}
	m := regexp.MustCompile(`/dashboard/status/incidents/([0-9a-f]+)/updates`).FindStringSubmatch(p.body)
	if m == nil {
		t.Fatalf("no update form for the incident")
	}
	if p := b.post(m[0], url.Values{"csrf": {token}, "status": {"bogus"}, "body_en": {"x"}}); p.status != http.StatusBadRequest || !strings.Contains(p.body, "is not one of") {
		t.Errorf("a bad status: %d, without the API's reason", p.status)
	}
	p = b.post(m[0], url.Values{"csrf": {token}, "status": {"identified"}, "body_de": {"Die Ursache ist gefunden."}})
	if p.status != http.StatusOK || !strings.Contains(p.body, "Die Ursache ist gefunden.") {
		t.Fatalf("post an update: %d\n%s", p.status, p.body)
	}

	reader := d.browser(t)
	rp := reader.login(d.reader)
	if p := reader.post(m[0], url.Values{"csrf": {csrf(t, rp)}, "status": {"resolved"}, "body_en": {"Reader was here"}}); p.status != http.StatusForbidden {
		t.Errorf("a reader's update: %d, want 403", p.status)
	}

	public := &http.Client{Timeout: 10 * time.Second}
	var body string
	for range 200 {
		resp, err := public.Get(d.public + "/?lang=de")
		if err != nil {
			t.Fatal(err)
		}
		raw, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		if err != nil {
			t.Fatal(err)
		}
		if body = string(raw); strings.Contains(body, "Die Ursache ist gefunden.") {
			if strings.Contains(body, "Reader was here") {
				t.Errorf("a reader's update reached the public page")
			}
			return
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("the public status page never showed the update:\n%s", body)
}
