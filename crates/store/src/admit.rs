//! Taking an entry of a batch into a store's book, the same way in every store (the
//! SQLite store and `backstock-store-pg` both call these, so idempotency and what an
//! entry's rows hold cannot drift apart between backends).

use crate::{Result, StoreError};
use backstock_ledger::book::{Book, Recorded};
use backstock_ledger::events::Entry;
use std::collections::{BTreeSet, HashMap};

/// Whether `entry` (serialized as `body`) is new: `Ok(false)` when the store already
/// holds it with the same body (the same entry twice changes nothing); refused with
/// [`StoreError::Conflict`] when the store holds other details under its id, or when
/// the batch names the id twice (`seen`: the ids of the batch so far).
pub fn is_new(
    existing: &HashMap<String, String>,
    seen: &mut BTreeSet<String>,
    entry: &Entry,
    body: &str,
) -> Result<bool> {
    let id = entry.id.as_str();
    let conflict = || StoreError::Conflict {
        entry_id: id.to_string(),
    };
    if let Some(old) = existing.get(id) {
        return if old == body {
            Ok(false)
        } else {
            Err(conflict())
        };
    }
    if !seen.insert(id.to_string()) {
        return Err(conflict());
    }
    Ok(true)
}

/// Records `entry` in `book` (refused as the ledger refuses it, the book unchanged):
/// its transfers and, for the accounts it opened, (id, canonical key JSON) — what the
/// chain hashes and the account blocks keep.
pub fn record(book: &mut Book, entry: &Entry) -> Result<(Recorded, Vec<(u32, String)>)> {
    let rec = book.record(entry).map_err(StoreError::Refused)?;
    let mut new_accounts = Vec::with_capacity(rec.new_accounts.len());
    for id in &rec.new_accounts {
        let key = book
            .key(*id)
            .ok_or_else(|| StoreError::Corrupt(format!("account {} missing", id.0)))?;
        new_accounts.push((id.0, key.canonical_json()));
    }
    Ok((rec, new_accounts))
}
