//! The real `backstock` binary against temp data directories, as a user runs it.

use std::path::Path;
use std::process::{Command, Output};

fn bin() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_backstock"));
    c.env_remove("BACKSTOCK_DATA");
    c
}

fn run(dir: &Path, args: &[&str]) -> Output {
    bin()
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

fn fail(dir: &Path, args: &[&str], code: i32) -> String {
    let o = run(dir, args);
    assert_eq!(
        o.status.code(),
        Some(code),
        "{args:?}: {}",
        String::from_utf8_lossy(&o.stdout)
    );
    let err = String::from_utf8(o.stderr).unwrap();
    assert!(!err.contains("panicked"), "{err}");
    err
}

fn write(dir: &Path, name: &str, content: &str) -> String {
    let p = dir.join(name);
    std::fs::write(&p, content).unwrap();
    p.to_string_lossy().to_string()
}

const CATALOG: &str =
    "sku,upc,title,artist,format,release_date,list_price,wholesale_price,unit_cost,currency\n\
MRG-001-CD,859712000019,Harbor Lights,The Tidewater Band,CD,2010-01-15,15.98,8.00,1.10,USD\n";
const DISTRIBUTORS: &str = "distributor,legal_name,state_of_organization,agreement_start,fee_rate,payment_terms_days,statement_frequency,reserve_rate,reserve_release_days,credit_limit,currency,title_retained,ucc1_file_number,ucc1_filed_on,ucc1_state\n\
allegro,Allegro Media Group LLC,OR,2012-01-01,0.20,90,monthly,0.20,180,50000.00,USD,true,,,\n";

/// A new database holding the one-release catalog and the allegro agreement.
fn label_with_catalog() -> (tempfile::TempDir, std::path::PathBuf) {
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path().join("data");
    ok(&d, &["init"]);
    let cat = write(tmp.path(), "catalog.csv", CATALOG);
    let dist = write(tmp.path(), "distributors.csv", DISTRIBUTORS);
    ok(&d, &["import", &cat, &dist]);
    (tmp, d)
}

#[test]
fn demo_then_queries_and_verify() {
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path().join("demo");
    let out = ok(&d, &["demo"]);
    assert!(out.contains("Marigold Records"), "{out}");
    assert!(out.contains("cascade (detained)"), "{out}");
    // Running the demo again changes nothing.
    let again = ok(&d, &["demo"]);
    assert!(again.contains("already imported"), "{again}");
    let v = ok(&d, &["verify"]);
    assert!(v.starts_with("OK:"), "{v}");

    // Stock as of a past date, in CSV: cascade held consigned units, still label-owned.
    let csv = ok(
        &d,
        &[
            "stock",
            "--holder",
            "cascade",
            "--as-of",
            "2015-06-30",
            "--format",
            "csv",
        ],
    );
    let mut lines = csv.lines();
    assert_eq!(lines.next(), Some("sku,owner,holder,state,units"));
    let rows: Vec<_> = lines.collect();
    assert!(!rows.is_empty());
    assert!(
        rows.iter().all(|r| r.contains(",label,cascade,on_hand,")),
        "{csv}"
    );

    // A misspelt name is not "holds nothing": the names that do are given.
    let none = ok(&d, &["stock", "--holder", "cascde"]);
    assert!(
        none.contains("cascde holds no stock on the books: check the name. Parties that hold stock: cascade, label, northwind."),
        "{none}"
    );
    let none = ok(&d, &["balances", "--party", "northwnd"]);
    assert!(
        none.contains("No account of northwnd is on the books") && none.contains("northwind"),
        "{none}"
    );

    let json = ok(&d, &["balances", "--party", "cascade", "--format", "json"]);
    let v: serde_json::Value = serde_json::from_str(&json).unwrap();
    let recv = v
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["kind"] == "receivable")
        .unwrap();
    assert!(
        recv["balance"]["amount_minor"].as_i64().unwrap() > 0,
        "cascade owes the label money"
    );

    let j = ok(&d, &["journal", "--kind", "demand"]);
    assert!(j.contains("demand:cascade:2016-06-06"), "{j}");
}

#[test]
fn import_is_idempotent_and_bad_files_change_nothing() {
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path().join("data");
    ok(&d, &["init"]);
    let cat = write(tmp.path(), "catalog.csv", CATALOG);
    let dist = write(tmp.path(), "distributors.csv", DISTRIBUTORS);
    let out = ok(&d, &["import", &dist, &cat]);
    assert!(out.contains("recorded 1 catalog line"), "{out}");
    let again = ok(&d, &["import", &cat]);
    assert!(again.contains("already imported on"), "{again}");

    // A shipments file with two bad lines: every problem named, nothing recorded.
    let bad = write(
        tmp.path(),
        "shipments.csv",
        "shipment_id,date,from,to,sku,units,po_number\n\
         R1,2016-01-02,plant:optimal,label,MRG-001-CD,500,\n\
         S1,2016-02-30,label,allegro,MRG-001-CD,100,PO1\n\
         S2,2016-03-01,label,nobody,MRG-001-CD,ten,PO2\n",
    );
    let err = fail(&d, &["import", &bad], 3);
    assert!(
        err.contains("line 3, column 2 (date): found \"2016-02-30\""),
        "{err}"
    );
    assert!(
        err.contains("line 4, column 4 (to): found \"nobody\""),
        "{err}"
    );
    assert!(
        err.contains("line 4, column 6 (units): found \"ten\""),
        "{err}"
    );
    assert!(err.contains("nothing was recorded"), "{err}");
    let journal = ok(&d, &["journal", "--format", "csv"]);
    assert!(!journal.contains("shipment"), "{journal}");

    // Shipping more than the label holds is refused by the ledger, naming the numbers.
    let over = write(
        tmp.path(),
        "shipments2.csv",
        "shipment_id,date,from,to,sku,units,po_number\n\
         R1,2016-01-02,plant:optimal,label,MRG-001-CD,500,\n\
         S1,2016-02-01,label,allegro,MRG-001-CD,600,PO1\n",
    );
    let err = fail(&d, &["import", &over], 4);
    assert!(
        err.contains("needs 600 units of MRG-001-CD from label, which holds only 500"),
        "{err}"
    );
    let stock = ok(&d, &["stock", "--format", "csv"]);
    assert_eq!(stock.lines().count(), 1, "nothing recorded: {stock}");

    // Dry run shows and changes nothing; unknown header is explained.
    let good = write(
        tmp.path(),
        "shipments3.csv",
        "shipment_id,date,from,to,sku,units,po_number\nR1,2016-01-02,plant:optimal,label,859712000019,500,\nS1,2016-02-01,label,allegro,MRG-001-CD,200,PO1\n",
    );
    let dry = ok(&d, &["import", &good, "--dry-run"]);
    assert!(dry.contains("would record 2 shipments lines"), "{dry}");
    assert_eq!(ok(&d, &["stock", "--format", "csv"]).lines().count(), 1);
    ok(&d, &["import", &good]);
    let stock = ok(&d, &["stock", "--format", "csv"]);
    assert!(
        stock.contains("MRG-001-CD,label,allegro,on_hand,200"),
        "{stock}"
    );
    assert!(
        stock.contains("MRG-001-CD,label,label,on_hand,300"),
        "{stock}"
    );
    let weird = write(tmp.path(), "weird.csv", "a,b,c\n1,2,3\n");
    let err = fail(&d, &["import", &weird], 3);
    assert!(
        err.contains("weird.csv:1: the header matches no known file kind"),
        "{err}"
    );
}

#[test]
fn windows_1252_and_bom_are_read() {
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path().join("data");
    ok(&d, &["init"]);
    let mut bytes =
        b"sku,upc,title,artist,format,release_date,list_price,wholesale_price,unit_cost,currency\n"
            .to_vec();
    bytes.extend_from_slice(
        b"MRG-002-CD,,Caf\xe9 Society,Beyonc\xe9 Tribute,CD,,15.98,8.00,1.10,USD\n",
    );
    std::fs::write(tmp.path().join("cat1252.csv"), &bytes).unwrap();
    ok(
        &d,
        &["import", tmp.path().join("cat1252.csv").to_str().unwrap()],
    );
    let show = ok(&d, &["journal", "--format", "csv"]);
    let id = show
        .lines()
        .nth(1)
        .unwrap()
        .split(',')
        .nth(4)
        .unwrap()
        .to_string();
    let entry = ok(&d, &["show", &id]);
    assert!(entry.contains("Café Society"), "{entry}");
    let bom = write(tmp.path(), "bom.csv", &format!("\u{feff}{CATALOG}"));
    let out = ok(&d, &["import", &bom]);
    assert!(out.contains("recorded 1 catalog line"), "{out}");
}

/// Errors name the line a record is on in the file, whatever ends its lines (Windows
/// CRLF files, as spreadsheets export them) and with blank lines in between.
#[test]
fn errors_name_the_true_line_with_crlf_and_blank_lines() {
    let (tmp, d) = label_with_catalog();
    let payments = "payment_id,date,distributor,amount,currency,statement_id\r\n\
P1,2016-07-01,allegro,10.00,USD,\r\n\
\r\n\
P2,2016-07-01,allegro,ten,USD,\r\n";
    let f = write(tmp.path(), "payments.csv", payments);
    let err = fail(&d, &["import", &f], 3);
    assert!(err.contains("line 4, column 4 (amount)"), "{err}");

    // Statements go through the parallel reader; a bad line sends them to the
    // sequential one. Both number lines the same way.
    let head = "statement_id,distributor,period_start,period_end,issued_on,kind,sku,units,amount,currency,memo";
    let line = "S1,allegro,2016-06-01,2016-06-30,2016-07-20,sale,MRG-001-CD,2,16.00,USD,";
    for (name, eol) in [("lf.csv", "\n"), ("crlf.csv", "\r\n")] {
        let good = format!("{head}{eol}{line}{eol}{eol}{eol}{line}{eol}");
        let f = write(tmp.path(), name, &good);
        let out = ok(&d, &["import", "--dry-run", &f]);
        assert!(out.contains("would record 2 statements lines"), "{out}");
        let bad = format!(
            "{head}{eol}{line}{eol}{eol}{line}{eol}{}{eol}",
            line.replace("16.00", "x")
        );
        let f = write(tmp.path(), &format!("bad-{name}"), &bad);
        let err = fail(&d, &["import", &f], 3);
        assert!(err.contains("line 5, column 9 (amount)"), "{name}: {err}");
    }
}

#[tokio::test]
async fn verify_catches_a_row_edited_in_the_database_file() {
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path().join("demo");
    ok(&d, &["demo"]);
    {
        let url = format!("sqlite://{}", d.join("backstock.db").display());
        let pool = sqlx::SqlitePool::connect(&url).await.unwrap();
        sqlx::query("DROP TRIGGER journal_no_update")
            .execute(&pool)
            .await
            .unwrap();
        // Someone changes the units of one shipment in the journal.
        sqlx::query("UPDATE journal SET body = replace(body, '\"units\":', '\"units\":1') WHERE seq = (SELECT MIN(seq) FROM journal WHERE kind = 'shipment')")
            .execute(&pool)
            .await
            .unwrap();
        pool.close().await;
    }
    let err = fail(&d, &["verify"], 5);
    assert!(err.contains("does not match its hash"), "{err}");
    assert!(err.contains("entry #"), "{err}");
}

/// Imports read the catalog from a derived snapshot; it follows new catalog items and
/// aliases, and `verify` notices when it does not say what the journal says.
#[tokio::test]
async fn the_import_lookups_snapshot_follows_the_journal_and_is_verified() {
    let (tmp, d) = label_with_catalog();
    let head = "statement_id,distributor,period_start,period_end,issued_on,kind,sku,units,amount,currency,memo\n";
    let st = |sku: &str| {
        format!("{head}S1,allegro,2016-06-01,2016-06-30,2016-07-20,sale,{sku},2,16.00,USD,\n")
    };
    let known = write(tmp.path(), "known.csv", &st("MRG-001-CD"));
    let out = ok(&d, &["import", "--dry-run", &known]);
    assert!(out.contains("would record 1 statements line"), "{out}");
    // A code unknown until an alias names it: the snapshot is rebuilt.
    let other = write(tmp.path(), "other.csv", &st("OLD-CODE-1"));
    fail(&d, &["import", "--dry-run", &other], 3);
    ok(&d, &["alias", "add", "OLD-CODE-1", "MRG-001-CD"]);
    let out = ok(&d, &["import", "--dry-run", &other]);
    assert!(out.contains("would record 1 statements line"), "{out}");
    assert!(ok(&d, &["verify"]).starts_with("OK"));
    {
        let url = format!("sqlite://{}", d.join("backstock.db").display());
        let pool = sqlx::SqlitePool::connect(&url).await.unwrap();
        sqlx::query("UPDATE lookups_snapshot SET data = x'28b52ffd0000'")
            .execute(&pool)
            .await
            .unwrap();
        pool.close().await;
    }
    let err = fail(&d, &["verify"], 5);
    assert!(err.contains("import lookups snapshot"), "{err}");
}

#[test]
fn corrections_reverse_without_editing_history() {
    let (tmp, d) = label_with_catalog();
    let sh = write(
        tmp.path(),
        "shipments.csv",
        "shipment_id,date,from,to,sku,units,po_number\nR1,2016-01-02,plant:optimal,label,MRG-001-CD,500,\nS1,2016-02-01,label,allegro,MRG-001-CD,200,PO1\n",
    );
    ok(&d, &["import", &sh]);
    let out = ok(
        &d,
        &[
            "correct",
            "shipment:S1:MRG-001-CD",
            "--reason",
            "keyed twice",
        ],
    );
    assert!(out.contains("Recorded a correction"), "{out}");
    let stock = ok(&d, &["stock", "--format", "csv"]);
    assert!(
        stock.contains("MRG-001-CD,label,label,on_hand,500"),
        "{stock}"
    );
    assert!(!stock.contains("allegro"), "{stock}");
    // The original entry is still there, and so is the correction.
    let j = ok(&d, &["journal", "--format", "csv"]);
    assert!(
        j.contains("shipment:S1:MRG-001-CD") && j.contains("correction:shipment:S1:MRG-001-CD"),
        "{j}"
    );
    // As of before the correction was known, the shipment stands.
    let today = ok(&d, &["stock", "--format", "csv", "--as-of", "2016-03-01"]);
    assert!(
        today.contains("label,allegro,on_hand,200") || today.contains("label,label,on_hand,500")
    );
    fail(
        &d,
        &["correct", "shipment:S1:MRG-001-CD", "--reason", "again"],
        4,
    );
    // The right shipment under the reversed one's id: refused, saying it is reversed
    // already and that only an id of its own is left to give.
    let fixed = write(
        tmp.path(),
        "fixed.csv",
        "shipment_id,date,from,to,sku,units,po_number\nS1,2016-02-01,label,allegro,MRG-001-CD,20,PO1\n",
    );
    let said = fail(&d, &["import", &fixed], 4);
    assert!(
        said.contains("shipment:S1:MRG-001-CD is reversed already (correction:shipment:S1:MRG-001-CD): record this one under an id of its own (a new id in the file, such as the old one with -R1)"),
        "{said}"
    );
    assert!(ok(&d, &["verify"]).starts_with("OK:"));
}

#[test]
fn errors_are_one_clear_line_with_exit_codes() {
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path().join("nothing-here");
    let err = fail(&d, &["stock"], 6);
    assert!(
        err.contains("no backstock database") && err.contains("backstock init"),
        "{err}"
    );
    let o = bin()
        .args(["stock", "--as-of", "2016-13-01"])
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("YYYY-MM-DD"));
    let help = bin().arg("--help").output().unwrap();
    assert!(String::from_utf8_lossy(&help.stdout).contains("Examples:"));
}

#[test]
fn unknown_codes_wait_in_the_unmatched_queue_until_an_alias_posts_them() {
    let (tmp, d) = label_with_catalog();
    let st = write(
        tmp.path(),
        "statements.csv",
        "statement_id,distributor,period_start,period_end,issued_on,kind,sku,units,amount,currency,memo\n\
         AL-1,allegro,2016-01-01,2016-01-31,2016-02-20,sale,MRG-001-CD,10,80.00,USD,\n\
         AL-1,allegro,2016-01-01,2016-01-31,2016-02-20,sale,ALG-77812,4,32.00,USD,their item number\n\
         AL-1,allegro,2016-01-01,2016-01-31,2016-02-20,sale,ALG-77812,1,8.00,USD,\n",
    );
    // Without --hold-unmatched the file is refused, naming the code and its line.
    let err = fail(&d, &["import", &st], 3);
    assert!(
        err.contains("line 3, column 7 (sku): found \"ALG-77812\""),
        "{err}"
    );
    let out = ok(&d, &["import", &st, "--hold-unmatched"]);
    assert!(out.contains("1 unknown code(s): ALG-77812"), "{out}");
    let q = ok(&d, &["unmatched", "--format", "csv"]);
    assert!(
        // Numbers in a CSV are numbers; the currency has its own column.
        q.contains("allegro,AL-1,ALG-77812,sale,5,40.00,3-4,USD"),
        "{q}"
    );
    let bal = |d: &Path| {
        let j: serde_json::Value = serde_json::from_str(&ok(
            d,
            &["balances", "--party", "allegro", "--format", "json"],
        ))
        .unwrap();
        j.as_array()
            .unwrap()
            .iter()
            .find(|r| r["kind"] == "receivable")
            .unwrap()["balance"]["amount_minor"]
            .as_i64()
            .unwrap()
    };
    assert_eq!(bal(&d), 8000);
    let out = ok(&d, &["alias", "add", "ALG-77812", "MRG-001-CD"]);
    assert!(out.contains("posted 1 held line(s)"), "{out}");
    assert_eq!(bal(&d), 12000);
    assert_eq!(ok(&d, &["unmatched", "--format", "csv"]).lines().count(), 1);

    // A code means one SKU: another is refused in those words.
    let cat2 = write(
        tmp.path(),
        "catalog2.csv",
        "sku,upc,title,artist,format,release_date,list_price,wholesale_price,unit_cost,currency\n\
MRG-002-LP,,Harbor Lights (LP),The Tidewater Band,LP,2010-01-15,19.98,10.00,3.10,USD\n",
    );
    ok(&d, &["import", &cat2]);
    let said = fail(&d, &["alias", "add", "ALG-77812", "MRG-002-LP"], 4);
    assert!(
        said.contains("code ALG-77812 already means MRG-001-CD (alias:ALG-77812, recorded")
            && said.contains("reverse it (`backstock correct alias:ALG-77812 --reason"),
        "{said}"
    );
    // The posting of held lines is not reversed alone while its alias stands: the
    // lines would wait in the queue beside an alias that names their SKU.
    let said = fail(
        &d,
        &[
            "correct",
            "statement:allegro:AL-1:held:ALG-77812",
            "--reason",
            "too early",
        ],
        4,
    );
    assert!(
        said.contains("the alias ALG-77812 → MRG-001-CD still stands: correct the alias first"),
        "{said}"
    );
    // Reversed, the alias no longer resolves the code at import; given again (to the
    // LP), it does, under an id of its own.
    ok(
        &d,
        &[
            "correct",
            "alias:ALG-77812",
            "--reason",
            "their code is the LP",
        ],
    );
    let feb = write(
        tmp.path(),
        "feb.csv",
        "statement_id,distributor,period_start,period_end,issued_on,kind,sku,units,amount,currency,memo\n\
         AL-2,allegro,2016-02-01,2016-02-29,2016-03-20,sale,ALG-77812,2,20.00,USD,\n",
    );
    let err = fail(&d, &["import", &feb], 3);
    assert!(err.contains("found \"ALG-77812\""), "{err}");
    // The lines it posted to the CD are reversed too: they wait again, and the alias
    // given anew posts them to the LP (a posting of its own).
    ok(
        &d,
        &[
            "correct",
            "statement:allegro:AL-1:held:ALG-77812",
            "--reason",
            "the LP, not the CD",
        ],
    );
    assert_eq!(ok(&d, &["unmatched", "--format", "csv"]).lines().count(), 2);
    let out = ok(&d, &["alias", "add", "ALG-77812", "MRG-002-LP"]);
    assert!(out.contains("posted 1 held line(s)"), "{out}");
    assert_eq!(ok(&d, &["unmatched", "--format", "csv"]).lines().count(), 1);
    ok(&d, &["import", &feb]);
    let j = ok(&d, &["journal", "--format", "csv"]);
    assert!(j.contains("alias:ALG-77812:2"), "{j}");
    assert!(j.contains("statement:allegro:AL-1:held:ALG-77812:2"), "{j}");
    let aliases = ok(&d, &["alias", "list"]);
    assert!(
        aliases.contains("MRG-002-LP") && !aliases.contains("MRG-001-CD"),
        "{aliases}"
    );
    assert!(ok(&d, &["verify"]).starts_with("OK:"));
}

/// A download sold through a distributor that reports it in the canonical layout
/// (no channel column) is digital income: money, no units — before, the import said
/// the distributor sold more than it held and took its holding below zero. A DSR's
/// lines with an unknown code are held with their money (they were dropped) and an
/// alias posts them as digital.
#[test]
fn digital_income_moves_no_units_and_held_dsr_lines_keep_their_money() {
    let (tmp, d) = label_with_catalog();
    let cat = write(
        tmp.path(),
        "digital.csv",
        "sku,upc,title,artist,format,release_date,list_price,wholesale_price,unit_cost,currency\n\
MRG-900-DL,,Harbor Lights (download),The Tidewater Band,Digital Album,2016-01-01,9.99,6.00,0.00,USD\n",
    );
    ok(&d, &["import", &cat]);
    let st = write(
        tmp.path(),
        "statements.csv",
        "statement_id,distributor,period_start,period_end,issued_on,kind,sku,units,amount,currency,memo\n\
AL-D1,allegro,2016-01-01,2016-01-31,2016-02-20,sale,MRG-900-DL,10,60.00,USD,\n",
    );
    let out = ok(&d, &["import", &st]);
    assert!(!out.contains("holding goes below zero"), "{out}");
    let stock = ok(&d, &["stock", "--format", "csv"]);
    assert!(!stock.contains("MRG-900-DL"), "{stock}");
    let rec = ok(&d, &["receivables", "--format", "json"]);
    assert!(rec.contains("6000"), "{rec}");
    let shown = ok(&d, &["show", "statement:allegro:AL-D1"]);
    assert!(shown.contains("\"channel\":\"digital\""), "{shown}");

    // A DSR whose single (EAN 5021732123459) the catalog does not know yet.
    let dsr = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join(
        "../dsr/tests/data/DSR_PADPIDA2024010101B_PADPIDA2014111801Y_TunestreamPremium-TunestreamStore_2024-06_GB_20240705T093000.tsv",
    );
    let dsr = dsr.to_str().unwrap();
    ok(&d, &["alias", "add", "0093624918526", "MRG-001-CD"]);
    let before = ok(&d, &["balances", "--party", "allegro", "--format", "json"]);
    let err = fail(&d, &["import", dsr, "--distributor", "allegro"], 3);
    assert!(err.contains("5021732123459"), "{err}");
    let out = ok(
        &d,
        &[
            "import",
            dsr,
            "--distributor",
            "allegro",
            "--hold-unmatched",
        ],
    );
    assert!(out.contains("unknown code(s): 5021732123459"), "{out}");
    let q = ok(&d, &["unmatched", "--format", "csv"]);
    assert!(q.contains("5021732123459"), "{q}");
    assert!(ok(&d, &["balances", "--party", "allegro", "--format", "json"]) != before);
    let single = write(
        tmp.path(),
        "single.csv",
        "sku,upc,title,artist,format,release_date,list_price,wholesale_price,unit_cost,currency\n\
ORV-001-CD,,Saltwater,Orla Vane,CD,2024-05-31,15.98,8.00,1.10,USD\n",
    );
    ok(&d, &["import", &single]);
    let stock_before = ok(&d, &["stock", "--format", "csv"]);
    let out = ok(&d, &["alias", "add", "5021732123459", "ORV-001-CD"]);
    assert!(out.contains("posted"), "{out}");
    // A DSR's held line is digital even for a SKU of a physical format: no units.
    assert_eq!(ok(&d, &["stock", "--format", "csv"]), stock_before);
    assert_eq!(ok(&d, &["unmatched", "--format", "csv"]).lines().count(), 1);
    assert!(ok(&d, &["verify"]).starts_with("OK:"));
}

#[test]
fn distributors_own_layouts_import_through_shipped_mappings() {
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path().join("data");
    ok(&d, &["init"]);
    let mut catalog = String::from(
        "sku,upc,title,artist,format,release_date,list_price,wholesale_price,unit_cost,currency\n",
    );
    for (i, upc) in [
        "199758300217",
        "199758300224",
        "199758300231",
        "199758300248",
        "199758300255",
        "199758300262",
    ]
    .iter()
    .enumerate()
    {
        catalog.push_str(&format!(
            "FR-00{},{upc},T{i},A,CD,,15.98,8.00,1.10,USD\n",
            i + 1
        ));
    }
    for (i, ean) in [
        "4060123450010",
        "4060123450027",
        "4060123450034",
        "4060123450041",
        "4060123450058",
    ]
    .iter()
    .enumerate()
    {
        catalog.push_str(&format!("EU-00{i},{ean},E{i},A,CD,,15.98,8.00,1.10,EUR\n"));
    }
    let cat = write(tmp.path(), "catalog.csv", &catalog);
    let dist = write(
        tmp.path(),
        "distributors.csv",
        &format!(
            "{}harborlane,Harbor Lane Distribution LLC,DE,2023-01-01,0.20,60,monthly,0.15,180,50000.00,USD,true,,,\n\
             bandcamp,Bandcamp Inc.,DE,2023-01-01,0.15,14,monthly,0,0,0.00,USD,false,,,\n\
             eurodist,Euro Dist GmbH,DE,2023-01-01,0.20,60,monthly,0.10,180,50000.00,EUR,true,,,\n",
            DISTRIBUTORS.lines().next().unwrap().to_string() + "\n"
        ),
    );
    ok(&d, &["import", &cat, &dist]);
    let data = Path::new(env!("CARGO_MANIFEST_DIR")).join("../mapping/tests/data");
    let list = ok(&d, &["mapping", "list"]);
    assert!(
        list.contains("bandcamp")
            && list.contains("indie-dist-us")
            && list.contains("euro-dist-xlsx"),
        "{list}"
    );

    // Without the distributor the layout does not name, the error says so.
    let us = data.join("indie-dist-us.csv");
    let out = ok(
        &d,
        &[
            "import",
            us.to_str().unwrap(),
            "--mapping",
            "indie-dist-us",
            "--distributor",
            "harborlane",
        ],
    );
    assert!(out.contains("recorded") && out.contains("USD"), "{out}");
    let again = ok(
        &d,
        &[
            "import",
            us.to_str().unwrap(),
            "--mapping",
            "indie-dist-us",
            "--distributor",
            "harborlane",
        ],
    );
    assert!(again.contains("already imported"), "{again}");

    // Imported through a wrong layout and reversed: the same bytes can be read again
    // (the original is kept once) — under a statement id of their own, as the note on
    // the plain re-import says.
    let eu_id = {
        let j = ok(&d, &["journal", "--kind", "statement", "--format", "csv"]);
        j.lines()
            .nth(1)
            .unwrap()
            .split(',')
            .nth(4)
            .unwrap()
            .to_string()
    };
    let sid = eu_id.rsplit(':').next().unwrap().to_string();
    ok(
        &d,
        &[
            "correct",
            &eu_id,
            "--reason",
            "imported for the wrong distributor",
        ],
    );
    let said = ok(
        &d,
        &[
            "import",
            us.to_str().unwrap(),
            "--mapping",
            "indie-dist-us",
            "--distributor",
            "harborlane",
        ],
    );
    assert!(
        said.contains(&format!("note: this file's entry is reversed on record ({eu_id}): not recorded again — to record it again, give it an id of its own (a mapped or distributor's statement: --statement-id ID-R1")),
        "{said}"
    );
    let again = ok(
        &d,
        &[
            "import",
            us.to_str().unwrap(),
            "--mapping",
            "indie-dist-us",
            "--distributor",
            "harborlane",
            "--statement-id",
            &format!("{sid}-R1"),
        ],
    );
    assert!(
        again.contains("everything recorded from it then had been reversed, so it is read again")
            && again.contains("recorded"),
        "{again}"
    );
    let j = ok(&d, &["journal", "--kind", "statement", "--format", "csv"]);
    assert!(j.contains(&format!("{sid}-R1")), "{j}");
    // Again, even under yet another statement id: what the second reading recorded
    // stands, so the bytes are "already imported" (their sales never count twice).
    let third = ok(
        &d,
        &[
            "import",
            us.to_str().unwrap(),
            "--mapping",
            "indie-dist-us",
            "--distributor",
            "harborlane",
            "--statement-id",
            &format!("{sid}-R2"),
        ],
    );
    assert!(third.contains("already imported"), "{third}");
    let j = ok(&d, &["journal", "--kind", "statement", "--format", "csv"]);
    assert!(!j.contains(&format!("{sid}-R2")), "{j}");
    // Provenance names the original file's lines.
    let j = ok(&d, &["journal", "--kind", "statement", "--format", "csv"]);
    let id = j
        .lines()
        .nth(1)
        .unwrap()
        .split(',')
        .nth(4)
        .unwrap()
        .to_string();
    let shown = ok(&d, &["show", &id]);
    assert!(shown.contains("\"first_line\":10"), "{shown}");

    let bc = data.join("bandcamp.csv");
    let out = ok(
        &d,
        &[
            "import",
            bc.to_str().unwrap(),
            "--mapping",
            "bandcamp",
            "--hold-unmatched",
        ],
    );
    assert!(out.contains("recorded"), "{out}");

    let eu = data.join("euro-dist-xlsx.xlsx");
    let out = ok(
        &d,
        &[
            "import",
            eu.to_str().unwrap(),
            "--mapping",
            "euro-dist-xlsx",
            "--distributor",
            "eurodist",
        ],
    );
    assert!(out.contains("EUR"), "{out}");
    assert!(ok(&d, &["verify"]).starts_with("OK:"));

    // A saved mapping shows as TOML and round-trips.
    let toml = ok(&d, &["mapping", "show", "bandcamp"]);
    let mine = write(
        tmp.path(),
        "mine.toml",
        &toml.replace("name = \"bandcamp\"", "name = \"my-bandcamp\""),
    );
    let out = ok(&d, &["mapping", "add", &mine]);
    assert!(out.contains("Saved mapping my-bandcamp"), "{out}");
    assert!(ok(&d, &["mapping", "list"]).contains("my-bandcamp"));
    // Saved again, or under a shipped mapping's name: said, never silently.
    let out = ok(&d, &["mapping", "add", &mine]);
    assert!(
        out.contains("It replaces the mapping my-bandcamp saved before."),
        "{out}"
    );
    let shadow = write(tmp.path(), "bandcamp.toml", &toml);
    let out = ok(&d, &["mapping", "add", &shadow]);
    assert!(
        out.contains("It takes the place of the shipped mapping bandcamp for this label"),
        "{out}"
    );
    // A canonical file given beside the distributor's is read through --mapping too:
    // the error says so.
    let pay = write(
        tmp.path(),
        "payments.csv",
        "payment_id,date,distributor,amount,currency,statement_id\nP1,2024-02-20,harborlane,10.00,USD,\n",
    );
    let said = fail(
        &d,
        &[
            "import",
            &pay,
            "--mapping",
            "indie-dist-us",
            "--distributor",
            "harborlane",
        ],
        3,
    );
    assert!(
        said.contains("is a canonical payments file, not one in the layout of mapping indie-dist-us: --mapping applies to every file of the command — import it in a command of its own, without --mapping"),
        "{said}"
    );
}

#[test]
fn journal_exports_are_never_cut_silently_and_carry_each_transfer() {
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path().join("demo");
    ok(&d, &["demo"]);
    let verify = ok(&d, &["verify"]);
    let entries: usize = verify
        .trim_start_matches("OK: ")
        .split(' ')
        .next()
        .unwrap()
        .replace(',', "")
        .parse()
        .unwrap();
    assert!(entries > 1000, "{verify}");
    // CSV: every entry, each transfer with its accounts and amount.
    let csv = ok(&d, &["journal", "--format", "csv"]);
    let mut r = csv::Reader::from_reader(csv.as_bytes());
    let header: Vec<String> = r.headers().unwrap().iter().map(str::to_string).collect();
    assert_eq!(
        header[..6],
        [
            "#",
            "effective_on",
            "known_on",
            "kind",
            "entry",
            "transfers"
        ]
    );
    let rows: Vec<csv::StringRecord> = r.records().map(Result::unwrap).collect();
    let mut seqs: Vec<&str> = rows.iter().map(|r| r.get(0).unwrap()).collect();
    seqs.dedup();
    assert_eq!(seqs.len(), entries);
    let payment = rows
        .iter()
        .find(|r| &r[3] == "payment" && &r[9] == "money")
        .expect("a payment's transfer");
    assert!(
        payment[10].starts_with("cash ") && payment[11].starts_with("receivable "),
        "{payment:?}"
    );
    let (units, cents) = payment[12].split_once('.').expect("a decimal amount");
    assert!(
        units.bytes().all(|b| b.is_ascii_digit()) && cents.len() == 2,
        "{payment:?}"
    );
    assert_eq!(&payment[13], "USD");
    // The table stops at 1,000 and says so.
    let o = run(&d, &["journal"]);
    assert!(o.status.success());
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.contains("showing the first 1,000 entries; there are more"),
        "{err}"
    );
    // A CSV cut on request says so too.
    let o = run(&d, &["journal", "--format", "csv", "--limit", "10"]);
    assert!(String::from_utf8_lossy(&o.stderr).contains("exported the first 10 entries"));
}

#[test]
fn starting_from_files_the_errors_say_what_to_do() {
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path().join("data");
    ok(&d, &["init"]);
    // A header written the way people write it: the closest kind and what to rename.
    let cat = write(
        tmp.path(),
        "catalog.csv",
        "SKU,UPC,Title,Artist,Format,Release Date,List Price,wholesale_price,unit_cost,currency\n\
MRG-001-CD,859712000019,Harbor Lights,The Tidewater Band,CD,2010-01-15,15.98,8.00,1.10,USD\n",
    );
    let err = fail(&d, &["import", &cat], 3);
    assert!(
        err.contains("closest to catalog.csv") && err.contains("\"Release Date\" → release_date"),
        "{err}"
    );
    // A royalty file's header written another way is named too.
    let payees = write(
        tmp.path(),
        "artists.csv",
        "Payee,Name,E-mail\nada-wren,Ada Wren,ada@example.com\n",
    );
    let err = fail(&d, &["import", &payees], 3);
    assert!(
        err.contains("closest to payees.csv") && err.contains("\"E-mail\" → email"),
        "{err}"
    );
    assert!(err.contains("payees, contracts, costs"), "{err}");
    // Files after a failing one are named as not imported.
    let good = write(tmp.path(), "good.csv", CATALOG);
    let dist = write(tmp.path(), "distributors.csv", DISTRIBUTORS);
    let ship = write(
        tmp.path(),
        "shipments.csv",
        "shipment_id,date,from,to,sku,units,po_number\nSH-1,2016-01-05,label,allegro,MRG-001-CD,10,\n",
    );
    let pay = write(
        tmp.path(),
        "payments.csv",
        "payment_id,date,distributor,amount,currency,statement_id\nP-1,2016-03-01,allegro,10.00,USD,\n",
    );
    let err = fail(&d, &["import", &good, &dist, &ship, &pay], 4);
    // Stock short at the label: how to record stock it already has.
    assert!(err.contains("which holds only 0"), "{err}");
    assert!(
        err.contains("import an opening.csv first") && err.contains("stock,DATE,label,SKU,UNITS"),
        "{err}"
    );
    assert!(
        err.contains("not imported because of this") && err.contains("payments.csv"),
        "{err}"
    );
    assert!(err.contains("already recorded before it"), "{err}");
    // The dry run predicts it: the same refusal, nothing changed.
    let err = fail(&d, &["import", "--dry-run", &ship], 4);
    assert!(
        err.contains("which holds only 0") && err.contains("the import would refuse this file"),
        "{err}"
    );
}

#[test]
fn the_preview_says_what_will_change_and_what_to_look_at() {
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path().join("data");
    ok(&d, &["init"]);
    let cat = write(tmp.path(), "catalog.csv", CATALOG);
    // An agreement that retains title, with no UCC-1 on file.
    let dist = write(
        tmp.path(),
        "distributors.csv",
        "distributor,legal_name,state_of_organization,agreement_start,fee_rate,payment_terms_days,statement_frequency,reserve_rate,reserve_release_days,credit_limit,currency,title_retained,ucc1_file_number,ucc1_filed_on,ucc1_state\n\
river,River Distribution LLC,OR,2016-01-01,0.20,90,monthly,0,180,20000.00,USD,true,,,\n",
    );
    ok(&d, &["import", &cat, &dist]);
    let ship = write(
        tmp.path(),
        "shipments.csv",
        "shipment_id,date,from,to,sku,units,po_number\nM-1,2016-01-02,plant:acme,label,MRG-001-CD,500,\nSH-1,2016-01-05,label,river,MRG-001-CD,100,\n",
    );
    let out = ok(&d, &["import", &ship, "--dry-run"]);
    assert!(
        out.contains("warning: consigns 100 units to river (SH-1) while no UCC-1 is on file"),
        "{out}"
    );
    ok(&d, &["import", &ship]);
    let st = write(
        tmp.path(),
        "statements.csv",
        "statement_id,distributor,period_start,period_end,issued_on,kind,sku,units,amount,currency,memo\n\
R-1,river,2016-01-01,2016-01-31,2016-02-10,sale,MRG-001-CD,10,80.00,USD,\n\
R-1,river,2016-01-01,2016-01-31,2016-02-10,fee,,,16.00,USD,\n",
    );
    let out = ok(&d, &["import", &st, "--dry-run"]);
    assert!(out.contains("per SKU and kind"), "{out}");
    assert!(!out.contains("before its period ends"), "{out}");
    // Issued before its period ends: a mistyped date, most often — said.
    let early = write(
        tmp.path(),
        "early.csv",
        "statement_id,distributor,period_start,period_end,issued_on,kind,sku,units,amount,currency,memo\n\
R-0,river,2016-01-01,2016-01-31,2016-01-10,sale,MRG-001-CD,1,8.00,USD,\n",
    );
    let said = ok(&d, &["import", &early, "--dry-run"]);
    assert!(
        said.contains("statement R-0 from river is issued on 2016-01-10, before its period ends on 2016-01-31"),
        "{said}"
    );
    assert!(
        out.contains("MRG-001-CD") && out.contains("80.00 USD"),
        "{out}"
    );
    assert!(
        out.lines().any(|l| l.contains("receivable")
            && l.contains("0.00 USD →")
            && l.contains("64.00 USD")),
        "{out}"
    );
    let pay = write(
        tmp.path(),
        "payments.csv",
        "payment_id,date,distributor,amount,currency,statement_id\nP-1,2016-03-01,river,64.00,USD,R-9\n",
    );
    let out = ok(&d, &["import", &pay, "--dry-run"]);
    assert!(
        out.contains("names statement R-9, which river never sent"),
        "{out}"
    );
    let sr = write(
        tmp.path(),
        "stock_reports.csv",
        "distributor,as_of,sku,units_on_hand\nriver,2016-01-31,MRG-001-CD,95\n",
    );
    // No statement of January's sales yet: fewer units than shipped may be sales.
    let out = ok(&d, &["import", &sr, "--dry-run"]);
    assert!(
        out.contains("river reports fewer units than the books hold on 1 stock line (to 2016-01-31); no statement of its sales is on file yet"),
        "{out}"
    );
    // With January's statement in (10 sold), 95 on hand is 5 more than the books say.
    ok(&d, &["import", &st]);
    let out = ok(&d, &["import", &sr, "--dry-run"]);
    assert!(
        out.contains("river reports 95 × MRG-001-CD on 2016-01-31; the books say 90 (+5)"),
        "{out}"
    );
}

#[test]
fn a_label_starts_mid_life_from_opening_balances() {
    let (tmp, d) = label_with_catalog();
    let opening = write(
        tmp.path(),
        "opening.csv",
        "record,date,party,sku,units,statement_id,period_end,amount,currency\n\
stock,2016-01-01,label,MRG-001-CD,400,,,,\n\
stock,2016-01-01,allegro,MRG-001-CD,120,,,,\n\
open_statement,2015-12-20,allegro,,,AL-2015-11,2015-11-30,640.00,USD\n",
    );
    let out = ok(&d, &["import", &opening]);
    assert!(out.contains("recorded 3 opening lines"), "{out}");
    // Stock by holder, visibly from the opening.
    let stock = ok(&d, &["stock", "--all", "--format", "csv"]);
    assert!(
        stock.contains("MRG-001-CD,label,label,on_hand,400"),
        "{stock}"
    );
    assert!(
        stock.contains("MRG-001-CD,label,allegro,on_hand,120"),
        "{stock}"
    );
    assert!(stock.contains("plant:opening,origin,-520"), "{stock}");
    // The open statement is owed, and a payment naming it settles it.
    let r: serde_json::Value = serde_json::from_str(&ok(
        &d,
        &["receivables", "--as-of", "2016-01-15", "--format", "json"],
    ))
    .unwrap();
    assert_eq!(r[0]["open_balance"]["amount_minor"], 64_000, "{r}");
    let pay = write(
        tmp.path(),
        "payments.csv",
        "payment_id,date,distributor,amount,currency,statement_id\nP-1,2016-01-20,allegro,640.00,USD,AL-2015-11\n",
    );
    ok(&d, &["import", &pay]);
    let r: serde_json::Value = serde_json::from_str(&ok(
        &d,
        &["receivables", "--as-of", "2016-01-31", "--format", "json"],
    ))
    .unwrap();
    assert_eq!(r[0]["open_balance"]["amount_minor"], 0, "{r}");
    // The accountant's books of a range that holds the open statement's day: what
    // was owed is brought forward against opening-balances equity (it was income in
    // the label's earlier books), not this period's income; the payment is cash.
    let bean = ok(
        &d,
        &[
            "export",
            "beancount",
            "--from",
            "2015-11-01",
            "--to",
            "2016-01-31",
        ],
    );
    assert!(!bean.contains("Income:"), "{bean}");
    assert!(bean.contains("Equity:Opening-Balances"), "{bean}");
    let journal = ok(
        &d,
        &[
            "export",
            "csv-journal",
            "--from",
            "2015-11-01",
            "--to",
            "2016-01-31",
        ],
    );
    let adjustment_lines: Vec<&str> = journal
        .lines()
        .filter(|l| l.contains("AL-2015-11") && l.contains("Equity:Opening-Balances"))
        .collect();
    assert_eq!(adjustment_lines.len(), 1, "{journal}");
    assert!(adjustment_lines[0].contains(",3000,"), "{journal}");
    let xero = ok(
        &d,
        &[
            "export",
            "xero",
            "--from",
            "2015-11-01",
            "--to",
            "2016-01-31",
        ],
    );
    assert!(
        xero.contains("adjustment brought forward - allegro"),
        "{xero}"
    );
    // Its reversal is brought forward too: still no income in the range.
    ok(
        &d,
        &[
            "correct",
            "statement:allegro:AL-2015-11",
            "--reason",
            "entered twice",
        ],
    );
    let bean = ok(
        &d,
        &[
            "export",
            "beancount",
            "--from",
            "2015-11-01",
            "--to",
            "2016-12-31",
        ],
    );
    assert!(!bean.contains("Income:"), "{bean}");
    // The label can ship the stock it had.
    let ship = write(
        tmp.path(),
        "shipments.csv",
        "shipment_id,date,from,to,sku,units,po_number\nSH-1,2016-02-01,label,allegro,MRG-001-CD,50,\n",
    );
    ok(&d, &["import", &ship]);
    // The same file twice changes nothing; a bad record is named.
    assert!(ok(&d, &["import", &opening]).contains("already imported"));
    let bad = write(
        tmp.path(),
        "opening2.csv",
        "record,date,party,sku,units,statement_id,period_end,amount,currency\nstok,2016-01-01,label,MRG-001-CD,1,,,,\n",
    );
    let err = fail(&d, &["import", &bad], 3);
    assert!(
        err.contains("line 2, column 1 (record)") && err.contains("open_statement"),
        "{err}"
    );
    assert!(ok(&d, &["verify"]).starts_with("OK:"));
}

#[test]
fn a_return_of_more_than_the_distributor_holds_is_flagged() {
    let (tmp, d) = label_with_catalog();
    let ship = write(
        tmp.path(),
        "shipments.csv",
        "shipment_id,date,from,to,sku,units,po_number\nM-1,2016-01-02,plant:acme,label,MRG-001-CD,500,\nSH-1,2016-01-05,label,allegro,MRG-001-CD,100,\n",
    );
    ok(&d, &["import", &ship]);
    let ret = write(
        tmp.path(),
        "returns.csv",
        "shipment_id,date,from,to,sku,units,po_number\nRT-1,2016-02-05,allegro,label,MRG-001-CD,1000,\n",
    );
    let out = ok(&d, &["import", &ret, "--dry-run"]);
    assert!(
        out.contains("takes 1000 × MRG-001-CD from allegro, which holds 100 on the books"),
        "{out}"
    );
}

/// `verify --full` checks every stored royalty statement against the SHA-256 its run
/// recorded in the journal: two payees' statements swapped in the database (each row
/// still hashing to its own SHA-256) are found (they passed, and only `royalties
/// statement` noticed).
#[tokio::test]
async fn verify_full_checks_the_stored_royalty_statements() {
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path().join("demo");
    ok(&d, &["demo"]);
    let out = ok(&d, &["verify", "--full"]);
    assert!(
        out.contains("stored royalty statements match the SHA-256 their runs recorded"),
        "{out}"
    );
    {
        let url = format!("sqlite://{}", d.join("backstock.db").display());
        let pool = sqlx::SqlitePool::connect(&url).await.unwrap();
        // Someone with the database in hand drops the trigger that keeps them as sent.
        for q in [
            "DROP TRIGGER royalty_statements_no_update",
            "UPDATE royalty_statements SET payee = 'swap' WHERE period = '2012H2' AND payee = 'elk-and-ember'",
            "UPDATE royalty_statements SET payee = 'elk-and-ember' WHERE period = '2012H2' AND payee = 'june-okafor'",
            "UPDATE royalty_statements SET payee = 'june-okafor' WHERE period = '2012H2' AND payee = 'swap'",
        ] {
            sqlx::query(q).execute(&pool).await.unwrap();
        }
        pool.close().await;
    }
    let err = fail(&d, &["verify", "--full"], 5);
    assert!(err.contains("not the one its run recorded"), "{err}");
}

/// Files from distributors we did not write: a UPC another SKU has is refused (its
/// sales would go to the wrong SKU), a GTIN-14 with indicator 0 is the same item as its
/// UPC, and a payment naming its statement in another case settles that statement.
#[test]
fn barcodes_are_one_per_product_and_payments_find_their_statement_in_any_case() {
    let (tmp, d) = label_with_catalog();
    let dup = write(
        tmp.path(),
        "dup.csv",
        "sku,upc,title,artist,format,release_date,list_price,wholesale_price,unit_cost,currency\n\
MRG-025-CD,859712000019,Reissue,The Tidewater Band,CD,2016-09-01,15.98,8.00,1.10,USD\n\
MRG-023-CD,859712000231,Kindling,The Gravel Saints,CD,2016-09-01,15.98,8.00,1.10,USD\n\
MRG-024-CD,0859712000231,Kindling (again),The Gravel Saints,CD,2016-09-01,15.98,8.00,1.10,USD\n",
    );
    let before = ok(&d, &["journal", "--format", "csv"]);
    let err = fail(&d, &["import", &dup], 3);
    assert!(
        err.contains("line 2, column 2 (upc): found \"859712000019\", expected a UPC no other SKU has: MRG-001-CD already has it"),
        "{err}"
    );
    assert!(
        err.contains("line 4, column 2 (upc): found \"0859712000231\", expected a UPC no other SKU has: line 3 gives it to MRG-023-CD"),
        "{err}"
    );
    assert_eq!(ok(&d, &["journal", "--format", "csv"]), before);

    let st = write(
        tmp.path(),
        "st.csv",
        "statement_id,distributor,period_start,period_end,issued_on,kind,sku,units,amount,currency,memo\n\
AL-1,allegro,2016-01-01,2016-01-31,2016-02-10,sale,00859712000019,10,100.00,USD,\n\
AL-2,allegro,2016-02-01,2016-02-29,2016-03-10,sale,MRG-001-CD,5,50.00,USD,\n",
    );
    ok(&d, &["import", &st]);
    let shown = ok(&d, &["show", "statement:allegro:AL-1"]);
    assert!(shown.contains("MRG-001-CD"), "{shown}");

    let pay = write(
        tmp.path(),
        "pay.csv",
        "payment_id,date,distributor,amount,currency,statement_id\nP1,2016-04-01,allegro,50.00,USD,al-2\n",
    );
    let dry = ok(&d, &["import", &pay, "--dry-run"]);
    assert!(!dry.contains("never sent"), "{dry}");
    ok(&d, &["import", &pay]);
    let rec = ok(&d, &["receivables", "--as-of", "2016-06-30"]);
    assert!(rec.contains("AL-1 "), "{rec}");
    assert!(!rec.contains("AL-2 "), "AL-2 is paid: {rec}");

    // A stock report's blank count is "not counted", not 0 on hand.
    let counts = write(
        tmp.path(),
        "stock_reports.csv",
        "distributor,as_of,sku,units_on_hand\nallegro,2016-06-30,MRG-001-CD,\n",
    );
    let err = fail(&d, &["import", &counts], 3);
    assert!(
        err.contains(
            "line 2, column 4 (units_on_hand): found \"\", expected the units on hand counted"
        ),
        "{err}"
    );
}

/// A memo written on two lines in a distributor's own layout does not shift the line
/// numbers that problems, held lines and provenance give for the rows after it.
#[test]
fn line_numbers_of_a_mapped_file_survive_a_value_on_two_lines() {
    let (tmp, d) = label_with_catalog();
    let cat = write(
        tmp.path(),
        "fr.csv",
        "sku,upc,title,artist,format,release_date,list_price,wholesale_price,unit_cost,currency\n\
FR-001,199758300217,Slow Weather,The Marigolds,LP,2024-01-01,24.98,14.00,3.10,USD\n\
FR-002,199758300224,Slow Weather,The Marigolds,CD,2024-01-01,12.98,7.90,1.10,USD\n\
FR-004,199758300248,Lamplighter,Night Bus Quartet,7in,2024-01-01,7.98,5.50,1.10,USD\n\
FR-005,199758300255,Tidewater (Deluxe),Dana Okafor,2LP,2024-01-01,39.98,24.50,5.10,USD\n",
    );
    ok(&d, &["import", &cat]);
    let sample = std::fs::read_to_string(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../mapping/tests/data/indie-dist-us.csv"),
    )
    .unwrap();
    assert!(sample.contains("Slow Weather,CD") && sample.contains("199758300231,FR-003"));
    let text = sample
        .replace("Slow Weather,CD", "\"Slow\nWeather\",CD")
        .replace("199758300231,FR-003", "012345678905,FR-003");
    let file = write(tmp.path(), "harbor.csv", &text);
    let args = [
        "import",
        &file,
        "--mapping",
        "indie-dist-us",
        "--distributor",
        "allegro",
    ];
    let err = fail(&d, &args, 3);
    assert!(
        err.contains(
            "line 13, column 1 (UPC): found \"012345678905\", expected a SKU or UPC in the catalog"
        ),
        "{err}"
    );
    let mut held: Vec<&str> = args.to_vec();
    held.push("--hold-unmatched");
    ok(&d, &held);
    let q = ok(&d, &["unmatched", "--format", "csv"]);
    assert!(q.contains("012345678905") && q.contains(",13-13,"), "{q}");
}

/// Reference data that would make the books wrong is refused: a negative price, a fee
/// or reserve over 100 %, a negative credit limit, a SKU differing from one on file
/// only in case.
#[test]
fn nonsense_reference_data_is_refused() {
    let (tmp, d) = label_with_catalog();
    let before = ok(&d, &["journal", "--format", "csv"]);
    let cat = write(
        tmp.path(),
        "cat.csv",
        "sku,upc,title,artist,format,release_date,list_price,wholesale_price,unit_cost,currency\n\
MRG-009-CD,,Minus,The Band,CD,2016-01-01,15.98,-11.00,1.10,USD\n\
mrg-001-cd,,Harbor Lights,The Tidewater Band,CD,2010-01-15,15.98,8.00,1.10,USD\n",
    );
    let err = fail(&d, &["import", &cat], 3);
    assert!(
        err.contains("line 2, column 8 (wholesale_price): found \"-11.00\", expected an amount of zero or more"),
        "{err}"
    );
    assert!(
        err.contains("line 3, column 1 (sku): found \"mrg-001-cd\", expected a SKU that differs from MRG-001-CD in more than case"),
        "{err}"
    );
    let dist = write(
        tmp.path(),
        "dist.csv",
        "distributor,legal_name,state_of_organization,agreement_start,fee_rate,payment_terms_days,statement_frequency,reserve_rate,reserve_release_days,credit_limit,currency,title_retained,ucc1_file_number,ucc1_filed_on,ucc1_state\n\
fern,Fern Distribution LLC,OR,2016-01-01,1.5,60,monthly,2,180,-5.00,USD,true,,,\n",
    );
    let err = fail(&d, &["import", &dist], 3);
    for want in [
        "column 5 (fee_rate): found \"1.5\", expected a share of at most 1 (100%)",
        "column 8 (reserve_rate): found \"2\", expected a share of at most 1 (100%)",
        "column 10 (credit_limit): found \"-5.00\", expected an amount of zero or more",
    ] {
        assert!(err.contains(want), "{want}\n{err}");
    }
    assert_eq!(ok(&d, &["journal", "--format", "csv"]), before);
}

/// New terms from a new start are a new agreement with the same distributor: in a
/// later file, or beside the first on another line of one file.
#[test]
fn a_distributors_new_terms_are_a_second_agreement() {
    let (tmp, d) = label_with_catalog();
    let later = write(
        tmp.path(),
        "later.csv",
        &format!(
            "{}allegro,Allegro Media Group LLC,OR,2016-07-01,0.18,60,monthly,0.10,180,60000.00,USD,true,,,\n",
            DISTRIBUTORS.lines().next().unwrap().to_string() + "\n"
        ),
    );
    let out = ok(&d, &["import", &later]);
    assert!(
        out.contains("recorded 1 distributors line → 1 entry"),
        "{out}"
    );
    let both = write(
        tmp.path(),
        "both.csv",
        "distributor,legal_name,state_of_organization,agreement_start,fee_rate,payment_terms_days,statement_frequency,reserve_rate,reserve_release_days,credit_limit,currency,title_retained,ucc1_file_number,ucc1_filed_on,ucc1_state\n\
fern,Fern Distribution LLC,CA,2016-01-01,0.20,60,monthly,0.15,180,20000.00,USD,true,2016000111,2015-12-20,CA\n\
fern,Fern Distribution LLC,CA,2016-07-01,0.18,45,monthly,0.10,180,30000.00,USD,true,2016000111,2015-12-20,CA\n",
    );
    let out = ok(&d, &["import", &both]);
    assert!(
        out.contains("recorded 2 distributors lines → 4 entries"),
        "{out}"
    );
    let rec = ok(&d, &["receivables", "--as-of", "2016-08-01"]);
    assert!(
        rec.contains("30,000.00 USD") && rec.contains("60,000.00 USD"),
        "{rec}"
    );
}

/// A distributor's EDI report sent again corrected under the same control number:
/// refused as a change of the one on file, with the flag that records it beside the
/// first; flags an EDI file does not take are refused, not ignored.
#[test]
fn an_edi_report_sent_again_under_new_control_numbers_is_warned_before_it_counts() {
    let (tmp, d) = label_with_catalog();
    let ship = write(
        tmp.path(),
        "shipments.csv",
        "shipment_id,date,from,to,sku,units,po_number\nM-1,2016-01-02,plant:acme,label,MRG-001-CD,500,\nSH-1,2016-01-05,label,allegro,MRG-001-CD,100,\n",
    );
    ok(&d, &["import", &ship]);
    let edi = |name: &str, control: u32, sold: u32| {
        write(
            tmp.path(),
            name,
            &format!(
                "ISA*00*          *00*          *ZZ*ALLEGRO        *ZZ*MARIGOLD       *160205*1530*U*00401*{control:09}*0*P*>~\
GS*PD*ALLEGRO*MARIGOLD*20160205*1530*{control}*X*004010~ST*852*{control:04}~XQ*H*20160101*20160131~\
LIN*1*UP*859712000019~ZA*QS*{sold}*EA~SE*5*{control:04}~GE*1*{control}~IEA*1*{control:09}~"
            ),
        )
    };
    ok(
        &d,
        &[
            "import",
            &edi("first.edi", 905, 10),
            "--distributor",
            "allegro",
        ],
    );
    // The same report under new control numbers: a new statement id, said before it
    // counts twice (as a CSV statement sent again is).
    let again = edi("again.edi", 906, 10);
    let out = ok(
        &d,
        &["import", &again, "--distributor", "allegro", "--dry-run"],
    );
    assert!(
        out.contains("has the same sales, returns and amounts as statement x12-0905-2016-01-31"),
        "{out}"
    );
    // An EDI report carries no fee or reserve: recorded gross, and said so.
    assert!(
        out.contains("1 statement of allegro from this EDI report is recorded at its gross"),
        "{out}"
    );
    // Selling more than the distributor holds is said too.
    let out = ok(
        &d,
        &[
            "import",
            &edi("big.edi", 907, 150),
            "--distributor",
            "allegro",
            "--dry-run",
        ],
    );
    assert!(
        out.contains("reports 150 × MRG-001-CD sold, more than the 100 it holds"),
        "{out}"
    );
}

#[test]
fn a_corrected_edi_report_is_recorded_under_its_own_id() {
    let (tmp, d) = label_with_catalog();
    let ship = write(
        tmp.path(),
        "shipments.csv",
        "shipment_id,date,from,to,sku,units,po_number\nM-1,2016-01-02,plant:acme,label,MRG-001-CD,500,\nSH-1,2016-01-05,label,allegro,MRG-001-CD,100,\n",
    );
    ok(&d, &["import", &ship]);
    let edi = |name: &str, sold: u32| {
        write(
            tmp.path(),
            name,
            &format!(
                "ISA*00*          *00*          *ZZ*ALLEGRO        *ZZ*MARIGOLD       *160205*1530*U*00401*000000905*0*P*>~\
GS*PD*ALLEGRO*MARIGOLD*20160205*1530*905*X*004010~ST*852*0001~XQ*H*20160101*20160131~\
LIN*1*UP*859712000019~ZA*QS*{sold}*EA~SE*5*0001~GE*1*905~IEA*1*000000905~"
            ),
        )
    };
    let first = edi("first.edi", 10);
    let out = ok(&d, &["import", &first, "--distributor", "allegro"]);
    assert!(out.contains("total 80.00 USD"), "{out}");
    let resent = edi("resent.edi", 12);
    let err = fail(&d, &["import", &resent, "--distributor", "allegro"], 4);
    assert!(
        err.contains("backstock correct statement:allegro:x12-0001-2016-01-31")
            && err.contains("--statement-id x12-0001-2016-01-31-R1"),
        "{err}"
    );
    ok(
        &d,
        &[
            "correct",
            "statement:allegro:x12-0001-2016-01-31",
            "--reason",
            "corrected by the distributor",
        ],
    );
    let err = fail(
        &d,
        &[
            "import",
            &resent,
            "--distributor",
            "allegro",
            "--issued-on",
            "2016-02-05",
        ],
        3,
    );
    assert!(
        err.contains("--issued-on is not taken for a x12 file"),
        "{err}"
    );
    let out = ok(
        &d,
        &[
            "import",
            &resent,
            "--distributor",
            "allegro",
            "--statement-id",
            "x12-0001-2016-01-31-R1",
        ],
    );
    assert!(out.contains("total 96.00 USD"), "{out}");
    let shown = ok(&d, &["show", "statement:allegro:x12-0001-2016-01-31-R1"]);
    assert!(shown.contains("\"units\":12"), "{shown}");
    // The correction replaced the first: 96.00 owed and 12 units sold, not both.
    let r: serde_json::Value =
        serde_json::from_str(&ok(&d, &["receivables", "--format", "json"])).unwrap();
    assert_eq!(r[0]["open_balance"]["amount_minor"], 9_600, "{r}");
    let stock = ok(&d, &["stock", "--format", "csv"]);
    assert!(
        stock.contains("MRG-001-CD,label,allegro,on_hand,88"),
        "{stock}"
    );
}

/// A distributor's export that repeats its header row at a page break imports, and
/// the import says which line it skipped (it refused the file with five errors).
#[test]
fn a_header_repeated_at_a_page_break_is_skipped_and_said() {
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path().join("demo");
    ok(&d, &["demo"]);
    let header = "UPC,Catalog #,Artist,Title,Format,Units Sold,Units Returned,Net Units,Gross Sales $,Returns $,Dist Fee $,Net $";
    let file = write(
        tmp.path(),
        "june.csv",
        &format!(
            "\"Northwind Music Distribution, Inc.\",,,,,,,,,,,\n\
Label Sales Statement,,,,,,,,,,,\n\
Statement No:,NW-1606,,,,,,,,,,\n\
Label:,Marigold Records,,,,,,,,,,\n\
Statement Period:,06/01/2016 - 06/30/2016,,,,,,,,,,\n\
Statement Date:,07/15/2016,,,,,,,,,,\n\
Currency:,USD,,,,,,,,,,\n\
,,,,,,,,,,,\n\
{header}\n\
859712000019,MRG-001-CD,The Tidewater Band,Harbor Lights,CD,10,1,9,$80.00,($8.00),($15.84),$56.16\n\
{header}\n\
859712000026,MRG-002-LP,The Tidewater Band,Harbor Lights,LP,4,0,4,$46.00,$0.00,($10.12),$35.88\n\
,,,,,,,,,,,\n\
Reserve for Returns Withheld (20%),,,,,,,,,,,($18.41)\n\
TOTAL,,,,,14,1,13,$126.00,($8.00),($25.96),$73.63\n"
        ),
    );
    let out = ok(
        &d,
        &[
            "import",
            &file,
            "--mapping",
            "indie-dist-us",
            "--distributor",
            "northwind",
            "--dry-run",
        ],
    );
    assert!(
        out.contains("note: ")
            && out.contains("line 11: this line repeats the header row (line 9)"),
        "{out}"
    );
    // 80.00 − 8.00 − 15.84 + 46.00 − 10.12 − 18.41 reserve, by hand.
    assert!(out.contains("total 73.63 USD"), "{out}");
}
