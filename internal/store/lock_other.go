//go:build !unix

package store

import "os"

// lockFile is a no-op where the kernel offers no flock: a second daemon
// on one SQLite file is then not refused, only unsafe.
func lockFile(string) (*os.File, error) { return nil, nil }
