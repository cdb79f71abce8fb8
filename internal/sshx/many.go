package sshx

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/illico-dev/illico/internal/fleet"
)

// Status is how a host fared in RunMany.
type Status string

const (
	StatusOK          Status = "ok"          // the command exited 0
	StatusFailed      Status = "failed"      // it ran and exited non-zero, or was killed or timed out
	StatusUnreachable Status = "unreachable" // no connection, a refused host key or login, or the connection was lost
)

// Defaults of ManyOptions.
const (
	DefaultForks     = 50
	DefaultMaxOutput = 4 << 20
)

// ManyOptions configure RunMany.
type ManyOptions struct {
	// Forks is how many hosts run at once; DefaultForks when zero or less.
	Forks int
	// Timeout bounds each host's connect and command together; none when zero.
	Timeout time.Duration
	// OnLine, when set, gets every line of output as it comes, without its
	// newline; stream is "stdout" or "stderr". It is called from many
	// goroutines at once.
	OnLine func(h *fleet.Host, stream, line string)
	// MaxOutput is how many bytes of stdout, and of stderr, each result
	// keeps: the last ones, where errors are. DefaultMaxOutput when zero
	// or less.
	MaxOutput int
}

// HostResult is the outcome of the command on one host.
type HostResult struct {
	Host     *fleet.Host
	Status   Status
	ExitCode int // -1 when the command did not exit by itself
	Stdout   []byte
	Stderr   []byte
	Duration time.Duration
	Err      error
}

// RunMany runs cmd on every host through pool, opts.Forks at a time, and
// returns one result per host, in the order of hosts.
func RunMany(ctx context.Context, pool *Pool, hosts []*fleet.Host, cmd string, opts ManyOptions) []HostResult {
	forks := opts.Forks
	if forks <= 0 {
		forks = DefaultForks
	}
	maxOut := opts.MaxOutput
	if maxOut <= 0 {
		maxOut = DefaultMaxOutput
	}
	results := make([]HostResult, len(hosts))
	sem := make(chan struct{}, forks)
	var wg sync.WaitGroup
	for i, h := range hosts {
		select {
		case sem <- struct{}{}:
		case <-ctx.Done():
			results[i] = HostResult{Host: h, Status: StatusFailed, ExitCode: -1,
				Err: fmt.Errorf("not run on %s: %w", h.Name, ctx.Err())}
			continue
		}
		wg.Go(func() {
			defer func() { <-sem }()
			results[i] = runOne(ctx, pool, h, cmd, opts, maxOut)
		})
	}
	wg.Wait()
	return results
}

func runOne(ctx context.Context, pool *Pool, h *fleet.Host, cmd string, opts ManyOptions, maxOut int) HostResult {
	if opts.Timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, opts.Timeout)
		defer cancel()
	}
	stdout, stderr := &tail{max: maxOut}, &tail{max: maxOut}
	var outLines, errLines *lines
	if opts.OnLine != nil {
		outLines = &lines{emit: func(l string) { opts.OnLine(h, "stdout", l) }}
		errLines = &lines{emit: func(l string) { opts.OnLine(h, "stderr", l) }}
	}
	res, err := pool.Run(ctx, h, cmd, tee(stdout, outLines), tee(stderr, errLines))
	// Run wrote its last byte before it returned.
	outLines.flush()
	errLines.flush()
	if err != nil && opts.Timeout > 0 && errors.Is(ctx.Err(), context.DeadlineExceeded) && errors.Is(err, context.DeadlineExceeded) {
		err = &fleet.Error{Kind: fleet.KindOf(err), Msg: fmt.Sprintf("timed out after %s", opts.Timeout), Err: err}
	}
	return HostResult{
		Host:     h,
		Status:   status(res.ExitCode, err),
		ExitCode: res.ExitCode,
		Stdout:   stdout.bytes(),
		Stderr:   stderr.bytes(),
		Duration: res.Duration,
		Err:      err,
	}
}

func status(exit int, err error) Status {
	switch {
	case err == nil && exit == 0:
		return StatusOK
	case err == nil:
		return StatusFailed
	}
	switch fleet.KindOf(err) {
	case fleet.KindUnavailable, fleet.KindForbidden:
		return StatusUnreachable
	}
	return StatusFailed
}

// teeWriter copies to a tail and, when set, to a line splitter.
type teeWriter struct {
	t *tail
	l *lines
}

func tee(t *tail, l *lines) *teeWriter { return &teeWriter{t: t, l: l} }

func (w *teeWriter) Write(b []byte) (int, error) {
	w.t.Write(b)
	if w.l != nil {
		w.l.Write(b)
	}
	return len(b), nil
}

// tail keeps the last max bytes written to it.
type tail struct {
	max int
	buf []byte
}

func (t *tail) Write(b []byte) (int, error) {
	n := len(b)
	if len(b) > t.max {
		b = b[len(b)-t.max:]
	}
	t.buf = append(t.buf, b...)
	// Drop the head only once it is as large as what is kept, so that a
	// long output costs amortised constant time per byte.
	if len(t.buf) >= 2*t.max {
		t.buf = append(t.buf[:0], t.buf[len(t.buf)-t.max:]...)
	}
	return n, nil
}

func (t *tail) bytes() []byte {
	if len(t.buf) > t.max {
		return t.buf[len(t.buf)-t.max:]
	}
	return t.buf
}

// maxLine is where a line without a newline is cut, so that a command that
// prints megabytes on one line cannot grow memory without bound.
const maxLine = 64 << 10

// lines splits what is written to it into lines for emit.
type lines struct {
	emit    func(string)
	partial []byte
}

func (l *lines) Write(b []byte) (int, error) {
	n := len(b)
	for len(b) > 0 {
		i := bytes.IndexByte(b, '\n')
		if i < 0 {
			l.partial = append(l.partial, b...)
			for len(l.partial) >= maxLine {
				l.emit(string(l.partial[:maxLine]))
				l.partial = append(l.partial[:0], l.partial[maxLine:]...)
			}
			break
		}
		if len(l.partial) > 0 {
			l.partial = append(l.partial, b[:i]...)
			l.emit(string(l.partial))
			l.partial = l.partial[:0]
		} else {
			l.emit(string(b[:i]))
		}
		b = b[i+1:]
	}
	return n, nil
}

// flush emits a last line that lacked its newline.
func (l *lines) flush() {
	if l != nil && len(l.partial) > 0 {
		l.emit(string(l.partial))
		l.partial = nil
	}
}
