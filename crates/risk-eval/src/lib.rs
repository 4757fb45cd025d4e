//! An evaluation of backstock's early warning that can prove or disprove it: seeded
//! histories of distributors that fail in six ways and stay healthy in six (every one
//! with everyday short-pays and lateness), imported through the product's own import,
//! then the level `backstock risk --as-of` gives every few weeks and the credit check
//! `backstock ship` makes before every consignment shipment. Reported per shape and in
//! total, over many seeds, with the spread: lead time of the alert that stays until the
//! default, detection rate, false-alarm episodes per 10 healthy distributor-years, share
//! of healthy evaluations at alert, shipments to healthy distributors credit hold would
//! have refused.
//!
//! `backstock risk-eval --seeds 20` runs it; see the README for the shapes, their
//! parameter ranges and the metrics.

// Floats here model demand (seasonality, growth) and compute report ratios; money in
// the generated files stays in integer minor units.
#![allow(clippy::float_arithmetic, clippy::float_cmp)]

/// A real number for generated demand, shares, draws and report ratios: never money
/// (amounts in the generated files and the ledger are integer minor units).
pub type Real = f64; // the one place a float type is named; see above

pub mod evaluate;
pub mod histories;
pub mod metrics;
pub mod rng;

pub use evaluate::{run, EvalOptions, Outcome, Report};
pub use histories::{generate, GenOptions, LabelHistory, Shape};

use backstock_app::{AppError, Exit};
use backstock_domain::Date;
use std::path::PathBuf;

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum OutputFormat {
    Text,
    Json,
}

/// `backstock risk-eval`'s arguments.
#[derive(Debug, Clone, clap::Args)]
pub struct Args {
    /// How many seeds (one generated label each).
    #[arg(long, default_value_t = 20)]
    pub seeds: u64,
    /// The first seed; seeds are consecutive from it.
    #[arg(long, default_value_t = 1)]
    pub first_seed: u64,
    /// Years of history per label (at least 3).
    #[arg(long, default_value_t = 5)]
    pub years: i32,
    /// First day of the histories.
    #[arg(long, default_value = "2012-01-01")]
    pub start: String,
    /// Days between evaluation dates.
    #[arg(long, default_value_t = 14)]
    pub step_days: i64,
    /// Distributors per shape in each label.
    #[arg(long, default_value_t = 1)]
    pub per_shape: usize,
    /// Only these shapes (comma-separated names; all by default).
    #[arg(long, value_delimiter = ',')]
    pub shapes: Vec<String>,
    /// Keep each label's files and database in DIR/seed-N.
    #[arg(long)]
    pub keep: Option<PathBuf>,
    #[arg(long, value_enum, default_value = "text")]
    pub format: OutputFormat,
    /// No progress lines on stderr.
    #[arg(long)]
    pub quiet: bool,
}

/// Options from the command line's arguments.
pub fn options(a: &Args) -> Result<EvalOptions, AppError> {
    let start =
        Date::parse(&a.start).map_err(|e| AppError::new(Exit::Input, format!("--start: {e}")))?;
    let shapes = if a.shapes.is_empty() {
        Shape::ALL.to_vec()
    } else {
        a.shapes
            .iter()
            .map(|s| {
                Shape::parse(s.trim()).ok_or_else(|| {
                    AppError::new(
                        Exit::Input,
                        format!(
                            "--shapes: unknown shape {s:?} (one of {})",
                            Shape::ALL.map(|x| x.name()).join(", ")
                        ),
                    )
                })
            })
            .collect::<Result<Vec<_>, _>>()?
    };
    if !(3..=20).contains(&a.years) {
        return Err(AppError::new(Exit::Input, "--years must be from 3 to 20"));
    }
    if !(1..=365).contains(&a.step_days) {
        return Err(AppError::new(
            Exit::Input,
            "--step-days must be from 1 to 365",
        ));
    }
    if !(1..=20).contains(&a.per_shape) {
        return Err(AppError::new(
            Exit::Input,
            "--per-shape must be from 1 to 20",
        ));
    }
    Ok(EvalOptions {
        seeds: a.seeds,
        first_seed: a.first_seed,
        gen: GenOptions {
            start,
            years: a.years,
            per_shape: a.per_shape,
            shapes,
        },
        step_days: a.step_days,
        keep: a.keep.clone(),
        progress: !a.quiet,
    })
}

/// `backstock risk-eval`: runs the evaluation and renders the report.
pub async fn cli(a: Args) -> Result<String, AppError> {
    let o = options(&a)?;
    let r = run(&o).await?;
    Ok(match a.format {
        OutputFormat::Text => r.text(),
        OutputFormat::Json => r.json(),
    })
}
