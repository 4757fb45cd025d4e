//! Links of the hash chain, for a claim pack: what anyone needs to recompute an
//! entry's hash without the store (its sequence number, the previous entry's hash, the
//! entry's JSON and the canonical text of its postings, exactly as hashed).

use crate::{canonical_postings, BlockCursor, Result, Store};
use serde::{Deserialize, Serialize};
use sqlx::Row;
use std::collections::{BTreeMap, BTreeSet};

/// One link. Chain version 1: `hash = SHA-256("backstock-journal-v1\0" ‖ prev_hash ‖
/// seq (u64 BE) ‖ len(entry_json) (u64 BE) ‖ entry_json ‖ len(postings) (u64 BE) ‖
/// postings)` ([`backstock_ledger::chain::entry_hash`]); version 2 also covers
/// `recorded_at` and `file_sha256` ([`backstock_ledger::chain::entry_hash_v2`]).
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
    /// The chain version the entry was sealed with (1 when absent: links written
    /// before version 2).
    #[serde(default = "version_1", skip_serializing_if = "is_version_1")]
    pub chain_version: u8,
    /// When it was recorded, as hashed (version 2).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub recorded_at: Option<String>,
    /// The SHA-256 of the file it came from, as hashed (version 2).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub file_sha256: Option<String>,
    /// Given by its hash alone: the entry's content (`entry_id`, `entry_json`,
    /// `postings`, `recorded_at`, `file_sha256`) is left out because it is not the
    /// business of whoever the link is shown to (a claim pack's journal head when the
    /// head entry concerns another distributor). Such a link cannot be recomputed; it
    /// still chains (`prev_hash`, `hash`), and the label's own `verify` shows the hash.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub withheld: bool,
}

fn version_1() -> u8 {
    1
}
fn is_version_1(v: &u8) -> bool {
    *v == 1
}

impl ChainLink {
    /// This link given by its hash alone ([`ChainLink::withheld`]).
    pub fn withhold(self) -> ChainLink {
        ChainLink {
            seq: self.seq,
            entry_id: String::new(),
            prev_hash: self.prev_hash,
            entry_json: String::new(),
            postings: String::new(),
            hash: self.hash,
            chain_version: self.chain_version,
            recorded_at: None,
            file_sha256: None,
            withheld: true,
        }
    }

    /// The link's hash recomputed from its fields and the previous hash (`None` for a
    /// chain version this build does not know).
    pub fn recompute(&self, prev: &[u8; 32]) -> Option<[u8; 32]> {
        backstock_ledger::chain::link_hash(
            self.chain_version,
            prev,
            u64::try_from(self.seq).ok()?,
            &self.entry_json,
            &self.postings,
            self.recorded_at.as_deref().unwrap_or(""),
            self.file_sha256.as_deref(),
        )
    }
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
                sqlx::query("SELECT entry_id, body, body_zstd, hash, chain_version, recorded_at, file_sha256 FROM journal WHERE seq = ?")
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
                chain_version: u8::try_from(r.get::<i64, _>(4)).unwrap_or(0),
                recorded_at: (r.get::<i64, _>(4) >= 2).then(|| r.get(5)),
                file_sha256: if r.get::<i64, _>(4) >= 2 {
                    r.get(6)
                } else {
                    None
                },
                withheld: false,
            });
        }
        Ok(out)
    }
}
