package alert

import (
	"context"
	"fmt"
	"mime"
	"strings"
	"time"

	"github.com/illico-dev/illico/internal/deliver"
)

type email struct {
	cfg  EmailConfig
	smtp deliver.SMTP
}

func newEmail(cfg EmailConfig) *email {
	return &email{cfg: cfg, smtp: deliver.SMTP{Smarthost: cfg.Smarthost, Username: cfg.Username, Password: cfg.Password}}
}

func (e *email) send(ctx context.Context, n Notification) error {
	return e.smtp.Send(ctx, e.cfg.From, e.cfg.To, e.message(n))
}

func (e *email) message(n Notification) []byte {
	var b strings.Builder
	fmt.Fprintf(&b, "From: %s\r\nTo: %s\r\n", e.cfg.From, strings.Join(e.cfg.To, ", "))
	fmt.Fprintf(&b, "Subject: %s\r\n", mime.QEncoding.Encode("utf-8", n.Title()))
	fmt.Fprintf(&b, "Date: %s\r\n", n.At.Format(time.RFC1123Z))
	b.WriteString("MIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n")
	b.WriteString(strings.ReplaceAll(n.Text(), "\n", "\r\n"))
	b.WriteString("\r\n")
	return []byte(b.String())
}
