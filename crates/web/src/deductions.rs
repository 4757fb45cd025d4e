//! Deductions, write-offs, buy-backs and the label's risk thresholds: the pages and
//! their JSON API. The rules are `backstock_app::deductions` and
//! `backstock_app::thresholds`; here requests are parsed, outcomes rendered and every
//! action audited.
//!
//! Who: reading deductions needs `read_label` (owner, staff, bookkeeper); accepting,
//! disputing, writing off and buying back need `operate` (owner, staff); thresholds need
//! `manage` (owner). Distributors and artists have no access, so no distributor sees
//! another's deductions.
//!
//! Stable element ids: `deductions`, `table-deductions`, `table-settled`,
//! `accept-form-{distributor}-{statement}`, `dispute-form-{distributor}-{statement}`,
//! `writeoff-form-{distributor}`, `buyback-form-{distributor}`, `deduction-result`,
//! `thresholds-form`, `thresholds-result`.

use crate::api::Body;
use crate::auth::Tenant;
use crate::format::Locale;
use crate::html::{esc, page, url_encode, Cell, Grid};
use crate::roles::Perm;
use crate::views;
use crate::{AppState, Fail};
use axum::extract::{Form, Path, Query, State};
use axum::response::{Html, IntoResponse, Response};
use axum::Json;
use backstock_app::deductions::{
    self as app, AcceptDeduction, Accepted, Amount, BoughtBack, BuyBack, DisputeDeduction,
    Disputed, WriteOff, WrittenOff,
};
use backstock_app::thresholds::{self, ThresholdChange};
use backstock_domain::{Date, Money, PartyId};
use backstock_ledger::facts::DeductionReason;
use backstock_risk::deductions::{Deduction, DeductionStatus};
use serde::Deserialize;
use serde_json::{json, Value};
use std::collections::HashMap;

type Q = Query<HashMap<String, String>>;

fn locale(t: &Tenant) -> Locale {
    Locale::new(&t.row.locale, &t.row.currency)
}

fn base(t: &Tenant, rest: &str) -> String {
    format!("/t/{}/{rest}", url_encode(t.slug()))
}

fn csrf_field(t: &Tenant) -> String {
    format!(
        r#"<input type="hidden" name="csrf" value="{}">"#,
        esc(t.viewer.csrf())
    )
}

fn money_cell(l: &Locale, m: Money) -> Cell {
    Cell::money(l, m)
}

fn date_cell(l: &Locale, d: Date) -> Cell {
    Cell {
        text: l.date(d),
        sort: crate::html::SortKey::Num(i64::from(d.days_since_epoch())),
        csv: d.to_string(),
        html: None,
        currency: None,
    }
}

fn html_cell(text: String, html: String) -> Cell {
    let mut c = Cell::text(text);
    c.html = Some(html);
    c
}

/// An id fragment for element ids: letters, digits and `-`.
fn idpart(s: &str) -> String {
    s.chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '-' })
        .collect()
}

fn blank(s: &Option<String>) -> Option<String> {
    s.as_ref()
        .map(|x| x.trim().to_string())
        .filter(|x| !x.is_empty())
}

fn reason_words(r: DeductionReason) -> String {
    app::reason_words(r).replace('-', " ")
}

/// The distributor of a `{distributor}` path: it must have an agreement (else 404).
async fn distributor_of(t: &Tenant, state: &AppState, id: &str) -> Result<PartyId, Fail> {
    let b = views::books(t, &state.cache).await?;
    if views::distributor(&b, id).is_none() {
        return Err(Fail::not_found("no such distributor"));
    }
    PartyId::parse(id).map_err(|_| Fail::not_found("no such distributor"))
}

fn party_field(what: &str, s: &Option<String>) -> Result<PartyId, Fail> {
    let s = blank(s).ok_or_else(|| Fail::bad(format!("{what}: which one?")))?;
    Ok(app::parse_party(what, &s)?)
}

fn date_field(what: &str, s: &Option<String>) -> Result<Option<Date>, Fail> {
    blank(s)
        .map(|d| Date::parse(&d).map_err(|e| Fail::bad(format!("{what}: {e}"))))
        .transpose()
}

fn amount_field(what: &str, s: &Option<String>) -> Result<Option<Amount>, Fail> {
    blank(s)
        .map(|a| Amount::parse(&a))
        .transpose()
        .map_err(|e| match what {
            "amount" => Fail::bad(e.message()),
            _ => Fail::bad(format!("{what}: {}", e.message())),
        })
}

/// An amount in a JSON body: decimal text (`"12.34"`, `"12.34 USD"`), never a number
/// (a float would round).
fn json_amount(what: &str, v: &Option<Value>) -> Result<Option<String>, Fail> {
    match v {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s.clone())),
        Some(_) => Err(Fail::bad(format!(
            "{what}: give the amount as decimal text, e.g. \"12.34\" (a JSON number could round)"
        ))),
    }
}

// ---------------------------------------------------------------------------------------
// Sentences

fn accepted_words(l: &Locale, a: &Accepted) -> String {
    if a.recorded {
        let mut s = format!(
            "Accepted {} deducted from statement {} of {} ({}) on {} as {}.",
            l.money(a.amount),
            a.statement_id,
            a.distributor,
            reason_words(a.reason),
            l.date(a.on),
            a.entry_id
        );
        if !a.remaining.is_zero() {
            s.push_str(&format!(" Still deducted: {}.", l.money(a.remaining)));
        }
        s
    } else {
        format!(
            "Already recorded: {} accepted on statement {} of {} on {} ({}); nothing changed.",
            l.money(a.amount),
            a.statement_id,
            a.distributor,
            l.date(a.on),
            a.entry_id
        )
    }
}

fn disputed_words(l: &Locale, x: &Disputed) -> String {
    if x.recorded {
        format!(
            "Disputed {} deducted from statement {} of {} on {}; it stays owed.",
            l.money(x.amount),
            x.statement_id,
            x.distributor,
            l.date(x.on)
        )
    } else {
        format!(
            "Statement {} of {} is already disputed since {} ({}); nothing recorded.",
            x.statement_id,
            x.distributor,
            l.date(x.on),
            x.note
        )
    }
}

fn written_off_words(l: &Locale, w: &WrittenOff) -> String {
    let what = match &w.statement_id {
        Some(s) => format!("statement {s} of {}", w.distributor),
        None => format!("{}'s balance", w.distributor),
    };
    if w.recorded {
        format!(
            "Wrote off {} of {what} on {} as {} (bad debt). Open before: {}, now: {}.",
            l.money(w.amount),
            l.date(w.on),
            w.entry_id,
            l.money(w.open_before),
            l.money(w.open_after)
        )
    } else {
        format!(
            "Already recorded: {} of {what} written off on {} ({}); nothing changed.",
            l.money(w.amount),
            l.date(w.on),
            w.entry_id
        )
    }
}

fn bought_back_words(l: &Locale, b: &BoughtBack) -> String {
    let state = if b.detained { "detained" } else { "on hand" };
    if b.recorded {
        format!(
            "Bought back {} units of {} ({state} at {}) for {} paid to {} on {} as {}. {} now holds {} of them {state} for the label.",
            b.units,
            b.sku,
            b.holder,
            l.money(b.paid),
            b.paid_to,
            l.date(b.on),
            b.entry_id,
            b.holder,
            b.held_after
        )
    } else {
        format!(
            "Already recorded: buy-back {} ({} units of {} from {} on {}); nothing changed.",
            b.buyback_id,
            b.units,
            b.sku,
            b.holder,
            l.date(b.on)
        )
    }
}

fn result_page(t: &Tenant, title: &str, sentence: &str, back: &str) -> Html<String> {
    page(
        title,
        Some(t),
        &format!(
            r#"<section><p id="deduction-result" class="okbox">{}</p><p><a href="{}">Back to deductions</a></p></section>"#,
            esc(&locale(t).sentence(sentence)),
            esc(back)
        ),
    )
}

// ---------------------------------------------------------------------------------------
// Actions (shared by the pages and the API)

/// Accept a deduction: the form's and the API's fields.
#[derive(Deserialize)]
pub struct AcceptForm {
    pub distributor: Option<String>,
    pub statement_id: Option<String>,
    pub reason: Option<String>,
    pub amount: Option<String>,
    pub note: Option<String>,
    pub on: Option<String>,
}

#[derive(Deserialize)]
pub struct DisputeForm {
    pub distributor: Option<String>,
    pub statement_id: Option<String>,
    pub note: Option<String>,
    pub on: Option<String>,
}

#[derive(Deserialize)]
pub struct WriteOffForm {
    pub statement_id: Option<String>,
    pub amount: Option<String>,
    pub reason: Option<String>,
    pub on: Option<String>,
}

#[derive(Deserialize)]
pub struct BuyBackForm {
    pub sku: Option<String>,
    pub units: Option<String>,
    pub paid: Option<String>,
    pub paid_to: Option<String>,
    /// A checkbox: present (`on`, `true`, `1`) when detained.
    pub detained: Option<String>,
    pub id: Option<String>,
    pub on: Option<String>,
}

/// The detention form (web) and body (API).
#[derive(Debug, Deserialize)]
pub struct DetainForm {
    pub sku: Option<String>,
    pub units: Option<String>,
    pub reason: Option<String>,
    /// A checkbox: present (`on`, `true`, `1`) to release detained units.
    pub release: Option<String>,
    pub id: Option<String>,
    pub on: Option<String>,
}

pub async fn do_detain(
    state: &AppState,
    t: &Tenant,
    distributor: &str,
    f: &DetainForm,
) -> Result<(app::Detained, String), Fail> {
    let d = distributor_of(t, state, distributor).await?;
    let units = blank(&f.units).ok_or_else(|| Fail::bad("units: how many?"))?;
    let units: u64 = units
        .parse()
        .map_err(|_| Fail::bad(format!("units: {units:?} is not a whole number")))?;
    let release = match blank(&f.release).as_deref() {
        None | Some("false" | "0" | "off" | "no") => false,
        Some("true" | "1" | "on" | "yes") => true,
        Some(other) => {
            return Err(Fail::bad(format!(
                "release: {other:?} is not true or false"
            )))
        }
    };
    let req = app::Detain {
        holder: d,
        sku: app::parse_sku(&blank(&f.sku).ok_or_else(|| Fail::bad("sku: which SKU?"))?)?,
        units,
        reason: f.reason.clone().unwrap_or_default(),
        release,
        id: blank(&f.id),
        on: date_field("on", &f.on)?,
    };
    let x = app::detain(t.store(), &req, &t.viewer.user.email).await?;
    let l = locale(t);
    let words = x.said(|d| l.date(d));
    t.audit(
        &state.control,
        if x.released {
            "detention_released"
        } else {
            "detention"
        },
        &words,
    )
    .await?;
    Ok((x, words))
}

pub async fn do_accept(
    state: &AppState,
    t: &Tenant,
    f: &AcceptForm,
) -> Result<(Accepted, String), Fail> {
    let reason = blank(&f.reason).ok_or_else(|| {
        Fail::bad(format!(
            "reason: one of {}",
            app::reason_choices().join(", ")
        ))
    })?;
    let req = AcceptDeduction {
        distributor: party_field("distributor", &f.distributor)?,
        statement_id: blank(&f.statement_id)
            .ok_or_else(|| Fail::bad("statement_id: which statement?"))?,
        amount: amount_field("amount", &f.amount)?,
        reason: app::parse_reason(&reason)?,
        note: f.note.clone().unwrap_or_default(),
        on: date_field("on", &f.on)?,
    };
    let a = app::accept(t.store(), &req, &t.viewer.user.email).await?;
    let words = accepted_words(&locale(t), &a);
    t.audit(&state.control, "deduction_accepted", &words)
        .await?;
    Ok((a, words))
}

pub async fn do_dispute(
    state: &AppState,
    t: &Tenant,
    f: &DisputeForm,
) -> Result<(Disputed, String), Fail> {
    let req = DisputeDeduction {
        distributor: party_field("distributor", &f.distributor)?,
        statement_id: blank(&f.statement_id)
            .ok_or_else(|| Fail::bad("statement_id: which statement?"))?,
        note: f.note.clone().unwrap_or_default(),
        on: date_field("on", &f.on)?,
    };
    let x = app::dispute(t.store(), &req, &t.viewer.user.email).await?;
    let words = disputed_words(&locale(t), &x);
    t.audit(&state.control, "deduction_disputed", &words)
        .await?;
    Ok((x, words))
}

pub async fn do_write_off(
    state: &AppState,
    t: &Tenant,
    distributor: &str,
    f: &WriteOffForm,
) -> Result<(WrittenOff, String), Fail> {
    let d = distributor_of(t, state, distributor).await?;
    let req = WriteOff {
        distributor: d,
        statement_id: blank(&f.statement_id),
        amount: amount_field("amount", &f.amount)?,
        reason: f.reason.clone().unwrap_or_default(),
        on: date_field("on", &f.on)?,
    };
    let w = app::write_off(t.store(), &req, &t.viewer.user.email).await?;
    let words = written_off_words(&locale(t), &w);
    t.audit(&state.control, "receivable_written_off", &words)
        .await?;
    Ok((w, words))
}

pub async fn do_buy_back(
    state: &AppState,
    t: &Tenant,
    distributor: &str,
    f: &BuyBackForm,
) -> Result<(BoughtBack, String), Fail> {
    let d = distributor_of(t, state, distributor).await?;
    let units = blank(&f.units).ok_or_else(|| Fail::bad("units: how many?"))?;
    let units: u64 = units
        .parse()
        .map_err(|_| Fail::bad(format!("units: {units:?} is not a whole number")))?;
    let paid = amount_field("paid", &f.paid)?
        .ok_or_else(|| Fail::bad("paid: what was paid for them, e.g. 120.00 (0 if nothing)"))?;
    let detained = match blank(&f.detained).as_deref() {
        None | Some("false" | "0" | "off" | "no") => false,
        Some("true" | "1" | "on" | "yes") => true,
        Some(other) => {
            return Err(Fail::bad(format!(
                "detained: {other:?} is not true or false"
            )))
        }
    };
    let req = BuyBack {
        holder: d,
        sku: app::parse_sku(&blank(&f.sku).ok_or_else(|| Fail::bad("sku: which SKU?"))?)?,
        units,
        detained,
        paid,
        paid_to: blank(&f.paid_to),
        id: blank(&f.id),
        on: date_field("on", &f.on)?,
    };
    let b = app::buy_back(t.store(), &req, &t.viewer.user.email).await?;
    let words = bought_back_words(&locale(t), &b);
    t.audit(&state.control, "buy_back", &words).await?;
    Ok((b, words))
}

// ---------------------------------------------------------------------------------------
// Pages

fn is_yes(q: &HashMap<String, String>, k: &str) -> bool {
    matches!(
        q.get(k).map(|s| s.trim()),
        Some("1" | "true" | "yes" | "on" | "all")
    )
}

fn accept_form(t: &Tenant, d: &Deduction) -> String {
    let id = format!(
        "{}-{}",
        idpart(d.distributor.as_str()),
        idpart(&d.statement_id)
    );
    let mut opts = String::new();
    for r in DeductionReason::ALL {
        opts.push_str(&format!(
            r#"<option value="{}">{}</option>"#,
            app::reason_words(r),
            esc(&reason_words(r))
        ));
    }
    let hidden = format!(
        r#"{}<input type="hidden" name="distributor" value="{}"><input type="hidden" name="statement_id" value="{}">"#,
        csrf_field(t),
        esc(d.distributor.as_str()),
        esc(&d.statement_id)
    );
    let mut s = format!(
        r#"<form id="accept-form-{id}" class="inline" method="post" action="{}">{hidden}<select name="reason" aria-label="reason">{opts}</select> <input name="amount" size="8" placeholder="{}" aria-label="amount (default: all)"> <input name="note" size="14" placeholder="note" aria-label="note"> <button type="submit">Accept</button></form>"#,
        esc(&base(t, "deductions/accept")),
        esc(&d.amount.to_decimal_string()),
    );
    if d.status == DeductionStatus::Open {
        s.push_str(&format!(
            r#" <form id="dispute-form-{id}" class="inline" method="post" action="{}">{hidden}<input name="note" size="14" placeholder="why" aria-label="why disputed" required> <button type="submit">Dispute</button></form>"#,
            esc(&base(t, "deductions/dispute")),
        ));
    }
    s
}

pub async fn page_get(
    State(state): State<AppState>,
    t: Tenant,
    Query(q): Q,
) -> Result<Response, Fail> {
    let as_of = views::as_of_param(&q)?;
    let b = views::books_at(&t, &state.cache, as_of).await?;
    let l = locale(&t);
    let today = as_of.is_none() || as_of == Some(backstock_app::risk::today(t.store()).await?);
    let act = today && t.may(Perm::Operate);
    let mut cols = vec![
        ("distributor", false),
        ("statement", false),
        ("period end", false),
        ("net due", true),
        ("paid", true),
        ("deducted", true),
        ("since", false),
        ("days", true),
        ("status", false),
        ("note", false),
    ];
    if act {
        cols.push(("act", false));
    }
    let mut open = Grid::new("deductions", &cols);
    let mut settled = Grid::new(
        "settled",
        &[
            ("distributor", false),
            ("statement", false),
            ("period end", false),
            ("net due", true),
            ("amount", true),
            ("on", false),
            ("status", false),
            ("reason", false),
            ("entry", false),
        ],
    );
    let mut totals: Vec<Money> = Vec::new();
    for d in &b.deductions {
        let dist = Cell::link(
            d.distributor.to_string(),
            &base(
                &t,
                &format!("distributors/{}", url_encode(d.distributor.as_str())),
            ),
        );
        if d.status.is_outstanding() {
            match totals
                .iter_mut()
                .find(|m| m.currency() == d.amount.currency())
            {
                Some(m) => *m = m.checked_add(d.amount).unwrap_or(*m),
                None => totals.push(d.amount),
            }
            let mut row = vec![
                dist,
                Cell::text(d.statement_id.clone()),
                date_cell(&l, d.period_end),
                money_cell(&l, d.net_due),
                money_cell(&l, d.paid),
                money_cell(&l, d.amount),
                date_cell(&l, d.since),
                Cell::num(l.int(d.days_open), d.days_open, d.days_open.to_string()),
                Cell::text(d.status.as_str()),
                Cell::text(match (d.disputed_on, &d.note) {
                    (Some(on), Some(n)) => format!("{n} (disputed {})", l.date(on)),
                    (_, Some(n)) => n.clone(),
                    _ => String::new(),
                }),
            ];
            if act {
                row.push(html_cell(String::new(), accept_form(&t, d)));
            }
            open.push(row);
        } else {
            settled.push(vec![
                dist,
                Cell::text(d.statement_id.clone()),
                date_cell(&l, d.period_end),
                money_cell(&l, d.net_due),
                money_cell(&l, d.amount),
                date_cell(&l, d.since),
                Cell::text(match d.status {
                    DeductionStatus::WrittenOff => "written off",
                    s => s.as_str(),
                }),
                Cell::text(match (d.reason.map(reason_words), &d.note) {
                    (Some(r), Some(n)) => format!("{r}: {n}"),
                    (Some(r), None) => r,
                    (None, Some(n)) => n.clone(),
                    (None, None) => String::new(),
                }),
                Cell::text(d.entry_id.clone().unwrap_or_default()),
            ]);
        }
    }
    open.sort(&q);
    settled.sort(&q);
    // A CSV download streams every row of the table asked for.
    let [open, settled] = match crate::html::csv_or_grids([open, settled], &q) {
        Ok(grids) => grids,
        Err(r) => return Ok(*r),
    };
    let path = base(&t, "deductions");
    let shown_path = match as_of {
        Some(d) => format!("{path}?as_of={d}"),
        None => path.clone(),
    };
    let total = if totals.is_empty() {
        "Nothing deducted is outstanding.".to_string()
    } else {
        format!(
            "Outstanding: {}. A deduction is what a distributor kept when it paid a statement short (by up to {} of it); it stays owed until paid, accepted or written off.",
            totals
                .iter()
                .map(|m| l.money(*m))
                .collect::<Vec<_>>()
                .join(", "),
            permille_words(&b)
        )
    };
    let mut actions = String::new();
    if act {
        for r in &b.receivables {
            let d = r.distributor.as_str();
            let dp = idpart(d);
            let action =
                |what: &str| esc(&base(&t, &format!("distributors/{}/{what}", url_encode(d))));
            let held: i64 = b
                .stock
                .iter()
                .filter(|s| s.holder == d && s.state != "origin")
                .map(|s| s.units)
                .sum();
            actions.push_str(&format!(
                r#"<section id="d-{dp}"><h2>{} — write off, buy back, detained stock</h2><p>Open balance {}; holds {} of the label's units.</p><div class="grid2">
<form id="writeoff-form-{dp}" class="stack" method="post" action="{}">{}
<label for="writeoff-statement-{dp}">Statement (empty: the whole balance)</label><input id="writeoff-statement-{dp}" name="statement_id">
<label for="writeoff-amount-{dp}">Amount (empty: all that is open)</label><input id="writeoff-amount-{dp}" name="amount" inputmode="decimal">
<label for="writeoff-reason-{dp}">Why (goes in the journal)</label><input id="writeoff-reason-{dp}" name="reason" required>
<button class="primary" type="submit">Write off</button></form>
<form id="buyback-form-{dp}" class="stack" method="post" action="{}">{}
<label for="buyback-sku-{dp}">SKU</label><input id="buyback-sku-{dp}" name="sku" required>
<label for="buyback-units-{dp}">Units</label><input id="buyback-units-{dp}" name="units" type="number" min="1" required>
<label for="buyback-paid-{dp}">Paid in all (0 if nothing)</label><input id="buyback-paid-{dp}" name="paid" inputmode="decimal" required>
<label for="buyback-paid-to-{dp}">Paid to (default: {})</label><input id="buyback-paid-to-{dp}" name="paid_to">
<label><input type="checkbox" name="detained" value="true"> detained (held against the label's will)</label>
<button class="primary" type="submit">Buy back</button></form>
<form id="detain-form-{dp}" class="stack" method="post" action="{}">{}
<label for="detain-sku-{dp}">SKU</label><input id="detain-sku-{dp}" name="sku" required>
<label for="detain-units-{dp}">Units</label><input id="detain-units-{dp}" name="units" type="number" min="1" required>
<label for="detain-reason-{dp}">Why (a refused return, a seizure; goes in the journal)</label><input id="detain-reason-{dp}" name="reason" required>
<label><input type="checkbox" name="release" value="true"> release (no longer held against the label's will)</label>
<button class="primary" type="submit">Record as detained</button></form></div></section>"#,
                esc(d),
                esc(&l.money(r.book.open_balance)),
                esc(&l.int(held)),
                action("write-offs"),
                csrf_field(&t),
                action("buy-backs"),
                csrf_field(&t),
                esc(d),
                action("detentions"),
                csrf_field(&t),
            ));
        }
    }
    let body = format!(
        r#"<form id="as-of-form" class="inline" method="get" action="{path}"><label for="as-of">As of</label> <input id="as-of" name="as_of" type="date" value="{}"> <button type="submit">Show</button></form>
<section id="deductions"><h2>Outstanding</h2><p>{}</p>{}</section>
<section><h2>Accepted and written off</h2>{}</section>{actions}"#,
        b.as_of,
        esc(&total),
        open.html(&shown_path, &q),
        settled.html(&shown_path, &q),
    );
    Ok(page("Deductions", Some(&t), &body).into_response())
}

fn permille_words(b: &views::Books) -> String {
    let pm = b
        .thresholds
        .as_deref()
        .and_then(|s| serde_json::from_str::<backstock_risk::Thresholds>(s).ok())
        .unwrap_or_default()
        .deduction_max_permille;
    if pm % 10 == 0 {
        format!("{}%", pm / 10)
    } else {
        format!("{}.{}%", pm / 10, pm % 10)
    }
}

pub async fn accept_post(
    State(state): State<AppState>,
    t: Tenant,
    Form(f): Form<AcceptForm>,
) -> Result<Html<String>, Fail> {
    let (_, words) = do_accept(&state, &t, &f).await?;
    Ok(result_page(
        &t,
        "Deduction accepted",
        &words,
        &base(&t, "deductions"),
    ))
}

pub async fn dispute_post(
    State(state): State<AppState>,
    t: Tenant,
    Form(f): Form<DisputeForm>,
) -> Result<Html<String>, Fail> {
    let (_, words) = do_dispute(&state, &t, &f).await?;
    Ok(result_page(
        &t,
        "Deduction disputed",
        &words,
        &base(&t, "deductions"),
    ))
}

pub async fn write_off_post(
    State(state): State<AppState>,
    t: Tenant,
    Path((_, id)): Path<(String, String)>,
    Form(f): Form<WriteOffForm>,
) -> Result<Html<String>, Fail> {
    let (_, words) = do_write_off(&state, &t, &id, &f).await?;
    Ok(result_page(
        &t,
        "Written off",
        &words,
        &base(&t, "deductions"),
    ))
}

pub async fn buy_back_post(
    State(state): State<AppState>,
    t: Tenant,
    Path((_, id)): Path<(String, String)>,
    Form(f): Form<BuyBackForm>,
) -> Result<Html<String>, Fail> {
    let (_, words) = do_buy_back(&state, &t, &id, &f).await?;
    Ok(result_page(
        &t,
        "Bought back",
        &words,
        &base(&t, "deductions"),
    ))
}

pub async fn detain_post(
    State(state): State<AppState>,
    t: Tenant,
    Path((_, id)): Path<(String, String)>,
    Form(f): Form<DetainForm>,
) -> Result<Html<String>, Fail> {
    let (x, words) = do_detain(&state, &t, &id, &f).await?;
    Ok(result_page(
        &t,
        if x.released {
            "Released"
        } else {
            "Recorded as detained"
        },
        &words,
        &base(&t, "deductions"),
    ))
}

// ---------------------------------------------------------------------------------------
// API

type J = Result<Json<Value>, Fail>;

pub async fn api_list(State(state): State<AppState>, t: Tenant, Query(q): Q) -> J {
    let b = views::books_at(&t, &state.cache, views::as_of_param(&q)?).await?;
    let only = match q
        .get("distributor")
        .map(|s| s.trim())
        .filter(|s| !s.is_empty())
    {
        Some(d) => {
            if views::distributor(&b, d).is_none() {
                return Err(Fail::not_found("no such distributor"));
            }
            Some(d.to_string())
        }
        None => None,
    };
    let all = is_yes(&q, "all") || q.get("status").is_some_and(|s| s == "all");
    let req = crate::paging::PageReq::from_query(&q)?;
    let list: Vec<&Deduction> = b
        .deductions
        .iter()
        .filter(|d| all || d.status.is_outstanding())
        .filter(|d| only.as_deref().is_none_or(|o| d.distributor.as_str() == o))
        .collect();
    let owned = backstock_app::deductions::DeductionList {
        as_of: b.as_of,
        deductions: list.iter().map(|d| (*d).clone()).collect(),
    };
    let totals: Vec<Value> = owned
        .outstanding_totals()
        .into_iter()
        .map(|m| json!({"amount": m.to_decimal_string(), "amount_minor": m.minor(), "currency": m.currency().code()}))
        .collect();
    // The totals are of every deduction listed; the rows come a page at a time, by
    // (distributor, statement).
    let key = |d: &Deduction| crate::paging::key(&[d.distributor.as_str(), &d.statement_id]);
    let mut rows = owned.deductions;
    rows.sort_by_cached_key(key);
    let (rows, next) = req.page(rows, key);
    Ok(Json(crate::paging::answer(
        json!({
            "as_of": b.as_of,
            "deductions": rows,
            "outstanding": totals,
        }),
        &req,
        next,
    )))
}

#[derive(Deserialize)]
pub struct AcceptBody {
    pub distributor: Option<String>,
    pub statement_id: Option<String>,
    pub reason: Option<String>,
    pub amount: Option<Value>,
    pub note: Option<String>,
    pub on: Option<String>,
}

pub async fn api_accept(State(state): State<AppState>, t: Tenant, Body(b): Body<AcceptBody>) -> J {
    let f = AcceptForm {
        amount: json_amount("amount", &b.amount)?,
        distributor: b.distributor,
        statement_id: b.statement_id,
        reason: b.reason,
        note: b.note,
        on: b.on,
    };
    let (a, words) = do_accept(&state, &t, &f).await?;
    Ok(Json(json!({"accepted": a, "message": words})))
}

pub async fn api_dispute(
    State(state): State<AppState>,
    t: Tenant,
    Body(f): Body<DisputeForm>,
) -> J {
    let (x, words) = do_dispute(&state, &t, &f).await?;
    Ok(Json(json!({"disputed": x, "message": words})))
}

#[derive(Deserialize)]
pub struct WriteOffBody {
    pub statement_id: Option<String>,
    pub amount: Option<Value>,
    pub reason: Option<String>,
    pub on: Option<String>,
}

pub async fn api_write_off(
    State(state): State<AppState>,
    t: Tenant,
    Path((_, id)): Path<(String, String)>,
    Body(b): Body<WriteOffBody>,
) -> J {
    let f = WriteOffForm {
        amount: json_amount("amount", &b.amount)?,
        statement_id: b.statement_id,
        reason: b.reason,
        on: b.on,
    };
    let (w, words) = do_write_off(&state, &t, &id, &f).await?;
    Ok(Json(json!({"written_off": w, "message": words})))
}

#[derive(Deserialize)]
pub struct BuyBackBody {
    pub sku: Option<String>,
    pub units: Option<u64>,
    pub paid: Option<Value>,
    pub paid_to: Option<String>,
    pub detained: Option<bool>,
    pub id: Option<String>,
    pub on: Option<String>,
}

pub async fn api_buy_back(
    State(state): State<AppState>,
    t: Tenant,
    Path((_, id)): Path<(String, String)>,
    Body(b): Body<BuyBackBody>,
) -> J {
    let f = BuyBackForm {
        paid: json_amount("paid", &b.paid)?,
        sku: b.sku,
        units: b.units.map(|u| u.to_string()),
        paid_to: b.paid_to,
        detained: b.detained.map(|d| d.to_string()),
        id: b.id,
        on: b.on,
    };
    let (x, words) = do_buy_back(&state, &t, &id, &f).await?;
    Ok(Json(json!({"bought_back": x, "message": words})))
}

#[derive(Deserialize)]
pub struct DetainBody {
    pub sku: Option<String>,
    pub units: Option<u64>,
    pub reason: Option<String>,
    pub release: Option<bool>,
    pub id: Option<String>,
    pub on: Option<String>,
}

pub async fn api_detain(
    State(state): State<AppState>,
    t: Tenant,
    Path((_, id)): Path<(String, String)>,
    Body(b): Body<DetainBody>,
) -> J {
    let f = DetainForm {
        sku: b.sku,
        units: b.units.map(|u| u.to_string()),
        reason: b.reason,
        release: b.release.map(|r| r.to_string()),
        id: b.id,
        on: b.on,
    };
    let (x, words) = do_detain(&state, &t, &id, &f).await?;
    Ok(Json(json!({"detention": x, "message": words})))
}

// ---------------------------------------------------------------------------------------
// Thresholds

fn changes_words(c: &[ThresholdChange]) -> String {
    if c.is_empty() {
        return "No threshold changed.".to_string();
    }
    format!(
        "Thresholds changed: {}.",
        c.iter()
            .map(|x| format!("{} {} → {}", x.name, x.from, x.to))
            .collect::<Vec<_>>()
            .join(", ")
    )
}

async fn save_thresholds(
    state: &AppState,
    t: &Tenant,
    changes: &[(String, Option<i64>)],
) -> Result<Vec<ThresholdChange>, Fail> {
    let changed = thresholds::update(t.store(), changes).await?;
    if !changed.is_empty() {
        t.audit(&state.control, "thresholds", &changes_words(&changed))
            .await?;
    }
    Ok(changed)
}

/// `refused`: why a save was refused, and the values as typed (shown instead of those
/// on file).
async fn thresholds_html(
    t: &Tenant,
    message: Option<&str>,
    refused: Option<(&str, &[(String, String)])>,
) -> Result<Html<String>, Fail> {
    let rows = thresholds::settings(t.store()).await?;
    let typed = |name: &str| {
        refused.and_then(|(_, f)| f.iter().find(|(k, _)| k == name).map(|(_, v)| v.clone()))
    };
    let mut table = String::from(
        r#"<table id="table-thresholds"><thead><tr><th>threshold</th><th class="num">default</th><th class="num">this label</th><th>set to (empty: the default)</th></tr></thead><tbody>"#,
    );
    for r in &rows {
        table.push_str(&format!(
            r#"<tr{}><td><code>{}</code></td><td class="num">{}</td><td class="num">{}</td><td><input name="{}" id="th-{}" type="number" min="0" step="1" value="{}" placeholder="{}" aria-label="{}"></td></tr>"#,
            if r.overridden() { r#" class="overridden""# } else { "" },
            esc(&r.name),
            r.default,
            r.current,
            esc(&r.name),
            esc(&r.name),
            esc(&typed(&r.name).unwrap_or_else(|| if r.overridden() {
                r.current.to_string()
            } else {
                String::new()
            })),
            r.default,
            esc(&r.name),
        ));
    }
    table.push_str("</tbody></table>");
    let msg = message
        .map(|m| format!(r#"<p id="thresholds-result" class="okbox">{}</p>"#, esc(m)))
        .unwrap_or_default()
        + &refused
            .map(|(why, _)| {
                format!(
                    r#"<div id="thresholds-error" class="err" role="alert"><p>{} — nothing was saved; the form below is as you typed it.</p></div>"#,
                    esc(why)
                )
            })
            .unwrap_or_default();
    let body = format!(
        r#"{msg}<section><p>Each threshold tunes one early-warning rule (the rules, their levels and defaults are described in the README's <em>Early warning</em> section). Values are days, counts, whole units of money, or per-mille (‰: 1000 = 100 %).</p>
<form id="thresholds-form" method="post" action="{}">{}{table}<button id="thresholds-submit" class="primary" type="submit">Save</button></form></section>"#,
        esc(&base(t, "thresholds")),
        csrf_field(t),
    );
    Ok(page("Risk thresholds", Some(t), &body))
}

pub async fn thresholds_get(t: Tenant) -> Result<Html<String>, Fail> {
    thresholds_html(&t, None, None).await
}

pub async fn thresholds_post(
    State(state): State<AppState>,
    t: Tenant,
    Form(fields): Form<Vec<(String, String)>>,
) -> Result<Response, Fail> {
    let typed: Vec<(String, String)> = fields.into_iter().filter(|(k, _)| k != "csrf").collect();
    let saved = async {
        let mut changes = Vec::new();
        for (k, v) in &typed {
            changes.push((k.clone(), thresholds::parse_value(k, v)?));
        }
        save_thresholds(&state, &t, &changes).await
    }
    .await;
    match saved {
        Ok(changed) => Ok(thresholds_html(&t, Some(&changes_words(&changed)), None)
            .await?
            .into_response()),
        // Refused: the page again with what was typed, and why (nothing was saved).
        Err(fail) if matches!(fail.status, 400 | 409 | 422) => {
            let status = axum::http::StatusCode::from_u16(fail.status)
                .unwrap_or(axum::http::StatusCode::BAD_REQUEST);
            let page = thresholds_html(&t, None, Some((&fail.message, &typed))).await?;
            Ok((status, page).into_response())
        }
        Err(fail) => Err(fail),
    }
}

pub async fn api_thresholds(t: Tenant) -> J {
    let rows = thresholds::settings(t.store()).await?;
    Ok(Json(json!({ "thresholds": rows })))
}

pub async fn api_thresholds_post(
    State(state): State<AppState>,
    t: Tenant,
    Body(b): Body<serde_json::Map<String, Value>>,
) -> J {
    let mut changes = Vec::new();
    for (k, v) in &b {
        let n = match v {
            Value::Null => None,
            Value::Number(n) => Some(
                n.as_i64()
                    .ok_or_else(|| Fail::bad(format!("{k}: {n} is not a whole number")))?,
            ),
            other => {
                return Err(Fail::bad(format!(
                    "{k}: {other} is not a whole number (null: back to the default)"
                )))
            }
        };
        changes.push((k.clone(), n));
    }
    let changed = save_thresholds(&state, &t, &changes).await?;
    let rows = thresholds::settings(t.store()).await?;
    Ok(Json(json!({"changed": changed, "thresholds": rows})))
}

/// The thresholds form's fields, for the route table: every threshold's name, with its
/// default.
pub fn threshold_fields() -> &'static [(&'static str, &'static str)] {
    static FIELDS: std::sync::OnceLock<Vec<(&'static str, &'static str)>> =
        std::sync::OnceLock::new();
    FIELDS.get_or_init(|| {
        let d = serde_json::to_value(backstock_risk::Thresholds::default()).unwrap_or_default();
        thresholds::names()
            .into_iter()
            .map(|n| {
                let desc = format!(
                    "a whole number ≥ 0; empty (JSON: null) = the default ({})",
                    d.get(&n).cloned().unwrap_or_default()
                );
                (
                    &*Box::leak(n.into_boxed_str()),
                    &*Box::leak(desc.into_boxed_str()),
                )
            })
            .collect()
    })
}
