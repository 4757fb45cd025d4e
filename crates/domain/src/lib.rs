//! Domain types of backstock, in the label's language.
//!
//! Every type here is parsed, not validated: once a value exists it is well-formed
//! (`Upc` has a correct GS1 check digit, `Money` is integer minor units of a known
//! ISO 4217 currency, `Date` is a real calendar day). Constructors return
//! [`DomainError`] with what was found and what was expected; nothing here panics on
//! user input and nothing here does I/O.
//!
//! No floating point: amounts are `i64` minor units, rates are parts per million,
//! and every product of the two is computed in `i128` and rounded once by
//! [`Rounding::HalfEven`].

pub mod csv;
mod date;
mod error;
mod ids;
mod money;
mod rate;
mod text_serde;

pub use date::Date;
pub use error::DomainError;
pub use ids::{PartyId, PartyKind, Sku, Upc};
pub use money::{Currency, Money};
pub use rate::{Rate, Rounding};
