package cli

import (
	"context"
	"errors"
)

// runInventory is a placeholder until the subcommand lands.
func runInventory(_ context.Context, _ *env, _ []string) error {
	return errors.New("illico inventory: not built yet")
}
