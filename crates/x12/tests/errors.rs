//! Every kind of problem is reported with its exact position.

use backstock_x12::{item_reports, parse, parse_all, X12Error, MAX_ERRORS};

const ISA: &str = "ISA*00*          *00*          *ZZ*DISTRIBUTORCO  *ZZ*BACKSTOCKLABEL *240205*1530*U*00401*000000905*0*P*>";

/// One segment per line, `~` terminated; line N holds segment N.
fn interchange(segments: &[&str]) -> Vec<u8> {
    let mut text = String::new();
    for segment in std::iter::once(&ISA).chain(segments) {
        text.push_str(segment);
        text.push_str("~\n");
    }
    text.into_bytes()
}

/// A valid 852 interchange around the given body segments (SE01 computed).
fn with_body(body: &[&str]) -> Vec<u8> {
    let se = format!("SE*{}*0001", body.len() + 2);
    let mut segments = vec!["GS*PD*DIST*LABEL*20240205*1530*905*X*004010", "ST*852*0001"];
    segments.extend_from_slice(body);
    segments.push(&se);
    segments.push("GE*1*905");
    segments.push("IEA*1*000000905");
    interchange(&segments)
}

fn errors_of(bytes: &[u8]) -> Vec<X12Error> {
    match item_reports(bytes) {
        Ok(r) => panic!("expected errors, got {} reports", r.len()),
        Err(e) => e,
    }
}

/// (line, column, segment, segment id, element, found)
fn spot(e: &X12Error) -> (usize, usize, usize, &str, Option<usize>, &str) {
    (
        e.line,
        e.column,
        e.segment,
        e.segment_id.as_str(),
        e.element,
        e.found.as_str(),
    )
}

#[test]
fn the_helpers_build_a_valid_interchange() {
    let bytes = with_body(&[
        "XQ*H*20240101*20240107",
        "LIN**UP*012345678905",
        "ZA*QS*3*EA",
    ]);
    assert_eq!(item_reports(&bytes).map(|r| r.len()), Ok(1));
}

#[test]
fn wrong_se_count() {
    let bytes = interchange(&[
        "GS*PD*DIST*LABEL*20240205*1530*905*X*004010",
        "ST*852*0001",
        "XQ*H*20240101",
        "SE*4*0001",
        "GE*1*905",
        "IEA*1*000000905",
    ]);
    let errors = parse(&bytes).expect_err("SE01 is 4 but ST..SE has 3 segments");
    assert_eq!(errors.len(), 1);
    let e = &errors[0];
    assert_eq!(spot(e), (5, 4, 5, "SE", Some(1), "4"));
    assert!(e.expected.starts_with("3,"), "{}", e.expected);
    assert_eq!(
        e.to_string(),
        "line 5, column 4 (segment 5 SE, element 1): found \"4\", expected 3, the number of segments from ST to SE inclusive"
    );
}

#[test]
fn wrong_control_numbers_at_every_level() {
    let bytes = interchange(&[
        "GS*PD*DIST*LABEL*20240205*1530*905*X*004010",
        "ST*852*0001",
        "SE*2*0002",
        "GE*2*906",
        "IEA*2*000000904",
    ]);
    let errors = parse_all(&bytes).expect_err("every trailer is wrong");
    let spots: Vec<_> = errors.iter().map(spot).collect();
    assert_eq!(
        spots,
        vec![
            (4, 6, 4, "SE", Some(2), "0002"),
            (5, 4, 5, "GE", Some(1), "2"),
            (5, 6, 5, "GE", Some(2), "906"),
            (6, 5, 6, "IEA", Some(1), "2"),
            (6, 7, 6, "IEA", Some(2), "000000904"),
        ]
    );
    assert!(errors[0].expected.contains("\"0001\""));
    assert!(errors[2].expected.contains("GS06"));
    assert!(errors[4].expected.contains("ISA13"));
}

#[test]
fn bad_quantity_points_at_the_element() {
    let bytes = with_body(&[
        "XQ*H*20240101*20240107",
        "LIN**UP*012345678905",
        "ZA*QS*12.5*EA",
        "ZA*QU*X*EA",
    ]);
    let errors = errors_of(&bytes);
    let spots: Vec<_> = errors.iter().map(spot).collect();
    assert_eq!(
        spots,
        vec![
            (6, 7, 6, "ZA", Some(2), "12.5"),
            (7, 7, 7, "ZA", Some(2), "X")
        ]
    );
    assert_eq!(
        errors[1].to_string(),
        "line 7, column 7 (segment 7 ZA, element 2): found \"X\", expected a whole number of units"
    );
}

#[test]
fn bad_dates_prices_and_sdq_quantities() {
    let bytes = with_body(&[
        "XQ*H*20240231*20240107",
        "LIN**UP*012345678905",
        "CTP**RES*9,99",
        "ZA*QA**EA",
        "SDQ*EA*92*0101*5*0102",
        "SDQ*EA*92*0103*lots",
    ]);
    let errors = errors_of(&bytes);
    let spots: Vec<_> = errors.iter().map(spot).collect();
    assert_eq!(
        spots,
        vec![
            (4, 6, 4, "XQ", Some(2), "20240231"),
            (6, 10, 6, "CTP", Some(3), "9,99"),
            (8, 22, 8, "SDQ", Some(6), ""),
            (9, 16, 9, "SDQ", Some(4), "lots"),
        ]
    );
}

#[test]
fn sdq_total_must_match_za02() {
    let bytes = with_body(&[
        "LIN**UP*012345678905",
        "ZA*QS*10*EA",
        "SDQ*EA*92*0101*5*0102*7",
    ]);
    let errors = errors_of(&bytes);
    assert_eq!(errors.len(), 1);
    assert_eq!(spot(&errors[0]), (5, 7, 5, "ZA", Some(2), "10"));
    assert!(errors[0].expected.starts_with("12,"));
}

#[test]
fn activity_without_item_or_quantity() {
    let bytes = with_body(&[
        "ZA*QS*1*EA",
        "LIN**UP",
        "ZA*QS*1*EA",
        "LIN**UP*012345678905",
        "ZA*QS**EA",
        "SDQ*EA*92",
    ]);
    let errors = errors_of(&bytes);
    let spots: Vec<_> = errors.iter().map(spot).collect();
    assert_eq!(
        spots,
        vec![
            (4, 1, 4, "ZA", None, "ZA"),
            (5, 8, 5, "LIN", Some(3), ""),
            (9, 10, 9, "SDQ", Some(3), ""),
        ]
    );
}

#[test]
fn segments_out_of_their_envelopes() {
    let bytes = interchange(&[
        "XQ*H*20240101",
        "ST*852*0001",
        "SE*2*0001",
        "GE*0*1",
        "GS*PD*DIST*LABEL*20240205*1530*7*X*004010",
        "ST*852*0002",
        "GS*PD*DIST*LABEL*20240205*1530*8*X*004010",
        "IEA*2*000000905",
    ]);
    let errors = parse(&bytes).expect_err("nesting is broken");
    let found: Vec<(usize, &str)> = errors.iter().map(|e| (e.line, e.found.as_str())).collect();
    assert_eq!(
        found,
        vec![
            (2, "XQ"),  // data outside any transaction set
            (3, "ST"),  // ST without GS
            (5, "0"),   // GE01 of the implicit group counts 1 ST
            (8, "GS"),  // ST 0002 not closed by SE
            (8, "GS"),  // group 7 not closed by GE
            (9, "IEA"), // group 8 not closed by GE
        ]
    );
}

#[test]
fn truncated_interchange_reports_what_is_missing_at_the_end() {
    let mut bytes = with_body(&["LIN**UP*012345678905", "ZA*QS*1*EA"]);
    let cut = bytes.len() - "SE*4*0001~\nGE*1*905~\nIEA*1*000000905~\n".len();
    bytes.truncate(cut);
    let errors = parse(&bytes).expect_err("no SE, GE, IEA");
    assert_eq!(errors.len(), 3);
    for e in &errors {
        assert_eq!(
            (e.line, e.column, e.segment, e.found.as_str()),
            (6, 1, 5, "")
        );
    }
    assert!(errors[0]
        .expected
        .starts_with("an SE segment closing transaction set 0001"));
    assert!(errors[1]
        .expected
        .starts_with("a GE segment closing functional group 905"));
    assert!(errors[2]
        .expected
        .starts_with("an IEA segment closing interchange 000000905"));
    assert!(errors[2]
        .to_string()
        .contains("found nothing, expected an IEA segment"));
}

#[test]
fn input_that_is_not_x12() {
    for (input, line, column) in [
        (&b""[..], 1, 1),
        (b"   \n", 2, 1),
        (b"hello", 1, 1),
        (b"\n\nUNB+UNOC:3", 3, 1),
    ] {
        let errors = parse(input).expect_err("not X12");
        assert_eq!(errors.len(), 1, "{input:?}");
        assert_eq!(
            (errors[0].line, errors[0].column),
            (line, column),
            "{input:?}"
        );
        assert!(errors[0].expected.contains("ISA"), "{}", errors[0]);
    }
}

#[test]
fn unusable_isa_headers() {
    // Too few elements: the header never reaches ISA16.
    let errors = parse(b"ISA*00*~GS*PD~").expect_err("short ISA");
    assert_eq!((errors[0].line, errors[0].column), (1, 15));
    // A terminator inside the header: the 16th '*' is then the one in GS, and the
    // byte after it cannot be a component separator.
    let mut short = ISA.replace("*0*P*", "*0~P*");
    short.push_str("~GS*PD~");
    let errors = parse(short.as_bytes()).expect_err("terminator inside ISA");
    assert_eq!(
        (errors[0].line, errors[0].column, errors[0].found.as_str()),
        (1, 110, "'P'")
    );
    // A line break cannot be the element separator.
    let errors = parse(b"ISA\r00\r").expect_err("bad separator");
    assert_eq!(
        (errors[0].column, errors[0].found.as_str()),
        (4, "a carriage return")
    );
    // Not an ISA at all.
    let errors = parse(b"ISA000").expect_err("no ISA");
    assert_eq!((errors[0].column, errors[0].found.as_str()), (1, "ISA000"));
    // Truncated inside the header.
    let errors = parse(&ISA.as_bytes()[..60]).expect_err("truncated");
    assert!(errors[0].expected.contains("16 ISA elements"));
}

#[test]
fn junk_after_the_interchange() {
    let mut bytes = with_body(&[]);
    bytes.extend_from_slice(b"\nGARBAGE");
    let errors = parse(&bytes).expect_err("junk");
    assert_eq!(errors.len(), 1);
    assert_eq!((errors[0].line, errors[0].found.as_str()), (8, "GARBAGE"));
}

#[test]
fn bad_segment_identifiers_are_reported_but_counted() {
    let bytes = with_body(&["xq*H", "TOOLONG*1"]);
    let errors = parse(&bytes).expect_err("bad ids");
    let found: Vec<(usize, &str, &str)> = errors
        .iter()
        .map(|e| (e.line, e.segment_id.as_str(), e.found.as_str()))
        .collect();
    assert_eq!(found, vec![(4, "", "xq"), (5, "", "TOOLONG")]);
}

#[test]
fn at_most_max_errors_are_returned() {
    let mut body = vec!["LIN**UP*012345678905"];
    body.extend(std::iter::repeat_n("ZA*QS*bad*EA", 300));
    let errors = errors_of(&with_body(&body));
    assert_eq!(errors.len(), MAX_ERRORS);
    assert_eq!(errors[0].line, 5);
    assert_eq!(errors[MAX_ERRORS - 1].line, 4 + MAX_ERRORS);
}

#[test]
fn unknown_transaction_sets_are_checked_but_not_mapped() {
    let bytes = interchange(&[
        "GS*PO*DIST*LABEL*20240205*1530*905*X*004010",
        "ST*850*0001",
        "BEG*00*SA*PO1**20240205",
        "PO1*1*x*EA",
        "SE*4*0001",
        "GE*1*905",
        "IEA*1*000000905",
    ]);
    assert_eq!(item_reports(&bytes).map(|r| r.len()), Ok(0));
}

#[test]
fn errors_display_as_one_sentence() {
    let e = X12Error {
        line: 12,
        column: 5,
        segment: 34,
        segment_id: "ZA".into(),
        element: Some(2),
        found: "X".into(),
        expected: "a whole number of units".into(),
    };
    assert_eq!(
        e.to_string(),
        "line 12, column 5 (segment 34 ZA, element 2): found \"X\", expected a whole number of units"
    );
    let e = X12Error {
        segment: 0,
        segment_id: String::new(),
        element: None,
        found: String::new(),
        ..e
    };
    assert_eq!(
        e.to_string(),
        "line 12, column 5 (before the first segment): found nothing, expected a whole number of units"
    );
}

/// An interchange without its GS and GE is one mistake, said once: not also a GE
/// missing for a group that has no GS, nor an IEA count that disagrees with it.
#[test]
fn a_missing_functional_group_is_said_once() {
    let bytes = interchange(&[
        "ST*852*0001",
        "XQ*H*20160601*20160630",
        "LIN*1*UP*859712000019",
        "ZA*QS*10*EA",
        "SE*5*0001",
        "IEA*1*000000905",
    ]);
    let errors = errors_of(&bytes);
    assert_eq!(errors.len(), 1, "{errors:?}");
    assert_eq!(errors[0].line, 2);
    assert!(
        errors[0]
            .expected
            .contains("a GS segment opening a functional group before ST"),
        "{errors:?}"
    );
}
