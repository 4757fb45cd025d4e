//! Driving the real binary from the CLI tests: run it on a data directory, expect
//! success, or a refusal that records nothing.

#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// `backstock --data-dir DIR ARGS…`, with `$BACKSTOCK_DATA` unset.
pub fn run(dir: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_backstock"))
        .env_remove("BACKSTOCK_DATA")
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
pub fn refused(dir: &Path, args: &[&str], code: i32, says: &str) {
    let before = journal_len(dir);
    let o = run(dir, args);
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(code), "{args:?}: {err}");
    assert!(err.contains(says), "{args:?}: {err}");
    assert_eq!(before, journal_len(dir), "nothing recorded by {args:?}");
}

/// A fresh demo label in a temporary directory.
pub fn demo() -> (tempfile::TempDir, PathBuf) {
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path().join("demo");
    ok(&d, &["demo"]);
    (tmp, d)
}
