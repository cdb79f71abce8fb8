package cli

import (
	"bytes"
	"encoding/json"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/illico-dev/illico/internal/api"
	"github.com/illico-dev/illico/internal/fleet"
	"github.com/illico-dev/illico/internal/lab"
	"github.com/illico-dev/illico/internal/lab/labtest"
	"github.com/illico-dev/illico/internal/server/servertest"
)

// rolloutCLI runs `illico rollout ARGS` with the environment in vars and
// returns its exit code, stdout and stderr.
func rolloutCLI(t testing.TB, vars map[string]string, args ...string) (int, string, string) {
	t.Helper()
	var stdout, stderr bytes.Buffer
	e := &env{getenv: func(k string) string { return vars[k] }, stdin: strings.NewReader(""), stdout: &stdout, stderr: &stderr}
	code := ExitCode(runRollout(t.Context(), e, args), &stderr)
	return code, stdout.String(), stderr.String()
}

// writePlan writes a plan file for a test and returns its path.
func writePlan(t testing.TB, name, content string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// laterPlan is a plan whose window opens in three days: its rollouts run
// and wait, touching no host, for as long as a test needs.
func laterPlan() string {
	day := strings.ToLower(time.Now().UTC().AddDate(0, 0, 3).Weekday().String()[:3])
	return "name: Later\nsteps:\n  - run: \"true\"\nstrategy:\n  canary: 1\nwindow:\n  days: [" + day + "]\n  hours: 09:00-10:00\n"
}

func TestRolloutCommands(t *testing.T) {
	d := servertest.Start(t, servertest.Options{Inventory: "../server/testdata/inventory.yaml"})
	admin := map[string]string{"ILLICO_SERVER": d.URL, "ILLICO_TOKEN": d.AdminToken}
	later := writePlan(t, "later.yaml", laterPlan())

	code, out, errOut := rolloutCLI(t, admin, "start", "--plan", later, "--dry-run")
	if code != 0 || !strings.Contains(out, `Plan "Later": 1 steps`) || !strings.Contains(out, "Schedule on 4 hosts") ||
		!strings.Contains(out, "web-gra-01 (canary)") || !strings.Contains(out, "Budgets") {
		t.Errorf("start --dry-run: exit %d\n%s%s", code, out, errOut)
	}
	code, out, _ = rolloutCLI(t, admin, "start", "--plan", later, "--dry-run", "--json", "--limit", "web-01")
	var pv api.Preview
	if err := json.Unmarshal([]byte(out), &pv); code != 0 || err != nil || len(pv.Hosts) != 2 {
		t.Errorf("start --dry-run --json: exit %d, %v\n%s", code, err, out)
	}

	code, out, errOut = rolloutCLI(t, admin, "start", "--plan", later)
	id := strings.TrimSpace(out)
	if code != 0 || strings.Contains(id, "\n") || !strings.Contains(errOut, "started on 4 hosts; follow it with: illico rollout watch "+id) {
		t.Fatalf("start: exit %d\n%s%s", code, out, errOut)
	}

	// The engine looks at a new rollout at once, but not before it answers.
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		if _, out, _ := rolloutCLI(t, admin, "status", id); strings.Contains(out, "Waiting:") {
			break
		}
	}
	type result struct {
		code     int
		out, err string
	}
	watched := make(chan result, 1)
	go func() {
		code, out, errOut := rolloutCLI(t, admin, "watch", id)
		watched <- result{code, out, errOut}
	}()

	for _, tc := range []struct {
		name string
		args []string
		code int
		says []string
	}{
		{"status", []string{"status", id}, 0, []string{"Rollout " + id + ` of "Later" (` + later + ")", "State:    running", "0 of 4 done, 4 pending", "HOST", "web-gra-01 (canary)", "0/1", "Waiting:", "outside the maintenance window"}},
		{"list", []string{"list"}, 0, []string{"ID", id + "  Later  running  0 of 4 done, 4 pending"}},
		{"overlap", []string{"start", "--plan", later}, 1, []string{"still running on web-gra-01"}},
		{"pause", []string{"pause", id}, 0, []string{"rollout " + id + " is paused: the operator of token "}},
		{"pause again", []string{"pause", id}, 1, []string{"is paused; it cannot pause"}},
		{"resume", []string{"resume", id}, 0, []string{"asked to resume"}},
		{"abort", []string{"abort", id}, 0, []string{"rollout " + id + " is abort"}}, // aborting or aborted
		{"abort again", []string{"abort", id}, 1, []string{"it cannot abort"}},
		{"unknown rollout", []string{"status", "nope"}, 1, []string{"no rollout nope"}},
		{"no plan", []string{"start"}, 2, []string{"needs --plan FILE"}},
		{"missing plan file", []string{"start", "--plan", "nope.yaml"}, 2, []string{"read plan: open nope.yaml"}},
		{"dry run and wait", []string{"start", "--plan", later, "--dry-run", "--wait"}, 2, []string{"--dry-run starts nothing to --wait for"}},
		{"status without an id", []string{"status"}, 2, []string{"usage: illico rollout status ID"}},
		{"unknown command", []string{"restart", id}, 2, []string{`unknown rollout command "restart"`}},
		{"no command", nil, 2, []string{"usage: illico rollout start"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code, out, errOut := rolloutCLI(t, admin, tc.args...)
			if code != tc.code {
				t.Errorf("exit %d, want %d\n%s%s", code, tc.code, out, errOut)
			}
			for _, s := range tc.says {
				if !strings.Contains(out+errOut, s) {
					t.Errorf("output does not say %q:\n%s%s", s, out, errOut)
				}
			}
		})
	}

	select {
	case w := <-watched:
		// Not a terminal: lines, and exit 1 as the rollout was aborted.
		if w.code != 1 || strings.Contains(w.out, "\x1b[") || !strings.Contains(w.out, "progress: 0 of 4 done, 4 pending") ||
			!strings.Contains(w.out, "asked to pause") || !strings.Contains(w.out, "rollout "+id+" is aborted") {
			t.Errorf("watch: exit %d\n%s%s", w.code, w.out, w.err)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("watch did not end with the rollout")
	}

	code, out, _ = rolloutCLI(t, admin, "status", id, "--json")
	var ro api.Rollout
	if err := json.Unmarshal([]byte(out), &ro); code != 0 || err != nil || ro.State != "aborted" || len(ro.Hosts) != 4 {
		t.Errorf("status --json: exit %d, %v\n%s", code, err, out)
	}
	code, out, _ = rolloutCLI(t, admin, "list", "--json")
	var list api.Rollouts
	if err := json.Unmarshal([]byte(out), &list); code != 0 || err != nil || len(list.Rollouts) != 1 {
		t.Errorf("list --json: exit %d, %v\n%s", code, err, out)
	}

	broken := writePlan(t, "broken.yaml", "name: Broken\nsteps:\n  - dran\n")
	code, _, errOut = rolloutCLI(t, admin, "start", "--plan", broken)
	if code != 2 || !strings.Contains(errOut, broken+`:3:5: unknown step "dran" (did you mean "drain"?)`) {
		t.Errorf("start a broken plan: exit %d\n%s", code, errOut)
	}
	_, secret, err := d.Store.CreateToken(t.Context(), "grafana", fleet.RoleReader)
	if err != nil {
		t.Fatal(err)
	}
	reader := map[string]string{"ILLICO_SERVER": d.URL, "ILLICO_TOKEN": secret.Reveal()}
	if code, _, errOut := rolloutCLI(t, reader, "start", "--plan", later); code != 4 || !strings.Contains(errOut, "has role reader; this needs operator") {
		t.Errorf("a reader starts a rollout: exit %d\n%s", code, errOut)
	}
}

func TestRolloutCommandsReachingNoDaemon(t *testing.T) {
	later := writePlan(t, "later.yaml", laterPlan())
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	gone := "http://" + ln.Addr().String()
	ln.Close()
	d := servertest.Start(t, servertest.Options{Inventory: "../server/testdata/inventory.yaml"})
	for _, tc := range []struct {
		name string
		vars map[string]string
		args []string
		code int
		says string
	}{
		{"unreachable", map[string]string{"ILLICO_SERVER": gone, "ILLICO_TOKEN": "illico_x"}, []string{"start", "--plan", later, "--wait"}, 3, "cannot reach the illico daemon at " + gone},
		{"no token", map[string]string{"ILLICO_SERVER": d.URL}, []string{"list"}, 4, "no token: set ILLICO_TOKEN"},
		{"wrong token", map[string]string{"ILLICO_SERVER": d.URL, "ILLICO_TOKEN": "illico_aaaaaaaaaaaaaaaaaaaa"}, []string{"watch", "x"}, 4, "check ILLICO_TOKEN"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code, out, errOut := rolloutCLI(t, tc.vars, tc.args...)
			if code != tc.code || !strings.Contains(errOut, tc.says) {
				t.Errorf("exit %d, want %d saying %q\n%s%s", code, tc.code, tc.says, out, errOut)
			}
		})
	}
}

func TestWatchDrawsInPlaceOnATerminal(t *testing.T) {
	var out bytes.Buffer
	started := time.Date(2026, 11, 21, 12, 0, 0, 0, time.UTC)
	w := &watcher{out: &out, live: true, ro: api.Rollout{
		ID: "r1", Plan: "Patch", State: "running", Reason: "started",
		Counts: map[string]int{"done": 1, "running": 1, "pending": 2},
		Hosts: []api.RolloutHost{
			{Host: "a", State: "done", Wave: 1, Canary: true},
			{Host: "b", State: "running", Wave: 2},
			{Host: "c", State: "pending", Wave: 2},
			{Host: "d", State: "pending", Wave: 3},
		},
		Finishes: true, ETASeconds: 95, PerHostSeconds: 30,
		Waiting: map[string]string{"c": "partner b is in maintenance", "d": "group web-02 allows 1 down and b is in maintenance"},
	}}
	for i := range 12 {
		w.event(api.Event{ID: int64(i), Time: started.Add(time.Duration(i) * time.Second), Message: "event " + string(rune('A'+i))})
	}
	w.draw()
	view := out.String()
	for _, s := range []string{
		"\x1b[H\x1b[2J", `Rollout r1 of "Patch": running (started)`,
		"[##########------------------------------] 1/4 hosts done",
		"Hosts: 1 of 4 done, 1 running, 2 pending", "Wave:  2", "ETA:   1m35s (about",
		"  c: partner b is in maintenance", "Last events:", "event C", "event L",
	} {
		if !strings.Contains(view, s) {
			t.Errorf("the view does not show %q:\n%s", s, view)
		}
	}
	if strings.Contains(view, "event B") {
		t.Errorf("the view shows more than the last %d events:\n%s", watchEvents, view)
	}
	w.ro.Finishes = false
	out.Reset()
	w.draw()
	if !strings.Contains(out.String(), "ETA:   cannot finish as the fleet stands: c waits: partner b is in maintenance") {
		t.Errorf("a rollout that cannot finish:\n%s", out.String())
	}
}

func TestRolloutStartWaitOnALab(t *testing.T) {
	l := labtest.Start(t, lab.Options{Hosts: 4, RebootMin: time.Second, RebootMax: 2 * time.Second})
	d := servertest.Start(t, servertest.Options{Inventory: l.Info().Files.Inventory})
	admin := map[string]string{"ILLICO_SERVER": d.URL, "ILLICO_TOKEN": d.AdminToken}
	for _, tc := range []struct {
		plan string
		code int
		says []string
	}{
		{"bad.yaml", 1, []string{"web-gra-01 failed at step 4 (wait_healthy)", "web-gra-01 is rolled_back", "is halting: canary web-gra-01 failed", "is halted: no host is in maintenance any more (1 of 4 hosts failed)"}},
		{"patch.yaml", 0, []string{"web-gra-01 starts (wave 1)", "web-sbg-02: step 3/5 reboot if required done", "is done: every host is done (0 failed"}},
	} {
		t.Run(tc.plan, func(t *testing.T) {
			began := time.Now()
			code, out, errOut := rolloutCLI(t, admin, "start", "--plan", filepath.Join("..", "rollout", "testdata", tc.plan), "--wait")
			t.Logf("%s ended in %s", tc.plan, time.Since(began).Round(time.Millisecond))
			if code != tc.code {
				t.Errorf("exit %d, want %d\n%s%s", code, tc.code, out, errOut)
			}
			for _, s := range tc.says {
				if !strings.Contains(out, s) {
					t.Errorf("output does not say %q:\n%s%s", s, out, errOut)
				}
			}
		})
	}
}

func TestETASaysWhenItIsAGuess(t *testing.T) {
	ro := api.Rollout{Finishes: true, ETASeconds: 552, PerHostSeconds: 138, PerHostGuessed: true}
	if got := eta(ro); !strings.Contains(got, "9m12s") || !strings.Contains(got, "2m18s a host, guessed from the plan's steps") {
		t.Errorf("before any host is done: %q", got)
	}
	ro.PerHostGuessed, ro.ETASeconds, ro.PerHostSeconds = false, 30, 7.5
	if got := eta(ro); !strings.Contains(got, "30s") || strings.Contains(got, "guessed") {
		t.Errorf("once hosts are done: %q", got)
	}
}
