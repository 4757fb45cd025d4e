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
    /// risk. Recording new details (a claims bar date) adds them to the earlier record:
    /// what is not given again (case, contact, petition date) is kept.
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
    if let Some(h) = claim_pack::manifest_sha256(&a.out) {
        out.push_str(&format!(
            "SHA-256 of MANIFEST.sha256: {h} — keep it apart from the pack (send it with the claim): it fixes every file\n"
        ));
    }
    if pack.proof_of_claim["insolvency"].is_null() {
        out.push_str(&format!(
            "  note: no failure of {d} is on record, so this states the label's position as of {} (what it owns there and is owed) — there are no petition windows or deadlines; record a failure with `backstock insolvency add {d} …` first for a claim\n",
            pack.as_of
        ));
    }
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
            "OK: {} files match MANIFEST.sha256; {} journal entries hash to their stated hashes ({} consecutive links checked){}.\nSHA-256 of MANIFEST.sha256: {} — compare it with the one kept when the pack was made\n",
            c.files_checked,
            c.entries_checked,
            c.links_checked,
            if c.withheld > 0 {
                format!(
                    "; {} head entr{} not about the distributor given by hash alone",
                    c.withheld,
                    if c.withheld == 1 { "y" } else { "ies" }
                )
            } else {
                String::new()
            },
            c.manifest_sha256
        ) + &if c.ignored.is_empty() {
            String::new()
        } else {
            format!(
                "Passed over (added by a desktop when the folder was opened, not part of the pack): {}\n",
                c.ignored.join(", ")
            )
        })
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
    /// The documents attached to a distributor.
    List {
        distributor: String,
        #[arg(long, value_enum, default_value_t)]
        format: Format,
    },
}

pub async fn document(store: &Store, c: DocumentCommand) -> Result<String, AppError> {
    match c {
        DocumentCommand::List {
            distributor,
            format,
        } => {
            let d = deductions::parse_party("DISTRIBUTOR", &distributor)?;
            let docs = insolvency::documents(store, &d).await?;
            let mut t = backstock_app::output::Table::new(&[
                "added_on", "kind", "name", "size", "sha256", "note",
            ])
            .numeric(&[3]);
            for x in &docs {
                t.push(vec![
                    x.added_on.to_string(),
                    x.kind.to_string(),
                    x.name.clone(),
                    x.size.to_string(),
                    x.sha256.clone(),
                    x.note.clone().unwrap_or_default(),
                ]);
            }
            Ok(match format {
                Format::Json => serde_json::to_string_pretty(&docs).unwrap_or_default() + "\n",
                _ => t.render(format, &serde_json::Value::Null),
            })
        }
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

/// `backstock buyback D --offer-per-unit 1.00 [--shipping 150.00]`: the offer weighed
/// per SKU; nothing recorded.
pub async fn buyback_offer(
    store: &Store,
    holder: &str,
    per_unit: backstock_app::deductions::Amount,
    shipping: Option<backstock_app::deductions::Amount>,
    as_of: Option<Date>,
    format: Format,
) -> Result<String, AppError> {
    use backstock_app::buyback_offer::{analyse, Offer};
    use backstock_app::output::{money, thousands, Table};
    let o = Offer {
        distributor: deductions::parse_party("DISTRIBUTOR", holder)?,
        per_unit,
        shipping,
        as_of,
    };
    let x = analyse(store, &o).await?;
    if format == Format::Json {
        return Ok(serde_json::to_string_pretty(&x).unwrap_or_default() + "\n");
    }
    let mut t = Table::new(&[
        "sku",
        "title",
        "units",
        "offer",
        "shipping",
        "cost",
        "re-press",
        "saving",
        "sold 12 mo",
        "sells for",
        "verdict",
    ])
    .numeric(&[2, 3, 4, 5, 6, 7, 8, 9]);
    for l in &x.lines {
        t.push(vec![
            l.sku.to_string(),
            l.title.clone(),
            thousands(l.units_held),
            money(l.offer),
            money(l.shipping),
            money(l.cost),
            money(l.repress_cost),
            money(l.saving),
            thousands(l.sold_last_12_months),
            money(l.expected_sales_at_wholesale),
            l.verdict.as_str().to_string(),
        ]);
    }
    if format == Format::Csv {
        return Ok(t.render(Format::Csv, &serde_json::Value::Null));
    }
    Ok(format!(
        "Offer for the label's {} units at {} as of {}: {} a unit + {} shipping = {} (re-pressing them: {})\n\n{}\nBuy: {} units for {}. Record what you accept per SKU: backstock buyback {} --sku SKU --units N --paid X [--detained] [--paid-to \"…\"]\n(The claim is not reduced unless you write part of it off: backstock writeoff.)\n",
        thousands(x.units),
        x.distributor,
        x.as_of,
        money(x.per_unit),
        money(x.shipping),
        money(x.cost),
        money(x.repress_cost),
        t.text(),
        thousands(x.recommended_units),
        money(x.recommended_cost),
        x.distributor,
    ))
}
