-- Durable due work: settlements, releases, scheduled adjustments. A job is
-- claimed by a conditional update, so two processes never run it both, and
-- a claim that outlives its lease (a process that died mid-job) is taken
-- over. Jobs are run at least once; each job's work is written, with the
-- job's completion, in one transaction, which makes it exactly once.
CREATE TABLE jobs (
    id            TEXT PRIMARY KEY,
    kind          TEXT NOT NULL,
    -- What the job is about; one pending job per (kind, key).
    key           TEXT NOT NULL,
    payload       TEXT NOT NULL,
    due_at_us     BIGINT NOT NULL,
    -- pending, running, done, failed
    status        TEXT NOT NULL,
    attempts      INTEGER NOT NULL,
    lease_until_us BIGINT NOT NULL,
    last_error    TEXT NOT NULL,
    created_at_us BIGINT NOT NULL,
    done_at_us    BIGINT
) /*sqlite: WITHOUT ROWID*/;
CREATE INDEX jobs_due ON jobs (due_at_us) WHERE status IN ('pending', 'running');
CREATE UNIQUE INDEX jobs_one_pending ON jobs (kind, key) WHERE status IN ('pending', 'running');
