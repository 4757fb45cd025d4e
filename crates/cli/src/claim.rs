//! `backstock insolvency add|show`, `backstock claim-pack`, `backstock verify-pack`,
//! `backstock document add`: parse the arguments, call `backstock_app::insolvency` and
//! `backstock_app::claim_pack`, render the outcome.

use backstock_app::insolvency::{self, AddDocument, AddInsolvency};
use backstock_app::output::Format;
use backstock_app::{claim_pack, deductions, user, AppError, Exit};
use backstock_domain::Date;
use backstock_store::Store;
use clap::{Args, Subcommand};
use std::path::PathBuf;

fn parse_date(s: &str) -> Result<Date, String> {
    Date::parse(s).map_err(|e| e.to_string())
}

#[derive(Subcommand)]
pub enum InsolvencyCommand {
    /// Record that a distributor failed: from then on it is in default everywhere
    /// (risk critical, credit hold, royalties' earned-vs-collected) and its stock is at
    /// risk. Recording new details (a claims bar date) replaces the earlier record.
    Add {
        distributor: String,
        /// bankruptcy, assignment (for the benefit of creditors), receivership or
        /// liquidation (out of court)
        #[arg(long)]
        kind: String,
        /// When it happened.
        #[arg(long, value_parser = parse_date)]
        on: Date,
        /// The bankruptcy petition's date (the deadlines run from it; else from --on).
        #[arg(long, value_parser = parse_date)]
        petition_date: Option<Date>,
        /// Court and case number, or the assignee's / receiver's reference.
        #[arg(long)]
        case: Option<String>,
        #[arg(long, value_parser = parse_date)]
        claims_bar_date: Option<Date>,
        /// Trustee, assignee, receiver or lender's counsel to write to.
        #[arg(long)]
        contact: Option<String>,
    },
    /// The failure on record, what the label is owed and holds there, and the deadlines
    /// (each with its rule), as of a date.
    Show {
        distributor: String,
        #[arg(long, value_parser = parse_date)]
        as_of: Option<Date>,
        #[arg(long, value_enum, default_value_t)]
        format: Format,
    },
}

pub async fn insolvency(store: &Store, c: InsolvencyCommand) -> Result<String, AppError> {
    match c {
        InsolvencyCommand::Add {
            distributor,
            kind,
            on,
            petition_date,
            case,
            claims_bar_date,
            contact,
        } => {
            let req = AddInsolvency {
                distributor: deductions::parse_party("DISTRIBUTOR", &distributor)?,
                kind: insolvency::parse_kind(&kind)?,
                on,
                petition_date,
                case,
                claims_bar_date,
                contact,
            };
            let d = req.distributor.clone();
            let r = insolvency::add(store, req, &user()).await?;
            let head = if r.new {
                format!("Recorded {} ({}).\n\n", r.entry_id, d)
            } else {
                format!("Already on record as {}; nothing changed.\n\n", r.entry_id)
            };
            Ok(head + &insolvency::show(store, &d, None, Format::Table).await?)
        }
        InsolvencyCommand::Show {
            distributor,
            as_of,
            format,
        } => {
            let d = deductions::parse_party("DISTRIBUTOR", &distributor)?;
            insolvency::show(store, &d, as_of, format).await
        }
    }
}

/// `backstock claim-pack`.
#[derive(Args)]
pub struct ClaimPackArgs {
    pub distributor: String,
    /// Figures as of this date (default: the petition date, else the failure's date).
    #[arg(long, value_parser = parse_date)]
    pub as_of: Option<Date>,
    /// A new (or empty) directory for the pack.
    #[arg(long)]
    pub out: PathBuf,
}

pub async fn claim_pack(store: &Store, a: ClaimPackArgs) -> Result<String, AppError> {
    let d = deductions::parse_party("DISTRIBUTOR", &a.distributor)?;
    let pack = claim_pack::build(store, &d, a.as_of).await?;
    claim_pack::write(&pack, &a.out)?;
    let mut out = format!(
        "Claim pack for {d} as of {} (made {}) in {}:\n",
        pack.as_of,
        pack.made_on,
        a.out.display()
    );
    for f in &pack.files {
        out.push_str(&format!("  {:<40} {:>10} bytes\n", f.path, f.bytes.len()));
    }
    out.push_str(&format!(
        "Check it: (cd {} && sha256sum -c MANIFEST.sha256), or backstock verify-pack {}\n",
        a.out.display(),
        a.out.display()
    ));
    Ok(out)
}

/// `backstock verify-pack`.
#[derive(Args)]
pub struct VerifyPackArgs {
    pub dir: PathBuf,
}

/// Needs only the pack (no database).
pub fn verify_pack(a: VerifyPackArgs) -> Result<String, AppError> {
    let c = claim_pack::verify(&a.dir)?;
    if c.ok() {
        Ok(format!(
            "OK: {} files match MANIFEST.sha256; {} journal entries hash to their stated hashes ({} consecutive links checked).\n",
            c.files_checked, c.entries_checked, c.links_checked
        ))
    } else {
        Err(AppError::new(
            Exit::Tampered,
            format!("the pack does not verify:\n  {}", c.problems.join("\n  ")),
        ))
    }
}

#[derive(Subcommand)]
pub enum DocumentCommand {
    /// Attach a document to a distributor (the agreement, a PMSI notice and its
    /// receipt, letters): its bytes are kept in the store by SHA-256, in the chain.
    Add {
        distributor: String,
        file: PathBuf,
        /// agreement, notice, correspondence or other
        #[arg(long)]
        kind: String,
        #[arg(long)]
        note: Option<String>,
    },
}

pub async fn document(store: &Store, c: DocumentCommand) -> Result<String, AppError> {
    match c {
        DocumentCommand::Add {
            distributor,
            file,
            kind,
            note,
        } => {
            let bytes = std::fs::read(&file).map_err(|e| {
                AppError::new(Exit::Input, format!("{}: {e}", file.display())).with_source(e)
            })?;
            let req = AddDocument {
                distributor: deductions::parse_party("DISTRIBUTOR", &distributor)?,
                kind: insolvency::parse_document_kind(&kind)?,
                name: file
                    .file_name()
                    .map(|n| n.to_string_lossy().to_string())
                    .unwrap_or_default(),
                bytes,
                note,
            };
            let name = req.name.clone();
            let a = insolvency::add_document(store, req, &user()).await?;
            Ok(if a.new {
                format!(
                    "Attached {name} ({} bytes, sha256 {}) as {}.\n",
                    a.size, a.sha256, a.entry_id
                )
            } else {
                format!(
                    "{name} is already attached ({}, sha256 {}); nothing changed.\n",
                    a.entry_id, a.sha256
                )
            })
        }
    }
}
