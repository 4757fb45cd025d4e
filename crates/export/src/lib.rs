//! backstock-export: the accountant's books of a date range, from what the ledger
//! posted to money accounts. Pure: transactions in, text out.
//!
//! * [`Txn::from_postings`] nets one journal entry's money postings per account and
//!   currency (units are not in the accountant's books; pending amounts are not posted).
//!   Each transaction balances per currency by construction: every posting debits one
//!   account and credits another by the same amount.
//! * [`render`] writes them as a beancount file (opening balances brought forward,
//!   `open` directives, one transaction per entry, `balance` assertions the day after
//!   the range), a plain CSV journal, a Xero manual-journal import file or a QuickBooks
//!   Online journal-entry import file, through a [`Chart`] of accounts.
//!
//! Money is integer minor units throughout (i128 while summing), written as decimals
//! with the currency's exponent.

pub mod chart;

pub use chart::{Chart, ChartError, ChartRow};

use backstock_domain::{Currency, Date, Money};
use backstock_ledger::{MoneyAccount, MoneyKind};
use std::collections::BTreeMap;
use std::fmt::{self, Write as _};

/// One line of a transaction: an account (kind × counterparty) in one currency,
/// debit positive, credit negative.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Line {
    pub kind: MoneyKind,
    pub counterparty: String,
    pub currency: Currency,
    pub amount_minor: i64,
    /// The counterparty is the label itself (its own cash).
    pub own: bool,
    /// Income or expense of the time before the label kept its books in backstock
    /// (an open statement of its opening balances): already in its earlier books, so
    /// posted to the opening-balances equity account, never to this period's income.
    pub brought_forward: bool,
}

impl Line {
    /// Income or expense (not an asset or liability).
    fn is_income_or_expense(&self) -> bool {
        !matches!(
            self.kind,
            MoneyKind::Cash
                | MoneyKind::Receivable
                | MoneyKind::ReserveHeld
                | MoneyKind::Advance
                | MoneyKind::RoyaltyPayable
        )
    }
}

/// One journal entry's money effect.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Txn {
    /// The journal's sequence number (a stable journal number for the import files).
    pub seq: i64,
    pub date: Date,
    pub entry_id: String,
    /// The entry's kind (`statement`, `payment`, …).
    pub kind: String,
    /// What happened, in words.
    pub narration: String,
    pub lines: Vec<Line>,
}

/// Why a file cannot be written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExportError(pub String);

impl fmt::Display for ExportError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for ExportError {}

fn kind_order(k: MoneyKind) -> usize {
    MoneyKind::ALL
        .iter()
        .position(|x| *x == k)
        .unwrap_or(usize::MAX)
}

/// Sums signed amounts per (currency, kind, counterparty); zero sums dropped.
fn net<'a>(
    items: impl IntoIterator<Item = (&'a MoneyAccount, i128)>,
) -> Result<Vec<Line>, ExportError> {
    type Sum = (MoneyKind, Currency, bool, i128);
    let mut sums: BTreeMap<(String, usize, String), Sum> = BTreeMap::new();
    for (a, v) in items {
        let key = (
            a.currency().code().to_string(),
            kind_order(a.kind()),
            a.counterparty().to_string(),
        );
        let own = a.counterparty() == a.party();
        let e = sums.entry(key).or_insert((a.kind(), a.currency(), own, 0));
        e.3 =
            e.3.checked_add(v)
                .ok_or_else(|| ExportError("an amount is too large to sum".into()))?;
    }
    let mut out = Vec::new();
    for ((_, _, cp), (kind, currency, own, v)) in sums {
        if v == 0 {
            continue;
        }
        let amount_minor = i64::try_from(v).map_err(|_| {
            ExportError(format!(
                "an amount of {cp}'s {} is too large",
                kind.as_str()
            ))
        })?;
        out.push(Line {
            kind,
            counterparty: cp,
            currency,
            amount_minor,
            own,
            brought_forward: false,
        });
    }
    Ok(out)
}

impl Txn {
    /// An entry's postings (debit account, credit account, minor units posted) netted
    /// per account; `None` when nothing is left (no money moved, or it moved back).
    pub fn from_postings<'a>(
        seq: i64,
        date: Date,
        entry_id: &str,
        kind: &str,
        narration: String,
        postings: impl IntoIterator<Item = (&'a MoneyAccount, &'a MoneyAccount, u64)>,
    ) -> Result<Option<Txn>, ExportError> {
        let mut items = Vec::new();
        for (d, c, amount) in postings {
            if d.currency() != c.currency() {
                return Err(ExportError(format!(
                    "entry {entry_id}: a posting between {} and {}",
                    d.currency().code(),
                    c.currency().code()
                )));
            }
            let v = i128::from(amount);
            items.push((d, v));
            items.push((c, -v));
        }
        let lines = net(items)?;
        if lines.is_empty() {
            return Ok(None);
        }
        Ok(Some(Txn {
            seq,
            date,
            entry_id: entry_id.to_string(),
            kind: kind.to_string(),
            narration,
            lines,
        }))
    }

    /// Marks the transaction as balances brought forward from before the label kept
    /// its books here: its income and expense lines go to the opening-balances
    /// equity account (see [`Line::brought_forward`]).
    pub fn bring_forward(&mut self) {
        for l in &mut self.lines {
            l.brought_forward = l.is_income_or_expense();
        }
    }

    /// Σ lines per currency (zero for every currency of a transaction made by
    /// [`Txn::from_postings`]).
    pub fn sums(&self) -> BTreeMap<String, i128> {
        let mut s = BTreeMap::new();
        for l in &self.lines {
            *s.entry(l.currency.code().to_string()).or_insert(0) += i128::from(l.amount_minor);
        }
        s
    }

    /// The counterparties it concerns, in line order, once each.
    pub fn counterparties(&self) -> Vec<&str> {
        let mut out: Vec<&str> = Vec::new();
        for l in self.lines.iter().filter(|l| !l.own) {
            if !out.contains(&l.counterparty.as_str()) {
                out.push(&l.counterparty);
            }
        }
        out
    }
}

/// The account balances before the range: per account and currency, debit positive.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Opening {
    pub lines: Vec<Line>,
}

impl Opening {
    /// Sums the postings of everything before the range.
    pub fn from_postings<'a>(
        postings: impl IntoIterator<Item = (&'a MoneyAccount, &'a MoneyAccount, u64)>,
    ) -> Result<Opening, ExportError> {
        let mut items = Vec::new();
        for (d, c, amount) in postings {
            let v = i128::from(amount);
            items.push((d, v));
            items.push((c, -v));
        }
        Ok(Opening { lines: net(items)? })
    }
}

/// The formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Beancount,
    CsvJournal,
    Xero,
    QuickBooks,
}

impl Format {
    pub const ALL: [Format; 4] = [
        Format::Beancount,
        Format::CsvJournal,
        Format::Xero,
        Format::QuickBooks,
    ];
    pub fn as_str(self) -> &'static str {
        match self {
            Format::Beancount => "beancount",
            Format::CsvJournal => "csv-journal",
            Format::Xero => "xero",
            Format::QuickBooks => "quickbooks",
        }
    }
    pub fn parse(s: &str) -> Option<Format> {
        let s = s.trim().to_ascii_lowercase();
        Format::ALL
            .into_iter()
            .find(|f| f.as_str() == s || (s == "qbo" && *f == Format::QuickBooks))
    }
    /// The file name extension.
    pub fn extension(self) -> &'static str {
        match self {
            Format::Beancount => "beancount",
            _ => "csv",
        }
    }
    /// The media type of the file.
    pub fn media_type(self) -> &'static str {
        match self {
            Format::Beancount => "text/plain; charset=utf-8",
            _ => "text/csv; charset=utf-8",
        }
    }
}

/// What the file covers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Range {
    pub from: Date,
    pub to: Date,
    /// The label's name (a beancount title).
    pub title: String,
}

fn money(minor: i64, c: Currency) -> String {
    Money::from_minor(minor, c).to_decimal_string()
}

/// Writes the transactions (already limited to the range) in a format.
pub fn render(
    format: Format,
    range: &Range,
    chart: &Chart,
    opening: &Opening,
    txns: &[Txn],
) -> Result<String, ExportError> {
    for t in txns {
        if t.sums().values().any(|s| *s != 0) {
            return Err(ExportError(format!(
                "entry {} does not balance; nothing written",
                t.entry_id
            )));
        }
    }
    match format {
        Format::Beancount => Ok(beancount(range, chart, opening, txns)),
        Format::CsvJournal => csv_journal(chart, txns),
        Format::Xero => {
            one_currency(format, txns)?;
            xero(chart, txns)
        }
        Format::QuickBooks => {
            one_currency(format, txns)?;
            quickbooks(chart, txns)
        }
    }
}

/// Xero's manual journals and QuickBooks' journal entries are in the organisation's
/// one currency.
fn one_currency(format: Format, txns: &[Txn]) -> Result<(), ExportError> {
    let cs: std::collections::BTreeSet<&str> = txns
        .iter()
        .flat_map(|t| t.lines.iter().map(|l| l.currency.code()))
        .collect();
    if cs.len() > 1 {
        return Err(ExportError(format!(
            "the range has money in {}; a {} import file holds one currency: export each currency on its own (--currency {})",
            cs.into_iter().collect::<Vec<_>>().join(", "),
            format.as_str(),
            txns.iter().flat_map(|t| t.lines.first()).map(|l| l.currency.code()).next().unwrap_or("USD")
        )));
    }
    Ok(())
}

/// The chart row of a line: its kind's, or the opening-balances equity row for
/// income or expense brought forward.
fn row_of<'c>(chart: &'c Chart, l: &Line) -> &'c ChartRow {
    if l.brought_forward {
        &chart.opening
    } else {
        chart.row(l.kind)
    }
}

/// The beancount account of a line: its kind's, or the opening-balances equity
/// account for income or expense brought forward.
fn bean_line(chart: &Chart, l: &Line) -> String {
    if l.brought_forward {
        return chart.opening.beancount.clone();
    }
    bean_account(chart, l.kind, &l.counterparty)
}

fn bean_account(chart: &Chart, kind: MoneyKind, counterparty: &str) -> String {
    let r = chart.row(kind);
    if r.by_counterparty {
        format!("{}:{}", r.beancount, chart::component(counterparty))
    } else {
        r.beancount.clone()
    }
}

fn bean_string(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' | '\r' => out.push(' '),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// Lines netted per rendered account (several counterparties may share one).
fn by_account(
    chart: &Chart,
    lines: &[Line],
    name: impl Fn(&Chart, &Line) -> String,
) -> Vec<(String, Currency, i128)> {
    let mut out: Vec<(String, Currency, i128)> = Vec::new();
    for l in lines {
        let a = name(chart, l);
        match out.iter_mut().find(|(x, c, _)| *x == a && *c == l.currency) {
            Some(e) => e.2 += i128::from(l.amount_minor),
            None => out.push((a, l.currency, i128::from(l.amount_minor))),
        }
    }
    out.retain(|(_, _, v)| *v != 0);
    out
}

fn beancount(range: &Range, chart: &Chart, opening: &Opening, txns: &[Txn]) -> String {
    let mut s = String::new();
    let _ = writeln!(
        s,
        ";; {} — the books from {} to {}, exported by backstock.",
        range.title, range.from, range.to
    );
    let _ = writeln!(
        s,
        ";; Money accounts only (units are in backstock); one transaction per journal entry."
    );
    let _ = writeln!(s, "option \"title\" {}", bean_string(&range.title));
    let mut currencies: Vec<&str> = opening
        .lines
        .iter()
        .chain(txns.iter().flat_map(|t| t.lines.iter()))
        .map(|l| l.currency.code())
        .collect();
    currencies.sort();
    currencies.dedup();
    for c in &currencies {
        let _ = writeln!(s, "option \"operating_currency\" \"{c}\"");
    }
    s.push('\n');

    // Opening: balance-sheet accounts brought forward; the rest (earlier periods'
    // income and expenses) to the opening-balances equity account.
    let balance_sheet = |k: MoneyKind| {
        let b = &chart.row(k).beancount;
        b.starts_with("Assets:") || b.starts_with("Liabilities:") || b.starts_with("Equity:")
    };
    let mut open_lines: Vec<(String, Currency, i128)> = Vec::new();
    let mut rest: BTreeMap<String, (Currency, i128)> = BTreeMap::new();
    for (a, c, v) in by_account(chart, &opening.lines, |ch, l| {
        if balance_sheet(l.kind) {
            bean_account(ch, l.kind, &l.counterparty)
        } else {
            String::new()
        }
    }) {
        if a.is_empty() {
            rest.entry(c.code().to_string()).or_insert((c, 0)).1 += v;
        } else {
            open_lines.push((a, c, v));
        }
    }
    for (_, (c, v)) in rest {
        if v != 0 {
            open_lines.push((chart.opening.beancount.clone(), c, v));
        }
    }
    // Every account opened on the first day.
    let mut accounts: Vec<String> = open_lines.iter().map(|(a, _, _)| a.clone()).collect();
    for t in txns {
        for l in &t.lines {
            accounts.push(bean_line(chart, l));
        }
    }
    accounts.sort();
    accounts.dedup();
    let first = txns
        .iter()
        .map(|t| t.date)
        .min()
        .map_or(range.from, |d| d.min(range.from));
    for a in &accounts {
        let _ = writeln!(s, "{first} open {a}");
    }
    s.push('\n');
    let width = accounts.iter().map(|a| a.len()).max().unwrap_or(0).max(40);
    let posting = |s: &mut String, a: &str, v: i128, c: Currency| {
        let m = money(i64::try_from(v).unwrap_or(0), c);
        let _ = writeln!(s, "  {a:<width$}  {m:>16} {}", c.code());
    };
    if !open_lines.is_empty() {
        let _ = writeln!(
            s,
            "{} * \"Opening balances\" \"Balances brought forward to {}\"",
            range.from, range.from
        );
        for (a, c, v) in &open_lines {
            posting(&mut s, a, *v, *c);
        }
        s.push('\n');
    }
    let mut balances: BTreeMap<(String, String), (Currency, i128)> = BTreeMap::new();
    for (a, c, v) in &open_lines {
        balances
            .entry((a.clone(), c.code().to_string()))
            .or_insert((*c, 0))
            .1 += v;
    }
    for t in txns {
        let payee = t.counterparties().join(", ");
        let _ = writeln!(
            s,
            "{} * {} {}",
            t.date,
            bean_string(&payee),
            bean_string(&t.narration)
        );
        let _ = writeln!(s, "  entry: {}", bean_string(&t.entry_id));
        for (a, c, v) in by_account(chart, &t.lines, bean_line) {
            posting(&mut s, &a, v, c);
            balances
                .entry((a.clone(), c.code().to_string()))
                .or_insert((c, 0))
                .1 += v;
        }
        s.push('\n');
    }
    // What every account holds at the end of the range, asserted the next morning.
    let next = range.to.add_days(1);
    for ((a, _), (c, v)) in &balances {
        let m = money(i64::try_from(*v).unwrap_or(0), *c);
        let _ = writeln!(s, "{next} balance {a:<width$}  {m:>16} {}", c.code());
    }
    s
}

fn csv_out(rows: Vec<Vec<String>>) -> Result<String, ExportError> {
    let mut w = csv::Writer::from_writer(Vec::new());
    for r in rows {
        w.write_record(&r)
            .map_err(|e| ExportError(format!("cannot write the CSV: {e}")))?;
    }
    let bytes = w
        .into_inner()
        .map_err(|e| ExportError(format!("cannot write the CSV: {e}")))?;
    String::from_utf8(bytes).map_err(|e| ExportError(format!("cannot write the CSV: {e}")))
}

fn debit_credit(v: i64, c: Currency) -> (String, String) {
    if v >= 0 {
        (money(v, c), String::new())
    } else {
        (String::new(), money(v.checked_neg().unwrap_or(i64::MAX), c))
    }
}

fn csv_journal(chart: &Chart, txns: &[Txn]) -> Result<String, ExportError> {
    let mut rows = vec![[
        "journal",
        "date",
        "entry_id",
        "entry_kind",
        "account",
        "xero_code",
        "quickbooks_account",
        "counterparty",
        "currency",
        "debit",
        "credit",
        "description",
    ]
    .map(String::from)
    .to_vec()];
    for t in txns {
        for l in &t.lines {
            let r = row_of(chart, l);
            let (d, c) = debit_credit(l.amount_minor, l.currency);
            rows.push(vec![
                format!("BS-{}", t.seq),
                t.date.to_string(),
                t.entry_id.clone(),
                t.kind.clone(),
                bean_line(chart, l),
                r.xero_code.clone(),
                r.quickbooks.clone(),
                l.counterparty.clone(),
                l.currency.code().to_string(),
                d,
                c,
                t.narration.clone(),
            ]);
        }
    }
    csv_out(rows)
}

fn two(n: u32) -> String {
    format!("{n:02}")
}

/// Xero's manual-journal import template: `*Narration,*Date,Description,*AccountCode,
/// *TaxRate,*Amount,TrackingName1,TrackingOption1,TrackingName2,TrackingOption2`; the
/// date dd/mm/yyyy; a positive amount is a debit, a negative one a credit; lines with
/// the same narration and date are one journal (so the narration names the entry).
fn xero(chart: &Chart, txns: &[Txn]) -> Result<String, ExportError> {
    let mut rows = vec![[
        "*Narration",
        "*Date",
        "Description",
        "*AccountCode",
        "*TaxRate",
        "*Amount",
        "TrackingName1",
        "TrackingOption1",
        "TrackingName2",
        "TrackingOption2",
    ]
    .map(String::from)
    .to_vec()];
    for t in txns {
        let date = format!(
            "{}/{}/{}",
            two(t.date.day()),
            two(t.date.month()),
            t.date.year()
        );
        let narration = format!("{} [{}]", t.narration, t.entry_id);
        for l in &t.lines {
            let r = row_of(chart, l);
            rows.push(vec![
                narration.clone(),
                date.clone(),
                format!(
                    "{}{} - {}",
                    l.kind.as_str().replace('_', " "),
                    if l.brought_forward {
                        " brought forward"
                    } else {
                        ""
                    },
                    l.counterparty
                ),
                r.xero_code.clone(),
                r.xero_tax_rate.clone(),
                money(l.amount_minor, l.currency),
                String::new(),
                String::new(),
                String::new(),
                String::new(),
            ]);
        }
    }
    csv_out(rows)
}

/// QuickBooks Online's journal-entry import: `Journal No,Journal Date,Account Name,
/// Debits,Credits,Description,Name`; the date MM/DD/YYYY; all rows of one journal
/// number are one entry and balance. Name (a customer or vendor in QuickBooks) is given
/// for accounts kept per counterparty (an A/R line needs one).
fn quickbooks(chart: &Chart, txns: &[Txn]) -> Result<String, ExportError> {
    let mut rows = vec![[
        "Journal No",
        "Journal Date",
        "Account Name",
        "Debits",
        "Credits",
        "Description",
        "Name",
    ]
    .map(String::from)
    .to_vec()];
    for t in txns {
        let date = format!(
            "{}/{}/{}",
            two(t.date.month()),
            two(t.date.day()),
            t.date.year()
        );
        for l in &t.lines {
            let r = row_of(chart, l);
            let (d, c) = debit_credit(l.amount_minor, l.currency);
            rows.push(vec![
                format!("BS-{}", t.seq),
                date.clone(),
                r.quickbooks.clone(),
                d,
                c,
                format!("{} [{}]", t.narration, t.entry_id),
                if r.by_counterparty {
                    l.counterparty.clone()
                } else {
                    String::new()
                },
            ]);
        }
    }
    csv_out(rows)
}

#[cfg(test)]
mod tests;
