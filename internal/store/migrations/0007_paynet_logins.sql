-- Logins of merchants and managers for the merchant balance API. The
-- get-balance URL names only a login, so a login is unique across the
-- whole server, not per marketplace.
CREATE TABLE paynet_logins (
    login          TEXT PRIMARY KEY,
    marketplace_id TEXT NOT NULL,
    resource_id    TEXT NOT NULL
) /*sqlite: WITHOUT ROWID*/;
