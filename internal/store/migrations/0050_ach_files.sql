-- The NACHA files a live marketplace sends its bank, one per ACH cut-off
-- window. The unique window makes closing a window exactly once: a second
-- close of the same window (a job run again after a crash) finds the row
-- and writes nothing. A file is immutable once written.
CREATE TABLE ach_files (
    id               TEXT PRIMARY KEY,
    marketplace_id   TEXT NOT NULL,
    -- The cut-off instant that closed the window.
    cutoff_at_us     BIGINT NOT NULL,
    created_at_us    BIGINT NOT NULL,
    effective_date   TEXT NOT NULL,
    file_id_modifier TEXT NOT NULL,
    entry_count      INTEGER NOT NULL,
    entry_hash       BIGINT NOT NULL,
    debit_cents      BIGINT NOT NULL,
    credit_cents     BIGINT NOT NULL,
    content          TEXT NOT NULL,
    UNIQUE (marketplace_id, cutoff_at_us)
) /*sqlite: WITHOUT ROWID*/;
CREATE INDEX ach_files_list ON ach_files (marketplace_id, created_at_us);

-- Each entry a file sent, by trace number, so a bank's return (which
-- names the original trace) finds its transaction with one lookup.
CREATE TABLE ach_entries (
    marketplace_id TEXT NOT NULL,
    trace_number   TEXT NOT NULL,
    file_id        TEXT NOT NULL,
    resource_id    TEXT NOT NULL,
    amount_cents   BIGINT NOT NULL,
    PRIMARY KEY (marketplace_id, trace_number)
) /*sqlite: WITHOUT ROWID*/;
CREATE INDEX ach_entries_file ON ach_entries (file_id);

-- Every window of a live marketplace that was closed, with or without a
-- file (a window with no bank transactions writes none). Its row commits
-- with the close, so a close run again finds it and does nothing.
CREATE TABLE ach_windows (
    marketplace_id TEXT NOT NULL,
    cutoff_at_us   BIGINT NOT NULL,
    -- Empty when the window held nothing.
    file_id        TEXT NOT NULL,
    closed_at_us   BIGINT NOT NULL,
    PRIMARY KEY (marketplace_id, cutoff_at_us)
) /*sqlite: WITHOUT ROWID*/;
