-- The status page's identity: page_id is its ID in the JSON, of which its
-- feed's ids are made, drawn once and kept however the page is renamed or
-- moved (an Atom id never changes). page_id_adopted is set for a page older
-- daemons served before it had one, deriving it from the page's name and
-- address: the time that derived ID was kept for good, so that the feed's
-- entries from before keep the ids readers already have.

ALTER TABLE status_page ADD COLUMN page_id TEXT NOT NULL DEFAULT '';
ALTER TABLE status_page ADD COLUMN page_id_adopted TEXT;
