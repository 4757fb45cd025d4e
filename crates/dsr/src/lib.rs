//! Reader for DDEX DSR flat-file digital sales reports (DSR 3.x "Flat File Variant",
//! Basic Audio Profile, multi-record block variant) as digital services send them to
//! labels and distributors.
//!
//! # Contract
//!
//! [`parse`] reads one DSR file and returns either the whole [`DsrReport`] or **every**
//! problem found (the first [`MAX_ERRORS`], in line order, followed by the cross-record
//! checks). It never returns a partial report and never panics, whatever the bytes. No
//! floating point: unit counts are `i64`, money stays the decimal text written in the
//! file (see [`parse_decimal`] to read it exactly). Each [`DsrError`] gives the 1-based
//! line, the 1-based cell number, the record type, what was found and what was
//! expected, and displays as one sentence.
//!
//! # Layout read
//!
//! One record per line (LF or CRLF), cells separated by tabs, the first cell the
//! record type with its version (`SU02.02`). Lines starting with `#` (record headings)
//! and empty lines are skipped but counted as lines, as FOOT counts them. Escapes
//! follow DSR Part 1 §6.6.4; a UTF-8 byte-order mark is skipped; a line that is not
//! UTF-8 is an error. Cell positions (1-based, cell 1 = record type):
//!
//! * `HEAD` (must be the first line): 2 MessageVersion, 3 Profile, 4 ProfileVersion,
//!   5 MessageId, 6 MessageCreatedDateTime (RFC 3339), 7 FileNumber, 8 NumberOfFiles,
//!   9 UsageStartDate, 10 UsageEndDate (`YYYY[-MM[-DD]]`), 11 SenderPartyId,
//!   12 SenderName, 13 ServiceDescription, 14 RecipientPartyId, 15 RecipientName.
//! * Summary records `SYnn` (SY01 basic, SY02 streaming, SY03 subscription, SY04
//!   per-subscriber minima, SY05 licensor-specific, ...): 2 SummaryRecordId,
//!   5 CommercialModel, 6 UseType, 7 Territory, 8 ServiceDescription; the reporting
//!   currency is cell 11 in SY01–SY03, 15 in SY04, 18 in SY05; NetRevenue cell 12 in
//!   SY01/SY02, 19 in SY04.
//! * Blocks, identified by BlockId (cell 2, contiguous lines): `RE01` head release
//!   (3 ReleaseReference, 4 DspReleaseId, 6 CatalogNumber, 7 ICPN, 8 DisplayArtistName,
//!   10 Title), `RE02` sub-release (3 ReleaseReference), `AS01`/`AS02` resources
//!   (3 ResourceReference, 4 DspResourceId, 5 ISRC, 6 Title, 8 DisplayArtistName),
//!   `MW01`, `RU01`, `RU02`, `LI01` (counted, not read), and the sales/usage records:
//!   - `SU01` downloads: 3 SummaryRecordId, 4 SalesTransactionId, 5 TransactedRelease,
//!     6 TransactedResource, 7 IsRoyaltyBearing, 8 SalesUpgrade, 9 Usages, 10 Returns,
//!     11 PriceConsumerPaidExcSalesTax, 13 UseType;
//!   - `SU02` streams: 3–7 as SU01, 8 NumberOfStreams, 9 PriceConsumerPaidExcSalesTax,
//!     11 UseType;
//!   - `SU03` UGC: 2 BlockId, then SummaryRecordId and SalesTransactionId (in cells
//!     3/4 from SU03.03 on, 4/3 before), 5 DspResourceId, 6 Usages, 7 NetRevenue.
//! * `FOOT` (must be the last record): 2 NumberOfLinesInFile, 3 NumberOfLinesInReport,
//!   4 NumberOfSummaryRecords, 5 NumberOfBlocksInFile, 6 NumberOfBlocksInReport. Lines
//!   and blocks in the file are always checked; the report-level counts and the summary
//!   count only for single-file messages (NumberOfFiles = 1).
//! * Other record types are ignored. The single-record block variant (profile
//!   `…SRB`, records `SR01`/`SR02`/`SRFO`) is rejected as unsupported rather than read
//!   as empty.
//!
//! # Sales
//!
//! One [`DsrSale`] per SU record. Its release and resource details come from the
//! records of its block that it references; territory, use type (unless the SU gives
//! one), commercial model and currency from the summary record it points to.
//! `units` is Usages − Returns for SU01, NumberOfStreams for SU02, Usages for SU03; a
//! fractional count is an error. In the Basic Audio Profile revenue is reported per
//! summary record, not per line: SU01/SU02 sales carry `net_amount = "0"` with
//! [`AmountSource::Summary`] (the amount is `DsrSummary::net_revenue` of
//! `summary_ref`); SU03 sales carry their own NetRevenue with [`AmountSource::Line`].

mod cells;
mod reader;
mod values;

use std::fmt;

pub use values::{parse_decimal, DsrDate};

/// At most this many errors are reported for one file; the rest are dropped.
pub const MAX_ERRORS: usize = 200;

/// A problem in a DSR file.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct DsrError {
    /// 1-based line number.
    pub line: usize,
    /// 1-based cell number (1 is the record type).
    pub column: usize,
    /// Record type of the line (`"SU02.02"`), empty when not known.
    pub record: String,
    pub found: String,
    pub expected: String,
}

impl fmt::Display for DsrError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "line {}, cell {}", self.line, self.column)?;
        if !self.record.is_empty() {
            write!(f, " ({})", self.record)?;
        }
        f.write_str(": found ")?;
        if self.found.is_empty() {
            f.write_str("nothing")?;
        } else {
            write!(f, "{:?}", self.found)?;
        }
        write!(f, ", expected {}", self.expected)
    }
}

impl std::error::Error for DsrError {}

/// Where a sale's `net_amount` comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum AmountSource {
    /// The sales record carries its own net revenue (SU03); `net_amount` is that cell.
    Line,
    /// The record type carries no revenue (SU01, SU02): revenue is reported on the
    /// summary record named by `summary_ref`, and `net_amount` is `"0"`.
    Summary,
}

/// One summary record (SYnn): a sales context and its totals.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DsrSummary {
    /// `"SY02.03"`.
    pub record_type: String,
    /// SummaryRecordId, referenced by the sales records.
    pub id: String,
    pub commercial_model: Option<String>,
    pub use_type: Option<String>,
    pub territory: Option<String>,
    pub service_description: Option<String>,
    /// ISO 4217 currency of the amounts, when the record type has one.
    pub currency: Option<String>,
    /// NetRevenue as written, when the record type has one (SY01, SY02, SY04).
    pub net_revenue: Option<String>,
    pub line: usize,
}

/// One sales/usage record, resolved against its block and summary.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DsrSale {
    /// The BlockId: links the sale to the release/resource records of its block.
    pub release_ref: String,
    /// The SummaryRecordId (absent only on SU03 records before version 03 that leave
    /// it to a following licensor record).
    pub summary_ref: Option<String>,
    /// SalesTransactionId.
    pub transaction_id: String,
    /// `"SU01.02"`.
    pub record_type: String,
    /// TransactedRelease (the ReleaseReference within the block), if given.
    pub release_reference: Option<String>,
    /// TransactedResource (ResourceReference, or DspResourceId for SU03), if given.
    pub resource_reference: Option<String>,
    /// ICPN (UPC/EAN) of the transacted release, else of the block's head release.
    pub icpn: Option<String>,
    /// Catalog number, from the same release as `icpn`.
    pub catalog_number: Option<String>,
    /// First ISRC of the transacted resource.
    pub isrc: Option<String>,
    /// Title of the transacted resource, else of the release.
    pub title: Option<String>,
    /// Display artist of the transacted resource, else of the release.
    pub artist: Option<String>,
    /// From the summary record.
    pub territory: Option<String>,
    /// From the sales record, else from the summary record.
    pub use_type: Option<String>,
    /// From the summary record.
    pub commercial_model: Option<String>,
    /// Net units: Usages − Returns (SU01), NumberOfStreams (SU02), Usages (SU03).
    pub units: i64,
    /// Returns (SU01; 0 otherwise).
    pub returns: i64,
    /// Net revenue of the line exactly as written (e.g. `"12.3456"`), or `"0"` when the
    /// record type carries none (see `amount_source`).
    pub net_amount: String,
    pub amount_source: AmountSource,
    /// PriceConsumerPaidExcSalesTax as written, if given (SU01, SU02).
    pub unit_price: Option<String>,
    /// Currency of the summary record.
    pub currency: Option<String>,
    /// IsRoyaltyBearing, if given.
    pub royalty_bearing: Option<bool>,
    /// Line of the sales record.
    pub line: usize,
}

/// A whole DSR file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DsrReport {
    /// HEAD cell 2, e.g. `dsrf/1.1/1.4.1/1.3`.
    pub message_version: String,
    /// HEAD cell 3, e.g. `BasicAudioProfile`.
    pub profile: String,
    /// HEAD cell 4.
    pub profile_version: String,
    /// HEAD cell 5.
    pub message_id: String,
    /// HEAD cell 6, as written.
    pub created: String,
    /// HEAD cells 7 and 8.
    pub file_number: u64,
    pub number_of_files: u64,
    /// SenderName (HEAD cell 12).
    pub sender: Option<String>,
    /// SenderPartyId (HEAD cell 11), a DDEX party id.
    pub sender_id: Option<String>,
    /// RecipientName (HEAD cell 15).
    pub recipient: Option<String>,
    /// RecipientPartyId (HEAD cell 14).
    pub recipient_id: Option<String>,
    /// HEAD cell 13.
    pub service_description: Option<String>,
    /// UsageStartDate / UsageEndDate (HEAD cells 9 and 10).
    pub period_start: DsrDate,
    pub period_end: DsrDate,
    /// The currency of the summary records when they all agree; `None` when there is
    /// none or they differ (each sale then carries its own).
    pub currency: Option<String>,
    pub summaries: Vec<DsrSummary>,
    pub sales: Vec<DsrSale>,
}

impl DsrReport {
    /// The summary record with the given SummaryRecordId.
    pub fn summary(&self, id: &str) -> Option<&DsrSummary> {
        self.summaries.iter().find(|s| s.id == id)
    }
}

/// Reads one DSR flat file. See the crate documentation for what is checked.
pub fn parse(bytes: &[u8]) -> Result<DsrReport, Vec<DsrError>> {
    reader::read(bytes)
}
