package sshx_test

import (
	"fmt"
	"os"
	"strconv"
	"testing"

	"github.com/illico-dev/illico/internal/fleet"
	"github.com/illico-dev/illico/internal/openssh/opensshtest"
	"github.com/illico-dev/illico/internal/sshx"
)

// BenchmarkRunMany runs `true` on N real sshds (ILLICO_BENCH_HOSTS, 20 by
// default): "pooled" reuses the connections, "cold" pays every handshake.
// Note that each session starts the user's shell, rc files included.
func BenchmarkRunMany(b *testing.B) {
	n := 20
	if v, err := strconv.Atoi(os.Getenv("ILLICO_BENCH_HOSTS")); err == nil && v > 0 {
		n = v
	}
	f := opensshtest.New(b)
	hosts := make([]*fleet.Host, n)
	for i := range hosts {
		hosts[i] = f.Host(fmt.Sprintf("host-%03d", i), f.Start(b, nil))
	}
	check := func(b *testing.B, results []sshx.HostResult) {
		for _, r := range results {
			if r.Status != sshx.StatusOK {
				b.Fatalf("%s: %s: %v", r.Host.Name, r.Status, r.Err)
			}
		}
	}
	b.Run(fmt.Sprintf("pooled/hosts=%d", n), func(b *testing.B) {
		pool := sshx.NewPool(sshx.Options{})
		defer pool.Close()
		check(b, sshx.RunMany(b.Context(), pool, hosts, "true", sshx.ManyOptions{}))
		b.ResetTimer()
		for b.Loop() {
			check(b, sshx.RunMany(b.Context(), pool, hosts, "true", sshx.ManyOptions{}))
		}
		b.ReportMetric(float64(b.Elapsed().Microseconds())/float64(b.N*n)/1000, "ms/host")
	})
	b.Run(fmt.Sprintf("cold/hosts=%d", n), func(b *testing.B) {
		for b.Loop() {
			pool := sshx.NewPool(sshx.Options{})
			check(b, sshx.RunMany(b.Context(), pool, hosts, "true", sshx.ManyOptions{}))
			pool.Close()
		}
		b.ReportMetric(float64(b.Elapsed().Microseconds())/float64(b.N*n)/1000, "ms/host")
	})
}
