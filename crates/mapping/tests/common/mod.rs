//! Shared test helpers: the euro-dist-xlsx sample workbook, built in code.
#![allow(dead_code)]

use backstock_mapping::{Row, SourceError};
use rust_xlsxwriter::{ExcelDateTime, Format, Workbook};

/// A cell of the sample sheet.
pub enum C {
    S(&'static str),
    /// A number cell (what a spreadsheet stores as a number).
    N(f64),
    /// A date cell (serial number with a date format), year, month, day.
    D(u16, u8, u8),
    E,
}
use C::{D, E, N, S};

/// The rows of Klangwerk Vertrieb's March 2024 statement (sheet "Abrechnung"):
/// header block in rows 1-7, header on row 9, amounts mostly text with a decimal
/// comma (as the ERP exports them), a few true number and date cells.
pub fn euro_rows() -> Vec<Vec<C>> {
    vec![
        vec![S("Klangwerk Vertrieb GmbH")],
        vec![S("Labelabrechnung")],
        vec![S("Abrechnung Nr."), S("KV-2024-03-0118")],
        vec![S("Abrechnungszeitraum"), S("01.03.2024"), D(2024, 3, 31)],
        vec![S("Abrechnungsdatum"), D(2024, 4, 12)],
        vec![S("Label"), S("Fictional Records")],
        vec![S("Währung"), S("EUR")],
        vec![],
        vec![
            S("Datum"),
            S("Beleg"),
            S("TYPE"),
            S("EAN"),
            S("Artikelnr"),
            S("Interpret"),
            S("Titel"),
            S("Menge"),
            S("Einzelpreis"),
            S("Betrag"),
        ],
        vec![
            S("05.03.2024"),
            S("RE-88121"),
            S("VK"),
            N(4060123450010.0),
            S("FR-001"),
            S("The Marigolds"),
            S("Slow Weather"),
            N(40.0),
            S("12,50"),
            S("500,00"),
        ],
        vec![
            D(2024, 3, 8),
            S("RE-88190"),
            S("VK"),
            S("4060123450027"),
            S("FR-003"),
            S("Dana Okafor"),
            S("Tidewater"),
            N(25.0),
            S("13,20"),
            S("330,00"),
        ],
        vec![
            S("12.03.2024"),
            S("RE-88305"),
            S("VK"),
            S("4060123450034"),
            S("FR-005"),
            S("Dana Okafor"),
            S("Tidewater (Deluxe)"),
            S("1.050"),
            S("22,00"),
            S("23.100,00 €"),
        ],
        vec![
            S("22.03.2024"),
            S("RE-88411"),
            S("VK"),
            N(4060123450058.0),
            S("FR-006"),
            S("The Marigolds"),
            S("Slow Weather (Remixes)"),
            N(96.0),
            N(12.86),
            N(1234.56),
        ],
        vec![
            S("14.03.2024"),
            S("GS-10233"),
            S("RT"),
            S("4060123450010"),
            S("FR-001"),
            S("The Marigolds"),
            S("Slow Weather"),
            S("-3"),
            S("12,50"),
            S("37,50-"),
        ],
        vec![
            S("20.03.2024"),
            S("GS-10302"),
            S("RT"),
            S("4060123450041"),
            S("FR-004"),
            S("Night Bus Quartet"),
            S("Lamplighter"),
            N(-2.0),
            S("5,50"),
            S("(11,00)"),
        ],
        vec![
            S("31.03.2024"),
            E,
            S("ZS"),
            E,
            E,
            E,
            S("Zwischensumme Verkäufe/Retouren"),
            E,
            E,
            S("25.116,06"),
        ],
        vec![
            S("31.03.2024"),
            S("VG-2024-03"),
            S("GEB"),
            E,
            E,
            E,
            S("Vertriebsgebühr 18 %"),
            E,
            E,
            S("-4.520,89"),
        ],
        vec![
            S("31.03.2024"),
            S("RS-2024-03"),
            S("RES"),
            E,
            E,
            E,
            S("Retourenreserve 10 %"),
            E,
            E,
            S("-2.511,61"),
        ],
        vec![
            S("31.03.2024"),
            S("RS-2023-09"),
            S("FREI"),
            E,
            E,
            E,
            S("Freigabe Reserve 09/2023"),
            E,
            E,
            N(1520.4),
        ],
        vec![],
        vec![S("Summe"), E, E, E, E, E, E, E, E, S("19.603,96")],
        vec![S("Zahlbar innerhalb von 30 Tagen.")],
    ]
}

/// Builds an XLSX workbook from rows; the sheet is named `sheet`, after a first
/// sheet "Info" when `info_sheet_first`.
pub fn workbook(sheet: &str, rows: &[Vec<C>], info_sheet_first: bool) -> Vec<u8> {
    let mut wb = Workbook::new();
    let date_fmt = Format::new().set_num_format("dd.mm.yyyy");
    if info_sheet_first {
        let info = wb.add_worksheet();
        info.set_name("Info").expect("name");
        info.write_string(0, 0, "Siehe Blatt Abrechnung")
            .expect("write");
    }
    let ws = wb.add_worksheet();
    ws.set_name(sheet).expect("name");
    for (r, row) in rows.iter().enumerate() {
        for (c, cell) in row.iter().enumerate() {
            let (r, c) = (r as u32, c as u16);
            match cell {
                S(s) => {
                    ws.write_string(r, c, *s).expect("write");
                }
                N(n) => {
                    ws.write_number(r, c, *n).expect("write");
                }
                D(y, m, d) => {
                    let dt = ExcelDateTime::from_ymd(*y, *m, *d).expect("date");
                    ws.write_datetime_with_format(r, c, &dt, &date_fmt)
                        .expect("write");
                }
                E => {}
            }
        }
    }
    wb.save_to_buffer().expect("xlsx")
}

pub fn euro_workbook() -> Vec<u8> {
    workbook("Abrechnung", &euro_rows(), true)
}

/// Rows as `line|field,field,…` lines, for exact comparison.
pub fn show(rows: &[Row]) -> String {
    rows.iter()
        .map(|r| format!("{}|{}", r.line, r.fields.join(",")))
        .collect::<Vec<_>>()
        .join("\n")
}

pub fn show_errors(errors: &[SourceError]) -> String {
    errors
        .iter()
        .map(|e| e.to_string())
        .collect::<Vec<_>>()
        .join("\n")
}

/// Minor units (cents) of a canonical amount such as `-12.5` or `1234.56`.
pub fn cents(s: &str) -> i64 {
    let (neg, s) = match s.strip_prefix('-') {
        Some(r) => (true, r),
        None => (false, s),
    };
    let (int, frac) = s.split_once('.').unwrap_or((s, ""));
    let frac = format!("{frac:0<2}");
    let v = int.parse::<i64>().expect("int") * 100 + frac[..2].parse::<i64>().expect("frac");
    if neg {
        -v
    } else {
        v
    }
}

/// What the label is owed by the lines: sales − returns − fees − reserve withheld +
/// reserve released − chargebacks + adjustments, in cents.
pub fn net_cents(rows: &[Row]) -> i64 {
    rows.iter()
        .map(|r| {
            let a = cents(&r.fields[8]);
            match r.fields[5].as_str() {
                "sale" | "reserve_released" | "adjustment" => a,
                _ => -a,
            }
        })
        .sum()
}
