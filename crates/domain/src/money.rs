//! Exact money: integer minor units of an ISO 4217 currency.

use crate::rate::{Rate, Rounding};
use crate::DomainError;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use std::fmt;

/// An ISO 4217 currency with its minor-unit exponent (USD 2, JPY 0, BHD 3).
///
/// Only currencies in the table below are accepted: an unknown code is an error,
/// never a guess at its exponent.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Currency {
    code: [u8; 3],
    exponent: u8,
}

/// ISO 4217 codes and minor-unit exponents the label world meets.
const CURRENCIES: &[(&str, u8)] = &[
    ("AED", 2),
    ("ARS", 2),
    ("AUD", 2),
    ("BHD", 3),
    ("BRL", 2),
    ("CAD", 2),
    ("CHF", 2),
    ("CLP", 0),
    ("CNY", 2),
    ("COP", 2),
    ("CZK", 2),
    ("DKK", 2),
    ("EUR", 2),
    ("GBP", 2),
    ("HKD", 2),
    ("HUF", 2),
    ("IDR", 2),
    ("ILS", 2),
    ("INR", 2),
    ("ISK", 0),
    ("JOD", 3),
    ("JPY", 0),
    ("KRW", 0),
    ("KWD", 3),
    ("MXN", 2),
    ("MYR", 2),
    ("NOK", 2),
    ("NZD", 2),
    ("OMR", 3),
    ("PHP", 2),
    ("PLN", 2),
    ("RON", 2),
    ("SEK", 2),
    ("SGD", 2),
    ("THB", 2),
    ("TND", 3),
    ("TRY", 2),
    ("TWD", 2),
    ("UAH", 2),
    ("USD", 2),
    ("ZAR", 2),
];

impl Currency {
    pub const USD: Currency = Currency {
        code: *b"USD",
        exponent: 2,
    };

    /// Parses a three-letter ISO 4217 code (case-insensitive).
    pub fn parse(text: &str) -> Result<Currency, DomainError> {
        let upper = text.trim().to_ascii_uppercase();
        CURRENCIES
            .iter()
            .find(|(c, _)| *c == upper)
            .map(|(c, e)| {
                let b = c.as_bytes();
                Currency {
                    code: [b[0], b[1], b[2]],
                    exponent: *e,
                }
            })
            .ok_or_else(|| {
                DomainError::new(
                    text,
                    "an ISO 4217 currency code such as USD, EUR, GBP or JPY",
                )
            })
    }

    pub fn code(&self) -> &str {
        // The code bytes come from the ASCII table above.
        std::str::from_utf8(&self.code).unwrap_or("???")
    }

    /// Digits after the decimal point (2 for USD).
    pub fn exponent(&self) -> u8 {
        self.exponent
    }

    fn scale(&self) -> i64 {
        10i64.pow(u32::from(self.exponent))
    }
}

impl fmt::Display for Currency {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

impl Serialize for Currency {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.code())
    }
}

impl<'de> Deserialize<'de> for Currency {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Currency, D::Error> {
        crate::text_serde::parse_str(d, "a currency code as a string", Currency::parse)
    }
}

/// An amount of money: signed integer minor units of one currency.
///
/// Arithmetic is checked: overflow and mixing currencies are errors, never wrap-around.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Money {
    #[serde(rename = "amount_minor")]
    minor: i64,
    currency: Currency,
}

impl Money {
    pub fn from_minor(minor: i64, currency: Currency) -> Money {
        Money { minor, currency }
    }

    pub fn zero(currency: Currency) -> Money {
        Money { minor: 0, currency }
    }

    /// Parses a decimal string such as `1234.56`, `-0.5` or `12` in `currency`.
    ///
    /// More fractional digits than the currency has are refused unless they are zeros
    /// (`1.230` is fine for USD, `1.234` is not): parsing never rounds.
    pub fn parse(text: &str, currency: Currency) -> Result<Money, DomainError> {
        let expected = || {
            // Written with a decimal comma (`3063,37`, `3.063,37`): say how to write it.
            let hint = text
                .trim()
                .rsplit_once(',')
                .filter(|(int, frac)| {
                    !frac.is_empty()
                        && frac.len() <= usize::from(currency.exponent.max(1))
                        && frac.bytes().all(|b| b.is_ascii_digit())
                        && int
                            .trim_start_matches('-')
                            .bytes()
                            .all(|b| b.is_ascii_digit() || b == b'.' || b == b' ')
                })
                .map(|(int, frac)| {
                    let digits: String = int.chars().filter(|c| *c == '-' || c.is_ascii_digit()).collect();
                    format!(
                        " — write the decimal comma as a point and no thousands separators: {digits}.{frac}"
                    )
                })
                .unwrap_or_default();
            format!(
                "an amount such as 1234.56 with at most {} decimal places for {}{hint}",
                currency.exponent, currency
            )
        };
        let (mantissa, scale) =
            parse_decimal(text).ok_or_else(|| DomainError::new(text, expected()))?;
        let exp = u32::from(currency.exponent);
        let minor = if scale <= exp {
            mantissa.checked_mul(10i128.pow(exp - scale))
        } else {
            let div = 10i128.checked_pow(scale - exp);
            match div {
                Some(div) if mantissa % div == 0 => Some(mantissa / div),
                // More decimal places than the currency has: the format is wrong.
                _ => return Err(DomainError::new(text, expected())),
            }
        };
        // Written right but too large for any amount: the limit is what to say.
        let minor = minor
            .and_then(|m| i64::try_from(m).ok())
            .unwrap_or(if mantissa < 0 { i64::MIN + 1 } else { i64::MAX });
        Money::within_limit(minor, currency, text)
    }

    /// Parses a decimal string with any number of places, rounding once by `rounding`
    /// (used for digital sales reports that carry 4–10 decimal places).
    pub fn parse_rounded(
        text: &str,
        currency: Currency,
        rounding: Rounding,
    ) -> Result<Money, DomainError> {
        let expected = || format!("a decimal amount such as 12.3456 in {currency}");
        let (mantissa, scale) =
            parse_decimal(text).ok_or_else(|| DomainError::new(text, expected()))?;
        let exp = u32::from(currency.exponent);
        let minor = if scale <= exp {
            mantissa.checked_mul(10i128.pow(exp - scale))
        } else {
            10i128
                .checked_pow(scale - exp)
                .map(|div| rounding.divide(mantissa, div))
        };
        let minor = minor
            .and_then(|m| i64::try_from(m).ok())
            .ok_or_else(|| DomainError::new(text, expected()))?;
        Money::within_limit(minor, currency, text)
    }

    /// A unit price written with any number of places (`7.995`) times `units`,
    /// rounded once by `rounding`: 1,000 × 7.995 is 7,995.00, never 1,000 × 8.00.
    pub fn parse_unit_price_times(
        text: &str,
        units: i64,
        currency: Currency,
        rounding: Rounding,
    ) -> Result<Money, DomainError> {
        let expected = || format!("a unit price such as 12.99 in {currency}");
        let (mantissa, scale) =
            parse_decimal(text).ok_or_else(|| DomainError::new(text, expected()))?;
        let exp = u32::from(currency.exponent);
        let total = mantissa.checked_mul(i128::from(units));
        let minor = total.and_then(|t| {
            if scale <= exp {
                t.checked_mul(10i128.pow(exp - scale))
            } else {
                10i128
                    .checked_pow(scale - exp)
                    .map(|div| rounding.divide(t, div))
            }
        });
        let minor =
            minor
                .and_then(|m| i64::try_from(m).ok())
                .unwrap_or(if total.is_some_and(|t| t < 0) {
                    i64::MIN + 1
                } else {
                    i64::MAX
                });
        Money::within_limit(minor, currency, text)
    }

    /// The largest amount backstock takes, either way, in minor units: 10^15
    /// (10,000,000,000,000.00 USD, 1,000,000,000,000,000 JPY). Any amount read from a
    /// file or typed is refused beyond it, and the ledger refuses any entry that would
    /// take the total recorded in a currency past it ([`Money::limit_text`]), so every
    /// balance, and any sum of balances in one currency, stays far inside `i64`.
    pub const LIMIT_MINOR: i64 = 1_000_000_000_000_000;

    /// The limit in `currency`, as people write it: `10,000,000,000,000.00 USD`.
    pub fn limit_text(currency: Currency) -> String {
        let m = Money::from_minor(Money::LIMIT_MINOR, currency).to_decimal_string();
        let (int, frac) = match m.split_once('.') {
            Some((i, f)) => (i, Some(f)),
            None => (m.as_str(), None),
        };
        let mut out = String::new();
        for (i, c) in int.chars().enumerate() {
            if i > 0 && (int.len() - i) % 3 == 0 {
                out.push(',');
            }
            out.push(c);
        }
        if let Some(f) = frac {
            out.push('.');
            out.push_str(f);
        }
        format!("{out} {currency}")
    }

    fn within_limit(minor: i64, currency: Currency, text: &str) -> Result<Money, DomainError> {
        if minor.unsigned_abs() > Money::LIMIT_MINOR.unsigned_abs() {
            return Err(DomainError::new(
                text,
                format!(
                    "an amount of at most {} either way (the limit of any amount; see docs/formats.md)",
                    Money::limit_text(currency)
                ),
            ));
        }
        Ok(Money { minor, currency })
    }

    pub fn minor(&self) -> i64 {
        self.minor
    }

    pub fn currency(&self) -> Currency {
        self.currency
    }

    pub fn is_zero(&self) -> bool {
        self.minor == 0
    }

    fn same_currency(&self, other: Money) -> Result<(), DomainError> {
        if self.currency != other.currency {
            return Err(DomainError::new(
                format!("{} and {}", self.currency, other.currency),
                "amounts in one currency (backstock never converts currencies implicitly)",
            ));
        }
        Ok(())
    }

    fn overflow(&self) -> DomainError {
        DomainError::new(
            self.to_string(),
            "an amount within ±92,233,720,368,547,758.07 (arithmetic overflowed)",
        )
    }

    pub fn checked_add(self, other: Money) -> Result<Money, DomainError> {
        self.same_currency(other)?;
        let minor = self
            .minor
            .checked_add(other.minor)
            .ok_or_else(|| self.overflow())?;
        Ok(Money { minor, ..self })
    }

    pub fn checked_sub(self, other: Money) -> Result<Money, DomainError> {
        self.same_currency(other)?;
        let minor = self
            .minor
            .checked_sub(other.minor)
            .ok_or_else(|| self.overflow())?;
        Ok(Money { minor, ..self })
    }

    pub fn checked_neg(self) -> Result<Money, DomainError> {
        let minor = self.minor.checked_neg().ok_or_else(|| self.overflow())?;
        Ok(Money { minor, ..self })
    }

    /// `self × units`, checked.
    pub fn checked_mul_units(self, units: i64) -> Result<Money, DomainError> {
        let minor = self
            .minor
            .checked_mul(units)
            .ok_or_else(|| self.overflow())?;
        Ok(Money { minor, ..self })
    }

    /// `self × rate`, computed in i128 and rounded once with `rounding`.
    pub fn apply_rate(self, rate: Rate, rounding: Rounding) -> Result<Money, DomainError> {
        let product = i128::from(self.minor) * i128::from(rate.ppm());
        let minor = rounding.divide(product, i128::from(Rate::ONE_PPM));
        let minor = i64::try_from(minor).map_err(|_| self.overflow())?;
        Ok(Money { minor, ..self })
    }

    /// Splits `self` into parts proportional to `shares` (which need not sum to one),
    /// each part rounded down toward zero, and returns the parts and the remainder
    /// (`self − Σ parts`) so the caller can post it to a named account — the ledger
    /// always balances to the minor unit.
    pub fn allocate(self, shares: &[Rate]) -> (Vec<Money>, Money) {
        let mut parts = Vec::with_capacity(shares.len());
        let mut rest = i128::from(self.minor);
        for share in shares {
            let part = i128::from(self.minor) * i128::from(share.ppm()) / i128::from(Rate::ONE_PPM);
            rest -= part;
            // |part| <= |self| * ppm / 1e6 and ppm is capped at 1000x, so this fits
            // unless shares are absurd; saturate rather than panic.
            let part = i64::try_from(part).unwrap_or(if part < 0 { i64::MIN } else { i64::MAX });
            parts.push(Money {
                minor: part,
                ..self
            });
        }
        let rest = i64::try_from(rest).unwrap_or(0);
        (
            parts,
            Money {
                minor: rest,
                ..self
            },
        )
    }

    /// Splits `self` into parts proportional to `shares` that add up to `self` exactly
    /// when the shares add up to one: [`Money::allocate`], then the remainder handed
    /// out one minor unit at a time to the parts that rounding cut the most (largest
    /// remainder; on a tie the earlier share). Used where the whole amount must land
    /// on the parties — a 500.01 advance paid to a duo at 33.33 % / 66.67 % is charged
    /// 166.65 + 333.36 (the share cut most by rounding gets the cent), not 500.00. When the shares do not add up to one, what they
    /// do not cover is answered as the remainder, as `allocate` does.
    pub fn allocate_whole(self, shares: &[Rate]) -> (Vec<Money>, Money) {
        let (mut parts, rest) = self.allocate(shares);
        let total_ppm: u64 = shares.iter().map(|s| u64::from(s.ppm())).sum();
        if total_ppm != u64::from(Rate::ONE_PPM) || rest.minor == 0 || parts.is_empty() {
            return (parts, rest);
        }
        // With shares summing to one, |rest| < number of shares: each part lost less
        // than one minor unit to truncation.
        let step: i64 = if rest.minor > 0 { 1 } else { -1 };
        let mut order: Vec<usize> = (0..shares.len()).collect();
        let cut = |i: usize| -> i128 {
            (i128::from(self.minor) * i128::from(shares[i].ppm()) % i128::from(Rate::ONE_PPM)).abs()
        };
        order.sort_by(|&a, &b| cut(b).cmp(&cut(a)).then(a.cmp(&b)));
        let mut left = rest.minor;
        for i in order.into_iter().cycle().take(shares.len() * 2) {
            if left == 0 {
                break;
            }
            if cut(i) == 0 {
                continue;
            }
            parts[i].minor += step;
            left -= step;
        }
        (
            parts,
            Money {
                minor: left,
                ..self
            },
        )
    }

    /// The amount as a decimal string (`-1234.50`), no currency symbol.
    pub fn to_decimal_string(&self) -> String {
        let exp = u32::from(self.currency.exponent);
        if exp == 0 {
            return self.minor.to_string();
        }
        let scale = self.currency.scale().unsigned_abs();
        let abs = self.minor.unsigned_abs();
        let sign = if self.minor < 0 { "-" } else { "" };
        format!(
            "{sign}{}.{:0width$}",
            abs / scale,
            abs % scale,
            width = exp as usize
        )
    }
}

impl fmt::Display for Money {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.to_decimal_string(), self.currency)
    }
}

/// Parses an optionally signed decimal `[-+]digits[.digits]` into (mantissa, scale).
/// At most 30 significant digits; no exponent notation, no thousands separators.
pub(crate) fn parse_decimal(text: &str) -> Option<(i128, u32)> {
    let t = text.trim();
    let (neg, digits) = match t.as_bytes().first()? {
        b'-' => (true, &t[1..]),
        b'+' => (false, &t[1..]),
        _ => (false, t),
    };
    let (int, frac) = match digits.split_once('.') {
        Some((i, f)) => (i, f),
        None => (digits, ""),
    };
    if (int.is_empty() && frac.is_empty()) || int.len() + frac.len() > 30 {
        return None;
    }
    let mut m: i128 = 0;
    for c in int.bytes().chain(frac.bytes()) {
        if !c.is_ascii_digit() {
            return None;
        }
        m = m * 10 + i128::from(c - b'0');
    }
    Some((if neg { -m } else { m }, frac.len() as u32))
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn a_unit_price_times_units_is_rounded_once() {
        let at = |p: &str, u: i64| {
            Money::parse_unit_price_times(p, u, Currency::USD, Rounding::HalfEven)
                .map(|m| m.minor())
        };
        assert_eq!(at("7.995", 1000), Ok(799_500));
        assert_eq!(at("7.995", 1), Ok(800));
        assert_eq!(at("8", 3), Ok(2400));
        assert_eq!(at("0.3333", 3), Ok(100));
        assert_eq!(at("11.50", -1), Ok(-1150));
        assert!(at("x", 1).is_err());
        assert!(at("9999999999999", 1000).is_err());
    }

    #[test]
    fn an_amount_too_large_names_the_limit_not_the_decimal_places() {
        for text in [
            "99999999999999999999999.00",
            "-99999999999999999999999",
            "10000000000000.01",
        ] {
            let e = Money::parse(text, Currency::USD).unwrap_err().to_string();
            assert!(
                e.contains("an amount of at most 10,000,000,000,000.00 USD either way"),
                "{text}: {e}"
            );
        }
        let e = Money::parse("1.234", Currency::USD)
            .unwrap_err()
            .to_string();
        assert!(e.contains("with at most 2 decimal places"), "{e}");
    }

    fn usd(s: &str) -> Money {
        Money::parse(s, Currency::USD).unwrap()
    }

    #[test]
    fn parse_exact() {
        assert_eq!(usd("1234.56").minor(), 123456);
        assert_eq!(usd("-0.5").minor(), -50);
        assert_eq!(usd("12").minor(), 1200);
        assert_eq!(usd("1.230").minor(), 123);
        assert!(Money::parse("1.234", Currency::USD).is_err());
        assert!(Money::parse("1,234.00", Currency::USD).is_err());
        assert!(Money::parse("1e3", Currency::USD).is_err());
        assert!(Money::parse("", Currency::USD).is_err());
        assert!(Money::parse("99999999999999999999", Currency::USD).is_err());
        // The limit of any amount: 10^15 minor units, either way.
        assert_eq!(
            Money::parse("10000000000000.00", Currency::USD)
                .unwrap()
                .minor(),
            Money::LIMIT_MINOR
        );
        assert_eq!(
            Money::parse("-10000000000000", Currency::USD)
                .unwrap()
                .minor(),
            -Money::LIMIT_MINOR
        );
        let e = Money::parse("92233720368547758.07", Currency::USD).unwrap_err();
        assert!(e.expected().contains("10,000,000,000,000.00 USD"), "{e}");
        assert!(Money::parse("10000000000000.01", Currency::USD).is_err());
        assert!(
            Money::parse_rounded("10000000000000.0051", Currency::USD, Rounding::HalfEven).is_err()
        );
        assert_eq!(
            Money::limit_text(Currency::parse("JPY").unwrap()),
            "1,000,000,000,000,000 JPY"
        );
        assert_eq!(
            Money::limit_text(Currency::parse("BHD").unwrap()),
            "1,000,000,000,000.000 BHD"
        );
        let jpy = Currency::parse("jpy").unwrap();
        assert_eq!(Money::parse("1500", jpy).unwrap().minor(), 1500);
        assert!(Money::parse("1500.5", jpy).is_err());
        let bhd = Currency::parse("BHD").unwrap();
        assert_eq!(Money::parse("1.234", bhd).unwrap().to_string(), "1.234 BHD");
        assert!(Currency::parse("XXY").is_err());
    }

    #[test]
    fn display() {
        assert_eq!(usd("-1234.5").to_string(), "-1234.50 USD");
        assert_eq!(usd("0.07").to_decimal_string(), "0.07");
        assert_eq!(usd("-0.07").to_decimal_string(), "-0.07");
    }

    #[test]
    fn rounding_and_rate() {
        let r = Rate::parse("0.22").unwrap();
        // 9.50 * 0.22 = 2.09 exactly
        assert_eq!(
            usd("9.50")
                .apply_rate(r, Rounding::HalfEven)
                .unwrap()
                .minor(),
            209
        );
        // 0.05 * 0.5 = 0.025 -> half-even 0.02; 0.15*0.5=0.075 -> 0.08
        let half = Rate::parse("0.5").unwrap();
        assert_eq!(
            usd("0.05")
                .apply_rate(half, Rounding::HalfEven)
                .unwrap()
                .minor(),
            2
        );
        assert_eq!(
            usd("0.15")
                .apply_rate(half, Rounding::HalfEven)
                .unwrap()
                .minor(),
            8
        );
        assert_eq!(
            usd("-0.15")
                .apply_rate(half, Rounding::HalfEven)
                .unwrap()
                .minor(),
            -8
        );
        assert_eq!(
            Money::parse_rounded("0.0049999", Currency::USD, Rounding::HalfEven)
                .unwrap()
                .minor(),
            0
        );
    }

    #[test]
    fn checked_arithmetic() {
        let max = Money::from_minor(i64::MAX, Currency::USD);
        assert!(max.checked_add(usd("0.01")).is_err());
        let eur = Money::parse("1", Currency::parse("EUR").unwrap()).unwrap();
        assert!(usd("1").checked_add(eur).is_err());
        assert_eq!(usd("1").checked_sub(usd("2.5")).unwrap().minor(), -150);
    }

    #[test]
    fn a_decimal_comma_is_refused_saying_how_to_write_it() {
        let e = Money::parse("3.063,37", Currency::USD)
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("write the decimal comma as a point and no thousands separators: 3063.37"),
            "{e}"
        );
        let e = Money::parse("12,5", Currency::parse("EUR").unwrap())
            .unwrap_err()
            .to_string();
        assert!(e.contains(": 12.5"), "{e}");
        // A thousands comma is not a decimal comma.
        let e = Money::parse("1,234.56", Currency::USD)
            .unwrap_err()
            .to_string();
        assert!(!e.contains("decimal comma"), "{e}");
    }

    #[test]
    fn allocate_whole_lands_every_cent() {
        let usd = Currency::USD;
        let m = Money::from_minor(50001, usd);
        let shares = [
            Rate::from_ppm(333_300).unwrap(),
            Rate::from_ppm(666_700).unwrap(),
        ];
        let (parts, rest) = m.allocate(&shares);
        assert_eq!(
            (parts[0].minor(), parts[1].minor(), rest.minor()),
            (16665, 33335, 1)
        );
        let (parts, rest) = m.allocate_whole(&shares);
        assert_eq!(
            (parts[0].minor(), parts[1].minor(), rest.minor()),
            (16665, 33336, 0)
        );
        // negative amounts: the remainder is handed out with its sign
        let (parts, rest) = Money::from_minor(-50001, usd).allocate_whole(&shares);
        assert_eq!(
            (parts[0].minor(), parts[1].minor(), rest.minor()),
            (-16665, -33336, 0)
        );
        // three equal thirds of one cent: one part gets it, the first on a tie
        let third = Rate::from_ppm(333_333).unwrap();
        let shares3 = [third, third, Rate::from_ppm(333_334).unwrap()];
        let (parts, rest) = Money::from_minor(2, usd).allocate_whole(&shares3);
        assert_eq!(parts.iter().map(|p| p.minor()).sum::<i64>(), 2);
        assert_eq!(rest.minor(), 0);
        // shares that do not cover the whole: the uncovered part stays the remainder
        let (parts, rest) =
            Money::from_minor(1000, usd).allocate_whole(&[Rate::from_ppm(500_000).unwrap()]);
        assert_eq!((parts[0].minor(), rest.minor()), (500, 500));
    }

    proptest! {
        #[test]
        fn allocate_ties_out(minor in -1_000_000_000i64..1_000_000_000, a in 0u32..1_000_000, b in 0u32..1_000_000) {
            let m = Money::from_minor(minor, Currency::USD);
            let shares = [Rate::from_ppm(a).unwrap(), Rate::from_ppm(b).unwrap()];
            let (parts, rest) = m.allocate(&shares);
            let sum: i64 = parts.iter().map(|p| p.minor()).sum::<i64>() + rest.minor();
            prop_assert_eq!(sum, minor);
        }

        #[test]
        fn parse_display_roundtrip(minor in -Money::LIMIT_MINOR..=Money::LIMIT_MINOR) {
            let m = Money::from_minor(minor, Currency::USD);
            prop_assert_eq!(Money::parse(&m.to_decimal_string(), Currency::USD).unwrap(), m);
        }

        #[test]
        fn parse_never_panics(s in ".{0,40}") {
            let _ = Money::parse(&s, Currency::USD);
            let _ = Money::parse_rounded(&s, Currency::USD, Rounding::HalfEven);
        }
    }
}
