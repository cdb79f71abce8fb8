// Command customers is the customers of a lab fleet for the benchmarks: it
// sends requests to every frontend of an `illico lab` at a steady rate, until
// SIGINT or SIGTERM, and then prints what it sent and what failed (an error,
// or an answer other than 200) as JSON, with the first failures' times, so
// that a bench can tell when customers saw errors.
//
//	go run ./bench/customers --lab DIR [--rate 400]
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"maps"
	"net/http"
	"os"
	"os/signal"
	"slices"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/illico-dev/illico/internal/lab"
)

// report is what the run printed at its end.
type report struct {
	Requests int64 `json:"requests"`
	Failed   int64 `json:"failed"`
	// FailedAt are the Unix times (seconds) of the first failures.
	FailedAt []float64 `json:"failed_at,omitempty"`
}

const keepFailures = 1000

func main() {
	dir := flag.String("lab", "", "the lab's directory")
	rate := flag.Int("rate", 400, "requests a second, over every frontend in turn")
	flag.Parse()
	info, err := lab.Load(*dir)
	if err != nil || len(info.Frontends) == 0 || *rate <= 0 {
		fmt.Fprintf(os.Stderr, "customers: want --lab DIR of a lab with frontends, and --rate above 0 (%v)\n", err)
		os.Exit(2)
	}
	urls := make([]string, 0, len(info.Frontends))
	for _, name := range slices.Sorted(maps.Keys(info.Frontends)) {
		urls = append(urls, info.Frontends[name])
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()

	client := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: 4, Proxy: nil}}
	var sent, failed atomic.Int64
	var mu sync.Mutex
	var failedAt []float64
	var wg sync.WaitGroup
	tick := time.NewTicker(time.Second / time.Duration(*rate))
	defer tick.Stop()
	for i := 0; ctx.Err() == nil; i++ {
		select {
		case <-ctx.Done():
		case <-tick.C:
			url := urls[i%len(urls)]
			wg.Go(func() {
				resp, err := client.Get(url)
				sent.Add(1)
				if err == nil {
					resp.Body.Close()
				}
				if err != nil || resp.StatusCode != http.StatusOK {
					failed.Add(1)
					mu.Lock()
					if len(failedAt) < keepFailures {
						failedAt = append(failedAt, float64(time.Now().UnixMilli())/1000)
					}
					mu.Unlock()
				}
			})
		}
	}
	wg.Wait()
	_ = json.NewEncoder(os.Stdout).Encode(report{Requests: sent.Load(), Failed: failed.Load(), FailedAt: failedAt})
}
