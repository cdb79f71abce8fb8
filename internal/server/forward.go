package server

import (
	"net/http"
	"net/http/httputil"
	"net/url"

	"github.com/illico-dev/illico/internal/api"
	"github.com/illico-dev/illico/internal/fleet"
)

// forwardedBy marks a request a replica forwarded to the leader, with the
// forwarding replica's ID: a replica that does not lead answers such a
// request itself (503), so that two replicas with stale views of the
// lease never pass a request back and forth.
const forwardedBy = "X-Illico-Forwarded-By"

// toLeader lets a replica that does not lead serve what every replica
// can (its health, its metrics, the cluster's state) and forwards the
// rest of the API and the dashboard to the leader, which alone runs the
// rollouts, the probes and the alerts: an operator may send any command
// to any replica. With no leader, it says so and when to retry.
func (s *Server) toLeader(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if s.lead.leads() || r.URL.Path == "/healthz" || r.URL.Path == "/metrics" || r.URL.Path == api.Prefix+"/cluster" {
			next.ServeHTTP(w, r)
			return
		}
		noLeader := func(why string) {
			w.Header().Set("Retry-After", "2")
			s.writeError(w, r, fleet.Errorf(fleet.KindUnavailable, "replica %s does not lead and cannot forward this request: %s; retry in a few seconds", s.lead.replica.ID, why))
		}
		if by := r.Header.Get(forwardedBy); by != "" {
			noLeader("replica " + by + " forwarded it here, but this replica no longer leads")
			return
		}
		lease, now, err := s.store.Leader(r.Context())
		switch {
		case err != nil:
			noLeader(err.Error())
			return
		case !now.Before(lease.Expires) || lease.Holder == s.lead.replica.ID:
			noLeader(describe(lease, now))
			return
		}
		s.leaderProxy(lease.Address).ServeHTTP(w, r)
	})
}

// leaderProxy is the reverse proxy to the leader at address. Streams (a
// rollout's events) flow through as they come.
func (s *Server) leaderProxy(address string) http.Handler {
	if p, ok := s.leaderProxies.Load(address); ok {
		return p.(http.Handler)
	}
	target, err := url.Parse(address)
	if err != nil || target.Scheme == "" || target.Host == "" {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			s.writeError(w, r, fleet.Errorf(fleet.KindUnavailable, "the leader advertises %q, which is not a URL to forward to", address))
		})
	}
	p := &httputil.ReverseProxy{
		Rewrite: func(pr *httputil.ProxyRequest) {
			pr.SetURL(target)
			pr.SetXForwarded()
			pr.Out.Header.Set(forwardedBy, s.lead.replica.ID)
		},
		FlushInterval: -1,
		ErrorHandler: func(w http.ResponseWriter, r *http.Request, err error) {
			w.Header().Set("Retry-After", "2")
			s.writeError(w, r, fleet.Errorf(fleet.KindUnavailable, "the leader at %s does not answer (%v); another replica takes over within seconds: retry", address, err))
		},
	}
	actual, _ := s.leaderProxies.LoadOrStore(address, p)
	return actual.(http.Handler)
}
