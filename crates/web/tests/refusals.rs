//! Issue 18.5: a refused shipment is answered on the distributor's page, in the app's
//! own words, with the form as it was typed and an override button; a mistyped SKU is
//! "unknown SKU", not a credit hold.

use crate::common;
use common::*;

const SHIP: &str = "/t/alpha/distributors/alphadist/shipments";

/// The value of the input with this id, as the page pre-fills it.
fn value_of(html: &str, id: &str) -> Option<String> {
    let at = html.find(&format!("id=\"{id}\""))?;
    let tag_end = at + html[at..].find('>')?;
    let tag_start = html[..at].rfind('<')?;
    let tag = &html[tag_start..tag_end];
    let v = tag.find("value=\"")? + "value=\"".len();
    Some(tag[v..v + tag[v..].find('"')?].to_string())
}

/// The refusal box.
fn refusal(html: &str) -> &str {
    let at = html.find("id=\"ship-refused\"").expect("a refusal");
    &html[at..at + html[at..].find("</div>").unwrap()]
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_credit_hold_is_said_on_the_page_with_the_form_kept_and_an_override_button() {
    let s = start(|_| {}).await;
    let staff = s.login("staff@alpha.test").await;
    // alphadist has no UCC-1 on file while the label retains title: a credit hold.
    let r = s
        .post_form(
            SHIP,
            &staff,
            &[("sku", "ALP-001-CD"), ("units", "7"), ("po", "PO-7")],
        )
        .await;
    assert_eq!(r.status, 409, "{}", r.body);
    let b = &r.body;
    assert!(b.contains("id=\"ship-refused\""), "{b}");
    assert!(!b.contains("--override"), "no command-line words: {b}");
    assert!(!b.contains("<pre"), "no monospace dump: {b}");
    assert!(
        b.contains("Not shipped: 7 units of ALP-001-CD to alphadist are on credit hold"),
        "{b}"
    );
    assert!(b.contains("UCC-1"), "the reason in a sentence: {b}");
    // The page is the distributor's, with its navigation and the form as typed.
    assert!(b.contains("id=\"nav-dashboard\""), "{b}");
    assert!(b.contains("id=\"ship-form\""), "{b}");
    assert_eq!(value_of(b, "ship-sku").as_deref(), Some("ALP-001-CD"));
    assert_eq!(value_of(b, "ship-units").as_deref(), Some("7"));
    assert_eq!(value_of(b, "ship-po").as_deref(), Some("PO-7"));
    // An override button with its reason field.
    assert!(b.contains("id=\"ship-override-form\""), "{b}");
    assert!(b.contains("id=\"ship-override-reason\""), "{b}");
    assert!(b.contains("id=\"ship-override-submit\""), "{b}");
    let log = s.control().audit_log("alpha", 50).await.unwrap();
    assert!(
        log.iter().any(|a| a.action == "shipment_refused"),
        "refusals are audited: {log:?}"
    );

    // The override form ships, with the reason recorded.
    let r = s
        .post_form(
            SHIP,
            &staff,
            &[
                ("sku", "ALP-001-CD"),
                ("units", "7"),
                ("po", "PO-7"),
                ("override", "UCC-1 filed this morning"),
            ],
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert!(r.body.contains("id=\"ship-result\""));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_mistyped_sku_is_an_unknown_sku_not_a_credit_hold() {
    let s = start(|_| {}).await;
    let staff = s.login("staff@alpha.test").await;
    let r = s
        .post_form(SHIP, &staff, &[("sku", "ALP-01-CD"), ("units", "3")])
        .await;
    assert_eq!(r.status, 400, "{}", r.body);
    let b = &r.body;
    assert!(b.contains("id=\"ship-refused\""), "{b}");
    assert!(b.contains("unknown SKU ALP-01-CD"), "{b}");
    assert!(!refusal(b).contains("credit hold"), "{b}");
    assert!(
        !b.contains("ship-override-form"),
        "nothing to override: {b}"
    );
    assert_eq!(value_of(b, "ship-sku").as_deref(), Some("ALP-01-CD"));
    assert_eq!(value_of(b, "ship-units").as_deref(), Some("3"));
    // Even with an override: an unknown SKU is not shipped.
    let r = s
        .post_form(
            SHIP,
            &staff,
            &[("sku", "ALP-01-CD"), ("units", "3"), ("override", "rush")],
        )
        .await;
    assert_eq!(r.status, 400, "{}", r.body);
    assert!(r.body.contains("unknown SKU ALP-01-CD"), "{}", r.body);
    // Units that are not a number: said on the page too.
    let r = s
        .post_form(SHIP, &staff, &[("sku", "ALP-001-CD"), ("units", "seven")])
        .await;
    assert_eq!(r.status, 400, "{}", r.body);
    assert!(r.body.contains("id=\"ship-refused\""), "{}", r.body);
    assert!(!r.body.contains("--units"), "{}", r.body);
    // The API says it in JSON.
    let r = s
        .post(
            "/api/v1/t/alpha/distributors/alphadist/shipments",
            &staff,
            "application/json",
            br#"{"sku":"ALP-01-CD","units":3}"#,
        )
        .await;
    assert_eq!(
        (r.status, r.error_code().as_str()),
        (400, "invalid_input"),
        "{}",
        r.body
    );
    assert!(r.body.contains("unknown SKU ALP-01-CD"), "{}", r.body);
    let r = s
        .post(
            "/api/v1/t/alpha/distributors/alphadist/shipments",
            &staff,
            "application/json",
            br#"{"sku":"ALP-001-CD","units":3}"#,
        )
        .await;
    assert_eq!(r.status, 409, "{}", r.body);
    assert!(!r.body.contains("--override"), "{}", r.body);
    assert!(r.body.contains("not_perfected"), "{}", r.body);
}
