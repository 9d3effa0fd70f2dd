-- The ledger: accounts with materialized balances, the journal of
-- transfers and their postings, and idempotency records.
--
-- Portable SQL: the same text runs on SQLite and PostgreSQL (and keeps to
-- what PostgreSQL-compatible distributed engines accept). Instants are
-- BIGINT microseconds since the Unix epoch, UTC; amounts are BIGINT minor
-- units. Keys are generated IDs, never sequences.

CREATE TABLE accounts (
    id              TEXT PRIMARY KEY,
    owner           TEXT NOT NULL,
    kind            TEXT NOT NULL,
    currency        TEXT NOT NULL,
    may_go_negative BOOLEAN NOT NULL,
    posted          BIGINT NOT NULL DEFAULT 0,
    pending_in      BIGINT NOT NULL DEFAULT 0,
    pending_out     BIGINT NOT NULL DEFAULT 0,
    created_at_us   BIGINT NOT NULL,
    -- The database refuses a forbidden negative even if the code above it
    -- were wrong: the last line of defence for "never more than came in".
    CONSTRAINT accounts_pending_not_negative CHECK (pending_in >= 0 AND pending_out >= 0),
    CONSTRAINT accounts_rule CHECK (may_go_negative OR posted - pending_out >= 0)
);
CREATE INDEX accounts_owner ON accounts (owner, kind);

CREATE TABLE transfers (
    id             TEXT PRIMARY KEY,
    kind           TEXT NOT NULL,
    status         TEXT NOT NULL,
    pending_id     TEXT,
    code           TEXT NOT NULL,
    ref            TEXT NOT NULL,
    created_at_us  BIGINT NOT NULL,
    expires_at_us  BIGINT,
    resolved_at_us BIGINT,
    resolved_by    TEXT
);
CREATE INDEX transfers_pending_due ON transfers (expires_at_us) WHERE status = 'pending';
CREATE INDEX transfers_ref ON transfers (ref);

CREATE TABLE postings (
    transfer_id   TEXT NOT NULL REFERENCES transfers (id),
    seq           INTEGER NOT NULL,
    account_id    TEXT NOT NULL REFERENCES accounts (id),
    currency      TEXT NOT NULL,
    amount        BIGINT NOT NULL,
    -- Copied from the transfer so that a balance at a past instant is one
    -- index range scan: (account, time) over postings that moved money.
    moves_posted  BOOLEAN NOT NULL,
    created_at_us BIGINT NOT NULL,
    PRIMARY KEY (transfer_id, seq)
);
CREATE INDEX postings_account_time ON postings (account_id, created_at_us);

CREATE TABLE idempotency_keys (
    scope         TEXT NOT NULL,
    key           TEXT NOT NULL,
    request_hash  TEXT NOT NULL,
    status_code   INTEGER NOT NULL,
    response      TEXT NOT NULL,
    created_at_us BIGINT NOT NULL,
    PRIMARY KEY (scope, key)
);
CREATE INDEX idempotency_keys_age ON idempotency_keys (created_at_us);
