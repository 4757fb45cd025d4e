//! When a distributor has failed: the `insolvent` signal (critical: the distributor is
//! in default everywhere — risk level, credit hold, royalties' earned-vs-collected) and
//! the deadlines that run from the petition (or the event, outside bankruptcy), each
//! computed as data with the rule it comes from.
//!
//! The rules ([`RULES`]) are information for the label and its lawyer, **not legal
//! advice**: courts set the claims bar date, and outside bankruptcy (an assignment for
//! the benefit of creditors, a receivership, an out-of-court liquidation) the
//! bankruptcy-only rules do not apply as such, though the same facts are asked for.
//!
//! Windows count calendar days and include both ends: goods received "in the 45 days
//! before the petition" are those delivered from `petition − 45 days` through the
//! petition date. A delivery is dated by its receipt when the distributor confirmed
//! receiving it (`confirm-receipt --on`), otherwise by its shipment.

use crate::signals::{Signal, SignalCode};
use crate::view::{OfSnapshot, View};
use crate::{Level, Snapshot, Thresholds};
use backstock_domain::{Date, Money, PartyId, Sku};
use backstock_ledger::facts::{Demand, DemandKind, DemandOutcome, Insolvency, InsolvencyKind};
use serde::Serialize;
use std::collections::BTreeMap;

/// A rule a deadline or window comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Rule {
    /// Stable code (`reclamation_demand`, …).
    pub code: &'static str,
    pub title: &'static str,
    /// The rule in one or two sentences.
    pub rule: &'static str,
    /// Where it comes from.
    pub source: &'static str,
    /// Whether it applies only in a bankruptcy case.
    pub bankruptcy_only: bool,
}

/// Days before the petition whose deliveries may be reclaimed.
pub const RECLAMATION_WINDOW_DAYS: i32 = 45;
/// Days after the petition to make the written reclamation demand.
pub const RECLAMATION_DEMAND_DAYS: i32 = 20;
/// Days before the petition whose deliveries are an administrative expense.
pub const ADMIN_WINDOW_DAYS: i32 = 20;
/// Days before the petition whose payments a trustee may try to recover.
pub const PREFERENCE_WINDOW_DAYS: i32 = 90;
/// Deadlines this close are `due_soon` (and raised as alerts).
pub const DUE_SOON_DAYS: i32 = 14;

/// The rules, in the order a label acts on them.
pub const RULES: [Rule; 6] = [
    Rule {
        code: "reclamation_demand",
        title: "Reclamation demand",
        rule: "A seller may reclaim goods the debtor received while insolvent in the 45 days before the petition, by written demand within 45 days of receipt or, if that period runs out after the petition, within 20 days after the petition.",
        source: "UCC 2-702; 11 U.S.C. §546(c)",
        bankruptcy_only: false,
    },
    Rule {
        code: "admin_claim_503b9",
        title: "§503(b)(9) administrative claim",
        rule: "The value of goods the debtor received in the 20 days before the petition is an administrative expense, paid ahead of general unsecured claims; file it by the deadline the court sets (often the claims bar date).",
        source: "11 U.S.C. §503(b)(9)",
        bankruptcy_only: true,
    },
    Rule {
        code: "claims_bar_date",
        title: "Proof of claim",
        rule: "File the claim (Official Form 410 in bankruptcy; the assignee's or receiver's form otherwise): the amount owed as of the petition date, the part claimed as secured and on what, the §503(b)(9) amount, with the supporting documents, by the claims bar date.",
        source: "Fed. R. Bankr. P. 3002, 3003; Official Form 410; the assignment or receivership order",
        bankruptcy_only: false,
    },
    Rule {
        code: "ucc1_lapse",
        title: "UCC-1 lapse",
        rule: "A financing statement lapses five years after filing; a continuation can be filed only in the six months before lapse. Keep the label perfected while the estate holds its goods.",
        source: "UCC 9-515",
        bankruptcy_only: false,
    },
    Rule {
        code: "open_demand",
        title: "Return or transfer demand",
        rule: "A demand to return or transfer the label's stock that is unanswered or refused: the label's goods are being held; follow up in writing, or claim them.",
        source: "UCC 9-319, 9-324(b); the distribution agreement",
        bankruptcy_only: false,
    },
    Rule {
        code: "preference_window",
        title: "Preference window (information)",
        rule: "Payments the label received in the 90 days before the petition may be claimed back by a trustee as preferences (defences: ordinary course, new value).",
        source: "11 U.S.C. §547",
        bankruptcy_only: true,
    },
];

/// The rule with this code.
pub fn rule(code: &str) -> Option<&'static Rule> {
    RULES.iter().find(|r| r.code == code)
}

/// Where a deadline stands on the report's date.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum DeadlineStatus {
    /// Past its date.
    Passed,
    /// Within [`DUE_SOON_DAYS`].
    DueSoon,
    Open,
    /// No date on record (a claims bar date not yet set, a demand unanswered).
    NotSet,
    /// Information only (nothing to do by a date).
    Info,
    /// Done in time: a written demand on record made by its date.
    Met,
}

impl DeadlineStatus {
    pub fn as_str(&self) -> &'static str {
        match self {
            DeadlineStatus::Passed => "passed",
            DeadlineStatus::DueSoon => "due soon",
            DeadlineStatus::Open => "open",
            DeadlineStatus::NotSet => "not set",
            DeadlineStatus::Info => "information",
            DeadlineStatus::Met => "met",
        }
    }
}

/// One deadline, computed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Deadline {
    pub code: &'static str,
    pub title: &'static str,
    /// What it is about, with the numbers.
    pub what: String,
    pub due_on: Option<Date>,
    /// Days from the report's date to `due_on` (negative: passed).
    pub days_left: Option<i64>,
    pub status: DeadlineStatus,
    pub rule: &'static str,
    pub source: &'static str,
    /// A bankruptcy-only rule recorded for an event outside bankruptcy.
    pub bankruptcy_only: bool,
}

/// A delivery to the distributor in a window before the petition.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct WindowDelivery {
    pub shipment_id: String,
    pub date: Date,
    pub sku: Sku,
    pub units: u64,
    pub po_number: Option<String>,
    /// Confirmed received (a receipt confirmation on record).
    pub receipt_confirmed: bool,
    /// The day it was confirmed received, which dates the delivery in the windows.
    pub received_on: Option<Date>,
    pub value_at_cost: Option<Money>,
    pub value_at_wholesale: Option<Money>,
    /// Within 20 days before the petition (also in the 45-day window).
    pub in_20_days: bool,
}

/// Totals of a window.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct WindowTotal {
    pub days: i32,
    pub from: Date,
    pub to: Date,
    pub units: u64,
    pub value_at_cost: Money,
    pub value_at_wholesale: Money,
}

/// A payment received in the preference window.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PreferencePayment {
    pub payment_id: String,
    pub date: Date,
    pub amount: Money,
    pub statement_id: Option<String>,
    pub days_before_petition: i64,
}

/// A failed distributor, as of the snapshot's date.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct InsolvencyReport {
    pub distributor: PartyId,
    pub as_of: Date,
    pub insolvency: Insolvency,
    /// The date the windows run back from: the petition, else the event.
    pub basis_date: Date,
    pub deliveries: Vec<WindowDelivery>,
    pub window_20: WindowTotal,
    pub window_45: WindowTotal,
    pub preference_payments: Vec<PreferencePayment>,
    pub preference_total: Money,
    pub deadlines: Vec<Deadline>,
}

/// The `insolvent` signal for `d`, if a failure is on record (critical).
pub(crate) fn signal(view: &View<'_>, d: &PartyId) -> Option<Signal> {
    let x = view.insolvency_of(d)?;
    Some(Signal {
        code: SignalCode::Insolvent,
        level: Level::Critical,
        message: sentence(x),
        value: x.kind.as_str().to_string(),
    })
}

/// "Insolvent: an out-of-court liquidation on 2016-06-03 (case …) …".
pub fn sentence(x: &Insolvency) -> String {
    let what = match (x.kind, x.petition_date) {
        // The failure first, then the petition: never "a petition on D1, petition D2".
        (backstock_ledger::facts::InsolvencyKind::Bankruptcy, Some(p)) if p != x.on => {
            format!("failed on {}, {} on {p}", x.on, x.kind.describe())
        }
        (_, Some(p)) if p != x.on => format!("{} on {}, petition {p}", x.kind.describe(), x.on),
        _ => format!("{} on {}", x.kind.describe(), x.on),
    };
    let case = x
        .case
        .as_deref()
        .map(|c| format!(" ({c})"))
        .unwrap_or_default();
    format!(
        "Insolvent: {what}{case}. In default: no shipments, its stock is at risk and what it owes is a claim."
    )
}

fn days(n: i32) -> i64 {
    i64::from(n)
}

fn status_of(as_of: Date, due: Option<Date>) -> (Option<i64>, DeadlineStatus) {
    match due {
        None => (None, DeadlineStatus::NotSet),
        Some(d) => {
            let left = i64::from(as_of.days_until(d));
            let st = if left < 0 {
                DeadlineStatus::Passed
            } else if left <= days(DUE_SOON_DAYS) {
                DeadlineStatus::DueSoon
            } else {
                DeadlineStatus::Open
            };
            (Some(left), st)
        }
    }
}

/// Money in a deadline's sentence, grouped as every other sentence of the risk
/// computations says it (`12,480.00 USD`).
fn money_line(m: Money) -> String {
    crate::json::human(m)
}

fn add(a: Money, b: Option<Money>) -> Money {
    match b {
        Some(b) => a.checked_add(b).unwrap_or(a),
        None => a,
    }
}

/// How far the return demands on record reach the deliveries of the reclamation
/// window ([`reclamation_cover`]).
#[derive(Debug, Default)]
struct Cover {
    /// The demands that reach some of them: id, day, how sent, units reached.
    by: Vec<(String, Date, String, u64)>,
    /// Units reached in all.
    units: u64,
    /// What no demand reaches, per SKU (received after the last demand, or of a SKU
    /// or beyond the units no demand names).
    left: BTreeMap<Sku, u64>,
}

impl Cover {
    /// Every unit delivered in the window is demanded back (none delivered: a demand
    /// on record is enough).
    fn met(&self, delivered: u64) -> bool {
        !self.by.is_empty() && (self.units >= delivered || delivered == 0)
    }

    /// " — met by demand …", " — demand … names N of these units; not demanded: …",
    /// or nothing without a demand.
    fn sentence(&self, delivered: u64) -> String {
        let by = self
            .by
            .iter()
            .map(|(id, on, via, _)| format!("{id} made {on} ({via})"))
            .collect::<Vec<_>>();
        let (one, many) = ("demand", "demands");
        let named =
            |v: &[String]| format!("{} {}", if v.len() == 1 { one } else { many }, v.join(", "));
        if self.by.is_empty() {
            return String::new();
        }
        if self.met(delivered) {
            return format!(" — met by {}", named(&by));
        }
        let left: u64 = self.left.values().sum();
        let mut list: Vec<String> = self
            .left
            .iter()
            .take(5)
            .map(|(sku, n)| format!("{sku} {n}"))
            .collect();
        if self.left.len() > 5 {
            list.push(format!("and {} more SKUs", self.left.len() - 5));
        }
        format!(
            " — {} reach{} {} of these {delivered} units; {left} are not demanded yet ({}): a written demand naming them is still due",
            named(&by),
            if by.len() == 1 { "es" } else { "" },
            self.units,
            list.join(", ")
        )
    }
}

/// Which deliveries of the reclamation window the return demands reach: a demand
/// reaches goods received by the day it was made (a demand cannot ask back what was
/// not yet delivered), of the SKU it names or of every SKU, up to the units it names.
/// Demands are taken in the order made, each reaching the earliest deliveries first.
fn reclamation_cover(deliveries: &[WindowDelivery], demands: &[&Demand]) -> Cover {
    let mut left: Vec<(Date, &Sku, u64)> = deliveries
        .iter()
        .map(|x| (x.received_on.unwrap_or(x.date), &x.sku, x.units))
        .collect();
    left.sort_by_key(|(on, _, _)| *on);
    let mut demands = demands.to_vec();
    demands.sort_by_key(|m| m.made_on);
    let mut cover = Cover::default();
    for m in demands {
        let mut room = m.units.unwrap_or(u64::MAX);
        let mut reached = 0u64;
        for (on, sku, n) in left.iter_mut() {
            if room == 0 {
                break;
            }
            if *on > m.made_on || m.sku.as_ref().is_some_and(|s| s != *sku) || *n == 0 {
                continue;
            }
            let take = (*n).min(room);
            *n -= take;
            room -= take;
            reached = reached.saturating_add(take);
        }
        if reached > 0 || deliveries.is_empty() {
            cover.units = cover.units.saturating_add(reached);
            cover
                .by
                .push((m.demand_id.clone(), m.made_on, m.via.clone(), reached));
        }
    }
    for (_, sku, n) in left {
        if n > 0 {
            *cover.left.entry(sku.clone()).or_default() += n;
        }
    }
    cover
}

/// The report for `d`, if a failure is on record on the snapshot's date.
pub fn report(snap: &Snapshot, d: &PartyId, t: &Thresholds) -> Option<InsolvencyReport> {
    let view = View::of(snap);
    let x = view.insolvency_of(d)?.clone();
    let agreement = view.agreements.get(d);
    let currency = agreement
        .map(|a| a.currency)
        .unwrap_or(backstock_domain::Currency::USD);
    let zero = Money::zero(currency);
    let basis = x.petition_or_event();
    let as_of = snap.as_of;
    let from45 = basis.add_days(-RECLAMATION_WINDOW_DAYS);
    let from20 = basis.add_days(-ADMIN_WINDOW_DAYS);
    let mut deliveries = Vec::new();
    for s in view
        .shipments_to(d)
        .filter(|s| s.from.is_label() && s.date <= basis)
    {
        // The law counts goods *received* in the window: a confirmed receipt dates the
        // delivery, else its shipment does.
        let received_on = view
            .receipts
            .iter()
            .filter(|r| {
                r.reversed.is_none()
                    && r.shipment_id == s.shipment_id
                    && &r.distributor == d
                    && &r.sku == s.sku
            })
            .map(|r| r.entry.effective_on)
            .min();
        let delivered = received_on.unwrap_or(s.date);
        if delivered < from45 || delivered > basis {
            continue;
        }
        let item = view.catalog.get(s.sku);
        let units = i64::try_from(s.units).unwrap_or(i64::MAX);
        let value = |m: Option<Money>| {
            m.filter(|m| m.currency() == currency)
                .and_then(|m| m.checked_mul_units(units).ok())
        };
        deliveries.push(WindowDelivery {
            shipment_id: s.shipment_id.to_string(),
            date: s.date,
            sku: s.sku.clone(),
            units: s.units,
            po_number: s.po_number.map(str::to_string),
            receipt_confirmed: view
                .receipts
                .iter()
                .any(|r| r.shipment_id == s.shipment_id && &r.distributor == d),
            received_on,
            value_at_cost: value(item.map(|i| i.unit_cost)),
            value_at_wholesale: value(item.map(|i| i.wholesale_price)),
            in_20_days: delivered >= from20,
        });
    }
    let total = |days: i32, from: Date, only20: bool| {
        let mut w = WindowTotal {
            days,
            from,
            to: basis,
            units: 0,
            value_at_cost: zero,
            value_at_wholesale: zero,
        };
        for x in deliveries.iter().filter(|x| !only20 || x.in_20_days) {
            w.units = w.units.saturating_add(x.units);
            w.value_at_cost = add(w.value_at_cost, x.value_at_cost);
            w.value_at_wholesale = add(w.value_at_wholesale, x.value_at_wholesale);
        }
        w
    };
    let window_45 = total(RECLAMATION_WINDOW_DAYS, from45, false);
    let window_20 = total(ADMIN_WINDOW_DAYS, from20, true);
    let from90 = basis.add_days(-PREFERENCE_WINDOW_DAYS);
    let preference_payments: Vec<PreferencePayment> = view
        .payments_of(d)
        .filter(|p| p.date >= from90 && p.date <= basis)
        .map(|p| PreferencePayment {
            payment_id: p.payment_id.to_string(),
            date: p.date,
            amount: p.amount,
            statement_id: p.statement_id.map(str::to_string),
            days_before_petition: i64::from(p.date.days_until(basis)),
        })
        .collect();
    let preference_total = preference_payments
        .iter()
        .filter(|p| p.amount.currency() == currency)
        .fold(zero, |a, p| add(a, Some(p.amount)));

    let bankruptcy = x.kind == InsolvencyKind::Bankruptcy;
    let mut deadlines = Vec::new();
    // `fixed`: a status that does not come from a date (open demands, information).
    let mut push =
        |code: &'static str, what: String, due: Option<Date>, fixed: Option<DeadlineStatus>| {
            let Some(r) = rule(code) else { return };
            let (left, st) = status_of(as_of, due);
            deadlines.push(Deadline {
                code,
                title: r.title,
                what,
                due_on: due,
                days_left: left,
                status: fixed.unwrap_or(st),
                rule: r.rule,
                source: r.source,
                bankruptcy_only: r.bankruptcy_only && !bankruptcy,
            });
        };
    // A demand is due within 45 days of receipt, or within 20 days after the petition
    // when those 45 days run out *after* it. Goods received exactly 45 days before the
    // petition have their 45 days end on the petition day itself — not after it — so
    // their demand was due that day, not 20 days later.
    let first_day_units: u64 = deliveries
        .iter()
        .filter(|x| x.received_on.unwrap_or(x.date) == from45)
        .fold(0u64, |a, x| a.saturating_add(x.units));
    let demand_by = basis.add_days(RECLAMATION_DEMAND_DAYS);
    // A written demand for the goods back (the demand log's return demands) made by
    // then is the demand the rule asks for.
    // The deadline actually due: the petition day itself when every delivery's 45
    // days ended on it.
    let due_on = if first_day_units == window_45.units && first_day_units > 0 {
        basis
    } else {
        demand_by
    };
    // Demands about these deliveries: made from the window's start (an old routine
    // demand is not one) to the deadline. Each reaches the deliveries received by the
    // day it was made, of the SKU it names (or all), up to the units it names.
    let demands: Vec<&Demand> = view
        .demands
        .iter()
        .filter(|m| {
            &m.distributor == d
                && m.kind == DemandKind::Return
                && m.made_on >= from45
                && m.made_on <= due_on
        })
        .map(|m| m.item)
        .collect();
    let cover = reclamation_cover(&deliveries, &demands);
    let first_day = if first_day_units > 0 {
        format!(
            " ({first_day_units} of them received on {from45}, 45 days before: their 45 days ended on {basis}, so their demand was due by {basis})"
        )
    } else {
        String::new()
    };
    push(
        "reclamation_demand",
        format!(
            "{} units delivered {}..{} ({} at cost, {} at wholesale): written demand by {demand_by}{first_day}{}",
            window_45.units,
            from45,
            basis,
            money_line(window_45.value_at_cost),
            money_line(window_45.value_at_wholesale),
            cover.sentence(window_45.units),
        ),
        Some(due_on),
        cover.met(window_45.units).then_some(DeadlineStatus::Met),
    );
    push(
        "admin_claim_503b9",
        format!(
            "{} units delivered {}..{}: {} at wholesale ({} at cost); file by {}",
            window_20.units,
            from20,
            basis,
            money_line(window_20.value_at_wholesale),
            money_line(window_20.value_at_cost),
            x.claims_bar_date
                .map(|d| d.to_string())
                .unwrap_or_else(|| "the date the court sets (not on record)".into())
        ),
        x.claims_bar_date,
        None,
    );
    push(
        "claims_bar_date",
        match x.claims_bar_date {
            Some(b) => format!("proof of claim due {b}"),
            None => "no claims bar date on record yet (insolvency add --claims-bar-date)".into(),
        },
        x.claims_bar_date,
        None,
    );
    if let Some(a) = agreement {
        let legal = crate::legal::for_agreement(&view, a, t);
        let what = match (&legal.current, legal.lapse_on) {
            (Some(f), Some(l)) => format!(
                "UCC-1 {} ({}) lapses {l}; continuation window opens {}",
                f.file_number,
                f.state,
                legal
                    .continuation_window_opens
                    .map(|d| d.to_string())
                    .unwrap_or_default()
            ),
            _ => format!("no UCC-1 in force ({})", legal.status.as_str()),
        };
        push("ucc1_lapse", what, legal.lapse_on, None);
    }
    for dm in view.demands.iter().filter(|x| &x.distributor == d) {
        let answer = view
            .responses
            .iter()
            .filter(|r| r.demand_id == dm.demand_id)
            .max_by_key(|r| r.answered_on);
        let what = match answer {
            None => format!(
                "demand {} of {} ({}) unanswered after {} days",
                dm.demand_id,
                dm.made_on,
                dm.via,
                dm.made_on.days_until(as_of)
            ),
            Some(r) if r.outcome == DemandOutcome::Complied => continue,
            Some(r) => format!(
                "demand {} of {} {} on {}: {}",
                dm.demand_id,
                dm.made_on,
                match r.outcome {
                    DemandOutcome::Refused => "refused",
                    _ => "partly complied with",
                },
                r.answered_on,
                r.note
            ),
        };
        push("open_demand", what, None, Some(DeadlineStatus::Open));
    }
    push(
        "preference_window",
        format!(
            "{} payment(s) received {}..{}: {}",
            preference_payments.len(),
            from90,
            basis,
            money_line(preference_total)
        ),
        None,
        Some(DeadlineStatus::Info),
    );
    Some(InsolvencyReport {
        distributor: d.clone(),
        as_of,
        insolvency: x,
        basis_date: basis,
        deliveries,
        window_20,
        window_45,
        preference_payments,
        preference_total,
        deadlines,
    })
}

/// Reports for every distributor with a failure on record.
pub fn reports(snap: &Snapshot, t: &Thresholds) -> Vec<InsolvencyReport> {
    let view = View::of(snap);
    let mut ds: Vec<&PartyId> = view.insolvencies.iter().map(|x| &x.distributor).collect();
    ds.sort();
    ds.dedup();
    ds.into_iter().filter_map(|d| report(snap, d, t)).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testkit::{self as k, Tl};
    use backstock_ledger::facts::Fact;

    fn failed(kind: InsolvencyKind, petition: Option<&str>) -> Tl {
        let mut tl = Tl::new();
        tl.agreement(k::agreement("acme", "2015-01-01"))
            .catalog("A-1", 800, 110)
            .make("2015-01-02", "A-1", 1000)
            .ship("S1", "2016-03-01", "label", "acme", "A-1", 100)
            .ship("S2", "2016-05-01", "label", "acme", "A-1", 30)
            .ship("S3", "2016-05-25", "label", "acme", "A-1", 10)
            .pay("P1", "2016-04-15", "acme", k::usd(5000), None)
            .pay("P2", "2016-01-02", "acme", k::usd(7000), None)
            .fact(
                "2016-06-03",
                Fact::Insolvency(Insolvency {
                    distributor: k::p("acme"),
                    kind,
                    on: k::d("2016-06-03"),
                    petition_date: petition.map(k::d),
                    case: Some("Bankr. D. Or. 16-30001".into()),
                    claims_bar_date: Some(k::d("2016-09-30")),
                    contact: None,
                }),
            );
        tl
    }

    #[test]
    fn windows_deadlines_and_the_signal_run_from_the_petition() {
        let tl = failed(InsolvencyKind::Bankruptcy, Some("2016-06-03"));
        let snap = tl.snap("2016-06-10");
        let r = report(&snap, &k::p("acme"), &Thresholds::default()).unwrap();
        // 45 days back: 2016-04-19..2016-06-03 holds S2 and S3; 20 days: S3 only.
        assert_eq!((r.window_45.units, r.window_20.units), (40, 10));
        assert_eq!(r.window_45.value_at_wholesale, k::usd(40 * 800));
        assert_eq!(r.window_20.value_at_cost, k::usd(10 * 110));
        // 90 days back: P1 (2016-04-15) only.
        assert_eq!(r.preference_total, k::usd(5000));
        let due = |code: &str| r.deadlines.iter().find(|x| x.code == code).unwrap();
        assert_eq!(due("reclamation_demand").due_on, Some(k::d("2016-06-23")));
        assert_eq!(due("reclamation_demand").status, DeadlineStatus::DueSoon);
        assert_eq!(due("claims_bar_date").due_on, Some(k::d("2016-09-30")));
        assert_eq!(due("admin_claim_503b9").due_on, Some(k::d("2016-09-30")));
        assert!(!due("admin_claim_503b9").bankruptcy_only);
        assert_eq!(due("preference_window").status, DeadlineStatus::Info);
        // In default: critical with its sentence.
        let a = crate::signals::assess(&snap, &Thresholds::default());
        let acme = a.iter().find(|x| x.distributor == k::p("acme")).unwrap();
        assert_eq!(acme.level, Level::Critical);
        let s = acme
            .signals
            .iter()
            .find(|s| s.code == SignalCode::Insolvent)
            .unwrap();
        assert!(s
            .message
            .contains("a bankruptcy petition on 2016-06-03 (Bankr. D. Or. 16-30001)"));
        // Before the event nothing of it shows.
        let before = tl.snap("2016-06-02");
        assert!(report(&before, &k::p("acme"), &Thresholds::default()).is_none());
        assert!(crate::signals::assess(&before, &Thresholds::default())
            .iter()
            .flat_map(|a| a.signals.iter())
            .all(|s| s.code != SignalCode::Insolvent));
    }

    /// Goods received exactly 45 days before the petition are in the window, but
    /// their 45 days end on the petition day — not after it — so the 20 days after
    /// the petition do not extend their demand: the report says so, and when they are
    /// all the window holds, the deadline is the petition day.
    #[test]
    fn goods_received_exactly_45_days_before_had_their_demand_due_on_the_petition_day() {
        let mut tl = failed(InsolvencyKind::Bankruptcy, Some("2016-06-03"));
        tl.ship("S0", "2016-04-19", "label", "acme", "A-1", 7);
        let r = report(
            &tl.snap("2016-06-10"),
            &k::p("acme"),
            &Thresholds::default(),
        )
        .unwrap();
        assert_eq!(r.window_45.units, 47);
        let due = |code: &str| r.deadlines.iter().find(|x| x.code == code).unwrap().clone();
        let d = due("reclamation_demand");
        assert_eq!(d.due_on, Some(k::d("2016-06-23")));
        assert!(
            d.what.contains("7 of them received on 2016-04-19, 45 days before: their 45 days ended on 2016-06-03, so their demand was due by 2016-06-03"),
            "{}",
            d.what
        );
        // Only such goods in the window: the deadline is the petition day.
        let mut only = Tl::new();
        only.agreement(k::agreement("acme", "2015-01-01"))
            .catalog("A-1", 800, 110)
            .make("2015-01-02", "A-1", 1000)
            .ship("S0", "2016-04-19", "label", "acme", "A-1", 7)
            .fact(
                "2016-06-03",
                Fact::Insolvency(Insolvency {
                    distributor: k::p("acme"),
                    kind: InsolvencyKind::Bankruptcy,
                    on: k::d("2016-06-03"),
                    petition_date: Some(k::d("2016-06-03")),
                    case: None,
                    claims_bar_date: None,
                    contact: None,
                }),
            );
        let r = report(
            &only.snap("2016-06-10"),
            &k::p("acme"),
            &Thresholds::default(),
        )
        .unwrap();
        let d = r
            .deadlines
            .iter()
            .find(|x| x.code == "reclamation_demand")
            .unwrap();
        assert_eq!(d.due_on, Some(k::d("2016-06-03")));
        assert_eq!(d.status, DeadlineStatus::Passed);
    }

    #[test]
    fn outside_bankruptcy_the_bankruptcy_rules_are_marked() {
        let tl = failed(InsolvencyKind::Liquidation, None);
        let r = report(
            &tl.snap("2016-06-30"),
            &k::p("acme"),
            &Thresholds::default(),
        )
        .unwrap();
        let due = |code: &str| r.deadlines.iter().find(|x| x.code == code).unwrap();
        assert!(due("admin_claim_503b9").bankruptcy_only);
        assert!(due("preference_window").bankruptcy_only);
        assert!(!due("reclamation_demand").bankruptcy_only);
        assert_eq!(due("reclamation_demand").status, DeadlineStatus::Passed);
        assert_eq!(due("reclamation_demand").days_left, Some(-7));
    }

    /// The reclamation deadline of a bankruptcy petitioned 2016-06-03, seen on
    /// 2016-06-30, with a return demand made on `made`.
    fn reclamation_with_demand(id: &str, made: &str) -> Deadline {
        let mut tl = failed(InsolvencyKind::Bankruptcy, Some("2016-06-03"));
        tl.demand(id, "acme", made);
        report(
            &tl.snap("2016-06-30"),
            &k::p("acme"),
            &Thresholds::default(),
        )
        .unwrap()
        .deadlines
        .into_iter()
        .find(|x| x.code == "reclamation_demand")
        .unwrap()
    }

    /// A written demand for the goods made by the reclamation deadline meets it.
    #[test]
    fn a_return_demand_in_time_meets_the_reclamation_deadline() {
        let d = reclamation_with_demand("DM-1", "2016-06-05");
        assert_eq!(d.status, DeadlineStatus::Met, "{d:#?}");
        assert!(
            d.what.contains("met by demand DM-1 made 2016-06-05"),
            "{}",
            d.what
        );
        // A routine demand long before the window does not.
        let d = reclamation_with_demand("DM-0", "2015-01-10");
        assert_eq!(d.status, DeadlineStatus::Passed);
        // One made after the deadline does not.
        let d = reclamation_with_demand("DM-2", "2016-06-28");
        assert_eq!(d.status, DeadlineStatus::Passed);
    }

    /// A demand reaches only what it names and what was delivered by its day: one for
    /// 20 units of one SKU, or one made before the last delivery, does not meet the
    /// deadline for the rest, and the report says what is still to demand.
    #[test]
    fn a_demand_meets_the_reclamation_deadline_only_for_what_it_reaches() {
        let demand = |id: &str, made: &str, sku: Option<&str>, units: Option<u64>| {
            Fact::Demand(Demand {
                demand_id: id.into(),
                distributor: k::p("acme"),
                kind: DemandKind::Return,
                transfer_to: None,
                sku: sku.map(|s| Sku::parse(s).unwrap()),
                units,
                made_on: k::d(made),
                via: "email".into(),
            })
        };
        let deadline = |tl: &Tl, on: &str| {
            report(&tl.snap(on), &k::p("acme"), &Thresholds::default())
                .unwrap()
                .deadlines
                .into_iter()
                .find(|x| x.code == "reclamation_demand")
                .unwrap()
        };
        // In the window: S2 30 × A-1 (2016-05-01), S3 10 × A-1 (2016-05-25), and
        // 12 × B-2 on 2016-05-20.
        let mut tl = failed(InsolvencyKind::Bankruptcy, Some("2016-06-03"));
        tl.catalog("B-2", 900, 120)
            .make("2015-01-02", "B-2", 100)
            .ship("S4", "2016-05-20", "label", "acme", "B-2", 12)
            .fact(
                "2016-06-05",
                demand("DM-2", "2016-06-05", Some("A-1"), Some(20)),
            );
        let d = deadline(&tl, "2016-06-10");
        assert_eq!(d.status, DeadlineStatus::DueSoon, "{d:#?}");
        assert!(
            d.what.contains("demand DM-2 made 2016-06-05 (email) reaches 20 of these 52 units; 32 are not demanded yet (A-1 20, B-2 12)"),
            "{}",
            d.what
        );
        // All stock demanded on 2016-05-22: S3 (2016-05-25) came after it.
        let mut early = failed(InsolvencyKind::Bankruptcy, Some("2016-06-03"));
        early.fact("2016-05-22", demand("DM-1", "2016-05-22", None, None));
        let d = deadline(&early, "2016-06-10");
        assert_ne!(d.status, DeadlineStatus::Met);
        assert!(
            d.what
                .contains("reaches 30 of these 40 units; 10 are not demanded yet (A-1 10)"),
            "{}",
            d.what
        );
        // A second demand for the rest: met by both.
        early.fact(
            "2016-06-06",
            demand("DM-3", "2016-06-06", Some("A-1"), None),
        );
        let d = deadline(&early, "2016-06-10");
        assert_eq!(d.status, DeadlineStatus::Met, "{d:#?}");
        assert!(
            d.what.contains(
                "met by demands DM-1 made 2016-05-22 (email), DM-3 made 2016-06-06 (email)"
            ),
            "{}",
            d.what
        );
    }

    #[test]
    fn rules_have_sources_and_unique_codes() {
        let mut codes: Vec<&str> = RULES.iter().map(|r| r.code).collect();
        codes.sort();
        codes.dedup();
        assert_eq!(codes.len(), RULES.len());
        assert!(RULES
            .iter()
            .all(|r| !r.source.is_empty() && !r.rule.is_empty()));
    }

    #[test]
    fn status_counts_days() {
        let d = |s: &str| Date::parse(s).unwrap();
        assert_eq!(
            status_of(d("2016-06-30"), Some(d("2016-06-23"))),
            (Some(-7), DeadlineStatus::Passed)
        );
        assert_eq!(
            status_of(d("2016-06-10"), Some(d("2016-06-23"))),
            (Some(13), DeadlineStatus::DueSoon)
        );
        assert_eq!(
            status_of(d("2016-06-01"), Some(d("2016-06-23"))),
            (Some(22), DeadlineStatus::Open)
        );
        assert_eq!(
            status_of(d("2016-06-01"), None),
            (None, DeadlineStatus::NotSet)
        );
    }
}
