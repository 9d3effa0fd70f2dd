-- A running figure an account's owner keeps beside its balances and
-- moves in the same operations (ledger.Account.TallyMinor): an order's
-- amount taken in. It lives in the row every transfer of the account
-- rewrites already, so keeping it costs no other row.
ALTER TABLE accounts ADD COLUMN tally BIGINT NOT NULL DEFAULT 0;
