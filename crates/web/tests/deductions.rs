//! Deductions, write-offs, buy-backs and thresholds over HTTP: who may read and act,
//! the page forms and the JSON API, what they record and what the audit log says.

use crate::common;

use common::*;
use serde_json::{json, Value};

/// alphadist's January and February statements (net 320.00 and 256.00), paid 312.00
/// and 250.00: two short pays, 8.00 and 6.00.
const STATEMENTS: &str = "statement_id,distributor,period_start,period_end,issued_on,kind,sku,units,amount,currency,memo\n\
ST-D1,alphadist,2016-01-01,2016-01-31,2016-02-05,sale,ALP-001-CD,50,400.00,USD,\n\
ST-D1,alphadist,2016-01-01,2016-01-31,2016-02-05,fee,,,80.00,USD,\n\
ST-D2,alphadist,2016-02-01,2016-02-29,2016-03-05,sale,ALP-001-CD,40,320.00,USD,\n\
ST-D2,alphadist,2016-02-01,2016-02-29,2016-03-05,fee,,,64.00,USD,\n";
const PAYMENTS: &str = "payment_id,date,distributor,amount,currency,statement_id\n\
PD1,2016-05-02,alphadist,312.00,USD,ST-D1\n\
PD2,2016-06-01,alphadist,250.00,USD,ST-D2\n";

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

async fn post_json(s: &Server, path: &str, who: &Session, body: Value) -> Resp {
    s.post(path, who, "application/json", body.to_string().as_bytes())
        .await
}

async fn listed(s: &Server, who: &Session, query: &str) -> Vec<Value> {
    let r = s
        .get(&format!("/api/v1/t/alpha/deductions{query}"), Some(who))
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    r.json()["deductions"].as_array().unwrap().clone()
}

fn find<'a>(list: &'a [Value], sid: &str) -> &'a Value {
    list.iter()
        .find(|d| d["statement_id"] == sid)
        .unwrap_or_else(|| panic!("{sid} not in {list:?}"))
}

async fn statement_open(s: &Server, who: &Session, sid: &str) -> String {
    let r = s
        .get("/api/v1/t/alpha/distributors/alphadist", Some(who))
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    r.json()["receivables"]["statements"]
        .as_array()
        .unwrap()
        .iter()
        .find(|x| x["statement_id"] == sid)
        .unwrap()["open"]["amount"]
        .as_str()
        .unwrap()
        .to_string()
}

async fn units_held(s: &Server, who: &Session) -> i64 {
    let r = s
        .get("/api/v1/t/alpha/distributors/alphadist", Some(who))
        .await;
    r.json()["receivables"]["stock"]["units"].as_i64().unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn deductions_are_read_by_the_books_roles_and_acted_on_by_owner_and_staff() {
    let s = start(|_| {}).await;
    let owner = s.login("owner@alpha.test").await;
    import(&s, &owner, "st.csv", STATEMENTS).await;
    import(&s, &owner, "pay.csv", PAYMENTS).await;

    // The bookkeeper reads them, page and API, but has no forms and may not act.
    let book = s.login("bookkeeper@alpha.test").await;
    let list = listed(&s, &book, "").await;
    assert_eq!(list.len(), 2, "{list:?}");
    let d1 = find(&list, "ST-D1");
    assert_eq!(
        (&d1["status"], &d1["amount"]["amount"], &d1["since"]),
        (&json!("open"), &json!("8.00"), &json!("2016-05-02"))
    );
    let page = s.get("/t/alpha/deductions", Some(&book)).await;
    assert_eq!(page.status, 200, "{}", page.body);
    assert!(page.body.contains("ST-D1") && page.body.contains("id=\"table-deductions\""));
    assert!(!page.body.contains("accept-form-"), "{}", page.body);
    assert!(page.body.contains("id=\"nav-deductions\""));
    let n = entries(&s).await;
    let r = post_json(
        &s,
        "/api/v1/t/alpha/deductions/accept",
        &book,
        json!({"distributor": "alphadist", "statement_id": "ST-D1", "reason": "freight"}),
    )
    .await;
    assert_eq!((r.status, r.error_code().as_str()), (403, "forbidden"));
    let r = s
        .post_form(
            "/t/alpha/deductions/accept",
            &book,
            &[
                ("distributor", "alphadist"),
                ("statement_id", "ST-D1"),
                ("reason", "freight"),
                ("csrf", &book.csrf),
            ],
        )
        .await;
    assert_eq!(r.status, 403);
    // Artists and distributors have no access at all.
    for who in ["artist@alpha.test", "distributor@alpha.test"] {
        let x = s.login(who).await;
        assert_eq!(
            s.get("/t/alpha/deductions", Some(&x)).await.status,
            403,
            "{who}"
        );
        let r = s.get("/api/v1/t/alpha/deductions", Some(&x)).await;
        assert_eq!(r.status, 403, "{who}: {}", r.body);
        assert!(!r.body.contains("ST-D1"));
    }
    assert_eq!(entries(&s).await, n, "nothing recorded by refused requests");

    // The owner accepts ST-D1's through the API: the statement's open drops by exactly 8.00.
    let page = s.get("/t/alpha/deductions", Some(&owner)).await;
    assert!(
        page.body.contains("id=\"accept-form-alphadist-ST-D1\""),
        "{}",
        page.body
    );
    assert!(page.body.contains("id=\"dispute-form-alphadist-ST-D2\""));
    assert!(page.body.contains("id=\"writeoff-form-alphadist\""));
    assert_eq!(statement_open(&s, &owner, "ST-D1").await, "8.00");
    let body = json!({"distributor": "alphadist", "statement_id": "ST-D1", "reason": "freight", "note": "January freight"});
    let r = post_json(
        &s,
        "/api/v1/t/alpha/deductions/accept",
        &owner,
        body.clone(),
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.body);
    let a = &r.json()["accepted"];
    assert_eq!(a["amount"]["amount"], "8.00");
    assert_eq!(a["recorded"], true);
    assert_eq!(a["entry_id"], "deduction-accepted:alphadist:ST-D1:1");
    assert_eq!(statement_open(&s, &owner, "ST-D1").await, "0.00");
    assert_eq!(entries(&s).await, n + 1);
    // The same request again records nothing.
    let r = post_json(&s, "/api/v1/t/alpha/deductions/accept", &owner, body).await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.json()["accepted"]["recorded"], false);
    assert_eq!(entries(&s).await, n + 1);
    let all = listed(&s, &owner, "?all=true").await;
    assert_eq!(find(&all, "ST-D1")["status"], "accepted");
    assert_eq!(listed(&s, &owner, "").await.len(), 1);

    // Refusals: a JSON number (could round), more than deducted, nothing deducted.
    let r = post_json(
        &s,
        "/api/v1/t/alpha/deductions/accept",
        &owner,
        json!({"distributor": "alphadist", "statement_id": "ST-D2", "reason": "co-op", "amount": 2.5}),
    )
    .await;
    assert_eq!(
        (r.status, r.error_code().as_str()),
        (400, "invalid_input"),
        "{}",
        r.body
    );
    let r = post_json(
        &s,
        "/api/v1/t/alpha/deductions/accept",
        &owner,
        json!({"distributor": "alphadist", "statement_id": "ST-D2", "reason": "co-op", "amount": "6.01"}),
    )
    .await;
    assert_eq!(
        (r.status, r.error_code().as_str()),
        (409, "refused"),
        "{}",
        r.body
    );
    let r = post_json(
        &s,
        "/api/v1/t/alpha/deductions/accept",
        &owner,
        json!({"distributor": "alphadist", "statement_id": "ST-D1", "reason": "co-op"}),
    )
    .await;
    assert_eq!(r.status, 409, "{}", r.body);
    assert!(r.json()["error"]["message"]
        .as_str()
        .unwrap()
        .contains("has nothing deducted to accept: its deduction of 8.00 USD was accepted"));
    assert_eq!(entries(&s).await, n + 1);

    // Staff accepts part of ST-D2's through the form, then disputes the rest.
    let staff = s.login("staff@alpha.test").await;
    let r = s
        .post_form(
            "/t/alpha/deductions/accept",
            &staff,
            &[
                ("csrf", &staff.csrf),
                ("distributor", "alphadist"),
                ("statement_id", "ST-D2"),
                ("reason", "co-op"),
                ("amount", "2.00"),
                ("note", ""),
            ],
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert!(r.body.contains("id=\"deduction-result\"") && r.body.contains("Still deducted"));
    assert_eq!(
        find(&listed(&s, &owner, "").await, "ST-D2")["amount"]["amount"],
        "4.00"
    );
    // A form without the CSRF token is refused.
    let r = request(
        s.addr,
        "POST",
        "/t/alpha/deductions/dispute",
        &[
            ("Cookie", format!("bs_session={}", staff.sid)),
            ("Content-Type", "application/x-www-form-urlencoded".into()),
        ],
        &form(&[
            ("distributor", "alphadist"),
            ("statement_id", "ST-D2"),
            ("note", "x"),
        ]),
    )
    .await;
    assert_eq!(r.status, 403, "{}", r.body);
    let r = s
        .post_form(
            "/t/alpha/deductions/dispute",
            &staff,
            &[
                ("csrf", &staff.csrf),
                ("distributor", "alphadist"),
                ("statement_id", "ST-D2"),
                ("note", "no co-op agreed for February"),
            ],
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    let d2 = find(&listed(&s, &owner, "").await, "ST-D2").clone();
    assert_eq!(d2["status"], "disputed");
    assert_eq!(d2["note"], "no co-op agreed for February");
    let n2 = entries(&s).await;
    let r = post_json(
        &s,
        "/api/v1/t/alpha/deductions/dispute",
        &owner,
        json!({"distributor": "alphadist", "statement_id": "ST-D2", "note": "again"}),
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.json()["disputed"]["recorded"], false);
    assert_eq!(entries(&s).await, n2);

    // Write off what is left of ST-D2; buy 10 units back from the liquidator.
    let r = post_json(
        &s,
        "/api/v1/t/alpha/distributors/alphadist/write-offs",
        &owner,
        json!({"statement_id": "ST-D2", "reason": "not worth chasing"}),
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.json()["written_off"]["amount"]["amount"], "4.00");
    assert_eq!(statement_open(&s, &owner, "ST-D2").await, "0.00");
    assert_eq!(
        find(&listed(&s, &owner, "?all=true").await, "ST-D2")["status"],
        "accepted"
    );
    let held = units_held(&s, &owner).await;
    assert_eq!(held, 110);
    let r = s
        .post_form(
            "/t/alpha/distributors/alphadist/buy-backs",
            &owner,
            &[
                ("csrf", &owner.csrf),
                ("sku", "ALP-001-CD"),
                ("units", "10"),
                ("paid", "10.00"),
                ("paid_to", "Liquidator LLC"),
            ],
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert!(r.body.contains("Bought back 10 units"), "{}", r.body);
    assert_eq!(units_held(&s, &owner).await, 100);
    let r = post_json(
        &s,
        "/api/v1/t/alpha/distributors/alphadist/buy-backs",
        &owner,
        json!({"sku": "ALP-001-CD", "units": 101, "paid": "0", "id": "BB-2"}),
    )
    .await;
    assert_eq!(r.status, 409, "{}", r.body);
    assert!(r.json()["error"]["message"]
        .as_str()
        .unwrap()
        .contains("alphadist holds 100 units of ALP-001-CD on hand"));
    let r = post_json(
        &s,
        "/api/v1/t/alpha/distributors/nobody/write-offs",
        &owner,
        json!({"reason": "x"}),
    )
    .await;
    assert_eq!(r.status, 404, "{}", r.body);

    // Stock held against the label's will: recorded from the page's form, released
    // through the API; it stays the label's at the distributor (units held unchanged).
    let page = s.get("/t/alpha/deductions", Some(&owner)).await;
    assert!(page.body.contains("detain-form-alphadist"), "{}", page.body);
    let r = s
        .post_form(
            "/t/alpha/distributors/alphadist/detentions",
            &owner,
            &[
                ("csrf", &owner.csrf),
                ("sku", "ALP-001-CD"),
                ("units", "40"),
                ("reason", "return refused by the estate"),
            ],
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert!(
        r.body
            .contains("Recorded as detained: 40 units of ALP-001-CD at alphadist")
            && r.body.contains("60 of them on hand and 40 detained"),
        "{}",
        r.body
    );
    assert_eq!(units_held(&s, &owner).await, 100);
    let r = post_json(
        &s,
        "/api/v1/t/alpha/distributors/alphadist/detentions",
        &owner,
        json!({"sku": "ALP-001-CD", "units": 41, "release": true, "reason": "let go"}),
    )
    .await;
    assert_eq!(r.status, 409, "{}", r.body);
    assert!(r.json()["error"]["message"]
        .as_str()
        .unwrap()
        .contains("alphadist holds 40 units of ALP-001-CD detained"));
    let r = post_json(
        &s,
        "/api/v1/t/alpha/distributors/alphadist/detentions",
        &owner,
        json!({"sku": "ALP-001-CD", "units": 15, "release": true, "reason": "the estate let them go"}),
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.json()["detention"]["detained_after"], 25, "{}", r.body);
    assert_eq!(r.json()["detention"]["on_hand_after"], 75, "{}", r.body);
    let r = post_json(
        &s,
        "/api/v1/t/alpha/distributors/alphadist/detentions",
        &book,
        json!({"sku": "ALP-001-CD", "units": 1, "reason": "x"}),
    )
    .await;
    assert_eq!(r.status, 403, "{}", r.body);

    // Every action is in the audit log, with who did it.
    let log = s.control().audit_log("alpha", 100).await.unwrap();
    let by = |action: &str, who: &str| log.iter().any(|a| a.action == action && a.actor == who);
    assert!(by("deduction_accepted", "owner@alpha.test"));
    assert!(by("deduction_accepted", "staff@alpha.test"));
    assert!(by("deduction_disputed", "staff@alpha.test"));
    assert!(by("receivable_written_off", "owner@alpha.test"));
    assert!(by("buy_back", "owner@alpha.test"));
    assert!(by("detention", "owner@alpha.test"));
    assert!(by("detention_released", "owner@alpha.test"));
    assert!(log.iter().any(|a| a.action == "deduction_accepted"
        && a.detail
            .contains("Accepted $8.00 deducted from statement ST-D1")));
    // The journal names the signed-in user.
    let store = backstock_store::Store::open(&s.control().label_dir("alpha"), false)
        .await
        .unwrap();
    let (_, e, _) = store
        .entry("deduction-accepted:alphadist:ST-D2:1")
        .await
        .unwrap()
        .unwrap();
    assert!(
        serde_json::to_string(&e.provenance)
            .unwrap()
            .contains("staff@alpha.test"),
        "{:?}",
        e.provenance
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn owners_set_thresholds_with_their_defaults_shown() {
    let s = start(|_| {}).await;
    let owner = s.login("owner@alpha.test").await;
    let page = s.get("/t/alpha/thresholds", Some(&owner)).await;
    assert_eq!(page.status, 200, "{}", page.body);
    assert!(
        page.body.contains("deduction_max_permille")
            && page.body.contains("id=\"thresholds-form\"")
    );
    let staff = s.login("staff@alpha.test").await;
    assert_eq!(s.get("/t/alpha/thresholds", Some(&staff)).await.status, 403);
    assert_eq!(
        post_json(
            &s,
            "/api/v1/t/alpha/thresholds",
            &staff,
            json!({"deduction_max_permille": 50})
        )
        .await
        .status,
        403
    );

    let r = s
        .post_form(
            "/t/alpha/thresholds",
            &owner,
            &[
                ("csrf", &owner.csrf),
                ("deduction_max_permille", "50"),
                ("payment_window_days", ""),
            ],
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert!(
        r.body.contains("deduction_max_permille 100 → 50"),
        "{}",
        r.body
    );
    let current = |v: &Value, name: &str| -> (i64, i64) {
        let t = v["thresholds"]
            .as_array()
            .unwrap()
            .iter()
            .find(|t| t["name"] == name)
            .unwrap()
            .clone();
        (
            t["default"].as_i64().unwrap(),
            t["current"].as_i64().unwrap(),
        )
    };
    let v = s
        .get("/api/v1/t/alpha/thresholds", Some(&owner))
        .await
        .json();
    assert_eq!(current(&v, "deduction_max_permille"), (100, 50));
    // Stored where `backstock thresholds` reads them.
    let store = backstock_store::Store::open(&s.control().label_dir("alpha"), false)
        .await
        .unwrap();
    assert_eq!(
        backstock_app::risk::thresholds(&store)
            .await
            .unwrap()
            .deduction_max_permille,
        50
    );

    // Unknown names and non-integers are refused and change nothing.
    for (body, says) in [
        (json!({"deduction_max_permille": "x"}), "not a whole number"),
        (json!({"deduction_max_permille": 1.5}), "not a whole number"),
        (
            json!({"nope": 1}),
            "is not a threshold (they are: alert_memory_days, arrears_grace_days",
        ),
        (json!({"deduction_max_permille": -1}), "below zero"),
    ] {
        let r = post_json(&s, "/api/v1/t/alpha/thresholds", &owner, body.clone()).await;
        assert_eq!(
            (r.status, r.error_code().as_str()),
            (400, "invalid_input"),
            "{body}: {}",
            r.body
        );
        assert!(r.body.contains(says), "{body}: {}", r.body);
    }
    let r = s
        .post_form(
            "/t/alpha/thresholds",
            &owner,
            &[("csrf", &owner.csrf), ("deduction_max_permille", "5.5")],
        )
        .await;
    assert_eq!(r.status, 400, "{}", r.body);
    let v = s
        .get("/api/v1/t/alpha/thresholds", Some(&owner))
        .await
        .json();
    assert_eq!(current(&v, "deduction_max_permille"), (100, 50));

    // null goes back to the default; the changes are audited.
    let r = post_json(
        &s,
        "/api/v1/t/alpha/thresholds",
        &owner,
        json!({"deduction_max_permille": null}),
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(current(&r.json(), "deduction_max_permille"), (100, 100));
    let log = s.control().audit_log("alpha", 50).await.unwrap();
    assert_eq!(
        log.iter().filter(|a| a.action == "thresholds").count(),
        2,
        "{log:?}"
    );
}
