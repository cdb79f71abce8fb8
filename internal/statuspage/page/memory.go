package page

import (
	"context"
	"sync"
	"sync/atomic"
	"time"

	"github.com/illico-dev/illico/internal/fleet"
)

// Memory is a Source that keeps the status in memory, for tests; the daemon
// keeps it in the store (Stored).
type Memory struct {
	now     func() time.Time
	mu      sync.Mutex
	status  fleet.Status
	version atomic.Uint64
}

// NewMemory returns a Memory holding st; now stamps its changes.
func NewMemory(st fleet.Status, now func() time.Time) *Memory {
	m := &Memory{now: now, status: st.Clone()}
	m.version.Store(st.Version)
	return m
}

// Version implements Source.
func (m *Memory) Version() uint64 { return m.version.Load() }

// Checked implements Source: the zero time, for a Memory is the status
// itself and always current.
func (m *Memory) Checked() time.Time { return time.Time{} }

// Status implements Source.
func (m *Memory) Status(context.Context) (fleet.Status, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.status.Clone(), nil
}

// Update changes the status with change, all or nothing: when change
// returns an error, the status stays as it was.
func (m *Memory) Update(_ context.Context, change func(*fleet.Status) error) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	next := m.status.Clone()
	before := shown(&next)
	if err := change(&next); err != nil {
		return err
	}
	stampShown(&next, before, m.now())
	next.Version = m.status.Version + 1
	next.UpdatedAt = m.now()
	m.status = next
	m.version.Store(next.Version)
	return nil
}
