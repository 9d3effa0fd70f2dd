-- The endpoint a balance transaction came through. Empty means the
-- default endpoint of its merchant and currency, which is what every
-- payment of the Balanced API uses.
ALTER TABLE balance_transactions ADD COLUMN endpoint_id TEXT NOT NULL DEFAULT '';
