//! `lines query --engine ballista://HOST:PORT` (built with `--features ballista`): a
//! Ballista scheduler and two executors started by `backstock lines cluster` on
//! loopback, and every answer identical to the local engine's, row for row.
#![cfg(feature = "ballista")]

mod common;

use common::{fail, import_reference, ok, Server};
use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};

#[test]
fn ballista_gives_the_local_engines_answers() {
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path().join("label");
    let files = tmp.path().join("files");
    let f = files.to_str().unwrap();
    ok(
        &d,
        &[
            "lines",
            "gen",
            "--out",
            f,
            "--lines",
            "4000",
            "--skus",
            "300",
            "--distributors",
            "2",
            "--months",
            "3",
            "--territories",
            "8",
            "--per-file",
            "1000",
        ],
    );
    ok(&d, &["init"]);
    import_reference(&d, f);
    for dist in ["dist0", "dist1"] {
        ok(
            &d,
            &["import", &format!("{f}/dsr/{dist}"), "--distributor", dist],
        );
    }

    // The cluster: a scheduler and two executors, each on its own loopback port.
    let mut child = Command::new(env!("CARGO_BIN_EXE_backstock"))
        .env_remove("BACKSTOCK_DATA")
        .args(["lines", "cluster", "--executors", "2", "--tasks", "2"])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let out = child.stdout.take().unwrap();
    let _cluster = Server(child);
    // Its output is read to the end on a thread, so the pipe stays open.
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(out).lines().map_while(Result::ok) {
            if let Some(rest) = line.split("listening on ").nth(1) {
                let _ = tx.send(rest.trim_end_matches('.').to_string());
            }
        }
    });
    let at = rx
        .recv_timeout(std::time::Duration::from_secs(60))
        .expect("lines cluster printed its address");
    assert!(at.starts_with("localhost:"), "{at}");
    let engine = format!("ballista://{at}");

    for (period, by) in [
        ("2016H1", "isrc,territory,month"),
        ("2016Q1", "territory"),
        ("2016-02", "distributor,service"),
        ("2016H1", "sku"),
    ] {
        let args = |engine: &str| {
            vec![
                "lines".to_string(),
                "query".into(),
                "--period".into(),
                period.into(),
                "--by".into(),
                by.into(),
                "--format".into(),
                "csv".into(),
                "--engine".into(),
                engine.into(),
            ]
        };
        let local: Vec<String> = args("local");
        let remote: Vec<String> = args(&engine);
        let local = ok(&d, &local.iter().map(String::as_str).collect::<Vec<_>>());
        let remote = ok(&d, &remote.iter().map(String::as_str).collect::<Vec<_>>());
        assert!(local.lines().count() > 1, "{period} {by}: {local}");
        assert_eq!(local, remote, "{period} by {by}");
    }
    // One payee's releases, on the cluster too.
    let payee = |engine: &str| {
        ok(
            &d,
            &[
                "lines", "query", "--period", "2016H1", "--by", "sku", "--payee", "artist-1",
                "--format", "csv", "--engine", engine,
            ],
        )
    };
    assert_eq!(payee("local"), payee(&engine));

    // A scheduler that is not there: a sentence, not a hang or a panic.
    let e = fail(
        &d,
        &[
            "lines",
            "query",
            "--period",
            "2016H1",
            "--engine",
            "ballista://127.0.0.1:9",
        ],
        1,
    );
    assert!(e.contains("Ballista scheduler at 127.0.0.1:9"), "{e}");
}
