package cli

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"sync"
	"time"

	"github.com/illico-dev/illico/internal/fleet"
	"github.com/illico-dev/illico/internal/inventory"
	"github.com/illico-dev/illico/internal/sshx"
)

const runSynopsis = "run --inventory FILE [--limit SELECTOR] [--forks N] [--timeout D] [--json] -- COMMAND"

// runRun is `illico run`: one shell command on many hosts, its output
// streamed with each line prefixed by its host (stderr lines to stderr,
// marked with "!"), then a summary.
func runRun(ctx context.Context, e *env, args []string) error {
	fs := newFlags(e, "run", runSynopsis)
	invPath := fs.String("inventory", "", "the inventory `FILE` (default $ILLICO_INVENTORY)")
	limit := fs.String("limit", "", "run on the hosts this `SELECTOR` picks (see docs/inventory.md; default: all)")
	forks := fs.Int("forks", sshx.DefaultForks, "how many hosts run at once")
	timeout := fs.Duration("timeout", 5*time.Minute, "bound on each host's connect and command (0: none)")
	asJSON := fs.Bool("json", false, "print one JSON object per host, and no streamed output")
	pos, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	if len(pos) == 0 {
		return usageErrorf("illico run needs a command: illico %s", runSynopsis)
	}
	if *forks < 1 {
		return usageErrorf("--forks must be at least 1, not %d", *forks)
	}
	if *timeout < 0 {
		return usageErrorf("--timeout must not be negative, not %s", *timeout)
	}
	if *invPath == "" {
		*invPath = e.getenv("ILLICO_INVENTORY")
	}
	if *invPath == "" {
		return usageErrorf("no inventory: give --inventory FILE or set ILLICO_INVENTORY")
	}
	// Like ssh, the words of the command are joined by spaces and given to
	// the remote shell.
	cmd := strings.Join(pos, " ")

	inv, err := inventory.Load(*invPath)
	if err != nil {
		return problems(e, err)
	}
	hosts, err := inventory.Select(inv, *limit)
	if err != nil {
		return err
	}

	pool := sshx.NewPool(sshx.Options{
		Getenv: e.getenv,
		Logger: slog.New(slog.NewTextHandler(e.stderr, &slog.HandlerOptions{Level: slog.LevelWarn})),
	})
	defer pool.Close()
	opts := sshx.ManyOptions{Forks: *forks, Timeout: *timeout}
	if !*asJSON {
		opts.OnLine = streamer(e, hosts)
	}
	start := time.Now()
	results := sshx.RunMany(ctx, pool, hosts, cmd, opts)
	elapsed := time.Since(start)

	summaryTo := e.stdout
	if *asJSON {
		if err := printResultsJSON(e.stdout, results); err != nil {
			return err
		}
		summaryTo = e.stderr
	}
	if printSummary(summaryTo, results, elapsed) {
		return errFound
	}
	return nil
}

// streamer prints each line as "HOST | line", host names padded so that
// the lines align; stderr lines go to stderr as "HOST ! line".
func streamer(e *env, hosts []*fleet.Host) func(*fleet.Host, string, string) {
	width := 0
	for _, h := range hosts {
		width = max(width, len(h.Name))
	}
	var mu sync.Mutex
	return func(h *fleet.Host, stream, line string) {
		w, mark := e.stdout, "|"
		if stream == "stderr" {
			w, mark = e.stderr, "!"
		}
		line = strings.TrimSuffix(line, "\r")
		mu.Lock()
		defer mu.Unlock()
		fmt.Fprintf(w, "%-*s %s %s\n", width, h.Name, mark, line)
	}
}

// hostJSON is one line of `illico run --json`.
type hostJSON struct {
	Host       string `json:"host"`
	Status     string `json:"status"`
	ExitCode   int    `json:"exit_code"`
	Stdout     string `json:"stdout"`
	Stderr     string `json:"stderr"`
	DurationMS int64  `json:"duration_ms"`
	Error      string `json:"error"`
}

func printResultsJSON(w io.Writer, results []sshx.HostResult) error {
	enc := json.NewEncoder(w)
	for _, r := range results {
		j := hostJSON{
			Host:       r.Host.Name,
			Status:     string(r.Status),
			ExitCode:   r.ExitCode,
			Stdout:     string(r.Stdout),
			Stderr:     string(r.Stderr),
			DurationMS: r.Duration.Milliseconds(),
		}
		if r.Err != nil {
			j.Error = r.Err.Error()
		}
		if err := enc.Encode(j); err != nil {
			return fmt.Errorf("write results: %w", err)
		}
	}
	return nil
}

// printSummary prints "N hosts: A ok, B failed, C unreachable in D", then
// a line per host that did not succeed, and says whether there was one.
func printSummary(w io.Writer, results []sshx.HostResult, elapsed time.Duration) bool {
	counts := map[sshx.Status]int{}
	width := 0
	for _, r := range results {
		counts[r.Status]++
		if r.Status != sshx.StatusOK {
			width = max(width, len(r.Host.Name))
		}
	}
	noun := "hosts"
	if len(results) == 1 {
		noun = "host"
	}
	fmt.Fprintf(w, "%d %s: %d ok, %d failed, %d unreachable in %s\n", len(results), noun,
		counts[sshx.StatusOK], counts[sshx.StatusFailed], counts[sshx.StatusUnreachable], roundDuration(elapsed))
	for _, r := range results {
		if r.Status == sshx.StatusOK {
			continue
		}
		reason := fmt.Sprintf("exit code %d", r.ExitCode)
		if r.Err != nil {
			reason = r.Err.Error()
		}
		fmt.Fprintf(w, "  %-*s  %s: %s\n", width, r.Host.Name, r.Status, reason)
	}
	return len(results) != counts[sshx.StatusOK]
}

func roundDuration(d time.Duration) time.Duration {
	if d < time.Second {
		return d.Round(time.Millisecond)
	}
	return d.Round(100 * time.Millisecond)
}
