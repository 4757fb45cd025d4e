//! `serve --database postgres://…`: what only a server whose labels are in PostgreSQL
//! has to get right — entries recorded by another process are shown at once, what a
//! page records reaches the database before its answer, and a working copy that
//! disagrees with the database is thrown away, never appended. Runs in the suite's
//! PostgreSQL pass (`BACKSTOCK_TEST_BACKEND=postgres`); on SQLite it says so and passes.

use crate::common;
use backstock_store::contract::Journal;
use common::*;

async fn entries_shown(s: &Server, who: &Session) -> i64 {
    let r = s.get("/api/v1/t/alpha/dashboard", Some(who)).await;
    assert_eq!(r.status, 200, "{}", r.body);
    r.json()["journal_entries"]
        .as_i64()
        .unwrap_or_else(|| panic!("{}", r.body))
}

/// A payment recorded by another process (as `backstock --database … import` does: on
/// a copy of its own, appended to the database).
async fn payment_from_elsewhere(url: &str, id: &str) {
    let pg = backstock_store_pg::PgStore::connect(url, "alpha")
        .await
        .unwrap();
    let tmp = tempfile::tempdir().unwrap();
    let local = backstock_store::Store::open(tmp.path(), true)
        .await
        .unwrap();
    backstock_store::copy::copy_journal(&pg, &local)
        .await
        .unwrap();
    let csv = format!(
        "payment_id,date,distributor,amount,currency,statement_id\n{id},2016-06-20,northwind,5.00,USD,\n"
    );
    import_into(&local, &[("payments.csv", &csv)]).await;
    backstock_store::copy::copy_journal(&local, &pg)
        .await
        .unwrap();
    local.pool().close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_database_is_the_record_and_the_working_copy_follows_it() {
    let s = start(|_| {}).await;
    let Some(url) = database(&s.state) else {
        eprintln!("note: this suite runs on SQLite; the PostgreSQL pass sets BACKSTOCK_TEST_BACKEND=postgres");
        return;
    };
    let pg = backstock_store_pg::PgStore::connect(&url, "alpha")
        .await
        .unwrap();
    let owner = s.login("owner@alpha.test").await;
    let n0 = entries_shown(&s, &owner).await;
    assert_eq!(pg.head().await.unwrap().entries, n0);

    // Recorded by another process: the next page shows it.
    payment_from_elsewhere(&url, "ELSEWHERE-1").await;
    assert_eq!(entries_shown(&s, &owner).await, n0 + 1);

    // Recorded on a page: in the database before the answer.
    let r = s
        .post(
            "/api/v1/t/alpha/payments",
            &owner,
            "application/json",
            br#"{"distributor":"northwind","amount":"7.00","reference":"WEB-1"}"#,
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    let head = pg.head().await.unwrap();
    assert_eq!(head.entries, n0 + 2);
    let (_, e, _) = pg
        .entry_with_postings("payment:northwind:WEB-1")
        .await
        .unwrap()
        .expect("the page's payment is in the database");
    assert!(serde_json::to_string(&e).unwrap().contains("WEB-1"));

    // A working copy that holds what the database does not (written behind the
    // server's back) while the database moved on: thrown away and made again from the
    // database by the next request that records; its stray entry is never appended.
    let mirror = backstock_store::Store::open(&s.control().label_dir("alpha"), false)
        .await
        .unwrap();
    import_into(
        &mirror,
        &[(
            "payments.csv",
            "payment_id,date,distributor,amount,currency,statement_id\nSTRAY-1,2016-06-21,northwind,1.00,USD,\n",
        )],
    )
    .await;
    mirror.pool().close().await;
    payment_from_elsewhere(&url, "ELSEWHERE-2").await;
    let r = s
        .post(
            "/api/v1/t/alpha/payments",
            &owner,
            "application/json",
            br#"{"distributor":"northwind","amount":"9.00","reference":"WEB-2"}"#,
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(pg.head().await.unwrap().entries, n0 + 4);
    assert!(pg
        .entry_with_postings("payment:northwind:STRAY-1")
        .await
        .unwrap()
        .is_none());
    assert!(pg
        .entry_with_postings("payment:northwind:ELSEWHERE-2")
        .await
        .unwrap()
        .is_some());
    assert!(pg
        .entry_with_postings("payment:northwind:WEB-2")
        .await
        .unwrap()
        .is_some());
    assert_eq!(entries_shown(&s, &owner).await, n0 + 4);

    // The label in the database verifies, every hash and original recomputed.
    let report = backstock_store::copy::replay(&pg).await.unwrap();
    assert_eq!(report.entries, n0 + 4);

    // The control tables are in the database too: a second server on another data
    // directory signs the same users in and shows the same label.
    let other = tempfile::tempdir().unwrap();
    let mut config = backstock_web::Config::new(other.path().to_path_buf());
    config.database = Some(url.clone());
    let state = backstock_web::AppState::open(config).await.unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { backstock_web::serve_on(listener, state).await });
    let r = request(
        addr,
        "GET",
        "/api/v1/t/alpha/dashboard",
        &[("Cookie", format!("bs_session={}", owner.sid))],
        b"",
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.json()["journal_entries"].as_i64(), Some(n0 + 4));
}
