package openssh_test

import (
	"bufio"
	"bytes"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/crypto/ssh"

	"github.com/illico-dev/illico/internal/openssh"
	"github.com/illico-dev/illico/internal/openssh/opensshtest"
)

func dial(t testing.TB, f *opensshtest.Fleet, s *opensshtest.Server) *ssh.Client {
	t.Helper()
	c, err := ssh.Dial("tcp", s.Addr(), &ssh.ClientConfig{
		User:            f.User,
		Auth:            []ssh.AuthMethod{ssh.PublicKeys(f.Signer)},
		HostKeyCallback: ssh.FixedHostKey(s.HostKey),
		Timeout:         5 * time.Second,
	})
	if err != nil {
		t.Fatalf("dial %s: %v", s.Addr(), err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

func output(t testing.TB, c *ssh.Client, cmd string) string {
	t.Helper()
	sess, err := c.NewSession()
	if err != nil {
		t.Fatal(err)
	}
	defer sess.Close()
	out, err := sess.CombinedOutput(cmd)
	if err != nil {
		t.Fatalf("%s: %v: %s", cmd, err, out)
	}
	return string(out)
}

func TestSessionEnvironment(t *testing.T) {
	f := opensshtest.New(t)
	s := f.Start(t, map[string]string{
		"ILLICO_HOST": `web "01" \ lab`,
		"PATH":        "/opt/illico-test/bin:/usr/bin:/bin",
	})
	c := dial(t, f, s)
	// SetEnv does set PATH, but the user's shell reads its rc file (bash
	// does under sshd even when not interactive), which may prepend to it.
	tests := []struct{ cmd, want string }{
		{"echo hello", "hello\n"},
		{`printf '%s\n' "$ILLICO_HOST"`, "web \"01\" \\ lab\n"},
		{`printf '%s\n' "$PATH"`, "/opt/illico-test/bin:/usr/bin:/bin\n"},
	}
	for _, tt := range tests {
		t.Run(tt.cmd, func(t *testing.T) {
			if got := output(t, c, tt.cmd); !strings.HasSuffix(got, tt.want) {
				t.Errorf("got %q, want it to end with %q", got, tt.want)
			}
		})
	}
}

func TestStopKillsSessions(t *testing.T) {
	f := opensshtest.New(t)
	s := f.Start(t, nil)
	c := dial(t, f, s)
	sess, err := c.NewSession()
	if err != nil {
		t.Fatal(err)
	}
	out, err := sess.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := sess.Start("echo $$; exec sleep 300"); err != nil {
		t.Fatal(err)
	}
	line, err := bufio.NewReader(out).ReadString('\n')
	if err != nil {
		t.Fatal(err)
	}
	pid, err := strconv.Atoi(strings.TrimSpace(line))
	if err != nil {
		t.Fatal(err)
	}
	if !alive(pid) {
		t.Fatalf("session pid %d is not running", pid)
	}

	if err := s.Stop(); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "session process to die", func() bool { return !alive(pid) })
	if alive(s.Pid()) {
		t.Errorf("sshd pid %d still running", s.Pid())
	}
	if conn, err := net.DialTimeout("tcp", s.Addr(), time.Second); err == nil {
		conn.Close()
		t.Errorf("%s still accepts connections after Stop", s.Addr())
	}
	if err := s.Stop(); err != nil {
		t.Errorf("second Stop: %v", err)
	}
}

func TestFreezeThaw(t *testing.T) {
	f := opensshtest.New(t)
	s := f.Start(t, nil)
	if err := s.Freeze(); err != nil {
		t.Fatal(err)
	}
	conn, err := net.DialTimeout("tcp", s.Addr(), time.Second)
	if err != nil {
		t.Fatalf("a frozen server must still accept TCP: %v", err)
	}
	defer conn.Close()
	conn.SetReadDeadline(time.Now().Add(300 * time.Millisecond))
	if n, err := conn.Read(make([]byte, 64)); err == nil {
		t.Fatalf("a frozen server answered %d bytes", n)
	}

	if err := s.Thaw(); err != nil {
		t.Fatal(err)
	}
	// The connection made while frozen is served once thawed.
	conn.SetReadDeadline(time.Now().Add(5 * time.Second))
	line, err := bufio.NewReader(conn).ReadString('\n')
	if err != nil || !strings.HasPrefix(line, "SSH-") {
		t.Fatalf("after Thaw: banner %q, %v", line, err)
	}
	c := dial(t, f, s)
	if got := output(t, c, "echo back"); got != "back\n" {
		t.Errorf("got %q", got)
	}
}

// TestManyConnections opens 300 authenticated connections to one server at
// once, as a large run through one bastion would: none may be dropped.
func TestManyConnections(t *testing.T) {
	if testing.Short() {
		t.Skip("300 SSH handshakes take a few seconds")
	}
	f := opensshtest.New(t)
	s := f.Start(t, nil)
	const n = 300
	errs := make(chan error, n)
	clients := make(chan *ssh.Client, n)
	var wg sync.WaitGroup
	for range n {
		wg.Go(func() {
			c, err := ssh.Dial("tcp", s.Addr(), &ssh.ClientConfig{
				User:            f.User,
				Auth:            []ssh.AuthMethod{ssh.PublicKeys(f.Signer)},
				HostKeyCallback: ssh.FixedHostKey(s.HostKey),
				Timeout:         60 * time.Second,
			})
			if err != nil {
				errs <- err
				return
			}
			clients <- c
		})
	}
	wg.Wait()
	close(errs)
	close(clients)
	for c := range clients {
		c.Close()
	}
	failed := 0
	for err := range errs {
		if failed++; failed <= 3 {
			t.Error(err)
		}
	}
	if failed > 0 {
		t.Errorf("%d of %d connections failed", failed, n)
	}
}

func TestKillTreeFromPidFile(t *testing.T) {
	f := opensshtest.New(t)
	s := f.Start(t, nil)
	data, err := os.ReadFile(filepath.Join(s.Dir, "sshd.pid"))
	if err != nil {
		t.Fatal(err)
	}
	pid, err := strconv.Atoi(strings.TrimSpace(string(data)))
	if err != nil {
		t.Fatal(err)
	}
	if pid != s.Pid() {
		t.Errorf("pid file says %d, Pid() %d", pid, s.Pid())
	}
	if err := openssh.KillTree(pid); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "sshd to die", func() bool { return !alive(pid) })
	if err := openssh.KillTree(pid); err != nil {
		t.Errorf("KillTree of a dead pid: %v", err)
	}
}

func TestStartFails(t *testing.T) {
	opensshtest.Require(t)
	dir := t.TempDir()
	ip, port := opensshtest.FreeAddr(t)
	addr := net.JoinHostPort(ip, strconv.Itoa(port))
	keys := filepath.Join(dir, "authorized_keys")
	if err := os.WriteFile(keys, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		cfg  openssh.Config
		want string
	}{
		{"missing host key", openssh.Config{Dir: dir, ListenAddr: addr, HostKeyPath: filepath.Join(dir, "nope"), AuthorizedKeys: keys}, "sshd log:"},
		{"bad address", openssh.Config{Dir: dir, ListenAddr: "127.0.0.1", HostKeyPath: "k", AuthorizedKeys: keys}, "not host:port"},
		{"bad env", openssh.Config{Dir: dir, ListenAddr: addr, HostKeyPath: "k", AuthorizedKeys: keys, Env: map[string]string{"A=B": "c"}}, "not valid"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, err := openssh.Start(tt.cfg)
			if err == nil {
				s.Stop()
				t.Fatal("started")
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error %q does not say %q", err, tt.want)
			}
		})
	}
}

func TestGenerateHostKey(t *testing.T) {
	path := filepath.Join(t.TempDir(), "key")
	pub, err := openssh.GenerateHostKey(path)
	if err != nil {
		t.Fatal(err)
	}
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o600 {
		t.Errorf("mode %v, want 0600", fi.Mode().Perm())
	}
	data, _ := os.ReadFile(path)
	signer, err := ssh.ParsePrivateKey(data)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(signer.PublicKey().Marshal(), pub.Marshal()) || pub.Type() != ssh.KeyAlgoED25519 {
		t.Errorf("returned key %s does not match the file's", pub.Type())
	}
}

// alive reports whether pid runs (a zombie does not).
func alive(pid int) bool {
	data, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return false
	}
	i := bytes.LastIndexByte(data, ')')
	return i < 0 || i+2 >= len(data) || data[i+2] != 'Z'
}

func waitFor(t testing.TB, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func BenchmarkStartStop(b *testing.B) {
	f := opensshtest.New(b)
	for b.Loop() {
		ip, port := opensshtest.FreeAddr(b)
		s, err := openssh.Start(openssh.Config{
			Dir:            b.TempDir(),
			ListenAddr:     net.JoinHostPort(ip, strconv.Itoa(port)),
			HostKeyPath:    hostKey(b),
			AuthorizedKeys: f.AuthorizedKeys,
		})
		if err != nil {
			b.Fatal(err)
		}
		if err := s.Stop(); err != nil {
			b.Fatal(err)
		}
	}
}

func hostKey(b testing.TB) string {
	path := filepath.Join(b.TempDir(), "host_key")
	if _, err := openssh.GenerateHostKey(path); err != nil {
		b.Fatal(err)
	}
	return path
}
