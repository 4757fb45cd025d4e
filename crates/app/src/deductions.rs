//! Deductions, write-offs and buy-backs: what the label does about money a distributor
//! kept and stock it still holds. Typed requests in, typed outcomes out; the CLI and the
//! web app render them.
//!
//! * [`list`] — deductions (a statement paid short: open, disputed; or settled:
//!   accepted, written off) as `backstock_risk::deductions` computes them.
//! * [`accept`] — the label accepts (part of) an open or disputed deduction with a
//!   reason: [`Event::DeductionAccepted`] posts it from the receivable to the
//!   `deduction` expense account.
//! * [`dispute`] — the label disputes an open deduction ([`Fact::DeductionDisputed`]):
//!   it stays owed and is shown as disputed until paid, accepted or written off.
//! * [`write_off`] — the label gives up a statement's open amount, or the distributor's
//!   whole open balance ([`Event::ReceivableWrittenOff`], receivable → bad debt).
//! * [`buy_back`] — the label buys its own consigned units back from the distributor
//!   holding them or its liquidator ([`Event::BuyBack`]: the units come home, what was
//!   paid goes from cash to the buy-back expense).
//!
//! **One clock.** Every action is dated `on` (default: the label's today,
//! [`crate::risk::today`]); it may be backdated but not dated after the label's today,
//! and is known on the label's today. What is outstanding is judged on the books as the
//! label knows them today.
//!
//! **Entry ids and repeats.** Ids are derived, so the journal says what each entry is:
//!
//! | action | entry id |
//! |---|---|
//! | accept | `deduction-accepted:{distributor}:{statement}:{n}` |
//! | dispute | `deduction-disputed:{distributor}:{statement}:{n}` |
//! | write-off | `write-off:{distributor}:{statement or "balance"}:{n}` |
//! | buy-back | `buyback:{id}` (id default `BB-{on}-{holder}-{sku}`) |
//!
//! where `n` numbers the entries of that kind for that statement (1, 2, …; corrected ones
//! included, so an id is never reused). The same command twice records once:
//!
//! * an acceptance or write-off identical to one already on record (same statement,
//!   reason, note, date, and amount when an amount is given) is answered with the
//!   recorded one and `recorded: false` — to accept or write off a second, equal part on
//!   purpose, say so in the note (or date it differently);
//! * accepting or writing off "the whole amount" again finds nothing left and is refused
//!   with what happened to it;
//! * disputing a statement already disputed records nothing and says since when;
//! * a buy-back's id defaults to its date, holder and SKU: the same buy-back twice is
//!   recorded once; a second one of the same SKU from the same holder on the same day
//!   needs its own `id`.

use crate::risk::{snapshot, thresholds, today};
use crate::{AppError, Exit};
use backstock_domain::{Currency, Date, Money, PartyId, Sku};
use backstock_ledger::facts::{DeductionDispute, DeductionReason};
use backstock_ledger::EntryKind;
use backstock_ledger::{Entry, EntryId, Event, Fact, Provenance};
use backstock_risk::deductions::{Deduction, DeductionStatus};
use backstock_risk::receivables::{DistributorReceivables, StatementStatus};
use backstock_risk::Snapshot;
use backstock_store::query::StockFilter;
use backstock_store::Store;
use serde::Serialize;

/// Money in JSON: `{"amount": "1234.56", "amount_minor": 123456, "currency": "USD"}`.
fn money_json<S: serde::Serializer>(m: &Money, s: S) -> Result<S::Ok, S::Error> {
    use serde::ser::SerializeStruct;
    let mut st = s.serialize_struct("Money", 3)?;
    st.serialize_field("amount", &m.to_decimal_string())?;
    st.serialize_field("amount_minor", &m.minor())?;
    st.serialize_field("currency", m.currency().code())?;
    st.end()
}

fn input(m: impl Into<String>) -> AppError {
    AppError::new(Exit::Input, m)
}

fn refused(m: impl Into<String>) -> AppError {
    AppError::new(Exit::Refused, m)
}

/// Money as a person reads it: `1,234.50 USD`.
fn shown(m: Money) -> String {
    crate::output::money(m)
}

// ---------------------------------------------------------------------------------------
// Inputs

/// An amount as typed: decimal text (never a float), with its currency when given
/// (`12.34`, `12.34 EUR`, `EUR 12.34`). Which currency it is in, when not given, is
/// decided by what it is for (the statement's, the agreement's).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Amount {
    pub decimal: String,
    pub currency: Option<Currency>,
}

impl Amount {
    pub fn parse(text: &str) -> Result<Amount, AppError> {
        let parts: Vec<&str> = text.split_whitespace().collect();
        let (decimal, currency) = match parts.as_slice() {
            [d] => (*d, None),
            [a, b] if a.chars().all(|c| c.is_ascii_alphabetic()) => (*b, Some(*a)),
            [a, b] => (*a, Some(*b)),
            _ => {
                return Err(input(format!(
                    "amount {text:?}: expected a decimal amount such as 12.34, optionally with its currency (12.34 USD)"
                )))
            }
        };
        let syntax = {
            let d = decimal.strip_prefix('-').unwrap_or(decimal);
            let (i, f) = d.split_once('.').unwrap_or((d, ""));
            !(i.is_empty() && f.is_empty())
                && i.chars().all(|c| c.is_ascii_digit())
                && f.chars().all(|c| c.is_ascii_digit())
        };
        if !syntax {
            return Err(input(format!(
                "amount {text:?}: expected a decimal amount such as 12.34 (a point for decimals, no thousands separators)"
            )));
        }
        let currency = currency
            .map(|c| Currency::parse(c).map_err(|e| input(format!("amount {text:?}: {e}"))))
            .transpose()?;
        Ok(Amount {
            decimal: decimal.to_string(),
            currency,
        })
    }

    /// The amount in `expected` (the currency it must be in); another currency named
    /// with it is refused, naming `what` it is for.
    pub fn in_currency(&self, expected: Currency, what: &str) -> Result<Money, AppError> {
        if let Some(c) = self.currency {
            if c != expected {
                return Err(input(format!(
                    "the amount is in {c}, but {what} is in {expected}"
                )));
            }
        }
        Money::parse(&self.decimal, expected).map_err(|e| input(format!("amount: {e}")))
    }
}

impl std::str::FromStr for Amount {
    type Err = String;
    fn from_str(s: &str) -> Result<Amount, String> {
        Amount::parse(s).map_err(|e| e.message().to_string())
    }
}

impl std::fmt::Display for Amount {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.currency {
            Some(c) => write!(f, "{} {c}", self.decimal),
            None => f.write_str(&self.decimal),
        }
    }
}

/// The reasons a deduction is accepted for, as typed (`co-op` and `co_op` alike).
pub fn parse_reason(s: &str) -> Result<DeductionReason, AppError> {
    DeductionReason::parse(s).ok_or_else(|| {
        input(format!(
            "reason {s:?}: expected one of {}",
            reason_choices().join(", ")
        ))
    })
}

/// The reasons as a person types them: freight, co-op, price-protection, …
pub fn reason_choices() -> Vec<String> {
    DeductionReason::ALL
        .iter()
        .map(|r| reason_words(*r))
        .collect()
}

/// A reason as typed on the command line: `co-op`, `price-protection`.
pub fn reason_words(r: DeductionReason) -> String {
    r.as_str().replace('_', "-")
}

fn party(what: &str, s: &str) -> Result<PartyId, AppError> {
    PartyId::parse(s).map_err(|e| input(format!("{what}: {e}")))
}

/// A distributor id as typed.
pub fn parse_party(what: &str, s: &str) -> Result<PartyId, AppError> {
    party(what, s)
}

/// A SKU as typed.
pub fn parse_sku(s: &str) -> Result<Sku, AppError> {
    Sku::parse(s).map_err(|e| input(format!("sku: {e}")))
}

fn clean(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

const MAX_TEXT: usize = 500;

fn text(what: &str, s: &str, required: bool) -> Result<String, AppError> {
    let s = clean(s);
    if required && s.is_empty() {
        return Err(input(format!("{what}: say why (it goes in the journal)")));
    }
    if s.chars().count() > MAX_TEXT {
        return Err(input(format!(
            "{what}: at most {MAX_TEXT} characters, please"
        )));
    }
    Ok(s)
}

// ---------------------------------------------------------------------------------------
// Shared checks

/// The label's today and the action's date (not after today).
async fn dates(store: &Store, on: Option<Date>) -> Result<(Date, Date), AppError> {
    let today = today(store).await?;
    let on = on.unwrap_or(today);
    if on > today {
        return Err(input(format!(
            "the date {on} is after the label's today ({today}); record it when it happens"
        )));
    }
    Ok((today, on))
}

fn receivables_of(snap: &Snapshot, d: &PartyId) -> Result<DistributorReceivables, AppError> {
    backstock_risk::receivables::compute(snap, Some(d))
        .into_iter()
        .next()
        .ok_or_else(|| {
            input(format!(
                "no distributor {d}: it has no agreement on record (import distributors.csv first)"
            ))
        })
}

fn statement_of<'a>(r: &'a DistributorReceivables, sid: &str) -> Option<&'a StatementStatus> {
    r.book
        .statements
        .iter()
        .chain(r.other_currencies.iter().flat_map(|b| b.statements.iter()))
        .find(|s| s.statement_id == sid)
}

fn known_statement<'a>(
    r: &'a DistributorReceivables,
    sid: &str,
) -> Result<&'a StatementStatus, AppError> {
    statement_of(r, sid).ok_or_else(|| {
        input(format!(
            "{} has no statement {sid:?} on record (its statements: `backstock receivables --distributor {} --format csv`)",
            r.distributor, r.distributor
        ))
    })
}

/// Why a statement has no deduction outstanding, in a sentence's second half.
fn nothing_outstanding(st: &StatementStatus, settled: &[Deduction], max_permille: i64) -> String {
    if st.open.is_zero() {
        let last = settled.iter().max_by_key(|x| x.since);
        return match last {
            Some(x) if x.status == DeductionStatus::Accepted => format!(
                "its deduction of {} was accepted on {}{}",
                shown(x.amount),
                x.since,
                x.entry_id
                    .as_ref()
                    .map(|id| format!(" ({id})"))
                    .unwrap_or_default()
            ),
            Some(x) => format!(
                "{} of it was written off on {}{}",
                shown(x.amount),
                x.since,
                x.entry_id
                    .as_ref()
                    .map(|id| format!(" ({id})"))
                    .unwrap_or_default()
            ),
            None => match st.settled_on {
                Some(d) => format!(
                    "it was paid in full on {d} ({} for {} due)",
                    shown(st.paid),
                    shown(st.net_due)
                ),
                None => format!("it owes nothing (net due {})", shown(st.net_due)),
            },
        };
    }
    if st.paid.is_zero() {
        return format!(
            "nothing has been paid on it yet: its {} open is unpaid, not deducted (to give it up, write it off)",
            shown(st.open)
        );
    }
    format!(
        "it was paid {} of {}: the {} still open is more than {} of it, so it is unpaid, not deducted (to give it up, write it off)",
        shown(st.paid),
        shown(st.net_due),
        shown(st.open),
        pct(max_permille)
    )
}

fn pct(permille: i64) -> String {
    if permille % 10 == 0 {
        format!("{}%", permille / 10)
    } else {
        format!("{}.{}%", permille / 10, (permille % 10).abs())
    }
}

/// Entries of one kind whose id starts with `prefix`, all of them (any date).
async fn entries_with_prefix(
    store: &Store,
    kind: EntryKind,
    prefix: &str,
) -> Result<Vec<Entry>, AppError> {
    Ok(store
        .entries(&[kind], None)
        .await?
        .into_iter()
        .map(|(_, e)| e)
        .filter(|e| e.id.as_str().starts_with(prefix))
        .collect())
}

fn entry(
    id: String,
    on: Date,
    known: Date,
    user: &str,
    command: String,
    event: Event,
) -> Result<Entry, AppError> {
    Ok(Entry {
        id: EntryId::new(id).map_err(|e| input(e.to_string()))?,
        effective_on: on,
        known_on: known.max(on),
        provenance: Provenance::Command {
            user: user.to_string(),
            command,
        },
        event,
    })
}

fn quoted(s: &str) -> String {
    format!("{s:?}")
}

// ---------------------------------------------------------------------------------------
// list

/// Which deductions to list.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DeductionQuery {
    /// Only this distributor's.
    pub distributor: Option<PartyId>,
    /// Also the settled ones (accepted, written off); by default only the outstanding
    /// ones (open, disputed).
    pub all: bool,
    /// As the label knew them on this day (default: its today).
    pub as_of: Option<Date>,
}

/// Deductions as of a date.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DeductionList {
    pub as_of: Date,
    /// Outstanding first (oldest first), then settled.
    pub deductions: Vec<Deduction>,
}

impl DeductionList {
    /// Σ outstanding amounts per currency.
    pub fn outstanding_totals(&self) -> Vec<Money> {
        let mut out: Vec<Money> = Vec::new();
        for d in self.deductions.iter().filter(|d| d.status.is_outstanding()) {
            match out.iter_mut().find(|m| m.currency() == d.amount.currency()) {
                Some(m) => {
                    *m = m.checked_add(d.amount).unwrap_or(*m);
                }
                None => out.push(d.amount),
            }
        }
        out
    }
}

pub async fn list(store: &Store, q: &DeductionQuery) -> Result<DeductionList, AppError> {
    let as_of = match q.as_of {
        Some(d) => d,
        None => today(store).await?,
    };
    let snap = snapshot(store, as_of).await?;
    if let Some(d) = &q.distributor {
        let known = snap
            .entries
            .iter()
            .any(|e| matches!(&e.event, Event::Fact(Fact::Agreement(a)) if &a.distributor == d));
        if !known {
            return Err(input(format!(
                "no distributor {d}: it has no agreement on record as of {as_of}"
            )));
        }
    }
    let th = thresholds(store).await?;
    Ok(DeductionList {
        as_of,
        deductions: of_snapshot(&snap, &th, q),
    })
}

/// [`list`] over a snapshot already made (the web app's cached books).
pub fn of_snapshot(
    snap: &Snapshot,
    th: &backstock_risk::Thresholds,
    q: &DeductionQuery,
) -> Vec<Deduction> {
    backstock_risk::deductions::compute(snap, th, q.distributor.as_ref())
        .into_iter()
        .filter(|d| q.all || d.status.is_outstanding())
        .collect()
}

// ---------------------------------------------------------------------------------------
// accept

/// Accept (part of) a deduction.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AcceptDeduction {
    pub distributor: PartyId,
    pub statement_id: String,
    /// Default: the whole outstanding amount.
    pub amount: Option<Amount>,
    pub reason: DeductionReason,
    pub note: String,
    /// Default: the label's today.
    pub on: Option<Date>,
}

/// A deduction accepted.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Accepted {
    pub entry_id: String,
    pub distributor: PartyId,
    pub statement_id: String,
    #[serde(serialize_with = "money_json")]
    pub amount: Money,
    pub reason: DeductionReason,
    pub note: String,
    pub on: Date,
    /// Still outstanding on the statement after it.
    #[serde(serialize_with = "money_json")]
    pub remaining: Money,
    /// False when the same acceptance was already on record (nothing new recorded).
    pub recorded: bool,
}

#[tracing::instrument(name = "accept", skip_all)]
pub async fn accept(
    store: &Store,
    req: &AcceptDeduction,
    user: &str,
) -> Result<Accepted, AppError> {
    let (today, on) = dates(store, req.on).await?;
    let note = text("note", &req.note, false)?;
    let sid = req.statement_id.trim();
    let d = &req.distributor;
    let snap = snapshot(store, today).await?;
    let th = thresholds(store).await?;
    let r = receivables_of(&snap, d)?;
    let st = known_statement(&r, sid)?;
    let cur = st.net_due.currency();
    let what = format!("statement {sid} of {d}");
    let requested = req
        .amount
        .as_ref()
        .map(|a| a.in_currency(cur, &what))
        .transpose()?;
    if let Some(m) = requested {
        if m.minor() <= 0 {
            return Err(input(format!(
                "the amount to accept must be more than zero (got {})",
                m.to_decimal_string()
            )));
        }
    }
    let all = backstock_risk::deductions::compute(&snap, &th, Some(d));
    let outstanding = all
        .iter()
        .find(|x| x.statement_id == sid && x.status.is_outstanding());

    // The same acceptance again: answer with the one on record.
    let prefix = format!("deduction-accepted:{d}:{sid}:");
    let earlier = entries_with_prefix(store, EntryKind::DeductionAccepted, &prefix).await?;
    let reversed = crate::correct::reversed_ids(store, None).await?;
    let same = earlier.iter().rev().find(|e| {
        !reversed.contains(e.id.as_str())
            && e.effective_on == on
            && matches!(&e.event, Event::DeductionAccepted { amount, reason, note: n, .. }
                if *reason == req.reason && *n == note
                    && match requested { Some(m) => *amount == m, None => outstanding.is_none() })
    });
    if let Some(e) = same {
        if let Event::DeductionAccepted { amount, .. } = &e.event {
            return Ok(Accepted {
                entry_id: e.id.to_string(),
                distributor: d.clone(),
                statement_id: sid.to_string(),
                amount: *amount,
                reason: req.reason,
                note,
                on,
                remaining: outstanding
                    .map(|x| x.amount)
                    .unwrap_or_else(|| Money::zero(cur)),
                recorded: false,
            });
        }
    }

    let Some(x) = outstanding else {
        let settled: Vec<Deduction> = all
            .iter()
            .filter(|x| x.statement_id == sid)
            .cloned()
            .collect();
        return Err(refused(format!(
            "{what} has nothing deducted to accept: {}",
            nothing_outstanding(st, &settled, th.deduction_max_permille)
        )));
    };
    let amount = requested.unwrap_or(x.amount);
    if amount.minor() > x.amount.minor() {
        return Err(refused(format!(
            "{what} has {} deducted ({}); {} is more than that",
            shown(x.amount),
            x.status,
            shown(amount)
        )));
    }
    if on < x.since {
        return Err(input(format!(
            "the date {on} is before the deduction arose ({}, when the statement was last paid)",
            x.since
        )));
    }
    let id = format!("{prefix}{}", earlier.len() + 1);
    let mut command = format!(
        "deduction accept {d} {sid} --reason {} --amount {}",
        reason_words(req.reason),
        amount.to_decimal_string()
    );
    if !note.is_empty() {
        command.push_str(&format!(" --note {}", quoted(&note)));
    }
    let e = entry(
        id.clone(),
        on,
        today,
        user,
        command,
        Event::DeductionAccepted {
            distributor: d.clone(),
            statement_id: sid.to_string(),
            amount,
            reason: req.reason,
            note: note.clone(),
        },
    )?;
    crate::books::record(store, &[e], None).await?;
    Ok(Accepted {
        entry_id: id,
        distributor: d.clone(),
        statement_id: sid.to_string(),
        amount,
        reason: req.reason,
        note,
        on,
        remaining: Money::from_minor(x.amount.minor() - amount.minor(), cur),
        recorded: true,
    })
}

// ---------------------------------------------------------------------------------------
// dispute

/// Dispute a deduction.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DisputeDeduction {
    pub distributor: PartyId,
    pub statement_id: String,
    /// Why (required).
    pub note: String,
    /// Default: the label's today.
    pub on: Option<Date>,
}

/// A deduction disputed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Disputed {
    /// The dispute's entry (the earlier one when it was already disputed).
    pub entry_id: Option<String>,
    pub distributor: PartyId,
    pub statement_id: String,
    #[serde(serialize_with = "money_json")]
    pub amount: Money,
    /// Disputed on (the earlier date when it was already disputed).
    pub on: Date,
    pub note: String,
    /// False when it was already disputed (nothing new recorded).
    pub recorded: bool,
}

#[tracing::instrument(name = "dispute", skip_all)]
pub async fn dispute(
    store: &Store,
    req: &DisputeDeduction,
    user: &str,
) -> Result<Disputed, AppError> {
    let (today, on) = dates(store, req.on).await?;
    let note = text("note", &req.note, true)?;
    let sid = req.statement_id.trim();
    let d = &req.distributor;
    let snap = snapshot(store, today).await?;
    let th = thresholds(store).await?;
    let r = receivables_of(&snap, d)?;
    let st = known_statement(&r, sid)?;
    let what = format!("statement {sid} of {d}");
    let all = backstock_risk::deductions::compute(&snap, &th, Some(d));
    let prefix = format!("deduction-disputed:{d}:{sid}:");
    let earlier = entries_with_prefix(store, EntryKind::DeductionDisputed, &prefix).await?;
    let Some(x) = all
        .iter()
        .find(|x| x.statement_id == sid && x.status.is_outstanding())
    else {
        let settled: Vec<Deduction> = all
            .iter()
            .filter(|x| x.statement_id == sid)
            .cloned()
            .collect();
        return Err(refused(format!(
            "{what} has nothing deducted to dispute: {}",
            nothing_outstanding(st, &settled, th.deduction_max_permille)
        )));
    };
    if x.status == DeductionStatus::Disputed {
        let since = x.disputed_on.unwrap_or(x.since);
        let entry_id = earlier
            .iter()
            .rev()
            .find(|e| matches!(&e.event, Event::Fact(Fact::DeductionDisputed(p)) if p.disputed_on == since))
            .or(earlier.last())
            .map(|e| e.id.to_string());
        return Ok(Disputed {
            entry_id,
            distributor: d.clone(),
            statement_id: sid.to_string(),
            amount: x.amount,
            on: since,
            note: x.note.clone().unwrap_or_default(),
            recorded: false,
        });
    }
    if on < x.since {
        return Err(input(format!(
            "the date {on} is before the deduction arose ({}, when the statement was last paid)",
            x.since
        )));
    }
    let id = format!("{prefix}{}", earlier.len() + 1);
    let e = entry(
        id.clone(),
        on,
        today,
        user,
        format!("deduction dispute {d} {sid} --note {}", quoted(&note)),
        Event::Fact(Fact::DeductionDisputed(DeductionDispute {
            distributor: d.clone(),
            statement_id: sid.to_string(),
            amount: x.amount,
            disputed_on: on,
            note: note.clone(),
        })),
    )?;
    crate::books::record(store, &[e], None).await?;
    Ok(Disputed {
        entry_id: Some(id),
        distributor: d.clone(),
        statement_id: sid.to_string(),
        amount: x.amount,
        on,
        note,
        recorded: true,
    })
}

// ---------------------------------------------------------------------------------------
// write-off

/// Write off a statement's open amount, or (no statement) the distributor's balance.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WriteOff {
    pub distributor: PartyId,
    pub statement_id: Option<String>,
    /// Default: the statement's open amount, or the distributor's whole open balance.
    pub amount: Option<Amount>,
    pub reason: String,
    /// Default: the label's today.
    pub on: Option<Date>,
}

/// A receivable written off.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct WrittenOff {
    pub entry_id: String,
    pub distributor: PartyId,
    pub statement_id: Option<String>,
    #[serde(serialize_with = "money_json")]
    pub amount: Money,
    pub reason: String,
    pub on: Date,
    /// Open on the statement (or owed in all) before and after.
    #[serde(serialize_with = "money_json")]
    pub open_before: Money,
    #[serde(serialize_with = "money_json")]
    pub open_after: Money,
    /// False when the same write-off was already on record (nothing new recorded).
    pub recorded: bool,
}

#[tracing::instrument(name = "write_off", skip_all)]
pub async fn write_off(store: &Store, req: &WriteOff, user: &str) -> Result<WrittenOff, AppError> {
    let (today, on) = dates(store, req.on).await?;
    let reason = text("reason", &req.reason, true)?;
    let d = &req.distributor;
    let sid = req
        .statement_id
        .as_deref()
        .map(str::trim)
        .filter(|s| !s.is_empty());
    let snap = snapshot(store, today).await?;
    let th = thresholds(store).await?;
    let r = receivables_of(&snap, d)?;
    // What is open, in which currency, and what the refusal would say.
    let (open, cur, what, nothing) = match sid {
        Some(sid) => {
            let st = known_statement(&r, sid)?;
            if on < st.issued_on {
                return Err(input(format!(
                    "the date {on} is before statement {sid} was issued ({})",
                    st.issued_on
                )));
            }
            let settled: Vec<Deduction> = backstock_risk::deductions::compute(&snap, &th, Some(d))
                .into_iter()
                .filter(|x| x.statement_id == sid)
                .collect();
            (
                st.open,
                st.open.currency(),
                format!("statement {sid} of {d}"),
                nothing_outstanding(st, &settled, th.deduction_max_permille),
            )
        }
        None => {
            let cur = req
                .amount
                .as_ref()
                .and_then(|a| a.currency)
                .unwrap_or(r.book.currency);
            let book = std::iter::once(&r.book)
                .chain(r.other_currencies.iter())
                .find(|b| b.currency == cur);
            let open = book
                .map(|b| b.net_receivable)
                .unwrap_or_else(|| Money::zero(cur));
            (
                Money::from_minor(open.minor().max(0), cur),
                cur,
                format!("{d}'s balance in {cur}"),
                format!("{d} owes nothing in {cur} (open balance {})", shown(open)),
            )
        }
    };
    let requested = req
        .amount
        .as_ref()
        .map(|a| a.in_currency(cur, &what))
        .transpose()?;
    if let Some(m) = requested {
        if m.minor() <= 0 {
            return Err(input(format!(
                "the amount to write off must be more than zero (got {})",
                m.to_decimal_string()
            )));
        }
    }
    let prefix = format!("write-off:{d}:{}:", sid.unwrap_or("balance"));
    let earlier = entries_with_prefix(store, EntryKind::ReceivableWrittenOff, &prefix).await?;
    let reversed = crate::correct::reversed_ids(store, None).await?;
    let same = earlier.iter().rev().find(|e| {
        !reversed.contains(e.id.as_str())
            && e.effective_on == on
            && matches!(&e.event, Event::ReceivableWrittenOff { amount, reason: r, .. }
                if *r == reason
                    && match requested { Some(m) => *amount == m, None => open.minor() <= 0 })
    });
    if let Some(e) = same {
        if let Event::ReceivableWrittenOff { amount, .. } = &e.event {
            return Ok(WrittenOff {
                entry_id: e.id.to_string(),
                distributor: d.clone(),
                statement_id: sid.map(String::from),
                amount: *amount,
                reason,
                on,
                open_before: open,
                open_after: open,
                recorded: false,
            });
        }
    }
    if open.minor() <= 0 {
        return Err(refused(format!(
            "{what} has nothing open to write off: {nothing}"
        )));
    }
    let amount = requested.unwrap_or(open);
    if amount.minor() > open.minor() {
        return Err(refused(format!(
            "{what} has {} open; {} is more than that",
            shown(open),
            shown(amount)
        )));
    }
    let id = format!("{prefix}{}", earlier.len() + 1);
    let mut command = format!("writeoff {d}");
    if let Some(s) = sid {
        command.push_str(&format!(" --statement {s}"));
    }
    command.push_str(&format!(
        " --amount {} --reason {}",
        amount.to_decimal_string(),
        quoted(&reason)
    ));
    let e = entry(
        id.clone(),
        on,
        today,
        user,
        command,
        Event::ReceivableWrittenOff {
            distributor: d.clone(),
            statement_id: sid.map(String::from),
            amount,
            reason: reason.clone(),
        },
    )?;
    crate::books::record(store, &[e], None).await?;
    Ok(WrittenOff {
        entry_id: id,
        distributor: d.clone(),
        statement_id: sid.map(String::from),
        amount,
        reason,
        on,
        open_before: open,
        open_after: Money::from_minor(open.minor() - amount.minor(), cur),
        recorded: true,
    })
}

// ---------------------------------------------------------------------------------------
// buy-back

/// Buy consigned units back from the distributor holding them (or its liquidator).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BuyBack {
    pub holder: PartyId,
    pub sku: Sku,
    pub units: u64,
    /// The units are held against the label's will (detained) at the holder.
    pub detained: bool,
    /// Paid in all (zero if nothing); its currency defaults to the holder's agreement's.
    pub paid: Amount,
    /// Who was paid (default: the holder's legal name).
    pub paid_to: Option<String>,
    /// The buy-back's id (default `BB-{on}-{holder}-{sku}`).
    pub id: Option<String>,
    /// Default: the label's today.
    pub on: Option<Date>,
}

/// Units bought back.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct BoughtBack {
    pub entry_id: String,
    pub buyback_id: String,
    pub holder: PartyId,
    pub sku: Sku,
    pub units: u64,
    pub detained: bool,
    #[serde(serialize_with = "money_json")]
    pub paid: Money,
    pub paid_to: String,
    pub on: Date,
    /// Label-owned units of the SKU the holder held (on hand, or detained) before and
    /// after.
    pub held_before: i64,
    pub held_after: i64,
    /// False when the same buy-back was already on record (nothing new recorded).
    pub recorded: bool,
}

async fn held(
    store: &Store,
    holder: &PartyId,
    sku: &Sku,
    on: Date,
) -> Result<(i64, i64), AppError> {
    let rows = store
        .stock(&StockFilter {
            as_of: Some(on),
            owner: Some(PartyId::LABEL.into()),
            holder: Some(holder.to_string()),
            sku: Some(sku.to_string()),
            all: false,
        })
        .await?;
    let sum = |state: &str| {
        rows.iter()
            .filter(|r| r.state == state && r.holder == holder.as_str() && r.sku == sku.as_str())
            .map(|r| r.units)
            .sum::<i64>()
    };
    Ok((sum("on_hand"), sum("detained")))
}

/// Label-owned units of `sku` at `holder` on `on`, on hand and detained, by the
/// journal as known now (every entry recorded so far, effective by `on`): an action
/// dated back — units bought back on the 1st that were recorded today as detained
/// since the month before — is judged by what the label's records now say of that
/// day, not by what had been recorded by then.
fn held_known_now(snap: &Snapshot, holder: &PartyId, sku: &Sku, on: Date) -> (i64, i64) {
    let total = backstock_risk::reconcile::expected_units(snap, &[(holder, sku, on)])
        .first()
        .copied()
        .unwrap_or(0);
    let reversed: std::collections::BTreeSet<&str> = snap
        .entries
        .iter()
        .filter_map(|e| match &e.event {
            Event::Correction { reverses, .. } => Some(reverses.as_str()),
            _ => None,
        })
        .collect();
    let mut detained = 0i64;
    for e in snap
        .entries
        .iter()
        .filter(|e| e.effective_on <= on && !reversed.contains(e.id.as_str()))
    {
        match &e.event {
            Event::Detention {
                holder: h,
                sku: s,
                units,
                ..
            } if h == holder && s == sku => detained = detained.saturating_add(*units),
            Event::BuyBack {
                holder: h,
                sku: s,
                units,
                detained: true,
                ..
            } if h == holder && s == sku => {
                detained = detained.saturating_sub(i64::try_from(*units).unwrap_or(i64::MAX));
            }
            _ => {}
        }
    }
    (total.saturating_sub(detained), detained)
}

/// What a buy-back and a detention both check first: units held by someone other
/// than the label, a sane count, a SKU the catalog knows.
fn check_units_at_holder(
    snap: &Snapshot,
    holder: &PartyId,
    sku: &Sku,
    units: u64,
    not_the_label: &str,
) -> Result<(), AppError> {
    if holder.is_label() {
        return Err(input(not_the_label));
    }
    if units == 0 || units > 1_000_000_000 {
        return Err(input("units must be from 1 to 1,000,000,000"));
    }
    let in_catalog = snap
        .entries
        .iter()
        .any(|e| matches!(&e.event, Event::Fact(Fact::CatalogItem(c)) if &c.sku == sku));
    if !in_catalog {
        return Err(input(format!(
            "{sku} is not in the catalog (import catalog.csv first)"
        )));
    }
    Ok(())
}

#[tracing::instrument(name = "buy_back", skip_all)]
pub async fn buy_back(store: &Store, req: &BuyBack, user: &str) -> Result<BoughtBack, AppError> {
    let (today, on) = dates(store, req.on).await?;
    let h = &req.holder;
    let sku = &req.sku;
    let snap = snapshot(store, today).await?;
    check_units_at_holder(
        &snap,
        h,
        sku,
        req.units,
        "a buy-back is from a distributor (or its liquidator) holding the label's stock, not from the label",
    )?;
    let agreement = snap.entries.iter().rev().find_map(|e| match &e.event {
        Event::Fact(Fact::Agreement(a)) if &a.distributor == h => Some(a),
        _ => None,
    });
    let cur = match (req.paid.currency, agreement) {
        (Some(c), _) => c,
        (None, Some(a)) => a.currency,
        (None, None) => {
            return Err(input(format!(
            "{h} has no agreement on record: give the currency with the price paid (e.g. {} USD)",
            req.paid.decimal
        )))
        }
    };
    let paid = req.paid.in_currency(cur, "the price paid")?;
    if paid.minor() < 0 {
        return Err(input(format!(
            "the price paid cannot be negative (got {})",
            paid.to_decimal_string()
        )));
    }
    let paid_to = match req.paid_to.as_deref().map(clean).filter(|s| !s.is_empty()) {
        Some(p) => text("paid to", &p, true)?,
        None => agreement
            .map(|a| a.legal_name.clone())
            .unwrap_or_else(|| h.to_string()),
    };
    let buyback_id = match req.id.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
        Some(id) => id.to_string(),
        None => format!("BB-{on}-{h}-{sku}"),
    };
    let entry_id = format!("buyback:{buyback_id}");
    let event = Event::BuyBack {
        buyback_id: buyback_id.clone(),
        holder: h.clone(),
        sku: sku.clone(),
        units: req.units,
        detained: req.detained,
        paid,
        paid_to: paid_to.clone(),
    };
    let state = if req.detained { "detained" } else { "on hand" };
    let (on_then, det_then) = held_known_now(&snap, h, sku, on);
    let (on_now, det_now) = held(store, h, sku, today).await?;
    let pick = |o: i64, dt: i64| if req.detained { dt } else { o };
    let holds = pick(on_then, det_then).min(pick(on_now, det_now));
    if let Some((_, existing, _)) = store.entry(&entry_id).await? {
        if existing.event == event && existing.effective_on == on {
            return Ok(BoughtBack {
                entry_id,
                buyback_id,
                holder: h.clone(),
                sku: sku.clone(),
                units: req.units,
                detained: req.detained,
                paid,
                paid_to,
                on,
                held_before: holds + i64::try_from(req.units).unwrap_or(0),
                held_after: holds,
                recorded: false,
            });
        }
        return Err(refused(format!(
            "buy-back {buyback_id} is already recorded with other details ({} units of {}, {}); give this one its own id",
            match &existing.event {
                Event::BuyBack { units, .. } => units.to_string(),
                _ => "?".into(),
            },
            match &existing.event {
                Event::BuyBack { sku, .. } => sku.to_string(),
                _ => "?".into(),
            },
            existing.effective_on
        )));
    }
    let units = i64::try_from(req.units).unwrap_or(i64::MAX);
    if units > holds {
        let when = if pick(on_then, det_then) <= pick(on_now, det_now) {
            format!("on {on}")
        } else {
            format!("now ({today})")
        };
        let other = pick(det_now, on_now);
        let hint = if other > 0 {
            format!(
                "; it also holds {other} {}{}",
                if req.detained { "on hand" } else { "detained" },
                if req.detained {
                    " (leave out --detained for those)"
                } else {
                    " (buy those back with --detained)"
                }
            )
        } else {
            String::new()
        };
        return Err(refused(format!(
            "{h} holds {holds} units of {sku} {state} for the label {when}, not {}{hint}",
            req.units
        )));
    }
    let mut command = format!(
        "buyback {h} --sku {sku} --units {} --paid {} --paid-to {}",
        req.units,
        paid.to_decimal_string(),
        quoted(&paid_to)
    );
    if req.detained {
        command.push_str(" --detained");
    }
    command.push_str(&format!(" --id {buyback_id}"));
    let e = entry(entry_id.clone(), on, today, user, command, event)?;
    crate::books::record(store, &[e], None).await?;
    Ok(BoughtBack {
        entry_id,
        buyback_id,
        holder: h.clone(),
        sku: sku.clone(),
        units: req.units,
        detained: req.detained,
        paid,
        paid_to,
        on,
        held_before: holds,
        held_after: holds - units,
        recorded: true,
    })
}

// ---------------------------------------------------------------------------------------
// detention

/// The label's units at a holder held against its will (a failed distributor refusing a
/// return, stock seized by a lender), or released from that state. The units stay the
/// label's and stay at the holder; they move from `on_hand` to `detained` there (or
/// back), so the stock report, the claim pack and a buy-back of detained units see them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Detain {
    pub holder: PartyId,
    pub sku: Sku,
    pub units: u64,
    /// Why, in the label's words (goes in the journal; required).
    pub reason: String,
    /// Release detained units back to on hand instead.
    pub release: bool,
    /// The entry's id (default `detention:HOLDER:SKU:DATE:UNITS`, `detention-released:…`).
    pub id: Option<String>,
    /// Default: the label's today.
    pub on: Option<Date>,
}

/// Units detained (or released).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Detained {
    pub entry_id: String,
    pub holder: PartyId,
    pub sku: Sku,
    pub units: u64,
    pub released: bool,
    pub reason: String,
    pub on: Date,
    /// Label-owned units of the SKU at the holder after it: on hand and detained.
    pub on_hand_after: i64,
    pub detained_after: i64,
    /// False when the same entry was already on record (nothing new recorded).
    pub recorded: bool,
}

impl Detained {
    /// What was recorded, for the label (dates by `date`: ISO in the CLI, the
    /// locale's on the web).
    pub fn said(&self, date: impl Fn(Date) -> String) -> String {
        let head = if !self.recorded {
            format!(
                "Already on record: {} ({} units of {} at {}); nothing new recorded.",
                self.entry_id, self.units, self.sku, self.holder
            )
        } else {
            format!(
                "{}: {} units of {} at {} on {} ({}), as {}.",
                if self.released {
                    "Released"
                } else {
                    "Recorded as detained"
                },
                self.units,
                self.sku,
                self.holder,
                date(self.on),
                self.reason,
                self.entry_id
            )
        };
        format!(
            "{head} {} now holds {} of them on hand and {} detained for the label.",
            self.holder, self.on_hand_after, self.detained_after
        )
    }
}

#[tracing::instrument(name = "detain", skip_all)]
pub async fn detain(store: &Store, req: &Detain, user: &str) -> Result<Detained, AppError> {
    let (today, on) = dates(store, req.on).await?;
    let h = &req.holder;
    let sku = &req.sku;
    let snap = snapshot(store, today).await?;
    check_units_at_holder(
        &snap,
        h,
        sku,
        req.units,
        "units are detained at a distributor (or a warehouse, a lender) holding the label's stock, not at the label",
    )?;
    let reason = text("--reason", &req.reason, true)?;
    let (from, to) = if req.release {
        ("detained", "on hand")
    } else {
        ("on hand", "detained")
    };
    let entry_id = match req.id.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
        Some(id) => id.to_string(),
        // The units are in the default id: the same command twice records once, and
        // a different count the same day is an entry of its own.
        None if req.release => format!("detention-released:{h}:{sku}:{on}:{}", req.units),
        None => format!("detention:{h}:{sku}:{on}:{}", req.units),
    };
    let units = i64::try_from(req.units).unwrap_or(i64::MAX);
    let event = Event::Detention {
        holder: h.clone(),
        sku: sku.clone(),
        units: if req.release { -units } else { units },
        reason: reason.clone(),
    };
    let (on_then, det_then) = held_known_now(&snap, h, sku, on);
    let (on_now, det_now) = held(store, h, sku, today).await?;
    if let Some((_, existing, _)) = store.entry(&entry_id).await? {
        if existing.event == event && existing.effective_on == on {
            return Ok(Detained {
                entry_id,
                holder: h.clone(),
                sku: sku.clone(),
                units: req.units,
                released: req.release,
                reason,
                on,
                on_hand_after: on_now,
                detained_after: det_now,
                recorded: false,
            });
        }
        return Err(refused(format!(
            "{entry_id} is already recorded with other details (on {}); give this one its own --id",
            existing.effective_on
        )));
    }
    // The units must be there, in the state they leave, on the day and still today
    // (a later entry may have moved them since).
    let pick = |o: i64, d: i64| if req.release { d } else { o };
    let there = pick(on_then, det_then).min(pick(on_now, det_now));
    if units > there {
        let when = if pick(on_then, det_then) <= pick(on_now, det_now) {
            format!("on {on}")
        } else {
            format!("now ({today})")
        };
        return Err(refused(format!(
            "{h} holds {there} units of {sku} {from} for the label {when}, not {}",
            req.units
        )));
    }
    let mut command = format!(
        "detain {h} --sku {sku} --units {} --reason {}",
        req.units,
        quoted(&reason)
    );
    if req.release {
        command.push_str(" --release");
    }
    command.push_str(&format!(" --id {entry_id} --on {on}"));
    let e = entry(entry_id.clone(), on, today, user, command, event)?;
    crate::books::record(store, &[e], None).await?;
    let (on_hand_after, detained_after) = held(store, h, sku, today).await?;
    debug_assert!(
        (on_hand_after - on_now).abs() == units && (detained_after - det_now).abs() == units,
        "a detention moves {units} units from {from} to {to}"
    );
    Ok(Detained {
        entry_id,
        holder: h.clone(),
        sku: sku.clone(),
        units: req.units,
        released: req.release,
        reason,
        on,
        on_hand_after,
        detained_after,
        recorded: true,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn amounts_are_decimal_text_with_an_optional_currency() {
        let a = Amount::parse("12.34").unwrap();
        assert_eq!(
            a.in_currency(Currency::USD, "x").unwrap(),
            Money::from_minor(1234, Currency::USD)
        );
        let a = Amount::parse("12.34 EUR").unwrap();
        assert_eq!(a.currency.map(|c| c.to_string()), Some("EUR".into()));
        let e = a.in_currency(Currency::USD, "statement S1 of northwind");
        assert_eq!(
            e.unwrap_err().message(),
            "the amount is in EUR, but statement S1 of northwind is in USD"
        );
        assert!(Amount::parse("USD 5").is_ok());
        for bad in ["", "1,234.50", "12.3.4", "1e3", "abc", "12.34 EUR x", "."] {
            assert!(Amount::parse(bad).is_err(), "{bad:?}");
        }
        // More decimals than the currency has are refused, never rounded.
        assert!(Amount::parse("1.234")
            .unwrap()
            .in_currency(Currency::USD, "x")
            .is_err());
    }

    #[test]
    fn reasons_as_typed() {
        assert_eq!(parse_reason("co-op").unwrap(), DeductionReason::CoOp);
        assert_eq!(
            parse_reason("Price Protection").unwrap(),
            DeductionReason::PriceProtection
        );
        let e = parse_reason("shrinkage").unwrap_err();
        assert_eq!(
            e.message(),
            "reason \"shrinkage\": expected one of freight, co-op, price-protection, pricing-error, other"
        );
    }
}
