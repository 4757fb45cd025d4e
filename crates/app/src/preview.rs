//! What an import will change and what in it deserves a second look, said before
//! anything is recorded (the dry run and the web preview) and again when it is:
//!
//! * [`changes`]: a statements file per SKU × kind (units and amount), and for every
//!   money account of the label it moves, the balance before → after.
//! * [`warnings`]: consignments to a distributor with no UCC-1 in effect (the label's
//!   title is not perfected against the distributor's lenders), payments that match no
//!   statement sent or no open balance, stock reports that differ from the books.
//!
//! Bounded: at most [`MAX_ROWS`] rows of each list are shown, the rest counted.

use crate::AppError;
use backstock_domain::{Currency, Date, Money, PartyId};
use backstock_ingest::Kind;
use backstock_ledger::engine::TransferId;
use backstock_ledger::facts::Fact;
use backstock_ledger::{AccountKey, Entry, EntryKind, Event, LedgerView, Phase};
use backstock_store::query::StockFilter;
use backstock_store::Store;
use std::collections::{BTreeMap, BTreeSet};

/// Consignments to one distributor: units, shipment ids, units by SKU.
type Consigned<'a> = (
    u64,
    BTreeSet<&'a str>,
    BTreeMap<&'a backstock_domain::Sku, u64>,
);

/// Rows of a list shown before "… and N more".
pub const MAX_ROWS: usize = 20;

/// A view of the ledger for expanding entries in a preview: no open reserves (a
/// reserve release previews as nothing released).
struct NoReserves;

impl LedgerView for NoReserves {
    fn open_reserves(&self, _: &PartyId, _: Currency) -> Vec<(TransferId, u64)> {
        Vec::new()
    }
    fn pending_open(&self, _: TransferId) -> bool {
        false
    }
}

fn more(n: usize) -> String {
    if n > MAX_ROWS {
        format!(
            "    … and {} more\n",
            crate::output::thousands(i64::try_from(n - MAX_ROWS).unwrap_or(i64::MAX))
        )
    } else {
        String::new()
    }
}

/// What the entries change, as indented lines (empty when there is nothing to say).
pub async fn changes(store: &Store, kind: Kind, entries: &[Entry]) -> Result<String, AppError> {
    let mut out = String::new();
    if kind == Kind::Statements {
        // Per statement × SKU × kind, largest amounts first.
        let mut rows: Vec<(String, String, String, i64, Money)> = Vec::new();
        for e in entries {
            if let Event::Statement(st) = &e.event {
                for l in &st.lines {
                    rows.push((
                        format!("{} {}", st.distributor, st.statement_id),
                        l.sku.as_ref().map(|s| s.to_string()).unwrap_or_default(),
                        l.kind.as_str().to_string(),
                        l.units,
                        Money::from_minor(l.amount_minor, st.currency),
                    ));
                }
            }
        }
        if !rows.is_empty() {
            rows.sort_by_key(|r| std::cmp::Reverse(r.4.minor().unsigned_abs()));
            out.push_str("  per SKU and kind (largest first):\n");
            for (st, sku, k, units, amount) in rows.iter().take(MAX_ROWS) {
                out.push_str(&format!(
                    "    {st}  {k:<16} {:<14} {:>8} units  {:>16}\n",
                    if sku.is_empty() { "—" } else { sku },
                    crate::output::thousands(*units),
                    crate::output::money(*amount)
                ));
            }
            out.push_str(&more(rows.len()));
        }
    }
    // Balances of the label's money accounts: before → after.
    let mut delta: BTreeMap<(String, String, Currency), i128> = BTreeMap::new();
    for e in entries {
        let Ok(ps) = e.postings(&NoReserves) else {
            continue;
        };
        for p in ps {
            if !matches!(p.phase, Phase::Posted) {
                continue;
            }
            for (key, sign) in [(&p.debit, 1i128), (&p.credit, -1i128)] {
                if let AccountKey::Money(m) = key {
                    if m.party().is_label() {
                        *delta
                            .entry((
                                m.counterparty().to_string(),
                                m.kind().as_str().to_string(),
                                m.currency(),
                            ))
                            .or_default() += sign * i128::from(p.amount);
                    }
                }
            }
        }
    }
    delta.retain(|_, d| *d != 0);
    if delta.is_empty() {
        return Ok(out);
    }
    let before: BTreeMap<(String, String, String), i64> = store
        .balances(None, None)
        .await?
        .into_iter()
        .filter(|b| b.party == PartyId::LABEL)
        .map(|b| ((b.counterparty, b.kind, b.currency), b.balance_minor))
        .collect();
    let mut rows: Vec<_> = delta.into_iter().collect();
    rows.sort_by_key(|(_, d)| std::cmp::Reverse(d.unsigned_abs()));
    out.push_str("  balances, before → after:\n");
    for ((cp, k, cur), d) in rows.iter().take(MAX_ROWS) {
        let b = before
            .get(&(cp.clone(), k.clone(), cur.code().to_string()))
            .copied()
            .unwrap_or(0);
        let after = i128::from(b) + d;
        // In each account's natural sign, as `balances` shows it (revenue positive).
        let debit_normal =
            backstock_ledger::MoneyKind::parse(k).is_none_or(|m| m.is_debit_normal());
        let (b, after) = if debit_normal {
            (i128::from(b), after)
        } else {
            (-i128::from(b), -after)
        };
        let b = i64::try_from(b).unwrap_or(i64::MAX);
        let after = i64::try_from(after).unwrap_or(i64::MAX);
        out.push_str(&format!(
            "    {cp:<14} {k:<18} {:>16} → {:>16}\n",
            crate::output::money(Money::from_minor(b, *cur)),
            crate::output::money(Money::from_minor(after, *cur))
        ));
    }
    out.push_str(&more(rows.len()));
    Ok(out)
}

/// A statements file is checked against the label's holdings for files of at most
/// this many period ends (each is one read of every holding: a label group's yearly
/// file of 60 statements is not made to wait for twelve).
const OVERSOLD_CHECK_PERIOD_ENDS: usize = 4;

/// Statements that report more units of a SKU sold (net of returns) than the
/// distributor holds of the label's on the books by the period's end — less what
/// earlier statements of the same file sold. Recorded, that holding goes below zero
/// without a word (`stock` shows it negative): said before, with what to check.
/// Statements in a currency other than their distributor's agreement: recorded as
/// they are (a distributor may really bill in two), but what is owed in them stands
/// apart from the agreement's currency — its credit limit, and a claim pack, count that
/// one — so a mistyped currency is said before it is recorded, as for a payment.
async fn foreign_currency(store: &Store, entries: &[Entry]) -> Result<Vec<String>, AppError> {
    let mut by: BTreeMap<(&PartyId, Currency), Vec<&str>> = BTreeMap::new();
    for e in entries {
        if let Event::Statement(st) = &e.event {
            by.entry((&st.distributor, st.currency))
                .or_default()
                .push(st.statement_id.as_str());
        }
    }
    if by.is_empty() {
        return Ok(Vec::new());
    }
    let mut agreed: BTreeMap<PartyId, backstock_domain::Currency> = BTreeMap::new();
    for e in crate::standing_entries(store, &[EntryKind::Agreement]).await? {
        if let Event::Fact(Fact::Agreement(a)) = e.event {
            agreed.insert(a.distributor, a.currency);
        }
    }
    // The agreements of this same file count too (an opening import of everything).
    for e in entries {
        if let Event::Fact(Fact::Agreement(a)) = &e.event {
            agreed.insert(a.distributor.clone(), a.currency);
        }
    }
    let mut out = Vec::new();
    for ((d, cur), ids) in by {
        let Some(agreement) = agreed.get(d).copied().filter(|a| *a != cur) else {
            continue;
        };
        out.push(format!(
            "statement{} {} of {d} {} in {cur}, but its agreement is in {agreement}: what is owed on {} stands apart from the agreement's currency (its credit limit counts {agreement}; a claim pack lists {cur} apart, never converted) — check the currency",
            if ids.len() == 1 { "" } else { "s" },
            ids.iter().take(5).copied().collect::<Vec<_>>().join(", ")
                + &match ids.len() {
                    n if n > 5 => format!(" ({} more)", n - 5),
                    _ => String::new(),
                },
            if ids.len() == 1 { "is" } else { "are" },
            if ids.len() == 1 { "it" } else { "them" },
        ));
    }
    Ok(out)
}

/// A statement's totals per kind × channel, in one order: what two copies of one
/// statement share whatever number each was sent under.
fn statement_totals(
    st: &backstock_ledger::Statement,
) -> Option<Vec<(backstock_ledger::LineKind, bool, i64, i64)>> {
    let d = st.digest()?;
    let mut t: Vec<_> = d
        .lines
        .iter()
        .map(|l| (l.kind, l.channel.is_physical(), l.units, l.amount_minor))
        .collect();
    t.sort_by_key(|x| (format!("{:?}", x.0), x.1, x.2, x.3));
    Some(t)
}

/// Statements that repeat one already on the books (or earlier in the same file)
/// under another number: the same distributor, the same period, the same currency
/// and the same totals per kind and channel. Recorded, the sales count twice (the
/// receivable, the stock sold, the artists' royalties): a distributor re-sending a
/// statement with a new number is said before it is recorded, with the way out.
async fn resent(store: &Store, entries: &[Entry]) -> Result<Vec<String>, AppError> {
    type Key = (PartyId, Date, Date, Currency);
    let new: Vec<&backstock_ledger::Statement> = entries
        .iter()
        .filter_map(|e| match &e.event {
            Event::Statement(st) if !st.lines.is_empty() => Some(st),
            _ => None,
        })
        .collect();
    if new.is_empty() {
        return Ok(Vec::new());
    }
    let wanted: BTreeSet<&PartyId> = new.iter().map(|s| &s.distributor).collect();
    let gone = crate::correct::reversed_ids(store, None).await?;
    // (statement id, issued on, totals) of the statements standing, by key.
    // (statement id, issued on, totals, whether it is in this file).
    type Seen = Vec<(
        String,
        Date,
        Vec<(backstock_ledger::LineKind, bool, i64, i64)>,
        bool,
    )>;
    let mut seen: BTreeMap<Key, Seen> = BTreeMap::new();
    store
        .for_each_digested_entry(&[EntryKind::Statement], None, |_, e| {
            if gone.contains(e.id.as_str()) {
                return Ok(());
            }
            if let Event::Statement(st) = &e.event {
                if wanted.contains(&st.distributor) && !st.lines.is_empty() {
                    if let Some(t) = statement_totals(st) {
                        seen.entry((
                            st.distributor.clone(),
                            st.period_start,
                            st.period_end,
                            st.currency,
                        ))
                        .or_default()
                        .push((
                            st.statement_id.clone(),
                            st.issued_on,
                            t,
                            false,
                        ));
                    }
                }
            }
            Ok(())
        })
        .await?;
    let mut out = Vec::new();
    for st in new {
        let Some(t) = statement_totals(st) else {
            continue;
        };
        let key = (
            st.distributor.clone(),
            st.period_start,
            st.period_end,
            st.currency,
        );
        let list = seen.entry(key).or_default();
        if let Some((id, issued, _, in_file)) = list
            .iter()
            .find(|(id, _, tt, _)| *id != st.statement_id && *tt == t)
        {
            out.push(format!(
                "statement {} of {} ({} to {}) has the same sales, returns and amounts as statement {id} (issued {issued}) {}: if the distributor sent the same statement again under a new number, its sales would count twice — leave it out, or correct one of them afterwards (`backstock correct statement:{}:{} --reason \"sent twice\"`)",
                st.statement_id,
                st.distributor,
                st.period_start,
                st.period_end,
                if *in_file { "earlier in this file" } else { "already on the books" },
                st.distributor,
                st.statement_id
            ));
            if out.len() == 10 {
                break;
            }
        }
        if !list.iter().any(|(id, _, _, _)| *id == st.statement_id) {
            list.push((st.statement_id.clone(), st.issued_on, t, true));
        }
    }
    Ok(out)
}

async fn oversold(store: &Store, entries: &[Entry]) -> Result<Vec<String>, AppError> {
    let mut stmts: Vec<&backstock_ledger::Statement> = entries
        .iter()
        .filter_map(|e| match &e.event {
            Event::Statement(s) => Some(s),
            _ => None,
        })
        .collect();
    stmts.sort_by_key(|s| s.period_end);
    let ends: BTreeSet<Date> = stmts.iter().map(|s| s.period_end).collect();
    if stmts.is_empty() || ends.len() > OVERSOLD_CHECK_PERIOD_ENDS {
        return Ok(Vec::new());
    }
    let label = PartyId::label();
    let mut held_on: BTreeMap<Date, BTreeMap<(PartyId, backstock_domain::Sku), i64>> =
        BTreeMap::new();
    // What it holds on the books now: statements recorded since a period's end (one
    // issued late, a January statement received in April) sold from the same units,
    // which the books as known by the period's end do not show yet.
    let mut held_now: Option<BTreeMap<(PartyId, backstock_domain::Sku), i64>> = None;
    let mut sold_before: BTreeMap<(&PartyId, &backstock_domain::Sku), i64> = BTreeMap::new();
    let mut out = Vec::new();
    for s in stmts {
        let mut net: BTreeMap<&backstock_domain::Sku, i64> = BTreeMap::new();
        for l in s.lines.iter().filter(|l| l.channel.is_physical()) {
            let Some(sku) = &l.sku else { continue };
            let n = net.entry(sku).or_insert(0);
            match l.kind {
                backstock_ledger::LineKind::Sale => *n = n.saturating_add(l.units),
                backstock_ledger::LineKind::Return => *n = n.saturating_sub(l.units),
                _ => {}
            }
        }
        if net.values().all(|n| *n <= 0) {
            continue;
        }
        if let std::collections::btree_map::Entry::Vacant(e) = held_on.entry(s.period_end) {
            e.insert(store.holdings_of(&label, Some(s.period_end)).await?);
        }
        if held_now.is_none() {
            held_now = Some(store.holdings_of(&label, None).await?);
        }
        let (held, now) = (&held_on[&s.period_end], held_now.as_ref());
        // (SKU, units sold, held by the period's end, held now)
        let mut over: Vec<(&backstock_domain::Sku, i64, i64, i64)> = Vec::new();
        for (sku, n) in net {
            let before = sold_before.entry((&s.distributor, sku)).or_insert(0);
            let key = (s.distributor.clone(), sku.clone());
            let has = held.get(&key).copied().unwrap_or(0).saturating_sub(*before);
            let has_now = now
                .and_then(|h| h.get(&key))
                .copied()
                .unwrap_or(0)
                .saturating_sub(*before);
            *before = before.saturating_add(n);
            if n > 0 && (n > has || n > has_now) {
                over.push((sku, n, has, has_now));
            }
        }
        let Some((sku, n, has, has_now)) = over.first() else {
            continue;
        };
        let more = match over.len() - 1 {
            0 => String::new(),
            1 => " (and 1 more SKU)".to_string(),
            k => format!(" (and {k} more SKUs)"),
        };
        if n > has {
            out.push(format!(
                "statement {} from {} reports {n} × {sku} sold, more than the {has} it holds of the label's on the books by {}{more}: recorded, its holding goes below zero — check the statement's units, or record the shipment they came from first",
                s.statement_id, s.distributor, s.period_end
            ));
        } else {
            out.push(format!(
                "statement {} from {} reports {n} × {sku} sold, more than the {} it holds of the label's on the books now — statements recorded after {} sold the rest{more}: recorded, its holding goes below zero — check whether it repeats a statement on file, or record the shipment they came from first",
                s.statement_id,
                s.distributor,
                (*has_now).max(0),
                s.period_end
            ));
        }
    }
    Ok(out)
}

/// An X12 report (852, 867) says units and their price, nothing of the distributor's
/// fee or reserve: its statements are recorded at their gross value. Where the
/// agreement takes a fee or keeps a reserve, that is more than the distributor will
/// pay — said, with what to do, so the receivable is not taken at its word.
async fn x12_gross(store: &Store, entries: &[Entry]) -> Result<Vec<String>, AppError> {
    let mut gross: BTreeMap<&PartyId, (usize, i128, Currency)> = BTreeMap::new();
    for e in entries {
        if let Event::Statement(st) = &e.event {
            let x = gross.entry(&st.distributor).or_insert((0, 0, st.currency));
            x.0 += 1;
            if x.2 == st.currency {
                x.1 += i128::from(st.net_due_minor().unwrap_or(0));
            }
        }
    }
    if gross.is_empty() {
        return Ok(Vec::new());
    }
    let mut terms: BTreeMap<PartyId, (backstock_domain::Rate, backstock_domain::Rate)> =
        BTreeMap::new();
    for e in crate::standing_entries(store, &[EntryKind::Agreement]).await? {
        if let Event::Fact(Fact::Agreement(a)) = e.event {
            terms.insert(a.distributor, (a.fee_rate, a.reserve_rate));
        }
    }
    let mut out = Vec::new();
    for (d, (n, minor, cur)) in gross {
        let Some((fee, reserve)) = terms.get(d) else {
            continue;
        };
        let mut taken = Vec::new();
        if *fee != backstock_domain::Rate::ZERO {
            taken.push(format!("a {} fee", fee.percent_text()));
        }
        if *reserve != backstock_domain::Rate::ZERO {
            taken.push(format!("a {} reserve", reserve.percent_text()));
        }
        if taken.is_empty() {
            continue;
        }
        let total = i64::try_from(minor)
            .map(|m| crate::output::money(Money::from_minor(m, cur)))
            .unwrap_or_default();
        out.push(format!(
            "{} of {d} from this EDI report {} recorded at {} gross ({total}): the report carries no fee or reserve, and {d}'s agreement takes {} — the receivable counts the gross until a statement of the money (a canonical or mapped statements file with its fee and reserve lines) replaces it (`backstock correct`)",
            if n == 1 { "1 statement".to_string() } else { format!("{n} statements") },
            if n == 1 { "is" } else { "are" },
            if n == 1 { "its" } else { "their" },
            taken.join(" and ")
        ));
    }
    Ok(out)
}

/// Statements issued before the last day of their period: a statement counts sales
/// that happened, so the dates are most often mistyped (a period end of the month
/// after, an issue day of the month before). Recorded as given and said, naming the
/// first.
fn issued_before_its_period_ends(entries: &[Entry]) -> Vec<String> {
    let early: Vec<&backstock_ledger::Statement> = entries
        .iter()
        .filter_map(|e| match &e.event {
            Event::Statement(s) if s.issued_on < s.period_end => Some(s),
            _ => None,
        })
        .collect();
    let Some(first) = early.first() else {
        return Vec::new();
    };
    let more = match early.len() - 1 {
        0 => String::new(),
        1 => " (and 1 more statement)".to_string(),
        k => format!(" (and {k} more statements)"),
    };
    vec![format!(
        "statement {} from {} is issued on {}, before its period ends on {}{more}: recorded as given (its sales count on its period's last day) — check the dates: a statement can only report sales already made",
        first.statement_id, first.distributor, first.issued_on, first.period_end
    )]
}

/// Entries dated after the label's today (a mistyped year, most often): recorded, but
/// no report shows them until that day comes.
async fn future_dated(store: &Store, entries: &[Entry]) -> Result<Vec<String>, AppError> {
    if entries.iter().all(|e| e.effective_on == Date::EARLIEST) {
        return Ok(Vec::new());
    }
    let today = crate::risk::today(store).await?;
    let late: Vec<(Date, &Entry)> = entries
        .iter()
        .filter(|e| e.effective_on != Date::EARLIEST)
        .map(|e| (e.effective_on.max(e.known_on), e))
        .filter(|(d, _)| *d > today)
        .collect();
    let Some((first_on, first)) = late.iter().min_by_key(|(d, _)| *d) else {
        return Ok(Vec::new());
    };
    Ok(vec![format!(
        "{} entr{} dated after the label's today ({today}), the first {} on {first_on}: no report shows {} before that day — check the year",
        late.len(),
        if late.len() == 1 { "y is" } else { "ies are" },
        first.id,
        if late.len() == 1 { "it" } else { "them" }
    )])
}

/// Opening stock where the books already hold the label's units (history entered
/// before it): opening units are added, not a count of what is there — said, so the
/// label does not end up holding both.
async fn opening_over_history(store: &Store, entries: &[Entry]) -> Result<Vec<String>, AppError> {
    let opening: Vec<(&PartyId, &backstock_domain::Sku, u64, Date)> = entries
        .iter()
        .filter_map(|e| match &e.event {
            Event::Manufacture {
                plant,
                to,
                sku,
                units,
                ..
            } if plant.as_str() == "plant:opening" => Some((to, sku, *units, e.effective_on)),
            _ => None,
        })
        .collect();
    let Some(last) = opening.iter().map(|o| o.3).max() else {
        return Ok(Vec::new());
    };
    let held: BTreeMap<(String, String), i64> = store
        .stock(&StockFilter {
            as_of: Some(last),
            owner: Some(PartyId::LABEL.into()),
            holder: None,
            sku: None,
            all: false,
        })
        .await?
        .into_iter()
        .filter(|r| r.state == "on_hand" && r.units != 0)
        .map(|r| ((r.holder, r.sku), r.units))
        .collect();
    let mut out = Vec::new();
    for (holder, sku, units, on) in opening {
        if let Some(h) = held.get(&(holder.to_string(), sku.to_string())) {
            out.push(format!(
                "opening stock of {units} × {sku} at {holder} on {on} is added to the {h} the books already hold there: opening.csv is for a label starting its books here; to check a count against the books, import it as a stock report instead"
            ));
        }
    }
    Ok(out)
}

/// Things in the entries a label should look at before (or right after) recording
/// them, one sentence each.
/// Statements of sales in a royalty period already run and locked: their royalties
/// count in the next run, not in the statements already sent — said at import, before
/// the artists' next statements say it.
async fn in_locked_royalty_period(
    store: &Store,
    entries: &[Entry],
) -> Result<Vec<String>, AppError> {
    let statements: Vec<&backstock_ledger::Statement> = entries
        .iter()
        .filter_map(|e| match &e.event {
            Event::Statement(st) => Some(st),
            _ => None,
        })
        .collect();
    if statements.is_empty() {
        return Ok(Vec::new());
    }
    let runs: Vec<backstock_royalties::Period> = crate::royalties::run_periods(store)
        .await?
        .iter()
        .filter_map(|p| backstock_royalties::Period::parse(p).ok())
        .collect();
    let Some(last) = runs.iter().max_by_key(|p| p.end()) else {
        return Ok(Vec::new());
    };
    let mut out = Vec::new();
    for st in statements {
        if st.period_end > last.end() {
            continue;
        }
        let within = runs
            .iter()
            .find(|p| p.start() <= st.period_end && st.period_end <= p.end())
            .map(|p| format!("royalty period {p}, already run and locked"))
            .unwrap_or_else(|| {
                format!("a time before royalty period {last}, already run and locked")
            });
        out.push(format!(
            "statement {} of {} (sales to {}) falls in {within}: its royalties count in the next royalty run, and the artists' statements of that run say so",
            st.statement_id, st.distributor, st.period_end
        ));
        if out.len() == 10 {
            break;
        }
    }
    Ok(out)
}

pub async fn warnings(
    store: &Store,
    kind: Kind,
    entries: &[Entry],
) -> Result<Vec<String>, AppError> {
    let mut out = future_dated(store, entries).await?;
    out.extend(in_locked_royalty_period(store, entries).await?);
    if kind == Kind::Opening {
        out.extend(opening_over_history(store, entries).await?);
        return Ok(out);
    }
    // Statements come in canonical and mapped files, and in EDI (852) and DSR files:
    // each is checked the same way (sent again under another number, selling more than
    // is held, another currency).
    if entries
        .iter()
        .any(|e| matches!(e.event, Event::Statement(_)))
    {
        out.extend(issued_before_its_period_ends(entries));
        if kind == Kind::X12 {
            out.extend(x12_gross(store, entries).await?);
        }
        out.extend(foreign_currency(store, entries).await?);
        out.extend(resent(store, entries).await?);
        out.extend(oversold(store, entries).await?);
    }
    if kind == Kind::Statements {
        return Ok(out);
    }
    if !matches!(kind, Kind::Shipments | Kind::Payments | Kind::StockReports) || entries.is_empty()
    {
        return Ok(out);
    }
    let today = crate::risk::today(store).await?;
    let snap = crate::risk::snapshot(store, today).await?;
    match kind {
        Kind::Shipments => {
            let th = crate::risk::thresholds(store).await?;
            // Consignments from the label to a distributor that keeps its title.
            let consigned: Vec<(&str, &PartyId, &backstock_domain::Sku, u64, Date)> = entries
                .iter()
                .filter_map(|e| match &e.event {
                    Event::Shipment {
                        shipment_id,
                        from,
                        to,
                        sku,
                        units,
                        ..
                    } if from.is_label() && !to.is_label() => {
                        Some((shipment_id.as_str(), to, sku, *units, e.effective_on))
                    }
                    _ => None,
                })
                .collect();
            // Perfection on each shipment's own date, as `legal` judges it.
            let asked: Vec<(&PartyId, Date)> = consigned
                .iter()
                .map(|(_, to, _, _, on)| (*to, *on))
                .collect();
            let perfection = backstock_risk::legal::perfection_on(&snap, &th, &asked);
            let mut by: BTreeMap<&PartyId, (u64, BTreeSet<&str>, String)> = BTreeMap::new();
            for ((id, to, _, units, _), p) in consigned.iter().zip(perfection) {
                if let Some(Err(why)) = p {
                    let s = by.entry(to).or_insert_with(|| (0, BTreeSet::new(), why));
                    s.0 = s.0.saturating_add(*units);
                    s.1.insert(id);
                }
            }
            // The credit check `ship` makes (refused there without --override), for
            // consignments dated from a month before the label's today on: older ones
            // are history being entered, not stock about to go out.
            let recent = today.add_days(-31);
            let mut held: BTreeMap<&PartyId, Consigned<'_>> = BTreeMap::new();
            for (id, to, sku, units, on) in &consigned {
                if *on >= recent {
                    let h = held.entry(to).or_default();
                    h.0 = h.0.saturating_add(*units);
                    h.1.insert(id);
                    *h.2.entry(sku).or_insert(0) += units;
                }
            }
            for (d, (units, ids, skus)) in held {
                let mut reasons: Vec<backstock_risk::credit::HoldReason> = Vec::new();
                for (sku, u) in skus {
                    for r in backstock_risk::credit::check(&snap, &th, d, sku, u) {
                        if !reasons.iter().any(|x| x.code == r.code) {
                            reasons.push(r);
                        }
                    }
                }
                if !reasons.is_empty() {
                    out.push(format!(
                        "consigns {units} units to {d} ({}) while {d} is on credit hold: {} — `backstock ship` refuses such a shipment without --override; record it only if it really went out",
                        ids.into_iter().take(5).collect::<Vec<_>>().join(", "),
                        reasons
                            .iter()
                            .map(|r| r.message.as_str())
                            .collect::<Vec<_>>()
                            .join("; ")
                    ));
                }
            }
            // Units coming back from (or moved on by) a distributor beyond what the
            // books say it holds: the ledger records what is reported, so say it here.
            // And units the label ships on a day it did not yet hold them (dated before
            // they were made or came back: the ledger checks what it holds today).
            let mut out_of: BTreeMap<(&PartyId, &backstock_domain::Sku), (u64, Date)> =
                BTreeMap::new();
            for e in entries {
                if let Event::Shipment {
                    from, sku, units, ..
                } = &e.event
                {
                    if !from.as_str().starts_with("plant:") {
                        let s = out_of.entry((from, sku)).or_insert((0, e.effective_on));
                        s.0 = s.0.saturating_add(*units);
                        s.1 = s.1.max(e.effective_on);
                    }
                }
            }
            // The label's own shipments are checked for files of a few SKUs (one query
            // each): a history of thousands is being entered, not stock going out.
            const LABEL_SKUS_CHECKED: usize = 50;
            if out_of.keys().filter(|(f, _)| f.is_label()).count() > LABEL_SKUS_CHECKED {
                out_of.retain(|(f, _), _| !f.is_label());
            }
            for ((from, sku), (units, on)) in out_of {
                let held: i64 = store
                    .stock(&StockFilter {
                        as_of: Some(on),
                        owner: Some(PartyId::LABEL.into()),
                        holder: Some(from.to_string()),
                        sku: Some(sku.to_string()),
                        all: false,
                    })
                    .await?
                    .iter()
                    .filter(|s| s.state == "on_hand")
                    .map(|s| s.units)
                    .sum();
                // What this same file delivers to it by then counts too (a consignment
                // and its return in one file).
                let arriving: u64 = entries
                    .iter()
                    .filter(|e| e.effective_on <= on)
                    .filter_map(|e| match &e.event {
                        Event::Shipment {
                            from: f,
                            to,
                            sku: s,
                            units,
                            ..
                        } if to == from && s == sku && f != from => Some(*units),
                        // A pressing delivered to the label in the same file.
                        Event::Manufacture {
                            to, sku: s, units, ..
                        } if to == from && s == sku => Some(*units),
                        _ => None,
                    })
                    .fold(0u64, u64::saturating_add);
                let held = held.saturating_add(i64::try_from(arriving).unwrap_or(i64::MAX));
                if i64::try_from(units).unwrap_or(i64::MAX) > held {
                    out.push(if from.is_label() {
                        format!(
                            "ships {units} × {sku} by {on}, when the label held {held} of them on the books by then: check the date (were they made or returned later?) — the books would show the label holding fewer than none that day"
                        )
                    } else {
                        format!(
                            "takes {units} × {sku} from {from}, which holds {held} on the books by {on}: check the count (a return of more than was consigned leaves {from}'s holding negative)"
                        )
                    });
                }
            }
            // A consignment naming a purchase order the books do not have (a typo, or
            // the orders file not imported yet): the order-to-shipment trail the claim
            // pack shows would have a gap.
            let named: BTreeSet<(&PartyId, &str)> = entries
                .iter()
                .filter_map(|e| match &e.event {
                    Event::Shipment {
                        to,
                        po_number: Some(po),
                        ..
                    } if !to.is_label() && !po.trim().is_empty() => Some((to, po.as_str())),
                    _ => None,
                })
                .collect();
            if !named.is_empty() {
                let mut on_file: BTreeSet<(PartyId, String)> = BTreeSet::new();
                store
                    .for_each_entry(&[EntryKind::PurchaseOrder], None, |_, e| {
                        if let Event::Fact(Fact::PurchaseOrder(po)) = e.event {
                            on_file.insert((po.distributor, po.po_number));
                        }
                        Ok(())
                    })
                    .await?;
                let missing: Vec<String> = named
                    .iter()
                    .filter(|(d, po)| !on_file.contains(&((*d).clone(), (*po).to_string())))
                    .map(|(d, po)| format!("{po} ({d})"))
                    .collect();
                if !missing.is_empty() {
                    out.push(format!(
                        "names purchase order{} not on file: {} — import purchase_orders.csv first, or check the number{}",
                        if missing.len() == 1 { "" } else { "s" },
                        missing.iter().take(5).cloned().collect::<Vec<_>>().join(", "),
                        match missing.len() {
                            n if n > 5 => format!(" ({} more)", n - 5),
                            _ => String::new(),
                        }
                    ));
                }
            }
            for (d, (units, ids, why)) in by {
                let why = if why.starts_with("no UCC-1") {
                    "no UCC-1 is on file".to_string()
                } else {
                    why
                };
                out.push(format!(
                    "consigns {units} units to {d} ({}) while {why}: the label's title is not perfected against {d}'s lenders — file a UCC-1 and send PMSI notices before the stock goes",
                    ids.into_iter().take(5).collect::<Vec<_>>().join(", ")
                ));
            }
        }
        Kind::Payments => {
            let recv = backstock_risk::receivables::compute(&snap, None);
            // What each distributor still owes on the books (in each currency, and per
            // statement), less the payments of this file read so far: a file of several
            // payments is judged as a whole.
            let mut owed: BTreeMap<(&PartyId, Currency), i64> = BTreeMap::new();
            for r in &recv {
                for b in std::iter::once(&r.book).chain(&r.other_currencies) {
                    owed.insert((&r.distributor, b.currency), b.net_receivable.minor());
                }
            }
            // The receivables with this file's payments applied, made when first needed.
            let mut with_file: Option<Vec<backstock_risk::receivables::DistributorReceivables>> =
                None;
            for e in entries {
                let Event::PaymentReceived {
                    payment_id,
                    distributor,
                    amount,
                    statement_id,
                } = &e.event
                else {
                    continue;
                };
                let shown = crate::output::money(*amount);
                let Some(r) = recv.iter().find(|r| &r.distributor == distributor) else {
                    out.push(format!(
                        "payment {payment_id} of {shown} comes from {distributor}, which has no agreement on file"
                    ));
                    continue;
                };
                let all = || {
                    std::iter::once(&r.book)
                        .chain(&r.other_currencies)
                        .flat_map(|b| b.statements.iter().map(move |s| (b.currency, s)))
                };
                // As written, or (when only one matches) in another case, as the books
                // apply it.
                let statement = statement_id.as_deref().and_then(|sid| {
                    all().find(|(_, s)| s.statement_id == sid).or_else(|| {
                        let mut like =
                            all().filter(|(_, s)| s.statement_id.eq_ignore_ascii_case(sid));
                        match (like.next(), like.next()) {
                            (Some(x), None) => Some(x),
                            _ => None,
                        }
                    })
                });
                if let (Some(sid), None) = (statement_id, statement) {
                    out.push(format!(
                        "payment {payment_id} of {shown} names statement {sid}, which {distributor} never sent (as far as the books know)"
                    ));
                    continue;
                }
                if let Some((cur, _)) = statement.filter(|(cur, _)| *cur != amount.currency()) {
                    out.push(format!(
                        "payment {payment_id} of {shown} names statement {}, which is in {cur}: a payment settles statements of its own currency only, so it will stand apart as {} paid with nothing owed in it — check the currency",
                        statement_id.as_deref().unwrap_or_default(),
                        amount.currency()
                    ));
                    continue;
                }
                if let Some((_, s)) = statement.filter(|(_, s)| s.issued_on > e.effective_on) {
                    out.push(format!(
                        "payment {payment_id} of {shown} is dated {}, before statement {} was issued ({}): check the payment's date (or the statement it names)",
                        e.effective_on, s.statement_id, s.issued_on
                    ));
                }
                if statement.is_none()
                    && r.book.currency != amount.currency()
                    && !r
                        .other_currencies
                        .iter()
                        .any(|b| b.currency == amount.currency())
                {
                    out.push(format!(
                        "payment {payment_id} of {shown} from {distributor} is in {}, but its agreement and statements are in {}: it will stand apart with nothing owed in it — check the currency",
                        amount.currency(),
                        r.book.currency
                    ));
                    continue;
                }
                if amount.minor() < 0 {
                    continue; // a bounced payment taken back: nothing to match
                }
                let left = owed.entry((distributor, amount.currency())).or_insert(0);
                let before = *left;
                *left = left.saturating_sub(amount.minor());
                let money = |m: i64| {
                    crate::output::money(backstock_domain::Money::from_minor(m, amount.currency()))
                };
                if before <= 0 {
                    out.push(format!(
                        "payment {payment_id} of {shown} from {distributor} matches no open statement: nothing is owed on the books"
                    ));
                } else if *left < 0 {
                    out.push(format!(
                        "payment {payment_id} of {shown} from {distributor} is more than the {} owed on the books: {} will stand as {distributor}'s credit",
                        money(before),
                        money(-*left)
                    ));
                } else if let Some((_, st)) = statement {
                    // What the books will apply to the statement it names, with this
                    // file's payments among the others in date order (a credit note
                    // dated after it does not come first): the rest goes elsewhere.
                    let sid = &st.statement_id;
                    let on_named: i64 = with_file
                        .get_or_insert_with(|| {
                            let mut all = snap.entries.clone();
                            all.extend(
                                entries
                                    .iter()
                                    .filter(|e| matches!(e.event, Event::PaymentReceived { .. }))
                                    .cloned(),
                            );
                            let s = backstock_risk::Snapshot {
                                as_of: snap.as_of,
                                entries: all,
                                held: BTreeMap::new(),
                            };
                            backstock_risk::receivables::compute(&s, None)
                        })
                        .iter()
                        .filter(|x| &x.distributor == distributor)
                        .flat_map(|x| std::iter::once(&x.book).chain(&x.other_currencies))
                        .flat_map(|b| b.statements.iter())
                        // A part posted later under its id (`ID+CODE`) is the same
                        // statement, as the books apply a payment naming it.
                        .filter(|x| {
                            &x.statement_id == sid
                                || x.statement_id
                                    .strip_prefix(sid.as_str())
                                    .is_some_and(|rest| rest.starts_with('+'))
                        })
                        .flat_map(|x| x.payments.iter())
                        .filter(|p| p.cash && &p.payment_id == payment_id)
                        .map(|p| p.amount.minor())
                        .sum();
                    if on_named < amount.minor() && e.effective_on <= snap.as_of {
                        out.push(format!(
                            "payment {payment_id} of {shown} is more than the {} open on statement {sid} when it came: the rest, {}, goes to {distributor}'s other open statements",
                            money(on_named.max(0)),
                            money(amount.minor() - on_named.max(0))
                        ));
                    }
                }
            }
        }
        Kind::StockReports => {
            // Sales up to a report's date are on the books only once a statement
            // covering that date is in: before it, fewer units reported than the books
            // hold is what unreported sales look like (`reconcile` checks them once the
            // statement is in). More units than the books hold is said at once.
            let recv = backstock_risk::receivables::compute(&snap, None);
            let sold_through: BTreeMap<&PartyId, Date> = recv
                .iter()
                .filter_map(|r| {
                    let last = r.book.statements.iter().map(|s| s.period_end).max()?;
                    Some((&r.distributor, last))
                })
                .collect();
            let mut awaiting: BTreeMap<&PartyId, (usize, Date)> = BTreeMap::new();
            let reports: Vec<&backstock_ledger::facts::StockReport> = entries
                .iter()
                .filter_map(|e| match &e.event {
                    Event::Fact(Fact::StockReport(r)) => Some(r),
                    _ => None,
                })
                .collect();
            // What `reconcile` will compare each report with once it is recorded.
            let asked: Vec<_> = reports
                .iter()
                .map(|r| (&r.distributor, &r.sku, r.as_of))
                .collect();
            let expected = backstock_risk::reconcile::expected_units(&snap, &asked);
            let mut n = 0usize;
            for (r, books) in reports.into_iter().zip(expected) {
                let covered = sold_through
                    .get(&r.distributor)
                    .is_some_and(|through| *through >= r.as_of);
                if r.units_on_hand < books && !covered {
                    let a = awaiting.entry(&r.distributor).or_insert((0, r.as_of));
                    a.0 += 1;
                    a.1 = a.1.max(r.as_of);
                    continue;
                }
                if books != r.units_on_hand {
                    n += 1;
                    if n <= MAX_ROWS {
                        out.push(format!(
                            "{} reports {} × {} on {}; the books say {} ({:+})",
                            r.distributor,
                            r.units_on_hand,
                            r.sku,
                            r.as_of,
                            books,
                            r.units_on_hand - books
                        ));
                    }
                }
            }
            if n > MAX_ROWS {
                out.push(format!(
                    "… and {} more stock lines differ from the books",
                    n - MAX_ROWS
                ));
            }
            for (d, (lines, on)) in awaiting {
                let since = sold_through
                    .get(d)
                    .map(|t| format!("its statements run to {t}"))
                    .unwrap_or_else(|| "no statement of its sales is on file yet".into());
                out.push(format!(
                    "{d} reports fewer units than the books hold on {lines} stock line{} (to {on}); {since}, so sales not yet reported may explain it (the statement of sales for the period holding {on} should)",
                    if lines == 1 { "" } else { "s" }
                ));
            }
        }
        _ => {}
    }
    Ok(out)
}
