-- A trace number is the ODFI's: its routing number's first eight digits and
-- a sequence. Marketplaces that send through the same ODFI draw from one
-- sequence, so the bank never receives two entries with one trace number.
CREATE TABLE ach_odfi_traces (
    odfi_routing  TEXT PRIMARY KEY,
    -- The next sequence to give out.
    next_sequence BIGINT NOT NULL
) /*sqlite: WITHOUT ROWID*/;
