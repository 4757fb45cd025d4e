//! The first rows of a distributor's file as text, read the way the engine reads it
//! (same decoding, CSV reader and XLSX sheet reader), for building a mapping from a
//! sample: the rows to show and the defaults guessed from them (format, delimiter,
//! header row).

use crate::engine::{cell_text, RowCells};
use crate::schema::{Format, SheetRef};
use crate::text::{self, Encoding};
use crate::SourceError;
use std::time::Instant;

/// One source row as text: 1-based line (CSV, where the record starts) or sheet row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SampleRow {
    pub line: u64,
    pub cells: Vec<String>,
}

/// The first rows of a file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sample {
    pub format: Format,
    /// The CSV delimiter used (`,` for a workbook).
    pub delimiter: char,
    pub rows: Vec<SampleRow>,
    /// Whether the file has more rows than were read.
    pub more: bool,
}

/// XLSX when the bytes are a zip (an XLSX workbook is one), else CSV.
pub fn detect_format(bytes: &[u8]) -> Format {
    if bytes.starts_with(b"PK\x03\x04") {
        Format::Xlsx
    } else {
        Format::Csv
    }
}

/// The delimiter (`,` `;` tab `|`) found most consistently on the first lines.
pub fn detect_delimiter(text: &str) -> char {
    let lines: Vec<&str> = text
        .lines()
        .filter(|l| !l.trim().is_empty())
        .take(30)
        .collect();
    let mut best = (',', 0usize);
    for d in [',', ';', '\t', '|'] {
        // Lines using it, weighted by how often: the delimiter of most lines wins.
        let on_lines = lines.iter().filter(|l| l.contains(d)).count();
        let total: usize = lines.iter().map(|l| l.matches(d).count()).sum();
        let score = on_lines.saturating_mul(1000).saturating_add(total);
        if score > best.1 {
            best = (d, score);
        }
    }
    best.0
}

fn texty(s: &str) -> bool {
    let t = s.trim();
    t.chars().any(|c| c.is_alphabetic())
        && !t.chars().all(|c| {
            c.is_ascii_digit() || matches!(c, '.' | ',' | '-' | '/' | ' ' | '$' | '€' | '£')
        })
}

/// The header row as a mapping's `header_row` gives it: the first row (1-based line)
/// of names, as wide as the table below it, all text, with a row after it; 0 when the
/// first row is already data (no header); 1 when nothing looks like a header.
pub fn detect_header_row(rows: &[SampleRow]) -> u64 {
    let filled = |r: &SampleRow| r.cells.iter().filter(|c| !c.trim().is_empty()).count();
    let width = rows.iter().map(filled).max().unwrap_or(0);
    if width < 2 {
        return rows.first().map_or(1, |r| r.line.max(1));
    }
    for (i, r) in rows.iter().enumerate() {
        let n = filled(r);
        if n * 2 < width || n < 2 || i + 1 >= rows.len() {
            continue;
        }
        if r.cells
            .iter()
            .filter(|c| !c.trim().is_empty())
            .all(|c| texty(c))
        {
            return r.line;
        }
    }
    // Numbers on the widest first row: a file without a header.
    match rows.iter().find(|r| filled(r) * 2 >= width) {
        Some(r) if r.line == 1 && r.cells.iter().any(|c| !c.trim().is_empty() && !texty(c)) => 0,
        _ => 1,
    }
}

fn sheet_ref(sheet: Option<&str>) -> Option<SheetRef> {
    let s = sheet?.trim();
    if s.is_empty() {
        return None;
    }
    match s.parse::<usize>() {
        Ok(i) if (1..=1000).contains(&i) => Some(SheetRef::Index(i)),
        _ => Some(SheetRef::Name(s.to_string())),
    }
}

/// Reads the first `max_rows` rows of a file as text. `delimiter` `None`: detected.
/// Errors are the engine's (a workbook that cannot be read, malformed CSV), located.
pub fn read_sample(
    bytes: &[u8],
    format: Format,
    delimiter: Option<char>,
    sheet: Option<&str>,
    max_rows: usize,
) -> Result<Sample, Vec<SourceError>> {
    let mut rows = Vec::new();
    let mut more = false;
    let mut take = |line: u64, cells: &dyn Fn(usize) -> String, width: usize| -> bool {
        if rows.len() >= max_rows {
            more = true;
            return false;
        }
        let mut v: Vec<String> = (0..width).map(cells).collect();
        while v.last().is_some_and(|c| c.is_empty()) {
            v.pop();
        }
        rows.push(SampleRow { line, cells: v });
        true
    };
    match format {
        Format::Xlsx => {
            let deadline = Instant::now() + crate::XLSX_TIME_LIMIT;
            let sheet = sheet_ref(sheet);
            let run = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                crate::xlsx::read_sheet(
                    sheet.as_ref(),
                    bytes,
                    &mut crate::xlsx::Rows(|line, row: &crate::xlsx::SheetRow<'_>| {
                        take(
                            line,
                            &|i| cell_text(&row.cell(i)).trim().to_string(),
                            row.width(),
                        )
                    }),
                    deadline,
                )
            }));
            match run {
                Ok(r) => r?,
                Err(_) => {
                    return Err(vec![SourceError {
                        line: 0,
                        column: None,
                        found: "a workbook that could not be read".into(),
                        expected: "an XLSX workbook".into(),
                    }])
                }
            }
            Ok(Sample {
                format,
                delimiter: ',',
                rows,
                more,
            })
        }
        Format::Csv => {
            let text = text::decode(bytes, Encoding::Auto).map_err(|line| {
                vec![SourceError {
                    line,
                    column: None,
                    found: "bytes that are not UTF-8".into(),
                    expected: "UTF-8 text".into(),
                }]
            })?;
            let d = delimiter.unwrap_or_else(|| detect_delimiter(&text));
            let mut reader = csv::ReaderBuilder::new()
                .has_headers(false)
                .flexible(true)
                .delimiter(u8::try_from(d).unwrap_or(b','))
                .from_reader(text.as_bytes());
            let mut lines = text::LineNumbers::new(text.as_bytes());
            let mut record = csv::StringRecord::new();
            loop {
                match reader.read_record(&mut record) {
                    Ok(false) => break,
                    Ok(true) => {
                        let line = record.position().map_or(0, |p| lines.line_at(p.byte()));
                        let r = &record;
                        if !take(
                            line,
                            &|i| cell_text(&r.cell(i)).trim().to_string(),
                            r.width(),
                        ) {
                            break;
                        }
                    }
                    Err(e) => {
                        return Err(vec![SourceError {
                            line: e.position().map_or(0, |p| lines.line_at(p.byte())),
                            column: None,
                            found: e.to_string(),
                            expected: "well-formed CSV".into(),
                        }])
                    }
                }
            }
            Ok(Sample {
                format,
                delimiter: d,
                rows,
                more,
            })
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_header_block_then_the_header() {
        let csv = "Statement No:,123\nStatement Period:,01/01/2016 - 01/31/2016\n\nUPC,Title,Units,Net $\n859712000019,Harbor Lights,5,40.00\nTOTAL,,5,40.00\n";
        let s = read_sample(csv.as_bytes(), Format::Csv, None, None, 20).unwrap();
        assert_eq!(s.delimiter, ',');
        assert_eq!(s.rows.len(), 5, "the blank line is no record");
        // Numbered as the engine numbers records (the csv reader's positions).
        let upc = s.rows.iter().find(|r| r.cells[0] == "UPC").unwrap().line;
        assert_eq!(detect_header_row(&s.rows), upc);
        let s = read_sample(b"a;b;c\n1;2;3\n", Format::Csv, None, None, 1).unwrap();
        assert_eq!((s.delimiter, s.rows.len(), s.more), (';', 1, true));
        let s = read_sample(b"123,4.50\n456,3.00\n", Format::Csv, None, None, 20).unwrap();
        assert_eq!(detect_header_row(&s.rows), 0);
        assert_eq!(detect_format(b"PK\x03\x04rest"), Format::Xlsx);
        assert!(read_sample(b"PK\x03\x04junk", Format::Xlsx, None, None, 20).is_err());
    }
}
