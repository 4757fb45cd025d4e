//! The web app over real HTTP: sign-in, sessions, CSRF, throttling, import preview and
//! confirm, API tokens, roles' slices.

use crate::common;

use common::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sign_in_rotates_the_session_and_writes_need_the_csrf_token() {
    let s = start(|_| {}).await;
    // Signed out: pages send to the sign-in form, the API answers 401 JSON.
    let r = s.get("/t/alpha/dashboard", None).await;
    assert_eq!(r.status, 303);
    assert_eq!(r.header("location"), Some("/login?next=/t/alpha/dashboard"));
    let r = s.get("/api/v1/t/alpha/dashboard", None).await;
    assert_eq!(
        (r.status, r.error_code().as_str()),
        (401, "unauthenticated")
    );
    let login_page = s.get("/login", None).await;
    for id in [
        "login-form",
        "login-email",
        "login-password",
        "login-submit",
    ] {
        assert!(login_page.body.contains(&format!("id=\"{id}\"")), "{id}");
    }

    // A wrong password: 401, no session.
    let r = s
        .login_raw("owner@alpha.test", "wrong password!", None)
        .await;
    assert_eq!(r.status, 401);
    assert!(r.session().is_none());
    assert!(r.body.contains("wrong email or password"));

    // Right: a session cookie that scripts cannot read and other sites do not send.
    let r = s.login_raw("owner@alpha.test", PASSWORD, None).await;
    assert_eq!(r.status, 303);
    let cookie = r.header("set-cookie").unwrap().to_string();
    assert!(
        cookie.contains("HttpOnly") && cookie.contains("SameSite=Lax"),
        "{cookie}"
    );
    assert!(!cookie.contains("Secure"), "plain http: {cookie}");
    let sid1 = r.session().unwrap();

    // Signing in again with that cookie rotates it: a new id, the old one dead.
    let r = s.login_raw("owner@alpha.test", PASSWORD, Some(&sid1)).await;
    let sid2 = r.session().unwrap();
    assert_ne!(sid1, sid2);
    let old = Session {
        sid: sid1,
        csrf: String::new(),
    };
    assert_eq!(s.get("/t/alpha/dashboard", Some(&old)).await.status, 303);
    let page = s
        .get(
            "/account",
            Some(&Session {
                sid: sid2.clone(),
                csrf: String::new(),
            }),
        )
        .await;
    let csrf = csrf_of(&page.body).unwrap();
    let me = Session {
        sid: sid2.clone(),
        csrf: csrf.clone(),
    };
    let r = s.get("/t/alpha/dashboard", Some(&me)).await;
    assert_eq!(r.status, 200);
    assert_eq!(r.header("x-frame-options"), Some("DENY"));
    assert_eq!(r.header("cache-control"), Some("no-store"));
    assert!(r
        .header("content-security-policy")
        .unwrap()
        .contains("default-src 'self'"));
    assert_eq!(s.get("/no/such/page", Some(&me)).await.status, 404);
    assert!(r.body.contains("id=\"dashboard\"") && r.body.contains("id=\"exposure-chart\""));

    // A state-changing request with the cookie but no token: refused, nothing changed.
    let no_token = common::request(
        s.addr,
        "POST",
        "/t/alpha/settings",
        &[
            ("Cookie", format!("bs_session={sid2}")),
            ("Content-Type", "application/x-www-form-urlencoded".into()),
        ],
        &form(&[("locale", "de-DE"), ("currency", "EUR")]),
    )
    .await;
    assert_eq!(no_token.status, 403, "{}", no_token.body);
    assert!(no_token.body.contains("security token"));
    let wrong = common::request(
        s.addr,
        "POST",
        "/api/v1/t/alpha/settings",
        &[
            ("Cookie", format!("bs_session={sid2}")),
            ("x-csrf-token", "0".repeat(64)),
            ("Content-Type", "application/json".into()),
        ],
        br#"{"locale":"de-DE","currency":"EUR"}"#,
    )
    .await;
    assert_eq!((wrong.status, wrong.error_code().as_str()), (403, "csrf"));
    assert_eq!(
        s.control().tenant("alpha").await.unwrap().unwrap().locale,
        "en-US"
    );
    // From another site, even with the token: refused.
    let cross = common::request(
        s.addr,
        "POST",
        "/t/alpha/settings",
        &[
            ("Cookie", format!("bs_session={sid2}")),
            ("Origin", "http://evil.example".into()),
            ("Content-Type", "application/x-www-form-urlencoded".into()),
        ],
        &form(&[
            ("csrf", csrf.as_str()),
            ("locale", "de-DE"),
            ("currency", "EUR"),
        ]),
    )
    .await;
    assert_eq!(cross.status, 403);
    // With the token in the form: done, and the money is written the German way.
    let ok = s
        .post_form(
            "/t/alpha/settings",
            &me,
            &[("csrf", &csrf), ("locale", "de-DE"), ("currency", "USD")],
        )
        .await;
    assert_eq!(ok.status, 303, "{}", ok.body);
    let cat = s.get("/t/alpha/catalog", Some(&me)).await;
    assert!(cat.body.contains("15,98\u{a0}$"), "{}", cat.body);

    // Changing the password ends the other sessions; this browser gets a new one.
    let other = s.login("owner@alpha.test").await;
    let r = s
        .post_form(
            "/account/password",
            &me,
            &[
                ("current", "wrong wrong wrong"),
                ("new", "a brand new password"),
            ],
        )
        .await;
    assert_eq!(r.status, 400);
    let r = s
        .post_form(
            "/account/password",
            &me,
            &[("current", PASSWORD), ("new", "a brand new password")],
        )
        .await;
    assert_eq!(r.status, 303, "{}", r.body);
    assert_eq!(s.get("/t/alpha/dashboard", Some(&other)).await.status, 303);
    assert_eq!(s.get("/t/alpha/dashboard", Some(&me)).await.status, 303);
    let sid = r.session().unwrap();
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
    let csrf = me.csrf.clone();
    assert_eq!(
        s.login_raw("owner@alpha.test", "a brand new password", None)
            .await
            .status,
        303
    );
    let r = s
        .post_form(
            "/account/password",
            &me,
            &[("current", "a brand new password"), ("new", PASSWORD)],
        )
        .await;
    assert_eq!(r.status, 303);
    let sid = r.session().unwrap();
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
    let _ = csrf;
    let csrf = me.csrf.clone();

    // Signing out ends the session.
    let r = s.post_form("/logout", &me, &[("csrf", &csrf)]).await;
    assert_eq!(r.status, 303);
    assert!(r.header("set-cookie").unwrap().contains("Max-Age=0"));
    assert_eq!(s.get("/t/alpha/dashboard", Some(&me)).await.status, 303);

    // The owner sees the logins in the audit log.
    let owner = s.login("owner@alpha.test").await;
    let audit = s.get("/api/v1/t/alpha/audit", None).await;
    assert_eq!(audit.status, 401);
    let audit = s.get("/t/alpha/audit?format=csv", Some(&owner)).await;
    assert!(
        audit.body.contains("login_failed") && audit.body.contains(",login,"),
        "{}",
        audit.body
    );
    assert!(audit.body.contains("settings"));
    let staff = s.login("staff@alpha.test").await;
    assert_eq!(s.get("/t/alpha/audit", Some(&staff)).await.status, 403);
}

// Sign-in throttling (per address, exponential; accounts locked only to unknown
// addresses): tests/lockout.rs.

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_import_is_previewed_then_recorded_and_changes_the_dashboard() {
    let s = start(|_| {}).await;
    let owner = s.login("owner@alpha.test").await;
    let before = s.get("/api/v1/t/alpha/dashboard", None).await;
    assert_eq!(before.status, 401);
    let dash = |r: &Resp| r.json();
    let b = s
        .post(
            "/api/v1/tokens",
            &owner,
            "application/json",
            br#"{"name":"test"}"#,
        )
        .await;
    let token = b.json()["token"].as_str().unwrap().to_string();
    let api = |path: &'static str| {
        let token = token.clone();
        let addr = s.addr;
        async move {
            common::request(
                addr,
                "GET",
                path,
                &[("Authorization", format!("Bearer {token}"))],
                b"",
            )
            .await
        }
    };
    let d0 = dash(&api("/api/v1/t/alpha/dashboard").await);
    let open = |d: &serde_json::Value| {
        d["receivables"]
            .as_array()
            .unwrap()
            .iter()
            .find(|r| r["distributor"] == "alphadist")
            .map(|r| r["open"]["amount_minor"].as_i64().unwrap())
            .unwrap()
    };
    assert_eq!(open(&d0), 0);
    let entries0 = d0["journal_entries"].as_i64().unwrap();

    // Tokens are listed (by id) and can be revoked.
    let me_json = s
        .post(
            "/api/v1/tokens",
            &owner,
            "application/json",
            br#"{"name":"spare"}"#,
        )
        .await
        .json();
    let spare = me_json["token"].as_str().unwrap().to_string();
    let listed = common::request(
        s.addr,
        "GET",
        "/api/v1/me",
        &[("Authorization", format!("Bearer {spare}"))],
        b"",
    )
    .await
    .json();
    let spare_id = listed["tokens"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["name"] == "spare")
        .unwrap()["id"]
        .as_i64()
        .unwrap();
    let r = s
        .post_form(&format!("/account/tokens/{spare_id}/revoke"), &owner, &[])
        .await;
    assert_eq!(r.status, 303);
    let r = common::request(
        s.addr,
        "GET",
        "/api/v1/me",
        &[("Authorization", format!("Bearer {spare}"))],
        b"",
    )
    .await;
    assert_eq!((r.status, r.error_code().as_str()), (401, "bad_token"));

    // The form has stable ids.
    let f = s.get("/t/alpha/import", Some(&owner)).await;
    for id in [
        "upload-form",
        "upload-file",
        "upload-submit",
        "upload-mapping",
    ] {
        assert!(f.body.contains(&format!("id=\"{id}\"")), "{id}");
    }
    // A bad file: every error with its line, nothing recorded, nothing to confirm.
    let bad = "statement_id,distributor,period_start,period_end,issued_on,kind,sku,units,amount,currency,memo\n\
ST-X,alphadist,2016-02-01,2016-02-29,2016-03-10,sale,ALP-001-CD,5,12.x,USD,\n";
    let r = s
        .post(
            "/t/alpha/import",
            &owner,
            &format!("multipart/form-data; boundary={BOUNDARY}"),
            &multipart(&[], Some(("feb.csv", bad.as_bytes()))),
        )
        .await;
    assert_eq!(r.status, 422, "{}", r.body);
    assert!(r.body.contains("id=\"upload-errors\""));
    assert!(r.body.contains("feb.csv:line 2, column 9"), "{}", r.body);
    assert!(!r.body.contains("confirm-submit"));
    assert!(
        !r.body.contains(&s.dir.path().display().to_string()),
        "no server paths shown"
    );

    // A good file: a preview, and still nothing recorded.
    let r = s
        .post(
            "/t/alpha/import",
            &owner,
            &format!("multipart/form-data; boundary={BOUNDARY}"),
            &multipart(
                &[("kind", "")],
                Some(("feb.csv", ALPHA_STATEMENT.as_bytes())),
            ),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert!(r.body.contains("id=\"upload-preview\""));
    assert!(r.body.contains("would record"), "{}", r.body);
    assert!(r.body.contains("id=\"upload-entries\""));
    assert!(
        r.body.contains("ST-ALPHA-1") && r.body.contains("$320.00"),
        "{}",
        r.body
    );
    let d1 = dash(&api("/api/v1/t/alpha/dashboard").await);
    assert_eq!(d1["journal_entries"].as_i64().unwrap(), entries0);
    let confirm = r
        .body
        .split("action=\"")
        .find(|x| x.contains("/confirm\""))
        .unwrap();
    let confirm = confirm[..confirm.find('"').unwrap()].to_string();
    // Another member cannot confirm the owner's upload.
    let staff = s.login("staff@alpha.test").await;
    assert_eq!(s.post_form(&confirm, &staff, &[]).await.status, 404);
    // The owner confirms: recorded, the dashboard shows the open statement.
    let r = s.post_form(&confirm, &owner, &[]).await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert!(r.body.contains("id=\"import-result\"") && r.body.contains("recorded"));
    let d2 = dash(&api("/api/v1/t/alpha/dashboard").await);
    assert_eq!(d2["journal_entries"].as_i64().unwrap(), entries0 + 1);
    assert_eq!(open(&d2), 32000, "400.00 sales - 80.00 fee");
    let page = s.get("/t/alpha/dashboard", Some(&owner)).await;
    assert!(page.body.contains("$320.00"), "{}", page.body);
    // One time: the id is spent.
    assert_eq!(s.post_form(&confirm, &owner, &[]).await.status, 404);
    let log = s.control().audit_log("alpha", 50).await.unwrap();
    assert!(log
        .iter()
        .any(|a| a.action == "import" && a.detail.contains("feb.csv")));

    // Through the API: preview then confirm with the returned id; the same bytes
    // again change nothing.
    let p = common::request(
        s.addr,
        "POST",
        "/api/v1/t/alpha/imports",
        &[
            ("Authorization", format!("Bearer {token}")),
            (
                "Content-Type",
                format!("multipart/form-data; boundary={BOUNDARY}"),
            ),
        ],
        &multipart(&[], Some(("feb.csv", ALPHA_STATEMENT.as_bytes()))),
    )
    .await;
    assert_eq!(p.status, 200, "{}", p.body);
    assert!(p.json()["report"]
        .as_str()
        .unwrap()
        .contains("already imported"));
    // A JSON error with a stable code.
    let bad = common::request(
        s.addr,
        "POST",
        "/api/v1/t/alpha/imports",
        &[
            ("Authorization", format!("Bearer {token}")),
            (
                "Content-Type",
                format!("multipart/form-data; boundary={BOUNDARY}"),
            ),
        ],
        &multipart(&[], Some(("x.csv", b"what,is,this\n1,2,3\n"))),
    )
    .await;
    assert_eq!(
        (bad.status, bad.error_code().as_str()),
        (400, "invalid_input"),
        "{}",
        bad.body
    );
    assert!(bad.json()["error"]["message"]
        .as_str()
        .unwrap()
        .contains("x.csv:1"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn limited_roles_see_and_upload_only_their_own() {
    let s = start(|_| {}).await;
    // The artist sees the releases they are paid on, not the others.
    let artist = s.login("artist@alpha.test").await;
    let r = s.get("/t/alpha/catalog", Some(&artist)).await;
    assert_eq!(r.status, 200);
    assert!(
        r.body.contains("ALP-001-CD") && !r.body.contains("ALP-002-CD"),
        "{}",
        r.body
    );
    let r = s.get("/t/alpha", Some(&artist)).await;
    assert_eq!(r.header("location"), Some("/t/alpha/statements"));
    // The distributor sees its own shipments and POs only.
    let dist = s.login("distributor@alpha.test").await;
    let r = s
        .get("/t/alpha/shipments?format=csv&table=orders", Some(&dist))
        .await;
    assert!(
        r.body.contains("PO-ALPHA-1") && !r.body.contains("PO-NORTH-1"),
        "{}",
        r.body
    );
    let r = s.get("/api/v1/t/alpha/shipments", Some(&dist)).await;
    assert!(
        r.body.contains("S1") && !r.body.contains("northwind"),
        "{}",
        r.body
    );
    // It uploads its own statement…
    let mp = format!("multipart/form-data; boundary={BOUNDARY}");
    let r = s
        .post(
            "/t/alpha/import",
            &dist,
            &mp,
            &multipart(&[], Some(("mine.csv", ALPHA_STATEMENT.as_bytes()))),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    // …but not another distributor's, nor reference data.
    let other = ALPHA_STATEMENT
        .replace("alphadist", "northwind")
        .replace("ST-ALPHA-1", "ST-N-1");
    let r = s
        .post(
            "/t/alpha/import",
            &dist,
            &mp,
            &multipart(&[], Some(("theirs.csv", other.as_bytes()))),
        )
        .await;
    assert_eq!(r.status, 422, "{}", r.body);
    assert!(
        r.body.contains("you may upload only for alphadist"),
        "{}",
        r.body
    );
    let r = s
        .post(
            "/t/alpha/import",
            &dist,
            &mp,
            &multipart(
                &[],
                Some((
                    "cat.csv",
                    ALPHA_CATALOG.replace("ALP-00", "ALP-09").as_bytes(),
                )),
            ),
        )
        .await;
    assert_eq!(r.status, 403, "{}", r.body);
    assert!(
        r.body
            .contains("a distributor may upload only statements and stock reports"),
        "{}",
        r.body
    );
    let r = s
        .post(
            "/t/alpha/import",
            &dist,
            &mp,
            &multipart(
                &[("kind", "catalog")],
                Some(("cat.csv", ALPHA_CATALOG.as_bytes())),
            ),
        )
        .await;
    assert_eq!(r.status, 403);

    // Shipping with an override is audited with the user's name.
    let staff = s.login("staff@alpha.test").await;
    let r = s
        .post_form(
            "/t/alpha/distributors/alphadist/shipments",
            &staff,
            &[("sku", "ALP-001-CD"), ("units", "10"), ("override", "test")],
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert!(r.body.contains("id=\"ship-result\""));
    let log = s.control().audit_log("alpha", 50).await.unwrap();
    assert!(log.iter().any(
        |a| (a.action == "shipment" || a.action == "override") && a.actor == "staff@alpha.test"
    ));
    // Roles are changed by owners, audited, and a label keeps an owner.
    let owner = s.login("owner@alpha.test").await;
    let staff_id = s
        .control()
        .user_by_email("staff@alpha.test")
        .await
        .unwrap()
        .unwrap()
        .id;
    let r = s
        .post_form(
            &format!("/t/alpha/users/{staff_id}/role"),
            &owner,
            &[("role", "bookkeeper")],
        )
        .await;
    assert_eq!(r.status, 303, "{}", r.body);
    let r = s
        .post_form(
            "/t/alpha/distributors/alphadist/shipments",
            &staff,
            &[("sku", "ALP-001-CD"), ("units", "1")],
        )
        .await;
    assert_eq!(r.status, 403);
    let owner_id = s
        .control()
        .user_by_email("owner@alpha.test")
        .await
        .unwrap()
        .unwrap()
        .id;
    let r = s
        .post_form(
            &format!("/t/alpha/users/{owner_id}/role"),
            &owner,
            &[("role", "staff")],
        )
        .await;
    assert_eq!(r.status, 409);
    let log = s.control().audit_log("alpha", 50).await.unwrap();
    assert!(log
        .iter()
        .any(|a| a.action == "role_changed" && a.detail.contains("staff → bookkeeper")));
    // Invitations.
    let r = s
        .post_form(
            "/t/alpha/users",
            &owner,
            &[
                ("email", "new@alpha.test"),
                ("role", "artist"),
                ("party", "other-artist"),
                ("password", "a new long password"),
            ],
        )
        .await;
    assert_eq!(r.status, 303, "{}", r.body);
    let new = s
        .login_raw("new@alpha.test", "a new long password", None)
        .await;
    assert_eq!(new.status, 303);
    let r = s
        .post_form(
            "/t/alpha/users",
            &owner,
            &[
                ("email", "x@alpha.test"),
                ("role", "artist"),
                ("password", "a new long password"),
            ],
        )
        .await;
    assert_eq!(r.status, 400, "an artist is limited to a payee");
    // Removing a member ends their access at once.
    let newbie = Session {
        sid: new.session().unwrap(),
        csrf: String::new(),
    };
    assert_eq!(s.get("/t/alpha/catalog", Some(&newbie)).await.status, 200);
    let new_id = s
        .control()
        .user_by_email("new@alpha.test")
        .await
        .unwrap()
        .unwrap()
        .id;
    let r = s
        .post_form(&format!("/t/alpha/users/{new_id}/remove"), &owner, &[])
        .await;
    assert_eq!(r.status, 303, "{}", r.body);
    assert_eq!(s.get("/t/alpha/catalog", Some(&newbie)).await.status, 404);
    let r = s
        .post_form(&format!("/t/alpha/users/{owner_id}/remove"), &owner, &[])
        .await;
    assert_eq!(r.status, 409, "the last owner stays");
    let log = s.control().audit_log("alpha", 50).await.unwrap();
    assert!(log
        .iter()
        .any(|a| a.action == "role_revoked" && a.detail.contains("new@alpha.test")));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tables_sort_and_download_and_the_openapi_document_lists_every_route() {
    let s = start(|_| {}).await;
    let owner = s.login("owner@alpha.test").await;
    let asc = s
        .get("/t/alpha/catalog?format=csv&sort=sku", Some(&owner))
        .await;
    assert_eq!(asc.header("content-type"), Some("text/csv; charset=utf-8"));
    let desc = s
        .get("/t/alpha/catalog?format=csv&sort=-sku", Some(&owner))
        .await;
    let first = |b: &str| {
        b.lines()
            .nth(1)
            .unwrap()
            .split(',')
            .next()
            .unwrap()
            .to_string()
    };
    assert_eq!(first(&asc.body), "ALP-001-CD");
    assert_eq!(first(&desc.body), "ALP-002-CD");
    assert!(asc
        .body
        .starts_with("sku,title,artist,format,released,list price"));
    let doc = s.get("/api/openapi.json", None).await.json();
    for r in backstock_web::routes::all() {
        assert!(
            doc["paths"][r.path][r.verb.as_str().to_ascii_lowercase()].is_object(),
            "{} {}",
            r.verb.as_str(),
            r.path
        );
    }
    assert_eq!(doc["openapi"], "3.1.0");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn idle_sessions_end_and_cookies_are_secure_behind_tls() {
    let s = start(|c| {
        c.idle_secs = 1;
        c.behind_proxy = true;
    })
    .await;
    let me = s.login("owner@alpha.test").await;
    assert_eq!(s.get("/t/alpha/dashboard", Some(&me)).await.status, 200);
    tokio::time::sleep(std::time::Duration::from_millis(2100)).await;
    let r = s.get("/t/alpha/dashboard", Some(&me)).await;
    assert_eq!(r.status, 303, "idle longer than the limit: signed out");
    // Behind a TLS-terminating proxy the cookie is Secure, and the client address
    // the proxy reports is the one throttled and audited.
    let r = common::request(
        s.addr,
        "POST",
        "/login",
        &[
            ("Content-Type", "application/x-www-form-urlencoded".into()),
            ("X-Forwarded-Proto", "https".into()),
            ("X-Forwarded-For", "203.0.113.9".into()),
        ],
        &form(&[("email", "owner@alpha.test"), ("password", PASSWORD)]),
    )
    .await;
    assert_eq!(r.status, 303);
    assert!(r.header("set-cookie").unwrap().contains("; Secure"));
    let log = s.control().audit_log("alpha", 10).await.unwrap();
    assert!(
        log.iter()
            .any(|a| a.action == "login" && a.ip == "203.0.113.9"),
        "{log:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pages_and_api_answer_as_of_a_past_day() {
    let s = start(|_| {}).await;
    let owner = s.login("owner@alpha.test").await;
    // Before the shipment of 2016-02-01 alphadist held nothing of the label's.
    let r = s
        .get(
            "/t/alpha/dashboard?as_of=2016-01-31&format=csv&table=stock",
            Some(&owner),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert!(!r.body.contains("alphadist"), "{}", r.body);
    let r = s
        .get("/t/alpha/dashboard?format=csv&table=stock", Some(&owner))
        .await;
    assert!(r.body.contains("alphadist,on_hand,200"), "{}", r.body);
    let page = s
        .get("/t/alpha/dashboard?as_of=2016-01-31", Some(&owner))
        .await;
    assert!(page.body.contains("value=\"2016-01-31\""));
    assert!(
        page.body.contains("?as_of=2016-01-31&amp;sort="),
        "sort links keep the day"
    );
    let api = s
        .get(
            "/api/v1/t/alpha/distributors/alphadist?as_of=2016-01-31",
            Some(&owner),
        )
        .await;
    assert_eq!(api.json()["as_of"], "2016-01-31");
    let bad = s
        .get("/api/v1/t/alpha/dashboard?as_of=2016-02-30", Some(&owner))
        .await;
    assert_eq!(
        (bad.status, bad.error_code().as_str()),
        (400, "invalid_input")
    );
    assert!(bad.body.contains("2016-02-30"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_page_address_with_a_trailing_slash_goes_to_the_page() {
    let s = start(|_| {}).await;
    let owner = s.login("owner@alpha.test").await;
    let r = s.get("/t/alpha/?as_of=2016-06-30", Some(&owner)).await;
    assert_eq!(r.status, 308, "{}", r.body);
    assert_eq!(r.header("location"), Some("/t/alpha?as_of=2016-06-30"));
    let r = s.get("/t/alpha/distributors/", Some(&owner)).await;
    assert_eq!(r.header("location"), Some("/t/alpha/distributors"));
    // Never to another site (`//host` is an address of its own).
    let r = s.get("//evil.example/", Some(&owner)).await;
    assert_ne!(r.status, 308);
    assert_eq!(r.header("location"), None);
    // A page that does not exist is still not found.
    assert_eq!(
        s.get("/t/alpha/nothing-here", Some(&owner)).await.status,
        404
    );
}
