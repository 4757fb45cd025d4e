//! A calendar date (proleptic Gregorian), stored as days since 1970-01-01.
//!
//! Our own small type instead of a date library: the ledger only needs whole days,
//! ordering, day arithmetic and `YYYY-MM-DD` text, and this keeps the core free of
//! time zones and clocks.

use crate::DomainError;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use std::fmt;

/// A day. Valid range: 1900-01-01 ..= 2199-12-31 (a limit on everything: dates outside
/// it are typos, not label history).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Date {
    days: i32,
}

const MIN_YEAR: i32 = 1900;
const MAX_YEAR: i32 = 2199;

fn is_leap(y: i32) -> bool {
    (y % 4 == 0 && y % 100 != 0) || y % 400 == 0
}

fn days_in_month(y: i32, m: u32) -> u32 {
    match m {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if is_leap(y) => 29,
        2 => 28,
        _ => 0,
    }
}

// Howard Hinnant's days_from_civil / civil_from_days.
fn days_from_civil(y: i32, m: u32, d: u32) -> i32 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = if y >= 0 { y } else { y - 399 } / 400;
    let yoe = y - era * 400;
    let m = m as i32;
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + d as i32 - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146097 + doe - 719468
}

fn civil_from_days(z: i32) -> (i32, u32, u32) {
    let z = z + 719468;
    let era = if z >= 0 { z } else { z - 146096 } / 146097;
    let doe = z - era * 146097;
    let yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (if m <= 2 { y + 1 } else { y }, m, d)
}

impl Date {
    /// 1900-01-01, the earliest date backstock accepts (used for facts that hold "since
    /// always", such as a catalog item without a release date).
    pub const EARLIEST: Date = Date { days: -25567 };
    /// 2199-12-31, the latest date backstock accepts ("as of the end of time": everything
    /// recorded).
    pub const LATEST: Date = Date { days: 84_005 };

    /// The date for year, month, day, if it exists and is in range.
    pub fn from_ymd(year: i32, month: u32, day: u32) -> Result<Date, DomainError> {
        if !(MIN_YEAR..=MAX_YEAR).contains(&year)
            || !(1..=12).contains(&month)
            || day == 0
            || day > days_in_month(year, month)
        {
            return Err(DomainError::new(
                format!("{year:04}-{month:02}-{day:02}"),
                "a real calendar date between 1900-01-01 and 2199-12-31",
            ));
        }
        Ok(Date {
            days: days_from_civil(year, month, day),
        })
    }

    /// Parses `YYYY-MM-DD` exactly (the canonical date format of every backstock file).
    pub fn parse(text: &str) -> Result<Date, DomainError> {
        let expected = "a date written YYYY-MM-DD, e.g. 2016-06-30";
        let b = text.as_bytes();
        if b.len() != 10 || b[4] != b'-' || b[7] != b'-' {
            // Written another way that can mean one date only: name it (an order that
            // could be either, such as 08/01/2015, is never guessed).
            return Err(match Date::only_reading(text) {
                Some(d) => DomainError::new(
                    text,
                    format!("{expected} (write {d} if that is the date meant)"),
                ),
                None => DomainError::new(text, expected),
            });
        }
        let num = |r: std::ops::Range<usize>| -> Option<u32> {
            let mut v: u32 = 0;
            for &c in &b[r] {
                if !c.is_ascii_digit() {
                    return None;
                }
                v = v * 10 + u32::from(c - b'0');
            }
            Some(v)
        };
        match (num(0..4), num(5..7), num(8..10)) {
            (Some(y), Some(m), Some(d)) => {
                // Written right but no such day (2016-06-31, 2016-13-01) or out of range:
                // say so, rather than repeat the format it already has.
                Date::from_ymd(y as i32, m, d).map_err(|_| {
                    DomainError::new(
                        text,
                        "a date that exists, written YYYY-MM-DD, between 1900-01-01 and 2199-12-31",
                    )
                })
            }
            _ => Err(DomainError::new(text, expected)),
        }
    }

    /// The one date a text written in another order can mean: year first with `/` or
    /// `.` or unpadded (`2016/1/31`), or day and month around a four-digit year where
    /// one of them is over 12 (`31/12/2016`, `12/31/2016`). `None` when it could be
    /// two dates or none.
    fn only_reading(text: &str) -> Option<Date> {
        let text = text.trim();
        // A date with a time of day (`2019-02-15T10:00:00`, `2019-02-15 10:00`): the
        // day is the date meant.
        if let Some((day, time)) = text.get(..10).zip(text.get(10..)) {
            let is_time = (time.starts_with('T') || time.starts_with(' '))
                && time[1..].trim().starts_with(|c: char| c.is_ascii_digit())
                && time[1..].contains(':');
            if is_time {
                if let Ok(d) = Date::parse(day) {
                    return Some(d);
                }
            }
        }
        let parts: Vec<&str> = text.split(['/', '.', '-']).collect();
        let [a, b, c] = parts[..] else { return None };
        let n = |s: &str| -> Option<u32> {
            (!s.is_empty() && s.len() <= 4 && s.bytes().all(|x| x.is_ascii_digit()))
                .then(|| s.parse().ok())
                .flatten()
        };
        let (x, y, z) = (n(a)?, n(b)?, n(c)?);
        let ymd = |y: u32, m: u32, d: u32| Date::from_ymd(i32::try_from(y).ok()?, m, d).ok();
        if a.len() == 4 {
            return ymd(x, y, z);
        }
        if c.len() != 4 {
            return None;
        }
        match (x > 12, y > 12) {
            (true, false) => ymd(z, y, x), // day first
            (false, true) => ymd(z, x, y), // month first
            _ if x == y => ymd(z, x, y),   // 05/05/2016 either way
            _ => None,
        }
    }

    /// Days since 1970-01-01 (negative before).
    pub fn days_since_epoch(self) -> i32 {
        self.days
    }

    pub fn from_days_since_epoch(days: i32) -> Result<Date, DomainError> {
        let (y, m, d) = civil_from_days(days);
        Date::from_ymd(y, m, d)
    }

    pub fn year(self) -> i32 {
        civil_from_days(self.days).0
    }
    pub fn month(self) -> u32 {
        civil_from_days(self.days).1
    }
    pub fn day(self) -> u32 {
        civil_from_days(self.days).2
    }

    /// The date `n` days later (earlier if negative), clamped to the valid range.
    pub fn add_days(self, n: i32) -> Date {
        let lo = days_from_civil(MIN_YEAR, 1, 1);
        let hi = days_from_civil(MAX_YEAR, 12, 31);
        Date {
            days: self.days.saturating_add(n).clamp(lo, hi),
        }
    }

    /// The same day `n` months later; the day is clamped to the end of a shorter month
    /// (2016-01-31 + 1 month = 2016-02-29). Clamped to the valid range.
    pub fn add_months(self, n: i32) -> Date {
        let (y, m, d) = civil_from_days(self.days);
        let total = y * 12 + (m as i32 - 1) + n;
        let (ny, nm) = (total.div_euclid(12), (total.rem_euclid(12) + 1) as u32);
        let ny = ny.clamp(MIN_YEAR, MAX_YEAR);
        let nd = d.min(days_in_month(ny, nm));
        Date {
            days: days_from_civil(ny, nm, nd),
        }
    }

    /// Whole days from `self` to `other` (positive when `other` is later).
    pub fn days_until(self, other: Date) -> i32 {
        other.days - self.days
    }

    /// The first day of this date's month.
    pub fn first_of_month(self) -> Date {
        let (y, m, _) = civil_from_days(self.days);
        Date {
            days: days_from_civil(y, m, 1),
        }
    }

    /// The last day of this date's month.
    pub fn last_of_month(self) -> Date {
        let (y, m, _) = civil_from_days(self.days);
        Date {
            days: days_from_civil(y, m, days_in_month(y, m)),
        }
    }
}

impl fmt::Display for Date {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (y, m, d) = civil_from_days(self.days);
        write!(f, "{y:04}-{m:02}-{d:02}")
    }
}

impl std::str::FromStr for Date {
    type Err = DomainError;
    fn from_str(s: &str) -> Result<Date, DomainError> {
        Date::parse(s)
    }
}

impl Serialize for Date {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Date {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Date, D::Error> {
        crate::text_serde::parse_str(d, "a date (YYYY-MM-DD) as a string", Date::parse)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn parses_and_prints() {
        let d = Date::parse("2016-06-30").unwrap();
        assert_eq!(d.to_string(), "2016-06-30");
        assert_eq!((d.year(), d.month(), d.day()), (2016, 6, 30));
        assert_eq!(Date::parse("1970-01-01").unwrap().days_since_epoch(), 0);
        assert_eq!(Date::EARLIEST.to_string(), "1900-01-01");
        assert_eq!(Date::LATEST.to_string(), "2199-12-31");
    }

    #[test]
    fn rejects_bad_dates() {
        for s in [
            "2016-02-30",
            "2015-02-29",
            "2016-13-01",
            "16-06-30",
            "2016/06/30",
            "2016-06-3x",
            "",
            "1899-12-31",
            "２０１６-06-30",
        ] {
            let e = Date::parse(s).unwrap_err();
            assert!(e.expected().contains("YYYY-MM-DD"), "{s}");
        }
        assert_eq!(
            Date::parse("2016-06-31").unwrap_err().expected(),
            "a date that exists, written YYYY-MM-DD, between 1900-01-01 and 2199-12-31"
        );
        assert!(Date::parse("2016-02-29").is_ok());
        assert!(Date::parse("2000-02-29").is_ok());
        assert!(Date::parse("1900-02-29").is_err());
    }

    #[test]
    fn arithmetic() {
        let d = Date::parse("2016-01-31").unwrap();
        assert_eq!(d.add_months(1).to_string(), "2016-02-29");
        assert_eq!(d.add_months(-2).to_string(), "2015-11-30");
        assert_eq!(d.add_days(90).to_string(), "2016-04-30");
        assert_eq!(d.days_until(d.add_days(90)), 90);
        assert_eq!(d.first_of_month().to_string(), "2016-01-01");
        assert_eq!(
            Date::parse("2016-02-10")
                .unwrap()
                .last_of_month()
                .to_string(),
            "2016-02-29"
        );
    }

    proptest! {
        #[test]
        fn roundtrip(days in -25567i32..84000) {
            if let Ok(d) = Date::from_days_since_epoch(days) {
                prop_assert_eq!(Date::parse(&d.to_string()).unwrap(), d);
                prop_assert_eq!(d.days_since_epoch(), days);
            }
        }

        #[test]
        fn parse_never_panics(s in ".{0,12}") {
            let _ = Date::parse(&s);
        }
    }
}

#[cfg(test)]
mod reading_tests {
    use super::Date;

    #[test]
    fn a_date_written_another_way_is_named_only_when_it_means_one_date() {
        let says = |t: &str| Date::parse(t).unwrap_err().to_string();
        assert!(says("31/12/2016").contains("(write 2016-12-31 if that is the date meant)"));
        assert!(
            says("2016-12-31T10:00:00").contains("(write 2016-12-31 if that is the date meant)")
        );
        assert!(says("2016-12-31 10:00").contains("(write 2016-12-31 if that is the date meant)"));
        assert!(!says("2016-12-31Tnope").contains("write"));
        assert!(says("12/31/2016").contains("(write 2016-12-31 if that is the date meant)"));
        assert!(says("2016/01/31").contains("(write 2016-01-31 if that is the date meant)"));
        assert!(says("2016-1-5").contains("(write 2016-01-05 if that is the date meant)"));
        assert!(says("05.05.2016").contains("write 2016-05-05"));
        // Either order could be meant: never guessed.
        assert!(!says("08/01/2015").contains("write"));
        assert!(!says("31/13/2016").contains("write"));
        assert!(!says("1/2/16").contains("write"));
    }
}
