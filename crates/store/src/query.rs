//! Read queries: stock, balances and the journal, as of any date.
//!
//! "As of D" sees only entries with `effective_on ≤ D` **and** `known_on ≤ D`, so a
//! past day is replayed exactly as the label knew it then.

use crate::{Result, Store, StoreError};
use backstock_domain::{Currency, Date, Money, PartyId, Sku};
use backstock_ledger::{AccountKey, Entry, EntryKind, MoneyKind, UnitState};
use serde::Serialize;
use sqlx::Row;
use std::collections::BTreeMap;

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct StockRow {
    pub owner: String,
    pub holder: String,
    pub sku: String,
    pub state: String,
    pub units: i64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct BalanceRow {
    pub party: String,
    pub counterparty: String,
    pub kind: String,
    pub currency: String,
    /// Debits − credits posted (positive for assets and expenses).
    pub balance_minor: i64,
    /// Pending debits − pending credits (e.g. scheduled reserve releases).
    pub pending_minor: i64,
}

impl BalanceRow {
    /// The balance in its natural sign (credit-normal accounts flipped) as money.
    pub fn natural(&self) -> Option<Money> {
        let cur = Currency::parse(&self.currency).ok()?;
        let kind = MoneyKind::parse(&self.kind)?;
        let v = if kind.is_debit_normal() {
            self.balance_minor
        } else {
            self.balance_minor.checked_neg()?
        };
        Some(Money::from_minor(v, cur))
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct JournalRow {
    pub seq: i64,
    pub entry_id: String,
    pub kind: String,
    pub effective_on: String,
    pub known_on: String,
    pub recorded_at: String,
    pub transfers: i64,
    pub hash: String,
}

pub(crate) fn day_str(d: i64) -> String {
    i32::try_from(d)
        .ok()
        .and_then(|d| Date::from_days_since_epoch(d).ok())
        .map(|d| d.to_string())
        .unwrap_or_else(|| "?".into())
}

const FAR_FUTURE: i64 = i32::MAX as i64;

fn as_of_day(as_of: Option<Date>) -> i64 {
    as_of
        .map(|d| i64::from(d.days_since_epoch()))
        .unwrap_or(FAR_FUTURE)
}

/// Filters for [`Store::stock`]. `None` means any.
#[derive(Debug, Clone, Default)]
pub struct StockFilter {
    pub as_of: Option<Date>,
    pub owner: Option<String>,
    pub holder: Option<String>,
    pub sku: Option<String>,
    /// Include origin (plant production counters), market and scrap accounts.
    pub all: bool,
}

/// Which accounts a listing reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Want {
    Units,
    Money,
}

impl Want {
    /// Whether an account's canonical key text may be of this sort (a text of neither
    /// known shape is parsed to be sure).
    fn may_be(self, text: &str) -> bool {
        let (mine, other) = match self {
            Want::Units => (r#"{"type":"units""#, r#"{"type":"money""#),
            Want::Money => (r#"{"type":"money""#, r#"{"type":"units""#),
        };
        text.starts_with(mine) || !text.starts_with(other)
    }

    fn is(self, key: &AccountKey) -> bool {
        matches!(
            (self, key),
            (Want::Units, AccountKey::Units(_)) | (Want::Money, AccountKey::Money(_))
        )
    }
}

/// Every `want`ed account with a balance (posted, or pending for money) and its nets
/// (debits − credits posted, pending) as of a date (all when `None`), in id order —
/// the order of the book's accounts — without building the book.
async fn nets_uncached(
    conn: &mut sqlx::SqliteConnection,
    as_of: Option<Date>,
    want: Want,
) -> Result<Vec<(AccountKey, i128, i128)>> {
    // The keys' texts first; the wanted ones are parsed on a thread of their own while
    // this one sums the transfers (as `load_book` does): on a label group's store each
    // takes a few hundred milliseconds. Keys of accounts that end at zero are parsed
    // too — less than waiting for the sums to know which.
    let blocks = crate::load_account_texts(conn).await?;
    let n = blocks.iter().map(|(_, count, _)| count).sum::<usize>();
    let parser = crate::parse_keys_beside(blocks, move |text| want.may_be(text));
    let max_day = as_of.map(|d| i64::from(d.days_since_epoch()));
    let sums = crate::sum_transfers(conn, n, max_day).await;
    let keys = parser
        .join()
        .map_err(|_| StoreError::Corrupt("reading the account keys failed".into()))??;
    let sums = sums?;
    debug_assert_eq!(keys.len(), sums.len());
    let mut out = Vec::new();
    for (key, s) in keys.into_iter().zip(&sums) {
        // A text that may be of either sort was parsed to be sure.
        let Some(key) = key.filter(|k| want.is(k)) else {
            continue;
        };
        let (posted, pending) = (s[1] - s[3], s[0] - s[2]);
        let shown = match want {
            Want::Units => posted != 0,
            Want::Money => posted != 0 || pending != 0,
        };
        if shown {
            out.push((key, posted, pending));
        }
    }
    Ok(out)
}

/// Stock as of a rising series of days in one pass over the transfers
/// ([`Store::stock_walk`]): each [`StockWalk::stock_at`] adds the transfer blocks
/// counted since the day before it (effective and known by its day) to the sums it
/// holds, so a walk over a label's month ends reads every transfer once instead of
/// once per month end.
pub struct StockWalk {
    keys: Vec<AccountKey>,
    sums: Vec<[i128; 4]>,
    /// (the day it counts from — the later of effective and known —, entry, first
    /// index) of every transfer block, in that order.
    blocks: Vec<(i64, i64, i64)>,
    next: usize,
    last_day: i64,
}

impl StockWalk {
    /// [`Store::stock`] as of `day` (its `f.as_of` is ignored). A day earlier than
    /// the last starts the walk again from the first block (right, but no faster than
    /// `stock --as-of`).
    pub async fn stock_at(
        &mut self,
        store: &Store,
        day: Date,
        f: &StockFilter,
    ) -> Result<Vec<StockRow>> {
        let d = i64::from(day.days_since_epoch());
        if d < self.last_day {
            self.sums.fill([0; 4]);
            self.next = 0;
        }
        self.last_day = d;
        let mut conn = store.pool().acquire().await?;
        while let Some(&(counted, seq, first_idx)) = self.blocks.get(self.next) {
            if counted > d {
                break;
            }
            let r = sqlx::query(
                "SELECT count, data FROM transfer_blocks WHERE seq = ? AND first_idx = ?",
            )
            .bind(seq)
            .bind(first_idx)
            .fetch_one(&mut *conn)
            .await?;
            let count = usize::try_from(r.get::<i64, _>(0)).unwrap_or(usize::MAX);
            let transfers = crate::blocks::decode_transfers(
                r.get::<&[u8], _>(1),
                count,
                &format!("entry #{seq}"),
            )?;
            crate::add_transfers(&mut self.sums, seq, &transfers)?;
            self.next += 1;
        }
        crate::projection::stock_rows(
            &mut self
                .keys
                .iter()
                .zip(&self.sums)
                .map(|(k, s)| (k, s[1] - s[3], s[0] - s[2])),
            f,
        )
    }
}

impl Store {
    /// A [`StockWalk`] over the journal as it is now (entries recorded later are not
    /// in it): every account's key and the list of transfer blocks, no transfer yet.
    pub async fn stock_walk(&self) -> Result<StockWalk> {
        let mut conn = self.pool().acquire().await?;
        let keys = crate::load_account_keys(&mut conn, |_, _, _| Ok(())).await?;
        let mut blocks: Vec<(i64, i64, i64)> = sqlx::query(
            "SELECT MAX(effective_day, known_day), seq, first_idx FROM transfer_blocks",
        )
        .fetch_all(&mut *conn)
        .await?
        .iter()
        .map(|r| (r.get(0), r.get(1), r.get(2)))
        .collect();
        blocks.sort_unstable();
        Ok(StockWalk {
            sums: vec![[0; 4]; keys.len()],
            keys,
            blocks,
            next: 0,
            last_day: i64::MIN,
        })
    }
}

/// Journal rows read per page by [`Store::for_each_entry`].
pub const ENTRY_PAGE: i64 = 4096;

/// ` AND {column} IN (kinds…)`, nothing when `kinds` is empty (every kind).
pub(crate) fn push_kinds(
    qb: &mut sqlx::QueryBuilder<'_, sqlx::Sqlite>,
    column: &str,
    kinds: &[EntryKind],
) {
    if kinds.is_empty() {
        return;
    }
    qb.push(format!(" AND {column} IN ("));
    let mut sep = qb.separated(", ");
    for k in kinds {
        sep.push_bind(k.as_str());
    }
    qb.push(")");
}

/// The rest of the query for one page of a walk over journal entries (`j`: the
/// journal's qualifier in the query, `""` or `"j."`): the page's range of sequence
/// numbers ([`Store::entry_pages`]), counted by day `d` (effective and known), of
/// `kinds` (all when empty), in order. A unary `+` keeps SQLite from reading the
/// range through the `(kind, effective_day)` index instead, and sorting. `extra`
/// (`AND …`, or empty) narrows it further.
fn push_entry_page(
    qb: &mut sqlx::QueryBuilder<'_, sqlx::Sqlite>,
    j: &str,
    page: EntryPage,
    d: i64,
    kinds: &[EntryKind],
    extra: &str,
) {
    qb.push(format!(" WHERE {j}seq >= ")).push_bind(page.first);
    qb.push(format!(" AND {j}seq <= ")).push_bind(page.last);
    qb.push(format!(" AND +{j}effective_day <= ")).push_bind(d);
    qb.push(format!(" AND {j}known_day <= ")).push_bind(d);
    push_kinds(qb, &format!("+{j}kind"), kinds);
    qb.push(format!(" {extra} ORDER BY {j}seq"));
}

/// A journal row as read, before its body is decoded.
struct RawEntry {
    seq: i64,
    /// The statement's digest, when the walk reads digests and one is kept.
    digest: Option<String>,
    body: String,
    body_zstd: Option<Vec<u8>>,
}

impl RawEntry {
    fn bytes(&self) -> usize {
        self.digest.as_ref().map_or(0, String::len)
            + self.body.len()
            + self.body_zstd.as_ref().map_or(0, Vec::len)
    }
}

/// Rows of a page decoded at most this many body bytes (compressed as stored) at a
/// time, so that what is held decoded and not yet handed on stays bounded (a
/// statement of a million lines is one group of its own).
const DECODE_GROUP_BYTES: usize = 4 << 20;
/// … and at most this many rows a group (the threads are started once a group).
const DECODE_GROUP_ROWS: usize = 1024;

/// Decode `rows` with `decode` and hand each result to `f`, in the rows' order: a
/// group of rows at a time ([`DECODE_GROUP_BYTES`], [`DECODE_GROUP_ROWS`]), split
/// between this thread and one more when the machine has two cores: decoding JSON is
/// a large part of reading a label group's journal (100,000 catalog items for every
/// `risk`; SQLite handing over their 62 MB is most of the rest, and stays on one
/// thread). The first error stops the walk and is returned.
fn decode_in_order<T: Send>(
    rows: impl Iterator<Item = RawEntry>,
    decode: impl Fn(RawEntry) -> Result<T> + Sync,
    mut f: impl FnMut(T) -> Result<()>,
) -> Result<()> {
    let two = std::thread::available_parallelism().is_ok_and(|n| n.get() >= 2);
    let mut group: Vec<RawEntry> = Vec::new();
    let mut bytes = 0usize;
    let mut flush = |group: &mut Vec<RawEntry>| -> Result<()> {
        if group.len() < 2 || !two {
            for r in group.drain(..) {
                f(decode(r)?)?;
            }
            return Ok(());
        }
        // Halves of equal bytes (rows differ in size), the later half on the thread.
        let total: usize = group.iter().map(RawEntry::bytes).sum();
        let mut at = 0usize;
        let mut split = group.len();
        for (i, r) in group.iter().enumerate() {
            if at * 2 >= total {
                split = i;
                break;
            }
            at += r.bytes();
        }
        let split = split.clamp(1, group.len() - 1);
        let later: Vec<RawEntry> = group.split_off(split);
        let earlier: Vec<RawEntry> = std::mem::take(group);
        let decode = &decode;
        let (first, second) = std::thread::scope(|scope| {
            let handle =
                scope.spawn(move || later.into_iter().map(decode).collect::<Result<Vec<T>>>());
            let first = earlier.into_iter().map(decode).collect::<Result<Vec<T>>>();
            let second = handle
                .join()
                .unwrap_or_else(|_| Err(StoreError::Corrupt("a decoding thread failed".into())));
            (first, second)
        });
        for t in first?.into_iter().chain(second?) {
            f(t)?;
        }
        Ok(())
    };
    for r in rows {
        bytes += r.bytes();
        group.push(r);
        if bytes >= DECODE_GROUP_BYTES || group.len() >= DECODE_GROUP_ROWS {
            flush(&mut group)?;
            bytes = 0;
        }
    }
    flush(&mut group)
}

/// A page of a walk over journal entries: the first and last sequence number of at
/// most [`ENTRY_PAGE`] entries that match its filter.
#[derive(Clone, Copy, Debug)]
struct EntryPage {
    first: i64,
    last: i64,
}

impl Store {
    /// Calls `f` with every account's key and its net balances as of a date: debits −
    /// credits posted, and pending. Current balances come from the cached book; a past
    /// date sums the transfer blocks of the entries effective and known by then.
    ///
    /// Without a cached book of the journal's head (a new process: the CLI), no book is
    /// built: the transfers are summed per account and only the keys of the accounts
    /// `want`ed with a balance are parsed (`stock` wants units, `balances` money; a
    /// label group's hundreds of thousands of unit accounts are not parsed for its
    /// balances, nor its money accounts for its stock).
    async fn with_nets<T>(
        &self,
        as_of: Option<Date>,
        want: Want,
        f: impl FnOnce(&mut dyn Iterator<Item = (&AccountKey, i128, i128)>) -> T,
    ) -> Result<T> {
        // The cache first, then a connection: the order `record` takes them in.
        let mut cache = self.cache.lock().await;
        let mut conn = self.pool().acquire().await?;
        let head = crate::head_seq(&mut conn).await?;
        if !crate::cache_follows(&cache, head) {
            drop(cache);
            let nets = nets_uncached(&mut conn, as_of, want).await?;
            return Ok(f(&mut nets.iter().map(|(k, p, q)| (k, *p, *q))));
        }
        // As of a day that every transfer already counts by (today, on most days),
        // the sums are the book's own balances: the 3M transfers of a label group's
        // store are not summed again (the blocks' days are read from their rows, not
        // their data).
        let as_of = match as_of {
            Some(d) => {
                let last: Option<i64> = sqlx::query_scalar(
                    "SELECT MAX(MAX(effective_day, known_day)) FROM transfer_blocks",
                )
                .fetch_one(&mut *conn)
                .await?;
                last.is_none_or(|l| l > as_of_day(Some(d))).then_some(d)
            }
            None => None,
        };
        let book = crate::fresh_book(&mut conn, &mut cache, head).await?;
        let net = |a: u128, b: u128| -> i128 {
            i128::try_from(a).unwrap_or(i128::MAX) - i128::try_from(b).unwrap_or(i128::MAX)
        };
        Ok(match as_of {
            None => f(&mut book.accounts().map(|(_, k, b)| {
                (
                    k,
                    net(b.debits_posted, b.credits_posted),
                    net(b.debits_pending, b.credits_pending),
                )
            })),
            Some(d) => {
                let n = book.engine().accounts().len();
                let sums = crate::sum_transfers(&mut conn, n, Some(as_of_day(Some(d)))).await?;
                f(&mut book
                    .accounts()
                    .zip(&sums)
                    .map(|((_, k, _), s)| (k, s[1] - s[3], s[0] - s[2])))
            }
        })
    }

    /// Units by owner × holder × SKU × state, as of a date. Zero rows are omitted.
    pub async fn stock(&self, f: &StockFilter) -> Result<Vec<StockRow>> {
        self.with_nets(f.as_of, Want::Units, |nets| {
            crate::projection::stock_rows(nets, f)
        })
        .await?
    }

    /// The units `owner` owns, by holder × SKU, as of a date: every state but
    /// `origin` (units not yet made) summed, accounts at zero left out. What
    /// [`Store::stock`] gives, filtered to one owner and summed over states, without
    /// a row of text per holding to format, sort and parse again: early warning and
    /// receivables read a label group's hundreds of thousands of holdings this way.
    pub async fn holdings_of(
        &self,
        owner: &PartyId,
        as_of: Option<Date>,
    ) -> Result<BTreeMap<(PartyId, Sku), i64>> {
        {
            // Without the book of the journal's head cached (a new process), from the
            // checkpoint of these holdings (`holdings.rs`).
            let cache = self.cache.lock().await;
            let mut conn = self.pool().acquire().await?;
            let head = crate::head_seq(&mut conn).await?;
            if !crate::cache_follows(&cache, head) {
                drop(cache);
                return crate::holdings::holdings(self, &mut conn, owner, as_of_day(as_of)).await;
            }
        }
        self.with_nets(as_of, Want::Units, |nets| {
            let mut held: BTreeMap<(PartyId, Sku), i64> = BTreeMap::new();
            for (key, posted, _) in nets {
                let AccountKey::Units(u) = key else { continue };
                if posted == 0 || u.owner() != owner || u.state() == UnitState::Origin {
                    continue;
                }
                let units = i64::try_from(posted)
                    .map_err(|_| StoreError::Corrupt(format!("units of {} overflow", u.sku())))?;
                let h = held
                    .entry((u.holder().clone(), u.sku().clone()))
                    .or_insert(0);
                *h = h
                    .checked_add(units)
                    .ok_or_else(|| StoreError::Corrupt(format!("units of {} overflow", u.sku())))?;
            }
            Ok(held)
        })
        .await?
    }

    /// Money by account as of a date; `party` matches either side.
    pub async fn balances(
        &self,
        as_of: Option<Date>,
        party: Option<&str>,
    ) -> Result<Vec<BalanceRow>> {
        self.with_nets(as_of, Want::Money, |nets| {
            crate::projection::balance_rows(nets, party)
        })
        .await?
    }

    /// Journal entries recorded, oldest first; `since` filters on effective date.
    pub async fn journal(
        &self,
        since: Option<Date>,
        kind: Option<EntryKind>,
        limit: i64,
    ) -> Result<Vec<JournalRow>> {
        let kind = kind.map(|k| k.as_str());
        let since = since
            .map(|d| i64::from(d.days_since_epoch()))
            .unwrap_or(i64::MIN);
        let rows = sqlx::query(
            "SELECT j.seq, j.entry_id, j.kind, j.effective_day, j.known_day, j.recorded_at, \
                    (SELECT COALESCE(SUM(t.count), 0) FROM transfer_blocks t WHERE t.seq = j.seq), j.hash \
             FROM journal j WHERE j.effective_day >= ? AND (? IS NULL OR j.kind = ?) ORDER BY j.seq LIMIT ?",
        )
        .bind(since)
        .bind(kind)
        .bind(kind)
        .bind(limit)
        .fetch_all(self.pool())
        .await?;
        Ok(rows
            .into_iter()
            .map(|r| JournalRow {
                seq: r.get(0),
                entry_id: r.get(1),
                kind: r.get(2),
                effective_on: day_str(r.get(3)),
                known_on: day_str(r.get(4)),
                recorded_at: r.get(5),
                transfers: r.get(6),
                hash: r.get(7),
            })
            .collect())
    }

    /// Entries of the given kinds (event names), oldest first, as known on `as_of`.
    /// Read page by page ([`Store::for_each_entry`]).
    pub async fn entries(
        &self,
        kinds: &[EntryKind],
        as_of: Option<Date>,
    ) -> Result<Vec<(i64, Entry)>> {
        let mut out = Vec::new();
        self.for_each_entry(kinds, as_of, |seq, e| {
            out.push((seq, e));
            Ok(())
        })
        .await?;
        Ok(out)
    }

    /// Calls `f` with each entry of the given kinds (event names), oldest first, as
    /// known on `as_of`, reading [`ENTRY_PAGE`] rows at a time: the journal is never
    /// read into memory whole. An error from `f` stops the walk and is returned.
    pub async fn for_each_entry(
        &self,
        kinds: &[EntryKind],
        as_of: Option<Date>,
        f: impl FnMut(i64, Entry) -> Result<()>,
    ) -> Result<()> {
        self.for_each_entry_after(kinds, as_of, 0, f).await
    }

    /// [`Store::for_each_entry`] over the entries recorded after entry #`after` only:
    /// what a caller holding the entries up to #`after` needs to bring them up to date.
    pub async fn for_each_entry_after(
        &self,
        kinds: &[EntryKind],
        as_of: Option<Date>,
        after: i64,
        mut f: impl FnMut(i64, Entry) -> Result<()>,
    ) -> Result<()> {
        let d = as_of_day(as_of);
        for page in self.entry_pages(kinds, d, after).await? {
            let rows = self.page_rows(page, d, kinds, false).await?;
            decode_in_order(
                rows.into_iter(),
                |r| {
                    let seq = r.seq;
                    let body = crate::body_of(seq, r.body, r.body_zstd)?;
                    let e: Entry = serde_json::from_str(&body).map_err(|e| {
                        StoreError::Corrupt(format!("entry #{seq} is unreadable: {e}"))
                    })?;
                    Ok((seq, e))
                },
                |(seq, e)| f(seq, e),
            )?;
        }
        Ok(())
    }

    /// The rows of one page of a walk, in order, bodies not decoded; with `digests`,
    /// each statement's digest instead of its body where one is kept.
    ///
    /// The plain (uncompressed) bodies — every catalog item, party, payment… — come
    /// back from SQLite as one text per page (`group_concat`, one line per entry: its
    /// number, a tab, its body; compact JSON has no raw line break) rather than a row
    /// each: on a label group's store, handing 100,000 catalog items over one row at a
    /// time (each row copied and passed between threads) took longer than decoding
    /// them. A page whose text does not split into exactly its count of entries, or
    /// that SQLite cannot make into one text, is read row by row.
    async fn page_rows(
        &self,
        page: EntryPage,
        d: i64,
        kinds: &[EntryKind],
        digests: bool,
    ) -> Result<Vec<RawEntry>> {
        let not_plain = if digests {
            "AND (j.body_zstd IS NOT NULL OR +j.kind = 'statement')"
        } else {
            "AND j.body_zstd IS NOT NULL"
        };
        let plain = if digests {
            "AND j.body_zstd IS NULL AND +j.kind != 'statement'"
        } else {
            "AND j.body_zstd IS NULL"
        };
        let mut qb = sqlx::QueryBuilder::new(
            "SELECT COUNT(*), group_concat(seq || char(9) || body, char(10)) FROM (SELECT j.seq, j.body FROM journal j",
        );
        push_entry_page(&mut qb, "j.", page, d, kinds, plain);
        qb.push(")");
        let joined: std::result::Result<(i64, Option<String>), sqlx::Error> =
            qb.build_query_as().fetch_one(self.pool()).await;
        let mut plain_rows: Vec<RawEntry> = Vec::new();
        let split = joined.ok().and_then(|(count, text)| {
            let text = text.unwrap_or_default();
            let mut rows = Vec::with_capacity(usize::try_from(count).ok()?);
            for line in text.split_terminator('\n') {
                let (seq, body) = line.split_once('\t')?;
                rows.push(RawEntry {
                    seq: seq.parse().ok()?,
                    digest: None,
                    body: body.to_string(),
                    body_zstd: None,
                });
            }
            (rows.len() as i64 == count).then_some(rows)
        });
        let rest = match split {
            Some(rows) => {
                plain_rows = rows;
                not_plain
            }
            None => "",
        };
        let mut qb = sqlx::QueryBuilder::new(if digests {
            "SELECT j.seq, g.body, CASE WHEN g.body IS NULL THEN j.body END, CASE WHEN g.body IS NULL THEN j.body_zstd END FROM journal j LEFT JOIN statement_digests g ON g.seq = j.seq AND j.kind = 'statement'"
        } else {
            "SELECT j.seq, NULL, j.body, j.body_zstd FROM journal j"
        });
        push_entry_page(&mut qb, "j.", page, d, kinds, rest);
        let other: Vec<RawEntry> = qb
            .build()
            .fetch_all(self.pool())
            .await?
            .into_iter()
            .map(|r| RawEntry {
                seq: r.get(0),
                digest: r.get(1),
                body: r.get::<Option<String>, _>(2).unwrap_or_default(),
                body_zstd: r.get(3),
            })
            .collect();
        if plain_rows.is_empty() {
            return Ok(other);
        }
        // Both in order of their numbers (the text's order is not promised): merged.
        plain_rows.sort_by_key(|r| r.seq);
        let mut out = Vec::with_capacity(plain_rows.len() + other.len());
        let (mut a, mut b) = (
            plain_rows.into_iter().peekable(),
            other.into_iter().peekable(),
        );
        loop {
            let take_a = match (a.peek(), b.peek()) {
                (Some(x), Some(y)) => x.seq < y.seq,
                (Some(_), None) => true,
                (None, Some(_)) => false,
                (None, None) => break,
            };
            out.extend(if take_a { a.next() } else { b.next() });
        }
        Ok(out)
    }

    /// The pages a walk over the entries after #`after` that match a filter (see
    /// [`push_entry_page`]) reads, in order. Found first, from the index alone (the
    /// kind and the effective day; the known day is left to the page's own query, so
    /// a page may hold fewer than [`ENTRY_PAGE`] entries), numbered and grouped by
    /// SQLite, so that each page is then read as a range of the primary key. A query
    /// that filtered by kind through the index and took the first [`ENTRY_PAGE`] in
    /// order made SQLite sort every matching row, bodies and all, for every page
    /// (25 pages × 62 MB of catalog items on a label group's store: 1.8 s).
    async fn entry_pages(&self, kinds: &[EntryKind], d: i64, after: i64) -> Result<Vec<EntryPage>> {
        let mut qb = sqlx::QueryBuilder::new(
            "SELECT MIN(seq), MAX(seq) FROM (SELECT seq, (ROW_NUMBER() OVER (ORDER BY seq) - 1) / ",
        );
        qb.push_bind(ENTRY_PAGE)
            .push(" AS page FROM journal WHERE seq > ")
            .push_bind(after)
            .push(" AND effective_day <= ")
            .push_bind(d);
        push_kinds(&mut qb, "kind", kinds);
        qb.push(") GROUP BY page ORDER BY page");
        let pages: Vec<(i64, i64)> = qb.build_query_as().fetch_all(self.pool()).await?;
        Ok(pages
            .into_iter()
            .map(|(first, last)| EntryPage { first, last })
            .collect())
    }

    /// [`Store::for_each_entry`] with every statement as its digest
    /// ([`Entry::statement_digest`]: summed per kind × channel, no SKUs) — for readers
    /// that need a statement's totals, not its lines (early warning, receivables, the
    /// credit check), on a store whose statements hold millions of lines. A statement
    /// without a digest row (recorded before digests were kept) is read whole and
    /// digested; its digest is then written for the next reader (a cache of derived
    /// data: if that write fails — a read-only file, a busy database — the next
    /// reader digests it again). A statement that has no digest (a sum would
    /// overflow) is given whole.
    pub async fn for_each_digested_entry(
        &self,
        kinds: &[EntryKind],
        as_of: Option<Date>,
        mut f: impl FnMut(i64, Entry) -> Result<()>,
    ) -> Result<()> {
        let d = as_of_day(as_of);
        let mut made: Vec<(i64, String)> = Vec::new();
        for page in self.entry_pages(kinds, d, 0).await? {
            let rows = self.page_rows(page, d, kinds, true).await?;
            decode_in_order(
                rows.into_iter(),
                |r| {
                    let seq = r.seq;
                    let unreadable = |e: serde_json::Error| {
                        StoreError::Corrupt(format!("entry #{seq} is unreadable: {e}"))
                    };
                    if let Some(digest) = r.digest {
                        let e: Entry = serde_json::from_str(&digest).map_err(|e| {
                            StoreError::Corrupt(format!(
                                "the digest of statement entry #{seq} is unreadable: {e}"
                            ))
                        })?;
                        return Ok((seq, e, None));
                    }
                    let body = crate::body_of(seq, r.body, r.body_zstd)?;
                    let e: Entry = serde_json::from_str(&body).map_err(unreadable)?;
                    match crate::digest_text(&e)? {
                        Some(text) => {
                            let d = serde_json::from_str(&text).map_err(unreadable)?;
                            Ok((seq, d, Some(text)))
                        }
                        None => Ok((seq, e, None)),
                    }
                },
                |(seq, e, text)| {
                    if let Some(text) = text {
                        made.push((seq, text));
                    }
                    f(seq, e)
                },
            )?;
        }
        if !made.is_empty() {
            let _ = self.keep_digests(&made).await;
        }
        Ok(())
    }

    async fn keep_digests(&self, made: &[(i64, String)]) -> Result<()> {
        let mut tx = self.pool().begin().await?;
        let rows: Vec<(i64, &str)> = made.iter().map(|(s, t)| (*s, t.as_str())).collect();
        crate::insert_digests(&mut tx, &rows).await?;
        tx.commit().await?;
        Ok(())
    }

    /// One entry by id, with its postings.
    pub async fn entry(
        &self,
        entry_id: &str,
    ) -> Result<Option<(i64, Entry, Vec<backstock_ledger::Posting>)>> {
        let row = sqlx::query("SELECT seq, body, body_zstd FROM journal WHERE entry_id = ?")
            .bind(entry_id)
            .fetch_optional(self.pool())
            .await?;
        let Some(r) = row else { return Ok(None) };
        let seq: i64 = r.get(0);
        let body = crate::body_of(seq, r.get(1), r.get(2))?;
        let e: Entry = serde_json::from_str(&body)
            .map_err(|e| StoreError::Corrupt(format!("entry #{seq}: {e}")))?;
        let rows =
            sqlx::query("SELECT count, data FROM transfer_blocks WHERE seq = ? ORDER BY first_idx")
                .bind(seq)
                .fetch_all(self.pool())
                .await?;
        let mut transfers = Vec::new();
        for r in rows {
            let count = usize::try_from(r.get::<i64, _>(0)).unwrap_or(usize::MAX);
            transfers.extend(crate::blocks::decode_transfers(
                r.get::<&[u8], _>(1),
                count,
                &format!("entry #{seq}"),
            )?);
        }
        let mut cache = self.cache.lock().await;
        let mut conn = self.pool().acquire().await?;
        let head = crate::head_seq(&mut conn).await?;
        let book = crate::fresh_book(&mut conn, &mut cache, head).await?;
        let mut postings = Vec::with_capacity(transfers.len());
        for t in transfers {
            let key = |id: u32| book.key(backstock_ledger::engine::AccountId(id)).cloned();
            let keys: Vec<AccountKey> = [key(t.row.debit), key(t.row.credit)]
                .into_iter()
                .collect::<Option<_>>()
                .ok_or_else(|| StoreError::Corrupt(format!("entry #{seq}: unknown account")))?;
            let row = crate::TransferRow {
                debit: 0,
                credit: 1,
                ..t.row
            };
            postings.push(row.posting(&keys).ok_or_else(|| {
                StoreError::Corrupt(format!("entry #{seq}: unreadable transfer"))
            })?);
        }
        Ok(Some((seq, e, postings)))
    }

    /// The recorded entries among `ids` (in no particular order; ids not recorded are
    /// left out), read 500 ids a query. An import uses it to tell rows already recorded
    /// from new ones before it records (or previews) anything.
    pub async fn entries_with_ids(&self, ids: &[&str]) -> Result<Vec<Entry>> {
        let mut out = Vec::new();
        for chunk in ids.chunks(500) {
            let mut qb = sqlx::QueryBuilder::new(
                "SELECT seq, body, body_zstd FROM journal WHERE entry_id IN (",
            );
            let mut sep = qb.separated(", ");
            for id in chunk {
                sep.push_bind(*id);
            }
            qb.push(")");
            for r in qb.build().fetch_all(self.pool()).await? {
                let seq: i64 = r.get(0);
                let body = crate::body_of(seq, r.get(1), r.get(2))?;
                out.push(serde_json::from_str(&body).map_err(|e| {
                    StoreError::Corrupt(format!("entry #{seq} is unreadable: {e}"))
                })?);
            }
        }
        Ok(out)
    }

    /// The last entry's sequence number, `None` when the journal is empty.
    pub async fn last_seq(&self) -> Result<Option<i64>> {
        Ok(sqlx::query_scalar("SELECT MAX(seq) FROM journal")
            .fetch_one(self.pool())
            .await?)
    }

    /// The first day any entry after entry #`after` of the given kinds (any when
    /// empty) counts on — the later of its effective and known dates — read from the
    /// journal's columns alone (no entry is decoded).
    pub async fn first_counted_day(&self, kinds: &[EntryKind], after: i64) -> Result<Option<Date>> {
        let mut qb = sqlx::QueryBuilder::new(
            "SELECT MIN(MAX(effective_day, known_day)) FROM journal WHERE seq > ",
        );
        qb.push_bind(after);
        push_kinds(&mut qb, "kind", kinds);
        let day: Option<i64> = qb.build_query_scalar().fetch_one(self.pool()).await?;
        day.map(|d| {
            i32::try_from(d)
                .ok()
                .and_then(|d| Date::from_days_since_epoch(d).ok())
                .ok_or_else(|| StoreError::Corrupt(format!("a journal day {d} is out of range")))
        })
        .transpose()
    }

    /// Number of journal entries.
    pub async fn entry_count(&self) -> Result<i64> {
        Ok(sqlx::query_scalar("SELECT COUNT(*) FROM journal")
            .fetch_one(self.pool())
            .await?)
    }
}

/// What an import needs to know about the catalog and agreements, read straight from
/// the journal's JSON (much cheaper than decoding 100k whole entries).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, serde::Deserialize)]
pub struct ImportLookups {
    /// (sku, upc or empty, wholesale minor units, currency)
    pub catalog: Vec<(String, Option<String>, i64, String)>,
    /// (code, sku)
    pub aliases: Vec<(String, String)>,
    /// (distributor, currency)
    pub agreements: Vec<(String, String)>,
    /// The SKUs whose catalog format (as last recorded) is a digital one
    /// (`backstock_ledger::facts::is_digital_format`): their statement lines are digital.
    /// `None` only in a snapshot kept before this field existed, which is then made again.
    #[serde(default)]
    pub digital: Option<Vec<String>>,
}

impl ImportLookups {
    /// [`ImportLookups::digital`], empty when unknown.
    pub fn digital_skus(&self) -> &[String] {
        self.digital.as_deref().unwrap_or_default()
    }
}

/// The entry a correction reverses, from its JSON.
#[derive(serde::Deserialize)]
struct CorrectionBody {
    event: CorrectionEvent,
}

#[derive(serde::Deserialize)]
struct CorrectionEvent {
    #[serde(default)]
    reverses: Option<String>,
}

/// The few fields of a catalog item's, alias's or agreement's JSON an import needs,
/// borrowed from the text (one parse per entry; SQLite's `json_extract` parsed the body
/// once per field and took most of a second for 100k catalog items).
#[derive(serde::Deserialize)]
struct LookupBody<'a> {
    #[serde(borrow)]
    event: LookupEvent<'a>,
}

#[derive(serde::Deserialize)]
struct LookupEvent<'a> {
    #[serde(borrow, default)]
    sku: Option<std::borrow::Cow<'a, str>>,
    #[serde(borrow, default)]
    upc: Option<std::borrow::Cow<'a, str>>,
    #[serde(borrow, default)]
    code: Option<std::borrow::Cow<'a, str>>,
    #[serde(borrow, default)]
    distributor: Option<std::borrow::Cow<'a, str>>,
    #[serde(borrow, default)]
    currency: Option<std::borrow::Cow<'a, str>>,
    #[serde(borrow, default)]
    wholesale_price: Option<LookupPrice<'a>>,
    #[serde(borrow, default)]
    format: Option<std::borrow::Cow<'a, str>>,
}

#[derive(serde::Deserialize)]
struct LookupPrice<'a> {
    amount_minor: i64,
    #[serde(borrow)]
    currency: std::borrow::Cow<'a, str>,
}

impl Store {
    /// What an import needs of the catalog, aliases and agreements. Kept as a derived
    /// snapshot: reading 100k catalog items' JSON out of the journal takes half a
    /// second, the snapshot a few tens of milliseconds. The snapshot says up to which
    /// entry it is built and is rebuilt when a later catalog item, alias or agreement is
    /// on file; `verify` compares it with the journal.
    pub async fn import_lookups(&self) -> Result<ImportLookups> {
        let (upto, snapshot) = self.lookups_snapshot().await?;
        if let Some(l) = snapshot {
            return Ok(l);
        }
        let lookups = self.import_lookups_from_journal().await?;
        // Derived data: if it cannot be written (a read-only database), the next import
        // reads the journal again.
        if let Ok(json) = serde_json::to_vec(&lookups) {
            if let Ok(data) = zstd::bulk::compress(&json, 3) {
                let _ = sqlx::query(
                    "INSERT OR REPLACE INTO lookups_snapshot (id, upto_seq, data) VALUES (1, ?, ?)",
                )
                .bind(upto)
                .bind(data)
                .execute(self.pool())
                .await;
            }
        }
        Ok(lookups)
    }

    /// The last catalog/alias/agreement entry, and the snapshot if it is built to it.
    pub(crate) async fn lookups_snapshot(&self) -> Result<(i64, Option<ImportLookups>)> {
        let upto: i64 = sqlx::query_scalar(
            "SELECT COALESCE(MAX(seq), 0) FROM journal WHERE kind IN ('catalog_item', 'alias', 'agreement', 'correction')",
        )
        .fetch_one(self.pool())
        .await?;
        let snapshot: Option<(i64, Vec<u8>)> =
            sqlx::query_as("SELECT upto_seq, data FROM lookups_snapshot WHERE id = 1")
                .fetch_optional(self.pool())
                .await?;
        let Some((seq, data)) = snapshot.filter(|s| s.0 == upto) else {
            return Ok((upto, None));
        };
        let bad = |e: &dyn std::fmt::Display| {
            StoreError::Corrupt(format!(
                "the import lookups snapshot (to entry #{seq}): {e}"
            ))
        };
        let json = zstd::stream::decode_all(data.as_slice()).map_err(|e| bad(&e))?;
        let lookups: ImportLookups = serde_json::from_slice(&json).map_err(|e| bad(&e))?;
        // A snapshot kept before the digital SKUs were part of it is stale, not damaged.
        Ok((upto, lookups.digital.is_some().then_some(lookups)))
    }

    /// [`Store::import_lookups`] read from the journal itself.
    pub(crate) async fn import_lookups_from_journal(&self) -> Result<ImportLookups> {
        use futures_util::TryStreamExt;
        let text =
            |v: Option<std::borrow::Cow<'_, str>>| v.map(|c| c.into_owned()).unwrap_or_default();
        // (seq, what it says), sorted by seq at the end: later entries override earlier.
        let mut catalog = Vec::new();
        let mut aliases = Vec::new();
        let mut agreements = Vec::new();
        // Entries a correction reversed say nothing any more: an alias reversed no
        // longer resolves its code, a catalog item reversed no longer names its SKU.
        let mut reversed: std::collections::HashSet<String> = Default::default();
        {
            let mut rows =
                sqlx::query("SELECT seq, body, body_zstd FROM journal WHERE kind = 'correction'")
                    .fetch(self.pool());
            while let Some(r) = rows.try_next().await? {
                let seq: i64 = r.get(0);
                let json = crate::body_of(seq, r.get(1), r.get(2))?;
                let body: CorrectionBody = serde_json::from_str(&json)
                    .map_err(|e| StoreError::Corrupt(format!("entry #{seq} is unreadable: {e}")))?;
                if let Some(id) = body.event.reverses {
                    reversed.insert(id);
                }
            }
        }
        for kind in ["catalog_item", "alias", "agreement"] {
            // Streamed through the kind index: 100k catalog items' JSON is tens of MB.
            let mut rows =
                sqlx::query("SELECT seq, body, body_zstd, entry_id FROM journal WHERE kind = ?")
                    .bind(kind)
                    .fetch(self.pool());
            while let Some(r) = rows.try_next().await? {
                let seq: i64 = r.get(0);
                if !reversed.is_empty() && reversed.contains(r.get::<&str, _>(3)) {
                    continue;
                }
                let json = crate::body_of(seq, r.get(1), r.get(2))?;
                let body: LookupBody = serde_json::from_str(&json)
                    .map_err(|e| StoreError::Corrupt(format!("entry #{seq} is unreadable: {e}")))?;
                let e = body.event;
                match kind {
                    "catalog_item" => {
                        let (minor, cur) = e
                            .wholesale_price
                            .map(|p| (p.amount_minor, p.currency.into_owned()))
                            .unwrap_or_default();
                        let digital = e
                            .format
                            .as_deref()
                            .is_some_and(backstock_ledger::facts::is_digital_format);
                        catalog.push((
                            seq,
                            (text(e.sku), e.upc.map(|u| u.into_owned()), minor, cur),
                            digital,
                        ));
                    }
                    "alias" => aliases.push((seq, (text(e.code), text(e.sku)))),
                    _ => agreements.push((seq, (text(e.distributor), text(e.currency)))),
                }
            }
        }
        fn in_order<T>(mut v: Vec<(i64, T)>) -> Vec<T> {
            v.sort_unstable_by_key(|x| x.0);
            v.into_iter().map(|x| x.1).collect()
        }
        // The last catalog entry of a SKU says its format.
        catalog.sort_unstable_by_key(|x| x.0);
        let mut digital: std::collections::BTreeMap<&str, bool> = Default::default();
        for (_, (sku, ..), d) in &catalog {
            digital.insert(sku.as_str(), *d);
        }
        let digital: Vec<String> = digital
            .into_iter()
            .filter(|(_, d)| *d)
            .map(|(s, _)| s.to_string())
            .collect();
        let catalog = catalog.into_iter().map(|(seq, c, _)| (seq, c)).collect();
        Ok(ImportLookups {
            digital: Some(digital),
            catalog: in_order(catalog),
            aliases: in_order(aliases),
            agreements: in_order(agreements),
        })
    }
}
