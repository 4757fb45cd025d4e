//! The claim pack: what a label hands a liquidator, a lender's counsel or a court when
//! its distributor fails — what it shipped, what is still its own, what was sold and
//! not paid, that its paperwork was in order — as files anyone can check without
//! backstock (`MANIFEST.sha256` for `sha256sum -c`; `journal/links.jsonl` and
//! `VERIFY.txt` to recompute the chain hashes; `backstock verify-pack DIR`).
//!
//! Dates: the figures (stock, receivables, windows, perfection on each shipment's
//! day, payments) are **as of** the pack's date (default: the petition date, else
//! the event's date); the record of what happened around the failure (the insolvency,
//! demands and answers, documents) is as the label knew it on the day the pack is made
//! (the label's today), so demands made after the petition are in it.
//!
//! The files and their columns are documented in `docs/formats.md`; the column names
//! are a promise: add columns at the end, never rename.

use crate::{AppError, Exit};
use backstock_domain::{Date, Money, PartyId, Sku};
use backstock_ledger::facts::{DemandOutcome, InsolvencyKind};
use backstock_ledger::{Entry, EntryId, Event, Fact, Provenance};
use backstock_records::Records;
use backstock_risk::deductions::DeductionStatus;
use backstock_risk::insolvency::DeadlineStatus;
use backstock_risk::legal::UccStatus;
use backstock_royalty_statement::{document, document_text, Block};
use backstock_store::{ChainLink, Store};
use serde_json::json;
use sha2::{Digest, Sha256};
use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

/// One file of the pack.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PackFile {
    /// Relative path with `/` separators.
    pub path: String,
    pub bytes: Vec<u8>,
}

/// A pack, built in memory.
#[derive(Debug, Clone)]
pub struct Pack {
    pub distributor: PartyId,
    pub as_of: Date,
    pub made_on: Date,
    /// Every file, `MANIFEST.sha256` last.
    pub files: Vec<PackFile>,
    /// What `claim.pdf` says, as text.
    pub cover_text: String,
    /// The figures of `proof_of_claim.json`.
    pub proof_of_claim: serde_json::Value,
}

impl Pack {
    pub fn file(&self, path: &str) -> Option<&PackFile> {
        self.files.iter().find(|f| f.path == path)
    }
}

fn sha_hex(bytes: &[u8]) -> String {
    Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

fn m(x: Money) -> String {
    x.to_decimal_string()
}

/// The claim for money in one currency.
#[derive(Debug, Clone, Copy)]
struct MoneyClaim {
    currency: backstock_domain::Currency,
    /// Open on statements, with what the label wrote off in its own books (a
    /// write-off is the label's accounting; the distributor still owes it).
    owed: Money,
    written_off: Money,
    reserves_held: Money,
    /// Owed + reserves held.
    total: Money,
}

impl MoneyClaim {
    fn of(b: &backstock_risk::receivables::CurrencyBook, written_off: Money) -> MoneyClaim {
        let owed = b
            .open_balance
            .checked_add(written_off)
            .unwrap_or(b.open_balance);
        MoneyClaim {
            currency: b.currency,
            owed,
            written_off,
            reserves_held: b.reserve_held,
            total: owed.checked_add(b.reserve_held).unwrap_or(owed),
        }
    }

    fn is_nothing(&self) -> bool {
        self.owed.minor() == 0 && self.reserves_held.minor() == 0
    }
}

fn mo(x: Option<Money>) -> String {
    x.map(m).unwrap_or_default()
}

fn csv_bytes(header: &[&str], rows: &[Vec<String>]) -> Result<Vec<u8>, AppError> {
    let mut w = csv::WriterBuilder::new()
        .terminator(csv::Terminator::Any(b'\n'))
        .from_writer(Vec::new());
    let err = |e: csv::Error| AppError::new(Exit::Other, format!("writing CSV: {e}"));
    w.write_record(header).map_err(err)?;
    for r in rows {
        // Through the product's one neutralizing writer: no cell runs as a formula.
        w.write_record(
            r.iter()
                .map(|c| backstock_domain::csv::neutralize(c).into_owned()),
        )
        .map_err(err)?;
    }
    w.into_inner()
        .map_err(|e| AppError::new(Exit::Other, format!("writing CSV: {e}")))
}

/// The columns of `stock_schedule.csv` (a promise: never renamed; new ones are added
/// at the end).
pub const STOCK_SCHEDULE_COLUMNS: [&str; 14] = [
    "sku",
    "upc",
    "title",
    "units_shipped",
    "units_returned",
    "units_sold",
    "units_expected_on_hand",
    "units_last_reported",
    "last_reported_on",
    "unit_cost",
    "wholesale_price",
    "value_at_cost",
    "value_at_wholesale",
    "units_detained",
];

/// Of the label's units at `d`, those detained (held against the label's will) per
/// SKU: detentions and releases, less detained units bought back, none reversed.
fn detained_by_sku(entries: &[Entry], d: &PartyId) -> BTreeMap<Sku, i64> {
    let reversed: BTreeSet<&EntryId> = entries
        .iter()
        .filter_map(|e| match &e.event {
            Event::Correction { reverses, .. } => Some(reverses),
            _ => None,
        })
        .collect();
    let mut out: BTreeMap<Sku, i64> = BTreeMap::new();
    for e in entries.iter().filter(|e| !reversed.contains(&e.id)) {
        match &e.event {
            Event::Detention {
                holder, sku, units, ..
            } if holder == d => *out.entry(sku.clone()).or_default() += units,
            Event::BuyBack {
                holder,
                sku,
                units,
                detained: true,
                ..
            } if holder == d => {
                *out.entry(sku.clone()).or_default() -= i64::try_from(*units).unwrap_or(i64::MAX)
            }
            _ => {}
        }
    }
    out.retain(|_, u| *u != 0);
    out
}

/// Whether an entry is about distributor `d` (or one of `skus`' catalog items).
fn concerns(e: &Entry, d: &PartyId, skus: &BTreeSet<Sku>, demands: &BTreeSet<String>) -> bool {
    match &e.event {
        Event::Manufacture { to, .. } => to == d,
        Event::Shipment { from, to, .. } => from == d || to == d,
        Event::Detention { holder, .. }
        | Event::WriteOff { holder, .. }
        | Event::BuyBack { holder, .. } => holder == d,
        Event::Statement(st) => &st.distributor == d,
        Event::PaymentReceived { distributor, .. }
        | Event::DeductionAccepted { distributor, .. }
        | Event::ReceivableWrittenOff { distributor, .. } => distributor == d,
        Event::TitleTransfer {
            from_holder,
            to_holder,
            ..
        } => from_holder == d || to_holder == d,
        Event::Correction { .. } | Event::RoyaltyRun(_) | Event::RoyaltyPaid(_) => false,
        Event::Fact(f) => match f {
            Fact::Party(p) => &p.party == d,
            Fact::CatalogItem(c) => skus.contains(&c.sku),
            Fact::Agreement(a) => &a.distributor == d,
            Fact::PurchaseOrder(p) => &p.distributor == d,
            Fact::StockReport(r) => &r.distributor == d,
            Fact::ReceiptConfirmed(r) => &r.distributor == d,
            Fact::Ucc1Filing(x) => &x.distributor == d,
            Fact::PmsiNotice(x) => &x.distributor == d,
            Fact::Demand(x) => &x.distributor == d,
            Fact::DemandResponse(x) => demands.contains(&x.demand_id),
            Fact::DeductionDisputed(x) => &x.distributor == d,
            Fact::Unmatched(x) => &x.distributor == d,
            Fact::Insolvency(x) => &x.distributor == d,
            Fact::Document(x) => &x.distributor == d,
            Fact::Alias { .. }
            | Fact::Payee(_)
            | Fact::RoyaltyContract(_)
            | Fact::RoyaltyCost(_)
            | Fact::TaxForm(_) => false,
        },
    }
}

fn visible(e: &Entry, on: Date) -> bool {
    e.effective_on <= on && e.known_on <= on
}

/// A file name safe in a directory: no separators, no leading dot.
fn safe_name(name: &str) -> String {
    let base = name.rsplit(['/', '\\']).next().unwrap_or(name);
    let n: String = base
        .chars()
        .map(|c| {
            if c.is_alphanumeric() || matches!(c, '.' | '-' | '_') {
                c
            } else {
                '_'
            }
        })
        .collect();
    let n = n.trim_start_matches('.').to_string();
    if n.is_empty() {
        "file".into()
    } else {
        n
    }
}

/// `dir/name`, or `dir/{sha12}-name` when the name is taken.
fn unique_path(taken: &mut BTreeSet<String>, dir: &str, name: &str, sha: &str) -> String {
    let p = format!("{dir}/{}", safe_name(name));
    let p = if taken.contains(&p) {
        format!("{dir}/{}-{}", &sha[..12.min(sha.len())], safe_name(name))
    } else {
        p
    };
    taken.insert(p.clone());
    p
}

/// Builds the pack for `d` as of `as_of` (default: the petition or event date of the
/// failure on record; the label's today when none is).
#[tracing::instrument(name = "claim_pack", skip_all, fields(distributor = %d))]
pub async fn build(store: &Store, d: &PartyId, as_of: Option<Date>) -> Result<Pack, AppError> {
    let made_on = crate::risk::today(store).await?;
    let th = crate::risk::thresholds(store).await?;
    let all: Vec<(i64, Entry)> = store.entries(&[], None).await?;
    let later_entries: Vec<Entry> = all
        .iter()
        .filter(|(_, e)| visible(e, made_on))
        .map(|(_, e)| e.clone())
        .collect();
    let later = Records::new(&later_entries, made_on);
    let Some(agreement) = later.agreements.get(d).copied() else {
        return Err(AppError::new(
            Exit::Input,
            format!("{d} has no agreement on record"),
        ));
    };
    let insolvency = later.insolvency_of(d).cloned();
    let as_of = match (as_of, &insolvency) {
        (Some(a), _) => a,
        (None, Some(x)) => x.petition_or_event(),
        (None, None) => made_on,
    };
    if as_of > made_on {
        return Err(AppError::new(
            Exit::Input,
            format!("--as-of {as_of} is after today ({made_on})"),
        ));
    }
    // The position on `as_of` as the label knows it when the pack is made: every entry
    // effective by then, whenever it was recorded — a failure is recorded after the
    // petition, a statement of a period before it often arrives after it, a notice sent
    // years ago may be entered late — each taken as known on `as_of`.
    // Entries effective by `as_of` that reached the label after it: the pack counts
    // them, `receivables --as-of` (the books as known that day) does not — said on
    // the cover so the two figures are not taken to disagree.
    let arrived_later = later_entries
        .iter()
        .filter(|e| e.effective_on <= as_of && e.known_on > as_of)
        .filter(|e| concerns(e, d, &BTreeSet::new(), &BTreeSet::new()))
        .count();
    let entries: Vec<Entry> = later_entries
        .iter()
        .filter(|e| e.effective_on <= as_of)
        .map(|e| {
            let mut e = e.clone();
            e.known_on = e.known_on.min(as_of);
            e
        })
        .collect();
    // The ledger's holdings today, less what moved after `as_of` (the same moves
    // derived from the entries on both days, so only their difference counts).
    let held = {
        let mut held = store.holdings_of(&PartyId::label(), Some(made_on)).await?;
        let now = backstock_risk::holdings_from_entries(&later_entries, made_on);
        let then = backstock_risk::holdings_from_entries(&entries, as_of);
        let keys: BTreeSet<(PartyId, Sku)> = now.keys().chain(then.keys()).cloned().collect();
        for k in keys {
            let moved_after =
                now.get(&k).copied().unwrap_or(0) - then.get(&k).copied().unwrap_or(0);
            if moved_after != 0 {
                *held.entry(k).or_default() -= moved_after;
            }
        }
        held.retain(|_, u| *u != 0);
        held
    };
    let snap = backstock_risk::Snapshot {
        as_of,
        entries,
        held,
    };
    let view = Records::new(&snap.entries, as_of);
    let currency = agreement.currency;
    let zero = Money::zero(currency);
    let label = store
        .meta("label_name")
        .await?
        .filter(|s| !s.trim().is_empty())
        .unwrap_or_else(|| "The label".into());

    // ---- stock schedule
    let held: BTreeMap<Sku, i64> = snap
        .held
        .iter()
        .filter(|((holder, _), _)| holder == d)
        .map(|((_, sku), u)| (sku.clone(), *u))
        .collect();
    #[derive(Default)]
    struct SkuLine {
        shipped: i64,
        returned: i64,
        sold: i64,
    }
    let mut lines: BTreeMap<Sku, SkuLine> = BTreeMap::new();
    for s in &view.shipments {
        let u = i64::try_from(s.units).unwrap_or(i64::MAX);
        if s.to == d && s.from != d {
            lines.entry(s.sku.clone()).or_default().shipped += u;
        } else if s.from == d && s.to != d {
            lines.entry(s.sku.clone()).or_default().returned += u;
        }
    }
    for mv in view.moves.iter().filter(|mv| mv.holder == d) {
        match &mv.entry.event {
            Event::Statement(_) => lines.entry(mv.sku.clone()).or_default().sold -= mv.delta,
            Event::BuyBack { .. } => lines.entry(mv.sku.clone()).or_default().returned -= mv.delta,
            _ => {}
        }
    }
    for s in held.keys() {
        lines.entry(s.clone()).or_default();
    }
    let detained = detained_by_sku(&snap.entries, d);
    // Units of SKUs priced in another currency than the agreement's (or not priced):
    // counted, not valued — said on the cover rather than left as blank cells.
    let mut unvalued: BTreeMap<String, (usize, i64)> = BTreeMap::new();
    let mut stock_csv = Vec::new();
    let mut stock_units = 0i64;
    let mut stock_cost = zero;
    let mut stock_wholesale = zero;
    let mut stock_pdf = Vec::new();
    for (sku, l) in &lines {
        let item = view.catalog.get(sku);
        let expected = held.get(sku).copied().unwrap_or(0);
        let last = view
            .stock_reports
            .iter()
            .filter(|r| &r.distributor == d && &r.sku == sku)
            .max_by_key(|r| r.as_of);
        let price = |p: Option<Money>| p.filter(|p| p.currency() == currency);
        let cost = price(item.map(|i| i.unit_cost));
        let wholesale = price(item.map(|i| i.wholesale_price));
        let at_cost = cost.and_then(|c| c.checked_mul_units(expected).ok());
        let at_wholesale = wholesale.and_then(|c| c.checked_mul_units(expected).ok());
        if expected != 0 && (cost.is_none() || wholesale.is_none()) {
            let why = match item {
                Some(i) if i.wholesale_price.currency() != currency => {
                    format!("priced in {}", i.wholesale_price.currency())
                }
                _ => "without a price".to_string(),
            };
            let u = unvalued.entry(why).or_default();
            u.0 += 1;
            u.1 += expected;
        }
        stock_units += expected;
        stock_cost = at_cost.map_or(stock_cost, |v| {
            stock_cost.checked_add(v).unwrap_or(stock_cost)
        });
        stock_wholesale = at_wholesale.map_or(stock_wholesale, |v| {
            stock_wholesale.checked_add(v).unwrap_or(stock_wholesale)
        });
        let title = item.map(|i| i.title.clone()).unwrap_or_default();
        stock_csv.push(vec![
            sku.to_string(),
            item.and_then(|i| i.upc.as_ref())
                .map(|u| u.to_string())
                .unwrap_or_default(),
            title.clone(),
            l.shipped.to_string(),
            l.returned.to_string(),
            l.sold.to_string(),
            expected.to_string(),
            last.map(|r| r.units_on_hand.to_string())
                .unwrap_or_default(),
            last.map(|r| r.as_of.to_string()).unwrap_or_default(),
            mo(cost),
            mo(wholesale),
            mo(at_cost),
            mo(at_wholesale),
            detained.get(sku).copied().unwrap_or(0).to_string(),
        ]);
        stock_pdf.push(vec![
            sku.to_string(),
            title,
            l.shipped.to_string(),
            l.returned.to_string(),
            l.sold.to_string(),
            expected.to_string(),
            mo(at_cost),
            mo(at_wholesale),
        ]);
    }
    let stock_schedule = csv_bytes(&STOCK_SCHEDULE_COLUMNS, &stock_csv)?;

    // ---- shipments (and returns), with perfection on the day
    let legal = backstock_risk::legal::compute_with(&snap, &th)
        .agreements
        .into_iter()
        .find(|a| &a.distributor == d);
    let unperfected: BTreeSet<String> = legal
        .iter()
        .flat_map(|l| l.warnings.iter())
        .filter(|w| w.kind == "unperfected_shipment")
        .filter_map(|w| w.shipment_id.clone())
        .collect();
    // Of the stock it holds, the units that came in given deliveries, and their value
    // at wholesale. Which units are still held is not in any record; the oldest are
    // taken as sold first, so the newest deliveries of each SKU are the ones held.
    let held_from = |deliveries: &dyn Fn(&str) -> bool| -> (i64, Money) {
        let mut units = 0i64;
        let mut value = zero;
        // Incoming deliveries per SKU, newest first (one pass, not one per SKU held).
        let mut incoming: BTreeMap<&Sku, Vec<_>> = BTreeMap::new();
        for s in view.shipments.iter().filter(|s| s.to == d && s.from != d) {
            incoming.entry(s.sku).or_default().push(s);
        }
        for v in incoming.values_mut() {
            v.sort_by_key(|s| std::cmp::Reverse(s.date));
        }
        for (sku, held_units) in held.iter().filter(|(_, u)| **u > 0) {
            let mut left = *held_units;
            for s in incoming.get(sku).into_iter().flatten() {
                if left <= 0 {
                    break;
                }
                let here = i64::try_from(s.units).unwrap_or(i64::MAX).min(left);
                left -= here;
                if agreement.title_retained && deliveries(s.shipment_id) {
                    units += here;
                    let w = view
                        .catalog
                        .get(sku)
                        .map(|i| i.wholesale_price)
                        .filter(|p| p.currency() == currency)
                        .and_then(|p| p.checked_mul_units(here).ok());
                    value = w.map_or(value, |w| value.checked_add(w).unwrap_or(value));
                }
            }
        }
        (units, value)
    };
    // Delivered while the label's interest was not perfected: priority is judged at
    // delivery, so they are not claimed as secured.
    let (unperfected_units, unperfected_wholesale) =
        held_from(&|id: &str| unperfected.contains(id));
    // Against a lender whose UCC-1 on the distributor's inventory was filed first, a
    // delivery has priority only when that lender had received a PMSI notice (within
    // five years before it) and the label was perfected (UCC 9-324(b)). Which lenders
    // filed first is not in the label's records: the notices name the secured parties
    // it knows of, and a delivery no notice to one of them reached is left out.
    let notice_parties: BTreeSet<String> = legal
        .iter()
        .flat_map(|l| l.pmsi_notices.iter().map(|n| n.secured_party.clone()))
        .collect();
    let unreached: BTreeSet<String> = legal
        .iter()
        .flat_map(|l| l.warnings.iter())
        .filter(|w| w.kind == "pmsi_notice_not_in_force")
        .filter_map(|w| w.shipment_id.clone())
        .collect();
    let (unreached_units, unreached_wholesale) = if notice_parties.is_empty() {
        held_from(&|_: &str| true)
    } else {
        held_from(&|id: &str| unreached.contains(id) || unperfected.contains(id))
    };
    let mut ship_rows = Vec::new();
    for s in view
        .shipments
        .iter()
        .filter(|s| (s.to == d) != (s.from == d))
    {
        let kind = if s.to == d {
            if s.from.is_label() {
                "consignment"
            } else {
                "transfer_in"
            }
        } else if s.to.is_label() {
            "return"
        } else {
            "transfer_out"
        };
        let receipt = view
            .receipts
            .iter()
            .find(|r| r.shipment_id == s.shipment_id && &r.distributor == d);
        let perfected = if kind != "consignment" && kind != "transfer_in" {
            String::new()
        } else if !agreement.title_retained {
            "n/a".into()
        } else if unperfected.contains(s.shipment_id) {
            "no".into()
        } else {
            "yes".into()
        };
        ship_rows.push(vec![
            s.shipment_id.to_string(),
            s.date.to_string(),
            kind.to_string(),
            s.from.to_string(),
            s.to.to_string(),
            s.sku.to_string(),
            s.units.to_string(),
            s.po_number.unwrap_or_default().to_string(),
            if receipt.is_some() { "yes" } else { "no" }.to_string(),
            receipt
                .map(|r| r.entry.effective_on.to_string())
                .unwrap_or_default(),
            perfected,
            s.override_reason.unwrap_or_default().to_string(),
        ]);
    }
    let shipments_csv = csv_bytes(
        &[
            "shipment_id",
            "date",
            "kind",
            "from",
            "to",
            "sku",
            "units",
            "po_number",
            "receipt_confirmed",
            "receipt_confirmed_on",
            "perfected_on_date",
            "override_reason",
        ],
        &ship_rows,
    )?;

    // ---- windows, preference payments, deadlines (only with a failure on record)
    // The windows run back from the petition (or event) date and are facts about
    // that date: they are read from everything known when the pack is made — a
    // receipt confirmed after the pack's date still dates its delivery (goods in
    // transit at the petition were not received before it), and a pack dated before
    // the petition still sees the deliveries up to it. With no failure on record,
    // windows.csv and preference_window.csv are empty.
    let now_snap = crate::risk::snapshot(store, made_on).await?;
    let now_report = backstock_risk::insolvency::report(&now_snap, d, &th);
    let report = now_report
        .clone()
        .or_else(|| backstock_risk::insolvency::report(&snap, d, &th));
    let mut window_rows = Vec::new();
    let mut pref_rows = Vec::new();
    if let Some(r) = &report {
        for w in &r.deliveries {
            window_rows.push(vec![
                w.shipment_id.clone(),
                w.date.to_string(),
                w.sku.to_string(),
                w.units.to_string(),
                w.po_number.clone().unwrap_or_default(),
                if w.receipt_confirmed { "yes" } else { "no" }.into(),
                if w.in_20_days { "yes" } else { "no" }.into(),
                "yes".into(),
                mo(w.value_at_cost),
                mo(w.value_at_wholesale),
                currency.code().to_string(),
                w.received_on.map(|d| d.to_string()).unwrap_or_default(),
            ]);
        }
        for p in &r.preference_payments {
            pref_rows.push(vec![
                p.payment_id.clone(),
                p.date.to_string(),
                m(p.amount),
                p.amount.currency().code().to_string(),
                p.statement_id.clone().unwrap_or_default(),
                p.days_before_petition.to_string(),
            ]);
        }
    }
    let windows_csv = csv_bytes(
        &[
            "shipment_id",
            "date",
            "sku",
            "units",
            "po_number",
            "receipt_confirmed",
            "in_20_days",
            "in_45_days",
            "value_at_cost",
            "value_at_wholesale",
            "currency",
            "received_on",
        ],
        &window_rows,
    )?;
    let preference_csv = csv_bytes(
        &[
            "payment_id",
            "date",
            "amount",
            "currency",
            "statement_id",
            "days_before_petition",
        ],
        &pref_rows,
    )?;

    // ---- every payment the distributor made by the date, oldest first: what the
    // statements' "paid" rests on, and what a trustee checks against its bank.
    let mut payment_rows: Vec<(Date, usize, Vec<String>)> = view
        .payments_of(d)
        .filter(|p| p.date <= as_of)
        .map(|p| {
            (
                p.date,
                p.seq,
                vec![
                    p.payment_id.to_string(),
                    p.date.to_string(),
                    m(p.amount),
                    p.amount.currency().code().to_string(),
                    p.statement_id.unwrap_or_default().to_string(),
                ],
            )
        })
        .collect();
    payment_rows.sort_by_key(|(date, seq, _)| (*date, *seq));
    let payments_csv = csv_bytes(
        &["payment_id", "date", "amount", "currency", "statement_id"],
        &payment_rows
            .into_iter()
            .map(|(_, _, r)| r)
            .collect::<Vec<_>>(),
    )?;

    // ---- receivables
    let rec = backstock_risk::receivables::compute(&snap, Some(d))
        .into_iter()
        .next()
        .ok_or_else(|| {
            AppError::new(
                Exit::Input,
                format!(
                    "{d} has no agreement in force by {as_of}, so there is nothing to claim as of that day: give an --as-of on or after its agreement's start"
                ),
            )
        })?;
    let deductions = backstock_risk::deductions::compute(&snap, &th, Some(d));
    // Every currency the distributor's statements or payments are in, the
    // agreement's first: a statement in GBP is owed in GBP, never converted, and a
    // claim that left it out would give up money the label is owed.
    let books: Vec<&backstock_risk::receivables::CurrencyBook> = std::iter::once(&rec.book)
        .chain(rec.other_currencies.iter())
        .collect();
    let mut rec_rows = Vec::new();
    // Per book: Σ net due, paid, credited, deducted (accepted), disputed, written off,
    // open, reserve withheld, reserve released.
    let mut sums: Vec<[Money; 9]> = Vec::new();
    for book in &books {
        let cur = book.currency;
        let zero = Money::zero(cur);
        let disputed_of = |sid: &str| {
            deductions
                .iter()
                .filter(|x| {
                    x.statement_id == sid
                        && x.status == DeductionStatus::Disputed
                        && x.amount.currency() == cur
                })
                .fold(zero, |a, x| a.checked_add(x.amount).unwrap_or(a))
        };
        let last_payment = view
            .payments_of(d)
            .filter(|p| p.amount.currency() == cur)
            .map(|p| p.date)
            .max();
        let mut t = [zero; 9];
        let mut after_last_payment = zero;
        for s in &book.statements {
            let disputed = disputed_of(&s.statement_id);
            let vals = [
                s.net_due,
                s.paid,
                s.credited,
                s.deducted,
                disputed,
                s.written_off,
                s.open,
                s.reserve_withheld,
                s.reserve_released,
            ];
            for (acc, v) in t.iter_mut().zip(vals) {
                *acc = acc.checked_add(v).unwrap_or(*acc);
            }
            if last_payment.is_none_or(|p| s.issued_on > p) {
                after_last_payment = after_last_payment
                    .checked_add(s.net_due)
                    .unwrap_or(after_last_payment);
            }
            rec_rows.push(vec![
                "statement".into(),
                s.statement_id.clone(),
                s.period_start.to_string(),
                s.period_end.to_string(),
                s.issued_on.to_string(),
                s.due_on.to_string(),
                m(s.net_due),
                m(s.paid),
                m(s.credited),
                m(s.deducted),
                m(disputed),
                m(s.written_off),
                m(s.open),
                s.days_past_due.max(0).to_string(),
                m(s.reserve_withheld),
                m(s.reserve_released),
                cur.code().to_string(),
            ]);
        }
        let blank = |n: usize| vec![String::new(); n];
        let mut total = vec!["total".into()];
        total.extend(blank(5));
        total.extend(t[..7].iter().map(|x| m(*x)));
        total.push(String::new());
        total.extend(t[7..].iter().map(|x| m(*x)));
        total.push(cur.code().to_string());
        rec_rows.push(total);
        let mut reserves = vec!["reserve_held".into()];
        reserves.extend(blank(11));
        reserves.push(m(book.reserve_held));
        reserves.extend(blank(3));
        reserves.push(cur.code().to_string());
        rec_rows.push(reserves);
        let mut after = vec![
            "reported_after_last_payment".into(),
            String::new(),
            String::new(),
            String::new(),
            last_payment.map(|p| p.to_string()).unwrap_or_default(),
            String::new(),
            m(after_last_payment),
        ];
        after.extend(blank(9));
        after.push(cur.code().to_string());
        rec_rows.push(after);
        sums.push(t);
    }
    // What is claimed for money, per currency: the open balance with what the label
    // wrote off in its own books (bad debt there; the distributor still owes it), and
    // the reserves it holds.
    let money_claims: Vec<MoneyClaim> = books
        .iter()
        .zip(&sums)
        .map(|(b, t)| MoneyClaim::of(b, t[5]))
        .collect();
    let receivables_csv = csv_bytes(
        &[
            "line",
            "statement_id",
            "period_start",
            "period_end",
            "issued_on",
            "due_on",
            "net_due",
            "paid",
            "credited",
            "deducted_accepted",
            "deducted_disputed",
            "written_off",
            "open",
            "days_past_due",
            "reserve_withheld",
            "reserve_released",
            "currency",
        ],
        &rec_rows,
    )?;

    // ---- statements whose period runs past the pack's date
    // A statement of a period that began by `as_of` and ends after it (a month with
    // the petition in it) is effective after `as_of`, so the figures above leave it
    // out; yet part of what it reports was sold by `as_of`. Its sales are not dated
    // within the period, so the part by `as_of` is estimated pro rata by days, and
    // said to be an estimate. Read as the label knows it when the pack is made.
    let straddling = straddling_statements(&now_snap, d, as_of);
    let straddling_csv = csv_bytes(
        &[
            "statement_id",
            "period_start",
            "period_end",
            "issued_on",
            "days_in_period",
            "days_by_as_of",
            "net_due",
            "paid",
            "open",
            "open_by_as_of_estimated",
            "open_after_as_of_estimated",
            "currency",
        ],
        &straddling
            .iter()
            .map(|x| {
                vec![
                    x.statement_id.clone(),
                    x.period_start.to_string(),
                    x.period_end.to_string(),
                    x.issued_on.to_string(),
                    x.days_in_period.to_string(),
                    x.days_by_as_of.to_string(),
                    m(x.net_due),
                    m(x.paid),
                    m(x.open),
                    m(x.open_by_as_of),
                    m(x.open_after_as_of),
                    x.open.currency().code().to_string(),
                ]
            })
            .collect::<Vec<_>>(),
    )?;
    // Per currency: (open, by as_of, after), agreement currency first.
    let mut straddling_totals: Vec<(backstock_domain::Currency, [Money; 3])> = Vec::new();
    for x in &straddling {
        let cur = x.open.currency();
        let i = match straddling_totals.iter().position(|(c, _)| *c == cur) {
            Some(i) => i,
            None => {
                straddling_totals.push((cur, [Money::zero(cur); 3]));
                straddling_totals.len() - 1
            }
        };
        let t = &mut straddling_totals[i].1;
        for (acc, v) in t
            .iter_mut()
            .zip([x.open, x.open_by_as_of, x.open_after_as_of])
        {
            *acc = acc.checked_add(v).unwrap_or(*acc);
        }
    }
    straddling_totals.sort_by_key(|(c, _)| (*c != currency, c.code().to_string()));

    // ---- perfection
    let mut perf_rows = Vec::new();
    if let Some(l) = &legal {
        for f in &l.filings {
            perf_rows.push(vec![
                "ucc1_filing".into(),
                f.filed_on.to_string(),
                f.file_number.clone(),
                f.state.clone(),
                String::new(),
                f.lapse_on.to_string(),
                if f.effective_now {
                    "effective"
                } else {
                    "not effective"
                }
                .into(),
                if f.state_matches {
                    String::new()
                } else {
                    format!("filed outside {}", l.state_of_organization)
                },
            ]);
            for c in &f.continuations {
                perf_rows.push(vec![
                    "ucc3_continuation".into(),
                    c.filed_on.to_string(),
                    c.file_number.clone(),
                    f.state.clone(),
                    String::new(),
                    String::new(),
                    if c.effective {
                        "effective"
                    } else {
                        "not effective"
                    }
                    .into(),
                    c.note.clone(),
                ]);
            }
        }
        for n in &l.pmsi_notices {
            perf_rows.push(vec![
                "pmsi_notice".into(),
                n.sent_on.to_string(),
                n.secured_party.clone(),
                n.secured_party.clone(),
                n.received_on.map(|d| d.to_string()).unwrap_or_default(),
                n.reach_until.map(|d| d.to_string()).unwrap_or_default(),
                format!("{:?}", n.status).to_lowercase(),
                String::new(),
            ]);
        }
        // What the record shows, not advice to the label: "send a notice" is for
        // `legal`, not for the trustee.
        for w in l.warnings.iter().filter(|w| w.kind != "no_pmsi_notice") {
            perf_rows.push(vec![
                w.kind.clone(),
                w.date.to_string(),
                w.shipment_id.clone().unwrap_or_default(),
                String::new(),
                String::new(),
                String::new(),
                String::new(),
                w.message.clone(),
            ]);
        }
    }
    let perfection_csv = csv_bytes(
        &[
            "record",
            "date",
            "reference",
            "state_or_party",
            "received_on",
            "lapse_or_reach_until",
            "status",
            "note",
        ],
        &perf_rows,
    )?;

    // ---- demands (as known when the pack is made)
    let mut demand_rows = Vec::new();
    let mut demand_ids = BTreeSet::new();
    for dm in later.demands.iter().filter(|x| &x.distributor == d) {
        demand_ids.insert(dm.demand_id.clone());
        let answer = later
            .responses
            .iter()
            .filter(|r| r.demand_id == dm.demand_id)
            .max_by_key(|r| r.answered_on);
        demand_rows.push(vec![
            dm.demand_id.clone(),
            format!("{:?}", dm.kind).to_lowercase(),
            dm.transfer_to
                .as_ref()
                .map(|x| x.to_string())
                .unwrap_or_default(),
            dm.sku.as_ref().map(|x| x.to_string()).unwrap_or_default(),
            dm.units.map(|x| x.to_string()).unwrap_or_default(),
            dm.made_on.to_string(),
            dm.via.clone(),
            answer
                .map(|a| a.answered_on.to_string())
                .unwrap_or_default(),
            answer
                .map(|a| {
                    match a.outcome {
                        DemandOutcome::Complied => "complied",
                        DemandOutcome::Partial => "partial",
                        DemandOutcome::Refused => "refused",
                    }
                    .to_string()
                })
                .unwrap_or_else(|| "unanswered".into()),
            answer.map(|a| a.note.clone()).unwrap_or_default(),
        ]);
    }
    let demands_csv = csv_bytes(
        &[
            "demand_id",
            "kind",
            "transfer_to",
            "sku",
            "units",
            "made_on",
            "via",
            "answered_on",
            "outcome",
            "note",
        ],
        &demand_rows,
    )?;

    // ---- artists: royalties earned on this distributor's sales, not collected: for
    // each statement still open on the date, each payee's line as the latest royalty
    // run on file (made by the pack's day, for a period begun by the date) stated it.
    // A statement the label wrote off is still unpaid by the distributor (the claim
    // counts it): its artists' royalties were not collected either.
    let open_statements: BTreeSet<&str> = books
        .iter()
        .flat_map(|b| b.statements.iter())
        .filter(|s| !s.open.is_zero() || !s.written_off.is_zero())
        .map(|s| s.statement_id.as_str())
        .collect();
    let mut artist_lines: BTreeMap<(String, String, String), (Vec<String>, Money)> =
        BTreeMap::new();
    for run in crate::royalties::runs_on_file(store).await? {
        if run.run_on > made_on || run.period_start > as_of {
            continue;
        }
        for st in &run.stored.statements {
            for c in &st.contracts {
                for n in c.not_collected.iter().filter(|n| {
                    n.distributor == d.as_str() && open_statements.contains(n.statement_id.as_str())
                }) {
                    artist_lines.insert(
                        (
                            st.payee.id.clone(),
                            c.contract_id.clone(),
                            n.statement_id.clone(),
                        ),
                        (
                            vec![
                                st.payee.id.clone(),
                                st.payee.name.clone(),
                                run.period.clone(),
                                c.contract_id.clone(),
                                n.statement_id.clone(),
                                m(n.royalty_earned),
                                m(n.royalty_collected),
                                m(n.royalty_uncollected),
                                n.royalty_uncollected.currency().code().to_string(),
                            ],
                            n.royalty_uncollected,
                        ),
                    );
                }
            }
        }
    }
    let artists_total = artist_lines
        .values()
        .filter(|(_, x)| x.currency() == currency)
        .fold(zero, |a, (_, x)| a.checked_add(*x).unwrap_or(a));
    let artist_rows: Vec<Vec<String>> = artist_lines.into_values().map(|(r, _)| r).collect();
    let artists_csv = csv_bytes(
        &[
            "payee",
            "name",
            "period",
            "contract_id",
            "statement_id",
            "royalty_earned",
            "royalty_collected",
            "royalty_uncollected",
            "currency",
        ],
        &artist_rows,
    )?;

    // ---- entries the pack rests on, documents, originals
    let skus: BTreeSet<Sku> = lines.keys().cloned().collect();
    let mut included: BTreeSet<i64> = BTreeSet::new();
    let mut included_ids: BTreeSet<&str> = BTreeSet::new();
    for (seq, e) in &all {
        if visible(e, made_on) && concerns(e, d, &skus, &demand_ids) {
            included.insert(*seq);
            included_ids.insert(e.id.as_str());
        }
    }
    for (seq, e) in &all {
        if let Event::Correction { reverses, .. } = &e.event {
            if visible(e, made_on) && included_ids.contains(reverses.as_str()) {
                included.insert(*seq);
            }
        }
    }
    let head_at = all
        .iter()
        .filter(|(_, e)| visible(e, as_of))
        .map(|(s, _)| *s)
        .max();
    let head_made = all
        .iter()
        .filter(|(_, e)| visible(e, made_on))
        .map(|(s, _)| *s)
        .max();
    // The heads anchor the figures in the whole journal; when a head entry is not
    // about this distributor (a royalty run naming every artist, another
    // distributor's statement) it is given by its hash alone: the pack goes to the
    // trustee and the distributor's other creditors.
    let about_this: BTreeSet<i64> = included.clone();
    included.extend(head_at);
    included.extend(head_made);
    let links: Vec<ChainLink> = store
        .chain_links(&included)
        .await?
        .into_iter()
        .map(|l| {
            if about_this.contains(&l.seq) {
                l
            } else {
                l.withhold()
            }
        })
        .collect();
    let withheld = links.iter().filter(|l| l.withheld).count();
    let hash_of = |seq: Option<i64>| {
        seq.and_then(|s| links.iter().find(|l| l.seq == s))
            .map(|l| l.hash.clone())
            .unwrap_or_default()
    };
    let mut links_jsonl = String::new();
    for l in &links {
        links_jsonl.push_str(&serde_json::to_string(l).unwrap_or_default());
        links_jsonl.push('\n');
    }

    let mut files: Vec<PackFile> = Vec::new();
    let mut taken = BTreeSet::new();
    let mut doc_names = Vec::new();
    for x in later.documents_of(d).filter(|x| x.reversed.is_none()) {
        let Some(bytes) = store.file_bytes(&x.sha256).await? else {
            return Err(AppError::new(
                Exit::Tampered,
                format!(
                    "document {} ({}) is missing from the store",
                    x.name, x.sha256
                ),
            ));
        };
        let path = unique_path(&mut taken, "documents", &x.name, &x.sha256);
        doc_names.push(json!({"file": path, "kind": x.kind, "added_on": x.added_on.to_string(), "sha256": x.sha256, "note": x.note}));
        files.push(PackFile { path, bytes });
    }
    let mut originals: BTreeMap<String, String> = BTreeMap::new();
    for (seq, e) in &all {
        if !included.contains(seq) {
            continue;
        }
        let from_distributor = matches!(
            &e.event,
            Event::Statement(_)
                | Event::Fact(Fact::StockReport(_))
                | Event::Fact(Fact::Unmatched(_))
        );
        if let (true, Provenance::File { sha256, name, .. }) = (from_distributor, &e.provenance) {
            originals
                .entry(sha256.clone())
                .or_insert_with(|| name.clone());
        }
    }
    // An original that also holds other distributors' lines (one statements file for
    // every distributor, a stock report of several) is the label's business with them:
    // it is withheld, and listed with why (the entries read from it still name its
    // SHA-256, and the label's own store keeps it — `backstock verify` checks it).
    let mut mixed: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for (_, e) in &all {
        let Provenance::File { sha256, .. } = &e.provenance else {
            continue;
        };
        if !originals.contains_key(sha256) {
            continue;
        }
        let other = match &e.event {
            Event::Statement(st) => Some(&st.distributor),
            Event::PaymentReceived { distributor, .. } => Some(distributor),
            Event::Fact(Fact::StockReport(r)) => Some(&r.distributor),
            Event::Fact(Fact::Unmatched(x)) => Some(&x.distributor),
            Event::Fact(Fact::PurchaseOrder(x)) => Some(&x.distributor),
            Event::Fact(Fact::ReceiptConfirmed(x)) => Some(&x.distributor),
            _ => None,
        }
        .filter(|o| *o != d);
        if let Some(o) = other {
            mixed
                .entry(sha256.clone())
                .or_default()
                .insert(o.to_string());
        }
    }
    let mut withheld_rows: Vec<Vec<String>> = Vec::new();
    let mut original_names = Vec::new();
    for (sha, name) in &originals {
        if let Some(others) = mixed.get(sha) {
            withheld_rows.push(vec![
                // Its name, not where it was on the label's computer.
                safe_name(name),
                sha.clone(),
                format!(
                    "it also holds lines of {} other distributor{}",
                    others.len(),
                    if others.len() == 1 { "" } else { "s" }
                ),
            ]);
            continue;
        }
        if let Some(bytes) = store.file_bytes(sha).await? {
            let path = unique_path(&mut taken, "originals", name, sha);
            original_names.push(path.clone());
            files.push(PackFile { path, bytes });
        }
    }

    // ---- proof of claim
    let perfected_now = legal
        .as_ref()
        .is_some_and(|l| matches!(l.status, UccStatus::Ok | UccStatus::ContinuationWindowOpen));
    // The first agreement dates the relationship; renewed terms are said beside it.
    let first_start = view
        .agreement_history
        .get(d)
        .and_then(|h| h.iter().map(|a| a.agreement_start).min())
        .unwrap_or(agreement.agreement_start);
    let agreements_of = if first_start < agreement.agreement_start {
        format!(
            " of {first_start} (terms renewed {})",
            agreement.agreement_start
        )
    } else {
        format!(" of {}", agreement.agreement_start)
    };
    let basis_text = legal
        .as_ref()
        .map(|l| {
            let filing = l
                .current
                .as_ref()
                .map(|f| {
                    format!(
                        "UCC-1 {} filed {} in {}",
                        f.file_number, f.filed_on, f.state
                    )
                })
                .unwrap_or_else(|| "no UCC-1 in force".into());
            let notices: Vec<String> = l
                .pmsi_notices
                .iter()
                .map(|n| format!("PMSI notice to {} sent {}", n.secured_party, n.sent_on))
                .collect();
            format!(
                "{}; {filing}{}",
                if agreement.title_retained {
                    format!("title retained under the consignment agreement{agreements_of}")
                } else {
                    format!("the consignment agreement{agreements_of} does NOT retain title")
                },
                if notices.is_empty() {
                    String::new()
                } else {
                    format!("; {}", notices.join("; "))
                }
            )
        })
        .unwrap_or_default();
    // The preference window's payments in other currencies than the agreement's, per
    // currency (the report's total is the agreement currency's).
    let mut preference_other: BTreeMap<String, Money> = BTreeMap::new();
    for p in report.iter().flat_map(|r| r.preference_payments.iter()) {
        let cur = p.amount.currency();
        if cur != currency {
            let slot = preference_other
                .entry(cur.code().to_string())
                .or_insert(Money::zero(cur));
            *slot = slot.checked_add(p.amount).unwrap_or(*slot);
        }
    }
    let MoneyClaim {
        owed,
        written_off,
        reserves_held,
        total: unsecured,
        ..
    } = money_claims[0];
    let other_claims = &money_claims[1..];
    let w20 = report
        .as_ref()
        .map(|r| r.window_20.value_at_wholesale)
        .unwrap_or(zero);
    let mut supporting: Vec<String> = [
        "claim.pdf",
        "stock_schedule.csv",
        "shipments.csv",
        "windows.csv",
        "receivables.csv",
        "straddling_statements.csv",
        "perfection.csv",
        "demands.csv",
        "artists.csv",
        "preference_window.csv",
        "payments.csv",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    supporting.extend(
        doc_names
            .iter()
            .filter_map(|d| d["file"].as_str().map(str::to_string)),
    );
    supporting.extend(original_names.iter().cloned());
    let amount = |x: Money| json!({"amount": m(x), "amount_minor": x.minor(), "currency": x.currency().code()});
    let proof = json!({
        "form": "figures for a proof of claim (Official Form 410 in a US bankruptcy; the assignee's, receiver's or liquidator's claim form otherwise)",
        "not_legal_advice": crate::insolvency::NOT_ADVICE,
        "creditor": label,
        "debtor": {"id": d, "legal_name": agreement.legal_name, "state_of_organization": agreement.state_of_organization},
        "insolvency": insolvency.as_ref().map(|x| json!({
            "kind": x.kind, "on": x.on.to_string(),
            "petition_date": x.petition_date.map(|d| d.to_string()),
            "case": x.case, "claims_bar_date": x.claims_bar_date.map(|d| d.to_string()),
            "contact": x.contact,
        })),
        "as_of": as_of.to_string(),
        "made_on": made_on.to_string(),
        "amount_owed_for_sales": amount(owed),
        "written_off_in_the_books": amount(written_off),
        "reserves_held": amount(reserves_held),
        "total_claim": amount(unsecured),
        // Statements or payments in another currency than the agreement's: owed in
        // that currency, never converted (the form asks for one amount; the label
        // or its counsel converts at the rate the court or estate sets).
        "claims_in_other_currencies": other_claims.iter().map(|c| json!({
            "currency": c.currency.code(),
            "amount_owed_for_sales": amount(c.owed),
            "written_off_in_the_books": amount(c.written_off),
            "reserves_held": amount(c.reserves_held),
            "total_claim": amount(c.total),
        })).collect::<Vec<_>>(),
        "goods": {
            "units": stock_units,
            "value_at_cost": amount(stock_cost),
            "value_at_wholesale": amount(stock_wholesale),
            "claimed_as": if !agreement.title_retained { "goods delivered under an agreement that does not retain title: the label claims their price as an unsecured creditor, not the goods" } else if perfected_now { "the label's own goods (title retained; interest perfected): return, or secured up to their value" } else { "the label's own goods (title retained); the interest was NOT perfected on the date: the estate's creditors may take priority" },
        },
        "secured": {
            "amount": amount(if perfected_now && agreement.title_retained { stock_wholesale.checked_sub(unperfected_wholesale).unwrap_or(stock_wholesale) } else { zero }),
            "basis": basis_text,
            "perfected_on_as_of": perfected_now,
            // Held units delivered while not perfected (the newest deliveries taken as
            // the ones held): the label's goods, not claimed as secured.
            "delivered_while_not_perfected": {"units": unperfected_units, "value_at_wholesale": amount(unperfected_wholesale)},
            // What of the secured amount holds against a lender whose filing on the
            // distributor's inventory came first (UCC 9-324(b)).
            "priority_over_earlier_inventory_lenders": {
                "amount": amount(if perfected_now && agreement.title_retained { stock_wholesale.checked_sub(unreached_wholesale).unwrap_or(zero) } else { zero }),
                "pmsi_notices_to": notice_parties.iter().collect::<Vec<_>>(),
                "held_units_not_reached": {"units": unreached_units, "value_at_wholesale": amount(unreached_wholesale)},
                "rule": "UCC 9-324(b): against a lender whose UCC-1 on the distributor's inventory was filed before the label's, a delivery has priority only if the label was perfected and that lender had received a PMSI notice within five years before it; with no notice on record, no delivery has it",
            },
        },
        "section_503b9": {
            "amount": amount(w20),
            "applies": if insolvency.as_ref().is_some_and(|x| x.kind != InsolvencyKind::Bankruptcy) { "in a bankruptcy only: information in this failure" } else { "in a bankruptcy" },
            "window": report.as_ref().map(|r| json!({"from": r.window_20.from.to_string(), "to": r.window_20.to.to_string(), "units": r.window_20.units})),
        },
        "reclamation_45_days": report.as_ref().map(|r| json!({
            "from": r.window_45.from.to_string(), "to": r.window_45.to.to_string(), "units": r.window_45.units,
            "value_at_cost": amount(r.window_45.value_at_cost), "value_at_wholesale": amount(r.window_45.value_at_wholesale),
        })),
        "unsecured": amount(unsecured),
        // Statements of a period running past `as_of`: not in the amounts above; the
        // part by `as_of` estimated pro rata by days (sales are not dated within a
        // statement's period).
        "statements_running_past_as_of": {
            "statements": straddling.iter().map(|x| x.statement_id.clone()).collect::<Vec<_>>(),
            "basis": "pro rata by days of each statement's period: a statement does not date its sales within the period",
            "per_currency": straddling_totals.iter().map(|(c, t)| json!({
                "currency": c.code(),
                "open": amount(t[0]),
                "open_by_as_of_estimated": amount(t[1]),
                "open_after_as_of_estimated": amount(t[2]),
            })).collect::<Vec<_>>(),
        },
        "preference_window_payments": amount(report.as_ref().map(|r| r.preference_total).unwrap_or(zero)),
        "preference_window_payments_in_other_currencies": preference_other.values().map(|t| amount(*t)).collect::<Vec<_>>(),
        "supporting_documents": supporting,
    });
    let proof_bytes =
        (serde_json::to_string_pretty(&proof).unwrap_or_default() + "\n").into_bytes();

    // ---- the cover and schedules (claim.pdf)
    let mut b = vec![
        Block::Title(format!("Claim of {label} against {}", agreement.legal_name)),
        Block::Text(format!(
            "Figures as of {as_of}; made on {made_on} by backstock from the label's hash-chained journal. Money in {}{}.",
            currency.code(),
            if other_claims.iter().any(|c| !c.is_nothing()) {
                " unless another currency is named"
            } else {
                ""
            }
        )),
        Block::Heading("What happened".into()),
    ];
    b.push(Block::Text(format!(
        "{} ({d}, organized in {}) has distributed the label's records on consignment since {first_start}{} (title retained: {}).",
        agreement.legal_name,
        agreement.state_of_organization,
        if first_start < agreement.agreement_start {
            format!(" (its present terms since {})", agreement.agreement_start)
        } else {
            String::new()
        },
        if agreement.title_retained { "yes" } else { "no" }
    )));
    match &insolvency {
        Some(x) => {
            b.push(Block::Text(backstock_risk::insolvency::sentence(x)));
            b.push(Block::Text(format!(
                "Kind: {}. Petition: {}. Case: {}. Claims bar date: {}. Contact: {}.",
                match x.kind {
                    InsolvencyKind::Bankruptcy => "bankruptcy",
                    InsolvencyKind::Assignment => "assignment for the benefit of creditors",
                    InsolvencyKind::Receivership => "receivership",
                    InsolvencyKind::Liquidation => "out-of-court liquidation",
                },
                x.petition_date
                    .map(|d| d.to_string())
                    .unwrap_or_else(|| "none".into()),
                x.case.as_deref().unwrap_or("none"),
                x.claims_bar_date
                    .map(|d| d.to_string())
                    .unwrap_or_else(|| "not set".into()),
                x.contact.as_deref().unwrap_or("none"),
            )));
        }
        None => b.push(Block::Text("No insolvency is on record.".into())),
    }
    b.push(Block::Heading("Totals".into()));
    let mut totals = vec![
        vec!["Owed for sales (open statements)".into(), m(owed)],
        vec!["Reserves held by the distributor".into(), m(reserves_held)],
        vec!["Total claim for money".into(), m(unsecured)],
        vec![
            format!("Consigned stock it holds ({stock_units} units) at cost"),
            m(stock_cost),
        ],
        vec![
            "Consigned stock it holds at wholesale".into(),
            m(stock_wholesale),
        ],
    ];
    totals.push(vec![
        "Royalties its sales earned the label's artists, not collected (artists.csv)".into(),
        m(artists_total),
    ]);
    for (why, (skus, units)) in &unvalued {
        totals.push(vec![
            format!(
                "Of the stock it holds, {units} units of {skus} SKU{} {why}: counted, not valued in {currency}",
                if *skus == 1 { "" } else { "s" }
            ),
            String::new(),
        ]);
    }
    // §503(b)(9) and §547 are bankruptcy law: in an assignment, a receivership or an
    // out-of-court liquidation their figures are information, said so on the line.
    let only_bankruptcy = if insolvency
        .as_ref()
        .is_some_and(|x| x.kind != InsolvencyKind::Bankruptcy)
    {
        " (bankruptcy only)"
    } else {
        ""
    };
    if let Some(r) = &report {
        totals.push(vec![
            format!(
                "Goods received {}..{} (20 days, §503(b)(9)): {} units at wholesale{only_bankruptcy}",
                r.window_20.from, r.window_20.to, r.window_20.units
            ),
            m(r.window_20.value_at_wholesale),
        ]);
        totals.push(vec![
            format!(
                "Goods received {}..{} (45 days, reclamation): {} units at wholesale",
                r.window_45.from, r.window_45.to, r.window_45.units
            ),
            m(r.window_45.value_at_wholesale),
        ]);
        totals.push(vec![
            format!(
                "Payments received in the 90 days before {} (§547){only_bankruptcy}",
                r.basis_date
            ),
            m(r.preference_total),
        ]);
    }
    b.push(Block::Table {
        cols: vec![(0, "".into(), false), (504, currency.code().into(), true)],
        rows: totals,
    });
    // Payments in the preference window in other currencies: said, never converted.
    for (cur, total) in &preference_other {
        b.push(Block::Text(format!(
            "Payments in {cur} received in the 90 days before the petition (§547): {} {cur} more (preference_window.csv).",
            m(*total)
        )));
    }
    for c in other_claims.iter().filter(|c| !c.is_nothing()) {
        b.push(Block::Text(format!(
            "Also owed in {cur}, on statements in {cur} (never converted; receivables.csv): {} for sales and {} in reserves held, {} {cur} in all.",
            m(c.owed),
            m(c.reserves_held),
            m(c.total),
            cur = c.currency.code(),
        )));
    }
    b.push(Block::Heading("Perfection".into()));
    match &legal {
        Some(l) => {
            b.push(Block::Text(format!(
                "UCC status on {as_of}: {}. {basis_text}.",
                l.status.as_str()
            )));
            b.push(Block::Text(format!(
                "Shipments delivered while not perfected: {}.{}",
                unperfected.len(),
                if unperfected_units > 0 {
                    format!(
                        " Of the stock it holds, {unperfected_units} units ({} {} at wholesale) came in those deliveries (the oldest units taken as sold first): they are the label's goods, but are not claimed as secured.",
                        m(unperfected_wholesale),
                        currency.code()
                    )
                } else {
                    String::new()
                }
            )));
            if agreement.title_retained && unreached_units > 0 {
                b.push(Block::Text(if notice_parties.is_empty() {
                    format!(
                        "No PMSI notice is on record: against a lender whose UCC-1 on {d}'s inventory was filed before the label's, none of the {unreached_units} units it holds ({} {} at wholesale) has priority (UCC 9-324(b): a notice reaches only deliveries made after the lender received it).",
                        m(unreached_wholesale),
                        currency.code(),
                    )
                } else {
                    format!(
                        "Against a lender whose filing came first, {unreached_units} of the units it holds ({} {} at wholesale) came in deliveries no PMSI notice to {} reached (or while not perfected): they have no priority over that lender (UCC 9-324(b)).",
                        m(unreached_wholesale),
                        currency.code(),
                        notice_parties.iter().cloned().collect::<Vec<_>>().join(", ")
                    )
                }));
            }
        }
        None => b.push(Block::Text("No agreement on record.".into())),
    }
    b.push(Block::Heading("Demands made and answered".into()));
    if demand_rows.is_empty() {
        b.push(Block::Text("None on record.".into()));
    }
    for r in &demand_rows {
        b.push(Block::Text(format!(
            "{} made {} ({}, {}): {}{}{}",
            r[0],
            r[5],
            r[1],
            r[6],
            r[8],
            if r[7].is_empty() {
                String::new()
            } else {
                format!(" on {}", r[7])
            },
            if r[9].is_empty() {
                String::new()
            } else {
                format!(" — \"{}\"", r[9])
            }
        )));
    }
    // Deadlines as they stand on the day the pack is made.
    if let Some(r) = &now_report {
        b.push(Block::Heading(format!(
            "Deadlines on {made_on} (information, not legal advice)"
        )));
        b.push(Block::Table {
            cols: vec![
                (0, "deadline".into(), false),
                (150, "due".into(), false),
                (205, "status".into(), false),
                (255, "rule".into(), false),
            ],
            rows: r
                .deadlines
                .iter()
                .map(|dl| {
                    vec![
                        // Said as the CLI and the web say it: a rule of bankruptcy
                        // cases, shown for an assignment or receivership.
                        format!(
                            "{}{}",
                            dl.title,
                            if dl.bankruptcy_only {
                                " (bankruptcy only)"
                            } else {
                                ""
                            }
                        ),
                        dl.due_on.map(|d| d.to_string()).unwrap_or_default(),
                        dl.status.as_str().to_string(),
                        dl.source.to_string(),
                    ]
                })
                .collect(),
        });
        // What each one is about (which goods, which demand, what is still to do):
        // the table's rows alone cannot tell two demands apart, nor a deadline met
        // from one only partly met.
        for (i, dl) in r.deadlines.iter().enumerate() {
            let status = match dl.status {
                DeadlineStatus::Info => String::new(),
                st => format!(" ({})", st.as_str()),
            };
            b.push(Block::Small(format!(
                "{}. {}{status}: {}",
                i + 1,
                dl.title,
                dl.what
            )));
        }
    }
    b.push(Block::Heading("Integrity".into()));
    let head_at_text = format!(
        "Journal head on {as_of}: entry #{} {}",
        head_at.unwrap_or(0),
        hash_of(head_at)
    );
    let head_made_text = format!(
        "Journal head on {made_on}: entry #{} {}",
        head_made.unwrap_or(0),
        hash_of(head_made)
    );
    b.push(Block::Text(format!(
        "Every figure here is computed from the label's append-only journal, in which each entry's SHA-256 hash covers the entry, what it posted and the hash before it. The {} entries these figures rest on are in journal/links.jsonl with everything needed to recompute their hashes; every file of this pack is listed with its SHA-256 in MANIFEST.sha256 (check with `sha256sum -c MANIFEST.sha256`, or `backstock verify-pack DIR`). See VERIFY.txt.",
        links.len()
    )));
    if arrived_later > 0 {
        b.push(Block::Text(format!(
            "The figures count {arrived_later} entr{} about {d} effective by {as_of} that reached the label after that day (statements and payments of earlier periods, recorded since): `backstock receivables --as-of {as_of}` shows the books as they were known on {as_of}, without {}.",
            if arrived_later == 1 { "y" } else { "ies" },
            if arrived_later == 1 { "it" } else { "them" },
        )));
    }
    b.push(Block::Small(head_at_text.clone()));
    b.push(Block::Small(head_made_text.clone()));
    b.push(Block::Heading(
        "Schedule A: consigned stock it holds".into(),
    ));
    b.push(Block::Table {
        cols: vec![
            (0, "sku".into(), false),
            (70, "title".into(), false),
            (262, "shipped".into(), true),
            (312, "returned".into(), true),
            (352, "sold".into(), true),
            (397, "holds".into(), true),
            (450, "at cost".into(), true),
            (504, "at wholesale".into(), true),
        ],
        rows: stock_pdf,
    });
    let detained_units: i64 = detained.values().sum();
    if detained_units != 0 {
        b.push(Block::Text(format!(
            "Of the units it holds, {detained_units} are detained: held against the label's will (its return demand refused, or the stock held for a lender), still the label's ({} in stock_schedule.csv, column units_detained).",
            detained
                .iter()
                .map(|(sku, u)| format!("{sku} {u}"))
                .collect::<Vec<_>>()
                .join(", ")
        )));
    }
    b.push(Block::Heading("Schedule B: statements".into()));
    // "Still owed" is what the distributor has not paid: open, and what the label
    // wrote off in its own books (the cover's "owed for sales" is their sum). Other
    // currencies' statements are named with their currency, never converted.
    let mut schedule_b = Vec::new();
    for (book, t) in books.iter().zip(&sums) {
        let other = book.currency != currency;
        for s in &book.statements {
            let owed = s.open.checked_add(s.written_off).unwrap_or(s.open);
            schedule_b.push(vec![
                if other {
                    format!("{} ({})", s.statement_id, book.currency.code())
                } else {
                    s.statement_id.clone()
                },
                s.issued_on.to_string(),
                s.due_on.to_string(),
                m(s.net_due),
                m(s.paid),
                m(s.deducted),
                m(s.reserve_withheld),
                m(owed),
            ]);
        }
        let owed = t[6].checked_add(t[5]).unwrap_or(t[6]);
        schedule_b.push(vec![
            format!("total {}", book.currency.code()),
            String::new(),
            String::new(),
            m(t[0]),
            m(t[1]),
            m(t[3]),
            m(t[7]),
            m(owed),
        ]);
    }
    b.push(Block::Table {
        cols: vec![
            (0, "statement".into(), false),
            (90, "issued".into(), false),
            (145, "due".into(), false),
            (260, "net due".into(), true),
            (320, "paid".into(), true),
            (380, "deducted".into(), true),
            (440, "reserve kept".into(), true),
            (504, "still owed".into(), true),
        ],
        rows: schedule_b,
    });
    let mut notes_b = Vec::new();
    for (book, t) in books.iter().zip(&sums) {
        // The column is what each statement kept back; some of it has come back since
        // (released): what the distributor still holds is the cover's figure.
        if !t[7].is_zero() {
            notes_b.push(format!(
                "\"Reserve kept\" is what each statement held back: {} {cur} in all, of which {} has been released; the distributor holds {} {cur} in reserves (the cover's figure).",
                m(t[7]),
                m(t[8]),
                m(book.reserve_held),
                cur = book.currency.code()
            ));
        }
        if !t[5].is_zero() {
            notes_b.push(format!(
                "{} {} of it the label wrote off in its own books; the distributor owes it all the same.",
                m(t[5]),
                book.currency.code()
            ));
        }
        if !t[4].is_zero() {
            notes_b.push(format!(
                "\"Deducted\" is what the label accepted; {} {} more that the distributor deducted is disputed, and counted as still owed.",
                m(t[4]),
                book.currency.code()
            ));
        }
    }
    if !notes_b.is_empty() {
        b.push(Block::Text(format!(
            "Still owed is open and unpaid. {}",
            notes_b.join(" ")
        )));
    }
    if !straddling.is_empty() {
        let ids: Vec<String> = straddling
            .iter()
            .map(|x| {
                format!(
                    "{} ({} to {})",
                    x.statement_id, x.period_start, x.period_end
                )
            })
            .collect();
        let totals: Vec<String> = straddling_totals
            .iter()
            .map(|(c, t)| {
                format!(
                    "{} {} still owed, of which about {} for sales by {as_of} and {} after",
                    m(t[0]),
                    c.code(),
                    m(t[1]),
                    m(t[2])
                )
            })
            .collect();
        b.push(Block::Text(format!(
            "Not in the figures above: {} of a period running past {as_of}: {}. {}. The part by {as_of} is an estimate, pro rata by days, because a statement does not date its sales within its period; sales after {as_of} are of the label's goods sold by the estate, which the label may claim apart (straddling_statements.csv).",
            if ids.len() == 1 { "the statement" } else { "the statements" },
            ids.join(", "),
            totals.join("; ")
        )));
    }
    if let Some(r) = &report {
        b.push(Block::Heading(format!(
            "Schedule C: goods received in the 45 days before {}",
            r.basis_date
        )));
        b.push(Block::Table {
            cols: vec![
                (0, "shipment".into(), false),
                (110, "received".into(), false),
                (165, "sku".into(), false),
                (300, "units".into(), true),
                (330, "20 days".into(), false),
                (440, "at cost".into(), true),
                (504, "at wholesale".into(), true),
            ],
            rows: r
                .deliveries
                .iter()
                .map(|w| {
                    vec![
                        w.shipment_id.clone(),
                        // The windows count from receipt (the shipment date when no
                        // receipt is on record, said so), as windows.csv says.
                        match w.received_on {
                            Some(r) => r.to_string(),
                            None => format!("{}*", w.date),
                        },
                        w.sku.to_string(),
                        w.units.to_string(),
                        if w.in_20_days { "yes" } else { "no" }.into(),
                        mo(w.value_at_cost),
                        mo(w.value_at_wholesale),
                    ]
                })
                .collect(),
        });
        if r.deliveries.iter().any(|w| w.received_on.is_none()) {
            b.push(Block::Text(
                "* No receipt on record: dated by its shipment.".into(),
            ));
        }
    }
    let cover_text = document_text(&b);
    let pdf = document(
        &format!("Claim of {label} against {}", agreement.legal_name),
        &label,
        &format!(
            "{label}: claim against {} as of {as_of}",
            agreement.legal_name
        ),
        &b,
    );

    // ---- VERIFY.txt
    let verify_txt = format!(
        "How to check this claim pack\n\
         ============================\n\n\
         Made by backstock on {made_on} for {label}: claim against {} ({d}), figures as of {as_of}.\n\n\
         {head_at_text}\n\
         {head_made_text}\n\n\
         1. Files. MANIFEST.sha256 lists every other file of the pack with its SHA-256:\n\
         \x20     sha256sum -c MANIFEST.sha256\n\
         \x20  Keep (or send) the SHA-256 of MANIFEST.sha256 itself to fix the whole pack.\n\n\
         2. Journal entries. journal/links.jsonl holds, one JSON object per line, each entry\n\
         \x20  these figures rest on ({} entries, and the two heads above) as recorded in the\n\
         \x20  label's journal: seq, entry_id, prev_hash, entry_json, postings, hash, and for\n\
         \x20  entries sealed with chain_version 2 (every entry recorded since that version)\n\
         \x20  recorded_at and file_sha256, where (lengths and seq as 8 bytes, big-endian)\n\n\
         \x20     chain_version 2:\n\
         \x20     hash = SHA-256( \"backstock-journal-v2\" 0x00\n\
         \x20                     ‖ prev_hash (32 bytes) ‖ seq\n\
         \x20                     ‖ length ‖ entry_json (UTF-8) ‖ length ‖ postings (UTF-8)\n\
         \x20                     ‖ length ‖ recorded_at (UTF-8)\n\
         \x20                     ‖ 0x00 when file_sha256 is absent, else\n\
         \x20                       0x01 ‖ length ‖ file_sha256 (its 64 hex characters, UTF-8) )\n\n\
         \x20     chain_version 1 (no chain_version field): the same with \"backstock-journal-v1\",\n\
         \x20     ending after postings (no recorded_at, no file_sha256).\n\n\
         \x20  An entry's file_sha256 is the SHA-256 of the original it was read from: that\n\
         \x20  original is the file under originals/ with that SHA-256, byte for byte —\n\
         \x20  except an original that also holds other distributors' lines: withheld,\n\
         \x20  listed in originals_withheld.csv (the label keeps it).\n\n\
         \x20  Recompute each one, and check that where two entries follow each other (seq n and\n\
         \x20  n+1) the second's prev_hash is the first's hash. The label's full journal\n\
         \x20  (backstock verify) links every entry up to the heads above.{}\n\n\
         3. Both at once, with backstock (needs nothing but this directory):\n\
         \x20     backstock verify-pack DIR\n\n\
         Entries included:\n{}",
        agreement.legal_name,
        links.len(),
        if withheld > 0 {
            format!(
                "\n\x20  {} not about {d} {} by {} hash alone (\"withheld\": true, no\n\
                 \x20  content): the pack goes to others, and that entry is the label's business\n\
                 \x20  with others. It chains to the entry before it; the label's own journal\n\
                 \x20  (checked by backstock verify) holds the same hash at that seq.",
                if withheld == 1 { "One head entry".to_string() } else { format!("{withheld} head entries") },
                if withheld == 1 { "is given" } else { "are given" },
                if withheld == 1 { "its" } else { "their" },
            )
        } else {
            String::new()
        },
        links
            .iter()
            .map(|l| {
                let id = if l.withheld { "(withheld: not about this distributor)" } else { l.entry_id.as_str() };
                format!("  #{} {} {}\n", l.seq, l.hash, id)
            })
            .collect::<String>()
    );

    let mut out = vec![
        PackFile {
            path: "claim.pdf".into(),
            bytes: pdf.bytes,
        },
        PackFile {
            path: "stock_schedule.csv".into(),
            bytes: stock_schedule,
        },
        PackFile {
            path: "shipments.csv".into(),
            bytes: shipments_csv,
        },
        PackFile {
            path: "windows.csv".into(),
            bytes: windows_csv,
        },
        PackFile {
            path: "receivables.csv".into(),
            bytes: receivables_csv,
        },
        PackFile {
            path: "straddling_statements.csv".into(),
            bytes: straddling_csv,
        },
        PackFile {
            path: "perfection.csv".into(),
            bytes: perfection_csv,
        },
        PackFile {
            path: "demands.csv".into(),
            bytes: demands_csv,
        },
        PackFile {
            path: "artists.csv".into(),
            bytes: artists_csv,
        },
        PackFile {
            path: "preference_window.csv".into(),
            bytes: preference_csv,
        },
        PackFile {
            path: "payments.csv".into(),
            bytes: payments_csv,
        },
        PackFile {
            path: "proof_of_claim.json".into(),
            bytes: proof_bytes,
        },
        PackFile {
            path: "journal/links.jsonl".into(),
            bytes: links_jsonl.into_bytes(),
        },
        PackFile {
            path: "VERIFY.txt".into(),
            bytes: verify_txt.into_bytes(),
        },
    ];
    if !mixed.is_empty() {
        out.push(PackFile {
            path: "originals_withheld.csv".into(),
            bytes: csv_bytes(&["file", "sha256", "why"], &withheld_rows)?,
        });
    }
    out.extend(files);
    let manifest: String = out
        .iter()
        .map(|f| format!("{}  {}\n", sha_hex(&f.bytes), f.path))
        .collect();
    out.push(PackFile {
        path: "MANIFEST.sha256".into(),
        bytes: manifest.into_bytes(),
    });
    Ok(Pack {
        distributor: d.clone(),
        as_of,
        made_on,
        files: out,
        cover_text,
        proof_of_claim: proof,
    })
}

/// A statement of `d` whose period began by `as_of` and ends after it, as known in
/// `snap`, with its open amount split pro rata by days.
#[derive(Debug, Clone)]
struct Straddling {
    statement_id: String,
    period_start: Date,
    period_end: Date,
    issued_on: Date,
    days_in_period: i64,
    days_by_as_of: i64,
    net_due: Money,
    paid: Money,
    open: Money,
    open_by_as_of: Money,
    open_after_as_of: Money,
}

/// The statements of `d` in `snap` whose period runs past `as_of` (every currency).
fn straddling_statements(
    snap: &backstock_risk::Snapshot,
    d: &PartyId,
    as_of: Date,
) -> Vec<Straddling> {
    let Some(rec) = backstock_risk::receivables::compute(snap, Some(d))
        .into_iter()
        .next()
    else {
        return Vec::new();
    };
    let mut out = Vec::new();
    for book in std::iter::once(&rec.book).chain(rec.other_currencies.iter()) {
        for s in &book.statements {
            if !(s.period_start <= as_of && s.period_end > as_of) {
                continue;
            }
            let day = |x: Date| i64::from(x.days_since_epoch());
            let days_in_period = day(s.period_end) - day(s.period_start) + 1;
            let days_by_as_of = day(as_of) - day(s.period_start) + 1;
            let (open_by_as_of, open_after_as_of) = pro_rata(s.open, days_by_as_of, days_in_period);
            out.push(Straddling {
                statement_id: s.statement_id.clone(),
                period_start: s.period_start,
                period_end: s.period_end,
                issued_on: s.issued_on,
                days_in_period,
                days_by_as_of,
                net_due: s.net_due,
                paid: s.paid,
                open: s.open,
                open_by_as_of,
                open_after_as_of,
            });
        }
    }
    out
}

/// `x` split into the share of `part` days out of `whole` (rounded half away from
/// zero, to the minor unit) and the rest: the two add up to `x` exactly.
fn pro_rata(x: Money, part: i64, whole: i64) -> (Money, Money) {
    assert!(
        whole > 0 && (0..=whole).contains(&part),
        "days {part} of {whole}"
    );
    let n = i128::from(x.minor()) * i128::from(part);
    let w = i128::from(whole);
    let q = (n.abs() * 2 + w) / (2 * w) * n.signum();
    // |q| ≤ |x|, so it fits x's i64.
    let share = Money::from_minor(q as i64, x.currency());
    let rest = Money::from_minor(x.minor() - q as i64, x.currency());
    (share, rest)
}

/// Writes the pack into `dir` (created; refused when it exists and is not empty).
pub fn write(pack: &Pack, dir: &Path) -> Result<(), AppError> {
    let io = |what: &str, p: &Path, e: std::io::Error| {
        AppError::new(Exit::Other, format!("{what} {}: {e}", p.display())).with_source(e)
    };
    if dir.exists() && !dir.is_dir() {
        return Err(AppError::new(
            Exit::Input,
            format!(
                "{} is a file: give a new directory for the pack",
                dir.display()
            ),
        ));
    }
    if dir.exists() {
        let mut it = std::fs::read_dir(dir).map_err(|e| io("reading", dir, e))?;
        if it.next().is_some() {
            return Err(AppError::new(
                Exit::Input,
                format!(
                    "{} is not empty: give a new directory for the pack",
                    dir.display()
                ),
            ));
        }
    }
    for f in &pack.files {
        let p = dir.join(&f.path);
        if let Some(parent) = p.parent() {
            std::fs::create_dir_all(parent).map_err(|e| io("creating", parent, e))?;
        }
        std::fs::write(&p, &f.bytes).map_err(|e| io("writing", &p, e))?;
    }
    Ok(())
}

/// What `verify-pack` found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PackCheck {
    pub files_checked: usize,
    pub entries_checked: usize,
    /// Consecutive entries whose link was checked.
    pub links_checked: usize,
    /// Links given by their hash alone (heads not about the distributor).
    pub withheld: usize,
    /// The SHA-256 of MANIFEST.sha256: kept apart from the pack, it fixes the whole.
    pub manifest_sha256: String,
    pub problems: Vec<String>,
    /// Files a desktop adds when the folder is opened (`.DS_Store`, `Thumbs.db`…):
    /// not part of the pack, passed over.
    pub ignored: Vec<String>,
}

/// The SHA-256 of a pack's MANIFEST.sha256 (what to keep apart from the pack), if it
/// can be read.
pub fn manifest_sha256(dir: &Path) -> Option<String> {
    std::fs::read(dir.join("MANIFEST.sha256"))
        .ok()
        .map(|b| sha_hex(&b))
}

impl PackCheck {
    pub fn ok(&self) -> bool {
        self.problems.is_empty()
    }
}

fn parse_hex32(s: &str) -> Option<[u8; 32]> {
    if s.len() != 64 {
        return None;
    }
    let mut out = [0u8; 32];
    for (i, o) in out.iter_mut().enumerate() {
        *o = u8::from_str_radix(s.get(2 * i..2 * i + 2)?, 16).ok()?;
    }
    Some(out)
}

fn walk(dir: &Path, base: &Path, out: &mut BTreeSet<String>) -> std::io::Result<()> {
    for e in std::fs::read_dir(dir)? {
        let e = e?;
        let p = e.path();
        if e.file_type()?.is_dir() {
            walk(&p, base, out)?;
        } else if let Ok(rel) = p.strip_prefix(base) {
            out.insert(
                rel.components()
                    .map(|c| c.as_os_str().to_string_lossy().to_string())
                    .collect::<Vec<_>>()
                    .join("/"),
            );
        }
    }
    Ok(())
}

/// Checks a pack with nothing but its files: every file in `MANIFEST.sha256` has its
/// hash (and no other file is there), and every entry in `journal/links.jsonl` hashes
/// to its stated hash, consecutive entries linked.
pub fn verify(dir: &Path) -> Result<PackCheck, AppError> {
    let manifest = std::fs::read_to_string(dir.join("MANIFEST.sha256")).map_err(|e| {
        AppError::new(
            Exit::Input,
            format!("{}: no MANIFEST.sha256 ({e})", dir.display()),
        )
    })?;
    let mut problems = Vec::new();
    let mut listed = BTreeSet::new();
    for (i, line) in manifest.lines().enumerate() {
        let Some((hash, path)) = line.split_once("  ") else {
            problems.push(format!("MANIFEST.sha256 line {}: not `HASH  PATH`", i + 1));
            continue;
        };
        listed.insert(path.to_string());
        if path.split('/').any(|c| c == ".." || c.is_empty()) {
            problems.push(format!("MANIFEST.sha256 line {}: bad path {path:?}", i + 1));
            continue;
        }
        match std::fs::read(dir.join(path)) {
            Ok(bytes) if sha_hex(&bytes) == hash => {}
            Ok(_) => problems.push(format!("{path}: its SHA-256 does not match the manifest")),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => problems.push(format!(
                "{path}: listed in the manifest but missing from the pack"
            )),
            Err(e) => problems.push(format!("{path}: {e}")),
        }
    }
    let mut present = BTreeSet::new();
    walk(dir, dir, &mut present)
        .map_err(|e| AppError::new(Exit::Other, format!("reading {}: {e}", dir.display())))?;
    present.remove("MANIFEST.sha256");
    // What a desktop adds when a folder is opened (Finder's .DS_Store, Windows'
    // Thumbs.db and desktop.ini) is not part of the pack: passed over, and said.
    let clutter: Vec<String> = present
        .difference(&listed)
        .filter(|p| {
            let name = p.rsplit('/').next().unwrap_or(p);
            matches!(name, ".DS_Store" | "Thumbs.db" | "desktop.ini") || name.starts_with("._")
        })
        .cloned()
        .collect();
    for p in present.difference(&listed) {
        if !clutter.contains(p) {
            problems.push(format!("{p}: not in the manifest"));
        }
    }
    let mut entries_checked = 0;
    let mut links_checked = 0;
    let mut withheld_seen = 0;
    // The originals the included entries were read from (chain version 2 names each
    // entry's file), to check every file under originals/ is one of them.
    let mut named_files: BTreeSet<String> = BTreeSet::new();
    let mut all_v2 = true;
    match std::fs::read_to_string(dir.join("journal/links.jsonl")) {
        Err(e) => problems.push(format!("journal/links.jsonl: {e}")),
        Ok(text) => {
            let mut prev: Option<ChainLink> = None;
            for (i, line) in text.lines().enumerate() {
                let l: ChainLink = match serde_json::from_str(line) {
                    Ok(l) => l,
                    Err(e) => {
                        problems.push(format!("journal/links.jsonl line {}: {e}", i + 1));
                        continue;
                    }
                };
                let (Some(p), Ok(_)) = (parse_hex32(&l.prev_hash), u64::try_from(l.seq)) else {
                    problems.push(format!("entry #{}: unreadable prev_hash or seq", l.seq));
                    continue;
                };
                if !l.withheld {
                    all_v2 &= l.chain_version >= 2;
                    if let Some(f) = &l.file_sha256 {
                        named_files.insert(f.clone());
                    }
                }
                if l.withheld {
                    // Given by its hash alone: nothing to recompute, but it must still
                    // chain to the entry before it when that one is here.
                    if parse_hex32(&l.hash).is_none() || !l.entry_json.is_empty() {
                        problems.push(format!(
                            "entry #{}: a withheld link with content or no hash",
                            l.seq
                        ));
                    }
                    if let Some(pr) = prev.as_ref().filter(|pr| pr.seq + 1 == l.seq) {
                        links_checked += 1;
                        if pr.hash != l.prev_hash {
                            problems.push(format!(
                                "entry #{}: prev_hash is not the hash of entry #{}",
                                l.seq, pr.seq
                            ));
                        }
                    }
                    withheld_seen += 1;
                    prev = Some(l);
                    continue;
                }
                let h = l.recompute(&p).map(|h| backstock_ledger::chain::to_hex(&h));
                if h.as_deref() != Some(l.hash.as_str()) {
                    problems.push(format!(
                        "entry #{} ({}) does not hash to {}",
                        l.seq, l.entry_id, l.hash
                    ));
                }
                match serde_json::from_str::<Entry>(&l.entry_json) {
                    Ok(e) if e.id == EntryId::new(l.entry_id.clone()).unwrap_or(e.id.clone()) => {}
                    Ok(_) => {
                        problems.push(format!("entry #{}: its id is not {}", l.seq, l.entry_id))
                    }
                    Err(e) => problems.push(format!("entry #{}: unreadable entry ({e})", l.seq)),
                }
                entries_checked += 1;
                if let Some(pr) = &prev {
                    if pr.seq + 1 == l.seq {
                        links_checked += 1;
                        if pr.hash != l.prev_hash {
                            problems.push(format!(
                                "entry #{}: prev_hash is not the hash of entry #{}",
                                l.seq, pr.seq
                            ));
                        }
                    }
                }
                prev = Some(l);
            }
        }
    }
    // An original no included entry was read from is not what the figures rest on (a
    // file swapped in with the manifest rewritten). Entries sealed before chain
    // version 2 do not name their file: then this cannot be told.
    if all_v2 && entries_checked > 0 {
        for path in listed.iter().filter(|p| p.starts_with("originals/")) {
            if let Ok(bytes) = std::fs::read(dir.join(path)) {
                if !named_files.contains(&sha_hex(&bytes)) {
                    problems.push(format!(
                        "{path}: no journal entry of the pack was read from it (its SHA-256 is none of the entries' file_sha256)"
                    ));
                }
            }
        }
    }
    Ok(PackCheck {
        files_checked: listed.len(),
        entries_checked,
        links_checked,
        withheld: withheld_seen,
        manifest_sha256: sha_hex(manifest.as_bytes()),
        problems,
        ignored: clutter,
    })
}
