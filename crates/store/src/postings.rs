//! The journal with each entry's transfers, read page by page: what an export of the
//! journal (`backstock journal --format csv`) writes, every transfer's accounts and
//! amount, without holding the journal in memory.

use crate::query::{JournalRow, ENTRY_PAGE};
use crate::{Result, Store, StoreError};
use backstock_domain::Date;
use backstock_ledger::{AccountKey, EntryKind, Posting};
use sqlx::Row;

impl Store {
    /// Calls `f` with each journal row (oldest first; `since` filters on the effective
    /// date and `kind` on the entry's kind, as [`Store::journal`] does) and the
    /// transfers it recorded, [`ENTRY_PAGE`] entries a time. An error from `f` stops the
    /// walk and is returned.
    pub async fn for_each_journal_posting(
        &self,
        since: Option<Date>,
        kind: Option<EntryKind>,
        mut f: impl FnMut(&JournalRow, &[Posting]) -> Result<()>,
    ) -> Result<()> {
        let kind = kind.map(|k| k.as_str());
        let since = since
            .map(|d| i64::from(d.days_since_epoch()))
            .unwrap_or(i64::MIN);
        let mut after: i64 = i64::MIN;
        loop {
            let rows = sqlx::query(
                "SELECT j.seq, j.entry_id, j.kind, j.effective_day, j.known_day, j.recorded_at, \
                        (SELECT COALESCE(SUM(t.count), 0) FROM transfer_blocks t WHERE t.seq = j.seq), j.hash \
                 FROM journal j WHERE j.seq > ? AND j.effective_day >= ? AND (? IS NULL OR j.kind = ?) \
                 ORDER BY j.seq LIMIT ?",
            )
            .bind(after)
            .bind(since)
            .bind(kind)
            .bind(kind)
            .bind(ENTRY_PAGE)
            .fetch_all(self.pool())
            .await?;
            let n = rows.len();
            let page: Vec<JournalRow> = rows
                .into_iter()
                .map(|r| JournalRow {
                    seq: r.get(0),
                    entry_id: r.get(1),
                    kind: r.get(2),
                    effective_on: crate::query::day_str(r.get(3)),
                    known_on: crate::query::day_str(r.get(4)),
                    recorded_at: r.get(5),
                    transfers: r.get(6),
                    hash: r.get(7),
                })
                .collect();
            let (Some(first), Some(last)) = (page.first(), page.last()) else {
                return Ok(());
            };
            after = last.seq;
            // The page's transfer blocks in one query, in entry and transfer order.
            let blocks = sqlx::query(
                "SELECT seq, count, data FROM transfer_blocks WHERE seq >= ? AND seq <= ? ORDER BY seq, first_idx",
            )
            .bind(first.seq)
            .bind(last.seq)
            .fetch_all(self.pool())
            .await?;
            let mut by_seq: std::collections::BTreeMap<i64, Vec<crate::blocks::StoredTransfer>> =
                std::collections::BTreeMap::new();
            for b in blocks {
                let seq: i64 = b.get(0);
                let count = usize::try_from(b.get::<i64, _>(1)).unwrap_or(usize::MAX);
                by_seq
                    .entry(seq)
                    .or_default()
                    .extend(crate::blocks::decode_transfers(
                        b.get::<&[u8], _>(2),
                        count,
                        &format!("entry #{seq}"),
                    )?);
            }
            // Account keys from the book, held for one page only.
            let resolved: Vec<(JournalRow, Vec<Posting>)> = {
                let mut cache = self.cache.lock().await;
                let mut conn = self.pool().acquire().await?;
                let head = crate::head_seq(&mut conn).await?;
                let book = crate::fresh_book(&mut conn, &mut cache, head).await?;
                let mut out = Vec::with_capacity(page.len());
                for row in page {
                    let mut postings = Vec::new();
                    for t in by_seq.remove(&row.seq).unwrap_or_default() {
                        let key =
                            |id: u32| book.key(backstock_ledger::engine::AccountId(id)).cloned();
                        let keys: Vec<AccountKey> = [key(t.row.debit), key(t.row.credit)]
                            .into_iter()
                            .collect::<Option<_>>()
                            .ok_or_else(|| {
                                StoreError::Corrupt(format!("entry #{}: unknown account", row.seq))
                            })?;
                        let r = crate::TransferRow {
                            debit: 0,
                            credit: 1,
                            ..t.row
                        };
                        postings.push(r.posting(&keys).ok_or_else(|| {
                            StoreError::Corrupt(format!("entry #{}: unreadable transfer", row.seq))
                        })?);
                    }
                    out.push((row, postings));
                }
                out
            };
            for (row, postings) in &resolved {
                f(row, postings)?;
            }
            if n < usize::try_from(ENTRY_PAGE).unwrap_or(usize::MAX) {
                return Ok(());
            }
        }
    }
}
