//! Reading XLSX workbooks (through calamine) into engine rows.

use crate::date::Ymd;
use crate::engine::{Cell, Engine, RowCells};
use crate::number::tidy_float_text;
use crate::schema::{Mapping, SheetRef};
use crate::{Overrides, Row, SourceError};
use calamine::{open_workbook_from_rs, Data, Range, Reader, Xlsx};
use std::borrow::Cow;
use std::io::Cursor;

fn file_error(found: impl Into<String>, expected: impl Into<String>) -> Vec<SourceError> {
    vec![SourceError {
        line: 0,
        column: None,
        found: found.into(),
        expected: expected.into(),
    }]
}

/// Opens the workbook and reads the mapping's sheet.
fn read_sheet(mapping: &Mapping, bytes: &[u8]) -> Result<Range<Data>, Vec<SourceError>> {
    let mut wb: Xlsx<_> = open_workbook_from_rs(Cursor::new(bytes))
        .map_err(|e: calamine::XlsxError| file_error(e.to_string(), "an XLSX workbook"))?;
    let names = wb.sheet_names();
    let name = match &mapping.sheet {
        None => names.first().cloned(),
        Some(SheetRef::Name(n)) => names
            .iter()
            .find(|s| s.trim().eq_ignore_ascii_case(n.trim()))
            .cloned(),
        Some(SheetRef::Index(i)) => names.get(i.saturating_sub(1)).cloned(),
    };
    let Some(name) = name else {
        let wanted = match &mapping.sheet {
            Some(SheetRef::Name(n)) => format!("a sheet named {n:?}"),
            Some(SheetRef::Index(i)) => format!("a sheet number {i}"),
            None => "a sheet".to_string(),
        };
        return Err(file_error(
            format!("sheets {}", names.join(", ")),
            format!("{wanted} (sheet in the mapping)"),
        ));
    };
    wb.worksheet_range(&name)
        .map_err(|e| file_error(e.to_string(), format!("a readable sheet {name:?}")))
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
struct SheetRow<'a> {
    offset: usize,
    cells: &'a [Data],
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
}

pub(crate) fn convert(
    mapping: &Mapping,
    bytes: &[u8],
    overrides: &Overrides,
) -> Result<Vec<Row>, Vec<SourceError>> {
    // calamine is not expected to panic, but a malformed workbook must never take the
    // caller down with it.
    let range = std::panic::catch_unwind(|| read_sheet(mapping, bytes)).unwrap_or_else(|_| {
        Err(file_error(
            "a workbook that could not be read",
            "an XLSX workbook",
        ))
    })?;
    let mut engine = Engine::new(mapping, overrides);
    let (top, left) = range.start().unwrap_or((0, 0));
    let offset = left as usize;
    for (i, cells) in range.rows().enumerate() {
        let line = u64::from(top) + i as u64 + 1;
        if !engine.feed(line, &SheetRow { offset, cells }) {
            break;
        }
    }
    engine.finish()
}
