//! Mappings: small TOML files that say how to turn a distributor's own statement
//! layout (CSV or XLSX) into canonical `statements.csv` records (see
//! `docs/formats.md` and this crate's README for the schema).
//!
//! Contract:
//! * [`Mapping::parse`] validates everything it can before a file is read; its errors
//!   name the TOML key and what was expected there.
//! * [`convert_csv`] / [`convert_xlsx`] return every canonical line the file means, or
//!   every problem found (up to [`MAX_ERRORS`]), each naming the source line, column,
//!   the value found and what was expected. They never panic on input.
//! * Amounts are exact: decimal text in, decimal text out, no floating point.

mod date;
mod engine;
mod number;
mod sample;
mod schema;
mod text;
mod xlsx;

pub use sample::{
    detect_delimiter, detect_format, detect_header_row, read_sample, Sample, SampleRow,
};
pub use schema::{Format, Kind, Mapping, MappingError};
pub use xlsx::{
    MAX_CELL_CHARS, MAX_XLSX_COLUMNS, MAX_XLSX_ENTRIES, MAX_XLSX_INFLATED, MAX_XLSX_ROWS,
    MAX_XML_RUN, XLSX_TIME_LIMIT,
};

use std::fmt;
use std::io::Read;

/// The canonical `statements.csv` columns, in order (the fields of a [`Row`]).
pub const COLUMNS: [&str; 11] = [
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
];

/// Limit on errors returned for one file.
pub const MAX_ERRORS: usize = 100;

/// One canonical statement line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Row {
    /// 1-based source line (CSV; where the record starts) or sheet row (XLSX).
    pub line: u64,
    /// The canonical statement columns in order (see [`COLUMNS`]).
    pub fields: [String; 11],
    /// For each canonical field, the 1-based column of the source file it was read
    /// from; 0 when it was not read from one column (a fixed or given value, a
    /// template, several columns added). Names them in the importer's messages (see
    /// [`header_names`]).
    pub columns: [u32; 11],
}

/// One problem in a source file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SourceError {
    /// 1-based line or sheet row; 0 when the problem is not on one line (a missing
    /// sheet, a value the mapping and the command line both leave out).
    pub line: u64,
    /// 1-based column number and its header name (or cell name such as `B3`).
    pub column: Option<(usize, String)>,
    pub found: String,
    pub expected: String,
}

impl fmt::Display for SourceError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.line == 0 {
            f.write_str("file")?;
        } else {
            write!(f, "line {}", self.line)?;
        }
        if let Some((n, name)) = &self.column {
            write!(f, ", column {n} ({name})")?;
        }
        write!(f, ": found {:?}, expected {}", self.found, self.expected)
    }
}

impl std::error::Error for SourceError {}

/// Something a conversion says about the file without refusing it: a line that
/// repeats the header row (skipped), hidden sheet rows read as lines.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Note {
    /// 1-based line or sheet row it is about (the first, when about several).
    pub line: u64,
    pub message: String,
}

impl fmt::Display for Note {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "line {}: {}", self.line, self.message)
    }
}

/// What a conversion made of a file: its canonical lines and the notes a reader
/// should see (see [`convert_csv_noted`]).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Converted {
    pub rows: Vec<Row>,
    pub notes: Vec<Note>,
}

/// Statement-level values given on the command line. Each one given replaces what the
/// mapping would take from the file. Dates as `YYYY-MM-DD` (or in the mapping's
/// `date_format`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Overrides {
    pub distributor: Option<String>,
    pub statement_id: Option<String>,
    pub period_start: Option<String>,
    pub period_end: Option<String>,
    pub issued_on: Option<String>,
    pub currency: Option<String>,
}

impl Overrides {
    /// The override for a field of [`schema::FIELDS`].
    pub(crate) fn get(&self, field: &str) -> Option<&str> {
        match field {
            "distributor" => self.distributor.as_deref(),
            "statement_id" => self.statement_id.as_deref(),
            "period_start" => self.period_start.as_deref(),
            "period_end" => self.period_end.as_deref(),
            "issued_on" => self.issued_on.as_deref(),
            "currency" => self.currency.as_deref(),
            _ => None,
        }
        .map(str::trim)
        .filter(|s| !s.is_empty())
    }
}

/// The mappings shipped with backstock: `(name, TOML text)`.
pub fn builtin() -> Vec<(&'static str, &'static str)> {
    vec![
        ("bandcamp", include_str!("../mappings/bandcamp.toml")),
        (
            "indie-dist-us",
            include_str!("../mappings/indie-dist-us.toml"),
        ),
        (
            "euro-dist-xlsx",
            include_str!("../mappings/euro-dist-xlsx.toml"),
        ),
    ]
}

/// A shipped mapping by name, parsed.
pub fn find_builtin(name: &str) -> Option<Mapping> {
    builtin()
        .into_iter()
        .find(|(n, _)| n.eq_ignore_ascii_case(name.trim()))
        .and_then(|(_, t)| Mapping::parse(t).ok())
}

fn file_error(found: impl Into<String>, expected: impl Into<String>) -> Vec<SourceError> {
    vec![SourceError {
        line: 0,
        column: None,
        found: found.into(),
        expected: expected.into(),
    }]
}

/// Converts a CSV file in the mapping's layout into canonical statement lines.
pub fn convert_csv(
    mapping: &Mapping,
    input: impl Read,
    overrides: &Overrides,
) -> Result<Vec<Row>, Vec<SourceError>> {
    convert_csv_noted(mapping, input, overrides).map(|c| c.rows)
}

/// [`convert_csv`], with the notes of what was read without refusing the file (a
/// line repeating the header row, skipped).
pub fn convert_csv_noted(
    mapping: &Mapping,
    mut input: impl Read,
    overrides: &Overrides,
) -> Result<Converted, Vec<SourceError>> {
    if mapping.format() != Format::Csv {
        return Err(file_error(
            "a CSV file",
            format!("an XLSX workbook (mapping {} is for xlsx)", mapping.name()),
        ));
    }
    let mut bytes = Vec::new();
    if let Err(e) = input.read_to_end(&mut bytes) {
        return Err(file_error(e.to_string(), "a readable file"));
    }
    let text = match text::decode(&bytes, mapping.encoding) {
        Ok(t) => t,
        Err(line) => {
            return Err(vec![SourceError {
                line,
                column: None,
                found: "bytes that are not UTF-8".into(),
                expected: "UTF-8 text (or set encoding = \"windows-1252\" or \"auto\")".into(),
            }])
        }
    };
    drop(bytes);
    let mut engine = engine::Engine::new(mapping, overrides);
    feed_csv(mapping, &text, &mut engine);
    engine
        .finish_noted()
        .map(|(rows, notes)| Converted { rows, notes })
}

/// Whether a value's continuation line with `seps` separators looks like a swallowed
/// row: half the header's columns, or two while the row does not have the header's
/// columns (`width` 0: the header is not found yet, the row's own count stands in).
fn swallows(seps: usize, fields: usize, width: usize) -> bool {
    let width = if width == 0 { fields } else { width };
    let whole = width.saturating_sub(1);
    let threshold = (whole / 2).max(whole.min(4)).max(2);
    seps >= threshold || (seps >= 2 && fields != width)
}

/// Feeds the engine the records of a decoded CSV text, each with its line.
fn feed_csv(mapping: &Mapping, text: &str, engine: &mut engine::Engine<'_>) {
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .delimiter(mapping.delimiter)
        .from_reader(text.as_bytes());
    let mut lines = text::LineNumbers::new(text.as_bytes());
    let mut record = csv::StringRecord::new();
    loop {
        match reader.read_record(&mut record) {
            Ok(false) => break,
            Ok(true) => {
                let line = record.position().map_or(0, |p| lines.line_at(p.byte()));
                // A quote opened and not closed where the writer meant swallows the
                // lines after it into one value: refused, or the file would convert
                // short without a word. (A value running over lines none of which
                // looks like a row — a note on two lines — is the writer's own.) A
                // swallowed line, or its part before the next quote (which ends the
                // value), holds separators; a note's own second line seldom holds two.
                // An address on a note's second line ("Raleigh, NC, USA"), in a row
                // with every column in place, is not a swallowed row (the rule of the
                // canonical reader, `swallows_a_record`).
                let width = engine.header.len();
                let swallowed = record.iter().position(|v| {
                    v.lines().skip(1).any(|l| {
                        let seps = l.bytes().filter(|b| *b == mapping.delimiter).count();
                        swallows(seps, record.len(), width)
                    })
                });
                if let Some(at) = swallowed {
                    let start: String = record[at]
                        .lines()
                        .next()
                        .unwrap_or("")
                        .chars()
                        .take(40)
                        .collect();
                    engine.push_error(SourceError {
                        line,
                        column: Some((
                            at + 1,
                            engine.header.get(at).cloned().unwrap_or_else(|| "?".into()),
                        )),
                        found: format!(
                            "a value starting {start:?}… that runs over {} lines of the file, taking in lines that look like rows",
                            record[at].trim_end_matches(['\n', '\r']).split('\n').count()
                        ),
                        expected: "a value on one line: a double quote (\") opens this value and nothing closes it on its line — remove the stray quote, or close it".into(),
                    });
                    break;
                }
                if !engine.feed(line, &record) {
                    break;
                }
            }
            Err(e) => {
                engine.push_error(SourceError {
                    line: e.position().map_or(0, |p| lines.line_at(p.byte())),
                    column: None,
                    found: e.to_string(),
                    expected: "well-formed CSV".into(),
                });
                break;
            }
        }
    }
}

/// The cells of the header row the mapping finds in a file (the row its columns are
/// named on): what [`Row::columns`] numbers. Empty when there is none or the file
/// cannot be read. Reads only as far as the header.
pub fn header_names(mapping: &Mapping, bytes: &[u8]) -> Vec<String> {
    let overrides = Overrides::default();
    let mut engine = engine::Engine::new(mapping, &overrides);
    engine.stop_at_header = true;
    match mapping.format() {
        Format::Csv => {
            if let Ok(text) = text::decode(bytes, mapping.encoding) {
                feed_csv(mapping, &text, &mut engine);
            }
        }
        Format::Xlsx => {
            let deadline = std::time::Instant::now() + XLSX_TIME_LIMIT;
            let _ = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                xlsx::read_sheet(mapping.sheet.as_ref(), bytes, &mut engine, deadline)
            }));
        }
    }
    engine.header
}

/// Converts an XLSX workbook in the mapping's layout into canonical statement lines.
pub fn convert_xlsx(
    mapping: &Mapping,
    bytes: &[u8],
    overrides: &Overrides,
) -> Result<Vec<Row>, Vec<SourceError>> {
    convert_xlsx_noted(mapping, bytes, overrides).map(|c| c.rows)
}

/// [`convert_xlsx`], with the notes of what was read without refusing the file
/// (hidden rows read as lines, a line repeating the header row).
pub fn convert_xlsx_noted(
    mapping: &Mapping,
    bytes: &[u8],
    overrides: &Overrides,
) -> Result<Converted, Vec<SourceError>> {
    if mapping.format() != Format::Xlsx {
        return Err(file_error(
            "an XLSX workbook",
            format!("a CSV file (mapping {} is for csv)", mapping.name()),
        ));
    }
    xlsx::convert(mapping, bytes, overrides)
}

/// Writes rows as a canonical `statements.csv` (header included).
pub fn to_csv(rows: &[Row]) -> String {
    let mut w = csv::WriterBuilder::new().from_writer(Vec::new());
    let _ = w.write_record(COLUMNS);
    for r in rows {
        let _ = w.write_record(&r.fields);
    }
    let bytes = w.into_inner().unwrap_or_default();
    String::from_utf8(bytes).unwrap_or_default()
}
