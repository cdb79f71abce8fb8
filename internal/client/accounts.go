package client

import (
	"context"
	"net/http"
	"net/url"

	"github.com/illico-dev/illico/internal/api"
)

func accountPath(name string) string { return api.Prefix + "/accounts/" + url.PathEscape(name) }

// Accounts lists the dashboard's accounts.
func (c *Client) Accounts(ctx context.Context) ([]api.Account, error) {
	var out api.Accounts
	err := c.do(ctx, http.MethodGet, api.Prefix+"/accounts", nil, &out)
	return out.Accounts, err
}

// CreateAccount creates a dashboard account with role and password.
func (c *Client) CreateAccount(ctx context.Context, name, role, password string) (api.Account, error) {
	var out api.Account
	err := c.do(ctx, http.MethodPost, api.Prefix+"/accounts", api.CreateAccount{Name: name, Role: role, Password: password}, &out)
	return out, err
}

// RemoveAccount removes a dashboard account; its sessions end.
func (c *Client) RemoveAccount(ctx context.Context, name string) (api.Account, error) {
	var out api.Account
	err := c.do(ctx, http.MethodDelete, accountPath(name), nil, &out)
	return out, err
}

// SetAccountDisabled disables an account (it cannot log in, its sessions
// end) or enables it again.
func (c *Client) SetAccountDisabled(ctx context.Context, name string, disabled bool) (api.Account, error) {
	order := "/enable"
	if disabled {
		order = "/disable"
	}
	var out api.Account
	err := c.do(ctx, http.MethodPost, accountPath(name)+order, nil, &out)
	return out, err
}

// SetAccountPassword sets an account's password, as an admin; the
// account's sessions end.
func (c *Client) SetAccountPassword(ctx context.Context, name, password string) (api.Account, error) {
	var out api.Account
	err := c.do(ctx, http.MethodPost, accountPath(name)+"/password", api.SetPassword{Password: password}, &out)
	return out, err
}
