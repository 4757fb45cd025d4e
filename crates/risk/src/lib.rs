//! Early warning for a label that consigns stock to distributors.
//!
//! Pure computation over a [`Snapshot`] — everything the label knew on a date — with no
//! I/O and no SQL. The modules answer the questions a label owner asks before a
//! distributor fails the way Allegro Media did in 2016:
//!
//! * [`receivables`]: what each distributor owes, how late, and the whole exposure
//!   (unpaid sales + reserves + consigned stock) against the credit limit.
//! * [`reconcile`]: stock reports checked against what was shipped and sold, unconfirmed
//!   shipments, sales of things never shipped, stray payments, and the statement
//!   calendar (received / late / missing).
//! * [`signals`]: warning signals and one explainable level per distributor.
//! * [`legal`]: UCC-1 perfection, lapse and continuation windows, PMSI notices, and
//!   shipments made while unperfected.
//! * [`credit`]: reasons to hold a new shipment or question a purchase order.
//!
//! Conventions: money is integer minor units ([`Money`](backstock_domain::Money)), ratios are integer per-mille,
//! days are whole days. Nothing here converts currencies: amounts in a currency other
//! than the agreement's are reported on their own. Nothing here panics on data: sums are
//! computed in `i128` and saturate when turned back into [`Money`](backstock_domain::Money).
//!
//! Corrections: an entry reversed by an [`Event::Correction`] in the snapshot (that is
//! not itself reversed) is ignored by every computation here.

pub mod credit;
pub mod deductions;
pub mod insolvency;
pub mod legal;
pub mod next_steps;
pub mod receivables;
pub mod reconcile;
pub mod signals;

mod book;
mod cycle;
mod json;
mod rhythm;
mod view;

#[cfg(test)]
mod testkit;
#[cfg(test)]
mod timelines;

use backstock_domain::{Date, PartyId, Sku};
use backstock_ledger::Entry;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

pub use signals::{Assessment, PaymentCycle, Signal};

/// What the label knew on a date.
#[derive(Debug, Clone)]
pub struct Snapshot {
    pub as_of: Date,
    /// Every journal entry with `effective_on <= as_of && known_on <= as_of`, in
    /// recording order. (Entries outside that are ignored here as a safeguard.)
    pub entries: Vec<Entry>,
    /// Consigned units owned by the label and held by each distributor as of the date,
    /// keyed by (holder, SKU), from the ledger. A key whose holder is the label itself,
    /// if present, is taken as the label's own warehouse stock.
    pub held: BTreeMap<(PartyId, Sku), i64>,
}

impl Snapshot {
    /// A snapshot built from a journal alone: entries are filtered to those known and
    /// effective on `as_of`, and `held` is derived from them with
    /// [`holdings_from_entries`]. The ledger's own balances are authoritative; this is
    /// for tests and tools that have only the entries.
    pub fn from_entries(as_of: Date, entries: impl IntoIterator<Item = Entry>) -> Snapshot {
        let entries: Vec<Entry> = entries
            .into_iter()
            .filter(|e| e.effective_on <= as_of && e.known_on <= as_of)
            .collect();
        let held = holdings_from_entries(&entries, as_of)
            .into_iter()
            .filter(|((holder, _), _)| !holder.is_label())
            .collect();
        Snapshot {
            as_of,
            entries,
            held,
        }
    }

    /// The snapshot of `as_of` over `entries` that may also hold entries not yet
    /// effective or known then: every computation reads the entries through the
    /// records of its date, which leave those out, so the results are
    /// [`Snapshot::from_entries`]'s — without copying the entries. A walk over month
    /// ends moves one vector of entries from snapshot to snapshot
    /// ([`Snapshot::into_entries`]) instead of cloning the journal for each.
    pub fn over(as_of: Date, entries: Vec<Entry>) -> Snapshot {
        let held = holdings_from_entries(&entries, as_of)
            .into_iter()
            .filter(|((holder, _), _)| !holder.is_label())
            .collect();
        Snapshot {
            as_of,
            entries,
            held,
        }
    }

    /// The entries, back (see [`Snapshot::over`]).
    pub fn into_entries(self) -> Vec<Entry> {
        self.entries
    }
}

/// Units owned by the label per (holder, SKU) on `as_of`, derived from the entries:
/// manufacture (to the holder), shipments (from −, to +), statement sales (−) and
/// returns (+) at the distributor, write-offs (−) and recorded title transfers. Includes
/// the label's own warehouse (holder `label`); excludes market and scrap; zero
/// balances are dropped. Reversed (corrected) entries are ignored.
pub fn holdings_from_entries(entries: &[Entry], as_of: Date) -> BTreeMap<(PartyId, Sku), i64> {
    let v = view::View::new(entries, as_of);
    let mut out: BTreeMap<(PartyId, Sku), i64> = BTreeMap::new();
    for m in &v.moves {
        if m.holder.as_str() == PartyId::MARKET || m.holder.as_str() == PartyId::SCRAP {
            continue;
        }
        let slot = out.entry((m.holder.clone(), m.sku.clone())).or_insert(0);
        *slot = slot.saturating_add(m.delta);
    }
    out.retain(|_, u| *u != 0);
    out
}

/// How worried to be. Ordered: `Ok < Watch < Alert < Critical`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Level {
    Ok,
    Watch,
    Alert,
    Critical,
}

impl Level {
    pub fn as_str(&self) -> &'static str {
        match self {
            Level::Ok => "ok",
            Level::Watch => "watch",
            Level::Alert => "alert",
            Level::Critical => "critical",
        }
    }
}

impl std::fmt::Display for Level {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Every threshold the signals, the calendar and the credit checks use. All integers:
/// days, per-mille (1000 = 100 %), units, or whole currency units (`*_major`).
///
/// Deserializes with defaults for missing fields, so a tenant overrides only what it
/// wants (`{"payment_lateness_alert_days": 45}`); unknown fields are refused so a typo
/// is not silently ignored.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Thresholds {
    /// Trailing window for payment lateness and coverage.
    pub payment_window_days: i64,
    /// Average days beyond terms (amount-weighted) for watch / alert / critical.
    pub payment_lateness_watch_days: i64,
    pub payment_lateness_alert_days: i64,
    pub payment_lateness_critical_days: i64,
    /// Payment signals stay at `watch` at most unless at least this many statements in
    /// the window were paid late (by ≥ the watch days) or are unpaid past due: one late
    /// payment is not a trend.
    pub payment_min_problem_statements: i64,
    /// Cash received ÷ amount that fell due, per-mille: below these → watch / alert /
    /// critical.
    pub coverage_watch_below_permille: i64,
    pub coverage_alert_below_permille: i64,
    pub coverage_critical_below_permille: i64,
    /// Coverage is judged only when at least this much fell due in the window (whole
    /// units of the agreement currency).
    pub coverage_min_due_major: i64,
    /// Coverage below the watch mark (material, on two statements or more) now and
    /// this many days before as well → alert: payments shrinking for months, not a
    /// statement paid a few days late (0: off).
    pub coverage_persist_days: i64,
    /// A statement is expected by period end + this many days.
    pub statement_grace_days: i64,
    /// Late and missing statements count when their expected date is in this window.
    pub statement_window_days: i64,
    /// This many missing statements (or more) → critical.
    pub statements_missing_critical: i64,
    /// The last this-many statements expected in the window all came late (beyond the
    /// distributor's usual lag plus the slack) or have not come, at least two of them
    /// received late → alert: statements arriving later and later, the trace a
    /// distributor in trouble leaves before it stops sending them (0: off).
    pub statements_late_in_a_row_alert: i64,
    /// `sales_stalled`: its latest statements (90 days' worth) report at most this
    /// many per-mille of the units it sold a period in the year before, while it holds
    /// at least a period's sales of the label's stock → watch; twice as long → alert
    /// (0: off).
    pub sales_stall_permille: i64,
    /// Window for units ordered/shipped vs units sold.
    pub stocking_window_days: i64,
    /// Ordered-or-shipped ÷ sold, per-mille, that counts as stocking up (with arrears).
    pub stocking_ratio_permille: i64,
    /// Ignore stocking up below this many units ordered or shipped in the window.
    pub stocking_min_units: i64,
    /// A purchase order placed while this many days (or more) in arrears → alert.
    pub stocking_po_arrears_days: i64,
    /// Open balance past due by more than this many days counts as arrears (a cheque in
    /// the post is not arrears).
    pub arrears_grace_days: i64,
    /// Exposure ÷ credit limit, per-mille: ≥ watch, > alert, > critical.
    pub exposure_watch_permille: i64,
    pub exposure_alert_above_permille: i64,
    pub exposure_critical_above_permille: i64,
    /// Share of the label's stock held by one distributor, per-mille, for watch.
    pub concentration_watch_permille: i64,
    /// A demand not answered after this many days → alert.
    pub demand_answer_days: i64,
    /// A shipment without a receipt confirmation after this many days is listed.
    pub receipt_confirm_days: i64,
    /// UCC-1 effectiveness (9-515(a): five years) and the continuation window before
    /// lapse (9-515(d): six months), in months.
    pub ucc_lapse_months: i64,
    pub ucc_continuation_window_months: i64,
    /// A statement that received cash and is still open by at most this share of its
    /// net due (per-mille) was paid short: the rest is a deduction, judged apart from
    /// silent non-payment (see [`crate::deductions`]).
    pub deduction_max_permille: i64,
    /// Materiality floor: no signal is armed by an amount below the larger of this
    /// share (per-mille) of the distributor's last 12 months of billings and
    /// `materiality_min_major` whole units of its currency.
    pub materiality_permille: i64,
    pub materiality_min_major: i64,
    /// Deductions taken on the statements of the last 12 months, per-mille of what
    /// they billed: watch / alert.
    pub deductions_watch_permille: i64,
    pub deductions_alert_permille: i64,
    /// A statement is expected by period end + the distributor's own usual issue lag
    /// (the median of its statements a year and more ago) + this many days, and never
    /// before period end + `statement_grace_days`.
    pub statement_lag_slack_days: i64,
    /// Missing statements alert when the periods they cover add up to this many days
    /// (a monthly distributor: two missing months; a quarterly one: one quarter).
    pub statements_missing_alert_days: i64,
    /// Payments at least `payment_lateness_alert_days` late are capped at `watch`
    /// while they are no later than a year earlier plus this many days: a habit, not
    /// a trend (below the critical days).
    pub payment_lateness_trend_days: i64,
    /// No payment for this many days while statements fell due after the last one:
    /// watch; with `payments_stopped_statements` statements missed, alert; after
    /// `payments_stopped_critical_days`, critical.
    pub payments_stopped_days: i64,
    pub payments_stopped_statements: i64,
    pub payments_stopped_critical_days: i64,
    /// Payments at least `payment_lateness_watch_days` late and this many days later
    /// than a year earlier are getting later: an alert.
    pub payment_lateness_rising_days: i64,
    /// The payment window covers at least this many statement periods (a quarterly
    /// distributor is judged by its quarters).
    pub payment_window_min_periods: i64,
    /// Stocking up is seasonal when the ratio of units taken to units sold is at most
    /// this share (per-mille) of the same ratio in the same months a year earlier.
    pub stocking_seasonal_permille: i64,
    /// A payment warning at `alert` on any of the days this many days back (and half
    /// as many) is kept at `alert` while the distributor is still materially in
    /// arrears: averages move as each late payment lands, and a warning clears when
    /// the distributor catches up, not when an average dips under a line for a
    /// fortnight. 0 turns the memory off.
    pub alert_memory_days: i64,
}

impl Default for Thresholds {
    fn default() -> Thresholds {
        Thresholds {
            payment_window_days: 180,
            payment_lateness_watch_days: 30,
            payment_lateness_alert_days: 60,
            payment_lateness_critical_days: 120,
            payment_min_problem_statements: 2,
            coverage_watch_below_permille: 800,
            coverage_alert_below_permille: 500,
            coverage_critical_below_permille: 200,
            coverage_min_due_major: 1000,
            coverage_persist_days: 90,
            statement_grace_days: 30,
            statement_window_days: 365,
            statements_missing_critical: 3,
            statements_late_in_a_row_alert: 3,
            sales_stall_permille: 100,
            stocking_window_days: 90,
            stocking_ratio_permille: 1500,
            stocking_min_units: 10,
            stocking_po_arrears_days: 60,
            arrears_grace_days: 7,
            exposure_watch_permille: 800,
            exposure_alert_above_permille: 1000,
            exposure_critical_above_permille: 1500,
            concentration_watch_permille: 500,
            demand_answer_days: 14,
            receipt_confirm_days: 30,
            ucc_lapse_months: 60,
            ucc_continuation_window_months: 6,
            deduction_max_permille: 100,
            materiality_permille: 10,
            materiality_min_major: 50,
            deductions_watch_permille: 50,
            deductions_alert_permille: 100,
            statement_lag_slack_days: 15,
            statements_missing_alert_days: 60,
            payment_lateness_trend_days: 15,
            payment_lateness_rising_days: 30,
            payments_stopped_days: 45,
            payments_stopped_statements: 2,
            payments_stopped_critical_days: 150,
            payment_window_min_periods: 3,
            stocking_seasonal_permille: 1250,
            alert_memory_days: 30,
        }
    }
}

/// Clamps an `i64` day count into the `i32` that [`Date::add_days`] takes.
pub(crate) fn days_i32(days: i64) -> i32 {
    i32::try_from(days).unwrap_or(if days < 0 { i32::MIN } else { i32::MAX })
}

/// `d − n` days, saturating (never overflows whatever `n` is).
pub(crate) fn minus_days(d: Date, n: i64) -> Date {
    d.add_days(days_i32(n.saturating_neg()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testkit::*;
    use backstock_ledger::{Event, LineKind};

    #[test]
    fn nothing_panics_on_odd_data_or_thresholds() {
        let mut a = agreement("allegro", "1900-01-01");
        a.credit_limit = usd(0);
        a.payment_terms_days = u32::MAX;
        a.reserve_release_days = u32::MAX;
        let mut b = agreement("bigbox", "2199-12-01");
        b.credit_limit = eur(-5);
        let mut tl = Tl::new();
        tl.agreement(a)
            .agreement(b)
            .catalog("CD1", i64::MAX, i64::MIN)
            .catalog("CD2", i64::MAX, i64::MAX)
            .ship("SH1", "2015-01-01", "label", "allegro", "CD1", u64::MAX)
            .ship("SH2", "2015-01-01", "allegro", "allegro", "CD1", 1)
            .statement(
                "S1",
                "allegro",
                "2015-01-01",
                "2014-01-01",
                "2015-01-01",
                vec![
                    sale("CD1", i64::MAX, i64::MAX),
                    sale("CD1", i64::MIN, i64::MIN),
                    line(LineKind::ReserveWithheld, i64::MIN),
                    line(LineKind::ReserveReleased, i64::MAX),
                ],
            )
            .statement(
                "S2",
                "allegro",
                "2015-01-01",
                "2015-01-31",
                "2015-02-01",
                vec![sale("CD1", 1, i64::MAX)],
            )
            .pay("P1", "2015-03-01", "allegro", usd(i64::MIN), Some("S2"))
            .pay("P2", "2015-03-02", "allegro", usd(i64::MAX), None)
            .pay("P3", "2015-03-03", "allegro", eur(i64::MAX), Some("S1"))
            .po("PO1", "2015-03-01", "allegro", "CD1", u64::MAX)
            .stock_report("allegro", "2015-03-01", "CD1", i64::MIN)
            .receipt("2015-03-01", "SH1", "allegro", "CD1", u64::MAX)
            .ucc("allegro", "F1", "", "1900-01-01", Some("F1"))
            .ucc("allegro", "F2", "zz", "2199-12-31", None)
            .pmsi("allegro", "", "1900-01-01", Some("2199-12-31"))
            .demand("D1", "allegro", "1900-01-01");
        let mut held = BTreeMap::new();
        held.insert((p("allegro"), sku("CD1")), i64::MAX);
        held.insert((p("allegro"), sku("CD2")), i64::MAX);
        held.insert((p("bigbox"), sku("CD1")), i64::MIN);
        held.insert((p("label"), sku("NOPE")), i64::MAX);
        for as_of in ["1900-01-01", "2015-03-15", "2199-12-31"] {
            let mut snap = tl.snap(as_of);
            snap.held = held.clone();
            for t in [
                Thresholds::default(),
                serde_json::from_str::<Thresholds>(
                    &serde_json::to_string(&Thresholds::default())
                        .unwrap()
                        .replace(|c: char| c.is_ascii_digit(), "9"),
                )
                .unwrap_or_default(),
                Thresholds {
                    payment_window_days: i64::MAX,
                    stocking_window_days: i64::MIN,
                    statement_grace_days: i64::MIN,
                    ucc_lapse_months: i64::MAX,
                    ucc_continuation_window_months: i64::MIN,
                    coverage_min_due_major: i64::MAX,
                    payment_min_problem_statements: i64::MIN,
                    ..Thresholds::default()
                },
            ] {
                let _ = receivables::compute(&snap, None);
                let _ = reconcile::compute_with(&snap, None, &t);
                let _ = signals::assess(&snap, &t);
                let _ = legal::compute_with(&snap, &t);
                let _ = credit::check(&snap, &t, &p("allegro"), &sku("CD1"), u64::MAX);
                let po = backstock_ledger::facts::PurchaseOrder {
                    po_number: "X".into(),
                    date: d("2199-12-31"),
                    distributor: p("allegro"),
                    sku: sku("CD1"),
                    units: u64::MAX,
                };
                let _ = credit::po_flags(&snap, &t, &po);
                let _ = serde_json::to_string(&signals::assess(&snap, &t)).unwrap();
            }
        }
        // An empty snapshot gives empty answers.
        let empty = Snapshot::from_entries(d("2016-01-01"), Vec::new());
        assert!(receivables::compute(&empty, None).is_empty());
        assert!(signals::assess(&empty, &Thresholds::default()).is_empty());
        assert!(legal::compute(&empty).agreements.is_empty());
    }

    #[test]
    fn holdings_follow_shipments_sales_and_corrections() {
        let mut tl = Tl::new();
        tl.make("2015-01-01", "CD1", 1000)
            .ship("SH1", "2015-01-02", "label", "allegro", "CD1", 300)
            .ship("SH2", "2015-01-03", "allegro", "bigbox", "CD1", 100)
            .statement(
                "S1",
                "allegro",
                "2015-01-01",
                "2015-01-31",
                "2015-02-01",
                vec![sale("CD1", 50, 1), ret("CD1", 5, 1), digital("CD1", 999, 1)],
            );
        let wrong = tl.entries[2].id.clone();
        tl.push(
            d("2015-01-04"),
            d("2015-01-04"),
            Event::Correction {
                reverses: wrong,
                reason: "never left".into(),
                postings: vec![],
            },
        );
        let h = holdings_from_entries(&tl.entries, d("2015-03-01"));
        assert_eq!(h.get(&(p("label"), sku("CD1"))), Some(&700));
        assert_eq!(h.get(&(p("allegro"), sku("CD1"))), Some(&255));
        assert_eq!(h.get(&(p("bigbox"), sku("CD1"))), None);
        let snap = tl.snap("2015-03-01");
        assert!(!snap.held.contains_key(&(p("label"), sku("CD1"))));
        // Before the statement was known: no sales yet.
        assert_eq!(
            tl.snap("2015-01-31").held.get(&(p("allegro"), sku("CD1"))),
            Some(&300)
        );
    }

    /// A snapshot over the whole journal answers as one of the entries known by its
    /// date, on every day before, during and after the history.
    #[test]
    fn a_snapshot_over_later_entries_answers_as_one_of_the_entries_known_then() {
        let mut tl = Tl::new();
        tl.make("2015-01-01", "CD1", 1000)
            .ship("SH1", "2015-01-02", "label", "allegro", "CD1", 300)
            .statement(
                "S1",
                "allegro",
                "2015-01-01",
                "2015-01-31",
                "2015-02-20",
                vec![sale("CD1", 50, 800), ret("CD1", 5, 800)],
            )
            .statement(
                "S2",
                "allegro",
                "2015-02-01",
                "2015-02-28",
                "2015-03-20",
                vec![sale("CD1", 70, 800)],
            );
        let wrong = tl.entries[1].id.clone();
        tl.push(
            d("2015-04-04"),
            d("2015-04-04"),
            Event::Correction {
                reverses: wrong,
                reason: "keyed twice".into(),
                postings: vec![],
            },
        );
        let th = Thresholds::default();
        let mut entries = tl.entries.clone();
        let mut day = d("2014-12-31");
        while day <= d("2016-06-30") {
            let want = Snapshot::from_entries(day, tl.entries.iter().cloned());
            let got = Snapshot::over(day, entries);
            assert_eq!(got.held, want.held, "{day}");
            assert_eq!(
                format!("{:?}", receivables::compute(&got, None)),
                format!("{:?}", receivables::compute(&want, None)),
                "{day}"
            );
            assert_eq!(
                serde_json::to_string(&signals::assess(&got, &th)).unwrap(),
                serde_json::to_string(&signals::assess(&want, &th)).unwrap(),
                "{day}"
            );
            entries = got.into_entries();
            day = day.add_days(9);
        }
    }
}
