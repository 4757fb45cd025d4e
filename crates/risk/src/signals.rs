//! Warning signals per distributor, and one level that a label owner can check by hand.
//!
//! # Signals
//!
//! Every window follows the distributor's own rhythm ([`crate::rhythm`]): its
//! statement frequency (a quarterly distributor is judged by its quarters), its usual
//! issue lag and its payment terms. And no signal is armed by an amount below the
//! **materiality floor**: the larger of 1 % of what the distributor billed in the last
//! 12 months and 50 units of its currency (`materiality_permille`,
//! `materiality_min_major`).
//!
//! | code | what it measures | levels (defaults, see [`Thresholds`]) |
//! |---|---|---|
//! | `payment_lateness` | amount-weighted days beyond terms of statements due in the payment window (180 days, or three statement periods if longer: 273 days for a quarterly distributor), unpaid amounts counting as late by today − due date; deductions left out; compared with the same window a year earlier | watch ≥ 30, alert ≥ 60, critical ≥ 120; 30 days or more late and 30 days or more later than a year earlier — over the window, or over its latest half with two statements materially late — → alert (later and later); an alert stays at watch while it is no more than 15 days later than a year earlier (a habit, not a trend) |
//! | `payment_coverage` | cash received in the payment window (or, when more, the cash applied to the statements that fell due in it, whenever it came: one paid early) ÷ amount that fell due in the payment window (less deductions), per-mille — a statement counts once past due by the grace or, if longer, by the lateness it nearly always has (first quartile of the year's payments, at most 60 days): 45 days late give or take five, from about 40 days past due; only when at least 1000 (whole currency units) fell due and the shortfall reaches the materiality floor | watch < 800, alert < 500, critical < 200; below 800 now and 90 days before as well (each time material, on two statements or more: `coverage_persist_days`) → alert — payments shrinking for months |
//! | `payments_stopped` | no payment at all since the last one while statements fell due after it and are past due by more than its usual lateness (median of the year) + 14 days (simply unpaid, at least the materiality floor) | 45 days of silence → watch; with two statements missed (one, for a quarterly distributor) → alert; 150 days → critical; capped at watch while the silence is no longer than its longest gap between payments in the year before plus 15 days (a third of a period, if longer) |
//! | `deductions` | what the distributor deducted (short pays open, disputed or accepted; see [`crate::deductions`]) from its last 12 months of statements ÷ what they billed; only when the total reaches the materiality floor | watch ≥ 5 %, alert ≥ 10 % |
//! | `statements_late_or_missing` | the statement calendar over the last 365 days; a statement is expected by period end + the distributor's usual issue lag + 15 days (at least 30) | 1 late, or missing periods of less than 60 days in all → watch (a month counts 30 days at least: January and February are 60); missing periods of 60 days or more → alert when two are missing, or one quarter is overdue by a further quarter, or by a month while another statement in the window came late (a second strike); the last three expected all late or missing, two or more of them received late, once its usual lag is known (three statements) → alert (later and later: `statements_late_in_a_row_alert`); ≥ 3 missing → critical ; missing periods followed by two statements on time are *skipped* (the statements did not stop: a month with nothing sold) → watch only |
//! | `stocking_up` | units ordered (purchase orders) or shipped to it in the last 90 days (or one statement period if longer) ÷ units sold at the rate of its most recent statements (at least two periods' worth, up to a year back), while it is materially in arrears; compared with the same ratio in the same months a year earlier; and purchase orders placed while ≥ 60 days materially in arrears (plus the lateness it nearly always has, and at least its longest time between two payments in the year + 14 days) on two or more statements (or one quarter) — two it is really behind on: past due by more than its usual lateness + 14 days, so one statement paid three months late beside the next one a week or two late, as usual, is not two | ratio ≥ 1.5 with arrears, and more than 1.25 × last year's ratio → watch, alert when the arrears are ≥ 60 days old and span two statements (or a quarter); a PO while so in arrears → alert; without arrears, or like last year's season → ok |
//! | `sales_stalled` | physical units sold, net of returns, per statement period over its latest periods covering 90 days (3 monthly, 1 quarterly; statements of one period in parts or currencies counted as one; digital, fee-only or reserve-only statements passed over) against the same months a year before, while it holds at least one such period's sales of the label's stock, worth the materiality floor at wholesale (only with at least `stocking_min_units` a period a year before) | at most 10 % (`sales_stall_permille`) → watch; at most 2 % (a fifth of it) over twice as many periods → alert — stock sold and not reported leaves this trace and no other; a seasonal catalog's quiet months, or a catalog selling less year by year, never fall so far below the same months a year before |
//! | `exposure_over_limit` | (unpaid + reserve + consigned stock at wholesale) ÷ credit limit | watch ≥ 80 %, alert > 100 %, critical > 150 %; alert and critical only as far as what it owes (unpaid ÷ limit) reaches them: over the limit through the label's own consigned stock is watch (the credit check still holds shipments over the limit) |
//! | `stock_concentration` | share of the label's units (its own warehouse + consigned) held by this distributor | watch ≥ 50 % (information) |
//! | `demand_unanswered` | a return/transfer demand with no answer | alert after 14 days |
//! | `demand_refused` | the answer to a demand | refused → critical, partly complied → alert |
//! | `ucc_unperfected` | the agreement retains title: UCC-1 status ([`crate::legal`]) and whether the distributor holds stock | no UCC-1 or lapsed, with stock held → alert; in the six-month continuation window, or filed in another state → watch |
//!
//! "Arrears" means money simply unpaid — not deductions — past due by more than
//! `arrears_grace_days` (7), and only when it reaches the materiality floor: a short-pay
//! residual of a few dollars is not arrears.
//!
//! **A distributor that pays everything due in lumps is judged by its payment days.**
//! One whose payment days over about a year each settled everything past due, at
//! least one and a half statement periods and at most 200 days apart (twice a year,
//! every two months on monthly statements), has a payment cycle ([`crate::cycle`]): each statement counts as due on the first payment day after its
//! terms, or on the next one expected (the last payment day plus the longest recent
//! gap). Lateness, coverage, payments stopped, arrears and purchase orders in arrears are
//! all measured from that day; the signals' sentences say so. One that misses its payment
//! day is late from that day like any other.
//!
//! **One late payment is not a trend.** `payment_lateness` and `payment_coverage` are
//! capped at `watch` unless at least `payment_min_problem_statements` (2) statements due
//! in the window were paid ≥ 30 days late or are still unpaid past due, each by at least
//! the materiality floor. So a healthy distributor that paid one statement late stays
//! at `watch` at most.
//!
//! **A payment warning clears when the distributor catches up.** Lateness and
//! coverage are averages over a window, and each late payment that lands moves them:
//! measured alone, a distributor paying later and later can go alert → ok → alert
//! from one fortnight to the next. So a lateness or coverage signal at `alert` on the day
//! `alert_memory_days` (30) or half of it before is kept at `alert` while the
//! distributor is still materially in arrears, with a sentence saying when it was
//! raised and what is still past due. The earlier days are measured as they were
//! then, without this memory (it never feeds on itself); it only ever keeps a level
//! up, and a distributor that never reached `alert` is never raised by it.
//!
//! # The level of a distributor
//!
//! 1. Start from the highest level among its signals (`ok` when none).
//! 2. If signals from **two or more independent families** are at `alert` or above, the
//!    level is `critical`. Families: payment (`payment_lateness`, `payment_coverage`,
//!    `payments_stopped` — views of the same money, so they count once), deductions, statements,
//!    stocking, sales (`sales_stalled`), exposure, demand (`demand_unanswered`, `demand_refused`). `stock_concentration` (at most
//!    `watch`, information) and `ucc_unperfected` (the label's own paperwork, not the
//!    distributor's behaviour) never count towards this escalation; they only take part
//!    in step 1.
//!
//! The [`Assessment::reason`] says which rule gave the level and names the signals.

use crate::book::{AppKind, Book};
use crate::cycle::Cycle;
use crate::json::{self, div_round, human, pct, permille, plural, show, window_words};
use crate::legal::{self, UccStatus};
use crate::receivables::{exposure, stock_holding};
use crate::reconcile::{calendar_for, CalendarStatus};
use crate::rhythm;
use crate::view::{OfSnapshot, View};
use crate::Snapshot;
pub use crate::{Level, Thresholds};
use backstock_domain::{Date, Money, PartyId};
use backstock_ledger::facts::{Agreement, DemandKind, DemandOutcome};
use serde::Serialize;
use std::collections::{BTreeMap, BTreeSet, HashSet};

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Signal {
    pub code: SignalCode,
    pub level: Level,
    /// A sentence a label owner understands, with the numbers.
    pub message: String,
    /// The measured value, short (`74 days`, `41.2%`, `3 missing`).
    pub value: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Assessment {
    pub distributor: PartyId,
    pub as_of: Date,
    pub level: Level,
    /// Which rule gave the level, naming the signals.
    pub reason: String,
    /// Unpaid + reserve + consigned stock at wholesale, in the agreement currency.
    #[serde(serialize_with = "json::money")]
    pub exposure: Money,
    /// Consigned units the distributor holds that the exposure could not value (no
    /// catalog item, or priced in another currency than the agreement's): an exposure
    /// of 0.00 with units here is not "nothing at stake".
    pub units_not_valued: i64,
    /// The distributor's payment cycle when it pays everything due in lumps
    /// ([`crate::cycle`]): its statements are judged from its payment days.
    pub payment_cycle: Option<PaymentCycle>,
    /// Every signal evaluated (also those at `ok`), highest level first.
    pub signals: Vec<Signal>,
}

/// A payment cycle as data (the sentences say it too).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PaymentCycle {
    /// The shortest and longest gap between the payment days that show it.
    pub every_days_min: i64,
    pub every_days_max: i64,
    pub last_payday: Date,
    /// Statements due since the last payment day are due on this day.
    pub next_expected: Date,
    /// The months its agreement says it pays in (1 = January), when the cycle is
    /// the agreement's; empty when its payments show it. For an agreed cycle the
    /// gaps are those of the calendar and `last_payday` the end of the last
    /// payment month.
    pub payment_months: Vec<u32>,
}

/// One assessment per distributor with an agreement.
pub fn assess(snap: &Snapshot, t: &Thresholds) -> Vec<Assessment> {
    let view = View::of(snap);
    let totals = label_units(snap, &view);
    view.agreements
        .values()
        .map(|a| assess_agreement(snap, &view, a, t, totals))
        .collect()
}

/// The assessment of one distributor (`None` without an agreement).
pub fn assess_one(snap: &Snapshot, t: &Thresholds, distributor: &PartyId) -> Option<Assessment> {
    let view = View::of(snap);
    let totals = label_units(snap, &view);
    let a = view.agreements.get(distributor)?;
    Some(assess_agreement(snap, &view, a, t, totals))
}

/// What a signal measures. Serialized (and shown) as its snake_case name, e.g.
/// `payment_lateness`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum SignalCode {
    PaymentLateness,
    PaymentCoverage,
    PaymentsStopped,
    Deductions,
    StatementsLateOrMissing,
    StockingUp,
    SalesStalled,
    ExposureOverLimit,
    StockConcentration,
    DemandUnanswered,
    DemandRefused,
    UccUnperfected,
    /// A failure on record (`insolvency add`): critical, see `insolvency`.
    Insolvent,
}

impl SignalCode {
    pub const ALL: [SignalCode; 12] = [
        SignalCode::PaymentLateness,
        SignalCode::PaymentCoverage,
        SignalCode::Deductions,
        SignalCode::StatementsLateOrMissing,
        SignalCode::StockingUp,
        SignalCode::SalesStalled,
        SignalCode::ExposureOverLimit,
        SignalCode::StockConcentration,
        SignalCode::DemandUnanswered,
        SignalCode::DemandRefused,
        SignalCode::UccUnperfected,
        SignalCode::Insolvent,
    ];
    pub fn as_str(&self) -> &'static str {
        match self {
            SignalCode::PaymentLateness => "payment_lateness",
            SignalCode::PaymentCoverage => "payment_coverage",
            SignalCode::PaymentsStopped => "payments_stopped",
            SignalCode::Deductions => "deductions",
            SignalCode::StatementsLateOrMissing => "statements_late_or_missing",
            SignalCode::StockingUp => "stocking_up",
            SignalCode::SalesStalled => "sales_stalled",
            SignalCode::ExposureOverLimit => "exposure_over_limit",
            SignalCode::StockConcentration => "stock_concentration",
            SignalCode::DemandUnanswered => "demand_unanswered",
            SignalCode::DemandRefused => "demand_refused",
            SignalCode::UccUnperfected => "ucc_unperfected",
            SignalCode::Insolvent => "insolvent",
        }
    }
    pub fn parse(s: &str) -> Option<SignalCode> {
        SignalCode::ALL.into_iter().find(|c| c.as_str() == s)
    }
    /// The family it belongs to (see the module doc).
    pub fn family(&self) -> &'static str {
        match self {
            SignalCode::PaymentLateness
            | SignalCode::PaymentCoverage
            | SignalCode::PaymentsStopped => "payment",
            SignalCode::Deductions => "deductions",
            SignalCode::StatementsLateOrMissing => "statements",
            SignalCode::StockingUp => "stocking",
            SignalCode::SalesStalled => "sales",
            SignalCode::ExposureOverLimit => "exposure",
            SignalCode::StockConcentration => "concentration",
            SignalCode::DemandUnanswered | SignalCode::DemandRefused => "demand",
            SignalCode::UccUnperfected => "legal",
            SignalCode::Insolvent => "insolvency",
        }
    }
    /// Whether an `alert` of this signal counts towards the two-families escalation.
    pub fn escalates(&self) -> bool {
        !matches!(self.family(), "concentration" | "legal")
    }
}

impl std::fmt::Display for SignalCode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl PartialEq<&str> for SignalCode {
    fn eq(&self, other: &&str) -> bool {
        self.as_str() == *other
    }
}

/// The family of a signal code given as text (`other` when unknown).
pub fn family(code: &str) -> &'static str {
    SignalCode::parse(code).map_or("other", |c| c.family())
}

/// Whether an `alert` of the signal named `code` counts towards the escalation.
pub fn escalates(code: &str) -> bool {
    SignalCode::parse(code).is_some_and(|c| c.escalates())
}

/// The level rule of the module doc, with its explanation.
pub fn level_of(signals: &[Signal]) -> (Level, String) {
    let max = signals.iter().map(|s| s.level).max().unwrap_or(Level::Ok);
    let mut fams: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
    for s in signals
        .iter()
        .filter(|s| s.level >= Level::Alert && s.code.escalates())
    {
        fams.entry(s.code.family())
            .or_default()
            .push(s.code.as_str());
    }
    if fams.len() >= 2 && max < Level::Critical {
        let mut codes: Vec<&str> = fams.values().flatten().copied().collect();
        unique_in_order(&mut codes);
        return (
            Level::Critical,
            format!(
                "critical: {} independent warnings at alert ({})",
                fams.len(),
                codes.join(", ")
            ),
        );
    }
    if max == Level::Ok {
        return (Level::Ok, "ok: no signal above ok".into());
    }
    let mut at_max: Vec<&str> = signals
        .iter()
        .filter(|s| s.level == max)
        .map(|s| s.code.as_str())
        .collect();
    unique_in_order(&mut at_max);
    let mut reason = format!("{max}: highest signal {}", at_max.join(", "));
    if max == Level::Critical && fams.len() >= 2 {
        // The kinds of warning, not more of them: the highest signal is among them.
        let mut codes: Vec<&str> = fams.values().flatten().copied().collect();
        unique_in_order(&mut codes);
        reason.push_str(&format!(
            "; {} independent kinds of warning are at alert or above ({})",
            fams.len(),
            codes.join(", ")
        ));
    }
    (max, reason)
}

/// Keeps the first of each code, in order (a code can come from several signals:
/// two refused demands).
fn unique_in_order(codes: &mut Vec<&str>) {
    let mut seen = std::collections::BTreeSet::new();
    codes.retain(|c| seen.insert(*c));
}

/// Units the label owns everywhere: the sum of `held` plus, when `held` has no entry
/// for the label's own warehouse, the warehouse derived from the entries.
fn label_units(snap: &Snapshot, view: &View<'_>) -> i64 {
    let held: i64 = snap
        .held
        .values()
        .filter(|u| **u > 0)
        .fold(0, |a, b| a.saturating_add(*b));
    if snap.held.keys().any(|(h, _)| h.is_label()) {
        return held;
    }
    let mut per_sku: BTreeMap<&backstock_domain::Sku, i64> = BTreeMap::new();
    for m in view.moves.iter().filter(|m| m.holder.is_label()) {
        let slot = per_sku.entry(m.sku).or_insert(0);
        *slot = slot.saturating_add(m.delta);
    }
    per_sku
        .values()
        .filter(|u| **u > 0)
        .fold(held, |a, b| a.saturating_add(*b))
}

fn sig(code: SignalCode, level: Level, message: String, value: String) -> Signal {
    Signal {
        code,
        level,
        message,
        value,
    }
}

fn assess_agreement(
    snap: &Snapshot,
    view: &View<'_>,
    a: &Agreement,
    t: &Thresholds,
    totals: i64,
) -> Assessment {
    let (mut now, arrears) = assess_as_measured(snap, view, a, t, totals);
    if now.level >= Level::Alert || arrears.amount <= 0 || t.alert_memory_days <= 0 {
        return now;
    }
    remember_payment_alert(snap, view, a, t, totals, &mut now, &arrears);
    now
}

/// Keeps a lateness or coverage warning raised in the last `alert_memory_days` at
/// `alert` while the distributor has not caught up. Lateness and coverage are
/// averages over a window (`payments_stopped` is not: a payment ends it, and a
/// payment that comes is a fact, not a dip): when one late payment lands, the average dips, and a distributor whose
/// payments are getting later would flicker between watch and alert from one
/// fortnight to the next. The level on the earlier days is the one measured then
/// (without this memory, so it never feeds on itself), from what was known then.
fn remember_payment_alert(
    snap: &Snapshot,
    view: &View<'_>,
    a: &Agreement,
    t: &Thresholds,
    totals: i64,
    now: &mut Assessment,
    arrears: &crate::book::Arrears,
) {
    let memory = t.alert_memory_days.min(365);
    for back in [memory / 2, memory] {
        let day = crate::minus_days(view.as_of, back);
        let then_view = View::at(snap, day);
        let (then, _) = assess_as_measured(snap, &then_view, a, t, totals);
        let Some(was) = then.signals.iter().find(|s| {
            s.level >= Level::Alert
                && matches!(
                    s.code,
                    SignalCode::PaymentLateness | SignalCode::PaymentCoverage
                )
        }) else {
            continue;
        };
        let note = format!(
            " On {day} this was at alert: {} It has not caught up since ({} past due beyond {} days, the oldest {} days), so this stays at alert until it does.",
            was.message,
            show(arrears.amount, a.currency),
            t.arrears_grace_days,
            arrears.oldest_days,
        );
        match now.signals.iter_mut().find(|s| s.code == was.code) {
            Some(s) => {
                s.level = s.level.max(Level::Alert);
                s.message.push_str(&note);
            }
            None => now.signals.push(sig(
                was.code,
                Level::Alert,
                note.trim_start().to_string(),
                was.value.clone(),
            )),
        }
        now.signals
            .sort_by(|x, y| y.level.cmp(&x.level).then_with(|| x.code.cmp(&y.code)));
        let (level, reason) = level_of(&now.signals);
        now.level = level;
        now.reason = reason;
        return;
    }
}

/// The assessment from what the data shows on the view's date, and the distributor's
/// material arrears then.
fn assess_as_measured(
    snap: &Snapshot,
    view: &View<'_>,
    a: &Agreement,
    t: &Thresholds,
    totals: i64,
) -> (Assessment, crate::book::Arrears) {
    let d = &a.distributor;
    let as_of = view.as_of;
    let (book, cycle) = judged_book(view, a, t);
    let mut warnings = Vec::new();
    let stock = stock_holding(snap, view, d, a.currency, &mut warnings, false);
    let exp = exposure(&book, &stock, a, &mut warnings);

    let frame = Frame::of(&book, a, t);
    let mut signals = Vec::new();
    signals.extend(payment_signals(snap, a, &book, t, &frame, cycle.as_ref()));
    signals.extend(payments_stopped_signal(a, &book, t, &frame, cycle.as_ref()));
    signals.extend(deductions_signal(&book, t, &frame));
    signals.push(statements_signal(view, a, t));
    signals.extend(stocking_signal(snap, view, a, &book, t, &frame));
    signals.extend(sales_stalled_signal(view, a, &stock, t, &frame));
    signals.push(exposure_signal(&exp, t));
    // The map is ordered by holder first: this distributor's holdings are one range.
    let units_here: i64 = snap
        .held
        .range((d.clone(), backstock_domain::Sku::least())..)
        .take_while(|((h, _), _)| h == d)
        .filter(|(_, u)| **u > 0)
        .fold(0, |acc, (_, u)| acc.saturating_add(*u));
    signals.extend(concentration_signal(units_here, totals, t));
    signals.extend(demand_signals(view, d, t));
    signals.extend(ucc_signal(view, a, units_here, t));
    signals.extend(crate::insolvency::signal(view, d));

    signals.sort_by(|x, y| y.level.cmp(&x.level).then_with(|| x.code.cmp(&y.code)));
    let (level, reason) = level_of(&signals);
    let arrears = book.arrears_of(t.arrears_grace_days, t.deduction_max_permille, frame.floor);
    (
        Assessment {
            distributor: d.clone(),
            as_of,
            level,
            reason,
            exposure: exp.total,
            units_not_valued: stock.unpriced_units.max(0),
            payment_cycle: cycle.as_ref().map(Cycle::data),
            signals,
        },
        arrears,
    )
}

/// The distributor's book as the signals judge it: on its payment cycle when it pays
/// everything due in lumps every few months ([`crate::cycle`]), by each statement's
/// due date otherwise. Receivables and the ageing keep the real due dates.
pub(crate) fn judged_book<'a>(
    view: &View<'a>,
    a: &Agreement,
    t: &Thresholds,
) -> (Book<'a>, Option<Cycle>) {
    judged_book_on(view, a, t, true)
}

/// [`judged_book`], on the distributor's cycle only when `on_cycle` allows it: an
/// earlier date compared with today is judged on the same basis as today (a year ago
/// on its cycle, today without one, would make "later than a year ago" of the
/// difference between the two measures).
fn judged_book_on<'a>(
    view: &View<'a>,
    a: &Agreement,
    t: &Thresholds,
    on_cycle: bool,
) -> (Book<'a>, Option<Cycle>) {
    let mut book = Book::build(
        view,
        &a.distributor,
        a.currency,
        a.payment_terms_days,
        a.reserve_release_days,
    );
    let floor = rhythm::materiality_floor(&book, t, a.currency);
    let cycle =
        Cycle::of(&book, &a.payment_months, t, floor, rhythm::period_days(a)).filter(|_| on_cycle);
    if let Some(c) = &cycle {
        c.apply(&mut book);
    }
    (book, cycle)
}

/// What the distributor's size and rhythm make of the thresholds (see [`crate::rhythm`]).
struct Frame {
    /// Materiality floor, minor units of the agreement currency.
    floor: i128,
    payment_window_days: i64,
    /// A statement counts in the window once it is this many days past due: the
    /// arrears grace (a cheque in the post), and for coverage the distributor's own
    /// usual lateness as well ([`Frame::for_coverage`]).
    due_lag_days: i64,
}

impl Frame {
    fn of(book: &Book<'_>, a: &Agreement, t: &Thresholds) -> Frame {
        Frame {
            floor: rhythm::materiality_floor(book, t, a.currency),
            payment_window_days: rhythm::payment_window_days(a, t),
            due_lag_days: t.arrears_grace_days,
        }
    }

    /// The window's statements as a sentence says them: "6 months to 2016-05-24".
    fn window_text(&self, as_of: Date) -> String {
        format!(
            "{} to {}",
            window_words(self.payment_window_days),
            crate::minus_days(as_of, self.due_lag_days)
        )
    }

    /// Coverage asks "has it paid what fell due?": of a distributor that pays 45
    /// days late every time, the statements due in the last 45 days are not paid
    /// yet, as always. Coverage counts a statement once it is past due by the grace or
    /// by the lateness the distributor nearly always has ([`habitual_days_late`]: the
    /// first quartile of the last year's payments, at most the lateness alert days),
    /// whichever is longer. A distributor sometimes on time is judged as before (a
    /// failing one that was, is seen as soon). Lateness itself is judged on every statement due (the
    /// lateness signal says "pays 45 days late"); a distributor that stops paying
    /// stops at once, and its lateness (of what it paid) does not grow with it.
    fn for_coverage(&self, book: &Book<'_>, t: &Thresholds) -> Frame {
        Frame {
            floor: self.floor,
            payment_window_days: self.payment_window_days,
            due_lag_days: t.arrears_grace_days.max(habitual_days_late(book, t)),
        }
    }
}

/// Lateness and coverage of statements due in the window ending on the book's date.
#[derive(Debug, Clone, Default)]
struct PayMetrics {
    due: i128,
    weighted: i128,
    weight: i128,
    n_due: i64,
    n_unpaid: i64,
    n_problem: i64,
    /// Statements materially late by the lateness watch days (paid late, or unpaid and
    /// that far past due): a subset of `n_problem`, which also counts merely behind.
    n_late: i64,
    cash_in: i128,
    /// `cash_in` is the cash applied to the window's statements (more than what came
    /// in the window: some paid them early), not what was received in it.
    cash_is_applied: bool,
    /// Deducted on the statements due (outstanding and accepted): judged apart.
    deducted: i128,
    /// Settled on the statements due by the distributor's credit notes (statements
    /// whose net is negative, January's returns): owed no longer, so not a shortfall.
    credited: i128,
}

impl PayMetrics {
    fn avg_days(&self) -> Option<i64> {
        div_round(self.weighted, self.weight)
    }
}

fn pay_metrics(book: &Book<'_>, t: &Thresholds, f: &Frame) -> PayMetrics {
    let as_of = book.as_of;
    let window_days = f.payment_window_days;
    let from = crate::minus_days(as_of, window_days);
    // Statements count once they are past the arrears grace: a payment due yesterday and
    // arriving tomorrow is on time, not a shortfall.
    let due_to = crate::minus_days(as_of, f.due_lag_days);
    let due_from = crate::minus_days(due_to, window_days);
    let max = t.deduction_max_permille;
    let mut m = PayMetrics::default();
    // Cash applied (by today) to the statements that fell due in the window, whenever
    // it came: a statement paid a month early, before the window began, is paid.
    let mut applied_to_due = 0i128;
    for s in book
        .stmts
        .iter()
        .filter(|s| s.due_amount() > 0 && s.due_on > due_from && s.due_on <= due_to)
    {
        let deducted = s.deduction(max) + s.applied_of(AppKind::Deduction);
        let credited = s.applied_of(AppKind::CreditNote).max(0);
        m.n_due += 1;
        m.due += s.due_amount() - deducted - credited;
        m.deducted += deducted;
        m.credited += credited;
        let (mut w, mut amt, mut late_amt) = (0i128, 0i128, 0i128);
        for app in s.apps.iter().filter(|a| a.cash && a.amount > 0) {
            if app.date <= as_of {
                applied_to_due += app.amount;
            }
            let days = i64::from(s.due_on.days_until(app.date)).max(0);
            w += app.amount * i128::from(days);
            amt += app.amount;
            if days >= t.payment_lateness_watch_days {
                late_amt += app.amount;
            }
        }
        let unpaid = s.unpaid(max);
        let dpd = s.days_past_due(as_of).max(0);
        if unpaid > 0 {
            w += unpaid * i128::from(dpd);
            amt += unpaid;
            m.n_unpaid += 1;
            if dpd >= t.payment_lateness_watch_days {
                late_amt += unpaid;
            }
        }
        let own_avg = div_round(w, amt).unwrap_or(0);
        let late = own_avg >= t.payment_lateness_watch_days && late_amt >= f.floor;
        let behind = unpaid >= f.floor && dpd > t.arrears_grace_days;
        if late || behind {
            m.n_problem += 1;
        }
        if late {
            m.n_late += 1;
        }
        m.weighted += w;
        m.weight += amt;
    }
    // What came in the window, or what paid the window's statements if more (early
    // payments came before it; cash catching up on older statements came in it):
    // coverage does not drop overnight when an early payment leaves the window.
    let received: i128 = book
        .cash
        .iter()
        .filter(|c| c.date > from && c.date <= as_of)
        .map(|c| c.amount)
        .sum();
    m.cash_in = received.max(applied_to_due);
    m.cash_is_applied = applied_to_due > received;
    m
}

/// Why a level stays at watch: fewer statements behind than the rule needs.
fn capped_note(n_problem: i64, t: &Thresholds, l: Level, raw: Level) -> String {
    if l < raw {
        format!(
            " {} behind by a material amount in the window (fewer than {}), so this stays at watch.",
            plural(n_problem, "statement"),
            t.payment_min_problem_statements
        )
    } else {
        String::new()
    }
}

fn level_at_least(v: i64, watch: i64, alert: i64, critical: i64) -> Level {
    if v >= critical {
        Level::Critical
    } else if v >= alert {
        Level::Alert
    } else if v >= watch {
        Level::Watch
    } else {
        Level::Ok
    }
}

fn payment_signals(
    snap: &Snapshot,
    a: &Agreement,
    book: &Book<'_>,
    t: &Thresholds,
    f: &Frame,
    cycle: Option<&Cycle>,
) -> Vec<Signal> {
    let cur = a.currency;
    let m = pay_metrics(book, t, f);
    let cycle_note = cycle.map(Cycle::text).unwrap_or_default();
    // What the window counts, checkable by hand: statements due in the window that
    // ends the arrears grace before today (one due yesterday is not yet a shortfall).
    let window = f.window_text(book.as_of);
    let capped = m.n_problem < t.payment_min_problem_statements;
    let cap = |l: Level| if capped { l.min(Level::Watch) } else { l };
    let cap_note = |l: Level, raw: Level| capped_note(m.n_problem, t, l, raw);
    let mut out = Vec::new();

    // Lateness.
    match m.avg_days() {
        None => out.push(sig(
            SignalCode::PaymentLateness,
            Level::Ok,
            format!("No statement fell due in the {window}.{cycle_note}"),
            "n/a".into(),
        )),
        Some(avg) => {
            let prior_view = View::at(snap, book.as_of.add_days(-365));
            let (prior_book, _) = judged_book_on(&prior_view, a, t, cycle.is_some());
            let prior_frame = Frame::of(&prior_book, a, t);
            // A year ago is a measure only with as many statements due then (at least
            // half as many, and two): in its first months a distributor's one
            // statement due, unpaid for a week, is "7 days late" — not its habit, and
            // no base for "later than a year ago".
            let prior_m = pay_metrics(&prior_book, t, &prior_frame);
            let prior = prior_m
                .avg_days()
                .filter(|_| prior_m.n_due >= (m.n_due / 2).max(2));
            let raw = level_at_least(
                avg,
                t.payment_lateness_watch_days,
                t.payment_lateness_alert_days,
                t.payment_lateness_critical_days,
            );
            // As late as a year ago (and short of critical): a habit, not a trend.
            let habit = raw == Level::Alert
                && matches!(prior, Some(p) if avg <= p.saturating_add(t.payment_lateness_trend_days));
            // Later and later — the first sign before every failure on record: late by
            // the watch days and that much later than a year ago is an alert.
            // The latest statements (half the window) react first: two or more of them
            // materially late, on average by the watch days and that much later too.
            let recent_frame = Frame {
                floor: f.floor,
                payment_window_days: (f.payment_window_days / 2).max(90),
                due_lag_days: f.due_lag_days,
            };
            let recent = pay_metrics(book, t, &recent_frame);
            let rising = |v: Option<i64>| {
                matches!((v, prior), (Some(v), Some(p))
                    if v >= t.payment_lateness_watch_days
                        && v.saturating_sub(p) >= t.payment_lateness_rising_days)
            };
            // One statement paid late is a glitch, however much it moves the average
            // of a quarterly distributor's three statements: "later and later" needs
            // two of them late by the watch days.
            let getting_later = raw <= Level::Watch
                && ((m.n_late >= t.payment_min_problem_statements && rising(Some(avg)))
                    || (recent.n_late >= t.payment_min_problem_statements
                        && rising(recent.avg_days())));
            let raw = if getting_later { Level::Alert } else { raw };
            let level = if habit { Level::Watch } else { cap(raw) };
            let trend = match prior {
                Some(p) if p < avg => format!(", up from {p} a year ago"),
                Some(p) if p > avg => format!(", down from {p} a year ago"),
                Some(p) => format!(", the same as a year ago ({p})"),
                None => ", with nothing due in the same months a year ago".to_string(),
            };
            let unpaid = if m.n_unpaid > 0 {
                format!(", {} still unpaid", m.n_unpaid)
            } else {
                String::new()
            };
            let note = if getting_later && level == Level::Alert {
                let latest = recent.avg_days().unwrap_or(avg).max(avg);
                format!(
                    " The latest statements average {latest} days beyond terms (an unpaid one counts to today), {} days later than a year ago: payments are getting later.",
                    prior.map_or(0, |p| latest.saturating_sub(p))
                )
            } else if habit {
                format!(
                    " That is within {} days of a year ago: its habit, not a trend, so this stays at watch.",
                    t.payment_lateness_trend_days
                )
            } else {
                cap_note(level, raw)
            };
            out.push(sig(
                SignalCode::PaymentLateness,
                level,
                format!(
                    "Payments average {avg} days beyond terms over the {window}{trend} ({} due{unpaid}).{note}{cycle_note}",
                    plural(m.n_due, "statement"),
                ),
                format!("{avg} days"),
            ));
        }
    }

    // Coverage, over its own window: statements past due by the distributor's usual
    // lateness as well (see `Frame::for_coverage`).
    let cf = f.for_coverage(book, t);
    let m = pay_metrics(book, t, &cf);
    let window = cf.window_text(book.as_of);
    let capped = m.n_problem < t.payment_min_problem_statements;
    let cap = |l: Level| if capped { l.min(Level::Watch) } else { l };
    let cap_note = |l: Level, raw: Level| capped_note(m.n_problem, t, l, raw);
    let scale = 10i128.pow(u32::from(cur.exponent()));
    let min_due = i128::from(t.coverage_min_due_major).saturating_mul(scale);
    let shortfall = m.due - m.cash_in;
    let deducted_note = if m.deducted > 0 {
        format!(
            " Deductions of {} on these statements are judged apart.",
            show(m.deducted, cur)
        )
    } else {
        String::new()
    } + &if m.credited > 0 {
        format!(
            " Its credit notes settled {} of them, which is not counted as due.",
            show(m.credited, cur)
        )
    } else {
        String::new()
    };
    if m.due <= 0 || m.due < min_due {
        out.push(sig(
            SignalCode::PaymentCoverage,
            Level::Ok,
            format!(
                "{} fell due in the {window}: too little to judge payments against it.",
                show(m.due.max(0), cur)
            ),
            "n/a".into(),
        ));
    } else {
        let pm = permille(m.cash_in, m.due).unwrap_or(0);
        let raw = if pm < t.coverage_critical_below_permille {
            Level::Critical
        } else if pm < t.coverage_alert_below_permille {
            Level::Alert
        } else if pm < t.coverage_watch_below_permille {
            Level::Watch
        } else {
            Level::Ok
        };
        let immaterial = shortfall < f.floor;
        let level = if immaterial { Level::Ok } else { cap(raw) };
        // Short of the watch mark now and `coverage_persist_days` before as well (each
        // time material, on two statements or more): payments have been shrinking for
        // months — an alert. One statement paid a few days late, or one glitch, is
        // short only once, or on one statement.
        let earlier = (level == Level::Watch && raw == Level::Watch && !capped)
            .then(|| coverage_before(snap, a, t, book, min_due, cycle.is_some()))
            .flatten();
        let level = if earlier.is_some() {
            Level::Alert
        } else {
            level
        };
        let note = if let Some(pe) = earlier {
            format!(
                " It was {} of what fell due {} days before as well: payments have covered less than {} for months.",
                pct(pe),
                t.coverage_persist_days,
                pct(t.coverage_watch_below_permille)
            )
        } else if immaterial && raw > Level::Ok {
            format!(
                " The shortfall of {} is below the materiality floor of {}.",
                show(shortfall.max(0), cur),
                show(f.floor, cur)
            )
        } else {
            cap_note(level, raw)
        };
        out.push(sig(
            SignalCode::PaymentCoverage,
            level,
            if m.cash_is_applied {
                // Some of the cash that paid them came before the window (paid early).
                format!(
                    "Of {} that fell due in the {window}, {} has been paid ({}), some of it early (before {}).{note}{deducted_note}",
                    show(m.due, cur),
                    show(m.cash_in, cur),
                    pct(pm),
                    crate::minus_days(book.as_of, f.payment_window_days)
                )
            } else {
                format!(
                    "Received {} in the {} to {} against {} that fell due in the {window} ({}).{note}{deducted_note}",
                    show(m.cash_in, cur),
                    window_words(f.payment_window_days),
                    book.as_of,
                    show(m.due, cur),
                    pct(pm),
                )
            },
            pct(pm),
        ));
    }
    out
}

/// Coverage (per-mille) `coverage_persist_days` before the book's date when it was
/// then short of the watch mark by a material amount on two statements or more;
/// `None` otherwise (or with the rule off). Judged on the distributor's payment cycle
/// only if today's is (`on_cycle`).
fn coverage_before(
    snap: &Snapshot,
    a: &Agreement,
    t: &Thresholds,
    book: &Book<'_>,
    min_due: i128,
    on_cycle: bool,
) -> Option<i64> {
    let days = i32::try_from(t.coverage_persist_days)
        .ok()
        .filter(|d| *d > 0)?;
    let view = View::at(snap, book.as_of.add_days(-days));
    let (before, _) = judged_book_on(&view, a, t, on_cycle);
    let frame = Frame::of(&before, a, t).for_coverage(&before, t);
    let m = pay_metrics(&before, t, &frame);
    let pm = permille(m.cash_in, m.due)?;
    (m.due > 0
        && m.due >= min_due
        && pm < t.coverage_watch_below_permille
        && m.due - m.cash_in >= frame.floor
        && m.n_problem >= t.payment_min_problem_statements)
        .then_some(pm)
}

/// The longest time between two of its payments that ends in the year before `until`,
/// in days (`None` with fewer than two payments then): its own rhythm of paying. A gap
/// that began before the year counts (last year's pause from November to January
/// began more than a year before this January's payment).
fn usual_payment_gap_days(book: &Book<'_>, until: Date) -> Option<i64> {
    let from = crate::minus_days(until, 365);
    let paid = || book.cash.iter().filter(|c| c.amount > 0 && c.date <= until);
    // Only a payment within a year before that: a pause of years is no rhythm.
    let before = paid()
        .map(|c| c.date)
        .filter(|d| *d <= from && *d > crate::minus_days(from, 365))
        .max();
    let mut dates: Vec<Date> = paid()
        .map(|c| c.date)
        .filter(|d| *d > from)
        .chain(before)
        .collect();
    dates.sort_unstable();
    dates
        .windows(2)
        .map(|w| i64::from(w[0].days_until(w[1])))
        .max()
}

/// The median days beyond terms of its payments in the year before the book's date
/// (0 without any): its own habit.
fn usual_days_late(book: &Book<'_>) -> i64 {
    days_late_quantile(book, 1, 2)
}

/// The lateness a distributor nearly always has: the first quartile of its payments'
/// days beyond terms over the year (0 without any), at most the lateness alert days.
/// A distributor 45 days late give or take five has 40-odd; one often on time, 0.
fn habitual_days_late(book: &Book<'_>, t: &Thresholds) -> i64 {
    days_late_quantile(book, 1, 4).clamp(0, t.payment_lateness_alert_days.max(0))
}

/// The `num`/`den` quantile of the days beyond terms of its payments in the year
/// before the book's date (0 without any).
fn days_late_quantile(book: &Book<'_>, num: usize, den: usize) -> i64 {
    let from = crate::minus_days(book.as_of, 365);
    let mut days: Vec<i64> = book
        .stmts
        .iter()
        .flat_map(|s| {
            s.apps
                .iter()
                .filter(move |a| a.cash && a.amount > 0 && a.date > from)
                .map(move |a| i64::from(s.due_on.days_until(a.date)).max(0))
        })
        .collect();
    if days.is_empty() {
        return 0;
    }
    days.sort_unstable();
    days.get(days.len() * num / den.max(1))
        .copied()
        .unwrap_or(0)
}

/// How many statements are simply unpaid past due by more than the distributor's own
/// usual lateness and two weeks (at least the arrears grace): "in arrears on two
/// statements" means two it is really behind on. One statement paid three months
/// late while the next is, as usual, a week or two late is the one-off glitch, not
/// arrears that span two periods.
fn statements_behind(book: &Book<'_>, t: &Thresholds) -> i64 {
    let after = t
        .arrears_grace_days
        .max(usual_days_late(book).saturating_add(14));
    book.stmts
        .iter()
        .filter(|s| s.unpaid(t.deduction_max_permille) > 0 && s.days_past_due(book.as_of) > after)
        .count() as i64
}

/// Statements falling due one after another with no payment at all since: the
/// distributor has stopped paying (Lumberjack Mordam's "checks stopped"; Allegro's
/// "not paid since last year").
fn payments_stopped_signal(
    a: &Agreement,
    book: &Book<'_>,
    t: &Thresholds,
    f: &Frame,
    cycle: Option<&Cycle>,
) -> Option<Signal> {
    let as_of = book.as_of;
    let cur = a.currency;
    let last_paid = book
        .cash
        .iter()
        .filter(|c| c.amount > 0 && c.date <= as_of)
        .map(|c| c.date)
        .max();
    // Missed: past due by more than its own usual lateness and two weeks (a
    // distributor that pays 20 days late is not "missing" a payment on day 10).
    let usual_late = usual_days_late(book);
    let missed_after = t.arrears_grace_days.max(usual_late.saturating_add(14));
    let due_to = crate::minus_days(as_of, missed_after);
    let missed: Vec<_> = book
        .stmts
        .iter()
        .filter(|s| s.due_on <= due_to && last_paid.is_none_or(|l| s.due_on > l))
        .filter(|s| s.unpaid(t.deduction_max_permille) > 0)
        .collect();
    if missed.is_empty() {
        return None;
    }
    let amount: i128 = missed
        .iter()
        .map(|s| s.unpaid(t.deduction_max_permille))
        .sum();
    let since = last_paid.unwrap_or(a.agreement_start);
    let silent_days = i64::from(since.days_until(as_of));
    let n = missed.len() as i64;
    // "Enough" is the same span of time whatever the rhythm: as many periods as
    // `payments_stopped_statements` missed. A monthly distributor shows it by the
    // count; a quarterly one has a single statement fall due per quarter, so one
    // statement counts once it is unpaid past its usual lateness for a further
    // full period (the time in which the next one would have fallen due). One
    // quarterly payment 60-100 days late, the everyday glitch, stays at watch.
    let period = rhythm::period_days(a);
    let oldest_overdue_days = missed
        .iter()
        .map(|s| i64::from(s.due_on.days_until(as_of)))
        .max()
        .unwrap_or(0);
    let span_days = missed_after + (t.payments_stopped_statements - 1).max(0) * period;
    let enough = n >= t.payments_stopped_statements || oldest_overdue_days >= span_days;
    let slack = t
        .payment_lateness_trend_days
        .max(rhythm::period_days(a) / 3);
    let habit =
        usual_payment_gap_days(book, since).is_some_and(|g| silent_days <= g.saturating_add(slack));
    let material = amount >= f.floor;
    let raw = if !material || silent_days < t.payments_stopped_days {
        Level::Ok
    } else if silent_days >= t.payments_stopped_critical_days && enough {
        Level::Critical
    } else if enough {
        Level::Alert
    } else {
        Level::Watch
    };
    let level = if habit { raw.min(Level::Watch) } else { raw };
    let since_text = match last_paid {
        Some(l) => format!("No payment has come since {l} ({silent_days} days)"),
        None => "No payment has ever come".to_string(),
    };
    let habit_note = if habit && raw > level {
        " It has gone this long between payments before, so this stays at watch."
    } else {
        ""
    };
    Some(sig(
        SignalCode::PaymentsStopped,
        level,
        format!(
            "{since_text} while {} that fell due after it {} unpaid ({}){}.{habit_note}{}",
            plural(n, "statement"),
            if n == 1 { "is" } else { "are" },
            show(amount, cur),
            if n == 1 {
                format!(", {oldest_overdue_days} days past due")
            } else {
                format!(", the oldest {oldest_overdue_days} days past due")
            },
            cycle.map(Cycle::text).unwrap_or_default()
        ),
        format!("{silent_days} days"),
    ))
}

/// Deductions taken on the last 12 months of statements, against what they billed.
fn deductions_signal(book: &Book<'_>, t: &Thresholds, f: &Frame) -> Option<Signal> {
    let cur = book.currency;
    let from = crate::minus_days(book.as_of, 365);
    let max = t.deduction_max_permille;
    let (mut billed, mut open, mut disputed, mut accepted) = (0i128, 0i128, 0i128, 0i128);
    let mut oldest_disputed: Option<Date> = None;
    for s in book
        .stmts
        .iter()
        .filter(|s| s.r.st.period_end > from && s.r.st.period_end <= book.as_of)
    {
        billed += s.due_amount();
        let d = s.deduction(max);
        if s.disputed && d > 0 {
            disputed += d;
            let since = s.last_cash_on().unwrap_or(s.due_on);
            oldest_disputed = Some(oldest_disputed.map_or(since, |o: Date| o.min(since)));
        } else {
            open += d;
        }
        accepted += s.applied_of(AppKind::Deduction);
    }
    let total = open + disputed + accepted;
    if total <= 0 {
        return None;
    }
    let pm = permille(total, billed).unwrap_or(0);
    let raw = if pm >= t.deductions_alert_permille {
        Level::Alert
    } else if pm >= t.deductions_watch_permille {
        Level::Watch
    } else {
        Level::Ok
    };
    let level = if total < f.floor { Level::Ok } else { raw };
    let mut parts = Vec::new();
    if open > 0 {
        parts.push(format!("{} open", show(open, cur)));
    }
    if disputed > 0 {
        parts.push(format!(
            "{} disputed (since {})",
            show(disputed, cur),
            oldest_disputed.map(|d| d.to_string()).unwrap_or_default()
        ));
    }
    if accepted > 0 {
        parts.push(format!("{} accepted", show(accepted, cur)));
    }
    Some(sig(
        SignalCode::Deductions,
        level,
        format!(
            "Deducted {} from the last 12 months of statements ({} of {} billed): {}. Short pays are judged here, apart from money simply not paid.",
            show(total, cur),
            pct(pm),
            show(billed, cur),
            parts.join(", ")
        ),
        pct(pm),
    ))
}

fn statements_signal(view: &View<'_>, a: &Agreement, t: &Thresholds) -> Signal {
    let as_of = view.as_of;
    let from = crate::minus_days(as_of, t.statement_window_days);
    let window = window_words(t.statement_window_days);
    let cal = calendar_for(view, a, t);
    let in_window: Vec<_> = cal
        .iter()
        .filter(|p| p.expected_by > from && p.expected_by <= as_of)
        .collect();
    // A period with no statement while later ones came (a month with nothing sold,
    // two months sent as one) is a skip: the statements have not stopped. Once two
    // statements since have come on time, skips are watched only — a gap does not
    // keep a distributor that reports on time at alert for the rest of the year.
    // Until then they count as missing (a distributor skipping the months it would
    // rather not report is not cleared by one statement).
    const ON_TIME_TO_CLEAR_SKIPS: usize = 2;
    let all_missing: Vec<&&crate::reconcile::CalendarPeriod> = in_window
        .iter()
        .filter(|p| p.status == CalendarStatus::Missing)
        .collect();
    let last_received_end = cal
        .iter()
        .filter(|p| matches!(p.status, CalendarStatus::Received | CalendarStatus::Late))
        .map(|p| p.period_end)
        .max();
    // Each skip is judged on its own: cleared once two statements after it came on
    // time (a later gap not yet cleared does not bring an earlier cleared one back).
    let (skipped, missing): (Vec<&&crate::reconcile::CalendarPeriod>, Vec<_>) =
        all_missing.into_iter().partition(|p| {
            last_received_end.is_some_and(|r| p.period_end < r)
                && cal
                    .iter()
                    .filter(|q| q.period_end > p.period_end && q.status == CalendarStatus::Received)
                    .count()
                    >= ON_TIME_TO_CLEAR_SKIPS
        });
    let late: Vec<_> = in_window
        .iter()
        .filter(|p| p.status == CalendarStatus::Late)
        .collect();
    let (nm, nl, ns) = (
        missing.len() as i64,
        late.len() as i64,
        skipped.len() as i64,
    );
    // A month counts 30 days at least: January and February missing (59 days) are two
    // months missing, as March and April (61) are — they stayed at watch a month longer.
    let missing_days: i64 = missing
        .iter()
        .map(|p| {
            let days = i64::from(p.period_start.days_until(p.period_end)) + 1;
            if (28..30).contains(&days) {
                30
            } else {
                days
            }
        })
        .sum();
    // One missing statement alerts only once it is overdue by a whole period of
    // its own rhythm, the time in which the next one would have come: the same
    // span as two missing monthly statements. A quarterly statement a month or
    // two later than usual, and then sent, is a glitch to watch, not a stop.
    let overdue = missing
        .iter()
        .filter_map(|p| p.days_late)
        .max()
        .unwrap_or(0);
    let one_period_days = crate::rhythm::period_days(a).max(30);
    // A second strike: a statement missing a month beyond its usual time while
    // another one in the window already came late is not the one-off glitch —
    // statements are coming later and now one has not come. (A monthly statement
    // alone never reaches the missing days for an alert; this speaks of quarters.)
    const A_MONTH_DAYS: i64 = 30;
    let second_strike = nl >= 1 && overdue >= A_MONTH_DAYS;
    // Later and later: the most recent statements each came late or not at all, at
    // least two of them received late. One late statement is a glitch; a run of them
    // reaching up to today is the distributor's rhythm breaking down (each is judged
    // against its own usual lag, so a distributor that always sends statements five
    // weeks after the month is not late at all).
    let in_a_row = usize::try_from(t.statements_late_in_a_row_alert).unwrap_or(0);
    // Only once the distributor's usual lag is known (three statements or more): a
    // new distributor's first statements are judged by the grace alone, and one that
    // simply sends them a little after it is not yet known to be late.
    let lag_known = crate::rhythm::usual_issue_lag_days(view, a).is_some();
    let late_run = (lag_known && in_a_row >= 2 && in_window.len() >= in_a_row).then(|| {
        let recent = &in_window[in_window.len() - in_a_row..];
        let all_late_or_missing = recent.iter().all(|p| p.status != CalendarStatus::Received);
        let received_late = recent
            .iter()
            .filter(|p| p.status == CalendarStatus::Late)
            .count();
        all_late_or_missing && received_late >= 2
    }) == Some(true);
    let level = if nm >= t.statements_missing_critical {
        Level::Critical
    } else if (missing_days >= t.statements_missing_alert_days
        && (nm >= 2 || overdue >= one_period_days || second_strike))
        || late_run
    {
        Level::Alert
    } else if nm >= 1 || nl >= 1 || ns >= 1 {
        Level::Watch
    } else {
        Level::Ok
    };
    let lag = crate::rhythm::expected_lag_days(view, a, t);
    let message = if nm == 0 && nl == 0 && ns == 0 {
        if in_window.is_empty() {
            format!("No statement was expected in the last {window}.")
        } else {
            format!(
                "All {} expected in the last {window} arrived on time (within {lag} days of each period's end).",
                plural(in_window.len() as i64, "statement")
            )
        }
    } else {
        let mut parts = Vec::new();
        if nm > 0 {
            let ends: Vec<String> = missing.iter().map(|p| p.period_end.to_string()).collect();
            parts.push(format!(
                "{} missing (periods ending {})",
                plural(nm, "statement"),
                ends.join(", ")
            ));
        }
        if ns > 0 {
            let ends: Vec<String> = skipped.iter().map(|p| p.period_end.to_string()).collect();
            parts.push(format!(
                "{} skipped (periods ending {}; the statements since came on time)",
                plural(ns, "statement"),
                ends.join(", ")
            ));
        }
        if nl > 0 {
            let worst = late.iter().filter_map(|p| p.days_late).max().unwrap_or(0);
            parts.push(format!(
                "{} late (up to {worst} days)",
                plural(nl, "statement")
            ));
        }
        let trend = if late_run {
            format!(" — the last {in_a_row} expected all came late or not at all, later and later")
        } else {
            String::new()
        };
        // Periods owed under an earlier agreement with another rhythm (monthly before a
        // change to quarterly) are said to be so: the lag below is the agreement's now.
        let earlier: BTreeSet<&str> = in_window
            .iter()
            .filter_map(|p| view.agreement_on(&a.distributor, p.period_end))
            .map(|x| x.statement_frequency.as_str())
            .filter(|f| *f != a.statement_frequency.as_str())
            .collect();
        let earlier = if earlier.is_empty() {
            String::new()
        } else {
            format!(
                " Periods before its agreement of {} were owed {} under the agreement then in force.",
                a.agreement_start,
                earlier.into_iter().collect::<Vec<_>>().join(" or ")
            )
        };
        // How the lag was set: learned from its statements, or half a period until
        // three statements of this rhythm show its usual lag.
        let how = match crate::rhythm::usual_issue_lag_days(view, a) {
            Some(_) => format!(
                "its usual lag plus {} days, at least {}",
                t.statement_lag_slack_days, t.statement_grace_days
            ),
            None => format!(
                "half a period until three of its statements show its usual lag, at least {}",
                t.statement_grace_days
            ),
        };
        format!(
            "{} in the last {window}{trend}; its statements are expected {lag} days after each {} period ({how}).{earlier}",
            parts.join(" and "),
            a.statement_frequency.as_str(),
        )
    };
    sig(
        SignalCode::StatementsLateOrMissing,
        level,
        message,
        if ns > 0 {
            format!("{nm} missing, {nl} late, {ns} skipped")
        } else {
            format!("{nm} missing, {nl} late")
        },
    )
}

fn ratio_text(pm: Option<i64>) -> String {
    match pm {
        Some(pm) => format!("{}.{}x", pm / 1000, (pm % 1000).abs() / 100),
        None => "no sales reported".into(),
    }
}

/// Units taken in the window ending on `view`'s date (purchase orders, and shipments
/// not filling one of them) and units sold in a window of the same length, from the
/// distributor's most recent statements (at least two periods' worth, up to a year
/// back, so a quarterly distributor's sales are seen before its next statement).
struct Stocking<'v> {
    pos: Vec<&'v backstock_ledger::facts::PurchaseOrder>,
    inbound: i64,
    /// `None` when no statement of the last year covers any period.
    sold_in_window: Option<i64>,
    ratio: Option<i64>,
}

fn stocking_measure<'v>(view: &'v View<'_>, a: &Agreement, window_days: i64) -> Stocking<'v> {
    let d = &a.distributor;
    let as_of = view.as_of;
    let from = crate::minus_days(as_of, window_days);
    let pos: Vec<&'v backstock_ledger::facts::PurchaseOrder> = view
        .pos
        .iter()
        .map(|p| p.item)
        .filter(|p| &p.distributor == d && p.date > from && p.date <= as_of)
        .collect();
    let po_numbers: HashSet<&str> = pos.iter().map(|p| p.po_number.as_str()).collect();
    let ordered: i64 = pos.iter().fold(0i64, |acc, p| {
        acc.saturating_add(i64::try_from(p.units).unwrap_or(i64::MAX))
    });
    let shipped_extra: i64 = view
        .shipments_to(d)
        .filter(|s| s.date > from && s.date <= as_of)
        .filter(|s| !matches!(s.po_number, Some(n) if po_numbers.contains(n)))
        .fold(0i64, |acc, s| {
            acc.saturating_add(i64::try_from(s.units).unwrap_or(i64::MAX))
        });
    let inbound = ordered.saturating_add(shipped_extra);

    let year_ago = crate::minus_days(as_of, 365);
    let need = window_days.max(2 * rhythm::period_days(a));
    let mut recent: Vec<_> = view
        .statements_of(d)
        .filter(|s| s.st.period_end > year_ago && s.st.period_end <= as_of)
        .collect();
    // Newest first; of two ending the same day, a statement of sales before a credit
    // note (January's returns of the whole holiday quarter end on December 31 too:
    // taken first, it filled the window alone and read "no net sales").
    let has_sales = |s: &crate::view::StmtRef<'_>| {
        s.st.lines
            .iter()
            .any(|l| l.kind == backstock_ledger::LineKind::Sale)
    };
    recent.sort_by_key(|s| std::cmp::Reverse((s.st.period_end, has_sales(s), s.seq)));
    let (mut sold, mut covered) = (0i64, 0i64);
    let mut seen: BTreeSet<&str> = BTreeSet::new();
    for s in recent {
        if covered >= need {
            break;
        }
        if !seen.insert(s.st.statement_id.as_str()) {
            continue;
        }
        covered += i64::from(s.st.period_start.days_until(s.st.period_end)).max(0) + 1;
        for l in s.st.lines.iter().filter(|l| l.channel.is_physical()) {
            match l.kind {
                backstock_ledger::LineKind::Sale => sold = sold.saturating_add(l.units),
                backstock_ledger::LineKind::Return => sold = sold.saturating_sub(l.units),
                _ => {}
            }
        }
    }
    let sold_in_window = (covered > 0).then(|| {
        div_round(
            i128::from(sold) * i128::from(window_days),
            i128::from(covered),
        )
        .unwrap_or(0)
    });
    let ratio = match sold_in_window {
        Some(s) if s > 0 => permille(i128::from(inbound), i128::from(s)),
        _ => None,
    };
    Stocking {
        pos,
        inbound,
        sold_in_window,
        ratio,
    }
}

/// Purchase orders of the window placed while the distributor was materially in
/// arrears for at least `stocking_po_arrears_days`, as sentences (the newest three).
/// How many days past due its oldest arrears must be for an order to count as placed
/// "while in arrears": `stocking_po_arrears_days` beyond the lateness the distributor
/// nearly always has ([`habitual_days_late`]), and more than its usual longest time
/// between two payments and two weeks: a distributor that pays in lumps every two
/// or three months is, by habit, some statements 60-odd days behind when it orders.
/// (A distributor that stops paying has no payment to end its present gap: the gap
/// is of the year's payments before it.)
fn po_arrears_days(book: &Book<'_>, t: &Thresholds) -> i64 {
    const TWO_WEEKS_DAYS: i64 = 14;
    let gap = usual_payment_gap_days(book, book.as_of)
        .unwrap_or(0)
        .clamp(0, t.payment_window_days.max(0));
    t.stocking_po_arrears_days
        .saturating_add(habitual_days_late(book, t))
        .max(gap.saturating_add(TWO_WEEKS_DAYS))
}

fn flagged_pos(
    snap: &Snapshot,
    a: &Agreement,
    pos: &[&backstock_ledger::facts::PurchaseOrder],
    t: &Thresholds,
) -> Vec<String> {
    let cur = a.currency;
    let mut by_po: BTreeMap<(Date, &str), (i64, usize)> = BTreeMap::new();
    for p in pos {
        let e = by_po
            .entry((p.date, p.po_number.as_str()))
            .or_insert((0, 0));
        e.0 =
            e.0.saturating_add(i64::try_from(p.units).unwrap_or(i64::MAX));
        e.1 += 1;
    }
    let mut flagged = Vec::new();
    for ((date, po), (units, skus)) in &by_po {
        let v = View::at(snap, *date);
        let (b, _) = judged_book(&v, a, t);
        let floor = rhythm::materiality_floor(&b, t, cur);
        let ar = b.arrears_of(t.arrears_grace_days, t.deduction_max_permille, floor);
        let (amt, days) = (ar.amount, ar.oldest_days);
        // One statement paid late is not a trend (as for the payment signals): the
        // arrears must span two statement periods.
        let after = po_arrears_days(&b, t);
        let broad = rhythm::arrears_span_two_periods(a, statements_behind(&b, t), days, after);
        if amt > 0 && days >= after && broad {
            flagged.push(format!(
                "purchase order {po} ({units} units of {}) on {date} came while {} was {days} days past due",
                plural(*skus as i64, "SKU"),
                show(amt, cur)
            ));
        }
    }
    let n_flagged = flagged.len();
    if n_flagged > 3 {
        flagged.drain(..n_flagged - 3);
        flagged.insert(0, format!("{} earlier orders", n_flagged - 3));
    }
    flagged
}

/// Physical units a statement reports sold, net of returns (digital sales move no
/// stock).
fn physical_units_sold(s: &backstock_ledger::Statement) -> i64 {
    s.lines
        .iter()
        .filter(|l| l.channel == backstock_ledger::Channel::Physical)
        .map(|l| match l.kind {
            backstock_ledger::LineKind::Sale => l.units,
            backstock_ledger::LineKind::Return => -l.units,
            _ => 0,
        })
        .fold(0i64, i64::saturating_add)
}

/// `sales_stalled`: its latest statement periods report next to nothing sold (at
/// most `sales_stall_permille` of what it sold in the same months a year before)
/// while it still holds at least a period's such sales of the label's stock, worth
/// the materiality floor at wholesale. Stock a distributor sells and does not report
/// leaves this trace and no other: it keeps sending statements, of nothing, and pays
/// them. Periods covering 90 days (3 monthly, 1 quarterly) → watch; twice that →
/// alert. Against the same months a year before, a seasonal catalog's quiet months
/// are not a stall, nor is one that sells less year by year.
fn sales_stalled_signal(
    view: &View<'_>,
    a: &Agreement,
    stock: &crate::receivables::StockHolding,
    t: &Thresholds,
    f: &Frame,
) -> Option<Signal> {
    if t.sales_stall_permille <= 0 {
        return None;
    }
    let period = rhythm::period_days(a).max(28);
    // Periods per 90 days of its rhythm: 3 monthly, 1 quarterly.
    let k = usize::try_from((90 + period - 1) / period)
        .unwrap_or(1)
        .max(1);
    // Physical units sold per statement period (statements of one period in several
    // currencies, or sent in parts, are one period). A statement that reports no
    // physical sale or return but something else (a digital report, fees alone, a
    // reserve released) says nothing of the stock; one with no lines at all is a
    // statement of nothing sold.
    let mut periods: BTreeMap<(Date, Date), i64> = BTreeMap::new();
    for s in view.statements_of(&a.distributor) {
        let physical = s.st.lines.iter().any(|l| {
            l.channel == backstock_ledger::Channel::Physical
                && matches!(
                    l.kind,
                    backstock_ledger::LineKind::Sale | backstock_ledger::LineKind::Return
                )
        });
        if !physical && !s.st.lines.is_empty() {
            continue;
        }
        let slot = periods
            .entry((s.st.period_end, s.st.period_start))
            .or_insert(0);
        *slot = slot.saturating_add(physical_units_sold(s.st));
    }
    let periods: Vec<(Date, i64)> = periods.into_iter().map(|((e, _), u)| (e, u)).collect();
    // (units sold in the last `n` periods, per period then, per period in the same
    // months a year before, the last period's end) when they are a stall.
    let stalled = |n: usize, permille: i64| -> Option<(i64, i64, i64, Date)> {
        let recent = periods.get(periods.len().checked_sub(n)?..)?;
        let (first_end, last_end) = (recent.first()?.0, recent.last()?.0);
        let slack = 20;
        let from = crate::minus_days(first_end, 365 + slack);
        let to = crate::minus_days(last_end, 365 - slack);
        let base: Vec<i64> = periods
            .iter()
            .filter(|(e, _)| *e >= from && *e <= to)
            .map(|(_, u)| *u)
            .collect();
        if base.len() * 2 < n {
            return None;
        }
        let base_units: i64 = base.iter().fold(0i64, |x, u| x.saturating_add(*u));
        let recent_units: i64 = recent
            .iter()
            .fold(0i64, |x, (_, u)| x.saturating_add(*u))
            .max(0);
        let base_rate = base_units / base.len() as i64;
        // Too little sold a year before to tell a stall from noise.
        if base_rate < t.stocking_min_units.max(1) {
            return None;
        }
        let is_stalled = i128::from(recent_units) * 1000
            <= i128::from(base_rate) * n as i128 * i128::from(permille);
        is_stalled.then_some((recent_units, recent_units / n as i64, base_rate, last_end))
    };
    let watch = stalled(k, t.sales_stall_permille)?;
    // It must hold stock worth selling: a period's sales, material at wholesale.
    if stock.units < watch.2 || i128::from(stock.at_wholesale.minor()) < f.floor {
        return None;
    }
    // Alert: twice as long, and next to nothing at all (a fifth of the watch mark: 2 %
    // by default) — a catalog whose sales collapse for the label's own reasons still
    // sells a little, the distributor that stops reporting reports none.
    let (level, span, (units, rate, base_rate, last_end)) =
        match stalled(2 * k, t.sales_stall_permille / 5) {
            Some(longer) => (Level::Alert, 2 * k, longer),
            None => (Level::Watch, k, watch),
        };
    let per = if period > 45 { "a quarter" } else { "a month" };
    Some(sig(
        SignalCode::SalesStalled,
        level,
        format!(
            "Its statements of the last {} (to {last_end}) report {} sold, against {base_rate} {per} in the same months a year before, while it holds {} of the label's units ({} at wholesale): sales it does not report, or stock that no longer sells — ask it for a stock count, or for the stock back.",
            plural(span as i64, if period > 45 { "quarter" } else { "month" }),
            plural(units, "unit"),
            stock.units,
            show(i128::from(stock.at_wholesale.minor()), a.currency),
        ),
        format!("{rate} vs {base_rate} {per}"),
    ))
}

fn stocking_signal(
    snap: &Snapshot,
    view: &View<'_>,
    a: &Agreement,
    book: &Book<'_>,
    t: &Thresholds,
    f: &Frame,
) -> Option<Signal> {
    let window_days = rhythm::stocking_window_days(a, t);
    let window = window_words(window_days);
    let now = stocking_measure(view, a, window_days);
    if now.inbound <= 0 {
        return None;
    }
    let inbound = now.inbound;
    let ratio = now.ratio;
    let stocking = inbound >= t.stocking_min_units
        && !matches!(ratio, Some(r) if r < t.stocking_ratio_permille);
    // The same months a year earlier: a build-up like last year's is the season.
    let last_year_view = View::at(snap, view.as_of.add_days(-365));
    let last_year = stocking_measure(&last_year_view, a, window_days);
    let seasonal_limit = last_year.ratio.map(|r| {
        i64::try_from(i128::from(r) * i128::from(t.stocking_seasonal_permille.max(0)) / 1000)
            .unwrap_or(i64::MAX)
    });
    let seasonal = match (ratio, seasonal_limit) {
        (Some(r), Some(l)) => r <= l,
        _ => false,
    };
    let ar = book.arrears_of(t.arrears_grace_days, t.deduction_max_permille, f.floor);
    let (arrears, oldest) = (ar.amount, ar.oldest_days);
    let cur = a.currency;
    let flagged = if arrears > 0 {
        flagged_pos(snap, a, &now.pos, t)
    } else {
        Vec::new()
    };

    let base = match (ratio, now.sold_in_window) {
        (Some(_), Some(sold)) => format!(
            "Ordered or was sent {inbound} units in the last {window} against {sold} sold at its recent rate ({})",
            ratio_text(ratio)
        ),
        (_, Some(_)) => format!(
            "Ordered or was sent {inbound} units in the last {window} and reported no net sales in its recent statements"
        ),
        (_, None) => format!(
            "Ordered or was sent {inbound} units in the last {window} and sent no statement of sales in the last year"
        ),
    };
    let last_year_text = match last_year.ratio {
        Some(r) => format!(" (a year earlier: {})", ratio_text(Some(r))),
        None => String::new(),
    };
    let after = po_arrears_days(book, t);
    let serious = oldest >= after
        && rhythm::arrears_span_two_periods(a, statements_behind(book, t), oldest, after);
    let (level, message) = if (stocking && !seasonal && arrears > 0) || !flagged.is_empty() {
        let mut m = format!("{base}{last_year_text}");
        if arrears > 0 {
            m.push_str(&format!(
                " while {} is past due (oldest {oldest} days)",
                show(arrears, cur)
            ));
        }
        m.push('.');
        if !flagged.is_empty() {
            m.push_str(&format!(
                " Ordering more while in arrears: {}.",
                flagged.join("; ")
            ));
        }
        let level = if serious || !flagged.is_empty() {
            Level::Alert
        } else {
            Level::Watch
        };
        (level, m)
    } else if stocking && seasonal {
        (
            Level::Ok,
            format!("{base}{last_year_text}: like the same months a year earlier, so this reads as the season, not a warning."),
        )
    } else if stocking {
        (
            Level::Ok,
            format!(
                "{base}; nothing material is past due, so this reads as seasonal stocking or growth, not a warning."
            ),
        )
    } else {
        (Level::Ok, format!("{base}."))
    };
    Some(sig(
        SignalCode::StockingUp,
        level,
        message,
        ratio_text(ratio),
    ))
}

fn exposure_signal(e: &crate::receivables::Exposure, t: &Thresholds) -> Signal {
    // A distributor owed money by the label (a credit note not yet used) has a credit,
    // not a negative unpaid amount.
    let owed = if e.unpaid.minor() < 0 {
        format!(
            "a credit of {} in its favour",
            human(Money::from_minor(
                e.unpaid.minor().saturating_neg(),
                e.unpaid.currency()
            ))
        )
    } else {
        format!("unpaid {}", human(e.unpaid))
    };
    let breakdown = format!(
        "{owed}, reserves {}, stock at wholesale {}",
        human(e.reserve_held),
        human(e.stock_at_wholesale)
    );
    match e.limit_used_permille {
        None => sig(
            SignalCode::ExposureOverLimit,
            Level::Ok,
            format!(
                "Exposure is {} ({breakdown}); no credit limit to compare with.",
                human(e.total)
            ),
            human(e.total),
        ),
        Some(pm) => {
            let of = |pm: i64| {
                if pm > t.exposure_critical_above_permille {
                    Level::Critical
                } else if pm > t.exposure_alert_above_permille {
                    Level::Alert
                } else if pm >= t.exposure_watch_permille {
                    Level::Watch
                } else {
                    Level::Ok
                }
            };
            let raw = of(pm);
            // Stock the label consigned is its own doing, not the distributor's: over
            // the limit through it is watched (and the credit check holds shipments
            // over the limit), never alert or critical — a prompt payer would read as
            // "in default" on artists' statements. What the distributor owes (unpaid)
            // over the limit keeps the level it reaches.
            let owed = i128::from(e.unpaid.minor().max(0));
            let limit = i128::from(e.credit_limit.minor());
            let owed_level = permille(owed, limit).map_or(Level::Ok, of);
            let level = raw.min(owed_level.max(Level::Watch));
            let note = if level < raw {
                format!(
                    " Most of it is the label's own stock on consignment (what it owes is {} of the limit), so this signal stays at watch; shipments over the limit are held by the credit check.",
                    pct(permille(owed, limit).unwrap_or(0))
                )
            } else {
                String::new()
            };
            sig(
                SignalCode::ExposureOverLimit,
                level,
                format!(
                    "Exposure {} ({breakdown}) is {} of the {} credit limit.{note}",
                    human(e.total),
                    pct(pm),
                    human(e.credit_limit)
                ),
                pct(pm),
            )
        }
    }
}

fn concentration_signal(units: i64, total: i64, t: &Thresholds) -> Option<Signal> {
    if total <= 0 || units <= 0 {
        return None;
    }
    let pm = permille(i128::from(units), i128::from(total))?;
    let level = if pm >= t.concentration_watch_permille {
        Level::Watch
    } else {
        Level::Ok
    };
    Some(sig(
        SignalCode::StockConcentration,
        level,
        format!(
            "Holds {units} of the label's {total} units ({}); for information.",
            pct(pm)
        ),
        pct(pm),
    ))
}

fn demand_signals(view: &View<'_>, d: &PartyId, t: &Thresholds) -> Vec<Signal> {
    let as_of = view.as_of;
    let mut out = Vec::new();
    for dm in view.demands.iter().filter(|x| &x.distributor == d) {
        let what = match dm.kind {
            DemandKind::Return => "return".to_string(),
            DemandKind::Transfer => match &dm.transfer_to {
                Some(to) => format!("transfer to {to}"),
                None => "transfer".to_string(),
            },
        };
        let resp = view
            .responses
            .iter()
            .filter(|r| r.demand_id == dm.demand_id)
            .max_by_key(|r| r.answered_on);
        match resp {
            Some(r) => {
                let note = if r.note.trim().is_empty() {
                    String::new()
                } else {
                    format!(" (\"{}\")", r.note.trim())
                };
                match r.outcome {
                    DemandOutcome::Refused => out.push(sig(
                        SignalCode::DemandRefused,
                        Level::Critical,
                        format!(
                            "Refused the {what} demand {} of {} on {}{note}: the label's stock is being held.",
                            dm.demand_id, dm.made_on, r.answered_on
                        ),
                        "refused".into(),
                    )),
                    DemandOutcome::Partial => out.push(sig(
                        SignalCode::DemandRefused,
                        Level::Alert,
                        format!(
                            "Only partly complied with the {what} demand {} of {} (answered {}){note}.",
                            dm.demand_id, dm.made_on, r.answered_on
                        ),
                        "partial".into(),
                    )),
                    DemandOutcome::Complied => {}
                }
            }
            None => {
                let age = i64::from(dm.made_on.days_until(as_of));
                let level = if age > t.demand_answer_days {
                    Level::Alert
                } else {
                    Level::Ok
                };
                out.push(sig(
                    SignalCode::DemandUnanswered,
                    level,
                    format!(
                        "The {what} demand {} made on {} ({}) has had no answer for {age} days.",
                        dm.demand_id, dm.made_on, dm.via
                    ),
                    format!("{age} days"),
                ));
            }
        }
    }
    out
}

fn ucc_signal(view: &View<'_>, a: &Agreement, units_held: i64, t: &Thresholds) -> Option<Signal> {
    if !a.title_retained {
        return None;
    }
    let as_of = view.as_of;
    let cs = legal::chains(view, &a.distributor, t);
    let (status, chain) = legal::status(&cs, as_of, t);
    let held = units_held > 0;
    let number = chain
        .and_then(|c| c.numbers.first())
        .map(String::as_str)
        .unwrap_or("?");
    let (level, message) = match (status, chain) {
        (UccStatus::Missing, _) => (
            if held { Level::Alert } else { Level::Ok },
            format!(
                "No UCC-1 is on file against {} ({}) and it holds {units_held} consigned units: against its lenders the label is unperfected.",
                a.legal_name, a.state_of_organization
            ),
        ),
        (UccStatus::Lapsed, Some(c)) => (
            if held { Level::Alert } else { Level::Ok },
            format!(
                "UCC-1 {number} lapsed on {} and {units_held} consigned units are held: file a new UCC-1 (and PMSI notices).",
                c.lapse_on
            ),
        ),
        (UccStatus::ContinuationWindowOpen, Some(c)) => (
            Level::Watch,
            format!(
                "UCC-1 {number} lapses on {}: file a continuation now (the window opened on {}).",
                c.lapse_on,
                c.lapse_on.add_months(-legal::months(t.ucc_continuation_window_months))
            ),
        ),
        (_, Some(c)) if !legal::same_state(&c.state, &a.state_of_organization) => (
            Level::Watch,
            format!(
                "UCC-1 {number} was filed in {} but {} is organized in {}: check that it was filed in the right state.",
                c.state, a.legal_name, a.state_of_organization
            ),
        ),
        (_, Some(c)) => (
            Level::Ok,
            format!("UCC-1 {number} filed in {} on {}, effective until {}.", c.state, c.filed_on, c.lapse_on),
        ),
        (_, None) => (Level::Ok, "No UCC-1 on file.".to_string()),
    };
    Some(sig(
        SignalCode::UccUnperfected,
        level,
        message,
        status.as_str().into(),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testkit::*;
    use backstock_ledger::facts::DemandOutcome;
    use backstock_ledger::{Event, Fact};

    const AS_OF: &str = "2016-02-15";

    /// A distributor that sells 40 units a month and pays on time, two years of it; the
    /// label keeps most stock at home; a UCC-1 on file.
    fn healthy_with(limit: i64, delay: impl Fn(i32) -> Option<i32>) -> Tl {
        let mut tl = signed_in_2014(limit);
        tl.monthly("allegro", "2014-01-01", 24, "CD1", 40, 38_000, delay);
        tl
    }

    /// Allegro signed on 2014-01-01 (UCC-1 on file, 2,000 units consigned), before
    /// any statement.
    fn signed_in_2014(limit: i64) -> Tl {
        let mut a = agreement("allegro", "2014-01-01");
        a.credit_limit = usd(limit);
        let mut tl = Tl::new();
        tl.ucc("allegro", "OR-2013-001", "OR", "2013-12-01", None)
            .agreement(a)
            .catalog("CD1", 950, 300)
            .make("2014-01-01", "CD1", 10_000)
            .ship("SH1", "2014-01-05", "label", "allegro", "CD1", 2000);
        tl
    }

    fn healthy() -> Tl {
        healthy_with(5_000_000, |_| Some(0))
    }

    fn assess1(snap: &Snapshot) -> Assessment {
        assess_one(snap, &Thresholds::default(), &p("allegro")).expect("assessment")
    }

    fn signal<'a>(a: &'a Assessment, code: &str) -> &'a Signal {
        a.signals
            .iter()
            .find(|s| s.code == code)
            .unwrap_or_else(|| panic!("no {code} in {:#?}", a.signals))
    }

    fn s(code: &str, level: Level) -> Signal {
        sig(
            SignalCode::parse(code).expect("a signal code"),
            level,
            String::new(),
            String::new(),
        )
    }

    /// A distributor that pays every statement 15 to 45 days late from its first (give
    /// or take a few days, and now and then 98% of it) is late by habit: judged day by
    /// day through its first two years, it is at alert only before its first payment
    /// ever came (a new distributor that has paid nothing, 40 days past due, is
    /// alarming: the label cannot know its habit yet) — never after, by coverage
    /// ("statements due and not paid": they are not due by its habit) or by "later than
    /// a year ago" (measured against its first month's single statement).
    #[test]
    fn a_habitual_late_payer_is_not_at_alert_once_it_has_paid() {
        for late in [15, 25, 35, 45] {
            for jitter in [0, 5] {
                let mut tl = signed_in_2014(5_000_000);
                tl.monthly_with("allegro", "2014-01-01", 26, "CD1", 40, 38_000, 60, |i| {
                    let days = late + (i * 7 % 11 - 5) * jitter / 5;
                    Some((days, if i % 5 == 3 { 37_240 } else { 38_000 }))
                });
                let first_paid = d("2014-04-01").add_days(late + (-5 * jitter / 5));
                let mut day = d("2014-03-01");
                let mut at_alert = Vec::new();
                while day <= d("2016-02-28") {
                    let x = assess1(&tl.snap(&day.to_string()));
                    let before_any_payment = day < first_paid
                        && x.signals.iter().all(|s| {
                            s.level < Level::Alert || s.code == SignalCode::PaymentsStopped
                        });
                    if x.level >= Level::Alert && !before_any_payment {
                        at_alert.push(format!(
                            "{day}: {} {:?}",
                            x.reason,
                            x.signals
                                .iter()
                                .filter(|s| s.level >= Level::Alert)
                                .map(|s| s.message.clone())
                                .collect::<Vec<_>>()
                        ));
                    }
                    day = day.add_days(1);
                }
                assert!(
                    at_alert.is_empty(),
                    "{late} days late (±{jitter}): {} days at alert, from {:#?}",
                    at_alert.len(),
                    at_alert.iter().step_by(5).collect::<Vec<_>>()
                );
            }
        }
    }

    #[test]
    fn healthy_distributor_is_ok() {
        let a = assess1(&healthy().snap(AS_OF));
        assert_eq!(a.level, Level::Ok, "{a:#?}");
        assert!(a.signals.iter().all(|s| s.level == Level::Ok));
        assert_eq!(signal(&a, "payment_lateness").value, "0 days");
        assert_eq!(signal(&a, "payment_coverage").value, "100.0%");
        assert_eq!(
            signal(&a, "statements_late_or_missing").value,
            "0 missing, 0 late"
        );
        assert_eq!(signal(&a, "ucc_unperfected").value, "ok");
        assert!(a.reason.starts_with("ok"));
    }

    /// Monthly statements on 60-day terms from 2014-01, 38,000 each, paid by one
    /// unnamed payment on each of `paydays` covering everything then due (less what
    /// `keep_open` says to leave unpaid of that payday's statements).
    fn paid_on_paydays(months: i32, paydays: &[&str], keep_open: impl Fn(usize) -> i64) -> Tl {
        paid_short_on_paydays(months, paydays, keep_open, |_| 1000)
    }

    /// [`paid_on_paydays`], each payment `paid_permille(k)` of what it settles.
    fn paid_short_on_paydays(
        months: i32,
        paydays: &[&str],
        keep_open: impl Fn(usize) -> i64,
        paid_permille: impl Fn(usize) -> i64,
    ) -> Tl {
        let mut tl = signed_in_2014(5_000_000);
        tl.monthly_with(
            "allegro",
            "2014-01-01",
            months,
            "CD1",
            40,
            38_000,
            60,
            |_| None,
        );
        let mut paid_through = 0i64; // statements paid (by count, oldest first)
        for (k, day) in paydays.iter().enumerate() {
            let on = d(day);
            let due: i64 = (0..months)
                .filter(|i| {
                    let end = d("2014-01-01").add_months(*i).last_of_month();
                    end.add_days(60) <= on
                })
                .count() as i64;
            let n = (due - keep_open(k)).max(paid_through);
            if n > paid_through {
                tl.pay(
                    &format!("lump-{k}"),
                    day,
                    "allegro",
                    usd((n - paid_through) * 38_000 * paid_permille(k) / 1000),
                    None,
                );
                paid_through = n;
            }
        }
        tl.sort();
        tl
    }

    /// The days from `from` to `to` (every `step` days) on which allegro is at alert
    /// or above, each with the reason.
    fn days_at_alert(tl: &Tl, from: &str, to: &str, step: i32) -> Vec<String> {
        let mut day = d(from);
        let mut out = Vec::new();
        while day <= d(to) {
            let x = assess1(&tl.snap(&day.to_string()));
            if x.level >= Level::Alert {
                out.push(format!("{day}: {}", x.reason));
            }
            day = day.add_days(step);
        }
        out
    }

    const TWICE_A_YEAR: [&str; 7] = [
        "2014-06-13",
        "2014-12-19",
        "2015-06-08",
        "2015-12-14",
        "2016-06-22",
        "2016-12-05",
        "2017-06-16",
    ];

    /// Sets the payment calendar of allegro's agreement ("6;12").
    fn pays_in(mut tl: Tl, months: &str) -> Tl {
        for e in &mut tl.entries {
            if let Event::Fact(Fact::Agreement(a)) = &mut e.event {
                a.payment_months = backstock_ledger::facts::PaymentMonths::parse(months).unwrap();
            }
        }
        tl
    }

    /// The same twice-a-year payer, when its agreement says so ("pays in June and
    /// December"), is judged by that calendar from its first statement: never at alert,
    /// also in the first year, before its payments could show the habit.
    #[test]
    fn a_payment_calendar_in_the_agreement_is_the_measure_from_the_first_day() {
        let tl = pays_in(paid_on_paydays(42, &TWICE_A_YEAR, |_| 0), "jun;dec");
        let at_alert = days_at_alert(&tl, "2014-01-01", "2017-06-30", 3);
        assert!(at_alert.is_empty(), "{:#?}", at_alert);
        let x = assess1(&tl.snap("2014-10-01"));
        assert_eq!(
            x.payment_cycle,
            Some(PaymentCycle {
                every_days_min: 181,
                every_days_max: 184,
                last_payday: d("2014-06-30"),
                next_expected: d("2014-12-31"),
                payment_months: vec![6, 12],
            })
        );
        let lateness = signal(&x, "payment_lateness");
        assert!(
            lateness.message.contains(
                "Its agreement has it pay everything due in June and December, so a statement counts as due at the end of the first of those months after its terms; the next payment is due by 2014-12-31."
            ),
            "{lateness:#?}"
        );
        // Without the calendar, the first year is at alert (nothing shows the habit yet).
        let unsaid = paid_on_paydays(42, &TWICE_A_YEAR, |_| 0);
        assert!(!days_at_alert(&unsaid, "2014-01-01", "2015-06-01", 7).is_empty());
    }

    /// A calendar written in a later agreement moves the statements of that agreement
    /// only: one from before it keeps its own terms (an unpaid 2014 statement stays
    /// late), each of the later ones is due at the end of the first payment month
    /// that begins after its terms.
    #[test]
    fn a_calendar_from_a_later_agreement_leaves_earlier_statements_on_their_terms() {
        let mut tl = signed_in_2014(5_000_000);
        let mut later = agreement("allegro", "2015-01-01");
        later.credit_limit = usd(5_000_000);
        later.payment_months = backstock_ledger::facts::PaymentMonths::parse("6;12").unwrap();
        tl.agreement(later.clone());
        tl.monthly_with("allegro", "2014-01-01", 16, "CD1", 40, 38_000, 60, |_| None);
        let snap = tl.snap("2015-05-01");
        let view = View::of(&snap);
        let (book, cycle) = judged_book(&view, &later, &Thresholds::default());
        assert!(matches!(cycle, Some(Cycle::Agreed(_))), "{cycle:?}");
        let due = |id: &str| {
            book.stmts
                .iter()
                .find(|s| s.r.st.statement_id == id)
                .unwrap_or_else(|| panic!("{id}"))
                .due_on
        };
        assert_eq!(due("allegro-2014-09"), d("2014-11-29"));
        assert_eq!(due("allegro-2014-12"), d("2015-03-01"));
        // 2015-01-31 + 60 days = 2015-04-01: June.
        assert_eq!(due("allegro-2015-01"), d("2015-06-30"));
        // 2015-03-31 + 60 days = 2015-05-30: June still begins after it.
        assert_eq!(due("allegro-2015-03"), d("2015-06-30"));
        let x = assess1(&snap);
        assert_eq!(x.payment_cycle.map(|c| c.payment_months), Some(vec![6, 12]));
    }

    /// A calendar in the agreement is no excuse for missing it: a distributor that
    /// pays in June and December and skips a December is at alert in January.
    #[test]
    fn a_payment_month_missed_is_an_alert_within_weeks() {
        let paid: Vec<&str> = TWICE_A_YEAR
            .iter()
            .copied()
            .filter(|d| *d != "2015-12-14")
            .collect();
        let tl = pays_in(paid_on_paydays(42, &paid, |_| 0), "6;12");
        assert!(days_at_alert(&tl, "2014-01-01", "2015-12-31", 3).is_empty());
        let first = days_at_alert(&tl, "2016-01-01", "2016-06-10", 1);
        let first = first.first().expect("at alert after the missed December");
        assert!(first.as_str() <= "2016-01-31", "{first}");
    }

    /// A distributor that pays everything due twice a year (mid-June and mid-December,
    /// give or take ten days) has statements up to six months past their terms before
    /// every payment. Once its payment days show the habit over a year (its third), it
    /// is judged by them: never at alert.
    #[test]
    fn a_distributor_paying_everything_twice_a_year_is_judged_by_its_payment_days() {
        let tl = paid_on_paydays(42, &TWICE_A_YEAR, |_| 0);
        // From its third payment day: a year of the habit.
        let at_alert = days_at_alert(&tl, "2015-06-09", "2017-06-30", 3);
        assert!(at_alert.is_empty(), "{:#?}", at_alert);
        let x = assess1(&tl.snap("2016-06-10"));
        let lateness = signal(&x, "payment_lateness");
        assert!(
            lateness.message.contains(
                "It pays everything due in one payment every 171–189 days (the last on 2015-12-14)"
            ) && lateness
                .message
                .contains("the next is expected by 2016-07-08"),
            "{lateness:#?}"
        );
        assert_eq!(
            x.payment_cycle,
            Some(PaymentCycle {
                every_days_min: 171,
                every_days_max: 189,
                last_payday: d("2015-12-14"),
                next_expected: d("2016-07-08"),
                payment_months: vec![],
            })
        );
        let before = assess1(&tl.snap("2015-06-01"));
        assert_eq!(before.payment_cycle, None, "not a year of it yet");
    }

    /// Lumps paid 2-3 % short (the distributor takes its deductions off the total)
    /// leave the shortfall on the last statement each reached — a fifth of that
    /// statement, but a short-pay of the lump: a deduction, not arrears, and the cycle
    /// holds.
    #[test]
    fn a_lump_paid_a_little_short_leaves_a_deduction_not_arrears() {
        let tl = paid_short_on_paydays(42, &TWICE_A_YEAR, |_| 0, |k| [980, 975, 1000][k % 3]);
        let at_alert = days_at_alert(&tl, "2015-06-15", "2017-06-30", 7);
        assert!(at_alert.is_empty(), "{:#?}", at_alert);
        let x = assess1(&tl.snap("2016-06-10"));
        assert!(
            signal(&x, "payment_lateness")
                .message
                .contains("It pays everything due in one payment"),
            "{x:#?}"
        );
        let ded = signal(&x, "deductions");
        assert!(ded.level <= Level::Watch, "{ded:#?}");
    }

    /// The same distributor that misses its December payment: from the day its payment
    /// was expected, its statements are late like any other's — at alert within three
    /// weeks, not half a year after they fell due.
    #[test]
    fn a_twice_a_year_payer_that_misses_its_payment_day_is_an_alert_soon_after() {
        let tl = paid_on_paydays(42, &TWICE_A_YEAR[..5], |_| 0);
        // Paid 2016-06-22 last; the gaps before were 189-191 days, give or take 15:
        // expected by 2017-01-14.
        let before = assess1(&tl.snap("2017-01-13"));
        assert!(before.level < Level::Alert, "{before:#?}");
        let after = assess1(&tl.snap("2017-02-03"));
        assert!(after.level >= Level::Alert, "{after:#?}");
    }

    /// A quarterly distributor that pays each statement on its own, later and later
    /// (10, 25, 45, 65 … days beyond terms), settles everything due at every payment
    /// day, 100-odd days apart: it pays as often as it states, so that is no cycle —
    /// its lateness is its own measure, and "later and later" is an alert.
    #[test]
    fn a_quarterly_distributor_paying_each_statement_later_and_later_is_no_cycle() {
        let mut tl = quarterly_signed_in_2013();
        let late = [5, 0, 8, 3, 10, 25, 45, 65, 85];
        for (q, days) in late.iter().enumerate() {
            let id = format!("allegro-q{q}");
            let start = d("2013-01-01").add_months(q as i32 * 3);
            let pe = quarter(&mut tl, &id, start, 30, 100, 95_000);
            let on = pe.add_days(60 + days);
            tl.pay(
                &format!("pay-{q}"),
                &on.to_string(),
                "allegro",
                usd(95_000),
                Some(&id),
            );
        }
        tl.sort();
        let x = assess1(&tl.snap("2015-05-20"));
        assert!(
            x.signals
                .iter()
                .all(|s| !s.message.contains("It pays everything due")),
            "{x:#?}"
        );
        assert!(
            signal(&x, "payment_lateness").level >= Level::Alert,
            "{x:#?}"
        );
    }

    /// A distributor that pays in lumps every two months but leaves the latest
    /// statement it owes unpaid each time has no cycle: it is behind at every payment.
    #[test]
    fn lumps_that_leave_statements_unpaid_are_no_cycle() {
        let paydays = [
            "2014-04-15",
            "2014-06-16",
            "2014-08-15",
            "2014-10-15",
            "2014-12-15",
            "2015-02-16",
            "2015-04-15",
            "2015-06-15",
            "2015-08-17",
            "2015-10-15",
            "2015-12-15",
        ];
        let tl = paid_on_paydays(24, &paydays, |k| if k < 3 { 0 } else { 2 });
        let x = assess1(&tl.snap("2016-01-20"));
        assert!(
            x.signals
                .iter()
                .all(|s| !s.message.contains("It pays everything due")),
            "{x:#?}"
        );
        let tl = paid_on_paydays(24, &paydays, |_| 0);
        let x = assess1(&tl.snap("2016-01-20"));
        assert!(
            signal(&x, "payment_lateness")
                .message
                .contains("It pays everything due in one payment every 58–63 days"),
            "{x:#?}"
        );
    }

    #[test]
    fn a_single_late_payment_stays_at_watch_at_most() {
        // One ordinary statement paid 90 days late: the average barely moves.
        let a =
            assess1(&healthy_with(5_000_000, |i| Some(if i == 18 { 90 } else { 0 })).snap(AS_OF));
        assert!(a.level <= Level::Watch, "{a:#?}");
        // One large statement paid 100 days late: the average crosses alert, but one
        // statement is not a trend.
        let mut tl = healthy();
        tl.statement(
            "BIG",
            "allegro",
            "2015-08-01",
            "2015-08-31",
            "2015-09-15",
            vec![sale("CD1", 400, 1_000_000)],
        )
        .pay(
            "pay-BIG",
            "2016-02-07",
            "allegro",
            usd(1_000_000),
            Some("BIG"),
        )
        .sort();
        let a = assess1(&tl.snap(AS_OF));
        let late = signal(&a, "payment_lateness");
        assert_eq!(late.level, Level::Watch, "{late:#?}");
        assert!(late.message.contains("stays at watch"), "{}", late.message);
        assert!(a.level <= Level::Watch, "{a:#?}");
    }

    #[test]
    fn payments_getting_later_raise_an_alert_with_the_trend() {
        // On time until 2014-12, then 90 days late.
        let a =
            assess1(&healthy_with(5_000_000, |i| Some(if i < 12 { 0 } else { 90 })).snap(AS_OF));
        let late = signal(&a, "payment_lateness");
        assert_eq!(late.level, Level::Alert, "{late:#?}");
        // Due in the window: Jun–Nov 2015; Jun–Aug paid 90 days late, Sep–Nov unpaid
        // (78, 47 and 17 days past due): (90+90+90+78+47+17)/6 = 68.7.
        assert_eq!(late.value, "69 days");
        assert!(
            late.message.contains("up from 0 a year ago"),
            "{}",
            late.message
        );
        assert!(
            late.message.contains("over the 6 months to 2016-02-08"),
            "{}",
            late.message
        );
        // Paid late but paid in full: coverage is fine.
        assert_eq!(signal(&a, "payment_coverage").level, Level::Ok);
        assert_eq!(a.level, Level::Alert);
    }

    #[test]
    fn payments_getting_later_alert_before_they_are_very_late() {
        // On time for a year, then 40 days late: later and later.
        let a =
            assess1(&healthy_with(5_000_000, |i| Some(if i < 12 { 0 } else { 40 })).snap(AS_OF));
        let late = signal(&a, "payment_lateness");
        assert_eq!(late.level, Level::Alert, "{late:#?}");
        assert!(late.message.contains("getting later"), "{}", late.message);
        // Always 40 days late: a habit to watch, not an alarm.
        let a = assess1(&healthy_with(5_000_000, |_| Some(40)).snap(AS_OF));
        let late = signal(&a, "payment_lateness");
        assert_eq!(late.level, Level::Watch, "{late:#?}");
        assert!(a.level <= Level::Watch, "{a:#?}");
    }

    #[test]
    fn a_payment_alert_stays_until_the_distributor_catches_up() {
        // On time for a year, then every payment 32 days late: measured alone, the
        // level goes up and down as each late payment lands and moves the averages
        // (alert, ok, ok, alert, ...), while the distributor is always behind.
        let tl = healthy_with(5_000_000, |i| Some(if i < 12 { 0 } else { 32 }));
        let forgetful = Thresholds {
            alert_memory_days: 0,
            ..Thresholds::default()
        };
        let (mut kept, mut dips) = (0, 0);
        let mut day = Date::parse("2015-01-01").expect("date");
        while day <= Date::parse(AS_OF).expect("date") {
            let snap = tl.snap(&day.to_string());
            let raw = assess_one(&snap, &forgetful, &p("allegro")).expect("assessment");
            let with = assess1(&snap);
            // The memory only ever keeps a level up, never lowers one.
            assert!(with.level >= raw.level, "{day}: {with:#?} {raw:#?}");
            if with.level > raw.level {
                kept += 1;
                assert_eq!(with.level, Level::Alert, "{day}");
                let s = with
                    .signals
                    .iter()
                    .find(|s| s.level == Level::Alert && s.code.family() == "payment")
                    .expect("a payment signal at alert");
                assert!(
                    s.message.contains("has not caught up since"),
                    "{}",
                    s.message
                );
            }
            if raw.level < Level::Alert
                && [15, 30].iter().any(|b| {
                    let then = tl.snap(&day.add_days(-b).to_string());
                    assess_one(&then, &forgetful, &p("allegro"))
                        .is_some_and(|x| x.level >= Level::Alert)
                })
            {
                dips += 1;
            }
            day = day.add_days(7);
        }
        assert!(
            dips > 0,
            "the timeline should dip below alert at least once"
        );
        assert_eq!(kept, dips, "every dip while still behind is kept at alert");

        // A healthy distributor gets exactly the same levels with or without it.
        let tl = healthy_with(5_000_000, |i| Some(if i % 5 == 0 { 9 } else { 2 }));
        let mut day = Date::parse("2015-01-01").expect("date");
        while day <= Date::parse(AS_OF).expect("date") {
            let snap = tl.snap(&day.to_string());
            let raw = assess_one(&snap, &forgetful, &p("allegro")).expect("assessment");
            assert_eq!(assess1(&snap).level, raw.level, "{day}");
            day = day.add_days(7);
        }
    }

    #[test]
    fn payments_that_stop_are_named_with_what_fell_due_since() {
        // Paid on time through the 2015-08 statement, nothing after.
        let tl = healthy_with(5_000_000, |i| (i < 20).then_some(0));
        let a = assess1(&tl.snap(AS_OF));
        let st = signal(&a, "payments_stopped");
        assert_eq!(st.level, Level::Alert, "{st:#?}");
        assert!(st.message.contains("since 2015-10-30"), "{}", st.message);
        assert!(st.message.contains("3 statements"), "{}", st.message);
        // A month later than the last payment is not yet silence.
        let a = assess1(&tl.snap("2015-12-01"));
        assert!(
            a.signals
                .iter()
                .all(|s| s.code != "payments_stopped" || s.level <= Level::Watch),
            "{a:#?}"
        );
        // Paying on time: nothing to say.
        let a = assess1(&healthy().snap(AS_OF));
        assert!(a.signals.iter().all(|s| s.code != "payments_stopped"));
    }

    /// [`healthy`] re-paid: each statement in full (38 000) on its due date until the
    /// `from`-th month of 2014–2015, then `after` of it.
    fn repaid_from(from: i32, after: i64) -> Tl {
        let mut tl = healthy();
        tl.entries
            .retain(|e| !matches!(e.event, backstock_ledger::Event::PaymentReceived { .. }));
        for i in 0..24 {
            let start = d("2014-01-01").add_months(i);
            let id = format!("allegro-{}", &start.to_string()[..7]);
            let due = start.last_of_month().add_days(60);
            let amount = if i < from { 38_000 } else { after };
            tl.pay(
                &format!("pay-{id}"),
                &due.to_string(),
                "allegro",
                usd(amount),
                Some(&id),
            );
        }
        tl.sort();
        tl
    }

    #[test]
    fn smaller_payments_lower_coverage_and_count_once_with_lateness() {
        // On time until 2014-12, then a quarter of each statement on its due date.
        let tl = repaid_from(12, 9_500);
        let a = assess1(&tl.snap(AS_OF));
        let cov = signal(&a, "payment_coverage");
        // 6 × 9 500 received against 6 × 38 000 due.
        assert_eq!(cov.value, "25.0%");
        assert_eq!(cov.level, Level::Alert);
        assert_eq!(signal(&a, "payment_lateness").level, Level::Alert);
        // Two views of the same unpaid money: one family, so alert, not critical.
        assert_eq!(a.level, Level::Alert, "{}", a.reason);
    }

    /// A payer that settles 60 % of every statement on time, month after month, is
    /// short of the watch mark (80 %) now and three months ago: shrinking payments, at
    /// alert. The same shortfall only in the latest months stays at watch.
    #[test]
    fn coverage_short_for_months_is_an_alert() {
        let with_share_from = |from: i32| repaid_from(from, 22_800);
        let a = assess1(&with_share_from(12).snap(AS_OF));
        let cov = signal(&a, "payment_coverage");
        assert_eq!(cov.value, "60.0%");
        assert_eq!(cov.level, Level::Alert, "{cov:#?}");
        assert!(cov.message.contains("for months"), "{}", cov.message);
        // Short only on the last two statements: not yet months of it.
        let a = assess1(&with_share_from(21).snap(AS_OF));
        let cov = signal(&a, "payment_coverage");
        assert!(cov.level <= Level::Watch, "{cov:#?}");
        // The rule off: watch, as before.
        let off = Thresholds {
            coverage_persist_days: 0,
            ..Thresholds::default()
        };
        let a = assess_one(&with_share_from(12).snap(AS_OF), &off, &p("allegro")).unwrap();
        assert_eq!(signal(&a, "payment_coverage").level, Level::Watch);
    }

    #[test]
    fn statements_late_missing_levels() {
        let mut tl = healthy();
        tl.receive_late("allegro-2015-10", "2016-01-10");
        let a = assess1(&tl.snap(AS_OF));
        let st = signal(&a, "statements_late_or_missing");
        assert_eq!(st.level, Level::Watch, "{st:#?}");
        assert_eq!(st.value, "0 missing, 1 late");

        let mut tl = healthy();
        tl.drop_statement("allegro-2015-11");
        let st = signal(&assess1(&tl.snap(AS_OF)), "statements_late_or_missing").clone();
        // One missing month is a glitch to watch; two (60 days of sales) an alert.
        assert_eq!(st.level, Level::Watch);
        assert!(st.message.contains("2015-11-30"), "{}", st.message);
        tl.drop_statement("allegro-2015-10");
        let st = signal(&assess1(&tl.snap(AS_OF)), "statements_late_or_missing").clone();
        assert_eq!(st.level, Level::Alert);
        assert_eq!(st.value, "2 missing, 0 late");

        let mut tl = healthy();
        for m in ["2015-09", "2015-10", "2015-11", "2015-12"] {
            tl.drop_statement(&format!("allegro-{m}"));
        }
        let st = signal(&assess1(&tl.snap(AS_OF)), "statements_late_or_missing").clone();
        assert_eq!(st.level, Level::Critical);
        assert_eq!(st.value, "4 missing, 0 late");
    }

    /// January's credit note for the holiday quarter's returns (a statement of returns
    /// alone, ending December 31 too) is not "its recent statements": the sales of
    /// October to December are.
    #[test]
    fn a_credit_note_for_the_quarter_is_not_the_recent_rate_of_sales() {
        let mut tl = healthy();
        tl.statement(
            "allegro-CN-2015Q4",
            "allegro",
            "2015-10-01",
            "2015-12-31",
            "2016-01-18",
            vec![ret("CD1", 30, 28_500)],
        );
        tl.po("PO-1", "2016-01-05", "allegro", "CD1", 100);
        tl.sort();
        let a = assess1(&tl.snap("2016-01-20"));
        let st = signal(&a, "stocking_up");
        assert!(!st.message.contains("no net sales"), "{st:#?}");
        assert!(st.message.contains("sold at its recent rate"), "{st:#?}");
    }

    /// January's and February's statements missing are two months missing (59 days of
    /// sales): an alert, as any two months are — it stayed at watch a month longer
    /// (an independent generator's statements-stopping distributors, 6 of 12 late).
    #[test]
    fn january_and_february_missing_are_two_months_missing() {
        let mut tl = healthy();
        for m in ["2015-01", "2015-02", "2015-03"] {
            tl.drop_statement(&format!("allegro-{m}"));
        }
        let st = signal(
            &assess1(&tl.snap("2015-04-20")),
            "statements_late_or_missing",
        )
        .clone();
        assert_eq!(st.value, "2 missing, 0 late", "{st:#?}");
        assert_eq!(st.level, Level::Alert, "{st:#?}");
    }

    /// Two months without a statement (nothing sold, say) followed by statements on
    /// time: alert while the gap is recent, then watched only once two statements
    /// since have come on time — not at alert for the rest of the year.
    #[test]
    fn skipped_statements_clear_once_statements_come_on_time_again() {
        let mut tl = healthy();
        tl.drop_statement("allegro-2015-07");
        tl.drop_statement("allegro-2015-09");
        // On 2015-11-15 only October's came after September: September still counts
        // missing; July, with August's and October's since, is a skip.
        let st = signal(
            &assess1(&tl.snap("2015-11-15")),
            "statements_late_or_missing",
        )
        .clone();
        assert_eq!(st.level, Level::Watch, "{st:#?}");
        assert_eq!(st.value, "1 missing, 0 late, 1 skipped");
        // By February, October to December came on time: skips, watched.
        let st = signal(&assess1(&tl.snap(AS_OF)), "statements_late_or_missing").clone();
        assert_eq!(st.level, Level::Watch, "{st:#?}");
        assert_eq!(st.value, "0 missing, 0 late, 2 skipped");
        assert!(
            st.message.contains("2 statements skipped (periods ending 2015-07-31, 2015-09-30; the statements since came on time)"),
            "{}",
            st.message
        );
        // A skip cleared stays cleared when a later gap comes: two months missing
        // since are an alert, not three (critical) with the old one counted again.
        let mut tl = healthy();
        tl.drop_statement("allegro-2015-03");
        tl.drop_statement("allegro-2015-10");
        tl.drop_statement("allegro-2015-11");
        let st = signal(&assess1(&tl.snap(AS_OF)), "statements_late_or_missing").clone();
        assert_eq!(st.level, Level::Alert, "{st:#?}");
        assert_eq!(st.value, "2 missing, 0 late, 1 skipped");
        // Statements that stop are missing however many came on time before.
        let mut tl = healthy();
        tl.drop_statement("allegro-2015-07");
        for m in ["2015-11", "2015-12"] {
            tl.drop_statement(&format!("allegro-{m}"));
        }
        let st = signal(&assess1(&tl.snap(AS_OF)), "statements_late_or_missing").clone();
        assert_eq!(st.level, Level::Alert, "{st:#?}");
        assert_eq!(st.value, "2 missing, 0 late, 1 skipped");
    }

    /// Terms renegotiated from 120 to 45 days: statements of the months before are
    /// due on the 120 days in force then. Paid on those days, the distributor is at
    /// ok — not "60 days beyond terms" at alert, with a credit hold.
    #[test]
    fn renegotiated_terms_do_not_make_earlier_statements_late() {
        let mut old = agreement("allegro", "2014-01-01");
        old.payment_terms_days = 120;
        let mut new = agreement("allegro", "2015-07-01");
        new.payment_terms_days = 45;
        let mut tl = Tl::new();
        tl.ucc("allegro", "OR-2013-001", "OR", "2013-12-01", None)
            .agreement(old)
            .catalog("CD1", 950, 300)
            .make("2014-01-01", "CD1", 10_000)
            .ship("SH1", "2014-01-05", "label", "allegro", "CD1", 2000)
            .monthly_with("allegro", "2014-01-01", 18, "CD1", 40, 38_000, 120, |_| {
                Some((0, 38_000))
            })
            .agreement(new)
            .monthly_with("allegro", "2015-07-01", 6, "CD1", 40, 38_000, 45, |_| {
                Some((0, 38_000))
            });
        let snap = tl.snap(AS_OF);
        let a = assess1(&snap);
        assert_eq!(a.level, Level::Ok, "{:#?}", a.signals);
        let r = crate::receivables::compute(&snap, Some(&p("allegro")));
        let due = |id: &str| {
            r[0].book
                .statements
                .iter()
                .find(|s| s.statement_id == id)
                .map(|s| s.due_on.to_string())
        };
        assert_eq!(due("allegro-2015-06").as_deref(), Some("2015-10-28"));
        assert_eq!(due("allegro-2015-07").as_deref(), Some("2015-09-14"));
        assert_eq!(r[0].payment_terms_days, 45);
        // The older agreement recorded after the newer (to date old statements'
        // terms) does not become the one in force.
        let mut backfilled = Tl::new();
        let mut old = agreement("allegro", "2014-01-01");
        old.payment_terms_days = 120;
        let mut new = agreement("allegro", "2015-07-01");
        new.payment_terms_days = 45;
        backfilled.agreement(new).agreement(old);
        let snap = backfilled.snap(AS_OF);
        let r = crate::receivables::compute(&snap, Some(&p("allegro")));
        assert_eq!(r[0].payment_terms_days, 45);
    }

    /// Monthly statements 10 days after each month for a year, then a new agreement
    /// states quarterly and each quarter's statement comes 35 days after it: the
    /// month's lag says nothing of a quarter's, so none of them is "late".
    #[test]
    fn a_change_to_quarterly_statements_is_not_late() {
        let mut monthly = agreement("allegro", "2014-01-01");
        monthly.payment_terms_days = 60;
        let mut quarterly = agreement("allegro", "2015-01-01");
        quarterly.payment_terms_days = 60;
        quarterly.statement_frequency = backstock_ledger::facts::StatementFrequency::Quarterly;
        let mut tl = Tl::new();
        tl.ucc("allegro", "OR-2013-001", "OR", "2013-12-01", None)
            .agreement(monthly)
            .catalog("CD1", 950, 300)
            .make("2014-01-01", "CD1", 10_000)
            .ship("SH1", "2014-01-05", "label", "allegro", "CD1", 2000);
        for m in 0..12 {
            let start = d("2014-01-01").add_months(m);
            let end = start.last_of_month();
            let id = format!("M{m}");
            tl.statement(
                &id,
                "allegro",
                &start.to_string(),
                &end.to_string(),
                &end.add_days(10).to_string(),
                vec![sale("CD1", 40, 38_000)],
            )
            .pay(
                &format!("P{id}"),
                &end.add_days(60).to_string(),
                "allegro",
                usd(38_000),
                Some(&id),
            );
        }
        tl.agreement(quarterly);
        for q in 0..4 {
            let id = format!("Q{q}");
            let end = quarter(
                &mut tl,
                &id,
                d("2015-01-01").add_months(3 * q),
                35,
                120,
                114_000,
            );
            if end.add_days(60) <= d("2016-02-15") {
                tl.pay(
                    &format!("P{id}"),
                    &end.add_days(60).to_string(),
                    "allegro",
                    usd(114_000),
                    Some(&id),
                );
            }
        }
        let a = assess1(&tl.snap("2016-02-15"));
        let st = signal(&a, "statements_late_or_missing");
        assert_eq!(st.level, Level::Ok, "{st:#?}");
        assert_eq!(a.level, Level::Ok, "{:#?}", a.signals);
    }

    /// 40 units a month for `normal` months from 2014-01, then `units` a month to
    /// 2015-12, each statement paid on time; 2,000 units shipped.
    fn sales_then(normal: i32, units: i64) -> Tl {
        let mut tl = Tl::new();
        tl.ucc("allegro", "OR-2013-001", "OR", "2013-12-01", None)
            .agreement(agreement("allegro", "2014-01-01"))
            .catalog("CD1", 950, 300)
            .make("2014-01-01", "CD1", 10_000)
            .ship("SH1", "2014-01-05", "label", "allegro", "CD1", 2000)
            .monthly("allegro", "2014-01-01", normal, "CD1", 40, 38_000, |_| {
                Some(0)
            });
        let first = d("2014-01-01").add_months(normal);
        tl.monthly(
            "allegro",
            &first.to_string(),
            24 - normal,
            "CD1",
            units,
            units * 950,
            |_| Some(0),
        );
        tl
    }

    /// Statements of nothing sold while it holds the label's stock: watch after three
    /// months of them, alert after six; a catalog selling a quarter of what it did is
    /// not a stall, and the label can turn the rule off.
    #[test]
    fn sales_that_stop_while_stock_is_held_are_a_warning() {
        let three = assess1(&sales_then(21, 0).snap(AS_OF));
        let st = signal(&three, "sales_stalled");
        assert_eq!(st.level, Level::Watch, "{st:#?}");
        assert!(
            st.message.starts_with("Its statements of the last 3 months (to 2015-12-31) report 0 units sold, against 40 a month in the same months a year before, while it holds 1160 of the label's units"),
            "{}",
            st.message
        );
        let six = assess1(&sales_then(18, 0).snap(AS_OF));
        assert_eq!(signal(&six, "sales_stalled").level, Level::Alert);
        assert_eq!(six.level, Level::Alert, "{:#?}", six.signals);
        let slower = assess1(&sales_then(12, 10).snap(AS_OF));
        assert!(
            slower.signals.iter().all(|s| s.code != "sales_stalled"),
            "{:#?}",
            slower.signals
        );
        let off = Thresholds {
            sales_stall_permille: 0,
            ..Thresholds::default()
        };
        let a = assess_one(&sales_then(18, 0).snap(AS_OF), &off, &p("allegro")).unwrap();
        assert!(a.signals.iter().all(|s| s.code != "sales_stalled"));
    }

    /// A holiday catalog: 200 units in November and December, 3 in other months. Its
    /// summer is as quiet as the summer before: not a stall.
    #[test]
    fn a_seasonal_catalogs_quiet_months_are_not_a_stall() {
        let mut tl = Tl::new();
        tl.ucc("allegro", "OR-2013-001", "OR", "2013-12-01", None)
            .agreement(agreement("allegro", "2014-01-01"))
            .catalog("CD1", 950, 300)
            .make("2014-01-01", "CD1", 10_000)
            .ship("SH1", "2014-01-05", "label", "allegro", "CD1", 2000);
        for m in 0..20 {
            let start = d("2014-01-01").add_months(m);
            let end = start.last_of_month();
            let units = if matches!(end.month(), 11 | 12) {
                200
            } else {
                3
            };
            let id = format!("M{m}");
            tl.statement(
                &id,
                "allegro",
                &start.to_string(),
                &end.to_string(),
                &end.add_days(15).to_string(),
                vec![sale("CD1", units, units * 950)],
            )
            .pay(
                &format!("P{id}"),
                &end.add_days(60).to_string(),
                "allegro",
                usd(units * 950),
                Some(&id),
            );
        }
        let a = assess1(&tl.snap("2015-09-15"));
        assert!(
            a.signals.iter().all(|s| s.code != "sales_stalled"),
            "{:#?}",
            a.signals
        );
    }

    #[test]
    fn statements_later_and_later_alert() {
        // Expected 30 days after each month (usual lag 15 + 15, at least 30).
        let two_late = || {
            let mut tl = healthy();
            tl.receive_late("allegro-2015-10", "2015-12-10")
                .receive_late("allegro-2015-11", "2016-01-12");
            tl
        };
        let st = signal(
            &assess1(&two_late().snap(AS_OF)),
            "statements_late_or_missing",
        )
        .clone();
        assert_eq!(st.level, Level::Watch, "{st:#?}");

        let mut tl = two_late();
        tl.receive_late("allegro-2015-12", "2016-02-10");
        let st = signal(&assess1(&tl.snap(AS_OF)), "statements_late_or_missing").clone();
        assert_eq!(st.level, Level::Alert, "{st:#?}");
        assert_eq!(st.value, "0 missing, 3 late");
        assert!(
            st.message
                .contains("the last 3 expected all came late or not at all"),
            "{}",
            st.message
        );

        // The third not come at all counts as late.
        let mut tl = two_late();
        tl.drop_statement("allegro-2015-12");
        let st = signal(&assess1(&tl.snap(AS_OF)), "statements_late_or_missing").clone();
        assert_eq!(st.level, Level::Alert, "{st:#?}");

        // A statement on time in between breaks the run: watch.
        let mut tl = healthy();
        tl.receive_late("allegro-2015-09", "2015-11-10")
            .receive_late("allegro-2015-10", "2015-12-10")
            .receive_late("allegro-2015-12", "2016-02-10");
        let st = signal(&assess1(&tl.snap(AS_OF)), "statements_late_or_missing").clone();
        assert_eq!(st.level, Level::Watch, "{st:#?}");

        // The label can turn the rule off.
        let mut tl = two_late();
        tl.receive_late("allegro-2015-12", "2016-02-10");
        let off = Thresholds {
            statements_late_in_a_row_alert: 0,
            ..Thresholds::default()
        };
        let a = assess_one(&tl.snap(AS_OF), &off, &p("allegro")).unwrap();
        assert_eq!(signal(&a, "statements_late_or_missing").level, Level::Watch);
    }

    /// A quarterly allegro signed on 2013-01-01 (UCC-1 on file, 2,000 units consigned),
    /// before any statement.
    fn quarterly_signed_in_2013() -> Tl {
        let mut a = agreement("allegro", "2013-01-01");
        a.statement_frequency = backstock_ledger::facts::StatementFrequency::Quarterly;
        a.credit_limit = usd(5_000_000);
        let mut tl = Tl::new();
        tl.ucc("allegro", "OR-2012-001", "OR", "2012-12-01", None)
            .agreement(a)
            .catalog("CD1", 950, 300)
            .make("2013-01-01", "CD1", 10_000)
            .ship("SH1", "2013-01-05", "label", "allegro", "CD1", 2000);
        tl
    }

    /// allegro's statement `id` for the quarter from `start`, issued `lag_days` after
    /// the quarter ends, selling `units` CD1 for `amount_minor`: the quarter's end.
    fn quarter(
        tl: &mut Tl,
        id: &str,
        start: Date,
        lag_days: i32,
        units: i64,
        amount_minor: i64,
    ) -> Date {
        let end = start.add_months(3).add_days(-1);
        tl.statement(
            id,
            "allegro",
            &start.to_string(),
            &end.to_string(),
            &end.add_days(lag_days).to_string(),
            vec![sale("CD1", units, amount_minor)],
        );
        end
    }

    /// A quarterly distributor sending its statement 40 days after each quarter and
    /// paying on time; `late_q8` days more for the 2015Q1 statement; 2015Q2's never
    /// comes.
    fn quarterly_with_missing_2015q2(late_q8: i32) -> Tl {
        let mut tl = quarterly_signed_in_2013();
        let first = Date::parse("2013-01-01").expect("date");
        for q in 0..9 {
            let lag = 40 + if q == 8 { late_q8 } else { 0 };
            let id = format!("allegro-q{q}");
            let pe = quarter(&mut tl, &id, first.add_months(q * 3), lag, 100, 95_000);
            let known = pe.add_days(lag);
            let due = pe.add_days(60).max(known);
            tl.pay(
                &format!("pay-{q}"),
                &due.to_string(),
                "allegro",
                usd(95_000),
                Some(&id),
            );
        }
        tl.sort();
        tl
    }

    #[test]
    fn a_quarterly_statement_missing_after_a_late_one_is_a_second_strike() {
        // 2015Q2 is expected by 2015-08-24 (40 days + 15); on 2015-09-30 it is 37
        // days overdue. Alone, a glitch to watch: a quarterly statement a month or two
        // late, then sent, is everyday.
        let st = signal(
            &assess1(&quarterly_with_missing_2015q2(0).snap("2015-09-30")),
            "statements_late_or_missing",
        )
        .clone();
        assert_eq!(st.level, Level::Watch, "{st:#?}");
        // After 2015Q1's came 35 days late, it is a second strike: an alert.
        let st = signal(
            &assess1(&quarterly_with_missing_2015q2(35).snap("2015-09-30")),
            "statements_late_or_missing",
        )
        .clone();
        assert_eq!(st.level, Level::Alert, "{st:#?}");
        assert_eq!(st.value, "1 missing, 1 late");
        // Before it is a month overdue, still watch.
        let st = signal(
            &assess1(&quarterly_with_missing_2015q2(35).snap("2015-09-10")),
            "statements_late_or_missing",
        )
        .clone();
        assert_eq!(st.level, Level::Watch, "{st:#?}");
    }

    #[test]
    fn stocking_up_while_in_arrears_is_an_alert() {
        // The last six statements (from 2015-07) unpaid; 1000 units shipped in January.
        let mut tl = healthy_with(50_000_000, |i| (i < 18).then_some(0));
        tl.ship("SH9", "2016-01-10", "label", "allegro", "CD1", 1000)
            .sort();
        let a = assess1(&tl.snap(AS_OF));
        let st = signal(&a, "stocking_up");
        assert_eq!(st.level, Level::Alert, "{st:#?}");
        // The latest statements covering 90 days (Oct–Dec): 120 units in 92 days → 117
        // in 90 days; 1000 / 117.
        assert_eq!(st.value, "8.5x");
        assert!(st.message.contains("past due"), "{}", st.message);
        assert_eq!(a.level, Level::Critical, "{}", a.reason);
    }

    #[test]
    fn seasonal_stocking_by_a_distributor_paying_on_time_is_not_a_warning() {
        let mut tl = healthy();
        tl.po("PO-Q4", "2015-10-15", "allegro", "CD1", 1500)
            .ship_po(
                "SH-Q4",
                "2015-10-20",
                "label",
                "allegro",
                "CD1",
                1500,
                Some("PO-Q4"),
            )
            .sort();
        let a = assess1(&tl.snap("2015-12-01"));
        let st = signal(&a, "stocking_up");
        assert_eq!(st.level, Level::Ok, "{st:#?}");
        assert!(st.message.contains("seasonal"), "{}", st.message);
        assert!(a.level <= Level::Watch, "{a:#?}");
    }

    #[test]
    fn a_purchase_order_while_60_days_in_arrears_is_named() {
        let mut tl = healthy_with(50_000_000, |i| (i < 18).then_some(0));
        tl.po("PO-77", "2016-02-01", "allegro", "CD1", 500).sort();
        // Even with a ratio threshold nothing reaches, the PO itself alerts.
        let t = Thresholds {
            stocking_ratio_permille: 1_000_000,
            ..Thresholds::default()
        };
        let a = assess_one(&tl.snap(AS_OF), &t, &p("allegro")).unwrap();
        let st = signal(&a, "stocking_up");
        assert_eq!(st.level, Level::Alert, "{st:#?}");
        assert!(st.message.contains("PO-77"), "{}", st.message);
        // The oldest unpaid statement (2015-07, due 2015-09-29) was 125 days past due.
        assert!(st.message.contains("125 days past due"), "{}", st.message);
    }

    #[test]
    fn statements_owed_under_an_earlier_agreement_are_said_to_be() {
        let mut tl = Tl::new();
        tl.monthly_then_quarterly("allegro").sort();
        let a = assess1(&tl.snap("2020-11-15"));
        let st = signal(&a, "statements_late_or_missing");
        assert!(
            st.message
                .contains("periods ending 2020-03-31, 2020-04-30, 2020-05-31, 2020-06-30")
                && st
                    .message
                    .contains("Periods before its agreement of 2020-07-01 were owed monthly"),
            "{st:#?}"
        );
        assert!(st.level >= Level::Alert, "{st:#?}");
    }

    #[test]
    fn exposure_levels_against_the_credit_limit() {
        let total = assess1(&healthy().snap(AS_OF)).exposure.minor();
        assert!(total > 0);
        // A prompt payer over the limit through the label's own consignments is
        // watched, never alert or critical (artists would read "in default").
        for (pm, level) in [
            (700, Level::Ok),
            (850, Level::Watch),
            (1200, Level::Watch),
            (1600, Level::Watch),
        ] {
            let limit = total * 1000 / pm;
            let a = assess1(&healthy_with(limit, |_| Some(0)).snap(AS_OF));
            let e = signal(&a, "exposure_over_limit");
            assert_eq!(e.level, level, "{pm}: {e:#?}");
            assert_eq!(a.level, level);
            if pm > 1000 {
                assert!(
                    e.message.contains("the label's own stock on consignment"),
                    "{}",
                    e.message
                );
            }
        }
        // What the distributor owes over the limit keeps the level it reaches.
        let usd = |minor: i64| Money::from_minor(minor, backstock_domain::Currency::USD);
        let exposure = |unpaid: i64, stock: i64, limit: i64| crate::receivables::Exposure {
            unpaid: usd(unpaid),
            reserve_held: usd(0),
            stock_at_wholesale: usd(stock),
            stock_at_cost: usd(stock / 4),
            total: usd(unpaid + stock),
            total_at_cost: usd(unpaid + stock / 4),
            credit_limit: usd(limit),
            limit_used_permille: Some((unpaid + stock) * 1000 / limit),
            headroom: Some(usd(limit - unpaid - stock)),
            over_limit: unpaid + stock > limit,
        };
        let t = Thresholds::default();
        for (unpaid, stock, level) in [
            (1_300, 500, Level::Alert),
            (1_700, 0, Level::Critical),
            (100, 1_700, Level::Watch),
            (900, 900, Level::Watch),
        ] {
            let e = exposure_signal(&exposure(unpaid, stock, 1_000), &t);
            assert_eq!(e.level, level, "{unpaid}+{stock}: {e:#?}");
        }
        // A credit in the distributor's favour is said as one, not as "unpaid -5.00".
        let e = exposure_signal(&exposure(-500, 1_700, 1_000), &t);
        assert!(
            e.message.contains("(a credit of 5.00 USD in its favour, "),
            "{e:#?}"
        );
    }

    #[test]
    fn stock_concentration_alone_stays_watch() {
        let mut tl = healthy();
        // The label keeps 500 units at home, the distributor holds 1040.
        tl.entries
            .retain(|e| !matches!(e.event, backstock_ledger::Event::Manufacture { .. }));
        tl.make("2014-01-01", "CD1", 2500).sort();
        let a = assess1(&tl.snap(AS_OF));
        let c = signal(&a, "stock_concentration");
        assert_eq!(c.level, Level::Watch);
        assert_eq!(c.value, "67.5%");
        assert_eq!(a.level, Level::Watch, "{}", a.reason);
    }

    #[test]
    fn demands_unanswered_refused_partial() {
        let mut tl = healthy();
        tl.demand("D1", "allegro", "2016-01-20");
        let a = assess1(&tl.snap("2016-01-30"));
        assert_eq!(signal(&a, "demand_unanswered").level, Level::Ok);
        let a = assess1(&tl.snap(AS_OF));
        let u = signal(&a, "demand_unanswered");
        assert_eq!(u.level, Level::Alert);
        assert_eq!(u.value, "26 days");

        let mut refused = tl.clone();
        refused.response("D1", "2016-02-01", DemandOutcome::Refused);
        let a = assess1(&refused.snap(AS_OF));
        assert_eq!(signal(&a, "demand_refused").level, Level::Critical);
        assert_eq!(a.level, Level::Critical);
        assert!(a.signals.iter().all(|s| s.code != "demand_unanswered"));

        let mut partial = tl.clone();
        partial.response("D1", "2016-02-01", DemandOutcome::Partial);
        assert_eq!(
            signal(&assess1(&partial.snap(AS_OF)), "demand_refused").level,
            Level::Alert
        );

        let mut complied = tl;
        complied.response("D1", "2016-02-01", DemandOutcome::Complied);
        let a = assess1(&complied.snap(AS_OF));
        assert!(a
            .signals
            .iter()
            .all(|s| !s.code.as_str().starts_with("demand")));
    }

    #[test]
    fn ucc_missing_lapsed_and_continuation_window() {
        let drop_ucc = |tl: &mut Tl| {
            tl.entries.retain(|e| {
                !matches!(
                    e.event,
                    backstock_ledger::Event::Fact(backstock_ledger::Fact::Ucc1Filing(_))
                )
            })
        };
        let mut tl = healthy();
        drop_ucc(&mut tl);
        let u = signal(&assess1(&tl.snap(AS_OF)), "ucc_unperfected").clone();
        assert_eq!((u.level, u.value.as_str()), (Level::Alert, "missing"));

        let mut lapsed = tl.clone();
        lapsed
            .ucc("allegro", "OR-2010-9", "OR", "2010-06-01", None)
            .sort();
        let u = signal(&assess1(&lapsed.snap(AS_OF)), "ucc_unperfected").clone();
        assert_eq!((u.level, u.value.as_str()), (Level::Alert, "lapsed"));
        assert!(u.message.contains("2015-06-01"), "{}", u.message);

        let mut window = tl.clone();
        window
            .ucc("allegro", "OR-2011-5", "OR", "2011-05-01", None)
            .sort();
        let u = signal(&assess1(&window.snap(AS_OF)), "ucc_unperfected").clone();
        assert_eq!(
            (u.level, u.value.as_str()),
            (Level::Watch, "continuation window open")
        );

        // Title not retained: no UCC signal.
        let mut sale_or_return = Tl::new();
        let mut a = agreement("allegro", "2014-01-01");
        a.title_retained = false;
        sale_or_return.agreement(a);
        let a = assess1(&sale_or_return.snap(AS_OF));
        assert!(a.signals.iter().all(|s| s.code != "ucc_unperfected"));
    }

    #[test]
    fn level_rule() {
        use Level::*;
        assert_eq!(level_of(&[]).0, Ok);
        assert_eq!(level_of(&[s("stock_concentration", Watch)]).0, Watch);
        assert_eq!(
            level_of(&[s("payment_lateness", Alert), s("payment_coverage", Alert)]).0,
            Alert
        );
        let (l, why) = level_of(&[
            s("payment_lateness", Alert),
            s("stocking_up", Alert),
            s("stock_concentration", Watch),
        ]);
        assert_eq!(l, Critical);
        assert!(
            why.contains("payment_lateness") && why.contains("stocking_up"),
            "{why}"
        );
        assert_eq!(
            level_of(&[s("ucc_unperfected", Alert), s("exposure_over_limit", Alert)]).0,
            Alert
        );
        assert_eq!(
            level_of(&[s("statements_late_or_missing", Critical)]).0,
            Critical
        );
        assert_eq!(
            level_of(&[s("demand_refused", Alert), s("exposure_over_limit", Watch)]).0,
            Alert
        );
    }

    #[test]
    fn allegro_2016() {
        // Terms 90 days. On time through 2014; in 2015 later and later, then half, then
        // nothing from the 2015-08 statement; no statement after 2016-01; a purchase
        // order for more in May 2016.
        let mut a = agreement("allegro", "2012-01-01");
        a.payment_terms_days = 90;
        a.credit_limit = usd(3_000_000);
        let mut tl = Tl::new();
        tl.ucc("allegro", "OR-2011-77", "OR", "2011-12-15", None)
            .agreement(a)
            .catalog("CD1", 950, 300)
            .make("2012-01-01", "CD1", 20_000)
            .ship("SH1", "2012-01-10", "label", "allegro", "CD1", 3000)
            .monthly_with(
                "allegro",
                "2012-01-01",
                49,
                "CD1",
                40,
                38_000,
                90,
                |i| match i {
                    0..=35 => Some((0, 38_000)),
                    36..=39 => Some((45, 38_000)),
                    40..=42 => Some((90, 19_000)),
                    _ => None,
                },
            )
            .po("PO-2016-05", "2016-05-10", "allegro", "CD1", 2000)
            .sort();
        let snap = tl.snap("2016-06-01");
        let a = assess1(&snap);
        if std::env::var_os("SHOW").is_some() {
            println!("{}", serde_json::to_string_pretty(&a).unwrap());
            println!(
                "{}",
                serde_json::to_string_pretty(&crate::receivables::compute(&snap, None)).unwrap()
            );
        }
        assert_eq!(a.level, Level::Critical, "{a:#?}");
        for code in [
            "payment_lateness",
            "payment_coverage",
            "statements_late_or_missing",
            "stocking_up",
        ] {
            assert!(
                signal(&a, code).level >= Level::Alert,
                "{code}: {:#?}",
                signal(&a, code)
            );
        }
        assert!(signal(&a, "stocking_up").message.contains("PO-2016-05"));
        // A year earlier it was still fine.
        let before = assess1(&tl.snap("2015-03-01"));
        assert_eq!(before.level, Level::Ok, "{before:#?}");
        // JSON: lowercase levels, money with decimal text.
        let json = serde_json::to_value(&a).unwrap();
        assert_eq!(json["level"], "critical");
        assert!(json["exposure"]["amount"].as_str().unwrap().contains('.'));
        assert_eq!(json["signals"][0]["level"], "critical");
    }

    #[test]
    fn thresholds_override_from_json() {
        let t: Thresholds = serde_json::from_str(r#"{"payment_lateness_alert_days": 45}"#).unwrap();
        assert_eq!(t.payment_lateness_alert_days, 45);
        assert_eq!(t.payment_lateness_watch_days, 30);
        assert!(serde_json::from_str::<Thresholds>(r#"{"payment_lateness_alert": 45}"#).is_err());
        let back: Thresholds =
            serde_json::from_value(serde_json::to_value(Thresholds::default()).unwrap()).unwrap();
        assert_eq!(back, Thresholds::default());
        assert_eq!(serde_json::to_string(&Level::Watch).unwrap(), "\"watch\"");
        assert_eq!(
            serde_json::from_str::<Level>("\"alert\"").unwrap(),
            Level::Alert
        );
    }
}
