package server_test

import (
	"io"
	"net"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/illico-dev/illico/internal/lab"
	"github.com/illico-dev/illico/internal/lab/labtest"
	"github.com/illico-dev/illico/internal/store/pgtest"
)

// cable is a TCP proxy between the replicas and their database, which the
// test cuts as a network partition would: every connection through it
// ends, and new ones are refused until it is mended.
type cable struct {
	t      *testing.T
	addr   string // where the replicas connect
	target string

	mu    sync.Mutex
	ln    net.Listener
	conns []net.Conn
}

// newCable proxies dsn's server, and returns the cable and the URL of the
// same database through it.
func newCable(t *testing.T, dsn string) (*cable, string) {
	t.Helper()
	u, err := url.Parse(dsn)
	if err != nil {
		t.Fatal(err)
	}
	c := &cable{t: t, target: u.Host}
	c.addr = freeAddr(t)
	c.mend()
	t.Cleanup(c.cut)
	u.Host = c.addr
	return c, u.String()
}

// mend listens again, on the same address.
func (c *cable) mend() {
	c.t.Helper()
	ln, err := net.Listen("tcp", c.addr)
	if err != nil {
		c.t.Fatal(err)
	}
	c.mu.Lock()
	c.ln = ln
	c.mu.Unlock()
	go func() {
		for {
			in, err := ln.Accept()
			if err != nil {
				return
			}
			out, err := net.Dial("tcp", c.target)
			if err != nil {
				in.Close()
				continue
			}
			c.mu.Lock()
			if c.ln != ln {
				c.mu.Unlock()
				in.Close()
				out.Close()
				return
			}
			c.conns = append(c.conns, in, out)
			c.mu.Unlock()
			go func() { io.Copy(out, in); out.Close() }()
			go func() { io.Copy(in, out); in.Close() }()
		}
	}()
}

// cut closes the listener and every connection through it.
func (c *cable) cut() {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.ln != nil {
		c.ln.Close()
		c.ln = nil
	}
	for _, conn := range c.conns {
		conn.Close()
	}
	c.conns = nil
}

// The database unreachable for longer than the leader's lease: every
// replica, the leader too, goes on answering its status page, the leader
// stops acting at once and stops its daemon only once the database is
// back; started again, the replicas elect a leader.
func TestDatabaseOutage(t *testing.T) {
	if testing.Short() {
		t.Skip("slow: builds illico and runs two replicas on PostgreSQL, whose database the test cuts off")
	}
	bin := buildIllico(t)
	l := labtest.Start(t, lab.Options{Hosts: 2})
	cab, dsn := newCable(t, pgtest.Start(t))
	inv := l.Info().Files.Inventory
	reps, _ := startReplicas(t, bin, dsn, []string{inv, inv}, nil)
	lead, err := awaitLeader(reps, 10*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	pages := pollStatusPages(reps)

	cab.cut()
	// Past the lease (6 s) and a few campaigns of the other replica.
	time.Sleep(15 * time.Second)
	if code := lead.wait(0); code != -1 {
		t.Errorf("%s, which led, exited %d while the database was unreachable: its status page went with it", lead.name, code)
	}
	if log := lead.logTail(); !strings.Contains(log, "lost the leadership") {
		t.Errorf("%s's log does not say it lost the leadership:\n%s", lead.name, log)
	}

	// The pages are counted up to the mend: the old leader stops once the
	// database is back, which its supervisor, and the load balancer in
	// front of the replicas, see to.
	ok, bad, failures := pages.end()
	t.Logf("status page requests during the outage: %d, not 200: %d", ok+bad, bad)
	if bad != 0 || ok == 0 {
		t.Errorf("%d of %d requests to the status pages did not answer 200: %s", bad, ok+bad, strings.Join(failures, "; "))
	}
	cab.mend()
	code := lead.wait(30 * time.Second)
	if code <= 0 {
		t.Errorf("%s, which lost the leadership, exited %d after the database came back, want a failure for its supervisor", lead.name, code)
	}
	if code > 0 {
		lead.restart()
	}
	if _, err := awaitLeader(reps, 20*time.Second); err != nil {
		t.Error(err)
	}
	if t.Failed() {
		for _, r := range reps {
			t.Logf("log of %s:\n%s", r.name, r.logTail())
		}
	}
}
