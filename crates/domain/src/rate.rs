//! Exact rates in parts per million, and the one rounding rule.

use crate::money::parse_decimal;
use crate::DomainError;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use std::fmt;

/// A non-negative rate in parts per million: `0.22` is 220 000 ppm.
///
/// Limit: 0 ..= 1000 (1 000 000 000 ppm) — a rate beyond 1000× is a typo.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Rate {
    ppm: u32,
}

impl Rate {
    pub const ONE_PPM: u32 = 1_000_000;
    pub const ZERO: Rate = Rate { ppm: 0 };
    pub const ONE: Rate = Rate { ppm: 1_000_000 };
    const MAX_PPM: u32 = 1_000_000_000;

    pub fn from_ppm(ppm: u32) -> Result<Rate, DomainError> {
        if ppm > Rate::MAX_PPM {
            return Err(DomainError::new(ppm.to_string(), "a rate of at most 1000"));
        }
        Ok(Rate { ppm })
    }

    /// Parses a decimal such as `0.22` or `0.125`, or a percentage `22%`, with at most
    /// six decimal places of the fraction (no rounding).
    pub fn parse(text: &str) -> Result<Rate, DomainError> {
        let expected =
            "a rate written as a decimal such as 0.22 (or 22%), at most 6 decimal places";
        let t = text.trim();
        let (t, percent) = match t.strip_suffix('%') {
            Some(p) => (p.trim(), true),
            None => (t, false),
        };
        let (m, scale) = parse_decimal(t).ok_or_else(|| DomainError::new(text, expected))?;
        let target: u32 = if percent { 4 } else { 6 };
        if m < 0 || scale > target {
            return Err(DomainError::new(text, expected));
        }
        let ppm = m
            .checked_mul(10i128.pow(target - scale))
            .and_then(|v| u32::try_from(v).ok())
            .filter(|v| *v <= Rate::MAX_PPM)
            .ok_or_else(|| DomainError::new(text, expected))?;
        Ok(Rate { ppm })
    }

    pub fn ppm(&self) -> u32 {
        self.ppm
    }

    /// The rate as a percentage, as a label writes it: `90%`, `33.3334%`, `10000%`.
    pub fn percent_text(&self) -> String {
        let int = self.ppm / 10_000;
        let frac = self.ppm % 10_000;
        if frac == 0 {
            return format!("{int}%");
        }
        let s = format!("{frac:04}");
        format!("{int}.{}%", s.trim_end_matches('0'))
    }
}

impl fmt::Display for Rate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let int = self.ppm / Rate::ONE_PPM;
        let frac = self.ppm % Rate::ONE_PPM;
        if frac == 0 {
            return write!(f, "{int}");
        }
        let s = format!("{frac:06}");
        write!(f, "{int}.{}", s.trim_end_matches('0'))
    }
}

impl Serialize for Rate {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Rate {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Rate, D::Error> {
        let s = String::deserialize(d)?;
        Rate::parse(&s).map_err(serde::de::Error::custom)
    }
}

/// The rounding rule. backstock has exactly one for money: **half to even**
/// ("banker's rounding"), applied once per line, so that over many lines the
/// roundings do not drift in one direction.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Rounding {
    HalfEven,
}

/// Half-to-even division of one integer type, written once for every width.
macro_rules! half_even_divide {
    ($numerator:expr, $denominator:expr) => {{
        let (n, d) = ($numerator, $denominator);
        debug_assert!(d > 0);
        if d <= 0 {
            0
        } else {
            let q = n.div_euclid(d);
            let r = n.rem_euclid(d);
            // q is floor; r in [0, d)
            match (2 * r).cmp(&d) {
                std::cmp::Ordering::Less => q,
                std::cmp::Ordering::Greater => q + 1,
                std::cmp::Ordering::Equal => {
                    if q % 2 == 0 {
                        q
                    } else {
                        q + 1
                    }
                }
            }
        }
    }};
}

impl Rounding {
    /// `numerator / denominator` rounded by this rule. `denominator` must be > 0.
    pub fn divide(self, numerator: i128, denominator: i128) -> i128 {
        match self {
            Rounding::HalfEven => half_even_divide!(numerator, denominator),
        }
    }

    /// [`Rounding::divide`] in 64-bit arithmetic (the same result; a 128-bit division
    /// is the slow part of a royalty line). `2 * remainder` must fit: callers keep
    /// `|denominator| < i64::MAX / 2`.
    pub fn divide_i64(self, numerator: i64, denominator: i64) -> i64 {
        debug_assert!(denominator < i64::MAX / 2);
        match self {
            Rounding::HalfEven => half_even_divide!(numerator, denominator),
        }
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn percent_text_is_as_a_label_writes_it() {
        let r = |t: &str| super::Rate::parse(t).unwrap().percent_text();
        assert_eq!(r("0.9"), "90%");
        assert_eq!(r("33.3334%"), "33.3334%");
        assert_eq!(r("100"), "10000%");
        assert_eq!(r("0.125"), "12.5%");
        assert_eq!(r("0"), "0%");
    }

    use super::*;

    #[test]
    fn sixty_four_bit_division_rounds_as_the_wide_one() {
        let den = 1_000_000i64;
        for n in [
            -2_500_000i64,
            -1_500_000,
            -500_001,
            -500_000,
            -499_999,
            0,
            499_999,
            500_000,
            500_001,
            1_500_000,
            2_500_000,
            7_777_777,
            i64::MAX / 4,
        ] {
            assert_eq!(
                i128::from(Rounding::HalfEven.divide_i64(n, den)),
                Rounding::HalfEven.divide(i128::from(n), i128::from(den)),
                "{n}"
            );
        }
    }

    #[test]
    fn parse_rates() {
        assert_eq!(Rate::parse("0.22").unwrap().ppm(), 220_000);
        assert_eq!(Rate::parse("22%").unwrap().ppm(), 220_000);
        assert_eq!(Rate::parse("0.125").unwrap().ppm(), 125_000);
        assert_eq!(Rate::parse("1").unwrap(), Rate::ONE);
        assert_eq!(Rate::parse("0.333333").unwrap().ppm(), 333_333);
        assert!(Rate::parse("0.3333333").is_err());
        assert!(Rate::parse("-0.1").is_err());
        assert!(Rate::parse("abc").is_err());
        assert_eq!(Rate::parse("0.22").unwrap().to_string(), "0.22");
    }

    #[test]
    fn half_even() {
        let r = Rounding::HalfEven;
        assert_eq!(r.divide(25, 10), 2);
        assert_eq!(r.divide(35, 10), 4);
        assert_eq!(r.divide(-25, 10), -2);
        assert_eq!(r.divide(-35, 10), -4);
        assert_eq!(r.divide(26, 10), 3);
        assert_eq!(r.divide(-26, 10), -3);
        assert_eq!(r.divide(24, 10), 2);
    }
}
