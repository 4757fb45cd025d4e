//! Royalty statements, one row per payee of a run (`royalty_statements`, migration 6),
//! and the narrow journal reads a royalty run needs.
//!
//! The run's journal entry is the hashed record: it lists each statement's SHA-256.
//! A row holds the statement's JSON (one zstd frame) and that SHA-256, so showing one
//! statement is one keyed read. Rows of a period whose run entry is recorded are never
//! changed or removed (triggers); rows left by a run that failed before its entry was
//! recorded are replaced by the next attempt.

use crate::{Result, Store, StoreError};
use backstock_domain::Date;
use backstock_ledger::EntryKind;
use sqlx::Row;

/// A stored royalty statement: the payee, the hex SHA-256 of its JSON, the JSON.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RoyaltyStatementRow {
    pub payee: String,
    pub sha256: String,
    pub json: Vec<u8>,
}

/// Which journal entries a read takes: by kind, and by effective and known day
/// (inclusive bounds; `None`: unbounded).
#[derive(Debug, Clone, Default)]
pub struct EntryRange {
    pub kinds: Vec<EntryKind>,
    pub effective_from: Option<Date>,
    pub effective_to: Option<Date>,
    pub known_from: Option<Date>,
    pub known_to: Option<Date>,
}

fn day(d: Date) -> i64 {
    i64::from(d.days_since_epoch())
}

fn frame(json: &[u8]) -> Result<Vec<u8>> {
    // One compression context per thread: making one per statement (10,000 in a run)
    // cost more than compressing most of them.
    thread_local! {
        static FRAMES: std::cell::RefCell<Option<crate::Frames>> = const { std::cell::RefCell::new(None) };
    }
    FRAMES.with(|f| {
        let mut f = f.borrow_mut();
        if f.is_none() {
            *f = Some(crate::Frames::new(1)?);
        }
        match f.as_mut() {
            Some(frames) => Ok(frames.frame(json)?),
            None => Err(StoreError::Corrupt("compression context".into())),
        }
    })
}

/// A statement's JSON compressed as [`Store::put_royalty_statements`] stores it (one
/// zstd frame), for [`Store::put_framed_royalty_statements`].
pub fn frame_statement(json: &[u8]) -> Result<Vec<u8>> {
    frame(json)
}

fn unframe(period: &str, payee: &str, z: &[u8]) -> Result<Vec<u8>> {
    zstd::stream::decode_all(z).map_err(|e| {
        StoreError::Corrupt(format!(
            "the stored royalty statement of {payee} for {period} does not decompress: {e}"
        ))
    })
}

impl Store {
    /// Calls `f` with the sequence number and canonical JSON text of each journal entry
    /// in `range`, oldest first, about `page` rows a query. The pages are numbered
    /// first (through the `(kind, effective_day)` index when kinds are given, no
    /// bodies read), then each is read as a range of the primary key: taking "the
    /// next `page` rows in order" through the index made SQLite sort every matching
    /// row, bodies and all, for every page. An error from `f` stops the walk.
    pub async fn for_each_entry_json(
        &self,
        range: &EntryRange,
        page: i64,
        mut f: impl FnMut(i64, String) -> Result<()>,
    ) -> Result<()> {
        let page = page.max(1);
        // `plus`: "+" keeps SQLite from reading a page through the index.
        let push_filter = |qb: &mut sqlx::QueryBuilder<'_, sqlx::Sqlite>, plus: &str| {
            crate::query::push_kinds(qb, &format!("{plus}kind"), &range.kinds);
            if let Some(d) = range.effective_from {
                qb.push(format!(" AND {plus}effective_day >= "))
                    .push_bind(day(d));
            }
            if let Some(d) = range.effective_to {
                qb.push(format!(" AND {plus}effective_day <= "))
                    .push_bind(day(d));
            }
            if let Some(d) = range.known_from {
                qb.push(" AND known_day >= ").push_bind(day(d));
            }
            if let Some(d) = range.known_to {
                qb.push(" AND known_day <= ").push_bind(day(d));
            }
        };
        let mut qb = sqlx::QueryBuilder::new(
            "SELECT MIN(seq), MAX(seq) FROM (SELECT seq, (ROW_NUMBER() OVER (ORDER BY seq) - 1) / ",
        );
        qb.push_bind(page).push(" AS page FROM journal WHERE 1 = 1");
        push_filter(&mut qb, "");
        qb.push(") GROUP BY page ORDER BY page");
        let pages: Vec<(i64, i64)> = qb.build_query_as().fetch_all(self.pool()).await?;
        for (first, last) in pages {
            let mut qb =
                sqlx::QueryBuilder::new("SELECT seq, body, body_zstd FROM journal WHERE seq >= ");
            qb.push_bind(first).push(" AND seq <= ").push_bind(last);
            push_filter(&mut qb, "+");
            qb.push(" ORDER BY seq");
            let rows = qb.build().fetch_all(self.pool()).await?;
            for r in rows {
                let seq: i64 = r.get(0);
                f(seq, crate::body_of(seq, r.get(1), r.get(2))?)?;
            }
        }
        Ok(())
    }

    /// Stores statements of a run about to be recorded (before its entry, so a run is
    /// never recorded without them), in batches. Rows of `period` left by an attempt
    /// whose entry was never recorded are replaced; once the entry is recorded they are
    /// kept (a trigger refuses to remove them).
    /// `first`: the first batch of the run (clears what an unrecorded attempt left).
    pub async fn put_royalty_statements(
        &self,
        period: &str,
        rows: &[RoyaltyStatementRow],
        first: bool,
    ) -> Result<()> {
        let framed: Vec<Vec<u8>> = rows.iter().map(|r| frame(&r.json)).collect::<Result<_>>()?;
        self.put_framed_royalty_statements(period, rows, &framed, first)
            .await
    }

    /// [`Store::put_royalty_statements`] with each row's JSON already compressed by
    /// [`frame_statement`] (`framed[i]` is `rows[i]`'s): a run compresses its
    /// statements on the threads that make them, and this thread only writes.
    pub async fn put_framed_royalty_statements(
        &self,
        period: &str,
        rows: &[RoyaltyStatementRow],
        framed: &[Vec<u8>],
        first: bool,
    ) -> Result<()> {
        if rows.len() != framed.len() {
            return Err(StoreError::Corrupt(format!(
                "{} royalty statements, {} compressed",
                rows.len(),
                framed.len()
            )));
        }
        let mut tx = self.pool().begin().await?;
        if first {
            sqlx::query("DELETE FROM royalty_statements WHERE period = ?")
                .bind(period)
                .execute(&mut *tx)
                .await?;
        }
        // Many rows per statement (a round trip to SQLite's thread per row was most of
        // what storing a run's 10,000 statements cost).
        let rows: Vec<_> = rows.iter().zip(framed).collect();
        for chunk in rows.chunks(crate::ROWS_PER_INSERT / 4) {
            let mut qb = sqlx::QueryBuilder::new(
                "INSERT INTO royalty_statements(period, payee, sha256, body) ",
            );
            qb.push_values(chunk, |mut b, (r, z)| {
                b.push_bind(period)
                    .push_bind(&r.payee)
                    .push_bind(&r.sha256)
                    .push_bind(z.as_slice());
            });
            qb.build().execute(&mut *tx).await?;
        }
        tx.commit().await?;
        Ok(())
    }

    /// Loads the ledger's book into this store's cache, unless it holds the book of
    /// the journal's head already: the next [`Store::record`] then finds it there. A
    /// royalty run loads it on another thread while it computes (in a new process,
    /// loading the book is most of what recording the run's entry costs).
    pub async fn cache_book(&self) -> Result<()> {
        // The cache first, then a connection: the order `record` takes them in.
        let mut cache = self.cache.lock().await;
        let mut conn = self.pool().acquire().await?;
        let head = crate::head_seq(&mut conn).await?;
        crate::fresh_book(&mut conn, &mut cache, head).await?;
        Ok(())
    }

    /// Adds rows derived from a run recorded with its statements inline (stores made
    /// before the table existed); rows already there are left as they are.
    pub async fn add_derived_royalty_statements(
        &self,
        period: &str,
        rows: &[RoyaltyStatementRow],
    ) -> Result<()> {
        let framed: Vec<Vec<u8>> = rows.iter().map(|r| frame(&r.json)).collect::<Result<_>>()?;
        let mut tx = self.pool().begin().await?;
        for (r, z) in rows.iter().zip(&framed) {
            sqlx::query(
                "INSERT OR IGNORE INTO royalty_statements(period, payee, sha256, body) VALUES (?, ?, ?, ?)",
            )
            .bind(period)
            .bind(&r.payee)
            .bind(&r.sha256)
            .bind(z.as_slice())
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await?;
        Ok(())
    }

    /// One payee's stored statement of a period (one keyed read).
    pub async fn royalty_statement(
        &self,
        period: &str,
        payee: &str,
    ) -> Result<Option<RoyaltyStatementRow>> {
        let row = sqlx::query(
            "SELECT sha256, body FROM royalty_statements WHERE period = ? AND payee = ?",
        )
        .bind(period)
        .bind(payee)
        .fetch_optional(self.pool())
        .await?;
        let Some(r) = row else { return Ok(None) };
        Ok(Some(RoyaltyStatementRow {
            payee: payee.to_string(),
            sha256: r.get(0),
            json: unframe(period, payee, r.get::<&[u8], _>(1))?,
        }))
    }

    /// How many statements of `period` are stored.
    pub async fn royalty_statement_count(&self, period: &str) -> Result<i64> {
        Ok(
            sqlx::query_scalar("SELECT COUNT(*) FROM royalty_statements WHERE period = ?")
                .bind(period)
                .fetch_one(self.pool())
                .await?,
        )
    }

    /// The payees with a stored statement of `period`, in order.
    pub async fn royalty_statement_payees(&self, period: &str) -> Result<Vec<String>> {
        Ok(sqlx::query_scalar(
            "SELECT payee FROM royalty_statements WHERE period = ? ORDER BY payee",
        )
        .bind(period)
        .fetch_all(self.pool())
        .await?)
    }

    /// Calls `f` with every stored statement of `period`, in payee order, 256 rows a
    /// query.
    pub async fn for_each_royalty_statement(
        &self,
        period: &str,
        mut f: impl FnMut(RoyaltyStatementRow) -> Result<()>,
    ) -> Result<()> {
        const PAGE: i64 = 256;
        let mut after = String::new();
        loop {
            let rows = sqlx::query(
                "SELECT payee, sha256, body FROM royalty_statements WHERE period = ? AND payee > ? ORDER BY payee LIMIT ?",
            )
            .bind(period)
            .bind(&after)
            .bind(PAGE)
            .fetch_all(self.pool())
            .await?;
            let n = rows.len();
            for r in rows {
                let payee: String = r.get(0);
                let json = unframe(period, &payee, r.get::<&[u8], _>(2))?;
                after.clone_from(&payee);
                f(RoyaltyStatementRow {
                    payee,
                    sha256: r.get(1),
                    json,
                })?;
            }
            if n < usize::try_from(PAGE).unwrap_or(usize::MAX) {
                return Ok(());
            }
        }
    }
}

impl Store {
    /// One journal entry's sequence number and canonical JSON, by id.
    pub async fn entry_json(&self, entry_id: &str) -> Result<Option<(i64, String)>> {
        let row = sqlx::query("SELECT seq, body, body_zstd FROM journal WHERE entry_id = ?")
            .bind(entry_id)
            .fetch_optional(self.pool())
            .await?;
        let Some(r) = row else { return Ok(None) };
        let seq: i64 = r.get(0);
        Ok(Some((seq, crate::body_of(seq, r.get(1), r.get(2))?)))
    }

    /// Every entry whose id starts with `prefix` (at most `limit`), in id order, by a
    /// range of the id index: one contract's versions (`contract:ID:`) without
    /// reading every contract of the label.
    pub async fn entries_with_id_prefix(
        &self,
        prefix: &str,
        limit: u32,
    ) -> Result<Vec<(i64, String)>> {
        // The ids after every id starting with `prefix`: its last character raised by
        // one (a prefix ending in U+10FFFF has no such bound and reads to the end).
        let mut upper: Vec<char> = prefix.chars().collect();
        let bound = upper
            .pop()
            .and_then(|c| char::from_u32(u32::from(c) + 1))
            .map(|c| {
                upper.push(c);
                upper.into_iter().collect::<String>()
            });
        let rows = sqlx::query(
            "SELECT seq, body, body_zstd, entry_id FROM journal \
             WHERE entry_id >= ?1 AND (?2 IS NULL OR entry_id < ?2) ORDER BY entry_id LIMIT ?3",
        )
        .bind(prefix)
        .bind(bound)
        .bind(i64::from(limit))
        .fetch_all(self.pool())
        .await?;
        let mut out = Vec::with_capacity(rows.len());
        for r in rows {
            let id: String = r.get(3);
            if !id.starts_with(prefix) {
                break;
            }
            let seq: i64 = r.get(0);
            out.push((seq, crate::body_of(seq, r.get(1), r.get(2))?));
        }
        Ok(out)
    }

    /// The sequence numbers of the recorded entries among `ids`.
    pub async fn entry_seqs(&self, ids: &[&str]) -> Result<Vec<(String, i64)>> {
        let mut out = Vec::new();
        for chunk in ids.chunks(500) {
            let mut qb =
                sqlx::QueryBuilder::new("SELECT entry_id, seq FROM journal WHERE entry_id IN (");
            let mut sep = qb.separated(", ");
            for id in chunk {
                sep.push_bind(*id);
            }
            qb.push(")");
            for r in qb.build().fetch_all(self.pool()).await? {
                out.push((r.get(0), r.get(1)));
            }
        }
        Ok(out)
    }
}
