//! The demand log through the real binary: a demand and its answer are recorded once,
//! listed, and reach the risk level; invalid ones are refused and change nothing.

mod common;
use common::*;

#[test]
fn a_demand_and_its_answer_are_logged_and_reach_the_risk_level() {
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path().join("demo");
    ok(&d, &["demo"]);
    refused(
        &d,
        &[
            "demand",
            "add",
            "--distributor",
            "nobody",
            "--on",
            "2016-06-20",
        ],
        3,
        "nobody has no agreement",
    );
    refused(
        &d,
        &[
            "demand",
            "add",
            "--distributor",
            "northwind",
            "--kind",
            "transfer",
            "--on",
            "2016-06-20",
        ],
        3,
        "needs --to",
    );
    refused(
        &d,
        &[
            "demand",
            "add",
            "--distributor",
            "northwind",
            "--kind",
            "sideways",
            "--on",
            "2016-06-20",
        ],
        3,
        "expected return or transfer",
    );
    let out = ok(
        &d,
        &[
            "demand",
            "add",
            "--distributor",
            "northwind",
            "--on",
            "2016-06-20",
            "--via",
            "certified mail",
            "--id",
            "D-NW-1",
        ],
    );
    assert!(out.contains("Recorded demand D-NW-1 to northwind"), "{out}");
    refused(
        &d,
        &[
            "demand",
            "respond",
            "D-NW-1",
            "--on",
            "2016-06-19",
            "--outcome",
            "refused",
        ],
        3,
        "before demand D-NW-1 was made",
    );
    refused(
        &d,
        &[
            "demand",
            "respond",
            "D-NOPE",
            "--on",
            "2016-06-21",
            "--outcome",
            "refused",
        ],
        3,
        "no demand \"D-NOPE\"",
    );
    ok(
        &d,
        &[
            "demand",
            "respond",
            "D-NW-1",
            "--on",
            "2016-06-25",
            "--outcome",
            "refused",
            "--note",
            "not now",
        ],
    );
    let list = ok(&d, &["demand", "list"]);
    let row = list.lines().find(|l| l.contains("D-NW-1")).expect("listed");
    assert!(
        row.contains("certified mail") && row.contains("refused") && row.contains("not now"),
        "{row}"
    );
    let risk = ok(&d, &["risk", "--format", "json"]);
    let v: serde_json::Value = serde_json::from_str(&risk).unwrap();
    let nw = v
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["distributor"] == "northwind")
        .unwrap();
    assert_eq!(nw["level"], "critical", "a refused demand: {nw}");
}

#[test]
fn paperwork_is_checked_before_it_is_recorded() {
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path().join("demo");
    ok(&d, &["demo"]);
    refused(
        &d,
        &["confirm-receipt", "SH-NOPE", "--on", "2016-06-20"],
        3,
        "no shipment \"SH-NOPE\"",
    );
    refused(
        &d,
        &["confirm-receipt", "SH-5086", "--on", "2016-01-01"],
        3,
        "before SH-5086 was shipped (2016-03-10)",
    );
    let out = ok(&d, &["confirm-receipt", "SH-5086", "--on", "2016-03-20"]);
    assert!(
        out.contains("Recorded receipt of SH-5086 by cascade"),
        "{out}"
    );
    refused(
        &d,
        &[
            "legal",
            "ucc1",
            "--distributor",
            "northwind",
            "--file-number",
            "NC-2",
            "--state",
            "NC",
            "--filed-on",
            "2016-06-01",
            "--continues",
            "NC-NOPE",
        ],
        3,
        "no UCC-1 NC-NOPE against northwind",
    );
    refused(
        &d,
        &[
            "legal",
            "notice",
            "--distributor",
            "northwind",
            "--secured-party",
            "First Bank",
            "--sent-on",
            "2016-06-10",
            "--received-on",
            "2016-06-01",
        ],
        3,
        "--received-on is before --sent-on",
    );
    let out = ok(
        &d,
        &[
            "legal",
            "ucc1",
            "--distributor",
            "northwind",
            "--file-number",
            "NC-2",
            "--state",
            "NC",
            "--filed-on",
            "2016-06-01",
            "--continues",
            "20121234567",
        ],
    );
    // Filed before its window opened (2016-12-20, six months before the 2017-06-20
    // lapse), the continuation extends nothing, and says so (it said "lapses
    // 2021-06-01", five years from its own filing day).
    assert!(
        out.contains("does not continue the filing") && out.contains("still lapses on 2017-06-20"),
        "{out}"
    );
}

#[test]
fn a_failure_or_an_answer_reversed_by_a_correction_can_be_recorded_again() {
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path().join("demo");
    ok(&d, &["demo"]);
    ok(
        &d,
        &[
            "correct",
            "insolvency:cascade:1",
            "--reason",
            "entered in error",
        ],
    );
    let out = ok(
        &d,
        &[
            "insolvency",
            "add",
            "cascade",
            "--kind",
            "liquidation",
            "--on",
            "2016-06-03",
        ],
    );
    assert!(out.contains("Recorded insolvency:cascade:2"), "{out}");
    let out = ok(&d, &["insolvency", "show", "cascade"]);
    assert!(
        out.contains("an out-of-court liquidation on 2016-06-03"),
        "{out}"
    );

    ok(
        &d,
        &[
            "correct",
            "demand-response:D-2016-001",
            "--reason",
            "wrong answer",
        ],
    );
    let out = ok(
        &d,
        &[
            "demand",
            "respond",
            "D-2016-001",
            "--on",
            "2016-06-20",
            "--outcome",
            "partial",
        ],
    );
    assert!(
        out.contains("Recorded the answer to demand D-2016-001"),
        "{out}"
    );
    let out = ok(&d, &["demand", "list"]);
    assert!(out.contains("2016-06-20  partial"), "{out}");
}
