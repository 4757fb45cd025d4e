//! What the label should do next about each distributor in trouble: whether new
//! consignment shipments are on hold (and why), and for one at `alert` or above, an
//! ordered list of actions — the order a label that lived through Allegro would take
//! them in: stop shipping, ask for the money in writing, demand the stock back, make
//! sure the UCC-1 and PMSI notices hold, and (when it has failed or is critical)
//! prepare the claim pack.
//!
//! Pure computation over a [`Snapshot`]; the dashboard and the API render it.

use crate::credit::HoldReason;
use crate::json::human;
use crate::receivables::for_agreement;
use crate::view::{OfSnapshot, View};
use crate::{credit, legal, signals, Level, Snapshot, Thresholds};
use backstock_domain::PartyId;
use backstock_ledger::facts::DemandOutcome;
use serde::Serialize;

/// One thing to do, with a stable code the pages link from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Action {
    /// `stop_shipping`, `collect`, `demand_return`, `follow_up_demand`, `file_ucc1`,
    /// `check_ucc1`, `claim_pack`.
    pub code: &'static str,
    pub text: String,
}

/// A distributor on credit hold or at alert or above.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct NextSteps {
    pub distributor: PartyId,
    pub level: Level,
    /// Why a new consignment shipment would be refused now (empty: it would not be,
    /// though one that takes exposure over the limit still would).
    pub on_hold: Vec<HoldReason>,
    /// In the order to take them; empty below `alert`.
    pub actions: Vec<Action>,
}

/// Every distributor that is on hold or at alert or above, worst first.
pub fn compute(snap: &Snapshot, t: &Thresholds) -> Vec<NextSteps> {
    compute_given(
        snap,
        t,
        &signals::assess(snap, t),
        &crate::receivables::compute(snap, None),
    )
}

/// [`compute`] from every distributor's assessment ([`signals::assess`]) and
/// receivables ([`crate::receivables::compute`]) already computed on the same
/// snapshot, as the dashboard has them: each walks every statement line, so they are
/// not computed again per distributor. A distributor missing from either is computed
/// here.
pub fn compute_given(
    snap: &Snapshot,
    t: &Thresholds,
    risk: &[signals::Assessment],
    receivables: &[crate::receivables::DistributorReceivables],
) -> Vec<NextSteps> {
    let view = View::of(snap);
    let mut out = Vec::new();
    for (d, a) in &view.agreements {
        let asm = match risk.iter().find(|x| &x.distributor == d) {
            Some(x) => x.clone(),
            None => match signals::assess_one(snap, t, d) {
                Some(x) => x,
                None => continue,
            },
        };
        let r = match receivables.iter().find(|x| &x.distributor == d) {
            Some(x) => x.clone(),
            None => for_agreement(snap, &view, a),
        };
        let on_hold = credit::standing_given(&view, t, a, Some(&asm), &r);
        if on_hold.is_empty() && asm.level < Level::Alert {
            continue;
        }
        let mut actions = Vec::new();
        if asm.level >= Level::Alert {
            if !on_hold.is_empty() {
                actions.push(Action {
                    code: "stop_shipping",
                    text: format!(
                        "Ship nothing more to {d} on consignment: new shipments are on credit hold until this is resolved (an override needs a written reason)."
                    ),
                });
            }
            if r.book.past_due.minor() > 0 {
                actions.push(Action {
                    code: "collect",
                    text: format!(
                        "Ask {d} in writing for the {} past due (the oldest {} days), naming the statements; keep a copy.",
                        human(r.book.past_due),
                        r.book.oldest_days_past_due
                    ),
                });
            }
            let open_demand = view
                .demands
                .iter()
                .filter(|dm| &dm.distributor == d)
                .filter(|dm| {
                    let last = view
                        .responses
                        .iter()
                        .filter(|x| x.demand_id == dm.demand_id)
                        .max_by_key(|x| x.answered_on);
                    !matches!(last.map(|x| x.outcome), Some(DemandOutcome::Complied))
                })
                .max_by_key(|dm| dm.made_on);
            if r.stock.units > 0 {
                match open_demand {
                    None => actions.push(Action {
                        code: "demand_return",
                        text: format!(
                            "Demand your stock back: {} units ({} at wholesale) are at {d}. Record the demand with its date — the date starts the clock.",
                            r.stock.units,
                            human(r.stock.at_wholesale)
                        ),
                    }),
                    Some(dm) => actions.push(Action {
                        code: "follow_up_demand",
                        text: format!(
                            "Follow up demand {} of {}: {} units are still at {d}; record each answer, and a refusal as refused.",
                            dm.demand_id, dm.made_on, r.stock.units
                        ),
                    }),
                }
            }
            let cs = legal::chains(&view, d, t);
            if a.title_retained && !legal::perfected_on(&cs, &a.state_of_organization, view.as_of) {
                actions.push(Action {
                    code: "file_ucc1",
                    text: format!(
                        "File a UCC-1 against {} ({}) now and send PMSI notices to its secured lenders: without it, consigned stock can be taken by them.",
                        a.legal_name, a.state_of_organization
                    ),
                });
            } else if a.title_retained {
                let (_, chain) = legal::status(&cs, view.as_of, t);
                let lapse = chain
                    .map(|c| format!(" (effective until {})", c.lapse_on))
                    .unwrap_or_default();
                actions.push(Action {
                    code: "check_ucc1",
                    text: format!(
                        "Check the UCC-1 on file{lapse} and the PMSI notices sent; have copies ready for counsel."
                    ),
                });
            }
            if asm.level >= Level::Critical || view.insolvency_of(d).is_some() {
                actions.push(Action {
                    code: "claim_pack",
                    text: format!(
                        "Prepare the claim pack for {d}: what you own there and what it owes, with the proof."
                    ),
                });
            }
        }
        out.push(NextSteps {
            distributor: d.clone(),
            level: asm.level,
            on_hold,
            actions,
        });
    }
    out.sort_by(|a, b| {
        b.level
            .cmp(&a.level)
            .then(a.distributor.cmp(&b.distributor))
    });
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testkit::*;

    #[test]
    fn a_healthy_distributor_needs_nothing_and_a_failing_one_gets_steps_in_order() {
        let mut tl = Tl::new();
        tl.agreement(agreement("allegro", "2015-01-01"))
            .ucc("allegro", "2015-0001", "OR", "2015-01-01", None)
            .catalog("CD1", 800, 110)
            .ship("M1", "2015-01-02", "plant:p", "label", "CD1", 500)
            .ship("S1", "2015-01-05", "label", "allegro", "CD1", 200);
        let t = Thresholds::default();
        assert!(compute(&tl.snap("2015-01-20"), &t).is_empty());
        // Statements that are never paid, then stop.
        for (i, m) in ["01", "02", "03"].iter().enumerate() {
            tl.statement(
                &format!("ST{i}"),
                "allegro",
                &format!("2015-{m}-01"),
                &format!("2015-{m}-28"),
                &format!("2015-{m}-28"),
                vec![sale("CD1", 20, 16_000)],
            );
        }
        let steps = compute(&tl.snap("2016-01-31"), &t);
        assert_eq!(steps.len(), 1, "{steps:?}");
        let s = &steps[0];
        assert!(s.level >= Level::Alert, "{s:?}");
        assert!(!s.on_hold.is_empty());
        let codes: Vec<&str> = s.actions.iter().map(|a| a.code).collect();
        assert_eq!(
            codes[..3],
            ["stop_shipping", "collect", "demand_return"],
            "{codes:?}"
        );
        assert!(codes.contains(&"check_ucc1"), "{codes:?}");
        // Without a UCC-1 the step is to file one, and that alone puts it on hold.
        let mut bare = Tl::new();
        bare.agreement(agreement("valley", "2015-01-01"));
        let s = &compute(&bare.snap("2015-02-01"), &t)[0];
        assert_eq!(s.on_hold[0].code, "not_perfected");
        assert!(s.actions.is_empty(), "below alert: the banner, no steps");
    }
}
