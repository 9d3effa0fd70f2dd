-- Payment resources (customers, cards, debits, orders, ...) as documents.
--
-- Each resource is one row: the fields it shows, as JSON, plus what lists
-- filter and sort on. Money never lives here: balances are ledger
-- accounts; a resource only names the accounts and transfers it uses.
-- Every row belongs to one marketplace, and every query names it.

CREATE TABLE api_keys (
    id             TEXT PRIMARY KEY,
    -- SHA-256 of the secret: a leaked database does not leak keys.
    secret_hash    TEXT NOT NULL UNIQUE,
    -- Empty until the key creates its marketplace.
    marketplace_id TEXT NOT NULL,
    meta           TEXT NOT NULL,
    created_at_us  BIGINT NOT NULL,
    deleted        BOOLEAN NOT NULL
) /*sqlite: WITHOUT ROWID*/;
CREATE INDEX api_keys_marketplace ON api_keys (marketplace_id, created_at_us);

CREATE TABLE resources (
    id             TEXT PRIMARY KEY,
    -- Empty for an instrument tokenized without a key and not yet claimed.
    marketplace_id TEXT NOT NULL,
    type           TEXT NOT NULL,
    status         TEXT NOT NULL,
    -- Hidden resources (unstored cards, voided holds) are still readable
    -- by id but left out of lists.
    hidden         BOOLEAN NOT NULL,
    created_at_us  BIGINT NOT NULL,
    updated_at_us  BIGINT NOT NULL,
    body           TEXT NOT NULL
) /*sqlite: WITHOUT ROWID*/;
CREATE INDEX resources_list ON resources (marketplace_id, type, created_at_us);

-- One row per link of a resource to another (a debit's customer, order,
-- source, ...), so that "the debits of this customer" is one index range,
-- newest first.
CREATE TABLE resource_links (
    target_id     TEXT NOT NULL,
    rel           TEXT NOT NULL,
    type          TEXT NOT NULL,
    created_at_us BIGINT NOT NULL,
    resource_id   TEXT NOT NULL,
    PRIMARY KEY (target_id, rel, type, created_at_us, resource_id)
) /*sqlite: WITHOUT ROWID*/;
CREATE INDEX resource_links_source ON resource_links (resource_id);
