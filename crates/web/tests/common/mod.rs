//! A real server on a random port with a temp data directory, two labels (alpha and
//! beta) and one user per role, driven over HTTP by a tiny HTTP/1.1 client.
//!
//! With `BACKSTOCK_TEST_BACKEND=postgres` and `BACKSTOCK_TEST_PG_URL` (`.ci/run` runs
//! this suite a second time so) every server has a fresh PostgreSQL database of its
//! own for its control tables and labels (`serve --database`), the labels loaded there.

#![allow(dead_code)]

use backstock_web::control::Control;
use backstock_web::roles::Role;
use backstock_web::{AppState, Config};
use std::collections::HashMap;
use std::net::SocketAddr;
use std::path::Path;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

pub const PASSWORD: &str = "correct horse battery";

pub const ALPHA_CATALOG: &str =
    "sku,upc,title,artist,format,release_date,list_price,wholesale_price,unit_cost,currency\n\
ALP-001-CD,859712000019,Harbor Lights,June Okafor,CD,2010-01-15,15.98,8.00,1.10,USD\n\
ALP-002-CD,859712000026,Paper Moons,Other Artist,CD,2011-02-15,15.98,8.00,1.10,USD\n";
pub const ALPHA_DISTRIBUTORS: &str = "distributor,legal_name,state_of_organization,agreement_start,fee_rate,payment_terms_days,statement_frequency,reserve_rate,reserve_release_days,credit_limit,currency,title_retained,ucc1_file_number,ucc1_filed_on,ucc1_state\n\
alphadist,Alpha Distribution LLC,OR,2012-01-01,0.20,90,monthly,0.10,180,50000.00,USD,true,,,\n\
northwind,Northwind Distribution Inc,CA,2012-01-01,0.20,60,monthly,0.10,180,50000.00,USD,true,,,\n";
/// alpha's artists as payees on file (the artist member is june-okafor).
pub const ALPHA_PAYEES: &str = "payee,name,email,address\n\
june-okafor,June Okafor,june@okafor.example,\"12 Elm St, Asheville NC 28801\"\n\
other-artist,Other Artist,other@artist.example,\"1 Main St, Portland OR 97205\"\n";
pub const ALPHA_SHIPMENTS: &str = "shipment_id,date,from,to,sku,units,po_number\n\
R1,2016-01-02,plant:optimal,label,ALP-001-CD,500,\n\
R2,2016-01-02,plant:optimal,label,ALP-002-CD,500,\n\
S1,2016-02-01,label,alphadist,ALP-001-CD,200,PO-ALPHA-1\n\
S2,2016-02-01,label,northwind,ALP-002-CD,100,PO-NORTH-1\n";
pub const ALPHA_ORDERS: &str = "po_number,date,distributor,sku,units\n\
PO-ALPHA-1,2016-01-20,alphadist,ALP-001-CD,200\n\
PO-NORTH-1,2016-01-20,northwind,ALP-002-CD,100\n";
pub const BETA_ORDERS: &str = "po_number,date,distributor,sku,units\n\
PO-BETA-SECRET,2016-01-20,betadist,BETA-001-CD,100\n";
pub const ALPHA_STATEMENT: &str = "statement_id,distributor,period_start,period_end,issued_on,kind,sku,units,amount,currency,memo\n\
ST-ALPHA-1,alphadist,2016-02-01,2016-02-29,2016-03-10,sale,ALP-001-CD,50,400.00,USD,\n\
ST-ALPHA-1,alphadist,2016-02-01,2016-02-29,2016-03-10,fee,,,80.00,USD,\n";

pub const BETA_CATALOG: &str =
    "sku,upc,title,artist,format,release_date,list_price,wholesale_price,unit_cost,currency\n\
BETA-001-CD,859712000033,Beta Secret Album,Beta Secret Artist,CD,2010-01-15,15.98,8.00,1.10,USD\n";
pub const BETA_DISTRIBUTORS: &str = "distributor,legal_name,state_of_organization,agreement_start,fee_rate,payment_terms_days,statement_frequency,reserve_rate,reserve_release_days,credit_limit,currency,title_retained,ucc1_file_number,ucc1_filed_on,ucc1_state\n\
betadist,Beta Secret Distribution,OR,2012-01-01,0.20,90,monthly,0.10,180,50000.00,USD,true,,,\n";
pub const BETA_SHIPMENTS: &str = "shipment_id,date,from,to,sku,units,po_number\n\
BR1,2016-01-02,plant:optimal,label,BETA-001-CD,300,\n\
BS1,2016-02-01,label,betadist,BETA-001-CD,100,PO-BETA-SECRET\n";

/// Strings only beta's data contains: never in an answer to an alpha member.
pub const BETA_MARKERS: [&str; 3] = ["BETA-001", "Beta Secret", "PO-BETA"];

/// alpha's users: one per role.
pub const ALPHA_USERS: [(&str, Role, Option<&str>); 5] = [
    ("owner@alpha.test", Role::Owner, None),
    ("staff@alpha.test", Role::Staff, None),
    ("bookkeeper@alpha.test", Role::Bookkeeper, None),
    ("artist@alpha.test", Role::Artist, Some("june-okafor")),
    (
        "distributor@alpha.test",
        Role::Distributor,
        Some("alphadist"),
    ),
];
pub const BETA_OWNER: &str = "owner@beta.test";

pub struct Server {
    pub addr: SocketAddr,
    pub dir: tempfile::TempDir,
    pub state: AppState,
}

/// The server's database when this run is on PostgreSQL.
pub fn database(state: &AppState) -> Option<String> {
    state.config.database.clone()
}

/// Whether this run's servers keep their labels in PostgreSQL.
pub fn on_postgres() -> bool {
    std::env::var("BACKSTOCK_TEST_BACKEND").is_ok_and(|b| b == "postgres")
}

/// A new, empty PostgreSQL database for one server (`None`: this run is on SQLite).
/// Panics when the run asks for PostgreSQL and none is reachable: a run on the
/// wrong backend must not pass unnoticed.
pub async fn fresh_database() -> Option<String> {
    if !on_postgres() {
        return None;
    }
    let url = std::env::var("BACKSTOCK_TEST_PG_URL")
        .expect("BACKSTOCK_TEST_BACKEND=postgres needs BACKSTOCK_TEST_PG_URL");
    static N: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.subsec_nanos())
        .unwrap_or(0);
    let name = format!(
        "bsweb_{}_{}_{nanos}",
        std::process::id(),
        N.fetch_add(1, std::sync::atomic::Ordering::Relaxed)
    );
    use sqlx::Connection;
    let mut c = sqlx::PgConnection::connect(&url)
        .await
        .expect("the test server");
    sqlx::query(&format!("CREATE DATABASE {name}"))
        .execute(&mut c)
        .await
        .expect("a test database");
    let (base, query) = match url.split_once('?') {
        Some((b, q)) => (b, format!("?{q}")),
        None => (url.as_str(), String::new()),
    };
    let base = base.rsplit_once('/').map(|(b, _)| b).unwrap_or(base);
    Some(format!("{base}/{name}{query}"))
}

/// After a test wrote into a label's store directly (as an operator's CLI would on a
/// data directory): on PostgreSQL, what it wrote is appended to the label in the
/// database, as `backstock --database … import` would.
pub async fn publish(state: &AppState, slug: &str) {
    let Some(url) = database(state) else { return };
    let local = backstock_store::Store::open(&state.control.label_dir(slug), false)
        .await
        .unwrap();
    let pg = backstock_store_pg::PgStore::connect(&url, slug)
        .await
        .unwrap();
    backstock_store::copy::copy_journal(&local, &pg)
        .await
        .unwrap();
    backstock_store::copy::copy_beside(&local, &pg)
        .await
        .unwrap();
    local.pool().close().await;
}

async fn load(dir: &Path, files: &[(&str, &str)]) {
    let store = backstock_store::Store::open(dir, true).await.unwrap();
    store.set_meta("today", "2016-06-30").await.unwrap();
    import_into(&store, files).await;
}

/// Imports `files` (name, text) into `store` as `backstock import` would, in one run.
pub async fn import_into(store: &backstock_store::Store, files: &[(&str, &str)]) {
    let tmp = tempfile::tempdir().unwrap();
    let mut paths = Vec::new();
    for (name, text) in files {
        let p = tmp.path().join(name);
        std::fs::write(&p, text).unwrap();
        paths.push(p);
    }
    let opts = backstock_app::import::ImportOptions::default();
    backstock_app::import::run(store, &paths, &opts)
        .await
        .unwrap();
}

async fn member(c: &Control, email: &str, tenant: &str, role: Role, party: Option<&str>) -> i64 {
    let u = match c.user_by_email(email).await.unwrap() {
        Some(u) => u,
        None => c.add_user(email, "", PASSWORD).await.unwrap(),
    };
    c.set_membership(u.id, tenant, role, party).await.unwrap();
    u.id
}

/// Starts a server with both labels. `tune` adjusts the configuration.
pub async fn start(tune: impl FnOnce(&mut Config)) -> Server {
    let dir = tempfile::tempdir().unwrap();
    let mut config = Config::new(dir.path().to_path_buf());
    config.database = fresh_database().await;
    tune(&mut config);
    let state = AppState::open(config).await.unwrap();
    let c = &state.control;
    c.ensure_tenant("alpha", "Alpha Records").await.unwrap();
    c.ensure_tenant("beta", "Beta Secret Label").await.unwrap();
    load(
        &c.label_dir("alpha"),
        &[
            ("catalog.csv", ALPHA_CATALOG),
            ("distributors.csv", ALPHA_DISTRIBUTORS),
            ("payees.csv", ALPHA_PAYEES),
            ("purchase_orders.csv", ALPHA_ORDERS),
            ("shipments.csv", ALPHA_SHIPMENTS),
        ],
    )
    .await;
    load(
        &c.label_dir("beta"),
        &[
            ("catalog.csv", BETA_CATALOG),
            ("distributors.csv", BETA_DISTRIBUTORS),
            ("purchase_orders.csv", BETA_ORDERS),
            ("shipments.csv", BETA_SHIPMENTS),
        ],
    )
    .await;
    publish(&state, "alpha").await;
    publish(&state, "beta").await;
    for (email, role, party) in ALPHA_USERS {
        member(c, email, "alpha", role, party).await;
    }
    member(c, BETA_OWNER, "beta", Role::Owner, None).await;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let s = state.clone();
    tokio::spawn(async move { backstock_web::serve_on(listener, s).await });
    Server { addr, dir, state }
}

/// A server with only the demo label (marigold, Marigold Records) and one login per
/// role, as `backstock serve --demo` makes them (password [`PASSWORD`]).
pub async fn start_demo() -> Server {
    let dir = tempfile::tempdir().unwrap();
    let mut config = Config::new(dir.path().to_path_buf());
    config.database = fresh_database().await;
    config.max_ip_failures = 1_000;
    let state = AppState::open(config).await.unwrap();
    backstock_web::cli::setup_demo(&state.control, PASSWORD)
        .await
        .unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let s = state.clone();
    tokio::spawn(async move { backstock_web::serve_on(listener, s).await });
    Server { addr, dir, state }
}

/// A CSV text as rows of fields (quotes undone).
pub fn csv_rows(text: &str) -> Vec<Vec<String>> {
    let mut rows = Vec::new();
    let mut row = Vec::new();
    let mut field = String::new();
    let mut quoted = false;
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        match (c, quoted) {
            ('"', true) if chars.peek() == Some(&'"') => {
                field.push('"');
                chars.next();
            }
            ('"', _) => quoted = !quoted,
            (',', false) => row.push(std::mem::take(&mut field)),
            ('\n', false) => {
                row.push(std::mem::take(&mut field));
                rows.push(std::mem::take(&mut row));
            }
            ('\r', false) => {}
            (c, _) => field.push(c),
        }
    }
    if !field.is_empty() || !row.is_empty() {
        row.push(field);
        rows.push(row);
    }
    rows
}

#[derive(Debug)]
pub struct Resp {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: String,
}

impl Resp {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
    /// The session id a response sets.
    pub fn session(&self) -> Option<String> {
        self.headers
            .iter()
            .filter(|(k, _)| k.eq_ignore_ascii_case("set-cookie"))
            .find_map(|(_, v)| v.strip_prefix("bs_session="))
            .map(|v| v.split(';').next().unwrap_or("").to_string())
    }
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.body).unwrap_or(serde_json::Value::Null)
    }
    pub fn error_code(&self) -> String {
        self.json()["error"]["code"]
            .as_str()
            .unwrap_or("")
            .to_string()
    }
}

/// One HTTP/1.1 request on its own connection.
pub async fn request(
    addr: SocketAddr,
    method: &str,
    path: &str,
    headers: &[(&str, String)],
    body: &[u8],
) -> Resp {
    let mut s = tokio::net::TcpStream::connect(addr).await.unwrap();
    let mut head = format!(
        "{method} {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\nContent-Length: {}\r\n",
        body.len()
    );
    for (k, v) in headers {
        head.push_str(&format!("{k}: {v}\r\n"));
    }
    head.push_str("\r\n");
    s.write_all(head.as_bytes()).await.unwrap();
    s.write_all(body).await.unwrap();
    let mut raw = Vec::new();
    s.read_to_end(&mut raw).await.unwrap();
    let split = raw
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .expect("a response head");
    let head = String::from_utf8_lossy(&raw[..split]).to_string();
    let mut body = raw[split + 4..].to_vec();
    let mut lines = head.lines();
    let status: u16 = lines
        .next()
        .and_then(|l| l.split(' ').nth(1))
        .and_then(|c| c.parse().ok())
        .expect("a status line");
    let headers: Vec<(String, String)> = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_string(), v.trim().to_string()))
        .collect();
    let chunked = headers.iter().any(|(k, v)| {
        k.eq_ignore_ascii_case("transfer-encoding") && v.eq_ignore_ascii_case("chunked")
    });
    if chunked {
        let mut out = Vec::new();
        let mut rest = &body[..];
        while let Some(eol) = rest.windows(2).position(|w| w == b"\r\n") {
            let n = usize::from_str_radix(String::from_utf8_lossy(&rest[..eol]).trim(), 16)
                .unwrap_or(0);
            if n == 0 {
                break;
            }
            out.extend_from_slice(&rest[eol + 2..eol + 2 + n]);
            rest = &rest[eol + 2 + n + 2..];
        }
        body = out;
    }
    Resp {
        status,
        headers,
        body: String::from_utf8_lossy(&body).to_string(),
    }
}

/// A signed-in browser: its session cookie and CSRF token.
#[derive(Clone, Debug)]
pub struct Session {
    pub sid: String,
    pub csrf: String,
}

pub fn form(fields: &[(&str, &str)]) -> Vec<u8> {
    fields
        .iter()
        .map(|(k, v)| format!("{}={}", enc(k), enc(v)))
        .collect::<Vec<_>>()
        .join("&")
        .into_bytes()
}

pub fn enc(s: &str) -> String {
    let mut o = String::new();
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || b"-_.~".contains(&b) {
            o.push(b as char);
        } else {
            o.push_str(&format!("%{b:02X}"));
        }
    }
    o
}

pub const BOUNDARY: &str = "XbackstockBOUNDARY";

/// A multipart body: text fields and one file.
pub fn multipart(fields: &[(&str, &str)], file: Option<(&str, &[u8])>) -> Vec<u8> {
    let mut b = Vec::new();
    for (k, v) in fields {
        b.extend_from_slice(
            format!("--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"{k}\"\r\n\r\n{v}\r\n")
                .as_bytes(),
        );
    }
    if let Some((name, bytes)) = file {
        b.extend_from_slice(format!("--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"{name}\"\r\nContent-Type: text/csv\r\n\r\n").as_bytes());
        b.extend_from_slice(bytes);
        b.extend_from_slice(b"\r\n");
    }
    b.extend_from_slice(format!("--{BOUNDARY}--\r\n").as_bytes());
    b
}

impl Server {
    pub async fn get(&self, path: &str, s: Option<&Session>) -> Resp {
        let mut h = Vec::new();
        if let Some(s) = s {
            h.push(("Cookie", format!("bs_session={}", s.sid)));
        }
        request(self.addr, "GET", path, &h, b"").await
    }

    /// A POST as a signed-in browser: cookie and CSRF header.
    pub async fn post(&self, path: &str, s: &Session, content_type: &str, body: &[u8]) -> Resp {
        request(
            self.addr,
            "POST",
            path,
            &[
                ("Cookie", format!("bs_session={}", s.sid)),
                ("x-csrf-token", s.csrf.clone()),
                ("Content-Type", content_type.to_string()),
            ],
            body,
        )
        .await
    }

    pub async fn post_form(&self, path: &str, s: &Session, fields: &[(&str, &str)]) -> Resp {
        self.post(path, s, "application/x-www-form-urlencoded", &form(fields))
            .await
    }

    pub async fn login_raw(&self, email: &str, password: &str, old: Option<&str>) -> Resp {
        let mut h = vec![(
            "Content-Type",
            "application/x-www-form-urlencoded".to_string(),
        )];
        if let Some(o) = old {
            h.push(("Cookie", format!("bs_session={o}")));
        }
        request(
            self.addr,
            "POST",
            "/login",
            &h,
            &form(&[("email", email), ("password", password), ("next", "/")]),
        )
        .await
    }

    /// Signs in and reads the CSRF token from the account page.
    pub async fn login(&self, email: &str) -> Session {
        let r = self.login_raw(email, PASSWORD, None).await;
        assert_eq!(r.status, 303, "login {email}: {}", r.body);
        let sid = r.session().expect("a session cookie");
        let page = self
            .get(
                "/account",
                Some(&Session {
                    sid: sid.clone(),
                    csrf: String::new(),
                }),
            )
            .await;
        let csrf = csrf_of(&page.body).expect("a CSRF token on the account page");
        Session { sid, csrf }
    }

    pub fn control(&self) -> &Control {
        &self.state.control
    }
}

pub fn csrf_of(html: &str) -> Option<String> {
    let i = html.find("name=\"csrf\" value=\"")? + "name=\"csrf\" value=\"".len();
    let j = html[i..].find('"')?;
    Some(html[i..i + j].to_string())
}

pub fn query(pairs: &[(&str, &str)]) -> HashMap<String, String> {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

/// Entries in label alpha's journal, read from its store.
pub async fn entries(s: &Server) -> i64 {
    backstock_store::Store::open(&s.control().label_dir("alpha"), false)
        .await
        .unwrap()
        .entry_count()
        .await
        .unwrap()
}

/// The content type of a [`multipart`] body.
pub fn mp() -> String {
    format!("multipart/form-data; boundary={BOUNDARY}")
}

/// HTML text back to plain text (enough for the messages compared here).
pub fn plain(html: &str) -> String {
    html.replace("&quot;", "\"")
        .replace("&#34;", "\"")
        .replace("&#39;", "'")
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&amp;", "&")
}
