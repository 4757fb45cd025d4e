//! The Books page and its API: the months closed (close one, reopen one with a reason),
//! the log of who closed and reopened what, the accountant's exports and the owner's
//! "download a backup". The rules are `backstock_app::books`; every close and reopen is
//! audited.
//!
//! Who: reading needs `read_label`; closing `close_books` (owner, bookkeeper);
//! reopening `manage` (the owner); exports `export`; the backup `manage`.
//!
//! Stable element ids: `books`, `closed-months`, `books-log`, `close-form`,
//! `reopen-form`, `export-form`, `backup-download`, `books-result`.

use crate::api::Body;
use crate::auth::Tenant;
use crate::html::{esc, page, url_encode};
use crate::roles::Perm;
use crate::{AppState, Fail};
use axum::extract::{Form, State};
use axum::response::Html;
use axum::Json;
use backstock_app::books::{self, Month};
use serde::Deserialize;
use serde_json::{json, Value};

pub const CLOSE_FIELDS: &[(&str, &str)] = &[("month", "YYYY-MM: a month that has ended")];
pub const REOPEN_FIELDS: &[(&str, &str)] = &[
    ("month", "YYYY-MM: a closed month"),
    (
        "reason",
        "why it is reopened (required; logged and audited)",
    ),
];

#[derive(Deserialize)]
pub struct MonthForm {
    pub month: Option<String>,
    pub reason: Option<String>,
}

fn month_of(f: &MonthForm) -> Result<Month, Fail> {
    let m = f.month.as_deref().unwrap_or("").trim();
    if m.is_empty() {
        return Err(Fail::bad("month: which one? (YYYY-MM)"));
    }
    Ok(Month::parse(m)?)
}

async fn do_close(state: &AppState, t: &Tenant, f: &MonthForm) -> Result<(bool, String), Fail> {
    let m = month_of(f)?;
    let r = books::close(t.store(), m, &t.viewer.user.email).await?;
    if !r.new {
        return Ok((false, format!("{m} was closed already; nothing changed.")));
    }
    t.audit(&state.control, "books_closed", &m.to_string())
        .await?;
    Ok((
        true,
        format!(
            "Closed {m}: entries dated on or before {} are refused from now on.",
            m.last_day()
        ),
    ))
}

async fn do_reopen(state: &AppState, t: &Tenant, f: &MonthForm) -> Result<String, Fail> {
    let m = month_of(f)?;
    let reason = f.reason.as_deref().unwrap_or("");
    let r = books::reopen(t.store(), m, &t.viewer.user.email, reason).await?;
    t.audit(
        &state.control,
        "books_reopened",
        &format!("{m}: {}", reason.trim()),
    )
    .await?;
    Ok(r.said(reason))
}

async fn state_json(t: &Tenant) -> Result<Value, Fail> {
    let closed: Vec<String> = books::closed(t.store())
        .await?
        .iter()
        .map(|m| m.to_string())
        .collect();
    let log = books::log(t.store()).await?;
    Ok(json!({"closed": closed, "log": log}))
}

async fn render(t: &Tenant, result: Option<&str>) -> Result<Html<String>, Fail> {
    let s = url_encode(t.slug());
    let csrf = format!(
        r#"<input type="hidden" name="csrf" value="{}">"#,
        esc(t.viewer.csrf())
    );
    let closed = books::closed(t.store()).await?;
    let log = books::log(t.store()).await?;
    let mut b = String::from(r#"<section id="books">"#);
    if let Some(r) = result {
        b.push_str(&format!(
            r#"<p id="books-result" class="okbox">{}</p>"#,
            esc(&crate::format::Locale::new(&t.row.locale, &t.row.currency).sentence(r))
        ));
    }
    b.push_str(&format!(
        r#"<h2>Closed months</h2><p id="closed-months">{}</p><p>Entries dated into a closed month, or before it, are refused; its reports and exports never change. An owner can reopen a month with a reason.</p>"#,
        if closed.is_empty() {
            "None yet.".to_string()
        } else {
            esc(&closed.iter().map(|m| m.to_string()).collect::<Vec<_>>().join(", "))
        }
    ));
    if t.may(Perm::CloseBooks) {
        b.push_str(&format!(
            r#"<form id="close-form" class="stack" method="post" action="/t/{s}/books/close">{csrf}<label for="close-month">Close month (YYYY-MM)</label><input id="close-month" name="month" placeholder="2016-05" required><button class="primary" type="submit">Close the month</button></form>"#
        ));
    }
    if t.may(Perm::Manage) {
        b.push_str(&format!(
            r#"<form id="reopen-form" class="stack" method="post" action="/t/{s}/books/reopen">{csrf}<label for="reopen-month">Reopen month (YYYY-MM)</label><input id="reopen-month" name="month" required><label for="reopen-reason">Why</label><input id="reopen-reason" name="reason" required><button class="primary" type="submit">Reopen</button></form>"#
        ));
    }
    if !log.is_empty() {
        b.push_str(r#"<h2>Log</h2><table id="books-log"><thead><tr><th>When</th><th>What</th><th>Month</th><th>Who</th><th>Why</th></tr></thead><tbody>"#);
        for a in &log {
            b.push_str(&format!(
                "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
                esc(&a.at),
                esc(&a.action),
                a.month,
                esc(&a.by),
                esc(&a.reason)
            ));
        }
        b.push_str("</tbody></table>");
    }
    if t.may(Perm::Export) {
        b.push_str(&format!(
            r#"<h2>For the accountant</h2><form id="export-form" class="stack" method="get" action="/api/v1/t/{s}/export/beancount"><label for="export-from">From</label><input id="export-from" name="from" type="date" required><label for="export-to">To</label><input id="export-to" name="to" type="date" required><button class="primary" type="submit">beancount</button> <button class="primary" type="submit" formaction="/api/v1/t/{s}/export/xero">Xero</button> <button class="primary" type="submit" formaction="/api/v1/t/{s}/export/quickbooks">QuickBooks</button> <button class="primary" type="submit" formaction="/api/v1/t/{s}/export/csv-journal">CSV journal</button></form>"#
        ));
    }
    if t.may(Perm::Manage) {
        b.push_str(&format!(
            r#"<h2>Backup</h2><p><a id="backup-download" href="/t/{s}/backup">Download a backup</a> — the label's whole store in one file; restore it with <code>backstock restore FILE</code>.</p>"#
        ));
    }
    b.push_str("</section>");
    Ok(page("Books", Some(t), &b))
}

pub async fn page_get(t: Tenant) -> Result<Html<String>, Fail> {
    render(&t, None).await
}

pub async fn close_post(
    State(state): State<AppState>,
    t: Tenant,
    Form(f): Form<MonthForm>,
) -> Result<Html<String>, Fail> {
    let (_, words) = do_close(&state, &t, &f).await?;
    render(&t, Some(&words)).await
}

pub async fn reopen_post(
    State(state): State<AppState>,
    t: Tenant,
    Form(f): Form<MonthForm>,
) -> Result<Html<String>, Fail> {
    let words = do_reopen(&state, &t, &f).await?;
    render(&t, Some(&words)).await
}

pub async fn api_get(t: Tenant) -> Result<Json<Value>, Fail> {
    Ok(Json(state_json(&t).await?))
}

pub async fn api_close(
    State(state): State<AppState>,
    t: Tenant,
    Body(f): Body<MonthForm>,
) -> Result<Json<Value>, Fail> {
    let (new, words) = do_close(&state, &t, &f).await?;
    let mut v = state_json(&t).await?;
    v["recorded"] = json!(new);
    v["message"] = json!(words);
    Ok(Json(v))
}

pub async fn api_reopen(
    State(state): State<AppState>,
    t: Tenant,
    Body(f): Body<MonthForm>,
) -> Result<Json<Value>, Fail> {
    let words = do_reopen(&state, &t, &f).await?;
    let mut v = state_json(&t).await?;
    v["message"] = json!(words);
    Ok(Json(v))
}
