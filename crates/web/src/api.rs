//! The JSON API under `/api/v1`: what the pages do, for programs. Authenticate with
//! `Authorization: Bearer <token>`; errors are `{"error":{"code":…,"message":…}}`
//! with the codes of [`crate::ERROR_CODES`]. Money is
//! `{"amount": "1234.56", "amount_minor": 123456, "currency": "USD"}`.

use crate::auth::{Tenant, Viewer};
use crate::pages::{MemberForm, RoleForm, SettingsForm, ShipForm};
use crate::views;
use crate::{AppState, Fail};
use axum::extract::{Multipart, Path, State};
use axum::Json;
use serde::Deserialize;
use serde_json::{json, Value};

type J = Result<Json<Value>, Fail>;

/// JSON bodies: a malformed one is an `invalid_input` error with serde's reason.
pub struct Body<T>(pub T);

impl<T: serde::de::DeserializeOwned> axum::extract::FromRequest<AppState> for Body<T> {
    type Rejection = Fail;
    async fn from_request(req: axum::extract::Request, state: &AppState) -> Result<Self, Fail> {
        match Json::<T>::from_request(req, state).await {
            Ok(Json(v)) => Ok(Body(v)),
            Err(e) => Err(Fail::bad(format!("the JSON body: {}", e.body_text()))),
        }
    }
}

pub async fn openapi() -> Json<Value> {
    Json(crate::routes::openapi())
}

pub async fn me(State(state): State<AppState>, v: Viewer) -> J {
    let ms = state.control.memberships_of(v.user.id).await?;
    let tokens: Vec<Value> = state
        .control
        .token_rows(v.user.id)
        .await?
        .into_iter()
        .map(|t| json!({"id": t.id, "name": t.name, "created": t.created, "parent": t.parent}))
        .collect();
    Ok(Json(
        json!({"user": v.user, "memberships": ms, "tokens": tokens}),
    ))
}

pub async fn revoke_token(State(state): State<AppState>, v: Viewer, Path(id): Path<String>) -> J {
    let (name, minted) = crate::pages::revoke(&state, &v, &id).await?;
    Ok(Json(json!({"revoked": name, "also_revoked": minted})))
}

#[derive(Deserialize)]
pub struct TokenBody {
    pub name: String,
}

pub async fn create_token(State(state): State<AppState>, v: Viewer, Body(b): Body<TokenBody>) -> J {
    let name = b.name.trim();
    if name.is_empty() || name.len() > 80 {
        return Err(Fail::bad(
            "name: give the token a name (up to 80 characters)",
        ));
    }
    // A token made with a token is its child: revoking the parent revokes it.
    let parent = match v.credential {
        crate::auth::Credential::Token { id } => Some(id),
        crate::auth::Credential::Session { .. } => None,
    };
    let (id, token) = state.control.mint_token(v.user.id, name, parent).await?;
    let detail = match parent {
        Some(p) => format!("{name} (id {id}, minted with token {p})"),
        None => format!("{name} (id {id})"),
    };
    state
        .control
        .audit(None, &v.user.email, "token_created", &detail, &v.ip)
        .await?;
    Ok(Json(
        json!({"token": token, "id": id, "name": name, "parent": parent}),
    ))
}

fn summary(b: &views::Books) -> Vec<Value> {
    b.receivables
        .iter()
        .map(|r| {
            let a = &r.book.ageing;
            let x = &r.exposure;
            json!({
                "distributor": r.distributor,
                "level": b.risk.iter().find(|a| a.distributor == r.distributor).map(|a| a.level),
                "open": ser(r.book.open_balance),
                "ageing": {"current": ser(a.current), "days_1_30": ser(a.days_1_30), "days_31_60": ser(a.days_31_60), "days_61_90": ser(a.days_61_90), "days_over_90": ser(a.days_over_90)},
                "reserve_held": ser(x.reserve_held),
                "stock_at_wholesale": ser(x.stock_at_wholesale),
                "exposure": ser(x.total),
                "credit_limit": ser(x.credit_limit),
                "limit_used_permille": x.limit_used_permille,
            })
        })
        .collect()
}

fn ser(m: backstock_domain::Money) -> Value {
    json!({"amount": m.to_decimal_string(), "amount_minor": m.minor(), "currency": m.currency().code()})
}

type Q = axum::extract::Query<std::collections::HashMap<String, String>>;
use crate::paging::{self, PageReq};

pub async fn dashboard(State(state): State<AppState>, t: Tenant, axum::extract::Query(q): Q) -> J {
    let b = views::books_at(&t, &state.cache, views::as_of_param(&q)?).await?;
    let alerts = t.store().alerts().await?;
    let stock: Vec<Value> = views::stock_by_holder(&b)
        .iter()
        .map(|(h, s, u)| json!({"holder": h, "state": s, "units": u}))
        .collect();
    Ok(Json(json!({
        "as_of": b.as_of,
        "journal_entries": b.journal_len,
        "journal_entries_known": b.entries.len(),
        "risk": b.risk,
        "next_steps": b.next_steps,
        "alerts": alerts.iter().filter(|a| backstock_domain::Date::parse(&a.as_of).is_ok_and(|d| d <= b.as_of)).map(|a| json!({"id": a.id, "raised_at": a.raised_at, "as_of": a.as_of, "distributor": a.distributor, "from": a.from_level, "to": a.to_level})).collect::<Vec<_>>(),
        "receivables": summary(&b),
        "stock_by_holder": stock,
        "exposure_history": b.history,
    })))
}

pub async fn distributors(
    State(state): State<AppState>,
    t: Tenant,
    axum::extract::Query(q): Q,
) -> J {
    let b = views::books_at(&t, &state.cache, views::as_of_param(&q)?).await?;
    Ok(Json(json!({"as_of": b.as_of, "distributors": summary(&b)})))
}

pub async fn distributor(
    State(state): State<AppState>,
    t: Tenant,
    Path((_, id)): Path<(String, String)>,
    axum::extract::Query(q): Q,
) -> J {
    let b = views::books_at(&t, &state.cache, views::as_of_param(&q)?).await?;
    let d = views::distributor(&b, &id).ok_or_else(|| Fail::not_found("no such distributor"))?;
    Ok(Json(json!({
        "as_of": b.as_of,
        "agreement": d.agreement,
        "ucc": d.legal,
        "risk": d.risk,
        "receivables": d.receivables,
        "payments": d.payments.iter().map(|(on, id, m, s)| json!({"date": on, "payment_id": id, "amount": ser(*m), "statement_id": s})).collect::<Vec<_>>(),
        "demands": d.demands,
        "timeline": d.timeline.iter().map(|(on, l, s)| json!({"on": on, "level": l, "signals": s})).collect::<Vec<_>>(),
    })))
}

#[derive(Deserialize)]
pub struct ShipBody {
    pub sku: String,
    pub units: u64,
    pub po: Option<String>,
    #[serde(rename = "override")]
    pub override_reason: Option<String>,
}

pub async fn ship(
    State(state): State<AppState>,
    t: Tenant,
    Path((_, id)): Path<(String, String)>,
    Body(b): Body<ShipBody>,
) -> J {
    let f = ShipForm {
        sku: b.sku,
        units: b.units.to_string(),
        po: b.po,
        override_reason: b.override_reason,
    };
    let out = crate::pages::record_shipment(&t, &id, &f, &state).await?;
    Ok(Json(json!({
        "recorded": out.to_string().trim_end(),
        "shipment_id": out.shipment_id,
        "entry_id": out.entry_id,
        "units": out.units,
        "date": out.date,
        "overridden": out.overridden.is_some(),
        "hold_reasons": out.overridden.as_ref().map(|o| o.hold_reasons.iter().map(|r| json!({"code": r.code, "message": r.message})).collect::<Vec<_>>()),
    })))
}

pub async fn catalog(State(state): State<AppState>, t: Tenant, axum::extract::Query(q): Q) -> J {
    let req = crate::paging::PageReq::from_query(&q)?;
    let b = views::books(&t, &state.cache).await?;
    let (items, next) = views::catalog_page(&t, &b, &req);
    Ok(Json(
        json!({"as_of": b.as_of, "items": items, "limit": req.limit, "next": next}),
    ))
}

/// Shipments by (date, shipment, SKU) and purchase orders by (date, distributor, PO,
/// SKU), each paged: `cursor` → `next` for shipments, `po_cursor` →
/// `purchase_orders_next` for orders, `limit` for both.
pub async fn shipments(State(state): State<AppState>, t: Tenant, axum::extract::Query(q): Q) -> J {
    let req = PageReq::from_query(&q)?;
    let po_req = PageReq {
        cursor: q.get("po_cursor").filter(|c| !c.is_empty()).cloned(),
        limit: req.limit,
    };
    let b = views::books(&t, &state.cache).await?;
    let (mut s, mut o) = views::shipments(&t, &b);
    let ship_key =
        |r: &views::ShipmentRow| paging::key(&[&r.date.to_string(), &r.shipment_id, &r.sku]);
    let po_key = |r: &views::OrderRow| {
        paging::key(&[&r.date.to_string(), &r.distributor, &r.po_number, &r.sku])
    };
    s.sort_by_cached_key(ship_key);
    o.sort_by_cached_key(po_key);
    let (s, next) = req.page(s, ship_key);
    let (o, po_next) = po_req.page(o, po_key);
    Ok(Json(paging::answer(
        json!({"as_of": b.as_of, "shipments": s, "purchase_orders": o, "purchase_orders_next": po_next}),
        &req,
        next,
    )))
}

pub async fn import_preview(State(state): State<AppState>, t: Tenant, m: Multipart) -> J {
    let (name, bytes, choices) = crate::upload::read_form(m).await?;
    let p = crate::upload::preview(&state, &t, &name, &bytes, &choices).await?;
    if !p.errors.is_empty() {
        let mut f = Fail::bad(p.errors.join("\n"));
        f.details = p.errors;
        return Err(f);
    }
    Ok(Json(json!(p)))
}

pub async fn import_confirm(
    State(state): State<AppState>,
    t: Tenant,
    Path((_, id)): Path<(String, String)>,
) -> J {
    let report = crate::upload::confirm(&state, &t, &id).await?;
    Ok(Json(json!({"recorded": report})))
}

pub async fn import_discard(
    State(state): State<AppState>,
    t: Tenant,
    Path((_, id)): Path<(String, String)>,
) -> J {
    crate::upload::discard(&state, &t, &id).await?;
    Ok(Json(json!({"discarded": id})))
}

/// Members by email, paged (`next`: the last email given).
pub async fn members(State(state): State<AppState>, t: Tenant, axum::extract::Query(q): Q) -> J {
    let req = PageReq::from_query(&q)?;
    let m = state.control.members(t.slug()).await?;
    let (m, next) = req.page(m, |(u, _)| u.email.clone());
    Ok(Json(paging::answer(
        json!({"members": m.iter().map(|(u, m)| json!({"user": u, "role": m.role, "party": m.party})).collect::<Vec<_>>()}),
        &req,
        next,
    )))
}

pub async fn invite(State(state): State<AppState>, t: Tenant, Body(f): Body<MemberForm>) -> J {
    let detail = crate::pages::add_member(&state, &t, &f).await?;
    Ok(Json(json!({"done": detail})))
}

pub async fn change_role(
    State(state): State<AppState>,
    t: Tenant,
    Path((_, user)): Path<(String, String)>,
    Body(f): Body<RoleForm>,
) -> J {
    let detail = crate::pages::set_role(&state, &t, &user, &f).await?;
    Ok(Json(json!({"done": detail})))
}

pub async fn remove_member(
    State(state): State<AppState>,
    t: Tenant,
    Path((_, user)): Path<(String, String)>,
) -> J {
    let detail = crate::pages::remove(&state, &t, &user).await?;
    Ok(Json(json!({"done": detail})))
}

pub async fn settings(State(state): State<AppState>, t: Tenant, Body(f): Body<SettingsForm>) -> J {
    crate::pages::save_settings(&state, &t, &f).await?;
    Ok(Json(
        json!({"locale": f.locale, "currency": f.currency.trim().to_ascii_uppercase()}),
    ))
}

/// The audit log, newest first, paged by id (`next`: the last id given).
pub async fn audit(State(state): State<AppState>, t: Tenant, axum::extract::Query(q): Q) -> J {
    let req = PageReq::from_query(&q)?;
    if let Some(c) = &req.cursor {
        if c.parse::<i64>().is_err() {
            return Err(Fail::bad(format!("cursor: {c:?} is not from this list")));
        }
    }
    let rows = state.control.audit_log(t.slug(), 5000).await?;
    let (rows, next) = req.page_where(
        rows,
        |a| a.id.to_string(),
        |k, c| k.parse::<i64>().ok() < c.parse::<i64>().ok(),
    );
    Ok(Json(paging::answer(json!({"audit": rows}), &req, next)))
}
