// Package cli is illico's command line: one runX function per subcommand, all
// reached from Run, and the one switch that maps errors to exit codes.
package cli

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"

	"github.com/illico-dev/illico/internal/fleet"
)

// env is what every subcommand gets from the outside world; nothing reads
// os.Args, os.Getenv or the standard streams directly.
type env struct {
	build  Build
	getenv func(string) string
	stdin  io.Reader
	stdout io.Writer
	stderr io.Writer
}

type command struct {
	name    string
	summary string
	run     func(ctx context.Context, e *env, args []string) error
	hidden  bool
}

func commands() []command {
	return []command{
		{name: "inventory", summary: "check, import and audit a fleet inventory", run: runInventory},
		{name: "plan", summary: "check a maintenance plan and show its schedule", run: runPlan},
		{name: "rollout", summary: "start, follow and steer rollouts on the daemon", run: runRollout},
		{name: "run", summary: "run a command on many hosts over SSH", run: runRun},
		{name: "serve", summary: "run the control plane: API, dashboard, status page", run: runServe},
		{name: "token", summary: "create, list and revoke API tokens on the daemon", run: runToken},
		{name: "account", summary: "add, list and remove the dashboard's accounts", run: runAccount},
		{name: "hosts", summary: "list the daemon's hosts", run: runHosts},
		{name: "host", summary: "take a host out of service by hand, and put it back: drain, undrain", run: runHost},
		{name: "budget", summary: "every group's budget: who is out of service, why, and who holds them", run: runBudget},
		{name: "probe", summary: "list the daemon's probes and where they stand", run: runProbe},
		{name: "alert", summary: "list the alerts the daemon raised", run: runAlert},
		{name: "status", summary: "the status page: components, incidents, maintenances, updates", run: runStatus},
		{name: "silence", summary: "mute alerts for a while: add, list, expire", run: runSilence},
		{name: "cluster", summary: "the replicas of the daemon on one database, and which one leads", run: runCluster},
		{name: "lab", summary: "a simulated fleet on this machine: real sshd, real HAProxy", run: runLab},
		{name: "version", summary: "print the version", run: runVersion},
	}
}

// Build says which illico this is. Package main has it from the build
// (scripts/build stamps it with -ldflags -X) and hands it to Run.
type Build struct {
	Version string // git describe; "dev" when unknown
	Commit  string // the commit's full hash; empty when unknown
	Date    string // when it was built, UTC, RFC 3339; empty when unknown
}

// String is what illico version prints.
func (b Build) String() string {
	s := "illico " + b.Version
	switch {
	case b.Commit != "" && b.Date != "":
		s += " (commit " + b.Commit + ", built " + b.Date + ")"
	case b.Commit != "":
		s += " (commit " + b.Commit + ")"
	case b.Date != "":
		s += " (built " + b.Date + ")"
	}
	return s
}

// Run runs the illico command line with args (without the program name).
func Run(ctx context.Context, build Build, args []string, getenv func(string) string, stdin io.Reader, stdout, stderr io.Writer) error {
	if build.Version == "" {
		build.Version = "dev"
	}
	e := &env{build: build, getenv: getenv, stdin: stdin, stdout: stdout, stderr: stderr}
	if len(args) > 0 && (args[0] == "--version" || args[0] == "-version") {
		return runVersion(ctx, e, args[1:])
	}
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		usage(stdout)
		if len(args) == 0 {
			return errUsage
		}
		return nil
	}
	for _, c := range commands() {
		if c.name == args[0] {
			return c.run(ctx, e, args[1:])
		}
	}
	return usageErrorf("unknown command %q (run illico help)", args[0])
}

func usage(w io.Writer) {
	fmt.Fprintln(w, "illico: patch the whole fleet at noon, and nobody notices.")
	fmt.Fprintln(w, "\nUsage: illico COMMAND [options]\n\nCommands:")
	for _, c := range commands() {
		if !c.hidden {
			fmt.Fprintf(w, "  %-10s %s\n", c.name, c.summary)
		}
	}
	fmt.Fprintln(w, "\nRun illico COMMAND -h for the options of a command, illico --version for the version.")
}

// runVersion is both illico version and illico --version.
func runVersion(_ context.Context, e *env, args []string) error {
	if len(args) > 0 {
		return usageErrorf("version takes no arguments, got %q", args[0])
	}
	fmt.Fprintln(e.stdout, e.build)
	return nil
}

// errUsage is returned when the usage was printed for lack of arguments.
var errUsage = errors.New("usage")

// usageError is a mistake on the command line.
type usageError struct{ msg string }

func (u *usageError) Error() string { return u.msg }

func usageErrorf(format string, args ...any) error {
	return &usageError{msg: fmt.Sprintf(format, args...)}
}

// errFound is returned by commands whose answer is "something is wrong"
// (problems in a file, hosts that failed): they printed it already, and
// only the exit code is left to say.
var errFound = errors.New("found problems")

// Exit codes. Scripts rely on them; never renumber.
const (
	exitOK          = 0
	exitFailure     = 1 // the command ran and found problems, or failed
	exitUsage       = 2 // the command line is wrong
	exitUnavailable = 3 // the daemon or a host could not be reached
	exitAuth        = 4 // no valid token, or not allowed
)

// ExitCode maps an error to the process exit code, printing it to stderr
// unless it was already said.
func ExitCode(err error, stderr io.Writer) int {
	if err == nil {
		return exitOK
	}
	var ue *usageError
	switch {
	case errors.Is(err, errFound):
		return exitFailure
	case errors.Is(err, errUsage):
		return exitUsage
	case errors.Is(err, flag.ErrHelp):
		return exitOK
	case errors.As(err, &ue):
		fmt.Fprintln(stderr, "illico:", err)
		return exitUsage
	}
	fmt.Fprintln(stderr, "illico:", strings.TrimSpace(err.Error()))
	switch fleet.KindOf(err) {
	case fleet.KindUnavailable:
		return exitUnavailable
	case fleet.KindUnauthorized, fleet.KindForbidden:
		return exitAuth
	case fleet.KindInvalid, fleet.KindTooLarge:
		return exitUsage
	}
	return exitFailure
}

// newFlags returns a flag set that reports errors instead of exiting and
// prints its usage to stderr.
func newFlags(e *env, name, synopsis string) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(e.stderr)
	fs.Usage = func() {
		fmt.Fprintf(e.stderr, "Usage: illico %s\n", synopsis)
		fs.PrintDefaults()
	}
	return fs
}

// parseFlags parses args, allowing flags after positional arguments
// ("illico inventory check FILE --json"), and returns the positionals.
// Everything after "--" is positional, flags or not ("illico run -- ls -l").
func parseFlags(fs *flag.FlagSet, args []string) ([]string, error) {
	var rest []string
	for i, a := range args {
		if a == "--" {
			args, rest = args[:i], args[i+1:]
			break
		}
	}
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			if errors.Is(err, flag.ErrHelp) {
				return nil, err
			}
			return nil, &usageError{msg: err.Error()}
		}
		args = fs.Args()
		if len(args) == 0 {
			return append(pos, rest...), nil
		}
		pos = append(pos, args[0])
		args = args[1:]
	}
}
