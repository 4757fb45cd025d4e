//! Money, numbers and dates written for a tenant's locale and currency.
//!
//! Supported locales (a tenant setting, default `en-US`): `en-US`, `en-GB`, `en-CA`,
//! `en-AU`, `de-DE`, `fr-FR`, `es-ES`, `it-IT`, `nl-NL`, and `iso` (ISO dates, plain
//! decimals). Money keeps its own currency; the tenant's currency is the one written
//! with its symbol alone, other currencies carry their code.

use backstock_domain::{Currency, Date, Money};
use backstock_royalty_statement::{DateOrder, Writing};

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
    date: DateOrder,
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
            "en-US" => (",", '.', true, DateOrder::Mdy('/')),
            "en-GB" | "en-AU" => (",", '.', true, DateOrder::Dmy('/')),
            "en-CA" => (",", '.', true, DateOrder::Iso),
            "de-DE" => (".", ',', false, DateOrder::Dmy('.')),
            "fr-FR" => ("\u{202f}", ',', false, DateOrder::Dmy('/')),
            "es-ES" | "it-IT" => (".", ',', false, DateOrder::Dmy('/')),
            "nl-NL" => (".", ',', true, DateOrder::Dmy('-')),
            _ => ("", '.', false, DateOrder::Iso),
        };
        Style {
            group,
            decimal,
            symbol_first,
            date,
        }
    }

    /// How the locale writes numbers and dates, as the royalty statements (HTML, PDF)
    /// take it: the one table of formats above, for pages and statements alike.
    pub fn writing(&self) -> Writing {
        let st = self.style();
        Writing {
            group: st.group.to_string(),
            decimal: st.decimal,
            dates: st.date,
        }
    }

    /// A whole number with the locale's grouping: 1,234,567 / 1.234.567.
    pub fn int(&self, n: i64) -> String {
        self.writing().units(n)
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
        self.writing().date(d)
    }

    /// How this locale writes a date, for people: `DD/MM/YYYY`, `MM/DD/YYYY`,
    /// `DD.MM.YYYY`, `DD-MM-YYYY` or `YYYY-MM-DD`.
    pub fn date_pattern(&self) -> String {
        match self.style().date {
            DateOrder::Iso => "YYYY-MM-DD".into(),
            DateOrder::Mdy(sep) => format!("MM{sep}DD{sep}YYYY"),
            DateOrder::Dmy(sep) => format!("DD{sep}MM{sep}YYYY"),
        }
    }

    /// A date typed as this locale shows dates (`31/12/2016` for en-GB, `12/31/2016`
    /// for en-US; day and month of one or two digits, a four-digit year), or in ISO
    /// (`2016-12-31`). Never any other order: `12/31/2016` is not a date for en-GB,
    /// and `01/05/2016` is the 1st of May for en-GB, the 5th of January for en-US.
    pub fn parse_date(&self, text: &str) -> Option<Date> {
        let t = text.trim();
        if let Ok(d) = Date::parse(t) {
            return Some(d);
        }
        let (sep, day_first) = match self.style().date {
            DateOrder::Iso => return None,
            DateOrder::Mdy(sep) => (sep, false),
            DateOrder::Dmy(sep) => (sep, true),
        };
        let parts: Vec<&str> = t.split(sep).collect();
        let [a, b, y] = parts.as_slice() else {
            return None;
        };
        let digits = |p: &str, n: std::ops::RangeInclusive<usize>| {
            n.contains(&p.len()) && p.bytes().all(|c| c.is_ascii_digit())
        };
        if !digits(a, 1..=2) || !digits(b, 1..=2) || !digits(y, 4..=4) {
            return None;
        }
        let (a, b, y): (u32, u32, i32) = (a.parse().ok()?, b.parse().ok()?, y.parse().ok()?);
        let (day, month) = if day_first { (a, b) } else { (b, a) };
        Date::from_ymd(y, month, day).ok()
    }

    /// A sentence written by a lower crate — its ISO dates (`2016-06-30`) and amounts
    /// (`1234.56 USD`, `-12,345.60 USD`) — in this locale's formats, for display only
    /// (stored text, CSV downloads and the API keep what the crates wrote).
    ///
    /// Only whole tokens are rewritten: a date or amount inside an id (`x12-0077-2016-03-31`,
    /// `payout:2016-06-30`), a timestamp (`2016-06-30T10:00Z`), a quoted value
    /// (`"2016-13-01"`, a value from a file) or a command in backticks is left as written,
    /// and an amount must parse as its currency's (no more decimals than it has).
    pub fn sentence(&self, s: &str) -> String {
        self.rewrite(s, false)
    }

    /// [`sentence`](Self::sentence) for a report laid out in columns (the import's
    /// preview, shown as written in monospace): a token after two or more spaces
    /// keeps its right edge where it was, the spaces before it made fewer or more
    /// (at least one is kept).
    pub fn report(&self, s: &str) -> String {
        self.rewrite(s, true)
    }

    fn rewrite(&self, s: &str, aligned: bool) -> String {
        let b = s.as_bytes();
        let mut out: Vec<u8> = Vec::with_capacity(b.len() + 16);
        let mut in_code = false;
        let mut i = 0;
        while i < b.len() {
            let c = b[i];
            if c == b'`' {
                in_code = !in_code;
            }
            if !in_code && (c.is_ascii_digit() || c == b'-') && opens_token(b, i) {
                if let Some((text, len)) = self
                    .date_token(s, i)
                    .or_else(|| self.money_token(s, i))
                    .or_else(|| self.units_token(s, i))
                {
                    let run = out.iter().rev().take_while(|c| **c == b' ').count();
                    if aligned && run >= 2 {
                        // Widths in characters: `€` and the narrow space are one each.
                        let (was, now) = (len, text.chars().count());
                        let keep = (run + was).saturating_sub(now).max(1);
                        out.truncate(out.len() - run);
                        out.resize(out.len() + keep, b' ');
                    }
                    out.extend_from_slice(text.as_bytes());
                    i += len;
                    continue;
                }
            }
            out.push(c);
            i += 1;
        }
        // Only ASCII tokens were replaced, at ASCII boundaries: still UTF-8.
        String::from_utf8(out).unwrap_or_else(|_| s.to_string())
    }

    /// `YYYY-MM-DD` at `i`, a real date ending the token: (as written here, its length).
    fn date_token(&self, s: &str, i: usize) -> Option<(String, usize)> {
        let t = s.get(i..i + 10)?;
        let d = Date::parse(t).ok()?;
        closes_token(s.as_bytes(), i + 10).then(|| (self.date(d), 10))
    }

    /// `[-]1234.56 CCY` or `[-]1,234.56 CCY` at `i` (one space, an ISO 4217 code).
    fn money_token(&self, s: &str, i: usize) -> Option<(String, usize)> {
        let b = s.as_bytes();
        let mut j = i;
        if b[j] == b'-' {
            j += 1;
        }
        let start = j;
        while j < b.len() && (b[j].is_ascii_digit() || b[j] == b',') {
            j += 1;
        }
        let int = &s[start..j];
        if int.is_empty() || !grouped_ok(int) {
            return None;
        }
        if j + 1 < b.len() && b[j] == b'.' && b[j + 1].is_ascii_digit() {
            j += 1;
            while j < b.len() && b[j].is_ascii_digit() {
                j += 1;
            }
        }
        let number = s[i..j].replace(',', "");
        let code = s.get(j + 1..j + 4)?;
        if b[j] != b' ' || !code.bytes().all(|c| c.is_ascii_uppercase()) {
            return None;
        }
        let end = j + 4;
        if b.get(end)
            .is_some_and(|c| c.is_ascii_alphanumeric() || *c == b'_')
        {
            return None;
        }
        let cur = Currency::parse(code).ok()?;
        let m = Money::parse(&number, cur).ok()?;
        Some((self.money(m), end - i))
    }

    /// `1949 units` (or `1 unit`) at `i`: the count with the label's thousands
    /// separators (`1,949 units`).
    fn units_token(&self, s: &str, i: usize) -> Option<(String, usize)> {
        let b = s.as_bytes();
        let mut j = i;
        if b[j] == b'-' {
            j += 1;
        }
        let start = j;
        while j < b.len() && b[j].is_ascii_digit() {
            j += 1;
        }
        if j == start || !s[j..].starts_with(" unit") {
            return None;
        }
        let n: i64 = s[i..j].parse().ok()?;
        Some((self.int(n), j - i))
    }

    /// A permille as a percent with one decimal: 1234 → 123.4%.
    pub fn permille(&self, p: i64) -> String {
        let d = self.style().decimal;
        format!("{}{}{}%", self.int(p / 10), d, (p % 10).abs())
    }
}

/// Whether a token may start at `i`: at the start, or after a space or punctuation
/// that does not join it to a word, an id, a number or a quoted value.
fn opens_token(b: &[u8], i: usize) -> bool {
    match i.checked_sub(1).map(|p| b[p]) {
        None => true,
        Some(p) => !(p.is_ascii_alphanumeric() || b"-_:/.,'\"`=#+@$\\&".contains(&p)),
    }
}

/// Whether a date token may end at `j`: at the end, or before a space or punctuation
/// that does not join it to an id, a timestamp or a number (`2016-06-30.` ends a
/// sentence and `2016-06-30, 2016-07-31` a list; `2016-06-30..2016-07-31`,
/// `2016-06-30.csv` and `2016-06-30,12` do not end there).
fn closes_token(b: &[u8], j: usize) -> bool {
    match b.get(j) {
        None => true,
        Some(b'.' | b',' | b':' | b';') => b
            .get(j + 1)
            .is_none_or(|n| !(n.is_ascii_alphanumeric() || *n == b'.' || *n == b',')),
        Some(n) => !(n.is_ascii_alphanumeric() || b"-_/'\"`=#+@\\".contains(n)),
    }
}

/// `1234` or `1,234,567` (groups of three after the first), never `1,23` or `,5`.
fn grouped_ok(int: &str) -> bool {
    if !int.contains(',') {
        return true;
    }
    let mut parts = int.split(',');
    let first = parts.next().unwrap_or("");
    (1..=3).contains(&first.len()) && parts.all(|p| p.len() == 3)
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

    #[test]
    fn sentences_in_the_label_format() {
        let us = Locale::new("en-US", "USD");
        let gb = Locale::new("en-GB", "GBP");
        let de = Locale::new("de-DE", "EUR");
        let s = "11 statements missing (periods ending 2025-11-30 … 2026-10-31); open 9145.20 USD, limit -12,345.60 USD.";
        assert_eq!(
            us.sentence("ending 2016-02-29, 2016-03-31 and 2016-04-30: 2016-05-31,12"),
            "ending 02/29/2016, 03/31/2016 and 04/30/2016: 2016-05-31,12"
        );
        assert_eq!(
            us.sentence(s),
            "11 statements missing (periods ending 11/30/2025 … 10/31/2026); open $9,145.20, limit -$12,345.60."
        );
        assert_eq!(
            gb.sentence(s),
            "11 statements missing (periods ending 30/11/2025 … 31/10/2026); open 9,145.20 USD, limit -12,345.60 USD."
        );
        assert_eq!(
            de.sentence("Paid 1234.50 EUR on 2016-06-30."),
            "Paid 1.234,50\u{a0}€ on 30.06.2016."
        );
        // Counts of units grouped as the label groups numbers.
        assert_eq!(
            us.sentence("demand 1949 units back: 3691.60 USD at cost; 1 unit"),
            "demand 1,949 units back: $3,691.60 at cost; 1 unit"
        );
        assert_eq!(de.sentence("1949 units"), "1.949 units");
        assert_eq!(de.sentence("1.949 units"), "1.949 units");
        // ISO labels and en-CA keep ISO dates; amounts lose only their grouping.
        assert_eq!(
            Locale::new("iso", "USD").sentence("due 2016-06-30: 1,000.00 USD"),
            "due 2016-06-30: 1000.00 USD"
        );
        // Not tokens: ids, timestamps, ranges, files, quoted values, commands, other
        // words, amounts with more decimals than the currency has.
        for kept in [
            "entry x12-0077-2016-03-31 and payout:2016-06-30",
            "at 2016-06-30T10:00:00Z",
            "period 2016-06-01..2016-06-30",
            "file sales-2016-06-30.csv",
            "the value \"2016-13-01\" is not a date; \"2016-06-30\" is",
            "run `backstock reopen 2016-06-30 --amount 5.00 USD` first",
            "12 units; 3 SKU; 12.345 USD; 1,23 USD; 12 USDX; 2016-02-30",
            "#2016-06-30 and $5.00 USD",
        ] {
            assert_eq!(us.sentence(kept), kept, "{kept}");
        }
        // Already written for the locale: unchanged (the same text twice).
        let once = de.sentence("1234.50 USD and 1234.50 EUR");
        assert_eq!(once, "1.234,50 USD and 1.234,50\u{a0}€");
        assert_eq!(de.sentence(&once), once);
        assert_eq!(
            us.sentence("ok → héllo 2016-06-30 ✓"),
            "ok → héllo 06/30/2016 ✓"
        );
    }

    #[test]
    fn dates_typed_as_the_label_shows_them() {
        let gb = Locale::new("en-GB", "GBP");
        let us = Locale::new("en-US", "USD");
        let de = Locale::new("de-DE", "EUR");
        let iso = |s| Date::parse(s).ok();
        assert_eq!(gb.parse_date("31/12/2016"), iso("2016-12-31"));
        assert_eq!(gb.parse_date(" 1/5/2016 "), iso("2016-05-01"));
        assert_eq!(us.parse_date("01/05/2016"), iso("2016-01-05"));
        assert_eq!(us.parse_date("12/31/2016"), iso("2016-12-31"));
        assert_eq!(de.parse_date("31.12.2016"), iso("2016-12-31"));
        assert_eq!(
            Locale::new("nl-NL", "EUR").parse_date("31-12-2016"),
            iso("2016-12-31")
        );
        // ISO always; never the other order, another separator or a short year.
        assert_eq!(gb.parse_date("2016-12-31"), iso("2016-12-31"));
        assert_eq!(gb.parse_date("12/31/2016"), None);
        assert_eq!(us.parse_date("31/12/2016"), None);
        assert_eq!(de.parse_date("31/12/2016"), None);
        assert_eq!(gb.parse_date("31/12/16"), None);
        assert_eq!(gb.parse_date("31/02/2016"), None);
        assert_eq!(Locale::new("iso", "USD").parse_date("31/12/2016"), None);
        assert_eq!(Locale::new("en-CA", "CAD").parse_date("12/31/2016"), None);
        // What the label shows, it reads back.
        for tag in LOCALES {
            let l = Locale::new(tag, "USD");
            let d = Date::parse("2016-02-09").unwrap();
            assert_eq!(l.parse_date(&l.date(d)), Some(d), "{tag}");
        }
        assert_eq!(gb.date_pattern(), "DD/MM/YYYY");
        assert_eq!(us.date_pattern(), "MM/DD/YYYY");
        assert_eq!(de.date_pattern(), "DD.MM.YYYY");
        assert_eq!(Locale::new("iso", "USD").date_pattern(), "YYYY-MM-DD");
    }

    #[test]
    fn reports_keep_their_columns() {
        let de = Locale::new("de-DE", "USD");
        let report = "st.csv: would record 2 lines, total 1234.00 USD\n  \
                      sale    50 units      400.00 USD\n  \
                      fee      0 units    1,080.00 EUR\n  \
                      receivable      0.00 USD →     320.00 USD";
        let out = de.report(report);
        let lines: Vec<&str> = out.lines().collect();
        assert_eq!(
            lines[0],
            "st.csv: would record 2 lines, total 1.234,00\u{a0}$"
        );
        assert_eq!(lines[1], "  sale    50 units        400,00\u{a0}$");
        assert_eq!(lines[2], "  fee      0 units    1.080,00 EUR");
        assert_eq!(
            lines[3],
            "  receivable        0,00\u{a0}$ →       320,00\u{a0}$"
        );
        // The right edges stay where they were.
        let width = |l: &str| l.chars().count();
        for (a, b) in report.lines().zip(out.lines()).skip(1) {
            assert_eq!(width(a), width(b), "{a:?} / {b:?}");
        }
        // Too long for the spaces before it: one space is kept.
        assert_eq!(
            Locale::new("de-DE", "EUR").report("x  1234.00 USD"),
            "x 1.234,00 USD"
        );
    }
}
