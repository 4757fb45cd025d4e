//! How transfers and accounts are laid out on disk: in blocks, not a row each.
//!
//! A month's statements from five distributors expand into about 600k statement × SKU
//! transfers and 470k accounts. SQLite spends about 2 µs per row however small the row
//! is, so a row per transfer made recording the slowest part of an import. Instead an
//! entry's transfers are packed, in order, into blocks of at most [`BLOCK_TRANSFERS`]
//! (`transfer_blocks`, keyed by entry and first index) and the accounts an entry
//! created into blocks of at most [`BLOCK_ACCOUNTS`] canonical key texts
//! (`account_blocks`, keyed by first account id). Both tables are append-only like the
//! journal; what the hash chain covers is unchanged (see [`crate::canonical_postings`]).
//!
//! Transfer record (little-endian; 34 bytes, or 50 when it posts or voids a pending
//! transfer): debit u32, credit u32, amount u64, flags u16, posted_delta i64,
//! pending_delta i64, then the pending transfer's id u128 if flags say POST_PENDING or
//! VOID_PENDING. A block starts with a format byte ([`TRANSFER_FORMAT`]).
//!
//! Account block: the canonical JSON keys of consecutive account ids, one per line
//! (canonical JSON has no raw newline).
//!
//! Both are stored as one zstd frame each (level 1): account keys shrink about tenfold
//! and transfers about threefold, and every byte not written is written twice less
//! (once to the write-ahead log, once when it is checkpointed).
//!
//! The PostgreSQL store (`backstock-store-pg`) keeps its transfers and accounts in the
//! same blocks, for the same reason (a row per transfer wrote about 100k rows/s), so
//! this layout is public: a block written by either store reads the same in both.

use crate::{Result, StoreError, TransferRow};
use backstock_ledger::engine::TransferFlags;

/// Most transfers in one block (≈ 400 KB at most): bounds a row's size.
pub const BLOCK_TRANSFERS: usize = 8192;
/// Most accounts in one block.
pub const BLOCK_ACCOUNTS: usize = 8192;
/// The format byte of a transfer block.
pub const TRANSFER_FORMAT: u8 = 1;

const FIXED: usize = 4 + 4 + 8 + 2 + 8 + 8;
/// The largest a transfer record can be.
const MAX_RECORD: usize = FIXED + 16;
/// The longest an account key's canonical text may be (party ids and SKUs are short).
const MAX_KEY_BYTES: usize = 4096;
const ZSTD_LEVEL: i32 = 1;

/// Compresses blocks as they are written.
pub struct Packer(crate::Frames);

impl Packer {
    pub fn new() -> Result<Packer> {
        Ok(Packer(crate::Frames::new(ZSTD_LEVEL)?))
    }
    pub fn pack(&mut self, raw: &[u8]) -> Result<Vec<u8>> {
        Ok(self.0.frame(raw)?)
    }
}

/// A stored block's bytes, decompressed; refuses anything over `limit` bytes.
fn unpack(data: &[u8], limit: usize, what: &str) -> Result<Vec<u8>> {
    zstd::bulk::decompress(data, limit).map_err(|e| {
        StoreError::Corrupt(format!("{what}: a stored block does not decompress: {e}"))
    })
}

/// A transfer as stored: what the chain hashes, and its effect on balances.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StoredTransfer {
    pub row: TransferRow,
    /// Change to the debit account's debits (credit account's credits) posted.
    pub posted_delta: i64,
    /// Change to pending debits/credits (negative when a pending transfer ends).
    pub pending_delta: i64,
}

fn names_pending(flags: u16) -> bool {
    let f = TransferFlags::from_bits(flags);
    f.contains(TransferFlags::POST_PENDING) || f.contains(TransferFlags::VOID_PENDING)
}

/// Appends one transfer to a block being built (start a block with
/// `vec![TRANSFER_FORMAT]`).
pub fn push_transfer(block: &mut Vec<u8>, t: &StoredTransfer) {
    let r = &t.row;
    block.extend_from_slice(&r.debit.to_le_bytes());
    block.extend_from_slice(&r.credit.to_le_bytes());
    block.extend_from_slice(&r.amount.to_le_bytes());
    block.extend_from_slice(&r.flags.to_le_bytes());
    block.extend_from_slice(&t.posted_delta.to_le_bytes());
    block.extend_from_slice(&t.pending_delta.to_le_bytes());
    if names_pending(r.flags) {
        block.extend_from_slice(&r.pending_id.to_le_bytes());
    }
}

/// Reads a transfer block back; `count` is the row's count column, checked.
pub fn decode_transfers(packed: &[u8], count: usize, what: &str) -> Result<Vec<StoredTransfer>> {
    let bad = |why: &str| StoreError::Corrupt(format!("{what}: transfer block {why}"));
    if count > BLOCK_TRANSFERS {
        return Err(bad("claims too many transfers"));
    }
    let data = unpack(packed, 1 + count * MAX_RECORD, what)?;
    let Some((&format, mut rest)) = data.split_first() else {
        return Err(bad("is empty"));
    };
    if format != TRANSFER_FORMAT {
        return Err(bad(&format!("has unknown format {format}")));
    }
    let mut out = Vec::with_capacity(count);
    while !rest.is_empty() {
        if rest.len() < FIXED {
            return Err(bad("ends inside a transfer"));
        }
        let (f, tail) = rest.split_at(FIXED);
        let u32_at = |i: usize| u32::from_le_bytes([f[i], f[i + 1], f[i + 2], f[i + 3]]);
        let u64_at = |i: usize| {
            let mut b = [0u8; 8];
            b.copy_from_slice(&f[i..i + 8]);
            u64::from_le_bytes(b)
        };
        let flags = u16::from_le_bytes([f[16], f[17]]);
        let (pending_id, tail) = if names_pending(flags) {
            if tail.len() < 16 {
                return Err(bad("ends inside a transfer"));
            }
            let (p, tail) = tail.split_at(16);
            let mut b = [0u8; 16];
            b.copy_from_slice(p);
            (u128::from_le_bytes(b), tail)
        } else {
            (0, tail)
        };
        out.push(StoredTransfer {
            row: TransferRow {
                debit: u32_at(0),
                credit: u32_at(4),
                amount: u64_at(8),
                flags,
                pending_id,
            },
            posted_delta: u64_at(18) as i64,
            pending_delta: u64_at(26) as i64,
        });
        rest = tail;
    }
    if out.len() != count {
        return Err(bad(&format!(
            "holds {} transfers, its row says {count}",
            out.len()
        )));
    }
    Ok(out)
}

/// An account block's text (its keys, one per line); `count` is checked by
/// [`account_keys`].
pub fn account_text(packed: &[u8], count: usize, what: &str) -> Result<String> {
    if count > BLOCK_ACCOUNTS {
        return Err(StoreError::Corrupt(format!(
            "{what}: account block claims too many keys"
        )));
    }
    String::from_utf8(unpack(packed, count * (MAX_KEY_BYTES + 1), what)?)
        .map_err(|_| StoreError::Corrupt(format!("{what}: account block is not UTF-8")))
}

/// Splits an account block's text into its keys' texts; `count` is checked.
pub fn account_keys<'a>(text: &'a str, count: usize, what: &str) -> Result<Vec<&'a str>> {
    let keys: Vec<&str> = if text.is_empty() {
        Vec::new()
    } else {
        text.split('\n').collect()
    };
    if keys.len() != count || count > BLOCK_ACCOUNTS {
        return Err(StoreError::Corrupt(format!(
            "{what}: account block holds {} keys, its row says {count}",
            keys.len()
        )));
    }
    Ok(keys)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(debit: u32, flags: u16, pending_id: u128, posted: i64, pending: i64) -> StoredTransfer {
        StoredTransfer {
            row: TransferRow {
                debit,
                credit: debit + 1,
                amount: u64::MAX - 3,
                flags,
                pending_id,
            },
            posted_delta: posted,
            pending_delta: pending,
        }
    }

    #[test]
    fn transfers_round_trip_with_and_without_pending_ids() {
        let post = TransferFlags::POST_PENDING.bits();
        let pend = TransferFlags::PENDING.bits();
        let list = [
            t(0, 0, 0, 5, 0),
            t(7, pend, 0, 0, 9),
            t(u32::MAX - 1, post, u128::MAX - 7, 3, -9),
        ];
        let mut block = vec![TRANSFER_FORMAT];
        for x in &list {
            push_transfer(&mut block, x);
        }
        assert_eq!(block.len(), 1 + 34 + 34 + 50);
        let packed = Packer::new().unwrap().pack(&block).unwrap();
        assert_eq!(decode_transfers(&packed, 3, "e").unwrap(), list);
    }

    #[test]
    fn damaged_blocks_are_corrupt_not_a_panic() {
        let mut p = Packer::new().unwrap();
        let mut block = vec![TRANSFER_FORMAT];
        push_transfer(&mut block, &t(1, 0, 0, 1, 0));
        assert!(decode_transfers(&p.pack(&block).unwrap(), 1, "e").is_ok());
        assert!(decode_transfers(&p.pack(&block).unwrap(), 2, "e").is_err());
        assert!(decode_transfers(&p.pack(&block[..block.len() - 1]).unwrap(), 1, "e").is_err());
        assert!(decode_transfers(&p.pack(&[]).unwrap(), 0, "e").is_err());
        assert!(decode_transfers(&p.pack(&[9]).unwrap(), 0, "e").is_err());
        // A block claiming few transfers cannot inflate into many.
        let big = vec![0u8; 1 + 200 * FIXED];
        assert!(decode_transfers(&p.pack(&big).unwrap(), 1, "e").is_err());
        let packed = p.pack(&block).unwrap();
        for cut in 0..packed.len() {
            let _ = decode_transfers(&packed[..cut], 1, "e");
        }
        let text = p.pack(b"a\nb").unwrap();
        assert_eq!(account_text(&text, 2, "x").unwrap(), "a\nb");
        assert_eq!(account_keys("a\nb", 2, "x").unwrap(), ["a", "b"]);
        assert!(account_keys("a\nb", 3, "x").is_err());
        assert_eq!(account_keys("", 0, "x").unwrap().len(), 0);
    }
}
