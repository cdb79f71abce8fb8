-- The daemon's own secrets, like the key that signs the subscribers'
-- unsubscribe links: kept in the database so that every daemon sharing it
-- uses the same ones. A secret is made once, by the first daemon that needs
-- it, and never changes.

CREATE TABLE secrets (
    name    TEXT PRIMARY KEY,
    value   TEXT NOT NULL,
    created TIMESTAMPTZ NOT NULL
);
