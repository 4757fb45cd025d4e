//! Issue 19 (hardening), driven through the real binary as a user would: money that
//! would overflow, XLSX bombs, a truncated journal, damaged originals, formulas in
//! CSV output.

mod common;
use common::{journal_len, ok, refused, run};
use std::path::{Path, PathBuf};

const CATALOG: &str =
    "sku,upc,title,artist,format,release_date,list_price,wholesale_price,unit_cost,currency\n\
MRG-001-CD,859712000019,Harbor Lights,The Tidewater Band,CD,2010-01-15,15.98,8.00,1.10,USD\n";
const DISTRIBUTORS: &str = "distributor,legal_name,state_of_organization,agreement_start,fee_rate,payment_terms_days,statement_frequency,reserve_rate,reserve_release_days,credit_limit,currency,title_retained,ucc1_file_number,ucc1_filed_on,ucc1_state\n\
allegro,Allegro Media Group LLC,OR,2012-01-01,0.20,90,monthly,0.20,180,50000.00,USD,true,,,\n";
const SHIPMENTS: &str = "shipment_id,date,from,to,sku,units,po_number\n\
R1,2016-01-02,plant:optimal,label,MRG-001-CD,500,\n\
S1,2016-01-05,label,allegro,MRG-001-CD,300,\n";
const HEADER: &str =
    "statement_id,distributor,period_start,period_end,issued_on,kind,sku,units,amount,currency,memo\n";

fn write(dir: &Path, name: &str, text: &str) -> String {
    let p = dir.join(name);
    std::fs::write(&p, text).unwrap();
    p.to_string_lossy().to_string()
}

/// A label with a catalog, one distributor and stock at it.
fn label() -> (tempfile::TempDir, PathBuf) {
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path().join("data");
    ok(&d, &["init"]);
    let files: Vec<String> = [
        ("catalog.csv", CATALOG),
        ("distributors.csv", DISTRIBUTORS),
        ("shipments.csv", SHIPMENTS),
    ]
    .iter()
    .map(|(n, t)| write(tmp.path(), n, t))
    .collect();
    let mut args = vec!["import"];
    args.extend(files.iter().map(String::as_str));
    ok(&d, &args);
    (tmp, d)
}

fn statement(id: &str, month: u32, amount: &str) -> String {
    format!(
        "{HEADER}{id},allegro,2016-{month:02}-01,2016-{month:02}-28,2016-{:02}-10,sale,MRG-001-CD,1,{amount},USD,\n",
        month + 1
    )
}

// ---- 19.1: money overflow across entries ----

#[test]
fn two_statements_near_the_i64_limit_are_refused_at_the_line_and_the_label_keeps_working() {
    let (tmp, d) = label();
    let a = write(
        tmp.path(),
        "a.csv",
        &statement("ST-A", 1, "92233720368547758.07"),
    );
    let b = write(
        tmp.path(),
        "b.csv",
        &statement("ST-B", 2, "92233720368547758.07"),
    );
    for f in [&a, &b] {
        // The dry run says what the import says: the line, the column, the limit.
        refused(&d, &["import", f, "--dry-run"], 3, "line 2");
        refused(&d, &["import", f], 3, "10,000,000,000,000.00");
        let o = run(&d, &["import", f]);
        let err = String::from_utf8_lossy(&o.stderr);
        assert!(err.contains("amount"), "{err}");
    }
    assert!(ok(&d, &["verify"]).contains("OK"));
    ok(&d, &["balances"]);
    ok(&d, &["receivables"]);
}

#[test]
fn entries_that_would_take_a_currency_past_the_limit_are_refused_before_anything_is_recorded() {
    let (tmp, d) = label();
    // 6,000,000,000,000.00 USD each: under the limit of one amount (1e15 minor units);
    // the first statement moves 6e14 minor units of USD, the second would pass 1e15.
    let a = write(
        tmp.path(),
        "a.csv",
        &statement("ST-A", 1, "6000000000000.00"),
    );
    let b = write(
        tmp.path(),
        "b.csv",
        &statement("ST-B", 2, "6000000000000.00"),
    );
    ok(&d, &["import", &a]);
    let before = journal_len(&d);
    refused(&d, &["import", &b], 4, "limit");
    let o = run(&d, &["import", &b]);
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains("ST-B") && err.contains("USD"), "{err}");
    assert_eq!(journal_len(&d), before);
    assert!(ok(&d, &["verify"]).contains("OK"));
    let bal = ok(&d, &["balances", "--format", "csv"]);
    assert!(bal.contains("6000000000000.00"), "{bal}");
    ok(&d, &["receivables"]);
}

#[test]
fn a_dry_run_sums_many_large_lines_exactly() {
    let (tmp, d) = label();
    // Three lines of 300,000,000,000.00: the total 900,000,000,000.00 is exact.
    let mut text = String::from(HEADER);
    for m in 1..=3 {
        text.push_str(&format!(
            "ST-{m},allegro,2016-{m:02}-01,2016-{m:02}-28,2016-{:02}-10,sale,MRG-001-CD,1,300000000000.00,USD,\n",
            m + 1
        ));
    }
    let f = write(tmp.path(), "three.csv", &text);
    let out = ok(&d, &["import", &f, "--dry-run"]);
    assert!(out.contains("900,000,000,000.00 USD"), "{out}");
    // A file whose total alone passes the limit is refused by the dry run too.
    let mut text = String::from(HEADER);
    for m in 1..=9 {
        text.push_str(&format!(
            "ST-{m},allegro,2016-{m:02}-01,2016-{m:02}-28,2016-{:02}-10,sale,MRG-001-CD,1,9000000000000.00,USD,\n",
            m + 1
        ));
    }
    let f = write(tmp.path(), "nine.csv", &text);
    refused(&d, &["import", &f, "--dry-run"], 3, "limit");
}

// ---- 19.3 and 19.4: verify holds the journal to what it saw; originals hashed ----

/// Runs SQL on a label's database as someone with the file could (triggers dropped
/// first where needed).
fn sql(dir: &Path, statements: &str) {
    let db = dir.join("backstock.db");
    let statements = statements.to_string();
    tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap()
        .block_on(async move {
            use sqlx::Connection;
            let mut c = sqlx::SqliteConnection::connect(&format!("sqlite:{}", db.display()))
                .await
                .unwrap();
            sqlx::raw_sql(&statements).execute(&mut c).await.unwrap();
            c.close().await.unwrap();
        });
}

fn checkpoint_of(verify_out: &str) -> String {
    verify_out
        .lines()
        .find_map(|l| l.strip_prefix("Checkpoint: "))
        .unwrap_or_else(|| panic!("no checkpoint in {verify_out}"))
        .to_string()
}

/// Deletes the last entry, consistently: its row, its transfers, the accounts it
/// created, the pending transfers it opened and the original it came from.
const CUT_LAST_ENTRY: &str = "
    DROP TRIGGER journal_no_delete; DROP TRIGGER transfer_blocks_no_delete;
    DROP TRIGGER account_blocks_no_delete; DROP TRIGGER files_no_delete;
    DELETE FROM files WHERE sha256 = (SELECT file_sha256 FROM journal WHERE seq = (SELECT MAX(seq) FROM journal));
    DELETE FROM transfer_blocks WHERE seq = (SELECT MAX(seq) FROM journal);
    DELETE FROM account_blocks WHERE created_seq = (SELECT MAX(seq) FROM journal);
    DELETE FROM pending WHERE seq = (SELECT MAX(seq) FROM journal);
    DELETE FROM journal WHERE seq = (SELECT MAX(seq) FROM journal);";

#[test]
fn cutting_the_end_of_the_journal_is_found_against_the_last_verification_and_a_kept_checkpoint() {
    let (tmp, d) = label();
    let first = ok(&d, &["verify"]);
    assert!(first.contains("Not verified before here."), "{first}");
    let kept = checkpoint_of(&first);
    assert_eq!(ok(&d, &["checkpoint"]).trim(), kept);
    // One more statement, verified: the journal moves on from the kept checkpoint.
    let f = write(tmp.path(), "jan.csv", &statement("ST-1", 1, "80.00"));
    ok(&d, &["import", &f]);
    let second = ok(&d, &["verify", "--expect", &kept]);
    assert!(second.contains("(still held)"), "{second}");
    let entries = journal_len(&d);

    // The statement is deleted from every table: the chain alone is intact.
    sql(&d, CUT_LAST_ENTRY);
    assert_eq!(journal_len(&d), entries - 1);
    refused(&d, &["verify"], 5, "entries were removed from its end");
    // Without the record of the last verification, the kept checkpoint still holds
    // (it is older), but a checkpoint taken after the statement does not.
    let last = checkpoint_of(&second);
    std::fs::remove_file(d.join("backstock.db.verified")).unwrap();
    refused(
        &d,
        &["verify", "--expect", &last],
        5,
        "entries were removed from its end",
    );
    ok(&d, &["verify", "--expect", &kept]);
    // A rewritten history (another entry where the kept one was) is named too.
    let n: i64 = kept.split(':').next().unwrap().parse().unwrap();
    let other = format!("{n}:{}", "0".repeat(64));
    refused(
        &d,
        &["verify", "--expect", &other],
        5,
        "the journal was rewritten",
    );
    refused(&d, &["verify", "--expect", "12:nothex"], 3, "N:HASH");
}

#[test]
fn recorded_at_and_the_file_are_in_the_hash_of_new_entries() {
    let (_tmp, d) = label();
    ok(&d, &["verify"]);
    sql(
        &d,
        "DROP TRIGGER journal_no_update;
         UPDATE journal SET recorded_at = '2001-01-01T00:00:00Z' WHERE seq = 1;",
    );
    // Entry #1 was verified: a plain `verify` goes on from there; --full recomputes it.
    refused(&d, &["verify", "--full"], 5, "entry #1 (");
    let (_tmp, d) = label();
    sql(
        &d,
        "DROP TRIGGER journal_no_update;
         UPDATE journal SET file_sha256 = NULL WHERE seq = 2;",
    );
    refused(&d, &["verify"], 5, "does not match its hash");
}

#[test]
fn a_changed_or_missing_original_fails_verify() {
    // A flipped byte in a kept original.
    let (_tmp, d) = label();
    assert!(ok(&d, &["verify"]).contains("3 kept originals hash to their SHA-256"));
    sql(
        &d,
        "DROP TRIGGER files_no_update;
         UPDATE files SET content = substr(content, 1, 20) || x'00' || substr(content, 22)
         WHERE name = 'catalog.csv';",
    );
    refused(&d, &["verify", "--full"], 5, "catalog.csv");
    // An original swapped for other bytes kept under their own SHA-256: the entries
    // still name the first.
    let (_tmp, d) = label();
    sql(
        &d,
        "DROP TRIGGER files_no_update;
         UPDATE files SET sha256 = 'ab' || substr(sha256, 3) WHERE name = 'shipments.csv';",
    );
    refused(&d, &["verify"], 5, "which is not kept");
}

/// A file kept in parts (as originals over 16 MiB are): a flipped byte in a part or a
/// missing last part fails verify.
#[test]
fn a_changed_or_missing_part_of_an_original_fails_verify() {
    let (tmp, d) = label();
    // Keep the shipments original in two parts, as a large file is kept.
    sql(&d, "DROP TRIGGER files_no_update;");
    let bytes = SHIPMENTS.as_bytes();
    let (a, b) = bytes.split_at(bytes.len() / 2);
    let parts = [
        backstock_store::compress(a).unwrap(),
        backstock_store::compress(b).unwrap(),
    ];
    let hex = |v: &[u8]| v.iter().map(|x| format!("{x:02x}")).collect::<String>();
    let split = format!(
        "INSERT INTO file_parts (sha256, part, content) SELECT sha256, 0, x'{}' FROM files WHERE name = 'shipments.csv';
         INSERT INTO file_parts (sha256, part, content) SELECT sha256, 1, x'{}' FROM files WHERE name = 'shipments.csv';
         UPDATE files SET content = x'' WHERE name = 'shipments.csv';",
        hex(&parts[0]),
        hex(&parts[1])
    );
    sql(&d, &split);
    assert!(ok(&d, &["verify"]).contains("3 kept originals"));
    let copy = tmp.path().join("copy");
    std::fs::create_dir_all(&copy).unwrap();
    std::fs::copy(d.join("backstock.db"), copy.join("backstock.db")).unwrap();
    sql(
        &d,
        "DROP TRIGGER file_parts_no_update;
         UPDATE file_parts SET content = substr(content, 1, 12) || x'01' || substr(content, 14) WHERE part = 1;",
    );
    refused(&d, &["verify", "--full"], 5, "shipments.csv");
    sql(
        &copy,
        "DROP TRIGGER file_parts_no_delete; DELETE FROM file_parts WHERE part = 1;",
    );
    refused(&copy, &["verify"], 5, "shipments.csv");
}

/// A store made before chain version 2 (the schema-3 fixture: version-1 entries)
/// still verifies; entries recorded now are version 2 and the mixed chain verifies.
#[test]
fn a_store_of_version_1_entries_verifies_and_takes_version_2_entries() {
    let fixture = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/store-v3");
    let tmp = tempfile::tempdir().unwrap();
    let z = std::fs::read(Path::new(fixture).join("backstock.db.zst")).unwrap();
    std::fs::write(
        tmp.path().join("backstock.db"),
        backstock_store::decompress(&z).unwrap(),
    )
    .unwrap();
    let d = tmp.path();
    let v = ok(d, &["verify"]);
    assert!(
        v.starts_with("OK: 1,301 entries")
            && v.contains("f662d50150ff2713265052598e1de874d5fe1c30a06f48598b785c3713096871"),
        "{v}"
    );
    let f = write(
        d,
        "payments.csv",
        "payment_id,date,distributor,amount,currency,statement_id\nP-V2,2016-07-01,northwind,10.00,USD,\n",
    );
    ok(d, &["import", &f]);
    let v = ok(d, &["verify"]);
    assert!(v.starts_with("OK: 1,302 entries"), "{v}");
    assert!(v.contains("(still held)"), "{v}");
    // The new entry is version 2: its recorded_at is hashed.
    sql(
        d,
        "DROP TRIGGER journal_no_update;
         UPDATE journal SET recorded_at = '2001-01-01T00:00:00Z' WHERE seq = 1302;",
    );
    refused(d, &["verify", "--full"], 5, "entry #1302");
    // Claiming version 1 for it does not help either.
    sql(d, "UPDATE journal SET chain_version = 1 WHERE seq = 1302;");
    refused(d, &["verify", "--full"], 5, "entry #1302");
}

// ---- 19.6: no CSV the product writes runs a formula ----

#[test]
fn text_from_uploaded_files_never_runs_as_a_formula_in_csv_output() {
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path().join("data");
    ok(&d, &["init"]);
    let cat = write(
        tmp.path(),
        "catalog.csv",
        &CATALOG.replace("Harbor Lights", "\"=HYPERLINK(\"\"http://x.test\"\")\""),
    );
    let dist = write(tmp.path(), "distributors.csv", DISTRIBUTORS);
    let st = write(
        tmp.path(),
        "st.csv",
        &format!(
            "{HEADER}=2+5,allegro,2016-01-01,2016-01-31,2016-02-10,sale,MRG-001-CD,0,80.00,USD,\n"
        ),
    );
    ok(&d, &["import", &cat, &dist, &st]);
    let csv = ok(&d, &["receivables", "--format", "csv"]);
    assert!(csv.contains("allegro,'=2+5,"), "{csv}");
    assert!(!csv.contains(",=2+5"), "{csv}");
    // Amounts, negative ones too, stay numbers.
    let bal = ok(&d, &["balances", "--format", "csv"]);
    assert!(bal.contains(",-80.00,") || bal.contains(",80.00,"), "{bal}");
    assert!(!bal.contains("'-"), "{bal}");
}

// ---- errors a user meets on a first import ----

#[test]
fn what_an_imported_directory_holds_besides_its_files_is_passed_over_and_said_so() {
    let (tmp, d) = label();
    let dir = tmp.path().join("march");
    std::fs::create_dir_all(dir.join("payments")).unwrap();
    write(&dir, "README.txt", "Statements from Allegro, March 2016\n");
    write(&dir, "allegro-march.csv", &statement("A-3", 3, "8.00"));
    // The copy macOS leaves beside a file on a shared drive, and a tab-separated export.
    write(&dir, "._allegro-march.csv", "\0\u{5}\u{16}\u{7}Mac OS X");
    write(
        &dir,
        "export.tsv",
        "statement\tdistributor\tunits\nA-3\tallegro\t1\n",
    );
    write(
        &dir.join("payments"),
        "april.csv",
        "payment_id,date,distributor,amount,currency\nP-4,2016-04-30,allegro,8.00,USD\n",
    );
    let before = journal_len(&d);
    let out = ok(&d, &["import", dir.to_str().unwrap()]);
    for says in [
        "README.txt: passed over: its first line matches no file kind backstock imports",
        "export.tsv: passed over: the header is separated by tabs",
        "payments: passed over: a folder inside",
        "allegro-march.csv: recorded 1 statements line",
    ] {
        assert!(out.contains(says), "{says:?} in {out}");
    }
    assert!(!out.contains("._allegro"), "{out}");
    assert_eq!(
        journal_len(&d),
        before + 1,
        "the statement, not the folder's payment"
    );
    // Named on its own, the same file is an error: the user meant it.
    let readme = dir.join("README.txt");
    refused(
        &d,
        &["import", readme.to_str().unwrap()],
        3,
        "the header matches no known file kind",
    );
    let tsv = dir.join("export.tsv");
    refused(&d, &["import", tsv.to_str().unwrap()], 3, "export.tsv:1: the header is separated by tabs; backstock's own formats are comma-separated");
    // A directory holding nothing to import says so, and records nothing.
    let notes = tmp.path().join("notes");
    std::fs::create_dir_all(&notes).unwrap();
    write(&notes, "todo.txt", "ask Allegro about March\n");
    refused(
        &d,
        &["import", notes.to_str().unwrap()],
        3,
        "no files to import: ",
    );
    assert_eq!(journal_len(&d), before + 1);
}

#[test]
fn a_file_that_is_no_csv_at_all_is_named_for_what_it_is() {
    let (tmp, d) = label();
    for (name, bytes, says) in [
        ("empty.csv", b"".as_slice(), "the file is empty"),
        (
            "bom.csv",
            b"\xef\xbb\xbf\r\n".as_slice(),
            "the file is empty",
        ),
        (
            "book.csv",
            b"PK\x03\x04\x14\x00\x06\x00".as_slice(),
            "this is an XLSX workbook",
        ),
        (
            "unicode.csv",
            b"\xff\xfes\x00t\x00".as_slice(),
            "this is UTF-16 text",
        ),
        (
            "semi.csv",
            b"statement_id;distributor;amount\n".as_slice(),
            "the header is separated by semicolons",
        ),
        (
            "sep.csv",
            b"sep=,\nstatement_id,distributor\n".as_slice(),
            "the first line is \"sep=,\"",
        ),
    ] {
        let p = tmp.path().join(name);
        std::fs::write(&p, bytes).unwrap();
        refused(
            &d,
            &["import", p.to_str().unwrap()],
            3,
            &format!("{name}:1: {says}"),
        );
    }
}

#[test]
fn an_unquoted_thousands_comma_is_named_as_such_not_as_a_wrong_currency() {
    let (tmp, d) = label();
    let f = write(
        tmp.path(),
        "big.csv",
        &format!(
            "{HEADER}B1,allegro,2016-03-01,2016-03-31,2016-04-10,sale,MRG-001-CD,1,1,234.00,USD,\n"
        ),
    );
    refused(
        &d,
        &["import", &f],
        3,
        "big.csv:line 2, column 9 (amount): found \"1,234.00 (the line has 12 values, the header 11 columns)\", expected one value per column: write the number without its thousands comma (1234.00)",
    );
    // Written without the comma, the amount is read; trailing empty values (as some
    // spreadsheets write them) are not an error.
    let f = write(
        tmp.path(),
        "big-fixed.csv",
        &format!("{HEADER}B1,allegro,2016-03-01,2016-03-31,2016-04-10,sale,MRG-001-CD,1,1234.00,USD,,,\n"),
    );
    let out = ok(&d, &["import", &f]);
    assert!(out.contains("total 1,234.00 USD"), "{out}");
}

#[test]
fn a_value_beyond_the_header_is_refused_not_dropped() {
    let (tmp, d) = label();
    // A decimal comma left unquoted: 1326,48 would be read as 1,326.00 and the 48
    // cents dropped.
    let f = write(
        tmp.path(),
        "pay.csv",
        "payment_id,date,distributor,currency,amount\nP10,2016-04-20,allegro,USD,1326,48\n",
    );
    refused(
        &d,
        &["import", &f],
        3,
        "pay.csv:line 2, column 6 (none: the header ends at amount): found \"\\\"48\\\" (the line has 6 values, the header 5 columns)\", expected one value per column: a value holding a comma",
    );
    // An unquoted note with a comma in it.
    let f = write(
        tmp.path(),
        "memo.csv",
        &format!("{HEADER}B2,allegro,2016-03-01,2016-03-31,2016-04-10,sale,MRG-001-CD,1,12.00,USD,Smith, John\n"),
    );
    refused(
        &d,
        &["import", &f],
        3,
        "memo.csv:line 2, column 12 (none: the header ends at memo): found \"\\\"John\\\" (the line has 12 values",
    );
    let out = ok(&d, &["journal", "--kind", "payment"]);
    assert!(!out.contains("P10"), "{out}");
    // A trailing comma on every row is an empty value: read, and not taken for a
    // thousands comma (100,800.00 is units 100 and amount 800.00).
    let f = write(
        tmp.path(),
        "trailing.csv",
        &format!("{HEADER}B3,allegro,2016-03-01,2016-03-31,2016-04-10,sale,MRG-001-CD,100,800.00,USD,,\n"),
    );
    let out = ok(&d, &["import", &f]);
    assert!(out.contains("total 800.00 USD"), "{out}");
}

#[test]
fn nul_bytes_and_a_time_of_day_are_named_as_such() {
    let (tmp, d) = label();
    let f = write(
        tmp.path(),
        "nul.csv",
        &format!("{HEADER}B4,allegro,2016-03-01,2016-03-31,2016-04-10,sale,MRG-001-CD,1,12.00,USD,\n\0\0\n"),
    );
    refused(
        &d,
        &["import", &f],
        3,
        "nul.csv:line 3: found \"2 NUL bytes (binary zeros)\", expected text: the file is damaged or padded with zeros, or saved as UTF-16",
    );
    let f = write(
        tmp.path(),
        "time.csv",
        &format!("{HEADER}B5,allegro,2016-03-01,2016-03-31,2016-04-10T10:00:00,sale,MRG-001-CD,1,12.00,USD,\n"),
    );
    refused(
        &d,
        &["import", &f],
        3,
        "(write 2016-04-10 if that is the date meant)",
    );
}

#[test]
fn an_unknown_sku_is_named_with_its_column() {
    let (tmp, d) = label();
    let f = write(
        tmp.path(),
        "unknown.csv",
        &format!(
            "{HEADER}U1,allegro,2016-03-01,2016-03-31,2016-04-10,sale,MRG-999-CD,1,8.00,USD,\n"
        ),
    );
    refused(
        &d,
        &["import", &f],
        3,
        "unknown.csv:line 2, column 7 (sku): found \"MRG-999-CD\", expected a SKU or UPC in the catalog",
    );
}

#[test]
fn a_quote_never_closed_is_refused_at_its_line_not_read_as_a_shorter_file() {
    let (tmp, d) = label();
    // Line 3's memo opens a quote that never closes: read as CSV, lines 4-6 would be
    // its memo and the statement would import 8.00 short of what it says.
    let st = write(
        tmp.path(),
        "march.csv",
        &format!(
            "{HEADER}M1,allegro,2016-03-01,2016-03-31,2016-04-10,sale,MRG-001-CD,1,8.00,USD,\"Live\" promo\n\
             M1,allegro,2016-03-01,2016-03-31,2016-04-10,sale,MRG-001-CD,1,8.00,USD,\"Deluxe\n\
             M1,allegro,2016-03-01,2016-03-31,2016-04-10,sale,MRG-001-CD,1,8.00,USD,\n\
             M1,allegro,2016-03-01,2016-03-31,2016-04-10,sale,MRG-001-CD,1,8.00,USD,\n\
             M1,allegro,2016-03-01,2016-03-31,2016-04-10,fee,,,2.00,USD,fee\n"
        ),
    );
    refused(
        &d,
        &["import", &st],
        3,
        "march.csv:line 3, column 11 (memo): found \"a value starting \\\"Deluxe…\\\" that runs over 4 lines of the file, taking in lines that look like records\", expected a value on one line: a double quote (\") opens this value and nothing closes it before line 6",
    );
    refused(
        &d,
        &["import", "--dry-run", &st],
        3,
        "line 3, column 11 (memo)",
    );
    let pay = write(
        tmp.path(),
        "payments.csv",
        "payment_id,date,distributor,amount,currency,statement_id\n\
         P-1,2016-05-01,allegro,10.00,USD,\"M1\n\
         P-2,2016-06-01,allegro,20.00,USD,M1\n",
    );
    refused(
        &d,
        &["import", &pay],
        3,
        "payments.csv:line 2, column 6 (statement_id)",
    );
    // A memo written on two lines, quoted and closed, is the writer's own: read.
    let note = write(
        tmp.path(),
        "note.csv",
        &format!("{HEADER}M2,allegro,2016-03-01,2016-03-31,2016-04-10,sale,MRG-001-CD,1,8.00,USD,\"promo copies\nfor the tour\"\n"),
    );
    let out = ok(&d, &["import", &note]);
    assert!(out.contains("recorded 1 statements line"), "{out}");
}

#[test]
fn a_line_repeated_in_one_file_is_named_with_both_lines_not_called_a_changed_record() {
    let (tmp, d) = label();
    let po = write(
        tmp.path(),
        "orders.csv",
        "po_number,date,distributor,sku,units\n\
         PO-1,2016-02-01,allegro,MRG-001-CD,10\n\
         PO-1,2016-02-01,allegro,MRG-001-CD,10\n",
    );
    refused(
        &d,
        &["import", &po],
        3,
        "orders.csv:line 3: found \"a second line for po:PO-1:MRG-001-CD (the first is line 2)\", expected one line per po_number × sku in a file: add their units into one line",
    );
    let cat = write(
        tmp.path(),
        "catalog2.csv",
        &format!("{CATALOG}{}", CATALOG.lines().nth(1).unwrap()),
    );
    refused(
        &d,
        &["import", &cat],
        3,
        "catalog2.csv:line 3: found \"a second line for SKU MRG-001-CD (the first is line 2)\"",
    );
}

#[test]
fn optional_columns_may_be_left_out_and_a_column_named_twice_is_refused() {
    let (tmp, d) = label();
    // No memo column (a statement exported without notes), no statement_id on payments.
    let st = write(
        tmp.path(),
        "no-memo.csv",
        "statement_id,distributor,period_start,period_end,issued_on,kind,sku,units,amount,currency\n\
         N1,allegro,2016-03-01,2016-03-31,2016-04-10,sale,MRG-001-CD,2,16.00,USD\n",
    );
    let out = ok(&d, &["import", &st]);
    assert!(
        out.contains("recorded 1 statements line → 1 entry, total 16.00 USD"),
        "{out}"
    );
    let pay = write(
        tmp.path(),
        "pay.csv",
        "payment_id,date,distributor,amount,currency\nP-9,2016-05-01,allegro,16.00,USD\n",
    );
    let out = ok(&d, &["import", &pay]);
    assert!(out.contains("recorded 1 payments line"), "{out}");
    // A second "amount" column: which one is meant is a guess, so the file is refused.
    let twice = write(
        tmp.path(),
        "twice.csv",
        &format!(
            "{},amount\nT1,allegro,2016-04-01,2016-04-30,2016-05-10,sale,MRG-001-CD,1,8.00,USD,,999.00\n",
            HEADER.trim_end()
        ),
    );
    refused(
        &d,
        &["import", &twice],
        3,
        "twice.csv:line 1, column 12 (amount): found \"a second column named \\\"amount\\\" (the first is column 9)\", expected each column once",
    );
}

#[test]
fn a_file_in_two_encodings_is_refused_rather_than_stored_garbled() {
    let (tmp, d) = label();
    let mut bytes = CATALOG.as_bytes().to_vec();
    bytes.extend_from_slice(
        "MRG-002-CD,859712000026,Caf\u{e9},Caf\u{e9} Tacvba,CD,2011-01-15,15.98,8.00,1.10,USD\n"
            .as_bytes(),
    );
    bytes.extend_from_slice(
        b"MRG-003-CD,859712000033,\xd1and\xfa,Los Ejemplos,CD,2012-01-15,15.98,8.00,1.10,USD\n",
    );
    let p = tmp.path().join("catalog-mixed.csv");
    std::fs::write(&p, &bytes).unwrap();
    refused(
        &d,
        &["import", p.to_str().unwrap()],
        3,
        "catalog-mixed.csv: the file mixes two encodings: line 3 has 'é' written in UTF-8, line 4 text in another encoding (Windows-1252)",
    );
}
