package notify

import (
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"mime"
	"mime/quotedprintable"
	"net"
	"net/smtp"
	"net/textproto"
	"strings"
	"time"

	"github.com/illico-dev/illico/internal/fleet"
)

// MailConfig says how to reach the SMTP server.
type MailConfig struct {
	// Smarthost is host:port.
	Smarthost string
	// From is the sender's address.
	From     string
	Username string
	Password fleet.Secret
}

// Mailer sends e-mail through an SMTP server, one connection per message.
type Mailer struct {
	cfg  MailConfig
	host string
	now  func() time.Time
}

// NewMailer returns a Mailer; now stamps the Date header (time.Now when nil).
func NewMailer(cfg MailConfig, now func() time.Time) (*Mailer, error) {
	host, _, err := net.SplitHostPort(cfg.Smarthost)
	if err != nil {
		return nil, fleet.Errorf(fleet.KindInvalid, "mail: smarthost %q is not host:port", cfg.Smarthost)
	}
	if strings.ContainsAny(cfg.From, "\r\n<>") || !strings.Contains(cfg.From, "@") {
		return nil, fleet.Errorf(fleet.KindInvalid, "mail: from %q is not a plain address", cfg.From)
	}
	if now == nil {
		now = time.Now
	}
	return &Mailer{cfg: cfg, host: host, now: now}, nil
}

// Mail is one message.
type Mail struct {
	To, Subject, Body string
	// MessageID identifies the message; a message sent again after a crash
	// keeps it, so that mail clients can fold the copies.
	MessageID string
	// Unsubscribe, when set, is the one-click unsubscribe link (RFC 8058).
	Unsubscribe string
}

// permanent marks an error another try cannot fix: a 5xx SMTP answer, a 4xx
// HTTP one.
type permanent struct{ err error }

func (p permanent) Error() string { return p.err.Error() }
func (p permanent) Unwrap() error { return p.err }

// Send sends m. Its errors never hold the password.
func (m *Mailer) Send(ctx context.Context, msg Mail) error {
	var d net.Dialer
	conn, err := d.DialContext(ctx, "tcp", m.cfg.Smarthost)
	if err != nil {
		return fmt.Errorf("smtp: %w", err)
	}
	defer conn.Close()
	if dl, ok := ctx.Deadline(); ok {
		_ = conn.SetDeadline(dl)
	}
	stop := context.AfterFunc(ctx, func() { _ = conn.SetDeadline(time.Now()) })
	defer stop()
	c, err := smtp.NewClient(conn, m.host)
	if err != nil {
		return smtpError("greeting", err)
	}
	defer c.Close()
	if ok, _ := c.Extension("STARTTLS"); ok {
		if err := c.StartTLS(&tls.Config{ServerName: m.host}); err != nil {
			return fmt.Errorf("smtp %s: starttls: %w", m.cfg.Smarthost, err)
		}
	}
	if m.cfg.Username != "" {
		// PlainAuth sends the password only over TLS or to localhost.
		if err := c.Auth(smtp.PlainAuth("", m.cfg.Username, m.cfg.Password.Reveal(), m.host)); err != nil {
			return permanent{fmt.Errorf("smtp %s: log in as %s: %w", m.cfg.Smarthost, m.cfg.Username, err)}
		}
	}
	if err := c.Mail(m.cfg.From); err != nil {
		return smtpError("mail from", err)
	}
	if err := c.Rcpt(msg.To); err != nil {
		return smtpError("recipient", err)
	}
	w, err := c.Data()
	if err != nil {
		return smtpError("data", err)
	}
	if _, err := w.Write(m.message(msg)); err != nil {
		return fmt.Errorf("smtp: write message: %w", err)
	}
	if err := w.Close(); err != nil {
		return smtpError("end of data", err)
	}
	// The message is accepted; a failed QUIT changes nothing.
	_ = c.Quit()
	return nil
}

// smtpError marks 5xx answers permanent.
func smtpError(stage string, err error) error {
	var te *textproto.Error
	if errors.As(err, &te) && te.Code >= 500 {
		return permanent{fmt.Errorf("smtp %s: %w", stage, err)}
	}
	return fmt.Errorf("smtp %s: %w", stage, err)
}

// oneLine keeps a header value on its line.
func oneLine(s string) string {
	return strings.Join(strings.Fields(s), " ")
}

func (m *Mailer) message(msg Mail) []byte {
	var b bytes.Buffer
	fmt.Fprintf(&b, "From: %s\r\nTo: %s\r\n", m.cfg.From, oneLine(msg.To))
	fmt.Fprintf(&b, "Subject: %s\r\n", mime.QEncoding.Encode("utf-8", oneLine(msg.Subject)))
	fmt.Fprintf(&b, "Date: %s\r\n", m.now().Format(time.RFC1123Z))
	if msg.MessageID != "" {
		fmt.Fprintf(&b, "Message-ID: <%s@%s>\r\n", oneLine(msg.MessageID), m.host)
	}
	if msg.Unsubscribe != "" {
		fmt.Fprintf(&b, "List-Unsubscribe: <%s>\r\nList-Unsubscribe-Post: List-Unsubscribe=One-Click\r\n", oneLine(msg.Unsubscribe))
	}
	b.WriteString("Auto-Submitted: auto-generated\r\nMIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\n")
	qp := quotedprintable.NewWriter(&b)
	_, _ = qp.Write([]byte(strings.ReplaceAll(strings.ReplaceAll(msg.Body, "\r\n", "\n"), "\n", "\r\n")))
	_ = qp.Close()
	b.WriteString("\r\n")
	return b.Bytes()
}
