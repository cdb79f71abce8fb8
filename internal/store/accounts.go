package store

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"database/sql"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"golang.org/x/crypto/argon2"

	"github.com/illico-dev/illico/internal/fleet"
)

// Account is a person who logs in to the dashboard with a name and a
// password, with one of the tokens' roles. The store keeps only the
// password's hash.
type Account struct {
	ID      int64
	Name    string
	Role    Role
	Created time.Time
	// PasswordChanged is when the password was last set: a dashboard
	// session that began before it ends.
	PasswordChanged time.Time
	LastLogin       time.Time // zero: never logged in
	Disabled        time.Time // zero: may log in
}

// Active reports whether the account may log in.
func (a Account) Active() bool { return a.Disabled.IsZero() }

// MinPasswordLength is the fewest characters a password may have.
const MinPasswordLength = 12

// maxPasswordLength bounds what is hashed, in bytes.
const maxPasswordLength = 1024

// maxAccountName bounds a name, which appears in URLs and messages.
const maxAccountName = 64

// The password hash is argon2id with OWASP's parameters (19 MiB, two
// passes, one lane): strong enough against a stolen database, and light
// enough that a few logins at once do not starve a small control plane.
const (
	argonMemory  = 19 * 1024 // KiB
	argonTime    = 2
	argonThreads = 1
	argonKeyLen  = 32
	argonSaltLen = 16
)

// Bounds on the parameters read back from a stored hash, so that a damaged
// row cannot make one login take a gigabyte or a minute.
const (
	maxArgonMemory  = 256 * 1024
	maxArgonTime    = 16
	maxArgonThreads = 16
)

// hashPassword returns password's argon2id hash with a fresh salt, in the
// PHC string form, which carries its parameters.
func hashPassword(password string) string {
	salt := make([]byte, argonSaltLen)
	rand.Read(salt) // never fails: crypto/rand aborts the program rather than return weak bytes
	key := argon2.IDKey([]byte(password), salt, argonTime, argonMemory, argonThreads, argonKeyLen)
	return fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s", argon2.Version, argonMemory, argonTime, argonThreads,
		base64.RawStdEncoding.EncodeToString(salt), base64.RawStdEncoding.EncodeToString(key))
}

// phc is a parsed argon2id hash.
type phc struct {
	memory, time uint32
	threads      uint8
	salt, key    []byte
}

// parsePHC reads a hash that hashPassword wrote, refusing parameters out of
// bounds.
func parsePHC(encoded string) (phc, error) {
	var h phc
	parts := strings.Split(encoded, "$")
	if len(parts) != 6 || parts[0] != "" || parts[1] != "argon2id" {
		return h, errors.New("not an argon2id hash")
	}
	var version int
	if _, err := fmt.Sscanf(parts[2], "v=%d", &version); err != nil || version != argon2.Version {
		return h, fmt.Errorf("argon2 version %q is not %d", parts[2], argon2.Version)
	}
	var threads uint32
	if n, err := fmt.Sscanf(parts[3], "m=%d,t=%d,p=%d", &h.memory, &h.time, &threads); err != nil || n != 3 ||
		fmt.Sprintf("m=%d,t=%d,p=%d", h.memory, h.time, threads) != parts[3] {
		return h, fmt.Errorf("argon2 parameters %q are not m=N,t=N,p=N", parts[3])
	}
	if h.time < 1 || h.time > maxArgonTime || threads < 1 || threads > maxArgonThreads ||
		h.memory < 8*threads || h.memory > maxArgonMemory {
		return h, fmt.Errorf("argon2 parameters %q are out of bounds", parts[3])
	}
	h.threads = uint8(threads)
	var err error
	if h.salt, err = base64.RawStdEncoding.DecodeString(parts[4]); err != nil || len(h.salt) < 8 || len(h.salt) > 64 {
		return h, errors.New("argon2 salt is not 8 to 64 bytes of base64")
	}
	if h.key, err = base64.RawStdEncoding.DecodeString(parts[5]); err != nil || len(h.key) < 16 || len(h.key) > 64 {
		return h, errors.New("argon2 hash is not 16 to 64 bytes of base64")
	}
	return h, nil
}

// passwordMatches hashes password as encoded was and compares in constant
// time.
func passwordMatches(encoded, password string) (bool, error) {
	h, err := parsePHC(encoded)
	if err != nil {
		return false, err
	}
	key := argon2.IDKey([]byte(password), h.salt, h.time, h.memory, h.threads, uint32(len(h.key)))
	return subtle.ConstantTimeCompare(key, h.key) == 1, nil
}

// hashDummy does the work of checking a password for a name no account
// has, so that such a login takes as long as a wrong password.
func hashDummy(password string) {
	argon2.IDKey([]byte(password), make([]byte, argonSaltLen), argonTime, argonMemory, argonThreads, argonKeyLen)
}

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

// CheckPassword says what is wrong with password for the account name, if
// anything. The message never repeats the password.
func CheckPassword(name, password string) error {
	switch {
	case !utf8.ValidString(password):
		return fleet.Errorf(fleet.KindInvalid, "the password is not valid UTF-8")
	case utf8.RuneCountInString(password) < MinPasswordLength:
		return fleet.Errorf(fleet.KindInvalid, "the password is too short: it needs at least %d characters", MinPasswordLength)
	case len(password) > maxPasswordLength:
		return fleet.Errorf(fleet.KindInvalid, "the password is longer than %d bytes", maxPasswordLength)
	case strings.EqualFold(strings.TrimSpace(password), name):
		return fleet.Errorf(fleet.KindInvalid, "the password may not be the account's name")
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
	a.Role = Role(role)
	return a, err
}

func noAccount(name string) error {
	return fleet.Errorf(fleet.KindNotFound, "no account named %q (see illico account list)", name)
}

// CreateAccount stores a new account. The name must be free.
func (s *Store) CreateAccount(ctx context.Context, name string, role Role, password string) (Account, error) {
	if err := CheckAccountName(name); err != nil {
		return Account{}, err
	}
	if _, err := ParseRole(string(role)); err != nil {
		return Account{}, err
	}
	if err := CheckPassword(name, password); err != nil {
		return Account{}, err
	}
	// Hashed before the write, so that the writer is not held for it.
	hash := hashPassword(password)
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
func (s *Store) SetAccountPassword(ctx context.Context, name, password string) (Account, error) {
	if err := CheckPassword(name, password); err != nil {
		return Account{}, err
	}
	hash := hashPassword(password)
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

// AuthenticateAccount returns the active account named name if password is
// its password. A wrong name, a wrong password and a disabled account get
// the same error of kind fleet.KindUnauthorized, after the same work.
func (s *Store) AuthenticateAccount(ctx context.Context, name, password string) (Account, error) {
	if len(password) > maxPasswordLength {
		return Account{}, errBadLogin()
	}
	var hash string
	a, err := scanAccount(s.read.QueryRowContext(ctx, "SELECT "+accountColumns+", password FROM accounts WHERE name = $1", name), &hash)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		hashDummy(password)
		return Account{}, errBadLogin()
	case err != nil:
		return Account{}, fmt.Errorf("read account %s: %w", name, err)
	}
	ok, err := passwordMatches(hash, password)
	if err != nil {
		return Account{}, fmt.Errorf("account %s: stored password hash: %w", name, err)
	}
	if !ok || !a.Active() {
		return Account{}, errBadLogin()
	}
	return a, nil
}

// LoginAccount is AuthenticateAccount that also records the login.
func (s *Store) LoginAccount(ctx context.Context, name, password string) (Account, error) {
	a, err := s.AuthenticateAccount(ctx, name, password)
	if err != nil {
		return Account{}, err
	}
	a.LastLogin = s.now().UTC().Truncate(Precision)
	if _, err := s.write.ExecContext(ctx, "UPDATE accounts SET last_login = $1 WHERE id = $2", s.dialect.time(a.LastLogin), a.ID); err != nil {
		return Account{}, fmt.Errorf("record the login of account %s: %w", name, err)
	}
	return a, nil
}
