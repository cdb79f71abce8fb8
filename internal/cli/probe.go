package cli

import (
	"context"
	"fmt"
	"text/tabwriter"
	"time"

	"github.com/illico-dev/illico/internal/api"
)

const probeSynopsis = "probe list [--json] | probe status [--json]"

// runProbe is `illico probe`: the daemon's probes and where they stand.
func runProbe(ctx context.Context, e *env, args []string) error {
	if len(args) == 0 {
		return usageErrorf("usage: illico %s", probeSynopsis)
	}
	switch args[0] {
	case "list":
		return runProbeList(ctx, e, args[1:], false)
	case "status":
		return runProbeList(ctx, e, args[1:], true)
	case "-h", "--help", "help":
		fmt.Fprintf(e.stdout, "Usage: illico %s\n", probeSynopsis)
		return nil
	}
	return usageErrorf("unknown probe command %q (expected list or status)", args[0])
}

// runProbeList lists every probe target or, for status, counts them by
// state and lists those that are not up.
func runProbeList(ctx context.Context, e *env, args []string, status bool) error {
	name := map[bool]string{false: "list", true: "status"}[status]
	fs := newFlags(e, "probe "+name, "probe "+name+" [--json]")
	asJSON := fs.Bool("json", false, "print the probes as JSON")
	rest, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	if len(rest) > 0 {
		return usageErrorf("illico probe %s takes no arguments, got %q", name, rest[0])
	}
	c, err := apiClient(e)
	if err != nil {
		return err
	}
	probes, err := c.Probes(ctx)
	if err != nil {
		return err
	}
	counts := map[string]int{}
	shown := probes[:0:0]
	for _, p := range probes {
		counts[p.State]++
		if !status || p.State != "up" {
			shown = append(shown, p)
		}
	}
	if *asJSON {
		return printAPIJSON(e, api.Probes{Probes: shown})
	}
	if status {
		fmt.Fprintf(e.stdout, "%d probes: %d up, %d down, %d unknown\n", len(probes), counts["up"], counts["down"], counts["unknown"])
		if len(shown) == 0 {
			return nil
		}
	}
	tw := tabwriter.NewWriter(e.stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "HOST\tPROBE\tKIND\tSTATE\tSINCE\tLAST")
	for _, p := range shown {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", p.Host, p.Probe, p.Kind, p.State, since(p.Since), lastResult(p.Last))
	}
	return tw.Flush()
}

func since(t *time.Time) string {
	if t == nil {
		return "-"
	}
	return t.UTC().Format("2006-01-02 15:04:05Z")
}

func lastResult(r *api.ProbeResult) string {
	switch {
	case r == nil:
		return "not run yet"
	case r.OK:
		return fmt.Sprintf("ok in %dms", r.TookMS)
	}
	return "failed " + r.Reason
}
