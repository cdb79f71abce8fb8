package server

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/illico-dev/illico/internal/dashboard"
	"github.com/illico-dev/illico/internal/fleet"
	"github.com/illico-dev/illico/internal/store"
)

// reqInfo follows a request through the middleware: observe creates it,
// the router and auth fill it in, observe reads it back to log and count.
type reqInfo struct {
	id      string
	pattern string
	// token is who sent the request. For a dashboard account, it is a
	// token of the account's role and name, without an id, and account is
	// the account.
	token   *fleet.Token
	account *store.Account
}

// actor names who sent the request, for the audit trail.
func (ri *reqInfo) actor() string {
	switch {
	case ri.account != nil:
		return "account " + ri.account.Name
	case ri.token != nil:
		return fmt.Sprintf("token %d (%s)", ri.token.ID, ri.token.Name)
	}
	return "nobody"
}

type reqInfoKey struct{}

func info(ctx context.Context) *reqInfo {
	if ri, ok := ctx.Value(reqInfoKey{}).(*reqInfo); ok {
		return ri
	}
	return &reqInfo{}
}

func requestID(ctx context.Context) string { return info(ctx).id }

func chain(h http.Handler, mw ...func(http.Handler) http.Handler) http.Handler {
	for i := len(mw) - 1; i >= 0; i-- {
		h = mw[i](h)
	}
	return h
}

// recorder remembers the status and size of an answer.
type recorder struct {
	http.ResponseWriter
	status int
	bytes  int
}

func (rec *recorder) WriteHeader(code int) {
	if rec.status == 0 {
		rec.status = code
	}
	rec.ResponseWriter.WriteHeader(code)
}

func (rec *recorder) Write(b []byte) (int, error) {
	if rec.status == 0 {
		rec.status = http.StatusOK
	}
	n, err := rec.ResponseWriter.Write(b)
	rec.bytes += n
	return n, err
}

func (rec *recorder) Unwrap() http.ResponseWriter { return rec.ResponseWriter }

// observe gives each request an id (echoed as X-Request-Id), then logs it
// and counts it by route pattern and status. Its remote is the client, past
// the trusted proxies; peer, the proxy it came through, is logged only when
// there are proxies to trust. The secret of a token never
// reaches the log: only the token's id does.
func (s *Server) observe(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := s.now()
		ri := &reqInfo{id: newRequestID()}
		w.Header().Set("X-Request-Id", ri.id)
		rec := &recorder{ResponseWriter: w}
		next.ServeHTTP(rec, r.WithContext(context.WithValue(r.Context(), reqInfoKey{}, ri)))
		if rec.status == 0 {
			rec.status = http.StatusOK
		}
		elapsed := s.now().Sub(start)
		route := ri.pattern
		if route == "" {
			route = "unmatched"
		}
		code := strconv.Itoa(rec.status)
		s.metrics.requests.WithLabelValues(route, code).Inc()
		s.metrics.duration.WithLabelValues(route, code).Observe(elapsed.Seconds())
		attrs := []any{
			"request_id", ri.id, "method", r.Method, "path", r.URL.Path, "route", route,
			"status", rec.status, "bytes", rec.bytes, "duration", elapsed.Round(time.Microsecond), "remote", s.proxies.Client(r),
		}
		if len(s.proxies) > 0 {
			attrs = append(attrs, "peer", r.RemoteAddr)
		}
		switch {
		case ri.account != nil:
			attrs = append(attrs, "account", ri.account.Name)
		case ri.token != nil:
			attrs = append(attrs, "token_id", ri.token.ID)
		}
		s.log.Info("request", attrs...)
	})
}

func newRequestID() string {
	b := make([]byte, 8)
	rand.Read(b)
	return hex.EncodeToString(b)
}

// route records the pattern the router matched, for observe: the router
// sets it on the request it was given, which observe never sees.
func route(mux *http.ServeMux) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mux.ServeHTTP(w, r)
		info(r.Context()).pattern = r.Pattern
	})
}

// limitBody bounds every request's body at maxBody. A route that takes
// more says so with allowBody, which bounds the same body anew: the
// request keeps the body as it came for it.
func limitBody(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		raw := r.Body
		r.Body = http.MaxBytesReader(w, raw, maxBody)
		next.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), rawBodyKey{}, raw)))
	})
}

// rawBodyKey holds, in a request's context, its body without the bound
// of limitBody.
type rawBodyKey struct{}

// allowBody bounds the bodies h reads at limit instead of maxBody; it
// must run before anything reads the body.
func allowBody(limit int64, h handler) handler {
	return func(w http.ResponseWriter, r *http.Request) error {
		if raw, ok := r.Context().Value(rawBodyKey{}).(io.ReadCloser); ok {
			r.Body = http.MaxBytesReader(w, raw, limit)
		}
		return h(w, r)
	}
}

// handler is an API endpoint: it writes its answer, or returns an error for
// writeError to answer with.
type handler func(w http.ResponseWriter, r *http.Request) error

// authorize wraps h so that it runs only for a valid token whose role
// allows need.
func (s *Server) authorize(need fleet.Role, h handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if err := s.authenticate(r, need); err != nil {
			s.writeError(w, r, err)
			return
		}
		if err := h(w, r); err != nil {
			s.writeError(w, r, err)
		}
	})
}

// authenticate finds who sent r and checks that their role allows need:
// the token of the Authorization header, or the principal of a dashboard
// session, which only the dashboard's in-process calls carry (see
// asPrincipal): nothing in a request from the network can set it.
func (s *Server) authenticate(r *http.Request, need fleet.Role) error {
	if p, ok := r.Context().Value(principalKey{}).(dashboard.Principal); ok {
		return s.authenticatePrincipal(r, p, need)
	}
	header := r.Header.Get("Authorization")
	if header == "" {
		return fleet.Errorf(fleet.KindUnauthorized, "this needs an API token: send the header Authorization: Bearer TOKEN")
	}
	scheme, secret, ok := strings.Cut(header, " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") {
		return fleet.Errorf(fleet.KindUnauthorized, "the Authorization header must be Bearer TOKEN")
	}
	tok, err := s.store.Authenticate(r.Context(), strings.TrimSpace(secret))
	if err != nil {
		return s.storeErr("authenticate", err)
	}
	return s.allowToken(r, tok, need)
}

// allowToken records tok as the request's sender and checks its role.
func (s *Server) allowToken(r *http.Request, tok fleet.Token, need fleet.Role) error {
	ri := info(r.Context())
	ri.token = &tok
	if !tok.Role.Allows(need) {
		return fleet.Errorf(fleet.KindForbidden, "%s has role %s; this needs %s", ri.actor(), tok.Role, need)
	}
	// Skipping a recent touch here spares the store's one writer a query
	// on most requests.
	if s.now().Sub(tok.LastUsed) < store.TouchInterval {
		return nil
	}
	if err := s.store.TouchToken(r.Context(), tok.ID); err != nil {
		// Last use is a convenience: not worth failing the request for.
		s.log.Warn("record token use", "request_id", requestID(r.Context()), "token_id", tok.ID, "err", s.storeErr("touch_token", err))
	}
	return nil
}

// principalKey holds a dashboard session's principal in a request's
// context. Unexported: only asPrincipal sets it.
type principalKey struct{}

// asPrincipal is the dashboard's hook: its in-process call r acts as p.
func asPrincipal(r *http.Request, p dashboard.Principal) *http.Request {
	return r.WithContext(context.WithValue(r.Context(), principalKey{}, p))
}

// authenticatePrincipal checks a dashboard session's principal against the
// store on every call: a token revoked, an account removed, disabled or
// given a new password since the login ends the session there.
func (s *Server) authenticatePrincipal(r *http.Request, p dashboard.Principal, need fleet.Role) error {
	switch p.Kind {
	case dashboard.PrincipalToken:
		tok, err := s.store.Token(r.Context(), p.ID)
		switch {
		case fleet.KindOf(err) == fleet.KindNotFound:
			return fleet.Errorf(fleet.KindUnauthorized, "token %d (%s) is gone", p.ID, p.Name)
		case err != nil:
			return s.storeErr("authenticate", err)
		case !tok.Active():
			return fleet.Errorf(fleet.KindUnauthorized, "token %d (%s) was revoked", tok.ID, tok.Name)
		}
		return s.allowToken(r, tok, need)
	case dashboard.PrincipalAccount:
		a, err := s.store.Account(r.Context(), p.Name)
		switch {
		case fleet.KindOf(err) == fleet.KindNotFound || err == nil && a.ID != p.ID:
			return fleet.Errorf(fleet.KindUnauthorized, "account %s was removed", p.Name)
		case err != nil:
			return s.storeErr("authenticate", err)
		case !a.Active():
			return fleet.Errorf(fleet.KindUnauthorized, "account %s is disabled", a.Name)
		case a.PasswordChanged.After(p.Since):
			return fleet.Errorf(fleet.KindUnauthorized, "the password of account %s changed since this session began", a.Name)
		}
		ri := info(r.Context())
		ri.account = &a
		// Handlers that name the sender read the token.
		ri.token = &fleet.Token{Name: "account " + a.Name, Role: a.Role}
		if !a.Role.Allows(need) {
			return fleet.Errorf(fleet.KindForbidden, "%s has role %s; this needs %s", ri.actor(), a.Role, need)
		}
		return nil
	}
	return fleet.Errorf(fleet.KindUnauthorized, "a dashboard session of unknown kind %q", p.Kind)
}

// storeErr counts err in illico_store_errors_total when the store failed
// (rather than the request being wrong), and returns it.
func (s *Server) storeErr(op string, err error) error {
	if k := fleet.KindOf(err); k == fleet.KindInternal || k == fleet.KindUnavailable {
		s.metrics.storeErrors.WithLabelValues(op).Inc()
	}
	return err
}
