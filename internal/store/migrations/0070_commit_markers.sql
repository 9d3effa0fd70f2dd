-- One row per write transaction on PostgreSQL, written inside it. When the
-- connection is lost after COMMIT was sent, whether this row exists on the
-- primary tells whether the transaction committed (store/commit_outcome.go).
-- Rows are kept an hour, far longer than any such question takes.
CREATE TABLE commit_markers (
    id            TEXT PRIMARY KEY,
    created_at_us BIGINT NOT NULL
) /*sqlite: WITHOUT ROWID*/;
CREATE INDEX commit_markers_age ON commit_markers (created_at_us);
