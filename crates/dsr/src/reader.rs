//! The line-by-line reader behind [`crate::parse`].

use std::collections::HashMap;

use crate::cells::{split_cells, split_values, unescape};
use crate::values::{
    boolean, count, is_currency, is_datetime, is_icpn, is_isrc, parse_decimal, whole_units, DsrDate,
};
use crate::{AmountSource, DsrError, DsrReport, DsrSale, DsrSummary, MAX_ERRORS};

const BOM: &[u8] = b"\xEF\xBB\xBF";

fn clip(text: &str) -> String {
    const MAX: usize = 60;
    match text.char_indices().nth(MAX) {
        None => text.to_string(),
        Some((cut, _)) => format!("{}…", text.get(..cut).unwrap_or("")),
    }
}

#[derive(Default)]
struct Errors {
    list: Vec<DsrError>,
}

impl Errors {
    fn push(&mut self, error: DsrError) {
        if self.list.len() < MAX_ERRORS {
            self.list.push(error);
        }
    }

    fn at(
        &mut self,
        line: usize,
        column: usize,
        record: &str,
        found: &str,
        expected: impl Into<String>,
    ) {
        self.push(DsrError {
            line,
            column,
            record: clip(record),
            found: clip(found),
            expected: expected.into(),
        });
    }
}

/// One data line, cut into raw cells.
struct Record<'a> {
    line: usize,
    /// The record type as written, e.g. `SU02.02`.
    kind: String,
    /// The record type without its version, e.g. `SU02`.
    base: String,
    /// The version after the dot, if any.
    version: Option<u32>,
    cells: Vec<&'a str>,
}

impl Record<'_> {
    /// Cell `n` (1-based) with escapes resolved and blanks trimmed; `None` if empty.
    fn text(&self, n: usize) -> Option<String> {
        let raw = n.checked_sub(1).and_then(|i| self.cells.get(i))?;
        let text = unescape(raw).trim().to_string();
        (!text.is_empty()).then_some(text)
    }

    /// Cell `n` raw (escapes in place), or `""`.
    fn raw(&self, n: usize) -> &str {
        n.checked_sub(1)
            .and_then(|i| self.cells.get(i))
            .copied()
            .unwrap_or("")
    }

    fn error(&self, errors: &mut Errors, n: usize, found: &str, expected: impl Into<String>) {
        errors.at(self.line, n, &self.kind, found, expected);
    }

    fn required(&self, errors: &mut Errors, n: usize, name: &str) -> Option<String> {
        let value = self.text(n);
        if value.is_none() {
            self.error(errors, n, "", format!("{name} (a mandatory cell)"));
        }
        value
    }

    fn units(&self, errors: &mut Errors, n: usize, name: &str) -> Option<i64> {
        let text = self.text(n).unwrap_or_default();
        let value = whole_units(&text);
        if value.is_none() {
            self.error(
                errors,
                n,
                &text,
                format!("{name} as a whole number of units"),
            );
        }
        value
    }

    fn decimal(&self, errors: &mut Errors, n: usize, name: &str, required: bool) -> Option<String> {
        match self.text(n) {
            None if required => {
                self.error(
                    errors,
                    n,
                    "",
                    format!("{name} as a decimal number such as 12.3456"),
                );
                None
            }
            None => None,
            Some(text) if parse_decimal(&text).is_some() => Some(text),
            Some(text) => {
                self.error(
                    errors,
                    n,
                    &text,
                    format!("{name} as a decimal number such as 12.3456"),
                );
                None
            }
        }
    }

    fn boolean(&self, errors: &mut Errors, n: usize, name: &str, required: bool) -> Option<bool> {
        match self.text(n) {
            None if required => {
                self.error(errors, n, "", format!("{name} as true or false"));
                None
            }
            None => None,
            Some(text) => {
                let value = boolean(&text);
                if value.is_none() {
                    self.error(errors, n, &text, format!("{name} as true or false"));
                }
                value
            }
        }
    }

    fn count(&self, errors: &mut Errors, n: usize, name: &str, required: bool) -> Option<u64> {
        match self.text(n) {
            None if required => {
                self.error(errors, n, "", format!("{name} as a whole number"));
                None
            }
            None => None,
            Some(text) => {
                let value = count(&text);
                if value.is_none() {
                    self.error(errors, n, &text, format!("{name} as a whole number"));
                }
                value
            }
        }
    }

    fn date(&self, errors: &mut Errors, n: usize, name: &str) -> Option<DsrDate> {
        let text = self.required(errors, n, name)?;
        let value = DsrDate::parse(&text);
        if value.is_none() {
            self.error(
                errors,
                n,
                &text,
                format!("{name} as a date YYYY, YYYY-MM or YYYY-MM-DD"),
            );
        }
        value
    }
}

struct Head {
    message_version: String,
    profile: String,
    profile_version: String,
    message_id: String,
    created: String,
    file_number: u64,
    number_of_files: u64,
    sender: Option<String>,
    sender_id: Option<String>,
    recipient: Option<String>,
    recipient_id: Option<String>,
    service_description: Option<String>,
    period: Option<(DsrDate, DsrDate)>,
}

struct Foot {
    line: usize,
    kind: String,
    lines_in_file: Option<u64>,
    lines_in_report: Option<u64>,
    summaries: Option<u64>,
    blocks_in_file: Option<u64>,
    blocks_in_report: Option<u64>,
}

struct Release {
    reference: String,
    catalog_number: Option<String>,
    icpn: Option<String>,
    artist: Option<String>,
    title: Option<String>,
    head: bool,
}

struct Resource {
    reference: String,
    dsp_id: Option<String>,
    isrc: Option<String>,
    title: Option<String>,
    artist: Option<String>,
}

struct Block {
    id: String,
    releases: Vec<Release>,
    resources: Vec<Resource>,
}

struct PendingSale {
    line: usize,
    kind: String,
    block: usize,
    summary: Option<(String, usize)>,
    transaction_id: String,
    release: Option<(String, usize)>,
    resource: Option<(String, usize)>,
    /// SU03 names its resource by DspResourceId, which need not be described in the block.
    by_dsp_id: bool,
    units: i64,
    returns: i64,
    net_amount: Option<String>,
    unit_price: Option<String>,
    use_type: Option<String>,
    royalty_bearing: Option<bool>,
}

#[derive(Default)]
struct State {
    head: Option<Head>,
    foot: Option<Foot>,
    summaries: Vec<DsrSummary>,
    /// Summary record lines seen, valid or not (what FOOT counts).
    summary_records: usize,
    summary_index: HashMap<String, usize>,
    blocks: Vec<Block>,
    block_index: HashMap<String, usize>,
    current_block: Option<usize>,
    sales: Vec<PendingSale>,
}

impl State {
    /// The block of a block record (cell 2), opening a new one when the BlockId changes.
    fn block(&mut self, record: &Record<'_>, errors: &mut Errors) -> Option<usize> {
        let id = record.required(errors, 2, "BlockId")?;
        if let Some(current) = self.current_block {
            if self.blocks.get(current).is_some_and(|b| b.id == id) {
                return Some(current);
            }
        }
        if let Some(&index) = self.block_index.get(&id) {
            record.error(
                errors,
                2,
                &id,
                "the records of one block on consecutive lines (this BlockId was used by an earlier block)",
            );
            self.current_block = Some(index);
            return Some(index);
        }
        let index = self.blocks.len();
        self.blocks.push(Block {
            id: id.clone(),
            releases: Vec::new(),
            resources: Vec::new(),
        });
        self.block_index.insert(id, index);
        self.current_block = Some(index);
        Some(index)
    }

    fn head(&mut self, r: &Record<'_>, errors: &mut Errors) {
        if self.head.is_some() {
            r.error(
                errors,
                1,
                &r.kind,
                "only one HEAD record, on the first line",
            );
            return;
        }
        let profile = r.required(errors, 3, "Profile").unwrap_or_default();
        if profile.to_ascii_uppercase().ends_with("SRB") {
            r.error(
                errors,
                3,
                &profile,
                "a multi-record block variant profile such as BasicAudioProfile (the single-record block variant is not supported)",
            );
        }
        let created = r
            .required(errors, 6, "MessageCreatedDateTime")
            .unwrap_or_default();
        if !created.is_empty() && !is_datetime(&created) {
            r.error(
                errors,
                6,
                &created,
                "MessageCreatedDateTime as YYYY-MM-DDThh:mm:ss followed by Z or an offset",
            );
        }
        let file_number = r.count(errors, 7, "FileNumber", true);
        let number_of_files = r.count(errors, 8, "NumberOfFiles", true);
        if let (Some(n), Some(of)) = (file_number, number_of_files) {
            if n == 0 || n > of {
                r.error(
                    errors,
                    7,
                    &n.to_string(),
                    format!("a FileNumber from 1 to NumberOfFiles ({of})"),
                );
            }
        }
        let start = r.date(errors, 9, "UsageStartDate");
        let end = r.date(errors, 10, "UsageEndDate");
        if let (Some(s), Some(e)) = (start, end) {
            if e.last_day() < s.first_day() {
                r.error(
                    errors,
                    10,
                    &e.to_string(),
                    format!("a UsageEndDate not before the UsageStartDate {s}"),
                );
            }
        }
        self.head = Some(Head {
            message_version: r.required(errors, 2, "MessageVersion").unwrap_or_default(),
            profile,
            profile_version: r.required(errors, 4, "ProfileVersion").unwrap_or_default(),
            message_id: r.required(errors, 5, "MessageId").unwrap_or_default(),
            created,
            file_number: file_number.unwrap_or(1),
            number_of_files: number_of_files.unwrap_or(1),
            sender_id: r.required(errors, 11, "SenderPartyId"),
            sender: r.required(errors, 12, "SenderName"),
            service_description: r.text(13),
            recipient_id: r.text(14),
            recipient: r.text(15),
            period: start.zip(end),
        });
    }

    fn summary(&mut self, r: &Record<'_>, number: u32, errors: &mut Errors) {
        self.summary_records += 1;
        let Some(id) = r.required(errors, 2, "SummaryRecordId") else {
            return;
        };
        if self.summary_index.contains_key(&id) {
            r.error(
                errors,
                2,
                &id,
                "a SummaryRecordId not used by an earlier summary record",
            );
            return;
        }
        let known = (1..=5).contains(&number);
        let (commercial_model, territory) = if known {
            (
                r.required(errors, 5, "CommercialModel"),
                r.required(errors, 7, "Territory"),
            )
        } else {
            (r.text(5), r.text(7))
        };
        let currency_cell = match number {
            1..=3 => Some(11),
            4 => Some(15),
            5 => Some(18),
            _ => None,
        };
        let currency = currency_cell.and_then(|n| match r.text(n) {
            Some(c) if is_currency(&c) => Some(c),
            // The SY03 layout varies between versions: only take a currency code.
            Some(_) | None if number == 3 => None,
            Some(c) => {
                r.error(errors, n, &c, "an ISO 4217 currency code such as EUR");
                None
            }
            None if number <= 2 => {
                r.error(
                    errors,
                    n,
                    "",
                    "CurrencyOfReporting as an ISO 4217 code (a mandatory cell)",
                );
                None
            }
            None => None,
        });
        let net_revenue = match number {
            1 | 2 => r.decimal(errors, 12, "NetRevenue", true),
            4 => r.decimal(errors, 19, "NetRevenue", false),
            _ => None,
        };
        self.summary_index.insert(id.clone(), self.summaries.len());
        self.summaries.push(DsrSummary {
            record_type: r.kind.clone(),
            id,
            commercial_model,
            use_type: r.text(6),
            territory,
            service_description: r.text(8),
            currency,
            net_revenue,
            line: r.line,
        });
    }

    fn release(&mut self, r: &Record<'_>, head: bool, errors: &mut Errors) {
        let block = self.block(r, errors);
        let reference = r.required(errors, 3, "ReleaseReference");
        let (catalog_number, icpn, artist, title) = if head {
            let _ = r.required(errors, 4, "DspReleaseId");
            let icpn = r.text(7);
            if let Some(code) = icpn.as_deref().filter(|c| !is_icpn(c)) {
                r.error(errors, 7, code, "an ICPN (UPC or EAN) of 12 to 14 digits");
            }
            (r.text(6), icpn, r.text(8), r.text(10))
        } else {
            (None, None, None, None)
        };
        let (Some(block), Some(reference)) = (block, reference) else {
            return;
        };
        let Some(block) = self.blocks.get_mut(block) else {
            return;
        };
        if block.releases.iter().any(|x| x.reference == reference) {
            r.error(
                errors,
                3,
                &reference,
                "a ReleaseReference not used twice in one block",
            );
            return;
        }
        block.releases.push(Release {
            reference,
            catalog_number,
            icpn,
            artist,
            title,
            head,
        });
    }

    fn resource(&mut self, r: &Record<'_>, errors: &mut Errors) {
        let block = self.block(r, errors);
        let reference = r.required(errors, 3, "ResourceReference");
        let dsp_id = r.required(errors, 4, "DspResourceId");
        let isrcs = split_values(r.raw(5));
        for isrc in isrcs.iter().filter(|i| !is_isrc(i)) {
            r.error(
                errors,
                5,
                isrc,
                "an ISRC: 2 letters, 3 letters or digits, 7 digits",
            );
        }
        let title = r.required(errors, 6, "ResourceTitle");
        let (Some(block), Some(reference)) = (block, reference) else {
            return;
        };
        let Some(block) = self.blocks.get_mut(block) else {
            return;
        };
        if block.resources.iter().any(|x| x.reference == reference) {
            r.error(
                errors,
                3,
                &reference,
                "a ResourceReference not used twice in one block",
            );
            return;
        }
        block.resources.push(Resource {
            reference,
            dsp_id,
            isrc: isrcs.into_iter().next(),
            title,
            artist: r.text(8),
        });
    }

    fn sale(&mut self, r: &Record<'_>, number: u32, errors: &mut Errors) {
        let block = self.block(r, errors);
        let new_su03 = r.version.is_some_and(|v| v >= 3);
        let (summary_cell, transaction_cell) = if number == 3 && !new_su03 {
            (4, 3)
        } else {
            (3, 4)
        };
        let summary = if number == 3 && !new_su03 {
            r.text(summary_cell)
        } else {
            r.required(errors, summary_cell, "SummaryRecordId")
        };
        let transaction_id = r.required(errors, transaction_cell, "SalesTransactionId");
        let (release, resource, by_dsp_id) = if number == 3 {
            (
                None,
                r.required(errors, 5, "DspResourceId").map(|x| (x, 5)),
                true,
            )
        } else {
            let release = r.text(5).map(|x| (x, 5));
            let resource = r.text(6).map(|x| (x, 6));
            if release.is_none() && resource.is_none() {
                r.error(
                    errors,
                    5,
                    "",
                    "a TransactedRelease (cell 5) or TransactedResource (cell 6) reference",
                );
            }
            (release, resource, false)
        };
        let mut returns = 0;
        let (units, net_amount, unit_price, use_type, royalty_bearing) = match number {
            1 => {
                let royalty = r.boolean(errors, 7, "IsRoyaltyBearing", true);
                let _ = r.boolean(errors, 8, "SalesUpgrade", true);
                let usages = r.units(errors, 9, "Usages");
                let returned = r.units(errors, 10, "Returns");
                if let Some(n) = returned.filter(|n| *n < 0) {
                    r.error(
                        errors,
                        10,
                        &n.to_string(),
                        "Returns as a whole number of units, not negative",
                    );
                }
                returns = returned.unwrap_or(0);
                let net = usages.and_then(|u| u.checked_sub(returns));
                if usages.is_some() && net.is_none() {
                    r.error(
                        errors,
                        10,
                        &returns.to_string(),
                        "Returns that can be subtracted from Usages",
                    );
                }
                (
                    net,
                    None,
                    r.decimal(errors, 11, "PriceConsumerPaidExcSalesTax", false),
                    r.text(13),
                    royalty,
                )
            }
            2 => {
                let royalty = r.boolean(errors, 7, "IsRoyaltyBearing", false);
                let streams = r.units(errors, 8, "NumberOfStreams");
                (
                    streams,
                    None,
                    r.decimal(errors, 9, "PriceConsumerPaidExcSalesTax", false),
                    r.text(11),
                    royalty,
                )
            }
            _ => {
                let usages = r.units(errors, 6, "Usages");
                (
                    usages,
                    r.decimal(errors, 7, "NetRevenue", true),
                    None,
                    None,
                    None,
                )
            }
        };
        let (Some(block), Some(transaction_id)) = (block, transaction_id) else {
            return;
        };
        self.sales.push(PendingSale {
            line: r.line,
            kind: r.kind.clone(),
            block,
            summary: summary.map(|s| (s, summary_cell)),
            transaction_id,
            release,
            resource,
            by_dsp_id,
            units: units.unwrap_or(0),
            returns,
            net_amount,
            unit_price,
            use_type,
            royalty_bearing,
        });
    }

    fn foot(&mut self, r: &Record<'_>, errors: &mut Errors) {
        self.foot = Some(Foot {
            line: r.line,
            kind: r.kind.clone(),
            lines_in_file: r.count(errors, 2, "NumberOfLinesInFile", true),
            lines_in_report: r.count(errors, 3, "NumberOfLinesInReport", false),
            summaries: r.count(errors, 4, "NumberOfSummaryRecords", true),
            blocks_in_file: r.count(errors, 5, "NumberOfBlocksInFile", true),
            blocks_in_report: r.count(errors, 6, "NumberOfBlocksInReport", false),
        });
    }

    fn dispatch(&mut self, r: &Record<'_>, errors: &mut Errors) {
        let base = r.base.as_str();
        let number = base
            .get(2..)
            .filter(|n| n.len() == 2)
            .and_then(|n| n.parse::<u32>().ok());
        match (base.get(..2), number) {
            _ if base == "HEAD" => self.head(r, errors),
            _ if base == "FOOT" => self.foot(r, errors),
            (Some("SR"), _) => r.error(
                errors,
                1,
                &r.kind,
                "a record of the multi-record block variant (single-record block records such as SR01, SR02 and SRFO are not supported)",
            ),
            (Some("SY"), Some(n)) => self.summary(r, n, errors),
            _ if base == "RE01" => self.release(r, true, errors),
            _ if base == "RE02" => self.release(r, false, errors),
            _ if base == "AS01" || base == "AS02" => self.resource(r, errors),
            (Some("SU"), Some(n @ 1..=3)) => self.sale(r, n, errors),
            _ if matches!(base, "MW01" | "RU01" | "RU02" | "LI01") => {
                let _ = self.block(r, errors);
            }
            // Unknown record types are ignored (DSR Part 1, unknown records).
            _ => {}
        }
    }

    fn check_foot(&self, lines: usize, errors: &mut Errors) {
        let Some(foot) = &self.foot else {
            return;
        };
        let single_file = self.head.as_ref().is_none_or(|h| h.number_of_files == 1);
        let mut check = |cell: usize, found: Option<u64>, actual: usize, what: &str| {
            if let Some(found) = found {
                if u64::try_from(actual).ok() != Some(found) {
                    errors.at(
                        foot.line,
                        cell,
                        &foot.kind,
                        &found.to_string(),
                        format!("{actual}, the number of {what}"),
                    );
                }
            }
        };
        check(
            2,
            foot.lines_in_file,
            lines,
            "lines in this file up to and including FOOT",
        );
        check(
            5,
            foot.blocks_in_file,
            self.blocks.len(),
            "blocks in this file",
        );
        if single_file {
            check(
                3,
                foot.lines_in_report,
                lines,
                "lines in this single-file report",
            );
            check(
                4,
                foot.summaries,
                self.summary_records,
                "summary records (SYnn)",
            );
            check(
                6,
                foot.blocks_in_report,
                self.blocks.len(),
                "blocks in this single-file report",
            );
        }
    }

    fn resolve(&self, errors: &mut Errors) -> Vec<DsrSale> {
        let mut sales = Vec::with_capacity(self.sales.len());
        for p in &self.sales {
            let Some(block) = self.blocks.get(p.block) else {
                continue;
            };
            let summary = p.summary.as_ref().and_then(|(id, cell)| {
                let found = self
                    .summary_index
                    .get(id)
                    .and_then(|&i| self.summaries.get(i));
                if found.is_none() {
                    errors.at(
                        p.line,
                        *cell,
                        &p.kind,
                        id,
                        "the SummaryRecordId of a summary record (SYnn) in this file",
                    );
                }
                found
            });
            let release = p.release.as_ref().and_then(|(reference, cell)| {
                let found = block.releases.iter().find(|x| &x.reference == reference);
                if found.is_none() {
                    errors.at(
                        p.line,
                        *cell,
                        &p.kind,
                        reference,
                        format!(
                            "the ReleaseReference of an RE01 or RE02 record in block {}",
                            block.id
                        ),
                    );
                }
                found
            });
            let resource = p.resource.as_ref().and_then(|(reference, cell)| {
                let found = if p.by_dsp_id {
                    block
                        .resources
                        .iter()
                        .find(|x| x.dsp_id.as_deref() == Some(reference.as_str()))
                } else {
                    block.resources.iter().find(|x| &x.reference == reference)
                };
                if found.is_none() && !p.by_dsp_id {
                    errors.at(
                        p.line,
                        *cell,
                        &p.kind,
                        reference,
                        format!(
                            "the ResourceReference of an AS01 or AS02 record in block {}",
                            block.id
                        ),
                    );
                }
                found
            });
            let head = block.releases.iter().find(|x| x.head);
            let context = release.or(head);
            sales.push(DsrSale {
                release_ref: block.id.clone(),
                summary_ref: p.summary.as_ref().map(|(id, _)| id.clone()),
                transaction_id: p.transaction_id.clone(),
                record_type: p.kind.clone(),
                release_reference: p.release.as_ref().map(|(x, _)| x.clone()),
                resource_reference: p.resource.as_ref().map(|(x, _)| x.clone()),
                icpn: context.and_then(|x| x.icpn.clone()),
                catalog_number: context.and_then(|x| x.catalog_number.clone()),
                isrc: resource.and_then(|x| x.isrc.clone()),
                title: resource
                    .and_then(|x| x.title.clone())
                    .or_else(|| context.and_then(|x| x.title.clone())),
                artist: resource
                    .and_then(|x| x.artist.clone())
                    .or_else(|| context.and_then(|x| x.artist.clone())),
                territory: summary.and_then(|s| s.territory.clone()),
                use_type: p
                    .use_type
                    .clone()
                    .or_else(|| summary.and_then(|s| s.use_type.clone())),
                commercial_model: summary.and_then(|s| s.commercial_model.clone()),
                units: p.units,
                returns: p.returns,
                net_amount: p.net_amount.clone().unwrap_or_else(|| "0".to_string()),
                amount_source: if p.net_amount.is_some() {
                    AmountSource::Line
                } else {
                    AmountSource::Summary
                },
                unit_price: p.unit_price.clone(),
                currency: summary.and_then(|s| s.currency.clone()),
                royalty_bearing: p.royalty_bearing,
                line: p.line,
            });
        }
        sales
    }
}

/// Where an invalid UTF-8 line goes wrong: (cell number, offending byte).
fn utf8_problem(raw: &[u8], valid_up_to: usize) -> (usize, u8) {
    let before = raw.get(..valid_up_to).unwrap_or(&[]);
    let cell = before.iter().filter(|&&b| b == b'\t').count() + 1;
    (cell, raw.get(valid_up_to).copied().unwrap_or(0))
}

pub(crate) fn read(bytes: &[u8]) -> Result<DsrReport, Vec<DsrError>> {
    let bytes = bytes.strip_prefix(BOM).unwrap_or(bytes);
    let mut lines: Vec<&[u8]> = bytes.split(|&b| b == b'\n').collect();
    if lines.last().is_some_and(|l| l.is_empty()) {
        lines.pop();
    }
    let mut errors = Errors::default();
    let mut state = State::default();

    for (index, raw) in lines.iter().enumerate() {
        let line = index + 1;
        let raw = raw.strip_suffix(b"\r").unwrap_or(raw);
        // A line that is not UTF-8 is reported, then read with U+FFFD in place of the
        // bad bytes so that it still counts (as a line, a block, a summary).
        let decoded = String::from_utf8_lossy(raw);
        if let Err(e) = std::str::from_utf8(raw) {
            let (cell, byte) = utf8_problem(raw, e.valid_up_to());
            errors.at(line, cell, "", &format!("byte 0x{byte:02X}"), "UTF-8 text");
        }
        let text: &str = &decoded;
        let cells = split_cells(text);
        let kind = cells
            .first()
            .map(|c| unescape(c).trim().to_string())
            .unwrap_or_default();
        if line == 1 && kind != "HEAD" && !kind.starts_with("HEAD.") {
            errors.at(line, 1, "", &kind, "a HEAD record on the first line");
        }
        if text.trim().is_empty() || text.starts_with('#') {
            continue;
        }
        if let Some(foot) = &state.foot {
            errors.at(
                line,
                1,
                &kind,
                &kind,
                format!("no record after the FOOT record on line {}", foot.line),
            );
            continue;
        }
        let (base, version) = match kind.split_once('.') {
            Some((base, version)) => (base.to_string(), version.parse::<u32>().ok()),
            None => (kind.clone(), None),
        };
        let record = Record {
            line,
            kind,
            base,
            version,
            cells,
        };
        state.dispatch(&record, &mut errors);
    }

    let last_line = lines.len();
    if lines.is_empty() {
        errors.at(1, 1, "", "", "a HEAD record on the first line");
    }
    if state.foot.is_none() && !lines.is_empty() {
        errors.at(
            last_line,
            1,
            "",
            "",
            "a FOOT record as the last record (the file ends on this line)",
        );
    }
    let foot_line = state.foot.as_ref().map_or(last_line, |f| f.line);
    state.check_foot(foot_line, &mut errors);
    let sales = state.resolve(&mut errors);

    if !errors.list.is_empty() {
        return Err(errors.list);
    }
    let Some(head) = state.head else {
        return Err(vec![DsrError {
            line: 1,
            column: 1,
            record: String::new(),
            found: String::new(),
            expected: "a HEAD record on the first line".to_string(),
        }]);
    };
    let Some((period_start, period_end)) = head.period else {
        return Err(vec![DsrError {
            line: 1,
            column: 9,
            record: "HEAD".to_string(),
            found: String::new(),
            expected: "UsageStartDate and UsageEndDate".to_string(),
        }]);
    };
    let mut currencies = state.summaries.iter().filter_map(|s| s.currency.as_deref());
    let currency = currencies
        .next()
        .filter(|first| currencies.all(|c| c == *first))
        .map(str::to_string);
    Ok(DsrReport {
        message_version: head.message_version,
        profile: head.profile,
        profile_version: head.profile_version,
        message_id: head.message_id,
        created: head.created,
        file_number: head.file_number,
        number_of_files: head.number_of_files,
        sender: head.sender,
        sender_id: head.sender_id,
        recipient: head.recipient,
        recipient_id: head.recipient_id,
        service_description: head.service_description,
        period_start,
        period_end,
        currency,
        summaries: state.summaries,
        sales,
    })
}
