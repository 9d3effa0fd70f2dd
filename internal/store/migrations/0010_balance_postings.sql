-- Merchant balances are ledger accounts (DESIGN §1): a transaction that
-- reaches a balance is posted into the accounts of its buckets at once,
-- under the rule in force at that instant. This table keeps, per
-- transaction and balance, the rule that was resolved and the effect it
-- had, so history never changes when rules do, and exports and
-- reconciliation show what was applied.
CREATE TABLE balance_effects (
    entry_id       TEXT NOT NULL,
    -- The ledger key of the balance: its accounts are key_sth, key_rr, ...
    balance_key    TEXT NOT NULL,
    party_id       TEXT NOT NULL,
    balance_name   TEXT NOT NULL,
    source_id      TEXT NOT NULL,
    -- The resolved rule, as JSON (its ID, type, action, fee, reserve,
    -- period and date bumping).
    rule           TEXT NOT NULL,
    signed_amount  BIGINT NOT NULL,
    fee            BIGINT NOT NULL,
    reserve        BIGINT NOT NULL,
    sth            BIGINT NOT NULL,
    live           BIGINT NOT NULL,
    buffer         BIGINT NOT NULL,
    -- 0 when the amount has no reserve or short-term hold.
    reserve_until_us BIGINT NOT NULL,
    sth_until_us   BIGINT NOT NULL,
    PRIMARY KEY (entry_id, balance_key)
) /*sqlite: WITHOUT ROWID*/;
CREATE INDEX balance_effects_source ON balance_effects (source_id);
CREATE INDEX balance_effects_balance ON balance_effects (balance_key);

-- Releases not yet posted, one row per balance and due instant: the
-- short-term holds and reserves that become live then. The scheduler posts
-- each row once and deletes it; until then a read counts the rows already
-- due, so their number follows distinct due times, never transactions.
CREATE TABLE balance_releases (
    balance_key    TEXT NOT NULL,
    due_at_us      BIGINT NOT NULL,
    sth_amount     BIGINT NOT NULL,
    rr_amount      BIGINT NOT NULL,
    PRIMARY KEY (balance_key, due_at_us)
) /*sqlite: WITHOUT ROWID*/;

CREATE INDEX balance_transactions_source ON balance_transactions (source_id);
