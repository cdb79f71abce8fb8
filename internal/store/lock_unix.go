//go:build unix

package store

import (
	"errors"
	"fmt"
	"os"
	"syscall"

	"github.com/illico-dev/illico/internal/fleet"
)

// lockFile holds an exclusive lock on the database file for as long as the
// store is open (see OneDaemon). The lock is the kernel's: it ends with the
// process, however the process ends, so a daemon killed leaves none behind.
func lockFile(path string) (*os.File, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("lock %s: %w", path, err)
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		f.Close()
		if errors.Is(err, syscall.EWOULDBLOCK) {
			return nil, fleet.Errorf(fleet.KindConflict, "database sqlite:%s is in use by another illico serve: one SQLite file serves one daemon; stop the other, or run several daemons on one PostgreSQL database (--db postgres://…)", path)
		}
		return nil, fmt.Errorf("lock %s: %w", path, err)
	}
	return f, nil
}
