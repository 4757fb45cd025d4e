//! Driving the real binary from the CLI tests: run it on a data directory, expect
//! success, or a refusal that records nothing.

#![allow(dead_code)]

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};

/// A demo-label SKU priced only in EUR (the demo's agreements are in USD)…
pub const EUR_PRICED_CATALOG: &str =
    "sku,upc,title,artist,format,release_date,list_price,wholesale_price,unit_cost,currency\n\
MRG-099-CD,,Euro Pressing,The Band,CD,2016-01-01,14.00,7.00,1.00,EUR\n";
/// … 50 of it made, 40 consigned to northwind on 2016-06-02.
pub const EUR_PRICED_SHIPMENTS: &str = "shipment_id,date,from,to,sku,units,po_number\n\
RUN-EUR,2016-06-01,plant:optimal,label,MRG-099-CD,50,\n\
SH-EUR,2016-06-02,label,northwind,MRG-099-CD,40,\n";

/// `backstock --data-dir DIR ARGS…`, with `$BACKSTOCK_DATA` unset.
pub fn run(dir: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_backstock"))
        .env_remove("BACKSTOCK_DATA")
        .env_remove("BACKSTOCK_LINES")
        .arg("--data-dir")
        .arg(dir)
        .args(args)
        .output()
        .unwrap()
}

/// Its standard output; fails the test (with the error) when it did not succeed.
pub fn ok(dir: &Path, args: &[&str]) -> String {
    let o = run(dir, args);
    assert!(
        o.status.success(),
        "{args:?} failed: {}",
        String::from_utf8_lossy(&o.stderr)
    );
    String::from_utf8(o.stdout).unwrap()
}

/// The standard error of a command that must fail with exit status `code` (and never
/// panic); fails the test otherwise.
pub fn fail(dir: &Path, args: &[&str], code: i32) -> String {
    let o = run(dir, args);
    assert_eq!(
        o.status.code(),
        Some(code),
        "{args:?}: {}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    );
    let err = String::from_utf8(o.stderr).unwrap();
    assert!(!err.contains("panicked"), "{err}");
    err
}

/// Writes `content` to `dir/name` and returns the path as a string.
pub fn write(dir: &Path, name: &str, content: &str) -> String {
    let p = dir.join(name);
    std::fs::write(&p, content).unwrap();
    p.to_string_lossy().to_string()
}

/// How many entries the journal holds.
pub fn journal_len(dir: &Path) -> usize {
    // One row per transfer: count the entries (the first column).
    let csv = ok(dir, &["journal", "--format", "csv"]);
    let mut seqs: Vec<&str> = csv
        .lines()
        .map(|l| l.split(',').next().unwrap_or(""))
        .collect();
    seqs.dedup();
    seqs.len()
}

/// Runs a command that must fail with `code`, say `says`, and record nothing.
pub fn refused(dir: &Path, args: &[&str], code: i32, says: &str) -> String {
    let before = journal_len(dir);
    let o = run(dir, args);
    let err = String::from_utf8_lossy(&o.stderr).into_owned();
    assert_eq!(o.status.code(), Some(code), "{args:?}: {err}");
    assert!(err.contains(says), "{args:?}: {err}");
    assert_eq!(before, journal_len(dir), "nothing recorded by {args:?}");
    err
}

/// A fresh demo label in a temporary directory.
pub fn demo() -> (tempfile::TempDir, PathBuf) {
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path().join("demo");
    ok(&d, &["demo"]);
    (tmp, d)
}

/// Kills the server when the test ends, passing or not.
pub struct Server(pub Child);

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Starts `backstock ARGS…` (a `serve` command with `--addr 127.0.0.1:0`): the server
/// (killed when the test ends), everything it printed up to the line with its address,
/// and that address (`127.0.0.1:PORT`).
pub fn start_server(args: &[&str]) -> (Server, String, String) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_backstock"))
        .env_remove("BACKSTOCK_DATA")
        .args(args)
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let out = child.stdout.take().unwrap();
    let server = Server(child);
    let mut printed = String::new();
    let mut addr = String::new();
    for line in BufReader::new(out).lines() {
        let line = line.unwrap();
        printed.push_str(&line);
        printed.push('\n');
        if let Some(rest) = line.split("http://").nth(1) {
            addr = rest.split('/').next().unwrap().to_string();
            break;
        }
    }
    (server, printed, addr)
}

/// Signs in through the form (`body`: the form's fields, encoded): the session cookie
/// (`bs_session=…`).
pub fn sign_in(addr: &str, body: &str) -> String {
    let (status, head, _) = http(
        addr,
        "POST",
        "/login",
        &["Content-Type: application/x-www-form-urlencoded".into()],
        body,
    );
    assert_eq!(status, 303, "{head}");
    head.lines()
        .find_map(|l| l.strip_prefix("set-cookie: "))
        .unwrap()
        .split(';')
        .next()
        .unwrap()
        .to_string()
}

pub fn http(
    addr: &str,
    method: &str,
    path: &str,
    headers: &[String],
    body: &str,
) -> (u16, String, String) {
    let mut s = TcpStream::connect(addr).unwrap();
    let mut req = format!(
        "{method} {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\nContent-Length: {}\r\n",
        body.len()
    );
    for h in headers {
        req.push_str(h);
        req.push_str("\r\n");
    }
    req.push_str("\r\n");
    req.push_str(body);
    s.write_all(req.as_bytes()).unwrap();
    let mut raw = String::new();
    s.read_to_string(&mut raw).unwrap();
    let (head, body) = raw.split_once("\r\n\r\n").unwrap();
    let status = head.split(' ').nth(1).unwrap().parse().unwrap();
    let chunked = head
        .to_ascii_lowercase()
        .contains("transfer-encoding: chunked");
    let body = if chunked {
        dechunk(body)
    } else {
        body.to_string()
    };
    (status, head.to_string(), body)
}

/// A chunked body's content (`SIZE\r\nDATA\r\n` … `0\r\n\r\n`).
fn dechunk(mut rest: &str) -> String {
    let mut out = String::new();
    while let Some((size, after)) = rest.split_once("\r\n") {
        let n = usize::from_str_radix(size.trim(), 16).unwrap();
        if n == 0 {
            break;
        }
        out.push_str(&after[..n]);
        rest = &after[n..];
        rest = rest.strip_prefix("\r\n").unwrap_or(rest);
    }
    out
}

/// `backstock --data-dir DIR serve` on a random loopback port: the server (killed when
/// dropped) and its `HOST:PORT`.
pub fn serve(dir: &Path) -> (Server, String) {
    serve_with(dir, &[])
}

/// [`serve`] with these environment variables set for the server.
pub fn serve_with(dir: &Path, env: &[(&str, String)]) -> (Server, String) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_backstock"))
        .env_remove("BACKSTOCK_DATA")
        .env_remove("BACKSTOCK_LINES")
        .envs(env.iter().map(|(k, v)| (*k, v.as_str())))
        .arg("--data-dir")
        .arg(dir)
        .args(["serve", "--addr", "127.0.0.1:0"])
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let out = child.stdout.take().unwrap();
    let server = Server(child);
    let mut addr = String::new();
    for line in BufReader::new(out).lines() {
        if let Some(rest) = line.unwrap().split("http://").nth(1) {
            addr = rest.split('/').next().unwrap().to_string();
            break;
        }
    }
    assert!(!addr.is_empty(), "serve printed no address");
    (server, addr)
}

/// `import` of the reference files `backstock gen` / `lines gen` write in `files`
/// (catalog, distributors, payees, contracts) into the store at `dir`.
pub fn import_reference(dir: &Path, files: &str) -> String {
    ok(
        dir,
        &[
            "import",
            &format!("{files}/catalog.csv"),
            &format!("{files}/distributors.csv"),
            &format!("{files}/payees.csv"),
            &format!("{files}/contracts.csv"),
        ],
    )
}

/// Sets the label's "today" (a setting, as the demo's: not history), so entries the
/// CLI dates "today" — a correction, a write-off — are known on `day`.
pub async fn set_label_today(dir: &Path, day: &str) {
    let url = format!("sqlite://{}", dir.join("backstock.db").display());
    let pool = sqlx::SqlitePool::connect(&url).await.unwrap();
    sqlx::query("INSERT OR REPLACE INTO meta(key, value) VALUES ('today', ?)")
        .bind(day)
        .execute(&pool)
        .await
        .unwrap();
    pool.close().await;
}
