package deliver

import (
	"context"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/illico-dev/illico/internal/deliver/smtptest"
)

const password = "hunter2hunter2"

func message(to string) []byte {
	return []byte("From: illico@example.net\r\nTo: " + to + "\r\nSubject: test\r\n\r\nhello\r\n")
}

func TestSMTPSends(t *testing.T) {
	tests := []struct {
		name string
		// The sink listens on 127.0.0.2 when it takes logins: net/smtp
		// trusts only the names of localhost with a password in clear.
		o      smtptest.Options
		login  bool
		secure bool
	}{
		{"plain", smtptest.Options{}, false, false},
		{"starttls", smtptest.Options{TLS: "starttls"}, false, true},
		{"starttls and login", smtptest.Options{IP: "127.0.0.2", TLS: "starttls", Auth: true}, true, true},
		{"implicit tls and login", smtptest.Options{IP: "127.0.0.2", TLS: "implicit", Auth: true}, true, true},
		{"login in clear to localhost", smtptest.Options{Auth: true}, true, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			sink := smtptest.StartWith(t, tt.o)
			s := SMTP{Smarthost: sink.Addr(), ImplicitTLS: tt.o.TLS == "implicit", TLS: sink.ClientTLS()}
			if tt.login {
				s.Username, s.Password = "illico", password
			}
			if err := s.Send(t.Context(), "illico@example.net", []string{"a@example.net", "b@example.net"}, message("a@example.net")); err != nil {
				t.Fatal(err)
			}
			for _, to := range []string{"a@example.net", "b@example.net"} {
				if m := sink.Messages(to); len(m) != 1 || !strings.Contains(m[0], "hello") {
					t.Errorf("%s received %q", to, m)
				}
			}
			logins := sink.Logins()
			if !tt.login {
				if len(logins) != 0 {
					t.Errorf("logins %+v, want none", logins)
				}
				return
			}
			if len(logins) != 1 || logins[0] != (smtptest.Login{Username: "illico", Password: password, TLS: tt.secure}) {
				t.Errorf("logins %+v", logins)
			}
		})
	}
}

func TestSMTPFailures(t *testing.T) {
	tests := []struct {
		name      string
		o         smtptest.Options
		smtp      func(sink *smtptest.Sink) SMTP
		permanent bool
		says      string
	}{
		{"no password in clear", smtptest.Options{IP: "127.0.0.2", Auth: true},
			func(sink *smtptest.Sink) SMTP {
				return SMTP{Smarthost: sink.Addr(), Username: "illico", Password: password}
			}, true, "unencrypted"},
		{"a refused login echoing the password", smtptest.Options{IP: "127.0.0.2", TLS: "starttls", Auth: true, Replies: map[string]string{"AUTH": "535 bad password " + password}},
			func(sink *smtptest.Sink) SMTP {
				return SMTP{Smarthost: sink.Addr(), Username: "illico", Password: password, TLS: sink.ClientTLS()}
			}, true, "bad password <secret>"},
		{"a login put off", smtptest.Options{IP: "127.0.0.2", TLS: "starttls", Auth: true, Replies: map[string]string{"AUTH": "454 try later"}},
			func(sink *smtptest.Sink) SMTP {
				return SMTP{Smarthost: sink.Addr(), Username: "illico", Password: password, TLS: sink.ClientTLS()}
			}, false, "log in as illico: 454"},
		{"an untrusted certificate", smtptest.Options{TLS: "starttls"},
			func(sink *smtptest.Sink) SMTP { return SMTP{Smarthost: sink.Addr()} }, false, "starttls"},
		{"an unknown recipient", smtptest.Options{Replies: map[string]string{"RCPT": "550 no such user"}},
			func(sink *smtptest.Sink) SMTP { return SMTP{Smarthost: sink.Addr()} }, true, "recipient a@example.net: 550"},
		{"a full mailbox, for now", smtptest.Options{Replies: map[string]string{"RCPT": "452 mailbox full"}},
			func(sink *smtptest.Sink) SMTP { return SMTP{Smarthost: sink.Addr()} }, false, "recipient a@example.net: 452"},
		{"a refused sender", smtptest.Options{Replies: map[string]string{"MAIL": "553 not you"}},
			func(sink *smtptest.Sink) SMTP { return SMTP{Smarthost: sink.Addr()} }, true, "mail from: 553"},
		{"a bad smarthost", smtptest.Options{},
			func(*smtptest.Sink) SMTP { return SMTP{Smarthost: "smtp.example.net"} }, true, `smarthost "smtp.example.net" is not host:port`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			sink := smtptest.StartWith(t, tt.o)
			err := tt.smtp(sink).Send(t.Context(), "illico@example.net", []string{"a@example.net"}, message("a@example.net"))
			if err == nil || IsPermanent(err) != tt.permanent || !strings.Contains(err.Error(), tt.says) {
				t.Fatalf("error %v (permanent %v), want one saying %q, permanent %v", err, IsPermanent(err), tt.says, tt.permanent)
			}
			if strings.Contains(err.Error(), password) {
				t.Errorf("error %q shows the password", err)
			}
			if n := len(sink.Messages("a@example.net")); n != 0 {
				t.Errorf("%d messages sent", n)
			}
		})
	}
}

// silent accepts connections and says nothing, like a server that hangs.
func silent(tb testing.TB) string {
	tb.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	var wg sync.WaitGroup
	var mu sync.Mutex
	var conns []net.Conn
	wg.Go(func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			conns = append(conns, c)
			mu.Unlock()
		}
	})
	tb.Cleanup(func() {
		ln.Close()
		wg.Wait()
		for _, c := range conns {
			c.Close()
		}
	})
	return ln.Addr().String()
}

func TestSMTPIsBoundedInTime(t *testing.T) {
	addr := silent(t)
	t.Run("by its timeout", func(t *testing.T) {
		err := SMTP{Smarthost: addr, Timeout: 50 * time.Millisecond}.Send(t.Context(), "illico@example.net", []string{"a@example.net"}, message("a"))
		if err == nil || IsPermanent(err) {
			t.Fatalf("error %v, want a temporary one", err)
		}
	})
	t.Run("by its context", func(t *testing.T) {
		ctx, cancel := context.WithCancel(t.Context())
		time.AfterFunc(50*time.Millisecond, cancel)
		err := SMTP{Smarthost: addr}.Send(ctx, "illico@example.net", []string{"a@example.net"}, message("a"))
		if err == nil || IsPermanent(err) {
			t.Fatalf("error %v, want a temporary one", err)
		}
	})
	t.Run("in the TLS handshake", func(t *testing.T) {
		err := SMTP{Smarthost: addr, ImplicitTLS: true, Timeout: 50 * time.Millisecond}.Send(t.Context(), "illico@example.net", []string{"a@example.net"}, message("a"))
		if err == nil || !strings.Contains(err.Error(), "tls") {
			t.Fatalf("error %v, want a TLS timeout", err)
		}
	})
}
