//! Business events: what happened, as the label would say it, and how each expands
//! into transfers.
//!
//! The ownership invariant lives here. Unit postings are built by exactly two
//! functions: [`move_units`], which takes **one** owner for both sides (a move can
//! change who holds units and their state, never who owns them), and
//! [`transfer_title`], which only title events call (sale, retail return, write-off,
//! recorded title transfer) — see [`Event::is_title_event`]. The property tests check
//! that every other event leaves each owner's units unchanged.

use crate::accounts::{AccountKey, MoneyAccount, MoneyKind, UnitAccount, UnitState};
use crate::engine::TransferId;
use crate::facts::{DeductionReason, Fact};
use backstock_domain::{Currency, Date, DomainError, Money, PartyId, Sku};
use serde::{Deserialize, Serialize};
use std::fmt;

/// A caller-chosen, idempotent entry id (e.g. `shipment:S-1001`,
/// `statement:allegro-2016-03`). Recording an entry whose id exists with the same
/// content changes nothing; with different content it is refused.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct EntryId(String);

impl EntryId {
    pub const MAX_LEN: usize = 200;
    pub fn new(text: impl Into<String>) -> Result<EntryId, DomainError> {
        let s = text.into();
        if s.is_empty() || s.len() > EntryId::MAX_LEN || s.chars().any(|c| c.is_control()) {
            return Err(DomainError::new(
                s,
                "an entry id of 1-200 printable characters",
            ));
        }
        Ok(EntryId(s))
    }
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for EntryId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Where an entry came from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "source", rename_all = "snake_case")]
pub enum Provenance {
    /// Lines of an imported file (content-addressed by SHA-256).
    File {
        sha256: String,
        name: String,
        /// First and last line (1-based, header = 1) that this entry was built from.
        first_line: u64,
        last_line: u64,
    },
    /// Typed at the command line or in the web app.
    Command { user: String, command: String },
    /// The demo generator.
    Demo,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Entry {
    pub id: EntryId,
    /// When it happened.
    pub effective_on: Date,
    /// When the label learned it (e.g. a statement's issue date); ≥ effective_on is
    /// typical but not required.
    pub known_on: Date,
    pub provenance: Provenance,
    /// Read without buffering a large statement first (`event_serde`).
    #[serde(deserialize_with = "crate::event_serde::deserialize")]
    pub event: Event,
}

/// Kinds of statement line (the canonical `statements.csv` kinds).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LineKind {
    Sale,
    Return,
    Fee,
    ReserveWithheld,
    ReserveReleased,
    Chargeback,
    Adjustment,
}

impl LineKind {
    pub const ALL: [LineKind; 7] = [
        LineKind::Sale,
        LineKind::Return,
        LineKind::Fee,
        LineKind::ReserveWithheld,
        LineKind::ReserveReleased,
        LineKind::Chargeback,
        LineKind::Adjustment,
    ];
    pub fn as_str(&self) -> &'static str {
        match self {
            LineKind::Sale => "sale",
            LineKind::Return => "return",
            LineKind::Fee => "fee",
            LineKind::ReserveWithheld => "reserve_withheld",
            LineKind::ReserveReleased => "reserve_released",
            LineKind::Chargeback => "chargeback",
            LineKind::Adjustment => "adjustment",
        }
    }
    pub fn parse(s: &str) -> Option<LineKind> {
        LineKind::ALL.into_iter().find(|k| k.as_str() == s)
    }
    /// Sign of this kind in the net due to the label:
    /// sales − returns − fees − reserve withheld + reserve released − chargebacks + adjustments.
    pub fn net_sign(&self) -> i64 {
        match self {
            LineKind::Sale | LineKind::ReserveReleased | LineKind::Adjustment => 1,
            LineKind::Return | LineKind::Fee | LineKind::ReserveWithheld | LineKind::Chargeback => {
                -1
            }
        }
    }
}

/// Physical units or digital income.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, Default,
)]
#[serde(rename_all = "snake_case")]
pub enum Channel {
    #[default]
    Physical,
    /// Downloads and streams: money moves, no units leave a warehouse.
    Digital,
}

impl Channel {
    pub fn is_physical(&self) -> bool {
        *self == Channel::Physical
    }
}

/// One aggregated statement line: all source lines of one kind for one SKU.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StatementLine {
    pub kind: LineKind,
    pub sku: Option<Sku>,
    pub units: i64,
    pub amount_minor: i64,
    #[serde(default, skip_serializing_if = "Channel::is_physical")]
    pub channel: Channel,
}

/// A distributor's statement for a period, aggregated per SKU × kind (the original
/// file is the line-level record).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Statement {
    pub statement_id: String,
    pub distributor: PartyId,
    pub period_start: Date,
    pub period_end: Date,
    pub issued_on: Date,
    pub currency: Currency,
    pub lines: Vec<StatementLine>,
}

impl Statement {
    /// Net due to the label, in minor units (checked).
    pub fn net_due_minor(&self) -> Option<i64> {
        self.lines.iter().try_fold(0i64, |acc, l| {
            l.amount_minor
                .checked_mul(l.kind.net_sign())
                .and_then(|v| acc.checked_add(v))
        })
    }

    /// The statement summed per kind × channel, without SKUs: one line per kind and
    /// channel that occurs (in the order they first occur) instead of one per SKU.
    /// What the early-warning and receivables computations read of a statement — the
    /// net due, the reserves, the physical units sold and returned — is the same on
    /// the digest as on the statement; what needs SKUs (stock moved by the statement,
    /// royalties, reconciliation) is not there. `None` when a sum would overflow, or
    /// the statement's own net due does, so that the caller reads the statement itself.
    pub fn digest(&self) -> Option<Statement> {
        self.net_due_minor()?;
        let mut sums: Vec<StatementLine> = Vec::with_capacity(LineKind::ALL.len());
        for l in &self.lines {
            match sums
                .iter_mut()
                .find(|s| s.kind == l.kind && s.channel == l.channel)
            {
                Some(s) => {
                    s.units = s.units.checked_add(l.units)?;
                    s.amount_minor = s.amount_minor.checked_add(l.amount_minor)?;
                }
                None => sums.push(StatementLine {
                    kind: l.kind,
                    sku: None,
                    units: l.units,
                    amount_minor: l.amount_minor,
                    channel: l.channel,
                }),
            }
        }
        let digest = Statement {
            statement_id: self.statement_id.clone(),
            distributor: self.distributor.clone(),
            period_start: self.period_start,
            period_end: self.period_end,
            issued_on: self.issued_on,
            currency: self.currency,
            lines: sums,
        };
        // Summing per kind first must not change the net due (no overflow above).
        (digest.net_due_minor() == self.net_due_minor()).then_some(digest)
    }
}

impl Entry {
    /// A statement entry with its statement's [`Statement::digest`] in place of its
    /// lines (id, dates and provenance as they are); `None` for any other entry, or
    /// when the statement has no digest.
    pub fn statement_digest(&self) -> Option<Entry> {
        let Event::Statement(st) = &self.event else {
            return None;
        };
        Some(Entry {
            id: self.id.clone(),
            effective_on: self.effective_on,
            known_on: self.known_on,
            provenance: self.provenance.clone(),
            event: Event::Statement(st.digest()?),
        })
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "event", rename_all = "snake_case")]
pub enum Event {
    /// Units made at a plant for the label, delivered to `to` (the label or a
    /// distributor).
    Manufacture {
        run_id: String,
        plant: PartyId,
        to: PartyId,
        sku: Sku,
        units: u64,
    },
    /// Units moved between holders; the label keeps title. Label → distributor is a
    /// consignment shipment, distributor → label a return to label, distributor →
    /// distributor a transfer.
    Shipment {
        shipment_id: String,
        from: PartyId,
        to: PartyId,
        sku: Sku,
        units: u64,
        po_number: Option<String>,
        /// Set when a credit hold was overridden: who and why.
        override_reason: Option<String>,
    },
    /// Units held against the label's will (e.g. an insolvent distributor refusing a
    /// return), or released from that state (`units` negative).
    Detention {
        holder: PartyId,
        sku: Sku,
        units: i64,
        reason: String,
    },
    /// A distributor's statement: sales and returns (title passes), fees, reserves,
    /// chargebacks, adjustments.
    Statement(Statement),
    PaymentReceived {
        payment_id: String,
        distributor: PartyId,
        amount: Money,
        statement_id: Option<String>,
    },
    /// Units destroyed or lost: title passes to scrap.
    WriteOff {
        holder: PartyId,
        sku: Sku,
        units: u64,
        reason: String,
    },
    /// A recorded title transfer (e.g. a buy-back from a liquidator).
    TitleTransfer {
        from_owner: PartyId,
        from_holder: PartyId,
        to_owner: PartyId,
        to_holder: PartyId,
        sku: Sku,
        units: u64,
        reason: String,
    },
    /// The label accepts a deduction a distributor took from a statement (paid it short):
    /// the amount leaves the receivable for the deduction expense account.
    DeductionAccepted {
        distributor: PartyId,
        statement_id: String,
        amount: Money,
        reason: DeductionReason,
        note: String,
    },
    /// The label gives up on money a distributor owes (a failed distributor, a
    /// settlement): the amount leaves the receivable for bad debt.
    ReceivableWrittenOff {
        distributor: PartyId,
        /// The statement it was owed on, when it is one statement's balance.
        statement_id: Option<String>,
        amount: Money,
        reason: String,
    },
    /// The label buys its own consigned units back from the distributor holding them
    /// (or its liquidator, as Allegro's offered at $1 a unit): the units come home to
    /// the label's warehouse (from `on_hand` or `detained` at the holder) and what was
    /// paid goes from cash to the buy-back expense.
    BuyBack {
        buyback_id: String,
        holder: PartyId,
        sku: Sku,
        units: u64,
        /// The units were held against the label's will (detained) at the holder.
        detained: bool,
        /// Paid in all for these units (zero if nothing was paid).
        paid: Money,
        /// Who was paid (the distributor, a liquidator, a lender's agent).
        paid_to: String,
    },
    /// Reverses an earlier entry: its postings with debit and credit swapped (pending
    /// reserves it created are voided). History is never edited.
    Correction {
        reverses: EntryId,
        reason: String,
        postings: Vec<Posting>,
    },
    Fact(Fact),
    /// A royalty period's statements, posted and locked: royalty expense, royalty
    /// payable and recoupment against advances per payee; the statements as sent.
    RoyaltyRun(RoyaltyRun),
    /// The label paid a payee what royalties made payable: royalty payable → cash.
    RoyaltyPaid(RoyaltyPayment),
}

/// A payment of royalties to a payee (`backstock payout record|run`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RoyaltyPayment {
    /// The payout's own id (the entry id is `payout:` + this).
    pub payout_id: String,
    pub payee: PartyId,
    /// What was paid (more than zero).
    pub amount: Money,
    /// The bank's or the label's reference, printed on the remittance advice.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reference: Option<String>,
    /// The royalty period whose statement this pays, when paid from a run.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub period: Option<String>,
}

/// What one payee's statement under one contract posts, in one currency.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RoyaltyPosting {
    pub contract_id: String,
    pub payee: PartyId,
    /// Royalties recognized this period (signed: returns can make it negative):
    /// royalty expense → royalty payable.
    pub royalties: Money,
    /// Recoupable costs charged to the payee this period, paid by the label:
    /// cash → advance (an asset until recouped).
    pub costs_charged: Money,
    /// Earnings applied against advances and costs (signed): royalty payable →
    /// advance. After the run the payee's advance account holds exactly what remains
    /// unrecouped.
    pub recouped: Money,
}

/// A royalty run: one period, posted once and then locked.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RoyaltyRun {
    /// `2016H1`, `2016Q2` or `2016-05`.
    pub period: String,
    pub period_start: Date,
    pub period_end: Date,
    pub postings: Vec<RoyaltyPosting>,
    /// The run as computed and sent: statements, tie-out, closing balances (the next
    /// run's opening). Kept whole so a statement can be reproduced exactly.
    pub result: RunDocument,
}

/// A royalty run's stored result: JSON text, kept in the journal as a JSON string. Not
/// a `serde_json::Value` tree, which for a label with 10,000 payees would take ten
/// times the text's memory (and `RawValue` cannot sit inside the tagged `Event`).
/// Runs recorded by earlier versions held the document inline as an object; they are
/// read and written back in that form, so their hashed bodies still match.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RunDocument {
    json: String,
    inline: bool,
}

impl RunDocument {
    /// The document of anything serializable.
    pub fn of<T: Serialize>(value: &T) -> Result<RunDocument, serde_json::Error> {
        Ok(RunDocument {
            json: serde_json::to_string(value)?,
            inline: false,
        })
    }
    /// Its JSON text.
    pub fn json(&self) -> &str {
        &self.json
    }
}

impl Serialize for RunDocument {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        if self.inline {
            let v: serde_json::Value =
                serde_json::from_str(&self.json).map_err(serde::ser::Error::custom)?;
            v.serialize(s)
        } else {
            s.serialize_str(&self.json)
        }
    }
}

impl<'de> Deserialize<'de> for RunDocument {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<RunDocument, D::Error> {
        Ok(match serde_json::Value::deserialize(d)? {
            serde_json::Value::String(json) => RunDocument {
                json,
                inline: false,
            },
            other => RunDocument {
                json: other.to_string(),
                inline: true,
            },
        })
    }
}

impl Event {
    /// Events that may change who owns units.
    pub fn is_title_event(&self) -> bool {
        match self {
            Event::Statement(_) | Event::WriteOff { .. } | Event::TitleTransfer { .. } => true,
            Event::Correction { postings, .. } => {
                postings.iter().any(|p| match (&p.debit, &p.credit) {
                    (AccountKey::Units(d), AccountKey::Units(c)) => d.owner() != c.owner(),
                    _ => false,
                })
            }
            _ => false,
        }
    }

    pub fn name(&self) -> &'static str {
        self.kind().as_str()
    }

    /// The kind of entry this event makes (the journal's `kind` column).
    pub fn kind(&self) -> EntryKind {
        match self {
            Event::Manufacture { .. } => EntryKind::Manufacture,
            Event::Shipment { .. } => EntryKind::Shipment,
            Event::Detention { .. } => EntryKind::Detention,
            Event::Statement(_) => EntryKind::Statement,
            Event::PaymentReceived { .. } => EntryKind::Payment,
            Event::WriteOff { .. } => EntryKind::WriteOff,
            Event::TitleTransfer { .. } => EntryKind::TitleTransfer,
            Event::DeductionAccepted { .. } => EntryKind::DeductionAccepted,
            Event::ReceivableWrittenOff { .. } => EntryKind::ReceivableWrittenOff,
            Event::BuyBack { .. } => EntryKind::BuyBack,
            Event::Correction { .. } => EntryKind::Correction,
            Event::RoyaltyRun(_) => EntryKind::RoyaltyRun,
            Event::RoyaltyPaid(_) => EntryKind::RoyaltyPaid,
            Event::Fact(f) => match f {
                Fact::Party(_) => EntryKind::Party,
                Fact::CatalogItem(_) => EntryKind::CatalogItem,
                Fact::Agreement(_) => EntryKind::Agreement,
                Fact::PurchaseOrder(_) => EntryKind::PurchaseOrder,
                Fact::StockReport(_) => EntryKind::StockReport,
                Fact::ReceiptConfirmed(_) => EntryKind::ReceiptConfirmed,
                Fact::Alias { .. } => EntryKind::Alias,
                Fact::Ucc1Filing(_) => EntryKind::Ucc1Filing,
                Fact::PmsiNotice(_) => EntryKind::PmsiNotice,
                Fact::Demand(_) => EntryKind::Demand,
                Fact::DemandResponse(_) => EntryKind::DemandResponse,
                Fact::DeductionDisputed(_) => EntryKind::DeductionDisputed,
                Fact::Unmatched(_) => EntryKind::Unmatched,
                Fact::Payee(_) => EntryKind::Payee,
                Fact::RoyaltyContract(_) => EntryKind::RoyaltyContract,
                Fact::RoyaltyCost(_) => EntryKind::RoyaltyCost,
                Fact::Insolvency(_) => EntryKind::Insolvency,
                Fact::Document(_) => EntryKind::Document,
                Fact::TaxForm(_) => EntryKind::TaxForm,
            },
        }
    }
}

/// What kind of entry an event makes: the journal's `kind` column and the filter of
/// `Store::entries`. Shown and parsed as its snake_case name (`shipment`, `catalog_item`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum EntryKind {
    Manufacture,
    Shipment,
    Detention,
    Statement,
    Payment,
    WriteOff,
    TitleTransfer,
    DeductionAccepted,
    ReceivableWrittenOff,
    BuyBack,
    Correction,
    Party,
    CatalogItem,
    Agreement,
    PurchaseOrder,
    StockReport,
    ReceiptConfirmed,
    Alias,
    Ucc1Filing,
    PmsiNotice,
    Demand,
    DemandResponse,
    DeductionDisputed,
    Unmatched,
    Payee,
    RoyaltyContract,
    RoyaltyCost,
    RoyaltyRun,
    Insolvency,
    Document,
    RoyaltyPaid,
    TaxForm,
}

impl EntryKind {
    pub const ALL: [EntryKind; 32] = [
        EntryKind::Manufacture,
        EntryKind::Shipment,
        EntryKind::Detention,
        EntryKind::Statement,
        EntryKind::Payment,
        EntryKind::WriteOff,
        EntryKind::TitleTransfer,
        EntryKind::DeductionAccepted,
        EntryKind::ReceivableWrittenOff,
        EntryKind::BuyBack,
        EntryKind::Correction,
        EntryKind::Party,
        EntryKind::CatalogItem,
        EntryKind::Agreement,
        EntryKind::PurchaseOrder,
        EntryKind::StockReport,
        EntryKind::ReceiptConfirmed,
        EntryKind::Alias,
        EntryKind::Ucc1Filing,
        EntryKind::PmsiNotice,
        EntryKind::Demand,
        EntryKind::DemandResponse,
        EntryKind::DeductionDisputed,
        EntryKind::Unmatched,
        EntryKind::Payee,
        EntryKind::RoyaltyContract,
        EntryKind::RoyaltyCost,
        EntryKind::RoyaltyRun,
        EntryKind::Insolvency,
        EntryKind::Document,
        EntryKind::RoyaltyPaid,
        EntryKind::TaxForm,
    ];
    pub fn as_str(&self) -> &'static str {
        match self {
            EntryKind::Manufacture => "manufacture",
            EntryKind::Shipment => "shipment",
            EntryKind::Detention => "detention",
            EntryKind::Statement => "statement",
            EntryKind::Payment => "payment",
            EntryKind::WriteOff => "write_off",
            EntryKind::TitleTransfer => "title_transfer",
            EntryKind::DeductionAccepted => "deduction_accepted",
            EntryKind::ReceivableWrittenOff => "receivable_written_off",
            EntryKind::BuyBack => "buy_back",
            EntryKind::Correction => "correction",
            EntryKind::Party => "party",
            EntryKind::CatalogItem => "catalog_item",
            EntryKind::Agreement => "agreement",
            EntryKind::PurchaseOrder => "purchase_order",
            EntryKind::StockReport => "stock_report",
            EntryKind::ReceiptConfirmed => "receipt_confirmed",
            EntryKind::Alias => "alias",
            EntryKind::Ucc1Filing => "ucc1_filing",
            EntryKind::PmsiNotice => "pmsi_notice",
            EntryKind::Demand => "demand",
            EntryKind::DemandResponse => "demand_response",
            EntryKind::DeductionDisputed => "deduction_disputed",
            EntryKind::Unmatched => "unmatched",
            EntryKind::Payee => "payee",
            EntryKind::RoyaltyContract => "royalty_contract",
            EntryKind::RoyaltyCost => "royalty_cost",
            EntryKind::RoyaltyRun => "royalty_run",
            EntryKind::Insolvency => "insolvency",
            EntryKind::Document => "document",
            EntryKind::RoyaltyPaid => "royalty_paid",
            EntryKind::TaxForm => "tax_form",
        }
    }
    /// The kind named `s`, if there is one.
    pub fn parse(s: &str) -> Option<EntryKind> {
        EntryKind::ALL.into_iter().find(|k| k.as_str() == s)
    }
}

impl fmt::Display for EntryKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// How a posting acts on the engine.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "phase", rename_all = "snake_case")]
pub enum Phase {
    Posted,
    /// A pending transfer whose id is derived from the entry id and index.
    Pending,
    /// Posts (part of) an open pending transfer.
    PostPending {
        pending: TransferIdHex,
    },
    VoidPending {
        pending: TransferIdHex,
    },
}

/// A transfer id as 32 hex digits (JSON has no u128).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct TransferIdHex(pub TransferId);

impl Serialize for TransferIdHex {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&format!("{:032x}", self.0 .0))
    }
}
impl<'de> Deserialize<'de> for TransferIdHex {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<TransferIdHex, D::Error> {
        let s = String::deserialize(d)?;
        u128::from_str_radix(&s, 16)
            .map(|v| TransferIdHex(TransferId(v)))
            .map_err(serde::de::Error::custom)
    }
}

/// One transfer of an entry, by account key: `amount` moves from `credit` to `debit`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Posting {
    pub debit: AccountKey,
    pub credit: AccountKey,
    pub amount: u64,
    #[serde(flatten)]
    pub phase: Phase,
}

/// Why an event cannot be expanded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExpandError(pub String);

impl fmt::Display for ExpandError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// What expansion may ask of the ledger: open pending reserves, oldest first.
pub trait LedgerView {
    /// Open pending reserve releases for (label ← distributor, currency), oldest first,
    /// as (pending transfer id, amount).
    fn open_reserves(&self, distributor: &PartyId, currency: Currency) -> Vec<(TransferId, u64)>;
    /// Whether a pending transfer is still open.
    fn pending_open(&self, id: TransferId) -> bool;
}

/// The id of the `index`-th transfer of an entry: the first 16 bytes of
/// SHA-256(entry id, 0, index), never zero. Deterministic, so a later entry can name a
/// pending transfer of an earlier one (reserve releases, corrections).
pub fn transfer_id(entry: &EntryId, index: usize) -> TransferId {
    use sha2::{Digest, Sha256};
    let mut h = Sha256::new();
    h.update(entry.as_str().as_bytes());
    h.update([0u8]);
    h.update((index as u64).to_be_bytes());
    let d = h.finalize();
    let mut b = [0u8; 16];
    b.copy_from_slice(&d[..16]);
    TransferId(u128::from_be_bytes(b).max(1))
}

/// Builds a unit posting that keeps the owner: the only way a non-title event moves
/// units. Negative `units` move the other way.
pub fn move_units(
    owner: &PartyId,
    from: (&PartyId, UnitState),
    to: (&PartyId, UnitState),
    sku: &Sku,
    units: i64,
) -> Option<Posting> {
    let debit = AccountKey::Units(UnitAccount::new(
        owner.clone(),
        to.0.clone(),
        sku.clone(),
        to.1,
    ));
    let credit = AccountKey::Units(UnitAccount::new(
        owner.clone(),
        from.0.clone(),
        sku.clone(),
        from.1,
    ));
    signed_posting(debit, credit, units)
}

/// Builds a unit posting that changes title. Private to title events.
fn transfer_title(
    from: (&PartyId, &PartyId, UnitState),
    to: (&PartyId, &PartyId, UnitState),
    sku: &Sku,
    units: i64,
) -> Option<Posting> {
    let debit = AccountKey::Units(UnitAccount::new(
        to.0.clone(),
        to.1.clone(),
        sku.clone(),
        to.2,
    ));
    let credit = AccountKey::Units(UnitAccount::new(
        from.0.clone(),
        from.1.clone(),
        sku.clone(),
        from.2,
    ));
    signed_posting(debit, credit, units)
}

fn money(
    label: &PartyId,
    counterparty: &PartyId,
    kind: MoneyKind,
    currency: Currency,
) -> AccountKey {
    AccountKey::Money(MoneyAccount::new(
        label.clone(),
        counterparty.clone(),
        kind,
        currency,
    ))
}

/// Refuses a zero or negative amount where only a positive one makes sense.
fn positive(amount: &Money, what: &str) -> Result<(), ExpandError> {
    if amount.minor() <= 0 {
        return Err(ExpandError(format!(
            "{what} must be more than zero (got {} {})",
            amount.to_decimal_string(),
            amount.currency().code()
        )));
    }
    Ok(())
}

/// A posting of a signed amount: negative swaps debit and credit; zero is no posting.
fn signed_posting(debit: AccountKey, credit: AccountKey, amount: i64) -> Option<Posting> {
    match amount.cmp(&0) {
        std::cmp::Ordering::Equal => None,
        std::cmp::Ordering::Greater => Some(Posting {
            debit,
            credit,
            amount: amount.unsigned_abs(),
            phase: Phase::Posted,
        }),
        std::cmp::Ordering::Less => Some(Posting {
            debit: credit,
            credit: debit,
            amount: amount.unsigned_abs(),
            phase: Phase::Posted,
        }),
    }
}

fn units_i64(units: u64) -> Result<i64, ExpandError> {
    i64::try_from(units)
        .map_err(|_| ExpandError(format!("{units} units is more than backstock can count")))
}

/// Limit on postings per entry: a statement of every SKU of a large catalog × 7 kinds.
pub const MAX_POSTINGS_PER_ENTRY: usize = 1_000_000;

impl Entry {
    /// The postings this entry expands into, in order. All of them are applied as one
    /// linked chain: all or nothing.
    pub fn postings(&self, view: &dyn LedgerView) -> Result<Vec<Posting>, ExpandError> {
        let label = PartyId::label();
        let on = UnitState::OnHand;
        let mut out = Vec::new();
        match &self.event {
            Event::Manufacture {
                plant,
                to,
                sku,
                units,
                ..
            } => {
                out.extend(move_units(
                    &label,
                    (plant, UnitState::Origin),
                    (to, on),
                    sku,
                    units_i64(*units)?,
                ));
            }
            Event::Shipment {
                from,
                to,
                sku,
                units,
                ..
            } => {
                if from == to {
                    return Err(ExpandError(format!(
                        "a shipment from {from} to itself moves nothing"
                    )));
                }
                out.extend(move_units(
                    &label,
                    (from, on),
                    (to, on),
                    sku,
                    units_i64(*units)?,
                ));
            }
            Event::Detention {
                holder, sku, units, ..
            } => {
                out.extend(move_units(
                    &label,
                    (holder, on),
                    (holder, UnitState::Detained),
                    sku,
                    *units,
                ));
            }
            Event::Statement(st) => {
                let market = PartyId::market();
                let d = &st.distributor;
                let cur = st.currency;
                let mut reserves = view.open_reserves(d, cur);
                reserves.reverse(); // pop() gives the oldest
                let mut sales_minor: i64 = 0;
                for line in &st.lines {
                    let amount = line.amount_minor;
                    match line.kind {
                        LineKind::Sale | LineKind::Return => {
                            let sign = if line.kind == LineKind::Sale { 1 } else { -1 };
                            if let (Some(sku), Channel::Physical) = (&line.sku, line.channel) {
                                out.extend(transfer_title(
                                    (&label, d, on),
                                    (&market, &market, on),
                                    sku,
                                    line.units.saturating_mul(sign),
                                ));
                            }
                            // Money of all sale and return lines is posted once per
                            // statement (below): the per-SKU detail stays in the entry.
                            sales_minor = sales_minor.saturating_add(amount.saturating_mul(sign));
                        }
                        LineKind::Fee => out.extend(signed_posting(
                            money(&label, d, MoneyKind::DistributionFee, cur),
                            money(&label, d, MoneyKind::Receivable, cur),
                            amount,
                        )),
                        LineKind::Chargeback => out.extend(signed_posting(
                            money(&label, d, MoneyKind::Chargeback, cur),
                            money(&label, d, MoneyKind::Receivable, cur),
                            amount,
                        )),
                        LineKind::Adjustment => out.extend(signed_posting(
                            money(&label, d, MoneyKind::Receivable, cur),
                            money(&label, d, MoneyKind::Adjustment, cur),
                            amount,
                        )),
                        LineKind::ReserveWithheld => {
                            // Withheld: moved from receivable to reserve now, and a pending
                            // release scheduled (two-phase) that a later release posts.
                            if let Some(p) = signed_posting(
                                money(&label, d, MoneyKind::ReserveHeld, cur),
                                money(&label, d, MoneyKind::Receivable, cur),
                                amount,
                            ) {
                                if amount > 0 {
                                    out.push(p);
                                    out.push(Posting {
                                        debit: money(&label, d, MoneyKind::Receivable, cur),
                                        credit: money(&label, d, MoneyKind::ReserveHeld, cur),
                                        amount: amount.unsigned_abs(),
                                        phase: Phase::Pending,
                                    });
                                } else {
                                    out.push(p);
                                }
                            }
                        }
                        LineKind::ReserveReleased => {
                            if amount < 0 {
                                return Err(ExpandError(format!(
                                    "statement {}: a reserve release of {} is negative; record it as reserve_withheld",
                                    st.statement_id,
                                    Money::from_minor(amount, cur)
                                )));
                            }
                            let mut left = amount.unsigned_abs();
                            while left > 0 {
                                let Some((pid, pamount)) = reserves.pop() else {
                                    break;
                                };
                                let post = left.min(pamount);
                                out.push(Posting {
                                    debit: money(&label, d, MoneyKind::Receivable, cur),
                                    credit: money(&label, d, MoneyKind::ReserveHeld, cur),
                                    amount: post,
                                    phase: Phase::PostPending {
                                        pending: TransferIdHex(pid),
                                    },
                                });
                                if post < pamount {
                                    // Partial release: the rest stays scheduled as a new pending.
                                    out.push(Posting {
                                        debit: money(&label, d, MoneyKind::Receivable, cur),
                                        credit: money(&label, d, MoneyKind::ReserveHeld, cur),
                                        amount: pamount - post,
                                        phase: Phase::Pending,
                                    });
                                }
                                left -= post;
                            }
                            if left > 0 {
                                // More released than we saw withheld (e.g. withheld before
                                // backstock): post it plainly.
                                out.push(Posting {
                                    debit: money(&label, d, MoneyKind::Receivable, cur),
                                    credit: money(&label, d, MoneyKind::ReserveHeld, cur),
                                    amount: left,
                                    phase: Phase::Posted,
                                });
                            }
                        }
                    }
                }
                out.extend(signed_posting(
                    money(&label, d, MoneyKind::Receivable, cur),
                    money(&label, d, MoneyKind::Revenue, cur),
                    sales_minor,
                ));
            }
            Event::PaymentReceived {
                distributor,
                amount,
                ..
            } => {
                let cur = amount.currency();
                out.extend(signed_posting(
                    money(&label, &label, MoneyKind::Cash, cur),
                    money(&label, distributor, MoneyKind::Receivable, cur),
                    amount.minor(),
                ));
            }
            Event::WriteOff {
                holder, sku, units, ..
            } => {
                let scrap = PartyId::scrap();
                out.extend(transfer_title(
                    (&label, holder, on),
                    (&scrap, &scrap, on),
                    sku,
                    units_i64(*units)?,
                ));
            }
            Event::TitleTransfer {
                from_owner,
                from_holder,
                to_owner,
                to_holder,
                sku,
                units,
                ..
            } => {
                out.extend(transfer_title(
                    (from_owner, from_holder, on),
                    (to_owner, to_holder, on),
                    sku,
                    units_i64(*units)?,
                ));
            }
            Event::DeductionAccepted {
                distributor,
                amount,
                ..
            } => {
                positive(amount, "a deduction accepted")?;
                let cur = amount.currency();
                out.extend(signed_posting(
                    money(&label, distributor, MoneyKind::Deduction, cur),
                    money(&label, distributor, MoneyKind::Receivable, cur),
                    amount.minor(),
                ));
            }
            Event::ReceivableWrittenOff {
                distributor,
                amount,
                ..
            } => {
                positive(amount, "a receivable written off")?;
                let cur = amount.currency();
                out.extend(signed_posting(
                    money(&label, distributor, MoneyKind::BadDebt, cur),
                    money(&label, distributor, MoneyKind::Receivable, cur),
                    amount.minor(),
                ));
            }
            Event::BuyBack {
                holder,
                sku,
                units,
                detained,
                paid,
                ..
            } => {
                if holder.is_label() {
                    return Err(ExpandError(
                        "a buy-back is from a distributor or its liquidator, not from the label"
                            .into(),
                    ));
                }
                if paid.minor() < 0 {
                    return Err(ExpandError(format!(
                        "a buy-back's price cannot be negative ({})",
                        paid.to_decimal_string()
                    )));
                }
                let state = if *detained { UnitState::Detained } else { on };
                out.extend(move_units(
                    &label,
                    (holder, state),
                    (&label, on),
                    sku,
                    units_i64(*units)?,
                ));
                let cur = paid.currency();
                out.extend(signed_posting(
                    money(&label, holder, MoneyKind::BuyBack, cur),
                    money(&label, &label, MoneyKind::Cash, cur),
                    paid.minor(),
                ));
            }
            Event::Correction {
                reverses, postings, ..
            } => {
                for (i, p) in postings.iter().enumerate() {
                    match p.phase {
                        Phase::Posted | Phase::PostPending { .. } => out.push(Posting {
                            debit: p.credit.clone(),
                            credit: p.debit.clone(),
                            amount: p.amount,
                            phase: Phase::Posted,
                        }),
                        // A scheduled reserve release of the reversed entry is voided if
                        // still open; if already released, the release's own posting
                        // (a separate entry) stands until it is corrected itself.
                        Phase::Pending => {
                            let id = transfer_id(reverses, i);
                            if view.pending_open(id) {
                                out.push(Posting {
                                    debit: p.debit.clone(),
                                    credit: p.credit.clone(),
                                    amount: p.amount,
                                    phase: Phase::VoidPending {
                                        pending: TransferIdHex(id),
                                    },
                                });
                            }
                        }
                        Phase::VoidPending { .. } => {}
                    }
                }
            }
            Event::RoyaltyRun(run) => {
                for p in &run.postings {
                    let payee = &p.payee;
                    for m in [p.royalties, p.costs_charged, p.recouped] {
                        if m.currency() != p.royalties.currency() {
                            return Err(ExpandError(format!(
                                "royalty run {}: amounts for {payee} on contract {} in two currencies",
                                run.period, p.contract_id
                            )));
                        }
                    }
                    let cur = p.royalties.currency();
                    out.extend(signed_posting(
                        money(&label, payee, MoneyKind::RoyaltyExpense, cur),
                        money(&label, payee, MoneyKind::RoyaltyPayable, cur),
                        p.royalties.minor(),
                    ));
                    out.extend(signed_posting(
                        money(&label, payee, MoneyKind::Advance, cur),
                        money(&label, &label, MoneyKind::Cash, cur),
                        p.costs_charged.minor(),
                    ));
                    out.extend(signed_posting(
                        money(&label, payee, MoneyKind::RoyaltyPayable, cur),
                        money(&label, payee, MoneyKind::Advance, cur),
                        p.recouped.minor(),
                    ));
                }
            }
            Event::RoyaltyPaid(p) => {
                positive(&p.amount, "a royalty payment")?;
                if p.payee.is_label() {
                    return Err(ExpandError(
                        "a royalty payment is to a payee, not to the label itself".into(),
                    ));
                }
                let cur = p.amount.currency();
                out.extend(signed_posting(
                    money(&label, &p.payee, MoneyKind::RoyaltyPayable, cur),
                    money(&label, &label, MoneyKind::Cash, cur),
                    p.amount.minor(),
                ));
            }
            Event::Fact(_) => {}
        }
        if out.len() > MAX_POSTINGS_PER_ENTRY {
            return Err(ExpandError(format!(
                "entry {} expands into {} transfers; the limit is {MAX_POSTINGS_PER_ENTRY}",
                self.id,
                out.len()
            )));
        }
        Ok(out)
    }
}

#[cfg(test)]
mod run_document_tests {
    use super::RunDocument;

    #[test]
    fn a_document_is_kept_as_a_string_and_reads_back_the_same() {
        let d = RunDocument::of(&serde_json::json!({"b": 1, "a": [true]})).unwrap();
        let text = serde_json::to_string(&d).unwrap();
        assert!(text.starts_with('"'), "{text}");
        let back: RunDocument = serde_json::from_str(&text).unwrap();
        assert_eq!(back, d);
        assert_eq!(serde_json::to_string(&back).unwrap(), text);
    }

    #[test]
    fn an_inline_document_of_earlier_versions_is_written_back_inline() {
        // What earlier versions stored: the document as an object (keys sorted).
        let old = r#"{"a":[true],"b":1}"#;
        let d: RunDocument = serde_json::from_str(old).unwrap();
        assert_eq!(d.json(), old);
        assert_eq!(serde_json::to_string(&d).unwrap(), old);
    }
}

#[cfg(test)]
mod entry_kind_tests {
    use super::EntryKind;

    #[test]
    fn every_kind_reads_back_from_its_name() {
        for k in EntryKind::ALL {
            assert_eq!(EntryKind::parse(k.as_str()), Some(k));
        }
        assert_eq!(EntryKind::parse("shipments"), None);
        let mut names: Vec<&str> = EntryKind::ALL.iter().map(|k| k.as_str()).collect();
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), EntryKind::ALL.len(), "names are distinct");
    }
}
