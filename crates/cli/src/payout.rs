//! `backstock payout record|run|list|year-end` and `backstock payee tax-form`: parse
//! the arguments, call `backstock_app::payouts`, say what was done.

use backstock_app::output::{Format, Table};
use backstock_app::payouts::{self, Paid, PayoutRequest};
use backstock_app::{user, AppError, Exit};
use backstock_domain::Date;
use backstock_store::Store;
use clap::Subcommand;
use serde_json::json;
use std::path::PathBuf;

fn parse_date(s: &str) -> Result<Date, String> {
    Date::parse(s).map_err(|e| e.to_string())
}

#[derive(Subcommand)]
pub enum PayoutCommand {
    /// Record one payment to a payee (royalty payable → cash); refused when more than
    /// is payable. The same payout twice records once.
    Record {
        #[arg(long)]
        payee: String,
        /// 123.45
        #[arg(long)]
        amount: String,
        /// ISO 4217 (USD, EUR …)
        #[arg(long)]
        currency: String,
        /// The day it was paid (default: today).
        #[arg(long, value_parser = parse_date)]
        on: Option<Date>,
        /// The bank's or your reference, shown on the artist's remittance advice.
        #[arg(long)]
        reference: Option<String>,
        /// Also write the payout file for the bank (payee,name,amount,currency,reference).
        #[arg(long)]
        out: Option<PathBuf>,
    },
    /// Pay everyone a royalty run made payable (at or above their minimum payout)
    /// what is not paid yet, in one step.
    Run {
        /// The run's period: 2016H1, 2016Q2, 2016-05.
        #[arg(long)]
        period: String,
        /// The day it was paid (default: today).
        #[arg(long, value_parser = parse_date)]
        on: Option<Date>,
        /// Write the payout file for the bank (every payment of the run).
        #[arg(long)]
        out: Option<PathBuf>,
    },
    /// Payments recorded (corrected ones left out).
    List {
        #[arg(long)]
        payee: Option<String>,
        #[arg(long, value_enum, default_value_t)]
        format: Format,
    },
    /// Per payee, what was paid in a calendar year and whether a tax form (W-9 /
    /// W-8BEN) is on file: the CSV for 1099 preparation.
    YearEnd {
        year: i32,
        #[arg(long)]
        out: Option<PathBuf>,
    },
}

fn write(out: Option<&PathBuf>, text: &str) -> Result<(), AppError> {
    if let Some(p) = out {
        std::fs::write(p, text.as_bytes()).map_err(|e| {
            AppError::new(Exit::Other, format!("{}: {e}", p.display())).with_source(e)
        })?;
    }
    Ok(())
}

fn said(p: &Paid) -> String {
    format!(
        "{} {} to {} ({}) on {}{} [{}]",
        if p.new {
            "Paid"
        } else {
            "Already recorded: paid"
        },
        p.amount,
        p.payee,
        p.name,
        p.on,
        if p.reference.is_empty() {
            String::new()
        } else {
            format!(", reference {}", p.reference)
        },
        p.entry_id
    )
}

pub async fn run(store: &Store, c: PayoutCommand) -> Result<String, AppError> {
    match c {
        PayoutCommand::Record {
            payee,
            amount,
            currency,
            on,
            reference,
            out,
        } => {
            let req = PayoutRequest {
                payee,
                amount,
                currency,
                on,
                reference,
            };
            let p = payouts::record(store, &req, &user()).await?;
            write(out.as_ref(), &payouts::payout_csv(std::slice::from_ref(&p)))?;
            let mut s = said(&p);
            s.push('\n');
            if let Some(o) = out {
                s.push_str(&format!("Payout file: {}\n", o.display()));
            }
            Ok(s)
        }
        PayoutCommand::Run { period, on, out } => {
            let r = payouts::pay_run(store, &period, on, &user()).await?;
            let all = r.to_send();
            write(out.as_ref(), &payouts::payout_csv(&all))?;
            let mut s = String::new();
            for p in &r.paid {
                s.push_str(&said(p));
                s.push('\n');
            }
            for p in &r.already {
                s.push_str(&said(p));
                s.push('\n');
            }
            for n in &r.not_paid {
                s.push_str(&format!(
                    "Not paid: {} in {}: {}\n",
                    n.payee,
                    n.currency.code(),
                    n.reason
                ));
            }
            s.push_str(&format!(
                "{}: {} payment(s) recorded now, {} recorded before.\n",
                r.period,
                r.paid.len(),
                r.already.len()
            ));
            if let Some(o) = out {
                s.push_str(&format!(
                    "Payout file ({} row(s), the payments recorded now{}): {}\n",
                    all.len(),
                    if r.already.is_empty() {
                        ""
                    } else {
                        "; those recorded before are not in it again"
                    },
                    o.display()
                ));
            }
            Ok(s)
        }
        PayoutCommand::List { payee, format } => {
            let list = payouts::payouts(store, payee.as_deref(), None).await?;
            let mut t = Table::new(&[
                "on",
                "payee",
                "amount",
                "currency",
                "reference",
                "period",
                "entry",
            ])
            .numeric(&[2]);
            for p in &list {
                t.push(vec![
                    p.on.to_string(),
                    p.payee.clone(),
                    p.amount.to_decimal_string(),
                    p.amount.currency().code().to_string(),
                    p.reference.clone(),
                    p.period.clone().unwrap_or_default(),
                    p.entry_id.clone(),
                ]);
            }
            if format == Format::Table && list.is_empty() {
                return Ok("No payouts recorded.\n".into());
            }
            Ok(t.render(format, &json!({ "payouts": list })))
        }
        PayoutCommand::YearEnd { year, out } => {
            let rows = payouts::year_end(store, year).await?;
            let csv = payouts::year_end_csv(year, &rows);
            match out {
                None => Ok(csv),
                Some(p) => {
                    write(Some(&p), &csv)?;
                    let missing = rows.iter().filter(|r| r.tax_form.is_empty()).count();
                    Ok(format!(
                        "{year}: {} payee row(s) written to {}{}\n",
                        rows.len(),
                        p.display(),
                        if missing > 0 {
                            format!("; {missing} without a tax form on file")
                        } else {
                            String::new()
                        }
                    ))
                }
            }
        }
    }
}

/// `backstock payee tax-form PAYEE --form w9|w8ben --received DATE`.
pub async fn tax_form(
    store: &Store,
    payee: &str,
    form: &str,
    received: Option<Date>,
) -> Result<String, AppError> {
    let r = payouts::tax_form(store, payee, form, received, &user()).await?;
    Ok(if r.new {
        format!(
            "{} on file for {} (received {}).\n",
            r.form, r.payee, r.received_on
        )
    } else {
        format!(
            "{} of {} received {} was on file already; nothing changed.\n",
            r.form, r.payee, r.received_on
        )
    })
}
