-- OAuth 1.0 nonces seen within the timestamp window: a request signed with a
-- nonce already used by the same consumer is a replay and is refused.
CREATE TABLE oauth_nonces (
    consumer_key  TEXT NOT NULL,
    nonce         TEXT NOT NULL,
    seen_at_us    BIGINT NOT NULL,
    PRIMARY KEY (consumer_key, nonce)
) /*sqlite: WITHOUT ROWID*/;
CREATE INDEX oauth_nonces_age ON oauth_nonces (seen_at_us);
