CREATE TABLE api_tokens (
    id        BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    name      TEXT NOT NULL,
    role      TEXT NOT NULL CHECK (role IN ('admin', 'operator', 'reader')),
    hash      TEXT NOT NULL UNIQUE,
    created   TIMESTAMPTZ NOT NULL,
    last_used TIMESTAMPTZ,
    revoked   TIMESTAMPTZ
);

CREATE TABLE events (
    id      BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    time    TIMESTAMPTZ NOT NULL,
    kind    TEXT NOT NULL,
    subject TEXT NOT NULL DEFAULT '',
    message TEXT NOT NULL,
    data    JSONB
);

CREATE INDEX events_kind ON events (kind, id);
CREATE INDEX events_subject ON events (subject, id);
CREATE INDEX events_time ON events (time);
