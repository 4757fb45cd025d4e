//! Issue 18.6: an invitation defaults to the least privilege; an artist's payee (and a
//! distributor member's distributor) is picked from the label's own, and an id that
//! does not exist is refused with a sentence, in the form and the API.

use crate::common;
use common::*;

/// The `<select>` with this id.
fn select<'a>(html: &'a str, id: &str) -> &'a str {
    let at = html
        .find(&format!("<select id=\"{id}\""))
        .unwrap_or_else(|| panic!("a select {id}: {html}"));
    &html[at..at + html[at..].find("</select>").unwrap()]
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_invitation_form_defaults_to_the_least_privilege_and_lists_the_payees() {
    let s = start(|_| {}).await;
    let owner = s.login("owner@alpha.test").await;
    let page = s.get("/t/alpha/users", Some(&owner)).await;
    assert_eq!(page.status, 200);
    let roles = select(&page.body, "invite-role");
    assert!(
        roles.contains(r#"<option value="bookkeeper" selected>"#),
        "{roles}"
    );
    assert!(!roles.contains(r#"value="owner" selected"#), "{roles}");
    // The party is picked: the label's payees (for an artist), its distributors.
    let parties = select(&page.body, "invite-party");
    for id in ["june-okafor", "other-artist", "alphadist", "northwind"] {
        assert!(
            parties.contains(&format!("value=\"{id}\"")),
            "{id}: {parties}"
        );
    }
    assert!(parties.contains("June Okafor"), "{parties}");

    // Invited without a role: the least privilege.
    let r = s
        .post_form(
            "/t/alpha/users",
            &owner,
            &[
                ("email", "quiet@alpha.test"),
                ("password", "a new long password"),
            ],
        )
        .await;
    assert_eq!(r.status, 303, "{}", r.body);
    let u = s
        .control()
        .user_by_email("quiet@alpha.test")
        .await
        .unwrap()
        .unwrap();
    let m = s
        .control()
        .membership(u.id, "alpha")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(m.role.as_str(), "bookkeeper");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_payee_that_does_not_exist_is_refused_with_a_sentence() {
    let s = start(|_| {}).await;
    let owner = s.login("owner@alpha.test").await;
    // `june` for `june-okafor`: refused, on the page and in the API.
    let r = s
        .post_form(
            "/t/alpha/users",
            &owner,
            &[
                ("email", "june@alpha.test"),
                ("role", "artist"),
                ("party", "june"),
                ("password", "a new long password"),
            ],
        )
        .await;
    assert_eq!(r.status, 400, "{}", r.body);
    assert!(
        r.body.contains("this label has no payee june"),
        "{}",
        r.body
    );
    assert!(
        r.body.contains("june-okafor"),
        "names the payees: {}",
        r.body
    );
    assert!(
        s.control()
            .user_by_email("june@alpha.test")
            .await
            .unwrap()
            .is_none(),
        "no account made by a refused invitation"
    );
    let token = s
        .post(
            "/api/v1/tokens",
            &owner,
            "application/json",
            br#"{"name":"t"}"#,
        )
        .await
        .json()["token"]
        .as_str()
        .unwrap()
        .to_string();
    let api = |body: &'static str| {
        let token = token.clone();
        let addr = s.addr;
        async move {
            request(
                addr,
                "POST",
                "/api/v1/t/alpha/members",
                &[
                    ("Authorization", format!("Bearer {token}")),
                    ("Content-Type", "application/json".to_string()),
                ],
                body.as_bytes(),
            )
            .await
        }
    };
    let r = api(
        r#"{"email":"june@alpha.test","role":"artist","party":"june","password":"a new long password"}"#,
    )
    .await;
    assert_eq!(
        (r.status, r.error_code().as_str()),
        (400, "invalid_input"),
        "{}",
        r.body
    );
    assert!(
        r.body.contains("this label has no payee june"),
        "{}",
        r.body
    );
    // A distributor id that does not exist, likewise.
    let r = api(
        r#"{"email":"d@alpha.test","role":"distributor","party":"nodist","password":"a new long password"}"#,
    )
    .await;
    assert_eq!(r.status, 400, "{}", r.body);
    assert!(
        r.body.contains("this label has no distributor nodist"),
        "{}",
        r.body
    );
    // The right id is accepted; the JSON may leave the role out (least privilege).
    let r = api(
        r#"{"email":"june@alpha.test","role":"artist","party":"june-okafor","password":"a new long password"}"#,
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.body);
    let r = api(r#"{"email":"plain@alpha.test","password":"a new long password"}"#).await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert!(r.body.contains("as bookkeeper"), "{}", r.body);
    // A role change to artist checks the payee too.
    let u = s
        .control()
        .user_by_email("plain@alpha.test")
        .await
        .unwrap()
        .unwrap();
    let r = s
        .post_form(
            &format!("/t/alpha/users/{}/role", u.id),
            &owner,
            &[("role", "artist"), ("party", "fernhill")],
        )
        .await;
    assert_eq!(r.status, 400, "{}", r.body);
    assert!(
        r.body.contains("this label has no payee fernhill"),
        "{}",
        r.body
    );
}

/// The party picker offers the label's payees on file only — not names made from the
/// catalog's artists (`elk-ember` beside the real `elk-and-ember`) — and each id it
/// offers is accepted, anything else refused.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_pick_list_offers_exactly_the_parties_the_check_accepts() {
    let s = start_demo().await;
    let owner = s.login("owner@marigold.test").await;
    let page = s.get("/t/marigold/users", Some(&owner)).await;
    assert_eq!(page.status, 200, "{}", page.body);
    let parties = select(&page.body, "invite-party");
    let group = |label: &str| -> Vec<String> {
        let at = parties
            .find(&format!("<optgroup label=\"{label}\">"))
            .unwrap_or_else(|| panic!("{label}: {parties}"));
        let g = &parties[at..at + parties[at..].find("</optgroup>").unwrap()];
        g.split("<option value=\"")
            .skip(1)
            .map(|o| o[..o.find('"').unwrap()].to_string())
            .collect()
    };
    let payees = group("payees (for an artist)");
    assert_eq!(
        payees,
        [
            "elk-and-ember",
            "june-okafor",
            "leon-brandt",
            "marta-villanueva",
            "tidewater-band"
        ],
        "{parties}"
    );
    let distributors = group("distributors (for a distributor)");
    assert!(distributors.contains(&"cascade".to_string()), "{parties}");

    // Each offered id is accepted (a member's role changed to it), by role.
    let u = s
        .control()
        .user_by_email("bookkeeper@marigold.test")
        .await
        .unwrap()
        .unwrap();
    let path = format!("/t/marigold/users/{}/role", u.id);
    for (role, ids) in [("artist", &payees), ("distributor", &distributors)] {
        for id in ids.iter() {
            let r = s
                .post_form(&path, &owner, &[("role", role), ("party", id)])
                .await;
            assert_eq!(r.status, 303, "{role} {id}: {}", r.body);
        }
    }
    // A catalog artist's made-up id is not a payee: refused, naming the real one.
    let r = s
        .post_form(
            "/t/marigold/users",
            &owner,
            &[
                ("email", "elk@marigold.test"),
                ("role", "artist"),
                ("party", "elk-ember"),
                ("password", "a new long password"),
            ],
        )
        .await;
    assert_eq!(r.status, 400, "{}", r.body);
    let text = plain(&r.body);
    assert!(
        text.contains("this label has no payee elk-ember")
            && text.contains("elk-and-ember (Elk & Ember)"),
        "{text}"
    );
}

/// `backstock user add` and `user role` check the party as the web does, with the
/// same sentence; nothing is granted when refused.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_cli_checks_the_party_as_the_web_does() {
    let s = start(|_| {}).await;
    let c = s.control();
    let e = backstock_web::cli::user_add(
        c,
        BETA_OWNER,
        "alpha",
        "artist",
        Some("fernhill"),
        None,
        None,
    )
    .await
    .unwrap_err();
    assert!(
        e.message().contains("this label has no payee fernhill")
            && e.message().contains("june-okafor (June Okafor)"),
        "{}",
        e.message()
    );
    let beta_owner = c.user_by_email(BETA_OWNER).await.unwrap().unwrap();
    assert!(c
        .membership(beta_owner.id, "alpha")
        .await
        .unwrap()
        .is_none());
    let e = backstock_web::cli::user_add(
        c,
        BETA_OWNER,
        "alpha",
        "distributor",
        Some("nodist"),
        None,
        None,
    )
    .await
    .unwrap_err();
    assert!(
        e.message().contains("this label has no distributor nodist"),
        "{}",
        e.message()
    );
    let out = backstock_web::cli::user_add(
        c,
        BETA_OWNER,
        "alpha",
        "artist",
        Some("june-okafor"),
        None,
        None,
    )
    .await
    .unwrap();
    assert!(out.contains("is artist of alpha"), "{out}");

    // A role change likewise.
    let e = backstock_web::cli::user_role(c, "staff@alpha.test", "alpha", "artist", Some("june"))
        .await
        .unwrap_err();
    assert!(
        e.message().contains("this label has no payee june"),
        "{}",
        e.message()
    );
    let staff = c.user_by_email("staff@alpha.test").await.unwrap().unwrap();
    let m = c.membership(staff.id, "alpha").await.unwrap().unwrap();
    assert_eq!(m.role.as_str(), "staff");
    backstock_web::cli::user_role(
        c,
        "staff@alpha.test",
        "alpha",
        "distributor",
        Some("northwind"),
    )
    .await
    .unwrap();
}
