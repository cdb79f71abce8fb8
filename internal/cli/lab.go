package cli

import (
	"context"
	"errors"
)

// runLab is a placeholder until the subcommand lands.
func runLab(_ context.Context, _ *env, _ []string) error {
	return errors.New("illico lab: not built yet")
}
