-- Times are text in one fixed-width UTC form (2006-01-02T15:04:05.000000Z)
-- so that comparing them as text orders them in time.

CREATE TABLE api_tokens (
    id        INTEGER PRIMARY KEY AUTOINCREMENT,
    name      TEXT NOT NULL,
    role      TEXT NOT NULL CHECK (role IN ('admin', 'operator', 'reader')),
    hash      TEXT NOT NULL UNIQUE,
    created   TEXT NOT NULL,
    last_used TEXT,
    revoked   TEXT
);

CREATE TABLE events (
    id      INTEGER PRIMARY KEY AUTOINCREMENT,
    time    TEXT NOT NULL,
    kind    TEXT NOT NULL,
    subject TEXT NOT NULL DEFAULT '',
    message TEXT NOT NULL,
    data    TEXT
);

CREATE INDEX events_kind ON events (kind, id);
CREATE INDEX events_subject ON events (subject, id);
CREATE INDEX events_time ON events (time);
