//! Issue 19.8: lists page. API list routes take `cursor` and `limit` (default and
//! most 500 rows) and answer a `next` cursor; list pages show the first 500 rows with a
//! "next" link; CSV exports stream every row.

use crate::common;
use common::*;

/// A catalog of `n` releases (SKUs BIG-00000 …).
fn big_catalog(n: usize) -> String {
    let mut s = String::from(
        "sku,upc,title,artist,format,release_date,list_price,wholesale_price,unit_cost,currency\n",
    );
    for i in 0..n {
        s.push_str(&format!(
            "BIG-{i:05},,Title {i},Artist {},CD,2010-01-15,15.98,8.00,1.10,USD\n",
            i % 7
        ));
    }
    s
}

async fn load_catalog(s: &Server, n: usize) {
    let store = backstock_store::Store::open(&s.control().label_dir("alpha"), false)
        .await
        .unwrap();
    let tmp = tempfile::tempdir().unwrap();
    let p = tmp.path().join("big-catalog.csv");
    std::fs::write(&p, big_catalog(n)).unwrap();
    backstock_app::import::run(&store, &[p], &Default::default())
        .await
        .unwrap();
    publish(&s.state, "alpha").await;
}

async fn api(s: &Server, token: &str, path: &str) -> Resp {
    request(
        s.addr,
        "GET",
        path,
        &[("Authorization", format!("Bearer {token}"))],
        b"",
    )
    .await
}

async fn token(s: &Server) -> String {
    let owner = s.login("owner@alpha.test").await;
    s.post(
        "/api/v1/tokens",
        &owner,
        "application/json",
        br#"{"name":"t"}"#,
    )
    .await
    .json()["token"]
        .as_str()
        .unwrap()
        .to_string()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_catalog_api_pages_with_a_cursor() {
    let s = start(|_| {}).await;
    load_catalog(&s, 1_203).await;
    let t = token(&s).await;
    // Default: 500 rows and a cursor to the next.
    let r = api(&s, &t, "/api/v1/t/alpha/catalog").await;
    assert_eq!(r.status, 200, "{}", r.body);
    let j = r.json();
    let items = j["items"].as_array().unwrap();
    assert_eq!(items.len(), 500);
    assert_eq!(j["limit"], 500);
    let mut next = j["next"].as_str().expect("a next cursor").to_string();
    let mut seen: Vec<String> = items
        .iter()
        .map(|i| i["sku"].as_str().unwrap().to_string())
        .collect();
    // Follow the cursors to the end: every release once, in order.
    let mut pages = 1;
    loop {
        let r = api(
            &s,
            &t,
            &format!("/api/v1/t/alpha/catalog?cursor={}", enc(&next)),
        )
        .await;
        assert_eq!(r.status, 200, "{}", r.body);
        let j = r.json();
        pages += 1;
        seen.extend(
            j["items"]
                .as_array()
                .unwrap()
                .iter()
                .map(|i| i["sku"].as_str().unwrap().to_string()),
        );
        match j["next"].as_str() {
            Some(n) => next = n.to_string(),
            None => break,
        }
    }
    assert_eq!(pages, 3);
    assert_eq!(seen.len(), 1_205, "1,203 + ALP-001-CD and ALP-002-CD");
    let mut sorted = seen.clone();
    sorted.sort();
    sorted.dedup();
    assert_eq!(sorted, seen, "in order, none twice");
    // A smaller limit; a larger one is held to 500; a bad one is a 400.
    let r = api(&s, &t, "/api/v1/t/alpha/catalog?limit=2").await.json();
    assert_eq!(r["items"].as_array().unwrap().len(), 2);
    assert_eq!(r["next"], r["items"][1]["sku"]);
    let r = api(&s, &t, "/api/v1/t/alpha/catalog?limit=100000")
        .await
        .json();
    assert_eq!(r["items"].as_array().unwrap().len(), 500);
    let r = api(&s, &t, "/api/v1/t/alpha/catalog?limit=0").await;
    assert_eq!((r.status, r.error_code().as_str()), (400, "invalid_input"));
    let r = api(&s, &t, "/api/v1/t/alpha/catalog?limit=ten").await;
    assert_eq!(r.status, 400, "{}", r.body);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_artist_pages_only_through_their_own_releases() {
    let s = start(|_| {}).await;
    load_catalog(&s, 30).await;
    let artist = s.login("artist@alpha.test").await;
    let r = s
        .get("/api/v1/t/alpha/catalog?limit=1", Some(&artist))
        .await
        .json();
    let items = r["items"].as_array().unwrap();
    assert_eq!(items.len(), 1);
    assert_eq!(items[0]["artist"], "June Okafor");
    assert!(r["next"].is_null(), "{r}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn list_pages_show_the_first_page_with_a_next_link_and_csv_streams_all() {
    let s = start(|_| {}).await;
    load_catalog(&s, 1_203).await;
    let owner = s.login("owner@alpha.test").await;
    let r = s.get("/t/alpha/catalog", Some(&owner)).await;
    assert_eq!(r.status, 200);
    let rows = r.body.matches("<tr><td>").count();
    assert_eq!(rows, 500, "the first page");
    assert!(r.body.contains("1205 rows"), "the count of all rows");
    let next = r
        .body
        .split("id=\"next-catalog\" href=\"")
        .nth(1)
        .expect("a next link");
    let next = next[..next.find('"').unwrap()].replace("&amp;", "&");
    let r2 = s.get(&next, Some(&owner)).await;
    assert_eq!(r2.status, 200);
    assert_eq!(r2.body.matches("<tr><td>").count(), 500);
    assert!(r2.body.contains("id=\"prev-catalog\""), "{next}");
    // The CSV has every row, streamed (chunked), not cut at a page.
    let csv = s
        .get("/t/alpha/catalog?format=csv&table=catalog", Some(&owner))
        .await;
    assert_eq!(csv.status, 200);
    assert_eq!(
        csv.header("transfer-encoding").map(str::to_ascii_lowercase),
        Some("chunked".into()),
        "{:?}",
        csv.headers
    );
    assert_eq!(csv.body.lines().count(), 1 + 1_205);
    // Every page's CSV streams, a page with several tables too.
    let csv = s
        .get("/t/alpha/shipments?format=csv&table=orders", Some(&owner))
        .await;
    assert_eq!(csv.status, 200, "{}", csv.body);
    assert_eq!(
        csv.header("transfer-encoding").map(str::to_ascii_lowercase),
        Some("chunked".into())
    );
    assert!(csv.body.starts_with("date,PO,"), "{}", csv.body);
    assert_eq!(csv.body.lines().count(), 3, "{}", csv.body);
    let r = s
        .get("/t/alpha/shipments?format=csv&table=nope", Some(&owner))
        .await;
    assert_eq!(r.status, 400, "{}", r.body);
    // Sorted pages: the sort is kept on the next link.
    let r = s
        .get("/t/alpha/catalog?sort=-catalog.sku", Some(&owner))
        .await;
    let next = r
        .body
        .split("id=\"next-catalog\" href=\"")
        .nth(1)
        .expect("a next link");
    assert!(next[..next.find('"').unwrap()].contains("sort=-catalog.sku"));
}

/// Follows `next` (named `field`, the cursor sent as `param`) from `first` to the end,
/// collecting `list[..][id]`.
async fn walk(
    s: &Server,
    t: &str,
    first: &str,
    list: &str,
    id: &str,
    field: &str,
    param: &str,
) -> Vec<String> {
    let mut out = Vec::new();
    let mut path = first.to_string();
    for _ in 0..100 {
        let r = api(s, t, &path).await;
        assert_eq!(r.status, 200, "{path}: {}", r.body);
        let j = r.json();
        assert!(
            j[list].as_array().unwrap().len() <= 1,
            "limit=1 is kept: {j}"
        );
        out.extend(
            j[list]
                .as_array()
                .unwrap()
                .iter()
                .map(|x| x[id].to_string()),
        );
        match j[field].as_str() {
            Some(n) => {
                let sep = if first.contains('?') { '&' } else { '?' };
                path = format!("{first}{sep}{param}={}", enc(n));
            }
            None => return out,
        }
    }
    panic!("no end to {first}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_list_route_pages() {
    let s = start(|_| {}).await;
    let t = token(&s).await;
    // Shipments (2 consigned in alpha) and purchase orders (2), each with its own
    // cursor.
    let all = api(&s, &t, "/api/v1/t/alpha/shipments").await.json();
    assert_eq!(all["shipments"].as_array().unwrap().len(), 2);
    assert!(all["next"].is_null() && all["purchase_orders_next"].is_null());
    let ships = walk(
        &s,
        &t,
        "/api/v1/t/alpha/shipments?limit=1",
        "shipments",
        "shipment_id",
        "next",
        "cursor",
    )
    .await;
    assert_eq!(ships, ["\"S1\"", "\"S2\""]);
    let pos = walk(
        &s,
        &t,
        "/api/v1/t/alpha/shipments?limit=1",
        "purchase_orders",
        "po_number",
        "purchase_orders_next",
        "po_cursor",
    )
    .await;
    assert_eq!(pos, ["\"PO-ALPHA-1\"", "\"PO-NORTH-1\""]);
    // Members by email, the audit log newest first.
    let members = walk(
        &s,
        &t,
        "/api/v1/t/alpha/members?limit=1",
        "members",
        "role",
        "next",
        "cursor",
    )
    .await;
    assert_eq!(members.len(), 5);
    let audit = walk(
        &s,
        &t,
        "/api/v1/t/alpha/audit?limit=1",
        "audit",
        "id",
        "next",
        "cursor",
    )
    .await;
    let ids: Vec<i64> = audit.iter().map(|i| i.parse().unwrap()).collect();
    assert!(
        !ids.is_empty() && ids.windows(2).all(|w| w[0] > w[1]),
        "{ids:?}"
    );
    let r = api(&s, &t, "/api/v1/t/alpha/audit?cursor=abc").await;
    assert_eq!(r.status, 400, "{}", r.body);
    // Deductions: the page's shape (alpha has none outstanding).
    let d = api(&s, &t, "/api/v1/t/alpha/deductions?all=true&limit=3")
        .await
        .json();
    assert_eq!(d["limit"], 3, "{d}");
    assert!(d["next"].is_null(), "{d}");
    assert!(d["outstanding"].is_array());
}
