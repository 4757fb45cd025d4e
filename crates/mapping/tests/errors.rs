//! Problems are reported with line, column, the value found and what was expected;
//! every problem of a file is listed (up to 100); mapping errors name the TOML key.

mod common;

use backstock_mapping::{
    convert_csv, convert_xlsx, find_builtin, Mapping, Overrides, SourceError, MAX_ERRORS,
};
use common::{show, show_errors, workbook, C};

fn indie_text() -> String {
    std::fs::read_to_string(format!(
        "{}/tests/data/indie-dist-us.csv",
        env!("CARGO_MANIFEST_DIR")
    ))
    .expect("sample")
}

fn indie(text: &str, o: &Overrides) -> Result<Vec<backstock_mapping::Row>, Vec<SourceError>> {
    let m = find_builtin("indie-dist-us").expect("mapping");
    convert_csv(&m, text.as_bytes(), o)
}

fn harbor_lane() -> Overrides {
    Overrides {
        distributor: Some("harbor-lane".into()),
        ..Overrides::default()
    }
}

#[test]
fn bad_date_in_the_header_block() {
    let text = indie_text().replace("Statement Date:,02/15/2024", "Statement Date:,02/30/2024");
    let errs = indie(&text, &harbor_lane()).expect_err("bad date");
    assert_eq!(
        show_errors(&errs),
        "line 6, column 2 (B6): found \"02/30/2024\", expected the date the statement was issued (issued_on): a date such as 01/31/2024"
    );
    assert_eq!(errs[0].line, 6);
    assert_eq!(errs[0].column, Some((2, "B6".to_string())));
}

#[test]
fn bad_date_in_a_date_column() {
    let mut rows = common::euro_rows();
    rows[10][0] = C::S("31.02.2024");
    let m = find_builtin("euro-dist-xlsx").expect("mapping");
    let o = Overrides {
        distributor: Some("klangwerk".into()),
        ..Overrides::default()
    };
    let errs = convert_xlsx(&m, &workbook("Abrechnung", &rows, false), &o).expect_err("date");
    assert_eq!(
        show_errors(&errs),
        "line 11, column 1 (Datum): found \"31.02.2024\", expected a date that exists (written as the layout writes dates, but there is no such day), such as 31.01.2024 (%d.%m.%Y)"
    );
}

#[test]
fn bad_numbers_every_one_listed() {
    let text = indie_text()
        .replace("$570.00,($165.00)", "1.2.3,($165.00)")
        .replace(",38,11,27,", ",38,11.5,27,")
        .replace("\"($5,801.60)\"", "\"($5,80.160)\"");
    let errs = indie(&text, &harbor_lane()).expect_err("bad numbers");
    assert_eq!(
        show_errors(&errs),
        "line 12, column 9 (Gross Sales $): found \"1.2.3\", expected a decimal amount such as 1,234.56\n\
         line 12, column 7 (Units Returned): found \"11.5\", expected a whole number of units (at most 1,000,000,000)\n\
         line 14, column 11 (Dist Fee $): found \"($5,80.160)\", expected a decimal amount such as 1,234.56"
    );
}

#[test]
fn decimal_comma_amounts_are_exact_and_errors_say_so() {
    let toml = r#"
name = "eu-csv"
format = "csv"
delimiter = ";"
decimal = ","
date_format = "%d.%m.%Y"
[columns]
sku = "Artikel"
[statement]
distributor = "eu"
statement_id = "S-1"
period_start = "2024-01-01"
period_end = "2024-01-31"
issued_on = "2024-02-10"
currency = "EUR"
[[lines]]
kind = "sale"
amount = "Net Amount"
units = 4
"#;
    let m = Mapping::parse(toml).expect("mapping");
    let csv = "Artikel;Titel;Datum;Menge;Net Amount\n\
               A1;x;01.01.2024;1;1.234,56\n\
               A2;x;01.01.2024;-2;(12,00)\n\
               A3;x;01.01.2024;1;12,00-\n\
               A4;x;01.01.2024;3;€ 1.000.000,01\n\
               A5;x;01.01.2024;0;0,00\n\
               A7;x;01.01.2024;1;EUR -7,1\n";
    let rows = convert_csv(&m, csv.as_bytes(), &Overrides::default())
        .unwrap_or_else(|e| panic!("{}", show_errors(&e)));
    let got: Vec<String> = rows
        .iter()
        .map(|r| {
            format!(
                "{} {} {} {}",
                r.fields[5], r.fields[6], r.fields[7], r.fields[8]
            )
        })
        .collect();
    assert_eq!(
        got,
        [
            "sale A1 1 1234.56",
            "return A2 2 12.00",
            "return A3 1 12.00",
            "sale A4 3 1000000.01",
            "return A7 1 7.10",
        ]
    );

    // A cent's fraction is more than EUR has: refused at its cell, never rounded.
    let bad = "Artikel;Titel;Datum;Menge;Net Amount\n\
               A1;x;01.01.2024;1;1.234,56\n\
               A1;x;01.01.2024;1;1.2.3\n\
               A1;x;01.01.2024;1;12.50\n\
               A6;x;01.01.2024;1;0,005\n";
    let errs = convert_csv(&m, bad.as_bytes(), &Overrides::default()).expect_err("bad");
    assert_eq!(
        show_errors(&errs),
        "line 3, column 5 (Net Amount): found \"1.2.3\", expected a decimal amount such as 1.234,56\n\
         line 4, column 5 (Net Amount): found \"12.50\", expected a decimal amount such as 1.234,56\n\
         line 5, column 5 (Net Amount): found \"0,005\", expected an amount with at most 2 decimals for EUR, as the currency has (amounts are never rounded)"
    );
}

#[test]
fn missing_column() {
    let text = indie_text().replace(",Units Sold,", ",Qty Sold,");
    let errs = indie(&text, &harbor_lane()).expect_err("missing column");
    assert_eq!(
        show_errors(&errs),
        "line 9: found \"UPC, Catalog #, Artist, Title, Format, Qty Sold, Units Returned, Net Units, Gross Sales $, Returns $, Dist Fee $, Net $\", expected a column named \"Units Sold\" (units) on the header row"
    );
}

#[test]
fn header_names_match_case_insensitively_and_trimmed() {
    let text = indie_text().replace(",Units Sold,", ",  units   SOLD ,");
    let rows = indie(&text, &harbor_lane()).unwrap_or_else(|e| panic!("{}", show_errors(&e)));
    assert_eq!(rows.len(), 15);
}

#[test]
fn missing_statement_level_values() {
    let errs = indie(&indie_text(), &Overrides::default()).expect_err("no distributor");
    assert_eq!(
        show_errors(&errs),
        "file: found \"\", expected the distributor's short name (distributor): mapping indie-dist-us has no statement.distributor, so give it on the command line"
    );

    let text = indie_text().replace(
        "Statement No:,HLD-240131-0457",
        "Reference:,HLD-240131-0457",
    );
    let errs = indie(&text, &harbor_lane()).expect_err("no statement number");
    assert_eq!(
        show_errors(&errs),
        "file: found \"\", expected a statement id (statement_id): a cell starting with \"Statement No:\" above the header row"
    );

    // An override supplies it.
    let o = Overrides {
        statement_id: Some("HLD-0457".into()),
        ..harbor_lane()
    };
    let rows = indie(&text, &o).unwrap_or_else(|e| panic!("{}", show_errors(&e)));
    assert!(rows.iter().all(|r| r.fields[0] == "HLD-0457"));

    let text = indie_text().replace("Currency:,USD", "Currency:,");
    let errs = indie(&text, &harbor_lane()).expect_err("empty currency");
    assert_eq!(
        show_errors(&errs),
        "line 7, column 1 (A7): found \"\", expected a currency code such as USD or EUR (currency)"
    );
}

#[test]
fn bad_overrides() {
    let o = Overrides {
        currency: Some("US Dollars".into()),
        period_end: Some("2024-02-30".into()),
        ..harbor_lane()
    };
    let errs = indie(&indie_text(), &o).expect_err("bad overrides");
    assert_eq!(
        show_errors(&errs),
        "file: found \"US Dollars\", expected a currency code such as USD or EUR (currency) (given on the command line)\n\
         file: found \"2024-02-30\", expected the last day of the statement period (period_end): a date such as 2024-01-31 (given on the command line)"
    );
    let o = Overrides {
        period_start: Some("2024-02-01".into()),
        ..harbor_lane()
    };
    let errs = indie(&indie_text(), &o).expect_err("period");
    assert_eq!(
        show_errors(&errs),
        "line 10: found \"period 2024-02-01 to 2024-01-31\", expected a period end on or after the period start"
    );
}

#[test]
fn unknown_kind_code_and_sale_without_item_code() {
    let mut rows = common::euro_rows();
    rows[9][2] = C::S("XX");
    rows[10][3] = C::E;
    rows[10][4] = C::S("  ");
    let m = find_builtin("euro-dist-xlsx").expect("mapping");
    let o = Overrides {
        distributor: Some("klangwerk".into()),
        ..Overrides::default()
    };
    let errs = convert_xlsx(&m, &workbook("Abrechnung", &rows, false), &o).expect_err("errors");
    assert_eq!(
        show_errors(&errs),
        "line 10, column 3 (TYPE): found \"XX\", expected one of the codes FREI, GEB, RES, RT, VK, ZS\n\
         line 11, column 4 (EAN): found \"\", expected an item code (UPC, EAN or catalog number) on sale and return lines"
    );
}

#[test]
fn file_shorter_than_the_header_row() {
    let errs = indie("Statement No:,1\n", &harbor_lane()).expect_err("short");
    assert_eq!(
        show_errors(&errs),
        "line 9: found \"the end of the file\", expected the header row on line 9 (header_row in the mapping)"
    );
}

#[test]
fn not_a_workbook() {
    let m = find_builtin("euro-dist-xlsx").expect("mapping");
    let errs = convert_xlsx(&m, b"PK\x03\x04 not really", &Overrides::default()).expect_err("x");
    assert_eq!(errs.len(), 1);
    assert_eq!(errs[0].line, 0);
    assert_eq!(errs[0].expected, "an XLSX workbook");
}

#[test]
fn invalid_utf8_when_utf8_is_required() {
    let toml = find_builtin("indie-dist-us")
        .expect("m")
        .to_toml()
        .replace("encoding = \"auto\"", "encoding = \"utf-8\"");
    let m = Mapping::parse(&toml).expect("m");
    let mut bytes = indie_text().into_bytes();
    bytes.extend_from_slice(b"caf\xe9\n");
    let errs = convert_csv(&m, &bytes[..], &harbor_lane()).expect_err("latin-1");
    assert_eq!(
        show_errors(&errs),
        "line 21: found \"bytes that are not UTF-8\", expected UTF-8 text (or set encoding = \"windows-1252\" or \"auto\")"
    );
}

#[test]
fn errors_are_capped() {
    let mut text = indie_text();
    let cut = text.find("Reserve for").expect("reserve");
    text.truncate(cut);
    for _ in 0..150 {
        text.push_str("199758300217,FR-001,A,T,LP,x,0,0,$1.00,$0.00,$0.00,$1.00\n");
    }
    let errs = indie(&text, &harbor_lane()).expect_err("many");
    assert_eq!(errs.len(), MAX_ERRORS);
    assert_eq!(errs[0].to_string(), "line 16, column 6 (Units Sold): found \"x\", expected a whole number of units (at most 1,000,000,000)");
}

#[test]
fn rows_above_header_skip_rows_and_skip_if_empty() {
    let toml = r#"
name = "t"
header_row = 2
skip_rows_after_header = 1
skip_if_column_empty = ["Code"]
[columns]
sku = "Code"
[statement]
statement_id = { cell = "B1" }
distributor = "d"
period_start = { from_dates = "day" }
period_end = { from_dates = "day" }
issued_on = { template = "{period_end}" }
currency = "USD"
[[lines]]
kind = "sale"
amount = "Amt"
[[rules]]
column = 1
equals = "void"
action = "skip"
"#;
    let mut m_toml = toml.to_string();
    m_toml = m_toml.replace("[columns]", "[columns]\ndate = \"When\"");
    let m = Mapping::parse(&m_toml).expect("mapping");
    let csv = "Report,R-9\nCode,When,Amt\n(units in pcs),,\nA,2024-03-05,1.00\n,2024-03-09,\nvoid,2024-12-01,1\nB,2024-03-02,2.50\n";
    let rows = convert_csv(&m, csv.as_bytes(), &Overrides::default())
        .unwrap_or_else(|e| panic!("{}", show_errors(&e)));
    assert_eq!(
        show(&rows),
        "4|R-9,d,2024-03-02,2024-03-05,2024-03-05,sale,A,0,1.00,USD,\n\
         7|R-9,d,2024-03-02,2024-03-05,2024-03-05,sale,B,0,2.50,USD,"
    );
    // A row passed over (its code empty, or in the rows below the header) that holds
    // money is refused at its cell, never dropped from what the statement says is due.
    let freight = csv.replace(",2024-03-09,\n", ",2024-03-09,5.00\n");
    let errs = convert_csv(&m, freight.as_bytes(), &Overrides::default()).expect_err("money");
    assert_eq!(
        show_errors(&errs),
        "line 5, column 3 (Amt): found \"5.00\", expected no amount on a row passed over because its \"Code\" cell is empty (skip_if_column_empty): add a [[rules]] entry for rows like it (a fee, freight, chargeback or adjustment line), or action = \"skip\" if the amount is not part of what the statement says is due"
    );
    let no_sub_header = csv.replace("(units in pcs),,\n", "");
    let errs =
        convert_csv(&m, no_sub_header.as_bytes(), &Overrides::default()).expect_err("skipped sale");
    assert_eq!(
        show_errors(&errs),
        "line 3, column 3 (Amt): found \"1.00\", expected no amount on the 1 row below the header that the mapping passes over (skip_rows_after_header = 1): this file has no such row there — check skip_rows_after_header for this layout (a row of money to leave out on purpose, an opening balance, takes a [[rules]] entry with action = \"skip\")"
    );
}

#[test]
fn no_header_row_columns_by_number() {
    let toml = r#"
name = "t"
header_row = 0
[columns]
sku = 1
[statement]
statement_id = "X"
distributor = "d"
period_start = "2024-01-01"
period_end = "2024-01-31"
issued_on = "2024-02-01"
currency = "usd"
[[lines]]
kind = "fee"
amount = 3
units = 2
"#;
    let m = Mapping::parse(toml).expect("mapping");
    let rows = convert_csv(&m, "A,1,2.00\nB,,-3\n".as_bytes(), &Overrides::default())
        .unwrap_or_else(|e| panic!("{}", show_errors(&e)));
    assert_eq!(
        show(&rows),
        "1|X,d,2024-01-01,2024-01-31,2024-02-01,fee,A,1,2.00,USD,\n\
         2|X,d,2024-01-01,2024-01-31,2024-02-01,adjustment,B,0,3,USD,"
    );
    let errs = convert_csv(&m, "A,1,x\n".as_bytes(), &Overrides::default()).expect_err("x");
    assert_eq!(
        show_errors(&errs),
        "line 1, column 3 (C): found \"x\", expected a decimal amount such as 1,234.56"
    );
}

// --- mapping errors name the key ------------------------------------------------

fn parse_err(toml: &str) -> String {
    Mapping::parse(toml).expect_err("should fail").to_string()
}

const MIN: &str =
    "name = \"t\"\n[columns]\nsku = \"UPC\"\n[[lines]]\nkind = \"sale\"\namount = \"Amount\"\n";

#[test]
fn mapping_errors_name_the_key() {
    assert!(Mapping::parse(MIN).is_ok());
    assert!(parse_err("name = ").starts_with("mapping: not valid TOML"));
    assert_eq!(
        parse_err(&format!("delimitr = \";\"\n{MIN}")),
        "mapping key `delimitr`: unknown key (expected one of: name, description, format, sheet, delimiter, encoding, header_row, skip_rows_after_header, skip_if_column_empty, optional_columns, empty_values, decimal, thousands, currency_symbols, date_format, columns, kind_column, statement, lines, rules)"
    );
    assert_eq!(
        parse_err(&MIN.replace("kind = \"sale\"", "kind = \"sales\"")),
        "mapping key `lines[1].kind`: expected one of sale, return, fee, reserve_withheld, reserve_released, chargeback, adjustment, found \"sales\""
    );
    assert_eq!(
        parse_err(&format!("{MIN}[[lines]]\nkind = \"fee\"\n")),
        "mapping key `lines[2].amount`: required: the column holding the amount"
    );
    assert_eq!(
        parse_err(&format!("date_format = \"%Y/%q/%d\"\n{MIN}")),
        "mapping key `date_format`: expected a format such as \"%m/%d/%Y\" or \"%d.%m.%Y\" (or a list of them): %q is not supported (use %Y %y %m %d %b)"
    );
    assert_eq!(
        parse_err(&format!("format = \"xlsx\"\ndelimiter = \";\"\n{MIN}")),
        "mapping key `delimiter`: only for format = \"csv\""
    );
    assert_eq!(
        parse_err(&format!("header_row = \"3\"\n{MIN}")),
        "mapping key `header_row`: expected a whole number from 0 to 1000000, found \"3\""
    );
    assert_eq!(
        parse_err(&format!("decimal = \",\"\nthousands = \",\"\n{MIN}")),
        "mapping key `thousands`: expected the thousands separator(s), not digits, '-' or the decimal separator ',', found \",\""
    );
    assert_eq!(
        parse_err(&format!("{MIN}[statement]\nissued_on = {{ template = \"{{statement_id}}\" }}\n")),
        "mapping key `statement.issued_on.template`: expected placeholders among {distributor} {currency} {period_start} {period_end}, found {statement_id}"
    );
    assert_eq!(
        parse_err(&format!("header_row = 3\n{MIN}[statement]\nstatement_id = {{ cell = \"B3\" }}\n")),
        "mapping key `statement.statement_id`: expected a cell above the header row 3 (the header area), found B3"
    );
    assert_eq!(
        parse_err(&format!(
            "{MIN}[statement]\nperiod_end = {{ from_dates = \"month\" }}\n"
        )),
        "mapping key `statement.period_end`: `from_dates` needs columns.date"
    );
    assert_eq!(
        parse_err(&format!("{MIN}[statement]\nperiod_end = \"31.01.2024\"\n")),
        "mapping key `statement.period_end`: expected a date YYYY-MM-DD, found \"31.01.2024\""
    );
    assert_eq!(
        parse_err(&format!("{MIN}[statement]\ncurrency = {{ cell = \"B1\", after = \"x\" }}\n")),
        "mapping key `statement.currency`: expected exactly one of value, column, cell, after, template, from_dates; found cell, after"
    );
    assert_eq!(
        parse_err(&format!("header_row = 0\n{MIN}")),
        "mapping key `columns.sku`: header_row = 0 (no header): columns must be given by number, found \"UPC\""
    );
    assert_eq!(
        parse_err("name = \"t\"\n[[lines]]\nkind = \"sale\"\namount = 2\n"),
        "mapping key `columns.sku`: required when lines can be sales or returns: the column(s) with the UPC, EAN or catalog number"
    );
    assert_eq!(
        parse_err(&format!("{MIN}[[rules]]\ncolumn = 1\nstarts_with = \"Total\"\naction = \"ignore\"\n")),
        "mapping key `rules[1].action`: expected \"skip\", \"stop\", \"total\" (with amount = \"column\") or \"lines\" (with [[rules.lines]]), found \"ignore\""
    );
    assert_eq!(
        parse_err(&format!("{MIN}[kind_column]\ncolumn = \"T\"\ncodes = {{ VK = \"verkauf\" }}\n")),
        "mapping key `kind_column.codes.VK`: expected one of sale, return, fee, reserve_withheld, reserve_released, chargeback, adjustment or skip, found \"verkauf\""
    );
    assert_eq!(
        parse_err(&MIN.replace("amount = \"Amount\"", "amount = 0")),
        "mapping key `lines[1].amount`: expected a column: a header name such as \"Units Sold\" or a 1-based column number, found 0"
    );
}

#[test]
fn a_quote_never_closed_is_refused_where_it_opens_not_read_as_a_shorter_file() {
    // "Tidewater with no closing quote: the csv reader would take every line after it
    // as part of that title, and the statement would convert two lines short.
    let text = indie_text().replace(
        "Dana Okafor,Tidewater,LP,38",
        "Dana Okafor,\"Tidewater,LP,38",
    );
    let errs = indie(&text, &harbor_lane()).expect_err("stray quote");
    let shown = show_errors(&errs);
    assert!(
        shown
            .starts_with("line 12, column 4 (Title): found \"a value starting \\\"Tidewater,LP,38"),
        "{shown}"
    );
    assert!(shown.contains("nothing closes it on its line"), "{shown}");
    // A title on two lines that swallows no row is the writer's own, and is read.
    let text = indie_text().replace(
        "Dana Okafor,Tidewater,LP,38",
        "Dana Okafor,\"Tide\nwater\",LP,38",
    );
    let rows = indie(&text, &harbor_lane()).expect("a value on two lines");
    assert!(!rows.is_empty());
}

/// The total row states the statement's net; the lines must add up to it. A charge
/// with no item code in a column only a rule reads (freight, co-op) is refused rather
/// than passed over, and so is a total that disagrees with the lines.
#[test]
fn money_the_mapping_does_not_read_is_refused_and_the_total_checked() {
    let rows = indie(&indie_text(), &harbor_lane()).expect("the sample ties out to its total");
    assert!(!rows.is_empty());

    let text = indie_text().replace(
        "Reserve Released (Jul 2023 statement)",
        "Freight - returns processing,,,,,,,,,,,($12.00)\nReserve Released (Jul 2023 statement)",
    );
    let errs = indie(&text, &harbor_lane()).expect_err("freight");
    assert_eq!(errs.len(), 1, "{}", show_errors(&errs));
    assert_eq!(errs[0].line, 17);
    assert_eq!(errs[0].column, Some((12, "Net $".to_string())));
    assert_eq!(errs[0].found, "($12.00)");
    assert!(
        errs[0].expected.contains("add a [[rules]] entry"),
        "{}",
        errs[0].expected
    );

    // A total that is not what the lines add up to names the difference.
    let text = indie_text().replace("\"$22,322.62\"", "\"$22,310.62\"");
    let errs = indie(&text, &harbor_lane()).expect_err("total");
    assert_eq!(
        show_errors(&errs),
        "line 18, column 12 (Net $): found \"$22,310.62\", expected 22322.62 — what the lines read above it add up to (sales − returns − fees − reserves withheld + released ± adjustments), as this total row says (UPC is \"TOTAL\") they must; a row the mapping does not read, or reads twice, makes the difference of -12.00"
    );
}

/// Subtotal rows are passed over and every line after them read; a `stop` rule that
/// meets a line after it says so instead of dropping it.
#[test]
fn subtotals_do_not_end_the_statement() {
    let text = indie_text().replace(
        "199758300231,FR-003",
        "TOTAL LP/CD,,,,,165,6,159,\"$2,035.50\",($84.00),($390.30),\"$1,561.20\"\n199758300231,FR-003",
    );
    let with_subtotal = indie(&text, &harbor_lane()).expect("subtotal skipped");
    let plain = indie(&indie_text(), &harbor_lane()).expect("sample");
    let fields = |rows: &[backstock_mapping::Row]| -> Vec<String> {
        rows.iter().map(|r| r.fields.join(",")).collect()
    };
    assert_eq!(fields(&with_subtotal), fields(&plain));

    // The old rule: stop at anything starting with TOTAL.
    let m = find_builtin("indie-dist-us").expect("mapping");
    let toml = m.to_toml().replace(
        "equals = \"TOTAL\"\naction = \"total\"\namount = \"Net $\"",
        "starts_with = \"TOTAL\"\naction = \"stop\"",
    );
    let stop = Mapping::parse(&toml).expect("mapping");
    let errs = convert_csv(&stop, text.as_bytes(), &harbor_lane()).expect_err("rows after stop");
    // Every line after the subtotal (three products, two reserve lines) is named.
    assert_eq!(errs.len(), 5, "{}", show_errors(&errs));
    assert_eq!(errs[0].line, 13);
    assert!(
        errs[0]
            .found
            .starts_with("a sale line (38 units of 199758300231, 570.00) after line 12"),
        "{}",
        errs[0].found
    );
    assert!(
        errs[0].expected.contains("UPC starts with \"TOTAL\""),
        "{}",
        errs[0].expected
    );
}

/// A sale with money and an empty units cell is not "0 units sold".
#[test]
fn a_blank_units_cell_beside_an_amount_is_refused() {
    let text = indie_text().replace(
        "199758300224,FR-002,The Marigolds,Slow Weather,CD,45,0,45,",
        "199758300224,FR-002,The Marigolds,Slow Weather,CD,,0,45,",
    );
    let errs = indie(&text, &harbor_lane()).expect_err("blank units");
    assert_eq!(
        show_errors(&errs),
        "line 11, column 6 (Units Sold): found \"\", expected the number of units of this sale of 355.50 (write 0 when the amount is for no units)"
    );
}

/// A title block one line shorter than the mapping says: the header is found above
/// `header_row` and every row below it read, as when the block is longer.
#[test]
fn a_header_block_one_line_shorter_is_found_above() {
    let plain = indie(&indie_text(), &harbor_lane()).expect("sample");
    let text = indie_text().replace("Label:,Fictional Records (Acct 20931),,,,,,,,,,\n", "");
    assert_ne!(text, indie_text());
    let shorter = indie(&text, &harbor_lane()).expect("header one line up");
    let fields = |rows: &[backstock_mapping::Row]| -> Vec<String> {
        rows.iter().map(|r| r.fields.join(",")).collect()
    };
    assert_eq!(fields(&shorter), fields(&plain));
    assert_eq!(shorter[0].line + 1, plain[0].line);
}

/// A mapping that checks the total expects the total row (a file cut short has none),
/// and money below it, in its column, on a row that makes no line is not passed over.
#[test]
fn the_total_row_is_expected_and_money_below_it_is_not_passed_over() {
    let cut: String = indie_text()
        .lines()
        .take_while(|l| !l.starts_with("TOTAL"))
        .map(|l| format!("{l}\n"))
        .collect();
    let errs = indie(&cut, &harbor_lane()).expect_err("no total row");
    assert_eq!(
        show_errors(&errs),
        "file: found \"the end of the file, with no total row\", expected the statement's total row (UPC is \"TOTAL\": action = \"total\"), which this mapping expects: was the file cut short, or exported without its totals?"
    );

    let below = indie_text().replace(
        "\"Payment terms:",
        "Freight,,,,,,,,,,,($5.00)\n\"Payment terms:",
    );
    let errs = indie(&below, &harbor_lane()).expect_err("money below the total");
    assert_eq!(errs.len(), 1, "{}", show_errors(&errs));
    assert_eq!(errs[0].column, Some((12, "Net $".to_string())));
    assert_eq!(errs[0].found, "($5.00)");
}

/// A formula cell whose result the workbook does not store (written by a program that
/// does not calculate) is refused at its cell, not read as an empty amount.
#[test]
fn a_formula_without_a_stored_result_is_refused_at_its_cell() {
    let data =
        |f: &str| std::fs::read(format!("{}/tests/data/{f}", env!("CARGO_MANIFEST_DIR"))).expect(f);
    let toml = String::from_utf8(data("fern-xlsx.toml")).unwrap();
    let m = Mapping::parse(&toml).expect("mapping");
    let o = Overrides::default();
    let rows =
        convert_xlsx(&m, &data("fern_plain.xlsx"), &o).expect("the same workbook, calculated");
    assert!(!rows.is_empty());
    let errs = convert_xlsx(&m, &data("formula_without_result.xlsx"), &o).expect_err("formula");
    assert_eq!(
        show_errors(&errs),
        "line 9, column 7 (G9): found \"a formula with no stored result\", expected a value: the workbook was written by a program that does not calculate its formulas — open it in a spreadsheet application and save it again, so each formula's result is stored"
    );
}

/// An amount written in another currency's mark than the statement's (`$` or `£` in a
/// EUR statement, `GBP` beside it) is refused at its cell: stripped, it would be
/// recorded in the wrong currency without a word. `€` and `EUR` read as before.
#[test]
fn an_amount_marked_in_another_currency_is_refused_at_its_cell() {
    let m = eur_mapping("", "", ("2024-01-01", "2024-01-31"), 2, "");
    let good = "Artikel;Menge;Net Amount\nA1;1;€ 1.234,56\nA2;1;12,00 EUR\nA3;1;7,00\n";
    if let Err(e) = convert_csv(&m, good.as_bytes(), &Overrides::default()) {
        panic!("euro marks in a EUR statement: {}", show_errors(&e));
    }
    let bad =
        "Artikel;Menge;Net Amount\nA1;1;$1.234,56\nA2;1;£ 12,00\nA3;1;7,00 GBP\nA4;1;1,00 kr\n";
    let errs = convert_csv(&m, bad.as_bytes(), &Overrides::default()).expect_err("bad");
    let shown = show_errors(&errs);
    assert!(
        shown.starts_with("line 2, column 3 (Net Amount): found \"$1.234,56\", expected an amount in EUR, the statement's currency: this one is written in $ (amounts are never converted; if the statement is in USD, import it with --currency USD)\n\
         line 3, column 3 (Net Amount): found \"£ 12,00\", expected an amount in EUR, the statement's currency: this one is written in £"),
        "{shown}"
    );
    assert!(
        shown.contains("line 4, column 3 (Net Amount): found \"7,00 GBP\""),
        "{shown}"
    );
    // A totals row with no rule for it is refused at its code, naming the rule to add.
    let total = "Artikel;Menge;Net Amount\nA1;1;7,00\nTOTAL;1;7,00\n";
    let errs = convert_csv(&m, total.as_bytes(), &Overrides::default()).expect_err("total");
    assert_eq!(
        show_errors(&errs),
        "line 3, column 1 (Artikel): found \"TOTAL\", expected an item code: this looks like a totals row — give the mapping a rule for it ([[rules]] column = \"Artikel\", starts_with = \"TOTAL\", action = \"total\" to check the lines against it, or action = \"skip\")"
    );
    // A mark the mapping does not know is not a number at all.
    assert!(
        shown.contains(
            "line 5, column 3 (Net Amount): found \"1,00 kr\", expected a decimal amount"
        ),
        "{shown}"
    );
}

/// A file of several sections, each with its total row: each total is checked against
/// the lines since the total before it (or against all lines, a grand total); one
/// that is neither says both sums.
#[test]
fn each_section_total_is_checked_against_its_own_lines() {
    let m = eur_mapping(
        "",
        "",
        ("2024-01-01", "2024-01-31"),
        2,
        "[[rules]]\ncolumn = \"Artikel\"\nequals = \"TOTAL\"\naction = \"total\"\namount = \"Net Amount\"\n",
    );
    let ok = "Artikel;Menge;Net Amount\nA1;1;7,00\nA2;1;1,00\nTOTAL;;8,00\nA3;1;3,00\nTOTAL;;3,00\nTOTAL;;11,00\n";
    let rows = convert_csv(&m, ok.as_bytes(), &Overrides::default())
        .unwrap_or_else(|e| panic!("{}", show_errors(&e)));
    assert_eq!(rows.len(), 3);
    let bad = ok.replace("TOTAL;;3,00", "TOTAL;;4,00");
    let errs = convert_csv(&m, bad.as_bytes(), &Overrides::default()).expect_err("bad total");
    let shown = show_errors(&errs);
    assert!(
        shown.starts_with("line 6, column 3 (Net Amount): found \"4,00\", expected 11.00 — what the lines read above it add up to")
            && shown.contains("(the lines since the total row before it add up to 3.00: neither is what it says)"),
        "{shown}"
    );
}

/// Rows dated outside the statement's period as the header gives it are read into that
/// period, and said in a note (a file of January's sales under a March period).
#[test]
fn rows_dated_outside_the_period_are_noted() {
    let m = eur_mapping(
        "date_format = \"%d.%m.%Y\"",
        "date = \"Datum\"",
        ("2024-03-01", "2024-03-31"),
        3,
        "",
    );
    let inside = "Artikel;Datum;Menge;Net Amount\nA1;05.03.2024;1;7,00\n";
    let c = backstock_mapping::convert_csv_noted(&m, inside.as_bytes(), &Overrides::default())
        .unwrap_or_else(|e| panic!("{}", show_errors(&e)));
    assert!(c.notes.is_empty(), "{:?}", c.notes);
    let outside = "Artikel;Datum;Menge;Net Amount\nA1;05.01.2024;1;7,00\nA2;31.01.2024;1;1,00\n";
    let c = backstock_mapping::convert_csv_noted(&m, outside.as_bytes(), &Overrides::default())
        .unwrap_or_else(|e| panic!("{}", show_errors(&e)));
    assert_eq!(c.rows.len(), 2);
    assert_eq!(
        c.notes.iter().map(|n| n.to_string()).collect::<Vec<_>>(),
        ["line 1: the rows are dated 2024-01-05 to 2024-01-31, outside the statement's period 2024-03-01 to 2024-03-31: recorded in that period — check the period (--period-start/--period-end) if the file says another"]
    );
}

/// A EUR mapping of a `;`-separated file with a decimal comma: SKUs in "Artikel",
/// amounts in "Net Amount", units in column `units`; `before_columns` goes before
/// `[columns]`, `columns` after `sku`, `after` at the end (rules).
fn eur_mapping(
    before_columns: &str,
    columns: &str,
    period: (&str, &str),
    units: u32,
    after: &str,
) -> Mapping {
    let toml = format!(
        "name = \"eu-test\"\nformat = \"csv\"\ndelimiter = \";\"\ndecimal = \",\"\n{before_columns}\n[columns]\nsku = \"Artikel\"\n{columns}\n[statement]\ndistributor = \"eu\"\nstatement_id = \"S-1\"\nperiod_start = \"{}\"\nperiod_end = \"{}\"\nissued_on = \"2024-04-10\"\ncurrency = \"EUR\"\n[[lines]]\nkind = \"sale\"\namount = \"Net Amount\"\nunits = {units}\n{after}",
        period.0, period.1
    );
    Mapping::parse(&toml).expect("mapping")
}
