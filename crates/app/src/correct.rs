//! Correcting an entry: a new entry that reverses the original's postings. History is
//! never edited.
//!
//! Refused (nothing recorded, [`Exit::Refused`]) when:
//! * there is no such entry ([`Exit::Input`]);
//! * it is a royalty run (locked: its statements were sent) or itself a correction;
//! * it was already corrected;
//! * the reversal would leave any holding of units below zero — the units have since
//!   moved on (sold, shipped on, written off). The refusal names what happened to them
//!   since and what to record instead (a return, a write-off), because reversing the
//!   original would make the books say something that never happened.

use crate::{AppError, Exit};
use backstock_domain::{Date, PartyId, Sku};
use backstock_ledger::{
    AccountKey, Entry, EntryId, Event, Phase, Posting, Provenance, UnitAccount, UnitState,
};
use backstock_records::Records;
use backstock_store::query::StockFilter;
use backstock_store::Store;
use std::collections::{BTreeMap, BTreeSet};

/// Ids of the entries reversed by a correction known on or before `as_of` (`None`:
/// every correction recorded) that is not itself reversed. Reads the corrections only,
/// however large the journal.
pub async fn reversed_ids(
    store: &Store,
    as_of: Option<Date>,
) -> Result<BTreeSet<String>, AppError> {
    let corrections: Vec<Entry> = store
        .entries(&[backstock_ledger::EntryKind::Correction], as_of)
        .await?
        .into_iter()
        .map(|(_, e)| e)
        .collect();
    Ok(backstock_records::standing_reversals(corrections.iter())
        .into_keys()
        .map(str::to_string)
        .collect())
}

/// A statement a correction took out of the ledger, as its lines are known in the
/// line-level Parquet parts: (distributor, statement id, code). The code is `None` for
/// a statement (`statement:D:S`: all its lines), and the held code for a supplementary
/// statement that posted held lines once an alias named it (`statement:D:S:held:CODE`:
/// only the lines of `S` with that code).
pub type ReversedStatement = (String, String, Option<String>);

/// The statements among [`reversed_ids`] (see [`ReversedStatement`]).
pub async fn reversed_statements(
    store: &Store,
    as_of: Option<Date>,
) -> Result<BTreeSet<ReversedStatement>, AppError> {
    Ok(reversed_ids(store, as_of)
        .await?
        .iter()
        .filter_map(|id| {
            let (d, rest) = id.strip_prefix("statement:")?.split_once(':')?;
            Some(match rest.rsplit_once(":held:") {
                Some((s, code)) => (d.to_string(), s.to_string(), Some(code.to_string())),
                None => (d.to_string(), rest.to_string(), None),
            })
        })
        .collect())
}

/// What to correct and why.
#[derive(Debug, Clone)]
pub struct CorrectRequest {
    pub entry_id: String,
    pub reason: String,
    /// The day the reversal takes effect; `None`: the original's own date (the books
    /// are restated as if it was never recorded). A later day — in an open month when
    /// the original's is closed — reverses it from that day on: the accountant's
    /// adjustment in the current period.
    pub on: Option<Date>,
}

/// A correction recorded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Corrected {
    /// The correction's own entry id (`correction:ENTRY`).
    pub correction_id: String,
    pub reverses: String,
    /// The day the reversal takes effect: the original's date, or the `on` asked.
    pub effective_on: Date,
    /// The day it became known: the label's today, never before the original.
    pub known_on: Date,
}

/// A holding the reversal would drive below zero, and the moves since that explain it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Shortfall {
    pub holder: PartyId,
    pub sku: Sku,
    pub state: UnitState,
    pub held_now: i64,
    pub after: i64,
    /// Units that left the holding since the original, by what moved them (kind, entry
    /// ids, units), largest first.
    pub moved_since: Vec<(String, Vec<String>, i64)>,
}

impl Shortfall {
    /// The sentence a label owner reads.
    pub fn sentence(&self, entry_id: &str, since: Date) -> String {
        let moved: Vec<String> = self
            .moved_since
            .iter()
            .map(|(kind, ids, units)| {
                let shown: Vec<&str> = ids.iter().take(3).map(String::as_str).collect();
                let more = if ids.len() > 3 {
                    format!(" and {} more", ids.len() - 3)
                } else {
                    String::new()
                };
                format!("{kind} {units} ({}{more})", shown.join(", "))
            })
            .collect();
        let since_text = if moved.is_empty() {
            "nothing recorded explains where they went".to_string()
        } else {
            format!("since {since} it {}", moved.join("; "))
        };
        format!(
            "correcting {entry_id} would leave {} holding {} units of {} ({}) instead of {}: {since_text}. \
             Record what happened instead — a return (a shipment from {} to label) or a write-off — and correct only what was really keyed wrong.",
            self.holder,
            self.after,
            self.sku,
            self.state.as_str().replace('_', " "),
            self.held_now,
            self.holder,
        )
    }
}

/// Records a correction of `req.entry_id` by `user`, known on the label's today.
#[tracing::instrument(name = "correct", skip_all, fields(entry = %req.entry_id))]
pub async fn correct(
    store: &Store,
    req: &CorrectRequest,
    user: &str,
) -> Result<Corrected, AppError> {
    let entry_id = req.entry_id.trim();
    if req.reason.trim().is_empty() {
        return Err(AppError::new(
            Exit::Input,
            "--reason is required: say why the entry was wrong",
        ));
    }
    let Some((_, original, postings)) = store.entry(entry_id).await? else {
        return Err(AppError::new(
            Exit::Input,
            format!("no entry {entry_id:?} to correct: give the entry id as the journal shows it, or as the sentence that recorded the entry said"),
        ));
    };
    match original.event {
        Event::RoyaltyRun(_) => {
            return Err(AppError::new(
                Exit::Refused,
                "a royalty run is locked: its statements were sent; corrections roll into the next period",
            ))
        }
        Event::Correction { .. } => {
            return Err(AppError::new(
                Exit::Refused,
                "a correction cannot itself be corrected; record the right entry again",
            ))
        }
        _ => {}
    }
    // Held lines posted by an alias that still stands: reversing the posting alone
    // would put them back in the unmatched queue beside an alias that names their
    // SKU, and nothing would post them again. The alias is what to correct.
    if let Some((_, held)) = entry_id.rsplit_once(":held:") {
        let code = match held.rsplit_once(':') {
            Some((c, n)) if !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()) => c,
            _ => held,
        };
        if let Some((_, sku)) = crate::aliases::list(store)
            .await?
            .into_iter()
            .find(|(c, _)| c == code)
        {
            return Err(AppError::new(
                Exit::Refused,
                format!(
                    "{entry_id} posted the lines held for code {code}, and the alias {code} → {sku} still stands: correct the alias first (`alias:{code}`), then this posting — its lines then wait in the unmatched queue for the right alias — or correct the whole statement; nothing was recorded"
                ),
            ));
        }
    }
    let today = crate::risk::today(store).await?;
    let id = format!("correction:{entry_id}");
    if store.entry(&id).await?.is_some() {
        return Err(AppError::new(
            Exit::Refused,
            format!("{entry_id} was already corrected ({id}); nothing recorded"),
        ));
    }
    if let Some(s) = shortfalls(store, &original, &postings, today)
        .await?
        .first()
    {
        return Err(AppError::new(
            Exit::Refused,
            s.sentence(entry_id, original.effective_on),
        ));
    }
    let known_on = today.max(original.known_on);
    let effective_on = match req.on {
        None => original.effective_on,
        Some(on) if on < original.effective_on => {
            return Err(AppError::new(
                Exit::Input,
                format!(
                    "--on {on} is before {entry_id} took effect ({}): a correction takes effect on its date or later",
                    original.effective_on
                ),
            ))
        }
        Some(on) if on > known_on => {
            return Err(AppError::new(
                Exit::Input,
                format!("--on {on} is after the label's today ({known_on}): record a correction once it is known"),
            ))
        }
        Some(on) => on,
    };
    let command = match req.on {
        Some(on) if on != original.effective_on => {
            format!("correct {entry_id} --reason {:?} --on {on}", req.reason)
        }
        _ => format!("correct {entry_id} --reason {:?}", req.reason),
    };
    let e = Entry {
        id: EntryId::new(id.clone()).map_err(|e| AppError::new(Exit::Input, e.to_string()))?,
        effective_on,
        known_on,
        provenance: Provenance::Command {
            user: user.to_string(),
            command,
        },
        event: Event::Correction {
            reverses: original.id.clone(),
            reason: req.reason.clone(),
            postings,
        },
    };
    crate::books::record(store, &[e], None).await?;
    Ok(Corrected {
        correction_id: id,
        reverses: entry_id.to_string(),
        effective_on,
        known_on,
    })
}

/// Holdings the reversal of `postings` would leave below zero, as of `today`.
async fn shortfalls(
    store: &Store,
    original: &Entry,
    postings: &[Posting],
    today: Date,
) -> Result<Vec<Shortfall>, AppError> {
    // Net change per unit account if the postings were reversed: the original's debits
    // are credited back.
    let mut change: BTreeMap<UnitAccount, i128> = BTreeMap::new();
    for p in postings
        .iter()
        .filter(|p| matches!(p.phase, Phase::Posted | Phase::PostPending { .. }))
    {
        if let AccountKey::Units(u) = &p.debit {
            *change.entry(u.clone()).or_insert(0) -= i128::from(p.amount);
        }
        if let AccountKey::Units(u) = &p.credit {
            *change.entry(u.clone()).or_insert(0) += i128::from(p.amount);
        }
    }
    let mut out = Vec::new();
    for (u, delta) in change.into_iter().filter(|(_, d)| *d < 0) {
        if u.state() == UnitState::Origin
            || u.holder().as_str() == PartyId::MARKET
            || u.holder().as_str() == PartyId::SCRAP
        {
            continue;
        }
        let rows = store
            .stock(&StockFilter {
                as_of: Some(today.max(original.known_on)),
                owner: Some(u.owner().to_string()),
                holder: Some(u.holder().to_string()),
                sku: Some(u.sku().to_string()),
                all: true,
            })
            .await?;
        let held_now: i64 = rows
            .iter()
            .filter(|r| r.state == u.state().as_str())
            .map(|r| r.units)
            .sum();
        let after = i128::from(held_now) + delta;
        if after >= 0 {
            continue;
        }
        out.push(Shortfall {
            holder: u.holder().clone(),
            sku: u.sku().clone(),
            state: u.state(),
            held_now,
            after: i64::try_from(after).unwrap_or(i64::MIN),
            moved_since: moved_since(store, original, &u, today).await?,
        });
    }
    Ok(out)
}

/// What took units of `u` away from its holder after `original`, grouped by kind.
async fn moved_since(
    store: &Store,
    original: &Entry,
    u: &UnitAccount,
    today: Date,
) -> Result<Vec<(String, Vec<String>, i64)>, AppError> {
    let entries: Vec<Entry> = store
        .entries(&[], Some(today.max(original.known_on)))
        .await?
        .into_iter()
        .map(|(_, e)| e)
        .collect();
    let records = Records::new(&entries, today.max(original.known_on));
    let mut by_kind: BTreeMap<&'static str, (Vec<String>, i64)> = BTreeMap::new();
    for m in records.moves.iter().filter(|m| {
        m.holder == u.holder()
            && m.sku == u.sku()
            && m.delta < 0
            && m.entry.id != original.id
            && m.date >= original.effective_on
    }) {
        let (kind, id) = match &m.entry.event {
            Event::Statement(st) => ("sold", st.statement_id.clone()),
            Event::Shipment {
                shipment_id, to, ..
            } => {
                if to.is_label() {
                    ("returned", shipment_id.clone())
                } else {
                    ("shipped on", shipment_id.clone())
                }
            }
            Event::WriteOff { .. } => ("wrote off", m.entry.id.to_string()),
            Event::BuyBack { buyback_id, .. } => ("was bought back", buyback_id.clone()),
            _ => ("moved", m.entry.id.to_string()),
        };
        let slot = by_kind.entry(kind).or_default();
        if !slot.0.contains(&id) {
            slot.0.push(id);
        }
        slot.1 = slot.1.saturating_add(m.delta.saturating_neg());
    }
    // Units held against the label's will change state, not holder.
    if u.state() == UnitState::OnHand {
        for e in entries
            .iter()
            .filter(|e| e.effective_on >= original.effective_on)
        {
            if let Event::Detention {
                holder, sku, units, ..
            } = &e.event
            {
                if holder == u.holder() && sku == u.sku() && *units > 0 {
                    let slot = by_kind.entry("was detained").or_default();
                    slot.0.push(e.id.to_string());
                    slot.1 = slot.1.saturating_add(*units);
                }
            }
        }
    }
    let mut out: Vec<(String, Vec<String>, i64)> = by_kind
        .into_iter()
        .map(|(k, (ids, units))| (k.to_string(), ids, units))
        .collect();
    out.sort_by_key(|(_, _, units)| std::cmp::Reverse(*units));
    Ok(out)
}
