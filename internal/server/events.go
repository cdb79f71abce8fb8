package server

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/illico-dev/illico/internal/api"
	"github.com/illico-dev/illico/internal/fleet"
	"github.com/illico-dev/illico/internal/httpjson"
	"github.com/illico-dev/illico/internal/rollout"
	"github.com/illico-dev/illico/internal/store"
)

// Rollout event streams: the store is the source of truth, and a stream
// sends what the store holds after the last event it sent. The hub only
// says "look again"; a stream that missed a wake finds the events at its
// next poll.
const (
	streamPoll      = time.Second
	streamHeartbeat = 15 * time.Second
	// streamWrite bounds one write to a stream's client: a client that
	// reads nothing for that long is dropped, and may reconnect.
	streamWrite = 30 * time.Second
	// endGrace is how long after a rollout ended a stream waits for the
	// event that says so; a daemon killed between recording the end and
	// the event leaves no such event.
	endGrace = 10 * time.Second
)

// hub wakes the event streams when an event is recorded. Waking closes a
// channel, so it never blocks the engine however slow the streams are.
type hub struct {
	mu sync.Mutex
	ch chan struct{}
}

func newHub() *hub { return &hub{ch: make(chan struct{})} }

// wait returns a channel closed at the next wake.
func (h *hub) wait() <-chan struct{} {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.ch
}

func (h *hub) wake() {
	h.mu.Lock()
	defer h.mu.Unlock()
	close(h.ch)
	h.ch = make(chan struct{})
}

// eventData is the data of a rollout's event in the store.
type eventData struct {
	Host string `json:"host,omitempty"`
	// State is the rollout's state after a rollout.state event.
	State string `json:"state,omitempty"`
}

// hostRunEvents are the events counted in illico_rollout_host_runs_total,
// with their label.
var hostRunEvents = map[rollout.EventKind]string{
	rollout.KindHostStarted:    "started",
	rollout.KindHostDone:       "done",
	rollout.KindHostFailed:     "failed",
	rollout.KindHostRolledBack: "rolled_back",
	rollout.KindHostStuck:      "stuck",
}

var endStates = []fleet.RolloutState{fleet.RolloutDone, fleet.RolloutHalted, fleet.RolloutRolledBack, fleet.RolloutAborted}

// recordEvent appends an event of the engine to the store (subject: the
// rollout), counts it, and wakes the streams. It appends through the
// leader's fence, as the engine writes the host runs: a leader frozen past
// its lease may wake with a step just done and tell it before it notices,
// and what it tells is refused once another replica has taken over. It
// reports false then, and true otherwise, even when the store failed: the
// rollout goes on either way.
func (s *Server) recordEvent(ctx context.Context, ev rollout.Event) bool {
	// The event must be kept even when the daemon is stopping: what
	// happened to a host happened.
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	defer cancel()
	data := eventData{Host: ev.Host}
	if ev.Kind == rollout.KindState {
		data.State = string(ev.State)
	}
	e := s.withData(store.Event{Kind: string(ev.Kind), Subject: ev.Rollout, Message: ev.Message}, data)
	err := s.leaderStore.Tx(ctx, func(tx *store.Tx) error {
		_, err := tx.AppendEvent(ctx, e)
		return err
	})
	if fleet.KindOf(err) == fleet.KindConflict {
		s.log.Warn("an event of a rollout this replica no longer leads is not recorded", "rollout", ev.Rollout, "kind", ev.Kind, "message", ev.Message, "err", err)
		return false
	}
	if ev.Kind == rollout.KindState && ev.State.Ended() {
		s.metrics.rolloutsEnd.WithLabelValues(string(ev.State)).Inc()
	}
	if label, ok := hostRunEvents[ev.Kind]; ok {
		s.metrics.hostRuns.WithLabelValues(label).Inc()
	}
	if err != nil {
		s.log.Error("record a rollout event", "rollout", e.Subject, "kind", e.Kind, "err", s.storeErr("append_event", err))
	}
	s.events.wake()
	return true
}

// appendRolloutEvent appends e with data and wakes the streams; a failure
// is logged, as the rollout goes on either way.
func (s *Server) appendRolloutEvent(ctx context.Context, e store.Event, data eventData) {
	if _, err := s.store.AppendEvent(ctx, s.withData(e, data)); err != nil {
		s.log.Error("record a rollout event", "rollout", e.Subject, "kind", e.Kind, "err", s.storeErr("append_event", err))
	}
	s.events.wake()
}

// withData is e with data, if any.
func (s *Server) withData(e store.Event, data eventData) store.Event {
	if data != (eventData{}) {
		raw, err := json.Marshal(data)
		if err != nil {
			s.log.Error("encode event data", "kind", e.Kind, "err", err)
		}
		e.Data = raw
	}
	return e
}

// isRolloutEvent tells a rollout's events from others that share the
// subject by chance (a token named like a rollout id).
func isRolloutEvent(e store.Event) bool {
	return rollout.IsEventKind(e.Kind)
}

func apiEvent(e store.Event) api.Event {
	var data eventData
	_ = json.Unmarshal(e.Data, &data) // our own data; an event without any has none
	return api.Event{ID: e.ID, Time: e.Time, Kind: e.Kind, Rollout: e.Subject, Host: data.Host, State: data.State, Message: e.Message}
}

// rolloutEvents answers GET /api/v1/rollouts/{id}/events: a page of events
// as JSON, or with Accept: text/event-stream, every event as it happens.
func (s *Server) rolloutEvents(w http.ResponseWriter, r *http.Request) error {
	id := r.PathValue("id")
	q := r.URL.Query()
	after, err := queryInt(q.Get("after"), "after", 0, 1<<62)
	if err != nil {
		return err
	}
	if _, err := s.store.Rollout(r.Context(), id); err != nil {
		return s.storeErr("rollout", err)
	}
	if wantsStream(r) {
		if last := r.Header.Get("Last-Event-ID"); last != "" {
			if after, err = strconv.ParseInt(last, 10, 64); err != nil || after < 0 {
				return fleet.Errorf(fleet.KindInvalid, "Last-Event-ID %q is not an event id", last)
			}
		}
		s.stream(w, r, id, after)
		return nil
	}
	limit, err := queryInt(q.Get("limit"), "limit", store.DefaultEventLimit, store.MaxEventLimit)
	if err != nil {
		return err
	}
	list, err := s.store.Events(r.Context(), store.EventFilter{Subject: id, After: after, Limit: int(limit)})
	if err != nil {
		return s.storeErr("events", err)
	}
	out := api.Events{Events: []api.Event{}}
	for _, e := range list {
		if isRolloutEvent(e) {
			out.Events = append(out.Events, apiEvent(e))
		}
	}
	httpjson.Write(w, http.StatusOK, out)
	return nil
}

func wantsStream(r *http.Request) bool {
	for _, part := range strings.Split(r.Header.Get("Accept"), ",") {
		mediaType, _, _ := strings.Cut(part, ";")
		if strings.EqualFold(strings.TrimSpace(mediaType), "text/event-stream") {
			return true
		}
	}
	return false
}

// queryInt reads a query parameter from 0 to most; def when absent.
func queryInt(v, name string, def, most int64) (int64, error) {
	if v == "" {
		return def, nil
	}
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil || n < 0 || n > most {
		return 0, fleet.Errorf(fleet.KindInvalid, "%s=%q is not a number from 0 to %d", name, v, most)
	}
	return n, nil
}

// stream sends a rollout's events after after as Server-Sent Events: the
// stored ones first, then the new ones as they are recorded, until the
// rollout has ended and its last event was sent, the client goes away, or
// the daemon stops. Errors after the first byte can only be logged.
func (s *Server) stream(w http.ResponseWriter, r *http.Request, id string, after int64) {
	ctx := r.Context()
	rc := http.NewResponseController(w)
	w.Header().Set("Content-Type", "text/event-stream")
	w.Header().Set("Cache-Control", "no-store")
	// A proxy in front (nginx) must not buffer the stream.
	w.Header().Set("X-Accel-Buffering", "no")
	w.WriteHeader(http.StatusOK)
	if err := rc.Flush(); err != nil {
		return
	}
	poll := time.NewTicker(streamPoll)
	defer poll.Stop()
	heartbeat := time.NewTicker(streamHeartbeat)
	defer heartbeat.Stop()
	// final is the id of the event that says the rollout ended: looked up
	// once for a stream that resumes after it, then seen go by.
	final, err := s.finalEvent(ctx, id)
	if err == nil && final == 0 {
		final, err = s.endedUntold(ctx, id)
	}
	for polls := 0; ; {
		// Taken before the store is read: an event recorded after the
		// read wakes this stream.
		wake := s.events.wait()
		if err == nil {
			after, err = s.sendEvents(ctx, w, rc, id, after, &final)
		}
		if err != nil {
			if ctx.Err() == nil {
				s.log.Warn("rollout event stream stopped", "request_id", requestID(ctx), "rollout", id, "err", err)
			}
			return
		}
		if final != 0 && after >= final {
			_ = rc.SetWriteDeadline(time.Now().Add(streamWrite))
			fmt.Fprintf(w, "event: %s\ndata: {}\n\n", api.EventEnd)
			_ = rc.Flush()
			return
		}
		select {
		case <-ctx.Done():
			return
		case <-s.stopping:
			return
		case <-wake:
		case <-poll.C:
			if polls++; final == 0 && polls%int(endGrace/streamPoll) == 0 {
				final, err = s.endedUntold(ctx, id)
			}
		case <-heartbeat.C:
			_ = rc.SetWriteDeadline(time.Now().Add(streamWrite))
			if _, err := fmt.Fprint(w, ": heartbeat\n\n"); err != nil {
				return
			}
			if err := rc.Flush(); err != nil {
				return
			}
		}
	}
}

// finalEvent returns the id of the stored event that says the rollout
// ended, 0 when there is none yet.
func (s *Server) finalEvent(ctx context.Context, id string) (int64, error) {
	list, err := s.store.Events(ctx, store.EventFilter{Kind: string(rollout.KindState), Subject: id, Limit: store.MaxEventLimit})
	if err != nil {
		return 0, err
	}
	for _, e := range list {
		if isFinal(e) {
			return e.ID, nil
		}
	}
	return 0, nil
}

func isFinal(e store.Event) bool {
	return rollout.EventKind(e.Kind) == rollout.KindState && fleet.RolloutState(apiEvent(e).State).Ended()
}

// endedUntold returns -1, which every event id passes, when the rollout
// ended more than endGrace ago without an event that says so (the daemon
// was killed in between), so that its stream ends all the same; 0
// otherwise.
func (s *Server) endedUntold(ctx context.Context, id string) (int64, error) {
	ro, err := s.store.Rollout(ctx, id)
	if err != nil {
		return 0, err
	}
	if ro.State.Ended() && s.now().Sub(ro.EndedAt) > endGrace {
		return -1, nil
	}
	return 0, nil
}

// sendEvents writes every stored event of the rollout after after and
// returns the id of the last one; it sets final when the event that says
// the rollout ended goes by.
func (s *Server) sendEvents(ctx context.Context, w http.ResponseWriter, rc *http.ResponseController, id string, after int64, final *int64) (int64, error) {
	for {
		list, err := s.store.Events(ctx, store.EventFilter{Subject: id, After: after, Limit: store.MaxEventLimit})
		if err != nil {
			return after, err
		}
		if len(list) == 0 {
			return after, nil
		}
		_ = rc.SetWriteDeadline(time.Now().Add(streamWrite))
		for _, e := range list {
			after = e.ID
			if !isRolloutEvent(e) {
				continue
			}
			if isFinal(e) {
				*final = e.ID
			}
			data, err := json.Marshal(apiEvent(e))
			if err != nil {
				return after, err
			}
			if _, err := fmt.Fprintf(w, "id: %d\nevent: %s\ndata: %s\n\n", e.ID, e.Kind, data); err != nil {
				return after, err
			}
		}
		if err := rc.Flush(); err != nil {
			return after, err
		}
		if len(list) < store.MaxEventLimit {
			return after, nil
		}
	}
}
