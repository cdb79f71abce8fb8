package cli

import (
	"context"
	"errors"
)

// runServe is a placeholder until the subcommand lands.
func runServe(_ context.Context, _ *env, _ []string) error {
	return errors.New("illico serve: not built yet")
}
