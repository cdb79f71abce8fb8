package cli

import (
	"context"
	"errors"
)

// runToken is a placeholder until the subcommand lands.
func runToken(_ context.Context, _ *env, _ []string) error {
	return errors.New("illico token: not built yet")
}
