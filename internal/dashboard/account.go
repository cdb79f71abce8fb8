package dashboard

import (
	"net/http"
	"net/url"

	"github.com/illico-dev/illico/internal/api"
	"github.com/illico-dev/illico/internal/fleet"
	"github.com/illico-dev/illico/internal/httpjson"
)

// accountPage shows who is logged in, and to an account the form that
// changes its password.
func (d *Dashboard) accountPage(w http.ResponseWriter, r *http.Request, s *session) {
	d.render(w, r, http.StatusOK, "account", s, map[string]any{"Account": s.principal.Kind == PrincipalAccount})
}

// changePassword sends the form to POST /api/v1/accounts/{name}/password
// as the account itself, with its old password. The new one ends every
// session of the account, this one too.
func (d *Dashboard) changePassword(w http.ResponseWriter, r *http.Request, s *session) {
	if s.principal.Kind != PrincipalAccount {
		d.fail(w, r, s, http.StatusBadRequest, "A token has no password; log in with an account to change its password.")
		return
	}
	if r.PostFormValue("password") != r.PostFormValue("confirm") {
		d.render(w, r, http.StatusBadRequest, "account", s, map[string]any{"Account": true, "Message": "The two new passwords differ."})
		return
	}
	body := api.SetPassword{OldPassword: r.PostFormValue("old_password"), Password: r.PostFormValue("password")}
	err := d.call(r, s, http.MethodPost, api.Prefix+"/accounts/"+url.PathEscape(s.principal.Name)+"/password", body, nil)
	if err != nil {
		// A wrong old password is the API's 403, not the end of the session.
		if k := fleet.KindOf(err); k == fleet.KindInvalid || k == fleet.KindForbidden {
			d.render(w, r, httpjson.Status(k), "account", s, map[string]any{"Account": true, "Message": err.Error()})
			return
		}
		d.apiFailed(w, r, s, err)
		return
	}
	d.endSession(w, r)
	http.Redirect(w, r, "/dashboard/login?changed=1", http.StatusSeeOther)
}
