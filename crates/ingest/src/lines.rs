//! Statement lines one by one, as the original file gives them, before the ledger
//! aggregates them per statement × SKU × kind.
//!
//! The same readers the import uses produce them (the amounts of X12 and DSR lines are
//! the importer's own: priced, rounded and split exactly as it posts them), so the
//! lines of a file, summed per statement × SKU × kind, are the file's statement
//! entries. `backstock-lines` writes them as Parquet and checks that sum before
//! writing.

use backstock_domain::{Currency, Date, PartyId, Sku};
use backstock_ledger::LineKind;

/// One statement line of an original file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SourceLine {
    /// Line of the original (1-based, the header is line 1; for a mapped file, the line
    /// of the distributor's own file).
    pub line: u64,
    /// The statement id as the ledger records it (`statement:DISTRIBUTOR:ID`'s `ID`).
    pub statement_id: String,
    pub distributor: PartyId,
    pub period_start: Date,
    pub period_end: Date,
    pub currency: Currency,
    /// The SKU the line's code resolves to; `None` for a line without a code (fees,
    /// adjustments) or with a code the catalog does not know (held unmatched).
    pub sku: Option<Sku>,
    /// The item code as the file gives it (SKU, UPC, EAN, ISRC, item number).
    pub code: String,
    /// The recording's ISRC (DSR), when the file gives one.
    pub isrc: Option<String>,
    /// The territory of sale (DSR: ISO 3166 code of the summary record).
    pub territory: Option<String>,
    /// The service (DSR: the summary's service description, else the file's).
    pub service: Option<String>,
    pub kind: LineKind,
    /// Units as the ledger counts them for this kind (signed as the file gives them).
    pub units: i64,
    /// The line's amount in minor units of `currency`, as the ledger posts it.
    pub amount_minor: i64,
}

/// Where the lines of a file go, one at a time.
pub type Sink<'a> = dyn FnMut(SourceLine) + 'a;

/// The statement lines of a canonical statements file (UTF-8), one at a time; see
/// [`crate::canonical::statement_lines`].
pub fn canonical(
    input: impl std::io::Read,
    ctx: &crate::Context,
    sink: &mut Sink<'_>,
) -> Result<u64, crate::FileErrors> {
    crate::canonical::statement_lines(input, ctx, sink).map_err(|e| e.into_file(&ctx.file_name))
}
