//! Issue 18.9: one format for dates and money per label locale — in sentences the
//! lower crates write (risk reasons, warnings, refusals, the audit log), not only in
//! tables — while CSV downloads and the API keep what the crates wrote.

use crate::common;
use common::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sentences_and_the_audit_log_are_in_the_labels_formats() {
    let s = start(|_| {}).await;
    s.control()
        .set_tenant_format("alpha", "en-GB", "USD")
        .await
        .unwrap();
    let owner = s.login("owner@alpha.test").await;

    // The risk reason on the dashboard, as a UK label writes dates.
    let dash = s.get("/t/alpha/dashboard", Some(&owner)).await;
    assert_eq!(dash.status, 200, "{}", dash.body);
    let uk = "3 statements missing (periods ending 29/02/2016, 31/03/2016, 30/04/2016)";
    assert!(dash.body.contains(uk), "{}", dash.body);
    assert!(!dash.body.contains("2016-02-29,"), "{}", dash.body);
    // Its CSV keeps the sentence as the risk crate wrote it.
    let csv = s
        .get("/t/alpha/dashboard?format=csv&table=risk", Some(&owner))
        .await;
    assert!(
        csv.body
            .contains("periods ending 2016-02-29, 2016-03-31, 2016-04-30"),
        "{}",
        csv.body
    );

    // The distributor's page: its signals and the UCC-1 warnings.
    let page = s.get("/t/alpha/distributors/alphadist", Some(&owner)).await;
    assert!(page.body.contains(uk), "{}", page.body);
    assert!(
        page.body.contains("reached alphadist on 01/02/2016 while"),
        "{}",
        page.body
    );
    // The API is a promise to other tools: unchanged.
    let api = s
        .get("/api/v1/t/alpha/distributors/alphadist", Some(&owner))
        .await;
    assert!(
        api.body
            .contains("periods ending 2016-02-29, 2016-03-31, 2016-04-30"),
        "{}",
        api.body
    );

    // The audit log: what a lower crate wrote, in the label's dates and money; ids
    // and the CSV as recorded.
    s.control()
        .audit(
            Some("alpha"),
            "owner@alpha.test",
            "payout_recorded",
            "june-okafor 1234.50 USD on 2016-06-30 (payout:june-okafor:2016-06-30)",
            "127.0.0.1",
        )
        .await
        .unwrap();
    let audit = s.get("/t/alpha/audit", Some(&owner)).await;
    assert!(
        audit
            .body
            .contains("june-okafor $1,234.50 on 30/06/2016 (payout:june-okafor:2016-06-30)"),
        "{}",
        audit.body
    );
    let csv = s
        .get("/t/alpha/audit?format=csv&table=audit", Some(&owner))
        .await;
    assert!(
        csv.body
            .contains("june-okafor 1234.50 USD on 2016-06-30 (payout:june-okafor:2016-06-30)"),
        "{}",
        csv.body
    );

    // A German label: the same sentences with its dates and money.
    s.control()
        .set_tenant_format("alpha", "de-DE", "USD")
        .await
        .unwrap();
    let audit = s.get("/t/alpha/audit", Some(&owner)).await;
    assert!(
        audit
            .body
            .contains("june-okafor 1.234,50\u{a0}$ on 30.06.2016 (payout:june-okafor:2016-06-30)"),
        "{}",
        audit.body
    );
}

/// The import's preview and result, in the label's money, their columns kept.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_import_preview_is_in_the_labels_money() {
    let s = start(|_| {}).await;
    s.control()
        .set_tenant_format("alpha", "de-DE", "USD")
        .await
        .unwrap();
    let owner = s.login("owner@alpha.test").await;
    let r = s
        .post(
            "/t/alpha/import",
            &owner,
            &format!("multipart/form-data; boundary={BOUNDARY}"),
            &multipart(&[], Some(("st.csv", ALPHA_STATEMENT.as_bytes()))),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    let pre = r
        .body
        .split("id=\"upload-preview\"")
        .nth(1)
        .expect("preview");
    let pre = &pre[..pre.find("</pre>").unwrap()];
    assert!(pre.contains("total 320,00\u{a0}$"), "{pre}");
    assert!(!pre.contains("USD"), "{pre}");
    let c = r
        .body
        .split("action=\"")
        .find(|x| x.contains("/confirm\""))
        .expect("a confirm form");
    let confirm = c[..c.find('"').unwrap()].to_string();
    let r = s.post_form(&confirm, &owner, &[]).await;
    assert!(r.body.contains("total 320,00\u{a0}$"), "{}", r.body);
    // The API's preview is the importer's text.
    let api = s
        .post(
            "/api/v1/t/alpha/imports",
            &owner,
            &format!("multipart/form-data; boundary={BOUNDARY}"),
            &multipart(
                &[],
                Some((
                    "st2.csv",
                    ALPHA_STATEMENT
                        .replace("ST-ALPHA-1", "ST-ALPHA-9")
                        .as_bytes(),
                )),
            ),
        )
        .await;
    assert!(
        api.json()["report"]
            .as_str()
            .unwrap_or("")
            .contains("320.00 USD"),
        "{}",
        api.body
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn forms_take_dates_as_the_label_writes_them() {
    let s = start(|_| {}).await;
    s.control()
        .set_tenant_format("alpha", "en-GB", "USD")
        .await
        .unwrap();
    let owner = s.login("owner@alpha.test").await;
    let pay = |date: &'static str, reference: &'static str| {
        [
            ("distributor", "alphadist"),
            ("amount", "12.00"),
            ("date", date),
            ("reference", reference),
        ]
    };
    // 15/06/2016 is how a UK label writes the 15th of June: taken.
    let mut f = vec![("csrf", owner.csrf.as_str())];
    f.extend(pay("15/06/2016", "W-UK"));
    let r = s.post_form("/t/alpha/record/payment", &owner, &f).await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert!(
        plain(&r.body)
            .contains("Recorded a payment of $12.00 received from alphadist on 15/06/2016"),
        "{}",
        r.body
    );
    // 06/15/2016 is not a date in the label's format: one sentence naming both ways,
    // the form kept as typed.
    let mut f = vec![("csrf", owner.csrf.as_str())];
    f.extend(pay("06/15/2016", "W-US"));
    let r = s.post_form("/t/alpha/record/payment", &owner, &f).await;
    assert_eq!(r.status, 400, "{}", r.body);
    let text = plain(&r.body);
    assert!(
        text.contains("date: found \"06/15/2016\", expected a date written DD/MM/YYYY (as this label shows dates) or YYYY-MM-DD"),
        "{text}"
    );
    assert!(r.body.contains(r#"value="06/15/2016""#), "{}", r.body);
    // The API takes ISO dates only.
    let a = s
        .post(
            "/api/v1/t/alpha/payments",
            &owner,
            "application/json",
            br#"{"distributor":"alphadist","amount":"1.00","date":"15/06/2016","reference":"W-API"}"#,
        )
        .await;
    assert_eq!(a.status, 400, "{}", a.body);
}
