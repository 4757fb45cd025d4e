-- Chain version 2 (issue 19.3): an entry's hash also covers `recorded_at` and
-- `file_sha256`. Entries recorded before keep version 1 and verify as they did; new
-- entries are version 2. A version never goes down along the chain (`verify`).
ALTER TABLE journal ADD COLUMN chain_version INTEGER NOT NULL DEFAULT 1;
