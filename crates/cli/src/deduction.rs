//! `backstock deduction list|accept|dispute`, `backstock writeoff`, `backstock buyback`:
//! parse the arguments, call `backstock_app::deductions`, render the outcome.

use backstock_app::deductions::{
    self, AcceptDeduction, Amount, BuyBack, DeductionQuery, DisputeDeduction, WriteOff,
};
use backstock_app::output::{money, Format, Table};
use backstock_app::{user, AppError};
use backstock_domain::Date;
use backstock_store::Store;
use clap::{Args, Subcommand};

fn parse_date(s: &str) -> Result<Date, String> {
    Date::parse(s).map_err(|e| e.to_string())
}

#[derive(Subcommand)]
pub enum DeductionCommand {
    /// Deductions outstanding (open, disputed), oldest first; with --all also the
    /// settled ones (accepted, written off).
    List {
        #[arg(long)]
        distributor: Option<String>,
        /// Also accepted and written-off deductions.
        #[arg(long)]
        all: bool,
        #[arg(long, value_parser = parse_date)]
        as_of: Option<Date>,
        #[arg(long, value_enum, default_value_t)]
        format: Format,
    },
    /// Accept a deduction (all of it, or --amount): it leaves the receivable for the
    /// deduction expense account.
    Accept {
        distributor: String,
        statement: String,
        /// freight, co-op, price-protection, pricing-error or other
        #[arg(long)]
        reason: String,
        /// Default: all that is deducted on the statement. Decimal, in the statement's
        /// currency (`12.34`, or `12.34 USD`).
        #[arg(long)]
        amount: Option<Amount>,
        #[arg(long, default_value = "")]
        note: String,
        /// Default: the label's today.
        #[arg(long, value_parser = parse_date)]
        on: Option<Date>,
    },
    /// Dispute a deduction: it stays owed and is shown as disputed.
    Dispute {
        distributor: String,
        statement: String,
        /// Why (required; goes in the journal).
        #[arg(long)]
        note: String,
        #[arg(long, value_parser = parse_date)]
        on: Option<Date>,
    },
}

/// `backstock writeoff`.
#[derive(Args)]
pub struct WriteoffArgs {
    pub distributor: String,
    /// Only this statement's open amount (default: the distributor's whole balance).
    #[arg(long)]
    pub statement: Option<String>,
    /// Default: all that is open. Decimal (`1234.56`, or `1234.56 USD`).
    #[arg(long)]
    pub amount: Option<Amount>,
    /// Why (required; goes in the journal).
    #[arg(long)]
    pub reason: String,
    #[arg(long, value_parser = parse_date)]
    pub on: Option<Date>,
}

/// `backstock buyback`.
#[derive(Args)]
pub struct BuybackArgs {
    /// Who holds the units (a distributor).
    pub holder: String,
    /// Required to record a buy-back.
    #[arg(long)]
    pub sku: Option<String>,
    /// Required to record a buy-back.
    #[arg(long)]
    pub units: Option<u64>,
    /// Paid in all (`120.00`, or `120.00 USD`; 0 if nothing). Default currency: the
    /// holder's agreement's. Required to record a buy-back.
    #[arg(long)]
    pub paid: Option<Amount>,
    /// Who was paid (a liquidator, a lender's agent; default: the holder).
    #[arg(long)]
    pub paid_to: Option<String>,
    /// The units were detained (held against the label's will) at the holder.
    #[arg(long)]
    pub detained: bool,
    /// The buy-back's id (default: BB-DATE-HOLDER-SKU).
    #[arg(long)]
    pub id: Option<String>,
    #[arg(long, value_parser = parse_date)]
    pub on: Option<Date>,
    /// Weigh a liquidator's offer instead (nothing recorded): price per unit for all
    /// the label's units the holder has, per SKU against re-pressing and expected sales.
    #[arg(long)]
    pub offer_per_unit: Option<Amount>,
    /// With --offer-per-unit: shipping for the whole lot.
    #[arg(long)]
    pub shipping: Option<Amount>,
    /// With --offer-per-unit: the stock as of this date (default: today).
    #[arg(long, value_parser = parse_date)]
    pub as_of: Option<Date>,
    #[arg(long, value_enum, default_value_t)]
    pub format: Format,
}

#[derive(Args)]
pub struct DetainArgs {
    /// Who holds the units (a distributor, its estate or liquidator).
    pub holder: String,
    #[arg(long)]
    pub sku: String,
    #[arg(long)]
    pub units: u64,
    /// Why (goes in the journal): a refused return demand, a seizure for a lender.
    #[arg(long)]
    pub reason: String,
    /// Release detained units back to on hand at the holder.
    #[arg(long)]
    pub release: bool,
    /// The entry's id (default: detention:HOLDER:SKU:DATE:UNITS, detention-released:… with
    /// --release).
    #[arg(long)]
    pub id: Option<String>,
    #[arg(long, value_parser = parse_date)]
    pub on: Option<Date>,
    #[arg(long, value_enum, default_value_t)]
    pub format: Format,
}

pub async fn detain(store: &Store, a: DetainArgs) -> Result<String, AppError> {
    let req = deductions::Detain {
        holder: deductions::parse_party("HOLDER", &a.holder)?,
        sku: deductions::parse_sku(&a.sku)?,
        units: a.units,
        reason: a.reason,
        release: a.release,
        id: a.id,
        on: a.on,
    };
    let d = deductions::detain(store, &req, &user()).await?;
    if a.format == Format::Json {
        return Ok(format!(
            "{}\n",
            serde_json::to_string_pretty(&d).unwrap_or_default()
        ));
    }
    Ok(format!("{}\n", d.said(|x| x.to_string())))
}

pub async fn deduction(store: &Store, command: DeductionCommand) -> Result<String, AppError> {
    match command {
        DeductionCommand::List {
            distributor,
            all,
            as_of,
            format,
        } => {
            let q = DeductionQuery {
                distributor: distributor
                    .as_deref()
                    .map(|d| deductions::parse_party("--distributor", d))
                    .transpose()?,
                all,
                as_of,
            };
            let list = deductions::list(store, &q).await?;
            Ok(render_list(&list, all, format))
        }
        DeductionCommand::Accept {
            distributor,
            statement,
            reason,
            amount,
            note,
            on,
        } => {
            let req = AcceptDeduction {
                distributor: deductions::parse_party("DISTRIBUTOR", &distributor)?,
                statement_id: statement,
                amount,
                reason: deductions::parse_reason(&reason)?,
                note,
                on,
            };
            let a = deductions::accept(store, &req, &user()).await?;
            Ok(if a.recorded {
                format!(
                    "Accepted {} deducted from statement {} of {} ({}) on {} as {}.{}\n",
                    money(a.amount),
                    a.statement_id,
                    a.distributor,
                    deductions::reason_words(a.reason),
                    a.on,
                    a.entry_id,
                    if a.remaining.is_zero() {
                        String::new()
                    } else {
                        format!(" Still deducted: {}.", money(a.remaining))
                    }
                )
            } else {
                format!(
                    "Already recorded: {} accepted on statement {} of {} on {} ({}); nothing changed.\n",
                    money(a.amount),
                    a.statement_id,
                    a.distributor,
                    a.on,
                    a.entry_id
                )
            })
        }
        DeductionCommand::Dispute {
            distributor,
            statement,
            note,
            on,
        } => {
            let req = DisputeDeduction {
                distributor: deductions::parse_party("DISTRIBUTOR", &distributor)?,
                statement_id: statement,
                note,
                on,
            };
            let x = deductions::dispute(store, &req, &user()).await?;
            Ok(if x.recorded {
                format!(
                    "Disputed {} deducted from statement {} of {} on {} as {}; it stays owed.\n",
                    money(x.amount),
                    x.statement_id,
                    x.distributor,
                    x.on,
                    x.entry_id.as_deref().unwrap_or("")
                )
            } else {
                format!(
                    "Statement {} of {} is already disputed since {} ({}: {}); nothing recorded.\n",
                    x.statement_id,
                    x.distributor,
                    x.on,
                    money(x.amount),
                    x.note
                )
            })
        }
    }
}

pub async fn writeoff(store: &Store, a: WriteoffArgs) -> Result<String, AppError> {
    let req = WriteOff {
        distributor: deductions::parse_party("DISTRIBUTOR", &a.distributor)?,
        statement_id: a.statement,
        amount: a.amount,
        reason: a.reason,
        on: a.on,
    };
    let w = deductions::write_off(store, &req, &user()).await?;
    let what = match &w.statement_id {
        Some(s) => format!("statement {s} of {}", w.distributor),
        None => format!("{}'s balance", w.distributor),
    };
    Ok(if w.recorded {
        format!(
            "Wrote off {} of {what} on {} as {} (bad debt). Open before: {}, now: {}.\n",
            money(w.amount),
            w.on,
            w.entry_id,
            money(w.open_before),
            money(w.open_after)
        )
    } else {
        format!(
            "Already recorded: {} of {what} written off on {} ({}); nothing changed.\n",
            money(w.amount),
            w.on,
            w.entry_id
        )
    })
}

pub async fn buyback(store: &Store, a: BuybackArgs) -> Result<String, AppError> {
    if let Some(offer) = a.offer_per_unit {
        return crate::claim::buyback_offer(store, &a.holder, offer, a.shipping, a.as_of, a.format)
            .await;
    }
    let (Some(sku), Some(units), Some(paid)) = (a.sku, a.units, a.paid) else {
        return Err(AppError::new(
            backstock_app::Exit::Input,
            "to record a buy-back give --sku, --units and --paid (or --offer-per-unit to weigh an offer)",
        ));
    };
    let req = BuyBack {
        holder: deductions::parse_party("HOLDER", &a.holder)?,
        sku: deductions::parse_sku(&sku)?,
        units,
        detained: a.detained,
        paid,
        paid_to: a.paid_to,
        id: a.id,
        on: a.on,
    };
    let b = deductions::buy_back(store, &req, &user()).await?;
    let state = if b.detained { "detained" } else { "on hand" };
    Ok(if b.recorded {
        format!(
            "Bought back {} units of {} ({state} at {}) for {} paid to {} on {} as {}. {} now holds {} of them {state} for the label.\n",
            b.units,
            b.sku,
            b.holder,
            money(b.paid),
            b.paid_to,
            b.on,
            b.entry_id,
            b.holder,
            b.held_after
        )
    } else {
        format!(
            "Already recorded: buy-back {} ({} units of {} from {} on {}); nothing changed.\n",
            b.buyback_id, b.units, b.sku, b.holder, b.on
        )
    })
}

fn render_list(list: &deductions::DeductionList, all: bool, format: Format) -> String {
    let mut t = Table::new(&[
        "distributor",
        "statement",
        "period end",
        "net due",
        "paid",
        "deducted",
        "since",
        "days",
        "status",
        "reason / note",
    ])
    .numeric(&[3, 4, 5, 7]);
    let mut csv = Table::new(&[
        "distributor",
        "statement_id",
        "period_end",
        "due_on",
        "net_due",
        "paid",
        "amount",
        "currency",
        "since",
        "days_open",
        "status",
        "disputed_on",
        "reason",
        "note",
        "entry_id",
    ]);
    for d in &list.deductions {
        let why = match (&d.reason, &d.note) {
            (Some(r), Some(n)) => format!("{}: {n}", deductions::reason_words(*r)),
            (Some(r), None) => deductions::reason_words(*r),
            (None, Some(n)) => n.clone(),
            _ => String::new(),
        };
        t.push(vec![
            d.distributor.to_string(),
            d.statement_id.clone(),
            d.period_end.to_string(),
            money(d.net_due),
            money(d.paid),
            money(d.amount),
            d.since.to_string(),
            if d.status.is_outstanding() {
                d.days_open.to_string()
            } else {
                String::new()
            },
            d.status.to_string(),
            why,
        ]);
        csv.push(vec![
            d.distributor.to_string(),
            d.statement_id.clone(),
            d.period_end.to_string(),
            d.due_on.to_string(),
            d.net_due.to_decimal_string(),
            d.paid.to_decimal_string(),
            d.amount.to_decimal_string(),
            d.amount.currency().to_string(),
            d.since.to_string(),
            d.days_open.to_string(),
            d.status.to_string(),
            d.disputed_on.map(|x| x.to_string()).unwrap_or_default(),
            d.reason.map(|r| r.as_str().to_string()).unwrap_or_default(),
            d.note.clone().unwrap_or_default(),
            d.entry_id.clone().unwrap_or_default(),
        ]);
    }
    match format {
        Format::Json => {
            serde_json::to_string_pretty(&serde_json::json!(list)).unwrap_or_default() + "\n"
        }
        Format::Csv => csv.render(Format::Csv, &serde_json::Value::Null),
        Format::Table => {
            let mut out = format!(
                "Deductions {}as of {}\n\n",
                if all { "" } else { "outstanding " },
                list.as_of
            );
            out.push_str(&t.text());
            let totals = list.outstanding_totals();
            if !totals.is_empty() {
                out.push_str(&format!(
                    "\nOutstanding: {}. Accept with `backstock deduction accept DISTRIBUTOR STATEMENT --reason R`, or dispute with `backstock deduction dispute DISTRIBUTOR STATEMENT --note N`.\n",
                    totals.into_iter().map(money).collect::<Vec<_>>().join(", ")
                ));
            }
            out
        }
    }
}
