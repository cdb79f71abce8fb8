// Package dashboard is the operators' view of the daemon, under /dashboard/
// on its API listener: the rollouts, a rollout's live progress with its
// pause, resume and abort buttons, and the status page's editor.
//
// It is a client of the daemon's own API, called in-process: every page
// reads and every button acts through the same handlers, role checks and
// audit events as `illico` on the command line, as the token the operator
// logged in with. It keeps only sessions of its own, in memory.
package dashboard

import (
	"context"
	"embed"
	"errors"
	"fmt"
	"html/template"
	"io/fs"
	"log/slog"
	"net/http"
	"time"

	"github.com/illico-dev/illico/internal/store"
)

//go:embed templates/*.html
var templateFS embed.FS

//go:embed static
var staticFS embed.FS

// Prefix is where the dashboard is mounted.
const Prefix = "/dashboard/"

// DefaultLifetime bounds a session: after it, the operator logs in again.
const DefaultLifetime = 8 * time.Hour

// Authenticator checks a token's secret at login.
type Authenticator interface {
	Authenticate(ctx context.Context, secret string) (store.Token, error)
}

// Options configure a Dashboard. Auth and API are required.
type Options struct {
	Auth Authenticator
	// API is the daemon's HTTP API, with its authentication; the dashboard
	// sends it the session's token as a bearer.
	API    http.Handler
	Now    func() time.Time
	Logger *slog.Logger
	// Lifetime bounds a session; DefaultLifetime when zero.
	Lifetime time.Duration
}

// Dashboard serves the pages under Prefix.
type Dashboard struct {
	auth     Authenticator
	api      http.Handler
	log      *slog.Logger
	sessions *sessions
	pages    map[string]*template.Template
	mux      *http.ServeMux
}

// New parses the templates and returns the dashboard.
func New(opts Options) (*Dashboard, error) {
	if opts.Auth == nil || opts.API == nil {
		return nil, errors.New("dashboard: an authenticator and the API are required")
	}
	d := &Dashboard{auth: opts.Auth, api: opts.API, log: opts.Logger}
	if d.log == nil {
		d.log = slog.New(slog.DiscardHandler)
	}
	now := opts.Now
	if now == nil {
		now = time.Now
	}
	lifetime := opts.Lifetime
	if lifetime <= 0 {
		lifetime = DefaultLifetime
	}
	d.sessions = newSessions(now, lifetime)
	var err error
	if d.pages, err = parsePages(); err != nil {
		return nil, err
	}
	static, err := fs.Sub(staticFS, "static")
	if err != nil {
		return nil, fmt.Errorf("dashboard static files: %w", err)
	}
	m := http.NewServeMux()
	m.Handle("GET /dashboard/static/", http.StripPrefix("/dashboard/static/", http.FileServerFS(static)))
	m.HandleFunc("GET /dashboard/{$}", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, "/dashboard/rollouts", http.StatusSeeOther)
	})
	m.HandleFunc("GET /dashboard/login", d.loginPage)
	m.HandleFunc("POST /dashboard/login", d.login)
	m.Handle("POST /dashboard/logout", d.session(d.logout))
	m.Handle("GET /dashboard/rollouts", d.session(d.rollouts))
	m.Handle("GET /dashboard/rollouts/{id}", d.session(d.rollout))
	m.Handle("GET /dashboard/rollouts/{id}/events", d.session(d.rolloutEvents))
	m.Handle("POST /dashboard/rollouts/{id}/{order}", d.session(d.orderRollout))
	m.Handle("GET /dashboard/status", d.session(d.status))
	m.Handle("POST /dashboard/status/incidents", d.session(d.openIncident))
	m.Handle("POST /dashboard/status/incidents/{id}/updates", d.session(d.addUpdate("incidents")))
	m.Handle("POST /dashboard/status/maintenances/{id}/updates", d.session(d.addUpdate("maintenances")))
	d.mux = m
	return d, nil
}

// ServeHTTP serves the dashboard, with headers that keep its pages out of
// caches and frames and let them run only the dashboard's own script.
func (d *Dashboard) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	h := w.Header()
	h.Set("Content-Security-Policy", "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("X-Frame-Options", "DENY")
	h.Set("Referrer-Policy", "same-origin")
	h.Set("Cache-Control", "no-store")
	if r.Method == http.MethodPost && !sameOrigin(r) {
		d.fail(w, r, nil, http.StatusForbidden, "This form was sent from another site; it was refused.")
		return
	}
	d.mux.ServeHTTP(w, r)
}

// sameOrigin refuses a POST whose Origin names another site. Browsers send
// Origin on every POST; a client that sends none (curl) is not a browser a
// forged form could drive.
func sameOrigin(r *http.Request) bool {
	origin := r.Header.Get("Origin")
	if origin == "" {
		return true
	}
	scheme := "http://"
	if r.TLS != nil {
		scheme = "https://"
	}
	return origin == scheme+r.Host
}
