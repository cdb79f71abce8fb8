package page

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net"
	"net/http/httptest"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/illico-dev/illico/internal/fleet"
	"github.com/illico-dev/illico/internal/store"
)

// BenchmarkLoad measures the page under load over real loopback HTTP:
// keep-alive clients asking for gzip, while the status changes ten times a
// second as during a rollout. It prints requests per second and the 99th
// percentile latency. Target (issue 4): 20,000 req/s for summary.json with
// p99 under 10 ms on a 2-core machine.
//
//	go test ./internal/statuspage -run '^$' -bench Load -benchtime 200000x
//
// The daemon's source is Stored, on SQLite here: the "stored" runs measure
// the page with it, each change written to the database.
func BenchmarkLoad(b *testing.B) {
	for _, path := range []string{"/api/v2/summary.json", "/?lang=fr"} {
		b.Run(strings.Trim(path, "/?"), func(b *testing.B) { benchLoad(b, path, 32, memorySource) })
		b.Run(strings.Trim(path, "/?")+"/stored", func(b *testing.B) { benchLoad(b, path, 32, storedSource) })
	}
}

// benchSource is a Source the benchmark changes.
type benchSource interface {
	Source
	Update(ctx context.Context, change func(*fleet.Status) error) error
}

func memorySource(_ testing.TB, st fleet.Status) benchSource { return NewMemory(st, time.Now) }

func storedSource(tb testing.TB, st fleet.Status) benchSource {
	db, err := store.Open(context.Background(), "sqlite:"+filepath.Join(tb.TempDir(), "illico.db"))
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { db.Close() })
	s, err := NewStored(context.Background(), db, time.Now)
	if err != nil {
		tb.Fatal(err)
	}
	if err := s.Update(context.Background(), func(cur *fleet.Status) error { *cur = st; return nil }); err != nil {
		tb.Fatal(err)
	}
	return s
}

func benchLoad(b *testing.B, path string, clients int, source func(testing.TB, fleet.Status) benchSource) {
	st := benchStatus(40)
	mem := source(b, st)
	h, err := Handler(Options{
		Page:    Page{ID: "illico", Name: "Example Hosting", URL: "https://status.example.net"},
		Source:  mem,
		History: testHistory(),
	})
	if err != nil {
		b.Fatal(err)
	}
	srv := httptest.NewServer(h)
	defer srv.Close()

	// The rollout: a host goes into maintenance and back, ten times a second.
	ctx, stop := context.WithCancel(context.Background())
	var changes sync.WaitGroup
	changes.Go(func() {
		tick := time.NewTicker(100 * time.Millisecond)
		defer tick.Stop()
		for i := 0; ; i++ {
			select {
			case <-ctx.Done():
				return
			case <-tick.C:
			}
			_ = mem.Update(ctx, func(s *fleet.Status) error {
				host := fmt.Sprintf("h%d-%d", i%40, i%3)
				if s.Hosts[host] == fleet.HostUp {
					s.Hosts[host] = fleet.HostInMaintenance
				} else {
					s.Hosts[host] = fleet.HostUp
				}
				return nil
			})
		}
	})
	defer func() { stop(); changes.Wait() }()

	request := []byte("GET " + path + " HTTP/1.1\r\nHost: status.example.net\r\nAccept-Encoding: gzip, deflate, br\r\nAccept-Language: fr-FR,fr;q=0.9,en;q=0.8\r\n\r\n")
	latencies := make([][]time.Duration, clients)
	errs := make(chan error, clients)
	var wg sync.WaitGroup
	per := b.N / clients
	b.ResetTimer()
	start := time.Now()
	for c := range clients {
		n := per
		if c == 0 {
			n += b.N % clients
		}
		wg.Go(func() {
			lat, err := client(srv.Listener.Addr().String(), request, n)
			latencies[c] = lat
			errs <- err
		})
	}
	wg.Wait()
	elapsed := time.Since(start)
	b.StopTimer()
	close(errs)
	for err := range errs {
		if err != nil {
			b.Fatal(err)
		}
	}
	all := slices.Concat(latencies...)
	slices.Sort(all)
	p99 := all[len(all)*99/100]
	b.ReportMetric(float64(len(all))/elapsed.Seconds(), "req/s")
	b.ReportMetric(float64(p99.Microseconds())/1000, "p99-ms")
	b.ReportMetric(float64(all[len(all)/2].Microseconds())/1000, "p50-ms")
}

// client sends n requests one after the other on one keep-alive
// connection, a plain HTTP/1.1 client that costs the load far less than
// the server it measures.
func client(addr string, request []byte, n int) ([]time.Duration, error) {
	conn, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		return nil, err
	}
	defer conn.Close()
	r := bufio.NewReaderSize(conn, 64<<10)
	lat := make([]time.Duration, 0, n)
	for range n {
		if err := conn.SetDeadline(time.Now().Add(10 * time.Second)); err != nil {
			return nil, err
		}
		t0 := time.Now()
		if _, err := conn.Write(request); err != nil {
			return nil, err
		}
		status, err := r.ReadString('\n')
		if err != nil {
			return nil, err
		}
		if !strings.HasPrefix(status, "HTTP/1.1 200 ") {
			return nil, fmt.Errorf("answer %q", status)
		}
		length, gzipped := -1, false
		for {
			line, err := r.ReadString('\n')
			if err != nil {
				return nil, err
			}
			if line == "\r\n" {
				break
			}
			k, v, _ := strings.Cut(line, ":")
			switch strings.ToLower(k) {
			case "content-length":
				length, err = strconv.Atoi(strings.TrimSpace(v))
				if err != nil {
					return nil, err
				}
			case "content-encoding":
				gzipped = strings.TrimSpace(v) == "gzip"
			}
		}
		if length < 0 || !gzipped {
			return nil, fmt.Errorf("answer without Content-Length (%d) or gzip (%v)", length, gzipped)
		}
		if _, err := io.CopyN(io.Discard, r, int64(length)); err != nil {
			return nil, err
		}
		lat = append(lat, time.Since(t0))
	}
	return lat, nil
}

// benchStatus is a fleet of n clusters of three hosts, in groups of ten,
// with a maintenance under way and a few incidents in the past.
func benchStatus(n int) fleet.Status {
	st := fleet.Status{Version: 1, UpdatedAt: testNow, Hosts: map[string]fleet.HostHealth{}}
	for g := range n / 10 {
		st.Groups = append(st.Groups, fleet.ComponentGroup{ID: fmt.Sprintf("g%d", g), Name: fmt.Sprintf("Region %d", g), Position: g})
	}
	for i := range n {
		c := fleet.Component{ID: fmt.Sprintf("c%d", i), Name: fmt.Sprintf("Web cluster %02d", i), Group: fmt.Sprintf("g%d", i/10), Position: i, Showcase: true}
		for h := range 3 {
			name := fmt.Sprintf("h%d-%d", i, h)
			c.Hosts = append(c.Hosts, name)
			st.Hosts[name] = fleet.HostUp
		}
		st.Components = append(st.Components, c)
	}
	base := testStatus()
	st.Maintenance = base.Maintenance
	st.Maintenance[0].Components = []string{"c0", "c1", "c2"}
	for i := range 20 {
		in := base.Incidents[1]
		in.ID = fmt.Sprintf("old-%d", i)
		in.CreatedAt = in.CreatedAt.Add(-time.Duration(i) * 24 * time.Hour)
		in.Components = []string{fmt.Sprintf("c%d", i)}
		st.Incidents = append(st.Incidents, in)
	}
	return st
}
