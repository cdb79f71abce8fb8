package probe

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/illico-dev/illico/internal/fleet"
)

// Observation is what one run of a probe saw. Only the fields of its kind
// are set.
type Observation struct {
	Start    time.Time
	Duration time.Duration
	// Err is why the target could not be asked at all (refused, timed
	// out, no SSH session); conditions other than [CONNECTED] and
	// [RESPONSE_TIME] then fail.
	Err        error
	Connected  bool
	Status     int
	Body       []byte
	CertExpiry time.Time
	BootID     string
	ExitCode   int
	Stdout     string
}

// Verdict applies a target's conditions to what its run saw: ok when all
// hold, or the first that does not, saying what was seen.
func Verdict(def *Definition, o *Observation) (ok bool, reason string) {
	for _, c := range def.Conditions {
		if ok, why := c.Eval(o); !ok {
			return false, why
		}
	}
	return true, ""
}

// Runner runs a command on a host over SSH, and tells its boot id (read
// with cmd, at most once per connection); *sshx.Pool is one.
type Runner interface {
	Run(ctx context.Context, h *fleet.Host, cmd string, stdout, stderr io.Writer) (fleet.CommandResult, error)
	BootID(ctx context.Context, h *fleet.Host, cmd string) (string, error)
}

// Limits on what a probe reads, so a chatty target cannot eat memory.
const (
	maxBody   = 1 << 20
	maxStdout = 64 << 10
)

// Prober runs probes of every kind: HTTP through one client (so that
// connections are reused across probes), TCP with a dialer, SSH and
// commands through a Runner.
type Prober struct {
	follow, noFollow *http.Client
	dialer           net.Dialer
	ssh              Runner
	now              func() time.Time
}

// NewProber returns a prober that sends HTTP probes through client and SSH
// and command probes through ssh (nil refuses them). A probe follows
// redirects only when its definition says so. now is the clock.
func NewProber(client *http.Client, ssh Runner, now func() time.Time) *Prober {
	noFollow := *client
	noFollow.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	return &Prober{follow: client, noFollow: &noFollow, ssh: ssh, now: now}
}

// NewHTTPClient returns a client for probing many targets at once, with at
// most concurrency probes in flight. Each target is asked once an interval,
// so a few idle connections per host carry its probes (the targets of one
// host share them), and maxIdle bounds the idle connections kept in all, so
// that file descriptors stay under the process limit on a large fleet.
func NewHTTPClient(concurrency, maxIdle int) *http.Client {
	t := http.DefaultTransport.(*http.Transport).Clone()
	t.MaxIdleConns = maxIdle
	t.MaxIdleConnsPerHost = max(2, min(concurrency, 8))
	t.MaxConnsPerHost = 0
	t.IdleConnTimeout = 2 * time.Minute
	t.ResponseHeaderTimeout = 0 // each probe's context bounds it
	// A probe is about the target, not about a proxy in between.
	t.Proxy = nil
	return &http.Client{Transport: t}
}

// Probe runs t once, bounded by its definition's timeout.
func (p *Prober) Probe(ctx context.Context, t *Target) Observation {
	ctx, cancel := context.WithTimeout(ctx, t.Def.Timeout)
	defer cancel()
	o := Observation{Start: p.now()}
	switch t.Def.Kind {
	case KindHTTP:
		p.http(ctx, t, &o)
	case KindTCP:
		p.tcp(ctx, t, &o)
	case KindSSH:
		p.bootID(ctx, t, &o)
	case KindCommand:
		p.run(ctx, t, t.Target, &o)
	default:
		o.Err = fmt.Errorf("unknown probe kind %q", t.Def.Kind)
	}
	o.Duration = p.now().Sub(o.Start)
	return o
}

func bootIDCommand(h *fleet.Host) string {
	if h.Commands.BootID != "" {
		return h.Commands.BootID
	}
	return fleet.DefaultCommands.BootID
}

func (p *Prober) http(ctx context.Context, t *Target, o *Observation) {
	req, err := http.NewRequestWithContext(ctx, t.Def.Method, t.Target, nil)
	if err != nil {
		o.Err = err
		return
	}
	req.Header.Set("User-Agent", "illico-probe")
	for k, v := range t.Def.Headers {
		if strings.EqualFold(k, "Host") {
			req.Host = v
			continue
		}
		req.Header.Set(k, v)
	}
	client := p.noFollow
	if t.Def.FollowRedirects {
		client = p.follow
	}
	resp, err := client.Do(req)
	if err != nil {
		o.Err = unwrapURLError(err)
		return
	}
	defer resp.Body.Close()
	o.Connected = true
	o.Status = resp.StatusCode
	if resp.TLS != nil && len(resp.TLS.PeerCertificates) > 0 {
		o.CertExpiry = resp.TLS.PeerCertificates[0].NotAfter
	}
	if needsBody(t.Def) {
		o.Body, err = io.ReadAll(io.LimitReader(resp.Body, maxBody))
	} else {
		// Read to the end (a little) so that the connection can be reused.
		_, err = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	}
	if err != nil {
		o.Err = fmt.Errorf("read the body: %w", err)
	}
}

// unwrapURLError drops the method and URL that *url.Error repeats: the
// target is already named wherever the reason is shown.
func unwrapURLError(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		return ue.Err
	}
	return err
}

func needsBody(d *Definition) bool {
	for _, c := range d.Conditions {
		if c.Subject == SubjectBody {
			return true
		}
	}
	return false
}

func (p *Prober) tcp(ctx context.Context, t *Target, o *Observation) {
	conn, err := p.dialer.DialContext(ctx, "tcp", t.Target)
	if err != nil {
		o.Err = err
		return
	}
	o.Connected = true
	conn.Close()
}

// limitedBuffer keeps the first max bytes written and drops the rest.
type limitedBuffer struct {
	bytes.Buffer
	max int
}

func (b *limitedBuffer) Write(p []byte) (int, error) {
	if room := b.max - b.Len(); room > 0 {
		b.Buffer.Write(p[:min(len(p), room)])
	}
	return len(p), nil
}

// bootID asks the host's SSH connection for its boot id: a keepalive round
// trip on the pooled connection, the boot id command only when the
// connection is new (see sshx.Pool.BootID).
func (p *Prober) bootID(ctx context.Context, t *Target, o *Observation) {
	if p.ssh == nil {
		o.Err = errors.New("no SSH runner for this probe")
		return
	}
	o.BootID, o.Err = p.ssh.BootID(ctx, t.Host, bootIDCommand(t.Host))
	o.Connected = o.Err == nil
}

func (p *Prober) run(ctx context.Context, t *Target, cmd string, o *Observation) {
	if p.ssh == nil {
		o.Err = errors.New("no SSH runner for this probe")
		return
	}
	out := &limitedBuffer{max: maxStdout}
	res, err := p.ssh.Run(ctx, t.Host, cmd, out, nil)
	o.ExitCode = res.ExitCode
	o.Stdout = out.String()
	if err != nil {
		// Reached and refused (a host key, credentials) is still no
		// answer from the host as a probe sees it.
		o.Err = err
		return
	}
	o.Connected = true
}
