// Package smtptest is an SMTP server on loopback for tests: it accepts every
// message and keeps it by recipient, so a test can count what each address
// received. It can also speak TLS, take logins and refuse commands, to test
// a client's side of those.
package smtptest

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"io"
	"math/big"
	"mime/quotedprintable"
	"net"
	"net/textproto"
	"strings"
	"sync"
	"testing"
	"time"
)

// Options say how a sink behaves; the zero value is a plain sink on
// 127.0.0.1 that takes everything.
type Options struct {
	// IP is the loopback address to listen on (127.0.0.1).
	IP string
	// Delay slows every DATA down, to stop a sender in the middle of a
	// batch.
	Delay time.Duration
	// TLS is "starttls" to offer STARTTLS, or "implicit" to speak TLS from
	// the first byte, with a certificate that ClientTLS trusts.
	TLS string
	// Auth offers AUTH PLAIN; Logins tells what it was given.
	Auth bool
	// Replies answer the commands named, like "RCPT", with the line given,
	// like "550 no such user", instead of accepting them.
	Replies map[string]string
}

// Sink is a running SMTP server.
type Sink struct {
	ln     net.Listener
	o      Options
	tls    *tls.Config
	roots  *x509.CertPool
	mu     sync.Mutex
	msgs   map[string][]string
	logins []Login
	wg     sync.WaitGroup
}

// Login is what a client gave to AUTH PLAIN.
type Login struct {
	Username, Password string
	// TLS tells whether the connection was encrypted.
	TLS bool
}

// Start runs a plain sink until the test ends; delay slows every DATA down.
func Start(t testing.TB, delay time.Duration) *Sink {
	t.Helper()
	return StartWith(t, Options{Delay: delay})
}

// StartWith runs a sink with o until the test ends.
func StartWith(t testing.TB, o Options) *Sink {
	t.Helper()
	if o.IP == "" {
		o.IP = "127.0.0.1"
	}
	s := &Sink{o: o, msgs: map[string][]string{}}
	if o.TLS != "" {
		s.tls, s.roots = selfSigned(t, o.IP)
	}
	ln, err := net.Listen("tcp", net.JoinHostPort(o.IP, "0"))
	if err != nil {
		t.Fatal(err)
	}
	s.ln = ln
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

// selfSigned makes a certificate for ip and the pool that trusts it.
func selfSigned(t testing.TB, ip string) (*tls.Config, *x509.CertPool) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "smtptest"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IPAddresses: []net.IP{net.ParseIP(ip)}, DNSNames: []string{"localhost"},
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		BasicConstraintsValid: true, IsCA: true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	roots := x509.NewCertPool()
	roots.AddCert(cert)
	return &tls.Config{Certificates: []tls.Certificate{{Certificate: [][]byte{der}, PrivateKey: key}}}, roots
}

// Addr is the host:port to send to.
func (s *Sink) Addr() string { return s.ln.Addr().String() }

// ClientTLS is a client configuration that trusts the sink's certificate.
func (s *Sink) ClientTLS() *tls.Config { return &tls.Config{RootCAs: s.roots} }

func (s *Sink) serve(c net.Conn) {
	defer func() { c.Close() }()
	_ = c.SetDeadline(time.Now().Add(time.Minute))
	encrypted := s.o.TLS == "implicit"
	if encrypted {
		c = tls.Server(c, s.tls)
	}
	tp := textproto.NewConn(c)
	tp.PrintfLine("220 sink ESMTP")
	var rcpt []string
	for {
		line, err := tp.ReadLine()
		if err != nil {
			return
		}
		verb := strings.ToUpper(strings.Fields(line + " x")[0])
		if r, ok := s.o.Replies[verb]; ok {
			tp.PrintfLine("%s", r)
			continue
		}
		switch verb {
		case "EHLO", "HELO":
			ext := []string{"sink", "8BITMIME"}
			if s.o.TLS == "starttls" && !encrypted {
				ext = append(ext, "STARTTLS")
			}
			if s.o.Auth {
				ext = append(ext, "AUTH PLAIN")
			}
			for _, e := range ext[:len(ext)-1] {
				tp.PrintfLine("250-%s", e)
			}
			tp.PrintfLine("250 %s", ext[len(ext)-1])
		case "STARTTLS":
			if s.o.TLS != "starttls" || encrypted {
				tp.PrintfLine("502 no")
				continue
			}
			tp.PrintfLine("220 go ahead")
			c = tls.Server(c, s.tls)
			tp = textproto.NewConn(c)
			encrypted = true
		case "AUTH":
			s.auth(tp, line, encrypted)
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
			if s.o.Delay > 0 {
				time.Sleep(s.o.Delay)
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

// auth takes AUTH PLAIN with its initial response, as net/smtp sends it.
func (s *Sink) auth(tp *textproto.Conn, line string, encrypted bool) {
	f := strings.Fields(line)
	if !s.o.Auth || len(f) != 3 || !strings.EqualFold(f[1], "PLAIN") {
		tp.PrintfLine("504 unsupported")
		return
	}
	b, err := base64.StdEncoding.DecodeString(f[2])
	parts := strings.Split(string(b), "\x00")
	if err != nil || len(parts) != 3 {
		tp.PrintfLine("501 malformed")
		return
	}
	s.mu.Lock()
	s.logins = append(s.logins, Login{Username: parts[1], Password: parts[2], TLS: encrypted})
	s.mu.Unlock()
	tp.PrintfLine("235 ok")
}

// Messages returns what to received, oldest first.
func (s *Sink) Messages(to string) []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.msgs[to]...)
}

// Logins returns the logins the sink took, oldest first.
func (s *Sink) Logins() []Login {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Login(nil), s.logins...)
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

// Body decodes the quoted-printable body of a mail the sink received.
func Body(t testing.TB, mail string) string {
	t.Helper()
	_, b, ok := strings.Cut(mail, "\n\n") // the sink reads lines without their CR
	if !ok {
		t.Fatalf("no body in:\n%s", mail)
	}
	out, err := io.ReadAll(quotedprintable.NewReader(strings.NewReader(b)))
	if err != nil {
		t.Fatalf("mail body: %v", err)
	}
	return string(out)
}
