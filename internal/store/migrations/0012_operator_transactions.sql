-- A payment operator's own transactions, processed on its gates outside
-- Poise and recorded here so that its merchants' balances count them. Each
-- is one entry of the balance feed (balance_transactions, entry_id), posted
-- through the rules like a Balanced payment's; this row keeps what the
-- operator sent: its ID for the transaction, which makes recording it
-- idempotent, and the attributes balances select by.
CREATE TABLE operator_transactions (
    marketplace_id TEXT NOT NULL,
    -- The operator's ID for the transaction: the same ID again changes
    -- nothing.
    external_id    TEXT NOT NULL,
    id             TEXT NOT NULL,
    entry_id       TEXT NOT NULL,
    merchant_id    TEXT NOT NULL,
    type           TEXT NOT NULL,
    amount         BIGINT NOT NULL,
    currency       TEXT NOT NULL,
    endpoint_id    TEXT NOT NULL,
    gate           TEXT NOT NULL,
    processor      TEXT NOT NULL,
    card_mapping   TEXT NOT NULL,
    occurred_at_us BIGINT NOT NULL,
    recorded_at_us BIGINT NOT NULL,
    -- What was sent, so that the same ID with other content is refused
    -- rather than taken for a replay.
    fingerprint    TEXT NOT NULL,
    PRIMARY KEY (marketplace_id, external_id)
) /*sqlite: WITHOUT ROWID*/;
CREATE UNIQUE INDEX operator_transactions_id ON operator_transactions (id);
CREATE INDEX operator_transactions_entry ON operator_transactions (entry_id);
