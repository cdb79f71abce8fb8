package labtest

import (
	"context"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/illico-dev/illico/internal/lab"
)

// Detached is a lab that runs in a process of its own, started with
// `illico lab up` from an illico binary built for the test without the
// race detector, and driven through its control API as an operator's
// `illico lab fault` does.
type Detached struct {
	info   *lab.Info
	client *lab.Client
}

// StartDetached builds illico and starts a lab of its own process in a
// directory of the test's, with args as `illico lab up` reads them, and
// takes it down when the test ends. The tests whose fleet is large enough
// that its hundreds of simulated sites, checked by HAProxy every 500 ms,
// would starve the code under test of the test binary's CPU (several
// times slower under the race detector) use it.
func StartDetached(t testing.TB, args ...string) *Detached {
	t.Helper()
	Require(t)
	bin := buildIllico(t)
	dir := filepath.Join(t.TempDir(), "lab")
	ctx, cancel := context.WithTimeout(t.Context(), 2*time.Minute)
	defer cancel()
	up := exec.CommandContext(ctx, bin, append([]string{"lab", "up", "--dir", dir}, args...)...)
	if out, err := up.CombinedOutput(); err != nil {
		t.Fatalf("illico lab up: %v\n%s", err, out)
	}
	t.Cleanup(func() {
		down := exec.Command(bin, "lab", "down", "--dir", dir)
		if out, err := down.CombinedOutput(); err != nil {
			t.Errorf("illico lab down: %v\n%s", err, out)
		}
	})
	info, err := lab.Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	client, err := lab.Dial(dir, &http.Client{Timeout: 30 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	return &Detached{info: info, client: client}
}

// Info is what the lab wrote of itself: its hosts and its files.
func (d *Detached) Info() lab.Info { return *d.info }

// Fault applies a fault of kind to a host or a datacenter=NAME.
func (d *Detached) Fault(target, kind string) ([]string, error) {
	return d.client.Fault(context.Background(), target, kind)
}

// Heal clears every fault of a host or a datacenter=NAME.
func (d *Detached) Heal(target string) ([]string, error) {
	return d.client.Heal(context.Background(), target)
}

// buildIllico builds the illico binary, without the race detector, into a
// directory of the test's.
func buildIllico(t testing.TB) string {
	t.Helper()
	root, err := moduleRoot()
	if err != nil {
		t.Fatal(err)
	}
	bin := filepath.Join(t.TempDir(), "illico")
	cmd := exec.Command("go", "build", "-o", bin, "./cmd/illico")
	cmd.Dir = root
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build ./cmd/illico: %v\n%s", err, out)
	}
	return bin
}

// moduleRoot is the directory of go.mod above the test's working
// directory, its package's.
func moduleRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", os.ErrNotExist
		}
		dir = parent
	}
}
