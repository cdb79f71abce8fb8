package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/illico-dev/illico/internal/fleet"
	"github.com/illico-dev/illico/internal/password"
)

// Account is a person who logs in to the dashboard with a name and a
// password, with one of the tokens' roles. The store keeps only the
// password's hash.
type Account struct {
	ID      int64
	Name    string
	Role    fleet.Role
	Created time.Time
	// PasswordChanged is when the password was last set: a dashboard
	// session that began before it ends.
	PasswordChanged time.Time
	LastLogin       time.Time // zero: never logged in
	Disabled        time.Time // zero: may log in
}

// Active reports whether the account may log in.
func (a Account) Active() bool { return a.Disabled.IsZero() }

// maxAccountName bounds a name, which appears in URLs and messages.
const maxAccountName = 64

// CheckAccountName says what is wrong with an account's name, if anything:
// 1 to 64 lower-case letters, digits and . _ @ -, starting with a letter
// or a digit.
func CheckAccountName(name string) error {
	if name == "" || len(name) > maxAccountName {
		return fleet.Errorf(fleet.KindInvalid, "an account name has 1 to %d characters", maxAccountName)
	}
	for i, c := range name {
		ok := c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || i > 0 && strings.ContainsRune("._@-", c)
		if !ok {
			return fleet.Errorf(fleet.KindInvalid, "account name %q: use lower-case letters, digits and . _ @ - (not first)", name)
		}
	}
	return nil
}

// errBadLogin is the one answer to a wrong name, a wrong password and a
// disabled account, so that it says nothing of which names exist.
func errBadLogin() error {
	return fleet.Errorf(fleet.KindUnauthorized, "wrong account name or password")
}

const accountColumns = "id, name, role, created, password_changed, last_login, disabled"

func scanAccount(row interface{ Scan(...any) error }, extra ...any) (Account, error) {
	var a Account
	var role string
	dest := append([]any{&a.ID, &a.Name, &role, timeScanner{&a.Created}, timeScanner{&a.PasswordChanged},
		timeScanner{&a.LastLogin}, timeScanner{&a.Disabled}}, extra...)
	err := row.Scan(dest...)
	a.Role = fleet.Role(role)
	return a, err
}

func noAccount(name string) error {
	return fleet.Errorf(fleet.KindNotFound, "no account named %q (see illico account list)", name)
}

// CreateAccount stores a new account. The name must be free.
func (s *Store) CreateAccount(ctx context.Context, name string, role fleet.Role, pw string) (Account, error) {
	if err := CheckAccountName(name); err != nil {
		return Account{}, err
	}
	if _, err := fleet.ParseRole(string(role)); err != nil {
		return Account{}, err
	}
	if err := password.Check(name, pw); err != nil {
		return Account{}, err
	}
	// Hashed before the write, so that the writer is not held for it.
	hash := password.Hash(pw)
	now := s.dialect.time(s.now())
	a, err := scanAccount(s.write.QueryRowContext(ctx, `INSERT INTO accounts (name, role, password, created, password_changed)
		VALUES ($1, $2, $3, $4, $4) ON CONFLICT (name) DO NOTHING RETURNING `+accountColumns, name, string(role), hash, now))
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return Account{}, fleet.Errorf(fleet.KindConflict, "an account named %q exists already", name)
	case err != nil:
		return Account{}, fmt.Errorf("create account %s: %w", name, err)
	}
	return a, nil
}

// Account returns the account named name.
func (s *Store) Account(ctx context.Context, name string) (Account, error) {
	a, err := scanAccount(s.read.QueryRowContext(ctx, "SELECT "+accountColumns+" FROM accounts WHERE name = $1", name))
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return Account{}, noAccount(name)
	case err != nil:
		return Account{}, fmt.Errorf("read account %s: %w", name, err)
	}
	return a, nil
}

// ListAccounts returns every account, disabled ones included, by name.
func (s *Store) ListAccounts(ctx context.Context) ([]Account, error) {
	rows, err := s.read.QueryContext(ctx, "SELECT "+accountColumns+" FROM accounts ORDER BY name")
	if err != nil {
		return nil, fmt.Errorf("list accounts: %w", err)
	}
	defer rows.Close()
	var list []Account
	for rows.Next() {
		a, err := scanAccount(rows)
		if err != nil {
			return nil, fmt.Errorf("list accounts: %w", err)
		}
		list = append(list, a)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list accounts: %w", err)
	}
	return list, nil
}

// RemoveAccount deletes the account named name and returns what it was.
func (s *Store) RemoveAccount(ctx context.Context, name string) (Account, error) {
	a, err := scanAccount(s.write.QueryRowContext(ctx, "DELETE FROM accounts WHERE name = $1 RETURNING "+accountColumns, name))
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return Account{}, noAccount(name)
	case err != nil:
		return Account{}, fmt.Errorf("remove account %s: %w", name, err)
	}
	return a, nil
}

// SetAccountPassword replaces the password of the account named name,
// which ends the dashboard sessions it had.
func (s *Store) SetAccountPassword(ctx context.Context, name, pw string) (Account, error) {
	if err := password.Check(name, pw); err != nil {
		return Account{}, err
	}
	hash := password.Hash(pw)
	a, err := scanAccount(s.write.QueryRowContext(ctx, "UPDATE accounts SET password = $1, password_changed = $2 WHERE name = $3 RETURNING "+accountColumns,
		hash, s.dialect.time(s.now()), name))
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return Account{}, noAccount(name)
	case err != nil:
		return Account{}, fmt.Errorf("set the password of account %s: %w", name, err)
	}
	return a, nil
}

// SetAccountDisabled disables the account named name (it can no longer log
// in, and its sessions end) or enables it again.
func (s *Store) SetAccountDisabled(ctx context.Context, name string, disabled bool) (Account, error) {
	// An account disabled already keeps the time it was disabled at.
	query, args := "UPDATE accounts SET disabled = COALESCE(disabled, $1) WHERE name = $2", []any{s.dialect.time(s.now()), name}
	if !disabled {
		query, args = "UPDATE accounts SET disabled = NULL WHERE name = $1", []any{name}
	}
	a, err := scanAccount(s.write.QueryRowContext(ctx, query+" RETURNING "+accountColumns, args...))
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return Account{}, noAccount(name)
	case err != nil:
		return Account{}, fmt.Errorf("disable or enable account %s: %w", name, err)
	}
	return a, nil
}

// AuthenticateAccount returns the active account named name if pw is
// its password. A wrong name, a wrong password and a disabled account get
// the same error of kind fleet.KindUnauthorized, after the same work.
func (s *Store) AuthenticateAccount(ctx context.Context, name, pw string) (Account, error) {
	if len(pw) > password.MaxLength {
		return Account{}, errBadLogin()
	}
	var hash string
	a, err := scanAccount(s.read.QueryRowContext(ctx, "SELECT "+accountColumns+", password FROM accounts WHERE name = $1", name), &hash)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		password.Dummy(pw)
		return Account{}, errBadLogin()
	case err != nil:
		return Account{}, fmt.Errorf("read account %s: %w", name, err)
	}
	ok, err := password.Matches(hash, pw)
	if err != nil {
		return Account{}, fmt.Errorf("account %s: stored password hash: %w", name, err)
	}
	if !ok || !a.Active() {
		return Account{}, errBadLogin()
	}
	return a, nil
}

// LoginAccount is AuthenticateAccount that also records the login.
func (s *Store) LoginAccount(ctx context.Context, name, pw string) (Account, error) {
	a, err := s.AuthenticateAccount(ctx, name, pw)
	if err != nil {
		return Account{}, err
	}
	a.LastLogin = s.now().UTC().Truncate(Precision)
	if _, err := s.write.ExecContext(ctx, "UPDATE accounts SET last_login = $1 WHERE id = $2", s.dialect.time(a.LastLogin), a.ID); err != nil {
		return Account{}, fmt.Errorf("record the login of account %s: %w", name, err)
	}
	return a, nil
}
