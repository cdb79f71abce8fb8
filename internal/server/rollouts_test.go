package server_test

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"maps"
	"math/rand/v2"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"github.com/illico-dev/illico/internal/api"
	"github.com/illico-dev/illico/internal/client"
	"github.com/illico-dev/illico/internal/lab"
	"github.com/illico-dev/illico/internal/lab/labtest"
	"github.com/illico-dev/illico/internal/plan"
	"github.com/illico-dev/illico/internal/server"
	"github.com/illico-dev/illico/internal/server/servertest"
	"github.com/illico-dev/illico/internal/store/pgtest"
)

func sqlite(t testing.TB) string { return "sqlite:" + filepath.Join(t.TempDir(), "illico.db") }

// The rollout API suite runs on SQLite and once on PostgreSQL; the tests
// on a lab run on SQLite only, the store being the same code.
var rolloutAPITests = []struct {
	name string
	run  func(t *testing.T, dsn func(t testing.TB) string)
}{
	{"routes need their role", testRolloutRoles},
	{"bad requests are refused", testRolloutRefusals},
	{"dry run", testRolloutDryRun},
	{"orders", testRolloutOrders},
	{"event stream", testRolloutEventStream},
	{"event stream ends when the daemon stops", testEventStreamEndsWhenTheDaemonStops},
}

func TestRolloutAPISQLite(t *testing.T) {
	for _, tt := range rolloutAPITests {
		t.Run(tt.name, func(t *testing.T) { tt.run(t, sqlite) })
	}
}

func TestRolloutAPIPostgres(t *testing.T) {
	if testing.Short() {
		t.Skip("slow: starts PostgreSQL")
	}
	cluster := pgtest.StartCluster(t)
	for _, tt := range rolloutAPITests {
		t.Run(tt.name, func(t *testing.T) { tt.run(t, cluster.NewDatabase) })
	}
}

// laterPlan is a plan whose window opens in three days: its rollouts run
// and wait, touching no host, for as long as a test needs.
func laterPlan() string {
	day := strings.ToLower(time.Now().UTC().AddDate(0, 0, 3).Weekday().String()[:3])
	return `name: Later
steps:
  - run: "true"
strategy:
  max_parallel: 1
window:
  days: [` + day + `]
  hours: 09:00-10:00
`
}

// startLater starts a rollout of laterPlan on the test inventory and waits
// until the engine has looked at it once (every host waits).
func startLater(t testing.TB, d *servertest.Daemon, token string) api.Rollout {
	t.Helper()
	a := call(t, d, "POST", "/api/v1/rollouts", token, api.StartRollout{PlanFile: "later.yaml", Plan: laterPlan()})
	if a.status != http.StatusCreated {
		t.Fatalf("start: %d %s", a.status, a.body)
	}
	var ro api.Rollout
	a.decode(t, &ro)
	return waitRollout(t, d, token, ro.ID, 10*time.Second, func(ro api.Rollout) bool { return len(ro.Waiting) == len(ro.Hosts) })
}

// waitRollout polls a rollout until cond holds.
func waitRollout(t testing.TB, d *servertest.Daemon, token, id string, within time.Duration, cond func(api.Rollout) bool) api.Rollout {
	t.Helper()
	deadline := time.Now().Add(within)
	var ro api.Rollout
	for time.Now().Before(deadline) {
		a := call(t, d, "GET", "/api/v1/rollouts/"+id, token, nil)
		if a.status != http.StatusOK {
			t.Fatalf("get rollout %s: %d %s", id, a.status, a.body)
		}
		ro = api.Rollout{}
		a.decode(t, &ro)
		if cond(ro) {
			return ro
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("rollout %s: condition not met within %s; it is %s (%s), hosts %+v", id, within, ro.State, ro.Reason, ro.Hosts)
	return ro
}

func testRolloutRoles(t *testing.T, dsn func(t testing.TB) string) {
	d := start(t, dsn, servertest.Options{Inventory: inventoryCopy(t)})
	reader := createToken(t, d, d.AdminToken, "grafana", "reader").Secret
	operator := createToken(t, d, d.AdminToken, "ci", "operator").Secret
	ro := startLater(t, d, operator)
	dry := api.StartRollout{Plan: laterPlan(), DryRun: true}
	for _, tc := range []struct {
		name         string
		method, path string
		token        string
		body         any
		want         int
	}{
		{"list without a token", "GET", "/api/v1/rollouts", "", nil, 401},
		{"get without a token", "GET", "/api/v1/rollouts/" + ro.ID, "", nil, 401},
		{"events without a token", "GET", "/api/v1/rollouts/" + ro.ID + "/events", "", nil, 401},
		{"start without a token", "POST", "/api/v1/rollouts", "", dry, 401},
		{"pause without a token", "POST", "/api/v1/rollouts/" + ro.ID + "/pause", "", nil, 401},
		{"reader lists", "GET", "/api/v1/rollouts", reader, nil, 200},
		{"reader gets", "GET", "/api/v1/rollouts/" + ro.ID, reader, nil, 200},
		{"reader reads events", "GET", "/api/v1/rollouts/" + ro.ID + "/events", reader, nil, 200},
		{"reader cannot start", "POST", "/api/v1/rollouts", reader, dry, 403},
		{"reader cannot pause", "POST", "/api/v1/rollouts/" + ro.ID + "/pause", reader, nil, 403},
		{"reader cannot resume", "POST", "/api/v1/rollouts/" + ro.ID + "/resume", reader, nil, 403},
		{"reader cannot abort", "POST", "/api/v1/rollouts/" + ro.ID + "/abort", reader, nil, 403},
		{"operator previews", "POST", "/api/v1/rollouts", operator, dry, 200},
		{"operator pauses", "POST", "/api/v1/rollouts/" + ro.ID + "/pause", operator, nil, 200},
		{"operator resumes", "POST", "/api/v1/rollouts/" + ro.ID + "/resume", operator, nil, 200},
		{"operator aborts", "POST", "/api/v1/rollouts/" + ro.ID + "/abort", operator, nil, 200},
		{"reader asks for an unknown rollout", "GET", "/api/v1/rollouts/nope", reader, nil, 404},
		{"unknown order", "POST", "/api/v1/rollouts/" + ro.ID + "/restart", operator, nil, 404},
	} {
		t.Run(tc.name, func(t *testing.T) {
			a := call(t, d, tc.method, tc.path, tc.token, tc.body)
			if a.status != tc.want {
				t.Fatalf("got %d %s, want %d", a.status, a.body, tc.want)
			}
			if tc.want >= 400 && a.apiError(t).Message == "" {
				t.Errorf("error without a message: %s", a.body)
			}
		})
	}
}

func testRolloutRefusals(t *testing.T, dsn func(t testing.TB) string) {
	d := start(t, dsn, servertest.Options{Inventory: inventoryCopy(t)})
	broken := "name: Broken\nsteps:\n  - dran\nstrategy:\n  max_paralel: 2\n"
	for _, tc := range []struct {
		name     string
		body     any
		says     string
		problems []string
	}{
		{"plan problems", api.StartRollout{PlanFile: "broken.yaml", Plan: broken}, "the plan has problems",
			[]string{`broken.yaml:3:5: unknown step "dran" (did you mean "drain"?)`, `broken.yaml:5:3: unknown key "max_paralel" (did you mean "max_parallel"?)`}},
		{"plan problems in a dry run", api.StartRollout{PlanFile: "broken.yaml", Plan: broken, DryRun: true}, "the plan has problems",
			[]string{`broken.yaml:3:5: unknown step "dran" (did you mean "drain"?)`, `broken.yaml:5:3: unknown key "max_paralel" (did you mean "max_parallel"?)`}},
		{"unnamed plan file", api.StartRollout{Plan: broken}, "plan.yaml:3:5: unknown step", nil},
		{"empty plan", api.StartRollout{PlanFile: "x.yaml"}, "plan is empty", nil},
		{"selector of no host", api.StartRollout{Plan: laterPlan(), Selector: "datacenter=nowhere"}, "select hosts", nil},
		{"empty selection", api.StartRollout{Plan: laterPlan(), Selector: "db-01,&web-01"}, "select hosts", nil},
		{"unknown field", `{"plan": "x", "dryrun": true}`, `unknown field "dryrun"`, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			a := call(t, d, "POST", "/api/v1/rollouts", d.AdminToken, tc.body)
			if a.status != http.StatusBadRequest {
				t.Fatalf("got %d %s, want 400", a.status, a.body)
			}
			e := a.apiError(t)
			if e.Kind != "invalid" || !strings.Contains(e.Message, tc.says) {
				t.Errorf("got %s %q, want invalid saying %q", e.Kind, e.Message, tc.says)
			}
			if tc.problems != nil && !slices.Equal(e.Problems, tc.problems) {
				t.Errorf("problems %q, want %q", e.Problems, tc.problems)
			}
		})
	}
	var list api.Rollouts
	call(t, d, "GET", "/api/v1/rollouts", d.AdminToken, nil).decode(t, &list)
	if len(list.Rollouts) != 0 {
		t.Errorf("refused requests left rollouts: %+v", list.Rollouts)
	}
}

func testRolloutDryRun(t *testing.T, dsn func(t testing.TB) string) {
	d := start(t, dsn, servertest.Options{Inventory: inventoryCopy(t)})
	plan := "name: Patch\nsteps:\n  - drain\n  - reboot\n  - undrain\nstrategy:\n  canary: 1\n  max_parallel: 2\n"
	a := call(t, d, "POST", "/api/v1/rollouts", d.AdminToken, api.StartRollout{Plan: plan, DryRun: true})
	if a.status != http.StatusOK {
		t.Fatalf("dry run: %d %s", a.status, a.body)
	}
	var pv api.Preview
	a.decode(t, &pv)
	if pv.Plan != "Patch" || len(pv.Hosts) != 4 || !pv.Hosts[0].Canary || pv.Hosts[0].Wave != 1 || pv.Hosts[1].Canary {
		t.Errorf("preview hosts: %+v", pv)
	}
	// The inventory's hosts answer no probe: none is known to be up, so
	// the canary cannot start, and the preview says so rather than promise
	// an end.
	if pv.MaxParallel != 2 || pv.Finishes || pv.PerHostSeconds <= 0 {
		t.Errorf("preview: %+v", pv)
	}
	budgets := map[string]int{}
	for _, g := range pv.Groups {
		budgets[g.Name] = g.Allowed
	}
	if budgets["web-01"] != 1 || budgets["db-01"] != 1 {
		t.Errorf("budgets %+v", pv.Groups)
	}
	// The canary waits for its probes; the others say they wait for it.
	if len(pv.Waiting) != 4 || !strings.Contains(pv.Waiting[pv.Hosts[1].Host], "canaries go first") ||
		!strings.Contains(pv.Waiting[pv.Hosts[0].Host], "it is down itself (") {
		t.Errorf("waiting %v", pv.Waiting)
	}
	var list api.Rollouts
	call(t, d, "GET", "/api/v1/rollouts", d.AdminToken, nil).decode(t, &list)
	if len(list.Rollouts) != 0 {
		t.Errorf("a dry run started a rollout: %+v", list.Rollouts)
	}
}

func testRolloutOrders(t *testing.T, dsn func(t testing.TB) string) {
	d := start(t, dsn, servertest.Options{Inventory: inventoryCopy(t)})
	op := createToken(t, d, d.AdminToken, "ci", "operator").Secret
	ro := startLater(t, d, op)
	if ro.State != "running" || ro.Plan != "Later" || ro.PlanFile != "later.yaml" || ro.Counts["pending"] != 4 || ro.Ended != nil {
		t.Fatalf("started: %+v", ro)
	}
	for _, h := range ro.Hosts {
		if h.State != "pending" || h.Step != 0 || h.Steps != 1 || !strings.Contains(ro.Waiting[h.Host], "outside the maintenance window") {
			t.Errorf("host %+v waits %q", h, ro.Waiting[h.Host])
		}
	}
	// Outside its window, and on hosts that answer no probe: no end is
	// promised.
	if ro.Finishes || ro.ETASeconds != 0 {
		t.Errorf("ETA %v finishes %v", ro.ETASeconds, ro.Finishes)
	}
	a := call(t, d, "POST", "/api/v1/rollouts", op, api.StartRollout{Plan: laterPlan(), Selector: "web-gra-01"})
	if e := a.apiError(t); a.status != http.StatusConflict || !strings.Contains(e.Message, "still running on web-gra-01") {
		t.Errorf("overlapping start: %d %s", a.status, a.body)
	}

	for _, tc := range []struct {
		name   string
		order  string
		status int
		states []string // the state after the order; any of these
		says   string
	}{
		{"resume a running rollout", "resume", 409, nil, "is running; it cannot resume"},
		{"pause", "pause", 200, []string{"paused"}, ""},
		{"pause a paused rollout", "pause", 409, nil, "is paused; it cannot pause"},
		{"resume", "resume", 200, []string{"running"}, ""},
		{"abort", "abort", 200, []string{"aborting", "aborted"}, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			a := call(t, d, "POST", "/api/v1/rollouts/"+ro.ID+"/"+tc.order, op, nil)
			if a.status != tc.status {
				t.Fatalf("got %d %s, want %d", a.status, a.body, tc.status)
			}
			if tc.status != 200 {
				if e := a.apiError(t); e.Kind != "conflict" || !strings.Contains(e.Message, tc.says) {
					t.Errorf("got %s %q, want conflict saying %q", e.Kind, e.Message, tc.says)
				}
				return
			}
			var got api.Rollout
			a.decode(t, &got)
			// An aborted rollout says why it ended, no longer who asked.
			if !slices.Contains(tc.states, got.State) || got.State != "aborted" && !strings.Contains(got.Reason, "asked to "+tc.order) {
				t.Errorf("after %s: %s (%s), want %v", tc.order, got.State, got.Reason, tc.states)
			}
		})
	}
	ro = waitRollout(t, d, op, ro.ID, 10*time.Second, func(ro api.Rollout) bool { return ro.Ended != nil })
	if ro.State != "aborted" || ro.Counts["pending"] != 4 || ro.ETASeconds != 0 {
		t.Errorf("after abort: %+v", ro)
	}
	for _, order := range []string{"pause", "resume", "abort"} {
		a := call(t, d, "POST", "/api/v1/rollouts/"+ro.ID+"/"+order, op, nil)
		if e := a.apiError(t); a.status != http.StatusConflict || !strings.Contains(e.Message, "is aborted; it cannot "+order) {
			t.Errorf("%s an aborted rollout: %d %s", order, a.status, a.body)
		}
	}
	if a := call(t, d, "POST", "/api/v1/rollouts/nope/pause", op, nil); a.status != http.StatusNotFound {
		t.Errorf("pause an unknown rollout: %d %s", a.status, a.body)
	}
	// The hosts are free again.
	if a := call(t, d, "POST", "/api/v1/rollouts", op, api.StartRollout{Plan: laterPlan(), Selector: "web-gra-01"}); a.status != http.StatusCreated {
		t.Errorf("start after the abort: %d %s", a.status, a.body)
	}

	var list api.Rollouts
	call(t, d, "GET", "/api/v1/rollouts?limit=1", op, nil).decode(t, &list)
	if len(list.Rollouts) != 1 || list.Rollouts[0].ID == ro.ID || list.Rollouts[0].Hosts != nil {
		t.Errorf("list?limit=1: %+v", list.Rollouts)
	}
	call(t, d, "GET", "/api/v1/rollouts", op, nil).decode(t, &list)
	if len(list.Rollouts) != 2 || list.Rollouts[1].ID != ro.ID || list.Rollouts[1].State != "aborted" || list.Rollouts[1].Plan != "Later" {
		t.Errorf("list: %+v", list.Rollouts)
	}

	var events api.Events
	call(t, d, "GET", "/api/v1/rollouts/"+ro.ID+"/events", op, nil).decode(t, &events)
	var kinds, states []string
	for _, e := range events.Events {
		kinds = append(kinds, e.Kind)
		if e.Kind == "rollout.state" {
			states = append(states, e.State)
		}
		if e.Rollout != ro.ID {
			t.Errorf("event of another rollout: %+v", e)
		}
	}
	if len(kinds) < 4 || kinds[0] != "rollout.created" || !slices.Contains(kinds, "rollout.order") || !slices.Contains(kinds, "host.waiting") {
		t.Errorf("event kinds %v", kinds)
	}
	if want := []string{"paused", "running", "aborting", "aborted"}; !slices.Equal(states, want) {
		t.Errorf("rollout.state events say %v, want %v", states, want)
	}
	if !slices.ContainsFunc(events.Events, func(e api.Event) bool {
		return e.Kind == "rollout.order" && strings.Contains(e.Message, "token 2 (ci) asked to pause")
	}) {
		t.Errorf("no event says who paused the rollout: %+v", events.Events)
	}
}

// metric reads one sample from the daemon's /metrics; -1 when absent.
func metric(t testing.TB, d *servertest.Daemon, name string, labels map[string]string) float64 {
	t.Helper()
	a := call(t, d, "GET", "/metrics", "", nil)
	parser := expfmt.NewTextParser(model.UTF8Validation)
	families, err := parser.TextToMetricFamilies(bytes.NewReader(a.body))
	if err != nil {
		t.Fatalf("/metrics: %v", err)
	}
next:
	for _, m := range families[name].GetMetric() {
		for k, v := range labels {
			if !slices.ContainsFunc(m.GetLabel(), func(l *dto.LabelPair) bool { return l.GetName() == k && l.GetValue() == v }) {
				continue next
			}
		}
		if m.Counter != nil {
			return m.Counter.GetValue()
		}
		return m.Gauge.GetValue()
	}
	return -1
}

func labStatus(l *lab.Lab) map[string]lab.HostStatus {
	out := map[string]lab.HostStatus{}
	for _, s := range l.Status(context.Background()) {
		out[s.Name] = s
	}
	return out
}

func readPlan(t testing.TB, name string) api.StartRollout {
	t.Helper()
	path := filepath.Join("..", "rollout", "testdata", name)
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return api.StartRollout{PlanFile: name, Plan: string(data)}
}

func TestRolloutOnALab(t *testing.T) {
	l := labtest.Start(t, lab.Options{Hosts: 4, RebootMin: time.Second, RebootMax: 2 * time.Second})
	before := labStatus(l)
	d := start(t, sqlite, servertest.Options{Inventory: l.Info().Files.Inventory})
	reader := createToken(t, d, d.AdminToken, "grafana", "reader").Secret

	a := call(t, d, "POST", "/api/v1/rollouts", d.AdminToken, readPlan(t, "patch.yaml"))
	if a.status != http.StatusCreated {
		t.Fatalf("start: %d %s", a.status, a.body)
	}
	var ro api.Rollout
	a.decode(t, &ro)
	if ro.Plan != "Urgent openssl patch" || len(ro.Hosts) != 4 || !ro.Hosts[0].Canary {
		t.Fatalf("started: %+v", ro)
	}
	type result struct {
		events []sseEvent
		ended  bool
	}
	streamed := make(chan result, 1)
	go func() {
		ev, ended := readStream(t, d, reader, ro.ID, "", 2*time.Minute)
		streamed <- result{ev, ended}
	}()

	// While the canary runs, nothing else does, and the others say why.
	mid := waitRollout(t, d, reader, ro.ID, 30*time.Second, func(ro api.Rollout) bool {
		return ro.Hosts[0].State == "running" && ro.Hosts[0].Step >= 2
	})
	if mid.Counts["running"] != 1 || !strings.Contains(mid.Waiting[mid.Hosts[1].Host], "canaries go first") || mid.Hosts[0].Steps != 5 || !mid.Finishes || mid.ETASeconds <= 0 {
		t.Errorf("while the canary runs: %+v", mid)
	}
	if a := call(t, d, "POST", "/api/v1/rollouts", d.AdminToken, readPlan(t, "patch.yaml")); a.status != http.StatusConflict {
		t.Errorf("a second rollout on the same hosts: %d %s", a.status, a.body)
	}

	r := <-streamed
	if !r.ended {
		t.Fatalf("the stream did not end within 2 minutes; events %+v", r.events)
	}
	count := map[string]int{}
	for _, e := range r.events {
		count[e.event]++
	}
	if count["rollout.created"] != 1 || count["host.started"] != 4 || count["host.done"] != 4 || count["host.step"] < 20 {
		t.Errorf("event counts %v", count)
	}
	if last := r.events[len(r.events)-1]; last.event != "rollout.state" || !strings.Contains(last.data, `"state":"done"`) {
		t.Errorf("last event %+v", last)
	}

	ro = waitRollout(t, d, reader, ro.ID, time.Second, func(ro api.Rollout) bool { return ro.Ended != nil })
	if ro.State != "done" || ro.Counts["done"] != 4 || ro.ETASeconds != 0 {
		t.Errorf("ended: %+v", ro)
	}
	after := labStatus(l)
	for _, h := range ro.Hosts {
		b, a := before[h.Host], after[h.Host]
		if h.Step != 5 || h.Steps != 5 || h.Started == nil || h.Ended == nil || h.Error != "" {
			t.Errorf("host run %+v", h)
		}
		if a.BootID == b.BootID || a.Running["openssl"] != "3.0.13" || a.Balancer != "UP" {
			t.Errorf("%s: boot %s → %s, running %v, balancer %s", h.Host, b.BootID, a.BootID, a.Running, a.Balancer)
		}
	}
	for _, tc := range []struct {
		name   string
		labels map[string]string
		want   float64
	}{
		{"illico_rollout_host_runs_total", map[string]string{"event": "started"}, 4},
		{"illico_rollout_host_runs_total", map[string]string{"event": "done"}, 4},
		{"illico_rollout_host_runs_total", map[string]string{"event": "failed"}, 0},
		{"illico_rollouts_ended_total", map[string]string{"state": "done"}, 1},
		{"illico_rollouts", map[string]string{"state": "running"}, 0},
	} {
		if got := metric(t, d, tc.name, tc.labels); got != tc.want {
			t.Errorf("%s%v = %v, want %v", tc.name, tc.labels, got, tc.want)
		}
	}
}

func TestDaemonKilledAtRandomResumesTheRollout(t *testing.T) {
	if testing.Short() {
		t.Skip("slow: builds illico and rolls a patch over a lab while killing the daemon")
	}
	bin := buildIllico(t)
	boots := &bootLog{boots: map[string]int{}}
	l := labtest.Start(t, lab.Options{Hosts: 4, RebootMin: time.Second, RebootMax: 2 * time.Second, Logger: slog.New(boots)})
	before, bootsBefore := labStatus(l), boots.counts()
	cfg, err := server.LoadConfig(l.Info().Files.Config)
	if err != nil {
		t.Fatal(err)
	}
	d := &daemonProcess{t: t, bin: bin, config: l.Info().Files.Config, url: "http://" + cfg.Listen, logFile: filepath.Join(t.TempDir(), "serve.log")}
	t.Cleanup(d.stop)
	d.start()
	token, err := os.ReadFile(cfg.AdminTokenFile)
	if err != nil {
		t.Fatal(err)
	}
	c, err := client.New(d.url, strings.TrimSpace(string(token)), &http.Client{Timeout: 10 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	req := readPlan(t, "patch.yaml")
	p, err := plan.Parse(req.PlanFile, []byte(req.Plan))
	if err != nil {
		t.Fatal(err)
	}
	ro, err := c.StartRollout(t.Context(), req)
	if err != nil {
		t.Fatal(err)
	}

	seed := uint64(time.Now().UnixNano())
	rng := rand.New(rand.NewPCG(seed, seed))
	t.Logf("kill moments drawn with seed %d", seed)
	const minKills, maxKills = 10, 30
	landed := map[string]int{}
	kills := 0
	for ended := false; !ended && kills < maxKills; {
		time.Sleep(time.Duration(50+rng.IntN(1450)) * time.Millisecond)
		d.kill()
		kills++
		var steps []string
		steps, ended = whereKilled(t, cfg.DSN(), ro.ID, p)
		t.Logf("kill %d: %s", kills, strings.Join(steps, ", "))
		for _, s := range steps {
			landed[s]++
		}
		d.start()
	}
	if during := kills - landed["after the end"]; during < minKills {
		t.Fatalf("the rollout ended after %d kills of the daemon; the test wants at least %d", during, minKills)
	}
	deadline := time.Now().Add(3 * time.Minute)
	for {
		if ro, err = c.Rollout(t.Context(), ro.ID); err == nil && ro.Ended != nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the rollout did not end within 3 minutes of the last kill: %+v, %v\n%s", ro, err, d.logTail())
		}
		time.Sleep(200 * time.Millisecond)
	}
	var summary []string
	for _, s := range slices.Sorted(maps.Keys(landed)) {
		summary = append(summary, fmt.Sprintf("%s: %d", s, landed[s]))
	}
	t.Logf("%d kills landed in: %s", kills, strings.Join(summary, "; "))

	if ro.State != "done" {
		t.Errorf("the rollout is %s: %s", ro.State, ro.Reason)
	}
	checkPatchedOnce(t, l, ro, before, bootsBefore, boots)
	if t.Failed() {
		t.Logf("daemon log:\n%s", d.logTail())
	}
}
