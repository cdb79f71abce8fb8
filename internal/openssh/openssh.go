// Package openssh starts and stops real OpenSSH servers, for the lab's simulated
// hosts and for tests that must talk to a genuine sshd rather than a fake.
//
// A server is started detached from its starter (its own session, no
// context tying it to a caller), because the lab's servers outlive the
// `illico lab up` process. It is stopped by walking /proc for every descendant,
// since OpenSSH forks a child per connection that calls setsid() and so
// escapes a process-group kill.
package openssh

import (
	"bufio"
	"bytes"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/pem"
	"errors"
	"fmt"
	"maps"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"golang.org/x/crypto/ssh"
)

// Config says how to run one sshd.
type Config struct {
	// Dir holds sshd_config, the pid file (sshd.pid) and the log (sshd.log).
	Dir string
	// ListenAddr is "127.x.y.z:port".
	ListenAddr string
	// HostKeyPath is an OpenSSH private key file (0600), see GenerateHostKey.
	HostKeyPath string
	// AuthorizedKeys is the path of an authorized_keys file, used for every user.
	AuthorizedKeys string
	// Env is set in every session (sshd_config SetEnv). It overrides what
	// sshd itself sets, PATH included. HOME defaults to Dir/home.
	Env map[string]string
}

// Server is a running sshd.
type Server struct {
	cfg  Config
	pid  int
	done chan struct{} // closed once the listener has been reaped

	mu sync.Mutex
	// stopped are the processes Freeze stopped, for Thaw to resume: a
	// stopped process forks no child, so the tree cannot have grown.
	stopped []int
}

// Available returns the absolute path of sshd, or an error that says it is
// not installed.
func Available() (string, error) {
	// sshd refuses to start unless run by absolute path, so a PATH lookup
	// is only the last resort after the places distributions use.
	candidates := []string{"/usr/sbin/sshd", "/usr/local/sbin/sshd", "/usr/bin/sshd", "/sbin/sshd"}
	for _, p := range candidates {
		if fi, err := os.Stat(p); err == nil && !fi.IsDir() && fi.Mode()&0o111 != 0 {
			return p, nil
		}
	}
	if p, err := exec.LookPath("sshd"); err == nil {
		if abs, err := filepath.Abs(p); err == nil {
			return abs, nil
		}
	}
	return "", fmt.Errorf("OpenSSH server (sshd) is not installed: looked in %s and $PATH (on Debian: apt-get install openssh-server)",
		strings.Join(candidates, ", "))
}

// GenerateHostKey writes a new ed25519 private key in OpenSSH format to path
// (mode 0600, replacing any file there) and returns its public key.
func GenerateHostKey(path string) (ssh.PublicKey, error) {
	pub, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		return nil, fmt.Errorf("generate host key: %w", err)
	}
	block, err := ssh.MarshalPrivateKey(priv, "illico host key")
	if err != nil {
		return nil, fmt.Errorf("encode host key: %w", err)
	}
	// Write beside and rename, so that a running sshd never reads half a key.
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, pem.EncodeToMemory(block), 0o600); err != nil {
		return nil, fmt.Errorf("write host key: %w", err)
	}
	if err := os.Rename(tmp, path); err != nil {
		os.Remove(tmp)
		return nil, fmt.Errorf("write host key: %w", err)
	}
	sshPub, err := ssh.NewPublicKey(pub)
	if err != nil {
		return nil, fmt.Errorf("host key: %w", err)
	}
	return sshPub, nil
}

// Start runs sshd with cfg and returns once its port answers with an SSH
// banner. The server is detached: it keeps running if the caller exits, and
// must be stopped with Stop or KillTree.
func Start(cfg Config) (*Server, error) {
	bin, err := Available()
	if err != nil {
		return nil, err
	}
	if err := checkConfig(cfg); err != nil {
		return nil, err
	}
	if err := os.MkdirAll(cfg.Dir, 0o755); err != nil {
		return nil, fmt.Errorf("sshd directory: %w", err)
	}
	if os.Geteuid() == 0 {
		// As root, privilege separation chroots into this directory and
		// refuses to start without it; a fresh container lacks it.
		if err := os.MkdirAll("/run/sshd", 0o755); err != nil {
			return nil, fmt.Errorf("sshd privilege separation directory: %w", err)
		}
	}
	// Each server's sessions get a home of their own, as a separate host
	// would: the login shell then reads no startup file of this machine's
	// user, whose work (a pyenv rehash under a lock, say) would slow every
	// session and make hundreds at once wait on each other.
	if _, ok := cfg.Env["HOME"]; !ok {
		home := filepath.Join(cfg.Dir, "home")
		if err := os.MkdirAll(home, 0o755); err != nil {
			return nil, fmt.Errorf("sshd home directory: %w", err)
		}
		env := map[string]string{"HOME": home}
		maps.Copy(env, cfg.Env)
		cfg.Env = env
	}
	major, minor := version(bin)
	confPath := filepath.Join(cfg.Dir, "sshd_config")
	if err := os.WriteFile(confPath, []byte(configText(cfg, major, minor)), 0o600); err != nil {
		return nil, fmt.Errorf("write sshd_config: %w", err)
	}
	logPath := filepath.Join(cfg.Dir, "sshd.log")
	os.Remove(logPath)

	cmd := exec.Command(bin, "-D", "-f", confPath, "-E", logPath)
	cmd.Dir = cfg.Dir
	// Its own session (and so its own process group): a Ctrl-C or a hangup
	// of the starter's terminal does not reach it, and the starter's exit
	// does not orphan its process group, which would SIGHUP and SIGCONT a
	// frozen server.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start sshd on %s: %w", cfg.ListenAddr, err)
	}
	s := &Server{cfg: cfg, pid: cmd.Process.Pid, done: make(chan struct{})}
	go func() {
		cmd.Wait()
		close(s.done)
	}()
	if err := s.waitReady(10 * time.Second); err != nil {
		KillTree(s.pid)
		s.reap(2 * time.Second)
		return nil, err
	}
	return s, nil
}

func checkConfig(cfg Config) error {
	var errs []error
	if cfg.Dir == "" {
		errs = append(errs, errors.New("sshd: Dir is not set"))
	}
	if _, _, err := net.SplitHostPort(cfg.ListenAddr); err != nil {
		errs = append(errs, fmt.Errorf("sshd: listen address %q is not host:port", cfg.ListenAddr))
	}
	if cfg.HostKeyPath == "" {
		errs = append(errs, errors.New("sshd: HostKeyPath is not set"))
	}
	if cfg.AuthorizedKeys == "" {
		errs = append(errs, errors.New("sshd: AuthorizedKeys is not set"))
	}
	for k, v := range cfg.Env {
		if k == "" || strings.ContainsAny(k, "= \t\r\n\"") {
			errs = append(errs, fmt.Errorf("sshd: environment variable name %q is not valid", k))
		}
		if strings.ContainsAny(v, "\r\n") {
			errs = append(errs, fmt.Errorf("sshd: environment variable %s holds a newline", k))
		}
	}
	return errors.Join(errs...)
}

// version asks sshd for its version ("OpenSSH_9.2p1, ..." on stderr); 0, 0
// when it cannot tell.
func version(bin string) (major, minor int) {
	out, _ := exec.Command(bin, "-V").CombinedOutput()
	m := regexp.MustCompile(`OpenSSH_(\d+)\.(\d+)`).FindSubmatch(out)
	if m == nil {
		return 0, 0
	}
	major, _ = strconv.Atoi(string(m[1]))
	minor, _ = strconv.Atoi(string(m[2]))
	return major, minor
}

func configText(cfg Config, major, minor int) string {
	var b strings.Builder
	line := func(format string, args ...any) { fmt.Fprintf(&b, format+"\n", args...) }
	line("# Written by illico; rewritten at every start.")
	line("ListenAddress %s", cfg.ListenAddr)
	line("HostKey %s", quote(cfg.HostKeyPath))
	line("AuthorizedKeysFile %s", quote(cfg.AuthorizedKeys))
	line("PidFile %s", quote(filepath.Join(cfg.Dir, "sshd.pid")))
	// The lab's files live in a temporary directory whose modes sshd's
	// checks would reject.
	line("StrictModes no")
	line("UsePAM no")
	line("PasswordAuthentication no")
	line("KbdInteractiveAuthentication no")
	line("PermitRootLogin prohibit-password")
	line("LogLevel ERROR")
	// A rollout opens a few hundred connections at once; sshd's default
	// (10:30:100) drops them at random.
	line("MaxStartups 1000")
	line("MaxSessions 64")
	line("UseDNS no")
	line("Subsystem sftp internal-sftp")
	if major > 9 || (major == 9 && minor >= 8) {
		// Since 9.8, failed or abandoned connections from one source get
		// it refused for a while: a chaos drill would lock out the client.
		line("PerSourcePenalties no")
	}
	if len(cfg.Env) > 0 {
		keys := make([]string, 0, len(cfg.Env))
		for k := range cfg.Env {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		b.WriteString("SetEnv")
		for _, k := range keys {
			b.WriteString(" " + quote(k+"="+cfg.Env[k]))
		}
		b.WriteString("\n")
	}
	return b.String()
}

// quote makes s one sshd_config argument, whatever it holds.
func quote(s string) string {
	return `"` + strings.NewReplacer(`\`, `\\`, `"`, `\"`).Replace(s) + `"`
}

// waitReady waits until the server's port answers with an SSH banner, the
// server dies, or timeout passes.
func (s *Server) waitReady(timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	var last error
	for attempt := 0; attempt < 1000 && time.Now().Before(deadline); attempt++ {
		select {
		case <-s.done:
			return fmt.Errorf("sshd on %s exited at start: %s", s.cfg.ListenAddr, s.logTail())
		default:
		}
		if last = banner(s.cfg.ListenAddr, time.Until(deadline)); last == nil {
			return nil
		}
		select {
		case <-s.done:
		case <-time.After(10 * time.Millisecond):
		}
	}
	return fmt.Errorf("sshd on %s did not answer within %s (%v): %s", s.cfg.ListenAddr, timeout, last, s.logTail())
}

func banner(addr string, timeout time.Duration) error {
	timeout = min(timeout, 2*time.Second)
	conn, err := net.DialTimeout("tcp", addr, timeout)
	if err != nil {
		return err
	}
	defer conn.Close()
	conn.SetDeadline(time.Now().Add(timeout))
	line, err := bufio.NewReader(conn).ReadString('\n')
	if err != nil {
		return fmt.Errorf("read banner: %w", err)
	}
	if !strings.HasPrefix(line, "SSH-") {
		return fmt.Errorf("not an SSH banner: %q", strings.TrimSpace(line))
	}
	return nil
}

// logTail is the end of the server's log, for error messages.
func (s *Server) logTail() string {
	data, err := os.ReadFile(filepath.Join(s.cfg.Dir, "sshd.log"))
	if err != nil || len(bytes.TrimSpace(data)) == 0 {
		return "sshd logged nothing"
	}
	const max = 2000
	if len(data) > max {
		data = data[len(data)-max:]
	}
	return "sshd log: " + strings.TrimSpace(string(data))
}

// Pid is the process id of the listening sshd.
func (s *Server) Pid() int { return s.pid }

// Addr is the address the server listens on.
func (s *Server) Addr() string { return s.cfg.ListenAddr }

// Stop kills the server and every session it serves, and waits until the
// listener is gone. Stopping a stopped server is not an error.
func (s *Server) Stop() error {
	select {
	case <-s.done:
		return nil
	default:
	}
	if err := KillTree(s.pid); err != nil {
		return fmt.Errorf("stop sshd on %s: %w", s.cfg.ListenAddr, err)
	}
	return s.reap(5 * time.Second)
}

func (s *Server) reap(timeout time.Duration) error {
	select {
	case <-s.done:
		return nil
	case <-time.After(timeout):
		return fmt.Errorf("sshd on %s (pid %d) still running %s after SIGKILL", s.cfg.ListenAddr, s.pid, timeout)
	}
}

// Freeze stops the server and its sessions with SIGSTOP: connections are
// still accepted by the kernel, but nothing answers, as behind a partition.
func (s *Server) Freeze() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	pids, err := freezeTree(s.pid)
	s.stopped = append(s.stopped, pids...)
	if err != nil {
		return fmt.Errorf("freeze sshd on %s: %w", s.cfg.ListenAddr, err)
	}
	return nil
}

// Thaw resumes a frozen server: the processes Freeze stopped, without a
// walk of /proc, so that a datacenter of frozen hosts comes back at once
// even on a machine busy with the connections queued up meanwhile.
func (s *Server) Thaw() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, p := range s.stopped {
		if err := syscall.Kill(p, syscall.SIGCONT); err != nil && !errors.Is(err, syscall.ESRCH) {
			return fmt.Errorf("thaw sshd on %s: resume pid %d: %w", s.cfg.ListenAddr, p, err)
		}
	}
	s.stopped = nil
	return nil
}

// KillTree kills pid and all its descendants with SIGKILL. It first stops
// the whole tree, so that nothing forks while it is being walked. A pid
// that no longer exists is not an error. It is meant for a pid read back
// from a pid file too, after the process that started the server is gone.
func KillTree(pid int) error {
	pids, err := freezeTree(pid)
	if err != nil {
		return err
	}
	for _, p := range pids {
		if err := syscall.Kill(p, syscall.SIGKILL); err != nil && !errors.Is(err, syscall.ESRCH) {
			return fmt.Errorf("kill pid %d: %w", p, err)
		}
	}
	return nil
}

// freezeTree sends SIGSTOP to pid and its descendants until a walk of
// /proc finds no new one, and returns them all, pid first: on an error,
// those it stopped before it.
func freezeTree(pid int) ([]int, error) {
	if pid <= 1 || pid == os.Getpid() {
		return nil, fmt.Errorf("refusing to signal pid %d", pid)
	}
	stopped := map[int]bool{}
	var all []int
	for round := 0; round < 20; round++ {
		pids, err := tree(pid)
		if err != nil {
			return all, err
		}
		fresh := 0
		for _, p := range pids {
			if stopped[p] {
				continue
			}
			fresh++
			stopped[p] = true
			all = append(all, p)
			if err := syscall.Kill(p, syscall.SIGSTOP); err != nil && !errors.Is(err, syscall.ESRCH) {
				return all, fmt.Errorf("stop pid %d: %w", p, err)
			}
		}
		if fresh == 0 {
			break
		}
	}
	return all, nil
}

// tree returns pid and its living descendants, read from /proc. It is empty
// when pid is gone.
func tree(pid int) ([]int, error) {
	children, err := childrenByParent()
	if err != nil {
		return nil, err
	}
	if _, err := os.Stat("/proc/" + strconv.Itoa(pid)); err != nil {
		return nil, nil
	}
	out := []int{pid}
	for i := 0; i < len(out) && i < 100000; i++ {
		out = append(out, children[out[i]]...)
	}
	return out, nil
}

func childrenByParent() (map[int][]int, error) {
	entries, err := os.ReadDir("/proc")
	if err != nil {
		return nil, fmt.Errorf("list processes: %w", err)
	}
	children := map[int][]int{}
	for _, e := range entries {
		p, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		st, err := ReadProcStat(p)
		if err != nil {
			continue // gone meanwhile
		}
		if ppid, err := st.Parent(); err == nil {
			children[ppid] = append(children[ppid], p)
		}
	}
	return children, nil
}
