package rollout

import (
	"maps"
	"time"

	"github.com/illico-dev/illico/internal/fleet"
)

// Rough durations of steps for an estimate before anything has run; once
// hosts are done, their observed durations replace these.
const (
	guessDrain  = 5 * time.Second
	guessRun    = 30 * time.Second
	guessReboot = 90 * time.Second
	guessHealth = 5 * time.Second
)

// GuessPerHost is how long the plan's steps should take on one host, before
// any has run.
func GuessPerHost(steps []fleet.Step) time.Duration {
	var d time.Duration
	for _, s := range steps {
		switch s.Kind {
		case fleet.StepDrain, fleet.StepUndrain:
			d += guessDrain
		case fleet.StepRun:
			d += guessRun
		case fleet.StepReboot:
			d += guessReboot
		case fleet.StepWaitHealthy:
			d += s.MinHealthy + guessHealth
		}
	}
	return d
}

// Estimate says how long the rest of a rollout will take, by running the
// scheduler forward in simulated time: each host that starts takes perHost,
// hosts in maintenance have elapsed[host] of it behind them, nothing fails,
// and the fleet's health stays as it is now. ok is false when the rollout
// cannot finish that way (hosts wait on budgets that nothing will free).
func Estimate(top *Topology, in Input, perHost time.Duration, elapsed map[string]time.Duration) (eta time.Duration, ok bool) {
	in.Hosts = append([]fleet.HostRun(nil), in.Hosts...)
	in.WindowOpen = true
	if in.State == fleet.RolloutPaused {
		in.State = fleet.RolloutRunning
	}
	remaining := map[int]time.Duration{}
	down := maps.Clone(in.Down)
	for i, r := range in.Hosts {
		if r.State.Active() || r.State == fleet.HostFailed {
			remaining[i] = max(perHost-elapsed[r.Host], 0)
			// Down because the rollout took it down: up again once the
			// simulation finishes it.
			delete(down, r.Host)
		}
	}
	in.Down = down
	index := map[string]int{}
	for i, r := range in.Hosts {
		index[r.Host] = i
	}
	var now time.Duration
	for range 4*len(in.Hosts) + 4 {
		d := Decide(top, in)
		in.State = d.State
		for _, h := range d.Start {
			in.Hosts[index[h]].State = fleet.HostRunning
			remaining[index[h]] = perHost
		}
		for _, h := range d.Rollback {
			in.Hosts[index[h]].State = fleet.HostRollingBack
			remaining[index[h]] = perHost
		}
		if d.State.Ended() {
			return now, true
		}
		if len(remaining) == 0 {
			return now, false
		}
		step := time.Duration(-1)
		for _, r := range remaining {
			if step < 0 || r < step {
				step = r
			}
		}
		now += step
		for i, r := range remaining {
			if r -= step; r > 0 {
				remaining[i] = r
				continue
			}
			delete(remaining, i)
			switch in.Hosts[i].State {
			case fleet.HostRunning:
				in.Hosts[i].State = fleet.HostDone
			default:
				in.Hosts[i].State = fleet.HostRolledBack
			}
		}
	}
	return now, false
}
