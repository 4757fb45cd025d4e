//! Early warning, credit hold, alerts and legal tracking on the demo label, through
//! the real binary.

mod common;

use std::io::{Read, Write};
use std::path::Path;
use std::process::{Command, Output};

fn run(dir: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_backstock"))
        .env_remove("BACKSTOCK_DATA")
        .arg("--data-dir")
        .arg(dir)
        .args(args)
        .output()
        .unwrap()
}

fn ok(dir: &Path, args: &[&str]) -> String {
    let o = run(dir, args);
    assert!(
        o.status.success(),
        "{args:?} failed: {}",
        String::from_utf8_lossy(&o.stderr)
    );
    String::from_utf8(o.stdout).unwrap()
}

fn demo() -> (tempfile::TempDir, std::path::PathBuf) {
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path().join("demo");
    ok(&d, &["demo"]);
    (tmp, d)
}

/// The history's points are month ends, the first on or after --from, whatever day
/// --from is (from 2015-11-30 they drifted to the 30th and skipped February).
#[test]
fn the_history_steps_by_month_ends() {
    let (_tmp, d) = demo();
    let csv = ok(
        &d,
        &[
            "risk",
            "--history",
            "--from",
            "2015-11-30",
            "--to",
            "2016-06-30",
            "--format",
            "csv",
        ],
    );
    let days: std::collections::BTreeSet<String> = csv
        .lines()
        .skip(1)
        .map(|l| l.split(',').next().unwrap().to_string())
        .collect();
    let want: std::collections::BTreeSet<String> = [
        "2015-11-30",
        "2015-12-31",
        "2016-01-31",
        "2016-02-29",
        "2016-03-31",
        "2016-04-30",
        "2016-05-31",
        "2016-06-30",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    assert_eq!(days, want, "{csv}");
    let csv = ok(
        &d,
        &[
            "risk",
            "--history",
            "--from",
            "2016-01-15",
            "--to",
            "2016-03-31",
            "--format",
            "csv",
        ],
    );
    assert!(
        csv.lines().nth(1).unwrap().starts_with("2016-01-31,"),
        "{csv}"
    );
}

#[test]
fn the_failing_distributor_is_flagged_months_before_it_stops_paying() {
    let (_tmp, d) = demo();
    let csv = ok(
        &d,
        &[
            "risk",
            "--history",
            "--from",
            "2013-01-31",
            "--to",
            "2016-06-30",
            "--format",
            "csv",
        ],
    );
    let mut cascade = Vec::new();
    for line in csv.lines().skip(1) {
        let f: Vec<&str> = line.split(',').collect();
        assert_eq!(f.len(), 3, "{line}");
        match f[1] {
            // The healthy one never leaves ok/watch, through Q4 peaks and one late payment.
            "northwind" => assert!(
                f[2] == "ok" || f[2] == "watch",
                "northwind at {} on {}",
                f[2],
                f[0]
            ),
            "cascade" => cascade.push((f[0].to_string(), f[2].to_string())),
            other => panic!("unexpected distributor {other}"),
        }
    }
    let first = |lvls: &[&str]| {
        cascade
            .iter()
            .find(|(_, l)| lvls.contains(&l.as_str()))
            .map(|(d, _)| d.clone())
            .unwrap()
    };
    let watch = first(&["watch", "alert", "critical"]);
    let alert = first(&["alert", "critical"]);
    assert!(watch < alert, "watch {watch} comes before alert {alert}");
    // Cascade's payments stop after January 2016: the alert must come at least four
    // months earlier.
    let payments = ok(&d, &["journal", "--kind", "payment", "--format", "csv"]);
    let last_cascade_payment = payments
        .lines()
        .filter(|l| l.contains("payment:cascade:"))
        .map(|l| l.split(',').nth(1).unwrap().to_string())
        .max()
        .unwrap();
    assert!(
        last_cascade_payment.as_str() < "2016-02-01",
        "{last_cascade_payment}"
    );
    assert!(
        alert.as_str() <= "2015-09-30",
        "alert only on {alert}; payments stopped after {last_cascade_payment}"
    );

    // JSON shape promised by the issue.
    let json = ok(&d, &["risk", "--format", "json"]);
    let v: serde_json::Value = serde_json::from_str(&json).unwrap();
    let c = v
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["distributor"] == "cascade")
        .unwrap();
    assert_eq!(c["level"], "critical");
    assert!(c["exposure"]["amount"].is_string() && c["exposure"]["currency"] == "USD");
    let codes: Vec<&str> = c["signals"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["code"].as_str().unwrap())
        .collect();
    for code in [
        "payment_lateness",
        "payment_coverage",
        "statements_late_or_missing",
        "stocking_up",
        "demand_refused",
    ] {
        assert!(codes.contains(&code), "{code} missing from {codes:?}");
    }
    for s in c["signals"].as_array().unwrap() {
        assert!(
            s["message"].as_str().unwrap().len() > 20
                && s["value"].is_string()
                && s["level"].is_string()
        );
    }
}

#[test]
fn receivables_as_of_a_past_date_ignore_later_payments() {
    let (_tmp, d) = demo();
    let then = ok(
        &d,
        &[
            "receivables",
            "--as-of",
            "2015-06-30",
            "--distributor",
            "cascade",
            "--format",
            "json",
        ],
    );
    let later = ok(
        &d,
        &[
            "receivables",
            "--as-of",
            "2016-06-30",
            "--distributor",
            "cascade",
            "--format",
            "json",
        ],
    );
    let v: serde_json::Value = serde_json::from_str(&then).unwrap();
    let w: serde_json::Value = serde_json::from_str(&later).unwrap();
    let open_then = v[0]["open_balance"]["amount_minor"].as_i64().unwrap();
    assert!(open_then > 0);
    assert!(
        w[0]["exposure"]["total"]["amount_minor"].as_i64().unwrap()
            > w[0]["exposure"]["credit_limit"]["amount_minor"]
                .as_i64()
                .unwrap()
    );
    let csv = ok(&d, &["receivables", "--format", "csv"]);
    assert!(csv.starts_with("distributor,statement_id,period_end,issued_on,due_on,net_due,paid,open,days_past_due,currency,credited,deducted,written_off\n"));
    let table = ok(&d, &["receivables"]);
    assert!(
        table.contains("cascade") && table.contains("90+"),
        "{table}"
    );
}

#[test]
fn credit_hold_refuses_then_records_an_override() {
    let (_tmp, d) = demo();
    let o = run(
        &d,
        &[
            "ship",
            "--to",
            "cascade",
            "--sku",
            "MRG-014-CD",
            "--units",
            "40",
        ],
    );
    assert_eq!(o.status.code(), Some(4));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.contains("credit hold") && err.contains("--override"),
        "{err}"
    );
    let out = ok(
        &d,
        &[
            "ship",
            "--to",
            "cascade",
            "--sku",
            "MRG-014-CD",
            "--units",
            "40",
            "--override",
            "prepaid by wire",
            "--id",
            "OVR-1",
        ],
    );
    assert!(out.contains("despite a credit hold"), "{out}");
    let entry = ok(&d, &["show", "shipment:OVR-1:MRG-014-CD"]);
    assert!(entry.contains("overrode: prepaid by wire"), "{entry}");
    // A healthy distributor ships without a hold.
    let out = ok(
        &d,
        &[
            "ship",
            "--to",
            "northwind",
            "--sku",
            "MRG-014-CD",
            "--units",
            "20",
            "--id",
            "OK-1",
        ],
    );
    assert!(out.starts_with("Shipped 20 units"), "{out}");
    assert!(ok(&d, &["verify"]).starts_with("OK:"));
}

#[test]
fn alerts_are_recorded_and_posted_to_a_webhook() {
    let (_tmp, d) = demo();
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let server = std::thread::spawn(move || {
        let mut bodies = Vec::new();
        listener.set_nonblocking(false).unwrap();
        for _ in 0..2 {
            let (mut s, _) = listener.accept().unwrap();
            s.set_read_timeout(Some(std::time::Duration::from_secs(5)))
                .unwrap();
            let mut buf = Vec::new();
            let mut chunk = [0u8; 4096];
            loop {
                let n = s.read(&mut chunk).unwrap_or(0);
                if n == 0 {
                    break;
                }
                buf.extend_from_slice(&chunk[..n]);
                let text = String::from_utf8_lossy(&buf);
                if let Some(i) = text.find("\r\n\r\n") {
                    let len: usize = text
                        .lines()
                        .find_map(|l| {
                            l.to_ascii_lowercase()
                                .strip_prefix("content-length:")
                                .map(|v| v.trim().parse().unwrap())
                        })
                        .unwrap_or(0);
                    if buf.len() >= i + 4 + len {
                        break;
                    }
                }
            }
            s.write_all(b"HTTP/1.1 204 No Content\r\nContent-Length: 0\r\n\r\n")
                .unwrap();
            bodies.push(String::from_utf8_lossy(&buf).to_string());
        }
        bodies
    });
    ok(
        &d,
        &[
            "alerts",
            "--webhook",
            &format!("http://127.0.0.1:{port}/hooks/backstock"),
        ],
    );
    // Levels rise from ok: one alert for cascade as of January 2015 (a year and a half before it closes), then another at the end.
    ok(&d, &["risk", "--as-of", "2015-01-31"]);
    ok(&d, &["risk"]);
    let bodies = server.join().unwrap();
    assert!(
        bodies[0].starts_with("POST /hooks/backstock HTTP/1.1"),
        "{}",
        bodies[0]
    );
    assert!(
        bodies[0].contains("\"distributor\":\"cascade\"") && bodies[0].contains("\"to\":\"alert\""),
        "{}",
        bodies[0]
    );
    assert!(
        bodies[1].contains("\"from\":\"alert\"") && bodies[1].contains("\"to\":\"critical\""),
        "{}",
        bodies[1]
    );
    let list = ok(&d, &["alerts", "--format", "csv"]);
    // The log has each change on the month end the data showed it, not on the day
    // someone looked: cascade to watch and to alert in 2014, to critical in 2015.
    let cascade: Vec<(&str, &str)> = list
        .lines()
        .filter(|l| l.contains(",cascade,"))
        .map(|l| {
            let f: Vec<&str> = l.split(',').collect();
            (f[2], f[5])
        })
        .collect();
    // (A payment in June 2014 takes it back to ok for a month between watch and
    // alert: the data's own rhythm.)
    let first = |to: &str| cascade.iter().find(|c| c.1 == to).map(|c| c.0);
    assert!(cascade.len() <= 4, "{list}");
    assert!(
        cascade[0].0.starts_with("2014-") && cascade[0].1 == "watch",
        "{list}"
    );
    assert!(
        first("alert").is_some_and(|d| d.starts_with("2014-")),
        "{list}"
    );
    assert!(
        first("critical").is_some_and(|d| d.starts_with("2015-")),
        "{list}"
    );
    assert_eq!(list.matches("HTTP 204").count(), 2, "{list}");
    // The same level again raises nothing.
    let n = list.lines().count();
    ok(&d, &["risk"]);
    assert_eq!(ok(&d, &["alerts", "--format", "csv"]).lines().count(), n);
}

#[test]
fn a_new_label_is_not_critical_on_day_one() {
    // An agreement signed long before the first box went out, and one shipment this
    // month: no statement is missing yet, and merely looking records no alert.
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path().join("data");
    ok(&d, &["init"]);
    let today = backstock_app::today().to_string();
    let (y, m) = (&today[..4], &today[5..7]);
    let cat = tmp.path().join("catalog.csv");
    std::fs::write(
        &cat,
        "sku,upc,title,artist,format,release_date,list_price,wholesale_price,unit_cost,currency\n\
HP-001-CD,859712000019,First Light,Hollow Pine,CD,2020-01-15,15.98,8.00,1.10,USD\n",
    )
    .unwrap();
    let dist = tmp.path().join("distributors.csv");
    std::fs::write(&dist, format!("distributor,legal_name,state_of_organization,agreement_start,fee_rate,payment_terms_days,statement_frequency,reserve_rate,reserve_release_days,credit_limit,currency,title_retained,ucc1_file_number,ucc1_filed_on,ucc1_state\n\
riverside,Riverside Distribution LLC,OR,{}-01-01,0.20,90,monthly,0.10,180,20000.00,USD,true,2024-001,{}-01-10,OR\n", y.parse::<i32>().unwrap() - 1, y.parse::<i32>().unwrap() - 1)).unwrap();
    let ship = tmp.path().join("shipments.csv");
    std::fs::write(
        &ship,
        format!("shipment_id,date,from,to,sku,units,po_number\nMFG-1,{y}-{m}-01,plant:acme,label,HP-001-CD,500,\nSH-1,{y}-{m}-01,label,riverside,HP-001-CD,50,\n"),
    )
    .unwrap();
    ok(
        &d,
        &["import", cat.to_str().unwrap(), dist.to_str().unwrap()],
    );
    ok(&d, &["import", ship.to_str().unwrap()]);
    let risk = ok(&d, &["risk"]);
    assert!(risk.contains("riverside: OK"), "{risk}");
    assert!(!risk.contains("missing"), "{risk}");
    let alerts = ok(&d, &["alerts", "--format", "csv"]);
    assert_eq!(alerts.lines().count(), 1, "{alerts}");
}

#[test]
fn legal_tracks_ucc_lapse_and_notices() {
    let (_tmp, d) = demo();
    let out = ok(&d, &["legal", "--format", "json"]);
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    let nw = v["agreements"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["distributor"] == "northwind")
        .unwrap();
    assert_eq!(nw["lapse_on"], "2017-06-20");
    assert_eq!(nw["continuation_window_opens"], "2016-12-20");
    ok(
        &d,
        &[
            "legal",
            "notice",
            "--distributor",
            "northwind",
            "--secured-party",
            "First Carolina Bank",
            "--sent-on",
            "2016-06-01",
            "--received-on",
            "2016-06-03",
        ],
    );
    let later = ok(&d, &["legal", "--as-of", "2017-01-15"]);
    assert!(later.contains("northwind"), "{later}");
    let demands = ok(&d, &["demand", "list"]);
    assert!(
        demands.contains("D-2016-001") && demands.contains("refused"),
        "{demands}"
    );
    let rec = ok(&d, &["reconcile", "--distributor", "cascade"]);
    assert!(
        rec.contains("Stock reports that do not match the ledger"),
        "{rec}"
    );
    assert!(
        rec.contains("MRG-001-CD"),
        "the short count of early 2016 shows: {rec}"
    );
}

/// Issue 18.12: on a fresh demo nobody has looked at `risk` or the dashboard yet, and
/// the alert log already holds each level change on the month end the data showed it.
#[test]
fn the_alert_log_of_a_fresh_demo_dates_each_change_when_the_data_showed_it() {
    let (_t, d) = demo();
    let out = ok(&d, &["alerts", "--format", "csv"]);
    let cascade: Vec<&str> = out.lines().filter(|l| l.contains(",cascade,")).collect();
    assert!(
        cascade
            .iter()
            .any(|l| l.contains(",2014-05-31,cascade,ok,watch,")),
        "{out}"
    );
    assert!(
        cascade
            .iter()
            .any(|l| l.contains(",2014-07-31,cascade,") && l.contains(",alert,level ")),
        "{out}"
    );
    assert!(
        !out.lines()
            .any(|l| l.contains(",northwind,")
                && (l.contains(",alert,") || l.contains(",critical,"))),
        "northwind never reaches alert: {out}"
    );
    // Asked again, nothing is logged twice.
    assert_eq!(ok(&d, &["alerts", "--format", "csv"]), out);
}

#[test]
fn a_purchase_order_in_arrears_is_named_whole_not_by_its_first_line() {
    let (tmp, d) = demo();
    let po = tmp.path().join("po.csv");
    std::fs::write(
        &po,
        "po_number,date,distributor,sku,units\nPO-T1,2016-05-20,cascade,MRG-001-CD,10\nPO-T1,2016-05-20,cascade,MRG-014-CD,20\n",
    )
    .unwrap();
    let out = ok(&d, &["import", po.to_str().unwrap()]);
    assert!(
        out.contains("purchase order PO-T1 for 30 units of 2 SKUs came on 2016-05-20 while"),
        "{out}"
    );
}

/// Consigned stock priced only in another currency than the agreement's is left out of
/// the exposure — and `risk` says so, in text and JSON, instead of a smaller figure
/// without a word.
#[test]
fn consigned_units_without_a_price_in_the_agreements_currency_are_said() {
    let (tmp, d) = demo();
    let f = |name: &str, text: &str| {
        let p = tmp.path().join(name);
        std::fs::write(&p, text).unwrap();
        p.to_string_lossy().to_string()
    };
    ok(
        &d,
        &[
            "import",
            &f("eur.csv", common::EUR_PRICED_CATALOG),
            &f("eur_ship.csv", common::EUR_PRICED_SHIPMENTS),
        ],
    );
    let text = ok(&d, &["risk", "--as-of", "2016-06-20"]);
    let northwind = text
        .split("\n\n")
        .find(|b| b.starts_with("northwind:"))
        .unwrap_or_else(|| panic!("{text}"));
    assert!(
        northwind
            .contains("and 40 consigned units not valued: no wholesale price in that currency"),
        "{northwind}"
    );
    let json: serde_json::Value = serde_json::from_str(&ok(
        &d,
        &["risk", "--as-of", "2016-06-20", "--format", "json"],
    ))
    .unwrap();
    let row = json
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["distributor"] == "northwind")
        .unwrap();
    assert_eq!(row["units_not_valued"], 40, "{row}");
    let others: Vec<_> = json
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["distributor"] != "northwind")
        .map(|r| r["units_not_valued"].as_i64())
        .collect();
    assert!(others.iter().all(|n| *n == Some(0)), "{others:?}");
}

/// A payment calendar in distributors.csv (`payment_months`): a month that is not one
/// is refused naming the line and column, and nothing is recorded; months given are
/// kept with the agreement and early warning says it judges by them (text and JSON).
#[test]
fn a_payment_calendar_in_the_agreement_is_read_and_said() {
    let (tmp, d) = demo();
    let f = |name: &str, text: &str| {
        let p = tmp.path().join(name);
        std::fs::write(&p, text).unwrap();
        p.to_string_lossy().to_string()
    };
    let header = "distributor,legal_name,state_of_organization,agreement_start,fee_rate,payment_terms_days,statement_frequency,reserve_rate,reserve_release_days,credit_limit,currency,title_retained,ucc1_file_number,ucc1_filed_on,ucc1_state,payment_months\n";
    let row = |months: &str| {
        format!("{header}cascade,\"Cascade Media Group, LLC\",OR,2016-01-01,0.20,90,monthly,0.20,180,25000.00,USD,true,,,,{months}\n")
    };
    let before = common::journal_len(&d);
    let o = run(&d, &["import", &f("bad.csv", &row("jun;midsummer"))]);
    assert!(!o.status.success());
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.contains("line 2") && err.contains("payment_months") && err.contains("midsummer"),
        "{err}"
    );
    assert!(err.contains("e.g. 6;12 or jun;dec"), "{err}");
    assert_eq!(common::journal_len(&d), before, "nothing recorded");

    ok(&d, &["import", &f("cascade.csv", &row("dec;jun"))]);
    let text = ok(&d, &["risk", "--as-of", "2016-06-20"]);
    let cascade = text
        .split("\n\n")
        .find(|b| b.starts_with("cascade:"))
        .unwrap_or_else(|| panic!("{text}"));
    assert!(
        cascade.contains("Its agreement has it pay everything due in June and December")
            && cascade.contains("the next payment is due by 2016-06-30"),
        "{cascade}"
    );
    let json: serde_json::Value = serde_json::from_str(&ok(
        &d,
        &["risk", "--as-of", "2016-06-20", "--format", "json"],
    ))
    .unwrap();
    let cycle = &json
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["distributor"] == "cascade")
        .unwrap()["payment_cycle"];
    assert_eq!(
        cycle["payment_months"],
        serde_json::json!([6, 12]),
        "{cycle}"
    );
    assert_eq!(cycle["next_expected"], "2016-06-30", "{cycle}");
    assert_eq!(cycle["last_payday"], "2015-12-31", "{cycle}");
}
