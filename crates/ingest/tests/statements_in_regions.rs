//! The statements file read in regions on several threads gives exactly what the
//! sequential reader gives: the same entries, totals, unknown codes and line counts, or
//! the same errors.

use backstock_ingest::{read, read_statements_parallel, Context, Decoder, Encoding, Kind};
use proptest::prelude::*;
use std::io::Cursor;
use std::sync::atomic::{AtomicU64, Ordering};

fn ctx(hold_unmatched: bool) -> Context {
    let catalog: Vec<(String, Option<String>, i64, String)> = (1..=12)
        .map(|i| (format!("MRG-{i:03}-CD"), None, 800, "USD".to_string()))
        .chain([(
            "MRG-100-LP".to_string(),
            Some("859712000019".to_string()),
            1150,
            "USD".to_string(),
        )])
        .collect();
    let mut c = Context::from_lookups(
        &catalog,
        &[
            ("NW-ITEM-9".into(), "MRG-002-CD".into()),
            ("A-VERY-LONG-ALIAS-CODE-17".into(), "MRG-003-CD".into()),
        ],
        &[
            ("allegro".into(), "USD".into()),
            ("nordwind".into(), "EUR".into()),
            ("kanto".into(), "JPY".into()),
        ],
        &[],
    );
    c.file_name = "statements.csv".into();
    c.file_sha256 = "ab".repeat(32);
    c.hold_unmatched = hold_unmatched;
    c
}

/// What a reader returned, comparable.
fn outcome(r: Result<backstock_ingest::Parsed, backstock_ingest::FileErrors>) -> String {
    match r {
        Ok(p) => format!(
            "lines {}\ntotals {:?}\nunknown {:?}\nentries {:#?}",
            p.lines, p.totals, p.unknown, p.entries
        ),
        Err(e) => format!("errors {e:#?}"),
    }
}

fn sequential(bytes: &[u8], ctx: &Context) -> String {
    outcome(read(
        Kind::Statements,
        Decoder::new(bytes, Encoding::Utf8),
        ctx,
    ))
}

fn parallel(bytes: &[u8], ctx: &Context, threads: usize) -> String {
    let open_at = |offset: u64| Ok(Cursor::new(&bytes[offset as usize..]));
    let seen = AtomicU64::new(0);
    let progress = |n: u64| {
        seen.fetch_max(n, Ordering::Relaxed);
    };
    let r = read_statements_parallel(ctx, bytes.len() as u64, &open_at, threads, &progress)
        .expect("no I/O error from a slice");
    assert!(
        seen.load(Ordering::Relaxed) >= bytes.len() as u64,
        "progress reached the end"
    );
    outcome(r)
}

fn same_everywhere(bytes: &[u8], ctx: &Context) {
    let want = sequential(bytes, ctx);
    for n in [1, 2, 3, 7] {
        let got = parallel(bytes, ctx, n);
        assert_eq!(
            got,
            want,
            "{n} threads differ on:\n{}",
            String::from_utf8_lossy(bytes)
        );
    }
}

/// A statement's columns: id, distributor, period, issued, currency.
const STATEMENTS: [[&str; 6]; 4] = [
    [
        "S1",
        "allegro",
        "2016-01-01",
        "2016-01-31",
        "2016-02-20",
        "USD",
    ],
    [
        "S2",
        "allegro",
        "2016-02-01",
        "2016-02-29",
        "2016-03-20",
        "USD",
    ],
    [
        "N1",
        "nordwind",
        "2016-01-01",
        "2016-03-31",
        "2016-04-15",
        "EUR",
    ],
    [
        "K1",
        "kanto",
        "2016-01-01",
        "2016-01-31",
        "2016-02-10",
        "JPY",
    ],
];

fn pick(choices: &'static [&'static str]) -> impl Strategy<Value = &'static str> {
    proptest::sample::select(choices)
}

/// One data line (or a blank one), terminated by `\n`.
/// One data line (or a blank one); with `bad`, now and then a value the file may not
/// hold or a statement's columns changed.
fn data_line(bad: bool) -> impl Strategy<Value = String> {
    let b = u32::from(bad);
    let statement = 0..STATEMENTS.len();
    // Mostly values the file may hold; now and then one it may not.
    let kind = prop_oneof![
        40 => pick(&["sale", "sale", "sale", "return", "fee", "adjustment", "Sale", " sale "]),
        b => pick(&["bogus", ""]),
    ];
    let sku = prop_oneof![
        60 => pick(&[
            "MRG-001-CD",
            "MRG-002-CD",
            "MRG-003-CD",
            "MRG-004-CD",
            "MRG-005-CD",
            "MRG-006-CD",
            "MRG-007-CD",
            "MRG-008-CD",
            "MRG-009-CD",
            "MRG-010-CD",
            "MRG-011-CD",
            "MRG-012-CD",
            "859712000019",
            "0859712000019",
            "NW-ITEM-9",
            "A-VERY-LONG-ALIAS-CODE-17",
            " MRG-001-CD ",
        ]),
        2 => pick(&["ZZ-UNKNOWN-1", "ZZ-UNKNOWN-2"]),
        b => pick(&["!!", ""]),
    ];
    let units = prop_oneof![
        40 => pick(&["1", "2", "3", "10", "", "0", "+4", "007"]),
        // Negative units are refused but on adjustment lines (which take none).
        b => pick(&["x", "1000000001", "1.5", "-2"]),
    ];
    let amount = prop_oneof![
        40 => pick(&["8.00", "16", "0.25", " 4.00 ", "1234567.5"]),
        // A negative amount holds on an adjustment line only.
        b => pick(&["1.234", "abc", "", "1e3", "-3.5"]),
    ];
    let memo = pick(&[
        "",
        "",
        "plain memo",
        "\"quoted, with a comma\"",
        "\"two\nlines\"",
        "\"three\r\nlines\nhere\"",
        "\"say \"\"hi\"\"\"",
        "extra,field",
    ]);
    // 0: regular; 1: other issue date (header mismatch); 2: blank line; 3: blank cells;
    // 4: quoted statement id.
    let shape = prop_oneof![
        40 => Just(0u8),
        b => Just(1u8),
        2 => Just(2u8),
        1 => Just(3u8),
        1 => Just(4u8),
    ];
    (statement, kind, sku, units, amount, memo, shape).prop_map(
        |(s, kind, sku, units, amount, memo, shape)| {
            let [id, dist, ps, pe, issued, cur] = STATEMENTS[s];
            let id = if shape == 4 {
                format!("\"{id}\"")
            } else {
                id.to_string()
            };
            let issued = if shape == 1 { "2016-05-05" } else { issued };
            match shape {
                2 => "\n".to_string(),
                3 => " , ,,\n".to_string(),
                _ => format!(
                    "{id},{dist},{ps},{pe},{issued},{kind},{sku},{units},{amount},{cur},{memo}\n"
                ),
            }
        },
    )
}

/// A whole file: header, mostly runs of one statement (as distributors send them).
fn file() -> impl Strategy<Value = (Vec<u8>, bool)> {
    let runs = any::<bool>().prop_flat_map(|bad| {
        proptest::collection::vec(
            (
                0..STATEMENTS.len(),
                proptest::collection::vec(data_line(bad), 1..30),
            ),
            1..6,
        )
    });
    (runs, any::<bool>(), any::<bool>(), any::<bool>(), any::<bool>()).prop_map(
        |(runs, bom, crlf, hold, last_newline)| {
            let mut text = String::new();
            if bom {
                text.push('\u{feff}');
            }
            text.push_str(
                "statement_id,distributor,period_start,period_end,issued_on,kind,sku,units,amount,currency,memo\n",
            );
            for (s, lines) in runs {
                for l in lines {
                    // Lines are generated for any statement: most runs keep to one.
                    let own = STATEMENTS[s][0];
                    let l = if l.starts_with('S') || l.starts_with('N') || l.starts_with('K') {
                        let rest = l.split_once(',').map_or("", |r| r.1);
                        let [_, dist, ps, pe, issued, cur] = STATEMENTS[s];
                        let fields: Vec<&str> = rest.splitn(10, ',').collect();
                        if fields.len() == 10 && fields[3] == "2016-05-05" {
                            l.clone()
                        } else if fields.len() == 10 {
                            // Yen have no decimals.
                            let amount = if cur == "JPY" {
                                fields[7].split('.').next().unwrap_or("")
                            } else {
                                fields[7]
                            };
                            format!(
                                "{own},{dist},{ps},{pe},{issued},{},{amount},{cur},{}",
                                fields[4..7].join(","),
                                fields[9]
                            )
                        } else {
                            l.clone()
                        }
                    } else {
                        l.clone()
                    };
                    text.push_str(&l);
                }
            }
            if !last_newline {
                text.pop();
            }
            if crlf {
                text = text.replace('\n', "\r\n");
            }
            (text.into_bytes(), hold)
        },
    )
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn regions_read_what_the_sequential_reader_reads((bytes, hold) in file()) {
        same_everywhere(&bytes, &ctx(hold));
    }

    #[test]
    fn regions_read_any_bytes_like_the_sequential_reader(
        bytes in proptest::collection::vec(
            proptest::sample::select(b"S1,allegro,2016-01-31,sale,MRG-001-CD,8.00,USD\"\r\n \xff".to_vec()),
            0..300,
        ),
    ) {
        let mut file = b"statement_id,distributor,period_start,period_end,issued_on,kind,sku,units,amount,currency,memo\n".to_vec();
        file.extend_from_slice(&bytes);
        same_everywhere(&file, &ctx(false));
    }
}

const HEAD: &str = "statement_id,distributor,period_start,period_end,issued_on,kind,sku,units,amount,currency,memo\n";

fn lines(n: usize, line: impl Fn(usize) -> String) -> Vec<u8> {
    let mut s = HEAD.to_string();
    for i in 0..n {
        s.push_str(&line(i));
    }
    s.into_bytes()
}

#[test]
fn a_clean_file_is_read_in_regions() {
    let bytes = lines(5000, |i| {
        let s = if i < 2500 { "S1" } else { "S2" };
        let p = if i < 2500 {
            "2016-01-01,2016-01-31,2016-02-20"
        } else {
            "2016-02-01,2016-02-29,2016-03-20"
        };
        format!(
            "{s},allegro,{p},sale,MRG-{:03}-CD,{},8.00,USD,\n",
            i % 12 + 1,
            i % 3 + 1
        )
    });
    same_everywhere(&bytes, &ctx(false));
    let out = parallel(&bytes, &ctx(false), 2);
    assert!(out.starts_with("lines 5000\n"), "{out}");
    assert!(out.contains("first_line: 2,"), "{out}");
    assert!(out.contains("last_line: 5001,"), "{out}");
}

#[test]
fn a_statement_spread_over_the_cut_with_other_columns_is_the_sequential_error() {
    let bytes = lines(3000, |i| {
        let issued = if i < 2000 { "2016-02-20" } else { "2016-02-21" };
        format!("S1,allegro,2016-01-01,2016-01-31,{issued},sale,MRG-001-CD,1,8.00,USD,\n")
    });
    same_everywhere(&bytes, &ctx(false));
    let out = parallel(&bytes, &ctx(false), 2);
    assert!(out.contains("line: 2002,"), "{out}");
    assert!(out.contains("truncated: true"), "{out}");
}

#[test]
fn a_cut_inside_a_quoted_memo_is_read_on_from_the_last_record() {
    // One memo of many lines across the cut, none of them looking like a record.
    let mut s = HEAD.to_string();
    for _ in 0..50 {
        s.push_str("S1,allegro,2016-01-01,2016-01-31,2016-02-20,sale,MRG-001-CD,1,8.00,USD,\n");
    }
    s.push_str("S1,allegro,2016-01-01,2016-01-31,2016-02-20,sale,MRG-002-CD,1,8.00,USD,\"");
    for i in 0..100 {
        s.push_str(&format!(
            "note {i} of the returns agreement; see the letter\n"
        ));
    }
    s.push_str("\"\n");
    for _ in 0..50 {
        s.push_str("S1,allegro,2016-01-01,2016-01-31,2016-02-20,sale,MRG-004-CD,1,8.00,USD,\n");
    }
    let bytes = s.into_bytes();
    same_everywhere(&bytes, &ctx(false));
    let out = parallel(&bytes, &ctx(false), 2);
    assert!(out.starts_with("lines 101\n"), "{out}");
}

#[test]
fn a_memo_whose_quote_never_closes_is_refused_by_every_reader_alike() {
    // The memo's quote opens and the lines after it, each a statement line, would be
    // read into it: refused at the line it opens on, whatever the cut.
    let mut s = HEAD.to_string();
    for _ in 0..50 {
        s.push_str("S1,allegro,2016-01-01,2016-01-31,2016-02-20,sale,MRG-001-CD,1,8.00,USD,\n");
    }
    s.push_str("S1,allegro,2016-01-01,2016-01-31,2016-02-20,sale,MRG-002-CD,1,8.00,USD,\"");
    for _ in 0..100 {
        s.push_str("S1,allegro,2016-01-01,2016-01-31,2016-02-20,sale,MRG-003-CD,1,8.00,USD,\n");
    }
    s.push_str("\"\n");
    let bytes = s.into_bytes();
    same_everywhere(&bytes, &ctx(false));
    let out = parallel(&bytes, &ctx(false), 2);
    assert!(
        out.contains("line: 52,") && out.contains("\"memo\""),
        "{out}"
    );
    assert!(
        out.contains("taking in lines that look like records"),
        "{out}"
    );
}

#[test]
fn totals_that_could_overflow_are_left_to_the_sequential_reader() {
    let bytes = lines(300, |i| {
        let sign = if i % 2 == 0 { "" } else { "-" };
        format!("S1,allegro,2016-01-01,2016-01-31,2016-02-20,adjustment,,,{sign}999999999999999.99,USD,\n")
    });
    same_everywhere(&bytes, &ctx(false));
    let bytes = lines(300, |_| {
        "S1,allegro,2016-01-01,2016-01-31,2016-02-20,sale,MRG-001-CD,1,999999999999999.99,USD,\n"
            .to_string()
    });
    same_everywhere(&bytes, &ctx(false));
}

#[test]
fn unknown_codes_and_held_lines_merge_across_regions() {
    let bytes = lines(4000, |i| {
        let code = if i % 500 == 7 {
            "ZZ-UNKNOWN-1"
        } else {
            "MRG-001-CD"
        };
        format!("S1,allegro,2016-01-01,2016-01-31,2016-02-20,sale,{code},1,8.00,USD,\n")
    });
    same_everywhere(&bytes, &ctx(false));
    same_everywhere(&bytes, &ctx(true));
    let out = parallel(&bytes, &ctx(true), 3);
    assert!(out.contains("first_line: 9,"), "{out}");
    assert!(out.contains("last_line: 3509,"), "{out}");
}

#[test]
fn columns_in_another_order_are_read_the_same() {
    let mut s = "memo,currency,amount,units,sku,kind,issued_on,period_end,period_start,distributor,statement_id\n".to_string();
    for i in 0..2000 {
        s.push_str(&format!(
            ",USD,8.00,{},MRG-{:03}-CD,sale,2016-02-20,2016-01-31,2016-01-01,allegro,S1\n",
            i % 4 + 1,
            i % 12 + 1
        ));
    }
    same_everywhere(s.as_bytes(), &ctx(false));
}

#[test]
fn a_bad_header_is_the_sequential_error() {
    for head in [
        "",
        "\n",
        "statement_id,distributor\nS1,allegro\n",
        "\u{feff}\"statement_id\nx",
    ] {
        same_everywhere(head.as_bytes(), &ctx(false));
    }
}

#[test]
fn a_file_on_disk_is_read_through_one_opener_per_region() {
    use std::fs::File;
    use std::io::{Seek, SeekFrom};
    let bytes = lines(3000, |i| {
        format!(
            "S1,allegro,2016-01-01,2016-01-31,2016-02-20,sale,MRG-{:03}-CD,1,8.00,USD,\"memo, {i}\"\n",
            i % 12 + 1
        )
    });
    let path = std::env::temp_dir().join(format!(
        "backstock-regions-{}-statements.csv",
        std::process::id()
    ));
    std::fs::write(&path, &bytes).expect("temporary file written");
    // What the app does: each region opens the file and seeks to its offset.
    let open_at = |offset: u64| -> std::io::Result<File> {
        let mut f = File::open(&path)?;
        f.seek(SeekFrom::Start(offset))?;
        Ok(f)
    };
    let len = std::fs::metadata(&path).expect("metadata").len();
    let done = AtomicU64::new(0);
    let got = read_statements_parallel(&ctx(false), len, &open_at, 2, &|n| {
        done.fetch_max(n, Ordering::Relaxed);
    })
    .expect("the file reads");
    std::fs::remove_file(&path).expect("temporary file removed");
    assert!(done.load(Ordering::Relaxed) >= len);
    assert_eq!(outcome(got), sequential(&bytes, &ctx(false)));
    // An opener that fails is an I/O error, not a file error.
    let failing = |_: u64| -> std::io::Result<File> { File::open(&path) };
    let err = read_statements_parallel(&ctx(false), len, &failing, 2, &|_| {})
        .expect_err("the file is gone");
    assert_eq!(err.kind(), std::io::ErrorKind::NotFound);
}

#[test]
fn a_line_after_a_held_one_is_judged_with_the_statement_the_held_line_left() {
    // Found by the proptest: an unknown code waiting in a batch, then a line with a
    // code too long to batch, in a region of a few lines.
    let l = |code: &str, memo: &str| {
        format!("N1,nordwind,2016-01-01,2016-03-31,2016-04-15,sale,{code},1,8.00,EUR,{memo}\n")
    };
    let mut s = HEAD.to_string();
    s.push_str(&l("MRG-001-CD", ""));
    s.push_str(&l("ZZ-UNKNOWN-1", ""));
    s.push_str(&l("A-VERY-LONG-ALIAS-CODE-17", "\"extra,field\""));
    for _ in 0..11 {
        s.push_str(&l("MRG-001-CD", ""));
    }
    s.pop();
    same_everywhere(s.as_bytes(), &ctx(true));
    let out = parallel(s.as_bytes(), &ctx(true), 5);
    assert!(out.contains("MRG-003-CD"), "{out}");
}

#[test]
fn a_length_that_falls_short_still_reads_to_the_end_of_the_file() {
    let bytes = lines(2000, |i| {
        format!(
            "S1,allegro,2016-01-01,2016-01-31,2016-02-20,sale,MRG-{:03}-CD,1,8.00,USD,\n",
            i % 12 + 1
        )
    });
    let open_at = |offset: u64| Ok(Cursor::new(&bytes[offset as usize..]));
    for len in [0, 100, bytes.len() as u64 / 2] {
        for threads in [1, 2, 3] {
            let got = read_statements_parallel(&ctx(false), len, &open_at, threads, &|_| {})
                .expect("no I/O error from a slice");
            assert_eq!(outcome(got), sequential(&bytes, &ctx(false)), "len {len}");
        }
    }
}
