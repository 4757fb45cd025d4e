//! The store against a real SQLite file in a temp directory.

use backstock_domain::{Currency, Date, Money, PartyId, Sku};
use backstock_ledger::{Entry, EntryId, Event, LineKind, Provenance, Statement, StatementLine};
use backstock_store::query::StockFilter;
use backstock_store::{RecordOutcome, SourceFile, Store, StoreError};

fn p(s: &str) -> PartyId {
    PartyId::parse(s).unwrap()
}
fn d(s: &str) -> Date {
    Date::parse(s).unwrap()
}
fn e(id: &str, on: &str, event: Event) -> Entry {
    Entry {
        id: EntryId::new(id).unwrap(),
        effective_on: d(on),
        known_on: d(on),
        provenance: Provenance::Demo,
        event,
    }
}
fn make(id: &str, on: &str, units: u64) -> Entry {
    e(
        id,
        on,
        Event::Manufacture {
            run_id: id.into(),
            plant: p("plant:optimal"),
            to: p("label"),
            sku: Sku::parse("MRG-1").unwrap(),
            units,
        },
    )
}
fn ship(id: &str, on: &str, units: u64) -> Entry {
    e(
        id,
        on,
        Event::Shipment {
            shipment_id: id.into(),
            from: p("label"),
            to: p("allegro"),
            sku: Sku::parse("MRG-1").unwrap(),
            units,
            po_number: None,
            override_reason: None,
        },
    )
}
fn statement(id: &str, issued: &str, sold: i64) -> Entry {
    let mut en = e(
        id,
        "2016-01-31",
        Event::Statement(Statement {
            statement_id: id.into(),
            distributor: p("allegro"),
            period_start: d("2016-01-01"),
            period_end: d("2016-01-31"),
            issued_on: d(issued),
            currency: Currency::USD,
            lines: vec![
                StatementLine {
                    kind: LineKind::Sale,
                    sku: Some(Sku::parse("MRG-1").unwrap()),
                    units: sold,
                    amount_minor: sold * 950,
                    channel: Default::default(),
                },
                StatementLine {
                    kind: LineKind::ReserveWithheld,
                    sku: None,
                    units: 0,
                    amount_minor: sold * 190,
                    channel: Default::default(),
                },
            ],
        }),
    );
    en.known_on = d(issued);
    en
}

async fn open() -> (tempfile::TempDir, Store) {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path(), true).await.unwrap();
    (dir, store)
}

fn units(rows: &[backstock_store::StockRow], holder: &str) -> i64 {
    rows.iter()
        .filter(|r| r.holder == holder)
        .map(|r| r.units)
        .sum()
}

#[tokio::test]
async fn records_queries_as_of_and_is_idempotent() {
    let (_dir, store) = open().await;
    let batch = vec![
        make("m1", "2016-01-02", 1000),
        ship("s1", "2016-01-05", 300),
        statement("st1", "2016-02-20", 40),
    ];
    let out = store.record(&batch, None).await.unwrap();
    assert!(
        matches!(
            out,
            RecordOutcome::Recorded {
                recorded: 3,
                unchanged: 0,
                ..
            }
        ),
        "{out:?}"
    );
    // Same batch again: nothing changes.
    let out = store.record(&batch, None).await.unwrap();
    assert!(
        matches!(
            out,
            RecordOutcome::Recorded {
                recorded: 0,
                unchanged: 3,
                ..
            }
        ),
        "{out:?}"
    );

    let now = store.stock(&StockFilter::default()).await.unwrap();
    assert_eq!(units(&now, "label"), 700);
    assert_eq!(units(&now, "allegro"), 260);
    // As of 2016-02-01 the statement (issued 02-20) was not yet known: 300 at allegro.
    let then = store
        .stock(&StockFilter {
            as_of: Some(d("2016-02-01")),
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(units(&then, "allegro"), 300);
    let before = store
        .stock(&StockFilter {
            as_of: Some(d("2016-01-03")),
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(units(&before, "label"), 1000);
    assert_eq!(units(&before, "allegro"), 0);

    let bal = store.balances(None, Some("allegro")).await.unwrap();
    let get = |k: &str| {
        bal.iter()
            .find(|b| b.kind == k)
            .map(|b| b.balance_minor)
            .unwrap_or(0)
    };
    assert_eq!(get("receivable"), 40 * 950 - 40 * 190);
    assert_eq!(get("reserve_held"), 40 * 190);
    let reserve = bal.iter().find(|b| b.kind == "reserve_held").unwrap();
    assert_eq!(
        reserve.pending_minor,
        -(40 * 190),
        "scheduled release is pending"
    );
    assert_eq!(
        bal.iter().find(|b| b.kind == "revenue").unwrap().natural(),
        Some(Money::from_minor(38000, Currency::USD))
    );

    let v = store.verify().await.unwrap();
    assert_eq!(v.first_problem, None);
    assert_eq!(v.entries, 3);
}

#[tokio::test]
async fn a_failed_batch_changes_nothing() {
    let (_dir, store) = open().await;
    store
        .record(&[make("m1", "2016-01-02", 100)], None)
        .await
        .unwrap();
    let err = store
        .record(
            &[ship("s1", "2016-01-05", 60), ship("s2", "2016-01-06", 60)],
            None,
        )
        .await
        .unwrap_err();
    assert!(err.to_string().contains("holds only 40"), "{err}");
    assert_eq!(store.entry_count().await.unwrap(), 1);
    let rows = store.stock(&StockFilter::default()).await.unwrap();
    assert_eq!(units(&rows, "label"), 100);
    // The store still works after the failure (cache dropped and reloaded).
    store
        .record(&[ship("s1", "2016-01-05", 60)], None)
        .await
        .unwrap();
    assert_eq!(store.verify().await.unwrap().first_problem, None);
}

#[tokio::test]
async fn conflicting_entry_id_is_refused() {
    let (_dir, store) = open().await;
    store
        .record(&[make("m1", "2016-01-02", 100)], None)
        .await
        .unwrap();
    let err = store
        .record(&[make("m1", "2016-01-02", 101)], None)
        .await
        .unwrap_err();
    assert!(matches!(err, StoreError::Conflict { .. }), "{err}");
}

#[tokio::test]
async fn files_are_kept_and_imported_once() {
    let (_dir, store) = open().await;
    let bytes = b"shipment_id,date\nS1,2016-01-05\n".repeat(100);
    let file = || SourceFile {
        sha256: "ab".repeat(32),
        name: "shipments.csv".into(),
        kind: "shipments".into(),
        size: bytes.len() as u64,
        parts: vec![backstock_store::compress(&bytes).unwrap()],
        lines: 201,
    };
    store
        .record(&[make("m1", "2016-01-02", 100)], Some(file()))
        .await
        .unwrap();
    let again = store
        .record(&[make("m2", "2016-01-02", 100)], Some(file()))
        .await
        .unwrap();
    assert!(matches!(again, RecordOutcome::AlreadyImported { .. }));
    assert_eq!(store.entry_count().await.unwrap(), 1);
    assert_eq!(
        store.file_bytes(&"ab".repeat(32)).await.unwrap().unwrap(),
        bytes
    );
}

#[tokio::test]
async fn a_file_kept_in_parts_reads_back_whole_and_parts_are_append_only() {
    let (_dir, store) = open().await;
    let bytes: Vec<u8> = (0..40_000u32)
        .flat_map(|i| format!("S{i},2016-01-05\n").into_bytes())
        .collect();
    let mut z = backstock_store::PartCompressor::new().unwrap();
    let parts: Vec<Vec<u8>> = bytes.chunks(100_000).map(|c| z.part(c).unwrap()).collect();
    assert!(parts.len() > 2);
    let sha = "cd".repeat(32);
    store
        .record(
            &[make("m1", "2016-01-02", 100)],
            Some(SourceFile {
                sha256: sha.clone(),
                name: "big.csv".into(),
                kind: "shipments".into(),
                size: bytes.len() as u64,
                parts,
                lines: 40_000,
            }),
        )
        .await
        .unwrap();
    assert_eq!(store.file_bytes(&sha).await.unwrap().unwrap(), bytes);
    let err = sqlx::query("DELETE FROM file_parts")
        .execute(store.pool())
        .await
        .unwrap_err();
    assert!(err.to_string().contains("kept as they were"), "{err}");
}

#[tokio::test]
async fn history_cannot_be_updated_and_tampering_is_detected() {
    let (_dir, store) = open().await;
    store
        .record(
            &[
                make("m1", "2016-01-02", 1000),
                ship("s1", "2016-01-05", 300),
                ship("s2", "2016-01-06", 5),
            ],
            None,
        )
        .await
        .unwrap();
    let pool = store.pool();
    let err = sqlx::query("UPDATE journal SET body = 'x' WHERE seq = 2")
        .execute(pool)
        .await
        .unwrap_err();
    assert!(err.to_string().contains("append-only"), "{err}");
    assert!(sqlx::query("DELETE FROM transfer_blocks")
        .execute(pool)
        .await
        .is_err());

    // Someone drops the trigger and edits the units of a shipment in the file.
    // (A block is a zstd frame of a format byte, then per transfer: debit u32, credit
    // u32, amount u64, flags u16, posted delta i64, pending delta i64.)
    edit_first_transfer(pool, 2, 1 + 8, 30).await;
    let v = store.verify().await.unwrap();
    let msg = v.first_problem.unwrap();
    assert!(
        msg.contains("entry #2 (s1)") && msg.contains("changed"),
        "{msg}"
    );

    // Or edits an entry's body.
    let (_dir2, store2) = open().await;
    store2
        .record(
            &[
                make("m1", "2016-01-02", 1000),
                ship("s1", "2016-01-05", 300),
            ],
            None,
        )
        .await
        .unwrap();
    sqlx::query("DROP TRIGGER journal_no_update")
        .execute(store2.pool())
        .await
        .unwrap();
    sqlx::query("UPDATE journal SET body = replace(body, '1000', '9000') WHERE seq = 1")
        .execute(store2.pool())
        .await
        .unwrap();
    let msg = store2.verify().await.unwrap().first_problem.unwrap();
    assert!(
        msg.contains("entry #1 (m1) does not match its hash"),
        "{msg}"
    );

    // Or a transfer's effect on balances (not hashed: the replay catches it).
    let (_dir3, store3) = open().await;
    store3
        .record(&[make("m1", "2016-01-02", 1000)], None)
        .await
        .unwrap();
    edit_first_transfer(store3.pool(), 1, 1 + 18, 1001).await;
    let msg = store3.verify().await.unwrap().first_problem.unwrap();
    assert!(
        msg.contains("entry #1 (m1): transfer 0 does not match what the entry recorded"),
        "{msg}"
    );

    // Or garbles a block: reported, not a crash.
    let _ = sqlx::query("UPDATE transfer_blocks SET data = x'00ff' WHERE seq = 1")
        .execute(store3.pool())
        .await
        .unwrap();
    let msg = store3.verify().await.unwrap().first_problem.unwrap();
    assert!(
        msg.contains("entry #1") && msg.contains("does not decompress"),
        "{msg}"
    );
}

/// Overwrites 8 bytes of the first transfer of entry `seq`'s first block, as someone
/// with the database file could (dropping the append-only trigger first).
async fn edit_first_transfer(pool: &sqlx::SqlitePool, seq: i64, at: usize, value: u64) {
    let _ = sqlx::query("DROP TRIGGER transfer_blocks_no_update")
        .execute(pool)
        .await;
    let mut data: Vec<u8> =
        sqlx::query_scalar("SELECT data FROM transfer_blocks WHERE seq = ? AND first_idx = 0")
            .bind(seq)
            .fetch_one(pool)
            .await
            .unwrap();
    let mut raw = zstd::bulk::decompress(&data, 1 << 20).unwrap();
    raw[at..at + 8].copy_from_slice(&value.to_le_bytes());
    data = zstd::bulk::compress(&raw, 1).unwrap();
    sqlx::query("UPDATE transfer_blocks SET data = ? WHERE seq = ? AND first_idx = 0")
        .bind(data)
        .bind(seq)
        .execute(pool)
        .await
        .unwrap();
}

#[tokio::test]
async fn reopening_sees_the_same_state() {
    let dir = tempfile::tempdir().unwrap();
    {
        let store = Store::open(dir.path(), true).await.unwrap();
        store
            .record(
                &[
                    make("m1", "2016-01-02", 1000),
                    statement("st1", "2016-02-20", 10),
                ],
                None,
            )
            .await
            .unwrap();
    }
    let store = Store::open(dir.path(), false).await.unwrap();
    store
        .record(&[ship("s1", "2016-03-01", 10)], None)
        .await
        .unwrap();
    assert_eq!(store.verify().await.unwrap().first_problem, None);
    assert!(matches!(
        Store::open(&dir.path().join("nope"), false).await,
        Err(StoreError::NotInitialized(_))
    ));
}

#[tokio::test]
async fn entries_are_read_page_by_page_in_order_with_their_filters() {
    let (_dir, store) = open().await;
    let n = usize::try_from(backstock_store::query::ENTRY_PAGE).unwrap() * 2 + 7;
    let mut batch = vec![make("m0", "2016-01-01", 1_000_000)];
    for i in 0..n {
        let on = if i % 2 == 0 {
            "2016-01-05"
        } else {
            "2016-03-05"
        };
        batch.push(ship(&format!("s{i}"), on, 1));
    }
    store.record(&batch, None).await.unwrap();
    let mut seen = Vec::new();
    store
        .for_each_entry(&[backstock_ledger::EntryKind::Shipment], None, |seq, e| {
            seen.push((seq, e.id.to_string()));
            Ok(())
        })
        .await
        .unwrap();
    assert_eq!(seen.len(), n, "every shipment, across pages");
    assert!(seen.windows(2).all(|w| w[0].0 < w[1].0), "oldest first");
    assert_eq!(seen[0].1, "s0");
    // As of a date: only what was effective and known then, still across pages.
    let early = store
        .entries(
            &[backstock_ledger::EntryKind::Shipment],
            Some(d("2016-02-01")),
        )
        .await
        .unwrap();
    assert_eq!(early.len(), n.div_ceil(2));
    // Entries known later than they happened, and entries of other kinds between
    // them, across pages: a page is found by kind and effective day, the known day
    // is the page's own filter.
    let mut late = Vec::new();
    for i in 0..n {
        let mut s = ship(&format!("late{i}"), "2016-01-10", 1);
        if i % 3 == 0 {
            s.known_on = d("2016-06-01");
        }
        late.push(s);
        if i % 5 == 0 {
            late.push(make(&format!("m-late{i}"), "2016-01-10", 1));
        }
    }
    store.record(&late, None).await.unwrap();
    let ids = |kinds: &'static [backstock_ledger::EntryKind], on: &'static str| {
        let store = &store;
        async move {
            let mut ids = Vec::new();
            store
                .for_each_entry(kinds, Some(d(on)), |seq, e| {
                    ids.push((seq, e.id.to_string()));
                    Ok(())
                })
                .await
                .unwrap();
            ids
        }
    };
    let shipments = &[backstock_ledger::EntryKind::Shipment];
    let april = ids(shipments, "2016-04-01").await;
    assert_eq!(april.len(), n.div_ceil(2) + n / 2 + n - n.div_ceil(3));
    assert!(april.windows(2).all(|w| w[0].0 < w[1].0), "oldest first");
    assert!(april.iter().all(|(_, id)| id != "late0" && id != "late3"));
    assert_eq!(ids(shipments, "2016-06-01").await.len(), 2 * n);
    let manufactured = &[backstock_ledger::EntryKind::Manufacture];
    assert_eq!(
        ids(manufactured, "2016-06-01").await.len(),
        1 + n.div_ceil(5)
    );
    // The digested walk reads the same entries.
    let mut digested = Vec::new();
    store
        .for_each_digested_entry(shipments, Some(d("2016-04-01")), |seq, e| {
            digested.push((seq, e.id.to_string()));
            Ok(())
        })
        .await
        .unwrap();
    assert_eq!(digested, april);
    // And the walk after an entry in the middle takes up from there.
    let from = april[april.len() / 2].0;
    let mut after = Vec::new();
    store
        .for_each_entry_after(shipments, Some(d("2016-04-01")), from, |seq, e| {
            after.push((seq, e.id.to_string()));
            Ok(())
        })
        .await
        .unwrap();
    assert_eq!(after, april[april.len() / 2 + 1..]);
    // An error from the callback stops the walk and comes back.
    let mut calls = 0;
    let r = store
        .for_each_entry(&[], None, |_, _| {
            calls += 1;
            if calls == 3 {
                Err(StoreError::Corrupt("stop".into()))
            } else {
                Ok(())
            }
        })
        .await;
    assert!(matches!(r, Err(StoreError::Corrupt(_))));
    assert_eq!(calls, 3);
}

/// A read of entries' JSON by kind and by effective and known day gives, page by
/// page whatever the page size, exactly the entries those bounds select, in order.
#[tokio::test]
async fn entry_json_is_read_by_its_range_across_pages() {
    use backstock_ledger::EntryKind;
    use backstock_store::royalty_statements::EntryRange;
    let (_dir, store) = open().await;
    let mut batch = vec![make("m0", "2016-01-01", 1_000_000)];
    for i in 0..300 {
        let on = ["2016-01-05", "2016-02-05", "2016-03-05"][i % 3];
        let mut s = ship(&format!("s{i}"), on, 1);
        if i % 4 == 0 {
            s.known_on = d("2016-04-01");
        }
        batch.push(s);
        if i % 7 == 0 {
            batch.push(make(&format!("m{}", i + 1), on, 1));
        }
    }
    store.record(&batch, None).await.unwrap();
    let mut all = Vec::new();
    store
        .for_each_entry(&[], None, |seq, e| {
            all.push((seq, e));
            Ok(())
        })
        .await
        .unwrap();
    let ranges = [
        EntryRange {
            kinds: vec![EntryKind::Shipment],
            effective_from: Some(d("2016-02-01")),
            effective_to: Some(d("2016-02-28")),
            ..Default::default()
        },
        EntryRange {
            kinds: vec![EntryKind::Shipment, EntryKind::Manufacture],
            effective_to: Some(d("2016-03-31")),
            known_to: Some(d("2016-03-31")),
            ..Default::default()
        },
        EntryRange {
            kinds: vec![EntryKind::Shipment],
            effective_to: Some(d("2016-03-31")),
            known_from: Some(d("2016-04-01")),
            ..Default::default()
        },
        EntryRange::default(),
    ];
    for range in &ranges {
        let want: Vec<i64> = all
            .iter()
            .filter(|(_, e)| {
                (range.kinds.is_empty() || range.kinds.contains(&e.event.kind()))
                    && range.effective_from.is_none_or(|f| e.effective_on >= f)
                    && range.effective_to.is_none_or(|t| e.effective_on <= t)
                    && range.known_from.is_none_or(|f| e.known_on >= f)
                    && range.known_to.is_none_or(|t| e.known_on <= t)
            })
            .map(|(seq, _)| *seq)
            .collect();
        assert!(!want.is_empty(), "{range:?}");
        for page in [1, 7, 64, 4096] {
            let mut got = Vec::new();
            store
                .for_each_entry_json(range, page, |seq, json| {
                    let e: backstock_ledger::Entry = serde_json::from_str(&json).unwrap();
                    assert_eq!(e, all.iter().find(|(s, _)| *s == seq).unwrap().1);
                    got.push(seq);
                    Ok(())
                })
                .await
                .unwrap();
            assert_eq!(got, want, "{range:?}, {page} a page");
        }
    }
}

/// Stock and balances read by a new process (no book in memory: the transfers summed
/// and only the keys shown parsed) equal those read through the cached book, now and
/// as of past dates, with every filter.
#[tokio::test]
async fn stock_and_balances_without_a_cached_book_equal_those_with_one() {
    let dir = tempfile::tempdir().unwrap();
    let batch = vec![
        make("m1", "2016-01-02", 1000),
        ship("s1", "2016-01-05", 300),
        statement("st1", "2016-02-20", 40),
        statement("st2", "2016-03-20", 7),
    ];
    Store::open(dir.path(), true)
        .await
        .unwrap()
        .record(&batch, None)
        .await
        .unwrap();
    let dates = [
        None,
        Some(d("2016-01-03")),
        Some(d("2016-02-25")),
        Some(d("2017-01-01")),
    ];
    let filters = |as_of| {
        [
            StockFilter {
                as_of,
                ..Default::default()
            },
            StockFilter {
                as_of,
                all: true,
                ..Default::default()
            },
            StockFilter {
                as_of,
                owner: Some("label".into()),
                holder: Some("allegro".into()),
                sku: Some("MRG-1".into()),
                ..Default::default()
            },
        ]
    };
    let read = |store: Store| async move {
        let mut out = Vec::new();
        for as_of in dates {
            for f in filters(as_of) {
                out.push(format!("{:?}", store.stock(&f).await.unwrap()));
            }
            for party in [None, Some("allegro"), Some("label")] {
                out.push(format!("{:?}", store.balances(as_of, party).await.unwrap()));
            }
        }
        out
    };
    // A new store each time: nothing cached.
    let mut cold = Vec::new();
    for as_of in dates {
        for f in filters(as_of) {
            let s = Store::open(dir.path(), false).await.unwrap();
            cold.push(format!("{:?}", s.stock(&f).await.unwrap()));
        }
        for party in [None, Some("allegro"), Some("label")] {
            let s = Store::open(dir.path(), false).await.unwrap();
            cold.push(format!("{:?}", s.balances(as_of, party).await.unwrap()));
        }
    }
    // The book cached first (reading an entry with its postings loads it).
    let warm = Store::open(dir.path(), false).await.unwrap();
    assert!(warm.entry("m1").await.unwrap().is_some());
    let warm = read(warm).await;
    assert_eq!(cold, warm);
    assert!(cold.iter().any(|r| r.contains("receivable")), "{cold:?}");
    assert!(cold.iter().any(|r| r.contains("MRG-1")), "{cold:?}");
}

/// After a verification, `verify` recomputes only the entries recorded since (the
/// earlier ones end in the hash they ended in then) and still finds a new entry's
/// transfer changed; `verify --full` recomputes everything and finds an old one.
#[tokio::test]
async fn verify_goes_on_from_the_last_verification_and_full_recomputes_everything() {
    let (_dir, store) = open().await;
    store
        .record(
            &[
                make("m1", "2016-01-02", 1000),
                ship("s1", "2016-01-05", 300),
                statement("st1", "2016-02-20", 40),
            ],
            None,
        )
        .await
        .unwrap();
    let first = store.verify_anchored(None).await.unwrap();
    assert_eq!(first.report.first_problem, None);
    assert_eq!(first.report.already_verified, 0);
    let full = store.verify().await.unwrap();
    store
        .record(
            &[
                ship("s2", "2016-03-01", 10),
                statement("st2", "2016-03-20", 7),
            ],
            None,
        )
        .await
        .unwrap();
    let next = store.verify_anchored(None).await.unwrap();
    assert_eq!(next.report.first_problem, None, "{next:?}");
    assert_eq!(next.report.already_verified, 3);
    assert_eq!(next.report.entries, 5);
    let everything = store.verify_anchored_full(None, true).await.unwrap();
    assert_eq!(everything.report.already_verified, 0);
    // The same counts and head either way.
    assert_eq!(
        (
            everything.report.entries,
            everything.report.transfers,
            &everything.report.head_hash
        ),
        (
            next.report.entries,
            next.report.transfers,
            &next.report.head_hash
        )
    );
    assert!(full.transfers < next.report.transfers);
    // Nothing new: nothing recomputed, still OK.
    let again = store.verify_anchored(None).await.unwrap();
    assert_eq!(again.report.first_problem, None);
    assert_eq!(again.report.already_verified, 5);

    // A new entry's transfer changed after recording: the incremental verify finds it.
    store
        .record(&[ship("s3", "2016-04-01", 5)], None)
        .await
        .unwrap();
    // (The amount of the first transfer is at 1 + 8 in its block: see above.)
    let pool = store.pool();
    edit_first_transfer(pool, 6, 1 + 8, 6).await;
    let found = store.verify_anchored(None).await.unwrap();
    assert!(
        found
            .report
            .first_problem
            .as_deref()
            .is_some_and(|p| p.contains("entry #6")),
        "{found:?}"
    );
    // An old entry's transfer changed: only the full verification recomputes it.
    edit_first_transfer(pool, 6, 1 + 8, 5).await;
    assert_eq!(
        store
            .verify_anchored(None)
            .await
            .unwrap()
            .report
            .first_problem,
        None
    );
    edit_first_transfer(pool, 2, 1 + 8, 301).await;
    assert_eq!(
        store
            .verify_anchored(None)
            .await
            .unwrap()
            .report
            .first_problem,
        None
    );
    let full = store.verify_anchored_full(None, true).await.unwrap();
    assert!(
        full.report
            .first_problem
            .as_deref()
            .is_some_and(|p| p.contains("entry #2")),
        "{full:?}"
    );
}

/// A statement is kept with its digest (summed per kind × channel, no SKUs), read in
/// its place by `for_each_digested_entry`, made again from the entry when missing, and
/// checked by `verify --full` against the entry.
#[tokio::test]
async fn statements_are_read_as_digests_and_digests_are_verified() {
    let (_dir, store) = open().await;
    let sku = |s: &str| Sku::parse(s).unwrap();
    let line = |kind, s: Option<&str>, units, amount_minor| StatementLine {
        kind,
        sku: s.map(sku),
        units,
        amount_minor,
        channel: Default::default(),
    };
    let mut batch = Vec::new();
    for s in ["MRG-1", "MRG-2"] {
        let mut m = make(&format!("make-{s}"), "2016-01-02", 100);
        let mut sh = ship(&format!("ship-{s}"), "2016-01-03", 50);
        if let Event::Manufacture { sku: k, .. } = &mut m.event {
            *k = sku(s);
        }
        if let Event::Shipment { sku: k, .. } = &mut sh.event {
            *k = sku(s);
        }
        batch.push(m);
        batch.push(sh);
    }
    let mut st = statement("ST-1", "2016-02-10", 7);
    if let Event::Statement(s) = &mut st.event {
        s.lines.push(line(LineKind::Sale, Some("MRG-2"), 5, 4_500));
        s.lines
            .push(line(LineKind::Return, Some("MRG-1"), 2, 1_900));
        s.lines.push(line(LineKind::Fee, None, 0, 300));
    }
    batch.push(st.clone());
    store.record(&batch, None).await.unwrap();

    let digests = || async {
        let mut out = Vec::new();
        store
            .for_each_digested_entry(&[], None, |_, e| {
                out.push(e);
                Ok(())
            })
            .await
            .unwrap();
        out
    };
    let want = st.statement_digest().unwrap();
    let Event::Statement(w) = &want.event else {
        unreachable!()
    };
    assert_eq!(
        w.lines.len(),
        4,
        "sale, reserve, return, fee: {:?}",
        w.lines
    );
    assert!(w.lines.iter().all(|l| l.sku.is_none()));
    let sale = w.lines.iter().find(|l| l.kind == LineKind::Sale).unwrap();
    assert_eq!((sale.units, sale.amount_minor), (12, 7 * 950 + 4_500));
    let Event::Statement(whole) = &st.event else {
        unreachable!()
    };
    assert_eq!(w.net_due_minor(), whole.net_due_minor());
    let read = digests().await;
    assert_eq!(read.len(), 5);
    assert_eq!(read[4], want);
    assert_eq!(
        read[..4],
        store.entries(&[], None).await.unwrap()[..4]
            .iter()
            .map(|(_, e)| e.clone())
            .collect::<Vec<_>>()[..]
    );

    // Gone (a store from before digests): the entry is digested and the row kept again.
    let pool = store.pool();
    sqlx::query("DELETE FROM statement_digests")
        .execute(pool)
        .await
        .unwrap();
    assert_eq!(digests().await[4], want);
    let kept: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM statement_digests")
        .fetch_one(pool)
        .await
        .unwrap();
    assert_eq!(kept, 1);
    assert!(store.verify().await.unwrap().first_problem.is_none());

    // Changed (the row replaced, since it cannot be updated): verify names it.
    assert!(
        sqlx::query("UPDATE statement_digests SET body = body || ' '")
            .execute(pool)
            .await
            .is_err()
    );
    let body: String = sqlx::query_scalar("SELECT body FROM statement_digests")
        .fetch_one(pool)
        .await
        .unwrap();
    sqlx::query("DELETE FROM statement_digests")
        .execute(pool)
        .await
        .unwrap();
    sqlx::query("INSERT INTO statement_digests (seq, body) VALUES (5, ?)")
        .bind(body.replace("\"units\":12", "\"units\":1"))
        .execute(pool)
        .await
        .unwrap();
    let problem = store.verify().await.unwrap().first_problem.unwrap();
    assert!(problem.contains("statement digest"), "{problem}");
}

/// A stock walk gives, day after day, what `stock` as of each day gives: entries
/// counted from the later of their effective and known days (a statement known weeks
/// after its period), and again after going back to an earlier day.
#[tokio::test]
async fn a_stock_walk_gives_the_stock_of_each_day() {
    let (_dir, store) = open().await;
    let mut late = ship("ship-late", "2016-01-20", 5);
    late.known_on = d("2016-03-01");
    let batch = vec![
        make("make-1", "2016-01-02", 100),
        ship("ship-1", "2016-01-03", 40),
        statement("ST-1", "2016-02-10", 7),
        late,
        ship("ship-2", "2016-02-15", 10),
        statement("ST-2", "2016-03-20", 3),
    ];
    store.record(&batch, None).await.unwrap();
    let filters = [
        StockFilter::default(),
        StockFilter {
            owner: Some("label".into()),
            ..Default::default()
        },
        StockFilter {
            holder: Some("allegro".into()),
            all: true,
            ..Default::default()
        },
    ];
    for f in &filters {
        let mut walk = store.stock_walk().await.unwrap();
        let mut day = d("2015-12-31");
        let mut changed = 0;
        let mut last = None;
        while day <= d("2016-04-30") {
            let got = walk.stock_at(&store, day, f).await.unwrap();
            let want = store
                .stock(&StockFilter {
                    as_of: Some(day),
                    ..f.clone()
                })
                .await
                .unwrap();
            assert_eq!(got, want, "{day}");
            if last.as_ref() != Some(&got) {
                changed += 1;
            }
            last = Some(got);
            day = day.add_days(3);
        }
        assert!(changed >= 5, "{changed} changes");
        // Back to an earlier day: walked again from the start.
        for back in ["2016-02-12", "2016-01-02"] {
            let want = store
                .stock(&StockFilter {
                    as_of: Some(d(back)),
                    ..f.clone()
                })
                .await
                .unwrap();
            assert_eq!(
                walk.stock_at(&store, d(back), f).await.unwrap(),
                want,
                "{back}"
            );
        }
    }
}

/// The label's holdings read by a new process come from the checkpoint kept beside
/// the database plus the entries recorded since (backdated ones, later-dated ones left
/// out, new SKUs), and equal the holdings read through the cached book every time; a
/// checkpoint for another day, an unreadable one or one the journal no longer holds
/// is not used, and `verify --full`'s check names one that was changed.
#[tokio::test]
async fn holdings_from_the_checkpoint_equal_those_summed_from_every_transfer() {
    let (dir, store) = open().await;
    let label = p("label");
    let day = Some(d("2016-02-28"));
    store
        .record(
            &[
                make("m1", "2016-01-02", 1000),
                ship("s1", "2016-01-05", 300),
                statement("st1", "2016-02-20", 40),
            ],
            None,
        )
        .await
        .unwrap();
    let warm = |as_of| {
        let path = dir.path().to_path_buf();
        async move {
            let s = Store::open(&path, false).await.unwrap();
            assert!(s.entry("m1").await.unwrap().is_some()); // the book cached
            s.holdings_of(&p("label"), as_of).await.unwrap()
        }
    };
    let cold = |as_of| {
        let path = dir.path().to_path_buf();
        async move {
            let s = Store::open(&path, false).await.unwrap();
            s.holdings_of(&p("label"), as_of).await.unwrap()
        }
    };
    let checkpoint = store.holdings_checkpoint_path();
    assert!(!checkpoint.exists());
    let first = cold(day).await;
    assert_eq!(first, warm(day).await);
    assert_eq!(first[&(p("allegro"), Sku::parse("MRG-1").unwrap())], 260);
    let kept = std::fs::read_to_string(&checkpoint).unwrap();
    assert!(kept.contains("seq=3 "), "{kept}");

    // Later entries: one backdated into the day, one after it, a new SKU.
    let mut other = make("m2", "2016-01-10", 50);
    if let Event::Manufacture { sku, .. } = &mut other.event {
        *sku = Sku::parse("MRG-2").unwrap();
    }
    let mut to_allegro = ship("s2", "2016-02-01", 20);
    if let Event::Shipment { sku, .. } = &mut to_allegro.event {
        *sku = Sku::parse("MRG-2").unwrap();
    }
    store
        .record(
            &[
                other,
                to_allegro,
                ship("s-backdated", "2016-01-20", 15),
                ship("s-later", "2016-03-15", 9),
            ],
            None,
        )
        .await
        .unwrap();
    let second = cold(day).await;
    assert_eq!(second, warm(day).await);
    assert_eq!(second[&(p("allegro"), Sku::parse("MRG-1").unwrap())], 275);
    assert_eq!(second[&(p("allegro"), Sku::parse("MRG-2").unwrap())], 20);
    // Read from the kept checkpoint (few transfers since: it is not rewritten).
    assert_eq!(std::fs::read_to_string(&checkpoint).unwrap(), kept);

    // Another day: summed again, and that day's checkpoint kept.
    let later = Some(d("2016-04-30"));
    assert_eq!(cold(later).await, warm(later).await);
    assert!(std::fs::read_to_string(&checkpoint)
        .unwrap()
        .contains("seq=7 "));
    assert_eq!(cold(None).await, warm(None).await);
    assert_eq!(cold(day).await, second);

    // An unreadable checkpoint is ignored (and made again).
    std::fs::write(&checkpoint, "not a checkpoint").unwrap();
    assert_eq!(cold(day).await, second);
    assert!(std::fs::read_to_string(&checkpoint)
        .unwrap()
        .starts_with("backstock holdings checkpoint v1"));
    assert_eq!(store.check_holdings_checkpoint().await.unwrap(), None);

    // A changed count is named by the full verification's check.
    let good = std::fs::read_to_string(&checkpoint).unwrap();
    let changed = good.replacen("\t275\n", "\t2750\n", 1);
    assert_ne!(changed, good);
    std::fs::write(&checkpoint, &changed).unwrap();
    let found = store.check_holdings_checkpoint().await.unwrap().unwrap();
    assert!(
        found.contains("differ from the journal's transfers in 1 account"),
        "{found}"
    );
    let full = store.verify_anchored_full(None, true).await.unwrap();
    assert_eq!(full.report.first_problem, Some(found));
    assert!(store
        .verify_anchored_full(None, false)
        .await
        .unwrap()
        .report
        .first_problem
        .is_none());
    std::fs::write(&checkpoint, &good).unwrap();
    assert!(store
        .verify_anchored_full(None, true)
        .await
        .unwrap()
        .report
        .first_problem
        .is_none());

    // A checkpoint of another journal (the store replaced: entry #7, where it was
    // kept, has another hash) is not used.
    drop(store);
    let other_dir = tempfile::tempdir().unwrap();
    let replaced = Store::open(other_dir.path(), true).await.unwrap();
    replaced
        .record(
            &[
                make("m1", "2016-01-02", 1000),
                ship("s1", "2016-01-05", 5),
                make("m3", "2016-01-06", 1),
                make("m4", "2016-01-07", 1),
                make("m5", "2016-01-08", 1),
                make("m6", "2016-01-09", 1),
                make("m7", "2016-01-09", 2),
            ],
            None,
        )
        .await
        .unwrap();
    std::fs::copy(&checkpoint, replaced.holdings_checkpoint_path()).unwrap();
    drop(replaced);
    let fresh = Store::open(other_dir.path(), false).await.unwrap();
    let h = fresh.holdings_of(&label, day).await.unwrap();
    assert_eq!(h[&(p("allegro"), Sku::parse("MRG-1").unwrap())], 5);
}

/// A run compresses its statements on the threads that make them and stores them
/// framed: read back as those stored whole, and a count that does not match is refused
/// with nothing written.
#[tokio::test]
async fn statements_stored_framed_read_back_as_stored_whole() {
    use backstock_store::royalty_statements::{frame_statement, RoyaltyStatementRow};
    let (_dir, store) = open().await;
    let row = |payee: &str, json: &str| RoyaltyStatementRow {
        payee: payee.into(),
        sha256: format!("sha-of-{payee}"),
        json: json.as_bytes().to_vec(),
    };
    let rows = vec![row("artist-1", r#"{"a":1}"#), row("artist-2", r#"{"b":2}"#)];
    let framed: Vec<Vec<u8>> = rows
        .iter()
        .map(|r| frame_statement(&r.json).unwrap())
        .collect();
    let err = store
        .put_framed_royalty_statements("2016H1", &rows, &framed[..1], true)
        .await
        .unwrap_err();
    assert!(
        err.to_string()
            .contains("2 royalty statements, 1 compressed"),
        "{err}"
    );
    assert_eq!(store.royalty_statement_count("2016H1").await.unwrap(), 0);
    store
        .put_framed_royalty_statements("2016H1", &rows, &framed, true)
        .await
        .unwrap();
    store
        .put_royalty_statements("2016H2", &rows, true)
        .await
        .unwrap();
    for r in &rows {
        let framed = store.royalty_statement("2016H1", &r.payee).await.unwrap();
        let whole = store.royalty_statement("2016H2", &r.payee).await.unwrap();
        assert_eq!(framed.as_ref(), Some(r));
        assert_eq!(framed, whole);
    }
}

/// The book loaded ahead (`cache_book`, as a royalty run does while it computes) is the
/// one the next record uses: balances as if recorded without it.
#[tokio::test]
async fn a_book_loaded_ahead_records_as_one_loaded_then() {
    let (dir, store) = open().await;
    store
        .record(&[make("m1", "2016-01-02", 100)], None)
        .await
        .unwrap();
    // A new process: its cache empty.
    let reopened = Store::open(dir.path(), false).await.unwrap();
    reopened.cache_book().await.unwrap();
    reopened
        .record(&[ship("s1", "2016-01-05", 60)], None)
        .await
        .unwrap();
    let err = reopened
        .record(&[ship("s2", "2016-01-06", 60)], None)
        .await
        .unwrap_err();
    assert!(err.to_string().contains("holds only 40"), "{err}");
    let rows = reopened.stock(&StockFilter::default()).await.unwrap();
    assert_eq!(units(&rows, "label"), 40);
}

/// A store whose book is cached (a server) sees entries another process recorded
/// since: its book is brought forward by them (each replayed and checked against the
/// transfers stored for it), so its stock, balances and holdings equal a new
/// process's, and what it records next chains on and verifies.
#[tokio::test]
async fn a_cached_book_follows_entries_recorded_by_another_process() {
    let (dir, server) = open().await;
    server
        .record(
            &[
                make("m1", "2016-01-02", 1000),
                ship("s1", "2016-01-05", 300),
            ],
            None,
        )
        .await
        .unwrap();
    let before = server.stock(&StockFilter::default()).await.unwrap();
    assert_eq!(units(&before, "allegro"), 300);
    // Another process: a statement (sales, a reserve left pending) and a shipment.
    let cli = Store::open(dir.path(), false).await.unwrap();
    cli.record(
        &[
            statement("st1", "2016-02-20", 40),
            ship("s2", "2016-02-22", 25),
        ],
        None,
    )
    .await
    .unwrap();
    drop(cli);
    let cold = Store::open(dir.path(), false).await.unwrap();
    for as_of in [None, Some(d("2016-02-21")), Some(d("2030-01-01"))] {
        let f = StockFilter {
            as_of,
            ..Default::default()
        };
        assert_eq!(
            server.stock(&f).await.unwrap(),
            cold.stock(&f).await.unwrap(),
            "{as_of:?}"
        );
        assert_eq!(
            server.balances(as_of, None).await.unwrap(),
            cold.balances(as_of, None).await.unwrap()
        );
        assert_eq!(
            server.holdings_of(&p("label"), as_of).await.unwrap(),
            cold.holdings_of(&p("label"), as_of).await.unwrap()
        );
    }
    assert_eq!(
        units(
            &server.stock(&StockFilter::default()).await.unwrap(),
            "allegro"
        ),
        285
    );
    // Recorded through the brought-forward book: chained on, and all of it verifies.
    server
        .record(&[statement("st2", "2016-03-20", 5)], None)
        .await
        .unwrap();
    let full = server.verify_anchored_full(None, true).await.unwrap();
    assert_eq!(full.report.first_problem, None);
    assert_eq!(full.report.entries, 5);
}

/// The derived table of open pending transfers (a statement's reserve held) is checked
/// against the journal's replay by every verification, full or incremental: a reserve
/// marked released, or its amount changed, in the table alone is named.
#[tokio::test]
async fn verify_checks_the_open_pending_transfers_against_the_replay() {
    let (_dir, store) = open().await;
    store
        .record(
            &[
                make("m1", "2016-01-02", 1000),
                ship("s1", "2016-01-05", 300),
                statement("st1", "2016-02-20", 40),
            ],
            None,
        )
        .await
        .unwrap();
    let open_rows: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM pending WHERE state = 'open'")
        .fetch_one(store.pool())
        .await
        .unwrap();
    assert_eq!(open_rows, 1, "the statement's reserve is held");
    assert_eq!(store.verify().await.unwrap().first_problem, None);
    let first = store.verify_anchored(None).await.unwrap();
    assert_eq!(first.report.first_problem, None);
    // Then the table says the reserve was paid out (no entry did that).
    sqlx::query("UPDATE pending SET state = 'posted'")
        .execute(store.pool())
        .await
        .unwrap();
    let msg = store.verify().await.unwrap().first_problem.unwrap();
    assert!(
        msg.contains("open pending transfers differ from the journal's replay"),
        "{msg}"
    );
    // Restored, then its amount changed. An incremental verification takes the
    // verified prefix's open transfers as the table has them (what is not recomputed
    // is not checked again); the full one finds the change.
    sqlx::query("UPDATE pending SET state = 'open', amount = amount + 1")
        .execute(store.pool())
        .await
        .unwrap();
    store
        .record(&[ship("s2", "2016-03-01", 10)], None)
        .await
        .unwrap();
    let next = store.verify_anchored(None).await.unwrap();
    assert_eq!(next.report.already_verified, 3, "{next:?}");
    assert_eq!(next.report.first_problem, None, "{next:?}");
    let full = store.verify_anchored_full(None, true).await.unwrap();
    assert!(
        full.report
            .first_problem
            .as_deref()
            .is_some_and(|p| p.contains("open pending transfers differ")),
        "{full:?}"
    );
    sqlx::query("UPDATE pending SET amount = amount - 1")
        .execute(store.pool())
        .await
        .unwrap();
    assert_eq!(store.verify().await.unwrap().first_problem, None);
}
