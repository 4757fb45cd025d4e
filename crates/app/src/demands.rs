//! The dated log of demands to return or transfer stock, and the distributors'
//! answers: what a label needs to show a liquidator or a court that it asked for its
//! goods, when, how, and what it was told.
//!
//! Dates: a demand is effective on the day it was made and known on the label's today
//! (never before it was made), so `--as-of` replays exactly when the label had it on
//! record.

use crate::{AppError, Exit};
use backstock_domain::{Date, PartyId, Sku};
use backstock_ledger::facts::{Demand, DemandKind, DemandOutcome, DemandResponse};
use backstock_ledger::EntryKind;
use backstock_ledger::{Entry, Event, Fact};
use backstock_records::Records;
use backstock_store::Store;

/// A demand to record.
#[derive(Debug, Clone)]
pub struct AddDemand {
    pub distributor: PartyId,
    pub kind: DemandKind,
    /// The new distributor, for a transfer.
    pub transfer_to: Option<PartyId>,
    /// `None`: all the label's stock it holds.
    pub sku: Option<Sku>,
    pub units: Option<u64>,
    pub made_on: Date,
    /// How it was sent (email, letter, certified mail…).
    pub via: String,
    /// The demand's id; by default `D-{made_on}-{n}`.
    pub id: Option<String>,
}

/// The distributor's answer to record.
#[derive(Debug, Clone)]
pub struct Respond {
    pub demand_id: String,
    pub answered_on: Date,
    pub outcome: DemandOutcome,
    pub note: String,
}

/// What was recorded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Recorded {
    pub demand_id: String,
    pub distributor: PartyId,
    pub entry_id: String,
}

/// A demand as the log shows it, with its latest answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DemandRow {
    pub demand: Demand,
    pub answer: Option<DemandResponse>,
}

/// `return` or `transfer`.
pub fn parse_kind(s: &str) -> Result<DemandKind, AppError> {
    match s.trim() {
        "return" => Ok(DemandKind::Return),
        "transfer" => Ok(DemandKind::Transfer),
        other => Err(AppError::new(
            Exit::Input,
            format!("--kind: expected return or transfer, found {other:?}"),
        )),
    }
}

/// `complied`, `partial` or `refused`.
pub fn parse_outcome(s: &str) -> Result<DemandOutcome, AppError> {
    match s.trim() {
        "complied" => Ok(DemandOutcome::Complied),
        "partial" => Ok(DemandOutcome::Partial),
        "refused" => Ok(DemandOutcome::Refused),
        other => Err(AppError::new(
            Exit::Input,
            format!("--outcome: expected complied, partial or refused, found {other:?}"),
        )),
    }
}

/// Records a demand. Refused when the distributor has no agreement, a transfer names
/// no new distributor (or the same one), or the id is taken by another demand.
#[tracing::instrument(name = "add", skip_all, fields(distributor = %req.distributor))]
pub async fn add(store: &Store, req: AddDemand, user: &str) -> Result<Recorded, AppError> {
    let today = crate::risk::today(store).await?;
    let entries =
        crate::standing_entries(store, &[EntryKind::Agreement, EntryKind::Demand]).await?;
    let records = Records::new(&entries, Date::LATEST);
    let d = &req.distributor;
    crate::require_agreement(&records, d)?;
    crate::not_after_today("--on", req.made_on, today)?;
    match (&req.kind, &req.transfer_to) {
        (DemandKind::Transfer, None) => {
            return Err(AppError::new(
                Exit::Input,
                "a transfer demand needs --to DISTRIBUTOR",
            ))
        }
        (DemandKind::Transfer, Some(to)) if to == d => {
            return Err(AppError::new(
                Exit::Input,
                format!(
                "a transfer demand moves the stock away from {d}: --to must be another distributor"
            ),
            ))
        }
        (DemandKind::Transfer, Some(to)) if !records.agreements.contains_key(to) => {
            return Err(AppError::new(
                Exit::Input,
                format!("--to {to}: no distributor {to} is on record (a transfer goes to a distributor with an agreement)"),
            ))
        }
        _ => {}
    }
    if req.units == Some(0) {
        return Err(AppError::new(Exit::Input, "--units must be at least 1"));
    }
    let id = match req.id {
        Some(id) => id.trim().to_string(),
        None => format!("D-{}-{}", req.made_on, records.demands.len() + 1),
    };
    if id.is_empty() {
        return Err(AppError::new(Exit::Input, "the demand id is empty"));
    }
    let e = crate::command_entry(
        format!("demand:{id}"),
        req.made_on,
        today.max(req.made_on),
        user,
        format!("demand add --distributor {d} --kind {:?}", req.kind).to_lowercase(),
        Event::Fact(Fact::Demand(Demand {
            demand_id: id.clone(),
            distributor: d.clone(),
            kind: req.kind,
            transfer_to: req.transfer_to,
            sku: req.sku,
            units: req.units,
            made_on: req.made_on,
            via: req.via,
        })),
    )?;
    let mut e = [e];
    crate::rekey_reversed(store, &mut e).await?;
    let entry_id = e[0].id.to_string();
    crate::books::record(store, &e, None).await?;
    Ok(Recorded {
        demand_id: id,
        distributor: d.clone(),
        entry_id,
    })
}

/// Records the distributor's answer to a demand on record (an answer before the
/// demand was made is refused).
#[tracing::instrument(name = "add_response", skip_all, fields(demand = %req.demand_id))]
pub async fn add_response(store: &Store, req: Respond, user: &str) -> Result<Recorded, AppError> {
    let today = crate::risk::today(store).await?;
    let entries = crate::standing_entries(store, &[EntryKind::Demand]).await?;
    let records = Records::new(&entries, Date::LATEST);
    let Some(demand) = records
        .demands
        .iter()
        .find(|d| d.demand_id == req.demand_id)
    else {
        return Err(AppError::new(
            Exit::Input,
            format!("no demand {:?}: give the id the demand log shows (on the distributor's page, or `backstock demand list`)", req.demand_id),
        ));
    };
    crate::not_after_today("--on", req.answered_on, today)?;
    if req.answered_on < demand.made_on {
        return Err(AppError::new(
            Exit::Input,
            format!(
                "--on {} is before demand {} was made ({})",
                req.answered_on, req.demand_id, demand.made_on
            ),
        ));
    }
    let distributor = demand.distributor.clone();
    let e = crate::command_entry(
        format!("demand-response:{}", req.demand_id),
        req.answered_on,
        today.max(req.answered_on),
        user,
        format!("demand respond {}", req.demand_id),
        Event::Fact(Fact::DemandResponse(DemandResponse {
            demand_id: req.demand_id.clone(),
            answered_on: req.answered_on,
            outcome: req.outcome,
            note: req.note,
        })),
    )?;
    let mut e = [e];
    crate::rekey_reversed(store, &mut e).await?;
    let entry_id = e[0].id.to_string();
    crate::books::record(store, &e, None).await?;
    Ok(Recorded {
        demand_id: req.demand_id,
        distributor,
        entry_id,
    })
}

/// The log: every demand standing on `as_of` (all, when `None`), oldest first, each
/// with its latest answer.
pub async fn list(store: &Store, as_of: Option<Date>) -> Result<Vec<DemandRow>, AppError> {
    let entries: Vec<Entry> = store
        .entries(
            &[
                EntryKind::Demand,
                EntryKind::DemandResponse,
                EntryKind::Correction,
            ],
            as_of,
        )
        .await?
        .into_iter()
        .map(|(_, e)| e)
        .collect();
    let records = Records::new(&entries, as_of.unwrap_or(Date::LATEST));
    Ok(records
        .demands
        .iter()
        .map(|d| DemandRow {
            demand: d.item.clone(),
            answer: records
                .responses
                .iter()
                .filter(|r| r.demand_id == d.demand_id)
                .max_by_key(|r| r.answered_on)
                .map(|r| r.item.clone()),
        })
        .collect())
}
