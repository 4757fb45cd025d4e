//! Distributors' statement files in their own layouts, as a label owner brings them
//! in: a mapping written for each (`backstock mapping add`, or one shipped), then
//! `import --dry-run`, `import`, and the same file again. What is recorded must be
//! exactly what the file means — checked against the same statements imported as
//! canonical statements.csv into a second label (every statement entry transfer for
//! transfer, every balance, every stock line) and directly (each distributor's
//! receivable to the cent, its stock per SKU). A broken value must be refused naming
//! the file, line, column and what was expected, recording nothing.
//!
//! The files come from a seeded generator (`gen.rs`) of 18 layouts modelled on real
//! exports. `BACKSTOCK_LAYOUT_SEEDS=4,5,6` runs more seeds.

#[path = "../common/mod.rs"]
mod common;
mod gen;

use common::{journal_len, ok, run};
use gen::Layout;
use std::collections::BTreeMap;
use std::path::Path;

fn text(o: &std::process::Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

/// A label that knows the catalog, these distributors and the stock consigned to them.
fn label(dir: &Path, files: &Path, layouts: &[Layout]) {
    let cat = gen::catalog();
    std::fs::create_dir_all(files).unwrap();
    let c = files.join("catalog.csv");
    std::fs::write(&c, gen::catalog_csv(&cat)).unwrap();
    let d = files.join("distributors.csv");
    std::fs::write(&d, gen::distributors_csv(layouts)).unwrap();
    let s = files.join("shipments.csv");
    std::fs::write(&s, gen::shipments_csv(layouts, &cat)).unwrap();
    ok(dir, &["init"]);
    ok(
        dir,
        &[
            "import",
            c.to_str().unwrap(),
            d.to_str().unwrap(),
            s.to_str().unwrap(),
        ],
    );
}

/// Writes the layout's file (and mapping), saves the mapping, and imports the file
/// as a user does: a dry run, the import, the same file again.
fn import_layout(d: &Path, files: &Path, l: &Layout) -> Result<(), String> {
    let path = files.join(&l.file);
    std::fs::write(&path, l.bytes()).unwrap();
    if let Some(toml) = &l.mapping {
        let m = files.join(format!("{}.toml", l.name));
        std::fs::write(&m, toml).unwrap();
        let o = run(d, &["mapping", "add", m.to_str().unwrap()]);
        if !o.status.success() {
            return Err(format!("mapping add refused:\n{}", text(&o)));
        }
    }
    let mut args: Vec<&str> = vec!["import", path.to_str().unwrap(), "--mapping", l.name];
    args.extend(l.args.iter().map(String::as_str));
    let before = journal_len(d);
    let mut dry = args.clone();
    dry.push("--dry-run");
    let o = run(d, &dry);
    let said = text(&o);
    if !o.status.success() || !said.contains("would record") {
        return Err(format!("the dry run refused it:\n{said}"));
    }
    if journal_len(d) != before {
        return Err("the dry run recorded something".into());
    }
    let o = run(d, &args);
    let said = text(&o);
    if !o.status.success() || !said.contains("recorded") {
        return Err(format!("the import refused it:\n{said}"));
    }
    if journal_len(d) != before + 1 {
        return Err(format!(
            "one statement entry expected, {} recorded:\n{said}",
            journal_len(d) - before
        ));
    }
    let o = run(d, &args);
    let said = text(&o);
    if !o.status.success() || !said.contains("already imported") || journal_len(d) != before + 1 {
        return Err(format!("the same file again changed something:\n{said}"));
    }
    Ok(())
}

/// Each statement entry: (effective, known, its transfers sorted).
type Entries = BTreeMap<String, (String, String, Vec<String>)>;

fn statements(d: &Path) -> Entries {
    let csv = ok(d, &["journal", "--kind", "statement", "--format", "csv"]);
    let mut r = csv::Reader::from_reader(csv.as_bytes());
    let h = r.headers().unwrap().clone();
    let at = |n: &str| h.iter().position(|x| x == n).unwrap();
    let (eff, known, entry) = (at("effective_on"), at("known_on"), at("entry"));
    let keep: Vec<usize> = [
        "phase",
        "ledger",
        "debit_account",
        "credit_account",
        "amount",
        "unit",
    ]
    .iter()
    .map(|n| at(n))
    .collect();
    let mut out = Entries::new();
    for rec in r.records() {
        let rec = rec.unwrap();
        let e = out
            .entry(rec[entry].to_string())
            .or_insert_with(|| (rec[eff].to_string(), rec[known].to_string(), Vec::new()));
        e.2.push(
            keep.iter()
                .map(|&i| rec[i].to_string())
                .collect::<Vec<_>>()
                .join("|"),
        );
    }
    for e in out.values_mut() {
        e.2.sort();
    }
    out
}

/// The CSV rows of a report (no header), sorted.
fn rows(d: &Path, args: &[&str]) -> Vec<String> {
    let out = ok(d, args);
    let mut v: Vec<String> = out.lines().skip(1).map(str::to_string).collect();
    v.sort();
    v
}

/// Imports every layout of `seed`, and checks what was recorded.
fn check_seed(seed: u64) {
    let tmp = tempfile::tempdir().unwrap();
    let layouts = gen::layouts(seed);
    assert!(layouts.len() >= 15);
    let mapped = tmp.path().join("mapped");
    let reference = tmp.path().join("reference");
    let files = tmp.path().join("files");
    label(&mapped, &files, &layouts);
    label(&reference, &files, &layouts);
    let canonical = files.join("statements.csv");
    std::fs::write(&canonical, gen::canonical_csv(&layouts)).unwrap();
    ok(&reference, &["import", canonical.to_str().unwrap()]);

    let mut failures: Vec<String> = Vec::new();
    let mut passed: Vec<&Layout> = Vec::new();
    for l in &layouts {
        match import_layout(&mapped, &files, l) {
            Ok(()) => passed.push(l),
            Err(e) => failures.push(format!("[{} — {}] {}: {e}", l.name, l.about, l.file)),
        }
    }

    let got = statements(&mapped);
    let want = statements(&reference);
    for l in &passed {
        let m = &l.meant;
        let key = format!("statement:{}:{}", m.distributor, m.id);
        let who = format!("[{} — {}] {}", l.name, l.about, l.file);
        match (got.get(&key), want.get(&key)) {
            (Some(g), Some(w)) if g == w => {}
            (g, w) => failures.push(format!(
                "{who}: entry {key} recorded as\n{g:#?}\nbut the file means\n{w:#?}"
            )),
        }
        // Directly: the receivable to the cent and the stock per SKU.
        let d = m.distributor;
        let bal = rows(&mapped, &["balances", "--party", d, "--format", "csv"]);
        let receivable = bal
            .iter()
            .find(|r| r.starts_with(&format!("{d},receivable,")))
            .and_then(|r| r.split(',').nth(2))
            .unwrap_or("none")
            .to_string();
        if receivable != gen::plain(m.net()) {
            failures.push(format!(
                "{who}: receivable {receivable}, the statement's net is {}",
                gen::plain(m.net())
            ));
        }
        let want_bal = rows(&reference, &["balances", "--party", d, "--format", "csv"]);
        if bal != want_bal {
            failures.push(format!(
                "{who}: balances\n{}\nexpected\n{}",
                bal.join("\n"),
                want_bal.join("\n")
            ));
        }
        let stock = rows(&mapped, &["stock", "--holder", d, "--format", "csv"]);
        for (sku, out) in m.units_out() {
            let line = format!("{sku},label,{d},on_hand,{}", gen::SHIPPED - out);
            if !stock.contains(&line) {
                failures.push(format!(
                    "{who}: expected stock {line}, found\n{}",
                    stock.join("\n")
                ));
            }
        }
        let want_stock = rows(&reference, &["stock", "--holder", d, "--format", "csv"]);
        if stock != want_stock {
            failures.push(format!(
                "{who}: stock\n{}\nexpected\n{}",
                stock.join("\n"),
                want_stock.join("\n")
            ));
        }
    }
    let v = ok(&mapped, &["verify"]);
    assert!(v.starts_with("OK:"), "{v}");
    assert!(
        failures.is_empty(),
        "seed {seed}: {} of {} layouts wrong:\n\n{}",
        failures.len(),
        layouts.len(),
        failures.join("\n\n")
    );
}

#[test]
fn distributors_own_layouts_are_recorded_to_the_cent_seed_1() {
    check_seed(1);
}

#[test]
fn distributors_own_layouts_are_recorded_to_the_cent_seed_8() {
    check_seed(8);
}

/// More seeds on demand: `BACKSTOCK_LAYOUT_SEEDS=2,3,4`.
#[test]
fn distributors_own_layouts_more_seeds() {
    let Ok(seeds) = std::env::var("BACKSTOCK_LAYOUT_SEEDS") else {
        return;
    };
    for s in seeds.split(',').filter_map(|s| s.trim().parse().ok()) {
        check_seed(s);
    }
}

/// One broken amount in each layout: refused naming the file, the line, the column
/// and what was expected; nothing recorded.
#[test]
fn a_broken_value_is_named_by_file_line_and_column() {
    let tmp = tempfile::tempdir().unwrap();
    let mut layouts = gen::layouts(5);
    let d = tmp.path().join("data");
    let files = tmp.path().join("files");
    label(&d, &files, &layouts);
    let mut r = gen::Rng::new(55);
    let mut failures = Vec::new();
    for l in &mut layouts {
        let Some((line, col, name)) = l.corrupt(&mut r) else {
            continue;
        };
        let path = files.join(&l.file);
        std::fs::write(&path, l.bytes()).unwrap();
        if let Some(toml) = &l.mapping {
            let m = files.join(format!("{}.toml", l.name));
            std::fs::write(&m, toml).unwrap();
            ok(&d, &["mapping", "add", m.to_str().unwrap()]);
        }
        let mut args: Vec<&str> = vec!["import", path.to_str().unwrap(), "--mapping", l.name];
        args.extend(l.args.iter().map(String::as_str));
        let before = journal_len(&d);
        let o = run(&d, &args);
        let err = text(&o);
        let wanted = [
            l.file.clone(),
            format!("line {line}, column {col} ({name})"),
            "found \"12.3.4\", expected a decimal amount".to_string(),
        ];
        if o.status.code() != Some(3)
            || err.contains("panicked")
            || wanted.iter().any(|w| !err.contains(w.as_str()))
            || journal_len(&d) != before
        {
            failures.push(format!("[{}] expected {wanted:?}, got:\n{err}", l.name));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}

/// A barcode the catalog does not have, in each layout with a barcode column:
/// refused naming the file, the line and the column of the original file (not a
/// canonical field), and what to do; nothing recorded.
#[test]
fn an_unknown_barcode_is_named_by_file_line_and_column() {
    let tmp = tempfile::tempdir().unwrap();
    let mut layouts = gen::layouts(6);
    let d = tmp.path().join("data");
    let files = tmp.path().join("files");
    label(&d, &files, &layouts);
    let mut r = gen::Rng::new(66);
    let mut failures = Vec::new();
    let mut tried = 0;
    for l in &mut layouts {
        let Some((line, col, name, code)) = l.unknown_code(&mut r) else {
            continue;
        };
        tried += 1;
        let path = files.join(&l.file);
        std::fs::write(&path, l.bytes()).unwrap();
        if let Some(toml) = &l.mapping {
            let m = files.join(format!("{}.toml", l.name));
            std::fs::write(&m, toml).unwrap();
            ok(&d, &["mapping", "add", m.to_str().unwrap()]);
        }
        let mut args: Vec<&str> = vec!["import", path.to_str().unwrap(), "--mapping", l.name];
        args.extend(l.args.iter().map(String::as_str));
        let before = journal_len(&d);
        let o = run(&d, &args);
        let err = text(&o);
        let wanted = [
            l.file.clone(),
            format!("line {line}, column {col} ({name}): found \"{code}\", expected a SKU or UPC in the catalog"),
        ];
        if o.status.code() != Some(3)
            || err.contains("panicked")
            || wanted.iter().any(|w| !err.contains(w.as_str()))
            || journal_len(&d) != before
        {
            failures.push(format!("[{}] expected {wanted:?}, got:\n{err}", l.name));
        }
    }
    assert!(tried >= 12, "{tried}");
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}

/// Damaged files (cut short, bytes overwritten, lines dropped): refused or read, never
/// a panic, and a dry run records nothing.
#[test]
fn damaged_files_never_panic() {
    let tmp = tempfile::tempdir().unwrap();
    let layouts = gen::layouts(9);
    let d = tmp.path().join("data");
    let files = tmp.path().join("files");
    label(&d, &files, &layouts);
    let mut r = gen::Rng::new(99);
    let before = journal_len(&d);
    let mut failures = Vec::new();
    for l in &layouts {
        if let Some(toml) = &l.mapping {
            let m = files.join(format!("{}.toml", l.name));
            std::fs::write(&m, toml).unwrap();
            ok(&d, &["mapping", "add", m.to_str().unwrap()]);
        }
        let good = l.bytes();
        for v in 0..4 {
            let mut b = good.clone();
            match v {
                0 => b.truncate(r.below(b.len() as u64) as usize),
                1 => {
                    for _ in 0..=r.below(8) {
                        let i = r.below(b.len() as u64) as usize;
                        b[i] = *r.pick(&[b'"', b',', b';', b'\n', b'\r', 0xff, 0, b'(', b'-']);
                    }
                }
                2 => {
                    let text = String::from_utf8_lossy(&good).into_owned();
                    let kept: Vec<&str> = text.lines().filter(|_| !r.chance(30)).collect();
                    b = kept.join("\n").into_bytes();
                }
                _ => b = b.repeat(2),
            }
            let path = files.join(format!("damaged-{v}-{}", l.file));
            std::fs::write(&path, &b).unwrap();
            let mut args: Vec<&str> = vec![
                "import",
                path.to_str().unwrap(),
                "--mapping",
                l.name,
                "--dry-run",
            ];
            args.extend(l.args.iter().map(String::as_str));
            let o = run(&d, &args);
            let said = text(&o);
            if said.contains("panicked") || !matches!(o.status.code(), Some(0 | 3 | 4)) {
                failures.push(format!("[{} damage {v}] {:?}:\n{said}", l.name, o.status));
            }
        }
    }
    assert_eq!(journal_len(&d), before);
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}
