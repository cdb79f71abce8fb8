package server

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"strconv"
	"time"

	"github.com/illico-dev/illico/internal/api"
	"github.com/illico-dev/illico/internal/fleet"
	"github.com/illico-dev/illico/internal/httpjson"
	"github.com/illico-dev/illico/internal/store"
	"github.com/illico-dev/illico/internal/yamlx"
)

func (s *Server) health(w http.ResponseWriter, r *http.Request) {
	ctx, cancel := context.WithTimeout(r.Context(), 5*time.Second)
	defer cancel()
	if err := s.store.Ping(ctx); err != nil {
		s.writeError(w, r, s.storeErr("ping", err))
		return
	}
	httpjson.Write(w, http.StatusOK, api.Health{Status: "ok", Replica: s.lead.replica.ID, Leader: s.lead.leads()})
}

// promLogger sends promhttp's errors to the daemon's log.
type promLogger struct{ log *slog.Logger }

func (l promLogger) Println(v ...any) { l.log.Error("serve metrics", "err", fmt.Sprint(v...)) }

func (s *Server) getInventory(w http.ResponseWriter, _ *http.Request) error {
	httpjson.Write(w, http.StatusOK, s.summary(s.inv.Load()))
	return nil
}

func (s *Server) reloadInventory(w http.ResponseWriter, r *http.Request) error {
	l, err := s.reload()
	if err != nil {
		return err
	}
	by := info(r.Context()).actor()
	_, err = s.store.AppendEvent(r.Context(), store.Event{Kind: "inventory.reloaded", Subject: s.invPath,
		Message: fmt.Sprintf("inventory reloaded by %s: %d hosts, %d groups", by, len(l.inv.Hosts), len(l.inv.Groups))})
	if err != nil {
		// The new inventory is in force either way; say so in the log.
		s.log.Error("record inventory reload", "request_id", requestID(r.Context()), "err", s.storeErr("append_event", err))
	}
	httpjson.Write(w, http.StatusOK, s.summary(l))
	return nil
}

func (s *Server) summary(l *loaded) api.Inventory {
	inv := l.inv
	out := api.Inventory{
		Counts: api.Counts{
			Sites: len(inv.Sites), Datacenters: len(inv.Datacenters), Hosts: len(inv.Hosts),
			Groups: len(inv.Groups), LoadBalancers: len(inv.LoadBalancers),
		},
		Sites:       []api.Site{},
		Datacenters: []api.Datacenter{},
		Groups:      []api.Group{},
	}
	if s.invPath != "" {
		out.Path = s.invPath
		at := l.at.UTC()
		out.Loaded = &at
	}
	hostsIn := map[string]int{}
	for _, h := range inv.Hosts {
		hostsIn[h.Datacenter]++
	}
	for _, site := range inv.Sites {
		as := api.Site{Name: site.Name, Datacenters: []string{}}
		for _, dc := range inv.Datacenters {
			if dc.Site == site.Name {
				as.Datacenters = append(as.Datacenters, dc.Name)
			}
		}
		out.Sites = append(out.Sites, as)
	}
	for _, dc := range inv.Datacenters {
		out.Datacenters = append(out.Datacenters, api.Datacenter{Name: dc.Name, Site: dc.Site, Hosts: hostsIn[dc.Name]})
	}
	for _, g := range inv.Groups {
		out.Groups = append(out.Groups, apiGroup(g))
	}
	return out
}

func apiGroup(g *fleet.Group) api.Group {
	ag := api.Group{
		Name:      g.Name,
		Budget:    g.Budget.String(),
		Allowed:   g.Budget.Allowed(len(g.Members)),
		Component: g.Component,
		Members:   append([]string{}, g.Members...),
	}
	if g.Balancer != nil {
		ag.LoadBalancer = &api.Membership{Name: g.Balancer.LoadBalancer, Backend: g.Balancer.Backend}
	}
	return ag
}

func apiHost(h *fleet.Host) api.Host {
	return api.Host{
		Name: h.Name, Address: h.Address, Datacenter: h.Datacenter, Site: h.Site,
		Groups: append([]string{}, h.Groups...), Labels: h.Labels,
	}
}

func (s *Server) listHosts(w http.ResponseWriter, _ *http.Request) error {
	out := api.Hosts{Hosts: []api.Host{}}
	for _, h := range s.inventory().Hosts {
		out.Hosts = append(out.Hosts, apiHost(h))
	}
	httpjson.Write(w, http.StatusOK, out)
	return nil
}

func (s *Server) getHost(w http.ResponseWriter, r *http.Request) error {
	inv := s.inventory()
	name := r.PathValue("name")
	h := inv.Host(name)
	if h == nil {
		return notFound("host", name, inv.Hosts, func(h *fleet.Host) string { return h.Name })
	}
	httpjson.Write(w, http.StatusOK, apiHost(h))
	return nil
}

func (s *Server) listGroups(w http.ResponseWriter, _ *http.Request) error {
	out := api.Groups{Groups: []api.Group{}}
	for _, g := range s.inventory().Groups {
		out.Groups = append(out.Groups, apiGroup(g))
	}
	httpjson.Write(w, http.StatusOK, out)
	return nil
}

func (s *Server) getGroup(w http.ResponseWriter, r *http.Request) error {
	inv := s.inventory()
	name := r.PathValue("name")
	g := inv.Group(name)
	if g == nil {
		return notFound("group", name, inv.Groups, func(g *fleet.Group) string { return g.Name })
	}
	httpjson.Write(w, http.StatusOK, apiGroup(g))
	return nil
}

// notFound says that no thing is named name, suggesting a close name.
func notFound[T any](thing, name string, items []T, key func(T) string) error {
	names := make([]string, len(items))
	for i, it := range items {
		names[i] = key(it)
	}
	if guess := yamlx.Closest(name, names); guess != "" {
		return fleet.Errorf(fleet.KindNotFound, "no %s named %q (did you mean %q?)", thing, name, guess)
	}
	return fleet.Errorf(fleet.KindNotFound, "no %s named %q in the inventory", thing, name)
}

func apiToken(t fleet.Token) api.Token {
	return api.Token{ID: t.ID, Name: t.Name, Role: string(t.Role), Created: t.Created,
		LastUsed: httpjson.OptionalTime(t.LastUsed), Revoked: httpjson.OptionalTime(t.Revoked)}
}

func (s *Server) listTokens(w http.ResponseWriter, r *http.Request) error {
	list, err := s.store.ListTokens(r.Context())
	if err != nil {
		return s.storeErr("list_tokens", err)
	}
	out := api.Tokens{Tokens: []api.Token{}}
	for _, t := range list {
		out.Tokens = append(out.Tokens, apiToken(t))
	}
	httpjson.Write(w, http.StatusOK, out)
	return nil
}

func (s *Server) createToken(w http.ResponseWriter, r *http.Request) error {
	var req api.CreateToken
	if err := httpjson.Decode(r, &req); err != nil {
		return err
	}
	if req.Role == "" {
		req.Role = string(fleet.RoleReader)
	}
	role, err := fleet.ParseRole(req.Role)
	if err != nil {
		return err
	}
	by := info(r.Context()).actor()
	var tok fleet.Token
	var secret fleet.Secret
	err = s.store.Tx(r.Context(), func(tx *store.Tx) error {
		var err error
		if tok, secret, err = tx.CreateToken(r.Context(), req.Name, role); err != nil {
			return err
		}
		_, err = tx.AppendEvent(r.Context(), store.Event{Kind: "token.created", Subject: tok.Name,
			Message: fmt.Sprintf("token %d (%s) created with role %s by %s", tok.ID, tok.Name, tok.Role, by)})
		return err
	})
	if err != nil {
		return s.storeErr("create_token", err)
	}
	s.log.Info("token created", "request_id", requestID(r.Context()), "token_id", tok.ID, "name", tok.Name, "role", tok.Role, "by", by)
	httpjson.Write(w, http.StatusCreated, api.CreatedToken{Token: apiToken(tok), Secret: secret.Reveal()})
	return nil
}

func (s *Server) revokeToken(w http.ResponseWriter, r *http.Request) error {
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil || id < 1 {
		return fleet.Errorf(fleet.KindInvalid, "token id %q is not a positive number", r.PathValue("id"))
	}
	by := info(r.Context()).actor()
	var tok fleet.Token
	err = s.store.Tx(r.Context(), func(tx *store.Tx) error {
		var err error
		if tok, err = tx.RevokeToken(r.Context(), id); err != nil {
			return err
		}
		_, err = tx.AppendEvent(r.Context(), store.Event{Kind: "token.revoked", Subject: tok.Name,
			Message: fmt.Sprintf("token %d (%s) revoked by %s", tok.ID, tok.Name, by)})
		return err
	})
	if err != nil {
		return s.storeErr("revoke_token", err)
	}
	s.log.Info("token revoked", "request_id", requestID(r.Context()), "token_id", tok.ID, "by", by)
	httpjson.Write(w, http.StatusOK, apiToken(tok))
	return nil
}
