package server_test

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"github.com/illico-dev/illico/internal/api"
	"github.com/illico-dev/illico/internal/server/servertest"
	"github.com/illico-dev/illico/internal/store"
	"github.com/illico-dev/illico/internal/store/pgtest"
)

// The API suite runs on SQLite and once on PostgreSQL.
var apiTests = []struct {
	name string
	run  func(t *testing.T, dsn func(t testing.TB) string)
}{
	{"auth", testAuth},
	{"first start creates one admin token", testFirstStart},
	{"inventory endpoints", testInventory},
	{"reload keeps the old inventory when the new one is bad", testReload},
	{"tokens", testTokens},
	{"strict JSON bodies", testStrictJSON},
	{"internal errors stay in the log", testInternalError},
	{"metrics", testMetrics},
	{"graceful shutdown", testGracefulShutdown},
	{"shutdown cuts off requests after the timeout", testShutdownTimeout},
}

func TestAPISQLite(t *testing.T) {
	for _, tt := range apiTests {
		t.Run(tt.name, func(t *testing.T) {
			tt.run(t, func(t testing.TB) string { return "sqlite:" + filepath.Join(t.TempDir(), "illico.db") })
		})
	}
}

func TestAPIPostgres(t *testing.T) {
	if testing.Short() {
		t.Skip("slow: starts PostgreSQL")
	}
	cluster := pgtest.StartCluster(t)
	for _, tt := range apiTests {
		t.Run(tt.name, func(t *testing.T) { tt.run(t, cluster.NewDatabase) })
	}
}

// inventoryCopy copies the test inventory (and the files it names) to a
// directory of the test's own, so that the test may change it.
func inventoryCopy(t testing.TB) string {
	t.Helper()
	dir := t.TempDir()
	data, err := os.ReadFile("testdata/inventory.yaml")
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "inventory.yaml")
	if err := os.WriteFile(path, data, 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

type answer struct {
	status int
	header http.Header
	body   []byte
}

func (a answer) decode(t testing.TB, v any) {
	t.Helper()
	if err := json.Unmarshal(a.body, v); err != nil {
		t.Fatalf("decode %s: %v", a.body, err)
	}
}

func (a answer) apiError(t testing.TB) api.Error {
	t.Helper()
	var e api.ErrorBody
	a.decode(t, &e)
	return e.Error
}

// call sends a request to the daemon; body is sent as is when it is a
// string or a reader, as JSON otherwise.
func call(t testing.TB, d *servertest.Daemon, method, path, token string, body any) answer {
	t.Helper()
	var r io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		r = strings.NewReader(b)
	case io.Reader:
		r = b
	default:
		data, err := json.Marshal(b)
		if err != nil {
			t.Fatal(err)
		}
		r = bytes.NewReader(data)
	}
	req, err := http.NewRequestWithContext(t.Context(), method, d.URL+path, r)
	if err != nil {
		t.Fatal(err)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	client := &http.Client{Timeout: 30 * time.Second}
	resp, err := client.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return answer{status: resp.StatusCode, header: resp.Header, body: data}
}

// createToken has the daemon create a token with role and returns its secret.
func createToken(t testing.TB, d *servertest.Daemon, admin, name, role string) api.CreatedToken {
	t.Helper()
	a := call(t, d, "POST", "/api/v1/tokens", admin, api.CreateToken{Name: name, Role: role})
	if a.status != http.StatusCreated {
		t.Fatalf("create token %s: %d %s", name, a.status, a.body)
	}
	var c api.CreatedToken
	a.decode(t, &c)
	return c
}

func start(t testing.TB, dsn func(t testing.TB) string, opts servertest.Options) *servertest.Daemon {
	t.Helper()
	opts.DSN = dsn(t)
	d := servertest.Start(t, opts)
	t.Cleanup(func() { d.CheckNoSecrets(t) })
	if d.AdminToken == "" {
		t.Fatalf("a new daemon showed no admin token; stderr:\n%s", d.Stderr)
	}
	return d
}

func testAuth(t *testing.T, dsn func(t testing.TB) string) {
	d := start(t, dsn, servertest.Options{Inventory: inventoryCopy(t)})
	reader := createToken(t, d, d.AdminToken, "grafana", "reader").Secret
	operator := createToken(t, d, d.AdminToken, "ci", "operator").Secret
	revoked := createToken(t, d, d.AdminToken, "old", "reader")
	if a := call(t, d, "DELETE", "/api/v1/tokens/"+itoa(revoked.Token.ID), d.AdminToken, nil); a.status != http.StatusOK {
		t.Fatalf("revoke: %d %s", a.status, a.body)
	}
	for _, tc := range []struct {
		name         string
		method, path string
		header       string // the whole Authorization header
		want         int
	}{
		{"health needs no token", "GET", "/healthz", "", 200},
		{"metrics need no token", "GET", "/metrics", "", 200},
		{"no token", "GET", "/api/v1/hosts", "", 401},
		{"not bearer", "GET", "/api/v1/hosts", "Basic " + reader, 401},
		{"unknown token", "GET", "/api/v1/hosts", "Bearer illico_aaaaaaaaaaaaaaaaaaaa", 401},
		{"not an illico token", "GET", "/api/v1/hosts", "Bearer hunter2", 401},
		{"revoked token", "GET", "/api/v1/hosts", "Bearer " + revoked.Secret, 401},
		{"reader reads", "GET", "/api/v1/hosts", "Bearer " + reader, 200},
		{"lower-case scheme", "GET", "/api/v1/groups", "bearer " + reader, 200},
		{"reader cannot reload", "POST", "/api/v1/inventory/reload", "Bearer " + reader, 403},
		{"operator reloads", "POST", "/api/v1/inventory/reload", "Bearer " + operator, 200},
		{"operator cannot list tokens", "GET", "/api/v1/tokens", "Bearer " + operator, 403},
		{"reader cannot create tokens", "POST", "/api/v1/tokens", "Bearer " + reader, 403},
		{"admin lists tokens", "GET", "/api/v1/tokens", "Bearer " + d.AdminToken, 200},
		{"admin reads", "GET", "/api/v1/inventory", "Bearer " + d.AdminToken, 200},
		{"unknown endpoint", "GET", "/api/v1/nothing", "Bearer " + reader, 404},
	} {
		t.Run(tc.name, func(t *testing.T) {
			req, err := http.NewRequestWithContext(t.Context(), tc.method, d.URL+tc.path, nil)
			if err != nil {
				t.Fatal(err)
			}
			if tc.header != "" {
				req.Header.Set("Authorization", tc.header)
			}
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != tc.want {
				t.Fatalf("got %d %s, want %d", resp.StatusCode, body, tc.want)
			}
			if resp.Header.Get("X-Request-Id") == "" {
				t.Error("no X-Request-Id")
			}
			if tc.want >= 400 {
				var e api.ErrorBody
				if err := json.Unmarshal(body, &e); err != nil || e.Error.Kind == "" || e.Error.Message == "" {
					t.Errorf("error body %s is not {\"error\": {\"kind\", \"message\"}}", body)
				}
				if strings.Contains(string(body), "hunter2") || strings.Contains(string(body), revoked.Secret) {
					t.Errorf("the answer repeats the token: %s", body)
				}
			}
			if tc.want == 401 && !strings.HasPrefix(resp.Header.Get("WWW-Authenticate"), "Bearer") {
				t.Errorf("401 without WWW-Authenticate: Bearer (got %q)", resp.Header.Get("WWW-Authenticate"))
			}
		})
	}
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

func mustJSON(v any) []byte {
	b, _ := json.Marshal(v)
	return b
}

func testFirstStart(t *testing.T, dsn func(t testing.TB) string) {
	dir := t.TempDir()
	file := filepath.Join(dir, "admin.token")
	// An older file with loose permissions must not keep them.
	if err := os.WriteFile(file, []byte("old\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	db := dsn(t)
	opts := servertest.Options{DSN: db, AdminTokenFile: file}
	d := servertest.Start(t, opts)
	d.CheckNoSecrets(t)
	if !strings.Contains(d.Stderr.String(), "admin token (shown once)") || d.AdminToken == "" {
		t.Fatalf("the first start did not show the admin token:\n%s", d.Stderr)
	}
	if n := len(servertest.Secrets(d.Stderr.String())); n != 1 {
		t.Errorf("stderr shows %d secrets, want 1", n)
	}
	fi, err := os.Stat(file)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o600 {
		t.Errorf("admin token file has mode %v, want 0600", fi.Mode().Perm())
	}
	data, _ := os.ReadFile(file)
	if strings.TrimSpace(string(data)) != d.AdminToken {
		t.Errorf("the admin token file does not hold the token shown")
	}
	if err := d.Stop(); err != nil {
		t.Fatal(err)
	}

	again := servertest.Start(t, opts)
	again.CheckNoSecrets(t)
	if again.AdminToken != "" || again.Stderr.String() != "" {
		t.Errorf("a restart showed something on stderr:\n%s", again.Stderr)
	}
	if a := call(t, again, "GET", "/api/v1/tokens", d.AdminToken, nil); a.status != 200 {
		t.Fatalf("the first admin token does not work after a restart: %d %s", a.status, a.body)
	} else {
		var list api.Tokens
		a.decode(t, &list)
		if len(list.Tokens) != 1 || list.Tokens[0].Role != "admin" {
			t.Errorf("after a restart, tokens are %+v, want the one admin", list.Tokens)
		}
	}
	if after, _ := os.ReadFile(file); !bytes.Equal(after, data) {
		t.Error("a restart rewrote the admin token file")
	}
}

func testInventory(t *testing.T, dsn func(t testing.TB) string) {
	path := inventoryCopy(t)
	d := start(t, dsn, servertest.Options{Inventory: path})
	tok := d.AdminToken

	var inv api.Inventory
	call(t, d, "GET", "/api/v1/inventory", tok, nil).decode(t, &inv)
	wantCounts := api.Counts{Sites: 2, Datacenters: 3, Hosts: 4, Groups: 2, LoadBalancers: 1}
	if inv.Counts != wantCounts {
		t.Errorf("counts %+v, want %+v", inv.Counts, wantCounts)
	}
	if inv.Path != path || inv.Loaded == nil {
		t.Errorf("path %q loaded %v", inv.Path, inv.Loaded)
	}
	if got := mustJSON(inv.Sites); string(got) != `[{"name":"gra","datacenters":["gra"]},{"name":"rbx","datacenters":["rbx1","rbx2"]}]` {
		t.Errorf("sites %s", got)
	}
	if got := mustJSON(inv.Datacenters); string(got) != `[{"name":"gra","site":"gra","hosts":1},{"name":"rbx1","site":"rbx","hosts":2},{"name":"rbx2","site":"rbx","hosts":1}]` {
		t.Errorf("datacenters %s", got)
	}

	var hosts api.Hosts
	call(t, d, "GET", "/api/v1/hosts", tok, nil).decode(t, &hosts)
	var names []string
	for _, h := range hosts.Hosts {
		names = append(names, h.Name)
	}
	if strings.Join(names, " ") != "web-gra-01 web-rbx-01 db-rbx-01 db-rbx-02" {
		t.Errorf("hosts %v, want inventory order", names)
	}

	var host api.Host
	call(t, d, "GET", "/api/v1/hosts/web-rbx-01", tok, nil).decode(t, &host)
	wantHost := api.Host{Name: "web-rbx-01", Address: "127.0.10.2", Datacenter: "rbx1", Site: "rbx", Groups: []string{"web-01"}, Labels: map[string]string{"role": "web"}}
	if string(mustJSON(host)) != string(mustJSON(wantHost)) {
		t.Errorf("host %+v, want %+v", host, wantHost)
	}

	var group api.Group
	call(t, d, "GET", "/api/v1/groups/web-01", tok, nil).decode(t, &group)
	wantGroup := api.Group{Name: "web-01", Budget: "max_unavailable 1", Allowed: 1, Component: "Web cluster 01",
		LoadBalancer: &api.Membership{Name: "lb-gra", Backend: "web-01"}, Members: []string{"web-gra-01", "web-rbx-01"}}
	if string(mustJSON(group)) != string(mustJSON(wantGroup)) {
		t.Errorf("group %s, want %s", mustJSON(group), mustJSON(wantGroup))
	}
	var groups api.Groups
	call(t, d, "GET", "/api/v1/groups", tok, nil).decode(t, &groups)
	if len(groups.Groups) != 2 || groups.Groups[1].Name != "db-01" || groups.Groups[1].Allowed != 1 {
		t.Errorf("groups %s", mustJSON(groups))
	}

	for _, tc := range []struct{ path, want string }{
		{"/api/v1/hosts/web-gra-1", `no host named "web-gra-1" (did you mean "web-gra-01"?)`},
		{"/api/v1/groups/db-02", `no group named "db-02" (did you mean "db-01"?)`},
		{"/api/v1/hosts/zzzzzzzzzzzz", `no host named "zzzzzzzzzzzz" in the inventory`},
	} {
		a := call(t, d, "GET", tc.path, tok, nil)
		if e := a.apiError(t); a.status != 404 || e.Kind != "not_found" || e.Message != tc.want {
			t.Errorf("%s: %d %+v, want 404 %q", tc.path, a.status, e, tc.want)
		}
	}
}

func testReload(t *testing.T, dsn func(t testing.TB) string) {
	path := inventoryCopy(t)
	d := start(t, dsn, servertest.Options{Inventory: path})
	tok := d.AdminToken
	good, _ := os.ReadFile(path)
	bad := strings.Replace(string(good), "max_unavailable: 1", "max_unavailabe: 1", 1)
	bad = strings.Replace(bad, "datacenter: rbx2", "datacenter: rbx3", 1)
	if err := os.WriteFile(path, []byte(bad), 0o600); err != nil {
		t.Fatal(err)
	}
	a := call(t, d, "POST", "/api/v1/inventory/reload", tok, nil)
	e := a.apiError(t)
	if a.status != 400 || e.Kind != "invalid" {
		t.Fatalf("reload of a bad file: %d %s", a.status, a.body)
	}
	if len(e.Problems) < 2 {
		t.Errorf("want every problem, got %q", e.Problems)
	}
	for _, want := range []string{path + ":20:5: unknown key \"max_unavailabe\"", "rbx3"} {
		if !strings.Contains(e.Message, want) {
			t.Errorf("message %q does not say %q", e.Message, want)
		}
	}
	var hosts api.Hosts
	call(t, d, "GET", "/api/v1/hosts", tok, nil).decode(t, &hosts)
	if len(hosts.Hosts) != 4 || hosts.Hosts[3].Datacenter != "rbx2" {
		t.Errorf("after a refused reload the hosts are %s", mustJSON(hosts))
	}

	more := string(good) + "  web-rbx-02:\n    address: 127.0.10.5\n    datacenter: rbx2\n    groups: [web-01]\n"
	if err := os.WriteFile(path, []byte(more), 0o600); err != nil {
		t.Fatal(err)
	}
	a = call(t, d, "POST", "/api/v1/inventory/reload", tok, nil)
	if a.status != 200 {
		t.Fatalf("reload of a good file: %d %s", a.status, a.body)
	}
	var inv api.Inventory
	a.decode(t, &inv)
	if inv.Counts.Hosts != 5 {
		t.Errorf("after reload, %d hosts, want 5", inv.Counts.Hosts)
	}
	call(t, d, "GET", "/api/v1/hosts", tok, nil).decode(t, &hosts)
	if len(hosts.Hosts) != 5 {
		t.Errorf("after reload, GET hosts lists %d", len(hosts.Hosts))
	}
	events, err := d.Store.Events(t.Context(), store.EventFilter{Kind: "inventory.reloaded"})
	if err != nil || len(events) != 1 {
		t.Errorf("want one inventory.reloaded event, got %+v (%v)", events, err)
	}
}

func testTokens(t *testing.T, dsn func(t testing.TB) string) {
	d := start(t, dsn, servertest.Options{})
	admin := d.AdminToken
	c := createToken(t, d, admin, "deploy bot", "operator")
	if c.Token.Name != "deploy bot" || c.Token.Role != "operator" || c.Token.Revoked != nil {
		t.Errorf("created %+v", c.Token)
	}
	def := createToken(t, d, admin, "no role", "")
	if def.Token.Role != "reader" {
		t.Errorf("a token created without a role has role %q, want reader", def.Token.Role)
	}
	var list api.Tokens
	call(t, d, "GET", "/api/v1/tokens", admin, nil).decode(t, &list)
	if len(list.Tokens) != 3 || list.Tokens[0].LastUsed == nil {
		t.Errorf("tokens %s (the admin's last use should be recorded)", mustJSON(list))
	}
	if strings.Contains(string(mustJSON(list)), c.Secret) {
		t.Error("the list shows a secret")
	}
	for _, tc := range []struct {
		name, path string
		want       int
		kind       string
	}{
		{"revoke", "/api/v1/tokens/" + itoa(c.Token.ID), 200, ""},
		{"again", "/api/v1/tokens/" + itoa(c.Token.ID), 409, "conflict"},
		{"unknown", "/api/v1/tokens/9999", 404, "not_found"},
		{"not a number", "/api/v1/tokens/abc", 400, "invalid"},
		{"the last admin", "/api/v1/tokens/1", 409, "conflict"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			a := call(t, d, "DELETE", tc.path, admin, nil)
			if a.status != tc.want {
				t.Fatalf("got %d %s, want %d", a.status, a.body, tc.want)
			}
			if tc.kind != "" && a.apiError(t).Kind != tc.kind {
				t.Errorf("kind %q, want %q", a.apiError(t).Kind, tc.kind)
			}
		})
	}
	if a := call(t, d, "GET", "/api/v1/hosts", c.Secret, nil); a.status != 401 {
		t.Errorf("a revoked token still reads: %d", a.status)
	}
	a := call(t, d, "POST", "/api/v1/tokens", admin, api.CreateToken{Name: "x", Role: "root"})
	if e := a.apiError(t); a.status != 400 || !strings.Contains(e.Message, `unknown role "root"`) {
		t.Errorf("bad role: %d %+v", a.status, e)
	}
	events, err := d.Store.Events(t.Context(), store.EventFilter{Kind: "token.revoked"})
	if err != nil || len(events) != 1 {
		t.Errorf("want one token.revoked event, got %+v (%v)", events, err)
	}
}

func testStrictJSON(t *testing.T, dsn func(t testing.TB) string) {
	d := start(t, dsn, servertest.Options{})
	for _, tc := range []struct {
		name string
		body any
		want string
	}{
		{"unknown field", `{"name": "x", "rol": "reader"}`, `request body: unknown field "rol"`},
		{"not JSON", `{"name": `, "request body is not valid JSON"},
		{"syntax", `{"name" "x"}`, "request body is not valid JSON (at byte 9)"},
		{"empty", ``, "request body is empty"},
		{"two values", `{"name": "x"} {}`, "expected one JSON value"},
		{"wrong type", `{"name": 3}`, `request body: field "name": expected a string, got a number`},
		{"an array", `[]`, "request body: expected an object, got an array"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			a := call(t, d, "POST", "/api/v1/tokens", d.AdminToken, tc.body)
			e := a.apiError(t)
			if a.status != 400 || e.Kind != "invalid" || !strings.Contains(e.Message, tc.want) {
				t.Errorf("got %d %+v, want 400 saying %q", a.status, e, tc.want)
			}
		})
	}
	a := call(t, d, "POST", "/api/v1/tokens", d.AdminToken, `{"name": "`+strings.Repeat("x", 2<<20)+`"}`)
	if e := a.apiError(t); a.status != http.StatusRequestEntityTooLarge || e.Kind != "too_large" || !strings.Contains(e.Message, "request body is larger than 1048576 bytes") {
		t.Errorf("too large: got %d %+v, want 413 saying the bound", a.status, e)
	}
}

func testInternalError(t *testing.T, dsn func(t testing.TB) string) {
	d := start(t, dsn, servertest.Options{})
	// Break the database under the daemon.
	d.Store.Close()
	a := call(t, d, "GET", "/api/v1/tokens", d.AdminToken, nil)
	id := a.header.Get("X-Request-Id")
	e := a.apiError(t)
	want := "internal error, see the daemon log (request id " + id + ")"
	if a.status != 500 && a.status != 503 {
		t.Fatalf("got %d %s, want 500 or 503", a.status, a.body)
	}
	if a.status == 500 && e.Message != want {
		t.Errorf("message %q, want %q", e.Message, want)
	}
	if !strings.Contains(d.Logs.String(), id) {
		t.Errorf("the log does not mention request %s", id)
	}
	if h := call(t, d, "GET", "/healthz", "", nil); h.status != 503 {
		t.Errorf("/healthz with a closed store: %d %s", h.status, h.body)
	}
}

func testMetrics(t *testing.T, dsn func(t testing.TB) string) {
	d := start(t, dsn, servertest.Options{Inventory: inventoryCopy(t)})
	for range 3 {
		call(t, d, "GET", "/api/v1/hosts/web-gra-01", d.AdminToken, nil)
	}
	call(t, d, "GET", "/api/v1/hosts", "", nil)
	a := call(t, d, "GET", "/metrics", "", nil)
	if a.status != 200 {
		t.Fatalf("/metrics: %d", a.status)
	}
	parser := expfmt.NewTextParser(model.UTF8Validation)
	families, err := parser.TextToMetricFamilies(bytes.NewReader(a.body))
	if err != nil {
		t.Fatalf("/metrics is not Prometheus text: %v", err)
	}
	value := func(name string, labels map[string]string) (float64, bool) {
		f, ok := families[name]
		if !ok {
			return 0, false
		}
	next:
		for _, m := range f.GetMetric() {
			for k, v := range labels {
				found := false
				for _, l := range m.GetLabel() {
					if l.GetName() == k && l.GetValue() == v {
						found = true
					}
				}
				if !found {
					continue next
				}
			}
			switch {
			case m.Counter != nil:
				return m.Counter.GetValue(), true
			case m.Gauge != nil:
				return m.Gauge.GetValue(), true
			case m.Histogram != nil:
				return float64(m.Histogram.GetSampleCount()), true
			}
		}
		return 0, false
	}
	for _, tc := range []struct {
		name   string
		labels map[string]string
		want   float64
	}{
		{"illico_http_requests_total", map[string]string{"route": "GET /api/v1/hosts/{name}", "code": "200"}, 3},
		{"illico_http_requests_total", map[string]string{"route": "GET /api/v1/hosts", "code": "401"}, 1},
		{"illico_http_request_duration_seconds", map[string]string{"route": "GET /api/v1/hosts/{name}", "code": "200"}, 3},
		{"illico_build_info", map[string]string{"version": "test", "commit": "0123abcd", "date": "2026-03-29T01:30:00Z"}, 1},
		{"illico_inventory_hosts", nil, 4},
		{"illico_inventory_groups", nil, 2},
		{"illico_inventory_reloads_total", map[string]string{"result": "refused"}, 0},
		{"illico_store_errors_total", nil, -1}, // present once an error happened; absent is fine
	} {
		got, ok := value(tc.name, tc.labels)
		if tc.want < 0 {
			continue
		}
		if !ok || got != tc.want {
			t.Errorf("%s%v = %v (present %v), want %v", tc.name, tc.labels, got, ok, tc.want)
		}
	}
	if _, ok := families["go_goroutines"]; !ok {
		t.Error("no Go runtime metrics")
	}
}

// inFlight starts a POST /api/v1/tokens on a connection of its own and
// returns once the daemon's handler is reading its body: the daemon answers
// "100 Continue" only then. The caller sends the rest of the body and reads
// the answer.
func inFlight(t testing.TB, d *servertest.Daemon, body string) (net.Conn, *bufio.Reader) {
	t.Helper()
	conn, err := net.DialTimeout("tcp", strings.TrimPrefix(d.URL, "http://"), 10*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	conn.SetDeadline(time.Now().Add(time.Minute))
	fmt.Fprintf(conn, "POST /api/v1/tokens HTTP/1.1\r\nHost: illico\r\nAuthorization: Bearer %s\r\n"+
		"Content-Type: application/json\r\nContent-Length: %d\r\nExpect: 100-continue\r\n\r\n", d.AdminToken, len(body))
	r := bufio.NewReader(conn)
	resp, err := http.ReadResponse(r, nil)
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != http.StatusContinue {
		t.Fatalf("got %s, want 100 Continue", resp.Status)
	}
	return conn, r
}

// testGracefulShutdown stops the daemon while a request is still sending
// its body: the request must complete, and Run return cleanly.
func testGracefulShutdown(t *testing.T, dsn func(t testing.TB) string) {
	d := start(t, dsn, servertest.Options{ShutdownTimeout: 30 * time.Second})
	body := `{"name": "late", "role": "reader"}`
	conn, r := inFlight(t, d, body)
	if _, err := io.WriteString(conn, body[:10]); err != nil {
		t.Fatal(err)
	}
	stopped := make(chan error, 1)
	go func() { stopped <- d.Stop() }()
	// Stop waits for the request; it cannot have returned yet.
	select {
	case err := <-stopped:
		t.Fatalf("the daemon stopped with a request in flight: %v", err)
	case <-time.After(200 * time.Millisecond):
	}
	if _, err := io.WriteString(conn, body[10:]); err != nil {
		t.Fatal(err)
	}
	resp, err := http.ReadResponse(r, nil)
	if err != nil {
		t.Fatalf("the request in flight got no answer: %v", err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusCreated {
		t.Errorf("the request in flight got %s", resp.Status)
	}
	if err := <-stopped; err != nil {
		t.Errorf("Run returned %v after a graceful shutdown", err)
	}
	if _, err := http.Get(d.URL + "/healthz"); err == nil {
		t.Error("the daemon still answers after shutting down")
	}
}

func testShutdownTimeout(t *testing.T, dsn func(t testing.TB) string) {
	d := start(t, dsn, servertest.Options{ShutdownTimeout: 300 * time.Millisecond})
	_, r := inFlight(t, d, `{"name": "never"}`)
	err := d.Stop()
	if err == nil || !strings.Contains(err.Error(), "cut off") {
		t.Errorf("Run returned %v, want it to say requests were cut off", err)
	}
	if resp, err := http.ReadResponse(r, nil); err == nil {
		t.Errorf("the request that never finished got an answer: %s", resp.Status)
	}
}
