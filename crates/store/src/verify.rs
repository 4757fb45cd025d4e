//! `verify`: recompute the hash chain and replay the journal.

use crate::{
    canonical_postings, parse_hash, Block, BlockCursor, Result, Store, StoreError, TransferRow,
};
use backstock_ledger::engine::TransferId;
use backstock_ledger::engine::{AccountId, Balance, PendingState};
use backstock_ledger::{chain, AccountKey, Book, Entry, Phase};
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
    /// Originals (imported files, documents) whose bytes were hashed again.
    pub originals: i64,
    /// Entries taken as verified by an earlier verification (their hashes, transfers
    /// and originals not recomputed): 0 when everything was recomputed.
    pub already_verified: i64,
    /// SHA-256 of the import lookups snapshot as checked (kept with the record of this
    /// verification, so the next incremental one sees whether it changed).
    #[serde(skip)]
    pub lookups_digest: Option<String>,
}

/// Where an incremental verification starts: the first `entries` entries were verified
/// before and the last of them still has the hash `head` had then.
#[derive(Debug, Clone)]
struct Resume {
    entries: i64,
    head: [u8; 32],
    /// The lookups snapshot's digest when they were verified.
    lookups: Option<String>,
}

/// Journal rows read per page by `verify` (an entry's JSON can be megabytes).
const VERIFY_PAGE: i64 = 64;

impl Store {
    /// Recomputes every entry's hash from its stored rows (entry, the accounts it
    /// created, its transfers), replays all transfers into a fresh book and checks the
    /// derived balances and pending tables. Stops at the first problem.
    pub async fn verify(&self) -> Result<VerifyReport> {
        self.verify_from(None).await
    }

    /// [`Store::verify`] of the entries after `resume` only, when given: the entries up
    /// to it were verified before (their hashes, transfers and originals are not
    /// recomputed; the book they leave is summed from their stored transfers), the new
    /// ones are chained on from its head, replayed onto that book and checked as
    /// `verify` checks every entry.
    async fn verify_from(&self, resume: Option<Resume>) -> Result<VerifyReport> {
        let mut conn = self.pool().acquire().await?;
        let done = resume.as_ref().map_or(0, |r| r.entries);
        let mut created: BTreeMap<i64, Vec<(u32, String)>> = BTreeMap::new();
        // Accounts created by the verified prefix (ids are dense in creation order).
        let mut prefix_accounts = 0usize;
        let mut stored_accounts = 0usize;
        // Only the prefix's book needs keys parsed up front; an entry verified here takes
        // the keys of the accounts it names from the replay, or from the accounts it
        // created (a full verification thus holds the label's keys once, in the replay).
        let key_of =
            match crate::load_account_keys_if(&mut conn, resume.is_some(), |id, seq, text| {
                stored_accounts = id as usize + 1;
                if seq > done {
                    created.entry(seq).or_default().push((id, text.to_string()));
                } else {
                    prefix_accounts = id as usize + 1;
                }
                Ok(())
            })
            .await
            {
                Ok(k) => k,
                Err(StoreError::Corrupt(m)) => return Ok(problem(0, 0, m)),
                Err(e) => return Err(e),
            };
        let mut prev = resume.as_ref().map_or(chain::GENESIS, |r| r.head);
        let mut n_entries = done;
        let mut head = chain::to_hex(&prev);
        let mut cursor = BlockCursor::new(None);
        let mut next_block: Option<Block> = None;
        // The book the verified prefix left, and what the stored transfers say every
        // account holds ([debits_pending, debits_posted, credits_pending, credits_posted]).
        let (mut replay, mut n_transfers, mut stored_sums) = match &resume {
            None => (Book::new(), 0i64, None),
            Some(_) => {
                let mut sums = vec![[0i128; 4]; stored_accounts];
                let mut n = 0i64;
                loop {
                    let b = match cursor.next(&mut conn).await {
                        Ok(b) => b,
                        Err(StoreError::Corrupt(m)) => return Ok(problem(done, 0, m)),
                        Err(e) => return Err(e),
                    };
                    let Some(b) = b else { break };
                    if b.seq > done {
                        next_block = Some(b);
                        break;
                    }
                    n += b.transfers.len() as i64;
                    if let Err(m) = add_block(&mut sums, &b) {
                        return Ok(problem(done, n, m));
                    }
                }
                let mut book = Book::new();
                for (id, key) in key_of.iter().take(prefix_accounts).enumerate() {
                    let Some(b) = balance_of(&sums[id]) else {
                        return Ok(problem(
                            done,
                            n,
                            format!("account {id}: its transfers sum to a negative total"),
                        ));
                    };
                    book.restore_account(key.clone(), b);
                }
                let open: Vec<(String, i64, i64, i64)> = sqlx::query_as(
                    "SELECT id, debit, credit, amount FROM pending WHERE state = 'open' AND seq <= ? ORDER BY seq, id",
                )
                .bind(done)
                .fetch_all(&mut *conn)
                .await?;
                for (id, debit, credit, amount) in open {
                    let Some(id) = pending_id(&id) else {
                        return Ok(problem(done, n, format!("pending id {id} is unreadable")));
                    };
                    book.restore_pending(
                        TransferId(id),
                        AccountId(debit as u32),
                        AccountId(credit as u32),
                        amount as u64,
                    );
                }
                (book, n, Some(sums))
            }
        };
        drop(key_of);
        let mut version: i64 = match &resume {
            None => 1,
            Some(_) => sqlx::query_scalar("SELECT chain_version FROM journal WHERE seq = ?")
                .bind(done)
                .fetch_optional(&mut *conn)
                .await?
                .unwrap_or(1),
        };
        let mut named_files: BTreeMap<String, i64> = BTreeMap::new();
        let mut after = done;
        loop {
            let rows = sqlx::query(
            "SELECT j.seq, j.entry_id, j.kind, j.effective_day, j.known_day, j.body, j.hash, j.body_zstd, j.chain_version, j.recorded_at, j.file_sha256, g.body FROM journal j LEFT JOIN statement_digests g ON g.seq = j.seq AND j.kind = 'statement' WHERE j.seq > ? ORDER BY j.seq LIMIT ?",
        )
        .bind(after)
        .bind(VERIFY_PAGE)
        .fetch_all(&mut *conn)
        .await?;
            let page_len = rows.len() as i64;
            for r in rows {
                let seq: i64 = r.get(0);
                after = seq;
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
                let mut new_keys = Vec::with_capacity(new_accounts.len());
                for (id, text) in &new_accounts {
                    match AccountKey::read(text) {
                        Ok(k) => new_keys.push((*id, k)),
                        Err(e) => {
                            return Ok(problem(
                                n_entries,
                                n_transfers,
                                format!("account {id} has an unreadable key: {e}"),
                            ))
                        }
                    }
                }
                let v: i64 = r.get(8);
                if v < version {
                    return Ok(problem(
                    n_entries,
                    n_transfers,
                    format!("{name} claims chain version {v} after entries of version {version}: the chain was changed"),
                ));
                }
                version = v;
                let recorded_at: String = r.get(9);
                let file_sha: Option<String> = r.get(10);
                if let Some(f) = &file_sha {
                    named_files.entry(f.clone()).or_insert(seq);
                }
                let Some(hash) = u8::try_from(v).ok().and_then(|v| {
                    chain::link_hash(
                        v,
                        &prev,
                        seq as u64,
                        &body,
                        &canonical,
                        &recorded_at,
                        file_sha.as_deref(),
                    )
                }) else {
                    return Ok(problem(
                        n_entries,
                        n_transfers,
                        format!("{name} has chain version {v}, which this backstock does not know"),
                    ));
                };
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
                // A statement's digest (what early warning reads of it) is derived from
                // this hashed entry: it must be what the entry gives.
                if let Some(kept) = r.get::<Option<String>, _>(11) {
                    if crate::digest_text(&entry)?.as_deref() != Some(kept.as_str()) {
                        return Ok(problem(
                            n_entries,
                            n_transfers,
                            format!("{name}: its statement digest (statement_digests) does not match the entry: it was changed after it was recorded"),
                        ));
                    }
                }
                let mut postings = Vec::with_capacity(rows.len());
                // Accounts the replay holds by now, then those this entry created (their
                // ids follow, dense).
                let known = replay.engine().accounts().len() as u32;
                let key_of = |id: u32| match id.checked_sub(known) {
                    None => replay.key(AccountId(id)),
                    Some(k) => new_keys
                        .get(k as usize)
                        .filter(|(i, _)| *i == id)
                        .map(|(_, key)| key),
                };
                for (i, row) in rows.iter().enumerate() {
                    match row.posting_by(key_of) {
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
                // A pending transfer the prefix opened and a new entry posts or voids was
                // open when the prefix ended (the table says what is open now).
                if resume.is_some() {
                    for p in &postings {
                        let (Phase::PostPending { pending } | Phase::VoidPending { pending }) =
                            p.phase
                        else {
                            continue;
                        };
                        if replay.engine().pending(pending.0).is_some() {
                            continue;
                        }
                        let row: Option<(i64, i64, i64)> = sqlx::query_as(
                            "SELECT debit, credit, amount FROM pending WHERE id = ? AND seq <= ?",
                        )
                        .bind(format!("{:032x}", pending.0 .0))
                        .bind(done)
                        .fetch_optional(&mut *conn)
                        .await?;
                        if let Some((debit, credit, amount)) = row {
                            replay.restore_pending(
                                pending.0,
                                AccountId(debit as u32),
                                AccountId(credit as u32),
                                amount as u64,
                            );
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
                for (i, ((p, t), row)) in postings.iter().zip(&rec.transfers).zip(&rows).enumerate()
                {
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
                if let Some(sums) = stored_sums.as_mut() {
                    sums.resize(replay.engine().accounts().len().max(sums.len()), [0; 4]);
                    for (row, (_, posted, pending, _, _)) in rows.iter().zip(&extra) {
                        let (d, c) = (row.debit as usize, row.credit as usize);
                        let (Some(_), Some(_)) = (sums.get(d), sums.get(c)) else {
                            return Ok(problem(
                                n_entries,
                                n_transfers,
                                format!("{name}: a transfer names an account that does not exist"),
                            ));
                        };
                        let (posted, pending) = (i128::from(*posted), i128::from(*pending));
                        sums[d][0] += pending;
                        sums[d][1] += posted;
                        sums[c][2] += pending;
                        sums[c][3] += posted;
                    }
                }
            }
            if page_len < VERIFY_PAGE {
                break;
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
        // Derived tables must equal the replay: what the stored transfers sum to per
        // account (incremental: the prefix's sums plus the new entries' deltas, summed
        // above), and the open pending transfers. Compared account by account, without
        // a second book (its keys would be every key again).
        let sums = match stored_sums {
            Some(sums) => sums,
            None => match crate::sum_transfers(&mut conn, stored_accounts, None).await {
                Ok(s) => s,
                Err(StoreError::Corrupt(m)) => return Ok(problem(n_entries, n_transfers, m)),
                Err(e) => return Err(e),
            },
        };
        let differs = |which: String| {
            problem(
                n_entries,
                n_transfers,
                format!("stored balances differ from the journal's replay ({which}); a stored transfer's effect on balances was changed"),
            )
        };
        if replay.engine().accounts().len() != stored_accounts {
            return Ok(differs("the number of accounts".into()));
        }
        for (id, key, balance) in replay.accounts() {
            if sums.get(id.0 as usize).and_then(balance_of).as_ref() != Some(balance) {
                return Ok(differs(key.to_string()));
            }
        }
        drop(sums);
        let mut replayed_open: Vec<(u128, u64)> = replay
            .engine()
            .pending_transfers()
            .filter(|(_, p)| p.state == PendingState::Open)
            .map(|(id, p)| (id.0, p.amount))
            .collect();
        replayed_open.sort();
        let rows: Vec<(String, i64)> =
            sqlx::query_as("SELECT id, amount FROM pending WHERE state = 'open'")
                .fetch_all(&mut *conn)
                .await?;
        let mut stored_open = Vec::with_capacity(rows.len());
        for (id, amount) in rows {
            let Some(id) = pending_id(&id) else {
                return Ok(problem(
                    n_entries,
                    n_transfers,
                    format!("pending id {id} is unreadable"),
                ));
            };
            stored_open.push((id, amount as u64));
        }
        stored_open.sort();
        if replayed_open != stored_open {
            return Ok(problem(
                n_entries,
                n_transfers,
                "open pending transfers differ from the journal's replay".into(),
            ));
        }
        drop(replay);
        // Every kept original hashes to the SHA-256 it is kept under (which the entries
        // made from it name in their hashed content), and every original an entry
        // names is kept.
        let originals = match check_originals(&mut conn, &named_files, resume.is_some()).await {
            Ok(Ok(n)) => n,
            Ok(Err(m)) | Err(StoreError::Corrupt(m)) => {
                return Ok(problem(n_entries, n_transfers, m))
            }
            Err(e) => return Err(e),
        };
        // The import lookups snapshot (derived) must say what the journal says.
        // (A stale one is not used: the next import rebuilds it.)
        drop(conn);
        let current = match self.lookups_snapshot().await {
            Ok((_, l)) => l,
            Err(StoreError::Corrupt(m)) => return Ok(problem(n_entries, n_transfers, m)),
            Err(e) => return Err(e),
        };
        // Incremental: the snapshot is compared when it was built past the verified
        // prefix or a new entry is a catalog item, alias or agreement.
        let digest = self.lookups_digest().await?;
        let lookups_changed = match &resume {
            None => true,
            Some(r) if r.lookups != digest => true,
            Some(_) => {
                let n: i64 = sqlx::query_scalar(
                    "SELECT (SELECT COUNT(*) FROM journal WHERE seq > ?1 AND kind IN ('catalog_item', 'alias', 'agreement')) \
                          + (SELECT COUNT(*) FROM lookups_snapshot WHERE upto_seq > ?1)",
                )
                .bind(done)
                .fetch_one(self.pool())
                .await?;
                n > 0
            }
        };
        if let Some(snapshot) = current.filter(|_| lookups_changed) {
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
            originals,
            already_verified: done,
            lookups_digest: digest,
        })
    }
}

fn problem(entries: i64, transfers: i64, msg: String) -> VerifyReport {
    VerifyReport {
        entries,
        transfers,
        head_hash: String::new(),
        first_problem: Some(msg),
        originals: 0,
        already_verified: 0,
        lookups_digest: None,
    }
}

/// Adds a block's stored deltas to per-account sums.
fn add_block(sums: &mut [[i128; 4]], b: &Block) -> std::result::Result<(), String> {
    crate::add_transfers(sums, b.seq, &b.transfers).map_err(|e| match e {
        StoreError::Corrupt(m) => m,
        e => e.to_string(),
    })
}

/// A balance from summed deltas, `None` when one is negative.
fn balance_of(s: &[i128; 4]) -> Option<Balance> {
    let n = |v: i128| u128::try_from(v).ok();
    Some(Balance {
        debits_pending: n(s[0])?,
        debits_posted: n(s[1])?,
        credits_pending: n(s[2])?,
        credits_posted: n(s[3])?,
    })
}

fn pending_id(hex: &str) -> Option<u128> {
    u128::from_str_radix(hex, 16).ok()
}

/// Hashes every kept original again, part by part (never whole: a part is at most
/// 16 MiB of the original), against the SHA-256 it is kept under and its recorded
/// size; checks its parts are numbered 0, 1, 2 … and that every original named by an
/// entry (`named`: SHA-256 → first entry naming it) is kept. `Ok(Err(why))` names the
/// first problem.
async fn check_originals(
    conn: &mut sqlx::SqliteConnection,
    named: &BTreeMap<String, i64>,
    only_named: bool,
) -> Result<std::result::Result<i64, String>> {
    let mut files: Vec<(String, String, i64, i64)> =
        sqlx::query_as("SELECT sha256, name, size, length(content) FROM files ORDER BY sha256")
            .fetch_all(&mut *conn)
            .await?;
    let kept: std::collections::BTreeSet<&str> = files.iter().map(|f| f.0.as_str()).collect();
    if let Some((sha, seq)) = named.iter().find(|(s, _)| !kept.contains(s.as_str())) {
        return Ok(Err(format!(
            "entry #{seq} was made from the file with SHA-256 {sha}, which is not kept: the original was removed or renamed"
        )));
    }
    let orphan: Option<String> = sqlx::query_scalar(
        "SELECT sha256 FROM file_parts WHERE sha256 NOT IN (SELECT sha256 FROM files) LIMIT 1",
    )
    .fetch_optional(&mut *conn)
    .await?;
    if let Some(sha) = orphan {
        return Ok(Err(format!(
            "parts are kept for a file with SHA-256 {sha}, which is not kept"
        )));
    }
    if only_named {
        // Incremental: the originals the new entries name are hashed again.
        files.retain(|f| named.contains_key(&f.0));
    }
    let mut n = 0i64;
    for (sha, name, size, inline_len) in &files {
        let what = format!("the original {name:?} (SHA-256 {sha})");
        let mut h = Hashing::default();
        if *inline_len > 0 {
            let z: Vec<u8> = sqlx::query_scalar("SELECT content FROM files WHERE sha256 = ?")
                .bind(sha)
                .fetch_one(&mut *conn)
                .await?;
            let parts: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM file_parts WHERE sha256 = ?")
                .bind(sha)
                .fetch_one(&mut *conn)
                .await?;
            if parts > 0 {
                return Ok(Err(format!("{what} is kept both whole and in parts")));
            }
            if let Err(e) = h.feed(&z, *size) {
                return Ok(Err(format!("{what} does not decompress: {e}")));
            }
        } else {
            let mut part = 0i64;
            loop {
                let z: Option<(i64, Vec<u8>)> = sqlx::query_as(
                    "SELECT part, content FROM file_parts WHERE sha256 = ? AND part >= ? ORDER BY part LIMIT 1",
                )
                .bind(sha)
                .bind(part)
                .fetch_optional(&mut *conn)
                .await?;
                let Some((at, z)) = z else { break };
                if at != part {
                    return Ok(Err(format!("{what}: part {part} is missing")));
                }
                if let Err(e) = h.feed(&z, *size) {
                    return Ok(Err(format!("{what}: part {part} does not decompress: {e}")));
                }
                part += 1;
            }
        }
        let (got, len) = h.finish();
        if len != *size as u64 || got != *sha {
            return Ok(Err(format!(
                "{what} was changed after it was kept: its bytes ({len} of {size}) hash to {got}"
            )));
        }
        n += 1;
    }
    Ok(Ok(n))
}

/// SHA-256 and length of an original fed in kept (compressed) pieces.
#[derive(Default)]
struct Hashing {
    sha: sha2::Sha256,
    len: u64,
}

impl std::io::Write for Hashing {
    fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
        use sha2::Digest;
        self.sha.update(b);
        self.len += b.len() as u64;
        Ok(b.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl Hashing {
    /// Decompresses one kept piece (zstd frames, or deflate from early versions) into
    /// the hash, stopping once more than `size` bytes came out (a damaged piece is
    /// not inflated without end).
    fn feed(&mut self, kept: &[u8], size: i64) -> std::io::Result<()> {
        use std::io::Read;
        let room = u64::try_from(size).unwrap_or(0).saturating_sub(self.len) + 1;
        if kept.starts_with(&crate::ZSTD_MAGIC) {
            let d = zstd::stream::read::Decoder::with_buffer(kept)?;
            std::io::copy(&mut d.take(room), self)?;
        } else {
            let d = flate2::read::DeflateDecoder::new(kept);
            std::io::copy(&mut d.take(room), self)?;
        }
        Ok(())
    }

    fn finish(self) -> (String, u64) {
        use sha2::Digest;
        (chain::to_hex(&self.sha.finalize()), self.len)
    }
}

/// A point of the journal to hold it to: its number of entries and the hash of its
/// last entry, written `N:HASH` (`backstock checkpoint`). The journal only grows, so a
/// later journal must still have entry #N with that hash: one with fewer entries was
/// cut short, one with another hash there was rewritten.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, serde::Deserialize)]
pub struct Checkpoint {
    pub entries: i64,
    pub head: String,
}

impl Checkpoint {
    /// Reads `N:HASH` (N entries, the 64 hex digits of entry #N's hash).
    pub fn parse(text: &str) -> std::result::Result<Checkpoint, String> {
        let t = text.trim();
        let bad = || {
            format!(
                "found {t:?}, expected a checkpoint N:HASH as `backstock checkpoint` prints it (entries, then 64 hex digits)"
            )
        };
        let (n, h) = t.split_once(':').ok_or_else(bad)?;
        let entries: i64 = n.trim().parse().map_err(|_| bad())?;
        let head = h.trim().to_ascii_lowercase();
        if entries < 0 || parse_hash(&head).is_err() {
            return Err(bad());
        }
        Ok(Checkpoint { entries, head })
    }
}

impl std::fmt::Display for Checkpoint {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}:{}", self.entries, self.head)
    }
}

/// What `verify` last saw, kept outside the tables it checks (a file beside the
/// database, `backstock.db.verified`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, serde::Deserialize)]
pub struct Anchor {
    #[serde(flatten)]
    pub checkpoint: Checkpoint,
    pub verified_at: String,
    /// SHA-256 of the import lookups snapshot as verified (absent in older records).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lookups: Option<String>,
}

/// [`Store::verify_anchored`]'s answer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AnchoredReport {
    pub report: VerifyReport,
    /// What the previous verification saw, if one was recorded.
    pub last: Option<Anchor>,
    /// This journal's checkpoint (when it verified).
    pub checkpoint: Option<Checkpoint>,
}

impl Store {
    /// Where `verify` keeps what it last saw.
    pub fn anchor_path(&self) -> std::path::PathBuf {
        let mut name = self.path().as_os_str().to_owned();
        name.push(".verified");
        std::path::PathBuf::from(name)
    }

    /// [`Store::verify`], then: the journal must still hold what the last verification
    /// saw (kept in [`Store::anchor_path`]) and the checkpoint `expect`, if given —
    /// deleting entries from the end of the journal, consistently across its tables,
    /// leaves a chain that verifies on its own but not against them. When all is
    /// well, what this verification saw is kept for the next.
    ///
    /// The entries the last verification saw are not recomputed when they still end in
    /// the hash they ended in then (see [`Store::verify_anchored_full`] to recompute
    /// everything).
    pub async fn verify_anchored(&self, expect: Option<&Checkpoint>) -> Result<AnchoredReport> {
        self.verify_anchored_full(expect, false).await
    }

    /// [`Store::verify_anchored`]; with `full`, every entry is recomputed even when an
    /// earlier verification saw it (`verify --full`).
    pub async fn verify_anchored_full(
        &self,
        expect: Option<&Checkpoint>,
        full: bool,
    ) -> Result<AnchoredReport> {
        let path = self.anchor_path();
        let last_text = match std::fs::read_to_string(&path) {
            Ok(t) => Some(t),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => None,
            Err(e) => return Err(e.into()),
        };
        let resume = match last_text
            .as_deref()
            .and_then(|t| serde_json::from_str::<Anchor>(t).ok())
        {
            Some(a) if !full && a.checkpoint.entries > 0 => {
                let hash: Option<String> =
                    sqlx::query_scalar("SELECT hash FROM journal WHERE seq = ?")
                        .bind(a.checkpoint.entries)
                        .fetch_optional(self.pool())
                        .await?;
                match (hash, parse_hash(&a.checkpoint.head)) {
                    (Some(h), Ok(head)) if h == a.checkpoint.head => Some(Resume {
                        entries: a.checkpoint.entries,
                        head,
                        lookups: a.lookups.clone(),
                    }),
                    // Not held: everything is verified, and the check below says why.
                    _ => None,
                }
            }
            _ => None,
        };
        let mut report = self.verify_from(resume).await?;
        let last: Option<Anchor> = match last_text {
            Some(text) => match serde_json::from_str(&text) {
                Ok(a) => Some(a),
                Err(e) => {
                    report.first_problem.get_or_insert(format!(
                        "the record of the last verification ({}) is unreadable: {e}",
                        path.display()
                    ));
                    None
                }
            },
            None => None,
        };
        let mut out = AnchoredReport {
            report,
            last,
            checkpoint: None,
        };
        if out.report.first_problem.is_some() {
            return Ok(out);
        }
        let checks = [
            out.last.as_ref().map(|a| {
                (
                    a.checkpoint.clone(),
                    format!(
                        "when it was last verified ({}, kept in {}; if you restored an older backup on purpose, delete that file)",
                        a.verified_at,
                        path.display()
                    ),
                )
            }),
            expect.map(|c| (c.clone(), "at the checkpoint you gave".to_string())),
        ];
        for (cp, when) in checks.into_iter().flatten() {
            if let Some(p) = self.holds(&out.report, &cp, &when).await? {
                out.report.first_problem = Some(p);
                return Ok(out);
            }
        }
        // The holdings checkpoint is derived from the journal just verified: the full
        // verification recomputes it (risk and receivables start from it).
        if full {
            if let Some(p) = self.check_holdings_checkpoint().await? {
                out.report.first_problem = Some(p);
                return Ok(out);
            }
        }
        let checkpoint = Checkpoint {
            entries: out.report.entries,
            head: out.report.head_hash.clone(),
        };
        let anchor = Anchor {
            checkpoint: checkpoint.clone(),
            verified_at: crate::now_utc(),
            lookups: out.report.lookups_digest.clone(),
        };
        let tmp = path.with_extension("verified.tmp");
        let text =
            serde_json::to_string(&anchor).map_err(|e| StoreError::Corrupt(e.to_string()))?;
        std::fs::write(&tmp, text + "\n")?;
        std::fs::rename(&tmp, &path)?;
        out.checkpoint = Some(checkpoint);
        Ok(out)
    }

    /// SHA-256 of the import lookups snapshot row (its extent and data), if there is one.
    async fn lookups_digest(&self) -> Result<Option<String>> {
        use sha2::Digest;
        let row: Option<(i64, Vec<u8>)> =
            sqlx::query_as("SELECT upto_seq, data FROM lookups_snapshot WHERE id = 1")
                .fetch_optional(self.pool())
                .await?;
        Ok(row.map(|(upto, data)| {
            let mut h = sha2::Sha256::new();
            h.update(upto.to_le_bytes());
            h.update(&data);
            chain::to_hex(&h.finalize())
        }))
    }

    /// Why the verified journal of `report` does not hold `cp`, if it does not.
    async fn holds(
        &self,
        report: &VerifyReport,
        cp: &Checkpoint,
        when: &str,
    ) -> Result<Option<String>> {
        if cp.entries > report.entries {
            return Ok(Some(format!(
                "the journal has {} entries but held {} (head {}) {when}: entries were removed from its end",
                report.entries, cp.entries, cp.head
            )));
        }
        let hash: Option<String> = if cp.entries == 0 {
            Some(chain::to_hex(&chain::GENESIS))
        } else {
            sqlx::query_scalar("SELECT hash FROM journal WHERE seq = ?")
                .bind(cp.entries)
                .fetch_optional(self.pool())
                .await?
        };
        if hash.as_deref() != Some(cp.head.as_str()) {
            return Ok(Some(format!(
                "entry #{} does not have the hash {} it had {when}: the journal was rewritten from there on",
                cp.entries, cp.head
            )));
        }
        Ok(None)
    }
}
