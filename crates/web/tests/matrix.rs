//! The authorization matrix: every route of the route table × every role × the own
//! tenant's and another tenant's ids. A role gets a route only when the role table
//! says so; nobody reads or writes another tenant's data, whatever the URL says.
//! Iterating over `routes::all()` means a new route is covered without editing this.

use crate::common;

use backstock_web::roles::{Access, Role};
use backstock_web::routes::{self, Body, Route, Verb};
use common::*;

/// The id of beta's owner's API token (the first token made on a fresh server).
const BETA_TOKEN_ID: &str = "1";

/// Fills a route's path: `{tenant}` and the ids given.
fn fill(path: &str, tenant: &str, distributor: &str, upload: &str, user: &str) -> String {
    // Token ids: beta's owner's token (see `BETA_TOKEN_ID`), never the caller's own.
    path.replace("{token}", BETA_TOKEN_ID)
        .replace("{tenant}", tenant)
        .replace("{distributor}", distributor)
        .replace("{upload}", upload)
        .replace("{user}", user)
        .replace("{period}", "2016H1")
        .replace("{payee}", "june-okafor")
}

/// A plausible value for a declared field, so a write reaches its handler (and its
/// id checks) instead of failing on the body.
fn value(field: &str, email: &str) -> String {
    match field {
        "email" => email.to_string(),
        "password" => PASSWORD.to_string(),
        "role" => "staff".into(),
        "sku" => "ALP-001-CD".into(),
        "units" => "1".into(),
        "locale" => "en-US".into(),
        "currency" => "USD".into(),
        "next" => "/".into(),
        "name" => "probe".into(),
        _ => String::new(),
    }
}

/// A request body of the route's kind, its declared fields filled.
fn body(r: &Route, csrf: &str, email: &str) -> (String, Vec<u8>) {
    let filled = |fields: &[(&str, &str)]| -> Vec<(String, String)> {
        fields
            .iter()
            .filter(|(k, _)| *k != "file" && *k != "csrf")
            .map(|(k, _)| (k.to_string(), value(k, email)))
            .collect()
    };
    match r.body {
        Body::None => ("application/json".into(), Vec::new()),
        Body::Form(f) => {
            let mut v = filled(f);
            v.push(("csrf".into(), csrf.to_string()));
            let pairs: Vec<(&str, &str)> =
                v.iter().map(|(a, b)| (a.as_str(), b.as_str())).collect();
            ("application/x-www-form-urlencoded".into(), form(&pairs))
        }
        Body::Multipart(f) => {
            let v = filled(f);
            let pairs: Vec<(&str, &str)> =
                v.iter().map(|(a, b)| (a.as_str(), b.as_str())).collect();
            (
                format!("multipart/form-data; boundary={BOUNDARY}"),
                multipart(&pairs, Some(("probe.csv", b"probe\n"))),
            )
        }
        Body::Json(f) => {
            let mut o = serde_json::Map::new();
            for (k, v) in filled(f) {
                let v = if k == "units" {
                    serde_json::json!(1)
                } else {
                    serde_json::json!(v)
                };
                o.insert(k, v);
            }
            (
                "application/json".into(),
                serde_json::Value::Object(o).to_string().into_bytes(),
            )
        }
    }
}

async fn call(s: &Server, r: &Route, path: &str, who: Option<(&Session, &str)>) -> Resp {
    let (ct, b) = body(
        r,
        who.map(|w| w.0.csrf.as_str()).unwrap_or(""),
        who.map(|w| w.1).unwrap_or("probe@alpha.test"),
    );
    let mut h = vec![("Content-Type", ct)];
    if let Some((w, _)) = who {
        h.push(("Cookie", format!("bs_session={}", w.sid)));
        h.push(("x-csrf-token", w.csrf.clone()));
    }
    let method = match r.verb {
        Verb::Get => "GET",
        Verb::Post => "POST",
    };
    request(s.addr, method, path, &h, &b).await
}

fn denied_signed_out(r: &Route, resp: &Resp) -> bool {
    if r.is_api() {
        resp.status == 401
    } else {
        resp.status == 303
            && resp
                .header("location")
                .is_some_and(|l| l.starts_with("/login"))
    }
}

fn no_beta(resp: &Resp, ctx: &str) {
    for m in BETA_MARKERS {
        assert!(
            !resp.body.contains(m),
            "{ctx}: the answer shows beta's {m:?}: {}",
            resp.body
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_route_every_role_no_cross_tenant_access() {
    let s = start(|c| {
        c.max_ip_failures = 1_000;
    })
    .await;
    // Beta's owner leaves an upload waiting; its id is one of "another tenant's ids".
    let beta = s.login(BETA_OWNER).await;
    let p = s
        .post(
            "/api/v1/t/beta/imports",
            &beta,
            &format!("multipart/form-data; boundary={BOUNDARY}"),
            &multipart(
                &[],
                Some(("b.csv", BETA_SHIPMENTS.replace("BS1", "BS2").as_bytes())),
            ),
        )
        .await;
    assert_eq!(p.status, 200, "{}", p.body);
    let beta_upload = p.json()["upload_id"].as_str().unwrap().to_string();
    let beta_token = s
        .control()
        .create_token(
            s.control()
                .user_by_email(BETA_OWNER)
                .await
                .unwrap()
                .unwrap()
                .id,
            "beta",
        )
        .await
        .unwrap();
    let beta_tokens = s
        .control()
        .tokens_of(
            s.control()
                .user_by_email(BETA_OWNER)
                .await
                .unwrap()
                .unwrap()
                .id,
        )
        .await
        .unwrap();
    assert_eq!(beta_tokens[0].0.to_string(), BETA_TOKEN_ID);
    let beta_user = s
        .control()
        .user_by_email(BETA_OWNER)
        .await
        .unwrap()
        .unwrap()
        .id
        .to_string();
    let beta_len = || async {
        let st = backstock_store::Store::open(&s.control().label_dir("beta"), false)
            .await
            .unwrap();
        st.entry_count().await.unwrap()
    };
    let beta_entries = beta_len().await;
    let beta_members = s.control().members("beta").await.unwrap().len();
    let beta_row = s.control().tenant("beta").await.unwrap().unwrap();

    let all = routes::all();
    assert!(all.len() >= 30);
    // The daily actions (issue 14.2) are in the table, so covered here.
    for (verb, path) in [
        (Verb::Post, "/api/v1/t/{tenant}/payments"),
        (Verb::Post, "/api/v1/t/{tenant}/corrections"),
        (Verb::Post, "/api/v1/t/{tenant}/demands"),
        (Verb::Get, "/t/{tenant}/record"),
    ] {
        assert!(
            all.iter().any(|r| r.verb == verb && r.path == path),
            "{path} is not in the route table"
        );
    }
    let mut checked = 0;
    for (email, role, _) in ALPHA_USERS {
        let mut me = s.login(email).await;
        for r in &all {
            let ctx = format!("{email} ({role}) {} {}", r.verb.as_str(), r.path);
            // 1. Own tenant, other tenant's ids (and the role's own distributor).
            // alphadist is alpha's and the distributor member's own.
            let path = fill(r.path, "alpha", "alphadist", &beta_upload, &beta_user);
            let resp = call(&s, r, &path, Some((&me, email))).await;
            no_beta(&resp, &ctx);
            match r.access {
                Access::Public | Access::Signed => {
                    assert!(
                        !matches!(resp.status, 401 | 403),
                        "{ctx}: {} {}",
                        resp.status,
                        resp.body
                    );
                }
                Access::Tenant(p) => {
                    if role.may(p) {
                        assert!(
                            !matches!(resp.status, 401 | 403),
                            "{ctx}: allowed but {} {}",
                            resp.status,
                            resp.body
                        );
                        if r.path.contains("{upload}") || r.path.contains("{user}") {
                            // Beta's upload / beta's user seen from alpha: not found.
                            assert_eq!(
                                resp.status, 404,
                                "{ctx}: another tenant's id: {}",
                                resp.body
                            );
                        }
                        if r.verb == Verb::Get && !r.path.contains('{') {
                            assert!(resp.status < 400, "{ctx}: {} {}", resp.status, resp.body);
                        }
                    } else {
                        assert_eq!(
                            resp.status, 403,
                            "{ctx}: not allowed but {} {}",
                            resp.status, resp.body
                        );
                    }
                }
            }
            // 2. The other tenant in the URL: never found, whatever the role.
            if r.path.contains("{tenant}") {
                let path = fill(r.path, "beta", "betadist", &beta_upload, &beta_user);
                let resp = call(&s, r, &path, Some((&me, email))).await;
                assert_eq!(
                    resp.status, 404,
                    "{ctx} on beta: {} {}",
                    resp.status, resp.body
                );
                no_beta(&resp, &ctx);
                assert!(!resp.body.contains("betadist"), "{ctx}");
            }
            // 3. The own tenant with another tenant's (or another distributor's) party.
            if r.path.contains("{distributor}") {
                for other in [
                    "betadist",
                    if role == Role::Distributor {
                        "northwind"
                    } else {
                        "nobody"
                    },
                ] {
                    let path = fill(r.path, "alpha", other, &beta_upload, &beta_user);
                    let resp = call(&s, r, &path, Some((&me, email))).await;
                    no_beta(&resp, &ctx);
                    if let Access::Tenant(p) = r.access {
                        // Not found; a write may fail earlier on its (harmless) body.
                        let ok = match (role.may(p), r.verb) {
                            (false, _) => matches!(resp.status, 403 | 404),
                            (true, Verb::Get) => resp.status == 404,
                            (true, Verb::Post) => matches!(resp.status, 400 | 404 | 422),
                        };
                        assert!(ok, "{ctx} with {other}: {} {}", resp.status, resp.body);
                    }
                }
            }
            checked += 1;
            if r.path == "/logout" {
                me = s.login(email).await;
            }
        }
    }
    // Signed out: every non-public route refuses.
    for r in &all {
        let path = fill(r.path, "alpha", "alphadist", &beta_upload, &beta_user);
        let resp = call(&s, r, &path, None).await;
        no_beta(&resp, r.path);
        if r.access != Access::Public {
            assert!(
                denied_signed_out(r, &resp),
                "signed out {} {}: {} {}",
                r.verb.as_str(),
                r.path,
                resp.status,
                resp.body
            );
        }
    }
    // An API token of alpha's owner reaches nothing of beta either.
    let owner = s.login("owner@alpha.test").await;
    let token = s
        .post(
            "/api/v1/tokens",
            &owner,
            "application/json",
            br#"{"name":"m"}"#,
        )
        .await
        .json()["token"]
        .as_str()
        .unwrap()
        .to_string();
    for r in all
        .iter()
        .filter(|r| r.is_api() && r.path.contains("{tenant}"))
    {
        let (ct, b) = body(r, "", "owner@alpha.test");
        let path = fill(r.path, "beta", "betadist", &beta_upload, &beta_user);
        let resp = request(
            s.addr,
            r.verb.as_str(),
            &path,
            &[
                ("Authorization", format!("Bearer {token}")),
                ("Content-Type", ct),
            ],
            &b,
        )
        .await;
        assert_eq!(
            (resp.status, resp.error_code().as_str()),
            (404, "not_found"),
            "token {}: {}",
            r.path,
            resp.body
        );
    }
    assert!(checked >= all.len() * ALPHA_USERS.len());
    // Beta is as it was: no entry, member, setting or waiting upload touched.
    assert_eq!(beta_len().await, beta_entries);
    assert_eq!(
        s.control().members("beta").await.unwrap().len(),
        beta_members
    );
    let row = s.control().tenant("beta").await.unwrap().unwrap();
    assert_eq!(
        (row.locale, row.currency),
        (beta_row.locale, beta_row.currency)
    );
    let beta_user_id: i64 = beta_user.parse().unwrap();
    let r = request(
        s.addr,
        "GET",
        "/api/v1/me",
        &[("Authorization", format!("Bearer {beta_token}"))],
        b"",
    )
    .await;
    assert_eq!(r.status, 200, "beta's token still works: {}", r.body);
    assert!(s
        .control()
        .upload(&beta_upload, beta_user_id, "beta")
        .await
        .unwrap()
        .is_some());
}
