package server

import (
	"net/http"

	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/illico-dev/illico/internal/dashboard"
	"github.com/illico-dev/illico/internal/fleet"
	"github.com/illico-dev/illico/internal/rollout"
	"github.com/illico-dev/illico/internal/store"
)

// routes is every endpoint of the daemon, with the role each one needs.
// Reading needs any token, changing the fleet's state an operator's, and
// managing tokens an admin's.
func (s *Server) routes() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /healthz", s.health)
	mux.Handle("GET /metrics", promhttp.HandlerFor(s.metrics.registry, promhttp.HandlerOpts{
		ErrorLog: promLogger{s.log},
	}))

	mux.Handle("GET /api/v1/inventory", s.authorize(store.RoleReader, s.getInventory))
	mux.Handle("POST /api/v1/inventory/reload", s.authorize(store.RoleOperator, s.reloadInventory))
	mux.Handle("GET /api/v1/hosts", s.authorize(store.RoleReader, s.listHosts))
	mux.Handle("GET /api/v1/hosts/{name}", s.authorize(store.RoleReader, s.getHost))
	mux.Handle("GET /api/v1/groups", s.authorize(store.RoleReader, s.listGroups))
	mux.Handle("GET /api/v1/groups/{name}", s.authorize(store.RoleReader, s.getGroup))

	mux.Handle("POST /api/v1/rollouts", s.authorize(store.RoleOperator, s.startRollout))
	mux.Handle("GET /api/v1/rollouts", s.authorize(store.RoleReader, s.listRollouts))
	mux.Handle("GET /api/v1/rollouts/{id}", s.authorize(store.RoleReader, s.getRollout))
	mux.Handle("POST /api/v1/rollouts/{id}/pause", s.authorize(store.RoleOperator, s.orderRollout(rollout.Pause)))
	mux.Handle("POST /api/v1/rollouts/{id}/resume", s.authorize(store.RoleOperator, s.orderRollout(rollout.Resume)))
	mux.Handle("POST /api/v1/rollouts/{id}/abort", s.authorize(store.RoleOperator, s.orderRollout(rollout.Abort)))
	mux.Handle("GET /api/v1/rollouts/{id}/events", s.authorize(store.RoleReader, s.rolloutEvents))

	mux.Handle("GET /api/v1/status", s.authorize(store.RoleReader, s.getStatus))
	mux.Handle("POST /api/v1/status/incidents", s.authorize(store.RoleOperator, s.openIncident))
	mux.Handle("POST /api/v1/status/incidents/{id}/updates", s.authorize(store.RoleOperator, s.addIncidentUpdate))
	mux.Handle("POST /api/v1/status/maintenances/{id}/updates", s.authorize(store.RoleOperator, s.addMaintenanceUpdate))
	mux.Handle("POST /api/v1/status/maintenances", s.authorize(store.RoleOperator, s.scheduleMaintenance))
	mux.Handle("POST /api/v1/status/components/{id}", s.authorize(store.RoleOperator, s.setComponentStatus))

	mux.Handle("GET /api/v1/probes", s.authorize(store.RoleReader, s.listProbes))
	mux.Handle("GET /api/v1/alerts", s.authorize(store.RoleReader, s.listAlerts))
	mux.Handle("GET /api/v1/silences", s.authorize(store.RoleReader, s.listSilences))
	mux.Handle("POST /api/v1/silences", s.authorize(store.RoleOperator, s.addSilence))
	mux.Handle("DELETE /api/v1/silences/{id}", s.authorize(store.RoleOperator, s.expireSilence))
	// Alertmanager sends its webhook with an operator's token as bearer
	// (http_config.authorization); its firing alerts may pause rollouts.
	mux.Handle("POST /api/v1/alertmanager", s.authorize(store.RoleOperator, s.alertmanager))

	mux.Handle("GET /api/v1/tokens", s.authorize(store.RoleAdmin, s.listTokens))
	mux.Handle("POST /api/v1/tokens", s.authorize(store.RoleAdmin, s.createToken))
	mux.Handle("DELETE /api/v1/tokens/{id}", s.authorize(store.RoleAdmin, s.revokeToken))

	mux.Handle("GET /api/v1/accounts", s.authorize(store.RoleAdmin, s.listAccounts))
	mux.Handle("POST /api/v1/accounts", s.authorize(store.RoleAdmin, s.createAccount))
	mux.Handle("DELETE /api/v1/accounts/{name}", s.authorize(store.RoleAdmin, s.removeAccount))
	mux.Handle("POST /api/v1/accounts/{name}/disable", s.authorize(store.RoleAdmin, s.disableAccount(true)))
	mux.Handle("POST /api/v1/accounts/{name}/enable", s.authorize(store.RoleAdmin, s.disableAccount(false)))
	// An account changes its own password; an admin, anyone's.
	mux.Handle("POST /api/v1/accounts/{name}/password", s.authorize(store.RoleReader, s.setAccountPassword))

	mux.Handle(dashboard.Prefix, s.dashboard)

	// Anything else under /api answers in JSON like the rest of the API.
	mux.HandleFunc("/api/", func(w http.ResponseWriter, r *http.Request) {
		s.writeError(w, r, fleet.Errorf(fleet.KindNotFound, "no API endpoint %s %s", r.Method, r.URL.Path))
	})
	return chain(route(mux), s.observe, limitBody)
}
