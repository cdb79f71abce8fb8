package client

import (
	"bufio"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/illico-dev/illico/internal/api"
	"github.com/illico-dev/illico/internal/fleet"
	"github.com/illico-dev/illico/internal/server/servertest"
)

// laterPlan is a plan whose window opens in three days: its rollouts run
// and wait, touching no host, for as long as a test needs.
func laterPlan() string {
	day := strings.ToLower(time.Now().UTC().AddDate(0, 0, 3).Weekday().String()[:3])
	return "name: Later\nsteps:\n  - run: \"true\"\nwindow:\n  days: [" + day + "]\n  hours: 09:00-10:00\n"
}

func testClient(t testing.TB, url, token string) *Client {
	t.Helper()
	c, err := New(url, token, &http.Client{})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func isKind(t testing.TB, err error, kind fleet.Kind, says string) {
	t.Helper()
	var fe *fleet.Error
	if !errors.As(err, &fe) || fe.Kind != kind || !strings.Contains(err.Error(), says) {
		t.Errorf("got %v, want a %v error saying %q", err, kind, says)
	}
}

func TestRolloutsAgainstDaemon(t *testing.T) {
	d := servertest.Start(t, servertest.Options{Inventory: "../server/testdata/inventory.yaml"})
	c := testClient(t, d.URL, d.AdminToken)
	ctx := t.Context()
	req := api.StartRollout{PlanFile: "later.yaml", Plan: laterPlan()}

	pv, err := c.PreviewRollout(ctx, req)
	if err != nil || pv.Plan != "Later" || len(pv.Hosts) != 4 {
		t.Fatalf("preview %+v, error %v", pv, err)
	}
	ro, err := c.StartRollout(ctx, req)
	if err != nil || ro.State != "running" || len(ro.Hosts) != 4 {
		t.Fatalf("start %+v, error %v", ro, err)
	}
	_, err = c.StartRollout(ctx, req)
	isKind(t, err, fleet.KindConflict, "still running on")
	_, err = c.StartRollout(ctx, api.StartRollout{PlanFile: "bad.yaml", Plan: "name: x\nstep: []\n"})
	isKind(t, err, fleet.KindInvalid, `bad.yaml:2:1: unknown key "step" (did you mean "steps"?)`)

	if got, err := c.Rollout(ctx, ro.ID); err != nil || got.ID != ro.ID || got.Plan != "Later" {
		t.Errorf("rollout %+v, error %v", got, err)
	}
	_, err = c.Rollout(ctx, "nope")
	isKind(t, err, fleet.KindNotFound, "no rollout nope")
	if list, err := c.Rollouts(ctx, 5); err != nil || len(list) != 1 || list[0].ID != ro.ID {
		t.Errorf("rollouts %+v, error %v", list, err)
	}
	if got, err := c.OrderRollout(ctx, ro.ID, OrderPause); err != nil || got.State != "paused" {
		t.Errorf("pause: %+v, error %v", got, err)
	}
	_, err = c.OrderRollout(ctx, ro.ID, OrderPause)
	isKind(t, err, fleet.KindConflict, "is paused; it cannot pause")
	_, err = c.OrderRollout(ctx, ro.ID, "restart")
	isKind(t, err, fleet.KindInvalid, `unknown rollout order "restart"`)

	// A stream passes every event once and returns when the rollout ended.
	var streamed []api.Event
	done := make(chan error, 1)
	go func() {
		done <- c.StreamRolloutEvents(ctx, ro.ID, 0, func(ev api.Event) error {
			streamed = append(streamed, ev)
			return nil
		})
	}()
	if _, err := c.OrderRollout(ctx, ro.ID, OrderAbort); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("stream: %v", err)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("the stream did not end with the rollout")
	}
	listed, err := c.RolloutEvents(ctx, ro.ID, 0, 0)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(ids(streamed), ids(listed)) || listed[len(listed)-1].State != "aborted" {
		t.Errorf("streamed %v, listed %v", ids(streamed), ids(listed))
	}
	if page, err := c.RolloutEvents(ctx, ro.ID, listed[0].ID, 2); err != nil || !slices.Equal(ids(page), ids(listed[1:3])) {
		t.Errorf("page after %d: %v, error %v", listed[0].ID, ids(page), err)
	}

	// fn's error ends the stream, as it is.
	stop := errors.New("enough")
	if err := c.StreamRolloutEvents(ctx, ro.ID, 0, func(api.Event) error { return stop }); err != stop {
		t.Errorf("stream with a failing fn: %v", err)
	}
	// Answers that will not change end the stream at once.
	began := time.Now()
	isKind(t, c.StreamRolloutEvents(ctx, "nope", 0, func(api.Event) error { return nil }), fleet.KindNotFound, "no rollout nope")
	isKind(t, testClient(t, d.URL, "illico_aaaaaaaaaaaaaaaaaaaa").StreamRolloutEvents(ctx, ro.ID, 0, func(api.Event) error { return nil }),
		fleet.KindUnauthorized, "check ILLICO_TOKEN")
	if took := time.Since(began); took > 5*time.Second {
		t.Errorf("permanent errors took %s to end the stream", took)
	}
}

func ids(events []api.Event) []int64 {
	out := make([]int64, len(events))
	for i, e := range events {
		out[i] = e.ID
	}
	return out
}

// cutter stands between the client and the daemon and cuts the first event
// stream after two events, as a restart of the daemon or a proxy would.
type cutter struct {
	daemon string
	mu     sync.Mutex
	asked  []string // the Last-Event-ID of each stream request
}

func (p *cutter) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	p.mu.Lock()
	p.asked = append(p.asked, r.Header.Get("Last-Event-ID"))
	first := len(p.asked) == 1
	p.mu.Unlock()
	req, _ := http.NewRequestWithContext(r.Context(), r.Method, p.daemon+r.URL.RequestURI(), nil)
	req.Header = r.Header.Clone()
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadGateway)
		return
	}
	defer resp.Body.Close()
	for k, v := range resp.Header {
		w.Header()[k] = v
	}
	w.WriteHeader(resp.StatusCode)
	sc := bufio.NewScanner(resp.Body)
	events := 0
	for sc.Scan() {
		io.WriteString(w, sc.Text()+"\n")
		if sc.Text() == "" {
			w.(http.Flusher).Flush()
			if events++; first && events == 2 {
				return
			}
		}
	}
}

func TestStreamResumesADroppedConnection(t *testing.T) {
	d := servertest.Start(t, servertest.Options{Inventory: "../server/testdata/inventory.yaml"})
	admin := testClient(t, d.URL, d.AdminToken)
	ro, err := admin.StartRollout(t.Context(), api.StartRollout{Plan: laterPlan()})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := admin.OrderRollout(t.Context(), ro.ID, OrderAbort); err != nil {
		t.Fatal(err)
	}
	p := &cutter{daemon: d.URL}
	proxy := httptest.NewServer(p)
	t.Cleanup(proxy.Close)
	var streamed []api.Event
	err = testClient(t, proxy.URL, d.AdminToken).StreamRolloutEvents(t.Context(), ro.ID, 0, func(ev api.Event) error {
		streamed = append(streamed, ev)
		return nil
	})
	if err != nil {
		t.Fatalf("stream through a connection cut once: %v", err)
	}
	listed, err := admin.RolloutEvents(t.Context(), ro.ID, 0, 0)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(ids(streamed), ids(listed)) {
		t.Errorf("streamed %v, want each of %v once", ids(streamed), ids(listed))
	}
	if len(p.asked) != 2 || p.asked[0] != "" || p.asked[1] != strconv.FormatInt(listed[1].ID, 10) {
		t.Errorf("Last-Event-ID of the requests: %q, want \"\" then %d", p.asked, listed[1].ID)
	}
}

func TestStreamGivesUpOnAnUnreachableDaemon(t *testing.T) {
	if testing.Short() {
		t.Skip("slow: waits through every reconnect pause")
	}
	t.Parallel()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	began := time.Now()
	err = testClient(t, "http://"+addr, "illico_x").StreamRolloutEvents(t.Context(), "r", 0, func(api.Event) error { return nil })
	isKind(t, err, fleet.KindUnavailable, "cannot reach the illico daemon at http://"+addr)
	t.Logf("gave up after %s", time.Since(began).Round(time.Millisecond))
}

func TestSSEReader(t *testing.T) {
	type event struct{ kind, data string }
	for _, tc := range []struct {
		name   string
		stream string
		want   []event
		err    error
	}{
		{"one event", "id: 1\nevent: host.step\ndata: {\"id\":1}\n\n", []event{{"host.step", `{"id":1}`}}, io.EOF},
		{"comments and blank lines", ": heartbeat\n\n\n: heartbeat\n\nevent: end\ndata: {}\n\n", []event{{"end", "{}"}}, io.EOF},
		{"data on lines", "data: a\ndata: b\ndata:c\n\n", []event{{"", "a\nb\nc"}}, io.EOF},
		{"CRLF", "event: x\r\ndata: 1\r\n\r\n", []event{{"x", "1"}}, io.EOF},
		{"unknown fields", "retry: 10\nfoo\nevent: x\n\n", []event{{"x", ""}}, io.EOF},
		{"cut inside an event", "event: x\ndata: 1\n\nevent: y\ndata: 2\n", []event{{"x", "1"}}, io.ErrUnexpectedEOF},
		{"empty", "", nil, io.EOF},
	} {
		t.Run(tc.name, func(t *testing.T) {
			lines := 0
			r := newSSEReader(strings.NewReader(tc.stream), func() { lines++ })
			var got []event
			for {
				kind, data, err := r.next()
				if err != nil {
					if err != tc.err {
						t.Errorf("ends with %v, want %v", err, tc.err)
					}
					break
				}
				got = append(got, event{kind, string(data)})
			}
			if !slices.Equal(got, tc.want) {
				t.Errorf("got %q, want %q", got, tc.want)
			}
			if want := strings.Count(tc.stream, "\n"); lines != want {
				t.Errorf("alive called %d times, want once per line (%d)", lines, want)
			}
		})
	}
	long := "data: " + strings.Repeat("x", maxEventSize) + "\n\n"
	if _, _, err := newSSEReader(strings.NewReader(long), func() {}).next(); err == nil || err == io.EOF {
		t.Errorf("a line over %d bytes: %v", maxEventSize, err)
	}
}

func FuzzSSEReader(f *testing.F) {
	for _, s := range []string{
		"id: 1\nevent: host.step\ndata: {\"id\":1}\n\n",
		": heartbeat\n\nevent: end\ndata: {}\n\n",
		"data: a\r\ndata: b\n\n",
		"event\n:\n\n",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, stream []byte) {
		r := newSSEReader(strings.NewReader(string(stream)), func() {})
		for range len(stream) + 1 {
			if _, data, err := r.next(); err != nil {
				return
			} else if len(data) > len(stream) {
				t.Fatalf("an event of %d bytes from %d", len(data), len(stream))
			}
		}
		t.Fatal("more events than bytes")
	})
}
