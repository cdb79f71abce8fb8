package storetest

import (
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/illico-dev/illico/internal/fleet"
	"github.com/illico-dev/illico/internal/store"
)

// accountTests check the dashboard's accounts.
var accountTests = []test{
	{"accounts round-trip", testAccounts},
	{"bad accounts and passwords are refused", testBadAccounts},
	{"account logins: one answer for every failure", testAccountLogin},
	{"account passwords change, accounts disable and go", testAccountChanges},
	{"one account per name under concurrent creation", testAccountsConcurrent},
}

const accountPassword = "correct horse battery"

func createAccount(t testing.TB, s *store.Store, name string, role fleet.Role) store.Account {
	t.Helper()
	a, err := s.CreateAccount(ctx(t), name, role, accountPassword)
	if err != nil {
		t.Fatalf("create account %s: %v", name, err)
	}
	return a
}

func testAccounts(t *testing.T, s *store.Store) {
	c := ctx(t)
	if list := must(s.ListAccounts(c))(t); len(list) != 0 {
		t.Fatalf("a new store lists accounts %+v", list)
	}
	before := time.Now().UTC().Truncate(store.Precision)
	zoe := createAccount(t, s, "zoe", fleet.RoleReader)
	alice := createAccount(t, s, "alice@example.net", fleet.RoleOperator)
	after := time.Now().UTC()
	if alice.ID == zoe.ID || alice.Name != "alice@example.net" || alice.Role != fleet.RoleOperator || !alice.Active() {
		t.Errorf("created %+v", alice)
	}
	if alice.Created.Before(before) || alice.Created.After(after) || alice.Created.Location() != time.UTC || !alice.PasswordChanged.Equal(alice.Created) {
		t.Errorf("created %v, password changed %v: want the same UTC time between %v and %v", alice.Created, alice.PasswordChanged, before, after)
	}
	if !alice.LastLogin.IsZero() {
		t.Errorf("a new account last logged in at %v", alice.LastLogin)
	}
	if got := must(s.Account(c, "zoe"))(t); got != zoe {
		t.Errorf("account zoe: got %+v, want %+v", got, zoe)
	}
	list := must(s.ListAccounts(c))(t)
	if len(list) != 2 || list[0] != alice || list[1] != zoe {
		t.Errorf("list: got %+v, want [%+v %+v] (by name)", list, alice, zoe)
	}
	_, err := s.CreateAccount(c, "zoe", fleet.RoleAdmin, "another long password")
	wantKind(t, err, fleet.KindConflict)
	if got := must(s.Account(c, "zoe"))(t); got != zoe {
		t.Errorf("a refused creation changed zoe to %+v", got)
	}
	_, err = s.Account(c, "bob")
	wantKind(t, err, fleet.KindNotFound)
}

func testBadAccounts(t *testing.T, s *store.Store) {
	c := ctx(t)
	for _, tc := range []struct {
		name, account, password string
		role                    fleet.Role
		// say is in the message; the password never is.
		say string
	}{
		{"empty name", "", accountPassword, fleet.RoleReader, "1 to 64"},
		{"long name", strings.Repeat("a", 65), accountPassword, fleet.RoleReader, "1 to 64"},
		{"upper case", "Alice", accountPassword, fleet.RoleReader, "lower-case"},
		{"space", "al ice", accountPassword, fleet.RoleReader, "lower-case"},
		{"starts with a dot", ".alice", accountPassword, fleet.RoleReader, "lower-case"},
		{"slash", "a/b", accountPassword, fleet.RoleReader, "lower-case"},
		{"unknown role", "alice", accountPassword, fleet.Role("root"), "unknown role"},
		{"short password", "alice", "eleven char", fleet.RoleReader, "at least 12"},
		{"short in characters, long in bytes", "alice", "ééééééééééé", fleet.RoleReader, "at least 12"},
		{"the name as password", "alice.martin", "Alice.Martin", fleet.RoleReader, "name"},
		{"long password", "alice", strings.Repeat("p", 1025), fleet.RoleReader, "longer than"},
		{"not UTF-8", "alice", "password\xff\xfe1234", fleet.RoleReader, "UTF-8"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := s.CreateAccount(c, tc.account, tc.role, tc.password)
			wantKind(t, err, fleet.KindInvalid)
			if !strings.Contains(err.Error(), tc.say) || strings.Contains(err.Error(), tc.password) {
				t.Errorf("message %q: want it to say %q and not repeat the password", err, tc.say)
			}
		})
	}
	if list := must(s.ListAccounts(c))(t); len(list) != 0 {
		t.Errorf("refused accounts were stored: %+v", list)
	}
	createAccount(t, s, "alice", fleet.RoleReader)
	_, err := s.SetAccountPassword(c, "alice", "short")
	wantKind(t, err, fleet.KindInvalid)
	_, err = s.SetAccountPassword(c, "bob", "a long enough password")
	wantKind(t, err, fleet.KindNotFound)
}

func testAccountLogin(t *testing.T, s *store.Store) {
	c := ctx(t)
	alice := createAccount(t, s, "alice", fleet.RoleOperator)
	createAccount(t, s, "bob", fleet.RoleReader)
	got := must(s.AuthenticateAccount(c, "alice", accountPassword))(t)
	if got != alice {
		t.Errorf("authenticate: got %+v, want %+v", got, alice)
	}
	if a := must(s.Account(c, "alice"))(t); !a.LastLogin.IsZero() {
		t.Errorf("authenticating recorded a login")
	}
	before := time.Now().UTC().Truncate(store.Precision)
	in := must(s.LoginAccount(c, "alice", accountPassword))(t)
	if in.LastLogin.Before(before) || in.LastLogin.Location() != time.UTC {
		t.Errorf("login: last login %v, want from %v", in.LastLogin, before)
	}
	if a := must(s.Account(c, "alice"))(t); !a.LastLogin.Equal(in.LastLogin) {
		t.Errorf("the store says last login %v, the login said %v", a.LastLogin, in.LastLogin)
	}
	must(s.SetAccountDisabled(c, "bob", true))(t)
	var messages []string
	for _, tc := range []struct{ name, account, password string }{
		{"wrong password", "alice", accountPassword + "!"},
		{"unknown name", "carol", accountPassword},
		{"another's password", "alice", "not alice's password"},
		{"disabled, with its password", "bob", accountPassword},
		{"empty", "", ""},
		{"a name in another case", "Alice", accountPassword},
		{"an overlong password", "alice", strings.Repeat("x", 5000)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			for _, login := range []func() (store.Account, error){
				func() (store.Account, error) { return s.AuthenticateAccount(c, tc.account, tc.password) },
				func() (store.Account, error) { return s.LoginAccount(c, tc.account, tc.password) },
			} {
				_, err := login()
				wantKind(t, err, fleet.KindUnauthorized)
				messages = append(messages, err.Error())
			}
		})
	}
	for _, m := range messages {
		if m != messages[0] {
			t.Errorf("failed logins say different things: %q and %q", messages[0], m)
		}
	}
	if a := must(s.Account(c, "bob"))(t); !a.LastLogin.IsZero() {
		t.Errorf("a disabled account's login was recorded")
	}
}

func testAccountChanges(t *testing.T, s *store.Store) {
	c := ctx(t)
	alice := createAccount(t, s, "alice", fleet.RoleAdmin)
	const next = "a new and longer passphrase"
	changed := must(s.SetAccountPassword(c, "alice", next))(t)
	if changed.PasswordChanged.Before(alice.PasswordChanged) || changed.Created != alice.Created || changed.Role != alice.Role {
		t.Errorf("after a accountPassword change: %+v (was %+v)", changed, alice)
	}
	_, err := s.AuthenticateAccount(c, "alice", accountPassword)
	wantKind(t, err, fleet.KindUnauthorized)
	must(s.AuthenticateAccount(c, "alice", next))(t)

	off := must(s.SetAccountDisabled(c, "alice", true))(t)
	if off.Active() || off.Disabled.Location() != time.UTC {
		t.Fatalf("disabled: %+v", off)
	}
	again := must(s.SetAccountDisabled(c, "alice", true))(t)
	if !again.Disabled.Equal(off.Disabled) {
		t.Errorf("disabling twice moved the time from %v to %v", off.Disabled, again.Disabled)
	}
	_, err = s.AuthenticateAccount(c, "alice", next)
	wantKind(t, err, fleet.KindUnauthorized)
	if on := must(s.SetAccountDisabled(c, "alice", false))(t); !on.Active() {
		t.Errorf("enabled: %+v", on)
	}
	must(s.AuthenticateAccount(c, "alice", next))(t)

	gone := must(s.RemoveAccount(c, "alice"))(t)
	if gone.ID != alice.ID {
		t.Errorf("removed %+v, want %+v", gone, alice)
	}
	_, err = s.Account(c, "alice")
	wantKind(t, err, fleet.KindNotFound)
	_, err = s.RemoveAccount(c, "alice")
	wantKind(t, err, fleet.KindNotFound)
	_, err = s.SetAccountDisabled(c, "alice", true)
	wantKind(t, err, fleet.KindNotFound)
	_, err = s.AuthenticateAccount(c, "alice", next)
	wantKind(t, err, fleet.KindUnauthorized)
	// A new account of the same name is another account.
	if back := createAccount(t, s, "alice", fleet.RoleReader); back.ID == alice.ID {
		t.Errorf("a re-created account got the old id %d", back.ID)
	}
}

func testAccountsConcurrent(t *testing.T, s *store.Store) {
	c := ctx(t)
	const n = 4
	var wg sync.WaitGroup
	errs := make([]error, n)
	for i := range n {
		wg.Go(func() {
			_, errs[i] = s.CreateAccount(c, "same", fleet.RoleReader, accountPassword)
		})
	}
	wg.Wait()
	created := 0
	for _, err := range errs {
		switch {
		case err == nil:
			created++
		case fleet.KindOf(err) != fleet.KindConflict:
			t.Errorf("create: %v", err)
		}
	}
	if created != 1 {
		t.Errorf("%d of %d concurrent creations of one name succeeded, want 1", created, n)
	}
}
