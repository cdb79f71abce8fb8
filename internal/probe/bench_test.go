package probe

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/illico-dev/illico/internal/fleet"
)

// BenchmarkScheduler10k runs 10,000 HTTP targets at a 10s interval for 30s
// of wall time against real local servers, 5% of them hung, and prints
// probes per second, the schedule's drift and the memory used. Run it once:
//
//	go test ./internal/probe -run '^$' -bench Scheduler10k -benchtime 1x
//
// The targets sit on 1,000 healthy hosts (a loopback address each, ten
// probes per host, like a fleet's hosts with a few endpoints each) and 50
// hung ones; the servers run in this process, so the memory figures
// include them.
func BenchmarkScheduler10k(b *testing.B) {
	if testing.Short() {
		b.Skip("runs for 30s")
	}
	const (
		targets  = 10000
		hung     = targets / 20
		perHost  = 10
		interval = 10 * time.Second
		wall     = 30 * time.Second
	)
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, `{"status":"ok"}`)
	})}
	b.Cleanup(func() { srv.Close() })
	def := &Definition{Name: "site", Kind: KindHTTP, Target: "http://${address}/health", Interval: interval, Timeout: 2 * time.Second}
	cond, err := ParseCondition("[STATUS] == 200")
	if err != nil {
		b.Fatal(err)
	}
	def.Conditions = []Condition{cond}
	def.SetDefaults()

	var list []Target
	for h := 0; len(list) < targets-hung; h++ {
		ln := listen(b, h)
		go srv.Serve(ln)
		for p := 0; p < perHost && len(list) < targets-hung; p++ {
			host := &fleet.Host{Name: fmt.Sprintf("web-%04d-%d", h, p), Address: ln.Addr().String()}
			list = append(list, def.Expand(host))
		}
	}
	for h := 0; len(list) < targets; h++ {
		addr := hangingServer(b, 5000+h)
		for p := 0; p < perHost && len(list) < targets; p++ {
			list = append(list, def.Expand(&fleet.Host{Name: fmt.Sprintf("hung-%04d-%d", h, p), Address: addr}))
		}
	}

	client := NewHTTPClient(256, 4096)
	prober := NewProber(client, nil, time.Now)
	s := NewScheduler(list, Options{Probe: prober.Probe, Concurrency: 256, Recorder: NewMemory(20)})
	ctx, cancel := context.WithTimeout(b.Context(), wall)
	defer cancel()
	b.ResetTimer()
	start := time.Now()
	s.Run(ctx)
	elapsed := time.Since(start)
	b.StopTimer()

	st := s.Stats()
	var down int
	for _, status := range s.Status() {
		if !status.Last.OK {
			down++
		}
	}
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	rss, peak := procStatus(b, "VmRSS"), procStatus(b, "VmHWM")
	rate := float64(st.Runs) / elapsed.Seconds()
	b.ReportMetric(rate, "probes/s")
	b.ReportMetric(float64(st.DriftP99)/float64(time.Millisecond), "drift-p99-ms")
	b.ReportMetric(float64(peak)/(1<<20), "peak-rss-MiB")
	fmt.Fprintf(os.Stdout, "%d HTTP targets every %s (%d hung), %s of wall time, %d probes at once at most\n",
		targets, interval, hung, elapsed.Round(time.Millisecond), 256)
	fmt.Fprintf(os.Stdout, "probes: %d run (%.0f/s, want %d/s), %d skipped slots, %d failing at the end\n",
		st.Runs, rate, targets/int(interval/time.Second), st.Skipped, down)
	fmt.Fprintf(os.Stdout, "drift: p50 %s, p99 %s, max %s\n", st.DriftP50, st.DriftP99, st.DriftMax)
	fmt.Fprintf(os.Stdout, "memory: heap in use %.0f MiB, Go sys %.0f MiB, RSS %.0f MiB (peak %.0f MiB)\n",
		float64(ms.HeapInuse)/(1<<20), float64(ms.Sys)/(1<<20), float64(rss)/(1<<20), float64(peak)/(1<<20))
}

// listen listens on a loopback address of its own for host i.
func listen(tb testing.TB, i int) net.Listener {
	tb.Helper()
	ln, err := net.Listen("tcp", fmt.Sprintf("127.77.%d.%d:0", i/250, i%250+1))
	if err != nil {
		tb.Fatal(err)
	}
	return ln
}

// hangingServer accepts connections on host i's address and never answers,
// closing each once the client gives up.
func hangingServer(tb testing.TB, i int) string {
	tb.Helper()
	ln := listen(tb, i)
	tb.Cleanup(func() { ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				io.Copy(io.Discard, c)
				c.Close()
			}()
		}
	}()
	return ln.Addr().String()
}

// procStatus reads a size in bytes from /proc/self/status.
func procStatus(tb testing.TB, key string) int64 {
	tb.Helper()
	f, err := os.Open("/proc/self/status")
	if err != nil {
		tb.Fatal(err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if rest, ok := strings.CutPrefix(sc.Text(), key+":"); ok {
			var kb int64
			fmt.Sscanf(strings.TrimSpace(rest), "%d kB", &kb)
			return kb << 10
		}
	}
	return 0
}
