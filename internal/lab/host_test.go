package lab

import (
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net"
	"net/http"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/illico-dev/illico/internal/fleet"
)

// fakeClock fires its timers when the test says so.
type fakeClock struct {
	mu     sync.Mutex
	timers []*fakeTimer
}

type fakeTimer struct {
	d       time.Duration
	f       func()
	stopped bool
}

func (t *fakeTimer) Stop() bool {
	was := !t.stopped
	t.stopped = true
	return was
}

func (c *fakeClock) AfterFunc(d time.Duration, f func()) Timer {
	c.mu.Lock()
	defer c.mu.Unlock()
	t := &fakeTimer{d: d, f: f}
	c.timers = append(c.timers, t)
	return t
}

// fire runs the oldest pending timer and returns its delay; it fails the
// test when none is pending.
func (c *fakeClock) fire(t testing.TB) time.Duration {
	t.Helper()
	c.mu.Lock()
	var next *fakeTimer
	for len(c.timers) > 0 && next == nil {
		if !c.timers[0].stopped {
			next = c.timers[0]
		}
		c.timers = c.timers[1:]
	}
	c.mu.Unlock()
	if next == nil {
		t.Fatal("no timer pending")
	}
	next.stopped = true
	next.f()
	return next.d
}

func (c *fakeClock) pending() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	n := 0
	for _, t := range c.timers {
		if !t.stopped {
			n++
		}
	}
	return n
}

// fakeSSH stands for a host's sshd in tests of the state machine.
type fakeSSH struct {
	mu      sync.Mutex
	stopped bool
	frozen  bool
}

func (p *fakeSSH) Stop() error   { p.mu.Lock(); p.stopped = true; p.mu.Unlock(); return nil }
func (p *fakeSSH) Freeze() error { p.mu.Lock(); p.frozen = true; p.mu.Unlock(); return nil }
func (p *fakeSSH) Thaw() error   { p.mu.Lock(); p.frozen = false; p.mu.Unlock(); return nil }
func (p *fakeSSH) Pid() int      { return os.Getpid() }

func (p *fakeSSH) state() (stopped, frozen bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.stopped, p.frozen
}

type hostRig struct {
	h     *host
	clock *fakeClock
	ssh   []*fakeSSH // every sshd started, the current one last
	url   string
}

// newHostRig boots one host with a fake sshd and a real site on a loopback
// address of its own.
func newHostRig(t *testing.T) *hostRig {
	t.Helper()
	dir := t.TempDir()
	addr := fmt.Sprintf("127.78.%d.%d", 1+rand.IntN(250), 1+rand.IntN(250))
	port, err := pickPort([]string{addr}, nil)
	if err != nil {
		t.Fatal(err)
	}
	r := &hostRig{clock: &fakeClock{}, url: fmt.Sprintf("http://%s:%d/", addr, port)}
	w := &world{
		repo:        repository(),
		clock:       r.clock,
		log:         slog.New(slog.NewTextHandler(io.Discard, nil)),
		sitePort:    port,
		rebootDelay: func() time.Duration { return 3 * time.Second },
		pids:        pidFiles{dir: t.TempDir()},
	}
	w.startSSH = func(*host) (process, error) {
		p := &fakeSSH{}
		r.ssh = append(r.ssh, p)
		return p, nil
	}
	r.h = newHost(hostSpec{Name: "web-gra-01", Address: addr}, dir, w)
	if err := r.h.reset(); err != nil {
		t.Fatal(err)
	}
	if err := r.h.Boot(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(r.h.close)
	return r
}

func (r *hostRig) status() HostStatus { return r.h.status() }

func (r *hostRig) wantState(t *testing.T, want string) HostStatus {
	t.Helper()
	s := r.status()
	if s.State != want {
		t.Fatalf("state = %s, want %s (%+v)", s.State, want, s)
	}
	return s
}

// get fetches the site with a short timeout: "refused", "timeout" or the
// status code and body.
func (r *hostRig) get(t *testing.T, path string) string {
	t.Helper()
	hc := &http.Client{Timeout: 300 * time.Millisecond, Transport: &http.Transport{DisableKeepAlives: true}}
	resp, err := hc.Get(r.url + strings.TrimPrefix(path, "/"))
	var ne net.Error
	switch {
	case err != nil && errors.As(err, &ne) && ne.Timeout():
		return "timeout"
	case err != nil && strings.Contains(err.Error(), "connection refused"):
		return "refused"
	case err != nil:
		t.Fatalf("GET %s: %v", path, err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return fmt.Sprintf("%d %s", resp.StatusCode, strings.TrimSpace(string(body)))
}

func TestHostReboot(t *testing.T) {
	r := newHostRig(t)
	first := r.wantState(t, StateUp)
	if got := r.get(t, "/healthz"); got != "200 ok" {
		t.Fatalf("healthz = %q", got)
	}
	if err := os.WriteFile(r.h.path("installed"), []byte("openssl 3.0.13\nlinux-image 6.1.0-21\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := r.h.Reboot(); err != nil {
		t.Fatal(err)
	}
	if err := r.h.Reboot(); err != nil {
		t.Fatalf("a second reboot request while one is pending: %v", err)
	}
	r.wantState(t, StateUp) // the request returns before the host goes down
	if d := r.clock.fire(t); d != dropDelay {
		t.Errorf("drop after %s, want %s", d, dropDelay)
	}
	r.wantState(t, StateRebooting)
	if stopped, _ := r.ssh[0].state(); !stopped {
		t.Error("sshd not stopped by the reboot")
	}
	if got := r.get(t, "/"); got != "refused" {
		t.Errorf("site while rebooting: %q, want refused", got)
	}
	if err := r.h.Reboot(); fleet.KindOf(err) != fleet.KindConflict {
		t.Errorf("reboot while rebooting: %v, want a conflict", err)
	}
	if d := r.clock.fire(t); d != 3*time.Second {
		t.Errorf("down for %s, want the drawn 3s", d)
	}
	s := r.wantState(t, StateUp)
	if s.BootID == first.BootID || s.BootID == "" {
		t.Errorf("boot id %q after reboot, was %q", s.BootID, first.BootID)
	}
	if s.Running["openssl"] != "3.0.13" || s.Running["linux-image"] != "6.1.0-21" || s.RebootRequired {
		t.Errorf("after reboot: %+v", s)
	}
	if got := r.get(t, "/"); got != "200 web-gra-01: hello (boot "+s.BootID+", openssl 3.0.13)" {
		t.Errorf("site = %q", got)
	}
	if len(r.ssh) != 2 {
		t.Errorf("%d sshd started, want 2", len(r.ssh))
	}
}

func TestHostBadVersion(t *testing.T) {
	r := newHostRig(t)
	if err := os.WriteFile(r.h.path("installed"), []byte("openssl 3.0.14\nlinux-image 6.1.0-18\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if got := r.get(t, "/healthz"); got != "200 ok" {
		t.Errorf("installed but not running: healthz = %q", got)
	}
	r.h.Reboot()
	r.clock.fire(t)
	r.clock.fire(t)
	for _, path := range []string{"/", "/healthz", "/any"} {
		if got := r.get(t, path); !strings.HasPrefix(got, "500 ") {
			t.Errorf("GET %s with openssl 3.0.14 running = %q, want 500", path, got)
		}
	}
}

func TestHostFaults(t *testing.T) {
	tests := []struct {
		name  string
		steps func(t *testing.T, r *hostRig)
	}{
		{"crash stays down until heal, which boots anew", func(t *testing.T, r *hostRig) {
			before := r.status().BootID
			r.h.Crash()
			r.h.Crash() // twice is once
			r.wantState(t, StateDown)
			if got := r.get(t, "/"); got != "refused" {
				t.Errorf("site of a crashed host: %q", got)
			}
			if r.clock.pending() != 0 {
				t.Error("a crashed host has a timer pending")
			}
			r.h.Heal()
			if s := r.wantState(t, StateUp); s.BootID == before {
				t.Error("heal after crash kept the boot id")
			}
		}},
		{"freeze hangs the site; heal resumes with the same boot id", func(t *testing.T, r *hostRig) {
			before := r.status().BootID
			r.h.Freeze()
			r.h.Freeze()
			r.wantState(t, StateFrozen)
			if _, frozen := r.ssh[0].state(); !frozen {
				t.Error("sshd not frozen")
			}
			if got := r.get(t, "/healthz"); got != "timeout" {
				t.Errorf("site of a frozen host: %q, want timeout", got)
			}
			if err := r.h.Reboot(); fleet.KindOf(err) != fleet.KindConflict {
				t.Errorf("reboot while frozen: %v, want a conflict", err)
			}
			r.h.Heal()
			if s := r.wantState(t, StateUp); s.BootID != before {
				t.Error("heal after freeze changed the boot id")
			}
			if _, frozen := r.ssh[0].state(); frozen {
				t.Error("sshd still frozen")
			}
			if got := r.get(t, "/healthz"); got != "200 ok" {
				t.Errorf("site after heal: %q", got)
			}
		}},
		{"a request held by a freeze is answered at thaw", func(t *testing.T, r *hostRig) {
			r.h.Freeze()
			done := make(chan string, 1)
			go func() {
				resp, err := http.Get(r.url + "healthz")
				if err != nil {
					done <- err.Error()
					return
				}
				resp.Body.Close()
				done <- resp.Status
			}()
			select {
			case got := <-done:
				t.Fatalf("frozen site answered: %s", got)
			case <-time.After(200 * time.Millisecond):
			}
			r.h.Heal()
			select {
			case got := <-done:
				if got != "200 OK" {
					t.Errorf("held request got %s", got)
				}
			case <-time.After(5 * time.Second):
				t.Fatal("held request not answered after heal")
			}
		}},
		{"a reboot requested just before a freeze comes back frozen", func(t *testing.T, r *hostRig) {
			r.h.Reboot()
			r.h.Freeze()
			r.clock.fire(t)
			r.wantState(t, StateRebooting)
			r.clock.fire(t)
			s := r.wantState(t, StateFrozen)
			if !s.Frozen {
				t.Error("not reported frozen")
			}
			if _, frozen := r.ssh[1].state(); !frozen {
				t.Error("the new sshd is not frozen")
			}
			r.h.Heal()
			r.wantState(t, StateUp)
		}},
		{"no-return: the next reboot never ends, heal boots", func(t *testing.T, r *hostRig) {
			r.h.NoReturn()
			if !r.status().NoReturn {
				t.Error("no-return not reported")
			}
			r.wantState(t, StateUp)
			r.h.Reboot()
			r.clock.fire(t)
			r.wantState(t, StateDown)
			if r.clock.pending() != 0 {
				t.Error("a host that never returns has a timer pending")
			}
			r.h.Heal()
			r.wantState(t, StateUp)
			r.h.Reboot()
			r.clock.fire(t)
			r.clock.fire(t)
			r.wantState(t, StateUp) // armed once, spent once
		}},
		{"no-return armed during a reboot ends that one", func(t *testing.T, r *hostRig) {
			r.h.Reboot()
			r.clock.fire(t)
			r.h.NoReturn()
			r.clock.fire(t)
			r.wantState(t, StateDown)
		}},
		{"heal while rebooting lets the reboot end on time", func(t *testing.T, r *hostRig) {
			r.h.Reboot()
			r.clock.fire(t)
			r.h.Heal()
			r.wantState(t, StateRebooting)
			r.clock.fire(t)
			r.wantState(t, StateUp)
		}},
		{"crash during a reboot cancels the return", func(t *testing.T, r *hostRig) {
			r.h.Reboot()
			r.clock.fire(t)
			r.h.Crash()
			if r.clock.pending() != 0 {
				t.Error("the return is still scheduled")
			}
			r.wantState(t, StateDown)
		}},
		{"crash in the moment before the drop cancels the drop", func(t *testing.T, r *hostRig) {
			r.h.Reboot()
			r.h.Crash()
			r.h.Heal()
			booted := r.status().BootID
			// A timer that escaped Stop fires late: its generation is stale.
			r.h.drop(0)
			if s := r.wantState(t, StateUp); s.BootID != booted {
				t.Error("a stale drop changed the host")
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.steps(t, newHostRig(t))
		})
	}
}

func TestHostClosed(t *testing.T) {
	r := newHostRig(t)
	r.h.close()
	for name, op := range map[string]func() error{"reboot": r.h.Reboot, "crash": r.h.Crash, "freeze": r.h.Freeze, "heal": r.h.Heal} {
		if err := op(); !errors.Is(err, errClosed) {
			t.Errorf("%s after close: %v", name, err)
		}
	}
	if got := r.get(t, "/"); got != "refused" {
		t.Errorf("site after close: %q", got)
	}
}
