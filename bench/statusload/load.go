package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/url"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

// options say what to load, how hard and how long.
type options struct {
	url        string
	clients    int
	duration   time.Duration
	revalidate float64
}

// maxClients and maxDuration bound a run, whatever the command line says.
const (
	maxClients  = 4096
	maxDuration = 10 * time.Minute
)

func (o options) check() error {
	u, err := url.Parse(o.url)
	if err != nil || u.Scheme != "http" || u.Port() == "" {
		return fmt.Errorf("-url %q: expected http://HOST:PORT/PATH", o.url)
	}
	ip := net.ParseIP(u.Hostname())
	if ip == nil || !ip.IsLoopback() {
		return fmt.Errorf("-url %q: the host must be a loopback address, like 127.0.0.1", o.url)
	}
	switch {
	case o.clients < 1 || o.clients > maxClients:
		return fmt.Errorf("-clients %d: expected 1 to %d", o.clients, maxClients)
	case o.duration <= 0 || o.duration > maxDuration:
		return fmt.Errorf("-duration %s: expected more than 0 and at most %s", o.duration, maxDuration)
	case o.revalidate < 0 || o.revalidate > 1:
		return fmt.Errorf("-revalidate %g: expected a share from 0 to 1", o.revalidate)
	}
	return nil
}

// result is what a run measured, over every client.
type result struct {
	path        string
	clients     int
	elapsed     time.Duration
	latencies   []time.Duration // of the answered requests, sorted
	ok, notMod  int
	bytes       int64
	errors      int
	firstErr    string
	revalidated int // clients that sent If-None-Match
	cpu         time.Duration
}

// line is the result as key=value pairs, for scripts to read.
func (r result) line() string {
	pct := func(p int) string {
		if len(r.latencies) == 0 {
			return "-"
		}
		return ms(r.latencies[min(len(r.latencies)-1, len(r.latencies)*p/100)])
	}
	maxLat := "-"
	if len(r.latencies) > 0 {
		maxLat = ms(r.latencies[len(r.latencies)-1])
	}
	n := len(r.latencies)
	return fmt.Sprintf("path=%s clients=%d revalidating=%d gomaxprocs=%d seconds=%.1f cpu_s=%.1f requests=%d rps=%.0f p50_ms=%s p99_ms=%s max_ms=%s ok=%d not_modified=%d errors=%d bytes_per_ok=%d",
		r.path, r.clients, r.revalidated, runtime.GOMAXPROCS(0), r.elapsed.Seconds(), r.cpu.Seconds(), n, float64(n)/r.elapsed.Seconds(),
		pct(50), pct(99), maxLat, r.ok, r.notMod, r.errors, r.bytes/int64(max(r.ok, 1)))
}

func ms(d time.Duration) string {
	return strconv.FormatFloat(float64(d.Microseconds())/1000, 'f', 2, 64)
}

// load runs o.clients clients until o.duration has passed or ctx ends.
func load(ctx context.Context, o options) (result, error) {
	u, err := url.Parse(o.url)
	if err != nil {
		return result{}, err
	}
	path := u.RequestURI()
	ctx, cancel := context.WithTimeout(ctx, o.duration)
	defer cancel()
	revalidating := int(float64(o.clients)*o.revalidate + 0.5)
	stats := make([]clientStats, o.clients)
	var wg sync.WaitGroup
	cpu0, err := cpuTime()
	if err != nil {
		return result{}, err
	}
	start := time.Now()
	for i := range o.clients {
		c := &client{addr: u.Host, host: u.Host, path: path, revalidate: i < revalidating}
		wg.Go(func() { stats[i] = c.run(ctx) })
	}
	wg.Wait()
	r := result{path: path, clients: o.clients, elapsed: time.Since(start), revalidated: revalidating}
	cpu1, err := cpuTime()
	if err != nil {
		return result{}, err
	}
	r.cpu = cpu1 - cpu0
	for _, s := range stats {
		r.latencies = append(r.latencies, s.latencies...)
		r.ok += s.ok
		r.notMod += s.notMod
		r.bytes += s.bytes
		r.errors += s.errors
		if r.firstErr == "" && s.firstErr != nil {
			r.firstErr = s.firstErr.Error()
		}
	}
	slices.Sort(r.latencies)
	return r, nil
}

// client is one keep-alive connection's worth of requests, one after the
// other, reconnecting after an error.
type client struct {
	addr, host, path string
	revalidate       bool
	etag             string
}

type clientStats struct {
	latencies  []time.Duration
	ok, notMod int
	bytes      int64
	errors     int
	firstErr   error
}

// requestTimeout bounds one request: a server that holds it longer has
// failed it.
const requestTimeout = 5 * time.Second

// errPause is how long a client waits after an error before it reconnects,
// so that a server that refuses connections is not spun against.
const errPause = 10 * time.Millisecond

func (c *client) run(ctx context.Context) clientStats {
	var s clientStats
	s.latencies = make([]time.Duration, 0, 1<<14)
	var conn net.Conn
	var r *bufio.Reader
	fail := func(err error) {
		s.errors++
		if s.firstErr == nil {
			s.firstErr = err
		}
		if conn != nil {
			conn.Close()
			conn = nil
		}
		select {
		case <-ctx.Done():
		case <-time.After(errPause):
		}
	}
	defer func() {
		if conn != nil {
			conn.Close()
		}
	}()
	var d net.Dialer
	for ctx.Err() == nil {
		if conn == nil {
			var err error
			if conn, err = d.DialContext(ctx, "tcp", c.addr); err != nil {
				if ctx.Err() == nil {
					fail(fmt.Errorf("connect: %w", err))
				}
				continue
			}
			r = bufio.NewReaderSize(conn, 64<<10)
		}
		end, _ := ctx.Deadline()
		limit := time.Now().Add(requestTimeout)
		if end.Before(limit) {
			limit = end
		}
		if err := conn.SetDeadline(limit); err != nil {
			fail(err)
			continue
		}
		t0 := time.Now()
		a, err := c.do(conn, r)
		if err != nil {
			// A request cut by the end of the run is not the server's error.
			if ctx.Err() == nil && time.Now().Before(end) {
				fail(err)
			}
			continue
		}
		s.latencies = append(s.latencies, time.Since(t0))
		switch a.status {
		case 200:
			s.ok++
			s.bytes += a.length
		case 304:
			s.notMod++
		}
		if a.close {
			conn.Close()
			conn = nil
		}
	}
	return s
}

// answer is what a client reads of a response.
type answer struct {
	status int
	length int64
	close  bool
}

// do sends one request and reads its whole answer.
func (c *client) do(conn net.Conn, r *bufio.Reader) (answer, error) {
	var b strings.Builder
	fmt.Fprintf(&b, "GET %s HTTP/1.1\r\nHost: %s\r\nUser-Agent: illico-statusload\r\nAccept: */*\r\nAccept-Encoding: gzip, deflate, br\r\nAccept-Language: en-GB,en;q=0.9\r\n", c.path, c.host)
	if c.revalidate && c.etag != "" {
		fmt.Fprintf(&b, "If-None-Match: %s\r\n", c.etag)
	}
	b.WriteString("\r\n")
	if _, err := io.WriteString(conn, b.String()); err != nil {
		return answer{}, fmt.Errorf("send: %w", err)
	}
	line, err := r.ReadString('\n')
	if err != nil {
		return answer{}, fmt.Errorf("read status: %w", err)
	}
	proto, rest, _ := strings.Cut(strings.TrimRight(line, "\r\n"), " ")
	code, _, _ := strings.Cut(rest, " ")
	status, err := strconv.Atoi(code)
	if !strings.HasPrefix(proto, "HTTP/1.") || err != nil {
		return answer{}, fmt.Errorf("not an HTTP/1 status line: %q", line)
	}
	a := answer{status: status, length: -1}
	var gzipped bool
	var etag string
	for n := 0; ; n++ {
		if n > 100 {
			return answer{}, errors.New("more than 100 header lines")
		}
		line, err := r.ReadString('\n')
		if err != nil {
			return answer{}, fmt.Errorf("read header: %w", err)
		}
		if line == "\r\n" {
			break
		}
		k, v, _ := strings.Cut(line, ":")
		v = strings.TrimSpace(v)
		switch strings.ToLower(k) {
		case "content-length":
			if a.length, err = strconv.ParseInt(v, 10, 64); err != nil || a.length < 0 {
				return answer{}, fmt.Errorf("bad Content-Length %q", v)
			}
		case "content-encoding":
			gzipped = v == "gzip"
		case "etag":
			etag = v
		case "connection":
			a.close = strings.EqualFold(v, "close")
		case "transfer-encoding":
			return answer{}, fmt.Errorf("a body in Transfer-Encoding %s, which this client does not read", v)
		}
	}
	if status == 304 {
		return a, nil
	}
	if a.length < 0 {
		return answer{}, fmt.Errorf("a %d without Content-Length", status)
	}
	if _, err := io.CopyN(io.Discard, r, a.length); err != nil {
		return answer{}, fmt.Errorf("read body: %w", err)
	}
	if status != 200 {
		return answer{}, fmt.Errorf("answer %d", status)
	}
	if !gzipped {
		return answer{}, errors.New("a 200 without Content-Encoding: gzip")
	}
	if etag != "" {
		c.etag = etag
	}
	return a, nil
}

// cpuTime is the CPU this process has used so far, user and system: what
// the load took of the cores it shares with the server.
func cpuTime() (time.Duration, error) {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0, fmt.Errorf("getrusage: %w", err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano()), nil
}
