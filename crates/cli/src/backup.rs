//! `backstock backup --to FILE` and `backstock restore FILE`: parse the arguments, call
//! `backstock_app::backup`, say what was done.

use backstock_app::backup;
use backstock_app::AppError;
use backstock_store::Store;
use clap::Args;
use std::path::{Path, PathBuf};

#[derive(Args)]
pub struct BackupArgs {
    /// The file to write (must not exist yet).
    #[arg(long)]
    pub to: PathBuf,
}

#[derive(Args)]
pub struct RestoreArgs {
    /// A file written by `backstock backup` (or downloaded from the web app).
    pub file: PathBuf,
}

pub async fn run_backup(store: &Store, a: BackupArgs) -> Result<String, AppError> {
    let m = backup::backup(store, &a.to).await?;
    Ok(format!(
        "Backed up {} entries to {} ({} bytes); its hash chain verifies.\nHead: {}\nRestore it with: backstock restore {}\n",
        m.entries,
        m.path.display(),
        m.bytes,
        if m.head.is_empty() { "-" } else { &m.head },
        m.path.display()
    ))
}

pub async fn run_restore(data_dir: &Path, a: RestoreArgs) -> Result<String, AppError> {
    let r = backup::restore(data_dir, &a.file).await?;
    let mut s = format!(
        "Restored {} entries from {} into {}; the hash chain verifies.\nHead: {}\n",
        r.entries,
        a.file.display(),
        data_dir.display(),
        if r.head.is_empty() { "-" } else { &r.head }
    );
    if let Some(p) = r.previous {
        s.push_str(&format!(
            "The store it replaced is kept at {}.\n",
            p.display()
        ));
    }
    Ok(s)
}
