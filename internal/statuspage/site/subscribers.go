package site

// Subscribers of the public status page (docs/subscribers.md): the
// subscription endpoints on the public listener, the link key that signs the
// unsubscribe links, and the fan-out of every new incident or maintenance
// update to the queue that package statuspage/subscribers drains.

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"html/template"
	"io/fs"
	"log/slog"
	"net"
	"net/http"
	"os"
	"slices"
	"strings"
	"syscall"
	"time"

	"github.com/illico-dev/illico/internal/clientip"
	"github.com/illico-dev/illico/internal/fleet"
	"github.com/illico-dev/illico/internal/httpjson"
	"github.com/illico-dev/illico/internal/statuspage/page"
	"github.com/illico-dev/illico/internal/statuspage/subscribers"
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
	page   string
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
	return &subscriptions{svc: svc, sender: sender, log: log, page: strings.TrimSuffix(o.PublicURL, "/")}, nil
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

// linkKeyName names the link key among the store's secrets.
const linkKeyName = "link_key"

// secrets keeps the daemon's secrets, shared by every daemon on the
// database.
type secrets interface {
	Secret(ctx context.Context, name string) (fleet.Secret, error)
	CreateSecret(ctx context.Context, name string, value fleet.Secret) (fleet.Secret, bool, error)
}

// linkKey returns the key that signs the unsubscribe links, kept in st so
// that every daemon on the database signs alike. The first daemon to start
// makes it, or takes the one in oldFile, where it was kept before.
func linkKey(ctx context.Context, st secrets, oldFile string, log *slog.Logger) (fleet.Secret, error) {
	key, err := st.Secret(ctx, linkKeyName)
	if err == nil {
		return key, nil
	}
	if fleet.KindOf(err) != fleet.KindNotFound {
		return "", err
	}
	fromFile, err := oldLinkKey(oldFile)
	if err != nil {
		return "", err
	}
	key = fromFile
	if key == "" {
		b := make([]byte, subscribers.MinKeyLength)
		rand.Read(b) // never fails: crypto/rand aborts rather than return weak bytes
		key = fleet.Secret(hex.EncodeToString(b))
	}
	kept, created, err := st.CreateSecret(ctx, linkKeyName, key)
	switch {
	case err != nil:
		return "", fmt.Errorf("keep the link key: %w", err)
	case created && fromFile != "":
		log.Info("the link key is now kept in the database; the file is no longer read and can be deleted", "file", oldFile)
	case !created && fromFile != "" && kept != fromFile:
		log.Warn("another daemon stored a link key first: the one of this file was not taken, and the links it signed no longer unsubscribe", "file", oldFile)
	}
	return kept, nil
}

// oldLinkKey reads the link key of path, "" when there is no such file.
func oldLinkKey(path string) (fleet.Secret, error) {
	if path == "" {
		return "", nil
	}
	b, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return "", nil
	}
	if err != nil {
		return "", fleet.Errorf(fleet.KindInvalid, "read the old link key: %v", err)
	}
	key := strings.TrimSpace(string(b))
	if len(key) < subscribers.MinKeyLength {
		return "", fleet.Errorf(fleet.KindInvalid, "old link key %s: shorter than %d bytes; remove it to make a new key (the links already sent stop working)", path, subscribers.MinKeyLength)
	}
	return fleet.Secret(key), nil
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

// pageStatus is the status page's status, kept in the store. Each change
// that adds updates to incidents or maintenances tells the subscribers,
// whoever made it: the rollouts' driver, an operator, the dashboard. The
// notifications are queued in the change's own transaction: a crash leaves
// both the change and its notifications, or neither, and the queue sends a
// key once to each subscriber however often it is queued.
type pageStatus struct {
	*page.Stored[*store.Tx]
	// notices write what the page says by itself, in every language.
	notices *page.Notices
	subs    *subscriptions // nil: nobody to tell
}

// Update changes the status like Stored.Update, and queues its news for the
// subscribers with it.
func (p *pageStatus) Update(ctx context.Context, change func(*fleet.Status) error) error {
	if p.subs == nil {
		return p.Stored.Update(ctx, change)
	}
	var us []subscribers.Update
	var queued int
	err := p.Stored.UpdateTx(ctx, func(tx *store.Tx, st *fleet.Status) error {
		seen := updateIDs(st)
		if err := change(st); err != nil {
			return err
		}
		us = news(seen, st)
		var err error
		queued, err = p.subs.enqueue(ctx, tx, us)
		return err
	})
	if err == nil && len(us) > 0 {
		keys := make([]string, len(us))
		for i, u := range us {
			keys[i] = u.Key
		}
		p.subs.log.Info("status updates queued for subscribers", "keys", keys, "notifications", queued)
		p.subs.sender.Kick()
	}
	return err
}

func updateIDs(st *fleet.Status) map[string]bool {
	seen := map[string]bool{}
	for _, in := range st.Incidents {
		for _, u := range in.Updates {
			seen["incident/"+in.ID+"/"+u.ID] = true
		}
	}
	for _, m := range st.Maintenance {
		for _, u := range m.Updates {
			seen["maintenance/"+m.ID+"/"+u.ID] = true
		}
	}
	return seen
}

// news is what st has that was not seen, as messages in every language.
func news(seen map[string]bool, st *fleet.Status) []subscribers.Update {
	var out []subscribers.Update
	add := func(kind, id string, name fleet.Text, comps []string, u fleet.StatusUpdate) {
		key := kind + "/" + id + "/" + u.ID
		if seen[key] {
			return
		}
		out = append(out, message(key, name, comps, u, st.Components))
	}
	for _, in := range st.Incidents {
		for _, u := range in.Updates {
			add("incident", in.ID, in.Name, in.Components, u)
		}
	}
	for _, m := range st.Maintenance {
		for _, u := range m.Updates {
			add("maintenance", m.ID, m.Name, m.Components, u)
		}
	}
	return out
}

// statusWords name the statuses of incidents and maintenances in the
// subjects of the messages.
var statusWords = map[string]map[string]string{
	"en": {
		"investigating": "Investigating", "identified": "Identified", "monitoring": "Monitoring", "resolved": "Resolved",
		"scheduled": "Scheduled maintenance", "in_progress": "Maintenance in progress", "verifying": "Verifying", "completed": "Maintenance completed",
		"affected": "Affected", "page": "Status page",
	},
	"fr": {
		"investigating": "Enquête en cours", "identified": "Cause identifiée", "monitoring": "Sous surveillance", "resolved": "Résolu",
		"scheduled": "Maintenance planifiée", "in_progress": "Maintenance en cours", "verifying": "Vérification", "completed": "Maintenance terminée",
		"affected": "Concerné", "page": "Page d'état",
	},
	"de": {
		"investigating": "Wird untersucht", "identified": "Ursache erkannt", "monitoring": "Unter Beobachtung", "resolved": "Behoben",
		"scheduled": "Geplante Wartung", "in_progress": "Wartung läuft", "verifying": "Wird überprüft", "completed": "Wartung abgeschlossen",
		"affected": "Betroffen", "page": "Statusseite",
	},
}

func message(key string, name fleet.Text, comps []string, u fleet.StatusUpdate, all []fleet.Component) subscribers.Update {
	var names []string
	for _, id := range comps {
		if i := slices.IndexFunc(all, func(c fleet.Component) bool { return c.ID == id }); i >= 0 {
			names = append(names, all[i].Name)
		} else {
			names = append(names, id)
		}
	}
	msg := subscribers.Update{Key: key, Components: slices.Clone(comps), Subject: fleet.Text{}, Body: fleet.Text{}}
	for _, lang := range fleet.SubscriberLanguages {
		words := statusWords[lang]
		status := words[u.Status]
		if status == "" {
			status = u.Status
		}
		msg.Subject[lang] = fmt.Sprintf("[%s] %s", status, name.In(lang, "en"))
		body := u.Body.In(lang, "en")
		if len(names) > 0 {
			body += "\n\n" + words["affected"] + ": " + strings.Join(names, ", ")
		}
		msg.Body[lang] = body
	}
	return msg
}

// enqueue queues the news for the subscribers on q, the transaction of the
// change that made it.
func (s *subscriptions) enqueue(ctx context.Context, q subscribers.Enqueuer, us []subscribers.Update) (int, error) {
	total := 0
	for _, u := range us {
		u.Body = bodyWithPage(u.Body, s.page)
		n, err := subscribers.Fanout(ctx, q, u)
		if err != nil {
			return 0, fmt.Errorf("tell the subscribers of %s: %w", u.Key, err)
		}
		total += n
	}
	return total, nil
}

func bodyWithPage(body fleet.Text, page string) fleet.Text {
	out := fleet.Text{}
	for lang, b := range body {
		out[lang] = b + "\n" + statusWords[lang]["page"] + ": " + page
	}
	return out
}

// subscriptionRoutes adds the public subscription endpoints to mux.
func (s *Site) subscriptionRoutes(mux *http.ServeMux) {
	if s.subs == nil {
		return
	}
	mux.HandleFunc("POST /subscriptions", s.subscribe)
	mux.HandleFunc("GET /subscriptions/confirm", s.confirmSubscription)
	mux.HandleFunc("GET /subscriptions/unsubscribe", s.unsubscribeForm)
	mux.HandleFunc("POST /subscriptions/unsubscribe", s.unsubscribe)
}

// subscriptionJSON is the body of POST /subscriptions; an HTML form sends
// the same fields, components repeated.
type subscriptionJSON struct {
	Kind       string       `json:"kind"`
	Address    string       `json:"address"`
	Language   string       `json:"language"`
	Components []string     `json:"components"`
	Secret     fleet.Secret `json:"secret"`
}

// maxSubscriptionBody bounds what an anonymous client may send.
const maxSubscriptionBody = 16 << 10

// subscribe answers POST /subscriptions alike for every address it takes.
func (s *Site) subscribe(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, maxSubscriptionBody)
	var req subscriptionJSON
	jsonBody := strings.HasPrefix(r.Header.Get("Content-Type"), "application/json")
	if jsonBody {
		if err := httpjson.Decode(r, &req); err != nil {
			s.publicError(w, r, err)
			return
		}
	} else {
		if err := r.ParseForm(); err != nil {
			s.publicError(w, r, fleet.Errorf(fleet.KindInvalid, "request body: not a form"))
			return
		}
		req = subscriptionJSON{Kind: r.PostForm.Get("kind"), Address: r.PostForm.Get("address"), Language: r.PostForm.Get("language"),
			Components: r.PostForm["components"], Secret: fleet.Secret(r.PostForm.Get("secret"))}
	}
	if req.Kind == "" {
		req.Kind = string(fleet.SubscriberEmail)
	}
	if req.Language == "" {
		req.Language = language(r.Header.Get("Accept-Language"))
	}
	if err := s.knownComponents(r.Context(), req.Components); err != nil {
		s.publicError(w, r, err)
		return
	}
	err := s.subs.svc.Subscribe(r.Context(), clientip.LimitKey(s.proxies.Client(r)), subscribers.Request{Kind: fleet.SubscriberKind(req.Kind), Address: strings.TrimSpace(req.Address),
		Language: req.Language, Components: req.Components, Secret: req.Secret})
	if err != nil {
		s.publicError(w, r, err)
		return
	}
	s.publicAnswer(w, r, http.StatusAccepted, req.Language, "subscribed")
}

func (s *Site) knownComponents(ctx context.Context, ids []string) error {
	st, err := s.status.Status(ctx)
	if err != nil {
		return err
	}
	for _, id := range ids {
		if !slices.ContainsFunc(st.Components, func(c fleet.Component) bool { return c.ID == id }) {
			return fleet.Errorf(fleet.KindInvalid, "no component %q on the status page", id)
		}
	}
	return nil
}

// language picks the subscriber's language from Accept-Language, English
// when none of ours is named.
func language(accept string) string {
	for part := range strings.SplitSeq(accept, ",") {
		tag, _, _ := strings.Cut(strings.TrimSpace(part), ";")
		base, _, _ := strings.Cut(strings.ToLower(tag), "-")
		if slices.Contains(fleet.SubscriberLanguages, base) {
			return base
		}
	}
	return "en"
}

// confirmSubscription answers GET /subscriptions/confirm?token=….
func (s *Site) confirmSubscription(w http.ResponseWriter, r *http.Request) {
	lang := language(r.Header.Get("Accept-Language"))
	if err := s.subs.svc.Confirm(r.Context(), r.URL.Query().Get("token")); err != nil {
		s.publicError(w, r, err)
		return
	}
	s.publicAnswer(w, r, http.StatusOK, lang, "confirmed")
}

// unsubscribeForm answers GET /subscriptions/unsubscribe?token=… with a
// button: mail scanners follow links, and must not unsubscribe anyone.
func (s *Site) unsubscribeForm(w http.ResponseWriter, r *http.Request) {
	lang := language(r.Header.Get("Accept-Language"))
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("Referrer-Policy", "no-referrer")
	_ = unsubscribePage.Execute(w, map[string]string{"Lang": lang, "Text": publicTexts[lang]["unsubscribe?"], "Button": publicTexts[lang]["button"]})
}

var unsubscribePage = template.Must(template.New("unsubscribe").Parse(`<!doctype html>
<html lang="{{.Lang}}"><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>{{.Text}}</title>
<form method="post"><p>{{.Text}}</p><button type="submit">{{.Button}}</button></form>
`))

// unsubscribe answers POST /subscriptions/unsubscribe?token=…, the
// one-click unsubscribe of RFC 8058 and the form's button.
func (s *Site) unsubscribe(w http.ResponseWriter, r *http.Request) {
	lang := language(r.Header.Get("Accept-Language"))
	if err := s.subs.svc.Unsubscribe(r.Context(), r.URL.Query().Get("token")); err != nil {
		s.publicError(w, r, err)
		return
	}
	s.publicAnswer(w, r, http.StatusOK, lang, "unsubscribed")
}

var publicTexts = map[string]map[string]string{
	"en": {
		"subscribed":   "Thank you. If this address can be subscribed, a confirmation is on its way: follow its link.",
		"confirmed":    "Your subscription is confirmed.",
		"unsubscribed": "You are unsubscribed and will get no more notifications.",
		"unsubscribe?": "Stop the notifications of this status page?",
		"button":       "Unsubscribe",
		"notfound":     "This link is unknown or was already used.",
	},
	"fr": {
		"subscribed":   "Merci. Si cette adresse peut être abonnée, une confirmation est en route : suivez son lien.",
		"confirmed":    "Votre abonnement est confirmé.",
		"unsubscribed": "Vous êtes désabonné et ne recevrez plus de notifications.",
		"unsubscribe?": "Ne plus recevoir les notifications de cette page d'état ?",
		"button":       "Se désabonner",
		"notfound":     "Ce lien est inconnu ou a déjà servi.",
	},
	"de": {
		"subscribed":   "Danke. Wenn diese Adresse abonniert werden kann, ist eine Bestätigung unterwegs: Folgen Sie ihrem Link.",
		"confirmed":    "Ihr Abonnement ist bestätigt.",
		"unsubscribed": "Sie sind abgemeldet und erhalten keine Benachrichtigungen mehr.",
		"unsubscribe?": "Keine Benachrichtigungen dieser Statusseite mehr erhalten?",
		"button":       "Abmelden",
		"notfound":     "Dieser Link ist unbekannt oder wurde schon benutzt.",
	},
}

// publicAnswer says what happened, in JSON to a client that sends or
// accepts it, else in plain text.
func (s *Site) publicAnswer(w http.ResponseWriter, r *http.Request, status int, lang, what string) {
	texts, ok := publicTexts[lang]
	if !ok {
		texts = publicTexts["en"]
	}
	if wantsJSON(r) {
		httpjson.Write(w, status, map[string]string{"message": texts[what]})
		return
	}
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	fmt.Fprintln(w, texts[what])
}

func wantsJSON(r *http.Request) bool {
	return strings.HasPrefix(r.Header.Get("Content-Type"), "application/json") || strings.Contains(r.Header.Get("Accept"), "application/json")
}

// publicError answers an anonymous client: what it got wrong, or that it
// asks too often; an internal error goes to the log only.
func (s *Site) publicError(w http.ResponseWriter, r *http.Request, err error) {
	status, msg := http.StatusInternalServerError, "internal error"
	switch {
	case errors.Is(err, subscribers.ErrRateLimited):
		status, msg = http.StatusTooManyRequests, "too many subscription requests from this address: try again in a few minutes"
		w.Header().Set("Retry-After", "60")
	case fleet.KindOf(err) == fleet.KindNotFound:
		status, msg = http.StatusNotFound, publicTexts[language(r.Header.Get("Accept-Language"))]["notfound"]
	case fleet.KindOf(err) == fleet.KindInvalid:
		status, msg = http.StatusBadRequest, err.Error()
	default:
		s.log.Error("public subscription request failed", "path", r.URL.Path, "err", err)
	}
	if wantsJSON(r) {
		httpjson.Write(w, status, map[string]string{"error": msg})
		return
	}
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	fmt.Fprintln(w, msg)
}
