package cli

import (
	"context"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/illico-dev/illico/internal/api"
	"github.com/illico-dev/illico/internal/client"
	"github.com/illico-dev/illico/internal/fleet"
	"github.com/illico-dev/illico/internal/plan"
	"github.com/illico-dev/illico/internal/rollout"
)

const rolloutSynopsis = `rollout start --plan FILE [--limit SELECTOR] [--urgent] [--dry-run] [--wait] [--json]
       illico rollout status ID [--json] | rollout list [--json] | rollout watch ID
       illico rollout pause|resume|abort ID`

// runRollout is `illico rollout`: start, follow and steer rollouts on the
// daemon.
func runRollout(ctx context.Context, e *env, args []string) error {
	if len(args) == 0 {
		return usageErrorf("usage: illico %s", rolloutSynopsis)
	}
	switch args[0] {
	case "start":
		return runRolloutStart(ctx, e, args[1:])
	case "status":
		return runRolloutStatus(ctx, e, args[1:])
	case "list":
		return runRolloutList(ctx, e, args[1:])
	case "watch":
		return runRolloutWatch(ctx, e, args[1:])
	case client.OrderPause, client.OrderResume, client.OrderAbort:
		return runRolloutOrder(ctx, e, args[0], args[1:])
	case "-h", "--help", "help":
		fmt.Fprintf(e.stdout, "Usage: illico %s\n", rolloutSynopsis)
		return nil
	}
	return usageErrorf("unknown rollout command %q (expected start, status, list, watch, pause, resume or abort)", args[0])
}

func runRolloutStart(ctx context.Context, e *env, args []string) error {
	fs := newFlags(e, "rollout start", "rollout start --plan FILE [--limit SELECTOR] [--urgent] [--dry-run] [--wait] [--json]")
	planFile := fs.String("plan", "", "the plan `file` to roll out (YAML)")
	selector := fs.String("limit", "", "the hosts to roll, as a `selector` (default: all)")
	urgent := fs.Bool("urgent", false, "ignore the plan's maintenance window (never the budgets)")
	dryRun := fs.Bool("dry-run", false, "show what the rollout would do on the fleet as it stands, and start nothing")
	wait := fs.Bool("wait", false, "follow the rollout until it ends; exit 1 unless every host is done")
	asJSON := fs.Bool("json", false, "print the rollout (or the preview) as JSON")
	rest, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	switch {
	case len(rest) > 0:
		return usageErrorf("illico rollout start takes no arguments, got %q (give the plan with --plan)", rest[0])
	case *planFile == "":
		return usageErrorf("illico rollout start needs --plan FILE")
	case *dryRun && *wait:
		return usageErrorf("--dry-run starts nothing to --wait for")
	}
	data, err := os.ReadFile(*planFile)
	if err != nil {
		return fleet.Errorf(fleet.KindInvalid, "read plan: %v", err)
	}
	c, err := apiClient(e)
	if err != nil {
		return err
	}
	req := api.StartRollout{PlanFile: *planFile, Plan: string(data), Selector: *selector, Urgent: *urgent}
	if *dryRun {
		pv, err := c.PreviewRollout(ctx, req)
		if err != nil {
			return err
		}
		if *asJSON {
			return printAPIJSON(e, pv)
		}
		// The daemon read the plan already; this only shows it.
		if p, err := plan.Parse(*planFile, data); err == nil {
			describePlan(e.stdout, p)
		}
		describePreview(e.stdout, previewOf(pv))
		return nil
	}
	ro, err := c.StartRollout(ctx, req)
	if err != nil {
		return err
	}
	if !*wait {
		if *asJSON {
			return printAPIJSON(e, ro)
		}
		fmt.Fprintln(e.stdout, ro.ID)
		fmt.Fprintf(e.stderr, "rollout %s of %q started on %d hosts; follow it with: illico rollout watch %s\n", ro.ID, ro.Plan, len(ro.Hosts), ro.ID)
		return nil
	}
	// The first event says the rollout started, and where.
	err = c.StreamRolloutEvents(ctx, ro.ID, 0, func(ev api.Event) error {
		if !*asJSON {
			fmt.Fprintln(e.stdout, eventLine(ev))
		}
		return nil
	})
	if err != nil {
		return err
	}
	if ro, err = c.Rollout(ctx, ro.ID); err != nil {
		return err
	}
	if *asJSON {
		if err := printAPIJSON(e, ro); err != nil {
			return err
		}
		return outcome(ro)
	}
	fmt.Fprintln(e.stdout, endLine(ro))
	return outcome(ro)
}

// previewOf reads a dry run's answer back into what describePreview prints.
func previewOf(pv api.Preview) rollout.Preview {
	out := rollout.Preview{
		MaxParallel: pv.MaxParallel, MaxFailures: pv.MaxFailures,
		PerHost:  seconds(pv.PerHostSeconds),
		Estimate: seconds(pv.EstimateSeconds), Finishes: pv.Finishes, Waiting: pv.Waiting,
	}
	for _, h := range pv.Hosts {
		out.Hosts = append(out.Hosts, fleet.HostRun{Host: h.Host, Wave: h.Wave, Canary: h.Canary, State: fleet.HostPending})
	}
	for _, g := range pv.Groups {
		out.Groups = append(out.Groups, rollout.Group{Name: g.Name, Members: g.Members, Allowed: g.Allowed})
	}
	return out
}

func seconds(s float64) time.Duration { return time.Duration(s * float64(time.Second)) }

// outcome is the exit status of a rollout that ended: errFound (exit 1)
// unless every host is done.
func outcome(ro api.Rollout) error {
	if ro.State == string(fleet.RolloutDone) && failedHosts(ro) == 0 {
		return nil
	}
	return errFound
}

func failedHosts(ro api.Rollout) int {
	n := 0
	for _, h := range ro.Hosts {
		if h.Failed {
			n++
		}
	}
	return n
}

func endLine(ro api.Rollout) string {
	line := fmt.Sprintf("rollout %s is %s: %s", ro.ID, ro.State, ro.Reason)
	if n := failedHosts(ro); n > 0 {
		line += fmt.Sprintf(" (%d of %d hosts failed)", n, len(ro.Hosts))
	}
	return line
}

func eventLine(ev api.Event) string {
	return ev.Time.Local().Format("15:04:05") + "  " + ev.Message
}

func rolloutID(e *env, name string, args []string) (string, error) {
	fs := newFlags(e, "rollout "+name, "rollout "+name+" ID")
	rest, err := parseFlags(fs, args)
	if err != nil {
		return "", err
	}
	if len(rest) != 1 {
		return "", usageErrorf("usage: illico rollout %s ID (see illico rollout list)", name)
	}
	return rest[0], nil
}

func runRolloutOrder(ctx context.Context, e *env, order string, args []string) error {
	id, err := rolloutID(e, order, args)
	if err != nil {
		return err
	}
	c, err := apiClient(e)
	if err != nil {
		return err
	}
	ro, err := c.OrderRollout(ctx, id, order)
	if err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "rollout %s is %s: %s\n", ro.ID, ro.State, ro.Reason)
	return nil
}

func runRolloutStatus(ctx context.Context, e *env, args []string) error {
	fs := newFlags(e, "rollout status", "rollout status ID [--json]")
	asJSON := fs.Bool("json", false, "print the rollout as JSON")
	rest, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	if len(rest) != 1 {
		return usageErrorf("usage: illico rollout status ID [--json] (see illico rollout list)")
	}
	c, err := apiClient(e)
	if err != nil {
		return err
	}
	ro, err := c.Rollout(ctx, rest[0])
	if err != nil {
		return err
	}
	if *asJSON {
		return printAPIJSON(e, ro)
	}
	describeRollout(e.stdout, ro)
	return nil
}

// describeRollout prints a rollout for a human: where it stands, every
// host, and why hosts wait.
func describeRollout(w io.Writer, ro api.Rollout) {
	fmt.Fprintf(w, "Rollout %s of %q (%s)\n", ro.ID, ro.Plan, ro.PlanFile)
	fmt.Fprintf(w, "State:    %s: %s\n", ro.State, ro.Reason)
	fmt.Fprintf(w, "Hosts:    %s\n", hostCounts(ro))
	fmt.Fprintf(w, "Started:  %s\n", apiTime(&ro.Created))
	if ro.Ended != nil {
		fmt.Fprintf(w, "Ended:    %s\n", apiTime(ro.Ended))
	} else {
		fmt.Fprintf(w, "ETA:      %s\n", eta(ro))
	}
	if pace := pace(ro); pace != "" {
		fmt.Fprintf(w, "Pace:     %s\n", pace)
	}
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "\nHOST\tSTATE\tSTEP\tWAVE\tSTARTED\tENDED\tERROR")
	for _, h := range ro.Hosts {
		name := h.Host
		if h.Canary {
			name += " (canary)"
		}
		fmt.Fprintf(tw, "%s\t%s\t%d/%d\t%d\t%s\t%s\t%s\n", name, h.State, h.Step, h.Steps, h.Wave, clockTime(h.Started), clockTime(h.Ended), h.Error)
	}
	tw.Flush()
	writeWaiting(w, ro)
}

func writeWaiting(w io.Writer, ro api.Rollout) {
	if len(ro.Waiting) == 0 {
		return
	}
	fmt.Fprintln(w, "\nWaiting:")
	for _, h := range ro.Hosts {
		if reason, ok := ro.Waiting[h.Host]; ok {
			fmt.Fprintf(w, "  %s: %s\n", h.Host, reason)
		}
	}
}

// hostCounts says how many hosts stand in each state, in the order a host
// goes through them.
func hostCounts(ro api.Rollout) string {
	total := 0
	for _, n := range ro.Counts {
		total += n
	}
	parts := []string{fmt.Sprintf("%d of %d done", ro.Counts[string(fleet.HostDone)], total)}
	for _, s := range []fleet.HostState{fleet.HostRunning, fleet.HostPending, fleet.HostFailed, fleet.HostRollingBack, fleet.HostRolledBack, fleet.HostStuck} {
		if n := ro.Counts[string(s)]; n > 0 {
			parts = append(parts, fmt.Sprintf("%d %s", n, strings.ReplaceAll(string(s), "_", " ")))
		}
	}
	return strings.Join(parts, ", ")
}

// pace says how many hosts a running rollout takes at once and why, or
// what its customers see that holds it.
func pace(ro api.Rollout) string {
	switch {
	case ro.Held != "":
		return fmt.Sprintf("held: %s; no host starts until their errors clear", ro.Held)
	case ro.Width > 0:
		return fmt.Sprintf("%d of %d hosts at once: %s", ro.Width, ro.MaxParallel, ro.WidthReason)
	}
	return ""
}

func eta(ro api.Rollout) string {
	if !ro.Finishes {
		for _, h := range ro.Hosts {
			if reason, ok := ro.Waiting[h.Host]; ok && !strings.Contains(reason, "canaries") {
				return fmt.Sprintf("cannot finish as the fleet stands: %s waits: %s", h.Host, reason)
			}
		}
		return "cannot finish as the fleet stands"
	}
	left := seconds(ro.ETASeconds).Round(time.Second)
	perHost := seconds(ro.PerHostSeconds).Round(time.Second)
	if ro.PerHostGuessed {
		return fmt.Sprintf("%s (about %s; %s a host, guessed from the plan's steps until a host is done)", left, time.Now().Add(left).Format("15:04"), perHost)
	}
	return fmt.Sprintf("%s (about %s; %s a host)", left, time.Now().Add(left).Format("15:04"), perHost)
}

func clockTime(t *time.Time) string {
	if t == nil {
		return "-"
	}
	return t.Local().Format("15:04:05")
}

func runRolloutList(ctx context.Context, e *env, args []string) error {
	fs := newFlags(e, "rollout list", "rollout list [--json]")
	asJSON := fs.Bool("json", false, "print the rollouts as JSON")
	rest, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	if len(rest) > 0 {
		return usageErrorf("illico rollout list takes no arguments, got %q", rest[0])
	}
	c, err := apiClient(e)
	if err != nil {
		return err
	}
	list, err := c.Rollouts(ctx, 0)
	if err != nil {
		return err
	}
	if *asJSON {
		return printAPIJSON(e, api.Rollouts{Rollouts: list})
	}
	tw := tabwriter.NewWriter(e.stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tPLAN\tSTATE\tHOSTS\tCREATED\tENDED")
	for _, ro := range list {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", ro.ID, ro.Plan, ro.State, hostCounts(ro), apiTime(&ro.Created), endedAt(ro))
	}
	return tw.Flush()
}

func endedAt(ro api.Rollout) string {
	if ro.Ended == nil {
		return "-"
	}
	return apiTime(ro.Ended)
}

// watchEvents is how many of the last events the live view shows.
const watchEvents = 10

// runRolloutWatch is `illico rollout watch ID`: on a terminal, a view
// redrawn in place; elsewhere, the events and each change of progress as
// lines. It ends when the rollout ends, with the exit status of
// `start --wait`.
func runRolloutWatch(ctx context.Context, e *env, args []string) error {
	id, err := rolloutID(e, "watch", args)
	if err != nil {
		return err
	}
	c, err := apiClient(e)
	if err != nil {
		return err
	}
	ro, err := c.Rollout(ctx, id)
	if err != nil {
		return err
	}
	w := &watcher{out: e.stdout, live: isTerminal(e.stdout) && e.getenv("TERM") != "dumb", ro: ro}
	sctx, cancel := context.WithCancel(ctx)
	defer cancel()
	events := make(chan api.Event, 64)
	ended := make(chan error, 1)
	go func() {
		ended <- c.StreamRolloutEvents(sctx, id, 0, func(ev api.Event) error {
			select {
			case events <- ev:
				return nil
			case <-sctx.Done():
				return sctx.Err()
			}
		})
	}()
	refresh := time.NewTicker(time.Second)
	defer refresh.Stop()
	w.draw()
	for {
		select {
		case ev := <-events:
			w.event(ev)
		case <-refresh.C:
			// A failed refresh keeps the last view; the stream says when
			// the daemon is gone for good.
			if ro, err := c.Rollout(ctx, id); err == nil {
				w.ro = ro
			}
		case err := <-ended:
			// Every event reached the channel before the stream ended.
			for drained := false; !drained; {
				select {
				case ev := <-events:
					w.event(ev)
				default:
					drained = true
				}
			}
			if err != nil {
				return err
			}
			if w.ro, err = c.Rollout(ctx, id); err != nil {
				return err
			}
			w.draw()
			if !w.live {
				fmt.Fprintln(e.stdout, endLine(w.ro))
			}
			return outcome(w.ro)
		}
		w.draw()
	}
}

// watcher draws a rollout: a view redrawn in place on a terminal (live),
// lines otherwise.
type watcher struct {
	out  io.Writer
	live bool
	ro   api.Rollout
	last []api.Event
	// progress is the last progress line written, in line mode.
	progress string
}

func (w *watcher) event(ev api.Event) {
	w.last = append(w.last, ev)
	if len(w.last) > watchEvents {
		w.last = slices.Delete(w.last, 0, len(w.last)-watchEvents)
	}
	if !w.live {
		fmt.Fprintln(w.out, eventLine(ev))
	}
}

func (w *watcher) draw() {
	ro := w.ro
	if !w.live {
		line := fmt.Sprintf("progress: %s", hostCounts(ro))
		if ro.Ended == nil {
			line += "; ETA " + eta(ro)
		}
		// Only a change of counts is worth a line; the ETA moves each second.
		if counts := hostCounts(ro); counts != w.progress {
			w.progress = counts
			fmt.Fprintln(w.out, line)
		}
		return
	}
	var b strings.Builder
	b.WriteString("\x1b[H\x1b[2J") // home, clear the screen
	fmt.Fprintf(&b, "Rollout %s of %q: %s (%s)\n\n", ro.ID, ro.Plan, ro.State, ro.Reason)
	total, done := len(ro.Hosts), ro.Counts[string(fleet.HostDone)]
	fmt.Fprintf(&b, "%s %d/%d hosts done\n", bar(done, total, 40), done, total)
	fmt.Fprintf(&b, "Hosts: %s\n", hostCounts(ro))
	if wave := currentWave(ro); wave > 0 {
		fmt.Fprintf(&b, "Wave:  %d\n", wave)
	}
	if ro.Ended == nil {
		fmt.Fprintf(&b, "ETA:   %s\n", eta(ro))
	}
	if pace := pace(ro); pace != "" {
		fmt.Fprintf(&b, "Pace:  %s\n", pace)
	}
	writeWaiting(&b, ro)
	if len(w.last) > 0 {
		b.WriteString("\nLast events:\n")
		for _, ev := range w.last {
			fmt.Fprintf(&b, "  %s\n", eventLine(ev))
		}
	}
	io.WriteString(w.out, b.String())
}

func bar(done, total, width int) string {
	filled := 0
	if total > 0 {
		filled = done * width / total
	}
	return "[" + strings.Repeat("#", filled) + strings.Repeat("-", width-filled) + "]"
}

// currentWave is the lowest wave with a host that has not ended; 0 when
// every host has.
func currentWave(ro api.Rollout) int {
	wave := 0
	for _, h := range ro.Hosts {
		switch fleet.HostState(h.State) {
		case fleet.HostPending, fleet.HostRunning, fleet.HostFailed, fleet.HostRollingBack:
			if wave == 0 || h.Wave < wave {
				wave = h.Wave
			}
		}
	}
	return wave
}

// isTerminal reports whether w is a terminal, where the live view can
// redraw itself.
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	fi, err := f.Stat()
	return err == nil && fi.Mode()&os.ModeCharDevice != 0
}
