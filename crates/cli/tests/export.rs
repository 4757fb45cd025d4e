//! `backstock export`: the accountant's books of a date range through the real binary —
//! every transaction balanced in every format, money only, the beancount file accepted
//! by `bean-check` (when beancount is installed: CI installs it) and its closing
//! balances equal to the ledger's, the chart of accounts adjustable by the label.

mod common;

use common::*;
use std::collections::BTreeMap;
use std::path::Path;

const CATALOG: &str =
    "sku,upc,title,artist,format,release_date,list_price,wholesale_price,unit_cost,currency\n\
NW-001-CD,859712000019,Harbor Lights,June Okafor,CD,2010-01-15,15.98,8.00,1.10,USD\n";
const DISTRIBUTORS: &str = "distributor,legal_name,state_of_organization,agreement_start,fee_rate,payment_terms_days,statement_frequency,reserve_rate,reserve_release_days,credit_limit,currency,title_retained,ucc1_file_number,ucc1_filed_on,ucc1_state\n\
northwind,Northwind Distribution Inc,CA,2015-01-01,0.20,30,monthly,0,180,50000.00,USD,true,,,\n";
const SHIPMENTS: &str = "shipment_id,date,from,to,sku,units,po_number\n\
R1,2016-01-02,plant:optimal,label,NW-001-CD,500,\n\
S1,2016-01-10,label,northwind,NW-001-CD,200,\n";
const STATEMENTS: &str = "statement_id,distributor,period_start,period_end,issued_on,kind,sku,units,amount,currency,memo\n\
ST1,northwind,2016-01-01,2016-01-31,2016-02-05,sale,NW-001-CD,50,400.00,USD,\n\
ST1,northwind,2016-01-01,2016-01-31,2016-02-05,fee,,,80.00,USD,\n\
ST2,northwind,2016-02-01,2016-02-29,2016-03-05,sale,NW-001-CD,40,320.00,USD,\n\
ST2,northwind,2016-02-01,2016-02-29,2016-03-05,fee,,,64.00,USD,\n";
const PAYMENTS: &str = "payment_id,date,distributor,amount,currency,statement_id\n\
P1,2016-03-01,northwind,312.00,USD,ST1\n";

/// A small label: one distributor, two statements, one payment.
fn label() -> (tempfile::TempDir, std::path::PathBuf) {
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path().join("label");
    ok(&d, &["init"]);
    for (name, text) in [
        ("catalog.csv", CATALOG),
        ("distributors.csv", DISTRIBUTORS),
        ("shipments.csv", SHIPMENTS),
        ("statements.csv", STATEMENTS),
        ("payments.csv", PAYMENTS),
    ] {
        let p = tmp.path().join(name);
        std::fs::write(&p, text).unwrap();
        ok(&d, &["import", p.to_str().unwrap()]);
    }
    (tmp, d)
}

fn minor(s: &str) -> i64 {
    if s.is_empty() {
        return 0;
    }
    let (neg, s) = match s.strip_prefix('-') {
        Some(r) => (true, r),
        None => (false, s),
    };
    let (w, f) = s.split_once('.').unwrap_or((s, ""));
    assert!(f.len() == 2 || f.is_empty(), "{s}");
    let v = w.parse::<i64>().unwrap() * 100 + f.parse::<i64>().unwrap_or(0);
    if neg {
        -v
    } else {
        v
    }
}

/// Sums each journal's amounts (by the key columns) and checks every one is zero.
fn balanced(csv_text: &str, key: &[usize], amount: impl Fn(&csv::StringRecord) -> i64) -> usize {
    let mut r = csv::Reader::from_reader(csv_text.as_bytes());
    let mut sums: BTreeMap<Vec<String>, i64> = BTreeMap::new();
    for rec in r.records() {
        let rec = rec.unwrap();
        let k = key.iter().map(|i| rec[*i].to_string()).collect();
        *sums.entry(k).or_default() += amount(&rec);
    }
    for (k, v) in &sums {
        assert_eq!(*v, 0, "journal {k:?} does not balance");
    }
    sums.len()
}

/// `bean-check`: `$BEAN_CHECK`, else on the PATH. `None` when beancount is not installed.
fn bean_check(file: &Path) -> Option<(bool, String)> {
    let exe = std::env::var("BEAN_CHECK").unwrap_or_else(|_| "bean-check".into());
    let o = std::process::Command::new(&exe).arg(file).output().ok()?;
    Some((
        o.status.success(),
        String::from_utf8_lossy(&o.stdout).into_owned() + &String::from_utf8_lossy(&o.stderr),
    ))
}

#[test]
fn every_format_balances_and_holds_only_money() {
    let (tmp, d) = label();
    let range = ["--from", "2016-01-01", "--to", "2016-03-31"];
    let j = ok(&d, &[&["export", "csv-journal"][..], &range].concat());
    // journal × currency: debit − credit sums to zero.
    let n = balanced(&j, &[0, 8], |r| minor(&r[9]) - minor(&r[10]));
    assert_eq!(n, 3, "two statements and a payment: {j}");
    assert!(
        !j.contains("NW-001-CD"),
        "no units in the accountant's books"
    );
    assert!(!j.contains("shipment"), "{j}");

    let x = ok(&d, &[&["export", "xero"][..], &range].concat());
    assert!(x.starts_with("*Narration,*Date,Description,*AccountCode,*TaxRate,*Amount,"));
    assert_eq!(balanced(&x, &[0, 1], |r| minor(&r[5])), 3);
    assert!(
        x.contains(",05/02/2016,") || x.contains(",31/01/2016,"),
        "{x}"
    );

    let q = ok(&d, &[&["export", "quickbooks"][..], &range].concat());
    assert!(q.starts_with("Journal No,Journal Date,Account Name,Debits,Credits,Description,Name"));
    assert_eq!(balanced(&q, &[0], |r| minor(&r[3]) - minor(&r[4])), 3);

    // A range before anything happened: no transactions, still a valid file.
    let e = ok(
        &d,
        &[
            "export",
            "xero",
            "--from",
            "2010-01-01",
            "--to",
            "2010-12-31",
        ],
    );
    assert_eq!(e.lines().count(), 1);

    // --out writes the file and says so.
    let out = tmp.path().join("q1.beancount");
    let said = ok(
        &d,
        &[
            &["export", "beancount", "--out", out.to_str().unwrap()][..],
            &range,
        ]
        .concat(),
    );
    assert!(said.contains("Wrote 3 transactions"), "{said}");
    assert!(out.exists());
}

#[test]
fn the_beancount_file_passes_bean_check_and_ties_to_the_ledger() {
    let (tmp, d) = label();
    let out = tmp.path().join("books.beancount");
    // From February: January's statement is brought forward as opening balances.
    ok(
        &d,
        &[
            "export",
            "beancount",
            "--from",
            "2016-02-01",
            "--to",
            "2016-12-31",
            "--out",
            out.to_str().unwrap(),
        ],
    );
    let text = std::fs::read_to_string(&out).unwrap();
    assert!(
        text.contains("Balances brought forward to 2016-02-01"),
        "{text}"
    );
    // The closing balance assertions equal the ledger's balances.
    let bal: serde_json::Value =
        serde_json::from_str(&ok(&d, &["balances", "--format", "json"])).unwrap();
    let receivable = bal
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["kind"] == "receivable" && r["counterparty"] == "northwind")
        .unwrap()["balance"]["amount"]
        .as_str()
        .unwrap()
        .to_string();
    let line = text
        .lines()
        .find(|l| l.starts_with("2017-01-01 balance Assets:Receivable:Northwind"))
        .unwrap_or_else(|| panic!("{text}"));
    assert!(
        line.trim_end().ends_with(&format!(" {receivable} USD")),
        "{line} vs {receivable}"
    );
    match bean_check(&out) {
        Some((passed, said)) => assert!(passed, "bean-check refused the export: {said}"),
        None => eprintln!("bean-check is not installed: skipped (CI installs beancount)"),
    }
    // A file with one amount changed is refused by bean-check: the check is real.
    if let Some(i) = text.find("-400.00 USD") {
        let bad = tmp.path().join("bad.beancount");
        let mut t = text.clone();
        t.replace_range(i..i + "-400.00 USD".len(), "-400.01 USD");
        std::fs::write(&bad, t).unwrap();
        if let Some((passed, _)) = bean_check(&bad) {
            assert!(!passed, "bean-check accepted an unbalanced file");
        }
    }
}

#[test]
fn a_small_label_s_books_as_documents() {
    let (tmp, d) = label();
    let range = ["--from", "2016-01-01", "--to", "2016-03-31"];
    let b = ok(&d, &[&["export", "beancount"][..], &range].concat());
    insta::assert_snapshot!("export_beancount", b);
    let x = ok(&d, &[&["export", "xero"][..], &range].concat());
    insta::assert_snapshot!("export_xero", x);
    let q = ok(&d, &[&["export", "quickbooks"][..], &range].concat());
    insta::assert_snapshot!("export_quickbooks", q);
    drop(tmp);
}

#[test]
fn the_label_adjusts_its_chart_of_accounts() {
    let (tmp, d) = label();
    let chart = ok(&d, &["export", "chart"]);
    assert!(chart.starts_with("kind,beancount,xero_code,xero_tax_rate,quickbooks,by_counterparty"));
    assert!(chart.contains("cash,Assets:Cash,1000,Tax Exempt,Checking,false"));
    std::fs::write(
        d.join("chart-of-accounts.csv"),
        "kind,beancount,xero_code,xero_tax_rate\ncash,Assets:Bank:Operating,090,No VAT\n",
    )
    .unwrap();
    let range = ["--from", "2016-01-01", "--to", "2016-03-31"];
    let x = ok(&d, &[&["export", "xero"][..], &range].concat());
    assert!(x.contains(",090,No VAT,312.00,"), "{x}");
    let b = ok(&d, &[&["export", "beancount"][..], &range].concat());
    assert!(b.contains("Assets:Bank:Operating"), "{b}");
    // A bad chart: refused, naming the file and the line.
    std::fs::write(
        d.join("chart-of-accounts.csv"),
        "kind,beancount\ncash,Bank\n",
    )
    .unwrap();
    let o = run(&d, &[&["export", "xero"][..], &range].concat());
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(3), "{err}");
    assert!(
        err.contains("chart-of-accounts.csv") && err.contains("line 2"),
        "{err}"
    );
    drop(tmp);
}

#[test]
fn mistakes_are_refused_plainly() {
    let (_tmp, d) = label();
    refused(
        &d,
        &[
            "export",
            "ledger",
            "--from",
            "2016-01-01",
            "--to",
            "2016-02-01",
        ],
        3,
        "beancount, csv-journal, xero, quickbooks",
    );
    refused(
        &d,
        &[
            "export",
            "xero",
            "--from",
            "2016-03-01",
            "--to",
            "2016-02-01",
        ],
        3,
        "is after --to",
    );
    refused(&d, &["export", "xero", "--from", "2016-03-01"], 3, "--to");
    refused(
        &d,
        &[
            "export",
            "xero",
            "--from",
            "2016-01-01",
            "--to",
            "2016-02-01",
            "--currency",
            "US",
        ],
        3,
        "--currency",
    );
}

/// What the accountant should know about a file is said beside it (on standard error,
/// since the file may be on standard output): a range in which no money moved, and
/// that a Xero or QuickBooks file for one currency is in that currency, not converted.
#[test]
fn an_empty_range_and_a_file_in_one_currency_are_said() {
    let (_tmp, d) = label();
    let out = run(
        &d,
        &[
            "export",
            "quickbooks",
            "--from",
            "2014-01-01",
            "--to",
            "2014-01-31",
            "--currency",
            "EUR",
        ],
    );
    assert!(out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("note: no money in EUR moved from 2014-01-01 to 2014-01-31: the file holds no transaction"),
        "{err}"
    );
    let out = run(
        &d,
        &[
            "export",
            "xero",
            "--from",
            "2016-01-01",
            "--to",
            "2016-03-31",
            "--currency",
            "USD",
        ],
    );
    assert!(out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("note: the amounts are in USD as recorded, never converted")
            && err.contains("Xero manual journals are in the organisation's base currency"),
        "{err}"
    );
    assert!(!err.contains("no money"), "{err}");
    // The file on standard output is only the file.
    assert!(!String::from_utf8_lossy(&out.stdout).contains("note:"));
}
