package cli

import (
	"context"
	"fmt"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/illico-dev/illico/internal/api"
)

const hostSynopsis = "host drain HOST [--reason TEXT] [--force] | host undrain HOST"

// runHost is `illico host`: an operator takes a host out of service by
// hand, and puts it back, through the daemon's disruption ledger.
func runHost(ctx context.Context, e *env, args []string) error {
	if len(args) == 0 {
		return usageErrorf("usage: illico %s", hostSynopsis)
	}
	switch args[0] {
	case "drain":
		return runHostDrain(ctx, e, args[1:])
	case "undrain":
		return runHostUndrain(ctx, e, args[1:])
	case "-h", "--help", "help":
		fmt.Fprintf(e.stdout, "Usage: illico %s\n", hostSynopsis)
		return nil
	}
	return usageErrorf("unknown host command %q (expected drain or undrain)", args[0])
}

func runHostDrain(ctx context.Context, e *env, args []string) error {
	fs := newFlags(e, "host drain", "host drain HOST [--reason TEXT] [--force] [--json]")
	reason := fs.String("reason", "", "why the host is taken out, for whoever reads the budgets")
	force := fs.Bool("force", false, "take it out even where a group's budget does not allow it")
	asJSON := fs.Bool("json", false, "print the lease as JSON")
	rest, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	if len(rest) != 1 {
		return usageErrorf("usage: illico host drain HOST [--reason TEXT] [--force]")
	}
	c, err := apiClient(e)
	if err != nil {
		return err
	}
	d, err := c.Drain(ctx, rest[0], api.Drain{Reason: *reason, Force: *force})
	if err != nil {
		return err
	}
	if *asJSON {
		return printAPIJSON(e, d)
	}
	fmt.Fprintf(e.stdout, "%s is drained, leased to %s since %s\n", d.Lease.Host, d.Lease.Holder, d.Lease.Since.UTC().Format(time.TimeOnly))
	if d.Broke != "" {
		fmt.Fprintf(e.stderr, "warning: forced past a budget: %s\n", d.Broke)
	}
	return nil
}

func runHostUndrain(ctx context.Context, e *env, args []string) error {
	fs := newFlags(e, "host undrain", "host undrain HOST")
	rest, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	if len(rest) != 1 {
		return usageErrorf("usage: illico host undrain HOST")
	}
	c, err := apiClient(e)
	if err != nil {
		return err
	}
	l, err := c.Undrain(ctx, rest[0])
	if err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "%s is back in service (its lease, held by %s since %s, has ended)\n", l.Host, l.Holder, l.Since.UTC().Format(time.TimeOnly))
	return nil
}

// runBudget is `illico budget`: every group, how many members it lets out
// at once, and who is out now and why.
func runBudget(ctx context.Context, e *env, args []string) error {
	fs := newFlags(e, "budget", "budget [--json]")
	asJSON := fs.Bool("json", false, "print the budgets as JSON")
	rest, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	if len(rest) > 0 {
		return usageErrorf("illico budget takes no arguments, got %q", rest[0])
	}
	c, err := apiClient(e)
	if err != nil {
		return err
	}
	groups, err := c.Budgets(ctx)
	if err != nil {
		return err
	}
	if *asJSON {
		return printAPIJSON(e, api.Budgets{Groups: groups})
	}
	tw := tabwriter.NewWriter(e.stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "GROUP\tOUT\tMEMBERS\tWHO IS OUT")
	for _, g := range groups {
		var names, out []string
		for _, m := range g.Members {
			names = append(names, m.Host)
			if m.Out != "" {
				out = append(out, m.Host+" "+m.Out)
			}
		}
		who := strings.Join(out, "; ")
		if who == "" {
			who = "-"
		}
		fmt.Fprintf(tw, "%s\t%d of %d allowed\t%s\t%s\n", g.Name, g.Out, g.Allowed, strings.Join(names, ","), who)
	}
	return tw.Flush()
}
