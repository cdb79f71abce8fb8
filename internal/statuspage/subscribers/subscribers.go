// Package subscribers tells the status page's subscribers of incidents and
// maintenances, by e-mail or signed webhook, in their language. Subscribing
// takes a double opt-in and answers alike whether or not the address was
// known, so that nobody can list the subscribers; updates go through a
// queue in the store (package store), which a Sender drains with bounded
// concurrency and retries, so a restart loses nothing and re-sends only what
// was not marked sent.
package subscribers

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base32"
	"encoding/base64"
	"errors"
	"fmt"
	"log/slog"
	"net/mail"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/illico-dev/illico/internal/fleet"
	"github.com/illico-dev/illico/internal/store"
)

// Subscribers is what the Service needs of the store.
type Subscribers interface {
	SaveSubscriber(ctx context.Context, sub fleet.Subscriber, confirmHash, unsubscribeHash string) (fleet.Subscriber, error)
	ConfirmSubscriber(ctx context.Context, confirmHash string) (fleet.Subscriber, error)
	Unsubscribe(ctx context.Context, unsubscribeHash string) (fleet.Subscriber, error)
}

// Enqueuer queues an update for the subscribers who follow it.
type Enqueuer interface {
	Enqueue(ctx context.Context, msg fleet.SubscriberMessage) (int, error)
}

// Links builds the links the messages carry, and signs the unsubscribe
// tokens. The Service and the Sender must share one, with the same key.
type Links struct {
	// Key makes the unsubscribe tokens: the store keeps only their hashes,
	// and a message carries a token recomputed from the key. It must stay
	// the same across restarts, and be the same for every daemon on one
	// database, or the links already sent stop working.
	Key fleet.Secret
	// BaseURL is the public status page, like https://status.example.net.
	BaseURL string
}

// MinKeyLength is the shortest Links.Key accepted.
const MinKeyLength = 32

func (l Links) check() error {
	if len(l.Key.Reveal()) < MinKeyLength {
		return fleet.Errorf(fleet.KindInvalid, "notify: the link key must be at least %d bytes", MinKeyLength)
	}
	u, err := url.Parse(l.BaseURL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return fleet.Errorf(fleet.KindInvalid, "notify: base URL %q: expected http(s)://host[/path]", l.BaseURL)
	}
	return nil
}

// UnsubscribeToken is the token of the subscriber with this nonce.
func (l Links) UnsubscribeToken(nonce string) string {
	m := hmac.New(sha256.New, []byte(l.Key.Reveal()))
	m.Write([]byte("illico unsubscribe\x00" + nonce))
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil))
}

// ConfirmURL is the link that confirms a subscription. The daemon serves
// it, and UnsubscribeURL, on its public listener.
func (l Links) ConfirmURL(token string) string {
	return strings.TrimSuffix(l.BaseURL, "/") + "/subscriptions/confirm?token=" + url.QueryEscape(token)
}

// UnsubscribeURL is the one-click unsubscribe link of the subscriber with
// this nonce; a POST to it unsubscribes (RFC 8058).
func (l Links) UnsubscribeURL(nonce string) string {
	return strings.TrimSuffix(l.BaseURL, "/") + "/subscriptions/unsubscribe?token=" + url.QueryEscape(l.UnsubscribeToken(nonce))
}

// Options configure a Service.
type Options struct {
	Store Subscribers
	Links Links
	// Mailer and Poster send the confirmations.
	Mailer *Mailer
	Poster *Poster
	// PerAddress and PerClient limit subscription requests; zero values
	// take the defaults (DefaultPerAddress, DefaultPerClient).
	PerAddress, PerClient Rate
	Log                   *slog.Logger
	Now                   func() time.Time
}

// Defaults for the rate limits: an address gets at most a confirmation
// every few minutes, and one client may try a handful of addresses.
var (
	DefaultPerAddress = Rate{Burst: 2, Every: 10 * time.Minute}
	DefaultPerClient  = Rate{Burst: 10, Every: time.Minute}
)

// Service takes subscriptions and confirmations.
type Service struct {
	store      Subscribers
	links      Links
	mailer     *Mailer
	poster     *Poster
	perAddress *limiter
	perClient  *limiter
	log        *slog.Logger
	texts      mailTexts
	// confirmations go out from Run, so that Subscribe answers at once and
	// in the same time whatever the address.
	confirmations chan confirmation
	wg            sync.WaitGroup
}

type confirmation struct {
	sub   fleet.Subscriber
	token string
}

// New returns a Service; call Run to send its confirmations.
func New(opts Options) (*Service, error) {
	if err := opts.Links.check(); err != nil {
		return nil, err
	}
	if opts.Store == nil || opts.Mailer == nil || opts.Poster == nil {
		return nil, errors.New("notify: a service needs a store, a mailer and a poster")
	}
	if opts.Log == nil {
		opts.Log = slog.New(slog.DiscardHandler)
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.PerAddress == (Rate{}) {
		opts.PerAddress = DefaultPerAddress
	}
	if opts.PerClient == (Rate{}) {
		opts.PerClient = DefaultPerClient
	}
	mt, err := loadMailTexts()
	if err != nil {
		return nil, err
	}
	return &Service{
		store: opts.Store, links: opts.Links, mailer: opts.Mailer, poster: opts.Poster, log: opts.Log, texts: mt,
		perAddress:    newLimiter(opts.PerAddress, opts.Now),
		perClient:     newLimiter(opts.PerClient, opts.Now),
		confirmations: make(chan confirmation, 256),
	}, nil
}

// Request is a subscription as asked for.
type Request struct {
	Kind fleet.SubscriberKind
	// Address is the e-mail address or the webhook's http(s) URL.
	Address  string
	Language string
	// Components are the IDs of the components to follow; none follows
	// them all.
	Components []string
	// Secret is the webhook's shared secret, which signs its bodies.
	Secret fleet.Secret
}

// ErrRateLimited is returned, wrapped, when a client asks too often.
var ErrRateLimited = errors.New("too many subscription requests")

// Subscribe asks for a subscription on behalf of client (its IP address).
// The new subscriber gets a confirmation, by mail or a signed POST, with a
// link to follow. The answer is the same whether the address was new,
// waiting, or already confirmed (which gets nothing), so that it tells
// nobody who subscribed.
func (s *Service) Subscribe(ctx context.Context, client string, r Request) error {
	if err := checkRequest(r); err != nil {
		return err
	}
	if !s.perClient.allow(client) {
		return &fleet.Error{Kind: fleet.KindUnavailable, Msg: "too many subscription requests from this client: try again in a few minutes", Err: ErrRateLimited}
	}
	if r.Kind == fleet.SubscriberEmail {
		r.Address = strings.ToLower(r.Address)
	}
	confirm := randomToken()
	nonce := randomToken()
	sub, err := s.store.SaveSubscriber(ctx, fleet.Subscriber{
		Kind: r.Kind, Address: r.Address, Language: r.Language, Components: r.Components, Secret: r.Secret, Nonce: nonce,
	}, store.HashSecret(confirm), store.HashSecret(s.links.UnsubscribeToken(nonce)))
	if err != nil {
		return fmt.Errorf("subscribe: %w", err)
	}
	if sub.Confirmed() || sub.Nonce != nonce {
		return nil
	}
	// The address's limit is checked only now, and its refusal is silent:
	// an error would tell that the address was asked for lately.
	if !s.perAddress.allow(string(r.Kind) + ":" + r.Address) {
		s.log.Info("confirmation not sent: the address asked too often", "subscriber", sub.ID)
		return nil
	}
	select {
	case s.confirmations <- confirmation{sub: sub, token: confirm}:
	default:
		s.log.Warn("confirmation not sent: too many waiting", "subscriber", sub.ID)
	}
	return nil
}

func checkRequest(r Request) error {
	var errs []error
	switch r.Kind {
	case fleet.SubscriberEmail:
		if a, err := mail.ParseAddress(r.Address); err != nil || a.Address != r.Address || a.Name != "" || len(r.Address) > 254 {
			errs = append(errs, fleet.Errorf(fleet.KindInvalid, "email %q: expected a plain address, like name@example.net", r.Address))
		}
	case fleet.SubscriberWebhook:
		u, err := url.Parse(r.Address)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.User != nil || len(r.Address) > 2000 {
			errs = append(errs, fleet.Errorf(fleet.KindInvalid, "webhook URL: expected http(s)://host/path, without credentials"))
		}
		if len(r.Secret.Reveal()) < 16 {
			errs = append(errs, fleet.Errorf(fleet.KindInvalid, "webhook secret: expected at least 16 bytes"))
		}
	default:
		errs = append(errs, fleet.Errorf(fleet.KindInvalid, "subscription kind %q: expected email or webhook", r.Kind))
	}
	if !fleet.IsLanguage(r.Language) {
		errs = append(errs, fleet.Errorf(fleet.KindInvalid, "language %q: expected %s", r.Language, fleet.LanguageChoice()))
	}
	if len(r.Components) > 100 {
		errs = append(errs, fleet.Errorf(fleet.KindInvalid, "at most 100 components may be followed one by one; follow them all instead"))
	}
	return errors.Join(errs...)
}

// Run sends the confirmations until ctx ends.
func (s *Service) Run(ctx context.Context) error {
	const workers = 4
	for range workers {
		s.wg.Go(func() {
			for {
				select {
				case <-ctx.Done():
					return
				case c := <-s.confirmations:
					s.sendConfirmation(ctx, c)
				}
			}
		})
	}
	s.wg.Wait()
	return nil
}

func (s *Service) sendConfirmation(ctx context.Context, c confirmation) {
	ctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	link := s.links.ConfirmURL(c.token)
	var err error
	switch c.sub.Kind {
	case fleet.SubscriberEmail:
		t := s.texts.confirm(c.sub.Language, link)
		err = s.mailer.Send(ctx, Mail{To: c.sub.Address, Subject: t.subject, Body: t.body,
			MessageID: fmt.Sprintf("confirm-%d-%s", c.sub.ID, c.sub.Nonce[:8])})
	case fleet.SubscriberWebhook:
		err = s.poster.Post(ctx, c.sub.Address, c.sub.Secret, Payload{Kind: "subscription.confirm", ConfirmURL: link, Language: c.sub.Language})
	}
	if err != nil {
		s.log.Warn("confirmation not sent", "subscriber", c.sub.ID, "err", err)
	}
}

// Confirm confirms the subscription whose confirmation token this is.
func (s *Service) Confirm(ctx context.Context, token string) error {
	if _, err := s.store.ConfirmSubscriber(ctx, store.HashSecret(token)); err != nil {
		return fmt.Errorf("confirm subscription: %w", err)
	}
	return nil
}

// Unsubscribe ends the subscription whose unsubscribe token this is.
func (s *Service) Unsubscribe(ctx context.Context, token string) error {
	if _, err := s.store.Unsubscribe(ctx, store.HashSecret(token)); err != nil {
		return fmt.Errorf("unsubscribe: %w", err)
	}
	return nil
}

// Update is news for the subscribers: a new incident or maintenance, or an
// update of one.
type Update struct {
	// Key names the update, like "incident/42/update/3": each subscriber
	// gets a key once, however often it is fanned out.
	Key string
	// Components are the IDs of the components it is about; none is about
	// the whole page.
	Components []string
	// Subject and Body in each language; English stands in for a missing
	// one.
	Subject, Body fleet.Text
}

// Fanout queues u for every confirmed subscriber who follows one of its
// components, in the subscriber's language, and returns how many it
// queued. A Sender sends them; Kick it to start at once.
func Fanout(ctx context.Context, q Enqueuer, u Update) (int, error) {
	n, err := q.Enqueue(ctx, fleet.SubscriberMessage{Key: u.Key, Components: u.Components, Subject: u.Subject, Body: u.Body})
	if err != nil {
		return 0, fmt.Errorf("fan out %s: %w", u.Key, err)
	}
	return n, nil
}

var tokenEncoding = base32.StdEncoding.WithPadding(base32.NoPadding)

// randomToken returns 32 random bytes, printable in a URL.
func randomToken() string {
	b := make([]byte, 32)
	rand.Read(b) // never fails: crypto/rand aborts the program rather than return weak bytes
	return strings.ToLower(tokenEncoding.EncodeToString(b))
}
