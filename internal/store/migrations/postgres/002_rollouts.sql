-- A rollout and the progress of each of its hosts, written before and after
-- every step so that a daemon killed at any moment resumes where it stood.

CREATE TABLE rollouts (
    id          TEXT PRIMARY KEY,
    plan_name   TEXT NOT NULL,
    plan_file   TEXT NOT NULL,
    plan_source TEXT NOT NULL,
    selector    TEXT NOT NULL,
    urgent      BOOLEAN NOT NULL,
    state       TEXT NOT NULL,
    reason      TEXT NOT NULL,
    created     TIMESTAMPTZ NOT NULL,
    updated     TIMESTAMPTZ NOT NULL,
    ended       TIMESTAMPTZ
);

CREATE INDEX rollouts_ended ON rollouts (ended, created);

CREATE TABLE host_runs (
    rollout_id TEXT NOT NULL REFERENCES rollouts (id) ON DELETE CASCADE,
    seq        INTEGER NOT NULL,
    host       TEXT NOT NULL,
    wave       INTEGER NOT NULL,
    canary     BOOLEAN NOT NULL,
    state      TEXT NOT NULL,
    step       INTEGER NOT NULL,
    failed     BOOLEAN NOT NULL,
    boot_id    TEXT NOT NULL,
    issued     BOOLEAN NOT NULL,
    started    TIMESTAMPTZ,
    ended      TIMESTAMPTZ,
    error      TEXT NOT NULL,
    PRIMARY KEY (rollout_id, host)
);
