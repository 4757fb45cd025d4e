-- backstock store on PostgreSQL, schema version 3: transfers and accounts in blocks.
--
-- A row per transfer and per account wrote about 100k rows/s (each row's index entries
-- and foreign-key check), so loading a million statement lines took 10 s in rows alone.
-- From this version an entry's transfers are packed, in order, into blocks of at most
-- 8192 (`transfer_blocks`), and the accounts an entry created into blocks of at most
-- 8192 canonical keys (`account_blocks`), in the layout of the SQLite store
-- (backstock-store, src/blocks.rs): a block reads the same in both. What the hash chain
-- covers is unchanged. Rows written by version 2 stay in `transfers` and `accounts`
-- and are read with the blocks (nothing of history is moved or rewritten).
--
-- Pending transfers (opened, later posted or voided) are few; each transfer that opens
-- or ends one is also kept as a row of `pending_transfers`, so that the open ones are
-- found without reading every block. Balances never sum these rows.

CREATE TABLE transfer_blocks (
    label         text NOT NULL,
    seq           bigint NOT NULL,                  -- journal entry
    first_idx     integer NOT NULL CHECK (first_idx >= 0), -- position in the entry of the block's first transfer
    count         integer NOT NULL CHECK (count > 0 AND count <= 8192),
    effective_day bigint NOT NULL,                  -- the entry's (as-of sums filter blocks by them)
    known_day     bigint NOT NULL,
    data          bytea NOT NULL,                   -- packed transfers, one zstd frame
    PRIMARY KEY (label, seq, first_idx),
    FOREIGN KEY (label, seq) REFERENCES journal (label, seq)
);
CREATE INDEX transfer_blocks_days ON transfer_blocks (label, effective_day, known_day);

CREATE TABLE account_blocks (
    label       text NOT NULL,
    first_id    bigint NOT NULL CHECK (first_id >= 0), -- ids are dense per label, from 0
    count       integer NOT NULL CHECK (count > 0 AND count <= 8192),
    created_seq bigint NOT NULL,                    -- the entry whose postings created them
    keys        bytea NOT NULL,                     -- canonical JSON keys, one per line, one zstd frame
    PRIMARY KEY (label, first_id),
    FOREIGN KEY (label, created_seq) REFERENCES journal (label, seq)
);

CREATE TABLE pending_transfers (
    label      text NOT NULL,
    seq        bigint NOT NULL,
    idx        integer NOT NULL,
    id         text,                                -- the pending transfer this row opens (hex)
    pending_id text,                                -- the pending transfer this row posts or voids (hex)
    debit      bigint NOT NULL,
    credit     bigint NOT NULL,
    amount     bigint NOT NULL CHECK (amount >= 0),
    PRIMARY KEY (label, seq, idx),
    FOREIGN KEY (label, seq) REFERENCES journal (label, seq),
    CHECK ((id IS NULL) <> (pending_id IS NULL))
);
CREATE INDEX pending_transfers_ends ON pending_transfers (label, pending_id) WHERE pending_id IS NOT NULL;

DO $$
DECLARE t text;
BEGIN
    FOREACH t IN ARRAY ARRAY['transfer_blocks', 'account_blocks', 'pending_transfers'] LOOP
        EXECUTE format('CREATE TRIGGER %I BEFORE UPDATE OR DELETE ON %I FOR EACH ROW EXECUTE FUNCTION backstock_append_only()', t || '_append_only', t);
        EXECUTE format('CREATE TRIGGER %I BEFORE TRUNCATE ON %I FOR EACH STATEMENT EXECUTE FUNCTION backstock_append_only()', t || '_no_truncate', t);
        EXECUTE format('ALTER TABLE %I ENABLE ROW LEVEL SECURITY', t);
        EXECUTE format('ALTER TABLE %I FORCE ROW LEVEL SECURITY', t);
        EXECUTE format('CREATE POLICY label_scope ON %I USING (label = current_setting(''app.label'', true)) WITH CHECK (label = current_setting(''app.label'', true))', t);
    END LOOP;
END
$$;

GRANT SELECT, INSERT ON transfer_blocks, account_blocks, pending_transfers TO backstock_app;

-- Large values: a month's statement body is tens of MB of JSON. lz4 (where the server
-- has it) compresses it several times faster than the default pglz; blocks and kept
-- originals are zstd frames already, stored as they are rather than compressed again.
DO $$
BEGIN
    ALTER TABLE journal ALTER COLUMN body SET COMPRESSION lz4;
EXCEPTION WHEN OTHERS THEN
    RAISE NOTICE 'backstock: lz4 is not available (%); statement bodies use pglz', SQLERRM;
END
$$;
ALTER TABLE transfer_blocks ALTER COLUMN data SET STORAGE EXTERNAL;
ALTER TABLE account_blocks ALTER COLUMN keys SET STORAGE EXTERNAL;
ALTER TABLE file_parts ALTER COLUMN content SET STORAGE EXTERNAL;
