package lab

import "time"

// Clock runs the lab's timers: the delay before a reboot drops a host and the
// time it stays down. Tests inject one to fire them at will.
type Clock interface {
	AfterFunc(d time.Duration, f func()) Timer
}

// Timer is a pending call of a Clock.
type Timer interface {
	Stop() bool
}

type realClock struct{}

func (realClock) AfterFunc(d time.Duration, f func()) Timer { return time.AfterFunc(d, f) }
