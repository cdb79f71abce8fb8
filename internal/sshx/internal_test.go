package sshx

import (
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"golang.org/x/crypto/ssh"
	"golang.org/x/crypto/ssh/knownhosts"
)

func TestHostKeyAlgorithms(t *testing.T) {
	edPub, _, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	ecPriv, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	ed, _ := ssh.NewPublicKey(edPub)
	ec, _ := ssh.NewPublicKey(&ecPriv.PublicKey)
	path := filepath.Join(t.TempDir(), "known_hosts")
	content := knownhosts.Line([]string{"127.0.0.5:2222"}, ed) + "\n" +
		knownhosts.Line([]string{"127.0.0.5:2222"}, ec) + "\n" +
		knownhosts.Line([]string{"127.0.0.6"}, ec) + "\n"
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	cb, err := knownhosts.New(path)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		addr string
		want []string
	}{
		{"127.0.0.5:2222", []string{ssh.KeyAlgoED25519, ssh.KeyAlgoECDSA256}},
		{"127.0.0.6:22", []string{ssh.KeyAlgoECDSA256}},
		{"127.0.0.7:22", nil},
		{"127.0.0.5:22", nil},
	}
	for _, tt := range tests {
		t.Run(tt.addr, func(t *testing.T) {
			remote, err := net.ResolveTCPAddr("tcp", tt.addr)
			if err != nil {
				t.Fatal(err)
			}
			got := hostKeyAlgorithms(cb, tt.addr, remote)
			slices.Sort(got)
			want := slices.Sorted(slices.Values(tt.want))
			if !slices.Equal(got, want) {
				t.Errorf("got %v, want %v", got, want)
			}
		})
	}
	if got := algorithmsFor(ssh.KeyAlgoRSA); !slices.Contains(got, ssh.KeyAlgoRSASHA512) {
		t.Errorf("rsa algorithms %v lack rsa-sha2-512", got)
	}
}

func TestTail(t *testing.T) {
	tests := []struct {
		name   string
		writes []string
		max    int
		want   string
	}{
		{"short", []string{"ab", "cd"}, 8, "abcd"},
		{"cut", []string{"abcdef", "ghij"}, 4, "ghij"},
		{"one big write", []string{"0123456789"}, 3, "789"},
		{"many small", strings.Split("abcdefghijklmnop", ""), 5, "lmnop"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tl := &tail{max: tt.max}
			for _, w := range tt.writes {
				tl.Write([]byte(w))
			}
			if got := string(tl.bytes()); got != tt.want {
				t.Errorf("got %q, want %q", got, tt.want)
			}
		})
	}
}

// FuzzLines checks that the line splitter, fed in any chunks, gives back
// the text it was given.
func FuzzLines(f *testing.F) {
	f.Add([]byte("one\ntwo\n"), uint8(3))
	f.Add([]byte("no newline"), uint8(1))
	f.Add([]byte("\n\n\r\n"), uint8(0))
	f.Fuzz(func(t *testing.T, text []byte, chunk uint8) {
		var got []string
		l := &lines{emit: func(s string) { got = append(got, s) }}
		size := int(chunk) + 1
		for b := text; len(b) > 0; {
			n := min(size, len(b))
			l.Write(b[:n])
			b = b[n:]
		}
		l.flush()
		// Longer texts may be cut into pieces without a newline.
		if len(text) < maxLine && strings.Join(got, "\n") != strings.TrimSuffix(string(text), "\n") {
			t.Errorf("lines %q from %q", got, text)
		}
	})
}
