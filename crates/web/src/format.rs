//! Money, numbers and dates written for a tenant's locale and currency.
//!
//! Supported locales (a tenant setting, default `en-US`): `en-US`, `en-GB`, `en-CA`,
//! `en-AU`, `de-DE`, `fr-FR`, `es-ES`, `it-IT`, `nl-NL`, and `iso` (ISO dates, plain
//! decimals). Money keeps its own currency; the tenant's currency is the one written
//! with its symbol alone, other currencies carry their code.

use backstock_domain::{Date, Money};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Locale {
    pub tag: String,
    /// The label's home currency (ISO 4217).
    pub currency: String,
}

pub const LOCALES: [&str; 10] = [
    "en-US", "en-GB", "en-CA", "en-AU", "de-DE", "fr-FR", "es-ES", "it-IT", "nl-NL", "iso",
];

struct Style {
    group: &'static str,
    decimal: char,
    /// Symbol before the amount (`$1.00`) or after it (`1,00 €`).
    symbol_first: bool,
    date: DateStyle,
}

enum DateStyle {
    Mdy,
    DmySlash,
    DmyDot,
    DmyDash,
    Iso,
}

impl Locale {
    pub fn new(tag: &str, currency: &str) -> Locale {
        Locale {
            tag: tag.to_string(),
            currency: currency.to_string(),
        }
    }

    fn style(&self) -> Style {
        let (group, decimal, symbol_first, date) = match self.tag.as_str() {
            "en-US" => (",", '.', true, DateStyle::Mdy),
            "en-GB" | "en-AU" => (",", '.', true, DateStyle::DmySlash),
            "en-CA" => (",", '.', true, DateStyle::Iso),
            "de-DE" => (".", ',', false, DateStyle::DmyDot),
            "fr-FR" => ("\u{202f}", ',', false, DateStyle::DmySlash),
            "es-ES" | "it-IT" => (".", ',', false, DateStyle::DmySlash),
            "nl-NL" => (".", ',', true, DateStyle::DmyDash),
            _ => ("", '.', false, DateStyle::Iso),
        };
        Style {
            group,
            decimal,
            symbol_first,
            date,
        }
    }

    /// A whole number with the locale's grouping: 1,234,567 / 1.234.567.
    pub fn int(&self, n: i64) -> String {
        let g = self.style().group;
        let s = n.unsigned_abs().to_string();
        let mut out = String::new();
        for (i, c) in s.chars().enumerate() {
            if i > 0 && (s.len() - i).is_multiple_of(3) {
                out.push_str(g);
            }
            out.push(c);
        }
        if n < 0 {
            format!("-{out}")
        } else {
            out
        }
    }

    /// Money: `$1,234.50`, `1.234,50 €`, `-£3.00`; other currencies than the label's
    /// carry their code (`1,234.50 EUR`).
    pub fn money(&self, m: Money) -> String {
        let st = self.style();
        let exp = u32::from(m.currency().exponent());
        let scale = 10i128.pow(exp);
        let minor = i128::from(m.minor());
        let whole = (minor.abs() / scale) as i64;
        let frac = minor.abs() % scale;
        let mut num = self.int(whole);
        if exp > 0 {
            num.push(st.decimal);
            num.push_str(&format!("{frac:0width$}", width = exp as usize));
        }
        let sign = if minor < 0 { "-" } else { "" };
        let code = m.currency().code().to_string();
        if self.tag == "iso" || code != self.currency {
            return format!("{sign}{num} {code}");
        }
        let sym = symbol(&code);
        if st.symbol_first {
            format!("{sign}{sym}{num}")
        } else {
            format!("{sign}{num}\u{a0}{sym}")
        }
    }

    pub fn date(&self, d: Date) -> String {
        let (y, m, day) = (d.year(), d.month(), d.day());
        match self.style().date {
            DateStyle::Mdy => format!("{m:02}/{day:02}/{y}"),
            DateStyle::DmySlash => format!("{day:02}/{m:02}/{y}"),
            DateStyle::DmyDot => format!("{day:02}.{m:02}.{y}"),
            DateStyle::DmyDash => format!("{day:02}-{m:02}-{y}"),
            DateStyle::Iso => d.to_string(),
        }
    }

    /// A permille as a percent with one decimal: 1234 → 123.4%.
    pub fn permille(&self, p: i64) -> String {
        let d = self.style().decimal;
        format!("{}{}{}%", self.int(p / 10), d, (p % 10).abs())
    }
}

fn symbol(code: &str) -> &str {
    match code {
        "USD" => "$",
        "EUR" => "€",
        "GBP" => "£",
        "JPY" => "¥",
        "CAD" => "CA$",
        "AUD" => "A$",
        "CHF" => "CHF",
        "SEK" | "NOK" | "DKK" => "kr",
        other => other,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use backstock_domain::Currency;

    #[test]
    fn locales() {
        let usd = |m| Money::from_minor(m, Currency::USD);
        let us = Locale::new("en-US", "USD");
        assert_eq!(us.money(usd(123456789)), "$1,234,567.89");
        assert_eq!(us.money(usd(-5)), "-$0.05");
        let eur = Currency::parse("EUR").unwrap();
        assert_eq!(us.money(Money::from_minor(100, eur)), "1.00 EUR");
        let de = Locale::new("de-DE", "EUR");
        assert_eq!(de.money(Money::from_minor(123456, eur)), "1.234,56\u{a0}€");
        let d = Date::parse("2016-06-30").unwrap();
        assert_eq!(us.date(d), "06/30/2016");
        assert_eq!(de.date(d), "30.06.2016");
        assert_eq!(Locale::new("iso", "USD").date(d), "2016-06-30");
        assert_eq!(Locale::new("iso", "USD").money(usd(100)), "1.00 USD");
        assert_eq!(us.permille(1234), "123.4%");
        let jpy = Currency::parse("JPY").unwrap();
        assert_eq!(
            Locale::new("en-US", "JPY").money(Money::from_minor(1500, jpy)),
            "¥1,500"
        );
    }
}
