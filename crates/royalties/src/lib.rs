//! Artist royalty statements for backstock: pure computation, no I/O.
//!
//! [`compute`] turns the journal entries known at a period's end (distributor
//! statements, payments, catalog items), contracts, payees and costs into one
//! [`PayeeStatement`] per contract × payee × currency, plus a [`TieOut`] per currency.
//!
//! # Rules
//!
//! * **Which statements belong to a period.** A distributor statement belongs to the
//!   royalty period containing the later of its `period_end` and the day it became
//!   known (`known_on`): a statement learned late is accounted when learned, never lost.
//! * **Royalty per line.** For each statement line whose SKU a contract covers (reserve
//!   lines excepted), the contract's most specific [`RateRule`] gives base and rate:
//!   net receipts = the line's signed amount (sales − returns − fees − chargebacks +
//!   adjustments); PPD = catalog wholesale price × signed units (sales − returns).
//!   The royalty is rounded **once per line**, [`Rounding::HalfEven`] via
//!   [`Money::apply_rate`].
//! * **Splits.** Each line royalty is split between the contract's payees with
//!   [`Money::allocate`] (each part rounded toward zero); the **remainder goes to the
//!   label** (`rounding_to_label` in the tie-out). Costs are split the same way; the
//!   remainder of a cost is absorbed by the label.
//! * **Earned vs collected.** Payments are allocated to statements: the statement a
//!   payment names first, the rest to the distributor's oldest unpaid statements (same
//!   currency). A statement's collected share = paid ÷ net due (1 if nothing is due),
//!   applied pro rata to its lines: collected royalty = line royalty × share, HalfEven.
//!   A contract on [`Basis::Collected`] recognizes, each period, the growth of that
//!   collected royalty since the previous period's end; on [`Basis::Earned`] the line
//!   royalties of the period's statements. Every statement lists what is earned but
//!   not collected over all statements known, flagged when the distributor is in
//!   default.
//! * **Costs and recoupment.** A recoupable cost is charged in the period containing
//!   its date (older costs are expected in the opening balances). On net-profit
//!   contracts, non-advance costs are charged at the net-profit rate (the artist's
//!   share of costs); advances at 100%. Cross-collateralized contracts keep one pool;
//!   otherwise each SKU is a pool, costs without a SKU sit in the contract-wide pool,
//!   and a SKU pool's positive balance flows into the contract-wide pool at close while
//!   a negative one stays unrecouped on that SKU.
//! * **Reserves.** `reserve_rate` × the period's positive recognized *physical*
//!   royalties is held (HalfEven) and released `reserve_release_periods` periods later.
//! * **Payment.** The contract-wide pool, if positive and ≥ `min_payout` (same
//!   currency), is payable; otherwise it is carried forward. `closing` of a run is the
//!   next run's [`OpeningBalances`].
//! * **Tie-out,** per currency, over the lines of the period's statements, to the
//!   minor unit: receipts = Σ payee royalties (summed from the payee statements) +
//!   rounding to label + label share (receipts − royalties, line by line, fees
//!   included) + distributor reserve lines.

#![deny(clippy::float_arithmetic)]

mod compute;
mod error;
pub mod lines;
mod model;
mod period;

pub use compute::{
    compute, compute_journal, AccountBalance, CostCharge, EarningsRow, HeldReserve, Journal,
    OpeningBalances, PayeeStatement, RoyaltyInputs, RunResult, TieOut, Uncollected,
};
pub use error::RoyaltyError;
pub use model::{Base, Basis, Contract, ContractTerms, Cost, CostKind, Payee, RateRule};
pub use period::{Period, PeriodKind};

#[allow(unused_imports)]
use backstock_domain::{Money, Rounding}; // for doc links
