//! When a distributor fails, through the real `backstock` binary on the demo label:
//! the insolvency record puts it in default, `insolvency show` lists the deadlines,
//! and `claim-pack` writes a pack whose totals tie to the CLI's own figures to the
//! cent, that `verify-pack` (and `sha256sum -c`) check with nothing but the pack, and
//! whose CSVs and PDF text are snapshot-tested.

mod common;
use common::*;
use serde_json::Value;
use std::collections::BTreeMap;
use std::io::Read;
use std::path::Path;
use std::process::Command;

fn demo() -> tempfile::TempDir {
    let t = tempfile::tempdir().unwrap();
    ok(t.path(), &["demo"]);
    t
}

/// Rows of a CSV as maps by column name.
fn csv_rows(path: &Path) -> Vec<BTreeMap<String, String>> {
    let mut r = csv::Reader::from_path(path).unwrap();
    let h: Vec<String> = r.headers().unwrap().iter().map(str::to_string).collect();
    r.records()
        .map(|rec| {
            let rec = rec.unwrap();
            h.iter()
                .cloned()
                .zip(rec.iter().map(str::to_string))
                .collect()
        })
        .collect()
}

/// A schedule's `column` per SKU (SKUs at zero left out).
fn units_by_sku(rows: &[BTreeMap<String, String>], column: &str) -> BTreeMap<String, i64> {
    rows.iter()
        .map(|r| (r["sku"].clone(), r[column].parse::<i64>().unwrap()))
        .filter(|(_, u)| *u != 0)
        .collect()
}

/// `stock --format csv` summed per SKU, of one state only when given (SKUs at zero
/// left out).
fn stock_units_by_sku(csv_text: &str, state: Option<&str>) -> BTreeMap<String, i64> {
    let rows: Vec<BTreeMap<String, String>> = {
        let mut r = csv::Reader::from_reader(csv_text.as_bytes());
        let h: Vec<String> = r.headers().unwrap().iter().map(str::to_string).collect();
        r.records()
            .map(|rec| {
                h.iter()
                    .cloned()
                    .zip(rec.unwrap().iter().map(str::to_string))
                    .collect()
            })
            .collect()
    };
    let mut out: BTreeMap<String, i64> = BTreeMap::new();
    for r in rows
        .iter()
        .filter(|r| state.is_none_or(|s| r["state"] == s))
    {
        *out.entry(r["sku"].clone()).or_default() += r["units"].parse::<i64>().unwrap();
    }
    out.retain(|_, u| *u != 0);
    out
}

/// "1234.56" as cents.
fn cents(s: &str) -> i64 {
    let (a, b) = s.split_once('.').unwrap_or((s, "00"));
    let neg = a.starts_with('-');
    let v = a.trim_start_matches('-').parse::<i64>().unwrap() * 100 + b.parse::<i64>().unwrap();
    if neg {
        -v
    } else {
        v
    }
}

#[test]
fn the_pack_ties_to_the_clis_own_figures_and_verifies() {
    let t = demo();
    let data = t.path().to_path_buf();
    let pack = data.join("pack");
    let out = ok(
        &data,
        &["claim-pack", "cascade", "--out", pack.to_str().unwrap()],
    );
    assert!(out.contains("as of 2016-06-03"), "{out}");
    for f in [
        "claim.pdf",
        "stock_schedule.csv",
        "shipments.csv",
        "windows.csv",
        "receivables.csv",
        "perfection.csv",
        "demands.csv",
        "artists.csv",
        "preference_window.csv",
        "proof_of_claim.json",
        "MANIFEST.sha256",
        "VERIFY.txt",
        "journal/links.jsonl",
        "documents/cascade-distribution-agreement-2012.txt",
        "documents/demand-D-2016-001.txt",
        "originals_withheld.csv",
        "payments.csv",
    ] {
        assert!(pack.join(f).is_file(), "{f} missing");
    }
    // Every payment Cascade made by the date, oldest first.
    let paid = csv_rows(&pack.join("payments.csv"));
    assert!(!paid.is_empty());
    assert!(
        paid.windows(2).all(|w| w[0]["date"] <= w[1]["date"]),
        "{paid:?}"
    );
    assert!(paid
        .iter()
        .all(|r| r["date"].as_str() <= "2016-06-03" && r["currency"] == "USD"));
    // The demo's statements and stock reports came in files of both distributors:
    // those originals are Northwind's business too, so they are withheld and listed.
    let withheld = std::fs::read_to_string(pack.join("originals_withheld.csv")).unwrap();
    let names: Vec<&str> = withheld
        .lines()
        .skip(1)
        .map(|l| l.split(',').next().unwrap())
        .collect();
    assert_eq!(names, ["stock_reports.csv", "statements.csv"], "{withheld}");
    assert!(
        withheld.contains("it also holds lines of 1 other distributor"),
        "{withheld}"
    );
    assert!(!pack.join("originals").exists());

    // stock_schedule.csv units_expected_on_hand = `stock --holder cascade --as-of` per SKU.
    let stock: Value = serde_json::from_str(&ok(
        &data,
        &[
            "stock",
            "--holder",
            "cascade",
            "--as-of",
            "2016-06-03",
            "--format",
            "json",
        ],
    ))
    .unwrap();
    let mut cli_units: BTreeMap<String, i64> = BTreeMap::new();
    for r in stock.as_array().unwrap() {
        assert_eq!(r["owner"], "label");
        *cli_units
            .entry(r["sku"].as_str().unwrap().to_string())
            .or_default() += r["units"].as_i64().unwrap();
    }
    let schedule = csv_rows(&pack.join("stock_schedule.csv"));
    let mut pack_units: BTreeMap<String, i64> = BTreeMap::new();
    let (mut at_cost, mut at_wholesale) = (0i64, 0i64);
    for r in &schedule {
        let u: i64 = r["units_expected_on_hand"].parse().unwrap();
        if u != 0 {
            pack_units.insert(r["sku"].clone(), u);
        }
        at_cost += cents(&r["value_at_cost"]);
        at_wholesale += cents(&r["value_at_wholesale"]);
        assert_eq!(
            cents(&r["value_at_cost"]),
            u * cents(&r["unit_cost"]),
            "{r:?}"
        );
    }
    cli_units.retain(|_, u| *u != 0);
    assert!(!cli_units.is_empty());
    assert_eq!(pack_units, cli_units);

    // receivables.csv's total = `receivables --as-of --distributor --format json`.
    let rec: Value = serde_json::from_str(&ok(
        &data,
        &[
            "receivables",
            "--as-of",
            "2016-06-03",
            "--distributor",
            "cascade",
            "--format",
            "json",
        ],
    ))
    .unwrap();
    let rec = &rec[0];
    let rows = csv_rows(&pack.join("receivables.csv"));
    let total = rows.iter().find(|r| r["line"] == "total").unwrap();
    assert_eq!(
        cents(&total["open"]),
        rec["open_balance"]["amount_minor"].as_i64().unwrap()
    );
    let statements: Vec<_> = rows.iter().filter(|r| r["line"] == "statement").collect();
    assert_eq!(
        statements.len(),
        rec["statements"].as_array().unwrap().len()
    );
    assert_eq!(
        statements.iter().map(|r| cents(&r["open"])).sum::<i64>(),
        cents(&total["open"])
    );
    let reserve = rows.iter().find(|r| r["line"] == "reserve_held").unwrap();
    assert_eq!(
        cents(&reserve["open"]),
        rec["reserve_held"]["amount_minor"].as_i64().unwrap()
    );
    // The stock's value ties to the receivables' exposure.
    assert_eq!(
        at_cost,
        rec["exposure"]["stock_at_cost"]["amount_minor"]
            .as_i64()
            .unwrap()
    );
    assert_eq!(
        at_wholesale,
        rec["exposure"]["stock_at_wholesale"]["amount_minor"]
            .as_i64()
            .unwrap()
    );
    // And the proof of claim says the same.
    let proof: Value =
        serde_json::from_str(&std::fs::read_to_string(pack.join("proof_of_claim.json")).unwrap())
            .unwrap();
    assert_eq!(
        proof["amount_owed_for_sales"]["amount_minor"],
        rec["open_balance"]["amount_minor"]
    );
    assert_eq!(
        proof["goods"]["value_at_wholesale"]["amount_minor"].as_i64(),
        Some(at_wholesale)
    );
    // windows.csv sums to the proof's reclamation window.
    let windows = csv_rows(&pack.join("windows.csv"));
    assert_eq!(
        windows
            .iter()
            .map(|r| cents(&r["value_at_wholesale"]))
            .sum::<i64>(),
        proof["reclamation_45_days"]["value_at_wholesale"]["amount_minor"]
            .as_i64()
            .unwrap()
    );

    // Needs only the pack: move it away from the data directory.
    let moved = tempfile::tempdir().unwrap();
    let alone = moved.path().join("pack");
    std::fs::rename(&pack, &alone).unwrap();
    let v = Command::new(env!("CARGO_BIN_EXE_backstock"))
        .env_remove("BACKSTOCK_DATA")
        .args(["--data-dir", "/nonexistent", "verify-pack"])
        .arg(&alone)
        .output()
        .unwrap();
    assert!(v.status.success(), "{}", String::from_utf8_lossy(&v.stderr));
    assert!(String::from_utf8_lossy(&v.stdout).starts_with("OK:"));
    if let Ok(o) = Command::new("sha256sum")
        .args(["-c", "--quiet", "MANIFEST.sha256"])
        .current_dir(&alone)
        .output()
    {
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stdout));
    }

    // The journal heads (here royalty runs naming every artist) are not about
    // Cascade: given by their hash alone, so nothing of the label's business with
    // others — Northwind, other artists' royalties — goes to Cascade's trustee.
    let links = std::fs::read_to_string(alone.join("journal/links.jsonl")).unwrap();
    assert!(
        !links.to_lowercase().contains("northwind"),
        "another distributor in the pack's journal"
    );
    let heads: Vec<Value> = links
        .lines()
        .map(|l| serde_json::from_str::<Value>(l).unwrap())
        .filter(|l| l["withheld"] == true)
        .collect();
    assert!(!heads.is_empty(), "the heads are about others and withheld");
    for h in &heads {
        assert_eq!(h["entry_json"], "", "{h}");
        assert_eq!(h["hash"].as_str().unwrap().len(), 64, "{h}");
    }
    let verify_txt = std::fs::read_to_string(alone.join("VERIFY.txt")).unwrap();
    assert!(
        verify_txt.contains("(withheld: not about this distributor)"),
        "{verify_txt}"
    );
    let out = String::from_utf8_lossy(&v.stdout).to_string();
    assert!(out.contains("given by hash alone"), "{out}");

    // A changed byte in a schedule, or in an entry, is found.
    let p = alone.join("receivables.csv");
    let text = std::fs::read_to_string(&p).unwrap();
    std::fs::write(&p, text.replacen("USD", "EUR", 1)).unwrap();
    let err = fail(&data, &["verify-pack", alone.to_str().unwrap()], 5);
    assert!(err.contains("receivables.csv"), "{err}");
    std::fs::write(&p, text).unwrap();
    let lp = alone.join("journal/links.jsonl");
    let links = std::fs::read_to_string(&lp).unwrap();
    std::fs::write(&lp, links.replacen("\\\"units\\\":", "\\\"units\\\":1", 1)).unwrap();
    let err = fail(&data, &["verify-pack", alone.to_str().unwrap()], 5);
    assert!(err.contains("does not hash to"), "{err}");
    assert!(err.contains("links.jsonl: its SHA-256"), "{err}");
    std::fs::write(&lp, &links).unwrap();

    // A directory that is not empty is refused.
    let e = fail(
        &data,
        &["claim-pack", "cascade", "--out", alone.to_str().unwrap()],
        3,
    );
    assert!(e.contains("not empty"), "{e}");
}

/// An original that holds only this distributor's lines goes in the pack byte for
/// byte; changed, even with the manifest rewritten to match, it is found.
#[test]
fn an_original_of_the_distributor_alone_is_in_the_pack_and_checked() {
    let t = demo();
    let data = t.path().to_path_buf();
    let payment = data.join("cascade-statement.csv");
    std::fs::write(
        &payment,
        "statement_id,distributor,period_start,period_end,issued_on,kind,sku,units,amount,currency,memo\n\
CAS-EXTRA-04,cascade,2016-04-01,2016-04-30,2016-05-10,sale,MRG-001-CD,1,9.00,USD,\n",
    )
    .unwrap();
    ok(&data, &["import", payment.to_str().unwrap()]);
    let moved = tempfile::tempdir().unwrap();
    let alone = moved.path().join("pack");
    ok(
        &data,
        &["claim-pack", "cascade", "--out", alone.to_str().unwrap()],
    );
    assert_eq!(
        std::fs::read(alone.join("originals/cascade-statement.csv")).unwrap(),
        std::fs::read(&payment).unwrap()
    );
    let withheld = std::fs::read_to_string(alone.join("originals_withheld.csv")).unwrap();
    assert!(!withheld.contains("cascade-statement"), "{withheld}");
    ok(&data, &["verify-pack", alone.to_str().unwrap()]);

    // An original changed with the manifest rewritten to match is still found: no
    // entry of the pack was read from it. And the manifest's own hash is printed, to
    // keep apart from the pack.
    let mp = alone.join("MANIFEST.sha256");
    let manifest = std::fs::read_to_string(&mp).unwrap();
    let op = alone.join("originals/cascade-statement.csv");
    let original = std::fs::read(&op).unwrap();
    let mut changed = original.clone();
    let at = changed.iter().position(|b| b.is_ascii_digit()).unwrap();
    changed[at] = if changed[at] == b'9' {
        b'8'
    } else {
        changed[at] + 1
    };
    std::fs::write(&op, &changed).unwrap();
    let sha = |b: &[u8]| {
        use sha2::{Digest, Sha256};
        Sha256::digest(b)
            .iter()
            .map(|x| format!("{x:02x}"))
            .collect::<String>()
    };
    let rewritten: String = manifest
        .lines()
        .map(|l| match l.split_once("  ") {
            Some((_, "originals/cascade-statement.csv")) => {
                format!("{}  originals/cascade-statement.csv\n", sha(&changed))
            }
            _ => format!("{l}\n"),
        })
        .collect();
    std::fs::write(&mp, rewritten).unwrap();
    let err = fail(&data, &["verify-pack", alone.to_str().unwrap()], 5);
    assert!(
        err.contains(
            "originals/cascade-statement.csv: no journal entry of the pack was read from it"
        ),
        "{err}"
    );
    std::fs::write(&op, &original).unwrap();
    std::fs::write(&mp, &manifest).unwrap();
    let again = ok(&data, &["verify-pack", alone.to_str().unwrap()]);
    assert!(
        again.contains(&format!(
            "SHA-256 of MANIFEST.sha256: {}",
            sha(manifest.as_bytes())
        )),
        "{again}"
    );
}

/// The PDF's text, decoded from its content streams through its ToUnicode map: one
/// line per baseline, cells separated by " | ".
fn pdf_text(pdf: &[u8]) -> String {
    let mut streams = Vec::new();
    let mut rest = pdf;
    while let Some(i) = find(rest, b"stream\n") {
        let body = &rest[i + 7..];
        let Some(j) = find(body, b"\nendstream") else {
            break;
        };
        let dict_start = rfind(&rest[..i], b"<<").unwrap_or(0);
        let dict = String::from_utf8_lossy(&rest[dict_start..i]).to_string();
        streams.push((dict, body[..j].to_vec()));
        rest = &body[j + 10..];
    }
    let mut map: BTreeMap<String, char> = BTreeMap::new();
    let mut contents = Vec::new();
    for (dict, data) in &streams {
        if dict.contains("/Length1") {
            continue; // the font file
        }
        let text = if dict.contains("/FlateDecode") {
            let mut s = String::new();
            flate2::read::ZlibDecoder::new(&data[..])
                .read_to_string(&mut s)
                .unwrap();
            s
        } else {
            String::from_utf8_lossy(data).to_string()
        };
        if text.contains("beginbfchar") {
            for l in text.lines() {
                if let Some((g, u)) = l.split_once("> <") {
                    let g = g.trim_start_matches('<').to_string();
                    let u = u.trim_end_matches('>');
                    let units: Vec<u16> = (0..u.len() / 4)
                        .map(|k| u16::from_str_radix(&u[4 * k..4 * k + 4], 16).unwrap())
                        .collect();
                    if let Some(c) = char::decode_utf16(units).next().and_then(|c| c.ok()) {
                        map.insert(g, c);
                    }
                }
            }
        } else {
            contents.push(text);
        }
    }
    let mut out = String::new();
    for (n, c) in contents.iter().enumerate() {
        out.push_str(&format!("--- page {}\n", n + 1));
        let mut last_y = String::new();
        let mut line: Vec<String> = Vec::new();
        for l in c.lines().filter(|l| l.starts_with("BT ")) {
            let parts: Vec<&str> = l.split_whitespace().collect();
            let y = parts[5].to_string();
            let hex = l.split('<').nth(1).unwrap().split('>').next().unwrap();
            let s: String = (0..hex.len() / 4)
                .map(|k| map.get(&hex[4 * k..4 * k + 4]).copied().unwrap_or('?'))
                .collect();
            if y != last_y && !line.is_empty() {
                out.push_str(&line.join(" | "));
                out.push('\n');
                line.clear();
            }
            last_y = y;
            line.push(s);
        }
        if !line.is_empty() {
            out.push_str(&line.join(" | "));
            out.push('\n');
        }
    }
    out
}

fn find(h: &[u8], n: &[u8]) -> Option<usize> {
    h.windows(n.len()).position(|w| w == n)
}

fn rfind(h: &[u8], n: &[u8]) -> Option<usize> {
    h.windows(n.len()).rposition(|w| w == n)
}

#[test]
fn the_demo_pack_and_the_insolvency_record() {
    let t = demo();
    let d = t.path();
    // In default everywhere: critical with the sentence, shipping refused.
    let risk = ok(d, &["risk", "--format", "json"]);
    let risk: Value = serde_json::from_str(&risk).unwrap();
    let cascade = risk
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["distributor"] == "cascade")
        .unwrap();
    assert_eq!(cascade["level"], "critical");
    let insolvent = cascade["signals"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["code"] == "insolvent")
        .unwrap();
    assert!(insolvent["message"]
        .as_str()
        .unwrap()
        .contains("an out-of-court liquidation on 2016-06-03"));
    fail(
        d,
        &[
            "ship",
            "--to",
            "cascade",
            "--sku",
            "MRG-001-CD",
            "--units",
            "1",
        ],
        4,
    );
    // Asked about a day before it, the record says when the failure is from.
    let before = fail(
        d,
        &["insolvency", "show", "cascade", "--as-of", "2016-05-01"],
        3,
    );
    assert!(
        before.contains("cascade had no failure on record as of 2016-05-01: the one recorded is dated 2016-06-03"),
        "{before}"
    );
    // The deadlines, each with its rule.
    let show = ok(d, &["insolvency", "show", "cascade"]);
    for s in [
        "Reclamation demand",
        "2016-06-23",
        "UCC 2-702; 11 U.S.C. §546(c)",
        "§503(b)(9)",
        "Proof of claim",
        "UCC-1 lapse",
        "2017-06-25",
        "D-2016-001",
        "not legal advice",
        "Stock at risk",
    ] {
        assert!(show.contains(s), "{s} not in\n{show}");
    }
    // Recording the same again changes nothing; new details are a new version.
    let again = ok(
        d,
        &[
            "insolvency",
            "add",
            "cascade",
            "--kind",
            "liquidation",
            "--on",
            "2016-06-03",
            "--case",
            "out-of-court liquidation for the secured lender",
            "--contact",
            "counsel to Cascade's secured lender",
        ],
    );
    assert!(again.contains("nothing changed"), "{again}");
    fail(
        d,
        &[
            "insolvency",
            "add",
            "cascade",
            "--kind",
            "bankruptcy",
            "--on",
            "2016-06-03",
        ],
        3,
    );
    fail(
        d,
        &[
            "insolvency",
            "add",
            "nobody",
            "--kind",
            "liquidation",
            "--on",
            "2016-06-03",
        ],
        3,
    );
    // The pack, snapshot by snapshot.
    let pack = d.join("pack");
    ok(
        d,
        &["claim-pack", "cascade", "--out", pack.to_str().unwrap()],
    );
    for f in [
        "stock_schedule.csv",
        "shipments.csv",
        "windows.csv",
        "receivables.csv",
        "perfection.csv",
        "demands.csv",
        "artists.csv",
        "preference_window.csv",
        "proof_of_claim.json",
    ] {
        let text = std::fs::read_to_string(pack.join(f)).unwrap();
        insta::assert_snapshot!(format!("claim_pack_{f}"), text);
    }
    let pdf = std::fs::read(pack.join("claim.pdf")).unwrap();
    // The journal's hashes cover the demo files' paths (a temporary directory): hidden.
    let text: String = pdf_text(&pdf)
        .lines()
        .map(|l| match l.strip_prefix("Journal head on ") {
            Some(rest) => format!(
                "Journal head on {} <hash>\n",
                rest.rsplit_once(' ').map_or(rest, |x| x.0)
            ),
            None => format!("{l}\n"),
        })
        .collect();
    insta::assert_snapshot!("claim_pack_claim_pdf_text", text);
    let verify = std::fs::read_to_string(pack.join("VERIFY.txt")).unwrap();
    assert!(verify.contains("sha256sum -c MANIFEST.sha256"));
    assert!(verify.contains("backstock verify-pack DIR"));

    // A document attached is in the next pack, byte for byte; the same bytes twice
    // record once.
    let doc = d.join("lender-letter.txt");
    std::fs::write(&doc, "The lender acknowledges the consignment.\n").unwrap();
    let a = ok(
        d,
        &[
            "document",
            "add",
            "cascade",
            doc.to_str().unwrap(),
            "--kind",
            "correspondence",
        ],
    );
    assert!(a.starts_with("Attached lender-letter.txt"), "{a}");
    let b = ok(
        d,
        &[
            "document",
            "add",
            "cascade",
            doc.to_str().unwrap(),
            "--kind",
            "correspondence",
        ],
    );
    assert!(b.contains("nothing changed"), "{b}");
    fail(
        d,
        &[
            "document",
            "add",
            "cascade",
            doc.to_str().unwrap(),
            "--kind",
            "memo",
        ],
        3,
    );
    let listed = ok(d, &["document", "list", "cascade"]);
    assert!(
        listed.contains("lender-letter.txt")
            && listed.contains("cascade-distribution-agreement-2012.txt"),
        "{listed}"
    );
    let pack2 = d.join("pack2");
    ok(
        d,
        &["claim-pack", "cascade", "--out", pack2.to_str().unwrap()],
    );
    assert_eq!(
        std::fs::read(pack2.join("documents/lender-letter.txt")).unwrap(),
        std::fs::read(&doc).unwrap()
    );
    ok(d, &["verify-pack", pack2.to_str().unwrap()]);

    // The liquidator's offer weighed: nothing recorded; the shipping split to the cent.
    let before = ok(d, &["journal", "--format", "json"]);
    let offer: Value = serde_json::from_str(&ok(
        d,
        &[
            "buyback",
            "cascade",
            "--offer-per-unit",
            "1.00",
            "--shipping",
            "150.00",
            "--format",
            "json",
        ],
    ))
    .unwrap();
    let lines = offer["lines"].as_array().unwrap();
    let minor = |v: &Value| {
        v["amount_minor"]
            .as_i64()
            .unwrap_or_else(|| cents(v.as_str().unwrap_or("0")))
    };
    let units: i64 = lines
        .iter()
        .map(|l| l["units_held"].as_i64().unwrap())
        .sum();
    assert_eq!(units, offer["units"].as_i64().unwrap());
    let ship: i64 = lines.iter().map(|l| minor(&l["shipping"])).sum();
    assert_eq!(ship, 15000);
    assert_eq!(minor(&offer["cost"]), units * 100 + 15000);
    assert_eq!(ok(d, &["journal", "--format", "json"]), before);
    // A bankruptcy whose reclamation deadline is ten days off: alerted once (by `insolvency
    // show` and `risk`), and the alert of its level rising still comes.
    ok(
        d,
        &[
            "insolvency",
            "add",
            "northwind",
            "--kind",
            "bankruptcy",
            "--on",
            "2016-06-20",
            "--petition-date",
            "2016-06-20",
            "--claims-bar-date",
            "2016-10-15",
        ],
    );
    ok(d, &["risk"]);
    ok(d, &["risk"]);
    let alerts: Value = serde_json::from_str(&ok(d, &["alerts", "--format", "json"])).unwrap();
    let bodies: Vec<Value> = alerts
        .as_array()
        .unwrap()
        .iter()
        .filter(|a| a["distributor"] == "northwind")
        .map(|a| serde_json::from_str(a["body"].as_str().unwrap()).unwrap())
        .collect();
    let deadline: Vec<&Value> = bodies
        .iter()
        .filter(|b| b["event"] == "deadline_approaching")
        .collect();
    assert_eq!(deadline.len(), 1, "{bodies:?}");
    assert_eq!(deadline[0]["deadline"], "reclamation_demand");
    assert_eq!(deadline[0]["due_on"], "2016-07-10");
    assert!(bodies
        .iter()
        .any(|b| b["event"] == "risk_level_rose" && b["to"] == "critical"));
    let stock = ok(d, &["stock", "--holder", "northwind"]);
    assert!(
        stock.contains("AT RISK — northwind: Insolvent: a bankruptcy petition on 2016-06-20"),
        "{stock}"
    );
    // Recording still needs --sku, --units and --paid.
    let e = fail(d, &["buyback", "cascade", "--sku", "MRG-014-CD"], 3);
    assert!(e.contains("--units"), "{e}");
    ok(d, &["verify"]);
}

/// A failure is recorded after it happens: the pack made on the default date (the
/// petition) still counts everything effective by then — the failure itself, and
/// so its windows and §503(b)(9) figures (they came out empty, 0.00, before). And a
/// delivery is dated by the day the distributor confirmed receiving it: SH-5089 left
/// for northwind on 2016-05-10, 50 days before the petition, and its SKUs were
/// received from 2016-05-13 to 2016-05-18 — those received from 2016-05-15 on are in
/// the 45 days, the others not.
#[test]
fn a_failure_recorded_after_the_petition_and_a_receipt_date_count_in_the_pack() {
    let t = demo();
    let data = t.path().to_path_buf();
    // The demo's today is 2016-06-30: the petition of 2016-06-29 is recorded after it.
    ok(
        &data,
        &[
            "insolvency",
            "add",
            "northwind",
            "--kind",
            "bankruptcy",
            "--on",
            "2016-06-29",
            "--petition-date",
            "2016-06-29",
            "--contact",
            "Trustee: J. Park",
        ],
    );
    // New details add to the record: the contact and petition given before are kept
    // (they were erased).
    let more = [
        "insolvency",
        "add",
        "northwind",
        "--kind",
        "bankruptcy",
        "--on",
        "2016-06-29",
        "--claims-bar-date",
        "2016-10-31",
    ];
    ok(&data, &more);
    let show = ok(&data, &["insolvency", "show", "northwind"]);
    assert!(
        show.contains("Trustee: J. Park")
            && show.contains("2016-10-31")
            && show.contains("petition 2016-06-29"),
        "{show}"
    );
    // The failure is in the alert log as soon as the label looks (it waited for `risk`).
    let alerts = ok(&data, &["alerts", "--format", "csv"]);
    assert!(
        alerts
            .lines()
            .any(|l| l.contains("northwind") && l.contains("critical") && l.contains("level")),
        "{alerts}"
    );
    let pack = data.join("pack-nw");
    let out = ok(
        &data,
        &["claim-pack", "northwind", "--out", pack.to_str().unwrap()],
    );
    assert!(out.contains("as of 2016-06-29"), "{out}");
    let windows = csv_rows(&pack.join("windows.csv"));
    let sh5089: BTreeMap<String, String> = windows
        .iter()
        .filter(|r| r["shipment_id"] == "SH-5089")
        .map(|r| (r["sku"].clone(), r["received_on"].clone()))
        .collect();
    assert_eq!(
        sh5089.get("MRG-004-CD").map(String::as_str),
        Some("2016-05-17"),
        "{windows:?}"
    );
    assert_eq!(
        sh5089.get("MRG-006-CD").map(String::as_str),
        Some("2016-05-18")
    );
    assert!(
        !sh5089.contains_key("MRG-001-CD"),
        "received 2016-05-13: {sh5089:?}"
    );
    assert!(
        sh5089.values().all(|d| d.as_str() >= "2016-05-15"),
        "{sh5089:?}"
    );
    for r in windows.iter().filter(|r| r["shipment_id"] == "SH-5089") {
        assert_eq!(
            (r["date"].as_str(), r["receipt_confirmed"].as_str()),
            ("2016-05-10", "yes")
        );
        assert_eq!(r["in_20_days"], "no");
    }
    let units: i64 = windows
        .iter()
        .map(|r| r["units"].parse::<i64>().unwrap())
        .sum();
    let poc: Value =
        serde_json::from_slice(&std::fs::read(pack.join("proof_of_claim.json")).unwrap()).unwrap();
    assert_eq!(poc["insolvency"]["on"], "2016-06-29", "{poc}");
    assert_eq!(
        poc["reclamation_45_days"]["units"].as_i64(),
        Some(units),
        "{poc}"
    );
    assert_eq!(poc["reclamation_45_days"]["from"], "2016-05-15", "{poc}");
    // Nothing else was recorded late: the stock schedule is the ledger's on that day.
    let schedule = csv_rows(&pack.join("stock_schedule.csv"));
    let stock = ok(
        &data,
        &[
            "stock",
            "--holder",
            "northwind",
            "--as-of",
            "2016-06-29",
            "--format",
            "csv",
        ],
    );
    let ledger = stock_units_by_sku(&stock, None);
    let pack_held = units_by_sku(&schedule, "units_expected_on_hand");
    assert_eq!(pack_held, ledger);
    assert!(ok(&data, &["verify-pack", pack.to_str().unwrap()]).contains("OK"));
}

/// What has happened cannot be dated after the label's today: a filing, a notice, a
/// demand, an answer or a receipt dated later is refused (it was recorded and then
/// shown nowhere until that day); an import of such rows is warned about; a transfer
/// demand must name a distributor on record; a return of units consigned earlier in
/// the same file is not warned about as more than the distributor holds.
#[test]
fn dates_after_today_are_refused_or_warned_and_same_file_returns_count() {
    let t = demo();
    let d = t.path().to_path_buf();
    // The demo's today is 2016-06-30.
    for (args, flag) in [
        (
            vec![
                "legal",
                "ucc1",
                "--distributor",
                "northwind",
                "--file-number",
                "X-1",
                "--state",
                "NC",
                "--filed-on",
                "2017-06-01",
            ],
            "--filed-on 2017-06-01",
        ),
        (
            vec![
                "legal",
                "notice",
                "--distributor",
                "northwind",
                "--secured-party",
                "Bank",
                "--sent-on",
                "2016-07-02",
            ],
            "--sent-on 2016-07-02",
        ),
        (
            vec![
                "demand",
                "add",
                "--distributor",
                "northwind",
                "--on",
                "2016-12-25",
            ],
            "--on 2016-12-25",
        ),
        (
            vec!["confirm-receipt", "SH-5089", "--on", "2016-07-01"],
            "--on 2016-07-01",
        ),
    ] {
        let err = fail(&d, &args, 3);
        assert!(
            err.contains(flag) && err.contains("after the label's today (2016-06-30)"),
            "{err}"
        );
    }
    let err = fail(
        &d,
        &[
            "demand",
            "add",
            "--distributor",
            "cascade",
            "--kind",
            "transfer",
            "--to",
            "nobody",
            "--on",
            "2016-06-30",
        ],
        3,
    );
    assert!(err.contains("--to nobody"), "{err}");
    let payments = write(
        &d,
        "payments.csv",
        "payment_id,date,distributor,amount,currency,statement_id\nP-TYPO,2061-06-20,northwind,10.00,USD,\n",
    );
    let out = ok(&d, &["import", &payments, "--dry-run"]);
    assert!(
        out.contains("dated after the label's today (2016-06-30)") && out.contains("2061-06-20"),
        "{out}"
    );
    // A consignment and its return in one file: the return is within what was sent.
    let ships = write(
        &d,
        "ships.csv",
        "shipment_id,date,from,to,sku,units,po_number\n\
SH-9001,2016-06-20,label,northwind,MRG-019-DVD,20,\n\
RT-9001,2016-06-25,northwind,label,MRG-019-DVD,20,\n",
    );
    let out = ok(&d, &["import", &ships, "--dry-run"]);
    assert!(!out.contains("takes 20 × MRG-019-DVD"), "{out}");
}

/// A continuation extends its filing's lapse by five years from the lapse (9-515(e)),
/// and one filed outside the window extends nothing: the command says so (it printed
/// five years from the continuation's own filing day either way).
#[test]
fn a_continuation_is_said_to_extend_the_lapse_or_nothing() {
    let t = demo();
    let d = t.path().to_path_buf();
    // A UCC-1 against northwind in NC: its number, filing day and what it continues.
    let file = |number: &str, filed_on: &str, continues: Option<&str>| {
        let mut args = vec![
            "legal",
            "ucc1",
            "--distributor",
            "northwind",
            "--file-number",
            number,
            "--state",
            "NC",
            "--filed-on",
            filed_on,
        ];
        if let Some(c) = continues {
            args.extend(["--continues", c]);
        }
        ok(&d, &args)
    };
    let out = file("X-1", "2011-07-01", None);
    assert!(
        out.contains("lapses on 2016-07-01 unless continued"),
        "{out}"
    );
    let out = file("X-1-C", "2016-06-15", Some("X-1"));
    assert!(
        out.contains("lapses on 2021-07-01 unless continued"),
        "{out}"
    );
    // The demo's own filing (2012-06-20) lapses 2017-06-20; its window opens 2016-12-20.
    let out = file("EARLY-C", "2016-06-30", Some("20121234567"));
    assert!(
        out.contains("does not continue the filing") && out.contains("still lapses on 2017-06-20"),
        "{out}"
    );
}

/// Writing a statement off is the label's accounting; the distributor still owes it,
/// so the claim does not shrink (it lost what was written off).
#[test]
fn a_write_off_does_not_shrink_the_claim() {
    let t = demo();
    let d = t.path().to_path_buf();
    let owed = |name: &str| -> (i64, i64) {
        let pack = d.join(name);
        ok(
            &d,
            &[
                "claim-pack",
                "cascade",
                "--as-of",
                "2016-06-30",
                "--out",
                pack.to_str().unwrap(),
            ],
        );
        let poc: Value =
            serde_json::from_slice(&std::fs::read(pack.join("proof_of_claim.json")).unwrap())
                .unwrap();
        (
            poc["amount_owed_for_sales"]["amount_minor"]
                .as_i64()
                .unwrap(),
            poc["written_off_in_the_books"]["amount_minor"]
                .as_i64()
                .unwrap(),
        )
    };
    let before = owed("before");
    assert_eq!(before.1, 0);
    ok(
        &d,
        &[
            "writeoff",
            "cascade",
            "--statement",
            "CASCADE-2015-06",
            "--reason",
            "bad debt",
            "--on",
            "2016-06-30",
        ],
    );
    let after = owed("after");
    assert_eq!(after, (before.0, 93_860));
    // The artists' royalties on the statement written off were not collected either:
    // artists.csv keeps them.
    let artists = |name: &str| std::fs::read_to_string(d.join(name).join("artists.csv")).unwrap();
    let on_it = |text: &str| {
        text.lines()
            .filter(|l| l.contains(",CASCADE-2015-06,"))
            .count()
    };
    assert!(on_it(&artists("before")) > 0);
    assert_eq!(on_it(&artists("after")), on_it(&artists("before")));
    assert_eq!(artists("after"), artists("before"));
    // Each row of the receivables CSV adds up (it had no written_off column).
    ok(
        &d,
        &[
            "deduction",
            "accept",
            "cascade",
            "CASCADE-2014-07",
            "--reason",
            "freight",
        ],
    );
    let csv = ok(&d, &["receivables", "--format", "csv"]);
    let rows = {
        let p = d.join("receivables.csv");
        std::fs::write(&p, &csv).unwrap();
        csv_rows(&p)
    };
    assert!(rows.iter().any(|r| r["written_off"] == "938.60"), "{csv}");
    assert!(rows.iter().any(|r| r["deducted"] != "0.00"), "{csv}");
    for r in &rows {
        let c = |k: &str| cents(&r[k]);
        assert_eq!(
            c("net_due") - c("paid") - c("credited") - c("deducted") - c("written_off"),
            c("open"),
            "{r:?}"
        );
    }
}

/// Detained units are shown as such: the stock schedule's `units_detained` per SKU is
/// what `stock --all` lists as detained at the distributor on the pack's date, and the
/// PDF says how many of the units it holds are detained.
#[test]
fn detained_units_are_shown_in_the_pack() {
    let t = demo();
    let data = t.path();
    let pack = data.join("pack-today");
    ok(
        data,
        &[
            "claim-pack",
            "cascade",
            "--as-of",
            "2016-06-30",
            "--out",
            pack.to_str().unwrap(),
        ],
    );
    let rows = csv_rows(&pack.join("stock_schedule.csv"));
    let in_pack = units_by_sku(&rows, "units_detained");
    let stock = ok(
        data,
        &[
            "stock",
            "--holder",
            "cascade",
            "--as-of",
            "2016-06-30",
            "--all",
            "--format",
            "csv",
        ],
    );
    let books = stock_units_by_sku(&stock, Some("detained"));
    assert!(!books.is_empty());
    assert_eq!(in_pack, books);
    let total: i64 = books.values().sum();
    let pdf = pdf_text(&std::fs::read(pack.join("claim.pdf")).unwrap());
    assert!(
        pdf.contains(&format!("Of the units it holds, {total} are detained")),
        "{pdf}"
    );
}

/// A pack counts entries effective by its date that reached the label later (a
/// statement of a period before the petition, issued after it); its cover says so,
/// since `receivables --as-of` (the books as known that day) leaves them out.
#[test]
fn a_pack_says_what_it_counts_that_arrived_after_its_date() {
    let t = demo();
    let data = t.path();
    let pdf = northwind_failed_pack_text(data, "2016-05-15");
    assert!(
        pdf.contains(
            "about northwind effective by 2016-05-15 that reached the label after that day"
        ),
        "{pdf}"
    );
}

/// Stock priced in another currency than the agreement's is counted, not valued: the
/// cover says so instead of leaving it out of the value without a word.
#[test]
fn stock_priced_in_another_currency_is_said_on_the_cover() {
    let t = demo();
    let data = t.path();
    let f = |name: &str, text: &str| {
        let p = data.join(name);
        std::fs::write(&p, text).unwrap();
        p.to_string_lossy().to_string()
    };
    ok(
        data,
        &[
            "import",
            &f("eur.csv", EUR_PRICED_CATALOG),
            &f("eur_ship.csv", EUR_PRICED_SHIPMENTS),
        ],
    );
    let pdf = northwind_failed_pack_text(data, "2016-06-20");
    assert!(
        pdf.contains(
            "Of the stock it holds, 40 units of 1 SKU priced in EUR: counted, not valued in USD"
        ),
        "{pdf}"
    );
}

/// A statement in another currency than the agreement's is owed in that currency: the
/// pack lists it in receivables.csv with a total of its own (equal to what
/// `receivables` reports apart for that currency), proof_of_claim.json claims it
/// unconverted, and the cover says so — it is not left out of the claim.
#[test]
fn statements_in_another_currency_are_claimed_in_that_currency() {
    let t = demo();
    let data = t.path();
    let f = |name: &str, text: &str| {
        let p = data.join(name);
        std::fs::write(&p, text).unwrap();
        p.to_string_lossy().to_string()
    };
    let out = ok(
        data,
        &[
            "import",
            &f(
                "gbp.csv",
                "statement_id,distributor,period_start,period_end,issued_on,kind,sku,units,amount,currency,memo\n\
NW-UK-2016-04,northwind,2016-04-01,2016-04-30,2016-05-05,sale,MRG-001-CD,3,27.00,GBP,UK branch\n\
NW-UK-2016-04,northwind,2016-04-01,2016-04-30,2016-05-05,reserve_withheld,,,3.00,GBP,\n",
            ),
            &f(
                "gbp_paid.csv",
                "payment_id,date,distributor,amount,currency,statement_id\n\
PUK1,2016-05-20,northwind,10.00,GBP,NW-UK-2016-04\n",
            ),
        ],
    );
    assert!(out.contains("a claim pack lists GBP apart"), "{out}");
    // The PDF wraps its lines: compare words.
    let pdf = northwind_failed_pack_text(data, "2016-06-20")
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ");
    assert!(
        pdf.contains("Also owed in GBP, on statements in GBP (never converted; receivables.csv): 14.00 for sales and 3.00 in reserves held, 17.00 GBP in all."),
        "{pdf}"
    );
    assert!(
        pdf.contains("Money in USD unless another currency is named"),
        "{pdf}"
    );
    let pack = data.join("pack-northwind-2016-06-20");
    let rows = csv_rows(&pack.join("receivables.csv"));
    let gbp: Vec<_> = rows.iter().filter(|r| r["currency"] == "GBP").collect();
    let line = |kind: &str| {
        gbp.iter()
            .find(|r| r["line"] == kind)
            .unwrap_or_else(|| panic!("no GBP {kind} row in {rows:?}"))
    };
    assert_eq!(line("statement")["statement_id"], "NW-UK-2016-04");
    assert_eq!(
        (
            line("total")["net_due"].as_str(),
            line("total")["paid"].as_str(),
            line("total")["open"].as_str()
        ),
        ("24.00", "10.00", "14.00")
    );
    // The GBP total is what `receivables` reports apart for GBP; the USD total is
    // still the agreement currency's.
    let rec: Value = serde_json::from_str(&ok(
        data,
        &[
            "receivables",
            "--distributor",
            "northwind",
            "--as-of",
            "2016-06-20",
            "--format",
            "json",
        ],
    ))
    .unwrap();
    let other = &rec[0]["other_currencies"][0];
    assert_eq!(other["currency"], "GBP");
    assert_eq!(
        cents(line("total")["open"].as_str()),
        other["open_balance"]["amount_minor"].as_i64().unwrap()
    );
    assert_eq!(
        cents(line("reserve_held")["open"].as_str()),
        other["reserve_held"]["amount_minor"].as_i64().unwrap()
    );
    let usd_total = rows
        .iter()
        .find(|r| r["line"] == "total" && r["currency"] == "USD")
        .unwrap();
    assert_eq!(
        cents(&usd_total["open"]),
        rec[0]["open_balance"]["amount_minor"].as_i64().unwrap()
    );
    let poc: Value =
        serde_json::from_slice(&std::fs::read(pack.join("proof_of_claim.json")).unwrap()).unwrap();
    assert_eq!(poc["total_claim"]["currency"], "USD");
    let claims = poc["claims_in_other_currencies"].as_array().unwrap();
    assert_eq!(claims.len(), 1, "{poc}");
    assert_eq!(claims[0]["currency"], "GBP");
    assert_eq!(claims[0]["amount_owed_for_sales"]["amount_minor"], 1400);
    assert_eq!(claims[0]["reserves_held"]["amount_minor"], 300);
    assert_eq!(claims[0]["total_claim"]["amount_minor"], 1700);
    ok(data, &["verify-pack", pack.to_str().unwrap()]);
}

/// Goods in transit at the petition were not received before it: a shipment whose
/// receipt the distributor confirmed after the petition is not in the 20- or 45-day
/// windows of the pack made as of the petition (it was, dated by its shipment,
/// because the receipt came after the pack's date); an unconfirmed one is dated by
/// its shipment.
#[test]
fn goods_received_after_the_petition_are_not_in_its_windows() {
    let t = demo();
    let data = t.path();
    let ship = data.join("transit.csv");
    std::fs::write(
        &ship,
        "shipment_id,date,from,to,sku,units,po_number\n\
SH-T1,2016-06-15,label,northwind,MRG-001-CD,7,\n\
SH-T2,2016-06-16,label,northwind,MRG-003-CD,5,\n",
    )
    .unwrap();
    ok(data, &["import", ship.to_str().unwrap()]);
    ok(data, &["confirm-receipt", "SH-T1", "--on", "2016-06-25"]);
    northwind_failed_pack_text(data, "2016-06-20");
    let rows = csv_rows(&data.join("pack-northwind-2016-06-20").join("windows.csv"));
    let ids: Vec<&str> = rows.iter().map(|r| r["shipment_id"].as_str()).collect();
    assert!(!ids.contains(&"SH-T1"), "{rows:?}");
    assert!(ids.contains(&"SH-T2"), "{rows:?}");
}

/// Priority is judged at delivery: of the stock a failed distributor holds, the
/// units that came in a delivery made before the label's UCC-1 was filed are not
/// claimed as secured (the newest deliveries taken as the ones still held).
#[test]
fn stock_delivered_while_unperfected_is_not_claimed_as_secured() {
    let t = tempfile::tempdir().unwrap();
    let data = t.path().join("data");
    ok(&data, &["init", "--name", "Tiny Records"]);
    let f = |name: &str, text: &str| {
        let p = t.path().join(name);
        std::fs::write(&p, text).unwrap();
        p.to_string_lossy().to_string()
    };
    ok(
        &data,
        &[
            "import",
            &f(
                "catalog.csv",
                "sku,upc,title,artist,format,release_date,list_price,wholesale_price,unit_cost,currency\n\
TNY-001-CD,,Quiet Harbor,The Nets,CD,2015-11-01,15.98,8.00,1.25,USD\n",
            ),
            &f(
                "distributors.csv",
                "distributor,legal_name,state_of_organization,agreement_start,fee_rate,payment_terms_days,statement_frequency,reserve_rate,reserve_release_days,credit_limit,currency,title_retained,ucc1_file_number,ucc1_filed_on,ucc1_state\n\
acme,Acme Distribution LLC,OR,2016-01-01,0.20,60,monthly,0,0,50000.00,USD,true,OR-2016-1,2016-03-01,OR\n",
            ),
            &f(
                "shipments.csv",
                "shipment_id,date,from,to,sku,units,po_number\n\
M-1,2016-01-05,plant:acme,label,TNY-001-CD,100,\n\
S-FEB,2016-02-01,label,acme,TNY-001-CD,10,\n\
S-APR,2016-04-01,label,acme,TNY-001-CD,10,\n",
            ),
            &f(
                "statements.csv",
                "statement_id,distributor,period_start,period_end,issued_on,kind,sku,units,amount,currency,memo\n\
A-04,acme,2016-04-01,2016-04-30,2016-05-10,sale,TNY-001-CD,5,40.00,USD,\n",
            ),
        ],
    );
    ok(
        &data,
        &[
            "insolvency",
            "add",
            "acme",
            "--kind",
            "bankruptcy",
            "--on",
            "2016-06-01",
            "--petition-date",
            "2016-06-01",
        ],
    );
    let pack = t.path().join("pack");
    ok(
        &data,
        &["claim-pack", "acme", "--out", pack.to_str().unwrap()],
    );
    let poc: Value =
        serde_json::from_slice(&std::fs::read(pack.join("proof_of_claim.json")).unwrap()).unwrap();
    // 15 held: S-APR's 10 and 5 of S-FEB, which came before the UCC-1 (2016-03-01).
    assert_eq!(poc["goods"]["units"], 15, "{poc}");
    assert_eq!(
        poc["secured"]["delivered_while_not_perfected"]["units"], 5,
        "{poc}"
    );
    assert_eq!(poc["secured"]["amount"]["amount_minor"], 8_000, "{poc}");
    let pdf = pdf_text(&std::fs::read(pack.join("claim.pdf")).unwrap())
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ");
    assert!(
        pdf.contains(
            "Of the stock it holds, 5 units (40.00 USD at wholesale) came in those deliveries"
        ),
        "{pdf}"
    );
}

/// A pack opened on a desktop gains a `.DS_Store`: verify-pack passes over it and
/// says so (any other file added still fails); `--out` naming a file is refused
/// clearly; a pack for a distributor with no failure on record says what it is.
#[test]
fn a_desktop_file_in_a_pack_is_passed_over_and_out_must_be_a_directory() {
    let t = demo();
    let data = t.path();
    let pack = data.join("pack-plain");
    let out = ok(
        data,
        &["claim-pack", "northwind", "--out", pack.to_str().unwrap()],
    );
    assert!(
        out.contains("note: no failure of northwind is on record"),
        "{out}"
    );
    std::fs::write(pack.join(".DS_Store"), b"\0\0\0\x01Bud1").unwrap();
    let v = ok(data, &["verify-pack", pack.to_str().unwrap()]);
    assert!(v.starts_with("OK:"), "{v}");
    assert!(v.contains("Passed over (added by a desktop"), "{v}");
    std::fs::write(pack.join("extra.txt"), b"x").unwrap();
    let err = fail(data, &["verify-pack", pack.to_str().unwrap()], 5);
    assert!(err.contains("extra.txt: not in the manifest"), "{err}");
    let file = data.join("a-file");
    std::fs::write(&file, b"x").unwrap();
    let err = fail(
        data,
        &["claim-pack", "northwind", "--out", file.to_str().unwrap()],
        3,
    );
    assert!(
        err.contains("is a file: give a new directory for the pack"),
        "{err}"
    );
}

/// Northwind's bankruptcy petitioned on `day` recorded in the demo, and the text of its
/// claim pack's PDF (as of the petition).
fn northwind_failed_pack_text(data: &Path, day: &str) -> String {
    ok(
        data,
        &[
            "insolvency",
            "add",
            "northwind",
            "--kind",
            "bankruptcy",
            "--on",
            day,
            "--petition-date",
            day,
        ],
    );
    let pack = data.join(format!("pack-northwind-{day}"));
    ok(
        data,
        &["claim-pack", "northwind", "--out", pack.to_str().unwrap()],
    );
    pdf_text(&std::fs::read(pack.join("claim.pdf")).unwrap())
}

/// A statement of a month with the petition in it is effective after the pack's date,
/// so the pack's figures leave it out; the pack lists it apart with what is still
/// owed on it split pro rata by days (said to be an estimate: a statement does not
/// date its sales), in straddling_statements.csv, proof_of_claim.json and the cover.
#[test]
fn a_statement_of_the_petitions_month_is_listed_apart_and_split_by_days() {
    let t = demo();
    let data = t.path();
    let st = data.join("june.csv");
    std::fs::write(
        &st,
        "statement_id,distributor,period_start,period_end,issued_on,kind,sku,units,amount,currency,memo\n\
NW-STRADDLE-06,northwind,2016-06-01,2016-06-30,2016-06-30,sale,MRG-001-CD,30,270.01,USD,\n",
    )
    .unwrap();
    ok(data, &["import", st.to_str().unwrap()]);
    let pdf = northwind_failed_pack_text(data, "2016-06-20")
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ");
    let pack = data.join("pack-northwind-2016-06-20");
    let rows = csv_rows(&pack.join("straddling_statements.csv"));
    let row = rows
        .iter()
        .find(|r| r["statement_id"] == "NW-STRADDLE-06")
        .unwrap_or_else(|| panic!("{rows:?}"));
    assert_eq!(row["days_in_period"], "30");
    assert_eq!(row["days_by_as_of"], "20");
    assert_eq!(row["open"], "270.01");
    // 270.01 × 20 / 30 = 180.006… → 180.01; the rest 90.00: the two add up exactly.
    assert_eq!(row["open_by_as_of_estimated"], "180.01");
    assert_eq!(row["open_after_as_of_estimated"], "90.00");
    assert_eq!(row["currency"], "USD");
    // Not in the receivables schedule as of the petition.
    let rec = csv_rows(&pack.join("receivables.csv"));
    assert!(
        !rec.iter().any(|r| r["statement_id"] == "NW-STRADDLE-06"),
        "{rec:?}"
    );
    let poc: Value =
        serde_json::from_slice(&std::fs::read(pack.join("proof_of_claim.json")).unwrap()).unwrap();
    let past = &poc["statements_running_past_as_of"];
    assert!(
        past["statements"]
            .as_array()
            .unwrap()
            .iter()
            .any(|s| s == "NW-STRADDLE-06"),
        "{past}"
    );
    assert!(poc["supporting_documents"]
        .as_array()
        .unwrap()
        .iter()
        .any(|s| s == "straddling_statements.csv"));
    assert!(
        pdf.contains("Not in the figures above:")
            && pdf.contains("NW-STRADDLE-06 (2016-06-01 to 2016-06-30)"),
        "{pdf}"
    );
    assert!(pdf.contains("pro rata by days"), "{pdf}");
    ok(data, &["verify-pack", pack.to_str().unwrap()]);
}

#[test]
fn a_failure_recorded_later_stops_a_shipment_dated_after_it() {
    let t = demo();
    let d = t.path();
    // Northwind is healthy; its receivership, dated 2016-06-20, is recorded on the
    // label's today (2016-06-30).
    ok(
        d,
        &[
            "insolvency",
            "add",
            "northwind",
            "--kind",
            "receivership",
            "--on",
            "2016-06-20",
        ],
    );
    fn ship(date: &str) -> Vec<&str> {
        vec![
            "ship",
            "--to",
            "northwind",
            "--sku",
            "MRG-001-CD",
            "--units",
            "1",
            "--date",
            date,
        ]
    }
    // Dated after the failure but before it was recorded: judged as of its day the
    // distributor looked fine, and it is refused all the same, saying why.
    let refused = fail(d, &ship("2016-06-25"), 4);
    assert!(
        refused.contains("Insolvent: a receivership on 2016-06-20")
            && refused.contains("Recorded after 2016-06-25")
            && refused.contains("(insolvent)"),
        "{refused}"
    );
    // `risk --format csv` is CSV: a row per distributor, the signals by name.
    let csv = ok(d, &["risk", "--format", "csv"]);
    let mut rows = csv.lines();
    assert_eq!(
        rows.next(),
        Some("as_of,distributor,level,exposure,reason,signals,currency")
    );
    let northwind = rows
        .find(|r| r.starts_with("2016-06-30,northwind,"))
        .unwrap_or_else(|| panic!("{csv}"));
    assert!(
        northwind.starts_with("2016-06-30,northwind,critical,")
            && northwind.contains("insolvent:critical")
            && northwind.ends_with(",USD"),
        "{northwind}"
    );
    // Dated before the failure: history being recorded, judged as of its day.
    let made = ok(d, &ship("2016-06-15"));
    assert!(
        made.contains("Shipped 1 units of MRG-001-CD to northwind"),
        "{made}"
    );
}
