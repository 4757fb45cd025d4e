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

pub mod query;
mod verify;

use backstock_domain::Date;
use backstock_ledger::engine::{Balance, PendingState, Transfer, TransferFlags, TransferId};
use backstock_ledger::{chain, AccountKey, Book, Entry, RecordError};
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use sqlx::{Connection, Row, SqliteConnection, SqlitePool};
use std::collections::{BTreeSet, HashMap};
use std::fmt;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::time::Duration;

pub use query::{BalanceRow, JournalRow, StockRow};
pub use verify::VerifyReport;

const MIGRATIONS: &[(i64, &str)] = &[
    (1, include_str!("../migrations/0001_journal.sql")),
    (2, include_str!("../migrations/0002_alerts.sql")),
    (3, include_str!("../migrations/0003_file_parts.sql")),
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
                "entry {entry_id} was already recorded with different details; record a correction instead of changing it"
            ),
            StoreError::Corrupt(m) => write!(f, "the database is damaged: {m}"),
            StoreError::Io(e) => write!(f, "{e}"),
            StoreError::Db(e) => write!(f, "database error: {e}"),
        }
    }
}

impl std::error::Error for StoreError {}

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
pub struct PartCompressor(zstd::bulk::Compressor<'static>);

impl PartCompressor {
    pub fn new() -> std::io::Result<PartCompressor> {
        Ok(PartCompressor(zstd::bulk::Compressor::new(ZSTD_LEVEL)?))
    }
    /// One part (at most [`PART_BYTES`] of the original) as a zstd frame.
    pub fn part(&mut self, bytes: &[u8]) -> std::io::Result<Vec<u8>> {
        debug_assert!(bytes.len() <= PART_BYTES);
        self.0.compress(bytes)
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
        let store = Store {
            pool,
            path,
            cache: tokio::sync::Mutex::new(None),
        };
        store.migrate().await?;
        Ok(store)
    }

    pub fn path(&self) -> &Path {
        &self.path
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
        self.record_from(entries.iter().collect(), file).await
    }

    /// [`Store::record`], taking the entries: each is dropped as soon as its rows are
    /// built, so a file of millions of statement lines is not held twice.
    pub async fn record_all(
        &self,
        entries: Vec<Entry>,
        file: Option<SourceFile>,
    ) -> Result<RecordOutcome> {
        self.record_from(entries, file).await
    }

    async fn record_from<E: std::borrow::Borrow<Entry>>(
        &self,
        entries: Vec<E>,
        file: Option<SourceFile>,
    ) -> Result<RecordOutcome> {
        let mut cache = self.cache.lock().await;
        let mut conn = self.pool.acquire().await?;
        sqlx::query("BEGIN IMMEDIATE").execute(&mut *conn).await?;
        let result = record_in_tx(&mut conn, &mut cache, entries, file).await;
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
}

fn day(d: Date) -> i64 {
    i64::from(d.days_since_epoch())
}

fn to_i64(v: u128, what: &str) -> Result<i64> {
    i64::try_from(v)
        .map_err(|_| StoreError::Corrupt(format!("{what} {v} exceeds what the store can hold")))
}

pub(crate) fn tid_hex(id: TransferId) -> String {
    format!("{:032x}", id.0)
}

pub(crate) fn now_utc() -> String {
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

/// Loads the book (accounts, balances, open pendings) from the database.
pub(crate) async fn load_book(conn: &mut SqliteConnection) -> Result<Book> {
    let mut book = Book::new();
    let rows = sqlx::query(
        "SELECT a.id, a.key, COALESCE(b.debits_pending,0), COALESCE(b.debits_posted,0), \
         COALESCE(b.credits_pending,0), COALESCE(b.credits_posted,0) \
         FROM accounts a LEFT JOIN balances b ON b.account = a.id ORDER BY a.id",
    )
    .fetch_all(&mut *conn)
    .await?;
    for (i, r) in rows.iter().enumerate() {
        let id: i64 = r.get(0);
        if id != i as i64 {
            return Err(StoreError::Corrupt(format!(
                "account ids are not dense at {id}"
            )));
        }
        let key: String = r.get(1);
        let key: AccountKey = serde_json::from_str(&key)
            .map_err(|e| StoreError::Corrupt(format!("account {id} has an unreadable key: {e}")))?;
        let n = |k: usize| -> u128 { u128::try_from(r.get::<i64, _>(k)).unwrap_or(0) };
        book.restore_account(
            key,
            Balance {
                debits_pending: n(2),
                debits_posted: n(3),
                credits_pending: n(4),
                credits_posted: n(5),
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

/// Rows per multi-row INSERT (SQLite allows 32766 bound parameters).
const ROWS_PER_INSERT: usize = 1000;
/// Write accumulated rows once this many transfers or bytes of entry JSON wait.
const FLUSH_TRANSFERS: usize = 100_000;
const FLUSH_BYTES: usize = 32 << 20;

async fn record_in_tx<E: std::borrow::Borrow<Entry>>(
    conn: &mut SqliteConnection,
    cache: &mut Option<Cached>,
    entries: Vec<E>,
    file: Option<SourceFile>,
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
    let head: Option<(i64, String)> =
        sqlx::query_as("SELECT seq, hash FROM journal ORDER BY seq DESC LIMIT 1")
            .fetch_optional(&mut *conn)
            .await?;
    let (mut seq, mut prev) = match head {
        Some((s, h)) => (s, parse_hash(&h)?),
        None => (0, chain::GENESIS),
    };
    if cache.as_ref().map(|c| c.head_seq) != Some(seq) {
        *cache = Some(Cached {
            head_seq: seq,
            book: load_book(conn).await?,
        });
    }
    let book = match cache.as_mut() {
        Some(c) => &mut c.book,
        None => return Err(StoreError::Corrupt("book cache".into())),
    };

    // Idempotency by entry id.
    let mut existing: HashMap<String, String> = HashMap::new();
    for chunk in entries.chunks(500) {
        let mut qb =
            sqlx::QueryBuilder::new("SELECT entry_id, body FROM journal WHERE entry_id IN (");
        let mut sep = qb.separated(", ");
        for e in chunk {
            sep.push_bind(e.borrow().id.as_str());
        }
        qb.push(")");
        for r in qb.build().fetch_all(&mut *conn).await? {
            existing.insert(r.get(0), r.get(1));
        }
    }

    let accounts_before = book.accounts().count();
    let recorded_at = now_utc();
    let mut journal_rows: Vec<JournalInsert> = Vec::new();
    let file_sha = file.as_ref().map(|f| f.sha256.clone());
    // Rows are written as they accumulate, so a file of millions of lines does not hold
    // every statement's JSON and transfers in memory at once.
    let (mut n_recorded, mut n_transfers, mut pending_bytes) = (0usize, 0usize, 0usize);
    let mut n_accounts = 0usize;
    let mut account_rows: Vec<(u32, String, i64)> = Vec::new();
    let mut transfer_rows: Vec<TransferInsert> = Vec::new();
    let mut pending_new: Vec<(TransferId, i64, Transfer)> = Vec::new();
    let mut pending_done: Vec<(TransferId, &'static str)> = Vec::new();
    let mut touched: BTreeSet<u32> = BTreeSet::new();
    let mut unchanged = 0usize;
    let mut seen_ids: BTreeSet<String> = BTreeSet::new();
    for entry in entries {
        let entry: &Entry = entry.borrow();
        let body = serde_json::to_string(entry).map_err(|e| StoreError::Corrupt(e.to_string()))?;
        if let Some(old) = existing.get(entry.id.as_str()) {
            if *old == body {
                unchanged += 1;
                continue;
            }
            return Err(StoreError::Conflict {
                entry_id: entry.id.to_string(),
            });
        }
        if !seen_ids.insert(entry.id.to_string()) {
            return Err(StoreError::Conflict {
                entry_id: entry.id.to_string(),
            });
        }
        let rec = book.record(entry).map_err(StoreError::Refused)?;
        seq += 1;
        let mut new_accounts = Vec::with_capacity(rec.new_accounts.len());
        for id in &rec.new_accounts {
            let key = book
                .key(*id)
                .ok_or_else(|| StoreError::Corrupt(format!("account {} missing", id.0)))?;
            let json =
                serde_json::to_string(key).map_err(|e| StoreError::Corrupt(e.to_string()))?;
            new_accounts.push((id.0, json));
        }
        let rows: Vec<TransferRow> = rec.transfers.iter().map(TransferRow::of).collect();
        let postings = canonical_postings(&new_accounts, &rows);
        pending_bytes += new_accounts.iter().map(|a| a.1.len()).sum::<usize>();
        account_rows.extend(new_accounts.into_iter().map(|(id, k)| (id, k, seq)));
        let hash = chain::entry_hash(&prev, seq as u64, &body, &postings);
        prev = hash;
        let (eday, kday) = (day(entry.effective_on), day(entry.known_on));
        for (i, t) in rec.transfers.iter().enumerate() {
            touched.insert(t.debit.0);
            touched.insert(t.credit.0);
            let f = t.flags;
            let (posted, pending): (i64, i64) = if f.contains(TransferFlags::PENDING) {
                pending_new.push((t.id, seq, *t));
                (0, t.amount as i64)
            } else if f.contains(TransferFlags::POST_PENDING)
                || f.contains(TransferFlags::VOID_PENDING)
            {
                let p = book
                    .engine()
                    .pending(t.pending_id)
                    .ok_or_else(|| StoreError::Corrupt("posted pending vanished".into()))?;
                let state = if p.state == PendingState::Posted {
                    "posted"
                } else {
                    "voided"
                };
                pending_done.push((t.pending_id, state));
                let posted = if state == "posted" {
                    t.amount as i64
                } else {
                    0
                };
                (posted, -(p.amount as i64))
            } else {
                (t.amount as i64, 0)
            };
            transfer_rows.push((seq, i, *t, posted, pending, eday, kday));
        }
        pending_bytes += body.len();
        journal_rows.push(JournalInsert {
            seq,
            entry_id: entry.id.to_string(),
            kind: entry.event.name(),
            effective_day: eday,
            known_day: kday,
            body,
            hash: chain::to_hex(&hash),
        });
        if transfer_rows.len() + account_rows.len() >= FLUSH_TRANSFERS
            || pending_bytes >= FLUSH_BYTES
        {
            n_accounts += account_rows.len();
            insert_accounts(conn, book, &account_rows).await?;
            account_rows.clear();
            insert_journal(conn, &journal_rows, file_sha.as_deref(), &recorded_at).await?;
            insert_transfers(conn, &transfer_rows).await?;
            n_recorded += journal_rows.len();
            n_transfers += transfer_rows.len();
            journal_rows.clear();
            transfer_rows.clear();
            pending_bytes = 0;
        }
    }

    // New accounts, in id order (each flush writes the accounts its entries created).
    n_accounts += account_rows.len();
    if n_accounts != book.accounts().count() - accounts_before {
        return Err(StoreError::Corrupt("new accounts out of step".into()));
    }
    insert_accounts(conn, book, &account_rows).await?;
    insert_journal(conn, &journal_rows, file_sha.as_deref(), &recorded_at).await?;
    insert_transfers(conn, &transfer_rows).await?;
    n_recorded += journal_rows.len();
    n_transfers += transfer_rows.len();

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

    let touched: Vec<u32> = touched.into_iter().collect();
    for chunk in touched.chunks(ROWS_PER_INSERT / 2) {
        let mut rows = Vec::with_capacity(chunk.len());
        for id in chunk {
            let a = book
                .engine()
                .account(backstock_ledger::engine::AccountId(*id))
                .ok_or_else(|| StoreError::Corrupt(format!("account {id} missing")))?;
            let b = a.balance;
            rows.push((
                i64::from(*id),
                to_i64(b.debits_pending, "balance")?,
                to_i64(b.debits_posted, "balance")?,
                to_i64(b.credits_pending, "balance")?,
                to_i64(b.credits_posted, "balance")?,
            ));
        }
        let mut qb = sqlx::QueryBuilder::new(
            "INSERT OR REPLACE INTO balances (account, debits_pending, debits_posted, credits_pending, credits_posted) ",
        );
        qb.push_values(rows, |mut b, r| {
            b.push_bind(r.0)
                .push_bind(r.1)
                .push_bind(r.2)
                .push_bind(r.3)
                .push_bind(r.4);
        });
        qb.build().execute(&mut *conn).await?;
    }

    if let Some(f) = file {
        // One part: kept in the row itself. More: the row holds none, `file_parts` all.
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
            for (i, part) in f.parts.iter().enumerate() {
                sqlx::query("INSERT INTO file_parts (sha256, part, content) VALUES (?, ?, ?)")
                    .bind(&f.sha256)
                    .bind(i as i64)
                    .bind(part.as_slice())
                    .execute(&mut *conn)
                    .await?;
            }
        }
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

/// A journal row, owning what it needs so its entry can be dropped.
struct JournalInsert {
    seq: i64,
    entry_id: String,
    kind: &'static str,
    effective_day: i64,
    known_day: i64,
    body: String,
    hash: String,
}

/// Writes account rows (id, key JSON, creating entry's seq), in id order.
async fn insert_accounts(
    conn: &mut SqliteConnection,
    book: &Book,
    rows: &[(u32, String, i64)],
) -> Result<()> {
    for chunk in rows.chunks(ROWS_PER_INSERT / 2) {
        let mut keys = Vec::with_capacity(chunk.len());
        for (id, _, _) in chunk {
            keys.push(
                book.key(backstock_ledger::engine::AccountId(*id))
                    .ok_or_else(|| StoreError::Corrupt(format!("account {id} missing")))?,
            );
        }
        let mut qb = sqlx::QueryBuilder::new(
            "INSERT INTO accounts (id, key, created_seq, ledger, owner, holder, sku, state, party, counterparty, money_kind, currency) ",
        );
        qb.push_values(chunk.iter().zip(keys), |mut b, ((id, json, seq), key)| {
            b.push_bind(i64::from(*id))
                .push_bind(json.as_str())
                .push_bind(*seq);
            match key {
                AccountKey::Units(u) => {
                    b.push_bind(format!("units:{}", u.sku()))
                        .push_bind(u.owner().to_string())
                        .push_bind(u.holder().to_string())
                        .push_bind(u.sku().to_string())
                        .push_bind(u.state().as_str())
                        .push_bind(None::<String>)
                        .push_bind(None::<String>)
                        .push_bind(None::<String>)
                        .push_bind(None::<String>);
                }
                AccountKey::Money(m) => {
                    b.push_bind(format!("money:{}", m.currency()))
                        .push_bind(None::<String>)
                        .push_bind(None::<String>)
                        .push_bind(None::<String>)
                        .push_bind(None::<String>)
                        .push_bind(m.party().to_string())
                        .push_bind(m.counterparty().to_string())
                        .push_bind(m.kind().as_str())
                        .push_bind(m.currency().code().to_string());
                }
            }
        });
        qb.build().execute(&mut *conn).await?;
    }
    Ok(())
}
type TransferInsert = (i64, usize, Transfer, i64, i64, i64, i64);

async fn insert_journal(
    conn: &mut SqliteConnection,
    journal_rows: &[JournalInsert],
    file_sha: Option<&str>,
    recorded_at: &str,
) -> Result<()> {
    for chunk in journal_rows.chunks(ROWS_PER_INSERT / 2) {
        let mut qb = sqlx::QueryBuilder::new(
            "INSERT INTO journal (seq, entry_id, kind, effective_day, known_day, body, file_sha256, recorded_at, hash) ",
        );
        qb.push_values(chunk, |mut b, j| {
            b.push_bind(j.seq)
                .push_bind(j.entry_id.as_str())
                .push_bind(j.kind)
                .push_bind(j.effective_day)
                .push_bind(j.known_day)
                .push_bind(j.body.as_str())
                .push_bind(file_sha)
                .push_bind(recorded_at)
                .push_bind(j.hash.as_str());
        });
        qb.build().execute(&mut *conn).await?;
    }

    Ok(())
}

async fn insert_transfers(
    conn: &mut SqliteConnection,
    transfer_rows: &[TransferInsert],
) -> Result<()> {
    for chunk in transfer_rows.chunks(ROWS_PER_INSERT) {
        let mut qb = sqlx::QueryBuilder::new(
            "INSERT INTO transfers (seq, idx, debit, credit, amount, flags, pending_id, posted_delta, pending_delta, effective_day, known_day) ",
        );
        qb.push_values(chunk, |mut b, (seq, i, t, posted, pending, eday, kday)| {
            b.push_bind(*seq)
                .push_bind(*i as i64)
                .push_bind(i64::from(t.debit.0))
                .push_bind(i64::from(t.credit.0))
                .push_bind(t.amount as i64)
                .push_bind(i64::from(t.flags.bits() & !TransferFlags::LINKED.bits()))
                .push_bind(if t.pending_id.0 == 0 {
                    None
                } else {
                    Some(tid_hex(t.pending_id))
                })
                .push_bind(*posted)
                .push_bind(*pending)
                .push_bind(*eday)
                .push_bind(*kday);
        });
        qb.build().execute(&mut *conn).await?;
    }

    Ok(())
}

pub(crate) fn parse_hash(h: &str) -> Result<[u8; 32]> {
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

/// A transfer as stored: account ids, amount, flags (without LINKED) and the pending
/// transfer it posts or voids.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct TransferRow {
    pub debit: i64,
    pub credit: i64,
    pub amount: i64,
    pub flags: i64,
    pub pending_id: Option<String>,
}

impl TransferRow {
    pub(crate) fn of(t: &Transfer) -> TransferRow {
        TransferRow {
            debit: i64::from(t.debit.0),
            credit: i64::from(t.credit.0),
            amount: t.amount as i64,
            flags: i64::from(t.flags.bits() & !TransferFlags::LINKED.bits()),
            pending_id: (t.pending_id.0 != 0).then(|| tid_hex(t.pending_id)),
        }
    }

    /// The posting this row records, given the account keys.
    pub(crate) fn posting(&self, key_of: &[AccountKey]) -> Option<backstock_ledger::Posting> {
        use backstock_ledger::{Phase, TransferIdHex};
        let pending = || {
            self.pending_id
                .as_deref()
                .and_then(|h| u128::from_str_radix(h, 16).ok())
                .map(|v| TransferIdHex(TransferId(v)))
        };
        let f = TransferFlags::from_bits(u16::try_from(self.flags).ok()?);
        let phase = if f.contains(TransferFlags::PENDING) {
            Phase::Pending
        } else if f.contains(TransferFlags::POST_PENDING) {
            Phase::PostPending {
                pending: pending()?,
            }
        } else if f.contains(TransferFlags::VOID_PENDING) {
            Phase::VoidPending {
                pending: pending()?,
            }
        } else {
            Phase::Posted
        };
        Some(backstock_ledger::Posting {
            debit: key_of.get(usize::try_from(self.debit).ok()?)?.clone(),
            credit: key_of.get(usize::try_from(self.credit).ok()?)?.clone(),
            amount: u64::try_from(self.amount).ok()?,
            phase,
        })
    }
}

/// The canonical text of an entry's effect, hashed into the chain: the accounts it
/// created (`+id key`) then its transfers (`debit credit amount flags pending`), one per
/// line. Compact on purpose: it is hashed for every entry on the import path.
pub(crate) fn canonical_postings(new_accounts: &[(u32, String)], rows: &[TransferRow]) -> String {
    use std::fmt::Write as _;
    let mut s = String::with_capacity(new_accounts.len() * 120 + rows.len() * 24);
    for (id, key) in new_accounts {
        let _ = writeln!(s, "+{id} {key}");
    }
    for r in rows {
        let _ = writeln!(
            s,
            "{} {} {} {} {}",
            r.debit,
            r.credit,
            r.amount,
            r.flags,
            r.pending_id.as_deref().unwrap_or("-")
        );
    }
    s
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
