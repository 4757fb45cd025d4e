//! Other codes for a SKU (a distributor's item number, an EAN) and the queue of
//! statement lines held because their code was unknown (`import --hold-unmatched`).
//!
//! Adding an alias posts the held lines with that code at once, as one supplementary
//! statement per original statement (`statement:{distributor}:{statement}:held:{code}`),
//! in the same transaction as the alias: the queue and the ledger never disagree.

use crate::{AppError, Exit};
use backstock_domain::{Date, Sku};
use backstock_ledger::facts::UnmatchedLine;
use backstock_ledger::EntryKind;
use backstock_ledger::{Entry, EntryId, Event, Fact, Provenance, Statement, StatementLine};
use backstock_store::Store;
use std::collections::{BTreeMap, HashSet};

/// Longest alias code accepted.
pub const MAX_CODE_CHARS: usize = 64;

/// An alias recorded and what it posted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AliasAdded {
    pub code: String,
    pub sku: Sku,
    /// The alias's journal entry (`alias:CODE`, or `alias:CODE:2` after a reversal).
    pub entry_id: String,
    /// Held lines posted.
    pub lines_posted: usize,
    /// Statements they came from.
    pub statements: usize,
}

/// Held statement lines not yet posted (no supplementary statement recorded for their
/// code), oldest first, with their journal position.
pub async fn unmatched_pending(store: &Store) -> Result<Vec<(i64, UnmatchedLine)>, AppError> {
    // A posting a correction reversed posts nothing: its lines wait again (for the
    // alias given anew). Versions after a reversal are `…:held:CODE:N`.
    let gone = crate::correct::reversed_ids(store, None).await?;
    let posted: HashSet<String> = store
        .journal(None, Some(EntryKind::Statement), i64::MAX)
        .await?
        .into_iter()
        .filter(|r| r.entry_id.contains(":held:") && !gone.contains(&r.entry_id))
        .map(|r| held_base(&r.entry_id).to_string())
        .collect();
    Ok(store
        .entries(&[EntryKind::Unmatched], None)
        .await?
        .into_iter()
        .filter_map(|(seq, e)| match e.event {
            Event::Fact(Fact::Unmatched(u)) => {
                let id = held_entry_id(&u.distributor.to_string(), &u.statement_id, &u.code);
                (!posted.contains(&id)).then_some((seq, u))
            }
            _ => None,
        })
        .collect())
}

fn held_entry_id(distributor: &str, statement: &str, code: &str) -> String {
    format!("statement:{distributor}:{statement}:held:{code}")
}

/// A held posting's id without its version (`…:held:CODE:2` → `…:held:CODE`).
fn held_base(id: &str) -> &str {
    match id.rsplit_once(':') {
        Some((base, n))
            if base.contains(":held:")
                && !n.is_empty()
                && n.bytes().all(|b| b.is_ascii_digit())
                && base
                    .rsplit_once(":held:")
                    .is_some_and(|(_, code)| !code.is_empty()) =>
        {
            base
        }
        _ => id,
    }
}

/// The first id of a held posting not on record: the base, or `base:N` after the
/// postings before were reversed (a held line is posted again when its code's alias
/// is given anew).
async fn free_held_id(store: &Store, base: &str) -> Result<String, AppError> {
    crate::first_unused_id(store, base, MAX_ALIAS_VERSIONS)
        .await?
        .ok_or_else(|| {
            AppError::new(
                Exit::Refused,
                format!("{base} was posted and reversed too many times"),
            )
        })
}

/// Every alias standing (those a correction reversed left out), oldest first: (code,
/// SKU).
pub async fn list(store: &Store) -> Result<Vec<(String, Sku)>, AppError> {
    let gone = crate::correct::reversed_ids(store, None).await?;
    Ok(store
        .entries(&[EntryKind::Alias], None)
        .await?
        .into_iter()
        .filter(|(_, e)| !gone.contains(e.id.as_str()))
        .filter_map(|(_, e)| match e.event {
            Event::Fact(Fact::Alias { code, sku }) => Some((code, sku)),
            _ => None,
        })
        .collect())
}

/// How many times one code's alias may be reversed and given again (a bound on the
/// lookups, not a real label's).
const MAX_ALIAS_VERSIONS: u32 = 100;

/// Records that `code` means `sku` and posts the held lines with that code. Refused
/// for an empty or over-long code, or a SKU not in the catalog; the same alias twice
/// changes nothing, the same code for another SKU is refused (a reversed alias is
/// none: its code can be given again).

#[tracing::instrument(name = "add", skip_all, fields(code = %code, sku = %sku))]
pub async fn add(store: &Store, code: &str, sku: Sku, user: &str) -> Result<AliasAdded, AppError> {
    let code = code.trim().to_string();
    if code.is_empty() || code.chars().count() > MAX_CODE_CHARS {
        return Err(AppError::new(
            Exit::Input,
            format!("the code must be 1-{MAX_CODE_CHARS} characters"),
        ));
    }
    // The SKU's last catalog entry: whether it is in the catalog, and its format (the
    // held lines come from files without a channel: a digital format's are digital).
    let item = store
        .entries(&[EntryKind::CatalogItem], None)
        .await?
        .into_iter()
        .filter_map(|(_, e)| match e.event {
            Event::Fact(Fact::CatalogItem(c)) if c.sku == sku => Some(c),
            _ => None,
        })
        .last();
    let Some(item) = item else {
        return Err(AppError::new(
            Exit::Input,
            format!("{sku} is not in the catalog (import catalog.csv first)"),
        ));
    };
    let channel = if item.is_digital() {
        backstock_ledger::Channel::Digital
    } else {
        backstock_ledger::Channel::Physical
    };
    // A code means one SKU for the whole label: another SKU for a code on file is
    // refused here in those words (the journal's "other details" advice speaks of
    // files and ids, not of aliases). An alias reversed is no alias: the code can be
    // given again, under an id of its own (`alias:CODE:2`).
    let gone = crate::correct::reversed_ids(store, None).await?;
    let mut alias_id = format!("alias:{code}");
    for n in 2..=MAX_ALIAS_VERSIONS {
        let Some((_, e, _)) = store.entry(&alias_id).await? else {
            break;
        };
        if gone.contains(e.id.as_str()) {
            alias_id = format!("alias:{code}:{n}");
            continue;
        }
        if let Event::Fact(Fact::Alias { sku: on_file, .. }) = &e.event {
            if *on_file != sku {
                return Err(AppError::new(
                    Exit::Refused,
                    format!(
                        "code {code} already means {on_file} ({alias_id}, recorded {}): a code means one SKU for the whole label, whichever distributor sends it. If it was wrong, reverse it (`backstock correct {alias_id} --reason \"…\"`) and add it again; if two distributors use {code} for different items, their files need codes of their own",
                        e.known_on
                    ),
                ));
            }
        }
        break;
    }
    let today = crate::risk::today(store).await?;
    let command = format!("alias add {code} {sku}");
    let provenance = || Provenance::Command {
        user: user.to_string(),
        command: command.clone(),
    };
    let mut batch = vec![Entry {
        id: EntryId::new(alias_id.clone())
            .map_err(|e| AppError::new(Exit::Input, e.to_string()))?,
        effective_on: Date::EARLIEST,
        known_on: today,
        provenance: provenance(),
        event: Event::Fact(Fact::Alias {
            code: code.clone(),
            sku: sku.clone(),
        }),
    }];
    let held = unmatched_pending(store).await?;
    let mut by_statement: BTreeMap<(String, String), Vec<&UnmatchedLine>> = BTreeMap::new();
    for (_, u) in held.iter().filter(|(_, u)| u.code == code) {
        by_statement
            .entry((u.distributor.to_string(), u.statement_id.clone()))
            .or_default()
            .push(u);
    }
    let mut lines_posted = 0;
    for ((d, sid), lines) in &by_statement {
        let Some(first) = lines.first() else { continue };
        lines_posted += lines.len();
        batch.push(Entry {
            id: EntryId::new(free_held_id(store, &held_entry_id(d, sid, &code)).await?)
                .map_err(|e| AppError::new(Exit::Input, e.to_string()))?,
            effective_on: first.period_end,
            known_on: today.max(first.issued_on),
            provenance: provenance(),
            event: Event::Statement(Statement {
                statement_id: format!("{sid}+{code}"),
                distributor: first.distributor.clone(),
                period_start: first.period_start,
                period_end: first.period_end,
                issued_on: first.issued_on,
                currency: first.currency,
                lines: lines
                    .iter()
                    .map(|u| StatementLine {
                        kind: u.kind,
                        sku: Some(sku.clone()),
                        units: u.units,
                        amount_minor: u.amount_minor,
                        // A DSR's held line is digital whatever the SKU's format.
                        channel: if u.channel.is_physical() {
                            channel
                        } else {
                            u.channel
                        },
                    })
                    .collect(),
            }),
        });
    }
    crate::books::record(store, &batch, None).await?;
    Ok(AliasAdded {
        code,
        sku,
        entry_id: alias_id,
        lines_posted,
        statements: by_statement.len(),
    })
}
