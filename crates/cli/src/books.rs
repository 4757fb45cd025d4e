//! `backstock books close|reopen|list`: parse the arguments, call
//! `backstock_app::books`, say what was done.

use backstock_app::books::{self, Month};
use backstock_app::output::{Format, Table};
use backstock_app::{user, AppError};
use backstock_store::Store;
use clap::Subcommand;
use serde_json::json;

#[derive(Subcommand)]
pub enum BooksCommand {
    /// Close a month that has ended: entries dated into it (or before it) are refused
    /// from now on, so its reports never change.
    Close {
        /// YYYY-MM
        month: String,
    },
    /// Reopen a closed month (an owner's decision; the reason goes in the log).
    Reopen {
        /// YYYY-MM
        month: String,
        #[arg(long)]
        reason: String,
    },
    /// The months closed, and every close and reopen (who, when, why).
    List {
        #[arg(long, value_enum, default_value_t)]
        format: Format,
    },
}

pub async fn run(store: &Store, c: BooksCommand) -> Result<String, AppError> {
    match c {
        BooksCommand::Close { month } => {
            let m = Month::parse(&month)?;
            let r = books::close(store, m, &user()).await?;
            Ok(if r.new {
                format!(
                    "Closed {m}: entries dated on or before {} are refused from now on.\nReopen (owner): backstock books reopen {m} --reason \"…\"\n",
                    m.last_day()
                )
            } else {
                format!("{m} was closed already; nothing changed.\n")
            })
        }
        BooksCommand::Reopen { month, reason } => {
            let m = Month::parse(&month)?;
            let r = books::reopen(store, m, &user(), &reason).await?;
            Ok(format!("{}\n", r.said(&reason)))
        }
        BooksCommand::List { format } => {
            let closed = books::closed(store).await?;
            let log = books::log(store).await?;
            let mut t = Table::new(&["at", "action", "month", "by", "reason"]);
            for a in &log {
                t.push(vec![
                    a.at.clone(),
                    a.action.clone(),
                    a.month.to_string(),
                    a.by.clone(),
                    a.reason.clone(),
                ]);
            }
            let closed_list: Vec<String> = closed.iter().map(|m| m.to_string()).collect();
            if format == Format::Table {
                let mut s = if closed_list.is_empty() {
                    "No month is closed.\n".to_string()
                } else {
                    format!("Closed: {}\n", closed_list.join(", "))
                };
                if !log.is_empty() {
                    s.push('\n');
                    s.push_str(&t.text());
                }
                return Ok(s);
            }
            Ok(t.render(format, &json!({"closed": closed_list, "log": log})))
        }
    }
}
