package fleet

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
)

// Traffic is what a load balancer counted for one backend since it started:
// every request its customers sent there, and the answers in the 5xx range,
// the backend's servers' and the load balancer's own (503 when no server is
// left to take the request).
type Traffic struct {
	LoadBalancer string
	Backend      string
	Requests     int64
	ServerErrors int64
}

// CustomerErrors says when a rollout stops on what its customers see: the
// share of requests answered 5xx on the backends of its hosts' groups, over
// the last Window.
type CustomerErrors struct {
	// PauseAbove holds the rollout (no host starts; those in maintenance go
	// on) while the share is above it; the hold clears once the share has
	// stayed at or below it for ClearFor.
	PauseAbove Share
	// HaltAbove halts the rollout, with its failure policy, when the share
	// passes it with at least MinErrors errors; so does a hold that lasts
	// HaltAfter.
	HaltAbove Share
	Window    time.Duration
	ClearFor  time.Duration
	HaltAfter time.Duration
}

// MinErrors is how many errors a window must hold before its share can halt
// a rollout: one 500 in the first four requests is not a lost fleet.
const MinErrors = 5

// DefaultCustomerErrors are the plan's defaults: an urgent rollout keeps
// them too.
var DefaultCustomerErrors = CustomerErrors{
	PauseAbove: 0.001,
	HaltAbove:  0.05,
	Window:     10 * time.Second,
	ClearFor:   30 * time.Second,
	HaltAfter:  10 * time.Minute,
}

// Share is a fraction of requests, written as a percentage ("0.1%").
type Share float64

// ParseShare reads "0.1%" or "5%".
func ParseShare(s string) (Share, error) {
	s = strings.TrimSpace(s)
	v, err := strconv.ParseFloat(strings.TrimSuffix(s, "%"), 64)
	if !strings.HasSuffix(s, "%") || err != nil || v < 0 || v > 100 {
		return 0, fmt.Errorf("%q is not a percentage between 0%% and 100%% (like 0.1%% or 5%%)", s)
	}
	return Share(v / 100), nil
}

// UnmarshalText reads a share from a config file.
func (s *Share) UnmarshalText(b []byte) error {
	v, err := ParseShare(string(b))
	if err != nil {
		return err
	}
	*s = v
	return nil
}

// String writes the share as a percentage with as few digits as it needs.
func (s Share) String() string {
	return strconv.FormatFloat(math.Round(float64(s)*1e6)/1e4, 'f', -1, 64) + "%"
}
