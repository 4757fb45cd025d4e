//! Each shipped mapping converts its sample into exactly the expected canonical rows.

mod common;

use backstock_mapping::{
    builtin, convert_csv, convert_xlsx, find_builtin, to_csv, Format, Mapping, Overrides,
};
use common::{euro_workbook, net_cents, show, show_errors};

fn sample(name: &str) -> Vec<u8> {
    std::fs::read(format!("{}/tests/data/{name}", env!("CARGO_MANIFEST_DIR"))).expect("sample")
}

#[test]
fn builtin_mappings_parse_and_round_trip() {
    let all = builtin();
    assert_eq!(
        all.iter().map(|(n, _)| *n).collect::<Vec<_>>(),
        ["bandcamp", "indie-dist-us", "euro-dist-xlsx"]
    );
    for (name, text) in all {
        let m = Mapping::parse(text).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(m.name(), name);
        assert!(!m.description().is_empty());
        let again = m.to_toml();
        let m2 = Mapping::parse(&again).unwrap_or_else(|e| panic!("{name} again: {e}\n{again}"));
        assert_eq!(m2, m, "{name} round trip:\n{again}");
        assert_eq!(m2.to_toml(), again);
    }
    assert_eq!(
        find_builtin("BANDCAMP").map(|m| m.format()),
        Some(Format::Csv)
    );
    assert_eq!(
        find_builtin("euro-dist-xlsx").map(|m| m.format()),
        Some(Format::Xlsx)
    );
    assert!(find_builtin("nope").is_none());
}

const BANDCAMP_EXPECTED: &str = "\
2|bandcamp-2024-01-01-2024-01-31-USD,bandcamp,2024-01-01,2024-01-31,2024-01-31,sale,199758300262,1,9.00,USD,Slow Weather / digital download
2|bandcamp-2024-01-01-2024-01-31-USD,bandcamp,2024-01-01,2024-01-31,2024-01-31,adjustment,199758300262,0,2.00,USD,additional fan contribution / Slow Weather / digital download
2|bandcamp-2024-01-01-2024-01-31-USD,bandcamp,2024-01-01,2024-01-31,2024-01-31,fee,199758300262,0,0.61,USD,payment processing fee / Slow Weather / digital download
2|bandcamp-2024-01-01-2024-01-31-USD,bandcamp,2024-01-01,2024-01-31,2024-01-31,fee,199758300262,0,1.65,USD,Bandcamp revenue share / Slow Weather / digital download
3|bandcamp-2024-01-01-2024-01-31-USD,bandcamp,2024-01-01,2024-01-31,2024-01-31,sale,199758300217,2,50.00,USD,Slow Weather / Vinyl LP / Black
3|bandcamp-2024-01-01-2024-01-31-USD,bandcamp,2024-01-01,2024-01-31,2024-01-31,adjustment,199758300217,0,8.00,USD,shipping collected / Slow Weather / Vinyl LP / Black
3|bandcamp-2024-01-01-2024-01-31-USD,bandcamp,2024-01-01,2024-01-31,2024-01-31,fee,199758300217,0,1.98,USD,payment processing fee / Slow Weather / Vinyl LP / Black
3|bandcamp-2024-01-01-2024-01-31-USD,bandcamp,2024-01-01,2024-01-31,2024-01-31,fee,199758300217,0,5.80,USD,Bandcamp revenue share / Slow Weather / Vinyl LP / Black
4|bandcamp-2024-01-01-2024-01-31-USD,bandcamp,2024-01-01,2024-01-31,2024-01-31,sale,USX9P2400011,1,1.00,USD,Harbour Lights / digital download
4|bandcamp-2024-01-01-2024-01-31-USD,bandcamp,2024-01-01,2024-01-31,2024-01-31,adjustment,USX9P2400011,0,0.50,USD,additional fan contribution / Harbour Lights / digital download
4|bandcamp-2024-01-01-2024-01-31-USD,bandcamp,2024-01-01,2024-01-31,2024-01-31,fee,USX9P2400011,0,0.13,USD,payment processing fee / Harbour Lights / digital download
4|bandcamp-2024-01-01-2024-01-31-USD,bandcamp,2024-01-01,2024-01-31,2024-01-31,fee,USX9P2400011,0,0.22,USD,Bandcamp revenue share / Harbour Lights / digital download
5|bandcamp-2024-01-01-2024-01-31-USD,bandcamp,2024-01-01,2024-01-31,2024-01-31,sale,FR-003D,1,8.00,USD,Tidewater / digital download
5|bandcamp-2024-01-01-2024-01-31-USD,bandcamp,2024-01-01,2024-01-31,2024-01-31,adjustment,FR-003D,0,0.66,USD,seller tax collected / Tidewater / digital download
5|bandcamp-2024-01-01-2024-01-31-USD,bandcamp,2024-01-01,2024-01-31,2024-01-31,fee,FR-003D,0,0.61,USD,payment processing fee / Tidewater / digital download
5|bandcamp-2024-01-01-2024-01-31-USD,bandcamp,2024-01-01,2024-01-31,2024-01-31,fee,FR-003D,0,1.30,USD,Bandcamp revenue share / Tidewater / digital download
6|bandcamp-2024-01-01-2024-01-31-USD,bandcamp,2024-01-01,2024-01-31,2024-01-31,sale,199758300255,1,32.00,USD,Tidewater (Deluxe) / 2xLP
6|bandcamp-2024-01-01-2024-01-31-USD,bandcamp,2024-01-01,2024-01-31,2024-01-31,adjustment,199758300255,0,12.00,USD,shipping collected / Tidewater (Deluxe) / 2xLP
6|bandcamp-2024-01-01-2024-01-31-USD,bandcamp,2024-01-01,2024-01-31,2024-01-31,fee,199758300255,0,1.63,USD,payment processing fee / Tidewater (Deluxe) / 2xLP
6|bandcamp-2024-01-01-2024-01-31-USD,bandcamp,2024-01-01,2024-01-31,2024-01-31,fee,199758300255,0,4.40,USD,Bandcamp revenue share / Tidewater (Deluxe) / 2xLP
7|bandcamp-2024-01-01-2024-01-31-USD,bandcamp,2024-01-01,2024-01-31,2024-01-31,return,199758300217,1,25.00,USD,Slow Weather / Vinyl LP / Black
7|bandcamp-2024-01-01-2024-01-31-USD,bandcamp,2024-01-01,2024-01-31,2024-01-31,adjustment,199758300217,0,2.50,USD,Bandcamp revenue share / Slow Weather / Vinyl LP / Black
9|bandcamp-2024-01-01-2024-01-31-USD,bandcamp,2024-01-01,2024-01-31,2024-01-31,sale,FR-004D,1,7.00,USD,Lamplighter / digital download
9|bandcamp-2024-01-01-2024-01-31-USD,bandcamp,2024-01-01,2024-01-31,2024-01-31,fee,FR-004D,0,1.05,USD,Bandcamp revenue share / Lamplighter / digital download";

#[test]
fn bandcamp_sample() {
    let m = find_builtin("bandcamp").expect("mapping");
    let rows = convert_csv(&m, &sample("bandcamp.csv")[..], &Overrides::default())
        .unwrap_or_else(|e| panic!("{}", show_errors(&e)));
    assert_eq!(show(&rows), BANDCAMP_EXPECTED);
    // The canonical net ties to Bandcamp's net amount (sales lines, payout excluded):
    // 8.74 + 50.22 + 1.15 + 6.75 + 37.97 - 22.50 + 5.95.
    assert_eq!(net_cents(&rows), 8828);
}

#[test]
fn bandcamp_utf16_export_reads_the_same() {
    let m = find_builtin("bandcamp").expect("mapping");
    let text = String::from_utf8(sample("bandcamp.csv")).expect("utf-8");
    let mut bytes = vec![0xff, 0xfe];
    for u in text.encode_utf16() {
        bytes.extend_from_slice(&u.to_le_bytes());
    }
    let rows = convert_csv(&m, &bytes[..], &Overrides::default())
        .unwrap_or_else(|e| panic!("{}", show_errors(&e)));
    assert_eq!(show(&rows), BANDCAMP_EXPECTED);
}

#[test]
fn bandcamp_overrides_replace_derived_values() {
    let m = find_builtin("bandcamp").expect("mapping");
    let o = Overrides {
        distributor: Some("bc".into()),
        statement_id: Some("BC-2024-01".into()),
        period_start: Some("2023-12-15".into()),
        period_end: Some("2024-02-14".into()),
        issued_on: Some("2024-02-20".into()),
        currency: None,
    };
    let rows = convert_csv(&m, &sample("bandcamp.csv")[..], &o)
        .unwrap_or_else(|e| panic!("{}", show_errors(&e)));
    assert_eq!(rows.len(), 24);
    assert!(rows.iter().all(|r| r.fields[..5].join(",")
        == "BC-2024-01,bc,2023-12-15,2024-02-14,2024-02-20"
        && r.fields[9] == "USD"));
}

#[test]
fn bandcamp_several_currencies_give_several_statements() {
    let m = find_builtin("bandcamp").expect("mapping");
    let csv = "\
date,item type,item name,currency,quantity,sub total,transaction fee,net amount,upc,catalog number
2/1/24 1:00pm,album,A,USD,1,10.00,0.50,8.00,,FR-1
29 Feb 2024 13:00:00 GMT,album,B,EUR,1,\"1,000.00\",1.00,850.00,,FR-2
";
    let rows = convert_csv(&m, csv.as_bytes(), &Overrides::default())
        .unwrap_or_else(|e| panic!("{}", show_errors(&e)));
    assert_eq!(
        show(&rows),
        "\
2|bandcamp-2024-02-01-2024-02-29-USD,bandcamp,2024-02-01,2024-02-29,2024-02-29,sale,FR-1,1,10.00,USD,A
2|bandcamp-2024-02-01-2024-02-29-USD,bandcamp,2024-02-01,2024-02-29,2024-02-29,fee,FR-1,0,0.50,USD,payment processing fee / A
2|bandcamp-2024-02-01-2024-02-29-USD,bandcamp,2024-02-01,2024-02-29,2024-02-29,fee,FR-1,0,1.50,USD,Bandcamp revenue share / A
3|bandcamp-2024-02-01-2024-02-29-EUR,bandcamp,2024-02-01,2024-02-29,2024-02-29,sale,FR-2,1,1000.00,EUR,B
3|bandcamp-2024-02-01-2024-02-29-EUR,bandcamp,2024-02-01,2024-02-29,2024-02-29,fee,FR-2,0,1.00,EUR,payment processing fee / B
3|bandcamp-2024-02-01-2024-02-29-EUR,bandcamp,2024-02-01,2024-02-29,2024-02-29,fee,FR-2,0,149.00,EUR,Bandcamp revenue share / B"
    );
}

const INDIE_EXPECTED: &str = "\
10|HLD-240131-0457,harbor-lane,2024-01-01,2024-01-31,2024-02-15,sale,199758300217,120,1680.00,USD,The Marigolds / Slow Weather / LP
10|HLD-240131-0457,harbor-lane,2024-01-01,2024-01-31,2024-02-15,return,199758300217,6,84.00,USD,The Marigolds / Slow Weather / LP
10|HLD-240131-0457,harbor-lane,2024-01-01,2024-01-31,2024-02-15,fee,199758300217,0,319.20,USD,distribution fee / The Marigolds / Slow Weather / LP
11|HLD-240131-0457,harbor-lane,2024-01-01,2024-01-31,2024-02-15,sale,199758300224,45,355.50,USD,The Marigolds / Slow Weather / CD
11|HLD-240131-0457,harbor-lane,2024-01-01,2024-01-31,2024-02-15,fee,199758300224,0,71.10,USD,distribution fee / The Marigolds / Slow Weather / CD
12|HLD-240131-0457,harbor-lane,2024-01-01,2024-01-31,2024-02-15,sale,199758300231,38,570.00,USD,Dana Okafor / Tidewater / LP
12|HLD-240131-0457,harbor-lane,2024-01-01,2024-01-31,2024-02-15,return,199758300231,11,165.00,USD,Dana Okafor / Tidewater / LP
12|HLD-240131-0457,harbor-lane,2024-01-01,2024-01-31,2024-02-15,fee,199758300231,0,81.00,USD,distribution fee / Dana Okafor / Tidewater / LP
13|HLD-240131-0457,harbor-lane,2024-01-01,2024-01-31,2024-02-15,return,199758300248,4,22.00,USD,Night Bus Quartet / Lamplighter / 7\"
13|HLD-240131-0457,harbor-lane,2024-01-01,2024-01-31,2024-02-15,adjustment,199758300248,0,4.40,USD,distribution fee / Night Bus Quartet / Lamplighter / 7\"
14|HLD-240131-0457,harbor-lane,2024-01-01,2024-01-31,2024-02-15,sale,199758300255,1204,29498.00,USD,Dana Okafor / Tidewater (Deluxe) / 2LP
14|HLD-240131-0457,harbor-lane,2024-01-01,2024-01-31,2024-02-15,return,199758300255,20,490.00,USD,Dana Okafor / Tidewater (Deluxe) / 2LP
14|HLD-240131-0457,harbor-lane,2024-01-01,2024-01-31,2024-02-15,fee,199758300255,0,5801.60,USD,distribution fee / Dana Okafor / Tidewater (Deluxe) / 2LP
16|HLD-240131-0457,harbor-lane,2024-01-01,2024-01-31,2024-02-15,reserve_withheld,,0,4701.38,USD,Reserve for Returns Withheld (15% of net sales)
17|HLD-240131-0457,harbor-lane,2024-01-01,2024-01-31,2024-02-15,reserve_released,,0,1950.00,USD,Reserve Released (Jul 2023 statement)";

fn harbor_lane() -> Overrides {
    Overrides {
        distributor: Some("harbor-lane".into()),
        ..Overrides::default()
    }
}

#[test]
fn indie_dist_us_sample() {
    let m = find_builtin("indie-dist-us").expect("mapping");
    let rows = convert_csv(&m, &sample("indie-dist-us.csv")[..], &harbor_lane())
        .unwrap_or_else(|e| panic!("{}", show_errors(&e)));
    assert_eq!(show(&rows), INDIE_EXPECTED);
    // Ties to the statement's TOTAL line: $22,322.62.
    assert_eq!(net_cents(&rows), 2_232_262);
}

#[test]
fn indie_dist_us_windows_1252_and_semicolons_via_a_derived_mapping() {
    // The same layout exported by Excel on a European desktop: ';' and Windows-1252.
    let text = String::from_utf8(sample("indie-dist-us.csv")).expect("utf-8");
    let mut rdr = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .from_reader(text.as_bytes());
    let mut w = csv::WriterBuilder::new()
        .delimiter(b';')
        .flexible(true)
        .from_writer(Vec::new());
    for r in rdr.records() {
        w.write_record(&r.expect("record")).expect("write");
    }
    let semi = String::from_utf8(w.into_inner().expect("inner")).expect("utf-8");
    let semi = semi.replace("Slow Weather", "Slow Weather \u{2013} Café");
    let bytes: Vec<u8> = semi
        .chars()
        .map(|c| match c {
            '\u{2013}' => 0x96,
            'é' => 0xe9,
            c => u8::try_from(c).expect("ascii"),
        })
        .collect();
    let toml = find_builtin("indie-dist-us")
        .expect("mapping")
        .to_toml()
        .replace("delimiter = \",\"", "delimiter = \";\"")
        .replace("encoding = \"auto\"", "encoding = \"windows-1252\"");
    let m = Mapping::parse(&toml).expect("mapping");
    let rows = convert_csv(&m, &bytes[..], &harbor_lane())
        .unwrap_or_else(|e| panic!("{}", show_errors(&e)));
    assert_eq!(
        show(&rows),
        INDIE_EXPECTED.replace("Slow Weather", "Slow Weather \u{2013} Café")
    );
}

const EURO_EXPECTED: &str = "\
10|KV-2024-03-0118,klangwerk,2024-03-01,2024-03-31,2024-04-12,sale,4060123450010,40,500.00,EUR,The Marigolds / Slow Weather
11|KV-2024-03-0118,klangwerk,2024-03-01,2024-03-31,2024-04-12,sale,4060123450027,25,330.00,EUR,Dana Okafor / Tidewater
12|KV-2024-03-0118,klangwerk,2024-03-01,2024-03-31,2024-04-12,sale,4060123450034,1050,23100.00,EUR,Dana Okafor / Tidewater (Deluxe)
13|KV-2024-03-0118,klangwerk,2024-03-01,2024-03-31,2024-04-12,sale,4060123450058,96,1234.56,EUR,The Marigolds / Slow Weather (Remixes)
14|KV-2024-03-0118,klangwerk,2024-03-01,2024-03-31,2024-04-12,return,4060123450010,3,37.50,EUR,The Marigolds / Slow Weather
15|KV-2024-03-0118,klangwerk,2024-03-01,2024-03-31,2024-04-12,return,4060123450041,2,11.00,EUR,Night Bus Quartet / Lamplighter
17|KV-2024-03-0118,klangwerk,2024-03-01,2024-03-31,2024-04-12,fee,,0,4520.89,EUR,Vertriebsgebühr 18 %
18|KV-2024-03-0118,klangwerk,2024-03-01,2024-03-31,2024-04-12,reserve_withheld,,0,2511.61,EUR,Retourenreserve 10 %
19|KV-2024-03-0118,klangwerk,2024-03-01,2024-03-31,2024-04-12,reserve_released,,0,1520.40,EUR,Freigabe Reserve 09/2023";

fn klangwerk() -> Overrides {
    Overrides {
        distributor: Some("klangwerk".into()),
        ..Overrides::default()
    }
}

#[test]
fn euro_dist_xlsx_sample() {
    let m = find_builtin("euro-dist-xlsx").expect("mapping");
    let rows = convert_xlsx(&m, &euro_workbook(), &klangwerk())
        .unwrap_or_else(|e| panic!("{}", show_errors(&e)));
    assert_eq!(show(&rows), EURO_EXPECTED);
    // Ties to the "Summe" line: 19.603,96 €.
    assert_eq!(net_cents(&rows), 1_960_396);
}

#[test]
fn euro_dist_xlsx_committed_sample() {
    // tests/data/euro-dist-xlsx.xlsx is the same workbook, kept for trying the CLI by
    // hand (regenerate with `cargo test -p backstock-mapping -- --ignored`).
    let m = find_builtin("euro-dist-xlsx").expect("mapping");
    let rows = convert_xlsx(&m, &sample("euro-dist-xlsx.xlsx"), &klangwerk())
        .unwrap_or_else(|e| panic!("{}", show_errors(&e)));
    assert_eq!(show(&rows), EURO_EXPECTED);
}

#[test]
#[ignore = "writes tests/data/euro-dist-xlsx.xlsx"]
fn write_euro_sample() {
    let path = format!(
        "{}/tests/data/euro-dist-xlsx.xlsx",
        env!("CARGO_MANIFEST_DIR")
    );
    std::fs::write(path, euro_workbook()).expect("write");
}

#[test]
fn euro_dist_xlsx_sheet_by_number_and_missing_sheet() {
    let toml = find_builtin("euro-dist-xlsx").expect("mapping").to_toml();
    let by_index = Mapping::parse(&toml.replace("sheet = \"Abrechnung\"", "sheet = 2")).expect("m");
    let rows = convert_xlsx(&by_index, &euro_workbook(), &klangwerk())
        .unwrap_or_else(|e| panic!("{}", show_errors(&e)));
    assert_eq!(show(&rows), EURO_EXPECTED);

    let wrong = Mapping::parse(&toml.replace("sheet = \"Abrechnung\"", "sheet = \"Statement\""))
        .expect("m");
    let errs = convert_xlsx(&wrong, &euro_workbook(), &klangwerk()).expect_err("no such sheet");
    assert_eq!(
        show_errors(&errs),
        "file: found \"sheets Info, Abrechnung\", expected a sheet named \"Statement\" (sheet in the mapping)"
    );
}

#[test]
fn canonical_csv_output() {
    let m = find_builtin("indie-dist-us").expect("mapping");
    let rows = convert_csv(&m, &sample("indie-dist-us.csv")[..], &harbor_lane()).expect("rows");
    let out = to_csv(&rows[12..13]);
    assert_eq!(
        out,
        "statement_id,distributor,period_start,period_end,issued_on,kind,sku,units,amount,currency,memo\n\
         HLD-240131-0457,harbor-lane,2024-01-01,2024-01-31,2024-02-15,fee,199758300255,0,5801.60,USD,distribution fee / Dana Okafor / Tidewater (Deluxe) / 2LP\n"
    );
    let with_quote = to_csv(&rows[8..9]);
    assert!(
        with_quote.ends_with(",\"Night Bus Quartet / Lamplighter / 7\"\"\"\n"),
        "{with_quote}"
    );
}

#[test]
fn wrong_converter_for_the_format() {
    let csv_mapping = find_builtin("bandcamp").expect("mapping");
    let xlsx_mapping = find_builtin("euro-dist-xlsx").expect("mapping");
    let e = convert_xlsx(&csv_mapping, b"", &Overrides::default()).expect_err("csv mapping");
    assert_eq!(e[0].expected, "a CSV file (mapping bandcamp is for csv)");
    let e = convert_csv(&xlsx_mapping, &b""[..], &Overrides::default()).expect_err("xlsx");
    assert_eq!(
        e[0].expected,
        "an XLSX workbook (mapping euro-dist-xlsx is for xlsx)"
    );
}

#[test]
fn period_given_as_a_month_in_the_header() {
    let toml = r#"
name = "monthly"
header_row = 3
date_format = "%m/%d/%Y"
[columns]
sku = "UPC"
[statement]
distributor = "dist"
statement_id = { after = "Statement" }
period_start = { after = "Sales Month:", date_format = "%B %Y" }
period_end = { after = "Sales Month:", date_format = "%B %Y", end_of_month = true }
issued_on = { after = "Issued", date_format = "%d-%b-%Y" }
currency = "USD"
[[lines]]
kind = "sale"
amount = "Net"
"#;
    let m = Mapping::parse(toml).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(m.unset_statement_fields(), Vec::<&str>::new());
    let again = Mapping::parse(&m.to_toml()).expect("round trip");
    assert_eq!(again, m);
    let csv = "Statement 88-B,Sales Month: February 2024\nIssued,,07-Mar-2024\nUPC,Net\n199758300217,10.00\n";
    let rows = convert_csv(&m, csv.as_bytes(), &Overrides::default())
        .unwrap_or_else(|e| panic!("{}", show_errors(&e)));
    assert_eq!(
        show(&rows),
        "4|88-B,dist,2024-02-01,2024-02-29,2024-03-07,sale,199758300217,0,10.00,USD,"
    );
    assert_eq!(
        find_builtin("indie-dist-us").map(|m| m.unset_statement_fields()),
        Some(vec!["distributor"])
    );
}
