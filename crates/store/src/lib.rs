//! The store: backstock's journal, accounts, transfers and original files in SQLite.
//!
//! Contract:
//! * One call to [`Store::record`] is one `BEGIN IMMEDIATE` transaction: every entry
//!   of the batch (and the original file, if given) is recorded, or — on any error —
//!   nothing is, and the database is as it was.
//! * Entries are idempotent by id: an entry whose id exists with the same content is
//!   counted as unchanged; with different content the batch is refused
//!   ([`StoreError::Conflict`]). A file whose bytes were imported before is reported
//!   as [`RecordOutcome::AlreadyImported`] and nothing is recorded.
//! * The journal, transfers and files are append-only (SQL triggers refuse UPDATE and
//!   DELETE). Balances and pending transfers are derived tables, rebuilt by replay in
//!   [`Store::verify`], which also recomputes the hash chain and names the first
//!   entry that does not match.
//! * All SQL lives in this crate, so another backend (PostgreSQL) can implement the
//!   same methods and pass the same tests.

pub mod admit;
pub mod backup;
pub mod blocks;
pub mod contract;
pub mod copy;
mod holdings;
mod links;
mod postings;
pub mod projection;
pub mod query;
pub mod royalty_statements;
mod verify;

pub use links::ChainLink;
// What a store keeps of a transfer and hashes: shared with every backend.
pub(crate) use backstock_ledger::canonical::{canonical_postings, tid_hex, TransferRow};

use backstock_domain::Date;
use backstock_ledger::engine::{Balance, Transfer, TransferFlags, TransferId};
use backstock_ledger::{chain, AccountKey, Book, Entry, RecordError};
use blocks::StoredTransfer;
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use sqlx::{Connection, Row, SqliteConnection, SqlitePool};
use std::collections::{BTreeSet, HashMap};
use std::fmt;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::time::Duration;

pub use query::{BalanceRow, JournalRow, StockRow};
pub use verify::{Anchor, AnchoredReport, Checkpoint, VerifyReport};

const MIGRATIONS: &[(i64, &str)] = &[
    (1, include_str!("../migrations/0001_journal.sql")),
    (2, include_str!("../migrations/0002_alerts.sql")),
    (3, include_str!("../migrations/0003_file_parts.sql")),
    (4, include_str!("../migrations/0004_blocks.sql")),
    (5, include_str!("../migrations/0005_chain_v2.sql")),
    (6, include_str!("../migrations/0006_royalty_statements.sql")),
    (7, include_str!("../migrations/0007_statement_digests.sql")),
    (8, include_str!("../migrations/0008_journal_file_index.sql")),
];

/// File name of the database inside the data directory.
pub const DB_FILE: &str = "backstock.db";

#[derive(Debug)]
pub enum StoreError {
    /// The data directory holds no database (run `backstock init`).
    NotInitialized(PathBuf),
    /// An entry was refused by the ledger (nothing recorded).
    Refused(RecordError),
    /// An entry id exists with different content.
    Conflict {
        entry_id: String,
    },
    /// The database does not hold what backstock wrote (see `verify`).
    Corrupt(String),
    Io(std::io::Error),
    Db(sqlx::Error),
}

impl fmt::Display for StoreError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            StoreError::NotInitialized(p) => write!(
                f,
                "no backstock database in {} (run `backstock init` or `backstock demo` first)",
                p.display()
            ),
            StoreError::Refused(e) => write!(f, "{e}"),
            StoreError::Conflict { entry_id } => write!(
                f,
                "entry {entry_id} was already recorded with different details, and recorded entries are never changed: if the one on file is wrong, reverse it (`backstock correct {entry_id} --reason \"…\"`) and record the right one under an id of its own (in a file: a new statement, shipment, payment or cost id, such as the old one with -R1)"
            ),
            StoreError::Corrupt(m) => write!(f, "the database is damaged: {m}"),
            StoreError::Io(e) => write!(f, "{e}"),
            StoreError::Db(e) => write!(f, "database error: {e}"),
        }
    }
}

impl std::error::Error for StoreError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            StoreError::Io(e) => Some(e),
            StoreError::Db(e) => Some(e),
            _ => None,
        }
    }
}

impl From<sqlx::Error> for StoreError {
    fn from(e: sqlx::Error) -> StoreError {
        StoreError::Db(e)
    }
}
impl From<std::io::Error> for StoreError {
    fn from(e: std::io::Error) -> StoreError {
        StoreError::Io(e)
    }
}

pub type Result<T> = std::result::Result<T, StoreError>;

/// An original file to keep with the entries built from it.
pub struct SourceFile {
    pub sha256: String,
    pub name: String,
    pub kind: String,
    /// Size of the original in bytes.
    pub size: u64,
    /// The original bytes in parts of at most [`PART_BYTES`], each compressed by
    /// [`compress`]; one part for most files.
    pub parts: Vec<Vec<u8>>,
    pub lines: u64,
}

impl SourceFile {
    /// An original to keep, compressed in parts of at most [`PART_BYTES`]. The SHA-256
    /// given must be the bytes' own: a mismatch is refused.
    pub fn from_bytes(
        sha256: String,
        name: String,
        kind: String,
        lines: u64,
        bytes: &[u8],
    ) -> Result<SourceFile> {
        use sha2::Digest;
        let got = chain::to_hex(sha2::Sha256::digest(bytes).as_slice());
        if got != sha256 {
            return Err(StoreError::Corrupt(format!(
                "the original {sha256} ({name}) hashes to {got}: it was changed"
            )));
        }
        let mut packer = PartCompressor::new()?;
        let mut parts = Vec::with_capacity(bytes.len() / PART_BYTES + 1);
        for chunk in bytes.chunks(PART_BYTES) {
            parts.push(packer.part(chunk)?);
        }
        if parts.is_empty() {
            parts.push(packer.part(&[])?);
        }
        Ok(SourceFile {
            sha256,
            name,
            kind,
            size: bytes.len() as u64,
            parts,
            lines,
        })
    }

    /// An original from the parts a store keeps (how a copy moves it without
    /// compressing it again): each part is decompressed once, to check the bytes'
    /// SHA-256 and each part's size, and kept as it is. Parts of an older form (one
    /// deflate stream) are read whole and compressed anew by [`SourceFile::from_bytes`].
    pub fn from_parts(
        sha256: String,
        name: String,
        kind: String,
        lines: u64,
        parts: Vec<Vec<u8>>,
    ) -> Result<SourceFile> {
        use sha2::Digest;
        if parts.is_empty() || parts.iter().any(|p| !p.starts_with(&ZSTD_MAGIC)) {
            let bytes = decompress(&parts.concat())?;
            return SourceFile::from_bytes(sha256, name, kind, lines, &bytes);
        }
        let mut hasher = sha2::Sha256::new();
        let mut size = 0u64;
        for (i, part) in parts.iter().enumerate() {
            // A part never holds more than PART_BYTES: refuse to inflate past it.
            let bytes = zstd::bulk::decompress(part, PART_BYTES).map_err(|e| {
                StoreError::Corrupt(format!(
                    "the original {sha256} ({name}): part {i} does not decompress within {PART_BYTES} bytes: {e}"
                ))
            })?;
            hasher.update(&bytes);
            size += bytes.len() as u64;
        }
        let got = chain::to_hex(hasher.finalize().as_slice());
        if got != sha256 {
            return Err(StoreError::Corrupt(format!(
                "the original {sha256} ({name}) hashes to {got}: it was changed"
            )));
        }
        Ok(SourceFile {
            sha256,
            name,
            kind,
            size,
            parts,
            lines,
        })
    }
}

/// Compression level for originals: zstd's fastest standard level. A 10M-line
/// statement file (~800 MB) compresses at several hundred MB/s to about a tenth.
const ZSTD_LEVEL: i32 = 1;
/// The first four bytes of every zstd frame. Originals kept by earlier versions are raw
/// deflate, which cannot start with these bytes (a stored deflate block would need
/// LEN and NLEN to be complements), so the codec is told by the content itself.
const ZSTD_MAGIC: [u8; 4] = [0x28, 0xb5, 0x2f, 0xfd];

/// Compresses bytes the way the store keeps originals (a zstd frame, level 1).
pub fn compress(bytes: &[u8]) -> std::io::Result<Vec<u8>> {
    zstd::bulk::compress(bytes, ZSTD_LEVEL)
}

/// Originals are compressed in parts of at most this many bytes of the original, so a
/// file of any size is never held whole, compressed or not.
pub const PART_BYTES: usize = 16 << 20;

/// Compresses an original part by part, reusing one compression context.
pub struct PartCompressor(Frames);

impl PartCompressor {
    pub fn new() -> std::io::Result<PartCompressor> {
        Ok(PartCompressor(Frames::new(ZSTD_LEVEL)?))
    }
    /// One part (at most [`PART_BYTES`] of the original) as a zstd frame.
    pub fn part(&mut self, bytes: &[u8]) -> std::io::Result<Vec<u8>> {
        debug_assert!(bytes.len() <= PART_BYTES);
        self.0.frame(bytes)
    }
}

/// zstd frames of exactly their own size. (`Compressor::compress` returns a vector
/// with the capacity of the worst case — the input's size and more — so each kept
/// frame of a 16 MiB part would hold 16 MiB of address space.)
pub(crate) struct Frames {
    z: zstd::bulk::Compressor<'static>,
    scratch: Vec<u8>,
}

impl Frames {
    pub(crate) fn new(level: i32) -> std::io::Result<Frames> {
        Ok(Frames {
            z: zstd::bulk::Compressor::new(level)?,
            scratch: Vec::new(),
        })
    }

    pub(crate) fn frame(&mut self, bytes: &[u8]) -> std::io::Result<Vec<u8>> {
        self.scratch.clear();
        self.scratch
            .reserve(zstd::zstd_safe::compress_bound(bytes.len()));
        let n = self.z.compress_to_buffer(bytes, &mut self.scratch)?;
        Ok(self.scratch[..n].to_vec())
    }
}

/// The original bytes from what the store kept (zstd frames — concatenated parts
/// decode as one stream — or deflate from earlier versions).
pub fn decompress(kept: &[u8]) -> std::io::Result<Vec<u8>> {
    if kept.starts_with(&ZSTD_MAGIC) {
        return zstd::stream::decode_all(kept);
    }
    let mut out = Vec::new();
    let mut d = flate2::write::DeflateDecoder::new(&mut out);
    d.write_all(kept)?;
    d.finish()?;
    Ok(out)
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RecordOutcome {
    Recorded {
        recorded: usize,
        unchanged: usize,
        transfers: usize,
    },
    AlreadyImported {
        imported_at: String,
        name: String,
    },
}

struct Cached {
    head_seq: i64,
    book: Book,
}

pub struct Store {
    pool: SqlitePool,
    path: PathBuf,
    cache: tokio::sync::Mutex<Option<Cached>>,
}

impl Store {
    /// Opens the database in `data_dir`, creating directory and database when `create`
    /// is true. Applies embedded migrations.
    pub async fn open(data_dir: &Path, create: bool) -> Result<Store> {
        let path = data_dir.join(DB_FILE);
        if !path.exists() {
            if !create {
                return Err(StoreError::NotInitialized(data_dir.to_path_buf()));
            }
            std::fs::create_dir_all(data_dir)?;
        }
        let store = Store::connect(path, create).await?;
        store.migrate().await?;
        Ok(store)
    }

    /// A copy of this database in `dir` (an empty directory), opened: for a dry run
    /// that records as the real thing would and is then thrown away. Not migrated —
    /// the copy has this store's schema.
    pub async fn scratch_copy(&self, dir: &Path) -> Result<Store> {
        let path = dir.join(DB_FILE);
        self.backup_to(&path).await?;
        Store::connect(path, false).await
    }

    /// The pool on the database at `path` (no migrations).
    async fn connect(path: PathBuf, create: bool) -> Result<Store> {
        let opts = SqliteConnectOptions::from_str("sqlite:")?
            .filename(&path)
            .create_if_missing(create)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Full)
            .foreign_keys(true)
            .busy_timeout(Duration::from_secs(10))
            .pragma("cache_size", "-16384");
        let pool = SqlitePoolOptions::new()
            .max_connections(4)
            .connect_with(opts)
            .await?;
        Ok(Store {
            pool,
            path,
            cache: tokio::sync::Mutex::new(None),
        })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Another handle on the same database (the same pool of connections), with a
    /// book cache of its own: for reading on another thread while this one works.
    pub fn reader(&self) -> Store {
        Store {
            pool: self.pool.clone(),
            path: self.path.clone(),
            cache: tokio::sync::Mutex::new(None),
        }
    }

    pub fn pool(&self) -> &SqlitePool {
        &self.pool
    }

    async fn migrate(&self) -> Result<()> {
        let mut conn = self.pool.acquire().await?;
        sqlx::query("CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)")
            .execute(&mut *conn)
            .await?;
        let version: i64 = sqlx::query_scalar(
            "SELECT CAST(value AS INTEGER) FROM meta WHERE key = 'schema_version'",
        )
        .fetch_optional(&mut *conn)
        .await?
        .unwrap_or(0);
        for (v, sql) in MIGRATIONS {
            if *v > version {
                let mut tx = conn.begin().await?;
                sqlx::raw_sql(sql).execute(&mut *tx).await?;
                if *v == 4 {
                    convert_to_blocks(&mut tx).await?;
                }
                sqlx::query("INSERT OR REPLACE INTO meta(key, value) VALUES ('schema_version', ?)")
                    .bind(v.to_string())
                    .execute(&mut *tx)
                    .await?;
                tx.commit().await?;
            }
        }
        Ok(())
    }

    /// Records a batch of entries (and the file they came from) in one transaction.
    pub async fn record(
        &self,
        entries: &[Entry],
        file: Option<SourceFile>,
    ) -> Result<RecordOutcome> {
        self.record_from(entries.iter().collect(), file, None).await
    }

    /// [`Store::record`], taking the entries: each is dropped as soon as its rows are
    /// built, so a file of millions of statement lines is not held twice.
    pub async fn record_all(
        &self,
        entries: Vec<Entry>,
        file: Option<SourceFile>,
    ) -> Result<RecordOutcome> {
        self.record_from(entries, file, None).await
    }

    /// [`Store::record_all`] stamped `recorded_at` (the store's UTC timestamp text)
    /// instead of the clock: a copy of another store's journal gets its hashes.
    pub async fn record_all_at(
        &self,
        entries: Vec<Entry>,
        file: Option<SourceFile>,
        recorded_at: &str,
    ) -> Result<RecordOutcome> {
        self.record_from(entries, file, Some(recorded_at.to_string()))
            .await
    }

    async fn record_from<E: std::borrow::Borrow<Entry>>(
        &self,
        entries: Vec<E>,
        file: Option<SourceFile>,
        recorded_at: Option<String>,
    ) -> Result<RecordOutcome> {
        let mut cache = self.cache.lock().await;
        let mut conn = self.pool.acquire().await?;
        sqlx::query("BEGIN IMMEDIATE").execute(&mut *conn).await?;
        let result = record_in_tx(&mut conn, &mut cache, entries, file, recorded_at).await;
        match result {
            Ok(outcome) => {
                if let Err(e) = sqlx::query("COMMIT").execute(&mut *conn).await {
                    *cache = None;
                    let _ = sqlx::query("ROLLBACK").execute(&mut *conn).await;
                    return Err(e.into());
                }
                Ok(outcome)
            }
            Err(e) => {
                // The cached book may hold part of the failed batch: drop it.
                *cache = None;
                let _ = sqlx::query("ROLLBACK").execute(&mut *conn).await;
                Err(e)
            }
        }
    }

    /// When the file with these bytes was imported, if it was.
    pub async fn file_imported(&self, sha256: &str) -> Result<Option<(String, String)>> {
        let row = sqlx::query("SELECT imported_at, name FROM files WHERE sha256 = ?")
            .bind(sha256)
            .fetch_optional(&self.pool)
            .await?;
        Ok(row.map(|r| (r.get(0), r.get(1))))
    }

    /// The ids of the entries recorded with the file of these bytes (its first import:
    /// a file imported again after all of them were reversed records its new entries
    /// without the file, which is kept once), oldest first.
    pub async fn entry_ids_of_file(&self, sha256: &str) -> Result<Vec<String>> {
        Ok(
            sqlx::query_scalar(
                "SELECT entry_id FROM journal WHERE file_sha256 = ? AND file_sha256 IS NOT NULL ORDER BY seq",
            )
                .bind(sha256)
                .fetch_all(&self.pool)
                .await?,
        )
    }

    /// The original bytes of an imported file.
    pub async fn file_bytes(&self, sha256: &str) -> Result<Option<Vec<u8>>> {
        let row: Option<Vec<u8>> = sqlx::query_scalar("SELECT content FROM files WHERE sha256 = ?")
            .bind(sha256)
            .fetch_optional(&self.pool)
            .await?;
        let Some(mut z) = row else {
            return Ok(None);
        };
        if z.is_empty() {
            let parts: Vec<Vec<u8>> =
                sqlx::query_scalar("SELECT content FROM file_parts WHERE sha256 = ? ORDER BY part")
                    .bind(sha256)
                    .fetch_all(&self.pool)
                    .await?;
            z = parts.concat();
        }
        Ok(Some(decompress(&z)?))
    }

    /// A kept original as stored — its compressed parts — checked against its SHA-256.
    pub async fn file_source(&self, sha256: &str) -> Result<Option<SourceFile>> {
        let row: Option<(String, String, i64, Vec<u8>)> =
            sqlx::query_as("SELECT name, kind, lines, content FROM files WHERE sha256 = ?")
                .bind(sha256)
                .fetch_optional(&self.pool)
                .await?;
        let Some((name, kind, lines, content)) = row else {
            return Ok(None);
        };
        let parts = if content.is_empty() {
            sqlx::query_scalar("SELECT content FROM file_parts WHERE sha256 = ? ORDER BY part")
                .bind(sha256)
                .fetch_all(&self.pool)
                .await?
        } else {
            vec![content]
        };
        SourceFile::from_parts(
            sha256.to_string(),
            name,
            kind,
            u64::try_from(lines).unwrap_or(0),
            parts,
        )
        .map(Some)
    }
}

fn day(d: Date) -> i64 {
    i64::from(d.days_since_epoch())
}

/// The store's UTC timestamp text (`YYYY-MM-DDTHH:MM:SSZ`), as `recorded_at` keeps
/// and chain version 2 hashes it.
pub fn now_utc() -> String {
    let secs = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0);
    let days = (secs / 86400) as i32;
    let date = Date::from_days_since_epoch(days)
        .map(|d| d.to_string())
        .unwrap_or_default();
    let s = secs % 86400;
    format!("{date}T{:02}:{:02}:{:02}Z", s / 3600, (s / 60) % 60, s % 60)
}

/// One stored transfer block, decoded.
pub(crate) struct Block {
    pub seq: i64,
    pub first_idx: i64,
    pub effective_day: i64,
    pub known_day: i64,
    pub transfers: Vec<StoredTransfer>,
}

/// Transfer blocks in (entry, position) order, read a page at a time so a store of
/// many millions of transfers is never held whole. `max_day` keeps only entries
/// effective and known by that day.
pub(crate) struct BlockCursor {
    after: (i64, i64),
    max_day: i64,
    page: std::collections::VecDeque<Block>,
    done: bool,
}

/// Blocks read per query (each at most ~400 KB).
const BLOCKS_PER_PAGE: i64 = 64;

impl BlockCursor {
    pub(crate) fn new(max_day: Option<i64>) -> BlockCursor {
        BlockCursor {
            after: (i64::MIN, i64::MIN),
            max_day: max_day.unwrap_or(i64::MAX),
            page: Default::default(),
            done: false,
        }
    }

    /// The blocks of the entries after #`seq` only.
    pub(crate) fn after_entry(seq: i64, max_day: Option<i64>) -> BlockCursor {
        BlockCursor {
            after: (seq, i64::MAX),
            ..BlockCursor::new(max_day)
        }
    }

    pub(crate) async fn next(&mut self, conn: &mut SqliteConnection) -> Result<Option<Block>> {
        if self.page.is_empty() && !self.done {
            let rows = sqlx::query(
                "SELECT seq, first_idx, count, effective_day, known_day, data FROM transfer_blocks \
                 WHERE (seq > ?1 OR (seq = ?1 AND first_idx > ?2)) AND effective_day <= ?3 AND known_day <= ?3 \
                 ORDER BY seq, first_idx LIMIT ?4",
            )
            .bind(self.after.0)
            .bind(self.after.1)
            .bind(self.max_day)
            .bind(BLOCKS_PER_PAGE)
            .fetch_all(&mut *conn)
            .await?;
            self.done = (rows.len() as i64) < BLOCKS_PER_PAGE;
            for r in rows {
                let seq: i64 = r.get(0);
                let first_idx: i64 = r.get(1);
                let count = usize::try_from(r.get::<i64, _>(2)).unwrap_or(usize::MAX);
                let transfers = blocks::decode_transfers(
                    r.get::<&[u8], _>(5),
                    count,
                    &format!("entry #{seq}"),
                )?;
                self.after = (seq, first_idx);
                self.page.push_back(Block {
                    seq,
                    first_idx,
                    effective_day: r.get(3),
                    known_day: r.get(4),
                    transfers,
                });
            }
        }
        Ok(self.page.pop_front())
    }
}

/// Every account's key, by id (the keys' canonical texts are parsed).
pub(crate) async fn load_account_keys(
    conn: &mut SqliteConnection,
    each: impl FnMut(u32, i64, &str) -> Result<()>,
) -> Result<Vec<AccountKey>> {
    load_account_keys_if(conn, true, each).await
}

/// [`load_account_keys`], the keys parsed only when `parse` (otherwise the result is
/// empty and `each` alone sees every account: `verify --full` takes each account's key
/// from the entry that created it, and holding every key once more would be hundreds of
/// megabytes on a label group's store). Ids are checked to be dense either way.
pub(crate) async fn load_account_keys_if(
    conn: &mut SqliteConnection,
    parse: bool,
    mut each: impl FnMut(u32, i64, &str) -> Result<()>,
) -> Result<Vec<AccountKey>> {
    let mut keys: Vec<AccountKey> = Vec::new();
    let mut next = 0usize;
    loop {
        let rows = sqlx::query(
            "SELECT first_id, count, created_seq, keys FROM account_blocks WHERE first_id >= ? ORDER BY first_id LIMIT 16",
        )
        .bind(next as i64)
        .fetch_all(&mut *conn)
        .await?;
        if rows.is_empty() {
            break;
        }
        for r in rows {
            let first: i64 = r.get(0);
            if first != next as i64 {
                return Err(StoreError::Corrupt(format!(
                    "account ids are not dense at {first}"
                )));
            }
            let count = usize::try_from(r.get::<i64, _>(1)).unwrap_or(usize::MAX);
            let seq: i64 = r.get(2);
            let what = format!("account {first}");
            let text = blocks::account_text(r.get::<&[u8], _>(3), count, &what)?;
            for text in blocks::account_keys(&text, count, &what)? {
                let id = next as u32;
                if parse {
                    let key = AccountKey::read(text).map_err(|e| {
                        StoreError::Corrupt(format!("account {id} has an unreadable key: {e}"))
                    })?;
                    keys.push(key);
                }
                each(id, seq, text)?;
                next += 1;
            }
        }
    }
    Ok(keys)
}

/// Every account block's first id, key count and text (decompressed, not parsed), in
/// id order; ids are checked to be dense.
pub(crate) async fn load_account_texts(
    conn: &mut SqliteConnection,
) -> Result<Vec<(usize, usize, String)>> {
    let mut out: Vec<(usize, usize, String)> = Vec::new();
    let mut next = 0usize;
    loop {
        let rows = sqlx::query(
            "SELECT first_id, count, keys FROM account_blocks WHERE first_id >= ? ORDER BY first_id LIMIT 16",
        )
        .bind(next as i64)
        .fetch_all(&mut *conn)
        .await?;
        if rows.is_empty() {
            break;
        }
        for r in rows {
            let first: i64 = r.get(0);
            if first != next as i64 {
                return Err(StoreError::Corrupt(format!(
                    "account ids are not dense at {first}"
                )));
            }
            let count = usize::try_from(r.get::<i64, _>(1)).unwrap_or(usize::MAX);
            let text =
                blocks::account_text(r.get::<&[u8], _>(2), count, &format!("account {first}"))?;
            out.push((next, count, text));
            next = next.saturating_add(count);
        }
    }
    Ok(out)
}

/// Debits and credits, posted and pending, per account: the sum of the stored
/// transfers (as of `max_day`, or all).
pub(crate) async fn sum_transfers(
    conn: &mut SqliteConnection,
    accounts: usize,
    max_day: Option<i64>,
) -> Result<Vec<[i128; 4]>> {
    // [debits_pending, debits_posted, credits_pending, credits_posted]
    let mut sums = vec![[0i128; 4]; accounts];
    let mut cursor = BlockCursor::new(max_day);
    while let Some(b) = cursor.next(conn).await? {
        add_transfers(&mut sums, b.seq, &b.transfers)?;
    }
    Ok(sums)
}

/// Adds entry #`seq`'s `transfers` to `sums` (see [`sum_transfers`]).
pub(crate) fn add_transfers(
    sums: &mut [[i128; 4]],
    seq: i64,
    transfers: &[StoredTransfer],
) -> Result<()> {
    let accounts = sums.len();
    for t in transfers {
        let (d, c) = (t.row.debit as usize, t.row.credit as usize);
        if d >= accounts || c >= accounts {
            return Err(StoreError::Corrupt(format!(
                "entry #{seq}: a transfer names an account that does not exist"
            )));
        }
        let (posted, pending) = (i128::from(t.posted_delta), i128::from(t.pending_delta));
        sums[d][0] += pending;
        sums[d][1] += posted;
        sums[c][2] += pending;
        sums[c][3] += posted;
    }
    Ok(())
}

/// Parses the account keys of `blocks` (from [`load_account_texts`]) on a thread of
/// its own, in id order: the key of each account whose text `wanted` accepts, `None`
/// for the others (not parsed). Meant to run while the caller sums the transfers.
pub(crate) fn parse_keys_beside(
    blocks: Vec<(usize, usize, String)>,
    wanted: impl Fn(&str) -> bool + Send + 'static,
) -> std::thread::JoinHandle<Result<Vec<Option<AccountKey>>>> {
    std::thread::spawn(move || {
        let accounts = blocks.iter().map(|(_, count, _)| count).sum::<usize>();
        let mut keys = Vec::with_capacity(accounts);
        for (first, count, text) in &blocks {
            for text in blocks::account_keys(text, *count, &format!("account {first}"))? {
                if !wanted(text) {
                    keys.push(None);
                    continue;
                }
                let key = AccountKey::read(text).map_err(|e| {
                    StoreError::Corrupt(format!(
                        "account {} has an unreadable key: {e}",
                        keys.len()
                    ))
                })?;
                keys.push(Some(key));
            }
        }
        Ok(keys)
    })
}

/// Loads the book (accounts, balances, open pendings) from the database.
pub(crate) async fn load_book(conn: &mut SqliteConnection) -> Result<Book> {
    // The keys' texts are read first; they are parsed on a thread of their own while
    // this one sums the transfers (on a label group's store each takes a few hundred
    // milliseconds, and recording anything waits for both).
    let blocks = load_account_texts(conn).await?;
    let accounts = blocks.iter().map(|(_, count, _)| count).sum::<usize>();
    let parser = parse_keys_beside(blocks, |_| true);
    let sums = sum_transfers(conn, accounts, None).await;
    let keys = parser
        .join()
        .map_err(|_| StoreError::Corrupt("reading the account keys failed".into()))??;
    let sums = sums?;
    debug_assert_eq!(keys.len(), sums.len());
    let mut book = Book::new();
    for (id, (key, s)) in keys.into_iter().zip(sums).enumerate() {
        let Some(key) = key else {
            return Err(StoreError::Corrupt(format!("account {id} has no key")));
        };
        let n = |v: i128| {
            u128::try_from(v).map_err(|_| {
                StoreError::Corrupt(format!(
                    "account {id}: its transfers sum to a negative total"
                ))
            })
        };
        book.restore_account(
            key,
            Balance {
                debits_pending: n(s[0])?,
                debits_posted: n(s[1])?,
                credits_pending: n(s[2])?,
                credits_posted: n(s[3])?,
            },
        );
    }
    let pend = sqlx::query(
        "SELECT id, debit, credit, amount FROM pending WHERE state = 'open' ORDER BY seq, id",
    )
    .fetch_all(&mut *conn)
    .await?;
    for r in pend {
        let id: String = r.get(0);
        let id = u128::from_str_radix(&id, 16)
            .map_err(|_| StoreError::Corrupt(format!("pending id {id}")))?;
        book.restore_pending(
            TransferId(id),
            backstock_ledger::engine::AccountId(r.get::<i64, _>(1) as u32),
            backstock_ledger::engine::AccountId(r.get::<i64, _>(2) as u32),
            r.get::<i64, _>(3) as u64,
        );
    }
    Ok(book)
}

/// Moves the rows of the version-1 `accounts` and `transfers` tables into blocks and
/// drops those tables and `balances` (migration 4). Hashes are unaffected: the chain
/// covers the transfers' values, not how they are stored.
async fn convert_to_blocks(conn: &mut SqliteConnection) -> Result<()> {
    let accounts: Vec<(i64, String, i64)> =
        sqlx::query_as("SELECT id, key, created_seq FROM accounts ORDER BY id")
            .fetch_all(&mut *conn)
            .await?;
    let mut w = Writer::default();
    let mut i = 0;
    while i < accounts.len() {
        let seq = accounts[i].2;
        let mut group = Vec::new();
        while i < accounts.len() && accounts[i].2 == seq {
            if accounts[i].0 != i as i64 {
                return Err(StoreError::Corrupt(format!(
                    "account ids are not dense at {}",
                    accounts[i].0
                )));
            }
            group.push((i as u32, accounts[i].1.clone()));
            i += 1;
        }
        w.accounts(seq, group)?;
    }
    let rows = sqlx::query(
        "SELECT seq, idx, debit, credit, amount, flags, pending_id, posted_delta, pending_delta, effective_day, known_day \
         FROM transfers ORDER BY seq, idx",
    )
    .fetch_all(&mut *conn)
    .await?;
    let mut j = 0;
    while j < rows.len() {
        let seq: i64 = rows[j].get(0);
        let (eday, kday): (i64, i64) = (rows[j].get(9), rows[j].get(10));
        let mut list = Vec::new();
        while j < rows.len() && rows[j].get::<i64, _>(0) == seq {
            let r = &rows[j];
            let n = |k: usize| r.get::<i64, _>(k);
            let pending_id = match r.get::<Option<String>, _>(6) {
                Some(h) => u128::from_str_radix(&h, 16)
                    .map_err(|_| StoreError::Corrupt(format!("entry #{seq}: pending id {h}")))?,
                None => 0,
            };
            if n(1) != list.len() as i64 {
                return Err(StoreError::Corrupt(format!(
                    "entry #{seq}: transfer positions have a gap"
                )));
            }
            list.push(StoredTransfer {
                row: TransferRow {
                    debit: u32::try_from(n(2)).map_err(|_| StoreError::Corrupt("debit".into()))?,
                    credit: u32::try_from(n(3))
                        .map_err(|_| StoreError::Corrupt("credit".into()))?,
                    amount: n(4) as u64,
                    flags: u16::try_from(n(5)).map_err(|_| StoreError::Corrupt("flags".into()))?,
                    pending_id,
                },
                posted_delta: n(7),
                pending_delta: n(8),
            });
            j += 1;
        }
        w.transfers(seq, eday, kday, &list)?;
    }
    w.flush_blocks(conn).await?;
    sqlx::raw_sql(
        "DROP TRIGGER transfers_no_update; DROP TRIGGER transfers_no_delete; \
         DROP TABLE transfers; DROP TABLE accounts; DROP TABLE balances;",
    )
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// Write accumulated rows once this many bytes (entry JSON and blocks) wait.
const FLUSH_BYTES: usize = 32 << 20;
/// Rows per multi-row INSERT of small rows.
const ROWS_PER_INSERT: usize = 500;

/// Rows waiting to be written: journal rows and transfer and account blocks.
#[derive(Default)]
struct Writer {
    journal: Vec<JournalInsert>,
    /// (seq, first_idx, count, effective_day, known_day, data)
    transfer_blocks: Vec<(i64, i64, i64, i64, i64, Vec<u8>)>,
    /// (first_id, count, created_seq, packed keys)
    account_blocks: Vec<(i64, i64, i64, Vec<u8>)>,
    packer: Option<blocks::Packer>,
    bytes: usize,
    /// Accounts written or waiting: the next account's id must be this.
    next_account: u32,
    accounts_started: bool,
}

impl Writer {
    /// The accounts an entry created, as blocks of their canonical keys.
    fn accounts(&mut self, seq: i64, new: Vec<(u32, String)>) -> Result<()> {
        for chunk in new.chunks(blocks::BLOCK_ACCOUNTS) {
            let first = chunk[0].0;
            if self.accounts_started && first != self.next_account {
                return Err(StoreError::Corrupt("new accounts out of step".into()));
            }
            let mut keys = String::with_capacity(chunk.iter().map(|a| a.1.len() + 1).sum());
            for (k, (id, key)) in chunk.iter().enumerate() {
                if *id != first + k as u32 || key.contains('\n') {
                    return Err(StoreError::Corrupt("new accounts out of step".into()));
                }
                if k > 0 {
                    keys.push('\n');
                }
                keys.push_str(key);
            }
            self.accounts_started = true;
            self.next_account = first + chunk.len() as u32;
            let packed = self.packer()?.pack(keys.as_bytes())?;
            self.bytes += packed.len();
            self.account_blocks
                .push((i64::from(first), chunk.len() as i64, seq, packed));
        }
        Ok(())
    }

    fn packer(&mut self) -> Result<&mut blocks::Packer> {
        if self.packer.is_none() {
            self.packer = Some(blocks::Packer::new()?);
        }
        self.packer
            .as_mut()
            .ok_or_else(|| StoreError::Corrupt("packer".into()))
    }

    /// An entry's transfers, as blocks.
    fn transfers(&mut self, seq: i64, eday: i64, kday: i64, list: &[StoredTransfer]) -> Result<()> {
        for (b, chunk) in list.chunks(blocks::BLOCK_TRANSFERS).enumerate() {
            let mut data = Vec::with_capacity(1 + chunk.len() * 50);
            data.push(blocks::TRANSFER_FORMAT);
            for t in chunk {
                blocks::push_transfer(&mut data, t);
            }
            let data = self.packer()?.pack(&data)?;
            self.bytes += data.len();
            self.transfer_blocks.push((
                seq,
                (b * blocks::BLOCK_TRANSFERS) as i64,
                chunk.len() as i64,
                eday,
                kday,
                data,
            ));
        }
        Ok(())
    }

    async fn flush_blocks(&mut self, conn: &mut SqliteConnection) -> Result<()> {
        for chunk in self.account_blocks.chunks(ROWS_PER_INSERT / 4) {
            let mut qb = sqlx::QueryBuilder::new(
                "INSERT INTO account_blocks (first_id, count, created_seq, keys) ",
            );
            qb.push_values(chunk, |mut b, r| {
                b.push_bind(r.0)
                    .push_bind(r.1)
                    .push_bind(r.2)
                    .push_bind(r.3.as_slice());
            });
            qb.build().execute(&mut *conn).await?;
        }
        self.account_blocks.clear();
        for chunk in self.transfer_blocks.chunks(ROWS_PER_INSERT / 6) {
            let mut qb = sqlx::QueryBuilder::new(
                "INSERT INTO transfer_blocks (seq, first_idx, count, effective_day, known_day, data) ",
            );
            qb.push_values(chunk, |mut b, r| {
                b.push_bind(r.0)
                    .push_bind(r.1)
                    .push_bind(r.2)
                    .push_bind(r.3)
                    .push_bind(r.4)
                    .push_bind(r.5.as_slice());
            });
            qb.build().execute(&mut *conn).await?;
        }
        self.transfer_blocks.clear();
        self.bytes = 0;
        Ok(())
    }

    /// Writes everything waiting: journal rows first (blocks name their entries).
    async fn flush(
        &mut self,
        conn: &mut SqliteConnection,
        file_sha: Option<&str>,
        recorded_at: &str,
    ) -> Result<()> {
        insert_journal(conn, &self.journal, file_sha, recorded_at).await?;
        self.journal.clear();
        self.flush_blocks(conn).await
    }
}

async fn record_in_tx<E: std::borrow::Borrow<Entry>>(
    conn: &mut SqliteConnection,
    cache: &mut Option<Cached>,
    entries: Vec<E>,
    file: Option<SourceFile>,
    recorded_at: Option<String>,
) -> Result<RecordOutcome> {
    if let Some(f) = &file {
        let row = sqlx::query("SELECT imported_at, name FROM files WHERE sha256 = ?")
            .bind(&f.sha256)
            .fetch_optional(&mut *conn)
            .await?;
        if let Some(r) = row {
            return Ok(RecordOutcome::AlreadyImported {
                imported_at: r.get(0),
                name: r.get(1),
            });
        }
    }
    let seq = head_seq(conn).await?;
    let prev = match seq {
        0 => chain::GENESIS,
        s => {
            let h: String = sqlx::query_scalar("SELECT hash FROM journal WHERE seq = ?")
                .bind(s)
                .fetch_one(&mut *conn)
                .await?;
            parse_hash(&h)?
        }
    };
    let mut seq = seq;
    let book = fresh_book(conn, cache, seq).await?;
    let recorded_at = recorded_at.unwrap_or_else(now_utc);
    let file_sha = file.as_ref().map(|f| f.sha256.clone());
    // The original first, so its compressed parts (tens of MB for a big file) are not
    // held while the entries are recorded. One part: kept in the row itself. More: the
    // row holds none, `file_parts` all.
    if let Some(f) = file {
        let single = f.parts.len() == 1;
        sqlx::query("INSERT INTO files (sha256, name, kind, size, lines, imported_at, content) VALUES (?, ?, ?, ?, ?, ?, ?)")
            .bind(&f.sha256)
            .bind(&f.name)
            .bind(&f.kind)
            .bind(f.size as i64)
            .bind(f.lines as i64)
            .bind(&recorded_at)
            .bind(if single { f.parts[0].as_slice() } else { &[][..] })
            .execute(&mut *conn)
            .await?;
        if !single {
            for (i, part) in f.parts.into_iter().enumerate() {
                sqlx::query("INSERT INTO file_parts (sha256, part, content) VALUES (?, ?, ?)")
                    .bind(&f.sha256)
                    .bind(i as i64)
                    .bind(part)
                    .execute(&mut *conn)
                    .await?;
            }
        }
    }

    // Idempotency by entry id.
    let mut existing: HashMap<String, String> = HashMap::new();
    for chunk in entries.chunks(500) {
        let mut qb = sqlx::QueryBuilder::new(
            "SELECT seq, entry_id, body, body_zstd FROM journal WHERE entry_id IN (",
        );
        let mut sep = qb.separated(", ");
        for e in chunk {
            sep.push_bind(e.borrow().id.as_str());
        }
        qb.push(")");
        for r in qb.build().fetch_all(&mut *conn).await? {
            existing.insert(r.get(1), body_of(r.get(0), r.get(2), r.get(3))?);
        }
    }

    let accounts_before = book.engine().accounts().len();
    // Rows are written as they accumulate, so a file of millions of lines does not hold
    // every statement's JSON and transfers in memory at once.
    let mut w = Writer::default();
    // The book expands entries one by one on this thread; chaining their hashes and
    // packing their blocks happens on another, an entry behind.
    let mut sealer = Sealer::start(
        prev,
        accounts_before as u32,
        recorded_at.clone(),
        file_sha.clone(),
    );
    let (mut n_recorded, mut n_transfers, mut n_accounts) = (0usize, 0usize, 0usize);
    let mut pending_new: Vec<(TransferId, i64, Transfer)> = Vec::new();
    let mut pending_done: Vec<(TransferId, &'static str)> = Vec::new();
    let mut unchanged = 0usize;
    let mut seen_ids: BTreeSet<String> = BTreeSet::new();
    // Entries go through the book one by one, but their canonical JSON (and its
    // compression) does not depend on the book: it is made a window at a time on every
    // core first. Each entry is dropped once its rows are built.
    let mut entries: Vec<Option<E>> = entries.into_iter().map(Some).collect();
    let mut ready: std::collections::VecDeque<Body> = Default::default();
    // Windows grow while bodies are small (catalog items) and shrink when they are
    // large (statements of 100k lines), so the bodies held stay near BODY_WINDOW_BYTES.
    let mut window_len = 2usize;
    for k in 0..entries.len() {
        if ready.is_empty() {
            let window: Vec<&Entry> = entries[k..(k + window_len).min(entries.len())]
                .iter()
                .flatten()
                .map(|e| e.borrow())
                .collect();
            ready = bodies(&window)?.into();
            let bytes: usize = ready.iter().map(|b| b.text.len()).sum();
            window_len = if bytes > BODY_WINDOW_BYTES {
                (window_len / 2).max(2)
            } else {
                (window_len * 2).min(BODY_WINDOW)
            };
        }
        let (
            Some(entry),
            Some(Body {
                text: body,
                zstd,
                digest,
            }),
        ) = (entries[k].take(), ready.pop_front())
        else {
            return Err(StoreError::Corrupt(
                "entries out of step with their bodies".into(),
            ));
        };
        let entry: &Entry = entry.borrow();
        if !admit::is_new(&existing, &mut seen_ids, entry, &body)? {
            unchanged += 1;
            continue;
        }
        let (rec, new_accounts) = admit::record(book, entry)?;
        seq += 1;
        let (eday, kday) = (day(entry.effective_on), day(entry.known_on));
        let mut stored = Vec::with_capacity(rec.transfers.len());
        for t in &rec.transfers {
            let fx = backstock_ledger::canonical::effect(t, book.engine())
                .ok_or_else(|| StoreError::Corrupt("posted pending vanished".into()))?;
            if t.flags.contains(TransferFlags::PENDING) {
                pending_new.push((t.id, seq, *t));
            }
            if let Some(done) = fx.ends {
                pending_done.push(done);
            }
            stored.push(StoredTransfer {
                row: TransferRow::of(t),
                posted_delta: fx.posted_delta,
                pending_delta: fx.pending_delta,
            });
        }
        n_accounts += new_accounts.len();
        n_transfers += stored.len();
        sealer.send(Made {
            seq,
            entry_id: entry.id.to_string(),
            kind: entry.event.name(),
            effective_day: eday,
            known_day: kday,
            body,
            body_zstd: zstd,
            digest,
            new_accounts,
            stored,
        })?;
        if sealer.outstanding >= SEALED_AHEAD {
            sealer.drain_into(&mut w)?;
            if w.bytes >= FLUSH_BYTES {
                n_recorded += w.journal.len();
                w.flush(conn, file_sha.as_deref(), &recorded_at).await?;
            }
        }
    }
    sealer.drain_into(&mut w)?;
    n_recorded += w.journal.len();
    w.flush(conn, file_sha.as_deref(), &recorded_at).await?;
    if n_accounts != book.engine().accounts().len() - accounts_before {
        return Err(StoreError::Corrupt("new accounts out of step".into()));
    }
    // Invariant, checked before anything commits: Σ debits = Σ credits on every ledger
    // (posted and pending). The engine makes every transfer balanced on its own; this
    // catches a fault anywhere between it and here, and the batch is rolled back.
    if !book.is_balanced() {
        return Err(StoreError::Corrupt(
            "the books would not balance after this batch (debits ≠ credits on a ledger); nothing was recorded".into(),
        ));
    }

    for (id, seq, t) in &pending_new {
        sqlx::query("INSERT INTO pending (id, seq, debit, credit, amount, state) VALUES (?, ?, ?, ?, ?, 'open')")
            .bind(tid_hex(*id))
            .bind(seq)
            .bind(i64::from(t.debit.0))
            .bind(i64::from(t.credit.0))
            .bind(t.amount as i64)
            .execute(&mut *conn)
            .await?;
    }
    for (id, state) in &pending_done {
        sqlx::query("UPDATE pending SET state = ? WHERE id = ?")
            .bind(*state)
            .bind(tid_hex(*id))
            .execute(&mut *conn)
            .await?;
    }

    if let Some(c) = cache.as_mut() {
        c.head_seq = seq;
    }
    Ok(RecordOutcome::Recorded {
        recorded: n_recorded,
        unchanged,
        transfers: n_transfers,
    })
}

/// The journal's last sequence number (0 when empty).
pub(crate) async fn head_seq(conn: &mut SqliteConnection) -> Result<i64> {
    Ok(
        sqlx::query_scalar::<_, i64>("SELECT COALESCE(MAX(seq), 0) FROM journal")
            .fetch_one(&mut *conn)
            .await?,
    )
}

/// The cached book, loaded again if the journal moved on (another process recorded).
pub(crate) async fn fresh_book<'c>(
    conn: &mut SqliteConnection,
    cache: &'c mut Option<Cached>,
    head_seq: i64,
) -> Result<&'c mut Book> {
    // A few entries recorded by another process since (a server beside the CLI's
    // imports): replayed onto the cached book, each checked against the transfers
    // stored for it, rather than the whole book loaded again (on a label group's store,
    // 3M transfers summed and 370,000 keys parsed). Anything that does not match, or
    // more than `REPLAY_AT_MOST` entries, and the book is loaded whole.
    if let Some(c) = cache.as_mut() {
        if c.head_seq < head_seq && head_seq - c.head_seq <= REPLAY_AT_MOST {
            let from = c.head_seq;
            match replay_onto(conn, &mut c.book, from, head_seq).await {
                Ok(true) => c.head_seq = head_seq,
                // The book may be half moved: never kept.
                Ok(false) | Err(_) => *cache = None,
            }
        }
    }
    if cache.as_ref().map(|c| c.head_seq) != Some(head_seq) {
        *cache = None;
        *cache = Some(Cached {
            head_seq,
            book: load_book(conn).await?,
        });
    }
    match cache.as_mut() {
        Some(c) => Ok(&mut c.book),
        None => Err(StoreError::Corrupt("book cache".into())),
    }
}

/// Whether the cached book is at the journal's head `head`, or a few entries behind it
/// (recorded by another process) and brought forward by them when next used
/// ([`fresh_book`]); without one, readers sum the stored transfers instead.
pub(crate) fn cache_follows(cache: &Option<Cached>, head: i64) -> bool {
    cache
        .as_ref()
        .is_some_and(|c| (0..=REPLAY_AT_MOST).contains(&(head - c.head_seq)))
}

/// At most this many entries recorded elsewhere are replayed onto a cached book.
const REPLAY_AT_MOST: i64 = 1000;

/// Records entries #`from`+1…#`to` of the journal onto `book` as `record` did, and
/// answers whether every one gave exactly the transfers stored for it and the book
/// now has as many accounts as the store (false: the book must be loaded again).
async fn replay_onto(
    conn: &mut SqliteConnection,
    book: &mut Book,
    from: i64,
    to: i64,
) -> Result<bool> {
    let rows = sqlx::query(
        "SELECT seq, body, body_zstd FROM journal WHERE seq > ? AND seq <= ? ORDER BY seq",
    )
    .bind(from)
    .bind(to)
    .fetch_all(&mut *conn)
    .await?;
    if rows.len() as i64 != to - from {
        return Ok(false);
    }
    for r in rows {
        let seq: i64 = r.get(0);
        let body = body_of(seq, r.get(1), r.get(2))?;
        let entry: Entry = serde_json::from_str(&body)
            .map_err(|e| StoreError::Corrupt(format!("entry #{seq} is unreadable: {e}")))?;
        let (rec, _) = admit::record(book, &entry)?;
        let mut made = Vec::with_capacity(rec.transfers.len());
        for t in &rec.transfers {
            let Some(fx) = backstock_ledger::canonical::effect(t, book.engine()) else {
                return Ok(false);
            };
            made.push(StoredTransfer {
                row: TransferRow::of(t),
                posted_delta: fx.posted_delta,
                pending_delta: fx.pending_delta,
            });
        }
        let mut stored = Vec::with_capacity(made.len());
        let blocks =
            sqlx::query("SELECT count, data FROM transfer_blocks WHERE seq = ? ORDER BY first_idx")
                .bind(seq)
                .fetch_all(&mut *conn)
                .await?;
        for b in blocks {
            let count = usize::try_from(b.get::<i64, _>(0)).unwrap_or(usize::MAX);
            stored.extend(blocks::decode_transfers(
                b.get::<&[u8], _>(1),
                count,
                &format!("entry #{seq}"),
            )?);
        }
        if stored != made {
            return Ok(false);
        }
    }
    Ok(account_count(conn).await? == book.engine().accounts().len())
}

/// How many accounts the store has (their ids are dense, from 0).
pub(crate) async fn account_count(conn: &mut SqliteConnection) -> Result<usize> {
    let accounts: i64 =
        sqlx::query_scalar("SELECT COALESCE(MAX(first_id + count), 0) FROM account_blocks")
            .fetch_one(&mut *conn)
            .await?;
    usize::try_from(accounts).map_err(|_| StoreError::Corrupt("the number of accounts".into()))
}

/// Entries handed to the sealer before their rows are collected (bounds what waits).
const SEALED_AHEAD: usize = 256;

/// What the book made of one entry, for the sealer.
struct Made {
    seq: i64,
    entry_id: String,
    kind: &'static str,
    effective_day: i64,
    known_day: i64,
    body: String,
    /// The body compressed, when it is stored so.
    body_zstd: Option<Vec<u8>>,
    /// A statement's digest (`statement_digests`).
    digest: Option<String>,
    new_accounts: Vec<(u32, String)>,
    stored: Vec<StoredTransfer>,
}

/// An entry sealed: its journal row (with its link in the hash chain) and its blocks.
struct Sealed {
    journal: JournalInsert,
    account_blocks: Vec<(i64, i64, i64, Vec<u8>)>,
    transfer_blocks: Vec<(i64, i64, i64, i64, i64, Vec<u8>)>,
}

/// Chains entries' hashes and packs their blocks on its own thread, in the order they
/// are sent, while the book expands the next entry (on a month of statements each side
/// is a few hundred milliseconds). Dropping it stops the thread.
struct Sealer {
    to: Option<std::sync::mpsc::SyncSender<Made>>,
    from: std::sync::mpsc::Receiver<Result<Sealed>>,
    thread: Option<std::thread::JoinHandle<()>>,
    outstanding: usize,
}

impl Sealer {
    /// `recorded_at` and `file_sha` are the batch's, hashed into every entry (chain
    /// version 2).
    fn start(
        prev: [u8; 32],
        next_account: u32,
        recorded_at: String,
        file_sha: Option<String>,
    ) -> Sealer {
        let (to, made) = std::sync::mpsc::sync_channel::<Made>(1);
        let (sealed, from) = std::sync::mpsc::channel::<Result<Sealed>>();
        let thread = std::thread::spawn(move || {
            let mut prev = prev;
            let mut w = Writer {
                next_account,
                accounts_started: true,
                ..Writer::default()
            };
            let stamp = (recorded_at, file_sha);
            for m in made {
                let r = Sealer::seal(&mut prev, &mut w, m, &stamp);
                let failed = r.is_err();
                if sealed.send(r).is_err() || failed {
                    break;
                }
            }
        });
        Sealer {
            to: Some(to),
            from,
            thread: Some(thread),
            outstanding: 0,
        }
    }

    fn seal(
        prev: &mut [u8; 32],
        w: &mut Writer,
        m: Made,
        (recorded_at, file_sha): &(String, Option<String>),
    ) -> Result<Sealed> {
        let postings = canonical_postings(&m.new_accounts, m.stored.iter().map(|s| &s.row));
        let hash = chain::entry_hash_v2(
            prev,
            m.seq as u64,
            &m.body,
            &postings,
            recorded_at,
            file_sha.as_deref(),
        );
        drop(postings);
        w.accounts(m.seq, m.new_accounts)?;
        w.transfers(m.seq, m.effective_day, m.known_day, &m.stored)?;
        *prev = hash;
        // A large body is kept compressed: the text is not held until the flush.
        let body = if m.body_zstd.is_some() {
            String::new()
        } else {
            m.body
        };
        Ok(Sealed {
            journal: JournalInsert {
                seq: m.seq,
                entry_id: m.entry_id,
                kind: m.kind,
                effective_day: m.effective_day,
                known_day: m.known_day,
                body,
                body_zstd: m.body_zstd,
                digest: m.digest,
                hash: chain::to_hex(&hash),
            },
            account_blocks: std::mem::take(&mut w.account_blocks),
            transfer_blocks: std::mem::take(&mut w.transfer_blocks),
        })
    }

    fn send(&mut self, m: Made) -> Result<()> {
        let stopped = || StoreError::Corrupt("the sealing thread stopped".into());
        let to = self.to.as_ref().ok_or_else(stopped)?;
        if to.send(m).is_err() {
            // The thread stopped on an error: report that error.
            return self.from.recv().map_err(|_| stopped())?.map(|_| ());
        }
        self.outstanding += 1;
        Ok(())
    }

    /// Everything sent so far, sealed, added to the writer in order.
    fn drain_into(&mut self, w: &mut Writer) -> Result<()> {
        while self.outstanding > 0 {
            let s = self
                .from
                .recv()
                .map_err(|_| StoreError::Corrupt("the sealing thread stopped".into()))??;
            self.outstanding -= 1;
            w.bytes += s.journal.body.len()
                + s.journal.body_zstd.as_ref().map_or(0, Vec::len)
                + s.journal.digest.as_ref().map_or(0, String::len)
                + s.account_blocks.iter().map(|b| b.3.len()).sum::<usize>()
                + s.transfer_blocks.iter().map(|b| b.5.len()).sum::<usize>();
            w.journal.push(s.journal);
            w.account_blocks.extend(s.account_blocks);
            w.transfer_blocks.extend(s.transfer_blocks);
        }
        Ok(())
    }
}

impl Drop for Sealer {
    fn drop(&mut self) {
        self.to = None;
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

/// A journal row, owning what it needs so its entry can be dropped.
struct JournalInsert {
    seq: i64,
    entry_id: String,
    kind: &'static str,
    effective_day: i64,
    known_day: i64,
    /// Empty when `body_zstd` holds it.
    body: String,
    body_zstd: Option<Vec<u8>>,
    /// A statement's digest, written to `statement_digests`.
    digest: Option<String>,
    hash: String,
}

/// Bodies this long or longer are stored compressed (`journal.body_zstd`).
const BODY_ZSTD_BYTES: usize = 64 << 10;
/// Most entries whose bodies are made at once.
const BODY_WINDOW: usize = 1024;
/// Roughly the most body text made ahead of the book (a window is halved when its
/// bodies came to more).
const BODY_WINDOW_BYTES: usize = 16 << 20;

/// An entry's canonical JSON, and its zstd frame when it is stored compressed.
struct Body {
    text: String,
    zstd: Option<Vec<u8>>,
    /// A statement's digest ([`Entry::statement_digest`]) as JSON.
    digest: Option<String>,
}

/// The bodies of `entries`, in order, made on up to two threads (the work is
/// independent per entry; a statement's body is megabytes).
fn bodies(entries: &[&Entry]) -> Result<Vec<Body>> {
    use std::sync::atomic::{AtomicUsize, Ordering};
    let make = |e: &Entry, packer: &mut Option<blocks::Packer>| -> Result<Body> {
        let text = serde_json::to_string(e).map_err(|e| StoreError::Corrupt(e.to_string()))?;
        let zstd = if text.len() >= BODY_ZSTD_BYTES {
            if packer.is_none() {
                *packer = Some(blocks::Packer::new()?);
            }
            match packer.as_mut() {
                Some(p) => Some(p.pack(text.as_bytes())?),
                None => None,
            }
        } else {
            None
        };
        let digest = digest_text(e)?;
        Ok(Body { text, zstd, digest })
    };
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get().min(2));
    if threads < 2 || entries.len() < 2 {
        let mut packer = None;
        return entries.iter().map(|e| make(e, &mut packer)).collect();
    }
    // Each thread takes the next entry not yet taken (statements differ in size).
    let next = AtomicUsize::new(0);
    let slots: Vec<std::sync::OnceLock<Result<Body>>> =
        entries.iter().map(|_| std::sync::OnceLock::new()).collect();
    std::thread::scope(|scope| {
        for _ in 0..threads {
            scope.spawn(|| {
                let mut packer = None;
                loop {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    let Some(e) = entries.get(i) else { break };
                    let _ = slots[i].set(make(e, &mut packer));
                }
            });
        }
    });
    slots
        .into_iter()
        .map(|s| {
            s.into_inner()
                .unwrap_or_else(|| Err(StoreError::Corrupt("an entry's body was not made".into())))
        })
        .collect()
}

/// An entry's canonical JSON from its `body` and `body_zstd` columns.
pub(crate) fn body_of(seq: i64, body: String, body_zstd: Option<Vec<u8>>) -> Result<String> {
    let Some(z) = body_zstd else { return Ok(body) };
    if !body.is_empty() {
        return Err(StoreError::Corrupt(format!(
            "entry #{seq} has both a plain and a compressed body"
        )));
    }
    let raw = zstd::stream::decode_all(z.as_slice()).map_err(|e| {
        StoreError::Corrupt(format!("entry #{seq}: its body does not decompress: {e}"))
    })?;
    String::from_utf8(raw)
        .map_err(|_| StoreError::Corrupt(format!("entry #{seq}: its body is not UTF-8")))
}

async fn insert_journal(
    conn: &mut SqliteConnection,
    journal_rows: &[JournalInsert],
    file_sha: Option<&str>,
    recorded_at: &str,
) -> Result<()> {
    for chunk in journal_rows.chunks(ROWS_PER_INSERT) {
        let mut qb = sqlx::QueryBuilder::new(
            "INSERT INTO journal (seq, entry_id, kind, effective_day, known_day, body, body_zstd, file_sha256, recorded_at, hash, chain_version) ",
        );
        qb.push_values(chunk, |mut b, j| {
            b.push_bind(j.seq)
                .push_bind(j.entry_id.as_str())
                .push_bind(j.kind)
                .push_bind(j.effective_day)
                .push_bind(j.known_day)
                .push_bind(j.body.as_str())
                .push_bind(j.body_zstd.as_deref())
                .push_bind(file_sha)
                .push_bind(recorded_at)
                .push_bind(j.hash.as_str())
                .push_bind(i64::from(chain::VERSION));
        });
        qb.build().execute(&mut *conn).await?;
    }
    let digests: Vec<(i64, &str)> = journal_rows
        .iter()
        .filter_map(|j| Some((j.seq, j.digest.as_deref()?)))
        .collect();
    insert_digests(conn, &digests).await
}

/// Rows of `statement_digests` (an existing one is left as it is: it was made from
/// the same hashed entry).
pub(crate) async fn insert_digests(
    conn: &mut SqliteConnection,
    digests: &[(i64, &str)],
) -> Result<()> {
    for chunk in digests.chunks(ROWS_PER_INSERT) {
        let mut qb =
            sqlx::QueryBuilder::new("INSERT OR IGNORE INTO statement_digests (seq, body) ");
        qb.push_values(chunk, |mut b, (seq, body)| {
            b.push_bind(*seq).push_bind(*body);
        });
        qb.build().execute(&mut *conn).await?;
    }
    Ok(())
}

/// The JSON of a statement entry's digest ([`Entry::statement_digest`]); `None` for
/// other entries and statements without one.
pub(crate) fn digest_text(e: &Entry) -> Result<Option<String>> {
    e.statement_digest()
        .map(|d| serde_json::to_string(&d))
        .transpose()
        .map_err(|e| StoreError::Corrupt(e.to_string()))
}

/// A chain hash from its 64 hex digits.
pub fn parse_hash(h: &str) -> Result<[u8; 32]> {
    let mut out = [0u8; 32];
    if h.len() != 64 || !h.is_ascii() {
        return Err(StoreError::Corrupt(format!(
            "hash {h:?} is not 64 hex digits"
        )));
    }
    for (i, o) in out.iter_mut().enumerate() {
        *o = u8::from_str_radix(&h[i * 2..i * 2 + 2], 16)
            .map_err(|_| StoreError::Corrupt(format!("hash {h:?} is not hex")))?;
    }
    Ok(out)
}

impl Store {
    /// A setting of this database (tenant settings, demo marker…).
    pub async fn meta(&self, key: &str) -> Result<Option<String>> {
        Ok(sqlx::query_scalar("SELECT value FROM meta WHERE key = ?")
            .bind(key)
            .fetch_optional(&self.pool)
            .await?)
    }

    pub async fn set_meta(&self, key: &str, value: &str) -> Result<()> {
        sqlx::query("INSERT OR REPLACE INTO meta(key, value) VALUES (?, ?)")
            .bind(key)
            .bind(value)
            .execute(&self.pool)
            .await?;
        Ok(())
    }
}

/// A recorded alert: a distributor's risk level rose.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct AlertRow {
    pub id: i64,
    pub raised_at: String,
    pub as_of: String,
    pub distributor: String,
    pub from_level: String,
    pub to_level: String,
    pub body: String,
    pub delivered_at: Option<String>,
    pub delivery_note: Option<String>,
}

impl Store {
    /// The level last alerted for each distributor.
    pub async fn last_alert_levels(&self) -> Result<HashMap<String, String>> {
        let rows: Vec<(String, String)> = sqlx::query_as(
            "SELECT distributor, to_level FROM alerts a WHERE id = (SELECT MAX(id) FROM alerts b WHERE b.distributor = a.distributor)",
        )
        .fetch_all(&self.pool)
        .await?;
        Ok(rows.into_iter().collect())
    }

    pub async fn add_alert(
        &self,
        as_of: &str,
        distributor: &str,
        from: &str,
        to: &str,
        body: &str,
    ) -> Result<i64> {
        let id = sqlx::query(
            "INSERT INTO alerts (raised_at, as_of, distributor, from_level, to_level, body) VALUES (?, ?, ?, ?, ?, ?)",
        )
        .bind(now_utc())
        .bind(as_of)
        .bind(distributor)
        .bind(from)
        .bind(to)
        .bind(body)
        .execute(&self.pool)
        .await?
        .last_insert_rowid();
        Ok(id)
    }

    pub async fn mark_alert_delivery(&self, id: i64, delivered: bool, note: &str) -> Result<()> {
        sqlx::query("UPDATE alerts SET delivered_at = ?, delivery_note = ? WHERE id = ?")
            .bind(delivered.then(now_utc))
            .bind(note)
            .bind(id)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    /// The id of the last alert raised, if any.
    pub async fn last_alert_id(&self) -> Result<Option<i64>> {
        Ok(sqlx::query_scalar("SELECT MAX(id) FROM alerts")
            .fetch_one(&self.pool)
            .await?)
    }

    pub async fn alerts(&self) -> Result<Vec<AlertRow>> {
        let rows = sqlx::query(
            "SELECT id, raised_at, as_of, distributor, from_level, to_level, body, delivered_at, delivery_note FROM alerts ORDER BY id",
        )
        .fetch_all(&self.pool)
        .await?;
        Ok(rows
            .into_iter()
            .map(|r| AlertRow {
                id: r.get(0),
                raised_at: r.get(1),
                as_of: r.get(2),
                distributor: r.get(3),
                from_level: r.get(4),
                to_level: r.get(5),
                body: r.get(6),
                delivered_at: r.get(7),
                delivery_note: r.get(8),
            })
            .collect())
    }
}

impl Store {
    /// Settings whose key starts with `prefix` (saved mappings, …).
    pub async fn meta_with_prefix(&self, prefix: &str) -> Result<Vec<(String, String)>> {
        Ok(sqlx::query_as(
            "SELECT key, value FROM meta WHERE substr(key, 1, length(?1)) = ?1 ORDER BY key",
        )
        .bind(prefix)
        .fetch_all(&self.pool)
        .await?)
    }
}

#[cfg(test)]
mod source_file_tests {
    use super::*;
    use sha2::Digest;

    fn sha(bytes: &[u8]) -> String {
        chain::to_hex(sha2::Sha256::digest(bytes).as_slice())
    }

    /// Parts move as they are when they check out; a changed byte, a missing part or an
    /// older single deflate stream is handled as `from_bytes` would.
    #[test]
    fn from_parts_keeps_parts_and_checks_the_bytes() {
        let bytes: Vec<u8> = (0..(PART_BYTES + 1000)).map(|i| (i % 251) as u8).collect();
        let f = SourceFile::from_bytes(sha(&bytes), "a".into(), "k".into(), 3, &bytes).unwrap();
        assert_eq!(f.parts.len(), 2);
        let g =
            SourceFile::from_parts(f.sha256.clone(), "a".into(), "k".into(), 3, f.parts.clone())
                .unwrap();
        assert_eq!((g.size, &g.parts, g.lines), (f.size, &f.parts, f.lines));
        // A part missing, or another file's bytes: refused, naming the original.
        let cut = SourceFile::from_parts(
            f.sha256.clone(),
            "a".into(),
            "k".into(),
            3,
            vec![f.parts[0].clone()],
        );
        let Err(e) = cut else {
            panic!("a missing part was accepted")
        };
        assert!(e.to_string().contains("was changed"), "{e}");
        let other = SourceFile::from_bytes(sha(b"x"), "b".into(), "k".into(), 1, b"x").unwrap();
        let swapped =
            SourceFile::from_parts(f.sha256.clone(), "a".into(), "k".into(), 3, other.parts);
        assert!(swapped.is_err());
        // A part that inflates past PART_BYTES is refused, not read.
        let big = zstd::bulk::compress(&vec![0u8; PART_BYTES + 1], 1).unwrap();
        assert!(SourceFile::from_parts(
            sha(&vec![0u8; PART_BYTES + 1]),
            "c".into(),
            "k".into(),
            1,
            vec![big]
        )
        .is_err());
        // The older form: one deflate stream, compressed anew.
        let mut deflate =
            flate2::write::DeflateEncoder::new(Vec::new(), flate2::Compression::fast());
        deflate.write_all(b"sku,units\n").unwrap();
        let old = deflate.finish().unwrap();
        let h = SourceFile::from_parts(sha(b"sku,units\n"), "d".into(), "k".into(), 1, vec![old])
            .unwrap();
        assert_eq!(h.size, 10);
        assert!(h.parts[0].starts_with(&ZSTD_MAGIC));
    }
}
