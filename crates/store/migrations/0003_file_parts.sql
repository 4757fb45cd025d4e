-- Large originals are kept in parts: each part is an independent zstd frame of up to
-- 16 MiB of the original, so neither the importer nor SQLite holds the whole
-- compressed file twice. `files.content` is empty for such a file; its parts,
-- concatenated in order, decompress to the original. Append-only like `files`.
CREATE TABLE file_parts (
    sha256  TEXT NOT NULL,
    part    INTEGER NOT NULL,                  -- 0, 1, 2 … in file order
    content BLOB NOT NULL,
    PRIMARY KEY (sha256, part)
) WITHOUT ROWID;

CREATE TRIGGER file_parts_no_update BEFORE UPDATE ON file_parts
BEGIN SELECT RAISE(ABORT, 'imported files are kept as they were'); END;
CREATE TRIGGER file_parts_no_delete BEFORE DELETE ON file_parts
BEGIN SELECT RAISE(ABORT, 'imported files are kept as they were'); END;
