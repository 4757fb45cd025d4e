//! A corrected record, through the pages and the API: the shipment is listed as
//! reversed (when, why) and counts nowhere — not in stock, not in exposure.

use crate::common;
use common::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_corrected_shipment_is_shown_reversed_and_counts_nowhere() {
    let s = start(|_| {}).await;
    let owner = s.login("owner@alpha.test").await;
    let r = s
        .get("/t/alpha/dashboard?format=csv&table=stock", Some(&owner))
        .await;
    assert!(r.body.contains("northwind,on_hand,100"), "{}", r.body);

    let store = backstock_store::Store::open(&s.state.control.label_dir("alpha"), false)
        .await
        .unwrap();
    let req = backstock_app::correct::CorrectRequest {
        entry_id: "shipment:S2:ALP-002-CD".into(),
        reason: "keyed twice".into(),
        on: None,
    };
    let c = backstock_app::correct::correct(&store, &req, "owner@alpha.test")
        .await
        .unwrap();
    assert_eq!(c.known_on.to_string(), "2016-06-30", "the label's today");
    publish(&s.state, "alpha").await;

    let api = s.get("/api/v1/t/alpha/shipments", Some(&owner)).await;
    assert_eq!(api.status, 200, "{}", api.body);
    let v = api.json();
    let rows = v["shipments"].as_array().expect("shipments");
    let s2 = rows
        .iter()
        .find(|r| r["shipment_id"] == "S2")
        .expect("S2 still listed");
    assert_eq!(s2["reversed"]["reason"], "keyed twice", "{s2}");
    assert_eq!(s2["reversed"]["on"], "2016-06-30");
    let s1 = rows.iter().find(|r| r["shipment_id"] == "S1").unwrap();
    assert!(s1["reversed"].is_null());

    let page = s.get("/t/alpha/shipments", Some(&owner)).await;
    // In the label's date format (en-US) on the page; the CSV keeps ISO dates.
    assert!(
        page.body.contains("reversed on 06/30/2016 (keyed twice)"),
        "{}",
        page.body
    );
    let csv = s
        .get(
            "/t/alpha/shipments?format=csv&table=shipments",
            Some(&owner),
        )
        .await;
    assert!(
        csv.body.contains("reversed on 2016-06-30 (keyed twice)"),
        "{}",
        csv.body
    );
    let r = s
        .get("/t/alpha/dashboard?format=csv&table=stock", Some(&owner))
        .await;
    assert!(!r.body.contains("northwind,on_hand"), "{}", r.body);
    let d = s
        .get("/api/v1/t/alpha/distributors/northwind", Some(&owner))
        .await;
    assert_eq!(d.json()["receivables"]["stock"]["units"], 0, "{}", d.body);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_shipment_over_a_hold_is_answered_as_data_and_audited_as_an_override() {
    let s = start(|_| {}).await;
    let owner = s.login("owner@alpha.test").await;
    // alphadist has no UCC-1 on file while the label retains title: on hold.
    let path = "/api/v1/t/alpha/distributors/alphadist/shipments";
    let r = s
        .post(
            path,
            &owner,
            "application/json",
            br#"{"sku":"ALP-001-CD","units":5}"#,
        )
        .await;
    assert_eq!(
        (r.status, r.error_code().as_str()),
        (409, "refused"),
        "{}",
        r.body
    );
    assert!(r.body.contains("not_perfected"), "{}", r.body);
    let r = s
        .post(
            path,
            &owner,
            "application/json",
            br#"{"sku":"ALP-001-CD","units":5,"override":"UCC-1 filed this morning"}"#,
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    let v = r.json();
    assert_eq!(v["overridden"], true);
    assert_eq!(v["units"], 5);
    let codes: Vec<&str> = v["hold_reasons"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|x| x["code"].as_str())
        .collect();
    assert!(codes.contains(&"not_perfected"), "{codes:?}");
    let audit = s.get("/t/alpha/audit?format=csv", Some(&owner)).await;
    assert!(audit.body.contains(",override,"), "{}", audit.body);
}
