//! The paperwork that decides whether a label keeps its goods when a distributor
//! fails: receipt confirmations (delivery records tying units to a date), UCC-1
//! financing statements and their continuations, and PMSI notices to the
//! distributor's earlier secured lenders (UCC 9-324(b)).
//!
//! Each is a fact in the hash chain, effective on its own date and known on the
//! label's today (never before the date it states).

use crate::{AppError, Exit};
use backstock_domain::{Date, PartyId};
use backstock_ledger::facts::{PmsiNotice, ReceiptConfirmed, Ucc1Filing};
use backstock_ledger::{EntryKind, Event, Fact};
use backstock_records::Records;
use backstock_store::Store;

/// A UCC-1 stays effective this many months (9-515(a)).
pub const UCC_LAPSE_MONTHS: i32 = 60;

/// A distributor's receipt of a shipment confirmed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReceiptRecorded {
    pub shipment_id: String,
    pub distributor: PartyId,
    /// SKU lines confirmed (a shipment is one entry per SKU).
    pub lines: usize,
    pub on: Date,
}

/// Records that the distributor confirmed receiving every SKU of `shipment_id` as
/// shipped, on `on`. Refused for an unknown (or corrected) shipment, one that went to
/// the label itself, or a date before it was shipped.
#[tracing::instrument(name = "confirm_receipt", skip_all, fields(shipment = %shipment_id))]
pub async fn confirm_receipt(
    store: &Store,
    shipment_id: &str,
    on: Date,
    user: &str,
) -> Result<ReceiptRecorded, AppError> {
    let today = crate::risk::today(store).await?;
    crate::not_after_today("--on", on, today)?;
    let entries = crate::standing_entries(store, &[EntryKind::Shipment]).await?;
    let records = Records::new(&entries, Date::LATEST);
    let lines: Vec<_> = records
        .shipments
        .iter()
        .filter(|s| s.shipment_id == shipment_id)
        .collect();
    let Some(first) = lines.first() else {
        return Err(AppError::new(
            Exit::Input,
            format!("no shipment {shipment_id:?} (see backstock journal --kind shipment)"),
        ));
    };
    if first.to.is_label() {
        return Err(AppError::new(
            Exit::Input,
            format!("{shipment_id} came back to the label: there is no distributor to confirm it"),
        ));
    }
    if on < first.date {
        return Err(AppError::new(
            Exit::Input,
            format!(
                "--on {on} is before {shipment_id} was shipped ({})",
                first.date
            ),
        ));
    }
    let mut batch = Vec::with_capacity(lines.len());
    for s in &lines {
        batch.push(crate::command_entry(
            format!("receipt:{}:{}", s.shipment_id, s.sku),
            on,
            today.max(on),
            user,
            format!("confirm-receipt {shipment_id}"),
            Event::Fact(Fact::ReceiptConfirmed(ReceiptConfirmed {
                shipment_id: s.shipment_id.to_string(),
                distributor: s.to.clone(),
                sku: s.sku.clone(),
                units: s.units,
            })),
        )?);
    }
    crate::rekey_reversed(store, &mut batch).await?;
    crate::books::record(store, &batch, None).await?;
    Ok(ReceiptRecorded {
        shipment_id: shipment_id.to_string(),
        distributor: first.to.clone(),
        lines: batch.len(),
        on,
    })
}

/// A UCC-1 (or continuation) to record.
#[derive(Debug, Clone)]
pub struct FileUcc1 {
    pub distributor: PartyId,
    pub file_number: String,
    /// The filing office's state (the distributor's state of organization, 9-307).
    pub state: String,
    pub filed_on: Date,
    /// The file number of the filing this continues (9-515(d)), if it is one.
    pub continues: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Ucc1Recorded {
    pub distributor: PartyId,
    pub file_number: String,
    pub filed_on: Date,
    /// When it (its chain, for a continuation) lapses unless continued.
    pub lapses_on: Date,
    /// For a continuation that extends nothing (filed outside its window): why.
    pub ineffective: Option<String>,
}

impl Ucc1Recorded {
    /// What was recorded, in one sentence for the label, dates written by `date` (the
    /// CLI's ISO dates, the web's locale): a continuation that continues nothing says
    /// why and that the filing still lapses.
    pub fn said(&self, date: impl Fn(Date) -> String) -> String {
        match &self.ineffective {
            Some(why) => format!(
                "Recorded UCC-1 {} against {} filed on {}: it does not continue the filing ({why}); the filing still lapses on {}.",
                self.file_number,
                self.distributor,
                date(self.filed_on),
                date(self.lapses_on)
            ),
            None => format!(
                "Recorded UCC-1 {} against {} filed on {}; it lapses on {} unless continued.",
                self.file_number,
                self.distributor,
                date(self.filed_on),
                date(self.lapses_on)
            ),
        }
    }
}

/// Records a UCC-1 filing. Refused without an agreement with the distributor, with an
/// empty file number or state, or for a continuation of a filing not on record.
#[tracing::instrument(name = "file_ucc1", skip_all, fields(distributor = %req.distributor))]
pub async fn file_ucc1(store: &Store, req: FileUcc1, user: &str) -> Result<Ucc1Recorded, AppError> {
    let today = crate::risk::today(store).await?;
    let entries =
        crate::standing_entries(store, &[EntryKind::Agreement, EntryKind::Ucc1Filing]).await?;
    let records = Records::new(&entries, Date::LATEST);
    let d = &req.distributor;
    crate::require_agreement(&records, d)?;
    crate::not_after_today("--filed-on", req.filed_on, today)?;
    let number = req.file_number.trim().to_string();
    let state = req.state.trim().to_string();
    if number.is_empty() || state.is_empty() {
        return Err(AppError::new(
            Exit::Input,
            "a UCC-1 needs its file number and the state it was filed in",
        ));
    }
    if let Some(prior) = &req.continues {
        if !records
            .filings
            .iter()
            .any(|f| &f.distributor == d && &f.file_number == prior)
        {
            return Err(AppError::new(
                Exit::Input,
                format!("--continues {prior}: no UCC-1 {prior} against {d} is on record"),
            ));
        }
    }
    let e = crate::command_entry(
        format!("ucc1:{d}:{number}"),
        req.filed_on,
        today.max(req.filed_on),
        user,
        format!("legal ucc1 --distributor {d} --file-number {number}"),
        Event::Fact(Fact::Ucc1Filing(Ucc1Filing {
            distributor: d.clone(),
            file_number: number.clone(),
            state,
            filed_on: req.filed_on,
            continues: req.continues,
        })),
    )?;
    let mut e = [e];
    crate::rekey_reversed(store, &mut e).await?;
    crate::books::record(store, &e, None).await?;
    let (lapses_on, ineffective) = ucc1_outcome(store, d, &number, req.filed_on).await?;
    Ok(Ucc1Recorded {
        distributor: d.clone(),
        file_number: number,
        filed_on: req.filed_on,
        lapses_on,
        ineffective,
    })
}

/// When filing `number` against `d` (filed on `filed_on`) lapses, as `legal` computes
/// it — a continuation extends its chain's lapse — and, for a continuation that
/// extends nothing, why.
pub(crate) async fn ucc1_outcome(
    store: &Store,
    d: &PartyId,
    number: &str,
    filed_on: Date,
) -> Result<(Date, Option<String>), AppError> {
    let entries =
        crate::standing_entries(store, &[EntryKind::Agreement, EntryKind::Ucc1Filing]).await?;
    let th = crate::risk::thresholds(store).await?;
    let snap = backstock_risk::Snapshot::from_entries(Date::LATEST, entries);
    Ok(backstock_risk::legal::filing_outcome(&snap, &th, d, number)
        .unwrap_or((filed_on.add_months(UCC_LAPSE_MONTHS), None)))
}

/// A PMSI notice sent to a secured party of the distributor.
#[derive(Debug, Clone)]
pub struct SendNotice {
    pub distributor: PartyId,
    pub secured_party: String,
    pub sent_on: Date,
    pub received_on: Option<Date>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NoticeRecorded {
    pub distributor: PartyId,
    pub secured_party: String,
    pub entry_id: String,
}

/// Records a PMSI notice. Refused without an agreement, without a secured party, or
/// received before it was sent.
#[tracing::instrument(name = "send_notice", skip_all, fields(distributor = %req.distributor))]
pub async fn send_notice(
    store: &Store,
    req: SendNotice,
    user: &str,
) -> Result<NoticeRecorded, AppError> {
    let today = crate::risk::today(store).await?;
    let entries = crate::standing_entries(store, &[EntryKind::Agreement]).await?;
    let records = Records::new(&entries, Date::LATEST);
    let d = &req.distributor;
    crate::require_agreement(&records, d)?;
    let party = req.secured_party.trim().to_string();
    if party.is_empty() {
        return Err(AppError::new(
            Exit::Input,
            "--secured-party: name the lender the notice went to",
        ));
    }
    crate::not_after_today("--sent-on", req.sent_on, today)?;
    if let Some(r) = req.received_on {
        crate::not_after_today("--received-on", r, today)?;
    }
    if matches!(req.received_on, Some(r) if r < req.sent_on) {
        return Err(AppError::new(
            Exit::Input,
            "--received-on is before --sent-on",
        ));
    }
    let e = crate::command_entry(
        format!("pmsi:{d}:{party}:{}", req.sent_on),
        req.sent_on,
        today.max(req.received_on.unwrap_or(req.sent_on)),
        user,
        format!("legal notice --distributor {d} --secured-party {party:?}"),
        Event::Fact(Fact::PmsiNotice(PmsiNotice {
            distributor: d.clone(),
            secured_party: party.clone(),
            sent_on: req.sent_on,
            received_on: req.received_on,
        })),
    )?;
    let mut e = [e];
    crate::rekey_reversed(store, &mut e).await?;
    let entry_id = e[0].id.to_string();
    crate::books::record(store, &e, None).await?;
    Ok(NoticeRecorded {
        distributor: d.clone(),
        secured_party: party,
        entry_id,
    })
}
