//! Backups a person can make and restore (`backstock backup --to FILE`,
//! `backstock restore FILE`, the owner's "download a backup" on the web).
//!
//! * A backup is one SQLite file: a consistent copy of the label's whole store taken in
//!   one read transaction (`VACUUM INTO`), so it can be taken while the server records —
//!   it holds every entry up to some point and nothing of a batch half written. It is
//!   checked (hash chain, replay) right after it is written.
//! * A restore checks the backup first — a copy of it is opened, migrated if it is
//!   older, and verified: every entry's hash recomputed along the chain, the journal
//!   replayed and the balances compared. Anything wrong and it refuses, having changed
//!   nothing. Only then is the label's current store kept beside it
//!   (`backstock.db.before-restore-<time>`, itself a consistent copy) and the verified
//!   copy put in its place.

use crate::{AppError, Exit};
use backstock_store::{Store, DB_FILE};
use std::path::{Path, PathBuf};

/// A backup written and checked.
#[derive(Debug, Clone)]
pub struct BackupMade {
    pub path: PathBuf,
    pub entries: i64,
    /// The last entry's chain hash (hex; empty for an empty journal).
    pub head: String,
    pub bytes: u64,
}

/// A backup's chain, checked.
#[derive(Debug, Clone)]
pub struct Checked {
    pub entries: i64,
    pub transfers: i64,
    pub head: String,
}

/// A restore done.
#[derive(Debug, Clone)]
pub struct Restored {
    pub entries: i64,
    pub head: String,
    /// Where the store that was replaced is kept (none when there was none).
    pub previous: Option<PathBuf>,
}

fn io(what: &Path, e: std::io::Error) -> AppError {
    AppError::new(Exit::Other, format!("{}: {e}", what.display())).with_source(e)
}

/// A time stamp for file names: seconds since the epoch (UTC).
fn stamp() -> String {
    let secs = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0);
    let day = crate::today();
    let s = secs % 86_400;
    format!("{day}T{:02}{:02}{:02}Z", s / 3600, (s / 60) % 60, s % 60)
}

/// Writes a consistent copy of the label's store to `to` (which must not exist) and
/// checks it.
pub async fn backup(store: &Store, to: &Path) -> Result<BackupMade, AppError> {
    if to.exists() {
        return Err(AppError::new(
            Exit::Input,
            format!(
                "{} already exists: a backup never overwrites a file (choose a new name)",
                to.display()
            ),
        ));
    }
    if let Some(dir) = to.parent().filter(|d| !d.as_os_str().is_empty()) {
        if !dir.is_dir() {
            return Err(AppError::new(
                Exit::Input,
                format!("{} is not a directory", dir.display()),
            ));
        }
    }
    store.backup_to(to).await?;
    let checked = match check(to).await {
        Ok(c) => c,
        Err(e) => {
            // A copy that does not verify is no backup: do not leave it looking like one.
            let _ = std::fs::rename(to, to.with_extension("unverified"));
            return Err(e);
        }
    };
    let bytes = std::fs::metadata(to).map_err(|e| io(to, e))?.len();
    Ok(BackupMade {
        path: to.to_path_buf(),
        entries: checked.entries,
        head: checked.head,
        bytes,
    })
}

/// A backup as bytes (the web app's download): written to a temporary file, checked,
/// read back.
pub async fn backup_bytes(store: &Store) -> Result<(Vec<u8>, BackupMade), AppError> {
    let tmp = tempdir()?;
    let path = tmp.path().join("backup.db");
    let made = backup(store, &path).await?;
    let bytes = std::fs::read(&path).map_err(|e| io(&path, e))?;
    Ok((bytes, made))
}

/// A scratch directory, removed when dropped.
struct TempDir(PathBuf);

impl TempDir {
    fn path(&self) -> &Path {
        &self.0
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn tempdir() -> Result<TempDir, AppError> {
    use std::sync::atomic::{AtomicU64, Ordering};
    static N: AtomicU64 = AtomicU64::new(0);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.subsec_nanos())
        .unwrap_or(0);
    let p = std::env::temp_dir().join(format!(
        "backstock-backup-{}-{nanos}-{}",
        std::process::id(),
        N.fetch_add(1, Ordering::Relaxed)
    ));
    std::fs::create_dir_all(&p).map_err(|e| io(&p, e))?;
    Ok(TempDir(p))
}

/// Opens a copy of `file` in `dir` and verifies it; the store is left open for the caller.
async fn open_checked(file: &Path, dir: &Path) -> Result<(Store, Checked), AppError> {
    let mut head = [0u8; 16];
    let is_sqlite = std::fs::File::open(file)
        .and_then(|mut f| std::io::Read::read_exact(&mut f, &mut head))
        .map(|_| &head == b"SQLite format 3\0");
    match is_sqlite {
        Ok(true) => {}
        Ok(false) | Err(_) if file.is_file() => {
            return Err(AppError::new(
                Exit::Input,
                format!(
                    "{} is not a backstock backup (not an SQLite database); nothing was changed",
                    file.display()
                ),
            ))
        }
        _ => {
            return Err(AppError::new(
                Exit::Input,
                format!("{}: no such file; nothing was changed", file.display()),
            ))
        }
    }
    let copy = dir.join(DB_FILE);
    std::fs::copy(file, &copy).map_err(|e| io(file, e))?;
    let refused = |why: String| {
        AppError::new(
            Exit::Tampered,
            format!(
                "{} does not verify: {why}; nothing was changed",
                file.display()
            ),
        )
    };
    let store = Store::open(dir, false)
        .await
        .map_err(|e| refused(e.to_string()))?;
    let v = store.verify().await.map_err(|e| refused(e.to_string()))?;
    if let Some(p) = v.first_problem {
        return Err(refused(p));
    }
    // The royalty statements kept beside the journal are what was sent to the
    // artists: each must be the one its run's entry names by SHA-256.
    crate::royalties::verify_stored_statements(&store)
        .await
        .map_err(|e| refused(e.message().to_string()))?;
    Ok((
        store,
        Checked {
            entries: v.entries,
            transfers: v.transfers,
            head: v.head_hash,
        },
    ))
}

/// Checks a backup file: its hash chain recomputed, its journal replayed. Changes
/// nothing (it works on a copy). Runs on a thread of its own (the verification's
/// future is not `Send`, and a web request's must be).
pub async fn check(file: &Path) -> Result<Checked, AppError> {
    let file = file.to_path_buf();
    let stopped =
        |e: String| AppError::new(Exit::Other, format!("checking the backup stopped: {e}"));
    tokio::task::spawn_blocking(move || {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(|e| stopped(e.to_string()))?;
        rt.block_on(async {
            let tmp = tempdir()?;
            let (store, c) = open_checked(&file, tmp.path()).await?;
            store.pool().close().await;
            Ok(c)
        })
    })
    .await
    .map_err(|e| stopped(e.to_string()))?
}

/// Replaces the store in `data_dir` with the backup `file` — after the backup verifies;
/// the store it replaces is kept beside it. Stop `backstock serve` first: a server
/// keeps the old store open.
pub async fn restore(data_dir: &Path, file: &Path) -> Result<Restored, AppError> {
    let tmp = tempdir()?;
    let (checked_store, checked) = open_checked(file, tmp.path()).await?;
    std::fs::create_dir_all(data_dir).map_err(|e| io(data_dir, e))?;
    let live = data_dir.join(DB_FILE);
    let incoming = data_dir.join(format!("{DB_FILE}.restoring"));
    if incoming.exists() {
        std::fs::remove_file(&incoming).map_err(|e| io(&incoming, e))?;
    }
    // The verified copy, as one clean file beside the store it will replace.
    checked_store.backup_to(&incoming).await?;
    checked_store.pool().close().await;
    // The current store, kept (a consistent copy, so its WAL is in it).
    let previous = if live.exists() {
        let keep = data_dir.join(format!("{DB_FILE}.before-restore-{}", stamp()));
        let current = Store::open(data_dir, false).await?;
        current.backup_to(&keep).await?;
        current.pool().close().await;
        Some(keep)
    } else {
        None
    };
    for side in ["-wal", "-shm"] {
        let p = data_dir.join(format!("{DB_FILE}{side}"));
        // SQLite removes these itself when the last connection closes, and that
        // can finish on its worker thread just after `close()` returns: a file
        // already gone is what we wanted.
        match std::fs::remove_file(&p) {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => return Err(io(&p, e)),
        }
    }
    std::fs::rename(&incoming, &live).map_err(|e| io(&live, e))?;
    // What is in place now is what was checked.
    let store = Store::open(data_dir, false).await?;
    let v = store.verify().await?;
    store.pool().close().await;
    if v.first_problem.is_some() || v.head_hash != checked.head {
        return Err(AppError::new(
            Exit::Tampered,
            format!(
                "the restored store does not match the backup it was made from{}",
                previous
                    .as_ref()
                    .map(|p| format!("; the previous store is kept at {}", p.display()))
                    .unwrap_or_default()
            ),
        ));
    }
    Ok(Restored {
        entries: checked.entries,
        head: checked.head,
        previous,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A web request's future must be `Send`: this does not compile otherwise.
    #[allow(dead_code)]
    fn send_check(s: &Store) {
        fn is_send<T: Send>(_: T) {}
        is_send(backup_bytes(s));
    }

    #[tokio::test]
    async fn a_backup_restores_and_a_tampered_one_is_refused() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().join("demo");
        crate::demo::load(&dir, None).await.unwrap();
        let store = Store::open(&dir, false).await.unwrap();
        let n = store.entry_count().await.unwrap();
        let file = tmp.path().join("b.db");
        let made = backup(&store, &file).await.unwrap();
        assert_eq!(made.entries, n);
        // Never over a file.
        let e = backup(&store, &file).await.unwrap_err();
        assert!(e.message().contains("already exists"));
        drop(store);

        // Restore into a new directory: the same chain.
        let other = tmp.path().join("other");
        let r = restore(&other, &file).await.unwrap();
        assert_eq!((r.entries, r.previous), (n, None));
        let s = Store::open(&other, false).await.unwrap();
        assert_eq!(s.entry_count().await.unwrap(), n);

        // A backup whose stored royalty statement is not the one its run recorded
        // (one row replaced by another payee's): refused, nothing changed.
        let bad = tmp.path().join("bad.db");
        std::fs::copy(&file, &bad).unwrap();
        {
            use sqlx::Connection;
            let url = format!("sqlite://{}", bad.display());
            let mut c = sqlx::SqliteConnection::connect(&url).await.unwrap();
            for q in [
                "DROP TRIGGER royalty_statements_no_update",
                "UPDATE royalty_statements SET body = (SELECT body FROM royalty_statements r2 WHERE r2.period = royalty_statements.period AND r2.payee <> royalty_statements.payee LIMIT 1), sha256 = (SELECT sha256 FROM royalty_statements r2 WHERE r2.period = royalty_statements.period AND r2.payee <> royalty_statements.payee LIMIT 1) WHERE payee = 'june-okafor' AND period = '2016H1'",
            ] {
                sqlx::query(q).execute(&mut c).await.unwrap();
            }
            c.close().await.unwrap();
        }
        let before = Store::open(&other, false)
            .await
            .unwrap()
            .verify()
            .await
            .unwrap();
        let e = restore(&other, &bad).await.unwrap_err();
        assert_eq!(e.exit(), Exit::Tampered, "{}", e.message());
        assert!(e.message().contains("june-okafor"), "{}", e.message());
        assert!(
            e.message().contains("nothing was changed"),
            "{}",
            e.message()
        );
        let after = Store::open(&other, false)
            .await
            .unwrap()
            .verify()
            .await
            .unwrap();
        assert_eq!(before.head_hash, after.head_hash);

        // Not a database: refused, nothing changed.
        let junk = tmp.path().join("junk.db");
        std::fs::write(&junk, b"hello").unwrap();
        let e = restore(&other, &junk).await.unwrap_err();
        assert_eq!(e.exit(), Exit::Input);
        assert!(e.message().contains("not a backstock backup"));
    }
}
