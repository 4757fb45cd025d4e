//! The daily actions a label keys in by hand (the web app's forms and its JSON API):
//! payments received, purchase orders, returns, distributor agreements — each read as
//! **one row of its canonical CSV file** by the importer's own parser
//! (`backstock_ingest::read`), so a form says exactly what an import would say about
//! the same value ("amount: found \"12.x\", expected an amount such as 1234.56 …") —
//! and the paperwork already modelled elsewhere (receipts, UCC-1s, PMSI notices,
//! demands and answers, aliases, corrections), wrapped so that the same action twice
//! records once.
//!
//! Every entry goes through [`crate::books::record`] (closed months refuse). Ids are
//! derived from what was typed (a payment without a reference gets
//! `{date}-{statement or account}-{amount}`), and an entry whose id is on record with
//! the same event is reported as already recorded (`recorded: false`), whoever keyed
//! it and whenever; the same id with other details is refused with the journal's own
//! sentence.

use crate::{AppError, Exit};
use backstock_domain::{Date, PartyId, Sku};
use backstock_ingest::{Context, Kind};
use backstock_ledger::facts::{Demand, DemandKind, DemandResponse, PmsiNotice, Ucc1Filing};
use backstock_ledger::{Entry, EntryId, EntryKind, Event, Fact, Provenance};
use backstock_store::Store;
use serde::Serialize;

/// What a keyed action recorded.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Keyed {
    /// The entries' ids, in order.
    pub entry_ids: Vec<String>,
    /// False when every entry was on record already with the same details.
    pub recorded: bool,
    /// The entries as recorded (or as found on record).
    #[serde(skip)]
    pub entries: Vec<Entry>,
}

/// The importer's problems with a keyed row, one sentence per field:
/// `amount: found "12.x", expected an amount such as 1234.56 …`.
fn row_errors(e: &backstock_ingest::FileErrors) -> String {
    let parts: Vec<String> = e
        .errors
        .iter()
        .map(|l| match &l.column {
            Some((_, name)) => format!("{name}: found {:?}, expected {}", l.found, l.expected),
            None => format!("found {:?}, expected {}", l.found, l.expected),
        })
        .collect();
    parts.join("; ")
}

fn quote(v: &str) -> String {
    format!("\"{}\"", v.replace('"', "\"\""))
}

/// Reads one row of a canonical `kind` given as (column, text) pairs — columns left
/// out are empty — exactly as the importer reads a line of that file, against what
/// the store knows (catalog, aliases, agreements). Nothing is recorded.
pub async fn read_row(
    store: &Store,
    kind: Kind,
    fields: &[(&str, String)],
) -> Result<Vec<Entry>, AppError> {
    let cols = backstock_ingest::canonical::columns(kind);
    let header = cols.join(",");
    let row: Vec<String> = cols
        .iter()
        .map(|c| {
            let v = fields
                .iter()
                .find(|(k, _)| k == c)
                .map(|(_, v)| v.trim())
                .unwrap_or("");
            // One line: a value cannot carry a line break into the row.
            quote(&v.replace(['\r', '\n'], " "))
        })
        .collect();
    let text = format!("{header}\n{}\n", row.join(","));
    let l = store.import_lookups().await?;
    let mut ctx = Context::from_lookups(&l.catalog, &l.aliases, &l.agreements, l.digital_skus());
    ctx.file_name = "form".into();
    match backstock_ingest::read(kind, text.as_bytes(), &ctx) {
        // A row with every field empty is a blank line to the importer: nothing typed.
        Ok(p) if p.entries.is_empty() => Err(AppError::new(
            Exit::Input,
            format!(
                "nothing was filled in: fill in the fields ({}) and send it again",
                cols.join(", ")
            ),
        )),
        Ok(p) => Ok(p.entries),
        Err(e) => Err(AppError::new(Exit::Input, row_errors(&e))),
    }
}

/// Records keyed entries by `user` (known on the label's today, never before their
/// date), once: an id on record with the same event is skipped; with another event the
/// whole action is refused and nothing is recorded.
pub async fn record_keyed(
    store: &Store,
    mut entries: Vec<Entry>,
    user: &str,
    command: &str,
) -> Result<Keyed, AppError> {
    let today = crate::risk::today(store).await?;
    crate::rekey_reversed(store, &mut entries).await?;
    for e in &mut entries {
        e.known_on = today.max(e.effective_on);
        e.provenance = Provenance::Command {
            user: user.to_string(),
            command: command.to_string(),
        };
    }
    let ids: Vec<&str> = entries.iter().map(|e| e.id.as_str()).collect();
    let existing = store.entries_with_ids(&ids).await?;
    let mut new = Vec::new();
    let mut shown = Vec::new();
    for e in entries {
        match existing.iter().find(|x| x.id == e.id) {
            Some(old) if old.event == e.event && old.effective_on == e.effective_on => {
                shown.push(old.clone());
            }
            Some(_) => {
                return Err(AppError::new(
                    Exit::Refused,
                    format!(
                        "entry {} was already recorded with different details; record a correction instead of changing it, then key it again{} (nothing was recorded)",
                        e.id,
                        match &e.event {
                            Event::Shipment { .. } => "; a second return of the same SKU on the same day needs its own return id (RMA)",
                            Event::PaymentReceived { .. } => "; another payment needs its own reference",
                            Event::Fact(Fact::PurchaseOrder(_)) => "; another order of the same SKU needs its own PO number",
                            _ => "",
                        }
                    ),
                ))
            }
            None => {
                shown.push(e.clone());
                new.push(e);
            }
        }
    }
    let recorded = !new.is_empty();
    if recorded {
        crate::books::record(store, &new, None).await?;
    }
    Ok(Keyed {
        entry_ids: shown.iter().map(|e| e.id.to_string()).collect(),
        recorded,
        entries: shown,
    })
}

fn blank(s: &Option<String>) -> Option<String> {
    s.as_ref()
        .map(|x| x.trim().to_string())
        .filter(|x| !x.is_empty())
}

/// The label's currency with `d` (its agreement's), if it has one.
async fn agreement_currency(store: &Store, d: &str) -> Result<Option<String>, AppError> {
    let l = store.import_lookups().await?;
    Ok(l.agreements
        .iter()
        .find(|(x, _)| x == d.trim())
        .map(|(_, c)| c.clone()))
}

// ---------------------------------------------------------------------------------------
// Payments received

/// A payment received from a distributor, as typed (the columns of payments.csv).
#[derive(Debug, Clone, Default)]
pub struct ReceivePayment {
    pub distributor: String,
    /// Decimal text (`1234.56`).
    pub amount: String,
    /// Default: the agreement's currency.
    pub currency: Option<String>,
    /// Default: the label's today.
    pub date: Option<String>,
    /// The statement it pays (empty: on account).
    pub statement_id: Option<String>,
    /// The remittance or bank reference; default derived from date, statement and
    /// amount, so the same payment keyed twice is recorded once.
    pub reference: Option<String>,
}

/// A payment recorded.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PaymentRecorded {
    pub payment_id: String,
    pub entry_id: String,
    pub distributor: PartyId,
    pub amount: backstock_domain::Money,
    pub date: Date,
    pub statement_id: Option<String>,
    pub recorded: bool,
}

/// Records a payment received (payments.csv's row, its rules and messages).
pub async fn receive_payment(
    store: &Store,
    req: &ReceivePayment,
    user: &str,
) -> Result<PaymentRecorded, AppError> {
    let today = crate::risk::today(store).await?;
    let date = blank(&req.date).unwrap_or_else(|| today.to_string());
    let currency = match blank(&req.currency) {
        Some(c) => c,
        None => agreement_currency(store, &req.distributor)
            .await?
            .unwrap_or_default(),
    };
    let reference = blank(&req.reference);
    let statement = blank(&req.statement_id);
    let fields = [
        (
            "payment_id",
            reference.clone().unwrap_or_else(|| "keyed".into()),
        ),
        ("date", date),
        ("distributor", req.distributor.clone()),
        ("amount", req.amount.clone()),
        ("currency", currency),
        ("statement_id", statement.clone().unwrap_or_default()),
    ];
    let mut entries = read_row(store, Kind::Payments, &fields).await?;
    let Some(mut e) = entries.pop() else {
        return Err(AppError::new(Exit::Input, "nothing to record"));
    };
    let Event::PaymentReceived {
        payment_id,
        distributor,
        amount,
        statement_id,
    } = &mut e.event
    else {
        return Err(AppError::new(
            Exit::Other,
            "a payment row read as another event",
        ));
    };
    if reference.is_none() {
        *payment_id = format!(
            "{}-{}-{}",
            e.effective_on,
            statement_id.as_deref().unwrap_or("account"),
            amount.to_decimal_string()
        );
        e.id = EntryId::new(format!("payment:{distributor}:{payment_id}"))
            .map_err(|x| AppError::new(Exit::Input, x.to_string()))?;
    }
    let (pid, d, m, sid, on) = (
        payment_id.clone(),
        distributor.clone(),
        *amount,
        statement_id.clone(),
        e.effective_on,
    );
    let k = record_keyed(
        store,
        vec![e],
        user,
        &format!(
            "payment --distributor {d} --amount {}",
            m.to_decimal_string()
        ),
    )
    .await?;
    Ok(PaymentRecorded {
        payment_id: pid,
        entry_id: k.entry_ids.first().cloned().unwrap_or_default(),
        distributor: d,
        amount: m,
        date: on,
        statement_id: sid,
        recorded: k.recorded,
    })
}

// ---------------------------------------------------------------------------------------
// Purchase orders

/// A distributor's purchase order line (purchase_orders.csv).
#[derive(Debug, Clone, Default)]
pub struct AddPurchaseOrder {
    pub po_number: String,
    /// Default: the label's today.
    pub date: Option<String>,
    pub distributor: String,
    /// SKU, UPC or alias.
    pub sku: String,
    pub units: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PurchaseOrderRecorded {
    pub po_number: String,
    pub distributor: PartyId,
    pub sku: Sku,
    pub units: u64,
    pub date: Date,
    pub entry_id: String,
    pub recorded: bool,
}

pub async fn add_purchase_order(
    store: &Store,
    req: &AddPurchaseOrder,
    user: &str,
) -> Result<PurchaseOrderRecorded, AppError> {
    let today = crate::risk::today(store).await?;
    let fields = [
        ("po_number", req.po_number.clone()),
        (
            "date",
            blank(&req.date).unwrap_or_else(|| today.to_string()),
        ),
        ("distributor", req.distributor.clone()),
        ("sku", req.sku.clone()),
        ("units", req.units.clone()),
    ];
    let entries = read_row(store, Kind::PurchaseOrders, &fields).await?;
    let k = record_keyed(
        store,
        entries,
        user,
        &format!("purchase-order {}", req.po_number.trim()),
    )
    .await?;
    match k.entries.first().map(|e| &e.event) {
        Some(Event::Fact(Fact::PurchaseOrder(p))) => Ok(PurchaseOrderRecorded {
            po_number: p.po_number.clone(),
            distributor: p.distributor.clone(),
            sku: p.sku.clone(),
            units: p.units,
            date: p.date,
            entry_id: k.entry_ids.first().cloned().unwrap_or_default(),
            recorded: k.recorded,
        }),
        _ => Err(AppError::new(
            Exit::Other,
            "a purchase order row read as another event",
        )),
    }
}

// ---------------------------------------------------------------------------------------
// Returns (a shipment from a distributor back to the label)

#[derive(Debug, Clone, Default)]
pub struct ReturnStock {
    pub distributor: String,
    pub sku: String,
    pub units: String,
    /// Default: the label's today.
    pub date: Option<String>,
    /// The return's id (RMA); default `RET-{date}-{distributor}`.
    pub id: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Returned {
    pub shipment_id: String,
    pub from: PartyId,
    pub sku: Sku,
    pub units: u64,
    pub date: Date,
    pub entry_id: String,
    pub recorded: bool,
}

/// Records units coming back from a distributor (shipments.csv's row from the
/// distributor to `label`); the ledger refuses more units than it holds.
pub async fn return_stock(
    store: &Store,
    req: &ReturnStock,
    user: &str,
) -> Result<Returned, AppError> {
    let today = crate::risk::today(store).await?;
    let date = blank(&req.date).unwrap_or_else(|| today.to_string());
    let id = blank(&req.id).unwrap_or_else(|| format!("RET-{date}-{}", req.distributor.trim()));
    let fields = [
        ("shipment_id", id.clone()),
        ("date", date),
        ("from", req.distributor.clone()),
        ("to", PartyId::label().to_string()),
        ("sku", req.sku.clone()),
        ("units", req.units.clone()),
    ];
    let mut entries = read_row(store, Kind::Shipments, &fields).await?;
    // A return keyed again after its correction is a new entry (checked below).
    crate::rekey_reversed(store, &mut entries).await?;
    // The ledger lets a holding go below zero (a file may be imported before the one
    // that explains it); keyed by hand, a return of more than is held is refused.
    for e in &entries {
        let Event::Shipment {
            from, sku, units, ..
        } = &e.event
        else {
            continue;
        };
        if store.entry(e.id.as_str()).await?.is_some() {
            continue;
        }
        let held: i64 = store
            .stock(&backstock_store::query::StockFilter {
                as_of: None,
                owner: Some(PartyId::label().to_string()),
                holder: Some(from.to_string()),
                sku: Some(sku.to_string()),
                all: false,
            })
            .await?
            .iter()
            .filter(|r| r.state == "on_hand")
            .map(|r| r.units)
            .sum();
        if i128::from(held) < i128::from(*units) {
            return Err(AppError::new(
                Exit::Refused,
                format!(
                    "{from} holds {held} units of {sku} for the label, not {units}: nothing was recorded (a return cannot bring back more than was shipped and not sold)"
                ),
            ));
        }
    }
    let k = record_keyed(store, entries, user, &format!("return {id}")).await?;
    match k.entries.first().map(|e| (&e.event, e.effective_on)) {
        Some((
            Event::Shipment {
                shipment_id,
                from,
                sku,
                units,
                ..
            },
            on,
        )) => Ok(Returned {
            shipment_id: shipment_id.clone(),
            from: from.clone(),
            sku: sku.clone(),
            units: *units,
            date: on,
            entry_id: k.entry_ids.first().cloned().unwrap_or_default(),
            recorded: k.recorded,
        }),
        _ => Err(AppError::new(
            Exit::Other,
            "a return row read as another event",
        )),
    }
}

// ---------------------------------------------------------------------------------------
// Distributor agreements

/// A distributor agreement: the columns of distributors.csv, as typed.
pub type AgreementFields = Vec<(String, String)>;

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AgreementRecorded {
    pub distributor: PartyId,
    pub legal_name: String,
    pub agreement_start: Date,
    pub entry_ids: Vec<String>,
    pub recorded: bool,
}

/// Records a distributor and its agreement (a new one for a known distributor is a
/// new version from its start date), read as distributors.csv's row.
pub async fn add_agreement(
    store: &Store,
    fields: &[(String, String)],
    user: &str,
) -> Result<AgreementRecorded, AppError> {
    let f: Vec<(&str, String)> = fields
        .iter()
        .map(|(k, v)| (k.as_str(), v.clone()))
        .collect();
    let entries = read_row(store, Kind::Distributors, &f).await?;
    let k = record_keyed(store, entries, user, "agreement").await?;
    let ag = k.entries.iter().find_map(|e| match &e.event {
        Event::Fact(Fact::Agreement(a)) => Some(a.clone()),
        _ => None,
    });
    match ag {
        Some(a) => Ok(AgreementRecorded {
            distributor: a.distributor,
            legal_name: a.legal_name,
            agreement_start: a.agreement_start,
            entry_ids: k.entry_ids,
            recorded: k.recorded,
        }),
        None => Err(AppError::new(
            Exit::Other,
            "an agreement row read as another event",
        )),
    }
}

// ---------------------------------------------------------------------------------------
// The paperwork, recorded once

/// Whether `id` stands on record with `event` (`true`), with another event (refused),
/// or not at all (`false`). A version a correction reversed does not stand: the same
/// paperwork keyed again after it is recorded anew ([`crate::standing_id`]).
async fn on_record(store: &Store, id: &mut String, event: &Event) -> Result<bool, AppError> {
    if store.entry(id).await?.is_none() {
        return Ok(false);
    }
    let gone = crate::correct::reversed_ids(store, None).await?;
    match crate::standing_id(store, id, &gone).await? {
        None | Some((_, None)) => Ok(false),
        Some((standing, Some(e))) if &e.event == event => {
            // Answered with the version that stands.
            *id = standing;
            Ok(true)
        }
        Some((id, Some(_))) => Err(AppError::new(
            Exit::Refused,
            format!(
                "entry {id} was already recorded with different details; record a correction instead of changing it, then key it again (nothing was recorded)"
            ),
        )),
    }
}

/// A demand recorded (or found on record).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Done {
    pub entry_id: String,
    pub recorded: bool,
}

/// The id a keyed demand gets unless one is given: the same demand (date, distributor,
/// kind, SKU) keyed twice is one demand.
pub fn demand_id(req: &crate::demands::AddDemand) -> String {
    let kind = match req.kind {
        DemandKind::Return => "return",
        DemandKind::Transfer => "transfer",
    };
    let mut id = format!("D-{}-{}-{kind}", req.made_on, req.distributor);
    if let Some(s) = &req.sku {
        id.push_str(&format!("-{s}"));
    }
    id
}

/// [`crate::demands::add`], once (an id is derived when none is given).
pub async fn demand(
    store: &Store,
    mut req: crate::demands::AddDemand,
    user: &str,
) -> Result<(crate::demands::Recorded, bool), AppError> {
    let id = match blank(&req.id) {
        Some(id) => id,
        None => demand_id(&req),
    };
    req.id = Some(id.clone());
    let event = Event::Fact(Fact::Demand(Demand {
        demand_id: id.clone(),
        distributor: req.distributor.clone(),
        kind: req.kind,
        transfer_to: req.transfer_to.clone(),
        sku: req.sku.clone(),
        units: req.units,
        made_on: req.made_on,
        via: req.via.clone(),
    }));
    let mut entry_id = format!("demand:{id}");
    if on_record(store, &mut entry_id, &event).await? {
        return Ok((
            crate::demands::Recorded {
                demand_id: id,
                distributor: req.distributor,
                entry_id,
            },
            false,
        ));
    }
    Ok((crate::demands::add(store, req, user).await?, true))
}

/// [`crate::demands::add_response`], once.
pub async fn answer(
    store: &Store,
    req: crate::demands::Respond,
    user: &str,
) -> Result<(crate::demands::Recorded, bool), AppError> {
    let mut entry_id = format!("demand-response:{}", req.demand_id);
    let event = Event::Fact(Fact::DemandResponse(DemandResponse {
        demand_id: req.demand_id.clone(),
        answered_on: req.answered_on,
        outcome: req.outcome,
        note: req.note.clone(),
    }));
    if on_record(store, &mut entry_id, &event).await? {
        let d = crate::demands::list(store, None)
            .await?
            .into_iter()
            .find(|r| r.demand.demand_id == req.demand_id)
            .map(|r| r.demand.distributor)
            .unwrap_or_else(PartyId::label);
        return Ok((
            crate::demands::Recorded {
                demand_id: req.demand_id,
                distributor: d,
                entry_id,
            },
            false,
        ));
    }
    Ok((crate::demands::add_response(store, req, user).await?, true))
}

/// [`crate::paperwork::file_ucc1`], once.
pub async fn ucc1(
    store: &Store,
    req: crate::paperwork::FileUcc1,
    user: &str,
) -> Result<(crate::paperwork::Ucc1Recorded, bool), AppError> {
    let number = req.file_number.trim().to_string();
    let mut entry_id = format!("ucc1:{}:{number}", req.distributor);
    let event = Event::Fact(Fact::Ucc1Filing(Ucc1Filing {
        distributor: req.distributor.clone(),
        file_number: number.clone(),
        state: req.state.trim().to_string(),
        filed_on: req.filed_on,
        continues: req.continues.clone(),
    }));
    if !number.is_empty() && on_record(store, &mut entry_id, &event).await? {
        let (lapses_on, ineffective) =
            crate::paperwork::ucc1_outcome(store, &req.distributor, &number, req.filed_on).await?;
        return Ok((
            crate::paperwork::Ucc1Recorded {
                distributor: req.distributor,
                file_number: number,
                filed_on: req.filed_on,
                lapses_on,
                ineffective,
            },
            false,
        ));
    }
    Ok((crate::paperwork::file_ucc1(store, req, user).await?, true))
}

/// [`crate::paperwork::send_notice`], once.
pub async fn pmsi(
    store: &Store,
    req: crate::paperwork::SendNotice,
    user: &str,
) -> Result<(crate::paperwork::NoticeRecorded, bool), AppError> {
    let party = req.secured_party.trim().to_string();
    let mut entry_id = format!("pmsi:{}:{party}:{}", req.distributor, req.sent_on);
    let event = Event::Fact(Fact::PmsiNotice(PmsiNotice {
        distributor: req.distributor.clone(),
        secured_party: party.clone(),
        sent_on: req.sent_on,
        received_on: req.received_on,
    }));
    if !party.is_empty() && on_record(store, &mut entry_id, &event).await? {
        return Ok((
            crate::paperwork::NoticeRecorded {
                distributor: req.distributor,
                secured_party: party,
                entry_id,
            },
            false,
        ));
    }
    Ok((crate::paperwork::send_notice(store, req, user).await?, true))
}

/// [`crate::paperwork::confirm_receipt`], once: a shipment confirmed already on the
/// same day is not confirmed again; on another day it is refused.
pub async fn receipt(
    store: &Store,
    shipment_id: &str,
    on: Date,
    user: &str,
) -> Result<(crate::paperwork::ReceiptRecorded, bool), AppError> {
    let sid = shipment_id.trim();
    // Confirmations a correction reversed are none: the receipt may be confirmed again.
    let gone = crate::correct::reversed_ids(store, None).await?;
    let prior: Vec<Entry> = store
        .entries(&[EntryKind::ReceiptConfirmed], None)
        .await?
        .into_iter()
        .map(|(_, e)| e)
        .filter(|e| !gone.contains(e.id.as_str()))
        .filter(
            |e| matches!(&e.event, Event::Fact(Fact::ReceiptConfirmed(r)) if r.shipment_id == sid),
        )
        .collect();
    if let Some(first) = prior.first() {
        if first.effective_on != on {
            return Err(AppError::new(
                Exit::Refused,
                format!(
                    "{sid} was confirmed received on {} already; nothing was recorded (correct {} first if that date is wrong)",
                    first.effective_on, first.id
                ),
            ));
        }
        let d = match &first.event {
            Event::Fact(Fact::ReceiptConfirmed(r)) => r.distributor.clone(),
            _ => PartyId::label(),
        };
        return Ok((
            crate::paperwork::ReceiptRecorded {
                shipment_id: sid.to_string(),
                distributor: d,
                lines: prior.len(),
                on,
            },
            false,
        ));
    }
    Ok((
        crate::paperwork::confirm_receipt(store, sid, on, user).await?,
        true,
    ))
}

/// [`crate::aliases::add`], once.
pub async fn alias(
    store: &Store,
    code: &str,
    sku: Sku,
    user: &str,
) -> Result<(crate::aliases::AliasAdded, bool), AppError> {
    let code = code.trim();
    let event = Event::Fact(Fact::Alias {
        code: code.to_string(),
        sku: sku.clone(),
    });
    let id = format!("alias:{code}");
    // The same alias standing: already recorded. A reversed one is none, and another
    // SKU for the code is refused by `aliases::add` in its own words (what the code
    // means now, and how to change it).
    let gone = crate::correct::reversed_ids(store, None).await?;
    let standing = if code.is_empty() {
        None
    } else {
        crate::standing_id(store, &id, &gone)
            .await?
            .and_then(|(id, e)| e.filter(|e| e.event == event).map(|_| id))
    };
    if let Some(id) = standing {
        return Ok((
            crate::aliases::AliasAdded {
                code: code.to_string(),
                sku,
                entry_id: id,
                lines_posted: 0,
                statements: 0,
            },
            false,
        ));
    }
    Ok((crate::aliases::add(store, code, sku, user).await?, true))
}

/// [`crate::correct::correct`], once: the same correction (same entry, same reason)
/// asked again is reported as recorded; another reason gets the refusal ("already
/// corrected").
pub async fn correction(
    store: &Store,
    req: &crate::correct::CorrectRequest,
    user: &str,
) -> Result<(crate::correct::Corrected, bool), AppError> {
    let entry_id = req.entry_id.trim();
    let id = format!("correction:{entry_id}");
    if let Some((_, e, _)) = store.entry(&id).await? {
        if let Event::Correction { reason, .. } = &e.event {
            if reason.trim() == req.reason.trim() {
                return Ok((
                    crate::correct::Corrected {
                        correction_id: id,
                        reverses: entry_id.to_string(),
                        effective_on: e.effective_on,
                        known_on: e.known_on,
                    },
                    false,
                ));
            }
        }
    }
    Ok((crate::correct::correct(store, req, user).await?, true))
}

/// Parses a date typed in a form: `YYYY-MM-DD`, or the label's today when empty.
pub async fn date_or_today(
    store: &Store,
    what: &str,
    s: &Option<String>,
) -> Result<Date, AppError> {
    match blank(s) {
        None => crate::risk::today(store).await,
        Some(d) => Date::parse(&d).map_err(|e| {
            AppError::new(
                Exit::Input,
                format!("{what}: found {d:?}, expected {}", e.expected()),
            )
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_keyed_row_error_reads_as_the_importers() {
        let e = backstock_ingest::FileErrors {
            file: "form".into(),
            errors: vec![backstock_ingest::LineError {
                line: 2,
                column: Some((4, "amount".into())),
                found: "12.x".into(),
                expected: "an amount such as 1234.56".into(),
            }],
            truncated: false,
        };
        assert_eq!(
            row_errors(&e),
            "amount: found \"12.x\", expected an amount such as 1234.56"
        );
        assert_eq!(quote("a\"b"), "\"a\"\"b\"");
    }
}
