package server

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/illico-dev/illico/internal/api"
	"github.com/illico-dev/illico/internal/dashboard"
	"github.com/illico-dev/illico/internal/fleet"
	"github.com/illico-dev/illico/internal/store"
	"github.com/illico-dev/illico/internal/store/pgtest"
)

// newAccountsServer is a daemon that is not listening yet: the tests call
// its routes directly, as the dashboard does.
func newAccountsServer(t *testing.T, dsn string) (*Server, *store.Store) {
	t.Helper()
	st, err := store.Open(t.Context(), dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	s, err := New(Options{Store: st, Listen: "127.0.0.1:0", AdminTokenOut: io.Discard})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.closeListeners)
	// The daemon is not run, its handler called alone: it leads, as a
	// lone daemon does from its first request, and renews its lease as the
	// daemon's loop would. On PostgreSQL a lease not renewed for 4 s stops
	// its holder from leading, and this test hashes passwords for longer
	// than that under the race detector.
	if !s.lead.campaign(t.Context()) {
		t.Fatal("a lone daemon does not lead")
	}
	ctx, cancel := context.WithCancel(context.Background())
	renewed := make(chan struct{})
	go func() {
		defer close(renewed)
		tick := time.NewTicker(s.lead.every)
		defer tick.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-tick.C:
				s.lead.campaign(ctx)
			}
		}
	}()
	t.Cleanup(func() { cancel(); <-renewed })
	return s, st
}

// serve sends one request through the daemon's whole handler; as, when
// not nil, makes it the dashboard's in-process call for that principal.
func serve(t *testing.T, s *Server, method, path, token string, body any, as *dashboard.Principal) *httptest.ResponseRecorder {
	t.Helper()
	var r io.Reader
	if body != nil {
		data, err := json.Marshal(body)
		if err != nil {
			t.Fatal(err)
		}
		r = bytes.NewReader(data)
	}
	req := httptest.NewRequestWithContext(t.Context(), method, path, r)
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	if as != nil {
		req = asPrincipal(req, *as)
	}
	rec := httptest.NewRecorder()
	s.http.Handler.ServeHTTP(rec, req)
	return rec
}

func TestAccountsAPI(t *testing.T) {
	for name, dsn := range map[string]func(t testing.TB) string{
		"sqlite":   func(t testing.TB) string { return "sqlite:" + filepath.Join(t.TempDir(), "illico.db") },
		"postgres": pgtest.Start,
	} {
		t.Run(name, func(t *testing.T) {
			if name == "postgres" && testing.Short() {
				t.Skip("slow: starts PostgreSQL")
			}
			testAccountsAPI(t, dsn(t))
		})
	}
}

func testAccountsAPI(t *testing.T, dsn string) {
	s, st := newAccountsServer(t, dsn)
	admin, adminSecret, err := st.CreateToken(t.Context(), "admin", fleet.RoleAdmin)
	if err != nil {
		t.Fatal(err)
	}
	_, readerSecret, err := st.CreateToken(t.Context(), "grafana", fleet.RoleReader)
	if err != nil {
		t.Fatal(err)
	}
	const password = "correct horse battery"
	rec := serve(t, s, "POST", "/api/v1/accounts", adminSecret.Reveal(), api.CreateAccount{Name: "alice", Role: "operator", Password: password}, nil)
	if rec.Code != http.StatusCreated || strings.Contains(rec.Body.String(), password) || strings.Contains(rec.Body.String(), "argon2") {
		t.Fatalf("create: %d %s", rec.Code, rec.Body)
	}
	for _, tc := range []struct {
		name, method, path, token string
		body                      any
		status                    int
	}{
		{"the same name again", "POST", "/api/v1/accounts", adminSecret.Reveal(), api.CreateAccount{Name: "alice", Role: "reader", Password: password}, http.StatusConflict},
		{"a short password", "POST", "/api/v1/accounts", adminSecret.Reveal(), api.CreateAccount{Name: "bob", Password: "short"}, http.StatusBadRequest},
		{"an unknown role", "POST", "/api/v1/accounts", adminSecret.Reveal(), api.CreateAccount{Name: "bob", Role: "root", Password: password}, http.StatusBadRequest},
		{"a reader creates", "POST", "/api/v1/accounts", readerSecret.Reveal(), api.CreateAccount{Name: "bob", Password: password}, http.StatusForbidden},
		{"a reader lists", "GET", "/api/v1/accounts", readerSecret.Reveal(), nil, http.StatusForbidden},
		{"a reader sets a password", "POST", "/api/v1/accounts/alice/password", readerSecret.Reveal(), api.SetPassword{Password: "a brand new passphrase"}, http.StatusForbidden},
		{"no token", "GET", "/api/v1/accounts", "", nil, http.StatusUnauthorized},
		{"an unknown account", "DELETE", "/api/v1/accounts/bob", adminSecret.Reveal(), nil, http.StatusNotFound},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if rec := serve(t, s, tc.method, tc.path, tc.token, tc.body, nil); rec.Code != tc.status {
				t.Errorf("%d, want %d: %s", rec.Code, tc.status, rec.Body)
			}
		})
	}
	rec = serve(t, s, "GET", "/api/v1/accounts", adminSecret.Reveal(), nil, nil)
	var list api.Accounts
	if err := json.Unmarshal(rec.Body.Bytes(), &list); err != nil || len(list.Accounts) != 1 || list.Accounts[0].Name != "alice" || list.Accounts[0].Role != "operator" {
		t.Fatalf("list: %d %s", rec.Code, rec.Body)
	}

	alice, err := st.Account(t.Context(), "alice")
	if err != nil {
		t.Fatal(err)
	}
	as := &dashboard.Principal{Kind: dashboard.PrincipalAccount, ID: alice.ID, Name: "alice", Role: fleet.RoleOperator, Since: time.Now()}
	// As itself, an account needs its old password, and may not touch
	// another's nor manage accounts.
	if rec := serve(t, s, "POST", "/api/v1/accounts/alice/password", "", api.SetPassword{Password: "a brand new passphrase"}, as); rec.Code != http.StatusBadRequest {
		t.Errorf("without the old password: %d %s", rec.Code, rec.Body)
	}
	if rec := serve(t, s, "POST", "/api/v1/accounts/alice/password", "", api.SetPassword{OldPassword: "wrong horse battery", Password: "a brand new passphrase"}, as); rec.Code != http.StatusForbidden {
		t.Errorf("with a wrong old password: %d %s", rec.Code, rec.Body)
	}
	if rec := serve(t, s, "GET", "/api/v1/accounts", "", nil, as); rec.Code != http.StatusForbidden || !strings.Contains(rec.Body.String(), "account alice has role operator") {
		t.Errorf("an operator account lists accounts: %d %s", rec.Code, rec.Body)
	}
	if rec := serve(t, s, "POST", "/api/v1/accounts/alice/password", "", api.SetPassword{OldPassword: password, Password: "a brand new passphrase"}, as); rec.Code != http.StatusOK {
		t.Fatalf("with the old password: %d %s", rec.Code, rec.Body)
	}
	// That ended the principal's session: its login is older than the
	// password now.
	if rec := serve(t, s, "GET", "/api/v1/rollouts", "", nil, as); rec.Code != http.StatusUnauthorized || !strings.Contains(rec.Body.String(), "password of account alice changed") {
		t.Errorf("after the change: %d %s", rec.Code, rec.Body)
	}
	if rec := serve(t, s, "POST", "/api/v1/accounts/alice/password", adminSecret.Reveal(), api.SetPassword{Password: "the admin's choice here"}, nil); rec.Code != http.StatusOK {
		t.Errorf("an admin sets it: %d %s", rec.Code, rec.Body)
	}
	if _, err := st.AuthenticateAccount(t.Context(), "alice", "the admin's choice here"); err != nil {
		t.Errorf("the admin's password: %v", err)
	}
	if rec := serve(t, s, "POST", "/api/v1/accounts/alice/disable", adminSecret.Reveal(), nil, nil); rec.Code != http.StatusOK || !strings.Contains(rec.Body.String(), `"disabled"`) {
		t.Errorf("disable: %d %s", rec.Code, rec.Body)
	}
	if rec := serve(t, s, "POST", "/api/v1/accounts/alice/enable", adminSecret.Reveal(), nil, nil); rec.Code != http.StatusOK || strings.Contains(rec.Body.String(), `"disabled"`) {
		t.Errorf("enable: %d %s", rec.Code, rec.Body)
	}
	if rec := serve(t, s, "DELETE", "/api/v1/accounts/alice", adminSecret.Reveal(), nil, nil); rec.Code != http.StatusOK {
		t.Errorf("remove: %d %s", rec.Code, rec.Body)
	}

	events, err := st.Events(t.Context(), store.EventFilter{Subject: "alice"})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, e := range events {
		got = append(got, e.Kind+": "+e.Message)
	}
	by := " by token " + strconv.FormatInt(admin.ID, 10) + " (admin)"
	want := []string{
		"account.created: account alice created with role operator" + by,
		"account.password: password of account alice changed by account alice",
		"account.password: password of account alice changed" + by,
		"account.disabled: account alice disabled" + by,
		"account.enabled: account alice enabled" + by,
		"account.removed: account alice removed" + by,
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("events:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

// TestPrincipalOnlyInProcess shows that the dashboard's principal comes
// only from the hook: no header sets it, and a principal the store no
// longer knows, or knows otherwise, is refused.
func TestPrincipalOnlyInProcess(t *testing.T) {
	s, st := newAccountsServer(t, "sqlite:"+filepath.Join(t.TempDir(), "illico.db"))
	tok, _, err := st.CreateToken(t.Context(), "laptop", fleet.RoleOperator)
	if err != nil {
		t.Fatal(err)
	}
	a, err := st.CreateAccount(t.Context(), "alice", fleet.RoleReader, "correct horse battery")
	if err != nil {
		t.Fatal(err)
	}
	req := httptest.NewRequestWithContext(t.Context(), "GET", "/api/v1/rollouts", nil)
	for _, h := range []string{"X-Principal", "X-Illico-Principal", "X-Illico-Account", "X-Forwarded-User", "Remote-User"} {
		req.Header.Set(h, "alice")
	}
	req.Header.Set("Cookie", "illico_session=whatever")
	rec := httptest.NewRecorder()
	s.http.Handler.ServeHTTP(rec, req)
	if rec.Code != http.StatusUnauthorized {
		t.Errorf("headers naming a principal: %d, want 401", rec.Code)
	}
	for _, tc := range []struct {
		name   string
		p      dashboard.Principal
		status int
	}{
		{"the token", dashboard.Principal{Kind: dashboard.PrincipalToken, ID: tok.ID, Name: tok.Name}, http.StatusOK},
		{"an unknown token", dashboard.Principal{Kind: dashboard.PrincipalToken, ID: tok.ID + 7}, http.StatusUnauthorized},
		{"the account", dashboard.Principal{Kind: dashboard.PrincipalAccount, ID: a.ID, Name: "alice", Since: a.PasswordChanged}, http.StatusOK},
		{"the account's name with another id", dashboard.Principal{Kind: dashboard.PrincipalAccount, ID: a.ID + 1, Name: "alice", Since: a.PasswordChanged}, http.StatusUnauthorized},
		{"a login before the password", dashboard.Principal{Kind: dashboard.PrincipalAccount, ID: a.ID, Name: "alice", Since: a.PasswordChanged.Add(-time.Second)}, http.StatusUnauthorized},
		{"an unknown kind", dashboard.Principal{Kind: "root", ID: 1, Name: "alice"}, http.StatusUnauthorized},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if rec := serve(t, s, "GET", "/api/v1/rollouts", "", nil, &tc.p); rec.Code != tc.status {
				t.Errorf("%d, want %d: %s", rec.Code, tc.status, rec.Body)
			}
		})
	}
	// The role that counts is the store's, not the one the session
	// remembers.
	p := dashboard.Principal{Kind: dashboard.PrincipalAccount, ID: a.ID, Name: "alice", Role: fleet.RoleAdmin, Since: a.PasswordChanged}
	if rec := serve(t, s, "GET", "/api/v1/accounts", "", nil, &p); rec.Code != http.StatusForbidden {
		t.Errorf("a reader account claiming admin: %d", rec.Code)
	}
}
