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
use crate::engine::{Cell, Engine, RowCells};
use crate::number::tidy_float_text;
use crate::schema::{Mapping, SheetRef};
use crate::{Overrides, Row, SourceError};
use calamine::{open_workbook_from_rs, Data, DataRef, Reader, Xlsx};
use std::borrow::Cow;
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

/// Opens the workbook (after [`check_zip`]) and reads the mapping's sheet cell by
/// cell, feeding the engine a row at a time.
pub(crate) fn read_sheet(
    sheet: Option<&SheetRef>,
    bytes: &[u8],
    engine: &mut dyn FnMut(u64, &SheetRow<'_>) -> bool,
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
    let feed =
        |engine: &mut dyn FnMut(u64, &SheetRow<'_>) -> bool, r: u32, row: &mut Vec<Data>| -> bool {
            let going = engine(
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
                if !feed(engine, prev, &mut row) {
                    return Ok(());
                }
                for empty in prev + 1..r {
                    if !feed(engine, empty, &mut row) {
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
        feed(engine, prev, &mut row);
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
) -> Result<Vec<Row>, Vec<SourceError>> {
    let deadline = Instant::now() + XLSX_TIME_LIMIT;
    let mut engine = Engine::new(mapping, overrides);
    // calamine is not expected to panic, but a malformed workbook must never take the
    // caller down with it.
    std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        read_sheet(
            mapping.sheet.as_ref(),
            bytes,
            &mut |line, row| engine.feed(line, row),
            deadline,
        )
    }))
    .unwrap_or_else(|_| {
        Err(file_error(
            "a workbook that could not be read",
            "an XLSX workbook",
        ))
    })?;
    engine.finish()
}
