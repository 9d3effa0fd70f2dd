-- The merchant balance feed: every Balanced operation that concerns a
-- merchant writes its PayNet-typed transaction here, in the transaction of
-- the operation itself (DESIGN §1 maps one to the other). Merchant
-- balances are computed from this feed by their rules; nothing else feeds
-- them, so they always reconcile with the payments that caused them.
CREATE TABLE balance_transactions (
    id             TEXT PRIMARY KEY,
    marketplace_id TEXT NOT NULL,
    -- The Balanced customer the money concerns (an order's merchant, a
    -- payout's recipient, the marketplace's owner for its own escrow).
    merchant_id    TEXT NOT NULL,
    type           TEXT NOT NULL,
    amount         BIGINT NOT NULL,
    currency       TEXT NOT NULL,
    -- The rail that processed it: card or ach.
    gate           TEXT NOT NULL,
    -- The resource that caused it (a debit, a refund, a credit, ...).
    source_id      TEXT NOT NULL,
    occurred_at_us BIGINT NOT NULL
) /*sqlite: WITHOUT ROWID*/;
CREATE INDEX balance_transactions_merchant ON balance_transactions (marketplace_id, merchant_id, occurred_at_us);
