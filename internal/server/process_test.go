package server_test

// The harness of the tests that run illico serve from its binary, as
// operators run it, and kill it.

import (
	"context"
	"log/slog"
	"maps"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/illico-dev/illico/internal/api"
	"github.com/illico-dev/illico/internal/fleet"
	"github.com/illico-dev/illico/internal/lab"
	"github.com/illico-dev/illico/internal/store"
)

// bootLog counts the boots of each lab host, from the lab's own log.
type bootLog struct {
	mu    sync.Mutex
	boots map[string]int
}

func (b *bootLog) Enabled(context.Context, slog.Level) bool { return true }
func (b *bootLog) WithAttrs([]slog.Attr) slog.Handler       { return b }
func (b *bootLog) WithGroup(string) slog.Handler            { return b }

func (b *bootLog) Handle(_ context.Context, r slog.Record) error {
	if r.Message != "booted" {
		return nil
	}
	r.Attrs(func(a slog.Attr) bool {
		if a.Key == "host" {
			b.mu.Lock()
			b.boots[a.Value.String()]++
			b.mu.Unlock()
		}
		return true
	})
	return nil
}

func (b *bootLog) counts() map[string]int {
	b.mu.Lock()
	defer b.mu.Unlock()
	return maps.Clone(b.boots)
}

// checkPatchedOnce checks that every host of the lab's urgent patch
// rollout ro is done, patched, back in rotation and booted exactly once
// since before (the lab's status and the boot log's counts then).
func checkPatchedOnce(t *testing.T, l *lab.Lab, ro api.Rollout, before map[string]lab.HostStatus, bootsBefore map[string]int, boots *bootLog) {
	t.Helper()
	after, bootsAfter := labStatus(l), boots.counts()
	for _, h := range ro.Hosts {
		b, a := before[h.Host], after[h.Host]
		if h.State != "done" {
			t.Errorf("%s is %s: %s", h.Host, h.State, h.Error)
		}
		if a.BootID == b.BootID || a.Running["openssl"] != "3.0.13" || a.Balancer != "UP" {
			t.Errorf("%s: boot %s → %s, running %v, balancer %s", h.Host, b.BootID, a.BootID, a.Running, a.Balancer)
		}
		if n := bootsAfter[h.Host] - bootsBefore[h.Host]; n != 1 {
			t.Errorf("%s rebooted %d times, want once", h.Host, n)
		}
	}
}

// daemonProcess is `illico serve` run from its binary, as operators run it.
type daemonProcess struct {
	t       *testing.T
	bin     string
	config  string
	url     string
	logFile string
	cmd     *exec.Cmd
	exited  chan struct{}
}

func (p *daemonProcess) start() {
	p.t.Helper()
	log, err := os.OpenFile(p.logFile, os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o600)
	if err != nil {
		p.t.Fatal(err)
	}
	defer log.Close()
	p.cmd = exec.Command(p.bin, "serve", "--config", p.config)
	p.cmd.Stdout, p.cmd.Stderr = log, log
	if err := p.cmd.Start(); err != nil {
		p.t.Fatal(err)
	}
	p.exited = make(chan struct{})
	go func(cmd *exec.Cmd, exited chan struct{}) { _ = cmd.Wait(); close(exited) }(p.cmd, p.exited)
	hc := &http.Client{Timeout: time.Second}
	for range 1500 {
		select {
		case <-p.exited:
			p.t.Fatalf("illico serve exited at start:\n%s", p.logTail())
		default:
		}
		if resp, err := hc.Get(p.url + "/healthz"); err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return
			}
		}
		time.Sleep(20 * time.Millisecond)
	}
	p.t.Fatalf("illico serve did not answer within 30s:\n%s", p.logTail())
}

func (p *daemonProcess) kill() {
	p.t.Helper()
	if err := p.cmd.Process.Signal(syscall.SIGKILL); err != nil {
		p.t.Fatalf("kill the daemon: %v", err)
	}
	<-p.exited
}

// signal sends sig (SIGSTOP, SIGCONT) to the daemon.
func (p *daemonProcess) signal(sig syscall.Signal) {
	p.t.Helper()
	if err := p.cmd.Process.Signal(sig); err != nil {
		p.t.Fatalf("send %v to the daemon: %v", sig, err)
	}
}

// wait waits up to within for the daemon to end by itself and returns its
// exit code, or -1 if it still runs.
func (p *daemonProcess) wait(within time.Duration) int {
	select {
	case <-p.exited:
		return p.cmd.ProcessState.ExitCode()
	case <-time.After(within):
		return -1
	}
}

// stop ends the daemon as a signal would, or kills it if it takes too long.
func (p *daemonProcess) stop() {
	if p.cmd == nil {
		return
	}
	select {
	case <-p.exited:
		return
	default:
	}
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.exited:
	case <-time.After(20 * time.Second):
		_ = p.cmd.Process.Signal(syscall.SIGKILL)
		<-p.exited
	}
}

func (p *daemonProcess) logTail() string {
	data, _ := os.ReadFile(p.logFile)
	if len(data) > 8000 {
		data = data[len(data)-8000:]
	}
	return string(data)
}

// buildIllico builds the illico binary for a test, or skips it (fails it in
// CI) where there is no Go toolchain.
func buildIllico(t *testing.T) string {
	t.Helper()
	goBin, err := exec.LookPath("go")
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("no go toolchain to build illico: %v", err)
		}
		t.Skipf("no go toolchain to build illico: %v", err)
	}
	bin := filepath.Join(t.TempDir(), "illico")
	cmd := exec.Command(goBin, "build", "-o", bin, "./cmd/illico")
	cmd.Dir = filepath.Join("..", "..")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build ./cmd/illico: %v\n%s", err, out)
	}
	return bin
}

// whereKilled says which step each host in maintenance was at, as the
// store of a killed daemon records it.
func whereKilled(t *testing.T, dsn, id string, p *fleet.Plan) (steps []string, ended bool) {
	t.Helper()
	db, err := store.Open(t.Context(), dsn)
	if err != nil {
		t.Fatalf("open the killed daemon's store: %v", err)
	}
	defer db.Close()
	ro, err := db.Rollout(t.Context(), id)
	if err != nil {
		t.Fatal(err)
	}
	for _, h := range ro.Hosts {
		list, prefix := p.Steps, ""
		switch h.State {
		case fleet.HostRunning:
		case fleet.HostRollingBack:
			list, prefix = p.Rollback, "rollback "
		default:
			continue
		}
		step := prefix + string(list[h.Step].Kind)
		switch {
		case list[h.Step].Kind != fleet.StepReboot:
		case h.Issued:
			step += " (sent, waiting for the host)"
		case h.BootID != "":
			step += " (boot id read, not sent)"
		}
		steps = append(steps, step)
	}
	switch {
	case ro.State.Ended():
		return []string{"after the end"}, true
	case len(steps) == 0:
		steps = []string{"between hosts"}
	}
	return steps, false
}
