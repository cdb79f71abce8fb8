package fleet

import "time"

// A Replica is one illico serve among those sharing a PostgreSQL
// database. Every replica serves; one, the leader, acts (rollouts, probes,
// alerts, notifications).
type Replica struct {
	ID string
	// Address is where the replica's API answers, for the others to
	// forward to when it leads.
	Address string
	Started time.Time
	// Seen is the replica's last campaign or renewal.
	Seen time.Time
}

// Leadership is the leader's lease: who holds it, until when, and its
// epoch, a fencing token that grows with every new leader. The leader's
// writes carry the epoch and are refused once a newer one exists.
type Leadership struct {
	Holder  string
	Address string
	Epoch   int64
	Renewed time.Time
	Expires time.Time
}

// Held reports whether the lease is held by replica id at t.
func (l Leadership) Held(id string, t time.Time) bool {
	return l.Holder == id && t.Before(l.Expires)
}
