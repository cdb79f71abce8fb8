// Package servertest runs a whole illico daemon inside a test: a real store
// (SQLite in a temporary directory unless told otherwise), a real listener on
// 127.0.0.1:0 and real HTTP, so that the server's, the client's and the
// command line's tests all exercise the daemon as operators run it.
package servertest

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/illico-dev/illico/internal/server"
	"github.com/illico-dev/illico/internal/store"
)

// Options say how to start a daemon. The zero value is a daemon on a fresh
// SQLite store without an inventory.
type Options struct {
	// DSN is the store to use: a fresh SQLite file when empty. Starting
	// twice on one DSN restarts the same daemon.
	DSN            string
	Inventory      string
	AdminTokenFile string
	// ShutdownTimeout is passed on to the server.
	ShutdownTimeout time.Duration
	// ProbeInterval is passed on to the server: 0 is its default.
	ProbeInterval time.Duration
}

// Daemon is a running daemon.
type Daemon struct {
	URL   string
	Store *store.Store
	// AdminToken is the secret the daemon showed on its first start; empty
	// when it started on a store that had tokens already.
	AdminToken string
	// Stderr is what the daemon wrote for its operator (the admin token box).
	Stderr *Buffer
	// Logs is the daemon's log, as text.
	Logs *Buffer

	cancel  context.CancelFunc
	done    chan error
	once    sync.Once
	err     error
	stopped atomic.Bool
}

// Buffer is a bytes.Buffer safe for the daemon and the test to share.
type Buffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (b *Buffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.Write(p)
}

func (b *Buffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.String()
}

var secretRE = regexp.MustCompile(store.SecretPrefix + `[a-z2-7]+`)

// Start starts a daemon and waits until it answers. It stops when the test
// ends, if the test did not Stop it.
func Start(t testing.TB, opts Options) *Daemon {
	t.Helper()
	dsn := opts.DSN
	if dsn == "" {
		dsn = "sqlite:" + filepath.Join(t.TempDir(), "illico.db")
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	st, err := store.Open(ctx, dsn, store.OneDaemon())
	if err != nil {
		t.Fatalf("open store: %v", err)
	}
	d := &Daemon{Store: st, Stderr: &Buffer{}, Logs: &Buffer{}, done: make(chan error, 1)}
	srv, err := server.New(server.Options{
		Logger:          slog.New(slog.NewTextHandler(d.Logs, &slog.HandlerOptions{Level: slog.LevelDebug})),
		Store:           st,
		Listen:          "127.0.0.1:0",
		Inventory:       opts.Inventory,
		AdminTokenFile:  opts.AdminTokenFile,
		AdminTokenOut:   d.Stderr,
		Version:         "test",
		Commit:          "0123abcd",
		BuildDate:       "2026-03-29T01:30:00Z",
		ShutdownTimeout: opts.ShutdownTimeout,
		ProbeInterval:   opts.ProbeInterval,
	})
	if err != nil {
		st.Close()
		t.Fatalf("start daemon: %v", err)
	}
	d.URL = "http://" + srv.Addr()
	runCtx, stop := context.WithCancel(context.Background())
	d.cancel = stop
	go func() { d.done <- srv.Run(runCtx) }()
	t.Cleanup(func() {
		// A test that stopped the daemon itself has seen the error.
		if stoppedByTest := d.stopped.Load(); !stoppedByTest {
			if err := d.stop(); err != nil {
				t.Errorf("stop daemon: %v", err)
			}
		}
	})
	if err := d.waitHealthy(); err != nil {
		t.Fatal(err)
	}
	d.AdminToken = secretRE.FindString(d.Stderr.String())
	return d
}

// waitHealthy polls /healthz: Run creates the first admin token before it
// serves, so a healthy daemon has shown it.
func (d *Daemon) waitHealthy() error {
	client := &http.Client{Timeout: time.Second}
	var last error
	for range 500 {
		select {
		case err := <-d.done:
			d.done <- err
			return fmt.Errorf("the daemon stopped while starting: %v", err)
		default:
		}
		resp, err := client.Get(d.URL + "/healthz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
			err = fmt.Errorf("/healthz answered %s", resp.Status)
		}
		last = err
		time.Sleep(10 * time.Millisecond)
	}
	return fmt.Errorf("the daemon did not become healthy: %v", last)
}

// Stop stops the daemon as a signal would, waits for Run to return, closes
// the store and returns Run's error. Stopping again returns the same.
func (d *Daemon) Stop() error {
	d.stopped.Store(true)
	return d.stop()
}

func (d *Daemon) stop() error {
	d.once.Do(func() {
		d.cancel()
		select {
		case d.err = <-d.done:
		case <-time.After(time.Minute):
			d.err = fmt.Errorf("the daemon did not stop within a minute of its context ending")
		}
		d.Store.Close()
	})
	return d.err
}

// Secrets returns every token secret in s.
func Secrets(s string) []string { return secretRE.FindAllString(s, -1) }

// CheckNoSecrets fails the test if a token secret appears in the daemon's log.
func (d *Daemon) CheckNoSecrets(t testing.TB) {
	t.Helper()
	if found := Secrets(d.Logs.String()); len(found) > 0 {
		t.Errorf("the daemon's log shows %d token secret(s)", len(found))
	}
	if strings.Contains(d.Logs.String(), "Bearer ") {
		t.Errorf("the daemon's log shows an Authorization header")
	}
}
