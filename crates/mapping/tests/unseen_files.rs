//! Distributors' files as they come from real systems (found by the generated
//! layouts of `crates/cli/tests/layouts`): Windows line endings, blank lines, a title
//! block one line longer than the mapping says, report settings in brackets,
//! barcodes a spreadsheet wrote in scientific form, dates as serial numbers, two
//! columns of one name. Each is read exactly, or refused naming line and column.

mod common;

use backstock_mapping::{convert_csv, convert_xlsx, read_sample, Format, Mapping, Overrides};
use common::{show, show_errors, workbook, C};

fn mapping(toml: &str) -> Mapping {
    Mapping::parse(toml).unwrap_or_else(|e| panic!("{e}\n{toml}"))
}

fn given() -> Overrides {
    Overrides {
        distributor: Some("dist".into()),
        statement_id: Some("S-1".into()),
        period_start: Some("2016-03-01".into()),
        period_end: Some("2016-03-31".into()),
        issued_on: Some("2016-04-15".into()),
        currency: Some("USD".into()),
    }
}

const SIMPLE: &str = r#"
name = "simple"
header_row = 3
[columns]
sku = ["UPC"]
[[lines]]
kind = "sale"
amount = "Amount"
units = "Units"
"#;

/// A Windows (CRLF) file: every line is numbered as an editor numbers it, so the
/// header is found on its line and a bad value is named on its own line (the csv
/// reader's numbers were one too low from the second line on).
#[test]
fn crlf_lines_are_numbered_as_an_editor_numbers_them() {
    let m = mapping(SIMPLE);
    let text = "Title\r\nStatement 1\r\nUPC,Units,Amount\r\n199758300217,2,28.00\r\n199758300224,1,7.90\r\n";
    let rows = convert_csv(&m, text.as_bytes(), &given()).expect("rows");
    assert_eq!(
        rows.iter().map(|r| r.line).collect::<Vec<_>>(),
        [4, 5],
        "{}",
        show(&rows)
    );
    let bad = text.replace("7.90", "7.9.0");
    let errs = convert_csv(&m, bad.as_bytes(), &given()).expect_err("bad amount");
    assert_eq!(
        show_errors(&errs),
        "line 5, column 3 (Amount): found \"7.9.0\", expected a decimal amount such as 1,234.56"
    );
    // The sample the web's mapping builder shows is numbered the same way.
    let s = read_sample(text.as_bytes(), Format::Csv, None, None, 10).expect("sample");
    assert_eq!(
        s.rows.iter().map(|r| r.line).collect::<Vec<_>>(),
        [1, 2, 3, 4, 5]
    );
}

/// Blank lines (truly empty, not `,,,`) above the header and between the rows.
#[test]
fn blank_lines_do_not_shift_the_header_or_the_lines() {
    let m = mapping(SIMPLE);
    let text = "Title\n\nUPC,Units,Amount\n199758300217,2,28.00\n\n\n199758300224,1,7.9.0\n";
    let errs = convert_csv(&m, text.as_bytes(), &given()).expect_err("bad amount");
    assert_eq!(
        show_errors(&errs),
        "line 7, column 3 (Amount): found \"7.9.0\", expected a decimal amount such as 1,234.56"
    );
}

/// This month's title block has one more line (or a mapping saved with a header row
/// counted one too low): the header is the first row below `header_row` that has
/// every column the mapping names, and the rows above it are the header area.
#[test]
fn the_header_is_found_below_a_longer_title_block() {
    let m = mapping(
        r#"
name = "block"
header_row = 3
[columns]
sku = ["UPC"]
[statement]
statement_id = { after = "Statement No:" }
[[lines]]
kind = "sale"
amount = "Amount"
units = "Units"
"#,
    );
    let text = "Distributor Inc.\n\"12 Main St,\nSpringfield\"\nStatement No:,ST-9\n\nUPC,Units,Amount\n199758300217,2,28.00\n";
    let o = Overrides {
        statement_id: None,
        ..given()
    };
    let rows = convert_csv(&m, text.as_bytes(), &o).expect("rows");
    assert_eq!(
        show(&rows),
        "7|ST-9,dist,2016-03-01,2016-03-31,2016-04-15,sale,199758300217,2,28.00,USD,"
    );
    // No row with the columns: the header row as the mapping says it is named.
    let errs =
        convert_csv(&m, "a\nb\nUPC,Qty,Amount\n1,2,3\n".as_bytes(), &o).expect_err("no header");
    assert_eq!(
        show_errors(&errs),
        "line 3: found \"UPC, Qty, Amount\", expected a column named \"Units\" (units) on the header row"
    );
}

/// Two columns of one name (`Qty` under both Sales and Returns): which one a
/// mapping naming it means is never guessed (the first was taken: returns read as
/// sales).
#[test]
fn a_name_two_columns_share_is_refused_not_guessed() {
    let m = mapping(
        r#"
name = "two-rows"
header_row = 2
[columns]
sku = ["UPC"]
[[lines]]
kind = "sale"
amount = 3
units = "Qty"
[[lines]]
kind = "return"
amount = 5
units = 4
"#,
    );
    let text = ",Sales,,Returns,\nUPC,Qty,Value,Qty,Value\n199758300217,5,70.00,1,14.00\n";
    let errs = convert_csv(&m, text.as_bytes(), &given()).expect_err("ambiguous");
    assert_eq!(
        show_errors(&errs),
        "line 2, column 2 (Qty): found \"2 columns named \\\"Qty\\\" (columns 2 and 4)\", expected one column named \"Qty\" on the header row: give the column by number in the mapping (such as 2)"
    );
    let by_number = m.to_toml().replace("units = \"Qty\"", "units = 2");
    let rows = convert_csv(&mapping(&by_number), text.as_bytes(), &given()).expect("rows");
    assert_eq!(rows.len(), 2, "{}", show(&rows));
}

/// Report settings in brackets after `=` (Amazon: `Viewing Range=[3/1/16 - 3/31/16]`,
/// `Currency=[USD]`).
#[test]
fn header_values_in_brackets_after_an_equals_sign() {
    let m = mapping(
        r#"
name = "settings"
header_row = 2
date_format = "%m/%d/%y"
[columns]
sku = ["UPC"]
[statement]
currency = { after = "Currency" }
period_start = { after = "Viewing Range", split = " - ", part = 1 }
period_end = { after = "Viewing Range", split = " - ", part = 2 }
[[lines]]
kind = "sale"
amount = "Shipped COGS"
units = "Shipped Units"
"#,
    );
    let text = "Program=[Retail],Viewing Range=[3/1/16 - 3/31/16],Currency=[USD]\nUPC,Shipped Units,Shipped COGS\n199758300217,3,\"$1,042.00\"\n";
    let o = Overrides {
        currency: None,
        period_start: None,
        period_end: None,
        ..given()
    };
    let rows = convert_csv(&m, text.as_bytes(), &o).expect("rows");
    assert_eq!(
        show(&rows),
        "3|S-1,dist,2016-03-01,2016-03-31,2016-04-15,sale,199758300217,3,1042.00,USD,"
    );
}

/// A CSV saved from Excel writes a UPC column as numbers in scientific form: all its
/// digits (`1.99758300217E+11`) read as the barcode; digits lost (`1.99758E+11`)
/// refused at the cell, saying why.
#[test]
fn barcodes_in_scientific_form() {
    let m = mapping(
        r#"
name = "sci"
[columns]
sku = ["UPC", "Item"]
[[lines]]
kind = "sale"
amount = "Amount"
units = "Units"
"#,
    );
    let text =
        "Item,UPC,Units,Amount\r\nA-1,1.99758300217E+11,2,28.00\r\nA-5,6.7003123457E+10,1,8.50\r\n";
    let rows = convert_csv(&m, text.as_bytes(), &given()).expect("rows");
    assert_eq!(
        rows.iter()
            .map(|r| r.fields[6].as_str())
            .collect::<Vec<_>>(),
        ["199758300217", "067003123457"]
    );
    let lossy = text.replace("1.99758300217E+11", "1.99758E+11");
    let errs = convert_csv(&m, lossy.as_bytes(), &given()).expect_err("digits lost");
    assert_eq!(errs.len(), 1, "{}", show_errors(&errs));
    assert_eq!(errs[0].line, 2);
    assert_eq!(errs[0].column, Some((2, "UPC".to_string())));
    assert_eq!(errs[0].found, "1.99758E+11");
    assert!(
        errs[0].expected.contains("scientific form") && errs[0].expected.contains("all its digits"),
        "{}",
        errs[0].expected
    );
}

/// XLSX dates as bare serial numbers (a General-format cell holding 42460), in a
/// date column, a statement column and the header block.
#[test]
fn xlsx_serial_number_dates() {
    use C::{N, S};
    let m = mapping(
        r#"
name = "serials"
format = "xlsx"
header_row = 3
date_format = "%m/%d/%Y"
[columns]
sku = ["UPC"]
date = "Date"
[statement]
issued_on = { after = "Issued" }
period_start = { from_dates = "month" }
period_end = { column = "Period End" }
[[lines]]
kind = "sale"
amount = "Amount"
units = "Units"
"#,
    );
    let rows = vec![
        vec![S("Issued"), N(42475.0)],
        vec![],
        vec![
            S("Date"),
            S("Period End"),
            S("UPC"),
            S("Units"),
            S("Amount"),
        ],
        // 2016-03-05, 2016-03-31
        vec![N(42434.0), N(42460.0), N(199758300217.0), N(2.0), N(28.0)],
    ];
    let wb = workbook("Sheet1", &rows, false);
    let o = Overrides {
        issued_on: None,
        period_start: None,
        period_end: None,
        ..given()
    };
    let got = convert_xlsx(&m, &wb, &o).expect("rows");
    assert_eq!(
        show(&got),
        "4|S-1,dist,2016-03-01,2016-03-31,2016-04-15,sale,199758300217,2,28,USD,"
    );
    // A number that is no plausible date (a year, a count) is still refused.
    let mut bad = rows;
    bad[3][0] = N(2016.0);
    let errs = convert_xlsx(&m, &workbook("Sheet1", &bad, false), &o).expect_err("not a date");
    assert_eq!(
        show_errors(&errs),
        "line 4, column 1 (Date): found \"2016\", expected a date such as 01/31/2024 (%m/%d/%Y)"
    );
}

/// One cell read by two lines (Bandcamp's `sub total`: the sale and Bandcamp's share)
/// is one problem, not two.
#[test]
fn a_bad_cell_two_lines_read_is_one_problem() {
    let m = mapping(
        r#"
name = "twice"
[columns]
sku = ["UPC"]
[[lines]]
kind = "sale"
amount = "Sub Total"
[[lines]]
kind = "fee"
amount = "Sub Total"
minus = ["Net"]
"#,
    );
    let errs = convert_csv(
        &m,
        "UPC,Sub Total,Net\n199758300217,1.2.3,9.00\n".as_bytes(),
        &given(),
    )
    .expect_err("bad");
    assert_eq!(
        show_errors(&errs),
        "line 2, column 2 (Sub Total): found \"1.2.3\", expected a decimal amount such as 1,234.56"
    );
}

/// Excel's export tricks: a barcode written as the formula `="012345678905"` (so a
/// spreadsheet keeps its leading zero), zeros in accounting style (`$ -`, `-`).
#[test]
fn formula_text_and_accounting_zeros() {
    let m = mapping(
        r#"
name = "excel-tricks"
[columns]
sku = ["UPC"]
[[lines]]
kind = "sale"
amount = "Gross"
units = "Sold"
[[lines]]
kind = "return"
amount = "Returns"
units = "Returned"
sign = "net"
"#,
    );
    let text = "UPC,Sold,Gross,Returned,Returns\n\"=\"\"067003123457\"\"\",3,$25.50,-, $ -   \n";
    let rows = convert_csv(&m, text.as_bytes(), &given()).expect("rows");
    assert_eq!(
        show(&rows),
        "2|S-1,dist,2016-03-01,2016-03-31,2016-04-15,sale,067003123457,3,25.50,USD,"
    );
}
