package server

import (
	"context"
	"net/http"

	"github.com/illico-dev/illico/internal/api"
	"github.com/illico-dev/illico/internal/httpjson"
)

// The operators' API for the status page: package statuspage/site changes the
// page; these handlers read the requests, log who changed what, and answer.

// getStatus answers GET /api/v1/status: the page's status as stored, each
// component with the status the page shows.
func (s *Server) getStatus(w http.ResponseWriter, r *http.Request) error {
	out, err := s.site.StatusPage(r.Context())
	if err != nil {
		return err
	}
	httpjson.Write(w, http.StatusOK, out)
	return nil
}

// openIncident answers POST /api/v1/status/incidents.
func (s *Server) openIncident(w http.ResponseWriter, r *http.Request) error {
	var req api.NewIncident
	if err := httpjson.Decode(r, &req); err != nil {
		return err
	}
	in, err := s.site.OpenIncident(r.Context(), req)
	if err != nil {
		return err
	}
	s.logStatusEdit(r.Context(), "incident opened", in.ID)
	httpjson.Write(w, http.StatusCreated, in)
	return nil
}

// addIncidentUpdate answers POST /api/v1/status/incidents/{id}/updates.
func (s *Server) addIncidentUpdate(w http.ResponseWriter, r *http.Request) error {
	var req api.NewStatusUpdate
	if err := httpjson.Decode(r, &req); err != nil {
		return err
	}
	id := r.PathValue("id")
	in, err := s.site.AddIncidentUpdate(r.Context(), id, req)
	if err != nil {
		return err
	}
	s.logStatusEdit(r.Context(), "incident updated", id)
	httpjson.Write(w, http.StatusCreated, in)
	return nil
}

// addMaintenanceUpdate answers POST /api/v1/status/maintenances/{id}/updates.
func (s *Server) addMaintenanceUpdate(w http.ResponseWriter, r *http.Request) error {
	var req api.NewStatusUpdate
	if err := httpjson.Decode(r, &req); err != nil {
		return err
	}
	id := r.PathValue("id")
	m, err := s.site.AddMaintenanceUpdate(r.Context(), id, req)
	if err != nil {
		return err
	}
	s.logStatusEdit(r.Context(), "maintenance updated", id)
	httpjson.Write(w, http.StatusCreated, m)
	return nil
}

// scheduleMaintenance answers POST /api/v1/status/maintenances: a
// maintenance no rollout drives.
func (s *Server) scheduleMaintenance(w http.ResponseWriter, r *http.Request) error {
	var req api.NewMaintenance
	if err := httpjson.Decode(r, &req); err != nil {
		return err
	}
	m, err := s.site.ScheduleMaintenance(r.Context(), req)
	if err != nil {
		return err
	}
	s.logStatusEdit(r.Context(), "maintenance scheduled", m.ID)
	httpjson.Write(w, http.StatusCreated, m)
	return nil
}

// setComponentStatus answers POST /api/v1/status/components/{id}: the
// operator's status for a component, or "auto" for its hosts' again.
func (s *Server) setComponentStatus(w http.ResponseWriter, r *http.Request) error {
	var req api.ComponentStatus
	if err := httpjson.Decode(r, &req); err != nil {
		return err
	}
	id := r.PathValue("id")
	c, err := s.site.SetComponentStatus(r.Context(), id, req)
	if err != nil {
		return err
	}
	s.logStatusEdit(r.Context(), "component status set to "+req.Status, id)
	httpjson.Write(w, http.StatusOK, c)
	return nil
}

func (s *Server) logStatusEdit(ctx context.Context, what, id string) {
	s.log.Info("status page: "+what, "request_id", requestID(ctx), "id", id, "by", info(ctx).actor())
}
