// Package smtptest is an SMTP server on loopback for tests: it accepts every
// message and keeps it by recipient, so a test can count what each address
// received.
package smtptest

import (
	"io"
	"net"
	"net/textproto"
	"strings"
	"sync"
	"testing"
	"time"
)

// Sink is a running SMTP server.
type Sink struct {
	ln    net.Listener
	delay time.Duration
	mu    sync.Mutex
	msgs  map[string][]string
	wg    sync.WaitGroup
}

// Start runs a sink until the test ends. delay slows every DATA down, to
// stop a sender in the middle of a batch.
func Start(t testing.TB, delay time.Duration) *Sink {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s := &Sink{ln: ln, delay: delay, msgs: map[string][]string{}}
	s.wg.Go(func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			s.wg.Go(func() { s.serve(c) })
		}
	})
	t.Cleanup(func() { ln.Close(); s.wg.Wait() })
	return s
}

// Addr is the host:port to send to.
func (s *Sink) Addr() string { return s.ln.Addr().String() }

func (s *Sink) serve(c net.Conn) {
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(time.Minute))
	tp := textproto.NewConn(c)
	tp.PrintfLine("220 sink ESMTP")
	var rcpt []string
	for {
		line, err := tp.ReadLine()
		if err != nil {
			return
		}
		switch strings.ToUpper(strings.Fields(line + " x")[0]) {
		case "EHLO", "HELO":
			tp.PrintfLine("250-sink\r\n250 8BITMIME")
		case "MAIL":
			rcpt = nil
			tp.PrintfLine("250 ok")
		case "RCPT":
			_, addr, _ := strings.Cut(line, ":")
			rcpt = append(rcpt, strings.Trim(addr, "<> "))
			tp.PrintfLine("250 ok")
		case "DATA":
			tp.PrintfLine("354 go on")
			data, err := io.ReadAll(tp.DotReader())
			if err != nil {
				return
			}
			if s.delay > 0 {
				time.Sleep(s.delay)
			}
			s.mu.Lock()
			for _, r := range rcpt {
				s.msgs[r] = append(s.msgs[r], string(data))
			}
			s.mu.Unlock()
			tp.PrintfLine("250 queued")
		case "QUIT":
			tp.PrintfLine("221 bye")
			return
		default:
			tp.PrintfLine("250 ok")
		}
	}
}

// Messages returns what to received, oldest first.
func (s *Sink) Messages(to string) []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.msgs[to]...)
}

// Counts maps every recipient to the number of messages it received.
func (s *Sink) Counts() map[string]int {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := map[string]int{}
	for a, m := range s.msgs {
		out[a] = len(m)
	}
	return out
}
