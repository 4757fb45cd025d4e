//! What only PostgreSQL has to show (the contract itself runs in
//! `crates/store/tests/contract.rs` on both backends): concurrent writers of one label
//! keep one exact hash chain; row-level security hides other labels' rows; the
//! database refuses to change history. Needs `BACKSTOCK_TEST_PG_URL` (`.ci/run` starts
//! a server); without it each test prints a note and passes.

use backstock_domain::{Currency, Date, PartyId, Sku};
use backstock_ledger::canonical::{canonical_postings, TransferRow};
use backstock_ledger::{
    chain, Entry, EntryId, Event, LineKind, Phase, Provenance, Statement, StatementLine,
};
use backstock_store::blocks;
use backstock_store::contract::{Journal, Projections};
use backstock_store::query::StockFilter;
use backstock_store::RecordOutcome;
use backstock_store_pg::PgStore;
use sqlx::{Connection, PgConnection, Row};

fn d(s: &str) -> Date {
    Date::parse(s).unwrap()
}
fn entry(id: &str, on: &str, event: Event) -> Entry {
    Entry {
        id: EntryId::new(id).unwrap(),
        effective_on: d(on),
        known_on: d(on),
        provenance: Provenance::Demo,
        event,
    }
}
fn make(id: &str, on: &str, units: u64) -> Entry {
    entry(
        id,
        on,
        Event::Manufacture {
            run_id: id.into(),
            plant: PartyId::parse("plant:optimal").unwrap(),
            to: PartyId::label(),
            sku: Sku::parse("CAT-1").unwrap(),
            units,
        },
    )
}
fn ship(id: &str, on: &str, units: u64) -> Entry {
    entry(
        id,
        on,
        Event::Shipment {
            shipment_id: id.into(),
            from: PartyId::label(),
            to: PartyId::parse("allegro").unwrap(),
            sku: Sku::parse("CAT-1").unwrap(),
            units,
            po_number: None,
            override_reason: None,
        },
    )
}

fn url(test: &str) -> Option<String> {
    let url = std::env::var("BACKSTOCK_TEST_PG_URL")
        .ok()
        .filter(|u| !u.is_empty());
    if url.is_none() {
        eprintln!("note: BACKSTOCK_TEST_PG_URL is not set; {test} skipped");
    }
    url
}

fn label(test: &str) -> String {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or(0);
    format!("pg-{test}-{}-{nanos}", std::process::id())
}

async fn units_at(s: &PgStore, holder: &str) -> i64 {
    s.stock_as_of(&StockFilter {
        holder: Some(holder.into()),
        ..Default::default()
    })
    .await
    .unwrap()
    .iter()
    .map(|r| r.units)
    .sum()
}

/// Recomputes the label's whole chain from the rows (as `verify` does): seqs 1..=n
/// without gaps, every hash from the previous one, the chain head on the last.
async fn assert_chain_exact(url: &str, label: &str) -> i64 {
    let mut c = PgConnection::connect(url).await.unwrap();
    sqlx::query("SET ROLE backstock_app")
        .execute(&mut c)
        .await
        .unwrap();
    sqlx::query("SELECT set_config('app.label', $1, false)")
        .bind(label)
        .execute(&mut c)
        .await
        .unwrap();
    let journal = sqlx::query(
        "SELECT seq, body, recorded_at, file_sha256, hash, chain_version FROM journal ORDER BY seq",
    )
    .fetch_all(&mut c)
    .await
    .unwrap();
    let mut prev = chain::GENESIS;
    for (i, r) in journal.iter().enumerate() {
        let seq: i64 = r.get(0);
        assert_eq!(seq, i as i64 + 1, "seqs are dense");
        // The accounts this entry created and its transfers, from their blocks.
        let mut new_accounts: Vec<(u32, String)> = Vec::new();
        let account_blocks: Vec<(i64, i32, Vec<u8>)> = sqlx::query_as(
            "SELECT first_id, count, keys FROM account_blocks WHERE created_seq = $1 ORDER BY first_id",
        )
        .bind(seq)
        .fetch_all(&mut c)
        .await
        .unwrap();
        for (first, count, packed) in account_blocks {
            let count = usize::try_from(count).unwrap();
            let text = blocks::account_text(&packed, count, "test").unwrap();
            for (k, key) in blocks::account_keys(&text, count, "test")
                .unwrap()
                .into_iter()
                .enumerate()
            {
                new_accounts.push((u32::try_from(first).unwrap() + k as u32, key.to_string()));
            }
        }
        let mut rows: Vec<TransferRow> = Vec::new();
        let transfer_blocks: Vec<(i32, i32, Vec<u8>)> = sqlx::query_as(
            "SELECT first_idx, count, data FROM transfer_blocks WHERE seq = $1 ORDER BY first_idx",
        )
        .bind(seq)
        .fetch_all(&mut c)
        .await
        .unwrap();
        for (first, count, data) in transfer_blocks {
            assert_eq!(
                usize::try_from(first).unwrap(),
                rows.len(),
                "entry #{seq}: blocks in order"
            );
            let list =
                blocks::decode_transfers(&data, usize::try_from(count).unwrap(), "test").unwrap();
            rows.extend(list.into_iter().map(|t| t.row));
        }
        let version = u8::try_from(r.get::<i16, _>(5)).unwrap();
        let hash = chain::link_hash(
            version,
            &prev,
            seq as u64,
            r.get::<&str, _>(1),
            &canonical_postings(&new_accounts, rows.iter()),
            r.get::<&str, _>(2),
            r.get::<Option<&str>, _>(3),
        )
        .unwrap();
        assert_eq!(chain::to_hex(&hash), r.get::<String, _>(4), "entry #{seq}");
        prev = hash;
    }
    let head: (i64, String) = sqlx::query_as("SELECT seq, hash FROM chain_heads")
        .fetch_one(&mut c)
        .await
        .unwrap();
    assert_eq!(head, (journal.len() as i64, chain::to_hex(&prev)));
    journal.len() as i64
}

/// Fifteen batches of a manufacture and a shipment, one after the other.
async fn writer(s: &PgStore, side: &str) {
    for i in 0..15 {
        let on = format!("2016-01-{:02}", i + 1);
        s.append(
            &[
                make(&format!("m-{side}-{i}"), &on, 10),
                ship(&format!("s-{side}-{i}"), &on, 4),
            ],
            None,
        )
        .await
        .unwrap();
    }
}

/// Two connections (two stores, as two processes would be) append to one label at
/// once: every entry is recorded once, in one chain without gaps or forks, and each
/// store's book follows the other's entries.
#[tokio::test]
async fn concurrent_writers_keep_one_exact_chain() {
    let Some(url) = url("concurrent_writers_keep_one_exact_chain") else {
        return;
    };
    let label = label("concurrent");
    let a = PgStore::connect(&url, &label).await.unwrap();
    let b = PgStore::connect(&url, &label).await.unwrap();
    tokio::join!(writer(&a, "a"), writer(&b, "b"));
    // The same batch from both at once: recorded once.
    let both = [make("both", "2016-02-01", 1)];
    let (r1, r2) = tokio::join!(a.append(&both, None), b.append(&both, None));
    let recorded = [r1.unwrap(), r2.unwrap()]
        .iter()
        .map(|r| match r {
            RecordOutcome::Recorded { recorded, .. } => *recorded,
            other => panic!("{other:?}"),
        })
        .sum::<usize>();
    assert_eq!(recorded, 1);
    assert_eq!(assert_chain_exact(&url, &label).await, 61);
    assert_eq!(a.head().await.unwrap(), b.head().await.unwrap());
    assert_eq!(units_at(&a, "allegro").await, 30 * 4);
    assert_eq!(units_at(&b, "label").await, 30 * 6 + 1);
    // Each store's cached book follows the other's appends: shipping all that is left
    // goes through on either, and one unit more is refused.
    b.append(&[ship("rest", "2016-03-01", 30 * 6 + 1)], None)
        .await
        .unwrap();
    let over = a.append(&[ship("over", "2016-03-02", 1)], None).await;
    assert!(
        matches!(over, Err(backstock_store::StoreError::Refused(_))),
        "{over:?}"
    );
}

/// Row-level security: a session without the label's scope sees no rows; a store
/// sees only its own label.
#[tokio::test]
async fn row_level_security_hides_other_labels() {
    let Some(url) = url("row_level_security_hides_other_labels") else {
        return;
    };
    let (la, lb) = (label("rls-a"), label("rls-b"));
    let a = PgStore::connect(&url, &la).await.unwrap();
    let b = PgStore::connect(&url, &lb).await.unwrap();
    a.append(&[make("ma", "2016-01-01", 7)], None)
        .await
        .unwrap();
    b.append(
        &[make("mb", "2016-01-01", 5), ship("sb", "2016-01-02", 1)],
        None,
    )
    .await
    .unwrap();
    assert_eq!(a.head().await.unwrap().entries, 1);
    assert_eq!(b.head().await.unwrap().entries, 2);
    assert!(b.entry_with_postings("ma").await.unwrap().is_none());
    assert_eq!(units_at(&b, "label").await, 4);
    // Through the store's own pool, asking for the other label by name: nothing.
    let n: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM journal WHERE label = $1")
        .bind(&la)
        .fetch_one(b.pool())
        .await
        .unwrap();
    assert_eq!(n, 0);
    // A session as the application role without `app.label`: no rows at all.
    let mut c = PgConnection::connect(&url).await.unwrap();
    sqlx::query("SET ROLE backstock_app")
        .execute(&mut c)
        .await
        .unwrap();
    for table in [
        "journal",
        "accounts",
        "transfers",
        "account_blocks",
        "transfer_blocks",
        "pending_transfers",
        "files",
        "file_parts",
        "chain_heads",
    ] {
        let n: i64 = sqlx::query_scalar(&format!("SELECT COUNT(*) FROM {table}"))
            .fetch_one(&mut c)
            .await
            .unwrap();
        assert_eq!(n, 0, "{table} without a label");
    }
    // Scoped to a: a's rows only, and no writing into b.
    sqlx::query("SELECT set_config('app.label', $1, false)")
        .bind(&la)
        .execute(&mut c)
        .await
        .unwrap();
    let labels: Vec<String> = sqlx::query_scalar("SELECT DISTINCT label FROM journal")
        .fetch_all(&mut c)
        .await
        .unwrap();
    assert_eq!(labels, std::slice::from_ref(&la));
    let sneak = sqlx::query("INSERT INTO files (label, sha256, name, kind, size, lines, imported_at) VALUES ($1, 'x', 'x', 'x', 0, 0, 'x')")
        .bind(&lb)
        .execute(&mut c)
        .await;
    assert!(sneak.is_err(), "{sneak:?}");
}

/// History cannot be changed: not by the application role (no privilege), and not by
/// the owner either (triggers), and the chain head only moves forward.
#[tokio::test]
async fn the_database_refuses_to_change_history() {
    let Some(url) = url("the_database_refuses_to_change_history") else {
        return;
    };
    let label = label("append-only");
    let s = PgStore::connect(&url, &label).await.unwrap();
    s.append(
        &[make("m1", "2016-01-01", 5), ship("s1", "2016-01-02", 2)],
        None,
    )
    .await
    .unwrap();
    let head = s.head().await.unwrap();
    // The owner (the URL's user) with the label's scope: triggers refuse.
    let mut owner = PgConnection::connect(&url).await.unwrap();
    sqlx::query("SELECT set_config('app.label', $1, false)")
        .bind(&label)
        .execute(&mut owner)
        .await
        .unwrap();
    for sql in [
        "UPDATE journal SET kind = 'tampered' WHERE label = $1",
        "DELETE FROM journal WHERE label = $1",
        "UPDATE transfer_blocks SET data = data || '\\x00'::bytea WHERE label = $1",
        "DELETE FROM transfer_blocks WHERE label = $1",
        "UPDATE account_blocks SET count = count WHERE label = $1",
        "DELETE FROM account_blocks WHERE label = $1",
        "DELETE FROM chain_heads WHERE label = $1",
        "UPDATE chain_heads SET seq = 1 WHERE label = $1",
    ] {
        let r = sqlx::query(sql).bind(&label).execute(&mut owner).await;
        let e = r.expect_err(sql).to_string();
        assert!(
            e.contains("append-only") || e.contains("only moves forward"),
            "{sql}: {e}"
        );
    }
    // Rows of schema version 2 (`transfers`, `accounts`) are no longer written, and
    // their tables refuse changes as before; TRUNCATE is refused for every table.
    for table in [
        "file_parts",
        "transfers",
        "accounts",
        "transfer_blocks",
        "account_blocks",
        "pending_transfers",
    ] {
        let mut tx = owner.begin().await.unwrap();
        let t = sqlx::query(&format!("TRUNCATE {table} CASCADE"))
            .execute(&mut *tx)
            .await;
        assert!(t.is_err(), "TRUNCATE {table}: {t:?}");
        tx.rollback().await.unwrap();
    }
    // The application role has no UPDATE or DELETE on history at all.
    for sql in [
        "UPDATE journal SET kind = 'tampered'",
        "DELETE FROM journal",
    ] {
        let r = sqlx::query(sql).execute(s.pool()).await;
        assert!(r.is_err(), "{sql}: {r:?}");
    }
    assert_eq!(s.head().await.unwrap(), head);
    assert_eq!(assert_chain_exact(&url, &label).await, 2);
}

/// A posting row slipped in beside the journal (an INSERT the application role may
/// make) moves balances without touching any hash: `verify` (the replay) compares the
/// store's stock and balances, now and at each year end, with what the journal adds
/// up to, and names the difference.
#[tokio::test]
async fn verify_finds_a_posting_added_beside_the_journal() {
    let Some(url) = url("verify_finds_a_posting_added_beside_the_journal") else {
        return;
    };
    let s = PgStore::connect(&url, &label("rogue-posting"))
        .await
        .unwrap();
    s.append(
        &[make("m1", "2015-01-01", 50), ship("s1", "2016-01-02", 20)],
        None,
    )
    .await
    .unwrap();
    let clean = backstock_store::copy::replay(&s).await.unwrap();
    assert_eq!(clean.entries, 2);
    assert!(clean.projections_checked.contains(&Some(d("2015-12-31"))));
    // The shipment's own transfers, once more, as a new block of entry #2.
    sqlx::query(
        "INSERT INTO transfer_blocks (label, seq, first_idx, count, effective_day, known_day, data) \
         SELECT label, seq, first_idx + 100, count, effective_day, known_day, data \
         FROM transfer_blocks WHERE label = $1 AND seq = 2",
    )
    .bind(s.label())
    .execute(s.pool())
    .await
    .unwrap();
    let err = backstock_store::copy::replay(&s)
        .await
        .unwrap_err()
        .to_string();
    assert!(err.contains("not what its journal adds up to"), "{err}");
    assert!(err.contains("stock"), "{err}");
}

fn statement(id: &str, on: &str, lines: Vec<(LineKind, i64)>) -> Entry {
    entry(
        id,
        on,
        Event::Statement(Statement {
            statement_id: id.into(),
            distributor: PartyId::parse("allegro").unwrap(),
            period_start: d("2016-01-01"),
            period_end: d(on),
            issued_on: d(on),
            currency: Currency::USD,
            lines: lines
                .into_iter()
                .map(|(kind, amount_minor)| StatementLine {
                    kind,
                    sku: (kind == LineKind::Sale).then(|| Sku::parse("CAT-1").unwrap()),
                    units: if kind == LineKind::Sale { 2 } else { 0 },
                    amount_minor,
                    channel: Default::default(),
                })
                .collect(),
        }),
    )
}

/// A reserve withheld is a pending transfer that a later release posts. A process that
/// did not record it (a new connection: its book loaded from the database) must find
/// it open, and post it exactly as a store that recorded both: the same postings,
/// hence the same head hash as SQLite, and the same balances.
#[tokio::test]
async fn open_reserves_are_found_by_a_new_process() {
    let Some(url) = url("open_reserves_are_found_by_a_new_process") else {
        return;
    };
    // Chain version 2 hashes `recorded_at`: both stores are stamped alike, or two
    // clocks a second apart would make two honest chains differ.
    const AT: &str = "2016-05-01T12:00:00Z";
    let label = label("reserves");
    let withheld = [
        make("m1", "2016-01-02", 10),
        ship("s1", "2016-01-03", 5),
        statement(
            "st1",
            "2016-01-31",
            vec![(LineKind::Sale, 1900), (LineKind::ReserveWithheld, 400)],
        ),
        statement(
            "st2",
            "2016-02-29",
            vec![(LineKind::Sale, 1900), (LineKind::ReserveWithheld, 300)],
        ),
    ];
    let released = [statement(
        "st3",
        "2016-03-31",
        vec![(LineKind::ReserveReleased, 500)],
    )];
    let first = PgStore::connect(&url, &label).await.unwrap();
    first
        .append_recorded_at(withheld.to_vec(), None, AT)
        .await
        .unwrap();
    drop(first);
    let second = PgStore::connect(&url, &label).await.unwrap();
    second
        .append_recorded_at(released.to_vec(), None, AT)
        .await
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let sqlite = backstock_store::Store::open(dir.path(), true)
        .await
        .unwrap();
    sqlite
        .append_recorded_at(withheld.to_vec(), None, AT)
        .await
        .unwrap();
    sqlite
        .append_recorded_at(released.to_vec(), None, AT)
        .await
        .unwrap();
    assert_eq!(second.head().await.unwrap(), sqlite.head().await.unwrap());
    let (_, _, postings) = second.entry_with_postings("st3").await.unwrap().unwrap();
    assert!(
        postings
            .iter()
            .any(|p| matches!(p.phase, Phase::PostPending { .. })),
        "{postings:?}"
    );
    assert_eq!(
        second.balances_as_of(None, None).await.unwrap(),
        sqlite.balances_as_of(None, None).await.unwrap()
    );
    // A third process finds the rest of the second reserve (200) still open.
    let third = PgStore::connect(&url, &label).await.unwrap();
    let more = [statement(
        "st4",
        "2016-04-30",
        vec![(LineKind::ReserveReleased, 200)],
    )];
    third
        .append_recorded_at(more.to_vec(), None, AT)
        .await
        .unwrap();
    sqlite
        .append_recorded_at(more.to_vec(), None, AT)
        .await
        .unwrap();
    assert_eq!(third.head().await.unwrap(), sqlite.head().await.unwrap());
    backstock_store::copy::replay(&third).await.unwrap();
    assert_eq!(assert_chain_exact(&url, &label).await, 6);
}

async fn scope(c: &mut PgConnection, label: &str) {
    sqlx::query("SELECT set_config('app.label', $1, false)")
        .bind(label)
        .execute(c)
        .await
        .unwrap();
}

/// A label written by schema version 2 keeps its transfers and accounts as rows; the
/// store reads them with the blocks written since. Here a label's history is rewritten
/// as schema-2 rows under a second label (the same journal, hash for hash), then both
/// labels record the same entries: the same head, balances, stock and postings, open
/// reserves found in the rows, and the mixed label replays.
#[tokio::test]
async fn rows_of_schema_2_are_read_with_the_blocks() {
    let Some(url) = url("rows_of_schema_2_are_read_with_the_blocks") else {
        return;
    };
    let (blocks_label, rows_label) = (label("blocks"), label("rows"));
    let before = [
        make("m1", "2016-01-02", 10),
        ship("s1", "2016-01-03", 5),
        statement(
            "st1",
            "2016-01-31",
            vec![(LineKind::Sale, 1900), (LineKind::ReserveWithheld, 400)],
        ),
    ];
    let after = [
        ship("s2", "2016-02-03", 3),
        statement(
            "st2",
            "2016-02-29",
            vec![(LineKind::Sale, 950), (LineKind::ReserveReleased, 300)],
        ),
    ];
    let a = PgStore::connect(&url, &blocks_label).await.unwrap();
    a.append(&before, None).await.unwrap();
    // Read a's rows as stored (scope a), write them as schema 2 did (scope b).
    let mut c = PgConnection::connect(&url).await.unwrap();
    scope(&mut c, &blocks_label).await;
    type J = (
        i64,
        String,
        String,
        i64,
        i64,
        String,
        Option<String>,
        String,
        String,
        i16,
    );
    let journal: Vec<J> = sqlx::query_as(
        "SELECT seq, entry_id, kind, effective_day, known_day, body, file_sha256, recorded_at, hash, chain_version \
         FROM journal WHERE label = $1 ORDER BY seq",
    )
    .bind(&blocks_label)
    .fetch_all(&mut c)
    .await
    .unwrap();
    let mut accounts: Vec<(i64, String, i64)> = Vec::new();
    let ab: Vec<(i64, i32, i64, Vec<u8>)> = sqlx::query_as(
        "SELECT first_id, count, created_seq, keys FROM account_blocks WHERE label = $1 ORDER BY first_id",
    )
    .bind(&blocks_label)
    .fetch_all(&mut c)
    .await
    .unwrap();
    for (first, count, seq, packed) in ab {
        let count = usize::try_from(count).unwrap();
        let text = blocks::account_text(&packed, count, "test").unwrap();
        for (k, key) in blocks::account_keys(&text, count, "test")
            .unwrap()
            .into_iter()
            .enumerate()
        {
            accounts.push((first + k as i64, key.to_string(), seq));
        }
    }
    let pending_ids: Vec<(i64, i32, Option<String>)> =
        sqlx::query_as("SELECT seq, idx, id FROM pending_transfers WHERE label = $1")
            .bind(&blocks_label)
            .fetch_all(&mut c)
            .await
            .unwrap();
    let tb: Vec<(i64, i32, i32, i64, i64, Vec<u8>)> = sqlx::query_as(
        "SELECT seq, first_idx, count, effective_day, known_day, data FROM transfer_blocks WHERE label = $1 ORDER BY seq, first_idx",
    )
    .bind(&blocks_label)
    .fetch_all(&mut c)
    .await
    .unwrap();
    scope(&mut c, &rows_label).await;
    let head = journal.last().unwrap();
    sqlx::query("INSERT INTO chain_heads (label, seq, hash) VALUES ($1, $2, $3)")
        .bind(&rows_label)
        .bind(head.0)
        .bind(&head.8)
        .execute(&mut c)
        .await
        .unwrap();
    for j in &journal {
        sqlx::query(
            "INSERT INTO journal (label, seq, entry_id, kind, effective_day, known_day, body, file_sha256, recorded_at, hash, chain_version) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
        )
        .bind(&rows_label)
        .bind(j.0)
        .bind(&j.1)
        .bind(&j.2)
        .bind(j.3)
        .bind(j.4)
        .bind(&j.5)
        .bind(&j.6)
        .bind(&j.7)
        .bind(&j.8)
        .bind(j.9)
        .execute(&mut c)
        .await
        .unwrap();
    }
    for (id, key, seq) in &accounts {
        sqlx::query("INSERT INTO accounts (label, id, key, created_seq) VALUES ($1, $2, $3, $4)")
            .bind(&rows_label)
            .bind(id)
            .bind(key)
            .bind(seq)
            .execute(&mut c)
            .await
            .unwrap();
    }
    let mut n_rows = 0;
    for (seq, first, count, eday, kday, data) in tb {
        let list =
            blocks::decode_transfers(&data, usize::try_from(count).unwrap(), "test").unwrap();
        for (k, t) in list.into_iter().enumerate() {
            let idx = first + k as i32;
            let own_id = pending_ids
                .iter()
                .find(|p| p.0 == seq && p.1 == idx)
                .and_then(|p| p.2.clone());
            let pending_id = (t.row.pending_id != 0).then(|| format!("{:032x}", t.row.pending_id));
            sqlx::query(
                "INSERT INTO transfers (label, seq, idx, debit, credit, amount, flags, id, pending_id, posted_delta, pending_delta, effective_day, known_day) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)",
            )
            .bind(&rows_label)
            .bind(seq)
            .bind(idx)
            .bind(i64::from(t.row.debit))
            .bind(i64::from(t.row.credit))
            .bind(i64::try_from(t.row.amount).unwrap())
            .bind(i32::from(t.row.flags))
            .bind(own_id)
            .bind(pending_id)
            .bind(t.posted_delta)
            .bind(t.pending_delta)
            .bind(eday)
            .bind(kday)
            .execute(&mut c)
            .await
            .unwrap();
            n_rows += 1;
        }
    }
    assert!(n_rows >= 4, "{n_rows}");
    let b = PgStore::connect(&url, &rows_label).await.unwrap();
    assert_eq!(b.head().await.unwrap(), a.head().await.unwrap());
    assert_eq!(
        b.balances_as_of(None, None).await.unwrap(),
        a.balances_as_of(None, None).await.unwrap()
    );
    // The same entries on both: b's book is loaded from rows (the open reserve too).
    // One `recorded_at` for both (chain version 2 hashes it).
    let at = "2016-03-01T12:00:00Z";
    a.append_recorded_at(after.to_vec(), None, at)
        .await
        .unwrap();
    b.append_recorded_at(after.to_vec(), None, at)
        .await
        .unwrap();
    assert_eq!(b.head().await.unwrap(), a.head().await.unwrap());
    for as_of in [None, Some(d("2016-01-31")), Some(d("2016-02-29"))] {
        assert_eq!(
            b.balances_as_of(as_of, None).await.unwrap(),
            a.balances_as_of(as_of, None).await.unwrap(),
            "{as_of:?}"
        );
        let all = StockFilter {
            as_of,
            ..Default::default()
        };
        assert_eq!(
            b.stock_as_of(&all).await.unwrap(),
            a.stock_as_of(&all).await.unwrap()
        );
    }
    for id in ["s1", "st1", "st2"] {
        assert_eq!(
            format!("{:?}", b.entry_with_postings(id).await.unwrap()),
            format!("{:?}", a.entry_with_postings(id).await.unwrap()),
            "{id}"
        );
    }
    let (_, _, released) = b.entry_with_postings("st2").await.unwrap().unwrap();
    assert!(released
        .iter()
        .any(|p| matches!(p.phase, Phase::PostPending { .. })));
    backstock_store::copy::replay(&b).await.unwrap();
}

/// A batch large enough to be written in several parts while it is expanded (every
/// 64 blocks) is still one transaction: recorded whole with one exact chain, or — when
/// an entry late in it is refused — not at all.
#[tokio::test]
async fn a_batch_written_in_parts_is_still_all_or_nothing() {
    let Some(url) = url("a_batch_written_in_parts_is_still_all_or_nothing") else {
        return;
    };
    let label = label("parts");
    let s = PgStore::connect(&url, &label).await.unwrap();
    let mut batch: Vec<Entry> = (0..150)
        .map(|i| ship(&format!("s{i}"), "2016-01-05", 1))
        .collect();
    batch.insert(0, make("m1", "2016-01-01", 1000));
    // The last entry reuses an id with other content: the whole batch is refused.
    let mut refused = batch.clone();
    refused.push(make("s3", "2016-01-06", 7));
    let err = s.append(&refused, None).await.unwrap_err();
    assert!(
        matches!(err, backstock_store::StoreError::Conflict { .. }),
        "{err}"
    );
    assert_eq!(s.head().await.unwrap().entries, 0);
    assert_eq!(units_at(&s, "label").await, 0);
    // Without it: recorded whole, and the store's book is right for the next batch.
    let r = s.append(&batch, None).await.unwrap();
    assert!(
        matches!(r, RecordOutcome::Recorded { recorded: 151, .. }),
        "{r:?}"
    );
    s.append(&[ship("after", "2016-01-07", 9)], None)
        .await
        .unwrap();
    assert_eq!(units_at(&s, "allegro").await, 159);
    assert_eq!(units_at(&s, "label").await, 1000 - 159);
    assert_eq!(assert_chain_exact(&url, &label).await, 152);
    let blocks: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM transfer_blocks")
        .fetch_one(s.pool())
        .await
        .unwrap();
    assert!(blocks > 64, "{blocks} blocks: not written in parts");
    backstock_store::copy::replay(&s).await.unwrap();
}
