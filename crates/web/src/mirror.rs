//! Labels on PostgreSQL (`serve --database postgres://…`).
//!
//! Each tenant's label is the PostgreSQL label of the same slug (`backstock-store-pg`:
//! one transaction per append, the chain-head lock, append-only history, row-level
//! security). The web app serves it through a **working copy**, a SQLite store in
//! `DIR/labels/<slug>/` kept up to date with the database, so every page, route and
//! use case runs exactly as on a data directory:
//!
//! - a request that only reads brings the copy up to date when the database's head
//!   moved (one query: the head), then reads it under the tenant's read lock;
//! - a request that may write (any method but GET/HEAD/OPTIONS) takes the tenant's
//!   write lock, brings the copy up to date, runs, and then appends what it recorded
//!   to the database (`copy_journal`: each original file's entries in one transaction
//!   under the label's chain-head lock) before the answer leaves. If another server or
//!   a `backstock --database …` command recorded on the label meanwhile, nothing is
//!   appended, the copy is made again from the database, and the answer is 409
//!   `label_moved` ("do it again"): never a half-recorded action, never a copy that
//!   disagrees with the database.
//!
//! The copy is never the record: it can be deleted at any time (it is made again from
//! the database on the next request). The locks are per process; between processes
//! the database's chain-head lock and the prefix check keep each label's chain exact.
//!
//! What is kept beside the journal travels with it (`copy_beside`): the statements of
//! royalty runs and the alert log. A page that reads may raise alerts (the dashboard
//! assesses every distributor): once it has answered, alerts its copy raised are
//! appended to the database too.

use crate::{AppState, Fail};
use axum::extract::{Request, State};
use axum::http::Method;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use backstock_store::contract::{Beside, Journal, Settings};
use backstock_store::copy::{copy_beside, copy_journal};
use backstock_store::Store;
use backstock_store_pg::PgStore;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use tokio::sync::{OwnedRwLockReadGuard, OwnedRwLockWriteGuard, RwLock};

/// The PostgreSQL labels of a server: their stores and per-tenant locks.
pub struct Remote {
    url: String,
    stores: tokio::sync::Mutex<HashMap<String, Arc<PgStore>>>,
    locks: Mutex<HashMap<String, Arc<RwLock<()>>>>,
    /// Per label, the last alert id known to be in the database: a read that raised
    /// none pushes nothing.
    alerts_pushed: Mutex<HashMap<String, i64>>,
}

/// What a request holds on its tenant's working copy until its answer is made.
pub enum Hold {
    /// A request that only reads (it may raise alerts, which are appended after it).
    Read {
        slug: String,
        _guard: OwnedRwLockReadGuard<()>,
    },
    /// A request that may record: what it recorded is appended to the database
    /// before the write lock is let go.
    Write {
        slug: String,
        _guard: OwnedRwLockWriteGuard<()>,
    },
}

/// Where the tenant extractor leaves the request's [`Hold`] for [`push_after`].
#[derive(Clone, Default)]
pub struct HoldSlot(Arc<Mutex<Option<Hold>>>);

impl HoldSlot {
    fn put(&self, h: Hold) {
        if let Ok(mut s) = self.0.lock() {
            *s = Some(h);
        }
    }
    fn take(&self) -> Option<Hold> {
        self.0.lock().ok().and_then(|mut s| s.take())
    }
}

/// Whether a request may record (and so takes the write lock).
pub fn writes(method: &Method) -> bool {
    !matches!(*method, Method::GET | Method::HEAD | Method::OPTIONS)
}

/// Runs `f`'s future to completion on a blocking thread: the PostgreSQL store's
/// futures are not `Send` (sqlx's `&mut PgConnection` executors), and a handler's are.
async fn off_thread<F, Fut, T>(f: F) -> Result<T, Fail>
where
    F: FnOnce() -> Fut + Send + 'static,
    Fut: std::future::Future<Output = T>,
    T: Send + 'static,
{
    let handle = tokio::runtime::Handle::current();
    tokio::task::spawn_blocking(move || handle.block_on(f()))
        .await
        .map_err(|e| Fail::internal(format!("a database task failed: {e}")))
}

/// `copy_journal(from, to)` then `copy_beside(from, to)`, off the async threads.
async fn copied<A, B>(from: Arc<A>, to: Arc<B>) -> Result<(), Fail>
where
    A: Journal + Settings + Beside + Send + Sync + 'static,
    B: Journal + Settings + Beside + Send + Sync + 'static,
{
    off_thread(move || async move {
        copy_journal(&*from, &*to).await?;
        copy_beside(&*from, &*to).await.map(|_| ())
    })
    .await?
    .map_err(|e| Fail::new(409, "label_moved", e.to_string()))
}

async fn head_of<S: Journal + Send + Sync + 'static>(
    s: Arc<S>,
    slug: &str,
) -> Result<backstock_store::contract::Head, Fail> {
    off_thread(move || async move { s.head().await })
        .await?
        .map_err(|e| fail(slug, "reading the head", e))
}

fn fail(slug: &str, what: &str, e: impl std::fmt::Display) -> Fail {
    Fail::internal(format!("label {slug}: {what}: {e}"))
}

impl Remote {
    pub fn new(url: String) -> Remote {
        Remote {
            url,
            stores: Default::default(),
            locks: Default::default(),
            alerts_pushed: Default::default(),
        }
    }

    fn lock_of(&self, slug: &str) -> Arc<RwLock<()>> {
        let mut locks = self.locks.lock().unwrap_or_else(|p| p.into_inner());
        locks.entry(slug.to_string()).or_default().clone()
    }

    /// The label `slug` in the database (connected once, then kept).
    pub async fn store_of(&self, slug: &str) -> Result<Arc<PgStore>, Fail> {
        let mut stores = self.stores.lock().await;
        if let Some(s) = stores.get(slug) {
            return Ok(s.clone());
        }
        let (url, label) = (self.url.clone(), slug.to_string());
        let s = Arc::new(
            off_thread(move || async move { PgStore::connect(&url, &label).await })
                .await?
                .map_err(|e| fail(slug, "connecting to the database", e))?,
        );
        stores.insert(slug.to_string(), s.clone());
        Ok(s)
    }
}

impl crate::auth::Labels {
    /// The tenant's store for one request. On PostgreSQL: its working copy, up to date
    /// with the database, with the request's [`Hold`] left in `slot`.
    pub(crate) async fn for_request(
        &self,
        state: &AppState,
        slug: &str,
        method: &Method,
        path: &str,
        slot: Option<&HoldSlot>,
    ) -> Result<Arc<Store>, Fail> {
        let Some(remote) = self.remote() else {
            return self.local(&state.control, slug).await;
        };
        // After the viewer's membership and permission were checked (a stranger
        // learns nothing from the refusal).
        if let Some(why) = refused_on_postgres(method, path) {
            return Err(Fail::new(409, "not_on_postgres", why));
        }
        // Fail closed: without the slot nothing recorded would reach the database.
        let slot = slot.ok_or_else(|| Fail::internal("the working-copy layer is missing"))?;
        let pg = remote.store_of(slug).await?;
        let lock = remote.lock_of(slug);
        if writes(method) {
            let guard = lock.write_owned().await;
            let store = self.pulled(state, slug, &pg).await?;
            slot.put(Hold::Write {
                slug: slug.to_string(),
                _guard: guard,
            });
            return Ok(store);
        }
        let local = self.local(&state.control, slug).await?;
        let (theirs, ours) = (
            head_of(pg.clone(), slug).await?,
            head_of(local.clone(), slug).await?,
        );
        let store = if theirs == ours {
            local
        } else {
            let _writing = lock.clone().write_owned().await;
            self.pulled(state, slug, &pg).await?
        };
        slot.put(Hold::Read {
            slug: slug.to_string(),
            _guard: lock.read_owned().await,
        });
        Ok(store)
    }

    /// The working copy brought up to date with the database (made again from it when
    /// it is not the database's prefix). Called under the tenant's write lock.
    async fn pulled(
        &self,
        state: &AppState,
        slug: &str,
        pg: &Arc<PgStore>,
    ) -> Result<Arc<Store>, Fail> {
        let local = self.local(&state.control, slug).await?;
        if copied(pg.clone(), local.clone()).await.is_ok() {
            return Ok(local);
        }
        self.remade(state, slug, pg).await
    }

    /// Throws the working copy away and copies the label from the database again.
    async fn remade(
        &self,
        state: &AppState,
        slug: &str,
        pg: &Arc<PgStore>,
    ) -> Result<Arc<Store>, Fail> {
        if let Some(old) = self.forget(slug).await {
            old.pool().close().await;
        }
        state.cache.forget(slug);
        let dir = state.control.label_dir(slug);
        if dir.exists() {
            std::fs::remove_dir_all(&dir)
                .map_err(|e| fail(slug, "removing the working copy", e))?;
        }
        let local = self.local(&state.control, slug).await?;
        copied(pg.clone(), local.clone())
            .await
            .map_err(|e| fail(slug, "copying the label from the database", e.message))?;
        Ok(local)
    }

    /// Appends what the request recorded on the working copy to the database.
    pub(crate) async fn push(&self, state: &AppState, slug: &str) -> Result<(), Fail> {
        let Some(remote) = self.remote() else {
            return Ok(());
        };
        let pg = remote.store_of(slug).await?;
        let local = self.local(&state.control, slug).await?;
        match copied(local, pg.clone()).await {
            Ok(()) => Ok(()),
            Err(e) => {
                tracing::warn!(label = slug, error = %e.message, "what the request recorded was not appended to the database");
                self.remade(state, slug, &pg).await?;
                Err(Fail::new(
                    409,
                    "label_moved",
                    format!("another user or process recorded on the label {slug} while this was being recorded, so nothing was recorded: do it again"),
                ))
            }
        }
    }
}

impl crate::auth::Labels {
    /// After a request that only read: appends the alerts it raised on the working
    /// copy (if any) to the database. Alerts the database holds differently (another
    /// server raised its own meanwhile) make the copy be made again from the database;
    /// the answer already made stands.
    pub(crate) async fn push_alerts(&self, state: &AppState, slug: &str) {
        let Some(remote) = self.remote() else { return };
        let Ok(local) = self.local(&state.control, slug).await else {
            return;
        };
        let last = match local.last_alert_id().await {
            Ok(x) => x.unwrap_or(0),
            Err(_) => return,
        };
        {
            let pushed = remote
                .alerts_pushed
                .lock()
                .unwrap_or_else(|p| p.into_inner());
            if pushed.get(slug).is_some_and(|p| *p >= last) || last == 0 {
                return;
            }
        }
        let Ok(pg) = remote.store_of(slug).await else {
            return;
        };
        let to = pg.clone();
        let pushed = off_thread(move || async move { copy_beside(&*local, &*to).await }).await;
        match pushed {
            Ok(Ok(_)) => {
                remote
                    .alerts_pushed
                    .lock()
                    .unwrap_or_else(|p| p.into_inner())
                    .insert(slug.to_string(), last);
            }
            Ok(Err(e)) => {
                tracing::warn!(label = slug, error = %e, "alerts raised on the working copy were not appended to the database; the copy is made again");
                let lock = remote.lock_of(slug);
                let _writing = lock.write_owned().await;
                if let Err(f) = self.remade(state, slug, &pg).await {
                    tracing::warn!(label = slug, error = %f.message, "the working copy could not be made again");
                }
            }
            Err(f) => tracing::warn!(label = slug, error = %f.message, "appending alerts"),
        }
    }
}

/// Middleware (innermost): gives the request a [`HoldSlot`] and, once the handler has
/// answered, appends what a writing request recorded to the database before the
/// tenant's lock is let go; a request the database refused becomes 409.
pub async fn push_after(State(state): State<AppState>, mut req: Request, next: Next) -> Response {
    if state.labels_remote().is_none() {
        return next.run(req).await;
    }
    let slot = HoldSlot::default();
    req.extensions_mut().insert(slot.clone());
    let response = next.run(req).await;
    match slot.take() {
        Some(Hold::Write { slug, _guard }) => match state.push_label(&slug).await {
            Ok(()) => response,
            Err(f) => f.into_response(),
        },
        Some(Hold::Read { slug, _guard }) => {
            // The read lock is let go first: making the copy again needs the write lock.
            drop(_guard);
            state.labels.push_alerts(&state, &slug).await;
            response
        }
        None => response,
    }
}

/// Actions that keep records a working copy does not carry to the database (the
/// statements of a royalty run, payouts made from them): refused on PostgreSQL with
/// what to do instead, as the CLI refuses them.
pub fn refused_on_postgres(method: &Method, path: &str) -> Option<String> {
    if !writes(method) {
        return None;
    }
    let parts: Vec<&str> = path.trim_matches('/').split('/').collect();
    let rest = match parts.as_slice() {
        ["t", _, rest @ ..] => rest,
        ["api", "v1", "t", _, rest @ ..] => rest,
        _ => return None,
    };
    // Everything a label records travels with its working copy (the journal, its
    // settings, royalty statements and the alert log): nothing is refused today. The
    // hook stays for an action that would keep records of another kind.
    let _ = rest;
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn what_writes_and_what_is_refused() {
        assert!(!writes(&Method::GET) && writes(&Method::POST) && writes(&Method::DELETE));
        assert!(refused_on_postgres(&Method::POST, "/t/a/royalties/run").is_none());
        assert!(refused_on_postgres(&Method::POST, "/api/v1/t/a/payouts").is_none());
        assert!(refused_on_postgres(&Method::GET, "/t/a/royalties").is_none());
        assert!(refused_on_postgres(&Method::POST, "/t/a/payments").is_none());
        assert!(refused_on_postgres(&Method::POST, "/login").is_none());
    }
}
