//! Arbitrary input never panics; amounts and dates survive the trip exactly.

mod common;

use backstock_mapping::{builtin, convert_csv, convert_xlsx, Mapping, Overrides, MAX_ERRORS};
use proptest::prelude::*;

fn csv_mappings() -> Vec<Mapping> {
    builtin()
        .into_iter()
        .filter_map(|(_, t)| Mapping::parse(t).ok())
        .filter(|m| m.format() == backstock_mapping::Format::Csv)
        .collect()
}

fn all_overrides() -> Overrides {
    Overrides {
        distributor: Some("d".into()),
        ..Overrides::default()
    }
}

/// A cell drawn from what statements contain, and what they should not.
fn cell() -> impl Strategy<Value = String> {
    prop_oneof![
        Just(String::new()),
        "[0-9]{1,7}",
        "-?\\$?\\(?[0-9]{0,3}(,[0-9]{3}){0,2}(\\.[0-9]{0,3})?\\)?-?",
        "[0-9]{1,2}/[0-9]{1,2}/[0-9]{2,4}",
        "[A-Za-z #:$%()\\-]{0,12}",
        "(Reserve|TOTAL|Statement No:|refund|payout|album|\\*)[ a-z]{0,5}",
        "\\PC{0,6}",
        "\"[^\"]{0,5}\"",
    ]
}

fn table(rows: usize) -> impl Strategy<Value = String> {
    prop::collection::vec(prop::collection::vec(cell(), 0..14), 0..rows).prop_map(|rows| {
        rows.into_iter()
            .map(|r| r.join(","))
            .collect::<Vec<_>>()
            .join("\n")
    })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 200, ..ProptestConfig::default() })]

    #[test]
    fn arbitrary_bytes_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..2048)) {
        for m in csv_mappings() {
            let r = convert_csv(&m, &bytes[..], &all_overrides());
            if let Err(e) = r {
                prop_assert!(!e.is_empty() && e.len() <= MAX_ERRORS);
            }
        }
        let euro = backstock_mapping::find_builtin("euro-dist-xlsx").expect("mapping");
        let r = convert_xlsx(&euro, &bytes, &all_overrides());
        prop_assert!(r.is_err());
    }

    #[test]
    fn statement_shaped_csv_never_panics(body in table(40)) {
        let indie = std::fs::read_to_string(format!(
            "{}/tests/data/indie-dist-us.csv",
            env!("CARGO_MANIFEST_DIR")
        ))
        .expect("sample");
        let head: String = indie.lines().take(9).collect::<Vec<_>>().join("\n");
        let bandcamp_head = std::fs::read_to_string(format!(
            "{}/tests/data/bandcamp.csv",
            env!("CARGO_MANIFEST_DIR")
        ))
        .expect("sample");
        let bandcamp_head = bandcamp_head.lines().next().unwrap_or_default().to_string();
        for m in csv_mappings() {
            for text in [format!("{head}\n{body}"), format!("{bandcamp_head}\n{body}"), body.clone()] {
                match convert_csv(&m, text.as_bytes(), &all_overrides()) {
                    Ok(rows) => {
                        for r in rows {
                            prop_assert!(r.line >= 1);
                            prop_assert!(!r.fields[5].is_empty());
                            prop_assert!(!r.fields[8].starts_with('-') || r.fields[5] == "adjustment");
                        }
                    }
                    Err(e) => prop_assert!(!e.is_empty() && e.len() <= MAX_ERRORS),
                }
            }
        }
    }

    #[test]
    fn damaged_workbooks_never_panic(flips in prop::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 1..8)) {
        let mut bytes = common::euro_workbook();
        for (i, b) in flips {
            let at = i.index(bytes.len());
            bytes[at] = b;
        }
        let euro = backstock_mapping::find_builtin("euro-dist-xlsx").expect("mapping");
        if let Err(e) = convert_xlsx(&euro, &bytes, &all_overrides()) {
            prop_assert!(!e.is_empty() && e.len() <= MAX_ERRORS);
        }
    }

    #[test]
    fn arbitrary_mapping_text_never_panics(text in "\\PC{0,300}") {
        if let Ok(m) = Mapping::parse(&text) {
            prop_assert_eq!(Mapping::parse(&m.to_toml()).ok(), Some(m));
        }
    }

    #[test]
    fn mutated_mappings_never_panic_and_round_trip(
        which in 0usize..3,
        at in any::<prop::sample::Index>(),
        insert in "[\\[\\]{}=\",.a-z0-9 \\n%]{0,6}",
    ) {
        let text = builtin()[which].1;
        let mut cut = at.index(text.len());
        while !text.is_char_boundary(cut) {
            cut -= 1;
        }
        let mutated = format!("{}{}{}", &text[..cut], insert, &text[cut..]);
        if let Ok(m) = Mapping::parse(&mutated) {
            prop_assert_eq!(Mapping::parse(&m.to_toml()).ok(), Some(m));
        }
    }

    /// Any amount written European style (thousands dots, decimal comma, parentheses
    /// or a trailing minus for negatives, a euro sign) comes out exactly.
    #[test]
    fn decimal_comma_amounts_are_exact(
        cents in -100_000_000_000i64..100_000_000_000,
        style in 0u8..4,
        euro in any::<bool>(),
    ) {
        let m = Mapping::parse(EU_MAPPING).expect("mapping");
        let abs = cents.unsigned_abs();
        let int = (abs / 100).to_string();
        let mut grouped = String::new();
        for (i, c) in int.chars().enumerate() {
            if i > 0 && (int.len() - i) % 3 == 0 {
                grouped.push('.');
            }
            grouped.push(c);
        }
        let body = format!("{grouped},{:02}", abs % 100);
        let body = if euro { format!("{body} €") } else { body };
        let written = match (cents < 0, style) {
            (false, _) => body,
            (true, 0) => format!("-{body}"),
            (true, 1) => format!("({body})"),
            (true, 2) => format!("{body}-"),
            (true, _) => format!("- {body}"),
        };
        let csv = format!("Code;Betrag;Datum\nA;\"{written}\";31.01.2024\n");
        let rows = convert_csv(&m, csv.as_bytes(), &Overrides::default())
            .map_err(|e| TestCaseError::fail(format!("{written}: {e:?}")))?;
        let expected = if cents == 0 {
            None
        } else {
            Some(format!("{}{}.{:02}", if cents < 0 { "-" } else { "" }, abs / 100, abs % 100))
        };
        prop_assert_eq!(rows.first().map(|r| r.fields[8].clone()), expected);
    }

    /// Every real calendar date written DD.MM.YYYY is read back; impossible days are
    /// refused with the line and column.
    #[test]
    fn dates_are_validated(y in 1900u16..2100, mo in 1u8..=12, d in 1u8..=31) {
        let m = Mapping::parse(EU_MAPPING).expect("mapping");
        let csv = format!("Code;Betrag;Datum\nA;1,00;{d:02}.{mo:02}.{y}\n");
        let leap = (y.is_multiple_of(4) && !y.is_multiple_of(100)) || y.is_multiple_of(400);
        let days = match mo {
            2 if leap => 29,
            2 => 28,
            4 | 6 | 9 | 11 => 30,
            _ => 31,
        };
        match convert_csv(&m, csv.as_bytes(), &Overrides::default()) {
            Ok(rows) => {
                prop_assert!(d <= days);
                prop_assert_eq!(&rows[0].fields[4], &format!("{y:04}-{mo:02}-{d:02}"));
            }
            Err(e) => {
                prop_assert!(d > days);
                prop_assert_eq!(e[0].line, 2);
                prop_assert_eq!(e[0].column.clone(), Some((3, "Datum".to_string())));
            }
        }
    }
}

const EU_MAPPING: &str = r#"
name = "eu"
delimiter = ";"
decimal = ","
date_format = "%d.%m.%Y"
optional_columns = ["Datum"]
[columns]
sku = "Code"
[statement]
statement_id = "S"
distributor = "d"
period_start = "2024-01-01"
period_end = "2024-01-31"
issued_on = { column = "Datum" }
currency = "EUR"
[[lines]]
kind = "adjustment"
amount = "Betrag"
"#;
