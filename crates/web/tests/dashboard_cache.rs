//! The dashboard's books are computed again only as far as new entries reach: after an
//! import the served figures (today's and every point of the 24-month history) are
//! exactly those a server that never saw the label before computes from scratch, and a
//! backdated entry does move the history points on and after its day.

use crate::common;

use common::*;
use serde_json::Value;

/// A statement of March sales received 2016-04-10 and a payment of 2016-05-20: both
/// count before today (2016-06-30), so the month ends from April on must change.
const BACKDATED: &[(&str, &str)] = &[
    (
        "statements.csv",
        "statement_id,distributor,period_start,period_end,issued_on,kind,sku,units,amount,currency,memo\n\
ST-MAR,northwind,2016-03-01,2016-03-31,2016-04-10,sale,ALP-002-CD,40,320.00,USD,\n",
    ),
    (
        "payments.csv",
        "payment_id,date,distributor,amount,currency,statement_id\n\
PAY-1,2016-05-20,alphadist,100.00,USD,ST-ALPHA-1\n",
    ),
];

async fn import_at(dir: &std::path::Path, files: &[(&str, &str)]) {
    let store = backstock_store::Store::open(dir, false).await.unwrap();
    import_into(&store, files).await;
}

async fn dashboard(addr: std::net::SocketAddr, who: &Session) -> Value {
    let r = request(
        addr,
        "GET",
        "/api/v1/t/alpha/dashboard",
        &[("Cookie", format!("bs_session={}", who.sid))],
        b"",
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.body);
    r.json()
}

/// What a server with an empty cache shows for the same data directory.
async fn from_scratch(s: &Server, who: &Session) -> Value {
    let mut config = backstock_web::Config::new(s.dir.path().to_path_buf());
    config.database = database(&s.state);
    let state = backstock_web::AppState::open(config).await.unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { backstock_web::serve_on(listener, state).await });
    dashboard(addr, who).await
}

fn point<'a>(v: &'a Value, on: &str) -> &'a Value {
    v["exposure_history"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["on"] == on)
        .unwrap_or_else(|| panic!("no history point on {on}: {v}"))
}

/// The figures that come from the books (alerts are a log, compared separately).
fn figures(v: &Value) -> Value {
    let mut v = v.clone();
    v.as_object_mut().unwrap().remove("alerts");
    v
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn after_an_import_the_books_are_those_computed_from_scratch() {
    let s = start(|_| {}).await;
    let owner = s.login("owner@alpha.test").await;
    let label = s.control().label_dir("alpha");

    let first = dashboard(s.addr, &owner).await;
    assert_eq!(figures(&first), figures(&from_scratch(&s, &owner).await));

    // Entries that count in the past: the cached books are brought up to date.
    import_at(&label, &[("statements.csv", ALPHA_STATEMENT)]).await;
    import_at(&label, BACKDATED).await;
    publish(&s.state, "alpha").await;
    let after = dashboard(s.addr, &owner).await;
    assert_eq!(figures(&after), figures(&from_scratch(&s, &owner).await));
    assert_ne!(
        point(&first, "2016-04-30"),
        point(&after, "2016-04-30"),
        "the March statement received in April changes April's point"
    );
    assert_eq!(
        point(&first, "2016-02-29"),
        point(&after, "2016-02-29"),
        "nothing new counts by February"
    );
    assert!(
        after["journal_entries"].as_i64() > first["journal_entries"].as_i64(),
        "{after}"
    );

    // And again with nothing backdated: a payment of today.
    import_at(
        &label,
        &[(
            "payments.csv",
            "payment_id,date,distributor,amount,currency,statement_id\n\
PAY-2,2016-06-30,northwind,50.00,USD,ST-MAR\n",
        )],
    )
    .await;
    publish(&s.state, "alpha").await;
    let today = dashboard(s.addr, &owner).await;
    assert_eq!(figures(&today), figures(&from_scratch(&s, &owner).await));
    assert_eq!(point(&after, "2016-05-31"), point(&today, "2016-05-31"));
}
