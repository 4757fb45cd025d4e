//! Artist payouts over HTTP (issue 14 item 5): the owner pays a royalty run in one
//! step, staff pays one payee (refused over what is payable, the form kept), the bank's
//! file and the year-end CSV; who may pay (owner, staff) and who may not; an artist
//! sees the remittance advice of their own payee only.

use crate::common;

use common::*;
use serde_json::{json, Value};

const PAYEES: &str = "payee,name,email,address\n\
june-okafor,June Okafor,june@okafor.example,\"12 Elm St, Asheville NC 28801\"\n\
other-artist,Other Artist,other@artist.example,\"1 Main St, Portland OR 97205\"\n";
const CONTRACTS: &str = "contract_id,effective_from,title,payees,skus,basis,rates,cross_collateralized,reserve_rate,reserve_release_periods,min_payout,currency\n\
C-JUNE,2015-01-01,June Okafor recordings,june-okafor:100%,ALP-001-CD,earned,*:net_receipts:20%,no,0,0,0.00,USD\n\
C-OTHER,2015-01-01,Other Artist recordings,other-artist:100%,ALP-002-CD,earned,*:net_receipts:25%,no,0,0,0.00,USD\n";
const STATEMENTS: &str = "statement_id,distributor,period_start,period_end,issued_on,kind,sku,units,amount,currency,memo\n\
ST-A1,alphadist,2016-02-01,2016-02-29,2016-03-10,sale,ALP-001-CD,50,400.00,USD,\n\
ST-N1,northwind,2016-02-01,2016-02-29,2016-03-10,sale,ALP-002-CD,10,80.00,USD,\n";

/// alpha with two payees on earned contracts and 2016Q1 run: June is owed 80.00 USD
/// (20% of 400.00), Other Artist 20.00 USD (25% of 80.00).
async fn label() -> Server {
    let s = start(|c| c.max_ip_failures = 1_000).await;
    let store = backstock_store::Store::open(&s.control().label_dir("alpha"), false)
        .await
        .unwrap();
    import_into(
        &store,
        &[
            ("payees.csv", PAYEES),
            ("contracts.csv", CONTRACTS),
            ("statements.csv", STATEMENTS),
        ],
    )
    .await;
    backstock_app::royalties::run(
        &store,
        backstock_app::royalties::RunArgs {
            period: "2016Q1".into(),
            dry_run: false,
            on: None,
            format: backstock_app::output::Format::Table,
            label_name: Some("Alpha Records".into()),
        },
    )
    .await
    .unwrap();
    publish(&s.state, "alpha").await;
    s
}

async fn post_json(s: &Server, path: &str, who: &Session, body: Value) -> Resp {
    s.post(path, who, "application/json", body.to_string().as_bytes())
        .await
}

fn payable_of(v: &Value, payee: &str) -> i64 {
    v["payable"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["payee"] == payee)
        .map(|p| p["payable"]["amount_minor"].as_i64().unwrap())
        .unwrap_or(0)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn owner_and_staff_pay_others_may_not_and_the_artist_sees_only_their_remittance() {
    let s = label().await;
    let owner = s.login("owner@alpha.test").await;
    let staff = s.login("staff@alpha.test").await;
    let bk = s.login("bookkeeper@alpha.test").await;
    let artist = s.login("artist@alpha.test").await;
    let dist = s.login("distributor@alpha.test").await;

    let r = s.get("/api/v1/t/alpha/payouts", Some(&bk)).await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(payable_of(&r.json(), "june-okafor"), 8_000);
    assert_eq!(payable_of(&r.json(), "other-artist"), 2_000);

    // Who may pay: owner and staff; not the bookkeeper, the artist or the distributor.
    for who in [&bk, &artist, &dist] {
        let r = post_json(
            &s,
            "/api/v1/t/alpha/payouts",
            who,
            json!({"period": "2016Q1"}),
        )
        .await;
        assert_eq!(r.status, 403, "{}", r.body);
        let r = s
            .post_form("/t/alpha/payouts/run", who, &[("period", "2016Q1")])
            .await;
        assert_eq!(r.status, 403, "{}", r.body);
    }
    assert_eq!(
        s.get("/api/v1/t/alpha/payouts", Some(&dist)).await.status,
        403
    );
    assert_eq!(s.get("/t/alpha/payouts", Some(&dist)).await.status, 403);
    // The bookkeeper sees the page but no forms to pay.
    let r = s.get("/t/alpha/payouts", Some(&bk)).await;
    assert_eq!(r.status, 200);
    assert!(r.body.contains(r#"id="payables""#) && !r.body.contains(r#"id="pay-form""#));

    // Staff pays one payee: more than payable is refused on the page, form kept.
    let r = s
        .post_form(
            "/t/alpha/payouts/pay",
            &staff,
            &[
                ("payee", "june-okafor"),
                ("amount", "80.01"),
                ("currency", "USD"),
                ("on", "2016-06-30"),
                ("reference", "WIRE-7"),
            ],
        )
        .await;
    assert_eq!(r.status, 409, "{}", r.body);
    assert!(r.body.contains(r#"id="payouts-error""#), "{}", r.body);
    assert!(
        r.body.contains("is more than is payable to june-okafor"),
        "{}",
        r.body
    );
    assert!(r.body.contains(r#"value="80.01""#) && r.body.contains(r#"value="WIRE-7""#));
    let fields = [
        ("payee", "june-okafor"),
        ("amount", "30.00"),
        ("currency", "USD"),
        ("on", "2016-06-30"),
        ("reference", "WIRE-7"),
    ];
    let r = s.post_form("/t/alpha/payouts/pay", &staff, &fields).await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert!(r.body.contains(r#"id="payouts-result""#), "{}", r.body);
    // Twice: recorded once.
    let r = post_json(
        &s,
        "/api/v1/t/alpha/payouts",
        &staff,
        json!({"payee": "june-okafor", "amount": "30.00", "currency": "USD", "on": "2016-06-30", "reference": "WIRE-7"}),
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.json()["recorded"], json!(false));
    // A date after today is refused naming the field in words, not a command flag.
    let r = post_json(
        &s,
        "/api/v1/t/alpha/payouts",
        &staff,
        json!({"payee": "june-okafor", "amount": "1.00", "currency": "USD", "on": "2016-07-05", "reference": "WIRE-8"}),
    )
    .await;
    assert_eq!(r.status, 400, "{}", r.body);
    let m = r.json()["error"]["message"]
        .as_str()
        .unwrap_or("")
        .to_string();
    assert!(m.starts_with("on 2016-07-05 is after today"), "{m}");

    // The owner pays the run: what is left of June's and all of Other Artist's.
    let r = post_json(
        &s,
        "/api/v1/t/alpha/payouts",
        &owner,
        json!({"period": "2016Q1", "on": "2016-06-30"}),
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.body);
    let v = r.json();
    let paid: Vec<(String, i64)> = v["paid"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| {
            (
                p["payee"].as_str().unwrap().to_string(),
                p["amount"]["amount_minor"].as_i64().unwrap(),
            )
        })
        .collect();
    // Never more than is payable: June had 30.00 paid outside the run, so the run
    // pays her the 50.00 left and says so.
    assert_eq!(
        paid,
        vec![
            ("june-okafor".into(), 5_000),
            ("other-artist".into(), 2_000)
        ],
        "{v}"
    );
    assert!(
        v["not_paid"]
            .to_string()
            .contains("only that is payable now"),
        "{v}"
    );
    let r = s.get("/api/v1/t/alpha/payouts", Some(&owner)).await;
    assert_eq!(payable_of(&r.json(), "june-okafor"), 0, "{}", r.body);
    assert_eq!(payable_of(&r.json(), "other-artist"), 0, "{}", r.body);
    // The same run again pays nobody twice.
    let r = post_json(
        &s,
        "/api/v1/t/alpha/payouts",
        &owner,
        json!({"period": "2016Q1", "on": "2016-06-30"}),
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.json()["paid"], json!([]), "{}", r.body);
    // The bank's file of the run.
    let f = s
        .get("/t/alpha/payouts/file.csv?period=2016Q1", Some(&owner))
        .await;
    assert_eq!(f.status, 200, "{}", f.body);
    assert!(
        f.body.starts_with("payee,name,amount,currency,reference\n"),
        "{}",
        f.body
    );
    assert!(f
        .body
        .contains("other-artist,Other Artist,20.00,USD,Royalties 2016Q1"));
    assert_eq!(
        s.get("/t/alpha/payouts/file.csv?period=2016Q1", Some(&bk))
            .await
            .status,
        403
    );
    // A tax form on file, shown on the page and in the year-end CSV.
    let r = s
        .post_form(
            "/t/alpha/payouts/tax-form",
            &staff,
            &[
                ("payee", "june-okafor"),
                ("form", "w9"),
                ("received", "2016-01-05"),
            ],
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert!(r.body.contains("W-9 (received"), "{}", r.body);
    let r = s
        .post_form(
            "/t/alpha/payouts/tax-form",
            &bk,
            &[("payee", "june-okafor"), ("form", "w9")],
        )
        .await;
    assert_eq!(r.status, 403);
    // The year-end CSV (the bookkeeper prepares the 1099s).
    let y = s
        .get("/t/alpha/payouts/year-end.csv?year=2016", Some(&bk))
        .await;
    assert_eq!(y.status, 200, "{}", y.body);
    assert!(
        y.body
            .contains("2016,june-okafor,June Okafor,USD,80.00,2,W-9,2016-01-05"),
        "{}",
        y.body
    );
    assert!(
        y.body
            .contains("2016,other-artist,Other Artist,USD,20.00,1,,"),
        "{}",
        y.body
    );

    // The artist: remittance advice of their own payee only.
    let r = s.get("/t/alpha/payouts", Some(&artist)).await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert!(r.body.contains("Remittance advice") && r.body.contains(r#"id="remittance""#));
    assert!(
        r.body.contains("WIRE-7") && r.body.contains("Royalties 2016Q1"),
        "{}",
        r.body
    );
    assert!(
        !r.body.contains("other-artist") && !r.body.contains("20.00"),
        "{}",
        r.body
    );
    assert!(!r.body.contains(r#"id="pay-form""#));
    let r = s.get("/api/v1/t/alpha/payouts", Some(&artist)).await;
    assert_eq!(r.status, 200, "{}", r.body);
    let v = r.json();
    let list = v["payouts"].as_array().unwrap();
    assert!(!list.is_empty());
    assert!(list.iter().all(|p| p["payee"] == "june-okafor"), "{v}");
    assert!(v.get("payable").is_none(), "{v}");
    // The artist's statement can be checked (18.8): the rate on each line, why
    // collected differs from earned, and the payments up to the statement date (the
    // 2016Q1 run was made on the label's today, 2016-06-30: both payments count).
    let r = s
        .get("/t/alpha/statements/2016Q1/june-okafor", Some(&artist))
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert!(r.body.contains("20% of net receipts"), "{}", r.body);
    assert!(r.body.contains("Why collected differs from earned"));
    assert!(r.body.contains(r#"id="statement-payments""#));
    assert!(
        r.body.contains("WIRE-7") && r.body.contains("Total paid"),
        "{}",
        r.body
    );
    let r = s
        .get(
            "/api/v1/t/alpha/statements/2016Q1/june-okafor",
            Some(&artist),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    let v = r.json();
    assert_eq!(
        v["contracts"][0]["detail"][0]["rate"],
        "20% of net receipts"
    );
    assert!(v["contracts"][0]["why_collected_differs"].is_string());
    let refs: Vec<&str> = v["payments"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["reference"].as_str().unwrap())
        .collect();
    assert_eq!(refs, ["WIRE-7", "Royalties 2016Q1"], "{v}");
    for f in ["csv", "pdf", "json"] {
        let r = s
            .get(
                &format!("/t/alpha/statements/2016Q1/june-okafor?format={f}"),
                Some(&artist),
            )
            .await;
        assert_eq!(r.status, 200, "{f}");
    }
    // The artist's navigation leads there.
    let r = s.get("/t/alpha/statements", Some(&artist)).await;
    assert!(r.body.contains(r#"id="nav-payouts""#), "{}", r.body);

    // Another label's owner finds nothing.
    let beta = s.login(BETA_OWNER).await;
    assert_eq!(s.get("/t/alpha/payouts", Some(&beta)).await.status, 404);

    // Each payment is audited.
    let audit = s.get("/api/v1/t/alpha/audit", Some(&owner)).await;
    assert_eq!(
        audit.body.matches("payout_recorded").count(),
        1,
        "{}",
        audit.body
    );
    assert_eq!(
        audit.body.matches("payout_run").count(),
        1,
        "{}",
        audit.body
    );
}
