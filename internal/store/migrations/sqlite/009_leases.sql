-- The disruption ledger: one lease per host out of service, whoever took it
-- (a rollout's host run, an operator's drain). A grant checks every budget
-- against every lease in this table in one transaction, so that daemons
-- sharing the database never take more of a group than it allows.

CREATE TABLE leases (
    host   TEXT PRIMARY KEY,
    kind   TEXT NOT NULL,
    holder TEXT NOT NULL,
    reason TEXT NOT NULL,
    since  TEXT NOT NULL
);
