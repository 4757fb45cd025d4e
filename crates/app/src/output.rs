//! Rendering results as a table (people), JSON or CSV (other tools).

use clap::ValueEnum;
use serde_json::Value;
use std::borrow::Cow;

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum, Default)]
pub enum Format {
    #[default]
    Table,
    Json,
    Csv,
}

/// A result table: column names and rows of cells. `right` marks numeric columns.
pub struct Table {
    pub columns: Vec<&'static str>,
    pub right: Vec<bool>,
    pub rows: Vec<Vec<String>>,
}

impl Table {
    pub fn new(columns: &[&'static str]) -> Table {
        Table {
            columns: columns.to_vec(),
            right: vec![false; columns.len()],
            rows: Vec::new(),
        }
    }
    pub fn numeric(mut self, cols: &[usize]) -> Table {
        for c in cols {
            if let Some(r) = self.right.get_mut(*c) {
                *r = true;
            }
        }
        self
    }
    pub fn push(&mut self, row: Vec<String>) {
        self.rows.push(row);
    }

    pub fn render(&self, format: Format, json: &Value) -> String {
        match format {
            Format::Json => serde_json::to_string_pretty(json).unwrap_or_default() + "\n",
            Format::Csv => self.csv(),
            Format::Table => self.text(),
        }
    }

    /// CSV for other tools: numbers are numbers. In numeric columns, thousands
    /// separators are dropped (`1,234` → `1234`), a percentage loses its sign
    /// (`110.1%` → `110.1`) and an amount loses its currency code (`9,145.20 USD` →
    /// `9145.20`); the code then goes to a `currency` column (added at the end when the
    /// table has none), so nothing is lost.
    ///
    /// Written straight into one string (a label group's `stock` is 378,000 rows: a
    /// copy of every cell before writing it cost more memory than the table itself).
    pub fn csv(&self) -> String {
        let numeric = |i: usize| self.right.get(i).copied().unwrap_or(false);
        let has_currency = self.columns.contains(&"currency");
        let add_currency = !has_currency
            && self.rows.iter().any(|r| {
                r.iter()
                    .enumerate()
                    .any(|(i, c)| numeric(i) && plain_number(c).1.is_some())
            });
        let mut out = String::with_capacity(self.text_bytes());
        for (i, c) in self.columns.iter().enumerate() {
            if i > 0 {
                out.push(',');
            }
            out.push_str(&csv_cell(c));
        }
        if add_currency {
            out.push_str(",currency");
        }
        out.push('\n');
        for r in &self.rows {
            let mut code = None;
            for (i, c) in r.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                if numeric(i) {
                    let (n, cur) = plain_number(c);
                    if code.is_none() {
                        code = cur;
                    }
                    out.push_str(&csv_cell(&n));
                } else {
                    out.push_str(&csv_cell(c));
                }
            }
            if add_currency {
                out.push(',');
                out.push_str(code.unwrap_or_default());
            }
            out.push('\n');
        }
        out
    }

    /// Roughly the bytes of the rendered table: what its output string reserves.
    fn text_bytes(&self) -> usize {
        let per_row = self
            .rows
            .first()
            .map_or(0, |r| r.iter().map(|c| c.len() + 2).sum::<usize>());
        per_row.saturating_mul(self.rows.len().saturating_add(2))
    }

    /// The table as people read it: columns padded to their widest cell, numbers to
    /// the right, a line of dashes under the names. Written straight into one string.
    pub fn text(&self) -> String {
        if self.rows.is_empty() {
            return "(nothing to show)\n".into();
        }
        let mut w: Vec<usize> = self.columns.iter().map(|c| width(c)).collect();
        for r in &self.rows {
            for (i, c) in r.iter().enumerate() {
                if let Some(x) = w.get_mut(i) {
                    *x = (*x).max(width(c));
                }
            }
        }
        let widest: usize = w.iter().map(|n| n + 2).sum();
        let mut out =
            String::with_capacity(widest.saturating_mul(self.rows.len().saturating_add(2)));
        self.line(&mut out, &w, self.columns.iter().copied());
        let dashes: Vec<String> = w.iter().map(|n| "-".repeat(*n)).collect();
        self.line(&mut out, &w, dashes.iter().map(String::as_str));
        for r in &self.rows {
            self.line(&mut out, &w, r.iter().map(String::as_str));
        }
        out
    }

    /// One line of [`Table::text`], its trailing spaces trimmed.
    fn line<'a>(
        &self,
        out: &mut String,
        w: &[usize],
        cells: impl ExactSizeIterator<Item = &'a str>,
    ) {
        let start = out.len();
        let n = cells.len();
        for (i, c) in cells.enumerate() {
            let pad = w.get(i).copied().unwrap_or(0).saturating_sub(width(c));
            if i > 0 {
                out.push_str("  ");
            }
            if self.right.get(i).copied().unwrap_or(false) {
                out.extend(std::iter::repeat_n(' ', pad));
                out.push_str(c);
            } else {
                out.push_str(c);
                if i + 1 < n {
                    out.extend(std::iter::repeat_n(' ', pad));
                }
            }
        }
        let kept = out[start..].trim_end().len();
        out.truncate(start + kept);
        out.push('\n');
    }
}

/// How wide a cell is on a terminal: its characters (ASCII, nearly every cell, by its
/// length without counting).
fn width(s: &str) -> usize {
    if s.is_ascii() {
        s.len()
    } else {
        s.chars().count()
    }
}

/// A number as people read it → as tools read it, with the currency code it carried:
/// `-1,234.50 USD` → (`-1234.50`, `USD`), `110.1%` → `110.1`, `1,234` → `1234`.
/// Anything else is returned as it is.
fn plain_number(s: &str) -> (Cow<'_, str>, Option<&str>) {
    let t = s.trim();
    let (num, code) = match t.rsplit_once(' ') {
        Some((n, c)) if c.len() == 3 && c.bytes().all(|b| b.is_ascii_uppercase()) => (n, Some(c)),
        _ => (t, None),
    };
    let num = num.strip_suffix('%').unwrap_or(num);
    let digits = num.strip_prefix('-').unwrap_or(num);
    let numeric = !digits.is_empty()
        && digits
            .bytes()
            .all(|b| b.is_ascii_digit() || b == b',' || b == b'.')
        && digits.bytes().next().is_some_and(|b| b.is_ascii_digit());
    if !numeric {
        return (Cow::Borrowed(s), None);
    }
    if num.contains(',') {
        (Cow::Owned(num.replace(',', "")), code)
    } else {
        (Cow::Borrowed(num), code)
    }
}

/// A CSV cell through the product's one neutralizing writer (a formula is written
/// with a leading `'`, never run).
fn csv_cell(s: &str) -> Cow<'_, str> {
    backstock_domain::csv::cell(s)
}

/// Thousands separators for whole numbers: 1234567 → 1,234,567.
pub fn thousands(n: i64) -> String {
    let s = n.unsigned_abs().to_string();
    let mut out = String::new();
    for (i, c) in s.chars().enumerate() {
        if i > 0 && (s.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    if n < 0 {
        format!("-{out}")
    } else {
        out
    }
}

/// Money for people: `$1,234.50`-style with the currency code: `1,234.50 USD`.
pub fn money(m: backstock_domain::Money) -> String {
    let s = m.to_decimal_string();
    let (sign, s) = match s.strip_prefix('-') {
        Some(r) => ("-", r.to_string()),
        None => ("", s),
    };
    let (int, frac) = match s.split_once('.') {
        Some((i, f)) => (i.to_string(), format!(".{f}")),
        None => (s.clone(), String::new()),
    };
    let int: i64 = int.parse().unwrap_or(0);
    format!("{sign}{}{frac} {}", thousands(int), m.currency())
}

#[cfg(test)]
mod tests {
    use super::*;
    use backstock_domain::{Currency, Money};

    #[test]
    fn formats() {
        assert_eq!(thousands(1234567), "1,234,567");
        assert_eq!(thousands(-999), "-999");
        assert_eq!(
            money(Money::from_minor(-123456789, Currency::USD)),
            "-1,234,567.89 USD"
        );
        let mut t = Table::new(&["a", "n"]).numeric(&[1]);
        t.push(vec!["x,y".into(), "10".into()]);
        assert_eq!(t.render(Format::Csv, &Value::Null), "a,n\n\"x,y\",10\n");
        assert_eq!(t.text(), "a     n\n---  --\nx,y  10\n");
    }

    #[test]
    fn csv_numbers_are_numbers() {
        let mut t = Table::new(&["party", "balance", "used", "units"]).numeric(&[1, 2, 3]);
        t.push(vec![
            "cascade".into(),
            money(Money::from_minor(914_520, Currency::USD)),
            "110.1%".into(),
            thousands(12_345),
        ]);
        t.push(vec![
            "x".into(),
            "-1,000.00 EUR".into(),
            "".into(),
            "n/a".into(),
        ]);
        assert_eq!(
            t.csv(),
            "party,balance,used,units,currency\ncascade,9145.20,110.1,12345,USD\nx,-1000.00,,n/a,EUR\n"
        );
        // With a currency column of its own, none is added.
        let mut t = Table::new(&["net", "currency"]).numeric(&[0]);
        t.push(vec!["1,000.00 USD".into(), "USD".into()]);
        assert_eq!(t.csv(), "net,currency\n1000.00,USD\n");
    }
}
