-- One royalty statement per payee of a royalty run, so that showing one is a keyed
-- read rather than a decode of the whole run (issue 15). The run's journal entry
-- (`royalty-run:PERIOD`, hashed in the chain) lists each statement's SHA-256; the row
-- holds the statement's JSON (zstd) and that SHA-256, checked whenever it is read.
-- Rows of a period whose run entry is recorded are never changed or removed. Rows of
-- runs recorded before this table existed (their statements inline in the entry) are
-- derived from the entry when first read.
CREATE TABLE royalty_statements (
    period  TEXT NOT NULL,                      -- the run's period (2016H1, 2016-02 …)
    payee   TEXT NOT NULL,
    sha256  TEXT NOT NULL,                      -- hex SHA-256 of the statement's JSON
    body    BLOB NOT NULL,                      -- zstd of the statement's JSON
    PRIMARY KEY (period, payee)
) WITHOUT ROWID;

CREATE TRIGGER royalty_statements_no_update BEFORE UPDATE ON royalty_statements
BEGIN SELECT RAISE(ABORT, 'royalty statements are kept as they were sent'); END;
CREATE TRIGGER royalty_statements_no_delete BEFORE DELETE ON royalty_statements
WHEN EXISTS (SELECT 1 FROM journal WHERE entry_id = 'royalty-run:' || OLD.period)
BEGIN SELECT RAISE(ABORT, 'royalty statements of a recorded run are kept as they were sent'); END;
