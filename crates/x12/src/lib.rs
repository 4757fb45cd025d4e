//! Reader for ANSI X12 EDI interchanges that retailers and distributors send to a
//! label: 852 Product Activity Data, 846 Inventory Inquiry/Advice and 867 Product
//! Transfer and Resale Report.
//!
//! # Contract
//!
//! * [`parse`] tokenizes the input and checks every envelope; [`parse_all`] does the
//!   same for input holding several interchanges back to back. [`item_reports`]
//!   additionally maps each 852/846/867 transaction set to flat [`ItemReport`]s.
//! * **All or nothing.** Each function returns `Ok` only if it found no problem at
//!   all; otherwise `Err` with *every* problem found (the first [`MAX_ERRORS`]),
//!   in input order within each pass (envelopes first, then transaction contents).
//!   Each [`X12Error`] gives the 1-based line, byte column, segment number, segment
//!   tag and element position, what was found and what was expected, and displays
//!   as one sentence.
//! * **Never panics**, whatever the bytes: no indexing or slicing on input-derived
//!   positions, no `unwrap`. Bytes that are not UTF-8 inside elements are replaced by
//!   U+FFFD. No floating point: quantities are `i64`, prices and amounts stay the
//!   decimal strings written in the file.
//!
//! # What is accepted
//!
//! * The separators are taken from each ISA: the element separator is the byte after
//!   `ISA`; the byte after the 16th element separator (ISA16) is the component
//!   separator and the byte after that the segment terminator. This reads the
//!   fixed-width 106-byte header and unpadded headers alike, with any separator
//!   characters (`*`, `|`, `~`, a line feed, ...). Line breaks after terminators, a
//!   UTF-8 byte-order mark and leading whitespace are skipped.
//! * Envelopes: ISA/IEA around GS/GE around ST/SE, with any number of groups per
//!   interchange and transaction sets per group. Checked: IEA01 = number of GS,
//!   IEA02 = ISA13, GE01 = number of ST, GE02 = GS06, SE01 = number of segments from ST
//!   to SE inclusive, SE02 = ST02 (numeric control numbers compare by value, so
//!   `000000001` matches `1`), and that every segment sits inside its envelope.
//! * Unknown segments are ignored; transaction sets other than 852/846/867 are
//!   skipped (their envelopes are still checked).
//!
//! # Mapping
//!
//! * **852**: XQ02/XQ03 give the period. Each LIN loop is an item (ids read as
//!   qualifier/value pairs, preferred UP > EN > UK > VN > IN > IB > others, the rest
//!   kept as alternates; PID05 description; CTP03 unit price). Each ZA gives an
//!   activity — QS sold; QU, Q2 returned; QR received; QA, OH, QE on hand; other codes
//!   are ignored — with its quantity in ZA02, or split by location over the SDQ
//!   segments that follow (one report per location; when ZA02 is also present it must
//!   equal their sum).
//! * **846**: BIA04 is the date; each QTY with qualifier 33, 17 or OH in a LIN loop is
//!   an on-hand quantity; an N1 inside the LIN loop names its location.
//! * **867**: BPT03 is the report date, overridden by DTM*090/DTM*091 (period start/end)
//!   in the header or in a PTD loop. PTD01 gives the direction — SS, DS, CS, SD sold;
//!   BN, RU, RV, BR, RT returned; other loops are skipped except for on-hand QTYs. In a
//!   PTD loop, QTY with qualifier 32, 39, 72 or 01 counts units moved, QTY 33/17/OH
//!   units on hand; the LIN may come before its QTYs or after (the 004010 QTY loop).
//!   N1 in the loop is the location; CTP03 or UIT02 the unit price; AMT02 the amount.
//! * Mapping errors (a quantity that is not a whole number, an invalid date, a ZA
//!   before any LIN, SDQ pairs that do not add up, ...) are reported like envelope
//!   errors, with the position of the offending element.

mod date;
mod envelope;
mod error;
mod lexer;
mod num;
mod report;

pub use date::Date8;
pub use envelope::{FunctionalGroup, Interchange, Transaction};
pub use error::{X12Error, MAX_ERRORS};
pub use lexer::{Segment, Separators};
pub use report::{is_retail_price, Activity, ItemId, ItemIdKind, ItemReport, TransactionSet};

use error::Errors;

fn read(bytes: &[u8], errors: &mut Errors) -> Vec<Interchange> {
    lexer::tokenize(bytes, errors)
        .into_iter()
        .map(|raw| envelope::build(raw, errors))
        .collect()
}

/// Tokenizes `bytes` and validates the envelopes of the single interchange it holds.
///
/// Input with more than one interchange is an error here; use [`parse_all`] for it.
pub fn parse(bytes: &[u8]) -> Result<Interchange, Vec<X12Error>> {
    let mut errors = Errors::default();
    let mut interchanges = read(bytes, &mut errors);
    if interchanges.len() > 1 {
        if let Some(second) = interchanges.get(1) {
            errors.push(X12Error {
                line: second.line,
                column: 1,
                segment: 0,
                segment_id: "ISA".to_string(),
                element: None,
                found: "a second interchange".to_string(),
                expected: "exactly one interchange (parse_all reads several)".to_string(),
            });
        }
    }
    if !errors.is_empty() {
        return Err(errors.into_vec());
    }
    match interchanges.pop() {
        Some(interchange) => Ok(interchange),
        None => Err(vec![X12Error {
            line: 1,
            column: 1,
            segment: 0,
            segment_id: String::new(),
            element: None,
            found: String::new(),
            expected: "an ISA interchange header".to_string(),
        }]),
    }
}

/// Tokenizes `bytes` and validates the envelopes of every interchange in it, in order.
pub fn parse_all(bytes: &[u8]) -> Result<Vec<Interchange>, Vec<X12Error>> {
    let mut errors = Errors::default();
    let interchanges = read(bytes, &mut errors);
    if errors.is_empty() {
        Ok(interchanges)
    } else {
        Err(errors.into_vec())
    }
}

/// Reads every interchange in `bytes` and maps each 852, 846 and 867 transaction set
/// to [`ItemReport`]s, in input order. Any envelope or mapping problem makes the
/// whole call fail with all problems found.
pub fn item_reports(bytes: &[u8]) -> Result<Vec<ItemReport>, Vec<X12Error>> {
    let mut errors = Errors::default();
    let interchanges = read(bytes, &mut errors);
    let reports = report::map(&interchanges, &mut errors);
    if errors.is_empty() {
        Ok(reports)
    } else {
        Err(errors.into_vec())
    }
}
