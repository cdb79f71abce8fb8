package site

// The subscription endpoints of the public listener: subscribe, confirm
// and unsubscribe, answered in JSON or plain text in the customer's
// language.

import (
	"context"
	"errors"
	"fmt"
	"html/template"
	"net/http"
	"slices"
	"strings"

	"github.com/illico-dev/illico/internal/clientip"
	"github.com/illico-dev/illico/internal/fleet"
	"github.com/illico-dev/illico/internal/httpjson"
	"github.com/illico-dev/illico/internal/statuspage/subscribers"
)

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
		if fleet.IsLanguage(base) {
			return base
		}
	}
	return fleet.ReferenceLanguage
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
	_ = unsubscribePage.Execute(w, map[string]string{"Lang": lang, "Text": s.subs.texts.T(lang, "subscription.unsubscribe?"), "Button": s.subs.texts.T(lang, "subscription.button")})
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

// publicAnswer says what happened, in JSON to a client that sends or
// accepts it, else in plain text.
func (s *Site) publicAnswer(w http.ResponseWriter, r *http.Request, status int, lang, what string) {
	msg := s.subs.texts.T(lang, "subscription."+what)
	if wantsJSON(r) {
		httpjson.Write(w, status, map[string]string{"message": msg})
		return
	}
	writeText(w, status, msg)
}

// writeText answers msg in plain text, a line.
func writeText(w http.ResponseWriter, status int, msg string) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	fmt.Fprintln(w, msg)
}

func wantsJSON(r *http.Request) bool {
	return strings.HasPrefix(r.Header.Get("Content-Type"), "application/json") || strings.Contains(r.Header.Get("Accept"), "application/json")
}

// publicError answers an anonymous client with the status code of the
// error's kind (the one table of package httpjson) and what it got wrong,
// or that it asks too often; an internal error goes to the log only, and a
// link that leads nowhere is said in the client's language.
func (s *Site) publicError(w http.ResponseWriter, r *http.Request, err error) {
	kind := fleet.KindOf(err)
	status, msg := httpjson.Status(kind), err.Error()
	switch {
	case errors.Is(err, subscribers.ErrRateLimited):
		status, msg = http.StatusTooManyRequests, "too many subscription requests from this address: try again in a few minutes"
		w.Header().Set("Retry-After", "60")
	case kind == fleet.KindNotFound:
		msg = s.subs.texts.T(language(r.Header.Get("Accept-Language")), "subscription.notfound")
	case kind == fleet.KindInternal:
		msg = "internal error"
		s.log.Error("public subscription request failed", "path", r.URL.Path, "err", err)
	}
	if wantsJSON(r) {
		httpjson.Write(w, status, map[string]string{"error": msg})
		return
	}
	writeText(w, status, msg)
}
