//! The book: the engine plus the map from account keys to engine ids, and the
//! recording of entries as linked chains.

use crate::accounts::{AccountKey, LedgerKey, MoneyKind};
use crate::engine::{
    AccountFlags, AccountId, Balance, Engine, LedgerId, PendingState, PendingTransfer, Transfer,
    TransferError, TransferFlags, TransferId,
};
use crate::events::{transfer_id, Entry, ExpandError, LedgerView, Phase, Posting};
use backstock_domain::{Currency, Money, PartyId};
use rustc_hash::FxHashMap;
use std::collections::BTreeMap;
use std::fmt;

/// Why an entry was refused. Nothing was changed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RecordError {
    Expand(ExpandError),
    /// A transfer was refused; `message` says which and why in the label's words.
    Transfer {
        error: TransferError,
        message: String,
    },
    /// The entry would take the total recorded in a currency (or of units) past
    /// [`LIMIT`]; `message` names the entry, the currency and the limit.
    Limit {
        message: String,
    },
}

/// The most the book holds in one currency, in minor units, and of units over all
/// SKUs: Σ debits (posted and pending) over the accounts of a currency — everything
/// ever recorded in it, less what was voided — never passes
/// [`Money::LIMIT_MINOR`] (10^15). Every balance, every running total and any sum of
/// balances in one currency is then at most 2 × 10^15, far inside `i64`; an entry
/// that would pass it is refused whole, before anything is recorded.
pub const LIMIT: u128 = Money::LIMIT_MINOR as u128;

impl fmt::Display for RecordError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RecordError::Expand(e) => write!(f, "{e}"),
            RecordError::Transfer { message, .. } | RecordError::Limit { message } => {
                f.write_str(message)
            }
        }
    }
}

impl std::error::Error for RecordError {}

/// What recording an entry did: its postings and the engine transfers they became,
/// and the accounts it created (to persist).
#[derive(Debug, Clone)]
pub struct Recorded {
    pub postings: Vec<Posting>,
    pub transfers: Vec<Transfer>,
    pub new_accounts: Vec<AccountId>,
}

#[derive(Default)]
pub struct Book {
    engine: Engine,
    keys: Vec<AccountKey>,
    /// Account ids by key. The keys live once, in `keys`; the table holds each key's
    /// hash and id (a book of a million accounts would otherwise keep every key twice).
    /// The hash is kept so growing the table and most misses never touch a key: a key's
    /// strings are separate allocations, and hashing them again on every rehash was a
    /// quarter of recording a month of statements.
    index: hashbrown::HashTable<(u64, AccountId)>,
    ledgers: FxHashMap<LedgerKey, LedgerId>,
    /// Open pending reserve releases per (distributor, currency), oldest first.
    reserves: BTreeMap<(PartyId, Currency), Vec<(TransferId, u64)>>,
    /// Σ debits posted and pending per currency (`Some`) and of all units (`None`),
    /// kept under [`LIMIT`].
    totals: FxHashMap<Option<Currency>, u128>,
}

/// What the limit is kept per: a currency, or all units together.
fn limit_class(key: &AccountKey) -> Option<Currency> {
    match key.ledger() {
        LedgerKey::Money(c) => Some(c),
        LedgerKey::Units(_) => None,
    }
}

fn key_hash(key: &AccountKey) -> u64 {
    use std::hash::BuildHasher;
    rustc_hash::FxBuildHasher.hash_one(key)
}

impl Book {
    pub fn new() -> Book {
        Book {
            // Entry ids are the idempotency keys (enforced by the journal); transfer ids
            // are derived from them, so the engine need not remember every one.
            engine: Engine::without_id_memory(),
            ..Book::default()
        }
    }

    pub fn engine(&self) -> &Engine {
        &self.engine
    }

    pub fn key(&self, id: AccountId) -> Option<&AccountKey> {
        self.keys.get(id.0 as usize)
    }

    pub fn account_id(&self, key: &AccountKey) -> Option<AccountId> {
        self.find(key_hash(key), key)
    }

    fn find(&self, hash: u64, key: &AccountKey) -> Option<AccountId> {
        let keys = &self.keys;
        self.index
            .find(hash, |(h, id)| {
                *h == hash && keys.get(id.0 as usize) == Some(key)
            })
            .map(|e| e.1)
    }

    /// Indexes the account just pushed onto `keys`, whose key hashes to `hash`.
    fn index_last(&mut self, id: AccountId, hash: u64) {
        debug_assert_eq!(self.keys.len(), id.0 as usize + 1);
        debug_assert_eq!(Some(hash), self.keys.last().map(key_hash));
        self.index.insert_unique(hash, (hash, id), |e| e.0);
    }

    pub fn accounts(&self) -> impl Iterator<Item = (AccountId, &AccountKey, &Balance)> {
        self.keys.iter().enumerate().filter_map(|(i, k)| {
            self.engine
                .account(AccountId(i as u32))
                .map(|a| (AccountId(i as u32), k, &a.balance))
        })
    }

    fn ledger_id(&mut self, key: LedgerKey) -> LedgerId {
        let n = self.ledgers.len() as u32;
        *self.ledgers.entry(key).or_insert(LedgerId(n + 1))
    }

    /// Restores a persisted account with its balances. Must be called in id order
    /// starting at 0 (ids are dense).
    pub fn restore_account(&mut self, key: AccountKey, balance: Balance) -> AccountId {
        let ledger = self.ledger_id(key.ledger());
        let total = self.totals.entry(limit_class(&key)).or_insert(0);
        *total = total
            .saturating_add(balance.debits_posted)
            .saturating_add(balance.debits_pending);
        let id = self.engine.restore_account(ledger, key.flags(), balance);
        debug_assert_eq!(id.0 as usize, self.keys.len());
        let hash = key_hash(&key);
        self.keys.push(key);
        self.index_last(id, hash);
        id
    }

    /// Restores an open pending transfer (in creation order).
    pub fn restore_pending(
        &mut self,
        id: TransferId,
        debit: AccountId,
        credit: AccountId,
        amount: u64,
    ) {
        let ledger = self
            .engine
            .account(debit)
            .map(|a| a.ledger)
            .unwrap_or(LedgerId(0));
        self.engine.restore_pending(
            id,
            PendingTransfer {
                debit,
                credit,
                amount,
                ledger,
                state: PendingState::Open,
            },
        );
        if let Some(AccountKey::Money(m)) = self.keys.get(credit.0 as usize) {
            if m.kind() == MoneyKind::ReserveHeld {
                self.reserves
                    .entry((m.counterparty().clone(), m.currency()))
                    .or_default()
                    .push((id, amount));
            }
        }
    }

    fn resolve(&mut self, key: &AccountKey, created: &mut Vec<AccountId>) -> AccountId {
        let hash = key_hash(key);
        if let Some(id) = self.find(hash, key) {
            return id;
        }
        let ledger = self.ledger_id(key.ledger());
        let id = self.engine.create_account(ledger, key.flags());
        self.keys.push(key.clone());
        self.index_last(id, hash);
        created.push(id);
        id
    }

    fn forget_accounts(&mut self, created: &[AccountId]) {
        for id in created.iter().rev() {
            if let Some(k) = self.keys.pop() {
                if let Ok(e) = self.index.find_entry(key_hash(&k), |e| e.1 == *id) {
                    e.remove();
                }
            }
            debug_assert_eq!(id.0 as usize, self.keys.len());
        }
        self.engine.truncate_accounts(self.keys.len());
    }

    /// Records one entry: expands it and applies its postings as one linked chain.
    /// On error nothing changed.
    pub fn record(&mut self, entry: &Entry) -> Result<Recorded, RecordError> {
        let postings = entry.postings(self).map_err(RecordError::Expand)?;
        self.apply_postings(entry, postings)
    }

    /// Applies already-expanded postings (used by replay during verification).
    pub fn apply_postings(
        &mut self,
        entry: &Entry,
        postings: Vec<Posting>,
    ) -> Result<Recorded, RecordError> {
        // New amounts only raise the totals (posting or voiding a pending transfer
        // lowers them): checked first, so a refused entry changes nothing.
        let mut added: Vec<(Option<Currency>, u128)> = Vec::new();
        for p in &postings {
            if matches!(p.phase, Phase::Posted | Phase::Pending) {
                let class = limit_class(&p.debit);
                match added.iter_mut().find(|(c, _)| *c == class) {
                    Some((_, a)) => *a = a.saturating_add(u128::from(p.amount)),
                    None => added.push((class, u128::from(p.amount))),
                }
            }
        }
        for (class, a) in &added {
            let now = self.totals.get(class).copied().unwrap_or(0);
            if now.saturating_add(*a) > LIMIT {
                let what = match class {
                    Some(c) => format!(
                        "it would take the {c} recorded past the limit of {} (10^15 minor units of a currency; see docs/formats.md)",
                        Money::limit_text(*c)
                    ),
                    None => format!(
                        "it would take the units recorded past the limit of {LIMIT} units (see docs/formats.md)"
                    ),
                };
                return Err(RecordError::Limit {
                    message: format!(
                        "entry {} ({} on {}): {what}",
                        entry.id,
                        entry.event.name(),
                        entry.effective_on
                    ),
                });
            }
        }
        let mut created = Vec::new();
        let mut transfers = Vec::with_capacity(postings.len());
        for (i, p) in postings.iter().enumerate() {
            let debit = self.resolve(&p.debit, &mut created);
            let credit = self.resolve(&p.credit, &mut created);
            let ledger = self
                .engine
                .account(debit)
                .map(|a| a.ledger)
                .unwrap_or(LedgerId(0));
            let (flags, pending_id) = match p.phase {
                Phase::Posted => (TransferFlags::NONE, TransferId(0)),
                Phase::Pending => (TransferFlags::PENDING, TransferId(0)),
                Phase::PostPending { pending } => (TransferFlags::POST_PENDING, pending.0),
                Phase::VoidPending { pending } => (TransferFlags::VOID_PENDING, pending.0),
            };
            let linked = if i + 1 < postings.len() {
                TransferFlags::LINKED
            } else {
                TransferFlags::NONE
            };
            transfers.push(Transfer {
                id: transfer_id(&entry.id, i),
                debit,
                credit,
                amount: p.amount,
                ledger,
                flags: flags | linked,
                pending_id,
            });
        }
        let errors = self.engine.create_transfers(&transfers);
        if let Some((i, e)) = errors
            .iter()
            .find(|(_, e)| *e != TransferError::LinkedEventFailed)
            .or(errors.first())
            .copied()
        {
            let message = self.explain(entry, &postings[i], e);
            self.forget_accounts(&created);
            return Err(RecordError::Transfer { error: e, message });
        }
        // Keep the totals in step with the engine: Σ debits posted and pending.
        for (t, p) in transfers.iter().zip(&postings) {
            let class = limit_class(&p.debit);
            let total = self.totals.entry(class).or_insert(0);
            match p.phase {
                Phase::Posted | Phase::Pending => *total += u128::from(t.amount),
                Phase::PostPending { pending } | Phase::VoidPending { pending } => {
                    let held = self.engine.pending(pending.0).map_or(0, |x| x.amount);
                    let posted = match p.phase {
                        Phase::PostPending { .. } if t.amount == 0 => held,
                        Phase::PostPending { .. } => t.amount,
                        _ => 0,
                    };
                    *total = total.saturating_sub(u128::from(held - posted.min(held)));
                }
            }
        }
        // Keep the reserve queues in step with the engine.
        for (t, p) in transfers.iter().zip(&postings) {
            if let AccountKey::Money(m) = &p.credit {
                if m.kind() != MoneyKind::ReserveHeld {
                    continue;
                }
                let q = self
                    .reserves
                    .entry((m.counterparty().clone(), m.currency()))
                    .or_default();
                match p.phase {
                    Phase::Pending => q.push((t.id, t.amount)),
                    Phase::PostPending { pending } | Phase::VoidPending { pending } => {
                        q.retain(|(id, _)| *id != pending.0);
                    }
                    Phase::Posted => {}
                }
            }
        }
        Ok(Recorded {
            postings,
            transfers,
            new_accounts: created,
        })
    }

    fn explain(&self, entry: &Entry, p: &Posting, e: TransferError) -> String {
        let what = match e {
            TransferError::ExceedsDebits => {
                let held = self
                    .account_id(&p.credit)
                    .and_then(|id| self.engine.account(id))
                    .map(|a| a.balance.net_debit())
                    .unwrap_or(0);
                match &p.credit {
                    AccountKey::Units(u) => format!(
                        "needs {} units of {} from {}, which holds only {held}",
                        p.amount,
                        u.sku(),
                        u.holder()
                    ),
                    AccountKey::Money(m) => format!(
                        "needs {} from {}, which holds only {}",
                        Money::from_minor(
                            i64::try_from(p.amount).unwrap_or(i64::MAX),
                            m.currency()
                        ),
                        p.credit,
                        Money::from_minor(i64::try_from(held).unwrap_or(i64::MAX), m.currency())
                    ),
                }
            }
            other => format!("{other} ({} → {}, {})", p.credit, p.debit, p.amount),
        };
        format!(
            "entry {} ({} on {}): {what}",
            entry.id,
            entry.event.name(),
            entry.effective_on
        )
    }

    /// Σ debits = Σ credits on every ledger (posted and pending).
    pub fn is_balanced(&self) -> bool {
        self.engine
            .ledger_totals()
            .values()
            .all(|(dp, cp, dpe, cpe)| dp == cp && dpe == cpe)
    }

    /// Flags of an account key (for callers persisting accounts).
    pub fn flags_of(key: &AccountKey) -> AccountFlags {
        key.flags()
    }
}

impl LedgerView for Book {
    fn open_reserves(&self, distributor: &PartyId, currency: Currency) -> Vec<(TransferId, u64)> {
        self.reserves
            .get(&(distributor.clone(), currency))
            .cloned()
            .unwrap_or_default()
    }
    fn pending_open(&self, id: TransferId) -> bool {
        self.engine
            .pending(id)
            .is_some_and(|p| p.state == PendingState::Open)
    }
}
