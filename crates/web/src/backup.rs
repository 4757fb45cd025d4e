//! "Download a backup": the label's whole store as one SQLite file, a consistent copy
//! taken while the server runs and checked (hash chain, replay) before it is sent
//! (`backstock_app::backup`). Restore it with `backstock restore FILE`.
//!
//! Who: `manage` (the owner). Every download is audited.

use crate::auth::Tenant;
use crate::{AppState, Fail};
use axum::extract::State;
use axum::http::header;
use axum::response::{IntoResponse, Response};

/// The backup file, as a download.
pub async fn download(State(state): State<AppState>, t: Tenant) -> Result<Response, Fail> {
    let (bytes, made) = backstock_app::backup::backup_bytes(t.store()).await?;
    let today = backstock_app::risk::today(t.store()).await?;
    t.audit(
        &state.control,
        "backup_downloaded",
        &format!(
            "{} entries, {} bytes, head {}",
            made.entries, made.bytes, made.head
        ),
    )
    .await?;
    Ok((
        [
            (header::CONTENT_TYPE, "application/vnd.sqlite3".to_string()),
            (
                header::CONTENT_DISPOSITION,
                format!(
                    "attachment; filename=\"backstock-{}-{today}.backstock\"",
                    t.slug()
                ),
            ),
        ],
        bytes,
    )
        .into_response())
}
