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
    let e = fail(&d, &["lines", "rebuild", "--out", "gs://bucket/lines"], 3);
    assert!(
        e.contains("gs:// is not a place backstock keeps lines; give a directory, file:///path or s3://BUCKET/PREFIX"),
        "{e}"
    );
    let e = fail(&d, &["lines", "rebuild", "--out", "s3://Bucket/lines"], 3);
    assert!(e.contains("bucket name of 3-63 lowercase letters"), "{e}");
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
    let user = |args: &[&str]| user_of(&root, args);
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
    let mut dsr: Vec<_> = std::fs::read_dir(files.join("dsr/dist1"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    dsr.sort();
    assert!(!dsr.is_empty());
    for path in &dsr {
        upload_dsr(&addr, &owner, "hp", "dist1", path);
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

/// `backstock --data-dir ROOT user ARGS…` (a served root's users), with the password
/// a new user is given; its standard output.
fn user_of(root: &std::path::Path, args: &[&str]) -> String {
    let o = std::process::Command::new(env!("CARGO_BIN_EXE_backstock"))
        .env_remove("BACKSTOCK_DATA")
        .env_remove("BACKSTOCK_LABEL")
        .env("BACKSTOCK_PASSWORD", "a long enough password")
        .arg("--data-dir")
        .arg(root)
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
}
/// Uploads a DSR file of `dist` through the API (preview, then confirm) as `token`;
/// the confirmation must say its lines were written.
fn upload_dsr(addr: &str, token: &str, slug: &str, dist: &str, path: &std::path::Path) {
    let post = |path: &str, ctype: &str, body: &str| {
        let (status, _, body) = http(
            addr,
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
    let name = path.file_name().unwrap().to_str().unwrap();
    let content = std::fs::read_to_string(path).unwrap();
    let b = "----backstock-test-boundary";
    let body = format!(
        "--{b}\r\nContent-Disposition: form-data; name=\"distributor\"\r\n\r\n{dist}\r\n--{b}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"{name}\"\r\nContent-Type: text/plain\r\n\r\n{content}\r\n--{b}--\r\n"
    );
    let (status, preview) = post(
        &format!("/api/v1/t/{slug}/imports"),
        &format!("multipart/form-data; boundary={b}"),
        &body,
    );
    assert_eq!(status, 200, "{preview}");
    let v: serde_json::Value = serde_json::from_str(&preview).unwrap();
    let id = v["upload_id"].as_str().expect("an upload id").to_string();
    let (status, done) = post(
        &format!("/api/v1/t/{slug}/imports/{id}/confirm"),
        "application/json",
        "",
    );
    assert_eq!(status, 200, "{done}");
    assert!(
        done.contains("written as Parquet for the Sales lines page"),
        "{done}"
    );
}

/// Generated DSR sales (2 distributors × January and February 2016, 6 territories × 3
/// services) imported into a fresh label, with their lines as Parquet.
fn label_with_dsr_lines(tmp: &std::path::Path) -> (std::path::PathBuf, std::path::PathBuf) {
    label_with_dsr_lines_imported(tmp, ok)
}

/// The generated label of [`label_with_dsr_lines`] (3,000 DSR lines of 2 distributors
/// over 2 months), each distributor's files imported by `import` (given the data
/// directory and the arguments), which answers with the import's report.
fn label_with_dsr_lines_imported(
    tmp: &std::path::Path,
    import: impl Fn(&std::path::Path, &[&str]) -> String,
) -> (std::path::PathBuf, std::path::PathBuf) {
    let d = tmp.join("label");
    let files = tmp.join("files");
    let f = files.to_str().unwrap();
    ok(
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
    ok(&d, &["init"]);
    import_reference(&d, f);
    for dist in ["dist0", "dist1"] {
        let out = import(
            &d,
            &["import", &format!("{f}/dsr/{dist}"), "--distributor", dist],
        );
        assert!(
            out.contains("Lines: 1500 statement lines of 2 files written as Parquet under "),
            "{out}"
        );
    }
    (d, files)
}

/// The generated contracts.csv's row of a contract: (header, row cells).
fn contract_row(files: &std::path::Path, id: &str) -> (String, Vec<String>) {
    let text = std::fs::read_to_string(files.join("contracts.csv")).unwrap();
    let mut lines = text.lines();
    let head = lines.next().unwrap().to_string();
    let row = lines
        .find(|l| l.starts_with(&format!("{id},")))
        .unwrap_or_else(|| panic!("{id} in {text}"));
    (head, row.split(',').map(str::to_string).collect())
}

/// Imports new versions (effective 2016-01-01) of contracts: (id, payees, rates).
fn new_versions(d: &std::path::Path, files: &std::path::Path, terms: &[(&str, &str, &str)]) {
    let mut csv = String::new();
    for (id, payees, rates) in terms {
        let (head, mut row) = contract_row(files, id);
        if csv.is_empty() {
            csv.push_str(&head);
            csv.push('\n');
        }
        row[1] = "2016-01-01".into();
        row[3] = payees.to_string();
        row[6] = rates.to_string();
        csv.push_str(&row.join(","));
        csv.push('\n');
    }
    let path = files.join("contracts-2016.csv");
    std::fs::write(&path, csv).unwrap();
    ok(d, &["import", path.to_str().unwrap()]);
}

/// (payee, contract, currency) → earned royalty in minor units.
type Earned = std::collections::BTreeMap<(String, String, String), i128>;

fn earned_from_lines(json: &str) -> Earned {
    let v: serde_json::Value = serde_json::from_str(json).unwrap();
    v["rows"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            (
                (
                    r["payee"].as_str().unwrap().to_string(),
                    r["contract"].as_str().unwrap().to_string(),
                    r["currency"].as_str().unwrap().to_string(),
                ),
                minor(r["royalty_earned"].as_str().unwrap()),
            )
        })
        .collect()
}

/// Issue 17.2: on contracts without rates by territory or service, the royalties
/// computed from the lines are the product's `royalties run` earned royalties for
/// every payee, to the cent — single payees and splits (of three), net receipts and net
/// profit rules, two currencies.
#[test]
fn line_level_royalties_equal_the_royalty_run_for_every_payee() {
    let tmp = tempfile::tempdir().unwrap();
    let (d, files) = label_with_dsr_lines(tmp.path());
    new_versions(
        &d,
        &files,
        &[
            ("C-1", "artist-1:60%;artist-2:40%", "*:net_receipts:17.5%"),
            (
                "C-3",
                "artist-3:33.3333%;artist-4:33.3333%;artist-5:33.3334%",
                // (not PPD: the catalog's prices are in USD, dist1's statements in EUR)
                "digital:net_receipts:9%;*:net_receipts:20%",
            ),
            ("C-6", "artist-6:70%;artist-7:30%", "*:net_profit:50%"),
        ],
    );
    let run = ok(
        &d,
        &[
            "royalties",
            "run",
            "--period",
            "2016Q1",
            "--dry-run",
            "--format",
            "json",
        ],
    );
    let v: serde_json::Value = serde_json::from_str(&run).unwrap();
    let product: Earned = v["statements"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| {
            (
                (
                    s["payee_id"].as_str().unwrap().to_string(),
                    s["contract_id"].as_str().unwrap().to_string(),
                    s["currency"].as_str().unwrap().to_string(),
                ),
                i128::from(s["royalty_earned"]["amount_minor"].as_i64().unwrap()),
            )
        })
        .collect();
    let lines = earned_from_lines(&ok(
        &d,
        &[
            "lines",
            "royalties",
            "--period",
            "2016Q1",
            "--format",
            "json",
        ],
    ));
    assert!(product.len() > 10, "{run}");
    assert!(product.values().filter(|v| **v != 0).count() > 10, "{run}");
    for key in [
        ("artist-2", "C-1"),
        ("artist-5", "C-3"),
        ("artist-7", "C-6"),
    ] {
        assert!(
            product
                .iter()
                .any(|((p, c, _), v)| (p.as_str(), c.as_str()) == key && *v != 0),
            "{key:?} earns in {run}"
        );
    }
    assert_eq!(lines, product);

    // One payee, as text and CSV.
    let text = ok(
        &d,
        &[
            "lines",
            "royalties",
            "--period",
            "2016Q1",
            "--payee",
            "artist-2",
        ],
    );
    assert!(
        text.contains("every sum equals the exact integer sum"),
        "{text}"
    );
    let csv = ok(
        &d,
        &[
            "lines",
            "royalties",
            "--period",
            "2016Q1",
            "--payee",
            "artist-2",
            "--format",
            "csv",
        ],
    );
    assert!(csv.starts_with("payee,name,contract,share,currency,lines,receipts,royalty_earned\n"));
    assert!(
        csv.lines().skip(1).all(|l| l.starts_with("artist-2,")),
        "{csv}"
    );
    assert_eq!(
        column_sum(&csv, "royalty_earned"),
        product
            .iter()
            .filter(|((p, _, _), _)| p == "artist-2")
            .map(|(_, v)| *v)
            .sum::<i128>()
    );

    // Lines missing for a statement the run accounts: refused, naming it.
    let parts = d.join("lines/label=default/distributor=dist1");
    std::fs::remove_dir_all(&parts).unwrap();
    let e = fail(&d, &["lines", "royalties", "--period", "2016Q1"], 1);
    assert!(e.contains("of dist1") && e.contains("lines rebuild"), "{e}");
    ok(&d, &["lines", "rebuild"]);
    assert_eq!(
        earned_from_lines(&ok(
            &d,
            &[
                "lines",
                "royalties",
                "--period",
                "2016Q1",
                "--format",
                "json"
            ],
        )),
        product
    );
    let e = fail(
        &d,
        &[
            "lines",
            "royalties",
            "--period",
            "2016Q1",
            "--payee",
            "nobody",
        ],
        3,
    );
    assert!(e.contains("no royalty contract"), "{e}");
}

/// Issue 17.2: rates by territory and service, computed from the lines, equal a simple
/// reference computed here from `lines query` totals per statement (distributor ×
/// month: one report each) × SKU × kind × territory × service: the most specific rule,
/// its rate applied once per statement × SKU × kind × rule (HalfEven), the royalty split
/// toward zero between the payees. `royalties run` refuses such a contract, naming it.
#[test]
fn territory_and_service_rates_from_the_lines_match_a_reference() {
    let tmp = tempfile::tempdir().unwrap();
    let (d, files) = label_with_dsr_lines(tmp.path());
    let rates = "*:net_receipts:20%;digital@US:net_receipts:25%;digital+GenStore:net_receipts:30%;digital@GB+GenStreamFree:net_receipts:5%";
    new_versions(&d, &files, &[("C-1", "artist-1:60%;artist-2:40%", rates)]);
    let shown = ok(&d, &["contract", "show", "C-1"]);
    assert!(
        shown.contains("digital@GB+GenStreamFree:net_receipts:5%"),
        "{shown}"
    );

    // The product's run does not ignore them: it refuses, naming the contract.
    let e = fail(
        &d,
        &["royalties", "run", "--period", "2016Q1", "--dry-run"],
        4,
    );
    assert!(
        e.contains("contract C-1 has a rate by territory or service")
            && e.contains("backstock lines royalties"),
        "{e}"
    );

    // The reference.
    let (_, row) = contract_row(&files, "C-1");
    let skus: std::collections::BTreeSet<&str> = row[4].split(';').collect();
    let q = ok(
        &d,
        &[
            "lines",
            "query",
            "--period",
            "2016Q1",
            "--by",
            "distributor,month,sku,kind,territory,service",
            "--format",
            "csv",
        ],
    );
    // (territory, service, rate in ppm), in the order listed; specificity = fields set.
    let rules: [(Option<&str>, Option<&str>, i128); 4] = [
        (None, None, 200_000),
        (Some("US"), None, 250_000),
        (None, Some("GenStore"), 300_000),
        (Some("GB"), Some("GenStreamFree"), 50_000),
    ];
    let rule_of = |t: &str, s: &str| {
        let mut best: Option<(usize, usize)> = None;
        for (i, (rt, rs, _)) in rules.iter().enumerate() {
            let fits = rt.is_none_or(|x| x == t) && rs.is_none_or(|x| x == s);
            // digital counts one for every rule with a territory or service
            let spec = usize::from(rt.is_some() || rs.is_some())
                + usize::from(rt.is_some())
                + usize::from(rs.is_some());
            if fits && best.is_none_or(|(_, b)| spec > b) {
                best = Some((i, spec));
            }
        }
        best.unwrap().0
    };
    let half_even = |n: i128, d: i128| {
        let (q, r) = (n.div_euclid(d), n.rem_euclid(d));
        match (2 * r).cmp(&d) {
            std::cmp::Ordering::Less => q,
            std::cmp::Ordering::Greater => q + 1,
            std::cmp::Ordering::Equal => q + (q & 1),
        }
    };
    let mut head = q.lines().next().unwrap().split(',');
    let at = |c: &str| {
        q.lines()
            .next()
            .unwrap()
            .split(',')
            .position(|h| h == c)
            .unwrap()
    };
    assert_eq!(head.next(), Some("distributor"));
    let (sku_at, kind_at, t_at, s_at, amount_at) = (
        at("sku"),
        at("kind"),
        at("territory"),
        at("service"),
        at("amount"),
    );
    // (distributor, month, sku, kind, rule) → signed amount
    let mut groups: std::collections::BTreeMap<(String, String, String, String, usize), i128> =
        Default::default();
    let mut flat = 0i128;
    for l in q.lines().skip(1) {
        let c: Vec<&str> = l.split(',').collect();
        if !skus.contains(c[sku_at]) {
            continue;
        }
        let sign = match c[kind_at] {
            "sale" | "adjustment" => 1,
            "return" | "fee" | "chargeback" => -1,
            other => panic!("kind {other}"),
        };
        let amount = sign * minor(c[amount_at]);
        let rule = rule_of(c[t_at], c[s_at]);
        *groups
            .entry((
                c[0].to_string(),
                c[1].to_string(),
                c[sku_at].to_string(),
                c[kind_at].to_string(),
                rule,
            ))
            .or_default() += amount;
        flat += amount;
    }
    // Per currency (dist0 reports in USD, dist1 in EUR): (artist-1, artist-2).
    let mut want: std::collections::BTreeMap<&str, (i128, i128)> = Default::default();
    let mut rules_used = std::collections::BTreeSet::new();
    for ((dist, .., rule), amount) in &groups {
        rules_used.insert(*rule);
        let royalty = half_even(amount * rules[*rule].2, 1_000_000);
        // 60% / 40%, each toward zero; the remainder to the label.
        let a = want
            .entry(if dist == "dist0" { "USD" } else { "EUR" })
            .or_default();
        a.0 += royalty * 60 / 100;
        a.1 += royalty * 40 / 100;
    }
    assert_eq!(want.len(), 2);
    assert_eq!(rules_used.len(), 4, "every rule governs some lines");
    let lines = earned_from_lines(&ok(
        &d,
        &[
            "lines",
            "royalties",
            "--period",
            "2016Q1",
            "--format",
            "json",
        ],
    ));
    let mut got: std::collections::BTreeMap<&str, (i128, i128)> = Default::default();
    for ((p, c, cur), v) in &lines {
        if c == "C-1" {
            let a = got
                .entry(if cur == "USD" { "USD" } else { "EUR" })
                .or_default();
            if p == "artist-1" {
                a.0 = *v;
            } else {
                a.1 = *v;
            }
        }
    }
    assert_eq!(got, want);
    // The rules mattered: a flat 20% would give less.
    let all: i128 = want.values().map(|(a, b)| a + b).sum();
    assert!(all > flat / 5 + 100, "{all} vs 20% of {flat}");
}

/// An S3-compatible server for the object-store test: moto's standalone server
/// (`pip install 'moto[server]'`; `.ci/run` installs it), found by
/// `BACKSTOCK_TEST_S3_SERVER` (the path of `moto_server`) or on `PATH`.
struct S3Server {
    child: std::process::Child,
    addr: String,
}

impl Drop for S3Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn s3_server() -> Option<S3Server> {
    let exe = std::env::var("BACKSTOCK_TEST_S3_SERVER")
        .ok()
        .filter(|p| !p.is_empty())
        .or_else(|| {
            std::env::var_os("PATH").and_then(|paths| {
                std::env::split_paths(&paths)
                    .map(|d| d.join("moto_server"))
                    .find(|p| p.is_file())
                    .map(|p| p.display().to_string())
            })
        });
    let Some(exe) = exe else {
        // CI sets BACKSTOCK_TEST_S3_SERVER: there the test never passes unrun.
        assert!(
            std::env::var_os("CI_REQUIRE_S3").is_none(),
            "CI_REQUIRE_S3 is set but no moto_server was found"
        );
        eprintln!("no S3-compatible server (moto_server) found: the object-store test is not run here; .ci/run runs it");
        return None;
    };
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let child = std::process::Command::new(&exe)
        .args(["-H", "127.0.0.1", "-p", &port.to_string()])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap_or_else(|e| panic!("{exe}: {e}"));
    let server = S3Server {
        child,
        addr: format!("127.0.0.1:{port}"),
    };
    let started = std::time::Instant::now();
    while std::net::TcpStream::connect(&server.addr).is_err() {
        assert!(
            started.elapsed() < std::time::Duration::from_secs(60),
            "{exe} did not listen on {} within a minute",
            server.addr
        );
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    Some(server)
}

/// `backstock --data-dir DIR ARGS…` with the lines kept in the server's bucket.
fn on_s3(dir: &std::path::Path, s3: &S3Server, at: &str, args: &[&str]) -> std::process::Output {
    std::process::Command::new(env!("CARGO_BIN_EXE_backstock"))
        .env_remove("BACKSTOCK_DATA")
        .env("BACKSTOCK_LINES", at)
        .env("AWS_ENDPOINT", format!("http://{}", s3.addr))
        .env("AWS_ALLOW_HTTP", "true")
        .env("AWS_ACCESS_KEY_ID", "backstock-test")
        .env("AWS_SECRET_ACCESS_KEY", "backstock-test-secret")
        .env("AWS_REGION", "us-east-1")
        .arg("--data-dir")
        .arg(dir)
        .args(args)
        .output()
        .unwrap()
}

fn on_s3_ok(dir: &std::path::Path, s3: &S3Server, at: &str, args: &[&str]) -> String {
    let o = on_s3(dir, s3, at, args);
    assert!(
        o.status.success(),
        "{args:?} failed: {}",
        String::from_utf8_lossy(&o.stderr)
    );
    String::from_utf8(o.stdout).unwrap()
}

#[test]
fn lines_kept_in_an_s3_compatible_object_store_answer_as_a_directory_does() {
    let Some(s3) = s3_server() else {
        return;
    };
    // The bucket, made as an administrator would (the product writes into it).
    let (status, _, body) = http(&s3.addr, "PUT", "/label-lines", &[], "");
    assert_eq!(status, 200, "{body}");
    let at = "s3://label-lines/backstock";

    let tmp = tempfile::tempdir().unwrap();
    let (d, _) = label_with_dsr_lines_imported(tmp.path(), |d, args| {
        let out = on_s3_ok(d, &s3, at, args);
        assert!(
            out.contains("written as Parquet under s3://label-lines/backstock."),
            "{out}"
        );
        out
    });
    // Nothing was written beside the store: the lines are in the bucket only (the
    // reference files' import, without BACKSTOCK_LINES, made the directory empty).
    assert!(
        !d.join("lines").exists() || std::fs::read_dir(d.join("lines")).unwrap().next().is_none()
    );
    let (status, _, listing) = http(&s3.addr, "GET", "/label-lines?list-type=2", &[], "");
    assert_eq!(status, 200, "{listing}");
    let keys: Vec<&str> = listing
        .split("<Key>")
        .skip(1)
        .filter_map(|k| k.split("</Key>").next())
        .collect();
    assert_eq!(keys.len(), 4, "{listing}");
    for k in &keys {
        // label / distributor / period, each part named by its original's SHA-256.
        let name = k.rsplit('/').next().unwrap();
        assert!(
            k.starts_with("backstock/label=default/distributor=dist"),
            "{k}"
        );
        assert!(k.contains("/period=2016-0"), "{k}");
        assert_eq!(name.len(), "0".repeat(64).len() + ".parquet".len(), "{k}");
    }

    // The same lines in a directory (rebuilt from the kept originals): every query
    // answers the same from both, to the cent.
    let local = tmp.path().join("local-lines");
    let local = local.to_str().unwrap();
    let rebuilt = ok(&d, &["lines", "rebuild", "--out", local]);
    assert!(
        rebuilt.contains("Wrote 3000 lines from 4 originals"),
        "{rebuilt}"
    );
    for args in [
        &[
            "lines",
            "query",
            "--period",
            "2016H1",
            "--by",
            "isrc,territory,month",
            "--format",
            "csv",
        ][..],
        &[
            "lines",
            "query",
            "--period",
            "2016-02",
            "--by",
            "service,distributor",
            "--format",
            "json",
        ][..],
        &[
            "lines",
            "royalties",
            "--period",
            "2016H1",
            "--format",
            "csv",
        ][..],
    ] {
        let from_s3 = on_s3_ok(&d, &s3, at, args);
        let mut with_dir = args.to_vec();
        with_dir.extend(["--dir", local]);
        assert_eq!(from_s3, ok(&d, &with_dir), "{args:?}");
        assert!(from_s3.lines().count() > 2, "{from_s3}");
    }
    // `--dir s3://…` names the store as BACKSTOCK_LINES does; rebuilding into it writes
    // the same parts again (same names, same bytes), nothing more.
    let again = on_s3_ok(&d, &s3, "", &["lines", "rebuild", "--out", at]);
    assert!(
        again.contains("Wrote 3000 lines from 4 originals in 4 Parquet parts under s3://label-lines/backstock;"),
        "{again}"
    );
    let (_, _, listing_again) = http(&s3.addr, "GET", "/label-lines?list-type=2", &[], "");
    assert_eq!(listing_again.matches("<Key>").count(), 4);

    // Ballista's executors read parts from their own disks: refused with a sentence,
    // before anything is read (a build without Ballista refuses the engine itself).
    #[cfg(feature = "ballista")]
    {
        let o = on_s3(
            &d,
            &s3,
            at,
            &[
                "lines",
                "query",
                "--period",
                "2016H1",
                "--engine",
                "ballista://127.0.0.1:1",
            ],
        );
        assert_eq!(o.status.code(), Some(3));
        let err = String::from_utf8_lossy(&o.stderr);
        assert!(
            err.contains("in an object store: query them with --engine local"),
            "{err}"
        );
    }

    // A bucket that is not there, and a store that does not answer: said, naming the
    // place, in seconds; never a panic.
    for (place, endpoint_ok, says) in [
        (
            "s3://no-such-bucket/x",
            true,
            "the object store has no bucket \"no-such-bucket\"; make it first",
        ),
        (
            at,
            false,
            "did not answer (after 3 retries); check AWS_ENDPOINT",
        ),
    ] {
        let mut c = std::process::Command::new(env!("CARGO_BIN_EXE_backstock"));
        c.env_remove("BACKSTOCK_DATA")
            .env("BACKSTOCK_LINES", place)
            .env("AWS_ALLOW_HTTP", "true")
            .env("AWS_ACCESS_KEY_ID", "backstock-test")
            .env("AWS_SECRET_ACCESS_KEY", "backstock-test-secret")
            .env("AWS_REGION", "us-east-1");
        if endpoint_ok {
            c.env("AWS_ENDPOINT", format!("http://{}", s3.addr));
        } else {
            let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
            let port = closed.local_addr().unwrap().port();
            drop(closed);
            c.env("AWS_ENDPOINT", format!("http://127.0.0.1:{port}"));
        }
        let started = std::time::Instant::now();
        let o = c
            .arg("--data-dir")
            .arg(&d)
            .args(["lines", "query", "--period", "2016H1"])
            .output()
            .unwrap();
        let err = String::from_utf8_lossy(&o.stderr);
        assert!(!o.status.success(), "{place}: {err}");
        assert!(!err.contains("panicked"), "{err}");
        assert!(err.contains(place.trim_end_matches('/')), "{place}: {err}");
        assert!(err.contains(says), "{place}: {err}");
        assert!(
            started.elapsed() < std::time::Duration::from_secs(60),
            "{place}: {:?}",
            started.elapsed()
        );
    }

    // A served label with the same place: the CLI's import and the API's upload both
    // write into the bucket (under label=hp/), and the Sales lines API answers from it
    // as `lines query` does.
    let root = tmp.path().join("served");
    let user = |args: &[&str]| user_of(&root, args);
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
    let token = user(&["token", "owner@hp.test", "--name", "t"])
        .trim()
        .to_string();
    let files = tmp.path().join("files");
    let f = files.to_str().unwrap();
    let mut reference = vec!["--label", "hp", "import"];
    let named: Vec<String> = ["catalog", "distributors", "payees", "contracts"]
        .iter()
        .map(|n| format!("{f}/{n}.csv"))
        .collect();
    reference.extend(named.iter().map(String::as_str));
    on_s3_ok(&root, &s3, at, &reference);
    let out = on_s3_ok(
        &root,
        &s3,
        at,
        &[
            "--label",
            "hp",
            "import",
            &format!("{f}/dsr/dist0"),
            "--distributor",
            "dist0",
        ],
    );
    assert!(
        out.contains("written as Parquet under s3://label-lines/backstock."),
        "{out}"
    );
    let env: Vec<(&str, String)> = vec![
        ("BACKSTOCK_LINES", at.to_string()),
        ("AWS_ENDPOINT", format!("http://{}", s3.addr)),
        ("AWS_ALLOW_HTTP", "true".into()),
        ("AWS_ACCESS_KEY_ID", "backstock-test".into()),
        ("AWS_SECRET_ACCESS_KEY", "backstock-test-secret".into()),
        ("AWS_REGION", "us-east-1".into()),
    ];
    let (_server, addr) = common::serve_with(&root, &env);
    let mut dsr: Vec<_> = std::fs::read_dir(files.join("dsr/dist1"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    dsr.sort();
    for path in &dsr {
        upload_dsr(&addr, &token, "hp", "dist1", path);
    }
    assert!(!root.join("labels/hp/lines/label=hp").exists());
    let (_, _, listing) = http(
        &s3.addr,
        "GET",
        "/label-lines?list-type=2&prefix=backstock/label=hp/",
        &[],
        "",
    );
    assert_eq!(listing.matches("<Key>").count(), 4, "{listing}");
    let (status, _, body) = http(
        &addr,
        "GET",
        "/api/v1/t/hp/lines?period=2016H1&by=distributor,territory&limit=1000",
        &[format!("Authorization: Bearer {token}")],
        "",
    );
    assert_eq!(status, 200, "{body}");
    let api: serde_json::Value = serde_json::from_str(&body).unwrap();
    let cli: serde_json::Value = serde_json::from_str(&on_s3_ok(
        &root,
        &s3,
        at,
        &[
            "--label",
            "hp",
            "lines",
            "query",
            "--period",
            "2016H1",
            "--by",
            "distributor,territory",
            "--format",
            "json",
        ],
    ))
    .unwrap();
    assert_eq!(api["rows"], cli["rows"]);
    assert_eq!(api["rows"].as_array().unwrap().len(), 12, "{body}");
}
