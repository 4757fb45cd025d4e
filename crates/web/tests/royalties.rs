//! Royalties over HTTP: runs (preview, post, lock), statements as stored (HTML, PDF,
//! CSV, JSON), the artist portal, and who may see and do what — on the alpha fixture
//! label with two payees, one period already run and the next one not.

use crate::common;

use common::*;

const PAYEES: &str = "payee,name,email,address\n\
june-okafor,June Okafor,june@okafor.example,\"12 Elm St, Asheville NC 28801\"\n\
other-artist,Other Artist,other@artist.example,\"1 Main St, Portland OR 97205\"\n";
const CONTRACTS: &str = "contract_id,effective_from,title,payees,skus,basis,rates,cross_collateralized,reserve_rate,reserve_release_periods,min_payout,currency\n\
C-JUNE,2015-01-01,June Okafor recordings,june-okafor:100%,ALP-001-CD,earned,*:net_receipts:20%,no,0,0,0.00,USD\n\
C-OTHER,2015-01-01,Other Artist recordings,other-artist:100%,ALP-002-CD,collected,*:net_receipts:25%,no,0,0,0.00,USD\n";
const STATEMENTS: &str = "statement_id,distributor,period_start,period_end,issued_on,kind,sku,units,amount,currency,memo\n\
ST-A1,alphadist,2016-02-01,2016-02-29,2016-03-10,sale,ALP-001-CD,50,400.00,USD,\n\
ST-A1,alphadist,2016-02-01,2016-02-29,2016-03-10,fee,,,80.00,USD,\n\
ST-N1,northwind,2016-02-01,2016-02-29,2016-03-10,sale,ALP-002-CD,10,80.00,USD,\n\
ST-A2,alphadist,2016-04-01,2016-04-30,2016-05-10,sale,ALP-001-CD,20,160.00,USD,\n";

/// alpha with payees, contracts and statements, and 2016Q1 run and locked (2016Q2 not).
async fn royalty_label() -> Server {
    let s = start(|c| c.max_ip_failures = 1_000).await;
    let dir = s.control().label_dir("alpha");
    let store = backstock_store::Store::open(&dir, false).await.unwrap();
    let tmp = tempfile::tempdir().unwrap();
    let mut paths = Vec::new();
    for (name, text) in [
        ("payees.csv", PAYEES),
        ("contracts.csv", CONTRACTS),
        ("statements.csv", STATEMENTS),
    ] {
        let p = tmp.path().join(name);
        std::fs::write(&p, text).unwrap();
        paths.push(p);
    }
    let opts = backstock_app::import::ImportOptions::default();
    backstock_app::import::run(&store, &paths, &opts)
        .await
        .unwrap();
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
    store.pool().close().await;
    publish(&s.state, "alpha").await;
    s
}

fn attr_of(html: &str, marker: &str) -> Option<String> {
    let i = html.find(marker)?;
    let rest = &html[i..];
    let h = rest.find("href=\"")? + "href=\"".len();
    let j = rest[h..].find('"')?;
    Some(rest[h..h + j].replace("&amp;", "&"))
}

async fn runs(s: &Server, who: &Session) -> usize {
    let r = s.get("/api/v1/t/alpha/royalties", Some(who)).await;
    assert_eq!(r.status, 200, "{}", r.body);
    r.json()["runs"].as_array().map(Vec::len).unwrap_or(0)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_artist_sees_only_their_own_statements_and_downloads_the_pdf() {
    let s = royalty_label().await;
    let artist = s.login("artist@alpha.test").await;
    // The portal is the artist's landing page.
    let r = s.get("/t/alpha", Some(&artist)).await;
    assert_eq!(r.header("location"), Some("/t/alpha/statements"));
    let r = s.get("/t/alpha/statements", Some(&artist)).await;
    assert_eq!(r.status, 200, "{}", r.body);
    let b = &r.body;
    assert!(b.contains("/t/alpha/statements/2016Q1/june-okafor"), "{b}");
    assert!(
        !b.contains("other-artist") && !b.contains("Other Artist"),
        "{b}"
    );
    assert!(b.contains("Earned but not collected"), "{b}");
    assert!(b.contains("Releases you are paid on") && b.contains("ALP-001-CD"));
    assert!(!b.contains("ALP-002-CD"), "{b}");
    assert!(
        b.contains(r#"class="statement-pdf" id="statement-pdf""#),
        "{b}"
    );
    // The first PDF link downloads the stored statement as a PDF.
    let href = attr_of(b, r#"id="statement-pdf""#).expect("the PDF link");
    assert_eq!(href, "/t/alpha/statements/2016Q1/june-okafor?format=pdf");
    let pdf = s.get(&href, Some(&artist)).await;
    assert_eq!(pdf.status, 200);
    assert_eq!(pdf.header("content-type"), Some("application/pdf"));
    assert!(pdf.body.starts_with("%PDF"), "{}", &pdf.body[..20]);
    assert!(pdf
        .header("content-disposition")
        .is_some_and(|d| d.starts_with("attachment") && d.contains("june-okafor-2016Q1.pdf")));
    // HTML, CSV and JSON renderings of the same stored statement.
    let page = s
        .get("/t/alpha/statements/2016Q1/june-okafor", Some(&artist))
        .await;
    assert_eq!(page.status, 200, "{}", page.body);
    assert!(page.body.contains("AMOUNT PAYABLE") && page.body.contains("Alpha Records"));
    let csv = s
        .get(
            "/t/alpha/statements/2016Q1/june-okafor?format=csv",
            Some(&artist),
        )
        .await;
    assert!(csv
        .header("content-type")
        .unwrap_or("")
        .starts_with("text/csv"));
    assert!(csv.body.starts_with("record,contract_id"), "{}", csv.body);
    let js = s
        .get(
            "/api/v1/t/alpha/statements/2016Q1/june-okafor",
            Some(&artist),
        )
        .await;
    assert_eq!(js.status, 200, "{}", js.body);
    assert_eq!(js.json()["payee"]["id"], "june-okafor");
    assert_eq!(js.json()["contracts"][0]["contract_id"], "C-JUNE");
    // 20% of the sale's 400.00 (the statement's fee names no release) = 80.00.
    assert_eq!(
        js.json()["contracts"][0]["totals"]["royalty_earned"]["amount_minor"],
        8000
    );
    // Another payee's statement: not found, on pages and in the API, in every format.
    for path in [
        "/t/alpha/statements/2016Q1/other-artist",
        "/t/alpha/statements/2016Q1/other-artist?format=pdf",
        "/api/v1/t/alpha/statements/2016Q1/other-artist",
    ] {
        let r = s.get(path, Some(&artist)).await;
        assert_eq!(r.status, 404, "{path}: {}", r.body);
        assert!(!r.body.contains("Other Artist") && !r.body.starts_with("%PDF"));
    }
    let r = s.get("/api/v1/t/alpha/statements", Some(&artist)).await;
    let v = r.json();
    let list = v["statements"].as_array().unwrap();
    assert_eq!(list.len(), 1, "{}", r.body);
    assert_eq!(list[0]["payee"], "june-okafor");
    assert_eq!(v["releases_paid_on"][0]["sku"], "ALP-001-CD");
    assert_eq!(v["releases_paid_on"].as_array().unwrap().len(), 1);
    // ?payee= cannot widen an artist's view.
    let r = s
        .get(
            "/api/v1/t/alpha/statements?payee=other-artist",
            Some(&artist),
        )
        .await;
    assert_eq!(r.json()["statements"].as_array().unwrap().len(), 0);
    // Not the runs, not running.
    assert_eq!(s.get("/t/alpha/royalties", Some(&artist)).await.status, 403);
    let r = s
        .post_form("/t/alpha/royalties/runs", &artist, &[("period", "2016Q2")])
        .await;
    assert_eq!(r.status, 403);
    // The existing catalog behaviour stays.
    let r = s.get("/t/alpha/catalog", Some(&artist)).await;
    assert!(r.body.contains("ALP-001-CD") && !r.body.contains("ALP-002-CD"));

    // A distributor sees no statements at all.
    let dist = s.login("distributor@alpha.test").await;
    for path in [
        "/t/alpha/statements",
        "/t/alpha/statements/2016Q1/june-okafor?format=pdf",
        "/t/alpha/royalties",
    ] {
        assert_eq!(s.get(path, Some(&dist)).await.status, 403, "{path}");
    }
    for path in [
        "/api/v1/t/alpha/statements",
        "/api/v1/t/alpha/statements/2016Q1/june-okafor",
        "/api/v1/t/alpha/royalties",
    ] {
        let r = s.get(path, Some(&dist)).await;
        assert_eq!((r.status, r.error_code().as_str()), (403, "forbidden"));
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn label_roles_view_statements_and_the_owner_previews_then_runs_a_period() {
    let s = royalty_label().await;
    // The bookkeeper views runs and every statement, but cannot run.
    let bk = s.login("bookkeeper@alpha.test").await;
    let r = s.get("/t/alpha/royalties", Some(&bk)).await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert!(r.body.contains("2016Q1") && !r.body.contains("run-form"));
    let r = s.get("/t/alpha/statements", Some(&bk)).await;
    assert!(r.body.contains("june-okafor") && r.body.contains("other-artist"));
    let csv = s
        .get("/t/alpha/statements?format=csv&sort=payee", Some(&bk))
        .await;
    assert!(csv.body.starts_with("period,payee"), "{}", csv.body);
    assert_eq!(csv.body.lines().count(), 3, "{}", csv.body);
    let r = s
        .get(
            "/t/alpha/statements/2016Q1/other-artist?format=pdf",
            Some(&bk),
        )
        .await;
    assert!(r.body.starts_with("%PDF"));
    let r = s
        .post_form("/t/alpha/royalties/preview", &bk, &[("period", "2016Q2")])
        .await;
    assert_eq!(r.status, 403);
    let r = s
        .post(
            "/api/v1/t/alpha/royalties/runs",
            &bk,
            "application/json",
            br#"{"period":"2016Q2"}"#,
        )
        .await;
    assert_eq!((r.status, r.error_code().as_str()), (403, "forbidden"));
    assert_eq!(runs(&s, &bk).await, 1);

    // The owner previews 2016Q2: statements and tie-out shown, nothing recorded.
    let owner = s.login("owner@alpha.test").await;
    let r = s.get("/t/alpha/royalties", Some(&owner)).await;
    assert!(r.body.contains("run-form") && r.body.contains(r#"value="2016Q2""#));
    let p = s
        .post_form(
            "/t/alpha/royalties/preview",
            &owner,
            &[("period", "2016Q2")],
        )
        .await;
    assert_eq!(p.status, 200, "{}", p.body);
    assert!(p.body.contains("run-preview") && p.body.contains("ties to the cent"));
    assert!(p.body.contains("run-confirm") && p.body.contains("June Okafor"));
    assert_eq!(runs(&s, &owner).await, 1, "a preview records nothing");
    let api = s
        .post(
            "/api/v1/t/alpha/royalties/runs",
            &owner,
            "application/json",
            br#"{"period":"2016Q2","dry_run":true}"#,
        )
        .await;
    assert_eq!(api.status, 200, "{}", api.body);
    let v = api.json();
    assert_eq!(
        (v["posted"].as_bool(), v["dry_run"].as_bool()),
        (Some(false), Some(true))
    );
    assert_eq!(v["tie_out"][0]["ok"], true);
    // 20% of 160.00 = 32.00 for June in 2016Q2.
    let june = v["statements"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["payee"] == "june-okafor")
        .unwrap()
        .clone();
    assert_eq!(june["contracts"][0]["royalties"]["amount_minor"], 3200);
    assert_eq!(runs(&s, &owner).await, 1);
    // Confirming posts and locks it, once (two confirms at the same time: one posts,
    // the other is told the period is locked); it is audited.
    // The confirm carries the journal length the preview saw: stale → refused.
    let i = p.body.find(r#"name="journal" value=""#).unwrap() + r#"name="journal" value=""#.len();
    let journal = p.body[i..].split('"').next().unwrap().to_string();
    let stale = (journal.parse::<i64>().unwrap() - 1).to_string();
    let r = s
        .post_form(
            "/t/alpha/royalties/runs",
            &owner,
            &[("period", "2016Q2"), ("journal", &stale)],
        )
        .await;
    assert_eq!(r.status, 409, "{}", r.body);
    assert!(r.body.contains("changed since the preview"), "{}", r.body);
    assert_eq!(runs(&s, &owner).await, 1);
    let confirm = [("period", "2016Q2"), ("journal", journal.as_str())];
    let (a, b) = tokio::join!(
        s.post_form("/t/alpha/royalties/runs", &owner, &confirm),
        s.post_form("/t/alpha/royalties/runs", &owner, &confirm)
    );
    let (r, other) = if a.status == 200 { (a, b) } else { (b, a) };
    assert_eq!(r.status, 200, "{}", r.body);
    assert!(r.body.contains("run-result") && r.body.contains("posted and locked"));
    assert_eq!(other.status, 409, "{}", other.body);
    assert!(other.body.contains("locked"), "{}", other.body);
    assert_eq!(runs(&s, &owner).await, 2);
    if let Some(url) = database(&s.state) {
        // On PostgreSQL the run and its statements are in the database before the
        // answer: a copy of the label made from the database alone shows them.
        use backstock_store::contract::{Beside, Journal};
        let pg = backstock_store_pg::PgStore::connect(&url, "alpha")
            .await
            .unwrap();
        assert!(pg
            .entry_with_postings("royalty-run:2016Q2")
            .await
            .unwrap()
            .is_some());
        let counts = pg.royalty_statement_counts().await.unwrap();
        assert!(
            counts.iter().any(|(p, n)| p == "2016Q2" && *n >= 1),
            "{counts:?}"
        );
        let tmp = tempfile::tempdir().unwrap();
        let copy = backstock_store::Store::open(tmp.path(), true)
            .await
            .unwrap();
        backstock_store::copy::copy_journal(&pg, &copy)
            .await
            .unwrap();
        backstock_store::copy::copy_beside(&pg, &copy)
            .await
            .unwrap();
        let st = copy
            .royalty_statement("2016Q2", "june-okafor")
            .await
            .unwrap()
            .expect("june-okafor's 2016Q2 statement came with the label");
        assert!(String::from_utf8_lossy(&st.json).contains("june-okafor"));
        copy.pool().close().await;
    }
    let r = s
        .post(
            "/api/v1/t/alpha/royalties/runs",
            &owner,
            "application/json",
            br#"{"period":"2016Q2"}"#,
        )
        .await;
    assert_eq!((r.status, r.error_code().as_str()), (409, "refused"));
    // A period not over yet is previewed with what is known so far, never posted;
    // a malformed one is refused.
    let r = s
        .post(
            "/api/v1/t/alpha/royalties/runs",
            &owner,
            "application/json",
            br#"{"period":"2016Q3","dry_run":true}"#,
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.json()["postable_from"], "2016-09-30");
    let r = s
        .post(
            "/api/v1/t/alpha/royalties/runs",
            &owner,
            "application/json",
            br#"{"period":"2016Q3"}"#,
        )
        .await;
    assert_eq!((r.status, r.error_code().as_str()), (409, "refused"));
    let r = s
        .post(
            "/api/v1/t/alpha/royalties/runs",
            &owner,
            "application/json",
            br#"{"period":"2016X9","dry_run":true}"#,
        )
        .await;
    assert_eq!(
        (r.status, r.error_code().as_str()),
        (400, "invalid_input"),
        "{}",
        r.body
    );
    let audit = s.get("/api/v1/t/alpha/audit", Some(&owner)).await;
    let actions: Vec<String> = audit.json()["audit"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["action"].as_str().unwrap_or("").to_string())
        .collect();
    assert_eq!(
        actions.iter().filter(|a| *a == "royalty_run").count(),
        1,
        "{actions:?}"
    );
    // The new statements are there for the artist.
    let artist = s.login("artist@alpha.test").await;
    let r = s
        .get(
            "/t/alpha/statements/2016Q2/june-okafor?format=pdf",
            Some(&artist),
        )
        .await;
    assert!(r.body.starts_with("%PDF"));

    // Another tenant: alpha's statements are not found for beta's owner, and beta's
    // royalties are not found for alpha's owner.
    let beta = s.login(BETA_OWNER).await;
    for path in [
        "/t/alpha/statements",
        "/t/alpha/statements/2016Q1/june-okafor?format=pdf",
        "/t/alpha/royalties",
        "/api/v1/t/alpha/statements/2016Q1/june-okafor",
    ] {
        let r = s.get(path, Some(&beta)).await;
        assert_eq!(r.status, 404, "{path}");
        assert!(!r.body.contains("June Okafor") && !r.body.starts_with("%PDF"));
    }
    let r = s
        .post_form("/t/alpha/royalties/runs", &beta, &[("period", "2016Q3")])
        .await;
    assert_eq!(r.status, 404);
    for path in ["/t/beta/royalties", "/api/v1/t/beta/statements"] {
        assert_eq!(s.get(path, Some(&owner)).await.status, 404, "{path}");
    }
    let r = s
        .post(
            "/api/v1/t/beta/royalties/runs",
            &owner,
            "application/json",
            br#"{"period":"2016Q1","dry_run":true}"#,
        )
        .await;
    assert_eq!((r.status, r.error_code().as_str()), (404, "not_found"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_demo_artist_sees_real_statements() {
    let dir = tempfile::tempdir().unwrap();
    let state = backstock_web::AppState::open(backstock_web::Config::new(dir.path().into()))
        .await
        .unwrap();
    backstock_web::cli::setup_demo(&state.control, PASSWORD)
        .await
        .unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let st = state.clone();
    tokio::spawn(async move { backstock_web::serve_on(listener, st).await });
    let s = Server { addr, dir, state };
    let artist = s.login("artist@marigold.test").await;
    let r = s.get("/t/marigold/statements", Some(&artist)).await;
    assert_eq!(r.status, 200, "{}", r.body);
    // Eight half-years, 2012H2 to 2016H1, all June Okafor's.
    assert!(r.body.contains("/t/marigold/statements/2016H1/june-okafor"));
    assert!(r.body.contains("/t/marigold/statements/2012H2/june-okafor"));
    assert!(!r.body.contains("tidewater-band"), "{}", r.body);
    assert!(r.body.contains("IN DEFAULT"), "{}", r.body);
    let v = s
        .get("/api/v1/t/marigold/statements", Some(&artist))
        .await
        .json();
    assert_eq!(v["statements"].as_array().unwrap().len(), 8);
    assert!(!v["releases_paid_on"].as_array().unwrap().is_empty());
    let pdf = s
        .get(
            "/t/marigold/statements/2016H1/june-okafor?format=pdf",
            Some(&artist),
        )
        .await;
    assert!(pdf.body.starts_with("%PDF"));
}

/// A period not over yet (the demo's next half-year) is previewed with what is known
/// so far and the day it can be posted; there is nothing to post yet.
#[tokio::test]
async fn a_period_not_over_is_previewed_so_far_and_not_offered_for_posting() {
    let s = royalty_label().await;
    let dir = s.control().label_dir("alpha");
    let store = backstock_store::Store::open(&dir, false).await.unwrap();
    store.set_meta("today", "2016-05-15").await.unwrap();
    drop(store);
    publish(&s.state, "alpha").await;
    let owner = s.login("owner@alpha.test").await;
    let p = s
        .post_form(
            "/t/alpha/royalties/preview",
            &owner,
            &[("period", "2016Q2")],
        )
        .await;
    assert_eq!(p.status, 200, "{}", p.body);
    assert!(p.body.contains("Preview of 2016Q2 so far"), "{}", p.body);
    assert!(!p.body.contains("run-confirm"), "{}", p.body);
    let api = s
        .post(
            "/api/v1/t/alpha/royalties/runs",
            &owner,
            "application/json",
            br#"{"period":"2016Q2","dry_run":true}"#,
        )
        .await;
    assert_eq!(api.status, 200, "{}", api.body);
    assert_eq!(api.json()["postable_from"], "2016-06-30");
    let post = s
        .post(
            "/api/v1/t/alpha/royalties/runs",
            &owner,
            "application/json",
            br#"{"period":"2016Q2"}"#,
        )
        .await;
    assert_eq!(post.status, 409, "{}", post.body);
}

/// Issue 18.9: a German label's statements — the page and the PDF — are written with
/// its dates and amounts; the JSON stays as stored.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn statements_are_written_in_the_labels_locale() {
    let s = royalty_label().await;
    let owner = s.login("owner@alpha.test").await;
    let href = "/t/alpha/statements/2016Q1/june-okafor";
    let us_pdf = s.get(&format!("{href}?format=pdf"), Some(&owner)).await;
    let us_json = s.get(&format!("{href}?format=json"), Some(&owner)).await;
    s.control()
        .set_tenant_format("alpha", "de-DE", "USD")
        .await
        .unwrap();
    let page = s.get(href, Some(&owner)).await;
    assert_eq!(page.status, 200, "{}", page.body);
    assert!(
        page.body.contains("earned 80,00 USD, collected 0,00 USD"),
        "{}",
        page.body
    );
    assert!(!page.body.contains("80.00 USD"), "{}", page.body);
    let de_pdf = s.get(&format!("{href}?format=pdf"), Some(&owner)).await;
    assert_eq!(de_pdf.status, 200);
    assert!(de_pdf.body.starts_with("%PDF"));
    assert_ne!(
        de_pdf.body, us_pdf.body,
        "the PDF follows the label's locale"
    );
    let de_json = s.get(&format!("{href}?format=json"), Some(&owner)).await;
    assert_eq!(de_json.body, us_json.body, "JSON is data: unchanged");
}
