//! X12 dates (`CCYYMMDD`, and the older `YYMMDD`).

use std::fmt;

/// A validated calendar date as written in an X12 date element.
///
/// Built only through [`Date8::new`] or [`Date8::parse`], so the day always exists in
/// the proleptic Gregorian calendar and the year is in 1..=9999.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Date8 {
    pub year: i32,
    pub month: u8,
    pub day: u8,
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

impl Date8 {
    /// The date, if it exists (year 1..=9999).
    pub fn new(year: i32, month: u8, day: u8) -> Option<Date8> {
        if !(1..=9999).contains(&year) || day == 0 || day > days_in_month(year, month) {
            return None;
        }
        Some(Date8 { year, month, day })
    }

    /// Parses `CCYYMMDD`, or `YYMMDD` read as 20YY. Anything else (separators, signs,
    /// other lengths, impossible days) is `None`.
    pub fn parse(text: &str) -> Option<Date8> {
        let bytes = text.as_bytes();
        if !bytes.iter().all(u8::is_ascii_digit) {
            return None;
        }
        let num = |range: std::ops::Range<usize>| -> Option<i32> {
            bytes.get(range).map(|digits| {
                digits
                    .iter()
                    .fold(0i32, |acc, d| acc * 10 + i32::from(d - b'0'))
            })
        };
        let (year, rest) = match bytes.len() {
            8 => (num(0..4)?, 4),
            6 => (2000 + num(0..2)?, 2),
            _ => return None,
        };
        let month = u8::try_from(num(rest..rest + 2)?).ok()?;
        let day = u8::try_from(num(rest + 2..rest + 4)?).ok()?;
        Date8::new(year, month, day)
    }
}

impl fmt::Display for Date8 {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:04}-{:02}-{:02}", self.year, self.month, self.day)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_both_widths() {
        assert_eq!(Date8::parse("20240229"), Date8::new(2024, 2, 29));
        assert_eq!(Date8::parse("240131"), Date8::new(2024, 1, 31));
        assert_eq!(
            Date8::parse("20240131").map(|d| d.to_string()),
            Some("2024-01-31".to_string())
        );
    }

    #[test]
    fn rejects_impossible_dates() {
        for bad in [
            "20230229",
            "20241301",
            "20240000",
            "2024013",
            "2024-01-01",
            "",
            "+2401311",
            "00000101",
        ] {
            assert_eq!(Date8::parse(bad), None, "{bad}");
        }
    }
}
