//! Credit holds: reasons not to send a distributor more consigned stock.
//!
//! [`check`] lists reasons to refuse a new consignment shipment; an empty list means it
//! may ship. Reasons (codes):
//!
//! * `no_agreement` — there is no agreement with the distributor.
//! * `risk_level` — its level (see [`crate::signals`]) is `alert` or `critical`; the
//!   message names the signals at alert or above. (When the only such signals are
//!   `ucc_unperfected` or `exposure_over_limit`, `not_perfected` and
//!   `over_credit_limit` below say it instead, with the shipment counted.)
//! * `over_credit_limit` — exposure after the shipment (units × catalog wholesale added)
//!   would be over the credit limit.
//! * `sku_unpriced` — the SKU has no wholesale price in the agreement currency, so the
//!   exposure after the shipment cannot be known.
//! * `not_perfected` — the agreement retains title but no UCC-1 is effective (never
//!   filed, or lapsed): the units would go to the distributor's lenders.
//! * `open_demand` — the label has demanded its stock back and the demand is unanswered,
//!   refused or only partly met.
//!
//! [`po_flags`] questions a purchase order: `po_in_arrears` (received while the
//! distributor had a material past-due balance as of the PO's date: simply unpaid, not
//! deductions, and at least the materiality floor — see [`crate::rhythm`]), plus `risk_level`,
//! `over_credit_limit`, `sku_unpriced` and `not_perfected` as above.

use crate::json::{human, show};
use crate::receivables::{for_agreement, DistributorReceivables};
use crate::signals::Assessment;
use crate::view::{OfSnapshot, View};
use crate::{legal, signals, Level, Snapshot, Thresholds};
use backstock_domain::{Date, PartyId, Sku};
use backstock_ledger::facts::{Agreement, DemandOutcome, PurchaseOrder};
use backstock_records::Records;
use serde::Serialize;

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct HoldReason {
    pub code: String,
    pub message: String,
}

fn reason(code: &str, message: String) -> HoldReason {
    HoldReason {
        code: code.into(),
        message,
    }
}

/// Reasons to refuse shipping `units` of `sku` to `distributor` on consignment now.
pub fn check(
    snap: &Snapshot,
    t: &Thresholds,
    distributor: &PartyId,
    sku: &Sku,
    units: u64,
) -> Vec<HoldReason> {
    let view = View::of(snap);
    let Some(a) = view.agreements.get(distributor).copied() else {
        return vec![reason(
            "no_agreement",
            format!("there is no agreement with {distributor}: record one before consigning stock"),
        )];
    };
    let mut out = Vec::new();
    out.extend(level_reason(snap, t, distributor));
    out.extend(limit_reason(snap, &view, a, sku, units, "shipping"));
    out.extend(perfection_reason(&view, a, t));
    out.extend(demand_reason(&view, distributor));
    out
}

/// A failure of `distributor` the label has on record now (`today`) but did not on
/// `day`, the day a shipment is dated: a shipment dated before today is judged as of its
/// own day ([`check`] on that day's snapshot), and a failure dated on or before that
/// day and recorded since stops it all the same — from the failure on the distributor
/// is in default, whenever the label learned of it. `failures`: the journal's
/// insolvency records and corrections known by `today` (the rest is not read). `None`
/// when there is none, when the failure came after `day` (a shipment made before it is
/// history being recorded), or when the snapshot of `day` knew it already (its level
/// says so).
pub fn failure_recorded_since(
    failures: &[backstock_ledger::Entry],
    day: Date,
    today: Date,
    distributor: &PartyId,
) -> Option<HoldReason> {
    if day >= today
        || Records::new(failures, day)
            .insolvency_of(distributor)
            .is_some()
    {
        return None;
    }
    let records = Records::new(failures, today);
    let x = records.insolvency_of(distributor)?;
    (x.on.min(x.petition_or_event()) <= day).then(|| {
        reason(
            "insolvent",
            format!(
                "{} Recorded after {day}, the day this shipment is dated: it is refused all the same.",
                crate::insolvency::sentence(x)
            ),
        )
    })
}

/// Reasons any new consignment shipment to `distributor` would be refused now,
/// whatever it holds: its level, an unperfected UCC position, an open demand, and
/// exposure already over the credit limit. (The dashboard's banner.)
pub fn standing(snap: &Snapshot, t: &Thresholds, distributor: &PartyId) -> Vec<HoldReason> {
    let view = View::of(snap);
    let Some(a) = view.agreements.get(distributor).copied() else {
        return Vec::new();
    };
    let asm = signals::assess_one(snap, t, distributor);
    let r = for_agreement(snap, &view, a);
    standing_given(&view, t, a, asm.as_ref(), &r)
}

/// [`standing`] from the distributor's assessment and receivables already computed on
/// the same snapshot (`view` is that snapshot's): the dashboard has both for every
/// distributor, and computing them again per distributor walks every statement line.
pub(crate) fn standing_given(
    view: &View<'_>,
    t: &Thresholds,
    a: &Agreement,
    asm: Option<&Assessment>,
    r: &DistributorReceivables,
) -> Vec<HoldReason> {
    let distributor = &a.distributor;
    let mut out = Vec::new();
    out.extend(asm.and_then(|asm| level_reason_of(asm, distributor)));
    let limit = a.credit_limit;
    if limit.currency() == a.currency
        && limit.minor() > 0
        && r.exposure.total.minor() > limit.minor()
    {
        out.push(reason(
            "over_credit_limit",
            format!(
                "exposure {} is over the {} credit limit",
                human(r.exposure.total),
                human(limit)
            ),
        ));
    }
    out.extend(perfection_reason(view, a, t));
    out.extend(demand_reason(view, distributor));
    out
}

/// Reasons to question a purchase order from a distributor.
pub fn po_flags(snap: &Snapshot, t: &Thresholds, po: &PurchaseOrder) -> Vec<HoldReason> {
    let view = View::of(snap);
    let d = &po.distributor;
    let Some(a) = view.agreements.get(d).copied() else {
        return vec![reason(
            "no_agreement",
            format!(
                "purchase order {} comes from {d}, with whom there is no agreement",
                po.po_number
            ),
        )];
    };
    let mut out = Vec::new();
    let at = View::at(snap, po.date);
    // Judged as the signals judge it: a distributor paying everything due twice a
    // year is not in arrears between its payment days.
    let (b, _) = signals::judged_book(&at, a, t);
    let floor = crate::rhythm::materiality_floor(&b, t, a.currency);
    let (amount, days) = b.unpaid_arrears(t.arrears_grace_days, t.deduction_max_permille, floor);
    if amount > 0 {
        let pattern = if days >= t.stocking_po_arrears_days {
            " — ordering more while not paying is how Allegro Media stocked up before it closed"
        } else {
            ""
        };
        out.push(reason(
            "po_in_arrears",
            format!(
                "purchase order {} for {} × {} came on {} while {} was past due (oldest {days} days){pattern}",
                po.po_number,
                po.units,
                po.sku,
                po.date,
                show(amount, a.currency)
            ),
        ));
    }
    out.extend(level_reason(snap, t, d));
    out.extend(limit_reason(
        snap,
        &view,
        a,
        &po.sku,
        po.units,
        "filling it",
    ));
    out.extend(perfection_reason(&view, a, t));
    out
}

fn level_reason(snap: &Snapshot, t: &Thresholds, d: &PartyId) -> Option<HoldReason> {
    level_reason_of(&signals::assess_one(snap, t, d)?, d)
}

fn level_reason_of(asm: &Assessment, d: &PartyId) -> Option<HoldReason> {
    if asm.level < Level::Alert {
        return None;
    }
    // An unperfected UCC position has its own, more specific reason (`not_perfected`).
    // Highest level first; within a level, what a label owner acts on first: a
    // failure, payments that stopped, a demand refused, before "pays late".
    let lead = |c: signals::SignalCode| {
        use signals::SignalCode as C;
        match c {
            C::Insolvent => 0,
            C::PaymentsStopped => 1,
            C::DemandRefused => 2,
            C::DemandUnanswered => 3,
            C::StatementsLateOrMissing => 4,
            C::PaymentCoverage => 5,
            _ => 6,
        }
    };
    let mut ranked: Vec<&signals::Signal> = asm.signals.iter().collect();
    ranked.sort_by(|x, y| {
        y.level
            .cmp(&x.level)
            .then_with(|| lead(x.code).cmp(&lead(y.code)))
    });
    let named: Vec<String> = ranked
        .into_iter()
        .filter(|s| {
            s.level >= Level::Alert
                && !matches!(
                    s.code,
                    signals::SignalCode::UccUnperfected | signals::SignalCode::ExposureOverLimit
                )
        })
        // The signals' own sentences, each with its level: what a label owner reads
        // (the codes are in `risk --format json`).
        .map(|s| format!("{} ({})", s.message.trim_end_matches('.'), s.level))
        .collect();
    if named.is_empty() {
        return None;
    }
    Some(reason(
        "risk_level",
        format!("{d} is at {}: {}", asm.level, named.join("; ")),
    ))
}

fn limit_reason(
    snap: &Snapshot,
    view: &View<'_>,
    a: &Agreement,
    sku: &Sku,
    units: u64,
    doing: &str,
) -> Option<HoldReason> {
    let cur = a.currency;
    let price = view
        .catalog
        .get(sku)
        .map(|c| c.wholesale_price)
        .filter(|p| p.currency() == cur);
    let Some(price) = price else {
        return Some(reason(
            "sku_unpriced",
            format!(
                "{sku} has no wholesale price in {cur}: the exposure after {doing} cannot be known"
            ),
        ));
    };
    let r = for_agreement(snap, view, a);
    let limit = a.credit_limit;
    if limit.currency() != cur || limit.minor() <= 0 {
        return None;
    }
    let added = i128::from(price.minor()) * i128::from(units);
    let after = i128::from(r.exposure.total.minor()).saturating_add(added);
    let lim = i128::from(limit.minor());
    (after > lim).then(|| {
        reason(
            "over_credit_limit",
            format!(
                "{doing} {units} × {sku} ({} at wholesale) takes exposure from {} to {}, over the {} credit limit by {}",
                show(added, cur),
                human(r.exposure.total),
                show(after, cur),
                human(limit),
                show(after.saturating_sub(lim), cur)
            ),
        )
    })
}

fn perfection_reason(view: &View<'_>, a: &Agreement, t: &Thresholds) -> Option<HoldReason> {
    if !a.title_retained {
        return None;
    }
    let cs = legal::chains(view, &a.distributor, t);
    if legal::perfected_on(&cs, &a.state_of_organization, view.as_of) {
        return None;
    }
    let why = legal::why_unperfected(&cs, a, view.as_of);
    // A filing in the wrong state names the distributor and its state already.
    let head = if why.contains("(9-307)") {
        why
    } else {
        format!(
            "{why} against {} ({})",
            a.legal_name, a.state_of_organization
        )
    };
    Some(reason(
        "not_perfected",
        format!(
            "{head}: consigned units delivered now would be treated as the distributor's own by its lenders; file a UCC-1 and notify its secured parties first"
        ),
    ))
}

fn demand_reason(view: &View<'_>, d: &PartyId) -> Option<HoldReason> {
    let open: Vec<String> = view
        .demands
        .iter()
        .filter(|dm| &dm.distributor == d)
        .filter_map(|dm| {
            let resp = view
                .responses
                .iter()
                .filter(|r| r.demand_id == dm.demand_id)
                .max_by_key(|r| r.answered_on);
            match resp.map(|r| r.outcome) {
                Some(DemandOutcome::Complied) => None,
                Some(DemandOutcome::Refused) => Some(format!("{} (refused)", dm.demand_id)),
                Some(DemandOutcome::Partial) => Some(format!("{} (partly met)", dm.demand_id)),
                None => Some(format!(
                    "{} (made {}, unanswered)",
                    dm.demand_id, dm.made_on
                )),
            }
        })
        .collect();
    (!open.is_empty()).then(|| {
        reason(
            "open_demand",
            format!(
                "the label has demanded its stock back from {d}: {}",
                open.join(", ")
            ),
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testkit::*;

    fn healthy() -> Tl {
        let mut a = agreement("allegro", "2015-01-01");
        a.credit_limit = usd(1_000_000);
        let mut tl = Tl::new();
        tl.ucc("allegro", "F1", "OR", "2014-12-01", None)
            .agreement(a)
            .catalog("CD1", 950, 300)
            .make("2015-01-02", "CD1", 5000)
            .ship("SH1", "2015-01-05", "label", "allegro", "CD1", 500)
            .monthly("allegro", "2015-01-01", 6, "CD1", 40, 38_000, |_| Some(0));
        tl
    }

    fn codes(r: &[HoldReason]) -> Vec<&str> {
        r.iter().map(|h| h.code.as_str()).collect()
    }

    #[test]
    fn healthy_distributor_may_ship() {
        let snap = healthy().snap("2015-08-01");
        let r = check(
            &snap,
            &Thresholds::default(),
            &p("allegro"),
            &sku("CD1"),
            100,
        );
        assert!(r.is_empty(), "{r:#?}");
    }

    #[test]
    fn over_the_limit_unpriced_and_no_agreement() {
        let snap = healthy().snap("2015-08-01");
        let t = Thresholds::default();
        // Exposure: 260 units × 9.50 = 2470 + the June statement 380 = 2850.00; limit
        // 10000.00; 800 more units add 7600.00.
        let r = check(&snap, &t, &p("allegro"), &sku("CD1"), 800);
        assert_eq!(codes(&r), ["over_credit_limit"]);
        assert!(
            r[0].message.contains("from 2,850.00 USD to 10,450.00 USD"),
            "{}",
            r[0].message
        );
        assert!(r[0].message.contains("by 450.00 USD"), "{}", r[0].message);
        assert!(check(&snap, &t, &p("allegro"), &sku("CD1"), 700).is_empty());
        assert_eq!(
            codes(&check(&snap, &t, &p("allegro"), &sku("LP9"), 1)),
            ["sku_unpriced"]
        );
        assert_eq!(
            codes(&check(&snap, &t, &p("nobody"), &sku("CD1"), 1)),
            ["no_agreement"]
        );
    }

    #[test]
    fn not_perfected_and_open_demand() {
        let mut tl = healthy();
        tl.entries.retain(|e| {
            !matches!(
                e.event,
                backstock_ledger::Event::Fact(backstock_ledger::Fact::Ucc1Filing(_))
            )
        });
        tl.demand("D1", "allegro", "2015-07-25");
        let r = check(
            &tl.snap("2015-08-01"),
            &Thresholds::default(),
            &p("allegro"),
            &sku("CD1"),
            10,
        );
        assert_eq!(codes(&r), ["not_perfected", "open_demand"], "{r:#?}");
        assert!(r[1].message.contains("D1"));
    }

    /// 9-307: a UCC-1 filed in another state than the distributor's state of
    /// organization perfects nothing, so consigning more is held (it went through while
    /// `legal` called the filing wrong).
    #[test]
    fn a_filing_in_the_wrong_state_does_not_perfect() {
        let mut tl = healthy();
        tl.entries.retain(|e| {
            !matches!(
                e.event,
                backstock_ledger::Event::Fact(backstock_ledger::Fact::Ucc1Filing(_))
            )
        });
        let organized_in = tl
            .entries
            .iter()
            .find_map(|e| match &e.event {
                backstock_ledger::Event::Fact(backstock_ledger::Fact::Agreement(a)) => {
                    Some(a.state_of_organization.clone())
                }
                _ => None,
            })
            .unwrap();
        let elsewhere = if crate::legal::same_state(&organized_in, "NY") {
            "CA"
        } else {
            "NY"
        };
        tl.ucc("allegro", "W-1", elsewhere, "2015-01-05", None);
        let t = Thresholds::default();
        let r = check(&tl.snap("2015-08-01"), &t, &p("allegro"), &sku("CD1"), 10);
        assert_eq!(codes(&r), ["not_perfected"], "{r:#?}");
        assert!(r[0].message.contains("9-307"), "{}", r[0].message);
        assert!(
            r[0].message.contains(&format!("filed in {elsewhere}")),
            "{}",
            r[0].message
        );
        // Filed in the right state too: perfected, nothing held.
        tl.ucc("allegro", "R-1", &organized_in, "2015-02-01", None);
        assert!(check(&tl.snap("2015-08-01"), &t, &p("allegro"), &sku("CD1"), 10).is_empty());
    }

    #[test]
    fn risk_level_names_the_signals() {
        let mut tl = healthy();
        for m in ["2015-03", "2015-04", "2015-05", "2015-06"] {
            tl.drop_statement(&format!("allegro-{m}"));
        }
        let r = check(
            &tl.snap("2015-08-01"),
            &Thresholds::default(),
            &p("allegro"),
            &sku("CD1"),
            10,
        );
        assert_eq!(codes(&r), ["risk_level"], "{r:#?}");
        assert!(r[0].message.contains("allegro is at critical: "), "{r:#?}");
        // The signals' sentences, not their codes.
        assert!(r[0].message.contains("statement"), "{r:#?}");
        assert!(
            !r[0].message.contains("statements_late_or_missing"),
            "{r:#?}"
        );
    }

    #[test]
    fn purchase_order_while_in_arrears() {
        // Statements from 2015-03 unpaid: 2015-03 was due 2015-05-30.
        let mut a = agreement("allegro", "2015-01-01");
        a.credit_limit = usd(10_000_000);
        let mut tl = Tl::new();
        tl.ucc("allegro", "F1", "OR", "2014-12-01", None)
            .agreement(a)
            .catalog("CD1", 950, 300)
            .make("2015-01-02", "CD1", 5000)
            .ship("SH1", "2015-01-05", "label", "allegro", "CD1", 500)
            .monthly("allegro", "2015-01-01", 6, "CD1", 40, 38_000, |i| {
                (i < 2).then_some(0)
            });
        let po = backstock_ledger::facts::PurchaseOrder {
            po_number: "PO-9".into(),
            date: d("2015-08-01"),
            distributor: p("allegro"),
            sku: sku("CD1"),
            units: 100,
        };
        let r = po_flags(&tl.snap("2015-08-01"), &Thresholds::default(), &po);
        assert!(codes(&r).contains(&"po_in_arrears"), "{r:#?}");
        let msg = &r[0].message;
        assert!(
            msg.contains("PO-9") && msg.contains("oldest 63 days") && msg.contains("Allegro"),
            "{msg}"
        );

        let healthy = healthy().snap("2015-08-01");
        assert!(po_flags(&healthy, &Thresholds::default(), &po).is_empty());
    }
}
