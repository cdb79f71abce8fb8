-- What the probes and the alerts keep across a restart: the probes' runs
-- aggregated by hour and by day (the status page's bars), the manual
-- silences, and the alert pipeline's record of what it told whom.

-- One row per probe target, width (3600 or 86400 seconds) and period; the
-- counts only grow, by additive upserts, so a batch is never counted twice.
CREATE TABLE probe_buckets (
    target      TEXT NOT NULL,
    width_s     INTEGER NOT NULL CHECK (width_s IN (3600, 86400)),
    start_unix  BIGINT NOT NULL,
    ok          BIGINT NOT NULL,
    total       BIGINT NOT NULL,
    sum_took_us BIGINT NOT NULL,
    max_took_us BIGINT NOT NULL,
    PRIMARY KEY (target, width_s, start_unix)
);

CREATE TABLE silences (
    id         BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    matchers   TEXT NOT NULL,
    starts_at  TIMESTAMPTZ NOT NULL,
    ends_at    TIMESTAMPTZ NOT NULL,
    created_by TEXT NOT NULL,
    comment    TEXT NOT NULL,
    created    TIMESTAMPTZ NOT NULL
);

CREATE INDEX silences_ends_at ON silences (ends_at);

-- The alert pipeline's state, one document, replaced whole.
CREATE TABLE alert_state (
    id    INTEGER PRIMARY KEY CHECK (id = 1),
    data  TEXT NOT NULL,
    saved TIMESTAMPTZ NOT NULL
);
