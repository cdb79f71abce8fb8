package store_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/illico-dev/illico/internal/store"
	"github.com/illico-dev/illico/internal/store/pgtest"
)

// BenchmarkAddProbeBuckets is one flush of the probes' history for 10,000
// targets: an hourly and a daily bucket each, onto buckets already stored.
func BenchmarkAddProbeBuckets(b *testing.B) {
	dsns := map[string]func(t testing.TB) string{"sqlite": sqliteDSN, "postgres": pgtest.Start}
	for _, name := range []string{"sqlite", "postgres"} {
		b.Run(name, func(b *testing.B) {
			s := openStore(b, dsns[name](b))
			day := time.Date(2026, 3, 12, 0, 0, 0, 0, time.UTC)
			bs := make([]store.ProbeBucket, 0, 20000)
			for i := range 10000 {
				target := fmt.Sprintf("http@host-%05d", i)
				bs = append(bs,
					store.ProbeBucket{Target: target, Width: time.Hour, Start: day, OK: 5, Total: 6, SumTook: time.Second, MaxTook: time.Second},
					store.ProbeBucket{Target: target, Width: 24 * time.Hour, Start: day, OK: 5, Total: 6, SumTook: time.Second, MaxTook: time.Second})
			}
			for b.Loop() {
				if err := s.AddProbeBuckets(b.Context(), bs); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
