-- What the probes and the alerts keep across a restart: the probes' runs
-- aggregated by hour and by day (the status page's bars), the manual
-- silences, and the alert pipeline's record of what it told whom.

-- One row per probe target, width (3600 or 86400 seconds) and period; the
-- counts only grow, by additive upserts, so a batch is never counted twice.
CREATE TABLE probe_buckets (
    target      TEXT NOT NULL,
    width_s     INTEGER NOT NULL CHECK (width_s IN (3600, 86400)),
    start_unix  INTEGER NOT NULL,
    ok          INTEGER NOT NULL,
    total       INTEGER NOT NULL,
    sum_took_us INTEGER NOT NULL,
    max_took_us INTEGER NOT NULL,
    PRIMARY KEY (target, width_s, start_unix)
) WITHOUT ROWID;

CREATE TABLE silences (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    matchers   TEXT NOT NULL,
    starts_at  TEXT NOT NULL,
    ends_at    TEXT NOT NULL,
    created_by TEXT NOT NULL,
    comment    TEXT NOT NULL,
    created    TEXT NOT NULL
);

CREATE INDEX silences_ends_at ON silences (ends_at);

-- The alert pipeline's state, one document, replaced whole.
CREATE TABLE alert_state (
    id    INTEGER PRIMARY KEY CHECK (id = 1),
    data  TEXT NOT NULL,
    saved TEXT NOT NULL
);
