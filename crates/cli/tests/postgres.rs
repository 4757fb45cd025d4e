//! A label in PostgreSQL, driven through the binary as a user would: the demo label
//! copied from its data directory into a database and back, `verify` giving the same
//! head on all three, and stock and balances reading the same on both backends.
//! Runs when `BACKSTOCK_TEST_PG_URL` names a server (`.ci/run` starts one); without it
//! the PostgreSQL parts print a note and pass. The location parsing and refusals run
//! always.

mod common;
use common::*;

fn pg_url(test: &str) -> Option<String> {
    let url = test_server(test)?;
    let sep = if url.contains('?') { '&' } else { '?' };
    Some(format!("{url}{sep}label={test}-{}", unique()))
}

/// The test server's URL (`BACKSTOCK_TEST_PG_URL`), or a note that the PostgreSQL part
/// of `test` is skipped.
fn test_server(test: &str) -> Option<String> {
    let url = std::env::var("BACKSTOCK_TEST_PG_URL")
        .ok()
        .filter(|u| !u.is_empty());
    if url.is_none() {
        eprintln!("note: BACKSTOCK_TEST_PG_URL is not set; {test} skipped on PostgreSQL");
    }
    url
}

/// A name no other test run uses: the process and the time.
fn unique() -> String {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.subsec_nanos())
        .unwrap_or(0);
    format!("{}-{nanos}", std::process::id())
}

/// The checkpoint line (`N:HASH`) a command printed.
fn checkpoint_of(out: &str) -> String {
    out.lines()
        .filter_map(|l| l.trim().strip_prefix("Head: ").or(Some(l.trim())))
        .find(|l| {
            l.split_once(':')
                .is_some_and(|(n, h)| n.parse::<u64>().is_ok() && h.len() == 64)
        })
        .unwrap_or_else(|| panic!("no checkpoint in {out}"))
        .to_string()
}

#[test]
fn the_demo_label_moves_to_postgresql_and_back_hash_for_hash() {
    let (tmp, d) = demo();
    let Some(url) = pg_url("demo-copy") else {
        return;
    };
    let head = checkpoint_of(&ok(&d, &["checkpoint"]));
    let out = ok(
        &d,
        &["store", "copy", "--from", d.to_str().unwrap(), "--to", &url],
    );
    assert!(out.contains("Copied"), "{out}");
    assert!(
        out.contains(&head.split(':').nth(1).unwrap()[..16]),
        "{out}"
    );
    let on_pg = ok(&d, &["--database", &url, "verify"]);
    assert_eq!(checkpoint_of(&on_pg), head, "{on_pg}");
    assert_eq!(
        checkpoint_of(&ok(&d, &["--database", &url, "checkpoint"])),
        head
    );
    ok(&d, &["--database", &url, "verify", "--expect", &head]);
    // The same figures from both backends, as of today and as of a past date.
    for args in [
        vec!["balances", "--format", "csv"],
        vec!["balances", "--as-of", "2015-06-30", "--format", "json"],
        vec!["stock", "--all", "--format", "csv"],
        vec!["stock", "--holder", "cascade", "--as-of", "2016-01-31"],
        vec!["stock", "--holder", "cascade"],
    ] {
        let mut on = vec!["--database", url.as_str()];
        on.extend(args.iter().copied());
        assert_eq!(ok(&d, &args), ok(&d, &on), "{args:?}");
    }
    // Back to a new data directory: the same head again, and it verifies there.
    let back = tmp.path().join("back");
    ok(
        &d,
        &[
            "store",
            "copy",
            "--from",
            &url,
            "--to",
            back.to_str().unwrap(),
        ],
    );
    assert_eq!(checkpoint_of(&ok(&back, &["checkpoint"])), head);
    assert_eq!(
        ok(&back, &["balances", "--format", "csv"]),
        ok(&d, &["balances", "--format", "csv"])
    );
    // Copying again changes nothing (the contract suite checks that a store holding
    // something else is refused).
    let again = ok(
        &d,
        &["store", "copy", "--from", d.to_str().unwrap(), "--to", &url],
    );
    assert!(again.contains("Copied 0 entries"), "{again}");
    assert!(again.contains("already held the first"), "{again}");
}

#[test]
fn commands_for_a_data_directory_say_what_to_do_on_postgresql() {
    let tmp = tempfile::tempdir().unwrap();
    // Without a label in the URL or --label: refused before connecting.
    let err = fail(
        tmp.path(),
        &["--database", "postgres://u:secret@127.0.0.1:1/db", "stock"],
        3,
    );
    assert!(err.contains("?label=SLUG"), "{err}");
    assert!(
        !err.contains("secret"),
        "the password is never shown: {err}"
    );
    let Some(url) = pg_url("refusals") else {
        return;
    };
    // What works on a data directory only says what to do instead.
    let err = fail(tmp.path(), &["--database", &url, "init"], 3);
    assert!(err.contains("store copy"), "{err}");
    let err = fail(
        tmp.path(),
        &["--database", &url, "backup", "--to", "x.tar"],
        3,
    );
    assert!(err.contains("pg_dump"), "{err}");
    // A fresh label verifies empty.
    let out = ok(tmp.path(), &["--database", &url, "verify"]);
    assert!(out.contains("0 entries"), "{out}");
}

/// Daily work on a label in PostgreSQL: a correction and an import run on a working
/// copy and are appended to the database; every figure then matches the same work
/// done on a data directory, and the label still verifies.
#[test]
fn daily_work_on_postgresql_matches_a_data_directory() {
    let (tmp, d) = demo();
    let Some(url) = pg_url("daily") else {
        return;
    };
    ok(
        &d,
        &["store", "copy", "--from", d.to_str().unwrap(), "--to", &url],
    );
    let on_pg = |args: &[&str]| {
        let mut all = vec!["--database", url.as_str()];
        all.extend_from_slice(args);
        ok(&d, &all)
    };
    let correct = ["correct", "payment:northwind:P9079", "--reason", "bounced"];
    let said = on_pg(&correct);
    assert!(said.contains("Recorded a correction"), "{said}");
    ok(&d, &correct);
    // A refused correction says why on both and records nothing.
    let refused = [
        "correct",
        "shipment:SH-5086:MRG-014-CD",
        "--reason",
        "keyed twice",
    ];
    let mut all = vec!["--database", url.as_str()];
    all.extend_from_slice(&refused);
    let err = fail(&d, &all, 4);
    assert!(err.contains("would leave cascade holding"), "{err}");
    // An import: a purchase order (detected from its header).
    let po = write(
        tmp.path(),
        "po.csv",
        "po_number,date,distributor,sku,units\nPO-PG-1,2016-06-20,northwind,MRG-014-CD,12\n",
    );
    let said = on_pg(&["import", &po]);
    assert!(said.contains("po.csv"), "{said}");
    ok(&d, &["import", &po]);
    for args in [
        vec!["balances", "--format", "csv"],
        vec!["stock", "--all", "--format", "csv"],
        vec!["receivables", "--as-of", "2016-06-30", "--format", "csv"],
    ] {
        assert_eq!(ok(&d, &args), on_pg(&args), "{args:?}");
    }
    let head = on_pg(&["checkpoint"]);
    assert!(head.starts_with("3878:"), "{head}");
    // The same file again changes nothing.
    on_pg(&["import", &po]);
    assert_eq!(on_pg(&["checkpoint"]), head);
}

/// Writers at once on one label in PostgreSQL: each import either lands whole or is
/// refused with "run it again" (another writer moved the label while it ran); run
/// again, every file lands once, nothing is lost, and the label verifies.
#[test]
fn concurrent_writers_on_postgresql_lose_nothing() {
    let (tmp, d) = demo();
    let Some(url) = pg_url("concurrent") else {
        return;
    };
    ok(
        &d,
        &["store", "copy", "--from", d.to_str().unwrap(), "--to", &url],
    );
    let files: Vec<String> = (0..4)
        .map(|i| {
            write(
                tmp.path(),
                &format!("po-{i}.csv"),
                &format!(
                    "po_number,date,distributor,sku,units\nPO-C-{i},2016-06-2{i},northwind,MRG-014-CD,{}\n",
                    10 + i
                ),
            )
        })
        .collect();
    let mut pending: Vec<String> = files.clone();
    let mut rounds = 0;
    while !pending.is_empty() {
        rounds += 1;
        assert!(rounds <= 10, "still refused after 10 rounds: {pending:?}");
        let children: Vec<(String, std::process::Child)> = pending
            .iter()
            .map(|f| {
                let child = std::process::Command::new(env!("CARGO_BIN_EXE_backstock"))
                    .env_remove("BACKSTOCK_DATA")
                    .args(["--database", &url, "import", f])
                    .stdout(std::process::Stdio::piped())
                    .stderr(std::process::Stdio::piped())
                    .spawn()
                    .unwrap();
                (f.clone(), child)
            })
            .collect();
        let mut again = Vec::new();
        for (f, child) in children {
            let out = child.wait_with_output().unwrap();
            let err = String::from_utf8_lossy(&out.stderr);
            assert!(!err.contains("panicked"), "{err}");
            if !out.status.success() {
                assert!(err.contains("run it again"), "{f}: {err}");
                again.push(f);
            }
        }
        pending = again;
    }
    let mut all = vec!["--database", url.as_str()];
    all.extend(["journal", "--kind", "purchase_order", "--format", "csv"]);
    let journal = ok(&d, &all);
    for i in 0..4 {
        let id = format!("PO-C-{i}");
        assert!(journal.contains(&id), "{id} missing");
    }
    let head = ok(&d, &["--database", &url, "verify"]);
    assert!(head.contains("3880 entries replayed"), "{head}");
}

/// The working copy a command on PostgreSQL runs on is kept between commands (in
/// `BACKSTOCK_WORKING_COPIES`) and stays the label's exact copy; a kept copy that got
/// ahead of the database (here: an entry recorded in it directly) is thrown away and
/// made again, and what it held alone never reaches the database.
#[test]
fn a_kept_working_copy_follows_the_label_and_is_remade_when_ahead() {
    let (tmp, d) = demo();
    let Some(url) = pg_url("kept") else {
        return;
    };
    ok(
        &d,
        &["store", "copy", "--from", d.to_str().unwrap(), "--to", &url],
    );
    let copies = tmp.path().join("copies");
    let on_pg = |args: &[&str]| {
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_backstock"))
            .env_remove("BACKSTOCK_DATA")
            .env("BACKSTOCK_WORKING_COPIES", &copies)
            .args(["--database", url.as_str()])
            .args(args)
            .output()
            .unwrap();
        let err = String::from_utf8_lossy(&out.stderr).to_string();
        assert!(out.status.success(), "{args:?}: {err}");
        String::from_utf8_lossy(&out.stdout).to_string()
    };
    let po = |i: &str| {
        write(
            tmp.path(),
            &format!("po-{i}.csv"),
            &format!("po_number,date,distributor,sku,units\nPO-K-{i},2016-06-20,northwind,MRG-014-CD,5\n"),
        )
    };
    on_pg(&["import", &po("1")]);
    let kept: Vec<std::path::PathBuf> = std::fs::read_dir(&copies)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.is_dir())
        .collect();
    assert_eq!(kept.len(), 1, "{kept:?}");
    let kept = &kept[0];
    let head = checkpoint_of(&on_pg(&["checkpoint"]));
    assert_eq!(checkpoint_of(&ok(kept, &["checkpoint"])), head);
    // Recorded in the kept copy only: it is now ahead of the label.
    ok(kept, &["import", &po("stray")]);
    on_pg(&["import", &po("2")]);
    let journal = on_pg(&["journal", "--kind", "purchase_order", "--format", "csv"]);
    assert!(
        journal.contains("PO-K-1") && journal.contains("PO-K-2"),
        "{journal}"
    );
    assert!(!journal.contains("PO-K-stray"), "{journal}");
    let head = checkpoint_of(&on_pg(&["verify"]));
    assert!(head.starts_with("3878:"), "{head}");
    assert_eq!(checkpoint_of(&ok(kept, &["checkpoint"])), head);
    // The same figures as a data directory that recorded the same two files.
    ok(&d, &["import", &po("1")]);
    ok(&d, &["import", &po("2")]);
    for args in [
        vec!["balances", "--format", "csv"],
        vec!["stock", "--all", "--format", "csv"],
    ] {
        assert_eq!(ok(&d, &args), on_pg(&args), "{args:?}");
    }
}

/// Royalties, payouts, risk and its alert log on a label in PostgreSQL: the statements
/// of its royalty runs and its alert log travel with it (`store copy` both ways, the
/// working copies), and each command gives what it gives on a data directory.
#[test]
fn royalties_payouts_and_risk_on_postgresql_match_a_data_directory() {
    let (tmp, d) = demo();
    let Some(url) = pg_url("royalty") else {
        return;
    };
    let out = ok(
        &d,
        &["store", "copy", "--from", d.to_str().unwrap(), "--to", &url],
    );
    // The demo's eight runs of five statements each.
    assert!(out.contains("40 royalty statements"), "{out}");
    let copies = tmp.path().join("copies");
    let on_pg = |args: &[&str], kept: bool| {
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_backstock"))
            .env_remove("BACKSTOCK_DATA")
            .env(
                "BACKSTOCK_WORKING_COPIES",
                if kept {
                    copies.as_os_str()
                } else {
                    "off".as_ref()
                },
            )
            .args(["--database", url.as_str()])
            .args(args)
            .output()
            .unwrap();
        let err = String::from_utf8_lossy(&out.stderr).to_string();
        assert!(out.status.success(), "{args:?}: {err}");
        String::from_utf8_lossy(&out.stdout).to_string()
    };
    let statement = [
        "royalties",
        "statement",
        "--payee",
        "june-okafor",
        "--period",
        "2016H1",
        "--format",
        "csv",
    ];
    for args in [
        vec!["royalties", "list"],
        statement.to_vec(),
        vec!["risk", "--format", "csv"],
        vec!["risk", "--as-of", "2015-06-30", "--format", "csv"],
        vec!["payout", "list"],
    ] {
        assert_eq!(ok(&d, &args), on_pg(&args, true), "{args:?}");
    }
    // The alert log `risk` walked is in the database: a copy made from nothing else
    // (no kept working copy) shows it, as the data directory's own.
    let columns = |csv: &str| -> Vec<String> {
        csv.lines()
            .map(|l| {
                let f: Vec<&str> = l.split(',').collect();
                format!("{:?}", &f[2..f.len().min(6)])
            })
            .collect()
    };
    let alerts = on_pg(&["alerts", "--format", "csv"], false);
    assert!(alerts.contains("cascade"), "{alerts}");
    assert_eq!(
        columns(&alerts),
        columns(&ok(&d, &["alerts", "--format", "csv"]))
    );
    // Paying a run: recorded in the database, the same payments as on the directory.
    let pay = ["payout", "run", "--period", "2016H1", "--on", "2016-06-30"];
    ok(&d, &pay);
    on_pg(&pay, true);
    assert_eq!(
        ok(&d, &["payout", "list"]),
        on_pg(&["payout", "list"], false)
    );
    assert_eq!(
        ok(&d, &["balances", "--format", "csv"]),
        on_pg(&["balances", "--format", "csv"], false)
    );
    // Back to a directory: the statements and the alert log come too.
    let back = tmp.path().join("back");
    let out = ok(
        &d,
        &[
            "store",
            "copy",
            "--from",
            &url,
            "--to",
            back.to_str().unwrap(),
        ],
    );
    assert!(out.contains("40 royalty statements"), "{out}");
    assert_eq!(ok(&back, &statement), ok(&d, &statement));
    assert_eq!(
        columns(&ok(&back, &["alerts", "--format", "csv"])),
        columns(&alerts)
    );
    ok(&back, &["verify"]);
}

/// A new, empty database on the test server: (its URL, without a label).
fn fresh_database(test: &str) -> Option<String> {
    let url = test_server(test)?;
    let name = format!("bscli_{}", unique().replace('-', "_"));
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        use sqlx::Connection;
        let mut c = sqlx::PgConnection::connect(&url).await.unwrap();
        sqlx::query(&format!("CREATE DATABASE {name}"))
            .execute(&mut c)
            .await
            .unwrap();
    });
    let (base, query) = match url.split_once('?') {
        Some((b, q)) => (b.to_string(), format!("?{q}")),
        None => (url.clone(), String::new()),
    };
    let base = base
        .rsplit_once('/')
        .map(|(b, _)| b.to_string())
        .unwrap_or(base);
    Some(format!("{base}/{name}{query}"))
}

/// `serve --database URL --demo` as an operator runs it: the users and the demo label
/// in the database, the web app serving it from working copies, the label verifying
/// in the database, and `user …` on another data directory seeing the same accounts.
#[test]
fn serve_and_its_users_on_postgresql() {
    let tmp = tempfile::tempdir().unwrap();
    // A label in the URL is for label commands: the server takes the whole database.
    let err = fail(
        tmp.path(),
        &[
            "--database",
            "postgres://u:secret@127.0.0.1:1/db?label=x",
            "serve",
        ],
        3,
    );
    assert!(err.contains("without ?label="), "{err}");
    assert!(!err.contains("secret"), "{err}");
    let Some(url) = fresh_database("serve") else {
        return;
    };
    let served = tmp.path().join("served");
    let (server, _, addr) = start_server(&[
        "--data-dir",
        served.to_str().unwrap(),
        "--database",
        &url,
        "serve",
        "--demo",
        "--addr",
        "127.0.0.1:0",
        "--demo-password",
        "a demo password",
    ]);
    let cookie = sign_in(
        &addr,
        "email=owner%40marigold.test&password=a+demo+password&next=%2Ft%2Fmarigold%2Fdashboard",
    );
    let (status, _, body) = http(
        &addr,
        "GET",
        "/t/marigold/dashboard",
        &[format!("Cookie: {cookie}")],
        "",
    );
    assert_eq!(status, 200);
    assert!(
        body.contains("cascade") && body.contains("level-critical"),
        "{body}"
    );
    drop(server);

    // The label is in the database, whole.
    let labelled = format!(
        "{url}{}label=marigold",
        if url.contains('?') { '&' } else { '?' }
    );
    let out = ok(tmp.path(), &["--database", &labelled, "verify"]);
    assert!(out.starts_with("OK: label marigold"), "{out}");
    // So are the accounts: another data directory lists them.
    let other = tempfile::tempdir().unwrap();
    let out = ok(other.path(), &["--database", &url, "user", "list"]);
    assert!(
        out.contains("owner@marigold.test") && out.contains("artist@marigold.test"),
        "{out}"
    );
}
