//! The ledger core of backstock.
//!
//! * [`engine`]: TigerBeetle-style accounts and transfers (double entry, idempotent
//!   ids, linked chains, balance limits, two-phase).
//! * [`accounts`]: what an account is in the label's terms — units by
//!   (owner, holder, SKU, state), money by (party, counterparty, kind, currency).
//! * [`events`]: business events and their expansion into postings; the ownership
//!   invariant.
//! * [`book`]: keys ↔ engine ids, recording an entry as one linked chain.
//! * [`chain`]: the journal's hash chain.
//! * [`canonical`]: what every store keeps of a transfer and hashes into the chain.
//!
//! Invariants: on every ledger Σ debits = Σ credits; only title events change who
//! owns units; an entry is applied whole or not at all. No I/O, no SQL, no CSV.

pub mod accounts;
pub mod book;
pub mod canonical;
pub mod chain;
pub mod engine;
mod event_serde;
pub mod events;
pub mod facts;

pub use accounts::{AccountKey, LedgerKey, MoneyAccount, MoneyKind, UnitAccount, UnitState};
pub use book::{Book, RecordError, Recorded};
pub use events::{
    move_units, transfer_id, Channel, Entry, EntryId, EntryKind, Event, ExpandError, LedgerView,
    LineKind, Phase, Posting, Provenance, RoyaltyPayment, RoyaltyPosting, RoyaltyRun, RunDocument,
    Statement, StatementLine, TransferIdHex,
};
pub use facts::Fact;
