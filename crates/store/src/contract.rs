//! The store's contract, as traits: what every backend (SQLite today, PostgreSQL
//! next) must do, and one test suite (`tests/contract.rs`) written against the traits,
//! not against a backend.
//!
//! * [`Journal`]: the append-only, hash-chained journal — append a batch as one
//!   transaction (idempotent by entry id, all or nothing), its head, entries by kind and
//!   date read page by page, one entry with its postings, the original files kept.
//! * [`Projections`]: what the postings add up to as of a date — stock by owner ×
//!   holder × SKU × state, and money by account.
//!
//! Failure behaviour is the same for every backend: a refused or conflicting batch
//! returns [`StoreError::Refused`] / [`StoreError::Conflict`] and changes nothing; a
//! store that does not hold what was written returns [`StoreError::Corrupt`].

use crate::query::{BalanceRow, StockFilter, StockRow};
#[cfg(doc)]
use crate::StoreError;
use crate::{RecordOutcome, Result, SourceFile, Store};
use backstock_domain::Date;
use backstock_ledger::{Entry, EntryKind, Posting};
use std::future::Future;

/// The journal's head: how many entries, and the last entry's chain hash (hex).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Head {
    pub entries: i64,
    pub hash: Option<String>,
}

/// The append-only journal.
pub trait Journal {
    /// Appends `entries` (and the file they came from) as one transaction.
    fn append(
        &self,
        entries: &[Entry],
        file: Option<SourceFile>,
    ) -> impl Future<Output = Result<RecordOutcome>> + Send;
    /// The number of entries and the head hash.
    fn head(&self) -> impl Future<Output = Result<Head>> + Send;
    /// Calls `f` with each entry of the given kinds (all kinds when empty), oldest
    /// first, effective and known on `as_of` (all when `None`), a page at a time.
    fn each_entry<F>(
        &self,
        kinds: &[EntryKind],
        as_of: Option<Date>,
        f: F,
    ) -> impl Future<Output = Result<()>> + Send
    where
        F: FnMut(i64, Entry) -> Result<()> + Send;
    /// One entry by id with its postings.
    fn entry_with_postings(
        &self,
        entry_id: &str,
    ) -> impl Future<Output = Result<Option<(i64, Entry, Vec<Posting>)>>> + Send;
    /// The original bytes of a file kept by its SHA-256 (hex).
    fn original(&self, sha256: &str) -> impl Future<Output = Result<Option<Vec<u8>>>> + Send;
    /// When (and under what name) the file with this SHA-256 was imported, if it was.
    fn imported(
        &self,
        sha256: &str,
    ) -> impl Future<Output = Result<Option<(String, String)>>> + Send;
    /// A kept original with what the store recorded about it.
    fn kept_file(&self, sha256: &str) -> impl Future<Output = Result<Option<KeptFile>>> + Send;
    /// A kept original as the store keeps it (compressed parts), ready to append to
    /// another store, its bytes checked against the SHA-256 (see
    /// [`SourceFile::from_parts`]).
    fn kept_source(&self, sha256: &str) -> impl Future<Output = Result<Option<SourceFile>>> + Send;
    /// Calls `f` with every journal row after `after_seq` as stored (the body text that
    /// was hashed, when, from which original, its hash), in sequence order, a page at
    /// a time: what a verifier recomputes and a copy reproduces. `f` returns whether
    /// to go on.
    fn each_sealed<F>(&self, after_seq: i64, f: F) -> impl Future<Output = Result<()>> + Send
    where
        F: FnMut(Sealed) -> Result<bool> + Send;
    /// [`Journal::append`] with the `recorded_at` timestamp given rather than the
    /// clock's: how a copy reproduces another store's chain hash for hash.
    fn append_recorded_at(
        &self,
        entries: Vec<Entry>,
        file: Option<SourceFile>,
        recorded_at: &str,
    ) -> impl Future<Output = Result<RecordOutcome>> + Send;
}

/// What a label keeps beside its journal: its settings (name, thresholds, mappings,
/// a demo's "today"), key → value. Not history: a setting is replaced.
pub trait Settings {
    /// Every setting the label chose, by key (the store's own bookkeeping keys, such
    /// as its schema version, are not settings).
    fn settings(&self) -> impl Future<Output = Result<Vec<(String, String)>>> + Send;
    /// Sets one.
    fn put_setting(&self, key: &str, value: &str) -> impl Future<Output = Result<()>> + Send;
}

/// Keys of the SQLite `meta` table that are the store's own, or derived from data a
/// copy does not carry (the alert log): not settings.
pub const NOT_SETTINGS: &[&str] = &["schema_version", "alert_log_through"];

impl Settings for Store {
    async fn settings(&self) -> Result<Vec<(String, String)>> {
        Ok(self
            .meta_with_prefix("")
            .await?
            .into_iter()
            .filter(|(k, _)| !NOT_SETTINGS.contains(&k.as_str()))
            .collect())
    }
    async fn put_setting(&self, key: &str, value: &str) -> Result<()> {
        self.set_meta(key, value).await
    }
}

/// Journal rows read a page at a time by [`Journal::each_sealed`]: bodies can be
/// megabytes (a statement of 100k lines), so pages are small.
pub const SEALED_PAGE: i64 = 64;

/// One journal row as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sealed {
    pub seq: i64,
    /// The entry's canonical JSON, exactly as hashed.
    pub body: String,
    pub recorded_at: String,
    pub file_sha256: Option<String>,
    /// Hex chain hash.
    pub hash: String,
    pub chain_version: u8,
}

/// A kept original and what the store recorded about it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeptFile {
    pub sha256: String,
    pub name: String,
    pub kind: String,
    pub lines: u64,
    pub imported_at: String,
    pub bytes: Vec<u8>,
}

/// Balances the postings add up to, as of a date.
pub trait Projections {
    fn stock_as_of(
        &self,
        filter: &StockFilter,
    ) -> impl Future<Output = Result<Vec<StockRow>>> + Send;
    fn balances_as_of(
        &self,
        as_of: Option<Date>,
        party: Option<&str>,
    ) -> impl Future<Output = Result<Vec<BalanceRow>>> + Send;
}

impl Journal for Store {
    async fn append(&self, entries: &[Entry], file: Option<SourceFile>) -> Result<RecordOutcome> {
        self.record(entries, file).await
    }
    async fn head(&self) -> Result<Head> {
        let entries = self.entry_count().await?;
        let hash: Option<String> =
            sqlx::query_scalar("SELECT hash FROM journal ORDER BY seq DESC LIMIT 1")
                .fetch_optional(self.pool())
                .await?;
        Ok(Head { entries, hash })
    }
    async fn each_entry<F>(&self, kinds: &[EntryKind], as_of: Option<Date>, f: F) -> Result<()>
    where
        F: FnMut(i64, Entry) -> Result<()> + Send,
    {
        self.for_each_entry(kinds, as_of, f).await
    }
    async fn entry_with_postings(
        &self,
        entry_id: &str,
    ) -> Result<Option<(i64, Entry, Vec<Posting>)>> {
        self.entry(entry_id).await
    }
    async fn original(&self, sha256: &str) -> Result<Option<Vec<u8>>> {
        self.file_bytes(sha256).await
    }
    async fn imported(&self, sha256: &str) -> Result<Option<(String, String)>> {
        self.file_imported(sha256).await
    }
    async fn kept_file(&self, sha256: &str) -> Result<Option<KeptFile>> {
        let row: Option<(String, String, i64, String)> =
            sqlx::query_as("SELECT name, kind, lines, imported_at FROM files WHERE sha256 = ?")
                .bind(sha256)
                .fetch_optional(self.pool())
                .await?;
        let Some((name, kind, lines, imported_at)) = row else {
            return Ok(None);
        };
        let bytes = self.file_bytes(sha256).await?.ok_or_else(|| {
            crate::StoreError::Corrupt(format!("the original {sha256} has no content"))
        })?;
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
        self.file_source(sha256).await
    }
    async fn each_sealed<F>(&self, after_seq: i64, mut f: F) -> Result<()>
    where
        F: FnMut(Sealed) -> Result<bool> + Send,
    {
        type Row = (
            i64,
            String,
            Option<Vec<u8>>,
            String,
            Option<String>,
            String,
            i64,
        );
        let mut after = after_seq;
        loop {
            let rows: Vec<Row> = sqlx::query_as(
                "SELECT seq, body, body_zstd, recorded_at, file_sha256, hash, chain_version \
                 FROM journal WHERE seq > ? ORDER BY seq LIMIT ?",
            )
            .bind(after)
            .bind(SEALED_PAGE)
            .fetch_all(self.pool())
            .await?;
            let n = rows.len();
            for (seq, body, zstd, recorded_at, file_sha256, hash, version) in rows {
                after = seq;
                let more = f(Sealed {
                    seq,
                    body: crate::body_of(seq, body, zstd)?,
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
        self.record_all_at(entries, file, recorded_at).await
    }
}

impl Projections for Store {
    async fn stock_as_of(&self, filter: &StockFilter) -> Result<Vec<StockRow>> {
        self.stock(filter).await
    }
    async fn balances_as_of(
        &self,
        as_of: Option<Date>,
        party: Option<&str>,
    ) -> Result<Vec<BalanceRow>> {
        self.balances(as_of, party).await
    }
}

/// A royalty run's statement of one payee as a store keeps it (its JSON as one zstd
/// frame, and that JSON's SHA-256, which the run's hashed entry lists): moved between
/// stores as it is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeptStatement {
    pub period: String,
    pub payee: String,
    pub sha256: String,
    pub body_zstd: Vec<u8>,
}

/// What a label keeps beside its journal that the journal cannot give back: the
/// statements of its royalty runs (the run's entry holds only their hashes), its alert
/// log (when each distributor's level rose, and whether the webhook was told) and how
/// far the level history has been walked. [`crate::copy::copy_beside`] moves them with
/// the label between any two stores.
pub trait Beside {
    /// Each period with stored royalty statements, and how many.
    fn royalty_statement_counts(&self) -> impl Future<Output = Result<Vec<(String, i64)>>> + Send;
    /// Up to `limit` statements of `period` after payee `after`, in payee order.
    fn kept_statements(
        &self,
        period: &str,
        after: &str,
        limit: i64,
    ) -> impl Future<Output = Result<Vec<KeptStatement>>> + Send;
    /// Keeps `rows` (one transaction); a statement already kept for its period and
    /// payee is left as it is.
    fn keep_statements(&self, rows: &[KeptStatement]) -> impl Future<Output = Result<()>> + Send;
    /// The alert log, oldest first.
    fn alert_log(&self) -> impl Future<Output = Result<Vec<crate::AlertRow>>> + Send;
    /// Keeps alerts under their ids (one transaction): an id already kept is left as
    /// it is, except that a delivery not yet recorded there is.
    fn keep_alerts(&self, rows: &[crate::AlertRow]) -> impl Future<Output = Result<()>> + Send;
    /// How far the level history was walked (`"DATE SEQ"`), if it was.
    fn level_log_mark(&self) -> impl Future<Output = Result<Option<String>>> + Send;
    fn set_level_log_mark(&self, mark: &str) -> impl Future<Output = Result<()>> + Send;
}

/// Where the level history's walk mark is kept (a key of the SQLite `meta` table and
/// of PostgreSQL's `settings`, never copied as a setting).
pub const LEVEL_LOG_MARK: &str = "alert_log_through";

impl Beside for Store {
    async fn royalty_statement_counts(&self) -> Result<Vec<(String, i64)>> {
        Ok(sqlx::query_as(
            "SELECT period, COUNT(*) FROM royalty_statements GROUP BY period ORDER BY period",
        )
        .fetch_all(self.pool())
        .await?)
    }
    async fn kept_statements(
        &self,
        period: &str,
        after: &str,
        limit: i64,
    ) -> Result<Vec<KeptStatement>> {
        let rows: Vec<(String, String, Vec<u8>)> = sqlx::query_as(
            "SELECT payee, sha256, body FROM royalty_statements WHERE period = ? AND payee > ? ORDER BY payee LIMIT ?",
        )
        .bind(period)
        .bind(after)
        .bind(limit)
        .fetch_all(self.pool())
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
        let mut tx = self.pool().begin().await?;
        for r in rows {
            sqlx::query(
                "INSERT OR IGNORE INTO royalty_statements(period, payee, sha256, body) VALUES (?, ?, ?, ?)",
            )
            .bind(&r.period)
            .bind(&r.payee)
            .bind(&r.sha256)
            .bind(r.body_zstd.as_slice())
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await?;
        Ok(())
    }
    async fn alert_log(&self) -> Result<Vec<crate::AlertRow>> {
        self.alerts().await
    }
    async fn keep_alerts(&self, rows: &[crate::AlertRow]) -> Result<()> {
        let mut tx = self.pool().begin().await?;
        for a in rows {
            sqlx::query(
                "INSERT OR IGNORE INTO alerts (id, raised_at, as_of, distributor, from_level, to_level, body, delivered_at, delivery_note) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            )
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
                    "UPDATE alerts SET delivered_at = ?, delivery_note = ? WHERE id = ? AND delivered_at IS NULL",
                )
                .bind(&a.delivered_at)
                .bind(&a.delivery_note)
                .bind(a.id)
                .execute(&mut *tx)
                .await?;
            }
        }
        tx.commit().await?;
        Ok(())
    }
    async fn level_log_mark(&self) -> Result<Option<String>> {
        self.meta(LEVEL_LOG_MARK).await
    }
    async fn set_level_log_mark(&self, mark: &str) -> Result<()> {
        self.set_meta(LEVEL_LOG_MARK, mark).await
    }
}
