//! `backstock serve --demo` and `backstock user …` as a user runs them: the real binary,
//! a random port, plain HTTP/1.1 over a socket.

mod common;

use common::{http, sign_in, start_server, Server};
use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};

fn bin() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_backstock"));
    c.env_remove("BACKSTOCK_DATA");
    c
}

#[test]
fn serve_demo_prints_its_logins_and_serves_the_dashboard() {
    let tmp = tempfile::tempdir().unwrap();
    let (server, printed, addr) = start_server(&[
        "--data-dir",
        tmp.path().to_str().unwrap(),
        "serve",
        "--demo",
        "--addr",
        "127.0.0.1:0",
        "--demo-password",
        "a demo password",
    ]);
    assert!(printed.contains("owner@marigold.test"), "{printed}");
    assert!(printed.contains("distributor@marigold.test") && printed.contains("(northwind)"));
    assert!(printed.contains("a demo password"));
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
        body.contains("id=\"exposure-chart\"") && body.contains("cascade"),
        "{body}"
    );
    assert!(body.contains("level-critical"), "Cascade ends critical");
    // What to do next, before anyone presses Ship: the hold, then the steps in order.
    assert!(
        body.contains("id=\"hold-cascade\"") && body.contains("are on credit hold"),
        "{body}"
    );
    let steps: Vec<&str> = body
        .split("data-step=\"")
        .skip(1)
        .map(|s| s.split('"').next().unwrap())
        .collect();
    assert_eq!(steps.first(), Some(&"stop_shipping"), "{steps:?}");
    assert!(
        steps.contains(&"follow_up_demand") && steps.last() == Some(&"claim_pack"),
        "{steps:?}"
    );
    // The alert log as the data showed it: cascade at watch and alert in 2014; an
    // as-of page shows only what was known then.
    let (_, _, api) = http(
        &addr,
        "GET",
        "/api/v1/t/marigold/dashboard?as_of=2014-12-31",
        &[format!("Cookie: {cookie}")],
        "",
    );
    let v: serde_json::Value = serde_json::from_str(&api).unwrap();
    let alerts = v["alerts"].as_array().unwrap();
    assert!(!alerts.is_empty(), "{api}");
    assert!(
        alerts
            .iter()
            .all(|a| a["as_of"].as_str().unwrap() <= "2014-12-31"),
        "{api}"
    );
    assert!(
        alerts
            .iter()
            .any(|a| a["distributor"] == "cascade" && a["to"] == "alert"),
        "{api}"
    );
    // An unknown table is an error naming the page's tables, never another table.
    let (status, _, body) = http(
        &addr,
        "GET",
        "/t/marigold/dashboard?format=csv&table=agein",
        &[format!("Cookie: {cookie}")],
        "",
    );
    assert_eq!(status, 400, "{body}");
    assert!(body.contains("ageing"), "{body}");
    drop(server);

    // Users from the command line: the demo data dir has the control database.
    let user = |args: &[&str]| {
        let o = bin()
            .arg("--data-dir")
            .arg(tmp.path())
            .arg("user")
            .args(args)
            .env("BACKSTOCK_PASSWORD", "another long password")
            .output()
            .unwrap();
        (
            o.status.code(),
            String::from_utf8_lossy(&o.stdout).to_string() + &String::from_utf8_lossy(&o.stderr),
        )
    };
    let (code, out) = user(&[
        "add",
        "ann@marigold.test",
        "--label",
        "marigold",
        "--role",
        "bookkeeper",
    ]);
    assert_eq!(code, Some(0), "{out}");
    assert!(
        out.contains("ann@marigold.test is bookkeeper of marigold"),
        "{out}"
    );
    let (code, out) = user(&[
        "add",
        "bob@marigold.test",
        "--label",
        "marigold",
        "--role",
        "artist",
    ]);
    assert_eq!(code, Some(3), "an artist needs --party: {out}");
    let (code, out) = user(&[
        "role",
        "ann@marigold.test",
        "--label",
        "marigold",
        "--role",
        "staff",
    ]);
    assert_eq!(code, Some(0), "{out}");
    assert!(out.contains("now staff") && out.contains("was bookkeeper"));
    let (_, out) = user(&["list", "--label", "marigold"]);
    assert!(
        out.contains("ann@marigold.test") && out.contains("staff"),
        "{out}"
    );
    let (code, out) = user(&[
        "add",
        "new@else.test",
        "--label",
        "else",
        "--create-label",
        "Else Records",
        "--role",
        "owner",
    ]);
    assert_eq!(code, Some(0), "{out}");
    let (_, token) = user(&["token", "ann@marigold.test", "--name", "ci"]);
    let token = token.trim().to_string();
    assert!(token.starts_with("bst_"), "{token}");

    // The token works against a fresh server on the same data directory.
    let mut child = bin()
        .arg("--data-dir")
        .arg(tmp.path())
        .args(["serve", "--addr", "127.0.0.1:0"])
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let out = child.stdout.take().unwrap();
    let _server = Server(child);
    let mut addr = String::new();
    for line in BufReader::new(out).lines() {
        if let Some(rest) = line.unwrap().split("http://").nth(1) {
            addr = rest.split('/').next().unwrap().to_string();
            break;
        }
    }
    let (status, _, body) = http(
        &addr,
        "GET",
        "/api/v1/me",
        &[format!("Authorization: Bearer {token}")],
        "",
    );
    assert_eq!(status, 200, "{body}");
    assert!(body.contains("\"role\":\"staff\""), "{body}");
    let (status, _, body) = http(
        &addr,
        "GET",
        "/api/v1/t/else/dashboard",
        &[format!("Authorization: Bearer {token}")],
        "",
    );
    assert_eq!(status, 404, "not ann's label: {body}");
}

/// One place for a label's data: the CLI finds a label in the data directory
/// `backstock serve` uses (`--label SLUG`), and never creates a second database there.
#[test]
fn cli_commands_find_the_label_under_a_served_data_dir() {
    let tmp = tempfile::tempdir().unwrap();
    let cmd = |args: &[&str]| {
        let o = bin()
            .arg("--data-dir")
            .arg(tmp.path())
            .args(args)
            .env("BACKSTOCK_PASSWORD", "a long enough password")
            .env_remove("BACKSTOCK_LABEL")
            .output()
            .unwrap();
        (
            o.status.code(),
            String::from_utf8_lossy(&o.stdout).to_string() + &String::from_utf8_lossy(&o.stderr),
        )
    };
    let (code, out) = cmd(&[
        "user",
        "add",
        "owner@hollowpine.test",
        "--label",
        "hollow-pine",
        "--create-label",
        "Hollow Pine",
        "--role",
        "owner",
    ]);
    assert_eq!(code, Some(0), "{out}");
    let catalog = tmp.path().join("catalog.csv");
    std::fs::write(
        &catalog,
        "sku,upc,title,artist,format,release_date,list_price,wholesale_price,unit_cost,currency\n\
HP-001-CD,859712000019,First Light,Hollow Pine,CD,2020-01-15,15.98,8.00,1.10,USD\n",
    )
    .unwrap();
    let cat = catalog.to_str().unwrap();
    // Without --label: the error names the labels there, and nothing is created.
    let (code, out) = cmd(&["import", cat]);
    assert_eq!(code, Some(3), "{out}");
    assert!(
        out.contains("data directory of `backstock serve`")
            && out.contains("labels found: hollow-pine")
            && out.contains("--label SLUG"),
        "{out}"
    );
    let (code, out) = cmd(&["init"]);
    assert_eq!(code, Some(3), "{out}");
    assert!(!tmp.path().join("backstock.db").exists());
    // A label that is not there is named with the ones that are.
    let (code, out) = cmd(&["--label", "hollowpine", "stock"]);
    assert_eq!(code, Some(3), "{out}");
    assert!(
        out.contains("no such label") && out.contains("hollow-pine"),
        "{out}"
    );
    // With --label the CLI works on the database the web app reads.
    let (code, out) = cmd(&["--label", "hollow-pine", "import", cat]);
    assert_eq!(code, Some(0), "{out}");
    let (code, out) = cmd(&["--label", "hollow-pine", "journal", "--format", "csv"]);
    assert_eq!(code, Some(0), "{out}");
    assert!(out.contains("catalog_item"), "{out}");
    assert!(tmp.path().join("labels/hollow-pine/backstock.db").exists());
    // Its labels folder given as the data directory: the error says which directory
    // and label to give, and `init` there makes no second database.
    let labels = tmp.path().join("labels");
    let at_labels = |args: &[&str]| {
        let o = bin()
            .arg("--data-dir")
            .arg(&labels)
            .args(args)
            .env_remove("BACKSTOCK_LABEL")
            .output()
            .unwrap();
        (
            o.status.code(),
            String::from_utf8_lossy(&o.stdout).to_string() + &String::from_utf8_lossy(&o.stderr),
        )
    };
    for args in [&["stock"][..], &["init"][..]] {
        let (code, out) = at_labels(args);
        assert_eq!(code, Some(3), "{out}");
        assert!(
            out.contains("is the labels folder of the data directory `backstock serve` uses")
                && out.contains(&format!("--data-dir {} --label SLUG", tmp.path().display()))
                && out.contains("labels found: hollow-pine"),
            "{out}"
        );
    }
    assert!(!labels.join("backstock.db").exists());
}
