//! Artist payouts through the real binary (issue 14 item 5): one payment recorded and
//! refused when more than is payable, the same payout twice recorded once, a royalty
//! run paid in one step with the bank's file, a payout corrected and paid again, tax
//! forms and the year-end CSV for 1099 preparation.

mod common;

use common::*;

/// The royalty payable balance of `payee` in USD, in minor units (from `balances`).
fn payable_minor(d: &std::path::Path, payee: &str) -> i64 {
    let csv = ok(d, &["balances", "--format", "csv"]);
    let line = csv
        .lines()
        .find(|l| l.starts_with(&format!("{payee},royalty_payable,")))
        .unwrap_or_else(|| panic!("no royalty_payable of {payee} in\n{csv}"));
    let amount = line.split(',').nth(2).unwrap();
    let (units, cents) = amount.split_once('.').unwrap();
    units.parse::<i64>().unwrap() * 100 + cents.parse::<i64>().unwrap()
}

#[test]
fn one_payout_is_recorded_once_refused_over_payable_and_corrected() {
    let (tmp, d) = demo();
    let before = payable_minor(&d, "june-okafor");
    assert!(before > 10_000, "june-okafor is owed {before}");

    // More than is payable: refused with a sentence, nothing recorded.
    refused(
        &d,
        &[
            "payout",
            "record",
            "--payee",
            "june-okafor",
            "--amount",
            "99999.99",
            "--currency",
            "USD",
        ],
        4,
        "is more than is payable to june-okafor (June Okafor): only",
    );
    // Mistyped input names what was expected.
    refused(
        &d,
        &[
            "payout",
            "record",
            "--payee",
            "june",
            "--amount",
            "1",
            "--currency",
            "USD",
        ],
        3,
        "no payee \"june\" on file; payees: ",
    );
    refused(
        &d,
        &[
            "payout",
            "record",
            "--payee",
            "june-okafor",
            "--amount",
            "1.234",
            "--currency",
            "USD",
        ],
        3,
        "--amount",
    );
    refused(
        &d,
        &[
            "payout",
            "record",
            "--payee",
            "june-okafor",
            "--amount",
            "0",
            "--currency",
            "USD",
        ],
        3,
        "more than zero",
    );
    // Tidewater is unrecouped: its statement makes nothing payable, and what its
    // payable balance holds is reserves against returns — not paid out (it was).
    let tide = payable_minor(&d, "tidewater-band");
    assert!(tide > 0, "{tide}");
    let tide_text = format!("{}.{:02}", tide / 100, tide % 100);
    refused(
        &d,
        &[
            "payout",
            "record",
            "--payee",
            "tidewater-band",
            "--amount",
            &tide_text,
            "--currency",
            "USD",
            "--on",
            "2016-06-30",
        ],
        4,
        "more than the royalty statements made payable",
    );

    // Dated before any run made anything payable: refused, naming the first day it can be.
    let early = refused(
        &d,
        &[
            "payout",
            "record",
            "--payee",
            "june-okafor",
            "--amount",
            "100.05",
            "--currency",
            "USD",
            "--on",
            "2012-12-31",
        ],
        4,
        "100.05 USD paid on 2012-12-31 is more than the royalty statements had made payable to june-okafor (June Okafor) by then: 0.00 USD; the 2012H2 run made",
    );
    assert!(
        early.contains(
            "payable on 2013-02-14: date the payout on or after that day; nothing recorded"
        ),
        "{early}"
    );

    let out = tmp.path().join("one.csv");
    let args = [
        "payout",
        "record",
        "--payee",
        "june-okafor",
        "--amount",
        "100.05",
        "--currency",
        "USD",
        "--on",
        "2016-06-20",
        "--reference",
        "WIRE-0042",
        "--out",
        out.to_str().unwrap(),
    ];
    let said = ok(&d, &args);
    assert!(said.starts_with("Paid 100.05 USD to june-okafor"), "{said}");
    assert_eq!(payable_minor(&d, "june-okafor"), before - 10_005);
    assert_eq!(
        std::fs::read_to_string(&out).unwrap(),
        "payee,name,amount,currency,reference\njune-okafor,June Okafor,100.05,USD,WIRE-0042\n"
    );

    // The same payout again: recorded once.
    let n = journal_len(&d);
    let again = ok(&d, &args);
    assert!(again.starts_with("Already recorded"), "{again}");
    assert_eq!(journal_len(&d), n);
    assert_eq!(payable_minor(&d, "june-okafor"), before - 10_005);

    // A wrong payout is corrected by a reversing entry; then it may be made again.
    let id = "payout:june-okafor:2016-06-20:100.05:USD:WIRE-0042";
    let c = ok(
        &d,
        &["correct", id, "--reason", "paid to the wrong account"],
    );
    assert!(c.contains(id), "{c}");
    assert_eq!(payable_minor(&d, "june-okafor"), before);
    let list = ok(&d, &["payout", "list", "--format", "csv"]);
    assert!(
        !list.contains("WIRE-0042"),
        "a corrected payout is gone: {list}"
    );
    let third = ok(&d, &args);
    assert!(third.contains(&format!("[{id}:2]")), "{third}");
    assert_eq!(payable_minor(&d, "june-okafor"), before - 10_005);
    ok(&d, &["verify"]);
}

#[test]
fn a_run_is_paid_in_one_step_once_and_the_year_end_csv_adds_up() {
    let (tmp, d) = demo();
    refused(
        &d,
        &["payout", "run", "--period", "2019H1"],
        3,
        "royalty period \"2019H1\" has not been run",
    );
    let file = tmp.path().join("payouts.csv");
    let said = ok(
        &d,
        &[
            "payout",
            "run",
            "--period",
            "2016H1",
            "--out",
            file.to_str().unwrap(),
        ],
    );
    assert!(said.contains("4 payment(s) recorded now"), "{said}");
    // Tidewater is unrecouped: nothing payable on its statement, said so.
    assert!(said.contains("Not paid: tidewater-band in USD"), "{said}");
    let csv = std::fs::read_to_string(&file).unwrap();
    assert_eq!(
        csv,
        "payee,name,amount,currency,reference\n\
         elk-and-ember,Elk & Ember,1082.00,USD,Royalties 2016H1\n\
         june-okafor,June Okafor,186.56,USD,Royalties 2016H1\n\
         leon-brandt,Leon Brandt,86.50,USD,Royalties 2016H1\n\
         marta-villanueva,Marta Villanueva,129.74,USD,Royalties 2016H1\n"
    );
    // The run again records nothing, and its bank file holds no payment recorded
    // before (it held all four: handed to the bank, each would be paid twice).
    let again = tmp.path().join("payouts-again.csv");
    let said = ok(
        &d,
        &[
            "payout",
            "run",
            "--period",
            "2016H1",
            "--out",
            again.to_str().unwrap(),
        ],
    );
    assert!(
        said.contains("0 payment(s) recorded now, 4 recorded before"),
        "{said}"
    );
    assert!(said.contains("not in it again"), "{said}");
    assert_eq!(
        std::fs::read_to_string(&again).unwrap(),
        "payee,name,amount,currency,reference\n"
    );
    // Each payment is what the payee's statement says is payable.
    let st = ok(
        &d,
        &[
            "royalties",
            "statement",
            "--payee",
            "june-okafor",
            "--period",
            "2016H1",
            "--format",
            "json",
        ],
    );
    let v: serde_json::Value = serde_json::from_str(&st).unwrap();
    assert_eq!(
        v["contracts"][0]["totals"]["payable"]["amount_minor"],
        18_656
    );
    // Issue 18.8: the statement can be checked — the rate on each line, why collected
    // differs from earned, what was paid and when (up to the statement date).
    assert_eq!(
        v["contracts"][0]["detail"][0]["rate"],
        "22% of net receipts"
    );
    let why = v["contracts"][0]["why_collected_differs"].as_str().unwrap();
    assert!(
        why.contains("owed by distributors in default (Cascade Media Group, LLC)"),
        "{why}"
    );
    assert_eq!(v["payments"][0]["date"], "2016-06-30");
    assert_eq!(v["payments"][0]["amount"]["amount_minor"], 18_656);
    assert_eq!(v["payments"][0]["reference"], "Royalties 2016H1");
    let csv = ok(
        &d,
        &[
            "royalties",
            "statement",
            "--payee",
            "june-okafor",
            "--period",
            "2016H1",
            "--format",
            "csv",
        ],
    );
    assert!(
        csv.contains("payment,,2016-06-30,,,,,,,,,,,,186.56,USD,,Royalties 2016H1"),
        "{csv}"
    );
    assert!(csv.contains(",USD,22% of net receipts,"), "{csv}");
    assert!(
        csv.contains("note,C-OKAFOR,why_collected_differs,"),
        "{csv}"
    );
    let html = ok(
        &d,
        &[
            "royalties",
            "statement",
            "--payee",
            "june-okafor",
            "--period",
            "2016H1",
            "--format",
            "html",
        ],
    );
    assert!(html.contains("Paid to you (up to 2016-06-30)"), "{html}");
    assert!(html.contains("Why collected differs from earned"));
    assert!(html.contains("<td>22% of net receipts</td>"));
    // An earlier statement shows no later payment.
    let old = ok(
        &d,
        &[
            "royalties",
            "statement",
            "--payee",
            "june-okafor",
            "--period",
            "2015H2",
            "--format",
            "json",
        ],
    );
    let o: serde_json::Value = serde_json::from_str(&old).unwrap();
    assert_eq!(o["payments"], serde_json::json!([]));

    // The same run again pays nobody twice.
    let n = journal_len(&d);
    let again = ok(&d, &["payout", "run", "--period", "2016H1"]);
    assert!(
        again.contains("0 payment(s) recorded now, 4 recorded before"),
        "{again}"
    );
    assert_eq!(journal_len(&d), n);

    // Tax forms and the year-end CSV.
    refused(
        &d,
        &["payee", "tax-form", "june-okafor", "--form", "1099"],
        3,
        "expected w9 (a US person) or w8ben",
    );
    ok(
        &d,
        &[
            "payee",
            "tax-form",
            "june-okafor",
            "--form",
            "w9",
            "--received",
            "2016-02-01",
        ],
    );
    ok(
        &d,
        &[
            "payee",
            "tax-form",
            "marta-villanueva",
            "--form",
            "W-8BEN",
            "--received",
            "2016-03-01",
        ],
    );
    ok(
        &d,
        &[
            "payout",
            "record",
            "--payee",
            "june-okafor",
            "--amount",
            "13.44",
            "--currency",
            "USD",
            "--on",
            "2016-05-02",
        ],
    );
    let ye = tmp.path().join("1099.csv");
    let said = ok(
        &d,
        &["payout", "year-end", "2016", "--out", ye.to_str().unwrap()],
    );
    assert!(said.contains("2 without a tax form on file"), "{said}");
    assert_eq!(
        std::fs::read_to_string(&ye).unwrap(),
        "year,payee,name,currency,amount_paid,payments,tax_form,tax_form_received_on,advances_paid,total_paid\n\
         2016,elk-and-ember,Elk & Ember,USD,1082.00,1,,,0.00,1082.00\n\
         2016,june-okafor,June Okafor,USD,200.00,2,W-9,2016-02-01,0.00,200.00\n\
         2016,leon-brandt,Leon Brandt,USD,86.50,1,,,0.00,86.50\n\
         2016,marta-villanueva,Marta Villanueva,USD,129.74,1,W-8BEN,2016-03-01,0.00,129.74\n"
    );
    // Nothing paid in 2015.
    assert_eq!(
        ok(&d, &["payout", "year-end", "2015"]),
        "year,payee,name,currency,amount_paid,payments,tax_form,tax_form_received_on,advances_paid,total_paid\n"
    );
    // Advances are paid to the artist in the year of their date: a year with no payout
    // but an advance has its row (the demo's Tidewater signing advance of 2012).
    assert_eq!(
        ok(&d, &["payout", "year-end", "2012"]),
        "year,payee,name,currency,amount_paid,payments,tax_form,tax_form_received_on,advances_paid,total_paid\n\
         2012,tidewater-band,The Tidewater Band,USD,0.00,0,,,5000.00,5000.00\n"
    );
    // An advance on a contract of two payees (60/40) is split as the run charges it, to
    // the cent; a recording cost is not paid to the artists and is not counted.
    let costs = tmp.path().join("costs-2016.csv");
    std::fs::write(
        &costs,
        "cost_id,contract_id,date,kind,amount,currency,sku,recoupable,memo\n\
         VN-ADV-2,C-VILLANUEVA,2016-04-01,advance,1500.01,USD,,yes,tour support\n\
         VN-REC-3,C-VILLANUEVA,2016-04-02,recording,700.00,USD,,yes,studio\n",
    )
    .unwrap();
    ok(&d, &["import", costs.to_str().unwrap()]);
    let ye = ok(&d, &["payout", "year-end", "2016"]);
    assert!(
        ye.contains("2016,leon-brandt,Leon Brandt,USD,86.50,1,,,600.00,686.50\n"),
        "{ye}"
    );
    assert!(
        ye.contains("2016,marta-villanueva,Marta Villanueva,USD,129.74,1,W-8BEN,2016-03-01,900.01,1029.75\n"),
        "{ye}"
    );
    ok(&d, &["verify"]);
}
