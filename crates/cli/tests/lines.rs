//! `backstock lines` (built with `--features lines`): generated DSR files imported
//! through the binary, their lines written as Parquet by `lines rebuild`, and
//! `lines query` giving per ISRC × territory × month and per SKU totals that tie to the
//! ledger's statements; bad arguments are refused with a sentence.
#![cfg(feature = "lines")]

mod common;

use common::{fail, http, import_reference, ok, serve};

/// Σ of a CSV column (amounts as exact minor units, "12.34" → 1234).
fn minor(s: &str) -> i128 {
    let (int, frac) = s.split_once('.').unwrap_or((s, ""));
    let neg = int.starts_with('-');
    let v = int.trim_start_matches('-').parse::<i128>().unwrap() * 100
        + format!("{frac:0<2}")[..2].parse::<i128>().unwrap();
    if neg {
        -v
    } else {
        v
    }
}

fn column_sum(csv: &str, col: &str) -> i128 {
    let mut lines = csv.lines();
    let head: Vec<&str> = lines.next().unwrap().split(',').collect();
    let i = head.iter().position(|h| *h == col).unwrap();
    lines.map(|l| minor(l.split(',').nth(i).unwrap())).sum()
}

#[test]
fn dsr_lines_rebuilt_as_parquet_and_queried_tie_to_the_ledger() {
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path().join("label");
    let files = tmp.path().join("files");
    let f = files.to_str().unwrap();
    let out = ok(
        &d,
        &[
            "lines",
            "gen",
            "--out",
            f,
            "--lines",
            "3000",
            "--skus",
            "300",
            "--distributors",
            "2",
            "--months",
            "2",
            "--territories",
            "6",
            "--per-file",
            "1000",
        ],
    );
    assert!(out.contains("DSR files (3000 sales records)"), "{out}");
    ok(&d, &["init"]);
    import_reference(&d, f);
    for dist in ["dist0", "dist1"] {
        let out = ok(
            &d,
            &["import", &format!("{f}/dsr/{dist}"), "--distributor", dist],
        );
        // Built with the feature, the import writes the lines of what it recorded.
        assert!(
            out.contains("Lines: 1500 statement lines of 2 files written as Parquet"),
            "{out}"
        );
    }
    let jan = d.join("lines/label=default/distributor=dist0/period=2016-01");
    assert_eq!(std::fs::read_dir(jan).unwrap().count(), 1);
    let rebuilt = ok(&d, &["lines", "rebuild"]);
    assert!(rebuilt.contains("Wrote 3000 lines from"), "{rebuilt}");
    assert!(
        rebuilt.contains("add up to the statements recorded"),
        "{rebuilt}"
    );
    assert!(d
        .join("lines/label=default/distributor=dist1/period=2016-02")
        .is_dir());

    let text = ok(
        &d,
        &[
            "lines",
            "query",
            "--period",
            "2016H1",
            "--by",
            "isrc,territory,month",
        ],
    );
    assert!(
        text.contains("every total equals the exact integer sum"),
        "{text}"
    );
    assert!(text.lines().next().unwrap().contains("isrc"), "{text}");

    // Per ISRC × territory × month, and per distributor: the same money in all.
    let fine = ok(
        &d,
        &[
            "lines",
            "query",
            "--period",
            "2016H1",
            "--by",
            "isrc,territory,month",
            "--format",
            "csv",
        ],
    );
    let coarse = ok(
        &d,
        &[
            "lines",
            "query",
            "--period",
            "2016H1",
            "--by",
            "distributor",
            "--format",
            "csv",
        ],
    );
    assert_eq!(column_sum(&fine, "amount"), column_sum(&coarse, "amount"));
    // …and the ledger's receivables from the same statements: the DSR sales are the
    // statements' only lines, so their sum is the statements' gross.
    let json = ok(
        &d,
        &[
            "lines",
            "query",
            "--period",
            "2016-01",
            "--by",
            "distributor",
            "--format",
            "json",
        ],
    );
    let v: serde_json::Value = serde_json::from_str(&json).unwrap();
    let rows = v["rows"].as_array().unwrap();
    assert_eq!(rows.len(), 2, "{json}");
    assert!(rows
        .iter()
        .all(|r| r["amount"].as_str().unwrap().contains('.')));

    // A payee's SKUs only.
    let payee = ok(
        &d,
        &[
            "lines", "query", "--period", "2016H1", "--by", "sku", "--payee", "artist-1",
            "--format", "csv",
        ],
    );
    for row in payee.lines().skip(1) {
        let sku = row.split(',').next().unwrap();
        let n: u32 = sku.trim_start_matches("GEN-").parse().unwrap();
        assert_eq!(n % 10_000, 1, "{row}");
    }

    // Rebuilding again changes nothing.
    let again = ok(&d, &["lines", "rebuild"]);
    assert_eq!(again, rebuilt);

    // A statement corrected (keyed twice): its lines stay in the parts, and every
    // answer leaves them out as the ledger leaves the statement out.
    let journal = ok(&d, &["journal", "--format", "csv", "--kind", "statement"]);
    let jan0 = journal
        .split(|c: char| c == ',' || c == '"' || c.is_whitespace())
        .find(|t| t.starts_with("statement:dist0:dsr-") && t.contains("201601"))
        .unwrap_or_else(|| panic!("dist0's January statement in {journal}"))
        .to_string();
    let by_distributor = |period: &str| {
        ok(
            &d,
            &[
                "lines",
                "query",
                "--period",
                period,
                "--by",
                "distributor",
                "--format",
                "csv",
            ],
        )
    };
    let jan = by_distributor("2016-01");
    let amount_at = jan
        .lines()
        .next()
        .unwrap()
        .split(',')
        .position(|h| h == "amount")
        .unwrap();
    let dist0_jan: i128 = jan
        .lines()
        .filter(|l| l.starts_with("dist0,"))
        .map(|l| minor(l.split(',').nth(amount_at).unwrap()))
        .sum();
    assert!(dist0_jan > 0, "{jan}");
    ok(&d, &["correct", &jan0, "--reason", "keyed twice"]);
    let after = by_distributor("2016-01");
    assert!(!after.lines().any(|l| l.starts_with("dist0,")), "{after}");
    assert_eq!(
        column_sum(&by_distributor("2016H1"), "amount"),
        column_sum(&coarse, "amount") - dist0_jan
    );
    assert_eq!(ok(&d, &["lines", "rebuild"]), rebuilt);

    // Refusals name what was expected.
    let e = fail(&d, &["lines", "query", "--period", "2016-13"], 3);
    assert!(e.contains("--period"), "{e}");
    let e = fail(
        &d,
        &["lines", "query", "--period", "2016H1", "--by", "country"],
        3,
    );
    assert!(e.contains("expected a comma-separated list of isrc"), "{e}");
    let e = fail(
        &d,
        &["lines", "query", "--period", "2016H1", "--payee", "nobody"],
        3,
    );
    assert!(e.contains("no royalty contract"), "{e}");
    let e = fail(
        &d,
        &[
            "lines",
            "query",
            "--period",
            "2016H1",
            "--engine",
            "spark://127.0.0.1:7077",
        ],
        3,
    );
    assert!(
        e.contains("expected `local` or `ballista://HOST:PORT`"),
        "{e}"
    );
    if !cfg!(feature = "ballista") {
        let e = fail(
            &d,
            &[
                "lines",
                "query",
                "--period",
                "2016H1",
                "--engine",
                "ballista://127.0.0.1:50050",
            ],
            3,
        );
        assert!(e.contains("built without Ballista"), "{e}");
    }
    let e = fail(&d, &["lines", "rebuild", "--out", "s3://bucket/lines"], 3);
    assert!(e.contains("not supported yet"), "{e}");
}

/// A served label: uploads and imports with `--label` write its lines under
/// `labels/SLUG/lines`, and the Sales lines page and `/api/v1/t/SLUG/lines` answer what
/// `lines query` answers; an artist sees only the releases they are paid on.
#[test]
fn the_sales_lines_page_and_api_answer_as_the_cli_and_keep_artists_to_their_own() {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path().join("served");
    let files = tmp.path().join("files");
    let f = files.to_str().unwrap();
    let user = |args: &[&str]| {
        let o = std::process::Command::new(env!("CARGO_BIN_EXE_backstock"))
            .env_remove("BACKSTOCK_DATA")
            .env_remove("BACKSTOCK_LABEL")
            .env("BACKSTOCK_PASSWORD", "a long enough password")
            .arg("--data-dir")
            .arg(&root)
            .arg("user")
            .args(args)
            .output()
            .unwrap();
        assert!(
            o.status.success(),
            "{args:?}: {}",
            String::from_utf8_lossy(&o.stderr)
        );
        String::from_utf8(o.stdout).unwrap()
    };
    user(&[
        "add",
        "owner@hp.test",
        "--label",
        "hp",
        "--create-label",
        "Hollow Pine",
        "--role",
        "owner",
    ]);
    ok(
        &tmp.path().join("gen"),
        &[
            "lines",
            "gen",
            "--out",
            f,
            "--lines",
            "1200",
            "--skus",
            "200",
            "--distributors",
            "2",
            "--months",
            "2",
            "--territories",
            "4",
        ],
    );
    let label = |args: &[&str]| {
        let mut all = vec!["--label", "hp"];
        all.extend_from_slice(args);
        ok(&root, &all)
    };
    label(&[
        "import",
        &format!("{f}/catalog.csv"),
        &format!("{f}/distributors.csv"),
        &format!("{f}/payees.csv"),
        &format!("{f}/contracts.csv"),
    ]);
    let out = label(&[
        "import",
        &format!("{f}/dsr/dist0"),
        "--distributor",
        "dist0",
    ]);
    assert!(out.contains("written as Parquet"), "{out}");
    assert!(root
        .join("labels/hp/lines/label=hp/distributor=dist0/period=2016-01")
        .is_dir());
    user(&[
        "add",
        "artist@hp.test",
        "--label",
        "hp",
        "--role",
        "artist",
        "--party",
        "artist-1",
    ]);
    let owner = user(&["token", "owner@hp.test", "--name", "t"])
        .trim()
        .to_string();
    let artist = user(&["token", "artist@hp.test", "--name", "t"])
        .trim()
        .to_string();
    let (_server, addr) = serve(&root);
    let get = |token: &str, path: &str| {
        let (status, _, body) = http(
            &addr,
            "GET",
            path,
            &[format!("Authorization: Bearer {token}")],
            "",
        );
        (status, body)
    };

    // dist1's files come in through the API's upload, which writes their lines too.
    let post = |token: &str, path: &str, ctype: &str, body: &str| {
        let (status, _, body) = http(
            &addr,
            "POST",
            path,
            &[
                format!("Authorization: Bearer {token}"),
                format!("Content-Type: {ctype}"),
            ],
            body,
        );
        (status, body)
    };
    let mut dsr: Vec<_> = std::fs::read_dir(files.join("dsr/dist1"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    dsr.sort();
    assert!(!dsr.is_empty());
    for path in &dsr {
        let name = path.file_name().unwrap().to_str().unwrap();
        let content = std::fs::read_to_string(path).unwrap();
        let b = "----backstock-test-boundary";
        let body = format!(
            "--{b}\r\nContent-Disposition: form-data; name=\"distributor\"\r\n\r\ndist1\r\n--{b}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"{name}\"\r\nContent-Type: text/plain\r\n\r\n{content}\r\n--{b}--\r\n"
        );
        let (status, preview) = post(
            &owner,
            "/api/v1/t/hp/imports",
            &format!("multipart/form-data; boundary={b}"),
            &body,
        );
        assert_eq!(status, 200, "{preview}");
        let v: serde_json::Value = serde_json::from_str(&preview).unwrap();
        let id = v["upload_id"].as_str().expect("an upload id").to_string();
        let (status, done) = post(
            &owner,
            &format!("/api/v1/t/hp/imports/{id}/confirm"),
            "application/json",
            "",
        );
        assert_eq!(status, 200, "{done}");
        assert!(
            done.contains("written as Parquet for the Sales lines page"),
            "{done}"
        );
    }
    assert!(root
        .join("labels/hp/lines/label=hp/distributor=dist1/period=2016-02")
        .is_dir());

    // The API gives the CLI's rows (same groups, same exact amounts).
    let (status, body) = get(
        &owner,
        "/api/v1/t/hp/lines?period=2016H1&by=distributor,territory",
    );
    assert_eq!(status, 200, "{body}");
    let api: serde_json::Value = serde_json::from_str(&body).unwrap();
    let cli: serde_json::Value = serde_json::from_str(&label(&[
        "lines",
        "query",
        "--period",
        "2016H1",
        "--by",
        "distributor,territory",
        "--format",
        "json",
    ]))
    .unwrap();
    let key = |r: &serde_json::Value| {
        format!(
            "{}|{}|{}|{}|{}",
            r["distributor"], r["territory"], r["currency"], r["lines"], r["amount"]
        )
    };
    let mut a: Vec<String> = api["rows"].as_array().unwrap().iter().map(key).collect();
    let mut c: Vec<String> = cli["rows"].as_array().unwrap().iter().map(key).collect();
    a.sort();
    c.sort();
    assert!(!a.is_empty());
    assert_eq!(a, c);
    assert_eq!(api["groups"].as_u64().unwrap() as usize, c.len());
    assert_eq!(
        api["months_on_file"],
        serde_json::json!(["2016-01", "2016-02"])
    );
    // A page at a time, nothing lost or repeated.
    let mut paged = Vec::new();
    let mut cursor = String::new();
    loop {
        let (status, body) = get(
            &owner,
            &format!("/api/v1/t/hp/lines?period=2016H1&by=distributor,territory&limit=3{cursor}"),
        );
        assert_eq!(status, 200, "{body}");
        let v: serde_json::Value = serde_json::from_str(&body).unwrap();
        paged.extend(v["rows"].as_array().unwrap().iter().map(key));
        match v["next"].as_str() {
            Some(n) => cursor = format!("&cursor={n}"),
            None => break,
        }
    }
    paged.sort();
    assert_eq!(paged, c);

    // The page: a chart and the table, in the label's words; CSV has every group.
    let (status, page) = get(&owner, "/t/hp/lines?period=2016H1&by=territory&then=month");
    assert_eq!(status, 200, "{page}");
    assert!(page.contains("Earnings by territory"), "{page}");
    assert!(page.contains("<svg id=\"lines-chart-"), "{page}");
    assert!(page.contains("checked against an exact sum"), "{page}");
    assert!(page.contains("id=\"nav-lines\""), "{page}");
    let (status, csv) = get(&owner, "/t/hp/lines?period=2016H1&by=territory&format=csv");
    assert_eq!(status, 200, "{csv}");
    let cli_csv = label(&[
        "lines",
        "query",
        "--period",
        "2016H1",
        "--by",
        "territory",
        "--format",
        "csv",
    ]);
    assert_eq!(csv.lines().count(), cli_csv.lines().count(), "{csv}");
    assert!(csv.lines().count() > 2, "{csv}");
    let (status, page) = get(&owner, "/t/hp/lines?period=2016H7");
    assert_eq!(status, 400, "{page}");
    assert!(page.contains("period"), "{page}");
    let (status, body) = get(&owner, "/api/v1/t/hp/lines?period=2016H1&by=country");
    assert_eq!(status, 400, "{body}");
    assert!(body.contains("expected a comma-separated list"), "{body}");

    // An artist: only the SKUs on their contracts; another payee's are not found.
    let (status, body) = get(&artist, "/api/v1/t/hp/lines?period=2016H1&by=sku");
    assert_eq!(status, 200, "{body}");
    let v: serde_json::Value = serde_json::from_str(&body).unwrap();
    let rows = v["rows"].as_array().unwrap();
    assert!(!rows.is_empty(), "{body}");
    let cli_payee = label(&[
        "lines", "query", "--period", "2016H1", "--by", "sku", "--payee", "artist-1", "--format",
        "json",
    ]);
    let cli_payee: serde_json::Value = serde_json::from_str(&cli_payee).unwrap();
    assert_eq!(rows.len(), cli_payee["rows"].as_array().unwrap().len());
    assert_eq!(v["payee"], "artist-1");
    let (status, _) = get(&artist, "/api/v1/t/hp/lines?period=2016H1&payee=artist-2");
    assert_eq!(status, 404);
    let (status, page) = get(&artist, "/t/hp/lines?period=2016H1&by=service");
    assert_eq!(status, 200, "{page}");
    assert!(!page.contains("every line of the label"), "{page}");
}
