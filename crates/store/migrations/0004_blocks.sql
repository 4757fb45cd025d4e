-- Transfers and accounts in blocks (see src/blocks.rs): a row per block, not per
-- transfer or account, because SQLite's per-row cost made recording a month of
-- statements (600k transfers, 470k accounts) the slowest part of an import.
-- The rows of `transfers` and `accounts` are moved into blocks by the migration code
-- (`convert_to_blocks`), after which those tables are dropped. `balances` is dropped
-- too: balances are the sum of the stored transfers, computed when the book is loaded.
CREATE TABLE transfer_blocks (
    seq           INTEGER NOT NULL,             -- journal entry
    first_idx     INTEGER NOT NULL,             -- position in the entry of the block's first transfer
    count         INTEGER NOT NULL,
    effective_day INTEGER NOT NULL,             -- the entry's (as-of queries filter blocks by them)
    known_day     INTEGER NOT NULL,
    data          BLOB NOT NULL,                -- packed transfers (zstd; see src/blocks.rs)
    PRIMARY KEY (seq, first_idx)
) WITHOUT ROWID;

CREATE TABLE account_blocks (
    first_id    INTEGER PRIMARY KEY,            -- ids are dense, from 0, in creation order
    count       INTEGER NOT NULL,
    created_seq INTEGER NOT NULL,               -- the entry whose postings created them
    keys        BLOB NOT NULL                   -- canonical JSON keys, one per line (zstd)
);

CREATE TRIGGER transfer_blocks_no_update BEFORE UPDATE ON transfer_blocks
BEGIN SELECT RAISE(ABORT, 'transfers are append-only: record a correction instead'); END;
CREATE TRIGGER transfer_blocks_no_delete BEFORE DELETE ON transfer_blocks
BEGIN SELECT RAISE(ABORT, 'transfers are append-only: record a correction instead'); END;
CREATE TRIGGER account_blocks_no_update BEFORE UPDATE ON account_blocks
BEGIN SELECT RAISE(ABORT, 'accounts are append-only'); END;
CREATE TRIGGER account_blocks_no_delete BEFORE DELETE ON account_blocks
BEGIN SELECT RAISE(ABORT, 'accounts are append-only'); END;

-- An entry's canonical JSON of 64 KiB or more (a statement of thousands of SKUs, a
-- royalty run's statements) is kept as one zstd frame here and `body` is then empty.
-- What the chain hashes is the JSON text either way.
ALTER TABLE journal ADD COLUMN body_zstd BLOB;

-- Derived: what an import needs of the catalog, aliases and agreements (see
-- `Store::import_lookups`), as of the last such entry. Rebuilt from the journal when
-- stale; checked by `verify`.
CREATE TABLE lookups_snapshot (
    id       INTEGER PRIMARY KEY CHECK (id = 1),
    upto_seq INTEGER NOT NULL,                  -- the last catalog/alias/agreement entry it includes
    data     BLOB NOT NULL                      -- zstd of its JSON
);
