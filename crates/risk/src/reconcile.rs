//! Reconciliation: what the distributor says against what the label's books say.
//!
//! * **Stock reports as balance assertions.** For each report (the latest recorded per
//!   distributor × SKU × report date), the expected units at the distributor are
//!   shipments to it − shipments from it − units sold + units returned (statement
//!   lines), plus units manufactured straight to it, − write-offs there, ± recorded
//!   title transfers, all with `effective_on ≤` the report's date. The discrepancy is
//!   reported − expected, also valued at catalog wholesale.
//! * Shipments to the distributor with no `ReceiptConfirmed` (same shipment id and SKU)
//!   after [`Thresholds::receipt_confirm_days`]; confirmations for a different number
//!   of units than shipped.
//! * Sales reported for SKUs never shipped to that distributor.
//! * Payments naming a statement id the distributor never sent.
//! * **Statement calendar.** Periods run from the agreement's start in steps of its
//!   frequency (monthly or quarterly), each aligned to the first of the start month (the
//!   first period begins on the start date itself); periods that ended before the
//!   distributor's first stock (shipment or delivery to it) or first statement are not
//!   expected, and a distributor with neither has no calendar yet. Each period that has ended is
//!   expected by period end + the distributor's usual issue lag (the median of its
//!   statements received a year and more before, when it has three) +
//!   `statement_lag_slack_days`, and never before `period_end + statement_grace_days`.
//!   A statement covers a period when
//!   its period end falls in the period, or its period spans the period's end (so
//!   calendar quarters match agreement quarters that are offset by a month). Status:
//!   `received` (on time), `late` (received after the expected date), `missing` (not
//!   received and the expected date has passed) or `not_yet_due`. "Received" is the
//!   entry's `known_on`: when the label got it.

use crate::json::{self, to_money};
use crate::view::{OfSnapshot, View};
use crate::{days_i32, Snapshot, Thresholds};
use backstock_domain::{Date, Money, PartyId, Sku};
use backstock_ledger::facts::{Agreement, StockReportSource};
use backstock_ledger::{Channel, LineKind};
use serde::Serialize;
use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct StockCheck {
    pub report_as_of: Date,
    pub sku: Sku,
    pub source: StockReportSource,
    pub reported_units: i64,
    pub expected_units: i64,
    /// Reported − expected (negative: the distributor reports fewer units than it
    /// should hold).
    pub discrepancy_units: i64,
    /// The discrepancy at catalog wholesale, when the SKU has a price.
    #[serde(serialize_with = "json::money_opt")]
    pub discrepancy_value: Option<Money>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct UnconfirmedShipment {
    pub shipment_id: String,
    pub shipped_on: Date,
    pub from: PartyId,
    pub sku: Sku,
    pub units: u64,
    pub days_since: i64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ReceiptMismatch {
    pub shipment_id: String,
    pub sku: Sku,
    pub shipped_units: u64,
    pub confirmed_units: u64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct UnshippedSale {
    pub statement_id: String,
    pub period_end: Date,
    pub sku: Sku,
    pub units: i64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct OrphanPayment {
    pub payment_id: String,
    pub date: Date,
    #[serde(serialize_with = "json::money")]
    pub amount: Money,
    pub statement_id: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum CalendarStatus {
    Received,
    Late,
    Missing,
    NotYetDue,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CalendarPeriod {
    pub period_start: Date,
    pub period_end: Date,
    /// period_end + grace.
    pub expected_by: Date,
    pub status: CalendarStatus,
    pub statement_id: Option<String>,
    pub received_on: Option<Date>,
    /// For late: days after `expected_by`; for missing: days overdue as of the date.
    pub days_late: Option<i64>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Reconciliation {
    pub distributor: PartyId,
    pub as_of: Date,
    pub stock_checks: Vec<StockCheck>,
    /// Σ |discrepancy| over the latest report of each SKU.
    pub latest_discrepancy_units: i64,
    pub unconfirmed_shipments: Vec<UnconfirmedShipment>,
    pub receipt_mismatches: Vec<ReceiptMismatch>,
    pub unshipped_sales: Vec<UnshippedSale>,
    pub orphan_payments: Vec<OrphanPayment>,
    /// Empty when there is no agreement.
    pub calendar: Vec<CalendarPeriod>,
}

/// Reconciliation with default thresholds.
pub fn compute(snap: &Snapshot, only: Option<&PartyId>) -> Vec<Reconciliation> {
    compute_with(snap, only, &Thresholds::default())
}

/// Reconciliation per distributor with an agreement or a stock report (one, if `only`).
pub fn compute_with(
    snap: &Snapshot,
    only: Option<&PartyId>,
    t: &Thresholds,
) -> Vec<Reconciliation> {
    let view = View::of(snap);
    let mut parties: BTreeSet<&PartyId> = view.agreements.keys().collect();
    parties.extend(view.stock_reports.iter().map(|r| &r.distributor));
    let moves = MoveIndex::new(&view);
    parties
        .into_iter()
        .filter(|d| !matches!(only, Some(o) if o != *d))
        .map(|d| reconcile_one(&view, &moves, d, t))
        .collect()
}

/// The units the books say the label had of each (holder, SKU) on each date asked:
/// what [`compute`] compares a stock report with (label-owned moves effective on or
/// before the date, sales as their statements date them). A stock report moves no
/// units, so asked before one is recorded this is what `compute` will say after.
pub fn expected_units(snap: &Snapshot, asked: &[(&PartyId, &Sku, Date)]) -> Vec<i64> {
    let view = View::of(snap);
    let moves = MoveIndex::new(&view);
    asked
        .iter()
        .map(|(holder, sku, on)| moves.units_at(holder, sku, *on))
        .collect()
}

/// The statement calendar of one distributor (empty without an agreement).
pub fn calendar(snap: &Snapshot, distributor: &PartyId, t: &Thresholds) -> Vec<CalendarPeriod> {
    let view = View::of(snap);
    match view.agreements.get(distributor) {
        Some(a) => calendar_for(&view, a, t),
        None => Vec::new(),
    }
}

/// Label-owned unit deltas per (holder, SKU), by date, with prefix sums.
/// Dates of the moves and the running total after each.
type Running = (Vec<Date>, Vec<i64>);

pub(crate) struct MoveIndex<'a> {
    by_key: HashMap<(&'a PartyId, &'a Sku), Running>,
}

impl<'a> MoveIndex<'a> {
    pub fn new(view: &View<'a>) -> MoveIndex<'a> {
        let mut raw: HashMap<(&'a PartyId, &'a Sku), Vec<(Date, i64)>> = HashMap::new();
        for m in &view.moves {
            raw.entry((m.holder, m.sku))
                .or_default()
                .push((m.date, m.delta));
        }
        let by_key = raw
            .into_iter()
            .map(|(k, mut v)| {
                v.sort_by_key(|(d, _)| *d);
                let mut acc = 0i64;
                let dates = v.iter().map(|(d, _)| *d).collect();
                let sums = v
                    .iter()
                    .map(|(_, x)| {
                        acc = acc.saturating_add(*x);
                        acc
                    })
                    .collect();
                (k, (dates, sums))
            })
            .collect();
        MoveIndex { by_key }
    }

    /// Units of `sku` at `holder` after every move effective on or before `on`.
    pub fn units_at(&self, holder: &PartyId, sku: &Sku, on: Date) -> i64 {
        match self.by_key.get(&(holder, sku)) {
            Some((dates, sums)) => {
                let n = dates.partition_point(|d| *d <= on);
                n.checked_sub(1)
                    .and_then(|i| sums.get(i))
                    .copied()
                    .unwrap_or(0)
            }
            None => 0,
        }
    }
}

fn reconcile_one(
    view: &View<'_>,
    moves: &MoveIndex<'_>,
    d: &PartyId,
    t: &Thresholds,
) -> Reconciliation {
    let as_of = view.as_of;

    // Stock checks: the latest recorded report per (SKU, report date).
    let mut latest: BTreeMap<(Date, &Sku), &backstock_ledger::facts::StockReport> = BTreeMap::new();
    for r in view.stock_reports.iter().filter(|r| &r.distributor == d) {
        latest.insert((r.as_of, &r.sku), r);
    }
    let mut stock_checks = Vec::new();
    let mut newest: BTreeMap<&Sku, i64> = BTreeMap::new();
    for ((on, sku), r) in latest {
        let expected = moves.units_at(d, sku, on);
        let diff = r.units_on_hand.saturating_sub(expected);
        let value = view.catalog.get(sku).map(|c| {
            to_money(
                i128::from(c.wholesale_price.minor()) * i128::from(diff),
                c.wholesale_price.currency(),
            )
        });
        newest.insert(sku, diff.saturating_abs());
        stock_checks.push(StockCheck {
            report_as_of: on,
            sku: sku.clone(),
            source: r.source,
            reported_units: r.units_on_hand,
            expected_units: expected,
            discrepancy_units: diff,
            discrepancy_value: value,
        });
    }
    let latest_discrepancy_units = newest.values().fold(0i64, |a, b| a.saturating_add(*b));

    // Receipts.
    let mut confirmed: HashMap<(&str, &Sku), u64> = HashMap::new();
    for r in &view.receipts {
        let slot = confirmed
            .entry((r.shipment_id.as_str(), &r.sku))
            .or_insert(0);
        *slot = slot.saturating_add(r.units);
    }
    let mut shipped: BTreeMap<(&str, &Sku), u64> = BTreeMap::new();
    let mut unconfirmed_shipments = Vec::new();
    for s in view.shipments_to(d) {
        let slot = shipped.entry((s.shipment_id, s.sku)).or_insert(0);
        *slot = slot.saturating_add(s.units);
        let days = i64::from(s.date.days_until(as_of));
        if !confirmed.contains_key(&(s.shipment_id, s.sku)) && days > t.receipt_confirm_days {
            unconfirmed_shipments.push(UnconfirmedShipment {
                shipment_id: s.shipment_id.to_string(),
                shipped_on: s.date,
                from: s.from.clone(),
                sku: s.sku.clone(),
                units: s.units,
                days_since: days,
            });
        }
    }
    let receipt_mismatches = shipped
        .iter()
        .filter_map(|(&(id, sku), &units)| {
            let c = *confirmed.get(&(id, sku))?;
            (c != units).then(|| ReceiptMismatch {
                shipment_id: id.to_string(),
                sku: sku.clone(),
                shipped_units: units,
                confirmed_units: c,
            })
        })
        .collect();

    // Sales of SKUs never delivered to the distributor.
    let delivered: HashSet<&Sku> = view
        .moves
        .iter()
        .filter(|m| m.holder == d && m.delta > 0)
        .map(|m| m.sku)
        .chain(view.shipments_to(d).map(|s| s.sku))
        .collect();
    let mut unshipped_sales = Vec::new();
    for s in view.statements_of(d) {
        let mut per_sku: BTreeMap<&Sku, i64> = BTreeMap::new();
        for l in &s.st.lines {
            if let (LineKind::Sale, Some(sku), Channel::Physical) = (l.kind, &l.sku, l.channel) {
                if !delivered.contains(sku) {
                    let slot = per_sku.entry(sku).or_insert(0);
                    *slot = slot.saturating_add(l.units);
                }
            }
        }
        for (sku, units) in per_sku {
            unshipped_sales.push(UnshippedSale {
                statement_id: s.st.statement_id.clone(),
                period_end: s.st.period_end,
                sku: sku.clone(),
                units,
            });
        }
    }

    // Payments naming no statement of this distributor.
    let ids: HashSet<&str> = view
        .statements_of(d)
        .map(|s| s.st.statement_id.as_str())
        .collect();
    let orphan_payments = view
        .payments_of(d)
        .filter_map(|p| {
            let sid = p.statement_id?;
            (!ids.contains(sid)).then(|| OrphanPayment {
                payment_id: p.payment_id.to_string(),
                date: p.date,
                amount: p.amount,
                statement_id: sid.to_string(),
            })
        })
        .collect();

    let calendar = view
        .agreements
        .get(d)
        .map(|a| calendar_for(view, a, t))
        .unwrap_or_default();

    Reconciliation {
        distributor: d.clone(),
        as_of,
        stock_checks,
        latest_discrepancy_units,
        unconfirmed_shipments,
        receipt_mismatches,
        unshipped_sales,
        orphan_payments,
        calendar,
    }
}

/// At most this many periods are generated (a monthly calendar of 250 years).
const MAX_PERIODS: usize = 3000;

pub(crate) fn calendar_for(view: &View<'_>, a: &Agreement, t: &Thresholds) -> Vec<CalendarPeriod> {
    let stmts: Vec<_> = view.statements_of(&a.distributor).collect();
    let mut out = Vec::new();
    // Nothing is owed a statement before the distributor had anything to sell: the
    // calendar starts at its first stock (a shipment or delivery to it) or its first
    // statement, whichever is earlier — never at an agreement signed months before the
    // first box went out (a new label's day one must not read "11 statements missing").
    let first_stock = view.shipments_to(&a.distributor).map(|s| s.date).min();
    let first_statement = stmts.iter().map(|s| s.st.period_start).min();
    let Some(first_activity) = [first_stock, first_statement].into_iter().flatten().min() else {
        return out;
    };
    // Each version of the agreement governs the periods from its start to the next
    // one's: statements owed monthly before a change to quarterly stay owed (a new
    // agreement does not forgive the statements missing under the old one).
    let mut versions: Vec<&Agreement> = view
        .agreement_history
        .get(&a.distributor)
        .map(|h| h.to_vec())
        .unwrap_or_default();
    if versions.is_empty() {
        versions.push(a);
    }
    // By start; of two starting the same day, the one recorded last (stable sort).
    versions.sort_by_key(|v| v.agreement_start);
    let mut segments: Vec<&Agreement> = Vec::with_capacity(versions.len());
    for v in versions {
        match segments.last_mut() {
            Some(last) if last.agreement_start == v.agreement_start => *last = v,
            _ => segments.push(v),
        }
    }
    for (i, v) in segments.iter().enumerate() {
        let until = segments.get(i + 1).map(|n| n.agreement_start);
        out.extend(calendar_of_version(
            view,
            v,
            &stmts,
            until,
            first_activity,
            t,
        ));
    }
    out
}

/// The periods version `a` of an agreement governs: from its start, each ending before
/// `until` (the next version's start) and before the view's day.
fn calendar_of_version(
    view: &View<'_>,
    a: &Agreement,
    stmts: &[&crate::view::StmtRef<'_>],
    until: Option<backstock_domain::Date>,
    first_activity: backstock_domain::Date,
    t: &Thresholds,
) -> Vec<CalendarPeriod> {
    let as_of = view.as_of;
    let step = a.statement_frequency.months();
    // The periods follow the distributor's own statements: a quarterly distributor
    // signed on 2025-11-15 whose statements end in March, June, September and December
    // is owed its September statement, not one "ending October 31". The latest
    // statement that ends on a month's last day sets the grid (moved back by whole
    // periods to the agreement's start); without one, the agreement's start month does.
    let anchor = {
        let start_month = a.agreement_start.first_of_month();
        let from_statements = stmts
            .iter()
            .map(|s| s.st.period_end.add_days(1))
            .filter(|next| next.day() == 1 && until.is_none_or(|u| *next <= u))
            .max();
        match from_statements {
            Some(mut x) if step > 0 => {
                let mut guard = 0usize;
                while x > start_month && guard <= MAX_PERIODS {
                    x = x.add_months(-step);
                    guard += 1;
                }
                x
            }
            _ => start_month,
        }
    };
    let lag_days = crate::rhythm::expected_lag_days(view, a, t);
    let mut out = Vec::new();
    let mut start = a.agreement_start;
    let mut k: i32 = 1;
    // k counts every period walked, skipped or kept: the bound holds either way.
    while usize::try_from(k).unwrap_or(usize::MAX) <= MAX_PERIODS {
        let next = anchor.add_months(step.saturating_mul(k));
        let end = next.add_days(-1);
        if end < start || end >= as_of || until.is_some_and(|u| end >= u) {
            break;
        }
        if end < first_activity {
            if next <= start {
                break;
            }
            start = next;
            k = k.saturating_add(1);
            continue;
        }
        let expected_by = end.add_days(days_i32(lag_days));
        let covering = stmts
            .iter()
            .filter(|s| {
                let (ps, pe) = (s.st.period_start, s.st.period_end);
                (start <= pe && pe <= end) || (ps <= end && end <= pe)
            })
            .min_by_key(|s| (s.received_on(), s.seq));
        let (status, statement_id, received_on, days_late) = match covering {
            Some(s) => {
                let r = s.received_on();
                if r <= expected_by {
                    (
                        CalendarStatus::Received,
                        Some(s.st.statement_id.clone()),
                        Some(r),
                        None,
                    )
                } else {
                    (
                        CalendarStatus::Late,
                        Some(s.st.statement_id.clone()),
                        Some(r),
                        Some(i64::from(expected_by.days_until(r))),
                    )
                }
            }
            None if as_of > expected_by => (
                CalendarStatus::Missing,
                None,
                None,
                Some(i64::from(expected_by.days_until(as_of))),
            ),
            None => (CalendarStatus::NotYetDue, None, None, None),
        };
        out.push(CalendarPeriod {
            period_start: start,
            period_end: end,
            expected_by,
            status,
            statement_id,
            received_on,
            days_late,
        });
        if next <= start {
            break;
        }
        start = next;
        k = k.saturating_add(1);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testkit::*;
    use backstock_ledger::facts::StatementFrequency;

    fn base() -> Tl {
        let mut tl = Tl::new();
        tl.agreement(agreement("allegro", "2015-01-01"))
            .catalog("CD1", 950, 300)
            .make("2015-01-02", "CD1", 1000)
            .ship("SH1", "2015-01-10", "label", "allegro", "CD1", 100)
            .receipt("2015-01-12", "SH1", "allegro", "CD1", 100)
            .statement(
                "S1",
                "allegro",
                "2015-01-01",
                "2015-01-31",
                "2015-02-15",
                vec![sale("CD1", 10, 9_500), ret("CD1", 2, 1_900)],
            );
        tl
    }

    fn one(snap: &Snapshot) -> Reconciliation {
        let mut v = compute(snap, Some(&p("allegro")));
        assert_eq!(v.len(), 1);
        v.remove(0)
    }

    #[test]
    fn stock_report_is_a_balance_assertion() {
        let mut tl = base();
        tl.stock_report("allegro", "2015-01-20", "CD1", 100)
            .stock_report("allegro", "2015-02-01", "CD1", 80)
            // A corrected count for the same day replaces the first.
            .stock_report("allegro", "2015-02-01", "CD1", 85)
            .ship("SH2", "2015-02-10", "allegro", "label", "CD1", 20)
            .stock_report("allegro", "2015-02-15", "CD1", 72);
        let r = one(&tl.snap("2015-02-20"));
        let checks: Vec<_> = r
            .stock_checks
            .iter()
            .map(|c| {
                (
                    c.report_as_of.to_string(),
                    c.reported_units,
                    c.expected_units,
                    c.discrepancy_units,
                )
            })
            .collect();
        assert_eq!(
            checks,
            [
                ("2015-01-20".to_string(), 100, 100, 0),
                ("2015-02-01".to_string(), 85, 92, -7),
                ("2015-02-15".to_string(), 72, 72, 0),
            ]
        );
        assert_eq!(
            r.stock_checks[1].discrepancy_value.map(|m| m.minor()),
            Some(-7 * 950)
        );
        // The latest report (02-15) agrees with the books.
        assert_eq!(r.latest_discrepancy_units, 0);
    }

    #[test]
    fn unconfirmed_and_mismatched_receipts() {
        let mut tl = base();
        tl.ship("SH2", "2015-02-01", "label", "allegro", "CD1", 50)
            .ship("SH3", "2015-03-20", "label", "allegro", "CD1", 50)
            .ship("SH4", "2015-02-01", "label", "allegro", "CD1", 40)
            .receipt("2015-02-03", "SH4", "allegro", "CD1", 35);
        let r = one(&tl.snap("2015-04-01"));
        let ids: Vec<_> = r
            .unconfirmed_shipments
            .iter()
            .map(|s| (s.shipment_id.as_str(), s.days_since))
            .collect();
        assert_eq!(ids, [("SH2", 59)]);
        assert_eq!(r.receipt_mismatches.len(), 1);
        assert_eq!(r.receipt_mismatches[0].shipment_id, "SH4");
        assert_eq!(
            (
                r.receipt_mismatches[0].shipped_units,
                r.receipt_mismatches[0].confirmed_units
            ),
            (40, 35)
        );
    }

    #[test]
    fn sales_of_unshipped_skus_and_orphan_payments() {
        let mut tl = base();
        tl.statement(
            "S2",
            "allegro",
            "2015-02-01",
            "2015-02-28",
            "2015-03-15",
            // Digital sales move no units: never "unshipped".
            vec![
                sale("CD1", 5, 4_750),
                sale("LP9", 3, 6_000),
                digital("DL1", 100, 5_000),
            ],
        )
        .pay("P1", "2015-03-20", "allegro", usd(7_600), Some("S1"))
        .pay("P2", "2015-03-21", "allegro", usd(100), Some("S-99"));
        let r = one(&tl.snap("2015-04-01"));
        assert_eq!(r.unshipped_sales.len(), 1);
        assert_eq!(r.unshipped_sales[0].sku.as_str(), "LP9");
        assert_eq!(r.unshipped_sales[0].units, 3);
        assert_eq!(r.unshipped_sales[0].statement_id, "S2");
        assert_eq!(r.orphan_payments.len(), 1);
        assert_eq!(r.orphan_payments[0].statement_id, "S-99");
    }

    /// A quarterly distributor signed mid-November whose statements follow calendar
    /// quarters: the missing one is named by the quarter it covers (September), not by
    /// a grid counted from the signing month (October).
    #[test]
    fn a_quarterly_calendar_follows_the_statements_not_the_signing_month() {
        let mut tl = Tl::new();
        let mut a = agreement("pinebox", "2025-11-15");
        a.statement_frequency = StatementFrequency::Quarterly;
        tl.agreement(a);
        for (id, ps, pe, issued) in [
            ("Q4", "2025-10-01", "2025-12-31", "2026-01-20"),
            ("Q1", "2026-01-01", "2026-03-31", "2026-04-20"),
            ("Q2", "2026-04-01", "2026-06-30", "2026-07-20"),
        ] {
            tl.statement(id, "pinebox", ps, pe, issued, vec![]);
        }
        let cal = calendar(
            &tl.snap("2026-12-06"),
            &p("pinebox"),
            &Thresholds::default(),
        );
        let ends: Vec<String> = cal.iter().map(|c| c.period_end.to_string()).collect();
        assert_eq!(
            ends,
            ["2025-12-31", "2026-03-31", "2026-06-30", "2026-09-30"],
            "{cal:?}"
        );
        assert_eq!(cal[3].status, CalendarStatus::Missing);
        assert_eq!(cal[2].statement_id.as_deref(), Some("Q2"));
    }

    #[test]
    fn statement_calendar_received_late_missing_not_yet_due() {
        let mut tl = Tl::new();
        tl.agreement(agreement("allegro", "2015-01-01"))
            .statement(
                "S1",
                "allegro",
                "2015-01-01",
                "2015-01-31",
                "2015-02-15",
                vec![],
            )
            .statement(
                "S2",
                "allegro",
                "2015-02-01",
                "2015-02-28",
                "2015-04-20",
                vec![],
            );
        let cal = calendar(
            &tl.snap("2015-05-20"),
            &p("allegro"),
            &Thresholds::default(),
        );
        let got: Vec<_> = cal
            .iter()
            .map(|c| {
                (
                    c.period_end.to_string(),
                    c.expected_by.to_string(),
                    c.status,
                    c.days_late,
                )
            })
            .collect();
        use CalendarStatus::*;
        assert_eq!(
            got,
            [
                (
                    "2015-01-31".to_string(),
                    "2015-03-02".to_string(),
                    Received,
                    None
                ),
                (
                    "2015-02-28".to_string(),
                    "2015-03-30".to_string(),
                    Late,
                    Some(21)
                ),
                (
                    "2015-03-31".to_string(),
                    "2015-04-30".to_string(),
                    Missing,
                    Some(20)
                ),
                (
                    "2015-04-30".to_string(),
                    "2015-05-30".to_string(),
                    NotYetDue,
                    None
                ),
            ]
        );
        // The grace is configurable.
        let t = Thresholds {
            statement_grace_days: 60,
            ..Thresholds::default()
        };
        let cal = calendar(&tl.snap("2015-05-20"), &p("allegro"), &t);
        assert_eq!(cal[1].status, Received);
        assert_eq!(cal[2].status, NotYetDue);
    }

    #[test]
    fn statements_missing_under_an_earlier_agreement_stay_owed_after_a_new_one() {
        // Monthly until June, quarterly from July: March to June never came, and the
        // quarterly agreement does not forgive them.
        let mut tl = Tl::new();
        tl.monthly_then_quarterly("pivot");
        let cal = calendar(&tl.snap("2020-11-15"), &p("pivot"), &Thresholds::default());
        let got: Vec<_> = cal
            .iter()
            .map(|c| (c.period_end.to_string(), c.status))
            .collect();
        use CalendarStatus::*;
        let want: Vec<(String, CalendarStatus)> = [
            ("2020-01-31", Received),
            ("2020-02-29", Received),
            ("2020-03-31", Missing),
            ("2020-04-30", Missing),
            ("2020-05-31", Missing),
            ("2020-06-30", Missing),
            ("2020-09-30", Received),
        ]
        .into_iter()
        .map(|(d, s)| (d.to_string(), s))
        .collect();
        assert_eq!(got, want, "{cal:?}");
    }

    #[test]
    fn calendar_starts_at_the_first_stock_not_the_agreement() {
        // A new label's day one: an agreement dated a year back, the first box shipped
        // in October. Nothing is "missing" before that box.
        let mut tl = Tl::new();
        tl.agreement(agreement("allegro", "2015-01-01"));
        assert!(calendar(
            &tl.snap("2015-12-20"),
            &p("allegro"),
            &Thresholds::default()
        )
        .is_empty());
        tl.catalog("CD1", 1_000, 300)
            .ship("SH1", "2015-10-12", "label", "allegro", "CD1", 10);
        let cal = calendar(
            &tl.snap("2015-12-20"),
            &p("allegro"),
            &Thresholds::default(),
        );
        let ends: Vec<_> = cal.iter().map(|c| c.period_end.to_string()).collect();
        assert_eq!(ends, ["2015-10-31", "2015-11-30"]);
        // October's statement is now really overdue; November's is not yet due.
        assert_eq!(cal[0].status, CalendarStatus::Missing);
        assert_eq!(cal[1].status, CalendarStatus::NotYetDue);
    }

    #[test]
    fn quarterly_calendar_from_a_mid_month_start_matches_offset_quarters() {
        let mut a = agreement("allegro", "2015-02-15");
        a.statement_frequency = StatementFrequency::Quarterly;
        let mut tl = Tl::new();
        tl.agreement(a)
            // Calendar quarters, while the agreement's months would run Feb–Apr…
            .statement(
                "Q1",
                "allegro",
                "2015-01-01",
                "2015-03-31",
                "2015-04-20",
                vec![],
            )
            .statement(
                "Q2",
                "allegro",
                "2015-04-01",
                "2015-06-30",
                "2015-07-20",
                vec![],
            );
        let cal = calendar(
            &tl.snap("2015-12-01"),
            &p("allegro"),
            &Thresholds::default(),
        );
        let got: Vec<_> = cal
            .iter()
            .map(|c| {
                (
                    c.period_start.to_string(),
                    c.period_end.to_string(),
                    c.status,
                )
            })
            .collect();
        use CalendarStatus::*;
        assert_eq!(
            got,
            [
                // The statements' own quarters (the first cut at the agreement's
                // start), not the agreement's Feb–Apr, May–Jul…: the missing one is
                // named by the quarter it covers.
                ("2015-02-15".to_string(), "2015-03-31".to_string(), Received),
                ("2015-04-01".to_string(), "2015-06-30".to_string(), Received),
                ("2015-07-01".to_string(), "2015-09-30".to_string(), Missing),
            ]
        );
    }
}
