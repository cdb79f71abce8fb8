package lb

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/illico-dev/illico/internal/fleet"
)

// startHAProxy runs a real HAProxy with one backend "web" whose servers are
// the given addresses, named s0, s1..., and returns a client and the
// frontend's URL.
func startHAProxy(t testing.TB, servers ...string) (*HAProxy, string) {
	t.Helper()
	return startHAProxyAPI(t, "", servers...)
}

// startHAProxyAPI is startHAProxy with the runtime API also on the TCP
// address api, when it is not empty.
func startHAProxyAPI(t testing.TB, api string, servers ...string) (*HAProxy, string) {
	t.Helper()
	bin, err := exec.LookPath("haproxy")
	if err != nil {
		bin = "/usr/sbin/haproxy"
	}
	if _, err := os.Stat(bin); err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("haproxy is not installed (scripts/deps installs it): %v", err)
		}
		t.Skipf("haproxy is not installed (run scripts/deps): %v", err)
	}
	dir := t.TempDir()
	front := freePort(t)
	sock := filepath.Join(dir, "admin.sock")
	var b strings.Builder
	fmt.Fprintf(&b, "global\n  stats socket %s mode 600 level admin\n", sock)
	if api != "" {
		fmt.Fprintf(&b, "  stats socket %s level admin\n", api)
	}
	b.WriteString("defaults\n  mode http\n  timeout connect 1s\n  timeout client 10s\n  timeout server 10s\n")
	fmt.Fprintf(&b, "frontend fe\n  bind %s\n  default_backend web\n", front)
	b.WriteString("backend web\n  option httpchk GET /healthz\n  default-server inter 100ms fall 2 rise 2\n")
	for i, s := range servers {
		fmt.Fprintf(&b, "  server s%d %s check\n", i, s)
	}
	cfg := filepath.Join(dir, "haproxy.cfg")
	if err := os.WriteFile(cfg, []byte(b.String()), 0o600); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bin, "-f", cfg, "-db")
	out := &strings.Builder{}
	cmd.Stdout, cmd.Stderr = out, out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	h := New(&fleet.LoadBalancer{Name: "test", Socket: sock})
	h.Poll = 20 * time.Millisecond
	deadline := time.Now().Add(10 * time.Second)
	for {
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		all, err := h.Servers(ctx)
		cancel()
		up := 0
		for _, s := range all {
			if s.Up() {
				up++
			}
		}
		if err == nil && up == len(servers) {
			return h, "http://" + front
		}
		if time.Now().After(deadline) {
			t.Fatalf("haproxy not ready: %v %+v\n%s", err, all, out)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func freePort(t testing.TB) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}

// site is a backend server whose /slow requests block until release closes.
func site(t testing.TB) (addr string, release chan struct{}, started chan struct{}) {
	t.Helper()
	release, started = make(chan struct{}), make(chan struct{}, 10)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/slow" {
			started <- struct{}{}
			select {
			case <-release:
			case <-time.After(10 * time.Second):
			}
		}
		fmt.Fprintln(w, "ok")
	}))
	t.Cleanup(srv.Close)
	return strings.TrimPrefix(srv.URL, "http://"), release, started
}

func TestDrainWaitsForSessions(t *testing.T) {
	addr, release, started := site(t)
	h, front := startHAProxy(t, addr)
	ctx := context.Background()

	done := make(chan error, 1)
	go func() {
		resp, err := http.Get(front + "/slow")
		if err == nil {
			resp.Body.Close()
		}
		done <- err
	}()
	<-started

	drained := make(chan error, 1)
	go func() { drained <- h.Drain(ctx, "web", "s0") }()
	select {
	case err := <-drained:
		t.Fatalf("drain returned while a session was open: %v", err)
	case <-time.After(300 * time.Millisecond):
	}
	s, err := h.Server(ctx, "web", "s0")
	if err != nil || s.Status != "DRAIN" || s.Sessions != 1 {
		t.Fatalf("during drain: %+v, %v", s, err)
	}
	close(release)
	if err := <-done; err != nil {
		t.Fatalf("the customer's request failed during the drain: %v", err)
	}
	if err := <-drained; err != nil {
		t.Fatal(err)
	}
	if s, _ := h.Server(ctx, "web", "s0"); s.Status != "MAINT" {
		t.Fatalf("after drain: %+v", s)
	}
	if err := h.Undrain(ctx, "web", "s0"); err != nil {
		t.Fatal(err)
	}
	if s, _ := h.Server(ctx, "web", "s0"); !s.Up() {
		t.Fatalf("after undrain: %+v", s)
	}
}

func TestDrainTimeoutStillSetsMaintenance(t *testing.T) {
	addr, release, started := site(t)
	defer close(release)
	h, front := startHAProxy(t, addr)
	go func() {
		if resp, err := http.Get(front + "/slow"); err == nil {
			resp.Body.Close()
		}
	}()
	<-started
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	err := h.Drain(ctx, "web", "s0")
	if !errors.Is(err, context.DeadlineExceeded) || !strings.Contains(err.Error(), "1 sessions still open") {
		t.Fatalf("want a timeout naming the open session, got %v", err)
	}
	if s, _ := h.Server(context.Background(), "web", "s0"); s.Status != "MAINT" {
		t.Fatalf("a half-drained server must be in maintenance: %+v", s)
	}
}

func TestUndrainWaitsForHealth(t *testing.T) {
	healthy := make(chan bool, 1)
	healthy <- false
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ok := <-healthy
		healthy <- ok
		if !ok {
			w.WriteHeader(http.StatusInternalServerError)
		}
	}))
	defer srv.Close()
	addr := strings.TrimPrefix(srv.URL, "http://")
	// Start healthy so the harness sees it UP, then break it.
	<-healthy
	healthy <- true
	h, _ := startHAProxy(t, addr)
	ctx := context.Background()
	if err := h.Drain(ctx, "web", "s0"); err != nil {
		t.Fatal(err)
	}
	<-healthy
	healthy <- false
	short, cancel := context.WithTimeout(ctx, 500*time.Millisecond)
	defer cancel()
	if err := h.Undrain(short, "web", "s0"); err == nil {
		t.Fatal("undrain of an unhealthy server must not report success")
	}
	<-healthy
	healthy <- true
	if err := h.Undrain(ctx, "web", "s0"); err != nil {
		t.Fatal(err)
	}
}

func TestErrors(t *testing.T) {
	addr, _, _ := site(t)
	h, _ := startHAProxy(t, addr)
	ctx := context.Background()
	if err := h.SetState(ctx, "web", "nope", Drain); err == nil || !strings.Contains(err.Error(), "web/nope") {
		t.Errorf("unknown server: %v", err)
	}
	if _, err := h.Server(ctx, "web", "nope"); fleet.KindOf(err) != fleet.KindNotFound {
		t.Errorf("unknown server kind: %v", err)
	}
	gone := New(&fleet.LoadBalancer{Name: "gone", Socket: filepath.Join(t.TempDir(), "none.sock")})
	if _, err := gone.Servers(ctx); fleet.KindOf(err) != fleet.KindUnavailable {
		t.Errorf("missing socket: %v", err)
	}
}

func TestParseStat(t *testing.T) {
	out := "# pxname,svname,qcur,qmax,scur,smax,slim,stot,bin,bout,dreq,dresp,ereq,econ,eresp,wretr,wredis,status,weight,act,bck,chkfail,chkdown,lastchg,downtime,qlimit,pid,iid,sid,throttle,lbtot,tracked,type,rate,rate_lim,rate_max,check_status,hrsp_5xx,req_tot,\n" +
		"fe,FRONTEND,,,0,1,262,1,0,0,0,0,0,,,,,OPEN,,,,,,,,,1,2,0,,,,0,0,0,1,,4,9,\n" +
		"web,s0,0,0,3,3,,5,0,0,,0,,0,0,0,0,DRAIN,1,1,0,0,0,9,0,,1,3,1,,5,,2,0,,1,L7OK,1,5,\n" +
		"web,BACKEND,0,0,0,1,26,1,0,0,0,0,,0,0,0,0,UP,1,1,0,,0,9,0,,1,3,0,,1,,1,0,,1,,4,9,\n" +
		"tcp,BACKEND,0,0,0,1,26,1,0,0,0,0,,0,0,0,0,UP,1,1,0,,0,9,0,,1,3,0,,1,,1,0,,1,,,,\n"
	got, err := parseStat("t", out)
	if err != nil {
		t.Fatal(err)
	}
	want := stat{
		servers: []Server{{Backend: "web", Name: "s0", Status: "DRAIN", Sessions: 3, CheckStatus: "L7OK"}},
		traffic: []fleet.Traffic{{LoadBalancer: "t", Backend: "web", Requests: 9, ServerErrors: 4}, {LoadBalancer: "t", Backend: "tcp"}},
	}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("got %+v, want %+v", got, want)
	}
	if _, err := parseStat("t", "Unknown command\n"); err == nil {
		t.Error("want an error for an answer without columns")
	}
}

// TestTraffic counts a backend's requests and errors as HAProxy does: its
// server's 500s, and the 503s HAProxy answers itself when no server is left.
func TestTraffic(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/fail" {
			w.WriteHeader(http.StatusInternalServerError)
		}
	}))
	t.Cleanup(srv.Close)
	h, front := startHAProxy(t, strings.TrimPrefix(srv.URL, "http://"))
	get := func(path string, want int) {
		t.Helper()
		resp, err := http.Get(front + path)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != want {
			t.Fatalf("GET %s: %d, want %d", path, resp.StatusCode, want)
		}
	}
	for range 3 {
		get("/", http.StatusOK)
	}
	get("/fail", http.StatusInternalServerError)
	if err := h.SetState(t.Context(), "web", "s0", Maint); err != nil {
		t.Fatal(err)
	}
	get("/", http.StatusServiceUnavailable)
	time.Sleep(2 * h.Poll)
	all, err := h.Traffic(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	want := []fleet.Traffic{{LoadBalancer: "test", Backend: "web", Requests: 5, ServerErrors: 2}}
	if fmt.Sprint(all) != fmt.Sprint(want) {
		t.Errorf("traffic %+v, want %+v", all, want)
	}
}

// Many hosts drain at once through one HAProxy, whose runtime API takes
// only a few connections: every command must still get through.
func TestManyCommandsAtOnce(t *testing.T) {
	addr, _, _ := site(t)
	h, _ := startHAProxy(t, addr)
	set := &Set{}
	first, again := &fleet.LoadBalancer{Name: "a", Socket: "x"}, &fleet.LoadBalancer{Name: "a", Socket: "x"}
	if set.For(first) != set.For(again) {
		t.Fatal("a set must give one client per load balancer")
	}
	errs := make(chan error, 60)
	for range 60 {
		go func() {
			_, err := h.Servers(context.Background())
			errs <- err
		}()
	}
	for range 60 {
		if err := <-errs; err != nil {
			t.Fatal(err)
		}
	}
}

// TestIPv6 holds what an IPv6 fleet needs of HAProxy: a server written
// [::1]:PORT, as net.JoinHostPort and the lab write it, is checked and
// drained, through a runtime API reached at [::1]:PORT as the inventory's
// load_balancers address gives it.
func TestIPv6(t *testing.T) {
	ln, err := net.Listen("tcp", "[::1]:0")
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("no IPv6 loopback: %v", err)
		}
		t.Skipf("no IPv6 loopback (::1) on this machine: %v", err)
	}
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { fmt.Fprintln(w, "ok") }))
	srv.Listener.Close()
	srv.Listener = ln
	srv.Start()
	t.Cleanup(srv.Close)
	apiLn, err := net.Listen("tcp", "[::1]:0")
	if err != nil {
		t.Fatal(err)
	}
	api := apiLn.Addr().String()
	apiLn.Close()
	if !strings.HasPrefix(srv.Listener.Addr().String(), "[::1]:") || !strings.HasPrefix(api, "[::1]:") {
		t.Fatalf("listening on %s and %s, want [::1]:PORT", srv.Listener.Addr(), api)
	}

	_, front := startHAProxyAPI(t, api, srv.Listener.Addr().String())
	h := New(&fleet.LoadBalancer{Name: "v6", Address: api})
	h.Poll = 20 * time.Millisecond
	ctx := t.Context()
	if s, err := h.Server(ctx, "web", "s0"); err != nil || !s.Up() {
		t.Fatalf("server on %s: %+v, %v", srv.Listener.Addr(), s, err)
	}
	resp, err := http.Get(front + "/")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("through HAProxy to [::1]: %s", resp.Status)
	}
	if err := h.Drain(ctx, "web", "s0"); err != nil {
		t.Fatal(err)
	}
	if s, _ := h.Server(ctx, "web", "s0"); s.Status != "MAINT" {
		t.Fatalf("after drain: %+v", s)
	}
	if err := h.Undrain(ctx, "web", "s0"); err != nil {
		t.Fatal(err)
	}
	if s, _ := h.Server(ctx, "web", "s0"); !s.Up() {
		t.Fatalf("after undrain: %+v", s)
	}
}

// TestDrainsShareReadings holds that many drains on one HAProxy, each
// waiting for its server's last session, share their readings of its stat
// table instead of polling it each: the runtime API is reached through a
// relay that counts its connections.
func TestDrainsShareReadings(t *testing.T) {
	const servers = 20
	addrs := make([]string, servers)
	release := make([]chan struct{}, servers)
	started := make([]chan struct{}, servers)
	for i := range addrs {
		addrs[i], release[i], started[i] = site(t)
	}
	api := freePort(t)
	_, front := startHAProxyAPI(t, api, addrs...)
	// One customer session on every server, held for the drains.
	for i := range servers {
		go func() {
			if resp, err := http.Get(front + "/slow"); err == nil {
				resp.Body.Close()
			}
		}()
		<-started[i%servers]
	}
	relay, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { relay.Close() })
	var conns atomic.Int64
	go func() {
		for {
			c, err := relay.Accept()
			if err != nil {
				return
			}
			conns.Add(1)
			go func() {
				defer c.Close()
				up, err := net.Dial("tcp", api)
				if err != nil {
					return
				}
				defer up.Close()
				go io.Copy(up, c)
				io.Copy(c, up)
			}()
		}
	}()
	h := New(&fleet.LoadBalancer{Name: "relayed", Address: relay.Addr().String()})
	h.Poll = 20 * time.Millisecond
	ctx := t.Context()
	errs := make(chan error, servers)
	for i := range servers {
		go func() { errs <- h.Drain(ctx, "web", fmt.Sprintf("s%d", i)) }()
	}
	const held = 500 * time.Millisecond
	time.Sleep(held)
	for _, r := range release {
		close(r)
	}
	for range servers {
		if err := <-errs; err != nil {
			t.Fatal(err)
		}
	}
	all, err := h.Servers(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range all {
		if s.Status != "MAINT" {
			t.Errorf("after drain: %+v", s)
		}
	}
	// Each drain sends two state changes; the readings come on top. A
	// reading each per poll would be about servers*held/Poll (500) of them.
	readings := conns.Load() - 2*servers
	t.Logf("%d drains held %s: %d readings of the stat table", servers, held, readings)
	if limit := int64(servers + 2*held/h.Poll); readings > limit {
		t.Errorf("%d readings for %d drains held %s, more than %d: the drains do not share them", readings, servers, held, limit)
	}
}
