//! Links of the hash chain, for a claim pack: what anyone needs to recompute an
//! entry's hash without the store (its sequence number, the previous entry's hash, the
//! entry's JSON and the canonical text of its postings, exactly as hashed).

use crate::{canonical_postings, BlockCursor, Result, Store};
use serde::{Deserialize, Serialize};
use sqlx::Row;
use std::collections::{BTreeMap, BTreeSet};

/// One link: `hash = SHA-256("backstock-journal-v1\0" ‖ prev_hash ‖ seq (u64 BE) ‖
/// len(entry_json) (u64 BE) ‖ entry_json ‖ len(postings) (u64 BE) ‖ postings)`
/// ([`backstock_ledger::chain::entry_hash`]).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChainLink {
    pub seq: i64,
    pub entry_id: String,
    /// The previous entry's hash (hex; 64 zeros before the first entry).
    pub prev_hash: String,
    /// The entry's JSON, byte for byte as hashed.
    pub entry_json: String,
    /// The canonical text of the accounts it created and its transfers, as hashed.
    pub postings: String,
    /// The stored hash (hex).
    pub hash: String,
}

impl Store {
    /// The chain links of the entries with these sequence numbers, in order. Reads the
    /// account and transfer blocks once.
    pub async fn chain_links(&self, seqs: &BTreeSet<i64>) -> Result<Vec<ChainLink>> {
        if seqs.is_empty() {
            return Ok(Vec::new());
        }
        let mut conn = self.pool().acquire().await?;
        let mut created: BTreeMap<i64, Vec<(u32, String)>> = BTreeMap::new();
        crate::load_account_keys(&mut conn, |id, seq, text| {
            if seqs.contains(&seq) {
                created.entry(seq).or_default().push((id, text.to_string()));
            }
            Ok(())
        })
        .await?;
        let mut rows: BTreeMap<i64, Vec<crate::TransferRow>> = BTreeMap::new();
        let mut cursor = BlockCursor::new(None);
        while let Some(b) = cursor.next(&mut conn).await? {
            if seqs.contains(&b.seq) {
                rows.entry(b.seq)
                    .or_default()
                    .extend(b.transfers.iter().map(|t| t.row));
            }
        }
        let mut out = Vec::with_capacity(seqs.len());
        for &seq in seqs {
            let Some(r) =
                sqlx::query("SELECT entry_id, body, body_zstd, hash FROM journal WHERE seq = ?")
                    .bind(seq)
                    .fetch_optional(&mut *conn)
                    .await?
            else {
                continue;
            };
            let prev: Option<String> = sqlx::query_scalar("SELECT hash FROM journal WHERE seq = ?")
                .bind(seq - 1)
                .fetch_optional(&mut *conn)
                .await?;
            let body = crate::body_of(seq, r.get(1), r.get(2))?;
            let new_accounts = created.remove(&seq).unwrap_or_default();
            let transfers = rows.remove(&seq).unwrap_or_default();
            out.push(ChainLink {
                seq,
                entry_id: r.get(0),
                prev_hash: prev.unwrap_or_else(|| "0".repeat(64)),
                entry_json: body,
                postings: canonical_postings(&new_accounts, transfers.iter()),
                hash: r.get(3),
            });
        }
        Ok(out)
    }
}
