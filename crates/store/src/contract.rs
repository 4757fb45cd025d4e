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
