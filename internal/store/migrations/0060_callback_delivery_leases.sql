-- A delivery being sent is leased to the process sending it, so that
-- another instance does not send it too; a lease whose holder died runs out
-- and the delivery is taken over. An empty owner is no lease.
ALTER TABLE callback_deliveries ADD COLUMN lease_owner TEXT NOT NULL DEFAULT '';
ALTER TABLE callback_deliveries ADD COLUMN leased_until_us BIGINT NOT NULL DEFAULT 0;
