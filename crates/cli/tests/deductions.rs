//! Deductions (list, accept, dispute), write-offs and buy-backs through the real binary,
//! on a small label written by the test: four statements of northwind, two paid short,
//! one unpaid, one paid in full.

use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

const CATALOG: &str =
    "sku,upc,title,artist,format,release_date,list_price,wholesale_price,unit_cost,currency\n\
NW-001-CD,859712000019,Harbor Lights,June Okafor,CD,2010-01-15,15.98,8.00,1.10,USD\n";
const DISTRIBUTORS: &str = "distributor,legal_name,state_of_organization,agreement_start,fee_rate,payment_terms_days,statement_frequency,reserve_rate,reserve_release_days,credit_limit,currency,title_retained,ucc1_file_number,ucc1_filed_on,ucc1_state\n\
northwind,Northwind Distribution Inc,CA,2015-01-01,0.20,30,monthly,0,180,50000.00,USD,true,,,\n";
const SHIPMENTS: &str = "shipment_id,date,from,to,sku,units,po_number\n\
R1,2016-01-02,plant:optimal,label,NW-001-CD,500,\n\
S1,2016-01-10,label,northwind,NW-001-CD,200,\n";
// Net due: ST1 320.00, ST2 256.00, ST3 64.00, ST4 128.00.
const STATEMENTS: &str = "statement_id,distributor,period_start,period_end,issued_on,kind,sku,units,amount,currency,memo\n\
ST1,northwind,2016-01-01,2016-01-31,2016-02-05,sale,NW-001-CD,50,400.00,USD,\n\
ST1,northwind,2016-01-01,2016-01-31,2016-02-05,fee,,,80.00,USD,\n\
ST2,northwind,2016-02-01,2016-02-29,2016-03-05,sale,NW-001-CD,40,320.00,USD,\n\
ST2,northwind,2016-02-01,2016-02-29,2016-03-05,fee,,,64.00,USD,\n\
ST3,northwind,2016-03-01,2016-03-31,2016-04-05,sale,NW-001-CD,10,80.00,USD,\n\
ST3,northwind,2016-03-01,2016-03-31,2016-04-05,fee,,,16.00,USD,\n\
ST4,northwind,2016-04-01,2016-04-30,2016-05-05,sale,NW-001-CD,20,160.00,USD,\n\
ST4,northwind,2016-04-01,2016-04-30,2016-05-05,fee,,,32.00,USD,\n";
// ST1 paid 312.00 (8.00 short), ST2 250.00 (6.00 short), ST4 in full; ST3 not at all.
const PAYMENTS: &str = "payment_id,date,distributor,amount,currency,statement_id\n\
P1,2016-03-01,northwind,312.00,USD,ST1\n\
P2,2016-04-01,northwind,250.00,USD,ST2\n\
P4,2016-06-01,northwind,128.00,USD,ST4\n";

fn run(dir: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_backstock"))
        .env_remove("BACKSTOCK_DATA")
        .env("USER", "tester")
        .arg("--data-dir")
        .arg(dir)
        .args(args)
        .output()
        .unwrap()
}

fn ok(dir: &Path, args: &[&str]) -> String {
    let o = run(dir, args);
    assert!(
        o.status.success(),
        "{args:?} failed: {}",
        String::from_utf8_lossy(&o.stderr)
    );
    String::from_utf8(o.stdout).unwrap()
}

fn json(dir: &Path, args: &[&str]) -> Value {
    let mut a = args.to_vec();
    a.extend(["--format", "json"]);
    serde_json::from_str(&ok(dir, &a)).unwrap()
}

/// Refused with `code`; the error names `says`; nothing recorded.
fn refused(dir: &Path, args: &[&str], code: i32, says: &str) {
    let before = journal_len(dir);
    let o = run(dir, args);
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(code), "{args:?}: {err}");
    assert!(
        err.contains(says),
        "{args:?}: {err:?} does not say {says:?}"
    );
    assert_eq!(journal_len(dir), before, "{args:?} recorded something");
}

fn journal_len(dir: &Path) -> usize {
    json(dir, &["journal"]).as_array().unwrap().len()
}

fn label() -> (tempfile::TempDir, PathBuf) {
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path().join("label");
    ok(&d, &["init"]);
    let files = tmp.path().join("files");
    std::fs::create_dir_all(&files).unwrap();
    let mut paths = Vec::new();
    for (name, text) in [
        ("catalog.csv", CATALOG),
        ("distributors.csv", DISTRIBUTORS),
        ("shipments.csv", SHIPMENTS),
        ("statements.csv", STATEMENTS),
        ("payments.csv", PAYMENTS),
    ] {
        let p = files.join(name);
        std::fs::write(&p, text).unwrap();
        paths.push(p.to_string_lossy().to_string());
    }
    let mut args = vec!["import"];
    args.extend(paths.iter().map(String::as_str));
    ok(&d, &args);
    (tmp, d)
}

fn statement_open(dir: &Path, sid: &str) -> String {
    let v = json(dir, &["receivables", "--distributor", "northwind"]);
    v[0]["statements"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["statement_id"] == sid)
        .unwrap_or_else(|| panic!("{sid} not in {v}"))["open"]["amount"]
        .as_str()
        .unwrap()
        .to_string()
}

fn balance(dir: &Path, kind: &str) -> Option<String> {
    json(dir, &["balances", "--party", "northwind"])
        .as_array()
        .unwrap()
        .iter()
        .find(|b| b["kind"] == kind)
        .map(|b| b["balance"]["amount"].as_str().unwrap().to_string())
}

fn deduction<'a>(list: &'a Value, sid: &str) -> &'a Value {
    list["deductions"]
        .as_array()
        .unwrap()
        .iter()
        .find(|x| x["statement_id"] == sid)
        .unwrap_or_else(|| panic!("{sid} not in {list}"))
}

#[test]
fn a_short_pay_is_listed_accepted_and_disputed() {
    let (_tmp, d) = label();
    // Listed: the two short pays, open, with their amounts and since when.
    let list = json(&d, &["deduction", "list"]);
    assert_eq!(list["deductions"].as_array().unwrap().len(), 2, "{list}");
    let st1 = deduction(&list, "ST1");
    assert_eq!(st1["status"], "open");
    assert_eq!(st1["amount"]["amount"], "8.00");
    assert_eq!(st1["since"], "2016-03-01");
    assert_eq!(deduction(&list, "ST2")["amount"]["amount"], "6.00");
    let table = ok(&d, &["deduction", "list"]);
    assert!(
        table.contains("ST1") && table.contains("8.00 USD") && table.contains("open"),
        "{table}"
    );
    let csv = ok(&d, &["deduction", "list", "--format", "csv"]);
    assert!(csv.starts_with("distributor,statement_id,"), "{csv}");
    assert!(csv.contains("northwind,ST1,2016-01-31,"), "{csv}");

    // Accept ST1's: the statement's open balance drops by exactly 8.00, into the
    // deduction expense account.
    assert_eq!(statement_open(&d, "ST1"), "8.00");
    assert_eq!(balance(&d, "deduction"), None);
    let before = journal_len(&d);
    let out = ok(
        &d,
        &[
            "deduction",
            "accept",
            "northwind",
            "ST1",
            "--reason",
            "freight",
            "--note",
            "freight on the January order",
        ],
    );
    assert!(
        out.contains("Accepted 8.00 USD") && out.contains("deduction-accepted:northwind:ST1:1"),
        "{out}"
    );
    assert_eq!(journal_len(&d), before + 1);
    assert_eq!(statement_open(&d, "ST1"), "0.00");
    assert_eq!(balance(&d, "deduction").as_deref(), Some("8.00"));
    let all = json(&d, &["deduction", "list", "--all"]);
    let st1 = deduction(&all, "ST1");
    assert_eq!(st1["status"], "accepted");
    assert_eq!(st1["reason"], "freight");
    assert_eq!(st1["entry_id"], "deduction-accepted:northwind:ST1:1");
    // Only ST2 is still outstanding.
    let list = json(&d, &["deduction", "list"]);
    assert_eq!(list["deductions"].as_array().unwrap().len(), 1, "{list}");
    // The same command again records nothing.
    let again = ok(
        &d,
        &[
            "deduction",
            "accept",
            "northwind",
            "ST1",
            "--reason",
            "freight",
            "--note",
            "freight on the January order",
        ],
    );
    assert!(again.contains("Already recorded"), "{again}");
    assert_eq!(journal_len(&d), before + 1);
    let shown = ok(&d, &["show", "deduction-accepted:northwind:ST1:1"]);
    assert!(shown.contains("\"user\":\"tester\""), "{shown}");

    // Dispute ST2's: shown as disputed, still owed; disputing again changes nothing.
    let out = ok(
        &d,
        &[
            "deduction",
            "dispute",
            "northwind",
            "ST2",
            "--note",
            "no co-op was agreed",
        ],
    );
    assert!(out.contains("Disputed 6.00 USD"), "{out}");
    let list = json(&d, &["deduction", "list"]);
    let st2 = deduction(&list, "ST2");
    assert_eq!(st2["status"], "disputed");
    assert_eq!(st2["note"], "no co-op was agreed");
    assert_eq!(statement_open(&d, "ST2"), "6.00");
    let n = journal_len(&d);
    let again = ok(
        &d,
        &[
            "deduction",
            "dispute",
            "northwind",
            "ST2",
            "--note",
            "again",
        ],
    );
    assert!(again.contains("already disputed since"), "{again}");
    assert_eq!(journal_len(&d), n);

    // A disputed deduction can still be accepted, in part.
    ok(
        &d,
        &[
            "deduction",
            "accept",
            "northwind",
            "ST2",
            "--reason",
            "co-op",
            "--amount",
            "2.50",
        ],
    );
    assert_eq!(statement_open(&d, "ST2"), "3.50");
    assert_eq!(balance(&d, "deduction").as_deref(), Some("10.50"));
    assert_eq!(
        deduction(&json(&d, &["deduction", "list"]), "ST2")["status"],
        "disputed"
    );
}

#[test]
fn refusals_say_why_and_record_nothing() {
    let (_tmp, d) = label();
    let accept = |sid: &'static str, extra: &[&'static str]| {
        let mut a = vec![
            "deduction",
            "accept",
            "northwind",
            sid,
            "--reason",
            "freight",
        ];
        a.extend_from_slice(extra);
        a
    };
    refused(
        &d,
        &accept("ST4", &[]),
        4,
        "statement ST4 of northwind has nothing deducted to accept: it was paid in full on 2016-06-01",
    );
    refused(
        &d,
        &accept("ST3", &[]),
        4,
        "nothing has been paid on it yet",
    );
    refused(
        &d,
        &accept("ST2", &["--amount", "6.01"]),
        4,
        "has 6.00 USD deducted",
    );
    refused(&d, &accept("ST2", &["--amount", "0"]), 3, "more than zero");
    refused(
        &d,
        &accept("ST2", &["--amount", "1.00 EUR"]),
        3,
        "is in USD",
    );
    refused(
        &d,
        &accept("ST2", &["--amount", "1.005"]),
        3,
        "at most 2 decimal places",
    );
    refused(
        &d,
        &accept("ST2", &["--amount", "1,00"]),
        2,
        "decimal amount",
    );
    refused(&d, &accept("ST9", &[]), 3, "no statement \"ST9\"");
    refused(
        &d,
        &accept("ST2", &["--on", "2016-03-15"]),
        3,
        "before the deduction arose",
    );
    refused(
        &d,
        &accept("ST2", &["--on", "2199-01-01"]),
        3,
        "after the label's today",
    );
    refused(
        &d,
        &[
            "deduction",
            "accept",
            "southwind",
            "ST2",
            "--reason",
            "freight",
        ],
        3,
        "no distributor southwind",
    );
    refused(
        &d,
        &[
            "deduction",
            "accept",
            "northwind",
            "ST2",
            "--reason",
            "shrink",
        ],
        3,
        "expected one of freight, co-op, price-protection, pricing-error, other",
    );
    refused(
        &d,
        &["deduction", "dispute", "northwind", "ST3", "--note", "x"],
        4,
        "has nothing deducted to dispute",
    );
    refused(
        &d,
        &["deduction", "dispute", "northwind", "ST2", "--note", " "],
        3,
        "note: say why",
    );
    refused(
        &d,
        &[
            "writeoff",
            "northwind",
            "--statement",
            "ST4",
            "--reason",
            "x",
        ],
        4,
        "has nothing open to write off: it was paid in full on 2016-06-01",
    );
    refused(
        &d,
        &[
            "writeoff",
            "northwind",
            "--statement",
            "ST3",
            "--amount",
            "64.01",
            "--reason",
            "x",
        ],
        4,
        "has 64.00 USD open",
    );
    refused(
        &d,
        &[
            "buyback",
            "northwind",
            "--sku",
            "NW-001-CD",
            "--units",
            "81",
            "--paid",
            "81.00",
        ],
        4,
        "northwind holds 80 units of NW-001-CD on hand for the label",
    );
    refused(
        &d,
        &[
            "buyback",
            "northwind",
            "--sku",
            "NW-001-CD",
            "--units",
            "1",
            "--paid",
            "1",
            "--detained",
        ],
        4,
        "it also holds 80 on hand",
    );
    refused(
        &d,
        &[
            "buyback",
            "northwind",
            "--sku",
            "NOPE",
            "--units",
            "1",
            "--paid",
            "1",
        ],
        3,
        "not in the catalog",
    );
    refused(
        &d,
        &[
            "buyback",
            "northwind",
            "--sku",
            "NW-001-CD",
            "--units",
            "1",
            "--paid=-1.00",
        ],
        3,
        "cannot be negative",
    );
}

#[test]
fn write_offs_and_buy_backs_move_the_right_balances_and_stock() {
    let (_tmp, d) = label();
    // One statement's open amount, then the rest of the balance.
    assert_eq!(statement_open(&d, "ST3"), "64.00");
    let out = ok(
        &d,
        &[
            "writeoff",
            "northwind",
            "--statement",
            "ST3",
            "--reason",
            "never paid, agreed",
        ],
    );
    assert!(out.contains("Wrote off 64.00 USD"), "{out}");
    assert_eq!(statement_open(&d, "ST3"), "0.00");
    assert_eq!(balance(&d, "bad_debt").as_deref(), Some("64.00"));
    let out = ok(&d, &["writeoff", "northwind", "--reason", "settlement"]);
    assert!(
        out.contains("Wrote off 14.00 USD of northwind's balance"),
        "{out}"
    );
    assert_eq!(balance(&d, "bad_debt").as_deref(), Some("78.00"));
    assert!(matches!(
        balance(&d, "receivable").as_deref(),
        None | Some("0.00")
    ));
    let all = json(&d, &["deduction", "list", "--all"]);
    assert_eq!(deduction(&all, "ST1")["status"], "written_off");
    // The same command again records nothing; another one finds nothing owed.
    let n = journal_len(&d);
    let again = ok(&d, &["writeoff", "northwind", "--reason", "settlement"]);
    assert!(again.contains("Already recorded"), "{again}");
    assert_eq!(journal_len(&d), n);
    refused(
        &d,
        &["writeoff", "northwind", "--reason", "more"],
        4,
        "northwind owes nothing in USD",
    );

    // Buy 30 of the 80 units northwind holds back from its liquidator.
    let stock = |holder: &str| -> i64 {
        json(&d, &["stock", "--holder", holder, "--sku", "NW-001-CD"])
            .as_array()
            .unwrap()
            .iter()
            .map(|r| r["units"].as_i64().unwrap())
            .sum()
    };
    assert_eq!((stock("northwind"), stock("label")), (80, 300));
    let out = ok(
        &d,
        &[
            "buyback",
            "northwind",
            "--sku",
            "NW-001-CD",
            "--units",
            "30",
            "--paid",
            "30.00",
            "--paid-to",
            "Liquidator LLC",
            "--id",
            "BB-1",
        ],
    );
    assert!(
        out.contains("Bought back 30 units of NW-001-CD") && out.contains("Liquidator LLC"),
        "{out}"
    );
    assert_eq!((stock("northwind"), stock("label")), (50, 330));
    assert_eq!(balance(&d, "buy_back").as_deref(), Some("30.00"));
    let n = journal_len(&d);
    let again = ok(
        &d,
        &[
            "buyback",
            "northwind",
            "--sku",
            "NW-001-CD",
            "--units",
            "30",
            "--paid",
            "30.00",
            "--paid-to",
            "Liquidator LLC",
            "--id",
            "BB-1",
        ],
    );
    assert!(again.contains("Already recorded"), "{again}");
    assert_eq!(journal_len(&d), n);
    refused(
        &d,
        &[
            "buyback",
            "northwind",
            "--sku",
            "NW-001-CD",
            "--units",
            "5",
            "--paid",
            "5",
            "--id",
            "BB-1",
        ],
        4,
        "already recorded with other details",
    );
    ok(&d, &["verify"]);
}

/// Label-owned units at `holder` of NW-001-CD in `state`, from `stock`.
fn held_in(dir: &Path, state: &str) -> i64 {
    json(dir, &["stock", "--holder", "northwind"])
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["sku"] == "NW-001-CD" && r["owner"] == "label" && r["state"] == state)
        .map(|r| r["units"].as_i64().unwrap())
        .sum()
}

/// `COMMAND northwind --sku NW-001-CD --units UNITS` and then `rest`: the argument
/// lists of `detain` and `buyback` in the tests below.
fn at_northwind<'a>(command: &'a str, units: &'a str, rest: &[&'a str]) -> Vec<&'a str> {
    let mut a = vec![command, "northwind", "--sku", "NW-001-CD", "--units", units];
    a.extend_from_slice(rest);
    a
}

/// A refused return or a seizure: the label records its units at the distributor as
/// detained (they stay the label's and stay there), buys some back as detained, and
/// releases others; each refused case says why and records nothing.
#[test]
fn units_are_detained_released_and_bought_back_detained() {
    let (_tmp, d) = label();
    assert_eq!((held_in(&d, "on_hand"), held_in(&d, "detained")), (80, 0));
    let detain = at_northwind(
        "detain",
        "30",
        &["--reason", "return refused by the estate"],
    );
    let out = ok(&d, &detain);
    assert!(
        out.contains("Recorded as detained: 30 units of NW-001-CD at northwind on ")
            && out.contains("50 of them on hand and 30 detained"),
        "{out}"
    );
    assert_eq!((held_in(&d, "on_hand"), held_in(&d, "detained")), (50, 30));
    // The same command again records nothing.
    let n = journal_len(&d);
    assert!(ok(&d, &detain).contains("nothing new recorded"));
    assert_eq!(journal_len(&d), n);
    // Detained units bought back as detained; others released to on hand.
    ok(
        &d,
        &at_northwind("buyback", "10", &["--paid", "5.00", "--detained"]),
    );
    let release = ["--release", "--reason", "the estate let them go"];
    let out = ok(&d, &at_northwind("detain", "5", &release));
    assert!(out.contains("Released: 5 units"), "{out}");
    assert_eq!((held_in(&d, "on_hand"), held_in(&d, "detained")), (55, 15));
    // Refused: more than is there, in the state it leaves; no reason; at the label.
    refused(
        &d,
        &at_northwind("detain", "16", &["--release", "--reason", "x"]),
        4,
        "northwind holds 15 units of NW-001-CD detained for the label",
    );
    refused(
        &d,
        &at_northwind("detain", "56", &["--reason", "x"]),
        4,
        "holds 55 units of NW-001-CD on hand",
    );
    refused(
        &d,
        &at_northwind("detain", "1", &["--reason", " "]),
        3,
        "say why",
    );
    refused(
        &d,
        &[
            "detain",
            "label",
            "--sku",
            "NW-001-CD",
            "--units",
            "1",
            "--reason",
            "x",
        ],
        3,
        "not at the label",
    );
    assert!(ok(&d, &["verify"]).starts_with("OK:"));
}

/// A detention recorded late (dated back to when it happened), then a buy-back and a
/// release dated between it and today: judged by the records as they stand now, not
/// refused because nothing had been recorded by those days.
#[test]
fn actions_dated_after_a_backdated_detention_see_it() {
    let (_tmp, d) = label();
    ok(
        &d,
        &at_northwind(
            "detain",
            "40",
            &["--reason", "seized", "--on", "2016-06-01"],
        ),
    );
    let buy = ["--paid", "10.00", "--detained", "--on", "2016-07-01"];
    let out = ok(&d, &at_northwind("buyback", "10", &buy));
    assert!(
        out.contains("Bought back 10 units of NW-001-CD (detained"),
        "{out}"
    );
    let release = ["--release", "--reason", "let go", "--on", "2016-06-15"];
    ok(&d, &at_northwind("detain", "5", &release));
    assert_eq!((held_in(&d, "on_hand"), held_in(&d, "detained")), (45, 25));
    // Before the detention's day there was nothing detained to buy back.
    let early = [
        "--paid",
        "1.00",
        "--detained",
        "--id",
        "BB-EARLY",
        "--on",
        "2016-05-01",
    ];
    refused(
        &d,
        &at_northwind("buyback", "1", &early),
        4,
        "holds 0 units of NW-001-CD detained for the label on 2016-05-01",
    );
}

/// A statement in another currency than the agreement, paid short, leaves a deduction
/// in that currency (never converted): listed, disputed, accepted as any other, and
/// the claim pack counts the disputed part as still owed in that currency.
#[test]
fn a_short_pay_in_another_currency_is_a_deduction_in_that_currency() {
    let (tmp, d) = label();
    let files = tmp.path().join("files");
    let cad = files.join("cad.csv");
    std::fs::write(
        &cad,
        "statement_id,distributor,period_start,period_end,issued_on,kind,sku,units,amount,currency,memo\n\
ST5,northwind,2016-05-01,2016-05-31,2016-06-05,sale,NW-001-CD,10,125.00,CAD,\n\
ST5,northwind,2016-05-01,2016-05-31,2016-06-05,fee,,,25.00,CAD,\n",
    )
    .unwrap();
    let pay = files.join("cad-pay.csv");
    std::fs::write(
        &pay,
        "payment_id,date,distributor,amount,currency,statement_id\nP5,2016-07-01,northwind,95.00,CAD,ST5\n",
    )
    .unwrap();
    ok(
        &d,
        &["import", cad.to_str().unwrap(), pay.to_str().unwrap()],
    );
    let list = json(&d, &["deduction", "list"]);
    let st5 = deduction(&list, "ST5");
    assert_eq!(st5["status"], "open", "{list}");
    assert_eq!(st5["amount"]["amount"], "5.00");
    assert_eq!(st5["amount"]["currency"], "CAD");
    let out = ok(
        &d,
        &[
            "deduction",
            "dispute",
            "northwind",
            "ST5",
            "--note",
            "no fee agreed in CAD",
        ],
    );
    assert!(out.contains("Disputed 5.00 CAD"), "{out}");

    // As the label knows it today (the dispute was recorded today, dated in July).
    let pack = tmp.path().join("pack");
    ok(
        &d,
        &["claim-pack", "northwind", "--out", pack.to_str().unwrap()],
    );
    let rec = std::fs::read_to_string(pack.join("receivables.csv")).unwrap();
    let row = rec
        .lines()
        .find(|l| l.starts_with("statement,ST5,"))
        .unwrap_or_else(|| panic!("no ST5 in\n{rec}"));
    let cells: Vec<&str> = row.split(',').collect();
    // deducted_disputed, then open, in CAD.
    assert_eq!(
        (cells[10], cells[12], cells[16]),
        ("5.00", "5.00", "CAD"),
        "{row}"
    );

    // Accepted: it leaves the CAD receivable for the deductions expense, in CAD.
    let out = ok(
        &d,
        &[
            "deduction",
            "accept",
            "northwind",
            "ST5",
            "--reason",
            "freight",
        ],
    );
    assert!(out.contains("Accepted 5.00 CAD"), "{out}");
    let all = json(&d, &["deduction", "list", "--all"]);
    assert_eq!(deduction(&all, "ST5")["status"], "accepted", "{all}");
    let v = json(&d, &["receivables", "--distributor", "northwind"]);
    let cad_book = v[0]["other_currencies"]
        .as_array()
        .unwrap()
        .iter()
        .find(|b| b["currency"] == "CAD")
        .unwrap_or_else(|| panic!("no CAD book in {v}"));
    let st5 = cad_book["statements"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["statement_id"] == "ST5")
        .unwrap();
    assert_eq!(st5["open"]["amount"], "0.00", "{st5}");
}
