package client

import (
	"context"
	"net/http"
	"net/url"

	"github.com/illico-dev/illico/internal/api"
)

// Status returns the status page as stored: its components, incidents and
// maintenances.
func (c *Client) Status(ctx context.Context) (api.StatusPage, error) {
	var out api.StatusPage
	err := c.do(ctx, http.MethodGet, api.Prefix+"/status", nil, &out)
	return out, err
}

// OpenIncident opens an incident on the status page; an unknown component,
// status or language is refused (fleet.KindInvalid).
func (c *Client) OpenIncident(ctx context.Context, in api.NewIncident) (api.Incident, error) {
	var out api.Incident
	err := c.do(ctx, http.MethodPost, api.Prefix+"/status/incidents", in, &out)
	return out, err
}

// UpdateIncident adds an update to incident id, which takes its status.
func (c *Client) UpdateIncident(ctx context.Context, id string, u api.NewStatusUpdate) (api.Incident, error) {
	var out api.Incident
	err := c.do(ctx, http.MethodPost, api.Prefix+"/status/incidents/"+url.PathEscape(id)+"/updates", u, &out)
	return out, err
}

// UpdateMaintenance adds an update to maintenance id, which takes its
// status.
func (c *Client) UpdateMaintenance(ctx context.Context, id string, u api.NewStatusUpdate) (api.Maintenance, error) {
	var out api.Maintenance
	err := c.do(ctx, http.MethodPost, api.Prefix+"/status/maintenances/"+url.PathEscape(id)+"/updates", u, &out)
	return out, err
}

// ScheduleMaintenance schedules a maintenance that no rollout drives; an
// unknown component, a window that ends before it starts or in the past,
// or a text in a language the page lacks is refused (fleet.KindInvalid).
func (c *Client) ScheduleMaintenance(ctx context.Context, m api.NewMaintenance) (api.Maintenance, error) {
	var out api.Maintenance
	err := c.do(ctx, http.MethodPost, api.Prefix+"/status/maintenances", m, &out)
	return out, err
}

// SetComponentStatus sets the status the page shows for component id
// whatever its hosts say, or hands it back to them with api.AutoStatus.
func (c *Client) SetComponentStatus(ctx context.Context, id, status string) (api.StatusComponent, error) {
	var out api.StatusComponent
	err := c.do(ctx, http.MethodPost, api.Prefix+"/status/components/"+url.PathEscape(id), api.ComponentStatus{Status: status}, &out)
	return out, err
}
