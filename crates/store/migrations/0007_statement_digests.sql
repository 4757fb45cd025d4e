-- Each statement entry summed per kind × channel without its SKUs
-- (`Statement::digest`): what `risk`, `receivables` and the credit check of `ship`
-- read of a statement, in a handful of lines instead of one per SKU (issue 15: a year
-- of a label group's statements is millions of lines that those commands decoded only
-- to add up). Derived from the entry's hashed body: written with the entry, or from the
-- entry when first read (statements recorded before this table existed); `verify`
-- compares every digest with its entry. Never changed once written.
CREATE TABLE statement_digests (
    seq  INTEGER PRIMARY KEY,   -- the statement's journal entry
    body TEXT NOT NULL          -- the digested entry's JSON
);

CREATE TRIGGER statement_digests_no_update BEFORE UPDATE ON statement_digests
BEGIN SELECT RAISE(ABORT, 'a statement digest is derived from its entry and never changed'); END;
