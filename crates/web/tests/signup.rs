//! Issue 14.1: sign-up (an account and its first label), invitations by one-time
//! link, password reset by the same mechanism; `--no-signup`; links used once and
//! only until they expire; a reset ends every session and API token; labels stay
//! apart.

use crate::common;
use backstock_web::control::LinkKind;
use backstock_web::roles::Role;
use backstock_web::signup::{Mail, Sent, SmtpUrl};
use common::*;
use std::sync::{Arc, Mutex};

/// The value a response's `Set-Cookie` gives `name`.
fn set_cookie(r: &Resp, name: &str) -> Option<String> {
    r.headers
        .iter()
        .filter(|(k, _)| k.eq_ignore_ascii_case("set-cookie"))
        .find_map(|(_, v)| v.strip_prefix(&format!("{name}=")))
        .map(|v| v.split(';').next().unwrap_or("").to_string())
}

/// A signed-out browser's form: the page, its `bs_form` cookie and the token in it.
async fn open_form(s: &Server, path: &str) -> (Resp, String, String) {
    let r = s.get(path, None).await;
    assert_eq!(r.status, 200, "{path}: {}", r.body);
    let cookie = set_cookie(&r, "bs_form").expect("a form cookie");
    let csrf = csrf_of(&r.body).expect("a form token");
    assert_eq!(cookie, csrf);
    (r, cookie, csrf)
}

/// A signed-out POST of a form with its cookie.
async fn post_out(s: &Server, path: &str, cookie: &str, fields: &[(&str, &str)]) -> Resp {
    request(
        s.addr,
        "POST",
        path,
        &[
            ("Cookie", format!("bs_form={cookie}")),
            (
                "Content-Type",
                "application/x-www-form-urlencoded".to_string(),
            ),
        ],
        &form(fields),
    )
    .await
}

async fn with_outbox() -> (Server, Arc<Mutex<Vec<Sent>>>) {
    let (mail, outbox) = Mail::outbox();
    let s = start(move |c| c.mail = mail).await;
    (s, outbox)
}

/// The path of the link (`/invite/…`, `/reset/…`) in a text.
fn link_path(text: &str, prefix: &str) -> String {
    let i = text
        .find(prefix)
        .unwrap_or_else(|| panic!("{prefix} in {text}"));
    let token: String = text[i + prefix.len()..]
        .chars()
        .take_while(|c| c.is_ascii_hexdigit())
        .collect();
    assert_eq!(token.len(), 64, "{text}");
    format!("{prefix}{token}")
}

async fn mails_to(outbox: &Arc<Mutex<Vec<Sent>>>, to: &str) -> Vec<Sent> {
    at_least(outbox, to, 1).await
}

/// The mails to `to` once there are `n` (reset mails leave off the request's time:
/// they are waited for a little).
async fn at_least(outbox: &Arc<Mutex<Vec<Sent>>>, to: &str, n: usize) -> Vec<Sent> {
    let mut found = Vec::new();
    for _ in 0..50 {
        found = outbox
            .lock()
            .unwrap()
            .iter()
            .filter(|m| m.to == to)
            .cloned()
            .collect();
        if found.len() >= n {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(40)).await;
    }
    found
}

async fn token_of(s: &Server, session: &Session) -> String {
    s.post(
        "/api/v1/tokens",
        session,
        "application/json",
        br#"{"name":"t"}"#,
    )
    .await
    .json()["token"]
        .as_str()
        .unwrap()
        .to_string()
}

async fn api(s: &Server, method: &str, path: &str, token: &str, body: &str) -> Resp {
    request(
        s.addr,
        method,
        path,
        &[
            ("Authorization", format!("Bearer {token}")),
            ("Content-Type", "application/json".to_string()),
        ],
        body.as_bytes(),
    )
    .await
}

async fn actions(s: &Server, tenant: &str) -> Vec<String> {
    s.control()
        .audit_log(tenant, 1000)
        .await
        .unwrap()
        .into_iter()
        .map(|a| a.action)
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sign_up_makes_the_account_and_its_label_and_lands_on_the_dashboard() {
    // More tries than the throttle lets an address make (tested on its own below).
    let s = start(|c| c.max_ip_failures = 100).await;
    let (page, cookie, csrf) = open_form(&s, "/signup").await;
    assert!(page.body.contains("id=\"signup-form\""), "{}", page.body);
    let fields = [
        ("csrf", csrf.as_str()),
        ("email", "Founder@Gamma.test"),
        ("name", "Fran Founder"),
        ("password", "a long enough password"),
        ("label_name", "Gamma Records"),
        ("label_slug", "gamma"),
    ];
    // Without the form's token (or with another), refused.
    let r = post_out(&s, "/signup", "f".repeat(64).as_str(), &fields).await;
    assert_eq!(r.status, 403, "{}", r.body);
    assert!(s.control().tenant("gamma").await.unwrap().is_none());
    // A bad label id: said on the form, which keeps what was typed.
    let mut bad = fields;
    bad[5] = ("label_slug", "Gamma Records!");
    let r = post_out(&s, "/signup", &cookie, &bad).await;
    assert_eq!(r.status, 400, "{}", r.body);
    assert!(r.body.contains("is not a label id"), "{}", r.body);
    assert!(r.body.contains("value=\"Fran Founder\""), "{}", r.body);
    assert!(s
        .control()
        .user_by_email("founder@gamma.test")
        .await
        .unwrap()
        .is_none());
    // A label id taken: refused, nothing made.
    let mut taken = fields;
    taken[5] = ("label_slug", "alpha");
    let r = post_out(&s, "/signup", &cookie, &taken).await;
    assert_eq!(r.status, 409, "{}", r.body);
    assert!(r.body.contains("is taken"), "{}", r.body);
    assert!(s
        .control()
        .user_by_email("founder@gamma.test")
        .await
        .unwrap()
        .is_none());

    let r = post_out(&s, "/signup", &cookie, &fields).await;
    assert_eq!(r.status, 303, "{}", r.body);
    assert_eq!(r.header("location"), Some("/t/gamma/dashboard"));
    let sid = r.session().expect("signed in");
    // The label exists, with its store where `user add --create-label` puts it.
    let row = s.control().tenant("gamma").await.unwrap().unwrap();
    assert_eq!(row.name, "Gamma Records");
    assert!(s
        .control()
        .label_dir("gamma")
        .join(backstock_store::DB_FILE)
        .exists());
    let u = s
        .control()
        .user_by_email("founder@gamma.test")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(u.name, "Fran Founder");
    let m = s
        .control()
        .membership(u.id, "gamma")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(m.role, Role::Owner);
    let me = Session {
        sid: sid.clone(),
        csrf: String::new(),
    };
    let dash = s.get("/t/gamma/dashboard", Some(&me)).await;
    assert_eq!(dash.status, 200, "{}", dash.body);
    assert!(dash.body.contains("Gamma Records"), "{}", dash.body);
    let a = actions(&s, "gamma").await;
    assert!(a.contains(&"label_created".to_string()), "{a:?}");
    assert!(a.contains(&"signup".to_string()), "{a:?}");

    // The same email again: it has an account.
    let (_, c2, t2) = open_form(&s, "/signup").await;
    let mut again = fields;
    again[0] = ("csrf", t2.as_str());
    again[5] = ("label_slug", "gamma-two");
    let r = post_out(&s, "/signup", &c2, &again).await;
    assert_eq!(r.status, 400, "{}", r.body);
    assert!(r.body.contains("has an account already"), "{}", r.body);

    // Signed in: another label, by the page and by the API.
    let me = s
        .login_raw("founder@gamma.test", "a long enough password", None)
        .await;
    let sid = me.session().unwrap();
    let page = s
        .get(
            "/account",
            Some(&Session {
                sid: sid.clone(),
                csrf: String::new(),
            }),
        )
        .await;
    let me = Session {
        sid,
        csrf: csrf_of(&page.body).unwrap(),
    };
    let form = s.get("/signup", Some(&me)).await;
    assert_eq!(form.status, 200);
    assert!(!form.body.contains("signup-password"), "{}", form.body);
    let r = s
        .post_form(
            "/signup",
            &me,
            &[("label_name", "Gamma Two"), ("label_slug", "gamma-two")],
        )
        .await;
    assert_eq!(r.status, 303, "{}", r.body);
    assert_eq!(r.header("location"), Some("/t/gamma-two/dashboard"));
    let r = s
        .post(
            "/api/v1/labels",
            &me,
            "application/json",
            br#"{"name":"Gamma Three","slug":"gamma-3"}"#,
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.json()["label"]["slug"], "gamma-3");
    assert_eq!(r.json()["role"], "owner");
    assert!(s
        .control()
        .label_dir("gamma-3")
        .join(backstock_store::DB_FILE)
        .exists());
    let r = s
        .post(
            "/api/v1/labels",
            &me,
            "application/json",
            br#"{"name":"Again","slug":"gamma-3"}"#,
        )
        .await;
    assert_eq!(
        (r.status, r.error_code().as_str()),
        (409, "refused"),
        "{}",
        r.body
    );
    // A directory already under labels/ (a store nobody was given) is never handed out.
    std::fs::create_dir_all(s.control().label_dir("orphan")).unwrap();
    let r = s
        .post(
            "/api/v1/labels",
            &me,
            "application/json",
            br#"{"name":"Orphan","slug":"orphan"}"#,
        )
        .await;
    assert_eq!(r.status, 409, "{}", r.body);
    let ms = s.control().memberships_of(u.id).await.unwrap();
    assert_eq!(ms.len(), 3, "{ms:?}");
    assert!(ms.iter().all(|m| m.role == Role::Owner));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_signup_closes_sign_up_and_label_creation() {
    let s = start(|c| c.no_signup = true).await;
    let r = s.get("/signup", None).await;
    assert_eq!(r.status, 404, "{}", r.body);
    assert!(r.body.contains("sign-up is closed"), "{}", r.body);
    let r = post_out(
        &s,
        "/signup",
        "x",
        &[
            ("email", "a@b.test"),
            ("password", "a long enough password"),
            ("label_name", "X"),
            ("label_slug", "x"),
        ],
    )
    .await;
    assert_eq!(r.status, 404, "{}", r.body);
    let owner = s.login("owner@alpha.test").await;
    let r = s
        .post(
            "/api/v1/labels",
            &owner,
            "application/json",
            br#"{"name":"X","slug":"x"}"#,
        )
        .await;
    assert_eq!(r.status, 404, "{}", r.body);
    assert!(s.control().tenant("x").await.unwrap().is_none());
    // Invitations still work.
    let t = token_of(&s, &owner).await;
    let r = api(
        &s,
        "POST",
        "/api/v1/t/alpha/invitations",
        &t,
        r#"{"email":"new@alpha.test"}"#,
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.body);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_invitation_link_makes_a_member_with_its_role() {
    let (s, outbox) = with_outbox().await;
    let owner = s.login("owner@alpha.test").await;
    let t = token_of(&s, &owner).await;
    let r = api(
        &s,
        "POST",
        "/api/v1/t/alpha/invitations",
        &t,
        r#"{"email":"June@Alpha.test","role":"artist","party":"june-okafor"}"#,
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.body);
    let inv = &r.json()["invitation"];
    assert_eq!(inv["email"], "june@alpha.test");
    assert_eq!(inv["role"], "artist");
    assert_eq!(inv["party"], "june-okafor");
    assert_eq!(inv["mailed"], true);
    let link = inv["link"].as_str().unwrap().to_string();
    let path = link_path(&link, "/invite/");
    let mail = mails_to(&outbox, "june@alpha.test").await;
    assert_eq!(mail.len(), 1);
    assert!(mail[0].body.contains(&link), "{}", mail[0].body);
    // Only the link's hash is kept.
    let pending = s.control().pending_invitations("alpha").await.unwrap();
    assert_eq!(pending.len(), 1);
    let listed = api(&s, "GET", "/api/v1/t/alpha/invitations", &t, "").await;
    assert_eq!(listed.status, 200);
    assert!(!listed.body.contains(&path[8..]), "{}", listed.body);
    assert!(listed.body.contains("june@alpha.test"), "{}", listed.body);
    // An artist needs a payee of the label's; a member cannot be invited again.
    let r = api(
        &s,
        "POST",
        "/api/v1/t/alpha/invitations",
        &t,
        r#"{"email":"x@alpha.test","role":"artist","party":"june"}"#,
    )
    .await;
    assert_eq!(r.status, 400, "{}", r.body);
    assert!(
        r.body.contains("this label has no payee june"),
        "{}",
        r.body
    );
    let r = api(
        &s,
        "POST",
        "/api/v1/t/alpha/invitations",
        &t,
        r#"{"email":"staff@alpha.test","role":"bookkeeper"}"#,
    )
    .await;
    assert_eq!(r.status, 400, "{}", r.body);
    assert!(r.body.contains("already a member"), "{}", r.body);
    // Staff may not invite.
    let staff = s.login("staff@alpha.test").await;
    let r = s
        .post_form("/t/alpha/invitations", &staff, &[("email", "y@alpha.test")])
        .await;
    assert_eq!(r.status, 403, "{}", r.body);

    // The invitee opens the link and sets a password.
    let (page, cookie, csrf) = open_form(&s, &path).await;
    assert!(page.body.contains("Alpha Records"), "{}", page.body);
    assert!(page.body.contains("as artist"), "{}", page.body);
    let r = post_out(
        &s,
        &path,
        &cookie,
        &[
            ("csrf", &csrf),
            ("name", "June Okafor"),
            ("password", "june's long password"),
            ("password2", "june's other password"),
        ],
    )
    .await;
    assert_eq!(r.status, 400, "{}", r.body);
    assert!(r.body.contains("the two passwords differ"), "{}", r.body);
    let r = post_out(
        &s,
        &path,
        &cookie,
        &[
            ("csrf", &csrf),
            ("name", "June Okafor"),
            ("password", "short"),
            ("password2", "short"),
        ],
    )
    .await;
    assert_eq!(r.status, 400, "{}", r.body);
    let accept = [
        ("csrf", csrf.as_str()),
        ("name", "June Okafor"),
        ("password", "june's long password"),
        ("password2", "june's long password"),
    ];
    let r = post_out(&s, &path, &cookie, &accept).await;
    assert_eq!(r.status, 303, "{}", r.body);
    assert_eq!(r.header("location"), Some("/t/alpha"));
    let sid = r.session().expect("signed in");
    let u = s
        .control()
        .user_by_email("june@alpha.test")
        .await
        .unwrap()
        .unwrap();
    let m = s
        .control()
        .membership(u.id, "alpha")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        (m.role, m.party.as_deref()),
        (Role::Artist, Some("june-okafor"))
    );
    let me = Session {
        sid,
        csrf: String::new(),
    };
    assert_eq!(s.get("/t/alpha/statements", Some(&me)).await.status, 200);
    assert_eq!(s.get("/t/alpha/dashboard", Some(&me)).await.status, 403);
    // Used once.
    let r = post_out(&s, &path, &cookie, &accept).await;
    assert_eq!(r.status, 404, "{}", r.body);
    assert!(r.body.contains("has been used already"), "{}", r.body);
    assert_eq!(s.get(&path, None).await.status, 404);
    assert!(s
        .control()
        .pending_invitations("alpha")
        .await
        .unwrap()
        .is_empty());
    let a = actions(&s, "alpha").await;
    for want in [
        "invitation_created",
        "account_created",
        "invitation_accepted",
    ] {
        assert!(a.contains(&want.to_string()), "{want}: {a:?}");
    }

    // The Users page: the form and the link shown once, the invitation waiting.
    let page = s.get("/t/alpha/users", Some(&owner)).await;
    assert!(
        page.body.contains("id=\"link-invite-form\""),
        "{}",
        page.body
    );
    let r = s
        .post_form(
            "/t/alpha/invitations",
            &owner,
            &[
                ("email", "keeper@alpha.test"),
                ("role", "bookkeeper"),
                ("party", ""),
            ],
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert!(r.body.contains("id=\"invite-link\""), "{}", r.body);
    let path = link_path(&r.body, "/invite/");
    let page = s.get("/t/alpha/users", Some(&owner)).await;
    assert!(page.body.contains("keeper@alpha.test"), "{}", page.body);
    assert!(!page.body.contains(&path), "the link is not shown again");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_existing_account_accepts_with_its_own_password() {
    let s = start(|_| {}).await;
    let owner = s.login("owner@alpha.test").await;
    let r = s
        .post_form(
            "/t/alpha/invitations",
            &owner,
            &[("email", BETA_OWNER), ("role", "staff")],
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    let path = link_path(&r.body, "/invite/");
    let (page, cookie, csrf) = open_form(&s, &path).await;
    assert!(page.body.contains("You have an account"), "{}", page.body);
    // The owner, who saw the link, cannot set another account's password with it.
    let r = post_out(
        &s,
        &path,
        &cookie,
        &[
            ("csrf", &csrf),
            ("password", "a password I chose"),
            ("password2", "a password I chose"),
        ],
    )
    .await;
    assert_eq!(r.status, 401, "{}", r.body);
    let beta = s
        .control()
        .user_by_email(BETA_OWNER)
        .await
        .unwrap()
        .unwrap();
    assert!(s
        .control()
        .membership(beta.id, "alpha")
        .await
        .unwrap()
        .is_none());
    assert!(s
        .control()
        .check_login(BETA_OWNER, PASSWORD)
        .await
        .unwrap()
        .is_some());
    let r = post_out(
        &s,
        &path,
        &cookie,
        &[("csrf", &csrf), ("password", PASSWORD)],
    )
    .await;
    assert_eq!(r.status, 303, "{}", r.body);
    let m = s
        .control()
        .membership(beta.id, "alpha")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(m.role, Role::Staff);
    // Still owner of beta.
    let m = s
        .control()
        .membership(beta.id, "beta")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(m.role, Role::Owner);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn expired_used_and_unknown_links_are_refused() {
    let s = start(|_| {}).await;
    let c = s.control();
    let (_, expired) = c
        .create_link(
            LinkKind::Invite,
            "late@alpha.test",
            Some("alpha"),
            Some(Role::Bookkeeper),
            None,
            "owner@alpha.test",
            -1,
        )
        .await
        .unwrap();
    let r = s.get(&format!("/invite/{expired}"), None).await;
    assert_eq!(r.status, 404, "{}", r.body);
    assert!(r.body.contains("expired on"), "{}", r.body);
    let r = s.get(&format!("/invite/{}", "ab".repeat(32)), None).await;
    assert_eq!(r.status, 404, "{}", r.body);
    assert!(r.body.contains("is not valid"), "{}", r.body);
    // A reset token is no invitation, and the other way round.
    let (_, reset) = c
        .create_link(
            LinkKind::Reset,
            "bookkeeper@alpha.test",
            None,
            None,
            None,
            "bookkeeper@alpha.test",
            3600,
        )
        .await
        .unwrap();
    assert_eq!(s.get(&format!("/invite/{reset}"), None).await.status, 404);
    assert_eq!(s.get(&format!("/reset/{reset}"), None).await.status, 200);
    let (_, old_reset) = c
        .create_link(
            LinkKind::Reset,
            "bookkeeper@alpha.test",
            None,
            None,
            None,
            "bookkeeper@alpha.test",
            -5,
        )
        .await
        .unwrap();
    let (_, cookie, csrf) = open_form(&s, "/reset").await;
    let r = post_out(
        &s,
        &format!("/reset/{old_reset}"),
        &cookie,
        &[
            ("csrf", &csrf),
            ("password", "a new long password"),
            ("password2", "a new long password"),
        ],
    )
    .await;
    assert_eq!(r.status, 404, "{}", r.body);
    assert!(r.body.contains("expired on"), "{}", r.body);
    assert!(c
        .check_login("bookkeeper@alpha.test", PASSWORD)
        .await
        .unwrap()
        .is_some());
    // An expired invitation makes no account.
    let r = post_out(
        &s,
        &format!("/invite/{expired}"),
        &cookie,
        &[
            ("csrf", &csrf),
            ("password", "a new long password"),
            ("password2", "a new long password"),
        ],
    )
    .await;
    assert_eq!(r.status, 404, "{}", r.body);
    assert!(c.user_by_email("late@alpha.test").await.unwrap().is_none());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_reset_sets_the_password_and_ends_every_session_and_token() {
    let (s, outbox) = with_outbox().await;
    let email = "bookkeeper@alpha.test";
    let old = s.login(email).await;
    let token = token_of(&s, &old).await;
    assert_eq!(api(&s, "GET", "/api/v1/me", &token, "").await.status, 200);

    let (_, cookie, csrf) = open_form(&s, "/reset").await;
    let known = post_out(&s, "/reset", &cookie, &[("csrf", &csrf), ("email", email)]).await;
    assert_eq!(known.status, 200, "{}", known.body);
    let unknown = post_out(
        &s,
        "/reset",
        &cookie,
        &[("csrf", &csrf), ("email", "nobody@alpha.test")],
    )
    .await;
    assert_eq!(unknown.status, 200, "{}", unknown.body);
    // The same answer either way.
    assert_eq!(
        known.body.replace(email, "X"),
        unknown.body.replace("nobody@alpha.test", "X")
    );
    let mail = mails_to(&outbox, email).await;
    assert_eq!(mail.len(), 1, "{mail:?}");
    assert!(mails_to(&outbox, "nobody@alpha.test").await.is_empty());
    let path = link_path(&mail[0].body, "/reset/");
    assert_eq!(s.get(&path, None).await.status, 200);
    // Two different passwords: refused, nothing changed.
    let r = post_out(
        &s,
        &path,
        &cookie,
        &[
            ("csrf", &csrf),
            ("password", "the new long password"),
            ("password2", "the new long passwort"),
        ],
    )
    .await;
    assert_eq!(r.status, 400, "{}", r.body);
    assert_eq!(s.get("/account", Some(&old)).await.status, 200);
    let set = [
        ("csrf", csrf.as_str()),
        ("password", "the new long password"),
        ("password2", "the new long password"),
    ];
    let r = post_out(&s, &path, &cookie, &set).await;
    assert_eq!(r.status, 303, "{}", r.body);
    let fresh = r.session().expect("signed in afresh");
    // Every earlier session and API token ended; the fresh session works.
    let r = s.get("/account", Some(&old)).await;
    assert_eq!(r.status, 303, "the old session is over: {}", r.body);
    assert_eq!(api(&s, "GET", "/api/v1/me", &token, "").await.status, 401);
    let r = s
        .get(
            "/account",
            Some(&Session {
                sid: fresh,
                csrf: String::new(),
            }),
        )
        .await;
    assert_eq!(r.status, 200);
    assert_eq!(s.login_raw(email, PASSWORD, None).await.status, 401);
    assert_eq!(
        s.login_raw(email, "the new long password", None)
            .await
            .status,
        303
    );
    // Once only.
    let r = post_out(&s, &path, &cookie, &set).await;
    assert_eq!(r.status, 404, "{}", r.body);
    let a = actions(&s, "alpha").await;
    for want in ["password_reset_requested", "password_reset"] {
        assert!(a.contains(&want.to_string()), "{want}: {a:?}");
    }
    // A newer link replaces an older one not used yet.
    let (_, c2, t2) = open_form(&s, "/reset").await;
    post_out(&s, "/reset", &c2, &[("csrf", &t2), ("email", email)]).await;
    let first = link_path(&at_least(&outbox, email, 2).await[1].body, "/reset/");
    assert_eq!(s.get(&first, None).await.status, 200);
    post_out(&s, "/reset", &c2, &[("csrf", &t2), ("email", email)]).await;
    assert_eq!(at_least(&outbox, email, 3).await.len(), 3);
    let r = s.get(&first, None).await;
    assert_eq!(r.status, 404, "{}", r.body);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sign_up_and_reset_are_throttled_per_address() {
    // A wait long enough that a slow machine cannot outlast it between two requests
    // (the default's first wait is 1 s).
    let s = start(|c| c.ip_delay_secs = 600).await;
    let (_, cookie, csrf) = open_form(&s, "/reset").await;
    let mut last = 0;
    for _ in 0..6 {
        last = post_out(
            &s,
            "/reset",
            &cookie,
            &[("csrf", &csrf), ("email", "nobody@alpha.test")],
        )
        .await
        .status;
    }
    assert_eq!(last, 429);
    let (_, cookie, csrf) = open_form(&s, "/signup").await;
    let mut last = 0;
    for i in 0..6 {
        last = post_out(
            &s,
            "/signup",
            &cookie,
            &[
                ("csrf", &csrf),
                ("email", &format!("n{i}@x.test")),
                ("password", "short"),
                ("label_name", "N"),
                ("label_slug", &format!("n{i}")),
            ],
        )
        .await
        .status;
    }
    assert_eq!(last, 429);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn labels_made_by_sign_up_stay_apart_from_the_others() {
    let s = start(|_| {}).await;
    let (_, cookie, csrf) = open_form(&s, "/signup").await;
    let r = post_out(
        &s,
        "/signup",
        &cookie,
        &[
            ("csrf", &csrf),
            ("email", "new@delta.test"),
            ("password", "a long enough password"),
            ("label_name", "Delta"),
            ("label_slug", "delta"),
        ],
    )
    .await;
    assert_eq!(r.status, 303, "{}", r.body);
    let delta = Session {
        sid: r.session().unwrap(),
        csrf: String::new(),
    };
    for path in [
        "/t/alpha/dashboard",
        "/t/beta/users",
        "/api/v1/t/alpha/invitations",
    ] {
        let r = s.get(path, Some(&delta)).await;
        assert_eq!(r.status, 404, "{path}: {}", r.body);
        for m in BETA_MARKERS {
            assert!(!r.body.contains(m), "{path}");
        }
    }
    let owner = s.login("owner@alpha.test").await;
    assert_eq!(s.get("/t/delta/dashboard", Some(&owner)).await.status, 404);
    let t = token_of(&s, &owner).await;
    let r = api(
        &s,
        "POST",
        "/api/v1/t/beta/invitations",
        &t,
        r#"{"email":"spy@alpha.test","role":"owner"}"#,
    )
    .await;
    assert_eq!((r.status, r.error_code().as_str()), (404, "not_found"));
    let r = api(
        &s,
        "POST",
        "/api/v1/t/delta/invitations",
        &t,
        r#"{"email":"spy@alpha.test","role":"owner"}"#,
    )
    .await;
    assert_eq!(r.status, 404);
    // An alpha invitation gives alpha only.
    let r = api(
        &s,
        "POST",
        "/api/v1/t/alpha/invitations",
        &t,
        r#"{"email":"new@delta.test","role":"bookkeeper"}"#,
    )
    .await;
    let path = link_path(r.json()["invitation"]["link"].as_str().unwrap(), "/invite/");
    let (_, cookie, csrf) = open_form(&s, &path).await;
    let r = post_out(
        &s,
        &path,
        &cookie,
        &[("csrf", &csrf), ("password", "a long enough password")],
    )
    .await;
    assert_eq!(r.status, 303, "{}", r.body);
    let u = s
        .control()
        .user_by_email("new@delta.test")
        .await
        .unwrap()
        .unwrap();
    let ms: Vec<(String, Role)> = s
        .control()
        .memberships_of(u.id)
        .await
        .unwrap()
        .into_iter()
        .map(|m| (m.tenant, m.role))
        .collect();
    assert_eq!(
        ms,
        vec![
            ("alpha".to_string(), Role::Bookkeeper),
            ("delta".to_string(), Role::Owner)
        ]
    );
    assert!(s.control().members("beta").await.unwrap().len() == 1);
}

#[test]
fn smtp_urls() {
    assert_eq!(
        SmtpUrl::parse("smtp://mail.example.com").unwrap(),
        SmtpUrl {
            host: "mail.example.com".into(),
            port: 25,
            credentials: None
        }
    );
    let u = SmtpUrl::parse("smtp://me%40x.org:p%3Ass@127.0.0.1:2525/").unwrap();
    assert_eq!(u.port, 2525);
    assert_eq!(u.credentials, Some(("me@x.org".into(), "p:ss".into())));
    assert_eq!(SmtpUrl::parse("smtp://[::1]:25").unwrap().host, "::1");
    assert!(SmtpUrl::parse("smtps://mail.example.com").is_err());
    assert!(SmtpUrl::parse("smtp://host:port").is_err());
    assert!(SmtpUrl::parse("smtp://").is_err());
    assert!(Mail::smtp("smtp://localhost", "not an address").is_err());
}

/// A mail server that takes one message and hands over what it got.
async fn fake_smtp() -> (u16, tokio::sync::oneshot::Receiver<String>) {
    use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
    let l = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = l.local_addr().unwrap().port();
    let (tx, rx) = tokio::sync::oneshot::channel();
    tokio::spawn(async move {
        let (sock, _) = l.accept().await.unwrap();
        let (r, mut w) = sock.into_split();
        let mut r = BufReader::new(r);
        w.write_all(b"220 fake ESMTP\r\n").await.unwrap();
        let mut data = String::new();
        let mut in_data = false;
        let mut line = String::new();
        loop {
            line.clear();
            if r.read_line(&mut line).await.unwrap() == 0 {
                break;
            }
            if in_data {
                if line == ".\r\n" {
                    in_data = false;
                    w.write_all(b"250 queued\r\n").await.unwrap();
                } else {
                    data.push_str(&line);
                }
                continue;
            }
            let cmd = line.to_ascii_uppercase();
            if cmd.starts_with("DATA") {
                in_data = true;
                w.write_all(b"354 go on\r\n").await.unwrap();
            } else if cmd.starts_with("QUIT") {
                w.write_all(b"221 bye\r\n").await.unwrap();
                break;
            } else {
                w.write_all(b"250 ok\r\n").await.unwrap();
            }
        }
        let _ = tx.send(data);
    });
    (port, rx)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_smtp_the_invitation_is_mailed() {
    let (port, got) = fake_smtp().await;
    let mail = Mail::smtp(&format!("smtp://127.0.0.1:{port}"), "backstock@alpha.test").unwrap();
    let s = start(move |c| c.mail = mail).await;
    let owner = s.login("owner@alpha.test").await;
    let t = token_of(&s, &owner).await;
    let r = api(
        &s,
        "POST",
        "/api/v1/t/alpha/invitations",
        &t,
        r#"{"email":"keeper@alpha.test"}"#,
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.json()["invitation"]["mailed"], true, "{}", r.body);
    assert_eq!(r.json()["invitation"]["role"], "bookkeeper");
    let link = r.json()["invitation"]["link"].as_str().unwrap().to_string();
    let data = tokio::time::timeout(std::time::Duration::from_secs(10), got)
        .await
        .unwrap()
        .unwrap();
    let unfolded = data.replace("=\r\n", "");
    assert!(unfolded.contains("To: keeper@alpha.test"), "{data}");
    assert!(unfolded.contains(&link[link.len() - 64..]), "{data}");
}

/// With a mail server, sign-up proves the address first and tells no one which
/// addresses have accounts: the form takes the email only, and the answer is the same
/// for a new address (mailed a link, where the account and label are made) and for
/// one with an account (mailed a note saying so). The link works once.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_mail_sign_up_proves_the_address_and_reveals_no_account() {
    let (s, outbox) = with_outbox().await;
    let (page, cookie, csrf) = open_form(&s, "/signup").await;
    assert!(
        page.body.contains("Mail me a link to sign up"),
        "{}",
        page.body
    );
    assert!(!page.body.contains("name=\"password\""), "{}", page.body);

    let ask = |email: &'static str| {
        let (cookie, csrf) = (cookie.clone(), csrf.clone());
        let s = &s;
        async move { post_out(s, "/signup", &cookie, &[("csrf", &csrf), ("email", email)]).await }
    };
    let new = ask("founder@gamma.test").await;
    let known = ask("owner@alpha.test").await;
    assert_eq!(new.status, 200, "{}", new.body);
    assert_eq!(known.status, 200, "{}", known.body);
    assert!(
        new.body
            .contains("A mail is on its way to founder@gamma.test"),
        "{}",
        new.body
    );
    assert_eq!(
        new.body.replace("founder@gamma.test", "X"),
        known.body.replace("owner@alpha.test", "X"),
        "the same answer either way"
    );
    // Nothing is made before the link is opened.
    assert!(s
        .control()
        .user_by_email("founder@gamma.test")
        .await
        .unwrap()
        .is_none());

    let note = mails_to(&outbox, "owner@alpha.test").await;
    assert_eq!(note.len(), 1);
    assert!(
        note[0].body.contains("has an account here already"),
        "{}",
        note[0].body
    );
    assert!(!note[0].body.contains("/signup/"), "{}", note[0].body);
    let mail = mails_to(&outbox, "founder@gamma.test").await;
    assert_eq!(mail.len(), 1);
    let path = link_path(&mail[0].body, "/signup/");

    let (form, cookie, csrf) = open_form(&s, &path).await;
    assert!(form.body.contains("founder@gamma.test"), "{}", form.body);
    let fields = [
        ("csrf", csrf.as_str()),
        ("name", "Fran Founder"),
        ("password", "a long enough password"),
        ("label_name", "Gamma Records"),
        ("label_slug", "gamma"),
    ];
    // A mistake is said on the form, which keeps what was typed.
    let mut short = fields;
    short[2] = ("password", "short");
    let r = post_out(&s, &path, &cookie, &short).await;
    assert_eq!(r.status, 400, "{}", r.body);
    assert!(r.body.contains("value=\"Gamma Records\""), "{}", r.body);
    let r = post_out(&s, &path, &cookie, &fields).await;
    assert_eq!(r.status, 303, "{}", r.body);
    assert_eq!(r.header("location"), Some("/t/gamma/dashboard"));
    let u = s
        .control()
        .user_by_email("founder@gamma.test")
        .await
        .unwrap()
        .expect("the account");
    assert_eq!(u.name, "Fran Founder");
    let m = s
        .control()
        .membership(u.id, "gamma")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(m.role, Role::Owner);
    // Once.
    let mut again = fields;
    again[4] = ("label_slug", "gamma-two");
    let r = post_out(&s, &path, &cookie, &again).await;
    assert_eq!(r.status, 404, "{}", r.body);
    assert!(r.body.contains("has been used already"), "{}", r.body);
    assert!(s.control().tenant("gamma-two").await.unwrap().is_none());
    let a: Vec<String> = s
        .control()
        .audit_log("gamma", 1000)
        .await
        .unwrap()
        .into_iter()
        .map(|a| a.action)
        .collect();
    assert!(a.contains(&"label_created".to_string()), "{a:?}");
}
