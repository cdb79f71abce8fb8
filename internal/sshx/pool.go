// Package sshx runs commands on hosts over SSH for one run of illico: a pool
// that keeps one connection per host, strict host key checking against the
// inventory's known_hosts, keepalives, and RunMany for many hosts at once.
//
// Errors carry a fleet error kind so that callers can tell a host that could
// not be reached from one that ran the command and failed:
//
//   - fleet.KindUnavailable: the host could not be reached, did not answer
//     within its connect timeout, or the connection was lost (a reboot, a
//     partition, missed keepalives), before or during the command.
//   - fleet.KindForbidden: the host was reached but refused: an unknown,
//     changed or revoked host key, or no accepted credentials.
//   - anything else: the command ran and did not finish normally (killed by
//     a signal, interrupted by the context).
//
// A command that exits non-zero is not an error: its fleet.CommandResult
// says so.
package sshx

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"strings"
	"sync"
	"time"

	"golang.org/x/crypto/ssh"

	"github.com/illico-dev/illico/internal/fleet"
)

// Dialer opens network connections; *net.Dialer is one.
type Dialer interface {
	DialContext(ctx context.Context, network, address string) (net.Conn, error)
}

// Options configure a Pool.
type Options struct {
	// Getenv reads SSH_AUTH_SOCK for hosts that use the agent.
	Getenv func(string) string
	// Logger gets connection events; nil discards them.
	Logger *slog.Logger
	// Dialer opens the TCP connections; nil means a net.Dialer.
	Dialer Dialer
	// Handshakes bounds the connections being set up at once; 0 means
	// DefaultHandshakes. See DefaultHandshakes.
	Handshakes int
}

// DefaultConnectTimeout applies when a host's SSH.ConnectTimeout is zero.
const DefaultConnectTimeout = 10 * time.Second

// DefaultHandshakes is how many SSH connections a pool sets up at once.
// A handshake costs the server a fork and an exec of sshd and the key
// exchange, and a daemon that starts watching a fleet dials every host
// within a second: 300 handshakes at once through one bastion, or to a
// lab whose hosts share two cores, each take longer than the connect
// timeout, fail, and are dialled again together, so that none gets
// through. The others wait their turn, and the connect timeout counts from
// the start of their own handshake, as it is about the host answering.
const DefaultHandshakes = 32

// Pool holds at most one SSH connection per host and reuses it for every
// command run there. It is safe for concurrent use.
type Pool struct {
	getenv func(string) string
	log    *slog.Logger
	dialer Dialer
	// ctx ends in-flight handshakes when the pool closes; a dial does not
	// belong to the caller that started it, as others may wait on it.
	ctx    context.Context
	cancel context.CancelFunc

	mu     sync.Mutex
	conns  map[string]*conn
	closed bool
	// wg counts the goroutines that dial and watch connections, so that
	// Close returns only once none of them can log any more.
	wg sync.WaitGroup
	// handshakes holds a token for each connection being set up.
	handshakes chan struct{}
}

// conn is one host's connection, being dialled or established.
type conn struct {
	host   *fleet.Host
	ready  chan struct{} // closed once the dial ended; then client or err is set
	client *ssh.Client
	err    error
	dead   chan struct{} // closed once an established connection is gone
	// bootID is the host's boot id as read on this connection, guarded by
	// the pool's mu; empty until BootID reads it.
	bootID string
}

// NewPool returns an empty pool; Close it when the run is over.
func NewPool(opts Options) *Pool {
	p := &Pool{getenv: opts.Getenv, log: opts.Logger, dialer: opts.Dialer, conns: map[string]*conn{}}
	if opts.Handshakes <= 0 {
		opts.Handshakes = DefaultHandshakes
	}
	p.handshakes = make(chan struct{}, opts.Handshakes)
	if p.getenv == nil {
		p.getenv = func(string) string { return "" }
	}
	if p.log == nil {
		p.log = slog.New(slog.DiscardHandler)
	}
	if p.dialer == nil {
		p.dialer = &net.Dialer{}
	}
	p.ctx, p.cancel = context.WithCancel(context.Background())
	return p
}

// Close closes every connection, ends handshakes under way and waits for
// the pool's goroutines to end. Commands still running fail.
func (p *Pool) Close() {
	p.mu.Lock()
	p.closed = true
	conns := p.conns
	p.conns = map[string]*conn{}
	p.mu.Unlock()
	p.cancel()
	for _, c := range conns {
		select {
		case <-c.ready:
			if c.client != nil {
				c.client.Close()
			}
		default:
			// The dial sees the pool closed and closes what it got.
		}
	}
	p.wg.Wait()
}

var errClosed = errors.New("ssh connection pool is closed")

// Run runs cmd on h through the host's pooled connection, dialling it first
// if needed, and copies the command's output to stdout and stderr (nil
// discards), which are written from other goroutines but never at the same
// time, and never after Run returns. See the package documentation for the
// errors.
func (p *Pool) Run(ctx context.Context, h *fleet.Host, cmd string, stdout, stderr io.Writer) (fleet.CommandResult, error) {
	start := time.Now()
	res := fleet.CommandResult{ExitCode: -1}
	sess, c, err := p.session(ctx, h)
	if err != nil {
		res.Duration = time.Since(start)
		return res, err
	}
	code, err := p.wait(ctx, h, c, sess, cmd, stdout, stderr)
	res.ExitCode, res.Duration = code, time.Since(start)
	return res, err
}

// session opens a session on h's connection. A pooled connection may have
// died unnoticed (the host rebooted, and only the next write learns it):
// then it dials once more before giving up.
func (p *Pool) session(ctx context.Context, h *fleet.Host) (*ssh.Session, *conn, error) {
	for attempt := 0; ; attempt++ {
		c, fresh, err := p.client(ctx, h)
		if err != nil {
			return nil, nil, err
		}
		sess, err := newSession(ctx, c.client)
		if err == nil {
			return sess, c, nil
		}
		if ctx.Err() != nil {
			return nil, nil, &fleet.Error{Kind: fleet.KindUnavailable,
				Msg: fmt.Sprintf("open a session on %s (%s)", h.Name, h.SSHAddress()), Err: ctx.Err()}
		}
		var refused *ssh.OpenChannelError
		if errors.As(err, &refused) {
			// The server answered: the connection is fine, and so are the
			// commands running on it (sshd's MaxSessions was reached).
			return nil, nil, &fleet.Error{Kind: fleet.KindUnavailable,
				Msg: fmt.Sprintf("open a session on %s (%s)", h.Name, h.SSHAddress()), Err: err}
		}
		p.forget(h, c)
		if fresh || attempt > 0 {
			return nil, nil, &fleet.Error{Kind: fleet.KindUnavailable,
				Msg: fmt.Sprintf("open a session on %s (%s): connection lost", h.Name, h.SSHAddress()), Err: err}
		}
		p.log.Debug("pooled ssh connection is gone, dialling again", "host", h.Name, "err", err)
	}
}

// newSession is client.NewSession, interrupted by ctx: on a hung connection
// the channel-open reply never comes.
func newSession(ctx context.Context, client *ssh.Client) (*ssh.Session, error) {
	type opened struct {
		s   *ssh.Session
		err error
	}
	ch := make(chan opened, 1)
	go func() {
		s, err := client.NewSession()
		ch <- opened{s, err}
	}()
	select {
	case o := <-ch:
		return o.s, o.err
	case <-ctx.Done():
		go func() {
			if o := <-ch; o.s != nil {
				o.s.Close()
			}
		}()
		return nil, ctx.Err()
	}
}

// wait starts cmd in sess and waits until it ends or ctx is done.
func (p *Pool) wait(ctx context.Context, h *fleet.Host, c *conn, sess *ssh.Session, cmd string, stdout, stderr io.Writer) (int, error) {
	g := &gate{}
	sess.Stdout = g.writer(stdout)
	sess.Stderr = g.writer(stderr)
	if err := sess.Start(cmd); err != nil {
		sess.Close()
		return -1, &fleet.Error{Kind: fleet.KindUnavailable,
			Msg: fmt.Sprintf("start the command on %s (%s)", h.Name, h.SSHAddress()), Err: err}
	}
	done := make(chan error, 1)
	go func() { done <- sess.Wait() }()
	var err error
	select {
	case err = <-done:
		sess.Close()
	case <-ctx.Done():
		g.shut()
		// Signal and close from aside: on a hung connection even a write
		// may block, and the caller must get its answer now.
		go func() {
			sess.Signal(ssh.SIGKILL)
			sess.Close()
		}()
		return -1, fmt.Errorf("command on %s interrupted: %w", h.Name, ctx.Err())
	}
	var exit *ssh.ExitError
	switch {
	case err == nil:
		return 0, nil
	case errors.As(err, &exit) && exit.Signal() != "":
		return -1, fmt.Errorf("command on %s killed by signal %s", h.Name, exit.Signal())
	case errors.As(err, &exit):
		return exit.ExitStatus(), nil
	}
	// No exit status: the connection is most likely gone, but the session
	// learns it a moment before the connection's own watcher does.
	lost := time.NewTimer(2 * time.Second)
	defer lost.Stop()
	select {
	case <-c.dead:
		return -1, &fleet.Error{Kind: fleet.KindUnavailable,
			Msg: fmt.Sprintf("connection to %s (%s) lost during the command", h.Name, h.SSHAddress())}
	case <-lost.C:
	case <-ctx.Done():
	}
	var missing *ssh.ExitMissingError
	if errors.As(err, &missing) {
		return -1, fmt.Errorf("command on %s ended without an exit status", h.Name)
	}
	return -1, fmt.Errorf("command on %s: %w", h.Name, err)
}

// BootID returns h's boot id, read with cmd once per connection and proven
// current at every later call by a keepalive round trip, which costs the
// host no process: a reboot ends the connection, and the next call dials
// and reads it again. An SSH probe every 10 s on 600 hosts would otherwise
// have their sshd fork a session and a shell 60 times a second. The
// errors are Run's, and a keepalive unanswered within ctx is
// fleet.KindUnavailable.
func (p *Pool) BootID(ctx context.Context, h *fleet.Host, cmd string) (string, error) {
	for attempt := 0; ; attempt++ {
		c, fresh, err := p.client(ctx, h)
		if err != nil {
			return "", err
		}
		p.mu.Lock()
		id := c.bootID
		p.mu.Unlock()
		if id == "" {
			return p.readBootID(ctx, h, cmd)
		}
		err = ping(ctx, c.client)
		switch {
		case err == nil:
			return id, nil
		case ctx.Err() != nil:
			return "", &fleet.Error{Kind: fleet.KindUnavailable,
				Msg: fmt.Sprintf("%s (%s) did not answer a keepalive", h.Name, h.SSHAddress()), Err: ctx.Err()}
		case fresh || attempt > 0:
			return "", &fleet.Error{Kind: fleet.KindUnavailable,
				Msg: fmt.Sprintf("keepalive to %s (%s): connection lost", h.Name, h.SSHAddress()), Err: err}
		}
		// The pooled connection died unnoticed: dial again, once.
		p.forget(h, c)
	}
}

// readBootID runs cmd on h and keeps its output as the boot id of the
// connection that ran it.
func (p *Pool) readBootID(ctx context.Context, h *fleet.Host, cmd string) (string, error) {
	sess, c, err := p.session(ctx, h)
	if err != nil {
		return "", err
	}
	out := &capped{max: 4096}
	code, err := p.wait(ctx, h, c, sess, cmd, out, nil)
	if err != nil {
		return "", err
	}
	id := strings.TrimSpace(out.String())
	if code != 0 || id == "" || len(id) > 256 {
		return "", fmt.Errorf("%s: the boot id command %q exited %d with %q", h.Name, cmd, code, firstLine(id))
	}
	p.mu.Lock()
	c.bootID = id
	p.mu.Unlock()
	return id, nil
}

// capped keeps the first max bytes written to it.
type capped struct {
	strings.Builder
	max int
}

func (c *capped) Write(b []byte) (int, error) {
	if room := c.max - c.Len(); room > 0 {
		c.Builder.Write(b[:min(len(b), room)])
	}
	return len(b), nil
}

// ping sends a keepalive@openssh.com request and waits for its answer, or
// for ctx: a frozen host never answers.
func ping(ctx context.Context, client *ssh.Client) error {
	done := make(chan error, 1)
	go func() {
		// OpenSSH answers this unknown request with a failure, which is
		// an answer all the same.
		_, _, err := client.SendRequest("keepalive@openssh.com", true, nil)
		done <- err
	}()
	select {
	case err := <-done:
		return err
	case <-ctx.Done():
		return ctx.Err()
	}
}

func firstLine(s string) string {
	line, _, _ := strings.Cut(s, "\n")
	return line
}

// gate serialises the writes of a session's stdout and stderr copiers, and
// shuts them out once Run has returned.
type gate struct {
	mu     sync.Mutex
	closed bool
}

type gateWriter struct {
	g *gate
	w io.Writer
}

func (g *gate) writer(w io.Writer) io.Writer {
	if w == nil {
		w = io.Discard
	}
	return &gateWriter{g: g, w: w}
}

func (g *gate) shut() {
	g.mu.Lock()
	g.closed = true
	g.mu.Unlock()
}

func (gw *gateWriter) Write(b []byte) (int, error) {
	gw.g.mu.Lock()
	defer gw.g.mu.Unlock()
	if gw.g.closed {
		return len(b), nil
	}
	return gw.w.Write(b)
}

// client returns h's connection, dialling it if there is none or it died;
// fresh says it was dialled for this call or one waiting alongside.
func (p *Pool) client(ctx context.Context, h *fleet.Host) (*conn, bool, error) {
	key := poolKey(h)
	p.mu.Lock()
	if p.closed {
		p.mu.Unlock()
		return nil, false, errClosed
	}
	c := p.conns[key]
	if c != nil {
		select {
		case <-c.dead:
			c = nil
		default:
		}
	}
	fresh := c == nil
	if fresh {
		c = &conn{host: h, ready: make(chan struct{}), dead: make(chan struct{})}
		p.conns[key] = c
		p.wg.Go(func() { p.establish(key, c) })
	}
	p.mu.Unlock()

	select {
	case <-c.ready:
	case <-ctx.Done():
		return nil, false, &fleet.Error{Kind: fleet.KindUnavailable,
			Msg: fmt.Sprintf("connect to %s (%s): gave up waiting", h.Name, h.SSHAddress()), Err: ctx.Err()}
	}
	if c.err != nil {
		return nil, false, c.err
	}
	return c, fresh, nil
}

func poolKey(h *fleet.Host) string {
	return h.Name + "\x00" + h.SSH.User + "@" + h.SSHAddress()
}

// forget closes a broken connection and drops it at once, so that the next
// command dials again rather than find it before its watcher notices.
func (p *Pool) forget(h *fleet.Host, c *conn) {
	p.mu.Lock()
	if key := poolKey(h); p.conns[key] == c {
		delete(p.conns, key)
	}
	p.mu.Unlock()
	c.client.Close()
}

// establish dials c and, once connected, watches it until it dies.
func (p *Pool) establish(key string, c *conn) {
	start := time.Now()
	client, err := p.handshake(c.host)
	p.mu.Lock()
	if err == nil && p.closed {
		client.Close()
		client, err = nil, errClosed
	}
	if err != nil && p.conns[key] == c {
		// Forget a failed dial: the next command tries again, as the host
		// may be back by then.
		delete(p.conns, key)
	}
	c.client, c.err = client, err
	close(c.ready)
	p.mu.Unlock()
	if err != nil {
		p.log.Debug("ssh connect failed", "host", c.host.Name, "addr", c.host.SSHAddress(), "err", err)
		close(c.dead)
		return
	}
	p.log.Debug("ssh connected", "host", c.host.Name, "addr", c.host.SSHAddress(), "took", time.Since(start))

	stop := make(chan struct{})
	if iv := c.host.SSH.KeepaliveInterval; iv > 0 {
		p.wg.Go(func() { p.keepalive(c, iv, max(1, c.host.SSH.KeepaliveCount), stop) })
	}
	err = client.Wait()
	close(stop)
	close(c.dead)
	p.mu.Lock()
	if p.conns[key] == c {
		delete(p.conns, key)
	}
	p.mu.Unlock()
	p.log.Debug("ssh connection closed", "host", c.host.Name, "err", err)
}

// handshake dials h once one of the pool's handshakes is free.
func (p *Pool) handshake(h *fleet.Host) (*ssh.Client, error) {
	select {
	case p.handshakes <- struct{}{}:
	case <-p.ctx.Done():
		return nil, errClosed
	}
	defer func() { <-p.handshakes }()
	return p.dial(p.ctx, h)
}

// keepalive sends a keepalive@openssh.com request every interval and closes
// the connection when count of them in a row got no answer by the next tick:
// a frozen or partitioned host never closes the TCP connection itself.
func (p *Pool) keepalive(c *conn, interval time.Duration, count int, stop <-chan struct{}) {
	t := time.NewTicker(interval)
	defer t.Stop()
	replies := make(chan error, 1)
	pending, missed := false, 0
	for {
		select {
		case <-stop:
			return
		case err := <-replies:
			pending, missed = false, 0
			if err != nil {
				return // the connection is gone; client.Wait says so
			}
		case <-t.C:
			if pending {
				missed++
				if missed >= count {
					p.log.Warn("ssh keepalives unanswered, closing the connection",
						"host", c.host.Name, "addr", c.host.SSHAddress(), "missed", missed, "interval", interval)
					c.client.Close()
					return
				}
				continue
			}
			pending = true
			go func() {
				// OpenSSH answers this unknown request with a failure,
				// which is an answer all the same.
				_, _, err := c.client.SendRequest("keepalive@openssh.com", true, nil)
				replies <- err
			}()
		}
	}
}
