-- The public status page's document: components, host health, incidents and
-- maintenances with their timelines, as one JSON text in one row. It is
-- small (tens of incidents), read whole by the page and changed whole by a
-- read-change-write under the writer's lock; version counts the changes, so
-- that a daemon polls one integer to notice another's.

CREATE TABLE status_page (
    id       INTEGER PRIMARY KEY CHECK (id = 1),
    version  INTEGER NOT NULL,
    document TEXT NOT NULL
);

INSERT INTO status_page (id, version, document) VALUES (1, 0, '{}');
