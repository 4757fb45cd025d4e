//! The daily actions as forms and API routes (crates/web/src/actions.rs): each one
//! recorded and visible in the read views and the audit log; a bad value shows the form
//! again as typed, with the importer's own message; a role without the permission gets
//! 403; a payment moves the receivables by exactly its amount.

use crate::common;
use common::*;

async fn store(s: &Server) -> backstock_store::Store {
    backstock_store::Store::open(&s.state.control.label_dir("alpha"), false)
        .await
        .unwrap()
}

/// Imports alpha's statement (net due 320.00 from alphadist).
async fn with_statement(s: &Server) {
    let st = store(s).await;
    let tmp = tempfile::tempdir().unwrap();
    let p = tmp.path().join("statements.csv");
    std::fs::write(&p, ALPHA_STATEMENT).unwrap();
    backstock_app::import::run(&st, &[p], &Default::default())
        .await
        .unwrap();
    publish(&s.state, "alpha").await;
}

async fn open_minor(s: &Server, who: &Session) -> i64 {
    let r = s
        .get("/api/v1/t/alpha/distributors/alphadist", Some(who))
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    r.json()["receivables"]["open_balance"]["amount_minor"]
        .as_i64()
        .unwrap_or_else(|| panic!("no open balance: {}", r.body))
}

async fn audit(s: &Server) -> String {
    let owner = s.login("owner@alpha.test").await;
    let r = s.get("/api/v1/t/alpha/audit", Some(&owner)).await;
    assert_eq!(r.status, 200, "{}", r.body);
    r.body
}

async fn api(s: &Server, who: &Session, path: &str, body: serde_json::Value) -> Resp {
    s.post(
        &format!("/api/v1/t/alpha/{path}"),
        who,
        "application/json",
        body.to_string().as_bytes(),
    )
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_bookkeepers_payment_moves_receivables_by_exactly_its_amount_once() {
    let s = start(|_| {}).await;
    with_statement(&s).await;
    let bk = s.login("bookkeeper@alpha.test").await;
    let before = open_minor(&s, &bk).await;
    assert_eq!(before, 32_000, "net due 400.00 - 80.00 fee");

    // The Record page has the payment form (prefilled from the distributor page's link).
    let page = s
        .get("/t/alpha/record?distributor=alphadist", Some(&bk))
        .await;
    assert_eq!(page.status, 200, "{}", page.body);
    assert!(page.body.contains(r#"id="payment-form""#));
    assert!(page.body.contains(r#"value="alphadist""#));
    let dpage = s.get("/t/alpha/distributors/alphadist", Some(&bk)).await;
    assert!(dpage.body.contains(r#"id="record-link""#), "{}", dpage.body);

    let fields = [
        ("csrf", bk.csrf.as_str()),
        ("distributor", "alphadist"),
        ("amount", "123.45"),
        ("statement_id", "ST-ALPHA-1"),
        ("date", "2016-06-15"),
    ];
    let r = s.post_form("/t/alpha/record/payment", &bk, &fields).await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert!(r.body.contains(r#"id="action-result""#), "{}", r.body);
    assert!(
        plain(&r.body).contains("Recorded a payment of $123.45 received from alphadist"),
        "{}",
        r.body
    );
    assert_eq!(open_minor(&s, &bk).await, before - 12_345);

    // The same payment again: recorded once.
    let r = s.post_form("/t/alpha/record/payment", &bk, &fields).await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert!(
        plain(&r.body).contains("Already recorded, nothing changed"),
        "{}",
        r.body
    );
    assert_eq!(open_minor(&s, &bk).await, before - 12_345);

    // The API: exact decimal text, on account, with a reference.
    let a = api(
        &s,
        &bk,
        "payments",
        serde_json::json!({"distributor": "alphadist", "amount": "0.55", "reference": "WIRE-1"}),
    )
    .await;
    assert_eq!(a.status, 200, "{}", a.body);
    let v = a.json();
    assert_eq!(v["recorded"], true, "{v}");
    assert_eq!(v["entry_id"], "payment:alphadist:WIRE-1");
    assert_eq!(v["amount"]["amount_minor"], 55);
    assert_eq!(v["open_balance"]["amount_minor"], before - 12_345 - 55);
    assert_eq!(open_minor(&s, &bk).await, before - 12_345 - 55);
    let again = api(
        &s,
        &bk,
        "payments",
        serde_json::json!({"distributor": "alphadist", "amount": "0.55", "reference": "WIRE-1"}),
    )
    .await;
    assert_eq!(again.json()["recorded"], false, "{}", again.body);

    // A JSON number could round: refused.
    let n = api(
        &s,
        &bk,
        "payments",
        serde_json::json!({"distributor": "alphadist", "amount": 0.1}),
    )
    .await;
    assert_eq!(n.status, 400, "{}", n.body);

    // Visible in the distributor's payments and in the audit log.
    let d = s
        .get(
            "/t/alpha/distributors/alphadist?format=csv&table=payments",
            Some(&bk),
        )
        .await;
    assert!(d.body.contains("WIRE-1"), "{}", d.body);
    assert!(d.body.contains("ST-ALPHA-1"), "{}", d.body);
    let log = audit(&s).await;
    assert!(log.contains("payment_received"), "{log}");
    assert!(log.contains("bookkeeper@alpha.test"), "{log}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_action_keyed_again_after_its_correction_is_recorded_again() {
    let s = start(|_| {}).await;
    with_statement(&s).await;
    let owner = s.login("owner@alpha.test").await;
    let before = open_minor(&s, &owner).await;
    let pay =
        serde_json::json!({"distributor": "alphadist", "amount": "10.00", "reference": "WIRE-9"});
    let a = api(&s, &owner, "payments", pay.clone()).await;
    assert_eq!(
        a.json()["entry_id"],
        "payment:alphadist:WIRE-9",
        "{}",
        a.body
    );
    assert_eq!(open_minor(&s, &owner).await, before - 1_000);
    let c = api(
        &s,
        &owner,
        "corrections",
        serde_json::json!({"entry_id": "payment:alphadist:WIRE-9", "reason": "keyed on the wrong day"}),
    )
    .await;
    assert_eq!(c.status, 200, "{}", c.body);
    assert_eq!(open_minor(&s, &owner).await, before);
    // The same payment keyed again counts: it is not "already recorded" while the
    // books leave it out.
    let a = api(&s, &owner, "payments", pay.clone()).await;
    assert_eq!(a.status, 200, "{}", a.body);
    assert_eq!(a.json()["recorded"], true, "{}", a.body);
    assert_eq!(
        a.json()["entry_id"],
        "payment:alphadist:WIRE-9:2",
        "{}",
        a.body
    );
    assert_eq!(open_minor(&s, &owner).await, before - 1_000);
    // And a third time is the same payment again: recorded once.
    let a = api(&s, &owner, "payments", pay).await;
    assert_eq!(a.json()["recorded"], false, "{}", a.body);
    assert_eq!(open_minor(&s, &owner).await, before - 1_000);

    // A purchase order corrected, then keyed with the right units.
    let po = |units: u64| serde_json::json!({"po_number": "PO-77", "distributor": "alphadist", "sku": "ALP-001-CD", "units": units, "date": "2016-06-01"});
    let r = api(&s, &owner, "purchase-orders", po(12)).await;
    assert_eq!(r.json()["entry_id"], "po:PO-77:ALP-001-CD", "{}", r.body);
    let c = api(
        &s,
        &owner,
        "corrections",
        serde_json::json!({"entry_id": "po:PO-77:ALP-001-CD", "reason": "10, not 12"}),
    )
    .await;
    assert_eq!(c.status, 200, "{}", c.body);
    let r = api(&s, &owner, "purchase-orders", po(10)).await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.json()["recorded"], true, "{}", r.body);
    assert_eq!(r.json()["entry_id"], "po:PO-77:ALP-001-CD:2", "{}", r.body);
    let v = s.get("/api/v1/t/alpha/shipments", Some(&owner)).await;
    assert!(v.body.contains("PO-77"), "{}", v.body);

    // A receipt confirmed, corrected, then confirmed again on the right day.
    let rc = |on: &str| serde_json::json!({"shipment_id": "S1", "on": on});
    let r = api(&s, &owner, "receipts", rc("2016-02-03")).await;
    assert_eq!(r.status, 200, "{}", r.body);
    let c = api(
        &s,
        &owner,
        "corrections",
        serde_json::json!({"entry_id": "receipt:S1:ALP-001-CD", "reason": "wrong day"}),
    )
    .await;
    assert_eq!(c.status, 200, "{}", c.body);
    let r = api(&s, &owner, "receipts", rc("2016-02-05")).await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.json()["recorded"], true, "{}", r.body);
    let st = store(&s).await;
    assert!(st.entry("receipt:S1:ALP-001-CD:2").await.unwrap().is_some());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_correction_takes_the_permission_that_records_the_entry() {
    let s = start(|_| {}).await;
    with_statement(&s).await;
    let owner = s.login("owner@alpha.test").await;
    let bk = s.login("bookkeeper@alpha.test").await;
    // A UCC-1 filing is `operate` (owner, staff): a bookkeeper may not reverse it.
    let r = api(
        &s,
        &owner,
        "ucc1-filings",
        serde_json::json!({"distributor": "alphadist", "file_number": "OR-2016-7", "filed_on": "2016-06-01"}),
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.body);
    let undo = serde_json::json!({"entry_id": "ucc1:alphadist:OR-2016-7", "reason": "not ours"});
    let r = api(&s, &bk, "corrections", undo.clone()).await;
    assert_eq!(r.status, 403, "{}", r.body);
    assert!(
        r.body.contains("may not correct ucc1:alphadist:OR-2016-7"),
        "{}",
        r.body
    );
    // The form says the same and records nothing.
    let r = s
        .post_form(
            "/t/alpha/record/correction",
            &bk,
            &[
                ("csrf", bk.csrf.as_str()),
                ("entry_id", "ucc1:alphadist:OR-2016-7"),
                ("reason", "not ours"),
            ],
        )
        .await;
    assert_eq!(r.status, 403, "{}", r.body);
    let st = store(&s).await;
    assert!(st
        .entry("correction:ucc1:alphadist:OR-2016-7")
        .await
        .unwrap()
        .is_none());
    // A payment the bookkeeper may key, they may correct; the owner may correct both.
    let a = api(
        &s,
        &bk,
        "payments",
        serde_json::json!({"distributor": "alphadist", "amount": "1.00", "reference": "W-1"}),
    )
    .await;
    assert_eq!(a.status, 200, "{}", a.body);
    let r = api(
        &s,
        &bk,
        "corrections",
        serde_json::json!({"entry_id": "payment:alphadist:W-1", "reason": "bounced"}),
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.body);
    let r = api(&s, &owner, "corrections", undo).await;
    assert_eq!(r.status, 200, "{}", r.body);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_bad_value_shows_the_form_as_typed_with_the_importers_message() {
    let s = start(|_| {}).await;
    let bk = s.login("bookkeeper@alpha.test").await;
    let r = s
        .post_form(
            "/t/alpha/record/payment",
            &bk,
            &[
                ("csrf", bk.csrf.as_str()),
                ("distributor", "alphadist"),
                ("amount", "12.x"),
                ("statement_id", "ST-9"),
            ],
        )
        .await;
    assert_eq!(r.status, 400, "{}", r.body);
    assert!(r.body.contains(r#"id="payment-error""#), "{}", r.body);
    assert!(r.body.contains(r#"value="12.x""#), "{}", r.body);
    assert!(r.body.contains(r#"value="ST-9""#), "{}", r.body);
    assert!(r.body.contains(r#"value="alphadist""#), "{}", r.body);
    // The importer's message for the same value in payments.csv.
    let ctx = backstock_ingest::Context::from_lookups(
        &[],
        &[],
        &[("alphadist".to_string(), "USD".to_string())],
        &[],
    );
    let file = "payment_id,date,distributor,amount,currency,statement_id\nP1,2016-06-01,alphadist,12.x,USD,\n";
    let e = backstock_ingest::read(backstock_ingest::Kind::Payments, file.as_bytes(), &ctx)
        .unwrap_err();
    let expected = &e.errors[0].expected;
    let text = plain(&r.body);
    assert!(
        text.contains(&format!("amount: found \"12.x\", expected {expected}")),
        "{text}"
    );
    // The API says the same.
    let a = api(
        &s,
        &bk,
        "payments",
        serde_json::json!({"distributor": "alphadist", "amount": "12.x"}),
    )
    .await;
    assert_eq!(a.status, 400);
    assert_eq!(
        a.json()["error"]["message"],
        format!("amount: found \"12.x\", expected {expected}")
    );
    // An unknown distributor: the importer's sentence too.
    let a = api(
        &s,
        &bk,
        "purchase-orders",
        serde_json::json!({"po_number": "PO-9", "distributor": "nowhere", "sku": "ALP-001-CD", "units": 3}),
    )
    .await;
    assert_eq!(a.status, 400);
    assert!(
        a.body.contains(
            "distributor: found \\\"nowhere\\\", expected a distributor named in distributors.csv"
        ),
        "{}",
        a.body
    );
    // Nothing filled in: a 400 that says so (was a 500).
    let owner = s.login("owner@alpha.test").await;
    for body in [
        serde_json::json!({}),
        serde_json::json!({"distributor": ""}),
    ] {
        let a = api(&s, &owner, "agreements", body).await;
        assert_eq!(a.status, 400, "{}", a.body);
        assert!(a.body.contains("nothing was filled in"), "{}", a.body);
    }
    // A payment dated into a closed month: refused, form kept.
    let st = store(&s).await;
    backstock_app::books::close(
        &st,
        backstock_app::books::Month::parse("2016-05").unwrap(),
        "owner@alpha.test",
    )
    .await
    .unwrap();
    let r = s
        .post_form(
            "/t/alpha/record/payment",
            &bk,
            &[
                ("csrf", bk.csrf.as_str()),
                ("distributor", "alphadist"),
                ("amount", "10.00"),
                ("date", "2016-05-10"),
            ],
        )
        .await;
    assert_eq!(r.status, 409, "{}", r.body);
    assert!(
        plain(&r.body).contains("whose books are closed"),
        "{}",
        r.body
    );
    assert!(r.body.contains(r#"value="2016-05-10""#));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn roles_without_the_permission_get_403() {
    let s = start(|_| {}).await;
    for email in ["artist@alpha.test", "distributor@alpha.test"] {
        let who = s.login(email).await;
        let r = api(
            &s,
            &who,
            "payments",
            serde_json::json!({"distributor": "alphadist", "amount": "1.00"}),
        )
        .await;
        assert_eq!(r.status, 403, "{email}: {}", r.body);
        let r = s.get("/t/alpha/record", Some(&who)).await;
        assert_eq!(r.status, 403, "{email}");
    }
    // A bookkeeper records money and paperwork, but neither demands stock back nor
    // files, nor changes agreements.
    let bk = s.login("bookkeeper@alpha.test").await;
    for path in [
        "returns",
        "demands",
        "ucc1-filings",
        "pmsi-notices",
        "agreements",
    ] {
        let r = api(&s, &bk, path, serde_json::json!({})).await;
        assert_eq!(r.status, 403, "{path}: {}", r.body);
    }
    let page = s.get("/t/alpha/record", Some(&bk)).await;
    assert!(page.body.contains(r#"id="payment-form""#));
    assert!(!page.body.contains(r#"id="demand-form""#));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_action_is_recorded_visible_and_audited() {
    let s = start(|_| {}).await;
    let owner = s.login("owner@alpha.test").await;
    let st = store(&s).await;

    // Purchase order → the shipments and orders view.
    let r = api(
        &s,
        &owner,
        "purchase-orders",
        serde_json::json!({"po_number": "PO-NEW-7", "distributor": "northwind", "sku": "859712000019", "units": 12, "date": "2016-06-01"}),
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.json()["entry_id"], "po:PO-NEW-7:ALP-001-CD");
    let v = s.get("/api/v1/t/alpha/shipments", Some(&owner)).await;
    assert!(v.body.contains("PO-NEW-7"), "{}", v.body);

    // Return: alphadist holds 200 of ALP-001-CD.
    let before = s
        .get("/api/v1/t/alpha/distributors/alphadist", Some(&owner))
        .await
        .json()["receivables"]["stock"]["units"]
        .as_i64()
        .unwrap();
    let r = s
        .post_form(
            "/t/alpha/record/return",
            &owner,
            &[
                ("csrf", owner.csrf.as_str()),
                ("distributor", "alphadist"),
                ("sku", "ALP-001-CD"),
                ("units", "5"),
                ("date", "2016-06-20"),
            ],
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert!(
        plain(&r.body).contains("Recorded the return of 5 units"),
        "{}",
        r.body
    );
    let after = s
        .get("/api/v1/t/alpha/distributors/alphadist", Some(&owner))
        .await
        .json()["receivables"]["stock"]["units"]
        .as_i64()
        .unwrap();
    assert_eq!(after, before - 5);
    // More than it holds: the ledger refuses; the form keeps the units typed.
    let r = s
        .post_form(
            "/t/alpha/record/return",
            &owner,
            &[
                ("csrf", owner.csrf.as_str()),
                ("distributor", "alphadist"),
                ("sku", "ALP-001-CD"),
                ("units", "5000"),
                ("id", "RMA-2"),
            ],
        )
        .await;
    assert_eq!(r.status, 409, "{}", r.body);
    assert!(r.body.contains(r#"id="return-error""#) && r.body.contains(r#"value="5000""#));

    // Receipt confirmation.
    let r = api(
        &s,
        &owner,
        "receipts",
        serde_json::json!({"shipment_id": "S1", "on": "2016-02-03"}),
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert!(st.entry("receipt:S1:ALP-001-CD").await.unwrap().is_some());
    let again = api(
        &s,
        &owner,
        "receipts",
        serde_json::json!({"shipment_id": "S1", "on": "2016-02-03"}),
    )
    .await;
    assert_eq!(again.json()["recorded"], false, "{}", again.body);

    // Demand and its answer → the distributor's demands.
    let r = api(
        &s,
        &owner,
        "demands",
        serde_json::json!({"distributor": "northwind", "kind": "return", "made_on": "2016-06-10", "via": "certified mail"}),
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.body);
    let id = r.json()["demand_id"].as_str().unwrap().to_string();
    assert_eq!(id, "D-2016-06-10-northwind-return");
    let again = api(
        &s,
        &owner,
        "demands",
        serde_json::json!({"distributor": "northwind", "kind": "return", "made_on": "2016-06-10", "via": "certified mail"}),
    )
    .await;
    assert_eq!(again.json()["recorded"], false, "{}", again.body);
    let r = s
        .post_form(
            "/t/alpha/record/answer",
            &owner,
            &[
                ("csrf", owner.csrf.as_str()),
                ("demand_id", &id),
                ("outcome", "refused"),
                ("on", "2016-06-12"),
                ("note", "says it owns them"),
            ],
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    let d = s
        .get("/api/v1/t/alpha/distributors/northwind", Some(&owner))
        .await;
    assert!(
        d.body.contains(&id) && d.body.contains("says it owns them"),
        "{}",
        d.body
    );

    // UCC-1 (state from the agreement) and a PMSI notice.
    let r = api(
        &s,
        &owner,
        "ucc1-filings",
        serde_json::json!({"distributor": "northwind", "file_number": "CA-2016-0042", "filed_on": "2016-06-01"}),
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.json()["lapses_on"], "2021-06-01");
    let d = s
        .get("/api/v1/t/alpha/distributors/northwind", Some(&owner))
        .await;
    assert!(d.body.contains("CA-2016-0042"), "{}", d.body);
    let r = api(
        &s,
        &owner,
        "pmsi-notices",
        serde_json::json!({"distributor": "northwind", "secured_party": "First Lender Bank", "sent_on": "2016-06-02"}),
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert!(st
        .entry("pmsi:northwind:First Lender Bank:2016-06-02")
        .await
        .unwrap()
        .is_some());

    // Alias → the unmatched queue view.
    let r = api(
        &s,
        &owner,
        "aliases",
        serde_json::json!({"code": "ND-77", "sku": "ALP-002-CD"}),
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.body);
    let u = s.get("/api/v1/t/alpha/unmatched", Some(&owner)).await;
    assert!(u.body.contains("ND-77"), "{}", u.body);

    // Agreement → a new distributor.
    let r = api(
        &s,
        &owner,
        "agreements",
        serde_json::json!({
            "distributor": "southwind", "legal_name": "Southwind Music LLC",
            "state_of_organization": "TX", "agreement_start": "2016-06-01",
            "fee_rate": "0.18", "payment_terms_days": 60, "statement_frequency": "monthly",
            "reserve_rate": "0.10", "reserve_release_days": 180, "credit_limit": "25000.00",
            "currency": "USD", "title_retained": true, "payment_months": "jun;dec"
        }),
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.body);
    let d = s
        .get("/api/v1/t/alpha/distributors/southwind", Some(&owner))
        .await;
    assert_eq!(d.status, 200, "{}", d.body);
    // Its payment calendar, beside the terms on its page.
    let page = s.get("/t/alpha/distributors/southwind", Some(&owner)).await;
    assert!(
        plain(&page.body).contains("60 days; pays everything due in June and December"),
        "{}",
        page.body
    );
    // A month that is not one: the importer's sentence, nothing recorded.
    let r = api(
        &s,
        &owner,
        "agreements",
        serde_json::json!({
            "distributor": "eastwind", "legal_name": "Eastwind Music LLC",
            "state_of_organization": "TX", "agreement_start": "2016-06-01",
            "fee_rate": "0.18", "payment_terms_days": 60, "statement_frequency": "monthly",
            "reserve_rate": "0.10", "reserve_release_days": 180, "credit_limit": "25000.00",
            "currency": "USD", "title_retained": true, "payment_months": "jun;midsummer"
        }),
    )
    .await;
    assert_eq!(r.status, 400, "{}", r.body);
    assert!(
        r.body.contains("payment_months") && r.body.contains("e.g. 6;12"),
        "{}",
        r.body
    );
    let d = s
        .get("/api/v1/t/alpha/distributors/eastwind", Some(&owner))
        .await;
    assert_eq!(d.status, 404, "{}", d.body);

    // Correction: refused with its sentence when the units moved on; recorded otherwise.
    let r = s
        .post_form(
            "/t/alpha/record/correction",
            &owner,
            &[
                ("csrf", owner.csrf.as_str()),
                ("entry_id", "shipment:R1:ALP-001-CD"),
                ("reason", "keyed twice"),
            ],
        )
        .await;
    assert_eq!(r.status, 409, "{}", r.body);
    assert!(r.body.contains(r#"id="correction-error""#));
    assert!(
        plain(&r.body).contains("correcting shipment:R1:ALP-001-CD would leave label holding"),
        "{}",
        r.body
    );
    assert!(r.body.contains(r#"value="keyed twice""#));
    let r = api(
        &s,
        &owner,
        "corrections",
        serde_json::json!({"entry_id": "po:PO-NEW-7:ALP-001-CD", "reason": "wrong distributor"}),
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(
        r.json()["correction_id"],
        "correction:po:PO-NEW-7:ALP-001-CD"
    );
    let again = api(
        &s,
        &owner,
        "corrections",
        serde_json::json!({"entry_id": "po:PO-NEW-7:ALP-001-CD", "reason": "wrong distributor"}),
    )
    .await;
    assert_eq!(again.json()["recorded"], false, "{}", again.body);
    let v = s.get("/api/v1/t/alpha/shipments", Some(&owner)).await;
    assert!(v.body.contains("wrong distributor"), "{}", v.body);

    let log = audit(&s).await;
    for a in [
        "purchase_order",
        "\"return\"",
        "receipt_confirmed",
        "\"demand\"",
        "demand_answered",
        "ucc1_filed",
        "pmsi_notice",
        "\"alias\"",
        "\"agreement\"",
        "\"correction\"",
        "correction_refused",
    ] {
        assert!(log.contains(a), "{a} not in the audit log: {log}");
    }
}

#[tokio::test]
async fn a_statement_in_another_currency_is_listed_on_the_distributors_page() {
    let s = start(|_| {}).await;
    with_statement(&s).await;
    let st = store(&s).await;
    import_into(
        &st,
        &[(
            "eur.csv",
            "statement_id,distributor,period_start,period_end,issued_on,kind,sku,units,amount,currency\n\
             ST-EUR-1,alphadist,2016-03-01,2016-03-31,2016-04-10,sale,ALP-001-CD,2,30.00,EUR\n",
        )],
    )
    .await;
    publish(&s.state, "alpha").await;
    let bk = s.login("bookkeeper@alpha.test").await;
    let page = s.get("/t/alpha/distributors/alphadist", Some(&bk)).await;
    assert_eq!(page.status, 200, "{}", page.body);
    assert!(page.body.contains("ST-ALPHA-1"), "{}", page.body);
    assert!(page.body.contains("ST-EUR-1"), "{}", page.body);
}

/// Stock consigned to a distributor and priced only in another currency than its
/// agreement's is left out of the exposure on the dashboard — and the dashboard says
/// so beside the distributor's reasons, as `backstock risk` does.
#[tokio::test]
async fn the_dashboard_says_when_an_exposure_leaves_consigned_units_unvalued() {
    let s = start(|_| {}).await;
    let st = store(&s).await;
    import_into(
        &st,
        &[
            (
                "eur.csv",
                "sku,upc,title,artist,format,release_date,list_price,wholesale_price,unit_cost,currency\n\
                 ALP-099-CD,,Euro Pressing,June Okafor,CD,2016-01-01,14.00,7.00,1.00,EUR\n",
            ),
            (
                "eur_ship.csv",
                "shipment_id,date,from,to,sku,units,po_number\n\
                 RUN-EUR,2016-03-01,plant:optimal,label,ALP-099-CD,50,\n\
                 SH-EUR,2016-03-02,label,alphadist,ALP-099-CD,40,\n",
            ),
        ],
    )
    .await;
    publish(&s.state, "alpha").await;
    let owner = s.login("owner@alpha.test").await;
    let page = s.get("/t/alpha/dashboard", Some(&owner)).await;
    assert_eq!(page.status, 200, "{}", page.body);
    assert!(
        page.body.contains(
            "The exposure leaves out 40 consigned units: no wholesale price in its currency."
        ),
        "{}",
        page.body
    );
}
