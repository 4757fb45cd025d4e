//! `verify`: recompute the hash chain and replay the journal.

use crate::{load_book, parse_hash, tid_hex, Result, Store, StoreError};
use backstock_ledger::engine::{PendingState, TransferFlags};
use backstock_ledger::{chain, AccountKey, Book, Entry, Phase, Posting};
use serde::Serialize;
use sqlx::Row;

#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct VerifyReport {
    pub entries: i64,
    pub transfers: i64,
    pub head_hash: String,
    /// The first problem found, naming the entry; `None` when all is well.
    pub first_problem: Option<String>,
}

impl Store {
    /// Recomputes every entry's hash from its stored bytes, checks the transfers rows
    /// against the hashed postings, replays all postings into a fresh book and checks
    /// the derived balances and pending tables. Stops at the first problem.
    pub async fn verify(&self) -> Result<VerifyReport> {
        let mut conn = self.pool().acquire().await?;
        let keys: Vec<(i64, String)> = sqlx::query_as("SELECT id, key FROM accounts ORDER BY id")
            .fetch_all(&mut *conn)
            .await?;
        let mut key_of: Vec<AccountKey> = Vec::with_capacity(keys.len());
        for (i, (id, k)) in keys.iter().enumerate() {
            if *id != i as i64 {
                return Ok(problem(0, 0, format!("account ids are not dense at {id}")));
            }
            match serde_json::from_str(k) {
                Ok(k) => key_of.push(k),
                Err(_) => return Ok(problem(0, 0, format!("account {id} has an unreadable key"))),
            }
        }
        let mut prev = chain::GENESIS;
        let mut replay = Book::new();
        let mut n_entries = 0i64;
        let mut n_transfers = 0i64;
        let mut head = chain::to_hex(&prev);
        let mut rows = sqlx::query(
            "SELECT seq, entry_id, kind, effective_day, known_day, body, postings, hash FROM journal ORDER BY seq",
        )
        .fetch_all(&mut *conn)
        .await?
        .into_iter();
        let mut trows = sqlx::query(
            "SELECT seq, idx, debit, credit, amount, flags, pending_id, posted_delta, pending_delta, effective_day, known_day \
             FROM transfers ORDER BY seq, idx",
        )
        .fetch_all(&mut *conn)
        .await?
        .into_iter()
        .peekable();
        for r in rows.by_ref() {
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
            let body: String = r.get(5);
            let postings_json: String = r.get(6);
            let stored_hash: String = r.get(7);
            let hash = chain::entry_hash(&prev, seq as u64, &body, &postings_json);
            if parse_hash(&stored_hash).ok() != Some(hash) {
                return Ok(problem(
                    n_entries,
                    n_transfers,
                    format!("{name} does not match its hash: its content was changed after it was recorded"),
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
            if serde_json::to_string(&entry).ok().as_deref() != Some(body.as_str())
                || entry.id.as_str() != entry_id
                || r.get::<String, _>(2) != entry.event.name()
                || r.get::<i64, _>(3) != i64::from(entry.effective_on.days_since_epoch())
                || r.get::<i64, _>(4) != i64::from(entry.known_on.days_since_epoch())
            {
                return Ok(problem(
                    n_entries,
                    n_transfers,
                    format!("{name}: its columns do not match its hashed content"),
                ));
            }
            let postings: Vec<Posting> = match serde_json::from_str(&postings_json) {
                Ok(p) => p,
                Err(e) => {
                    return Ok(problem(
                        n_entries,
                        n_transfers,
                        format!("{name}: postings unreadable: {e}"),
                    ))
                }
            };
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
            for (i, (p, t)) in postings.iter().zip(&rec.transfers).enumerate() {
                let Some(tr) = trows.next_if(|t| t.get::<i64, _>(0) == seq) else {
                    return Ok(problem(
                        n_entries,
                        n_transfers,
                        format!("{name}: transfer {i} is missing"),
                    ));
                };
                n_transfers += 1;
                let debit: i64 = tr.get(2);
                let credit: i64 = tr.get(3);
                let key = |id: i64| key_of.get(id as usize);
                let pid: Option<String> = tr.get(6);
                let want_pid = match p.phase {
                    Phase::PostPending { pending } | Phase::VoidPending { pending } => {
                        Some(tid_hex(pending.0))
                    }
                    _ => None,
                };
                let flags = t.flags.bits() & !TransferFlags::LINKED.bits();
                let (posted, pending) = deltas(&replay, t, &p.phase);
                let ok = tr.get::<i64, _>(1) == i as i64
                    && key(debit) == Some(&p.debit)
                    && key(credit) == Some(&p.credit)
                    && i64::from(t.debit.0) == debit
                    && i64::from(t.credit.0) == credit
                    && tr.get::<i64, _>(4) == p.amount as i64
                    && tr.get::<i64, _>(5) == i64::from(flags)
                    && pid == want_pid
                    && tr.get::<i64, _>(7) == posted
                    && tr.get::<i64, _>(8) == pending
                    && tr.get::<i64, _>(9) == i64::from(entry.effective_on.days_since_epoch())
                    && tr.get::<i64, _>(10) == i64::from(entry.known_on.days_since_epoch());
                if !ok {
                    return Ok(problem(
                        n_entries,
                        n_transfers,
                        format!("{name}: transfer {i} was changed after it was recorded"),
                    ));
                }
            }
            if trows.peek().is_some_and(|t| t.get::<i64, _>(0) == seq) {
                return Ok(problem(
                    n_entries,
                    n_transfers,
                    format!("{name}: has transfers it did not record"),
                ));
            }
        }
        if trows.next().is_some() {
            return Ok(problem(
                n_entries,
                n_transfers,
                "transfers exist for entries that do not".into(),
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
        let stored = load_book(&mut conn).await;
        let stored = match stored {
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
                format!("stored balances differ from the journal's replay ({which}); the balances table was edited"),
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
        Ok(VerifyReport {
            entries: n_entries,
            transfers: n_transfers,
            head_hash: head,
            first_problem: None,
        })
    }
}

fn deltas(book: &Book, t: &backstock_ledger::engine::Transfer, phase: &Phase) -> (i64, i64) {
    match phase {
        Phase::Posted => (t.amount as i64, 0),
        Phase::Pending => (0, t.amount as i64),
        Phase::PostPending { pending } => {
            let pa = book
                .engine()
                .pending(pending.0)
                .map(|p| p.amount as i64)
                .unwrap_or(0);
            (t.amount as i64, -pa)
        }
        Phase::VoidPending { pending } => {
            let pa = book
                .engine()
                .pending(pending.0)
                .map(|p| p.amount as i64)
                .unwrap_or(0);
            (0, -pa)
        }
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
