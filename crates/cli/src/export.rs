//! `backstock export beancount|csv-journal|xero|quickbooks --from D --to D [--out FILE]`
//! and `backstock export chart`: parse the arguments, call `backstock_app::export`,
//! write the file.

use backstock_app::export::{self, ExportRequest};
use backstock_app::{AppError, Exit};
use backstock_domain::{Currency, Date};
use backstock_store::Store;
use clap::Args;
use std::path::PathBuf;

fn parse_date(s: &str) -> Result<Date, String> {
    Date::parse(s).map_err(|e| e.to_string())
}

#[derive(Args)]
pub struct ExportArgs {
    /// beancount, csv-journal, xero or quickbooks — or `chart` for the chart of
    /// accounts in use (save it as chart-of-accounts.csv in the data directory to adjust it).
    pub format: String,
    /// The first day of the range (entries effective on or after it).
    #[arg(long, value_parser = parse_date)]
    pub from: Option<Date>,
    /// The last day of the range.
    #[arg(long, value_parser = parse_date)]
    pub to: Option<Date>,
    /// Only money in this currency (Xero and QuickBooks import one currency).
    #[arg(long)]
    pub currency: Option<String>,
    /// Write the file here instead of to standard output.
    #[arg(long)]
    pub out: Option<PathBuf>,
}

pub async fn run(store: &Store, a: ExportArgs) -> Result<String, AppError> {
    if a.format.trim().eq_ignore_ascii_case("chart") {
        let text = export::chart(store)?.to_csv();
        return write(a.out.as_ref(), text, |p| {
            format!(
                "Wrote the chart of accounts in use to {}; edit it and save it as {} to change it.\n",
                p.display(),
                export::chart_path(store).display()
            )
        });
    }
    let format = export::parse_format(&a.format)?;
    let (Some(from), Some(to)) = (a.from, a.to) else {
        return Err(AppError::new(
            Exit::Input,
            "give the range: --from YYYY-MM-DD --to YYYY-MM-DD",
        ));
    };
    let currency = a
        .currency
        .as_deref()
        .map(|c| {
            Currency::parse(c.trim())
                .map_err(|e| AppError::new(Exit::Input, format!("--currency: {e}")))
        })
        .transpose()?;
    let out = export::export(
        store,
        &ExportRequest {
            format,
            from,
            to,
            currency,
        },
    )
    .await?;
    let n = out.transactions;
    // Said on standard error: the file itself may be on standard output.
    for note in &out.notes {
        eprintln!("note: {note}");
    }
    write(a.out.as_ref(), out.text, |p| {
        format!(
            "Wrote {n} transactions from {from} to {to} ({}) to {}.\n",
            format.as_str(),
            p.display()
        )
    })
}

fn write(
    out: Option<&PathBuf>,
    text: String,
    said: impl FnOnce(&PathBuf) -> String,
) -> Result<String, AppError> {
    match out {
        None => Ok(text),
        Some(p) => {
            std::fs::write(p, text.as_bytes()).map_err(|e| {
                AppError::new(Exit::Other, format!("{}: {e}", p.display())).with_source(e)
            })?;
            Ok(said(p))
        }
    }
}
