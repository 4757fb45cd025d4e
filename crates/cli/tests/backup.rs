//! `backstock backup` and `backstock restore` through the real binary: a backup taken
//! while entries are being recorded verifies; a restore brings the chain back exactly
//! and keeps the store it replaced; a tampered or foreign file is refused and nothing
//! changes.

mod common;

use common::*;
use std::path::Path;

/// The files of a data directory (SQLite's -wal and -shm come and go with connections).
fn files_in(d: &Path) -> Vec<String> {
    let mut v: Vec<String> = std::fs::read_dir(d)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| !n.ends_with("-wal") && !n.ends_with("-shm"))
        .collect();
    v.sort();
    v
}

fn head(dir: &Path) -> String {
    let out = ok(dir, &["verify"]);
    out.lines()
        .find_map(|l| l.strip_prefix("Head: "))
        .unwrap()
        .to_string()
}

/// Changes one catalog item's title inside a copy of a backup, as someone editing the
/// file would (dropping the append-only trigger first).
fn tamper(file: &Path) {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        use sqlx::Connection;
        let url = format!("sqlite://{}", file.display());
        let mut c = sqlx::SqliteConnection::connect(&url).await.unwrap();
        sqlx::query("DROP TRIGGER journal_no_update")
            .execute(&mut c)
            .await
            .unwrap();
        let n = sqlx::query(
            "UPDATE journal SET body = replace(body, '\"title\":\"', '\"title\":\"Not ') \
             WHERE seq = (SELECT MIN(seq) FROM journal WHERE kind = 'catalog_item' AND body LIKE '%\"title\":\"%')",
        )
        .execute(&mut c)
        .await
        .unwrap()
        .rows_affected();
        assert_eq!(n, 1);
        c.close().await.unwrap();
    });
}

#[test]
fn a_backup_restores_the_same_chain_and_keeps_what_it_replaced() {
    let (tmp, d) = demo();
    let n = journal_len(&d);
    let h = head(&d);
    let file = tmp.path().join("marigold.backstock");
    let said = ok(&d, &["backup", "--to", file.to_str().unwrap()]);
    assert!(
        said.contains("its hash chain verifies") && said.contains(&h),
        "{said}"
    );
    // Never over an existing file.
    refused(
        &d,
        &["backup", "--to", file.to_str().unwrap()],
        3,
        "already exists",
    );

    // Into an empty directory: the same journal, the same head.
    let other = tmp.path().join("other");
    let said = ok(&other, &["restore", file.to_str().unwrap()]);
    assert!(
        said.contains(&format!("Restored {} entries", n - 1)),
        "{said}"
    );
    assert_eq!(journal_len(&other), n);
    assert_eq!(head(&other), h);
    assert!(!said.contains("kept at"), "{said}");

    // Over a store that has moved on: back to the backup; the newer store is kept.
    ok(&d, &["alias", "add", "0000000000001", "MRG-001-CD"]);
    assert_eq!(journal_len(&d), n + 1);
    let said = ok(&d, &["restore", file.to_str().unwrap()]);
    assert_eq!(journal_len(&d), n);
    assert_eq!(head(&d), h);
    let kept = said
        .lines()
        .find_map(|l| l.strip_prefix("The store it replaced is kept at "))
        .unwrap()
        .trim_end_matches('.')
        .to_string();
    // The kept store is the newer one, whole.
    let keep_dir = tmp.path().join("kept");
    std::fs::create_dir_all(&keep_dir).unwrap();
    std::fs::copy(&kept, keep_dir.join("backstock.db")).unwrap();
    assert_eq!(journal_len(&keep_dir), n + 1);
    ok(&keep_dir, &["verify"]);
}

#[test]
fn a_tampered_or_foreign_backup_is_refused_and_nothing_changes() {
    let (tmp, d) = demo();
    let file = tmp.path().join("b.backstock");
    ok(&d, &["backup", "--to", file.to_str().unwrap()]);
    let bad = tmp.path().join("tampered.backstock");
    std::fs::copy(&file, &bad).unwrap();
    tamper(&bad);

    let before_head = head(&d);
    let before_files = files_in(&d);
    let before_journal = ok(&d, &["journal", "--format", "csv", "--limit", "1000000"]);
    let o = run(&d, &["restore", bad.to_str().unwrap()]);
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(5), "{err}");
    assert!(
        err.contains("does not verify") && err.contains("nothing was changed"),
        "{err}"
    );
    assert_eq!(files_in(&d), before_files, "no file added or removed");
    assert_eq!(head(&d), before_head);
    assert!(
        ok(&d, &["journal", "--format", "csv", "--limit", "1000000"]) == before_journal,
        "the journal changed"
    );

    // Not a database at all; a file that is not there.
    let junk = tmp.path().join("junk.txt");
    std::fs::write(&junk, "not a backup").unwrap();
    refused(
        &d,
        &["restore", junk.to_str().unwrap()],
        3,
        "not a backstock backup",
    );
    refused(
        &d,
        &["restore", tmp.path().join("nope").to_str().unwrap()],
        3,
        "no such file",
    );
    assert_eq!(files_in(&d), before_files);
    // The untouched backup still restores.
    let other = tmp.path().join("other");
    ok(&other, &["restore", file.to_str().unwrap()]);
    assert_eq!(head(&other), before_head);
}

/// A backup taken while another process records entries is consistent: it verifies,
/// and holds the journal as it was at one moment (all of a file's entries or none).
#[test]
fn a_backup_taken_while_recording_verifies() {
    let (tmp, d) = demo();
    let n = journal_len(&d);
    // Payment files, each one transaction, imported while backups are taken.
    let files: Vec<_> = (0..6)
        .map(|i| {
            let p = tmp.path().join(format!("payments-{i}.csv"));
            let mut text =
                String::from("payment_id,date,distributor,amount,currency,statement_id\n");
            for j in 0..50 {
                text.push_str(&format!("BK-{i}-{j},2016-06-01,northwind,1.00,USD,\n"));
            }
            std::fs::write(&p, text).unwrap();
            p
        })
        .collect();
    let dd = d.clone();
    let writer = std::thread::spawn(move || {
        for f in &files {
            let o = run(&dd, &["import", f.to_str().unwrap()]);
            assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
        }
    });
    let mut counts = Vec::new();
    for i in 0..3 {
        let f = tmp.path().join(format!("during-{i}.backstock"));
        let said = ok(&d, &["backup", "--to", f.to_str().unwrap()]);
        assert!(said.contains("verifies"), "{said}");
        let other = tmp.path().join(format!("r{i}"));
        ok(&other, &["restore", f.to_str().unwrap()]);
        let m = journal_len(&other);
        // Whole files only: each payments file is 50 entries.
        assert!(m >= n && (m - n).is_multiple_of(50), "{m} after {n}");
        counts.push(m);
    }
    writer.join().unwrap();
    assert!(journal_len(&d) >= *counts.iter().max().unwrap());
}
