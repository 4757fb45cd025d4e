//! The store contract ([`backstock_store::contract`]): one suite written against the
//! `Journal` and `Projections` traits, run against every backend: SQLite always, and
//! PostgreSQL when `BACKSTOCK_TEST_PG_URL` names a server (`.ci/run` starts one; each
//! test uses a label of its own, so a shared database is fine). Without it the
//! PostgreSQL runs print a note and pass.

use backstock_domain::{Date, PartyId, Sku};
use backstock_ledger::{Entry, EntryId, EntryKind, Event, Provenance};
use backstock_store::contract::{Beside, Journal, KeptStatement, Projections, Settings};
use backstock_store::query::StockFilter;
use backstock_store::{RecordOutcome, SourceFile, Store, StoreError};
use backstock_store_pg::PgStore;
use sha2::Digest;

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
fn ship(id: &str, on: &str, from: &str, units: u64) -> Entry {
    entry(
        id,
        on,
        Event::Shipment {
            shipment_id: id.into(),
            from: PartyId::parse(from).unwrap(),
            to: PartyId::parse("allegro").unwrap(),
            sku: Sku::parse("CAT-1").unwrap(),
            units,
            po_number: None,
            override_reason: None,
        },
    )
}

async fn units_at<S: Projections>(s: &S, holder: &str, as_of: Option<Date>) -> i64 {
    s.stock_as_of(&StockFilter {
        as_of,
        holder: Some(holder.into()),
        ..Default::default()
    })
    .await
    .unwrap()
    .iter()
    .map(|r| r.units)
    .sum()
}

/// A batch is all or nothing, and the same batch twice changes nothing.
async fn appends_are_atomic_and_idempotent<S: Journal + Projections>(s: &S) {
    let batch = [
        make("m1", "2016-01-01", 100),
        ship("s1", "2016-01-10", "label", 30),
    ];
    let r = s.append(&batch, None).await.unwrap();
    assert!(
        matches!(r, RecordOutcome::Recorded { recorded: 2, .. }),
        "{r:?}"
    );
    let head = s.head().await.unwrap();
    assert_eq!(head.entries, 2);
    assert_eq!(head.hash.as_ref().map(String::len), Some(64));
    let again = s.append(&batch, None).await.unwrap();
    assert!(
        matches!(
            again,
            RecordOutcome::Recorded {
                recorded: 0,
                unchanged: 2,
                ..
            }
        ),
        "{again:?}"
    );
    assert_eq!(s.head().await.unwrap(), head);
    // Same id, other content: refused, nothing of the batch recorded.
    let r = s
        .append(
            &[
                ship("s2", "2016-01-11", "label", 5),
                ship("s1", "2016-01-10", "label", 31),
            ],
            None,
        )
        .await;
    assert!(matches!(r, Err(StoreError::Conflict { .. })), "{r:?}");
    // Shipping more than the label holds: refused, nothing recorded.
    let r = s
        .append(
            &[
                ship("s3", "2016-01-12", "label", 5),
                ship("s4", "2016-01-12", "label", 500),
            ],
            None,
        )
        .await;
    assert!(matches!(r, Err(StoreError::Refused(_))), "{r:?}");
    assert_eq!(s.head().await.unwrap(), head);
    assert_eq!(units_at(s, "allegro", None).await, 30);
    assert_eq!(units_at(s, "label", None).await, 70);
}

/// Entries come back oldest first, filtered by kind and by what was known on a date;
/// projections as of a date see only what was effective and known then.
async fn reads_are_as_of_a_date<S: Journal + Projections>(s: &S) {
    s.append(
        &[
            make("m1", "2016-01-01", 100),
            ship("s1", "2016-01-10", "label", 30),
            ship("s2", "2016-03-10", "label", 20),
        ],
        None,
    )
    .await
    .unwrap();
    let mut kinds = Vec::new();
    s.each_entry(&[], None, |_, e| {
        kinds.push(e.event.kind());
        Ok(())
    })
    .await
    .unwrap();
    assert_eq!(
        kinds,
        [
            EntryKind::Manufacture,
            EntryKind::Shipment,
            EntryKind::Shipment
        ]
    );
    let mut early = Vec::new();
    s.each_entry(&[EntryKind::Shipment], Some(d("2016-02-01")), |_, e| {
        early.push(e.id.to_string());
        Ok(())
    })
    .await
    .unwrap();
    assert_eq!(early, ["s1"]);
    assert_eq!(units_at(s, "allegro", Some(d("2016-02-01"))).await, 30);
    assert_eq!(units_at(s, "allegro", None).await, 50);
    let (_, e, postings) = s.entry_with_postings("s2").await.unwrap().expect("s2");
    assert_eq!(e.effective_on, d("2016-03-10"));
    assert_eq!(postings.len(), 1);
    assert_eq!(postings[0].amount, 20);
    assert!(s.entry_with_postings("nope").await.unwrap().is_none());
    let money = s.balances_as_of(None, None).await.unwrap();
    assert!(money.is_empty(), "no money moved: {money:?}");
}

/// The original file is kept with its entries, byte for byte, and imported once.
async fn originals_are_kept_once<S: Journal>(s: &S) {
    let bytes = b"shipment_id,date,from,to,sku,units,po_number\n".to_vec();
    let file = || SourceFile {
        sha256: "cd".repeat(32),
        name: "shipments.csv".into(),
        kind: "shipments".into(),
        size: bytes.len() as u64,
        parts: vec![backstock_store::compress(&bytes).unwrap()],
        lines: 1,
    };
    s.append(&[make("m1", "2016-01-01", 5)], Some(file()))
        .await
        .unwrap();
    assert_eq!(
        s.original(&"cd".repeat(32)).await.unwrap(),
        Some(bytes.clone())
    );
    let again = s
        .append(&[make("m1", "2016-01-01", 5)], Some(file()))
        .await
        .unwrap();
    assert!(
        matches!(again, RecordOutcome::AlreadyImported { .. }),
        "{again:?}"
    );
    assert_eq!(s.head().await.unwrap().entries, 1);
}

/// A little history with an original and typed-in entries, in three batches.
async fn history<S: Journal>(s: &S) {
    let bytes = b"sku,units\nA,100\n".to_vec();
    let sha = backstock_ledger::chain::to_hex(sha2::Sha256::digest(&bytes).as_slice());
    let file = SourceFile::from_bytes(sha, "make.csv".into(), "stock".into(), 1, &bytes).unwrap();
    s.append(&[make("m1", "2016-01-01", 100)], Some(file))
        .await
        .unwrap();
    s.append(
        &[
            ship("s1", "2016-02-01", "label", 30),
            ship("s2", "2016-03-01", "label", 20),
        ],
        None,
    )
    .await
    .unwrap();
    s.append(&[ship("s3", "2016-04-01", "label", 5)], None)
        .await
        .unwrap();
}

/// Every entry's postings and hash, and every original, recompute from the bodies.
async fn replays_to_its_own_hashes<S: Journal + Projections + Sync>(s: &S) {
    history(s).await;
    let r = backstock_store::copy::replay(s).await.unwrap();
    let head = s.head().await.unwrap();
    assert_eq!(r.entries, 4);
    assert_eq!(r.files, 1);
    assert_eq!(r.head, head.hash);
}

/// A label copied to an empty store of the other backend (and back) keeps every
/// entry, original and hash: the same head on both sides, and it replays.
async fn copies_hash_for_hash<S: Journal + Projections + Settings + Sync>(s: &S) {
    history(s).await;
    s.put_setting("label_name", "Marigold Records")
        .await
        .unwrap();
    s.put_setting("today", "2016-06-30").await.unwrap();
    let (_dir, other) = sqlite().await;
    let r = backstock_store::copy::copy_journal(s, &other)
        .await
        .unwrap();
    assert_eq!((r.already, r.copied, r.files), (0, 4, 1));
    assert_eq!(other.head().await.unwrap(), s.head().await.unwrap());
    assert_eq!(other.settings().await.unwrap(), s.settings().await.unwrap());
    assert_eq!(r.settings, 2);
    assert_eq!(
        other.original(&r_sha()).await.unwrap(),
        Some(b"sku,units\nA,100\n".to_vec())
    );
    assert_eq!(
        units_at(&other, "allegro", None).await,
        units_at(s, "allegro", None).await
    );
    backstock_store::copy::replay(&other).await.unwrap();
    // Copying again changes nothing; a store holding something else is refused.
    let again = backstock_store::copy::copy_journal(s, &other)
        .await
        .unwrap();
    assert_eq!((again.already, again.copied), (4, 0));
    let (_dir2, stranger) = sqlite().await;
    stranger
        .append(&[make("other", "2016-01-01", 1)], None)
        .await
        .unwrap();
    let err = backstock_store::copy::copy_journal(s, &stranger)
        .await
        .unwrap_err();
    assert!(err.to_string().contains("empty store"), "{err}");
    assert_eq!(stranger.head().await.unwrap().entries, 1);
    // And back into a store of this backend's kind (PostgreSQL: under a new label).
    if let Some(pg) = postgres("copies_back").await {
        backstock_store::copy::copy_journal(&other, &pg)
            .await
            .unwrap();
        assert_eq!(pg.head().await.unwrap(), s.head().await.unwrap());
        assert_eq!(pg.settings().await.unwrap(), s.settings().await.unwrap());
        backstock_store::copy::replay(&pg).await.unwrap();
    }
}

fn alert(id: i64, distributor: &str, to: &str) -> backstock_store::AlertRow {
    backstock_store::AlertRow {
        id,
        raised_at: format!("2026-12-0{id}T10:00:00Z"),
        as_of: "2016-05-31".into(),
        distributor: distributor.into(),
        from_level: "ok".into(),
        to_level: to.into(),
        body: format!("{{\"to\":\"{to}\"}}"),
        delivered_at: None,
        delivery_note: None,
    }
}

/// What a label keeps beside its journal — royalty statements, the alert log and the
/// level history's walk mark — is kept as given, moves with `copy_beside` (only the
/// statements of runs the journal records), and is never taken for a setting.
async fn keeps_what_is_beside_the_journal<S: Journal + Settings + Beside + Sync>(s: &S) {
    let st = |payee: &str| KeptStatement {
        period: "2016H1".into(),
        payee: payee.into(),
        sha256: format!("{payee:0>64}"),
        body_zstd: vec![1, 2, 3],
    };
    s.keep_statements(&[st("a"), st("b")]).await.unwrap();
    // Kept once: the same rows again change nothing.
    s.keep_statements(&[st("b"), st("c")]).await.unwrap();
    assert_eq!(
        s.royalty_statement_counts().await.unwrap(),
        vec![("2016H1".to_string(), 3)]
    );
    let page = s.kept_statements("2016H1", "a", 1).await.unwrap();
    assert_eq!(page, vec![st("b")]);

    s.keep_alerts(&[alert(1, "cascade", "watch"), alert(2, "cascade", "alert")])
        .await
        .unwrap();
    let mut told = alert(2, "cascade", "alert");
    told.delivered_at = Some("2026-12-02T10:00:01Z".into());
    told.delivery_note = Some("HTTP 200".into());
    s.keep_alerts(std::slice::from_ref(&told)).await.unwrap();
    assert_eq!(
        s.alert_log().await.unwrap(),
        vec![alert(1, "cascade", "watch"), told.clone()]
    );
    s.set_level_log_mark("2016-05-31 12").await.unwrap();
    assert!(s
        .settings()
        .await
        .unwrap()
        .iter()
        .all(|(k, _)| k != backstock_store::contract::LEVEL_LOG_MARK));

    let (_dir, other) = sqlite().await;
    let r = backstock_store::copy::copy_beside(s, &other).await.unwrap();
    // No run entry for 2016H1 in the journal: its rows are not records, not copied.
    assert_eq!(r.statements, 0);
    assert_eq!(r.alerts, 2);
    assert_eq!(
        other.alert_log().await.unwrap(),
        s.alert_log().await.unwrap()
    );
    assert_eq!(
        other.level_log_mark().await.unwrap().as_deref(),
        Some("2016-05-31 12")
    );
    // Again: nothing to copy; an earlier mark never moves the other's back.
    s.set_level_log_mark("2016-04-30 9").await.unwrap();
    let r = backstock_store::copy::copy_beside(s, &other).await.unwrap();
    assert_eq!(r, backstock_store::copy::BesideReport::default());
    assert_eq!(
        other.level_log_mark().await.unwrap().as_deref(),
        Some("2016-05-31 12")
    );
    // An alert raised differently under the same id: refused, nothing changed.
    let (_dir2, stranger) = sqlite().await;
    stranger
        .keep_alerts(&[alert(1, "northwind", "alert")])
        .await
        .unwrap();
    let err = backstock_store::copy::copy_beside(s, &stranger)
        .await
        .unwrap_err();
    assert!(err.to_string().contains("alert 1"), "{err}");
    assert_eq!(stranger.alert_log().await.unwrap().len(), 1);
}

/// On PostgreSQL what is kept beside the journal is history too: the database itself
/// refuses to change a raised alert or remove a royalty statement.
#[tokio::test]
async fn postgres_keeps_statements_and_alerts_as_written() {
    let Some(pg) = postgres("beside_append_only").await else {
        return;
    };
    keeps_what_is_beside_the_journal(&pg).await;
    let label = pg.label().to_string();
    let refused = sqlx::query("UPDATE alerts SET to_level = 'ok' WHERE label = $1")
        .bind(&label)
        .execute(pg.pool())
        .await
        .unwrap_err();
    // backstock_app may update only the delivery columns (and a trigger refuses any
    // other change for every role).
    assert!(
        refused.to_string().contains("permission denied"),
        "{refused}"
    );
    let refused = sqlx::query("DELETE FROM royalty_statements WHERE label = $1")
        .bind(&label)
        .execute(pg.pool())
        .await
        .unwrap_err();
    let said = refused.to_string();
    assert!(
        said.contains("permission denied") || said.contains("append-only"),
        "{said}"
    );
    assert_eq!(pg.royalty_statement_counts().await.unwrap().len(), 1);
    let refused = sqlx::query("DELETE FROM alerts WHERE label = $1")
        .bind(&label)
        .execute(pg.pool())
        .await
        .unwrap_err();
    assert!(!refused.to_string().is_empty());
    assert_eq!(pg.alert_log().await.unwrap().len(), 2);
}

fn r_sha() -> String {
    backstock_ledger::chain::to_hex(sha2::Sha256::digest(b"sku,units\nA,100\n").as_slice())
}

async fn sqlite() -> (tempfile::TempDir, Store) {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path(), true).await.unwrap();
    (dir, store)
}

/// A PostgreSQL store with a label no other test (or earlier run) uses, or `None` (with
/// a note) when `BACKSTOCK_TEST_PG_URL` is not set.
async fn postgres(test: &str) -> Option<PgStore> {
    let Some(url) = std::env::var("BACKSTOCK_TEST_PG_URL")
        .ok()
        .filter(|u| !u.is_empty())
    else {
        eprintln!("note: BACKSTOCK_TEST_PG_URL is not set; {test} skipped on PostgreSQL");
        return None;
    };
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or(0);
    let label = format!("contract-{test}-{}-{nanos}", std::process::id());
    Some(PgStore::connect(&url, &label).await.unwrap())
}

/// Each contract function, as a test on each backend.
macro_rules! contract {
    ($($name:ident),* $(,)?) => {
        mod on_sqlite {
            $(
                #[tokio::test]
                async fn $name() {
                    let (_dir, s) = super::sqlite().await;
                    super::$name(&s).await;
                }
            )*
        }
        mod on_postgres {
            $(
                #[tokio::test]
                async fn $name() {
                    let Some(s) = super::postgres(stringify!($name)).await else {
                        return;
                    };
                    super::$name(&s).await;
                }
            )*
        }
    };
}

contract!(
    appends_are_atomic_and_idempotent,
    reads_are_as_of_a_date,
    originals_are_kept_once,
    replays_to_its_own_hashes,
    copies_hash_for_hash,
    keeps_what_is_beside_the_journal,
);
