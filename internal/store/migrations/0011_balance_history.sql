-- Balances posted from the feed of a server upgraded from before balances
-- were ledger accounts: every merchant and manager that existed then has
-- its history posted once, at start-up, each transaction under the rules
-- that were in force at its time; the row goes in the transaction that
-- posts it.
CREATE TABLE balance_history_pending (
    party_id       TEXT PRIMARY KEY,
    marketplace_id TEXT NOT NULL
) /*sqlite: WITHOUT ROWID*/;
INSERT INTO balance_history_pending (party_id, marketplace_id)
    SELECT id, marketplace_id FROM resources WHERE type IN ('merchants', 'managers');
