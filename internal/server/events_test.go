package server_test

import (
	"bufio"
	"context"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/illico-dev/illico/internal/api"
	"github.com/illico-dev/illico/internal/server/servertest"
)

// sseEvent is one Server-Sent Event as the test reads it off the wire.
type sseEvent struct{ id, event, data string }

// readStream reads a rollout's event stream until its end event or until
// within has passed (ended false).
func readStream(t testing.TB, d *servertest.Daemon, token, id, lastID string, within time.Duration) (events []sseEvent, ended bool) {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), within)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, "GET", d.URL+"/api/v1/rollouts/"+id+"/events", nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Accept", "text/event-stream")
	if lastID != "" {
		req.Header.Set("Last-Event-ID", lastID)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "text/event-stream" {
		t.Fatalf("stream: %s %s", resp.Status, resp.Header.Get("Content-Type"))
	}
	sc := bufio.NewScanner(resp.Body)
	var cur sseEvent
	for sc.Scan() {
		line := sc.Text()
		field, value, _ := strings.Cut(line, ": ")
		switch {
		case line == "":
			if cur.event == api.EventEnd {
				return events, true
			}
			if cur.event != "" {
				events = append(events, cur)
			}
			cur = sseEvent{}
		case field == "id":
			cur.id = value
		case field == "event":
			cur.event = value
		case field == "data":
			cur.data = value
		}
	}
	return events, false
}

func testRolloutEventStream(t *testing.T, dsn func(t testing.TB) string) {
	d := start(t, dsn, servertest.Options{Inventory: inventoryCopy(t)})
	reader := createToken(t, d, d.AdminToken, "grafana", "reader").Secret
	ro := startLater(t, d, d.AdminToken)

	// A stream of a running rollout stays open and sends what is stored.
	events, ended := readStream(t, d, reader, ro.ID, "", 500*time.Millisecond)
	if ended || len(events) < 3 || events[0].event != "rollout.created" {
		t.Fatalf("stream of a running rollout: ended %v, %+v", ended, events)
	}

	// Live events arrive on an open stream, and the stream ends once the
	// rollout has.
	type result struct {
		events []sseEvent
		ended  bool
	}
	done := make(chan result, 1)
	go func() {
		ev, ended := readStream(t, d, reader, ro.ID, events[len(events)-1].id, 20*time.Second)
		done <- result{ev, ended}
	}()
	time.Sleep(200 * time.Millisecond)
	if a := call(t, d, "POST", "/api/v1/rollouts/"+ro.ID+"/abort", d.AdminToken, nil); a.status != 200 {
		t.Fatalf("abort: %d %s", a.status, a.body)
	}
	r := <-done
	if !r.ended || len(r.events) < 2 {
		t.Fatalf("stream after abort: ended %v, %+v", r.ended, r.events)
	}
	last := r.events[len(r.events)-1]
	if last.event != "rollout.state" || !strings.Contains(last.data, `"state":"aborted"`) {
		t.Errorf("the last event before the end is %+v", last)
	}

	// A stream resumed with Last-Event-ID sends what came after that id
	// only, each event once, then ends.
	all, ended := readStream(t, d, reader, ro.ID, "", 10*time.Second)
	if !ended {
		t.Fatal("the stream of an ended rollout did not end")
	}
	var list api.Events
	call(t, d, "GET", "/api/v1/rollouts/"+ro.ID+"/events", reader, nil).decode(t, &list)
	if len(all) != len(list.Events) {
		t.Fatalf("the stream sent %d events, the list has %d", len(all), len(list.Events))
	}
	for i, e := range list.Events {
		if all[i].id != fmt.Sprint(e.ID) || all[i].event != e.Kind || !strings.Contains(all[i].data, fmt.Sprintf(`"id":%d`, e.ID)) {
			t.Errorf("stream event %d is %+v, list has %+v", i, all[i], e)
		}
	}
	mid := len(all) / 2
	rest, ended := readStream(t, d, reader, ro.ID, all[mid].id, 10*time.Second)
	if !ended || len(rest) != len(all)-mid-1 || rest[0].id != all[mid+1].id {
		t.Errorf("resumed after %s: ended %v, %d events, want %d from %s", all[mid].id, ended, len(rest), len(all)-mid-1, all[mid+1].id)
	}
	if tail, ended := readStream(t, d, reader, ro.ID, all[len(all)-1].id, 10*time.Second); !ended || len(tail) != 0 {
		t.Errorf("resumed after the last event: ended %v, %+v", ended, tail)
	}

	// The list pages with after and limit.
	var page api.Events
	call(t, d, "GET", fmt.Sprintf("/api/v1/rollouts/%s/events?after=%d&limit=2", ro.ID, list.Events[0].ID), reader, nil).decode(t, &page)
	if len(page.Events) != 2 || page.Events[0].ID != list.Events[1].ID || page.Events[1].ID != list.Events[2].ID {
		t.Errorf("page: %+v", page.Events)
	}
	for _, q := range []string{"?after=-1", "?limit=x", "?limit=100000"} {
		if a := call(t, d, "GET", "/api/v1/rollouts/"+ro.ID+"/events"+q, reader, nil); a.status != 400 {
			t.Errorf("events%s: %d %s", q, a.status, a.body)
		}
	}
	if a := call(t, d, "GET", "/api/v1/rollouts/nope/events", reader, nil); a.status != 404 {
		t.Errorf("events of an unknown rollout: %d %s", a.status, a.body)
	}
}

func testEventStreamEndsWhenTheDaemonStops(t *testing.T, dsn func(t testing.TB) string) {
	d := start(t, dsn, servertest.Options{Inventory: inventoryCopy(t), ShutdownTimeout: 5 * time.Second})
	ro := startLater(t, d, d.AdminToken)
	done := make(chan time.Duration, 1)
	go func() {
		began := time.Now()
		readStream(t, d, d.AdminToken, ro.ID, "", 20*time.Second)
		done <- time.Since(began)
	}()
	time.Sleep(300 * time.Millisecond)
	stopped := time.Now()
	if err := d.Stop(); err != nil {
		t.Fatalf("stop with a stream open: %v", err)
	}
	<-done
	if took := time.Since(stopped); took > 4*time.Second {
		t.Errorf("the daemon took %s to stop with a stream open", took)
	}
}
