-- Webhook delivery. Events are written with the change they describe
-- (resources of type 'events', status 'pending' until dispatched); the
-- dispatcher makes one delivery per callback of the event's marketplace,
-- and the sender works through deliveries that are due.

CREATE INDEX resources_undispatched ON resources (created_at_us) WHERE type = 'events' AND status = 'pending';

CREATE TABLE callback_deliveries (
    id              TEXT PRIMARY KEY,
    marketplace_id  TEXT NOT NULL,
    event_id        TEXT NOT NULL,
    callback_id     TEXT NOT NULL,
    -- pending (never tried), retrying, succeeded, failed (gave up)
    status          TEXT NOT NULL,
    attempts        INTEGER NOT NULL,
    next_attempt_us BIGINT NOT NULL,
    created_at_us   BIGINT NOT NULL
) /*sqlite: WITHOUT ROWID*/;
CREATE INDEX callback_deliveries_due ON callback_deliveries (next_attempt_us) WHERE status IN ('pending', 'retrying');
CREATE INDEX callback_deliveries_event ON callback_deliveries (event_id);

-- Every attempt, for the delivery log.
CREATE TABLE callback_attempts (
    delivery_id    TEXT NOT NULL,
    attempt        INTEGER NOT NULL,
    attempted_at_us BIGINT NOT NULL,
    status_code    INTEGER NOT NULL,
    error          TEXT NOT NULL,
    duration_ms    BIGINT NOT NULL,
    PRIMARY KEY (delivery_id, attempt)
) /*sqlite: WITHOUT ROWID*/;
