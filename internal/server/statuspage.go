package server

import (
	"context"
	"net/http"
	"slices"
	"time"

	"github.com/illico-dev/illico/internal/api"
	"github.com/illico-dev/illico/internal/fleet"
	"github.com/illico-dev/illico/internal/httpjson"
	"github.com/illico-dev/illico/internal/inventory"
	"github.com/illico-dev/illico/internal/statuspage/page"
	"github.com/illico-dev/illico/internal/statuspage/site"
)

// The operators' API for the status page: package statuspage/site changes the
// page; these handlers read the requests, turn them from and to the API's
// wire types, log who changed what, and answer.

// getStatus answers GET /api/v1/status: the page's status as stored, each
// component with the status the page shows.
func (s *Server) getStatus(w http.ResponseWriter, r *http.Request) error {
	st, err := s.site.Status(r.Context())
	if err != nil {
		return err
	}
	httpjson.Write(w, http.StatusOK, statusPageOut(st, s.site.TimeZone()))
	return nil
}

// openIncident answers POST /api/v1/status/incidents.
func (s *Server) openIncident(w http.ResponseWriter, r *http.Request) error {
	var req api.NewIncident
	if err := httpjson.Decode(r, &req); err != nil {
		return err
	}
	in, err := s.site.OpenIncident(r.Context(), site.NewIncident{Name: req.Name, Status: fleet.IncidentStatus(req.Status),
		Impact: fleet.Impact(req.Impact), Components: req.Components, Body: req.Body})
	if err != nil {
		return err
	}
	s.logStatusEdit(r.Context(), "incident opened", in.ID)
	httpjson.Write(w, http.StatusCreated, incidentOut(in))
	return nil
}

// addIncidentUpdate answers POST /api/v1/status/incidents/{id}/updates.
func (s *Server) addIncidentUpdate(w http.ResponseWriter, r *http.Request) error {
	var req api.NewStatusUpdate
	if err := httpjson.Decode(r, &req); err != nil {
		return err
	}
	id := r.PathValue("id")
	in, err := s.site.AddIncidentUpdate(r.Context(), id, updateIn(req))
	if err != nil {
		return err
	}
	s.logStatusEdit(r.Context(), "incident updated", id)
	httpjson.Write(w, http.StatusCreated, incidentOut(in))
	return nil
}

// addMaintenanceUpdate answers POST /api/v1/status/maintenances/{id}/updates.
func (s *Server) addMaintenanceUpdate(w http.ResponseWriter, r *http.Request) error {
	var req api.NewStatusUpdate
	if err := httpjson.Decode(r, &req); err != nil {
		return err
	}
	id := r.PathValue("id")
	m, err := s.site.AddMaintenanceUpdate(r.Context(), id, updateIn(req))
	if err != nil {
		return err
	}
	s.logStatusEdit(r.Context(), "maintenance updated", id)
	httpjson.Write(w, http.StatusCreated, maintenanceOut(m))
	return nil
}

// scheduleMaintenance answers POST /api/v1/status/maintenances: a
// maintenance no rollout drives.
func (s *Server) scheduleMaintenance(w http.ResponseWriter, r *http.Request) error {
	var req api.NewMaintenance
	if err := httpjson.Decode(r, &req); err != nil {
		return err
	}
	var hosts []string
	if req.Hosts != "" {
		selected, err := inventory.Select(s.inventory(), req.Hosts)
		if err != nil {
			return &fleet.Error{Kind: fleet.KindInvalid, Msg: "request body: hosts", Err: err}
		}
		if len(selected) == 0 {
			return fleet.Errorf(fleet.KindInvalid, "request body: hosts: the selection %q holds no host", req.Hosts)
		}
		for _, h := range selected {
			hosts = append(hosts, h.Name)
		}
	}
	m, err := s.site.ScheduleMaintenance(r.Context(), site.NewMaintenance{Name: req.Name, Components: req.Components, Hosts: hosts,
		ScheduledFor: req.ScheduledFor, ScheduledUntil: req.ScheduledUntil, Body: req.Body})
	if err != nil {
		return err
	}
	s.logStatusEdit(r.Context(), "maintenance scheduled", m.ID)
	httpjson.Write(w, http.StatusCreated, maintenanceOut(m))
	return nil
}

// setComponentStatus answers POST /api/v1/status/components/{id}: the
// operator's status for a component, or "auto" for its hosts' again.
func (s *Server) setComponentStatus(w http.ResponseWriter, r *http.Request) error {
	var req api.ComponentStatus
	if err := httpjson.Decode(r, &req); err != nil {
		return err
	}
	override := fleet.ComponentStatus(req.Status)
	switch {
	case req.Status == api.AutoStatus:
		override = ""
	case !override.Valid():
		return fleet.Errorf(fleet.KindInvalid, "request body: status %q is not one of auto, operational, under_maintenance, degraded_performance, partial_outage, major_outage", req.Status)
	}
	id := r.PathValue("id")
	c, shown, err := s.site.SetComponentStatus(r.Context(), id, override)
	if err != nil {
		return err
	}
	s.logStatusEdit(r.Context(), "component status set to "+req.Status, id)
	httpjson.Write(w, http.StatusOK, componentOut(c, shown))
	return nil
}

func (s *Server) logStatusEdit(ctx context.Context, what, id string) {
	s.log.Info("status page: "+what, "request_id", requestID(ctx), "id", id, "by", info(ctx).actor())
}

// The page's status in the API's wire types.

func updateIn(req api.NewStatusUpdate) site.NewUpdate {
	return site.NewUpdate{Status: req.Status, Body: req.Body, ScheduledUntil: req.ScheduledUntil}
}

// statusPageOut is the page's status as stored, each component with the
// status the page shows, its times in zone tz.
func statusPageOut(st fleet.Status, tz *time.Location) api.StatusPage {
	out := api.StatusPage{Version: st.Version, UpdatedAt: st.UpdatedAt, TimeZone: tz.String(),
		Components: []api.StatusComponent{}, Incidents: []api.Incident{}, Maintenances: []api.Maintenance{}}
	for _, c := range st.Components {
		out.Components = append(out.Components, componentOut(c, page.Derive(c, st.Hosts, st.Maintenance)))
	}
	for _, in := range st.Incidents {
		out.Incidents = append(out.Incidents, incidentOut(in))
	}
	for _, m := range st.Maintenance {
		out.Maintenances = append(out.Maintenances, maintenanceOut(m))
	}
	return out
}

func updatesOut(us []fleet.StatusUpdate) []api.StatusUpdate {
	out := []api.StatusUpdate{}
	for _, u := range us {
		out = append(out, api.StatusUpdate{ID: u.ID, Status: u.Status, Body: u.Body, CreatedAt: u.CreatedAt})
	}
	return out
}

func incidentOut(in fleet.Incident) api.Incident {
	return api.Incident{
		ID: in.ID, Name: in.Name, Status: string(in.Status), Impact: string(in.Impact),
		Components: append([]string{}, in.Components...), Rollout: in.Rollout, CreatedAt: in.CreatedAt,
		ResolvedAt: httpjson.OptionalTime(in.ResolvedAt), Updates: updatesOut(in.Updates),
	}
}

func maintenanceOut(m fleet.Maintenance) api.Maintenance {
	return api.Maintenance{
		ID: m.ID, Name: m.Name, Status: string(m.Status), Components: append([]string{}, m.Components...),
		Rollout: m.Rollout, Hosts: slices.Clone(m.Hosts), ScheduledFor: m.ScheduledFor, ScheduledUntil: m.ScheduledUntil,
		CompletedAt: httpjson.OptionalTime(m.CompletedAt), Updates: updatesOut(m.Updates),
	}
}

// componentOut is component c, shown as status on the page.
func componentOut(c fleet.Component, shown fleet.ComponentStatus) api.StatusComponent {
	return api.StatusComponent{ID: c.ID, Name: c.Name, Status: string(shown),
		Override: string(c.Override), Hosts: append([]string{}, c.Hosts...)}
}
