//! The store in PostgreSQL: the store contract ([`backstock_store::contract`]) for many
//! labels on one server, with the guarantees of the SQLite store.
//!
//! * One [`Journal::append`] is one transaction. It first locks the label's row of
//!   `chain_heads` (`SELECT … FOR UPDATE`), so writers of one label append one after
//!   the other — from any number of processes — and the hash chain stays exact; writers
//!   of different labels do not wait for each other.
//! * Entries are expanded into postings by the ledger's [`Book`], hashed with
//!   [`chain::entry_hash_v2`] over [`canonical_postings`]: the same code as the SQLite
//!   store, so an entry has the same postings and hash on both.
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
use backstock_store::contract::{
    Head, Journal, KeptFile, Projections, Sealed, Settings, SEALED_PAGE,
};
use backstock_store::query::{BalanceRow, StockFilter, StockRow, ENTRY_PAGE};
use backstock_store::{RecordOutcome, Result, SourceFile, StoreError};
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::{Connection, PgConnection, PgPool, Postgres, Row, Transaction};
use std::collections::{BTreeSet, HashMap};
use std::str::FromStr;

const MIGRATIONS: &[(i32, &str)] = &[
    (1, include_str!("../migrations/0001_store.sql")),
    (2, include_str!("../migrations/0002_settings.sql")),
];

/// The role every query runs as: subject to row-level security, SELECT and INSERT only
/// on history.
pub const APP_ROLE: &str = "backstock_app";

/// Serializes migrations of one database (any constant shared by every process).
const MIGRATION_LOCK: i64 = 0x6261_636b_7374_6f63; // "backstoc"

/// Rows per multi-row INSERT (each column is bound as one array).
const ROWS_PER_INSERT: usize = 10_000;

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
        entries: &[Entry],
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

/// Every account's key, by id (ids are dense from 0).
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
        keys.push(
            serde_json::from_str(text)
                .map_err(|e| corrupt(format!("account {id} has an unreadable key: {e}")))?,
        );
    }
    Ok(keys)
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
    Ok(sums)
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
    let rows = sqlx::query(
        "SELECT o.id, o.debit, o.credit, o.amount FROM transfers o \
         WHERE o.label = $1 AND o.id IS NOT NULL \
           AND NOT EXISTS (SELECT 1 FROM transfers e WHERE e.label = o.label AND e.pending_id = o.id) \
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
    a_id: Vec<i64>,
    a_key: Vec<String>,
    a_seq: Vec<i64>,
    t_seq: Vec<i64>,
    t_idx: Vec<i32>,
    t_debit: Vec<i64>,
    t_credit: Vec<i64>,
    t_amount: Vec<i64>,
    t_flags: Vec<i32>,
    t_id: Vec<Option<String>>,
    t_pending_id: Vec<Option<String>>,
    t_posted: Vec<i64>,
    t_pending: Vec<i64>,
    t_effective: Vec<i64>,
    t_known: Vec<i64>,
}

async fn append_in_tx(
    tx: &mut Transaction<'static, Postgres>,
    label: &str,
    cache: &mut Option<Cached>,
    entries: &[Entry],
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
    let mut prev = backstock_store::parse_hash(&head_hash)?;
    let book = fresh_book(conn, label, cache, head_seq).await?;
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

    let accounts_before = book.engine().accounts().len();
    let mut seq = head_seq;
    let mut rows = Rows::default();
    let (mut unchanged, mut n_transfers) = (0usize, 0usize);
    let mut seen_ids: BTreeSet<&str> = BTreeSet::new();
    for entry in entries {
        let body = serde_json::to_string(entry).map_err(|e| corrupt(e.to_string()))?;
        if let Some(old) = existing.get(entry.id.as_str()) {
            if *old == body {
                unchanged += 1;
                continue;
            }
            return Err(StoreError::Conflict {
                entry_id: entry.id.to_string(),
            });
        }
        if !seen_ids.insert(entry.id.as_str()) {
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
                .ok_or_else(|| corrupt(format!("account {} missing", id.0)))?;
            new_accounts.push((id.0, key.canonical_json()));
        }
        let (eday, kday) = (day(entry.effective_on), day(entry.known_on));
        let mut hashed = Vec::with_capacity(rec.transfers.len());
        for (idx, t) in rec.transfers.iter().enumerate() {
            let fx = effect(t, book.engine()).ok_or_else(|| corrupt("posted pending vanished"))?;
            let row = TransferRow::of(t);
            rows.t_seq.push(seq);
            rows.t_idx.push(
                i32::try_from(idx)
                    .map_err(|_| invalid("an entry has too many transfers".into()))?,
            );
            rows.t_debit.push(i64::from(row.debit));
            rows.t_credit.push(i64::from(row.credit));
            rows.t_amount.push(
                i64::try_from(row.amount)
                    .map_err(|_| invalid(format!("entry {}: an amount is too large", entry.id)))?,
            );
            rows.t_flags.push(i32::from(row.flags));
            rows.t_id.push(
                t.flags
                    .contains(TransferFlags::PENDING)
                    .then(|| tid_hex(t.id)),
            );
            rows.t_pending_id
                .push((row.pending_id != 0).then(|| tid_hex(TransferId(row.pending_id))));
            rows.t_posted.push(fx.posted_delta);
            rows.t_pending.push(fx.pending_delta);
            rows.t_effective.push(eday);
            rows.t_known.push(kday);
            hashed.push(row);
        }
        let postings = canonical_postings(&new_accounts, hashed.iter());
        let hash = chain::entry_hash_v2(
            &prev,
            u64::try_from(seq).map_err(|_| corrupt("sequence"))?,
            &body,
            &postings,
            &recorded_at,
            file_sha.as_deref(),
        );
        prev = hash;
        n_transfers += hashed.len();
        for (id, key) in new_accounts {
            rows.a_id.push(i64::from(id));
            rows.a_key.push(key);
            rows.a_seq.push(seq);
        }
        rows.j_seq.push(seq);
        rows.j_entry_id.push(entry.id.to_string());
        rows.j_kind.push(entry.event.name());
        rows.j_effective.push(eday);
        rows.j_known.push(kday);
        rows.j_body.push(body);
        rows.j_hash.push(chain::to_hex(&hash));
    }
    if rows.a_id.len() != book.engine().accounts().len() - accounts_before {
        return Err(corrupt("new accounts out of step"));
    }
    // Invariant, checked before anything commits: Σ debits = Σ credits on every ledger.
    if !book.is_balanced() {
        return Err(corrupt(
            "the books would not balance after this batch (debits ≠ credits on a ledger); nothing was recorded",
        ));
    }
    let recorded = rows.j_seq.len();
    phase("entries expanded and hashed");
    write_rows(conn, label, &rows, file_sha.as_deref(), &recorded_at).await?;
    phase("rows written");
    if recorded > 0 {
        sqlx::query("UPDATE chain_heads SET seq = $2, hash = $3 WHERE label = $1")
            .bind(label)
            .bind(seq)
            .bind(chain::to_hex(&prev))
            .execute(&mut *conn)
            .await?;
    }
    if let Some(c) = cache.as_mut() {
        c.head_seq = seq;
    }
    Ok(RecordOutcome::Recorded {
        recorded,
        unchanged,
        transfers: n_transfers,
    })
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
    for (i, ids) in r.a_id.chunks(n).enumerate() {
        let s = i * n..i * n + ids.len();
        sqlx::query(
            "INSERT INTO accounts (label, id, key, created_seq) \
             SELECT $1, id, key, seq FROM UNNEST($2::bigint[], $3::text[], $4::bigint[]) AS t(id, key, seq)",
        )
        .bind(label)
        .bind(ids)
        .bind(&r.a_key[s.clone()])
        .bind(&r.a_seq[s])
        .execute(&mut *conn)
        .await?;
    }
    for (i, seqs) in r.t_seq.chunks(n).enumerate() {
        let s = i * n..i * n + seqs.len();
        sqlx::query(
            "INSERT INTO transfers (label, seq, idx, debit, credit, amount, flags, id, pending_id, posted_delta, pending_delta, effective_day, known_day) \
             SELECT $1, * FROM UNNEST($2::bigint[], $3::integer[], $4::bigint[], $5::bigint[], $6::bigint[], $7::integer[], \
                                      $8::text[], $9::text[], $10::bigint[], $11::bigint[], $12::bigint[], $13::bigint[])",
        )
        .bind(label)
        .bind(seqs)
        .bind(&r.t_idx[s.clone()])
        .bind(&r.t_debit[s.clone()])
        .bind(&r.t_credit[s.clone()])
        .bind(&r.t_amount[s.clone()])
        .bind(&r.t_flags[s.clone()])
        .bind(&r.t_id[s.clone()])
        .bind(&r.t_pending_id[s.clone()])
        .bind(&r.t_posted[s.clone()])
        .bind(&r.t_pending[s.clone()])
        .bind(&r.t_effective[s.clone()])
        .bind(&r.t_known[s])
        .execute(&mut *conn)
        .await?;
    }
    Ok(())
}

fn entry_of(seq: i64, body: &str) -> Result<Entry> {
    serde_json::from_str(body).map_err(|e| corrupt(format!("entry #{seq} is unreadable: {e}")))
}

impl Journal for PgStore {
    async fn append(&self, entries: &[Entry], file: Option<SourceFile>) -> Result<RecordOutcome> {
        self.append_all(entries, file, None).await
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
        self.append_all(&entries, file, Some(recorded_at.to_string()))
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
        let rows: Vec<(i64, i64, i64, i32, Option<String>)> = sqlx::query_as(
            "SELECT debit, credit, amount, flags, pending_id FROM transfers WHERE label = $1 AND seq = $2 ORDER BY idx",
        )
        .bind(&self.label)
        .bind(seq)
        .fetch_all(&mut *conn)
        .await?;
        let ids: Vec<i64> = rows.iter().flat_map(|r| [r.0, r.1]).collect();
        let keys: Vec<(i64, String)> =
            sqlx::query_as("SELECT id, key FROM accounts WHERE label = $1 AND id = ANY($2)")
                .bind(&self.label)
                .bind(&ids)
                .fetch_all(&mut *conn)
                .await?;
        let mut key_of: HashMap<i64, AccountKey> = HashMap::with_capacity(keys.len());
        for (id, text) in keys {
            let key = serde_json::from_str(&text)
                .map_err(|e| corrupt(format!("account {id} has an unreadable key: {e}")))?;
            key_of.insert(id, key);
        }
        let bad = || corrupt(format!("entry #{seq}: unreadable transfer"));
        let mut postings = Vec::with_capacity(rows.len());
        for (debit, credit, amount, flags, pending_id) in rows {
            let keys = [
                key_of.get(&debit).cloned().ok_or_else(bad)?,
                key_of.get(&credit).cloned().ok_or_else(bad)?,
            ];
            let pending_id = match pending_id {
                Some(h) => u128::from_str_radix(&h, 16).map_err(|_| bad())?,
                None => 0,
            };
            let row = TransferRow {
                debit: 0,
                credit: 1,
                amount: u64::try_from(amount).map_err(|_| bad())?,
                flags: u16::try_from(flags).map_err(|_| bad())?,
                pending_id,
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
        let parts: Vec<Vec<u8>> = sqlx::query_scalar(
            "SELECT content FROM file_parts WHERE label = $1 AND sha256 = $2 ORDER BY part",
        )
        .bind(&self.label)
        .bind(sha256)
        .fetch_all(&mut *conn)
        .await?;
        Ok(Some(backstock_store::decompress(&parts.concat())?))
    }
}

impl Settings for PgStore {
    async fn settings(&self) -> Result<Vec<(String, String)>> {
        Ok(
            sqlx::query_as("SELECT key, value FROM settings WHERE label = $1 ORDER BY key")
                .bind(&self.label)
                .fetch_all(&self.pool)
                .await?,
        )
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
