//! Ingestion: turns a file's bytes into journal entries, or into a complete list of
//! what is wrong with it.
//!
//! Contract:
//! * [`read`] either returns every entry the file means ([`Parsed`]) or every problem
//!   found (up to [`error::MAX_ERRORS`]), each naming line, column, the value found
//!   and what was expected. It never returns half a file and never panics.
//! * Entries carry ids derived from the file's content (statement id, shipment id,
//!   payment id…), so recording them twice changes nothing.
//! * Statement lines are aggregated per statement × SKU × kind: the original file (kept
//!   by the store) is the line-level record; each entry names its first and last line.
//! * Nothing here touches the database: the caller gives a [`Context`] (known SKUs,
//!   codes and distributors) and records the result in one transaction.

pub mod canonical;
pub mod edi;
pub mod encoding;
pub mod error;
pub mod lines;
pub mod regions;

use backstock_domain::{Currency, Date, Money, Sku, Upc};
use backstock_ledger::facts::Agreement;
use backstock_ledger::{Entry, Event, Fact};
use rustc_hash::FxHashMap;
use std::collections::BTreeMap;
use std::io::Read;

pub use encoding::{Decoder, Encoding};
pub use error::{FileErrors, LineError};
pub use regions::read_statements_parallel;

/// Kinds of canonical file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Kind {
    Catalog,
    Distributors,
    PurchaseOrders,
    Shipments,
    Statements,
    StockReports,
    Payments,
    /// Opening balances of a label that starts with backstock mid-life: stock by
    /// holder and statements still open, as of its start date (`opening.csv`).
    Opening,
    /// EDI ANSI X12 interchange (852 product activity, 846 inventory advice, 867
    /// product transfer and resale).
    X12,
    /// DDEX DSR flat file (digital sales).
    Dsr,
}

impl Kind {
    pub const ALL: [Kind; 8] = [
        Kind::Catalog,
        Kind::Distributors,
        Kind::Opening,
        Kind::PurchaseOrders,
        Kind::Shipments,
        Kind::Statements,
        Kind::StockReports,
        Kind::Payments,
    ];
    pub fn as_str(&self) -> &'static str {
        match self {
            Kind::Catalog => "catalog",
            Kind::Distributors => "distributors",
            Kind::PurchaseOrders => "purchase_orders",
            Kind::Shipments => "shipments",
            Kind::Statements => "statements",
            Kind::StockReports => "stock_reports",
            Kind::Payments => "payments",
            Kind::Opening => "opening",
            Kind::X12 => "x12",
            Kind::Dsr => "dsr",
        }
    }
    pub fn parse(s: &str) -> Option<Kind> {
        let s = s.trim().to_ascii_lowercase();
        match s.as_str() {
            "x12" | "edi" | "852" | "846" | "867" => Some(Kind::X12),
            "dsr" | "ddex" => Some(Kind::Dsr),
            _ => Kind::ALL.into_iter().find(|k| k.as_str() == s),
        }
    }
    /// Whether the file is one of the distributor-sent formats that need
    /// `--distributor` (the file names its sender in its own terms).
    pub fn needs_distributor(&self) -> bool {
        matches!(self, Kind::X12 | Kind::Dsr)
    }
    /// Detects EDI and DSR from the first bytes of a file.
    pub fn sniff(head: &[u8]) -> Option<Kind> {
        let start = head
            .iter()
            .position(|b| !b.is_ascii_whitespace() && !matches!(b, 0xef | 0xbb | 0xbf))
            .unwrap_or(head.len());
        let h = &head[start..];
        if h.starts_with(b"ISA") {
            Some(Kind::X12)
        } else if h.starts_with(b"HEAD\t") {
            Some(Kind::Dsr)
        } else {
            None
        }
    }
    /// The order files must be imported in when several are given: reference data first.
    pub fn import_rank(&self) -> u8 {
        match self {
            Kind::Catalog => 0,
            Kind::Distributors => 1,
            // The stock and money the label had on its start date, before anything
            // that moves them.
            Kind::Opening => 2,
            Kind::PurchaseOrders => 2,
            Kind::Shipments => 3,
            Kind::Statements => 4,
            Kind::StockReports | Kind::X12 | Kind::Dsr => 5,
            Kind::Payments => 6,
        }
    }

    /// For a header that matches no kind: the closest kind (the one with the most of
    /// its columns present, counting a column written another way — `Release Date`
    /// for `release_date` — as present), its columns missing, and the headers that
    /// look like one of its columns written another way (found → canonical). `None`
    /// when no kind shares a column with the header.
    pub fn closest(header: &str) -> Option<Closest> {
        let kinds: Vec<(&'static str, &'static [&'static str])> = Kind::ALL
            .into_iter()
            .map(|k| (k.as_str(), canonical::columns(k)))
            .collect();
        closest_among(header, &kinds)
    }

    /// Detects the kind from a header line: the kind whose every canonical column is
    /// present.
    pub fn detect(header: &str) -> Option<Kind> {
        let cols: Vec<String> = header
            .trim_start_matches('\u{feff}')
            .split(',')
            .map(|c| c.trim().trim_matches('"').to_ascii_lowercase())
            .collect();
        Kind::ALL.into_iter().find(|k| {
            canonical::columns(*k)
                .iter()
                .all(|c| canonical::optional(*k, c) || cols.iter().any(|h| h == c))
        })
    }
}

/// [`Kind::closest`] among any files' columns: `candidates` are (file name without
/// `.csv`, its columns), in order of preference on a tie.
pub fn closest_among(
    header: &str,
    candidates: &[(&'static str, &'static [&'static str])],
) -> Option<Closest> {
    let found: Vec<String> = header
        .trim_start_matches('\u{feff}')
        .split(',')
        .map(|c| c.trim().trim_matches('"').to_string())
        .collect();
    let mut best: Option<(usize, Closest)> = None;
    for &(file, cols) in candidates {
        let mut present = 0usize;
        let mut missing = Vec::new();
        let mut renames = Vec::new();
        for c in cols.iter() {
            if found.iter().any(|f| f.eq_ignore_ascii_case(c)) {
                present += 1;
            } else if let Some(f) = found.iter().find(|f| written_another_way(f, c)) {
                present += 1;
                renames.push((f.clone(), *c));
            } else {
                missing.push(*c);
            }
        }
        if present == 0 {
            continue;
        }
        if best.as_ref().is_none_or(|(n, _)| present > *n) {
            best = Some((
                present,
                Closest {
                    file,
                    missing,
                    renames,
                },
            ));
        }
    }
    best.map(|(_, c)| c)
}

/// Whether a header is the canonical column `column` written another way: `Release
/// Date`, `release-date` or `ReleaseDate` for `release_date` (not `release_date` itself).
pub(crate) fn written_another_way(header: &str, column: &str) -> bool {
    let norm = header
        .trim()
        .to_ascii_lowercase()
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '_' })
        .collect::<String>()
        .split('_')
        .filter(|p| !p.is_empty())
        .collect::<Vec<_>>()
        .join("_");
    !header.trim().eq_ignore_ascii_case(column)
        && (norm == column || norm.replace('_', "") == column.replace('_', ""))
}

/// The kind a header comes closest to (see [`Kind::closest`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Closest {
    /// The file it looks like, without `.csv` (`catalog`, `payees`, …).
    pub file: &'static str,
    /// Its columns not in the header at all.
    pub missing: Vec<&'static str>,
    /// Headers that are one of its columns written another way: (as found, canonical).
    pub renames: Vec<(String, &'static str)>,
}

impl std::fmt::Display for Closest {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "it looks closest to {}.csv", self.file)?;
        if !self.renames.is_empty() {
            let r: Vec<String> = self
                .renames
                .iter()
                .map(|(found, c)| format!("\"{found}\" → {c}"))
                .collect();
            write!(f, "; rename {}", r.join(", "))?;
        }
        if !self.missing.is_empty() {
            write!(f, "; it lacks {}", self.missing.join(", "))?;
        }
        Ok(())
    }
}

/// What the caller knows that a file refers to.
#[derive(Debug, Clone, Default)]
pub struct Context {
    pub file_name: String,
    pub file_sha256: String,
    /// SKU, UPC, EAN-13 and alias codes → SKU. (Fx hashing: the maps are filled with
    /// every catalog item at the start of every import, 100k and more.)
    pub codes: FxHashMap<String, Sku>,
    /// Distributor short name → currency of its agreement.
    pub distributors: FxHashMap<String, Currency>,
    /// Keep lines with unknown codes aside instead of refusing the file.
    pub hold_unmatched: bool,
    /// Wholesale price per SKU (to value EDI activity that carries no price).
    pub wholesale: FxHashMap<Sku, Money>,
    /// SKUs whose catalog format is a digital one: their lines in a statement without a
    /// channel (canonical, mapped, X12) are digital — money, no units moved.
    pub digital: rustc_hash::FxHashSet<Sku>,
    /// Catalog SKUs by their lowercase form: a new SKU differing from one on file only
    /// in case (`fox-010-lp` beside `FOX-010-LP`) is refused.
    pub skus_folded: FxHashMap<String, Sku>,
}

impl Context {
    /// Builds the context from the facts recorded so far.
    pub fn from_entries<'a>(entries: impl IntoIterator<Item = &'a Entry>) -> Context {
        let mut ctx = Context::default();
        for e in entries {
            ctx.learn(e);
        }
        ctx
    }

    /// Builds the context from plain lookups (as the store reads them cheaply):
    /// catalog (sku, upc, wholesale minor, currency), aliases (code, sku), agreements
    /// (distributor, currency), the SKUs of digital formats. Rows that do not parse
    /// are skipped (they were valid when recorded).
    pub fn from_lookups(
        catalog: &[(String, Option<String>, i64, String)],
        aliases: &[(String, String)],
        agreements: &[(String, String)],
        digital: &[String],
    ) -> Context {
        let mut ctx = Context {
            digital: digital.iter().filter_map(|s| Sku::parse(s).ok()).collect(),
            ..Context::default()
        };
        // Each item is known by its SKU and usually a UPC and its EAN-13 form.
        ctx.codes.reserve(catalog.len() * 3 + aliases.len());
        ctx.wholesale.reserve(catalog.len());
        for (sku, upc, wholesale, cur) in catalog {
            let Ok(sku) = Sku::parse(sku) else { continue };
            ctx.codes.insert(sku.as_str().to_string(), sku.clone());
            ctx.skus_folded
                .insert(sku.as_str().to_ascii_lowercase(), sku.clone());
            if let Ok(c) = Currency::parse(cur) {
                ctx.wholesale
                    .insert(sku.clone(), Money::from_minor(*wholesale, c));
            }
            if let Some(Ok(u)) = upc.as_deref().map(Upc::parse) {
                ctx.add_upc(&u, &sku);
            }
        }
        for (code, sku) in aliases {
            let Ok(sku) = Sku::parse(sku) else { continue };
            ctx.codes.insert(code.trim().to_string(), sku.clone());
            if let Ok(u) = Upc::parse(code) {
                ctx.add_upc(&u, &sku);
            }
        }
        for (d, cur) in agreements {
            if let Ok(c) = Currency::parse(cur) {
                ctx.distributors.insert(d.clone(), c);
            }
        }
        ctx
    }

    /// Adds what an entry teaches (catalog items, agreements, aliases).
    pub fn learn(&mut self, e: &Entry) {
        match &e.event {
            Event::Fact(Fact::CatalogItem(c)) => {
                self.codes.insert(c.sku.as_str().to_string(), c.sku.clone());
                self.skus_folded
                    .insert(c.sku.as_str().to_ascii_lowercase(), c.sku.clone());
                if c.is_digital() {
                    self.digital.insert(c.sku.clone());
                } else {
                    self.digital.remove(&c.sku);
                }
                self.wholesale.insert(c.sku.clone(), c.wholesale_price);
                if let Some(u) = &c.upc {
                    self.add_upc(u, &c.sku);
                }
            }
            Event::Fact(Fact::Agreement(Agreement {
                distributor,
                currency,
                ..
            })) => {
                self.distributors
                    .insert(distributor.as_str().to_string(), *currency);
            }
            Event::Fact(Fact::Alias { code, sku }) => {
                self.codes.insert(code.trim().to_string(), sku.clone());
                if let Ok(u) = Upc::parse(code) {
                    self.add_upc(&u, sku);
                }
            }
            _ => {}
        }
    }

    /// The channel of a line of `sku` in a statement whose layout has no channel:
    /// digital for a SKU of a digital format, physical otherwise.
    pub fn channel_of(&self, sku: Option<&Sku>) -> backstock_ledger::Channel {
        match sku {
            Some(s) if self.digital.contains(s) => backstock_ledger::Channel::Digital,
            _ => backstock_ledger::Channel::Physical,
        }
    }

    fn add_upc(&mut self, u: &Upc, sku: &Sku) {
        self.codes.insert(u.as_str().to_string(), sku.clone());
        self.codes.insert(u.gtin13(), sku.clone());
        if let Some(twelve) = u.gtin13().strip_prefix('0') {
            self.codes.insert(twelve.to_string(), sku.clone());
        }
    }

    /// The SKU a code names: the SKU itself, a UPC/EAN (any of its forms) or an alias.
    pub fn resolve_code(&self, code: &str) -> Option<Sku> {
        let c = code.trim();
        if let Some(s) = self.codes.get(c) {
            return Some(s.clone());
        }
        if c.len() == 12 && c.bytes().all(|b| b.is_ascii_digit()) {
            return self.codes.get(&format!("0{c}")).cloned();
        }
        // A UPC-A whose leading zero a spreadsheet dropped (`36000291452` for
        // `036000291452`): the catalog's, when a UPC on file reads so.
        if c.len() == 11 && c.bytes().all(|b| b.is_ascii_digit()) {
            if let Some(s) = self.codes.get(&format!("00{c}")) {
                return Some(s.clone());
            }
        }
        // A GTIN-14 with packaging indicator 0 (`00859712000026`, as EDI's `UK`
        // qualifier sends it) is the same item as its GTIN-13.
        if c.len() == 14 && c.starts_with('0') && c.bytes().all(|b| b.is_ascii_digit()) {
            if let Some(s) = c.get(1..).and_then(|g13| self.codes.get(g13)) {
                return Some(s.clone());
            }
        }
        // A code keyed in another case (`mrg-001-cd`): the catalog's spelling, when
        // only one case of it is on file (an exact match above always wins).
        let upper = self.codes.get(&c.to_ascii_uppercase());
        let lower = self.codes.get(&c.to_ascii_lowercase());
        match (upper, lower) {
            (Some(s), None) | (None, Some(s)) => Some(s.clone()),
            (Some(a), Some(b)) if a == b => Some(a.clone()),
            _ => None,
        }
    }

    pub(crate) fn epoch(&self) -> Date {
        Date::EARLIEST
    }

    pub(crate) fn short_sha(&self) -> &str {
        self.file_sha256.get(..12).unwrap_or(&self.file_sha256)
    }
}

/// Money totals per currency (for previews), exact: summed in `i128`. A file whose
/// total in a currency passes [`Money::LIMIT_MINOR`] is refused (`past_limit`), so
/// every total shown fits a [`Money`].
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Totals(pub BTreeMap<Currency, i128>);

impl Totals {
    pub fn add(&mut self, m: Money) {
        *self.0.entry(m.currency()).or_insert(0) += i128::from(m.minor());
    }
    /// The totals (a total past the limit, which is refused, shows as the limit).
    pub fn iter(&self) -> impl Iterator<Item = Money> + '_ {
        let max = i128::from(Money::LIMIT_MINOR);
        self.0
            .iter()
            .map(move |(c, v)| Money::from_minor((*v).clamp(-max, max) as i64, *c))
    }
    /// The first currency whose total is past [`Money::LIMIT_MINOR`], with the total.
    pub fn past_limit(&self) -> Option<(Currency, i128)> {
        self.0
            .iter()
            .find(|(_, v)| v.unsigned_abs() > Money::LIMIT_MINOR.unsigned_abs() as u128)
            .map(|(c, v)| (*c, *v))
    }
}

/// The error of a file whose total in a currency passes the limit.
pub(crate) fn total_past_limit(totals: &Totals) -> Option<LineError> {
    let (cur, v) = totals.past_limit()?;
    Some(LineError {
        line: 0,
        column: None,
        found: format!("a total of {v} minor units of {cur} in this file"),
        expected: format!(
            "a file whose total in each currency is at most {} either way (the limit of any amount; see docs/formats.md)",
            Money::limit_text(cur)
        ),
    })
}

/// What a file means.
#[derive(Debug, Clone)]
pub struct Parsed {
    pub kind: Kind,
    pub entries: Vec<Entry>,
    /// Data lines read (not counting the header and blank lines).
    pub lines: u64,
    /// Net due (statements) or amounts (payments) per currency.
    pub totals: Totals,
    /// Codes not in the catalog, with the first line each appeared on.
    pub unknown: BTreeMap<String, u64>,
    /// The column (1-based, and its header name) where the unknown codes are.
    pub code_column: Option<(usize, String)>,
    /// What reading the file did that its owner should know, each naming its line (a
    /// repeated header row skipped, hidden spreadsheet rows read).
    pub notes: Vec<String>,
}

impl Parsed {
    pub fn new(kind: Kind) -> Parsed {
        Parsed {
            kind,
            entries: Vec::new(),
            lines: 0,
            totals: Totals::default(),
            unknown: BTreeMap::new(),
            code_column: None,
            notes: Vec::new(),
        }
    }
    pub(crate) fn push(&mut self, e: Option<Entry>) {
        if let Some(e) = e {
            self.entries.push(e);
        }
    }
}

/// Reads a canonical file of `kind` from `input` (already decoded to UTF-8).
pub fn read(kind: Kind, input: impl Read, ctx: &Context) -> Result<Parsed, FileErrors> {
    canonical::read(kind, input, ctx).map_err(|e| e.into_file(&ctx.file_name))
}

#[cfg(test)]
mod tests {

    /// A UPC-A keyed in a spreadsheet that dropped its leading zero is the catalog's;
    /// eleven digits no UPC on file reads as are not.
    #[test]
    fn a_upc_that_lost_its_leading_zero_is_resolved() {
        let ctx = Context::from_lookups(
            &[(
                "MRG-001-CD".into(),
                Some("036000291452".into()),
                800,
                "USD".into(),
            )],
            &[],
            &[],
            &[],
        );
        let sku = Sku::parse("MRG-001-CD").unwrap();
        assert_eq!(ctx.resolve_code("036000291452"), Some(sku.clone()));
        assert_eq!(ctx.resolve_code("36000291452"), Some(sku.clone()));
        assert_eq!(ctx.resolve_code("0036000291452"), Some(sku));
        assert_eq!(ctx.resolve_code("36000291453"), None);
    }

    use super::*;

    #[test]
    fn a_header_that_matches_no_kind_names_the_closest_and_what_it_lacks() {
        let c = Kind::closest(
            "SKU,UPC,Title,Artist,Format,Release Date,List Price,wholesale_price,unit_cost",
        )
        .unwrap();
        assert_eq!(c.file, "catalog");
        assert_eq!(c.missing, ["currency"]);
        assert!(c
            .renames
            .contains(&("Release Date".to_string(), "release_date")));
        assert_eq!(
            c.to_string(),
            "it looks closest to catalog.csv; rename \"Release Date\" → release_date, \"List Price\" → list_price; it lacks currency"
        );
        assert!(Kind::closest("foo,bar").is_none());
    }
}
