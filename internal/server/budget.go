package server

import (
	"net/http"
	"strings"

	"github.com/illico-dev/illico/internal/api"
	"github.com/illico-dev/illico/internal/fleet"
	"github.com/illico-dev/illico/internal/httpjson"
	"github.com/illico-dev/illico/internal/rollout"
	"github.com/illico-dev/illico/internal/store"
)

func apiLease(l fleet.Lease) api.Lease {
	return api.Lease{Host: l.Host, Kind: string(l.Kind), Holder: l.Holder, Reason: l.Reason, Since: l.Since.UTC()}
}

// drainHost answers POST /api/v1/hosts/{name}/drain: an operator takes a
// host out of service by hand, through the disruption ledger.
func (s *Server) drainHost(w http.ResponseWriter, r *http.Request) error {
	var in api.Drain
	if err := httpjson.Decode(r, &in); err != nil {
		return err
	}
	by := info(r.Context()).actor()
	d, err := s.engine.Drain(r.Context(), rollout.DrainRequest{Host: r.PathValue("name"), By: by, Reason: strings.TrimSpace(in.Reason), Force: in.Force})
	if d.Lease.Host != "" {
		msg := by + " drained " + d.Lease.Host
		if d.Lease.Reason != "" {
			msg += ": " + d.Lease.Reason
		}
		if d.Broke != "" {
			msg += " (forced, breaking a budget: " + d.Broke + ")"
		}
		s.log.Info("host drained", "request_id", requestID(r.Context()), "host", d.Lease.Host, "by", by, "forced", d.Broke != "")
		s.appendEvent(r, store.Event{Kind: "host.drained", Subject: "host " + d.Lease.Host, Message: msg})
	}
	if err != nil {
		return s.storeErr("drain_host", err)
	}
	httpjson.Write(w, http.StatusOK, api.Drained{Lease: apiLease(d.Lease), Broke: d.Broke})
	return nil
}

// undrainHost answers POST /api/v1/hosts/{name}/undrain.
func (s *Server) undrainHost(w http.ResponseWriter, r *http.Request) error {
	l, err := s.engine.Undrain(r.Context(), r.PathValue("name"))
	if err != nil {
		return s.storeErr("undrain_host", err)
	}
	by := info(r.Context()).actor()
	s.log.Info("host undrained", "request_id", requestID(r.Context()), "host", l.Host, "by", by)
	s.appendEvent(r, store.Event{Kind: "host.undrained", Subject: "host " + l.Host, Message: by + " put " + l.Host + " back in service, ending its lease: " + l.String()})
	httpjson.Write(w, http.StatusOK, apiLease(l))
	return nil
}

// budgets answers GET /api/v1/budget.
func (s *Server) budgets(w http.ResponseWriter, r *http.Request) error {
	groups, err := s.engine.Budgets(r.Context())
	if err != nil {
		return s.storeErr("leases", err)
	}
	out := api.Budgets{Groups: []api.GroupBudget{}}
	for _, g := range groups {
		ag := api.GroupBudget{Name: g.Name, Allowed: g.Allowed, Members: []api.MemberBudget{}}
		for _, m := range g.Members {
			am := api.MemberBudget{Host: m.Host, Out: m.Out}
			if m.Lease != nil {
				l := apiLease(*m.Lease)
				am.Lease = &l
			}
			if m.Out != "" {
				ag.Out++
			}
			ag.Members = append(ag.Members, am)
		}
		out.Groups = append(out.Groups, ag)
	}
	httpjson.Write(w, http.StatusOK, out)
	return nil
}
