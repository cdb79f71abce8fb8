package fleet

import "time"

// Role is what an API token, or a dashboard account, may do. Each role may
// do what the ones below it may: an admin manages tokens and accounts, an
// operator changes the fleet's state, a reader reads.
type Role string

const (
	RoleReader   Role = "reader"
	RoleOperator Role = "operator"
	RoleAdmin    Role = "admin"
)

// Roles lists the roles from least to most allowed.
var Roles = []Role{RoleReader, RoleOperator, RoleAdmin}

func (r Role) rank() int {
	switch r {
	case RoleReader:
		return 1
	case RoleOperator:
		return 2
	case RoleAdmin:
		return 3
	}
	return 0
}

// Allows reports whether a token of role r may do what needs role need.
func (r Role) Allows(need Role) bool { return r.rank() > 0 && r.rank() >= need.rank() }

// ParseRole reads a role name.
func ParseRole(s string) (Role, error) {
	r := Role(s)
	if r.rank() == 0 {
		return "", Errorf(KindInvalid, "unknown role %q (expected admin, operator or reader)", s)
	}
	return r, nil
}

// Token is an API token as illico keeps it: never the secret, only its
// hash.
type Token struct {
	ID       int64
	Name     string
	Role     Role
	Created  time.Time
	LastUsed time.Time // zero: never used
	Revoked  time.Time // zero: active
}

// Active reports whether the token still authenticates.
func (t Token) Active() bool { return t.Revoked.IsZero() }
