package alert

import (
	"context"
	"crypto/tls"
	"fmt"
	"mime"
	"net"
	"net/smtp"
	"strings"
	"time"
)

type email struct {
	cfg EmailConfig
}

func (e *email) send(ctx context.Context, n Notification) error {
	host, _, err := net.SplitHostPort(e.cfg.Smarthost)
	if err != nil {
		return permanent{fmt.Errorf("smarthost %q is not host:port", e.cfg.Smarthost)}
	}
	var d net.Dialer
	conn, err := d.DialContext(ctx, "tcp", e.cfg.Smarthost)
	if err != nil {
		return fmt.Errorf("smtp: %w", err)
	}
	defer conn.Close()
	if dl, ok := ctx.Deadline(); ok {
		_ = conn.SetDeadline(dl)
	}
	stop := context.AfterFunc(ctx, func() { _ = conn.SetDeadline(time.Now()) })
	defer stop()
	c, err := smtp.NewClient(conn, host)
	if err != nil {
		return fmt.Errorf("smtp %s: %w", e.cfg.Smarthost, err)
	}
	defer c.Close()
	if ok, _ := c.Extension("STARTTLS"); ok {
		if err := c.StartTLS(&tls.Config{ServerName: host}); err != nil {
			return fmt.Errorf("smtp %s: starttls: %w", e.cfg.Smarthost, err)
		}
	}
	if e.cfg.Username != "" {
		// PlainAuth refuses to send the password in clear to anything but
		// localhost, which is what we want.
		if err := c.Auth(smtp.PlainAuth("", e.cfg.Username, e.cfg.Password.Reveal(), host)); err != nil {
			return permanent{fmt.Errorf("smtp %s: log in as %s: %w", e.cfg.Smarthost, e.cfg.Username, err)}
		}
	}
	if err := c.Mail(e.cfg.From); err != nil {
		return fmt.Errorf("smtp %s: %w", e.cfg.Smarthost, err)
	}
	for _, to := range e.cfg.To {
		if err := c.Rcpt(to); err != nil {
			return fmt.Errorf("smtp %s: recipient %s: %w", e.cfg.Smarthost, to, err)
		}
	}
	w, err := c.Data()
	if err != nil {
		return fmt.Errorf("smtp %s: %w", e.cfg.Smarthost, err)
	}
	if _, err := w.Write(e.message(n)); err != nil {
		return fmt.Errorf("smtp %s: write message: %w", e.cfg.Smarthost, err)
	}
	if err := w.Close(); err != nil {
		return fmt.Errorf("smtp %s: %w", e.cfg.Smarthost, err)
	}
	return c.Quit()
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
