package client

import (
	"context"
	"net/http"
	"net/url"

	"github.com/illico-dev/illico/internal/api"
)

// Probes lists every probe target with its state and last result.
func (c *Client) Probes(ctx context.Context) ([]api.Probe, error) {
	var out api.Probes
	err := c.do(ctx, http.MethodGet, api.Prefix+"/probes", nil, &out)
	return out.Probes, err
}

// Alerts lists the alerts firing, and those resolved lately.
func (c *Client) Alerts(ctx context.Context) ([]api.Alert, error) {
	var out api.Alerts
	err := c.do(ctx, http.MethodGet, api.Prefix+"/alerts", nil, &out)
	return out.Alerts, err
}

// Silences lists the silences, expired ones included.
func (c *Client) Silences(ctx context.Context) ([]api.Silence, error) {
	var out api.Silences
	err := c.do(ctx, http.MethodGet, api.Prefix+"/silences", nil, &out)
	return out.Silences, err
}

// AddSilence creates a silence; a matcher that does not parse, or a
// silence without an end or a comment, is refused (fleet.KindInvalid).
func (c *Client) AddSilence(ctx context.Context, s api.NewSilence) (api.Silence, error) {
	var out api.Silence
	err := c.do(ctx, http.MethodPost, api.Prefix+"/silences", s, &out)
	return out, err
}

// ExpireSilence ends silence id now.
func (c *Client) ExpireSilence(ctx context.Context, id string) (api.Silence, error) {
	var out api.Silence
	err := c.do(ctx, http.MethodDelete, api.Prefix+"/silences/"+url.PathEscape(id), nil, &out)
	return out, err
}
