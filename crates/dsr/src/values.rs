//! Cell value types: decimals (kept exact), whole units, dates, booleans, codes.

use std::fmt;

/// Reads a DSR decimal (`12`, `-3`, `12.3456`, `.5`; a `.` as decimal mark, no
/// thousands separators, no exponent) as `(mantissa, scale)`, so that the value is
/// `mantissa / 10^scale` exactly: `"12.3456"` gives `(123456, 4)`. `None` if the text
/// is not such a decimal or the mantissa does not fit in an `i128`.
pub fn parse_decimal(text: &str) -> Option<(i128, u32)> {
    let (negative, body) = match text.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, text.strip_prefix('+').unwrap_or(text)),
    };
    let (int, frac) = body.split_once('.').unwrap_or((body, ""));
    if int.is_empty() && frac.is_empty() {
        return None;
    }
    let mut mantissa: i128 = 0;
    for b in int.bytes().chain(frac.bytes()) {
        if !b.is_ascii_digit() {
            return None;
        }
        mantissa = mantissa
            .checked_mul(10)?
            .checked_add(i128::from(b - b'0'))?;
    }
    let scale = u32::try_from(frac.len()).ok()?;
    Some((if negative { -mantissa } else { mantissa }, scale))
}

/// The value of a decimal with no fractional part (`12`, `12.00`) as `i64`.
pub(crate) fn whole_units(text: &str) -> Option<i64> {
    let (mantissa, scale) = parse_decimal(text)?;
    let divisor = match 10i128.checked_pow(scale) {
        Some(d) => d,
        // 10^scale exceeds every i128, so only zero divides evenly.
        None => return (mantissa == 0).then_some(0),
    };
    if mantissa % divisor != 0 {
        return None;
    }
    i64::try_from(mantissa / divisor).ok()
}

/// A non-negative integer cell (counts, file numbers): digits only.
pub(crate) fn count(text: &str) -> Option<u64> {
    if text.is_empty() || !text.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    text.parse().ok()
}

/// `true`/`false` in any letter case (senders write `TRUE` as often as `true`).
pub(crate) fn boolean(text: &str) -> Option<bool> {
    if text.eq_ignore_ascii_case("true") {
        Some(true)
    } else if text.eq_ignore_ascii_case("false") {
        Some(false)
    } else {
        None
    }
}

/// An ISO 4217 currency code: three capital letters.
pub(crate) fn is_currency(text: &str) -> bool {
    text.len() == 3 && text.bytes().all(|b| b.is_ascii_uppercase())
}

/// An ISRC: 2 letters, 3 letters or digits, 7 digits (ISO 3901), any letter case.
pub(crate) fn is_isrc(text: &str) -> bool {
    let b = text.as_bytes();
    b.len() == 12
        && b.iter().take(2).all(u8::is_ascii_alphabetic)
        && b.iter().skip(2).take(3).all(u8::is_ascii_alphanumeric)
        && b.iter().skip(5).all(u8::is_ascii_digit)
}

/// An ICPN (UPC or EAN barcode): 12 to 14 digits.
pub(crate) fn is_icpn(text: &str) -> bool {
    (12..=14).contains(&text.len()) && text.bytes().all(|b| b.is_ascii_digit())
}

/// A DSR date: ISO 8601 `YYYY`, `YYYY-MM` or `YYYY-MM-DD`, validated.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct DsrDate {
    pub year: i32,
    pub month: Option<u8>,
    pub day: Option<u8>,
}

fn is_leap(year: i32) -> bool {
    (year % 4 == 0 && year % 100 != 0) || year % 400 == 0
}

fn days_in_month(year: i32, month: u8) -> u8 {
    match month {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if is_leap(year) => 29,
        2 => 28,
        _ => 0,
    }
}

fn digits(text: &str, len: usize) -> Option<u32> {
    if text.len() != len || !text.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    text.parse().ok()
}

impl DsrDate {
    /// Parses `YYYY`, `YYYY-MM` or `YYYY-MM-DD` (year 1..=9999, real months and days).
    pub fn parse(text: &str) -> Option<DsrDate> {
        let mut parts = text.split('-');
        let year = i32::try_from(digits(parts.next()?, 4)?).ok()?;
        if year == 0 {
            return None;
        }
        let month = match parts.next() {
            None => None,
            Some(m) => Some(u8::try_from(digits(m, 2)?).ok()?),
        };
        let day = match parts.next() {
            None => None,
            Some(d) => Some(u8::try_from(digits(d, 2)?).ok()?),
        };
        if parts.next().is_some() {
            return None;
        }
        if let Some(m) = month {
            if !(1..=12).contains(&m) {
                return None;
            }
            if let Some(d) = day {
                if d == 0 || d > days_in_month(year, m) {
                    return None;
                }
            }
        }
        Some(DsrDate { year, month, day })
    }

    /// The first day the date covers, as (year, month, day).
    pub fn first_day(&self) -> (i32, u8, u8) {
        (self.year, self.month.unwrap_or(1), self.day.unwrap_or(1))
    }

    /// The last day the date covers, as (year, month, day).
    pub fn last_day(&self) -> (i32, u8, u8) {
        let month = self.month.unwrap_or(12);
        (
            self.year,
            month,
            self.day.unwrap_or_else(|| days_in_month(self.year, month)),
        )
    }
}

impl fmt::Display for DsrDate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:04}", self.year)?;
        if let Some(m) = self.month {
            write!(f, "-{m:02}")?;
            if let Some(d) = self.day {
                write!(f, "-{d:02}")?;
            }
        }
        Ok(())
    }
}

/// An RFC 3339 date-time as HEAD cell 6 requires: `YYYY-MM-DDThh:mm:ss`, optional
/// fraction, then `Z` or `±hh:mm`.
pub(crate) fn is_datetime(text: &str) -> bool {
    let Some((date, time)) = text.split_once('T') else {
        return false;
    };
    let Some(d) = DsrDate::parse(date) else {
        return false;
    };
    if d.day.is_none() {
        return false;
    }
    let b = time.as_bytes();
    let two = |i: usize, max: u8| -> bool {
        match (b.get(i), b.get(i + 1)) {
            (Some(x), Some(y)) if x.is_ascii_digit() && y.is_ascii_digit() => {
                (x - b'0') * 10 + (y - b'0') <= max
            }
            _ => false,
        }
    };
    if !(two(0, 23)
        && b.get(2) == Some(&b':')
        && two(3, 59)
        && b.get(5) == Some(&b':')
        && two(6, 60))
    {
        return false;
    }
    let mut i = 8;
    if b.get(i) == Some(&b'.') {
        i += 1;
        let start = i;
        while b.get(i).is_some_and(u8::is_ascii_digit) {
            i += 1;
        }
        if i == start {
            return false;
        }
    }
    match b.get(i) {
        Some(b'Z') => i + 1 == b.len(),
        Some(b'+' | b'-') => {
            two(i + 1, 23) && b.get(i + 3) == Some(&b':') && two(i + 4, 59) && i + 6 == b.len()
        }
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decimals_are_exact() {
        assert_eq!(parse_decimal("12.3456"), Some((123456, 4)));
        assert_eq!(parse_decimal("-0.50"), Some((-50, 2)));
        assert_eq!(parse_decimal("+7"), Some((7, 0)));
        assert_eq!(parse_decimal(".5"), Some((5, 1)));
        assert_eq!(parse_decimal("5."), Some((5, 0)));
        assert_eq!(
            parse_decimal("0.000000000000000000000000000000000001"),
            Some((1, 36))
        );
        for bad in ["", "-", ".", "1,5", "1.2.3", "1e5", " 1", "NaN", "١٢"] {
            assert_eq!(parse_decimal(bad), None, "{bad}");
        }
        assert_eq!(
            parse_decimal(&"9".repeat(38)),
            Some((10i128.pow(38) - 1, 0))
        );
        assert_eq!(parse_decimal(&"9".repeat(39)), None);
    }

    #[test]
    fn whole_units_reject_fractions() {
        assert_eq!(whole_units("12"), Some(12));
        assert_eq!(whole_units("12.000"), Some(12));
        assert_eq!(whole_units("-4"), Some(-4));
        assert_eq!(whole_units("400.25"), None);
        assert_eq!(whole_units(&format!("0.{}", "0".repeat(60))), Some(0));
        assert_eq!(whole_units(&format!("1.{}", "0".repeat(60))), None);
        assert_eq!(whole_units("9223372036854775808"), None);
    }

    #[test]
    fn dates() {
        assert_eq!(
            DsrDate::parse("2024-02-29"),
            Some(DsrDate {
                year: 2024,
                month: Some(2),
                day: Some(29)
            })
        );
        assert_eq!(
            DsrDate::parse("2024-06").map(|d| d.last_day()),
            Some((2024, 6, 30))
        );
        assert_eq!(
            DsrDate::parse("2023").map(|d| d.last_day()),
            Some((2023, 12, 31))
        );
        for bad in [
            "2023-02-29",
            "2024-13",
            "24-01-01",
            "2024-1-01",
            "2024-01-01-01",
            "",
            "0000",
        ] {
            assert_eq!(DsrDate::parse(bad), None, "{bad}");
        }
    }

    #[test]
    fn datetimes() {
        for ok in [
            "2014-12-14T10:05:00Z",
            "2020-07-03T07:59:30+02:00",
            "2020-07-03T07:59:30.877-05:00",
        ] {
            assert!(is_datetime(ok), "{ok}");
        }
        for bad in [
            "2014-12-14",
            "2014-12-14T25:00:00Z",
            "2014-12-14T10:05:00",
            "2014-12-14T10:05:00Zx",
            "2014-12T10:05:00Z",
        ] {
            assert!(!is_datetime(bad), "{bad}");
        }
    }

    #[test]
    fn codes() {
        assert!(is_isrc("GBAHT0900445") && is_isrc("usrc11501628"));
        assert!(!is_isrc("GBAHT090044") && !is_isrc("G1AHT0900445"));
        assert!(is_icpn("825646846917") && is_icpn("0731453000000"));
        assert!(!is_icpn("82564684691") && !is_icpn("82564684691X"));
        assert!(is_currency("EUR") && !is_currency("eur") && !is_currency("EURO"));
        assert_eq!(boolean("TRUE"), Some(true));
        assert_eq!(boolean("no"), None);
        assert_eq!(count("0033"), Some(33));
        assert_eq!(count("-1"), None);
    }
}
