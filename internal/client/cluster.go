package client

import (
	"context"
	"net/http"

	"github.com/illico-dev/illico/internal/api"
)

// Cluster says which replicas share the daemon's database and which one
// leads; any replica answers it itself.
func (c *Client) Cluster(ctx context.Context) (api.Cluster, error) {
	var out api.Cluster
	err := c.do(ctx, http.MethodGet, api.Prefix+"/cluster", nil, &out)
	return out, err
}
