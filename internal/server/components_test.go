package server

import (
	"context"
	"errors"
	"log/slog"
	"slices"
	"sync"
	"testing"
)

// journal is what the components of a test did, in order.
type journal struct {
	mu    sync.Mutex
	lines []string
}

func (j *journal) add(s string) {
	j.mu.Lock()
	defer j.mu.Unlock()
	j.lines = append(j.lines, s)
}

func (j *journal) read() []string {
	j.mu.Lock()
	defer j.mu.Unlock()
	return slices.Clone(j.lines)
}

// part is a component that notes its start, its run's end and its stop.
// A run waits for its context, then notes its end.
func (j *journal) part(name string, startErr error) component {
	return component{name: name,
		start: func(context.Context) error { j.add("start " + name); return startErr },
		run: func(ctx context.Context) error {
			<-ctx.Done()
			j.add("end " + name)
			return nil
		},
		stop: func(context.Context) error { j.add("stop " + name); return nil },
	}
}

func TestComponentsStartInOrderStopInReverse(t *testing.T) {
	boom := errors.New("boom")
	tests := []struct {
		name    string
		failing string // the component whose start fails, if any
		want    []string
	}{
		{name: "all start", want: []string{
			"start a", "start b", "start c",
			"stop c", "end c", "stop b", "end b", "stop a", "end a"}},
		{name: "one fails to start", failing: "b", want: []string{
			"start a", "start b", "stop a", "end a"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var j journal
			var list []component
			for _, name := range []string{"a", "b", "c"} {
				var err error
				if name == tt.failing {
					err = boom
				}
				list = append(list, j.part(name, err))
			}
			cs := newComponents(slog.New(slog.DiscardHandler), list)
			ctx, cancel := context.WithCancel(t.Context())
			err := cs.start(ctx)
			if tt.failing != "" {
				if !errors.Is(err, boom) {
					t.Fatalf("start = %v, want %v", err, boom)
				}
			} else {
				if err != nil {
					t.Fatal(err)
				}
				// The runs outlive the context they started under: each
				// ends when its component is stopped.
				cancel()
				if err := cs.stop(context.Background()); err != nil {
					t.Fatal(err)
				}
			}
			cancel()
			if got := j.read(); !slices.Equal(got, tt.want) {
				t.Errorf("got\n%q\nwant\n%q", got, tt.want)
			}
		})
	}
}

func TestComponentsARunEndingStopsTheDaemon(t *testing.T) {
	boom := errors.New("boom")
	var j journal
	cs := newComponents(slog.New(slog.DiscardHandler), []component{
		j.part("a", nil),
		{name: "b", run: func(context.Context) error { return boom }},
		{name: "c", stop: func(context.Context) error { return errors.New("c did not stop") }},
	})
	if err := cs.start(t.Context()); err != nil {
		t.Fatal(err)
	}
	if err := <-cs.failed(); !errors.Is(err, boom) {
		t.Fatalf("failed = %v, want %v", err, boom)
	}
	err := cs.stop(context.Background())
	if err == nil || err.Error() != "c did not stop" {
		t.Errorf("stop = %v, want c's error alone", err)
	}
	if got, want := j.read(), []string{"start a", "stop a", "end a"}; !slices.Equal(got, want) {
		t.Errorf("got %q, want %q", got, want)
	}
}
