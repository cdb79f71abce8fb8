package client

import (
	"context"
	"net/http"
	"net/url"

	"github.com/illico-dev/illico/internal/api"
)

// Drain takes host out of service by hand, through the daemon's ledger;
// a budget that does not allow it is refused (fleet.KindConflict) unless
// d.Force.
func (c *Client) Drain(ctx context.Context, host string, d api.Drain) (api.Drained, error) {
	var out api.Drained
	err := c.do(ctx, http.MethodPost, api.Prefix+"/hosts/"+url.PathEscape(host)+"/drain", d, &out)
	return out, err
}

// Undrain puts a drained host back in service and returns the lease it
// ended.
func (c *Client) Undrain(ctx context.Context, host string) (api.Lease, error) {
	var out api.Lease
	err := c.do(ctx, http.MethodPost, api.Prefix+"/hosts/"+url.PathEscape(host)+"/undrain", struct{}{}, &out)
	return out, err
}

// Budgets lists every group with its members out of service and why.
func (c *Client) Budgets(ctx context.Context) ([]api.GroupBudget, error) {
	var out api.Budgets
	err := c.do(ctx, http.MethodGet, api.Prefix+"/budget", nil, &out)
	return out.Groups, err
}
