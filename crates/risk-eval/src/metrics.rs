//! The metrics, as pure functions over a distributor's levels at successive
//! evaluation dates.

use crate::Real;
use backstock_domain::Date;
use backstock_risk::Level;
use serde::Serialize;

/// Days from the first evaluation from which the level stayed at `alert` or above at
/// every evaluation before `default_on`, to `default_on`. `None` when the last
/// evaluation before the default is below `alert` (a warning that came and went does
/// not count; one that recovered briefly restarts).
pub fn lead_days(levels: &[(Date, Level)], default_on: Date) -> Option<i64> {
    let before: Vec<&(Date, Level)> = levels.iter().filter(|(d, _)| *d < default_on).collect();
    let mut first = None;
    for (d, l) in before.iter().rev() {
        if *l >= Level::Alert {
            first = Some(*d);
        } else {
            break;
        }
    }
    first.map(|d| i64::from(d.days_until(default_on)))
}

/// Maximal runs of consecutive evaluations at `alert` or above.
pub fn episodes(levels: &[Level]) -> usize {
    let mut n = 0;
    let mut inside = false;
    for l in levels {
        let on = *l >= Level::Alert;
        if on && !inside {
            n += 1;
        }
        inside = on;
    }
    n
}

/// Evaluations at `min` or above.
pub fn count_at(levels: &[Level], min: Level) -> usize {
    levels.iter().filter(|l| **l >= min).count()
}

/// Runs at `alert` or above: (first date, last date) of each episode.
pub fn episode_spans(levels: &[(Date, Level)]) -> Vec<(Date, Date)> {
    let mut out: Vec<(Date, Date)> = Vec::new();
    let mut inside = false;
    for (d, l) in levels {
        let on = *l >= Level::Alert;
        match (on, inside) {
            (true, false) => out.push((*d, *d)),
            (true, true) => {
                if let Some(last) = out.last_mut() {
                    last.1 = *d;
                }
            }
            _ => {}
        }
        inside = on;
    }
    out
}

/// Episodes per 10 distributor-years.
pub fn per_ten_years(episodes: usize, distributor_days: i64) -> Real {
    if distributor_days <= 0 {
        return 0.0;
    }
    episodes as Real * 10.0 * 365.25 / distributor_days as Real
}

/// Smallest, median and largest of some values.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Spread {
    pub min: Real,
    pub median: Real,
    pub max: Real,
    pub n: usize,
}

pub fn spread(values: &[Real]) -> Option<Spread> {
    if values.is_empty() {
        return None;
    }
    let mut v = values.to_vec();
    v.sort_by(|a, b| a.total_cmp(b));
    let n = v.len();
    let median = if n % 2 == 1 {
        v[n / 2]
    } else {
        (v[n / 2 - 1] + v[n / 2]) / 2.0
    };
    Some(Spread {
        min: v[0],
        median,
        max: v[n - 1],
        n,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use Level::{Alert as A, Critical as C, Ok as O, Watch as W};

    fn day(s: &str) -> Date {
        Date::parse(s).unwrap()
    }

    /// Levels every 14 days from 2015-01-01.
    fn seq(levels: &[Level]) -> Vec<(Date, Level)> {
        let d0 = day("2015-01-01");
        levels
            .iter()
            .enumerate()
            .map(|(i, l)| (d0.add_days(14 * i as i32), *l))
            .collect()
    }

    #[test]
    fn episodes_are_maximal_runs_at_alert_or_above() {
        assert_eq!(episodes(&[]), 0);
        assert_eq!(episodes(&[O, W, W, O]), 0);
        assert_eq!(episodes(&[O, A, C, A, O, W, A, O]), 2);
        assert_eq!(episodes(&[A, A, A]), 1);
        assert_eq!(episodes(&[C, O, C, O, C]), 3);
        assert_eq!(count_at(&[O, W, A, C], Level::Watch), 3);
        assert_eq!(count_at(&[O, W, A, C], Level::Alert), 2);
        let s = seq(&[O, A, C, O, A]);
        assert_eq!(episode_spans(&s), vec![(s[1].0, s[2].0), (s[4].0, s[4].0)]);
    }

    #[test]
    fn the_lead_counts_from_the_alert_that_stays() {
        // Evaluations 2015-01-01 + 14 i; at alert from i = 3 on; default after i = 9.
        let s = seq(&[O, W, W, A, A, C, C, A, C, C]);
        let dd = s[9].0.add_days(5);
        assert_eq!(lead_days(&s, dd), Some(i64::from(s[3].0.days_until(dd))));
        assert_eq!(lead_days(&s, dd), Some(6 * 14 + 5));
        // Evaluations on or after the default do not count.
        let mut more = s.clone();
        more.push((dd, O));
        more.push((dd.add_days(14), O));
        assert_eq!(lead_days(&more, dd), Some(6 * 14 + 5));
    }

    #[test]
    fn a_brief_recovery_before_the_default_restarts_the_lead() {
        // At alert early, back to watch once, at alert again: the lead starts after
        // the recovery.
        let s = seq(&[O, A, A, A, W, A, A, C]);
        let dd = s[7].0.add_days(1);
        assert_eq!(lead_days(&s, dd), Some(2 * 14 + 1));
    }

    #[test]
    fn no_lead_when_the_last_evaluation_is_below_alert() {
        let s = seq(&[A, A, C, C, W]);
        assert_eq!(lead_days(&s, s[4].0.add_days(3)), None);
        assert_eq!(lead_days(&seq(&[O, O, O]), day("2016-01-01")), None);
        assert_eq!(lead_days(&[], day("2016-01-01")), None);
    }

    #[test]
    fn rates_and_spreads() {
        // 2 episodes over 5 distributor-years = 4 per 10.
        let r = per_ten_years(2, 1826);
        assert!((r - 4.0).abs() < 0.01, "{r}");
        assert!(per_ten_years(3, 0).abs() < Real::EPSILON);
        let s = spread(&[5.0, 1.0, 3.0, 9.0]).unwrap();
        assert_eq!((s.min, s.median, s.max, s.n), (1.0, 4.0, 9.0, 4));
        let s = spread(&[2.0, 7.0, 1.0]).unwrap();
        assert!((s.median - 2.0).abs() < Real::EPSILON);
        assert!(spread(&[]).is_none());
    }
}
