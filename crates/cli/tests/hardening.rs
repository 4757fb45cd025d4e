//! Issue 19 (hardening), driven through the real binary as a user would: money that
//! would overflow, XLSX bombs, a truncated journal, damaged originals, formulas in
//! CSV output.

mod common;
use common::{journal_len, ok, refused, run};
use std::path::{Path, PathBuf};

const CATALOG: &str =
    "sku,upc,title,artist,format,release_date,list_price,wholesale_price,unit_cost,currency\n\
MRG-001-CD,859712000019,Harbor Lights,The Tidewater Band,CD,2010-01-15,15.98,8.00,1.10,USD\n";
const DISTRIBUTORS: &str = "distributor,legal_name,state_of_organization,agreement_start,fee_rate,payment_terms_days,statement_frequency,reserve_rate,reserve_release_days,credit_limit,currency,title_retained,ucc1_file_number,ucc1_filed_on,ucc1_state\n\
allegro,Allegro Media Group LLC,OR,2012-01-01,0.20,90,monthly,0.20,180,50000.00,USD,true,,,\n";
const SHIPMENTS: &str = "shipment_id,date,from,to,sku,units,po_number\n\
R1,2016-01-02,plant:optimal,label,MRG-001-CD,500,\n\
S1,2016-01-05,label,allegro,MRG-001-CD,300,\n";
const HEADER: &str =
    "statement_id,distributor,period_start,period_end,issued_on,kind,sku,units,amount,currency,memo\n";

fn write(dir: &Path, name: &str, text: &str) -> String {
    let p = dir.join(name);
    std::fs::write(&p, text).unwrap();
    p.to_string_lossy().to_string()
}

/// A label with a catalog, one distributor and stock at it.
fn label() -> (tempfile::TempDir, PathBuf) {
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path().join("data");
    ok(&d, &["init"]);
    let files: Vec<String> = [
        ("catalog.csv", CATALOG),
        ("distributors.csv", DISTRIBUTORS),
        ("shipments.csv", SHIPMENTS),
    ]
    .iter()
    .map(|(n, t)| write(tmp.path(), n, t))
    .collect();
    let mut args = vec!["import"];
    args.extend(files.iter().map(String::as_str));
    ok(&d, &args);
    (tmp, d)
}

fn statement(id: &str, month: u32, amount: &str) -> String {
    format!(
        "{HEADER}{id},allegro,2016-{month:02}-01,2016-{month:02}-28,2016-{:02}-10,sale,MRG-001-CD,1,{amount},USD,\n",
        month + 1
    )
}

// ---- 19.1: money overflow across entries ----

#[test]
fn two_statements_near_the_i64_limit_are_refused_at_the_line_and_the_label_keeps_working() {
    let (tmp, d) = label();
    let a = write(
        tmp.path(),
        "a.csv",
        &statement("ST-A", 1, "92233720368547758.07"),
    );
    let b = write(
        tmp.path(),
        "b.csv",
        &statement("ST-B", 2, "92233720368547758.07"),
    );
    for f in [&a, &b] {
        // The dry run says what the import says: the line, the column, the limit.
        refused(&d, &["import", f, "--dry-run"], 3, "line 2");
        refused(&d, &["import", f], 3, "10,000,000,000,000.00");
        let o = run(&d, &["import", f]);
        let err = String::from_utf8_lossy(&o.stderr);
        assert!(err.contains("amount"), "{err}");
    }
    assert!(ok(&d, &["verify"]).contains("OK"));
    ok(&d, &["balances"]);
    ok(&d, &["receivables"]);
}

#[test]
fn entries_that_would_take_a_currency_past_the_limit_are_refused_before_anything_is_recorded() {
    let (tmp, d) = label();
    // 6,000,000,000,000.00 USD each: under the limit of one amount (1e15 minor units);
    // the first statement moves 6e14 minor units of USD, the second would pass 1e15.
    let a = write(
        tmp.path(),
        "a.csv",
        &statement("ST-A", 1, "6000000000000.00"),
    );
    let b = write(
        tmp.path(),
        "b.csv",
        &statement("ST-B", 2, "6000000000000.00"),
    );
    ok(&d, &["import", &a]);
    let before = journal_len(&d);
    refused(&d, &["import", &b], 4, "limit");
    let o = run(&d, &["import", &b]);
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains("ST-B") && err.contains("USD"), "{err}");
    assert_eq!(journal_len(&d), before);
    assert!(ok(&d, &["verify"]).contains("OK"));
    let bal = ok(&d, &["balances", "--format", "csv"]);
    assert!(bal.contains("6000000000000.00"), "{bal}");
    ok(&d, &["receivables"]);
}

#[test]
fn a_dry_run_sums_many_large_lines_exactly() {
    let (tmp, d) = label();
    // Three lines of 300,000,000,000.00: the total 900,000,000,000.00 is exact.
    let mut text = String::from(HEADER);
    for m in 1..=3 {
        text.push_str(&format!(
            "ST-{m},allegro,2016-{m:02}-01,2016-{m:02}-28,2016-{:02}-10,sale,MRG-001-CD,1,300000000000.00,USD,\n",
            m + 1
        ));
    }
    let f = write(tmp.path(), "three.csv", &text);
    let out = ok(&d, &["import", &f, "--dry-run"]);
    assert!(out.contains("900,000,000,000.00 USD"), "{out}");
    // A file whose total alone passes the limit is refused by the dry run too.
    let mut text = String::from(HEADER);
    for m in 1..=9 {
        text.push_str(&format!(
            "ST-{m},allegro,2016-{m:02}-01,2016-{m:02}-28,2016-{:02}-10,sale,MRG-001-CD,1,9000000000000.00,USD,\n",
            m + 1
        ));
    }
    let f = write(tmp.path(), "nine.csv", &text);
    refused(&d, &["import", &f, "--dry-run"], 3, "limit");
}
