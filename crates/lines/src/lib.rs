//! Statement lines as Parquet, and queries over them through Apache DataFusion.
//!
//! The ledger keeps statements aggregated per statement × SKU × kind; the line-level
//! detail (ISRC, territory, service) lives in the kept originals. This crate re-reads
//! an original with the importer's own readers (`backstock_ingest::lines`), checks that
//! its lines add up to the statements the journal recorded from it, and writes them as
//! Parquet: exact amounts as `Decimal128(19, scale of the currency)` (never floats),
//! partitioned `label=L/distributor=D/period=YYYY-MM/` (the month of the statement's
//! period end), each part named by the original's SHA-256 (`SHA.parquet`), so the
//! journal still proves what it came from. Writing the same original again writes the
//! same bytes to the same paths.
//!
//! Queries ([`query::run`]) group the lines of a period through DataFusion and check
//! every total against an overflow-checked `i128` sum of the same lines read in Rust;
//! a number that differs is never printed. [`royalties::run`] computes a period's
//! earned royalties from the lines, so that rates by territory or service apply, checked
//! the same way and tied out against the ledger's statements (issue 17.2).
//!
//! Where: a directory (default `<data-dir>/lines`) or an S3-compatible object store
//! (`s3://BUCKET/PREFIX`, configured by the `AWS_*` variables), through the
//! `object_store` crate; `BACKSTOCK_LINES` names the default ([`Location`]).

#[cfg(feature = "ballista")]
pub mod cluster;
pub mod gen;
pub mod location;
pub mod query;
pub mod rebuild;
pub mod royalties;
pub mod schema;
pub mod write;

pub use location::Location;

use backstock_app::{AppError, Exit};

/// The maps of groups and interned values: millions of lookups of small integer keys
/// and of short texts from the label's own files, so a fast hasher (SipHash was a
/// sixth of a query of 10M lines).
pub(crate) type HashMap<K, V> = std::collections::HashMap<K, V, rustc_hash::FxBuildHasher>;

/// An error of this crate, said as the CLI says errors (with its exit code).
pub(crate) fn other(what: impl std::fmt::Display) -> AppError {
    AppError::new(Exit::Other, what.to_string())
}

pub(crate) fn input(what: impl std::fmt::Display) -> AppError {
    AppError::new(Exit::Input, what.to_string())
}
