//! Royalty accounting periods: half-years (the default), quarters and months.

use crate::RoyaltyError;
use backstock_domain::Date;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use std::fmt;

/// How long a royalty period is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PeriodKind {
    HalfYear,
    Quarter,
    Month,
}

impl PeriodKind {
    fn months(self) -> u32 {
        match self {
            PeriodKind::HalfYear => 6,
            PeriodKind::Quarter => 3,
            PeriodKind::Month => 1,
        }
    }
    fn per_year(self) -> u32 {
        12 / self.months()
    }
}

/// One royalty period, written `2016H1` (half-year, the default), `2016Q2` (quarter)
/// or `2016-05` (month). Years 1900–2199, like [`Date`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Period {
    year: i32,
    kind: PeriodKind,
    /// 1-based index within the year (1..=2, 1..=4 or 1..=12).
    index: u32,
}

const EXPECTED: &str =
    "a royalty period such as 2016H1 (half-year), 2016Q2 (quarter) or 2016-05 (month)";

impl Period {
    pub fn new(year: i32, kind: PeriodKind, index: u32) -> Result<Period, RoyaltyError> {
        if !(1900..=2199).contains(&year) || index == 0 || index > kind.per_year() {
            return Err(RoyaltyError::invalid(
                "period",
                format!("{year} {kind:?} {index}"),
                EXPECTED,
            ));
        }
        Ok(Period { year, kind, index })
    }

    pub fn half_year(year: i32, half: u32) -> Result<Period, RoyaltyError> {
        Period::new(year, PeriodKind::HalfYear, half)
    }

    pub fn parse(text: &str) -> Result<Period, RoyaltyError> {
        let t = text.trim().to_ascii_uppercase();
        let err = || RoyaltyError::invalid("period", text, EXPECTED);
        let b = t.as_bytes();
        if b.len() < 6 || !b[..4].iter().all(u8::is_ascii_digit) {
            return Err(err());
        }
        let year: i32 = t[..4].parse().map_err(|_| err())?;
        let rest = &t[4..];
        let digits = |s: &str| -> Result<u32, RoyaltyError> {
            if s.is_empty() || s.len() > 2 || !s.bytes().all(|c| c.is_ascii_digit()) {
                return Err(err());
            }
            s.parse().map_err(|_| err())
        };
        let (kind, index) = if let Some(h) = rest.strip_prefix('H') {
            (PeriodKind::HalfYear, digits(h)?)
        } else if let Some(q) = rest.strip_prefix('Q') {
            (PeriodKind::Quarter, digits(q)?)
        } else if let Some(m) = rest.strip_prefix('-') {
            if m.len() != 2 {
                return Err(err());
            }
            (PeriodKind::Month, digits(m)?)
        } else {
            return Err(err());
        };
        Period::new(year, kind, index).map_err(|_| err())
    }

    pub fn kind(&self) -> PeriodKind {
        self.kind
    }

    /// The first day of the period.
    pub fn start(&self) -> Date {
        let month = (self.index - 1) * self.kind.months() + 1;
        // Year and index were checked at construction.
        Date::from_ymd(self.year, month, 1).unwrap_or(Date::EARLIEST)
    }

    /// The last day of the period.
    pub fn end(&self) -> Date {
        let month = self.index * self.kind.months();
        Date::from_ymd(self.year, month, 1)
            .map(Date::last_of_month)
            .unwrap_or(Date::EARLIEST)
    }

    pub fn contains(&self, d: Date) -> bool {
        self.start() <= d && d <= self.end()
    }

    /// The period `n` periods of the same kind later (earlier if negative); `None`
    /// outside 1900–2199.
    pub fn plus(&self, n: i64) -> Option<Period> {
        let per = i64::from(self.kind.per_year());
        let ord = i64::from(self.year) * per + i64::from(self.index) - 1 + n;
        let year = i32::try_from(ord.div_euclid(per)).ok()?;
        let index = u32::try_from(ord.rem_euclid(per) + 1).ok()?;
        Period::new(year, self.kind, index).ok()
    }
}

impl fmt::Display for Period {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.kind {
            PeriodKind::HalfYear => write!(f, "{:04}H{}", self.year, self.index),
            PeriodKind::Quarter => write!(f, "{:04}Q{}", self.year, self.index),
            PeriodKind::Month => write!(f, "{:04}-{:02}", self.year, self.index),
        }
    }
}

impl std::str::FromStr for Period {
    type Err = RoyaltyError;
    fn from_str(s: &str) -> Result<Period, RoyaltyError> {
        Period::parse(s)
    }
}

impl Serialize for Period {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Period {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Period, D::Error> {
        let s = String::deserialize(d)?;
        Period::parse(&s).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn parse_display_dates() {
        let h = Period::parse("2016H1").unwrap();
        assert_eq!(h.to_string(), "2016H1");
        assert_eq!(h.start().to_string(), "2016-01-01");
        assert_eq!(h.end().to_string(), "2016-06-30");
        let q = Period::parse("2016q2").unwrap();
        assert_eq!(
            (q.start().to_string(), q.end().to_string()),
            ("2016-04-01".into(), "2016-06-30".into())
        );
        let m = Period::parse("2016-02").unwrap();
        assert_eq!(m.end().to_string(), "2016-02-29");
        assert_eq!(m.to_string(), "2016-02");
        assert_eq!(h.plus(1).unwrap().to_string(), "2016H2");
        assert_eq!(h.plus(2).unwrap().to_string(), "2017H1");
        assert_eq!(h.plus(-1).unwrap().to_string(), "2015H2");
        assert_eq!(m.plus(-2).unwrap().to_string(), "2015-12");
        for bad in [
            "2016H3", "2016Q0", "2016-13", "2016-5", "16H1", "2016", "2016X1", "1899H2", "",
        ] {
            assert!(Period::parse(bad).is_err(), "{bad}");
        }
    }

    proptest! {
        #[test]
        fn never_panics(s in ".{0,10}") {
            if let Ok(p) = Period::parse(&s) {
                prop_assert_eq!(Period::parse(&p.to_string()).unwrap(), p);
                prop_assert!(p.start() <= p.end());
            }
        }
    }
}
