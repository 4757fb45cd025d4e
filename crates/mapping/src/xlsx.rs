//! Reading XLSX workbooks (through calamine) into engine rows, within limits.
//!
//! An XLSX file is a zip of XML: a 1.5 MB upload can inflate to gigabytes (one
//! shared string of 1.5 GB), and a sheet with two cells at `A1` and `XFD1048576`
//! would make a rectangular reader allocate every cell between. So before calamine
//! opens anything, every zip entry is inflated once into a counter (never kept) and
//! refused past [`MAX_XLSX_INFLATED`] in all, or with a run of text or a tag longer
//! than [`MAX_XML_RUN`]; then the sheet is read cell by cell (no rectangle), refusing a
//! row past [`MAX_XLSX_ROWS`], a column past [`MAX_XLSX_COLUMNS`] or a cell longer than
//! [`MAX_CELL_CHARS`]; and the whole read stops after [`XLSX_TIME_LIMIT`].

use crate::date::Ymd;
use crate::engine::{Cell, Engine, RowCells, SheetInfo};
use crate::number::tidy_float_text;
use crate::schema::{Mapping, SheetRef};
use crate::{Overrides, SourceError};
use calamine::{open_workbook_from_rs, Data, DataRef, Reader, Xlsx};
use std::borrow::Cow;
use std::collections::BTreeSet;
use std::io::{Cursor, Read};
use std::time::{Duration, Instant};

/// Most bytes all the entries of a workbook may inflate to (128 MiB: a sheet of
/// several hundred thousand statement rows).
pub const MAX_XLSX_INFLATED: u64 = 128 << 20;
/// Most entries in the zip.
pub const MAX_XLSX_ENTRIES: usize = 10_000;
/// Longest run of XML between two `<`/`>` (text of one string or cell, or one tag):
/// 1 MiB, well above the longest cell Excel writes (32,767 characters, escaped).
pub const MAX_XML_RUN: u64 = 1 << 20;
/// Most characters in a cell: Excel's own limit.
pub const MAX_CELL_CHARS: usize = 32_767;
/// Rows of a sheet: Excel's own limit.
pub const MAX_XLSX_ROWS: u32 = 1_048_576;
/// Columns of a sheet: Excel's own limit (`XFD`).
pub const MAX_XLSX_COLUMNS: u32 = 16_384;
/// Longest a workbook is read for.
pub const XLSX_TIME_LIMIT: Duration = Duration::from_secs(60);

fn file_error(found: impl Into<String>, expected: impl Into<String>) -> Vec<SourceError> {
    vec![SourceError {
        line: 0,
        column: None,
        found: found.into(),
        expected: expected.into(),
    }]
}

/// Inflates every entry of the zip once, into nothing, counting: refuses a workbook
/// that inflates past [`MAX_XLSX_INFLATED`], has more than [`MAX_XLSX_ENTRIES`]
/// entries, a run between `<`/`>` longer than [`MAX_XML_RUN`], or takes longer than
/// the deadline. Memory: one 64 KiB buffer.
fn check_zip(bytes: &[u8], deadline: Instant) -> Result<(), Vec<SourceError>> {
    let mut zip = zip::ZipArchive::new(Cursor::new(bytes))
        .map_err(|e| file_error(e.to_string(), "an XLSX workbook"))?;
    if zip.len() > MAX_XLSX_ENTRIES {
        return Err(file_error(
            format!("{} entries in the workbook's zip", zip.len()),
            format!("an XLSX workbook of at most {MAX_XLSX_ENTRIES} entries"),
        ));
    }
    let mut total = 0u64;
    let mut buf = vec![0u8; 64 << 10];
    for i in 0..zip.len() {
        let mut f = zip
            .by_index(i)
            .map_err(|e| file_error(e.to_string(), "a readable XLSX workbook"))?;
        let name = f.name().map(|n| n.into_owned()).unwrap_or_default();
        let mut run = 0u64;
        loop {
            let n = match f.read(&mut buf) {
                Ok(0) => break,
                Ok(n) => n,
                Err(e) => {
                    return Err(file_error(
                        format!("{name}: {e}"),
                        "a readable XLSX workbook",
                    ))
                }
            };
            total += n as u64;
            if total > MAX_XLSX_INFLATED {
                return Err(file_error(
                    format!("a workbook that inflates to more than {} MiB (at {name})", MAX_XLSX_INFLATED >> 20),
                    format!(
                        "an XLSX workbook of at most {} MiB uncompressed (the limit of an XLSX read; see docs/formats.md)",
                        MAX_XLSX_INFLATED >> 20
                    ),
                ));
            }
            for &b in &buf[..n] {
                if b == b'<' || b == b'>' {
                    run = 0;
                } else {
                    run += 1;
                }
            }
            if run > MAX_XML_RUN && name.ends_with(".xml") {
                return Err(file_error(
                    format!("{name}: a text or tag longer than {} KiB", MAX_XML_RUN >> 10),
                    format!(
                        "cells of at most {MAX_CELL_CHARS} characters (Excel's limit; see docs/formats.md)"
                    ),
                ));
            }
            if Instant::now() > deadline {
                return Err(timed_out());
            }
        }
    }
    Ok(())
}

fn timed_out() -> Vec<SourceError> {
    file_error(
        format!(
            "a workbook still being read after {} seconds",
            XLSX_TIME_LIMIT.as_secs()
        ),
        "an XLSX workbook read within the time limit (see docs/formats.md)",
    )
}

/// What reads a sheet: told which sheet it is, then given its rows.
pub(crate) trait SheetReader {
    /// The sheet about to be read.
    fn sheet(&mut self, info: SheetInfo) {
        let _ = info;
    }
    /// One row; false once nothing more is wanted.
    fn row(&mut self, line: u64, row: &SheetRow<'_>) -> bool;
}

impl SheetReader for Engine<'_> {
    fn sheet(&mut self, info: SheetInfo) {
        self.sheet = Some(info);
    }
    fn row(&mut self, line: u64, row: &SheetRow<'_>) -> bool {
        self.feed(line, row)
    }
}

/// Rows given to a closure.
pub(crate) struct Rows<F>(pub(crate) F);

impl<F: FnMut(u64, &SheetRow<'_>) -> bool> SheetReader for Rows<F> {
    fn row(&mut self, line: u64, row: &SheetRow<'_>) -> bool {
        (self.0)(line, row)
    }
}

/// Calls `f` with the text of each tag of an XML stream (what is between `<` and
/// `>`; tags longer than 4 KiB, never a row's or a sheet's, are passed over). `None`
/// when the stream cannot be read or the deadline passes.
fn scan_tags(mut xml: impl Read, deadline: Instant, mut f: impl FnMut(&str)) -> Option<()> {
    const LONGEST: usize = 4 << 10;
    let mut buf = vec![0u8; 64 << 10];
    let mut tag: Vec<u8> = Vec::new();
    let (mut in_tag, mut too_long) = (false, false);
    loop {
        let n = xml.read(&mut buf).ok()?;
        if n == 0 {
            return Some(());
        }
        for &b in &buf[..n] {
            if !in_tag {
                in_tag = b == b'<';
            } else if b == b'>' {
                if !too_long {
                    f(std::str::from_utf8(&tag).unwrap_or(""));
                }
                tag.clear();
                in_tag = false;
                too_long = false;
            } else if tag.len() < LONGEST {
                tag.push(b);
            } else {
                too_long = true;
            }
        }
        if Instant::now() > deadline {
            return None;
        }
    }
}

/// A tag's local name (`row` of `x:row r="3"`) and its attributes (names as written,
/// values unescaped).
fn tag_parts(tag: &str) -> (&str, Vec<(&str, String)>) {
    let name_end = tag
        .find(|c: char| c.is_whitespace() || c == '/')
        .unwrap_or(tag.len());
    let name = &tag[..name_end];
    let local = name.rsplit(':').next().unwrap_or(name);
    let mut attrs = Vec::new();
    let mut rest = &tag[name_end..];
    loop {
        rest = rest.trim_start();
        let Some(eq) = rest.find('=') else { break };
        let key = rest[..eq].trim();
        let after = rest[eq + 1..].trim_start();
        let Some(quote) = after.chars().next().filter(|c| matches!(c, '"' | '\'')) else {
            break;
        };
        let Some(end) = after[1..].find(quote) else {
            break;
        };
        let value = after[1..1 + end]
            .replace("&lt;", "<")
            .replace("&gt;", ">")
            .replace("&quot;", "\"")
            .replace("&apos;", "'")
            .replace("&amp;", "&");
        attrs.push((key, value));
        rest = &after[2 + end..];
    }
    (local, attrs)
}

/// The zip entry's text, when it is there and small enough to hold (a workbook's
/// list of sheets and its relationships).
fn entry_text(zip: &mut zip::ZipArchive<Cursor<&[u8]>>, path: &str) -> Option<String> {
    let f = zip.by_name(path).ok()?;
    let mut text = String::new();
    f.take(MAX_XLSX_INFLATED).read_to_string(&mut text).ok()?;
    Some(text)
}

/// The 1-based rows a sheet hides (`<row r="3" hidden="1">`: a filter, a collapsed
/// group, rows hidden by hand). calamine reads their cells like any others and does
/// not say which are hidden, so the sheet's XML is scanned for them. Empty when it
/// cannot be found.
fn hidden_rows(bytes: &[u8], index: usize, name: &str, deadline: Instant) -> BTreeSet<u64> {
    let mut hidden = BTreeSet::new();
    let Ok(mut zip) = zip::ZipArchive::new(Cursor::new(bytes)) else {
        return hidden;
    };
    let workbook = "xl/workbook.xml";
    let Some(text) = entry_text(&mut zip, workbook) else {
        return hidden;
    };
    let mut sheets: Vec<(String, String)> = Vec::new();
    scan_tags(text.as_bytes(), deadline, |tag| {
        let (local, attrs) = tag_parts(tag);
        if local == "sheet" {
            let get = |want: &dyn Fn(&str) -> bool| {
                attrs
                    .iter()
                    .find(|(k, _)| want(k))
                    .map(|(_, v)| v.clone())
                    .unwrap_or_default()
            };
            sheets.push((get(&|k| k == "name"), get(&|k| k.ends_with(":id"))));
        }
    });
    let Some((_, rid)) = sheets
        .iter()
        .find(|(n, _)| n == name)
        .or_else(|| sheets.get(index))
    else {
        return hidden;
    };
    let Some(rels) = entry_text(&mut zip, "xl/_rels/workbook.xml.rels") else {
        return hidden;
    };
    let mut target: Option<String> = None;
    scan_tags(rels.as_bytes(), deadline, |tag| {
        let (local, attrs) = tag_parts(tag);
        if local == "Relationship" && attrs.iter().any(|(k, v)| *k == "Id" && v == rid) {
            target = attrs
                .iter()
                .find(|(k, _)| *k == "Target")
                .map(|(_, v)| v.clone());
        }
    });
    let Some(target) = target else {
        return hidden;
    };
    let path = match target.strip_prefix('/') {
        Some(abs) => abs.to_string(),
        None => format!("xl/{}", target.trim_start_matches("./")),
    };
    let Ok(sheet) = zip.by_name(&path) else {
        return hidden;
    };
    let mut last = 0u64;
    let _ = scan_tags(sheet.take(MAX_XLSX_INFLATED), deadline, |tag| {
        let (local, attrs) = tag_parts(tag);
        if local != "row" {
            return;
        }
        let r = attrs
            .iter()
            .find(|(k, _)| *k == "r")
            .and_then(|(_, v)| v.parse::<u64>().ok())
            .unwrap_or(last + 1);
        last = r;
        if attrs
            .iter()
            .any(|(k, v)| *k == "hidden" && matches!(v.as_str(), "1" | "true"))
        {
            hidden.insert(r);
        }
    });
    hidden
}

/// Opens the workbook (after [`check_zip`]) and reads the mapping's sheet cell by
/// cell, giving the reader a row at a time.
pub(crate) fn read_sheet(
    sheet: Option<&SheetRef>,
    bytes: &[u8],
    reader: &mut dyn SheetReader,
    deadline: Instant,
) -> Result<(), Vec<SourceError>> {
    check_zip(bytes, deadline)?;
    let mut wb: Xlsx<_> = open_workbook_from_rs(Cursor::new(bytes))
        .map_err(|e: calamine::XlsxError| file_error(e.to_string(), "an XLSX workbook"))?;
    let names = wb.sheet_names();
    let name = match sheet {
        None => names.first().cloned(),
        Some(SheetRef::Name(n)) => names
            .iter()
            .find(|s| s.trim().eq_ignore_ascii_case(n.trim()))
            .cloned(),
        Some(SheetRef::Index(i)) => names.get(i.saturating_sub(1)).cloned(),
    };
    let Some(name) = name else {
        let wanted = match sheet {
            Some(SheetRef::Name(n)) => format!("a sheet named {n:?}"),
            Some(SheetRef::Index(i)) => format!("a sheet number {i}"),
            None => "a sheet".to_string(),
        };
        return Err(file_error(
            format!("sheets {}", names.join(", ")),
            format!("{wanted} (sheet in the mapping)"),
        ));
    };
    reader.sheet(SheetInfo {
        others: names.iter().filter(|n| **n != name).cloned().collect(),
        named: sheet.is_some(),
        hidden: hidden_rows(
            bytes,
            names.iter().position(|n| *n == name).unwrap_or(0),
            &name,
            deadline,
        ),
        name: name.clone(),
    });
    let is_1904 = wb.has_1904_epoch();
    let unreadable =
        |e: calamine::XlsxError| file_error(e.to_string(), format!("a readable sheet {name:?}"));
    // Cells holding a formula: one whose result the workbook does not store (written
    // by a program that does not calculate) reads as empty, and its money would be
    // lost without a word. Each is struck off as its value is met below.
    let mut formulas: std::collections::BTreeSet<(u32, u32)> = Default::default();
    {
        let mut reader = wb.worksheet_cells_reader(&name).map_err(unreadable)?;
        let mut n = 0u64;
        while let Some(cell) = reader.next_formula().map_err(unreadable)? {
            n += 1;
            if n.is_multiple_of(4096) && Instant::now() > deadline {
                return Err(timed_out());
            }
            let (r, c) = cell.get_position();
            if !cell.get_value().is_empty() && r < MAX_XLSX_ROWS && c < MAX_XLSX_COLUMNS {
                formulas.insert((r, c));
            }
        }
    }
    let mut cells = wb.worksheet_cells_reader(&name).map_err(unreadable)?;
    // The rows in the order the sheet holds them; rows with no cell between two that
    // have one are fed empty (as a rectangular read would), rows before the first
    // are not.
    let mut row: Vec<Data> = Vec::new();
    let mut at: Option<u32> = None;
    let mut read = 0u64;
    let feed = |engine: &mut dyn SheetReader, r: u32, row: &mut Vec<Data>| -> bool {
        let going = engine.row(
            u64::from(r) + 1,
            &SheetRow {
                offset: 0,
                cells: row,
                is_1904,
            },
        );
        row.clear();
        going
    };
    while let Some(cell) = cells.next_cell().map_err(unreadable)? {
        read += 1;
        if read.is_multiple_of(4096) && Instant::now() > deadline {
            return Err(timed_out());
        }
        let (r, c) = cell.get_position();
        let value = cell.get_value();
        if matches!(value, DataRef::Empty) {
            continue;
        }
        formulas.remove(&(r, c));
        if r >= MAX_XLSX_ROWS || c >= MAX_XLSX_COLUMNS {
            return Err(vec![SourceError {
                line: u64::from(r) + 1,
                column: Some((c as usize + 1, crate::engine::cell_name(r, c))),
                found: "a cell beyond the sheet's limits".into(),
                expected: format!(
                    "at most {MAX_XLSX_ROWS} rows and {MAX_XLSX_COLUMNS} columns (Excel's limits)"
                ),
            }]);
        }
        let text_len = match value {
            DataRef::String(s) | DataRef::DateTimeIso(s) | DataRef::DurationIso(s) => {
                s.chars().count()
            }
            DataRef::SharedString(s) => s.chars().count(),
            _ => 0,
        };
        if text_len > MAX_CELL_CHARS {
            return Err(vec![SourceError {
                line: u64::from(r) + 1,
                column: Some((c as usize + 1, crate::engine::cell_name(r, c))),
                found: format!("a cell of {text_len} characters"),
                expected: format!("a cell of at most {MAX_CELL_CHARS} characters (Excel's limit)"),
            }]);
        }
        match at {
            Some(prev) if r < prev => {
                return Err(file_error(
                    format!("row {} after row {}", r + 1, prev + 1),
                    format!("a sheet {name:?} with its rows in order"),
                ))
            }
            Some(prev) if r > prev => {
                if !feed(reader, prev, &mut row) {
                    return Ok(());
                }
                for empty in prev + 1..r {
                    if !feed(reader, empty, &mut row) {
                        return Ok(());
                    }
                }
            }
            _ => {}
        }
        at = Some(r);
        let c = c as usize;
        if row.len() <= c {
            row.resize(c + 1, Data::Empty);
        }
        row[c] = Data::from(value.clone());
    }
    if let Some(prev) = at {
        feed(reader, prev, &mut row);
    }
    if !formulas.is_empty() {
        return Err(formulas
            .iter()
            .take(crate::MAX_ERRORS)
            .map(|&(r, c)| SourceError {
                line: u64::from(r) + 1,
                column: Some((c as usize + 1, crate::engine::cell_name(r, c))),
                found: "a formula with no stored result".into(),
                expected: "a value: the workbook was written by a program that does not calculate its formulas — open it in a spreadsheet application and save it again, so each formula's result is stored".into(),
            })
            .collect());
    }
    Ok(())
}

type ExcelNumber = f64; // not money: how XLSX stores every number; only turned into text

/// A float cell as decimal text, rounded to the 15 significant digits Excel shows.
///
/// Why a float here: XLSX stores every number as an IEEE double, and calamine hands it
/// over as one. It is turned into decimal text at once (shortest round-trip form, then
/// tidied to Excel's 15 digits) and parsed exactly from that text, so no arithmetic is
/// ever done on it.
fn float_text(f: ExcelNumber) -> String {
    tidy_float_text(&f.to_string())
}

fn convert_cell(d: &Data) -> Cell<'_> {
    match d {
        Data::Empty => Cell::Empty,
        Data::String(s) => Cell::Text(Cow::Borrowed(s)),
        Data::Int(i) => Cell::Number(i.to_string()),
        Data::Float(f) => Cell::Number(float_text(*f)),
        Data::Bool(b) => Cell::Text(Cow::Borrowed(if *b { "TRUE" } else { "FALSE" })),
        Data::DateTime(dt) if dt.is_datetime() => {
            let (y, m, day, ..) = dt.to_ymd_hms_milli();
            match Ymd::new(y, m, day) {
                Some(ymd) => Cell::Date(ymd),
                None => Cell::Number(float_text(dt.as_f64())),
            }
        }
        Data::DateTime(dt) => Cell::Number(float_text(dt.as_f64())),
        Data::DateTimeIso(s) => match s.get(..10).and_then(Ymd::parse_iso) {
            Some(ymd) => Cell::Date(ymd),
            None => Cell::Text(Cow::Borrowed(s)),
        },
        Data::DurationIso(s) => Cell::Text(Cow::Borrowed(s)),
        Data::Error(e) => Cell::Text(Cow::Owned(e.to_string())),
    }
}

/// One sheet row; `offset` empty cells stand before the used range.
pub(crate) struct SheetRow<'a> {
    offset: usize,
    cells: &'a [Data],
    /// The workbook counts days from 1904 (old Mac Excel) rather than 1900.
    is_1904: bool,
}

impl RowCells for SheetRow<'_> {
    fn width(&self) -> usize {
        self.offset + self.cells.len()
    }
    fn cell(&self, i: usize) -> Cell<'_> {
        match i.checked_sub(self.offset).and_then(|j| self.cells.get(j)) {
            Some(d) => convert_cell(d),
            None => Cell::Empty,
        }
    }
    fn serial_date(&self, i: usize) -> Option<Ymd> {
        let v: ExcelNumber = match i.checked_sub(self.offset).and_then(|j| self.cells.get(j))? {
            Data::Float(f) => *f,
            Data::Int(n) => *n as ExcelNumber,
            _ => return None,
        };
        // Serial day numbers of 1970-01-01 to 9999-12-31 (never a year or a count).
        if !(1.0..=2_958_465.0).contains(&v) {
            return None;
        }
        let (y, m, d, ..) =
            calamine::ExcelDateTime::new(v, calamine::ExcelDateTimeType::DateTime, self.is_1904)
                .to_ymd_hms_milli();
        Ymd::new(y, m, d).filter(|d| d.year >= 1970)
    }
}

pub(crate) fn convert(
    mapping: &Mapping,
    bytes: &[u8],
    overrides: &Overrides,
) -> Result<crate::Converted, Vec<SourceError>> {
    let deadline = Instant::now() + XLSX_TIME_LIMIT;
    let mut engine = Engine::new(mapping, overrides);
    // calamine is not expected to panic, but a malformed workbook must never take the
    // caller down with it.
    std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        read_sheet(mapping.sheet.as_ref(), bytes, &mut engine, deadline)
    }))
    .unwrap_or_else(|_| {
        Err(file_error(
            "a workbook that could not be read",
            "an XLSX workbook",
        ))
    })?;
    engine
        .finish_noted()
        .map(|(rows, notes)| crate::Converted { rows, notes })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{convert_xlsx, convert_xlsx_noted, Mapping};
    use rust_xlsxwriter::Workbook;

    const MAPPING: &str = r#"
name = "xl-dist"
format = "xlsx"
SHEET
[columns]
sku = "UPC"
memo = ["Title"]
[statement]
distributor = "northwind"
currency = "USD"
statement_id = "XL-1"
period_start = "2016-06-01"
period_end = "2016-06-30"
issued_on = "2016-07-15"
[[lines]]
kind = "sale"
amount = "Amount"
units = "Qty"
sign = "net"
TOTAL
"#;

    const TOTAL: &str = r#"
[[rules]]
column = "Title"
equals = "Total"
action = "total"
amount = "Amount""#;

    fn mapping(sheet: &str, total: bool) -> Mapping {
        let toml = MAPPING
            .replace("SHEET", sheet)
            .replace("TOTAL", if total { TOTAL } else { "" });
        Mapping::parse(&toml).unwrap_or_else(|e| panic!("{e}"))
    }

    /// A "Summary" sheet first, then "Detail" with row 3 hidden (a filter): visible
    /// rows 80 + 46 = 126, the hidden one 40.
    fn workbook(total: bool) -> Vec<u8> {
        let mut wb = Workbook::new();
        let summary = wb.add_worksheet();
        summary.set_name("Summary").expect("name");
        summary
            .write_string(0, 0, "Statement, June 2016")
            .expect("write");
        summary.write_number(1, 1, 126.0).expect("write");
        let ws = wb.add_worksheet();
        ws.set_name("Detail").expect("name");
        for (c, h) in ["UPC", "Title", "Qty", "Amount"].iter().enumerate() {
            ws.write_string(0, c as u16, *h).expect("write");
        }
        let rows = [
            ("859712000019", "Harbor Lights CD", 10.0, 80.0),
            ("859712000033", "Harbor Lights cassette", 5.0, 40.0),
            ("859712000026", "Harbor Lights LP", 4.0, 46.0),
        ];
        for (i, (upc, title, qty, amount)) in rows.iter().enumerate() {
            let r = i as u32 + 1;
            ws.write_string(r, 0, *upc).expect("write");
            ws.write_string(r, 1, *title).expect("write");
            ws.write_number(r, 2, *qty).expect("write");
            ws.write_number(r, 3, *amount).expect("write");
        }
        ws.set_row_hidden(2).expect("hide");
        if total {
            ws.write_string(4, 1, "Total").expect("write");
            ws.write_number(4, 3, 126.0).expect("write");
        }
        wb.save_to_buffer().expect("xlsx")
    }

    fn said(errs: &[SourceError]) -> String {
        errs.iter()
            .map(ToString::to_string)
            .collect::<Vec<_>>()
            .join("\n")
    }

    #[test]
    fn hidden_rows_are_read_and_said() {
        let o = Overrides::default();
        let m = mapping(r#"sheet = "Detail""#, false);
        let got =
            convert_xlsx_noted(&m, &workbook(false), &o).unwrap_or_else(|e| panic!("{}", said(&e)));
        // Read (a filter may hide real lines), never skipped in silence.
        assert_eq!(got.rows.len(), 3);
        assert_eq!(
            got.notes.iter().map(ToString::to_string).collect::<Vec<_>>(),
            ["line 3: row 3 is hidden in sheet \"Detail\" and read as lines of the statement (a filter or a collapsed group hides rows): check they belong to it"]
        );
        // The total leaves the hidden row out: its message names it.
        let m = mapping(r#"sheet = "Detail""#, true);
        let errs = convert_xlsx(&m, &workbook(true), &o).expect_err("total");
        let e = said(&errs);
        assert!(
            e.starts_with("line 5, column 4 (Amount): found \"126\", expected 166 — "),
            "{e}"
        );
        assert!(
            e.contains("; row 3 is hidden in the sheet and was read (a filter or a collapsed group hides rows: unhide them to see whether the total leaves them out)"),
            "{e}"
        );
    }

    #[test]
    fn the_sheet_read_is_named_when_its_header_is_not_there() {
        let o = Overrides::default();
        let m = mapping("", false);
        let errs = convert_xlsx(&m, &workbook(false), &o).expect_err("first sheet");
        assert_eq!(errs.len(), 4, "{}", said(&errs));
        assert_eq!(
            errs[0].to_string(),
            "line 1: found \"Statement, June 2016\", expected a column named \"UPC\" (item code) on the header row of sheet \"Summary\" (the first sheet: the mapping names none; the workbook's other sheet is \"Detail\" — set sheet = \"…\" in the mapping to read another)"
        );
        // Named in the mapping, the sheet is said too.
        let m = mapping(r#"sheet = "Summary""#, false);
        let errs = convert_xlsx(&m, &workbook(false), &o).expect_err("named sheet");
        assert!(
            errs[0].expected.ends_with(
                "on the header row of sheet \"Summary\" (the workbook's other sheet is \"Detail\")"
            ),
            "{}",
            said(&errs)
        );
    }

    #[test]
    fn tags_and_attributes() {
        let (name, attrs) = tag_parts(r#"x:row r="3" hidden="1" spans="1:5""#);
        assert_eq!(name, "row");
        assert_eq!(
            attrs,
            [
                ("r", "3".to_string()),
                ("hidden", "1".to_string()),
                ("spans", "1:5".to_string())
            ]
        );
        let (name, attrs) = tag_parts(r#"sheet name="A &amp; B" sheetId="1" r:id='rId2'/"#);
        assert_eq!(name, "sheet");
        assert_eq!(attrs[0].1, "A & B");
        assert_eq!(attrs[2], ("r:id", "rId2".to_string()));
    }
}
