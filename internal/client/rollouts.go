package client

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/illico-dev/illico/internal/api"
	"github.com/illico-dev/illico/internal/fleet"
)

// StartRollout starts a rollout of req's plan and returns it. A plan with
// problems is refused (kind fleet.KindInvalid, every problem in the
// message); a rollout that would touch hosts another one is rolling is
// refused with fleet.KindConflict.
func (c *Client) StartRollout(ctx context.Context, req api.StartRollout) (api.Rollout, error) {
	req.DryRun = false
	var out api.Rollout
	err := c.do(ctx, http.MethodPost, api.Prefix+"/rollouts", req, &out)
	return out, err
}

// PreviewRollout says what a rollout of req's plan would do on the fleet as
// it stands, and starts nothing.
func (c *Client) PreviewRollout(ctx context.Context, req api.StartRollout) (api.Preview, error) {
	req.DryRun = true
	var out api.Preview
	err := c.do(ctx, http.MethodPost, api.Prefix+"/rollouts", req, &out)
	return out, err
}

// Rollouts lists the most recent rollouts, without their hosts; limit 0 is
// the daemon's default.
func (c *Client) Rollouts(ctx context.Context, limit int) ([]api.Rollout, error) {
	path := api.Prefix + "/rollouts"
	if limit > 0 {
		path += "?limit=" + strconv.Itoa(limit)
	}
	var out api.Rollouts
	err := c.do(ctx, http.MethodGet, path, nil, &out)
	return out.Rollouts, err
}

// Rollout returns a rollout with its hosts and ETA.
func (c *Client) Rollout(ctx context.Context, id string) (api.Rollout, error) {
	var out api.Rollout
	err := c.do(ctx, http.MethodGet, rolloutPath(id), nil, &out)
	return out, err
}

// Orders a running rollout takes.
const (
	OrderPause  = "pause"
	OrderResume = "resume"
	OrderAbort  = "abort"
)

// OrderRollout pauses, resumes or aborts a rollout and returns it once it
// took the order. An order its state forbids (pausing a paused rollout,
// anything on an ended one) is refused with fleet.KindConflict.
func (c *Client) OrderRollout(ctx context.Context, id, order string) (api.Rollout, error) {
	switch order {
	case OrderPause, OrderResume, OrderAbort:
	default:
		return api.Rollout{}, fleet.Errorf(fleet.KindInvalid, "unknown rollout order %q (expected pause, resume or abort)", order)
	}
	var out api.Rollout
	err := c.do(ctx, http.MethodPost, rolloutPath(id)+"/"+order, nil, &out)
	return out, err
}

// RolloutEvents returns up to limit events of a rollout after the event
// with id after (0: from the first); limit 0 is the daemon's default.
func (c *Client) RolloutEvents(ctx context.Context, id string, after int64, limit int) ([]api.Event, error) {
	q := url.Values{}
	if after > 0 {
		q.Set("after", strconv.FormatInt(after, 10))
	}
	if limit > 0 {
		q.Set("limit", strconv.Itoa(limit))
	}
	path := rolloutPath(id) + "/events"
	if len(q) > 0 {
		path += "?" + q.Encode()
	}
	var out api.Events
	err := c.do(ctx, http.MethodGet, path, nil, &out)
	return out.Events, err
}

func rolloutPath(id string) string { return api.Prefix + "/rollouts/" + url.PathEscape(id) }

// A stream that breaks is resumed at once, then after longer and longer
// pauses; after maxReconnects attempts in a row that see nothing, it gives
// up. streamIdle is how long a stream may stay silent: the daemon sends a
// heartbeat every 15 s.
const (
	maxReconnects  = 8
	firstReconnect = 250 * time.Millisecond
	maxPause       = 2 * time.Second
	streamIdle     = 45 * time.Second
	maxEventSize   = 1 << 20
)

// StreamRolloutEvents calls fn with every event of a rollout after the
// event with id after (0: from the first), as they happen. It returns nil
// once the rollout has ended and fn has seen its last event, fn's error if
// fn fails, and ctx's error when ctx ends. A dropped connection (a daemon
// restart, say) is resumed from the last event seen, a bounded number of
// times in a row; an answer that will not change (unauthorized, not found)
// ends the stream at once.
func (c *Client) StreamRolloutEvents(ctx context.Context, id string, after int64, fn func(api.Event) error) error {
	failures := 0
	for {
		seen, ended, err := c.streamOnce(ctx, id, &after, fn)
		var cb *callbackError
		switch {
		case ended:
			return nil
		case errors.As(err, &cb):
			return cb.err
		case ctx.Err() != nil:
			return ctx.Err()
		}
		switch fleet.KindOf(err) {
		case fleet.KindUnavailable, fleet.KindInternal:
		default:
			return err
		}
		if seen {
			failures = 0
		}
		if failures++; failures > maxReconnects {
			return err
		}
		pause := min(firstReconnect<<(failures-1), maxPause)
		if failures == 1 {
			pause = 0
		}
		t := time.NewTimer(pause)
		select {
		case <-ctx.Done():
			t.Stop()
			return ctx.Err()
		case <-t.C:
		}
	}
}

// callbackError carries the error of the caller's fn through the stream.
type callbackError struct{ err error }

func (e *callbackError) Error() string { return e.err.Error() }

// streamOnce follows one connection of a stream. seen reports whether the
// daemon sent anything (a reconnect that works resets the count of
// failures); ended, whether the stream said the rollout ended.
func (c *Client) streamOnce(ctx context.Context, id string, after *int64, fn func(api.Event) error) (seen, ended bool, err error) {
	// The connection is dropped when the daemon stays silent, heartbeats
	// included, for too long: a peer that vanished sends no FIN.
	conn, cancel := context.WithCancel(ctx)
	defer cancel()
	idle := time.AfterFunc(streamIdle, cancel)
	defer idle.Stop()
	req, err := http.NewRequestWithContext(conn, http.MethodGet, c.base.String()+rolloutPath(id)+"/events", nil)
	if err != nil {
		return false, false, fmt.Errorf("build request: %w", err)
	}
	req.Header.Set("Accept", "text/event-stream")
	if *after > 0 {
		req.Header.Set("Last-Event-ID", strconv.FormatInt(*after, 10))
	}
	if c.token != "" {
		req.Header.Set("Authorization", "Bearer "+c.token.Reveal())
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return false, false, c.unreachable(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode >= 300 {
		data, _ := io.ReadAll(io.LimitReader(resp.Body, maxAnswer))
		err := decodeError(resp.StatusCode, data)
		if fleet.KindOf(err) == fleet.KindUnauthorized && c.token != "" {
			return false, false, fleet.Errorf(fleet.KindUnauthorized, "%v (check %s)", err, EnvToken)
		}
		return false, false, err
	}
	if ct := resp.Header.Get("Content-Type"); !strings.HasPrefix(ct, "text/event-stream") {
		return false, false, fleet.Errorf(fleet.KindInternal, "the daemon at %s answered %q, not an event stream", c.base.Redacted(), ct)
	}
	events := newSSEReader(resp.Body, func() {
		seen = true
		idle.Reset(streamIdle)
	})
	for {
		kind, data, err := events.next()
		if err != nil {
			if ctx.Err() != nil {
				return seen, false, ctx.Err()
			}
			if err == io.EOF {
				err = io.ErrUnexpectedEOF
			}
			return seen, false, &fleet.Error{Kind: fleet.KindUnavailable, Msg: fmt.Sprintf("the event stream of rollout %s from %s broke", id, c.base.Redacted()), Err: err}
		}
		if kind == api.EventEnd {
			return seen, true, nil
		}
		var ev api.Event
		if err := json.Unmarshal(data, &ev); err != nil {
			return seen, false, fmt.Errorf("decode a rollout event: %w", err)
		}
		*after = ev.ID
		if err := fn(ev); err != nil {
			return seen, false, &callbackError{err}
		}
	}
}

// sseReader reads Server-Sent Events: lines of "field: value" that end
// with a blank line. It keeps the event and data fields; the id field
// repeats the event's own, and comments (": heartbeat") say only that the
// daemon is alive.
type sseReader struct {
	sc *bufio.Scanner
	// alive is called for every line read, heartbeats included.
	alive func()
}

func newSSEReader(r io.Reader, alive func()) *sseReader {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 4096), maxEventSize)
	return &sseReader{sc: sc, alive: alive}
}

// next returns the next event that carries data or a type; io.EOF when the
// stream ends between events.
func (r *sseReader) next() (kind string, data []byte, err error) {
	var buf bytes.Buffer
	for r.sc.Scan() {
		r.alive()
		line := r.sc.Text()
		if line == "" {
			if kind != "" || buf.Len() > 0 {
				return kind, buf.Bytes(), nil
			}
			continue
		}
		field, value, _ := strings.Cut(line, ":")
		value = strings.TrimPrefix(value, " ")
		switch field {
		case "event":
			kind = value
		case "data":
			if buf.Len() > 0 {
				buf.WriteByte('\n')
			}
			buf.WriteString(value)
		}
	}
	if err := r.sc.Err(); err != nil {
		return "", nil, err
	}
	if kind != "" || buf.Len() > 0 {
		// An event the stream cut before its blank line is not complete.
		return "", nil, io.ErrUnexpectedEOF
	}
	return "", nil, io.EOF
}
