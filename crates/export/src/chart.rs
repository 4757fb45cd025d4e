//! The chart of accounts: where each kind of money account of the ledger goes in the
//! accountant's books — a beancount account, a Xero account code (and the tax rate its
//! manual-journal lines carry), a QuickBooks Online account name — and whether the
//! account is kept per counterparty (a sub-account per distributor or payee in
//! beancount, the counterparty as the line's Name in QuickBooks).
//!
//! The label adjusts it with a CSV file (`chart-of-accounts.csv` in its data
//! directory, the layout [`Chart::to_csv`] writes); a kind the file leaves out keeps
//! its default.

use backstock_ledger::MoneyKind;
use std::fmt;

/// Where one kind of account goes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChartRow {
    /// A beancount account name (`Assets:Receivable`); per counterparty a component is
    /// added (`Assets:Receivable:Northwind`).
    pub beancount: String,
    /// The Xero account code (`1100`).
    pub xero_code: String,
    /// The Xero tax rate's full name for these lines (`Tax Exempt`, `No VAT`, `BAS Excluded`).
    pub xero_tax_rate: String,
    /// The QuickBooks Online account name, exactly as in its chart (`Parent:Sub` for a sub-account).
    pub quickbooks: String,
    /// Kept per counterparty.
    pub by_counterparty: bool,
}

/// Every money kind's row, and the equity account opening balances are brought
/// forward against.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Chart {
    rows: Vec<(MoneyKind, ChartRow)>,
    /// Opening balances: what earlier periods' income and expenses left (beancount only).
    pub opening: ChartRow,
}

/// The kind name of the opening-balances row in the CSV file.
pub const OPENING: &str = "opening_balances";

/// A chart file that cannot be used, with the line it is on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChartError(pub String);

impl fmt::Display for ChartError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for ChartError {}

fn row(beancount: &str, code: &str, qbo: &str, by_counterparty: bool) -> ChartRow {
    ChartRow {
        beancount: beancount.into(),
        xero_code: code.into(),
        xero_tax_rate: "Tax Exempt".into(),
        quickbooks: qbo.into(),
        by_counterparty,
    }
}

impl Default for Chart {
    fn default() -> Chart {
        use MoneyKind::*;
        let rows = MoneyKind::ALL
            .into_iter()
            .map(|k| {
                let r = match k {
                    Cash => row("Assets:Cash", "1000", "Checking", false),
                    Receivable => row(
                        "Assets:Receivable",
                        "1100",
                        "Accounts Receivable (A/R)",
                        true,
                    ),
                    ReserveHeld => row(
                        "Assets:Reserves-Held",
                        "1150",
                        "Reserves Held by Distributors",
                        true,
                    ),
                    Advance => row("Assets:Royalty-Advances", "1300", "Royalty Advances", true),
                    RoyaltyPayable => row(
                        "Liabilities:Royalties-Payable",
                        "2100",
                        "Royalties Payable",
                        true,
                    ),
                    Revenue => row("Income:Sales", "4000", "Sales", false),
                    Adjustment => row(
                        "Income:Statement-Adjustments",
                        "4100",
                        "Statement Adjustments",
                        false,
                    ),
                    DistributionFee => row(
                        "Expenses:Distribution-Fees",
                        "5100",
                        "Distribution Fees",
                        false,
                    ),
                    Chargeback => row("Expenses:Chargebacks", "5200", "Chargebacks", false),
                    Deduction => row(
                        "Expenses:Distributor-Deductions",
                        "5300",
                        "Distributor Deductions",
                        false,
                    ),
                    RoyaltyExpense => row("Expenses:Royalties", "5400", "Royalty Expense", false),
                    BadDebt => row("Expenses:Bad-Debts", "5500", "Bad Debts", false),
                    BuyBack => row("Expenses:Stock-Buy-Backs", "5600", "Stock Buy-Backs", false),
                };
                (k, r)
            })
            .collect();
        Chart {
            rows,
            opening: row(
                "Equity:Opening-Balances",
                "3000",
                "Opening Balance Equity",
                false,
            ),
        }
    }
}

const HEADER: [&str; 6] = [
    "kind",
    "beancount",
    "xero_code",
    "xero_tax_rate",
    "quickbooks",
    "by_counterparty",
];

impl Chart {
    /// The row of a kind.
    pub fn row(&self, kind: MoneyKind) -> &ChartRow {
        self.rows
            .iter()
            .find(|(k, _)| *k == kind)
            .map(|(_, r)| r)
            .unwrap_or(&self.opening)
    }

    /// The chart as the CSV file the label edits.
    pub fn to_csv(&self) -> String {
        let mut w = csv::Writer::from_writer(Vec::new());
        let mut out = Ok(());
        out = out.and(w.write_record(HEADER));
        let all = self
            .rows
            .iter()
            .map(|(k, r)| (k.as_str(), r))
            .chain(std::iter::once((OPENING, &self.opening)));
        for (k, r) in all {
            out = out.and(w.write_record([
                k,
                &r.beancount,
                &r.xero_code,
                &r.xero_tax_rate,
                &r.quickbooks,
                if r.by_counterparty { "true" } else { "false" },
            ]));
        }
        match (out, w.into_inner()) {
            (Ok(()), Ok(bytes)) => String::from_utf8_lossy(&bytes).into_owned(),
            _ => String::new(),
        }
    }

    /// The default chart with the rows of a chart file (see [`Chart::to_csv`]) over it.
    /// Each row is checked: a beancount name under Assets, Liabilities, Equity, Income
    /// or Expenses; a Xero code and a QuickBooks name that are not empty.
    pub fn from_csv(text: &str) -> Result<Chart, ChartError> {
        let mut chart = Chart::default();
        let mut r = csv::ReaderBuilder::new()
            .trim(csv::Trim::All)
            .from_reader(text.as_bytes());
        let header = r
            .headers()
            .map_err(|e| ChartError(format!("chart of accounts: {e}")))?
            .clone();
        let col = |name: &str| header.iter().position(|h| h.eq_ignore_ascii_case(name));
        let cols: Vec<Option<usize>> = HEADER.iter().map(|h| col(h)).collect();
        let Some(kind_col) = cols[0] else {
            return Err(ChartError(format!(
                "chart of accounts: the header needs a `kind` column ({})",
                HEADER.join(",")
            )));
        };
        let mut seen = std::collections::BTreeSet::new();
        for (i, rec) in r.records().enumerate() {
            let line = i + 2;
            let rec = rec.map_err(|e| ChartError(format!("chart of accounts line {line}: {e}")))?;
            let kind = rec.get(kind_col).unwrap_or("").to_ascii_lowercase();
            let at = |c: usize| cols[c].and_then(|c| rec.get(c)).filter(|v| !v.is_empty());
            let target = if kind == OPENING {
                &mut chart.opening
            } else {
                let Some(k) = MoneyKind::parse(&kind) else {
                    return Err(ChartError(format!(
                        "chart of accounts line {line}: unknown kind {kind:?} (expected one of {}, {OPENING})",
                        MoneyKind::ALL.map(|k| k.as_str()).join(", ")
                    )));
                };
                match chart.rows.iter_mut().find(|(x, _)| *x == k) {
                    Some((_, r)) => r,
                    None => continue,
                }
            };
            if !seen.insert(kind.clone()) {
                return Err(ChartError(format!(
                    "chart of accounts line {line}: {kind} is given twice"
                )));
            }
            if let Some(b) = at(1) {
                check_beancount(b)
                    .map_err(|why| ChartError(format!("chart of accounts line {line}: {why}")))?;
                target.beancount = b.to_string();
            }
            if let Some(c) = at(2) {
                if c.chars().count() > 10 || c.contains(char::is_whitespace) {
                    return Err(ChartError(format!(
                        "chart of accounts line {line}: Xero account code {c:?} must be at most 10 characters without spaces"
                    )));
                }
                target.xero_code = c.to_string();
            }
            if let Some(t) = at(3) {
                target.xero_tax_rate = t.to_string();
            }
            if let Some(q) = at(4) {
                target.quickbooks = q.to_string();
            }
            if let Some(b) = at(5) {
                target.by_counterparty = match b.to_ascii_lowercase().as_str() {
                    "true" | "yes" | "1" => true,
                    "false" | "no" | "0" => false,
                    other => {
                        return Err(ChartError(format!(
                            "chart of accounts line {line}: by_counterparty is true or false, not {other:?}"
                        )))
                    }
                };
            }
        }
        Ok(chart)
    }
}

/// A beancount account name: a root type, then components each starting with a capital
/// letter or digit, of letters, digits and `-`.
pub fn check_beancount(name: &str) -> Result<(), String> {
    let mut parts = name.split(':');
    let root = parts.next().unwrap_or("");
    if !["Assets", "Liabilities", "Equity", "Income", "Expenses"].contains(&root) {
        return Err(format!(
            "beancount account {name:?} must start with Assets, Liabilities, Equity, Income or Expenses"
        ));
    }
    let mut n = 0;
    for p in parts {
        n += 1;
        let ok = p
            .chars()
            .next()
            .is_some_and(|c| c.is_ascii_uppercase() || c.is_ascii_digit())
            && p.chars().all(|c| c.is_ascii_alphanumeric() || c == '-');
        if !ok {
            return Err(format!(
                "beancount account {name:?}: each part after the first starts with a capital letter or a digit and holds letters, digits and '-' only"
            ));
        }
    }
    if n == 0 {
        return Err(format!(
            "beancount account {name:?} needs at least one part after {root}"
        ));
    }
    Ok(())
}

/// A counterparty id as a beancount account component: `june-okafor` → `June-Okafor`,
/// `plant:optimal` → `Plant-Optimal`.
pub fn component(party: &str) -> String {
    let words: Vec<String> = party
        .split(|c: char| !c.is_ascii_alphanumeric())
        .filter(|w| !w.is_empty())
        .map(|w| {
            let mut cs = w.chars();
            match cs.next() {
                Some(c) => c.to_ascii_uppercase().to_string() + cs.as_str(),
                None => String::new(),
            }
        })
        .collect();
    if words.is_empty() {
        return "X".into();
    }
    let s = words.join("-");
    if s.starts_with(|c: char| c.is_ascii_uppercase() || c.is_ascii_digit()) {
        s
    } else {
        format!("X-{s}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_default_chart_round_trips_and_is_valid() {
        let c = Chart::default();
        for k in MoneyKind::ALL {
            check_beancount(&c.row(k).beancount).unwrap();
        }
        check_beancount(&c.opening.beancount).unwrap();
        assert_eq!(Chart::from_csv(&c.to_csv()).unwrap(), c);
    }

    #[test]
    fn a_file_overrides_some_rows_and_keeps_the_rest() {
        let c = Chart::from_csv(
            "kind,xero_code,quickbooks\ncash,090,Business Checking\nopening_balances,,\n",
        )
        .unwrap();
        assert_eq!(c.row(MoneyKind::Cash).xero_code, "090");
        assert_eq!(c.row(MoneyKind::Cash).quickbooks, "Business Checking");
        assert_eq!(c.row(MoneyKind::Cash).beancount, "Assets:Cash");
        assert_eq!(
            c.row(MoneyKind::Revenue),
            Chart::default().row(MoneyKind::Revenue)
        );
    }

    #[test]
    fn bad_files_are_refused_with_their_line() {
        let e = Chart::from_csv("kind,beancount\ncash,Cash:Bank\n").unwrap_err();
        assert!(e.0.contains("line 2") && e.0.contains("Assets"), "{e}");
        let e = Chart::from_csv("kind,beancount\nmoney,Assets:X\n").unwrap_err();
        assert!(e.0.contains("unknown kind"), "{e}");
        let e = Chart::from_csv("kind,beancount\ncash,Assets:bank\n").unwrap_err();
        assert!(e.0.contains("capital"), "{e}");
        let e = Chart::from_csv("kind\ncash\ncash\n").unwrap_err();
        assert!(e.0.contains("twice"), "{e}");
        let e = Chart::from_csv("beancount\nAssets:X\n").unwrap_err();
        assert!(e.0.contains("kind"), "{e}");
    }

    #[test]
    fn counterparties_become_components() {
        assert_eq!(component("june-okafor"), "June-Okafor");
        assert_eq!(component("plant:optimal"), "Plant-Optimal");
        assert_eq!(component("7digital"), "7digital");
        assert_eq!(component("__"), "X");
        check_beancount(&format!("Assets:Receivable:{}", component("a.b_c"))).unwrap();
    }
}
