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

// Which illico this is: scripts/build sets them with -ldflags -X; a plain
// go build leaves them empty and the binary says it is "dev".
var version, commit, date string

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	build := cli.Build{Version: version, Commit: commit, Date: date}
	err := cli.Run(ctx, build, os.Args[1:], os.Getenv, os.Stdin, os.Stdout, os.Stderr)
	stop()
	os.Exit(cli.ExitCode(err, os.Stderr))
}
