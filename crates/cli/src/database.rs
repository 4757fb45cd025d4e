//! Where a label's store is — a data directory (SQLite, the default) or a PostgreSQL
//! database (`postgres://…?label=SLUG`) — and the commands that run on either:
//! `store copy` between any two, and, with `--database postgres://…` (or
//! `BACKSTOCK_DATABASE_URL`), `verify`, `checkpoint`, `stock` and `balances`.
//!
//! The other label commands (import, the daily actions, receivables, risk and its
//! alert log, royalties and payouts, insolvency, exports, …) run on a working copy of
//! the label ([`run_on_working_copy`]), which carries the journal, the settings and
//! what is kept beside them (royalty statements, the alert log); `serve --database`
//! serves labels the same way. `backup`, `restore`, `init` and `lines` are refused
//! with what to do instead.

use crate::Command;
use backstock_app::{AppError as CliError, Exit};
use backstock_store::contract::{Journal, Projections};
use backstock_store::copy::{copy_beside, copy_journal, replay, BesideReport, CopyReport};
use backstock_store::Store;
use backstock_store_pg::PgStore;
use clap::Subcommand;
use std::path::PathBuf;

#[derive(Subcommand)]
pub enum StoreCommand {
    /// Copy a label's whole journal — every entry, original file, hash and setting —
    /// from one store to another: a data directory or `postgres://…?label=SLUG`. The
    /// destination must be empty (or hold an earlier, interrupted copy, which goes
    /// on); afterwards both have the same head, which `verify` shows.
    #[command(
        after_help = "Examples:\n  backstock store copy --from backstock-demo --to 'postgres://me@localhost/backstock?label=marigold'\n  backstock store copy --from 'postgres://me@localhost/backstock?label=marigold' --to marigold-copy"
    )]
    Copy {
        /// A data directory, or postgres://USER@HOST:PORT/DB?label=SLUG.
        #[arg(long, value_name = "DIR|URL")]
        from: String,
        /// A data directory (created when missing), or postgres://…?label=SLUG.
        #[arg(long, value_name = "DIR|URL")]
        to: String,
    },
}

/// A store's location as the user wrote it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Location {
    Dir(PathBuf),
    /// A connection URL without the `label` parameter, and the label.
    Postgres {
        url: String,
        label: String,
    },
}

pub fn is_postgres(s: &str) -> bool {
    s.starts_with("postgres://") || s.starts_with("postgresql://")
}

/// Parses `DIR` or `postgres://…[?label=SLUG]`; the label comes from the URL, else
/// from `--label`.
pub fn parse_location(s: &str, label: Option<&str>) -> Result<Location, CliError> {
    if !is_postgres(s) {
        return Ok(Location::Dir(PathBuf::from(s)));
    }
    let (base, query) = match s.split_once('?') {
        Some((b, q)) => (b, q),
        None => (s, ""),
    };
    let mut found = None;
    let mut rest = Vec::new();
    for pair in query.split('&').filter(|p| !p.is_empty()) {
        match pair.split_once('=') {
            Some(("label", v)) => found = Some(v.to_string()),
            _ => rest.push(pair),
        }
    }
    let label = found.or_else(|| label.map(str::to_string)).ok_or_else(|| {
        CliError::new(
            Exit::Input,
            format!("{}: name the label in the URL (…?label=SLUG) or with --label SLUG: one PostgreSQL database holds many labels", redact(s)),
        )
    })?;
    let slug_ok = !label.is_empty()
        && label.len() <= 64
        && label
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-');
    if !slug_ok {
        return Err(CliError::new(
            Exit::Input,
            format!("label {label:?}: expected a slug of lowercase letters, digits and hyphens (at most 64)"),
        ));
    }
    let url = if rest.is_empty() {
        base.to_string()
    } else {
        format!("{base}?{}", rest.join("&"))
    };
    Ok(Location::Postgres { url, label })
}

/// A URL as it may be shown: without its password.
pub fn redact(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_string();
    };
    match rest.split_once('@') {
        Some((user, host)) if user.contains(':') => {
            let name = user.split(':').next().unwrap_or("");
            format!("{scheme}://{name}:***@{host}")
        }
        _ => url.to_string(),
    }
}

async fn connect(url: &str, label: &str) -> Result<PgStore, CliError> {
    PgStore::connect(url, label).await.map_err(|e| {
        CliError::new(
            Exit::Other,
            format!("cannot open the label {label} at {}: {e}", redact(url)),
        )
    })
}

fn describe(loc: &Location) -> String {
    match loc {
        Location::Dir(d) => d.display().to_string(),
        Location::Postgres { url, label } => format!("{} (label {label})", redact(url)),
    }
}

fn copied_text(from: &Location, to: &Location, r: &CopyReport, b: &BesideReport) -> String {
    let head = r.head.hash.as_deref().unwrap_or("(empty)");
    let resumed = if r.already > 0 {
        format!(" (the destination already held the first {})", r.already)
    } else {
        String::new()
    };
    format!(
        "Copied {} entries, {} original files, {} settings, {} royalty statements and {} alerts from {} to {}{resumed}.\nBoth now end at entry {} with head {head}: `backstock verify` on either shows it.\n",
        r.copied,
        r.files,
        r.settings,
        b.statements,
        b.alerts,
        describe(from),
        describe(to),
        r.head.entries
    )
}

/// `backstock store …`.
pub async fn run_store(command: StoreCommand, label: Option<&str>) -> Result<String, CliError> {
    let StoreCommand::Copy { from, to } = command;
    let (src, dst) = (parse_location(&from, label)?, parse_location(&to, label)?);
    if src == dst {
        return Err(CliError::new(
            Exit::Input,
            "--from and --to name the same store",
        ));
    }
    let (report, beside) = match (&src, &dst) {
        (Location::Dir(a), Location::Dir(b)) => {
            let (a, b) = (Store::open(a, false).await?, Store::open(b, true).await?);
            (copy_journal(&a, &b).await?, copy_beside(&a, &b).await?)
        }
        (Location::Dir(a), Location::Postgres { url, label }) => {
            let (a, b) = (Store::open(a, false).await?, connect(url, label).await?);
            (copy_journal(&a, &b).await?, copy_beside(&a, &b).await?)
        }
        (Location::Postgres { url, label }, Location::Dir(b)) => {
            let (a, b) = (connect(url, label).await?, Store::open(b, true).await?);
            (copy_journal(&a, &b).await?, copy_beside(&a, &b).await?)
        }
        (Location::Postgres { url: ua, label: la }, Location::Postgres { url: ub, label: lb }) => {
            let (a, b) = (connect(ua, la).await?, connect(ub, lb).await?);
            (copy_journal(&a, &b).await?, copy_beside(&a, &b).await?)
        }
    };
    Ok(copied_text(&src, &dst, &report, &beside))
}

/// A label command with `--database postgres://…`.
pub async fn run_on_postgres(
    command: Command,
    url: &str,
    label: Option<&str>,
) -> Result<String, CliError> {
    let Location::Postgres { url, label } = parse_location(url, label)? else {
        return Err(CliError::new(
            Exit::Input,
            "--database takes a postgres://… URL (a data directory is given with --data-dir)",
        ));
    };
    match command {
        Command::Verify { expect, full: _ } => {
            let s = connect(&url, &label).await?;
            let text = verified(&s, &label).await?;
            if let Some(e) = expect {
                let want = backstock_store::Checkpoint::parse(&e)
                    .map_err(|m| CliError::new(Exit::Input, format!("--expect: {m}")))?;
                check_expected(&s, &want).await?;
                return Ok(format!(
                    "{text}It still holds the checkpoint {e} (entry {} and its hash).\n",
                    want.entries
                ));
            }
            Ok(text)
        }
        Command::Checkpoint => {
            let s = connect(&url, &label).await?;
            verified(&s, &label).await?;
            let head = s.head().await?;
            Ok(format!(
                "{}:{}\n",
                head.entries,
                head.hash.unwrap_or_default()
            ))
        }
        c @ (Command::Stock { .. } | Command::Balances { .. }) => {
            crate::stock_or_balances(&connect(&url, &label).await?, c).await
        }
        c if on_working_copy(&c) => run_on_working_copy(c, &url, &label).await,
        Command::Backup(_) | Command::Restore(_) => Err(CliError::new(
            Exit::Input,
            format!(
                "a label in PostgreSQL is backed up with the database (pg_dump, or your server's backups), not by backstock backup; to keep a copy as a data directory: backstock store copy --from '{}?label={label}' --to DIR",
                redact(&url)
            ),
        )),
        _ => Err(CliError::new(
            Exit::Input,
            format!(
                "this command does not run on PostgreSQL (it works on a data directory only). Copy the label to a directory, work there, and copy it to a new label: backstock store copy --from '{}?label={label}' --to DIR",
                redact(&url)
            ),
        )),
    }
}

/// Commands that read and append the journal, settings and what is kept beside them
/// (royalty statements, the alert log): they run on a working copy of a PostgreSQL
/// label (see [`run_on_working_copy`]). The rest are refused: `init` (a label in a
/// database is made by its first `store copy`, import or `demo`), `backup`/`restore`
/// (a database's backups are its administrator's: `pg_dump`), `lines` (Parquet
/// beside a data directory).
fn on_working_copy(c: &Command) -> bool {
    matches!(
        c,
        Command::Import { .. }
            | Command::ConfirmReceipt { .. }
            | Command::Mapping { .. }
            | Command::Unmatched { .. }
            | Command::Journal { .. }
            | Command::Show { .. }
            | Command::Correct { .. }
            | Command::Alias { .. }
            | Command::Receivables { .. }
            | Command::Reconcile { .. }
            | Command::Ship { .. }
            | Command::Legal { .. }
            | Command::Demand { .. }
            | Command::Deduction { .. }
            | Command::Writeoff { .. }
            | Command::ClaimPack { .. }
            | Command::Document { .. }
            | Command::Contract { .. }
            | Command::Payee { .. }
            | Command::Thresholds { .. }
            | Command::Export(_)
            | Command::Books { .. }
            | Command::Buyback(_)
            | Command::Detain(_)
            | Command::Risk { .. }
            | Command::Alerts { .. }
            | Command::Insolvency { .. }
            | Command::Royalties { .. }
            | Command::Payout { .. }
            | Command::Demo { .. }
    )
}

/// Runs `command` on a working copy of the label: the label is copied (hash for hash)
/// into a SQLite directory, the command runs there exactly as on a data directory, and
/// what it appended — entries with their originals, settings — is appended to the
/// database (each original file's entries in one transaction, under the label's
/// chain-head lock) whether the command succeeded or not (an import that stops at its
/// third file keeps the first two, as on a directory). If another writer moved the
/// label meanwhile, nothing is appended and the command is to be run again.
///
/// The copy is kept between commands ([`WorkDir::kept`]): the next command copies only
/// the entries recorded since (none, usually), so a label of millions of statement
/// lines is not copied again for each import. A kept copy that is not a prefix of the
/// database's label (it was ahead when a push failed, or the label was replaced) is
/// thrown away and made again. A second command on the same label at the same time
/// works on a private copy of its own, removed when it ends.
async fn run_on_working_copy(command: Command, url: &str, label: &str) -> Result<String, CliError> {
    let pg = connect(url, label).await?;
    let mut work = WorkDir::kept(url, label).unwrap_or_else(|| WorkDir::private(label));
    let before = {
        let local = Store::open(&work.path, true).await?;
        let synced = match copy_journal(&pg, &local).await {
            Ok(r) => copy_beside(&pg, &local).await.map(|_| r),
            Err(e) => Err(e),
        };
        local.pool().close().await;
        match synced {
            Ok(r) => r.head,
            Err(_) if work.lock.is_some() => {
                // Not a prefix of the label: made again from nothing.
                std::fs::remove_dir_all(&work.path).map_err(backstock_store::StoreError::Io)?;
                let local = Store::open(&work.path, true).await?;
                let r = match copy_journal(&pg, &local).await {
                    Ok(r) => copy_beside(&pg, &local).await.map(|_| r),
                    Err(e) => Err(e),
                };
                local.pool().close().await;
                match r {
                    Ok(r) => r.head,
                    Err(e) => {
                        work.discard = true;
                        return Err(e.into());
                    }
                }
            }
            Err(e) => return Err(e.into()),
        }
    };
    let cli = crate::Cli {
        data_dir: Some(work.path.clone()),
        label: None,
        database: None,
        command,
    };
    let result = Box::pin(crate::run(cli)).await;
    // Next steps a command suggests name the label, not its working copy.
    let here = format!("--data-dir {}", work.path.display());
    let there = format!("--database '{}?label={label}'", redact(url));
    let result = result.map(|out| out.replace(&here, &there));
    let local = Store::open(&work.path, false).await?;
    // The journal first: statements are copied only for runs the database records.
    let pushed = match copy_journal(&local, &pg).await {
        Ok(_) => copy_beside(&local, &pg).await.map(|_| ()),
        Err(e) => Err(e),
    };
    local.pool().close().await;
    match pushed {
        Ok(_) => result,
        Err(e) => {
            // The copy holds entries the database does not: never reused.
            work.discard = true;
            let now = pg.head().await.ok();
            let moved = now.is_some_and(|h| h != before);
            let why = if moved {
                format!("another user or process recorded on the label {label} while this command ran, so what it recorded was not appended; run it again")
            } else {
                format!(
                    "what this command recorded could not be appended to the label {label}: {e}"
                )
            };
            let mut err = CliError::new(Exit::Refused, why);
            if let Err(first) = result {
                err = err.context(first.message().to_string());
            }
            Err(err)
        }
    }
}

/// The directory a working copy lives in: kept between commands (locked while one
/// uses it) or private to one command.
struct WorkDir {
    path: PathBuf,
    /// Held while this process uses a kept copy (released when it exits, however).
    lock: Option<std::fs::File>,
    /// Removed when dropped: always for a private copy, for a kept one when it may
    /// no longer be a prefix of the label.
    discard: bool,
}

impl WorkDir {
    /// Where kept copies live: `BACKSTOCK_WORKING_COPIES` (`off`: none are kept), else
    /// `$XDG_CACHE_HOME/backstock/working-copies` or `~/.cache/backstock/working-copies`.
    fn root() -> Option<PathBuf> {
        if let Some(dir) = std::env::var_os("BACKSTOCK_WORKING_COPIES") {
            return (!dir.is_empty() && dir != "off").then(|| PathBuf::from(dir));
        }
        let cache = std::env::var_os("XDG_CACHE_HOME")
            .filter(|d| !d.is_empty())
            .map(PathBuf::from)
            .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cache")))?;
        Some(cache.join("backstock").join("working-copies"))
    }

    /// The label's kept copy, locked for this process; `None` when copies are not
    /// kept, the directory cannot be made, or another command holds it.
    fn kept(url: &str, label: &str) -> Option<WorkDir> {
        let root = Self::root()?;
        std::fs::create_dir_all(&root).ok()?;
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            // The copy holds the label's books: readable by this user only.
            let _ = std::fs::set_permissions(&root, std::fs::Permissions::from_mode(0o700));
        }
        // The server and database (never the password) and the label name the copy.
        let name = format!("{label}-{:016x}", fnv1a(redact(url).as_bytes()));
        let lock = std::fs::OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(root.join(format!("{name}.lock")))
            .ok()?;
        lock.try_lock().ok()?;
        Some(WorkDir {
            path: root.join(name),
            lock: Some(lock),
            discard: false,
        })
    }

    fn private(label: &str) -> WorkDir {
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos())
            .unwrap_or(0);
        WorkDir {
            path: std::env::temp_dir().join(format!(
                "backstock-working-copy-{label}-{}-{nanos}",
                std::process::id()
            )),
            lock: None,
            discard: true,
        }
    }
}

impl Drop for WorkDir {
    fn drop(&mut self) {
        if self.discard {
            let _ = std::fs::remove_dir_all(&self.path);
        }
    }
}

/// FNV-1a, 64 bits: a stable short name for a server (not a security boundary).
fn fnv1a(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |h, b| {
        (h ^ u64::from(*b)).wrapping_mul(0x0000_0100_0000_01b3)
    })
}

/// Replays the label and says what was checked.
async fn verified<S: Journal + Projections + Sync>(s: &S, label: &str) -> Result<String, CliError> {
    let r = replay(s)
        .await
        .map_err(|e| CliError::new(Exit::Tampered, format!("verification failed: {e}")))?;
    Ok(format!(
        "OK: label {label}: {} entries replayed, every posting and chain hash recomputed; {} original files hashed again; stock and balances match the journal now and at {} year ends.\nHead: {}:{}\n",
        r.entries,
        r.files,
        r.projections_checked.iter().filter(|d| d.is_some()).count(),
        r.entries,
        r.head.as_deref().unwrap_or("(empty)")
    ))
}

async fn check_expected<S: Journal + Sync>(
    s: &S,
    want: &backstock_store::Checkpoint,
) -> Result<(), CliError> {
    let mut found = None;
    s.each_sealed(want.entries - 1, |row| {
        found = Some(row);
        Ok(false)
    })
    .await?;
    match found {
        Some(row) if row.seq == want.entries && row.hash == want.head => Ok(()),
        Some(row) if row.seq == want.entries => Err(CliError::new(
            Exit::Tampered,
            format!(
                "verification failed: entry {} has hash {}, not the checkpoint's {}: the journal was rewritten",
                want.entries, row.hash, want.head
            ),
        )),
        _ => Err(CliError::new(
            Exit::Tampered,
            format!(
                "verification failed: the journal no longer holds entry {} of the checkpoint: entries were cut from its end",
                want.entries
            ),
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn locations() {
        assert_eq!(
            parse_location("backstock-demo", None).unwrap(),
            Location::Dir("backstock-demo".into())
        );
        assert_eq!(
            parse_location("postgres://u@h:5/db?label=marigold&sslmode=disable", None).unwrap(),
            Location::Postgres {
                url: "postgres://u@h:5/db?sslmode=disable".into(),
                label: "marigold".into()
            }
        );
        assert_eq!(
            parse_location("postgresql://u@h/db", Some("cascade")).unwrap(),
            Location::Postgres {
                url: "postgresql://u@h/db".into(),
                label: "cascade".into()
            }
        );
        let e = parse_location("postgres://u:secret@h/db", None).unwrap_err();
        assert!(e.message().contains("?label=SLUG"), "{}", e.message());
        assert!(!e.message().contains("secret"), "{}", e.message());
        let e = parse_location("postgres://h/db?label=Bad_Label", None).unwrap_err();
        assert!(e.message().contains("slug"), "{}", e.message());
    }
}
