//! Whatever the bytes, the reader returns instead of panicking.

use backstock_dsr::{parse, parse_decimal, MAX_ERRORS};
use proptest::prelude::*;

const SAMPLE: &[u8] = include_bytes!(
    "data/DSR_PADPIDA2024010101B_PADPIDA2014111801Y_TunestreamPremium-TunestreamStore_2024-06_GB_20240705T093000.tsv"
);

fn run(bytes: &[u8]) {
    match parse(bytes) {
        Ok(report) => {
            for sale in &report.sales {
                assert!(parse_decimal(&sale.net_amount).is_some());
            }
        }
        Err(errors) => {
            assert!(!errors.is_empty() && errors.len() <= MAX_ERRORS);
            for e in &errors {
                assert!(e.line >= 1 && e.column >= 1);
                let _ = e.to_string();
            }
        }
    }
}

#[derive(Debug, Clone)]
enum Edit {
    Replace(usize, u8),
    Insert(usize, u8),
    Delete(usize),
    Truncate(usize),
    SwapLines(usize, usize),
}

fn edit() -> impl Strategy<Value = Edit> {
    prop_oneof![
        (
            any::<usize>(),
            prop::sample::select(b"\t\n\r\\|#.-0159aZ \xC3\xA9\xFF".to_vec())
        )
            .prop_map(|(i, b)| Edit::Replace(i, b)),
        (any::<usize>(), any::<u8>()).prop_map(|(i, b)| Edit::Insert(i, b)),
        any::<usize>().prop_map(Edit::Delete),
        any::<usize>().prop_map(Edit::Truncate),
        (any::<usize>(), any::<usize>()).prop_map(|(a, b)| Edit::SwapLines(a, b)),
    ]
}

fn apply(mut bytes: Vec<u8>, edits: &[Edit]) -> Vec<u8> {
    for e in edits {
        let len = bytes.len().max(1);
        match *e {
            Edit::Replace(i, b) => {
                if let Some(slot) = bytes.get_mut(i % len) {
                    *slot = b;
                }
            }
            Edit::Insert(i, b) => bytes.insert(i % (bytes.len() + 1), b),
            Edit::Delete(i) => {
                if !bytes.is_empty() {
                    bytes.remove(i % len);
                }
            }
            Edit::Truncate(i) => bytes.truncate(i % (bytes.len() + 1)),
            Edit::SwapLines(a, b) => {
                let mut lines: Vec<Vec<u8>> =
                    bytes.split(|&c| c == b'\n').map(<[u8]>::to_vec).collect();
                let n = lines.len();
                lines.swap(a % n, b % n);
                bytes = lines.join(&b'\n');
            }
        }
    }
    bytes
}

/// Lines assembled from realistic record types and cell values.
fn line() -> impl Strategy<Value = String> {
    let kinds = prop::sample::select(vec![
        "HEAD", "FOOT", "SY01.02", "SY02.03", "SY03", "SY04.01", "SY05.02", "SY99", "RE01.02",
        "RE02", "AS01.02", "AS02.03", "MW01", "SU01.02", "SU02.02", "SU03.02", "SU03.03", "SR01",
        "SRFO", "#SU02", "", "LI01",
    ]);
    let cells = prop::sample::select(vec![
        "",
        "1",
        "2",
        "S1",
        "S2",
        "R1",
        "A1",
        "TX",
        "TRUE",
        "false",
        "12",
        "-3",
        "1.5",
        "x",
        "GBP",
        "usd",
        "GB",
        "2024-06-01",
        "2024-06",
        "2024-02-30",
        "2024-07-05T09:30:00Z",
        "GBKST2300101",
        "0093624918526",
        "a\\|b",
        "\\",
        "99999999999999999999999999999999999999999",
        "BasicAudioProfileSRB",
        "é",
    ]);
    (kinds, prop::collection::vec(cells, 0..24)).prop_map(|(kind, cells)| {
        let mut s = kind.to_string();
        for c in cells {
            s.push('\t');
            s.push_str(c);
        }
        s
    })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 400, ..ProptestConfig::default() })]

    #[test]
    fn arbitrary_bytes(bytes in prop::collection::vec(any::<u8>(), 0..1024)) {
        run(&bytes);
    }

    #[test]
    fn arbitrary_text(text in ".{0,400}") {
        run(text.as_bytes());
    }

    #[test]
    fn mutated_sample(edits in prop::collection::vec(edit(), 1..12)) {
        run(&apply(SAMPLE.to_vec(), &edits));
    }

    #[test]
    fn record_soup(lines in prop::collection::vec(line(), 0..40)) {
        let mut text = lines.join("\n");
        text.push('\n');
        run(text.as_bytes());
    }

    #[test]
    fn decimals_round_trip(mantissa in any::<i64>(), scale in 0u32..12) {
        let digits = mantissa.unsigned_abs().to_string();
        let width = usize::try_from(scale).unwrap_or(0) + 1;
        let padded = format!("{digits:0>width$}");
        let (int, frac) = padded.split_at(padded.len() - usize::try_from(scale).unwrap_or(0));
        let sign = if mantissa < 0 { "-" } else { "" };
        let text = if scale == 0 { format!("{sign}{int}") } else { format!("{sign}{int}.{frac}") };
        prop_assert_eq!(parse_decimal(&text), Some((i128::from(mantissa), scale)));
    }
}

#[test]
fn the_sample_reads_cleanly() {
    assert!(parse(SAMPLE).is_ok());
}

/// The fuzz seeds: the `errors_*` ones fail, the rest read cleanly.
#[test]
fn fuzz_corpus_seeds() {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/fuzz-corpus");
    let mut seen = 0;
    for entry in std::fs::read_dir(dir).expect("fuzz-corpus") {
        let path = entry.expect("entry").path();
        let name = path
            .file_name()
            .and_then(|n| n.to_str())
            .unwrap_or("")
            .to_string();
        let bytes = std::fs::read(&path).expect("read");
        run(&bytes);
        let result = parse(&bytes);
        assert_eq!(
            result.is_err(),
            name.starts_with("errors_"),
            "{name}: {result:?}"
        );
        seen += 1;
    }
    assert!(seen >= 3);
}
