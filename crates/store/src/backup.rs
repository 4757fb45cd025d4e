//! What the label's backups and its accountant's exports need of the store:
//!
//! * [`Store::backup_to`]: a consistent copy of the whole database in one file
//!   (SQLite `VACUUM INTO`, one read transaction: taken while the server records, it
//!   holds every entry up to some point and nothing of a batch half written).
//! * [`Store::for_each_money_effect`]: each entry effective in a date range with what
//!   it *posted* to money accounts (pending amounts are not posted; a release of a
//!   pending reserve is), read a page at a time from the stored transfer blocks — the
//!   accountant's books are made from what the chain hashes, not from a re-expansion.

use crate::{Result, Store, StoreError};
use backstock_domain::Date;
use backstock_ledger::engine::AccountId;
use backstock_ledger::{AccountKey, Entry, MoneyAccount};
use sqlx::Row;
use std::path::Path;

/// An amount posted from one money account to another (debit ← credit), on one ledger.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MoneyEffect {
    pub debit: MoneyAccount,
    pub credit: MoneyAccount,
    /// Minor units posted (> 0).
    pub amount: u64,
}

impl Store {
    /// Writes a consistent copy of the database to `to`, which must not exist yet.
    pub async fn backup_to(&self, to: &Path) -> Result<()> {
        if to.exists() {
            return Err(StoreError::Io(std::io::Error::new(
                std::io::ErrorKind::AlreadyExists,
                format!("{} already exists; choose a new file", to.display()),
            )));
        }
        let target = to.to_str().ok_or_else(|| {
            StoreError::Io(std::io::Error::new(
                std::io::ErrorKind::InvalidInput,
                format!("{} is not a UTF-8 path", to.display()),
            ))
        })?;
        sqlx::query("VACUUM INTO ?")
            .bind(target)
            .execute(self.pool())
            .await?;
        Ok(())
    }

    /// Calls `f` with each entry effective from `from` to `to` (inclusive; either end
    /// open when `None`), every entry recorded so far, in journal order, with the money
    /// it posted. Entries that posted no money are passed with an empty list.
    pub async fn for_each_money_effect(
        &self,
        from: Option<Date>,
        to: Option<Date>,
        mut f: impl FnMut(i64, Entry, Vec<MoneyEffect>) -> Result<()>,
    ) -> Result<()> {
        let lo = from
            .map(|d| i64::from(d.days_since_epoch()))
            .unwrap_or(i64::MIN);
        let hi = to
            .map(|d| i64::from(d.days_since_epoch()))
            .unwrap_or(i64::MAX);
        let mut after: i64 = 0;
        loop {
            let rows = sqlx::query(
                "SELECT seq, body, body_zstd FROM journal \
                 WHERE effective_day >= ? AND effective_day <= ? AND seq > ? \
                 ORDER BY seq LIMIT ?",
            )
            .bind(lo)
            .bind(hi)
            .bind(after)
            .bind(crate::query::ENTRY_PAGE)
            .fetch_all(self.pool())
            .await?;
            let n = rows.len();
            let mut page = Vec::with_capacity(n);
            for r in rows {
                let seq: i64 = r.get(0);
                let body = crate::body_of(seq, r.get(1), r.get(2))?;
                let e: Entry = serde_json::from_str(&body)
                    .map_err(|e| StoreError::Corrupt(format!("entry #{seq} is unreadable: {e}")))?;
                let blocks = sqlx::query(
                    "SELECT count, data FROM transfer_blocks WHERE seq = ? ORDER BY first_idx",
                )
                .bind(seq)
                .fetch_all(self.pool())
                .await?;
                let mut transfers = Vec::new();
                for b in blocks {
                    let count = usize::try_from(b.get::<i64, _>(0)).unwrap_or(usize::MAX);
                    transfers.extend(crate::blocks::decode_transfers(
                        b.get::<&[u8], _>(1),
                        count,
                        &format!("entry #{seq}"),
                    )?);
                }
                after = seq;
                page.push((seq, e, transfers));
            }
            // The account keys, from the book (the cache first, then a connection: the
            // order `record` takes them in); held for one page only.
            let resolved = {
                let mut cache = self.cache.lock().await;
                let mut conn = self.pool().acquire().await?;
                let head = crate::head_seq(&mut conn).await?;
                let book = crate::fresh_book(&mut conn, &mut cache, head).await?;
                let mut out = Vec::with_capacity(page.len());
                for (seq, e, transfers) in page {
                    let mut money = Vec::new();
                    for t in transfers {
                        if t.posted_delta == 0 {
                            continue;
                        }
                        let key = |id: u32| book.key(AccountId(id));
                        let (Some(d), Some(c)) = (key(t.row.debit), key(t.row.credit)) else {
                            return Err(StoreError::Corrupt(format!(
                                "entry #{seq}: a transfer names an unknown account"
                            )));
                        };
                        if let (AccountKey::Money(d), AccountKey::Money(c)) = (d, c) {
                            let amount = u64::try_from(t.posted_delta).map_err(|_| {
                                StoreError::Corrupt(format!(
                                    "entry #{seq}: a transfer posted a negative amount"
                                ))
                            })?;
                            money.push(MoneyEffect {
                                debit: d.clone(),
                                credit: c.clone(),
                                amount,
                            });
                        }
                    }
                    out.push((seq, e, money));
                }
                out
            };
            for (seq, e, money) in resolved {
                f(seq, e, money)?;
            }
            if n < usize::try_from(crate::query::ENTRY_PAGE).unwrap_or(usize::MAX) {
                return Ok(());
            }
        }
    }
}
