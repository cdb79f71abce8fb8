package cli

import (
	"context"
	"errors"
)

// runHosts is a placeholder until the subcommand lands.
func runHosts(_ context.Context, _ *env, _ []string) error {
	return errors.New("illico hosts: not built yet")
}
