package lab

import (
	"bytes"
	"context"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"os/exec"
	"strings"
	"sync"
	"time"
)

// frontend is one group's entry point through HAProxy.
type frontend struct {
	Group string
	Addr  string // 127.0.0.1:port
}

// maxSocketPath is the longest unix socket path Linux accepts.
const maxSocketPath = 107

// checkRate is how many health checks a second the lab's HAProxy sends in
// all: every host is checked every 500 ms up to 100 hosts, and less often
// beyond, so that a big lab's checks (each a connection to the lab's own
// process) do not take the cores that its sshd and the daemon need.
const checkRate = 200

// checkInterval is the health check interval of each server in a lab of n
// hosts.
func checkInterval(n int) time.Duration {
	return max(500*time.Millisecond, time.Duration(n)*time.Second/checkRate)
}

// haproxyConfig is one frontend per group, each group a backend of its hosts
// with fast health checks (see checkInterval), and the runtime API at level
// admin.
func haproxyConfig(sock string, groups []groupSpec, hosts map[string]hostSpec, sitePort int, fronts []frontend) []byte {
	var b bytes.Buffer
	fmt.Fprintf(&b, `# Written by illico lab up; rewritten at every start.
global
    stats socket %s mode 600 level admin
    stats timeout 1m

defaults
    mode http
    timeout connect 1s
    timeout client 30s
    timeout server 10s
    timeout check 1s
    option redispatch
    retries 3
`, sock)
	inter := checkInterval(len(hosts)).Milliseconds()
	for i, g := range groups {
		fmt.Fprintf(&b, "\nfrontend %s\n    bind %s\n    default_backend %s\n", g.Name, fronts[i].Addr, g.Name)
		fmt.Fprintf(&b, "\nbackend %s\n    option httpchk GET /healthz\n", g.Name)
		for _, m := range g.Members {
			fmt.Fprintf(&b, "    server %s %s check inter %dms fall 2 rise 2\n", m, net.JoinHostPort(hosts[m].Address, fmt.Sprint(sitePort)), inter)
		}
	}
	return b.Bytes()
}

// haproxyPath finds the haproxy binary, in PATH or where Debian puts it.
func haproxyPath() (string, error) {
	if p, err := exec.LookPath("haproxy"); err == nil {
		return p, nil
	}
	const debian = "/usr/sbin/haproxy"
	if _, err := os.Stat(debian); err == nil {
		return debian, nil
	}
	return "", errors.New("haproxy is not installed (not in PATH nor /usr/sbin)")
}

// haproxy is the lab's HAProxy process, run in the foreground (-db) as a
// child so that the lab knows when it dies.
type haproxy struct {
	cmd  *exec.Cmd
	out  *lineLogger
	done chan struct{}
}

func startHAProxy(bin, config string, log *slog.Logger) (*haproxy, error) {
	cmd := exec.Command(bin, "-f", config, "-db")
	out := &lineLogger{log: log.With("process", "haproxy")}
	cmd.Stdout, cmd.Stderr = out, out
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start haproxy: %w", err)
	}
	p := &haproxy{cmd: cmd, out: out, done: make(chan struct{})}
	go func() {
		err := cmd.Wait()
		out.flush()
		log.Info("haproxy exited", "err", err)
		close(p.done)
	}()
	return p, nil
}

func (p *haproxy) pid() int { return p.cmd.Process.Pid }

// stop kills HAProxy and waits for it, bounded in time.
func (p *haproxy) stop() {
	p.cmd.Process.Kill()
	select {
	case <-p.done:
	case <-time.After(5 * time.Second):
	}
}

// runtimeCommand sends one command to the HAProxy runtime API and returns the
// answer.
func runtimeCommand(ctx context.Context, sock, command string) (string, error) {
	var d net.Dialer
	conn, err := d.DialContext(ctx, "unix", sock)
	if err != nil {
		return "", fmt.Errorf("haproxy runtime api: %w", err)
	}
	defer conn.Close()
	if dl, ok := ctx.Deadline(); ok {
		conn.SetDeadline(dl)
	} else {
		conn.SetDeadline(time.Now().Add(10 * time.Second))
	}
	if _, err := io.WriteString(conn, command+"\n"); err != nil {
		return "", fmt.Errorf("haproxy runtime api: %w", err)
	}
	out, err := io.ReadAll(conn)
	if err != nil {
		return "", fmt.Errorf("haproxy runtime api: %s: %w", command, err)
	}
	return string(out), nil
}

// serverStates asks HAProxy for the state of every server: backend → server
// → status as `show stat` says it (UP, DOWN, MAINT, "UP 1/2", ...).
func serverStates(ctx context.Context, sock string) (map[string]map[string]string, error) {
	out, err := runtimeCommand(ctx, sock, "show stat")
	if err != nil {
		return nil, err
	}
	r := csv.NewReader(strings.NewReader(strings.TrimPrefix(out, "# ")))
	r.FieldsPerRecord = -1
	rows, err := r.ReadAll()
	if err != nil || len(rows) == 0 {
		return nil, fmt.Errorf("haproxy show stat: unreadable answer %q", firstLine(out))
	}
	col := map[string]int{}
	for i, name := range rows[0] {
		col[name] = i
	}
	px, sv, st := col["pxname"], col["svname"], col["status"]
	states := map[string]map[string]string{}
	for _, row := range rows[1:] {
		if len(row) <= max(px, sv, st) || row[sv] == "FRONTEND" || row[sv] == "BACKEND" {
			continue
		}
		if states[row[px]] == nil {
			states[row[px]] = map[string]string{}
		}
		states[row[px]][row[sv]] = row[st]
	}
	return states, nil
}

func firstLine(s string) string {
	line, _, _ := strings.Cut(s, "\n")
	return line
}

// lineLogger turns a child's output into log lines, and keeps the last few
// for error messages.
type lineLogger struct {
	log  *slog.Logger
	mu   sync.Mutex
	buf  []byte
	last []string
}

const keepLines = 5

func (l *lineLogger) line(s string) {
	l.log.Info(s)
	l.last = append(l.last, s)
	if len(l.last) > keepLines {
		l.last = l.last[1:]
	}
}

// tail is the last lines the child wrote.
func (l *lineLogger) tail() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return strings.Join(l.last, "\n")
}

func (l *lineLogger) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.buf = append(l.buf, p...)
	for {
		i := bytes.IndexByte(l.buf, '\n')
		if i < 0 {
			break
		}
		l.line(string(l.buf[:i]))
		l.buf = l.buf[i+1:]
	}
	return len(p), nil
}

func (l *lineLogger) flush() {
	l.mu.Lock()
	defer l.mu.Unlock()
	if len(l.buf) > 0 {
		l.line(string(l.buf))
		l.buf = nil
	}
}
