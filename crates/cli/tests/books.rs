//! Closing the books through the real binary: a closed month refuses entries dated into
//! it (or before it) with a sentence naming it and how to reopen, and nothing changes;
//! its reports and its export stay exactly as they were; reopening takes a reason and
//! is logged.

mod common;

use common::*;
use std::path::Path;

fn payment(dir: &Path, id: &str, date: &str) -> std::path::PathBuf {
    let p = dir.join(format!("{id}.csv"));
    std::fs::write(
        &p,
        format!("payment_id,date,distributor,amount,currency,statement_id\n{id},{date},northwind,10.00,USD,\n"),
    )
    .unwrap();
    p
}

#[test]
fn a_closed_month_refuses_entries_and_its_reports_never_change() {
    let (tmp, d) = demo();
    let said = ok(&d, &["books", "close", "2016-05"]);
    assert!(said.contains("Closed 2016-05"), "{said}");
    assert!(ok(&d, &["books", "close", "2016-05"]).contains("closed already"));
    let may_balances = ok(
        &d,
        &["balances", "--as-of", "2016-05-31", "--format", "csv"],
    );
    let may_export = ok(
        &d,
        &[
            "export",
            "csv-journal",
            "--from",
            "2016-05-01",
            "--to",
            "2016-05-31",
        ],
    );
    let april_balances = ok(
        &d,
        &["balances", "--as-of", "2016-04-30", "--format", "csv"],
    );

    // Into the closed month, and before it: refused, naming it, nothing recorded.
    let p = payment(tmp.path(), "BK-MAY", "2016-05-20");
    refused(
        &d,
        &["import", p.to_str().unwrap()],
        4,
        "dated 2016-05-20, in 2016-05, whose books are closed",
    );
    refused(
        &d,
        &["import", p.to_str().unwrap()],
        4,
        "backstock books reopen 2016-05 --reason",
    );
    let p = payment(tmp.path(), "BK-APR", "2016-04-10");
    refused(
        &d,
        &["import", p.to_str().unwrap()],
        4,
        "before the closed books of 2016-05",
    );
    // Reference data (an alias, dated 1900-01-01) posts nothing: not refused.
    ok(&d, &["alias", "add", "0000000000017", "MRG-001-CD"]);
    assert_eq!(
        ok(
            &d,
            &["balances", "--as-of", "2016-05-31", "--format", "csv"]
        ),
        may_balances
    );
    assert_eq!(
        ok(
            &d,
            &["balances", "--as-of", "2016-04-30", "--format", "csv"]
        ),
        april_balances
    );
    assert_eq!(
        ok(
            &d,
            &[
                "export",
                "csv-journal",
                "--from",
                "2016-05-01",
                "--to",
                "2016-05-31"
            ]
        ),
        may_export
    );
    // A month not over yet cannot be closed.
    refused(&d, &["books", "close", "2016-06"], 4, "has not ended yet");
    refused(&d, &["books", "close", "May"], 3, "YYYY-MM");

    // Reopening: a reason is required; then the entry goes in and May's report moves.
    refused(
        &d,
        &["books", "reopen", "2016-05", "--reason", "  "],
        3,
        "say why",
    );
    ok(
        &d,
        &[
            "books",
            "reopen",
            "2016-05",
            "--reason",
            "late remittance from Northwind",
        ],
    );
    refused(
        &d,
        &["books", "reopen", "2016-05", "--reason", "x"],
        4,
        "not closed",
    );
    let p = payment(tmp.path(), "BK-MAY", "2016-05-20");
    ok(&d, &["import", p.to_str().unwrap()]);
    assert_ne!(
        ok(
            &d,
            &["balances", "--as-of", "2016-05-31", "--format", "csv"]
        ),
        may_balances
    );

    // The log: who, what, why.
    let list: serde_json::Value =
        serde_json::from_str(&ok(&d, &["books", "list", "--format", "json"])).unwrap();
    assert_eq!(list["closed"], serde_json::json!([]));
    let log = list["log"].as_array().unwrap();
    assert_eq!(log.len(), 2);
    assert_eq!(log[0]["action"], "close");
    assert_eq!(log[1]["action"], "reopen");
    assert_eq!(log[1]["reason"], "late remittance from Northwind");
    ok(&d, &["verify"]);
}

/// The cash line of `balances` (as of `as_of`, or now).
fn cash_line(d: &Path, as_of: Option<&str>) -> String {
    let mut args = vec!["balances", "--format", "csv"];
    if let Some(a) = as_of {
        args.extend(["--as-of", a]);
    }
    ok(d, &args)
        .lines()
        .find(|l| l.starts_with("label,cash,"))
        .unwrap_or_default()
        .to_string()
}

/// An entry keyed wrong in a month since closed: its correction is refused there,
/// saying it may take effect in the first open month; with `--on` that day it is
/// recorded, the closed month's figures stay as they were, and from that day the
/// entry counts nowhere.
#[test]
fn a_correction_of_a_closed_month_takes_effect_in_an_open_one() {
    let (tmp, d) = demo();
    let before_now = cash_line(&d, None);
    let p = payment(tmp.path(), "BK-KEYED", "2016-05-20");
    ok(&d, &["import", p.to_str().unwrap()]);
    ok(&d, &["books", "close", "2016-05"]);
    let may = ok(
        &d,
        &["balances", "--as-of", "2016-05-31", "--format", "csv"],
    );
    let id = "payment:northwind:BK-KEYED";
    let said = refused(
        &d,
        &["correct", id, "--reason", "keyed twice"],
        4,
        "in 2016-05, whose books are closed",
    );
    assert!(
        said.contains(&format!(
            "backstock correct {id} --reason \"…\" --on 2016-06-01"
        )),
        "{said}"
    );
    refused(
        &d,
        &[
            "correct",
            id,
            "--reason",
            "keyed twice",
            "--on",
            "2016-05-10",
        ],
        3,
        "is before payment:northwind:BK-KEYED took effect (2016-05-20)",
    );
    let out = ok(
        &d,
        &[
            "correct",
            id,
            "--reason",
            "keyed twice",
            "--on",
            "2016-06-01",
        ],
    );
    assert!(out.contains("(effective 2016-06-01"), "{out}");
    // The closed month is as it was; from June on the payment is gone.
    assert_eq!(
        ok(
            &d,
            &["balances", "--as-of", "2016-05-31", "--format", "csv"]
        ),
        may
    );
    assert_eq!(cash_line(&d, None), before_now);
    let june = ok(
        &d,
        &[
            "export",
            "csv-journal",
            "--from",
            "2016-06-01",
            "--to",
            "2016-06-30",
        ],
    );
    assert!(june.contains(&format!("correction:{id}")), "{june}");
    ok(&d, &["verify"]);
}
