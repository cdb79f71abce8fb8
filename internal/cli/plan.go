package cli

import (
	"context"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/illico-dev/illico/internal/fleet"
	"github.com/illico-dev/illico/internal/inventory"
	"github.com/illico-dev/illico/internal/plan"
	"github.com/illico-dev/illico/internal/rollout"
)

// runPlan is `illico plan check`.
func runPlan(ctx context.Context, e *env, args []string) error {
	if len(args) == 0 || args[0] != "check" {
		fmt.Fprintln(e.stderr, "Usage: illico plan check FILE [--inventory FILE] [--limit SELECTOR]")
		if len(args) > 0 && (args[0] == "-h" || args[0] == "--help") {
			return nil
		}
		return errUsage
	}
	fs := newFlags(e, "plan check", "plan check FILE [--inventory FILE] [--limit SELECTOR]")
	invPath := fs.String("inventory", e.getenv("ILLICO_INVENTORY"), "the inventory to schedule the plan on (default $ILLICO_INVENTORY)")
	limit := fs.String("limit", "", "the hosts to schedule, as a selector (default: all)")
	pos, err := parseFlags(fs, args[1:])
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		return usageErrorf("illico plan check takes one FILE, got %d arguments", len(pos))
	}
	p, err := plan.Load(pos[0])
	if err != nil {
		return problems(e, err)
	}
	describePlan(e.stdout, p)
	if *invPath == "" {
		fmt.Fprintln(e.stdout, "\nGive --inventory to see the schedule on your fleet.")
		return nil
	}
	inv, err := inventory.Load(*invPath)
	if err != nil {
		return problems(e, err)
	}
	hosts, err := inventory.Select(inv, *limit)
	if err != nil {
		return err
	}
	var canaries []*fleet.Host
	if p.Strategy.CanaryHosts != "" {
		if canaries, err = inventory.Select(inv, p.Strategy.CanaryHosts); err != nil {
			return fmt.Errorf("canary_hosts: %w", err)
		}
	}
	describePreview(e.stdout, rollout.NewPreview(inv, p, hosts, canaries, nil))
	return nil
}

func describePlan(w io.Writer, p *fleet.Plan) {
	fmt.Fprintf(w, "Plan %q: %d steps, %d rollback steps\n", p.Name, len(p.Steps), len(p.Rollback))
	steps := func(list []fleet.Step) {
		for i, s := range list {
			fmt.Fprintf(w, "  %d. %s\n", i+1, stepLine(s))
		}
	}
	steps(p.Steps)
	if len(p.Rollback) > 0 {
		fmt.Fprintln(w, "Rollback:")
		steps(p.Rollback)
	}
	s := p.Strategy
	canary := fmt.Sprintf("canary %d", s.Canary)
	if s.CanaryHosts != "" {
		canary = "canary " + s.CanaryHosts
	}
	onFailure := "roll back the failed hosts"
	if s.RollbackAll {
		onFailure = "roll back every host"
	}
	fmt.Fprintf(w, "Strategy: %s, max_parallel %s, %s, max_failures %s, on failure %s\n", canary, s.MaxParallel, s.Order, s.MaxFailures, onFailure)
	if win := p.Window; win != nil {
		var days []string
		for d, open := range win.Days {
			if open {
				days = append(days, time.Weekday(d).String()[:3])
			}
		}
		fmt.Fprintf(w, "Window: %s %s-%s (%s); --urgent ignores it, never the budgets\n", strings.Join(days, ","), clockOf(win.Start), clockOf(win.End), win.Location)
	}
}

func clockOf(d time.Duration) string {
	return fmt.Sprintf("%02d:%02d", int(d.Hours()), int(d.Minutes())%60)
}

func stepLine(s fleet.Step) string {
	var b strings.Builder
	switch s.Kind {
	case fleet.StepRun:
		fmt.Fprintf(&b, "run %q", s.Command)
		if s.Unless != "" {
			fmt.Fprintf(&b, " unless %q", s.Unless)
		}
	case fleet.StepReboot:
		b.WriteString("reboot")
		if s.IfRequired {
			b.WriteString(" if required")
		}
	case fleet.StepWaitHealthy:
		fmt.Fprintf(&b, "wait until healthy for %s", s.MinHealthy)
	default:
		b.WriteString(string(s.Kind))
	}
	fmt.Fprintf(&b, " (timeout %s)", s.Timeout)
	return b.String()
}

func describePreview(w io.Writer, pv rollout.Preview) {
	waves := map[int][]string{}
	var order []int
	for _, h := range pv.Hosts {
		if _, ok := waves[h.Wave]; !ok {
			order = append(order, h.Wave)
		}
		name := h.Host
		if h.Canary {
			name += " (canary)"
		}
		waves[h.Wave] = append(waves[h.Wave], name)
	}
	fmt.Fprintf(w, "\nSchedule on %d hosts: at most %d at once, halt after %d failed\n", len(pv.Hosts), pv.MaxParallel, pv.MaxFailures)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "WAVE\tHOSTS")
	for _, wave := range order {
		fmt.Fprintf(tw, "%d\t%s\n", wave, strings.Join(waves[wave], " "))
	}
	tw.Flush()
	fmt.Fprintln(w, "\nBudgets (members down at once, never the last healthy one):")
	tw = tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	for _, g := range pv.Groups {
		fmt.Fprintf(tw, "  %s\t%d of %d\n", g.Name, g.Allowed, len(g.Members))
	}
	tw.Flush()
	if pv.Finishes {
		fmt.Fprintf(w, "\nEstimated duration: %s (%s a host, guessed from the steps; a running rollout uses what it measures)\n", pv.Estimate.Round(time.Second), pv.PerHost.Round(time.Second))
		return
	}
	fmt.Fprintln(w, "\nThis rollout cannot finish as the fleet stands:")
	for _, h := range pv.Hosts {
		if reason, ok := pv.Waiting[h.Host]; ok && !strings.Contains(reason, "canaries") {
			fmt.Fprintf(w, "  %s waits: %s\n", h.Host, reason)
		}
	}
}
