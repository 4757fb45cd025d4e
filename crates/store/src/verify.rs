//! `verify`: recompute the hash chain and replay the journal.

use crate::{
    canonical_postings, load_book, parse_hash, Block, BlockCursor, Result, Store, StoreError,
    TransferRow,
};
use backstock_ledger::engine::PendingState;
use backstock_ledger::{chain, Book, Entry, Phase};
use serde::Serialize;
use sqlx::Row;
use std::collections::BTreeMap;

#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct VerifyReport {
    pub entries: i64,
    pub transfers: i64,
    pub head_hash: String,
    /// The first problem found, naming the entry; `None` when all is well.
    pub first_problem: Option<String>,
}

impl Store {
    /// Recomputes every entry's hash from its stored rows (entry, the accounts it
    /// created, its transfers), replays all transfers into a fresh book and checks the
    /// derived balances and pending tables. Stops at the first problem.
    pub async fn verify(&self) -> Result<VerifyReport> {
        let mut conn = self.pool().acquire().await?;
        let mut created: BTreeMap<i64, Vec<(u32, String)>> = BTreeMap::new();
        let key_of = match crate::load_account_keys(&mut conn, |id, seq, text| {
            created.entry(seq).or_default().push((id, text.to_string()));
            Ok(())
        })
        .await
        {
            Ok(k) => k,
            Err(StoreError::Corrupt(m)) => return Ok(problem(0, 0, m)),
            Err(e) => return Err(e),
        };
        let mut prev = chain::GENESIS;
        let mut replay = Book::new();
        let mut n_entries = 0i64;
        let mut n_transfers = 0i64;
        let mut head = chain::to_hex(&prev);
        let rows = sqlx::query(
            "SELECT seq, entry_id, kind, effective_day, known_day, body, hash, body_zstd FROM journal ORDER BY seq",
        )
        .fetch_all(&mut *conn)
        .await?;
        let mut cursor = BlockCursor::new(None);
        let mut next_block: Option<Block> = None;
        for r in rows {
            let seq: i64 = r.get(0);
            let entry_id: String = r.get(1);
            let name = format!("entry #{seq} ({entry_id})");
            n_entries += 1;
            if seq != n_entries {
                return Ok(problem(
                    n_entries,
                    n_transfers,
                    format!("{name}: expected sequence number {n_entries}"),
                ));
            }
            let body = match crate::body_of(seq, r.get(5), r.get(7)) {
                Ok(b) => b,
                Err(StoreError::Corrupt(m)) => return Ok(problem(n_entries, n_transfers, m)),
                Err(e) => return Err(e),
            };
            let stored_hash: String = r.get(6);
            let mut rows = Vec::new();
            let mut extra = Vec::new();
            loop {
                if next_block.is_none() {
                    next_block = match cursor.next(&mut conn).await {
                        Ok(b) => b,
                        Err(StoreError::Corrupt(m)) => {
                            return Ok(problem(n_entries, n_transfers, m))
                        }
                        Err(e) => return Err(e),
                    };
                }
                match next_block.take_if(|b| b.seq <= seq) {
                    Some(b) if b.seq < seq => {
                        return Ok(problem(
                            n_entries,
                            n_transfers,
                            format!("transfers exist for entry #{}, which does not", b.seq),
                        ))
                    }
                    Some(b) => {
                        for (k, t) in b.transfers.iter().enumerate() {
                            rows.push(t.row);
                            extra.push((
                                b.first_idx + k as i64,
                                t.posted_delta,
                                t.pending_delta,
                                b.effective_day,
                                b.known_day,
                            ));
                        }
                    }
                    None => break,
                }
            }
            n_transfers += rows.len() as i64;
            let new_accounts = created.remove(&seq).unwrap_or_default();
            let canonical = canonical_postings(&new_accounts, rows.iter());
            let hash = chain::entry_hash(&prev, seq as u64, &body, &canonical);
            if parse_hash(&stored_hash).ok() != Some(hash) {
                return Ok(problem(
                    n_entries,
                    n_transfers,
                    format!("{name} does not match its hash: it, its transfers or its accounts were changed after it was recorded"),
                ));
            }
            prev = hash;
            head = stored_hash;
            let entry: Entry = match serde_json::from_str(&body) {
                Ok(e) => e,
                Err(e) => {
                    return Ok(problem(
                        n_entries,
                        n_transfers,
                        format!("{name} is unreadable: {e}"),
                    ))
                }
            };
            let (eday, kday) = (
                i64::from(entry.effective_on.days_since_epoch()),
                i64::from(entry.known_on.days_since_epoch()),
            );
            if serde_json::to_string(&entry).ok().as_deref() != Some(body.as_str())
                || entry.id.as_str() != entry_id
                || r.get::<String, _>(2) != entry.event.name()
                || r.get::<i64, _>(3) != eday
                || r.get::<i64, _>(4) != kday
            {
                return Ok(problem(
                    n_entries,
                    n_transfers,
                    format!("{name}: its columns do not match its hashed content"),
                ));
            }
            let mut postings = Vec::with_capacity(rows.len());
            for (i, row) in rows.iter().enumerate() {
                match row.posting(&key_of) {
                    Some(p) => postings.push(p),
                    None => {
                        return Ok(problem(
                            n_entries,
                            n_transfers,
                            format!("{name}: transfer {i} is unreadable"),
                        ))
                    }
                }
            }
            // Pending amounts released by posts/voids, before replay changes them.
            let released: Vec<i64> = postings
                .iter()
                .map(|p| match p.phase {
                    Phase::PostPending { pending } | Phase::VoidPending { pending } => replay
                        .engine()
                        .pending(pending.0)
                        .map(|x| x.amount as i64)
                        .unwrap_or(0),
                    _ => 0,
                })
                .collect();
            let rec = match replay.apply_postings(&entry, postings.clone()) {
                Ok(r) => r,
                Err(e) => {
                    return Ok(problem(
                        n_entries,
                        n_transfers,
                        format!("{name} does not replay: {e}"),
                    ))
                }
            };
            let same_accounts = rec
                .new_accounts
                .iter()
                .map(|a| a.0)
                .eq(new_accounts.iter().map(|a| a.0));
            for (i, ((p, t), row)) in postings.iter().zip(&rec.transfers).zip(&rows).enumerate() {
                let (idx, posted, pending, ed, kd) = extra[i];
                let (want_posted, want_pending) = match p.phase {
                    Phase::Posted => (t.amount as i64, 0),
                    Phase::Pending => (0, t.amount as i64),
                    Phase::PostPending { .. } => (t.amount as i64, -released[i]),
                    Phase::VoidPending { .. } => (0, -released[i]),
                };
                let ok = same_accounts
                    && TransferRow::of(t) == *row
                    && idx == i as i64
                    && posted == want_posted
                    && pending == want_pending
                    && ed == eday
                    && kd == kday;
                if !ok {
                    return Ok(problem(
                        n_entries,
                        n_transfers,
                        format!("{name}: transfer {i} does not match what the entry recorded"),
                    ));
                }
            }
        }
        if next_block.is_some() || cursor.next(&mut conn).await.ok().flatten().is_some() {
            return Ok(problem(
                n_entries,
                n_transfers,
                "transfers exist for entries that do not".into(),
            ));
        }
        if let Some((seq, _)) = created.into_iter().next() {
            return Ok(problem(
                n_entries,
                n_transfers,
                format!("accounts claim to be created by entry #{seq}, which does not exist"),
            ));
        }
        if !replay.is_balanced() {
            return Ok(problem(
                n_entries,
                n_transfers,
                "debits do not equal credits on some ledger".into(),
            ));
        }
        // Derived tables must equal the replay.
        let stored = match load_book(&mut conn).await {
            Ok(b) => b,
            Err(StoreError::Corrupt(m)) => return Ok(problem(n_entries, n_transfers, m)),
            Err(e) => return Err(e),
        };
        let a: Vec<_> = replay.accounts().map(|(_, k, b)| (k.clone(), *b)).collect();
        let b: Vec<_> = stored.accounts().map(|(_, k, b)| (k.clone(), *b)).collect();
        if a != b {
            let which = a
                .iter()
                .zip(&b)
                .find(|(x, y)| x != y)
                .map(|(x, _)| x.0.to_string())
                .unwrap_or_else(|| "the number of accounts".into());
            return Ok(problem(
                n_entries,
                n_transfers,
                format!("stored balances differ from the journal's replay ({which}); a stored transfer's effect on balances was changed"),
            ));
        }
        let open = |book: &Book| {
            let mut v: Vec<_> = book
                .engine()
                .pending_transfers()
                .filter(|(_, p)| p.state == PendingState::Open)
                .map(|(id, p)| (id, p.amount))
                .collect();
            v.sort();
            v
        };
        if open(&replay) != open(&stored) {
            return Ok(problem(
                n_entries,
                n_transfers,
                "open pending transfers differ from the journal's replay".into(),
            ));
        }
        // The import lookups snapshot (derived) must say what the journal says.
        // (A stale one is not used: the next import rebuilds it.)
        drop(conn);
        let current = match self.lookups_snapshot().await {
            Ok((_, l)) => l,
            Err(StoreError::Corrupt(m)) => return Ok(problem(n_entries, n_transfers, m)),
            Err(e) => return Err(e),
        };
        if let Some(snapshot) = current {
            if snapshot != self.import_lookups_from_journal().await? {
                return Ok(problem(
                    n_entries,
                    n_transfers,
                    "the import lookups snapshot differs from the journal's catalog, aliases and agreements (it is derived: delete its row and the next import rebuilds it)".into(),
                ));
            }
        }
        Ok(VerifyReport {
            entries: n_entries,
            transfers: n_transfers,
            head_hash: head,
            first_problem: None,
        })
    }
}

fn problem(entries: i64, transfers: i64, msg: String) -> VerifyReport {
    VerifyReport {
        entries,
        transfers,
        head_hash: String::new(),
        first_problem: Some(msg),
    }
}
