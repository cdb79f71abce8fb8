package cli

import (
	"context"
	"errors"
)

// runRun is a placeholder until the subcommand lands.
func runRun(_ context.Context, _ *env, _ []string) error {
	return errors.New("illico run: not built yet")
}
