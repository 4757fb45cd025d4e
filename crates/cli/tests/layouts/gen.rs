//! A seeded generator of distributors' statement files in their own layouts, each
//! modelled on a real export (The Orchard, AWAL, CD Baby, Bandcamp, Proper Music,
//! Redeye, Secretly Distribution, Amazon Vendor Central, German and French
//! distributors, Excel re-saves, headerless and UTF-16 exports…), with the mapping a
//! label owner would write for it and what the file means: the canonical statement
//! lines, to the cent.
//!
//! Deterministic: the same seed gives the same bytes. Each layout keeps its columns
//! and quirks from seed to seed (a distributor's layout does not change every month)
//! while rows, products, quantities, amounts, quoting, line endings and byte-order
//! marks vary.

use rust_xlsxwriter::{ExcelDateTime, Format, Workbook};

// ---------------------------------------------------------------------------------
// Randomness

/// splitmix64: small, seeded, the same everywhere.
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Rng {
        Rng(seed ^ 0x5DEE_CE66_D1CE_4E5B)
    }
    pub fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    /// An independent stream (one per layout, so adding a layout changes no other).
    pub fn fork(&mut self) -> Rng {
        Rng::new(self.next())
    }
    pub fn below(&mut self, n: u64) -> u64 {
        self.next() % n.max(1)
    }
    pub fn range(&mut self, lo: i64, hi: i64) -> i64 {
        lo + self.below((hi - lo + 1) as u64) as i64
    }
    pub fn chance(&mut self, percent: u64) -> bool {
        self.below(100) < percent
    }
    pub fn pick<'a, T>(&mut self, v: &'a [T]) -> &'a T {
        &v[self.below(v.len() as u64) as usize]
    }
}

// ---------------------------------------------------------------------------------
// The label's catalog

pub struct Item {
    pub sku: &'static str,
    /// UPC-A (12 digits) or EAN-13, check digit included.
    pub upc: String,
    pub title: &'static str,
    pub artist: &'static str,
    pub format: &'static str,
    /// Wholesale (dealer) price in cents.
    pub price: i64,
}

/// The GTIN check digit of `body` (11 digits for a UPC-A, 12 for an EAN-13).
pub fn check_digit(body: &str) -> u32 {
    let sum: u32 = body
        .chars()
        .rev()
        .enumerate()
        .map(|(i, c)| c.to_digit(10).unwrap() * if i % 2 == 0 { 3 } else { 1 })
        .sum();
    (10 - sum % 10) % 10
}

pub fn catalog() -> Vec<Item> {
    let rows: [(&str, &str, &str, &str, &str, i64); 10] = [
        (
            "MRG-001-LP",
            "19975830021",
            "Slow Weather",
            "The Marigolds",
            "LP",
            1400,
        ),
        (
            "MRG-001-CD",
            "19975830022",
            "Slow Weather",
            "The Marigolds",
            "CD",
            790,
        ),
        (
            "MRG-002-LP",
            "19975830023",
            "Café Society, Vol. 2",
            "Dana Okafor",
            "LP",
            1500,
        ),
        (
            "MRG-003-7IN",
            "19975830024",
            "Lamplighter \"Live\"",
            "Night Bus Quartet",
            "7in",
            550,
        ),
        (
            "MRG-004-2LP",
            "19975830025",
            "Tidewater (Deluxe)",
            "Dana Okafor",
            "2LP",
            2450,
        ),
        // A UPC with a leading zero: a spreadsheet number cell drops it.
        (
            "MRG-005-CD",
            "06700312345",
            "Señora Luna",
            "Los Faros",
            "CD",
            850,
        ),
        (
            "MRG-006-CD",
            "406012345001",
            "Über den Wolken",
            "Die Fährleute",
            "CD",
            900,
        ),
        (
            "MRG-007-LP",
            "406012345002",
            "Nuit blanche",
            "Élodie Marchand",
            "LP",
            1650,
        ),
        (
            "MRG-008-CS",
            "19975830029",
            "Harbour Lights",
            "June Okafor",
            "Cassette",
            600,
        ),
        (
            "MRG-009-CD",
            "19975830030",
            "Night Ferry",
            "Marta Villanueva",
            "CD",
            820,
        ),
    ];
    rows.iter()
        .map(|(sku, body, title, artist, format, price)| Item {
            sku,
            upc: format!("{body}{}", check_digit(body)),
            title,
            artist,
            format,
            price: *price,
        })
        .collect()
}

pub fn catalog_csv(cat: &[Item]) -> String {
    let mut s = String::from(
        "sku,upc,title,artist,format,release_date,list_price,wholesale_price,unit_cost,currency\n",
    );
    for it in cat {
        s.push_str(&format!(
            "{},{},\"{}\",{},{},2015-06-01,{},{},2.10,USD\n",
            it.sku,
            it.upc,
            it.title.replace('"', "\"\""),
            it.artist,
            it.format,
            plain(it.price * 2),
            plain(it.price)
        ));
    }
    s
}

// ---------------------------------------------------------------------------------
// Dates and money as distributors write them

#[derive(Clone, Copy, Debug)]
pub struct Period {
    pub year: u16,
    pub month: u8,
}

pub fn days_in(year: u16, month: u8) -> u8 {
    match month {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        _ if year.is_multiple_of(4) && (!year.is_multiple_of(100) || year.is_multiple_of(400)) => {
            29
        }
        _ => 28,
    }
}

impl Period {
    pub fn last(&self) -> u8 {
        days_in(self.year, self.month)
    }
    pub fn start(&self) -> String {
        iso(self.year, self.month, 1)
    }
    pub fn end(&self) -> String {
        iso(self.year, self.month, self.last())
    }
    /// When statements for the period are issued: the 15th of the next month.
    pub fn issued(&self) -> (u16, u8, u8) {
        if self.month == 12 {
            (self.year + 1, 1, 15)
        } else {
            (self.year, self.month + 1, 15)
        }
    }
    pub fn issued_iso(&self) -> String {
        let (y, m, d) = self.issued();
        iso(y, m, d)
    }
    pub fn yyyymm(&self) -> String {
        format!("{:04}{:02}", self.year, self.month)
    }
}

pub fn iso(y: u16, m: u8, d: u8) -> String {
    format!("{y:04}-{m:02}-{d:02}")
}

const MONTHS: [&str; 12] = [
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
];

/// A date in a strftime-like format: `%Y %y %m %d %-m %-d %b %B`.
pub fn date(y: u16, m: u8, d: u8, f: &str) -> String {
    let mut out = String::new();
    let mut it = f.chars().peekable();
    while let Some(c) = it.next() {
        if c != '%' {
            out.push(c);
            continue;
        }
        let mut pad = true;
        let mut t = it.next().unwrap();
        if t == '-' {
            pad = false;
            t = it.next().unwrap();
        }
        match t {
            'Y' => out.push_str(&format!("{y:04}")),
            'y' => out.push_str(&format!("{:02}", y % 100)),
            'm' if pad => out.push_str(&format!("{m:02}")),
            'm' => out.push_str(&m.to_string()),
            'd' if pad => out.push_str(&format!("{d:02}")),
            'd' => out.push_str(&d.to_string()),
            'b' => out.push_str(&MONTHS[usize::from(m) - 1][..3]),
            'B' => out.push_str(MONTHS[usize::from(m) - 1]),
            o => panic!("date format %{o}"),
        }
    }
    out
}

/// The Excel serial number of a date (1900 date system).
pub fn serial(y: u16, m: u8, d: u8) -> f64 {
    // Days from 1899-12-30 (Excel's day 0, its 1900 leap-year bug included).
    let days_from_civil = |y: i64, m: i64, d: i64| -> i64 {
        let y = if m <= 2 { y - 1 } else { y };
        let era = y.div_euclid(400);
        let yoe = y - era * 400;
        let mp = (m + 9) % 12;
        let doy = (153 * mp + 2) / 5 + d - 1;
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
        era * 146_097 + doe - 719_468
    };
    (days_from_civil(i64::from(y), i64::from(m), i64::from(d)) - days_from_civil(1899, 12, 30))
        as f64
}

/// Cents as canonical decimal text: `-1234.56`.
pub fn plain(c: i64) -> String {
    let sign = if c < 0 { "-" } else { "" };
    format!("{sign}{}.{:02}", c.abs() / 100, c.abs() % 100)
}

/// The absolute value of cents with thousands separator `sep` and decimal mark `dec`.
pub fn grouped(c: i64, sep: &str, dec: &str) -> String {
    let int = (c.abs() / 100).to_string();
    let mut g = String::new();
    for (i, ch) in int.chars().enumerate() {
        if i > 0 && (int.len() - i).is_multiple_of(3) {
            g.push_str(sep);
        }
        g.push(ch);
    }
    format!("{g}{dec}{:02}", c.abs() % 100)
}

/// Whole units with thousands separators: `1,204`.
pub fn units_grouped(u: i64, sep: &str) -> String {
    let s = grouped(u * 100, sep, ".");
    let body = s.trim_end_matches(".00").to_string();
    if u < 0 {
        format!("-{body}")
    } else {
        body
    }
}

/// How a layout writes a negative amount.
#[derive(Clone, Copy)]
pub enum Neg {
    /// `-$1,234.56`
    Minus,
    /// `($1,234.56)`
    Parens,
    /// `$(1,234.56)`
    SymParens,
    /// `$ (1,234.56)`
    SpacedParens,
    /// `$-1,234.56`
    SymMinus,
}

/// A US-style amount with a currency symbol.
pub fn money(c: i64, sym: &str, neg: Neg) -> String {
    let body = grouped(c, ",", ".");
    if c >= 0 {
        return format!("{sym}{body}");
    }
    match neg {
        Neg::Minus => format!("-{sym}{body}"),
        Neg::Parens => format!("({sym}{body})"),
        Neg::SymParens => format!("{sym}({body})"),
        Neg::SpacedParens => format!("{sym} ({body})"),
        Neg::SymMinus => format!("{sym}-{body}"),
    }
}

/// A European amount: `1.234,56` (`sep` between thousands), `-` for negatives.
pub fn euro(c: i64, sep: &str) -> String {
    let body = grouped(c, sep, ",");
    if c < 0 {
        format!("-{body}")
    } else {
        body
    }
}

/// Cents as the number a spreadsheet cell holds (parsed from its decimal text).
pub fn num(cents: i64) -> f64 {
    plain(cents).parse().unwrap()
}

/// `pct` percent of `c`, rounded half up (the distributor's own rounding).
pub fn pct(c: i64, pct: i64) -> i64 {
    (c * pct + 50) / 100
}

// ---------------------------------------------------------------------------------
// What a file means

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Fact {
    pub kind: &'static str,
    /// The label's SKU, or empty (fees, reserves and adjustments of the whole statement).
    pub sku: String,
    pub units: i64,
    /// Positive, except adjustments (signed: + is money to the label).
    pub cents: i64,
}

pub fn fact(kind: &'static str, sku: &str, units: i64, cents: i64) -> Fact {
    Fact {
        kind,
        sku: sku.to_string(),
        units,
        cents,
    }
}

/// A fee; a negative one (on net returns) is a credit: an adjustment.
pub fn fee_fact(sku: &str, cents: i64) -> Fact {
    if cents < 0 {
        fact("adjustment", sku, 0, -cents)
    } else {
        fact("fee", sku, 0, cents)
    }
}

/// One statement as the distributor meant it.
#[derive(Clone, Debug)]
pub struct Meant {
    pub id: String,
    pub distributor: &'static str,
    pub currency: &'static str,
    pub start: String,
    pub end: String,
    pub issued: String,
    pub facts: Vec<Fact>,
}

impl Meant {
    /// What the statement adds to the distributor's receivable, in cents.
    pub fn net(&self) -> i64 {
        self.facts
            .iter()
            .map(|f| match f.kind {
                "sale" | "reserve_released" | "adjustment" => f.cents,
                _ => -f.cents,
            })
            .sum()
    }

    /// Units sold less units returned, per SKU.
    pub fn units_out(&self) -> std::collections::BTreeMap<String, i64> {
        let mut m = std::collections::BTreeMap::new();
        for f in &self.facts {
            match f.kind {
                "sale" => *m.entry(f.sku.clone()).or_insert(0) += f.units,
                "return" => *m.entry(f.sku.clone()).or_insert(0) -= f.units,
                _ => {}
            }
        }
        m
    }

    /// The canonical statements.csv lines (no header).
    pub fn canonical(&self) -> String {
        let mut s = String::new();
        for f in &self.facts {
            if f.units == 0 && f.cents == 0 {
                continue;
            }
            s.push_str(&format!(
                "{},{},{},{},{},{},{},{},{},{},\n",
                self.id,
                self.distributor,
                self.start,
                self.end,
                self.issued,
                f.kind,
                f.sku,
                f.units,
                plain(f.cents),
                self.currency
            ));
        }
        s
    }
}

// ---------------------------------------------------------------------------------
// Files

/// A cell.
#[derive(Clone, Debug)]
pub enum V {
    S(String),
    /// A spreadsheet number cell (CSV: written as Rust prints it).
    N(f64),
    /// A spreadsheet date cell (a serial number with a date format).
    D(u16, u8, u8),
    /// A date as a bare serial number in a General-format cell.
    Serial(u16, u8, u8),
    E,
}

pub fn s(x: impl ToString) -> V {
    V::S(x.to_string())
}

#[derive(Clone, Debug, Default)]
pub struct Table {
    pub rows: Vec<Vec<V>>,
    /// 0-based index of the header row.
    pub header: Option<usize>,
    /// 0-based indices of the rows that are statement lines.
    pub data: Vec<usize>,
}

impl Table {
    pub fn push(&mut self, row: Vec<V>) {
        self.rows.push(row);
    }
    pub fn text(&mut self, cells: &[&str]) {
        self.rows.push(cells.iter().map(s).collect());
    }
    pub fn blank(&mut self) {
        self.rows.push(Vec::new());
    }
    pub fn header(&mut self, names: &[&str]) {
        self.header = Some(self.rows.len());
        self.text(names);
    }
    pub fn data(&mut self, row: Vec<V>) {
        self.data.push(self.rows.len());
        self.rows.push(row);
    }
    /// A data row built by header name (the others empty).
    pub fn data_by_name(&mut self, cells: &[(&str, V)]) {
        let h = self.header.expect("a header");
        let width = self.rows[h].len();
        let mut row = vec![V::E; width];
        for (name, v) in cells {
            let i = self.col(name).unwrap_or_else(|| panic!("no column {name}"));
            row[i] = v.clone();
        }
        self.data(row);
    }
    pub fn col(&self, name: &str) -> Option<usize> {
        let h = self.header?;
        self.rows[h]
            .iter()
            .position(|c| matches!(c, V::S(t) if t.trim() == name.trim()))
    }
}

#[derive(Clone, Copy, Debug)]
pub enum Enc {
    Utf8,
    Utf8Bom,
    Cp1252,
    Utf16Le,
}

#[derive(Clone, Copy, Debug)]
pub struct CsvStyle {
    pub delim: char,
    pub crlf: bool,
    pub quote_all: bool,
    pub enc: Enc,
}

#[derive(Clone, Debug)]
pub enum Shape {
    Csv(CsvStyle),
    /// The statement's sheet, with other sheets before and after it.
    Xlsx {
        sheet: String,
        before: Vec<(String, Table)>,
        after: Vec<(String, Table)>,
    },
}

fn cell_text(v: &V) -> String {
    match v {
        V::S(t) => t.clone(),
        V::N(n) => n.to_string(),
        V::D(y, m, d) => iso(*y, *m, *d),
        V::Serial(y, m, d) => serial(*y, *m, *d).to_string(),
        V::E => String::new(),
    }
}

/// The CSV text of a table and the 1-based line each row starts on.
pub fn csv_text(t: &Table, st: &CsvStyle) -> (String, Vec<u64>) {
    let mut out = String::new();
    let mut lines = Vec::new();
    let nl = if st.crlf { "\r\n" } else { "\n" };
    for row in &t.rows {
        lines.push(1 + out.matches('\n').count() as u64);
        let cells: Vec<String> = row
            .iter()
            .map(|v| {
                let t = cell_text(v);
                let needs = st.quote_all
                    || t.contains(st.delim)
                    || t.contains('"')
                    || t.contains('\n')
                    || t.contains('\r');
                if needs {
                    format!("\"{}\"", t.replace('"', "\"\""))
                } else {
                    t
                }
            })
            .collect();
        out.push_str(&cells.join(&st.delim.to_string()));
        out.push_str(nl);
    }
    (out, lines)
}

fn cp1252(text: &str) -> Vec<u8> {
    text.chars()
        .map(|c| match c {
            '\0'..='\u{7f}' | '\u{a0}'..='\u{ff}' => c as u32 as u8,
            '€' => 0x80,
            '‚' => 0x82,
            '„' => 0x84,
            '…' => 0x85,
            '‘' => 0x91,
            '’' => 0x92,
            '“' => 0x93,
            '”' => 0x94,
            '–' => 0x96,
            '—' => 0x97,
            o => panic!("{o:?} is not in Windows-1252"),
        })
        .collect()
}

pub fn encode(text: &str, enc: Enc) -> Vec<u8> {
    match enc {
        Enc::Utf8 => text.as_bytes().to_vec(),
        Enc::Utf8Bom => [&[0xEF, 0xBB, 0xBF][..], text.as_bytes()].concat(),
        Enc::Cp1252 => cp1252(text),
        Enc::Utf16Le => {
            let mut b = vec![0xFF, 0xFE];
            for u in text.encode_utf16() {
                b.extend_from_slice(&u.to_le_bytes());
            }
            b
        }
    }
}

pub fn workbook(sheets: &[(&str, &Table)]) -> Vec<u8> {
    let mut wb = Workbook::new();
    let date_fmt = Format::new().set_num_format("mm/dd/yyyy");
    for (name, t) in sheets {
        let ws = wb.add_worksheet();
        ws.set_name(*name).unwrap();
        for (r, row) in t.rows.iter().enumerate() {
            for (c, v) in row.iter().enumerate() {
                let (r, c) = (r as u32, c as u16);
                match v {
                    V::S(x) => {
                        ws.write_string(r, c, x).unwrap();
                    }
                    V::N(n) => {
                        ws.write_number(r, c, *n).unwrap();
                    }
                    V::D(y, m, d) => {
                        let dt = ExcelDateTime::from_ymd(*y, *m, *d).unwrap();
                        ws.write_datetime_with_format(r, c, &dt, &date_fmt).unwrap();
                    }
                    V::Serial(y, m, d) => {
                        ws.write_number(r, c, serial(*y, *m, *d)).unwrap();
                    }
                    V::E => {}
                }
            }
        }
    }
    wb.save_to_buffer().unwrap()
}

/// One distributor's statement file in its own layout.
pub struct Layout {
    /// The mapping's name (and the layout's).
    pub name: &'static str,
    /// The real export it is modelled on.
    pub about: &'static str,
    pub file: String,
    pub table: Table,
    pub shape: Shape,
    /// The mapping the label owner writes for it; `None`: a mapping shipped with
    /// backstock, by `name`.
    pub mapping: Option<String>,
    /// What else the import needs on the command line.
    pub args: Vec<String>,
    pub meant: Meant,
    /// A money column (its header name), to break a value in for error tests.
    pub amount_col: Option<&'static str>,
}

impl Layout {
    pub fn bytes(&self) -> Vec<u8> {
        match &self.shape {
            Shape::Csv(st) => encode(&csv_text(&self.table, st).0, st.enc),
            Shape::Xlsx {
                sheet,
                before,
                after,
            } => {
                let mut sheets: Vec<(&str, &Table)> =
                    before.iter().map(|(n, t)| (n.as_str(), t)).collect();
                sheets.push((sheet, &self.table));
                sheets.extend(after.iter().map(|(n, t)| (n.as_str(), t)));
                workbook(&sheets)
            }
        }
    }

    /// The line (CSV: where the record starts) or sheet row of a table row.
    pub fn line_of(&self, row: usize) -> u64 {
        match &self.shape {
            Shape::Csv(st) => csv_text(&self.table, st).1[row],
            Shape::Xlsx { .. } => row as u64 + 1,
        }
    }

    /// Breaks the amount of one data row (`12.3.4`, a number no one writes): returns
    /// its line, 1-based column and header name.
    pub fn corrupt(&mut self, r: &mut Rng) -> Option<(u64, usize, String)> {
        let name = self.amount_col?;
        let col = self.table.col(name)?;
        let candidates: Vec<usize> = self
            .table
            .data
            .iter()
            .copied()
            .filter(|&i| {
                !matches!(self.table.rows[i].get(col), None | Some(V::E))
                    && !matches!(self.table.rows[i].get(col), Some(V::S(t)) if t.trim().is_empty())
            })
            .collect();
        let row = *r.pick(&candidates);
        self.table.rows[row][col] = s("12.3.4");
        Some((self.line_of(row), col + 1, name.trim().to_string()))
    }
}

impl Layout {
    /// Puts a barcode the label's catalog does not have (a valid UPC-A) on one data
    /// row: returns its line, 1-based column and header name, and the code.
    pub fn unknown_code(&mut self, r: &mut Rng) -> Option<(u64, usize, String, String)> {
        let (col, name) = ["UPC", "Barcode", "EAN", "upc"]
            .iter()
            .find_map(|n| self.table.col(n).map(|c| (c, n.to_string())))?;
        let candidates: Vec<usize> = self
            .table
            .data
            .iter()
            .copied()
            .filter(|&i| match self.table.rows[i].get(col) {
                Some(V::S(t)) => !t.trim().is_empty() && !t.contains('E'),
                Some(V::N(_)) => true,
                _ => false,
            })
            .collect();
        if candidates.is_empty() {
            return None;
        }
        let row = *r.pick(&candidates);
        let code = format!("01234567890{}", check_digit("01234567890"));
        self.table.rows[row][col] = s(&code);
        Some((self.line_of(row), col + 1, name, code))
    }
}

// ---------------------------------------------------------------------------------
// Common pieces

/// Distinct catalog items, between `lo` and `hi` of them.
fn pick_items<'c>(r: &mut Rng, cat: &'c [Item], lo: i64, hi: i64, pool: &[usize]) -> Vec<&'c Item> {
    let n = r.range(lo, hi).min(pool.len() as i64) as usize;
    let mut idx: Vec<usize> = pool.to_vec();
    // Fisher-Yates, seeded.
    for i in (1..idx.len()).rev() {
        let j = r.below(i as u64 + 1) as usize;
        idx.swap(i, j);
    }
    idx.truncate(n);
    idx.sort_unstable();
    idx.into_iter().map(|i| &cat[i]).collect()
}

const ALL: [usize; 10] = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9];
/// Items with a UPC-A (US distributors' own barcodes).
const US: [usize; 8] = [0, 1, 2, 3, 4, 5, 8, 9];

/// Units sold on one line: mostly tens, sometimes thousands.
fn qty(r: &mut Rng) -> i64 {
    if r.chance(12) {
        r.range(1000, 2600)
    } else {
        r.range(1, 240)
    }
}

fn csv(r: &mut Rng, delim: char, enc: Enc) -> CsvStyle {
    CsvStyle {
        delim,
        crlf: r.chance(50),
        quote_all: r.chance(30),
        enc,
    }
}

fn utf8(r: &mut Rng) -> Enc {
    if r.chance(50) {
        Enc::Utf8Bom
    } else {
        Enc::Utf8
    }
}

fn day(r: &mut Rng, p: Period) -> u8 {
    r.range(1, i64::from(p.last())) as u8
}

fn args(a: &[&str]) -> Vec<String> {
    a.iter().map(|s| s.to_string()).collect()
}

// ---------------------------------------------------------------------------------
// The layouts

/// Makes one layout's file for a month.
type Maker = fn(&mut Rng, Period, &[Item]) -> Layout;

/// Every layout for a seed, all for the same month.
pub fn layouts(seed: u64) -> Vec<Layout> {
    let mut r = Rng::new(seed);
    let p = Period {
        year: 2016,
        month: (seed % 12) as u8 + 1,
    };
    let cat = catalog();
    let makers: [Maker; 18] = [
        orchard,
        awal,
        cdbaby,
        bandcamp,
        proper,
        redeye,
        secretly,
        amazon,
        nordton,
        lumiere,
        mvd,
        forced_exposure,
        allied,
        believe,
        headerless,
        cargo_uk,
        southbound,
        harborlane,
    ];
    makers.iter().map(|m| m(&mut r.fork(), p, &cat)).collect()
}

/// The Orchard: one row per product × retailer × territory, a transaction type, gross,
/// fee and net; returns negative; the period as `2016-03`.
fn orchard(r: &mut Rng, p: Period, cat: &[Item]) -> Layout {
    let mut t = Table::default();
    t.header(&[
        "Statement Period",
        "Vendor Name",
        "Label Name",
        "Retailer",
        "Territory",
        "UPC",
        "Catalog Number",
        "Artist Name",
        "Product Title",
        "Format",
        "Transaction Type",
        "Quantity",
        "Unit Price",
        "Gross Revenue",
        "Distribution Fee",
        "Net Revenue",
        "Currency",
    ]);
    let period = format!("{:04}-{:02}", p.year, p.month);
    let retailers = [
        "Amazon.com",
        "Barnes & Noble",
        "Amoeba Music, Inc.",
        "Rough Trade NYC",
        "Walmart",
    ];
    let mut facts = Vec::new();
    for it in pick_items(r, cat, 3, 7, &US) {
        for _ in 0..r.range(1, 3) {
            let ret = r.chance(25);
            let units = if ret { r.range(1, 20) } else { qty(r) };
            let gross = units * it.price;
            let fee = pct(gross, 20);
            let sg = if ret { -1 } else { 1 };
            t.data(vec![
                s(&period),
                s("The Orchard Enterprises, Inc."),
                s("Marigold Records"),
                s(r.pick(&retailers)),
                s(r.pick(&["US", "CA", "GB"])),
                s(&it.upc),
                s(it.sku),
                s(it.artist),
                s(it.title),
                s(it.format),
                s(if ret { "Return" } else { "Sale" }),
                s(sg * units),
                s(plain(it.price)),
                s(plain(sg * gross)),
                s(plain(sg * fee)),
                s(plain(sg * (gross - fee))),
                s("USD"),
            ]);
            if ret {
                facts.push(fact("return", it.sku, units, gross));
                // The fee given back on a return is a credit.
                facts.push(fact("adjustment", it.sku, 0, fee));
            } else {
                facts.push(fact("sale", it.sku, units, gross));
                facts.push(fee_fact(it.sku, fee));
            }
        }
    }
    let enc = utf8(r);
    let shape = Shape::Csv(csv(r, ',', enc));
    Layout {
        name: "orchard",
        about: "The Orchard physical sales statement CSV",
        file: format!("orchard_{}.csv", p.yyyymm()),
        table: t,
        shape,
        mapping: Some(
            r#"name = "orchard"
description = "The Orchard physical sales CSV"
date_format = "%Y-%m"
[columns]
sku = ["UPC", "Catalog Number"]
memo = ["Artist Name", "Product Title", "Retailer"]
[kind_column]
column = "Transaction Type"
[kind_column.codes]
Sale = "sale"
Return = "return"
[statement]
distributor = "orchard"
currency = { column = "Currency" }
period_start = { column = "Statement Period" }
period_end = { column = "Statement Period", end_of_month = true }
statement_id = { template = "ORCH-{period_start}" }
[[lines]]
amount = "Gross Revenue"
units = "Quantity"
sign = "net"
[[lines]]
kind = "fee"
amount = "Distribution Fee"
"#
            .into(),
        ),
        args: vec!["--issued-on".into(), p.issued_iso()],
        meant: Meant {
            id: format!("ORCH-{}", p.start()),
            distributor: "orchard",
            currency: "USD",
            start: p.start(),
            end: p.end(),
            issued: p.issued_iso(),
            facts,
        },
        amount_col: Some("Gross Revenue"),
    }
}

/// AWAL: one row per product × store, separate sold / returned / fee columns with the
/// currency in the header ("Net Amount (USD)"), headers spaced as typed.
fn awal(r: &mut Rng, p: Period, cat: &[Item]) -> Layout {
    let mut t = Table::default();
    t.header(&[
        "Reporting Period",
        "Release Artist",
        "Release Title",
        "UPC",
        "Catalogue Number",
        "Format",
        "Store",
        "Territory",
        "Units Sold",
        "Units Returned",
        "Gross Sales (USD)",
        " Returns (USD)",
        "Distribution  Fee (USD)",
        "Net Amount (USD) ",
    ]);
    let mut facts = Vec::new();
    let stores = ["Amazon", "HMV", "Juno Records", "Norman Records"];
    for it in pick_items(r, cat, 2, 6, &US) {
        for _ in 0..r.range(1, 2) {
            let sold = qty(r);
            let back = if r.chance(30) { r.range(1, 12) } else { 0 };
            let gross = sold * it.price;
            let ret = back * it.price;
            let fee = pct(gross - ret, 15);
            t.data(vec![
                s(date(p.year, p.month, 1, "%b %Y")),
                s(it.artist),
                s(it.title),
                s(&it.upc),
                s(it.sku),
                s(it.format),
                s(r.pick(&stores)),
                s(r.pick(&["GB", "US", "DE"])),
                s(sold),
                s(back),
                s(plain(gross)),
                s(plain(ret)),
                s(plain(fee)),
                s(plain(gross - ret - fee)),
            ]);
            facts.push(fact("sale", it.sku, sold, gross));
            if back > 0 {
                facts.push(fact("return", it.sku, back, ret));
            }
            facts.push(fee_fact(it.sku, fee));
        }
    }
    let id = format!("AWAL-{}", p.yyyymm());
    let enc = utf8(r);
    let shape = Shape::Csv(csv(r, ',', enc));
    Layout {
        name: "awal",
        about: "AWAL sales report CSV",
        file: format!(
            "AWAL Sales Report {}.csv",
            date(p.year, p.month, 1, "%B %Y")
        ),
        table: t,
        shape,
        mapping: Some(
            r#"name = "awal"
description = "AWAL sales report"
[columns]
sku = ["UPC", "Catalogue Number"]
memo = ["Release Artist", "Release Title", "Store"]
[statement]
distributor = "awal"
currency = "USD"
[[lines]]
kind = "sale"
amount = "Gross Sales (USD)"
units = "Units Sold"
[[lines]]
kind = "return"
amount = "Returns (USD)"
units = "Units Returned"
[[lines]]
kind = "fee"
amount = "Distribution Fee (USD)"
"#
            .into(),
        ),
        args: args(&[
            "--statement-id",
            &id,
            "--period-start",
            &p.start(),
            "--period-end",
            &p.end(),
            "--issued-on",
            &p.issued_iso(),
        ]),
        meant: Meant {
            id,
            distributor: "awal",
            currency: "USD",
            start: p.start(),
            end: p.end(),
            issued: p.issued_iso(),
            facts,
        },
        amount_col: Some("Gross Sales (USD)"),
    }
}

/// CD Baby: tab-separated text, `3/5/2016` dates, a type per row (sales, returns,
/// shipping credits without a product), the fee negative beside the subtotal.
fn cdbaby(r: &mut Rng, p: Period, cat: &[Item]) -> Layout {
    let mut t = Table::default();
    t.header(&[
        "Report Date",
        "Sale Date",
        "Partner",
        "Artist",
        "Album",
        "UPC",
        "SKU",
        "Type",
        "Qty",
        "Unit Price",
        "Subtotal",
        "CD Baby Fee",
        "Earnings",
    ]);
    let (iy, im, id) = p.issued();
    let report = date(iy, im, id, "%-m/%-d/%Y");
    let mut facts = Vec::new();
    for it in pick_items(r, cat, 3, 6, &US) {
        for _ in 0..r.range(1, 3) {
            let ret = r.chance(20);
            let units = if ret { r.range(1, 3) } else { r.range(1, 40) };
            let sub = units * it.price;
            let fee = pct(sub, 9);
            let sg = if ret { -1 } else { 1 };
            let kind = if ret {
                "Return"
            } else if it.format == "CD" {
                "CD Sale"
            } else {
                "Vinyl Sale"
            };
            t.data(vec![
                s(&report),
                s(date(p.year, p.month, day(r, p), "%-m/%-d/%Y")),
                s(r.pick(&["CD Baby Store", "Amazon", "Discogs"])),
                s(it.artist),
                s(it.title),
                // Now and then only the label's catalog number.
                if r.chance(20) { V::E } else { s(&it.upc) },
                s(it.sku),
                s(kind),
                s(sg * units),
                s(plain(it.price)),
                s(plain(sg * sub)),
                s(plain(-sg * fee)),
                s(plain(sg * (sub - fee))),
            ]);
            if ret {
                facts.push(fact("return", it.sku, units, sub));
                facts.push(fact("adjustment", it.sku, 0, fee));
            } else {
                facts.push(fact("sale", it.sku, units, sub));
                facts.push(fee_fact(it.sku, fee));
            }
        }
    }
    for _ in 0..r.range(0, 2) {
        let credit = r.range(150, 1800);
        t.data(vec![
            s(&report),
            s(date(p.year, p.month, day(r, p), "%-m/%-d/%Y")),
            s("CD Baby Store"),
            V::E,
            V::E,
            V::E,
            V::E,
            s("Shipping Credit"),
            V::E,
            V::E,
            s(plain(credit)),
            V::E,
            s(plain(credit)),
        ]);
        facts.push(fact("adjustment", "", 0, credit));
    }
    let shape = Shape::Csv(csv(r, '\t', Enc::Utf8));
    Layout {
        name: "cdbaby",
        about: "CD Baby accounting report (tab-separated text)",
        file: format!("cdbaby-{}.txt", p.yyyymm()),
        table: t,
        shape,
        mapping: Some(
            r#"name = "cdbaby"
description = "CD Baby accounting report, tab-separated"
delimiter = "\t"
date_format = "%m/%d/%Y"
[columns]
sku = ["UPC", "SKU"]
date = "Sale Date"
memo = ["Artist", "Album", "Partner"]
[kind_column]
column = "Type"
[kind_column.codes]
"CD Sale" = "sale"
"Vinyl Sale" = "sale"
Return = "return"
"Shipping Credit" = "adjustment"
[statement]
distributor = "cdbaby"
currency = "USD"
period_start = { from_dates = "month" }
period_end = { from_dates = "month" }
issued_on = { column = "Report Date" }
statement_id = { template = "CDB-{period_end}" }
[[lines]]
amount = "Subtotal"
units = "Qty"
sign = "net"
[[lines]]
kind = "fee"
amount = "CD Baby Fee"
sign = "net"
"#
            .into(),
        ),
        args: Vec::new(),
        meant: Meant {
            id: format!("CDB-{}", p.end()),
            distributor: "cdbaby",
            currency: "USD",
            start: p.start(),
            end: p.end(),
            issued: p.issued_iso(),
            facts,
        },
        amount_col: Some("Subtotal"),
    }
}

/// Bandcamp's sales report, read with the mapping shipped with backstock: every
/// column Bandcamp exports, package sales with shipping and fan contributions,
/// refunds, a pending PayPal fee (`*`), a payout; sometimes UTF-16.
fn bandcamp(r: &mut Rng, p: Period, cat: &[Item]) -> Layout {
    let header = "date,paid to,item type,item name,artist,currency,item price,quantity,discount code,sub total,additional fan contribution,seller tax,marketplace tax,tax rate,collection society share,shipping,ship from country name,transaction fee,fee type,item total,amount you received,paypal transaction id,net amount,package,option,item url,catalog number,upc,isrc,buyer name,buyer email,buyer phone,buyer note,ship to name,ship to street,ship to street 2,ship to city,ship to state,ship to zip,ship to country,ship to country code,ship date,ship notes,country,country code,region/state,city,referer,referer url,sku,bandcamp transaction id,bandcamp transaction item id,bandcamp related transaction id";
    let mut t = Table::default();
    t.header(&header.split(',').collect::<Vec<_>>());
    let mut facts = Vec::new();
    let when = |r: &mut Rng| {
        let d = day(r, p);
        let h = r.range(1, 12);
        let mi = r.range(0, 59);
        format!(
            "{} {h}:{mi:02}{}",
            date(p.year, p.month, d, "%-m/%-d/%y"),
            if r.chance(50) { "am" } else { "pm" }
        )
    };
    let mut txn = 3_100_000_000u64 + r.below(1000) * 1000;
    for it in pick_items(r, cat, 2, 6, &ALL) {
        for _ in 0..r.range(1, 3) {
            txn += 17;
            let q = r.range(1, 3);
            let price = it.price * 2;
            let sub = q * price;
            let contrib = if r.chance(30) { r.range(100, 500) } else { 0 };
            let ship = if r.chance(80) { r.range(500, 1500) } else { 0 };
            let paypal = r.chance(15);
            let txfee = if paypal {
                0
            } else {
                pct(sub + contrib + ship, 4) + 30
            };
            let share = pct(sub + contrib, 10);
            let net = sub + contrib + ship - txfee - share;
            let by_upc = r.chance(60);
            t.data_by_name(&[
                ("date", s(when(r))),
                (
                    "paid to",
                    s(if paypal {
                        "paypal:marigold@example.com"
                    } else {
                        "Bandcamp"
                    }),
                ),
                ("item type", s("package")),
                ("item name", s(it.title)),
                ("artist", s(it.artist)),
                ("currency", s("USD")),
                ("item price", s(plain(price))),
                ("quantity", s(q)),
                ("sub total", s(plain(sub))),
                (
                    "additional fan contribution",
                    if contrib > 0 { s(plain(contrib)) } else { V::E },
                ),
                ("shipping", if ship > 0 { s(plain(ship)) } else { V::E }),
                ("ship from country name", s("United States")),
                (
                    "transaction fee",
                    s(if paypal {
                        "*".to_string()
                    } else {
                        plain(txfee)
                    }),
                ),
                ("fee type", s(if paypal { "paypal" } else { "card" })),
                ("item total", s(plain(sub + contrib + ship))),
                (
                    "amount you received",
                    s(plain(sub + contrib + ship - txfee)),
                ),
                ("net amount", s(plain(net))),
                ("package", s(it.format)),
                ("catalog number", s(it.sku)),
                ("upc", if by_upc { s(&it.upc) } else { V::E }),
                ("buyer name", s("Sam Chen")),
                ("buyer note", s("Please pack it well, thanks!\nSam")),
                ("country", s("United States")),
                ("bandcamp transaction id", s(txn)),
            ]);
            facts.push(fact("sale", it.sku, q, sub));
            if contrib > 0 {
                facts.push(fact("adjustment", it.sku, 0, contrib));
            }
            if ship > 0 {
                facts.push(fact("adjustment", it.sku, 0, ship));
            }
            if txfee > 0 {
                facts.push(fact("fee", it.sku, 0, txfee));
            }
            facts.push(fact("fee", it.sku, 0, share));
            if r.chance(25) {
                // Refunded later in the month (the item price only).
                txn += 3;
                let back = pct(price, 10);
                t.data_by_name(&[
                    ("date", s(when(r))),
                    ("paid to", s("Bandcamp")),
                    ("item type", s("refund")),
                    ("item name", s(it.title)),
                    ("artist", s(it.artist)),
                    ("currency", s("USD")),
                    ("item price", s(plain(-price))),
                    ("quantity", s(-1)),
                    ("sub total", s(plain(-price))),
                    ("fee type", s("card")),
                    ("item total", s(plain(-price))),
                    ("amount you received", s(plain(-price))),
                    ("net amount", s(plain(-(price - back)))),
                    ("package", s(it.format)),
                    ("catalog number", s(it.sku)),
                    ("upc", if by_upc { s(&it.upc) } else { V::E }),
                    ("bandcamp transaction id", s(txn)),
                ]);
                facts.push(fact("return", it.sku, 1, price));
                // Bandcamp gives its share back.
                facts.push(fact("adjustment", it.sku, 0, back));
            }
        }
    }
    t.data_by_name(&[
        (
            "date",
            s(format!(
                "{} 12:00am",
                date(p.year, p.month, p.last(), "%-m/%-d/%y")
            )),
        ),
        ("paid to", s("Bandcamp")),
        ("item type", s("payout")),
        ("currency", s("USD")),
        ("net amount", s(plain(-r.range(10_000, 90_000)))),
    ]);
    let enc = if r.chance(30) { Enc::Utf16Le } else { utf8(r) };
    let shape = Shape::Csv(CsvStyle {
        delim: ',',
        crlf: r.chance(50),
        quote_all: false,
        enc,
    });
    let id = format!("bandcamp-{}-{}-USD", p.start(), p.end());
    Layout {
        name: "bandcamp",
        about: "Bandcamp sales report (shipped mapping)",
        file: format!("{}_bandcamp_raw_data.csv", p.yyyymm()),
        table: t,
        shape,
        mapping: None,
        args: Vec::new(),
        meant: Meant {
            id,
            distributor: "bandcamp",
            currency: "USD",
            start: p.start(),
            end: p.end(),
            issued: p.end(),
            facts,
        },
        amount_col: Some("sub total"),
    }
}

/// Proper Music (UK): Windows-1252, a title block of several lines (an address with
/// commas), `01/03/2016 to 31/03/2016`, amounts in pounds `£1,234.56`, returns and
/// fees negative, a Totals line and a note under it.
fn proper(r: &mut Rng, p: Period, cat: &[Item]) -> Layout {
    let mut t = Table::default();
    t.text(&["Proper Music Distribution Ltd"]);
    t.text(&["The New Powerhouse, Gateway Business Centre, Kangley Bridge Road, London SE26 5AN"]);
    t.text(&["LABEL STATEMENT"]);
    t.text(&["Label:", "Marigold Records (Acct 4471)"]);
    let id = format!("PMD-{}-4471", p.yyyymm());
    t.text(&["Statement No:", &id]);
    let (iy, im, idd) = p.issued();
    t.text(&[
        "Period:",
        &format!(
            "{} to {}",
            date(p.year, p.month, 1, "%d/%m/%Y"),
            date(p.year, p.month, p.last(), "%d/%m/%Y")
        ),
    ]);
    t.text(&["Date of Issue:", &date(iy, im, idd, "%d/%m/%Y")]);
    t.blank();
    t.header(&[
        "Cat No",
        "Barcode",
        "Artist",
        "Title",
        "Format",
        "Sales Qty",
        "Sales Value",
        "Returns Qty",
        "Returns Value",
        "Fee",
        "Net Value",
    ]);
    let sym = if r.chance(70) { "£" } else { "" };
    let neg = if r.chance(50) {
        Neg::Minus
    } else {
        Neg::Parens
    };
    let mut facts = Vec::new();
    let (mut tq, mut tv) = (0, 0);
    for it in pick_items(r, cat, 3, 8, &ALL) {
        let sold = qty(r);
        let back = if r.chance(35) { r.range(1, 15) } else { 0 };
        let gross = sold * it.price;
        let ret = back * it.price;
        let fee = pct(gross - ret, 22);
        let net = gross - ret - fee;
        tq += sold - back;
        tv += net;
        t.data(vec![
            s(it.sku),
            s(&it.upc),
            s(it.artist),
            s(it.title),
            s(it.format),
            s(units_grouped(sold, ",")),
            s(money(gross, sym, neg)),
            s(back),
            s(money(-ret, sym, neg)),
            s(money(-fee, sym, neg)),
            s(money(net, sym, neg)),
        ]);
        facts.push(fact("sale", it.sku, sold, gross));
        if back > 0 {
            facts.push(fact("return", it.sku, back, ret));
        }
        facts.push(fee_fact(it.sku, fee));
    }
    t.blank();
    t.push(vec![
        s("Totals"),
        V::E,
        V::E,
        V::E,
        V::E,
        s(units_grouped(tq, ",")),
        V::E,
        V::E,
        V::E,
        V::E,
        s(money(tv, sym, neg)),
    ]);
    t.blank();
    t.text(&["Payment will be made 60 days after the date of issue. Queries: labels@proper.example, Café 2"]);
    let shape = Shape::Csv(csv(r, ',', Enc::Cp1252));
    Layout {
        name: "proper",
        about: "Proper Music Distribution label statement (UK, Windows-1252)",
        file: format!("Proper_Statement_{}.csv", p.yyyymm()),
        table: t,
        shape,
        mapping: Some(
            r#"name = "proper"
description = "Proper Music Distribution (UK) label statement"
encoding = "windows-1252"
header_row = 9
date_format = "%d/%m/%Y"
[columns]
sku = ["Barcode", "Cat No"]
memo = ["Artist", "Title", "Format"]
[statement]
distributor = "proper"
currency = "GBP"
statement_id = { after = "Statement No:" }
period_start = { after = "Period:", split = " to ", part = 1 }
period_end = { after = "Period:", split = " to ", part = 2 }
issued_on = { after = "Date of Issue:" }
[[lines]]
kind = "sale"
amount = "Sales Value"
units = "Sales Qty"
[[lines]]
kind = "return"
amount = "Returns Value"
units = "Returns Qty"
sign = "net"
[[lines]]
kind = "fee"
amount = "Fee"
sign = "net"
[[rules]]
column = "Cat No"
starts_with = "Totals"
action = "stop"
"#
            .into(),
        ),
        args: Vec::new(),
        meant: Meant {
            id,
            distributor: "proper",
            currency: "GBP",
            start: p.start(),
            end: p.end(),
            issued: p.issued_iso(),
            facts,
        },
        amount_col: Some("Sales Value"),
    }
}

// The workbook's amounts are what a spreadsheet computed: its own float products
// (7.9 × 3 = 23.700000000000003) are reproduced here, never used as money.
#[allow(clippy::float_arithmetic)]
/// Redeye (US) as an XLSX workbook: a Summary sheet first, the detail on the second
/// sheet under a title block, true date cells, UPCs and amounts as number cells
/// (float artefacts included: 7.9 × 3), invoices and credit memos.
fn redeye(r: &mut Rng, p: Period, cat: &[Item]) -> Layout {
    let mut t = Table::default();
    t.text(&["Redeye Distribution"]);
    let id = format!("RD-{}-{:04}", p.yyyymm(), r.range(1, 9999));
    t.text(&["Statement #", &id]);
    let (iy, im, idd) = p.issued();
    t.push(vec![s("Period Beginning"), V::D(p.year, p.month, 1)]);
    t.push(vec![s("Period Ending"), V::D(p.year, p.month, p.last())]);
    t.push(vec![s("Statement Date"), V::D(iy, im, idd)]);
    t.blank();
    t.header(&[
        "Invoice Date",
        "Doc Type",
        "Customer",
        "UPC",
        "Cat #",
        "Artist",
        "Title",
        "Qty",
        "Price",
        "Extended",
        "Fee",
        "Net",
    ]);
    let mut facts = Vec::new();
    for it in pick_items(r, cat, 3, 7, &US) {
        for _ in 0..r.range(1, 3) {
            let ret = r.chance(25);
            let units = if ret { r.range(1, 10) } else { qty(r) };
            let sg = if ret { -1.0 } else { 1.0 };
            let price = it.price as f64 / 100.0;
            let ext = units as f64 * price;
            let fee = pct(units * it.price, 18);
            t.data(vec![
                V::D(p.year, p.month, day(r, p)),
                s(if ret { "CRM" } else { "INV" }),
                s(r.pick(&["Newbury Comics", "Waterloo Records", "Grimey's"])),
                V::N(it.upc.parse::<f64>().unwrap()),
                s(it.sku),
                s(it.artist),
                s(it.title),
                V::N(sg * units as f64),
                V::N(price),
                V::N(sg * ext),
                V::N(sg * fee as f64 / 100.0),
                V::N(sg * (ext - fee as f64 / 100.0)),
            ]);
            if ret {
                facts.push(fact("return", it.sku, units, units * it.price));
                facts.push(fact("adjustment", it.sku, 0, fee));
            } else {
                facts.push(fact("sale", it.sku, units, units * it.price));
                facts.push(fee_fact(it.sku, fee));
            }
        }
    }
    let mut summary = Table::default();
    summary.text(&["Redeye Distribution — Statement Summary"]);
    summary.push(vec![s("Net due"), V::N(123.45)]);
    let mut notes = Table::default();
    notes.text(&["All amounts in USD."]);
    Layout {
        name: "redeye",
        about: "Redeye Distribution XLSX statement (Summary sheet first, detail second)",
        file: format!("Redeye Statement {}.xlsx", p.yyyymm()),
        table: t,
        shape: Shape::Xlsx {
            sheet: "Sales Detail".into(),
            before: vec![("Summary".into(), summary)],
            after: vec![("Notes".into(), notes)],
        },
        mapping: Some(
            r#"name = "redeye"
description = "Redeye Distribution XLSX statement"
format = "xlsx"
sheet = "Sales Detail"
header_row = 7
date_format = "%m/%d/%Y"
[columns]
sku = ["UPC", "Cat #"]
date = "Invoice Date"
memo = ["Customer", "Artist", "Title"]
[kind_column]
column = "Doc Type"
[kind_column.codes]
INV = "sale"
CRM = "return"
[statement]
currency = "USD"
statement_id = { after = "Statement #" }
period_start = { after = "Period Beginning" }
period_end = { after = "Period Ending" }
issued_on = { after = "Statement Date" }
[[lines]]
amount = "Extended"
units = "Qty"
sign = "net"
[[lines]]
kind = "fee"
amount = "Fee"
"#
            .into(),
        ),
        args: args(&["--distributor", "redeye"]),
        meant: Meant {
            id,
            distributor: "redeye",
            currency: "USD",
            start: p.start(),
            end: p.end(),
            issued: p.issued_iso(),
            facts,
        },
        amount_col: Some("Extended"),
    }
}

/// Secretly Distribution: a title block of one-cell lines (`Period: March 2016`),
/// quoted titles with commas and line breaks, trailing spaces, subtotals per artist
/// followed by blank lines, a Grand Total and notes; CRLF or LF.
fn secretly(r: &mut Rng, p: Period, cat: &[Item]) -> Layout {
    let mut t = Table::default();
    let id = format!("SD-{}-MRG", p.yyyymm());
    t.text(&["Secretly Distribution — Label Statement"]);
    t.text(&["Label: Marigold Records"]);
    t.text(&[&format!("Period: {}", date(p.year, p.month, 1, "%B %Y"))]);
    t.text(&[&format!("Statement: {id}")]);
    t.text(&[&format!("Issued: {}", p.issued_iso())]);
    t.blank();
    t.header(&[
        "Catalog #",
        "UPC",
        "Artist",
        "Title",
        "Config",
        "Units Shipped",
        "Units Returned",
        "Net Units",
        "Dealer Price",
        "Gross $",
        "Returns $",
        "Dist Fee $",
        "Net $",
    ]);
    let mut facts = Vec::new();
    let items = pick_items(r, cat, 3, 8, &US);
    let mut artists: Vec<&str> = Vec::new();
    for it in &items {
        if !artists.contains(&it.artist) {
            artists.push(it.artist);
        }
    }
    let sp = |r: &mut Rng, x: String| -> V {
        if r.chance(40) {
            s(format!("{x} "))
        } else {
            s(x)
        }
    };
    for a in artists {
        let (mut su, mut sn) = (0, 0);
        for it in items.iter().filter(|i| i.artist == a) {
            let sold = qty(r);
            let back = if r.chance(30) { r.range(1, 9) } else { 0 };
            let gross = sold * it.price;
            let ret = back * it.price;
            let fee = pct(gross - ret, 20);
            su += sold - back;
            sn += gross - ret - fee;
            let title = if r.chance(50) && it.title.contains(',') {
                format!("{}\n(Remastered)", it.title)
            } else {
                it.title.to_string()
            };
            let row = vec![
                s(it.sku),
                if r.chance(15) { V::E } else { s(&it.upc) },
                s(it.artist),
                s(title),
                s(it.format),
                sp(r, units_grouped(sold, ",")),
                sp(r, back.to_string()),
                sp(r, units_grouped(sold - back, ",")),
                sp(r, plain(it.price)),
                sp(r, grouped(gross, ",", ".")),
                sp(
                    r,
                    if ret > 0 {
                        format!("-{}", grouped(ret, ",", "."))
                    } else {
                        "0.00".into()
                    },
                ),
                sp(r, money(-fee, "", Neg::Minus)),
                sp(r, grouped(gross - ret - fee, ",", ".")),
            ];
            t.data(row);
            facts.push(fact("sale", it.sku, sold, gross));
            if back > 0 {
                facts.push(fact("return", it.sku, back, ret));
            }
            facts.push(fee_fact(it.sku, fee));
        }
        t.push(vec![
            s(format!("Subtotal {a}")),
            V::E,
            V::E,
            V::E,
            V::E,
            V::E,
            V::E,
            s(su),
            V::E,
            V::E,
            V::E,
            V::E,
            s(grouped(sn, ",", ".")),
        ]);
        t.blank();
    }
    t.text(&[
        "Grand Total",
        "",
        "",
        "",
        "",
        "",
        "",
        "",
        "",
        "",
        "",
        "",
        "see above",
    ]);
    t.blank();
    t.text(&["Notes: reserves are held per your agreement, released after 6 months."]);
    let shape = Shape::Csv(csv(r, ',', Enc::Utf8));
    Layout {
        name: "secretly",
        about: "Secretly Distribution label statement CSV",
        file: format!("SD_{}_statement.csv", p.yyyymm()),
        table: t,
        shape,
        mapping: Some(
            r#"name = "secretly"
description = "Secretly Distribution label statement"
header_row = 7
[columns]
sku = ["UPC", "Catalog #"]
memo = ["Artist", "Title", "Config"]
[statement]
distributor = "secretly"
currency = "USD"
statement_id = { after = "Statement:" }
period_start = { after = "Period:", date_format = "%B %Y" }
period_end = { after = "Period:", date_format = "%B %Y", end_of_month = true }
issued_on = { after = "Issued:" }
[[lines]]
kind = "sale"
amount = "Gross $"
units = "Units Shipped"
[[lines]]
kind = "return"
amount = "Returns $"
units = "Units Returned"
sign = "net"
[[lines]]
kind = "fee"
amount = "Dist Fee $"
sign = "net"
[[rules]]
column = "Catalog #"
starts_with = "Subtotal"
action = "skip"
[[rules]]
column = "Catalog #"
starts_with = "Grand Total"
action = "stop"
"#
            .into(),
        ),
        args: Vec::new(),
        meant: Meant {
            id,
            distributor: "secretly",
            currency: "USD",
            start: p.start(),
            end: p.end(),
            issued: p.issued_iso(),
            facts,
        },
        amount_col: Some("Gross $"),
    }
}

/// Amazon Vendor Central: a first line of report settings in brackets
/// (`Viewing Range=[3/1/16 - 3/31/16]`), the header on line 2, UPC or EAN (a UPC
/// written as a 13-digit EAN with a leading 0), dollar amounts, a percent column.
fn amazon(r: &mut Rng, p: Period, cat: &[Item]) -> Layout {
    let mut t = Table::default();
    t.text(&[
        "Sales Diagnostic_Detail View_US",
        "Program=[Retail]",
        "Distributor View=[Manufacturing]",
        "View By=[ASIN]",
        &format!(
            "Viewing Range=[{} - {}]",
            date(p.year, p.month, 1, "%-m/%-d/%y"),
            date(p.year, p.month, p.last(), "%-m/%-d/%y")
        ),
        "Currency=[USD]",
    ]);
    t.header(&[
        "ASIN",
        "Product Title",
        "Brand",
        "Model / Style Number",
        "EAN",
        "UPC",
        "Shipped COGS",
        "Shipped COGS - % of Total",
        "Shipped Units",
        "Customer Returns",
        "Returned COGS",
    ]);
    let mut facts = Vec::new();
    for it in pick_items(r, cat, 2, 7, &ALL) {
        let sold = qty(r);
        let back = if r.chance(30) { r.range(1, 6) } else { 0 };
        let (ean, upc) = if it.upc.len() == 13 {
            (it.upc.clone(), String::new())
        } else if r.chance(40) {
            (format!("0{}", it.upc), String::new())
        } else {
            (String::new(), it.upc.clone())
        };
        t.data(vec![
            s(format!("B0{:08}", r.below(100_000_000))),
            s(format!("{} - {} [{}]", it.artist, it.title, it.format)),
            s("Marigold Records"),
            s(it.sku),
            s(ean),
            s(upc),
            s(money(sold * it.price, "$", Neg::Minus)),
            s(format!("{}.{:02}%", r.range(0, 40), r.range(0, 99))),
            s(units_grouped(sold, ",")),
            s(back),
            s(money(back * it.price, "$", Neg::Minus)),
        ]);
        facts.push(fact("sale", it.sku, sold, sold * it.price));
        if back > 0 {
            facts.push(fact("return", it.sku, back, back * it.price));
        }
    }
    let id = format!("AMZ-{}", p.yyyymm());
    let enc = utf8(r);
    let shape = Shape::Csv(csv(r, ',', enc));
    Layout {
        name: "amazon",
        about: "Amazon Vendor Central sales diagnostic CSV",
        file: format!("Sales_Diagnostic_Detail_View_US_{}.csv", p.yyyymm()),
        table: t,
        shape,
        mapping: Some(
            r#"name = "amazon"
description = "Amazon Vendor Central sales diagnostic (manufacturing view)"
header_row = 2
date_format = "%m/%d/%y"
[columns]
sku = ["UPC", "EAN", "Model / Style Number"]
memo = ["Product Title"]
[statement]
distributor = "amazon"
currency = { after = "Currency" }
period_start = { after = "Viewing Range", split = " - ", part = 1 }
period_end = { after = "Viewing Range", split = " - ", part = 2 }
[[lines]]
kind = "sale"
amount = "Shipped COGS"
units = "Shipped Units"
[[lines]]
kind = "return"
amount = "Returned COGS"
units = "Customer Returns"
"#
            .into(),
        ),
        args: args(&["--statement-id", &id, "--issued-on", &p.issued_iso()]),
        meant: Meant {
            id,
            distributor: "amazon",
            currency: "USD",
            start: p.start(),
            end: p.end(),
            issued: p.issued_iso(),
            facts,
        },
        amount_col: Some("Shipped COGS"),
    }
}

/// A German distributor: `;`, Windows-1252 (`Gebühr`, `€` as byte 0x80), decimal
/// comma with `.` thousands, `31.03.2016`, statement values on every row, a type
/// code per row (sales, returns, fees, reserves, subtotals to skip).
fn nordton(r: &mut Rng, p: Period, cat: &[Item]) -> Layout {
    let mut t = Table::default();
    t.header(&[
        "Abrechnungsnr.",
        "Zeitraum von",
        "Zeitraum bis",
        "Belegdatum",
        "Art",
        "EAN",
        "Artikelnr.",
        "Interpret",
        "Titel",
        "Menge",
        "Einzelpreis",
        "Betrag",
        "Währung",
    ]);
    let id = format!("NT-{}-0815", p.yyyymm());
    let (iy, im, idd) = p.issued();
    let head = |t: &mut Table, rest: Vec<V>| {
        let mut row = vec![
            s(&id),
            s(date(p.year, p.month, 1, "%d.%m.%Y")),
            s(date(p.year, p.month, p.last(), "%d.%m.%Y")),
            s(date(iy, im, idd, "%d.%m.%Y")),
        ];
        row.extend(rest);
        t.data(row);
    };
    let eur = r.chance(50);
    let amt = |c: i64| -> V {
        if eur {
            s(format!("{} €", euro(c, ".")))
        } else {
            s(euro(c, "."))
        }
    };
    let mut facts = Vec::new();
    let mut total = 0;
    for it in pick_items(r, cat, 3, 7, &ALL) {
        let sold = qty(r);
        let gross = sold * it.price;
        total += gross;
        head(
            &mut t,
            vec![
                s("Verkauf"),
                s(&it.upc),
                s(it.sku),
                s(it.artist),
                s(it.title),
                s(units_grouped(sold, ".")),
                amt(it.price),
                amt(gross),
                s("EUR"),
            ],
        );
        facts.push(fact("sale", it.sku, sold, gross));
        if r.chance(30) {
            let back = r.range(1, 8);
            total -= back * it.price;
            head(
                &mut t,
                vec![
                    s("Retoure"),
                    s(&it.upc),
                    s(it.sku),
                    s(it.artist),
                    s(it.title),
                    s(-back),
                    amt(it.price),
                    amt(-back * it.price),
                    s("EUR"),
                ],
            );
            facts.push(fact("return", it.sku, back, back * it.price));
        }
    }
    // A subtotal the mapping skips.
    t.push(vec![
        V::E,
        V::E,
        V::E,
        V::E,
        s("Zwischensumme"),
        V::E,
        V::E,
        V::E,
        V::E,
        V::E,
        V::E,
        amt(total),
        s("EUR"),
    ]);
    let fee = pct(total, 21);
    head(
        &mut t,
        vec![
            s("Gebühr"),
            V::E,
            V::E,
            V::E,
            s("Vertriebsgebühr 21 %"),
            V::E,
            V::E,
            amt(-fee),
            s("EUR"),
        ],
    );
    facts.push(fact("fee", "", 0, fee));
    let reserve = pct(total, 10);
    head(
        &mut t,
        vec![
            s("Rückstellung"),
            V::E,
            V::E,
            V::E,
            s("Retourenreserve 10 %"),
            V::E,
            V::E,
            amt(-reserve),
            s("EUR"),
        ],
    );
    facts.push(fact("reserve_withheld", "", 0, reserve));
    if r.chance(50) {
        let released = r.range(1000, 50_000);
        head(
            &mut t,
            vec![
                s("Auflösung Rückstellung"),
                V::E,
                V::E,
                V::E,
                s("Reserve Q3"),
                V::E,
                V::E,
                amt(released),
                s("EUR"),
            ],
        );
        facts.push(fact("reserve_released", "", 0, released));
    }
    let shape = Shape::Csv(csv(r, ';', Enc::Cp1252));
    Layout {
        name: "nordton",
        about: "German distributor Abrechnung CSV (semicolons, Windows-1252, 1.234,56, 31.03.2016)",
        file: format!("Abrechnung_{}.csv", p.yyyymm()),
        table: t,
        shape,
        mapping: Some(
            r#"name = "nordton"
description = "Nordton Vertrieb Abrechnung"
delimiter = ";"
decimal = ","
date_format = "%d.%m.%Y"
[columns]
sku = ["EAN", "Artikelnr."]
memo = ["Interpret", "Titel"]
[kind_column]
column = "Art"
[kind_column.codes]
Verkauf = "sale"
Retoure = "return"
"Gebühr" = "fee"
"Rückstellung" = "reserve_withheld"
"Auflösung Rückstellung" = "reserve_released"
Zwischensumme = "skip"
[statement]
distributor = "nordton"
statement_id = { column = "Abrechnungsnr." }
period_start = { column = "Zeitraum von" }
period_end = { column = "Zeitraum bis" }
issued_on = { column = "Belegdatum" }
currency = { column = "Währung" }
[[lines]]
amount = "Betrag"
units = "Menge"
sign = "net"
"#
            .into(),
        ),
        args: Vec::new(),
        meant: Meant {
            id,
            distributor: "nordton",
            currency: "EUR",
            start: p.start(),
            end: p.end(),
            issued: p.issued_iso(),
            facts,
        },
        amount_col: Some("Betrag"),
    }
}

/// A French distributor: UTF-8 with a byte-order mark, `;`, `1 234,56 €` with a
/// (narrow) no-break space between thousands, `31/03/2016`, a title block with
/// `Période : … - …`.
fn lumiere(r: &mut Rng, p: Period, cat: &[Item]) -> Layout {
    let mut t = Table::default();
    let id = format!("DL-{}-117", p.yyyymm());
    let (iy, im, idd) = p.issued();
    t.text(&["Relevé des ventes"]);
    t.text(&["Distributeur : Disques Lumière SARL"]);
    t.text(&[&format!(
        "Période : {} - {}",
        date(p.year, p.month, 1, "%d/%m/%Y"),
        date(p.year, p.month, p.last(), "%d/%m/%Y")
    )]);
    t.text(&[&format!(
        "Date d'émission : {}",
        date(iy, im, idd, "%d/%m/%Y")
    )]);
    t.text(&[&format!("Référence : {id}")]);
    t.blank();
    t.header(&[
        "Code article",
        "EAN",
        "Artiste",
        "Titre",
        "Support",
        "Qté vendue",
        "Ventes",
        "Qté retournée",
        "Retours",
        "Commission",
        "Net à payer",
    ]);
    let nbsp = if r.chance(50) { "\u{a0}" } else { "\u{202f}" };
    let amt = |c: i64| format!("{}\u{a0}€", euro(c, nbsp));
    let mut facts = Vec::new();
    for it in pick_items(r, cat, 2, 7, &ALL) {
        let sold = qty(r);
        let back = if r.chance(30) { r.range(1, 9) } else { 0 };
        let gross = sold * it.price;
        let ret = back * it.price;
        let fee = pct(gross - ret, 24);
        t.data(vec![
            s(it.sku),
            s(&it.upc),
            s(it.artist),
            s(it.title),
            s(it.format),
            s(units_grouped(sold, nbsp)),
            s(amt(gross)),
            s(back),
            s(amt(-ret)),
            s(amt(-fee)),
            s(amt(gross - ret - fee)),
        ]);
        facts.push(fact("sale", it.sku, sold, gross));
        if back > 0 {
            facts.push(fact("return", it.sku, back, ret));
        }
        facts.push(fee_fact(it.sku, fee));
    }
    let shape = Shape::Csv(csv(r, ';', Enc::Utf8Bom));
    Layout {
        name: "lumiere",
        about: "French distributor relevé des ventes (semicolons, 1 234,56 €, 31/03/2016)",
        file: format!("releve_{}.csv", p.yyyymm()),
        table: t,
        shape,
        mapping: Some(
            r#"name = "lumiere"
description = "Disques Lumière relevé des ventes"
delimiter = ";"
header_row = 7
decimal = ","
date_format = "%d/%m/%Y"
[columns]
sku = ["EAN", "Code article"]
memo = ["Artiste", "Titre"]
[statement]
distributor = "lumiere"
currency = "EUR"
statement_id = { after = "Référence" }
period_start = { after = "Période", split = " - ", part = 1 }
period_end = { after = "Période", split = " - ", part = 2 }
issued_on = { after = "Date d'émission" }
[[lines]]
kind = "sale"
amount = "Ventes"
units = "Qté vendue"
[[lines]]
kind = "return"
amount = "Retours"
units = "Qté retournée"
sign = "net"
[[lines]]
kind = "fee"
amount = "Commission"
sign = "net"
"#
            .into(),
        ),
        args: Vec::new(),
        meant: Meant {
            id,
            distributor: "lumiere",
            currency: "EUR",
            start: p.start(),
            end: p.end(),
            issued: p.issued_iso(),
            facts,
        },
        amount_col: Some("Ventes"),
    }
}

/// A statement opened in Excel and saved again as CSV: a byte-order mark, CRLF, the
/// UPC column turned into a number shown in scientific form with all its digits
/// (`1.99758300217E+11`), `$` amounts with trailing spaces, "Net Amount (USD)".
fn mvd(r: &mut Rng, p: Period, cat: &[Item]) -> Layout {
    let mut t = Table::default();
    t.header(&[
        "Invoice Date",
        "Customer",
        "Item Number",
        "UPC",
        "Description",
        "Qty Shipped",
        "Qty Returned",
        "Gross Sales",
        "Returns",
        "Distribution Fee",
        "Net Amount (USD)",
    ]);
    let mut facts = Vec::new();
    for it in pick_items(r, cat, 3, 7, &US) {
        let sold = qty(r);
        let back = if r.chance(30) { r.range(1, 9) } else { 0 };
        let gross = sold * it.price;
        let ret = back * it.price;
        let fee = pct(gross - ret, 25);
        // Excel writes a 12-digit number in scientific form: d.ddddddddddE+11, the
        // trailing zeros of the mantissa dropped.
        let digits = it.upc.trim_start_matches('0');
        let mantissa = format!("{}.{}", &digits[..1], &digits[1..]);
        let mantissa = mantissa.trim_end_matches('0').trim_end_matches('.');
        let sci = format!("{mantissa}E+{}", digits.len() - 1);
        t.data(vec![
            s(date(p.year, p.month, day(r, p), "%-m/%-d/%Y")),
            s(r.pick(&["Alliance Ent.", "Baker & Taylor", "Ingram"])),
            s(it.sku),
            s(sci),
            s(format!("{} - {}", it.artist, it.title)),
            s(units_grouped(sold, ",")),
            s(back),
            s(format!("{} ", money(gross, "$", Neg::Parens))),
            s(format!("{} ", money(-ret, "$", Neg::Parens))),
            s(format!("{} ", money(-fee, "$", Neg::Parens))),
            s(format!("{} ", money(gross - ret - fee, "$", Neg::Parens))),
        ]);
        facts.push(fact("sale", it.sku, sold, gross));
        if back > 0 {
            facts.push(fact("return", it.sku, back, ret));
        }
        facts.push(fee_fact(it.sku, fee));
    }
    let id = format!("MVD-{}", p.yyyymm());
    let shape = Shape::Csv(CsvStyle {
        delim: ',',
        crlf: true,
        quote_all: false,
        enc: Enc::Utf8Bom,
    });
    Layout {
        name: "mvd",
        about: "a distributor's CSV opened and re-saved in Excel (scientific-form UPCs)",
        file: format!("mvd {}.csv", p.yyyymm()),
        table: t,
        shape,
        mapping: Some(
            r#"name = "mvd"
description = "MVD statement re-saved from Excel"
date_format = "%m/%d/%Y"
[columns]
sku = ["UPC", "Item Number"]
date = "Invoice Date"
memo = ["Description", "Customer"]
[statement]
distributor = "mvd"
currency = "USD"
period_start = { from_dates = "month" }
period_end = { from_dates = "month" }
[[lines]]
kind = "sale"
amount = "Gross Sales"
units = "Qty Shipped"
[[lines]]
kind = "return"
amount = "Returns"
units = "Qty Returned"
sign = "net"
[[lines]]
kind = "fee"
amount = "Distribution Fee"
sign = "net"
"#
            .into(),
        ),
        args: args(&["--statement-id", &id, "--issued-on", &p.issued_iso()]),
        meant: Meant {
            id,
            distributor: "mvd",
            currency: "USD",
            start: p.start(),
            end: p.end(),
            issued: p.issued_iso(),
            facts,
        },
        amount_col: Some("Gross Sales"),
    }
}

/// Forced Exposure as an XLSX workbook of three sheets, the detail on the third under
/// a title block, dates as bare serial numbers (General format), UPCs as numbers (a
/// leading zero lost), units as numbers.
fn forced_exposure(r: &mut Rng, p: Period, cat: &[Item]) -> Layout {
    let mut t = Table::default();
    t.text(&["Forced Exposure — Consignment Sales"]);
    t.text(&["Account: MRG"]);
    t.blank();
    t.header(&[
        "Date",
        "UPC",
        "Catalog",
        "Description",
        "Sold",
        "Returned",
        "Sales Amount",
        "Return Amount",
        "Fee",
    ]);
    let mut facts = Vec::new();
    for it in pick_items(r, cat, 3, 7, &US) {
        for _ in 0..r.range(1, 2) {
            let sold = r.range(1, 300);
            let back = if r.chance(25) { r.range(1, 5) } else { 0 };
            let gross = sold * it.price;
            let ret = back * it.price;
            let fee = pct(gross - ret, 20);
            t.data(vec![
                V::Serial(p.year, p.month, day(r, p)),
                V::N(it.upc.parse::<f64>().unwrap()),
                s(it.sku),
                s(format!("{}: {} ({})", it.artist, it.title, it.format)),
                V::N(sold as f64),
                if back > 0 { V::N(back as f64) } else { V::E },
                V::N(num(gross)),
                if back > 0 { V::N(num(ret)) } else { V::E },
                V::N(num(fee)),
            ]);
            facts.push(fact("sale", it.sku, sold, gross));
            if back > 0 {
                facts.push(fact("return", it.sku, back, ret));
            }
            facts.push(fee_fact(it.sku, fee));
        }
    }
    let mut cover = Table::default();
    cover.text(&["Forced Exposure", "Statement"]);
    let mut notes = Table::default();
    notes.text(&["Dates are invoice dates."]);
    Layout {
        name: "forced-exposure",
        about: "Forced Exposure XLSX (third sheet, serial-number dates)",
        file: format!("FE_{}.xlsx", p.yyyymm()),
        table: t,
        shape: Shape::Xlsx {
            sheet: "Detail".into(),
            before: vec![("Cover".into(), cover), ("Notes".into(), notes)],
            after: Vec::new(),
        },
        mapping: Some(
            r#"name = "forced-exposure"
description = "Forced Exposure consignment sales workbook"
format = "xlsx"
sheet = "Detail"
header_row = 4
date_format = "%m/%d/%Y"
[columns]
sku = ["UPC", "Catalog"]
date = "Date"
memo = ["Description"]
[statement]
distributor = "forced-exposure"
currency = "USD"
period_start = { from_dates = "month" }
period_end = { from_dates = "month" }
statement_id = { template = "FE-{period_end}" }
[[lines]]
kind = "sale"
amount = "Sales Amount"
units = "Sold"
[[lines]]
kind = "return"
amount = "Return Amount"
units = "Returned"
[[lines]]
kind = "fee"
amount = "Fee"
"#
            .into(),
        ),
        args: args(&["--issued-on", &p.issued_iso()]),
        meant: Meant {
            id: format!("FE-{}", p.end()),
            distributor: "forced-exposure",
            currency: "USD",
            start: p.start(),
            end: p.end(),
            issued: p.issued_iso(),
            facts,
        },
        amount_col: Some("Sales Amount"),
    }
}

/// A US one-stop: a title block, blank lines between the rows, negatives written
/// every way (`($12.00)`, `$(12.00)`, `$ (12.00)`, `-$12.00`, `$-12.00`), zeros in
/// accounting style (`$ -`, `-`), barcodes as `="…"`, padded cells, a TOTAL line.
fn allied(r: &mut Rng, p: Period, cat: &[Item]) -> Layout {
    let mut t = Table::default();
    let id = format!("AMD{}{:03}", p.yyyymm(), r.range(1, 999));
    t.text(&["ALLIED MUSIC DISTRIBUTORS INC.", "", "", "Statement #", &id]);
    t.text(&[&format!(
        "Statement for period ending {}",
        date(p.year, p.month, p.last(), "%m/%d/%Y")
    )]);
    t.blank();
    t.header(&[
        "Line",
        "UPC",
        "Title",
        "Artist",
        "Qty Sold",
        "Qty Ret",
        "Gross Sales",
        "Returns",
        "Fees",
        "Net Amount (USD)",
    ]);
    let negs = [
        Neg::Parens,
        Neg::SymParens,
        Neg::SpacedParens,
        Neg::Minus,
        Neg::SymMinus,
    ];
    let pad = |r: &mut Rng, x: String| -> V {
        match r.below(3) {
            0 => s(format!(" {x}")),
            1 => s(format!("{x}   ")),
            _ => s(x),
        }
    };
    // Exported with Excel's tricks: barcodes as `="012345678905"` (so a spreadsheet
    // keeps their zeros), zero amounts in accounting style (`$ -`).
    let formula_codes = r.chance(60);
    let acct = |c: i64, neg: Neg| -> String {
        if c == 0 {
            " $ -   ".to_string()
        } else {
            money(c, "$", neg)
        }
    };
    let mut facts = Vec::new();
    for (n, it) in pick_items(r, cat, 3, 7, &US).into_iter().enumerate() {
        let sold = qty(r);
        let back = if r.chance(35) { r.range(1, 9) } else { 0 };
        let gross = sold * it.price;
        let ret = back * it.price;
        let fee = pct(gross - ret, 19);
        let neg = *r.pick(&negs);
        t.data(vec![
            s(n + 1),
            if formula_codes {
                s(format!("=\"{}\"", it.upc))
            } else {
                pad(r, it.upc.clone())
            },
            pad(r, it.title.to_string()),
            s(it.artist),
            pad(r, units_grouped(sold, ",")),
            if back == 0 {
                s("-")
            } else {
                pad(r, back.to_string())
            },
            pad(r, money(gross, "$", neg)),
            s(acct(-ret, neg)),
            pad(r, money(-fee, "$", neg)),
            pad(r, money(gross - ret - fee, "$", neg)),
        ]);
        if r.chance(40) {
            t.blank();
        }
        facts.push(fact("sale", it.sku, sold, gross));
        if back > 0 {
            facts.push(fact("return", it.sku, back, ret));
        }
        facts.push(fee_fact(it.sku, fee));
    }
    t.blank();
    t.text(&["", "TOTAL", "", "", "", "", "", "", "", "see remittance"]);
    let enc = utf8(r);
    let shape = Shape::Csv(csv(r, ',', enc));
    Layout {
        name: "allied",
        about: "US one-stop statement (negatives in every style, padded cells, TOTAL)",
        file: format!("ALLIED_{}.CSV", p.yyyymm()),
        table: t,
        shape,
        mapping: Some(
            r#"name = "allied"
description = "Allied Music Distributors statement"
header_row = 4
date_format = "%m/%d/%Y"
[columns]
sku = ["UPC"]
memo = ["Artist", "Title"]
[statement]
distributor = "allied"
currency = "USD"
statement_id = { after = "Statement #" }
period_end = { after = "Statement for period ending" }
issued_on = { after = "Statement for period ending" }
[[lines]]
kind = "sale"
amount = "Gross Sales"
units = "Qty Sold"
[[lines]]
kind = "return"
amount = "Returns"
units = "Qty Ret"
sign = "net"
[[lines]]
kind = "fee"
amount = "Fees"
sign = "net"
[[rules]]
column = "UPC"
equals = "TOTAL"
action = "stop"
"#
            .into(),
        ),
        args: args(&["--period-start", &p.start()]),
        meant: Meant {
            id,
            distributor: "allied",
            currency: "USD",
            start: p.start(),
            end: p.end(),
            issued: p.end(),
            facts,
        },
        amount_col: Some("Gross Sales"),
    }
}

/// Believe-style: `;` with a decimal point, months as `201603`, net revenue per
/// platform and country, returns as negative rows.
fn believe(r: &mut Rng, p: Period, cat: &[Item]) -> Layout {
    let mut t = Table::default();
    t.header(&[
        "Reporting Month",
        "Sales Month",
        "Platform",
        "Country",
        "Label",
        "Artist",
        "Release title",
        "UPC",
        "Catalog number",
        "Product type",
        "Quantity",
        "Unit price",
        "Net revenue",
        "Currency",
    ]);
    let (iy, im, _) = p.issued();
    let mut facts = Vec::new();
    for it in pick_items(r, cat, 2, 6, &ALL) {
        for _ in 0..r.range(1, 3) {
            let ret = r.chance(20);
            let units = if ret { r.range(1, 5) } else { r.range(1, 500) };
            let sg = if ret { -1 } else { 1 };
            t.data(vec![
                s(format!("{iy:04}{im:02}")),
                s(p.yyyymm()),
                s(r.pick(&["Fnac", "Amazon FR", "Cultura", "jpc"])),
                s(r.pick(&["FR", "DE", "BE"])),
                s("Marigold Records"),
                s(it.artist),
                s(it.title),
                s(&it.upc),
                s(it.sku),
                s("Physical"),
                s(sg * units),
                s(plain(it.price)),
                s(plain(sg * units * it.price)),
                s("EUR"),
            ]);
            facts.push(fact(
                if ret { "return" } else { "sale" },
                it.sku,
                units,
                units * it.price,
            ));
        }
    }
    let shape = Shape::Csv(csv(r, ';', Enc::Utf8));
    Layout {
        name: "believe",
        about: "Believe-style sales report (semicolons with decimal points, YYYYMM months)",
        file: format!("Believe_{}_sales.csv", p.yyyymm()),
        table: t,
        shape,
        mapping: Some(
            r#"name = "believe"
description = "Believe physical sales report"
delimiter = ";"
date_format = "%Y%m"
[columns]
sku = ["UPC", "Catalog number"]
memo = ["Artist", "Release title", "Platform"]
[statement]
distributor = "believe"
currency = { column = "Currency" }
period_start = { column = "Sales Month" }
period_end = { column = "Sales Month", end_of_month = true }
issued_on = { column = "Reporting Month" }
statement_id = { template = "BLV-{period_start}" }
[[lines]]
kind = "sale"
amount = "Net revenue"
units = "Quantity"
sign = "net"
"#
            .into(),
        ),
        args: Vec::new(),
        meant: Meant {
            id: format!("BLV-{}", p.start()),
            distributor: "believe",
            currency: "EUR",
            start: p.start(),
            end: p.end(),
            issued: iso(iy, im, 1),
            facts,
        },
        amount_col: Some("Net revenue"),
    }
}

/// A headerless export from a small distributor's system: date, code, UPC, units,
/// amount, memo; fee lines without a UPC.
fn headerless(r: &mut Rng, p: Period, cat: &[Item]) -> Layout {
    let mut t = Table::default();
    let mut facts = Vec::new();
    let mut total = 0;
    for it in pick_items(r, cat, 2, 6, &US) {
        let sold = qty(r);
        total += sold * it.price;
        t.data(vec![
            s(iso(p.year, p.month, day(r, p))),
            s("S"),
            s(&it.upc),
            s(sold),
            s(plain(sold * it.price)),
            s(it.title),
        ]);
        facts.push(fact("sale", it.sku, sold, sold * it.price));
        if r.chance(30) {
            let back = r.range(1, 6);
            total -= back * it.price;
            t.data(vec![
                s(iso(p.year, p.month, day(r, p))),
                s("R"),
                s(&it.upc),
                s(back),
                s(plain(back * it.price)),
                s(it.title),
            ]);
            facts.push(fact("return", it.sku, back, back * it.price));
        }
    }
    let fee = pct(total, 17);
    t.data(vec![
        s(iso(p.year, p.month, p.last())),
        s("F"),
        V::E,
        V::E,
        s(plain(fee)),
        s("distribution fee"),
    ]);
    facts.push(fact("fee", "", 0, fee));
    let id = format!("BS-{}", p.yyyymm());
    let shape = Shape::Csv(csv(r, ',', Enc::Utf8));
    Layout {
        name: "bigstar",
        about: "headerless export (columns by number)",
        file: format!("bigstar{}.csv", p.yyyymm()),
        table: t,
        shape,
        mapping: Some(
            r#"name = "bigstar"
description = "Big Star One-Stop headerless export"
header_row = 0
[columns]
sku = [3]
date = 1
memo = [6]
[kind_column]
column = 2
[kind_column.codes]
S = "sale"
R = "return"
F = "fee"
[statement]
distributor = "bigstar"
currency = "USD"
period_start = { from_dates = "month" }
period_end = { from_dates = "month" }
[[lines]]
amount = 5
units = 4
"#
            .into(),
        ),
        args: args(&["--statement-id", &id, "--issued-on", &p.issued_iso()]),
        meant: Meant {
            id,
            distributor: "bigstar",
            currency: "USD",
            start: p.start(),
            end: p.end(),
            issued: p.issued_iso(),
            facts,
        },
        amount_col: None,
    }
}

/// Cargo Records (UK) as Excel's "Unicode Text": UTF-16LE with a byte-order mark,
/// tab-separated, CRLF, two title lines, `31-Mar-16` dates, `£` amounts.
fn cargo_uk(r: &mut Rng, p: Period, cat: &[Item]) -> Layout {
    let mut t = Table::default();
    t.text(&["Cargo Records (UK) Ltd"]);
    t.text(&["Label sales report — Marigold Records"]);
    t.header(&[
        "Week Ending",
        "Cat No",
        "Barcode",
        "Artist",
        "Title",
        "Qty",
        "Value",
        "Type",
    ]);
    let mut facts = Vec::new();
    for it in pick_items(r, cat, 2, 7, &ALL) {
        for _ in 0..r.range(1, 3) {
            let ret = r.chance(20);
            let units = if ret { r.range(1, 4) } else { r.range(1, 200) };
            t.data(vec![
                s(date(p.year, p.month, day(r, p), "%d-%b-%y")),
                s(it.sku),
                s(&it.upc),
                s(it.artist),
                s(it.title),
                s(units),
                s(money(units * it.price, "£", Neg::Minus)),
                s(if ret { "Return" } else { "Sale" }),
            ]);
            facts.push(fact(
                if ret { "return" } else { "sale" },
                it.sku,
                units,
                units * it.price,
            ));
        }
    }
    Layout {
        name: "cargo-uk",
        about: "Cargo Records UK sales report saved as Excel Unicode Text (UTF-16, tabs)",
        file: format!("cargo_{}.txt", p.yyyymm()),
        table: t,
        shape: Shape::Csv(CsvStyle {
            delim: '\t',
            crlf: true,
            quote_all: false,
            enc: Enc::Utf16Le,
        }),
        mapping: Some(
            r#"name = "cargo-uk"
description = "Cargo Records UK sales report (Unicode Text)"
delimiter = "tab"
header_row = 3
date_format = "%d-%b-%y"
[columns]
sku = ["Barcode", "Cat No"]
date = "Week Ending"
memo = ["Artist", "Title"]
[kind_column]
column = "Type"
[kind_column.codes]
Sale = "sale"
Return = "return"
[statement]
distributor = "cargo-uk"
currency = "GBP"
period_start = { from_dates = "month" }
period_end = { from_dates = "month" }
statement_id = { template = "CARGO-{period_end}" }
[[lines]]
amount = "Value"
units = "Qty"
"#
            .into(),
        ),
        args: args(&["--issued-on", &p.issued_iso()]),
        meant: Meant {
            id: format!("CARGO-{}", p.end()),
            distributor: "cargo-uk",
            currency: "GBP",
            start: p.start(),
            end: p.end(),
            issued: p.issued_iso(),
            facts,
        },
        amount_col: Some("Value"),
    }
}

/// A header on two rows: `Sales` and `Returns` above the same `Qty`, `Value`
/// sub-headers; the mapping names those columns by number.
fn southbound(r: &mut Rng, p: Period, cat: &[Item]) -> Layout {
    let mut t = Table::default();
    t.text(&["", "", "", "", "Sales", "", "Returns", "", "", ""]);
    t.header(&[
        "UPC", "Cat No", "Artist", "Title", "Qty", "Value", "Qty", "Value", "Fee", "Net",
    ]);
    let mut facts = Vec::new();
    for it in pick_items(r, cat, 2, 7, &US) {
        let sold = qty(r);
        let back = if r.chance(40) { r.range(1, 9) } else { 0 };
        let gross = sold * it.price;
        let ret = back * it.price;
        let fee = pct(gross - ret, 20);
        t.data(vec![
            s(&it.upc),
            s(it.sku),
            s(it.artist),
            s(it.title),
            s(sold),
            s(plain(gross)),
            s(back),
            s(plain(ret)),
            s(plain(fee)),
            s(plain(gross - ret - fee)),
        ]);
        facts.push(fact("sale", it.sku, sold, gross));
        if back > 0 {
            facts.push(fact("return", it.sku, back, ret));
        }
        facts.push(fee_fact(it.sku, fee));
    }
    let id = format!("SB-{}", p.yyyymm());
    let enc = utf8(r);
    let shape = Shape::Csv(csv(r, ',', enc));
    Layout {
        name: "southbound",
        about: "a two-row header (Sales / Returns over Qty, Value)",
        file: format!("southbound-{}.csv", p.yyyymm()),
        table: t,
        shape,
        mapping: Some(
            r#"name = "southbound"
description = "Southbound statement, two header rows"
header_row = 2
[columns]
sku = ["UPC", "Cat No"]
memo = ["Artist", "Title"]
[statement]
distributor = "southbound"
currency = "USD"
[[lines]]
kind = "sale"
amount = 6
units = 5
[[lines]]
kind = "return"
amount = 8
units = 7
[[lines]]
kind = "fee"
amount = "Fee"
"#
            .into(),
        ),
        args: args(&[
            "--statement-id",
            &id,
            "--period-start",
            &p.start(),
            "--period-end",
            &p.end(),
            "--issued-on",
            &p.issued_iso(),
        ]),
        meant: Meant {
            id,
            distributor: "southbound",
            currency: "USD",
            start: p.start(),
            end: p.end(),
            issued: p.issued_iso(),
            facts,
        },
        amount_col: Some("Fee"),
    }
}

/// The US physical distributor layout backstock ships a mapping for
/// (`indie-dist-us`): header block, `$` columns with returns and fees in
/// parentheses, reserve lines and a TOTAL line.
fn harborlane(r: &mut Rng, p: Period, cat: &[Item]) -> Layout {
    let mut t = Table::default();
    let id = format!("HLD-{}-{:04}", p.yyyymm(), r.range(1, 9999));
    let (iy, im, idd) = p.issued();
    t.text(&["Harbor Lane Distribution, LLC"]);
    t.text(&["Label Sales Statement"]);
    t.text(&["Statement No:", &id]);
    t.text(&["Label:", "Marigold Records (Acct 20931)"]);
    t.text(&[
        "Statement Period:",
        &format!(
            "{} - {}",
            date(p.year, p.month, 1, "%m/%d/%Y"),
            date(p.year, p.month, p.last(), "%m/%d/%Y")
        ),
    ]);
    t.text(&["Statement Date:", &date(iy, im, idd, "%m/%d/%Y")]);
    t.text(&["Currency:", "USD"]);
    t.blank();
    t.header(&[
        "UPC",
        "Catalog #",
        "Artist",
        "Title",
        "Format",
        "Units Sold",
        "Units Returned",
        "Net Units",
        "Gross Sales $",
        "Returns $",
        "Dist Fee $",
        "Net $",
    ]);
    let mut facts = Vec::new();
    let mut net_sales = 0;
    for it in pick_items(r, cat, 3, 7, &US) {
        let sold = qty(r);
        let back = if r.chance(35) { r.range(1, 12) } else { 0 };
        let gross = sold * it.price;
        let ret = back * it.price;
        let fee = pct(gross - ret, 20);
        net_sales += gross - ret;
        t.data(vec![
            s(&it.upc),
            s(it.sku),
            s(it.artist),
            s(it.title),
            s(it.format),
            s(units_grouped(sold, ",")),
            s(back),
            s(units_grouped(sold - back, ",")),
            s(money(gross, "$", Neg::Parens)),
            s(money(-ret, "$", Neg::Parens)),
            s(money(-fee, "$", Neg::Parens)),
            s(money(gross - ret - fee, "$", Neg::Parens)),
        ]);
        facts.push(fact("sale", it.sku, sold, gross));
        if back > 0 {
            facts.push(fact("return", it.sku, back, ret));
        }
        facts.push(fee_fact(it.sku, fee));
    }
    t.blank();
    let withheld = pct(net_sales, 15);
    let mut reserve = vec![V::E; 12];
    reserve[0] = s("Reserve for Returns Withheld (15% of net sales)");
    reserve[11] = s(money(-withheld, "$", Neg::Parens));
    t.data(reserve);
    facts.push(fact("reserve_withheld", "", 0, withheld));
    if r.chance(60) {
        let released = r.range(10_000, 300_000);
        let mut row = vec![V::E; 12];
        row[0] = s("Reserve Released (prior statement)");
        row[11] = s(money(released, "$", Neg::Parens));
        t.data(row);
        facts.push(fact("reserve_released", "", 0, released));
    }
    t.text(&["TOTAL", "", "", "", "", "", "", "", "", "", "", "see above"]);
    t.blank();
    t.text(&["Payment terms: net 60 days from statement date."]);
    let enc = utf8(r);
    let shape = Shape::Csv(csv(r, ',', enc));
    Layout {
        name: "indie-dist-us",
        about: "US physical distributor statement (shipped mapping indie-dist-us)",
        file: format!("harborlane_{}.csv", p.yyyymm()),
        table: t,
        shape,
        mapping: None,
        args: args(&["--distributor", "harborlane"]),
        meant: Meant {
            id,
            distributor: "harborlane",
            currency: "USD",
            start: p.start(),
            end: p.end(),
            issued: p.issued_iso(),
            facts,
        },
        amount_col: Some("Gross Sales $"),
    }
}

// ---------------------------------------------------------------------------------
// The label's reference data for these distributors

pub fn distributors_csv(layouts: &[Layout]) -> String {
    let mut s = String::from("distributor,legal_name,state_of_organization,agreement_start,fee_rate,payment_terms_days,statement_frequency,reserve_rate,reserve_release_days,credit_limit,currency,title_retained,ucc1_file_number,ucc1_filed_on,ucc1_state\n");
    for l in layouts {
        s.push_str(&format!(
            "{d},{d} distribution,DE,2015-01-01,0.20,60,monthly,0.10,180,1000000.00,{c},false,,,\n",
            d = l.meant.distributor,
            c = l.meant.currency
        ));
    }
    s
}

/// Units shipped to every distributor, of every item, before the statements.
pub const SHIPPED: i64 = 20_000;

/// Made at a plant, then consigned to each distributor.
pub fn shipments_csv(layouts: &[Layout], cat: &[Item]) -> String {
    let mut s = String::from("shipment_id,date,from,to,sku,units,po_number\n");
    for it in cat {
        s.push_str(&format!(
            "MFG-1,2015-10-01,plant:acme,label,{},{},\n",
            it.sku,
            SHIPPED * layouts.len() as i64
        ));
    }
    for (i, l) in layouts.iter().enumerate() {
        for it in cat {
            s.push_str(&format!(
                "SH-{i},2015-11-02,label,{},{},{SHIPPED},\n",
                l.meant.distributor, it.sku
            ));
        }
    }
    s
}

/// What every layout means, as one canonical statements.csv.
pub fn canonical_csv(layouts: &[Layout]) -> String {
    let mut s = String::from(
        "statement_id,distributor,period_start,period_end,issued_on,kind,sku,units,amount,currency,memo\n",
    );
    for l in layouts {
        s.push_str(&l.meant.canonical());
    }
    s
}
