//go:build race

package e2e

// raceEnabled says the tests run under the race detector, which slows the
// daemon down several times.
const raceEnabled = true
