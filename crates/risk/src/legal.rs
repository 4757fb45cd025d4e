//! UCC Article 9 position per agreement: is the label's interest in consigned stock
//! perfected, when does the filing lapse, which PMSI notices reach which deliveries, and
//! which shipments left while the label was not perfected.
//!
//! * A UCC-1 is effective from its filing date for five years
//!   ([`Thresholds::ucc_lapse_months`], 9-515(a)); `lapse_on = filed_on + 5 years`, and
//!   it is effective on days strictly before `lapse_on`.
//! * A continuation (a filing whose `continues` names an earlier file number) is
//!   effective only when filed in the six months before lapse (9-515(d)); it then
//!   extends the lapse by five years from the old lapse date (9-515(e)). A continuation
//!   filed outside the window is listed as ineffective. A continuation of a filing
//!   backstock never saw is taken as effective from its own date for five years (the
//!   least it can be), with a warning.
//! * Status as of the date: `ok`, `continuation_window_open` (lapse within six months),
//!   `lapsed`, or `missing` (never filed).
//! * A filing in a state other than the distributor's state of organization is flagged
//!   (9-307: it must be filed there). US state names and two-letter codes are matched.
//! * PMSI notices: each reaches deliveries within five years after it was received
//!   (9-324(b)); a notice not yet received reaches nothing.
//! * Warnings, while the agreement retains title: each shipment delivered to the
//!   distributor on a day no filing was effective (none yet, or lapsed), each
//!   shipment not reached by an in-force notice to a secured party the label has
//!   notified at some time, and — once — no notice to any secured party at all.

use crate::view::{OfSnapshot, View};
use crate::{Snapshot, Thresholds};
use backstock_domain::{Date, PartyId};
use backstock_ledger::facts::Agreement;
use serde::Serialize;
use std::collections::{BTreeMap, BTreeSet};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum UccStatus {
    Ok,
    ContinuationWindowOpen,
    Lapsed,
    Missing,
}

impl UccStatus {
    pub fn as_str(&self) -> &'static str {
        match self {
            UccStatus::Ok => "ok",
            UccStatus::ContinuationWindowOpen => "continuation window open",
            UccStatus::Lapsed => "lapsed",
            UccStatus::Missing => "missing",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Continuation {
    pub file_number: String,
    pub filed_on: Date,
    pub effective: bool,
    pub note: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FilingStatus {
    pub file_number: String,
    pub state: String,
    pub filed_on: Date,
    /// After every effective continuation.
    pub lapse_on: Date,
    /// Six months before `lapse_on`.
    pub continuation_window_opens: Date,
    pub effective_now: bool,
    /// Filed in the distributor's state of organization.
    pub state_matches: bool,
    /// The original filing was not seen (this chain starts with a continuation).
    pub original_unknown: bool,
    pub continuations: Vec<Continuation>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum NoticeStatus {
    AwaitingReceipt,
    InForce,
    Expired,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PmsiNoticeStatus {
    pub secured_party: String,
    pub sent_on: Date,
    pub received_on: Option<Date>,
    /// Deliveries before this date (and on or after receipt) are reached.
    pub reach_until: Option<Date>,
    pub status: NoticeStatus,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct LegalWarning {
    /// `unperfected_shipment`, `pmsi_notice_not_in_force`, `filing_state_mismatch`,
    /// `continuation_outside_window`, `original_filing_unknown`.
    pub kind: String,
    pub date: Date,
    pub shipment_id: Option<String>,
    pub message: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AgreementLegal {
    pub distributor: PartyId,
    pub legal_name: String,
    pub state_of_organization: String,
    pub title_retained: bool,
    pub status: UccStatus,
    /// The filing that decides the status (the effective one lapsing last, else the one
    /// that lapsed last).
    pub current: Option<FilingStatus>,
    pub lapse_on: Option<Date>,
    pub continuation_window_opens: Option<Date>,
    pub filings: Vec<FilingStatus>,
    pub pmsi_notices: Vec<PmsiNoticeStatus>,
    pub warnings: Vec<LegalWarning>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct LegalReport {
    pub as_of: Date,
    pub agreements: Vec<AgreementLegal>,
}

/// The legal position of every agreement, with the default five-year / six-month rule.
pub fn compute(snap: &Snapshot) -> LegalReport {
    compute_with(snap, &Thresholds::default())
}

pub fn compute_with(snap: &Snapshot, t: &Thresholds) -> LegalReport {
    let view = View::of(snap);
    LegalReport {
        as_of: snap.as_of,
        agreements: view
            .agreements
            .values()
            .map(|a| for_agreement(&view, a, t))
            .collect(),
    }
}

/// One filing and its continuations.
#[derive(Debug, Clone)]
pub(crate) struct Chain {
    pub numbers: Vec<String>,
    pub state: String,
    pub filed_on: Date,
    pub lapse_on: Date,
    pub original_unknown: bool,
    pub continuations: Vec<Continuation>,
}

impl Chain {
    pub fn effective_on(&self, d: Date) -> bool {
        self.filed_on <= d && d < self.lapse_on
    }
}

/// A month count from the thresholds, clamped to ±1000 years so date arithmetic can
/// never overflow whatever a tenant configures.
pub(crate) fn months(n: i64) -> i32 {
    i32::try_from(n.clamp(-12_000, 12_000)).unwrap_or(0)
}

/// Where filing `file_number` against `d` leaves its chain: the day the chain lapses
/// unless continued (a continuation in its window extends the lapse by five years from
/// the lapse, 9-515(e), not from its filing), and, for a continuation that extends
/// nothing, why. `None` when no such filing is in `snap`.
pub fn filing_outcome(
    snap: &Snapshot,
    t: &Thresholds,
    d: &PartyId,
    file_number: &str,
) -> Option<(Date, Option<String>)> {
    let view = View::of(snap);
    let cs = chains(&view, d, t);
    let c = cs
        .iter()
        .find(|c| c.numbers.iter().any(|n| n == file_number))?;
    let ineffective = c
        .continuations
        .iter()
        .find(|x| x.file_number == file_number && !x.effective)
        .map(|x| x.note.clone());
    Some((c.lapse_on, ineffective))
}

pub(crate) fn chains(view: &View<'_>, d: &PartyId, t: &Thresholds) -> Vec<Chain> {
    let mut fs: Vec<_> = view
        .filings
        .iter()
        .filter(|f| &f.distributor == d)
        .collect();
    fs.sort_by_key(|f| f.filed_on);
    let lapse = months(t.ucc_lapse_months);
    let window = months(t.ucc_continuation_window_months);
    let mut out: Vec<Chain> = Vec::new();
    for f in fs {
        match &f.continues {
            None => out.push(Chain {
                numbers: vec![f.file_number.clone()],
                state: f.state.clone(),
                filed_on: f.filed_on,
                lapse_on: f.filed_on.add_months(lapse),
                original_unknown: false,
                continuations: Vec::new(),
            }),
            Some(prev) => match out.iter_mut().find(|c| c.numbers.iter().any(|n| n == prev)) {
                Some(c) => {
                    let opens = c.lapse_on.add_months(-window);
                    let (effective, note) = if f.filed_on < opens {
                        (
                            false,
                            format!("filed before the continuation window opened on {opens}"),
                        )
                    } else if f.filed_on >= c.lapse_on {
                        (
                            false,
                            format!("filed after the filing lapsed on {}", c.lapse_on),
                        )
                    } else {
                        (
                            true,
                            format!("extends the lapse from {} by five years", c.lapse_on),
                        )
                    };
                    if effective {
                        c.lapse_on = c.lapse_on.add_months(lapse);
                    }
                    c.numbers.push(f.file_number.clone());
                    c.continuations.push(Continuation {
                        file_number: f.file_number.clone(),
                        filed_on: f.filed_on,
                        effective,
                        note,
                    });
                }
                None => out.push(Chain {
                    numbers: vec![prev.clone(), f.file_number.clone()],
                    state: f.state.clone(),
                    filed_on: f.filed_on,
                    lapse_on: f.filed_on.add_months(lapse),
                    original_unknown: true,
                    continuations: vec![Continuation {
                        file_number: f.file_number.clone(),
                        filed_on: f.filed_on,
                        effective: true,
                        note: format!("continues {prev}, which backstock has no record of"),
                    }],
                }),
            },
        }
    }
    out
}

/// For each (distributor, day) asked: `None` when the label keeps no title to
/// perfect (no agreement, or title not retained), else whether a UCC-1 was in effect
/// that day, and if not, why (`no UCC-1 is on file`, `its UCC-1 had lapsed`, …) — what
/// [`compute`]'s `unperfected_shipment` warnings say of a shipment on that day.
pub fn perfection_on(
    snap: &Snapshot,
    t: &Thresholds,
    asked: &[(&PartyId, Date)],
) -> Vec<Option<Result<(), String>>> {
    let view = View::of(snap);
    let mut chains_of: std::collections::BTreeMap<&PartyId, Vec<Chain>> = Default::default();
    asked
        .iter()
        .map(|(d, on)| {
            let a = view.agreements.get(*d)?;
            if !a.title_retained {
                return None;
            }
            let cs = chains_of.entry(d).or_insert_with(|| chains(&view, d, t));
            if perfected_on(cs, &a.state_of_organization, *on) {
                return Some(Ok(()));
            }
            if let Some(c) = cs.iter().find(|c| c.effective_on(*on)) {
                return Some(Err(format!(
                    "its UCC-1 {} was filed in {}, not in {} where it is organized (9-307)",
                    c.numbers.first().map(String::as_str).unwrap_or("?"),
                    c.state,
                    a.state_of_organization
                )));
            }
            let lapsed = cs
                .iter()
                .filter(|c| c.filed_on <= *on)
                .max_by_key(|c| c.lapse_on);
            Some(Err(match lapsed {
                Some(c) => format!("its UCC-1 had lapsed on {}", c.lapse_on),
                None => "no UCC-1 was in effect".to_string(),
            }))
        })
        .collect()
}

/// Whether a UCC-1 perfected the label's interest against a debtor organized in
/// `organized_in` on day `d`: a chain in effect that day, filed in the state of
/// organization (9-307: a filing elsewhere perfects nothing). An agreement that does
/// not say where the distributor is organized does not refuse any filing.
pub(crate) fn perfected_on(chains: &[Chain], organized_in: &str, d: Date) -> bool {
    chains
        .iter()
        .any(|c| c.effective_on(d) && filed_in_right_state(&c.state, organized_in))
}

/// A filing in `filed_in` against a debtor organized in `organized_in` (unknown: any).
pub(crate) fn filed_in_right_state(filed_in: &str, organized_in: &str) -> bool {
    organized_in.trim().is_empty() || same_state(filed_in, organized_in)
}

/// Why a shipment on `d` was not perfected when [`perfected_on`] says so: a filing in
/// effect but in another state, or none in effect (lapsed, not yet filed, never).
pub(crate) fn why_unperfected(chains: &[Chain], a: &Agreement, d: Date) -> String {
    if let Some(c) = chains.iter().find(|c| c.effective_on(d)) {
        return format!(
            "UCC-1 {} was filed in {} but {} is organized in {}, and a filing perfects only in the state of organization (9-307)",
            c.numbers.first().map(String::as_str).unwrap_or("?"),
            c.state,
            a.legal_name,
            a.state_of_organization
        );
    }
    match chains
        .iter()
        .filter(|c| c.filed_on <= d)
        .max_by_key(|c| c.lapse_on)
    {
        Some(c) => format!(
            "UCC-1 {} had lapsed on {}",
            c.numbers.first().map(String::as_str).unwrap_or("?"),
            c.lapse_on
        ),
        None => match chains.iter().map(|c| c.filed_on).min() {
            Some(first) => format!("no UCC-1 had been filed yet (the first was filed on {first})"),
            None => "no UCC-1 has been filed".to_string(),
        },
    }
}

/// The status as of `as_of` and the chain that decides it.
pub(crate) fn status<'c>(
    chains: &'c [Chain],
    as_of: Date,
    t: &Thresholds,
) -> (UccStatus, Option<&'c Chain>) {
    let window = months(t.ucc_continuation_window_months);
    if let Some(c) = chains
        .iter()
        .filter(|c| c.effective_on(as_of))
        .max_by_key(|c| c.lapse_on)
    {
        if as_of >= c.lapse_on.add_months(-window) {
            return (UccStatus::ContinuationWindowOpen, Some(c));
        }
        return (UccStatus::Ok, Some(c));
    }
    match chains
        .iter()
        .filter(|c| c.filed_on <= as_of)
        .max_by_key(|c| c.lapse_on)
    {
        Some(c) => (UccStatus::Lapsed, Some(c)),
        None => (UccStatus::Missing, None),
    }
}

const US_STATES: &[(&str, &str)] = &[
    ("AL", "ALABAMA"),
    ("AK", "ALASKA"),
    ("AZ", "ARIZONA"),
    ("AR", "ARKANSAS"),
    ("CA", "CALIFORNIA"),
    ("CO", "COLORADO"),
    ("CT", "CONNECTICUT"),
    ("DE", "DELAWARE"),
    ("DC", "DISTRICT OF COLUMBIA"),
    ("FL", "FLORIDA"),
    ("GA", "GEORGIA"),
    ("HI", "HAWAII"),
    ("ID", "IDAHO"),
    ("IL", "ILLINOIS"),
    ("IN", "INDIANA"),
    ("IA", "IOWA"),
    ("KS", "KANSAS"),
    ("KY", "KENTUCKY"),
    ("LA", "LOUISIANA"),
    ("ME", "MAINE"),
    ("MD", "MARYLAND"),
    ("MA", "MASSACHUSETTS"),
    ("MI", "MICHIGAN"),
    ("MN", "MINNESOTA"),
    ("MS", "MISSISSIPPI"),
    ("MO", "MISSOURI"),
    ("MT", "MONTANA"),
    ("NE", "NEBRASKA"),
    ("NV", "NEVADA"),
    ("NH", "NEW HAMPSHIRE"),
    ("NJ", "NEW JERSEY"),
    ("NM", "NEW MEXICO"),
    ("NY", "NEW YORK"),
    ("NC", "NORTH CAROLINA"),
    ("ND", "NORTH DAKOTA"),
    ("OH", "OHIO"),
    ("OK", "OKLAHOMA"),
    ("OR", "OREGON"),
    ("PA", "PENNSYLVANIA"),
    ("RI", "RHODE ISLAND"),
    ("SC", "SOUTH CAROLINA"),
    ("SD", "SOUTH DAKOTA"),
    ("TN", "TENNESSEE"),
    ("TX", "TEXAS"),
    ("UT", "UTAH"),
    ("VT", "VERMONT"),
    ("VA", "VIRGINIA"),
    ("WA", "WASHINGTON"),
    ("WV", "WEST VIRGINIA"),
    ("WI", "WISCONSIN"),
    ("WY", "WYOMING"),
];

fn state_key(s: &str) -> String {
    let u = s.trim().trim_end_matches('.').to_ascii_uppercase();
    let u = u.strip_prefix("STATE OF ").unwrap_or(&u).to_string();
    US_STATES
        .iter()
        .find(|(code, name)| *code == u || *name == u)
        .map(|(code, _)| (*code).to_string())
        .unwrap_or(u)
}

pub(crate) fn same_state(a: &str, b: &str) -> bool {
    state_key(a) == state_key(b)
}

fn filing_status(c: &Chain, a: &Agreement, as_of: Date, t: &Thresholds) -> FilingStatus {
    FilingStatus {
        file_number: c.numbers.first().cloned().unwrap_or_default(),
        state: c.state.clone(),
        filed_on: c.filed_on,
        lapse_on: c.lapse_on,
        continuation_window_opens: c
            .lapse_on
            .add_months(-months(t.ucc_continuation_window_months)),
        effective_now: c.effective_on(as_of),
        state_matches: same_state(&c.state, &a.state_of_organization),
        original_unknown: c.original_unknown,
        continuations: c.continuations.clone(),
    }
}

pub(crate) fn for_agreement(view: &View<'_>, a: &Agreement, t: &Thresholds) -> AgreementLegal {
    let as_of = view.as_of;
    let d = &a.distributor;
    let cs = chains(view, d, t);
    let (status, current) = status(&cs, as_of, t);
    let current = current.map(|c| filing_status(c, a, as_of, t));
    let filings: Vec<FilingStatus> = cs.iter().map(|c| filing_status(c, a, as_of, t)).collect();
    let lapse = months(t.ucc_lapse_months);

    let mut warnings = Vec::new();
    for f in &filings {
        if !f.state_matches {
            warnings.push(LegalWarning {
                kind: "filing_state_mismatch".into(),
                date: f.filed_on,
                shipment_id: None,
                message: format!(
                    "UCC-1 {} was filed in {} but {} is organized in {}: a filing must be made in the state of organization (9-307)",
                    f.file_number, f.state, a.legal_name, a.state_of_organization
                ),
            });
        }
        if f.original_unknown {
            warnings.push(LegalWarning {
                kind: "original_filing_unknown".into(),
                date: f.filed_on,
                shipment_id: None,
                message: format!(
                    "continuation {} names filing {} which is not recorded; record it to check the continuation window",
                    f.continuations.first().map(|c| c.file_number.as_str()).unwrap_or("?"),
                    f.file_number
                ),
            });
        }
        for c in f.continuations.iter().filter(|c| !c.effective) {
            warnings.push(LegalWarning {
                kind: "continuation_outside_window".into(),
                date: c.filed_on,
                shipment_id: None,
                message: format!(
                    "continuation {} of {} is ineffective: {} (9-515(d))",
                    c.file_number, f.file_number, c.note
                ),
            });
        }
    }

    let mut pmsi_notices: Vec<PmsiNoticeStatus> = view
        .notices
        .iter()
        .filter(|n| &n.distributor == d)
        .map(|n| {
            let reach_until = n.received_on.map(|r| r.add_months(lapse));
            let status = match (n.received_on, reach_until) {
                (Some(r), Some(u)) if r <= as_of && as_of < u => NoticeStatus::InForce,
                (Some(_), Some(_)) => NoticeStatus::Expired,
                _ => NoticeStatus::AwaitingReceipt,
            };
            PmsiNoticeStatus {
                secured_party: n.secured_party.clone(),
                sent_on: n.sent_on,
                received_on: n.received_on,
                reach_until,
                status,
            }
        })
        .collect();
    pmsi_notices.sort_by(|x, y| {
        (x.secured_party.as_str(), x.sent_on).cmp(&(y.secured_party.as_str(), y.sent_on))
    });

    if a.title_retained {
        let parties: BTreeSet<&str> = pmsi_notices
            .iter()
            .map(|n| n.secured_party.as_str())
            .collect();
        // No notice to anyone: against a lender whose financing statement on the
        // distributor's inventory was filed before the label's, the label's interest
        // in the consigned stock loses unless that lender received a notice before
        // the delivery (9-324(b)) — what decided Allegro. Said once, from the first
        // consignment.
        if parties.is_empty() {
            if let Some(first) = view.shipments_to(d).min_by_key(|s| s.date) {
                warnings.push(LegalWarning {
                    kind: "no_pmsi_notice".into(),
                    date: first.date,
                    shipment_id: None,
                    message: format!(
                        "no PMSI notice to any secured party of {d} is on record: against a lender whose UCC-1 on {d}'s inventory was filed before the label's, the label's interest in consigned stock loses unless that lender received a notice before each delivery (UCC 9-324(b)) — search the filings against {} in {} and send each secured party a notice (then `backstock legal notice …`)",
                        a.legal_name, a.state_of_organization
                    ),
                });
            }
        }
        // One warning of each kind per shipment (its SKU lines together), not one per
        // line: a shipment of five SKUs is one delivery.
        let mut shipments: Vec<(&str, backstock_domain::Date, Vec<String>)> = Vec::new();
        let mut at: BTreeMap<(&str, backstock_domain::Date), usize> = BTreeMap::new();
        for s in view.shipments_to(d) {
            let line = format!("{} × {}", s.units, s.sku);
            match at.get(&(s.shipment_id, s.date)) {
                Some(&i) => shipments[i].2.push(line),
                None => {
                    at.insert((s.shipment_id, s.date), shipments.len());
                    shipments.push((s.shipment_id, s.date, vec![line]));
                }
            }
        }
        for (shipment_id, on, lines) in shipments {
            if !perfected_on(&cs, &a.state_of_organization, on) {
                let why = why_unperfected(&cs, a, on);
                warnings.push(LegalWarning {
                    kind: "unperfected_shipment".into(),
                    date: on,
                    shipment_id: Some(shipment_id.to_string()),
                    message: format!(
                        "shipment {shipment_id} ({}) reached {d} on {on} while the label was not perfected: {why}",
                        lines.join(", ")
                    ),
                });
            }
            for party in &parties {
                let reached = pmsi_notices.iter().any(|n| {
                    n.secured_party == *party
                        && matches!((n.received_on, n.reach_until), (Some(r), Some(u)) if r <= on && on < u)
                });
                if !reached {
                    warnings.push(LegalWarning {
                        kind: "pmsi_notice_not_in_force".into(),
                        date: on,
                        shipment_id: Some(shipment_id.to_string()),
                        message: format!(
                            "shipment {shipment_id} on {on} was not reached by a received notice to {party} (a notice reaches deliveries within five years after it is received)"
                        ),
                    });
                }
            }
        }
    }

    AgreementLegal {
        distributor: d.clone(),
        legal_name: a.legal_name.clone(),
        state_of_organization: a.state_of_organization.clone(),
        title_retained: a.title_retained,
        status,
        lapse_on: current.as_ref().map(|c| c.lapse_on),
        continuation_window_opens: current.as_ref().map(|c| c.continuation_window_opens),
        current,
        filings,
        pmsi_notices,
        warnings,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testkit::*;

    fn base() -> Tl {
        let mut tl = Tl::new();
        tl.agreement(agreement("allegro", "2011-01-01"))
            .make("2011-01-02", "CD1", 5000)
            .ship("SH0", "2011-02-01", "label", "allegro", "CD1", 100)
            .ucc("allegro", "F1", "Oregon", "2011-03-01", None)
            .pmsi("allegro", "First Bank", "2011-02-20", Some("2011-03-10"))
            .ship("SH1", "2012-01-01", "label", "allegro", "CD1", 100);
        tl
    }

    fn one(snap: &Snapshot) -> AgreementLegal {
        let mut r = compute(snap);
        assert_eq!(r.agreements.len(), 1);
        r.agreements.remove(0)
    }

    #[test]
    fn lapse_and_continuation_window() {
        let tl = base();
        let a = one(&tl.snap("2015-06-01"));
        assert_eq!(a.status, UccStatus::Ok);
        assert_eq!(a.lapse_on, Some(d("2016-03-01")));
        assert_eq!(a.continuation_window_opens, Some(d("2015-09-01")));
        assert!(a.current.as_ref().unwrap().state_matches, "Oregon = OR");
        assert_eq!(
            one(&tl.snap("2015-10-01")).status,
            UccStatus::ContinuationWindowOpen
        );
        assert_eq!(one(&tl.snap("2016-04-01")).status, UccStatus::Lapsed);

        // A continuation in the window extends the lapse by five years from the old lapse.
        let mut cont = base();
        cont.ucc("allegro", "F1-C", "OR", "2015-12-01", Some("F1"));
        let a = one(&cont.snap("2016-04-01"));
        assert_eq!(a.status, UccStatus::Ok);
        assert_eq!(a.lapse_on, Some(d("2021-03-01")));
        assert!(a.current.as_ref().unwrap().continuations[0].effective);

        // Too early: ineffective, and the filing lapses as before.
        let mut early = base();
        early.ucc("allegro", "F1-C", "OR", "2015-01-01", Some("F1"));
        let a = one(&early.snap("2016-04-01"));
        assert_eq!(a.status, UccStatus::Lapsed);
        assert!(a
            .warnings
            .iter()
            .any(|w| w.kind == "continuation_outside_window"));
    }

    #[test]
    fn missing_and_wrong_state() {
        let mut tl = Tl::new();
        tl.agreement(agreement("allegro", "2011-01-01")).ship(
            "SH0",
            "2011-02-01",
            "label",
            "allegro",
            "CD1",
            100,
        );
        let a = one(&tl.snap("2012-01-01"));
        assert_eq!(a.status, UccStatus::Missing);
        assert!(a.current.is_none());
        assert!(a
            .warnings
            .iter()
            .any(|w| w.kind == "unperfected_shipment"
                && w.message.contains("no UCC-1 has been filed")));

        tl.ucc("allegro", "W1", "WA", "2011-06-01", None);
        let a = one(&tl.snap("2012-01-01"));
        assert_eq!(a.status, UccStatus::Ok);
        assert!(a.warnings.iter().any(|w| w.kind == "filing_state_mismatch"));
    }

    /// Consigning with no notice to any secured party on record is said once; a
    /// notice on record (even an expired one) turns that into per-shipment reach.
    #[test]
    fn no_pmsi_notice_at_all_is_said_once() {
        let mut tl = Tl::new();
        tl.agreement(agreement("allegro", "2011-01-01"))
            .make("2011-01-02", "CD1", 5000)
            .ucc("allegro", "F1", "Oregon", "2011-01-05", None)
            .ship("SH0", "2011-02-01", "label", "allegro", "CD1", 100)
            .ship("SH1", "2012-01-01", "label", "allegro", "CD1", 100);
        let a = one(&tl.snap("2012-05-01"));
        let none: Vec<_> = a
            .warnings
            .iter()
            .filter(|w| w.kind == "no_pmsi_notice")
            .collect();
        assert_eq!(none.len(), 1, "{:#?}", a.warnings);
        assert_eq!(none[0].date, d("2011-02-01"));
        assert!(none[0].message.contains("9-324(b)"), "{}", none[0].message);
        let a = one(&base().snap("2012-05-01"));
        assert!(a.warnings.iter().all(|w| w.kind != "no_pmsi_notice"));
    }

    #[test]
    fn shipments_made_while_unperfected_and_pmsi_reach() {
        let mut tl = base();
        // SH2 is one delivery of two SKUs: one warning of each kind, not one a line.
        tl.make("2016-01-02", "CD2", 500)
            .ship("SH2", "2016-04-01", "label", "allegro", "CD1", 100)
            .ship("SH2", "2016-04-01", "label", "allegro", "CD2", 50);
        let a = one(&tl.snap("2016-05-01"));
        let unperfected: Vec<_> = a
            .warnings
            .iter()
            .filter(|w| w.kind == "unperfected_shipment")
            .map(|w| w.shipment_id.as_deref().unwrap())
            .collect();
        assert_eq!(unperfected, ["SH0", "SH2"]);
        let sh0 = a
            .warnings
            .iter()
            .find(|w| w.shipment_id.as_deref() == Some("SH0"))
            .unwrap();
        assert!(
            sh0.message.contains("first was filed on 2011-03-01"),
            "{}",
            sh0.message
        );
        let sh2 = a
            .warnings
            .iter()
            .find(|w| w.kind == "unperfected_shipment" && w.shipment_id.as_deref() == Some("SH2"))
            .unwrap();
        assert!(
            sh2.message.contains("lapsed on 2016-03-01")
                && sh2.message.contains("(100 × CD1, 50 × CD2)"),
            "{}",
            sh2.message
        );

        let notice = &a.pmsi_notices[0];
        assert_eq!(notice.reach_until, Some(d("2016-03-10")));
        assert_eq!(notice.status, NoticeStatus::Expired);
        let unreached: Vec<_> = a
            .warnings
            .iter()
            .filter(|w| w.kind == "pmsi_notice_not_in_force")
            .map(|w| w.shipment_id.as_deref().unwrap())
            .collect();
        assert_eq!(unreached, ["SH0", "SH2"]);

        // Title not retained: nothing to warn about.
        let mut tl = base();
        let mut ag = agreement("allegro", "2011-01-01");
        ag.title_retained = false;
        tl.agreement(ag);
        let a = one(&tl.snap("2016-05-01"));
        assert!(a.warnings.iter().all(|w| w.kind != "unperfected_shipment"));
    }
}
