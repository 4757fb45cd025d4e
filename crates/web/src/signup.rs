//! Sign-up, invitations by one-time link, and password reset.
//!
//! - `/signup` makes an account and its first label (the account is its owner) and
//!   signs it in; signed in, it makes another label. With `serve --smtp` it first
//!   proves the address: signed out, it takes the email only and mails a one-time
//!   link valid [`SIGNUP_SECS`] (`/signup/{token}`, where the account and label are
//!   made) — or, to an address that has an account, a mail saying so — and answers
//!   the same either way, so the form tells no one which addresses have accounts.
//!   Without a mail server there is no way to prove an address, and sign-up is
//!   immediate (an address with an account is then refused with a sentence that
//!   says so, as any immediate sign-up must). `POST /api/v1/labels` does the
//!   same for programs. `serve --no-signup` closes both. A label is made by
//!   [`Control::create_label`](crate::control::Control::create_label), as
//!   `backstock user add --create-label` does.
//! - An owner invites by email and role (`/t/{tenant}/invitations`,
//!   `/api/v1/t/{tenant}/invitations`): a one-time link valid [`INVITE_SECS`], shown to
//!   the owner and mailed with `serve --smtp`. The invitee opens it (`/invite/{token}`),
//!   sets a password (a new account) or gives theirs (an existing one), and becomes a
//!   member with that role.
//! - `/reset` makes a one-time link valid [`RESET_SECS`] for the account of an email,
//!   mailed (or written to the server's log); the answer is the same whether or not the
//!   account exists. `/reset/{token}` sets a new password and ends every session and
//!   API token of the account.
//!
//! Links carry 256 random bits; only their SHA-256 is kept, with the expiry and the
//! time of use (`one_time_links` in control.db). Forms carry the session's CSRF token
//! when signed in; signed out, a token bound to a `bs_form` cookie (SameSite=Strict),
//! compared in constant time. Sign-up and reset requests are throttled per address as
//! sign-ins are ([`crate::throttle`]); every step goes to the audit log.

use crate::auth::{self, ClientIp, Tenant, Viewer};
use crate::control::{self, LinkKind, LinkRow, LinkState, TenantRow, User};
use crate::html::{esc, page, plain_page, url_encode};
use crate::roles::Role;
use crate::{AppState, Fail};
use axum::extract::{Extension, Form, Path, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::Json;
use serde::Deserialize;
use serde_json::{json, Value};
use std::sync::{Arc, Mutex};

/// How long an invitation link works: 7 days.
pub const INVITE_SECS: i64 = 7 * 86_400;
/// How long a password-reset link works: 1 hour.
pub const RESET_SECS: i64 = 3600;
/// How long a sign-up link works (`serve --smtp`): 1 day.
pub const SIGNUP_SECS: i64 = 86_400;
/// The cookie a signed-out form's CSRF token is bound to.
pub const FORM_COOKIE: &str = "bs_form";

// ---- mail ----

/// A mail as sent (kept by [`Mail::Outbox`]).
#[derive(Debug, Clone)]
pub struct Sent {
    pub to: String,
    pub subject: String,
    pub body: String,
}

/// How links are sent.
#[derive(Clone, Default)]
pub enum Mail {
    /// Written to the server's log (no `--smtp`).
    #[default]
    Log,
    /// Through an SMTP server (`serve --smtp URL`), from this sender.
    Smtp { url: String, from: String },
    /// Kept in memory (tests, embedding).
    Outbox(Arc<Mutex<Vec<Sent>>>),
}

impl std::fmt::Debug for Mail {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The URL may hold the SMTP password: never printed.
        match self {
            Mail::Log => f.write_str("Log"),
            Mail::Smtp { from, .. } => write!(f, "Smtp {{ from: {from:?} }}"),
            Mail::Outbox(_) => f.write_str("Outbox"),
        }
    }
}

impl Mail {
    /// SMTP at `url` (`smtp://[user:password@]host[:port]`), checked now.
    pub fn smtp(url: &str, from: &str) -> Result<Mail, String> {
        SmtpUrl::parse(url)?;
        from.parse::<lettre::message::Mailbox>()
            .map_err(|e| format!("--mail-from {from:?}: {e}"))?;
        Ok(Mail::Smtp {
            url: url.to_string(),
            from: from.to_string(),
        })
    }

    /// An in-memory outbox and what it keeps.
    pub fn outbox() -> (Mail, Arc<Mutex<Vec<Sent>>>) {
        let o = Arc::new(Mutex::new(Vec::new()));
        (Mail::Outbox(o.clone()), o)
    }

    /// Whether links are mailed (rather than only logged).
    pub fn mails(&self) -> bool {
        !matches!(self, Mail::Log)
    }
}

/// `smtp://[user:password@]host[:port]` taken apart (plain SMTP: no TLS stack is
/// built in; use a local relay, or one on a trusted network).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SmtpUrl {
    pub host: String,
    pub port: u16,
    pub credentials: Option<(String, String)>,
}

impl SmtpUrl {
    pub fn parse(url: &str) -> Result<SmtpUrl, String> {
        let bad = |why: &str| {
            format!("--smtp: {why} (expected smtp://[user:password@]host[:port]; plain SMTP only)")
        };
        let rest = url
            .trim()
            .strip_prefix("smtp://")
            .ok_or_else(|| bad("not an smtp:// URL"))?;
        let rest = rest.split(['/', '?']).next().unwrap_or("");
        let (userinfo, hostport) = match rest.rsplit_once('@') {
            Some((u, h)) => (Some(u), h),
            None => (None, rest),
        };
        let (host, port) = if let Some(v6) = hostport.strip_prefix('[') {
            let (h, after) = v6.split_once(']').ok_or_else(|| bad("an unclosed ["))?;
            (h, after.strip_prefix(':'))
        } else {
            match hostport.rsplit_once(':') {
                Some((h, p)) => (h, Some(p)),
                None => (hostport, None),
            }
        };
        if host.is_empty()
            || !host
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"-.:_".contains(&b))
        {
            return Err(bad("no host"));
        }
        let port = match port {
            Some(p) => p
                .parse::<u16>()
                .map_err(|_| bad("the port is not a number"))?,
            None => 25,
        };
        let credentials = userinfo.map(|u| {
            let (user, pw) = u.split_once(':').unwrap_or((u, ""));
            (auth::percent_decode(user), auth::percent_decode(pw))
        });
        Ok(SmtpUrl {
            host: host.to_string(),
            port,
            credentials,
        })
    }
}

/// Sends one mail: Ok(true) when mailed, Ok(false) when only written to the log.
pub async fn send(state: &AppState, to: &str, subject: &str, body: &str) -> Result<bool, String> {
    match &state.config.mail {
        Mail::Log => {
            tracing::info!(to = %to, subject = %subject, "no --smtp: mail not sent; it reads:\n{body}");
            Ok(false)
        }
        Mail::Outbox(o) => {
            if let Ok(mut o) = o.lock() {
                o.push(Sent {
                    to: to.to_string(),
                    subject: subject.to_string(),
                    body: body.to_string(),
                });
            }
            Ok(true)
        }
        Mail::Smtp { url, from } => {
            use lettre::Transport;
            let msg = lettre::Message::builder()
                .from(from.parse().map_err(|e| format!("sender {from}: {e}"))?)
                .to(to.parse().map_err(|e| format!("recipient {to}: {e}"))?)
                .subject(subject)
                .header(lettre::message::header::ContentType::TEXT_PLAIN)
                .body(body.to_string())
                .map_err(|e| format!("the mail: {e}"))?;
            let url = url.clone();
            tokio::task::spawn_blocking(move || {
                let u = SmtpUrl::parse(&url)?;
                let mut b = lettre::SmtpTransport::builder_dangerous(u.host)
                    .port(u.port)
                    .timeout(Some(std::time::Duration::from_secs(20)));
                if let Some((user, password)) = u.credentials {
                    b = b.credentials(lettre::transport::smtp::authentication::Credentials::new(
                        user, password,
                    ));
                }
                let t = b.build();
                t.send(&msg).map(|_| true).map_err(|e| e.to_string())
            })
            .await
            .map_err(|e| format!("sending: {e}"))?
            .map_err(|e| format!("SMTP: {e}"))
        }
    }
}

/// Sends and logs a failure (the caller goes on: the link is shown or logged).
async fn send_or_log(state: &AppState, to: &str, subject: &str, body: &str) -> bool {
    match send(state, to, subject, body).await {
        Ok(mailed) => mailed,
        Err(e) => {
            tracing::warn!(to = %to, "mail not sent: {e}; it reads:\n{body}");
            false
        }
    }
}

// ---- shared pieces ----

/// The start of links: `--base-url` (or what `serve` listens on); without one (an
/// embedded server), the request's host.
fn base_url(state: &AppState, headers: &HeaderMap) -> String {
    if let Some(b) = &state.config.base_url {
        return b.clone();
    }
    let forwarded = if state.config.behind_proxy {
        headers.get("x-forwarded-host")
    } else {
        None
    };
    let host = forwarded
        .or_else(|| headers.get(header::HOST))
        .and_then(|v| v.to_str().ok())
        .filter(|h| {
            !h.is_empty()
                && h.bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b"-.:[]".contains(&b))
        })
        .unwrap_or("localhost");
    let scheme = if auth::secure(state, headers) {
        "https"
    } else {
        "http"
    };
    format!("{scheme}://{host}")
}

/// The CSRF token a form carries: the session's when signed in, else one bound to the
/// `bs_form` cookie (returned to set when new).
fn form_token(
    state: &AppState,
    headers: &HeaderMap,
    viewer: Option<&Viewer>,
) -> Result<(String, Option<String>), Fail> {
    if let Some(v) = viewer {
        return Ok((v.csrf().to_string(), None));
    }
    if let Some(c) = auth::cookie(headers, FORM_COOKIE)
        .filter(|c| c.len() == 64 && c.bytes().all(|b| b.is_ascii_hexdigit()))
    {
        return Ok((c, None));
    }
    let t = control::random_token()?;
    let cookie = format!(
        "{FORM_COOKIE}={t}; Path=/; HttpOnly; SameSite=Strict; Max-Age=86400{}",
        if auth::secure(state, headers) {
            "; Secure"
        } else {
            ""
        }
    );
    Ok((t, Some(cookie)))
}

/// Checks a signed-out form's token against its cookie (a signed-in one was checked
/// against the session by [`auth::authenticate`]).
fn check_form(headers: &HeaderMap, viewer: Option<&Viewer>, csrf: &str) -> Result<(), Fail> {
    if viewer.is_some() {
        return Ok(());
    }
    let ok = auth::cookie(headers, FORM_COOKIE)
        .is_some_and(|c| !c.is_empty() && control::same(&c, csrf));
    if ok {
        Ok(())
    } else {
        Err(Fail::new(
            403,
            "csrf",
            "the form's security token is missing or stale; reload the page and try again",
        ))
    }
}

fn hidden_csrf(token: &str) -> String {
    format!(
        r#"<input type="hidden" name="csrf" value="{}">"#,
        esc(token)
    )
}

/// A page answer, setting the form cookie when there is one to set.
fn respond(status: StatusCode, html: Html<String>, cookie: Option<String>) -> Response {
    let mut r = (status, html).into_response();
    if let Some(v) = cookie.and_then(|c| HeaderValue::from_str(&c).ok()) {
        r.headers_mut().append(header::SET_COOKIE, v);
    }
    r
}

fn error_html(message: &str) -> String {
    format!(r#"<p id="form-error" class="err">{}</p>"#, esc(message))
}

/// One try of `what` from an address: refused (429) while the address waits, as a
/// sign-in would be; otherwise counted.
async fn throttle(state: &AppState, key: &str) -> Result<(), Fail> {
    let c = &state.config;
    let (n, _, last) = state.control.failure_span(key, c.throttle_window).await?;
    if let Some(secs) = crate::throttle::address_wait(c, n, last, control::now()) {
        return Err(Fail::new(
            429,
            "throttled",
            format!(
                "too many tries from this address; try again in {} s",
                secs.max(1)
            ),
        ));
    }
    state.control.record_failure(&[key.to_string()]).await?;
    Ok(())
}

/// Signs `user` in: a fresh session (the presented one ended), then to `to`.
async fn start_session(
    state: &AppState,
    headers: &HeaderMap,
    user: &User,
    ip: &str,
    to: &str,
) -> Result<Response, Fail> {
    if let Some(old) = auth::cookie(headers, auth::SESSION_COOKIE) {
        state.control.delete_session(&old).await?;
    }
    let (sid, _) = state.control.create_session(user.id).await?;
    state.control.mark_known_address(&user.email, ip).await?;
    let mut r = Redirect::to(to).into_response();
    if let Ok(v) = auth::session_cookie(state, headers, &sid).parse() {
        r.headers_mut().append(header::SET_COOKIE, v);
    }
    Ok(r)
}

/// A link that leads nowhere, in a sentence (404 either way).
fn link_refusal(kind: LinkKind, s: &LinkState) -> Fail {
    let what = match kind {
        LinkKind::Invite => "invitation link",
        LinkKind::Reset => "password-reset link",
        LinkKind::Signup => "sign-up link",
    };
    let again = match kind {
        LinkKind::Invite => "ask the label's owner for a new one",
        LinkKind::Reset => "ask for a new one at /reset",
        LinkKind::Signup => "ask for a new one at /signup",
    };
    let msg = match s {
        LinkState::Used(_) => format!("this {what} has been used already; {again}"),
        LinkState::Expired(r) => format!(
            "this {what} expired on {} UTC; {again}",
            control::timestamp(r.expires_at)
        ),
        _ => format!("this {what} is not valid (was it copied whole?); {again}"),
    };
    Fail::not_found(msg)
}

async fn valid_link(state: &AppState, kind: LinkKind, token: &str) -> Result<LinkRow, Fail> {
    match state.control.link(kind, token).await? {
        LinkState::Valid(r) => Ok(r),
        other => Err(link_refusal(kind, &other)),
    }
}

fn closed() -> Fail {
    Fail::not_found(
        "sign-up is closed on this server: ask a label's owner to invite you (serve --no-signup)",
    )
}

/// A label id as typed: trimmed, lowercased.
fn slug_of(s: &str) -> String {
    s.trim().to_ascii_lowercase()
}

/// Makes a label for `user`, who becomes its owner; audited.
pub async fn create_label_for(
    state: &AppState,
    user: &User,
    slug: &str,
    name: &str,
    ip: &str,
) -> Result<TenantRow, Fail> {
    let slug = slug_of(slug);
    control::check_slug(&slug).map_err(|e| Fail::bad(e.0))?;
    let name = control::check_label_name(name).map_err(|e| Fail::bad(e.0))?;
    if state.control.tenant(&slug).await?.is_some() || state.control.label_dir(&slug).exists() {
        return Err(Fail::new(
            409,
            "refused",
            format!("the label id {slug:?} is taken; choose another"),
        ));
    }
    // The store's migrations run on a blocking thread (their future is not `Send`).
    let st = state.clone();
    let (s2, n2) = (slug.clone(), name.clone());
    let handle = tokio::runtime::Handle::current();
    let row = tokio::task::spawn_blocking(move || {
        handle.block_on(st.control.create_label(&s2, &n2, false))
    })
    .await
    .map_err(|e| Fail::internal(format!("creating label {slug}: {e}")))?
    .map_err(|e| Fail::new(409, "refused", e.0))?;
    state
        .control
        .set_membership(user.id, &slug, Role::Owner, None)
        .await?;
    state
        .control
        .audit(
            Some(&slug),
            &user.email,
            "label_created",
            &format!("{name} ({slug}); {} is its owner", user.email),
            ip,
        )
        .await?;
    Ok(row)
}

// ---- sign-up ----

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct SignupForm {
    pub csrf: String,
    pub email: String,
    pub name: String,
    pub password: String,
    pub label_name: String,
    pub label_slug: String,
}

fn signup_html(
    token: &str,
    viewer: Option<&Viewer>,
    f: &SignupForm,
    error: Option<&str>,
    by_mail: bool,
) -> Html<String> {
    let err = error.map(error_html).unwrap_or_default();
    if by_mail && viewer.is_none() {
        let body = format!(
            r#"<section>{err}<form id="signup-form" class="stack" method="post" action="/signup">{}
<label for="signup-email">Your email</label><input id="signup-email" name="email" type="email" autocomplete="username" value="{}" required>
<button id="signup-submit" class="primary" type="submit">Mail me a link to sign up</button></form>
<p class="note">The link opens a form for your name, a password and your label. Have an account? <a href="/login">Sign in</a>.</p></section>"#,
            hidden_csrf(token),
            esc(&f.email),
        );
        return plain_page("Create an account", None, &body);
    }
    let account = if viewer.is_some() {
        String::new()
    } else {
        format!(
            r#"<label for="signup-email">Your email</label><input id="signup-email" name="email" type="email" autocomplete="username" value="{}" required>
<label for="signup-name">Your name</label><input id="signup-name" name="name" autocomplete="name" value="{}">
<label for="signup-password">Password (at least 10 characters)</label><input id="signup-password" name="password" type="password" autocomplete="new-password" minlength="10" required>
"#,
            esc(&f.email),
            esc(&f.name)
        )
    };
    let body = format!(
        r#"<section>{err}<form id="signup-form" class="stack" method="post" action="/signup">{}
{account}<label for="signup-label-name">The label's name</label><input id="signup-label-name" name="label_name" value="{}" required maxlength="100">
<label for="signup-label-slug">The label's id in addresses (lowercase letters, digits and -)</label><input id="signup-label-slug" name="label_slug" value="{}" required maxlength="40" pattern="[a-z0-9][a-z0-9-]*">
<button id="signup-submit" class="primary" type="submit">{}</button></form>
{}</section>"#,
        hidden_csrf(token),
        esc(&f.label_name),
        esc(&f.label_slug),
        if viewer.is_some() {
            "Create the label"
        } else {
            "Create my account and label"
        },
        if viewer.is_some() {
            ""
        } else {
            r#"<p class="note">Have an account? <a href="/login">Sign in</a>.</p>"#
        }
    );
    let title = if viewer.is_some() {
        "A new label"
    } else {
        "Create an account"
    };
    plain_page(
        title,
        viewer.map(|v| (v.user.email.as_str(), v.csrf())),
        &body,
    )
}

fn signup_answer(
    state: &AppState,
    headers: &HeaderMap,
    viewer: Option<&Viewer>,
    f: &SignupForm,
    status: StatusCode,
    error: Option<&str>,
) -> Result<Response, Fail> {
    let (token, cookie) = form_token(state, headers, viewer)?;
    Ok(respond(
        status,
        signup_html(&token, viewer, f, error, state.config.mail.mails()),
        cookie,
    ))
}

/// `GET /signup`: the form (signed in: a new label only).
pub async fn signup_form(
    State(state): State<AppState>,
    headers: HeaderMap,
    viewer: Option<Viewer>,
) -> Result<Response, Fail> {
    if state.config.no_signup {
        return Err(closed());
    }
    signup_answer(
        &state,
        &headers,
        viewer.as_ref(),
        &SignupForm::default(),
        StatusCode::OK,
        None,
    )
}

/// `POST /signup`: the account (signed out) and its label; signs in, to the dashboard.
pub async fn signup_post(
    State(state): State<AppState>,
    Extension(ClientIp(ip)): Extension<ClientIp>,
    headers: HeaderMap,
    viewer: Option<Viewer>,
    Form(f): Form<SignupForm>,
) -> Result<Response, Fail> {
    if state.config.no_signup {
        return Err(closed());
    }
    check_form(&headers, viewer.as_ref(), &f.csrf)?;
    throttle(&state, &format!("signup:{ip}")).await?;
    match signup(&state, &headers, viewer.as_ref(), &ip, &f).await {
        Ok(r) => Ok(r),
        Err(e) if matches!(e.status, 400 | 409) => {
            let status = StatusCode::from_u16(e.status).unwrap_or(StatusCode::BAD_REQUEST);
            signup_answer(
                &state,
                &headers,
                viewer.as_ref(),
                &f,
                status,
                Some(&e.message),
            )
        }
        Err(e) => Err(e),
    }
}

async fn signup(
    state: &AppState,
    headers: &HeaderMap,
    viewer: Option<&Viewer>,
    ip: &str,
    f: &SignupForm,
) -> Result<Response, Fail> {
    if let Some(v) = viewer {
        let row = create_label_for(state, &v.user, &f.label_slug, &f.label_name, ip).await?;
        return Ok(
            Redirect::to(&format!("/t/{}/dashboard", url_encode(&row.slug))).into_response(),
        );
    }
    // Everything is checked before anything is made.
    let email = control::normalize_email(&f.email).map_err(|e| Fail::bad(e.0))?;
    if state.config.mail.mails() {
        request_signup(state, headers, ip, &email).await?;
        return Ok(signup_sent(&email));
    }
    make_account(state, headers, ip, &email, f, None).await
}

/// Makes the account of `email` and its first label from the form, everything checked
/// before anything is made (a sign-up `link`, when the address was proven by one, is
/// used up only then); signs in, to the label's dashboard.
async fn make_account(
    state: &AppState,
    headers: &HeaderMap,
    ip: &str,
    email: &str,
    f: &SignupForm,
    link: Option<&LinkRow>,
) -> Result<Response, Fail> {
    control::check_password_rule(&f.password).map_err(|e| Fail::bad(e.0))?;
    let slug = slug_of(&f.label_slug);
    control::check_slug(&slug).map_err(|e| Fail::bad(e.0))?;
    control::check_label_name(&f.label_name).map_err(|e| Fail::bad(e.0))?;
    // Without a link, the immediate sign-up must say it (nothing else proves the
    // address); with one, only the address's holder sees this.
    if state.control.user_by_email(email).await?.is_some() {
        return Err(Fail::bad(format!(
            "{email} has an account already: sign in, then make another label at /signup"
        )));
    }
    if state.control.tenant(&slug).await?.is_some() || state.control.label_dir(&slug).exists() {
        return Err(Fail::new(
            409,
            "refused",
            format!("the label id {slug:?} is taken; choose another"),
        ));
    }
    if let Some(link) = link {
        if !state.control.use_link(link.id).await? {
            return Err(Fail::not_found(
                "this sign-up link has just been used or has expired; ask for a new one at /signup",
            ));
        }
    }
    let user = state
        .control
        .add_user(email, &f.name, &f.password)
        .await
        .map_err(|e| Fail::bad(e.0))?;
    let how = if link.is_some() {
        "account created by sign-up (address proven by a mailed link)"
    } else {
        "account created by sign-up"
    };
    state
        .control
        .audit(None, &user.email, "signup", how, ip)
        .await?;
    let row = create_label_for(state, &user, &slug, &f.label_name, ip).await?;
    start_session(
        state,
        headers,
        &user,
        ip,
        &format!("/t/{}/dashboard", url_encode(&row.slug)),
    )
    .await
}

#[derive(Debug, Deserialize)]
pub struct LabelBody {
    pub name: String,
    pub slug: String,
}

/// `POST /api/v1/labels`: a label for the signed-in account, which becomes its owner.
pub async fn api_create_label(
    State(state): State<AppState>,
    v: Viewer,
    crate::api::Body(b): crate::api::Body<LabelBody>,
) -> Result<Json<Value>, Fail> {
    if state.config.no_signup {
        return Err(closed());
    }
    throttle(&state, &format!("signup:{}", v.ip)).await?;
    let row = create_label_for(&state, &v.user, &b.slug, &b.name, &v.ip).await?;
    Ok(Json(json!({
        "label": row,
        "role": Role::Owner,
        "url": format!("/t/{}", url_encode(&row.slug)),
    })))
}

/// The answer to a sign-up by mail, the same whether or not the address has an account.
fn signup_sent(email: &str) -> Response {
    let body = format!(
        r#"<section id="signup-sent"><p>A mail is on its way to {}. Open the link in it to finish: it works once, for a day. (If the address has an account here already, the mail says so instead.)</p><p><a href="/login">Sign in</a></p></section>"#,
        esc(email)
    );
    plain_page("Check your mail", None, &body).into_response()
}

/// Mails a sign-up link to an address without an account, or a note that it has one
/// to an address with one (at most as often per address as the throttle lets an
/// address try, silently); audited either way. Mailed off the request's time, so how
/// long the answer takes says nothing either.
async fn request_signup(
    state: &AppState,
    headers: &HeaderMap,
    ip: &str,
    email: &str,
) -> Result<(), Fail> {
    let c = &state.config;
    let key = format!("signup-address:{email}");
    let (n, _, last) = state.control.failure_span(&key, c.throttle_window).await?;
    if crate::throttle::address_wait(c, n, last, control::now()).is_some() {
        state
            .control
            .audit(
                None,
                email,
                "signup_throttled",
                "too many sign-up mails asked for this address: none sent",
                ip,
            )
            .await?;
        return Ok(());
    }
    state.control.record_failure(&[key]).await?;
    let base = base_url(state, headers);
    let (subject, body) = if let Some(user) = state.control.user_by_email(email).await? {
        state
            .control
            .audit(
                None,
                &user.email,
                "signup_existing_account",
                "sign-up asked for an address with an account: told by mail",
                ip,
            )
            .await?;
        (
            "Your backstock account",
            format!(
                "Someone (from {ip}) asked to sign up to backstock with {}, which has an account here already.

To make another label, sign in and open {base}/signup. If you forgot your password, ask for a link to set a new one at {base}/reset.

If it was not you, ignore this mail: nothing was changed.
",
                user.email
            ),
        )
    } else {
        // A newer link replaces the ones not used yet.
        state.control.end_links(LinkKind::Signup, email).await?;
        let (_, token) = state
            .control
            .create_link(
                LinkKind::Signup,
                email,
                None,
                None,
                None,
                email,
                SIGNUP_SECS,
            )
            .await?;
        state
            .control
            .audit(
                None,
                email,
                "signup_link_sent",
                "sign-up link valid 1 day mailed",
                ip,
            )
            .await?;
        (
            "Finish signing up to backstock",
            format!(
                "Someone (from {ip}) asked to sign up to backstock with this address.

Open this link to choose a password and make your label (it works once, for a day):

{base}/signup/{token}

If it was not you, ignore this mail: no account is made.
"
            ),
        )
    };
    let st = state.clone();
    let to = email.to_string();
    tokio::spawn(async move {
        send_or_log(&st, &to, subject, &body).await;
    });
    Ok(())
}

fn signup_link_html(
    csrf: &str,
    token: &str,
    email: &str,
    f: &SignupForm,
    error: Option<&str>,
) -> Html<String> {
    plain_page(
        "Create an account",
        None,
        &format!(
            r#"<section>{}<p>The account for <strong>{}</strong>, and its first label.</p>
<form id="signup-form" class="stack" method="post" action="/signup/{}">{}
<label for="signup-name">Your name</label><input id="signup-name" name="name" autocomplete="name" value="{}">
<label for="signup-password">Password (at least 10 characters)</label><input id="signup-password" name="password" type="password" autocomplete="new-password" minlength="10" required>
<label for="signup-label-name">The label's name</label><input id="signup-label-name" name="label_name" value="{}" required maxlength="100">
<label for="signup-label-slug">The label's id in addresses (lowercase letters, digits and -)</label><input id="signup-label-slug" name="label_slug" value="{}" required maxlength="40" pattern="[a-z0-9][a-z0-9-]*">
<button id="signup-submit" class="primary" type="submit">Create my account and label</button></form></section>"#,
            error.map(error_html).unwrap_or_default(),
            esc(email),
            url_encode(token),
            hidden_csrf(csrf),
            esc(&f.name),
            esc(&f.label_name),
            esc(&f.label_slug),
        ),
    )
}

/// `GET /signup/{token}`: the mailed link's form (name, password, the label).
pub async fn signup_link_form(
    State(state): State<AppState>,
    Path(token): Path<String>,
    headers: HeaderMap,
    viewer: Option<Viewer>,
) -> Result<Response, Fail> {
    if state.config.no_signup {
        return Err(closed());
    }
    let link = valid_link(&state, LinkKind::Signup, &token).await?;
    let (csrf, cookie) = form_token(&state, &headers, viewer.as_ref())?;
    Ok(respond(
        StatusCode::OK,
        signup_link_html(&csrf, &token, &link.email, &SignupForm::default(), None),
        cookie,
    ))
}

/// `POST /signup/{token}`: the account (its address proven by the link) and its
/// label, once; signs in, to the dashboard.
pub async fn signup_link_post(
    State(state): State<AppState>,
    Path(token): Path<String>,
    Extension(ClientIp(ip)): Extension<ClientIp>,
    headers: HeaderMap,
    viewer: Option<Viewer>,
    Form(f): Form<SignupForm>,
) -> Result<Response, Fail> {
    if state.config.no_signup {
        return Err(closed());
    }
    check_form(&headers, viewer.as_ref(), &f.csrf)?;
    throttle(&state, &format!("signup:{ip}")).await?;
    let link = valid_link(&state, LinkKind::Signup, &token).await?;
    match make_account(&state, &headers, &ip, &link.email, &f, Some(&link)).await {
        Ok(r) => Ok(r),
        Err(e) if matches!(e.status, 400 | 409) => {
            let (csrf, cookie) = form_token(&state, &headers, viewer.as_ref())?;
            let status = StatusCode::from_u16(e.status).unwrap_or(StatusCode::BAD_REQUEST);
            Ok(respond(
                status,
                signup_link_html(&csrf, &token, &link.email, &f, Some(&e.message)),
                cookie,
            ))
        }
        Err(e) => Err(e),
    }
}

// ---- invitations ----

#[derive(Debug, Default, Deserialize)]
pub struct InviteBody {
    pub email: String,
    /// Left out or blank: [`Role::LEAST_PRIVILEGED`].
    #[serde(default)]
    pub role: String,
    pub party: Option<String>,
}

/// An invitation made: the link (shown once), what it grants, until when, whether it
/// was mailed.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Invitation {
    pub id: i64,
    pub link: String,
    pub email: String,
    pub role: Role,
    pub party: Option<String>,
    pub expires: String,
    pub mailed: bool,
}

/// Makes an invitation (page and API): the same checks as adding a member directly
/// (role defaults to the least privilege, the party one of the label's), then a
/// one-time link, mailed when `--smtp` is set; audited.
pub async fn invite(
    state: &AppState,
    t: &Tenant,
    headers: &HeaderMap,
    b: &InviteBody,
) -> Result<Invitation, Fail> {
    let role = if b.role.trim().is_empty() {
        Role::LEAST_PRIVILEGED
    } else {
        crate::pages::role_named(&b.role)?
    };
    let email = control::normalize_email(&b.email).map_err(|e| Fail::bad(e.0))?;
    let party = b
        .party
        .as_deref()
        .map(str::trim)
        .filter(|p| !p.is_empty() && role.needs_party());
    if role.needs_party() && party.is_none() {
        return Err(Fail::bad(format!(
            "the {role} role is limited to one {}: pick it under \"Limited to\"",
            role.party_kind()
        )));
    }
    crate::pages::check_party(state, t, role, party).await?;
    let party = match party {
        Some(p) => Some(
            backstock_domain::PartyId::parse(p)
                .map_err(|e| Fail::bad(format!("{}: {e}", role.party_kind())))?
                .to_string(),
        ),
        None => None,
    };
    if let Some(u) = state.control.user_by_email(&email).await? {
        if state.control.membership(u.id, t.slug()).await?.is_some() {
            return Err(Fail::bad(format!(
                "{email} is already a member; change their role instead"
            )));
        }
    }
    let (id, token) = state
        .control
        .create_link(
            LinkKind::Invite,
            &email,
            Some(t.slug()),
            Some(role),
            party.as_deref(),
            &t.viewer.user.email,
            INVITE_SECS,
        )
        .await?;
    let link = format!("{}/invite/{token}", base_url(state, headers));
    let expires = control::timestamp(control::now() + INVITE_SECS);
    let subject = format!("You are invited to {} on backstock", t.row.name);
    let body = format!(
        "{} invites you to {} on backstock as {role}{}.\n\nOpen this link to accept (it works once, until {expires} UTC):\n\n{link}\n\nIf you did not expect this, ignore this mail.\n",
        t.viewer.user.email,
        t.row.name,
        crate::pages::party_note(party.as_deref()),
    );
    let mailed = send_or_log(state, &email, &subject, &body).await;
    t.audit(
        &state.control,
        "invitation_created",
        &format!(
            "{email} as {role}{}, link valid until {expires} UTC; {}",
            crate::pages::party_note(party.as_deref()),
            if mailed {
                "mailed"
            } else {
                "not mailed (no --smtp): shown to the inviter"
            }
        ),
    )
    .await?;
    Ok(Invitation {
        id,
        link,
        email,
        role,
        party,
        expires,
        mailed,
    })
}

/// The Users page's "Invite by link" form and the invitations waiting.
pub async fn invitations_section(
    state: &AppState,
    t: &Tenant,
    role_opts: &str,
    party_opts: &str,
) -> Result<String, Fail> {
    let pending = state.control.pending_invitations(t.slug()).await?;
    let mut rows = String::new();
    for p in &pending {
        rows.push_str(&format!(
            "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            esc(&p.email),
            p.role.map(Role::as_str).unwrap_or(""),
            esc(p.party.as_deref().unwrap_or("")),
            esc(&p.made_by),
            esc(&control::timestamp(p.expires_at)),
        ));
    }
    let waiting = if pending.is_empty() {
        r#"<p class="note" id="invitations-none">No invitation is waiting.</p>"#.to_string()
    } else {
        format!(
            r#"<table id="table-invitations"><thead><tr><th>email</th><th>role</th><th>limited to</th><th>invited by</th><th>link works until (UTC)</th></tr></thead><tbody>{rows}</tbody></table>"#
        )
    };
    Ok(format!(
        r#"<section><h2>Invite by link</h2><p class="note">A one-time link, valid 7 days{}: they set their own password.</p><form id="link-invite-form" class="stack" method="post" action="/t/{}/invitations">{}
<label for="link-invite-email">Email</label><input id="link-invite-email" name="email" type="email" required>
<label for="link-invite-role">Role</label><select id="link-invite-role" name="role">{role_opts}</select>
<label for="link-invite-party">Limited to (an artist's payee, a distributor member's distributor)</label><select id="link-invite-party" name="party">{party_opts}</select>
<button id="link-invite-submit" class="primary" type="submit">Make the link</button></form>
<h3>Waiting</h3>{waiting}</section>"#,
        if state.config.mail.mails() {
            ", mailed to them"
        } else {
            ", shown here to hand on"
        },
        url_encode(t.slug()),
        hidden_csrf(t.viewer.csrf()),
    ))
}

/// `POST /t/{tenant}/invitations`: the link, shown once.
pub async fn invitation_post(
    State(state): State<AppState>,
    t: Tenant,
    headers: HeaderMap,
    Form(b): Form<InviteBody>,
) -> Result<Html<String>, Fail> {
    let i = invite(&state, &t, &headers, &b).await?;
    let body = format!(
        r#"<section id="invitation"><p>{} is invited as {}{}. {}</p>
<label for="invite-link">The link (it works once, until {} UTC; it is not shown again)</label>
<input id="invite-link" readonly value="{}" size="80">
<p><a href="/t/{}/users">Back to the members</a></p></section>"#,
        esc(&i.email),
        i.role,
        esc(&crate::pages::party_note(i.party.as_deref())),
        if i.mailed {
            "It has been mailed to them."
        } else {
            "Hand it to them: no mail server is set (serve --smtp)."
        },
        esc(&i.expires),
        esc(&i.link),
        url_encode(t.slug()),
    );
    Ok(page("Invitation", Some(&t), &body))
}

/// `POST /api/v1/t/{tenant}/invitations`.
pub async fn api_invite(
    State(state): State<AppState>,
    t: Tenant,
    headers: HeaderMap,
    crate::api::Body(b): crate::api::Body<InviteBody>,
) -> Result<Json<Value>, Fail> {
    let i = invite(&state, &t, &headers, &b).await?;
    Ok(Json(json!({ "invitation": i })))
}

/// `GET /api/v1/t/{tenant}/invitations`: those waiting (never their links).
pub async fn api_invitations(
    State(state): State<AppState>,
    t: Tenant,
) -> Result<Json<Value>, Fail> {
    let p = state.control.pending_invitations(t.slug()).await?;
    let list: Vec<Value> = p
        .iter()
        .map(|r| {
            json!({
                "id": r.id, "email": r.email, "role": r.role, "party": r.party,
                "invited_by": r.made_by, "expires": control::timestamp(r.expires_at),
            })
        })
        .collect();
    Ok(Json(json!({ "invitations": list })))
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct AcceptForm {
    pub csrf: String,
    pub name: String,
    pub password: String,
    pub password2: String,
}

async fn accept_html(
    state: &AppState,
    headers: &HeaderMap,
    viewer: Option<&Viewer>,
    token: &str,
    link: &LinkRow,
    f: &AcceptForm,
    refused: Option<(StatusCode, &str)>,
) -> Result<Response, Fail> {
    let (status, error) = match refused {
        Some((s, e)) => (s, Some(e)),
        None => (StatusCode::OK, None),
    };
    let (csrf, cookie) = form_token(state, headers, viewer)?;
    let label = match &link.tenant {
        Some(slug) => state
            .control
            .tenant(slug)
            .await?
            .map(|t| t.name)
            .unwrap_or_else(|| slug.clone()),
        None => String::new(),
    };
    let role = link.role.map(Role::as_str).unwrap_or("member");
    let has_account = state.control.user_by_email(&link.email).await?.is_some();
    let fields = if has_account {
        r#"<p>You have an account with this address: give its password to accept.</p>
<label for="accept-password">Your password</label><input id="accept-password" name="password" type="password" autocomplete="current-password" required>"#
            .to_string()
    } else {
        format!(
            r#"<label for="accept-name">Your name</label><input id="accept-name" name="name" autocomplete="name" value="{}">
<label for="accept-password">Choose a password (at least 10 characters)</label><input id="accept-password" name="password" type="password" autocomplete="new-password" minlength="10" required>
<label for="accept-password2">The password again</label><input id="accept-password2" name="password2" type="password" autocomplete="new-password" minlength="10" required>"#,
            esc(&f.name)
        )
    };
    let body = format!(
        r#"<section>{}<p id="invite-what">{} invites <strong>{}</strong> to <strong>{}</strong> as {role}{}.</p>
<form id="accept-form" class="stack" method="post" action="/invite/{}">{}
{fields}
<button id="accept-submit" class="primary" type="submit">Accept and sign in</button></form></section>"#,
        error.map(error_html).unwrap_or_default(),
        esc(&link.made_by),
        esc(&link.email),
        esc(&label),
        esc(&crate::pages::party_note(link.party.as_deref())),
        url_encode(token),
        hidden_csrf(&csrf),
    );
    Ok(respond(
        status,
        plain_page(
            "Invitation",
            viewer.map(|v| (v.user.email.as_str(), v.csrf())),
            &body,
        ),
        cookie,
    ))
}

/// `GET /invite/{token}`.
pub async fn invite_page(
    State(state): State<AppState>,
    Path(token): Path<String>,
    headers: HeaderMap,
    viewer: Option<Viewer>,
) -> Result<Response, Fail> {
    let link = valid_link(&state, LinkKind::Invite, &token).await?;
    accept_html(
        &state,
        &headers,
        viewer.as_ref(),
        &token,
        &link,
        &AcceptForm::default(),
        None,
    )
    .await
}

/// `POST /invite/{token}`: a new account sets its password, an existing one gives
/// its own (checked and throttled as a sign-in); then the membership, once.
pub async fn accept_post(
    State(state): State<AppState>,
    Extension(ClientIp(ip)): Extension<ClientIp>,
    Path(token): Path<String>,
    headers: HeaderMap,
    viewer: Option<Viewer>,
    Form(f): Form<AcceptForm>,
) -> Result<Response, Fail> {
    check_form(&headers, viewer.as_ref(), &f.csrf)?;
    let link = valid_link(&state, LinkKind::Invite, &token).await?;
    let existing = state.control.user_by_email(&link.email).await?;
    let checked = match &existing {
        Some(_) => crate::pages::sign_in(&state, &ip, &link.email, &f.password)
            .await
            .map(|_| ())
            .map_err(|(e, _)| e),
        None => new_password(&f.password, &f.password2),
    };
    if let Err(e) = checked {
        if e.status >= 500 {
            return Err(e);
        }
        let status = StatusCode::from_u16(e.status).unwrap_or(StatusCode::BAD_REQUEST);
        return accept_html(
            &state,
            &headers,
            viewer.as_ref(),
            &token,
            &link,
            &f,
            Some((status, &e.message)),
        )
        .await;
    }
    let Some(slug) = link.tenant.clone() else {
        return Err(link_refusal(LinkKind::Invite, &LinkState::Unknown));
    };
    // Used once: whoever comes second finds it used.
    if !state.control.use_link(link.id).await? {
        return Err(link_refusal(LinkKind::Invite, &LinkState::Used(link)));
    }
    let user = match existing {
        Some(u) => u,
        None => {
            let u = state
                .control
                .add_user(&link.email, &f.name, &f.password)
                .await
                .map_err(|e| Fail::bad(e.0))?;
            state
                .control
                .audit(
                    Some(&slug),
                    &u.email,
                    "account_created",
                    "by accepting an invitation",
                    &ip,
                )
                .await?;
            u
        }
    };
    let role = link.role.unwrap_or(Role::LEAST_PRIVILEGED);
    // A member already (e.g. made one directly meanwhile) keeps the role they have:
    // an old link never demotes anyone.
    let detail = match state.control.membership(user.id, &slug).await? {
        Some(m) => format!(
            "{} accepted an invitation as {role} but is {} already (kept)",
            user.email, m.role
        ),
        None => {
            state
                .control
                .set_membership(user.id, &slug, role, link.party.as_deref())
                .await
                .map_err(|e| Fail::bad(e.0))?;
            format!(
                "{} joined as {role}{} (invited by {})",
                user.email,
                crate::pages::party_note(link.party.as_deref()),
                link.made_by
            )
        }
    };
    state
        .control
        .audit(
            Some(&slug),
            &user.email,
            "invitation_accepted",
            &detail,
            &ip,
        )
        .await?;
    start_session(
        &state,
        &headers,
        &user,
        &ip,
        &format!("/t/{}", url_encode(&slug)),
    )
    .await
}

/// A new password as typed twice: the rule, and the two the same.
fn new_password(p: &str, again: &str) -> Result<(), Fail> {
    control::check_password_rule(p).map_err(|e| Fail::bad(e.0))?;
    if !control::same(p, again) {
        return Err(Fail::bad(
            "the two passwords differ; type the same one twice",
        ));
    }
    Ok(())
}

// ---- password reset ----

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct ResetForm {
    pub csrf: String,
    pub email: String,
}

fn reset_html(token: &str, email: &str, error: Option<&str>) -> Html<String> {
    plain_page(
        "Forgot your password?",
        None,
        &format!(
            r#"<section>{}<p>Give your account's email: a link to set a new password is sent to it (it works once, for an hour).</p>
<form id="reset-form" class="stack" method="post" action="/reset">{}
<label for="reset-email">Email</label><input id="reset-email" name="email" type="email" autocomplete="username" value="{}" required>
<button id="reset-submit" class="primary" type="submit">Send the link</button></form></section>"#,
            error.map(error_html).unwrap_or_default(),
            hidden_csrf(token),
            esc(email)
        ),
    )
}

/// `GET /reset`.
pub async fn reset_form(
    State(state): State<AppState>,
    headers: HeaderMap,
    viewer: Option<Viewer>,
) -> Result<Response, Fail> {
    let (token, cookie) = form_token(&state, &headers, viewer.as_ref())?;
    Ok(respond(
        StatusCode::OK,
        reset_html(&token, "", None),
        cookie,
    ))
}

/// `POST /reset`: the same answer whether or not the account exists; the link is
/// made (and mailed off the request's time) only for an account.
pub async fn reset_post(
    State(state): State<AppState>,
    Extension(ClientIp(ip)): Extension<ClientIp>,
    headers: HeaderMap,
    viewer: Option<Viewer>,
    Form(f): Form<ResetForm>,
) -> Result<Response, Fail> {
    check_form(&headers, viewer.as_ref(), &f.csrf)?;
    throttle(&state, &format!("reset:{ip}")).await?;
    let email = match control::normalize_email(&f.email) {
        Ok(e) => e,
        Err(e) => {
            let (token, cookie) = form_token(&state, &headers, viewer.as_ref())?;
            return Ok(respond(
                StatusCode::BAD_REQUEST,
                reset_html(&token, &f.email, Some(&e.0)),
                cookie,
            ));
        }
    };
    request_reset(&state, &headers, &ip, &email).await?;
    let body = format!(
        r#"<section id="reset-sent"><p>If {} has an account here, a link to set a new password is on its way to it. It works once, for an hour.</p><p><a href="/login">Sign in</a></p></section>"#,
        esc(&email)
    );
    Ok(plain_page("Check your mail", None, &body).into_response())
}

/// Makes and sends a reset link when the account exists (at most as often per
/// account as the throttle lets an address try); audited either way.
async fn request_reset(
    state: &AppState,
    headers: &HeaderMap,
    ip: &str,
    email: &str,
) -> Result<(), Fail> {
    let Some(user) = state.control.user_by_email(email).await? else {
        state
            .control
            .audit(
                None,
                email,
                "password_reset_requested",
                "no such account: nothing sent",
                ip,
            )
            .await?;
        return Ok(());
    };
    let c = &state.config;
    let key = format!("reset-account:{}", user.email);
    let (n, _, last) = state.control.failure_span(&key, c.throttle_window).await?;
    if crate::throttle::address_wait(c, n, last, control::now()).is_some() {
        state
            .control
            .audit(
                None,
                &user.email,
                "password_reset_throttled",
                "too many links asked for this account: none sent",
                ip,
            )
            .await?;
        return Ok(());
    }
    state.control.record_failure(&[key]).await?;
    // A newer link replaces the ones not used yet.
    state
        .control
        .end_links(LinkKind::Reset, &user.email)
        .await?;
    let (_, token) = state
        .control
        .create_link(
            LinkKind::Reset,
            &user.email,
            None,
            None,
            None,
            &user.email,
            RESET_SECS,
        )
        .await?;
    let link = format!("{}/reset/{token}", base_url(state, headers));
    state
        .control
        .audit(
            None,
            &user.email,
            "password_reset_requested",
            &format!(
                "link valid 1 hour; {}",
                if c.mail.mails() {
                    "mailed"
                } else {
                    "written to the server log (no --smtp)"
                }
            ),
            ip,
        )
        .await?;
    let body = format!(
        "Someone (from {ip}) asked to set a new password for your backstock account {}.

Open this link to set one (it works once, for an hour):

{link}

Setting a new password signs you out everywhere and ends your API tokens. If it was not you, ignore this mail: your password stays as it is.
",
        user.email
    );
    // Mailed off the request's time, so how long the answer takes says nothing.
    let st = state.clone();
    let to = user.email.clone();
    tokio::spawn(async move {
        send_or_log(&st, &to, "Set a new backstock password", &body).await;
    });
    Ok(())
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct NewPasswordForm {
    pub csrf: String,
    pub password: String,
    pub password2: String,
}

fn new_password_html(csrf: &str, token: &str, email: &str, error: Option<&str>) -> Html<String> {
    plain_page(
        "Set a new password",
        None,
        &format!(
            r#"<section>{}<p>A new password for <strong>{}</strong>. Setting it signs the account out everywhere and ends its API tokens.</p>
<form id="new-password-form" class="stack" method="post" action="/reset/{}">{}
<label for="new-password">New password (at least 10 characters)</label><input id="new-password" name="password" type="password" autocomplete="new-password" minlength="10" required>
<label for="new-password2">The password again</label><input id="new-password2" name="password2" type="password" autocomplete="new-password" minlength="10" required>
<button id="new-password-submit" class="primary" type="submit">Set the password and sign in</button></form></section>"#,
            error.map(error_html).unwrap_or_default(),
            esc(email),
            url_encode(token),
            hidden_csrf(csrf),
        ),
    )
}

/// `GET /reset/{token}`.
pub async fn new_password_form(
    State(state): State<AppState>,
    Path(token): Path<String>,
    headers: HeaderMap,
    viewer: Option<Viewer>,
) -> Result<Response, Fail> {
    let link = valid_link(&state, LinkKind::Reset, &token).await?;
    let (csrf, cookie) = form_token(&state, &headers, viewer.as_ref())?;
    Ok(respond(
        StatusCode::OK,
        new_password_html(&csrf, &token, &link.email, None),
        cookie,
    ))
}

/// `POST /reset/{token}`: the new password (every session and API token of the
/// account ended), then signed in afresh.
pub async fn new_password_post(
    State(state): State<AppState>,
    Extension(ClientIp(ip)): Extension<ClientIp>,
    Path(token): Path<String>,
    headers: HeaderMap,
    viewer: Option<Viewer>,
    Form(f): Form<NewPasswordForm>,
) -> Result<Response, Fail> {
    check_form(&headers, viewer.as_ref(), &f.csrf)?;
    let link = valid_link(&state, LinkKind::Reset, &token).await?;
    if let Err(e) = new_password(&f.password, &f.password2) {
        let (csrf, cookie) = form_token(&state, &headers, viewer.as_ref())?;
        return Ok(respond(
            StatusCode::BAD_REQUEST,
            new_password_html(&csrf, &token, &link.email, Some(&e.message)),
            cookie,
        ));
    }
    let Some(user) = state.control.user_by_email(&link.email).await? else {
        return Err(link_refusal(LinkKind::Reset, &LinkState::Unknown));
    };
    if !state.control.use_link(link.id).await? {
        return Err(link_refusal(LinkKind::Reset, &LinkState::Used(link)));
    }
    state
        .control
        .set_password(user.id, &f.password)
        .await
        .map_err(|e| Fail::bad(e.0))?;
    // The link proves the mailbox: the account's failed sign-ins no longer lock it.
    state
        .control
        .clear_failures(&format!("account:{}", user.email))
        .await?;
    state
        .control
        .audit(
            None,
            &user.email,
            "password_reset",
            "a new password set by a reset link; every session and API token ended",
            &ip,
        )
        .await?;
    start_session(&state, &headers, &user, &ip, "/").await
}
