//! The fast totals against an independent, naive computation: `Upc::parse`,
//! `Money::parse`, `Rate::parse` and `Money::apply_rate` per line into a `BTreeMap`.
//! And the `backstock-sales-totals` binary end to end, including its errors.

use backstock_domain::{Currency, Money, Rate, Rounding, Upc};
use backstock_sales_totals::gen::{generate, GenOptions};
use backstock_sales_totals::line::month_text;
use backstock_sales_totals::{sum_file, Catalog, SalesError};
use std::collections::{BTreeMap, HashMap};
use std::path::Path;
use std::process::Command;

type Key = (String, String, String); // artist, month, currency
type Sums = (u64, i64, i64, i64); // lines, units, net, royalty

fn naive(catalog: &Path, sales: &Path) -> BTreeMap<Key, Sums> {
    let catalog = std::fs::read_to_string(catalog).unwrap();
    let mut rates: HashMap<String, (String, Rate)> = HashMap::new();
    for line in catalog.lines().skip(1) {
        let f: Vec<&str> = line.split(',').collect();
        let upc = Upc::parse(f[0]).unwrap();
        rates.insert(upc.gtin13(), (f[1].to_string(), Rate::parse(f[2]).unwrap()));
    }
    let sales = std::fs::read_to_string(sales).unwrap();
    let mut lines = sales.lines();
    let header: Vec<&str> = lines.next().unwrap().split(',').collect();
    let col = |name: &str| header.iter().position(|h| *h == name).unwrap();
    let (c_upc, c_month, c_units, c_net, c_cur) = (
        col("upc"),
        col("sale_month"),
        col("units"),
        col("net"),
        col("currency"),
    );
    let mut out: BTreeMap<Key, Sums> = BTreeMap::new();
    for line in lines {
        let line = line.trim_end_matches('\r');
        if line.is_empty() {
            continue;
        }
        let f: Vec<&str> = line.split(',').collect();
        let (artist, rate) = &rates[&Upc::parse(f[c_upc]).unwrap().gtin13()];
        let currency = Currency::parse(f[c_cur]).unwrap();
        let net = Money::parse(f[c_net], currency).unwrap();
        let royalty = net.apply_rate(*rate, Rounding::HalfEven).unwrap();
        let e = out
            .entry((artist.clone(), f[c_month].to_string(), f[c_cur].to_string()))
            .or_default();
        e.0 += 1;
        e.1 += f[c_units].parse::<i64>().unwrap();
        e.2 += net.minor();
        e.3 += royalty.minor();
    }
    out
}

fn fast(catalog: &Path, sales: &Path, threads: usize) -> BTreeMap<Key, Sums> {
    let c = Catalog::read(catalog).unwrap();
    let totals = sum_file(&c, sales, threads).unwrap();
    let mut out = BTreeMap::new();
    let mut previous: Option<Key> = None;
    for r in &totals.rows {
        let key = (
            totals.artist(r).to_string(),
            month_text(r.month),
            r.net.currency().code().to_string(),
        );
        assert_eq!(r.net.currency(), r.royalty.currency());
        if let Some(p) = &previous {
            assert!(p < &key, "rows out of order: {p:?} then {key:?}");
        }
        previous = Some(key.clone());
        out.insert(key, (r.lines, r.units, r.net.minor(), r.royalty.minor()));
    }
    assert_eq!(
        totals.lines,
        out.values().map(|s| s.0).sum::<u64>(),
        "line count"
    );
    out
}

/// A catalog and sales file written by hand: half-cent ties both ways, returns,
/// an EAN-13 form of a UPC-A, columns in another order, CRLF, no final newline.
fn handmade(dir: &Path) {
    std::fs::write(
        dir.join("catalog.csv"),
        "upc,artist,rate\n\
         036000291452,TIE,0.5\n\
         190000000015,QUARTER,25%\n\
         190000000022,THIRD,0.333333\n",
    )
    .unwrap();
    std::fs::write(
        dir.join("sales.csv"),
        "currency,net,units,upc,sale_month,store\r\n\
         USD,0.01,1,036000291452,2016-01,s\r\n\
         USD,0.01,1,036000291452,2016-01,s\r\n\
         USD,0.01,1,036000291452,2016-01,s\r\n\
         USD,0.03,1,036000291452,2016-01,s\r\n\
         USD,-0.03,-1,036000291452,2016-01,s\r\n\
         USD,-0.05,-1,0036000291452,2016-01,s\r\n\
         USD,0.07,2,036000291452,2016-01,s\r\n\
         EUR,0.02,1,036000291452,2016-01,s\r\n\
         USD,0.06,1,190000000015,2016-02,s\r\n\
         USD,0.10,1,190000000015,2016-02,s\r\n\
         USD,-0.10,-1,190000000015,2016-02,s\r\n\
         \r\n\
         GBP,12.34,3,190000000022,2016-02,s\r\n\
         GBP,-1.5,-1,190000000022,2016-03,s",
    )
    .unwrap();
}

#[test]
fn handmade_ties_and_returns() {
    let dir = tempfile::tempdir().unwrap();
    handmade(dir.path());
    let (c, s) = (dir.path().join("catalog.csv"), dir.path().join("sales.csv"));
    let got = fast(&c, &s, 2);
    assert_eq!(got, naive(&c, &s));
    let get = |a: &str, m: &str, cur: &str| got[&(a.into(), m.into(), cur.into())];
    // 0.005, 0.005, 0.005 → 0 each (a rate applied to the sum would give 0.01);
    // 0.015 → 0.02; −0.015 → −0.02; −0.025 → −0.02; 0.035 → 0.04.
    assert_eq!(get("TIE", "2016-01", "USD"), (7, 4, 5, 2));
    assert_eq!(get("TIE", "2016-01", "EUR"), (1, 1, 2, 1));
    // 0.015 → 0.02; 0.025 → 0.02; −0.025 → −0.02.
    assert_eq!(get("QUARTER", "2016-02", "USD"), (3, 1, 6, 2));
    // 12.34 × 0.333333 = 4.1133… → 4.11; −1.50 × 0.333333 = −0.49999… → −0.50.
    assert_eq!(get("THIRD", "2016-02", "GBP"), (1, 3, 1234, 411));
    assert_eq!(get("THIRD", "2016-03", "GBP"), (1, -1, -150, -50));
    assert_eq!(got.len(), 5, "{got:?}");
}

#[test]
fn generated_data_matches_naive_with_any_thread_count() {
    let dir = tempfile::tempdir().unwrap();
    let o = GenOptions {
        lines: 30_000,
        upcs: 2_000,
        artists: 150,
        months: 4,
        seed: 7,
        ..GenOptions::default()
    };
    generate(dir.path(), &o).unwrap();
    let (c, s) = (dir.path().join("catalog.csv"), dir.path().join("sales.csv"));
    let expected = naive(&c, &s);
    assert!(expected.values().any(|v| v.2 < 0 || v.1 < 0) || expected.len() > 100);
    for threads in [1, 2, 3, 8] {
        assert_eq!(fast(&c, &s, threads), expected, "{threads} threads");
    }
}

fn bin() -> Command {
    Command::new(env!("CARGO_BIN_EXE_backstock-sales-totals"))
}

#[test]
fn binary_writes_the_totals_csv() {
    let dir = tempfile::tempdir().unwrap();
    handmade(dir.path());
    let out = bin()
        .args(["sum", "--catalog"])
        .arg(dir.path().join("catalog.csv"))
        .arg("--sales")
        .arg(dir.path().join("sales.csv"))
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(
        String::from_utf8(out.stdout).unwrap(),
        "artist,month,currency,lines,units,net,royalty\n\
         QUARTER,2016-02,USD,3,1,0.06,0.02\n\
         THIRD,2016-02,GBP,1,3,12.34,4.11\n\
         THIRD,2016-03,GBP,1,-1,-1.50,-0.50\n\
         TIE,2016-01,EUR,1,1,0.02,0.01\n\
         TIE,2016-01,USD,7,4,0.05,0.02\n"
    );
}

#[test]
fn binary_generates_then_sums() {
    let dir = tempfile::tempdir().unwrap();
    let status = bin()
        .args([
            "gen",
            "--lines",
            "5000",
            "--upcs",
            "500",
            "--artists",
            "50",
            "--out",
        ])
        .arg(dir.path())
        .status()
        .unwrap();
    assert!(status.success());
    let (c, s) = (dir.path().join("catalog.csv"), dir.path().join("sales.csv"));
    let totals = dir.path().join("totals.csv");
    let status = bin()
        .args(["sum", "--threads", "2", "--catalog"])
        .arg(&c)
        .arg("--sales")
        .arg(&s)
        .arg("--out")
        .arg(&totals)
        .status()
        .unwrap();
    assert!(status.success());
    let text = std::fs::read_to_string(&totals).unwrap();
    let lines: u64 = text
        .lines()
        .skip(1)
        .map(|l| l.split(',').nth(3).unwrap().parse::<u64>().unwrap())
        .sum();
    assert_eq!(lines, 5000);
    assert_eq!(text.lines().count() - 1, naive(&c, &s).len());
}

#[test]
fn bad_lines_are_located_and_nothing_is_written() {
    let dir = tempfile::tempdir().unwrap();
    handmade(dir.path());
    let sales = dir.path().join("bad.csv");
    std::fs::write(
        &sales,
        "sale_month,store,territory,upc,units,net,currency\n\
         2016-01,s,US,036000291452,1,0.99,USD\n\
         2016-01,s,US,036000291453,1,0.99,USD\n\
         2016-01,s,US,190000000039,1,0.99,USD\n\
         2016-13,s,US,036000291452,1,0.99,USD\n\
         2016-01,s,US,036000291452,1,0.999,USD\n\
         2016-01,s,US,036000291452,1,0.99,XXX\n\
         2016-01,s,US,036000291452,1,0.99\n\
         2016-01,s,US,036000291452,one,0.99,USD\n",
    )
    .unwrap();
    let catalog = Catalog::read(&dir.path().join("catalog.csv")).unwrap();
    for threads in [1, 2, 5] {
        let Err(SalesError::Input { errors, more }) = sum_file(&catalog, &sales, threads) else {
            panic!("bad lines accepted");
        };
        assert!(!more);
        let got: Vec<(u64, usize, &str)> = errors
            .iter()
            .map(|e| (e.line, e.column, e.found.as_str()))
            .collect();
        assert_eq!(
            got,
            [
                (3, 4, "036000291453"),
                (4, 4, "190000000039"),
                (5, 1, "2016-13"),
                (6, 6, "0.999"),
                (7, 7, "XXX"),
                (8, 0, "2016-01,s,US,036000291452,1,0.99"),
                (9, 5, "one"),
            ],
            "{threads} threads"
        );
        assert!(errors[0].expected.contains("should be 2"), "{}", errors[0]);
        assert!(
            errors[1].expected.contains("listed in the catalog"),
            "{}",
            errors[1]
        );
        assert!(
            errors[3].expected.contains("2 decimal places for USD"),
            "{}",
            errors[3]
        );
    }
    let out = bin()
        .args(["sum", "--catalog"])
        .arg(dir.path().join("catalog.csv"))
        .arg("--sales")
        .arg(&sales)
        .arg("--out")
        .arg(dir.path().join("totals.csv"))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(3));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains(
            "bad.csv: line 5, column 1 (sale_month): found \"2016-13\", expected a month"
        ),
        "{stderr}"
    );
    assert!(!dir.path().join("totals.csv").exists());
    let out = bin().args(["sum", "--sales", "x"]).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn many_bad_lines_report_the_first_hundred() {
    let dir = tempfile::tempdir().unwrap();
    handmade(dir.path());
    let sales = dir.path().join("bad.csv");
    let mut text = String::from("sale_month,store,territory,upc,units,net,currency\n");
    for _ in 0..10_000 {
        text.push_str("2016-01,s,US,036000291452,1,0.99,USD\n2016-01,s,US,036000291452,1,x,USD\n");
    }
    std::fs::write(&sales, text).unwrap();
    let catalog = Catalog::read(&dir.path().join("catalog.csv")).unwrap();
    for threads in [1, 2] {
        let Err(SalesError::Input { errors, more }) = sum_file(&catalog, &sales, threads) else {
            panic!("bad lines accepted");
        };
        assert!(more);
        assert_eq!(errors.len(), 100);
        assert_eq!(errors[0].line, 3);
        assert_eq!(errors[99].line, 201);
    }
}

#[test]
fn a_line_without_end_is_refused_not_read_forever() {
    let dir = tempfile::tempdir().unwrap();
    handmade(dir.path());
    let sales = dir.path().join("long.csv");
    let mut text = String::from("sale_month,store,territory,upc,units,net,currency\n");
    text.push_str("2016-01,s,US,036000291452,1,0.99,USD\n");
    text.push_str(&"x".repeat(3 << 20));
    std::fs::write(&sales, text).unwrap();
    let catalog = Catalog::read(&dir.path().join("catalog.csv")).unwrap();
    let Err(SalesError::Input { errors, .. }) = sum_file(&catalog, &sales, 1) else {
        panic!("a 3 MiB line accepted");
    };
    assert_eq!((errors[0].line, errors[0].column), (3, 0));
    assert!(errors[0].expected.contains("1 MiB"), "{}", errors[0]);
}

#[test]
fn problems_far_into_the_file_have_their_line_numbers_with_any_thread_count() {
    let dir = tempfile::tempdir().unwrap();
    let o = GenOptions {
        lines: 20_000,
        upcs: 1_000,
        artists: 100,
        ..GenOptions::default()
    };
    generate(dir.path(), &o).unwrap();
    let sales = dir.path().join("sales.csv");
    let text = std::fs::read_to_string(&sales).unwrap();
    let mut lines: Vec<String> = text.lines().map(str::to_string).collect();
    // Lines 7,001 and 15,001 of the file (the header is line 1).
    lines[7_000].push_str(",extra");
    lines[15_000] = lines[15_000].replacen("2016-", "2016/", 1);
    std::fs::write(&sales, lines.join("\n") + "\n").unwrap();
    let catalog = Catalog::read(&dir.path().join("catalog.csv")).unwrap();
    for threads in [1, 2, 4] {
        let Err(SalesError::Input { errors, more }) = sum_file(&catalog, &sales, threads) else {
            panic!("bad lines accepted");
        };
        assert!(!more);
        let got: Vec<(u64, usize)> = errors.iter().map(|e| (e.line, e.column)).collect();
        assert_eq!(got, [(7_001, 0), (15_001, 1)], "{threads} threads");
    }
}
