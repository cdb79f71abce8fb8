package cli

import (
	"bytes"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// openPTY returns a new pseudo-terminal's two ends.
func openPTY(t *testing.T) (master, term *os.File) {
	t.Helper()
	m, err := os.OpenFile("/dev/ptmx", os.O_RDWR|unix.O_NOCTTY, 0)
	if err != nil {
		t.Skipf("no pseudo-terminal: %v", err)
	}
	t.Cleanup(func() { m.Close() })
	if err := unix.IoctlSetPointerInt(int(m.Fd()), unix.TIOCSPTLCK, 0); err != nil {
		t.Fatal(err)
	}
	n, err := unix.IoctlGetInt(int(m.Fd()), unix.TIOCGPTN)
	if err != nil {
		t.Fatal(err)
	}
	s, err := os.OpenFile(fmt.Sprintf("/dev/pts/%d", n), os.O_RDWR|unix.O_NOCTTY, 0)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return m, s
}

func echoes(t *testing.T, f *os.File) bool {
	t.Helper()
	tio, err := unix.IoctlGetTermios(int(f.Fd()), unix.TCGETS)
	if err != nil {
		t.Fatal(err)
	}
	return tio.Lflag&unix.ECHO != 0
}

// TestPasswordFromTerminal types a password twice on a real
// pseudo-terminal: it is read, never echoed, and the echo comes back.
func TestPasswordFromTerminal(t *testing.T) {
	for _, tc := range []struct {
		name, typed, want string
	}{
		{"the same twice", "correct horse battery\ncorrect horse battery\n", "correct horse battery"},
		{"two passwords", "correct horse battery\ncorrect horse batterz\n", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			master, term := openPTY(t)
			var stderr bytes.Buffer
			e := &env{getenv: func(string) string { return "" }, stdin: term, stdout: &bytes.Buffer{}, stderr: &stderr}
			type result struct {
				password string
				err      error
			}
			done := make(chan result, 1)
			go func() {
				p, err := readNewPassword(e, "alice", false)
				done <- result{p, err}
			}()
			// Typed once the echo is off, both lines wait in the
			// terminal's queue: each read takes one.
			for i := 0; echoes(t, term); i++ {
				if i == 5000 {
					t.Fatal("the echo was never turned off")
				}
				time.Sleep(time.Millisecond)
			}
			if _, err := master.WriteString(tc.typed); err != nil {
				t.Fatal(err)
			}
			var r result
			select {
			case r = <-done:
			case <-time.After(30 * time.Second):
				t.Fatal("the password was not read")
			}
			if r.password != tc.want || (tc.want == "") != (r.err != nil) {
				t.Errorf("read %q, %v; want %q", r.password, r.err, tc.want)
			}
			if !echoes(t, term) {
				t.Error("the echo is still off")
			}
			if !strings.Contains(stderr.String(), "New password for alice: ") || !strings.Contains(stderr.String(), "The same again: ") {
				t.Errorf("prompts: %q", stderr.String())
			}
			// What the terminal showed: everything before the end mark.
			if _, err := term.WriteString("END\n"); err != nil {
				t.Fatal(err)
			}
			var shown []byte
			buf := make([]byte, 256)
			for i := 0; i < 100 && !bytes.Contains(shown, []byte("END")); i++ {
				n, err := master.Read(buf)
				if err != nil {
					t.Fatal(err)
				}
				shown = append(shown, buf[:n]...)
			}
			if bytes.Contains(shown, []byte("horse")) {
				t.Errorf("the terminal echoed the password: %q", shown)
			}
		})
	}
}
