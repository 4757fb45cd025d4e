//! Issue 19.7: API tokens. A token minted with a token is revoked with its parent; a
//! password change ends every token; the create response gives the token's id.

use crate::common;
use common::*;

async fn bearer(s: &Server, method: &str, path: &str, token: &str, body: &[u8]) -> Resp {
    request(
        s.addr,
        method,
        path,
        &[
            ("Authorization", format!("Bearer {token}")),
            ("Content-Type", "application/json".to_string()),
        ],
        body,
    )
    .await
}

/// (token, id) minted with a token.
async fn mint(s: &Server, with: &str, name: &str) -> (String, i64) {
    let r = bearer(
        s,
        "POST",
        "/api/v1/tokens",
        with,
        format!(r#"{{"name":"{name}"}}"#).as_bytes(),
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.body);
    let j = r.json();
    (
        j["token"].as_str().unwrap().to_string(),
        j["id"].as_i64().expect("the create response gives the id"),
    )
}

async fn works(s: &Server, token: &str) -> bool {
    bearer(s, "GET", "/api/v1/me", token, b"").await.status == 200
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn revoking_a_token_revokes_what_it_minted_and_a_new_password_ends_every_token() {
    let s = start(|_| {}).await;
    let owner = s.login("owner@alpha.test").await;
    let r = s
        .post(
            "/api/v1/tokens",
            &owner,
            "application/json",
            br#"{"name":"parent"}"#,
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    let parent = r.json()["token"].as_str().unwrap().to_string();
    let parent_id = r.json()["id"]
        .as_i64()
        .expect("the create response gives the id");
    // The id is the one /api/v1/me lists and revoke takes.
    let me = bearer(&s, "GET", "/api/v1/me", &parent, b"").await.json();
    assert!(me["tokens"]
        .as_array()
        .unwrap()
        .iter()
        .any(|t| t["id"] == parent_id && t["name"] == "parent"));
    let (child, child_id) = mint(&s, &parent, "child").await;
    let (grandchild, _) = mint(&s, &child, "grandchild").await;
    let (other, _) = mint(&s, &parent, "other child").await;
    let me = bearer(&s, "GET", "/api/v1/me", &child, b"").await.json();
    let listed = me["tokens"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["id"] == child_id)
        .unwrap()
        .clone();
    assert_eq!(listed["parent"], parent_id, "{listed}");
    // A sibling made by the session is not touched by revoking the parent.
    let r = s
        .post(
            "/api/v1/tokens",
            &owner,
            "application/json",
            br#"{"name":"sibling"}"#,
        )
        .await;
    let sibling = r.json()["token"].as_str().unwrap().to_string();
    for t in [&parent, &child, &grandchild, &other, &sibling] {
        assert!(works(&s, t).await);
    }
    // Revoking the parent revokes the tokens it minted, and theirs.
    let r = s
        .post_form(&format!("/account/tokens/{parent_id}/revoke"), &owner, &[])
        .await;
    assert_eq!(r.status, 303, "{}", r.body);
    for t in [&parent, &child, &grandchild, &other] {
        let r = bearer(&s, "GET", "/api/v1/me", t, b"").await;
        assert_eq!((r.status, r.error_code().as_str()), (401, "bad_token"));
    }
    assert!(works(&s, &sibling).await);

    // A token cannot outlive a password change, whoever changes it.
    let (minted, _) = mint(&s, &sibling, "minted").await;
    let r = s
        .post_form(
            "/account/password",
            &owner,
            &[("current", PASSWORD), ("new", "another long password")],
        )
        .await;
    assert_eq!(r.status, 303, "{}", r.body);
    for t in [&sibling, &minted] {
        let r = bearer(&s, "GET", "/api/v1/me", t, b"").await;
        assert_eq!((r.status, r.error_code().as_str()), (401, "bad_token"));
    }
    // …and the CLI's `user password` too.
    let (t, _) = {
        let t = s
            .control()
            .create_token(
                s.control()
                    .user_by_email("staff@alpha.test")
                    .await
                    .unwrap()
                    .unwrap()
                    .id,
                "cli",
            )
            .await
            .unwrap();
        (t, ())
    };
    assert!(works(&s, &t).await);
    let staff = s
        .control()
        .user_by_email("staff@alpha.test")
        .await
        .unwrap()
        .unwrap();
    s.control()
        .set_password(staff.id, "yet another password")
        .await
        .unwrap();
    assert!(!works(&s, &t).await);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn revoking_through_the_api_names_what_went_with_it() {
    let s = start(|_| {}).await;
    let owner = s.login("owner@alpha.test").await;
    let r = s
        .post(
            "/api/v1/tokens",
            &owner,
            "application/json",
            br#"{"name":"root"}"#,
        )
        .await;
    let root = r.json()["token"].as_str().unwrap().to_string();
    let root_id = r.json()["id"].as_i64().unwrap();
    let (child, _) = mint(&s, &root, "child").await;
    // Any of the user's tokens may revoke another of theirs; the answer names what
    // went with it.
    let r = bearer(
        &s,
        "POST",
        &format!("/api/v1/tokens/{root_id}/revoke"),
        &child,
        b"",
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.json()["revoked"], "root");
    assert_eq!(r.json()["also_revoked"][0], "child", "{}", r.body);
    assert!(!works(&s, &root).await);
    assert!(!works(&s, &child).await);
    let log = s.control().audit_log("alpha", 200).await.unwrap();
    assert!(
        log.iter().any(|a| a.action == "token_revoked"
            && a.detail
                .contains("root and the 1 token minted with it: child")),
        "{log:?}"
    );
    assert!(log
        .iter()
        .any(|a| a.action == "token_created" && a.detail.contains("minted with token")));
}
