//! Issue 19.2: an XLSX read is bounded — what the zip inflates to, the longest text,
//! the cells and rows of a sheet — and refused with a clear error, never by running
//! out of memory.

mod common;

use backstock_mapping::{convert_xlsx, find_builtin, Overrides, SourceError};
use std::io::{Read, Write};
use std::time::Instant;

fn euro_sample() -> Vec<u8> {
    common::workbook("Abrechnung", &common::euro_rows(), false)
}

fn overrides() -> Overrides {
    Overrides {
        distributor: Some("klangwerk".into()),
        ..Overrides::default()
    }
}

fn convert(bytes: &[u8]) -> Result<Vec<backstock_mapping::Row>, Vec<SourceError>> {
    let m = find_builtin("euro-dist-xlsx").expect("mapping");
    convert_xlsx(&m, bytes, &overrides())
}

/// `bytes` with the zip entry `name` replaced by what `write` writes (deflated).
fn replace_entry(bytes: &[u8], name: &str, write: impl FnOnce(&mut dyn Write)) -> Vec<u8> {
    let mut zin = zip::ZipArchive::new(std::io::Cursor::new(bytes)).unwrap();
    let mut zout = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    let opts = zip::write::SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Deflated);
    let mut write = Some(write);
    for i in 0..zin.len() {
        let mut f = zin.by_index(i).unwrap();
        let n = f.name().unwrap().into_owned();
        zout.start_file(n.as_str(), opts).unwrap();
        if n == name {
            (write.take().unwrap())(&mut zout);
        } else {
            let mut v = Vec::new();
            f.read_to_end(&mut v).unwrap();
            zout.write_all(&v).unwrap();
        }
    }
    assert!(write.is_none(), "no entry {name}");
    zout.finish().unwrap().into_inner()
}

fn one_error(r: Result<Vec<backstock_mapping::Row>, Vec<SourceError>>) -> SourceError {
    let errs = r.expect_err("refused");
    assert_eq!(errs.len(), 1, "{errs:?}");
    errs.into_iter().next().unwrap()
}

#[test]
fn the_sample_still_reads() {
    assert!(convert(&euro_sample()).expect("converts").len() > 5);
}

#[test]
fn a_shared_string_that_inflates_past_the_limit_is_refused_without_inflating_it() {
    // One shared string of 1 GiB: a ~1 MB upload.
    let bomb = replace_entry(&euro_sample(), "xl/sharedStrings.xml", |w| {
        w.write_all(br#"<?xml version="1.0"?><sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" count="1" uniqueCount="1"><si><t>"#).unwrap();
        let chunk = vec![b'a'; 1 << 20];
        for _ in 0..1024 {
            w.write_all(&chunk).unwrap();
        }
        w.write_all(b"</t></si></sst>").unwrap();
    });
    assert!(bomb.len() < 3 << 20, "{} bytes", bomb.len());
    let t = Instant::now();
    let e = one_error(convert(&bomb));
    assert!(t.elapsed().as_secs() < 20, "{:?}", t.elapsed());
    // Refused at its first MiB: no text of a cell is that long.
    assert!(e.expected.contains("32767 characters"), "{e:?}");

    // A gigabyte of short strings: refused once 128 MiB came out.
    let bomb = replace_entry(&euro_sample(), "xl/sharedStrings.xml", |w| {
        w.write_all(br#"<?xml version="1.0"?><sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">"#).unwrap();
        let one = format!("<si><t>{}</t></si>", "a".repeat(1000));
        let chunk = one.repeat(1000);
        for _ in 0..1000 {
            w.write_all(chunk.as_bytes()).unwrap();
        }
        w.write_all(b"</sst>").unwrap();
    });
    assert!(bomb.len() < 8 << 20, "{} bytes", bomb.len());
    let t = Instant::now();
    let e = one_error(convert(&bomb));
    assert!(t.elapsed().as_secs() < 20, "{:?}", t.elapsed());
    assert!(e.expected.contains("at most 128 MiB uncompressed"), "{e:?}");
}

#[test]
fn a_text_longer_than_any_cell_is_refused_before_the_workbook_is_opened() {
    // 2 MiB of one shared string: under the inflated limit, over the longest run.
    let wb = replace_entry(&euro_sample(), "xl/sharedStrings.xml", |w| {
        w.write_all(br#"<?xml version="1.0"?><sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><si><t>"#).unwrap();
        w.write_all(&vec![b'a'; 2 << 20]).unwrap();
        w.write_all(b"</t></si></sst>").unwrap();
    });
    let e = one_error(convert(&wb));
    assert!(e.found.contains("xl/sharedStrings.xml"), "{e:?}");
    assert!(e.expected.contains("32767 characters"), "{e:?}");
}

fn sheet(cells: &str) -> String {
    format!(
        r#"<?xml version="1.0"?><worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData>{cells}</sheetData></worksheet>"#
    )
}

fn inline(r: &str, text: &str) -> String {
    format!(r#"<c r="{r}" t="inlineStr"><is><t>{text}</t></is></c>"#)
}

#[test]
fn a_cell_longer_than_excel_allows_is_refused_at_its_cell() {
    let long = "x".repeat(40_000);
    let xml = sheet(&format!(
        r#"<row r="10">{}{}</row>"#,
        inline("A10", "ok"),
        inline("B10", &long)
    ));
    let wb = replace_entry(&euro_sample(), "xl/worksheets/sheet1.xml", |w| {
        w.write_all(xml.as_bytes()).unwrap()
    });
    let e = one_error(convert(&wb));
    assert_eq!(
        (e.line, e.column.clone()),
        (10, Some((2, "B10".into()))),
        "{e:?}"
    );
    assert!(e.expected.contains("32767 characters"), "{e:?}");
}

#[test]
fn two_cells_far_apart_are_read_without_the_rectangle_between() {
    // A1 and XFD1048576: a rectangular read allocates 16,384 × 1,048,576 cells.
    let xml = sheet(&format!(
        r#"<row r="1">{}</row><row r="1048576">{}</row>"#,
        inline("A1", "x"),
        inline("XFD1048576", "y")
    ));
    let wb = replace_entry(&euro_sample(), "xl/worksheets/sheet1.xml", |w| {
        w.write_all(xml.as_bytes()).unwrap()
    });
    let t = Instant::now();
    let errs = convert(&wb).expect_err("no header row");
    assert!(t.elapsed().as_secs() < 20, "{:?}", t.elapsed());
    assert!(
        errs.iter().any(|e| e.expected.contains("header row")),
        "{errs:?}"
    );
    // Past Excel's last row: refused at the cell.
    let xml = sheet(&format!(
        r#"<row r="2000000">{}</row>"#,
        inline("A2000000", "x")
    ));
    let wb = replace_entry(&euro_sample(), "xl/worksheets/sheet1.xml", |w| {
        w.write_all(xml.as_bytes()).unwrap()
    });
    let e = one_error(convert(&wb));
    assert_eq!(e.line, 2_000_000, "{e:?}");
    assert!(e.expected.contains("1048576 rows"), "{e:?}");
}
