//! What a store keeps of an entry's transfers and hashes into the chain, the same for
//! every backend (SQLite and PostgreSQL): the transfer as the chain hashes it
//! ([`TransferRow`]), its effect on balances ([`effect`]) and the canonical text of an
//! entry's postings ([`canonical_postings`]). No I/O.

use crate::engine::{Engine, PendingState, Transfer, TransferFlags, TransferId};
use crate::{AccountKey, Phase, Posting, TransferIdHex};

/// A transfer id as 32 hex digits (how stores write pending ids).
pub fn tid_hex(id: TransferId) -> String {
    format!("{:032x}", id.0)
}

/// A transfer as the chain hashes it: account ids, amount, flags (without LINKED) and
/// the pending transfer it posts or voids (0 when none).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TransferRow {
    pub debit: u32,
    pub credit: u32,
    pub amount: u64,
    pub flags: u16,
    pub pending_id: u128,
}

impl TransferRow {
    pub fn of(t: &Transfer) -> TransferRow {
        TransferRow {
            debit: t.debit.0,
            credit: t.credit.0,
            amount: t.amount,
            flags: t.flags.bits() & !TransferFlags::LINKED.bits(),
            pending_id: t.pending_id.0,
        }
    }

    /// The posting this row records, given the account keys.
    pub fn posting(&self, key_of: &[AccountKey]) -> Option<Posting> {
        self.posting_by(|id| key_of.get(id as usize))
    }

    /// [`TransferRow::posting`], each account's key given by `key_of` (`None`: the
    /// row names an account that is not known, and there is no posting).
    pub fn posting_by<'k>(
        &self,
        key_of: impl Fn(u32) -> Option<&'k AccountKey>,
    ) -> Option<Posting> {
        let pending =
            || (self.pending_id != 0).then_some(TransferIdHex(TransferId(self.pending_id)));
        let f = TransferFlags::from_bits(self.flags);
        let phase = if f.contains(TransferFlags::PENDING) {
            Phase::Pending
        } else if f.contains(TransferFlags::POST_PENDING) {
            Phase::PostPending {
                pending: pending()?,
            }
        } else if f.contains(TransferFlags::VOID_PENDING) {
            Phase::VoidPending {
                pending: pending()?,
            }
        } else {
            Phase::Posted
        };
        Some(Posting {
            debit: key_of(self.debit)?.clone(),
            credit: key_of(self.credit)?.clone(),
            amount: self.amount,
            phase,
        })
    }
}

/// What a transfer just made by the book does to the balances a store sums.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Effect {
    /// Change to the debit account's debits (credit account's credits) posted.
    pub posted_delta: i64,
    /// Change to pending debits/credits (negative when a pending transfer ends).
    pub pending_delta: i64,
    /// The pending transfer it ends, and how (`"posted"` or `"voided"`).
    pub ends: Option<(TransferId, &'static str)>,
}

/// The effect of `t`, a transfer the book has just applied to `engine`: a posted
/// transfer moves its amount; a pending one holds it; posting or voiding a pending
/// transfer releases the pending amount (and posts `t`'s amount when posted). `None`
/// when `t` ends a pending transfer the engine does not know.
pub fn effect(t: &Transfer, engine: &Engine) -> Option<Effect> {
    let f = t.flags;
    if f.contains(TransferFlags::PENDING) {
        return Some(Effect {
            posted_delta: 0,
            pending_delta: t.amount as i64,
            ends: None,
        });
    }
    if f.contains(TransferFlags::POST_PENDING) || f.contains(TransferFlags::VOID_PENDING) {
        let p = engine.pending(t.pending_id)?;
        let posted = p.state == PendingState::Posted;
        return Some(Effect {
            posted_delta: if posted { t.amount as i64 } else { 0 },
            pending_delta: -(p.amount as i64),
            ends: Some((t.pending_id, if posted { "posted" } else { "voided" })),
        });
    }
    Some(Effect {
        posted_delta: t.amount as i64,
        pending_delta: 0,
        ends: None,
    })
}

/// The canonical text of an entry's effect, hashed into the chain: the accounts it
/// created (`+id key`) then its transfers (`debit credit amount flags pending`, the
/// pending id as 32 hex digits or `-`), one per line. Compact on purpose: it is built
/// for every entry on the import path (integers are written with `itoa`, not `fmt`).
pub fn canonical_postings<'a>(
    new_accounts: &[(u32, String)],
    rows: impl ExactSizeIterator<Item = &'a TransferRow>,
) -> String {
    let mut s = String::with_capacity(new_accounts.len() * 120 + rows.len() * 32);
    let mut n = itoa::Buffer::new();
    for (id, key) in new_accounts {
        s.push('+');
        s.push_str(n.format(*id));
        s.push(' ');
        s.push_str(key);
        s.push('\n');
    }
    for r in rows {
        s.push_str(n.format(r.debit));
        s.push(' ');
        s.push_str(n.format(r.credit));
        s.push(' ');
        // Stored amounts fit i64 (the store refuses larger); written as before.
        s.push_str(n.format(r.amount as i64));
        s.push(' ');
        s.push_str(n.format(r.flags));
        s.push(' ');
        if r.pending_id == 0 {
            s.push('-');
        } else {
            s.push_str(&tid_hex(TransferId(r.pending_id)));
        }
        s.push('\n');
    }
    s
}
