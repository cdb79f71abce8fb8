// Package labtest starts labs for the end-to-end tests of other packages,
// with one rule for all of them: skipped under -short, skipped with the reason
// where sshd or HAProxy is missing, and failed instead when $CI is set, so
// that CI never passes without running them.
package labtest

import (
	"os"
	"testing"

	"github.com/illico-dev/illico/internal/lab"
)

// Require skips or fails t where a lab cannot run.
func Require(t testing.TB) {
	t.Helper()
	if testing.Short() {
		t.Skip("end-to-end test on a lab; runs without -short")
	}
	if err := lab.Available(); err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("a lab cannot run here: %v", err)
		}
		t.Skipf("a lab cannot run here: %v", err)
	}
}

// Start builds a lab in a directory of the test's own and closes it when the
// test ends.
func Start(t testing.TB, opts lab.Options) *lab.Lab {
	t.Helper()
	Require(t)
	opts.Dir = t.TempDir()
	l, err := lab.Up(t.Context(), opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = l.Close() })
	return l
}
