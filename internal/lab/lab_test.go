package lab

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"golang.org/x/crypto/ssh"
	"golang.org/x/crypto/ssh/knownhosts"
	"gopkg.in/yaml.v3"

	"github.com/illico-dev/illico/internal/fleet"
	"github.com/illico-dev/illico/internal/inventory"
)

// illicoBin is the illico binary that TestMain builds for the tests of the
// command-line path, or why it could not.
var illicoBin, errIllicoBin = "", errors.New("not built in -short mode")

func TestMain(m *testing.M) {
	flag.Parse()
	tmp, err := os.MkdirTemp("", "illico-lab-test-")
	if err == nil && !testing.Short() {
		illicoBin = filepath.Join(tmp, "illico")
		cmd := exec.Command("go", "build", "-o", illicoBin, "./cmd/illico")
		cmd.Dir = filepath.Join("..", "..")
		if out, err := cmd.CombinedOutput(); err != nil {
			errIllicoBin = fmt.Errorf("go build ./cmd/illico: %v: %s", err, out)
		} else {
			errIllicoBin = nil
		}
	}
	code := m.Run()
	os.RemoveAll(tmp)
	os.Exit(code)
}

// requireLab skips the test where sshd or HAProxy is missing, and fails it
// under CI, where a missing binary must not pass unnoticed.
func requireLab(t testing.TB) {
	t.Helper()
	if err := Available(); err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("lab test under CI: %v", err)
		}
		t.Skipf("lab test: %v", err)
	}
}

func testLogger(t testing.TB) *slog.Logger {
	if testing.Verbose() {
		return slog.New(slog.NewTextHandler(os.Stderr, nil))
	}
	return slog.New(slog.NewTextHandler(io.Discard, nil))
}

func upLab(t *testing.T, opts Options) *Lab {
	t.Helper()
	requireLab(t)
	if testing.Short() {
		t.Skip("end-to-end lab test; skipped in -short mode")
	}
	if opts.Dir == "" {
		opts.Dir = t.TempDir()
	}
	opts.Logger = testLogger(t)
	start := time.Now()
	l, err := Up(context.Background(), opts)
	if err != nil {
		t.Fatalf("Up: %v", err)
	}
	t.Logf("lab of %d hosts up in %s", len(l.Info().Hosts), time.Since(start).Round(time.Millisecond))
	t.Cleanup(func() { l.Close() })
	return l
}

// sshClient dials a lab host, checking its key against the lab's known_hosts.
func sshClient(t *testing.T, info Info, name string, timeout time.Duration) (*ssh.Client, error) {
	t.Helper()
	key, err := os.ReadFile(info.Files.Identity)
	if err != nil {
		t.Fatal(err)
	}
	signer, err := ssh.ParsePrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	hostKeys, err := knownhosts.New(info.Files.KnownHosts)
	if err != nil {
		t.Fatal(err)
	}
	addr := hostInfo(t, info, name).SSHAddress
	conn, err := net.DialTimeout("tcp", addr, timeout)
	if err != nil {
		return nil, err
	}
	// ssh.Dial's timeout covers the TCP connect only; a frozen host accepts
	// that and then never speaks.
	conn.SetDeadline(time.Now().Add(timeout))
	c, chans, reqs, err := ssh.NewClientConn(conn, addr, &ssh.ClientConfig{
		User:            info.User,
		Auth:            []ssh.AuthMethod{ssh.PublicKeys(signer)},
		HostKeyCallback: hostKeys,
	})
	if err != nil {
		conn.Close()
		return nil, err
	}
	conn.SetDeadline(time.Time{})
	return ssh.NewClient(c, chans, reqs), nil
}

func hostInfo(t *testing.T, info Info, name string) HostInfo {
	t.Helper()
	for _, h := range info.Hosts {
		if h.Name == name {
			return h
		}
	}
	t.Fatalf("no host %s in the lab", name)
	return HostInfo{}
}

// run runs a command on a lab host and returns its output and exit code.
func run(t *testing.T, info Info, host, command string) (string, int) {
	t.Helper()
	c, err := sshClient(t, info, host, 5*time.Second)
	if err != nil {
		t.Fatalf("ssh %s: %v", host, err)
	}
	defer c.Close()
	s, err := c.NewSession()
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	out, err := s.CombinedOutput(command)
	var exit *ssh.ExitError
	switch {
	case errors.As(err, &exit):
		return string(out), exit.ExitStatus()
	case err != nil:
		t.Fatalf("ssh %s %q: %v", host, command, err)
	}
	return string(out), 0
}

func hostStatus(t *testing.T, l *Lab, name string) HostStatus {
	t.Helper()
	for _, s := range l.Status(context.Background()) {
		if s.Name == name {
			return s
		}
	}
	t.Fatalf("no host %s", name)
	return HostStatus{}
}

// eventually polls cond every 50ms until it holds, failing after limit.
func eventually(t *testing.T, limit time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(limit)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("after %s: %s", limit, what)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// fetch GETs url: "refused", "timeout", or the status code and body.
func fetch(t *testing.T, url string, timeout time.Duration) string {
	t.Helper()
	hc := &http.Client{Timeout: timeout, Transport: &http.Transport{DisableKeepAlives: true}}
	resp, err := hc.Get(url)
	var ne net.Error
	switch {
	case err != nil && errors.As(err, &ne) && ne.Timeout():
		return "timeout"
	case err != nil && errors.Is(err, syscall.ECONNREFUSED):
		return "refused"
	case err != nil:
		return "error: " + err.Error()
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return fmt.Sprintf("%d %s", resp.StatusCode, strings.TrimSpace(string(body)))
}

func siteURL(t *testing.T, info Info, host, path string) string {
	return "http://" + hostInfo(t, info, host).SiteAddress + path
}

// rebootAndWait reboots a host over SSH with lab-reboot, as a rollout does,
// and waits for it to come back.
func rebootAndWait(t *testing.T, l *Lab, host string) HostStatus {
	t.Helper()
	before := hostStatus(t, l, host).BootID
	if out, code := run(t, l.Info(), host, "lab-reboot"); code != 0 {
		t.Fatalf("lab-reboot on %s: exit %d: %s", host, code, out)
	}
	var s HostStatus
	eventually(t, 10*time.Second, host+" back with a new boot id", func() bool {
		s = hostStatus(t, l, host)
		return s.State == StateUp && s.BootID != before
	})
	return s
}

func balancerState(t *testing.T, l *Lab, group, host string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	states, err := serverStates(ctx, l.Info().HAProxy.Socket)
	if err != nil {
		t.Fatal(err)
	}
	return states[group][host]
}

func TestLabEndToEnd(t *testing.T) {
	l := upLab(t, Options{Hosts: 5, RebootMin: time.Second, RebootMax: 1500 * time.Millisecond, Sites: map[string]string{"gra": "rbx"}})
	info := l.Info()

	t.Run("lab.json", func(t *testing.T) {
		got, err := Load(info.Dir)
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(*got, info) {
			t.Errorf("lab.json = %+v\nwant %+v", *got, info)
		}
		if info.Pid != os.Getpid() || info.HAProxy.Pid == 0 || len(info.Frontends) != 3 || info.Options.Hosts != 5 {
			t.Errorf("info: %+v", info)
		}
		if h := hostInfo(t, info, "web-gra-03"); h.Group != "web-03" || h.Datacenter != "gra" || h.Site != "rbx" {
			t.Errorf("web-gra-03: %+v", h)
		}
	})

	t.Run("inventory.yaml", func(t *testing.T) {
		inv, err := inventory.Load(info.Files.Inventory)
		if err != nil {
			t.Fatal(err)
		}
		if len(inv.Hosts) != 5 || len(inv.Groups) != 3 || len(inv.Datacenters) != 2 {
			t.Fatalf("inventory has %d hosts, %d groups, %d datacenters", len(inv.Hosts), len(inv.Groups), len(inv.Datacenters))
		}
		for _, hi := range info.Hosts {
			h := inv.Host(hi.Name)
			if h == nil {
				t.Fatalf("no host %s in the inventory", hi.Name)
			}
			if h.SSHAddress() != hi.SSHAddress || h.Datacenter != hi.Datacenter || h.Site != hi.Site || !h.InGroup(hi.Group) || h.Labels["role"] != "web" {
				t.Errorf("host %s: %+v, lab says %+v", hi.Name, h, hi)
			}
			if h.Commands.Reboot != filepath.Join(info.Dir, "bin", "lab-reboot") || h.SSH.KnownHosts != info.Files.KnownHosts || h.SSH.User != info.User {
				t.Errorf("host %s: commands %+v, ssh %+v", h.Name, h.Commands, h.SSH)
			}
		}
		g := inv.Group("web-03")
		if g == nil || !reflect.DeepEqual(g.Members, []string{"web-gra-03"}) || g.Component != "Web cluster 03" ||
			g.Balancer == nil || g.Balancer.LoadBalancer != "lab" || g.Balancer.Backend != "web-03" {
			t.Errorf("group web-03: %+v", g)
		}
		if want := "http://${address}:" + fmt.Sprint(info.SitePort) + "/healthz"; len(g.Checks) != 1 || g.Checks[0].Target != want {
			t.Errorf("group checks %+v, want %s", g.Checks, want)
		}
		if lb := inv.LoadBalancer("lab"); lb == nil || lb.Socket != info.HAProxy.Socket {
			t.Errorf("load balancer: %+v", lb)
		}
	})

	t.Run("illico.yaml", func(t *testing.T) {
		data, err := os.ReadFile(info.Files.Config)
		if err != nil {
			t.Fatal(err)
		}
		var cfg map[string]string
		if err := yaml.Unmarshal(data, &cfg); err != nil {
			t.Fatal(err)
		}
		if cfg["inventory"] != "inventory.yaml" || cfg["data"] != "data" || cfg["admin_token_file"] != "admin.token" || len(cfg) != 5 {
			t.Errorf("illico.yaml = %v", cfg)
		}
		if _, port, err := net.SplitHostPort(cfg["public_listen"]); err != nil || port == "0" || cfg["public_listen"] == cfg["listen"] {
			t.Errorf("public_listen = %q: want a port of its own", cfg["public_listen"])
		}
		if _, port, err := net.SplitHostPort(cfg["listen"]); err != nil || port == "0" || !strings.HasPrefix(cfg["listen"], "127.0.0.1:") {
			t.Errorf("listen = %q", cfg["listen"])
		}
	})

	t.Run("frontends answer through HAProxy", func(t *testing.T) {
		for g, url := range info.Frontends {
			if got := fetch(t, url, 2*time.Second); !strings.HasPrefix(got, "200 web-") {
				t.Errorf("frontend %s: %q", g, got)
			}
		}
	})

	t.Run("labpkg over SSH with strict host keys", func(t *testing.T) {
		out, code := run(t, info, "web-gra-01", "labpkg list")
		if code != 0 || out != "openssl 3.0.11\nlinux-image 6.1.0-18\n" {
			t.Errorf("labpkg list: exit %d, %q", code, out)
		}
		if out, code := run(t, info, "web-gra-01", "labpkg install nope"); code != 100 || !strings.Contains(out, "Unable to locate package nope") {
			t.Errorf("labpkg install nope: exit %d, %q", code, out)
		}
		if out, _ := run(t, info, "web-sbg-02", "echo $ILLICO_LAB_HOST; lab-boot-id"); !strings.HasPrefix(out, "web-sbg-02\n") ||
			strings.TrimSpace(strings.TrimPrefix(out, "web-sbg-02\n")) != hostStatus(t, l, "web-sbg-02").BootID {
			t.Errorf("host name and boot id: %q", out)
		}
	})

	t.Run("reboot drops sessions and runs the new version", func(t *testing.T) {
		if out, code := run(t, info, "web-gra-01", "labpkg install openssl=3.0.13 && lab-reboot-required"); code != 0 {
			t.Fatalf("install: exit %d: %s", code, out)
		}
		c, err := sshClient(t, info, "web-gra-01", 5*time.Second)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		s, err := c.NewSession()
		if err != nil {
			t.Fatal(err)
		}
		if err := s.Start("sleep 60"); err != nil {
			t.Fatal(err)
		}
		dropped := make(chan error, 1)
		go func() { dropped <- s.Wait() }()
		st := rebootAndWait(t, l, "web-gra-01")
		select {
		case err := <-dropped:
			if err == nil {
				t.Error("the session ended cleanly; the reboot should have cut it")
			}
		case <-time.After(5 * time.Second):
			t.Fatal("a session survived the reboot")
		}
		if st.Running["openssl"] != "3.0.13" || st.RebootRequired {
			t.Errorf("after reboot: %+v", st)
		}
		if out, code := run(t, info, "web-gra-01", "lab-boot-id; lab-reboot-required"); code != 1 || strings.TrimSpace(out) != st.BootID {
			t.Errorf("after reboot: exit %d, %q (boot id %s)", code, out, st.BootID)
		}
		if got := fetch(t, siteURL(t, info, "web-gra-01", "/"), 2*time.Second); got != "200 web-gra-01: hello (boot "+st.BootID+", openssl 3.0.13)" {
			t.Errorf("site: %q", got)
		}
	})

	t.Run("bad version: site 500, HAProxy marks it DOWN, the frontend still serves", func(t *testing.T) {
		if out, code := run(t, info, "web-sbg-01", "labpkg install openssl=3.0.14"); code != 0 {
			t.Fatalf("install: exit %d: %s", code, out)
		}
		rebootAndWait(t, l, "web-sbg-01")
		if got := fetch(t, siteURL(t, info, "web-sbg-01", "/healthz"), 2*time.Second); !strings.HasPrefix(got, "500 ") {
			t.Errorf("healthz with the bad version: %q", got)
		}
		eventually(t, 10*time.Second, "HAProxy marks web-sbg-01 DOWN", func() bool {
			return balancerState(t, l, "web-01", "web-sbg-01") == "DOWN"
		})
		for range 5 {
			if got := fetch(t, info.Frontends["web-01"], 2*time.Second); !strings.HasPrefix(got, "200 web-gra-01") {
				t.Errorf("frontend web-01 with one member down: %q", got)
			}
		}
		// Roll back, so that the subtests below start from a healthy fleet.
		if out, code := run(t, info, "web-sbg-01", "labpkg install openssl=3.0.13"); code != 0 {
			t.Fatalf("downgrade: exit %d: %s", code, out)
		}
		rebootAndWait(t, l, "web-sbg-01")
		eventually(t, 10*time.Second, "HAProxy marks web-sbg-01 UP again", func() bool {
			return balancerState(t, l, "web-01", "web-sbg-01") == "UP"
		})
	})

	t.Run("freeze: handshake times out, site hangs; heal keeps the boot id", func(t *testing.T) {
		before := hostStatus(t, l, "web-gra-02").BootID
		if _, err := l.Fault("web-gra-02", FaultFreeze); err != nil {
			t.Fatal(err)
		}
		start := time.Now()
		if c, err := sshClient(t, info, "web-gra-02", time.Second); err == nil {
			c.Close()
			t.Fatal("SSH to a frozen host succeeded")
		} else if time.Since(start) < 900*time.Millisecond {
			t.Errorf("SSH to a frozen host failed at once (%v); it should hang until the timeout", err)
		}
		if got := fetch(t, siteURL(t, info, "web-gra-02", "/healthz"), 500*time.Millisecond); got != "timeout" {
			t.Errorf("site of a frozen host: %q, want timeout", got)
		}
		if s := hostStatus(t, l, "web-gra-02"); s.State != StateFrozen {
			t.Errorf("state %s", s.State)
		}
		if _, err := l.Heal("web-gra-02"); err != nil {
			t.Fatal(err)
		}
		if out, code := run(t, info, "web-gra-02", "lab-boot-id"); code != 0 || strings.TrimSpace(out) != before {
			t.Errorf("after heal: exit %d, boot id %q, want %s", code, out, before)
		}
	})

	t.Run("crash: refused until heal, which boots anew", func(t *testing.T) {
		before := hostStatus(t, l, "web-gra-02").BootID
		if _, err := l.Fault("web-gra-02", FaultCrash); err != nil {
			t.Fatal(err)
		}
		if got := fetch(t, siteURL(t, info, "web-gra-02", "/"), time.Second); got != "refused" {
			t.Errorf("site of a crashed host: %q", got)
		}
		if c, err := sshClient(t, info, "web-gra-02", time.Second); err == nil {
			c.Close()
			t.Error("SSH to a crashed host succeeded")
		} else if !errors.Is(err, syscall.ECONNREFUSED) {
			t.Errorf("SSH to a crashed host: %v, want connection refused", err)
		}
		l.Heal("web-gra-02")
		if out, _ := run(t, info, "web-gra-02", "lab-boot-id"); strings.TrimSpace(out) == before {
			t.Error("the boot id survived a crash")
		}
	})

	t.Run("no-return: the reboot never ends until heal", func(t *testing.T) {
		l.Fault("web-sbg-02", FaultNoReturn)
		if out, code := run(t, info, "web-sbg-02", "lab-reboot"); code != 0 {
			t.Fatalf("lab-reboot: exit %d: %s", code, out)
		}
		time.Sleep(dropDelay + info.Options.RebootMax.Duration() + 500*time.Millisecond)
		if s := hostStatus(t, l, "web-sbg-02"); s.State != StateDown {
			t.Fatalf("state %s, want down", s.State)
		}
		l.Heal("web-sbg-02")
		if out, code := run(t, info, "web-sbg-02", "true"); code != 0 {
			t.Errorf("after heal: exit %d: %s", code, out)
		}
	})

	t.Run("errors: the site fails, its health check passes, until heal", func(t *testing.T) {
		if _, err := l.Fault("web-gra-01", FaultErrors); err != nil {
			t.Fatal(err)
		}
		if got := fetch(t, siteURL(t, info, "web-gra-01", "/"), time.Second); !strings.HasPrefix(got, "500 ") {
			t.Errorf("site under the errors fault: %q, want a 500", got)
		}
		if got := fetch(t, siteURL(t, info, "web-gra-01", "/healthz"), time.Second); got != "200 ok" {
			t.Errorf("health check under the errors fault: %q, want 200 ok", got)
		}
		if s := hostStatus(t, l, "web-gra-01"); !s.Errors || s.State != StateUp {
			t.Errorf("status under the errors fault: %+v", s)
		}
		l.Heal("web-gra-01")
		if got := fetch(t, siteURL(t, info, "web-gra-01", "/"), time.Second); !strings.HasPrefix(got, "200 ") {
			t.Errorf("site after heal: %q", got)
		}
	})

	t.Run("datacenter and site targets", func(t *testing.T) {
		hosts, err := l.Fault("datacenter=sbg", FaultCrash)
		if err != nil || !reflect.DeepEqual(hosts, []string{"web-sbg-01", "web-sbg-02"}) {
			t.Fatalf("fault datacenter=sbg: %v, %v", hosts, err)
		}
		for _, s := range l.Status(context.Background()) {
			if want := map[bool]string{true: StateDown, false: StateUp}[strings.HasPrefix(s.Name, "web-sbg")]; s.State != want {
				t.Errorf("%s is %s, want %s", s.Name, s.State, want)
			}
		}
		if hosts, err := l.Heal("site=sbg"); err != nil || len(hosts) != 2 {
			t.Errorf("heal site=sbg: %v, %v", hosts, err)
		}
		_, err = l.Fault("datacenter=sgb", FaultCrash)
		if fleet.KindOf(err) != fleet.KindNotFound || !strings.Contains(err.Error(), `did you mean "sbg"`) {
			t.Errorf("unknown datacenter: %v", err)
		}
		if _, err := l.Fault("web-gra-01", "explode"); fleet.KindOf(err) != fleet.KindInvalid {
			t.Errorf("unknown fault: %v", err)
		}
	})

	t.Run("control API from another process's point of view", func(t *testing.T) {
		c, err := Dial(info.Dir, &http.Client{Timeout: 10 * time.Second})
		if err != nil {
			t.Fatal(err)
		}
		ctx := context.Background()
		if hosts, err := c.Fault(ctx, "web-gra-03", FaultFreeze); err != nil || len(hosts) != 1 {
			t.Fatalf("fault: %v %v", hosts, err)
		}
		if err := c.Reboot(ctx, "web-gra-03"); fleet.KindOf(err) != fleet.KindConflict {
			t.Errorf("reboot of a frozen host: %v, want a conflict", err)
		}
		st, err := c.Status(ctx)
		if err != nil || len(st) != 5 || st[4].Name != "web-gra-03" || st[4].State != StateFrozen {
			t.Fatalf("status: %+v %v", st, err)
		}
		if _, err := c.Heal(ctx, "web-gra-03"); err != nil {
			t.Fatal(err)
		}
		if _, err := c.Heal(ctx, "web-gra-99"); fleet.KindOf(err) != fleet.KindNotFound {
			t.Errorf("heal of an unknown host: %v", err)
		}
	})

	t.Run("every host rebooted at once comes back", func(t *testing.T) {
		before := map[string]string{}
		for _, s := range l.Status(context.Background()) {
			before[s.Name] = s.BootID
		}
		var wg sync.WaitGroup
		for _, h := range info.Hosts {
			wg.Go(func() {
				c, err := sshClient(t, info, h.Name, 5*time.Second)
				if err != nil {
					t.Errorf("ssh %s: %v", h.Name, err)
					return
				}
				defer c.Close()
				s, err := c.NewSession()
				if err != nil {
					t.Errorf("ssh %s: %v", h.Name, err)
					return
				}
				if out, err := s.CombinedOutput("lab-reboot"); err != nil {
					t.Errorf("lab-reboot on %s: %v: %s", h.Name, err, out)
				}
			})
		}
		wg.Wait()
		eventually(t, 15*time.Second, "every host back with a new boot id", func() bool {
			for _, s := range l.Status(context.Background()) {
				if s.State != StateUp || s.BootID == before[s.Name] {
					return false
				}
			}
			return true
		})
	})

	t.Run("a second lab in the same directory is refused", func(t *testing.T) {
		_, err := Up(context.Background(), Options{Dir: info.Dir, Hosts: 2, Logger: testLogger(t)})
		if fleet.KindOf(err) != fleet.KindConflict {
			t.Errorf("second Up: %v, want a conflict", err)
		}
	})

	t.Run("down leaves no process", func(t *testing.T) {
		pids := labPids(t, info.Dir)
		if len(pids) != 6 { // 5 sshd and haproxy; the lab is this process
			t.Errorf("pid files: %v", pids)
		}
		if err := Down(context.Background(), info.Dir); err != nil {
			t.Fatal(err)
		}
		select {
		case <-l.Done():
		case <-time.After(10 * time.Second):
			t.Fatal("the lab did not close on down")
		}
		for name, pid := range pids {
			if _, err := procStart(pid); err == nil {
				t.Errorf("%s (pid %d) still runs after down", name, pid)
			}
		}
		if left := labProcesses(info.Dir); len(left) > 0 {
			t.Errorf("processes still running on %s: %v", info.Dir, left)
		}
		if _, err := os.Stat(info.HAProxy.Socket); err == nil {
			t.Error("haproxy.sock left behind")
		}
		for _, f := range []string{info.Files.Inventory, info.Files.KnownHosts, info.Files.Identity, info.Files.Config, filepath.Join(info.Dir, "lab.json")} {
			if _, err := os.Stat(f); err != nil {
				t.Errorf("down removed a user file: %v", err)
			}
		}
	})
}

// labPids reads the pid files of the lab in dir, but the lab's own.
func labPids(t *testing.T, dir string) map[string]int {
	t.Helper()
	entries, err := pidFiles{dir: filepath.Join(dir, "run")}.list()
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]int{}
	for _, e := range entries {
		if e.pid != os.Getpid() {
			out[e.name] = e.pid
		}
	}
	return out
}

// labProcesses lists the live processes whose command line points into dir.
func labProcesses(dir string) []string {
	var out []string
	for _, pid := range procPids() {
		args := procArgs(pid)
		if _, err := procStart(pid); err != nil {
			continue
		}
		if slices.ContainsFunc(args, func(a string) bool { return strings.Contains(a, dir) }) {
			out = append(out, fmt.Sprintf("%d %s", pid, strings.Join(args, " ")))
		}
	}
	return out
}

func TestTwoLabsSideBySide(t *testing.T) {
	a := upLab(t, Options{Hosts: 2})
	b := upLab(t, Options{Hosts: 2})
	if a.Info().SSHPort == b.Info().SSHPort || a.Info().SitePort == b.Info().SitePort {
		t.Errorf("two labs share a port: %d/%d and %d/%d", a.Info().SSHPort, a.Info().SitePort, b.Info().SSHPort, b.Info().SitePort)
	}
	for _, l := range []*Lab{a, b} {
		info := l.Info()
		if out, code := run(t, info, "web-gra-01", "lab-boot-id"); code != 0 || strings.TrimSpace(out) != hostStatus(t, l, "web-gra-01").BootID {
			t.Errorf("lab %s: %d %q", info.Dir, code, out)
		}
	}
}

// TestDownAfterSupervisorKilled runs the command-line path: illico lab up
// spawns a detached supervisor, which is then killed with SIGKILL; illico
// lab down must still leave no process behind.
func TestDownAfterSupervisorKilled(t *testing.T) {
	requireLab(t)
	if testing.Short() {
		t.Skip("end-to-end lab test; skipped in -short mode")
	}
	if errIllicoBin != nil {
		t.Fatal(errIllicoBin)
	}
	dir := t.TempDir()
	illico := func(args ...string) (string, int) {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
		defer cancel()
		out, err := exec.CommandContext(ctx, illicoBin, args...).CombinedOutput()
		var exit *exec.ExitError
		if errors.As(err, &exit) {
			return string(out), exit.ExitCode()
		} else if err != nil {
			t.Fatalf("illico %v: %v", args, err)
		}
		return string(out), 0
	}
	t.Cleanup(func() { Down(context.Background(), dir) })

	out, code := illico("lab", "up", "--dir", dir, "--hosts", "3", "--reboot-seconds", "1")
	if code != 0 {
		t.Fatalf("lab up: exit %d: %s", code, out)
	}
	for _, w := range []string{"3 hosts in 2 datacenters", "inventory.yaml", "illico lab down --dir " + dir} {
		if !strings.Contains(out, w) {
			t.Errorf("lab up output does not say %q:\n%s", w, out)
		}
	}
	if out, code := illico("lab", "up", "--dir", dir); code == 0 || !strings.Contains(out, "already running") {
		t.Errorf("second lab up: exit %d: %s", code, out)
	}
	if out, code := illico("lab", "fault", "--dir", dir, "web-sbg-01", "crash"); code != 0 {
		t.Errorf("lab fault: exit %d: %s", code, out)
	}
	out, code = illico("lab", "status", "--dir", dir, "--json")
	var st []HostStatus
	if err := json.Unmarshal([]byte(out), &st); code != 0 || err != nil || len(st) != 3 || st[1].State != StateDown {
		t.Errorf("lab status --json: exit %d, %v: %s", code, err, out)
	}

	info, err := Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	pids := labPids(t, dir)
	if len(pids) != 4 { // the supervisor, 2 live sshd, haproxy
		t.Errorf("pid files: %v", pids)
	}
	if err := syscall.Kill(info.Pid, syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	eventually(t, 5*time.Second, "supervisor gone", func() bool { _, err := procStart(info.Pid); return err != nil })
	if out, code := illico("lab", "status", "--dir", dir); code != 3 {
		t.Errorf("status of a dead lab: exit %d: %s", code, out)
	}
	if left := labProcesses(dir); len(left) < 3 {
		t.Errorf("expected sshd and haproxy to outlive the supervisor, found %v", left)
	}

	if out, code := illico("lab", "down", "--dir", dir); code != 0 {
		t.Fatalf("lab down: exit %d: %s", code, out)
	}
	for name, pid := range pids {
		if _, err := procStart(pid); err == nil {
			t.Errorf("%s (pid %d) survived lab down", name, pid)
		}
	}
	if left := labProcesses(dir); len(left) > 0 {
		t.Errorf("processes left after lab down: %v", left)
	}
	if out, code := illico("lab", "up", "--dir", dir, "--hosts", "2"); code != 0 {
		t.Errorf("lab up after down: exit %d: %s", code, out)
	}
	if out, code := illico("lab", "down", "--dir", dir); code != 0 {
		t.Errorf("second lab down: exit %d: %s", code, out)
	}
}

// BenchmarkUp50 measures how long a 50-host lab takes to be ready, and to
// stop.
func BenchmarkUp50(b *testing.B) {
	requireLab(b)
	for b.Loop() {
		l, err := Up(context.Background(), Options{Dir: b.TempDir(), Hosts: 50, Logger: testLogger(b)})
		if err != nil {
			b.Fatal(err)
		}
		l.Close()
	}
}
