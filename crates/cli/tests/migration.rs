//! A store written by an earlier version (schema 3: a row per transfer and per
//! account, a balances table) is migrated when opened, and then reads, verifies and
//! reports exactly as it did. The fixture was made with the schema-3 binary from the
//! demo's files; the expected outputs are what that binary printed — the CSVs in
//! today's CSV format (numbers without thousands separators or currency codes, which
//! moved to a `currency` column; the journal's transfers after its columns), checked
//! equal to the schema-3 binary's output under that change when they were rewritten.

use std::path::Path;
use std::process::Command;

const FIXTURE: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/store-v3");

fn run(dir: &Path, args: &[&str]) -> String {
    let o = Command::new(env!("CARGO_BIN_EXE_backstock"))
        .env_remove("BACKSTOCK_DATA")
        .arg("--data-dir")
        .arg(dir)
        .args(args)
        .output()
        .unwrap();
    assert!(
        o.status.success(),
        "{args:?} failed: {}",
        String::from_utf8_lossy(&o.stderr)
    );
    String::from_utf8(o.stdout).unwrap()
}

fn expected(name: &str) -> String {
    std::fs::read_to_string(Path::new(FIXTURE).join(name)).unwrap()
}

#[test]
fn a_schema_3_store_migrates_to_blocks_and_reads_the_same() {
    let dir = tempfile::tempdir().unwrap();
    let z = std::fs::read(Path::new(FIXTURE).join("backstock.db.zst")).unwrap();
    let db = backstock_store::decompress(&z).unwrap();
    std::fs::write(dir.path().join("backstock.db"), db).unwrap();

    // Opening migrates; the hash chain is unchanged by the new layout.
    let v = run(dir.path(), &["verify"]);
    assert!(
        v.starts_with("OK: 1,301 entries and 3,197 transfers"),
        "{v}"
    );
    assert!(
        v.contains("f662d50150ff2713265052598e1de874d5fe1c30a06f48598b785c3713096871"),
        "{v}"
    );
    for (args, file) in [
        (vec!["stock", "--all", "--format", "csv"], "stock.csv"),
        (
            vec!["stock", "--all", "--as-of", "2014-06-30", "--format", "csv"],
            "stock-2014-06-30.csv",
        ),
        (vec!["balances", "--format", "csv"], "balances.csv"),
        (
            vec!["balances", "--as-of", "2014-06-30", "--format", "csv"],
            "balances-2014-06-30.csv",
        ),
        (
            vec!["journal", "--format", "csv", "--limit", "100000"],
            "journal.csv",
        ),
        (
            vec!["show", "statement:cascade:CASCADE-2012-07"],
            "show-statement.txt",
        ),
    ] {
        let (got, want) = (run(dir.path(), &args), expected(file));
        let first_difference = got.lines().zip(want.lines()).find(|(g, w)| g != w);
        assert!(
            got == want,
            "{args:?}: first different line {first_difference:?}; {} lines, expected {}",
            got.lines().count(),
            want.lines().count()
        );
    }

    // The migrated store takes new entries and still verifies.
    let csv = dir.path().join("payments.csv");
    std::fs::write(
        &csv,
        "payment_id,date,distributor,amount,currency,statement_id\nP-AFTER-MIGRATION,2016-07-01,northwind,10.00,USD,\n",
    )
    .unwrap();
    run(dir.path(), &["import", csv.to_str().unwrap()]);
    let v = run(dir.path(), &["verify"]);
    assert!(v.starts_with("OK: 1,302 entries"), "{v}");
}
