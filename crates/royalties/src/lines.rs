//! Earned royalties from statement lines (issue 17.2): rates by territory or service.
//!
//! The run ([`crate::compute_journal`]) reads the ledger's statements, aggregated per
//! statement × SKU × kind (× channel): one *ledger line* each, rounded once. The lines
//! behind a ledger line (DSR lines by ISRC × territory × service, written as Parquet by
//! `backstock-lines`) may fall under different rules of a contract when it has rates
//! by territory or service. Here the lines of each ledger line arrive summed per
//! territory × service ([`Cell`]); for each contract covering the SKU, the cells are
//! gathered by the rule that governs them (the most specific, as in the run) and each
//! such group is rounded once — the same function as the run (`line_royalty`: base,
//! rate, HalfEven), then split between the payees as the run splits
//! (`Money::allocate`, each part toward zero, the remainder to the label).
//!
//! A contract without territory or service rules puts every cell of a ledger line
//! under one rule: one group, the ledger line's own totals, so the earned royalties
//! are the run's to the minor unit (`crates/lines/tests/royalties.rs` checks every
//! payee).

use crate::compute::{line_royalty, money, split_into, Journal};
use crate::{Contract, Period, RoyaltyError};
use backstock_domain::{Currency, Date, Money, PartyId, Rate, Sku};
use backstock_ledger::facts::CatalogItem;
use backstock_ledger::{Channel, LineKind};
use serde::Serialize;
use std::collections::{BTreeMap, BTreeSet, HashMap};

/// A ledger line of a statement the period accounts (see [`Journal::statements_in`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LedgerLine<'a> {
    pub sku: Option<&'a Sku>,
    pub kind: LineKind,
    pub channel: Channel,
    pub units: i64,
    pub amount_minor: i64,
}

/// A statement the period accounts, as the run takes it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PeriodStatement<'a> {
    pub distributor: &'a PartyId,
    pub statement_id: &'a str,
    pub period_end: Date,
    pub currency: Currency,
    pub lines: Vec<LedgerLine<'a>>,
}

impl Journal {
    /// The statements the run of `period` accounts (those over and known within it,
    /// as [`crate::compute_journal`] decides), in the order held.
    pub fn statements_in(&self, period: &Period) -> Vec<PeriodStatement<'_>> {
        self.statements
            .iter()
            .filter(|st| period.contains(st.available))
            .map(|st| PeriodStatement {
                distributor: &st.distributor,
                statement_id: &st.statement_id,
                period_end: st.period_end,
                currency: st.currency,
                lines: st
                    .lines
                    .iter()
                    .map(|l| LedgerLine {
                        sku: l.sku().map(|i| &self.skus[i]),
                        kind: l.kind,
                        channel: crate::compute::channel_of(
                            l.channel,
                            l.sku().and_then(|i| self.catalog.get(&self.skus[i])),
                        ),
                        units: l.units,
                        amount_minor: l.amount_minor,
                    })
                    .collect(),
            })
            .collect()
    }

    /// The catalog item of a SKU known by the period's end.
    pub fn catalog_item(&self, sku: &Sku) -> Option<&CatalogItem> {
        self.catalog.get(sku)
    }
}

/// The statement lines of one ledger line in one territory × service: how many, and
/// their units and amounts (as the ledger posts them: positive, signed by the kind).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cell {
    pub territory: Option<String>,
    pub service: Option<String>,
    pub lines: u64,
    pub units: i128,
    pub amount_minor: i128,
}

/// The statement lines of one ledger line of a period's statement, by territory ×
/// service. `statement` indexes [`Journal::statements_in`]'s answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LineCells {
    pub statement: usize,
    pub sku: Sku,
    pub kind: LineKind,
    pub channel: Channel,
    pub cells: Vec<Cell>,
}

/// One payee's earned royalties under one contract, in one currency, from the lines.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct EarnedFromLines {
    pub contract_id: String,
    pub payee_id: PartyId,
    pub share: Rate,
    pub currency: Currency,
    /// Statement lines a rule of the contract governed.
    pub lines: u64,
    /// Their signed amounts (sales − returns − fees − chargebacks + adjustments).
    pub receipts: Money,
    /// The payee's share of the royalties on them.
    pub royalty_earned: Money,
}

/// What [`earned_from_lines`] gives: one row per contract × payee × currency (every
/// payee of every contract has at least one, as in the run), and what it noticed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct LinesRoyalties {
    pub rows: Vec<EarnedFromLines>,
    pub warnings: Vec<String>,
}

#[derive(Default, Clone, Copy)]
struct RowAcc {
    lines: u64,
    receipts: i128,
    earned: i128,
}

/// Earned royalties of `period` per contract × payee × currency, from the statement
/// lines of the period's statements (`journal.statements_in(period)`), summed per
/// ledger line × territory × service. See the module docs for the rounding.
pub fn earned_from_lines(
    journal: &Journal,
    contracts: &[Contract],
    period: &Period,
    lines: &[LineCells],
) -> Result<LinesRoyalties, RoyaltyError> {
    let statements = journal.statements_in(period);
    let mut by_id: BTreeMap<&str, &Contract> = BTreeMap::new();
    for c in contracts {
        if by_id.insert(c.id(), c).is_some() {
            return Err(RoyaltyError::Duplicate {
                what: "contract".into(),
                id: c.id().to_string(),
            });
        }
    }
    let by_index: Vec<&Contract> = by_id.values().copied().collect();
    let shares_of: Vec<Vec<Rate>> = by_index.iter().map(|c| c.shares()).collect();
    let mut covering: HashMap<&Sku, Vec<usize>> = HashMap::new();
    for (ci, c) in by_index.iter().enumerate() {
        for sku in c.skus() {
            covering.entry(sku).or_default().push(ci);
        }
    }
    let mut acc: BTreeMap<(usize, usize, Currency), RowAcc> = BTreeMap::new();
    let mut warnings = Vec::new();
    let mut no_rule = BTreeSet::new();
    let mut parts = Vec::new();
    for lc in lines {
        if matches!(
            lc.kind,
            LineKind::ReserveWithheld | LineKind::ReserveReleased
        ) {
            continue;
        }
        let st = statements.get(lc.statement).ok_or_else(|| {
            RoyaltyError::invalid(
                "statement lines",
                lc.statement.to_string(),
                "the index of a statement of the period",
            )
        })?;
        let cur = st.currency;
        let item = journal.catalog_item(&lc.sku);
        let format = item.map(|i| i.format.as_str());
        let sign = i128::from(lc.kind.net_sign());
        for &ci in covering.get(&lc.sku).into_iter().flatten() {
            let c = by_index[ci];
            // Cells by the rule governing them: (lines, units, signed amount).
            let mut groups: BTreeMap<usize, (u64, i128, i128)> = BTreeMap::new();
            for cell in &lc.cells {
                let Some(ri) = c.rule_index_for_line(
                    lc.channel,
                    format,
                    cell.territory.as_deref(),
                    cell.service.as_deref(),
                ) else {
                    if no_rule.insert((
                        c.id(),
                        lc.sku.clone(),
                        lc.channel,
                        cell.territory.clone(),
                        cell.service.clone(),
                    )) {
                        warnings.push(format!(
                            "contract {}: no rate rule for {} ({:?}, format {}, territory {}, service {}): no royalty",
                            c.id(),
                            lc.sku,
                            lc.channel,
                            format.unwrap_or("unknown"),
                            cell.territory.as_deref().unwrap_or("none"),
                            cell.service.as_deref().unwrap_or("none"),
                        ));
                    }
                    continue;
                };
                let g = groups.entry(ri).or_default();
                g.0 += cell.lines;
                g.1 =
                    g.1.checked_add(cell.units)
                        .ok_or_else(|| RoyaltyError::overflow("units of statement lines"))?;
                g.2 = cell
                    .amount_minor
                    .checked_mul(sign)
                    .and_then(|v| g.2.checked_add(v))
                    .ok_or_else(|| RoyaltyError::overflow("amounts of statement lines"))?;
            }
            for (ri, (n, units, signed)) in groups {
                let royalty = line_royalty(
                    &c.rules()[ri],
                    lc.kind,
                    units,
                    signed,
                    item,
                    &lc.sku,
                    cur,
                    st.statement_id,
                )?;
                split_into(royalty, cur, &shares_of[ci], &mut parts)?;
                for (pi, part) in parts.iter().enumerate() {
                    let a = acc.entry((ci, pi, cur)).or_default();
                    a.lines += n;
                    a.receipts += signed;
                    a.earned += part;
                }
            }
        }
    }
    // Every payee of every contract has a row, as every payee gets a statement.
    for (ci, c) in by_index.iter().enumerate() {
        for pi in 0..c.payees().len() {
            if !acc.keys().any(|(a, b, _)| *a == ci && *b == pi) {
                acc.insert((ci, pi, c.min_payout().currency()), RowAcc::default());
            }
        }
    }
    let mut rows = Vec::with_capacity(acc.len());
    for ((ci, pi, cur), a) in acc {
        let c = by_index[ci];
        let (payee, share) = c.payees()[pi].clone();
        rows.push(EarnedFromLines {
            contract_id: c.id().to_string(),
            payee_id: payee,
            share,
            currency: cur,
            lines: a.lines,
            receipts: money(a.receipts, cur, "receipts")?,
            royalty_earned: money(a.earned, cur, "royalty")?,
        });
    }
    rows.sort_by(|a, b| {
        (a.payee_id.as_str(), a.contract_id.as_str(), a.currency).cmp(&(
            b.payee_id.as_str(),
            b.contract_id.as_str(),
            b.currency,
        ))
    });
    Ok(LinesRoyalties { rows, warnings })
}
