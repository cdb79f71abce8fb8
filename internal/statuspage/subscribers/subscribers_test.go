package subscribers_test

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/illico-dev/illico/internal/deliver/smtptest"
	"github.com/illico-dev/illico/internal/fleet"
	"github.com/illico-dev/illico/internal/statuspage/subscribers"
	"github.com/illico-dev/illico/internal/store"
)

var testLinks = subscribers.Links{Key: fleet.Secret(strings.Repeat("k", 32)), BaseURL: "https://status.example.net"}

func openStore(t testing.TB, dsn string) *store.Store {
	t.Helper()
	s, err := store.Open(t.Context(), dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

type env struct {
	store  *store.Store
	sink   *sink
	mailer *subscribers.Mailer
	poster *subscribers.Poster
	svc    *subscribers.Service
}

func newEnv(t testing.TB, opts subscribers.Options) *env {
	t.Helper()
	e := &env{sink: startSink(t), poster: subscribers.NewPoster(&http.Client{Timeout: 10 * time.Second})}
	e.store = openStore(t, "sqlite:"+filepath.Join(t.TempDir(), "illico.db"))
	var err error
	if e.mailer, err = subscribers.NewMailer(subscribers.MailConfig{Smarthost: e.sink.addr(), From: "status@example.net"}, nil); err != nil {
		t.Fatal(err)
	}
	opts.Store, opts.Links, opts.Mailer, opts.Poster = e.store, testLinks, e.mailer, e.poster
	if e.svc, err = subscribers.New(opts); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { e.svc.Run(ctx); close(done) }()
	t.Cleanup(func() { cancel(); <-done })
	return e
}

func (e *env) sender(t testing.TB, q subscribers.Queue, concurrency int) *subscribers.Sender {
	t.Helper()
	s, err := subscribers.NewSender(subscribers.SenderOptions{Queue: q, Links: testLinks, Mailer: e.mailer, Poster: e.poster,
		Concurrency: concurrency, Poll: 20 * time.Millisecond, Backoff: 10 * time.Millisecond, Attempts: 3, Timeout: 10 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// waitFor polls cond for up to 30 seconds.
func waitFor(t testing.TB, what string, cond func() bool) {
	t.Helper()
	for range 3000 {
		if cond() {
			return
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Fatalf("timed out waiting for %s", what)
}

var confirmLink = regexp.MustCompile(`https://status\.example\.net/subscriptions/confirm\?token=([a-z0-9]+)`)

func TestEmailOptInAndUnsubscribe(t *testing.T) {
	e := newEnv(t, subscribers.Options{})
	c := t.Context()
	addr := "Alice@example.net"
	if err := e.svc.Subscribe(c, "192.0.2.1", subscribers.Request{Kind: fleet.SubscriberEmail, Address: addr, Language: "fr", Components: []string{"web"}}); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the confirmation", func() bool { return len(e.sink.messages("alice@example.net")) == 1 })
	mail := e.sink.messages("alice@example.net")[0]
	if !strings.Contains(mail, "Subject: =?utf-8?q?Confirmez") {
		t.Errorf("confirmation not in French:\n%s", mail)
	}
	m := confirmLink.FindStringSubmatch(smtptest.Body(t, mail))
	if m == nil {
		t.Fatalf("no confirmation link in:\n%s", mail)
	}
	// Before confirming, an update reaches nobody.
	upd := subscribers.Update{Key: "incident/1", Components: []string{"web"}, Subject: fleet.Text{"en": "Outage", "fr": "Panne"}, Body: fleet.Text{"en": "Down", "fr": "En panne"}}
	if n, err := subscribers.Fanout(c, e.store, upd); err != nil || n != 0 {
		t.Fatalf("fan out before confirmation: %d, %v", n, err)
	}
	if err := e.svc.Confirm(c, "nope"); fleet.KindOf(err) != fleet.KindNotFound {
		t.Fatalf("confirm with a bad token: %v", err)
	}
	if err := e.svc.Confirm(c, m[1]); err != nil {
		t.Fatal(err)
	}
	upd.Key = "incident/2"
	if n, err := subscribers.Fanout(c, e.store, upd); err != nil || n != 1 {
		t.Fatalf("fan out: %d, %v", n, err)
	}
	ctx, cancel := context.WithCancel(c)
	done := make(chan error)
	go func() { done <- e.sender(t, e.store, 4).Run(ctx) }()
	waitFor(t, "the notification", func() bool { return len(e.sink.messages("alice@example.net")) == 2 })
	cancel()
	<-done
	got := e.sink.messages("alice@example.net")[1]
	if !strings.Contains(smtptest.Body(t, got), "En panne") {
		t.Errorf("notification lacks its body:\n%s", got)
	}
	for _, want := range []string{"Subject: Panne", "List-Unsubscribe: <https://status.example.net/subscriptions/unsubscribe?token=",
		"List-Unsubscribe-Post: List-Unsubscribe=One-Click", "Message-ID: <notification-"} {
		if !strings.Contains(got, want) {
			t.Errorf("notification lacks %q:\n%s", want, got)
		}
	}
	u := regexp.MustCompile(`List-Unsubscribe: <([^>]+)>`).FindStringSubmatch(got)
	link, _ := url.Parse(u[1])
	if err := e.svc.Unsubscribe(c, link.Query().Get("token")); err != nil {
		t.Fatal(err)
	}
	if err := e.svc.Unsubscribe(c, link.Query().Get("token")); fleet.KindOf(err) != fleet.KindNotFound {
		t.Fatalf("unsubscribing twice: %v", err)
	}
	upd.Key = "incident/3"
	if n, _ := subscribers.Fanout(c, e.store, upd); n != 0 {
		t.Errorf("an unsubscribed address got %d notifications", n)
	}
}

// TestNoEnumeration subscribes a confirmed address again: the answer is the
// same as for a new one, and the subscriber gets no mail.
func TestNoEnumeration(t *testing.T) {
	e := newEnv(t, subscribers.Options{})
	c := t.Context()
	req := subscribers.Request{Kind: fleet.SubscriberEmail, Address: "bob@example.net", Language: "en"}
	if err := e.svc.Subscribe(c, "192.0.2.1", req); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the confirmation", func() bool { return len(e.sink.messages("bob@example.net")) == 1 })
	m := confirmLink.FindStringSubmatch(smtptest.Body(t, e.sink.messages("bob@example.net")[0]))
	if err := e.svc.Confirm(c, m[1]); err != nil {
		t.Fatal(err)
	}
	errKnown := e.svc.Subscribe(c, "192.0.2.2", req)
	errNew := e.svc.Subscribe(c, "192.0.2.2", subscribers.Request{Kind: fleet.SubscriberEmail, Address: "carol@example.net", Language: "en"})
	if errKnown != nil || errNew != nil {
		t.Fatalf("known address: %v, new address: %v", errKnown, errNew)
	}
	waitFor(t, "the new address's confirmation", func() bool { return len(e.sink.messages("carol@example.net")) == 1 })
	if n := len(e.sink.messages("bob@example.net")); n != 1 {
		t.Errorf("a confirmed address got %d mails, want only its first confirmation", n)
	}
}

func TestRateLimits(t *testing.T) {
	now := time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC)
	var mu sync.Mutex
	clock := func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	e := newEnv(t, subscribers.Options{Now: clock, PerClient: subscribers.Rate{Burst: 3, Every: time.Minute}, PerAddress: subscribers.Rate{Burst: 1, Every: time.Hour}})
	c := t.Context()
	sub := func(client, addr string) error {
		return e.svc.Subscribe(c, client, subscribers.Request{Kind: fleet.SubscriberEmail, Address: addr, Language: "en"})
	}
	for i := range 3 {
		if err := sub("198.51.100.7", fmt.Sprintf("u%d@example.net", i)); err != nil {
			t.Fatal(err)
		}
	}
	if err := sub("198.51.100.7", "u9@example.net"); !errors.Is(err, subscribers.ErrRateLimited) {
		t.Fatalf("fourth request from one client: %v, want rate limited", err)
	}
	if err := sub("198.51.100.8", "u9@example.net"); err != nil {
		t.Fatalf("another client: %v", err)
	}
	mu.Lock()
	now = now.Add(time.Minute)
	mu.Unlock()
	if err := sub("198.51.100.7", "u8@example.net"); err != nil {
		t.Fatalf("a minute later: %v", err)
	}
	// The same address asked again by others: same answer, no second mail.
	for _, client := range []string{"203.0.113.1", "203.0.113.2"} {
		if err := sub(client, "u0@example.net"); err != nil {
			t.Fatal(err)
		}
	}
	waitFor(t, "the confirmations", func() bool { return len(e.sink.messages("u8@example.net")) == 1 })
	if n := len(e.sink.messages("u0@example.net")); n != 1 {
		t.Errorf("an address asked for three times within its limit got %d mails, want 1", n)
	}
}

func TestWebhook(t *testing.T) {
	secret := fleet.Secret("a shared secret of the hook")
	type hit struct {
		body []byte
		sig  string
	}
	var mu sync.Mutex
	var hits []hit
	fail := 1 // the first notification is refused with a 503, then retried
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		mu.Lock()
		defer mu.Unlock()
		var p subscribers.Payload
		json.Unmarshal(b, &p)
		if p.Kind == "notification" && fail > 0 {
			fail--
			w.WriteHeader(http.StatusServiceUnavailable)
			return
		}
		hits = append(hits, hit{b, r.Header.Get(subscribers.SignatureHeader)})
	}))
	t.Cleanup(srv.Close)
	e := newEnv(t, subscribers.Options{})
	c := t.Context()
	if err := e.svc.Subscribe(c, "192.0.2.1", subscribers.Request{Kind: fleet.SubscriberWebhook, Address: srv.URL + "/hook", Language: "de", Secret: secret}); err != nil {
		t.Fatal(err)
	}
	if err := e.svc.Subscribe(c, "192.0.2.1", subscribers.Request{Kind: fleet.SubscriberWebhook, Address: srv.URL, Language: "de", Secret: "short"}); fleet.KindOf(err) != fleet.KindInvalid {
		t.Errorf("a short secret: %v", err)
	}
	count := func() int { mu.Lock(); defer mu.Unlock(); return len(hits) }
	waitFor(t, "the confirmation", func() bool { return count() == 1 })
	var p subscribers.Payload
	mu.Lock()
	first := hits[0]
	mu.Unlock()
	if err := json.Unmarshal(first.body, &p); err != nil || p.Kind != "subscription.confirm" {
		t.Fatalf("confirmation %s: %v", first.body, err)
	}
	mac := hmac.New(sha256.New, []byte(secret))
	mac.Write(first.body)
	if want := "sha256=" + hex.EncodeToString(mac.Sum(nil)); first.sig != want {
		t.Errorf("signature %q, want %q", first.sig, want)
	}
	link, _ := url.Parse(p.ConfirmURL)
	if err := e.svc.Confirm(c, link.Query().Get("token")); err != nil {
		t.Fatal(err)
	}
	if n, err := subscribers.Fanout(c, e.store, subscribers.Update{Key: "m/1", Subject: fleet.Text{"en": "Maintenance", "de": "Wartung"}, Body: fleet.Text{"en": "x"}}); err != nil || n != 1 {
		t.Fatalf("fan out: %d, %v", n, err)
	}
	ctx, cancel := context.WithCancel(c)
	done := make(chan error)
	go func() { done <- e.sender(t, e.store, 2).Run(ctx) }()
	waitFor(t, "the notification, after a retry", func() bool { return count() == 2 })
	cancel()
	<-done
	mu.Lock()
	json.Unmarshal(hits[1].body, &p)
	mu.Unlock()
	if p.Kind != "notification" || p.Subject != "Wartung" || p.Body != "x" || p.Key != "m/1" || !strings.Contains(p.UnsubscribeURL, "/subscriptions/unsubscribe?token=") {
		t.Errorf("notification %+v", p)
	}
	counts, _ := e.store.QueueCounts(c)
	if counts[fleet.NotificationSent] != 1 {
		t.Errorf("queue %v", counts)
	}
}
