//! Moving a label between stores, and checking a store by replaying it: both written
//! against the contract ([`Journal`]), so they work between any two backends (SQLite
//! data directory ↔ PostgreSQL) and on either.
//!
//! * [`copy_journal`] appends the source's entries to the destination batch by batch
//!   (one batch per original file, or per moment of recording), stamped with the
//!   source's `recorded_at`, with the same original: the destination computes the
//!   same postings and the same chain hash for every entry, and the copy checks that
//!   it did after every batch. An interrupted copy goes on where it stopped; a
//!   destination holding anything else is refused, and nothing is changed.
//! * [`replay`] recomputes every entry's postings and chain hash from nothing but the
//!   stored bodies, and every original's SHA-256: `verify --full` for any backend.

use crate::contract::{Beside, Head, Journal, Projections, Sealed, Settings};
use crate::query::StockFilter;
use crate::{Result, StoreError};
use backstock_domain::Date;
use backstock_ledger::canonical::{canonical_postings, TransferRow};
use backstock_ledger::{chain, Book, Entry};
use sha2::{Digest, Sha256};
use std::collections::BTreeSet;

/// What a copy did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CopyReport {
    /// Entries the destination held before (a resumed copy), and copied now.
    pub already: i64,
    pub copied: i64,
    /// Originals copied with their entries.
    pub files: usize,
    /// Settings copied (name, thresholds, mappings, …).
    pub settings: usize,
    /// The destination's head after the copy: the source's.
    pub head: Head,
}

fn corrupt(msg: String) -> StoreError {
    StoreError::Corrupt(msg)
}

fn refused(msg: String) -> StoreError {
    StoreError::Io(std::io::Error::new(std::io::ErrorKind::InvalidInput, msg))
}

/// The source's row `seq` (1-based), if it has one.
async fn sealed_at<S: Journal + Sync>(src: &S, seq: i64) -> Result<Option<Sealed>> {
    let mut found = None;
    src.each_sealed(seq - 1, |row| {
        found = Some(row);
        Ok(false)
    })
    .await?;
    Ok(found.filter(|r| r.seq == seq))
}

/// Copies `src`'s journal (entries, postings, originals, hashes) to `dst`.
///
/// `dst` must be empty or hold a prefix of `src` (an earlier, interrupted copy: same
/// entry count ⇒ same head hash); anything else is refused before anything is written.
/// Entries of chain version 1 (recorded before `recorded_at` was hashed) cannot be
/// reproduced hash for hash and are refused too.
pub async fn copy_journal<S, D>(src: &S, dst: &D) -> Result<CopyReport>
where
    S: Journal + Settings + Sync,
    D: Journal + Settings + Sync,
{
    let from = src.head().await?;
    let to = dst.head().await?;
    if to.entries > from.entries {
        return Err(refused(format!(
            "the destination already holds {} entries, more than the {} of the source: copy into an empty store",
            to.entries, from.entries
        )));
    }
    if to.entries > 0 {
        let at = sealed_at(src, to.entries).await?;
        if at.as_ref().map(|r| &r.hash) != to.hash.as_ref() {
            return Err(refused(format!(
                "the destination holds {} entries that are not the source's first {} (head {}): copy into an empty store",
                to.entries,
                to.entries,
                to.hash.as_deref().unwrap_or("-")
            )));
        }
    }
    let already = to.entries;
    let mut after = already;
    let mut files = 0usize;
    loop {
        // One batch: consecutive rows recorded at one moment from one original.
        let mut batch: Vec<Sealed> = Vec::new();
        // The copy is of the source as its head was at the start: entries appended to
        // it meanwhile (another writer) are left for a later copy.
        src.each_sealed(after, |row| {
            let same = row.seq <= from.entries
                && batch.first().is_none_or(|b| {
                    b.recorded_at == row.recorded_at && b.file_sha256 == row.file_sha256
                });
            if same {
                batch.push(row);
            }
            Ok(same)
        })
        .await?;
        let (Some(first), Some(last)) = (batch.first(), batch.last()) else {
            break;
        };
        if let Some(old) = batch.iter().find(|r| r.chain_version != 2) {
            return Err(refused(format!(
                "entry #{} was recorded under chain version {}, before the time of recording was hashed: it cannot be copied hash for hash (the source's own `verify` still checks it)",
                old.seq, old.chain_version
            )));
        }
        let recorded_at = first.recorded_at.clone();
        let file = match &first.file_sha256 {
            None => None,
            Some(sha) => {
                // Moved as stored (compressed parts), its bytes checked on the way.
                let kept = src.kept_source(sha).await?.ok_or_else(|| {
                    corrupt(format!(
                        "entry #{} came from the original {sha}, which the source does not keep",
                        first.seq
                    ))
                })?;
                files += 1;
                Some(kept)
            }
        };
        let (last_seq, last_hash) = (last.seq, last.hash.clone());
        let mut entries = Vec::with_capacity(batch.len());
        for row in batch {
            let entry: Entry = serde_json::from_str(&row.body)
                .map_err(|e| corrupt(format!("entry #{} is unreadable: {e}", row.seq)))?;
            entries.push(entry);
        }
        dst.append_recorded_at(entries, file, &recorded_at).await?;
        let head = dst.head().await?;
        if head.entries != last_seq || head.hash.as_deref() != Some(last_hash.as_str()) {
            return Err(corrupt(format!(
                "the copy of entries up to #{last_seq} gave head #{} {} where the source has {last_hash}: the copy stops here (the destination keeps what it verified before)",
                head.entries,
                head.hash.as_deref().unwrap_or("-")
            )));
        }
        after = last_seq;
    }
    // Settings last: a copy that stopped midway is resumed, and they are set again.
    let settings = src.settings().await?;
    for (k, v) in &settings {
        dst.put_setting(k, v).await?;
    }
    let head = dst.head().await?;
    if head != from {
        return Err(corrupt(format!(
            "after the copy the destination's head is #{} {} and the source's #{} {}",
            head.entries,
            head.hash.as_deref().unwrap_or("-"),
            from.entries,
            from.hash.as_deref().unwrap_or("-")
        )));
    }
    Ok(CopyReport {
        already,
        copied: head.entries - already,
        files,
        settings: settings.len(),
        head,
    })
}

/// What [`copy_beside`] moved.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct BesideReport {
    /// Royalty statements copied (of runs the source's journal records).
    pub statements: usize,
    /// Alerts copied, or whose webhook delivery was recorded.
    pub alerts: usize,
}

/// Statements moved per transaction (each is one zstd frame of a few KB).
const STATEMENTS_PER_BATCH: i64 = 500;

/// Copies what `src` keeps beside its journal ([`Beside`]) to `dst`, after
/// [`copy_journal`]: the statements of every royalty run the source's journal records
/// (a period's statements are copied only when its run entry is there: rows an
/// unrecorded attempt left are not records), its alert log (under the same ids, with
/// each webhook delivery) and the level history's walk mark (the later of the two).
/// Run again, it copies only what `dst` lacks.
///
/// An alert id that `dst` holds with other contents (two stores raised different
/// alerts since they last agreed) is refused ([`StoreError::Io`], `InvalidInput`);
/// nothing of the alert log is changed then.
pub async fn copy_beside<S, D>(src: &S, dst: &D) -> Result<BesideReport>
where
    S: Journal + Beside + Sync,
    D: Beside + Sync,
{
    let mut report = BesideReport::default();
    // Royalty statements: the periods where the destination has fewer.
    let theirs: std::collections::HashMap<String, i64> =
        dst.royalty_statement_counts().await?.into_iter().collect();
    for (period, n) in src.royalty_statement_counts().await? {
        if theirs.get(&period).copied().unwrap_or(0) >= n {
            continue;
        }
        if src
            .entry_with_postings(&format!("royalty-run:{period}"))
            .await?
            .is_none()
        {
            continue;
        }
        let mut after = String::new();
        loop {
            let rows = src
                .kept_statements(&period, &after, STATEMENTS_PER_BATCH)
                .await?;
            let Some(last) = rows.last() else { break };
            after.clone_from(&last.payee);
            dst.keep_statements(&rows).await?;
            report.statements += rows.len();
            if rows.len() < usize::try_from(STATEMENTS_PER_BATCH).unwrap_or(usize::MAX) {
                break;
            }
        }
    }
    // The alert log: same ids, same contents.
    let (ours, theirs) = (src.alert_log().await?, dst.alert_log().await?);
    let theirs: std::collections::HashMap<i64, &crate::AlertRow> =
        theirs.iter().map(|a| (a.id, a)).collect();
    let mut moved = Vec::new();
    for a in &ours {
        match theirs.get(&a.id) {
            None => moved.push(a.clone()),
            Some(b) => {
                let same = a.raised_at == b.raised_at
                    && a.as_of == b.as_of
                    && a.distributor == b.distributor
                    && a.from_level == b.from_level
                    && a.to_level == b.to_level
                    && a.body == b.body;
                if !same {
                    return Err(refused(format!(
                        "alert {} is not the same in both stores (raised {} for {} and {} for {}): another process raised alerts meanwhile",
                        a.id, a.raised_at, a.distributor, b.raised_at, b.distributor
                    )));
                }
                let told = b.delivered_at.is_none()
                    && (a.delivered_at.is_some()
                        || (a.delivery_note.is_some() && a.delivery_note != b.delivery_note));
                if told {
                    moved.push(a.clone());
                }
            }
        }
    }
    if !moved.is_empty() {
        dst.keep_alerts(&moved).await?;
        report.alerts = moved.len();
    }
    // The walk mark: "DATE SEQ", the later one.
    if let Some(mark) = src.level_log_mark().await? {
        let key = |m: &str| {
            let (d, q) = m.split_once(' ').unwrap_or((m, "0"));
            (d.to_string(), q.parse::<i64>().unwrap_or(0))
        };
        let later = match dst.level_log_mark().await? {
            None => true,
            Some(theirs) => key(&mark) > key(&theirs),
        };
        if later {
            dst.set_level_log_mark(&mark).await?;
        }
    }
    Ok(report)
}

/// What a replay found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReplayReport {
    pub entries: i64,
    pub files: usize,
    pub head: Option<String>,
    /// The dates (and "now") at which the store's stock and balances were compared
    /// with the replayed journal's.
    pub projections_checked: Vec<Option<Date>>,
}

/// Per account (dense ids), debits − credits posted and pending, of the transfers
/// effective and known on a date.
#[derive(Default)]
struct NetsAsOf {
    day: i64,
    posted: Vec<i128>,
    pending: Vec<i128>,
}

impl NetsAsOf {
    fn add(&mut self, debit: usize, credit: usize, posted: i64, pending: i64) {
        let need = debit.max(credit) + 1;
        if self.posted.len() < need {
            self.posted.resize(need, 0);
            self.pending.resize(need, 0);
        }
        self.posted[debit] += i128::from(posted);
        self.posted[credit] -= i128::from(posted);
        self.pending[debit] += i128::from(pending);
        self.pending[credit] -= i128::from(pending);
    }
}

/// Each year end the journal spans, at most this many (the most recent): the as-of
/// dates at which a replay compares the store's projections with the journal's.
const YEAR_ENDS_CHECKED: usize = 8;

/// Recomputes every entry's postings (a fresh book replaying the bodies in order) and
/// chain hash, and every kept original's SHA-256, against what the store holds; then
/// compares the store's stock and balances — now and at each year end the journal
/// spans — with what the replayed entries add up to (a posting row added, changed or
/// lost beside the journal shows there). The first difference is an error naming the
/// entry, file or date.
pub async fn replay<S: Journal + Projections + Sync>(src: &S) -> Result<ReplayReport> {
    let mut book = Book::new();
    let mut prev = chain::GENESIS;
    let mut expected_seq = 0i64;
    let mut shas: BTreeSet<String> = BTreeSet::new();
    // Year ends seen so far (by effective day), each with its nets.
    let mut last_day = i64::MIN;
    let mut transfers: Vec<(i64, i64, usize, usize, i64, i64)> = Vec::new();
    src.each_sealed(0, |row| {
        expected_seq += 1;
        if row.seq != expected_seq {
            return Err(corrupt(format!(
                "the journal skips from #{} to #{}",
                expected_seq - 1,
                row.seq
            )));
        }
        let entry: Entry = serde_json::from_str(&row.body)
            .map_err(|e| corrupt(format!("entry #{} is unreadable: {e}", row.seq)))?;
        let rec = book.record(&entry).map_err(|e| {
            corrupt(format!(
                "entry #{} ({}) no longer records: {e}",
                row.seq, entry.id
            ))
        })?;
        let mut new_accounts = Vec::with_capacity(rec.new_accounts.len());
        for id in &rec.new_accounts {
            let key = book
                .key(*id)
                .ok_or_else(|| corrupt(format!("account {} missing", id.0)))?;
            new_accounts.push((id.0, key.canonical_json()));
        }
        let (eday, kday) = (
            i64::from(entry.effective_on.days_since_epoch()),
            i64::from(entry.known_on.days_since_epoch()),
        );
        last_day = last_day.max(eday).max(kday);
        let mut rows = Vec::with_capacity(rec.transfers.len());
        for t in &rec.transfers {
            let fx = backstock_ledger::canonical::effect(t, book.engine())
                .ok_or_else(|| corrupt(format!("entry #{}: a posted pending vanished", row.seq)))?;
            transfers.push((
                eday,
                kday,
                t.debit.0 as usize,
                t.credit.0 as usize,
                fx.posted_delta,
                fx.pending_delta,
            ));
            rows.push(TransferRow::of(t));
        }
        let postings = canonical_postings(&new_accounts, rows.iter());
        let hash = chain::link_hash(
            row.chain_version,
            &prev,
            row.seq as u64,
            &row.body,
            &postings,
            &row.recorded_at,
            row.file_sha256.as_deref(),
        )
        .ok_or_else(|| {
            corrupt(format!(
                "entry #{} is of chain version {}, which this build does not know",
                row.seq, row.chain_version
            ))
        })?;
        if chain::to_hex(&hash) != row.hash {
            return Err(corrupt(format!(
                "entry #{} ({}) does not match its hash: it was changed after it was recorded",
                row.seq, entry.id
            )));
        }
        prev = hash;
        if let Some(sha) = row.file_sha256 {
            shas.insert(sha);
        }
        Ok(true)
    })
    .await?;
    for sha in &shas {
        let bytes = src.original(sha).await?.ok_or_else(|| {
            corrupt(format!(
                "the original {sha} named by the journal is missing"
            ))
        })?;
        let got = chain::to_hex(Sha256::digest(&bytes).as_slice());
        if &got != sha {
            return Err(corrupt(format!(
                "the original {sha} was changed: its bytes hash to {got}"
            )));
        }
    }
    let head = src.head().await?;
    if head.entries != expected_seq {
        return Err(corrupt(format!(
            "the store counts {} entries but its journal has {expected_seq}",
            head.entries
        )));
    }
    // The projections, as of each year end and now.
    let mut dates: Vec<Option<Date>> = Vec::new();
    if let (Some(first), true) = (transfers.iter().map(|t| t.0).min(), last_day > i64::MIN) {
        let (first, last) = (day_date(first)?, day_date(last_day)?);
        let mut y = last.year();
        while y >= first.year() && dates.len() < YEAR_ENDS_CHECKED {
            if let Some(d) = Date::from_ymd(y, 12, 31).ok().filter(|d| *d < last) {
                dates.push(Some(d));
            }
            y -= 1;
        }
    }
    dates.push(None);
    let n_accounts = book.engine().accounts().len();
    let keys: Vec<_> = book.accounts().map(|(_, k, _)| k.clone()).collect();
    for as_of in &dates {
        let day = as_of.map_or(i64::MAX, |d| i64::from(d.days_since_epoch()));
        let mut nets = NetsAsOf {
            day,
            posted: vec![0; n_accounts],
            pending: vec![0; n_accounts],
        };
        for &(e, k, debit, credit, posted, pending) in &transfers {
            if e <= nets.day && k <= nets.day {
                nets.add(debit, credit, posted, pending);
            }
        }
        let all = StockFilter {
            as_of: *as_of,
            all: true,
            ..StockFilter::default()
        };
        let want_stock = crate::projection::stock_rows(
            &mut keys
                .iter()
                .enumerate()
                .map(|(i, k)| (k, nets.posted[i], nets.pending[i])),
            &all,
        )?;
        let want_money = crate::projection::balance_rows(
            &mut keys
                .iter()
                .enumerate()
                .map(|(i, k)| (k, nets.posted[i], nets.pending[i])),
            None,
        )?;
        let when = as_of.map_or_else(|| "now".to_string(), |d| format!("as of {d}"));
        if src.stock_as_of(&all).await? != want_stock {
            return Err(corrupt(format!(
                "the store's stock {when} is not what its journal adds up to: postings were changed beside the journal"
            )));
        }
        if src.balances_as_of(*as_of, None).await? != want_money {
            return Err(corrupt(format!(
                "the store's balances {when} are not what its journal adds up to: postings were changed beside the journal"
            )));
        }
    }
    Ok(ReplayReport {
        entries: expected_seq,
        files: shas.len(),
        head: (expected_seq > 0).then(|| chain::to_hex(&prev)),
        projections_checked: dates,
    })
}

fn day_date(day: i64) -> Result<Date> {
    i32::try_from(day)
        .ok()
        .and_then(|d| Date::from_days_since_epoch(d).ok())
        .ok_or_else(|| corrupt(format!("day {day} is out of range")))
}
