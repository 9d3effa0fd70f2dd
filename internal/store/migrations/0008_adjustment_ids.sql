-- External IDs of balance adjustments: an adjustment given the same
-- external ID twice (a file uploaded again) is made once.
CREATE TABLE adjustment_external_ids (
    marketplace_id TEXT NOT NULL,
    external_id    TEXT NOT NULL,
    adjustment_id  TEXT NOT NULL,
    PRIMARY KEY (marketplace_id, external_id)
) /*sqlite: WITHOUT ROWID*/;
