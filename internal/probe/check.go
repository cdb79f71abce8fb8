// Package probe runs health checks against hosts: HTTP (the expected status)
// and TCP (a connection is accepted). A rollout's wait_healthy gate and the
// daemon's view of which hosts are down both come from here.
package probe

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"

	"github.com/illico-dev/illico/internal/fleet"
)

// Checker runs checks with one HTTP client, so connections are reused and
// the transport's limits apply across checks.
type Checker struct {
	client *http.Client
}

// NewChecker returns a checker that sends HTTP checks through client. The
// client must not follow redirects blindly for checks that expect a 3xx;
// NewChecker leaves redirect handling to the check's expected status.
func NewChecker(client *http.Client) *Checker {
	c := *client
	c.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	return &Checker{client: &c}
}

// Run runs one check, already expanded for its host, and returns nil when
// it passes, or an error that says what was seen.
func (c *Checker) Run(ctx context.Context, chk fleet.Check) error {
	ctx, cancel := context.WithTimeout(ctx, chk.Timeout)
	defer cancel()
	switch chk.Kind {
	case fleet.CheckHTTP:
		return c.http(ctx, chk)
	case fleet.CheckTCP:
		var d net.Dialer
		conn, err := d.DialContext(ctx, "tcp", chk.Address)
		if err != nil {
			return fmt.Errorf("%s: %w", chk.Name, err)
		}
		return conn.Close()
	}
	return fmt.Errorf("%s: unknown check kind %q", chk.Name, chk.Kind)
}

func (c *Checker) http(ctx context.Context, chk fleet.Check) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, chk.URL, nil)
	if err != nil {
		return fmt.Errorf("%s: %w", chk.Name, err)
	}
	req.Header.Set("User-Agent", "illico-check")
	resp, err := c.client.Do(req)
	if err != nil {
		return fmt.Errorf("%s: %w", chk.Name, err)
	}
	// Drain a little so the connection can be reused.
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	resp.Body.Close()
	if resp.StatusCode != chk.Status {
		return fmt.Errorf("%s: %s answered %d, want %d", chk.Name, chk.URL, resp.StatusCode, chk.Status)
	}
	return nil
}

// Host runs every check of a host (its own and its groups', expanded) and
// returns the first failure, or nil when all pass.
func (c *Checker) Host(ctx context.Context, inv *fleet.Inventory, h *fleet.Host) error {
	for _, chk := range Checks(inv, h) {
		if err := c.Run(ctx, chk); err != nil {
			return err
		}
	}
	return nil
}

// Checks returns every check that applies to host h, expanded for it: its
// groups' checks first, then its own.
func Checks(inv *fleet.Inventory, h *fleet.Host) []fleet.Check {
	var out []fleet.Check
	for _, gname := range h.Groups {
		if g := inv.Group(gname); g != nil {
			for _, chk := range g.Checks {
				out = append(out, chk.Expand(h))
			}
		}
	}
	for _, chk := range h.Checks {
		out = append(out, chk.Expand(h))
	}
	return out
}

// Down runs the checks of every host at once (at most 32 at a time) and
// returns the hosts whose checks fail, with the first failure as reason.
func (c *Checker) Down(ctx context.Context, inv *fleet.Inventory, hosts []*fleet.Host) map[string]string {
	type result struct {
		host string
		err  error
	}
	results := make(chan result, len(hosts))
	sem := make(chan struct{}, 32)
	for _, h := range hosts {
		go func() {
			sem <- struct{}{}
			defer func() { <-sem }()
			results <- result{h.Name, c.Host(ctx, inv, h)}
		}()
	}
	down := map[string]string{}
	for range hosts {
		if r := <-results; r.err != nil {
			down[r.host] = "failing its checks (" + r.err.Error() + ")"
		}
	}
	return down
}
