//! Rendering results as a table (people), JSON or CSV (other tools).

use clap::ValueEnum;
use serde_json::Value;

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
    pub fn csv(&self) -> String {
        let has_currency = self.columns.contains(&"currency");
        let rows: Vec<(Vec<String>, Option<String>)> = self
            .rows
            .iter()
            .map(|r| {
                let mut code = None;
                let cells = r
                    .iter()
                    .enumerate()
                    .map(|(i, c)| {
                        if !self.right.get(i).copied().unwrap_or(false) {
                            return c.clone();
                        }
                        let (n, cur) = plain_number(c);
                        if code.is_none() {
                            code = cur;
                        }
                        n
                    })
                    .collect();
                (cells, code)
            })
            .collect();
        let add_currency = !has_currency && rows.iter().any(|(_, c)| c.is_some());
        let mut out = String::new();
        let mut header: Vec<String> = self.columns.iter().map(|c| csv_cell(c)).collect();
        if add_currency {
            header.push("currency".into());
        }
        out.push_str(&header.join(","));
        out.push('\n');
        for (cells, code) in rows {
            let mut line: Vec<String> = cells.iter().map(|c| csv_cell(c)).collect();
            if add_currency {
                line.push(code.unwrap_or_default());
            }
            out.push_str(&line.join(","));
            out.push('\n');
        }
        out
    }

    pub fn text(&self) -> String {
        if self.rows.is_empty() {
            return "(nothing to show)\n".into();
        }
        let mut w: Vec<usize> = self.columns.iter().map(|c| c.chars().count()).collect();
        for r in &self.rows {
            for (i, c) in r.iter().enumerate() {
                if let Some(x) = w.get_mut(i) {
                    *x = (*x).max(c.chars().count());
                }
            }
        }
        let line = |cells: Vec<&str>| -> String {
            let mut s = String::new();
            for (i, c) in cells.iter().enumerate() {
                let width = w.get(i).copied().unwrap_or(0);
                let pad = width.saturating_sub(c.chars().count());
                if i > 0 {
                    s.push_str("  ");
                }
                if self.right.get(i).copied().unwrap_or(false) {
                    s.push_str(&" ".repeat(pad));
                    s.push_str(c);
                } else {
                    s.push_str(c);
                    if i + 1 < cells.len() {
                        s.push_str(&" ".repeat(pad));
                    }
                }
            }
            s.trim_end().to_string() + "\n"
        };
        let mut out = line(self.columns.clone());
        out.push_str(&line(
            w.iter()
                .map(|n| "-".repeat(*n))
                .collect::<Vec<_>>()
                .iter()
                .map(|s| s.as_str())
                .collect(),
        ));
        for r in &self.rows {
            out.push_str(&line(r.iter().map(|s| s.as_str()).collect()));
        }
        out
    }
}

/// A number as people read it → as tools read it, with the currency code it carried:
/// `-1,234.50 USD` → (`-1234.50`, `USD`), `110.1%` → `110.1`, `1,234` → `1234`.
/// Anything else is returned as it is.
fn plain_number(s: &str) -> (String, Option<String>) {
    let t = s.trim();
    let (num, code) = match t.rsplit_once(' ') {
        Some((n, c)) if c.len() == 3 && c.bytes().all(|b| b.is_ascii_uppercase()) => {
            (n, Some(c.to_string()))
        }
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
        return (s.to_string(), None);
    }
    (num.replace(',', ""), code)
}

/// A CSV cell through the product's one neutralizing writer (a formula is written
/// with a leading `'`, never run).
fn csv_cell(s: &str) -> String {
    backstock_domain::csv::cell(s).into_owned()
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
