package server

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/illico-dev/illico/internal/fleet"
	"github.com/illico-dev/illico/internal/store"
)

// reqInfo follows a request through the middleware: observe creates it,
// the router and auth fill it in, observe reads it back to log and count.
type reqInfo struct {
	id      string
	pattern string
	token   *store.Token
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
// and counts it by route pattern and status. The secret of a token never
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
			"status", rec.status, "bytes", rec.bytes, "duration", elapsed.Round(time.Microsecond), "remote", r.RemoteAddr,
		}
		if ri.token != nil {
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

func limitBody(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		r.Body = http.MaxBytesReader(w, r.Body, maxBody)
		next.ServeHTTP(w, r)
	})
}

// handler is an API endpoint: it writes its answer, or returns an error for
// writeError to answer with.
type handler func(w http.ResponseWriter, r *http.Request) error

// authorize wraps h so that it runs only for a valid token whose role
// allows need.
func (s *Server) authorize(need store.Role, h handler) http.Handler {
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

func (s *Server) authenticate(r *http.Request, need store.Role) error {
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
	info(r.Context()).token = &tok
	if !tok.Role.Allows(need) {
		return fleet.Errorf(fleet.KindForbidden, "token %d (%s) has role %s; this needs %s", tok.ID, tok.Name, tok.Role, need)
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

// storeErr counts err in illico_store_errors_total when the store failed
// (rather than the request being wrong), and returns it.
func (s *Server) storeErr(op string, err error) error {
	if k := fleet.KindOf(err); k == fleet.KindInternal || k == fleet.KindUnavailable {
		s.metrics.storeErrors.WithLabelValues(op).Inc()
	}
	return err
}
