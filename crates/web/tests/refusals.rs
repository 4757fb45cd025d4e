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

/// A previewed import that the ledger refuses when confirmed (here a shipment of more
/// units than the label holds, previewed before another file took the stock) comes
/// back on the upload page with the navigation, a sentence in the app's words with the
/// label's dates, and nothing recorded.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_import_the_ledger_refuses_at_the_confirm_is_said_on_the_upload_page() {
    let s = start(|_| {}).await;
    s.control()
        .set_tenant_format("alpha", "en-GB", "USD")
        .await
        .unwrap();
    let owner = s.login("owner@alpha.test").await;
    let upload = |text: &'static str| {
        let body = multipart(&[], Some(("ship.csv", text.as_bytes())));
        let owner = owner.clone();
        let s = &s;
        async move { s.post("/t/alpha/import", &owner, &mp(), &body).await }
    };
    let confirm_path = |html: &str| {
        let c = html
            .split("action=\"")
            .find(|x| x.contains("/confirm\""))
            .unwrap_or_else(|| panic!("a confirm form: {html}"));
        c[..c.find('"').unwrap()].to_string()
    };
    // The label holds 300 of ALP-001-CD: two files of 200 each preview fine.
    let a = upload("shipment_id,date,from,to,sku,units,po_number\nS8,2016-06-01,label,northwind,ALP-001-CD,200,\n").await;
    assert_eq!(a.status, 200, "{}", a.body);
    let b = upload("shipment_id,date,from,to,sku,units,po_number\nS9,2016-06-02,label,northwind,ALP-001-CD,200,\n").await;
    assert_eq!(b.status, 200, "{}", b.body);
    let r = s.post_form(&confirm_path(&a.body), &owner, &[]).await;
    assert_eq!(r.status, 200, "{}", r.body);
    let n0 = entries(&s).await;
    let r = s.post_form(&confirm_path(&b.body), &owner, &[]).await;
    assert_eq!(r.status, 409, "{}", r.body);
    assert_eq!(entries(&s).await, n0, "nothing recorded");
    let b = plain(&r.body);
    // The upload page again, with the navigation and the form.
    assert!(b.contains("id=\"nav-dashboard\""), "{b}");
    assert!(b.contains("id=\"upload-form\""), "{b}");
    assert!(!b.contains("<h1>Refused</h1>"), "{b}");
    let at = b.find("id=\"import-refused\"").expect("the refusal");
    let said = &b[at..at + b[at..].find("</div>").unwrap()];
    assert!(
        said.contains(
            "Nothing was recorded from ship.csv: shipment S9 on 02/06/2016 takes 200 units of ALP-001-CD from the label's own warehouse, which holds only 100 of them on that day."
        ),
        "{said}"
    );
    // Not the command line's words, nor an ISO date.
    for cli in [
        "2016-06-02",
        "entry shipment:",
        "plant:NAME",
        "docs/formats.md",
        "needs 200",
    ] {
        assert!(!said.contains(cli), "{cli}: {said}");
    }
}

/// The element with this id, up to its closing `</{tag}>`.
fn element<'a>(html: &'a str, id: &str, tag: &str) -> Option<&'a str> {
    let at = html.find(&format!("id=\"{id}\""))?;
    let end = at + html[at..].find(&format!("</{tag}>"))?;
    Some(&html[at..end])
}

/// Issue 18.12: the distributor page says, above the Ship form, that shipments to it
/// are on credit hold (with the reasons) and, at alert or above, the dashboard's
/// ordered steps — the same list, for that distributor only.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_distributor_page_warns_before_ship_is_pressed() {
    let s = start(|_| {}).await;
    let staff = s.login("staff@alpha.test").await;
    let page = s.get("/t/alpha/distributors/alphadist", Some(&staff)).await;
    assert_eq!(page.status, 200, "{}", page.body);
    let b = &page.body;
    let hold = element(b, "hold-alphadist", "p").expect("the credit hold banner");
    assert!(hold.contains("are on credit hold"), "{hold}");
    assert!(hold.contains("UCC-1"), "the reason: {hold}");
    assert!(
        b.find("id=\"hold-alphadist\"").unwrap() < b.find("id=\"ship-form\"").unwrap(),
        "before the Ship button"
    );
    assert!(
        !b.contains("id=\"hold-northwind\""),
        "only this distributor's"
    );

    // The demo's failed distributor: the dashboard's steps, in its order.
    let s = start_demo().await;
    let owner = s.login("owner@marigold.test").await;
    let dash = s.get("/t/marigold/dashboard", Some(&owner)).await;
    let page = s
        .get("/t/marigold/distributors/cascade", Some(&owner))
        .await;
    assert_eq!(page.status, 200, "{}", page.body);
    let steps = element(&page.body, "steps-cascade", "ol").expect("the steps on the page");
    assert_eq!(
        Some(steps),
        element(&dash.body, "steps-cascade", "ol"),
        "the same list as the dashboard's"
    );
    assert!(steps.contains("data-step=\"claim_pack\""), "{steps}");
    assert!(
        page.body.find("id=\"steps-cascade\"").unwrap()
            < page.body.find("id=\"ship-form\"").unwrap()
    );
    let other = s
        .get("/t/marigold/distributors/northwind", Some(&owner))
        .await;
    assert!(!other.body.contains("id=\"steps-cascade\""));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refused_form_comes_back_on_its_page_as_typed() {
    let s = start(|_| {}).await;
    let owner = s.login("owner@alpha.test").await;
    let body = form(&[
        ("csrf", owner.csrf.as_str()),
        ("distributor", "alphadist"),
        ("amount", "abc"),
        ("reason", "bad debt"),
    ]);
    let referer = |r: &str| {
        vec![
            ("Cookie", format!("bs_session={}", owner.sid)),
            ("x-csrf-token", owner.csrf.clone()),
            (
                "Content-Type",
                "application/x-www-form-urlencoded".to_string(),
            ),
            ("Referer", r.to_string()),
        ]
    };
    let r = request(
        s.addr,
        "POST",
        "/t/alpha/distributors/alphadist/write-offs",
        &referer(&format!("http://{}/t/alpha/deductions", s.addr)),
        &body,
    )
    .await;
    assert_eq!(r.status, 400, "{}", r.body);
    // The deductions page again, the write-off form as typed, why at the top and at
    // the form, and nothing recorded.
    let form_of = |body: &str| {
        let at = body
            .find(r#"id="writeoff-form-alphadist""#)
            .unwrap_or_else(|| panic!("the write-off form: {body}"));
        let form = &body[at..];
        form[..form.find("</form>").unwrap()].to_string()
    };
    let refilled = form_of(&r.body);
    assert!(r.body.contains("<h1>Deductions</h1>"), "{}", r.body);
    assert!(r.body.contains(r#"id="error-message""#), "{}", r.body);
    assert!(refilled.contains(r#"value="abc""#), "{refilled}");
    assert!(refilled.contains(r#"value="bad debt""#), "{refilled}");
    assert!(
        refilled.contains(r#"id="refused-form-error""#),
        "{refilled}"
    );
    assert!(
        refilled.contains(r#"name="_from" value="/t/alpha/deductions""#),
        "{refilled}"
    );
    // Sent again from the refilled form (the browser's address is now the form's
    // action, so the Referer is no page): refused again, the same page, as typed.
    let again = form(&[
        ("csrf", owner.csrf.as_str()),
        ("statement_id", ""),
        ("amount", "12x"),
        ("reason", "still bad"),
        ("_from", "/t/alpha/deductions"),
    ]);
    let r2 = request(
        s.addr,
        "POST",
        "/t/alpha/distributors/alphadist/write-offs",
        &referer(&format!(
            "http://{}/t/alpha/distributors/alphadist/write-offs",
            s.addr
        )),
        &again,
    )
    .await;
    assert_eq!(r2.status, 400, "{}", r2.body);
    let refilled = form_of(&r2.body);
    assert!(
        refilled.contains(r#"value="12x""#) && refilled.contains(r#"value="still bad""#),
        "{refilled}"
    );
    // Another site's page is never linked nor rendered.
    let r = request(
        s.addr,
        "POST",
        "/t/alpha/distributors/alphadist/write-offs",
        &referer("http://elsewhere.example/t/alpha/deductions"),
        &body,
    )
    .await;
    assert!(!r.body.contains("error-back"), "{}", r.body);
    assert!(!r.body.contains("writeoff-form"), "{}", r.body);
    // A page without the form: the error page, linking back to it.
    let r = request(
        s.addr,
        "POST",
        "/t/alpha/distributors/alphadist/write-offs",
        &referer(&format!("http://{}/t/alpha/shipments", s.addr)),
        &body,
    )
    .await;
    assert_eq!(r.status, 400, "{}", r.body);
    assert!(
        r.body
            .contains(r#"id="error-back" href="/t/alpha/shipments""#),
        "{}",
        r.body
    );

    // An invitation refused: the members page, the address and the role as chosen.
    let r = request(
        s.addr,
        "POST",
        "/t/alpha/invitations",
        &referer(&format!("http://{}/t/alpha/users", s.addr)),
        &form(&[
            ("csrf", owner.csrf.as_str()),
            ("email", "new.artist@example.test"),
            ("role", "artist"),
            ("party", ""),
        ]),
    )
    .await;
    assert_eq!(r.status, 400, "{}", r.body);
    let at = r.body.find(r#"id="link-invite-form""#).expect("the form");
    let invite = &r.body[at..];
    let invite = &invite[..invite.find("</form>").unwrap()];
    assert!(
        invite.contains(r#"value="new.artist@example.test""#),
        "{invite}"
    );
    assert!(invite.contains(r#"value="artist" selected"#), "{invite}");
    assert!(invite.contains("limited to one"), "{invite}");
    assert_eq!(
        s.control()
            .pending_invitations("alpha")
            .await
            .map(|v| v.len())
            .unwrap_or(0),
        0
    );

    // The thresholds page keeps all its fields as typed, with why it was refused.
    let r = s
        .post_form(
            "/t/alpha/thresholds",
            &owner,
            &[
                ("csrf", owner.csrf.as_str()),
                ("arrears_grace_days", "-1"),
                ("payments_stopped_days", "50"),
            ],
        )
        .await;
    assert_eq!(r.status, 400, "{}", r.body);
    assert!(r.body.contains(r#"id="thresholds-error""#), "{}", r.body);
    assert!(
        r.body.contains(r#"value="-1""#) && r.body.contains(r#"value="50""#),
        "{}",
        r.body
    );
}
