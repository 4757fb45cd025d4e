//! Who is asking and what they may touch.
//!
//! - [`authenticate`] (middleware, every request): a Bearer API token or the session
//!   cookie → [`Viewer`]; on a state-changing request made with the cookie, the CSRF
//!   token (header `x-csrf-token`, query `csrf` or form field `csrf`) must match the
//!   session's. Cross-origin POSTs are refused outright.
//! - [`Tenant`] (extractor): the **only** way a handler gets a label's `Store`. It
//!   resolves the viewer's membership in the tenant named by the URL, checks the
//!   route's declared [`Access`] against the role, and confines limited roles to their
//!   party (a `{distributor}` path segment must be the distributor's own id).
//!   Not a member → 404 (a label's existence is not revealed); member without the
//!   permission → 403.

use crate::control::{self, Control, Membership, TenantRow, User};
use crate::roles::{Access, Perm, Role};
use crate::{AppState, Fail};
use axum::body::Body;
use axum::extract::{FromRequestParts, Request};
use axum::http::request::Parts;
use axum::http::{header, HeaderMap, Method};
use axum::middleware::Next;
use axum::response::Response;
use backstock_store::Store;
use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::Arc;

pub const SESSION_COOKIE: &str = "bs_session";

/// Open label stores, by tenant slug. Private to this module: handlers reach a store
/// only through [`Tenant`]. With `serve --database postgres://…` each store is the
/// working copy of the label in the database ([`crate::mirror`]).
pub struct Labels {
    open: tokio::sync::Mutex<HashMap<String, Arc<Store>>>,
    remote: Option<crate::mirror::Remote>,
}

impl Labels {
    /// Label stores in the data directory, or (`database`: a `postgres://…` URL) in
    /// that database through working copies in the data directory.
    pub fn new(database: Option<String>) -> Labels {
        Labels {
            open: Default::default(),
            remote: database.map(crate::mirror::Remote::new),
        }
    }

    pub(crate) fn remote(&self) -> Option<&crate::mirror::Remote> {
        self.remote.as_ref()
    }

    /// The store in `DIR/labels/<slug>/`, opened once and kept.
    pub(crate) async fn local(&self, control: &Control, slug: &str) -> Result<Arc<Store>, Fail> {
        let mut open = self.open.lock().await;
        if let Some(s) = open.get(slug) {
            return Ok(s.clone());
        }
        // Opening runs the store's migrations, whose future is not `Send`; it runs
        // to completion on a blocking thread.
        let dir = control.label_dir(slug);
        let handle = tokio::runtime::Handle::current();
        let store = tokio::task::spawn_blocking(move || handle.block_on(Store::open(&dir, true)))
            .await
            .map_err(|e| Fail::internal(format!("label {slug}: {e}")))?
            .map_err(|e| Fail::internal(format!("label {slug}: {e}")))?;
        let store = Arc::new(store);
        open.insert(slug.to_string(), store.clone());
        Ok(store)
    }

    /// Closes the store of `slug` (it is opened again when next asked for).
    pub(crate) async fn forget(&self, slug: &str) -> Option<Arc<Store>> {
        self.open.lock().await.remove(slug)
    }
}

/// How the viewer proved who they are.
#[derive(Debug, Clone)]
pub enum Credential {
    Session {
        sid: String,
        csrf: String,
    },
    /// An API token, by its id (a token minted with it is revoked with it).
    Token {
        id: i64,
    },
}

/// The signed-in user.
#[derive(Debug, Clone)]
pub struct Viewer {
    pub user: User,
    pub credential: Credential,
    pub ip: String,
}

impl Viewer {
    /// The CSRF token to put in forms (empty for token requests, which need none).
    pub fn csrf(&self) -> &str {
        match &self.credential {
            Credential::Session { csrf, .. } => csrf,
            Credential::Token { .. } => "",
        }
    }
}

/// The access a route declared (set by the route table on every route).
#[derive(Debug, Clone, Copy)]
pub struct Required(pub Access);

/// The client's address: the peer, or the last `X-Forwarded-For` hop when the server
/// is told it runs behind a proxy.
pub fn client_ip(state: &AppState, headers: &HeaderMap, peer: Option<SocketAddr>) -> String {
    if state.config.behind_proxy {
        if let Some(f) = headers
            .get("x-forwarded-for")
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.rsplit(',').next())
        {
            let f = f.trim();
            if !f.is_empty() {
                return f.to_string();
            }
        }
    }
    peer.map(|p| p.ip().to_string())
        .unwrap_or_else(|| "unknown".into())
}

pub fn cookie(headers: &HeaderMap, name: &str) -> Option<String> {
    for v in headers.get_all(header::COOKIE) {
        let Ok(v) = v.to_str() else { continue };
        for part in v.split(';') {
            if let Some((k, val)) = part.trim().split_once('=') {
                if k == name {
                    return Some(val.to_string());
                }
            }
        }
    }
    None
}

/// Whether cookies get `Secure`: when configured, or when a trusted proxy says the
/// client used https.
pub fn secure(state: &AppState, headers: &HeaderMap) -> bool {
    state.config.secure_cookies
        || (state.config.behind_proxy
            && headers
                .get("x-forwarded-proto")
                .and_then(|v| v.to_str().ok())
                .is_some_and(|v| v.eq_ignore_ascii_case("https")))
}

pub fn session_cookie(state: &AppState, headers: &HeaderMap, sid: &str) -> String {
    format!(
        "{SESSION_COOKIE}={sid}; Path=/; HttpOnly; SameSite=Lax; Max-Age={}{}",
        state.config.idle_secs.max(60) * 48,
        if secure(state, headers) {
            "; Secure"
        } else {
            ""
        }
    )
}

pub fn clear_cookie(state: &AppState, headers: &HeaderMap) -> String {
    format!(
        "{SESSION_COOKIE}=; Path=/; HttpOnly; SameSite=Lax; Max-Age=0{}",
        if secure(state, headers) {
            "; Secure"
        } else {
            ""
        }
    )
}

fn state_changing(m: &Method) -> bool {
    !matches!(*m, Method::GET | Method::HEAD | Method::OPTIONS)
}

/// Refuses a request whose `Origin` names another host than the one it was sent to
/// (behind a proxy: the host the proxy says the client asked for).
fn cross_origin(headers: &HeaderMap, behind_proxy: bool) -> bool {
    let Some(origin) = headers.get(header::ORIGIN).and_then(|v| v.to_str().ok()) else {
        return false;
    };
    if origin == "null" {
        return true;
    }
    let forwarded = if behind_proxy {
        headers.get("x-forwarded-host")
    } else {
        None
    };
    let host = forwarded
        .or_else(|| headers.get(header::HOST))
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    let o = origin.split_once("://").map(|(_, r)| r).unwrap_or(origin);
    !o.eq_ignore_ascii_case(host)
}

/// The middleware: authenticates, enforces CSRF on cookie-authenticated writes.
pub async fn authenticate(
    axum::extract::State(state): axum::extract::State<AppState>,
    req: Request,
    next: Next,
) -> Response {
    match resolve(&state, req).await {
        Ok(req) => next.run(req).await,
        Err(f) => axum::response::IntoResponse::into_response(f),
    }
}

async fn resolve(state: &AppState, req: Request) -> Result<Request, Fail> {
    let (mut parts, body) = req.into_parts();
    let peer = parts
        .extensions
        .get::<axum::extract::ConnectInfo<SocketAddr>>()
        .map(|c| c.0);
    let ip = client_ip(state, &parts.headers, peer);
    let writes = state_changing(&parts.method);
    if writes && cross_origin(&parts.headers, state.config.behind_proxy) {
        return Err(Fail::new(
            403,
            "cross_origin",
            "this request came from another site",
        ));
    }
    let bearer = parts
        .headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .map(|v| v.to_string());
    let mut viewer = None;
    if let Some(auth) = bearer {
        let token = auth
            .strip_prefix("Bearer ")
            .ok_or_else(|| Fail::new(401, "bad_token", "Authorization must be `Bearer <token>`"))?
            .trim();
        let (token_id, uid) = state
            .control
            .token(token)
            .await?
            .ok_or_else(|| Fail::new(401, "bad_token", "this API token is not valid"))?;
        let user = state
            .control
            .user(uid)
            .await?
            .ok_or_else(|| Fail::new(401, "bad_token", "this API token is not valid"))?;
        viewer = Some(Viewer {
            user,
            credential: Credential::Token { id: token_id },
            ip: ip.clone(),
        });
    } else if let Some(sid) = cookie(&parts.headers, SESSION_COOKIE) {
        if let Some(s) = state.control.session(&sid, state.config.idle_secs).await? {
            if let Some(user) = state.control.user(s.user_id).await? {
                viewer = Some(Viewer {
                    user,
                    credential: Credential::Session { sid, csrf: s.csrf },
                    ip: ip.clone(),
                });
            }
        }
    }
    let mut body = body;
    // Signing in needs no token: it acts on no session (it replaces the presented
    // one); cross-site sign-in is stopped by the Origin check above.
    if writes && parts.uri.path() != "/login" {
        if let Some(Viewer {
            credential: Credential::Session { csrf, .. },
            ..
        }) = &viewer
        {
            let (ok, b) = csrf_matches(&parts, body, csrf).await?;
            body = b;
            if !ok {
                return Err(Fail::new(
                    403,
                    "csrf",
                    "the form's security token is missing or stale; reload the page and try again",
                ));
            }
        }
    }
    parts.extensions.insert(ClientIp(ip));
    if let Some(v) = viewer {
        parts.extensions.insert(v);
    }
    Ok(Request::from_parts(parts, body))
}

/// The client's address, for the audit log and the throttle.
#[derive(Debug, Clone)]
pub struct ClientIp(pub String);

const FORM_LIMIT: usize = 1 << 20;

/// Looks for the CSRF token in the header, the query, or an urlencoded body (which is
/// read and put back).
async fn csrf_matches(parts: &Parts, body: Body, expected: &str) -> Result<(bool, Body), Fail> {
    if let Some(h) = parts
        .headers
        .get("x-csrf-token")
        .and_then(|v| v.to_str().ok())
    {
        return Ok((control::same(h, expected), body));
    }
    if let Some(q) = parts.uri.query() {
        if let Some(v) = form_value(q, "csrf") {
            return Ok((control::same(&v, expected), body));
        }
    }
    let urlencoded = parts
        .headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/x-www-form-urlencoded"));
    if !urlencoded {
        return Ok((false, body));
    }
    let bytes = axum::body::to_bytes(body, FORM_LIMIT)
        .await
        .map_err(|_| Fail::new(413, "too_large", "the form is larger than 1 MB"))?;
    let ok = std::str::from_utf8(&bytes)
        .ok()
        .and_then(|s| form_value(s, "csrf"))
        .is_some_and(|v| control::same(&v, expected));
    Ok((ok, Body::from(bytes)))
}

/// One value of an `a=1&b=2` string, percent-decoded.
pub fn form_value(s: &str, key: &str) -> Option<String> {
    s.split('&').find_map(|kv| {
        let (k, v) = kv.split_once('=').unwrap_or((kv, ""));
        (percent_decode(k) == key).then(|| percent_decode(v))
    })
}

pub fn percent_decode(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'+' => out.push(b' '),
            b'%' if i + 2 < b.len() => {
                let h = std::str::from_utf8(&b[i + 1..i + 3])
                    .ok()
                    .and_then(|h| u8::from_str_radix(h, 16).ok());
                match h {
                    Some(x) => {
                        out.push(x);
                        i += 2;
                    }
                    None => out.push(b'%'),
                }
            }
            x => out.push(x),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

impl FromRequestParts<AppState> for Viewer {
    type Rejection = Fail;
    async fn from_request_parts(parts: &mut Parts, _: &AppState) -> Result<Viewer, Fail> {
        parts
            .extensions
            .get::<Viewer>()
            .cloned()
            .ok_or_else(|| Fail::new(401, "unauthenticated", "sign in first"))
    }
}

/// What a limited role is confined to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Scope {
    /// The whole label.
    Label,
    /// One payee's releases.
    Payee(String),
    /// One distributor's account.
    Distributor(String),
}

/// A member acting in one tenant, with that tenant's store.
pub struct Tenant {
    pub viewer: Viewer,
    pub membership: Membership,
    pub row: TenantRow,
    pub scope: Scope,
    store: Arc<Store>,
    /// This server's cache of failed distributors' standings (never another server's:
    /// two servers in one process may each have a label `alpha`).
    standings: Arc<crate::insolvency::Standings>,
}

impl Tenant {
    pub fn store(&self) -> &Store {
        &self.store
    }
    pub fn slug(&self) -> &str {
        &self.row.slug
    }
    pub(crate) fn standings_cache(&self) -> &crate::insolvency::Standings {
        &self.standings
    }
    pub fn role(&self) -> Role {
        self.membership.role
    }
    pub fn may(&self, p: Perm) -> bool {
        self.membership.role.may(p)
    }
    /// Records `action` in this label's audit log, by the viewer, from the viewer's address.
    pub async fn audit(
        &self,
        control: &Control,
        action: &str,
        detail: &str,
    ) -> control::Result<()> {
        control
            .audit(
                Some(self.slug()),
                &self.viewer.user.email,
                action,
                detail,
                &self.viewer.ip,
            )
            .await
    }
}

impl FromRequestParts<AppState> for Tenant {
    type Rejection = Fail;
    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Tenant, Fail> {
        let viewer = Viewer::from_request_parts(parts, state).await?;
        let perm = match parts.extensions.get::<Required>() {
            Some(Required(Access::Tenant(p))) => *p,
            // A route that takes a tenant must declare what it needs (fail closed).
            _ => return Err(Fail::internal("route declares no tenant permission")),
        };
        let params: HashMap<String, String> =
            axum::extract::Path::<HashMap<String, String>>::from_request_parts(parts, state)
                .await
                .map(|p| p.0)
                .unwrap_or_default();
        let not_found = || Fail::new(404, "not_found", "no such label, or not yours");
        let slug = params.get("tenant").ok_or_else(not_found)?;
        let membership = state
            .control
            .membership(viewer.user.id, slug)
            .await?
            .ok_or_else(not_found)?;
        let row = state.control.tenant(slug).await?.ok_or_else(not_found)?;
        if !membership.role.may(perm) {
            return Err(Fail::new(
                403,
                "forbidden",
                format!(
                    "your role in this label ({}) does not allow this",
                    membership.role
                ),
            ));
        }
        let party = membership.party.clone().unwrap_or_default();
        let scope = match membership.role {
            Role::Artist => Scope::Payee(party),
            Role::Distributor => Scope::Distributor(party),
            _ => Scope::Label,
        };
        if let (Scope::Distributor(own), Some(d)) = (&scope, params.get("distributor")) {
            if own != d {
                return Err(Fail::new(404, "not_found", "no such distributor"));
            }
        }
        let slot = parts.extensions.get::<crate::mirror::HoldSlot>().cloned();
        let store = state
            .labels
            .for_request(state, slug, &parts.method, parts.uri.path(), slot.as_ref())
            .await?;
        Ok(Tenant {
            viewer,
            membership,
            row,
            scope,
            store,
            standings: state.standings.clone(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn forms_and_cookies() {
        assert_eq!(
            form_value("a=1&csrf=x%2By+z", "csrf").as_deref(),
            Some("x+y z")
        );
        assert_eq!(form_value("a=1", "csrf"), None);
        assert_eq!(percent_decode("%zz%4"), "%zz%4");
        let mut h = HeaderMap::new();
        h.insert(header::COOKIE, "a=b; bs_session=abc".parse().unwrap());
        assert_eq!(cookie(&h, SESSION_COOKIE).as_deref(), Some("abc"));
        h.insert(header::HOST, "localhost:8080".parse().unwrap());
        assert!(!cross_origin(&h, false));
        h.insert(header::ORIGIN, "http://localhost:8080".parse().unwrap());
        assert!(!cross_origin(&h, false));
        h.insert(header::ORIGIN, "http://evil.example".parse().unwrap());
        assert!(cross_origin(&h, false));
        h.insert(header::ORIGIN, "https://label.example".parse().unwrap());
        h.insert("x-forwarded-host", "label.example".parse().unwrap());
        assert!(!cross_origin(&h, true));
        assert!(cross_origin(&h, false));
    }
}
