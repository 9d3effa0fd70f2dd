-- On SQLite, resources become a table with rowids, keyed by id through a
-- unique index. Stored WITHOUT ROWID, a table keeps whole rows in the
-- interior pages of its B-tree too: for rows of hundreds of bytes (bodies,
-- events) that made its tree deep, and every page filled at its end split
-- among three neighbours; a debit then wrote about twice the pages its
-- rows hold. With rowids, interior pages hold only row numbers, and rows
-- appended at the end fill fresh pages. PostgreSQL stores every table this
-- way already: there this migration does nothing.
/*sqlite:
CREATE TABLE resources_by_rowid (
    id             TEXT PRIMARY KEY,
    marketplace_id TEXT NOT NULL,
    type           TEXT NOT NULL,
    status         TEXT NOT NULL,
    hidden         BOOLEAN NOT NULL,
    created_at_us  BIGINT NOT NULL,
    updated_at_us  BIGINT NOT NULL,
    body           TEXT NOT NULL
);
INSERT INTO resources_by_rowid (id, marketplace_id, type, status, hidden, created_at_us, updated_at_us, body)
    SELECT id, marketplace_id, type, status, hidden, created_at_us, updated_at_us, body FROM resources ORDER BY id;
DROP TABLE resources;
ALTER TABLE resources_by_rowid RENAME TO resources;
CREATE INDEX resources_list ON resources (marketplace_id, type, created_at_us);
CREATE INDEX resources_undispatched ON resources (created_at_us) WHERE type = 'events' AND status = 'pending';
*/
