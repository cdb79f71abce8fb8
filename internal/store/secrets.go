package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/illico-dev/illico/internal/fleet"
)

// Secret returns the daemon's secret named name, or an error of kind
// fleet.KindNotFound when there is none yet.
func (s *Store) Secret(ctx context.Context, name string) (fleet.Secret, error) {
	var v string
	err := s.read.QueryRowContext(ctx, "SELECT value FROM secrets WHERE name = $1", name).Scan(&v)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return "", fleet.Errorf(fleet.KindNotFound, "no secret %q in the store", name)
	case err != nil:
		return "", fmt.Errorf("read secret %s: %w", name, err)
	}
	return fleet.Secret(v), nil
}

// CreateSecret keeps value as the secret named name unless the store has
// one already, and returns the one kept. created reports whether it is
// value: of daemons creating the same secret at once, one wins and every
// one of them gets its value.
func (s *Store) CreateSecret(ctx context.Context, name string, value fleet.Secret) (kept fleet.Secret, created bool, err error) {
	if name == "" || value == "" {
		return "", false, fleet.Errorf(fleet.KindInvalid, "a secret needs a name and a value")
	}
	res, err := s.write.ExecContext(ctx, "INSERT INTO secrets (name, value, created) VALUES ($1, $2, $3) ON CONFLICT (name) DO NOTHING",
		name, value.Reveal(), s.dialect.time(s.now()))
	if err != nil {
		return "", false, fmt.Errorf("create secret %s: %w", name, err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return "", false, fmt.Errorf("create secret %s: %w", name, err)
	}
	kept, err = s.Secret(ctx, name)
	return kept, err == nil && n == 1, err
}
