//! The accountant's exports over HTTP: who may download them, what they hold (every
//! journal balanced, money only), mistakes answered plainly, downloads audited.

use crate::common;

use common::*;
use std::collections::BTreeMap;

const STATEMENTS: &str = "statement_id,distributor,period_start,period_end,issued_on,kind,sku,units,amount,currency,memo\n\
ST-E1,alphadist,2016-01-01,2016-01-31,2016-02-05,sale,ALP-001-CD,50,400.00,USD,\n\
ST-E1,alphadist,2016-01-01,2016-01-31,2016-02-05,fee,,,80.00,USD,\n";
const PAYMENTS: &str = "payment_id,date,distributor,amount,currency,statement_id\n\
PE1,2016-03-01,alphadist,312.00,USD,ST-E1\n";

async fn import(s: &Server, who: &Session, name: &str, text: &str) {
    let p = s
        .post(
            "/api/v1/t/alpha/imports",
            who,
            &format!("multipart/form-data; boundary={BOUNDARY}"),
            &multipart(&[], Some((name, text.as_bytes()))),
        )
        .await;
    assert_eq!(p.status, 200, "{}", p.body);
    let id = p.json()["upload_id"].as_str().unwrap().to_string();
    let c = s
        .post(
            &format!("/api/v1/t/alpha/imports/{id}/confirm"),
            who,
            "application/json",
            b"",
        )
        .await;
    assert_eq!(c.status, 200, "{}", c.body);
}

fn minor(s: &str) -> i64 {
    if s.is_empty() {
        return 0;
    }
    let neg = s.starts_with('-');
    let (w, f) = s.trim_start_matches('-').split_once('.').unwrap();
    let v = w.parse::<i64>().unwrap() * 100 + f.parse::<i64>().unwrap();
    if neg {
        -v
    } else {
        v
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn exports_for_the_books_roles_balanced_and_audited() {
    let s = start(|_| {}).await;
    let owner = s.login("owner@alpha.test").await;
    import(&s, &owner, "statements.csv", STATEMENTS).await;
    import(&s, &owner, "payments.csv", PAYMENTS).await;

    let bk = s.login("bookkeeper@alpha.test").await;
    let q = "?from=2016-01-01&to=2016-06-30";
    let r = s
        .get(&format!("/api/v1/t/alpha/export/quickbooks{q}"), Some(&bk))
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert!(r.header("content-type").unwrap().starts_with("text/csv"));
    assert_eq!(
        r.header("content-disposition").unwrap(),
        "attachment; filename=\"backstock-2016-01-01-2016-06-30-quickbooks.csv\""
    );
    let mut sums: BTreeMap<String, i64> = BTreeMap::new();
    // Journal No, Journal Date, Account Name, Debits, Credits (no commas before the
    // description).
    for line in r.body.lines().skip(1) {
        let rec: Vec<&str> = line.splitn(6, ',').collect();
        *sums.entry(rec[0].to_string()).or_default() += minor(rec[3]) - minor(rec[4]);
    }
    assert_eq!(sums.len(), 2, "the statement and the payment: {}", r.body);
    assert!(sums.values().all(|v| *v == 0), "{sums:?}");
    assert!(!r.body.contains("ALP-001-CD"), "money only");

    let staff = s.login("staff@alpha.test").await;
    let b = s
        .get(
            &format!("/api/v1/t/alpha/export/beancount{q}"),
            Some(&staff),
        )
        .await;
    assert_eq!(b.status, 200, "{}", b.body);
    assert!(b
        .body
        .contains("2016-07-01 balance Assets:Receivable:Alphadist"));
    assert!(b.body.contains("Alpha Records") || b.body.contains("The label"));

    // Artists and distributors: not theirs.
    for who in ["artist@alpha.test", "distributor@alpha.test"] {
        let m = s.login(who).await;
        let r = s
            .get(&format!("/api/v1/t/alpha/export/xero{q}"), Some(&m))
            .await;
        assert_eq!(r.status, 403, "{who}: {}", r.body);
    }
    // Another label's owner: not found.
    let beta = s.login(BETA_OWNER).await;
    let r = s
        .get(&format!("/api/v1/t/alpha/export/xero{q}"), Some(&beta))
        .await;
    assert_eq!(r.status, 404);

    // Mistakes, said plainly.
    let r = s
        .get(
            "/api/v1/t/alpha/export/ledger?from=2016-01-01&to=2016-02-01",
            Some(&bk),
        )
        .await;
    assert_eq!(r.status, 400);
    assert!(r.json()["error"]["message"]
        .as_str()
        .unwrap()
        .contains("beancount, csv-journal, xero, quickbooks"));
    let r = s
        .get("/api/v1/t/alpha/export/xero?from=2016-01-01", Some(&bk))
        .await;
    assert_eq!(r.status, 400);
    assert!(r.body.contains("to: give a date"), "{}", r.body);

    // Each download is in the audit log.
    let audit = s.get("/api/v1/t/alpha/audit", Some(&owner)).await;
    assert_eq!(audit.status, 200);
    let n = audit.body.matches("export_downloaded").count();
    assert!(n >= 2, "{}", audit.body);
}
