//! Issue 19.9: sign-in throttling that no stranger can turn into a lockout. An address
//! that keeps failing waits, twice as long after each failure; an account is locked
//! only after many failures, and then only to addresses it has never signed in from.
//! Everything lives in the control database.

use crate::common;
use common::*;

/// A sign-in from `addr` (the server trusts `X-Forwarded-For`, as behind a proxy).
async fn sign_in(s: &Server, addr: &str, email: &str, password: &str) -> Resp {
    request(
        s.addr,
        "POST",
        "/login",
        &[
            (
                "Content-Type",
                "application/x-www-form-urlencoded".to_string(),
            ),
            ("X-Forwarded-For", addr.to_string()),
        ],
        &form(&[("email", email), ("password", password), ("next", "/")]),
    )
    .await
}

fn retry_after(r: &Resp) -> i64 {
    r.header("retry-after")
        .and_then(|v| v.parse().ok())
        .unwrap_or_else(|| panic!("a 429 says when to retry: {:?}", r.headers))
}

const OWNER: &str = "owner@alpha.test";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stranger_cannot_lock_the_owner_out() {
    let s = start(|c| {
        c.behind_proxy = true;
        c.max_ip_failures = 3;
        c.ip_delay_secs = 2;
        c.max_account_failures = 10;
    })
    .await;
    // The owner signs in from the office once: a known address.
    assert_eq!(sign_in(&s, "10.0.0.1", OWNER, PASSWORD).await.status, 303);

    // A stranger guesses the owner's password: three tries are free…
    for _ in 0..3 {
        let r = sign_in(&s, "203.0.113.66", OWNER, "guess guess guess").await;
        assert_eq!(r.status, 401, "{}", r.body);
    }
    // …then the stranger's address waits before its next try (nothing checked).
    let r = sign_in(&s, "203.0.113.66", OWNER, "guess guess guess").await;
    assert_eq!(r.status, 429, "{}", r.body);
    assert!((1..=2).contains(&retry_after(&r)), "{:?}", r.headers);
    assert!(r.body.contains("this address"), "{}", r.body);
    // Even with the right password, from that address.
    assert_eq!(
        sign_in(&s, "203.0.113.66", OWNER, PASSWORD).await.status,
        429
    );
    // The owner is not held up, from a known address or a new one.
    assert_eq!(sign_in(&s, "10.0.0.1", OWNER, PASSWORD).await.status, 303);
    assert_eq!(
        sign_in(&s, "198.51.100.7", OWNER, PASSWORD).await.status,
        303
    );
    // Refused tries during a wait are not failures: the wait does not grow by them.
    assert_eq!(
        s.control().failures("ip:203.0.113.66", 3600).await.unwrap(),
        3
    );

    // Exponential: after the wait, one more failure doubles it.
    tokio::time::sleep(std::time::Duration::from_millis(2100)).await;
    let r = sign_in(&s, "203.0.113.66", OWNER, "guess guess guess").await;
    assert_eq!(r.status, 401, "after the wait a try is checked: {}", r.body);
    let r = sign_in(&s, "203.0.113.66", OWNER, "guess guess guess").await;
    assert_eq!(r.status, 429);
    assert!((3..=4).contains(&retry_after(&r)), "{:?}", r.headers);

    // Many addresses together (a botnet) reach the account's limit: the account is
    // locked, but only to addresses it has never signed in from.
    for i in 0..6 {
        let r = sign_in(&s, &format!("192.0.2.{i}"), OWNER, "guess guess guess").await;
        assert_eq!(r.status, 401);
    }
    let r = sign_in(&s, "192.0.2.200", OWNER, PASSWORD).await;
    assert_eq!(r.status, 429, "locked to a new address: {}", r.body);
    assert!(r.body.contains("locked"), "{}", r.body);
    assert!(retry_after(&r) > 0);
    // The owner's own addresses still get in.
    assert_eq!(sign_in(&s, "10.0.0.1", OWNER, PASSWORD).await.status, 303);
    assert_eq!(
        sign_in(&s, "198.51.100.7", OWNER, PASSWORD).await.status,
        303
    );
    // Other accounts are untouched.
    assert_eq!(
        sign_in(&s, "192.0.2.201", "staff@alpha.test", PASSWORD)
            .await
            .status,
        303
    );

    let log = s.control().audit_log("alpha", 200).await.unwrap();
    assert!(
        log.iter()
            .any(|a| a.action == "account_locked" && a.actor == OWNER),
        "{log:?}"
    );
    assert!(log
        .iter()
        .any(|a| a.action == "login_throttled" && a.ip == "203.0.113.66"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_default_numbers_are_the_documented_ones() {
    let c = backstock_web::Config::new(std::path::PathBuf::from("/nonexistent"));
    assert_eq!(c.max_ip_failures, 5);
    assert_eq!(c.ip_delay_secs, 1);
    assert_eq!(c.max_ip_delay_secs, 15 * 60);
    assert_eq!(c.throttle_window, 24 * 3600);
    assert_eq!(c.max_account_failures, 50);
    assert_eq!(c.lock_window, 3600);
    assert_eq!(c.known_address_secs, 30 * 86_400);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_throttle_survives_a_restart() {
    let s = start(|c| {
        c.behind_proxy = true;
        c.max_ip_failures = 2;
        c.ip_delay_secs = 60;
    })
    .await;
    for _ in 0..2 {
        assert_eq!(
            sign_in(&s, "203.0.113.9", OWNER, "guess guess guess")
                .await
                .status,
            401
        );
    }
    // A second server on the same data directory (a restart) holds the same wait.
    let mut config = s.state.config.clone();
    config.behind_proxy = true;
    let state = backstock_web::AppState::open(config).await.unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { backstock_web::serve_on(listener, state).await });
    let r = request(
        addr,
        "POST",
        "/login",
        &[
            (
                "Content-Type",
                "application/x-www-form-urlencoded".to_string(),
            ),
            ("X-Forwarded-For", "203.0.113.9".to_string()),
        ],
        &form(&[("email", OWNER), ("password", PASSWORD), ("next", "/")]),
    )
    .await;
    assert_eq!(r.status, 429, "{}", r.body);
    assert!(retry_after(&r) > 50);
}
