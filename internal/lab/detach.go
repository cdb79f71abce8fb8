package lab

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/illico-dev/illico/internal/fleet"
)

// spawnTimeout bounds how long Spawn waits for a supervisor to say how its
// start went.
const spawnTimeout = 10 * time.Minute

// Spawn starts exe with args as a detached lab supervisor (its own session,
// output to DIR/lab.log) and waits until it reports through an inherited
// pipe (its file descriptor 3) that the lab is ready, or why it failed.
func Spawn(ctx context.Context, exe string, args []string, dir string) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("lab directory: %w", err)
	}
	logPath := filepath.Join(dir, "lab.log")
	logf, err := os.OpenFile(logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return fmt.Errorf("lab log: %w", err)
	}
	defer logf.Close()
	r, w, err := os.Pipe()
	if err != nil {
		return err
	}
	defer r.Close()
	cmd := exec.Command(exe, args...)
	cmd.Stdout, cmd.Stderr = logf, logf
	cmd.ExtraFiles = []*os.File{w}
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
	err = cmd.Start()
	w.Close()
	if err != nil {
		return fmt.Errorf("start the lab supervisor: %w", err)
	}
	go cmd.Wait()

	answer := make(chan []byte, 1)
	go func() {
		// "ready" is all there is to read; after "error" the message runs
		// to the end, when the supervisor exits.
		br := bufio.NewReader(io.LimitReader(r, 1<<20))
		status, _ := br.ReadString('\n')
		if status != "ready\n" {
			rest, _ := io.ReadAll(br)
			status += string(rest)
		}
		answer <- []byte(status)
	}()
	ctx, cancel := context.WithTimeout(ctx, spawnTimeout)
	defer cancel()
	select {
	case data := <-answer:
		status, msg, _ := strings.Cut(string(data), "\n")
		switch status {
		case "ready":
			return nil
		case "error":
			return errors.New(strings.TrimSpace(msg))
		}
		return fmt.Errorf("the lab supervisor died while starting: %s", logTail(logPath))
	case <-ctx.Done():
		// Interrupted or too slow: the supervisor tears down what it started.
		cmd.Process.Signal(syscall.SIGTERM)
		return fleet.Errorf(fleet.KindUnavailable, "the lab did not get ready: %v (see %s)", ctx.Err(), logPath)
	}
}

// ReadyPipe is the pipe a supervisor reports its start on: file descriptor 3,
// inherited from Spawn. It is marked close-on-exec at once, or every sshd
// the lab starts would hold it open too.
func ReadyPipe() (*os.File, error) {
	const fd = 3
	if _, _, errno := syscall.Syscall(syscall.SYS_FCNTL, fd, syscall.F_GETFD, 0); errno != 0 {
		return nil, errors.New("no readiness pipe on file descriptor 3: the supervisor is started by illico lab up")
	}
	syscall.CloseOnExec(fd)
	return os.NewFile(fd, "ready"), nil
}

// Supervise runs a lab until ctx ends or the lab is asked to stop. It tells
// the process that spawned it how the start went through ready: "ready", or
// "error" and the message.
func Supervise(ctx context.Context, opts Options, ready io.WriteCloser) error {
	l, err := Up(ctx, opts)
	if err != nil {
		fmt.Fprintf(ready, "error\n%s\n", err)
		ready.Close()
		return err
	}
	io.WriteString(ready, "ready\n")
	ready.Close()
	select {
	case <-ctx.Done():
	case <-l.Done():
	}
	return l.Close()
}

// logTail is the end of a log, for messages.
func logTail(path string) string {
	data, err := os.ReadFile(path)
	if err != nil || len(bytes.TrimSpace(data)) == 0 {
		return "nothing in " + path
	}
	const max = 2000
	if len(data) > max {
		data = data[len(data)-max:]
	}
	return strings.TrimSpace(string(data))
}
