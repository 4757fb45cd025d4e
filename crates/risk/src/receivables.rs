//! What each distributor owes the label as of the snapshot's date, how late it is, and
//! the label's whole exposure to it.
//!
//! * Each statement falls due at `period_end + payment_terms_days` of the agreement in
//!   force on its period's end (terms renegotiated later apply to later periods only;
//!   reserves come back on that agreement's `reserve_release_days` too); its net due
//!   is [`backstock_ledger::Statement::net_due_minor`].
//! * Payments are applied as described in the `book` module: to the statement a payment
//!   names, then oldest open first; an overpayment stays as unapplied credit. Only
//!   payments in the snapshot count, so a payment received after the date never
//!   reduces that date's ageing.
//! * Ageing buckets by days past due of each open statement: current (not yet due),
//!   1–30, 31–60, 61–90, over 90.
//! * Reserve held = Σ reserve withheld − Σ reserve released; each withholding is due
//!   back at `period_end + reserve_release_days` (releases go to the oldest first).
//! * Exposure = unpaid net due (open − unapplied credit) + reserve held (if positive) +
//!   consigned units the distributor holds at catalog wholesale (also shown at unit
//!   cost; the latest catalog fact per SKU wins), against the agreement's credit limit.
//!
//! Money is in the agreement's currency. Statements and payments in other currencies
//! are reported in `other_currencies`, never converted, and do not enter the exposure.

use crate::book::{self, Book};
use crate::json::{self, permille, to_money};
use crate::view::{OfSnapshot, View};
use crate::Snapshot;
use backstock_domain::{Currency, Date, Money, PartyId, Sku};
use backstock_ledger::facts::Agreement;
use serde::Serialize;
use std::collections::BTreeMap;

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AppliedPayment {
    /// The payment id, or the credit note's statement id.
    pub payment_id: String,
    pub date: Date,
    #[serde(serialize_with = "json::money")]
    pub amount: Money,
    /// Cash, or a credit note (a statement whose net is negative).
    pub cash: bool,
    /// Days after the due date it was applied (negative = early).
    pub days_after_due: i64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct StatementStatus {
    pub statement_id: String,
    pub period_start: Date,
    pub period_end: Date,
    pub issued_on: Date,
    /// When the label received it (the entry's `known_on`).
    pub received_on: Date,
    pub due_on: Date,
    #[serde(serialize_with = "json::money")]
    pub net_due: Money,
    #[serde(serialize_with = "json::money")]
    pub paid: Money,
    /// Settled by credit notes rather than cash.
    #[serde(serialize_with = "json::money")]
    pub credited: Money,
    /// Deductions the label accepted on it.
    #[serde(serialize_with = "json::money")]
    pub deducted: Money,
    /// Written off by the label.
    #[serde(serialize_with = "json::money")]
    pub written_off: Money,
    #[serde(serialize_with = "json::money")]
    pub open: Money,
    /// Days past due as of the date, when something is still open (else 0).
    pub days_past_due: i64,
    /// When it was fully settled, and how many days after its due date.
    pub settled_on: Option<Date>,
    pub settled_days_late: Option<i64>,
    #[serde(serialize_with = "json::money")]
    pub reserve_withheld: Money,
    #[serde(serialize_with = "json::money")]
    pub reserve_released: Money,
    pub payments: Vec<AppliedPayment>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Ageing {
    #[serde(serialize_with = "json::money")]
    pub current: Money,
    #[serde(serialize_with = "json::money")]
    pub days_1_30: Money,
    #[serde(serialize_with = "json::money")]
    pub days_31_60: Money,
    #[serde(serialize_with = "json::money")]
    pub days_61_90: Money,
    #[serde(serialize_with = "json::money")]
    pub days_over_90: Money,
    #[serde(serialize_with = "json::money")]
    pub total: Money,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ReserveWithholding {
    pub statement_id: String,
    pub period_end: Date,
    #[serde(serialize_with = "json::money")]
    pub withheld: Money,
    #[serde(serialize_with = "json::money")]
    pub released: Money,
    #[serde(serialize_with = "json::money")]
    pub outstanding: Money,
    pub due_back: Date,
    /// Days past `due_back` with something still outstanding (else 0).
    pub days_overdue: i64,
}

/// Receivables in one currency.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CurrencyBook {
    pub currency: Currency,
    pub statements: Vec<StatementStatus>,
    pub ageing: Ageing,
    /// Σ open on statements.
    #[serde(serialize_with = "json::money")]
    pub open_balance: Money,
    /// Open and past its due date.
    #[serde(serialize_with = "json::money")]
    pub past_due: Money,
    /// Paid beyond every statement (negative: a payment reversed beyond what it paid).
    #[serde(serialize_with = "json::money")]
    pub unapplied_credit: Money,
    /// Open balance − unapplied credit.
    #[serde(serialize_with = "json::money")]
    pub net_receivable: Money,
    /// Days past due of the oldest open statement (0 if none).
    pub oldest_days_past_due: i64,
    /// Past-due balance weighted by days past due (0 if none).
    pub weighted_days_past_due: i64,
    /// Reserve withheld − released.
    #[serde(serialize_with = "json::money")]
    pub reserve_held: Money,
    pub reserves: Vec<ReserveWithholding>,
    /// Released beyond the withholdings seen (reserves withheld before backstock).
    #[serde(serialize_with = "json::money")]
    pub reserve_released_unmatched: Money,
    /// Cash received in this currency up to the date.
    #[serde(serialize_with = "json::money")]
    pub cash_received: Money,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct StockLine {
    pub sku: Sku,
    pub units: i64,
    #[serde(serialize_with = "json::money_opt")]
    pub wholesale_price: Option<Money>,
    #[serde(serialize_with = "json::money_opt")]
    pub at_wholesale: Option<Money>,
    #[serde(serialize_with = "json::money_opt")]
    pub at_cost: Option<Money>,
}

/// Consigned units the distributor holds, valued.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct StockHolding {
    pub units: i64,
    /// Units with no catalog price in the agreement currency (not valued).
    pub unpriced_units: i64,
    #[serde(serialize_with = "json::money")]
    pub at_wholesale: Money,
    #[serde(serialize_with = "json::money")]
    pub at_cost: Money,
    pub lines: Vec<StockLine>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Exposure {
    #[serde(serialize_with = "json::money")]
    pub unpaid: Money,
    #[serde(serialize_with = "json::money")]
    pub reserve_held: Money,
    #[serde(serialize_with = "json::money")]
    pub stock_at_wholesale: Money,
    #[serde(serialize_with = "json::money")]
    pub stock_at_cost: Money,
    /// unpaid + reserve held + stock at wholesale.
    #[serde(serialize_with = "json::money")]
    pub total: Money,
    /// unpaid + reserve held + stock at cost.
    #[serde(serialize_with = "json::money")]
    pub total_at_cost: Money,
    #[serde(serialize_with = "json::money")]
    pub credit_limit: Money,
    /// Total ÷ credit limit in per-mille; `None` when there is no limit (zero) or it is
    /// in another currency.
    pub limit_used_permille: Option<i64>,
    /// Credit limit − total (negative = over the limit); `None` as above.
    #[serde(serialize_with = "json::money_opt")]
    pub headroom: Option<Money>,
    pub over_limit: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DistributorReceivables {
    pub distributor: PartyId,
    pub as_of: Date,
    pub payment_terms_days: u32,
    pub reserve_release_days: u32,
    /// Receivables in the agreement's currency.
    #[serde(flatten)]
    pub book: CurrencyBook,
    pub stock: StockHolding,
    pub exposure: Exposure,
    /// Statements and payments in other currencies, each on its own, never converted.
    pub other_currencies: Vec<CurrencyBook>,
    /// Things that could not be counted (overflowing statements, prices in another
    /// currency, a limit in another currency…).
    pub warnings: Vec<String>,
}

/// Receivables per distributor with an agreement (one, if `only` is given).
pub fn compute(snap: &Snapshot, only: Option<&PartyId>) -> Vec<DistributorReceivables> {
    let view = View::of(snap);
    view.agreements
        .values()
        .filter(|a| !matches!(only, Some(d) if d != &a.distributor))
        .map(|a| for_agreement(snap, &view, a))
        .collect()
}

pub(crate) fn for_agreement(
    snap: &Snapshot,
    view: &View<'_>,
    a: &Agreement,
) -> DistributorReceivables {
    let d = &a.distributor;
    let primary = Book::build(
        view,
        d,
        a.currency,
        a.payment_terms_days,
        a.reserve_release_days,
    );
    let mut warnings = primary.warnings.clone();
    let book = currency_book(&primary);
    let mut other_currencies = Vec::new();
    for cur in book::currencies(view, d) {
        if cur == a.currency {
            continue;
        }
        let b = Book::build(view, d, cur, a.payment_terms_days, a.reserve_release_days);
        warnings.extend(b.warnings.iter().cloned());
        warnings.push(format!(
            "{} statements or payments in {cur} are reported separately (the agreement is in {})",
            d, a.currency
        ));
        other_currencies.push(currency_book(&b));
    }
    let stock = stock_holding(snap, view, d, a.currency, &mut warnings, true);
    let exposure = exposure(&primary, &stock, a, &mut warnings);
    DistributorReceivables {
        distributor: d.clone(),
        as_of: view.as_of,
        payment_terms_days: a.payment_terms_days,
        reserve_release_days: a.reserve_release_days,
        book,
        stock,
        exposure,
        other_currencies,
        warnings,
    }
}

fn currency_book(b: &Book<'_>) -> CurrencyBook {
    let cur = b.currency;
    let as_of = b.as_of;
    let mut buckets = [0i128; 5];
    let (mut past_due, mut weighted, mut oldest) = (0i128, 0i128, 0i64);
    let mut statements = Vec::with_capacity(b.stmts.len());
    for s in &b.stmts {
        let open = s.open();
        let dpd = s.days_past_due(as_of);
        if open > 0 {
            let i = match dpd {
                i64::MIN..=0 => 0,
                1..=30 => 1,
                31..=60 => 2,
                61..=90 => 3,
                _ => 4,
            };
            if let Some(slot) = buckets.get_mut(i) {
                *slot += open;
            }
            if dpd > 0 {
                past_due += open;
                weighted += open * i128::from(dpd);
                oldest = oldest.max(dpd);
            }
        }
        let settled_on = s.settled_on();
        statements.push(StatementStatus {
            statement_id: s.r.st.statement_id.clone(),
            period_start: s.r.st.period_start,
            period_end: s.r.st.period_end,
            issued_on: s.r.st.issued_on,
            received_on: s.r.received_on(),
            due_on: s.due_on,
            net_due: to_money(s.net, cur),
            paid: to_money(s.cash_applied(), cur),
            credited: to_money(s.credit_applied(), cur),
            deducted: to_money(s.applied_of(crate::book::AppKind::Deduction), cur),
            written_off: to_money(s.applied_of(crate::book::AppKind::WriteOff), cur),
            open: to_money(open, cur),
            days_past_due: if open > 0 { dpd.max(0) } else { 0 },
            settled_on,
            settled_days_late: settled_on.map(|d| i64::from(s.due_on.days_until(d))),
            reserve_withheld: to_money(s.reserve_withheld, cur),
            reserve_released: to_money(s.reserve_released, cur),
            payments: s
                .apps
                .iter()
                .filter(|a| a.amount != 0)
                .map(|a| AppliedPayment {
                    payment_id: a.payment_id.to_string(),
                    date: a.date,
                    amount: to_money(a.amount, cur),
                    cash: a.cash,
                    days_after_due: i64::from(s.due_on.days_until(a.date)),
                })
                .collect(),
        });
    }
    let open_total = b.open_total();
    let [current, d30, d60, d90, over] = buckets;
    CurrencyBook {
        currency: cur,
        statements,
        ageing: Ageing {
            current: to_money(current, cur),
            days_1_30: to_money(d30, cur),
            days_31_60: to_money(d60, cur),
            days_61_90: to_money(d90, cur),
            days_over_90: to_money(over, cur),
            total: to_money(open_total, cur),
        },
        open_balance: to_money(open_total, cur),
        past_due: to_money(past_due, cur),
        unapplied_credit: to_money(b.unapplied, cur),
        net_receivable: to_money(b.net_receivable(), cur),
        oldest_days_past_due: oldest,
        weighted_days_past_due: json::div_round(weighted, past_due).unwrap_or(0),
        reserve_held: to_money(b.reserve_held(), cur),
        reserves: b
            .withholdings
            .iter()
            .map(|w| {
                let outstanding = w.amount - w.released;
                ReserveWithholding {
                    statement_id: w.statement_id.to_string(),
                    period_end: w.period_end,
                    withheld: to_money(w.amount, cur),
                    released: to_money(w.released, cur),
                    outstanding: to_money(outstanding, cur),
                    due_back: w.due_back,
                    days_overdue: if outstanding > 0 {
                        i64::from(w.due_back.days_until(as_of)).max(0)
                    } else {
                        0
                    },
                }
            })
            .collect(),
        reserve_released_unmatched: to_money(b.released_unmatched, cur),
        cash_received: to_money(b.cash.iter().map(|c| c.amount).sum(), cur),
    }
}

/// At most this many SKUs are named in one warning about a distributor's stock; the
/// rest are counted ("and 118,201 more"): a label group's distributor can hold
/// hundreds of thousands of SKUs, and one sentence per SKU buried the receivables
/// under half a million lines. `reconcile` lists every SKU.
const SKUS_NAMED: usize = 5;

/// The SKUs of one kind of problem with a distributor's stock, named up to
/// [`SKUS_NAMED`] and counted beyond.
#[derive(Default)]
struct SkusNoted {
    named: Vec<String>,
    count: usize,
    units: i64,
}

impl SkusNoted {
    fn note(&mut self, sku: &Sku, units: i64) {
        if self.named.len() < SKUS_NAMED {
            self.named.push(format!("{sku} ({units})"));
        }
        self.count += 1;
        self.units = self.units.saturating_add(units);
    }
    /// "GEN-1 (-3), GEN-2 (-1) and 4 more", or `None` when nothing was noted.
    fn list(&self) -> Option<String> {
        if self.count == 0 {
            return None;
        }
        let more = self.count - self.named.len();
        let mut s = self.named.join(", ");
        if more > 0 {
            s.push_str(&format!(" and {more} more"));
        }
        Some(s)
    }
}

pub(crate) fn stock_holding(
    snap: &Snapshot,
    view: &View<'_>,
    d: &PartyId,
    cur: Currency,
    warnings: &mut Vec<String>,
    keep_lines: bool,
) -> StockHolding {
    let (mut units, mut unpriced, mut wholesale, mut cost) = (0i64, 0i64, 0i128, 0i128);
    let mut lines = Vec::new();
    let (mut negative, mut uncatalogued) = (SkusNoted::default(), SkusNoted::default());
    let mut other_currency: BTreeMap<Currency, SkusNoted> = BTreeMap::new();
    // The map is ordered by holder first: this distributor's holdings are one range.
    let held = snap
        .held
        .range((d.clone(), Sku::least())..)
        .take_while(|((holder, _), _)| holder == d);
    for ((_, sku), &n) in held {
        if n == 0 {
            continue;
        }
        units = units.saturating_add(n);
        let valued = n.max(0);
        if n < 0 {
            negative.note(sku, n);
        }
        let item = view.catalog.get(sku);
        let w = item
            .map(|i| i.wholesale_price)
            .filter(|m| m.currency() == cur);
        let c = item.map(|i| i.unit_cost).filter(|m| m.currency() == cur);
        match item {
            None => uncatalogued.note(sku, n),
            Some(i) if w.is_none() => other_currency
                .entry(i.wholesale_price.currency())
                .or_default()
                .note(sku, n),
            _ => {}
        }
        if w.is_none() {
            unpriced = unpriced.saturating_add(n);
        }
        let at_w = w.map(|m| i128::from(m.minor()) * i128::from(valued));
        let at_c = c.map(|m| i128::from(m.minor()) * i128::from(valued));
        wholesale = wholesale.saturating_add(at_w.unwrap_or(0));
        cost = cost.saturating_add(at_c.unwrap_or(0));
        // The early-warning signals read the totals only: a label group's
        // distributors hold 100,000 SKUs each, a line (and a SKU copied) apiece.
        if !keep_lines {
            continue;
        }
        lines.push(StockLine {
            sku: sku.clone(),
            units: n,
            wholesale_price: w,
            at_wholesale: at_w.map(|v| to_money(v, cur)),
            at_cost: at_c.map(|v| to_money(v, cur)),
        });
    }
    let skus = |n: usize| {
        if n == 1 {
            "1 SKU".to_string()
        } else {
            format!("{n} SKUs")
        }
    };
    if let Some(list) = negative.list() {
        warnings.push(format!(
            "{d} holds fewer than zero units of {} by the ledger (more sold than shipped, {} units in all: {list}); valued at zero",
            skus(negative.count),
            negative.units
        ));
    }
    if let Some(list) = uncatalogued.list() {
        warnings.push(format!(
            "{} at {d} have no catalog item and are not valued: {list}",
            skus(uncatalogued.count)
        ));
    }
    for (priced_in, noted) in &other_currency {
        if let Some(list) = noted.list() {
            warnings.push(format!(
                "{} at {d} are priced in {priced_in}, not {cur}, and are not valued: {list}",
                skus(noted.count)
            ));
        }
    }
    StockHolding {
        units,
        unpriced_units: unpriced,
        at_wholesale: to_money(wholesale, cur),
        at_cost: to_money(cost, cur),
        lines,
    }
}

pub(crate) fn exposure(
    b: &Book<'_>,
    stock: &StockHolding,
    a: &Agreement,
    warnings: &mut Vec<String>,
) -> Exposure {
    let cur = a.currency;
    let unpaid = b.net_receivable();
    let reserve = b.reserve_held().max(0);
    let w = i128::from(stock.at_wholesale.minor());
    let c = i128::from(stock.at_cost.minor());
    let total = unpaid + reserve + w;
    let limit = a.credit_limit;
    let comparable = limit.currency() == cur && limit.minor() > 0;
    if limit.currency() != cur {
        warnings.push(format!(
            "the credit limit is in {} but the agreement is in {cur}: not compared",
            limit.currency()
        ));
    }
    let lim = i128::from(limit.minor());
    Exposure {
        unpaid: to_money(unpaid, cur),
        reserve_held: to_money(reserve, cur),
        stock_at_wholesale: stock.at_wholesale,
        stock_at_cost: stock.at_cost,
        total: to_money(total, cur),
        total_at_cost: to_money(unpaid + reserve + c, cur),
        credit_limit: limit,
        limit_used_permille: if comparable {
            permille(total, lim)
        } else {
            None
        },
        headroom: comparable.then(|| to_money(lim - total, cur)),
        over_limit: comparable && total > lim,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testkit::*;
    use backstock_ledger::LineKind;

    /// Three monthly statements of 1000, 2000, 3000 USD; S1 paid 9 days late (named),
    /// 2000 paid unnamed on 2015-07-15.
    fn timeline() -> Tl {
        let mut tl = Tl::new();
        tl.agreement(agreement("allegro", "2015-01-01"))
            .statement(
                "S1",
                "allegro",
                "2015-01-01",
                "2015-01-31",
                "2015-02-15",
                vec![sale("CD1", 100, 100_000)],
            )
            .statement(
                "S2",
                "allegro",
                "2015-02-01",
                "2015-02-28",
                "2015-03-15",
                vec![sale("CD1", 200, 200_000)],
            )
            .statement(
                "S3",
                "allegro",
                "2015-03-01",
                "2015-03-31",
                "2015-04-15",
                vec![sale("CD1", 300, 300_000)],
            )
            .pay("P1", "2015-04-10", "allegro", usd(100_000), Some("S1"))
            .pay("P2", "2015-07-15", "allegro", usd(200_000), None);
        tl
    }

    fn one(snap: &Snapshot) -> DistributorReceivables {
        let mut v = compute(snap, Some(&p("allegro")));
        assert_eq!(v.len(), 1);
        v.remove(0)
    }

    /// Stock problems are one sentence per kind and distributor, naming a few SKUs
    /// and counting the rest, whatever the number of SKUs; another distributor's
    /// holdings are not counted.
    #[test]
    fn stock_warnings_name_a_few_skus_and_count_the_rest() {
        let mut tl = timeline();
        tl.catalog("CD1", 1000, 200);
        let mut snap = tl.snap("2015-06-30");
        for i in 0..12 {
            snap.held
                .insert((p("allegro"), sku(&format!("NEG-{i:02}"))), -2);
        }
        snap.held.insert((p("allegro"), sku("CD1")), 10);
        snap.held.insert((p("zz-other"), sku("NEG-00")), -50);
        let r = one(&snap);
        let negative: Vec<_> = r
            .warnings
            .iter()
            .filter(|w| w.contains("fewer than zero"))
            .collect();
        assert_eq!(
            negative,
            ["allegro holds fewer than zero units of 12 SKUs by the ledger (more sold than shipped, -24 units in all: NEG-00 (-2), NEG-01 (-2), NEG-02 (-2), NEG-03 (-2), NEG-04 (-2) and 7 more); valued at zero"]
        );
        let uncatalogued: Vec<_> = r
            .warnings
            .iter()
            .filter(|w| w.contains("no catalog item"))
            .collect();
        assert_eq!(uncatalogued.len(), 1, "{:?}", r.warnings);
        assert!(uncatalogued[0].starts_with("12 SKUs at allegro have no catalog item"));
        assert_eq!(r.stock.units, 10 - 24);
        assert_eq!(r.stock.at_wholesale.minor(), 10 * 1000);
        assert_eq!(r.stock.lines.len(), 13);
    }

    #[test]
    fn ageing_buckets_and_days_past_due() {
        let r = one(&timeline().snap("2015-06-30"));
        let s: Vec<_> = r
            .book
            .statements
            .iter()
            .map(|s| (s.statement_id.as_str(), s.due_on.to_string()))
            .collect();
        assert_eq!(
            s,
            [
                ("S1", "2015-04-01".into()),
                ("S2", "2015-04-29".into()),
                ("S3", "2015-05-30".into())
            ]
        );
        let s1 = &r.book.statements[0];
        assert_eq!(s1.open.minor(), 0);
        assert_eq!(s1.settled_on, Some(d("2015-04-10")));
        assert_eq!(s1.settled_days_late, Some(9));
        assert_eq!(r.book.statements[1].days_past_due, 62);
        assert_eq!(r.book.statements[2].days_past_due, 31);
        assert_eq!(r.book.ageing.current.minor(), 0);
        assert_eq!(r.book.ageing.days_1_30.minor(), 0);
        assert_eq!(r.book.ageing.days_31_60.minor(), 300_000);
        assert_eq!(r.book.ageing.days_61_90.minor(), 200_000);
        assert_eq!(r.book.ageing.days_over_90.minor(), 0);
        assert_eq!(r.book.open_balance.minor(), 500_000);
        assert_eq!(r.book.past_due.minor(), 500_000);
        assert_eq!(r.book.oldest_days_past_due, 62);
        // (200000×62 + 300000×31) / 500000 = 43.4
        assert_eq!(r.book.weighted_days_past_due, 43);
    }

    #[test]
    fn a_later_payment_does_not_change_an_earlier_dates_ageing() {
        let tl = timeline();
        let before = one(&tl.snap("2015-06-30"));
        let after = one(&tl.snap("2015-07-31"));
        // On 06-30 the label had not yet received P2: S2 is still 62 days past due.
        assert_eq!(before.book.statements[1].open.minor(), 200_000);
        assert_eq!(before.book.ageing.days_61_90.minor(), 200_000);
        assert_eq!(before.book.cash_received.minor(), 100_000);
        // On 07-31 P2 (unnamed) went to the oldest open statement, S2.
        assert_eq!(after.book.statements[1].open.minor(), 0);
        assert_eq!(after.book.statements[1].payments[0].payment_id, "P2");
        assert_eq!(after.book.statements[1].payments[0].days_after_due, 77);
        assert_eq!(after.book.ageing.days_61_90.minor(), 300_000);
        assert_eq!(after.book.open_balance.minor(), 300_000);
        // And the same snapshot built again gives the same answer (pure function).
        assert_eq!(before, one(&tl.snap("2015-06-30")));
    }

    #[test]
    fn named_payment_spills_to_oldest_then_credit() {
        let mut tl = timeline();
        tl.pay("P3", "2015-08-01", "allegro", usd(350_000), Some("S3"));
        let r = one(&tl.snap("2015-08-01"));
        assert_eq!(r.book.statements[2].open.minor(), 0);
        assert_eq!(r.book.unapplied_credit.minor(), 50_000);
        assert_eq!(r.book.net_receivable.minor(), -50_000);
        // A payment naming an unknown statement still goes to the oldest open one.
        let mut tl = timeline();
        tl.pay("P3", "2015-08-01", "allegro", usd(100_000), Some("nope"));
        let r = one(&tl.snap("2015-08-01"));
        assert_eq!(r.book.statements[2].open.minor(), 200_000);
        // A bounced payment takes back its application.
        tl.pay("P3-bounce", "2015-08-05", "allegro", usd(-100_000), None);
        let r = one(&tl.snap("2015-08-05"));
        assert_eq!(r.book.statements[2].open.minor(), 300_000);
    }

    #[test]
    fn credit_note_is_applied_but_is_not_cash() {
        let mut tl = Tl::new();
        tl.agreement(agreement("allegro", "2015-01-01"))
            .statement(
                "S1",
                "allegro",
                "2015-01-01",
                "2015-01-31",
                "2015-02-15",
                vec![sale("CD1", 100, 100_000)],
            )
            .statement(
                "S2",
                "allegro",
                "2015-02-01",
                "2015-02-28",
                "2015-03-15",
                vec![ret("CD1", 30, 30_000)],
            );
        let r = one(&tl.snap("2015-05-01"));
        assert_eq!(r.book.statements[0].open.minor(), 70_000);
        assert_eq!(r.book.statements[0].credited.minor(), 30_000);
        assert_eq!(r.book.statements[0].paid.minor(), 0);
        assert_eq!(r.book.statements[1].net_due.minor(), -30_000);
    }

    /// A distributor that takes a credit note off its next remittance and names the
    /// statement it pays: the note, first applied to the oldest open amount (an old
    /// short-pay residual), moves to that statement, which is then settled; the old
    /// residual is a deduction again, not money unpaid.
    #[test]
    fn a_credit_note_netted_against_a_named_statement_settles_it() {
        let mut tl = Tl::new();
        tl.agreement(agreement("allegro", "2015-01-01"))
            .statement(
                "S1",
                "allegro",
                "2015-01-01",
                "2015-01-31",
                "2015-02-15",
                vec![sale("CD1", 100, 100_000)],
            )
            // Paid 99 % of S1: 1,000 short.
            .pay("P1", "2015-03-20", "allegro", usd(99_000), Some("S1"))
            .statement(
                "CN",
                "allegro",
                "2015-02-01",
                "2015-02-28",
                "2015-03-25",
                vec![ret("CD1", 30, 30_000)],
            )
            .statement(
                "S3",
                "allegro",
                "2015-03-01",
                "2015-03-31",
                "2015-04-15",
                vec![sale("CD1", 50, 50_000)],
            );
        // Before the remittance, the note covers the oldest open amount first.
        let r = one(&tl.snap("2015-04-20"));
        assert_eq!(r.book.statements[0].open.minor(), 0);
        assert_eq!(r.book.statements[2].open.minor(), 21_000);
        // S3 paid net of the note (50,000 − 30,000), naming S3.
        tl.pay("P3", "2015-05-10", "allegro", usd(20_000), Some("S3"));
        let r = one(&tl.snap("2015-06-30"));
        let s1 = &r.book.statements[0];
        let s3 = &r.book.statements[2];
        assert_eq!((s3.statement_id.as_str(), s3.open.minor()), ("S3", 0));
        assert_eq!(s3.credited.minor(), 30_000);
        assert_eq!((s1.statement_id.as_str(), s1.open.minor()), ("S1", 1_000));
        assert_eq!(s1.credited.minor(), 0);
        // The residual is an open deduction (paid short), not unpaid money.
        let open =
            crate::deductions::compute(&tl.snap("2015-06-30"), &crate::Thresholds::default(), None);
        let on: Vec<(&str, i64)> = open
            .iter()
            .map(|x| (x.statement_id.as_str(), x.amount.minor()))
            .collect();
        assert_eq!(on, [("S1", 1_000)]);
    }

    /// The note first applied to the oldest open statement, which the distributor then
    /// pays in full naming it: the note makes room (floats as unapplied credit) and is
    /// netted by the next remittance that names its statement short by it.
    #[test]
    fn a_statement_paid_in_full_pushes_a_credit_note_off_it() {
        let mut tl = Tl::new();
        tl.agreement(agreement("allegro", "2015-01-01"))
            .statement(
                "S1",
                "allegro",
                "2015-01-01",
                "2015-01-31",
                "2015-02-15",
                vec![sale("CD1", 100, 100_000)],
            )
            .statement(
                "CN",
                "allegro",
                "2015-02-01",
                "2015-02-28",
                "2015-03-10",
                vec![ret("CD1", 30, 30_000)],
            )
            .statement(
                "S3",
                "allegro",
                "2015-03-01",
                "2015-03-31",
                "2015-04-15",
                vec![sale("CD1", 50, 50_000)],
            )
            .pay("P1", "2015-04-01", "allegro", usd(100_000), Some("S1"));
        let r = one(&tl.snap("2015-04-20"));
        let open = |r: &DistributorReceivables| -> Vec<i64> {
            r.book.statements.iter().map(|s| s.open.minor()).collect()
        };
        // S1 paid in full by cash; the note floats until a remittance takes it.
        assert_eq!(open(&r), [0, 0, 50_000]);
        assert_eq!(r.book.statements[0].paid.minor(), 100_000);
        assert_eq!(r.book.unapplied_credit.minor(), 30_000);
        tl.pay("P3", "2015-05-10", "allegro", usd(20_000), Some("S3"));
        let r = one(&tl.snap("2015-06-30"));
        assert_eq!(open(&r), [0, 0, 0]);
        assert_eq!(r.book.statements[2].credited.minor(), 30_000);
        assert_eq!(r.book.unapplied_credit.minor(), 0);
    }

    #[test]
    fn reserves_held_and_due_back() {
        let mut tl = Tl::new();
        tl.agreement(agreement("allegro", "2015-01-01"))
            .statement(
                "S1",
                "allegro",
                "2015-01-01",
                "2015-01-31",
                "2015-02-15",
                vec![
                    sale("CD1", 100, 100_000),
                    line(LineKind::ReserveWithheld, 20_000),
                ],
            )
            .statement(
                "S2",
                "allegro",
                "2015-02-01",
                "2015-02-28",
                "2015-03-15",
                vec![
                    sale("CD1", 10, 10_000),
                    line(LineKind::ReserveReleased, 5_000),
                ],
            );
        let r = one(&tl.snap("2015-09-01"));
        assert_eq!(r.book.statements[0].net_due.minor(), 80_000);
        assert_eq!(r.book.statements[1].net_due.minor(), 15_000);
        assert_eq!(r.book.reserve_held.minor(), 15_000);
        let w = &r.book.reserves[0];
        assert_eq!(w.statement_id, "S1");
        assert_eq!(w.due_back, d("2015-07-30"));
        assert_eq!(
            (
                w.withheld.minor(),
                w.released.minor(),
                w.outstanding.minor()
            ),
            (20_000, 5_000, 15_000)
        );
        assert_eq!(w.days_overdue, 33);
        assert_eq!(r.exposure.reserve_held.minor(), 15_000);
    }

    #[test]
    fn exposure_adds_unpaid_reserve_and_stock_against_the_limit() {
        let mut a = agreement("allegro", "2015-01-01");
        a.credit_limit = usd(200_000);
        let mut tl = Tl::new();
        tl.agreement(a)
            .catalog("CD1", 950, 300)
            .make("2015-01-02", "CD1", 1000)
            .ship("SH1", "2015-01-05", "label", "allegro", "CD1", 100)
            .statement(
                "S1",
                "allegro",
                "2015-01-01",
                "2015-01-31",
                "2015-02-15",
                vec![
                    sale("CD1", 10, 9_500),
                    line(LineKind::ReserveWithheld, 1_900),
                ],
            );
        let r = one(&tl.snap("2015-03-01"));
        assert_eq!(r.stock.units, 90);
        assert_eq!(r.stock.at_wholesale.minor(), 90 * 950);
        assert_eq!(r.stock.at_cost.minor(), 90 * 300);
        let e = &r.exposure;
        assert_eq!(e.unpaid.minor(), 7_600);
        assert_eq!(e.reserve_held.minor(), 1_900);
        assert_eq!(e.total.minor(), 7_600 + 1_900 + 85_500);
        assert_eq!(e.total_at_cost.minor(), 7_600 + 1_900 + 27_000);
        assert_eq!(e.limit_used_permille, Some(475));
        assert_eq!(e.headroom.map(|m| m.minor()), Some(200_000 - 95_000));
        assert!(!e.over_limit);
    }

    #[test]
    fn other_currencies_are_separate_and_not_converted() {
        let mut tl = timeline();
        tl.statement_in(
            "E1",
            "allegro",
            "2015-01-01",
            "2015-01-31",
            "2015-02-15",
            eur(0).currency(),
            vec![sale("CD1", 10, 77_700)],
        );
        let r = one(&tl.snap("2015-06-30"));
        assert_eq!(r.book.open_balance.minor(), 500_000);
        assert_eq!(r.other_currencies.len(), 1);
        assert_eq!(r.other_currencies[0].currency.code(), "EUR");
        assert_eq!(r.other_currencies[0].open_balance.minor(), 77_700);
        assert_eq!(r.exposure.unpaid.minor(), 500_000);
        assert!(r.warnings.iter().any(|w| w.contains("EUR")));
    }

    #[test]
    fn corrected_statement_is_ignored_and_json_has_decimal_amounts() {
        let mut tl = timeline();
        let target = tl.entries[3].id.clone(); // S3
        tl.push(
            d("2015-05-01"),
            d("2015-05-01"),
            backstock_ledger::Event::Correction {
                reverses: target,
                reason: "duplicate".into(),
                postings: vec![],
            },
        );
        let r = one(&tl.snap("2015-06-30"));
        assert_eq!(r.book.statements.len(), 2);
        let json = serde_json::to_value(&r).unwrap();
        assert_eq!(json["open_balance"]["amount"], "2000.00");
        assert_eq!(json["open_balance"]["amount_minor"], 200_000);
        assert_eq!(json["open_balance"]["currency"], "USD");
        assert_eq!(json["currency"], "USD");
        assert_eq!(json["ageing"]["days_61_90"]["amount"], "2000.00");
    }
}
