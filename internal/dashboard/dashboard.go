// Package dashboard is the operators' view of the daemon, under /dashboard/
// on its API listener: the rollouts, a rollout's live progress with its
// pause, resume and abort buttons, the groups' budgets with who is out of
// service and the drain and undrain of a host, and the status page's
// editor: incidents, maintenances scheduled by hand, updates and
// components' statuses set by hand.
//
// It is a client of the daemon's own API, called in-process: every page
// reads and every button acts through the same handlers, role checks and
// audit events as `illico` on the command line, as the token or the
// account the operator logged in with. It keeps only sessions of its own,
// in memory, and no secret in them: a session knows who logged in, and
// the daemon checks that principal again on every call.
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
	"runtime"
	"time"

	"github.com/illico-dev/illico/internal/clientip"
	"github.com/illico-dev/illico/internal/fleet"
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

// Authenticator checks a token's secret or an account's password at
// login. LoginAccount answers a wrong name as it answers a wrong password,
// after the same work.
type Authenticator interface {
	Authenticate(ctx context.Context, secret string) (fleet.Token, error)
	LoginAccount(ctx context.Context, name, password string) (store.Account, error)
}

// PrincipalKind says what logged in.
type PrincipalKind string

const (
	PrincipalToken   PrincipalKind = "token"
	PrincipalAccount PrincipalKind = "account"
)

// Principal is who a session acts as, without any secret.
type Principal struct {
	Kind PrincipalKind
	// ID is the token's or the account's id in the store: an account
	// removed and created again under its name is another account.
	ID   int64
	Name string
	// Role is the role at login, for what the pages show; the daemon
	// checks the current one on every call.
	Role fleet.Role
	// Since is when an account logged in, by the store's clock: a password
	// set after it ends the session.
	Since time.Time
}

// Options configure a Dashboard. Auth, API and As are required.
type Options struct {
	Auth Authenticator
	// API is the daemon's HTTP API, with its authentication.
	API http.Handler
	// As makes an API request act as a session's principal. The daemon
	// gives a function whose mark no request from the network can carry.
	As     func(r *http.Request, p Principal) *http.Request
	Now    func() time.Time
	Logger *slog.Logger
	// Lifetime bounds a session; DefaultLifetime when zero.
	Lifetime time.Duration
	// Proxies are the reverse proxies in front of the daemon whose
	// X-Forwarded-For names the client failed logins are counted by; none
	// by default.
	Proxies clientip.Trusted
}

// Dashboard serves the pages under Prefix.
type Dashboard struct {
	auth     Authenticator
	api      http.Handler
	as       func(r *http.Request, p Principal) *http.Request
	log      *slog.Logger
	now      func() time.Time
	sessions *sessions
	throttle *throttle
	proxies  clientip.Trusted
	// hashing bounds the password checks running at once: each takes
	// tens of megabytes for tens of milliseconds.
	hashing chan struct{}
	pages   map[string]*template.Template
	mux     *http.ServeMux
}

// New parses the templates and returns the dashboard.
func New(opts Options) (*Dashboard, error) {
	if opts.Auth == nil || opts.API == nil || opts.As == nil {
		return nil, errors.New("dashboard: an authenticator, the API and its principal hook are required")
	}
	d := &Dashboard{auth: opts.Auth, api: opts.API, as: opts.As, log: opts.Logger, proxies: opts.Proxies,
		hashing: make(chan struct{}, runtime.GOMAXPROCS(0))}
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
	d.now = now
	d.sessions = newSessions(now, lifetime)
	d.throttle = newThrottle(now)
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
	m.Handle("GET /dashboard/account", d.session(d.accountPage))
	m.Handle("POST /dashboard/account/password", d.session(d.changePassword))
	m.Handle("GET /dashboard/rollouts", d.session(d.rollouts))
	m.Handle("GET /dashboard/rollouts/{id}", d.session(d.rollout))
	m.Handle("GET /dashboard/rollouts/{id}/events", d.session(d.rolloutEvents))
	m.Handle("POST /dashboard/rollouts/{id}/{order}", d.session(d.orderRollout))
	m.Handle("GET /dashboard/budget", d.session(d.budgets))
	m.Handle("POST /dashboard/hosts/{name}/drain", d.session(d.drainHost))
	m.Handle("POST /dashboard/hosts/{name}/undrain", d.session(d.undrainHost))
	m.Handle("GET /dashboard/status", d.session(d.status))
	m.Handle("POST /dashboard/status/incidents", d.session(d.openIncident))
	m.Handle("POST /dashboard/status/incidents/{id}/updates", d.session(d.updateIncident))
	m.Handle("POST /dashboard/status/maintenances", d.session(d.scheduleMaintenance))
	m.Handle("POST /dashboard/status/maintenances/{id}/updates", d.session(d.updateMaintenance))
	m.Handle("POST /dashboard/status/components/{id}", d.session(d.setComponent))
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
