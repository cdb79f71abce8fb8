package notify_test

import (
	"io"
	"net"
	"net/textproto"
	"strings"
	"sync"
	"testing"
)

// sink is an SMTP server on loopback that keeps every message, by
// recipient.
type sink struct {
	ln   net.Listener
	mu   sync.Mutex
	msgs map[string][]string
	wg   sync.WaitGroup
}

func startSink(t testing.TB) *sink {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s := &sink{ln: ln, msgs: map[string][]string{}}
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

func (s *sink) addr() string { return s.ln.Addr().String() }

func (s *sink) serve(c net.Conn) {
	defer c.Close()
	tp := textproto.NewConn(c)
	tp.PrintfLine("220 sink ESMTP")
	var rcpt []string
	for {
		line, err := tp.ReadLine()
		if err != nil {
			return
		}
		verb := strings.ToUpper(strings.Fields(line + " x")[0])
		switch verb {
		case "EHLO", "HELO":
			tp.PrintfLine("250-sink\r\n250 8BITMIME")
		case "MAIL":
			rcpt = nil
			tp.PrintfLine("250 ok")
		case "RCPT":
			addr := strings.Trim(strings.TrimPrefix(strings.TrimPrefix(line, "RCPT TO:"), "rcpt to:"), "<> ")
			rcpt = append(rcpt, addr)
			tp.PrintfLine("250 ok")
		case "DATA":
			tp.PrintfLine("354 go on")
			data, err := io.ReadAll(tp.DotReader())
			if err != nil {
				return
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

func (s *sink) messages(to string) []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.msgs[to]...)
}

func (s *sink) counts() (addresses, total int, dup []string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for a, m := range s.msgs {
		total += len(m)
		if len(m) > 1 {
			dup = append(dup, a)
		}
	}
	return len(s.msgs), total, dup
}
