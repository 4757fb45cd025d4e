//! The store in PostgreSQL: the store contract ([`backstock_store::contract`]) for many
//! labels on one server, with the guarantees of the SQLite store.
//!
//! * One [`Journal::append`] is one transaction. It first locks the label's row of
//!   `chain_heads` (`SELECT … FOR UPDATE`), so writers of one label append one after
//!   the other — from any number of processes — and the hash chain stays exact; writers
//!   of different labels do not wait for each other.
//! * Entries are expanded into postings by the ledger's [`Book`], hashed with
//!   [`chain::entry_hash_v2`] over [`canonical_postings`]: the same code as the SQLite
//!   store, so an entry has the same postings and hash on both. The expansion runs on
//!   a thread of its own while the rows already packed are written.
//! * An entry's transfers and the accounts it created are stored as compressed blocks
//!   in the layout of the SQLite store ([`backstock_store::blocks`]; migration 3), not
//!   a row each; balances are the blocks' transfers summed in Rust. Transfers that open
//!   or end a pending transfer are also rows of `pending_transfers`. Rows of
//!   `transfers` and `accounts` written by schema version 2 are read with the blocks.
//! * Idempotent by entry id (same content: unchanged; other content:
//!   [`StoreError::Conflict`]); a file's bytes are imported once.
//! * History is append-only in the database: triggers refuse UPDATE, DELETE and
//!   TRUNCATE for every role, and the role queries run as (`backstock_app`) is granted
//!   only SELECT and INSERT.
//! * Tenancy in the database: every row carries its label, and row-level security
//!   policies keyed on the session setting `app.label` show a session its own label's
//!   rows only — none when the setting is missing. Each pooled connection runs as
//!   `backstock_app` with `app.label` set to the store's label.
//!
//! Migrations are embedded (`migrations/`) and applied under an advisory lock when a
//! store connects.

use backstock_domain::Date;
use backstock_ledger::canonical::{canonical_postings, effect, tid_hex, TransferRow};
use backstock_ledger::engine::{AccountId, Balance, TransferFlags, TransferId};
use backstock_ledger::{chain, AccountKey, Book, Entry, EntryKind, Posting};
use backstock_store::blocks::{self, StoredTransfer};
use backstock_store::contract::{
    Beside, Head, Journal, KeptFile, KeptStatement, Projections, Sealed, Settings, LEVEL_LOG_MARK,
    NOT_SETTINGS, SEALED_PAGE,
};
use backstock_store::query::{BalanceRow, StockFilter, StockRow, ENTRY_PAGE};
use backstock_store::{admit, RecordOutcome, Result, SourceFile, StoreError};
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::{Connection, PgConnection, PgPool, Postgres, Row, Transaction};
use std::collections::{BTreeSet, HashMap};
use std::str::FromStr;

const MIGRATIONS: &[(i32, &str)] = &[
    (1, include_str!("../migrations/0001_store.sql")),
    (2, include_str!("../migrations/0002_settings.sql")),
    (3, include_str!("../migrations/0003_blocks.sql")),
    (4, include_str!("../migrations/0004_beside.sql")),
];

/// The role every query runs as: subject to row-level security, SELECT and INSERT only
/// on history.
pub const APP_ROLE: &str = "backstock_app";

/// Serializes migrations of one database (any constant shared by every process).
const MIGRATION_LOCK: i64 = 0x6261_636b_7374_6f63; // "backstoc"

/// Rows per multi-row INSERT (each column is bound as one array).
const ROWS_PER_INSERT: usize = 10_000;
/// Blocks per multi-row INSERT (a transfer block is at most ≈ 400 KB before zstd):
/// bounds one statement's size.
const BLOCKS_PER_INSERT: usize = 32;
/// Blocks read per query when summing or loading (keyset pages).
const BLOCKS_PER_PAGE: i64 = 64;

struct Cached {
    head_seq: i64,
    book: Book,
}

/// One label's store in a PostgreSQL database.
pub struct PgStore {
    pool: PgPool,
    label: String,
    cache: tokio::sync::Mutex<Option<Cached>>,
}

fn invalid(msg: String) -> StoreError {
    StoreError::Io(std::io::Error::new(std::io::ErrorKind::InvalidInput, msg))
}

fn corrupt(msg: impl Into<String>) -> StoreError {
    StoreError::Corrupt(msg.into())
}

fn day(d: Date) -> i64 {
    i64::from(d.days_since_epoch())
}

/// The last day an as-of query sees (all when `None`).
fn as_of_day(as_of: Option<Date>) -> i64 {
    as_of.map(day).unwrap_or(i64::MAX)
}

impl PgStore {
    /// Connects to the database at `url` (`postgres://…`) as the store of `label`,
    /// applying the embedded migrations first. The user of `url` owns the schema (or
    /// is a member of `backstock_app` once it exists).
    pub async fn connect(url: &str, label: &str) -> Result<PgStore> {
        if label.is_empty()
            || label.len() > 200
            || !label
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"-_.:".contains(&b))
        {
            return Err(invalid(format!(
                "{label:?} is not a label (letters, digits and - _ . : only)"
            )));
        }
        let opts = PgConnectOptions::from_str(url)?;
        let mut conn = PgConnection::connect_with(&opts).await?;
        migrate(&mut conn).await?;
        conn.close().await?;
        let scope = label.to_string();
        let pool = PgPoolOptions::new()
            .max_connections(4)
            .after_connect(move |conn, _| {
                let scope = scope.clone();
                Box::pin(async move {
                    sqlx::query("SET ROLE backstock_app")
                        .execute(&mut *conn)
                        .await?;
                    sqlx::query("SELECT set_config('app.label', $1, false)")
                        .bind(scope)
                        .execute(&mut *conn)
                        .await?;
                    Ok(())
                })
            })
            .connect_with(opts)
            .await?;
        Ok(PgStore {
            pool,
            label: label.to_string(),
            cache: tokio::sync::Mutex::new(None),
        })
    }

    /// The label this store reads and writes.
    pub fn label(&self) -> &str {
        &self.label
    }

    /// The pool: every connection runs as `backstock_app`, scoped to this label.
    pub fn pool(&self) -> &PgPool {
        &self.pool
    }

    async fn append_all(
        &self,
        entries: Vec<Entry>,
        file: Option<SourceFile>,
        recorded_at: Option<String>,
    ) -> Result<RecordOutcome> {
        let mut cache = self.cache.lock().await;
        let mut tx = self.pool.begin().await?;
        match append_in_tx(&mut tx, &self.label, &mut cache, entries, file, recorded_at).await {
            Ok(outcome) => {
                if let Err(e) = tx.commit().await {
                    *cache = None;
                    return Err(e.into());
                }
                Ok(outcome)
            }
            Err(e) => {
                // The cached book may hold part of the failed batch: drop it.
                *cache = None;
                let _ = tx.rollback().await;
                Err(e)
            }
        }
    }

    /// Every account's key with its sums as of a day, in account order:
    /// `(key, debits − credits posted, debits − credits pending)`.
    async fn nets(&self, as_of: Option<Date>) -> Result<Vec<(AccountKey, i128, i128)>> {
        let mut conn = self.pool.acquire().await?;
        let keys = account_keys(&mut conn, &self.label).await?;
        let sums = sum_transfers(&mut conn, &self.label, keys.len(), as_of_day(as_of)).await?;
        Ok(keys
            .into_iter()
            .zip(sums)
            .map(|(k, s)| (k, s[1] - s[3], s[0] - s[2]))
            .collect())
    }
}

/// Applies the migrations not yet applied, one transaction each, under an advisory
/// lock (stores of many labels may connect at once).
async fn migrate(conn: &mut PgConnection) -> Result<()> {
    let mut tx = conn.begin().await?;
    sqlx::query("SELECT pg_advisory_xact_lock($1)")
        .bind(MIGRATION_LOCK)
        .execute(&mut *tx)
        .await?;
    sqlx::query(
        "CREATE TABLE IF NOT EXISTS backstock_schema (version integer PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT now())",
    )
    .execute(&mut *tx)
    .await?;
    let version: i32 = sqlx::query_scalar("SELECT COALESCE(MAX(version), 0) FROM backstock_schema")
        .fetch_one(&mut *tx)
        .await?;
    for (v, sql) in MIGRATIONS {
        if *v > version {
            sqlx::raw_sql(sql).execute(&mut *tx).await?;
            sqlx::query("INSERT INTO backstock_schema (version) VALUES ($1)")
                .bind(v)
                .execute(&mut *tx)
                .await?;
        }
    }
    tx.commit().await?;
    Ok(())
}

/// Every account's key, by id (ids are dense from 0): the rows written by schema
/// version 2, then the blocks.
async fn account_keys(conn: &mut PgConnection, label: &str) -> Result<Vec<AccountKey>> {
    let rows = sqlx::query("SELECT id, key FROM accounts WHERE label = $1 ORDER BY id")
        .bind(label)
        .fetch_all(&mut *conn)
        .await?;
    let mut keys = Vec::with_capacity(rows.len());
    for r in rows {
        let id: i64 = r.try_get(0)?;
        if id != keys.len() as i64 {
            return Err(corrupt(format!("account ids are not dense at {id}")));
        }
        let text: &str = r.try_get(1)?;
        keys.push(parse_key(id, text)?);
    }
    let mut after: i64 = -1;
    loop {
        let page: Vec<(i64, i32, Vec<u8>)> = sqlx::query_as(
            "SELECT first_id, count, keys FROM account_blocks WHERE label = $1 AND first_id > $2 \
             ORDER BY first_id LIMIT $3",
        )
        .bind(label)
        .bind(after)
        .bind(BLOCKS_PER_PAGE)
        .fetch_all(&mut *conn)
        .await?;
        let n = page.len();
        for (first, count, packed) in page {
            after = first;
            if first != keys.len() as i64 {
                return Err(corrupt(format!("account ids are not dense at {first}")));
            }
            let count = usize::try_from(count).map_err(|_| corrupt("an account block's count"))?;
            let what = format!("accounts from {first}");
            let text = blocks::account_text(&packed, count, &what)?;
            for key in blocks::account_keys(&text, count, &what)? {
                keys.push(parse_key(keys.len() as i64, key)?);
            }
        }
        if n < usize::try_from(BLOCKS_PER_PAGE).unwrap_or(usize::MAX) {
            return Ok(keys);
        }
    }
}

fn parse_key(id: i64, text: &str) -> Result<AccountKey> {
    AccountKey::read(text).map_err(|e| corrupt(format!("account {id} has an unreadable key: {e}")))
}

/// `[debits_pending, debits_posted, credits_pending, credits_posted]` per account: the
/// sum of the stored transfers of entries effective and known by `max_day`.
async fn sum_transfers(
    conn: &mut PgConnection,
    label: &str,
    accounts: usize,
    max_day: i64,
) -> Result<Vec<[i128; 4]>> {
    let rows = sqlx::query(
        "SELECT account, SUM(dpend)::text, SUM(dpost)::text, SUM(cpend)::text, SUM(cpost)::text FROM ( \
           SELECT debit AS account, pending_delta AS dpend, posted_delta AS dpost, 0::bigint AS cpend, 0::bigint AS cpost \
             FROM transfers WHERE label = $1 AND effective_day <= $2 AND known_day <= $2 \
           UNION ALL \
           SELECT credit, 0, 0, pending_delta, posted_delta \
             FROM transfers WHERE label = $1 AND effective_day <= $2 AND known_day <= $2 \
         ) t GROUP BY account",
    )
    .bind(label)
    .bind(max_day)
    .fetch_all(&mut *conn)
    .await?;
    let mut sums = vec![[0i128; 4]; accounts];
    for r in rows {
        let account: i64 = r.try_get(0)?;
        let slot = usize::try_from(account)
            .ok()
            .and_then(|a| sums.get_mut(a))
            .ok_or_else(|| {
                corrupt(format!(
                    "a transfer names account {account}, which does not exist"
                ))
            })?;
        for (k, s) in slot.iter_mut().enumerate() {
            let text: &str = r.try_get(k + 1)?;
            *s = text.parse().map_err(|_| {
                corrupt(format!(
                    "account {account}: a sum {text:?} is not an integer"
                ))
            })?;
        }
    }
    // The blocks, page by page (a label's blocks need not fit in memory at once).
    let mut after: (i64, i32) = (0, -1);
    loop {
        let page: Vec<(i64, i32, i32, Vec<u8>)> = sqlx::query_as(
            "SELECT seq, first_idx, count, data FROM transfer_blocks \
             WHERE label = $1 AND effective_day <= $2 AND known_day <= $2 AND (seq, first_idx) > ($3, $4) \
             ORDER BY seq, first_idx LIMIT $5",
        )
        .bind(label)
        .bind(max_day)
        .bind(after.0)
        .bind(after.1)
        .bind(BLOCKS_PER_PAGE)
        .fetch_all(&mut *conn)
        .await?;
        let n = page.len();
        for (seq, first, count, data) in page {
            after = (seq, first);
            for t in decode_block(seq, first, count, &data)? {
                let (d, c) = (t.row.debit as usize, t.row.credit as usize);
                if d >= sums.len() || c >= sums.len() {
                    return Err(corrupt(format!(
                        "entry #{seq}: a transfer names an account that does not exist"
                    )));
                }
                sums[d][0] += i128::from(t.pending_delta);
                sums[d][1] += i128::from(t.posted_delta);
                sums[c][2] += i128::from(t.pending_delta);
                sums[c][3] += i128::from(t.posted_delta);
            }
        }
        if n < usize::try_from(BLOCKS_PER_PAGE).unwrap_or(usize::MAX) {
            return Ok(sums);
        }
    }
}

/// One stored transfer block, decoded (its row's count checked).
fn decode_block(seq: i64, first_idx: i32, count: i32, data: &[u8]) -> Result<Vec<StoredTransfer>> {
    let count =
        usize::try_from(count).map_err(|_| corrupt(format!("entry #{seq}: a block's count")))?;
    blocks::decode_transfers(
        data,
        count,
        &format!("entry #{seq} from transfer {first_idx}"),
    )
}

/// Loads the book (accounts, balances, open pending transfers) of a label.
async fn load_book(conn: &mut PgConnection, label: &str) -> Result<Book> {
    let keys = account_keys(conn, label).await?;
    let sums = sum_transfers(conn, label, keys.len(), i64::MAX).await?;
    let mut book = Book::new();
    for (id, (key, s)) in keys.into_iter().zip(sums).enumerate() {
        let n = |v: i128| {
            u128::try_from(v).map_err(|_| {
                corrupt(format!(
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
    // Open pending transfers: opened and not posted or voided since.
    // Rows of schema version 2 (`transfers`) and of version 3 (`pending_transfers`).
    let rows = sqlx::query(
        "WITH t AS ( \
           SELECT seq, id, pending_id, debit, credit, amount FROM transfers \
             WHERE label = $1 AND (id IS NOT NULL OR pending_id IS NOT NULL) \
           UNION ALL \
           SELECT seq, id, pending_id, debit, credit, amount FROM pending_transfers WHERE label = $1) \
         SELECT o.id, o.debit, o.credit, o.amount FROM t o \
         WHERE o.id IS NOT NULL AND NOT EXISTS (SELECT 1 FROM t e WHERE e.pending_id = o.id) \
         ORDER BY o.seq, o.id",
    )
    .bind(label)
    .fetch_all(&mut *conn)
    .await?;
    for r in rows {
        let id: &str = r.try_get(0)?;
        let id = u128::from_str_radix(id, 16).map_err(|_| corrupt(format!("pending id {id}")))?;
        let account = |v: i64| {
            u32::try_from(v)
                .map(AccountId)
                .map_err(|_| corrupt(format!("pending transfer names account {v}")))
        };
        let amount: i64 = r.try_get(3)?;
        book.restore_pending(
            TransferId(id),
            account(r.try_get(1)?)?,
            account(r.try_get(2)?)?,
            u64::try_from(amount).map_err(|_| corrupt("a pending amount is negative"))?,
        );
    }
    Ok(book)
}

/// The cached book, loaded again when the label's journal moved on (another
/// connection or process appended).
async fn fresh_book<'c>(
    conn: &mut PgConnection,
    label: &str,
    cache: &'c mut Option<Cached>,
    head_seq: i64,
) -> Result<&'c mut Book> {
    if cache.as_ref().map(|c| c.head_seq) != Some(head_seq) {
        *cache = None;
        *cache = Some(Cached {
            head_seq,
            book: load_book(conn, label).await?,
        });
    }
    match cache.as_mut() {
        Some(c) => Ok(&mut c.book),
        None => Err(corrupt("book cache")),
    }
}

/// Rows of one batch, written once every entry is expanded (columns as arrays).
#[derive(Default)]
struct Rows {
    j_seq: Vec<i64>,
    j_entry_id: Vec<String>,
    j_kind: Vec<&'static str>,
    j_effective: Vec<i64>,
    j_known: Vec<i64>,
    j_body: Vec<String>,
    j_hash: Vec<String>,
    /// Account blocks: first id, count, the entry that created them, packed keys.
    ab_first: Vec<i64>,
    ab_count: Vec<i32>,
    ab_seq: Vec<i64>,
    ab_keys: Vec<Vec<u8>>,
    /// Accounts in the blocks above.
    accounts: usize,
    /// Transfer blocks: entry, first index, count, the entry's days, packed transfers.
    tb_seq: Vec<i64>,
    tb_first: Vec<i32>,
    tb_count: Vec<i32>,
    tb_effective: Vec<i64>,
    tb_known: Vec<i64>,
    tb_data: Vec<Vec<u8>>,
    /// Transfers that open or end a pending transfer (also in the blocks).
    p_seq: Vec<i64>,
    p_idx: Vec<i32>,
    p_id: Vec<Option<String>>,
    p_pending_id: Vec<Option<String>>,
    p_debit: Vec<i64>,
    p_credit: Vec<i64>,
    p_amount: Vec<i64>,
}

impl Rows {
    /// The accounts an entry created, as blocks of their canonical keys (ids dense).
    fn accounts(
        &mut self,
        packer: &mut blocks::Packer,
        seq: i64,
        new: &[(u32, String)],
    ) -> Result<()> {
        for chunk in new.chunks(blocks::BLOCK_ACCOUNTS) {
            let first = chunk[0].0;
            let mut keys = String::with_capacity(chunk.iter().map(|a| a.1.len() + 1).sum());
            for (k, (id, key)) in chunk.iter().enumerate() {
                if u64::from(*id) != u64::from(first) + k as u64 || key.contains('\n') {
                    return Err(corrupt("new accounts out of step"));
                }
                if k > 0 {
                    keys.push('\n');
                }
                keys.push_str(key);
            }
            self.ab_first.push(i64::from(first));
            self.ab_count
                .push(i32::try_from(chunk.len()).map_err(|_| corrupt("block size"))?);
            self.ab_seq.push(seq);
            self.ab_keys.push(packer.pack(keys.as_bytes())?);
            self.accounts += chunk.len();
        }
        Ok(())
    }

    /// An entry's transfers, as blocks of at most [`blocks::BLOCK_TRANSFERS`].
    fn transfers(
        &mut self,
        packer: &mut blocks::Packer,
        seq: i64,
        (eday, kday): (i64, i64),
        list: &[StoredTransfer],
    ) -> Result<()> {
        for (b, chunk) in list.chunks(blocks::BLOCK_TRANSFERS).enumerate() {
            let mut data = Vec::with_capacity(1 + chunk.len() * 50);
            data.push(blocks::TRANSFER_FORMAT);
            for t in chunk {
                blocks::push_transfer(&mut data, t);
            }
            self.tb_seq.push(seq);
            self.tb_first.push(
                i32::try_from(b * blocks::BLOCK_TRANSFERS)
                    .map_err(|_| invalid("an entry has too many transfers".into()))?,
            );
            self.tb_count
                .push(i32::try_from(chunk.len()).map_err(|_| corrupt("block size"))?);
            self.tb_effective.push(eday);
            self.tb_known.push(kday);
            self.tb_data.push(packer.pack(&data)?);
        }
        Ok(())
    }
}

async fn append_in_tx(
    tx: &mut Transaction<'static, Postgres>,
    label: &str,
    cache: &mut Option<Cached>,
    entries: Vec<Entry>,
    file: Option<SourceFile>,
    recorded_at: Option<String>,
) -> Result<RecordOutcome> {
    let conn: &mut PgConnection = tx;
    // The label's chain head, locked until commit: one writer per label at a time.
    sqlx::query("INSERT INTO chain_heads (label, seq, hash) VALUES ($1, 0, $2) ON CONFLICT (label) DO NOTHING")
        .bind(label)
        .bind(chain::to_hex(&chain::GENESIS))
        .execute(&mut *conn)
        .await?;
    let (head_seq, head_hash): (i64, String) =
        sqlx::query_as("SELECT seq, hash FROM chain_heads WHERE label = $1 FOR UPDATE")
            .bind(label)
            .fetch_one(&mut *conn)
            .await?;
    let last: Option<(i64, String)> =
        sqlx::query_as("SELECT seq, hash FROM journal WHERE label = $1 ORDER BY seq DESC LIMIT 1")
            .bind(label)
            .fetch_optional(&mut *conn)
            .await?;
    if last
        .as_ref()
        .map_or((0, chain::to_hex(&chain::GENESIS)), |l| l.clone())
        != (head_seq, head_hash.clone())
    {
        return Err(corrupt(format!(
            "the chain head of {label} (#{head_seq}) is not its journal's last entry"
        )));
    }
    if let Some(f) = &file {
        let row: Option<(String, String)> =
            sqlx::query_as("SELECT imported_at, name FROM files WHERE label = $1 AND sha256 = $2")
                .bind(label)
                .bind(&f.sha256)
                .fetch_optional(&mut *conn)
                .await?;
        if let Some((imported_at, name)) = row {
            return Ok(RecordOutcome::AlreadyImported { imported_at, name });
        }
    }
    let prev = backstock_store::parse_hash(&head_hash)?;
    fresh_book(conn, label, cache, head_seq).await?;
    let recorded_at = recorded_at.unwrap_or_else(backstock_store::now_utc);
    let file_sha = file.as_ref().map(|f| f.sha256.clone());
    if let Some(f) = file {
        sqlx::query("INSERT INTO files (label, sha256, name, kind, size, lines, imported_at) VALUES ($1, $2, $3, $4, $5, $6, $7)")
            .bind(label)
            .bind(&f.sha256)
            .bind(&f.name)
            .bind(&f.kind)
            .bind(i64::try_from(f.size).map_err(|_| invalid("the file is too large".into()))?)
            .bind(i64::try_from(f.lines).map_err(|_| invalid("the file has too many lines".into()))?)
            .bind(&recorded_at)
            .execute(&mut *conn)
            .await?;
        for (i, part) in f.parts.into_iter().enumerate() {
            sqlx::query(
                "INSERT INTO file_parts (label, sha256, part, content) VALUES ($1, $2, $3, $4)",
            )
            .bind(label)
            .bind(&f.sha256)
            .bind(i32::try_from(i).map_err(|_| invalid("the file has too many parts".into()))?)
            .bind(part)
            .execute(&mut *conn)
            .await?;
        }
    }

    // BACKSTOCK_TIMING=1 prints how long each phase took (for benchmarks).
    let t0 = std::time::Instant::now();
    let timing = std::env::var_os("BACKSTOCK_TIMING").is_some();
    let phase = |what: &str| {
        if timing {
            eprintln!("[{:>8.3?}] postgres append: {what}", t0.elapsed());
        }
    };
    // Idempotency by entry id.
    let mut existing: HashMap<String, String> = HashMap::new();
    for chunk in entries.chunks(ROWS_PER_INSERT) {
        let ids: Vec<&str> = chunk.iter().map(|e| e.id.as_str()).collect();
        let rows: Vec<(String, String)> = sqlx::query_as(
            "SELECT entry_id, body FROM journal WHERE label = $1 AND entry_id = ANY($2)",
        )
        .bind(label)
        .bind(&ids)
        .fetch_all(&mut *conn)
        .await?;
        existing.extend(rows);
    }

    // The entries are expanded and hashed on a thread of their own while this task
    // writes what is ready: the client's work (the book, hashing, packing) and the
    // server's (storing rows) overlap. The book goes with them and comes back; on any
    // error the transaction rolls back and the cached book is dropped.
    let Some(Cached { book, .. }) = cache.take() else {
        return Err(corrupt("book cache"));
    };
    let job = Expansion {
        book,
        entries,
        existing,
        seq: head_seq,
        prev,
        recorded_at: recorded_at.clone(),
        file_sha: file_sha.clone(),
    };
    let (sink, mut ready) = tokio::sync::mpsc::channel::<Rows>(2);
    let worker = tokio::task::spawn_blocking(move || {
        job.run(|rows| {
            sink.blocking_send(rows)
                .map_err(|_| corrupt("the writer stopped"))
        })
    });
    let mut written = Ok(());
    while let Some(rows) = ready.recv().await {
        written = write_rows(conn, label, &rows, file_sha.as_deref(), &recorded_at).await;
        if written.is_err() {
            break;
        }
    }
    // A failed write stops the expansion (its next send fails).
    drop(ready);
    let expanded = worker
        .await
        .map_err(|e| corrupt(format!("expanding the entries failed: {e}")));
    written?;
    let (book, done) = expanded??;
    let Expanded {
        seq,
        prev,
        recorded,
        unchanged,
        transfers: n_transfers,
    } = done;
    phase("entries expanded, hashed and written");
    *cache = Some(Cached {
        head_seq: seq,
        book,
    });
    if recorded > 0 {
        sqlx::query("UPDATE chain_heads SET seq = $2, hash = $3 WHERE label = $1")
            .bind(label)
            .bind(seq)
            .bind(chain::to_hex(&prev))
            .execute(&mut *conn)
            .await?;
    }
    Ok(RecordOutcome::Recorded {
        recorded,
        unchanged,
        transfers: n_transfers,
    })
}

/// What an append's expansion thread is given: the label's book, the batch, which
/// entry ids the journal holds already (with their bodies), and where the chain is.
struct Expansion {
    book: Book,
    entries: Vec<Entry>,
    existing: HashMap<String, String>,
    seq: i64,
    prev: [u8; 32],
    recorded_at: String,
    file_sha: Option<String>,
}

/// Where the chain ended and what was recorded.
struct Expanded {
    seq: i64,
    prev: [u8; 32],
    recorded: usize,
    unchanged: usize,
    transfers: usize,
}

/// Rows are handed to the writer once they hold this many blocks or body bytes (and
/// only between entries: an entry's rows are written together, journal row first).
const FLUSH_BLOCKS: usize = 64;
const FLUSH_BODY_BYTES: usize = 32 << 20;

impl Expansion {
    /// Records each entry in the book, hashes it into the chain and packs its rows,
    /// handing them to `write` as they fill; returns the book with what was done.
    fn run(mut self, mut write: impl FnMut(Rows) -> Result<()>) -> Result<(Book, Expanded)> {
        let book = &mut self.book;
        let accounts_before = book.engine().accounts().len();
        let (mut seq, mut prev) = (self.seq, self.prev);
        let mut rows = Rows::default();
        let (mut accounts, mut body_bytes) = (0usize, 0usize);
        let (mut recorded, mut unchanged, mut n_transfers) = (0usize, 0usize, 0usize);
        let mut seen_ids: BTreeSet<String> = BTreeSet::new();
        let mut packer = blocks::Packer::new()?;
        for entry in &self.entries {
            let body = serde_json::to_string(entry).map_err(|e| corrupt(e.to_string()))?;
            if !admit::is_new(&self.existing, &mut seen_ids, entry, &body)? {
                unchanged += 1;
                continue;
            }
            let (rec, new_accounts) = admit::record(book, entry)?;
            seq += 1;
            let (eday, kday) = (day(entry.effective_on), day(entry.known_on));
            let mut hashed = Vec::with_capacity(rec.transfers.len());
            let mut stored = Vec::with_capacity(rec.transfers.len());
            for (idx, t) in rec.transfers.iter().enumerate() {
                let fx =
                    effect(t, book.engine()).ok_or_else(|| corrupt("posted pending vanished"))?;
                let row = TransferRow::of(t);
                if i64::try_from(row.amount).is_err() {
                    return Err(invalid(format!(
                        "entry {}: an amount is too large",
                        entry.id
                    )));
                }
                let opens = t.flags.contains(TransferFlags::PENDING);
                if opens || row.pending_id != 0 {
                    rows.p_seq.push(seq);
                    rows.p_idx.push(
                        i32::try_from(idx)
                            .map_err(|_| invalid("an entry has too many transfers".into()))?,
                    );
                    rows.p_id.push(opens.then(|| tid_hex(t.id)));
                    rows.p_pending_id
                        .push((row.pending_id != 0).then(|| tid_hex(TransferId(row.pending_id))));
                    rows.p_debit.push(i64::from(row.debit));
                    rows.p_credit.push(i64::from(row.credit));
                    rows.p_amount
                        .push(i64::try_from(row.amount).unwrap_or(i64::MAX));
                }
                stored.push(StoredTransfer {
                    row,
                    posted_delta: fx.posted_delta,
                    pending_delta: fx.pending_delta,
                });
                hashed.push(row);
            }
            rows.transfers(&mut packer, seq, (eday, kday), &stored)?;
            let postings = canonical_postings(&new_accounts, hashed.iter());
            let hash = chain::entry_hash_v2(
                &prev,
                u64::try_from(seq).map_err(|_| corrupt("sequence"))?,
                &body,
                &postings,
                &self.recorded_at,
                self.file_sha.as_deref(),
            );
            prev = hash;
            n_transfers += hashed.len();
            recorded += 1;
            rows.accounts(&mut packer, seq, &new_accounts)?;
            rows.j_seq.push(seq);
            rows.j_entry_id.push(entry.id.to_string());
            rows.j_kind.push(entry.event.name());
            rows.j_effective.push(eday);
            rows.j_known.push(kday);
            body_bytes += body.len();
            rows.j_body.push(body);
            rows.j_hash.push(chain::to_hex(&hash));
            if rows.tb_seq.len() + rows.ab_first.len() >= FLUSH_BLOCKS
                || body_bytes >= FLUSH_BODY_BYTES
            {
                accounts += rows.accounts;
                write(std::mem::take(&mut rows))?;
                body_bytes = 0;
            }
        }
        accounts += rows.accounts;
        if accounts != book.engine().accounts().len() - accounts_before {
            return Err(corrupt("new accounts out of step"));
        }
        // Invariant, checked before anything commits: Σ debits = Σ credits on every
        // ledger (rows written so far are in the transaction, rolled back on error).
        if !book.is_balanced() {
            return Err(corrupt(
                "the books would not balance after this batch (debits ≠ credits on a ledger); nothing was recorded",
            ));
        }
        if !rows.j_seq.is_empty() {
            write(rows)?;
        }
        Ok((
            self.book,
            Expanded {
                seq,
                prev,
                recorded,
                unchanged,
                transfers: n_transfers,
            },
        ))
    }
}

/// Writes a batch's rows: journal first (accounts and transfers name their entries).
async fn write_rows(
    conn: &mut PgConnection,
    label: &str,
    r: &Rows,
    file_sha: Option<&str>,
    recorded_at: &str,
) -> Result<()> {
    let n = ROWS_PER_INSERT;
    for (i, seqs) in r.j_seq.chunks(n).enumerate() {
        let s = i * n..i * n + seqs.len();
        sqlx::query(
            "INSERT INTO journal (label, seq, entry_id, kind, effective_day, known_day, body, file_sha256, recorded_at, hash, chain_version) \
             SELECT $1, seq, entry_id, kind, eday, kday, body, $8, $9, hash, $10 \
             FROM UNNEST($2::bigint[], $3::text[], $4::text[], $5::bigint[], $6::bigint[], $7::text[], $11::text[]) \
                  AS t(seq, entry_id, kind, eday, kday, body, hash)",
        )
        .bind(label)
        .bind(seqs)
        .bind(&r.j_entry_id[s.clone()])
        .bind(&r.j_kind[s.clone()])
        .bind(&r.j_effective[s.clone()])
        .bind(&r.j_known[s.clone()])
        .bind(&r.j_body[s.clone()])
        .bind(file_sha)
        .bind(recorded_at)
        .bind(i16::from(chain::VERSION))
        .bind(&r.j_hash[s])
        .execute(&mut *conn)
        .await?;
    }
    let n = BLOCKS_PER_INSERT;
    for (i, firsts) in r.ab_first.chunks(n).enumerate() {
        let s = i * n..i * n + firsts.len();
        sqlx::query(
            "INSERT INTO account_blocks (label, first_id, count, created_seq, keys) \
             SELECT $1, * FROM UNNEST($2::bigint[], $3::integer[], $4::bigint[], $5::bytea[])",
        )
        .bind(label)
        .bind(firsts)
        .bind(&r.ab_count[s.clone()])
        .bind(&r.ab_seq[s.clone()])
        .bind(&r.ab_keys[s])
        .execute(&mut *conn)
        .await?;
    }
    for (i, seqs) in r.tb_seq.chunks(n).enumerate() {
        let s = i * n..i * n + seqs.len();
        sqlx::query(
            "INSERT INTO transfer_blocks (label, seq, first_idx, count, effective_day, known_day, data) \
             SELECT $1, * FROM UNNEST($2::bigint[], $3::integer[], $4::integer[], $5::bigint[], $6::bigint[], $7::bytea[])",
        )
        .bind(label)
        .bind(seqs)
        .bind(&r.tb_first[s.clone()])
        .bind(&r.tb_count[s.clone()])
        .bind(&r.tb_effective[s.clone()])
        .bind(&r.tb_known[s.clone()])
        .bind(&r.tb_data[s])
        .execute(&mut *conn)
        .await?;
    }
    let n = ROWS_PER_INSERT;
    for (i, seqs) in r.p_seq.chunks(n).enumerate() {
        let s = i * n..i * n + seqs.len();
        sqlx::query(
            "INSERT INTO pending_transfers (label, seq, idx, id, pending_id, debit, credit, amount) \
             SELECT $1, * FROM UNNEST($2::bigint[], $3::integer[], $4::text[], $5::text[], $6::bigint[], $7::bigint[], $8::bigint[])",
        )
        .bind(label)
        .bind(seqs)
        .bind(&r.p_idx[s.clone()])
        .bind(&r.p_id[s.clone()])
        .bind(&r.p_pending_id[s.clone()])
        .bind(&r.p_debit[s.clone()])
        .bind(&r.p_credit[s.clone()])
        .bind(&r.p_amount[s])
        .execute(&mut *conn)
        .await?;
    }
    Ok(())
}

/// A kept original's compressed parts, in order.
async fn file_parts(conn: &mut PgConnection, label: &str, sha256: &str) -> Result<Vec<Vec<u8>>> {
    Ok(sqlx::query_scalar(
        "SELECT content FROM file_parts WHERE label = $1 AND sha256 = $2 ORDER BY part",
    )
    .bind(label)
    .bind(sha256)
    .fetch_all(&mut *conn)
    .await?)
}

fn entry_of(seq: i64, body: &str) -> Result<Entry> {
    serde_json::from_str(body).map_err(|e| corrupt(format!("entry #{seq} is unreadable: {e}")))
}

impl Journal for PgStore {
    async fn append(&self, entries: &[Entry], file: Option<SourceFile>) -> Result<RecordOutcome> {
        self.append_all(entries.to_vec(), file, None).await
    }

    async fn imported(&self, sha256: &str) -> Result<Option<(String, String)>> {
        Ok(
            sqlx::query_as("SELECT imported_at, name FROM files WHERE label = $1 AND sha256 = $2")
                .bind(&self.label)
                .bind(sha256)
                .fetch_optional(&self.pool)
                .await?,
        )
    }

    async fn kept_file(&self, sha256: &str) -> Result<Option<KeptFile>> {
        let row: Option<(String, String, i64, String)> = sqlx::query_as(
            "SELECT name, kind, lines, imported_at FROM files WHERE label = $1 AND sha256 = $2",
        )
        .bind(&self.label)
        .bind(sha256)
        .fetch_optional(&self.pool)
        .await?;
        let Some((name, kind, lines, imported_at)) = row else {
            return Ok(None);
        };
        let bytes = self
            .original(sha256)
            .await?
            .ok_or_else(|| corrupt(format!("the original {sha256} has no content")))?;
        Ok(Some(KeptFile {
            sha256: sha256.to_string(),
            name,
            kind,
            lines: u64::try_from(lines).unwrap_or(0),
            imported_at,
            bytes,
        }))
    }

    async fn kept_source(&self, sha256: &str) -> Result<Option<SourceFile>> {
        let mut conn = self.pool.acquire().await?;
        let row: Option<(String, String, i64)> =
            sqlx::query_as("SELECT name, kind, lines FROM files WHERE label = $1 AND sha256 = $2")
                .bind(&self.label)
                .bind(sha256)
                .fetch_optional(&mut *conn)
                .await?;
        let Some((name, kind, lines)) = row else {
            return Ok(None);
        };
        let parts = file_parts(&mut conn, &self.label, sha256).await?;
        SourceFile::from_parts(
            sha256.to_string(),
            name,
            kind,
            u64::try_from(lines).unwrap_or(0),
            parts,
        )
        .map(Some)
    }

    async fn each_sealed<F>(&self, after_seq: i64, mut f: F) -> Result<()>
    where
        F: FnMut(Sealed) -> Result<bool> + Send,
    {
        type Row = (i64, String, String, Option<String>, String, i16);
        let mut after = after_seq;
        loop {
            let rows: Vec<Row> = sqlx::query_as(
                "SELECT seq, body, recorded_at, file_sha256, hash, chain_version FROM journal \
                 WHERE label = $1 AND seq > $2 ORDER BY seq LIMIT $3",
            )
            .bind(&self.label)
            .bind(after)
            .bind(SEALED_PAGE)
            .fetch_all(&self.pool)
            .await?;
            let n = rows.len();
            for (seq, body, recorded_at, file_sha256, hash, version) in rows {
                after = seq;
                let more = f(Sealed {
                    seq,
                    body,
                    recorded_at,
                    file_sha256,
                    hash,
                    chain_version: u8::try_from(version).unwrap_or(0),
                })?;
                if !more {
                    return Ok(());
                }
            }
            if n < usize::try_from(SEALED_PAGE).unwrap_or(usize::MAX) {
                return Ok(());
            }
        }
    }

    async fn append_recorded_at(
        &self,
        entries: Vec<Entry>,
        file: Option<SourceFile>,
        recorded_at: &str,
    ) -> Result<RecordOutcome> {
        self.append_all(entries, file, Some(recorded_at.to_string()))
            .await
    }

    async fn head(&self) -> Result<Head> {
        let (entries, hash): (i64, Option<String>) = sqlx::query_as(
            "SELECT COUNT(*), (SELECT hash FROM journal WHERE label = $1 ORDER BY seq DESC LIMIT 1) \
             FROM journal WHERE label = $1",
        )
        .bind(&self.label)
        .fetch_one(&self.pool)
        .await?;
        Ok(Head { entries, hash })
    }

    async fn each_entry<F>(&self, kinds: &[EntryKind], as_of: Option<Date>, mut f: F) -> Result<()>
    where
        F: FnMut(i64, Entry) -> Result<()> + Send,
    {
        let d = as_of_day(as_of);
        let kinds: Vec<&str> = kinds.iter().map(|k| k.as_str()).collect();
        let mut after: i64 = 0;
        loop {
            let rows: Vec<(i64, String)> = sqlx::query_as(
                "SELECT seq, body FROM journal \
                 WHERE label = $1 AND effective_day <= $2 AND known_day <= $2 AND seq > $3 \
                   AND (cardinality($4::text[]) = 0 OR kind = ANY($4)) \
                 ORDER BY seq LIMIT $5",
            )
            .bind(&self.label)
            .bind(d)
            .bind(after)
            .bind(&kinds)
            .bind(ENTRY_PAGE)
            .fetch_all(&self.pool)
            .await?;
            let n = rows.len();
            for (seq, body) in rows {
                after = seq;
                f(seq, entry_of(seq, &body)?)?;
            }
            if n < usize::try_from(ENTRY_PAGE).unwrap_or(usize::MAX) {
                return Ok(());
            }
        }
    }

    async fn entry_with_postings(
        &self,
        entry_id: &str,
    ) -> Result<Option<(i64, Entry, Vec<Posting>)>> {
        let mut conn = self.pool.acquire().await?;
        let row: Option<(i64, String)> =
            sqlx::query_as("SELECT seq, body FROM journal WHERE label = $1 AND entry_id = $2")
                .bind(&self.label)
                .bind(entry_id)
                .fetch_optional(&mut *conn)
                .await?;
        let Some((seq, body)) = row else {
            return Ok(None);
        };
        let entry = entry_of(seq, &body)?;
        let bad = || corrupt(format!("entry #{seq}: unreadable transfer"));
        // Rows of schema version 2, else the entry's blocks.
        let legacy: Vec<(i64, i64, i64, i32, Option<String>)> = sqlx::query_as(
            "SELECT debit, credit, amount, flags, pending_id FROM transfers WHERE label = $1 AND seq = $2 ORDER BY idx",
        )
        .bind(&self.label)
        .bind(seq)
        .fetch_all(&mut *conn)
        .await?;
        let mut rows: Vec<TransferRow> = Vec::with_capacity(legacy.len());
        for (debit, credit, amount, flags, pending_id) in legacy {
            rows.push(TransferRow {
                debit: u32::try_from(debit).map_err(|_| bad())?,
                credit: u32::try_from(credit).map_err(|_| bad())?,
                amount: u64::try_from(amount).map_err(|_| bad())?,
                flags: u16::try_from(flags).map_err(|_| bad())?,
                pending_id: match pending_id {
                    Some(h) => u128::from_str_radix(&h, 16).map_err(|_| bad())?,
                    None => 0,
                },
            });
        }
        if rows.is_empty() {
            let packed: Vec<(i32, i32, Vec<u8>)> = sqlx::query_as(
                "SELECT first_idx, count, data FROM transfer_blocks WHERE label = $1 AND seq = $2 ORDER BY first_idx",
            )
            .bind(&self.label)
            .bind(seq)
            .fetch_all(&mut *conn)
            .await?;
            for (first, count, data) in packed {
                if usize::try_from(first).ok() != Some(rows.len()) {
                    return Err(corrupt(format!(
                        "entry #{seq}: its transfer blocks are not consecutive at {first}"
                    )));
                }
                rows.extend(
                    decode_block(seq, first, count, &data)?
                        .into_iter()
                        .map(|t| t.row),
                );
            }
        }
        let ids: BTreeSet<i64> = rows
            .iter()
            .flat_map(|r| [i64::from(r.debit), i64::from(r.credit)])
            .collect();
        let ids: Vec<i64> = ids.into_iter().collect();
        let mut key_of: HashMap<i64, AccountKey> = HashMap::with_capacity(ids.len());
        let keys: Vec<(i64, String)> =
            sqlx::query_as("SELECT id, key FROM accounts WHERE label = $1 AND id = ANY($2)")
                .bind(&self.label)
                .bind(&ids)
                .fetch_all(&mut *conn)
                .await?;
        for (id, text) in keys {
            key_of.insert(id, parse_key(id, &text)?);
        }
        // The blocks holding the other ids: for each, the block starting at or before it.
        let packed: Vec<(i64, i32, Vec<u8>)> = sqlx::query_as(
            "SELECT first_id, count, keys FROM account_blocks WHERE label = $1 AND first_id IN ( \
               SELECT (SELECT MAX(b.first_id) FROM account_blocks b WHERE b.label = $1 AND b.first_id <= x) \
               FROM UNNEST($2::bigint[]) AS x) \
             ORDER BY first_id",
        )
        .bind(&self.label)
        .bind(&ids)
        .fetch_all(&mut *conn)
        .await?;
        for (first, count, data) in packed {
            let count = usize::try_from(count).map_err(|_| corrupt("an account block's count"))?;
            let what = format!("accounts from {first}");
            let text = blocks::account_text(&data, count, &what)?;
            for (k, key) in blocks::account_keys(&text, count, &what)?
                .into_iter()
                .enumerate()
            {
                let id = first + k as i64;
                if ids.binary_search(&id).is_ok() {
                    key_of.insert(id, parse_key(id, key)?);
                }
            }
        }
        let mut postings = Vec::with_capacity(rows.len());
        for row in rows {
            let keys = [
                key_of.get(&i64::from(row.debit)).cloned().ok_or_else(bad)?,
                key_of
                    .get(&i64::from(row.credit))
                    .cloned()
                    .ok_or_else(bad)?,
            ];
            let row = TransferRow {
                debit: 0,
                credit: 1,
                ..row
            };
            postings.push(row.posting(&keys).ok_or_else(bad)?);
        }
        Ok(Some((seq, entry, postings)))
    }

    async fn original(&self, sha256: &str) -> Result<Option<Vec<u8>>> {
        let mut conn = self.pool.acquire().await?;
        let kept: Option<i64> =
            sqlx::query_scalar("SELECT size FROM files WHERE label = $1 AND sha256 = $2")
                .bind(&self.label)
                .bind(sha256)
                .fetch_optional(&mut *conn)
                .await?;
        if kept.is_none() {
            return Ok(None);
        }
        let parts = file_parts(&mut conn, &self.label, sha256).await?;
        Ok(Some(backstock_store::decompress(&parts.concat())?))
    }
}

impl Settings for PgStore {
    async fn settings(&self) -> Result<Vec<(String, String)>> {
        let all: Vec<(String, String)> =
            sqlx::query_as("SELECT key, value FROM settings WHERE label = $1 ORDER BY key")
                .bind(&self.label)
                .fetch_all(&self.pool)
                .await?;
        // The level history's walk mark is kept here too, but is not a setting.
        Ok(all
            .into_iter()
            .filter(|(k, _)| !NOT_SETTINGS.contains(&k.as_str()))
            .collect())
    }
    async fn put_setting(&self, key: &str, value: &str) -> Result<()> {
        sqlx::query(
            "INSERT INTO settings (label, key, value) VALUES ($1, $2, $3) \
             ON CONFLICT (label, key) DO UPDATE SET value = EXCLUDED.value",
        )
        .bind(&self.label)
        .bind(key)
        .bind(value)
        .execute(&self.pool)
        .await?;
        Ok(())
    }
}

impl Beside for PgStore {
    async fn royalty_statement_counts(&self) -> Result<Vec<(String, i64)>> {
        Ok(sqlx::query_as(
            "SELECT period, COUNT(*) FROM royalty_statements WHERE label = $1 GROUP BY period ORDER BY period",
        )
        .bind(&self.label)
        .fetch_all(&self.pool)
        .await?)
    }
    async fn kept_statements(
        &self,
        period: &str,
        after: &str,
        limit: i64,
    ) -> Result<Vec<KeptStatement>> {
        let rows: Vec<(String, String, Vec<u8>)> = sqlx::query_as(
            "SELECT payee, sha256, body FROM royalty_statements \
             WHERE label = $1 AND period = $2 AND payee > $3 ORDER BY payee LIMIT $4",
        )
        .bind(&self.label)
        .bind(period)
        .bind(after)
        .bind(limit)
        .fetch_all(&self.pool)
        .await?;
        Ok(rows
            .into_iter()
            .map(|(payee, sha256, body_zstd)| KeptStatement {
                period: period.to_string(),
                payee,
                sha256,
                body_zstd,
            })
            .collect())
    }
    async fn keep_statements(&self, rows: &[KeptStatement]) -> Result<()> {
        let mut tx = self.pool.begin().await?;
        for chunk in rows.chunks(ROWS_PER_INSERT) {
            let periods: Vec<&str> = chunk.iter().map(|r| r.period.as_str()).collect();
            let payees: Vec<&str> = chunk.iter().map(|r| r.payee.as_str()).collect();
            let shas: Vec<&str> = chunk.iter().map(|r| r.sha256.as_str()).collect();
            let bodies: Vec<&[u8]> = chunk.iter().map(|r| r.body_zstd.as_slice()).collect();
            sqlx::query(
                "INSERT INTO royalty_statements (label, period, payee, sha256, body) \
                 SELECT $1, * FROM UNNEST($2::text[], $3::text[], $4::text[], $5::bytea[]) \
                 ON CONFLICT (label, period, payee) DO NOTHING",
            )
            .bind(&self.label)
            .bind(&periods)
            .bind(&payees)
            .bind(&shas)
            .bind(&bodies)
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await?;
        Ok(())
    }
    async fn alert_log(&self) -> Result<Vec<backstock_store::AlertRow>> {
        let rows = sqlx::query(
            "SELECT id, raised_at, as_of, distributor, from_level, to_level, body, delivered_at, delivery_note \
             FROM alerts WHERE label = $1 ORDER BY id",
        )
        .bind(&self.label)
        .fetch_all(&self.pool)
        .await?;
        rows.into_iter()
            .map(|r| {
                Ok(backstock_store::AlertRow {
                    id: r.try_get(0)?,
                    raised_at: r.try_get(1)?,
                    as_of: r.try_get(2)?,
                    distributor: r.try_get(3)?,
                    from_level: r.try_get(4)?,
                    to_level: r.try_get(5)?,
                    body: r.try_get(6)?,
                    delivered_at: r.try_get(7)?,
                    delivery_note: r.try_get(8)?,
                })
            })
            .collect()
    }
    async fn keep_alerts(&self, rows: &[backstock_store::AlertRow]) -> Result<()> {
        let mut tx = self.pool.begin().await?;
        for a in rows {
            sqlx::query(
                "INSERT INTO alerts (label, id, raised_at, as_of, distributor, from_level, to_level, body, delivered_at, delivery_note) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) ON CONFLICT (label, id) DO NOTHING",
            )
            .bind(&self.label)
            .bind(a.id)
            .bind(&a.raised_at)
            .bind(&a.as_of)
            .bind(&a.distributor)
            .bind(&a.from_level)
            .bind(&a.to_level)
            .bind(&a.body)
            .bind(&a.delivered_at)
            .bind(&a.delivery_note)
            .execute(&mut *tx)
            .await?;
            if a.delivered_at.is_some() || a.delivery_note.is_some() {
                sqlx::query(
                    "UPDATE alerts SET delivered_at = $3, delivery_note = $4 \
                     WHERE label = $1 AND id = $2 AND delivered_at IS NULL",
                )
                .bind(&self.label)
                .bind(a.id)
                .bind(&a.delivered_at)
                .bind(&a.delivery_note)
                .execute(&mut *tx)
                .await?;
            }
        }
        tx.commit().await?;
        Ok(())
    }
    async fn level_log_mark(&self) -> Result<Option<String>> {
        Ok(
            sqlx::query_scalar("SELECT value FROM settings WHERE label = $1 AND key = $2")
                .bind(&self.label)
                .bind(LEVEL_LOG_MARK)
                .fetch_optional(&self.pool)
                .await?,
        )
    }
    async fn set_level_log_mark(&self, mark: &str) -> Result<()> {
        self.put_setting(LEVEL_LOG_MARK, mark).await
    }
}

impl Projections for PgStore {
    async fn stock_as_of(&self, filter: &StockFilter) -> Result<Vec<StockRow>> {
        let nets = self.nets(filter.as_of).await?;
        backstock_store::projection::stock_rows(
            &mut nets
                .iter()
                .map(|(k, posted, pending)| (k, *posted, *pending)),
            filter,
        )
    }

    async fn balances_as_of(
        &self,
        as_of: Option<Date>,
        party: Option<&str>,
    ) -> Result<Vec<BalanceRow>> {
        let nets = self.nets(as_of).await?;
        backstock_store::projection::balance_rows(
            &mut nets
                .iter()
                .map(|(k, posted, pending)| (k, *posted, *pending)),
            party,
        )
    }
}
