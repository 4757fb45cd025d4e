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

/// Money in text: "1234.56 USD".
pub(crate) fn show(minor: i128, currency: Currency) -> String {
    to_money(minor, currency).to_string()
}
