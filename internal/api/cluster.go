package api

import "time"

// Cluster is the answer of GET /api/v1/cluster: the replicas of illico
// serve that share the database, and which one leads.
type Cluster struct {
	// This is the replica that answered.
	This     string    `json:"this"`
	Leader   *Leader   `json:"leader,omitempty"`
	Replicas []Replica `json:"replicas"`
	// Said is who leads, in words.
	Said string `json:"said"`
}

// Leader is the leader's lease.
type Leader struct {
	Replica string    `json:"replica"`
	Address string    `json:"address"`
	Epoch   int64     `json:"epoch"`
	Renewed time.Time `json:"renewed"`
	Expires time.Time `json:"expires"`
	Held    bool      `json:"held"`
}

// Replica is one replica: where it answers, since when, and when it last
// took part in the election.
type Replica struct {
	ID      string    `json:"id"`
	Address string    `json:"address"`
	Started time.Time `json:"started"`
	Seen    time.Time `json:"seen"`
	Leads   bool      `json:"leads"`
}
