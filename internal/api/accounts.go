package api

import "time"

// Account is a dashboard account, never with its password.
type Account struct {
	Name            string     `json:"name"`
	Role            string     `json:"role"`
	Created         time.Time  `json:"created"`
	PasswordChanged time.Time  `json:"password_changed"`
	LastLogin       *time.Time `json:"last_login,omitempty"`
	Disabled        *time.Time `json:"disabled,omitempty"`
}

// Accounts is the answer of GET /api/v1/accounts.
type Accounts struct {
	Accounts []Account `json:"accounts"`
}

// CreateAccount is the body of POST /api/v1/accounts.
type CreateAccount struct {
	Name     string `json:"name"`
	Role     string `json:"role"`
	Password string `json:"password"`
}

// SetPassword is the body of POST /api/v1/accounts/{name}/password. An
// account changing its own password gives the old one too; an admin
// setting another's does not need it.
type SetPassword struct {
	OldPassword string `json:"old_password,omitempty"`
	Password    string `json:"password"`
}
