//! Issue 18.4: every web CSV download writes an amount as a plain number (no thousands
//! separators, no currency sign) with its currency in a `currency` column beside it;
//! a percentage says so in its header.

use crate::common;
use common::*;

/// Whether a field is a number as a spreadsheet reads it (`-1234.50`, `110.1`).
fn plain_number(s: &str) -> bool {
    !s.is_empty()
        && s.trim_start_matches('-')
            .chars()
            .all(|c| c.is_ascii_digit() || c == '.')
}

/// Checks one downloaded table: a `currency` column, each of `amounts` a plain number
/// on every row, and no field that looks like a formatted amount.
fn check(path: &str, csv: &Resp, amounts: &[&str]) -> Vec<Vec<String>> {
    assert_eq!(csv.status, 200, "{path}: {}", csv.body);
    assert_eq!(
        csv.header("content-type"),
        Some("text/csv; charset=utf-8"),
        "{path}"
    );
    let rows = csv_rows(&csv.body);
    let head = &rows[0];
    let col = |name: &str| {
        head.iter()
            .position(|h| h == name)
            .unwrap_or_else(|| panic!("{path}: no column {name:?} in {head:?}"))
    };
    let cur = col("currency");
    assert!(rows.len() > 1, "{path}: no rows");
    for r in &rows[1..] {
        assert_eq!(r.len(), head.len(), "{path}: {r:?}");
        let mut any = false;
        for a in amounts {
            let v = &r[col(a)];
            if v.is_empty() {
                continue;
            }
            any = true;
            assert!(plain_number(v), "{path}: {a} = {v:?} in {r:?}");
        }
        if any {
            assert_eq!(r[cur], "USD", "{path}: {r:?}");
        }
        for v in r {
            assert!(
                !v.starts_with('$') && !v.starts_with("-$"),
                "{path}: {v:?} in {r:?}"
            );
        }
    }
    rows
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_csv_amount_is_a_plain_number_with_its_currency_beside_it() {
    let s = start_demo().await;
    let owner = s.login("owner@marigold.test").await;
    let tables: [(&str, &[&str]); 10] = [
        (
            "/t/marigold/dashboard?format=csv&table=ageing",
            &[
                "open",
                "current",
                "1-30",
                "31-60",
                "61-90",
                "90+",
                "reserve held",
                "stock at wholesale",
                "exposure",
                "credit limit",
            ],
        ),
        ("/t/marigold/dashboard?format=csv&table=risk", &["exposure"]),
        (
            "/t/marigold/distributors?format=csv",
            &["open", "exposure", "credit limit"],
        ),
        (
            "/t/marigold/royalties?format=csv&table=runs",
            &[
                "royalties",
                "payable",
                "earned not collected",
                "of which in default",
            ],
        ),
        (
            "/t/marigold/statements?format=csv&table=statements",
            &["royalties", "payable"],
        ),
        (
            "/t/marigold/distributors/cascade?format=csv&table=statements",
            &["net due", "paid", "open"],
        ),
        (
            "/t/marigold/distributors/cascade?format=csv&table=payments",
            &["amount"],
        ),
        (
            "/t/marigold/catalog?format=csv",
            &["list price", "wholesale"],
        ),
        (
            "/t/marigold/deductions?format=csv&table=settled",
            &["net due", "amount"],
        ),
        (
            "/t/marigold/statements/2016H1/june-okafor?table=detail&format=csv",
            &["receipts", "royalty earned"],
        ),
    ];
    for (path, amounts) in tables {
        let r = s.get(path, Some(&owner)).await;
        check(path, &r, amounts);
    }

    // The ageing table in full: the currency after the last amount, the share of the
    // limit used a percentage that says so.
    let path = "/t/marigold/dashboard?format=csv&table=ageing";
    let rows = csv_rows(&s.get(path, Some(&owner)).await.body);
    assert_eq!(
        rows[0].join(","),
        "distributor,open,current,1-30,31-60,61-90,90+,reserve held,stock at wholesale,exposure,credit limit,currency,limit used %"
    );
    let cascade = rows.iter().find(|r| r[0] == "cascade").unwrap();
    assert!(plain_number(&cascade[12]), "{cascade:?}");
    // The page shows the same header.
    let page = s.get("/t/marigold/dashboard", Some(&owner)).await;
    assert!(page.body.contains("limit used %"), "{}", page.body);
}
