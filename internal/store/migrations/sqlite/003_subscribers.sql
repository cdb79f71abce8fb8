-- Status-page subscribers and the queue of notifications to them. A
-- subscriber's tokens are kept only as hashes; the queue survives a restart,
-- and a row marked sent is never handed out again.

CREATE TABLE subscribers (
    id               INTEGER PRIMARY KEY AUTOINCREMENT,
    kind             TEXT NOT NULL CHECK (kind IN ('email', 'webhook')),
    address          TEXT NOT NULL,
    language         TEXT NOT NULL CHECK (language IN ('en', 'fr', 'de')),
    all_components   INTEGER NOT NULL,
    secret           TEXT NOT NULL,
    nonce            TEXT NOT NULL,
    confirm_hash     TEXT NOT NULL UNIQUE,
    unsubscribe_hash TEXT NOT NULL UNIQUE,
    created          TEXT NOT NULL,
    confirmed_at     TEXT,
    UNIQUE (kind, address)
);

CREATE TABLE subscriber_components (
    subscriber_id INTEGER NOT NULL REFERENCES subscribers (id) ON DELETE CASCADE,
    component     TEXT NOT NULL,
    PRIMARY KEY (subscriber_id, component)
);

CREATE INDEX subscriber_components_component ON subscriber_components (component);

CREATE TABLE notifications (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    subscriber_id   INTEGER NOT NULL REFERENCES subscribers (id) ON DELETE CASCADE,
    message_key     TEXT NOT NULL,
    subject         TEXT NOT NULL,
    body            TEXT NOT NULL,
    state           TEXT NOT NULL CHECK (state IN ('pending', 'sending', 'sent', 'failed')),
    attempts        INTEGER NOT NULL,
    next_attempt_at TEXT NOT NULL,
    last_error      TEXT NOT NULL,
    created         TEXT NOT NULL,
    sent_at         TEXT,
    UNIQUE (subscriber_id, message_key)
);

CREATE INDEX notifications_due ON notifications (state, next_attempt_at);
