package server

import (
	"context"
	"errors"
	"log/slog"
)

// A component is one part of the daemon: a step taken before it serves,
// something that runs while it does, or both. Each func is optional.
type component struct {
	name string
	// start readies the component, before the next one starts. An error
	// stops those started, and the daemon does not run.
	start func(ctx context.Context) error
	// run is the component's life, in a goroutine of its own, until its
	// context ends: when the component is stopped, not when the daemon's
	// context ends, so that what the others need outlives them. A run
	// that returns sooner stops the daemon, with its error if any; what
	// it returns once stopped is ignored.
	run func(ctx context.Context) error
	// stop ends what the end of run's context does not end by itself (a
	// server's requests in flight). Run's end is awaited after it.
	stop func(ctx context.Context) error
}

// components starts a list of components in its order and stops them in
// the reverse order, each stop waiting for that component to end: a
// component may use those before it in the list for as long as it runs.
type components struct {
	log     *slog.Logger
	list    []component
	started []*started
	// ended gets the error, nil or not, of each run that returned before
	// its component was stopped.
	ended chan error
}

// started is a component that started, and whose run, if it has one, is
// going.
type started struct {
	c      *component
	cancel context.CancelFunc
	done   chan struct{}
}

func newComponents(log *slog.Logger, list []component) *components {
	return &components{log: log, list: list, ended: make(chan error, len(list))}
}

// start starts each component in turn. When one fails to start, those
// started are stopped and its error returned.
func (cs *components) start(ctx context.Context) error {
	for i := range cs.list {
		c := &cs.list[i]
		if c.start != nil {
			if err := c.start(ctx); err != nil {
				if serr := cs.stop(context.WithoutCancel(ctx)); serr != nil {
					return errors.Join(err, serr)
				}
				return err
			}
		}
		st := &started{c: c, cancel: func() {}, done: make(chan struct{})}
		cs.started = append(cs.started, st)
		cs.log.Debug("started", "component", c.name)
		if c.run == nil {
			close(st.done)
			continue
		}
		// A component lives until it is stopped, whatever ctx does: the
		// order of the stops is the list's.
		runCtx, cancel := context.WithCancel(context.WithoutCancel(ctx))
		st.cancel = cancel
		go func() {
			defer close(st.done)
			err := c.run(runCtx)
			// What a run returns once stopped is its end, not a failure:
			// the engine, say, stopped before it read the rollouts.
			if runCtx.Err() == nil {
				cs.log.Warn("a part of the daemon ended by itself; stopping", "component", c.name, "err", err)
				cs.ended <- err
			}
		}()
	}
	return nil
}

// failed receives when a component's run returned before it was stopped,
// its error or nil.
func (cs *components) failed() <-chan error { return cs.ended }

// stop stops the components started, the last first, each once the one
// after it has ended, and returns what went wrong.
func (cs *components) stop(ctx context.Context) error {
	var errs []error
	for i := len(cs.started) - 1; i >= 0; i-- {
		st := cs.started[i]
		st.cancel()
		if st.c.stop != nil {
			errs = append(errs, st.c.stop(ctx))
		}
		<-st.done
		cs.log.Debug("stopped", "component", st.c.name)
	}
	cs.started = nil
	return errors.Join(errs...)
}
