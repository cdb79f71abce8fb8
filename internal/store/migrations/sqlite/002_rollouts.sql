-- A rollout and the progress of each of its hosts, written before and after
-- every step so that a daemon killed at any moment resumes where it stood.

CREATE TABLE rollouts (
    id          TEXT PRIMARY KEY,
    plan_name   TEXT NOT NULL,
    plan_file   TEXT NOT NULL,
    plan_source TEXT NOT NULL,
    selector    TEXT NOT NULL,
    urgent      INTEGER NOT NULL,
    state       TEXT NOT NULL,
    reason      TEXT NOT NULL,
    created     TEXT NOT NULL,
    updated     TEXT NOT NULL,
    ended       TEXT
);

CREATE INDEX rollouts_ended ON rollouts (ended, created);

CREATE TABLE host_runs (
    rollout_id TEXT NOT NULL REFERENCES rollouts (id) ON DELETE CASCADE,
    seq        INTEGER NOT NULL,
    host       TEXT NOT NULL,
    wave       INTEGER NOT NULL,
    canary     INTEGER NOT NULL,
    state      TEXT NOT NULL,
    step       INTEGER NOT NULL,
    failed     INTEGER NOT NULL,
    boot_id    TEXT NOT NULL,
    issued     INTEGER NOT NULL,
    started    TEXT,
    ended      TEXT,
    error      TEXT NOT NULL,
    PRIMARY KEY (rollout_id, host)
);
