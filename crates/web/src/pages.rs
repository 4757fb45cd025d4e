//! The HTML pages. Every form posts with the session's CSRF token; every table sorts
//! on the server and downloads as CSV. Stable element ids (`login-form`,
//! `login-email`, `login-password`, `login-submit`, `upload-form`, `upload-file`,
//! `upload-submit`, `upload-preview`, `upload-errors`, `confirm-submit`,
//! `import-result`, `dashboard`, `exposure-chart`, `table-<id>`, `csv-<id>`) are for
//! browser tests and scripts.

use crate::auth::{self, ClientIp, Tenant, Viewer};
use crate::chart::{line_chart, Series};
use crate::format::{Locale, LOCALES};
use crate::html::{esc, page, plain_page, url_encode, Cell, Grid};
use crate::roles::{Perm, Role};
use crate::views::{self, level_rank};
use crate::{AppState, Fail};
use axum::extract::{Extension, Form, Multipart, OptionalFromRequestParts, Path, Query, State};
use axum::http::request::Parts;
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{Html, IntoResponse, Redirect, Response};
use backstock_domain::Money;
use serde::Deserialize;
use std::collections::{BTreeMap, HashMap};

type Q = Query<HashMap<String, String>>;

impl OptionalFromRequestParts<AppState> for Viewer {
    type Rejection = std::convert::Infallible;
    async fn from_request_parts(
        parts: &mut Parts,
        _: &AppState,
    ) -> Result<Option<Viewer>, Self::Rejection> {
        Ok(parts.extensions.get::<Viewer>().cloned())
    }
}

fn locale(t: &Tenant) -> Locale {
    Locale::new(&t.row.locale, &t.row.currency)
}

/// Said after a distributor's reasons when its exposure leaves consigned units out
/// (no wholesale price in the agreement's currency), as `backstock risk` says it.
fn not_valued(units: i64) -> String {
    match units {
        0 => String::new(),
        1 => {
            " The exposure leaves out 1 consigned unit: no wholesale price in its currency.".into()
        }
        n => format!(
            " The exposure leaves out {n} consigned units: no wholesale price in its currency."
        ),
    }
}

fn money_cell(l: &Locale, m: Money) -> Cell {
    Cell::money(l, m)
}

fn int_cell(l: &Locale, n: i64) -> Cell {
    Cell::num(l.int(n), n, n.to_string())
}

fn date_cell(l: &Locale, d: backstock_domain::Date) -> Cell {
    Cell {
        text: l.date(d),
        sort: crate::html::SortKey::Num(i64::from(d.days_since_epoch())),
        csv: d.to_string(),
        html: None,
        currency: None,
    }
}

/// When an alert was raised (stored as `YYYY-MM-DDTHH:MM:SSZ`), as the label's date and
/// the UTC time to the minute; anything else is shown as stored.
fn when_raised(l: &Locale, at: &str) -> String {
    match (
        at.get(..10).map(backstock_domain::Date::parse),
        at.get(11..16),
    ) {
        (Some(Ok(d)), Some(hm)) => format!("{} {hm} UTC", l.date(d)),
        _ => at.to_string(),
    }
}

/// Why a distributor is at its level, in the sentences of its highest signals (not the
/// rule's signal codes), and how many lesser warnings its page lists besides.
fn reasons_in_words(signals: &[backstock_risk::Signal]) -> String {
    use backstock_risk::Level;
    let top = signals.iter().map(|s| s.level).max().unwrap_or(Level::Ok);
    if top == Level::Ok {
        return "No warning signs.".to_string();
    }
    let said: Vec<&str> = signals
        .iter()
        .filter(|s| s.level == top)
        .map(|s| s.message.as_str())
        .collect();
    let lesser = signals
        .iter()
        .filter(|s| s.level > Level::Ok && s.level < top)
        .count();
    match lesser {
        0 => said.join(" "),
        1 => format!("{} (1 lesser warning on its page.)", said.join(" ")),
        n => format!("{} ({n} lesser warnings on its page.)", said.join(" ")),
    }
}

/// The level rule in a sentence, above the list of signals on a distributor's page.
fn level_rule_in_words(level: backstock_risk::Level, signals: &[backstock_risk::Signal]) -> String {
    let top = signals
        .iter()
        .map(|s| s.level)
        .max()
        .unwrap_or(backstock_risk::Level::Ok);
    if level == backstock_risk::Level::Ok {
        "No warning signs.".to_string()
    } else if level > top {
        format!("Warnings of two or more independent kinds at {top} together make this {level}:")
    } else {
        format!("At {level} because of the {level} signals below:")
    }
}

/// A holder of the label's stock as the page says it: the label itself is its own warehouse.
fn holder_in_words(holder: &str) -> String {
    match holder {
        "label" => "label's own warehouse".to_string(),
        other => other.to_string(),
    }
}

/// A unit account's state in words (the CSV keeps the stored code).
fn stock_state_in_words(state: &str) -> String {
    match state {
        "on_hand" => "on hand".to_string(),
        "detained" => "detained (held against the label's will)".to_string(),
        other => other.replace('_', " "),
    }
}

fn base(t: &Tenant, rest: &str) -> String {
    format!("/t/{}/{rest}", url_encode(t.slug()))
}

fn csrf_field(v: &Viewer) -> String {
    format!(
        r#"<input type="hidden" name="csrf" value="{}">"#,
        esc(v.csrf())
    )
}

pub async fn css() -> Response {
    (
        [
            (header::CONTENT_TYPE, "text/css; charset=utf-8"),
            (header::CACHE_CONTROL, "public, max-age=3600"),
        ],
        crate::html::CSS,
    )
        .into_response()
}

// ---- signing in ----

pub async fn home(State(state): State<AppState>, viewer: Option<Viewer>) -> Result<Response, Fail> {
    let Some(v) = viewer else {
        return Ok(Redirect::to("/login").into_response());
    };
    let ms = state.control.memberships_of(v.user.id).await?;
    if ms.len() == 1 {
        return Ok(Redirect::to(&format!("/t/{}", url_encode(&ms[0].tenant))).into_response());
    }
    let mut body = String::from("<section><h2>Your labels</h2><ul id=\"labels\">");
    for m in &ms {
        let name = state
            .control
            .tenant(&m.tenant)
            .await?
            .map(|t| t.name)
            .unwrap_or_default();
        body.push_str(&format!(
            r#"<li><a href="/t/{}">{}</a> ({})</li>"#,
            url_encode(&m.tenant),
            esc(&name),
            m.role
        ));
    }
    if ms.is_empty() {
        body.push_str("<li class=\"note\">You are not a member of any label yet; ask its owner to invite you.</li>");
    }
    body.push_str("</ul></section>");
    Ok(plain_page("backstock", Some((&v.user.email, v.csrf())), &body).into_response())
}

fn safe_next(next: Option<&str>) -> String {
    match next {
        Some(n) if n.starts_with('/') && !n.starts_with("//") && !n.starts_with("/\\") => {
            n.to_string()
        }
        _ => "/".into(),
    }
}

fn login_html(next: &str, message: Option<&str>) -> Html<String> {
    let msg = message
        .map(|m| format!(r#"<p id="login-error" class="err">{}</p>"#, esc(m)))
        .unwrap_or_default();
    plain_page(
        "Sign in",
        None,
        &format!(
            r#"<section>{msg}<form id="login-form" class="stack" method="post" action="/login">
<label for="login-email">Email</label><input id="login-email" name="email" type="email" autocomplete="username" required>
<label for="login-password">Password</label><input id="login-password" name="password" type="password" autocomplete="current-password" required>
<input type="hidden" name="next" value="{}">
<button id="login-submit" class="primary" type="submit">Sign in</button></form>
<p class="note"><a id="login-reset" href="/reset">Forgot your password?</a> · <a id="login-signup" href="/signup">Create an account and a label</a></p></section>"#,
            esc(next)
        ),
    )
}

pub async fn login_form(Query(q): Q) -> Html<String> {
    login_html(&safe_next(q.get("next").map(String::as_str)), None)
}

#[derive(Deserialize)]
pub struct LoginForm {
    pub email: String,
    pub password: String,
    pub next: Option<String>,
}

/// Signs in: throttled per address and locked per account (see [`crate::throttle`]),
/// a fresh session id every time (the presented one, if any, is ended), audited
/// either way.
pub async fn login(
    State(state): State<AppState>,
    Extension(ClientIp(ip)): Extension<ClientIp>,
    headers: HeaderMap,
    Form(f): Form<LoginForm>,
) -> Result<Response, Fail> {
    let next = safe_next(f.next.as_deref());
    let email = f.email.trim().to_ascii_lowercase();
    let outcome = sign_in(&state, &ip, &email, &f.password).await;
    match outcome {
        Ok(user) => {
            if let Some(old) = auth::cookie(&headers, auth::SESSION_COOKIE) {
                state.control.delete_session(&old).await?;
            }
            let (sid, _) = state.control.create_session(user.id).await?;
            let mut r = Redirect::to(&next).into_response();
            if let Ok(v) = auth::session_cookie(&state, &headers, &sid).parse() {
                r.headers_mut().insert(header::SET_COOKIE, v);
            }
            Ok(r)
        }
        Err((f, retry_after)) => {
            let status = StatusCode::from_u16(f.status).unwrap_or(StatusCode::UNAUTHORIZED);
            let mut r = (status, login_html(&next, Some(&f.message))).into_response();
            if let Some(v) = retry_after.and_then(|s| s.to_string().parse().ok()) {
                r.headers_mut().insert(header::RETRY_AFTER, v);
            }
            Ok(r)
        }
    }
}

/// The credential check shared by the page (and the throttle test): Ok(user) or the
/// failure to show, with the seconds to wait when throttled (see [`crate::throttle`]).
pub async fn sign_in(
    state: &AppState,
    ip: &str,
    email: &str,
    password: &str,
) -> Result<crate::control::User, (Fail, Option<i64>)> {
    let plain = |f: Fail| (f, None);
    let c = &state.config;
    let account_key = format!("account:{email}");
    let ip_key = format!("ip:{ip}");
    let now = crate::control::now();
    let (ip_failures, _, ip_last) = state
        .control
        .failure_span(&ip_key, c.throttle_window)
        .await
        .map_err(|e| plain(e.into()))?;
    let mut refusal = crate::throttle::address_wait(c, ip_failures, ip_last, now)
        .map(|secs| crate::throttle::Refusal::AddressWaits { secs });
    if refusal.is_none() {
        let (n, oldest, _) = state
            .control
            .failure_span(&account_key, c.lock_window)
            .await
            .map_err(|e| plain(e.into()))?;
        if let Some(secs) = crate::throttle::account_lock(c, n, oldest, now) {
            let known = state
                .control
                .known_address(email, ip, c.known_address_secs)
                .await
                .map_err(|e| plain(e.into()))?;
            if !known {
                refusal = Some(crate::throttle::Refusal::AccountLocked { secs });
            }
        }
    }
    if let Some(r) = refusal {
        let detail = match &r {
            crate::throttle::Refusal::AddressWaits { .. } => format!(
                "this address waits {} s ({ip_failures} failures)",
                r.retry_after()
            ),
            crate::throttle::Refusal::AccountLocked { .. } => {
                "the account is locked to addresses it has not signed in from".to_string()
            }
        };
        state
            .control
            .audit(None, email, "login_throttled", &detail, ip)
            .await
            .map_err(|e| plain(e.into()))?;
        return Err((
            Fail::new(429, "throttled", r.message()),
            Some(r.retry_after()),
        ));
    }
    match state
        .control
        .check_login(email, password)
        .await
        .map_err(|e| plain(e.into()))?
    {
        Some(user) => {
            state
                .control
                .mark_known_address(&user.email, ip)
                .await
                .map_err(|e| plain(e.into()))?;
            state
                .control
                .audit(None, &user.email, "login", "", ip)
                .await
                .map_err(|e| plain(e.into()))?;
            Ok(user)
        }
        None => {
            state
                .control
                .record_failure(&[account_key.clone(), ip_key])
                .await
                .map_err(|e| plain(e.into()))?;
            state
                .control
                .audit(None, email, "login_failed", "", ip)
                .await
                .map_err(|e| plain(e.into()))?;
            // The failure that reaches the account's limit is the one that locks it.
            let (n, _, _) = state
                .control
                .failure_span(&account_key, c.lock_window)
                .await
                .map_err(|e| plain(e.into()))?;
            if n == c.max_account_failures {
                state
                    .control
                    .audit(
                        None,
                        email,
                        "account_locked",
                        &format!(
                            "{n} failed sign-ins in {} minutes: locked to addresses it has not signed in from",
                            c.lock_window / 60
                        ),
                        ip,
                    )
                    .await
                    .map_err(|e| plain(e.into()))?;
            }
            Err(plain(Fail::new(
                401,
                "bad_login",
                "wrong email or password",
            )))
        }
    }
}

pub async fn logout(
    State(state): State<AppState>,
    v: Viewer,
    headers: HeaderMap,
) -> Result<Response, Fail> {
    if let auth::Credential::Session { sid, .. } = &v.credential {
        state.control.delete_session(sid).await?;
    }
    let mut r = Redirect::to("/login").into_response();
    if let Ok(c) = auth::clear_cookie(&state, &headers).parse() {
        r.headers_mut().insert(header::SET_COOKIE, c);
    }
    Ok(r)
}

pub async fn account(State(state): State<AppState>, v: Viewer) -> Result<Html<String>, Fail> {
    account_page(&state, &v, None).await
}

async fn account_page(
    state: &AppState,
    v: &Viewer,
    new_token: Option<&str>,
) -> Result<Html<String>, Fail> {
    let ms = state.control.memberships_of(v.user.id).await?;
    let mut body = String::from("<section><h2>Labels</h2><ul>");
    for m in &ms {
        body.push_str(&format!(
            r#"<li><a href="/t/{}">{}</a> — {}{}</li>"#,
            url_encode(&m.tenant),
            esc(&m.tenant),
            m.role,
            m.party
                .as_ref()
                .map(|p| format!(" ({})", esc(p)))
                .unwrap_or_default()
        ));
    }
    body.push_str("</ul></section><section><h2>API tokens</h2>");
    if let Some(t) = new_token {
        body.push_str(&format!(
            r#"<p>Your new token (shown once; send it as <code>Authorization: Bearer …</code>):</p><p class="okbox" id="new-token">{}</p>"#,
            esc(t)
        ));
    }
    body.push_str("<ul>");
    let tokens = state.control.token_rows(v.user.id).await?;
    for t in &tokens {
        let by = t
            .parent
            .and_then(|p| tokens.iter().find(|x| x.id == p))
            .map(|p| format!(", minted with {}", esc(&p.name)))
            .unwrap_or_default();
        body.push_str(&format!(
            r#"<li>{} — created {}{by} <form class="inline" method="post" action="/account/tokens/{}/revoke">{}<button type="submit">Revoke</button></form></li>"#,
            esc(&t.name),
            esc(&t.created),
            t.id,
            csrf_field(v)
        ));
    }
    if !tokens.is_empty() {
        body.push_str(r#"</ul><p class="note">Revoking a token revokes the tokens minted with it; a new password ends every token.</p><ul>"#);
    }
    body.push_str(&format!(
        r#"</ul><form id="token-form" class="stack" method="post" action="/account/tokens">{}<label for="token-name">Name</label><input id="token-name" name="name" required maxlength="80"><button class="primary" type="submit">Create token</button></form><p class="note">API: <a href="/api/openapi.json">/api/openapi.json</a></p></section>
<section><h2>Password</h2><form id="password-form" class="stack" method="post" action="/account/password">{}<label for="password-current">Current password</label><input id="password-current" name="current" type="password" autocomplete="current-password" required><label for="password-new">New password (at least 10 characters)</label><input id="password-new" name="new" type="password" autocomplete="new-password" minlength="10" required><button class="primary" type="submit">Change password</button></form></section>"#,
        csrf_field(v),
        csrf_field(v)
    ));
    Ok(plain_page(
        "Your account",
        Some((&v.user.email, v.csrf())),
        &body,
    ))
}

#[derive(Deserialize)]
pub struct TokenForm {
    pub name: String,
}

pub async fn create_token(
    State(state): State<AppState>,
    v: Viewer,
    Form(f): Form<TokenForm>,
) -> Result<Html<String>, Fail> {
    let name = f.name.trim();
    if name.is_empty() || name.len() > 80 {
        return Err(Fail::bad("give the token a name (up to 80 characters)"));
    }
    let token = state.control.create_token(v.user.id, name).await?;
    state
        .control
        .audit(None, &v.user.email, "token_created", name, &v.ip)
        .await?;
    account_page(&state, &v, Some(&token)).await
}

/// Revokes one of the viewer's own tokens (page and API); another user's id is not
/// found.
/// The tokens it minted (and theirs) are revoked with it: (its name, theirs).
pub async fn revoke(state: &AppState, v: &Viewer, id: &str) -> Result<(String, Vec<String>), Fail> {
    let gone = || Fail::not_found("no such token of yours");
    let id: i64 = id.parse().map_err(|_| gone())?;
    let (name, minted) = state
        .control
        .revoke_token_tree(v.user.id, id)
        .await?
        .ok_or_else(gone)?;
    let detail = if minted.is_empty() {
        name.clone()
    } else {
        format!(
            "{name} and the {} token{} minted with it: {}",
            minted.len(),
            if minted.len() == 1 { "" } else { "s" },
            minted.join(", ")
        )
    };
    state
        .control
        .audit(None, &v.user.email, "token_revoked", &detail, &v.ip)
        .await?;
    Ok((name, minted))
}

pub async fn revoke_token(
    State(state): State<AppState>,
    v: Viewer,
    Path(id): Path<String>,
) -> Result<Redirect, Fail> {
    revoke(&state, &v, &id).await?;
    Ok(Redirect::to("/account"))
}

#[derive(Deserialize)]
pub struct PasswordForm {
    pub current: String,
    pub new: String,
}

/// Changes the viewer's password: every session of theirs ends, this browser gets a
/// new one.
pub async fn change_password(
    State(state): State<AppState>,
    v: Viewer,
    headers: HeaderMap,
    Form(f): Form<PasswordForm>,
) -> Result<Response, Fail> {
    if state
        .control
        .check_login(&v.user.email, &f.current)
        .await?
        .is_none()
    {
        state
            .control
            .audit(
                None,
                &v.user.email,
                "password_change_refused",
                "wrong current password",
                &v.ip,
            )
            .await?;
        return Err(Fail::new(400, "bad_login", "the current password is wrong"));
    }
    state
        .control
        .set_password(v.user.id, &f.new)
        .await
        .map_err(|e| Fail::bad(e.0))?;
    state
        .control
        .audit(
            None,
            &v.user.email,
            "password_changed",
            "every session and API token ended",
            &v.ip,
        )
        .await?;
    let mut r = Redirect::to("/account").into_response();
    if matches!(v.credential, auth::Credential::Session { .. }) {
        let (sid, _) = state.control.create_session(v.user.id).await?;
        if let Ok(c) = auth::session_cookie(&state, &headers, &sid).parse() {
            r.headers_mut().insert(header::SET_COOKIE, c);
        }
    }
    Ok(r)
}

// ---- a label ----

pub async fn tenant_home(t: Tenant) -> Redirect {
    Redirect::to(&base(&t, t.role().home()))
}

pub async fn dashboard(
    State(state): State<AppState>,
    t: Tenant,
    Query(q): Q,
) -> Result<Response, Fail> {
    let as_of = views::as_of_param(&q)?;
    let b = views::books_at(&t, &state.cache, as_of).await?;
    let l = locale(&t);
    let dated = |page: &str| match as_of {
        Some(d) => format!("{page}?as_of={d}"),
        None => page.to_string(),
    };
    let mut risk = Grid::new(
        "risk",
        &[
            ("distributor", false),
            ("level", false),
            ("reason", false),
            ("exposure", true),
        ],
    );
    for a in &b.risk {
        risk.push(vec![
            Cell::link(
                a.distributor.to_string(),
                &base(&t, &format!("distributors/{}", a.distributor)),
            ),
            Cell::badge(a.level.as_str(), level_rank(a.level)),
            Cell::sentence(
                &l,
                reasons_in_words(&a.signals) + &not_valued(a.units_not_valued),
            ),
            money_cell(&l, a.exposure),
        ]);
    }
    let alerts_rows = t.store().alerts().await?;
    let mut alerts = Grid::new(
        "alerts",
        &[
            ("raised", false),
            ("as of", false),
            ("distributor", false),
            ("from", false),
            ("to", false),
        ],
    );
    // An as-of page shows what was known by that date: no alert raised for later.
    for a in alerts_rows
        .iter()
        .rev()
        .filter(|a| backstock_domain::Date::parse(&a.as_of).is_ok_and(|d| d <= b.as_of))
    {
        alerts.push(vec![
            Cell {
                text: when_raised(&l, &a.raised_at),
                csv: a.raised_at.clone(),
                ..Cell::text(a.raised_at.clone())
            },
            match backstock_domain::Date::parse(&a.as_of) {
                Ok(d) => date_cell(&l, d),
                Err(_) => Cell::text(a.as_of.clone()),
            },
            Cell::text(a.distributor.clone()),
            Cell::text(a.from_level.clone()),
            Cell::badge(
                &a.to_level,
                ["ok", "watch", "alert", "critical"]
                    .iter()
                    .position(|l| *l == a.to_level)
                    .unwrap_or(0) as i64,
            ),
        ]);
    }
    let mut ageing = Grid::new(
        "ageing",
        &[
            ("distributor", false),
            ("open", true),
            ("current", true),
            ("1-30", true),
            ("31-60", true),
            ("61-90", true),
            ("90+", true),
            ("reserve held", true),
            ("stock at wholesale", true),
            ("exposure", true),
            ("credit limit", true),
            ("limit used %", true),
        ],
    );
    for r in &b.receivables {
        let a = &r.book.ageing;
        let x = &r.exposure;
        ageing.push(vec![
            Cell::link(
                r.distributor.to_string(),
                &base(&t, &format!("distributors/{}", r.distributor)),
            ),
            money_cell(&l, r.book.open_balance),
            money_cell(&l, a.current),
            money_cell(&l, a.days_1_30),
            money_cell(&l, a.days_31_60),
            money_cell(&l, a.days_61_90),
            money_cell(&l, a.days_over_90),
            money_cell(&l, x.reserve_held),
            money_cell(&l, x.stock_at_wholesale),
            money_cell(&l, x.total),
            money_cell(&l, x.credit_limit),
            match x.limit_used_permille {
                // In the CSV a percentage as a number: 110.1 for 110.1%.
                Some(p) => Cell::num(l.permille(p), p, percent_of_permille(p)),
                None => Cell::text(""),
            },
        ]);
    }
    let mut stock = Grid::new(
        "stock",
        &[("holder", false), ("state", false), ("units", true)],
    );
    let by_holder = views::stock_by_holder(&b);
    for (h, s, u) in by_holder {
        stock.push(vec![
            Cell {
                text: holder_in_words(h),
                ..Cell::text(h.clone())
            },
            Cell {
                text: stock_state_in_words(s),
                ..Cell::text(s.clone())
            },
            int_cell(&l, *u),
        ]);
    }
    let bars: Vec<(String, i64)> = by_holder
        .iter()
        .map(|(h, s, u)| {
            (
                if s == "on_hand" {
                    holder_in_words(h)
                } else {
                    format!("{} ({})", holder_in_words(h), stock_state_in_words(s))
                },
                *u,
            )
        })
        .collect();
    let stock_chart =
        crate::chart::bar_chart("stock-chart", "Label-owned units by holder", &bars, &|v| {
            l.int(v)
        });
    for g in [&mut risk, &mut alerts, &mut ageing, &mut stock] {
        g.sort(&q);
    }
    // A CSV download streams every row of the table asked for.
    let [risk, alerts, ageing, stock] =
        match crate::html::csv_or_grids([risk, alerts, ageing, stock], &q) {
            Ok(grids) => grids,
            Err(r) => return Ok(*r),
        };
    let path = dated(&base(&t, "dashboard"));
    let chart = exposure_chart(&b, &l);
    let failures = crate::insolvency::dashboard_section(&t, &b).await?;
    let todo = next_steps_html(&t, &b, None);
    let body = format!(
        r#"<div id="dashboard"><form id="as-of-form" class="inline" method="get" action="{}"><label for="as-of">As of</label> <input id="as-of" name="as_of" type="date" value="{}"> <button type="submit">Show</button></form> <span class="note">{} journal entries known; what was known on {}</span>
{todo}<section><h2>Exposure per distributor</h2>{chart}</section>
<section><h2>Risk</h2>{}</section>
<section><h2>Alerts</h2>{}</section>
<section><h2>Receivables ageing and exposure</h2>{}</section>
<section><h2>Stock by holder</h2>{stock_chart}{}</section>{failures}</div>"#,
        esc(&base(&t, "dashboard")),
        b.as_of,
        l.int(i64::try_from(b.entries.len()).unwrap_or(i64::MAX)),
        esc(&l.date(b.as_of)),
        risk.html(&path, &q),
        alerts.html(&path, &q),
        ageing.html(&path, &q),
        stock.html(&path, &q),
    );
    Ok(page("Dashboard", Some(&t), &body).into_response())
}

/// The banner for distributors on credit hold, and for each at alert or above the
/// ordered list of what to do next, each step linking to where it is done: every
/// distributor's on the dashboard, one's (`only`) on its page, above the Ship form.
fn next_steps_html(t: &Tenant, b: &views::Books, only: Option<&str>) -> String {
    let l = locale(t);
    let steps: Vec<_> = b
        .next_steps
        .iter()
        .filter(|n| only.is_none_or(|d| n.distributor.as_str() == d))
        .collect();
    if steps.is_empty() {
        return String::new();
    }
    let mut out = String::from(r#"<section id="next-steps"><h2>What to do next</h2>"#);
    for n in steps {
        let d = n.distributor.as_str();
        let page = base(t, &format!("distributors/{}", url_encode(d)));
        if !n.on_hold.is_empty() {
            let why: Vec<String> = n
                .on_hold
                .iter()
                .map(|r| esc(&l.sentence(&r.message)))
                .collect();
            out.push_str(&format!(
                r#"<p class="warnbox" id="hold-{}"><strong>Shipments to <a href="{}">{}</a> are on credit hold.</strong> {}</p>"#,
                esc(d),
                esc(&page),
                esc(d),
                why.join("; ")
            ));
        }
        if n.actions.is_empty() {
            continue;
        }
        out.push_str(&format!(
            r#"<h3>{} is at {}</h3><ol class="steps" id="steps-{}">"#,
            esc(d),
            esc(n.level.as_str()),
            esc(d)
        ));
        for a in &n.actions {
            // Each step is done on the distributor's page (demands, UCC-1, statements),
            // the claim pack on its failure page.
            let go = if a.code == "claim_pack" {
                format!(
                    r#" <a href="{}">The claim pack</a>"#,
                    esc(&base(t, &format!("distributors/{}/failed", url_encode(d))))
                )
            } else {
                format!(r#" <a href="{}">{}</a>"#, esc(&page), esc(d))
            };
            out.push_str(&format!(
                r#"<li data-step="{}">{}{go}</li>"#,
                a.code,
                esc(&l.sentence(&a.text))
            ));
        }
        out.push_str("</ol>");
    }
    out.push_str("</section>");
    out
}

/// 1101‰ → "110.1" (a percentage, one decimal, as a CSV number).
fn percent_of_permille(p: i64) -> String {
    let sign = if p < 0 { "-" } else { "" };
    let a = p.unsigned_abs();
    format!("{sign}{}.{}", a / 10, a % 10)
}

fn exposure_chart(b: &views::Books, l: &Locale) -> String {
    let labels: Vec<String> = b
        .history
        .iter()
        .map(|p| format!("{}-{:02}", p.on.year(), p.on.month()))
        .collect();
    use crate::chart::{Mark, ALERT, WARNING, WATCH};
    use backstock_risk::Level;
    let level_color = |l: Level| match l {
        Level::Critical => Some(WARNING),
        Level::Alert => Some(ALERT),
        Level::Watch => Some(WATCH),
        Level::Ok => None,
    };
    // Per distributor: exposure and level at each month end.
    let mut by: BTreeMap<String, Vec<(i64, Option<Level>)>> = BTreeMap::new();
    for (i, p) in b.history.iter().enumerate() {
        for r in &p.distributors {
            let v = by
                .entry(r.distributor.to_string())
                .or_insert_with(|| vec![(0, None); b.history.len()]);
            v[i] = (r.exposure.minor(), Some(r.level));
        }
    }
    let currency = b
        .receivables
        .first()
        .map(|r| r.exposure.total.currency())
        .unwrap_or(backstock_domain::Currency::USD);
    let limit_of = |name: &str| {
        b.receivables
            .iter()
            .find(|r| r.distributor.as_str() == name)
            .map(|r| r.exposure.credit_limit)
            .filter(|m| m.currency() == currency && m.minor() > 0)
    };
    let limits: std::collections::BTreeSet<i64> = by
        .keys()
        .filter_map(|n| limit_of(n).map(|m| m.minor()))
        .collect();
    // One shared limit is one grey line; different limits are drawn per distributor.
    let shared_limit = (limits.len() == 1 && by.keys().all(|n| limit_of(n).is_some()))
        .then(|| limits.iter().next().copied())
        .flatten();
    let mut series: Vec<Series> = Vec::new();
    let mut plain = 0usize;
    for (name, points) in by {
        // A level change is a dot on the line, in the level's colour.
        let mut marks = Vec::new();
        let mut before = Level::Ok;
        for (i, (_, lv)) in points.iter().enumerate() {
            let Some(lv) = *lv else { continue };
            if lv != before {
                marks.push(Mark {
                    at: i,
                    color: level_color(lv).unwrap_or("#2e7d32"),
                    label: format!("{name}: {} → {}", before.as_str(), lv.as_str()),
                });
                before = lv;
            }
        }
        // The line in the colour of its level now: a failing distributor in the
        // warning colour, a healthy one in a plain colour.
        let now = points.last().and_then(|p| p.1).unwrap_or(Level::Ok);
        let color = match level_color(now).filter(|_| now >= Level::Alert) {
            Some(c) => c,
            None => {
                plain += 1;
                crate::chart::plain_color(plain - 1)
            }
        };
        let n = points.len();
        series.push(Series {
            name: name.clone(),
            values: points.iter().map(|p| p.0).collect(),
            color: Some(color),
            marks,
            ..Series::default()
        });
        if let (None, Some(limit)) = (shared_limit, limit_of(&name)) {
            series.push(Series {
                name: format!("{name} credit limit"),
                values: vec![limit.minor(); n],
                color: Some(color),
                dashed: true,
                ..Series::default()
            });
        }
    }
    if let Some(limit) = shared_limit {
        series.push(Series {
            name: "credit limit".into(),
            values: vec![limit; b.history.len()],
            color: Some(crate::chart::NEUTRAL),
            dashed: true,
            ..Series::default()
        });
    }
    let fmt = |v: i64| {
        // Axis labels in whole units of the currency.
        let m = Money::from_minor(v, currency);
        let s = l.money(m);
        match s.rfind(['.', ',']) {
            Some(i) if s[i + 1..].chars().take_while(char::is_ascii_digit).count() == 2 => {
                format!("{}{}", &s[..i], &s[i + 3..])
            }
            _ => s,
        }
    };
    line_chart(
        "exposure-chart",
        "Exposure per distributor (unpaid + reserves + consigned stock at wholesale), month ends, with the credit limit (dashed) and each change of risk level (dots)",
        &labels,
        &series,
        &fmt,
    )
}

pub async fn distributors(
    State(state): State<AppState>,
    t: Tenant,
    Query(q): Q,
) -> Result<Response, Fail> {
    let as_of = views::as_of_param(&q)?;
    let b = views::books_at(&t, &state.cache, as_of).await?;
    let l = locale(&t);
    let mut g = Grid::new(
        "distributors",
        &[
            ("distributor", false),
            ("legal name", false),
            ("level", false),
            ("open", true),
            ("exposure", true),
            ("credit limit", true),
            ("UCC-1", false),
        ],
    );
    for a in &b.risk {
        let id = a.distributor.to_string();
        let Some(d) = views::distributor(&b, &id) else {
            continue;
        };
        g.push(vec![
            Cell::link(
                id.clone(),
                &match as_of {
                    Some(d) => base(&t, &format!("distributors/{id}?as_of={d}")),
                    None => base(&t, &format!("distributors/{id}")),
                },
            ),
            Cell::text(d.agreement.legal_name.clone()),
            Cell::badge(a.level.as_str(), level_rank(a.level)),
            d.receivables
                .map(|r| money_cell(&l, r.book.open_balance))
                .unwrap_or_else(|| Cell::text("")),
            money_cell(&l, a.exposure),
            money_cell(&l, d.agreement.credit_limit),
            Cell::text(d.legal.map(|x| x.status.as_str()).unwrap_or("")),
        ]);
    }
    g.sort(&q);
    // A CSV download streams every row.
    let [g] = match crate::html::csv_or_grids([g], &q) {
        Ok(grids) => grids,
        Err(r) => return Ok(*r),
    };
    let body = format!(
        "<section>{}</section>",
        g.html(&base(&t, "distributors"), &q)
    );
    Ok(page("Distributors", Some(&t), &body).into_response())
}

pub async fn distributor(
    State(state): State<AppState>,
    t: Tenant,
    Path((_, id)): Path<(String, String)>,
    Query(q): Q,
) -> Result<Response, Fail> {
    distributor_page(&state, &t, &id, &q, None).await
}

/// A shipment the page refused: what was typed (shown again in the form) and why.
struct ShipAttempt<'a> {
    form: &'a ShipForm,
    refusal: &'a Fail,
}

/// The distributor page; with a refused shipment, the refusal at the ship form (kept
/// as typed) and the page answered with the refusal's status.
async fn distributor_page(
    state: &AppState,
    t: &Tenant,
    id: &str,
    q: &HashMap<String, String>,
    attempt: Option<ShipAttempt<'_>>,
) -> Result<Response, Fail> {
    let (state, t, id, q) = (state.clone(), t, id.to_string(), q.clone());
    let as_of = views::as_of_param(&q)?;
    let b = views::books_at(t, &state.cache, as_of).await?;
    let l = locale(t);
    let d = views::distributor(&b, &id).ok_or_else(|| Fail::not_found("no such distributor"))?;
    let ag = d.agreement;
    let mut statements = Grid::new(
        "statements",
        &[
            ("statement", false),
            ("period end", false),
            ("issued", false),
            ("due", false),
            ("net due", true),
            ("paid", true),
            ("open", true),
            ("days past due", true),
        ],
    );
    let mut stock = Grid::new(
        "stock",
        &[
            ("sku", false),
            ("units", true),
            ("at wholesale", true),
            ("at cost", true),
        ],
    );
    if let Some(r) = d.receivables {
        // Statements in another currency than the agreement's are kept apart in the
        // books, and listed here too (each amount names its currency).
        for s in std::iter::once(&r.book)
            .chain(&r.other_currencies)
            .flat_map(|b| &b.statements)
        {
            statements.push(vec![
                Cell::text(s.statement_id.clone()),
                date_cell(&l, s.period_end),
                date_cell(&l, s.issued_on),
                date_cell(&l, s.due_on),
                money_cell(&l, s.net_due),
                money_cell(&l, s.paid),
                money_cell(&l, s.open),
                int_cell(&l, s.days_past_due.max(0)),
            ]);
        }
        for s in &r.stock.lines {
            stock.push(vec![
                Cell::text(s.sku.to_string()),
                int_cell(&l, s.units),
                s.at_wholesale
                    .map(|m| money_cell(&l, m))
                    .unwrap_or_else(|| Cell::text("")),
                s.at_cost
                    .map(|m| money_cell(&l, m))
                    .unwrap_or_else(|| Cell::text("")),
            ]);
        }
    }
    let mut payments = Grid::new(
        "payments",
        &[
            ("date", false),
            ("payment", false),
            ("amount", true),
            ("statement", false),
        ],
    );
    for (on, pid, amount, sid) in &d.payments {
        payments.push(vec![
            date_cell(&l, *on),
            Cell::text(pid.clone()),
            money_cell(&l, *amount),
            Cell::text(sid.clone().unwrap_or_default()),
        ]);
    }
    let mut timeline = Grid::new(
        "timeline",
        &[("month end", false), ("level", false), ("signals", false)],
    );
    for (on, level, signals) in &d.timeline {
        timeline.push(vec![
            date_cell(&l, *on),
            Cell::badge(level.as_str(), level_rank(*level)),
            Cell::text(signals.join(", ")),
        ]);
    }
    let mut demands = Grid::new(
        "demands",
        &[
            ("demand", false),
            ("made", false),
            ("kind", false),
            ("via", false),
            ("answered", false),
            ("outcome", false),
            ("note", false),
        ],
    );
    for x in &d.demands {
        demands.push(vec![
            Cell::text(x.demand_id.clone()),
            date_cell(&l, x.made_on),
            Cell::text(x.kind.clone()),
            Cell::text(x.via.clone()),
            x.answered_on
                .map(|a| date_cell(&l, a))
                .unwrap_or_else(|| Cell::text("unanswered")),
            Cell::text(x.outcome.clone().unwrap_or_default()),
            Cell::text(x.note.clone().unwrap_or_default()),
        ]);
    }
    for g in [
        &mut statements,
        &mut stock,
        &mut payments,
        &mut timeline,
        &mut demands,
    ] {
        g.sort(&q);
    }
    // A CSV download streams every row of the table asked for.
    let [statements, stock, payments, timeline, demands] =
        match crate::html::csv_or_grids([statements, stock, payments, timeline, demands], &q) {
            Ok(grids) => grids,
            Err(r) => return Ok(*r),
        };
    let form_path = base(t, &format!("distributors/{}", url_encode(&id)));
    let deductions_link = esc(&format!(
        "{}#d-{}",
        base(t, "deductions"),
        id.chars()
            .map(|c| if c.is_ascii_alphanumeric() { c } else { '-' })
            .collect::<String>()
    ));
    let path = match as_of {
        Some(day) => format!("{form_path}?as_of={day}"),
        None => form_path.clone(),
    };
    let risk = d
        .risk
        .map(|a| {
            let mut s = format!(
                "<p>{} {}</p><ul>",
                crate::html::level_badge(a.level.as_str()),
                esc(&level_rule_in_words(a.level, &a.signals))
            );
            for sig in a
                .signals
                .iter()
                .filter(|s| s.level > backstock_risk::Level::Ok)
            {
                s.push_str(&format!(
                    "<li>{} {}</li>",
                    crate::html::level_badge(sig.level.as_str()),
                    esc(&l.sentence(&sig.message))
                ));
            }
            s.push_str("</ul>");
            s
        })
        .unwrap_or_default();
    let ucc = d
        .legal
        .map(|x| {
            let mut s = format!(
                "<dl><dt>status</dt><dd>{}</dd><dt>title retained</dt><dd>{}</dd><dt>current filing</dt><dd>{}</dd><dt>lapses</dt><dd>{}</dd></dl><ul>",
                esc(x.status.as_str()),
                if x.title_retained { "yes" } else { "no" },
                x.current
                    .as_ref()
                    .map(|f| format!("{} ({}), filed {}", esc(&f.file_number), esc(&f.state), esc(&l.date(f.filed_on))))
                    .unwrap_or_else(|| "none".into()),
                x.lapse_on.map(|d| esc(&l.date(d))).unwrap_or_default()
            );
            for w in x.warnings.iter().rev().take(5) {
                s.push_str(&format!("<li>{}: {}</li>", esc(&l.date(w.date)), esc(&l.sentence(&w.message))));
            }
            s.push_str("</ul>");
            s
        })
        .unwrap_or_default();
    let failure = crate::insolvency::section(t, &id, as_of).await?;
    // The daily actions for this distributor (crates/web/src/actions.rs).
    let record = if t.may(Perm::Record) || t.may(Perm::Operate) {
        format!(
            r#"<section id="record-actions"><h2>Record</h2><p><a id="record-link" href="{}">Record a payment, purchase order, return, receipt, demand or its answer, UCC-1 or PMSI notice for {}</a></p></section>"#,
            esc(&format!(
                "{}?distributor={}",
                base(t, "record"),
                url_encode(&id)
            )),
            esc(&id)
        )
    } else {
        String::new()
    };
    let ship = if t.may(Perm::Operate) {
        let typed = |f: fn(&ShipForm) -> Option<&str>| {
            attempt
                .as_ref()
                .and_then(|a| f(a.form))
                .map(|v| format!(r#" value="{}""#, esc(v)))
                .unwrap_or_default()
        };
        let refused = attempt
            .as_ref()
            .map(|a| ship_refusal_html(t, &form_path, a))
            .unwrap_or_default();
        format!(
            r#"<section id="ship"><h2>Ship consigned stock</h2>{refused}<form id="ship-form" class="stack" method="post" action="{form_path}/shipments">{}
<label for="ship-sku">SKU</label><input id="ship-sku" name="sku" required{}>
<label for="ship-units">Units</label><input id="ship-units" name="units" type="number" min="1" required{}>
<label for="ship-po">PO number (optional)</label><input id="ship-po" name="po"{}>
<label for="ship-override">Override a credit hold: why (recorded with your name)</label><input id="ship-override" name="override">
<button id="ship-submit" class="primary" type="submit">Ship</button></form></section>"#,
            csrf_field(&t.viewer),
            typed(|f| Some(f.sku.as_str())),
            typed(|f| Some(f.units.as_str())),
            typed(|f| f.po.as_deref()),
        )
    } else {
        String::new()
    };
    // On credit hold, or at alert or above: said before anyone presses Ship.
    let todo = next_steps_html(t, &b, Some(&id));
    let body = format!(
        r#"<form id="as-of-form" class="inline" method="get" action="{form_path}"><label for="as-of">As of</label> <input id="as-of" name="as_of" type="date" value="{}"> <button type="submit">Show</button></form>
{todo}<div class="grid2"><section><h2>Agreement</h2><dl>
<dt>legal name</dt><dd>{}</dd><dt>organized in</dt><dd>{}</dd><dt>since</dt><dd>{}</dd><dt>fee</dt><dd>{}</dd>
<dt>payment terms</dt><dd>{} days{}</dd><dt>reserve</dt><dd>{}, released after {} days</dd><dt>credit limit</dt><dd>{}</dd></dl></section>
<section><h2>UCC status</h2>{ucc}</section></div>
<section><h2>Risk</h2>{risk}</section>
<section><h2>Statements</h2>{}<p><a id="deductions-link" href="{deductions_link}">Deductions on these statements; write off, buy back</a></p></section>
<section><h2>Payments</h2>{}</section>
<section><h2>Stock held (label-owned)</h2>{}</section>
<section><h2>Signal timeline</h2>{}</section>
<section><h2>Demands</h2>{}</section>{failure}{ship}{record}"#,
        b.as_of,
        esc(&ag.legal_name),
        esc(&ag.state_of_organization),
        esc(&l.date(ag.agreement_start)),
        esc(&l.permille(i64::from(ag.fee_rate.ppm() / 1000))),
        ag.payment_terms_days,
        if ag.payment_months.is_empty() {
            String::new()
        } else {
            format!(
                "; pays everything due in {}",
                esc(&ag.payment_months.names())
            )
        },
        esc(&l.permille(i64::from(ag.reserve_rate.ppm() / 1000))),
        ag.reserve_release_days,
        esc(&l.money(ag.credit_limit)),
        statements.html(&path, &q),
        payments.html(&path, &q),
        stock.html(&path, &q),
        timeline.html(&path, &q),
        demands.html(&path, &q),
    );
    let status = attempt
        .as_ref()
        .and_then(|a| StatusCode::from_u16(a.refusal.status).ok())
        .unwrap_or(StatusCode::OK);
    Ok((
        status,
        page(&format!("Distributor: {}", ag.legal_name), Some(t), &body),
    )
        .into_response())
}

/// A refused shipment in plain words: the sentence, each hold reason, and — for a
/// credit hold — a button that ships anyway with a reason (kept in the journal).
fn ship_refusal_html(t: &Tenant, form_path: &str, a: &ShipAttempt<'_>) -> String {
    let l = locale(t);
    let mut out = format!(
        r#"<div id="ship-refused" class="err" role="alert"><p>{}</p>"#,
        esc(&l.sentence(&a.refusal.message))
    );
    if !a.refusal.details.is_empty() {
        out.push_str("<ul>");
        for d in &a.refusal.details {
            out.push_str(&format!("<li>{}</li>", esc(&l.sentence(d))));
        }
        out.push_str("</ul>");
    }
    if a.refusal.code == "refused" {
        let hidden = |name: &str, v: &str| {
            format!(r#"<input type="hidden" name="{name}" value="{}">"#, esc(v))
        };
        out.push_str(&format!(
            r#"<form id="ship-override-form" class="stack" method="post" action="{form_path}/shipments">{}{}{}{}
<label for="ship-override-reason">Ship anyway: why (recorded in the journal with your name)</label><input id="ship-override-reason" name="override" required maxlength="500">
<button id="ship-override-submit" type="submit">Ship anyway</button></form>"#,
            csrf_field(&t.viewer),
            hidden("sku", &a.form.sku),
            hidden("units", &a.form.units),
            hidden("po", a.form.po.as_deref().unwrap_or("")),
        ));
    }
    out.push_str("</div>");
    out
}

#[derive(Deserialize)]
pub struct ShipForm {
    pub sku: String,
    pub units: String,
    pub po: Option<String>,
    #[serde(rename = "override")]
    pub override_reason: Option<String>,
}

/// Records a shipment (shared by the page and the API); audits overrides.
pub async fn record_shipment(
    t: &Tenant,
    to: &str,
    f: &ShipForm,
    state: &AppState,
) -> Result<backstock_app::risk::ShipOutcome, Fail> {
    let b = views::books(t, &state.cache).await?;
    if views::distributor(&b, to).is_none() {
        return Err(Fail::not_found("no such distributor"));
    }
    let units: u64 = f
        .units
        .trim()
        .parse()
        .map_err(|_| Fail::bad(format!("units: {:?} is not a whole number", f.units)))?;
    let blank = |s: &Option<String>| {
        s.as_ref()
            .map(|x| x.trim().to_string())
            .filter(|x| !x.is_empty())
    };
    let override_reason = blank(&f.override_reason);
    let args = backstock_app::risk::ShipArgs {
        to: to.to_string(),
        sku: f.sku.trim().to_string(),
        units,
        po: blank(&f.po),
        date: None,
        id: None,
        override_reason,
    };
    // Checked first, so a refusal is said in the app's words (not the command line's).
    let check = backstock_app::risk::ship_check(t.store(), &args).await?;
    if !check.reasons.is_empty() && args.override_reason.is_none() {
        let sentence = format!(
            "Not shipped: {} unit{} of {} to {} {} on credit hold. Nothing was recorded; an owner or staff member can ship anyway with a reason, which is kept in the journal with their name.",
            units,
            if units == 1 { "" } else { "s" },
            check.sku,
            check.to,
            if units == 1 { "is" } else { "are" },
        );
        let mut refusal = Fail::new(409, "refused", sentence);
        refusal.details = check
            .reasons
            .iter()
            .map(|r| format!("{} ({})", r.message, r.code))
            .collect();
        t.audit(
            &state.control,
            "shipment_refused",
            &format!(
                "{units} × {} to {}: {}",
                check.sku,
                check.to,
                check
                    .reasons
                    .iter()
                    .map(|r| r.code.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        )
        .await?;
        return Err(refusal);
    }
    let outcome = backstock_app::risk::ship_as(t.store(), args, &t.viewer.user.email).await?;
    let action = if outcome.overridden.is_some() {
        "override"
    } else {
        "shipment"
    };
    t.audit(&state.control, action, outcome.to_string().trim_end())
        .await?;
    Ok(outcome)
}

pub async fn ship(
    State(state): State<AppState>,
    t: Tenant,
    Path((_, id)): Path<(String, String)>,
    Query(q): Q,
    Form(f): Form<ShipForm>,
) -> Result<Response, Fail> {
    let out = match record_shipment(&t, &id, &f, &state).await {
        Ok(o) => o.to_string(),
        // A refusal (a credit hold, an unknown SKU, units that are not a number) is
        // answered on the distributor's page, the form kept as typed.
        Err(refusal) if matches!(refusal.status, 400 | 409) => {
            return distributor_page(
                &state,
                &t,
                &id,
                &q,
                Some(ShipAttempt {
                    form: &f,
                    refusal: &refusal,
                }),
            )
            .await;
        }
        Err(f) => return Err(f),
    };
    Ok(page(
        "Shipped",
        Some(&t),
        &format!(
            r#"<section><p id="ship-result" class="okbox">{}</p><p><a href="{}">Back to {}</a></p></section>"#,
            esc(&locale(&t).sentence(&out)),
            esc(&base(&t, &format!("distributors/{}", url_encode(&id)))),
            esc(&id)
        ),
    )
    .into_response())
}

pub async fn catalog(
    State(state): State<AppState>,
    t: Tenant,
    Query(q): Q,
) -> Result<Response, Fail> {
    let b = views::books(&t, &state.cache).await?;
    let l = locale(&t);
    let mut g = Grid::new(
        "catalog",
        &[
            ("sku", false),
            ("title", false),
            ("artist", false),
            ("format", false),
            ("released", false),
            ("list price", true),
            ("wholesale", true),
            ("units owned", true),
            ("units sold", true),
        ],
    );
    for c in views::catalog(&t, &b) {
        g.push(vec![
            Cell::text(c.sku),
            Cell::text(c.title),
            Cell::text(c.artist),
            Cell::text(c.format),
            c.release_date
                .map(|d| date_cell(&l, d))
                .unwrap_or_else(|| Cell::text("")),
            money_cell(&l, c.list_price),
            money_cell(&l, c.wholesale_price),
            int_cell(&l, c.units_owned),
            int_cell(&l, c.units_sold),
        ]);
    }
    g.sort(&q);
    // The CSV streams every row; the page shows one page of them.
    let [g] = match crate::html::csv_or_grids([g], &q) {
        Ok(grids) => grids,
        Err(r) => return Ok(*r),
    };
    let note = match &t.scope {
        auth::Scope::Payee(p) => format!(
            r#"<p class="note">The releases you are paid on (payee {}).</p>"#,
            esc(p)
        ),
        _ => String::new(),
    };
    let body = format!(
        "{note}<section>{}</section>",
        g.html(&base(&t, "catalog"), &q)
    );
    Ok(page("Catalog", Some(&t), &body).into_response())
}

/// "reversed on 07/01/2016 (keyed twice)" for a corrected record, in the label's
/// date format, else nothing.
fn reversal_text(l: &Locale, r: &Option<views::ReversalRow>) -> String {
    match r {
        Some(r) => format!("reversed on {} ({})", l.date(r.on), r.reason),
        None => String::new(),
    }
}

/// The status cell of a shipment or order: shown in the label's dates, the CSV in ISO.
fn reversal_cell(l: &Locale, r: &Option<views::ReversalRow>) -> Cell {
    Cell {
        text: reversal_text(l, r),
        ..Cell::text(reversal_text(&Locale::new("iso", ""), r))
    }
}

pub async fn shipments(
    State(state): State<AppState>,
    t: Tenant,
    Query(q): Q,
) -> Result<Response, Fail> {
    let b = views::books(&t, &state.cache).await?;
    let l = locale(&t);
    let (ships, orders) = views::shipments(&t, &b);
    let mut sg = Grid::new(
        "shipments",
        &[
            ("date", false),
            ("shipment", false),
            ("from", false),
            ("to", false),
            ("sku", false),
            ("units", true),
            ("PO", false),
            ("status", false),
        ],
    );
    for s in ships.iter().rev() {
        sg.push(vec![
            date_cell(&l, s.date),
            Cell::text(s.shipment_id.clone()),
            Cell::text(s.from.clone()),
            Cell::text(s.to.clone()),
            Cell::text(s.sku.clone()),
            int_cell(&l, i64::try_from(s.units).unwrap_or(i64::MAX)),
            Cell::text(s.po_number.clone().unwrap_or_default()),
            reversal_cell(&l, &s.reversed),
        ]);
    }
    let mut og = Grid::new(
        "orders",
        &[
            ("date", false),
            ("PO", false),
            ("distributor", false),
            ("sku", false),
            ("units", true),
            ("status", false),
        ],
    );
    for o in orders.iter().rev() {
        og.push(vec![
            date_cell(&l, o.date),
            Cell::text(o.po_number.clone()),
            Cell::text(o.distributor.clone()),
            Cell::text(o.sku.clone()),
            int_cell(&l, i64::try_from(o.units).unwrap_or(i64::MAX)),
            reversal_cell(&l, &o.reversed),
        ]);
    }
    sg.sort(&q);
    og.sort(&q);
    // A CSV download streams every row of the table asked for.
    let [sg, og] = match crate::html::csv_or_grids([sg, og], &q) {
        Ok(grids) => grids,
        Err(r) => return Ok(*r),
    };
    let path = base(&t, "shipments");
    let body = format!(
        "<section><h2>Shipments</h2>{}</section><section><h2>Purchase orders</h2>{}</section>",
        sg.html(&path, &q),
        og.html(&path, &q)
    );
    Ok(page("Shipments and purchase orders", Some(&t), &body).into_response())
}

// ---- import ----

pub async fn import_form(t: Tenant) -> Result<Html<String>, Fail> {
    Ok(page("Import", Some(&t), &import_body(&t).await?))
}

/// The upload form, as the import page shows it.
async fn import_body(t: &Tenant) -> Result<String, Fail> {
    let mappings = crate::upload::mapping_names(t).await?;
    let distributor_only = matches!(t.scope, auth::Scope::Distributor(_));
    let kinds: Vec<&str> = if distributor_only {
        vec!["statements", "stock_reports", "x12", "dsr"]
    } else {
        // The ledger's kinds, then the royalty files (payees, contracts, costs).
        let mut k = backstock_app::import::FileKind::names();
        k.extend(["x12", "dsr"]);
        k
    };
    let mut kind_opts = String::from(r#"<option value="">detect from the header</option>"#);
    for k in kinds {
        kind_opts.push_str(&format!(r#"<option value="{k}">{k}</option>"#));
    }
    let mut map_opts = String::from(r#"<option value="">none (canonical file)</option>"#);
    for m in mappings {
        map_opts.push_str(&format!(r#"<option value="{0}">{0}</option>"#, esc(&m)));
    }
    let who = match &t.scope {
        auth::Scope::Distributor(d) => format!(
            r#"<p class="note">You upload as <strong>{}</strong>: statements and stock reports for your own account only.</p>"#,
            esc(d)
        ),
        _ => r#"<label for="upload-distributor">Sent by (distributor id, for EDI/DSR/mapped files)</label><input id="upload-distributor" name="distributor">"#.to_string(),
    };
    // Which date format to use, said before the upload (issue 18.13): canonical files
    // take ISO dates whatever the label shows; the statement values below may be typed
    // either way.
    let l = locale(t);
    let shows = l.date_pattern();
    let dates = if shows == "YYYY-MM-DD" {
        "Dates in canonical files are written YYYY-MM-DD (2016-12-31).".to_string()
    } else {
        format!(
            "Dates in canonical files are written YYYY-MM-DD (2016-12-31), not as this label shows them ({shows}, {}); the statement values above may be typed either way.",
            l.date(backstock_domain::Date::from_ymd(2016, 12, 31).unwrap_or(backstock_domain::Date::EARLIEST))
        )
    };
    let shows = if shows == "YYYY-MM-DD" {
        shows
    } else {
        format!("{shows} or YYYY-MM-DD")
    };
    let body = format!(
        r#"<section><form id="upload-form" class="stack" method="post" enctype="multipart/form-data" action="{}?csrf={}">
<label for="upload-file">File</label><input id="upload-file" name="file" type="file" required>
<label for="upload-kind">Kind</label><select id="upload-kind" name="kind">{kind_opts}</select>
<label for="upload-mapping">Mapping (a distributor's own layout)</label><select id="upload-mapping" name="mapping">{map_opts}</select>
{who}
<details><summary>Statement values for mapped files</summary>
<label for="upload-statement-id">Statement id</label><input id="upload-statement-id" name="statement_id">
<label for="upload-period-start">Period start</label><input id="upload-period-start" name="period_start" placeholder="{shows}">
<label for="upload-period-end">Period end</label><input id="upload-period-end" name="period_end" placeholder="{shows}">
<label for="upload-issued-on">Issued on</label><input id="upload-issued-on" name="issued_on" placeholder="{shows}">
<label for="upload-currency">Currency</label><input id="upload-currency" name="currency" placeholder="USD"></details>
<label for="upload-hold-unmatched"><input id="upload-hold-unmatched" name="hold_unmatched" type="checkbox" value="on"> Hold statement lines whose code the catalog does not know (they wait on the Record page for an alias) instead of refusing the file</label>
<button id="upload-submit" class="primary" type="submit">Preview</button></form>
<p class="note">Nothing is recorded until you confirm the preview. Formats: canonical CSV (see docs/formats.md), mapped CSV/XLSX, EDI X12 852/846/867, DDEX DSR.</p>
<p class="note" id="upload-dates">{dates}</p></section>"#,
        esc(&base(t, "import")),
        esc(&url_encode(t.viewer.csrf())),
        shows = esc(&shows),
        dates = esc(&dates),
    );
    Ok(body)
}

pub async fn import_preview(
    State(state): State<AppState>,
    t: Tenant,
    m: Multipart,
) -> Result<Response, Fail> {
    let (name, bytes, choices) = crate::upload::read_form(m).await?;
    let l = locale(&t);
    // Statement values typed as the label shows dates are taken (the API takes ISO).
    let choices = crate::upload::label_dates(&l, choices);
    let p = crate::upload::preview(&state, &t, &name, &bytes, &choices).await?;
    let mut body = format!("<section><h2>{}</h2>", esc(&p.file_name));
    if !p.errors.is_empty() {
        body.push_str(r#"<p>This file cannot be recorded; nothing was recorded:</p><ol id="upload-errors" class="err">"#);
        for e in &p.errors {
            // A date not in ISO: which format to use, and the value to write.
            body.push_str(&format!(
                "<li>{}</li>",
                esc(&crate::upload::date_hint(&l, e))
            ));
        }
        body.push_str(&format!(
            r#"</ol><p><a id="upload-again" href="{}">Upload another file</a></p>"#,
            esc(&base(&t, "import"))
        ));
    }
    if let Some(id) = &p.upload_id {
        let mut rows = String::new();
        for e in &p.entries {
            rows.push_str(&format!(
                r#"<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td class="n">{}</td><td class="n">{}</td></tr>"#,
                esc(&e.id),
                e.kind,
                // "Since always" (a payee, a catalog item without a date) is no date.
                esc(&shown_day(&l, e.effective_on)),
                esc(&shown_day(&l, e.known_on)),
                esc(e.party.as_deref().unwrap_or("")),
                esc(e.sku.as_deref().unwrap_or("")),
                e.units.map(|u| l.int(u)).unwrap_or_default(),
                e.amount.map(|m| esc(&l.money(m))).unwrap_or_default(),
            ));
        }
        let mut more = if p.entries_total > p.entries.len() {
            format!(
                r#"<p class="note">… and {} more entries.</p>"#,
                l.int(i64::try_from(p.entries_total - p.entries.len()).unwrap_or(i64::MAX))
            )
        } else {
            String::new()
        };
        if p.already_recorded > 0 {
            let n = p.already_recorded;
            more.push_str(&format!(
                r#"<p id="upload-skipped" class="note">{} {} of this file {} already recorded with the same details (from another file) and will be skipped: {}.</p>"#,
                l.int(i64::try_from(n).unwrap_or(i64::MAX)),
                if n == 1 { "entry" } else { "entries" },
                if n == 1 { "is" } else { "are" },
                esc(&p.already_recorded_ids.join(", ")),
            ));
        }
        body.push_str(&format!(
            r#"<p>What would be recorded:</p><pre id="upload-preview" class="okbox">{}</pre><table id="upload-entries"><thead><tr><th>entry</th><th>kind</th><th>effective</th><th>known</th><th>party</th><th>sku</th><th class="n">units</th><th class="n">amount</th></tr></thead><tbody>{rows}</tbody></table>{more}
{}
<form id="discard-form" class="inline" method="post" action="{}">{}<button id="discard-submit" type="submit">Discard</button></form>"#,
            // The import's report in the label's money and dates, its columns kept.
            esc(&l.report(&p.report)),
            // Nothing to record (every file already imported): no button to press.
            if p.entries_total == 0 && p.report.contains("already imported") {
                r#"<p id="nothing-to-record" class="note">Nothing to record: this file was imported before.</p>"#.to_string()
            } else {
                format!(
                    r#"<form id="confirm-form" class="inline" method="post" action="{}">{}<button id="confirm-submit" class="primary" type="submit">Record it</button></form>"#,
                    esc(&base(&t, &format!("import/{id}/confirm"))),
                    csrf_field(&t.viewer),
                )
            },
            esc(&base(&t, &format!("import/{id}/discard"))),
            csrf_field(&t.viewer),
        ));
    }
    body.push_str("</section>");
    let status = if p.errors.is_empty() {
        StatusCode::OK
    } else {
        StatusCode::UNPROCESSABLE_ENTITY
    };
    Ok((status, page("Import: preview", Some(&t), &body)).into_response())
}

pub async fn import_confirm(
    State(state): State<AppState>,
    t: Tenant,
    Path((_, id)): Path<(String, String)>,
) -> Result<Response, Fail> {
    let report = match crate::upload::confirm(&state, &t, &id).await {
        Ok(r) => r,
        // Refused by the books (stock short, a closed month …): said on the upload
        // page, with its navigation, in the app's words; nothing was recorded.
        Err(f) if matches!(f.status, 400 | 409 | 422) => {
            let said = crate::upload::refusal_in_words(&locale(&t), &f.message);
            let body = format!(
                r#"<div id="import-refused" class="err" role="alert"><p>{}</p></div>{}"#,
                esc(&said),
                import_body(&t).await?
            );
            let status = StatusCode::from_u16(f.status).unwrap_or(StatusCode::CONFLICT);
            return Ok((status, page("Import", Some(&t), &body)).into_response());
        }
        Err(f) => return Err(f),
    };
    let next = if t.may(Perm::ReadLabel) {
        "dashboard"
    } else {
        "shipments"
    };
    Ok(page(
        "Import: recorded",
        Some(&t),
        &format!(
            r#"<section><pre id="import-result" class="okbox">{}</pre><p><a id="after-import" href="{}">Continue</a></p></section>"#,
            esc(&locale(&t).report(&report)),
            esc(&base(&t, next))
        ),
    )
    .into_response())
}

pub async fn import_discard(
    State(state): State<AppState>,
    t: Tenant,
    Path((_, id)): Path<(String, String)>,
) -> Result<Redirect, Fail> {
    crate::upload::discard(&state, &t, &id).await?;
    Ok(Redirect::to(&base(&t, "import")))
}

// ---- users, settings, audit ----

pub async fn users(
    State(state): State<AppState>,
    t: Tenant,
    Query(q): Q,
) -> Result<Response, Fail> {
    let members = state.control.members(t.slug()).await?;
    let parties = views::parties(&*views::books(&t, &state.cache).await?);
    let mut g = Grid::new(
        "members",
        &[
            ("email", false),
            ("name", false),
            ("role", false),
            ("limited to", false),
            ("change", false),
        ],
    );
    for (u, m) in &members {
        let mut opts = String::new();
        for r in Role::ALL {
            opts.push_str(&format!(
                r#"<option value="{0}"{1}>{0}</option>"#,
                r.as_str(),
                if r == m.role { " selected" } else { "" }
            ));
        }
        let form = format!(
            r#"<form class="role-form" method="post" action="{}">{}<select name="role" aria-label="role">{opts}</select> <select name="party" aria-label="limited to">{}</select> <button type="submit">Change</button></form> <form class="inline" method="post" action="{}">{}<button type="submit">Remove</button></form>"#,
            esc(&base(&t, &format!("users/{}/role", u.id))),
            csrf_field(&t.viewer),
            party_options(&parties, m.party.as_deref()),
            esc(&base(&t, &format!("users/{}/remove", u.id))),
            csrf_field(&t.viewer),
        );
        let mut change = Cell::text("");
        change.html = Some(form);
        g.push(vec![
            Cell::text(u.email.clone()),
            Cell::text(u.name.clone()),
            Cell::text(m.role.as_str()),
            Cell::text(m.party.clone().unwrap_or_default()),
            change,
        ]);
    }
    g.sort(&q);
    // A CSV download streams every row.
    let [g] = match crate::html::csv_or_grids([g], &q) {
        Ok(grids) => grids,
        Err(r) => return Ok(*r),
    };
    let mut role_opts = String::new();
    for r in Role::ALL {
        role_opts.push_str(&format!(
            r#"<option value="{0}"{1}>{0}</option>"#,
            r.as_str(),
            if r == Role::LEAST_PRIVILEGED {
                " selected"
            } else {
                ""
            }
        ));
    }
    let party_opts = party_options(&parties, None);
    let mut loc_opts = String::new();
    for l in LOCALES {
        loc_opts.push_str(&format!(
            r#"<option value="{0}"{1}>{0}</option>"#,
            l,
            if l == t.row.locale { " selected" } else { "" }
        ));
    }
    let body = format!(
        r#"<section><h2>Members</h2>{}</section>
<div class="grid2"><section><h2>Invite</h2><form id="invite-form" class="stack" method="post" action="{}">{}
<label for="invite-email">Email</label><input id="invite-email" name="email" type="email" required>
<label for="invite-name">Name</label><input id="invite-name" name="name">
<label for="invite-role">Role</label><select id="invite-role" name="role">{role_opts}</select>
<label for="invite-party">Limited to (an artist's payee, a distributor member's distributor)</label><select id="invite-party" name="party">{party_opts}</select>
<label for="invite-password">Initial password (new accounts; at least 10 characters — tell them to change it)</label><input id="invite-password" name="password" type="password" autocomplete="new-password">
<button id="invite-submit" class="primary" type="submit">Invite</button></form></section>
{}
<section><h2>Label settings</h2><form id="settings-form" class="stack" method="post" action="{}">{}
<label for="settings-locale">Dates and numbers</label><select id="settings-locale" name="locale">{loc_opts}</select>
<label for="settings-currency">Currency</label><input id="settings-currency" name="currency" value="{}" maxlength="3">
<button class="primary" type="submit">Save</button></form></section></div>"#,
        g.html(&base(&t, "users"), &q),
        esc(&base(&t, "users")),
        csrf_field(&t.viewer),
        crate::signup::invitations_section(&state, &t, &role_opts, &party_opts).await?,
        esc(&base(&t, "settings")),
        csrf_field(&t.viewer),
        esc(&t.row.currency),
    );
    Ok(page("Users", Some(&t), &body).into_response())
}

/// The options of a party picker: none, the payees (for an artist), the
/// distributors (for a distributor member); `selected` chosen.
fn party_options(p: &views::Parties, selected: Option<&str>) -> String {
    let opt = |id: &str, name: &str| {
        format!(
            r#"<option value="{}"{}>{} — {}</option>"#,
            esc(id),
            if selected == Some(id) {
                " selected"
            } else {
                ""
            },
            esc(id),
            esc(name)
        )
    };
    let mut out = format!(
        r#"<option value=""{}>none (owner, staff, bookkeeper)</option>"#,
        if selected.is_none() { " selected" } else { "" }
    );
    for (label, list) in [
        ("payees (for an artist)", &p.payees),
        ("distributors (for a distributor)", &p.distributors),
    ] {
        out.push_str(&format!(r#"<optgroup label="{label}">"#));
        for (id, name) in list {
            out.push_str(&opt(id, name));
        }
        out.push_str("</optgroup>");
    }
    out
}

/// Refuses a limited role's party that is not one of the label's, with a sentence.
pub(crate) async fn check_party(
    state: &AppState,
    t: &Tenant,
    role: Role,
    party: Option<&str>,
) -> Result<(), Fail> {
    let Some(party) = views::party_to_check(role, party) else {
        return Ok(());
    };
    let b = views::books(t, &state.cache).await?;
    views::parties(&b).check(role, party).map_err(Fail::bad)
}

#[derive(Deserialize)]
pub struct MemberForm {
    pub email: String,
    pub name: Option<String>,
    /// Left out or blank: [`Role::LEAST_PRIVILEGED`].
    #[serde(default)]
    pub role: String,
    pub party: Option<String>,
    pub password: Option<String>,
}

/// The role a form names, or an error listing the roles there are.
pub(crate) fn role_named(name: &str) -> Result<Role, Fail> {
    Role::parse(name).ok_or_else(|| {
        Fail::bad(format!(
            "role {name:?}: expected owner, staff, bookkeeper, artist or distributor"
        ))
    })
}

/// " (party)" after a role in the audit log, or nothing when no party is given.
pub(crate) fn party_note(party: Option<&str>) -> String {
    party
        .map(str::trim)
        .filter(|p| !p.is_empty())
        .map(|p| format!(" ({p})"))
        .unwrap_or_default()
}

/// A member of this label by user id (from the URL): their id, account and
/// membership; anyone else is "not found".
async fn member(
    state: &AppState,
    t: &Tenant,
    user: &str,
) -> Result<(i64, crate::control::User, crate::control::Membership), Fail> {
    let gone = || Fail::not_found("no such member of this label");
    let uid: i64 = user.parse().map_err(|_| gone())?;
    let before = state
        .control
        .membership(uid, t.slug())
        .await?
        .ok_or_else(gone)?;
    let u = state.control.user(uid).await?.ok_or_else(gone)?;
    Ok((uid, u, before))
}

/// Refuses to take away the label's only owner.
async fn keep_an_owner(state: &AppState, t: &Tenant) -> Result<(), Fail> {
    let owners = state
        .control
        .members(t.slug())
        .await?
        .iter()
        .filter(|(_, m)| m.role == Role::Owner)
        .count();
    if owners <= 1 {
        return Err(Fail::new(
            409,
            "refused",
            "a label keeps at least one owner; make someone else owner first",
        ));
    }
    Ok(())
}

/// Invites (page and API): an existing account gets the role; a new one is created
/// with the initial password.
pub async fn add_member(state: &AppState, t: &Tenant, f: &MemberForm) -> Result<String, Fail> {
    let role = if f.role.trim().is_empty() {
        Role::LEAST_PRIVILEGED
    } else {
        role_named(&f.role)?
    };
    let email = crate::control::normalize_email(&f.email).map_err(|e| Fail::bad(e.0))?;
    // Checked before any account is made: a refused invitation leaves nothing behind.
    if role.needs_party() && f.party.as_deref().is_none_or(|p| p.trim().is_empty()) {
        return Err(Fail::bad(format!(
            "the {role} role is limited to one {}: pick it under \"Limited to\"",
            role.party_kind()
        )));
    }
    check_party(state, t, role, f.party.as_deref()).await?;
    let user = match state.control.user_by_email(&email).await? {
        Some(u) => u,
        None => {
            let pw = f.password.as_deref().unwrap_or("");
            state
                .control
                .add_user(&email, f.name.as_deref().unwrap_or(""), pw)
                .await
                .map_err(|e| Fail::bad(e.0))?
        }
    };
    if state.control.membership(user.id, t.slug()).await?.is_some() {
        return Err(Fail::bad(format!(
            "{email} is already a member; change their role instead"
        )));
    }
    state
        .control
        .set_membership(user.id, t.slug(), role, f.party.as_deref())
        .await
        .map_err(|e| Fail::bad(e.0))?;
    let detail = format!(
        "{email} invited as {role}{}",
        party_note(f.party.as_deref().filter(|_| role.needs_party()))
    );
    t.audit(&state.control, "role_granted", &detail).await?;
    Ok(detail)
}

pub async fn invite(
    State(state): State<AppState>,
    t: Tenant,
    Form(f): Form<MemberForm>,
) -> Result<Redirect, Fail> {
    add_member(&state, &t, &f).await?;
    Ok(Redirect::to(&base(&t, "users")))
}

#[derive(Deserialize)]
pub struct RoleForm {
    pub role: String,
    pub party: Option<String>,
}

/// Changes a member's role (page and API). Only members of this tenant can be
/// changed; the last owner stays an owner.
pub async fn set_role(
    state: &AppState,
    t: &Tenant,
    user: &str,
    f: &RoleForm,
) -> Result<String, Fail> {
    let (uid, u, before) = member(state, t, user).await?;
    let role = role_named(&f.role)?;
    check_party(state, t, role, f.party.as_deref()).await?;
    if before.role == Role::Owner && role != Role::Owner {
        keep_an_owner(state, t).await?;
    }
    state
        .control
        .set_membership(uid, t.slug(), role, f.party.as_deref())
        .await
        .map_err(|e| Fail::bad(e.0))?;
    let detail = format!(
        "{}: {} → {role}{}",
        u.email,
        before.role,
        party_note(f.party.as_deref())
    );
    t.audit(&state.control, "role_changed", &detail).await?;
    Ok(detail)
}

pub async fn change_role(
    State(state): State<AppState>,
    t: Tenant,
    Path((_, user)): Path<(String, String)>,
    Form(f): Form<RoleForm>,
) -> Result<Redirect, Fail> {
    set_role(&state, &t, &user, &f).await?;
    Ok(Redirect::to(&base(&t, "users")))
}

/// Removes a member (page and API); the last owner stays.
pub async fn remove(state: &AppState, t: &Tenant, user: &str) -> Result<String, Fail> {
    let (uid, u, before) = member(state, t, user).await?;
    if before.role == Role::Owner {
        keep_an_owner(state, t).await?;
    }
    state.control.remove_membership(uid, t.slug()).await?;
    let detail = format!("{} ({}) removed", u.email, before.role);
    t.audit(&state.control, "role_revoked", &detail).await?;
    Ok(detail)
}

pub async fn remove_member(
    State(state): State<AppState>,
    t: Tenant,
    Path((_, user)): Path<(String, String)>,
) -> Result<Redirect, Fail> {
    remove(&state, &t, &user).await?;
    Ok(Redirect::to(&base(&t, "users")))
}

#[derive(Deserialize)]
pub struct SettingsForm {
    pub locale: String,
    pub currency: String,
}

pub async fn save_settings(state: &AppState, t: &Tenant, f: &SettingsForm) -> Result<(), Fail> {
    if !LOCALES.contains(&f.locale.as_str()) {
        return Err(Fail::bad(format!(
            "locale {:?}: expected one of {}",
            f.locale,
            LOCALES.join(", ")
        )));
    }
    let cur = backstock_domain::Currency::parse(f.currency.trim())
        .map_err(|e| Fail::bad(format!("currency: {e}")))?;
    state
        .control
        .set_tenant_format(t.slug(), &f.locale, cur.code())
        .await?;
    t.audit(
        &state.control,
        "settings",
        &format!("locale {} currency {}", f.locale, cur.code()),
    )
    .await?;
    Ok(())
}

pub async fn settings(
    State(state): State<AppState>,
    t: Tenant,
    Form(f): Form<SettingsForm>,
) -> Result<Redirect, Fail> {
    save_settings(&state, &t, &f).await?;
    Ok(Redirect::to(&base(&t, "users")))
}

pub async fn audit(
    State(state): State<AppState>,
    t: Tenant,
    Query(q): Q,
) -> Result<Response, Fail> {
    let rows = state.control.audit_log(t.slug(), 5000).await?;
    let l = locale(&t);
    let mut g = Grid::new(
        "audit",
        &[
            ("#", true),
            ("at (UTC)", false),
            ("who", false),
            ("what", false),
            ("detail", false),
            ("from", false),
        ],
    );
    for r in rows {
        g.push(vec![
            Cell::num(r.id.to_string(), r.id, r.id.to_string()),
            // Dates in the label's own format, as every other table; the CSV keeps
            // the timestamp as recorded.
            Cell {
                text: when_raised(&l, &r.at),
                csv: r.at.clone(),
                ..Cell::text(r.at.clone())
            },
            Cell::text(r.actor),
            Cell::text(r.action),
            // What the crates wrote, in the label's dates and money; the CSV as recorded.
            Cell::sentence(&l, r.detail),
            Cell::text(r.ip),
        ]);
    }
    g.sort(&q);
    // A CSV download streams every row.
    let [g] = match crate::html::csv_or_grids([g], &q) {
        Ok(grids) => grids,
        Err(r) => return Ok(*r),
    };
    let body = format!("<section>{}</section>", g.html(&base(&t, "audit"), &q));
    Ok(page("Audit log", Some(&t), &body).into_response())
}

/// A day of the upload preview in the label's format; the earliest day backstock
/// knows ("since always": payees, catalog items without a date) is left blank.
fn shown_day(l: &crate::format::Locale, d: backstock_domain::Date) -> String {
    if d == backstock_domain::Date::EARLIEST {
        String::new()
    } else {
        l.date(d)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use backstock_risk::{Level, Signal};

    fn signal(level: Level, message: &str) -> Signal {
        Signal {
            code: backstock_risk::signals::SignalCode::PaymentLateness,
            level,
            message: message.into(),
            value: String::new(),
        }
    }

    #[test]
    fn reasons_are_the_highest_signals_sentences() {
        assert_eq!(
            reasons_in_words(&[signal(Level::Ok, "Paid on time.")]),
            "No warning signs."
        );
        let s = [
            signal(Level::Critical, "Received nothing."),
            signal(Level::Alert, "Over the credit limit."),
            signal(Level::Critical, "Refused a return demand."),
            signal(Level::Ok, "Statements on time."),
        ];
        assert_eq!(
            reasons_in_words(&s),
            "Received nothing. Refused a return demand. (1 lesser warning on its page.)"
        );
    }

    #[test]
    fn the_level_rule_reads_as_a_sentence() {
        let s = [
            signal(Level::Alert, "Over the credit limit."),
            signal(Level::Alert, "Received nothing."),
        ];
        assert_eq!(
            level_rule_in_words(Level::Critical, &s),
            "Warnings of two or more independent kinds at alert together make this critical:"
        );
        assert_eq!(
            level_rule_in_words(Level::Alert, &s),
            "At alert because of the alert signals below:"
        );
        assert_eq!(level_rule_in_words(Level::Ok, &[]), "No warning signs.");
    }

    #[test]
    fn stock_reads_in_words() {
        assert_eq!(holder_in_words("label"), "label's own warehouse");
        assert_eq!(holder_in_words("cascade"), "cascade");
        assert_eq!(stock_state_in_words("on_hand"), "on hand");
        assert_eq!(
            stock_state_in_words("detained"),
            "detained (held against the label's will)"
        );
    }

    #[test]
    fn alert_times_read_as_a_date_and_a_utc_time() {
        let l = Locale::new("en-US", "USD");
        assert_eq!(
            when_raised(&l, "2026-11-24T01:12:45Z"),
            "11/24/2026 01:12 UTC"
        );
        assert_eq!(when_raised(&l, "yesterday"), "yesterday");
    }
}
