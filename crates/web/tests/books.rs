//! Closing the books over HTTP: a bookkeeper closes a month, entries dated into it are
//! refused (the upload's confirm says so and records nothing), only the owner reopens
//! (with a reason), the page shows the forms each role may use, every step is audited.

use crate::common;

use common::*;
use serde_json::{json, Value};

const MAY_STATEMENT: &str = "statement_id,distributor,period_start,period_end,issued_on,kind,sku,units,amount,currency,memo\n\
ST-MAY,alphadist,2016-05-01,2016-05-31,2016-06-05,sale,ALP-001-CD,10,80.00,USD,\n";

async fn post_json(s: &Server, path: &str, who: &Session, body: Value) -> Resp {
    s.post(path, who, "application/json", body.to_string().as_bytes())
        .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn close_refuse_reopen_audited() {
    let s = start(|_| {}).await;
    let bk = s.login("bookkeeper@alpha.test").await;
    let owner = s.login("owner@alpha.test").await;
    let staff = s.login("staff@alpha.test").await;

    // Staff may not close; the bookkeeper may.
    let r = post_json(
        &s,
        "/api/v1/t/alpha/books/close",
        &staff,
        json!({"month": "2016-05"}),
    )
    .await;
    assert_eq!(r.status, 403);
    let r = post_json(
        &s,
        "/api/v1/t/alpha/books/close",
        &bk,
        json!({"month": "2016-05"}),
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.json()["closed"], json!(["2016-05"]));
    assert_eq!(r.json()["recorded"], json!(true));
    let r = post_json(
        &s,
        "/api/v1/t/alpha/books/close",
        &bk,
        json!({"month": "2016-07"}),
    )
    .await;
    assert_eq!(r.status, 409, "{}", r.body);

    // An upload dated into May: the preview already says the import would be refused
    // (it runs the import's own checks), and nothing is recorded.
    let before = entries(&s).await;
    let p = s
        .post(
            "/api/v1/t/alpha/imports",
            &owner,
            &format!("multipart/form-data; boundary={BOUNDARY}"),
            &multipart(&[], Some(("statements.csv", MAY_STATEMENT.as_bytes()))),
        )
        .await;
    assert_eq!(p.status, 400, "{}", p.body);
    assert!(
        p.body.contains("in 2016-05, whose books are closed")
            && p.body.contains("books reopen 2016-05")
            && p.body.contains("the import would refuse this file"),
        "{}",
        p.body
    );
    assert_eq!(entries(&s).await, before);

    // Only the owner reopens, and only with a reason.
    let r = post_json(
        &s,
        "/api/v1/t/alpha/books/reopen",
        &bk,
        json!({"month": "2016-05", "reason": "x"}),
    )
    .await;
    assert_eq!(r.status, 403);
    let r = post_json(
        &s,
        "/api/v1/t/alpha/books/reopen",
        &owner,
        json!({"month": "2016-05"}),
    )
    .await;
    assert_eq!(r.status, 400, "{}", r.body);
    let r = post_json(
        &s,
        "/api/v1/t/alpha/books/reopen",
        &owner,
        json!({"month": "2016-05", "reason": "May statement arrived late"}),
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.json()["closed"], json!([]));

    // The page: what each role may do.
    let page = s.get("/t/alpha/books", Some(&owner)).await;
    assert_eq!(page.status, 200);
    for id in [
        "books-log",
        "close-form",
        "reopen-form",
        "export-form",
        "backup-download",
    ] {
        assert!(page.body.contains(&format!("id=\"{id}\"")), "owner: {id}");
    }
    let page = s.get("/t/alpha/books", Some(&bk)).await;
    assert!(page.body.contains("id=\"close-form\"") && !page.body.contains("id=\"reopen-form\""));
    assert!(!page.body.contains("id=\"backup-download\""));
    let page = s.get("/t/alpha/books", Some(&staff)).await;
    assert!(!page.body.contains("id=\"close-form\"") && page.body.contains("id=\"export-form\""));
    // The page's form closes too.
    let r = s
        .post_form(
            "/t/alpha/books/close",
            &bk,
            &[("month", "2016-04"), ("csrf", &bk.csrf)],
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert!(r.body.contains("Closed 2016-04"), "{}", r.body);

    let audit = s.get("/api/v1/t/alpha/audit", Some(&owner)).await;
    assert_eq!(
        audit.body.matches("books_closed").count(),
        2,
        "{}",
        audit.body
    );
    assert!(audit.body.contains("May statement arrived late"));
}
