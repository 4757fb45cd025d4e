//! JSON rendering of money for people, and small number helpers.
//!
//! Money fields stay [`Money`] in Rust; in JSON they serialize as
//! `{"amount_minor": 123456, "currency": "USD", "amount": "1234.56"}` — the first two
//! exactly as `Money` itself does, plus the decimal text a person reads.

use backstock_domain::{Currency, Money};
use serde::ser::SerializeStruct;
use serde::Serializer;

pub(crate) fn money<S: Serializer>(m: &Money, s: S) -> Result<S::Ok, S::Error> {
    let mut st = s.serialize_struct("Money", 3)?;
    st.serialize_field("amount_minor", &m.minor())?;
    st.serialize_field("currency", &m.currency())?;
    st.serialize_field("amount", &m.to_decimal_string())?;
    st.end()
}

pub(crate) fn money_opt<S: Serializer>(m: &Option<Money>, s: S) -> Result<S::Ok, S::Error> {
    match m {
        Some(m) => money(m, s),
        None => s.serialize_none(),
    }
}

/// An `i128` sum as money, saturating at the `i64` range.
pub(crate) fn to_money(minor: i128, currency: Currency) -> Money {
    let v = i64::try_from(minor).unwrap_or(if minor < 0 { i64::MIN } else { i64::MAX });
    Money::from_minor(v, currency)
}

/// `num × 1000 / den`, rounded toward zero; `None` when `den` is zero.
pub(crate) fn permille(num: i128, den: i128) -> Option<i64> {
    if den == 0 {
        return None;
    }
    let v = num.saturating_mul(1000) / den;
    Some(i64::try_from(v).unwrap_or(if v < 0 { i64::MIN } else { i64::MAX }))
}

/// `num / den` rounded half away from zero, `None` when `den` is zero.
pub(crate) fn div_round(num: i128, den: i128) -> Option<i64> {
    if den == 0 {
        return None;
    }
    let (n, d) = if den < 0 { (-num, -den) } else { (num, den) };
    let q = if n >= 0 {
        (n + d / 2) / d
    } else {
        (n - d / 2) / d
    };
    Some(i64::try_from(q).unwrap_or(if q < 0 { i64::MIN } else { i64::MAX }))
}

/// Per-mille as a percentage with one decimal: 1234 → "123.4%".
pub(crate) fn pct(pm: i64) -> String {
    let sign = if pm < 0 { "-" } else { "" };
    let a = pm.unsigned_abs();
    format!("{sign}{}.{}%", a / 10, a % 10)
}

/// A window in words: 180 → "6 months", 365 → "12 months", 90 → "3 months",
/// 45 → "45 days".
pub(crate) fn window_words(days: i64) -> String {
    if days == 365 {
        return "12 months".into();
    }
    if days > 0 && days % 30 == 0 {
        let m = days / 30;
        return if m == 1 {
            "month".into()
        } else {
            format!("{m} months")
        };
    }
    format!("{days} days")
}

/// "1 statement" / "3 statements".
pub(crate) fn plural(n: i64, word: &str) -> String {
    if n == 1 {
        format!("1 {word}")
    } else {
        format!("{n} {word}s")
    }
}

/// Money in text for a sentence, with thousands separators: "-12,345.60 USD".
pub(crate) fn human(m: Money) -> String {
    let text = m.to_decimal_string();
    let (sign, digits) = match text.strip_prefix('-') {
        Some(rest) => ("-", rest),
        None => ("", text.as_str()),
    };
    let (int, frac) = match digits.split_once('.') {
        Some((i, f)) => (i, Some(f)),
        None => (digits, None),
    };
    let mut grouped = String::with_capacity(int.len() + int.len() / 3);
    for (i, c) in int.chars().enumerate() {
        if i > 0 && (int.len() - i) % 3 == 0 {
            grouped.push(',');
        }
        grouped.push(c);
    }
    match frac {
        Some(f) => format!("{sign}{grouped}.{f} {}", m.currency()),
        None => format!("{sign}{grouped} {}", m.currency()),
    }
}

/// An `i128` sum as [`human`] text.
pub(crate) fn show(minor: i128, currency: Currency) -> String {
    human(to_money(minor, currency))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn human_money_and_percent() {
        let usd = Currency::USD;
        assert_eq!(show(123_456_789, usd), "1,234,567.89 USD");
        assert_eq!(show(-100_000, usd), "-1,000.00 USD");
        assert_eq!(show(5, usd), "0.05 USD");
        let jpy = Currency::parse("JPY").unwrap();
        assert_eq!(show(1_500_000, jpy), "1,500,000 JPY");
        assert_eq!(show(i128::MAX, usd), "92,233,720,368,547,758.07 USD");
        assert_eq!(pct(1234), "123.4%");
        assert_eq!(pct(-5), "-0.5%");
        assert_eq!(window_words(180), "6 months");
        assert_eq!(window_words(365), "12 months");
        assert_eq!(window_words(45), "45 days");
    }
}
