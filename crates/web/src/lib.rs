//! backstock-web: the web app and JSON API (`backstock serve`).
//!
//! A data directory holds a control database (users, tenants, memberships, sessions,
//! API tokens, login throttle, pending uploads, audit log — [`control`]) and one label
//! store per tenant (`labels/<slug>/backstock.db`). Every route is declared once in
//! [`routes::ROUTES`] with the access it needs; the router, the OpenAPI document and
//! the authorization-matrix test are all built from that table. Tenant isolation is
//! enforced in one place, the [`auth::Tenant`] extractor.

pub mod actions;
pub mod api;
pub mod auth;
pub mod backup;
pub mod books;
pub mod chart;
pub mod cli;
pub mod control;
pub mod deductions;
pub mod export;
pub mod format;
pub mod html;
pub mod insolvency;
#[cfg(feature = "lines")]
pub mod lines;
pub mod mappings;
pub mod mirror;
pub mod pages;
pub mod paging;
pub mod payouts;
pub mod refill;
pub mod roles;
pub mod routes;
pub mod royalties;
pub mod signup;
pub mod throttle;
pub mod upload;
pub mod views;

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use std::path::PathBuf;
use std::sync::Arc;

/// How the server behaves.
#[derive(Debug, Clone)]
pub struct Config {
    pub data_dir: PathBuf,
    /// A session idle longer than this ends (seconds).
    pub idle_secs: i64,
    /// Always mark the session cookie `Secure` (serving over TLS).
    pub secure_cookies: bool,
    /// Trust `X-Forwarded-For` / `X-Forwarded-Proto` (behind a reverse proxy).
    pub behind_proxy: bool,
    /// Failed sign-ins from one client address in `throttle_window` before each
    /// further try from it must wait (see [`throttle`]).
    pub max_ip_failures: i64,
    /// The first wait (seconds); each further failure from the address doubles it.
    pub ip_delay_secs: i64,
    /// The longest wait of an address (seconds).
    pub max_ip_delay_secs: i64,
    /// The window failures of an address are counted in (seconds).
    pub throttle_window: i64,
    /// Failed sign-ins of one account (from any addresses) in `lock_window` that lock
    /// it to addresses it has not signed in from.
    pub max_account_failures: i64,
    /// The window an account's failures are counted in (seconds).
    pub lock_window: i64,
    /// How long an address stays known to an account after a successful sign-in
    /// (seconds): a lock does not apply to it.
    pub known_address_secs: i64,
    /// `serve --no-signup`: no one makes an account or a label on the web (accounts
    /// come by invitation or `backstock user add`).
    pub no_signup: bool,
    /// Where the server is reached (`http://host:port`, no trailing `/`): the start of
    /// invitation and password-reset links. `None`: the request's `Host`.
    pub base_url: Option<String>,
    /// How invitation and password-reset links are sent ([`signup::Mail`]).
    pub mail: signup::Mail,
    /// `serve --database postgres://…`: the control tables and every label in that
    /// database (labels served through working copies in `data_dir`, [`mirror`]).
    /// `None`: `data_dir/control.db` and `data_dir/labels/<slug>/`.
    pub database: Option<String>,
}

impl Config {
    pub fn new(data_dir: PathBuf) -> Config {
        Config {
            data_dir,
            idle_secs: 30 * 60,
            secure_cookies: false,
            behind_proxy: false,
            max_ip_failures: 5,
            ip_delay_secs: 1,
            max_ip_delay_secs: 15 * 60,
            throttle_window: 24 * 3600,
            max_account_failures: 50,
            lock_window: 3600,
            known_address_secs: 30 * 86_400,
            no_signup: false,
            base_url: None,
            mail: signup::Mail::Log,
            database: None,
        }
    }
}

pub struct Inner {
    pub control: control::Control,
    pub config: Config,
    labels: auth::Labels,
    pub cache: views::Cache,
    /// Failed distributors' standings, per label (the distributor page's section).
    standings: Arc<insolvency::Standings>,
}

/// Shared by every request.
#[derive(Clone)]
pub struct AppState(Arc<Inner>);

impl std::ops::Deref for AppState {
    type Target = Inner;
    fn deref(&self) -> &Inner {
        &self.0
    }
}

impl AppState {
    pub async fn open(config: Config) -> Result<AppState, control::ControlError> {
        let control =
            control::Control::open_at(&config.data_dir, config.database.as_deref()).await?;
        let labels = auth::Labels::new(config.database.clone());
        Ok(AppState(Arc::new(Inner {
            control,
            config,
            labels,
            cache: views::Cache::default(),
            standings: Arc::default(),
        })))
    }
}

impl AppState {
    /// The PostgreSQL labels, when the labels are in a database.
    pub(crate) fn labels_remote(&self) -> Option<&mirror::Remote> {
        self.labels.remote()
    }

    /// Appends what was recorded on `slug`'s working copy to its database.
    pub(crate) async fn push_label(&self, slug: &str) -> Result<(), Fail> {
        self.labels.push(self, slug).await
    }
}

/// An error as the client sees it: an HTTP status, a stable code and a message. API
/// routes answer `{"error":{"code":…,"message":…}}`; pages show the message.
#[derive(Debug, Clone)]
pub struct Fail {
    pub status: u16,
    pub code: &'static str,
    pub message: String,
    /// Every problem, one per entry (e.g. each bad line of an upload), when there are
    /// several; answered as `error.details`.
    pub details: Vec<String>,
    /// What caused an internal failure, with its chain: logged on the server, never
    /// sent to the client.
    pub cause: Option<String>,
}

impl Fail {
    pub fn new(status: u16, code: &'static str, message: impl Into<String>) -> Fail {
        Fail {
            status,
            code,
            message: message.into(),
            details: Vec::new(),
            cause: None,
        }
    }
    pub fn internal(message: impl Into<String>) -> Fail {
        Fail::new(500, "internal", message)
    }
    pub fn bad(message: impl Into<String>) -> Fail {
        Fail::new(400, "invalid_input", message)
    }
    pub fn not_found(message: impl Into<String>) -> Fail {
        Fail::new(404, "not_found", message)
    }
}

/// Every error code the API answers with (documented in the OpenAPI document).
pub const ERROR_CODES: [(&str, &str); 12] = [
    (
        "unauthenticated",
        "no session or token: sign in / send `Authorization: Bearer`",
    ),
    ("bad_token", "the API token is malformed or revoked"),
    ("bad_login", "wrong email or password"),
    (
        "throttled",
        "too many failed sign-ins from this address (it waits, `Retry-After`), or an account locked to addresses it has not signed in from",
    ),
    (
        "csrf",
        "a cookie-authenticated write without the session's CSRF token",
    ),
    (
        "cross_origin",
        "a write from another site (Origin does not match Host)",
    ),
    ("forbidden", "your role in this label does not allow this"),
    (
        "not_found",
        "no such thing, or not yours (other labels are never revealed)",
    ),
    (
        "invalid_input",
        "a file, form or parameter is invalid; nothing was recorded",
    ),
    (
        "refused",
        "the ledger refused (credit hold, not enough stock, conflicting id)",
    ),
    ("too_large", "the request body is larger than allowed"),
    ("internal", "something else failed on the server"),
];

impl From<control::ControlError> for Fail {
    fn from(e: control::ControlError) -> Fail {
        let mut f = Fail::internal(e.0.clone());
        f.cause = Some(e.0);
        f
    }
}

impl From<backstock_app::AppError> for Fail {
    fn from(e: backstock_app::AppError) -> Fail {
        use backstock_app::Exit;
        let (status, code) = match e.exit() {
            Exit::Input => (400, "invalid_input"),
            Exit::Refused => (409, "refused"),
            _ => (500, "internal"),
        };
        // A refusal that names a command-line flag first (`--on 2016-07-05 is after
        // today`) names the field in words on the web (`on 2016-07-05 is after today`).
        let message = match e.message().strip_prefix("--") {
            Some(rest) => match rest.split_once(' ') {
                Some((flag, tail))
                    if !flag.is_empty()
                        && flag
                            .bytes()
                            .all(|b| b.is_ascii_lowercase() || b == b'-' || b == b':') =>
                {
                    let (name, colon) = match flag.strip_suffix(':') {
                        Some(n) => (n, ":"),
                        None => (flag, ""),
                    };
                    format!("{}{colon} {tail}", name.replace('-', " "))
                }
                _ => e.message().to_string(),
            },
            None => e.message().to_string(),
        };
        let mut f = Fail::new(status, code, message);
        if status == 500 {
            f.cause = Some(e.chain());
        }
        f
    }
}

impl From<backstock_store::StoreError> for Fail {
    fn from(e: backstock_store::StoreError) -> Fail {
        Fail::from(backstock_app::AppError::from(e))
    }
}

impl IntoResponse for Fail {
    fn into_response(self) -> Response {
        let status = StatusCode::from_u16(self.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        let mut body = serde_json::json!({"error": {"code": self.code, "message": self.message}});
        if !self.details.is_empty() {
            body["error"]["details"] = serde_json::json!(self.details);
        }
        let mut r = (status, axum::Json(body)).into_response();
        r.extensions_mut().insert(self);
        r
    }
}

/// Logs to standard error at the level in `$BACKSTOCK_LOG` (`error`, `warn`, `info`
/// — the default — `debug`, `trace`, `off`). Idempotent: a second call does nothing.
pub fn init_logging() {
    use tracing_subscriber::filter::LevelFilter;
    let level = match std::env::var("BACKSTOCK_LOG")
        .unwrap_or_default()
        .trim()
        .to_ascii_lowercase()
        .as_str()
    {
        "off" => LevelFilter::OFF,
        "error" => LevelFilter::ERROR,
        "warn" => LevelFilter::WARN,
        "debug" => LevelFilter::DEBUG,
        "trace" => LevelFilter::TRACE,
        _ => LevelFilter::INFO,
    };
    let _ = tracing_subscriber::fmt()
        .with_max_level(level)
        .with_writer(std::io::stderr)
        .with_target(false)
        .try_init();
}

/// The request's id, for the log and the `x-request-id` answer header.
#[derive(Debug, Clone)]
pub struct RequestId(pub String);

fn new_request_id() -> String {
    let mut b = [0u8; 8];
    if getrandom::fill(&mut b).is_err() {
        // Only for correlating log lines: a clock-based id will do.
        let n = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos())
            .unwrap_or(0);
        b = (n as u64).to_le_bytes();
    }
    b.iter().map(|x| format!("{x:02x}")).collect()
}

/// Every request in a `request` span (id, method, path) with its status and time
/// logged; an internal failure is logged with its cause and answered with a generic
/// message naming the request id, so nothing of the server's insides reaches a client.
async fn observe(mut req: axum::extract::Request, next: axum::middleware::Next) -> Response {
    use tracing::Instrument;
    let id = req
        .headers()
        .get("x-request-id")
        .and_then(|v| v.to_str().ok())
        .filter(|v| {
            !v.is_empty()
                && v.len() <= 64
                && v.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
        })
        .map(str::to_string)
        .unwrap_or_else(new_request_id);
    req.extensions_mut().insert(RequestId(id.clone()));
    let method = req.method().clone();
    let path = req.uri().path().to_string();
    let span = tracing::info_span!("request", id = %id, method = %method, path = %path);
    let started = std::time::Instant::now();
    let mut r = next.run(req).instrument(span.clone()).await;
    let _enter = span.enter();
    let status = r.status().as_u16();
    let ms = started.elapsed().as_millis();
    if let Some(f) = r
        .extensions()
        .get::<Fail>()
        .cloned()
        .filter(|f| f.status >= 500)
    {
        tracing::error!(status, ms, code = f.code, cause = %f.cause.as_deref().unwrap_or(&f.message), "failed");
        let generic = Fail::internal(format!(
            "something failed on the server; it has been logged under request id {id}"
        ));
        r = generic.into_response();
    } else if status >= 400 {
        tracing::info!(status, ms, "refused");
    } else {
        tracing::info!(status, ms, "done");
    }
    if let Ok(v) = axum::http::HeaderValue::from_str(&id) {
        r.headers_mut().insert("x-request-id", v);
    }
    r
}

/// Pages get errors as HTML (and a sign-in redirect when signed out); the API keeps
/// the JSON. A form refused for what was typed in it (400, 404, 409, 422) comes back
/// as the page it was sent from, with the form filled in as typed and why it was
/// refused ([`refill`]); `inner` is the application inside this layer, which renders
/// that page for the same session. Otherwise, or when that page has no such form, an
/// error page that links back to it.
async fn error_pages(
    axum::extract::State(inner): axum::extract::State<axum::Router>,
    req: axum::extract::Request,
    next: axum::middleware::Next,
) -> Response {
    let path = req.uri().path().to_string();
    // A refused form: the page it came from (this site's own, by path), to go back to.
    let referer = (req.method() == axum::http::Method::POST)
        .then(|| req.headers().get(axum::http::header::REFERER))
        .flatten()
        .and_then(|v| v.to_str().ok())
        .and_then(|r| {
            // Same site only: the path of an absolute URL to this host, or a path.
            let host = req.headers().get(axum::http::header::HOST)?.to_str().ok()?;
            let rest = r
                .strip_prefix("http://")
                .or_else(|| r.strip_prefix("https://"))
                .map_or(Some(r), |x| x.strip_prefix(host))?;
            local_path(rest).then(|| rest.to_string())
        });
    let (req, posted) = if path.starts_with("/api/") {
        (req, None)
    } else {
        read_form(req).await
    };
    // A form refilled before says which page it is on: the browser's address is then
    // the form's action, which is no page to render.
    let back = posted
        .as_ref()
        .and_then(|f| f.iter().find(|(k, _)| k == refill::FROM_FIELD))
        .map(|(_, v)| v.clone())
        .filter(|v| local_path(v))
        .or(referer);
    let (parts, body) = req.into_parts();
    let page_request = parts.clone();
    let r = next
        .run(axum::extract::Request::from_parts(parts, body))
        .await;
    if path.starts_with("/api/") {
        return r;
    }
    let Some(f) = r.extensions().get::<Fail>().cloned() else {
        return r;
    };
    if f.code == "unauthenticated" {
        let to = format!("/login?next={}", html::url_encode(&path));
        return axum::response::Redirect::to(&to).into_response();
    }
    let status = r.status();
    if let (Some(typed), Some(back), 400 | 404 | 409 | 422) = (&posted, &back, status.as_u16()) {
        if let Some(page) = page_of(inner, page_request, back).await {
            if let Some(html) = refill::refill(&page, &path, typed, &f.message, back) {
                return (status, axum::response::Html(html)).into_response();
            }
        }
    }
    (
        status,
        html::error_page(status.as_u16(), &f.message, back.as_deref()),
    )
        .into_response()
}

/// A path of this site: never `//host` (protocol-relative) or a backslash.
fn local_path(p: &str) -> bool {
    p.starts_with('/') && !p.starts_with("//") && !p.contains('\\')
}

/// The most of a form posted as `application/x-www-form-urlencoded` that is kept to
/// fill it in again (a form is a few hundred bytes; a bigger one is passed on unread).
const FORM_MAX_BYTES: u64 = 256 << 10;

/// The request and, when it posts a form of at most [`FORM_MAX_BYTES`], its fields as
/// posted (the page's marker [`refill::FROM_FIELD`] among them, but taken off the body
/// the handler gets).
async fn read_form(
    req: axum::extract::Request,
) -> (axum::extract::Request, Option<Vec<(String, String)>>) {
    use axum::http::header;
    let is_form = req.method() == axum::http::Method::POST
        && req
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.starts_with("application/x-www-form-urlencoded"));
    let small = req
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok())
        .is_some_and(|n| n <= FORM_MAX_BYTES);
    if !is_form || !small {
        return (req, None);
    }
    let (mut parts, body) = req.into_parts();
    let Ok(bytes) = axum::body::to_bytes(body, FORM_MAX_BYTES as usize).await else {
        // Shorter than it said, or cut off: the handler gets an empty form and refuses it.
        return (
            axum::extract::Request::from_parts(parts, axum::body::Body::empty()),
            None,
        );
    };
    let fields: Vec<(String, String)> = form_urlencoded::parse(&bytes).into_owned().collect();
    let body = if fields.iter().any(|(k, _)| k == refill::FROM_FIELD) {
        let kept = form_urlencoded::Serializer::new(String::new())
            .extend_pairs(fields.iter().filter(|(k, _)| k != refill::FROM_FIELD))
            .finish();
        parts
            .headers
            .insert(header::CONTENT_LENGTH, kept.len().into());
        axum::body::Body::from(kept)
    } else {
        axum::body::Body::from(bytes)
    };
    (
        axum::extract::Request::from_parts(parts, body),
        Some(fields),
    )
}

/// The page at `path` as the same session sees it (a GET through `inner`), when it
/// answers 200 with HTML.
async fn page_of(
    inner: axum::Router,
    posted: axum::http::request::Parts,
    path: &str,
) -> Option<String> {
    use axum::http::header;
    use tower::ServiceExt;
    let mut req = axum::extract::Request::new(axum::body::Body::empty());
    *req.uri_mut() = path.parse().ok()?;
    *req.extensions_mut() = posted.extensions;
    let keep = [
        header::COOKIE,
        header::HOST,
        header::USER_AGENT,
        header::ACCEPT_LANGUAGE,
    ];
    for k in keep {
        if let Some(v) = posted.headers.get(&k) {
            req.headers_mut().insert(k, v.clone());
        }
    }
    let r = inner.oneshot(req).await.ok()?;
    let html = r
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("text/html"));
    if r.status() != axum::http::StatusCode::OK || !html {
        return None;
    }
    let bytes = axum::body::to_bytes(r.into_body(), 8 << 20).await.ok()?;
    String::from_utf8(bytes.to_vec()).ok()
}

/// Headers on every answer: no sniffing, no framing, no third-party anything, no
/// caching of signed-in pages, no referrer leaving the site.
async fn security_headers(req: axum::extract::Request, next: axum::middleware::Next) -> Response {
    use axum::http::{header, HeaderValue};
    let mut r = next.run(req).await;
    let h = r.headers_mut();
    let set = [
        (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
        (header::X_FRAME_OPTIONS, "DENY"),
        (header::REFERRER_POLICY, "same-origin"),
        (
            header::CONTENT_SECURITY_POLICY,
            "default-src 'self'; style-src 'self'; img-src 'self' data:; script-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
        ),
    ];
    for (k, v) in set {
        h.insert(k, HeaderValue::from_static(v));
    }
    if !h.contains_key(header::CACHE_CONTROL) {
        h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    }
    r
}

/// No route: a page address typed with a trailing slash (`/t/marigold/`) is sent to
/// the page without it; anything else is not found.
async fn not_found(method: axum::http::Method, uri: axum::http::Uri) -> axum::response::Response {
    use axum::response::IntoResponse;
    let path = uri.path();
    let trimmed = path.trim_end_matches('/');
    // Only a path of this site: never `//host` (a protocol-relative address).
    let local = trimmed.starts_with('/') && !trimmed.starts_with("//") && !trimmed.contains('\\');
    if (method == axum::http::Method::GET || method == axum::http::Method::HEAD)
        && path.len() > 1
        && trimmed.len() < path.len()
        && local
    {
        let to = match uri.query() {
            Some(q) => format!("{trimmed}?{q}"),
            None => trimmed.to_string(),
        };
        return axum::response::Redirect::permanent(&to).into_response();
    }
    Fail::not_found("there is no such page").into_response()
}

/// The whole application: every route of [`routes::all`] behind authentication.
pub fn app(state: AppState) -> axum::Router {
    let inner: axum::Router = routes::router()
        .fallback(not_found)
        // Innermost: a request's working copy is appended to the database before
        // its answer leaves (a no-op for labels in the data directory).
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            mirror::push_after,
        ))
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            auth::authenticate,
        ))
        // Inside the error pages: an internal failure is made generic (and logged)
        // before it is rendered.
        .layer(axum::middleware::from_fn(observe))
        .with_state(state);
    inner
        .clone()
        // A refused form's page is rendered by the application inside this layer.
        .layer(axum::middleware::from_fn_with_state(inner, error_pages))
        .layer(axum::middleware::from_fn(security_headers))
        .layer(axum::extract::DefaultBodyLimit::max(upload::MAX_UPLOAD))
}

/// Serves on an already-bound listener until the process ends.
pub async fn serve_on(listener: tokio::net::TcpListener, state: AppState) -> std::io::Result<()> {
    axum::serve(
        listener,
        app(state).into_make_service_with_connect_info::<std::net::SocketAddr>(),
    )
    .await
}

#[cfg(test)]
mod observe_tests {
    use super::*;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    async fn get(addr: std::net::SocketAddr, path: &str, id: Option<&str>) -> String {
        let mut s = tokio::net::TcpStream::connect(addr).await.unwrap();
        let extra = id
            .map(|i| format!("x-request-id: {i}\r\n"))
            .unwrap_or_default();
        s.write_all(
            format!("GET {path} HTTP/1.1\r\nHost: x\r\n{extra}Connection: close\r\n\r\n")
                .as_bytes(),
        )
        .await
        .unwrap();
        let mut out = String::new();
        s.read_to_string(&mut out).await.unwrap();
        out
    }

    #[tokio::test]
    async fn an_internal_failure_is_logged_not_shown_and_every_answer_has_a_request_id() {
        let app = axum::Router::new()
            .route(
                "/boom",
                axum::routing::get(|| async {
                    Err::<(), Fail>(Fail::internal("disk /srv/secret/labels is full"))
                }),
            )
            .route(
                "/bad",
                axum::routing::get(|| async { Err::<(), Fail>(Fail::bad("units: not a number")) }),
            )
            .route("/ok", axum::routing::get(|| async { "fine" }))
            .layer(axum::middleware::from_fn(observe));
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move { axum::serve(listener, app).await });

        let boom = get(addr, "/boom", Some("req-42")).await;
        assert!(boom.starts_with("HTTP/1.1 500"), "{boom}");
        assert!(
            !boom.contains("/srv/secret"),
            "the cause stays on the server: {boom}"
        );
        assert!(boom.contains("request id req-42"), "{boom}");
        assert!(
            boom.to_ascii_lowercase().contains("x-request-id: req-42"),
            "{boom}"
        );

        let bad = get(addr, "/bad", None).await;
        assert!(bad.starts_with("HTTP/1.1 400"), "{bad}");
        assert!(
            bad.contains("units: not a number"),
            "a user's mistake is said as it is"
        );
        assert!(bad.to_ascii_lowercase().contains("x-request-id: "), "{bad}");

        // An id that could forge log lines is replaced by one of ours.
        let ok = get(addr, "/ok", Some("a b\tc")).await;
        let line = ok
            .lines()
            .find(|l| l.to_ascii_lowercase().starts_with("x-request-id:"))
            .unwrap();
        assert_eq!(line.len(), "x-request-id: ".len() + 16, "{line}");
    }
}
