// Command illico rolls maintenance through a hosting fleet without taking a
// customer site down, and tells the customers what is happening.
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"

	"github.com/illico-dev/illico/internal/cli"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := cli.Run(ctx, os.Args[1:], os.Getenv, os.Stdin, os.Stdout, os.Stderr)
	stop()
	os.Exit(cli.ExitCode(err, os.Stderr))
}
