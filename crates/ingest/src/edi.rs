//! EDI X12 (852, 846, 867) and DDEX DSR files → entries.
//!
//! Both formats name their sender in their own terms, so the caller says which
//! distributor a file is from. Items are matched by any of their codes (UPC, EAN,
//! vendor item number, catalogue number, ISRC via aliases). Sold and returned units
//! become one statement per transaction set (X12) or per report (DSR); on-hand
//! quantities become stock reports (assertions, never movements).
//!
//! Money: an 867 line's own amount, else its unit price × units, else the catalog's
//! wholesale price × units. DSR revenue reported on a summary record is split over that
//! summary's sales lines by units, rounded once per line, the remainder to the last
//! line, so the lines add up to the summary exactly.

use crate::error::{Errors, LineError};
use crate::lines::{Sink, SourceLine};
use crate::{Context, FileErrors, Kind, Parsed};
use backstock_domain::{Currency, Date, Money, PartyId, Rate, Rounding, Sku};
use backstock_ledger::facts::{StockReport, StockReportSource};
use backstock_ledger::{
    Channel, Entry, EntryId, Event, Fact, LineKind, Provenance, Statement, StatementLine,
};
use std::collections::{BTreeMap, BTreeSet};

type Lines = BTreeMap<(Option<Sku>, LineKind), (i64, i64)>;

fn provenance(ctx: &Context, first: u64, last: u64) -> Provenance {
    Provenance::File {
        sha256: ctx.file_sha256.clone(),
        name: ctx.file_name.clone(),
        first_line: first,
        last_line: last.max(first),
    }
}

fn add(lines: &mut Lines, sku: Option<Sku>, kind: LineKind, units: i64, amount: i64) -> bool {
    let slot = lines.entry((sku, kind)).or_insert((0, 0));
    match (slot.0.checked_add(units), slot.1.checked_add(amount)) {
        (Some(u), Some(a)) => {
            *slot = (u, a);
            true
        }
        _ => false,
    }
}

/// `channel`: a line's channel by its SKU.
fn statement_lines(lines: Lines, channel: impl Fn(Option<&Sku>) -> Channel) -> Vec<StatementLine> {
    lines
        .into_iter()
        .filter(|(_, (u, a))| *u != 0 || *a != 0)
        .map(|((sku, kind), (units, amount_minor))| StatementLine {
            kind,
            channel: channel(sku.as_ref()),
            sku,
            units,
            amount_minor,
        })
        .collect()
}

fn err(line: u64, found: impl Into<String>, expected: impl Into<String>) -> LineError {
    LineError {
        line,
        column: None,
        found: found.into(),
        expected: expected.into(),
    }
}

/// A problem with one X12 item report: where its quantity segment is (line, byte
/// column, segment number and tag — an X12 file is often a single line).
fn report_err(
    r: &backstock_x12::ItemReport,
    found: impl Into<String>,
    expected: impl Into<String>,
) -> LineError {
    LineError {
        line: r.line as u64,
        column: Some((r.column, format!("segment {} {}", r.segment, r.segment_id))),
        found: found.into(),
        expected: expected.into(),
    }
}

/// An X12 item report's period: its start and end (either alone: that day).
fn x12_period(r: &backstock_x12::ItemReport) -> Option<(Date, Date)> {
    let to_date = |d: Option<backstock_x12::Date8>| {
        d.and_then(|d| Date::from_ymd(d.year, u32::from(d.month), u32::from(d.day)).ok())
    };
    match (to_date(r.period_start), to_date(r.period_end)) {
        (Some(s), Some(e)) => Some((s, e)),
        (Some(s), None) => Some((s, s)),
        (None, Some(e)) => Some((e, e)),
        (None, None) => None,
    }
}

fn currency_of(ctx: &Context, d: &PartyId, line: u64, errs: &mut Errors) -> Option<Currency> {
    match ctx.distributors.get(d.as_str()) {
        Some(c) => Some(*c),
        None => {
            errs.push(err(
                line,
                d.as_str(),
                "a distributor named in distributors.csv (give --distributor)",
            ));
            None
        }
    }
}

/// What the user says of an EDI or DSR file that the file does not say (`backstock
/// import FILE --distributor D [--statement-id ID] [--currency C] [--period-start D]
/// [--period-end D]`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SentOptions {
    /// The statement's id instead of the one made from the file's control number or
    /// message id: how a corrected file the distributor sent again under the same
    /// number is recorded beside the first (`x12-0001-R1`). Only for a file that makes
    /// one statement.
    pub statement_id: Option<String>,
    /// The statement's currency when the file names none (X12 without CUR); a file
    /// that names another is refused.
    pub currency: Option<Currency>,
    /// The period, for X12 reports that give no dates.
    pub period_start: Option<Date>,
    pub period_end: Option<Date>,
}

impl SentOptions {
    /// The `--statement-id` given, checked: the error names it.
    fn statement_id(&self, errs: &mut Errors) -> Option<Option<&str>> {
        match self.statement_id.as_deref() {
            None => Some(None),
            Some(id)
                if !id.trim().is_empty()
                    && id.chars().count() <= 100
                    && !id.chars().any(|c| c.is_control() || c == ':') =>
            {
                Some(Some(id))
            }
            Some(id) => {
                errs.push(err(
                    1,
                    id,
                    "--statement-id: 1 to 100 characters, no colon or control characters",
                ));
                None
            }
        }
    }
}

/// Reads an X12 interchange (or several back to back).
pub fn read_x12(bytes: &[u8], ctx: &Context, distributor: &PartyId) -> Result<Parsed, FileErrors> {
    read_x12_lines(
        bytes,
        ctx,
        distributor,
        &SentOptions::default(),
        &mut |_| {},
    )
}

/// [`read_x12`], giving each sold or returned line to `sink` as it is priced (its
/// code unknown to the catalog: without a SKU, amount 0). On an error the lines given
/// mean nothing.
pub fn read_x12_lines(
    bytes: &[u8],
    ctx: &Context,
    distributor: &PartyId,
    opts: &SentOptions,
    sink: &mut Sink<'_>,
) -> Result<Parsed, FileErrors> {
    let mut errs = Errors::default();
    let reports = match backstock_x12::item_reports(bytes) {
        Ok(r) => r,
        Err(list) => {
            for e in list {
                errs.push(LineError {
                    line: e.line as u64,
                    column: e.element.map(|el| {
                        (
                            e.column,
                            format!("segment {} {}, element {el}", e.segment, e.segment_id),
                        )
                    }),
                    found: e.found,
                    expected: e.expected,
                });
            }
            return Err(errs.into_file(&ctx.file_name));
        }
    };
    let mut parsed = Parsed::new(Kind::X12);
    let Some(agreed) = currency_of(ctx, distributor, 1, &mut errs) else {
        return Err(errs.into_file(&ctx.file_name));
    };
    let Some(statement_id) = opts.statement_id(&mut errs) else {
        return Err(errs.into_file(&ctx.file_name));
    };
    // (control number, period) → lines, currency, first and last line; (as_of, sku,
    // source) → the rank of the on-hand count kept, its units, its line.
    type Sold = (Lines, Currency, u64, u64);
    let mut statements: BTreeMap<(String, Date, Date), Sold> = BTreeMap::new();
    // Per location (the best-ranked count of each), then added up over locations.
    type AtLocation = BTreeMap<Option<String>, (u8, i64, u64)>;
    let mut on_hand: BTreeMap<(Date, Sku, u8), AtLocation> = BTreeMap::new();
    // A report's period: its own, else the one the user gave; a period that ends
    // before it starts is the file's mistake, not a day to guess.
    let period_of = |r: &backstock_x12::ItemReport, errs: &mut Errors| -> Option<(Date, Date)> {
        let given = match (opts.period_start, opts.period_end) {
            (Some(s), Some(e)) => Some((s, e)),
            (Some(s), None) => Some((s, s)),
            (None, Some(e)) => Some((e, e)),
            (None, None) => None,
        };
        let (start, end) = x12_period(r).or(given)?;
        if start > end {
            errs.push(report_err(
                r,
                format!("{start}..{end}"),
                "a reporting period whose start (XQ02, DTM*090) is on or before its end (XQ03, DTM*091)",
            ));
            return None;
        }
        Some((start, end))
    };
    // A statement is named by its transaction set's control number and its period's
    // end; when one set reports two periods ending the same day (a month and its
    // second half, as an 867 may), the start is named too.
    let mut starts: BTreeMap<(&str, Date), BTreeSet<Date>> = BTreeMap::new();
    // When each transaction set was sent (GS04): its statements are issued, and known
    // to the label, no earlier than that (never before their period's end).
    let mut sent: BTreeMap<&str, Date> = BTreeMap::new();
    for r in &reports {
        if let Some(d) = r
            .sent_on
            .and_then(|d| Date::from_ymd(d.year, u32::from(d.month), u32::from(d.day)).ok())
        {
            let slot = sent.entry(r.control_number.as_str()).or_insert(d);
            *slot = (*slot).max(d);
        }
        if let Some((start, end)) = period_of(r, &mut Errors::default()) {
            starts
                .entry((r.control_number.as_str(), end))
                .or_default()
                .insert(start);
        }
    }
    // `--statement-id` names the one statement of a file (a corrected resend).
    if let Some(id) = statement_id {
        let mut made: BTreeSet<(&str, Date, Date)> = BTreeSet::new();
        for r in &reports {
            if matches!(
                r.activity,
                backstock_x12::Activity::Sold | backstock_x12::Activity::Returned
            ) {
                if let Some((start, end)) = period_of(r, &mut Errors::default()) {
                    made.insert((r.control_number.as_str(), start, end));
                }
            }
        }
        if made.len() > 1 {
            errs.push(err(
                1,
                id,
                format!(
                    "--statement-id for a file of one statement: this one makes {} (transaction sets and periods: {})",
                    made.len(),
                    made.iter()
                        .take(5)
                        .map(|(c, s, e)| format!("{c} {s}..{e}"))
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
            ));
            return Err(errs.into_file(&ctx.file_name));
        }
    }
    let x12_id = |control: &str, start: Date, end: Date| -> String {
        if let Some(id) = statement_id {
            id.to_string()
        } else if starts.get(&(control, end)).is_some_and(|s| s.len() > 1) {
            format!("x12-{control}-{start}-{end}")
        } else {
            format!("x12-{control}-{end}")
        }
    };
    // A transaction set's currency: its CUR segment, else --currency, else the
    // agreement's. A CUR that says otherwise than --currency is refused.
    let currency_of_report = |r: &backstock_x12::ItemReport,
                              errs: &mut Errors|
     -> Option<Currency> {
        match r.currency.as_deref() {
            None => Some(opts.currency.unwrap_or(agreed)),
            Some(code) => match Currency::parse(code) {
                Err(_) => {
                    errs.push(report_err(
                        r,
                        code,
                        "an ISO 4217 currency code (CUR02) known to backstock",
                    ));
                    None
                }
                Ok(c) if opts.currency.is_some_and(|o| o != c) => {
                    errs.push(report_err(
                        r,
                        code,
                        format!(
                            "{} as --currency says, or no --currency: the file names its currency in CUR",
                            opts.currency.map(|o| o.code().to_string()).unwrap_or_default()
                        ),
                    ));
                    None
                }
                Ok(c) => Some(c),
            },
        }
    };
    for r in &reports {
        let line = r.line as u64;
        parsed.lines += 1;
        // Units are counted one by one: 2 cases (`ZA*QS*2*CA`) are not 2 units, and
        // the pack size is not in the file.
        if let Some(u) = r.unit.as_deref() {
            if !matches!(u.to_ascii_uppercase().as_str(), "EA" | "UN" | "PC" | "EACH") {
                errs.push(report_err(
                    r,
                    u,
                    "EA (each) as the unit of measure: a quantity in cases or other packs (CA, BX, PK…) is not a count of units — ask the distributor to report in eaches",
                ));
                continue;
            }
        }
        let (start, end) = match period_of(r, &mut errs) {
            Some(p) => p,
            None => {
                if x12_period(r).is_none() {
                    errs.push(report_err(
                        r,
                        r.control_number.clone(),
                        "a reporting period or date (XQ, BIA or BPT/PTD dates), or --period-start and --period-end",
                    ));
                }
                continue;
            }
        };
        let Some(cur) = currency_of_report(r, &mut errs) else {
            continue;
        };
        // A negative quantity sold is a net return (more came back than sold); a
        // return is a return whichever sign it is written with.
        let kind = if r.activity == backstock_x12::Activity::Sold && r.quantity >= 0 {
            LineKind::Sale
        } else {
            LineKind::Return
        };
        // Each id the LIN gives that the catalog knows must name the same SKU: a UPC
        // of one release beside the vendor's number of another is a mistake in the
        // report, not a choice to make silently (as a DSR's codes are checked).
        let named: Vec<(&backstock_x12::ItemId, Sku)> = std::iter::once(&r.item)
            .chain(r.alternates.iter())
            .filter_map(|id| ctx.resolve_code(&id.value).map(|k| (id, k)))
            .collect();
        if let [(i1, k1), rest @ ..] = named.as_slice() {
            if let Some((i2, k2)) = rest.iter().find(|(_, k)| k != k1) {
                errs.push(report_err(
                    r,
                    format!(
                        "{} {} ({k1}) and {} {} ({k2})",
                        i1.kind.qualifier(),
                        i1.value,
                        i2.kind.qualifier(),
                        i2.value
                    ),
                    "ids that name one product: the LIN gives this item two that the catalog (or an alias) gives to different SKUs — correct the catalog or the alias, or ask the distributor",
                ));
                continue;
            }
        }
        let sku = named.into_iter().next().map(|(_, k)| k);
        let Some(sku) = sku else {
            parsed.unknown.entry(r.item.value.clone()).or_insert(line);
            if matches!(
                r.activity,
                backstock_x12::Activity::Sold | backstock_x12::Activity::Returned
            ) {
                sink(SourceLine {
                    line,
                    statement_id: x12_id(&r.control_number, start, end),
                    distributor: distributor.clone(),
                    period_start: start,
                    period_end: end,
                    currency: cur,
                    sku: None,
                    code: r.item.value.clone(),
                    isrc: None,
                    territory: None,
                    service: None,
                    kind,
                    units: r.quantity.abs(),
                    amount_minor: 0,
                });
            }
            continue;
        };
        match r.activity {
            backstock_x12::Activity::OnHand => {
                let src = if r.transaction_set == backstock_x12::TransactionSet::Ts846 {
                    0
                } else {
                    1
                };
                // One count of what it holds at each location: on hand (`17`, `OH`)
                // before available for sale (`33`, `QA`, `QE`) — never the two added
                // together. The locations' counts add up.
                let rank = match r.qualifier.as_str() {
                    "17" | "OH" => 0,
                    "33" | "QA" | "QE" => 1,
                    _ => 2,
                };
                let slot = on_hand
                    .entry((end, sku, src))
                    .or_default()
                    .entry(r.location.clone())
                    .or_insert((rank, 0, line));
                if rank < slot.0 {
                    *slot = (rank, r.quantity, line);
                } else if rank == slot.0 {
                    slot.1 = slot.1.saturating_add(r.quantity);
                }
            }
            backstock_x12::Activity::Received => {}
            backstock_x12::Activity::Sold | backstock_x12::Activity::Returned => {
                // A retail (resale, list) price is what a store charged, not what the
                // distributor owes: the line is valued at the catalog's wholesale
                // price instead (its amount, priced the same way, too).
                let retail = r
                    .price_qualifier
                    .as_deref()
                    .is_some_and(backstock_x12::is_retail_price);
                let wholesale = ctx.wholesale.get(&sku).filter(|w| w.currency() == cur);
                let amount = if let Some(a) = r.amount.as_ref().filter(|_| !retail) {
                    Money::parse_rounded(a, cur, Rounding::HalfEven).map(|m| m.minor().abs())
                } else if let Some(p) = r.unit_price.as_ref().filter(|_| !retail) {
                    // The price as written times the units, rounded once.
                    Money::parse_unit_price_times(p, r.quantity.abs(), cur, Rounding::HalfEven)
                        .map(|m| m.minor())
                } else if let Some(w) = wholesale {
                    w.checked_mul_units(r.quantity.abs()).map(|m| m.minor())
                } else {
                    let priced_in = ctx
                        .wholesale
                        .get(&sku)
                        .map(|w| format!(" (the catalog's is in {})", w.currency()))
                        .unwrap_or_default();
                    errs.push(report_err(
                        r,
                        sku.as_str(),
                        if retail {
                            format!(
                                "a wholesale price in {cur} in the catalog{priced_in}: the line's price is a retail price ({}), which is not what the distributor owes",
                                r.price_qualifier.as_deref().unwrap_or("")
                            )
                        } else {
                            format!("a price on the line or a wholesale price in {cur} in the catalog{priced_in}")
                        },
                    ));
                    continue;
                };
                let amount = match amount {
                    Ok(a) => a,
                    Err(e) => {
                        errs.push(report_err(r, e.found(), e.expected()));
                        continue;
                    }
                };
                let st = statements
                    .entry((r.control_number.clone(), start, end))
                    .or_insert((Lines::new(), cur, line, line));
                st.3 = line;
                if st.1 != cur {
                    errs.push(report_err(
                        r,
                        cur.code(),
                        format!("{}, the currency of the rest of this transaction set", st.1),
                    ));
                    continue;
                }
                if !add(&mut st.0, Some(sku.clone()), kind, r.quantity.abs(), amount) {
                    errs.push(report_err(r, r.quantity.to_string(), "totals within range"));
                }
                sink(SourceLine {
                    line,
                    statement_id: x12_id(&r.control_number, start, end),
                    distributor: distributor.clone(),
                    period_start: start,
                    period_end: end,
                    currency: cur,
                    sku: Some(sku),
                    code: r.item.value.clone(),
                    isrc: None,
                    territory: None,
                    service: None,
                    kind,
                    units: r.quantity.abs(),
                    amount_minor: amount,
                });
            }
        }
    }
    // Never held aside, even with --hold-unmatched: an X12 line's value is the
    // catalog's wholesale price, which a code unknown to the catalog has not got (a
    // line dropped would leave its units and money out of the books unsaid).
    for (code, line) in &parsed.unknown {
        errs.push(err(
            *line,
            code.clone(),
            if ctx.hold_unmatched {
                "a UPC, EAN or item number in the catalog (`backstock alias add CODE SKU` first: X12 lines are valued at the catalog's wholesale price, so they are not held aside by --hold-unmatched)"
            } else {
                "a UPC, EAN or item number in the catalog (or `backstock alias add CODE SKU`)"
            },
        ));
    }
    if !errs.is_empty() {
        return Err(errs.into_file(&ctx.file_name));
    }
    for ((control, start, end), (lines, cur, first, last)) in statements {
        let issued = sent
            .get(control.as_str())
            .copied()
            .filter(|d| *d >= end)
            .unwrap_or(end);
        let st = Statement {
            statement_id: x12_id(&control, start, end),
            distributor: distributor.clone(),
            period_start: start,
            period_end: end,
            issued_on: issued,
            currency: cur,
            lines: statement_lines(lines, |sku| ctx.channel_of(sku)),
        };
        if let Some(n) = st.net_due_minor() {
            parsed.totals.add(Money::from_minor(n, cur));
        }
        if let Ok(id) = EntryId::new(format!("statement:{distributor}:{}", st.statement_id)) {
            parsed.entries.push(Entry {
                id,
                effective_on: end,
                known_on: issued,
                provenance: provenance(ctx, first, last),
                event: Event::Statement(st),
            });
        }
    }
    for ((as_of, sku, src), at) in on_hand {
        let units = at.values().fold(0i64, |a, (_, u, _)| a.saturating_add(*u));
        let line = at.values().map(|(_, _, l)| *l).min().unwrap_or(1);
        let source = if src == 0 {
            StockReportSource::Edi846
        } else {
            StockReportSource::Edi852
        };
        if let Ok(id) = EntryId::new(format!(
            "stock_report:{distributor}:{as_of}:{sku}:edi{}",
            if src == 0 { "846" } else { "852" }
        )) {
            parsed.entries.push(Entry {
                id,
                effective_on: as_of,
                known_on: as_of,
                provenance: provenance(ctx, line, line),
                event: Event::Fact(Fact::StockReport(StockReport {
                    distributor: distributor.clone(),
                    as_of,
                    sku,
                    units_on_hand: units,
                    source,
                })),
            });
        }
    }
    past_limit(parsed, ctx)
}

/// The parsed file, or its refusal when a currency's total passes the limit.
fn past_limit(parsed: Parsed, ctx: &Context) -> Result<Parsed, FileErrors> {
    match crate::total_past_limit(&parsed.totals) {
        Some(e) => {
            let mut errs = Errors::default();
            errs.push(e);
            Err(errs.into_file(&ctx.file_name))
        }
        None => Ok(parsed),
    }
}

fn dsr_date(d: &backstock_dsr::DsrDate, end: bool) -> Option<Date> {
    let m = u32::from(d.month.unwrap_or(if end { 12 } else { 1 }));
    let first = Date::from_ymd(d.year, m, 1).ok()?;
    match d.day {
        Some(day) => Date::from_ymd(d.year, m, u32::from(day)).ok(),
        None if end => Some(first.last_of_month()),
        None => Some(first),
    }
}

/// Reads a DDEX DSR flat file as one digital-sales statement.
pub fn read_dsr(bytes: &[u8], ctx: &Context, distributor: &PartyId) -> Result<Parsed, FileErrors> {
    read_dsr_lines(
        bytes,
        ctx,
        distributor,
        &SentOptions::default(),
        &mut |_| {},
    )
}

/// [`read_dsr`], giving each sales record to `sink` with its ISRC, territory and
/// service and the amount the statement posts for it (a summary's revenue split over
/// its lines by units, exactly as [`read_dsr`] splits it); returns as a second line of
/// kind return, amount 0. A record whose codes the catalog does not know is given
/// without a SKU. On an error the lines given mean nothing.
pub fn read_dsr_lines(
    bytes: &[u8],
    ctx: &Context,
    distributor: &PartyId,
    opts: &SentOptions,
    sink: &mut Sink<'_>,
) -> Result<Parsed, FileErrors> {
    let mut errs = Errors::default();
    let Some(statement_id) = opts.statement_id(&mut errs) else {
        return Err(errs.into_file(&ctx.file_name));
    };
    let report = match backstock_dsr::parse(bytes) {
        Ok(r) => r,
        Err(list) => {
            for e in list {
                errs.push(LineError {
                    line: e.line as u64,
                    column: Some((
                        e.column,
                        if e.record.is_empty() {
                            format!("cell {}", e.column)
                        } else {
                            format!("{} cell {}", e.record, e.column)
                        },
                    )),
                    found: e.found,
                    expected: e.expected,
                });
            }
            return Err(errs.into_file(&ctx.file_name));
        }
    };
    let mut parsed = Parsed::new(Kind::Dsr);
    let (Some(start), Some(end)) = (
        dsr_date(&report.period_start, false),
        dsr_date(&report.period_end, true),
    ) else {
        errs.push(err(
            1,
            format!("{:?}..{:?}", report.period_start, report.period_end),
            "a reporting period in HEAD",
        ));
        return Err(errs.into_file(&ctx.file_name));
    };
    let currency_text = report
        .currency
        .clone()
        .or_else(|| report.summaries.iter().find_map(|s| s.currency.clone()));
    let cur = match currency_text.as_deref().map(Currency::parse) {
        Some(Ok(c)) => c,
        _ => match currency_of(ctx, distributor, 1, &mut errs) {
            Some(c) => c,
            None => return Err(errs.into_file(&ctx.file_name)),
        },
    };
    // One statement per currency: a report whose summaries are in several currencies
    // (a store's sales in GBP and in USD) becomes one statement for each, its id
    // ending in the currency, so no dollar is recorded as a pound.
    let default_code = cur.code().to_string();
    let mut currencies: Vec<String> = Vec::new();
    for s in &report.sales {
        let c = s.currency.clone().unwrap_or_else(|| default_code.clone());
        if !currencies.contains(&c) {
            currencies.push(c);
        }
    }
    // A summary's revenue in a currency no sales record is in (a store's earnings with
    // no sale listed under them) is a statement of that currency too: kept as an
    // adjustment below, never dropped with its currency.
    let owed = |v: &str| v.bytes().any(|b| (b'1'..=b'9').contains(&b));
    for m in report
        .summaries
        .iter()
        .filter(|m| m.net_revenue.as_deref().is_some_and(owed))
    {
        let c = m.currency.clone().unwrap_or_else(|| default_code.clone());
        if !currencies.contains(&c) {
            currencies.push(c);
        }
    }
    if currencies.is_empty() {
        currencies.push(default_code.clone());
    }
    let split = currencies.len() > 1;
    // `--statement-id` names one statement: a report split per currency makes several.
    if let (Some(id), true) = (statement_id, split) {
        errs.push(err(
            1,
            id,
            format!(
                "--statement-id for a file of one statement: this one makes {} (one per currency: {})",
                currencies.len(),
                currencies.join(", ")
            ),
        ));
        return Err(errs.into_file(&ctx.file_name));
    }
    let base_id = match statement_id {
        Some(id) => id.to_string(),
        None => format!("dsr-{}-{}", report.message_id, report.file_number),
    };
    let issued = report
        .created
        .get(..10)
        .and_then(|d| Date::parse(d).ok())
        .filter(|d| *d >= end)
        .unwrap_or(end);
    let default_cur = cur;
    for group in &currencies {
        let in_group = |s: &backstock_dsr::DsrSale| {
            s.currency.as_deref().unwrap_or(default_code.as_str()) == group.as_str()
        };
        let cur = if split {
            match Currency::parse(group) {
                Ok(c) => c,
                Err(_) => {
                    errs.push(err(
                        1,
                        group.clone(),
                        "an ISO 4217 currency code known to backstock",
                    ));
                    continue;
                }
            }
        } else {
            default_cur
        };
        // Revenue per summary, split over its lines by units.
        let mut by_summary: BTreeMap<String, Vec<usize>> = BTreeMap::new();
        for (i, s) in report.sales.iter().enumerate() {
            if !in_group(s) {
                continue;
            }
            if s.amount_source == backstock_dsr::AmountSource::Summary {
                if let Some(r) = &s.summary_ref {
                    by_summary.entry(r.clone()).or_default().push(i);
                }
            }
        }
        let mut amounts = vec![0i64; report.sales.len()];
        for (i, s) in report.sales.iter().enumerate() {
            if in_group(s) && s.amount_source == backstock_dsr::AmountSource::Line {
                match Money::parse_rounded(&s.net_amount, cur, Rounding::HalfEven) {
                    Ok(m) => amounts[i] = m.minor(),
                    Err(e) => errs.push(err(s.line as u64, e.found(), e.expected())),
                }
            }
        }
        for (sref, idx) in &by_summary {
            let Some(summary) = report.summary(sref) else {
                continue;
            };
            let Some(net) = summary.net_revenue.as_deref() else {
                continue;
            };
            let total = match Money::parse_rounded(net, cur, Rounding::HalfEven) {
                Ok(m) => m,
                Err(e) => {
                    errs.push(err(summary.line as u64, e.found(), e.expected()));
                    continue;
                }
            };
            let units: i64 = idx.iter().map(|i| report.sales[*i].units.max(0)).sum();
            if units == 0 {
                // Revenue with no unit under it to split it by: kept whole, below.
                continue;
            }
            let shares: Vec<Rate> = idx
                .iter()
                .map(|i| {
                    let u = i128::from(report.sales[*i].units.max(0));
                    let ppm = u * i128::from(Rate::ONE_PPM) / i128::from(units);
                    Rate::from_ppm(u32::try_from(ppm).unwrap_or(0)).unwrap_or(Rate::ZERO)
                })
                .collect();
            let (parts, rest) = total.allocate(&shares);
            for (k, i) in idx.iter().enumerate() {
                amounts[*i] = parts.get(k).map(|m| m.minor()).unwrap_or(0);
            }
            if let Some(last) = idx.last() {
                amounts[*last] = amounts[*last].saturating_add(rest.minor());
            }
        }
        let statement_id = if split {
            format!("{base_id}-{group}")
        } else {
            base_id.clone()
        };
        // The service of each summary record (its own, else the file's).
        let services: std::collections::HashMap<&str, Option<&str>> = report
            .summaries
            .iter()
            .map(|m| {
                let service = m
                    .service_description
                    .as_deref()
                    .or(report.service_description.as_deref());
                (m.id.as_str(), service)
            })
            .collect();
        let mut lines = Lines::new();
        // A summary's revenue that no sales record's units can carry (no sales record
        // under it, or none that counts a unit) is still owed: one adjustment line
        // without a SKU, never dropped.
        for m in &report.summaries {
            if m.currency.as_deref().unwrap_or(default_code.as_str()) != group.as_str() {
                continue;
            }
            // Carried by sales records that state their own revenue (the summary's is
            // their total), or split over the units of those that do not.
            let own_revenue = report.sales.iter().any(|x| {
                in_group(x)
                    && x.summary_ref.as_deref() == Some(m.id.as_str())
                    && x.amount_source == backstock_dsr::AmountSource::Line
            });
            let carried = own_revenue
                || by_summary.get(&m.id).is_some_and(|idx| {
                    idx.iter()
                        .map(|i| report.sales[*i].units.max(0))
                        .sum::<i64>()
                        > 0
                });
            let Some(net) = m.net_revenue.as_deref().filter(|_| !carried) else {
                continue;
            };
            match Money::parse_rounded(net, cur, Rounding::HalfEven) {
                Ok(a) if a.minor() != 0 => {
                    if !add(&mut lines, None, LineKind::Adjustment, 0, a.minor()) {
                        errs.push(err(m.line as u64, net, "totals within range"));
                    }
                    // The line-level data carries it too, so lines and statement tie.
                    sink(SourceLine {
                        line: m.line as u64,
                        statement_id: statement_id.clone(),
                        distributor: distributor.clone(),
                        period_start: start,
                        period_end: end,
                        currency: cur,
                        // No code: not a line held for an unknown code, the summary's
                        // own revenue (its territory and service say which).
                        sku: None,
                        code: String::new(),
                        isrc: None,
                        territory: m.territory.clone(),
                        service: m
                            .service_description
                            .clone()
                            .or(report.service_description.clone()),
                        kind: LineKind::Adjustment,
                        units: 0,
                        amount_minor: a.minor(),
                    });
                }
                Ok(_) => {}
                Err(e) => errs.push(err(m.line as u64, e.found(), e.expected())),
            }
        }
        // Lines with a code unknown to the catalog, held with --hold-unmatched: per code ×
        // kind, (units, amount, first line, last line).
        let mut held: BTreeMap<(String, LineKind), (i64, i64, u64, u64)> = BTreeMap::new();
        for (i, s) in report.sales.iter().enumerate() {
            if !in_group(s) {
                continue;
            }
            parsed.lines += 1;
            // Each code the record gives that the catalog knows must name the same
            // SKU: an ICPN of one release beside the catalog number of another is a
            // mistake in the report, not a choice for us to make silently.
            let named: Vec<(&str, &String, Sku)> = [
                ("ICPN", &s.icpn),
                ("catalog number", &s.catalog_number),
                ("ISRC", &s.isrc),
            ]
            .into_iter()
            .filter_map(|(what, c)| c.as_ref().map(|c| (what, c)))
            .filter_map(|(what, c)| ctx.resolve_code(c).map(|k| (what, c, k)))
            .collect();
            if let [(w1, c1, k1), rest @ ..] = named.as_slice() {
                if let Some((w2, c2, k2)) = rest.iter().find(|(_, _, k)| k != k1) {
                    errs.push(err(
                        s.line as u64,
                        format!("{w1} {c1} ({k1}) and {w2} {c2} ({k2})"),
                        "codes that name one product: the report gives this sale two that the catalog (or an alias) gives to different SKUs — correct the catalog or the alias, or ask the distributor",
                    ));
                    continue;
                }
            }
            let sku = named.first().map(|(_, _, k)| k.clone());
            let code = s
                .icpn
                .clone()
                .or(s.isrc.clone())
                .or(s.catalog_number.clone())
                .unwrap_or_default();
            let service = match s.summary_ref.as_deref() {
                Some(r) => services.get(r).copied().flatten(),
                None => report.service_description.as_deref(),
            };
            let line = |kind, sku: Option<Sku>, units, amount_minor| SourceLine {
                line: s.line as u64,
                statement_id: statement_id.clone(),
                distributor: distributor.clone(),
                period_start: start,
                period_end: end,
                currency: cur,
                sku,
                code: code.clone(),
                isrc: s.isrc.clone(),
                territory: s.territory.clone(),
                service: service.map(str::to_string),
                kind,
                units,
                amount_minor,
            };
            // `units` is net of returns (Usages − Returns): the sale line counts what
            // was sold, the return line what came back, so they net to it once.
            let sold = s.units.saturating_add(s.returns);
            let Some(sku) = sku else {
                sink(line(LineKind::Sale, None, sold, amounts[i]));
                if s.returns > 0 {
                    sink(line(LineKind::Return, None, s.returns, 0));
                }
                parsed.unknown.entry(code.clone()).or_insert(s.line as u64);
                if ctx.hold_unmatched {
                    // Held aside (`backstock unmatched`) until `alias add` names the code.
                    let at = s.line as u64;
                    let mut hold = |kind: LineKind, units: i64, amount: i64| {
                        let h = held
                            .entry((code.clone(), kind))
                            .or_insert((0i64, 0i64, at, at));
                        match (h.0.checked_add(units), h.1.checked_add(amount)) {
                            (Some(u), Some(a)) => *h = (u, a, h.2.min(at), h.3.max(at)),
                            _ => errs.push(err(at, units.to_string(), "totals within range")),
                        }
                    };
                    hold(LineKind::Sale, sold, amounts[i]);
                    if s.returns > 0 {
                        hold(LineKind::Return, s.returns, 0);
                    }
                }
                continue;
            };
            if !add(
                &mut lines,
                Some(sku.clone()),
                LineKind::Sale,
                sold,
                amounts[i],
            ) {
                errs.push(err(
                    s.line as u64,
                    s.units.to_string(),
                    "totals within range",
                ));
            }
            sink(line(LineKind::Sale, Some(sku.clone()), sold, amounts[i]));
            if s.returns > 0 {
                add(
                    &mut lines,
                    Some(sku.clone()),
                    LineKind::Return,
                    s.returns,
                    0,
                );
                sink(line(LineKind::Return, Some(sku), s.returns, 0));
            }
        }
        let st = Statement {
            statement_id,
            distributor: distributor.clone(),
            period_start: start,
            period_end: end,
            issued_on: issued,
            currency: cur,
            lines: statement_lines(lines, |_| Channel::Digital),
        };
        if let Some(n) = st.net_due_minor() {
            parsed.totals.add(Money::from_minor(n, cur));
        }
        let last = report
            .sales
            .iter()
            .filter(|s| in_group(s))
            .map(|s| s.line as u64)
            .max()
            .unwrap_or(1);
        for ((code, kind), (units, amount_minor, first, last)) in held {
            let line = backstock_ledger::facts::UnmatchedLine {
                statement_id: st.statement_id.clone(),
                distributor: distributor.clone(),
                period_start: start,
                period_end: end,
                issued_on: issued,
                currency: cur,
                code,
                kind,
                units,
                amount_minor,
                first_line: first,
                last_line: last,
                channel: Channel::Digital,
            };
            parsed
                .entries
                .extend(crate::canonical::held_entry(ctx, line));
        }
        if let Ok(id) = EntryId::new(format!("statement:{distributor}:{}", st.statement_id)) {
            parsed.entries.push(Entry {
                id,
                effective_on: end,
                known_on: issued,
                provenance: provenance(ctx, 1, last),
                event: Event::Statement(st),
            });
        }
    }
    if !parsed.unknown.is_empty() && !ctx.hold_unmatched {
        for (code, line) in &parsed.unknown {
            errs.push(err(*line, code.clone(), "a UPC, catalogue number or ISRC known to the catalog (or `backstock alias add CODE SKU`)"));
        }
    }
    if !errs.is_empty() {
        return Err(errs.into_file(&ctx.file_name));
    }
    past_limit(parsed, ctx)
}
