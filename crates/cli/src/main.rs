//! `backstock`: the command line.

mod backup;
mod books;
mod claim;
mod database;
mod deduction;
mod export;
#[cfg(feature = "lines")]
mod lines;
mod payout;

use backstock_app::{
    demo, gen, import, mapping, output, risk, royalties, user, AppError as CliError, Exit,
};

use backstock_domain::{Date, PartyId, Sku};
use backstock_ingest::Encoding;
use backstock_store::query::StockFilter;
use backstock_store::Store;
use clap::{Parser, Subcommand};
use output::{Format, Table};
use serde_json::json;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

const ABOUT: &str =
    "backstock — who owns every unit and who holds it, who owes every cent and since when.

Keeps an append-only, tamper-evident ledger of a label's stock (by owner and holder) and
money at its distributors, imports their statements, and answers as of any past date.";

const EXAMPLES: &str = "Examples:
  backstock demo                                 create the demo label (Marigold Records) and show it
  backstock init                                 create an empty database in the data directory
  backstock import catalog.csv distributors.csv  import files (kinds detected from their headers)
  backstock import statements/ --dry-run         preview a directory of files, change nothing
  backstock import weekly.852 --distributor northwind   EDI X12 852/846/867 or DDEX DSR files
  backstock stock --holder cascade --as-of 2016-06-01
  backstock balances --party northwind --format csv
  backstock journal --since 2016-01-01
  backstock import payees.csv contracts.csv costs.csv   royalty payees, contracts, costs
  backstock royalties run --period 2016H1 --dry-run     preview a royalty period; without --dry-run post and lock it
  backstock royalties statement --payee june-okafor --period 2016H1 --format pdf --output june.pdf
  backstock verify                               recompute the hash chain, replay the journal
  backstock checkpoint                           N:HASH to keep elsewhere; later: verify --expect N:HASH

Data directory: --data-dir, else $BACKSTOCK_DATA, else $XDG_DATA_HOME/backstock
(~/.local/share/backstock). `backstock demo` uses ./backstock-demo unless told otherwise.";

#[derive(Parser)]
#[command(name = "backstock", version, about = ABOUT, after_help = EXAMPLES)]
struct Cli {
    /// Where the database and kept files live.
    #[arg(long, global = true, env = "BACKSTOCK_DATA")]
    data_dir: Option<PathBuf>,
    /// The label to work on when --data-dir is the data directory `backstock serve`
    /// uses (one database per label under labels/SLUG).
    #[arg(long, global = true, env = "BACKSTOCK_LABEL")]
    label: Option<String>,
    /// The label's store in PostgreSQL instead of a data directory:
    /// postgres://USER@HOST:PORT/DB?label=SLUG. verify, checkpoint, stock and balances
    /// run on the database; the other label commands (imports, daily actions, risk,
    /// royalties, payouts, insolvency, exports) on a working copy appended back
    /// (`store copy` moves a label between a directory and a database). `serve` and
    /// `user` take the URL without ?label=: users and every label in that database.
    #[arg(
        long,
        global = true,
        env = "BACKSTOCK_DATABASE_URL",
        value_name = "URL"
    )]
    database: Option<String>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Create an empty database.
    #[command(after_help = "Example:\n  backstock init --name \"Foxglove Records\"")]
    Init {
        /// The label's name, as its artists' royalty statements, claim packs and exports
        /// show it (on an existing database: sets it).
        #[arg(long)]
        name: Option<String>,
    },
    /// Create the demo label (Marigold Records, 2012–2016) and print an overview.
    #[command(
        after_help = "Example:\n  backstock demo && backstock --data-dir backstock-demo stock --holder cascade"
    )]
    Demo {
        /// Also write the generated CSV files to this directory.
        #[arg(long)]
        write_files: Option<PathBuf>,
    },
    /// Import files: catalog, distributors, purchase orders, shipments, statements,
    /// stock reports, payments; royalty payees, contracts and costs. Each file is one transaction; the same file twice
    /// changes nothing.
    #[command(
        after_help = "Examples:\n  backstock import catalog.csv distributors.csv\n  backstock import statements/2016-05/ --dry-run\n  backstock import old-export.csv --encoding windows-1252 --kind statements"
    )]
    Import {
        /// Files or directories (their .csv files).
        #[arg(required = true)]
        paths: Vec<PathBuf>,
        /// The file kind, if its header does not say it (payees, contracts and costs
        /// too).
        #[arg(long, value_parser = parse_file_kind)]
        kind: Option<import::FileKind>,
        /// Show what would be recorded; change nothing.
        #[arg(long)]
        dry_run: bool,
        /// utf-8 or windows-1252 (detected when not given).
        #[arg(long, value_parser = parse_encoding)]
        encoding: Option<Encoding>,
        /// The distributor that sent an EDI (X12 852/846/867) or DDEX DSR file.
        #[arg(long)]
        distributor: Option<String>,
        /// Read the files through a saved or shipped mapping (a distributor's own CSV
        /// or XLSX layout; see `backstock mapping list`).
        #[arg(long)]
        mapping: Option<String>,
        /// For mapped files: values the layout does not carry.
        #[arg(long)]
        statement_id: Option<String>,
        /// First day of the statement's period, for files that do not say it (DSR, X12).
        #[arg(long)]
        period_start: Option<String>,
        /// Last day of the statement's period, for files that do not say it.
        #[arg(long)]
        period_end: Option<String>,
        /// The day the distributor issued the statement, for files that do not say it.
        #[arg(long)]
        issued_on: Option<String>,
        /// The statement's currency (ISO 4217, e.g. USD), for files that do not say it.
        #[arg(long)]
        currency: Option<String>,
        /// Statement lines with unknown product codes wait in the unmatched queue
        /// (`backstock unmatched`) instead of refusing the file; `backstock alias add
        /// CODE SKU` posts them.
        #[arg(long)]
        hold_unmatched: bool,
    },
    /// Record that a distributor confirmed receiving a shipment (all its SKUs, as shipped).
    #[command(after_help = "Example:\n  backstock confirm-receipt SH-5012 --on 2016-05-14")]
    ConfirmReceipt {
        /// The shipment the distributor confirmed receiving.
        shipment_id: String,
        /// The day it was received (YYYY-MM-DD).
        #[arg(long, value_parser = parse_date)]
        on: Date,
    },
    /// Saved mappings for distributors' own layouts: add, list, show.
    #[command(
        after_help = "Examples:\n  backstock mapping list\n  backstock mapping show bandcamp\n  backstock mapping add my-distributor.toml\n  backstock import sales.csv --mapping bandcamp"
    )]
    Mapping {
        #[command(subcommand)]
        command: MappingCommand,
    },
    /// Statement lines waiting for an alias (imported with --hold-unmatched).
    Unmatched {
        #[arg(long, value_enum, default_value_t)]
        format: Format,
    },
    /// Units by owner × holder × SKU.
    #[command(
        after_help = "Examples:\n  backstock stock\n  backstock stock --holder cascade --as-of 2016-06-01 --format csv"
    )]
    Stock {
        /// Stock as it stood at the end of this day (YYYY-MM-DD); now when omitted.
        #[arg(long, value_parser = parse_date)]
        as_of: Option<Date>,
        /// Only units this party owns (e.g. label).
        #[arg(long)]
        owner: Option<String>,
        /// Only units this party holds (a distributor's id, or label for your warehouse).
        #[arg(long)]
        holder: Option<String>,
        /// Only this SKU.
        #[arg(long)]
        sku: Option<String>,
        /// Include plant production counters, units sold to market and scrapped.
        #[arg(long)]
        all: bool,
        #[arg(long, value_enum, default_value_t)]
        format: Format,
    },
    /// Money by account (receivable, reserve held, fees, revenue, cash…).
    #[command(
        after_help = "Examples:\n  backstock balances --party cascade\n  backstock balances --as-of 2015-12-31 --format json"
    )]
    Balances {
        /// Balances at the end of this day (YYYY-MM-DD); now when omitted.
        #[arg(long, value_parser = parse_date)]
        as_of: Option<Date>,
        /// Only accounts of this party (a distributor, payee or label).
        #[arg(long)]
        party: Option<String>,
        #[arg(long, value_enum, default_value_t)]
        format: Format,
    },
    /// The journal: every entry recorded, oldest first.
    Journal {
        /// Only entries effective on or after this date.
        #[arg(long, value_parser = parse_date)]
        since: Option<Date>,
        /// Only entries of this kind (shipment, statement, payment, …).
        #[arg(long, value_parser = parse_entry_kind)]
        kind: Option<backstock_ledger::EntryKind>,
        /// At most this many entries (the table shows 1,000 unless told; CSV and JSON
        /// export every entry unless told). A cut list always says so.
        #[arg(long)]
        limit: Option<i64>,
        #[arg(long, value_enum, default_value_t)]
        format: Format,
    },
    /// Show one entry with its transfers.
    Show { entry_id: String },
    /// Recompute the hash chain, replay the journal and hash every kept original again;
    /// name the first entry or file that does not match. The journal must also still
    /// hold what the last verification saw, and the checkpoint given with --expect.
    #[command(
        after_help = "Examples:\n  backstock verify\n  backstock verify --expect 3865:9f2c…   (a checkpoint you kept elsewhere)"
    )]
    Verify {
        /// A checkpoint N:HASH printed earlier by `backstock checkpoint` (or `verify`).
        #[arg(long, value_name = "N:HASH")]
        expect: Option<String>,
        /// Recompute every entry, also those an earlier verification saw (by default
        /// only the entries recorded since are recomputed, when the journal still
        /// holds what it saw).
        #[arg(long)]
        full: bool,
    },
    /// Verify, then print the journal's checkpoint (N:HASH: its entries and head) to
    /// keep somewhere else; `backstock verify --expect N:HASH` later proves the
    /// journal still holds it (nothing cut from its end, nothing rewritten).
    Checkpoint,
    /// Reverse an earlier entry (history is never edited).
    #[command(
        after_help = "Example:\n  backstock correct shipment:SH-5012:MRG-003-CD --reason \"keyed twice\""
    )]
    Correct {
        /// The entry to reverse, as `journal` and `show` name it (e.g. shipment:SH-5012:MRG-003-CD).
        entry_id: String,
        /// Why it is reversed, kept in the journal with the correction.
        #[arg(long)]
        reason: String,
        /// The day the reversal takes effect (YYYY-MM-DD, from the original's date to
        /// today); default: the original's own date. A later day — in an open month
        /// when the original's month is closed — reverses it from then on.
        #[arg(long)]
        on: Option<Date>,
    },
    /// Another code (a distributor's item number, an EAN) for one of your SKUs.
    Alias {
        #[command(subcommand)]
        command: AliasCommand,
    },
    /// What each distributor owes, since when (ageing), reserves held, and the label's
    /// whole exposure against the credit limit.
    #[command(
        after_help = "Examples:\n  backstock receivables\n  backstock receivables --distributor cascade --as-of 2015-09-30 --format json"
    )]
    Receivables {
        /// As of the end of this day (YYYY-MM-DD); the label's today when omitted.
        #[arg(long, value_parser = parse_date)]
        as_of: Option<Date>,
        /// Only this distributor.
        #[arg(long)]
        distributor: Option<String>,
        #[arg(long, value_enum, default_value_t)]
        format: Format,
    },
    /// Stock reports checked against the ledger, unconfirmed shipments, sales of SKUs
    /// never shipped, payments matching no statement, late or missing statements.
    Reconcile {
        /// As of the end of this day (YYYY-MM-DD); the label's today when omitted.
        #[arg(long, value_parser = parse_date)]
        as_of: Option<Date>,
        /// Only this distributor.
        #[arg(long)]
        distributor: Option<String>,
        #[arg(long, value_enum, default_value_t)]
        format: Format,
    },
    /// Early warning: each distributor's level (ok, watch, alert, critical) with the
    /// signals behind it. Records an alert when a level rises.
    #[command(
        after_help = "Examples:\n  backstock risk\n  backstock risk --as-of 2015-06-30 --format json\n  backstock risk --history --from 2013-01-01 --to 2016-06-30 --step month"
    )]
    Risk {
        /// Judge as of the end of this day (YYYY-MM-DD); the label's today when omitted.
        #[arg(long, value_parser = parse_date)]
        as_of: Option<Date>,
        /// Print the level of each distributor at each step, as known then.
        #[arg(long, requires_all = ["from", "to"])]
        history: bool,
        /// With --history: the first day of the history (its first point is the month end on or after it).
        #[arg(long, value_parser = parse_date)]
        from: Option<Date>,
        /// With --history: the last day of the history.
        #[arg(long, value_parser = parse_date)]
        to: Option<Date>,
        /// With --history: a point at every month end or every quarter end.
        #[arg(long, value_enum, default_value_t = Step::Month)]
        step: Step,
        #[arg(long, value_enum, default_value_t)]
        format: Format,
    },
    /// Alerts recorded when a distributor's level rose; `--webhook URL` sets where they
    /// are POSTed as JSON (`--webhook off` stops it).
    Alerts {
        /// Where alerts are posted (an https:// URL).
        #[arg(long)]
        webhook: Option<String>,
        #[arg(long, value_enum, default_value_t)]
        format: Format,
    },
    /// Record a consignment shipment — refused while the distributor is on credit hold
    /// (level alert or above, over its credit limit, or unperfected while the label
    /// retains title), unless overridden with a reason.
    #[command(
        after_help = "Examples:\n  backstock ship --to northwind --sku MRG-014-CD --units 200 --po NO-PO1234\n  backstock ship --to cascade --sku MRG-014-CD --units 50 --override \"prepaid by wire\""
    )]
    Ship {
        /// The distributor the units go to.
        #[arg(long)]
        to: String,
        /// The SKU shipped.
        #[arg(long)]
        sku: String,
        /// How many units.
        #[arg(long)]
        units: u64,
        /// The distributor's purchase order number, when the shipment fills one.
        #[arg(long)]
        po: Option<String>,
        /// Shipping date (default: today).
        #[arg(long, value_parser = parse_date)]
        date: Option<Date>,
        /// Shipment id (default: generated).
        #[arg(long)]
        id: Option<String>,
        /// Ship despite a credit hold; the reason and your name go in the journal.
        #[arg(long = "override")]
        override_reason: Option<String>,
    },
    /// UCC-1 filings and PMSI notices per distributor: what is missing, lapsing or due.
    #[command(
        after_help = "Examples:\n  backstock legal\n  backstock legal ucc1 --distributor northwind --file-number 20171234567 --state NC --filed-on 2017-01-05 --continues 20121234567\n  backstock legal notice --distributor northwind --secured-party \"First Bank\" --sent-on 2016-01-04 --received-on 2016-01-07"
    )]
    Legal {
        #[command(subcommand)]
        command: Option<LegalCommand>,
        /// As of the end of this day (YYYY-MM-DD); the label's today when omitted.
        #[arg(long, value_parser = parse_date)]
        as_of: Option<Date>,
        #[arg(long, value_enum, default_value_t)]
        format: Format,
    },
    /// The dated log of demands to return or transfer stock, and the answers.
    Demand {
        #[command(subcommand)]
        command: DemandCommand,
    },
    /// Deductions: what distributors kept when they paid a statement short — list them,
    /// accept them with a reason (deduction expense) or dispute them (still owed).
    #[command(
        after_help = "Examples:\n  backstock deduction list\n  backstock deduction list --all --distributor northwind --format csv\n  backstock deduction accept northwind NW-2016-03 --reason freight --note \"freight on the March order\"\n  backstock deduction accept northwind NW-2016-03 --reason co-op --amount 12.50\n  backstock deduction dispute northwind NW-2016-04 --note \"no co-op was agreed\""
    )]
    Deduction {
        #[command(subcommand)]
        command: deduction::DeductionCommand,
    },
    /// Write off what a distributor owes: one statement's open amount, or its whole
    /// balance (receivable → bad debt).
    #[command(
        after_help = "Examples:\n  backstock writeoff cascade --reason \"Chapter 7; nothing for unsecured creditors\"\n  backstock writeoff cascade --statement CS-2016-01 --amount 1200.00 --reason \"settlement\""
    )]
    Writeoff(deduction::WriteoffArgs),
    /// Buy the label's consigned units back from the distributor holding them (or its
    /// liquidator): the units come home, what was paid is a buy-back expense.
    #[command(
        after_help = "Example:\n  backstock buyback cascade --sku MRG-014-CD --units 300 --paid 300.00 --paid-to \"Cascade estate liquidator\" --detained"
    )]
    Buyback(deduction::BuybackArgs),
    /// Record the label's units at a holder as held against its will (a failed
    /// distributor refusing a return, stock seized for a lender), or release them
    /// (--release): they stay the label's and at the holder, moving from on hand to
    /// detained there — what the stock report, a buy-back --detained and the claim pack
    /// show.
    #[command(
        after_help = "Examples:\n  backstock detain cascade --sku MRG-014-CD --units 300 --reason \"return refused by the estate (demand D-2016-001)\"\n  backstock detain cascade --sku MRG-014-CD --units 300 --release --reason \"the estate let the stock go\""
    )]
    Detain(deduction::DetainArgs),
    /// A distributor's failure: record it, show the deadlines that run from it.
    #[command(
        after_help = "Examples:\n  backstock insolvency add cascade --kind liquidation --on 2016-06-03 --case \"out-of-court liquidation for the secured lender\" --contact \"lender's counsel\"\n  backstock insolvency add valley --kind bankruptcy --on 2001-11-20 --petition-date 2001-11-20 --case \"Bankr. D. Del. 01-11353\" --claims-bar-date 2002-03-15\n  backstock insolvency show cascade"
    )]
    Insolvency {
        #[command(subcommand)]
        command: claim::InsolvencyCommand,
    },
    /// The claim pack: what the label owns and is owed by a failed distributor, with its
    /// proof (PDF cover, CSV schedules, documents, originals, manifest, chain links).
    #[command(
        after_help = "Examples:\n  backstock claim-pack cascade --out cascade-claim\n  backstock claim-pack cascade --as-of 2016-06-03 --out cascade-claim\n  backstock verify-pack cascade-claim"
    )]
    ClaimPack(claim::ClaimPackArgs),
    /// Check a claim pack with nothing but its files (manifest hashes, journal links).
    VerifyPack(claim::VerifyPackArgs),
    /// Documents attached to a distributor (kept in the store by hash, in the chain).
    #[command(
        after_help = "Example:\n  backstock document add cascade agreement-2012.pdf --kind agreement"
    )]
    Document {
        #[command(subcommand)]
        command: claim::DocumentCommand,
    },
    /// Evaluate early warning on seeded distributor histories (12 shapes, many seeds):
    /// lead time, detection, false alarms, shipments credit hold would refuse.
    #[command(
        after_help = "Examples:\n  backstock risk-eval --seeds 20\n  backstock risk-eval --seeds 5 --years 4 --step-days 28 --format json\n  backstock risk-eval --seeds 1 --keep /tmp/eval   (each label's files and database)"
    )]
    RiskEval(backstock_risk_eval::Args),
    /// Write large seeded test files (catalog, distributors, statements) for benchmarks.
    #[command(
        after_help = "Example:\n  backstock gen --lines 10000000 --out /tmp/bench && backstock --data-dir /tmp/bench-db import /tmp/bench"
    )]
    Gen {
        #[arg(long)]
        out: PathBuf,
        #[arg(long, default_value_t = 1_000_000)]
        lines: u64,
        #[arg(long, default_value_t = 100_000)]
        skus: u32,
        #[arg(long, default_value_t = 5)]
        distributors: u32,
        #[arg(long, default_value_t = 42)]
        seed: u64,
        /// Months the statements cover from January 2016 (1 = one month's statements,
        /// as a distributor sends them; 12 = a year in one file; up to 120 = ten
        /// years). LINES are spread evenly over them.
        #[arg(long, default_value_t = 12, value_parser = clap::value_parser!(u32).range(1..=120))]
        months: u32,
    },
    /// Royalty contracts: add (flags or --file contracts.csv), list, show.
    #[command(
        after_help = "Examples:\n  backstock contract add --id C-OKAFOR --payee june-okafor:60% --payee ada-brennan:40% --sku MRG-003-CD --rate '*:net_receipts:18%' --effective-from 2012-07-01\n  backstock contract add --file contracts.csv\n  backstock contract list\n  backstock contract show C-OKAFOR"
    )]
    Contract {
        #[command(subcommand)]
        command: ContractCommand,
    },
    /// Royalty payees (artists, producers, co-leaders).
    Payee {
        #[command(subcommand)]
        command: PayeeCommand,
    },
    /// Royalty periods: run (post and lock) and statements.
    #[command(
        after_help = "Examples:\n  backstock royalties run --period 2016H1 --dry-run\n  backstock royalties run --period 2016H1\n  backstock royalties statement --payee june-okafor --period 2016H1 --format pdf --output okafor-2016H1.pdf\n  backstock royalties list"
    )]
    Royalties {
        #[command(subcommand)]
        command: RoyaltiesCommand,
    },
    /// Risk thresholds for this label (JSON; any field left out keeps its default).
    Thresholds {
        /// A JSON file with the thresholds to use from now on.
        #[arg(long)]
        set: Option<PathBuf>,
    },
    /// Serve the web app and JSON API. The data directory holds the control database
    /// and one store per label (labels/<id>/).
    #[command(after_help = backstock_web::cli::SERVE_EXAMPLES)]
    Serve(backstock_web::cli::ServeArgs),
    /// Web users and their roles per label (owner, staff, bookkeeper, artist, distributor).
    User {
        #[command(subcommand)]
        command: backstock_web::cli::UserCommand,
    },
    /// The accountant's books of a date range: beancount, a CSV journal, a Xero
    /// manual-journal or QuickBooks Online journal-entry import file (money only).
    #[command(
        after_help = "Examples:\n  backstock export beancount --from 2016-01-01 --to 2016-06-30 --out 2016H1.beancount\n  backstock export xero --from 2016-05-01 --to 2016-05-31 --currency USD --out may-xero.csv\n  backstock export chart --out chart-of-accounts.csv   (the chart in use, to adjust)"
    )]
    Export(export::ExportArgs),
    /// A consistent copy of the label's store in one file (safe while the server runs),
    /// checked after it is written.
    #[command(after_help = "Example:\n  backstock backup --to marigold-2016-06-30.backstock")]
    Backup(backup::BackupArgs),
    /// Replace the label's store with a backup — only after the backup's hash chain
    /// verifies (otherwise nothing changes); the replaced store is kept beside it. Stop
    /// `backstock serve` first.
    #[command(after_help = "Example:\n  backstock restore marigold-2016-06-30.backstock")]
    Restore(backup::RestoreArgs),
    /// Where a label's store is: copy a label between a data directory and PostgreSQL
    /// (or between two of either), every entry, original and hash kept.
    Store {
        #[command(subcommand)]
        command: database::StoreCommand,
    },
    /// Closing the books: close a month (entries dated into it are refused from then
    /// on), reopen one with a reason, list them.
    #[command(
        after_help = "Examples:\n  backstock books close 2016-05\n  backstock books reopen 2016-05 --reason \"late credit note from Northwind\"\n  backstock books list"
    )]
    Books {
        #[command(subcommand)]
        command: books::BooksCommand,
    },
    /// Artist payouts: record a payment to a payee, pay a royalty run in one step
    /// (with the payout file for the bank), list them, the year-end 1099 CSV.
    #[command(
        after_help = "Examples:\n  backstock payout record --payee june-okafor --amount 123.45 --currency USD --on 2016-08-01 --reference WIRE-0042\n  backstock payout run --period 2016H1 --on 2016-08-01 --out payouts.csv\n  backstock payout list --payee june-okafor\n  backstock payout year-end 2016 --out 1099.csv"
    )]
    Payout {
        #[command(subcommand)]
        command: payout::PayoutCommand,
    },
    /// Statement lines as Parquet and queries over them through DataFusion (built with
    /// `--features lines`).
    #[cfg(feature = "lines")]
    #[command(
        after_help = "Examples:\n  backstock lines rebuild\n  backstock lines query --period 2016H1 --by isrc,territory,month\n  backstock lines query --period 2016Q2 --by service --payee june-okafor --format csv"
    )]
    Lines {
        #[command(subcommand)]
        command: lines::LinesCommand,
    },
}

#[derive(Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
enum Step {
    Month,
    Quarter,
}

#[derive(Subcommand)]
enum LegalCommand {
    /// Record a UCC-1 financing statement (or a continuation) filed against a distributor.
    Ucc1 {
        #[arg(long)]
        distributor: String,
        #[arg(long)]
        file_number: String,
        #[arg(long)]
        state: String,
        #[arg(long, value_parser = parse_date)]
        filed_on: Date,
        /// The file number this continues (a continuation, 9-515).
        #[arg(long)]
        continues: Option<String>,
    },
    /// Record a PMSI notice sent to a secured party of the distributor.
    Notice {
        #[arg(long)]
        distributor: String,
        #[arg(long)]
        secured_party: String,
        #[arg(long, value_parser = parse_date)]
        sent_on: Date,
        #[arg(long, value_parser = parse_date)]
        received_on: Option<Date>,
    },
}

#[derive(Subcommand)]
enum DemandCommand {
    /// Record a demand sent to a distributor.
    Add {
        #[arg(long)]
        distributor: String,
        /// return or transfer
        #[arg(long, default_value = "return")]
        kind: String,
        /// For a transfer: the new distributor.
        #[arg(long)]
        to: Option<String>,
        #[arg(long)]
        sku: Option<String>,
        #[arg(long)]
        units: Option<u64>,
        #[arg(long, value_parser = parse_date)]
        on: Date,
        /// How it was sent: certified mail, email…
        #[arg(long, default_value = "email")]
        via: String,
        #[arg(long)]
        id: Option<String>,
    },
    /// Record the distributor's answer.
    Respond {
        id: String,
        #[arg(long, value_parser = parse_date)]
        on: Date,
        /// complied, partial or refused
        #[arg(long)]
        outcome: String,
        #[arg(long, default_value = "")]
        note: String,
    },
    /// List demands and answers.
    List,
}

// Parsed once per process: the size of the flags variant does not matter.
#[allow(clippy::large_enum_variant)]
#[derive(Subcommand)]
enum ContractCommand {
    /// Record a contract (or a new version of one, from --effective-from): give the
    /// terms as flags, or --file contracts.csv (see docs/formats.md).
    Add {
        /// A contracts.csv file instead of flags.
        #[arg(long, conflicts_with_all = ["id", "payee", "sku", "rate"])]
        file: Option<PathBuf>,
        #[arg(long, required_unless_present = "file")]
        id: Option<String>,
        #[arg(long, default_value = "")]
        title: String,
        /// PAYEE:SHARE, once per payee; shares sum to 100%.
        #[arg(long, required_unless_present = "file")]
        payee: Vec<String>,
        /// A SKU or UPC the contract covers (repeat for several).
        #[arg(long, required_unless_present = "file")]
        sku: Vec<String>,
        /// earned or collected
        #[arg(long, default_value = "earned")]
        basis: String,
        /// SCOPE:BASE:RATE, e.g. '*:net_receipts:18%' or 'physical/LP:ppd:12%' (repeat).
        #[arg(long, required_unless_present = "file")]
        rate: Vec<String>,
        #[arg(long, value_parser = parse_date)]
        effective_from: Option<Date>,
        /// Recoup costs across all the contract's releases.
        #[arg(long)]
        cross_collateralized: bool,
        #[arg(long, default_value = "0")]
        reserve_rate: String,
        #[arg(long, default_value_t = 0)]
        reserve_periods: u32,
        #[arg(long, default_value = "0")]
        min_payout: String,
        #[arg(long, default_value = "USD")]
        currency: String,
    },
    /// Contracts on file (their latest version).
    List {
        #[arg(long, value_enum, default_value_t)]
        format: Format,
    },
    /// Every version of a contract, and its costs.
    Show {
        id: String,
        #[arg(long, value_enum, default_value_t)]
        format: Format,
    },
}

#[derive(Subcommand)]
enum PayeeCommand {
    /// Payees on file and their contracts.
    List {
        #[arg(long, value_enum, default_value_t)]
        format: Format,
    },
    /// Record a payee's tax form as received (W-9 from a US person, W-8BEN from a
    /// foreign one), for the year-end 1099 report.
    TaxForm {
        payee: String,
        /// w9 or w8ben
        #[arg(long)]
        form: String,
        /// The day it was received (default: today).
        #[arg(long, value_parser = parse_date)]
        received: Option<Date>,
    },
}

#[derive(Subcommand)]
enum RoyaltiesCommand {
    /// Compute a period's statements from the ledger as known at its end, check the
    /// tie-out, post royalty expense / payable / recoupment and lock the period.
    Run {
        /// 2016H1 (half-year), 2016Q2 (quarter) or 2016-05 (month).
        #[arg(long)]
        period: String,
        /// Show what the run would post; change nothing.
        #[arg(long)]
        dry_run: bool,
        /// The date of the run and its statements (default: today).
        #[arg(long, value_parser = parse_date)]
        on: Option<Date>,
        /// The label's name as printed on statements (remembered for later runs).
        #[arg(long)]
        label_name: Option<String>,
        #[arg(long, value_enum, default_value_t)]
        format: Format,
    },
    /// A payee's statement for a period already run, exactly as stored.
    Statement {
        #[arg(long)]
        payee: String,
        #[arg(long)]
        period: String,
        /// pdf, csv, html or json
        #[arg(long, default_value = "pdf", value_parser = parse_statement_format)]
        format: backstock_royalty_statement::Format,
        /// Write to this file (a PDF is not written to a terminal).
        #[arg(long)]
        output: Option<PathBuf>,
    },
    /// Periods run so far.
    List {
        #[arg(long, value_enum, default_value_t)]
        format: Format,
    },
}

fn parse_statement_format(s: &str) -> Result<backstock_royalty_statement::Format, String> {
    backstock_royalty_statement::Format::parse(s)
        .ok_or_else(|| "expected pdf, csv, html or json".to_string())
}

#[derive(Subcommand)]
enum MappingCommand {
    /// Save a mapping (a TOML file; see crates/mapping/README.md).
    Add { file: PathBuf },
    /// The saved and shipped mappings.
    List,
    /// A mapping as TOML.
    Show { name: String },
}

#[derive(Subcommand)]
enum AliasCommand {
    /// Add an alias: `backstock alias add 0859712000017 MRG-001-CD`.
    Add { code: String, sku: String },
    /// List aliases.
    List,
}

fn parse_entry_kind(s: &str) -> Result<backstock_ledger::EntryKind, String> {
    backstock_ledger::EntryKind::parse(s.trim()).ok_or_else(|| {
        format!(
            "expected one of: {}",
            backstock_ledger::EntryKind::ALL
                .iter()
                .map(|k| k.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        )
    })
}

fn parse_date(s: &str) -> Result<Date, String> {
    Date::parse(s).map_err(|e| e.to_string())
}
fn parse_file_kind(s: &str) -> Result<import::FileKind, String> {
    import::FileKind::parse(s)
        .ok_or_else(|| format!("expected one of {}", import::FileKind::names().join(", ")))
}
fn parse_encoding(s: &str) -> Result<Encoding, String> {
    Encoding::parse(s).ok_or_else(|| "expected utf-8 or windows-1252".to_string())
}

fn default_data_dir() -> PathBuf {
    if let Some(x) = std::env::var_os("XDG_DATA_HOME").filter(|x| !x.is_empty()) {
        return PathBuf::from(x).join("backstock");
    }
    match std::env::var_os("HOME") {
        Some(h) => PathBuf::from(h).join(".local/share/backstock"),
        None => PathBuf::from("backstock-data"),
    }
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    // The web server uses every core, and so do the line-level queries (DataFusion
    // runs a plan's partitions as tasks of the runtime it is called on: on one thread
    // they run one after the other); the other commands one thread.
    #[cfg(feature = "lines")]
    let every_core = matches!(cli.command, Command::Serve(_) | Command::Lines { .. });
    #[cfg(not(feature = "lines"))]
    let every_core = matches!(cli.command, Command::Serve(_));
    let mut builder = if every_core {
        tokio::runtime::Builder::new_multi_thread()
    } else {
        tokio::runtime::Builder::new_current_thread()
    };
    let rt = match builder.enable_all().build() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: cannot start: {e}");
            return ExitCode::from(Exit::Other as u8);
        }
    };
    match rt.block_on(run(cli)) {
        Ok(out) => {
            // A closed pipe (`backstock journal | head`) is not an error.
            use std::io::Write as _;
            let mut stdout = std::io::stdout().lock();
            match stdout
                .write_all(out.as_bytes())
                .and_then(|_| stdout.flush())
            {
                Ok(()) => ExitCode::SUCCESS,
                Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => ExitCode::SUCCESS,
                Err(e) => {
                    eprintln!("error: cannot write the output: {e}");
                    ExitCode::from(Exit::Other as u8)
                }
            }
        }
        Err(e) => {
            eprintln!("error: {}", e.message());
            ExitCode::from(e.exit() as u8)
        }
    }
}

async fn open(dir: &Path) -> Result<Store, CliError> {
    Ok(Store::open(dir, false).await?)
}

/// The database a label command works on: `--data-dir` itself, or — when that is the
/// data directory `backstock serve` uses (`control.db`, one database per label under
/// `labels/SLUG/`) — the label named by `--label`. Without `--label` there, or with a
/// label that is not there, the error names the labels found: a command never creates
/// a second database the web app would not read.
fn label_data_dir(
    data_dir: Option<PathBuf>,
    label: Option<&str>,
) -> Result<Option<PathBuf>, CliError> {
    let root = data_dir.clone().unwrap_or_else(default_data_dir);
    let served = root.join(backstock_web::control::CONTROL_DB).exists();
    let found_in = |root: &Path| -> String {
        let mut slugs: Vec<String> = std::fs::read_dir(root.join("labels"))
            .map(|rd| {
                rd.filter_map(|e| e.ok())
                    .filter(|e| e.path().join(backstock_store::DB_FILE).exists())
                    .filter_map(|e| e.file_name().to_str().map(str::to_string))
                    .collect()
            })
            .unwrap_or_default();
        slugs.sort();
        if slugs.is_empty() {
            "no label yet".to_string()
        } else {
            format!("labels found: {}", slugs.join(", "))
        }
    };
    let found = || found_in(&root);
    // The `labels` folder of a served data directory, given as the data directory: a
    // database made there (`init`) would be one the web app never reads.
    if let Some(server_dir) = root
        .parent()
        .filter(|_| root.file_name().is_some_and(|n| n == "labels"))
        .filter(|p| p.join(backstock_web::control::CONTROL_DB).exists())
        .filter(|_| label.is_none() && !root.join(backstock_store::DB_FILE).exists())
    {
        return Err(CliError::new(
            Exit::Input,
            format!(
                "{} is the labels folder of the data directory `backstock serve` uses ({}); give that directory and the label: `backstock --data-dir {} --label SLUG …` ({})",
                root.display(),
                server_dir.display(),
                server_dir.display(),
                found_in(server_dir)
            ),
        ));
    }
    match label {
        Some(slug) => {
            let fine = !slug.is_empty()
                && slug.len() <= 64
                && slug
                    .bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-');
            if !fine {
                return Err(CliError::new(
                    Exit::Input,
                    format!("--label: found {slug:?}, expected a label's short name (lowercase letters, digits, hyphens)"),
                ));
            }
            if !served {
                return Err(CliError::new(
                    Exit::Input,
                    format!(
                        "--label {slug}: {} is not the data directory of `backstock serve` (it has no {}); leave --label out to use the database in it",
                        root.display(),
                        backstock_web::control::CONTROL_DB
                    ),
                ));
            }
            let dir = root.join("labels").join(slug);
            if !dir.join(backstock_store::DB_FILE).exists() {
                return Err(CliError::new(
                    Exit::Input,
                    format!("--label {slug}: no such label in {} ({})", root.display(), found()),
                ));
            }
            Ok(Some(dir))
        }
        None if served && !root.join(backstock_store::DB_FILE).exists() => Err(CliError::new(
            Exit::Input,
            format!(
                "{} is the data directory of `backstock serve`, which keeps one database per label under labels/ ({}). Name the label with --label SLUG: `backstock --data-dir {} --label SLUG …`",
                root.display(),
                found(),
                root.display()
            ),
        )),
        None => Ok(data_dir),
    }
}

async fn run(cli: Cli) -> Result<String, CliError> {
    if let Command::Store { command } = cli.command {
        return database::run_store(command, cli.label.as_deref()).await;
    }
    if let Some(url) = cli.database.as_deref().filter(|u| !u.trim().is_empty()) {
        if matches!(cli.command, Command::Serve(_) | Command::User { .. }) {
            // The server's users and every label in one database.
            return run_service_on(cli.command, cli.data_dir.clone(), url).await;
        }
        return database::run_on_postgres(cli.command, url, cli.label.as_deref()).await;
    }
    let data_dir = match &cli.command {
        // The server, its users and the evaluation work on the data directory itself;
        // the demo makes its own label (a served directory is refused by the store).
        Command::Serve { .. }
        | Command::User { .. }
        | Command::RiskEval { .. }
        | Command::Gen { .. } => cli.data_dir.clone(),
        Command::Demo { .. }
            if cli.label.is_none()
                && cli
                    .data_dir
                    .as_ref()
                    .is_none_or(|d| !d.join(backstock_web::control::CONTROL_DB).exists()) =>
        {
            cli.data_dir.clone()
        }
        _ => label_data_dir(cli.data_dir.clone(), cli.label.as_deref())?,
    };
    match cli.command {
        c @ (Command::Serve { .. }
        | Command::User { .. }
        | Command::Thresholds { .. }
        | Command::RiskEval { .. }) => run_service(c, data_dir).await,
        c @ Command::Contract { .. } => run_contracts(c, data_dir).await,
        c
        @ (Command::ConfirmReceipt { .. } | Command::Unmatched { .. } | Command::Alias { .. }) => {
            run_codes(c, data_dir).await
        }
        c @ (Command::Init { .. }
        | Command::Demo { .. }
        | Command::Import { .. }
        | Command::Gen { .. }
        | Command::Mapping { .. }) => run_setup(c, data_dir).await,
        c @ (Command::Stock { .. } | Command::Balances { .. }) => run_stock(c, data_dir).await,
        c @ (Command::Journal { .. }
        | Command::Show { .. }
        | Command::Verify { .. }
        | Command::Checkpoint
        | Command::Correct { .. }) => run_journal(c, data_dir).await,
        c @ (Command::Receivables { .. }
        | Command::Reconcile { .. }
        | Command::Risk { .. }
        | Command::Alerts { .. }
        | Command::Ship { .. }) => run_risk(c, data_dir).await,
        c @ (Command::Legal { .. }
        | Command::Demand { .. }
        | Command::Deduction { .. }
        | Command::Writeoff { .. }
        | Command::Buyback { .. }
        | Command::Detain { .. }) => run_legal(c, data_dir).await,
        c @ (Command::Payee { .. } | Command::Royalties { .. }) => run_royalty(c, data_dir).await,
        c @ (Command::Insolvency { .. }
        | Command::ClaimPack { .. }
        | Command::VerifyPack { .. }
        | Command::Document { .. }) => run_failure(c, data_dir).await,
        Command::Export(a) => {
            export::run(&open(&data_dir.unwrap_or_else(default_data_dir)).await?, a).await
        }
        Command::Backup(a) => {
            backup::run_backup(&open(&data_dir.unwrap_or_else(default_data_dir)).await?, a).await
        }
        Command::Payout { command } => {
            payout::run(
                &open(&data_dir.unwrap_or_else(default_data_dir)).await?,
                command,
            )
            .await
        }
        Command::Books { command } => {
            books::run(
                &open(&data_dir.unwrap_or_else(default_data_dir)).await?,
                command,
            )
            .await
        }
        Command::Restore(a) => {
            backup::run_restore(&data_dir.unwrap_or_else(default_data_dir), a).await
        }
        Command::Store { command } => database::run_store(command, cli.label.as_deref()).await,
        #[cfg(feature = "lines")]
        Command::Lines { command } => {
            let d = data_dir.unwrap_or_else(default_data_dir);
            lines::run(&d, cli.label.as_deref(), command).await
        }
    }
}

/// A command given to the wrong group: a bug in this file, said as an error, not a
/// panic.
fn not_routed(c: &Command) -> CliError {
    CliError::new(
        Exit::Other,
        format!(
            "internal error: no handler for {:?}",
            std::mem::discriminant(c)
        ),
    )
}

/// Setting up: the database, the demo, imports, generated files, the web app and its users, thresholds, mappings, the evaluation.
async fn run_setup(command: Command, data_dir: Option<PathBuf>) -> Result<String, CliError> {
    let dir = || data_dir.clone().unwrap_or_else(default_data_dir);
    match command {
        Command::Init { name } => {
            let name = match name.as_deref().map(str::trim) {
                None => None,
                Some(n)
                    if n.is_empty()
                        || n.chars().count() > 200
                        || n.chars().any(char::is_control) =>
                {
                    return Err(CliError::new(
                        Exit::Input,
                        format!("--name: found {n:?}, expected the label's name, 1-200 printable characters"),
                    ));
                }
                Some(n) => Some(n.to_string()),
            };
            let d = dir();
            let existed = d.join(backstock_store::DB_FILE).exists();
            let store = Store::open(&d, true).await?;
            if let Some(n) = &name {
                store.set_meta("label_name", n).await?;
            }
            Ok(match (existed, &name) {
                (true, Some(n)) => format!(
                    "A database already exists in {}; the label's name is now {n:?}.\n",
                    d.display()
                ),
                (true, None) => format!(
                    "A database already exists in {}; left as it was.\n",
                    d.display()
                ),
                (false, _) => format!(
                    "Created an empty database{} in {}.\nNext: backstock import catalog.csv distributors.csv (see docs/formats.md){}\n",
                    name.as_ref().map(|n| format!(" for {n}")).unwrap_or_default(),
                    store.path().display(),
                    if name.is_none() {
                        "\nGive the label its name (artists' statements show it): backstock init --name \"Your Label\""
                    } else {
                        ""
                    }
                ),
            })
        }
        Command::Demo { write_files } => {
            let d = data_dir
                .clone()
                .unwrap_or_else(|| PathBuf::from("backstock-demo"));
            demo::load(&d, write_files.as_deref()).await
        }
        Command::Import {
            paths,
            kind,
            dry_run,
            encoding,
            distributor,
            hold_unmatched,
            mapping,
            statement_id,
            period_start,
            period_end,
            issued_on,
            currency,
        } => {
            let store = open(&dir()).await?;
            let (kind, royalty) = match kind {
                Some(import::FileKind::Ledger(k)) => (Some(k), None),
                Some(import::FileKind::Royalty(r)) => (None, Some(r)),
                None => (None, None),
            };
            let opts = import::ImportOptions {
                kind,
                royalty,
                dry_run,
                encoding,
                hold_unmatched,
                overrides: backstock_mapping::Overrides {
                    distributor: distributor.clone(),
                    statement_id,
                    period_start,
                    period_end,
                    issued_on,
                    currency,
                },
                distributor,
                mapping,
            };
            #[cfg(feature = "lines")]
            if !opts.dry_run {
                // The feature writes the lines of what this import records.
                let before = store.last_seq().await?.unwrap_or(0);
                let mut out = import::run(&store, &paths, &opts).await?;
                out.push_str(&lines::after_import(&store, &dir(), before).await?);
                return Ok(out);
            }
            import::run(&store, &paths, &opts).await
        }
        Command::Mapping { command } => {
            let store = open(&dir()).await?;
            match command {
                MappingCommand::Add { file } => mapping::add(&store, &file).await,
                MappingCommand::List => mapping::list(&store).await,
                MappingCommand::Show { name } => mapping::show(&store, &name).await,
            }
        }
        Command::Gen {
            out,
            lines,
            skus,
            distributors,
            seed,
            months,
        } => {
            let o = gen::GenOptions {
                lines,
                skus,
                distributors,
                seed,
                months,
            };
            gen::generate(&out, &o)
                .map_err(|e| CliError::new(Exit::Other, format!("{}: {e}", out.display())))
        }
        other => Err(not_routed(&other)),
    }
}

/// The web app, its users, the label's thresholds, the early-warning evaluation.
/// `serve` and `user …` with `--database postgres://…` (no `?label=`: the server's
/// control tables and all its labels are in that database; the data directory keeps
/// the labels' working copies and uploads awaiting confirmation).
async fn run_service_on(
    command: Command,
    data_dir: Option<PathBuf>,
    url: &str,
) -> Result<String, CliError> {
    if !database::is_postgres(url) {
        return Err(CliError::new(
            Exit::Input,
            "--database takes a postgres://… URL (a data directory is given with --data-dir)",
        ));
    }
    if url.contains("label=") {
        return Err(CliError::new(
            Exit::Input,
            format!(
                "serve and user work on every label of the database: give its URL without ?label= ({})",
                database::redact(url)
            ),
        ));
    }
    let url = url.to_string();
    match command {
        Command::Serve(args) => {
            let d = data_dir.unwrap_or_else(|| match args.demo {
                true => PathBuf::from("backstock-serve-demo"),
                false => default_data_dir(),
            });
            Ok(backstock_web::cli::serve(args, d, Some(url)).await?)
        }
        Command::User { command } => {
            let d = data_dir.unwrap_or_else(default_data_dir);
            Ok(backstock_web::cli::user(&d, Some(&url), command).await?)
        }
        _ => Err(CliError::new(Exit::Other, "not a server command")),
    }
}

async fn run_service(command: Command, data_dir: Option<PathBuf>) -> Result<String, CliError> {
    let dir = || data_dir.clone().unwrap_or_else(default_data_dir);
    match command {
        Command::RiskEval(a) => backstock_risk_eval::cli(a).await,
        Command::Serve(args) => {
            let d = data_dir.clone().unwrap_or_else(|| match args.demo {
                true => PathBuf::from("backstock-serve-demo"),
                false => default_data_dir(),
            });
            backstock_web::cli::serve(args, d, None).await
        }
        Command::User { command } => backstock_web::cli::user(&dir(), None, command).await,
        Command::Thresholds { set } => {
            let store = open(&dir()).await?;
            if let Some(path) = set {
                let text = std::fs::read_to_string(&path)
                    .map_err(|e| CliError::new(Exit::Input, format!("{}: {e}", path.display())))?;
                backstock_app::thresholds::replace_from_json(&store, &text)
                    .await
                    .map_err(|e| e.context(path.display().to_string()))?;
            }
            let t = risk::thresholds(&store).await?;
            Ok(serde_json::to_string_pretty(&t).unwrap_or_default() + "\n")
        }
        other => Err(not_routed(&other)),
    }
}

/// What the ledger holds: units and money.
async fn run_stock(command: Command, data_dir: Option<PathBuf>) -> Result<String, CliError> {
    let store = open(&data_dir.unwrap_or_else(default_data_dir)).await?;
    stock_or_balances(&store, command).await
}

/// `stock` and `balances` on any store of the contract: a data directory, or a label
/// in PostgreSQL (`--database`).
async fn stock_or_balances<S>(store: &S, command: Command) -> Result<String, CliError>
where
    S: backstock_store::contract::Journal
        + backstock_store::contract::Projections
        + backstock_store::contract::Settings
        + Sync,
{
    match command {
        Command::Stock {
            as_of,
            owner,
            holder,
            sku,
            all,
            format,
        } => {
            let phases = backstock_app::timing::Phases::start();
            let filter = stock_filter(as_of, owner, holder, sku, all);
            let rows = store.stock_as_of(&filter).await?;
            phases.done("stock rows");
            if rows.is_empty() && format == Format::Table {
                if let Some(hint) = stock_name_hint(store, &filter).await? {
                    return Ok(format!("(nothing to show)\n{hint}\n"));
                }
            }
            let holders = stock_holders(&rows);
            let notes = if format == Format::Table && !rows.is_empty() {
                backstock_app::insolvency::at_risk_notes(store, &holders, as_of).await?
            } else {
                Vec::new()
            };
            phases.done("stock at risk");
            let text = stock_text(rows, as_of, format, &notes);
            phases.done("stock text");
            Ok(text)
        }
        Command::Balances {
            as_of,
            party,
            format,
        } => {
            let party = party.map(|p| p.trim().to_ascii_lowercase());
            let rows = store.balances_as_of(as_of, party.as_deref()).await?;
            if let (true, Format::Table, Some(p)) = (rows.is_empty(), format, &party) {
                // A misspelt name reads like "owes nothing": say which names there are.
                let all = store.balances_as_of(as_of, None).await?;
                let names: std::collections::BTreeSet<&str> = all
                    .iter()
                    .flat_map(|r| [r.party.as_str(), r.counterparty.as_str()])
                    .collect();
                if !names.contains(p.as_str()) && !names.is_empty() {
                    return Ok(format!(
                        "(nothing to show)\nNo account of {p} is on the books{}. Parties with balances: {}.\n",
                        as_of.map(|d| format!(" by {d}")).unwrap_or_default(),
                        names.into_iter().collect::<Vec<_>>().join(", ")
                    ));
                }
            }
            Ok(balances_text(&rows, format))
        }
        other => Err(not_routed(&other)),
    }
}

/// When `stock` shows nothing for a named owner or holder that holds nothing at all
/// (a misspelt name reads like "holds none"), the names that do, in a sentence.
async fn stock_name_hint<S>(store: &S, f: &StockFilter) -> Result<Option<String>, CliError>
where
    S: backstock_store::contract::Projections + Sync,
{
    if f.owner.is_none() && f.holder.is_none() {
        return Ok(None);
    }
    let all = store
        .stock_as_of(&StockFilter {
            as_of: f.as_of,
            owner: None,
            holder: None,
            sku: None,
            all: f.all,
        })
        .await?;
    let mut hints = Vec::new();
    for (name, who, names) in [
        (
            &f.holder,
            "holds",
            all.iter()
                .map(|r| r.holder.as_str())
                .collect::<std::collections::BTreeSet<_>>(),
        ),
        (
            &f.owner,
            "owns",
            all.iter()
                .map(|r| r.owner.as_str())
                .collect::<std::collections::BTreeSet<_>>(),
        ),
    ] {
        let Some(name) = name else { continue };
        if names.contains(name.as_str()) || names.is_empty() {
            continue;
        }
        hints.push(format!(
            "{name} {who} no stock on the books{}: check the name. Parties that {}: {}.",
            f.as_of.map(|d| format!(" by {d}")).unwrap_or_default(),
            if who == "holds" {
                "hold stock"
            } else {
                "own stock"
            },
            names.into_iter().collect::<Vec<_>>().join(", ")
        ));
    }
    Ok((!hints.is_empty()).then(|| hints.join("\n")))
}

fn stock_filter(
    as_of: Option<Date>,
    owner: Option<String>,
    holder: Option<String>,
    sku: Option<String>,
    all: bool,
) -> StockFilter {
    let norm = |s: Option<String>| s.map(|s| s.trim().to_ascii_lowercase());
    StockFilter {
        as_of,
        owner: norm(owner),
        holder: norm(holder),
        sku,
        all,
    }
}

fn stock_holders(rows: &[backstock_store::StockRow]) -> Vec<&str> {
    let set: std::collections::BTreeSet<&str> = rows.iter().map(|r| r.holder.as_str()).collect();
    set.into_iter().collect()
}

/// `stock` as a table (with who holds what, and stock at risk) or CSV/JSON. The rows
/// are moved into the table, not copied (a label group's store has 378,000).
fn stock_text(
    rows: Vec<backstock_store::StockRow>,
    as_of: Option<Date>,
    format: Format,
    at_risk: &[String],
) -> String {
    let mut t = Table::new(&["sku", "owner", "holder", "state", "units"]).numeric(&[4]);
    if format == Format::Json {
        return t.render(format, &json!(rows));
    }
    let mut by_holder: std::collections::BTreeMap<String, i64> = Default::default();
    if format == Format::Table {
        for r in &rows {
            if let Some(u) = by_holder.get_mut(&r.holder) {
                *u += r.units;
            } else {
                by_holder.insert(r.holder.clone(), r.units);
            }
        }
    }
    let shown = !rows.is_empty();
    for r in rows {
        let units = output::thousands(r.units);
        t.push(vec![r.sku, r.owner, r.holder, r.state, units]);
    }
    if format == Format::Table && shown {
        let mut s = t.text();
        s.push_str(&format!(
            "\nAs of {}: {}\n",
            as_of.map(|d| d.to_string()).unwrap_or_else(|| "now".into()),
            by_holder
                .iter()
                .map(|(h, u)| format!("{h} holds {}", output::thousands(*u)))
                .collect::<Vec<_>>()
                .join(", ")
        ));
        for n in at_risk {
            s.push_str(&format!("AT RISK — {n}\n"));
        }
        return s;
    }
    t.render(format, &serde_json::Value::Null)
}

/// `balances` as a table or CSV/JSON.
fn balances_text(rows: &[backstock_store::BalanceRow], format: Format) -> String {
    let mut t = Table::new(&["counterparty", "kind", "balance", "pending"]).numeric(&[2, 3]);
    let mut js = Vec::new();
    for r in rows {
        let Some(nat) = r.natural() else { continue };
        let pending = backstock_domain::Money::from_minor(
            if backstock_ledger::MoneyKind::parse(&r.kind).is_some_and(|k| k.is_debit_normal()) {
                r.pending_minor
            } else {
                -r.pending_minor
            },
            nat.currency(),
        );
        t.push(vec![
            r.counterparty.clone(),
            r.kind.clone(),
            output::money(nat),
            if pending.is_zero() {
                String::new()
            } else {
                output::money(pending)
            },
        ]);
        js.push(json!({
            "party": r.party, "counterparty": r.counterparty, "kind": r.kind,
            "balance": {"amount": nat.to_decimal_string(), "amount_minor": nat.minor(), "currency": nat.currency().code()},
            "pending": {"amount": pending.to_decimal_string(), "amount_minor": pending.minor(), "currency": pending.currency().code()},
        }));
    }
    t.render(format, &json!(js))
}

/// The journal itself: listing, showing, verifying, correcting; receipts, aliases and the unmatched queue.
async fn run_journal(command: Command, data_dir: Option<PathBuf>) -> Result<String, CliError> {
    let dir = || data_dir.clone().unwrap_or_else(default_data_dir);
    match command {
        Command::Journal {
            since,
            kind,
            limit,
            format,
        } => {
            let store = open(&dir()).await?;
            if format == Format::Csv {
                return journal_csv(&store, since, kind, limit).await;
            }
            let shown = limit
                .unwrap_or(if format == Format::Table {
                    1000
                } else {
                    i64::MAX
                })
                .clamp(1, i64::MAX - 1);
            let mut rows = store.journal(since, kind, shown + 1).await?;
            let cut = i64::try_from(rows.len()).unwrap_or(i64::MAX) > shown;
            rows.truncate(usize::try_from(shown).unwrap_or(usize::MAX));
            if cut {
                // Never cut without saying so: on stderr, so the output stays clean.
                eprintln!(
                    "note: showing the first {} entries; there are more (--limit N shows more, --format csv exports every entry with its transfers)",
                    output::thousands(shown)
                );
            }
            // Each entry a correction reversed says so, with the correction.
            let corrections: Vec<backstock_ledger::Entry> = store
                .entries(&[backstock_ledger::EntryKind::Correction], None)
                .await?
                .into_iter()
                .map(|(_, e)| e)
                .collect();
            let reversed = backstock_records::standing_reversals(corrections.iter());
            let mut t = Table::new(&[
                "#",
                "effective_on",
                "known_on",
                "kind",
                "entry",
                "transfers",
                "reversed_by",
            ])
            .numeric(&[0, 5]);
            let mut json_rows = Vec::with_capacity(rows.len());
            for r in &rows {
                let by = reversed
                    .get(r.entry_id.as_str())
                    .map(|x| format!("{} ({})", x.by, x.on))
                    .unwrap_or_default();
                t.push(vec![
                    r.seq.to_string(),
                    r.effective_on.clone(),
                    r.known_on.clone(),
                    r.kind.clone(),
                    r.entry_id.clone(),
                    r.transfers.to_string(),
                    by,
                ]);
                let mut v = json!(r);
                if let (Some(x), Some(o)) = (reversed.get(r.entry_id.as_str()), v.as_object_mut()) {
                    o.insert(
                        "reversed_by".into(),
                        json!({"entry_id": x.by.as_str(), "known_on": x.on, "reason": x.reason}),
                    );
                }
                json_rows.push(v);
            }
            Ok(t.render(format, &json!(json_rows)))
        }
        Command::Show { entry_id } => {
            let store = open(&dir()).await?;
            let Some((seq, e, postings)) = store.entry(&entry_id).await? else {
                return Err(CliError::new(
                    Exit::Input,
                    format!("no entry {entry_id:?} (see `backstock journal`)"),
                ));
            };
            let mut s = format!(
                "entry #{seq} {}\n  kind: {}\n  effective on: {}\n  known on: {}\n  source: {}\n",
                e.id,
                e.event.name(),
                e.effective_on,
                e.known_on,
                serde_json::to_string(&e.provenance).unwrap_or_default()
            );
            s.push_str(&format!(
                "  event: {}\n",
                serde_json::to_string(&e.event).unwrap_or_default()
            ));
            let corrections: Vec<backstock_ledger::Entry> = store
                .entries(&[backstock_ledger::EntryKind::Correction], None)
                .await?
                .into_iter()
                .map(|(_, e)| e)
                .collect();
            if let Some(x) =
                backstock_records::standing_reversals(corrections.iter()).get(e.id.as_str())
            {
                s.push_str(&format!(
                    "  reversed by: {} (known {}): {}\n",
                    x.by, x.on, x.reason
                ));
            }
            for p in postings {
                s.push_str(&format!(
                    "  {:>10}  {}  →  {}  ({})\n",
                    p.amount,
                    p.credit,
                    p.debit,
                    serde_json::to_string(&p.phase).unwrap_or_default()
                ));
            }
            Ok(s)
        }
        Command::Verify { expect, full } => {
            let expect = match expect {
                Some(e) => Some(
                    backstock_store::Checkpoint::parse(&e)
                        .map_err(|m| CliError::new(Exit::Input, format!("--expect: {m}")))?,
                ),
                None => None,
            };
            let store = open(&dir()).await?;
            let a = store.verify_anchored_full(expect.as_ref(), full).await?;
            let v = &a.report;
            if let Some(p) = &v.first_problem {
                return Err(CliError::new(
                    Exit::Tampered,
                    format!("verification failed: {p}"),
                ));
            }
            let mut s = format!(
                "OK: {} entries and {} transfers match their hash chain; balances equal the replayed journal; {} kept original{} hash to their SHA-256.\nHead: {}\n",
                output::thousands(v.entries),
                output::thousands(v.transfers),
                output::thousands(v.originals),
                if v.originals == 1 { "" } else { "s" },
                v.head_hash
            );
            if full {
                let n = backstock_app::royalties::verify_stored_statements(&store).await?;
                s.push_str(&format!(
                    "{} stored royalty statement{} match the SHA-256 their runs recorded.\n",
                    output::thousands(n as i64),
                    if n == 1 { "" } else { "s" }
                ));
            }
            match &a.last {
                Some(l) => s.push_str(&format!(
                    "Last verified {}: {} entries, head {} (still held).\n",
                    l.verified_at,
                    output::thousands(l.checkpoint.entries),
                    l.checkpoint.head
                )),
                None => s.push_str("Not verified before here.\n"),
            }
            if v.already_verified > 0 {
                s.push_str(&format!(
                    "The first {} entries were verified then and not recomputed (`verify --full` recomputes everything).\n",
                    output::thousands(v.already_verified)
                ));
            }
            if let Some(c) = &a.checkpoint {
                s.push_str(&format!(
                    "Checkpoint: {c}\n(keep it outside this machine; `backstock verify --expect {c}` proves later that nothing was cut or rewritten)\n"
                ));
            }
            Ok(s)
        }
        Command::Checkpoint => {
            let store = open(&dir()).await?;
            let a = store.verify_anchored(None).await?;
            match (&a.report.first_problem, &a.checkpoint) {
                (None, Some(c)) => Ok(format!("{c}\n")),
                (p, _) => Err(CliError::new(
                    Exit::Tampered,
                    format!(
                        "verification failed: {}; no checkpoint of a journal that does not verify",
                        p.as_deref().unwrap_or("no checkpoint")
                    ),
                )),
            }
        }
        Command::Correct {
            entry_id,
            reason,
            on,
        } => {
            let store = open(&dir()).await?;
            let req = backstock_app::correct::CorrectRequest {
                entry_id,
                reason,
                on,
            };
            let c = backstock_app::correct::correct(&store, &req, &user()).await?;
            Ok(format!(
                "Recorded a correction reversing {} (effective {}, known {}).\n",
                c.reverses, c.effective_on, c.known_on
            ))
        }
        other => Err(not_routed(&other)),
    }
}

/// The journal as CSV: the table's columns, then one row per transfer with its
/// accounts and amount (an entry that moved nothing has one row with those columns
/// empty), every entry unless
/// `--limit` says otherwise — and then a note on stderr says the export was cut.
async fn journal_csv(
    store: &Store,
    since: Option<Date>,
    kind: Option<backstock_ledger::EntryKind>,
    limit: Option<i64>,
) -> Result<String, CliError> {
    use backstock_ledger::{AccountKey, Phase};
    let cell = |s: &str| {
        if s.contains([',', '"', '\n', '\r']) {
            format!("\"{}\"", s.replace('"', "\"\""))
        } else {
            s.to_string()
        }
    };
    // The table's columns first, as they always were; the transfer's after them.
    let mut out = String::from("#,effective_on,known_on,kind,entry,transfers,recorded_at,transfer,phase,ledger,debit_account,credit_account,amount,unit\n");
    let max = limit.unwrap_or(i64::MAX).max(1);
    let mut n: i64 = 0;
    let mut cut = false;
    store
        .for_each_journal_posting(since, kind, |row, postings| {
            if n >= max {
                cut = true;
                return Ok(());
            }
            n += 1;
            let head = format!(
                "{},{},{},{},{},{},{}",
                row.seq,
                row.effective_on,
                row.known_on,
                row.kind,
                cell(&row.entry_id),
                row.transfers,
                cell(&row.recorded_at)
            );
            if postings.is_empty() {
                out.push_str(&head);
                out.push_str(",,,,,,,\n");
            }
            for (i, p) in postings.iter().enumerate() {
                let (ledger, amount, unit) = match &p.debit {
                    AccountKey::Money(m) => (
                        "money",
                        backstock_domain::Money::from_minor(
                            i64::try_from(p.amount).unwrap_or(i64::MAX),
                            m.currency(),
                        )
                        .to_decimal_string(),
                        m.currency().code().to_string(),
                    ),
                    AccountKey::Units(u) => ("units", p.amount.to_string(), u.sku().to_string()),
                };
                let phase = match p.phase {
                    Phase::Posted => "posted",
                    Phase::Pending => "pending",
                    Phase::PostPending { .. } => "post_pending",
                    Phase::VoidPending { .. } => "void_pending",
                };
                out.push_str(&format!(
                    "{head},{},{phase},{ledger},{},{},{amount},{}\n",
                    i + 1,
                    cell(&p.debit.to_string()),
                    cell(&p.credit.to_string()),
                    cell(&unit)
                ));
            }
            Ok(())
        })
        .await?;
    if cut {
        eprintln!(
            "note: exported the first {} entries; there are more (leave out --limit to export every entry)",
            output::thousands(max)
        );
    }
    Ok(out)
}

/// Receipts confirmed, other codes for SKUs and the statement lines waiting for them.
async fn run_codes(command: Command, data_dir: Option<PathBuf>) -> Result<String, CliError> {
    let dir = || data_dir.clone().unwrap_or_else(default_data_dir);
    match command {
        Command::ConfirmReceipt { shipment_id, on } => {
            let store = open(&dir()).await?;
            let r = backstock_app::paperwork::confirm_receipt(&store, &shipment_id, on, &user())
                .await?;
            Ok(format!(
                "Recorded receipt of {} by {} ({} SKU line(s)) on {}.\n",
                r.shipment_id, r.distributor, r.lines, r.on
            ))
        }
        Command::Unmatched { format } => {
            let store = open(&dir()).await?;
            let pending = backstock_app::aliases::unmatched_pending(&store).await?;
            let mut t = Table::new(&[
                "distributor",
                "statement",
                "code",
                "kind",
                "units",
                "amount",
                "lines",
            ])
            .numeric(&[4, 5]);
            for (_, u) in &pending {
                t.push(vec![
                    u.distributor.to_string(),
                    u.statement_id.clone(),
                    u.code.clone(),
                    u.kind.as_str().into(),
                    u.units.to_string(),
                    output::money(backstock_domain::Money::from_minor(
                        u.amount_minor,
                        u.currency,
                    )),
                    format!("{}-{}", u.first_line, u.last_line),
                ]);
            }
            let mut s = t.render(
                format,
                &json!(pending.iter().map(|(_, u)| u).collect::<Vec<_>>()),
            );
            if format == Format::Table && !pending.is_empty() {
                s.push_str("\nName each code's SKU with: backstock alias add CODE SKU (the lines are then posted).\n");
            }
            Ok(s)
        }
        Command::Alias { command } => {
            let store = open(&dir()).await?;
            match command {
                AliasCommand::Add { code, sku } => {
                    let sku = Sku::parse(&sku)
                        .map_err(|e| CliError::new(Exit::Input, format!("SKU: {e}")))?;
                    #[cfg(feature = "lines")]
                    let before = store.last_seq().await?.unwrap_or(0);
                    // The same alias keyed on the web, by the API or here: recorded once.
                    let (r, new) =
                        backstock_app::actions::alias(&store, &code, sku, &user()).await?;
                    #[allow(unused_mut)]
                    let mut out = if !new {
                        format!("{} already means {}; nothing changed.\n", r.code, r.sku)
                    } else if r.lines_posted > 0 {
                        format!(
                            "{} now means {}; posted {} held line(s) from {} statement(s).\n",
                            r.code, r.sku, r.lines_posted, r.statements
                        )
                    } else {
                        format!("{} now means {}.\n", r.code, r.sku)
                    };
                    // The originals of the lines posted are written again with the SKU.
                    // The alias is recorded whatever happens here: a failure is said.
                    #[cfg(feature = "lines")]
                    if r.lines_posted > 0 {
                        match lines::after_import(&store, &dir(), before).await {
                            Ok(s) => out.push_str(&s),
                            Err(e) => out.push_str(&format!(
                                "Lines: not written again as Parquet: {} (backstock lines rebuild writes them)\n",
                                e.message()
                            )),
                        }
                    }
                    Ok(out)
                }
                AliasCommand::List => {
                    let mut t = Table::new(&["code", "sku"]);
                    for (code, sku) in backstock_app::aliases::list(&store).await? {
                        t.push(vec![code, sku.to_string()]);
                    }
                    Ok(t.text())
                }
            }
        }
        other => Err(not_routed(&other)),
    }
}

/// What is owed and how worried to be: receivables, reconciliation, risk, alerts, shipping under credit hold.
async fn run_risk(command: Command, data_dir: Option<PathBuf>) -> Result<String, CliError> {
    let dir = || data_dir.clone().unwrap_or_else(default_data_dir);
    match command {
        Command::Receivables {
            as_of,
            distributor,
            format,
        } => {
            let store = open(&dir()).await?;
            risk::receivables(&store, as_of, distributor, format).await
        }
        Command::Reconcile {
            as_of,
            distributor,
            format,
        } => {
            let store = open(&dir()).await?;
            risk::reconcile(&store, as_of, distributor, format).await
        }
        Command::Risk {
            as_of,
            history,
            from,
            to,
            step,
            format,
        } => {
            let store = open(&dir()).await?;
            if history {
                let (Some(from), Some(to)) = (from, to) else {
                    return Err(CliError::new(
                        Exit::Input,
                        "--history needs --from and --to",
                    ));
                };
                let months = if step == Step::Quarter { 3 } else { 1 };
                risk::risk_history(&store, from, to, months, format).await
            } else {
                risk::risk(&store, as_of, format).await
            }
        }
        Command::Alerts { webhook, format } => {
            let store = open(&dir()).await?;
            if let Some(url) = webhook {
                if url == "off" {
                    store.set_meta("webhook_url", "").await?;
                    return Ok("Alerts will no longer be posted to a webhook.\n".into());
                }
                if !url.starts_with("http://") {
                    return Err(CliError::new(
                        Exit::Input,
                        "the webhook must be an http:// URL (use a local relay for https)",
                    ));
                }
                store.set_meta("webhook_url", &url).await?;
                return Ok(format!("Alerts will be POSTed as JSON to {url}.\n"));
            }
            risk::alerts(&store, format).await
        }
        Command::Ship {
            to,
            sku,
            units,
            po,
            date,
            id,
            override_reason,
        } => {
            let store = open(&dir()).await?;
            risk::ship(
                &store,
                risk::ShipArgs {
                    to,
                    sku,
                    units,
                    po,
                    date,
                    id,
                    override_reason,
                },
            )
            .await
            .map(|o| o.to_string())
        }
        other => Err(not_routed(&other)),
    }
}

/// Paperwork and settlements: UCC-1s and notices, demands, deductions, write-offs, buy-backs.
async fn run_legal(command: Command, data_dir: Option<PathBuf>) -> Result<String, CliError> {
    let dir = || data_dir.clone().unwrap_or_else(default_data_dir);
    match command {
        Command::Legal {
            command,
            as_of,
            format,
        } => {
            let store = open(&dir()).await?;
            match command {
                None => risk::legal(&store, as_of, format).await,
                Some(LegalCommand::Ucc1 {
                    distributor,
                    file_number,
                    state,
                    filed_on,
                    continues,
                }) => {
                    let req = backstock_app::paperwork::FileUcc1 {
                        distributor: PartyId::parse(&distributor).map_err(|e| {
                            CliError::new(Exit::Input, format!("--distributor: {e}"))
                        })?,
                        file_number,
                        state,
                        filed_on,
                        continues,
                    };
                    let r = backstock_app::paperwork::file_ucc1(&store, req, &user()).await?;
                    Ok(format!("{}\n", r.said(|d| d.to_string())))
                }
                Some(LegalCommand::Notice {
                    distributor,
                    secured_party,
                    sent_on,
                    received_on,
                }) => {
                    let req = backstock_app::paperwork::SendNotice {
                        distributor: PartyId::parse(&distributor).map_err(|e| {
                            CliError::new(Exit::Input, format!("--distributor: {e}"))
                        })?,
                        secured_party,
                        sent_on,
                        received_on,
                    };
                    let r = backstock_app::paperwork::send_notice(&store, req, &user()).await?;
                    Ok(format!(
                        "Recorded the PMSI notice to {} about {}.\n",
                        r.secured_party, r.distributor
                    ))
                }
            }
        }
        Command::Demand { command } => {
            let store = open(&dir()).await?;
            demand(&store, command).await
        }
        Command::Deduction { command } => {
            let store = open(&dir()).await?;
            deduction::deduction(&store, command).await
        }
        Command::Writeoff(a) => {
            let store = open(&dir()).await?;
            deduction::writeoff(&store, a).await
        }
        Command::Buyback(a) => {
            let store = open(&dir()).await?;
            deduction::buyback(&store, a).await
        }
        Command::Detain(a) => {
            let store = open(&dir()).await?;
            deduction::detain(&store, a).await
        }
        other => Err(not_routed(&other)),
    }
}

/// Royalty contracts, payees and runs.
async fn run_royalty(command: Command, data_dir: Option<PathBuf>) -> Result<String, CliError> {
    let dir = || data_dir.clone().unwrap_or_else(default_data_dir);
    match command {
        Command::Payee { command } => {
            let store = open(&dir()).await?;
            match command {
                PayeeCommand::List { format } => royalties::payee_list(&store, format).await,
                PayeeCommand::TaxForm {
                    payee,
                    form,
                    received,
                } => payout::tax_form(&store, &payee, &form, received).await,
            }
        }
        Command::Royalties { command } => {
            let store = open(&dir()).await?;
            match command {
                RoyaltiesCommand::Run {
                    period,
                    dry_run,
                    on,
                    format,
                    label_name,
                } => {
                    royalties::run(
                        &store,
                        royalties::RunArgs {
                            period,
                            dry_run,
                            on,
                            format,
                            label_name,
                        },
                    )
                    .await
                }
                RoyaltiesCommand::Statement {
                    payee,
                    period,
                    format,
                    output,
                } => {
                    let bytes =
                        backstock_app::payouts::statement(&store, &payee, &period, format).await?;
                    match output {
                        Some(path) => {
                            std::fs::write(&path, &bytes).map_err(|e| {
                                CliError::new(Exit::Other, format!("{}: {e}", path.display()))
                            })?;
                            Ok(format!(
                                "Wrote the {period} statement of {payee} to {} ({} bytes).\n",
                                path.display(),
                                bytes.len()
                            ))
                        }
                        None if format == backstock_royalty_statement::Format::Pdf => {
                            use std::io::{IsTerminal, Write as _};
                            let mut out = std::io::stdout().lock();
                            if out.is_terminal() {
                                return Err(CliError::new(
                                    Exit::Input,
                                    "a PDF is not printed to a terminal: give --output FILE (or redirect)",
                                ));
                            }
                            out.write_all(&bytes)
                                .and_then(|_| out.flush())
                                .map_err(|e| CliError::new(Exit::Other, e.to_string()))?;
                            Ok(String::new())
                        }
                        None => Ok(String::from_utf8_lossy(&bytes).into_owned()),
                    }
                }
                RoyaltiesCommand::List { format } => royalties::list_runs(&store, format).await,
            }
        }
        other => Err(not_routed(&other)),
    }
}

/// Royalty contracts: add, list, show.
async fn run_contracts(command: Command, data_dir: Option<PathBuf>) -> Result<String, CliError> {
    let dir = || data_dir.clone().unwrap_or_else(default_data_dir);
    match command {
        Command::Contract { command } => {
            let store = open(&dir()).await?;
            match command {
                ContractCommand::Add { file: Some(f), .. } => {
                    let opts = import::ImportOptions::default();
                    let (files, rest) = royalties::split_files(vec![f.clone()], None)?;
                    if !rest.is_empty()
                        || files
                            .iter()
                            .any(|(_, k)| *k != royalties::files::RoyaltyFile::Contracts)
                    {
                        return Err(CliError::new(
                            Exit::Input,
                            format!(
                                "{}:1: expected the header of contracts.csv ({})",
                                f.display(),
                                royalties::files::RoyaltyFile::Contracts.columns().join(",")
                            ),
                        ));
                    }
                    royalties::import_files(&store, &files, opts.encoding, false, None, &|_| Ok(()))
                        .await
                }
                ContractCommand::Add {
                    id,
                    title,
                    payee,
                    sku,
                    basis,
                    rate,
                    effective_from,
                    cross_collateralized,
                    reserve_rate,
                    reserve_periods,
                    min_payout,
                    currency,
                    ..
                } => {
                    let on = match effective_from {
                        Some(d) => d,
                        None => risk::today(&store).await?,
                    };
                    royalties::contract_add(
                        &store,
                        royalties::ContractArgs {
                            id: id.unwrap_or_default(),
                            effective_from: on,
                            title,
                            payees: payee.join(";"),
                            skus: sku,
                            basis,
                            rates: rate,
                            cross_collateralized,
                            reserve_rate,
                            reserve_release_periods: reserve_periods,
                            min_payout,
                            currency,
                        },
                    )
                    .await
                }
                ContractCommand::List { format } => royalties::contract_list(&store, format).await,
                ContractCommand::Show { id, format } => {
                    royalties::contract_show(&store, &id, format).await
                }
            }
        }
        other => Err(not_routed(&other)),
    }
}

/// When a distributor fails: the insolvency record, the claim pack and documents.
async fn run_failure(command: Command, data_dir: Option<PathBuf>) -> Result<String, CliError> {
    let dir = || data_dir.clone().unwrap_or_else(default_data_dir);
    match command {
        Command::Insolvency { command } => {
            let store = open(&dir()).await?;
            claim::insolvency(&store, command).await
        }
        Command::ClaimPack(a) => {
            let store = open(&dir()).await?;
            claim::claim_pack(&store, a).await
        }
        Command::VerifyPack(a) => claim::verify_pack(a),
        Command::Document { command } => {
            let store = open(&dir()).await?;
            claim::document(&store, command).await
        }
        other => Err(not_routed(&other)),
    }
}

async fn demand(store: &Store, command: DemandCommand) -> Result<String, CliError> {
    use backstock_app::demands;
    let bad = |what: &str, e: backstock_domain::DomainError| {
        CliError::new(Exit::Input, format!("{what}: {e}"))
    };
    match command {
        DemandCommand::Add {
            distributor,
            kind,
            to,
            sku,
            units,
            on,
            via,
            id,
        } => {
            let req = demands::AddDemand {
                distributor: PartyId::parse(&distributor).map_err(|e| bad("--distributor", e))?,
                kind: demands::parse_kind(&kind)?,
                transfer_to: to
                    .map(|t| PartyId::parse(&t))
                    .transpose()
                    .map_err(|e| bad("--to", e))?,
                sku: sku
                    .map(|s| Sku::parse(&s))
                    .transpose()
                    .map_err(|e| bad("--sku", e))?,
                units,
                made_on: on,
                via,
                id,
            };
            let r = demands::add(store, req, &user()).await?;
            Ok(format!(
                "Recorded demand {} to {} on {on}. Record the answer with: backstock demand respond {} --on DATE --outcome refused|partial|complied\n",
                r.demand_id, r.distributor, r.demand_id
            ))
        }
        DemandCommand::Respond {
            id,
            on,
            outcome,
            note,
        } => {
            let req = demands::Respond {
                demand_id: id,
                answered_on: on,
                outcome: demands::parse_outcome(&outcome)?,
                note,
            };
            let r = demands::add_response(store, req, &user()).await?;
            Ok(format!("Recorded the answer to demand {}.\n", r.demand_id))
        }
        DemandCommand::List => {
            let mut t = Table::new(&[
                "demand",
                "made on",
                "distributor",
                "kind",
                "what",
                "via",
                "answered",
                "outcome",
                "note",
            ]);
            for row in demands::list(store, None).await? {
                let d = &row.demand;
                let a = row.answer.as_ref();
                t.push(vec![
                    d.demand_id.clone(),
                    d.made_on.to_string(),
                    d.distributor.to_string(),
                    match &d.transfer_to {
                        // Where the stock is to go: the demand's point.
                        Some(to) => format!("transfer to {to}"),
                        None => format!("{:?}", d.kind).to_lowercase(),
                    },
                    match (&d.sku, d.units) {
                        (Some(s), Some(u)) => format!("{u} × {s}"),
                        (Some(s), None) => format!("all {s}"),
                        _ => "all stock".into(),
                    },
                    d.via.clone(),
                    a.map(|a| a.answered_on.to_string())
                        .unwrap_or_else(|| "no answer".into()),
                    a.map(|a| format!("{:?}", a.outcome).to_lowercase())
                        .unwrap_or_default(),
                    a.map(|a| a.note.clone()).unwrap_or_default(),
                ]);
            }
            Ok(t.text())
        }
    }
}
