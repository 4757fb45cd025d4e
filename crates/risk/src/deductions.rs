//! Deductions: what distributors took off their statements when they paid them.
//!
//! When payments settle a statement for less than it said was due, the difference is a
//! *deduction* (freight, co-op advertising, price protection, a pricing error — or
//! money the distributor simply keeps). Every label sees them; they are not the silent
//! non-payment that comes before a failure, so early warning judges them apart
//! (see [`crate::signals`]) and they never count as arrears.
//!
//! A deduction is one statement's:
//!
//! * **open** — the statement received cash and is still open by no more than
//!   [`Thresholds::deduction_max_permille`] of its net due (10 % by default; a larger
//!   shortfall is a partial payment, and the rest is simply unpaid). It is open since the
//!   last cash applied to the statement. A later payment clears it.
//! * **disputed** — the label disputed it ([`Fact::DeductionDisputed`]); it stays owed
//!   (the whole open amount of the statement) and is shown as disputed until paid,
//!   accepted or written off.
//! * **accepted** — the label accepted it with a reason ([`Event::DeductionAccepted`]):
//!   posted to the deduction expense account, reversing the receivable.
//! * **written off** — the label wrote the balance off ([`Event::ReceivableWrittenOff`]).
//!
//! [`Fact::DeductionDisputed`]: backstock_ledger::Fact::DeductionDisputed
//! [`Event::DeductionAccepted`]: backstock_ledger::Event::DeductionAccepted
//! [`Event::ReceivableWrittenOff`]: backstock_ledger::Event::ReceivableWrittenOff

use crate::book::{AppKind, Book};
use crate::json::{self, to_money};
use crate::view::{OfSnapshot, View};
use crate::{Snapshot, Thresholds};
use backstock_domain::{Date, Money, PartyId};
use backstock_ledger::facts::DeductionReason;
use serde::Serialize;

/// Where a deduction stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum DeductionStatus {
    Open,
    Disputed,
    Accepted,
    WrittenOff,
}

impl DeductionStatus {
    pub fn as_str(&self) -> &'static str {
        match self {
            DeductionStatus::Open => "open",
            DeductionStatus::Disputed => "disputed",
            DeductionStatus::Accepted => "accepted",
            DeductionStatus::WrittenOff => "written_off",
        }
    }
    /// Still owed: open or disputed.
    pub fn is_outstanding(&self) -> bool {
        matches!(self, DeductionStatus::Open | DeductionStatus::Disputed)
    }
}

impl std::fmt::Display for DeductionStatus {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One statement's deduction.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Deduction {
    pub distributor: PartyId,
    pub statement_id: String,
    pub period_end: Date,
    pub due_on: Date,
    #[serde(serialize_with = "json::money")]
    pub net_due: Money,
    /// Cash the distributor paid against the statement.
    #[serde(serialize_with = "json::money")]
    pub paid: Money,
    /// Outstanding (open, disputed) or settled (accepted, written off) amount.
    #[serde(serialize_with = "json::money")]
    pub amount: Money,
    /// Still open on the statement (0 once accepted or written off in full).
    #[serde(serialize_with = "json::money")]
    pub statement_open: Money,
    /// Since when: the last cash applied (open, disputed), or the day it was settled.
    pub since: Date,
    /// Days from `since` to the as-of date (outstanding ones), else 0.
    pub days_open: i64,
    pub status: DeductionStatus,
    pub disputed_on: Option<Date>,
    /// The dispute's note (disputed), the note typed when it was accepted, or the
    /// write-off's reason.
    pub note: Option<String>,
    /// Why it was accepted.
    pub reason: Option<DeductionReason>,
    /// The journal entry that accepted or wrote it off.
    pub entry_id: Option<String>,
}

/// Every deduction (outstanding first, then settled, each oldest first) of each
/// distributor with an agreement, or of `only`, in every currency its statements are in.
pub fn compute(snap: &Snapshot, t: &Thresholds, only: Option<&PartyId>) -> Vec<Deduction> {
    let view = View::of(snap);
    let mut out = Vec::new();
    for a in view.agreements.values() {
        if matches!(only, Some(d) if d != &a.distributor) {
            continue;
        }
        // The agreement's currency first, then any other its statements or payments
        // are in: a statement in GBP short-paid leaves a deduction in GBP (never
        // converted), accepted or disputed like any other.
        let others = crate::book::currencies(&view, &a.distributor)
            .into_iter()
            .filter(|c| *c != a.currency);
        for cur in std::iter::once(a.currency).chain(others) {
            let book = Book::build(
                &view,
                &a.distributor,
                cur,
                a.payment_terms_days,
                a.reserve_release_days,
            );
            out.extend(of_book(&view, &book, &a.distributor, t));
        }
    }
    out.sort_by(|x, y| {
        (
            !x.status.is_outstanding(),
            x.since,
            &x.distributor,
            &x.statement_id,
        )
            .cmp(&(
                !y.status.is_outstanding(),
                y.since,
                &y.distributor,
                &y.statement_id,
            ))
    });
    out
}

/// The outstanding deduction of one statement, if it has one.
pub fn outstanding(
    snap: &Snapshot,
    t: &Thresholds,
    distributor: &PartyId,
    statement_id: &str,
) -> Option<Deduction> {
    compute(snap, t, Some(distributor))
        .into_iter()
        .find(|x| x.statement_id == statement_id && x.status.is_outstanding())
}

fn of_book(view: &View<'_>, book: &Book<'_>, d: &PartyId, t: &Thresholds) -> Vec<Deduction> {
    let cur = book.currency;
    let as_of = book.as_of;
    let mut out = Vec::new();
    for s in &book.stmts {
        let base = |amount: i128, since: Date, status: DeductionStatus| Deduction {
            distributor: d.clone(),
            statement_id: s.r.st.statement_id.clone(),
            period_end: s.r.st.period_end,
            due_on: s.due_on,
            net_due: to_money(s.net, cur),
            paid: to_money(s.cash_applied(), cur),
            amount: to_money(amount, cur),
            statement_open: to_money(s.open(), cur),
            since,
            days_open: if status.is_outstanding() {
                i64::from(since.days_until(as_of)).max(0)
            } else {
                0
            },
            status,
            disputed_on: None,
            note: None,
            reason: None,
            entry_id: None,
        };
        let open = s.deduction(t.deduction_max_permille);
        if open > 0 {
            let since = s.last_cash_on().unwrap_or(s.due_on);
            let mut x = base(
                open,
                since,
                if s.disputed {
                    DeductionStatus::Disputed
                } else {
                    DeductionStatus::Open
                },
            );
            if let Some(dp) = view
                .disputes
                .iter()
                .filter(|x| &x.distributor == d && x.statement_id == s.r.st.statement_id)
                .max_by_key(|x| x.disputed_on)
            {
                x.disputed_on = Some(dp.disputed_on);
                x.note = Some(dp.note.clone());
            }
            out.push(x);
        }
        for app in s
            .apps
            .iter()
            .filter(|a| matches!(a.kind, AppKind::Deduction | AppKind::WriteOff) && a.amount > 0)
        {
            let status = if app.kind == AppKind::Deduction {
                DeductionStatus::Accepted
            } else {
                DeductionStatus::WrittenOff
            };
            let mut x = base(app.amount, app.date, status);
            x.entry_id = Some(app.payment_id.to_string());
            if let Some(st) = view
                .settlements
                .iter()
                .find(|st| st.entry_id == app.payment_id)
            {
                x.reason = st.reason;
                x.note = Some(st.note.trim())
                    .filter(|n| !n.is_empty())
                    .map(str::to_string);
            }
            out.push(x);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testkit::*;
    use backstock_ledger::facts::DeductionDispute;
    use backstock_ledger::{Event, Fact};

    /// Two monthly statements of 380.00, the first paid 372.40 (98 %), the second
    /// paid 250.00 (a partial payment, not a deduction).
    fn tl() -> Tl {
        let mut tl = Tl::new();
        tl.agreement(agreement("allegro", "2015-01-01"))
            .catalog("CD1", 950, 300)
            .make("2015-01-01", "CD1", 1000)
            .ship("SH1", "2015-01-05", "label", "allegro", "CD1", 200)
            .statement(
                "S1",
                "allegro",
                "2015-01-01",
                "2015-01-31",
                "2015-02-10",
                vec![sale("CD1", 40, 38_000)],
            )
            .statement(
                "S2",
                "allegro",
                "2015-02-01",
                "2015-02-28",
                "2015-03-10",
                vec![sale("CD1", 40, 38_000)],
            )
            .pay("P1", "2015-04-01", "allegro", usd(37_240), Some("S1"))
            .pay("P2", "2015-04-30", "allegro", usd(25_000), Some("S2"))
            .sort();
        tl
    }

    /// What receivables show open on statement `sid` on 2015-06-01.
    fn open_on(tl: &Tl, sid: &str) -> Money {
        let r = crate::receivables::compute(&tl.snap("2015-06-01"), None);
        r[0].book
            .statements
            .iter()
            .find(|s| s.statement_id == sid)
            .map(|s| s.open)
            .unwrap_or_else(|| panic!("no statement {sid}"))
    }

    #[test]
    fn a_short_pay_is_an_open_deduction_and_a_partial_payment_is_not() {
        let t = Thresholds::default();
        let all = compute(&tl().snap("2015-06-01"), &t, None);
        assert_eq!(all.len(), 1, "{all:#?}");
        let x = &all[0];
        assert_eq!(x.statement_id, "S1");
        assert_eq!(x.status, DeductionStatus::Open);
        assert_eq!(x.amount, usd(760));
        assert_eq!(x.since, d("2015-04-01"));
        assert_eq!(x.days_open, 61);
        // Before the payment it was simply unpaid.
        assert!(compute(&tl().snap("2015-03-31"), &t, None).is_empty());
    }

    #[test]
    fn unnamed_short_pays_are_matched_to_their_statements() {
        // Twelve statements of 380.00, each paid 98 % without naming it: each keeps its
        // own 7.60 deduction instead of the shortfall rolling onto the newest one.
        let mut tl = Tl::new();
        tl.ucc("allegro", "OR-1", "OR", "2014-12-01", None)
            .agreement(agreement("allegro", "2015-01-01"))
            .catalog("CD1", 950, 300)
            .make("2015-01-01", "CD1", 1000)
            .ship("SH1", "2015-01-05", "label", "allegro", "CD1", 600)
            .monthly_with("allegro", "2015-01-01", 12, "CD1", 40, 38_000, 60, |_| {
                Some((0, 37_240))
            });
        for e in tl.entries.iter_mut() {
            if let Event::PaymentReceived { statement_id, .. } = &mut e.event {
                *statement_id = None;
            }
        }
        let t = Thresholds::default();
        let all = compute(&tl.snap("2016-06-01"), &t, None);
        assert_eq!(all.len(), 12, "{all:#?}");
        assert!(all.iter().all(|x| x.amount == usd(760)), "{all:#?}");
        let r = crate::receivables::compute(&tl.snap("2016-06-01"), None);
        assert_eq!(r[0].book.open_balance, usd(12 * 760));
        // Not arrears: nothing arms the purchase order rule.
        let a = crate::signals::assess_one(&tl.snap("2016-01-15"), &t, &p("allegro")).unwrap();
        assert!(a.level < crate::Level::Alert, "{a:#?}");
    }

    /// A payment on account (no statement named) that happens to come near a newer
    /// statement's amount, while an older one is still unpaid, pays the older one:
    /// no deduction on the newer, and the older is not left looking months unpaid.
    #[test]
    fn a_payment_on_account_pays_the_oldest_unpaid_statement_first() {
        let mut tl = Tl::new();
        tl.ucc("allegro", "OR-1", "OR", "2014-12-01", None)
            .agreement(agreement("allegro", "2015-01-01"))
            .catalog("CD1", 950, 300)
            .make("2015-01-01", "CD1", 1000)
            .ship("SH1", "2015-01-05", "label", "allegro", "CD1", 600)
            .statement(
                "S6",
                "allegro",
                "2015-06-01",
                "2015-06-30",
                "2015-07-05",
                vec![sale("CD1", 20, 20_000)],
            )
            .statement(
                "S10",
                "allegro",
                "2015-10-01",
                "2015-10-31",
                "2015-11-05",
                vec![sale("CD1", 25, 25_000)],
            )
            // 95 % of S10, on account, while S6 (due long ago) is wholly unpaid.
            .pay("P1", "2015-11-15", "allegro", usd(23_750), None)
            .sort();
        let t = Thresholds::default();
        let snap = tl.snap("2015-11-20");
        let r = crate::receivables::compute(&snap, None);
        let open = |sid: &str| {
            r[0].book
                .statements
                .iter()
                .find(|s| s.statement_id == sid)
                .map(|s| s.open)
                .unwrap()
        };
        assert_eq!(open("S6"), usd(0));
        assert_eq!(open("S10"), usd(25_000 - 3_750));
        assert!(compute(&snap, &t, None).is_empty(), "no deduction");
    }

    #[test]
    fn a_later_payment_clears_it_acceptance_and_dispute_settle_it() {
        let t = Thresholds::default();
        let mut cleared = tl();
        cleared
            .pay("P3", "2015-05-10", "allegro", usd(760), Some("S1"))
            .sort();
        assert!(compute(&cleared.snap("2015-06-01"), &t, None).is_empty());

        let mut accepted = tl();
        accepted.push(
            d("2015-05-02"),
            d("2015-05-02"),
            Event::DeductionAccepted {
                distributor: p("allegro"),
                statement_id: "S1".into(),
                amount: usd(760),
                reason: DeductionReason::Freight,
                note: "freight on the January order".into(),
            },
        );
        let all = compute(&accepted.snap("2015-06-01"), &t, None);
        assert_eq!(all.len(), 1, "{all:#?}");
        assert_eq!(all[0].status, DeductionStatus::Accepted);
        assert_eq!(all[0].reason, Some(DeductionReason::Freight));
        // The note typed when accepting it is shown with it.
        assert_eq!(all[0].note.as_deref(), Some("freight on the January order"));
        assert_eq!(all[0].statement_open, usd(0));
        assert_eq!(open_on(&accepted, "S1"), usd(0));

        let mut disputed = tl();
        disputed.push(
            d("2015-05-02"),
            d("2015-05-02"),
            Event::Fact(Fact::DeductionDisputed(DeductionDispute {
                distributor: p("allegro"),
                statement_id: "S2".into(),
                amount: usd(13_000),
                disputed_on: d("2015-05-02"),
                note: "no co-op agreed".into(),
            })),
        );
        let all = compute(&disputed.snap("2015-06-01"), &t, None);
        let s2 = all.iter().find(|x| x.statement_id == "S2").unwrap();
        assert_eq!(s2.status, DeductionStatus::Disputed);
        assert_eq!(s2.amount, usd(13_000));
        assert_eq!(s2.note.as_deref(), Some("no co-op agreed"));
        assert_eq!(
            outstanding(&disputed.snap("2015-06-01"), &t, &p("allegro"), "S2").map(|x| x.status),
            Some(DeductionStatus::Disputed)
        );
    }

    #[test]
    fn a_disputed_statement_whose_payment_is_gone_is_unpaid_not_a_deduction() {
        // S1 short-paid and disputed; then its payment is reversed (a bounced check):
        // what is left is the whole statement unpaid, never a 380.00 "deduction" that
        // could be accepted away.
        let t = Thresholds::default();
        let mut tl = tl();
        tl.push(
            d("2015-04-05"),
            d("2015-04-05"),
            Event::Fact(Fact::DeductionDisputed(DeductionDispute {
                distributor: p("allegro"),
                statement_id: "S1".into(),
                amount: usd(760),
                disputed_on: d("2015-04-05"),
                note: "freight was ours to pay".into(),
            })),
        );
        let before = compute(&tl.snap("2015-04-10"), &t, None);
        assert_eq!(before.len(), 1, "{before:#?}");
        assert_eq!(before[0].status, DeductionStatus::Disputed);
        assert_eq!(before[0].amount, usd(760));
        tl.entries.retain(
            |e| !matches!(&e.event, Event::PaymentReceived { payment_id, .. } if payment_id.as_str() == "P1"),
        );
        assert!(
            compute(&tl.snap("2015-06-01"), &t, None)
                .iter()
                .all(|x| x.statement_id != "S1"),
            "no deduction on S1 once its payment is gone"
        );
        assert!(outstanding(&tl.snap("2015-06-01"), &t, &p("allegro"), "S1").is_none());
        assert_eq!(open_on(&tl, "S1"), usd(38_000));
    }
}
