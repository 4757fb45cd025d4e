//! Whatever the bytes, the reader returns instead of panicking.

use backstock_x12::{item_reports, parse, parse_all, MAX_ERRORS};
use proptest::prelude::*;

const SAMPLES: [&[u8]; 5] = [
    include_bytes!("data/852_padded_tilde.edi"),
    include_bytes!("data/852_unpadded_pipe_newline.edi"),
    include_bytes!("data/846_one_line.edi"),
    include_bytes!("data/867_resale.edi"),
    include_bytes!("data/two_interchanges_with_850.edi"),
];

const ISA: &str = "ISA*00*          *00*          *ZZ*DISTRIBUTORCO  *ZZ*BACKSTOCKLABEL *240205*1530*U*00401*000000905*0*P*>~";

fn run_all(bytes: &[u8]) {
    let single = parse(bytes);
    let all = parse_all(bytes);
    let reports = item_reports(bytes);
    for errors in [
        single.as_ref().err(),
        all.as_ref().err(),
        reports.as_ref().err(),
    ]
    .into_iter()
    .flatten()
    {
        assert!(!errors.is_empty() && errors.len() <= MAX_ERRORS);
        for e in errors {
            assert!(e.line >= 1 && e.column >= 1);
            let _ = e.to_string();
        }
    }
    if all.is_ok() {
        assert!(single.is_ok() || all.as_ref().is_ok_and(|v| v.len() > 1));
    }
}

#[derive(Debug, Clone)]
enum Edit {
    Replace(usize, u8),
    Insert(usize, u8),
    Delete(usize),
    Truncate(usize),
    /// Replace a byte with one of the separators or a digit, the likeliest damage.
    Special(usize, u8),
}

fn edit() -> impl Strategy<Value = Edit> {
    prop_oneof![
        (any::<usize>(), any::<u8>()).prop_map(|(i, b)| Edit::Replace(i, b)),
        (any::<usize>(), any::<u8>()).prop_map(|(i, b)| Edit::Insert(i, b)),
        any::<usize>().prop_map(Edit::Delete),
        any::<usize>().prop_map(Edit::Truncate),
        (
            any::<usize>(),
            prop::sample::select(b"*~>|:\n\r-.0129 ^'!".to_vec())
        )
            .prop_map(|(i, b)| Edit::Special(i, b)),
    ]
}

fn apply(mut bytes: Vec<u8>, edits: &[Edit]) -> Vec<u8> {
    for e in edits {
        let len = bytes.len().max(1);
        match *e {
            Edit::Replace(i, b) | Edit::Special(i, b) => {
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
        }
    }
    bytes
}

/// Segments assembled from realistic tags and values, inside a valid-looking envelope.
fn segment() -> impl Strategy<Value = String> {
    let tags = prop::sample::select(vec![
        "ST", "SE", "GS", "GE", "IEA", "ISA", "XQ", "LIN", "ZA", "SDQ", "CTP", "PID", "N1", "BIA",
        "QTY", "BPT", "PTD", "DTM", "UIT", "AMT", "CUR", "CTT", "ZZ",
    ]);
    let values = prop::sample::select(vec![
        "",
        "852",
        "846",
        "867",
        "0001",
        "QS",
        "QU",
        "Q2",
        "QR",
        "QA",
        "OH",
        "QE",
        "UP",
        "EN",
        "UK",
        "VN",
        "IN",
        "IB",
        "SK",
        "012345678905",
        "12",
        "-3",
        "1.5",
        "x",
        "20240101",
        "240101",
        "20241301",
        "EA",
        "92",
        "0101",
        "33",
        "17",
        "32",
        "SS",
        "BN",
        "IA",
        "090",
        "091",
        "9.99",
        "ST",
        "FR",
        "RL",
        "USD",
        "99999999999999999999",
    ]);
    (tags, prop::collection::vec(values, 0..12)).prop_map(|(tag, values)| {
        let mut s = tag.to_string();
        for v in values {
            s.push('*');
            s.push_str(v);
        }
        s
    })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 400, ..ProptestConfig::default() })]

    #[test]
    fn arbitrary_bytes(bytes in prop::collection::vec(any::<u8>(), 0..1024)) {
        run_all(&bytes);
    }

    #[test]
    fn arbitrary_bytes_after_a_valid_header(tail in prop::collection::vec(any::<u8>(), 0..1024)) {
        let mut bytes = ISA.as_bytes().to_vec();
        bytes.extend(tail);
        run_all(&bytes);
    }

    #[test]
    fn mutated_samples(
        sample in 0..SAMPLES.len(),
        edits in prop::collection::vec(edit(), 1..12),
    ) {
        let bytes = apply(SAMPLES[sample].to_vec(), &edits);
        run_all(&bytes);
    }

    #[test]
    fn segment_soup(segments in prop::collection::vec(segment(), 0..40), terminator in prop::sample::select(vec!["~", "~\n", "~\r\n"])) {
        let mut text = String::from(ISA);
        text.push_str("GS*PD*A*B*20240101*0000*1*X*004010");
        text.push_str(terminator);
        for s in segments {
            text.push_str(&s);
            text.push_str(terminator);
        }
        run_all(text.as_bytes());
    }
}

#[test]
fn samples_read_cleanly() {
    for sample in SAMPLES {
        assert!(item_reports(sample).is_ok());
    }
}

/// The fuzz seeds: the `errors_*` and `non_utf8_*` ones fail, the rest read cleanly.
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
        run_all(&bytes);
        let bad = name.starts_with("errors_") || name.starts_with("non_utf8_");
        let result = item_reports(&bytes);
        assert_eq!(result.is_err(), bad, "{name}: {result:?}");
        seen += 1;
    }
    assert!(seen >= 5);
}
