package site

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/illico-dev/illico/internal/fleet"
	"github.com/illico-dev/illico/internal/statuspage/page"
	"github.com/illico-dev/illico/internal/store"
)

// downStore is the page's store, whose reads fail while down is set.
type downStore struct {
	mu   sync.Mutex
	down bool
}

func (d *downStore) err() error {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.down {
		return errors.New("dial tcp 10.0.0.9:5432: connect: connection refused")
	}
	return nil
}

func (d *downStore) StatusVersion(context.Context) (uint64, error) { return 0, d.err() }

func (d *downStore) Status(context.Context) (fleet.Status, error) { return fleet.Status{}, d.err() }

func (d *downStore) UpdateStatus(context.Context, func(*store.Tx, *fleet.Status) error) (fleet.Status, error) {
	return fleet.Status{}, errors.New("read only")
}

func (d *downStore) setDown(down bool) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.down = down
}

// syncBuffer is a log both Follow and the test use.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) lines() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return strings.FieldsFunc(s.b.String(), func(r rune) bool { return r == '\n' })
}

// While the store is away, Follow says so once, not at every tick, and
// once more when it is back, with for how long it failed.
func TestFollowLogsAnOutageOnce(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		db := &downStore{}
		src, err := page.NewStored[*store.Tx](t.Context(), db, time.Now)
		if err != nil {
			t.Fatal(err)
		}
		logs := &syncBuffer{}
		s := &Site{log: slog.New(slog.NewTextHandler(logs, nil)), now: time.Now, status: &pageStatus{Stored: src}}
		ctx, cancel := context.WithCancel(t.Context())
		done := make(chan struct{})
		go func() { s.Follow(ctx); close(done) }()
		synctest.Wait()

		// Ticks at 2, 4, 6 and 8 s fail; the one at 10 s works.
		db.setDown(true)
		time.Sleep(9 * time.Second)
		synctest.Wait()
		if got := logs.lines(); len(got) != 1 || !strings.Contains(got[0], "level=ERROR") || !strings.Contains(got[0], "connection refused") {
			t.Fatalf("after four failed ticks, the log says:\n%s", strings.Join(got, "\n"))
		}
		db.setDown(false)
		time.Sleep(2 * time.Second)
		synctest.Wait()
		got := logs.lines()
		if len(got) != 2 || !strings.Contains(got[1], "level=INFO") || !strings.Contains(got[1], "failed_for=8s") {
			t.Fatalf("once the store is back, the log says:\n%s", strings.Join(got, "\n"))
		}
		// A second outage is told again.
		db.setDown(true)
		time.Sleep(2 * time.Second)
		synctest.Wait()
		if got := logs.lines(); len(got) != 3 || !strings.Contains(got[2], "level=ERROR") {
			t.Fatalf("at a second outage, the log says:\n%s", strings.Join(got, "\n"))
		}
		cancel()
		<-done
		if got := logs.lines(); len(got) != 3 {
			t.Errorf("stopping Follow logged:\n%s", strings.Join(got[3:], "\n"))
		}
	})
}
