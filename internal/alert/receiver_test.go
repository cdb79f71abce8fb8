package alert

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/illico-dev/illico/internal/labels"
)

func sample() Notification {
	a := Alert{
		Labels:      labels.Set{LabelAlertname: DatacenterDown, LabelDatacenter: "rbx-2", LabelSite: "rbx"},
		Annotations: map[string]string{"summary": "datacenter rbx-2 (site rbx) is down: 100 of 100 hosts down"},
		StartsAt:    t0,
	}
	b := Alert{Labels: labels.Set{LabelAlertname: DatacenterDown, LabelDatacenter: "rbx-1", LabelSite: "rbx"}, StartsAt: t0, EndsAt: t0.Add(time.Minute)}
	return Notification{Receiver: "oncall", GroupKey: "oncall:{site=\"rbx\"}", GroupLabels: labels.Set{LabelSite: "rbx"}, At: t0.Add(time.Minute), Firing: []Alert{a}, Resolved: []Alert{b}}
}

// hook is an httptest server answering with the statuses given, then 200,
// and keeping what it was sent.
type hook struct {
	*httptest.Server
	mu       sync.Mutex
	bodies   [][]byte
	auth     []string
	statuses []int
}

func newHook(tb testing.TB, statuses ...int) *hook {
	tb.Helper()
	h := &hook{statuses: statuses}
	h.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		h.mu.Lock()
		defer h.mu.Unlock()
		h.bodies = append(h.bodies, b)
		h.auth = append(h.auth, r.Header.Get("Authorization"))
		if len(h.statuses) > 0 {
			w.WriteHeader(h.statuses[0])
			h.statuses = h.statuses[1:]
		}
	}))
	tb.Cleanup(h.Close)
	return h
}

func receiversOf(tb testing.TB, yaml string, log *bytes.Buffer) map[string]Notifier {
	tb.Helper()
	cfg, err := Load("alerts.yaml", []byte(yaml))
	if err != nil {
		tb.Fatal(err)
	}
	return Receivers(cfg, &http.Client{Timeout: 5 * time.Second}, slog.New(slog.NewTextHandler(log, nil)))
}

func TestWebhook(t *testing.T) {
	h := newHook(t, 503, 500)
	var log bytes.Buffer
	rs := receiversOf(t, fmt.Sprintf("route: {receiver: oncall}\nreceivers:\n  oncall:\n    webhook: {url: %q, bearer_token: hunter2}\n    backoff: 1ms\n", h.URL), &log)
	if err := Deliver(t.Context(), rs, []Notification{sample()}); err != nil {
		t.Fatal(err)
	}
	if len(h.bodies) != 3 {
		t.Fatalf("%d posts, want 3 (two failures, then success)", len(h.bodies))
	}
	if h.auth[2] != "Bearer hunter2" {
		t.Errorf("Authorization %q", h.auth[2])
	}
	var m map[string]any
	if err := json.Unmarshal(h.bodies[2], &m); err != nil {
		t.Fatal(err)
	}
	for key, want := range map[string]any{"version": "4", "status": "firing", "receiver": "oncall", "groupKey": `oncall:{site="rbx"}`} {
		if m[key] != want {
			t.Errorf("%s = %v, want %v", key, m[key], want)
		}
	}
	alerts := m["alerts"].([]any)
	first, second := alerts[0].(map[string]any), alerts[1].(map[string]any)
	if len(alerts) != 2 || first["status"] != "firing" || second["status"] != "resolved" || second["endsAt"] != "2026-11-21T03:01:00Z" ||
		first["labels"].(map[string]any)["datacenter"] != "rbx-2" || first["fingerprint"] == "" {
		t.Errorf("alerts: %s", h.bodies[2])
	}
	if cl := m["commonLabels"].(map[string]any); len(cl) != 2 || cl["site"] != "rbx" {
		t.Errorf("commonLabels %v", cl)
	}
	if !strings.Contains(log.String(), "will retry") || strings.Contains(log.String(), "hunter2") {
		t.Errorf("log:\n%s", log.String())
	}
}

func TestChat(t *testing.T) {
	t.Run("posts the text", func(t *testing.T) {
		h := newHook(t)
		rs := receiversOf(t, fmt.Sprintf("route: {receiver: c}\nreceivers:\n  c: {chat: {url: %q, channel: '#ops'}}\n", h.URL+"/services/T0/B0/token"), &bytes.Buffer{})
		if err := rs["c"].Notify(t.Context(), sample()); err != nil {
			t.Fatal(err)
		}
		var m chatMessage
		if err := json.Unmarshal(h.bodies[0], &m); err != nil {
			t.Fatal(err)
		}
		if m.Channel != "#ops" || !strings.Contains(m.Text, "[FIRING:1] site=rbx\ndown since 03:00:00: datacenter rbx-2 (site rbx) is down") ||
			!strings.Contains(m.Text, "back at 03:01:00: DatacenterDown") {
			t.Errorf("message %+v", m)
		}
	})
	t.Run("a refusal is not retried, and neither it nor the log shows the URL", func(t *testing.T) {
		h := newHook(t, 403, 403)
		var log bytes.Buffer
		rs := receiversOf(t, fmt.Sprintf("route: {receiver: c}\nreceivers:\n  c: {chat: {url: %q}, backoff: 1ms}\n", h.URL+"/services/T0/B0/s3cr3t"), &log)
		err := rs["c"].Notify(t.Context(), sample())
		if err == nil || len(h.bodies) != 1 {
			t.Fatalf("error %v after %d posts, want an error after 1", err, len(h.bodies))
		}
		if strings.Contains(err.Error(), "s3cr3t") || strings.Contains(log.String(), "s3cr3t") || !strings.Contains(err.Error(), "403") {
			t.Errorf("error %q, log %q", err, log.String())
		}
	})
	t.Run("an unreachable server is retried until attempts are spent", func(t *testing.T) {
		h := newHook(t)
		url := h.URL + "/services/T0/B0/s3cr3t"
		h.Close()
		var log bytes.Buffer
		rs := receiversOf(t, fmt.Sprintf("route: {receiver: c}\nreceivers:\n  c: {chat: {url: %q}, backoff: 1ms, attempts: 3}\n", url), &log)
		err := rs["c"].Notify(t.Context(), sample())
		if err == nil || strings.Count(log.String(), "will retry") != 2 {
			t.Fatalf("error %v, log:\n%s", err, log.String())
		}
		if strings.Contains(err.Error(), "s3cr3t") || strings.Contains(log.String(), "s3cr3t") {
			t.Errorf("the secret leaked: %v\n%s", err, log.String())
		}
	})
	t.Run("ctx ends the backoff", func(t *testing.T) {
		h := newHook(t, 500, 500, 500)
		rs := receiversOf(t, fmt.Sprintf("route: {receiver: c}\nreceivers:\n  c: {chat: {url: %q}, backoff: 1h}\n", h.URL), &bytes.Buffer{})
		ctx, cancel := context.WithTimeout(t.Context(), 50*time.Millisecond)
		defer cancel()
		if err := rs["c"].Notify(ctx, sample()); err == nil || !strings.Contains(err.Error(), "gave up") {
			t.Fatalf("error %v", err)
		}
	})
}

// smtpSink is an in-process SMTP server that keeps the messages it takes.
type smtpSink struct {
	addr     string
	mu       sync.Mutex
	messages []string
	rcpts    []string
	fails    atomic.Int32
}

func newSMTPSink(tb testing.TB, ip string, fails int32) *smtpSink {
	tb.Helper()
	l, err := net.Listen("tcp", net.JoinHostPort(ip, "0"))
	if err != nil {
		tb.Fatal(err)
	}
	s := &smtpSink{addr: l.Addr().String()}
	s.fails.Store(fails)
	var wg sync.WaitGroup
	tb.Cleanup(func() { l.Close(); wg.Wait() })
	wg.Go(func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			wg.Go(func() { s.serve(c) })
		}
	})
	return s
}

func (s *smtpSink) serve(c net.Conn) {
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(10 * time.Second))
	if s.fails.Add(-1) >= 0 {
		fmt.Fprint(c, "421 busy\r\n")
		return
	}
	r := bufio.NewReader(c)
	fmt.Fprint(c, "220 sink\r\n")
	for {
		line, err := r.ReadString('\n')
		if err != nil {
			return
		}
		cmd := strings.ToUpper(strings.TrimSpace(line))
		switch {
		case strings.HasPrefix(cmd, "EHLO"), strings.HasPrefix(cmd, "HELO"):
			fmt.Fprint(c, "250 sink\r\n")
		case strings.HasPrefix(cmd, "RCPT TO:"):
			s.mu.Lock()
			s.rcpts = append(s.rcpts, strings.TrimSpace(line[len("RCPT TO:"):]))
			s.mu.Unlock()
			fmt.Fprint(c, "250 ok\r\n")
		case cmd == "DATA":
			fmt.Fprint(c, "354 go on\r\n")
			var msg strings.Builder
			for {
				l, err := r.ReadString('\n')
				if err != nil {
					return
				}
				if l == ".\r\n" {
					break
				}
				msg.WriteString(l)
			}
			s.mu.Lock()
			s.messages = append(s.messages, msg.String())
			s.mu.Unlock()
			fmt.Fprint(c, "250 queued\r\n")
		case cmd == "QUIT":
			fmt.Fprint(c, "221 bye\r\n")
			return
		default:
			fmt.Fprint(c, "250 ok\r\n")
		}
	}
}

func TestEmail(t *testing.T) {
	sink := newSMTPSink(t, "127.0.0.1", 1)
	var log bytes.Buffer
	rs := receiversOf(t, fmt.Sprintf("route: {receiver: m}\nreceivers:\n  m:\n    email: {smarthost: %q, from: illico@example.com, to: [a@example.com, b@example.com]}\n    backoff: 1ms\n", sink.addr), &log)
	if err := rs["m"].Notify(t.Context(), sample()); err != nil {
		t.Fatal(err)
	}
	sink.mu.Lock()
	defer sink.mu.Unlock()
	if len(sink.messages) != 1 || strings.Join(sink.rcpts, " ") != "<a@example.com> <b@example.com>" {
		t.Fatalf("messages %q to %q", sink.messages, sink.rcpts)
	}
	msg := sink.messages[0]
	for _, want := range []string{"Subject: [FIRING:1] site=rbx\r\n", "To: a@example.com, b@example.com\r\n", "\r\n\r\n[FIRING:1] site=rbx\r\ndown since 03:00:00: datacenter rbx-2"} {
		if !strings.Contains(msg, want) {
			t.Errorf("message does not hold %q:\n%s", want, msg)
		}
	}
	if !strings.Contains(log.String(), "will retry") {
		t.Errorf("the busy server was not retried:\n%s", log.String())
	}
}

func TestEmailPasswordNeverInClear(t *testing.T) {
	// 127.0.0.2 is loopback, yet not a name net/smtp trusts with a
	// password over a connection without TLS.
	sink := newSMTPSink(t, "127.0.0.2", 0)
	rs := receiversOf(t, fmt.Sprintf("route: {receiver: m}\nreceivers:\n  m:\n    email: {smarthost: %q, from: illico@example.com, to: [a@example.com], username: illico, password: hunter2}\n    backoff: 1ms\n", sink.addr), &bytes.Buffer{})
	err := rs["m"].Notify(t.Context(), sample())
	if err == nil || !strings.Contains(err.Error(), "unencrypted") || strings.Contains(err.Error(), "hunter2") {
		t.Fatalf("error %v, want a refusal to log in without TLS that does not show the password", err)
	}
	sink.mu.Lock()
	defer sink.mu.Unlock()
	if len(sink.messages) != 0 {
		t.Errorf("a message was sent")
	}
}
