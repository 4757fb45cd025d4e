//! "Download a backup" over HTTP: only the owner; the file is the label's whole store,
//! its hash chain verifies and it restores to the same journal; downloads are audited.

use crate::common;

use common::*;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// A GET answered with raw bytes (the common client reads bodies as text).
async fn get_bytes(s: &Server, path: &str, who: &Session) -> (u16, Vec<u8>, String) {
    let mut c = tokio::net::TcpStream::connect(s.addr).await.unwrap();
    let req = format!(
        "GET {path} HTTP/1.1\r\nHost: {}\r\nConnection: close\r\nCookie: bs_session={}\r\n\r\n",
        s.addr, who.sid
    );
    c.write_all(req.as_bytes()).await.unwrap();
    let mut all = Vec::new();
    c.read_to_end(&mut all).await.unwrap();
    let end = all.windows(4).position(|w| w == b"\r\n\r\n").unwrap();
    let head = String::from_utf8_lossy(&all[..end]).into_owned();
    let status = head[9..12].parse().unwrap();
    (status, all[end + 4..].to_vec(), head)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_owner_downloads_a_backup_that_restores() {
    let s = start(|_| {}).await;
    let owner = s.login("owner@alpha.test").await;
    let (status, bytes, head) = get_bytes(&s, "/t/alpha/backup", &owner).await;
    assert_eq!(status, 200, "{head}");
    assert!(head
        .to_ascii_lowercase()
        .contains("content-type: application/vnd.sqlite3"));
    assert!(
        head.contains("filename=\"backstock-alpha-2016-06-30.backstock\""),
        "{head}"
    );
    assert!(bytes.starts_with(b"SQLite format 3\0"));

    // The file verifies and restores to alpha's journal, entry for entry.
    let tmp = tempfile::tempdir().unwrap();
    let file = tmp.path().join("alpha.backstock");
    std::fs::write(&file, &bytes).unwrap();
    let live = backstock_store::Store::open(&s.control().label_dir("alpha"), false)
        .await
        .unwrap();
    let n = live.entry_count().await.unwrap();
    let checked = backstock_app::backup::check(&file).await.unwrap();
    assert_eq!(checked.entries, n);
    let restored = backstock_app::backup::restore(&tmp.path().join("r"), &file)
        .await
        .unwrap();
    assert_eq!(restored.head, checked.head);
    assert!(
        !bytes.windows(8).any(|w| w == b"BETA-001"),
        "only alpha's store"
    );

    // The API route answers the same file.
    let (status, api_bytes, _) = get_bytes(&s, "/api/v1/t/alpha/backup", &owner).await;
    assert_eq!(status, 200);
    assert!(api_bytes.starts_with(b"SQLite format 3\0"));

    // Nobody else: staff, bookkeeper, artist, distributor; another label's owner.
    for who in [
        "staff@alpha.test",
        "bookkeeper@alpha.test",
        "artist@alpha.test",
        "distributor@alpha.test",
    ] {
        let m = s.login(who).await;
        let r = s.get("/api/v1/t/alpha/backup", Some(&m)).await;
        assert_eq!(r.status, 403, "{who}");
    }
    let beta = s.login(BETA_OWNER).await;
    assert_eq!(
        s.get("/api/v1/t/alpha/backup", Some(&beta)).await.status,
        404
    );

    // Audited.
    let audit = s.get("/api/v1/t/alpha/audit", Some(&owner)).await;
    assert_eq!(
        audit.body.matches("backup_downloaded").count(),
        2,
        "{}",
        audit.body
    );
}
