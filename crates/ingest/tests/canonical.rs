//! The canonical readers: aggregation, located errors, and no panics on any input.

use backstock_domain::{Currency, Money, Sku};
use backstock_ingest::{read, Context, Kind};
use backstock_ledger::{Event, LineKind};
use proptest::prelude::*;

fn ctx() -> Context {
    let catalog = vec![
        (
            "MRG-001-CD".to_string(),
            Some("859712000019".to_string()),
            800,
            "USD".to_string(),
        ),
        ("MRG-002-LP".to_string(), None, 1150, "USD".to_string()),
    ];
    let mut c = Context::from_lookups(
        &catalog,
        &[("NW-ITEM-9".into(), "MRG-002-LP".into())],
        &[("allegro".into(), "USD".into())],
        &[],
    );
    c.file_name = "statements.csv".into();
    c.file_sha256 = "ab".repeat(32);
    c
}

const HEAD: &str = "statement_id,distributor,period_start,period_end,issued_on,kind,sku,units,amount,currency,memo\n";

#[test]
fn statements_aggregate_per_sku_and_kind_whatever_path_a_line_takes() {
    let body = "\
S1,allegro,2016-01-01,2016-01-31,2016-02-20,sale,MRG-001-CD,10,80.00,USD,\n\
S1,allegro,2016-01-01,2016-01-31,2016-02-20,sale,859712000019,5,40,USD,by UPC\n\
S1,allegro,2016-01-01,2016-01-31,2016-02-20,Sale,0859712000019,1,8.00,USD,EAN and capital kind\n\
S1,allegro,2016-01-01,2016-01-31,2016-02-20,return,MRG-001-CD,2,16.00,USD,\n\
S1,allegro,2016-01-01,2016-01-31,2016-02-20,sale,NW-ITEM-9,3,34.50,USD,alias\n\
S1,allegro,2016-01-01,2016-01-31,2016-02-20,fee,,,30.00,USD,\n\
S1,allegro,2016-01-01,2016-01-31,2016-02-20,adjustment,,,-1.5,USD,\n\
S2,allegro,2016-02-01,2016-02-29,2016-03-20,sale,MRG-001-CD,1,8.00,USD,\n\
S1,allegro,2016-01-01,2016-01-31,2016-02-20,sale, MRG-001-CD ,1,8.00,USD,back to S1\n";
    let p = read(Kind::Statements, format!("{HEAD}{body}").as_bytes(), &ctx()).unwrap();
    assert_eq!(p.lines, 9);
    assert_eq!(p.entries.len(), 2);
    let Event::Statement(s1) = &p.entries[0].event else {
        panic!()
    };
    let get = |kind, sku: Option<&str>| {
        s1.lines
            .iter()
            .find(|l| l.kind == kind && l.sku.as_ref().map(|s| s.as_str()) == sku)
            .map(|l| (l.units, l.amount_minor))
    };
    assert_eq!(get(LineKind::Sale, Some("MRG-001-CD")), Some((17, 13600)));
    assert_eq!(get(LineKind::Return, Some("MRG-001-CD")), Some((2, 1600)));
    assert_eq!(get(LineKind::Sale, Some("MRG-002-LP")), Some((3, 3450)));
    assert_eq!(get(LineKind::Fee, None), Some((0, 3000)));
    assert_eq!(get(LineKind::Adjustment, None), Some((0, -150)));
    // net = 136 + 34.50 - 16 - 30 - 1.50
    assert_eq!(s1.net_due_minor(), Some(12300));
    assert_eq!(p.entries[0].known_on.to_string(), "2016-02-20");
    assert_eq!(
        p.totals.iter().collect::<Vec<_>>(),
        vec![Money::from_minor(12300 + 800, Currency::USD)]
    );
    let _ = Sku::parse("x");
}

#[test]
fn a_sku_keyed_in_another_case_is_the_catalogs_sku() {
    let body = "\
S1,allegro,2016-01-01,2016-01-31,2016-02-20,sale,mrg-001-cd,2,16.00,USD,\n\
S1,allegro,2016-01-01,2016-01-31,2016-02-20,sale,nw-item-9,1,11.50,USD,an alias too\n";
    let p = read(Kind::Statements, format!("{HEAD}{body}").as_bytes(), &ctx()).unwrap();
    let Event::Statement(s1) = &p.entries[0].event else {
        panic!()
    };
    let skus: Vec<&str> = s1
        .lines
        .iter()
        .filter_map(|l| l.sku.as_ref().map(|s| s.as_str()))
        .collect();
    assert_eq!(skus, ["MRG-001-CD", "MRG-002-LP"]);
}

#[test]
fn every_problem_is_located_and_nothing_is_returned() {
    let body = "\
S1,allegro,2016-01-01,2016-01-31,2016-02-20,sale,MRG-001-CD,10,80.00,USD,\n\
S1,allegro,2016-01-01,2016-01-31,2016-02-20,sale,MRG-001-CD,10,80.001,USD,\n\
S1,allegro,2016-01-01,2016-01-31,2016-02-20,sael,MRG-001-CD,1,8.00,USD,\n\
S1,allegro,2016-01-01,2016-01-31,2016-02-21,sale,MRG-001-CD,1,8.00,USD,\n\
S1,allegro,2016-01-01,2016-01-31,2016-02-20,sale,UNKNOWN-9,1,8.00,USD,\n\
S1,allegro,2016-01-01,2016-01-31,2016-02-20,sale,MRG-001-CD,ten,8.00,USD,\n";
    let e = read(Kind::Statements, format!("{HEAD}{body}").as_bytes(), &ctx()).unwrap_err();
    let text = e.to_string();
    assert!(
        text.contains("line 3, column 9 (amount): found \"80.001\""),
        "{text}"
    );
    assert!(
        text.contains("line 4, column 6 (kind): found \"sael\""),
        "{text}"
    );
    assert!(
        text.contains("line 5: found") && text.contains("as on line 2"),
        "{text}"
    );
    assert!(
        text.contains("line 6, column 7 (sku): found \"UNKNOWN-9\""),
        "{text}"
    );
    assert!(
        text.contains("line 7, column 8 (units): found \"ten\""),
        "{text}"
    );
    assert!(text.contains("nothing was recorded"), "{text}");
}

#[test]
fn only_adjustment_lines_are_signed() {
    // Each bad line comes both first (the general reader) and after a good line of the
    // same statement (the fast path): the same located error either way.
    let bad = [
        (
            "sale,MRG-001-CD,-3,30.00",
            "column 8 (units): found \"-3\"",
            "sale line",
        ),
        (
            "sale,MRG-001-CD,4,-28.00",
            "column 9 (amount): found \"-28.00\"",
            "sale line",
        ),
        (
            "return,MRG-001-CD,-2,14.00",
            "column 8 (units): found \"-2\"",
            "return line",
        ),
        (
            "fee,,,-5.00",
            "column 9 (amount): found \"-5.00\"",
            "only adjustment lines are signed",
        ),
    ];
    let good = "S1,allegro,2016-01-01,2016-01-31,2016-02-20,sale,MRG-001-CD,1,8.00,USD,\n";
    for (line, found, why) in bad {
        let line = format!("S1,allegro,2016-01-01,2016-01-31,2016-02-20,{line},USD,\n");
        for (body, at) in [(format!("{line}{good}"), 2), (format!("{good}{line}"), 3)] {
            let e = match read(Kind::Statements, format!("{HEAD}{body}").as_bytes(), &ctx()) {
                Ok(p) => panic!("accepted:\n{body}{:?}", p.entries),
                Err(e) => e.to_string(),
            };
            assert!(e.contains(&format!("line {at}, {found}")), "{e}");
            assert!(e.contains(why), "{e}");
        }
    }
    // An adjustment is signed either way; a credit is one.
    let ok = format!(
        "{HEAD}{good}S1,allegro,2016-01-01,2016-01-31,2016-02-20,adjustment,,,-12.00,USD,credit\n"
    );
    let p = read(Kind::Statements, ok.as_bytes(), &ctx()).unwrap();
    let Event::Statement(s1) = &p.entries[0].event else {
        panic!()
    };
    assert_eq!(s1.net_due_minor(), Some(800 - 1200));
}

#[test]
fn missing_columns_are_named() {
    let e = read(
        Kind::Payments,
        "payment_id,date,amount\n1,2016-01-01,5\n".as_bytes(),
        &ctx(),
    )
    .unwrap_err();
    assert!(e.to_string().contains("the column \"distributor\""), "{e}");
}

/// An optional column may be left out, but not written another way: `Payment Months`
/// would otherwise be read as no calendar at all, without a word.
#[test]
fn an_optional_column_written_another_way_is_named() {
    let head = "distributor,legal_name,state_of_organization,agreement_start,fee_rate,payment_terms_days,statement_frequency,reserve_rate,reserve_release_days,credit_limit,currency,title_retained,ucc1_file_number,ucc1_filed_on,ucc1_state";
    let row = "d1,D1 LLC,OR,2016-01-01,0.2,60,monthly,0.2,180,1000.00,USD,true,,,";
    let e = read(
        Kind::Distributors,
        format!("{head},Payment Months\n{row},jun;dec\n").as_bytes(),
        &ctx(),
    )
    .unwrap_err();
    let text = e.to_string();
    assert!(
        text.contains("line 1, column 16 (Payment Months)")
            && text.contains("written payment_months"),
        "{text}"
    );
    // Left out, or written as it is: read.
    assert!(read(
        Kind::Distributors,
        format!("{head}\n{row}\n").as_bytes(),
        &ctx()
    )
    .is_ok());
    let p = read(
        Kind::Distributors,
        format!("{head},PAYMENT_MONTHS\n{row},jun;dec\n").as_bytes(),
        &ctx(),
    )
    .unwrap();
    let months = p.entries.iter().find_map(|e| match &e.event {
        backstock_ledger::Event::Fact(backstock_ledger::Fact::Agreement(a)) => {
            Some(a.payment_months.months().to_vec())
        }
        _ => None,
    });
    assert_eq!(months, Some(vec![6, 12]));
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(200))]
    #[test]
    fn no_input_panics(bytes in prop::collection::vec(any::<u8>(), 0..400), k in 0usize..7) {
        let kind = Kind::ALL[k];
        let mut input = backstock_ingest::canonical::columns(kind).join(",").into_bytes();
        input.push(b'\n');
        input.extend_from_slice(&bytes);
        let _ = read(kind, input.as_slice(), &ctx());
        let _ = read(kind, bytes.as_slice(), &ctx());
    }

    #[test]
    fn mutated_statement_lines_never_panic(line in "[A-Za-z0-9,.\\- ]{0,120}") {
        let input = format!("{HEAD}S1,allegro,2016-01-01,2016-01-31,2016-02-20,sale,MRG-001-CD,1,8.00,USD,\n{line}\n");
        let _ = read(Kind::Statements, input.as_bytes(), &ctx());
    }
}

/// Every file of the kept corpus (real-shaped files and the inputs that once broke
/// something) goes through every reader without a panic.
#[test]
fn the_corpus_never_panics() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz-corpus");
    let mut n = 0;
    for f in std::fs::read_dir(&dir).unwrap() {
        let bytes = std::fs::read(f.unwrap().path()).unwrap();
        for kind in Kind::ALL {
            let _ = read(kind, bytes.as_slice(), &ctx());
        }
        let _ = backstock_ingest::edi::read_x12(
            &bytes,
            &ctx(),
            &backstock_domain::PartyId::parse("allegro").unwrap(),
        );
        let _ = backstock_ingest::edi::read_dsr(
            &bytes,
            &ctx(),
            &backstock_domain::PartyId::parse("allegro").unwrap(),
        );
        n += 1;
    }
    assert!(n >= 8, "corpus has {n} files");
}

#[test]
fn every_error_of_a_line_is_listed() {
    let text =
        "sku,upc,title,artist,format,release_date,list_price,wholesale_price,unit_cost,currency\n\
A-1,123,T,A,CD,2020-13-01,abc,8.00,1.10,USD\n";
    let e = read(Kind::Catalog, text.as_bytes(), &ctx())
        .unwrap_err()
        .to_string();
    for col in ["(upc)", "(release_date)", "(list_price)"] {
        assert!(e.contains(col), "{col} missing from: {e}");
    }
    // A bad currency on a statement line still names its unknown SKU.
    let st = format!("{HEAD}S1,allegro,2016-01-01,2016-01-31,2016-02-20,sale,NOPE-1,1,8.00,XXX,\n");
    let e = read(Kind::Statements, st.as_bytes(), &ctx())
        .unwrap_err()
        .to_string();
    assert!(e.contains("(currency)") && e.contains("NOPE-1"), "{e}");
}

/// Errors name the line an editor shows, whatever ends the lines: `\n`, `\r\n` or a
/// lone `\r` (old Mac spreadsheets) — a CR-only file's errors all said line 1.
#[test]
fn errors_name_the_editors_line_whatever_ends_the_lines() {
    let good = "S1,allegro,2016-01-01,2016-01-31,2016-02-20,sale,MRG-001-CD,1,8.00,USD,";
    let bad = "S1,allegro,2016-01-01,2016-01-31,2016-02-20,sale,MRG-001-CD,ten,8.00,USD,";
    let head = HEAD.trim_end();
    for (eol, blank, line) in [
        ("\n", false, 3),
        ("\r\n", false, 3),
        ("\r", false, 3),
        ("\r\n", true, 4),
        ("\r", true, 4),
        ("\n", true, 4),
    ] {
        let mut text = format!("{head}{eol}{good}{eol}");
        if blank {
            text.push_str(eol);
        }
        text.push_str(&format!("{bad}{eol}"));
        let e = read(Kind::Statements, text.as_bytes(), &ctx()).unwrap_err();
        assert_eq!(e.errors[0].line, line, "{eol:?} blank {blank}: {e}");
    }
}

/// A code of 12 or 13 digits with a wrong check digit is most often a mistyped UPC or
/// EAN: the error says which digit it should end in (it said only "not in the catalog").
#[test]
fn a_mistyped_upc_is_named_as_such() {
    let text = format!(
        "{HEAD}S1,allegro,2016-01-01,2016-01-31,2016-02-20,sale,859712000018,1,8.00,USD,\n"
    );
    let e = read(Kind::Statements, text.as_bytes(), &ctx()).unwrap_err();
    let msg = e.to_string();
    assert!(
        msg.contains("mistyped") && msg.contains("the last digit should be 9"),
        "{msg}"
    );
    // Another unknown code keeps the plain message.
    let text =
        format!("{HEAD}S1,allegro,2016-01-01,2016-01-31,2016-02-20,sale,ZZ-404,1,8.00,USD,\n");
    let msg = read(Kind::Statements, text.as_bytes(), &ctx())
        .unwrap_err()
        .to_string();
    assert!(
        !msg.contains("mistyped") && msg.contains("alias add"),
        "{msg}"
    );
}

/// A memo on two lines whose second line is an address ("Raleigh, NC, USA"), closed
/// where the writer meant, is read; a stray quote that swallows the next record is
/// still refused where it opens.
#[test]
fn an_address_on_a_notes_second_line_is_not_a_swallowed_record() {
    let body = "\
S1,allegro,2016-01-01,2016-01-31,2016-02-20,sale,MRG-001-CD,3,24.00,USD,\"Store 12\nRaleigh, NC, USA\"\n\
S1,allegro,2016-01-01,2016-01-31,2016-02-20,sale,MRG-002-LP,1,11.50,USD,\n";
    let p = read(Kind::Statements, format!("{HEAD}{body}").as_bytes(), &ctx()).unwrap();
    assert_eq!(p.lines, 2);

    let swallowing = "\
S1,allegro,2016-01-01,2016-01-31,2016-02-20,sale,MRG-001-CD,3,24.00,USD,\"Store 12\n\
S1,allegro,2016-01-01,2016-01-31,2016-02-20,sale,MRG-002-LP,1,11.50,USD,\n";
    let e = read(
        Kind::Statements,
        format!("{HEAD}{swallowing}").as_bytes(),
        &ctx(),
    )
    .unwrap_err();
    assert!(e.to_string().contains("line 2, column 11 (memo)"), "{e}");
}
