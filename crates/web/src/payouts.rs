//! The Payouts page and its API (issue 14 item 5): what is payable to each payee, pay
//! one payee or a whole royalty run (owner, staff: `pay`), the bank's payout file, the
//! year-end CSV for 1099 preparation, tax forms on file; and for an artist, the
//! remittance advice — each payment made to their own payee (date, amount,
//! reference), never another's. The rules are `backstock_app::payouts`; every payment
//! is audited.
//!
//! Who: the page and `GET /api/v1/t/{tenant}/payouts` need `statements` (an artist sees
//! only their payee's payments); paying, the payout file and tax forms need `pay`; the
//! year-end CSV `read_label`.
//!
//! Stable element ids: `payouts`, `payables`, `pay-form`, `run-form`, `tax-form`,
//! `payouts-list`, `remittance`, `payouts-result`, `payouts-error`, `payout-file`,
//! `year-end-form`, `pay-submit`, `run-submit`, `tax-submit`.

use crate::api::Body;
use crate::auth::{Scope, Tenant};
use crate::format::Locale;
use crate::html::{esc, page, url_encode};
use crate::roles::Perm;
use crate::{AppState, Fail};
use axum::extract::{Form, Query, State};
use axum::http::{header, StatusCode};
use axum::response::{Html, IntoResponse, Response};
use axum::Json;
use backstock_app::payouts::{self, Paid, PayoutRequest, RunPaid};
use backstock_domain::Date;
use serde::Deserialize;
use serde_json::{json, Value};
use std::collections::HashMap;

pub const PAY_FIELDS: &[(&str, &str)] = &[
    ("payee", "the payee's id (payees.csv)"),
    (
        "amount",
        "the amount paid, e.g. 123.45 (at most what is payable)",
    ),
    ("currency", "ISO 4217, e.g. USD"),
    (
        "on",
        "YYYY-MM-DD: the day it was paid (default: the label's today)",
    ),
    (
        "reference",
        "the bank's or the label's reference (optional)",
    ),
];
pub const RUN_FIELDS: &[(&str, &str)] = &[
    ("period", "a royalty period run: 2016H1, 2016Q2, 2016-05"),
    (
        "on",
        "YYYY-MM-DD: the day it was paid (default: the label's today)",
    ),
];
pub const API_FIELDS: &[(&str, &str)] = &[
    ("payee", "one payment: the payee's id"),
    ("amount", "one payment: the amount, e.g. 123.45"),
    ("currency", "one payment: ISO 4217"),
    ("reference", "one payment: a reference (optional)"),
    (
        "period",
        "instead of a payee: pay everyone this royalty run made payable",
    ),
    (
        "on",
        "YYYY-MM-DD: the day it was paid (default: the label's today)",
    ),
];
pub const TAX_FORM_FIELDS: &[(&str, &str)] = &[
    ("payee", "the payee's id"),
    ("form", "w9 or w8ben"),
    (
        "received",
        "YYYY-MM-DD: the day it was received (default: today)",
    ),
];
pub const FILE_QUERY: &[(&str, &str)] = &[
    (
        "period",
        "the payments of this royalty run (else: all payments made `on`)",
    ),
    ("on", "YYYY-MM-DD: the payments made that day"),
];
pub const YEAR_QUERY: &[(&str, &str)] = &[("year", "the calendar year, e.g. 2016")];

/// A payment or a run, as typed in a form or sent as JSON.
#[derive(Deserialize, Default, Clone)]
pub struct PayForm {
    pub payee: Option<String>,
    pub amount: Option<String>,
    pub currency: Option<String>,
    pub on: Option<String>,
    pub reference: Option<String>,
    pub period: Option<String>,
}

#[derive(Deserialize, Default, Clone)]
pub struct TaxForm {
    pub payee: Option<String>,
    pub form: Option<String>,
    pub received: Option<String>,
}

fn locale(t: &Tenant) -> Locale {
    Locale::new(&t.row.locale, &t.row.currency)
}

fn text(v: &Option<String>) -> &str {
    v.as_deref().map(str::trim).unwrap_or("")
}

fn date_of(field: &str, v: &Option<String>) -> Result<Option<Date>, Fail> {
    let s = text(v);
    if s.is_empty() {
        return Ok(None);
    }
    Date::parse(s)
        .map(Some)
        .map_err(|e| Fail::bad(format!("{field}: {e}")))
}

/// The payee an artist is limited to (`None`: the whole label).
fn own_payee(t: &Tenant) -> Option<&str> {
    match &t.scope {
        Scope::Payee(p) => Some(p.as_str()),
        _ => None,
    }
}

async fn do_pay(state: &AppState, t: &Tenant, f: &PayForm) -> Result<Paid, Fail> {
    let req = PayoutRequest {
        payee: text(&f.payee).to_string(),
        amount: text(&f.amount).to_string(),
        currency: text(&f.currency).to_string(),
        on: date_of("on", &f.on)?,
        reference: f.reference.clone(),
    };
    if req.payee.is_empty() || req.amount.is_empty() || req.currency.is_empty() {
        return Err(Fail::bad(
            "payee, amount and currency are needed (e.g. june-okafor, 123.45, USD)",
        ));
    }
    let p = payouts::record(t.store(), &req, &t.viewer.user.email).await?;
    if p.new {
        t.audit(
            &state.control,
            "payout_recorded",
            &format!("{} {} ({})", p.payee, p.amount, p.entry_id),
        )
        .await?;
    }
    Ok(p)
}

async fn do_run(state: &AppState, t: &Tenant, f: &PayForm) -> Result<RunPaid, Fail> {
    let period = text(&f.period);
    if period.is_empty() {
        return Err(Fail::bad("period: which royalty run? (e.g. 2016H1)"));
    }
    let r = payouts::pay_run(
        t.store(),
        period,
        date_of("on", &f.on)?,
        &t.viewer.user.email,
    )
    .await?;
    if !r.paid.is_empty() {
        t.audit(
            &state.control,
            "payout_run",
            &format!("{}: {} payment(s)", r.period, r.paid.len()),
        )
        .await?;
    }
    Ok(r)
}

fn paid_sentence(l: &Locale, p: &Paid) -> String {
    format!(
        "{} {} to {} ({}) on {}{}.",
        if p.new {
            "Paid"
        } else {
            "Already recorded: paid"
        },
        l.money(p.amount),
        p.name,
        p.payee,
        l.date(p.on),
        if p.reference.is_empty() {
            String::new()
        } else {
            format!(", reference {}", p.reference)
        }
    )
}

fn run_sentence(l: &Locale, r: &RunPaid) -> String {
    let mut s = format!(
        "{}: {} payment(s) recorded now, {} recorded before.",
        r.period,
        r.paid.len(),
        r.already.len()
    );
    for p in &r.paid {
        s.push('\n');
        s.push_str(&paid_sentence(l, p));
    }
    for n in &r.not_paid {
        s.push_str(&format!(
            "\nNot paid: {} in {}: {}",
            n.payee,
            n.currency.code(),
            n.reason
        ));
    }
    s
}

/// The page. `result`: what was just done; `error`: a refusal, with the form as typed.
async fn render(
    t: &Tenant,
    result: Option<&str>,
    error: Option<(&str, &PayForm)>,
    run_period: Option<&str>,
) -> Result<Html<String>, Fail> {
    let l = locale(t);
    let s = url_encode(t.slug());
    let own = own_payee(t);
    let list = payouts::payouts(t.store(), own, None).await?;
    let mut b = String::from(r#"<section id="payouts">"#);
    if let Some(r) = result {
        b.push_str(&format!(
            r#"<p id="payouts-result" class="okbox">{}</p>"#,
            esc(&l.sentence(r))
        ));
    }
    if let Some(p) = run_period {
        b.push_str(&format!(
            r#"<p><a id="payout-file" href="/t/{s}/payouts/file.csv?period={}">Download the payout file for the bank ({})</a></p>"#,
            url_encode(p),
            esc(p)
        ));
    }
    if let Some((e, _)) = error {
        b.push_str(&format!(
            r#"<p id="payouts-error" class="warnbox">{}</p>"#,
            esc(&l.sentence(e))
        ));
    }
    if let Some(payee) = own {
        // The artist's remittance advice: each payment to their own payee.
        b.push_str(&format!(
            r#"<h2>Remittance advice</h2><p>Payments made to {} (payee <code>{}</code>).</p>"#,
            esc(&t.viewer.user.email),
            esc(payee)
        ));
        if list.is_empty() {
            b.push_str(r#"<p id="remittance">No payments yet.</p>"#);
        } else {
            b.push_str(r#"<table id="remittance"><thead><tr><th>Date</th><th class="num">Amount</th><th>Reference</th><th>For</th></tr></thead><tbody>"#);
            for p in &list {
                b.push_str(&format!(
                    r#"<tr><td>{}</td><td class="num">{}</td><td>{}</td><td>{}</td></tr>"#,
                    l.date(p.on),
                    l.money(p.amount),
                    esc(&p.reference),
                    esc(&p
                        .period
                        .clone()
                        .map(|p| format!("royalties {p}"))
                        .unwrap_or_default())
                ));
            }
            b.push_str("</tbody></table>");
        }
        b.push_str("</section>");
        return Ok(page("Remittance advice", Some(t), &b));
    }

    let payees = payouts::payees(t.store()).await?;
    let payables = payouts::payables(t.store()).await?;
    let forms = payouts::tax_forms(t.store()).await?;
    b.push_str(r#"<h2>Payees</h2><table id="payables"><thead><tr><th>Payee</th><th>Name</th><th class="num">Payable now</th><th>Tax form on file</th></tr></thead><tbody>"#);
    for (id, p) in &payees {
        let owed: Vec<String> = payables
            .iter()
            .filter(|((payee, _), m)| payee == id && m.minor() != 0)
            .map(|(_, m)| l.money(*m))
            .collect();
        b.push_str(&format!(
            r#"<tr><td>{}</td><td>{}</td><td class="num">{}</td><td>{}</td></tr>"#,
            esc(id),
            esc(&p.name),
            if owed.is_empty() {
                "—".to_string()
            } else {
                esc(&owed.join(", "))
            },
            match forms.get(id) {
                Some((on, f)) => format!("{} (received {})", f.label(), esc(&l.date(*on))),
                None => "none".to_string(),
            }
        ));
    }
    if payees.is_empty() {
        b.push_str(r#"<tr><td colspan="4">No payees on file (import payees.csv).</td></tr>"#);
    }
    b.push_str("</tbody></table>");
    if t.may(Perm::Pay) {
        let csrf = format!(
            r#"<input type="hidden" name="csrf" value="{}">"#,
            esc(t.viewer.csrf())
        );
        let kept = error.map(|(_, f)| f.clone()).unwrap_or_default();
        let v = |o: &Option<String>| esc(text(o));
        let options: String = payees
            .values()
            .map(|p| {
                let id = p.payee.to_string();
                format!(
                    r#"<option value="{}"{}>{} ({})</option>"#,
                    esc(&id),
                    if text(&kept.payee) == id {
                        " selected"
                    } else {
                        ""
                    },
                    esc(&p.name),
                    esc(&id)
                )
            })
            .collect();
        b.push_str(&format!(
            r#"<h2>Pay a royalty run</h2><p>Pays everyone the run made payable (at or above their minimum payout) what is not paid yet.</p><form id="run-form" class="stack" method="post" action="/t/{s}/payouts/run">{csrf}<label for="run-period">Period</label><input id="run-period" name="period" placeholder="2016H1" value="{}" required><label for="run-on">Paid on</label><input id="run-on" name="on" type="date" value="{}"><button id="run-submit" class="primary" type="submit">Pay the run</button></form>"#,
            v(&kept.period),
            v(&kept.on)
        ));
        b.push_str(&format!(
            r#"<h2>Pay one payee</h2><form id="pay-form" class="stack" method="post" action="/t/{s}/payouts/pay">{csrf}<label for="pay-payee">Payee</label><select id="pay-payee" name="payee" required>{options}</select><label for="pay-amount">Amount</label><input id="pay-amount" name="amount" placeholder="123.45" value="{}" required><label for="pay-currency">Currency</label><input id="pay-currency" name="currency" value="{}" required><label for="pay-on">Paid on</label><input id="pay-on" name="on" type="date" value="{}"><label for="pay-reference">Reference</label><input id="pay-reference" name="reference" value="{}"><button id="pay-submit" class="primary" type="submit">Record the payment</button></form>"#,
            v(&kept.amount),
            if text(&kept.currency).is_empty() {
                esc(&t.row.currency)
            } else {
                v(&kept.currency)
            },
            v(&kept.on),
            v(&kept.reference)
        ));
        b.push_str(&format!(
            r#"<h2>Tax forms</h2><form id="tax-form" class="stack" method="post" action="/t/{s}/payouts/tax-form">{csrf}<label for="tax-payee">Payee</label><select id="tax-payee" name="payee" required>{options}</select><label for="tax-kind">Form</label><select id="tax-kind" name="form"><option value="w9">W-9</option><option value="w8ben">W-8BEN</option></select><label for="tax-received">Received on</label><input id="tax-received" name="received" type="date"><button id="tax-submit" class="primary" type="submit">Record the form</button></form>"#
        ));
    }
    b.push_str(&format!(
        r#"<h2>Year end</h2><form id="year-end-form" class="stack" method="get" action="/t/{s}/payouts/year-end.csv"><label for="year-end-year">Calendar year</label><input id="year-end-year" name="year" placeholder="2016" required><button class="primary" type="submit">Download the 1099 CSV</button></form>"#
    ));
    b.push_str(r#"<h2>Payments</h2><table id="payouts-list"><thead><tr><th>Date</th><th>Payee</th><th class="num">Amount</th><th>Reference</th><th>Period</th><th>Entry</th></tr></thead><tbody>"#);
    for p in list.iter().rev() {
        b.push_str(&format!(
            r#"<tr><td>{}</td><td>{}</td><td class="num">{}</td><td>{}</td><td>{}</td><td><code>{}</code></td></tr>"#,
            l.date(p.on),
            esc(&p.payee),
            l.money(p.amount),
            esc(&p.reference),
            esc(p.period.as_deref().unwrap_or("")),
            esc(&p.entry_id)
        ));
    }
    if list.is_empty() {
        b.push_str(r#"<tr><td colspan="6">No payments yet.</td></tr>"#);
    }
    b.push_str("</tbody></table><p>A wrong payment is corrected by a reversing entry (<code>backstock correct ENTRY --reason …</code>); it can then be made again.</p></section>");
    Ok(page("Payouts", Some(t), &b))
}

/// A refusal on the page: the sentence, the form as typed, the refusal's status.
async fn refused_page(t: &Tenant, e: Fail, f: &PayForm) -> Result<Response, Fail> {
    if e.status >= 500 {
        return Err(e);
    }
    let status = StatusCode::from_u16(e.status).unwrap_or(StatusCode::BAD_REQUEST);
    let html = render(t, None, Some((&e.message, f)), None).await?;
    Ok((status, html).into_response())
}

pub async fn page_get(t: Tenant) -> Result<Html<String>, Fail> {
    render(&t, None, None, None).await
}

pub async fn pay_post(
    State(state): State<AppState>,
    t: Tenant,
    Form(f): Form<PayForm>,
) -> Result<Response, Fail> {
    match do_pay(&state, &t, &f).await {
        Ok(p) => Ok(
            render(&t, Some(&paid_sentence(&locale(&t), &p)), None, None)
                .await?
                .into_response(),
        ),
        Err(e) => refused_page(&t, e, &f).await,
    }
}

pub async fn run_post(
    State(state): State<AppState>,
    t: Tenant,
    Form(f): Form<PayForm>,
) -> Result<Response, Fail> {
    match do_run(&state, &t, &f).await {
        Ok(r) => Ok(render(
            &t,
            Some(&run_sentence(&locale(&t), &r)),
            None,
            Some(&r.period),
        )
        .await?
        .into_response()),
        Err(e) => refused_page(&t, e, &f).await,
    }
}

async fn do_tax_form(state: &AppState, t: &Tenant, f: &TaxForm) -> Result<String, Fail> {
    let r = payouts::tax_form(
        t.store(),
        text(&f.payee),
        text(&f.form),
        date_of("received", &f.received)?,
        &t.viewer.user.email,
    )
    .await?;
    if r.new {
        t.audit(
            &state.control,
            "tax_form_recorded",
            &format!("{} {} {}", r.payee, r.form, r.received_on),
        )
        .await?;
    }
    Ok(format!(
        "{} of {} received {} is on file{}.",
        r.form,
        r.payee,
        r.received_on,
        if r.new { "" } else { " (already)" }
    ))
}

pub async fn tax_form_post(
    State(state): State<AppState>,
    t: Tenant,
    Form(f): Form<TaxForm>,
) -> Result<Response, Fail> {
    match do_tax_form(&state, &t, &f).await {
        Ok(words) => Ok(render(&t, Some(&words), None, None).await?.into_response()),
        Err(e) => refused_page(&t, e, &PayForm::default()).await,
    }
}

fn csv_response(name: &str, body: String) -> Response {
    (
        [
            (header::CONTENT_TYPE, "text/csv; charset=utf-8".to_string()),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"{name}\""),
            ),
        ],
        body,
    )
        .into_response()
}

/// The bank's payout file: the payments of a run (`period`) or of a day (`on`).
pub async fn file_csv(
    t: Tenant,
    Query(q): Query<HashMap<String, String>>,
) -> Result<Response, Fail> {
    let period = q.get("period").map(|s| s.trim()).filter(|s| !s.is_empty());
    let on = date_of("on", &q.get("on").cloned())?;
    if period.is_none() && on.is_none() {
        return Err(Fail::bad(
            "which payments? give period=2016H1 (a royalty run) or on=YYYY-MM-DD",
        ));
    }
    let names = payouts::payees(t.store()).await?;
    let rows: Vec<Paid> = payouts::payouts(t.store(), None, None)
        .await?
        .into_iter()
        .filter(|p| period.is_none_or(|x| p.period.as_deref() == Some(x)))
        .filter(|p| on.is_none_or(|d| p.on == d))
        .map(|p| Paid {
            name: names
                .get(&p.payee)
                .map(|r| r.name.clone())
                .unwrap_or_default(),
            entry_id: p.entry_id,
            payee: p.payee,
            amount: p.amount,
            on: p.on,
            reference: p.reference,
            period: p.period,
            new: false,
        })
        .collect();
    let name = match (period, on) {
        (Some(p), _) => format!("payouts-{p}.csv"),
        (None, Some(d)) => format!("payouts-{d}.csv"),
        _ => "payouts.csv".into(),
    };
    Ok(csv_response(&name, payouts::payout_csv(&rows)))
}

/// The year-end CSV for 1099 preparation.
pub async fn year_end_csv(
    t: Tenant,
    Query(q): Query<HashMap<String, String>>,
) -> Result<Response, Fail> {
    let y = q.get("year").map(|s| s.trim()).unwrap_or("");
    let year: i32 = y
        .parse()
        .map_err(|_| Fail::bad(format!("year {y:?}: expected a calendar year such as 2016")))?;
    let rows = payouts::year_end(t.store(), year).await?;
    Ok(csv_response(
        &format!("1099-{year}.csv"),
        payouts::year_end_csv(year, &rows),
    ))
}

fn paid_json(p: &Paid) -> Value {
    json!({
        "entry_id": p.entry_id,
        "payee": p.payee,
        "name": p.name,
        "amount": p.amount,
        "on": p.on,
        "reference": p.reference,
        "period": p.period,
        "recorded": p.new,
    })
}

/// Payments (an artist: their own payee's only) and, for the label, what is payable.
pub async fn api_get(t: Tenant) -> Result<Json<Value>, Fail> {
    let own = own_payee(&t);
    let list = payouts::payouts(t.store(), own, None).await?;
    let mut v = json!({ "payouts": list });
    if own.is_none() {
        let payable: Vec<Value> = payouts::payables(t.store())
            .await?
            .into_iter()
            .filter(|(_, m)| m.minor() != 0)
            .map(|((payee, _), m)| json!({"payee": payee, "payable": m}))
            .collect();
        v["payable"] = json!(payable);
    }
    Ok(Json(v))
}

/// One payment (`payee`, `amount`, `currency`) or a whole run (`period`).
pub async fn api_post(
    State(state): State<AppState>,
    t: Tenant,
    Body(f): Body<PayForm>,
) -> Result<Json<Value>, Fail> {
    if !text(&f.period).is_empty() {
        let r = do_run(&state, &t, &f).await?;
        return Ok(Json(json!({
            "period": r.period,
            "on": r.on,
            "paid": r.paid.iter().map(paid_json).collect::<Vec<_>>(),
            "already": r.already.iter().map(paid_json).collect::<Vec<_>>(),
            "not_paid": r.not_paid,
            // The payments recorded by this call only: never one recorded before.
            "file": payouts::payout_csv(&r.to_send()),
        })));
    }
    let p = do_pay(&state, &t, &f).await?;
    Ok(Json(paid_json(&p)))
}
