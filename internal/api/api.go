// Package api is the wire format of illico's HTTP API (/api/v1): the JSON
// bodies the daemon sends and the client decodes, and the error kinds they
// carry (mapped to HTTP status codes by the one table of package httpjson).
// Both sides import it, so they cannot drift apart.
package api

import (
	"time"
)

// Prefix starts every API path.
const Prefix = "/api/v1"

// ErrorBody is the body of every answer that is not a success.
type ErrorBody struct {
	Error Error `json:"error"`
}

// Error says what went wrong, for the user.
type Error struct {
	Kind    string `json:"kind"`
	Message string `json:"message"`
	// Problems lists every problem of a refused file, one per line of
	// Message, for clients that show them their own way.
	Problems []string `json:"problems,omitempty"`
}

// Health is the answer of GET /healthz.
type Health struct {
	Status string `json:"status"` // "ok"
	// Replica is this replica's ID; Leader says whether it leads (runs
	// the rollouts, the probes and the notifications) now.
	Replica string `json:"replica"`
	Leader  bool   `json:"leader"`
}

// Inventory is the answer of GET /api/v1/inventory: the fleet's topology and
// counts, without per-host details.
type Inventory struct {
	// Path is the inventory file and Loaded when it was last read; both are
	// empty when the daemon has no inventory configured.
	Path        string       `json:"path,omitempty"`
	Loaded      *time.Time   `json:"loaded,omitempty"`
	Counts      Counts       `json:"counts"`
	Sites       []Site       `json:"sites"`
	Datacenters []Datacenter `json:"datacenters"`
	Groups      []Group      `json:"groups"`
}

// Counts are the sizes of an inventory.
type Counts struct {
	Sites         int `json:"sites"`
	Datacenters   int `json:"datacenters"`
	Hosts         int `json:"hosts"`
	Groups        int `json:"groups"`
	LoadBalancers int `json:"load_balancers"`
}

// Site is a failure domain holding datacenters.
type Site struct {
	Name        string   `json:"name"`
	Datacenters []string `json:"datacenters"`
}

// Datacenter is a failure domain inside a site.
type Datacenter struct {
	Name  string `json:"name"`
	Site  string `json:"site"`
	Hosts int    `json:"hosts"`
}

// Group is a redundancy group and its disruption budget.
type Group struct {
	Name string `json:"name"`
	// Budget is the budget as the inventory says it ("max_unavailable 25%").
	Budget string `json:"budget"`
	// Allowed is how many members may be down at once.
	Allowed      int         `json:"allowed"`
	Component    string      `json:"component,omitempty"`
	LoadBalancer *Membership `json:"load_balancer,omitempty"`
	Members      []string    `json:"members"`
}

// Membership places a group's members in a load balancer's backend.
type Membership struct {
	Name    string `json:"name"`
	Backend string `json:"backend"`
}

// Host is one server.
type Host struct {
	Name       string            `json:"name"`
	Address    string            `json:"address"`
	Datacenter string            `json:"datacenter"`
	Site       string            `json:"site"`
	Groups     []string          `json:"groups"`
	Labels     map[string]string `json:"labels,omitempty"`
}

// Hosts is the answer of GET /api/v1/hosts.
type Hosts struct {
	Hosts []Host `json:"hosts"`
}

// Groups is the answer of GET /api/v1/groups.
type Groups struct {
	Groups []Group `json:"groups"`
}

// Token is an API token, never with its secret.
type Token struct {
	ID       int64      `json:"id"`
	Name     string     `json:"name"`
	Role     string     `json:"role"`
	Created  time.Time  `json:"created"`
	LastUsed *time.Time `json:"last_used,omitempty"`
	Revoked  *time.Time `json:"revoked,omitempty"`
}

// Tokens is the answer of GET /api/v1/tokens.
type Tokens struct {
	Tokens []Token `json:"tokens"`
}

// CreateToken is the body of POST /api/v1/tokens.
type CreateToken struct {
	Name string `json:"name"`
	Role string `json:"role"`
}

// CreatedToken is the answer of POST /api/v1/tokens: the only time the
// secret is shown.
type CreatedToken struct {
	Token  Token  `json:"token"`
	Secret string `json:"secret"`
}
