package store

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"database/sql"
	"encoding/base32"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode"

	"github.com/illico-dev/illico/internal/fleet"
)

// SecretPrefix starts every token secret, so that a leaked one is easy to
// recognise (and for secret scanners to find).
const SecretPrefix = "illico_"

var secretEncoding = base32.StdEncoding.WithPadding(base32.NoPadding)

// NewSecret returns a fresh token secret: the prefix and 32 random bytes.
func NewSecret() fleet.Secret {
	b := make([]byte, 32)
	rand.Read(b) // never fails: crypto/rand aborts the program rather than return weak bytes
	return fleet.Secret(SecretPrefix + strings.ToLower(secretEncoding.EncodeToString(b)))
}

// HashSecret is how a secret is stored and looked up. The secrets are random
// and long, so a plain SHA-256 is enough: there is nothing to brute-force.
func HashSecret(secret string) string {
	sum := sha256.Sum256([]byte(secret))
	return hex.EncodeToString(sum[:])
}

// TouchInterval is how stale last_used may get: recording every request
// would make every read a write.
const TouchInterval = time.Minute

func checkTokenName(name string) error {
	switch {
	case strings.TrimSpace(name) == "":
		return fleet.Errorf(fleet.KindInvalid, "a token needs a name (who or what uses it)")
	case len(name) > 100:
		return fleet.Errorf(fleet.KindInvalid, "token name is longer than 100 bytes")
	case strings.IndexFunc(name, unicode.IsControl) >= 0:
		return fleet.Errorf(fleet.KindInvalid, "token name %q has a control character", name)
	}
	return nil
}

const tokenColumns = "id, name, role, created, last_used, revoked"

func scanToken(row interface{ Scan(...any) error }) (fleet.Token, error) {
	var t fleet.Token
	var role string
	err := row.Scan(&t.ID, &t.Name, &role, timeScanner{&t.Created}, timeScanner{&t.LastUsed}, timeScanner{&t.Revoked})
	t.Role = fleet.Role(role)
	return t, err
}

// CreateToken stores a new token and returns it with its secret, which is
// not kept and cannot be shown again.
func (d db) CreateToken(ctx context.Context, name string, role fleet.Role) (fleet.Token, fleet.Secret, error) {
	if err := checkTokenName(name); err != nil {
		return fleet.Token{}, "", err
	}
	if _, err := fleet.ParseRole(string(role)); err != nil {
		return fleet.Token{}, "", err
	}
	secret := NewSecret()
	row := d.q.QueryRowContext(ctx, `INSERT INTO api_tokens (name, role, hash, created) VALUES ($1, $2, $3, $4)
		RETURNING `+tokenColumns, name, string(role), HashSecret(secret.Reveal()), d.d.time(d.now()))
	t, err := scanToken(row)
	if err != nil {
		return fleet.Token{}, "", fmt.Errorf("create token: %w", err)
	}
	return t, secret, nil
}

// Authenticate returns the active token whose secret this is.
func (d db) Authenticate(ctx context.Context, secret string) (fleet.Token, error) {
	if !strings.HasPrefix(secret, SecretPrefix) {
		return fleet.Token{}, fleet.Errorf(fleet.KindUnauthorized, "not an illico token (they start with %s)", SecretPrefix)
	}
	// Looking up by hash needs no constant-time compare: timing can at best
	// reveal the hash of a guess, not the secret that produces a stored one.
	t, err := scanToken(d.q.QueryRowContext(ctx, "SELECT "+tokenColumns+" FROM api_tokens WHERE hash = $1", HashSecret(secret)))
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return fleet.Token{}, fleet.Errorf(fleet.KindUnauthorized, "unknown token")
	case err != nil:
		return fleet.Token{}, fmt.Errorf("look up token: %w", err)
	case !t.Active():
		return fleet.Token{}, fleet.Errorf(fleet.KindUnauthorized, "token %d (%s) was revoked", t.ID, t.Name)
	}
	return t, nil
}

// Token returns the token with id.
func (d db) Token(ctx context.Context, id int64) (fleet.Token, error) {
	t, err := scanToken(d.q.QueryRowContext(ctx, "SELECT "+tokenColumns+" FROM api_tokens WHERE id = $1", id))
	if errors.Is(err, sql.ErrNoRows) {
		return fleet.Token{}, fleet.Errorf(fleet.KindNotFound, "no token with id %d", id)
	}
	if err != nil {
		return fleet.Token{}, fmt.Errorf("read token %d: %w", id, err)
	}
	return t, nil
}

// ListTokens returns every token, revoked ones included, oldest first.
func (d db) ListTokens(ctx context.Context) ([]fleet.Token, error) {
	rows, err := d.q.QueryContext(ctx, "SELECT "+tokenColumns+" FROM api_tokens ORDER BY id")
	if err != nil {
		return nil, fmt.Errorf("list tokens: %w", err)
	}
	defer rows.Close()
	var list []fleet.Token
	for rows.Next() {
		t, err := scanToken(rows)
		if err != nil {
			return nil, fmt.Errorf("list tokens: %w", err)
		}
		list = append(list, t)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list tokens: %w", err)
	}
	return list, nil
}

// CountTokens counts every token ever created, revoked ones included.
func (d db) CountTokens(ctx context.Context) (int, error) {
	var n int
	if err := d.q.QueryRowContext(ctx, "SELECT COUNT(*) FROM api_tokens").Scan(&n); err != nil {
		return 0, fmt.Errorf("count tokens: %w", err)
	}
	return n, nil
}

// RevokeToken revokes the token with id. It refuses to revoke the last
// active admin token, which would leave nobody able to create another.
func (d db) RevokeToken(ctx context.Context, id int64) (fleet.Token, error) {
	t, err := scanToken(d.q.QueryRowContext(ctx, "SELECT "+tokenColumns+" FROM api_tokens WHERE id = $1"+d.d.forUpdate, id))
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return fleet.Token{}, fleet.Errorf(fleet.KindNotFound, "no token with id %d", id)
	case err != nil:
		return fleet.Token{}, fmt.Errorf("revoke token %d: %w", id, err)
	case !t.Active():
		return fleet.Token{}, fleet.Errorf(fleet.KindConflict, "token %d (%s) is already revoked", id, t.Name)
	}
	if t.Role == fleet.RoleAdmin {
		// Lock the other admins too, so that two revocations at once cannot
		// each see the other's token as the one left.
		rows, err := d.q.QueryContext(ctx, "SELECT id FROM api_tokens WHERE role = 'admin' AND revoked IS NULL AND id <> $1"+d.d.forUpdate, id)
		if err != nil {
			return fleet.Token{}, fmt.Errorf("revoke token %d: %w", id, err)
		}
		others := 0
		for rows.Next() {
			others++
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return fleet.Token{}, fmt.Errorf("revoke token %d: %w", id, err)
		}
		if others == 0 {
			return fleet.Token{}, fleet.Errorf(fleet.KindConflict, "token %d (%s) is the last active admin token: create another admin token first", id, t.Name)
		}
	}
	t.Revoked = d.now().UTC().Truncate(Precision)
	if _, err := d.q.ExecContext(ctx, "UPDATE api_tokens SET revoked = $1 WHERE id = $2", d.d.time(t.Revoked), id); err != nil {
		return fleet.Token{}, fmt.Errorf("revoke token %d: %w", id, err)
	}
	return t, nil
}

// TouchToken records that the token was just used. It writes at most once a
// minute per token.
func (d db) TouchToken(ctx context.Context, id int64) error {
	now := d.now()
	_, err := d.q.ExecContext(ctx, "UPDATE api_tokens SET last_used = $1 WHERE id = $2 AND (last_used IS NULL OR last_used < $3)",
		d.d.time(now), id, d.d.time(now.Add(-TouchInterval)))
	if err != nil {
		return fmt.Errorf("touch token %d: %w", id, err)
	}
	return nil
}

// CreateToken stores a new token and returns it with its secret, which is
// not kept and cannot be shown again.
func (s *Store) CreateToken(ctx context.Context, name string, role fleet.Role) (fleet.Token, fleet.Secret, error) {
	return s.conn(s.write).CreateToken(ctx, name, role)
}

// Authenticate returns the active token whose secret this is, or an error of
// kind fleet.KindUnauthorized.
func (s *Store) Authenticate(ctx context.Context, secret string) (fleet.Token, error) {
	return s.conn(s.read).Authenticate(ctx, secret)
}

// Token returns the token with id.
func (s *Store) Token(ctx context.Context, id int64) (fleet.Token, error) {
	return s.conn(s.read).Token(ctx, id)
}

// ListTokens returns every token, revoked ones included, oldest first.
func (s *Store) ListTokens(ctx context.Context) ([]fleet.Token, error) {
	return s.conn(s.read).ListTokens(ctx)
}

// CountTokens counts every token ever created, revoked ones included.
func (s *Store) CountTokens(ctx context.Context) (int, error) {
	return s.conn(s.read).CountTokens(ctx)
}

// RevokeToken revokes the token with id, unless it is the last active admin.
func (s *Store) RevokeToken(ctx context.Context, id int64) (fleet.Token, error) {
	var t fleet.Token
	err := s.Tx(ctx, func(tx *Tx) error {
		var err error
		t, err = tx.RevokeToken(ctx, id)
		return err
	})
	return t, err
}

// TouchToken records that the token was just used, at most once a minute.
func (s *Store) TouchToken(ctx context.Context, id int64) error {
	return s.conn(s.write).TouchToken(ctx, id)
}
