package dashboard

import (
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"net/http"
	"sync"
	"time"

	"github.com/illico-dev/illico/internal/fleet"
	"github.com/illico-dev/illico/internal/store"
)

// cookieName is the session cookie's; it holds a random id and nothing else.
const cookieName = "illico_session"

// maxSessions bounds the memory logins can take; past it, the session
// closest to its end goes first.
const maxSessions = 10000

// session is a logged-in operator. The secret stays in this process's
// memory, never in the cookie: the dashboard needs it to call the API as
// the token, so that a revoked token stops its sessions at once.
type session struct {
	tokenID int64
	name    string
	role    store.Role
	secret  fleet.Secret
	// csrf is sent back in every form and checked on every POST.
	csrf    string
	expires time.Time
}

func (s *session) canAct() bool { return s.role.Allows(store.RoleOperator) }

// sessions are kept by the hash of their id, so that a look-up's timing
// says nothing of the ids.
type sessions struct {
	mu       sync.Mutex
	m        map[[32]byte]*session
	now      func() time.Time
	lifetime time.Duration
}

func newSessions(now func() time.Time, lifetime time.Duration) *sessions {
	return &sessions{m: map[[32]byte]*session{}, now: now, lifetime: lifetime}
}

func randomID() string {
	b := make([]byte, 32)
	_, _ = rand.Read(b) // crypto/rand.Read never fails
	return hex.EncodeToString(b)
}

// create starts a session for tok and returns its id.
func (ss *sessions) create(tok store.Token, secret fleet.Secret) (string, *session) {
	id := randomID()
	s := &session{tokenID: tok.ID, name: tok.Name, role: tok.Role, secret: secret, csrf: randomID(), expires: ss.now().Add(ss.lifetime)}
	ss.mu.Lock()
	defer ss.mu.Unlock()
	if len(ss.m) >= maxSessions {
		ss.prune()
	}
	ss.m[sha256.Sum256([]byte(id))] = s
	return id, s
}

// prune drops the expired sessions, and the one closest to its end if
// none was.
func (ss *sessions) prune() {
	now := ss.now()
	var first [32]byte
	var soonest time.Time
	for k, s := range ss.m {
		if !now.Before(s.expires) {
			delete(ss.m, k)
			continue
		}
		if soonest.IsZero() || s.expires.Before(soonest) {
			first, soonest = k, s.expires
		}
	}
	if len(ss.m) >= maxSessions {
		delete(ss.m, first)
	}
}

// get returns the live session of id; expired says one was there but
// ended.
func (ss *sessions) get(id string) (s *session, expired bool) {
	k := sha256.Sum256([]byte(id))
	ss.mu.Lock()
	defer ss.mu.Unlock()
	s, ok := ss.m[k]
	if !ok {
		return nil, false
	}
	if !ss.now().Before(s.expires) {
		delete(ss.m, k)
		return nil, true
	}
	return s, false
}

func (ss *sessions) drop(id string) {
	ss.mu.Lock()
	defer ss.mu.Unlock()
	delete(ss.m, sha256.Sum256([]byte(id)))
}

func setCookie(w http.ResponseWriter, r *http.Request, value string, maxAge int) {
	http.SetCookie(w, &http.Cookie{
		Name: cookieName, Value: value, Path: Prefix, MaxAge: maxAge,
		HttpOnly: true, Secure: r.TLS != nil, SameSite: http.SameSiteStrictMode,
	})
}

// pageFunc is a page or an action for a logged-in operator.
type pageFunc func(w http.ResponseWriter, r *http.Request, s *session)

// session runs h for the request's session; without one, a page sends to
// the login. Every POST must carry the session's CSRF token.
func (d *Dashboard) session(h pageFunc) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var s *session
		expired := false
		c, err := r.Cookie(cookieName)
		if err == nil {
			s, expired = d.sessions.get(c.Value)
		}
		if s == nil {
			to := "/dashboard/login"
			if expired {
				to += "?expired=1"
				setCookie(w, r, "", -1)
			}
			http.Redirect(w, r, to, http.StatusSeeOther)
			return
		}
		if r.Method == http.MethodPost {
			got := r.PostFormValue("csrf")
			if subtle.ConstantTimeCompare([]byte(got), []byte(s.csrf)) != 1 {
				d.fail(w, r, s, http.StatusForbidden, "This form is out of date or was not sent from the dashboard; reload the page and try again.")
				return
			}
		}
		h(w, r, s)
	})
}

func (d *Dashboard) loginPage(w http.ResponseWriter, r *http.Request) {
	msg := ""
	if r.URL.Query().Get("expired") != "" {
		msg = "Your session ended; log in again."
	}
	d.render(w, r, http.StatusOK, "login", nil, map[string]any{"Message": msg})
}

// login checks the token with the store and starts a session. The token
// is never repeated back, nor logged.
func (d *Dashboard) login(w http.ResponseWriter, r *http.Request) {
	secret := fleet.Secret(r.PostFormValue("token"))
	tok, err := d.auth.Authenticate(r.Context(), string(secret))
	if err != nil {
		status := http.StatusUnauthorized
		msg := "This token is not valid: it is unknown or was revoked."
		if k := fleet.KindOf(err); k != fleet.KindUnauthorized {
			status = http.StatusServiceUnavailable
			msg = "The daemon could not check the token; try again."
			d.log.Error("dashboard login", "err", err)
		}
		d.render(w, r, status, "login", nil, map[string]any{"Message": msg})
		return
	}
	id, _ := d.sessions.create(tok, secret)
	setCookie(w, r, id, int(d.sessions.lifetime.Seconds()))
	d.log.Info("dashboard login", "token_id", tok.ID, "role", tok.Role)
	http.Redirect(w, r, "/dashboard/rollouts", http.StatusSeeOther)
}

func (d *Dashboard) logout(w http.ResponseWriter, r *http.Request, s *session) {
	if c, err := r.Cookie(cookieName); err == nil {
		d.sessions.drop(c.Value)
	}
	setCookie(w, r, "", -1)
	d.log.Info("dashboard logout", "token_id", s.tokenID)
	http.Redirect(w, r, "/dashboard/login", http.StatusSeeOther)
}
