//! Artist payouts (issue 14 item 5): paying payees what royalties made payable —
//! royalty payable → cash, one `Event::RoyaltyPaid` entry per payment — singly
//! ([`record`]) or everyone a royalty run made payable in one step ([`pay_run`]), with
//! the file to hand to the bank ([`payout_csv`]); tax forms on file ([`tax_form`]) and
//! the calendar year's payments per payee for 1099 preparation ([`year_end`]).
//!
//! Rules:
//! * never more than is payable: a payment is refused with a sentence when it is more
//!   than the payee's royalty payable balance in that currency;
//! * entry ids are derived (`payout:PAYEE:DATE:AMOUNT:CUR[:REF]` for one payment,
//!   `payout:run:PERIOD:PAYEE:CUR` for a run's), so the same payout twice records
//!   once; a payout corrected (`backstock correct`, a reversing entry) may be made again
//!   and then takes the next id (`…:2`);
//! * every entry goes through [`crate::books::record`] (closed months are refused).

use crate::{AppError, Exit};
use backstock_domain::{csv, Currency, Date, Money, PartyId};
use backstock_ledger::facts::{PayeeRecord, TaxFormKind, TaxFormRecord};
use backstock_ledger::{Entry, EntryKind, Event, Fact, RoyaltyPayment};
use backstock_store::Store;
use serde::Serialize;
use std::collections::{BTreeMap, BTreeSet};

/// One payment to record, as typed (CLI flags, a web form or the API's JSON).
#[derive(Debug, Clone, Default)]
pub struct PayoutRequest {
    pub payee: String,
    /// A decimal amount such as `123.45`.
    pub amount: String,
    /// ISO 4217.
    pub currency: String,
    /// The day it was paid (default: the label's today).
    pub on: Option<Date>,
    pub reference: Option<String>,
}

/// A payment recorded (or found recorded already).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Paid {
    pub entry_id: String,
    pub payee: String,
    pub name: String,
    pub amount: Money,
    pub on: Date,
    pub reference: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub period: Option<String>,
    /// False when this very payout was recorded before (nothing changed).
    pub new: bool,
}

/// A payment standing in the journal (not reversed), as the artist's remittance advice
/// and the year-end report show it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Payout {
    pub entry_id: String,
    pub payee: String,
    pub on: Date,
    pub known_on: Date,
    pub amount: Money,
    pub reference: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub period: Option<String>,
}

/// A payee a run made payable who was not paid, and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct NotPaid {
    pub payee: String,
    pub currency: Currency,
    pub reason: String,
}

/// What [`pay_run`] did.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RunPaid {
    pub period: String,
    pub on: Date,
    /// Payments recorded now.
    pub paid: Vec<Paid>,
    /// Payments of this run recorded before (unchanged).
    pub already: Vec<Paid>,
    pub not_paid: Vec<NotPaid>,
}

impl RunPaid {
    /// The payments recorded now, for the bank's file: a payment recorded before is
    /// never in it again (handed to the bank twice, it would be paid twice).
    pub fn to_send(&self) -> Vec<Paid> {
        let mut v: Vec<Paid> = self.paid.to_vec();
        v.sort_by(|a, b| {
            (&a.payee, a.amount.currency().code()).cmp(&(&b.payee, b.amount.currency().code()))
        });
        v
    }
}

fn input(msg: impl Into<String>) -> AppError {
    AppError::new(Exit::Input, msg)
}

fn refused(msg: impl Into<String>) -> AppError {
    AppError::new(Exit::Refused, msg)
}

/// Payees on file (latest record of each), by id.
pub async fn payees(store: &Store) -> Result<BTreeMap<String, PayeeRecord>, AppError> {
    let mut out = BTreeMap::new();
    for (_, e) in store.entries(&[EntryKind::Payee], None).await? {
        if let Event::Fact(Fact::Payee(p)) = e.event {
            out.insert(p.payee.to_string(), p);
        }
    }
    Ok(out)
}

/// The payee named `id`, or a sentence naming those on file.
async fn payee_on_file(store: &Store, id: &str) -> Result<PayeeRecord, AppError> {
    let all = payees(store).await?;
    let id = id.trim();
    all.get(id).cloned().ok_or_else(|| {
        let known: Vec<&str> = all.keys().map(String::as_str).collect();
        input(format!(
            "no payee {id:?} on file; payees: {} (import payees.csv to add one)",
            if known.is_empty() {
                "none yet".to_string()
            } else {
                known.join(", ")
            }
        ))
    })
}

/// What is payable to `payee` in `currency` now: the credit balance of its royalty
/// payable account (what runs made payable, less what was paid).
pub async fn payable(store: &Store, payee: &str, currency: Currency) -> Result<Money, AppError> {
    Ok(payables(store)
        .await?
        .get(&(payee.to_string(), currency.code().to_string()))
        .copied()
        .unwrap_or(Money::zero(currency)))
}

/// What the royalty statements of every run made payable to `payee` in `currency`
/// (each run takes its payable out of the balance it carries, so they add up), less
/// every payment to the payee in that currency standing now.
pub async fn payable_on_statements(
    store: &Store,
    payee: &str,
    currency: Currency,
) -> Result<Money, AppError> {
    let made = made_payable(store, payee, currency)
        .await?
        .iter()
        .try_fold(0i64, |sum, m| sum.checked_add(m.amount_minor))
        .ok_or_else(|| refused("payable amounts overflow"))?;
    let paid: i64 = payouts(store, Some(payee), None)
        .await?
        .iter()
        .filter(|p| p.amount.currency() == currency)
        .map(|p| p.amount.minor())
        .fold(0i64, i64::saturating_add);
    Ok(Money::from_minor(made.saturating_sub(paid), currency))
}

/// What one run's statement made payable to a payee, and the day the run was made.
#[derive(Debug, Clone)]
struct MadePayable {
    period: String,
    run_on: Date,
    amount_minor: i64,
}

/// Per run that has a statement for `payee` in `currency`: what it made payable, and
/// when (the run's known-on day: nothing of it was payable before). Oldest run first.
async fn made_payable(
    store: &Store,
    payee: &str,
    currency: Currency,
) -> Result<Vec<MadePayable>, AppError> {
    let mut out = Vec::new();
    for (_, e) in store.entries(&[EntryKind::RoyaltyRun], None).await? {
        let Event::RoyaltyRun(r) = &e.event else {
            continue;
        };
        if let Some(st) = crate::royalties::stored_statement(store, &r.period, payee).await? {
            let mut amount_minor = 0i64;
            for c in st.contracts.iter().filter(|c| c.currency == currency) {
                amount_minor = amount_minor
                    .checked_add(c.totals.payable.minor())
                    .ok_or_else(|| refused("payable amounts overflow"))?;
            }
            out.push(MadePayable {
                period: r.period.clone(),
                run_on: e.known_on,
                amount_minor,
            });
        }
    }
    out.sort_by_key(|m| m.run_on);
    Ok(out)
}

/// A payout of `amount` dated `on` must not pay, on `on` or on the day of any later
/// payment, more than the runs made payable by then: a payout cannot be dated before
/// the statement that made it payable. `None`: it can; otherwise why not.
async fn paid_before_payable(
    store: &Store,
    payee: &PayeeRecord,
    amount: Money,
    on: Date,
) -> Result<Option<String>, AppError> {
    let currency = amount.currency();
    let made = made_payable(store, payee.payee.as_str(), currency).await?;
    let paid: Vec<(Date, i64)> = payouts(store, Some(payee.payee.as_str()), None)
        .await?
        .iter()
        .filter(|p| p.amount.currency() == currency)
        .map(|p| (p.on, p.amount.minor()))
        .collect();
    let mut days: Vec<Date> = vec![on];
    days.extend(paid.iter().map(|(d, _)| *d).filter(|d| *d > on));
    for day in days {
        let made_by: i64 = made
            .iter()
            .filter(|m| m.run_on <= day)
            .map(|m| m.amount_minor)
            .fold(0, i64::saturating_add);
        let paid_by: i64 = paid
            .iter()
            .filter(|(d, _)| *d <= day)
            .map(|(_, a)| *a)
            .fold(0, i64::saturating_add)
            .saturating_add(amount.minor());
        if paid_by <= made_by {
            continue;
        }
        let by_then = Money::from_minor(
            made_by.saturating_sub(paid_by - amount.minor()).max(0),
            currency,
        );
        let next = made.iter().find(|m| m.run_on > day);
        let when = match next {
            Some(m) => format!(
                "; the {} run made {} payable on {}: date the payout on or after that day",
                m.period,
                Money::from_minor(m.amount_minor, currency),
                m.run_on
            ),
            None => String::new(),
        };
        return Ok(Some(if day == on {
            format!(
                "{amount} paid on {on} is more than the royalty statements had made payable to {} ({}) by then: {by_then}{when}; nothing recorded",
                payee.payee, payee.name
            )
        } else {
            format!(
                "{amount} paid on {on} would leave the payout of {day} to {} ({}) paying more than the statements had made payable by that day; nothing recorded",
                payee.payee, payee.name
            )
        }));
    }
    Ok(None)
}

/// Every payee's royalty payable balance, by (payee, currency): positive = owed to
/// the payee.
pub async fn payables(store: &Store) -> Result<BTreeMap<(String, String), Money>, AppError> {
    let mut out = BTreeMap::new();
    for r in store.balances(None, None).await? {
        if r.kind != "royalty_payable" || r.party != PartyId::LABEL {
            continue;
        }
        let cur = Currency::parse(&r.currency).map_err(|e| input(e.to_string()))?;
        let owed = r
            .balance_minor
            .checked_neg()
            .ok_or_else(|| refused("a royalty payable balance overflows"))?;
        out.insert((r.counterparty, r.currency), Money::from_minor(owed, cur));
    }
    Ok(out)
}

/// Payments standing (not reversed) as known on `as_of` (`None`: everything
/// recorded), of one payee or all, oldest first.
pub async fn payouts(
    store: &Store,
    payee: Option<&str>,
    as_of: Option<Date>,
) -> Result<Vec<Payout>, AppError> {
    let gone = crate::correct::reversed_ids(store, as_of).await?;
    let mut out = Vec::new();
    for (_, e) in store.entries(&[EntryKind::RoyaltyPaid], as_of).await? {
        if gone.contains(e.id.as_str()) {
            continue;
        }
        if let Event::RoyaltyPaid(p) = e.event {
            if payee.is_some_and(|x| x != p.payee.as_str()) {
                continue;
            }
            out.push(Payout {
                entry_id: e.id.to_string(),
                payee: p.payee.to_string(),
                on: e.effective_on,
                known_on: e.known_on,
                amount: p.amount,
                reference: p.reference.unwrap_or_default(),
                period: p.period,
            });
        }
    }
    out.sort_by(|a, b| (a.on, &a.entry_id).cmp(&(b.on, &b.entry_id)));
    Ok(out)
}

/// The first free id of `base` (`base`, `base:2`, …): `Ok((id, None))` to record, or
/// the entry standing under it already (the same payout recorded before).
async fn free_id(
    store: &Store,
    base: &str,
    gone: &BTreeSet<String>,
) -> Result<(String, Option<Entry>), AppError> {
    crate::standing_id(store, base, gone).await?.ok_or_else(|| {
        refused(format!(
            "payout {base} was recorded and corrected too many times; record it with another --reference"
        ))
    })
}

/// The first id of `base` (`base`, `base:2`, …) not recorded at all.
async fn unused_id(store: &Store, base: &str) -> Result<String, AppError> {
    crate::first_unused_id(store, base, 1000)
        .await?
        .ok_or_else(|| refused(format!("payout {base} was recorded too many times")))
}

/// A reference as it may go in an id and a bank file: printable, at most 100 chars.
fn clean_reference(r: Option<&str>) -> Result<Option<String>, AppError> {
    let Some(r) = r.map(str::trim).filter(|r| !r.is_empty()) else {
        return Ok(None);
    };
    if r.chars().count() > 100 || r.chars().any(char::is_control) {
        return Err(input(format!(
            "--reference {r:?}: expected at most 100 printable characters"
        )));
    }
    Ok(Some(r.to_string()))
}

fn paid_of(e: &Entry, name: &str, new: bool) -> Option<Paid> {
    match &e.event {
        Event::RoyaltyPaid(p) => Some(Paid {
            entry_id: e.id.to_string(),
            payee: p.payee.to_string(),
            name: name.to_string(),
            amount: p.amount,
            on: e.effective_on,
            reference: p.reference.clone().unwrap_or_default(),
            period: p.period.clone(),
            new,
        }),
        _ => None,
    }
}

/// Records one payment to a payee, refusing more than is payable.
#[tracing::instrument(name = "payout_record", skip_all, fields(payee = %req.payee))]
pub async fn record(store: &Store, req: &PayoutRequest, user: &str) -> Result<Paid, AppError> {
    let currency =
        Currency::parse(req.currency.trim()).map_err(|e| input(format!("--currency: {e}")))?;
    let amount =
        Money::parse(req.amount.trim(), currency).map_err(|e| input(format!("--amount: {e}")))?;
    if amount.minor() <= 0 {
        return Err(input(format!(
            "--amount must be more than zero (got {})",
            req.amount.trim()
        )));
    }
    let payee = payee_on_file(store, &req.payee).await?;
    let reference = clean_reference(req.reference.as_deref())?;
    let today = crate::risk::today(store).await?;
    let on = req.on.unwrap_or(today);
    if on > today {
        return Err(input(format!(
            "--on {on} is after today ({today}): record a payout once it is made"
        )));
    }
    let base = format!(
        "payout:{}:{on}:{}:{}{}",
        payee.payee,
        amount.to_decimal_string(),
        currency.code(),
        reference
            .as_deref()
            .map(|r| format!(":{r}"))
            .unwrap_or_default()
    );
    let gone = crate::correct::reversed_ids(store, None).await?;
    let (id, existing) = free_id(store, &base, &gone).await?;
    if let Some(e) = existing {
        return paid_of(&e, &payee.name, false)
            .ok_or_else(|| refused(format!("entry {id} exists and is not a payout")));
    }
    let owed = payable(store, payee.payee.as_str(), currency).await?;
    // The payable account also holds what the statements have not made payable yet
    // (reserves held against returns): a payment is bounded by what the royalty
    // statements made payable, less what was paid, as well.
    let on_statements = payable_on_statements(store, payee.payee.as_str(), currency).await?;
    if amount.minor() <= owed.minor() && amount.minor() > on_statements.minor() {
        let left = Money::from_minor(
            owed.minor().saturating_sub(on_statements.minor().max(0)),
            currency,
        );
        return Err(refused(format!(
            "{amount} is more than the royalty statements made payable to {} ({}): {} is payable on them; the other {left} of the balance is held (reserves against returns) until a statement releases it; nothing recorded",
            payee.payee,
            payee.name,
            Money::from_minor(on_statements.minor().max(0), currency)
        )));
    }
    if amount.minor() > owed.minor() {
        let owed_text = if owed.minor() > 0 {
            format!("only {owed} is")
        } else {
            format!("nothing is, in {}", currency.code())
        };
        return Err(refused(format!(
            "{amount} is more than is payable to {} ({}): {owed_text}; nothing recorded",
            payee.payee, payee.name
        )));
    }
    if let Some(why) = paid_before_payable(store, &payee, amount, on).await? {
        return Err(refused(why));
    }
    let command = format!(
        "payout record --payee {} --amount {} --currency {} --on {on}{}",
        payee.payee,
        amount.to_decimal_string(),
        currency.code(),
        reference
            .as_deref()
            .map(|r| format!(" --reference {r:?}"))
            .unwrap_or_default()
    );
    let payout_id = id.trim_start_matches("payout:").to_string();
    let e = crate::command_entry(
        id,
        on,
        today.max(on),
        user,
        command,
        Event::RoyaltyPaid(RoyaltyPayment {
            payout_id,
            payee: payee.payee.clone(),
            amount,
            reference,
            period: None,
        }),
    )?;
    crate::books::record(store, std::slice::from_ref(&e), None).await?;
    paid_of(&e, &payee.name, true).ok_or_else(|| refused("not a payout"))
}

/// Pays everyone a royalty run made payable (at or above their minimum payout: the
/// statement's amount payable) what is not paid yet, never more than their royalty
/// payable balance. The same run paid twice records nothing the second time.
#[tracing::instrument(name = "payout_run", skip_all, fields(period = %period))]
pub async fn pay_run(
    store: &Store,
    period: &str,
    on: Option<Date>,
    user: &str,
) -> Result<RunPaid, AppError> {
    let period = period.trim();
    let runs = crate::royalties::runs_on_file(store).await?;
    let Some(run) = runs.iter().find(|r| r.period == period) else {
        let done: Vec<&str> = runs.iter().map(|r| r.period.as_str()).collect();
        return Err(input(format!(
            "royalty period {period:?} has not been run (run: {}); `backstock royalties run --period {period}` first",
            if done.is_empty() { "none yet".to_string() } else { done.join(", ") }
        )));
    };
    let today = crate::risk::today(store).await?;
    let on = on.unwrap_or(today);
    if on > today {
        return Err(input(format!(
            "--on {on} is after today ({today}): record payouts once they are made"
        )));
    }
    if on < run.run_on {
        return Err(input(format!(
            "--on {on} is before the {period} run was made ({}): nothing was payable yet (catching up on past periods, run each with the day it was settled: `backstock royalties run --period {period} --on DATE`, before its payouts)",
            run.run_on
        )));
    }
    // What the run made payable, per payee and currency; who it carried below minimum.
    let mut due: BTreeMap<(String, Currency), i64> = BTreeMap::new();
    let mut names: BTreeMap<String, String> = BTreeMap::new();
    let mut below: BTreeMap<(String, Currency), Money> = BTreeMap::new();
    for s in &run.stored.statements {
        names.insert(s.payee.id.clone(), s.payee.name.clone());
        for c in &s.contracts {
            let k = (s.payee.id.clone(), c.currency);
            let slot = due.entry(k.clone()).or_insert(0);
            *slot = slot
                .checked_add(c.totals.payable.minor())
                .ok_or_else(|| refused("payable amounts overflow"))?;
            if c.totals.carried_below_minimum {
                below.insert(k, c.totals.min_payout);
            }
        }
    }
    let standing = payouts(store, None, None).await?;
    let balances = payables(store).await?;
    let mut out = RunPaid {
        period: period.to_string(),
        on,
        paid: Vec::new(),
        already: Vec::new(),
        not_paid: Vec::new(),
    };
    let mut entries = Vec::new();
    for ((payee, cur), amount) in due {
        let name = names.get(&payee).cloned().unwrap_or_default();
        let paid_before: i64 = standing
            .iter()
            .filter(|p| {
                p.payee == payee
                    && p.period.as_deref() == Some(period)
                    && p.amount.currency() == cur
            })
            .map(|p| p.amount.minor())
            .sum();
        let base = format!("payout:run:{period}:{payee}:{}", cur.code());
        for p in standing.iter().filter(|p| {
            p.payee == payee && p.period.as_deref() == Some(period) && p.amount.currency() == cur
        }) {
            out.already.push(Paid {
                entry_id: p.entry_id.clone(),
                payee: payee.clone(),
                name: name.clone(),
                amount: p.amount,
                on: p.on,
                reference: p.reference.clone(),
                period: p.period.clone(),
                new: false,
            });
        }
        if amount <= 0 {
            let reason = match below.get(&(payee.clone(), cur)) {
                Some(min) => {
                    format!("below the minimum payout of {min}: carried to the next period")
                }
                None => "nothing payable on this statement".to_string(),
            };
            out.not_paid.push(NotPaid {
                payee,
                currency: cur,
                reason,
            });
            continue;
        }
        let left = amount.saturating_sub(paid_before);
        if left <= 0 {
            continue;
        }
        let balance = balances
            .get(&(payee.clone(), cur.code().to_string()))
            .map(|m| m.minor())
            .unwrap_or(0);
        if balance <= 0 {
            out.not_paid.push(NotPaid {
                payee,
                currency: cur,
                reason: format!(
                    "nothing payable now in {} (paid already outside the run?)",
                    cur.code()
                ),
            });
            continue;
        }
        let pay = left.min(balance);
        if pay < left {
            out.not_paid.push(NotPaid {
                payee: payee.clone(),
                currency: cur,
                reason: format!(
                    "{} of {} paid: only that is payable now",
                    Money::from_minor(pay, cur),
                    Money::from_minor(left, cur)
                ),
            });
        }
        // The first id not taken (earlier payouts of the run, standing or corrected,
        // keep theirs; what stands is counted in `paid_before`).
        let id = unused_id(store, &base).await?;
        let reference = format!("Royalties {period}");
        let payee_id = PartyId::parse(&payee).map_err(|e| input(e.to_string()))?;
        let e = crate::command_entry(
            id.clone(),
            on,
            today.max(on),
            user,
            format!("payout run --period {period} --on {on}"),
            Event::RoyaltyPaid(RoyaltyPayment {
                payout_id: id.trim_start_matches("payout:").to_string(),
                payee: payee_id,
                amount: Money::from_minor(pay, cur),
                reference: Some(reference),
                period: Some(period.to_string()),
            }),
        )?;
        if let Some(p) = paid_of(&e, &name, true) {
            out.paid.push(p);
        }
        entries.push(e);
    }
    if !entries.is_empty() {
        crate::books::record(store, &entries, None).await?;
    }
    Ok(out)
}

/// The bank's payout file: `payee,name,amount,currency,reference`, one row per
/// payment, amounts as plain decimal numbers.
pub fn payout_csv(paid: &[Paid]) -> String {
    let mut s = String::from("payee,name,amount,currency,reference\n");
    for p in paid {
        let amount = p.amount.to_decimal_string();
        s.push_str(&csv::row([
            p.payee.as_str(),
            p.name.as_str(),
            amount.as_str(),
            p.amount.currency().code(),
            p.reference.as_str(),
        ]));
        s.push('\n');
    }
    s
}

/// A tax form recorded.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TaxFormOnFile {
    pub payee: String,
    pub form: &'static str,
    pub received_on: Date,
    pub new: bool,
}

/// Records that `payee`'s tax form (`w9` or `w8ben`) was received on `received`.
pub async fn tax_form(
    store: &Store,
    payee: &str,
    form: &str,
    received: Option<Date>,
    user: &str,
) -> Result<TaxFormOnFile, AppError> {
    let kind = TaxFormKind::parse(form).ok_or_else(|| {
        input(format!(
            "--form {form:?}: expected w9 (a US person) or w8ben (a foreign individual)"
        ))
    })?;
    let p = payee_on_file(store, payee).await?;
    let today = crate::risk::today(store).await?;
    let on = received.unwrap_or(today);
    if on > today {
        return Err(input(format!(
            "--received {on} is after today ({today}): record the form once it is received"
        )));
    }
    let id = format!("tax-form:{}:{}:{on}", p.payee, kind.as_str());
    let done = TaxFormOnFile {
        payee: p.payee.to_string(),
        form: kind.label(),
        received_on: on,
        new: false,
    };
    if store.entry(&id).await?.is_some() {
        return Ok(done);
    }
    let e = crate::command_entry(
        id,
        on,
        today,
        user,
        format!(
            "payee tax-form {} --form {} --received {on}",
            p.payee,
            kind.as_str()
        ),
        Event::Fact(Fact::TaxForm(TaxFormRecord {
            payee: p.payee.clone(),
            form: kind,
            received_on: on,
        })),
    )?;
    crate::books::record(store, &[e], None).await?;
    Ok(TaxFormOnFile { new: true, ..done })
}

/// The latest tax form on file per payee (corrected ones left out): (received, form).
pub async fn tax_forms(store: &Store) -> Result<BTreeMap<String, (Date, TaxFormKind)>, AppError> {
    let mut forms: BTreeMap<String, (Date, TaxFormKind)> = BTreeMap::new();
    let gone = crate::correct::reversed_ids(store, None).await?;
    for (_, e) in store.entries(&[EntryKind::TaxForm], None).await? {
        if gone.contains(e.id.as_str()) {
            continue;
        }
        if let Event::Fact(Fact::TaxForm(f)) = e.event {
            let slot = forms
                .entry(f.payee.to_string())
                .or_insert((f.received_on, f.form));
            if f.received_on >= slot.0 {
                *slot = (f.received_on, f.form);
            }
        }
    }
    Ok(forms)
}

/// One payee's payments in a calendar year, in one currency.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct YearRow {
    pub payee: String,
    pub name: String,
    pub currency: Currency,
    pub paid: Money,
    pub payments: usize,
    /// `W-9`, `W-8BEN`, or empty when none is on file.
    pub tax_form: String,
    pub tax_form_received_on: Option<Date>,
    /// Advances paid to the payee in the year (their share of each advance recorded
    /// in costs.csv with its date): paid to them, so income of the year too.
    pub advances: Money,
    /// `paid` + `advances`: everything the label paid the payee in the year.
    pub total: Money,
}

/// Per payee and currency, what was paid in `year` (payments standing now), and the
/// latest tax form on file.
pub async fn year_end(store: &Store, year: i32) -> Result<Vec<YearRow>, AppError> {
    if !(1900..=2199).contains(&year) {
        return Err(input(format!(
            "{year}: expected a calendar year such as 2016"
        )));
    }
    let names = payees(store).await?;
    let forms = tax_forms(store).await?;
    let mut sums: BTreeMap<(String, Currency), (i64, usize)> = BTreeMap::new();
    for p in payouts(store, None, None).await? {
        if p.on.year() != year {
            continue;
        }
        let slot = sums.entry((p.payee, p.amount.currency())).or_insert((0, 0));
        slot.0 = slot
            .0
            .checked_add(p.amount.minor())
            .ok_or_else(|| refused("payout totals overflow"))?;
        slot.1 += 1;
    }
    let advances = crate::royalties::advances_paid(store, year).await?;
    let keys: BTreeSet<(String, Currency)> = sums.keys().chain(advances.keys()).cloned().collect();
    keys.into_iter()
        .map(|(payee, cur)| {
            let (minor, n) = sums.get(&(payee.clone(), cur)).copied().unwrap_or((0, 0));
            let advance_minor = advances.get(&(payee.clone(), cur)).map_or(0, |a| a.0);
            let total = minor
                .checked_add(advance_minor)
                .ok_or_else(|| refused("payout totals overflow"))?;
            let form = forms.get(&payee);
            Ok(YearRow {
                name: names
                    .get(&payee)
                    .map(|p| p.name.clone())
                    .unwrap_or_default(),
                payee,
                currency: cur,
                paid: Money::from_minor(minor, cur),
                payments: n,
                tax_form: form.map(|f| f.1.label().to_string()).unwrap_or_default(),
                tax_form_received_on: form.map(|f| f.0),
                advances: Money::from_minor(advance_minor, cur),
                total: Money::from_minor(total, cur),
            })
        })
        .collect()
}

/// The year-end CSV for 1099 preparation:
/// `year,payee,name,currency,amount_paid,payments,tax_form,tax_form_received_on,advances_paid,total_paid`.
pub fn year_end_csv(year: i32, rows: &[YearRow]) -> String {
    let mut s = String::from(
        "year,payee,name,currency,amount_paid,payments,tax_form,tax_form_received_on,advances_paid,total_paid\n",
    );
    let y = year.to_string();
    for r in rows {
        let amount = r.paid.to_decimal_string();
        let n = r.payments.to_string();
        let advances = r.advances.to_decimal_string();
        let total = r.total.to_decimal_string();
        let on = r
            .tax_form_received_on
            .map(|d| d.to_string())
            .unwrap_or_default();
        s.push_str(&csv::row([
            y.as_str(),
            r.payee.as_str(),
            r.name.as_str(),
            r.currency.code(),
            amount.as_str(),
            n.as_str(),
            r.tax_form.as_str(),
            on.as_str(),
            advances.as_str(),
            total.as_str(),
        ]));
        s.push('\n');
    }
    s
}

// ---------------------------------------------------------------- statements (18.8)

/// Versions of one contract read for a statement's checks (a contract changes a few
/// times in its life; this bounds a damaged store's read, not a real one).
const CONTRACT_VERSIONS_MAX: u32 = 10_000;

/// What makes a stored royalty statement checkable: the rate the contract version in
/// force (as known on the statement date) applies to each detail line's channel and
/// format, and the payments made to the payee up to the statement date (as known
/// then, corrections applied). Derived from the journal as of the statement date, so
/// the same statement always shows the same.
pub async fn checks(
    store: &Store,
    st: &backstock_royalty_statement::RoyaltyStatement,
) -> Result<backstock_royalty_statement::Checks, AppError> {
    use backstock_royalties::Base;
    use backstock_royalty_statement::{percent, Checks, PaymentLine, RateApplied};
    let mut out = Checks::default();
    let mut versions: BTreeMap<String, backstock_ledger::facts::RoyaltyContract> = BTreeMap::new();
    // The statement's own contracts, each by its ids (`contract:ID:FROM`, one per
    // version): a keyed read, not a walk over every contract of the label.
    let mut entries = Vec::new();
    for id in st
        .contracts
        .iter()
        .map(|c| &c.contract_id)
        .collect::<BTreeSet<_>>()
    {
        for (seq, json) in store
            .entries_with_id_prefix(&format!("contract:{id}:"), CONTRACT_VERSIONS_MAX)
            .await?
        {
            let e: backstock_ledger::Entry = serde_json::from_str(&json).map_err(|e| {
                AppError::new(Exit::Tampered, format!("entry #{seq} is unreadable: {e}"))
            })?;
            if e.known_on <= st.issued_on {
                entries.push((seq, e));
            }
        }
    }
    // In recording order, as the journal has them (a later version of the same day wins).
    entries.sort_by_key(|(seq, _)| *seq);
    for (_, e) in entries {
        if let Event::Fact(Fact::RoyaltyContract(c)) = e.event {
            if c.effective_from > st.period_end {
                continue;
            }
            match versions.get(&c.contract_id) {
                Some(v) if v.effective_from > c.effective_from => {}
                _ => {
                    versions.insert(c.contract_id.clone(), c);
                }
            }
        }
    }
    for c in &st.contracts {
        let Some(v) = versions.get(&c.contract_id) else {
            continue;
        };
        let Ok(contract) = crate::royalties::contract_of(v) else {
            continue;
        };
        let mut seen: BTreeSet<(String, String)> = BTreeSet::new();
        for l in &c.detail {
            if !seen.insert((l.channel.clone(), l.format.clone())) {
                continue;
            }
            let channel = if l.channel == "digital" {
                backstock_ledger::Channel::Digital
            } else {
                backstock_ledger::Channel::Physical
            };
            let format = Some(l.format.as_str()).filter(|f| !f.is_empty());
            let Some(rule) = contract.rule_for(channel, format) else {
                continue;
            };
            let base = match rule.base {
                Base::NetReceipts => "net receipts",
                Base::PpdPerUnit => "PPD (wholesale price × units)",
                Base::NetProfitSplit => "net profit",
            };
            // The payee's share of the artist royalty, when it is not all of it: the
            // line's royalty is receipts (or PPD) × rate × share.
            let share = contract
                .payees()
                .iter()
                .find(|(p, _)| p.as_str() == st.payee.id)
                .map(|(_, r)| r.ppm())
                .filter(|ppm| *ppm != 1_000_000)
                .map(|ppm| format!(" × your {} share", percent(ppm)))
                .unwrap_or_default();
            out.rates.push(RateApplied {
                contract_id: c.contract_id.clone(),
                channel: l.channel.clone(),
                format: l.format.clone(),
                rate: format!("{} of {base}{share}", percent(rule.rate.ppm())),
            });
        }
    }
    for p in payouts(store, Some(&st.payee.id), Some(st.issued_on)).await? {
        if p.on <= st.issued_on {
            out.payments.push(PaymentLine {
                date: p.on,
                amount: p.amount,
                reference: p.reference,
            });
        }
    }
    Ok(out)
}

/// A payee's statement for a run period in `format`, as the run stored it, with what
/// makes it checkable ([`checks`]): what `backstock royalties statement` prints.
pub async fn statement(
    store: &Store,
    payee: &str,
    period: &str,
    format: backstock_royalty_statement::Format,
) -> Result<Vec<u8>, AppError> {
    use backstock_royalty_statement as doc;
    // BACKSTOCK_TIMING=1 prints how long each phase took (for benchmarks).
    let phases = crate::timing::Phases::start();
    let json = crate::royalties::statement(store, payee, period, doc::Format::Json).await?;
    phases.done("stored statement read");
    let st: doc::RoyaltyStatement = serde_json::from_slice(&json).map_err(|e| {
        AppError::new(
            Exit::Other,
            format!("the stored statement does not read back: {e}"),
        )
    })?;
    phases.done("decoded");
    let x = checks(store, &st).await?;
    phases.done("checks read");
    let out = doc::render_checked(&st, &x, format);
    phases.done("rendered");
    Ok(out)
}
