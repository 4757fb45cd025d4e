//! Read queries: stock, balances and the journal, as of any date.
//!
//! "As of D" sees only entries with `effective_on ≤ D` **and** `known_on ≤ D`, so a
//! past day is replayed exactly as the label knew it then.

use crate::{Result, Store, StoreError};
use backstock_domain::{Currency, Date, Money};
use backstock_ledger::{Entry, MoneyKind, UnitState};
use serde::Serialize;
use sqlx::Row;

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

fn day_str(d: i64) -> String {
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

impl Store {
    /// Units by owner × holder × SKU × state, as of a date. Zero rows are omitted.
    pub async fn stock(&self, f: &StockFilter) -> Result<Vec<StockRow>> {
        let d = as_of_day(f.as_of);
        let rows = sqlx::query(
            "WITH t AS (SELECT debit AS acct, posted_delta AS v FROM transfers WHERE effective_day <= ?1 AND known_day <= ?1 \
                        UNION ALL SELECT credit, -posted_delta FROM transfers WHERE effective_day <= ?1 AND known_day <= ?1) \
             SELECT a.owner, a.holder, a.sku, a.state, SUM(t.v) AS units \
             FROM t JOIN accounts a ON a.id = t.acct \
             WHERE a.sku IS NOT NULL \
               AND (?2 IS NULL OR a.owner = ?2) AND (?3 IS NULL OR a.holder = ?3) AND (?4 IS NULL OR a.sku = ?4) \
             GROUP BY a.id HAVING units != 0 ORDER BY a.sku, a.owner, a.holder, a.state",
        )
        .bind(d)
        .bind(&f.owner)
        .bind(&f.holder)
        .bind(&f.sku)
        .fetch_all(self.pool())
        .await?;
        Ok(rows
            .into_iter()
            .map(|r| StockRow {
                owner: r.get(0),
                holder: r.get(1),
                sku: r.get(2),
                state: r.get(3),
                units: r.get(4),
            })
            .filter(|r| {
                f.all
                    || (r.state != UnitState::Origin.as_str()
                        && r.owner != backstock_domain::PartyId::MARKET
                        && r.owner != backstock_domain::PartyId::SCRAP)
            })
            .collect())
    }

    /// Money by account as of a date; `party` matches either side.
    pub async fn balances(
        &self,
        as_of: Option<Date>,
        party: Option<&str>,
    ) -> Result<Vec<BalanceRow>> {
        let d = as_of_day(as_of);
        let rows = sqlx::query(
            "WITH t AS (SELECT debit AS acct, posted_delta AS v, pending_delta AS p FROM transfers WHERE effective_day <= ?1 AND known_day <= ?1 \
                        UNION ALL SELECT credit, -posted_delta, -pending_delta FROM transfers WHERE effective_day <= ?1 AND known_day <= ?1) \
             SELECT a.party, a.counterparty, a.money_kind, a.currency, SUM(t.v), SUM(t.p) \
             FROM t JOIN accounts a ON a.id = t.acct \
             WHERE a.money_kind IS NOT NULL AND (?2 IS NULL OR a.party = ?2 OR a.counterparty = ?2) \
             GROUP BY a.id ORDER BY a.counterparty, a.currency, a.money_kind",
        )
        .bind(d)
        .bind(party)
        .fetch_all(self.pool())
        .await?;
        Ok(rows
            .into_iter()
            .map(|r| BalanceRow {
                party: r.get(0),
                counterparty: r.get(1),
                kind: r.get(2),
                currency: r.get(3),
                balance_minor: r.get(4),
                pending_minor: r.get(5),
            })
            .filter(|r| r.balance_minor != 0 || r.pending_minor != 0)
            .collect())
    }

    /// Journal entries recorded, oldest first; `since` filters on effective date.
    pub async fn journal(
        &self,
        since: Option<Date>,
        kind: Option<&str>,
        limit: i64,
    ) -> Result<Vec<JournalRow>> {
        let since = since
            .map(|d| i64::from(d.days_since_epoch()))
            .unwrap_or(i64::MIN);
        let rows = sqlx::query(
            "SELECT j.seq, j.entry_id, j.kind, j.effective_day, j.known_day, j.recorded_at, \
                    (SELECT COUNT(*) FROM transfers t WHERE t.seq = j.seq), j.hash \
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
    pub async fn entries(&self, kinds: &[&str], as_of: Option<Date>) -> Result<Vec<(i64, Entry)>> {
        let d = as_of_day(as_of);
        let mut qb =
            sqlx::QueryBuilder::new("SELECT seq, body FROM journal WHERE effective_day <= ");
        qb.push_bind(d).push(" AND known_day <= ").push_bind(d);
        if !kinds.is_empty() {
            qb.push(" AND kind IN (");
            let mut sep = qb.separated(", ");
            for k in kinds {
                sep.push_bind(*k);
            }
            qb.push(")");
        }
        qb.push(" ORDER BY seq");
        let rows = qb.build().fetch_all(self.pool()).await?;
        rows.into_iter()
            .map(|r| {
                let seq: i64 = r.get(0);
                let body: String = r.get(1);
                serde_json::from_str(&body)
                    .map(|e| (seq, e))
                    .map_err(|e| StoreError::Corrupt(format!("entry #{seq} is unreadable: {e}")))
            })
            .collect()
    }

    /// One entry by id, with its postings.
    pub async fn entry(
        &self,
        entry_id: &str,
    ) -> Result<Option<(i64, Entry, Vec<backstock_ledger::Posting>)>> {
        let row = sqlx::query("SELECT seq, body FROM journal WHERE entry_id = ?")
            .bind(entry_id)
            .fetch_optional(self.pool())
            .await?;
        let Some(r) = row else { return Ok(None) };
        let seq: i64 = r.get(0);
        let e: Entry = serde_json::from_str(r.get::<&str, _>(1))
            .map_err(|e| StoreError::Corrupt(format!("entry #{seq}: {e}")))?;
        let rows = sqlx::query(
            "SELECT t.amount, t.flags, t.pending_id, d.key, c.key \
             FROM transfers t JOIN accounts d ON d.id = t.debit JOIN accounts c ON c.id = t.credit \
             WHERE t.seq = ? ORDER BY t.idx",
        )
        .bind(seq)
        .fetch_all(self.pool())
        .await?;
        let mut postings = Vec::with_capacity(rows.len());
        for r in rows {
            let keys: Vec<backstock_ledger::AccountKey> =
                [r.get::<&str, _>(3), r.get::<&str, _>(4)]
                    .iter()
                    .map(|k| serde_json::from_str(k))
                    .collect::<std::result::Result<_, _>>()
                    .map_err(|e| StoreError::Corrupt(format!("entry #{seq}: account key: {e}")))?;
            let row = crate::TransferRow {
                debit: 0,
                credit: 1,
                amount: r.get(0),
                flags: r.get(1),
                pending_id: r.get(2),
            };
            postings.push(row.posting(&keys).ok_or_else(|| {
                StoreError::Corrupt(format!("entry #{seq}: unreadable transfer"))
            })?);
        }
        Ok(Some((seq, e, postings)))
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
#[derive(Debug, Clone, Default)]
pub struct ImportLookups {
    /// (sku, upc or empty, wholesale minor units, currency)
    pub catalog: Vec<(String, Option<String>, i64, String)>,
    /// (code, sku)
    pub aliases: Vec<(String, String)>,
    /// (distributor, currency)
    pub agreements: Vec<(String, String)>,
}

impl Store {
    pub async fn import_lookups(&self) -> Result<ImportLookups> {
        let catalog = sqlx::query_as(
            "SELECT json_extract(body, '$.event.sku'), json_extract(body, '$.event.upc'), \
                    json_extract(body, '$.event.wholesale_price.amount_minor'), json_extract(body, '$.event.wholesale_price.currency') \
             FROM journal WHERE kind = 'catalog_item' ORDER BY seq",
        )
        .fetch_all(self.pool())
        .await?;
        let aliases = sqlx::query_as(
            "SELECT json_extract(body, '$.event.code'), json_extract(body, '$.event.sku') FROM journal WHERE kind = 'alias' ORDER BY seq",
        )
        .fetch_all(self.pool())
        .await?;
        let agreements = sqlx::query_as(
            "SELECT json_extract(body, '$.event.distributor'), json_extract(body, '$.event.currency') FROM journal WHERE kind = 'agreement' ORDER BY seq",
        )
        .fetch_all(self.pool())
        .await?;
        Ok(ImportLookups {
            catalog,
            aliases,
            agreements,
        })
    }
}
