//! Stock and money rows from every account's net balances: the same for every backend.
//! A backend sums its transfers (as of a date) into `(key, posted, pending)` per account,
//! in the order the accounts were opened, and these functions make the rows the
//! [`crate::contract::Projections`] return.

use crate::query::{BalanceRow, StockFilter, StockRow};
use crate::{Result, StoreError};
use backstock_ledger::{AccountKey, UnitState};

/// Units by owner × holder × SKU × state from `(key, debits − credits posted, pending)`
/// per account. Zero rows are omitted; origin, market and scrap only with `f.all`.
pub fn stock_rows(
    nets: &mut dyn Iterator<Item = (&AccountKey, i128, i128)>,
    f: &StockFilter,
) -> Result<Vec<StockRow>> {
    let mut shown = Vec::new();
    for (key, posted, _) in nets {
        let AccountKey::Units(u) = key else { continue };
        if posted == 0
            || f.owner.as_deref().is_some_and(|o| u.owner().as_str() != o)
            || f.holder
                .as_deref()
                .is_some_and(|h| u.holder().as_str() != h)
            || f.sku.as_deref().is_some_and(|s| u.sku().as_str() != s)
            || !(f.all
                || (u.state() != UnitState::Origin
                    && u.owner().as_str() != backstock_domain::PartyId::MARKET
                    && u.owner().as_str() != backstock_domain::PartyId::SCRAP))
        {
            continue;
        }
        shown.push((u, posted));
    }
    // Sorted as references, rows made after: a label group's 378,000 rows are not
    // moved about while sorted. No two accounts share a key, so the order is total.
    shown.sort_unstable_by(|(a, _), (b, _)| {
        (
            a.sku().as_str(),
            a.owner().as_str(),
            a.holder().as_str(),
            a.state().as_str(),
        )
            .cmp(&(
                b.sku().as_str(),
                b.owner().as_str(),
                b.holder().as_str(),
                b.state().as_str(),
            ))
    });
    shown
        .into_iter()
        .map(|(u, posted)| {
            Ok(StockRow {
                owner: u.owner().to_string(),
                holder: u.holder().to_string(),
                sku: u.sku().to_string(),
                state: u.state().as_str().to_string(),
                units: i64::try_from(posted)
                    .map_err(|_| StoreError::Corrupt(format!("units of {} overflow", u.sku())))?,
            })
        })
        .collect()
}

/// Money by account from `(key, debits − credits posted, pending)` per account, in the
/// order the accounts were opened; `party` matches either side. Zero rows are omitted.
pub fn balance_rows(
    nets: &mut dyn Iterator<Item = (&AccountKey, i128, i128)>,
    party: Option<&str>,
) -> Result<Vec<BalanceRow>> {
    let mut out = Vec::new();
    for (key, posted, pending) in nets {
        let AccountKey::Money(m) = key else { continue };
        if (posted == 0 && pending == 0)
            || party.is_some_and(|p| m.party().as_str() != p && m.counterparty().as_str() != p)
        {
            continue;
        }
        let fit = |v: i128| {
            i64::try_from(v)
                .map_err(|_| StoreError::Corrupt(format!("a balance of {} overflows", m.party())))
        };
        out.push(BalanceRow {
            party: m.party().to_string(),
            counterparty: m.counterparty().to_string(),
            kind: m.kind().as_str().to_string(),
            currency: m.currency().code().to_string(),
            balance_minor: fit(posted)?,
            pending_minor: fit(pending)?,
        });
    }
    // Stable: accounts of the same counterparty, currency and kind stay in the order
    // they were opened.
    out.sort_by(|a, b| {
        (&a.counterparty, &a.currency, &a.kind).cmp(&(&b.counterparty, &b.currency, &b.kind))
    });
    Ok(out)
}
