package fleet

import "time"

// CommandResult is how a command run on a host ended. A command that exits
// non-zero has still run: ExitCode says how it ended, and only a command
// that could not be run, or whose end was never seen, is an error.
type CommandResult struct {
	ExitCode int
	Duration time.Duration
}
