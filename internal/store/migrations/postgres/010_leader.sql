-- The replicas of illico serve sharing this database, and the one lease
-- that makes one of them the leader: the only one that acts. epoch grows
-- with every new leader; the leader's writes check it (store.Fenced).

CREATE TABLE replicas (
    id      TEXT PRIMARY KEY,
    address TEXT NOT NULL,
    started TIMESTAMPTZ NOT NULL,
    seen    TIMESTAMPTZ NOT NULL
);

CREATE TABLE leader (
    id      INTEGER PRIMARY KEY CHECK (id = 1),
    holder  TEXT NOT NULL,
    address TEXT NOT NULL,
    epoch   BIGINT NOT NULL,
    renewed TIMESTAMPTZ NOT NULL,
    expires TIMESTAMPTZ NOT NULL
);

-- The one row, held by no one: every campaign locks and updates it.
INSERT INTO leader (id, holder, address, epoch, renewed, expires)
    VALUES (1, '', '', 0, '1970-01-01 00:00:00+00', '1970-01-01 00:00:00+00');
