//! Problems are reported with their line and cell, all of them at once.

use backstock_dsr::{parse, AmountSource, DsrError, MAX_ERRORS};

const HEAD: &str = "HEAD\tdsrf/1.1/1.4.1/1.3\tBasicAudioProfile\t1.3\tM1\t2024-07-05T09:30:00Z\t1\t1\t2024-06-01\t2024-06-30\tPADPIDA2014111801Y\tTunestream Ltd\tTunestreamPremium\tPADPIDA2024010101B\tBackstock Records";
const SY: &str = "SY01.02\tS1\tTunestream\t\tSubscriptionModel\tOnDemandStream\tGB\tTunestreamPremium\t10\t5\tGBP\t1.50";
const RE: &str = "RE01.02\t1\tR1\tTS-1\t\tCAT-1\t0093624918526\tThe Lanterns\t\tMidnight Tapes";
const AS: &str = "AS02.03\t1\tA1\tTS-T1\tGBKST2300101\tNight Drive\t\tThe Lanterns";
const SU: &str = "SU02.02\t1\tS1\tTX-1\t\tA1\tTRUE\t10\t\t\tOnDemandStream";

fn file(lines: &[&str]) -> Vec<u8> {
    let mut text = lines.join("\n");
    text.push('\n');
    text.into_bytes()
}

/// A valid file with the given block lines (FOOT counts one block).
fn valid_with(block: &[&str]) -> Vec<u8> {
    let mut lines = vec![HEAD, SY];
    lines.extend_from_slice(block);
    let foot = format!("FOOT\t{}\t{}\t1\t1\t1", lines.len() + 1, lines.len() + 1);
    lines.push(&foot);
    file(&lines)
}

fn errors(bytes: &[u8]) -> Vec<DsrError> {
    match parse(bytes) {
        Ok(r) => panic!("expected errors, got a report with {} sales", r.sales.len()),
        Err(e) => e,
    }
}

/// (line, cell, found)
fn spots(errors: &[DsrError]) -> Vec<(usize, usize, &str)> {
    errors
        .iter()
        .map(|e| (e.line, e.column, e.found.as_str()))
        .collect()
}

#[test]
fn the_helper_builds_a_valid_file() {
    let r = parse(&valid_with(&[RE, AS, SU])).expect("valid");
    assert_eq!(r.sales.len(), 1);
    assert_eq!(r.currency.as_deref(), Some("GBP"));
}

#[test]
fn head_must_come_first() {
    let bytes = file(&["#HEAD\tMessageVersion", HEAD, SY, "FOOT\t4\t4\t1\t0\t0"]);
    let e = errors(&bytes);
    assert_eq!(spots(&e), vec![(1, 1, "#HEAD")]);
    assert_eq!(
        e[0].to_string(),
        "line 1, cell 1: found \"#HEAD\", expected a HEAD record on the first line"
    );
    let e = errors(b"");
    assert_eq!(spots(&e), vec![(1, 1, "")]);
    let e = errors(&file(&[SY, "FOOT\t2\t2\t1\t0\t0"]));
    assert_eq!(spots(&e)[0], (1, 1, "SY01.02"));
}

#[test]
fn foot_must_come_last_and_count_right() {
    let bytes = file(&[HEAD, SY, RE, AS, SU, "FOOT\t7\t5\t2\t3\t3"]);
    let e = errors(&bytes);
    assert_eq!(
        spots(&e),
        vec![
            (6, 2, "7"),
            (6, 5, "3"),
            (6, 3, "5"),
            (6, 4, "2"),
            (6, 6, "3")
        ]
    );
    assert_eq!(
        e[0].to_string(),
        "line 6, cell 2 (FOOT): found \"7\", expected 6, the number of lines in this file up to and including FOOT"
    );

    let e = errors(&file(&[HEAD, SY, RE, AS, SU]));
    assert_eq!(spots(&e), vec![(5, 1, "")]);
    assert!(e[0]
        .expected
        .starts_with("a FOOT record as the last record"));

    let e = errors(&file(&[
        HEAD,
        SY,
        "FOOT\t3\t3\t1\t0\t0",
        SU,
        "",
        "FOOT\t6\t6\t1\t1\t1",
    ]));
    assert_eq!(spots(&e), vec![(4, 1, "SU02.02"), (6, 1, "FOOT")]);
    assert!(e[0].expected.contains("after the FOOT record on line 3"));
}

#[test]
fn comment_and_empty_lines_count_as_lines() {
    let bytes = file(&[
        HEAD,
        "#SY01.02\tSummaryRecordId",
        SY,
        "",
        RE,
        AS,
        SU,
        "FOOT\t8\t8\t1\t1\t1",
    ]);
    assert!(parse(&bytes).is_ok());
}

#[test]
fn multi_file_messages_check_only_per_file_counts() {
    let head = HEAD.replace("\t1\t1\t2024-06-01", "\t1\t2\t2024-06-01");
    let bytes = file(&[&head, SY, RE, AS, SU, "FOOT\t6\t\t7\t1\t"]);
    let r = parse(&bytes).expect("report-level counts belong to the last file");
    assert_eq!(r.number_of_files, 2);
}

#[test]
fn malformed_numbers_dates_and_flags() {
    let bytes = valid_with(&[
        RE,
        AS,
        "SU02.02\t1\tS1\tTX-1\t\tA1\tyes\t12.5\t1,99",
        "SU01.02\t1\tS1\tTX-2\tR1\t\tTRUE\tFALSE\tten\t-1",
    ]);
    let e = errors(&bytes);
    assert_eq!(
        spots(&e),
        vec![
            (5, 7, "yes"),
            (5, 8, "12.5"),
            (5, 9, "1,99"),
            (6, 9, "ten"),
            (6, 10, "-1"),
        ]
    );
    assert_eq!(
        e[1].to_string(),
        "line 5, cell 8 (SU02.02): found \"12.5\", expected NumberOfStreams as a whole number of units"
    );
}

#[test]
fn malformed_header() {
    let head = HEAD.replace("2024-07-05T09:30:00Z", "05/07/2024").replace(
        "\t1\t1\t2024-06-01\t2024-06-30",
        "\t3\t2\t2024-06-31\t2024-05",
    );
    let e = errors(&file(&[&head, SY, "FOOT\t3\t3\t1\t0\t0"]));
    assert_eq!(
        spots(&e),
        vec![(1, 6, "05/07/2024"), (1, 7, "3"), (1, 9, "2024-06-31")]
    );
    let head = HEAD.replace("2024-06-01\t2024-06-30", "2024-06-01\t2024-05");
    let e = errors(&file(&[&head, SY, "FOOT\t3\t3\t1\t0\t0"]));
    assert_eq!(spots(&e), vec![(1, 10, "2024-05")]);
    let head = HEAD.replace("\tM1\t", "\t\t");
    let e = errors(&file(&[&head, SY, "FOOT\t3\t3\t1\t0\t0"]));
    assert_eq!(spots(&e), vec![(1, 5, "")]);
    assert!(e[0].expected.starts_with("MessageId"));
}

#[test]
fn malformed_summary() {
    let bytes = file(&[
        HEAD,
        "SY01.02\tS1\t\t\tSubscriptionModel\t\tGB\t\t10\t\tpounds\t1.5.0",
        "SY02.03\tS1\t\t\t\t\t\t\t1\t\tUSD\t1",
        "FOOT\t4\t4\t2\t0\t0",
    ]);
    let e = errors(&bytes);
    assert_eq!(
        spots(&e),
        vec![(2, 11, "pounds"), (2, 12, "1.5.0"), (3, 2, "S1")]
    );
}

#[test]
fn required_cells() {
    let bytes = valid_with(&[
        "RE01.02\t1\t\t",
        "AS02.03\t1\tA1\t\tGB-KST-23-001\t",
        "SU02.02\t1\t\t\t\t\tTRUE\t1",
    ]);
    let e = errors(&bytes);
    assert_eq!(
        spots(&e),
        vec![
            (3, 3, ""),
            (3, 4, ""),
            (4, 4, ""),
            (4, 5, "GB-KST-23-001"),
            (4, 6, ""),
            (5, 3, ""),
            (5, 4, ""),
            (5, 5, ""),
        ]
    );
}

#[test]
fn references_must_resolve() {
    let bytes = valid_with(&[
        RE,
        AS,
        "SU02.02\t1\tS9\tTX-1\t\tA1\tTRUE\t1",
        "SU02.02\t1\tS1\tTX-2\t\tA9\tTRUE\t1",
        "SU01.02\t1\tS1\tTX-3\tR9\t\tTRUE\tFALSE\t1\t0",
    ]);
    let e = errors(&bytes);
    assert_eq!(spots(&e), vec![(5, 3, "S9"), (6, 6, "A9"), (7, 5, "R9")]);
    assert!(e[1].expected.contains("block 1"));
}

#[test]
fn blocks_are_contiguous() {
    let bytes = file(&[
        HEAD,
        SY,
        RE,
        AS,
        "RE01.02\t2\tR1\tTS-2",
        "SU02.02\t1\tS1\tTX-1\t\tA1\tTRUE\t10",
        "FOOT\t7\t7\t1\t2\t2",
    ]);
    let e = errors(&bytes);
    assert_eq!(spots(&e), vec![(6, 2, "1")]);
}

#[test]
fn duplicate_references_in_a_block() {
    let e = errors(&valid_with(&[RE, "RE02\t1\tR1", AS, AS, SU]));
    assert_eq!(spots(&e), vec![(4, 3, "R1"), (6, 3, "A1")]);
}

#[test]
fn single_record_block_variant_is_refused() {
    let head = HEAD.replace("BasicAudioProfile", "BasicAudioProfileSRB");
    let e = errors(&file(&[&head, SY, "SR02.02\t1\tS1", "SRFO\t4\t1"]));
    assert_eq!(
        spots(&e),
        vec![
            (1, 3, "BasicAudioProfileSRB"),
            (3, 1, "SR02.02"),
            (4, 1, "SRFO"),
            (4, 1, "")
        ]
    );
}

#[test]
fn invalid_utf8_is_reported_with_its_cell() {
    let mut bytes = file(&[HEAD, SY]);
    bytes.extend_from_slice(b"RE01.02\t1\tR1\tTS-1\t\t\t\t\t\tCaf\xE9\n");
    bytes.extend_from_slice(b"FOOT\t4\t4\t1\t1\t1\n");
    let e = errors(&bytes);
    assert_eq!(spots(&e), vec![(3, 10, "byte 0xE9")]);
    assert_eq!(e[0].expected, "UTF-8 text");
}

#[test]
fn ugc_sales_carry_their_own_revenue_in_both_layouts() {
    let bytes = valid_with(&[
        AS,
        "SU03.03\t1\tS1\tTX-1\tTS-T1\t40\t0.1234",
        "SU03.02\t1\tTX-2\t\tUGC-777\t2.000\t-0.05",
    ]);
    let r = parse(&bytes).expect("valid");
    let s = &r.sales[0];
    assert_eq!(
        (s.summary_ref.as_deref(), s.transaction_id.as_str()),
        (Some("S1"), "TX-1")
    );
    assert_eq!(s.isrc.as_deref(), Some("GBKST2300101"));
    assert_eq!((s.units, s.net_amount.as_str()), (40, "0.1234"));
    assert_eq!(s.amount_source, AmountSource::Line);
    assert_eq!(s.territory.as_deref(), Some("GB"));
    let s = &r.sales[1];
    assert_eq!(
        (s.summary_ref.as_deref(), s.transaction_id.as_str()),
        (None, "TX-2")
    );
    assert_eq!(s.resource_reference.as_deref(), Some("UGC-777"));
    assert_eq!(s.isrc, None);
    assert_eq!((s.units, s.net_amount.as_str()), (2, "-0.05"));

    let e = errors(&valid_with(&[AS, "SU03.03\t1\tS1\tTX-1\tTS-T1\t40.5\t"]));
    assert_eq!(spots(&e), vec![(4, 6, "40.5"), (4, 7, "")]);
}

#[test]
fn escaped_tabs_stay_inside_their_cell() {
    let bytes = valid_with(&[RE, "AS02.03\t1\tA1\tTS-T1\tGBKST2300101\tTab\\\there", SU]);
    let r = parse(&bytes).expect("valid");
    assert_eq!(r.sales[0].title.as_deref(), Some("Tab\there"));
}

#[test]
fn unknown_records_are_ignored() {
    let bytes = valid_with(&[RE, AS, "MW01.03\t1\tW1", "XX99\twhatever", SU]);
    assert_eq!(parse(&bytes).map(|r| r.sales.len()), Ok(1));
}

#[test]
fn at_most_max_errors_are_returned() {
    let bad = "SU02.02\t1\tS1\tTX\t\tA1\tTRUE\tmany";
    let mut lines = vec![HEAD, SY, RE, AS];
    lines.extend(std::iter::repeat_n(bad, 300));
    let e = errors(&file(&lines));
    assert_eq!(e.len(), MAX_ERRORS);
    assert_eq!(e[MAX_ERRORS - 1].line, 4 + MAX_ERRORS);
}

#[test]
fn errors_display_as_one_sentence() {
    let e = DsrError {
        line: 12,
        column: 9,
        record: "SU02.02".into(),
        found: "abc".into(),
        expected: "NumberOfStreams as a whole number of units".into(),
    };
    assert_eq!(
        e.to_string(),
        "line 12, cell 9 (SU02.02): found \"abc\", expected NumberOfStreams as a whole number of units"
    );
}
