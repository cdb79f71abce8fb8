package server

import (
	"net/http"
	"strings"

	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/illico-dev/illico/internal/dashboard"
	"github.com/illico-dev/illico/internal/fleet"
	"github.com/illico-dev/illico/internal/rollout"
)

// routes is every endpoint of the daemon, with the role each one needs.
// Reading needs any token, changing the fleet's state an operator's, and
// managing tokens an admin's. The dashboard, under dashboard.Prefix, calls
// the API in-process through the handler routes returns: dash makes it
// from that handler.
func (s *Server) routes(dash func(api http.Handler) (http.Handler, error)) (http.Handler, error) {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /healthz", s.health)
	mux.Handle("GET /api/v1/cluster", s.authorize(fleet.RoleReader, s.cluster))
	mux.Handle("GET /metrics", promhttp.HandlerFor(s.metrics.registry, promhttp.HandlerOpts{
		ErrorLog: promLogger{s.log},
	}))

	mux.Handle("GET /api/v1/inventory", s.authorize(fleet.RoleReader, s.getInventory))
	mux.Handle("POST /api/v1/inventory/reload", s.authorize(fleet.RoleOperator, s.reloadInventory))
	mux.Handle("GET /api/v1/hosts", s.authorize(fleet.RoleReader, s.listHosts))
	mux.Handle("GET /api/v1/hosts/{name}", s.authorize(fleet.RoleReader, s.getHost))
	mux.Handle("POST /api/v1/hosts/{name}/drain", s.authorize(fleet.RoleOperator, s.drainHost))
	mux.Handle("POST /api/v1/hosts/{name}/undrain", s.authorize(fleet.RoleOperator, s.undrainHost))
	mux.Handle("GET /api/v1/budget", s.authorize(fleet.RoleReader, s.budgets))
	mux.Handle("GET /api/v1/groups", s.authorize(fleet.RoleReader, s.listGroups))
	mux.Handle("GET /api/v1/groups/{name}", s.authorize(fleet.RoleReader, s.getGroup))

	mux.Handle("POST /api/v1/rollouts", s.authorize(fleet.RoleOperator, s.startRollout))
	mux.Handle("GET /api/v1/rollouts", s.authorize(fleet.RoleReader, s.listRollouts))
	mux.Handle("GET /api/v1/rollouts/{id}", s.authorize(fleet.RoleReader, s.getRollout))
	mux.Handle("POST /api/v1/rollouts/{id}/pause", s.authorize(fleet.RoleOperator, s.orderRollout(rollout.Pause)))
	mux.Handle("POST /api/v1/rollouts/{id}/resume", s.authorize(fleet.RoleOperator, s.orderRollout(rollout.Resume)))
	mux.Handle("POST /api/v1/rollouts/{id}/abort", s.authorize(fleet.RoleOperator, s.orderRollout(rollout.Abort)))
	mux.Handle("GET /api/v1/rollouts/{id}/events", s.authorize(fleet.RoleReader, s.rolloutEvents))

	mux.Handle("GET /api/v1/status", s.authorize(fleet.RoleReader, s.getStatus))
	mux.Handle("POST /api/v1/status/incidents", s.authorize(fleet.RoleOperator, s.openIncident))
	mux.Handle("POST /api/v1/status/incidents/{id}/updates", s.authorize(fleet.RoleOperator, s.addIncidentUpdate))
	mux.Handle("POST /api/v1/status/maintenances/{id}/updates", s.authorize(fleet.RoleOperator, s.addMaintenanceUpdate))
	mux.Handle("POST /api/v1/status/maintenances", s.authorize(fleet.RoleOperator, s.scheduleMaintenance))
	mux.Handle("POST /api/v1/status/components/{id}", s.authorize(fleet.RoleOperator, s.setComponentStatus))

	mux.Handle("GET /api/v1/probes", s.authorize(fleet.RoleReader, s.listProbes))
	mux.Handle("GET /api/v1/alerts", s.authorize(fleet.RoleReader, s.listAlerts))
	mux.Handle("GET /api/v1/silences", s.authorize(fleet.RoleReader, s.listSilences))
	mux.Handle("POST /api/v1/silences", s.authorize(fleet.RoleOperator, s.addSilence))
	mux.Handle("DELETE /api/v1/silences/{id}", s.authorize(fleet.RoleOperator, s.expireSilence))
	// Alertmanager sends its webhook with an operator's token as bearer
	// (http_config.authorization); its firing alerts may pause rollouts,
	// and a notification may list thousands of alerts.
	mux.Handle("POST /api/v1/alertmanager", s.authorize(fleet.RoleOperator, allowBody(maxAlertmanagerBody, s.alertmanager)))

	mux.Handle("GET /api/v1/tokens", s.authorize(fleet.RoleAdmin, s.listTokens))
	mux.Handle("POST /api/v1/tokens", s.authorize(fleet.RoleAdmin, s.createToken))
	mux.Handle("DELETE /api/v1/tokens/{id}", s.authorize(fleet.RoleAdmin, s.revokeToken))

	mux.Handle("GET /api/v1/accounts", s.authorize(fleet.RoleAdmin, s.listAccounts))
	mux.Handle("POST /api/v1/accounts", s.authorize(fleet.RoleAdmin, s.createAccount))
	mux.Handle("DELETE /api/v1/accounts/{name}", s.authorize(fleet.RoleAdmin, s.removeAccount))
	mux.Handle("POST /api/v1/accounts/{name}/disable", s.authorize(fleet.RoleAdmin, s.disableAccount(true)))
	mux.Handle("POST /api/v1/accounts/{name}/enable", s.authorize(fleet.RoleAdmin, s.disableAccount(false)))
	// An account changes its own password; an admin, anyone's.
	mux.Handle("POST /api/v1/accounts/{name}/password", s.authorize(fleet.RoleReader, s.setAccountPassword))

	// Anything else under /api answers in JSON like the rest of the API:
	// this pattern takes every method, so the mux's own 405 is said here.
	mux.HandleFunc("/api/", func(w http.ResponseWriter, r *http.Request) {
		if allow := allowed(mux, r); len(allow) > 0 {
			w.Header().Set("Allow", strings.Join(allow, ", "))
			s.writeError(w, r, fleet.Errorf(fleet.KindMethodNotAllowed, "%s %s: this endpoint takes %s", r.Method, r.URL.Path, strings.Join(allow, ", ")))
			return
		}
		s.writeError(w, r, fleet.Errorf(fleet.KindNotFound, "no API endpoint %s %s", r.Method, r.URL.Path))
	})
	h := chain(route(mux), s.observe, limitBody, s.toLeader)
	d, err := dash(h)
	if err != nil {
		return nil, err
	}
	mux.Handle(dashboard.Prefix, d)
	return h, nil
}

// allowed lists the methods that a route of mux other than the fallback
// under /api/ takes at r's path.
func allowed(mux *http.ServeMux, r *http.Request) []string {
	var out []string
	for _, m := range []string{http.MethodGet, http.MethodHead, http.MethodPost, http.MethodPut, http.MethodPatch, http.MethodDelete} {
		probe := *r
		probe.Method = m
		if _, pattern := mux.Handler(&probe); pattern != "" && pattern != "/api/" {
			out = append(out, m)
		}
	}
	return out
}
