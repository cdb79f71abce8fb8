package sshx_test

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/pem"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/crypto/ssh"
	"golang.org/x/crypto/ssh/agent"

	"github.com/illico-dev/illico/internal/fleet"
	"github.com/illico-dev/illico/internal/openssh/opensshtest"
	"github.com/illico-dev/illico/internal/sshx"
)

// countingDialer counts TCP connections, so that tests can see handshakes.
type countingDialer struct {
	net.Dialer
	n atomic.Int64
}

func (d *countingDialer) DialContext(ctx context.Context, network, addr string) (net.Conn, error) {
	d.n.Add(1)
	return d.Dialer.DialContext(ctx, network, addr)
}

func newPool(t testing.TB, opts sshx.Options) *sshx.Pool {
	t.Helper()
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.NewTextHandler(testWriter{t}, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	p := sshx.NewPool(opts)
	t.Cleanup(p.Close)
	return p
}

type testWriter struct{ t testing.TB }

func (w testWriter) Write(b []byte) (int, error) {
	w.t.Log(strings.TrimSpace(string(b)))
	return len(b), nil
}

func TestRun(t *testing.T) {
	f := opensshtest.New(t)
	h := f.Host("web-01", f.Start(t, nil))
	pool := newPool(t, sshx.Options{})
	tests := []struct {
		name       string
		cmd        string
		wantCode   int
		wantOut    string
		wantErrOut string
		wantErr    string
	}{
		{"ok", "echo hello", 0, "hello\n", "", ""},
		{"streams apart", "echo out; echo err >&2; echo out2", 0, "out\nout2\n", "err\n", ""},
		{"non-zero exit is not an error", "echo failing >&2; exit 3", 3, "", "failing\n", ""},
		{"killed by a signal", "kill -9 $$", -1, "", "", "killed by signal KILL"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var out, errOut bytes.Buffer
			res, err := pool.Run(t.Context(), h, tt.cmd, &out, &errOut)
			if tt.wantErr == "" && err != nil {
				t.Fatal(err)
			}
			if tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr)) {
				t.Fatalf("error %v, want %q", err, tt.wantErr)
			}
			if res.ExitCode != tt.wantCode {
				t.Errorf("exit code %d, want %d", res.ExitCode, tt.wantCode)
			}
			if out.String() != tt.wantOut || errOut.String() != tt.wantErrOut {
				t.Errorf("stdout %q stderr %q, want %q and %q", out.String(), errOut.String(), tt.wantOut, tt.wantErrOut)
			}
			if res.Duration <= 0 {
				t.Errorf("duration %v", res.Duration)
			}
		})
	}
}

func TestConnectionReuse(t *testing.T) {
	f := opensshtest.New(t)
	h := f.Host("web-01", f.Start(t, nil))
	d := &countingDialer{}
	pool := newPool(t, sshx.Options{Dialer: d})
	// Concurrent first commands share one dial, later ones reuse it.
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	for range 8 {
		wg.Go(func() {
			if _, err := pool.Run(t.Context(), h, "true", nil, nil); err != nil {
				errs <- err
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	for i := range 5 {
		var out bytes.Buffer
		if _, err := pool.Run(t.Context(), h, fmt.Sprintf("echo %d", i), &out, nil); err != nil {
			t.Fatal(err)
		}
		if out.String() != fmt.Sprintf("%d\n", i) {
			t.Errorf("got %q", out.String())
		}
	}
	if n := d.n.Load(); n != 1 {
		t.Errorf("%d connections for 13 commands, want 1", n)
	}
}

// TestSessionLimit runs more commands at once on one host than sshd's
// MaxSessions (64 in internal/openssh): the refused ones fail alone, and the
// shared connection keeps serving the others.
func TestSessionLimit(t *testing.T) {
	if testing.Short() {
		t.Skip("runs 70 remote commands at once")
	}
	f := opensshtest.New(t)
	h := f.Host("web-01", f.Start(t, nil))
	d := &countingDialer{}
	pool := newPool(t, sshx.Options{Dialer: d})
	const n = 70
	var wg sync.WaitGroup
	var ok, refused atomic.Int64
	errs := make(chan error, n)
	for range n {
		wg.Go(func() {
			_, err := pool.Run(t.Context(), h, "sleep 2", nil, nil)
			switch {
			case err == nil:
				ok.Add(1)
			case strings.Contains(err.Error(), "open a session") && strings.Contains(err.Error(), "rejected"):
				refused.Add(1)
			default:
				errs <- err
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	if ok.Load() < 64 || d.n.Load() != 1 {
		t.Errorf("%d ok, %d refused over %d connections; want at least 64 ok over 1", ok.Load(), refused.Load(), d.n.Load())
	}
}

// slowDialer holds every TCP connect for delay and records how many were
// under way at once.
type slowDialer struct {
	net.Dialer
	delay time.Duration
	n     atomic.Int64

	mu        sync.Mutex
	now, most int
}

func (d *slowDialer) DialContext(ctx context.Context, network, addr string) (net.Conn, error) {
	d.n.Add(1)
	d.mu.Lock()
	d.now++
	d.most = max(d.most, d.now)
	d.mu.Unlock()
	time.Sleep(d.delay)
	d.mu.Lock()
	d.now--
	d.mu.Unlock()
	return d.Dialer.DialContext(ctx, network, addr)
}

// TestHandshakesBounded dials twelve hosts at once through a pool that sets
// up two connections at a time: no more are under way together, and the
// hosts that wait their turn longer than their connect timeout still
// connect, as the timeout counts from their own handshake.
func TestHandshakesBounded(t *testing.T) {
	f := opensshtest.New(t)
	addr := f.Start(t, nil)
	d := &slowDialer{delay: 300 * time.Millisecond}
	pool := newPool(t, sshx.Options{Dialer: d, Handshakes: 2})
	const hosts = 12
	var wg sync.WaitGroup
	errs := make(chan error, hosts)
	for i := range hosts {
		h := f.Host(fmt.Sprintf("web-%02d", i), addr)
		h.SSH.ConnectTimeout = time.Second
		wg.Go(func() {
			if _, err := pool.Run(t.Context(), h, "true", nil, nil); err != nil {
				errs <- err
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	if d.n.Load() != hosts || d.most > 2 {
		t.Errorf("%d connections, at most %d at once; want %d, at most 2", d.n.Load(), d.most, hosts)
	}
}

// TestBootIDOncePerConnection reads the boot id with its command once per
// connection: later calls prove it current with a keepalive, and a new
// connection (after a restart, as after a reboot) reads it again.
func TestBootIDOncePerConnection(t *testing.T) {
	f := opensshtest.New(t)
	s := f.Start(t, nil)
	h := f.Host("web-01", s)
	pool := newPool(t, sshx.Options{})
	runs := filepath.Join(t.TempDir(), "runs")
	cmd := fmt.Sprintf("echo run >> %s; echo boot-1", runs)
	for range 5 {
		id, err := pool.BootID(t.Context(), h, cmd)
		if err != nil || id != "boot-1" {
			t.Fatalf("boot id %q, %v; want boot-1", id, err)
		}
	}
	if got := readFile(t, runs); got != "run\n" {
		t.Fatalf("the boot id command ran %d times for 5 calls on one connection, want once", strings.Count(got, "run"))
	}
	s.Rekey(t)
	if err := os.WriteFile(f.KnownHosts, []byte(fmt.Sprintf("[%s]:%d %s", s.IP, s.Port, ssh.MarshalAuthorizedKey(s.HostKey))), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := pool.BootID(t.Context(), h, cmd); err != nil {
		t.Fatal(err)
	}
	if got := readFile(t, runs); got != "run\nrun\n" {
		t.Fatalf("after a restart the command ran %d times in all, want twice", strings.Count(got, "run"))
	}
	fresh := newPool(t, sshx.Options{})
	if _, err := fresh.BootID(t.Context(), h, "exit 3"); err == nil || !strings.Contains(err.Error(), "exited 3") {
		t.Errorf("a failing boot id command: %v", err)
	}
}

func TestRedialAfterRestart(t *testing.T) {
	f := opensshtest.New(t)
	s := f.Start(t, nil)
	h := f.Host("web-01", s)
	d := &countingDialer{}
	pool := newPool(t, sshx.Options{Dialer: d})
	if _, err := pool.Run(t.Context(), h, "true", nil, nil); err != nil {
		t.Fatal(err)
	}
	// Like a reboot: the pooled connection dies, the host comes back.
	s.Rekey(t)
	if err := os.WriteFile(f.KnownHosts, []byte(fmt.Sprintf("[%s]:%d %s", s.IP, s.Port, ssh.MarshalAuthorizedKey(s.HostKey))), 0o600); err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	if _, err := pool.Run(t.Context(), h, "echo back", &out, nil); err != nil {
		t.Fatal(err)
	}
	if out.String() != "back\n" || d.n.Load() != 2 {
		t.Errorf("got %q after %d connections, want back after 2", out.String(), d.n.Load())
	}
}

// TestIPv6Host reaches an sshd on [::1]:PORT through known_hosts files as
// OpenSSH writes them: the line illico's own hint has ssh-keyscan append,
// and its hashed form, which Debian's ssh writes by default.
func TestIPv6Host(t *testing.T) {
	f := opensshtest.New(t)
	s := f.StartIPv6(t, nil)
	keyscan, err := exec.LookPath("ssh-keyscan")
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatal(err)
		}
		t.Skipf("ssh-keyscan is not installed: %v", err)
	}
	h := f.Host("v6", s)
	if h.Address != "::1" || h.SSHAddress() != fmt.Sprintf("[::1]:%d", s.Port) {
		t.Fatalf("host at %q, dialled at %q", h.Address, h.SSHAddress())
	}

	// Unknown: illico says which command fetches the key; run it.
	h.SSH.KnownHosts = filepath.Join(t.TempDir(), "known_hosts")
	if err := os.WriteFile(h.SSH.KnownHosts, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	_, err = newPool(t, sshx.Options{}).Run(t.Context(), h, "true", nil, nil)
	hint := fmt.Sprintf("ssh-keyscan -t ed25519 -p %d ::1 >> %s", s.Port, h.SSH.KnownHosts)
	if err == nil || !strings.Contains(err.Error(), hint) {
		t.Fatalf("unknown host: error %v, want the hint %q", err, hint)
	}
	args := []string{"-t", "ed25519", "-p", fmt.Sprint(s.Port), "::1"}
	plain := scan(t, keyscan, args...)
	if want := fmt.Sprintf("[::1]:%d ssh-ed25519 ", s.Port); !strings.HasPrefix(plain, want) {
		t.Fatalf("ssh-keyscan wrote %q, want a line starting %q", plain, want)
	}
	hashed := scan(t, keyscan, append([]string{"-H"}, args...)...)
	if !strings.HasPrefix(hashed, "|1|") {
		t.Fatalf("ssh-keyscan -H wrote %q, want a hashed line", hashed)
	}
	for _, tt := range []struct{ name, line string }{{"plain", plain}, {"hashed", hashed}} {
		t.Run(tt.name, func(t *testing.T) {
			h := *h
			h.SSH.KnownHosts = filepath.Join(t.TempDir(), "known_hosts")
			if err := os.WriteFile(h.SSH.KnownHosts, []byte(tt.line), 0o600); err != nil {
				t.Fatal(err)
			}
			var out bytes.Buffer
			if _, err := newPool(t, sshx.Options{}).Run(t.Context(), &h, "echo ok", &out, nil); err != nil || out.String() != "ok\n" {
				t.Fatalf("run on [::1]:%d: %q, %v", s.Port, out.String(), err)
			}
		})
	}
}

// scan runs ssh-keyscan and returns its key lines.
func scan(t *testing.T, keyscan string, args ...string) string {
	t.Helper()
	out, err := exec.Command(keyscan, args...).Output()
	if err != nil {
		t.Fatalf("ssh-keyscan %s: %v", strings.Join(args, " "), err)
	}
	var lines []string
	for l := range strings.Lines(string(out)) {
		if !strings.HasPrefix(l, "#") {
			lines = append(lines, l)
		}
	}
	return strings.Join(lines, "")
}

func TestHostKeyRefused(t *testing.T) {
	f := opensshtest.New(t)
	known := f.Start(t, nil)
	unknown := f.Start(t, nil)
	changed := f.Start(t, nil)
	// Keep only the first two servers' lines: the second's is replaced by
	// one for another address.
	lines := strings.SplitAfter(readFile(t, f.KnownHosts), "\n")
	if err := os.WriteFile(f.KnownHosts, []byte(lines[0]+lines[2]), 0o600); err != nil {
		t.Fatal(err)
	}
	changed.Rekey(t)

	tests := []struct {
		name string
		s    *opensshtest.Server
		want []string
	}{
		{"unknown", unknown, []string{
			"host unknown (" + unknown.Addr() + ") is not in " + f.KnownHosts,
			"ssh-ed25519 key " + ssh.FingerprintSHA256(unknown.HostKey),
			fmt.Sprintf("ssh-keyscan -t ed25519 -p %d %s >> %s", unknown.Port, unknown.IP, f.KnownHosts),
		}},
		{"changed", changed, []string{
			"HOST KEY CHANGED for changed (" + changed.Addr() + ")",
			"ssh-ed25519 " + ssh.FingerprintSHA256(changed.HostKey),
			f.KnownHosts + ":2 (ssh-ed25519 ",
			"man-in-the-middle",
			"ssh-keygen -R",
		}},
	}
	pool := newPool(t, sshx.Options{})
	if _, err := pool.Run(t.Context(), f.Host("known", known), "true", nil, nil); err != nil {
		t.Fatalf("known host: %v", err)
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := pool.Run(t.Context(), f.Host(tt.name, tt.s), "true", nil, nil)
			if err == nil {
				t.Fatal("connected")
			}
			if k := fleet.KindOf(err); k != fleet.KindForbidden {
				t.Errorf("kind %v, want forbidden: %v", k, err)
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error does not say %q:\n%v", w, err)
				}
			}
		})
	}
}

func TestAuth(t *testing.T) {
	f := opensshtest.New(t)
	s := f.Start(t, nil)
	dir := t.TempDir()

	agentKey, agentPub := newKey(t)
	f.Trust(t, agentPub)
	sock := serveAgent(t, agentKey)

	stranger := filepath.Join(dir, "stranger")
	opensshtest.WriteClientKey(t, stranger)

	encrypted := filepath.Join(dir, "encrypted")
	_, priv, _ := ed25519.GenerateKey(rand.Reader)
	block, err := ssh.MarshalPrivateKeyWithPassphrase(priv, "", []byte("secret passphrase"))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(encrypted, pem.EncodeToMemory(block), 0o600); err != nil {
		t.Fatal(err)
	}

	tests := []struct {
		name       string
		identities []string
		agent      bool
		sock       string
		want       string // empty: success
	}{
		{"identity file", []string{f.IdentityFile}, false, "", ""},
		{"agent", nil, true, sock, ""},
		{"agent after a refused file", []string{stranger}, true, sock, ""},
		{"encrypted file, agent holds the key", []string{encrypted}, true, sock, ""},
		{"encrypted file", []string{encrypted}, false, "", "ssh-add " + encrypted},
		{"refused key", []string{stranger}, false, "", "accepted none of the keys"},
		{"agent without socket", nil, true, "", "SSH_AUTH_SOCK is not set"},
		{"missing file", []string{filepath.Join(dir, "nope")}, false, "", "no such file"},
		{"nothing", nil, false, "", "no way to authenticate"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			pool := newPool(t, sshx.Options{Getenv: func(k string) string {
				if k == "SSH_AUTH_SOCK" {
					return tt.sock
				}
				return ""
			}})
			h := f.Host("web-01", s)
			h.SSH.IdentityFiles, h.SSH.Agent = tt.identities, tt.agent
			var out bytes.Buffer
			_, err := pool.Run(t.Context(), h, "echo in", &out, nil)
			if tt.want == "" {
				if err != nil || out.String() != "in\n" {
					t.Fatalf("got %q, %v", out.String(), err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("error %v, want %q", err, tt.want)
			}
			if k := fleet.KindOf(err); k != fleet.KindForbidden {
				t.Errorf("kind %v, want forbidden", k)
			}
			if strings.Contains(err.Error(), "secret passphrase") {
				t.Error("the error shows the passphrase")
			}
		})
	}
}

func TestUnreachable(t *testing.T) {
	f := opensshtest.New(t)
	frozen := f.Start(t, nil)
	if err := frozen.Freeze(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { frozen.Thaw() })
	ip, port := opensshtest.FreeAddr(t)

	tests := []struct {
		name string
		host func() *fleet.Host
		want string
	}{
		{"frozen", func() *fleet.Host { return f.Host("frozen", frozen) }, "no answer within 500ms"},
		{"refused", func() *fleet.Host {
			h := f.Host("closed", frozen)
			h.Address, h.SSH.Port = ip, port
			return h
		}, "connection refused"},
	}
	pool := newPool(t, sshx.Options{})
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := tt.host()
			h.SSH.ConnectTimeout = 500 * time.Millisecond
			_, err := pool.Run(t.Context(), h, "true", nil, nil)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("error %v, want %q", err, tt.want)
			}
			if k := fleet.KindOf(err); k != fleet.KindUnavailable {
				t.Errorf("kind %v, want unavailable", k)
			}
		})
	}
}

// TestLostDuringCommand loses the connection under a running command: the
// server is killed, or frozen until keepalives give up.
func TestLostDuringCommand(t *testing.T) {
	tests := []struct {
		name string
		cut  func(*opensshtest.Server) error
	}{
		{"killed", func(s *opensshtest.Server) error { return s.Stop() }},
		{"frozen", func(s *opensshtest.Server) error { return s.Freeze() }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := opensshtest.New(t)
			s := f.Start(t, nil)
			h := f.Host("web-01", s)
			h.SSH.KeepaliveInterval, h.SSH.KeepaliveCount = 100*time.Millisecond, 3
			pool := newPool(t, sshx.Options{})
			started := make(chan struct{})
			out := &signalWriter{first: started}
			done := make(chan error, 1)
			go func() {
				_, err := pool.Run(t.Context(), h, "echo started; sleep 60", out, nil)
				done <- err
			}()
			select {
			case <-started:
			case err := <-done:
				t.Fatalf("ended before it started: %v", err)
			}
			if err := tt.cut(s); err != nil {
				t.Fatal(err)
			}
			err := <-done
			if err == nil || !strings.Contains(err.Error(), "lost during the command") {
				t.Fatalf("error %v, want a lost connection", err)
			}
			if k := fleet.KindOf(err); k != fleet.KindUnavailable {
				t.Errorf("kind %v, want unavailable", k)
			}
			s.Thaw()
		})
	}
}

type signalWriter struct {
	once  sync.Once
	first chan struct{}
}

func (w *signalWriter) Write(b []byte) (int, error) {
	w.once.Do(func() { close(w.first) })
	return len(b), nil
}

func TestContextInterrupts(t *testing.T) {
	f := opensshtest.New(t)
	h := f.Host("web-01", f.Start(t, nil))
	d := &countingDialer{}
	pool := newPool(t, sshx.Options{Dialer: d})
	// Cancel once the command runs, not while the remote shell starts: a
	// shell killed in its rc files may leave their locks behind.
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	started := make(chan struct{})
	go func() {
		<-started
		cancel()
	}()
	res, err := pool.Run(ctx, h, "echo started; sleep 60", &signalWriter{first: started}, nil)
	if !errors.Is(err, context.Canceled) || res.ExitCode != -1 {
		t.Fatalf("got %d, %v; want -1 and a cancellation", res.ExitCode, err)
	}
	// The connection survives an interrupted command.
	if _, err := pool.Run(t.Context(), h, "true", nil, nil); err != nil || d.n.Load() != 1 {
		t.Fatalf("next command: %v after %d connections", err, d.n.Load())
	}
}

func TestRunMany(t *testing.T) {
	f := opensshtest.New(t)
	var hosts []*fleet.Host
	for i := range 4 {
		s := f.Start(t, map[string]string{"ILLICO_HOST": fmt.Sprintf("web-%02d", i)})
		hosts = append(hosts, f.Host(fmt.Sprintf("web-%02d", i), s))
	}
	if err := f.Servers[2].Freeze(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.Servers[2].Thaw() })
	hosts[2].SSH.ConnectTimeout = time.Second

	var mu sync.Mutex
	got := map[string][]string{}
	cmd := `echo "hi from $ILLICO_HOST"; printf 'no newline'; echo warn >&2; test "$ILLICO_HOST" != web-01`
	results := sshx.RunMany(t.Context(), newPool(t, sshx.Options{}), hosts, cmd, sshx.ManyOptions{
		Forks:   2,
		Timeout: 30 * time.Second,
		OnLine: func(h *fleet.Host, stream, line string) {
			mu.Lock()
			defer mu.Unlock()
			got[h.Name] = append(got[h.Name], stream+": "+line)
		},
	})

	want := []struct {
		status sshx.Status
		code   int
	}{{sshx.StatusOK, 0}, {sshx.StatusFailed, 1}, {sshx.StatusUnreachable, -1}, {sshx.StatusOK, 0}}
	for i, r := range results {
		if r.Host != hosts[i] {
			t.Fatalf("result %d is for %s, want %s", i, r.Host.Name, hosts[i].Name)
		}
		if r.Status != want[i].status || r.ExitCode != want[i].code {
			t.Errorf("%s: %s exit %d (%v), want %s exit %d", r.Host.Name, r.Status, r.ExitCode, r.Err, want[i].status, want[i].code)
		}
		if r.Status == sshx.StatusUnreachable {
			if r.Err == nil || !strings.Contains(r.Err.Error(), "no answer within 1s") {
				t.Errorf("%s: error %v, want the handshake timeout", r.Host.Name, r.Err)
			}
			continue
		}
		name := r.Host.Name
		if string(r.Stdout) != "hi from "+name+"\nno newline" || string(r.Stderr) != "warn\n" {
			t.Errorf("%s: stdout %q stderr %q", name, r.Stdout, r.Stderr)
		}
		lines := got[name]
		if len(lines) != 3 || !contains(lines, "stdout: hi from "+name) || !contains(lines, "stdout: no newline") || !contains(lines, "stderr: warn") {
			t.Errorf("%s: lines %q", name, lines)
		}
	}
}

func TestRunManyLimits(t *testing.T) {
	f := opensshtest.New(t)
	h := f.Host("web-01", f.Start(t, nil))
	pool := newPool(t, sshx.Options{})
	tests := []struct {
		name       string
		cmd        string
		opts       sshx.ManyOptions
		status     sshx.Status
		wantOut    string
		wantErrMsg string
	}{
		{"output keeps its tail", "seq 1 1000", sshx.ManyOptions{MaxOutput: 8}, sshx.StatusOK, "99\n1000\n", ""},
		{"per-host timeout", "echo before; sleep 60", sshx.ManyOptions{Timeout: time.Second}, sshx.StatusFailed, "before\n", "timed out after 1s"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := sshx.RunMany(t.Context(), pool, []*fleet.Host{h}, tt.cmd, tt.opts)[0]
			if r.Status != tt.status || string(r.Stdout) != tt.wantOut {
				t.Errorf("%s, stdout %q (%v); want %s, %q", r.Status, r.Stdout, r.Err, tt.status, tt.wantOut)
			}
			if tt.wantErrMsg != "" && (r.Err == nil || !strings.Contains(r.Err.Error(), tt.wantErrMsg)) {
				t.Errorf("error %v, want %q", r.Err, tt.wantErrMsg)
			}
		})
	}
}

func contains(list []string, s string) bool {
	for _, l := range list {
		if l == s {
			return true
		}
	}
	return false
}

func readFile(t testing.TB, path string) string {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(data)
}

func newKey(t testing.TB) (ed25519.PrivateKey, ssh.PublicKey) {
	t.Helper()
	pub, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	sshPub, err := ssh.NewPublicKey(pub)
	if err != nil {
		t.Fatal(err)
	}
	return priv, sshPub
}

// serveAgent runs an ssh-agent holding key on a unix socket.
func serveAgent(t testing.TB, key ed25519.PrivateKey) string {
	t.Helper()
	keyring := agent.NewKeyring()
	if err := keyring.Add(agent.AddedKey{PrivateKey: key}); err != nil {
		t.Fatal(err)
	}
	sock := filepath.Join(t.TempDir(), "agent.sock")
	l, err := net.Listen("unix", sock)
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	t.Cleanup(func() {
		l.Close()
		wg.Wait()
	})
	wg.Go(func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			wg.Go(func() {
				defer c.Close()
				agent.ServeAgent(keyring, c)
			})
		}
	})
	return sock
}
