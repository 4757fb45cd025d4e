-- The entries recorded from an original file, found without reading the journal
-- whole: an import of bytes imported before asks whether what they recorded still
-- stands (a file whose every entry was reversed may be read again).
CREATE INDEX journal_file_sha256 ON journal(file_sha256) WHERE file_sha256 IS NOT NULL;
