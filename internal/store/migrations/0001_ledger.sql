-- The ledger: accounts with materialized balances, the journal of
-- transfers and their postings, and idempotency records.
--
-- Portable SQL: the same text runs on SQLite and PostgreSQL (and keeps to
-- what PostgreSQL-compatible distributed engines accept). Instants are
-- BIGINT microseconds since the Unix epoch, UTC; amounts are BIGINT minor
-- units. Keys are generated IDs, never sequences.
--
-- /*sqlite: WITHOUT ROWID*/ is a comment to PostgreSQL and becomes
-- WITHOUT ROWID on SQLite: a table keyed by text is then stored in its key's
-- B-tree alone, one write per row instead of two.

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
) /*sqlite: WITHOUT ROWID*/;
CREATE INDEX accounts_owner ON accounts (owner, kind);

-- Every record of the journal. legs holds the transfer's postings as
-- "account currency amount" triples joined by commas (see legs.go), so a
-- transfer is read, locked or verified as one row.
CREATE TABLE transfers (
    id             TEXT PRIMARY KEY,
    kind           TEXT NOT NULL,
    status         TEXT NOT NULL,
    pending_id     TEXT,
    code           TEXT NOT NULL,
    ref            TEXT NOT NULL,
    legs           TEXT NOT NULL,
    created_at_us  BIGINT NOT NULL,
    expires_at_us  BIGINT,
    resolved_at_us BIGINT,
    resolved_by    TEXT
) /*sqlite: WITHOUT ROWID*/;
CREATE INDEX transfers_pending_due ON transfers (expires_at_us) WHERE status = 'pending';

-- The posted journal per account: one row for each leg that moved posted
-- money, keyed so that an account's history, and its balance at any past
-- instant, is one range of the primary key. Pending legs are not here:
-- they move no posted money until posted, and then their post record is.
-- No foreign keys: rows are written only by the committer, in the
-- transaction that writes their transfer with their accounts locked, and
-- `poise verify` checks them against the transfers; key checks would be
-- the largest cost of a PostgreSQL batch.
CREATE TABLE postings (
    account_id    TEXT NOT NULL,
    created_at_us BIGINT NOT NULL,
    transfer_id   TEXT NOT NULL,
    seq           INTEGER NOT NULL,
    amount        BIGINT NOT NULL,
    PRIMARY KEY (account_id, created_at_us, transfer_id, seq)
) /*sqlite: WITHOUT ROWID*/;

CREATE TABLE idempotency_keys (
    scope         TEXT NOT NULL,
    key           TEXT NOT NULL,
    request_hash  TEXT NOT NULL,
    status_code   INTEGER NOT NULL,
    response      TEXT NOT NULL,
    created_at_us BIGINT NOT NULL,
    PRIMARY KEY (scope, key)
) /*sqlite: WITHOUT ROWID*/;
CREATE INDEX idempotency_keys_age ON idempotency_keys (created_at_us);
