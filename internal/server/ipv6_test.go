package server_test

import (
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/illico-dev/illico/internal/api"
	"github.com/illico-dev/illico/internal/openssh/opensshtest"
	"github.com/illico-dev/illico/internal/server/servertest"
)

// TestIPv6Host runs the daemon on a host at ::1, written [::1]:PORT in the
// inventory as OpenSSH writes it: a real sshd there, an http and a tcp
// check whose ${address} must come out bracketed, and the ssh probe all come
// up; a rollout runs a command on the host over SSH and waits for its
// probes, and ends done.
func TestIPv6Host(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end: starts sshd on ::1 and the daemon; runs without -short")
	}
	f := opensshtest.New(t)
	s := f.StartIPv6(t, nil)

	ln, err := net.Listen("tcp", "[::1]:0")
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	var hostHeaders []string
	site := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		hostHeaders = append(hostHeaders, r.Host)
		mu.Unlock()
		fmt.Fprintln(w, "ok")
	}))
	site.Listener.Close()
	site.Listener = ln
	site.Start()
	t.Cleanup(site.Close)
	sitePort := ln.Addr().(*net.TCPAddr).Port

	dir := t.TempDir()
	ran := filepath.Join(dir, "ran")
	inv := filepath.Join(dir, "inventory.yaml")
	yaml := fmt.Sprintf(`datacenters: {lab: {}}
defaults:
  ssh: {known_hosts: %q, identity_files: [%q]}
groups:
  v6:
    max_unavailable: 1
    checks:
      - {name: site, kind: http, target: "http://${address}:%d/healthz", interval: 1s}
      - {name: sshd, kind: tcp, target: "${address}:%d", interval: 1s}
hosts:
  v6-01:
    address: "[::1]:%d"
    user: %s
    datacenter: lab
    groups: [v6]
`, f.KnownHosts, f.IdentityFile, sitePort, s.Port, s.Port, f.User)
	if err := os.WriteFile(inv, []byte(yaml), 0o600); err != nil {
		t.Fatal(err)
	}

	d := start(t, sqlite, servertest.Options{Inventory: inv, ProbeInterval: time.Second})
	want := map[string]string{
		"site@v6-01": fmt.Sprintf("http://[::1]:%d/healthz", sitePort),
		"sshd@v6-01": fmt.Sprintf("[::1]:%d", s.Port),
		"ssh@v6-01":  "",
	}
	await(t, d, "/api/v1/probes", 30*time.Second, "every probe of v6-01 up", func(ps api.Probes) bool {
		up := 0
		for _, p := range ps.Probes {
			if target, ok := want[p.ID]; ok && p.Target == target && p.State == "up" {
				up++
			}
		}
		return up == len(want) && len(ps.Probes) == len(want)
	})
	mu.Lock()
	first := hostHeaders[0]
	mu.Unlock()
	if w := fmt.Sprintf("[::1]:%d", sitePort); first != w {
		t.Errorf("the http probe asked for Host %q, want %q", first, w)
	}

	plan := fmt.Sprintf(`name: Harmless command on IPv6
steps:
  - run: "echo $SSH_CONNECTION > %s"
  - wait_healthy:
    min_healthy: 2s
    timeout: 30s
rollback:
  - run: "true"
`, ran)
	a := call(t, d, "POST", "/api/v1/rollouts", d.AdminToken, api.StartRollout{PlanFile: "v6.yaml", Plan: plan})
	if a.status != http.StatusCreated {
		t.Fatalf("start: %d %s", a.status, a.body)
	}
	var ro api.Rollout
	a.decode(t, &ro)
	ro = waitRollout(t, d, d.AdminToken, ro.ID, time.Minute, func(ro api.Rollout) bool { return ro.Ended != nil })
	if ro.State != "done" || len(ro.Hosts) != 1 || ro.Hosts[0].State != "done" || ro.Hosts[0].Error != "" {
		t.Fatalf("rollout ended %+v", ro)
	}
	// sshd says where the command's connection came from and went to.
	out, err := os.ReadFile(ran)
	if err != nil {
		t.Fatalf("the plan's command did not run: %v", err)
	}
	if w := fmt.Sprintf(" ::1 %d\n", s.Port); len(out) < len(w) || string(out[len(out)-len(w):]) != w {
		t.Errorf("SSH_CONNECTION of the plan's command is %q, want ::1 PORT ::1 %d", out, s.Port)
	}
}
