//! The accountant's exports over HTTP: `GET /api/v1/t/{tenant}/export/{format}?from=&to=`
//! (and `currency`) answers the file `backstock export FORMAT` writes — beancount, a CSV
//! journal, a Xero manual-journal or a QuickBooks Online journal-entry import — as a
//! download. The rules are `backstock_app::export`; here the query is parsed, the file
//! sent and the download audited.
//!
//! Who: `export` (owner, staff, bookkeeper).

use crate::auth::Tenant;
use crate::{AppState, Fail};
use axum::extract::{Path, Query, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use backstock_app::export::{self as app, ExportRequest};
use backstock_domain::{Currency, Date};
use std::collections::HashMap;

/// The query parameters of the export route.
pub const EXPORT_QUERY: &[(&str, &str)] = &[
    ("from", "YYYY-MM-DD: the first day of the range (required)"),
    ("to", "YYYY-MM-DD: the last day of the range (required)"),
    (
        "currency",
        "only money in this currency (Xero and QuickBooks import one currency)",
    ),
];

fn date(q: &HashMap<String, String>, name: &str) -> Result<Date, Fail> {
    let s = q
        .get(name)
        .map(|s| s.trim())
        .filter(|s| !s.is_empty())
        .ok_or_else(|| Fail::bad(format!("{name}: give a date (YYYY-MM-DD)")))?;
    Date::parse(s).map_err(|e| Fail::bad(format!("{name}: {e}")))
}

/// The request a query makes.
pub fn request(format: &str, q: &HashMap<String, String>) -> Result<ExportRequest, Fail> {
    let format = app::parse_format(format)?;
    let currency = q
        .get("currency")
        .map(|s| s.trim())
        .filter(|s| !s.is_empty())
        .map(|c| Currency::parse(c).map_err(|e| Fail::bad(format!("currency: {e}"))))
        .transpose()?;
    Ok(ExportRequest {
        format,
        from: date(q, "from")?,
        to: date(q, "to")?,
        currency,
    })
}

/// The file, as a download.
pub async fn api_export(
    State(state): State<AppState>,
    t: Tenant,
    Path((_, format)): Path<(String, String)>,
    Query(q): Query<HashMap<String, String>>,
) -> Result<Response, Fail> {
    let req = request(&format, &q)?;
    let out = app::export(t.store(), &req).await?;
    t.audit(
        &state.control,
        "export_downloaded",
        &format!(
            "{} from {} to {} ({} transactions)",
            out.format.as_str(),
            out.from,
            out.to,
            out.transactions
        ),
    )
    .await?;
    Ok((
        [
            (header::CONTENT_TYPE, out.format.media_type().to_string()),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"{}\"", out.file_name),
            ),
        ],
        out.text,
    )
        .into_response())
}
