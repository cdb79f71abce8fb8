package rollout

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"

	"github.com/illico-dev/illico/internal/fleet"
)

// Remote runs commands on hosts; *sshx.Pool is one.
type Remote interface {
	Run(ctx context.Context, h *fleet.Host, cmd string, stdout, stderr io.Writer) (fleet.CommandResult, error)
}

// Balancer takes servers out of rotation and back; *lb.HAProxy is one.
type Balancer interface {
	Drain(ctx context.Context, backend, server string) error
	Undrain(ctx context.Context, backend, server string) error
	// Traffic returns what the load balancer counted for its backends.
	Traffic(ctx context.Context) ([]fleet.Traffic, error)
}

// Health runs every probe of a host once, with their conditions;
// *probe.Health is one.
type Health interface {
	Host(ctx context.Context, inv *fleet.Inventory, h *fleet.Host) error
}

// errInterrupted says a step stopped because the daemon is stopping, not
// because it failed: the host run stays where it is, to be resumed.
var errInterrupted = errors.New("interrupted")

// hostWorker carries one host through a list of steps, saving its progress
// before and after each one, so that a daemon killed at any moment resumes
// the host where it stood.
type hostWorker struct {
	inv      *fleet.Inventory
	host     *fleet.Host
	remote   Remote
	balancer func(name string) Balancer
	health   Health
	now      func() time.Time
	// save persists the host run; a failure to save stops the host, as
	// going on without a record would break the promise to resume.
	save func(ctx context.Context, r fleet.HostRun) error
	// event records what happened; the run fills in the rollout and the
	// host.
	event func(ev Event)
	// poll is how often a reboot's return and the health are looked at.
	poll time.Duration
}

// steps runs steps[r.Step:] and returns the run with its new state: the
// given done state after the last step, failed after a failed one.
func (w *hostWorker) steps(ctx context.Context, r fleet.HostRun, steps []fleet.Step, done, failed fleet.HostState) (fleet.HostRun, error) {
	for r.Step < len(steps) {
		s := steps[r.Step]
		start := w.now()
		err := w.step(ctx, &r, s)
		if ctx.Err() != nil {
			return r, errInterrupted
		}
		if err != nil {
			r.State, r.Error, r.EndedAt = failed, fmt.Sprintf("step %d (%s): %v", r.Step+1, describeStep(s), err), w.now()
			if failed == fleet.HostFailed {
				r.Failed = true
			}
			w.event(Event{Kind: KindHostFailed, Run: r, Maintenance: MaintenanceEnds, Message: fmt.Sprintf("%s failed at %s", w.host.Name, r.Error)})
			return r, w.save(ctx, r)
		}
		took := w.now().Sub(start)
		finished := r.Step
		r.Step++
		r.BootID, r.Issued = "", false
		if r.Step == len(steps) {
			r.State, r.EndedAt = done, w.now()
		}
		ev := Event{Kind: KindHostStep, Run: r, Took: took, Message: fmt.Sprintf("%s: step %d/%d %s done in %s", w.host.Name, finished+1, len(steps), describeStep(s), took.Round(10*time.Millisecond))}
		ev.Maintenance, ev.Step = stepMark(steps, finished)
		w.event(ev)
		if err := w.save(ctx, r); err != nil {
			return r, err
		}
	}
	return r, nil
}

// step runs one step, bounded by its timeout.
func (w *hostWorker) step(parent context.Context, r *fleet.HostRun, s fleet.Step) error {
	ctx, cancel := context.WithTimeout(parent, s.Timeout)
	defer cancel()
	var err error
	switch s.Kind {
	case fleet.StepDrain:
		err = w.throughBalancers(ctx, "drain", func(b Balancer, backend, server string) error { return b.Drain(ctx, backend, server) })
		if err != nil && errors.Is(err, context.DeadlineExceeded) && parent.Err() == nil {
			// The server is in maintenance anyway; the sessions it still
			// held are said, and the maintenance goes on.
			w.event(Event{Kind: KindHostDrain, Message: fmt.Sprintf("%s: %v; going on", w.host.Name, err)})
			err = nil
		}
	case fleet.StepUndrain:
		err = w.throughBalancers(ctx, "undrain", func(b Balancer, backend, server string) error { return b.Undrain(ctx, backend, server) })
	case fleet.StepRun:
		err = w.run(ctx, s)
	case fleet.StepReboot:
		err = w.reboot(ctx, r, s)
	case fleet.StepWaitHealthy:
		err = w.waitHealthy(ctx, s)
	default:
		err = fmt.Errorf("unknown step kind %q", s.Kind)
	}
	if err != nil && errors.Is(err, context.DeadlineExceeded) && parent.Err() == nil && !strings.Contains(err.Error(), "timed out") {
		err = fmt.Errorf("timed out after %s: %w", s.Timeout, err)
	}
	return err
}

// balancerRetry is how long a drain or undrain waits before it is sent
// again to a load balancer whose runtime API did not take it.
const balancerRetry = time.Second

// throughBalancers applies f to every backend the host serves in. A runtime
// API that cannot be reached or does not answer in time
// (fleet.KindUnavailable) is a busy load balancer, not a failed host: the
// change is said once and sent again, every backend anew (a drain or
// undrain sent twice does no harm), until the step's timeout.
func (w *hostWorker) throughBalancers(ctx context.Context, what string, f func(b Balancer, backend, server string) error) error {
	for said := false; ; said = true {
		err := eachBackend(ctx, w.inv, w.host, w.balancer, f)
		if err == nil || fleet.KindOf(err) != fleet.KindUnavailable || ctx.Err() != nil {
			return err
		}
		if !said {
			w.event(Event{Kind: KindHostDrain, Message: fmt.Sprintf("%s: %s not taken yet (%v); trying again every %s", w.host.Name, what, err, balancerRetry)})
		}
		if sleep(ctx, balancerRetry) != nil {
			return err
		}
	}
}

// eachBackend calls f for every load balancer backend that serves host h.
func eachBackend(ctx context.Context, inv *fleet.Inventory, h *fleet.Host, balancer func(name string) Balancer, f func(b Balancer, backend, server string) error) error {
	for _, gname := range h.Groups {
		g := inv.Group(gname)
		if g == nil || g.Balancer == nil {
			continue
		}
		if err := f(balancer(g.Balancer.LoadBalancer), g.Balancer.Backend, g.Balancer.Server(h.Name)); err != nil {
			return err
		}
	}
	return ctx.Err()
}

// run runs a command step. With unless, a command whose work is already
// done (a resumed step, or a host patched by hand) is not run again.
func (w *hostWorker) run(ctx context.Context, s fleet.Step) error {
	if s.Unless != "" {
		res, err := w.remote.Run(ctx, w.host, s.Unless, nil, nil)
		if err != nil {
			return err
		}
		if res.ExitCode == 0 {
			w.event(Event{Kind: KindHostNote, Message: fmt.Sprintf("%s: %q says the work is done; not running %q", w.host.Name, s.Unless, s.Command)})
			return nil
		}
	}
	var out bytes.Buffer
	res, err := w.remote.Run(ctx, w.host, s.Command, &out, &out)
	if err != nil {
		return err
	}
	if !slices.Contains(s.AllowedExitCodes, res.ExitCode) {
		return fmt.Errorf("exit code %d%s", res.ExitCode, lastLines(out.String(), 3))
	}
	return nil
}

// reboot reboots the host and waits until it answers with another boot id.
// The boot id before and the fact the command went out are saved, so that a
// resumed reboot neither reboots twice nor waits for a reboot never sent.
func (w *hostWorker) reboot(ctx context.Context, r *fleet.HostRun, s fleet.Step) error {
	cmds := w.host.Commands
	if r.BootID == "" {
		if s.IfRequired {
			res, err := w.remote.Run(ctx, w.host, cmds.RebootRequired, nil, nil)
			if err != nil {
				return fmt.Errorf("ask whether a reboot is required: %w", err)
			}
			if res.ExitCode != 0 {
				w.event(Event{Kind: KindHostNote, Message: fmt.Sprintf("%s: no reboot required", w.host.Name)})
				return nil
			}
		}
		id, err := w.bootID(ctx)
		if err != nil {
			return fmt.Errorf("read the boot id: %w", err)
		}
		r.BootID = id
		if err := w.save(ctx, *r); err != nil {
			return err
		}
	}
	if !r.Issued {
		id, err := w.bootID(ctx)
		if err == nil && id != r.BootID {
			return nil // it rebooted before the daemon stopped
		}
		res, err := w.remote.Run(ctx, w.host, cmds.Reboot, nil, nil)
		// A reboot may cut the connection before the command reports.
		if err != nil && fleet.KindOf(err) != fleet.KindUnavailable {
			return fmt.Errorf("send the reboot: %w", err)
		}
		if err == nil && res.ExitCode != 0 {
			return fmt.Errorf("the reboot command %q exited %d", cmds.Reboot, res.ExitCode)
		}
		r.Issued = true
		if err := w.save(ctx, *r); err != nil {
			return err
		}
	}
	var last error
	for {
		attempt, cancel := context.WithTimeout(ctx, 2*time.Second)
		id, err := w.bootID(attempt)
		cancel()
		switch {
		case err == nil && id != r.BootID:
			return nil
		case err == nil:
			last = errors.New("it still runs the boot it had before the reboot")
		default:
			last = err
		}
		if err := sleep(ctx, w.poll); err != nil {
			return fmt.Errorf("did not come back: %v", last)
		}
	}
}

func (w *hostWorker) bootID(ctx context.Context) (string, error) {
	var out bytes.Buffer
	res, err := w.remote.Run(ctx, w.host, w.host.Commands.BootID, &out, nil)
	if err != nil {
		return "", err
	}
	id := strings.TrimSpace(out.String())
	if res.ExitCode != 0 || id == "" {
		return "", fmt.Errorf("%q exited %d with %q", w.host.Commands.BootID, res.ExitCode, id)
	}
	return id, nil
}

// waitHealthy waits until every check of the host passes without a break
// for s.MinHealthy.
func (w *hostWorker) waitHealthy(ctx context.Context, s fleet.Step) error {
	var since time.Time
	var last error
	for {
		if err := w.health.Host(ctx, w.inv, w.host); err != nil {
			since, last = time.Time{}, err
		} else if since.IsZero() {
			since = w.now()
		}
		if !since.IsZero() && w.now().Sub(since) >= s.MinHealthy {
			return nil
		}
		if err := sleep(ctx, w.poll); err != nil {
			if last == nil {
				return fmt.Errorf("healthy for %s only, %s needed", w.now().Sub(since).Round(time.Second), s.MinHealthy)
			}
			return fmt.Errorf("unhealthy: %v", last)
		}
	}
}

// sleep waits d or until ctx ends.
func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

func describeStep(s fleet.Step) string {
	switch s.Kind {
	case fleet.StepRun:
		return fmt.Sprintf("run %q", s.Command)
	case fleet.StepReboot:
		if s.IfRequired {
			return "reboot if required"
		}
	}
	return string(s.Kind)
}

func lastLines(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(lines) == 0 || (len(lines) == 1 && lines[0] == "") {
		return ""
	}
	return ": " + strings.Join(lines[max(0, len(lines)-n):], " / ")
}
