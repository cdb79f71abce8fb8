package dashboard_test

import (
	"fmt"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/illico-dev/illico/internal/clientip"
	"github.com/illico-dev/illico/internal/fleet"
	"github.com/illico-dev/illico/internal/server"
	"github.com/illico-dev/illico/internal/store"
)

const alicePassword = "correct horse battery"

// browserFrom is a browser whose connections come from the loopback
// address ip, so that tests can be several clients to the throttle.
func (d *daemon) browserFrom(t testing.TB, ip string) *browser {
	t.Helper()
	jar, err := cookiejar.New(nil)
	if err != nil {
		t.Fatal(err)
	}
	dialer := &net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(ip)}, Timeout: 10 * time.Second}
	return &browser{t: t, d: d, http: &http.Client{Jar: jar, Timeout: 30 * time.Second,
		Transport: &http.Transport{DialContext: dialer.DialContext}}}
}

func (d *daemon) account(t testing.TB, name string, role fleet.Role) store.Account {
	t.Helper()
	a, err := d.store.CreateAccount(t.Context(), name, role, alicePassword)
	if err != nil {
		t.Fatal(err)
	}
	return a
}

func (b *browser) loginAs(name, password string) answer {
	b.t.Helper()
	return b.post("/dashboard/login", url.Values{"name": {name}, "password": {password}})
}

func TestAccountLogin(t *testing.T) {
	d := start(t)
	d.account(t, "alice", fleet.RoleOperator)
	b := d.browser(t)

	bad := b.loginAs("alice", "wrong horse battery")
	unknown := b.loginAs("mallory", alicePassword)
	if bad.status != http.StatusUnauthorized || unknown.status != http.StatusUnauthorized {
		t.Fatalf("a wrong password: %d, an unknown name: %d; want 401 both", bad.status, unknown.status)
	}
	for _, p := range []answer{bad, unknown} {
		if !strings.Contains(p.body, "do not match an account") || strings.Contains(p.body, alicePassword) || strings.Contains(p.body, "wrong horse") {
			t.Errorf("a failed login says:\n%s", p.body)
		}
	}

	p := b.loginAs(" Alice ", alicePassword)
	if p.status != http.StatusOK || p.url != "/dashboard/rollouts" || !strings.Contains(p.body, "alice (operator)") {
		t.Fatalf("login: %d at %s:\n%s", p.status, p.url, p.body)
	}
	cookies := b.http.Jar.Cookies(mustURL(t, d.url+"/dashboard/"))
	if len(cookies) != 1 || strings.Contains(cookies[0].Value, alicePassword) {
		t.Fatalf("cookies %v: want one, without the password", cookies)
	}
	if a, err := d.store.Account(t.Context(), "alice"); err != nil || a.LastLogin.IsZero() {
		t.Errorf("the login was not recorded: %+v, %v", a, err)
	}

	// What the account does is recorded under its name.
	id := startLater(t, d)
	rp := b.get("/dashboard/rollouts/" + id)
	if p := b.post("/dashboard/rollouts/"+id+"/pause", url.Values{"csrf": {csrf(t, rp)}}); p.status != http.StatusOK || !strings.Contains(p.body, ">Resume<") {
		t.Fatalf("pause: %d\n%s", p.status, p.body)
	}
	events, err := d.store.Events(t.Context(), store.EventFilter{Kind: "rollout.order", Subject: id})
	if err != nil || len(events) == 0 || !strings.Contains(events[len(events)-1].Message, "account alice") {
		t.Errorf("the pause was recorded as %+v (%v), want it to name account alice", events, err)
	}
	if !strings.Contains(d.logs.String(), "account=alice") {
		t.Errorf("the daemon's log does not name the account")
	}
	if strings.Contains(d.logs.String(), alicePassword) || strings.Contains(d.logs.String(), "wrong horse") {
		t.Errorf("the daemon's log shows a password")
	}

	// The session's cookie is for the dashboard, not the API.
	req, err := http.NewRequest(http.MethodGet, d.url+"/api/v1/rollouts", nil)
	if err != nil {
		t.Fatal(err)
	}
	req.AddCookie(cookies[0])
	if p := b.do(req); p.status != http.StatusUnauthorized {
		t.Errorf("the API with a dashboard cookie: %d, want 401", p.status)
	}
}

func TestLoginThrottle(t *testing.T) {
	d := start(t)
	d.account(t, "alice", fleet.RoleOperator)
	d.account(t, "bob", fleet.RoleReader)
	first, second := d.browserFrom(t, "127.0.0.1"), d.browserFrom(t, "127.0.0.2")

	// Five failures cost nothing; then each locks the name twice as long.
	for i, wait := range []time.Duration{0, 0, 0, 0, 5 * time.Second, 10 * time.Second, 20 * time.Second, 40 * time.Second} {
		if p := first.loginAs("alice", "wrong horse battery"); p.status != http.StatusUnauthorized {
			t.Fatalf("failure %d: %d, want 401", i+1, p.status)
		}
		if wait == 0 {
			continue
		}
		p := first.loginAs("alice", alicePassword)
		if p.status != http.StatusTooManyRequests || !strings.Contains(p.body, "try again in "+wait.String()) {
			t.Fatalf("after failure %d: %d, want 429 saying %s:\n%s", i+1, p.status, wait, p.body)
		}
		if i < 7 {
			d.clock.advance(wait)
		}
	}
	// The name is locked from another address too, and the address for
	// another name.
	if p := second.loginAs("alice", alicePassword); p.status != http.StatusTooManyRequests {
		t.Errorf("alice from another address: %d, want 429", p.status)
	}
	if p := first.loginAs("bob", alicePassword); p.status != http.StatusTooManyRequests {
		t.Errorf("bob from the locked address: %d, want 429", p.status)
	}
	if p := first.post("/dashboard/login", url.Values{"token": {d.reader}}); p.status != http.StatusTooManyRequests {
		t.Errorf("a token from the locked address: %d, want 429", p.status)
	}
	if p := second.loginAs("bob", alicePassword); p.status != http.StatusOK || p.url != "/dashboard/rollouts" {
		t.Errorf("bob from another address: %d at %s", p.status, p.url)
	}
	d.clock.advance(40 * time.Second)
	if p := first.loginAs("alice", alicePassword); p.status != http.StatusOK || p.url != "/dashboard/rollouts" {
		t.Fatalf("after the wait: %d at %s", p.status, p.url)
	}
	// A success clears the name, not the address: one more failure there
	// locks it again, for longer.
	if p := second.loginAs("alice", "wrong horse battery"); p.status != http.StatusUnauthorized {
		t.Errorf("a failure after the success: %d, want 401", p.status)
	}
	if p := first.loginAs("bob", "wrong horse battery"); p.status != http.StatusUnauthorized {
		t.Fatalf("failure 9 from the address: %d", p.status)
	}
	if p := first.loginAs("bob", alicePassword); p.status != http.StatusTooManyRequests || !strings.Contains(p.body, "1m20s") {
		t.Errorf("after failure 9 from the address: %d:\n%s", p.status, p.body)
	}
}

// TestLoginThrottleBehindAProxy checks that failed logins are counted per
// customer behind a trusted proxy, by X-Forwarded-For, and per peer for
// a peer not trusted, whatever it says.
func TestLoginThrottleBehindAProxy(t *testing.T) {
	proxy, err := clientip.ParseNetwork("127.0.0.2")
	if err != nil {
		t.Fatal(err)
	}
	d := startWith(t, server.Options{TrustedProxies: clientip.Trusted{proxy}})
	d.account(t, "alice", fleet.RoleOperator)
	viaProxy, direct := d.browserFrom(t, "127.0.0.2"), d.browserFrom(t, "127.0.0.3")
	n := 0
	// fail fails a login as a name of its own, so that only the address
	// is counted, and returns the status.
	fail := func(b *browser, xff string) int {
		t.Helper()
		n++
		return b.post("/dashboard/login", url.Values{"name": {fmt.Sprintf("user%d", n)}, "password": {"wrong horse battery"}},
			"X-Forwarded-For", xff).status
	}
	login := func(b *browser, xff string) int {
		t.Helper()
		return b.post("/dashboard/login", url.Values{"name": {"alice"}, "password": {alicePassword}}, "X-Forwarded-For", xff).status
	}

	// Five failures lock customer A, through the proxy; not customer B.
	for i := range 5 {
		if got := fail(viaProxy, "203.0.113.1"); got != http.StatusUnauthorized {
			t.Fatalf("customer A, failure %d: %d, want 401", i+1, got)
		}
	}
	for _, tc := range []struct {
		name string
		b    *browser
		xff  string
		want int
	}{
		{"customer A", viaProxy, "203.0.113.1", http.StatusTooManyRequests},
		{"customer A claiming another address to the left", viaProxy, "198.51.100.7, 203.0.113.1", http.StatusTooManyRequests},
		{"customer B through the same proxy", viaProxy, "203.0.113.2", http.StatusOK},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := login(tc.b, tc.xff); got != tc.want {
				t.Errorf("%d, want %d", got, tc.want)
			}
		})
	}
	if !strings.Contains(d.logs.String(), `msg="dashboard login failed" remote=203.0.113.1`) {
		t.Errorf("the log does not name customer A:\n%s", d.logs)
	}
	if !regexp.MustCompile(`msg=request .*path=/dashboard/login .*remote=203\.0\.113\.2 peer=127\.0\.0\.2:`).MatchString(d.logs.String()) {
		t.Errorf("the request log does not name customer B and the proxy:\n%s", d.logs)
	}

	// A peer not trusted is counted by its own address, whatever it says.
	for i := range 5 {
		if got := fail(direct, fmt.Sprintf("203.0.113.%d", 10+i)); got != http.StatusUnauthorized {
			t.Fatalf("a peer not trusted, failure %d: %d, want 401", i+1, got)
		}
	}
	if got := login(direct, "203.0.113.99"); got != http.StatusTooManyRequests {
		t.Errorf("a peer not trusted, with yet another X-Forwarded-For: %d, want 429", got)
	}
}

func TestAccountSessionsEnd(t *testing.T) {
	for _, tc := range []struct {
		name string
		end  func(t *testing.T, d *daemon) error
	}{
		{"removed", func(t *testing.T, d *daemon) error {
			_, err := d.store.RemoveAccount(t.Context(), "alice")
			return err
		}},
		{"removed and created again", func(t *testing.T, d *daemon) error {
			if _, err := d.store.RemoveAccount(t.Context(), "alice"); err != nil {
				return err
			}
			_, err := d.store.CreateAccount(t.Context(), "alice", fleet.RoleAdmin, alicePassword)
			return err
		}},
		{"disabled", func(t *testing.T, d *daemon) error {
			_, err := d.store.SetAccountDisabled(t.Context(), "alice", true)
			return err
		}},
		{"given a new password", func(t *testing.T, d *daemon) error {
			_, err := d.store.SetAccountPassword(t.Context(), "alice", "a brand new passphrase")
			return err
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			d := start(t)
			d.account(t, "alice", fleet.RoleOperator)
			b := d.browser(t)
			if p := b.loginAs("alice", alicePassword); p.url != "/dashboard/rollouts" {
				t.Fatalf("login: %d at %s", p.status, p.url)
			}
			// A store's times are to the microsecond: a change in the
			// same one as the login would not be after it.
			time.Sleep(time.Millisecond)
			if err := tc.end(t, d); err != nil {
				t.Fatal(err)
			}
			if p := b.get("/dashboard/status"); p.url != "/dashboard/login" || !strings.Contains(p.body, "session ended") {
				t.Fatalf("the next page: %d at %s", p.status, p.url)
			}
			if p := b.get("/dashboard/rollouts"); p.url != "/dashboard/login" || strings.Contains(p.body, "session ended") {
				t.Errorf("the session came back: %d at %s", p.status, p.url)
			}
		})
	}
}

// TestTokenSessionHoldsNoSecret shows that a session acts as its token by
// the token's id only: revoked, the token's session ends at once.
func TestTokenSessionHoldsNoSecret(t *testing.T) {
	d := start(t)
	tok, secret, err := d.store.CreateToken(t.Context(), "laptop", fleet.RoleOperator)
	if err != nil {
		t.Fatal(err)
	}
	b := d.browser(t)
	b.login(secret.Reveal())
	if p := b.get("/dashboard/status"); p.status != http.StatusOK {
		t.Fatalf("before the revocation: %d at %s", p.status, p.url)
	}
	if _, err := d.store.RevokeToken(t.Context(), tok.ID); err != nil {
		t.Fatal(err)
	}
	if p := b.get("/dashboard/status"); p.url != "/dashboard/login" || !strings.Contains(p.body, "session ended") {
		t.Fatalf("after the revocation: %d at %s", p.status, p.url)
	}
}

func TestChangeOwnPassword(t *testing.T) {
	d := start(t)
	d.account(t, "alice", fleet.RoleReader)
	b, other := d.browser(t), d.browser(t)
	p := b.loginAs("alice", alicePassword)
	other.loginAs("alice", alicePassword)
	token := csrf(t, b.get("/dashboard/account"))
	const next = "a brand new passphrase"
	for _, tc := range []struct {
		name   string
		form   url.Values
		status int
		say    string
	}{
		{"no CSRF token", url.Values{"old_password": {alicePassword}, "password": {next}, "confirm": {next}}, http.StatusForbidden, "out of date"},
		{"a wrong old password", url.Values{"csrf": {token}, "old_password": {"wrong horse battery"}, "password": {next}, "confirm": {next}}, http.StatusForbidden, "current password is wrong"},
		{"two new passwords", url.Values{"csrf": {token}, "old_password": {alicePassword}, "password": {next}, "confirm": {next + "!"}}, http.StatusBadRequest, "differ"},
		{"too short", url.Values{"csrf": {token}, "old_password": {alicePassword}, "password": {"short"}, "confirm": {"short"}}, http.StatusBadRequest, "at least 12"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := b.post("/dashboard/account/password", tc.form)
			if p.status != tc.status || !strings.Contains(p.body, tc.say) {
				t.Errorf("%d, want %d saying %q:\n%s", p.status, tc.status, tc.say, p.body)
			}
		})
	}
	p = b.post("/dashboard/account/password", url.Values{"csrf": {token}, "old_password": {alicePassword}, "password": {next}, "confirm": {next}})
	if p.url != "/dashboard/login" || !strings.Contains(p.body, "password was changed") {
		t.Fatalf("change: %d at %s", p.status, p.url)
	}
	if p := other.get("/dashboard/rollouts"); p.url != "/dashboard/login" {
		t.Errorf("another session of the account lives on: %s", p.url)
	}
	if p := b.loginAs("alice", alicePassword); p.status != http.StatusUnauthorized {
		t.Errorf("the old password: %d, want 401", p.status)
	}
	if p := b.loginAs("alice", next); p.url != "/dashboard/rollouts" {
		t.Errorf("the new password: %d at %s", p.status, p.url)
	}
	// A token has no password to change.
	tb := d.browser(t)
	tp := tb.get("/dashboard/account")
	if tp.url != "/dashboard/login" {
		t.Fatalf("the account page without a session: %s", tp.url)
	}
	tp = tb.login(d.operator)
	tp = tb.get("/dashboard/account")
	if strings.Contains(tp.body, "Change your password") {
		t.Errorf("a token's session is offered a password change")
	}
	if p := tb.post("/dashboard/account/password", url.Values{"csrf": {csrf(t, tp)}, "old_password": {"x"}, "password": {next}, "confirm": {next}}); p.status != http.StatusBadRequest {
		t.Errorf("a token's password change: %d, want 400", p.status)
	}
}
