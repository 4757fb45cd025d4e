//! A distributor that pays in lumps: everything due, in one payment, every few months.
//!
//! Some distributors pay on a calendar of their own rather than statement by
//! statement: twice a year (June and December), or every couple of months, each time
//! settling everything that has fallen due. Judged by each statement's due date, such a
//! distributor is months "late" on most statements and its coverage falls to a tenth
//! just before every payment, so every early-warning signal fires on a distributor
//! that has never missed a cent. Its habit, once shown, is the measure instead: a
//! statement that falls due after one payment day is expected on the next.
//!
//! The habit is established only by what the distributor did (nothing is assumed),
//! and over a year, so that a distributor drifting into paying two statements at a
//! time is not taken for one that has always paid in lumps: its payment days of the
//! [`HABIT_DAYS`] up to its last and the one before them (at least [`PAYDAYS_SHOWN`]
//! in all), each gap between them at least half as long again as its statement
//! period (45 days for a
//! monthly distributor, 136 for a quarterly one: it pays less often than it states —
//! a quarterly distributor paying each statement is judged statement by statement)
//! and at most [`MAX_GAP_DAYS`], and each of those payment days settled everything
//! then past due by more than the arrears grace (short-pays within the deduction
//! limit, and together less than the materiality floor, aside). A distributor that
//! pays in lumps but leaves statements unpaid each time, or pays as often as it
//! states, has no cycle and is judged statement by statement as before.
//!
//! Under a cycle, a statement due after the last payment day is expected by the last
//! payment day plus the longest gap of the last ones, give or take their spread
//! ([`Shown::next_expected`]). From that day it is late like any other: a distributor
//! that misses its lump is seen as soon as the lump was due, not half a year after its
//! statements were.
//!
//! A label that signed for such a calendar need not wait a year for the distributor
//! to show it: the agreement can say so (`payment_months`, "6;12": it pays everything
//! due in June and December). Then the calendar is the measure from the first day
//! ([`Agreed`]): a statement due before a payment month begins is expected by that
//! month's last day (one due within the month may wait for the next), and from then
//! on it is late like any other. What the agreement says governs over what the
//! payments show.

use crate::book::Book;
use crate::Thresholds;
use backstock_domain::Date;
use backstock_ledger::facts::PaymentMonths;

/// Payments this many days apart or less are one payment day (a lump paid in parts).
const SAME_PAYDAY_DAYS: i64 = 7;
/// Payment days that establish the habit, at least (two gaps).
const PAYDAYS_SHOWN: usize = 3;
/// A cycle is paying less often than this: a distributor paying monthly is judged
/// statement by statement (its lateness is its own measure).
const MIN_GAP_DAYS: i64 = 45;
/// The habit is shown over about a year (eleven months: twice a year "mid-June" is
/// one June to the next give or take ten days either way).
const HABIT_DAYS: i64 = 330;
/// A cycle is paying at least twice a year (half a year and a few weeks): a
/// distributor paying once a year is not given a year's grace.
const MAX_GAP_DAYS: i64 = 200;

/// A distributor's payment cycle (see the module's docs): written in its agreement,
/// or shown by its payments.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Cycle {
    Agreed(Agreed),
    Shown(Shown),
}

impl Cycle {
    /// The cycle a distributor is judged on, on the book's date: its agreement's
    /// payment calendar when it has one, else the one its payments show, if any.
    pub(crate) fn of(
        book: &Book<'_>,
        months: &PaymentMonths,
        t: &Thresholds,
        floor: i128,
        period_days: i64,
    ) -> Option<Cycle> {
        if months.is_empty() {
            Shown::of(book, t, floor, period_days).map(Cycle::Shown)
        } else {
            Some(Cycle::Agreed(Agreed {
                months: months.clone(),
                as_of: book.as_of,
            }))
        }
    }

    /// Moves each statement's due date to the day its cycle expects it paid, and keeps
    /// the book's order by due date. Payments were applied on the real due dates
    /// (oldest first) when the book was built; only the judging moves. Under an
    /// agreed calendar, each statement by the calendar of the agreement in force at
    /// its period's end (one from before the calendar keeps its due date).
    pub(crate) fn apply(&self, book: &mut Book<'_>) {
        for s in &mut book.stmts {
            s.due_on = match self {
                Cycle::Agreed(_) => s.calendar.map_or(s.due_on, |m| payday_after(m, s.due_on)),
                Cycle::Shown(c) => c.expected_on(s.due_on),
            };
        }
        book.stmts
            .sort_by_key(|s| (s.due_on, s.r.st.period_end, s.r.seq));
    }

    /// The cycle as data, for the assessment.
    pub(crate) fn data(&self) -> crate::signals::PaymentCycle {
        match self {
            Cycle::Agreed(a) => {
                let (every_days_min, every_days_max) = a.gaps_days();
                crate::signals::PaymentCycle {
                    every_days_min,
                    every_days_max,
                    last_payday: a.last_payday(),
                    next_expected: a.next_expected(),
                    payment_months: a.months.months().to_vec(),
                }
            }
            Cycle::Shown(s) => crate::signals::PaymentCycle {
                every_days_min: s.gap_min_days,
                every_days_max: s.gap_max_days,
                last_payday: s.last_payday(),
                next_expected: s.next_expected(),
                payment_months: Vec::new(),
            },
        }
    }

    /// The sentence a signal adds: the habit and what it makes of the statements.
    pub(crate) fn text(&self) -> String {
        match self {
            Cycle::Agreed(a) => format!(
                " Its agreement has it pay everything due in {}, so a statement counts as due at the end of the first of those months after its terms; the next payment is due by {}.",
                a.months.names(),
                a.next_expected()
            ),
            Cycle::Shown(s) => s.text(),
        }
    }
}

/// A payment calendar written in the agreement, on a date.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Agreed {
    /// Never empty ([`Cycle::of`]).
    months: PaymentMonths,
    as_of: Date,
}

/// The last day of the first of `months` that begins after `due_on` (`due_on` itself
/// when `months` is empty).
fn payday_after(months: &PaymentMonths, due_on: Date) -> Date {
    let from = due_on.first_of_month();
    (1..=12)
        .map(|k| from.add_months(k))
        .find(|m| months.contains(m.month()))
        .map_or(due_on, Date::last_of_month)
}

impl Agreed {
    /// The last day of the last payment month ended on or before the date.
    fn last_payday(&self) -> Date {
        let from = self.as_of.first_of_month();
        (0..=12)
            .map(|k| from.add_months(-k).last_of_month())
            .find(|end| *end <= self.as_of && self.months.contains(end.month()))
            .unwrap_or(self.as_of)
    }

    /// The last day of the first payment month not ended on the date.
    fn next_expected(&self) -> Date {
        let from = self.as_of.first_of_month();
        (0..=12)
            .map(|k| from.add_months(k).last_of_month())
            .find(|end| *end > self.as_of && self.months.contains(end.month()))
            .unwrap_or(self.as_of)
    }

    /// The shortest and longest days between one payment month's end and the next
    /// (over the year of the date: February's length moves them a day or two).
    fn gaps_days(&self) -> (i64, i64) {
        let ends: Vec<Date> = (0..24)
            .map(|k| self.as_of.first_of_month().add_months(k).last_of_month())
            .filter(|end| self.months.contains(end.month()))
            .collect();
        let gaps: Vec<i64> = ends
            .windows(2)
            .map(|w| i64::from(w[0].days_until(w[1])))
            .collect();
        match (gaps.iter().min(), gaps.iter().max()) {
            (Some(min), Some(max)) => (*min, *max),
            // Unreachable: two years hold every month twice.
            _ => (365, 366),
        }
    }
}

/// A cycle the distributor's payments show (see the module's docs).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Shown {
    /// The first day of each payment day up to the book's date, oldest first.
    paydays: Vec<Date>,
    /// The shortest and the longest gap between the payment days that establish it.
    gap_min_days: i64,
    gap_max_days: i64,
}

impl Shown {
    /// The cycle the book's payments show on its date, if any.
    fn of(book: &Book<'_>, t: &Thresholds, floor: i128, period_days: i64) -> Option<Shown> {
        let as_of = book.as_of;
        let mut dates: Vec<Date> = book
            .cash
            .iter()
            .filter(|c| c.amount > 0 && c.date <= as_of)
            .map(|c| c.date)
            .collect();
        dates.sort_unstable();
        // (first, last) day of each payment day.
        let mut days: Vec<(Date, Date)> = Vec::new();
        for d in dates {
            match days.last_mut() {
                Some((_, last)) if i64::from(last.days_until(d)) <= SAME_PAYDAY_DAYS => *last = d,
                _ => days.push((d, d)),
            }
        }
        // The payment days of the year up to its last, and the one before them.
        let last = days.last()?.0;
        let year_before = crate::minus_days(last, HABIT_DAYS);
        let first = days.iter().rposition(|(d, _)| *d <= year_before)?;
        let shown = days.get(first..)?;
        if shown.len() < PAYDAYS_SHOWN {
            return None;
        }
        let gaps: Vec<i64> = shown
            .windows(2)
            .map(|w| i64::from(w[0].0.days_until(w[1].0)))
            .collect();
        let gap_min_days = *gaps.iter().min()?;
        let gap_max_days = *gaps.iter().max()?;
        // Less often than it states, by half a period at least.
        let min_gap = MIN_GAP_DAYS.max(period_days.saturating_mul(3) / 2);
        if gap_min_days < min_gap || gap_max_days > MAX_GAP_DAYS {
            return None;
        }
        let max = t.deduction_max_permille;
        let grace = t.arrears_grace_days.max(0);
        for &(first, last) in shown {
            // What was past due by the grace on the payment day and left open after it.
            let due_by = crate::minus_days(first, grace);
            let left: i128 = book
                .stmts
                .iter()
                .filter(|s| s.due_amount() > 0 && s.due_on <= due_by)
                .map(|s| {
                    let paid: i128 = s
                        .apps
                        .iter()
                        .filter(|a| a.date <= last)
                        .map(|a| a.amount)
                        .sum();
                    let open = (s.due_amount() - paid).max(0);
                    // Paid short within the deduction limit: a deduction, judged apart.
                    let short_pay = paid > 0 && open <= s.short_pay_allowance(max);
                    if short_pay {
                        0
                    } else {
                        open
                    }
                })
                .sum();
            if left >= floor.max(1) {
                return None;
            }
        }
        let paydays = days.iter().map(|(first, _)| *first).collect();
        Some(Shown {
            paydays,
            gap_min_days,
            gap_max_days,
        })
    }

    fn last_payday(&self) -> Date {
        // `of` never builds a cycle with fewer than `PAYDAYS_SHOWN` payment days.
        *self.paydays.last().expect("a cycle has payment days")
    }

    /// The day the next payment is expected: the last payment day, the longest of the
    /// gaps that establish the cycle and its give or take (the spread of those gaps,
    /// at least a twelfth of the longest: "mid-June" is two weeks either way).
    fn next_expected(&self) -> Date {
        let give = (self.gap_max_days - self.gap_min_days).max(self.gap_max_days / 12);
        self.last_payday()
            .add_days(crate::days_i32(self.gap_max_days + give))
    }

    /// When a statement due on `due_on` is expected to be paid: the first payment day
    /// on or after it, or the next expected one. Statements due before the cycle (a
    /// longest gap before its first establishing payment day) keep their due date.
    fn expected_on(&self, due_on: Date) -> Date {
        let from = self
            .paydays
            .len()
            .checked_sub(PAYDAYS_SHOWN)
            .map_or(self.paydays.first(), |i| self.paydays.get(i))
            .map(|d| d.add_days(-crate::days_i32(self.gap_max_days)));
        if from.is_some_and(|f| due_on < f) {
            return due_on;
        }
        let i = self.paydays.partition_point(|d| *d < due_on);
        self.paydays
            .get(i)
            .copied()
            .unwrap_or_else(|| self.next_expected().max(due_on))
    }

    fn text(&self) -> String {
        let every = if self.gap_min_days == self.gap_max_days {
            format!("every {} days", self.gap_max_days)
        } else {
            format!("every {}–{} days", self.gap_min_days, self.gap_max_days)
        };
        format!(
            " It pays everything due in one payment {every} (the last on {}), so a statement counts as due on the first payment day after its terms; the next is expected by {}.",
            self.last_payday(),
            self.next_expected()
        )
    }
}
