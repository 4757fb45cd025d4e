//! The canonical CSV formats (documented in `docs/formats.md`).

use crate::error::{Errors, LineError};
use crate::{Context, Kind, Parsed};
use backstock_domain::{Currency, Date, DomainError, Money, PartyId, PartyKind, Rate, Sku, Upc};
use backstock_ledger::facts::{
    Agreement, CatalogItem, PartyRecord, PaymentMonths, PurchaseOrder, StatementFrequency,
    StockReport, StockReportSource, Ucc1Filing,
};
use backstock_ledger::{
    Entry, EntryId, Event, Fact, LineKind, Provenance, Statement, StatementLine,
};
use rustc_hash::FxHashMap;
use std::collections::BTreeMap;
use std::io::Read;

/// The columns of each canonical kind, in order.
/// The position of a column a file left out ([`optional`]): no record has a value there.
pub(crate) const ABSENT: usize = usize::MAX;

/// Columns a file may leave out (every line then has them empty): the free-text memo,
/// and the references the formats allow to be empty.
pub fn optional(kind: Kind, column: &str) -> bool {
    matches!(
        (kind, column),
        (Kind::Statements, "memo")
            | (Kind::Shipments, "po_number")
            | (Kind::Payments, "statement_id")
            | (Kind::Distributors, "payment_months")
    )
}

pub fn columns(kind: Kind) -> &'static [&'static str] {
    match kind {
        Kind::Catalog => &[
            "sku",
            "upc",
            "title",
            "artist",
            "format",
            "release_date",
            "list_price",
            "wholesale_price",
            "unit_cost",
            "currency",
        ],
        Kind::Distributors => &[
            "distributor",
            "legal_name",
            "state_of_organization",
            "agreement_start",
            "fee_rate",
            "payment_terms_days",
            "statement_frequency",
            "reserve_rate",
            "reserve_release_days",
            "credit_limit",
            "currency",
            "title_retained",
            "ucc1_file_number",
            "ucc1_filed_on",
            "ucc1_state",
            "payment_months",
        ],
        Kind::PurchaseOrders => &["po_number", "date", "distributor", "sku", "units"],
        Kind::Shipments => &[
            "shipment_id",
            "date",
            "from",
            "to",
            "sku",
            "units",
            "po_number",
        ],
        Kind::Statements => &[
            "statement_id",
            "distributor",
            "period_start",
            "period_end",
            "issued_on",
            "kind",
            "sku",
            "units",
            "amount",
            "currency",
            "memo",
        ],
        Kind::StockReports => &["distributor", "as_of", "sku", "units_on_hand"],
        Kind::Opening => &[
            "record",
            "date",
            "party",
            "sku",
            "units",
            "statement_id",
            "period_end",
            "amount",
            "currency",
        ],
        Kind::Payments => &[
            "payment_id",
            "date",
            "distributor",
            "amount",
            "currency",
            "statement_id",
        ],
        Kind::X12 | Kind::Dsr => &[],
    }
}

/// A row being read: the cells, its line, and where to put errors.
pub(crate) struct Row<'a> {
    pub(crate) rec: &'a csv::StringRecord,
    pub(crate) line: u64,
    pub(crate) idx: &'a [usize],
    pub(crate) names: &'static [&'static str],
    /// The header's number of columns (`usize::MAX` where a line is never too wide).
    pub(crate) width: usize,
}

impl<'a> Row<'a> {
    fn raw(&self, col: usize) -> &'a str {
        self.rec.get(self.idx[col]).unwrap_or("").trim()
    }
    /// The checks of a statement line beyond its cells, the same for the importer and
    /// for the lines read one by one: sales and returns name an item, and the period
    /// ends on or after its start. Errors go to `errs`; `false` when one failed.
    fn statement_line_holds(
        &self,
        kind: LineKind,
        has_item: bool,
        ps: Date,
        pe: Date,
        errs: &mut Errors,
    ) -> bool {
        if matches!(kind, LineKind::Sale | LineKind::Return) && !has_item {
            errs.push(self.err(6, "", "a SKU or UPC on sale and return lines"));
            return false;
        }
        if pe < ps {
            errs.push(self.err(
                3,
                &pe.to_string(),
                format!("a period end on or after the period start {ps}"),
            ));
            return false;
        }
        true
    }
    /// Only adjustment lines are signed: a sale of −3 units or a fee of −5.00 would
    /// move stock or money the wrong way without a word (a return is a line of its
    /// own kind, a credit an adjustment).
    fn statement_signs_hold(
        &self,
        kind: LineKind,
        units: i64,
        amount: &Money,
        errs: &mut Errors,
    ) -> bool {
        if kind == LineKind::Adjustment {
            return true;
        }
        let what = match kind {
            LineKind::Sale => "a sale line (units sold back are a line of kind return)",
            LineKind::Return => "a return line (returns are counted as positive units)",
            _ => "this kind of line (only adjustment lines are signed)",
        };
        let mut holds = true;
        if units < 0 {
            errs.push(self.err(
                7,
                self.raw(7),
                format!("a number of units of 0 or more on {what}"),
            ));
            holds = false;
        }
        if amount.minor() < 0 {
            errs.push(self.err(
                8,
                self.raw(8),
                format!("an amount of 0 or more on {what}; a credit to the distributor is an adjustment line with a negative amount"),
            ));
            holds = false;
        }
        holds
    }
    /// The header name of the record's 0-based position `at`, when it is one of the
    /// kind's columns.
    fn name_at(&self, at: usize) -> Option<String> {
        self.idx
            .iter()
            .position(|&c| c == at)
            .map(|j| self.names[j].to_string())
    }
    /// The one error of a line whose values cannot be taken column by column: a value
    /// running over several lines ([`value_over_lines`]) or a number split by its
    /// thousands comma ([`split_number`]).
    pub(crate) fn misshapen(&self) -> Option<LineError> {
        nul_bytes(self.rec, self.line)
            .or_else(|| value_over_lines(self.rec, self.width, self.line, |at| self.name_at(at)))
            .or_else(|| too_many_values(self.rec, self.width, self.line, |at| self.name_at(at)))
    }
    fn err(&self, col: usize, found: &str, expected: impl Into<String>) -> LineError {
        LineError {
            line: self.line,
            column: self.idx[col]
                .checked_add(1)
                .map(|n| (n, self.names[col].to_string())),
            found: found.to_string(),
            expected: expected.into(),
        }
    }
    fn get<T>(
        &self,
        col: usize,
        errs: &mut Errors,
        f: impl FnOnce(&str) -> Result<T, DomainError>,
    ) -> Option<T> {
        let v = self.raw(col);
        match f(v) {
            Ok(t) => Some(t),
            Err(e) => {
                errs.push(self.err(col, v, e.expected()));
                None
            }
        }
    }
    fn text(&self, col: usize, errs: &mut Errors, max: usize) -> Option<String> {
        let v = self.raw(col);
        if v.is_empty() || v.chars().count() > max {
            errs.push(self.err(col, v, format!("text of 1-{max} characters")));
            return None;
        }
        Some(v.to_string())
    }
    fn opt<T>(
        &self,
        col: usize,
        errs: &mut Errors,
        f: impl FnOnce(&str) -> Result<T, DomainError>,
    ) -> Option<Option<T>> {
        if self.raw(col).is_empty() {
            return Some(None);
        }
        self.get(col, errs, f).map(Some)
    }
}

/// A value holding lines of the file that look like records of it: a double quote
/// opened it and nothing closed it where the writer meant (`…,USD,"Deluxe`, and the
/// lines after it swallowed into the memo). The file would import short without a word,
/// so this is refused, naming where the value starts. A note written on several lines
/// (quoted, with no line in it that looks like a record) is the writer's own and read.
/// A line looks like a record when it holds half as many commas as the header has
/// columns (a whole record's worth, up to four, in a narrow file) — a swallowed line,
/// or its part before the next quote, which ends the value — or at least two while the
/// record does not have the header's columns (what was swallowed shifted them); a
/// note's own second line — an address, "Raleigh, NC, USA", in a record with every
/// column in place — is neither. `width`: the header's columns (`usize::MAX` when
/// unknown: the record's own count stands for it). `None` when no value is such.
pub fn value_over_lines(
    rec: &csv::StringRecord,
    width: usize,
    line: u64,
    name_at: impl Fn(usize) -> Option<String>,
) -> Option<LineError> {
    let at = rec.iter().position(|v| {
        v.contains(['\n', '\r'])
            && v.lines()
                .skip(1)
                .any(|l| swallows_a_record(l.matches(',').count(), rec.len(), width))
    })?;
    let v = &rec[at];
    let lines = v.trim_end_matches(['\n', '\r']).split('\n').count();
    let mut start: String = v.lines().next().unwrap_or("").chars().take(40).collect();
    start.push('…');
    Some(LineError {
        line,
        column: Some((at + 1, name_at(at).unwrap_or_else(|| "?".into()))),
        found: format!(
            "a value starting {start:?} that runs over {lines} lines of the file, taking in lines that look like records"
        ),
        expected: format!(
            "a value on one line: a double quote (\") opens this value and nothing closes it before line {} — remove the stray quote, or close it on its line",
            line + lines as u64 - 1
        ),
    })
}

/// Whether a continuation line with `separators` separators, in a record of
/// `fields` values under a header of `width` columns, looks like a swallowed record
/// (see [`value_over_lines`]).
pub fn swallows_a_record(separators: usize, fields: usize, width: usize) -> bool {
    let width = if width == usize::MAX || width == 0 {
        fields
    } else {
        width
    };
    // Half the columns of a wide file; of a narrow one (payees: 4 columns) a whole
    // record's worth up to four, so an address's "Raleigh, NC, USA" is not one.
    let whole = width.saturating_sub(1);
    let threshold = (whole / 2).max(whole.min(4)).max(2);
    separators >= threshold || (separators >= 2 && fields != width)
}

/// A line holding NUL bytes (binary zeros: a file padded or damaged in a copy, or
/// saved as UTF-16): said as such, not as its columns being empty.
fn nul_bytes(rec: &csv::StringRecord, line: u64) -> Option<LineError> {
    let n: usize = rec
        .iter()
        .map(|v| v.bytes().filter(|b| *b == 0).count())
        .sum();
    (n > 0).then(|| LineError {
        line,
        column: None,
        found: format!("{n} NUL byte{} (binary zeros)", if n == 1 { "" } else { "s" }),
        expected: "text: the file is damaged or padded with zeros, or saved as UTF-16 — save it again as CSV (UTF-8) from the spreadsheet, or remove the line".into(),
    })
}

/// A line with more values than its header has columns (`width`), unless every value
/// past the last column is empty and nothing moved (a trailing comma on each row is
/// harmless; see the body for how a moved currency code tells them apart). A number
/// split by its thousands comma is named as such ([`split_number`]); any other extra
/// value (a decimal comma, `1326,48`; an unquoted note, `Smith, John`) would shift or be
/// dropped without a word, so the line is refused, naming the first value with no
/// column. `name_at` gives the header name of a 0-based position.
pub fn too_many_values(
    rec: &csv::StringRecord,
    width: usize,
    line: u64,
    name_at: impl Fn(usize) -> Option<String>,
) -> Option<LineError> {
    if rec.len() <= width {
        return None;
    }
    if rec.iter().skip(width).all(|v| v.trim().is_empty()) {
        // Empty values past the end: a trailing comma on the row (read as nothing), or
        // a number split by its thousands comma that pushed an empty last value out
        // (`…,1,234.00,USD,` with no memo). The currency code says which: under
        // `currency` as written, or one column on.
        let code = |v: Option<&str>| {
            v.map(str::trim)
                .is_some_and(|v| v.len() == 3 && v.bytes().all(|b| b.is_ascii_uppercase()))
        };
        let shifted = (0..width)
            .find(|&i| name_at(i).as_deref() == Some("currency"))
            .is_some_and(|c| !code(rec.get(c)) && code(rec.get(c + 1)));
        return if shifted {
            split_number(rec, width, line, &name_at)
        } else {
            None
        };
    }
    if let Some(e) = split_number(rec, width, line, &name_at) {
        return Some(e);
    }
    let (at, extra) = rec
        .iter()
        .enumerate()
        .skip(width)
        .find(|(_, v)| !v.trim().is_empty())?;
    let last = width
        .checked_sub(1)
        .and_then(&name_at)
        .unwrap_or_else(|| "?".into());
    Some(LineError {
        line,
        column: Some((at + 1, format!("none: the header ends at {last}"))),
        found: format!(
            "{:?} (the line has {} values, the header {} columns)",
            extra.trim(),
            rec.len(),
            width
        ),
        expected: "one value per column: a value holding a comma (a note such as \"Smith, John\", a number with a decimal comma such as 1326,48) goes in double quotes, or is written without the comma (1326.48)".into(),
    })
}

/// A line with more values than its header has columns (`width`) because a number was
/// written with a thousands comma (`…,1,234.00,USD,…`): every value after
/// it has moved one column on, so the errors of those columns would mislead. This is the
/// one error to give instead, naming the number; `None` when the line is not that.
/// `name_at` gives the header name of a 0-based position.
pub fn split_number(
    rec: &csv::StringRecord,
    width: usize,
    line: u64,
    name_at: impl Fn(usize) -> Option<String>,
) -> Option<LineError> {
    if rec.len() <= width {
        return None;
    }
    let whole = |v: &str| {
        let d = v.strip_prefix(['-', '+']).unwrap_or(v);
        (1..=3).contains(&d.len()) && d.bytes().all(|b| b.is_ascii_digit())
    };
    let thousands = |v: &str| {
        let (int, frac) = v.split_once('.').unwrap_or((v, ""));
        int.len() == 3
            && int.bytes().all(|b| b.is_ascii_digit())
            && frac.bytes().all(|b| b.is_ascii_digit())
    };
    let at = (0..rec.len().saturating_sub(1))
        .find(|&i| whole(rec[i].trim()) && thousands(rec[i + 1].trim()))?;
    let (a, b) = (rec[at].trim(), rec[at + 1].trim());
    Some(LineError {
        line,
        column: Some((at + 1, name_at(at).unwrap_or_else(|| "?".into()))),
        found: format!(
            "{a},{b} (the line has {} values, the header {} columns)",
            rec.len(),
            width
        ),
        expected: format!(
            "one value per column: write the number without its thousands comma ({a}{b}), as docs/formats.md says of amounts"
        ),
    })
}

fn units(s: &str) -> Result<u64, DomainError> {
    s.parse::<u64>()
        .ok()
        .filter(|u| *u > 0 && *u <= 1_000_000_000)
        .ok_or_else(|| DomainError::new(s, "a whole number of units from 1 to 1,000,000,000"))
}

/// A fee or reserve rate: a share of what is sold, at most all of it (`1`, `100%`).
fn share(s: &str) -> Result<Rate, DomainError> {
    let r = Rate::parse(s)?;
    if r.ppm() > 1_000_000 {
        return Err(DomainError::new(
            s,
            "a share of at most 1 (100%), written as a decimal such as 0.22 (or 22%)",
        ));
    }
    Ok(r)
}

/// A price, cost or limit: zero or more (a negative price would value stock below
/// nothing and charge artists for sales).
fn not_negative(m: Result<Money, DomainError>, s: &str) -> Result<Money, DomainError> {
    let m = m?;
    if m.minor() < 0 {
        return Err(DomainError::new(s, "an amount of zero or more"));
    }
    Ok(m)
}

/// A stock report's count: a blank cell is "not counted", never 0 on hand (which would
/// read as a shortfall of every unit shipped).
fn counted_units(s: &str) -> Result<i64, DomainError> {
    if s.is_empty() {
        return Err(DomainError::new(
            s,
            "the units on hand counted (write 0 when there are none; leave the SKU's line out when it was not counted)",
        ));
    }
    signed_units(s)
}

fn signed_units(s: &str) -> Result<i64, DomainError> {
    if s.is_empty() {
        return Ok(0);
    }
    s.parse::<i64>()
        .ok()
        .filter(|u| u.unsigned_abs() <= 1_000_000_000)
        .ok_or_else(|| {
            DomainError::new(
                s,
                "a whole number of units of at most 1,000,000,000 (empty is 0; only an adjustment line may be negative)",
            )
        })
}

fn days(s: &str) -> Result<u32, DomainError> {
    s.parse::<u32>()
        .ok()
        .filter(|d| *d <= 3650)
        .ok_or_else(|| DomainError::new(s, "a whole number of days from 0 to 3650"))
}

fn boolean(s: &str) -> Result<bool, DomainError> {
    match s.to_ascii_lowercase().as_str() {
        "true" | "yes" | "1" => Ok(true),
        "false" | "no" | "0" => Ok(false),
        _ => Err(DomainError::new(s, "true or false")),
    }
}

fn frequency(s: &str) -> Result<StatementFrequency, DomainError> {
    match s.to_ascii_lowercase().as_str() {
        "monthly" => Ok(StatementFrequency::Monthly),
        "quarterly" => Ok(StatementFrequency::Quarterly),
        _ => Err(DomainError::new(s, "monthly or quarterly")),
    }
}

fn entry(
    ctx: &Context,
    id: String,
    on: Date,
    known: Date,
    line: u64,
    event: Event,
) -> Option<Entry> {
    let id = EntryId::new(id).ok()?;
    Some(Entry {
        id,
        effective_on: on,
        known_on: known,
        provenance: Provenance::File {
            sha256: ctx.file_sha256.clone(),
            name: ctx.file_name.clone(),
            first_line: line,
            last_line: line,
        },
        event,
    })
}

impl Context {
    fn sku(
        &self,
        row: &Row,
        col: usize,
        errs: &mut Errors,
        unknown: &mut BTreeMap<String, u64>,
        code_column: &mut Option<(usize, String)>,
    ) -> Option<Sku> {
        let v = row.raw(col);
        if let Some(s) = self.resolve_code(v) {
            return Some(s);
        }
        match Sku::parse(v) {
            Ok(_) => {
                unknown.entry(v.to_string()).or_insert(row.line);
                code_column.get_or_insert_with(|| (row.idx[col] + 1, row.names[col].to_string()));
                None
            }
            Err(e) => {
                errs.push(row.err(col, v, e.expected()));
                None
            }
        }
    }

    fn distributor(&self, row: &Row, col: usize, errs: &mut Errors) -> Option<PartyId> {
        let v = row.raw(col);
        match PartyId::parse(v) {
            Ok(p) if self.distributors.contains_key(p.as_str()) => Some(p),
            Ok(_) => {
                errs.push(row.err(
                    col,
                    v,
                    "a distributor named in distributors.csv (import that file first)".to_string(),
                ));
                None
            }
            Err(e) => {
                errs.push(row.err(col, v, e.expected()));
                None
            }
        }
    }

    /// A holder for shipments: `label`, `plant:NAME`, or a known distributor.
    fn holder(&self, row: &Row, col: usize, errs: &mut Errors) -> Option<PartyId> {
        let v = row.raw(col);
        match PartyId::parse(v) {
            Ok(p)
                if p.is_label()
                    || p.as_str().starts_with("plant:")
                    || self.distributors.contains_key(p.as_str()) =>
            {
                Some(p)
            }
            _ => {
                errs.push(row.err(
                    col,
                    v,
                    "label, plant:NAME or a distributor named in distributors.csv",
                ));
                None
            }
        }
    }
}

/// Reads a canonical file of `kind`.
pub fn read(kind: Kind, input: impl Read, ctx: &Context) -> Result<Parsed, Errors> {
    let breaks = std::rc::Rc::new(std::cell::RefCell::new(LineBreaks::default()));
    let mut rdr = csv::ReaderBuilder::new()
        .flexible(true)
        .has_headers(true)
        .from_reader(Noted {
            inner: input,
            breaks: breaks.clone(),
        });
    let line_at = |p: &csv::Position| breaks.borrow_mut().line_at(p.byte());
    let mut errs = Errors::default();
    let names = columns(kind);
    if names.is_empty() {
        errs.push(LineError {
            line: 1,
            column: None,
            found: kind.as_str().into(),
            expected: "a canonical CSV kind (EDI and DSR files are read by their own readers)"
                .into(),
        });
        return Err(errs);
    }
    let headers = match rdr.headers() {
        Ok(h) => h.clone(),
        Err(e) => {
            errs.push(LineError {
                line: 1,
                column: None,
                found: e.to_string(),
                expected: "a UTF-8 or Windows-1252 CSV file with a header row".into(),
            });
            return Err(errs);
        }
    };
    let idx = column_index(kind, &headers)?;
    let mut parsed = Parsed::new(kind);
    let mut state = KindState::default();
    if kind == Kind::Statements {
        read_statements(
            Lines {
                rdr: &mut rdr,
                line_at: &line_at,
                width: headers.len(),
            },
            &idx,
            names,
            ctx,
            &mut errs,
            &mut parsed,
            &mut state,
        );
    } else {
        let mut rec = csv::StringRecord::new();
        loop {
            let line = line_at(rdr.position());
            match rdr.read_record(&mut rec) {
                Ok(false) => break,
                Ok(true) => {}
                Err(e) => {
                    errs.push(csv_error(&e, e.position().map_or(line, &line_at)));
                    if errs.truncated {
                        break;
                    }
                    continue;
                }
            }
            if rec.iter().all(|c| c.trim().is_empty()) {
                continue;
            }
            parsed.lines += 1;
            let row = Row {
                rec: &rec,
                line: rec.position().map_or(line, &line_at),
                idx: &idx,
                names,
                width: headers.len(),
            };
            row_of(kind, &row, ctx, &mut errs, &mut parsed, &mut state);
            if errs.truncated {
                break;
            }
        }
    }
    conclude(kind, ctx, errs, parsed, state)
}

/// Reads a canonical statements file line by line, giving each statement line to
/// `sink` (what [`read`] adds up per statement × SKU × kind). Each line is checked as
/// [`read`] checks it; a line with a code the catalog does not know is given with no
/// SKU (the importer holds such lines with `--hold-unmatched`). Returns the number of
/// data lines, or every problem found (no line is given after the first problem).
pub fn statement_lines(
    input: impl Read,
    ctx: &Context,
    sink: &mut crate::lines::Sink<'_>,
) -> Result<u64, Errors> {
    let breaks = std::rc::Rc::new(std::cell::RefCell::new(LineBreaks::default()));
    let mut rdr = csv::ReaderBuilder::new()
        .flexible(true)
        .has_headers(true)
        .from_reader(Noted {
            inner: input,
            breaks: breaks.clone(),
        });
    let line_at = |p: &csv::Position| breaks.borrow_mut().line_at(p.byte());
    let mut errs = Errors::default();
    let names = columns(Kind::Statements);
    let headers = match rdr.headers() {
        Ok(h) => h.clone(),
        Err(e) => {
            errs.push(LineError {
                line: 1,
                column: None,
                found: e.to_string(),
                expected: "a UTF-8 CSV statements file with a header row".into(),
            });
            return Err(errs);
        }
    };
    let idx = column_index(Kind::Statements, &headers)?;
    let mut rec = csv::StringRecord::new();
    let mut lines = 0u64;
    let mut unknown = BTreeMap::new();
    // Statement id → its header values (every line of a statement must repeat them).
    let mut heads: FxHashMap<String, (PartyId, Date, Date, Date, Currency, u64)> =
        FxHashMap::default();
    loop {
        let line = line_at(rdr.position());
        match rdr.read_record(&mut rec) {
            Ok(false) => break,
            Ok(true) => {}
            Err(e) => {
                errs.push(csv_error(&e, e.position().map_or(line, &line_at)));
                if errs.truncated {
                    break;
                }
                continue;
            }
        }
        if rec.iter().all(|c| c.trim().is_empty()) {
            continue;
        }
        lines += 1;
        let r = Row {
            rec: &rec,
            line: rec.position().map_or(line, &line_at),
            idx: &idx,
            names,
            width: headers.len(),
        };
        if let Some(e) = r.misshapen() {
            errs.push(e);
            continue;
        }
        let sid = r.raw(0);
        if sid.is_empty() || sid.len() > 100 {
            errs.push(r.err(0, sid, "a statement id of 1-100 characters"));
            continue;
        }
        let dist = ctx.distributor(&r, 1, &mut errs);
        let ps = r.get(2, &mut errs, Date::parse);
        let pe = r.get(3, &mut errs, Date::parse);
        let issued = r.get(4, &mut errs, Date::parse);
        let kind = r.get(5, &mut errs, |s| {
            LineKind::parse(&s.to_ascii_lowercase()).ok_or_else(|| {
                DomainError::new(
                    s,
                    "sale, return, fee, reserve_withheld, reserve_released, chargeback or adjustment",
                )
            })
        });
        let n = r.get(7, &mut errs, signed_units);
        let Some(cur) = r.get(9, &mut errs, Currency::parse) else {
            continue;
        };
        let amount = r.get(8, &mut errs, |s| Money::parse(s, cur));
        let code = r.raw(6);
        let sku = if code.is_empty() {
            Some(None)
        } else if let Some(s) = ctx.resolve_code(code) {
            Some(Some(s))
        } else if Sku::parse(code).is_ok() {
            // Unknown to the catalog: given without a SKU (held at import).
            unknown.entry(code.to_string()).or_insert(r.line);
            Some(None)
        } else {
            let _ = ctx.sku(&r, 6, &mut errs, &mut unknown, &mut None);
            None
        };
        let (
            Some(dist),
            Some(ps),
            Some(pe),
            Some(issued),
            Some(kind),
            Some(n),
            Some(amount),
            Some(sku),
        ) = (dist, ps, pe, issued, kind, n, amount, sku)
        else {
            continue;
        };
        if !r.statement_line_holds(kind, !code.is_empty(), ps, pe, &mut errs)
            || !r.statement_signs_hold(kind, n, &amount, &mut errs)
        {
            continue;
        }
        let head = heads
            .entry(sid.to_string())
            .or_insert_with(|| (dist.clone(), ps, pe, issued, cur, r.line));
        if (&head.0, head.1, head.2, head.3, head.4) != (&dist, ps, pe, issued, cur) {
            errs.push(LineError {
                line: r.line,
                column: None,
                found: format!("{dist} {ps}..{pe} issued {issued} {cur}"),
                expected: format!(
                    "the same distributor, period, issue date and currency on every line of statement {sid} (as on line {})",
                    head.5
                ),
            });
            continue;
        }
        if !errs.is_empty() {
            continue;
        }
        sink(crate::lines::SourceLine {
            line: r.line,
            statement_id: sid.to_string(),
            distributor: dist,
            period_start: ps,
            period_end: pe,
            currency: cur,
            sku,
            code: code.to_string(),
            isrc: None,
            territory: None,
            service: None,
            kind,
            units: n,
            amount_minor: amount.minor(),
        });
    }
    if errs.is_empty() {
        Ok(lines)
    } else {
        Err(errs)
    }
}

/// After the last line: builds the statements' entries and checks unknown codes.
pub(crate) fn conclude(
    kind: Kind,
    ctx: &Context,
    mut errs: Errors,
    mut parsed: Parsed,
    state: KindState,
) -> Result<Parsed, Errors> {
    finish(kind, ctx, &mut errs, &mut parsed, state);
    if let Some(e) = crate::total_past_limit(&parsed.totals) {
        errs.push(e);
    }
    if !parsed.unknown.is_empty() && (!ctx.hold_unmatched || kind != Kind::Statements) {
        for (code, line) in &parsed.unknown {
            let expected = "a SKU or UPC in the catalog (add it to catalog.csv, or give the code an alias: `backstock alias add CODE SKU` or the Record page; or hold such lines for one: `--hold-unmatched`, or the Import page's Hold box)";
            // 12 or 13 digits whose check digit is wrong: most often a mistyped UPC or
            // EAN, which the catalog may well hold; say which digit it should end in.
            let t = code.trim();
            let mistyped = (t.len() == 12 || t.len() == 13)
                && t.bytes().all(|b| b.is_ascii_digit())
                && backstock_domain::Upc::parse(t).is_err();
            let expected = match backstock_domain::Upc::parse(t) {
                Err(e) if mistyped => {
                    format!("{expected}; as a UPC/EAN it is mistyped: {}", e.expected())
                }
                _ => expected.to_string(),
            };
            errs.push(LineError {
                line: *line,
                column: parsed.code_column.clone(),
                found: code.clone(),
                expected,
            });
        }
    }
    if errs.is_empty() {
        Ok(parsed)
    } else {
        Err(errs)
    }
}

/// Where each of `kind`'s canonical columns is in a header row, or the errors naming
/// the missing ones (line 1).
pub(crate) fn column_index(kind: Kind, headers: &csv::StringRecord) -> Result<Vec<usize>, Errors> {
    let names = columns(kind);
    let mut errs = Errors::default();
    let mut idx = Vec::with_capacity(names.len());
    for name in names {
        let named = |h: &str| h.trim().eq_ignore_ascii_case(name);
        match headers.iter().position(named) {
            Some(i) => {
                // Two columns of one name: which one holds the values is a guess.
                if let Some(j) = headers.iter().skip(i + 1).position(named) {
                    errs.push(LineError {
                        line: 1,
                        column: Some((i + j + 2, (*name).to_string())),
                        found: format!(
                            "a second column named {name:?} (the first is column {})",
                            i + 1
                        ),
                        expected: "each column once: remove or rename one of them".into(),
                    });
                }
                idx.push(i);
            }
            // Left out, an optional column reads as empty on every line — unless it
            // is there written another way, which would be ignored without a word.
            None if optional(kind, name) => {
                if let Some(i) = headers
                    .iter()
                    .position(|h| crate::written_another_way(h, name))
                {
                    errs.push(LineError {
                        line: 1,
                        column: Some((i + 1, headers.get(i).unwrap_or("").to_string())),
                        found: headers.get(i).unwrap_or("").to_string(),
                        expected: format!(
                            "the optional column's name written {name} (written another way, the column would be read as no {name} at all)"
                        ),
                    });
                }
                idx.push(ABSENT)
            }
            None => errs.push(LineError {
                line: 1,
                column: None,
                found: headers.iter().collect::<Vec<_>>().join(","),
                expected: format!(
                    "a header with the column {name:?} (columns: {})",
                    names.join(",")
                ),
            }),
        }
    }
    if !errs.is_empty() {
        return Err(errs);
    }
    Ok(idx)
}

#[derive(Default)]
pub(crate) struct StatementAcc {
    pub(crate) distributor: Option<PartyId>,
    pub(crate) period: (Option<Date>, Option<Date>, Option<Date>),
    pub(crate) currency: Option<Currency>,
    pub(crate) first_line: u64,
    pub(crate) last_line: u64,
    pub(crate) lines: BTreeMap<(Option<Sku>, LineKind), (i64, i64)>,
    /// Lines taken by the fast path: (index into `KindState::skus`, kind) → totals.
    pub(crate) fast: FxHashMap<(u32, LineKind), (i64, i64)>,
    /// More fast-path totals (from other regions of the file), keys possibly repeated:
    /// added up with the rest when the statement is built.
    pub(crate) fast_more: Vec<((u32, LineKind), (i64, i64))>,
}

/// Units and amount totals of one (SKU, kind) of a statement.
type TotalsBy = ((Option<Sku>, LineKind), (i64, i64));

#[derive(Default)]
pub(crate) struct KindState {
    pub(crate) statements: FxHashMap<String, StatementAcc>,
    pub(crate) order: Vec<String>,
    /// SKUs met by the fast path, by the raw code bytes that named them.
    pub(crate) skus: Vec<Sku>,
    pub(crate) sku_index: FxHashMap<Vec<u8>, u32>,
    /// The same for codes of at most 15 bytes (nearly all), packed into an integer so
    /// a lookup neither hashes nor compares byte strings.
    pub(crate) sku_short: FxHashMap<u128, u32>,
    /// Held lines (unknown code): (statement, code, kind) → header, units, amount, lines.
    #[allow(clippy::type_complexity)]
    pub(crate) held: BTreeMap<
        (String, String, LineKind),
        (PartyId, Date, Date, Date, Currency, i64, i64, u64, u64),
    >,
    /// The line that gave each entry of the file so far (entry id → line).
    pub(crate) entry_lines: FxHashMap<String, u64>,
    /// Catalog files: each UPC (as GTIN-13) given so far, with its SKU and line.
    pub(crate) catalog_upcs: FxHashMap<String, (Sku, u64)>,
    /// Catalog files: each SKU given so far by its lowercase form, with its line.
    pub(crate) catalog_skus: FxHashMap<String, (Sku, u64)>,
    /// Distributors files: the parties (and UCC-1 filings, `ucc1 …`) given so far: one
    /// party, one filing, several agreements.
    pub(crate) parties: rustc_hash::FxHashSet<String>,
}

/// Reads one line of a canonical file into `out` (entries) or `st` (statements).
/// A line whose entry another line of the file already gave (the same purchase order
/// and SKU twice, a SKU listed twice) is an error naming both lines: the ledger would
/// otherwise refuse the file as "already recorded with different details".
pub(crate) fn row_of(
    kind: Kind,
    r: &Row,
    ctx: &Context,
    errs: &mut Errors,
    out: &mut Parsed,
    st: &mut KindState,
) {
    let before = out.entries.len();
    row_entries(kind, r, ctx, errs, out, st);
    let mut at = before;
    while at < out.entries.len() {
        let id = out.entries[at].id.as_str();
        match st.entry_lines.get(id) {
            Some(&first) => {
                // A catalog entry's id ends in the file's hash: the SKU says it.
                let what = if kind == Kind::Catalog {
                    format!("SKU {}", r.raw(0))
                } else {
                    id.to_string()
                };
                let (per, fix) = once_per(kind);
                errs.push(LineError {
                    line: r.line,
                    column: None,
                    found: format!("a second line for {what} (the first is line {first})"),
                    expected: format!("one line per {per} in a file: {fix}"),
                });
                out.entries.remove(at);
            }
            None => {
                st.entry_lines.insert(id.to_string(), r.line);
                at += 1;
            }
        }
    }
}

/// What a line of `kind` stands for, once per file, and how to fix a repeat.
fn once_per(kind: Kind) -> (&'static str, &'static str) {
    const MERGE: &str = "add their units into one line, or remove the repeated line";
    const REMOVE: &str = "remove the repeated line (or give it its own id)";
    match kind {
        Kind::Catalog => ("SKU", "keep one line for it"),
        Kind::Distributors => ("distributor and agreement start", REMOVE),
        Kind::Shipments => ("shipment_id × sku", MERGE),
        Kind::PurchaseOrders => ("po_number × sku", MERGE),
        Kind::StockReports => (
            "distributor × date × sku",
            "keep the one count that is right",
        ),
        Kind::Payments => ("payment_id", REMOVE),
        _ => ("entry", REMOVE),
    }
}

fn row_entries(
    kind: Kind,
    r: &Row,
    ctx: &Context,
    errs: &mut Errors,
    out: &mut Parsed,
    st: &mut KindState,
) {
    let line = r.line;
    if let Some(e) = r.misshapen() {
        errs.push(e);
        return;
    }
    match kind {
        Kind::X12 | Kind::Dsr => {}
        Kind::Catalog => {
            let sku = r.get(0, errs, Sku::parse);
            let upc = r.opt(1, errs, Upc::parse);
            let title = r.text(2, errs, 300);
            let artist = r.text(3, errs, 300);
            let format = r.text(4, errs, 40);
            let release = r.opt(5, errs, Date::parse);
            let cur = r.get(9, errs, Currency::parse);
            // Every error of the line is listed: the prices are checked whenever the
            // currency is known, whatever else is wrong.
            let Some(cur) = cur else { return };
            let list = r.get(6, errs, |s| not_negative(Money::parse(s, cur), s));
            let whole = r.get(7, errs, |s| not_negative(Money::parse(s, cur), s));
            let cost = r.get(8, errs, |s| not_negative(Money::parse(s, cur), s));
            let (
                Some(sku),
                Some(upc),
                Some(title),
                Some(artist),
                Some(format),
                Some(release),
                Some(list),
                Some(whole),
                Some(cost),
            ) = (sku, upc, title, artist, format, release, list, whole, cost)
            else {
                return;
            };
            // A catalog item describes the product, not an event: it holds since
            // always, so stock can be shipped and priced before its street date (the
            // release date is kept on the item). A later file's item for the same SKU
            // replaces it by recording order.
            // One SKU, one spelling: statements keyed in another case find the catalog's
            // SKU, so two SKUs differing only in case could not be told apart.
            let folded = sku.as_str().to_ascii_lowercase();
            let other = ctx
                .skus_folded
                .get(&folded)
                .cloned()
                .or_else(|| st.catalog_skus.get(&folded).map(|(k, _)| k.clone()))
                .filter(|o| *o != sku);
            if let Some(other) = other {
                errs.push(r.err(
                    0,
                    sku.as_str(),
                    format!("a SKU that differs from {other} in more than case (it is on file, or on an earlier line, as {other}): use {other} to update that item, or give this one a SKU of its own"),
                ));
                return;
            }
            st.catalog_skus.insert(folded, (sku.clone(), line));
            // One barcode, one product: a UPC another SKU already has would send that
            // SKU's sales to this one (statements name products by UPC).
            if let Some(u) = &upc {
                let key = u.gtin13();
                let upc_col = Some((2, "upc".to_string()));
                if let Some(other) = ctx.codes.get(&key).filter(|o| **o != sku) {
                    errs.push(LineError {
                        line,
                        column: upc_col.clone(),
                        found: u.as_str().to_string(),
                        expected: format!(
                            "a UPC no other SKU has: {other} already has it (a reissue or new format needs its own barcode; if {other} was keyed with the wrong one, import it again with the right UPC first)"
                        ),
                    });
                    return;
                }
                if let Some((other, first)) = st.catalog_upcs.get(&key).filter(|(o, _)| *o != sku) {
                    errs.push(LineError {
                        line,
                        column: upc_col,
                        found: u.as_str().to_string(),
                        expected: format!(
                            "a UPC no other SKU has: line {first} gives it to {other}"
                        ),
                    });
                    return;
                }
                st.catalog_upcs.insert(key, (sku.clone(), line));
            }
            let on = ctx.epoch();
            let item = CatalogItem {
                sku: sku.clone(),
                upc,
                title,
                artist,
                format,
                release_date: release,
                list_price: list,
                wholesale_price: whole,
                unit_cost: cost,
            };
            let id = format!("catalog:{}:{}", sku, ctx.short_sha());
            out.push(entry(
                ctx,
                id,
                on,
                on,
                line,
                Event::Fact(Fact::CatalogItem(item)),
            ));
        }
        Kind::Distributors => {
            let dist = r.get(0, errs, PartyId::parse);
            let legal = r.text(1, errs, 300);
            let state = r.text(2, errs, 40);
            let start = r.get(3, errs, Date::parse);
            let fee = r.get(4, errs, share);
            let terms = r.get(5, errs, days);
            let freq = r.get(6, errs, frequency);
            let reserve = r.get(7, errs, share);
            let release = r.get(8, errs, days);
            let cur = r.get(10, errs, Currency::parse);
            let retained = r.get(11, errs, boolean);
            let ucc_no = r.raw(12);
            let ucc_on = r.opt(13, errs, Date::parse);
            let ucc_state = r.raw(14);
            let pay_months = r.get(15, errs, PaymentMonths::parse);
            let Some(cur) = cur else { return };
            let limit = r.get(9, errs, |s| not_negative(Money::parse(s, cur), s));
            if let Some(p) = &dist {
                if p.is_label()
                    || p.as_str().contains(':')
                    || p.as_str() == PartyId::MARKET
                    || p.as_str() == PartyId::SCRAP
                {
                    errs.push(r.err(
                        0,
                        p.as_str(),
                        "a distributor's short name (not label, market, scrap or kind:name)",
                    ));
                    return;
                }
            }
            let (
                Some(dist),
                Some(legal),
                Some(state),
                Some(start),
                Some(fee),
                Some(terms),
                Some(freq),
                Some(reserve),
                Some(release),
                Some(limit),
                Some(retained),
                Some(ucc_on),
                Some(payment_months),
            ) = (
                dist, legal, state, start, fee, terms, freq, reserve, release, limit, retained,
                ucc_on, pay_months,
            )
            else {
                return;
            };
            // The party once: a later agreement with the same distributor (new terms
            // from a new start, in a later file or on another line of this one) is an
            // agreement, not the party again (whose record is dated by its first).
            let known = ctx.distributors.contains_key(dist.as_str());
            if !known && st.parties.insert(dist.as_str().to_string()) {
                out.push(entry(
                    ctx,
                    format!("party:{dist}"),
                    start,
                    start,
                    line,
                    Event::Fact(Fact::Party(PartyRecord {
                        party: dist.clone(),
                        kind: PartyKind::Distributor,
                        legal_name: Some(legal.clone()),
                    })),
                ));
            }
            let ucc = match (ucc_no.is_empty(), ucc_on, ucc_state.is_empty()) {
                (true, None, true) => None,
                (false, Some(on), false) => Some(Ucc1Filing {
                    distributor: dist.clone(),
                    file_number: ucc_no.to_string(),
                    state: ucc_state.to_string(),
                    filed_on: on,
                    continues: None,
                }),
                _ => {
                    errs.push(r.err(
                        12,
                        ucc_no,
                        "ucc1_file_number, ucc1_filed_on and ucc1_state all given, or all empty",
                    ));
                    return;
                }
            };
            out.push(entry(
                ctx,
                format!("agreement:{dist}:{start}"),
                start,
                start,
                line,
                Event::Fact(Fact::Agreement(Agreement {
                    distributor: dist.clone(),
                    legal_name: legal,
                    state_of_organization: state,
                    agreement_start: start,
                    fee_rate: fee,
                    payment_terms_days: terms,
                    statement_frequency: freq,
                    reserve_rate: reserve,
                    reserve_release_days: release,
                    credit_limit: limit,
                    currency: cur,
                    title_retained: retained,
                    payment_months,
                })),
            ));
            // The same filing on the rows of two agreements is one filing.
            let ucc = ucc.filter(|u| {
                let key = format!("{dist}:{}:{}:{}", u.file_number, u.filed_on, u.state);
                st.parties.insert(format!("ucc1 {key}"))
            });
            if let Some(u) = ucc {
                let on = u.filed_on;
                out.push(entry(
                    ctx,
                    format!("ucc1:{dist}:{}", u.file_number),
                    on,
                    on,
                    line,
                    Event::Fact(Fact::Ucc1Filing(u)),
                ));
            }
        }
        Kind::PurchaseOrders => {
            let po = r.text(0, errs, 100);
            let date = r.get(1, errs, Date::parse);
            let dist = ctx.distributor(r, 2, errs);
            let sku = ctx.sku(r, 3, errs, &mut out.unknown, &mut out.code_column);
            let n = r.get(4, errs, units);
            let (Some(po), Some(date), Some(dist), Some(sku), Some(n)) = (po, date, dist, sku, n)
            else {
                return;
            };
            let id = format!("po:{po}:{sku}");
            out.push(entry(
                ctx,
                id,
                date,
                date,
                line,
                Event::Fact(Fact::PurchaseOrder(PurchaseOrder {
                    po_number: po,
                    date,
                    distributor: dist,
                    sku,
                    units: n,
                })),
            ));
        }
        Kind::Shipments => {
            let sid = r.text(0, errs, 100);
            let date = r.get(1, errs, Date::parse);
            let from = ctx.holder(r, 2, errs);
            let to = ctx.holder(r, 3, errs);
            let sku = ctx.sku(r, 4, errs, &mut out.unknown, &mut out.code_column);
            let n = r.get(5, errs, units);
            let po = r.raw(6);
            let (Some(sid), Some(date), Some(from), Some(to), Some(sku), Some(n)) =
                (sid, date, from, to, sku, n)
            else {
                return;
            };
            if to.as_str().starts_with("plant:") || from == to {
                errs.push(r.err(
                    3,
                    to.as_str(),
                    "a destination other than a plant and other than the origin",
                ));
                return;
            }
            let id = format!("shipment:{sid}:{sku}");
            let event = if from.as_str().starts_with("plant:") {
                Event::Manufacture {
                    run_id: sid,
                    plant: from,
                    to,
                    sku,
                    units: n,
                }
            } else {
                Event::Shipment {
                    shipment_id: sid,
                    from,
                    to,
                    sku,
                    units: n,
                    po_number: (!po.is_empty()).then(|| po.to_string()),
                    override_reason: None,
                }
            };
            out.push(entry(ctx, id, date, date, line, event));
        }
        Kind::Statements => {
            let sid = r.raw(0);
            if sid.is_empty() || sid.len() > 100 {
                errs.push(r.err(0, sid, "a statement id of 1-100 characters"));
                return;
            }
            let dist = ctx.distributor(r, 1, errs);
            let ps = r.get(2, errs, Date::parse);
            let pe = r.get(3, errs, Date::parse);
            let issued = r.get(4, errs, Date::parse);
            let kind = r.get(5, errs, |s| {
                LineKind::parse(&s.to_ascii_lowercase()).ok_or_else(|| {
                    DomainError::new(s, "sale, return, fee, reserve_withheld, reserve_released, chargeback or adjustment")
                })
            });
            let cur = r.get(9, errs, Currency::parse);
            let n = r.get(7, errs, signed_units);
            let Some(cur) = cur else {
                // Still name an unknown SKU on the same line.
                if !r.raw(6).is_empty() {
                    let _ = ctx.sku(r, 6, errs, &mut out.unknown, &mut out.code_column);
                }
                return;
            };
            let amount = r.get(8, errs, |s| Money::parse(s, cur));
            let code = r.raw(6);
            let sku = if code.is_empty() {
                Some(None)
            } else {
                ctx.sku(r, 6, errs, &mut out.unknown, &mut out.code_column)
                    .map(Some)
            };
            // An unknown code with --hold-unmatched: keep the line aside, whole.
            if sku.is_none()
                && ctx.hold_unmatched
                && ctx.resolve_code(code).is_none()
                && Sku::parse(code).is_ok()
            {
                if let (
                    Some(dist),
                    Some(ps),
                    Some(pe),
                    Some(issued),
                    Some(kind),
                    Some(n),
                    Some(amount),
                ) = (dist, ps, pe, issued, kind, n, amount)
                {
                    if !r.statement_signs_hold(kind, n, &amount, errs) {
                        return;
                    }
                    let slot = st
                        .held
                        .entry((sid.to_string(), code.to_string(), kind))
                        .or_insert_with(|| (dist, ps, pe, issued, cur, 0, 0, line, line));
                    slot.5 = slot.5.saturating_add(n);
                    slot.6 = slot.6.saturating_add(amount.minor());
                    slot.8 = line;
                }
                return;
            }
            let (
                Some(dist),
                Some(ps),
                Some(pe),
                Some(issued),
                Some(kind),
                Some(n),
                Some(amount),
                Some(sku),
            ) = (dist, ps, pe, issued, kind, n, amount, sku)
            else {
                return;
            };
            if !r.statement_line_holds(kind, sku.is_some(), ps, pe, errs)
                || !r.statement_signs_hold(kind, n, &amount, errs)
            {
                return;
            }
            let acc = match st.statements.get_mut(sid) {
                Some(a) => a,
                None => {
                    st.order.push(sid.to_string());
                    st.statements
                        .entry(sid.to_string())
                        .or_insert_with(|| StatementAcc {
                            distributor: Some(dist.clone()),
                            period: (Some(ps), Some(pe), Some(issued)),
                            currency: Some(cur),
                            first_line: line,
                            ..StatementAcc::default()
                        })
                }
            };
            if acc.distributor.as_ref() != Some(&dist)
                || acc.period != (Some(ps), Some(pe), Some(issued))
                || acc.currency != Some(cur)
            {
                errs.push(LineError {
                    line,
                    column: None,
                    found: format!("{dist} {ps}..{pe} issued {issued} {cur}"),
                    expected: format!(
                        "the same distributor, period, issue date and currency on every line of statement {sid} (as on line {})",
                        acc.first_line
                    ),
                });
                return;
            }
            acc.last_line = line;
            let slot = acc.lines.entry((sku, kind)).or_insert((0, 0));
            match (slot.0.checked_add(n), slot.1.checked_add(amount.minor())) {
                (Some(u), Some(a)) => *slot = (u, a),
                _ => errs.push(r.err(
                    8,
                    r.raw(8),
                    "totals within range (the statement's totals overflow)",
                )),
            }
        }
        Kind::Opening => {
            // `stock`: the party (label or a distributor) holds `units` of `sku` owned by
            // the label on `date`: units that appear from `plant:opening`, so every
            // report shows where they came from. `open_statement`: the distributor still
            // owes `amount` on statement `statement_id` (period ending `period_end`),
            // issued on `date`: one adjustment line, settled by later payments.
            let record = r.raw(0).to_ascii_lowercase();
            let date = r.get(1, errs, Date::parse);
            match record.as_str() {
                "stock" => {
                    let party = ctx.holder(r, 2, errs);
                    let sku = ctx.sku(r, 3, errs, &mut out.unknown, &mut out.code_column);
                    let n = r.get(4, errs, units);
                    // A stock row counts units: money on it would be silently dropped.
                    for col in 5..=8 {
                        if !r.raw(col).trim().is_empty() {
                            errs.push(r.err(
                                col,
                                r.raw(col),
                                "nothing on a stock row (it counts units; what a distributor owes is an open_statement row)",
                            ));
                        }
                    }
                    let (Some(date), Some(party), Some(sku), Some(n)) = (date, party, sku, n)
                    else {
                        return;
                    };
                    if party.as_str().starts_with("plant:") {
                        errs.push(r.err(2, party.as_str(), "label or a distributor (who holds the stock)"));
                        return;
                    }
                    let Ok(plant) = PartyId::parse("plant:opening") else {
                        return;
                    };
                    out.push(entry(
                        ctx,
                        format!("opening:stock:{party}:{sku}:{date}"),
                        date,
                        date,
                        line,
                        Event::Manufacture {
                            run_id: format!("opening-{date}"),
                            plant,
                            to: party,
                            sku,
                            units: n,
                        },
                    ));
                }
                "open_statement" => {
                    let dist = ctx.distributor(r, 2, errs);
                    let sid = r.text(5, errs, 100);
                    let pe = r.get(6, errs, Date::parse);
                    let cur = r.get(8, errs, Currency::parse);
                    let Some(cur) = cur else { return };
                    let amount = r.get(7, errs, |s| Money::parse(s, cur));
                    let (Some(date), Some(dist), Some(sid), Some(pe), Some(amount)) =
                        (date, dist, sid, pe, amount)
                    else {
                        return;
                    };
                    if amount.minor() <= 0 {
                        errs.push(r.err(7, r.raw(7), "what is still owed on the statement, above zero"));
                        return;
                    }
                    if pe > date {
                        errs.push(r.err(6, r.raw(6), format!("a period end on or before the date it was issued ({date})")));
                        return;
                    }
                    if let Some(want) = ctx.distributors.get(dist.as_str()) {
                        if *want != cur {
                            errs.push(r.err(8, r.raw(8), format!("{want}, the currency of {dist}'s agreement")));
                            return;
                        }
                    }
                    out.totals.add(amount);
                    let statement = Statement {
                        statement_id: sid.clone(),
                        distributor: dist.clone(),
                        period_start: pe.first_of_month(),
                        period_end: pe,
                        issued_on: date,
                        currency: cur,
                        lines: vec![StatementLine {
                            kind: LineKind::Adjustment,
                            sku: None,
                            units: 0,
                            amount_minor: amount.minor(),
                            channel: backstock_ledger::Channel::Physical,
                        }],
                    };
                    out.push(entry(
                        ctx,
                        format!("statement:{dist}:{sid}"),
                        pe,
                        date,
                        line,
                        Event::Statement(statement),
                    ));
                }
                other => errs.push(r.err(
                    0,
                    other,
                    "stock (units the label owns, by who holds them) or open_statement (what a distributor still owes on a statement)",
                )),
            }
        }
        Kind::StockReports => {
            let dist = ctx.distributor(r, 0, errs);
            let as_of = r.get(1, errs, Date::parse);
            let sku = ctx.sku(r, 2, errs, &mut out.unknown, &mut out.code_column);
            let n = r.get(3, errs, counted_units);
            let (Some(dist), Some(as_of), Some(sku), Some(n)) = (dist, as_of, sku, n) else {
                return;
            };
            let id = format!("stock_report:{dist}:{as_of}:{sku}");
            out.push(entry(
                ctx,
                id,
                as_of,
                as_of,
                line,
                Event::Fact(Fact::StockReport(StockReport {
                    distributor: dist,
                    as_of,
                    sku,
                    units_on_hand: n,
                    source: StockReportSource::Csv,
                })),
            ));
        }
        Kind::Payments => {
            let pid = r.text(0, errs, 100);
            let date = r.get(1, errs, Date::parse);
            let dist = ctx.distributor(r, 2, errs);
            let cur = r.get(4, errs, Currency::parse);
            let Some(cur) = cur else { return };
            let amount = r.get(3, errs, |s| Money::parse(s, cur));
            let sid = r.raw(5);
            let (Some(pid), Some(date), Some(dist), Some(amount)) = (pid, date, dist, amount)
            else {
                return;
            };
            if amount.minor() <= 0 {
                errs.push(r.err(
                    3,
                    r.raw(3),
                    "a positive amount received (record refunds as a correction)",
                ));
                return;
            }
            out.totals.add(amount);
            let id = format!("payment:{dist}:{pid}");
            out.push(entry(
                ctx,
                id,
                date,
                date,
                line,
                Event::PaymentReceived {
                    payment_id: pid,
                    distributor: dist,
                    amount,
                    statement_id: (!sid.is_empty()).then(|| sid.to_string()),
                },
            ));
        }
    }
}

fn finish(kind: Kind, ctx: &Context, errs: &mut Errors, out: &mut Parsed, mut st: KindState) {
    if kind != Kind::Statements || !errs.is_empty() {
        return;
    }
    let held = std::mem::take(&mut st.held);
    for ((sid, code, kind), (d, ps, pe, issued, cur, units, amount, first, last)) in held {
        let line = backstock_ledger::facts::UnmatchedLine {
            statement_id: sid.clone(),
            distributor: d.clone(),
            period_start: ps,
            period_end: pe,
            issued_on: issued,
            currency: cur,
            code: code.clone(),
            kind,
            units,
            amount_minor: amount,
            first_line: first,
            last_line: last,
            channel: backstock_ledger::Channel::Physical,
        };
        if let Some(e) = held_entry(ctx, line) {
            out.entries.push(e);
        }
    }
    finish_statements(ctx, errs, out, st);
}

/// The entry that holds a line with a code unknown to the catalog until `alias add`
/// names it.
pub(crate) fn held_entry(
    ctx: &Context,
    line: backstock_ledger::facts::UnmatchedLine,
) -> Option<Entry> {
    let (d, sid, code, kind) = (&line.distributor, &line.statement_id, &line.code, line.kind);
    let id = EntryId::new(format!("unmatched:{d}:{sid}:{code}:{}", kind.as_str())).ok()?;
    Some(Entry {
        id,
        effective_on: line.period_end,
        known_on: line.issued_on,
        provenance: Provenance::File {
            sha256: ctx.file_sha256.clone(),
            name: ctx.file_name.clone(),
            first_line: line.first_line,
            last_line: line.last_line,
        },
        event: Event::Fact(Fact::Unmatched(line)),
    })
}

fn finish_statements(ctx: &Context, errs: &mut Errors, out: &mut Parsed, st: KindState) {
    let mut statements = st.statements;
    let skus = st.skus;
    // Every SKU the statements name, ranked in SKU order once, so each statement's
    // totals are sorted by integers rather than by comparing SKU strings.
    let mut named: Vec<Sku> = skus.clone();
    for acc in statements.values() {
        named.extend(acc.lines.keys().filter_map(|(s, _)| s.clone()));
    }
    named.sort_unstable();
    named.dedup();
    let rank: FxHashMap<Sku, u64> = named
        .into_iter()
        .enumerate()
        .map(|(i, s)| (s, i as u64 + 1))
        .collect();
    let rank_of = |s: &Option<Sku>| s.as_ref().and_then(|s| rank.get(s)).copied().unwrap_or(0);
    let index_rank: Vec<u64> = skus
        .iter()
        .map(|s| rank.get(s).copied().unwrap_or(0))
        .collect();
    for sid in st.order {
        let Some(mut acc) = statements.remove(&sid) else {
            continue;
        };
        // Fast-path and general-path totals together, in SKU × kind order (so a
        // statement re-sent with its lines in another order is the same entry).
        let key = |rank: u64, kind: LineKind| (rank << 8) | kind as u64;
        let mut all: Vec<(u64, TotalsBy)> = Vec::with_capacity(acc.fast.len() + acc.lines.len());
        for ((i, kind), t) in std::mem::take(&mut acc.fast) {
            if let (Some(sku), Some(r)) = (skus.get(i as usize), index_rank.get(i as usize)) {
                all.push((key(*r, kind), ((Some(sku.clone()), kind), t)));
            }
        }
        for ((i, kind), t) in std::mem::take(&mut acc.fast_more) {
            if let (Some(sku), Some(r)) = (skus.get(i as usize), index_rank.get(i as usize)) {
                all.push((key(*r, kind), ((Some(sku.clone()), kind), t)));
            }
        }
        for ((sku, kind), t) in std::mem::take(&mut acc.lines) {
            all.push((key(rank_of(&sku), kind), ((sku, kind), t)));
        }
        all.sort_unstable_by_key(|(k, _)| *k);
        let mut merged: Vec<TotalsBy> = Vec::with_capacity(all.len());
        let mut last_key = None;
        for (rk, (k, (u, a))) in all {
            match merged.last_mut() {
                Some((_, lt)) if last_key == Some(rk) => {
                    match (lt.0.checked_add(u), lt.1.checked_add(a)) {
                        (Some(x), Some(y)) => *lt = (x, y),
                        _ => errs.push(LineError {
                            line: acc.first_line,
                            column: None,
                            found: sid.clone(),
                            expected: "statement totals within range".into(),
                        }),
                    }
                }
                _ => merged.push((k, (u, a))),
            }
            last_key = Some(rk);
        }
        let (Some(d), (Some(ps), Some(pe), Some(issued)), Some(cur)) =
            (acc.distributor, acc.period, acc.currency)
        else {
            continue;
        };
        let statement = Statement {
            statement_id: sid.clone(),
            distributor: d.clone(),
            period_start: ps,
            period_end: pe,
            issued_on: issued,
            currency: cur,
            lines: merged
                .into_iter()
                .filter(|(_, (u, a))| *u != 0 || *a != 0)
                .map(|((sku, kind), (units, amount_minor))| StatementLine {
                    kind,
                    channel: ctx.channel_of(sku.as_ref()),
                    sku,
                    units,
                    amount_minor,
                })
                .collect(),
        };
        match statement.net_due_minor() {
            Some(n) => out.totals.add(Money::from_minor(n, cur)),
            None => {
                errs.push(LineError {
                    line: acc.first_line,
                    column: None,
                    found: sid.clone(),
                    expected: "a statement whose net due fits in range".into(),
                });
                continue;
            }
        }
        let e = Entry {
            id: match EntryId::new(format!("statement:{d}:{sid}")) {
                Ok(id) => id,
                Err(e) => {
                    errs.push(LineError {
                        line: acc.first_line,
                        column: Some((1, "statement_id".into())),
                        found: sid.clone(),
                        expected: e.expected().to_string(),
                    });
                    continue;
                }
            },
            effective_on: pe,
            known_on: issued,
            provenance: Provenance::File {
                sha256: ctx.file_sha256.clone(),
                name: ctx.file_name.clone(),
                first_line: acc.first_line,
                last_line: acc.last_line.max(acc.first_line),
            },
            event: Event::Statement(statement),
        };
        out.entries.push(e);
    }
}

/// Where the line breaks of the input are, so a record is numbered by the line it
/// starts on. (The csv crate numbers a record from where the record before it ended:
/// one too low after a `\r\n`, whose `\n` it reads with the next record, and after
/// blank lines, which it skips.) Holds only the breaks the csv reader has read ahead of
/// the record asked about.
#[derive(Default)]
pub(crate) struct LineBreaks {
    /// Line-break bytes (`\n` or `\r`) at or after the last record asked about.
    ahead: std::collections::VecDeque<(u64, u8)>,
    /// Line breaks before it: a `\n`, a `\r\n` or a lone `\r` (old Mac files) each.
    newlines: u64,
    /// The offset of the last `\r` counted (a `\n` right after it is the same break).
    last_cr: Option<u64>,
    read: u64,
}

impl LineBreaks {
    fn note(&mut self, bytes: &[u8]) {
        for i in memchr::memchr2_iter(b'\n', b'\r', bytes) {
            self.ahead.push_back((self.read + i as u64, bytes[i]));
        }
        self.read += bytes.len() as u64;
    }

    /// The line of the record whose first byte the csv reader puts at `byte` (offsets
    /// asked about never decrease). Line breaks right at that offset — a `\n` left of
    /// a `\r\n`, blank lines — come before the record.
    pub(crate) fn line_at(&mut self, byte: u64) -> u64 {
        let mut at = byte;
        while let Some(&(offset, b)) = self.ahead.front() {
            if offset == at {
                at += 1;
            } else if offset > byte {
                break;
            }
            if b == b'\r' {
                self.newlines += 1;
                self.last_cr = Some(offset);
            } else if self.last_cr.map(|r| r + 1) != Some(offset) {
                self.newlines += 1;
            }
            self.ahead.pop_front();
        }
        self.newlines + 1
    }
}

/// The input, noting its line breaks as the csv reader reads it.
struct Noted<R> {
    inner: R,
    breaks: std::rc::Rc<std::cell::RefCell<LineBreaks>>,
}

impl<R: Read> Read for Noted<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.breaks.borrow_mut().note(&buf[..n]);
        Ok(n)
    }
}

fn csv_error(e: &csv::Error, line: u64) -> LineError {
    LineError {
        line,
        column: None,
        found: e.to_string(),
        expected: "well-formed CSV in UTF-8 (or Windows-1252, see --encoding)".into(),
    }
}

pub(crate) fn trim(b: &[u8]) -> &[u8] {
    let start = b
        .iter()
        .position(|c| !c.is_ascii_whitespace())
        .unwrap_or(b.len());
    let end = b
        .iter()
        .rposition(|c| !c.is_ascii_whitespace())
        .map_or(start, |e| e + 1);
    &b[start..end.max(start)]
}

/// Whole units: optional sign, 1–10 digits, |n| ≤ 10⁹; empty is 0.
pub(crate) fn fast_units(b: &[u8]) -> Option<i64> {
    let (neg, d) = match b.first() {
        None => return Some(0),
        Some(b'-') => (true, &b[1..]),
        _ => (false, b),
    };
    if d.is_empty() || d.len() > 10 {
        return None;
    }
    let mut v: i64 = 0;
    for c in d {
        if !c.is_ascii_digit() {
            return None;
        }
        v = v * 10 + i64::from(c - b'0');
    }
    (v <= 1_000_000_000).then_some(if neg { -v } else { v })
}

/// A decimal amount with at most `exp` decimals, as minor units.
pub(crate) fn fast_amount(b: &[u8], exp: u32) -> Option<i64> {
    let (neg, d) = match b.first() {
        Some(b'-') => (true, &b[1..]),
        _ => (false, b),
    };
    let (int, frac) = match d.iter().position(|c| *c == b'.') {
        Some(i) => (&d[..i], &d[i + 1..]),
        None => (d, &d[d.len()..]),
    };
    if int.is_empty() || int.len() > 15 || frac.len() > exp as usize {
        return None;
    }
    let mut v: i64 = 0;
    for c in int.iter().chain(frac) {
        if !c.is_ascii_digit() {
            return None;
        }
        v = v * 10 + i64::from(c - b'0');
    }
    for _ in frac.len()..exp as usize {
        v = v.checked_mul(10)?;
    }
    Some(if neg { -v } else { v })
}

/// Whether a line's signs are as the general path accepts them (only adjustments are
/// signed: `Row::statement_signs_hold`); a line they are not goes there for its error.
pub(crate) fn fast_signs_hold(kind: LineKind, units: i64, amount_minor: i64) -> bool {
    kind == LineKind::Adjustment || (units >= 0 && amount_minor >= 0)
}

pub(crate) fn fast_kind(b: &[u8]) -> Option<LineKind> {
    Some(match b {
        b"sale" => LineKind::Sale,
        b"return" => LineKind::Return,
        b"fee" => LineKind::Fee,
        b"reserve_withheld" => LineKind::ReserveWithheld,
        b"reserve_released" => LineKind::ReserveReleased,
        b"chargeback" => LineKind::Chargeback,
        b"adjustment" => LineKind::Adjustment,
        _ => return None,
    })
}

/// The statements reader: statement-level columns are parsed once per run of lines
/// that repeat them, and the common line (known SKU, plain numbers) takes a fast path
/// over raw bytes. Anything unusual — a new statement header, an unknown or empty code,
/// an odd number — goes through the general row reader, which gives the same result or
/// the same located error.
/// The csv reader of a file and how to tell a record's line from its position.
struct Lines<'a, R> {
    rdr: &'a mut csv::Reader<R>,
    line_at: &'a dyn Fn(&csv::Position) -> u64,
    /// The header's number of columns.
    width: usize,
}

fn read_statements<R: Read>(
    Lines {
        rdr,
        line_at,
        width,
    }: Lines<'_, R>,
    idx: &[usize],
    names: &'static [&'static str],
    ctx: &Context,
    errs: &mut Errors,
    parsed: &mut Parsed,
    state: &mut KindState,
) {
    let mut rec = csv::ByteRecord::new();
    // The statement-level columns of the last line the general path accepted; a line
    // repeating them byte for byte belongs to the same statement.
    let header_cols = [idx[0], idx[1], idx[2], idx[3], idx[4], idx[9]];
    // In the canonical column order the first five are the record's first five fields:
    // then one comparison of their bytes (and of where each ends) does.
    let leading = header_cols[..5] == [0, 1, 2, 3, 4];
    let mut cached_head: [Vec<u8>; 6] = Default::default();
    let mut cached_ends = [0usize; 5];
    let mut cached: Option<(String, u32)> = None; // statement id, currency exponent
                                                  // Totals of the current run of fast lines, by SKU index × line kind, merged into
                                                  // their statement when the run ends (a line costs an array update, not a lookup).
    let mut run = Run::default();
    let mut run_last_line = 0u64;
    loop {
        let line = line_at(rdr.position());
        match rdr.read_byte_record(&mut rec) {
            Ok(false) => break,
            Ok(true) => {}
            Err(e) => {
                errs.push(csv_error(&e, e.position().map_or(line, line_at)));
                if errs.truncated {
                    break;
                }
                continue;
            }
        }
        let line = rec.position().map_or(line, line_at);
        let same_statement = |rec: &csv::ByteRecord| {
            if leading {
                let Some(end) = rec.range(4).map(|r| r.end) else {
                    return false;
                };
                (0..5).all(|i| rec.range(i).map(|r| r.end) == Some(cached_ends[i]))
                    && rec.as_slice()[..end] == cached_head[0][..]
                    && rec.get(header_cols[5]) == Some(cached_head[5].as_slice())
            } else {
                header_cols
                    .iter()
                    .zip(&cached_head)
                    .all(|(c, h)| rec.get(*c) == Some(h.as_slice()))
            }
        };
        let fast = match &cached {
            Some((_, exp)) if same_statement(&rec) => (|| {
                // A value holding a line break is refused by the general path.
                if memchr::memchr2(b'\n', b'\r', rec.as_slice()).is_some() {
                    return None;
                }
                let kind = fast_kind(trim(rec.get(idx[5])?))?;
                let code = trim(rec.get(idx[6])?);
                if code.is_empty() {
                    return None;
                }
                let units = fast_units(trim(rec.get(idx[7])?))?;
                let amount = fast_amount(trim(rec.get(idx[8])?), *exp)?;
                if !fast_signs_hold(kind, units, amount) {
                    return None; // the general path says where and why
                }
                let short = short_code(code);
                let known = match short {
                    Some(k) => state.sku_short.get(&k),
                    None => state.sku_index.get(code),
                };
                let sku = match known {
                    Some(i) => *i,
                    None => {
                        let s = ctx.resolve_code(std::str::from_utf8(code).ok()?)?;
                        let i = u32::try_from(state.skus.len()).ok()?;
                        state.skus.push(s);
                        match short {
                            Some(k) => state.sku_short.insert(k, i),
                            None => state.sku_index.insert(code.to_vec(), i),
                        };
                        i
                    }
                };
                run.add(sku, kind, units, amount)
            })(),
            _ => None,
        };
        if fast.is_some() {
            parsed.lines += 1;
            run_last_line = line;
            continue;
        }
        if rec.iter().all(|c| trim(c).is_empty()) {
            continue;
        }
        parsed.lines += 1;
        // The general path may touch the same statement: the run's totals go in first.
        if let Some((sid, _)) = &cached {
            end_run(state, sid, &mut run, run_last_line, errs);
        }
        // The general path: decode, validate, locate errors.
        let srec = match csv::StringRecord::from_byte_record(rec.clone()) {
            Ok(s) => s,
            Err(e) => {
                errs.push(LineError {
                    line,
                    column: e
                        .utf8_error()
                        .field()
                        .checked_add(1)
                        .map(|f| (f, "?".to_string())),
                    found: "bytes that are not UTF-8".into(),
                    expected: "UTF-8 text (or give --encoding windows-1252)".into(),
                });
                continue;
            }
        };
        let before = errs.list.len();
        let row = Row {
            rec: &srec,
            line,
            idx,
            names,
            width,
        };
        row_of(Kind::Statements, &row, ctx, errs, parsed, state);
        if errs.list.len() == before && !errs.truncated {
            let sid = srec.get(idx[0]).unwrap_or("").trim().to_string();
            let exp =
                Currency::parse(srec.get(idx[9]).unwrap_or("")).map(|c| u32::from(c.exponent()));
            match exp {
                Ok(exp)
                    if state.statements.contains_key(sid.as_str())
                        && joined_statement(&srec, idx, ctx) =>
                {
                    for (h, c) in cached_head.iter_mut().zip(header_cols) {
                        h.clear();
                        h.extend_from_slice(rec.get(c).unwrap_or(b""));
                    }
                    if leading {
                        for (i, e) in cached_ends.iter_mut().enumerate() {
                            *e = rec.range(i).map_or(0, |r| r.end);
                        }
                        cached_head[0].clear();
                        cached_head[0].extend_from_slice(&rec.as_slice()[..cached_ends[4]]);
                    }
                    cached = Some((sid, exp));
                }
                _ => cached = None,
            }
        }
        if errs.truncated {
            break;
        }
    }
    if let Some((sid, _)) = &cached {
        end_run(state, sid, &mut run, run_last_line, errs);
    }
}

/// Whether a statements line the general path accepted went into its statement's
/// totals (rather than being held aside for an unknown code, which is not checked
/// against the statement's columns): only then may later lines repeating its columns
/// take the fast path, which does not check them either.
pub(crate) fn joined_statement(rec: &csv::StringRecord, idx: &[usize], ctx: &Context) -> bool {
    let code = rec.get(idx[6]).unwrap_or("").trim();
    code.is_empty() || ctx.resolve_code(code).is_some()
}

/// A code of at most 15 bytes packed with its length into one integer.
pub(crate) fn short_code(code: &[u8]) -> Option<u128> {
    if code.len() > 15 {
        return None;
    }
    let mut b = [0u8; 16];
    b[..code.len()].copy_from_slice(code);
    b[15] = code.len() as u8;
    Some(u128::from_le_bytes(b))
}

/// Totals of a run of fast lines (one statement), dense by SKU index × line kind.
#[derive(Default)]
pub(crate) struct Run {
    pub(crate) slots: Vec<(i64, i64)>,
    pub(crate) used: Vec<bool>,
    pub(crate) touched: Vec<u32>,
}

impl Run {
    const KINDS: usize = LineKind::ALL.len();

    /// Adds a line; `None` (nothing changed) if a total would overflow.
    pub(crate) fn add(&mut self, sku: u32, kind: LineKind, units: i64, amount: i64) -> Option<()> {
        let i = sku as usize * Self::KINDS + kind as usize;
        if i >= self.slots.len() {
            let n = (i + 1).max(self.slots.len() * 2);
            self.slots.resize(n, (0, 0));
            self.used.resize(n, false);
        }
        let slot = &mut self.slots[i];
        let (u, a) = (slot.0.checked_add(units)?, slot.1.checked_add(amount)?);
        *slot = (u, a);
        if !self.used[i] {
            self.used[i] = true;
            self.touched.push(i as u32);
        }
        Some(())
    }

    fn is_empty(&self) -> bool {
        self.touched.is_empty()
    }

    /// The run's totals by (SKU index, kind); leaves the run empty.
    fn drain(&mut self) -> impl Iterator<Item = ((u32, LineKind), (i64, i64))> + '_ {
        self.touched.drain(..).map(|i| {
            let i = i as usize;
            let t = std::mem::take(&mut self.slots[i]);
            self.used[i] = false;
            let sku = (i / Self::KINDS) as u32;
            ((sku, LineKind::ALL[i % Self::KINDS]), t)
        })
    }
}

/// Adds a run of fast lines' totals to their statement.
pub(crate) fn end_run(
    state: &mut KindState,
    sid: &str,
    run: &mut Run,
    last_line: u64,
    errs: &mut Errors,
) {
    if run.is_empty() {
        return;
    }
    let Some(acc) = state.statements.get_mut(sid) else {
        run.drain().for_each(drop);
        return;
    };
    for (k, (u, a)) in run.drain() {
        let slot = acc.fast.entry(k).or_insert((0, 0));
        match (slot.0.checked_add(u), slot.1.checked_add(a)) {
            (Some(x), Some(y)) => *slot = (x, y),
            _ => errs.push(LineError {
                line: last_line,
                column: None,
                found: sid.to_string(),
                expected: "statement totals within range".into(),
            }),
        }
    }
    acc.last_line = acc.last_line.max(last_line);
}

#[cfg(test)]
mod run_tests {
    use super::*;

    #[test]
    fn line_kinds_index_their_own_slot() {
        // `Run` indexes by `kind as usize`: the declaration order must be `ALL`'s.
        for (i, k) in LineKind::ALL.iter().enumerate() {
            assert_eq!(*k as usize, i);
        }
    }

    #[test]
    fn a_run_sums_by_sku_and_kind_and_empties() {
        let mut r = Run::default();
        r.add(3, LineKind::Sale, 2, 1600).unwrap();
        r.add(3, LineKind::Sale, 1, 800).unwrap();
        r.add(3, LineKind::Return, 1, 800).unwrap();
        r.add(0, LineKind::Sale, 0, 0).unwrap();
        assert!(r.add(3, LineKind::Sale, 1, i64::MAX).is_none());
        let mut got: Vec<_> = r.drain().collect();
        got.sort();
        assert_eq!(
            got,
            vec![
                ((0, LineKind::Sale), (0, 0)),
                ((3, LineKind::Sale), (3, 2400)),
                ((3, LineKind::Return), (1, 800)),
            ]
        );
        assert!(r.is_empty());
        r.add(3, LineKind::Sale, 1, 5).unwrap();
        assert_eq!(
            r.drain().collect::<Vec<_>>(),
            vec![((3, LineKind::Sale), (1, 5))]
        );
    }

    #[test]
    fn short_codes_differ_by_length_and_bytes() {
        assert_ne!(short_code(b"A"), short_code(b"A\0"));
        assert_eq!(short_code(b"0123456789012345"), None);
        assert_ne!(short_code(b"GEN-000001"), short_code(b"GEN-000002"));
    }
}
