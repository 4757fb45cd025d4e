//! `backstock lines rebuild|query` (cargo feature `lines`): statement lines as Parquet
//! and queries over them through DataFusion (`backstock-lines`).

use backstock_app::{AppError, Exit};
use backstock_lines::query::{decimal_text, Dim, Request};
use backstock_lines::Location;
use backstock_store::Store;
use clap::{Subcommand, ValueEnum};
use std::path::{Path, PathBuf};

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum, Default)]
pub enum LinesFormat {
    #[default]
    Text,
    Csv,
    Json,
}

#[derive(Subcommand)]
pub enum LinesCommand {
    /// Re-read every kept original that statements were recorded from and write its
    /// lines as Parquet (label=/distributor=/period=/SHA256.parquet), after checking
    /// they add up to the statements recorded from it.
    Rebuild {
        /// Where to write: a directory or s3://BUCKET/PREFIX (an S3-compatible store,
        /// configured by AWS_* variables); default: BACKSTOCK_LINES, else DATA_DIR/lines.
        #[arg(long)]
        out: Option<String>,
    },
    /// Seeded test files: `backstock gen`'s catalog, distributors, payees and contracts
    /// (no statements.csv lines) and DDEX DSR files of digital sales by ISRC × territory
    /// × service under OUT/dsr/DISTRIBUTOR/ (import each directory with --distributor, as
    /// printed).
    Gen {
        #[arg(long)]
        out: PathBuf,
        /// Sales records in all the DSR files.
        #[arg(long, default_value_t = 1_000_000)]
        lines: u64,
        #[arg(long, default_value_t = 100_000)]
        skus: u32,
        #[arg(long, default_value_t = 5)]
        distributors: u32,
        /// Months of 2016 (one report per distributor and month).
        #[arg(long, default_value_t = 12, value_parser = clap::value_parser!(u32).range(1..=12))]
        months: u32,
        #[arg(long, default_value_t = 42)]
        seed: u64,
        /// Territories (up to 60).
        #[arg(long, default_value_t = 40)]
        territories: usize,
        /// Sales records per file at most (a month's report is split into files).
        #[arg(long, default_value_t = 250_000)]
        per_file: u64,
    },
    /// A period's lines grouped and summed through DataFusion; every total is checked
    /// against an exact integer sum of the same lines before it is printed.
    Query {
        /// 2016H1 (half-year), 2016Q2 (quarter) or 2016-05 (month): statements whose
        /// period ends in it.
        #[arg(long)]
        period: String,
        /// Group by these (comma-separated): isrc, territory, service, month, sku,
        /// distributor, kind. Always by currency.
        #[arg(long, default_value = "")]
        by: String,
        /// Only the lines of SKUs on the royalty contracts paying this payee (in force
        /// at the period's end): the receipts the payee is paid on, not the royalty.
        #[arg(long)]
        payee: Option<String>,
        #[arg(long, value_enum, default_value_t)]
        format: LinesFormat,
        /// Where the lines are: a directory or s3://BUCKET/PREFIX; default:
        /// BACKSTOCK_LINES, else DATA_DIR/lines.
        #[arg(long)]
        dir: Option<String>,
        /// `local` (DataFusion in this process) or `ballista://HOST:PORT` (the same plan
        /// on an Apache Ballista cluster's scheduler; built with `--features ballista`).
        /// The exact check runs here either way.
        #[arg(long, default_value = "local")]
        engine: String,
    },
    /// A period's earned royalties per payee × contract × currency computed from the
    /// statement lines, so that rates by territory or service (`digital@US:…`,
    /// `digital+SERVICE:…`) apply; every sum is checked against an exact integer sum of
    /// the same lines, and the lines against the ledger's statements. Without such
    /// rates, the same amounts as `royalties run`, to the cent.
    Royalties {
        /// 2016H1 (half-year), 2016Q2 (quarter) or 2016-05 (month): the statements the
        /// royalty run of that period accounts.
        #[arg(long)]
        period: String,
        /// Only this payee's rows.
        #[arg(long)]
        payee: Option<String>,
        #[arg(long, value_enum, default_value_t)]
        format: LinesFormat,
        /// Where the lines are: a directory or s3://BUCKET/PREFIX; default:
        /// BACKSTOCK_LINES, else DATA_DIR/lines.
        #[arg(long)]
        dir: Option<String>,
    },
    /// A Ballista scheduler and executors on this machine's loopback, for trying
    /// `lines query --engine ballista://…` (built with `--features ballista`); runs until
    /// interrupted. A real cluster runs Ballista's own scheduler and executors.
    #[cfg(feature = "ballista")]
    Cluster {
        #[arg(long, default_value_t = 2, value_parser = clap::value_parser!(u16).range(1..=16))]
        executors: u16,
        /// Tasks each executor runs at once.
        #[arg(long, default_value_t = 2, value_parser = clap::value_parser!(u16).range(1..=64))]
        tasks: u16,
    },
}

/// The label's name in partition paths when `--label` is not given: `SLUG` for a
/// data directory `…/labels/SLUG` (a served one, as `--label SLUG` resolves it), else
/// `default`.
fn label_of_dir(data_dir: &Path) -> String {
    let parent = data_dir.parent().and_then(|p| p.file_name());
    match (parent, data_dir.file_name()) {
        (Some(p), Some(slug)) if p == "labels" => slug.to_string_lossy().to_string(),
        _ => "default".to_string(),
    }
}

/// After `backstock import` (built with the feature): the lines of the statement files
/// it recorded (journal entries after `after`) are written to DATA_DIR/lines. A file
/// whose lines cannot be written is said, not an error: the import stands.
pub async fn after_import(store: &Store, data_dir: &Path, after: i64) -> Result<String, AppError> {
    let to = location(data_dir, None)?;
    let r =
        backstock_lines::rebuild::write_recorded_since(store, &label_of_dir(data_dir), after, &to)
            .await?;
    let mut s = String::new();
    let lines: u64 = r.files.iter().map(|f| f.lines).sum();
    if !r.files.is_empty() {
        s.push_str(&format!(
            "Lines: {lines} statement line{} of {} file{} written as Parquet under {}.\n",
            if lines == 1 { "" } else { "s" },
            r.files.len(),
            if r.files.len() == 1 { "" } else { "s" },
            to.shown()
        ));
    }
    for (name, why) in &r.failed {
        s.push_str(&format!("Lines: {name}: not written as Parquet: {why}\n"));
    }
    Ok(s)
}

fn location(data_dir: &Path, given: Option<&str>) -> Result<Location, AppError> {
    match given {
        Some(t) => Location::parse(t),
        None => Location::default_or(&data_dir.join("lines")),
    }
}

pub async fn run(
    data_dir: &Path,
    label: Option<&str>,
    command: LinesCommand,
) -> Result<String, AppError> {
    let label = label
        .map(str::to_string)
        .unwrap_or_else(|| label_of_dir(data_dir));
    let open = || async { Ok::<Store, AppError>(Store::open(data_dir, false).await?) };
    match command {
        LinesCommand::Rebuild { out } => {
            let store = &open().await?;
            let to = location(data_dir, out.as_deref())?;
            let report = backstock_lines::rebuild::rebuild(store, &label, &to).await?;
            if report.failed.is_empty() {
                Ok(report.text(&to))
            } else {
                Err(AppError::new(
                    Exit::Other,
                    format!(
                        "{}{} original{} could not be written (above); the others were",
                        report.text(&to),
                        report.failed.len(),
                        if report.failed.len() == 1 { "" } else { "s" }
                    ),
                ))
            }
        }
        LinesCommand::Gen {
            out,
            lines,
            skus,
            distributors,
            months,
            seed,
            territories,
            per_file,
        } => {
            let io =
                |e: std::io::Error| AppError::new(Exit::Other, format!("{}: {e}", out.display()));
            backstock_app::gen::generate(
                &out,
                &backstock_app::gen::GenOptions {
                    lines: 0,
                    skus,
                    distributors,
                    seed,
                    months,
                },
            )
            .map_err(io)?;
            // Reference data only: the sales are in the DSR files.
            std::fs::remove_file(out.join("statements.csv")).map_err(io)?;
            let files = backstock_lines::gen::write_dsr(
                &out,
                &backstock_lines::gen::DsrOptions {
                    lines,
                    skus,
                    distributors,
                    months,
                    seed,
                    territories,
                    per_file,
                },
            )
            .map_err(io)?;
            let mut s = format!(
                "Wrote catalog.csv, distributors.csv, payees.csv, contracts.csv and {} DSR file{} ({lines} sales records) under {}.\nImport them with:\n  backstock import {}/catalog.csv {}/distributors.csv {}/payees.csv {}/contracts.csv\n",
                files.len(),
                if files.len() == 1 { "" } else { "s" },
                out.display(),
                out.display(),
                out.display(),
                out.display(),
                out.display(),
            );
            let mut by_dist: std::collections::BTreeMap<&str, usize> = Default::default();
            for (_, d) in &files {
                *by_dist.entry(d.as_str()).or_default() += 1;
            }
            for (d, n) in by_dist {
                s.push_str(&format!(
                    "  backstock import {}/dsr/{d} --distributor {d}   # {n} file{}\n",
                    out.display(),
                    if n == 1 { "" } else { "s" }
                ));
            }
            Ok(s)
        }
        #[cfg(feature = "ballista")]
        LinesCommand::Cluster { executors, tasks } => {
            // The scheduler and executors get a runtime of their own with a worker per
            // core (the CLI's runtime has one thread), on a thread that lives as long
            // as the process.
            let (tx, rx) = std::sync::mpsc::channel();
            std::thread::spawn(move || {
                let rt = match tokio::runtime::Builder::new_multi_thread()
                    .enable_all()
                    .build()
                {
                    Ok(rt) => rt,
                    Err(e) => {
                        let _ = tx.send(Err(AppError::new(
                            Exit::Other,
                            format!("a runtime for the cluster: {e}"),
                        )));
                        return;
                    }
                };
                rt.block_on(async move {
                    let started = backstock_lines::cluster::start_local(
                        usize::from(executors),
                        usize::from(tasks),
                    )
                    .await;
                    let _ = tx.send(started);
                    std::future::pending::<()>().await;
                });
            });
            let at = rx.recv().map_err(|e| {
                AppError::new(Exit::Other, format!("the cluster did not start: {e}"))
            })??;
            // Said on standard output; a reader that went away (a closed pipe) does not
            // stop the cluster.
            use std::io::Write;
            let mut out = std::io::stdout();
            let _ = writeln!(
                out,
                "A Ballista scheduler with {executors} executor{} is listening on {at}.\nQuery it with: backstock lines query --period 2016H1 --by territory --engine ballista://{at}\nStop with Ctrl-C.",
                if executors == 1 { "" } else { "s" }
            );
            let _ = out.flush();
            tokio::signal::ctrl_c()
                .await
                .map_err(|e| AppError::new(Exit::Other, format!("waiting for Ctrl-C: {e}")))?;
            Ok(String::new())
        }
        LinesCommand::Royalties {
            period,
            payee,
            format,
            dir,
        } => {
            let store = &open().await?;
            let period = backstock_lines::query::Period::parse(&period)
                .map_err(|e| AppError::new(Exit::Input, format!("--period: {e}")))?;
            let to = location(data_dir, dir.as_deref())?;
            let req = backstock_lines::royalties::Request {
                label,
                period,
                payee,
            };
            let answer = backstock_lines::royalties::run(store, &to, &req).await?;
            if std::env::var_os("BACKSTOCK_TIMING").is_some() {
                eprintln!(
                    "[lines] {} parts; DataFusion {:.3?}; exact check {:.3?}",
                    answer.parts, answer.engine, answer.check
                );
            }
            Ok(render_royalties(&answer, format))
        }
        LinesCommand::Query {
            period,
            by,
            payee,
            format,
            dir,
            engine,
        } => {
            let engine = backstock_lines::query::Engine::parse(&engine)?;
            let store = &open().await?;
            let period = backstock_lines::query::Period::parse(&period)
                .map_err(|e| AppError::new(Exit::Input, format!("--period: {e}")))?;
            let by = Dim::parse_list(&by)?;
            let skus = match &payee {
                None => None,
                Some(p) => {
                    let contracts =
                        backstock_app::royalties::contracts_of_payee(store, p, period.end())
                            .await?;
                    if contracts.is_empty() {
                        return Err(AppError::new(
                            Exit::Input,
                            format!(
                                "--payee {p}: no royalty contract in force on {} pays {p} (see backstock payee list)",
                                period.end()
                            ),
                        ));
                    }
                    Some(
                        contracts
                            .iter()
                            .flat_map(|c| c.skus.iter().map(|s| s.as_str().to_string()))
                            .collect(),
                    )
                }
            };
            let to = location(data_dir, dir.as_deref())?;
            let req = Request {
                label,
                period,
                by,
                skus,
                reversed: backstock_app::correct::reversed_statements(store, None).await?,
            };
            let answer = backstock_lines::query::run_on(&to, &req, &engine).await?;
            if std::env::var_os("BACKSTOCK_TIMING").is_some() {
                let on = match engine {
                    backstock_lines::query::Engine::Local => "DataFusion",
                    backstock_lines::query::Engine::Ballista(_) => "Ballista",
                };
                eprintln!(
                    "[lines] {} parts; {on} {:.3?}; exact check {:.3?}",
                    answer.parts, answer.engine, answer.check
                );
            }
            Ok(render(&answer, format))
        }
    }
}

fn render(a: &backstock_lines::query::Answer, format: LinesFormat) -> String {
    let mut cols: Vec<&'static str> = a.by.iter().map(|d| d.column()).collect();
    cols.extend(["currency", "lines", "units", "amount"]);
    match format {
        LinesFormat::Json => {
            let rows: Vec<serde_json::Value> = a
                .rows
                .iter()
                .map(|r| {
                    let mut o = serde_json::Map::new();
                    for (d, v) in a.by.iter().zip(&r.key) {
                        o.insert(d.column().into(), serde_json::json!(v));
                    }
                    o.insert("currency".into(), serde_json::json!(r.currency));
                    o.insert("lines".into(), serde_json::json!(r.lines));
                    o.insert("units".into(), serde_json::json!(r.units.to_string()));
                    o.insert(
                        "amount".into(),
                        serde_json::json!(decimal_text(r.amount_minor, r.scale)),
                    );
                    serde_json::Value::Object(o)
                })
                .collect();
            serde_json::to_string_pretty(&serde_json::json!({ "rows": rows })).unwrap_or_default()
                + "\n"
        }
        LinesFormat::Csv => {
            // Numbers as plain numbers, the currency in its own column; text cells
            // through the product's neutralizing writer (a formula is never run).
            let mut out = String::with_capacity(a.rows.len() * 64);
            out.push_str(&cols.join(","));
            out.push('\n');
            for r in &a.rows {
                for v in &r.key {
                    out.push_str(&backstock_domain::csv::cell(v.as_deref().unwrap_or("")));
                    out.push(',');
                }
                out.push_str(&backstock_domain::csv::cell(&r.currency));
                out.push_str(&format!(
                    ",{},{},{}\n",
                    r.lines,
                    r.units,
                    decimal_text(r.amount_minor, r.scale)
                ));
            }
            out
        }
        LinesFormat::Text => {
            let n = cols.len();
            let mut t = backstock_app::output::Table::new(&cols).numeric(&[n - 3, n - 2, n - 1]);
            for r in &a.rows {
                let mut row: Vec<String> = r
                    .key
                    .iter()
                    .map(|v| v.clone().unwrap_or_default())
                    .collect();
                row.extend([
                    r.currency.clone(),
                    r.lines.to_string(),
                    r.units.to_string(),
                    decimal_text(r.amount_minor, r.scale),
                ]);
                t.push(row);
            }
            let mut s = t.text();
            s.push_str(&format!(
                "{} group{} from {} Parquet part{}; every total equals the exact integer sum of the same lines.\n",
                a.rows.len(),
                if a.rows.len() == 1 { "" } else { "s" },
                a.parts,
                if a.parts == 1 { "" } else { "s" }
            ));
            s
        }
    }
}

/// `lines royalties`: one row per payee × contract × currency.
fn render_royalties(a: &backstock_lines::royalties::Answer, format: LinesFormat) -> String {
    let amount =
        |m: backstock_domain::Money| decimal_text(i128::from(m.minor()), m.currency().exponent());
    let name = |p: &str| a.payee_names.get(p).cloned().unwrap_or_default();
    let cols = [
        "payee",
        "name",
        "contract",
        "share",
        "currency",
        "lines",
        "receipts",
        "royalty_earned",
    ];
    let row = |r: &backstock_lines::royalties::EarnedFromLines| {
        vec![
            r.payee_id.to_string(),
            name(r.payee_id.as_str()),
            r.contract_id.clone(),
            r.share.to_string(),
            r.currency.code().to_string(),
            r.lines.to_string(),
            amount(r.receipts),
            amount(r.royalty_earned),
        ]
    };
    match format {
        LinesFormat::Json => {
            let rows: Vec<serde_json::Value> = a
                .rows
                .iter()
                .map(|r| {
                    let v = row(r);
                    serde_json::Value::Object(
                        cols.iter()
                            .zip(v)
                            .map(|(c, v)| {
                                let v = if *c == "lines" {
                                    serde_json::json!(r.lines)
                                } else {
                                    serde_json::json!(v)
                                };
                                (c.to_string(), v)
                            })
                            .collect(),
                    )
                })
                .collect();
            serde_json::to_string_pretty(&serde_json::json!({
                "period": a.period.to_string(),
                "rows": rows,
                "warnings": a.warnings,
            }))
            .unwrap_or_default()
                + "\n"
        }
        LinesFormat::Csv => {
            let mut out = cols.join(",");
            out.push('\n');
            for r in &a.rows {
                let cells: Vec<String> = row(r)
                    .iter()
                    .map(|c| backstock_domain::csv::cell(c).to_string())
                    .collect();
                out.push_str(&cells.join(","));
                out.push('\n');
            }
            out
        }
        LinesFormat::Text => {
            let mut t = backstock_app::output::Table::new(&cols).numeric(&[5, 6, 7]);
            for r in &a.rows {
                t.push(row(r));
            }
            let mut s = format!(
                "Royalties earned in {} ({} to {}), from the statement lines\n\n",
                a.period,
                a.period.start(),
                a.period.end()
            );
            s.push_str(&t.text());
            s.push_str(&format!(
                "{} line{} of {} statement{} from {} Parquet part{}; every sum equals the exact integer sum of the same lines, and the lines add up to the ledger's statements.\n",
                a.lines,
                if a.lines == 1 { "" } else { "s" },
                a.statements,
                if a.statements == 1 { "" } else { "s" },
                a.parts,
                if a.parts == 1 { "" } else { "s" }
            ));
            for w in &a.warnings {
                s.push_str(&format!("warning: {w}\n"));
            }
            s
        }
    }
}
