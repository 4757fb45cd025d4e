//! `backstock lines` (built with `--features lines`): generated DSR files imported
//! through the binary, their lines written as Parquet by `lines rebuild`, and
//! `lines query` giving per ISRC × territory × month and per SKU totals that tie to the
//! ledger's statements; bad arguments are refused with a sentence.
#![cfg(feature = "lines")]

mod common;

use common::{fail, ok};

/// Σ of a CSV column (amounts as exact minor units, "12.34" → 1234).
fn minor(s: &str) -> i128 {
    let (int, frac) = s.split_once('.').unwrap_or((s, ""));
    let neg = int.starts_with('-');
    let v = int.trim_start_matches('-').parse::<i128>().unwrap() * 100
        + format!("{frac:0<2}")[..2].parse::<i128>().unwrap();
    if neg {
        -v
    } else {
        v
    }
}

fn column_sum(csv: &str, col: &str) -> i128 {
    let mut lines = csv.lines();
    let head: Vec<&str> = lines.next().unwrap().split(',').collect();
    let i = head.iter().position(|h| *h == col).unwrap();
    lines.map(|l| minor(l.split(',').nth(i).unwrap())).sum()
}

#[test]
fn dsr_lines_rebuilt_as_parquet_and_queried_tie_to_the_ledger() {
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path().join("label");
    let files = tmp.path().join("files");
    let f = files.to_str().unwrap();
    let out = ok(
        &d,
        &[
            "lines",
            "gen",
            "--out",
            f,
            "--lines",
            "3000",
            "--skus",
            "300",
            "--distributors",
            "2",
            "--months",
            "2",
            "--territories",
            "6",
            "--per-file",
            "1000",
        ],
    );
    assert!(out.contains("DSR files (3000 sales records)"), "{out}");
    ok(&d, &["init"]);
    ok(
        &d,
        &[
            "import",
            &format!("{f}/catalog.csv"),
            &format!("{f}/distributors.csv"),
            &format!("{f}/payees.csv"),
            &format!("{f}/contracts.csv"),
        ],
    );
    for dist in ["dist0", "dist1"] {
        let out = ok(
            &d,
            &["import", &format!("{f}/dsr/{dist}"), "--distributor", dist],
        );
        // Built with the feature, the import writes the lines of what it recorded.
        assert!(
            out.contains("Lines: 1500 statement lines of 2 files written as Parquet"),
            "{out}"
        );
    }
    let jan = d.join("lines/label=default/distributor=dist0/period=2016-01");
    assert_eq!(std::fs::read_dir(jan).unwrap().count(), 1);
    let rebuilt = ok(&d, &["lines", "rebuild"]);
    assert!(rebuilt.contains("Wrote 3000 lines from"), "{rebuilt}");
    assert!(
        rebuilt.contains("add up to the statements recorded"),
        "{rebuilt}"
    );
    assert!(d
        .join("lines/label=default/distributor=dist1/period=2016-02")
        .is_dir());

    let text = ok(
        &d,
        &[
            "lines",
            "query",
            "--period",
            "2016H1",
            "--by",
            "isrc,territory,month",
        ],
    );
    assert!(
        text.contains("every total equals the exact integer sum"),
        "{text}"
    );
    assert!(text.lines().next().unwrap().contains("isrc"), "{text}");

    // Per ISRC × territory × month, and per distributor: the same money in all.
    let fine = ok(
        &d,
        &[
            "lines",
            "query",
            "--period",
            "2016H1",
            "--by",
            "isrc,territory,month",
            "--format",
            "csv",
        ],
    );
    let coarse = ok(
        &d,
        &[
            "lines",
            "query",
            "--period",
            "2016H1",
            "--by",
            "distributor",
            "--format",
            "csv",
        ],
    );
    assert_eq!(column_sum(&fine, "amount"), column_sum(&coarse, "amount"));
    // …and the ledger's receivables from the same statements: the DSR sales are the
    // statements' only lines, so their sum is the statements' gross.
    let json = ok(
        &d,
        &[
            "lines",
            "query",
            "--period",
            "2016-01",
            "--by",
            "distributor",
            "--format",
            "json",
        ],
    );
    let v: serde_json::Value = serde_json::from_str(&json).unwrap();
    let rows = v["rows"].as_array().unwrap();
    assert_eq!(rows.len(), 2, "{json}");
    assert!(rows
        .iter()
        .all(|r| r["amount"].as_str().unwrap().contains('.')));

    // A payee's SKUs only.
    let payee = ok(
        &d,
        &[
            "lines", "query", "--period", "2016H1", "--by", "sku", "--payee", "artist-1",
            "--format", "csv",
        ],
    );
    for row in payee.lines().skip(1) {
        let sku = row.split(',').next().unwrap();
        let n: u32 = sku.trim_start_matches("GEN-").parse().unwrap();
        assert_eq!(n % 10_000, 1, "{row}");
    }

    // Rebuilding again changes nothing.
    let again = ok(&d, &["lines", "rebuild"]);
    assert_eq!(again, rebuilt);

    // Refusals name what was expected.
    let e = fail(&d, &["lines", "query", "--period", "2016-13"], 3);
    assert!(e.contains("--period"), "{e}");
    let e = fail(
        &d,
        &["lines", "query", "--period", "2016H1", "--by", "country"],
        3,
    );
    assert!(e.contains("expected a comma-separated list of isrc"), "{e}");
    let e = fail(
        &d,
        &["lines", "query", "--period", "2016H1", "--payee", "nobody"],
        3,
    );
    assert!(e.contains("no royalty contract"), "{e}");
    let e = fail(
        &d,
        &[
            "lines",
            "query",
            "--period",
            "2016H1",
            "--engine",
            "ballista://127.0.0.1:50050",
        ],
        3,
    );
    assert!(e.contains("Ballista"), "{e}");
    let e = fail(&d, &["lines", "rebuild", "--out", "s3://bucket/lines"], 3);
    assert!(e.contains("not supported yet"), "{e}");
}
