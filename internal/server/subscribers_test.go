package server_test

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"mime"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/illico-dev/illico/internal/clientip"
	"github.com/illico-dev/illico/internal/deliver/smtptest"
	"github.com/illico-dev/illico/internal/fleet"
	"github.com/illico-dev/illico/internal/server"
	"github.com/illico-dev/illico/internal/server/servertest"
	"github.com/illico-dev/illico/internal/statuspage/site"
	"github.com/illico-dev/illico/internal/statuspage/subscribers"
	"github.com/illico-dev/illico/internal/store"
	"github.com/illico-dev/illico/internal/store/pgtest"
)

// subsDaemon is a daemon with its status page and subscribers.
type subsDaemon struct {
	publicDaemon
	stop func()
	logs *servertest.Buffer
}

// startSubscribers starts a daemon on st whose subscribers are mailed
// through sink; stop ends it, and the test's end does if stop was not
// called. oldKeyFile is where the link key was kept before the store had
// it, usually nowhere.
func startSubscribers(t testing.TB, st *store.Store, sink *smtptest.Sink, oldKeyFile string, rate subscribers.Rate) subsDaemon {
	t.Helper()
	return startSubscribersBehind(t, st, sink, oldKeyFile, rate, nil)
}

// startSubscribersBehind is startSubscribers behind the reverse proxies
// proxies.
func startSubscribersBehind(t testing.TB, st *store.Store, sink *smtptest.Sink, oldKeyFile string, rate subscribers.Rate, proxies clientip.Trusted) subsDaemon {
	t.Helper()
	stderr, logs := &servertest.Buffer{}, &servertest.Buffer{}
	// The public URL is known only once listening: a free port is picked
	// first, and given to the daemon.
	probe, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	public := probe.Addr().String()
	probe.Close()
	srv, err := server.New(server.Options{
		Logger: slog.New(slog.NewTextHandler(logs, nil)), Store: st, Inventory: inventoryCopy(t),
		Listen: "127.0.0.1:0", PublicListen: public, AdminTokenOut: stderr, TrustedProxies: proxies,
		Subscribers: &site.SubscriberOptions{
			PublicURL: "http://" + public, Mail: subscribers.MailConfig{Smarthost: sink.Addr(), From: "status@example.net"},
			OldKeyFile: oldKeyFile, AllowPrivateWebhooks: true, Poll: 50 * time.Millisecond, PerClient: rate,
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- srv.Run(ctx) }()
	var once sync.Once
	stop := func() {
		once.Do(func() {
			cancel()
			if err := <-done; err != nil {
				t.Errorf("daemon: %v", err)
			}
			if t.Failed() {
				t.Logf("daemon log:\n%s", logs)
			}
		})
	}
	t.Cleanup(stop)
	d := publicDaemon{Daemon: &servertest.Daemon{URL: "http://" + srv.Addr()}, public: "http://" + srv.PublicAddr()}
	for range 500 {
		if resp, err := http.Get(d.URL + "/healthz"); err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				d.AdminToken = strings.TrimSpace(tokenIn(stderr.String()))
				return subsDaemon{publicDaemon: d, stop: stop, logs: logs}
			}
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Fatalf("the daemon did not start; stderr:\n%s", stderr)
	return subsDaemon{}
}

func openStore(t testing.TB, dsn string) *store.Store {
	t.Helper()
	st, err := store.Open(t.Context(), dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return st
}

// post sends a request to the public listener and returns its status and body.
func (d subsDaemon) post(t testing.TB, method, path, contentType, body string) (int, string) {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), method, d.public+path, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	resp, err := (&http.Client{Timeout: 30 * time.Second}).Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// until polls cond for up to 30 seconds.
func until(t testing.TB, what string, cond func() bool) {
	t.Helper()
	for range 3000 {
		if cond() {
			return
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Fatalf("timed out waiting for %s", what)
}

func mailSubject(t testing.TB, m string) string {
	t.Helper()
	s := regexp.MustCompile(`(?m)^Subject: (.*)$`).FindStringSubmatch(m)
	if s == nil {
		t.Fatalf("no subject in:\n%s", m)
	}
	out, err := new(mime.WordDecoder).DecodeHeader(strings.TrimSpace(s[1]))
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// signedHook is a subscriber's webhook endpoint that checks the signatures.
type signedHook struct {
	secret fleet.Secret
	mu     sync.Mutex
	got    []subscribers.Payload
	bad    int
}

func (h *signedHook) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	b, _ := io.ReadAll(r.Body)
	m := hmac.New(sha256.New, []byte(h.secret))
	m.Write(b)
	h.mu.Lock()
	defer h.mu.Unlock()
	var p subscribers.Payload
	if r.Header.Get(subscribers.SignatureHeader) != "sha256="+hex.EncodeToString(m.Sum(nil)) || json.Unmarshal(b, &p) != nil {
		h.bad++
		w.WriteHeader(http.StatusBadRequest)
		return
	}
	h.got = append(h.got, p)
}

func (h *signedHook) payloads() []subscribers.Payload {
	h.mu.Lock()
	defer h.mu.Unlock()
	return append([]subscribers.Payload(nil), h.got...)
}

func TestSubscribers(t *testing.T) {
	sink := smtptest.Start(t, 0)
	st := openStore(t, sqlite(t))
	d := startSubscribers(t, st, sink, "", subscribers.Rate{Burst: 4, Every: time.Hour})
	const component = "web-cluster-01"

	// An e-mail subscriber, in French, confirms by the link mailed to it.
	code, answer := d.post(t, "POST", "/subscriptions", "application/json",
		`{"kind":"email","address":"alice@example.net","language":"fr","components":["`+component+`"]}`)
	if code != http.StatusAccepted {
		t.Fatalf("subscribe: %d %s", code, answer)
	}
	until(t, "the confirmation mail", func() bool { return len(sink.Messages("alice@example.net")) == 1 })
	confirm := regexp.MustCompile(regexp.QuoteMeta(d.public) + `/subscriptions/confirm\?token=[a-z0-9]+`).FindString(smtptest.Body(t, sink.Messages("alice@example.net")[0]))
	if confirm == "" {
		t.Fatalf("no confirmation link in:\n%s", sink.Messages("alice@example.net")[0])
	}
	if code, body := d.post(t, "GET", strings.TrimPrefix(confirm, d.public), "", ""); code != http.StatusOK {
		t.Fatalf("confirm: %d %s", code, body)
	}
	if code, _ := d.post(t, "GET", "/subscriptions/confirm?token=nope", "", ""); code != http.StatusNotFound {
		t.Errorf("confirm with a bad token: %d", code)
	}

	// A known address gets the answer a new one gets, and no mail.
	codeKnown, known := d.post(t, "POST", "/subscriptions", "application/json", `{"kind":"email","address":"alice@example.net","language":"fr"}`)
	codeNew, fresh := d.post(t, "POST", "/subscriptions", "application/json", `{"kind":"email","address":"carol@example.net","language":"fr"}`)
	if codeKnown != codeNew || known != fresh || known != answer {
		t.Errorf("known address: %d %s; new address: %d %s", codeKnown, known, codeNew, fresh)
	}
	until(t, "the new address's confirmation", func() bool { return len(sink.Messages("carol@example.net")) == 1 })

	// A webhook subscriber, in German, confirms by the link in a signed POST.
	h := &signedHook{secret: "a secret shared with the hook"}
	hookSrv := httptest.NewServer(h)
	t.Cleanup(hookSrv.Close)
	form := url.Values{"kind": {"webhook"}, "address": {hookSrv.URL + "/status"}, "language": {"de"}, "secret": {string(h.secret)}}
	if code, body := d.post(t, "POST", "/subscriptions", "application/x-www-form-urlencoded", form.Encode()); code != http.StatusAccepted {
		t.Fatalf("subscribe a webhook: %d %s", code, body)
	}
	until(t, "the webhook's confirmation", func() bool { return len(h.payloads()) == 1 })
	if p := h.payloads()[0]; p.Kind != "subscription.confirm" || !strings.HasPrefix(p.ConfirmURL, d.public+"/subscriptions/confirm?") {
		t.Fatalf("webhook confirmation %+v", p)
	} else if code, body := d.post(t, "GET", strings.TrimPrefix(p.ConfirmURL, d.public), "", ""); code != http.StatusOK {
		t.Fatalf("confirm the webhook: %d %s", code, body)
	}

	for _, tc := range []struct{ name, body, says string }{
		{"unknown component", `{"kind":"email","address":"dan@example.net","components":["mail"]}`, `no component \"mail\"`},
		{"not an address", `{"kind":"email","address":"dan"}`, "plain address"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if code, body := d.post(t, "POST", "/subscriptions", "application/json", tc.body); code != http.StatusBadRequest || !strings.Contains(body, tc.says) {
				t.Errorf("%d %s, want 400 saying %s", code, body, tc.says)
			}
		})
	}
	// Four requests from this client so far (those refused for their
	// content do not count): the fifth is refused.
	if code, body := d.post(t, "POST", "/subscriptions", "application/json", `{"kind":"email","address":"eve@example.net"}`); code != http.StatusTooManyRequests {
		t.Errorf("one request too many: %d %s", code, body)
	}

	// An operator opens an incident: each subscriber hears of it in its
	// language.
	a := call(t, d.Daemon, "POST", "/api/v1/status/incidents", d.AdminToken, map[string]any{
		"name": map[string]string{"en": "Slow mail", "fr": "Courrier lent"}, "components": []string{component},
		"body": map[string]string{"en": "We are looking into it.", "fr": "Nous regardons."}})
	if a.status != http.StatusCreated {
		t.Fatalf("open an incident: %d %s", a.status, a.body)
	}
	var in struct{ ID string }
	a.decode(t, &in)
	until(t, "the notification mail", func() bool { return len(sink.Messages("alice@example.net")) == 2 })
	mail := sink.Messages("alice@example.net")[1]
	if s := mailSubject(t, mail); s != "[Enquête en cours] Courrier lent" {
		t.Errorf("subject %q", s)
	}
	if b := smtptest.Body(t, mail); !strings.Contains(b, "Nous regardons.") || !strings.Contains(b, "Web cluster 01") || !strings.Contains(b, d.public) {
		t.Errorf("body:\n%s", b)
	}
	until(t, "the webhook's notification", func() bool { return len(h.payloads()) == 2 })
	if p := h.payloads()[1]; p.Kind != "notification" || p.Language != "de" || p.Subject != "[Wird untersucht] Slow mail" || !strings.Contains(p.Body, "We are looking into it.") {
		t.Errorf("webhook notification %+v", p)
	}
	if n := len(sink.Messages("carol@example.net")); n != 1 {
		t.Errorf("an unconfirmed address got %d mails", n)
	}

	// One click unsubscribes; the link's GET only asks.
	unsub := regexp.MustCompile(`List-Unsubscribe: <([^>]+)>`).FindStringSubmatch(mail)
	if unsub == nil || !strings.HasPrefix(unsub[1], d.public+"/subscriptions/unsubscribe?token=") {
		t.Fatalf("no unsubscribe link in:\n%s", mail)
	}
	path := strings.TrimPrefix(unsub[1], d.public)
	if code, body := d.post(t, "GET", path, "", ""); code != http.StatusOK || !strings.Contains(body, `<form method="post">`) {
		t.Errorf("GET the unsubscribe link: %d %s", code, body)
	}
	if code, body := d.post(t, "POST", path, "application/x-www-form-urlencoded", "List-Unsubscribe=One-Click"); code != http.StatusOK {
		t.Fatalf("one-click unsubscribe: %d %s", code, body)
	}
	if code, _ := d.post(t, "POST", path, "application/x-www-form-urlencoded", "List-Unsubscribe=One-Click"); code != http.StatusNotFound {
		t.Errorf("unsubscribing twice: %d", code)
	}
	a = call(t, d.Daemon, "POST", "/api/v1/status/incidents/"+in.ID+"/updates", d.AdminToken, map[string]any{
		"status": "resolved", "body": map[string]string{"en": "Fixed.", "fr": "Réparé."}})
	if a.status != http.StatusCreated {
		t.Fatalf("update the incident: %d %s", a.status, a.body)
	}
	until(t, "the webhook's second notification", func() bool { return len(h.payloads()) == 3 })
	if p := h.payloads()[2]; p.Subject != "[Behoben] Slow mail" {
		t.Errorf("webhook notification %+v", p)
	}
	d.stop() // the sender records what it sent before the daemon returns
	if n := len(sink.Messages("alice@example.net")); n != 2 {
		t.Errorf("an unsubscribed address got %d mails, want 2", n)
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.bad != 0 {
		t.Errorf("%d webhooks badly signed", h.bad)
	}
}

// TestSubscribersBehindAProxy checks that the limit per client counts the
// customers behind a trusted proxy one by one, by X-Forwarded-For, and
// that a peer not trusted is counted by its own address whatever it says.
func TestSubscribersBehindAProxy(t *testing.T) {
	sink := smtptest.Start(t, 0)
	st := openStore(t, sqlite(t))
	proxy, err := clientip.ParseNetwork("127.0.0.2")
	if err != nil {
		t.Fatal(err)
	}
	d := startSubscribersBehind(t, st, sink, "", subscribers.Rate{Burst: 2, Every: time.Hour}, clientip.Trusted{proxy})
	n := 0
	subscribe := func(from string, xff ...string) int {
		t.Helper()
		n++
		req, err := http.NewRequestWithContext(t.Context(), "POST", d.public+"/subscriptions",
			strings.NewReader(fmt.Sprintf(`{"kind":"email","address":"user%d@example.net"}`, n)))
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Content-Type", "application/json")
		for _, v := range xff {
			req.Header.Add("X-Forwarded-For", v)
		}
		dialer := &net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(from)}, Timeout: 10 * time.Second}
		client := &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{DialContext: dialer.DialContext}}
		resp, err := client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	for _, tc := range []struct {
		name, from string
		xff        []string
		want       int
	}{
		{"customer A through the proxy", "127.0.0.2", []string{"203.0.113.1"}, http.StatusAccepted},
		{"customer A again", "127.0.0.2", []string{"203.0.113.1"}, http.StatusAccepted},
		{"customer A once too often", "127.0.0.2", []string{"203.0.113.1"}, http.StatusTooManyRequests},
		{"customer A claiming another address to the left", "127.0.0.2", []string{"198.51.100.7, 203.0.113.1"}, http.StatusTooManyRequests},
		{"customer A claiming another address on a line of its own", "127.0.0.2", []string{"198.51.100.7", "203.0.113.1"}, http.StatusTooManyRequests},
		{"customer B through the same proxy", "127.0.0.2", []string{"203.0.113.2"}, http.StatusAccepted},
		{"customer B over IPv6", "127.0.0.2", []string{"[2001:db8::2]:51000"}, http.StatusAccepted},
		{"a peer not trusted", "127.0.0.3", []string{"203.0.113.3"}, http.StatusAccepted},
		{"the same peer, another header", "127.0.0.3", []string{"203.0.113.4"}, http.StatusAccepted},
		{"the same peer, once too often", "127.0.0.3", []string{"203.0.113.5"}, http.StatusTooManyRequests},
		{"the proxy itself, without the header", "127.0.0.2", nil, http.StatusAccepted},
	} {
		if got := subscribe(tc.from, tc.xff...); got != tc.want {
			t.Errorf("%s: %d, want %d", tc.name, got, tc.want)
		}
	}
}

// TestSubscribersRestartMidSend stops the daemon while it mails an update
// and starts another on the same store: every subscriber gets one mail.
func TestSubscribersRestartMidSend(t *testing.T) {
	if testing.Short() {
		t.Skip("slow: mails go out one by one")
	}
	const many = 64
	sink := smtptest.Start(t, 100*time.Millisecond)
	dsn := sqlite(t)
	st := openStore(t, dsn)
	for i := range many {
		sub, err := st.SaveSubscriber(t.Context(), fleet.Subscriber{Kind: fleet.SubscriberEmail, Address: fmt.Sprintf("u%d@example.net", i),
			Language: "en", Nonce: fmt.Sprintf("nonce-%d", i)}, fmt.Sprintf("confirm-%d", i), fmt.Sprintf("unsubscribe-%d", i))
		if err != nil {
			t.Fatal(err)
		}
		if _, err := st.ConfirmSubscriber(t.Context(), fmt.Sprintf("confirm-%d", i)); err != nil {
			t.Fatal(err, sub)
		}
	}
	d := startSubscribers(t, st, sink, "", subscribers.Rate{})
	a := call(t, d.Daemon, "POST", "/api/v1/status/incidents", d.AdminToken, map[string]any{
		"name": map[string]string{"en": "Outage"}, "body": map[string]string{"en": "Down."}})
	if a.status != http.StatusCreated {
		t.Fatalf("open an incident: %d %s", a.status, a.body)
	}
	sent := func() int { return len(sink.Counts()) }
	until(t, "the first mails", func() bool { return sent() > 0 })
	d.stop()
	if n := sent(); n >= many {
		t.Fatalf("all %d mails went out before the stop: slow the sink down", n)
	}
	t.Logf("%d of %d mailed before the restart", sent(), many)
	st.Close()
	st2 := openStore(t, dsn)
	startSubscribers(t, st2, sink, "", subscribers.Rate{})
	until(t, "every subscriber's mail", func() bool { return sent() == many })
	counts, err := st2.QueueCounts(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	until(t, "the queue recorded as sent", func() bool {
		counts, err = st2.QueueCounts(t.Context())
		return err == nil && counts[fleet.NotificationSent] == many
	})
	for addr, n := range sink.Counts() {
		if n != 1 {
			t.Errorf("%s got %d mails", addr, n)
		}
	}
}

func TestSubscriberConfig(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "illico.yaml")
	for _, tc := range []struct {
		name, yaml string
		problems   []string
	}{
		{"none", "", nil},
		{"complete", "public_url: https://status.example.net\nsmtp: {address: 'smtp.example.net:587', from: status@example.net, username: u, password: p}\n", nil},
		{"smtp without public_url", "smtp: {address: 'smtp.example.net:25', from: status@example.net}\n", []string{"smtp needs public_url"}},
		{"bad values", "public_url: status.example.net\nsmtp: {address: smtp.example.net, from: 'Status <s@example.net>', password: p, starttls: false}\n",
			[]string{"illico.yaml:1:13: public_url", "smtp address", "smtp from", "password without a username", "starttls: false"}},
		{"a typo", "smtp: {adress: 'x:25'}\npublic_url: https://s.example.net\n", []string{`did you mean "address"`}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c, err := server.ParseConfig(file, []byte(tc.yaml))
			if len(tc.problems) == 0 {
				if err != nil {
					t.Fatal(err)
				}
				return
			}
			if err == nil {
				t.Fatalf("no problem found, want %q", tc.problems)
			}
			for _, p := range tc.problems {
				if !strings.Contains(err.Error(), p) {
					t.Errorf("%v\nlacks %q", err, p)
				}
			}
			_ = c
		})
	}
	c, err := server.ParseConfig(file, []byte("data: data\npublic_url: https://status.example.net\nsmtp: {address: 'smtp.example.net:587', from: status@example.net, username: u, password: hunter2hunter2}\n"))
	if err != nil {
		t.Fatal(err)
	}
	o := c.Subscribers()
	if o == nil || o.PublicURL != "https://status.example.net" || o.Mail.Smarthost != "smtp.example.net:587" || o.Mail.Password.Reveal() != "hunter2hunter2" || o.OldKeyFile != filepath.Join(dir, "data", "link.key") {
		t.Errorf("subscriber options %+v", o)
	}
	if fmt.Sprintf("%v %+v", c, o) != strings.ReplaceAll(fmt.Sprintf("%v %+v", c, o), "hunter2", "") {
		t.Error("the SMTP password prints")
	}
	if c, _ := server.ParseConfig(file, nil); c.Subscribers() != nil {
		t.Error("subscribers without smtp")
	}
}

func TestLinkKeySharedSQLite(t *testing.T) { testLinkKeyShared(t, sqlite) }

func TestLinkKeySharedPostgres(t *testing.T) {
	if testing.Short() {
		t.Skip("starts PostgreSQL")
	}
	testLinkKeyShared(t, pgtest.Start)
}

// Daemons on one database sign the unsubscribe links with one key, kept in
// it: a link mailed by one daemon unsubscribes a subscription another took,
// across restarts too.
func testLinkKeyShared(t *testing.T, dsn func(t testing.TB) string) {
	sink := smtptest.Start(t, 0)
	db := dsn(t)
	a := startSubscribers(t, openStore(t, db), sink, "", subscribers.Rate{})
	b := startSubscribers(t, openStore(t, db), sink, "", subscribers.Rate{})
	admin := a.AdminToken
	// bob subscribes on a, carol on b; each confirms on the other.
	for _, sub := range []struct {
		addr     string
		on, then subsDaemon
	}{{"bob@example.net", a, b}, {"carol@example.net", b, a}} {
		if code, body := sub.on.post(t, "POST", "/subscriptions", "application/json", `{"kind":"email","address":"`+sub.addr+`"}`); code != http.StatusAccepted {
			t.Fatalf("subscribe %s: %d %s", sub.addr, code, body)
		}
		until(t, "the confirmation of "+sub.addr, func() bool { return len(sink.Messages(sub.addr)) == 1 })
		confirm := regexp.MustCompile(`/subscriptions/confirm\?token=[a-z0-9]+`).FindString(smtptest.Body(t, sink.Messages(sub.addr)[0]))
		if code, body := sub.then.post(t, "GET", confirm, "", ""); code != http.StatusOK {
			t.Fatalf("confirm %s: %d %s", sub.addr, code, body)
		}
	}
	unsubscribe := func(d subsDaemon, addr, by string) {
		t.Helper()
		msgs := sink.Messages(addr)
		link := regexp.MustCompile(`List-Unsubscribe: <[^>]*(/subscriptions/unsubscribe\?token=[^>]+)>`).FindStringSubmatch(msgs[len(msgs)-1])
		if link == nil {
			t.Fatalf("no unsubscribe link in the mail to %s", addr)
		}
		if code, body := d.post(t, "POST", link[1], "application/x-www-form-urlencoded", "List-Unsubscribe=One-Click"); code != http.StatusOK {
			t.Errorf("unsubscribe %s with the link mailed %s: %d %s", addr, by, code, body)
		}
	}
	incident := func(d subsDaemon, name string) {
		t.Helper()
		r := call(t, d.Daemon, "POST", "/api/v1/status/incidents", admin, map[string]any{
			"name": map[string]string{"en": name}, "body": map[string]string{"en": "Down."}})
		if r.status != http.StatusCreated {
			t.Fatalf("open an incident: %d %s", r.status, r.body)
		}
	}

	// With b stopped, a mails both: carol's link, signed by a, undoes the
	// subscription b took.
	b.stop()
	incident(a, "Outage")
	until(t, "the notifications", func() bool {
		return len(sink.Messages("bob@example.net")) == 2 && len(sink.Messages("carol@example.net")) == 2
	})
	unsubscribe(a, "carol@example.net", "by the daemon that did not take the subscription")

	// Restarted, with a stopped, b mails bob: its link, signed by b, undoes
	// the subscription a took.
	a.stop()
	b = startSubscribers(t, openStore(t, db), sink, "", subscribers.Rate{})
	b.AdminToken = admin
	incident(b, "Another outage")
	until(t, "the notification to bob", func() bool { return len(sink.Messages("bob@example.net")) == 3 })
	unsubscribe(b, "bob@example.net", "after a restart, by the daemon that did not take the subscription")
	if n := len(sink.Messages("carol@example.net")); n != 2 {
		t.Errorf("carol got %d mails after unsubscribing, want 2", n)
	}
}

// TestLinkKeyFromOldFile checks the upgrade from a daemon that kept the
// link key in a file: the links it mailed keep working, the key moves into
// the store, and the file is not needed any more.
func TestLinkKeyFromOldFile(t *testing.T) {
	sink := smtptest.Start(t, 0)
	st := openStore(t, sqlite(t))
	file := filepath.Join(t.TempDir(), "link.key")
	old := subscribers.Links{Key: fleet.Secret(strings.Repeat("0123456789abcdef", 4)), BaseURL: "https://status.example.net"}
	if err := os.WriteFile(file, []byte(old.Key.Reveal()+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	// bob subscribed, and was mailed a link, before the upgrade.
	sub, err := st.SaveSubscriber(t.Context(), fleet.Subscriber{Kind: fleet.SubscriberEmail, Address: "bob@example.net", Language: "en", Nonce: "bob's nonce"},
		store.HashSecret("confirm"), store.HashSecret(old.UnsubscribeToken("bob's nonce")))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := st.ConfirmSubscriber(t.Context(), store.HashSecret("confirm")); err != nil {
		t.Fatal(err, sub)
	}

	d := startSubscribers(t, st, sink, file, subscribers.Rate{})
	d.stop()
	if n := strings.Count(d.logs.String(), "the link key is now kept in the database"); n != 1 {
		t.Errorf("the move of the link key logged %d times, want once:\n%s", n, d.logs)
	}
	if strings.Contains(d.logs.String(), old.Key.Reveal()) {
		t.Error("the link key is in the log")
	}
	if err := os.Remove(file); err != nil {
		t.Fatal(err)
	}
	d = startSubscribers(t, st, sink, file, subscribers.Rate{})
	if strings.Contains(d.logs.String(), "link key") {
		t.Errorf("the restart logged of the link key:\n%s", d.logs)
	}
	link := old.UnsubscribeURL("bob's nonce")
	if code, body := d.post(t, "POST", strings.TrimPrefix(link, old.BaseURL), "application/x-www-form-urlencoded", "List-Unsubscribe=One-Click"); code != http.StatusOK {
		t.Errorf("unsubscribe with a link mailed before the upgrade: %d %s", code, body)
	}
}
