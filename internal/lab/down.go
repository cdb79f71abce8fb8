package lab

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"time"

	"github.com/illico-dev/illico/internal/openssh"
)

// stopTimeout bounds how long Down lets a live lab shut itself down before
// it kills what the lab left.
const stopTimeout = 30 * time.Second

// Down stops the lab in dir and leaves no process of it behind. A live lab
// is asked to stop through its control API; then every process named by a
// pid file is killed (each sshd with all its sessions), and so is any sshd
// or HAProxy still running on the lab's files, which a lab killed between
// starting a process and writing its pid file would leave. Only pid files
// and HAProxy's socket are removed.
func Down(ctx context.Context, dir string) error {
	dir, err := filepath.Abs(dir)
	if err != nil {
		return err
	}
	if _, err := os.Stat(dir); err != nil {
		return fmt.Errorf("lab directory: %w", err)
	}
	pids := pidFiles{dir: filepath.Join(dir, "run")}
	entries, err := pids.list()
	if err != nil {
		return err
	}
	labPid := 0
	for _, e := range entries {
		if e.name == "lab" && e.alive() {
			labPid = e.pid
			stopLab(ctx, dir, e, pids)
		}
	}

	if entries, err = pids.list(); err != nil {
		return err
	}
	var killed []int
	for _, e := range entries {
		if !e.alive() || e.pid == os.Getpid() {
			pids.remove(e.name)
			continue
		}
		killed = append(killed, e.pid)
		if strings.HasPrefix(e.name, "sshd-") {
			if err := openssh.KillTree(e.pid); err != nil {
				return fmt.Errorf("stop %s: %w", e.name, err)
			}
		} else {
			kill(e.pid, syscall.SIGKILL)
		}
	}
	for _, pid := range leftovers(dir, labPid) {
		killed = append(killed, pid)
		openssh.KillTree(pid)
	}
	if err := waitGone(ctx, killed); err != nil {
		return err
	}
	for _, e := range entries {
		pids.remove(e.name)
	}
	os.Remove(filepath.Join(dir, "haproxy.sock"))
	return nil
}

// stopLab asks a live lab to stop and waits for it; a lab that does not
// stop in time is killed, unless it is this very process.
func stopLab(ctx context.Context, dir string, e pidEntry, pids pidFiles) {
	ctx, cancel := context.WithTimeout(ctx, stopTimeout)
	defer cancel()
	if info, err := Load(dir); err == nil {
		hc := &http.Client{Timeout: 5 * time.Second}
		NewClient(info.Control, hc).Stop(ctx)
	}
	for e.alive() && ctx.Err() == nil {
		if e.pid == os.Getpid() {
			// A lab in this process removes its pid file when it has closed.
			if _, err := os.Stat(pids.path("lab")); errors.Is(err, os.ErrNotExist) {
				return
			}
		}
		select {
		case <-ctx.Done():
		case <-time.After(50 * time.Millisecond):
		}
	}
	if e.alive() {
		kill(e.pid, syscall.SIGKILL)
	}
}

// leftovers finds the sshd and HAProxy processes of the lab in dir that no
// pid file names: those whose command line points into dir, and those still
// in the session of a dead lab supervisor.
func leftovers(dir string, labPid int) []int {
	var out []int
	for _, pid := range procPids() {
		if pid == os.Getpid() {
			continue
		}
		args := procArgs(pid)
		if len(args) == 0 {
			continue
		}
		base := filepath.Base(args[0])
		if base != "sshd" && base != "haproxy" {
			continue
		}
		mine := slices.ContainsFunc(args[1:], func(a string) bool { return strings.HasPrefix(a, dir+string(filepath.Separator)) })
		if !mine && labPid > 0 && labPid != os.Getpid() {
			if sid, err := procSession(pid); err == nil && sid == labPid {
				mine = true
			}
		}
		if mine {
			out = append(out, pid)
		}
	}
	return out
}

// waitGone waits until every pid has exited (or is a zombie), bounded.
func waitGone(ctx context.Context, pids []int) error {
	deadline := time.Now().Add(10 * time.Second)
	for {
		var left []string
		for _, pid := range pids {
			if _, err := procStart(pid); err == nil {
				left = append(left, fmt.Sprint(pid))
			}
		}
		if len(left) == 0 {
			return nil
		}
		if time.Now().After(deadline) || ctx.Err() != nil {
			return fmt.Errorf("lab processes still running after SIGKILL: pids %s", strings.Join(left, ", "))
		}
		select {
		case <-ctx.Done():
		case <-time.After(20 * time.Millisecond):
		}
	}
}
