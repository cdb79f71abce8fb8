package labtest

import (
	"net/http"
	"sync"
	"sync/atomic"
	"time"
)

// Traffic is customers' requests to a lab's frontends, sent until End and
// counted: the bar of every rollout on a lab is that none fails.
type Traffic struct {
	total, failed atomic.Int64
	stop          chan struct{}
	wg            sync.WaitGroup
}

// StartTraffic sends requests to every frontend (Info().Frontends), one
// after another on each, 20 ms apart.
func StartTraffic(frontends map[string]string) *Traffic {
	tr := &Traffic{stop: make(chan struct{})}
	client := &http.Client{Timeout: 5 * time.Second}
	for _, url := range frontends {
		tr.wg.Go(func() {
			for {
				select {
				case <-tr.stop:
					return
				default:
				}
				resp, err := client.Get(url)
				tr.total.Add(1)
				if err != nil || resp.StatusCode != http.StatusOK {
					tr.failed.Add(1)
				}
				if err == nil {
					resp.Body.Close()
				}
				time.Sleep(20 * time.Millisecond)
			}
		})
	}
	return tr
}

// End stops the requests and returns how many were sent and how many failed.
func (tr *Traffic) End() (total, failed int64) {
	close(tr.stop)
	tr.wg.Wait()
	return tr.total.Load(), tr.failed.Load()
}
