-- backstock store, schema version 1.
-- The journal and its transfers are append-only: triggers refuse UPDATE and DELETE.
-- Everything else here is derived from the journal (and can be rebuilt by replay),
-- except `files`, the original bytes of every imported file (append-only too).

CREATE TABLE IF NOT EXISTS meta (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
);

CREATE TABLE journal (
    seq           INTEGER PRIMARY KEY,          -- 1, 2, 3 … without gaps
    entry_id      TEXT NOT NULL UNIQUE,         -- caller-chosen idempotency key
    kind          TEXT NOT NULL,                -- event name (shipment, statement, …)
    effective_day INTEGER NOT NULL,             -- days since 1970-01-01: when it happened
    known_day     INTEGER NOT NULL,             -- when the label learned it
    body          TEXT NOT NULL,                -- canonical JSON of the entry
    file_sha256   TEXT,                         -- source file, if imported
    recorded_at   TEXT NOT NULL,                -- wall clock, for people (not hashed)
    hash          TEXT NOT NULL                 -- hex SHA-256 chain link
);
CREATE INDEX journal_kind ON journal(kind, effective_day);

CREATE TABLE accounts (
    id           INTEGER PRIMARY KEY,           -- dense, from 0, in creation order
    key          TEXT NOT NULL,                 -- canonical JSON of the account key (unique: the book never makes two)
    created_seq  INTEGER NOT NULL,              -- the entry whose postings created it (hashed with it)
    ledger       TEXT NOT NULL,                 -- units:SKU or money:CUR
    owner        TEXT, holder TEXT, sku TEXT, state TEXT,          -- unit accounts
    party        TEXT, counterparty TEXT, money_kind TEXT, currency TEXT -- money accounts
);

CREATE TABLE transfers (
    seq           INTEGER NOT NULL,             -- journal entry
    idx           INTEGER NOT NULL,             -- position in the entry
    debit         INTEGER NOT NULL,
    credit        INTEGER NOT NULL,
    amount        INTEGER NOT NULL,
    flags         INTEGER NOT NULL,             -- engine transfer flags (pending/post/void)
    pending_id    TEXT,                         -- hex id of the pending transfer posted/voided
    posted_delta  INTEGER NOT NULL,             -- change to debits/credits posted
    pending_delta INTEGER NOT NULL,             -- change to debits/credits pending (signed)
    effective_day INTEGER NOT NULL,
    known_day     INTEGER NOT NULL,
    PRIMARY KEY (seq, idx)
) WITHOUT ROWID;
-- No secondary indexes: as-of sums scan by date anyway, and every index costs on the
-- import path.

-- Derived: current balances and open pending transfers (checked by `verify`).
CREATE TABLE balances (
    account         INTEGER PRIMARY KEY,
    debits_pending  INTEGER NOT NULL,
    debits_posted   INTEGER NOT NULL,
    credits_pending INTEGER NOT NULL,
    credits_posted  INTEGER NOT NULL
);
CREATE TABLE pending (
    id     TEXT PRIMARY KEY,                    -- hex transfer id
    seq    INTEGER NOT NULL,
    debit  INTEGER NOT NULL,
    credit INTEGER NOT NULL,
    amount INTEGER NOT NULL,
    state  TEXT NOT NULL                        -- open | posted | voided
);

CREATE TABLE files (
    sha256      TEXT PRIMARY KEY,
    name        TEXT NOT NULL,
    kind        TEXT NOT NULL,
    size        INTEGER NOT NULL,
    lines       INTEGER NOT NULL,
    imported_at TEXT NOT NULL,
    content     BLOB NOT NULL                  -- deflate-compressed original bytes
);

CREATE TRIGGER journal_no_update BEFORE UPDATE ON journal
BEGIN SELECT RAISE(ABORT, 'the journal is append-only: record a correction instead'); END;
CREATE TRIGGER journal_no_delete BEFORE DELETE ON journal
BEGIN SELECT RAISE(ABORT, 'the journal is append-only: record a correction instead'); END;
CREATE TRIGGER transfers_no_update BEFORE UPDATE ON transfers
BEGIN SELECT RAISE(ABORT, 'transfers are append-only: record a correction instead'); END;
CREATE TRIGGER transfers_no_delete BEFORE DELETE ON transfers
BEGIN SELECT RAISE(ABORT, 'transfers are append-only: record a correction instead'); END;
CREATE TRIGGER files_no_update BEFORE UPDATE ON files
BEGIN SELECT RAISE(ABORT, 'imported files are kept as they were'); END;
CREATE TRIGGER files_no_delete BEFORE DELETE ON files
BEGIN SELECT RAISE(ABORT, 'imported files are kept as they were'); END;
