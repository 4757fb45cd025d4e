//! The receivable book of one distributor in one currency: statements, payments
//! applied to them, reserves. Shared by receivables, signals and credit checks.
//!
//! Application rule: credits are applied in date order (then recording order). A
//! payment naming a known statement goes to that statement first; an unnamed payment
//! that pays an open statement (received by then) short — at least 90 % of its open
//! amount and no more than all of it — goes to the oldest such statement first
//! (remittance matching), unless an older statement is still open by more than 10 %
//! of it (really unpaid: the payment is on account, oldest first); whatever is left (or all of any other unnamed payment) goes
//! to the oldest open statement first (by due date);
//! what is left after every statement is paid is unapplied credit. A statement whose net
//! is negative is a credit note: it is applied the same way (oldest first) on the day it
//! was received, but it is not cash — until a remittance says where the distributor
//! took it: a payment naming a statement and paying it in full pushes credit notes off
//! it (they float as unapplied credit), and a payment naming a statement that it leaves
//! short by what a note covers elsewhere moves that note there (the distributor took
//! the note off this remittance). A deduction the label accepted and a balance it
//! wrote off are applied the same way (to the statement they name, else oldest first),
//! on their date, and are not cash either. A negative payment (a bounced cheque) takes
//! back unapplied credit first, then the most recent applications.
//!
//! Deductions: a statement that received cash and is still open by no more than
//! `deduction_max_permille` of its net due was *paid short*: the rest is an open
//! deduction since the last cash applied to it, not silent non-payment. An unnamed payment
//! that settled older statements in full and reached this one in part (a lump paying
//! everything due, short) measures that limit against the lump: its 2 % shortfall lands
//! on the last statement it reached, where it may be a fifth of that statement. A statement the
//! label disputed ([`backstock_ledger::facts::DeductionDispute`]) keeps its whole open
//! amount as a disputed deduction while cash is applied to it (with none — its payment
//! reversed — it is unpaid, disputed or not). Payments that name their statement (remittance
//! advice) make deductions visible; unnamed ones are matched as above.

use crate::days_i32;
use crate::view::{StmtRef, View};
use backstock_domain::{Currency, Date, PartyId};
use backstock_ledger::facts::PaymentMonths;
use backstock_ledger::LineKind;

/// What settled (part of) a statement.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum AppKind {
    Cash,
    /// A statement whose net is negative.
    CreditNote,
    /// A deduction the label accepted.
    Deduction,
    /// A balance the label wrote off.
    WriteOff,
}

#[derive(Debug, Clone)]
pub(crate) struct App<'a> {
    pub payment_id: &'a str,
    pub date: Date,
    pub amount: i128,
    /// Cash (a payment) or not (a credit note, an accepted deduction, a write-off).
    pub cash: bool,
    pub kind: AppKind,
}

#[derive(Debug, Clone)]
pub(crate) struct StmtCalc<'a> {
    pub r: StmtRef<'a>,
    /// Net due (negative for a credit note).
    pub net: i128,
    pub due_on: Date,
    pub apps: Vec<App<'a>>,
    pub reserve_withheld: i128,
    pub reserve_released: i128,
    /// The label disputed what was deducted from it (and the dispute is on record).
    pub disputed: bool,
    /// The largest unnamed payment that settled older statements in full and then paid
    /// part of this one (a lump paying everything due, short): what it left open here
    /// is measured as a short-pay of that payment, not of this statement alone.
    pub lump: i128,
    /// The payment calendar of the agreement in force at the period's end, when it
    /// has one ([`crate::cycle`]).
    pub calendar: Option<&'a PaymentMonths>,
}

impl StmtCalc<'_> {
    pub fn due_amount(&self) -> i128 {
        self.net.max(0)
    }
    pub fn applied(&self) -> i128 {
        self.apps.iter().map(|a| a.amount).sum()
    }
    pub fn cash_applied(&self) -> i128 {
        self.apps.iter().filter(|a| a.cash).map(|a| a.amount).sum()
    }
    pub fn credit_applied(&self) -> i128 {
        self.applied_of(AppKind::CreditNote)
    }
    pub fn applied_of(&self, kind: AppKind) -> i128 {
        self.apps
            .iter()
            .filter(|a| a.kind == kind)
            .map(|a| a.amount)
            .sum()
    }
    /// The date of the last cash applied to it.
    pub fn last_cash_on(&self) -> Option<Date> {
        self.apps
            .iter()
            .filter(|a| a.cash && a.amount > 0)
            .map(|a| a.date)
            .max()
    }
    /// The part of the open amount that is a deduction (paid short, or disputed), given
    /// the largest short-pay that still counts as a deduction.
    pub fn deduction(&self, max_permille: i64) -> i128 {
        let open = self.open();
        if open <= 0 {
            return 0;
        }
        // A deduction is what a payment left short: with no cash applied (none came, or
        // the one that came was reversed) the statement is simply unpaid, disputed or
        // not — else a dispute followed by a bounced payment would show the whole
        // statement as a deduction, one `deduction accept` could book away.
        let paid_some = self.cash_applied() > 0;
        if !paid_some {
            return 0;
        }
        if self.disputed {
            return open;
        }
        if open <= self.short_pay_allowance(max_permille) {
            open
        } else {
            0
        }
    }
    /// The most a payment may leave open on it and still have paid it short (a
    /// deduction) rather than not paid it: `max_permille` of its net due — or of the
    /// lump that reached it last: a lump that paid several statements 2 % short leaves
    /// the shortfall on the last one, where it may be a fifth of that statement.
    pub fn short_pay_allowance(&self, max_permille: i64) -> i128 {
        self.due_amount().max(self.lump) * i128::from(max_permille.max(0)) / 1000
    }
    /// Open and not a deduction: what the distributor has simply not paid.
    pub fn unpaid(&self, max_permille: i64) -> i128 {
        self.open() - self.deduction(max_permille)
    }
    pub fn open(&self) -> i128 {
        (self.due_amount() - self.applied()).max(0)
    }
    /// Days from the due date to `as_of` (positive when past due).
    pub fn days_past_due(&self, as_of: Date) -> i64 {
        i64::from(self.due_on.days_until(as_of))
    }
    /// The date the last application settled it, when fully paid.
    pub fn settled_on(&self) -> Option<Date> {
        if self.due_amount() > 0 && self.open() == 0 {
            self.apps
                .iter()
                .filter(|a| a.amount > 0)
                .map(|a| a.date)
                .max()
        } else {
            None
        }
    }
}

#[derive(Debug, Clone)]
pub(crate) struct Withholding<'a> {
    pub statement_id: &'a str,
    pub period_end: Date,
    pub amount: i128,
    pub released: i128,
    pub due_back: Date,
}

/// Money simply unpaid past due (see [`Book::arrears_of`]).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct Arrears {
    pub amount: i128,
    pub oldest_days: i64,
    pub statements: i64,
}

#[derive(Debug, Clone)]
pub(crate) struct CashIn {
    pub date: Date,
    pub amount: i128,
}

#[derive(Debug, Clone)]
pub(crate) struct Book<'a> {
    pub currency: Currency,
    pub as_of: Date,
    /// Sorted by due date, period end, recording order.
    pub stmts: Vec<StmtCalc<'a>>,
    pub unapplied: i128,
    pub cash: Vec<CashIn>,
    pub withholdings: Vec<Withholding<'a>>,
    /// Released beyond what was seen withheld (withheld before backstock).
    pub released_unmatched: i128,
    pub warnings: Vec<String>,
}

enum CreditKind<'a> {
    Cash {
        statement_id: Option<&'a str>,
    },
    Note,
    Settle {
        statement_id: Option<&'a str>,
        kind: AppKind,
    },
}

struct Credit<'a> {
    date: Date,
    seq: usize,
    id: &'a str,
    amount: i128,
    kind: CreditKind<'a>,
}

impl<'a> Book<'a> {
    pub fn build(
        view: &View<'a>,
        distributor: &PartyId,
        currency: Currency,
        terms_days: u32,
        release_days: u32,
    ) -> Book<'a> {
        let mut warnings = Vec::new();
        let mut stmts: Vec<StmtCalc<'a>> = Vec::new();
        for r in view
            .statements_of(distributor)
            .filter(|s| s.st.currency == currency)
        {
            let net = match r.st.net_due_minor() {
                Some(n) => i128::from(n),
                None => {
                    warnings.push(format!(
                        "statement {}: its lines overflow when added up; counted as zero",
                        r.st.statement_id
                    ));
                    0
                }
            };
            let (mut withheld, mut released) = (0i128, 0i128);
            for l in &r.st.lines {
                match l.kind {
                    LineKind::ReserveWithheld => withheld += i128::from(l.amount_minor),
                    LineKind::ReserveReleased => released += i128::from(l.amount_minor),
                    _ => {}
                }
            }
            // Due on the terms of the agreement in force at the period's end: terms
            // renegotiated later do not make earlier statements late (or early).
            let in_force = view.agreement_on(distributor, r.st.period_end);
            let terms_days = in_force.map_or(terms_days, |a| a.payment_terms_days);
            let calendar = in_force
                .map(|a| &a.payment_months)
                .filter(|m| !m.is_empty());
            stmts.push(StmtCalc {
                r: *r,
                net,
                due_on: r.st.period_end.add_days(days_i32(i64::from(terms_days))),
                apps: Vec::new(),
                reserve_withheld: withheld,
                reserve_released: released,
                disputed: view
                    .disputes
                    .iter()
                    .any(|x| &x.distributor == distributor && x.statement_id == r.st.statement_id),
                lump: 0,
                calendar,
            });
        }
        stmts.sort_by_key(|s| (s.due_on, s.r.st.period_end, s.r.seq));

        // Credits in date order.
        let mut credits: Vec<Credit<'a>> = Vec::new();
        let mut cash = Vec::new();
        for p in view.payments_of(distributor) {
            if p.amount.currency() != currency {
                continue;
            }
            let amount = i128::from(p.amount.minor());
            cash.push(CashIn {
                date: p.date,
                amount,
            });
            credits.push(Credit {
                date: p.date,
                seq: p.seq,
                id: p.payment_id,
                amount,
                kind: CreditKind::Cash {
                    statement_id: p.statement_id,
                },
            });
        }
        for x in view
            .settlements
            .iter()
            .filter(|x| x.distributor == distributor && x.amount.currency() == currency)
        {
            credits.push(Credit {
                date: x.date,
                seq: x.seq,
                id: x.entry_id,
                amount: i128::from(x.amount.minor()),
                kind: CreditKind::Settle {
                    statement_id: x.statement_id,
                    kind: if x.reason.is_some() {
                        AppKind::Deduction
                    } else {
                        AppKind::WriteOff
                    },
                },
            });
        }
        for s in &stmts {
            if s.net < 0 {
                credits.push(Credit {
                    date: s.r.received_on(),
                    seq: s.r.seq,
                    id: s.r.st.statement_id.as_str(),
                    amount: -s.net,
                    kind: CreditKind::Note,
                });
            }
        }
        credits.sort_by_key(|c| (c.date, c.seq));

        let mut unapplied: i128 = 0;
        let mut log: Vec<(usize, usize)> = Vec::new();
        // Credit notes received so far: see `net_credit_notes`.
        let mut notes: Vec<Note<'a>> = Vec::new();
        for c in credits {
            if c.amount < 0 {
                let mut owe = -c.amount;
                if unapplied > 0 {
                    let t = unapplied.min(owe);
                    unapplied -= t;
                    owe -= t;
                }
                while owe > 0 {
                    let Some((i, k)) = log.pop() else { break };
                    if let Some(app) = stmts.get_mut(i).and_then(|s| s.apps.get_mut(k)) {
                        let t = app.amount.min(owe);
                        app.amount -= t;
                        owe -= t;
                        if app.amount > 0 {
                            log.push((i, k));
                        }
                    }
                }
                unapplied -= owe;
                continue;
            }
            let mut left = c.amount;
            if unapplied < 0 {
                let t = left.min(-unapplied);
                unapplied += t;
                left -= t;
            }
            let (app_kind, named) = match c.kind {
                CreditKind::Cash { statement_id } => (AppKind::Cash, statement_id),
                CreditKind::Note => (AppKind::CreditNote, None),
                CreditKind::Settle { statement_id, kind } => (kind, statement_id),
            };
            let mut apply = |i: usize, left: &mut i128, stmts: &mut Vec<StmtCalc<'a>>| {
                if let Some(s) = stmts.get_mut(i) {
                    let t = s.open().min(*left);
                    if t > 0 {
                        s.apps.push(App {
                            payment_id: c.id,
                            date: c.date,
                            amount: t,
                            cash: app_kind == AppKind::Cash,
                            kind: app_kind,
                        });
                        log.push((i, s.apps.len() - 1));
                        *left -= t;
                    }
                }
            };
            if let Some(sid) = named {
                // The statement named, as written or (when only one matches) in another
                // case; then the parts of it posted later under its id (`ID+CODE`: lines
                // held for an unknown code until an alias named it), which the
                // distributor's remittance counts as that statement.
                let exact = stmts.iter().position(|s| s.r.st.statement_id == sid);
                let named_at = exact.or_else(|| {
                    let mut like = stmts
                        .iter()
                        .enumerate()
                        .filter(|(_, s)| s.r.st.statement_id.eq_ignore_ascii_case(sid));
                    match (like.next(), like.next()) {
                        (Some((i, _)), None) => Some(i),
                        _ => None,
                    }
                });
                if let Some(i) = named_at {
                    if app_kind == AppKind::Cash {
                        unapplied += displace_credit_notes(i, left, &mut stmts, &mut notes);
                    }
                    apply(i, &mut left, &mut stmts);
                    let head = format!("{}+", stmts[i].r.st.statement_id);
                    for k in 0..stmts.len() {
                        if left <= 0 {
                            break;
                        }
                        if stmts[k].r.st.statement_id.starts_with(&head) {
                            apply(k, &mut left, &mut stmts);
                        }
                    }
                    if app_kind == AppKind::Cash {
                        unapplied -= net_credit_notes(i, &mut stmts, &mut notes, c.date);
                    }
                }
            } else if app_kind == AppKind::Cash {
                // Remittance matching: an unnamed payment that pays an open statement
                // short (at least 90 % of it, no more than all) is that statement's.
                if let Some(i) = match_short_pay(&stmts, left, c.date) {
                    apply(i, &mut left, &mut stmts);
                }
            }
            let unnamed_cash = named.is_none() && app_kind == AppKind::Cash;
            let (mut settled, mut last) = (0usize, None);
            for i in 0..stmts.len() {
                if left <= 0 {
                    break;
                }
                let before = left;
                apply(i, &mut left, &mut stmts);
                if left < before {
                    last = Some(i);
                    if stmts[i].open() == 0 {
                        settled += 1;
                    }
                }
            }
            if unnamed_cash && left <= 0 {
                // A lump: older statements settled in full, the last one reached in part.
                if let Some(s) = last.and_then(|i| stmts.get_mut(i)) {
                    if s.open() > 0 && settled > 0 {
                        s.lump = s.lump.max(c.amount);
                    }
                }
            }
            unapplied += left;
            if app_kind == AppKind::CreditNote {
                notes.push(Note {
                    id: c.id,
                    received: c.date,
                    amount: c.amount,
                    floating: left.max(0),
                    netted: false,
                });
            }
        }

        // Reserves: releases go to the oldest withholding first (as the ledger does).
        let mut order: Vec<usize> = (0..stmts.len()).collect();
        order.sort_by_key(|&i| stmts.get(i).map(|s| (s.r.st.period_end, s.r.seq)));
        let mut withholdings: Vec<Withholding<'a>> = Vec::new();
        let mut released_unmatched: i128 = 0;
        for i in order {
            let Some(s) = stmts.get(i) else { continue };
            let mut release = s.reserve_released.max(0) + (-s.reserve_withheld).max(0);
            for w in withholdings.iter_mut() {
                if release <= 0 {
                    break;
                }
                let t = (w.amount - w.released).min(release);
                if t > 0 {
                    w.released += t;
                    release -= t;
                }
            }
            released_unmatched += release;
            if s.reserve_withheld > 0 {
                withholdings.push(Withholding {
                    statement_id: s.r.st.statement_id.as_str(),
                    period_end: s.r.st.period_end,
                    amount: s.reserve_withheld,
                    released: 0,
                    due_back: s.r.st.period_end.add_days(days_i32(i64::from(
                        view.agreement_on(distributor, s.r.st.period_end)
                            .map_or(release_days, |a| a.reserve_release_days),
                    ))),
                });
            }
        }

        Book {
            currency,
            as_of: view.as_of,
            stmts,
            unapplied,
            cash,
            withholdings,
            released_unmatched,
            warnings,
        }
    }

    pub fn open_total(&self) -> i128 {
        self.stmts.iter().map(|s| s.open()).sum()
    }

    /// Open balance minus unapplied credit.
    pub fn net_receivable(&self) -> i128 {
        self.open_total() - self.unapplied
    }

    /// Open amounts past due by more than `grace` days, and the oldest such days: only what is simply unpaid (deductions — short pays
    /// and disputed amounts — are judged apart), and only when that reaches `floor`:
    /// a residual below the label's materiality floor arms nothing.
    pub fn unpaid_arrears(&self, grace: i64, max_permille: i64, floor: i128) -> (i128, i64) {
        let a = self.arrears_of(grace, max_permille, floor);
        (a.amount, a.oldest_days)
    }

    /// [`Book::unpaid_arrears`] with how many statements make it up.
    pub fn arrears_of(&self, grace: i64, max_permille: i64, floor: i128) -> Arrears {
        let mut a = Arrears::default();
        for s in &self.stmts {
            let dpd = s.days_past_due(self.as_of);
            let unpaid = s.unpaid(max_permille);
            if unpaid > 0 && dpd > grace {
                a.amount += unpaid;
                a.oldest_days = a.oldest_days.max(dpd);
                a.statements += 1;
            }
        }
        if a.amount < floor.max(1) {
            return Arrears::default();
        }
        a
    }

    /// What the distributor billed in the `days` before the book's date: Σ net due of
    /// statements whose period ended then (credit notes count negative).
    pub fn billed_since(&self, days: i64) -> i128 {
        let from = crate::minus_days(self.as_of, days);
        self.stmts
            .iter()
            .filter(|s| s.r.st.period_end > from && s.r.st.period_end <= self.as_of)
            .map(|s| s.net)
            .sum::<i128>()
            .max(0)
    }

    /// Withheld − released, as the statements say (may be negative when releases of
    /// reserves withheld before backstock appear).
    pub fn reserve_held(&self) -> i128 {
        self.stmts
            .iter()
            .map(|s| s.reserve_withheld - s.reserve_released)
            .sum()
    }
}

/// A credit note as the application follows it: applied oldest first when it came,
/// then moved by a remittance that names the statement it was taken off
/// ([`net_credit_notes`]) or pushed off a statement a remittance pays in full
/// ([`displace_credit_notes`]).
struct Note<'a> {
    id: &'a str,
    received: Date,
    amount: i128,
    /// The part of it on no statement (counted in the book's unapplied credit).
    floating: i128,
    /// Settled where a remittance put it: not moved again.
    netted: bool,
}

/// A payment naming statement `i` for more than is open on it, where credit notes were
/// applied (oldest first) when they came: the distributor paid the statement in full
/// and kept its credit notes for another remittance, so the notes make room for the
/// payment (newest first) and float, as unapplied credit, until a remittance nets them
/// ([`net_credit_notes`]). Returns what was set floating.
fn displace_credit_notes(
    i: usize,
    paying: i128,
    stmts: &mut [StmtCalc<'_>],
    notes: &mut [Note<'_>],
) -> i128 {
    let Some(s) = stmts.get_mut(i) else { return 0 };
    let mut over = paying - s.open();
    let mut freed = 0;
    for a in s.apps.iter_mut().rev() {
        if over <= 0 {
            break;
        }
        if a.kind != AppKind::CreditNote || a.amount <= 0 {
            continue;
        }
        let Some(n) = notes.iter_mut().find(|n| n.id == a.payment_id && !n.netted) else {
            continue;
        };
        let t = a.amount.min(over);
        // Kept, reduced (not removed): the log of applications a bounced payment
        // takes back from indexes them.
        a.amount -= t;
        n.floating += t;
        over -= t;
        freed += t;
    }
    freed
}

/// A payment naming statement `i` that leaves it short by at least what a credit note
/// the distributor had sent by then covers elsewhere (on other statements, or floating
/// unapplied) nets that note: distributors take a credit note off the next remittance
/// and name the statement they pay. Such a note — applied oldest first when it came
/// (often to old short-pay residuals) — is moved to the statement named, whose
/// shortfall it explains; what it covered before is open again as it was. A note the
/// remittance finds wholly on the statement it names stays there for good. Notes are
/// tried newest first (the one a distributor takes off its next payment). Returns the
/// floating credit so applied (no longer unapplied).
fn net_credit_notes<'a>(
    i: usize,
    stmts: &mut [StmtCalc<'a>],
    notes: &mut [Note<'a>],
    on: Date,
) -> i128 {
    let mut short = stmts.get(i).map_or(0, |s| s.open());
    let mut unfloated = 0;
    for n in notes.iter_mut().rev() {
        if n.netted || n.received > on || n.amount <= 0 {
            continue;
        }
        let id = n.id;
        let applied = |here: bool| -> i128 {
            stmts
                .iter()
                .enumerate()
                .filter(|(k, _)| (*k == i) == here)
                .flat_map(|(_, s)| s.apps.iter())
                .filter(|a| a.kind == AppKind::CreditNote && a.payment_id == id)
                .map(|a| a.amount)
                .sum()
        };
        let (here, elsewhere) = (applied(true), applied(false));
        if here == n.amount {
            // Already wholly on the statement this payment names: the remittance
            // confirms it, and it stays there.
            n.netted = true;
            continue;
        }
        let movable = elsewhere + n.floating;
        if short <= 0 || here + movable != n.amount || movable <= 0 || movable > short {
            continue;
        }
        for (k, s) in stmts.iter_mut().enumerate() {
            if k == i {
                continue;
            }
            for a in s.apps.iter_mut() {
                if a.kind == AppKind::CreditNote && a.payment_id == id {
                    // Kept at zero (not removed): the log of applications a
                    // bounced payment takes back from indexes them.
                    a.amount = 0;
                }
            }
        }
        let s = &mut stmts[i];
        s.apps.push(App {
            payment_id: id,
            date: n.received,
            amount: movable,
            cash: false,
            kind: AppKind::CreditNote,
        });
        short -= movable;
        unfloated += n.floating;
        n.floating = 0;
        n.netted = true;
    }
    unfloated
}

/// An unnamed payment is matched to the oldest open statement it pays at least this
/// share (per-mille) of, and no more than all of: a short pay is matched as the
/// statement it was meant for, so its deduction stays on that statement instead of
/// moving forward from payment to payment.
const MATCH_MIN_PERMILLE: i128 = 900;

fn match_short_pay(stmts: &[StmtCalc<'_>], amount: i128, on: Date) -> Option<usize> {
    let p = stmts.iter().position(|s| {
        let open = s.open();
        s.net > 0
            && s.r.received_on() <= on
            && open > 0
            && amount <= open
            && amount.saturating_mul(1000) >= open.saturating_mul(MATCH_MIN_PERMILLE)
    })?;
    // Not while an older statement is still really unpaid (open by more than a short
    // pay's residual): a payment on account of a round sum that happens to come near
    // a newer statement's amount pays the oldest first, as the label would apply it —
    // it does not leave the older one looking months unpaid.
    // (A statement whose shortfall the label disputes is not "unpaid": the payment
    // is the newer statement's, and the dispute stays where it is.)
    let older_unpaid = stmts[..p].iter().any(|s| {
        s.net > 0
            && !s.disputed
            && s.r.received_on() <= on
            && s.open().saturating_mul(1000) > s.net.saturating_mul(1000 - MATCH_MIN_PERMILLE)
    });
    (!older_unpaid).then_some(p)
}

/// Currencies a distributor's statements and payments are in.
pub(crate) fn currencies(view: &View<'_>, d: &PartyId) -> Vec<Currency> {
    let mut out: Vec<Currency> = view
        .statements_of(d)
        .map(|s| s.st.currency)
        .chain(view.payments_of(d).map(|p| p.amount.currency()))
        .collect();
    out.sort();
    out.dedup();
    out
}
