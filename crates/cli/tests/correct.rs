//! Corrections through the real binary: a reversal that would drive a holding below
//! zero is refused with what happened to the units since; one that is sound is
//! recorded once, and the corrected entry is gone from the stock and the risk figures.

mod common;
use common::*;
use std::path::Path;

fn units(dir: &Path, holder: &str, sku: &str) -> i64 {
    let csv = ok(
        dir,
        &["stock", "--holder", holder, "--sku", sku, "--format", "csv"],
    );
    csv.lines()
        .skip(1)
        .filter(|l| l.contains(",on_hand,"))
        .filter_map(|l| l.rsplit(',').next()?.parse::<i64>().ok())
        .sum()
}

#[test]
fn a_correction_that_would_leave_a_holding_negative_is_refused_and_says_why() {
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path().join("demo");
    ok(&d, &["demo"]);
    let before = journal_len(&d);
    // Cascade sold these units long ago: reversing the 2013 shipment cannot be right.
    let o = run(
        &d,
        &[
            "correct",
            "shipment:SH-5012:MRG-003-CD",
            "--reason",
            "keyed twice",
        ],
    );
    assert_eq!(o.status.code(), Some(4));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains("would leave cascade holding -"), "{err}");
    assert!(err.contains("it sold"), "{err}");
    assert!(err.contains("CASCADE-2013-01"), "{err}");
    assert!(
        err.contains("a return") && err.contains("a write-off"),
        "{err}"
    );
    assert_eq!(journal_len(&d), before, "nothing recorded");
}

#[test]
fn a_sound_correction_is_recorded_once_and_the_shipment_is_gone_everywhere() {
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path().join("demo");
    ok(&d, &["demo"]);
    let before = units(&d, "northwind", "MRG-001-CD");
    let exposure_before = exposure(&d, "northwind");
    ok(
        &d,
        &[
            "ship",
            "--to",
            "northwind",
            "--sku",
            "MRG-001-CD",
            "--units",
            "7",
            "--id",
            "SH-TYPO",
        ],
    );
    assert_eq!(units(&d, "northwind", "MRG-001-CD"), before + 7);
    assert!(exposure(&d, "northwind") > exposure_before);
    let out = ok(
        &d,
        &[
            "correct",
            "shipment:SH-TYPO:MRG-001-CD",
            "--reason",
            "keyed twice",
        ],
    );
    assert!(
        out.contains("Recorded a correction reversing shipment:SH-TYPO:MRG-001-CD"),
        "{out}"
    );
    assert_eq!(units(&d, "northwind", "MRG-001-CD"), before);
    // Twice: refused, nothing more recorded.
    let n = journal_len(&d);
    let o = run(
        &d,
        &[
            "correct",
            "shipment:SH-TYPO:MRG-001-CD",
            "--reason",
            "again",
        ],
    );
    assert_eq!(o.status.code(), Some(4));
    assert!(String::from_utf8_lossy(&o.stderr).contains("already corrected"));
    assert_eq!(journal_len(&d), n);
    // Risk reads the same records: the exposure is back where it was.
    assert_eq!(exposure(&d, "northwind"), exposure_before);
}

fn exposure(dir: &Path, distributor: &str) -> i64 {
    let v: serde_json::Value =
        serde_json::from_str(&ok(dir, &["risk", "--format", "json"])).unwrap();
    v.as_array()
        .unwrap()
        .iter()
        .find(|a| a["distributor"] == distributor)
        .and_then(|a| a["exposure"]["amount_minor"].as_i64())
        .unwrap()
}

fn receivable(dir: &Path, distributor: &str) -> (i64, i64) {
    let v: serde_json::Value = serde_json::from_str(&ok(
        dir,
        &[
            "receivables",
            "--distributor",
            distributor,
            "--format",
            "json",
        ],
    ))
    .unwrap();
    (
        v[0]["open_balance"]["amount_minor"].as_i64().unwrap(),
        v[0]["cash_received"]["amount_minor"].as_i64().unwrap(),
    )
}

fn cash(dir: &Path) -> i64 {
    let v: serde_json::Value =
        serde_json::from_str(&ok(dir, &["balances", "--format", "json"])).unwrap();
    v.as_array()
        .unwrap()
        .iter()
        .filter(|r| r["kind"] == "cash")
        .map(|r| r["balance"]["amount_minor"].as_i64().unwrap())
        .sum()
}

#[test]
fn a_corrected_payment_and_statement_count_nowhere() {
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path().join("demo");
    ok(&d, &["demo"]);
    // The last payment from northwind, with its amount, from the journal's transfers.
    let j = ok(&d, &["journal", "--kind", "payment", "--format", "csv"]);
    let last = j
        .lines()
        .rfind(|l| l.contains("payment:northwind:"))
        .unwrap()
        .to_string();
    let f: Vec<&str> = last.split(',').collect();
    let (id, amount) = (
        f[4].to_string(),
        f[12].replace('.', "").parse::<i64>().unwrap(),
    );
    let (open, received) = receivable(&d, "northwind");
    let cash_before = cash(&d);
    ok(&d, &["correct", &id, "--reason", "bounced"]);
    // Receivables, cash and the balances all lose exactly that payment.
    let (open2, received2) = receivable(&d, "northwind");
    assert_eq!(received2, received - amount);
    assert_eq!(open2, open + amount);
    assert_eq!(cash(&d), cash_before - amount);
    // The same correction twice is refused, and changes nothing.
    let o = run(&d, &["correct", &id, "--reason", "bounced"]);
    assert!(!o.status.success());
    assert_eq!(receivable(&d, "northwind"), (open2, received2));
    // A corrected statement is gone from the receivables and from risk's figures.
    let st = ok(&d, &["journal", "--kind", "statement", "--format", "csv"]);
    let last_st = st
        .lines()
        .rfind(|l| l.contains("statement:northwind:"))
        .unwrap()
        .split(',')
        .nth(4)
        .unwrap()
        .to_string();
    let sid = last_st.rsplit(':').next().unwrap().to_string();
    let before: serde_json::Value = serde_json::from_str(&ok(
        &d,
        &[
            "receivables",
            "--distributor",
            "northwind",
            "--format",
            "json",
        ],
    ))
    .unwrap();
    assert!(before[0]["statements"]
        .as_array()
        .unwrap()
        .iter()
        .any(|s| s["statement_id"] == sid.as_str()));
    ok(&d, &["correct", &last_st, "--reason", "sent twice"]);
    let after: serde_json::Value = serde_json::from_str(&ok(
        &d,
        &[
            "receivables",
            "--distributor",
            "northwind",
            "--format",
            "json",
        ],
    ))
    .unwrap();
    assert!(!after[0]["statements"]
        .as_array()
        .unwrap()
        .iter()
        .any(|s| s["statement_id"] == sid.as_str()));
    assert!(ok(&d, &["verify"]).starts_with("OK:"));
}
