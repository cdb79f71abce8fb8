// Package lb takes hosts out of and back into load-balancer rotation through
// HAProxy's runtime API, so that a maintenance never sends a customer request
// to a server that is about to reboot.
//
// A drain sets the server to DRAIN (no new sessions; health checks go on),
// waits until its current sessions reach zero or the context ends, and then
// sets MAINT. An undrain sets READY and waits until HAProxy's own health checks
// see the server UP, so a server is never counted back in service before it is.
package lb

import (
	"cmp"
	"context"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"net"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/illico-dev/illico/internal/fleet"
)

// HAProxy talks to one HAProxy process through its runtime API (a unix socket
// or a TCP address, at level admin). It is safe for concurrent use, and one
// value should serve every drain on that HAProxy: its runtime API takes few
// connections at once (stats maxconn is 10 by default), so a HAProxy value
// keeps at most maxConns of them open.
type HAProxy struct {
	name    string
	network string
	addr    string
	conns   chan struct{}
	// Poll is how often Drain and Undrain look at the server again, and
	// how old a reading of the servers' state may be.
	Poll     time.Duration
	readings readings
	// changed is when this client's last state change was answered
	// (UnixNano): no reading it gives is older.
	changed atomic.Int64
}

// maxConns bounds the runtime API connections one client holds at once.
const maxConns = 4

// New returns a client for the load balancer.
func New(l *fleet.LoadBalancer) *HAProxy {
	h := &HAProxy{name: l.Name, network: "unix", addr: l.Socket, Poll: 100 * time.Millisecond, conns: make(chan struct{}, maxConns)}
	if l.Socket == "" {
		h.network, h.addr = "tcp", l.Address
	}
	return h
}

// Set keeps one client per load balancer, so that every host of a rollout
// shares its load balancer's connection limit.
type Set struct {
	mu      sync.Mutex
	clients map[fleet.LoadBalancer]*HAProxy
}

// For returns the client of l, the same one every time.
func (s *Set) For(l *fleet.LoadBalancer) *HAProxy {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.clients == nil {
		s.clients = map[fleet.LoadBalancer]*HAProxy{}
	}
	h, ok := s.clients[*l]
	if !ok {
		h = New(l)
		s.clients[*l] = h
	}
	return h
}

// commandTimeout bounds one runtime API command: a HAProxy that takes longer
// is busy, and its caller hears so in time to wait and send again.
const commandTimeout = 5 * time.Second

// Command sends one runtime API command and returns HAProxy's answer.
// HAProxy answers errors in plain text with a zero exit, so callers check the
// text; Command only fails on transport errors (an unreachable or silent
// runtime API), which are fleet.KindUnavailable.
func (h *HAProxy) Command(ctx context.Context, cmd string) (string, error) {
	select {
	case h.conns <- struct{}{}:
		defer func() { <-h.conns }()
	case <-ctx.Done():
		return "", ctx.Err()
	}
	conn, err := h.dial(ctx)
	if err != nil {
		return "", fleet.Errorf(fleet.KindUnavailable, "load balancer %s: cannot reach the runtime API at %s: %v", h.name, h.addr, err)
	}
	defer conn.Close()
	deadline := time.Now().Add(commandTimeout)
	if d, ok := ctx.Deadline(); ok && d.Before(deadline) {
		deadline = d
	}
	_ = conn.SetDeadline(deadline)
	if _, err := io.WriteString(conn, cmd+"\n"); err != nil {
		return "", fleet.Errorf(fleet.KindUnavailable, "load balancer %s: send %q: %v", h.name, cmd, err)
	}
	out, err := io.ReadAll(conn)
	if err != nil {
		return "", fleet.Errorf(fleet.KindUnavailable, "load balancer %s: no answer to %q: %v", h.name, cmd, err)
	}
	return string(out), nil
}

// dial connects to the runtime API. A unix socket whose listen queue is
// full (other clients of the same HAProxy) answers EAGAIN at once: that is
// retried for a while, not taken for a dead HAProxy.
func (h *HAProxy) dial(ctx context.Context) (net.Conn, error) {
	var d net.Dialer
	for attempt := 0; ; attempt++ {
		conn, err := d.DialContext(ctx, h.network, h.addr)
		if err == nil || !errors.Is(err, syscall.EAGAIN) || attempt == 50 {
			return conn, err
		}
		t := time.NewTimer(20 * time.Millisecond)
		select {
		case <-ctx.Done():
			t.Stop()
			return nil, err
		case <-t.C:
		}
	}
}

// Server is what HAProxy reports about one server of a backend.
type Server struct {
	Backend string
	Name    string
	// Status is HAProxy's: UP, DOWN, DRAIN, MAINT, "UP 1/2", "no check"...
	Status string
	// Sessions is the number of sessions the server holds now.
	Sessions int
	// CheckStatus is the last health check result (L7OK, L4CON, L7STS...).
	CheckStatus string
}

// Up reports whether the server is in rotation and healthy: UP, or
// without checks. A server failing checks on its way down ("UP 1/3")
// still takes traffic but is not up: an undrain waits past it, and the
// budgets count it as down.
func (s Server) Up() bool { return s.Status == "UP" || s.Status == "no check" }

// Servers returns every server of every backend, from "show stat", as
// HAProxy saw them at most Poll ago and after every change this client made.
// Every caller of one HAProxy value shares its readings.
func (h *HAProxy) Servers(ctx context.Context) ([]Server, error) {
	notBefore := time.Now().Add(-h.Poll)
	if c := time.Unix(0, h.changed.Load()); c.After(notBefore) {
		notBefore = c
	}
	st, err := h.read(ctx, notBefore)
	return st.servers, err
}

// Traffic returns what HAProxy counted for every backend, from the same
// readings as Servers, at most Poll old.
func (h *HAProxy) Traffic(ctx context.Context) ([]fleet.Traffic, error) {
	st, err := h.read(ctx, time.Now().Add(-h.Poll))
	return st.traffic, err
}

func parseStat(lb, out string) (stat, error) {
	out = strings.TrimPrefix(out, "# ")
	r := csv.NewReader(strings.NewReader(out))
	r.FieldsPerRecord = -1
	rows, err := r.ReadAll()
	if err != nil || len(rows) == 0 {
		return stat{}, fmt.Errorf("load balancer %s: unreadable answer to show stat: %q", lb, firstLine(out))
	}
	col := map[string]int{}
	for i, name := range rows[0] {
		col[name] = i
	}
	for _, c := range []string{"pxname", "svname", "scur", "status", "check_status", "req_tot", "hrsp_5xx"} {
		if _, ok := col[c]; !ok {
			return stat{}, fmt.Errorf("load balancer %s: show stat has no %s column", lb, c)
		}
	}
	var st stat
	for _, row := range rows[1:] {
		if len(row) < len(rows[0]) || row[col["svname"]] == "FRONTEND" {
			continue
		}
		if row[col["svname"]] == "BACKEND" {
			// Empty in TCP mode, where HAProxy counts no requests.
			req, _ := strconv.ParseInt(row[col["req_tot"]], 10, 64)
			errs, _ := strconv.ParseInt(row[col["hrsp_5xx"]], 10, 64)
			st.traffic = append(st.traffic, fleet.Traffic{LoadBalancer: lb, Backend: row[col["pxname"]], Requests: req, ServerErrors: errs})
			continue
		}
		scur, _ := strconv.Atoi(row[col["scur"]])
		st.servers = append(st.servers, Server{
			Backend:     row[col["pxname"]],
			Name:        row[col["svname"]],
			Status:      row[col["status"]],
			Sessions:    scur,
			CheckStatus: row[col["check_status"]],
		})
	}
	return st, nil
}

// Server returns one server's state, as Servers sees it.
func (h *HAProxy) Server(ctx context.Context, backend, server string) (Server, error) {
	all, err := h.Servers(ctx)
	if err != nil {
		return Server{}, err
	}
	for _, s := range all {
		if s.Backend == backend && s.Name == server {
			return s, nil
		}
	}
	return Server{}, fleet.Errorf(fleet.KindNotFound, "load balancer %s has no server %s/%s", h.name, backend, server)
}

// State is an administrative server state.
type State string

const (
	Ready State = "ready"
	Drain State = "drain"
	Maint State = "maint"
)

// SetState sets a server's administrative state.
func (h *HAProxy) SetState(ctx context.Context, backend, server string, s State) error {
	out, err := h.Command(ctx, fmt.Sprintf("set server %s/%s state %s", backend, server, s))
	if err != nil {
		return err
	}
	if msg := strings.TrimSpace(out); msg != "" {
		return fmt.Errorf("load balancer %s: set %s/%s %s: %s", h.name, backend, server, s, firstLine(msg))
	}
	h.changed.Store(time.Now().UnixNano())
	return nil
}

// Drain stops new sessions to the server, waits until it holds none, and
// puts it in maintenance. When ctx ends first (the drain timeout), the server
// is put in maintenance anyway and the error says how many sessions it still
// held: the caller decides whether that is acceptable.
func (h *HAProxy) Drain(ctx context.Context, backend, server string) error {
	if err := h.SetState(ctx, backend, server, Drain); err != nil {
		return err
	}
	left := -1
	err := h.poll(ctx, func() (bool, error) {
		s, err := h.Server(ctx, backend, server)
		if err == nil {
			left = s.Sessions
		}
		return err == nil && s.Sessions == 0, err
	})
	// Maintenance is set even after a timeout: a server half-drained must
	// not take new traffic while it is being patched.
	mctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	defer cancel()
	if merr := h.SetState(mctx, backend, server, Maint); merr != nil {
		return merr
	}
	if err != nil {
		return fmt.Errorf("drain %s/%s: %d sessions still open: %w", backend, server, left, err)
	}
	return nil
}

// Undrain puts the server back in rotation and waits until HAProxy's health
// checks report it UP.
func (h *HAProxy) Undrain(ctx context.Context, backend, server string) error {
	if err := h.SetState(ctx, backend, server, Ready); err != nil {
		return err
	}
	var last Server
	err := h.poll(ctx, func() (bool, error) {
		s, err := h.Server(ctx, backend, server)
		if err == nil {
			last = s
		}
		return err == nil && s.Up(), err
	})
	if err != nil {
		return fmt.Errorf("undrain %s/%s: still %s (last check %s): %w", backend, server, last.Status, last.CheckStatus, err)
	}
	return nil
}

// poll calls done until it reports true, fails, or ctx ends.
func (h *HAProxy) poll(ctx context.Context, done func() (bool, error)) error {
	t := time.NewTicker(h.Poll)
	defer t.Stop()
	for {
		ok, err := done()
		if err != nil {
			return cmp.Or(ended(ctx), err)
		}
		if ok {
			return nil
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-t.C:
		}
	}
}

// ended returns why ctx ended, also in the instant between its deadline
// passing and ctx.Err reporting it, when a dial has already failed for it.
func ended(ctx context.Context) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if d, ok := ctx.Deadline(); ok && !time.Now().Before(d) {
		return context.DeadlineExceeded
	}
	return nil
}

func firstLine(s string) string {
	line, _, _ := strings.Cut(s, "\n")
	return line
}
