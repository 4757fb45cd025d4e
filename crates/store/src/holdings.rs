//! The label's holdings as of a day, from a checkpoint kept beside the database.
//!
//! `risk`, `receivables` and the credit check of `ship` start from what the label owns
//! at each holder on one day ([`Store::holdings_of`]). Without the server's cached book
//! (a CLI command is a new process) that means summing every transfer of the journal
//! and parsing the key of every account with units: on a label group's store, 3M
//! transfers and 370,000 keys, most of a second each time. The sums are additive, so
//! they are kept: a **checkpoint** (`backstock.db.holdings`, beside the database) holds
//! for one owner and one day the posted units of each of its accounts (holder × SKU ×
//! state) over the entries up to #N, with #N's hash. The next read for the same owner
//! and day adds only the transfers of the entries after #N (effective and known by the
//! day) — the same transfers, the same sums, the same answer — and parses only the
//! keys of accounts it had not seen.
//!
//! The checkpoint is derived data, never a record: it is used only when entry #N
//! still has the hash it had (a store restored, replaced or rewritten since does not
//! match), it is written whole to a new file and renamed over the old (a reader sees
//! either), a file that does not read back exactly is ignored and made again, and a
//! checkpoint that cannot be written (a read-only directory) only means the next read
//! sums everything again. `verify --full` recomputes it from the journal and reports a
//! difference ([`Store::check_holdings_checkpoint`]). A read for another day or owner
//! sums everything and keeps its own checkpoint instead.

use crate::{Result, Store, StoreError};
use backstock_domain::{PartyId, Sku};
use backstock_ledger::{AccountKey, UnitState};
use sqlx::{Row, SqliteConnection};
use std::collections::{BTreeMap, HashMap};
use std::io::Write;
use std::path::PathBuf;

/// The first line of a checkpoint file names its layout.
const MAGIC: &str = "backstock holdings checkpoint v1";

/// A checkpoint is written again once the entries after it carry this many transfers
/// (below it, adding them on each read costs less than rewriting the file).
const REWRITE_AFTER_TRANSFERS: usize = 20_000;

/// An account the owner holds units in, with its posted units (debits − credits).
#[derive(Debug, Clone, PartialEq, Eq)]
struct Held {
    id: usize,
    holder: PartyId,
    sku: Sku,
    units: i128,
}

impl Held {
    fn order(&self) -> (&PartyId, &Sku, usize) {
        (&self.holder, &self.sku, self.id)
    }
}

/// Accounts in (holder, SKU, id) order — the order of the answer's map, so it is
/// built without a search per account (370,000 of them, each a string comparison
/// ~19 deep) — and of the file.
fn sort(accounts: &mut [Held]) {
    // Stable: a sorted run with a few accounts added after it costs little more than
    // one pass.
    accounts.sort_by(|a, b| a.order().cmp(&b.order()));
}

/// The owner's unit accounts with posted units ≠ 0 (origin left out), in (holder,
/// SKU, id) order, over the entries up to `seq` effective and known by `day`.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Checkpoint {
    owner: PartyId,
    day: i64,
    seq: i64,
    hash: String,
    accounts: Vec<Held>,
}

impl Store {
    /// Where the holdings checkpoint is kept (see the module's documentation).
    pub fn holdings_checkpoint_path(&self) -> PathBuf {
        let mut name = self.path().as_os_str().to_owned();
        name.push(".holdings");
        PathBuf::from(name)
    }

    /// `verify --full`: the holdings checkpoint, if one is kept, recomputed from the
    /// journal's transfers. `Ok(None)` when it matches or none is kept (or it is not
    /// readable as one, so never used); otherwise what differs, in a sentence.
    pub async fn check_holdings_checkpoint(&self) -> Result<Option<String>> {
        let path = self.holdings_checkpoint_path();
        let Some(cp) = read_checkpoint(&path) else {
            return Ok(None);
        };
        let mut conn = self.pool().acquire().await?;
        if hash_of(&mut conn, cp.seq).await?.as_deref() != Some(cp.hash.as_str()) {
            // Not used (the journal does not hold it); the next read replaces it.
            return Ok(None);
        }
        let fresh = compute(&mut conn, &cp.owner, cp.day, cp.seq).await?;
        if fresh == cp.accounts {
            return Ok(None);
        }
        let by_id = |v: &[Held]| -> BTreeMap<usize, (PartyId, Sku, i128)> {
            v.iter()
                .map(|a| (a.id, (a.holder.clone(), a.sku.clone(), a.units)))
                .collect()
        };
        let (fresh, kept) = (by_id(&fresh), by_id(&cp.accounts));
        let differ = fresh
            .keys()
            .chain(kept.keys())
            .filter(|id| fresh.get(id) != kept.get(id))
            .collect::<std::collections::BTreeSet<_>>()
            .len();
        Ok(Some(format!(
            "{}: the holdings kept for {} as of {} (entries 1–{}) differ from the journal's transfers in {differ} account{}; it is derived data: delete the file and it is made again",
            path.display(),
            cp.owner,
            crate::query::day_str(cp.day),
            cp.seq,
            if differ == 1 { "" } else { "s" }
        )))
    }
}

/// The units `owner` owns by holder × SKU on `day` (every state but origin summed;
/// what [`Store::holdings_of`] answers), from the checkpoint when it holds this
/// owner and day, else from every transfer (and a checkpoint is kept).
pub(crate) async fn holdings(
    store: &Store,
    conn: &mut SqliteConnection,
    owner: &PartyId,
    day: i64,
) -> Result<BTreeMap<(PartyId, Sku), i64>> {
    let head = crate::head_seq(conn).await?;
    let path = store.holdings_checkpoint_path();
    let base = match read_checkpoint(&path) {
        Some(cp) if &cp.owner == owner && cp.day == day && cp.seq <= head => {
            let kept = hash_of(conn, cp.seq).await?;
            (kept.as_deref() == Some(cp.hash.as_str())).then_some(cp)
        }
        _ => None,
    };
    let accounts = match base {
        Some(mut cp) => {
            let added = add_entries_after(conn, &mut cp, head).await?;
            if added >= REWRITE_AFTER_TRANSFERS {
                keep(conn, &path, cp.owner.clone(), day, head, &cp.accounts).await;
            }
            cp.accounts
        }
        None => {
            let accounts = compute(conn, owner, day, head).await?;
            keep(conn, &path, owner.clone(), day, head, &accounts).await;
            accounts
        }
    };
    // In key order: the states of one holder × SKU are neighbours, and the map is
    // built from a sorted list in one pass.
    let mut held: Vec<((PartyId, Sku), i64)> = Vec::with_capacity(accounts.len());
    for a in accounts {
        let overflow = || StoreError::Corrupt(format!("units of {} overflow", a.sku));
        let units = i64::try_from(a.units).map_err(|_| overflow())?;
        match held.last_mut() {
            Some(((h, s), n)) if *h == a.holder && *s == a.sku => {
                *n = n.checked_add(units).ok_or_else(overflow)?;
            }
            _ => held.push(((a.holder, a.sku), units)),
        }
    }
    Ok(held.into_iter().collect())
}

/// The owner's accounts over every transfer of the entries up to `upto`.
async fn compute(
    conn: &mut SqliteConnection,
    owner: &PartyId,
    day: i64,
    upto: i64,
) -> Result<Vec<Held>> {
    let n = crate::account_count(conn).await?;
    let mut sums = vec![0i128; n];
    let mut cursor = crate::BlockCursor::new(Some(day));
    while let Some(b) = cursor.next(conn).await? {
        if b.seq > upto {
            break;
        }
        add_posted(&mut sums, b.seq, &b.transfers)?;
    }
    let ids: Vec<usize> = (0..n).filter(|&id| sums[id] != 0).collect();
    let mut out = Vec::new();
    for (id, key) in keys_of(conn, &ids).await? {
        if let Some((holder, sku)) = owned_by(&key, owner) {
            out.push(Held {
                id,
                holder,
                sku,
                units: sums[id],
            });
        }
    }
    sort(&mut out);
    Ok(out)
}

/// Adds the transfers of the entries after the checkpoint's, up to `head`, effective
/// and known by its day, and moves it to `head`. Answers how many transfers it added.
async fn add_entries_after(
    conn: &mut SqliteConnection,
    cp: &mut Checkpoint,
    head: i64,
) -> Result<usize> {
    let mut delta: HashMap<usize, i128> = HashMap::new();
    let mut added = 0usize;
    let mut cursor = crate::BlockCursor::after_entry(cp.seq, Some(cp.day));
    while let Some(b) = cursor.next(conn).await? {
        if b.seq > head {
            break;
        }
        for t in &b.transfers {
            let posted = i128::from(t.posted_delta);
            *delta.entry(t.row.debit as usize).or_insert(0) += posted;
            *delta.entry(t.row.credit as usize).or_insert(0) -= posted;
        }
        added += b.transfers.len();
    }
    delta.retain(|_, d| *d != 0);
    if !delta.is_empty() {
        let at: HashMap<usize, usize> = cp
            .accounts
            .iter()
            .enumerate()
            .map(|(i, a)| (a.id, i))
            .collect();
        let mut unseen: Vec<usize> = Vec::new();
        for (&id, &d) in &delta {
            match at.get(&id) {
                Some(&i) => cp.accounts[i].units += d,
                None => unseen.push(id),
            }
        }
        unseen.sort_unstable();
        for (id, key) in keys_of(conn, &unseen).await? {
            if let Some((holder, sku)) = owned_by(&key, &cp.owner) {
                cp.accounts.push(Held {
                    id,
                    holder,
                    sku,
                    units: delta[&id],
                });
            }
        }
        cp.accounts.retain(|a| a.units != 0);
        sort(&mut cp.accounts);
    }
    if head > cp.seq {
        cp.hash = hash_of(conn, head)
            .await?
            .ok_or_else(|| StoreError::Corrupt(format!("entry #{head} vanished")))?;
        cp.seq = head;
    }
    Ok(added)
}

/// Posted units (debits − credits) of each account, like [`crate::add_transfers`].
fn add_posted(sums: &mut [i128], seq: i64, transfers: &[crate::StoredTransfer]) -> Result<()> {
    for t in transfers {
        let (d, c) = (t.row.debit as usize, t.row.credit as usize);
        if d >= sums.len() || c >= sums.len() {
            return Err(StoreError::Corrupt(format!(
                "entry #{seq}: a transfer names an account that does not exist"
            )));
        }
        let posted = i128::from(t.posted_delta);
        sums[d] += posted;
        sums[c] -= posted;
    }
    Ok(())
}

/// Holder and SKU of a unit account `owner` owns, origin left out.
fn owned_by(key: &AccountKey, owner: &PartyId) -> Option<(PartyId, Sku)> {
    let AccountKey::Units(u) = key else {
        return None;
    };
    (u.owner() == owner && u.state() != UnitState::Origin)
        .then(|| (u.holder().clone(), u.sku().clone()))
}

/// The keys of the unit accounts among `ids` (sorted), by id; a text that is not a
/// unit account's is not parsed.
async fn keys_of(conn: &mut SqliteConnection, ids: &[usize]) -> Result<Vec<(usize, AccountKey)>> {
    let mut out = Vec::with_capacity(ids.len());
    let mut i = 0;
    while let Some(&id) = ids.get(i) {
        let row = sqlx::query(
            "SELECT first_id, count, keys FROM account_blocks WHERE first_id <= ? ORDER BY first_id DESC LIMIT 1",
        )
        .bind(id as i64)
        .fetch_optional(&mut *conn)
        .await?;
        let Some(r) = row else {
            return Err(StoreError::Corrupt(format!("account {id} has no key")));
        };
        let first = usize::try_from(r.get::<i64, _>(0)).unwrap_or(usize::MAX);
        let count = usize::try_from(r.get::<i64, _>(1)).unwrap_or(usize::MAX);
        let what = format!("account {first}");
        let text = crate::blocks::account_text(r.get::<&[u8], _>(2), count, &what)?;
        let texts = crate::blocks::account_keys(&text, count, &what)?;
        if id.checked_sub(first).is_none_or(|k| k >= texts.len()) {
            return Err(StoreError::Corrupt(format!(
                "account {id} is beyond the accounts recorded"
            )));
        }
        // Every id of this block at once.
        while let Some(&id) = ids.get(i) {
            let Some(text) = id.checked_sub(first).and_then(|k| texts.get(k)) else {
                break;
            };
            i += 1;
            if text.starts_with(r#"{"type":"money""#) {
                continue;
            }
            let key = AccountKey::read(text).map_err(|e| {
                StoreError::Corrupt(format!("account {id} has an unreadable key: {e}"))
            })?;
            out.push((id, key));
        }
    }
    Ok(out)
}

async fn hash_of(conn: &mut SqliteConnection, seq: i64) -> Result<Option<String>> {
    Ok(sqlx::query_scalar("SELECT hash FROM journal WHERE seq = ?")
        .bind(seq)
        .fetch_optional(&mut *conn)
        .await?)
}

/// Writes the checkpoint (a new file renamed over the old). Best effort: a failure
/// only means the next read sums everything again.
async fn keep(
    conn: &mut SqliteConnection,
    path: &std::path::Path,
    owner: PartyId,
    day: i64,
    seq: i64,
    accounts: &[Held],
) {
    if seq == 0 {
        return;
    }
    let Ok(Some(hash)) = hash_of(conn, seq).await else {
        return;
    };
    let cp = Checkpoint {
        owner,
        day,
        seq,
        hash,
        accounts: accounts.to_vec(),
    };
    let _ = write_checkpoint(path, &cp);
}

fn write_checkpoint(path: &std::path::Path, cp: &Checkpoint) -> std::io::Result<()> {
    let plain = |s: &str| !s.contains(['\t', '\n', ' ']);
    if !plain(cp.owner.as_str())
        || cp
            .accounts
            .iter()
            .any(|a| !plain(a.holder.as_str()) || !plain(a.sku.as_str()))
    {
        // Not representable in this layout: no checkpoint (the reads stay right).
        return Ok(());
    }
    let mut text = String::with_capacity(64 + cp.accounts.len() * 40);
    text.push_str(&format!(
        "{MAGIC} owner={} day={} seq={} hash={} accounts={}\n",
        cp.owner,
        cp.day,
        cp.seq,
        cp.hash,
        cp.accounts.len()
    ));
    for a in &cp.accounts {
        let (id, holder, sku, units) = (a.id, &a.holder, &a.sku, a.units);
        text.push_str(&format!("{id}\t{holder}\t{sku}\t{units}\n"));
    }
    // A name of this process's own beside it, renamed over the old: a reader (another
    // process) sees the old file or the new one, never half of one.
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.subsec_nanos());
    let mut tmp = path.as_os_str().to_owned();
    tmp.push(format!(".{}-{nanos}.tmp", std::process::id()));
    let tmp = PathBuf::from(tmp);
    let written = (|| {
        let mut f = std::fs::File::create(&tmp)?;
        f.write_all(text.as_bytes())?;
        f.sync_all()?;
        std::fs::rename(&tmp, path)
    })();
    if written.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    written
}

/// The checkpoint in `path`, or `None` when there is none or it does not read back
/// exactly as written (it is then ignored and made again).
fn read_checkpoint(path: &std::path::Path) -> Option<Checkpoint> {
    let text = std::fs::read_to_string(path).ok()?;
    let mut lines = text.split_terminator('\n');
    let head = lines.next()?.strip_prefix(MAGIC)?;
    let field = |name: &str| -> Option<String> {
        head.split(' ')
            .find_map(|f| f.strip_prefix(name)?.strip_prefix('='))
            .map(str::to_string)
    };
    let owner = PartyId::parse(&field("owner")?).ok()?;
    let day: i64 = field("day")?.parse().ok()?;
    let seq: i64 = field("seq")?.parse().ok()?;
    let hash = field("hash")?;
    let count: usize = field("accounts")?.parse().ok()?;
    let mut holders: HashMap<&str, PartyId> = HashMap::new();
    let mut accounts: Vec<Held> = Vec::with_capacity(count.min(1 << 24));
    for line in lines {
        let mut f = line.split('\t');
        let (id, holder, sku, units) = (f.next()?, f.next()?, f.next()?, f.next()?);
        if f.next().is_some() {
            return None;
        }
        let holder = match holders.get(holder) {
            Some(h) => h.clone(),
            None => {
                let h = PartyId::parse(holder).ok()?;
                holders.insert(holder, h.clone());
                h
            }
        };
        let a = Held {
            id: id.parse().ok()?,
            holder,
            sku: Sku::parse(sku).ok()?,
            units: units.parse().ok()?,
        };
        // Strictly in order (the answer is built on it), no account twice, none at 0.
        if a.units == 0 || accounts.last().is_some_and(|l| l.order() >= a.order()) {
            return None;
        }
        accounts.push(a);
    }
    let mut ids: Vec<usize> = accounts.iter().map(|a| a.id).collect();
    ids.sort_unstable();
    if ids.windows(2).any(|w| w[0] == w[1]) {
        return None;
    }
    (accounts.len() == count).then_some(Checkpoint {
        owner,
        day,
        seq,
        hash,
        accounts,
    })
}
