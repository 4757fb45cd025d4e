//! A distributor's failure over HTTP: recorded by owner and staff (API and form),
//! read by the books roles; from then on in default (critical, shipping refused), its
//! deadlines on the distributor page, the dashboard and the API; documents uploaded;
//! the claim pack downloaded as a zip; the "has failed" page; every action audited.

use crate::common;

use common::*;
use serde_json::{json, Value};

async fn post_json(s: &Server, path: &str, who: &Session, body: Value) -> Resp {
    s.post(path, who, "application/json", body.to_string().as_bytes())
        .await
}

const API: &str = "/api/v1/t/alpha/distributors/alphadist/insolvency";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failure_is_recorded_shown_with_its_deadlines_and_packed() {
    let s = start(|_| {}).await;
    let owner = s.login("owner@alpha.test").await;
    let book = s.login("bookkeeper@alpha.test").await;
    let staff = s.login("staff@alpha.test").await;

    // Nothing on record yet; the bookkeeper may read but not record.
    assert_eq!(s.get(API, Some(&book)).await.status, 404);
    let r = post_json(
        &s,
        API,
        &book,
        json!({"kind": "liquidation", "on": "2016-06-03"}),
    )
    .await;
    assert_eq!((r.status, r.error_code().as_str()), (403, "forbidden"));
    let page = s.get("/t/alpha/distributors/alphadist", Some(&book)).await;
    assert_eq!(page.status, 200, "{}", page.body);
    assert!(page.body.contains("id=\"failure\"") && !page.body.contains("insolvency-form"));

    // The owner records it through the API; the same again records nothing.
    let body = json!({
        "kind": "liquidation",
        "on": "2016-06-03",
        "case": "out-of-court liquidation for the secured lender",
        "contact": "lender's counsel",
    });
    let r = post_json(&s, API, &owner, body.clone()).await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.json()["recorded"], true);
    let deadlines = r.json()["report"]["deadlines"].clone();
    let reclaim = deadlines
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["code"] == "reclamation_demand")
        .unwrap()
        .clone();
    assert_eq!(reclaim["due_on"], "2016-06-23");
    assert_eq!(reclaim["source"], "UCC 2-702; 11 U.S.C. §546(c)");
    let r = post_json(&s, API, &owner, body).await;
    assert_eq!(
        (r.status, r.json()["recorded"].clone()),
        (200, json!(false))
    );
    let r = post_json(
        &s,
        API,
        &owner,
        json!({"kind": "chapter 7", "on": "2016-06-03"}),
    )
    .await;
    assert_eq!((r.status, r.error_code().as_str()), (400, "invalid_input"));

    // In default: the insolvent signal, and shipping is refused.
    let d = s
        .get("/api/v1/t/alpha/distributors/alphadist", Some(&book))
        .await;
    assert_eq!(d.status, 200);
    assert!(d.body.contains("insolvent"), "{}", d.body);
    let ship = post_json(
        &s,
        "/api/v1/t/alpha/distributors/alphadist/shipments",
        &owner,
        json!({"sku": "ALP-001-CD", "units": 1}),
    )
    .await;
    assert_eq!(ship.status, 409, "{}", ship.body);

    // The deadlines for the books roles, page and API.
    let g = s.get(API, Some(&book)).await;
    assert_eq!(g.status, 200, "{}", g.body);
    assert!(g.json()["not_legal_advice"].is_string());
    let page = s.get("/t/alpha/distributors/alphadist", Some(&book)).await;
    assert!(
        page.body.contains("id=\"table-deadlines\"") && page.body.contains("06/23/2016"),
        "{}: {}",
        page.status,
        page.body
    );
    let dash = s.get("/t/alpha/dashboard", Some(&book)).await;
    assert!(dash.body.contains("id=\"failures\""), "{}", dash.body);

    // Staff update it through the form (with a claims bar date).
    let page = s.get("/t/alpha/distributors/alphadist", Some(&staff)).await;
    assert!(
        page.body.contains("id=\"insolvency-form\"") && page.body.contains("id=\"document-form\"")
    );
    let fields = [
        ("kind", "liquidation"),
        ("on", "2016-06-03"),
        ("claims_bar_date", "2016-09-30"),
        ("case", "out-of-court liquidation for the secured lender"),
    ];
    let mut with = fields.to_vec();
    with.push(("csrf", &staff.csrf));
    let r = s
        .post_form("/t/alpha/distributors/alphadist/insolvency", &staff, &with)
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert!(r.body.contains("id=\"insolvency-result\"") && r.body.contains("Recorded"));
    let g = s.get(API, Some(&book)).await;
    assert_eq!(
        g.json()["report"]["insolvency"]["claims_bar_date"],
        "2016-09-30"
    );

    // A document uploaded, then in the zip.
    let up = s
        .post(
            "/api/v1/t/alpha/distributors/alphadist/documents",
            &owner,
            &format!("multipart/form-data; boundary={BOUNDARY}"),
            &multipart(
                &[("kind", "agreement")],
                Some(("agreement-2012.txt", b"Title stays with the label.\n")),
            ),
        )
        .await;
    assert_eq!(up.status, 200, "{}", up.body);
    assert_eq!(up.json()["recorded"], true);
    let zip = s
        .get(
            "/t/alpha/distributors/alphadist/claim-pack.zip",
            Some(&book),
        )
        .await;
    assert_eq!(zip.status, 200, "{}", zip.body);
    assert_eq!(zip.header("content-type"), Some("application/zip"));
    assert!(zip.body.starts_with("PK"));
    for f in [
        "claim.pdf",
        "stock_schedule.csv",
        "MANIFEST.sha256",
        "documents/agreement-2012.txt",
        "Title stays with the label.",
    ] {
        assert!(zip.body.contains(f), "{f} not in the zip");
    }
    let api_zip = s
        .get(
            "/api/v1/t/alpha/distributors/alphadist/claim-pack.zip?as_of=2016-06-03",
            Some(&book),
        )
        .await;
    assert_eq!(api_zip.status, 200);

    // The steps in order.
    let failed = s
        .get("/t/alpha/distributors/alphadist/failed", Some(&book))
        .await;
    assert_eq!(failed.status, 200, "{}", failed.body);
    let b = &failed.body;
    let at = |x: &str| b.find(x).unwrap_or_else(|| panic!("{x} not on the page"));
    assert!(b.contains("id=\"failed-steps\""));
    assert!(at("Record the event") < at("Send the demands"));
    assert!(at("Send the demands") < at("File the claim"));
    assert!(at("File the claim") < at("Tell the artists"));
    assert!(b.contains("09/30/2016"));

    // A liquidator's offer weighed on that page and in the API; nothing recorded.
    let n = backstock_store::Store::open(&s.control().label_dir("alpha"), false)
        .await
        .unwrap()
        .entry_count()
        .await
        .unwrap();
    let offer = s
        .get(
            "/t/alpha/distributors/alphadist/failed?offer_per_unit=1.00&shipping=20.00",
            Some(&book),
        )
        .await;
    assert_eq!(offer.status, 200, "{}", offer.body);
    assert!(offer.body.contains("id=\"table-offer\"") && offer.body.contains("ALP-001-CD"));
    let api = s
        .get(
            "/api/v1/t/alpha/distributors/alphadist/buyback-offer?offer_per_unit=1.00&shipping=20.00",
            Some(&book),
        )
        .await;
    assert_eq!(api.status, 200, "{}", api.body);
    let x = api.json();
    assert_eq!(x["units"], 200);
    assert_eq!(x["cost"]["amount_minor"], 200 * 100 + 2000);
    assert_eq!(
        s.get(
            "/api/v1/t/alpha/distributors/alphadist/buyback-offer",
            Some(&book)
        )
        .await
        .status,
        400
    );
    let after = backstock_store::Store::open(&s.control().label_dir("alpha"), false)
        .await
        .unwrap()
        .entry_count()
        .await
        .unwrap();
    assert_eq!(after, n);

    // Audited, with who did it.
    let log = s.control().audit_log("alpha", 100).await.unwrap();
    let by = |action: &str, who: &str| log.iter().any(|a| a.action == action && a.actor == who);
    assert!(by("insolvency_recorded", "owner@alpha.test"));
    assert!(by("insolvency_recorded", "staff@alpha.test"));
    assert!(by("document_attached", "owner@alpha.test"));
    assert!(by("claim_pack_downloaded", "bookkeeper@alpha.test"));
}

/// The text of an HTML page without its tags and attributes (form values are ISO).
fn text_of(html: &str) -> String {
    let mut out = String::new();
    let mut in_tag = false;
    for c in html.chars() {
        match c {
            '<' => in_tag = true,
            '>' => {
                in_tag = false;
                out.push(' ');
            }
            c if !in_tag => out.push(c),
            _ => {}
        }
    }
    plain(&out)
}

/// Issue 18.9: the failure's section on the distributor page, its "has failed" page and
/// the dashboard's next steps in the label's formats: dates, money, grouped units.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failure_is_shown_in_the_labels_formats() {
    let s = start_demo().await;
    let owner = s.login("owner@marigold.test").await;
    for path in [
        "/t/marigold/distributors/cascade",
        "/t/marigold/distributors/cascade/failed",
        "/t/marigold/dashboard",
    ] {
        let r = s.get(path, Some(&owner)).await;
        assert_eq!(r.status, 200, "{path}: {}", r.body);
        let text = text_of(&r.body);
        for iso in [
            "owed 9125.17 USD",
            "1949 units",
            "3691.60 USD",
            "on 2016-06-03",
        ] {
            assert!(!text.contains(iso), "{path}: {iso} in {text}");
        }
        // No ISO date anywhere in what is read (forms keep ISO in their values).
        let b = text.as_bytes();
        for i in 0..b.len().saturating_sub(10) {
            let w = String::from_utf8_lossy(&b[i..i + 10]);
            let iso = b[i..i + 10].iter().enumerate().all(|(k, c)| {
                if k == 4 || k == 7 {
                    *c == b'-'
                } else {
                    c.is_ascii_digit()
                }
            });
            assert!(!iso || !w.starts_with("20"), "{path}: {w} in {text}");
        }
    }
    let page = text_of(
        &s.get("/t/marigold/distributors/cascade", Some(&owner))
            .await
            .body,
    );
    assert!(page.contains("1,949 units: $3,691.60 at cost"), "{page}");
    assert!(page.contains("06/03/2016"), "{page}");
    let dash = text_of(&s.get("/t/marigold/dashboard", Some(&owner)).await.body);
    assert!(dash.contains("1,949 units"), "{dash}");
}
