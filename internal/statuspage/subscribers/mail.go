package subscribers

import (
	"bytes"
	"context"
	"fmt"
	"mime"
	"mime/quotedprintable"
	"net"
	"strings"
	"time"

	"github.com/illico-dev/illico/internal/deliver"
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
	smtp deliver.SMTP
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
	return &Mailer{cfg: cfg, host: host, now: now,
		smtp: deliver.SMTP{Smarthost: cfg.Smarthost, Username: cfg.Username, Password: cfg.Password}}, nil
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

// Send sends m. Its errors never hold the password.
func (m *Mailer) Send(ctx context.Context, msg Mail) error {
	return m.smtp.Send(ctx, m.cfg.From, []string{msg.To}, m.message(msg))
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
