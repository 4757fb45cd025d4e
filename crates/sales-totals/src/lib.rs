//! Per artist × month totals of a large digital sales file — units, net receipts and
//! royalty — exact and fast; and the seeded generator of the royalty benchmark.
//!
//! One job: given a catalog (`upc,artist,rate`) and a sales file
//! (`sale_month,store,territory,upc,units,net,currency`, columns by header name), sum
//! lines, units, net and royalty per artist × month × currency.
//!
//! # Rules
//!
//! * Amounts are integer minor units of the line's currency; totals are per currency,
//!   never converted.
//! * The royalty of a line is `net × rate`, rounded **once per line, half to even** —
//!   the rule of `Money::apply_rate(rate, Rounding::HalfEven)` that `backstock-royalties`
//!   uses for statement lines ([`line::royalty`] is property-tested against it).
//! * Every addition is checked; an overflow is an error, never a wrap-around.
//! * Any invalid line and there are no totals: the first 100 problems are reported with
//!   file, line, column, the value found and what was expected.
//!
//! # Speed
//!
//! The file is split at line boundaries into one range per thread; each thread reads
//! its range in 4 MiB blocks, parses lines by hand (no allocation), finds the UPC in an
//! open-addressing table and adds into flat arrays indexed by (month × currency,
//! artist); the partial arrays are added at the end. See `ARCHITECTURE.md` for the
//! measured figures against DuckDB.

#![deny(clippy::float_arithmetic)]

pub mod catalog;
pub mod error;
pub mod gen;
pub mod line;
mod sum;

pub use catalog::Catalog;
pub use error::{InputError, SalesError};
pub use sum::{sum_file, TotalRow, Totals};
