package subscribers_test

import (
	"testing"

	"github.com/illico-dev/illico/internal/deliver/smtptest"
)

// sink adds to smtptest.Sink the tally the bar test reads.
type sink struct{ *smtptest.Sink }

func startSink(t testing.TB) *sink { return &sink{smtptest.Start(t, 0)} }

func (s *sink) addr() string { return s.Addr() }

func (s *sink) messages(to string) []string { return s.Messages(to) }

// counts says how many addresses got mail, how many mails in all, and which
// addresses got more than one.
func (s *sink) counts() (addresses, total int, dup []string) {
	c := s.Counts()
	for a, n := range c {
		total += n
		if n > 1 {
			dup = append(dup, a)
		}
	}
	return len(c), total, dup
}
