package server_test

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/illico-dev/illico/internal/api"
	"github.com/illico-dev/illico/internal/lab"
	"github.com/illico-dev/illico/internal/lab/labtest"
	"github.com/illico-dev/illico/internal/server"
	"github.com/illico-dev/illico/internal/server/servertest"
	"github.com/illico-dev/illico/internal/store"
)

// restartable is a daemon that probes every second and sends its alerts
// to a webhook, which a test stops and starts again on the same store.
type restartable struct {
	tb                   testing.TB
	dsn, inventory, conf string
	token                string
	logs                 *servertest.Buffer
}

func newRestartable(t testing.TB, inventory, url string) *restartable {
	t.Helper()
	conf := filepath.Join(t.TempDir(), "alerts.yaml")
	cfg := fmt.Sprintf(`route:
  receiver: hook
  group_wait: 1s
  group_interval: 2s
  repeat_interval: 1h
receivers:
  hook:
    webhook: {url: %q}
    attempts: 2
    backoff: 100ms
maintenance_grace: 5s
`, url)
	if err := os.WriteFile(conf, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	return &restartable{tb: t, dsn: sqlite(t), inventory: inventory, conf: conf, logs: &servertest.Buffer{}}
}

// start starts the daemon; stop stops it as a signal would and closes its
// store.
func (r *restartable) start() (d *servertest.Daemon, stop func()) {
	t := r.tb
	t.Helper()
	st, err := store.Open(context.Background(), r.dsn)
	if err != nil {
		t.Fatal(err)
	}
	stderr := &servertest.Buffer{}
	srv, err := server.New(server.Options{
		Logger: slog.New(slog.NewTextHandler(r.logs, nil)), Store: st, Inventory: r.inventory,
		Listen: "127.0.0.1:0", AdminTokenOut: stderr, Alerts: r.conf, ProbeInterval: time.Second,
	})
	if err != nil {
		st.Close()
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- srv.Run(ctx) }()
	stopped := false
	stop = func() {
		if stopped {
			return
		}
		stopped = true
		cancel()
		if err := <-done; err != nil {
			t.Errorf("daemon: %v", err)
		}
		st.Close()
	}
	t.Cleanup(func() {
		stop()
		if t.Failed() {
			t.Logf("daemon log:\n%s", r.logs)
		}
	})
	d = &servertest.Daemon{URL: "http://" + srv.Addr()}
	client := &http.Client{Timeout: time.Second}
	for range 500 {
		if r.token == "" {
			r.token = tokenIn(stderr.String())
		}
		if resp, err := client.Get(d.URL + "/healthz"); err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK && r.token != "" {
				d.AdminToken = r.token
				return d, stop
			}
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Fatalf("the daemon did not start; log:\n%s", r.logs)
	return nil, nil
}

// firingOf counts the notifications in msgs that tell host is down.
func firingOf(msgs []api.AlertmanagerMessage, host string) int {
	n := 0
	for _, m := range msgs {
		if slices.ContainsFunc(m.Alerts, func(a api.AlertmanagerAlert) bool { return a.Status == "firing" && a.Labels["host"] == host }) {
			n++
		}
	}
	return n
}

func resolvedOf(msgs []api.AlertmanagerMessage, host string) int {
	n := 0
	for _, m := range msgs {
		if slices.ContainsFunc(m.Alerts, func(a api.AlertmanagerAlert) bool { return a.Status == "resolved" && a.Labels["host"] == host }) {
			n++
		}
	}
	return n
}

// A restart of the daemon forgets neither a silence, nor that an alert
// was told: the alert still firing is not told again before its repeat
// interval, and it gets its resolved notice when its host is back. The
// probes' history, which the status page's bars are drawn from, is in the
// store.
func TestAlertsSurviveARestart(t *testing.T) {
	l := labtest.Start(t, lab.Options{Hosts: 2, RebootMin: time.Second, RebootMax: 2 * time.Second})
	h := &hook{}
	receiver := httptest.NewServer(h)
	t.Cleanup(receiver.Close)
	r := newRestartable(t, l.Info().Files.Inventory, receiver.URL)

	d, stop := r.start()
	all := await(t, d, "/api/v1/probes", 20*time.Second, "every probe up", func(ps api.Probes) bool {
		return len(ps.Probes) > 0 && !slices.ContainsFunc(ps.Probes, func(p api.Probe) bool { return p.State != "up" })
	})
	var hosts []string
	for _, p := range all.Probes {
		if !slices.Contains(hosts, p.Host) {
			hosts = append(hosts, p.Host)
		}
	}
	slices.Sort(hosts)
	frozen, other := hosts[0], hosts[1]
	if _, err := l.Fault(frozen, lab.FaultFreeze); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(20 * time.Second)
	for firingOf(h.since(0), frozen) == 0 && time.Now().Before(deadline) {
		time.Sleep(100 * time.Millisecond)
	}
	if firingOf(h.since(0), frozen) == 0 {
		t.Fatalf("the receiver was not told %s is down: %+v", frozen, h.since(0))
	}
	a := call(t, d, "POST", "/api/v1/silences", d.AdminToken, api.NewSilence{
		Matchers: []string{`host="` + other + `"`}, Ends: time.Now().Add(time.Hour), Comment: "disk swap"})
	if a.status != http.StatusCreated {
		t.Fatalf("add silence: %d %s", a.status, a.body)
	}
	var silence api.Silence
	a.decode(t, &silence)
	stop()
	before := h.count()

	st, err := store.Open(t.Context(), r.dsn)
	if err != nil {
		t.Fatal(err)
	}
	days, err := st.ProbeBuckets(t.Context(), 24*time.Hour, time.Now().Add(-48*time.Hour))
	st.Close()
	if err != nil {
		t.Fatal(err)
	}
	if !slices.ContainsFunc(days, func(b store.ProbeBucket) bool { return b.Total > 0 && b.OK < b.Total }) {
		t.Errorf("the store keeps no day with %s's failed runs: %+v", frozen, days)
	}

	d, stop = r.start()
	var list api.Silences
	if a := call(t, d, "GET", "/api/v1/silences", d.AdminToken, nil); a.status != http.StatusOK {
		t.Fatalf("list silences: %d %s", a.status, a.body)
	} else {
		a.decode(t, &list)
	}
	if !slices.ContainsFunc(list.Silences, func(s api.Silence) bool {
		return s.ID == silence.ID && s.Comment == "disk swap" && s.State == "active"
	}) {
		t.Errorf("after the restart, silence %s is not listed: %+v", silence.ID, list.Silences)
	}
	as := await(t, d, "/api/v1/alerts", 10*time.Second, frozen+" firing after the restart", func(as api.Alerts) bool {
		return firingFor(as, frozen) != nil
	})
	if a := firingFor(as, frozen); !a.Notified {
		t.Errorf("after the restart, the alert for %s does not say it was told: %+v", frozen, a)
	}
	await(t, d, "/api/v1/probes", 20*time.Second, frozen+"'s probes down again", func(ps api.Probes) bool {
		return slices.ContainsFunc(ps.Probes, func(p api.Probe) bool { return p.Host == frozen && p.State == "down" })
	})
	// Past a group_wait and two group_intervals.
	time.Sleep(6 * time.Second)
	if n := firingOf(h.since(before), frozen); n > 0 {
		t.Errorf("the restarted daemon told %d more time(s) that %s is down", n, frozen)
	}
	if _, err := l.Heal(frozen); err != nil {
		t.Fatal(err)
	}
	deadline = time.Now().Add(30 * time.Second)
	for resolvedOf(h.since(before), frozen) == 0 && time.Now().Before(deadline) {
		time.Sleep(100 * time.Millisecond)
	}
	if resolvedOf(h.since(before), frozen) == 0 {
		t.Fatalf("no resolved notice for %s after the restart: %+v", frozen, h.since(before))
	}

	// Told down again, then back while the daemon is stopped: the next
	// one sends the resolved notice.
	before = h.count()
	if _, err := l.Fault(frozen, lab.FaultFreeze); err != nil {
		t.Fatal(err)
	}
	deadline = time.Now().Add(20 * time.Second)
	for firingOf(h.since(before), frozen) == 0 && time.Now().Before(deadline) {
		time.Sleep(100 * time.Millisecond)
	}
	if firingOf(h.since(before), frozen) == 0 {
		t.Fatalf("the receiver was not told %s is down again: %+v", frozen, h.since(before))
	}
	stop()
	if _, err := l.Heal(frozen); err != nil {
		t.Fatal(err)
	}
	before = h.count()
	r.start()
	deadline = time.Now().Add(30 * time.Second)
	for resolvedOf(h.since(before), frozen) == 0 && time.Now().Before(deadline) {
		time.Sleep(100 * time.Millisecond)
	}
	if resolvedOf(h.since(before), frozen) == 0 {
		t.Errorf("%s came back while the daemon was stopped, and no resolved notice followed: %+v", frozen, h.since(before))
	}
	if n := firingOf(h.since(before), frozen); n > 0 {
		t.Errorf("the restarted daemon told %d time(s) that %s, back, is down", n, frozen)
	}
	// Its probe said so; the alert did not just time out.
	if strings.Contains(r.logs.String(), "no probe runs for an alert") {
		t.Errorf("a restored alert was resolved for want of its probe, which runs")
	}
}

// TestSilenceAPI adds, lists and expires silences, and refuses bad ones.
func TestSilenceAPI(t *testing.T) {
	d := servertest.Start(t, servertest.Options{})
	add := func(s api.NewSilence) answer {
		t.Helper()
		return call(t, d, "POST", "/api/v1/silences", d.AdminToken, s)
	}
	a := add(api.NewSilence{Matchers: []string{`host=web1`, `probe=~"ss.*"`}, Ends: time.Now().Add(time.Hour), Comment: "disk swap"})
	if a.status != http.StatusCreated {
		t.Fatalf("add: %d %s", a.status, a.body)
	}
	var s api.Silence
	a.decode(t, &s)
	if s.ID == "" || s.State != "active" || !slices.Equal(s.Matchers, []string{`host="web1"`, `probe=~"ss.*"`}) {
		t.Errorf("added %+v", s)
	}
	tests := []struct {
		name string
		in   api.NewSilence
	}{
		{"no matcher", api.NewSilence{Ends: time.Now().Add(time.Hour), Comment: "x"}},
		{"bad matcher", api.NewSilence{Matchers: []string{`host=~"("`}, Ends: time.Now().Add(time.Hour), Comment: "x"}},
		{"ended", api.NewSilence{Matchers: []string{"host=web1"}, Ends: time.Now().Add(-time.Hour), Comment: "x"}},
		{"no comment", api.NewSilence{Matchers: []string{"host=web1"}, Ends: time.Now().Add(time.Hour)}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if a := add(tc.in); a.status != http.StatusBadRequest {
				t.Errorf("got %d %s, want 400", a.status, a.body)
			}
		})
	}
	if a := call(t, d, "DELETE", "/api/v1/silences/"+s.ID, d.AdminToken, nil); a.status != http.StatusOK {
		t.Fatalf("expire: %d %s", a.status, a.body)
	} else {
		a.decode(t, &s)
	}
	if s.State != "expired" {
		t.Errorf("expired silence: %+v", s)
	}
	if a := call(t, d, "DELETE", "/api/v1/silences/999", d.AdminToken, nil); a.status != http.StatusNotFound {
		t.Errorf("expire an unknown silence: %d %s", a.status, a.body)
	}
	var list api.Silences
	call(t, d, "GET", "/api/v1/silences", d.AdminToken, nil).decode(t, &list)
	if len(list.Silences) != 1 || list.Silences[0].ID != s.ID || list.Silences[0].State != "expired" {
		t.Errorf("listed %+v", list.Silences)
	}
}
