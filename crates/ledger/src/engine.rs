//! The transfer engine, modelled on TigerBeetle's accounts and transfers.
//!
//! * An [`Account`] lives on one ledger (a SKU for units, a currency for money) and
//!   keeps four sums: debits/credits, pending/posted. Nothing else changes it.
//! * A [`Transfer`] moves a positive amount from its credit account to its debit
//!   account on one ledger. Every transfer debits one account and credits another by
//!   the same amount, so on every ledger Σ debits = Σ credits, always.
//! * Transfers are immutable and carry a caller-chosen id: submitting the same
//!   transfer again is reported as [`TransferError::Exists`] (harmless), the same id
//!   with other fields as [`TransferError::ExistsWithDifferentFields`].
//! * Transfers flagged `LINKED` form a chain with the next one; a chain succeeds or
//!   fails as a whole.
//! * Two-phase: a `PENDING` transfer reserves the amount (pending sums); a later
//!   `POST_PENDING` transfer posts all or part of it, `VOID_PENDING` cancels it.
//! * Balance limits: an account flagged `DEBITS_MUST_NOT_EXCEED_CREDITS` or
//!   `CREDITS_MUST_NOT_EXCEED_DEBITS` refuses any transfer that would break that,
//!   counting pending amounts against it.
//!
//! The engine does no I/O; callers persist what it accepts.

use rustc_hash::FxHashMap;
use std::fmt;

/// Index of an account in the engine (dense, assigned at creation).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct AccountId(pub u32);

/// A ledger: a SKU (units) or a currency (money). Transfers never cross ledgers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct LedgerId(pub u32);

/// Caller-chosen transfer id. 0 is reserved ("none").
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct TransferId(pub u128);

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Hash)]
pub struct AccountFlags(u16);

impl AccountFlags {
    pub const NONE: AccountFlags = AccountFlags(0);
    /// debits_pending + debits_posted ≤ credits_posted (liability-like accounts).
    pub const DEBITS_MUST_NOT_EXCEED_CREDITS: AccountFlags = AccountFlags(1);
    /// credits_pending + credits_posted ≤ debits_posted (stock on hand: can't ship
    /// units you don't hold).
    pub const CREDITS_MUST_NOT_EXCEED_DEBITS: AccountFlags = AccountFlags(2);

    pub fn contains(self, other: AccountFlags) -> bool {
        self.0 & other.0 == other.0 && other.0 != 0
    }
    pub fn bits(self) -> u16 {
        self.0
    }
    pub fn from_bits(bits: u16) -> AccountFlags {
        AccountFlags(bits & 3)
    }
}

impl std::ops::BitOr for AccountFlags {
    type Output = AccountFlags;
    fn bitor(self, o: AccountFlags) -> AccountFlags {
        AccountFlags(self.0 | o.0)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Hash)]
pub struct TransferFlags(u16);

impl TransferFlags {
    pub const NONE: TransferFlags = TransferFlags(0);
    pub const LINKED: TransferFlags = TransferFlags(1);
    pub const PENDING: TransferFlags = TransferFlags(2);
    pub const POST_PENDING: TransferFlags = TransferFlags(4);
    pub const VOID_PENDING: TransferFlags = TransferFlags(8);

    pub fn contains(self, other: TransferFlags) -> bool {
        self.0 & other.0 == other.0 && other.0 != 0
    }
    pub fn bits(self) -> u16 {
        self.0
    }
    pub fn from_bits(bits: u16) -> TransferFlags {
        TransferFlags(bits & 15)
    }
}

impl std::ops::BitOr for TransferFlags {
    type Output = TransferFlags;
    fn bitor(self, o: TransferFlags) -> TransferFlags {
        TransferFlags(self.0 | o.0)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Balance {
    pub debits_pending: u128,
    pub debits_posted: u128,
    pub credits_pending: u128,
    pub credits_posted: u128,
}

impl Balance {
    /// debits_posted − credits_posted as a signed number (saturating at i128 bounds).
    pub fn net_debit(&self) -> i128 {
        let d = i128::try_from(self.debits_posted).unwrap_or(i128::MAX);
        let c = i128::try_from(self.credits_posted).unwrap_or(i128::MAX);
        d.saturating_sub(c)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Account {
    pub ledger: LedgerId,
    pub flags: AccountFlags,
    pub balance: Balance,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Transfer {
    pub id: TransferId,
    pub debit: AccountId,
    pub credit: AccountId,
    /// For POST_PENDING: the amount to post (≤ pending amount; 0 = all).
    /// For VOID_PENDING: ignored (the pending amount is voided).
    pub amount: u64,
    pub ledger: LedgerId,
    pub flags: TransferFlags,
    /// For POST_PENDING / VOID_PENDING: the pending transfer.
    pub pending_id: TransferId,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TransferError {
    /// The same transfer was already accepted (idempotent resubmission).
    Exists,
    ExistsWithDifferentFields,
    IdMustNotBeZero,
    AccountNotFound,
    AccountsMustBeDifferent,
    LedgerMismatch,
    AmountMustNotBeZero,
    ExceedsCredits,
    ExceedsDebits,
    PendingTransferNotFound,
    PendingTransferAlreadyPosted,
    PendingTransferAlreadyVoided,
    PendingAmountExceeded,
    PendingIdRequired,
    ConflictingFlags,
    Overflow,
    /// Another transfer in the same linked chain failed.
    LinkedEventFailed,
    /// The batch ended inside an open linked chain.
    LinkedChainOpen,
    BatchTooLarge,
}

impl fmt::Display for TransferError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let s = match self {
            TransferError::Exists => "already recorded",
            TransferError::ExistsWithDifferentFields => {
                "an earlier transfer with the same id has different details"
            }
            TransferError::IdMustNotBeZero => "transfer id must not be zero",
            TransferError::AccountNotFound => "account not found",
            TransferError::AccountsMustBeDifferent => "debit and credit accounts must differ",
            TransferError::LedgerMismatch => "accounts are on a different ledger",
            TransferError::AmountMustNotBeZero => "amount must not be zero",
            TransferError::ExceedsCredits => {
                "would take the account below zero (debits exceed credits)"
            }
            TransferError::ExceedsDebits => {
                "would take the account below zero (credits exceed debits)"
            }
            TransferError::PendingTransferNotFound => "pending transfer not found",
            TransferError::PendingTransferAlreadyPosted => "pending transfer already posted",
            TransferError::PendingTransferAlreadyVoided => "pending transfer already voided",
            TransferError::PendingAmountExceeded => "amount exceeds the pending amount",
            TransferError::PendingIdRequired => "post/void needs the pending transfer's id",
            TransferError::ConflictingFlags => "conflicting transfer flags",
            TransferError::Overflow => "balance overflow",
            TransferError::LinkedEventFailed => "another transfer of the same entry failed",
            TransferError::LinkedChainOpen => "linked chain not closed",
            TransferError::BatchTooLarge => "batch too large",
        };
        f.write_str(s)
    }
}

/// State of a pending transfer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PendingState {
    Open,
    Posted,
    Voided,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PendingTransfer {
    pub debit: AccountId,
    pub credit: AccountId,
    pub amount: u64,
    pub ledger: LedgerId,
    pub state: PendingState,
}

/// What the engine remembers of an accepted transfer, to answer idempotent
/// resubmissions.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Seen {
    debit: AccountId,
    credit: AccountId,
    amount: u64,
    flags: u16,
    pending_id: u128,
}

/// Undo record for rolling back a linked chain.
enum Undo {
    Apply {
        transfer: Transfer,
        effective_amount: u64,
    },
}

/// Limit on one batch (TigerBeetle's is 8189 per request; ours is per entry batch).
pub const MAX_BATCH: usize = 1 << 20;

#[derive(Default)]
pub struct Engine {
    accounts: Vec<Account>,
    seen: FxHashMap<u128, Seen>,
    pending: FxHashMap<u128, PendingTransfer>,
    /// Whether to remember every transfer id (for idempotency). Callers that enforce
    /// idempotency at a coarser grain (the journal's entry ids) may turn it off.
    remember_ids: bool,
}

impl Engine {
    pub fn new() -> Engine {
        Engine {
            remember_ids: true,
            ..Engine::default()
        }
    }

    /// An engine that does not keep every transfer id (pending ids are always kept).
    pub fn without_id_memory() -> Engine {
        Engine::default()
    }

    pub fn create_account(&mut self, ledger: LedgerId, flags: AccountFlags) -> AccountId {
        let id = AccountId(self.accounts.len() as u32);
        self.accounts.push(Account {
            ledger,
            flags,
            balance: Balance::default(),
        });
        id
    }

    /// Restores an account with balances (used when loading persisted state).
    pub fn restore_account(
        &mut self,
        ledger: LedgerId,
        flags: AccountFlags,
        balance: Balance,
    ) -> AccountId {
        let id = self.create_account(ledger, flags);
        self.accounts[id.0 as usize].balance = balance;
        id
    }

    /// Restores a pending transfer (loading persisted state).
    pub fn restore_pending(&mut self, id: TransferId, p: PendingTransfer) {
        self.pending.insert(id.0, p);
    }

    pub fn account(&self, id: AccountId) -> Option<&Account> {
        self.accounts.get(id.0 as usize)
    }

    pub fn accounts(&self) -> &[Account] {
        &self.accounts
    }

    pub fn pending(&self, id: TransferId) -> Option<&PendingTransfer> {
        self.pending.get(&id.0)
    }

    pub fn pending_transfers(&self) -> impl Iterator<Item = (TransferId, &PendingTransfer)> {
        self.pending.iter().map(|(k, v)| (TransferId(*k), v))
    }

    /// Applies a batch. Returns the errors as (index, error); transfers not listed were
    /// accepted. `Exists` errors mean "already recorded" and change nothing.
    pub fn create_transfers(&mut self, batch: &[Transfer]) -> Vec<(usize, TransferError)> {
        let mut errors = Vec::new();
        if batch.len() > MAX_BATCH {
            return (0..batch.len())
                .map(|i| (i, TransferError::BatchTooLarge))
                .collect();
        }
        let mut chain_start: Option<usize> = None;
        let mut undo: Vec<Undo> = Vec::new();
        let mut chain_failed: Option<(usize, TransferError)> = None;
        for (i, t) in batch.iter().enumerate() {
            let linked = t.flags.contains(TransferFlags::LINKED);
            if chain_start.is_none() && linked {
                chain_start = Some(i);
            }
            let in_chain = chain_start.is_some();
            if chain_failed.is_none() {
                match self.apply(t) {
                    Ok(u) => {
                        if in_chain {
                            undo.push(u);
                        }
                    }
                    Err(e) => {
                        if in_chain {
                            chain_failed = Some((i, e));
                        } else {
                            errors.push((i, e));
                        }
                    }
                }
            }
            let chain_ends = in_chain && (!linked || i + 1 == batch.len());
            if chain_ends {
                let start = chain_start.take().unwrap_or(i);
                if linked && i + 1 == batch.len() && chain_failed.is_none() {
                    chain_failed = Some((i, TransferError::LinkedChainOpen));
                }
                if let Some((fi, fe)) = chain_failed.take() {
                    for u in undo.drain(..).rev() {
                        self.unapply(u);
                    }
                    for j in start..=i {
                        errors.push((
                            j,
                            if j == fi {
                                fe
                            } else {
                                TransferError::LinkedEventFailed
                            },
                        ));
                    }
                } else {
                    undo.clear();
                }
            }
        }
        errors
    }

    fn apply(&mut self, t: &Transfer) -> Result<Undo, TransferError> {
        if t.id.0 == 0 {
            return Err(TransferError::IdMustNotBeZero);
        }
        let seen = Seen {
            debit: t.debit,
            credit: t.credit,
            amount: t.amount,
            flags: t.flags.bits() & !TransferFlags::LINKED.bits(),
            pending_id: t.pending_id.0,
        };
        if let Some(prev) = self.seen.get(&t.id.0).or_else(|| {
            // Pending transfers are always remembered.
            self.pending.get(&t.id.0).map(|_| &seen)
        }) {
            return Err(if *prev == seen {
                TransferError::Exists
            } else {
                TransferError::ExistsWithDifferentFields
            });
        }
        let f = t.flags;
        let is_pending = f.contains(TransferFlags::PENDING);
        let is_post = f.contains(TransferFlags::POST_PENDING);
        let is_void = f.contains(TransferFlags::VOID_PENDING);
        if (is_pending as u8 + is_post as u8 + is_void as u8) > 1 {
            return Err(TransferError::ConflictingFlags);
        }
        let effective_amount;
        if is_post || is_void {
            if t.pending_id.0 == 0 {
                return Err(TransferError::PendingIdRequired);
            }
            let p = *self
                .pending
                .get(&t.pending_id.0)
                .ok_or(TransferError::PendingTransferNotFound)?;
            match p.state {
                PendingState::Posted => return Err(TransferError::PendingTransferAlreadyPosted),
                PendingState::Voided => return Err(TransferError::PendingTransferAlreadyVoided),
                PendingState::Open => {}
            }
            let amount = if is_void || t.amount == 0 {
                p.amount
            } else {
                t.amount
            };
            if amount > p.amount {
                return Err(TransferError::PendingAmountExceeded);
            }
            effective_amount = amount;
            let (d, c) = (p.debit.0 as usize, p.credit.0 as usize);
            let pa = u128::from(p.amount);
            let am = u128::from(amount);
            // Release the whole pending amount, then post `amount` (the rest is voided,
            // as in TigerBeetle).
            {
                let a = &mut self.accounts[d].balance;
                a.debits_pending -= pa;
                if is_post {
                    a.debits_posted = a
                        .debits_posted
                        .checked_add(am)
                        .ok_or(TransferError::Overflow)?;
                }
            }
            {
                let a = &mut self.accounts[c].balance;
                a.credits_pending -= pa;
                if is_post {
                    a.credits_posted = a
                        .credits_posted
                        .checked_add(am)
                        .ok_or(TransferError::Overflow)?;
                }
            }
            if let Some(pp) = self.pending.get_mut(&t.pending_id.0) {
                pp.state = if is_post {
                    PendingState::Posted
                } else {
                    PendingState::Voided
                };
            }
        } else {
            if t.amount == 0 {
                return Err(TransferError::AmountMustNotBeZero);
            }
            if t.debit == t.credit {
                return Err(TransferError::AccountsMustBeDifferent);
            }
            let (d, c) = (t.debit.0 as usize, t.credit.0 as usize);
            let (da, ca) = match (self.accounts.get(d), self.accounts.get(c)) {
                (Some(da), Some(ca)) => (*da, *ca),
                _ => return Err(TransferError::AccountNotFound),
            };
            if da.ledger != t.ledger || ca.ledger != t.ledger {
                return Err(TransferError::LedgerMismatch);
            }
            let am = u128::from(t.amount);
            let db = da.balance;
            let cb = ca.balance;
            let d_total = db
                .debits_posted
                .checked_add(db.debits_pending)
                .and_then(|v| v.checked_add(am))
                .ok_or(TransferError::Overflow)?;
            if da
                .flags
                .contains(AccountFlags::DEBITS_MUST_NOT_EXCEED_CREDITS)
                && d_total > db.credits_posted
            {
                return Err(TransferError::ExceedsCredits);
            }
            let c_total = cb
                .credits_posted
                .checked_add(cb.credits_pending)
                .and_then(|v| v.checked_add(am))
                .ok_or(TransferError::Overflow)?;
            if ca
                .flags
                .contains(AccountFlags::CREDITS_MUST_NOT_EXCEED_DEBITS)
                && c_total > cb.debits_posted
            {
                return Err(TransferError::ExceedsDebits);
            }
            effective_amount = t.amount;
            if is_pending {
                self.accounts[d].balance.debits_pending += am;
                self.accounts[c].balance.credits_pending += am;
                self.pending.insert(
                    t.id.0,
                    PendingTransfer {
                        debit: t.debit,
                        credit: t.credit,
                        amount: t.amount,
                        ledger: t.ledger,
                        state: PendingState::Open,
                    },
                );
            } else {
                self.accounts[d].balance.debits_posted += am;
                self.accounts[c].balance.credits_posted += am;
            }
        }
        if self.remember_ids {
            self.seen.insert(t.id.0, seen);
        }
        Ok(Undo::Apply {
            transfer: *t,
            effective_amount,
        })
    }

    fn unapply(&mut self, u: Undo) {
        let Undo::Apply {
            transfer: t,
            effective_amount,
        } = u;
        self.seen.remove(&t.id.0);
        let am = u128::from(effective_amount);
        let f = t.flags;
        if f.contains(TransferFlags::POST_PENDING) || f.contains(TransferFlags::VOID_PENDING) {
            if let Some(p) = self.pending.get_mut(&t.pending_id.0) {
                let is_post = p.state == PendingState::Posted;
                p.state = PendingState::Open;
                let pa = u128::from(p.amount);
                let (d, c) = (p.debit.0 as usize, p.credit.0 as usize);
                self.accounts[d].balance.debits_pending += pa;
                self.accounts[c].balance.credits_pending += pa;
                if is_post {
                    self.accounts[d].balance.debits_posted -= am;
                    self.accounts[c].balance.credits_posted -= am;
                }
            }
        } else if f.contains(TransferFlags::PENDING) {
            self.pending.remove(&t.id.0);
            self.accounts[t.debit.0 as usize].balance.debits_pending -= am;
            self.accounts[t.credit.0 as usize].balance.credits_pending -= am;
        } else {
            self.accounts[t.debit.0 as usize].balance.debits_posted -= am;
            self.accounts[t.credit.0 as usize].balance.credits_posted -= am;
        }
    }

    /// Σ debits and Σ credits (posted, pending) per ledger. On every ledger they are
    /// equal; this is what the property tests and `verify` check.
    pub fn ledger_totals(&self) -> FxHashMap<LedgerId, (u128, u128, u128, u128)> {
        let mut m: FxHashMap<LedgerId, (u128, u128, u128, u128)> = FxHashMap::default();
        for a in &self.accounts {
            let e = m.entry(a.ledger).or_default();
            e.0 += a.balance.debits_posted;
            e.1 += a.balance.credits_posted;
            e.2 += a.balance.debits_pending;
            e.3 += a.balance.credits_pending;
        }
        m
    }
}

impl Engine {
    /// Drops accounts created after the first `n` (rolling back a failed entry's new
    /// accounts; they had no transfers).
    pub fn truncate_accounts(&mut self, n: usize) {
        debug_assert!(self.accounts[n.min(self.accounts.len())..]
            .iter()
            .all(|a| a.balance == Balance::default()));
        self.accounts.truncate(n);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(
        id: u128,
        debit: AccountId,
        credit: AccountId,
        amount: u64,
        flags: TransferFlags,
    ) -> Transfer {
        Transfer {
            id: TransferId(id),
            debit,
            credit,
            amount,
            ledger: LedgerId(1),
            flags,
            pending_id: TransferId(0),
        }
    }

    #[test]
    fn posts_and_idempotent() {
        let mut e = Engine::new();
        let a = e.create_account(LedgerId(1), AccountFlags::NONE);
        let b = e.create_account(LedgerId(1), AccountFlags::NONE);
        assert!(e
            .create_transfers(&[t(1, a, b, 10, TransferFlags::NONE)])
            .is_empty());
        assert_eq!(
            e.create_transfers(&[t(1, a, b, 10, TransferFlags::NONE)]),
            vec![(0, TransferError::Exists)]
        );
        assert_eq!(
            e.create_transfers(&[t(1, a, b, 11, TransferFlags::NONE)]),
            vec![(0, TransferError::ExistsWithDifferentFields)]
        );
        assert_eq!(e.account(a).unwrap().balance.debits_posted, 10);
        assert_eq!(e.account(b).unwrap().balance.credits_posted, 10);
    }

    #[test]
    fn limits_and_linked_rollback() {
        let mut e = Engine::new();
        let stock = e.create_account(LedgerId(1), AccountFlags::CREDITS_MUST_NOT_EXCEED_DEBITS);
        let origin = e.create_account(LedgerId(1), AccountFlags::NONE);
        let dist = e.create_account(LedgerId(1), AccountFlags::NONE);
        assert!(e
            .create_transfers(&[t(1, stock, origin, 100, TransferFlags::NONE)])
            .is_empty());
        // A linked chain whose second transfer overdraws: both fail, nothing changes.
        let errs = e.create_transfers(&[
            t(2, dist, stock, 60, TransferFlags::LINKED),
            t(3, dist, stock, 60, TransferFlags::NONE),
        ]);
        assert_eq!(
            errs,
            vec![
                (0, TransferError::LinkedEventFailed),
                (1, TransferError::ExceedsDebits)
            ]
        );
        assert_eq!(e.account(stock).unwrap().balance.credits_posted, 0);
        assert_eq!(e.account(dist).unwrap().balance.debits_posted, 0);
        // The ids of a failed chain can be used again.
        assert!(e
            .create_transfers(&[t(2, dist, stock, 60, TransferFlags::NONE)])
            .is_empty());
        // Open chain at end of batch fails.
        let errs = e.create_transfers(&[t(9, dist, stock, 1, TransferFlags::LINKED)]);
        assert_eq!(errs, vec![(0, TransferError::LinkedChainOpen)]);
        assert_eq!(e.account(stock).unwrap().balance.credits_posted, 60);
    }

    #[test]
    fn two_phase() {
        let mut e = Engine::new();
        let a = e.create_account(LedgerId(1), AccountFlags::NONE);
        let b = e.create_account(LedgerId(1), AccountFlags::CREDITS_MUST_NOT_EXCEED_DEBITS);
        let seed = e.create_account(LedgerId(1), AccountFlags::NONE);
        assert!(e
            .create_transfers(&[t(1, b, seed, 50, TransferFlags::NONE)])
            .is_empty());
        assert!(e
            .create_transfers(&[t(2, a, b, 30, TransferFlags::PENDING)])
            .is_empty());
        // pending counts against the limit
        assert_eq!(
            e.create_transfers(&[t(3, a, b, 30, TransferFlags::NONE)]),
            vec![(0, TransferError::ExceedsDebits)]
        );
        let mut post = t(4, a, b, 20, TransferFlags::POST_PENDING);
        post.pending_id = TransferId(2);
        assert!(e.create_transfers(&[post]).is_empty());
        let bal = e.account(b).unwrap().balance;
        assert_eq!((bal.credits_pending, bal.credits_posted), (0, 20));
        let mut again = t(5, a, b, 0, TransferFlags::VOID_PENDING);
        again.pending_id = TransferId(2);
        assert_eq!(
            e.create_transfers(&[again]),
            vec![(0, TransferError::PendingTransferAlreadyPosted)]
        );
        assert!(e
            .create_transfers(&[t(6, a, b, 10, TransferFlags::PENDING)])
            .is_empty());
        let mut void = t(7, a, b, 0, TransferFlags::VOID_PENDING);
        void.pending_id = TransferId(6);
        assert!(e.create_transfers(&[void]).is_empty());
        assert_eq!(e.account(a).unwrap().balance.debits_pending, 0);
        for (_, (dp, cp, dpe, cpe)) in e.ledger_totals() {
            assert_eq!((dp, dpe), (cp, cpe));
        }
    }
}
