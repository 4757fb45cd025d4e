//! When a distributor fails, in the browser and the API: record the failure (a form on
//! the distributor page, `POST …/insolvency`), see the deadlines with their rules (on
//! the distributor page, the dashboard and the "this distributor has failed" page),
//! attach documents (an upload on the distributor page), and download the claim pack
//! as a zip (stored, uncompressed: `zip` below). The rules are
//! `backstock_app::insolvency` / `backstock_app::claim_pack`.
//!
//! Who: reading needs `read_label` (owner, staff, bookkeeper), recording and attaching
//! need `operate` (owner, staff). Every action is audited.
//!
//! Stable element ids: `failure`, `table-deadlines`, `insolvency-form`,
//! `document-form`, `claim-pack-link`, `failed-link`, `failed-steps`,
//! `insolvency-result`.

use crate::api::Body;
use crate::auth::Tenant;
use crate::format::Locale;
use crate::html::{esc, page, url_encode};
use crate::roles::Perm;
use crate::views;
use crate::{AppState, Fail};
use axum::extract::{Form, Multipart, Path, State};
use axum::http::header;
use axum::response::{Html, IntoResponse, Response};
use axum::Json;
use backstock_app::insolvency::{self as app, AddDocument, AddInsolvency, Standing};
use backstock_domain::{Date, PartyId};
use backstock_risk::insolvency::DeadlineStatus;
use serde::Deserialize;
use serde_json::{json, Value};

fn base(t: &Tenant, rest: &str) -> String {
    format!("/t/{}/{rest}", url_encode(t.slug()))
}

fn csrf_field(t: &Tenant) -> String {
    format!(
        r#"<input type="hidden" name="csrf" value="{}">"#,
        esc(t.viewer.csrf())
    )
}

fn blank(s: &Option<String>) -> Option<String> {
    s.as_ref()
        .map(|x| x.trim().to_string())
        .filter(|x| !x.is_empty())
}

fn date_field(what: &str, s: &Option<String>) -> Result<Option<Date>, Fail> {
    blank(s)
        .map(|d| Date::parse(&d).map_err(|e| Fail::bad(format!("{what}: {e}"))))
        .transpose()
}

/// The distributor of a `{distributor}` path: it must have an agreement (else 404).
async fn distributor_of(t: &Tenant, state: &AppState, id: &str) -> Result<PartyId, Fail> {
    let b = views::books(t, &state.cache).await?;
    if views::distributor(&b, id).is_none() {
        return Err(Fail::not_found("no such distributor"));
    }
    PartyId::parse(id).map_err(|_| Fail::not_found("no such distributor"))
}

/// A sentence of the failure's report in the label's formats; its date ranges
/// (`2016-04-19..2016-06-03`) said "from … to …".
fn said(l: &Locale, s: &str) -> String {
    l.sentence(&s.replace("..", " to "))
}

/// The label's formats for dates, numbers and money on these pages.
fn locale(t: &Tenant) -> Locale {
    Locale::new(&t.row.locale, &t.row.currency)
}

/// The deadlines as an HTML table.
fn deadlines_table(l: &Locale, s: &Standing) -> String {
    let mut rows = String::new();
    for d in &s.report.deadlines {
        let class = match d.status {
            DeadlineStatus::Passed => " class=\"err\"",
            DeadlineStatus::DueSoon => " class=\"warn\"",
            _ => "",
        };
        rows.push_str(&format!(
            "<tr{class}><td>{}</td><td>{}</td><td class=\"n\">{}</td><td>{}</td><td>{}</td><td>{}{}</td></tr>",
            esc(d.title),
            d.due_on.map(|x| esc(&l.date(x))).unwrap_or_default(),
            d.days_left.map(|x| l.int(x)).unwrap_or_default(),
            esc(d.status.as_str()),
            esc(&said(l, &d.what)),
            esc(d.source),
            if d.bankruptcy_only { " (bankruptcy only)" } else { "" },
        ));
    }
    format!(
        r#"<table id="table-deadlines"><thead><tr><th>deadline</th><th>due</th><th>days left</th><th>status</th><th>what</th><th>rule</th></tr></thead><tbody>{rows}</tbody></table><p class="note">{}</p>"#,
        esc(app::NOT_ADVICE)
    )
}

/// The failure's summary: the record, what is owed and at risk.
fn summary(l: &Locale, s: &Standing) -> String {
    let r = &s.report;
    let x = &r.insolvency;
    let mut out = format!(
        "<p class=\"errbox\">{}</p><dl><dt>kind</dt><dd>{}</dd><dt>on</dt><dd>{}</dd><dt>petition</dt><dd>{}</dd><dt>case</dt><dd>{}</dd><dt>claims bar date</dt><dd>{}</dd><dt>contact</dt><dd>{}</dd>",
        esc(&l.sentence(&backstock_risk::insolvency::sentence(x))),
        esc(x.kind.as_str()),
        esc(&l.date(x.on)),
        esc(&x.petition_date.map(|d| l.date(d)).unwrap_or_else(|| "-".into())),
        esc(x.case.as_deref().unwrap_or("-")),
        esc(&x.claims_bar_date.map(|d| l.date(d)).unwrap_or_else(|| "not set".into())),
        esc(x.contact.as_deref().unwrap_or("-")),
    );
    if let Some(rc) = &s.receivables {
        out.push_str(&format!(
            "<dt>owed (open statements)</dt><dd>{}</dd><dt>reserves held</dt><dd>{}</dd><dt>stock at risk</dt><dd>{} units: {} at cost, {} at wholesale</dd>",
            esc(&l.money(rc.book.open_balance)),
            esc(&l.money(rc.exposure.reserve_held)),
            esc(&l.int(rc.stock.units)),
            esc(&l.money(rc.stock.at_cost)),
            esc(&l.money(rc.stock.at_wholesale)),
        ));
    }
    out.push_str(&format!(
        "<dt>goods received in the 45 days before {}</dt><dd>{} units, {} at wholesale</dd><dt>in the 20 days before</dt><dd>{} units, {} at wholesale</dd></dl>",
        esc(&l.date(r.basis_date)),
        esc(&l.int(i64::try_from(r.window_45.units).unwrap_or(i64::MAX))),
        esc(&l.money(r.window_45.value_at_wholesale)),
        esc(&l.int(i64::try_from(r.window_20.units).unwrap_or(i64::MAX))),
        esc(&l.money(r.window_20.value_at_wholesale)),
    ));
    out
}

type Key = (String, String, Option<Date>, i64, Date);

/// Standings computed once per (tenant, distributor or all, date, journal length,
/// label's today), like the pages' books (`views::Cache`): the dashboard stays cheap.
/// One per server (`AppState`), handed to each request's `Tenant`.
#[derive(Default)]
pub struct Standings {
    map: std::sync::Mutex<std::collections::HashMap<Key, std::sync::Arc<Vec<Standing>>>>,
}

async fn cached(
    t: &Tenant,
    d: Option<&PartyId>,
    as_of: Option<Date>,
) -> Result<std::sync::Arc<Vec<Standing>>, Fail> {
    let len = t.store().entry_count().await?;
    let today = backstock_app::risk::today(t.store()).await?;
    let key: Key = (
        t.slug().to_string(),
        d.map(|d| d.to_string()).unwrap_or_default(),
        as_of,
        len,
        today,
    );
    let map = &t.standings_cache().map;
    if let Some(v) = map.lock().ok().and_then(|m| m.get(&key).cloned()) {
        return Ok(v);
    }
    let v = match d {
        Some(d) => app::standing(t.store(), d, as_of)
            .await?
            .into_iter()
            .collect(),
        None => app::all_standing(t.store()).await?,
    };
    let v = std::sync::Arc::new(v);
    if let Ok(mut m) = map.lock() {
        if m.len() > 256 {
            m.clear();
        }
        m.insert(key, v.clone());
    }
    Ok(v)
}

/// The distributor page's section: the failure and its deadlines (when recorded), the
/// claim pack, and for owner and staff the forms to record it and attach documents.
pub async fn section(t: &Tenant, d: &str, as_of: Option<Date>) -> Result<String, Fail> {
    let Ok(id) = PartyId::parse(d) else {
        return Ok(String::new());
    };
    let standings = cached(t, Some(&id), as_of).await?;
    let standing = standings.first();
    let dp = url_encode(d);
    let mut out = String::from(r#"<section id="failure"><h2>If this distributor fails</h2>"#);
    match standing {
        Some(s) => {
            let l = locale(t);
            out.push_str(&summary(&l, s));
            out.push_str(&deadlines_table(&l, s));
            out.push_str(&format!(
                r#"<p><a id="failed-link" href="{}">This distributor has failed: the steps in order</a> · <a id="claim-pack-link" href="{}">Download the claim pack (zip)</a></p>"#,
                esc(&base(t, &format!("distributors/{dp}/failed"))),
                esc(&base(t, &format!("distributors/{dp}/claim-pack.zip"))),
            ));
        }
        None => out.push_str(&format!(
            r#"<p>No failure is on record. <a id="claim-pack-link" href="{}">Download a claim pack as of today (zip)</a></p>"#,
            esc(&base(t, &format!("distributors/{dp}/claim-pack.zip"))),
        )),
    }
    if t.may(Perm::Operate) {
        let x = standing.map(|s| &s.report.insolvency);
        let val = |v: Option<String>| esc(&v.unwrap_or_default());
        let mut kinds = String::new();
        for k in backstock_ledger::facts::InsolvencyKind::ALL {
            kinds.push_str(&format!(
                r#"<option value="{}"{}>{}</option>"#,
                k.as_str(),
                if x.map(|x| x.kind) == Some(k) {
                    " selected"
                } else {
                    ""
                },
                esc(k.describe())
            ));
        }
        let mut doc_kinds = String::new();
        for k in backstock_ledger::facts::DocumentKind::ALL {
            doc_kinds.push_str(&format!(r#"<option value="{0}">{0}</option>"#, k.as_str()));
        }
        out.push_str(&format!(
            r#"<h3>{}</h3><form id="insolvency-form" class="stack" method="post" action="{}">{}
<label for="insolvency-kind">Kind</label><select id="insolvency-kind" name="kind">{kinds}</select>
<label for="insolvency-on">On</label><input id="insolvency-on" name="on" type="date" required value="{}">
<label for="insolvency-petition">Petition date (bankruptcy)</label><input id="insolvency-petition" name="petition_date" type="date" value="{}">
<label for="insolvency-case">Court and case number, or reference</label><input id="insolvency-case" name="case" value="{}">
<label for="insolvency-bar">Claims bar date</label><input id="insolvency-bar" name="claims_bar_date" type="date" value="{}">
<label for="insolvency-contact">Contact (trustee, assignee, receiver, lender's counsel)</label><input id="insolvency-contact" name="contact" value="{}">
<button id="insolvency-submit" class="primary" type="submit">Record</button></form>
<h3>Attach a document</h3><form id="document-form" class="stack" method="post" enctype="multipart/form-data" action="{}?csrf={}">
<label for="document-file">File (the agreement, a PMSI notice or its receipt, letters)</label><input id="document-file" name="file" type="file" required>
<label for="document-kind">Kind</label><select id="document-kind" name="kind">{doc_kinds}</select>
<button id="document-submit" type="submit">Attach</button></form>"#,
            if x.is_some() { "Update the failure on record" } else { "Record that it failed" },
            esc(&base(t, &format!("distributors/{dp}/insolvency"))),
            csrf_field(t),
            val(x.map(|x| x.on.to_string())),
            val(x.and_then(|x| x.petition_date.map(|d| d.to_string()))),
            val(x.and_then(|x| x.case.clone())),
            val(x.and_then(|x| x.claims_bar_date.map(|d| d.to_string()))),
            val(x.and_then(|x| x.contact.clone())),
            esc(&base(t, &format!("distributors/{dp}/documents"))),
            url_encode(t.viewer.csrf()),
        ));
    }
    out.push_str("</section>");
    Ok(out)
}

/// The dashboard's section on failed distributors (empty when none), from the books it shows (their
/// day's standings); deadline alerts are raised for today's books only.
pub async fn dashboard_section(t: &Tenant, b: &crate::views::Books) -> Result<String, Fail> {
    let all = &b.standings;
    if b.as_of == backstock_app::risk::today(t.store()).await? {
        app::raise_deadline_alerts(t.store(), all).await?;
    }
    if all.is_empty() {
        return Ok(String::new());
    }
    let l = locale(t);
    let mut out = String::from(r#"<section id="failures"><h2>Failed distributors: deadlines</h2>"#);
    for s in all.iter() {
        out.push_str(&format!(
            r#"<h3><a href="{}">{}</a></h3><p>{}</p>{}"#,
            esc(&base(
                t,
                &format!(
                    "distributors/{}/failed",
                    url_encode(s.report.distributor.as_str())
                )
            )),
            esc(s.report.distributor.as_str()),
            esc(&l.sentence(&backstock_risk::insolvency::sentence(&s.report.insolvency))),
            deadlines_table(&l, s)
        ));
    }
    out.push_str("</section>");
    Ok(out)
}

/// Record a failure: the form's and the API's fields.
#[derive(Deserialize)]
pub struct InsolvencyForm {
    pub kind: Option<String>,
    pub on: Option<String>,
    pub petition_date: Option<String>,
    pub case: Option<String>,
    pub claims_bar_date: Option<String>,
    pub contact: Option<String>,
}

pub const INSOLVENCY_FIELDS: &[(&str, &str)] = &[
    (
        "kind",
        "bankruptcy, assignment, receivership or liquidation",
    ),
    ("on", "YYYY-MM-DD: when it happened"),
    (
        "petition_date",
        "YYYY-MM-DD: the bankruptcy petition's date (the deadlines run from it)",
    ),
    (
        "case",
        "court and case number, or the assignee's / receiver's reference",
    ),
    ("claims_bar_date", "YYYY-MM-DD"),
    ("contact", "trustee, assignee, receiver or lender's counsel"),
];

pub const DOCUMENT_FIELDS: &[(&str, &str)] = &[
    ("file", "the document"),
    ("kind", "agreement, notice, correspondence or other"),
];

async fn do_add(
    state: &AppState,
    t: &Tenant,
    id: &str,
    f: &InsolvencyForm,
) -> Result<(app::Recorded, String), Fail> {
    let d = distributor_of(t, state, id).await?;
    let kind = blank(&f.kind)
        .ok_or_else(|| Fail::bad("kind: bankruptcy, assignment, receivership or liquidation"))?;
    let req = AddInsolvency {
        distributor: d.clone(),
        kind: app::parse_kind(&kind)?,
        on: date_field("on", &f.on)?.ok_or_else(|| Fail::bad("on: when did it happen?"))?,
        petition_date: date_field("petition_date", &f.petition_date)?,
        case: blank(&f.case),
        claims_bar_date: date_field("claims_bar_date", &f.claims_bar_date)?,
        contact: blank(&f.contact),
    };
    let r = app::add(t.store(), req, &t.viewer.user.email).await?;
    let words = if r.new {
        format!("Recorded the failure of {d} ({}).", r.entry_id)
    } else {
        format!(
            "The failure of {d} was already on record ({}); nothing changed.",
            r.entry_id
        )
    };
    t.audit(&state.control, "insolvency_recorded", &words)
        .await?;
    Ok((r, words))
}

fn result_page(t: &Tenant, title: &str, sentence: &str, d: &str) -> Html<String> {
    page(
        title,
        Some(t),
        &format!(
            r#"<section><p id="insolvency-result" class="okbox">{}</p><p><a href="{}">Back to {}</a></p></section>"#,
            esc(&crate::format::Locale::new(&t.row.locale, &t.row.currency).sentence(sentence)),
            esc(&base(t, &format!("distributors/{}", url_encode(d)))),
            esc(d)
        ),
    )
}

pub async fn form_post(
    State(state): State<AppState>,
    t: Tenant,
    Path((_, id)): Path<(String, String)>,
    Form(f): Form<InsolvencyForm>,
) -> Result<Html<String>, Fail> {
    let (_, words) = do_add(&state, &t, &id, &f).await?;
    Ok(result_page(&t, "Failure recorded", &words, &id))
}

#[derive(Deserialize)]
pub struct InsolvencyBody {
    pub kind: Option<String>,
    pub on: Option<String>,
    pub petition_date: Option<String>,
    pub case: Option<String>,
    pub claims_bar_date: Option<String>,
    pub contact: Option<String>,
}

pub async fn api_post(
    State(state): State<AppState>,
    t: Tenant,
    Path((_, id)): Path<(String, String)>,
    Body(b): Body<InsolvencyBody>,
) -> Result<Json<Value>, Fail> {
    let f = InsolvencyForm {
        kind: b.kind,
        on: b.on,
        petition_date: b.petition_date,
        case: b.case,
        claims_bar_date: b.claims_bar_date,
        contact: b.contact,
    };
    let (r, words) = do_add(&state, &t, &id, &f).await?;
    let d = PartyId::parse(&id).map_err(|_| Fail::not_found("no such distributor"))?;
    let s = app::standing(t.store(), &d, None).await?;
    Ok(Json(json!({
        "recorded": r.new,
        "entry_id": r.entry_id,
        "message": words,
        "report": s.map(|s| s.report),
    })))
}

pub async fn api_get(
    State(state): State<AppState>,
    t: Tenant,
    Path((_, id)): Path<(String, String)>,
) -> Result<Json<Value>, Fail> {
    let d = distributor_of(&t, &state, &id).await?;
    let s = app::standing(t.store(), &d, None)
        .await?
        .ok_or_else(|| Fail::not_found("no failure of this distributor is on record"))?;
    Ok(Json(json!({
        "report": s.report,
        "receivables": s.receivables,
        "not_legal_advice": app::NOT_ADVICE,
    })))
}

async fn do_document(
    state: &AppState,
    t: &Tenant,
    id: &str,
    m: Multipart,
) -> Result<(app::Attached, String), Fail> {
    let d = distributor_of(t, state, id).await?;
    let (name, bytes, choices) = crate::upload::read_form(m).await?;
    let kind = blank(&choices.kind).unwrap_or_else(|| "other".into());
    let a = app::add_document(
        t.store(),
        AddDocument {
            distributor: d.clone(),
            kind: app::parse_document_kind(&kind)?,
            name: name.clone(),
            bytes,
            note: None,
        },
        &t.viewer.user.email,
    )
    .await?;
    let words = if a.new {
        format!(
            "Attached {name} to {d} ({} bytes, sha256 {}).",
            a.size, a.sha256
        )
    } else {
        format!("{name} was already attached to {d}; nothing changed.")
    };
    t.audit(&state.control, "document_attached", &words).await?;
    Ok((a, words))
}

pub async fn document_post(
    State(state): State<AppState>,
    t: Tenant,
    Path((_, id)): Path<(String, String)>,
    m: Multipart,
) -> Result<Html<String>, Fail> {
    let (_, words) = do_document(&state, &t, &id, m).await?;
    Ok(result_page(&t, "Document attached", &words, &id))
}

pub async fn api_document(
    State(state): State<AppState>,
    t: Tenant,
    Path((_, id)): Path<(String, String)>,
    m: Multipart,
) -> Result<Json<Value>, Fail> {
    let (a, words) = do_document(&state, &t, &id, m).await?;
    Ok(Json(json!({
        "recorded": a.new,
        "entry_id": a.entry_id,
        "sha256": a.sha256,
        "size": a.size,
        "message": words,
    })))
}

/// The claim pack as a zip (`?as_of=` for another date).
pub async fn pack_zip(
    State(state): State<AppState>,
    t: Tenant,
    Path((_, id)): Path<(String, String)>,
    axum::extract::Query(q): axum::extract::Query<std::collections::HashMap<String, String>>,
) -> Result<Response, Fail> {
    let d = distributor_of(&t, &state, &id).await?;
    let as_of = views::as_of_param(&q)?;
    let pack = backstock_app::claim_pack::build(t.store(), &d, as_of).await?;
    let folder = format!("claim-{}-{}", d, pack.as_of);
    let files: Vec<(String, &[u8])> = pack
        .files
        .iter()
        .map(|f| (format!("{folder}/{}", f.path), f.bytes.as_slice()))
        .collect();
    let bytes = zip(&files);
    t.audit(
        &state.control,
        "claim_pack_downloaded",
        &format!("claim pack for {d} as of {}", pack.as_of),
    )
    .await?;
    Ok((
        [
            (header::CONTENT_TYPE, "application/zip".to_string()),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"{folder}.zip\""),
            ),
        ],
        bytes,
    )
        .into_response())
}

/// "This distributor has failed": the steps in order, each with its deadline and what
/// backstock already has ready.
pub async fn failed_page(
    State(state): State<AppState>,
    t: Tenant,
    Path((_, id)): Path<(String, String)>,
    axum::extract::Query(q): axum::extract::Query<std::collections::HashMap<String, String>>,
) -> Result<Response, Fail> {
    let d = distributor_of(&t, &state, &id).await?;
    let s = app::standing(t.store(), &d, None).await?;
    let dp = url_encode(&id);
    let dist = base(&t, &format!("distributors/{dp}"));
    let l = locale(&t);
    let due = |code: &str| -> String {
        s.as_ref()
            .and_then(|s| s.report.deadlines.iter().find(|x| x.code == code))
            .map(|x| {
                format!(
                    "{}: {}{}",
                    x.status.as_str(),
                    x.due_on
                        .map(|d| format!("due {}, ", l.date(d)))
                        .unwrap_or_default(),
                    said(&l, &x.what)
                )
            })
            .unwrap_or_else(|| "after the failure is recorded".into())
    };
    let demands: Vec<String> = s
        .as_ref()
        .map(|s| {
            s.report
                .deadlines
                .iter()
                .filter(|x| x.code == "open_demand")
                .map(|x| said(&l, &x.what))
                .collect()
        })
        .unwrap_or_default();
    let recorded = match &s {
        Some(s) => format!(
            "Done: {}",
            l.sentence(&backstock_risk::insolvency::sentence(&s.report.insolvency))
        ),
        None => "Not yet: record it on the distributor page.".into(),
    };
    let steps = [
        (
            "Record the event",
            recorded,
            format!(r#"<a href="{}#insolvency-form">the form on the distributor page</a>"#, esc(&dist)),
        ),
        (
            "Send the demands",
            format!(
                "Reclamation — {}. {}",
                due("reclamation_demand"),
                if demands.is_empty() {
                    "No return demand is open.".to_string()
                } else {
                    format!("Open: {}", demands.join("; "))
                }
            ),
            "backstock demand add (the dated demand log); windows.csv in the claim pack lists the goods".to_string(),
        ),
        (
            "File the claim",
            format!(
                "Proof of claim — {}. §503(b)(9) — {}. UCC-1 — {}.",
                due("claims_bar_date"),
                due("admin_claim_503b9"),
                due("ucc1_lapse")
            ),
            format!(
                r#"<a id="claim-pack-link" href="{}">the claim pack (zip)</a>: claim.pdf, proof_of_claim.json, the schedules, documents and originals, with their hashes"#,
                esc(&base(&t, &format!("distributors/{dp}/claim-pack.zip")))
            ),
        ),
        (
            "Tell the artists",
            "Royalties earned on its sales and not collected are flagged in default on the artists' statements.".into(),
            format!(
                r#"artists.csv in the claim pack; <a href="{}">royalty statements</a>"#,
                esc(&base(&t, "royalties"))
            ),
        ),
    ];
    let mut body = String::from(r#"<section><ol id="failed-steps">"#);
    for (title, state_text, ready) in steps {
        body.push_str(&format!(
            "<li><h3>{}</h3><p>{}</p><p class=\"note\">Ready: {}</p></li>",
            esc(title),
            esc(&state_text),
            ready
        ));
    }
    body.push_str("</ol>");
    if let Some(s) = &s {
        body.push_str(&summary(&l, s));
        body.push_str(&deadlines_table(&l, s));
    }
    body.push_str(
        &offer_section(&t, &d, &q, &base(&t, &format!("distributors/{dp}/failed"))).await?,
    );
    body.push_str(&format!(
        r#"<p><a href="{}">Back to {}</a></p></section>"#,
        esc(&dist),
        esc(&id)
    ));
    Ok(page(&format!("{id} has failed"), Some(&t), &body).into_response())
}

async fn offer_of(
    t: &Tenant,
    d: &PartyId,
    q: &std::collections::HashMap<String, String>,
) -> Result<Option<backstock_app::buyback_offer::OfferAnalysis>, Fail> {
    use backstock_app::deductions::Amount;
    let field = |k: &str| q.get(k).map(|s| s.trim()).filter(|s| !s.is_empty());
    let Some(per_unit) = field("offer_per_unit") else {
        return Ok(None);
    };
    let o = backstock_app::buyback_offer::Offer {
        distributor: d.clone(),
        per_unit: Amount::parse(per_unit)
            .map_err(|e| Fail::bad(format!("offer_per_unit: {}", e.message())))?,
        shipping: field("shipping")
            .map(Amount::parse)
            .transpose()
            .map_err(|e| Fail::bad(format!("shipping: {}", e.message())))?,
        as_of: views::as_of_param(q)?,
    };
    Ok(Some(
        backstock_app::buyback_offer::analyse(t.store(), &o).await?,
    ))
}

/// A liquidator's offer weighed (`?offer_per_unit=1.00&shipping=150.00`), with the
/// form to ask.
async fn offer_section(
    t: &Tenant,
    d: &PartyId,
    q: &std::collections::HashMap<String, String>,
    action: &str,
) -> Result<String, Fail> {
    let mut out = format!(
        r#"<h2>A liquidator's offer to sell the stock back</h2><form id="offer-form" class="inline" method="get" action="{}"><label for="offer-per-unit">Per unit</label> <input id="offer-per-unit" name="offer_per_unit" inputmode="decimal" value="{}"> <label for="offer-shipping">Shipping in all</label> <input id="offer-shipping" name="shipping" inputmode="decimal" value="{}"> <button type="submit">Weigh it</button></form>"#,
        esc(action),
        esc(q.get("offer_per_unit").map(String::as_str).unwrap_or("")),
        esc(q.get("shipping").map(String::as_str).unwrap_or("")),
    );
    if let Some(x) = offer_of(t, d, q).await? {
        let loc = locale(t);
        let money = |m| loc.money(m);
        let mut rows = String::new();
        for l in &x.lines {
            rows.push_str(&format!(
                "<tr><td>{}</td><td>{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td><td>{}</td></tr>",
                esc(l.sku.as_str()),
                esc(&l.title),
                loc.int(l.units_held),
                esc(&money(l.cost)),
                esc(&money(l.repress_cost)),
                esc(&money(l.saving)),
                loc.int(l.sold_last_12_months),
                esc(&money(l.expected_sales_at_wholesale)),
                esc(l.verdict.as_str()),
            ));
        }
        out.push_str(&format!(
            r#"<p>{} units for {} ({} a unit + {} shipping); re-pressing them: {}. Buy: {} units for {}. Nothing is recorded: record what you accept with the buy-back form.</p><table id="table-offer"><thead><tr><th>sku</th><th>title</th><th>units</th><th>cost</th><th>re-press</th><th>saving</th><th>sold 12 mo</th><th>sells for</th><th>verdict</th></tr></thead><tbody>{rows}</tbody></table>"#,
            loc.int(x.units),
            esc(&money(x.cost)),
            esc(&money(x.per_unit)),
            esc(&money(x.shipping)),
            esc(&money(x.repress_cost)),
            loc.int(x.recommended_units),
            esc(&money(x.recommended_cost)),
        ));
    }
    Ok(out)
}

/// The offer weighed, as JSON.
pub async fn api_offer(
    State(state): State<AppState>,
    t: Tenant,
    Path((_, id)): Path<(String, String)>,
    axum::extract::Query(q): axum::extract::Query<std::collections::HashMap<String, String>>,
) -> Result<Json<Value>, Fail> {
    let d = distributor_of(&t, &state, &id).await?;
    let x = offer_of(&t, &d, &q)
        .await?
        .ok_or_else(|| Fail::bad("offer_per_unit: the price a unit, e.g. 1.00"))?;
    Ok(Json(json!(x)))
}

// ---------------------------------------------------------------- zip

fn crc32(bytes: &[u8]) -> u32 {
    let mut table = [0u32; 256];
    for (i, slot) in table.iter_mut().enumerate() {
        let mut c = i as u32;
        for _ in 0..8 {
            c = if c & 1 != 0 {
                0xEDB8_8320 ^ (c >> 1)
            } else {
                c >> 1
            };
        }
        *slot = c;
    }
    let mut c = !0u32;
    for b in bytes {
        c = table[((c ^ u32::from(*b)) & 0xff) as usize] ^ (c >> 8);
    }
    !c
}

/// A zip archive of `files` stored without compression (method 0), no timestamps
/// (1980-01-01), UTF-8 names. Files and the archive must stay under 4 GiB (no zip64).
pub fn zip(files: &[(String, &[u8])]) -> Vec<u8> {
    let mut out = Vec::new();
    let mut central = Vec::new();
    let le16 = |v: &mut Vec<u8>, x: u16| v.extend_from_slice(&x.to_le_bytes());
    let le32 = |v: &mut Vec<u8>, x: u32| v.extend_from_slice(&x.to_le_bytes());
    for (name, data) in files {
        let crc = crc32(data);
        let size = u32::try_from(data.len()).unwrap_or(u32::MAX);
        let offset = u32::try_from(out.len()).unwrap_or(u32::MAX);
        let n = name.as_bytes();
        let nlen = u16::try_from(n.len()).unwrap_or(u16::MAX);
        // Local file header.
        le32(&mut out, 0x0403_4b50);
        le16(&mut out, 20); // version needed
        le16(&mut out, 0x0800); // flags: UTF-8 names
        le16(&mut out, 0); // stored
        le16(&mut out, 0); // time
        le16(&mut out, 0x21); // date: 1980-01-01
        le32(&mut out, crc);
        le32(&mut out, size);
        le32(&mut out, size);
        le16(&mut out, nlen);
        le16(&mut out, 0);
        out.extend_from_slice(&n[..usize::from(nlen)]);
        out.extend_from_slice(data);
        // Central directory header.
        le32(&mut central, 0x0201_4b50);
        le16(&mut central, 20); // made by
        le16(&mut central, 20);
        le16(&mut central, 0x0800);
        le16(&mut central, 0);
        le16(&mut central, 0);
        le16(&mut central, 0x21);
        le32(&mut central, crc);
        le32(&mut central, size);
        le32(&mut central, size);
        le16(&mut central, nlen);
        le16(&mut central, 0); // extra
        le16(&mut central, 0); // comment
        le16(&mut central, 0); // disk
        le16(&mut central, 0); // internal attributes
        le32(&mut central, 0); // external attributes
        le32(&mut central, offset);
        central.extend_from_slice(&n[..usize::from(nlen)]);
    }
    let cd_offset = u32::try_from(out.len()).unwrap_or(u32::MAX);
    let cd_size = u32::try_from(central.len()).unwrap_or(u32::MAX);
    let count = u16::try_from(files.len()).unwrap_or(u16::MAX);
    out.extend_from_slice(&central);
    le32(&mut out, 0x0605_4b50);
    le16(&mut out, 0);
    le16(&mut out, 0);
    le16(&mut out, count);
    le16(&mut out, count);
    le32(&mut out, cd_size);
    le32(&mut out, cd_offset);
    le16(&mut out, 0);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn crc32_of_known_text() {
        assert_eq!(crc32(b"123456789"), 0xCBF4_3926);
        assert_eq!(crc32(b""), 0);
    }

    #[test]
    fn a_stored_zip_lists_its_files() {
        let z = zip(&[
            ("a/one.txt".into(), b"hello\n".as_slice()),
            ("a/two.csv".into(), b"x,y\n1,2\n".as_slice()),
        ]);
        assert_eq!(&z[..4], b"PK\x03\x04");
        assert!(z.windows(9).any(|w| w == b"a/one.txt"));
        // End of central directory: two entries.
        let end = z.len() - 22;
        assert_eq!(&z[end..end + 4], b"PK\x05\x06");
        assert_eq!(u16::from_le_bytes([z[end + 10], z[end + 11]]), 2);
    }
}
