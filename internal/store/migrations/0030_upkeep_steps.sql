-- One-time steps a server runs at start-up because a migration cannot:
-- those that need the encryption key, which the database never sees
-- (rewriting fingerprints made before they were keyed). A step's row is
-- written in the transaction of its last change, so a step interrupted
-- half way runs again at the next start.
CREATE TABLE upkeep_steps (
    name       TEXT PRIMARY KEY,
    done_at_us BIGINT NOT NULL
);
