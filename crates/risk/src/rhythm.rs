//! Each distributor's own rhythm: how long its statement periods are, how long after a
//! period it usually sends its statement, how far back the payment window must reach
//! to see enough of its statements, and the materiality floor of its size.
//!
//! These turn the label's thresholds (in days and amounts) into windows that fit the
//! distributor, so that a quarterly distributor with 120-day terms is judged by its
//! quarters, and a distributor that always issues its statements five weeks after the
//! month is not "late" every month.

use crate::book::Book;
use crate::view::View;
use crate::Thresholds;
use backstock_domain::Currency;
use backstock_ledger::facts::Agreement;

/// At most this many of the distributor's statements set its usual issue lag.
const LAG_SAMPLE: usize = 12;
/// A usual issue lag is never taken as longer than this (a distributor that took half
/// a year to send statements would otherwise never be late).
const LAG_MAX_DAYS: i64 = 120;

/// Days in one of the agreement's statement periods (30 or 91).
pub(crate) fn period_days(a: &Agreement) -> i64 {
    i64::from(a.statement_frequency.months()) * 365 / 12
}

/// Whether arrears reach across two statement periods, the span the thresholds
/// mean by "not one late payment but a trend": two statements past due, or, for a
/// distributor that states less often than monthly, its one statement past due for
/// `after_days` and for the further time in which a monthly distributor's second
/// statement would have joined it (its period less a month). One quarterly statement
/// paid 80-100 days late, an everyday glitch, does not reach it; a monthly
/// distributor is judged by the count alone, as before.
pub(crate) fn arrears_span_two_periods(
    a: &Agreement,
    statements_past_due: i64,
    oldest_days: i64,
    after_days: i64,
) -> bool {
    const MONTH_DAYS: i64 = 30;
    let period = period_days(a);
    statements_past_due >= 2
        || (period > 2 * MONTH_DAYS && oldest_days >= after_days + period - MONTH_DAYS)
}

/// The distributor's usual issue lag in days (period end → received), the median of
/// its most recent statements received a year or more before the view's date; when it
/// has fewer than three such, of its most recent statements of any age. `None` with
/// fewer than three statements in all.
///
/// After a change of rhythm (a later agreement states quarterly where the earlier one
/// stated monthly) only statements of the agreement's own period length count: how
/// soon a distributor sends a month's statement says nothing of how soon it sends a
/// quarter's. Until three such have come, the lag is not known (`None`).
pub(crate) fn usual_issue_lag_days(view: &View<'_>, a: &Agreement) -> Option<i64> {
    let year_ago = crate::minus_days(view.as_of, 365);
    let want = period_days(a);
    // A statement period about as long as the agreement's (half a period either way).
    let same_rhythm = |s: &crate::view::StmtRef<'_>| {
        let days = i64::from(s.st.period_start.days_until(s.st.period_end)) + 1;
        (days - want).abs() <= want / 2
    };
    let rhythm_changed = view.agreement_history.get(&a.distributor).is_some_and(|h| {
        h.iter()
            .any(|x| x.statement_frequency != a.statement_frequency)
    });
    let matching = view
        .statements_of(&a.distributor)
        .filter(|s| same_rhythm(s))
        .count();
    let only_same = matching >= 3 || rhythm_changed;
    // A credit note (a statement of returns alone, owing the distributor) comes on its
    // own schedule — January's returns of the holiday quarter, ten days after it — and
    // says nothing of when the statements of sales come.
    let credit_note = |s: &crate::view::StmtRef<'_>| s.st.net_due_minor().is_some_and(|n| n < 0);
    let lags = |old_only: bool| -> Vec<i64> {
        let mut v: Vec<(backstock_domain::Date, i64)> = view
            .statements_of(&a.distributor)
            .filter(|s| !credit_note(s))
            .filter(|s| !only_same || same_rhythm(s))
            .filter(|s| !old_only || s.received_on() <= year_ago)
            .map(|s| {
                (
                    s.received_on(),
                    i64::from(s.st.period_end.days_until(s.received_on())),
                )
            })
            .collect();
        v.sort();
        v.into_iter()
            .rev()
            .take(LAG_SAMPLE)
            .map(|(_, l)| l)
            .collect()
    };
    let mut sample = lags(true);
    if sample.len() < 3 {
        sample = lags(false);
    }
    if sample.len() < 3 {
        return None;
    }
    sample.sort_unstable();
    let mid = sample.get(sample.len() / 2).copied()?;
    Some(mid.clamp(0, LAG_MAX_DAYS))
}

/// Days after a period's end by which its statement is expected: the usual issue lag
/// plus the slack, and never less than the grace. While the lag is not known, the
/// grace, or half a period for a distributor that states less often than monthly (a
/// quarter's statement commonly comes five or six weeks after it).
pub(crate) fn expected_lag_days(view: &View<'_>, a: &Agreement, t: &Thresholds) -> i64 {
    let grace = t.statement_grace_days;
    match usual_issue_lag_days(view, a) {
        Some(lag) => grace.max(lag.saturating_add(t.statement_lag_slack_days)),
        None => grace.max(period_days(a) / 2),
    }
}

/// The payment window: the label's, widened to cover `payment_window_min_periods` of
/// the distributor's statement periods.
pub(crate) fn payment_window_days(a: &Agreement, t: &Thresholds) -> i64 {
    t.payment_window_days
        .max(period_days(a).saturating_mul(t.payment_window_min_periods))
}

/// The stocking window: the label's, and never shorter than one statement period.
pub(crate) fn stocking_window_days(a: &Agreement, t: &Thresholds) -> i64 {
    t.stocking_window_days.max(period_days(a))
}

/// The materiality floor in minor units: the larger of `materiality_permille` of what
/// the distributor billed in the last 12 months and `materiality_min_major` whole units.
pub(crate) fn materiality_floor(book: &Book<'_>, t: &Thresholds, cur: Currency) -> i128 {
    let scale = 10i128.pow(u32::from(cur.exponent()));
    let min = i128::from(t.materiality_min_major.max(0)).saturating_mul(scale);
    let share = book
        .billed_since(365)
        .saturating_mul(i128::from(t.materiality_permille.max(0)))
        / 1000;
    min.max(share)
}
