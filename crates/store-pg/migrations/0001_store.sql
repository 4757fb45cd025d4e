-- backstock store on PostgreSQL, schema version 1: many labels in one database.
--
-- Every row carries its label. Row-level security keyed on the session setting
-- `app.label` shows a session only its own label's rows (none when it is not set);
-- the store runs every query as the role `backstock_app`, which is subject to it and
-- may only SELECT and INSERT history. History (journal, accounts, transfers, files,
-- file_parts) is append-only: triggers refuse UPDATE, DELETE and TRUNCATE for every
-- role, the owner included. `chain_heads` is the one row per label a writer locks
-- (`FOR UPDATE`) to append: it only moves forward, to the journal's last entry.
-- Money and units are exact: bigint minor units and units (never floats).

DO $$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'backstock_app') THEN
        CREATE ROLE backstock_app NOLOGIN NOSUPERUSER NOBYPASSRLS;
    END IF;
EXCEPTION WHEN duplicate_object OR unique_violation THEN
    NULL; -- created by a concurrent migration in another database
END
$$;
-- The owner (who migrates) works as backstock_app (`SET ROLE`): a superuser may anyway;
-- another owner needs the membership (granted here when it may be).
DO $$
BEGIN
    IF NOT pg_has_role(current_user, 'backstock_app', 'MEMBER') THEN
        EXECUTE format('GRANT backstock_app TO %I', current_user);
    END IF;
EXCEPTION WHEN insufficient_privilege THEN
    RAISE WARNING 'backstock: grant the role backstock_app to %', current_user;
END
$$;

CREATE TABLE chain_heads (
    label text PRIMARY KEY,
    seq   bigint NOT NULL CHECK (seq >= 0),        -- entries in the label's journal
    hash  text NOT NULL                            -- the last entry's hash (64 zeros: none)
);

CREATE TABLE journal (
    label         text NOT NULL,
    seq           bigint NOT NULL CHECK (seq >= 1), -- 1, 2, 3 … per label, without gaps
    entry_id      text NOT NULL,                    -- caller-chosen idempotency key
    kind          text NOT NULL,                    -- event name (shipment, statement, …)
    effective_day bigint NOT NULL,                  -- days since 1970-01-01
    known_day     bigint NOT NULL,
    body          text NOT NULL,                    -- canonical JSON of the entry, as hashed
    file_sha256   text,                             -- the original it came from
    recorded_at   text NOT NULL,                    -- the store's UTC timestamp, as hashed
    hash          text NOT NULL,                    -- hex SHA-256 chain link
    chain_version smallint NOT NULL,
    PRIMARY KEY (label, seq),
    UNIQUE (label, entry_id)
);
CREATE INDEX journal_kind ON journal (label, kind, effective_day);

CREATE TABLE accounts (
    label       text NOT NULL,
    id          bigint NOT NULL CHECK (id >= 0),    -- dense per label, from 0, in creation order
    key         text NOT NULL,                      -- canonical JSON of the account key
    created_seq bigint NOT NULL,                    -- the entry whose postings created it
    PRIMARY KEY (label, id),
    FOREIGN KEY (label, created_seq) REFERENCES journal (label, seq)
);

CREATE TABLE transfers (
    label         text NOT NULL,
    seq           bigint NOT NULL,                  -- journal entry
    idx           integer NOT NULL,                 -- position in the entry
    debit         bigint NOT NULL,
    credit        bigint NOT NULL,
    amount        bigint NOT NULL CHECK (amount >= 0),
    flags         integer NOT NULL,                 -- engine flags, without LINKED (as hashed)
    id            text,                             -- a pending transfer's own id (hex)
    pending_id    text,                             -- the pending transfer posted or voided (hex)
    posted_delta  bigint NOT NULL,                  -- change to debits/credits posted
    pending_delta bigint NOT NULL,                  -- change to debits/credits pending (signed)
    effective_day bigint NOT NULL,                  -- the entry's, for as-of sums
    known_day     bigint NOT NULL,
    PRIMARY KEY (label, seq, idx),
    FOREIGN KEY (label, seq) REFERENCES journal (label, seq)
);
CREATE INDEX transfers_ends ON transfers (label, pending_id) WHERE pending_id IS NOT NULL;
CREATE INDEX transfers_opens ON transfers (label, id) WHERE id IS NOT NULL;

CREATE TABLE files (
    label       text NOT NULL,
    sha256      text NOT NULL,
    name        text NOT NULL,
    kind        text NOT NULL,
    size        bigint NOT NULL,
    lines       bigint NOT NULL,
    imported_at text NOT NULL,
    PRIMARY KEY (label, sha256)
);

CREATE TABLE file_parts (
    label   text NOT NULL,
    sha256  text NOT NULL,
    part    integer NOT NULL,
    content bytea NOT NULL,                         -- a zstd frame of at most 16 MiB of the original
    PRIMARY KEY (label, sha256, part),
    FOREIGN KEY (label, sha256) REFERENCES files (label, sha256)
);

-- Append-only, enforced by the database.
CREATE FUNCTION backstock_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'backstock: % is append-only (% refused): record a correction instead',
        TG_TABLE_NAME, TG_OP
        USING ERRCODE = 'insufficient_privilege';
END
$$;

CREATE FUNCTION backstock_chain_head_moves_forward() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP <> 'UPDATE' OR NEW.label <> OLD.label OR NEW.seq <= OLD.seq
       OR NOT EXISTS (SELECT 1 FROM journal j
                      WHERE j.label = NEW.label AND j.seq = NEW.seq AND j.hash = NEW.hash) THEN
        RAISE EXCEPTION 'backstock: a chain head only moves forward, to its journal''s last entry (% refused)', TG_OP
            USING ERRCODE = 'insufficient_privilege';
    END IF;
    RETURN NEW;
END
$$;

DO $$
DECLARE t text;
BEGIN
    FOREACH t IN ARRAY ARRAY['journal', 'accounts', 'transfers', 'files', 'file_parts'] LOOP
        EXECUTE format('CREATE TRIGGER %I BEFORE UPDATE OR DELETE ON %I FOR EACH ROW EXECUTE FUNCTION backstock_append_only()', t || '_append_only', t);
        EXECUTE format('CREATE TRIGGER %I BEFORE TRUNCATE ON %I FOR EACH STATEMENT EXECUTE FUNCTION backstock_append_only()', t || '_no_truncate', t);
    END LOOP;
    FOREACH t IN ARRAY ARRAY['chain_heads', 'journal', 'accounts', 'transfers', 'files', 'file_parts'] LOOP
        EXECUTE format('ALTER TABLE %I ENABLE ROW LEVEL SECURITY', t);
        EXECUTE format('ALTER TABLE %I FORCE ROW LEVEL SECURITY', t);
        EXECUTE format('CREATE POLICY label_scope ON %I USING (label = current_setting(''app.label'', true)) WITH CHECK (label = current_setting(''app.label'', true))', t);
    END LOOP;
END
$$;

CREATE TRIGGER chain_heads_forward BEFORE UPDATE OR DELETE ON chain_heads
    FOR EACH ROW EXECUTE FUNCTION backstock_chain_head_moves_forward();
CREATE TRIGGER chain_heads_no_truncate BEFORE TRUNCATE ON chain_heads
    FOR EACH STATEMENT EXECUTE FUNCTION backstock_append_only();

GRANT SELECT, INSERT ON journal, accounts, transfers, files, file_parts TO backstock_app;
GRANT SELECT, INSERT, UPDATE ON chain_heads TO backstock_app;
