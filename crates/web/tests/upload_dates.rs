//! Issue 18.13: uploads say which date format to use. Canonical files take ISO dates
//! (a file's dates are never read in a locale's order: 01/05/2016 is not guessed);
//! a date written as the label shows dates is named with its file, line, column and
//! value, and the value to write instead. The statement values typed on the upload
//! form (for mapped files) are taken as the label shows dates, or in ISO.

use crate::common;
use common::*;

async fn upload(s: &Server, who: &Session, name: &str, text: &str) -> Resp {
    s.post(
        "/t/alpha/import",
        who,
        &mp(),
        &multipart(&[], Some((name, text.as_bytes()))),
    )
    .await
}

const ORDERS: &str = "po_number,date,distributor,sku,units\n\
PO-2,31/05/2016,alphadist,ALP-001-CD,20\n\
PO-3,2016-05-31,alphadist,ALP-001-CD,20\n\
PO-4,05/31/2016,alphadist,ALP-001-CD,20\n";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_file_with_the_labels_display_dates_is_answered_with_the_format_to_use() {
    let s = start(|_| {}).await;
    s.control()
        .set_tenant_format("alpha", "en-GB", "USD")
        .await
        .unwrap();
    let owner = s.login("owner@alpha.test").await;

    // Said before the upload.
    let form = s.get("/t/alpha/import", Some(&owner)).await;
    assert!(
        form.body.contains(
            "Dates in canonical files are written YYYY-MM-DD (2016-12-31), not as this label shows them (DD/MM/YYYY, 31/12/2016)"
        ),
        "{}",
        form.body
    );
    assert!(
        form.body
            .contains(r#"placeholder="DD/MM/YYYY or YYYY-MM-DD""#),
        "{}",
        form.body
    );

    // And after: file, line, column, value, the format and the value to write.
    let n0 = entries(&s).await;
    let r = upload(&s, &owner, "orders.csv", ORDERS).await;
    assert_eq!(r.status, 422, "{}", r.body);
    let text = plain(&r.body);
    assert!(text.contains("id=\"upload-errors\""), "{text}");
    assert!(
        text.contains(
            "orders.csv:line 2, column 2 (date): found \"31/05/2016\", expected a date written YYYY-MM-DD, e.g. 2016-06-30 — files take dates as YYYY-MM-DD, not as this label shows them (DD/MM/YYYY): write 2016-05-31"
        ),
        "{text}"
    );
    // Another order is never guessed: 05/31/2016 is not a UK date.
    assert!(
        text.contains(
            "orders.csv:line 4, column 2 (date): found \"05/31/2016\", expected a date written YYYY-MM-DD, e.g. 2016-06-30 — files take dates as YYYY-MM-DD (2016-12-31); this label shows dates as DD/MM/YYYY (31/12/2016), and \"05/31/2016\" is not a date in that format either"
        ),
        "{text}"
    );
    assert!(!text.contains("line 3"), "the ISO line is fine: {text}");
    assert_eq!(entries(&s).await, n0, "nothing recorded");

    // The API says what the importer says, unchanged.
    let r = s
        .post(
            "/api/v1/t/alpha/imports",
            &owner,
            &mp(),
            &multipart(&[], Some(("orders.csv", ORDERS.as_bytes()))),
        )
        .await;
    assert_eq!(r.status, 400, "{}", r.body);
    let errors = r.body;
    assert!(errors.contains("31/05/2016"), "{errors}");
    assert!(!errors.contains("files take dates"), "{errors}");

    // A US label: the same value in its own order is explained the same way.
    s.control()
        .set_tenant_format("alpha", "en-US", "USD")
        .await
        .unwrap();
    let r = upload(&s, &owner, "orders.csv", ORDERS).await;
    let text = plain(&r.body);
    assert!(
        text.contains("found \"05/31/2016\", expected a date written YYYY-MM-DD, e.g. 2016-06-30 — files take dates as YYYY-MM-DD, not as this label shows them (MM/DD/YYYY): write 2016-05-31"),
        "{text}"
    );
    assert!(
        text.contains("\"31/05/2016\" is not a date in that format either"),
        "{text}"
    );
}

/// Northwind's own layout (the mappings test's): the issue date is given at import.
const NORTHWIND: &str = "Statement No:,NW-2016-03\n\
Statement Period:,03/01/2016 - 03/31/2016\n\
Currency:,USD\n\
\n\
UPC,Title,Type,Units,Net $\n\
859712000019,Harbor Lights,Sale,10,80.00\n\
859712000019,Harbor Lights,Return,1,8.00\n\
TOTAL,,,9,72.00\n";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn statement_values_are_typed_as_the_label_shows_dates() {
    let s = start(|_| {}).await;
    s.control()
        .set_tenant_format("alpha", "en-GB", "USD")
        .await
        .unwrap();
    let bk = s.login("bookkeeper@alpha.test").await;
    // A mapping of Northwind's layout, its issue date given at import.
    let r = s
        .post(
            "/t/alpha/mappings/preview",
            &bk,
            &mp(),
            &multipart(&[], Some(("nw.csv", NORTHWIND.as_bytes()))),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    let i = r.body.find("name=\"sample\" value=\"").expect("sample") + 21;
    let sample = r.body[i..i + r.body[i..].find('"').unwrap()].to_string();
    let r = s
        .post(
            "/t/alpha/mappings",
            &bk,
            &mp(),
            &multipart(&[("sample", &sample), ("name", "northwind-csv")], None),
        )
        .await;
    assert!(r.body.contains("Saved mapping northwind-csv"), "{}", r.body);

    let import = |issued: &'static str, file: &'static str| {
        let s = &s;
        let bk = &bk;
        async move {
            s.post(
                "/t/alpha/import",
                bk,
                &mp(),
                &multipart(
                    &[
                        ("mapping", "northwind-csv"),
                        ("distributor", "northwind"),
                        ("issued_on", issued),
                    ],
                    Some(("nw-march.csv", file.as_bytes())),
                ),
            )
            .await
        }
    };
    // 05/04/2016 on a UK label is the 5th of April.
    let r = import("05/04/2016", NORTHWIND).await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert!(!r.body.contains("upload-errors"), "{}", r.body);
    // Confirmed, the statement is recorded issued on 2016-04-05.
    let c = r
        .body
        .split("action=\"")
        .find(|x| x.contains("/confirm\""))
        .expect("a confirm form");
    let confirm = c[..c.find('"').unwrap()].to_string();
    let n0 = entries(&s).await;
    let r = s.post_form(&confirm, &bk, &[]).await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(entries(&s).await, n0 + 1);
    let store = backstock_store::Store::open(&s.control().label_dir("alpha"), false)
        .await
        .unwrap();
    let (_, e, _) = store
        .entry("statement:northwind:NW-2016-03")
        .await
        .unwrap()
        .expect("the statement");
    let json = serde_json::to_string(&e).unwrap();
    assert!(json.contains("\"issued_on\":\"2016-04-05\""), "{json}");
    // Another order is refused, never read as a US date (April's file).
    let april: &'static str = Box::leak(
        NORTHWIND
            .replace("NW-2016-03", "NW-2016-04")
            .into_boxed_str(),
    );
    let r = import("04/31/2016", april).await;
    assert!(r.body.contains("upload-errors"), "{}", r.body);
    assert!(plain(&r.body).contains("04/31/2016"), "{}", r.body);
    assert_eq!(entries(&s).await, n0 + 1, "nothing more recorded");
}
