package deliver

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"net/smtp"
	"net/textproto"
	"time"

	"github.com/illico-dev/illico/internal/fleet"
)

// SMTP is a mail server to send through, one connection per message.
type SMTP struct {
	// Smarthost is host:port.
	Smarthost string
	// Username, when set, logs in with AUTH PLAIN, which net/smtp does only
	// over TLS or to localhost.
	Username string
	Password fleet.Secret
	// ImplicitTLS speaks TLS from the first byte (SMTPS), as port 465
	// always does; otherwise STARTTLS is used whenever the server offers it.
	ImplicitTLS bool
	// TLS is the client's TLS configuration; nil trusts the system's roots.
	TLS *tls.Config
	// Timeout bounds the whole exchange; when zero, the context's deadline
	// does, or else DefaultTimeout.
	Timeout time.Duration
}

// Send sends msg, a whole message with its headers, from one address to
// others. A 5xx answer, a bad smarthost or a refused login is permanent;
// the rest is worth another try. Its errors never hold the password.
func (s SMTP) Send(ctx context.Context, from string, to []string, msg []byte) error {
	host, port, err := net.SplitHostPort(s.Smarthost)
	if err != nil {
		return Permanent(fmt.Errorf("smtp: smarthost %q is not host:port", s.Smarthost))
	}
	if err := s.send(ctx, host, port == "465" || s.ImplicitTLS, from, to, msg); err != nil {
		return redacted{err: err, hide: []string{s.Password.Reveal()}}
	}
	return nil
}

func (s SMTP) send(ctx context.Context, host string, implicit bool, from string, to []string, msg []byte) error {
	ctx, cancel := withTimeout(ctx, s.Timeout)
	defer cancel()
	var d net.Dialer
	conn, err := d.DialContext(ctx, "tcp", s.Smarthost)
	if err != nil {
		return fmt.Errorf("smtp: %w", err)
	}
	defer conn.Close()
	dl, _ := ctx.Deadline()
	_ = conn.SetDeadline(dl)
	// net/smtp knows no context: an ended ctx ends the connection's I/O.
	stop := context.AfterFunc(ctx, func() { _ = conn.SetDeadline(time.Now()) })
	defer stop()
	tlsConfig := s.tlsConfig(host)
	if implicit {
		tc := tls.Client(conn, tlsConfig)
		if err := tc.HandshakeContext(ctx); err != nil {
			return fmt.Errorf("smtp %s: tls: %w", s.Smarthost, err)
		}
		conn = tc
	}
	c, err := smtp.NewClient(conn, host)
	if err != nil {
		return s.fail("greeting", err)
	}
	defer c.Close()
	if ok, _ := c.Extension("STARTTLS"); ok && !implicit {
		if err := c.StartTLS(tlsConfig); err != nil {
			return fmt.Errorf("smtp %s: starttls: %w", s.Smarthost, err)
		}
	}
	if s.Username != "" {
		if err := c.Auth(smtp.PlainAuth("", s.Username, s.Password.Reveal(), host)); err != nil {
			var ne net.Error
			if isReply(err) || errors.As(err, &ne) || errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
				return s.fail("log in as "+s.Username, err)
			}
			// net/smtp itself refused, as it does to send the password in
			// clear: another try changes nothing.
			return Permanent(fmt.Errorf("smtp %s: log in as %s: %w", s.Smarthost, s.Username, err))
		}
	}
	if err := c.Mail(from); err != nil {
		return s.fail("mail from", err)
	}
	for _, rcpt := range to {
		if err := c.Rcpt(rcpt); err != nil {
			return s.fail("recipient "+rcpt, err)
		}
	}
	w, err := c.Data()
	if err != nil {
		return s.fail("data", err)
	}
	if _, err := w.Write(msg); err != nil {
		return fmt.Errorf("smtp %s: write message: %w", s.Smarthost, err)
	}
	if err := w.Close(); err != nil {
		return s.fail("end of data", err)
	}
	// The message is accepted; a failed QUIT changes nothing.
	_ = c.Quit()
	return nil
}

func (s SMTP) tlsConfig(host string) *tls.Config {
	if s.TLS == nil {
		return &tls.Config{ServerName: host}
	}
	c := s.TLS.Clone()
	if c.ServerName == "" {
		c.ServerName = host
	}
	return c
}

// fail says at which stage the exchange failed; a 5xx answer is permanent.
func (s SMTP) fail(stage string, err error) error {
	err = fmt.Errorf("smtp %s: %s: %w", s.Smarthost, stage, err)
	var te *textproto.Error
	if errors.As(err, &te) && te.Code >= 500 {
		return Permanent(err)
	}
	return err
}

// isReply reports whether err is the server's answer.
func isReply(err error) bool {
	var te *textproto.Error
	return errors.As(err, &te)
}
