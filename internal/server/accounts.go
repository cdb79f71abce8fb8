package server

import (
	"fmt"
	"net/http"

	"github.com/illico-dev/illico/internal/api"
	"github.com/illico-dev/illico/internal/fleet"
	"github.com/illico-dev/illico/internal/httpjson"
	"github.com/illico-dev/illico/internal/store"
)

func apiAccount(a store.Account) api.Account {
	return api.Account{Name: a.Name, Role: string(a.Role), Created: a.Created, PasswordChanged: a.PasswordChanged,
		LastLogin: httpjson.OptionalTime(a.LastLogin), Disabled: httpjson.OptionalTime(a.Disabled)}
}

// listAccounts answers GET /api/v1/accounts.
func (s *Server) listAccounts(w http.ResponseWriter, r *http.Request) error {
	list, err := s.store.ListAccounts(r.Context())
	if err != nil {
		return s.storeErr("list_accounts", err)
	}
	out := api.Accounts{Accounts: []api.Account{}}
	for _, a := range list {
		out.Accounts = append(out.Accounts, apiAccount(a))
	}
	httpjson.Write(w, http.StatusOK, out)
	return nil
}

// createAccount answers POST /api/v1/accounts.
func (s *Server) createAccount(w http.ResponseWriter, r *http.Request) error {
	var req api.CreateAccount
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
	a, err := s.store.CreateAccount(r.Context(), req.Name, role, req.Password)
	if err != nil {
		return s.storeErr("create_account", err)
	}
	s.accountEvent(r, "account.created", a, fmt.Sprintf("account %s created with role %s", a.Name, a.Role))
	httpjson.Write(w, http.StatusCreated, apiAccount(a))
	return nil
}

// removeAccount answers DELETE /api/v1/accounts/{name}; the account's
// dashboard sessions end at their next page.
func (s *Server) removeAccount(w http.ResponseWriter, r *http.Request) error {
	a, err := s.store.RemoveAccount(r.Context(), r.PathValue("name"))
	if err != nil {
		return s.storeErr("remove_account", err)
	}
	s.accountEvent(r, "account.removed", a, "account "+a.Name+" removed")
	httpjson.Write(w, http.StatusOK, apiAccount(a))
	return nil
}

// disableAccount answers POST /api/v1/accounts/{name}/disable and enable.
func (s *Server) disableAccount(disabled bool) handler {
	kind, verb := "account.enabled", "enabled"
	if disabled {
		kind, verb = "account.disabled", "disabled"
	}
	return func(w http.ResponseWriter, r *http.Request) error {
		a, err := s.store.SetAccountDisabled(r.Context(), r.PathValue("name"), disabled)
		if err != nil {
			return s.storeErr("disable_account", err)
		}
		s.accountEvent(r, kind, a, "account "+a.Name+" "+verb)
		httpjson.Write(w, http.StatusOK, apiAccount(a))
		return nil
	}
}

// setAccountPassword answers POST /api/v1/accounts/{name}/password: an
// account changes its own with its old password, an admin any without.
// Either way, the account's dashboard sessions end.
func (s *Server) setAccountPassword(w http.ResponseWriter, r *http.Request) error {
	name := r.PathValue("name")
	var req api.SetPassword
	if err := httpjson.Decode(r, &req); err != nil {
		return err
	}
	ri := info(r.Context())
	switch {
	case ri.account != nil && ri.account.Name == name:
		if req.OldPassword == "" {
			return fleet.Errorf(fleet.KindInvalid, "to change your own password, give the current one too (old_password)")
		}
		if _, err := s.store.AuthenticateAccount(r.Context(), name, req.OldPassword); err != nil {
			if fleet.KindOf(err) == fleet.KindUnauthorized {
				return fleet.Errorf(fleet.KindForbidden, "the current password is wrong")
			}
			return s.storeErr("authenticate_account", err)
		}
	case !ri.token.Role.Allows(fleet.RoleAdmin):
		return fleet.Errorf(fleet.KindForbidden, "%s may change only its own password; an admin may change any account's", ri.actor())
	}
	a, err := s.store.SetAccountPassword(r.Context(), name, req.Password)
	if err != nil {
		return s.storeErr("set_account_password", err)
	}
	s.accountEvent(r, "account.password", a, "password of account "+a.Name+" changed")
	httpjson.Write(w, http.StatusOK, apiAccount(a))
	return nil
}

// accountEvent records and logs a change to account a, with who made it.
func (s *Server) accountEvent(r *http.Request, kind string, a store.Account, what string) {
	by := info(r.Context()).actor()
	s.log.Info(what, "request_id", requestID(r.Context()), "account", a.Name, "role", a.Role, "by", by)
	s.appendEvent(r, store.Event{Kind: kind, Subject: a.Name, Message: what + " by " + by})
}
