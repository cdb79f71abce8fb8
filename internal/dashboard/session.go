package dashboard

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/illico-dev/illico/internal/clientip"
	"github.com/illico-dev/illico/internal/fleet"
)

// cookieName is the session cookie's; it holds a random id and nothing else.
const cookieName = "illico_session"

// maxSessions bounds the memory logins can take; past it, the session
// closest to its end goes first.
const maxSessions = 10000

// session is a logged-in operator: who, and nothing to prove it with. The
// API checks the principal against the store on every call, so that a
// revoked token or a removed account ends its sessions at once.
type session struct {
	principal Principal
	// csrf is sent back in every form and checked on every POST.
	csrf    string
	expires time.Time

	mu sync.Mutex
	// notes are what an action said, for the page it redirects to: kept
	// here rather than in the redirect's URL, so that no link can make
	// the dashboard say a text of its author's.
	notes []note
}

func (s *session) canAct() bool { return s.principal.Role.Allows(fleet.RoleOperator) }

// note is one message of an action's outcome; Kind is its class on the
// page: "done", "notice" (a warning) or "refused".
type note struct{ Kind, Text string }

// tell keeps notes for the session's next page.
func (s *session) tell(notes ...note) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.notes = append(s.notes, notes...)
}

// told takes the notes kept: each is shown once.
func (s *session) told() []note {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := s.notes
	s.notes = nil
	return n
}

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

// create starts a session for p and returns its id.
func (ss *sessions) create(p Principal) (string, *session) {
	id := randomID()
	s := &session{principal: p, csrf: randomID(), expires: ss.now().Add(ss.lifetime)}
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
	switch {
	case r.URL.Query().Get("expired") != "":
		msg = "Your session ended; log in again."
	case r.URL.Query().Get("changed") != "":
		msg = "Your password was changed; log in with the new one."
	}
	d.render(w, r, http.StatusOK, "login", nil, map[string]any{"Message": msg})
}

// login checks a token, or an account's name and password, and starts a
// session. Failures are throttled per client address and per account
// name. Neither the token nor the password is repeated back or logged,
// and a wrong name is answered as a wrong password.
func (d *Dashboard) login(w http.ResponseWriter, r *http.Request) {
	token := r.PostFormValue("token")
	name := strings.ToLower(strings.TrimSpace(r.PostFormValue("name")))
	byAccount := token == ""
	client := d.proxies.Client(r)
	keys := []string{"address " + clientip.LimitKey(client)}
	if byAccount {
		keys = append(keys, "account "+name)
	}
	data := map[string]any{"Name": name, "Account": byAccount}
	if wait := d.throttle.wait(keys...); wait > 0 {
		d.log.Warn("dashboard login refused: too many failures", "remote", client, "wait", wait)
		w.Header().Set("Retry-After", fmt.Sprint(int(wait.Seconds())))
		data["Message"] = fmt.Sprintf("Too many attempts; try again in %s.", wait)
		d.render(w, r, http.StatusTooManyRequests, "login", nil, data)
		return
	}
	var p Principal
	var err error
	if byAccount {
		p, err = d.loginAccount(r.Context(), name, r.PostFormValue("password"))
	} else {
		var tok fleet.Token
		if tok, err = d.auth.Authenticate(r.Context(), token); err == nil {
			p = Principal{Kind: PrincipalToken, ID: tok.ID, Name: tok.Name, Role: tok.Role}
		}
	}
	if err != nil {
		status := http.StatusUnauthorized
		data["Message"] = "This token is not valid: it is unknown or was revoked."
		if byAccount {
			data["Message"] = "This name and password do not match an account that may log in."
		}
		if k := fleet.KindOf(err); k != fleet.KindUnauthorized {
			status = http.StatusServiceUnavailable
			data["Message"] = "The daemon could not check the login; try again."
			d.log.Error("dashboard login", "err", err)
		} else {
			d.throttle.fail(keys...)
			// Not the name: people type their password into it.
			d.log.Info("dashboard login failed", "remote", client, "account", byAccount)
		}
		d.render(w, r, status, "login", nil, data)
		return
	}
	if byAccount {
		d.throttle.clear(keys[1])
	}
	id, _ := d.sessions.create(p)
	setCookie(w, r, id, int(d.sessions.lifetime.Seconds()))
	d.log.Info("dashboard login", string(p.Kind), p.Name, "id", p.ID, "role", p.Role, "remote", client)
	http.Redirect(w, r, "/dashboard/rollouts", http.StatusSeeOther)
}

// loginAccount checks a password, no more at once than the daemon has
// processors.
func (d *Dashboard) loginAccount(ctx context.Context, name, password string) (Principal, error) {
	select {
	case d.hashing <- struct{}{}:
		defer func() { <-d.hashing }()
	case <-ctx.Done():
		return Principal{}, ctx.Err()
	}
	a, err := d.auth.LoginAccount(ctx, name, password)
	if err != nil {
		return Principal{}, err
	}
	return Principal{Kind: PrincipalAccount, ID: a.ID, Name: a.Name, Role: a.Role, Since: a.LastLogin}, nil
}

func (d *Dashboard) logout(w http.ResponseWriter, r *http.Request, s *session) {
	d.endSession(w, r)
	d.log.Info("dashboard logout", string(s.principal.Kind), s.principal.Name, "id", s.principal.ID)
	http.Redirect(w, r, "/dashboard/login", http.StatusSeeOther)
}

// endSession forgets the request's session and its cookie.
func (d *Dashboard) endSession(w http.ResponseWriter, r *http.Request) {
	if c, err := r.Cookie(cookieName); err == nil {
		d.sessions.drop(c.Value)
	}
	setCookie(w, r, "", -1)
}
