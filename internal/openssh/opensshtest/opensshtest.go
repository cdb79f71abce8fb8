// Package opensshtest gives tests a small fleet of real sshd servers on
// loopback: a client key they all trust, a known_hosts file that lists them,
// and fleet.Host values that point at them.
package opensshtest

import (
	"crypto/ed25519"
	"crypto/rand"
	"encoding/binary"
	"encoding/pem"
	"fmt"
	"net"
	"os"
	"os/user"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"golang.org/x/crypto/ssh"
	"golang.org/x/crypto/ssh/knownhosts"

	"github.com/illico-dev/illico/internal/fleet"
	"github.com/illico-dev/illico/internal/openssh"
)

// Require skips the test when sshd is not installed, or fails it under CI,
// where a missing sshd must not pass unnoticed.
func Require(t testing.TB) {
	t.Helper()
	if _, err := openssh.Available(); err != nil {
		if os.Getenv("CI") != "" {
			t.Fatal(err)
		}
		t.Skip(err)
	}
}

// Fleet is a set of servers that trust one client key.
type Fleet struct {
	Dir            string
	User           string
	IdentityFile   string
	Signer         ssh.Signer
	AuthorizedKeys string
	KnownHosts     string
	Servers        []*Server
}

// Server is one sshd of a Fleet.
type Server struct {
	*openssh.Server
	IP          string
	Port        int
	Dir         string
	HostKeyPath string
	HostKey     ssh.PublicKey
	cfg         openssh.Config
}

// New makes a fleet with a fresh client key and no server yet.
func New(t testing.TB) *Fleet {
	t.Helper()
	Require(t)
	dir := t.TempDir()
	u, err := user.Current()
	if err != nil {
		t.Fatal(err)
	}
	f := &Fleet{
		Dir:            dir,
		User:           u.Username,
		IdentityFile:   filepath.Join(dir, "id_ed25519"),
		AuthorizedKeys: filepath.Join(dir, "authorized_keys"),
		KnownHosts:     filepath.Join(dir, "known_hosts"),
	}
	f.Signer = WriteClientKey(t, f.IdentityFile)
	f.Trust(t, f.Signer.PublicKey())
	if err := os.WriteFile(f.KnownHosts, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	return f
}

// WriteClientKey writes a new unencrypted ed25519 key in OpenSSH format.
func WriteClientKey(t testing.TB, path string) ssh.Signer {
	t.Helper()
	_, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	block, err := ssh.MarshalPrivateKey(priv, "test")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, pem.EncodeToMemory(block), 0o600); err != nil {
		t.Fatal(err)
	}
	signer, err := ssh.NewSignerFromKey(priv)
	if err != nil {
		t.Fatal(err)
	}
	return signer
}

// Trust adds key to the fleet's authorized_keys.
func (f *Fleet) Trust(t testing.TB, key ssh.PublicKey) {
	t.Helper()
	appendFile(t, f.AuthorizedKeys, ssh.MarshalAuthorizedKey(key))
}

// Start starts a server on a fresh loopback address, adds its key to the
// fleet's known_hosts, and stops it when the test ends.
func (f *Fleet) Start(t testing.TB, env map[string]string) *Server {
	t.Helper()
	ip, port := FreeAddr(t)
	return f.start(t, ip, port, env)
}

// StartIPv6 starts a server on ::1, the IPv6 loopback, like Start; its
// known_hosts line is [::1]:PORT, as OpenSSH writes it. The test is
// skipped (failed under CI) where the machine has no IPv6 loopback.
func (f *Fleet) StartIPv6(t testing.TB, env map[string]string) *Server {
	t.Helper()
	return f.start(t, "::1", FreeIPv6Port(t), env)
}

func (f *Fleet) start(t testing.TB, ip string, port int, env map[string]string) *Server {
	t.Helper()
	dir := filepath.Join(f.Dir, fmt.Sprintf("sshd-%d", len(f.Servers)))
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	s := &Server{IP: ip, Port: port, Dir: dir, HostKeyPath: filepath.Join(dir, "host_key")}
	var err error
	if s.HostKey, err = openssh.GenerateHostKey(s.HostKeyPath); err != nil {
		t.Fatal(err)
	}
	s.cfg = openssh.Config{
		Dir:            dir,
		ListenAddr:     s.Addr(),
		HostKeyPath:    s.HostKeyPath,
		AuthorizedKeys: f.AuthorizedKeys,
		Env:            env,
	}
	if s.Server, err = openssh.Start(s.cfg); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := s.Stop(); err != nil {
			t.Error(err)
		}
	})
	appendFile(t, f.KnownHosts, []byte(knownhosts.Line([]string{s.Addr()}, s.HostKey)+"\n"))
	f.Servers = append(f.Servers, s)
	return s
}

// Rekey gives the server a new host key, which known_hosts does not hold,
// and restarts it on the same address.
func (s *Server) Rekey(t testing.TB) {
	t.Helper()
	if err := s.Stop(); err != nil {
		t.Fatal(err)
	}
	var err error
	if s.HostKey, err = openssh.GenerateHostKey(s.HostKeyPath); err != nil {
		t.Fatal(err)
	}
	if s.Server, err = openssh.Start(s.cfg); err != nil {
		t.Fatal(err)
	}
}

// Addr is the server's host:port.
func (s *Server) Addr() string { return net.JoinHostPort(s.IP, strconv.Itoa(s.Port)) }

// SSH returns settings that reach the fleet's servers with its key.
func (f *Fleet) SSH() fleet.SSH {
	return fleet.SSH{
		User:              f.User,
		Port:              22,
		KnownHosts:        f.KnownHosts,
		IdentityFiles:     []string{f.IdentityFile},
		ConnectTimeout:    30 * time.Second,
		KeepaliveInterval: 5 * time.Second,
		KeepaliveCount:    3,
	}
}

// Host returns a host named name that points at s.
func (f *Fleet) Host(name string, s *Server) *fleet.Host {
	h := &fleet.Host{Name: name, Address: s.IP, Datacenter: "lab", Site: "lab", SSH: f.SSH(), Commands: fleet.DefaultCommands}
	h.SSH.Port = s.Port
	return h
}

// FreeAddr returns a loopback address of its own (127.x.y.z, distinct
// between calls with high probability) and a port free on it now.
func FreeAddr(t testing.TB) (string, int) {
	t.Helper()
	for range 100 {
		var b [4]byte
		if _, err := rand.Read(b[:]); err != nil {
			t.Fatal(err)
		}
		n := binary.BigEndian.Uint32(b[:])
		ip := fmt.Sprintf("127.%d.%d.%d", 1+n%250, (n>>8)%256, 1+(n>>16)%250)
		l, err := net.Listen("tcp", ip+":0")
		if err != nil {
			continue
		}
		port := l.Addr().(*net.TCPAddr).Port
		l.Close()
		return ip, port
	}
	t.Fatal("no free loopback address after 100 tries")
	return "", 0
}

// FreeIPv6Port returns a port free on ::1 now. Where ::1 is not
// configured (IPv6 disabled in a container) it skips the test, or fails
// it under CI, which must run the IPv6 tests.
func FreeIPv6Port(t testing.TB) int {
	t.Helper()
	l, err := net.Listen("tcp", "[::1]:0")
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("no IPv6 loopback: %v", err)
		}
		t.Skipf("no IPv6 loopback (::1) on this machine: %v", err)
	}
	port := l.Addr().(*net.TCPAddr).Port
	l.Close()
	return port
}

func appendFile(t testing.TB, path string, data []byte) {
	t.Helper()
	f, err := os.OpenFile(path, os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o600)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if _, err := f.Write(data); err != nil {
		t.Fatal(err)
	}
}
