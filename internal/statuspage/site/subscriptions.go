package site

// Subscribers of the public status page (docs/subscribers.md): the
// service that takes the subscriptions and the sender that drains their
// queue, both of package statuspage/subscribers, wired to the store. The
// subscription endpoints are in subscribe.go, the link key in linkkey.go,
// the fan-out of the page's news in news.go.

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"syscall"
	"time"

	"github.com/illico-dev/illico/internal/statuspage/subscribers"
	"github.com/illico-dev/illico/internal/statuspage/texts"
	"github.com/illico-dev/illico/internal/store"
)

// SubscriberOptions let customers subscribe to the status page. They take
// effect only with a public listener.
type SubscriberOptions struct {
	// PublicURL is where customers reach the status page, like
	// https://status.example.net: the links in the messages point there.
	PublicURL string
	Mail      subscribers.MailConfig
	// OldKeyFile is where daemons kept the key that signs the unsubscribe
	// links before it moved into the store. While the store has no key,
	// this file's is taken into it, so that the links already sent keep
	// working; once the store has one, the file is not read again.
	OldKeyFile string
	// AllowPrivateWebhooks lets webhooks reach loopback and private
	// addresses. Off, an anonymous subscriber cannot make the daemon post
	// into its own network; tests and labs turn it on.
	AllowPrivateWebhooks bool
	// Poll is how often the sender looks for due notifications (5s).
	Poll time.Duration
	// PerAddress and PerClient override notify's default rate limits.
	PerAddress, PerClient subscribers.Rate
}

// subscribers takes subscriptions and sends what the page says to them.
type subscriptions struct {
	svc    *subscribers.Service
	sender *subscribers.Sender
	log    *slog.Logger
	// page is the status page's address, the messages end with; texts
	// are the words around the updates and the endpoints' answers.
	page  string
	texts *texts.Catalogue
}

func newSubscribers(o SubscriberOptions, st *store.Store, log *slog.Logger, now func() time.Time) (*subscriptions, error) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	key, err := linkKey(ctx, st, o.OldKeyFile, log)
	if err != nil {
		return nil, fmt.Errorf("subscribers: %w", err)
	}
	links := subscribers.Links{Key: key, BaseURL: o.PublicURL}
	mailer, err := subscribers.NewMailer(o.Mail, now)
	if err != nil {
		return nil, err
	}
	poster := subscribers.NewPoster(webhookClient(o.AllowPrivateWebhooks))
	svc, err := subscribers.New(subscribers.Options{Store: st, Links: links, Mailer: mailer, Poster: poster,
		PerAddress: o.PerAddress, PerClient: o.PerClient, Log: log, Now: now})
	if err != nil {
		return nil, fmt.Errorf("subscribers: %w", err)
	}
	sender, err := subscribers.NewSender(subscribers.SenderOptions{Queue: st, Links: links, Mailer: mailer, Poster: poster,
		Poll: o.Poll, Log: log, Now: now})
	if err != nil {
		return nil, fmt.Errorf("subscribers: %w", err)
	}
	cat, err := texts.Load()
	if err != nil {
		return nil, fmt.Errorf("subscribers: %w", err)
	}
	return &subscriptions{svc: svc, sender: sender, log: log, page: strings.TrimSuffix(o.PublicURL, "/"), texts: cat}, nil
}

// run sends confirmations and notifications until ctx ends, then lets the
// sends under way be recorded.
func (s *subscriptions) run(ctx context.Context) {
	done := make(chan struct{})
	go func() { s.svc.Run(ctx); close(done) }()
	if err := s.sender.Run(ctx); err != nil {
		s.log.Error("notification sender stopped", "err", err)
	}
	<-done
}

// webhookClient posts the webhooks. Unless private is set, it refuses to
// connect to loopback, private and link-local addresses, also after a
// redirect or a DNS answer that points there.
func webhookClient(private bool) *http.Client {
	d := &net.Dialer{Timeout: 10 * time.Second}
	if !private {
		d.Control = func(_, address string, _ syscall.RawConn) error {
			host, _, err := net.SplitHostPort(address)
			if err != nil {
				return err
			}
			ip := net.ParseIP(host)
			if ip == nil || ip.IsLoopback() || ip.IsPrivate() || ip.IsLinkLocalUnicast() || ip.IsUnspecified() || ip.IsMulticast() {
				return fmt.Errorf("webhook to %s refused: not a public address", host)
			}
			return nil
		}
	}
	return &http.Client{
		Timeout:   30 * time.Second,
		Transport: &http.Transport{DialContext: d.DialContext, TLSHandshakeTimeout: 10 * time.Second, MaxIdleConnsPerHost: 4},
	}
}
