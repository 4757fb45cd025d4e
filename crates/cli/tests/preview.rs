//! Issue 19.5: a dry run predicts the import. Rows already recorded from another file
//! (distributors re-send cumulative exports) are reported as already recorded and
//! skipped, not refused as "different details"; rows that do differ are refused by the
//! dry run exactly as the import refuses them.

mod common;
use common::{demo, fail, journal_len, ok, refused, run, write};

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
const JAN: &str = "ST-1,allegro,2016-01-01,2016-01-31,2016-02-10,sale,MRG-001-CD,10,80.00,USD,\n";
const FEB: &str = "ST-2,allegro,2016-02-01,2016-02-29,2016-03-10,sale,MRG-001-CD,20,160.00,USD,\n";
const JAN_CHANGED: &str =
    "ST-1,allegro,2016-01-01,2016-01-31,2016-02-10,sale,MRG-001-CD,11,88.00,USD,\n";

fn label() -> (tempfile::TempDir, std::path::PathBuf) {
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path().join("data");
    ok(&d, &["init"]);
    let mut files = Vec::new();
    for (name, text) in [
        ("catalog.csv", CATALOG),
        ("distributors.csv", DISTRIBUTORS),
        ("shipments.csv", SHIPMENTS),
        ("jan.csv", &format!("{HEADER}{JAN}")),
    ] {
        let p = tmp.path().join(name);
        std::fs::write(&p, text).unwrap();
        files.push(p.to_string_lossy().to_string());
    }
    let args: Vec<&str> = ["import"]
        .into_iter()
        .chain(files.iter().map(String::as_str))
        .collect();
    ok(&d, &args);
    (tmp, d)
}

#[test]
fn a_dry_run_skips_rows_already_recorded_from_another_file_and_the_import_agrees() {
    let (tmp, d) = label();
    // January again (a cumulative export) with February: January is already recorded.
    let both = tmp.path().join("jan-feb.csv");
    std::fs::write(&both, format!("{HEADER}{JAN}{FEB}")).unwrap();
    let both = both.to_string_lossy().to_string();
    let before = journal_len(&d);
    let dry = ok(&d, &["import", "--dry-run", &both]);
    assert!(dry.contains("would record"), "{dry}");
    assert!(dry.contains("1 already recorded"), "{dry}");
    assert!(dry.contains("1 new"), "{dry}");
    assert_eq!(journal_len(&d), before, "a dry run records nothing");
    // The import does what the dry run said.
    let out = ok(&d, &["import", &both]);
    assert!(out.contains("recorded"), "{out}");
    assert!(out.contains("1 already recorded, 1 new"), "{out}");
    assert_eq!(journal_len(&d), before + 1);
    // Only January again, in yet another file: nothing new, nothing refused.
    let again = tmp.path().join("jan-again.csv");
    std::fs::write(&again, format!("{HEADER}{JAN}\n")).unwrap();
    let again = again.to_string_lossy().to_string();
    let dry = ok(&d, &["import", "--dry-run", &again]);
    assert!(dry.contains("1 already recorded, 0 new"), "{dry}");
    let out = ok(&d, &["import", &again]);
    assert!(
        out.contains("nothing new: its entry was already recorded from another file"),
        "{out}"
    );
    // A file of its header alone says so.
    let empty = tmp.path().join("header-only.csv");
    std::fs::write(&empty, HEADER).unwrap();
    let out = ok(&d, &["import", empty.to_str().unwrap()]);
    assert!(
        out.contains("header-only.csv: no lines after its header; nothing to record"),
        "{out}"
    );
    assert_eq!(journal_len(&d), before + 1);
    let v = ok(&d, &["verify"]);
    assert!(v.starts_with("OK"), "{v}");
}

#[test]
fn a_dry_run_warns_of_a_payment_beyond_what_is_owed_or_in_another_currency() {
    // ST-1 (January) is 80.00 USD open.
    let (tmp, d) = label();
    let pay = tmp.path().join("pay.csv");
    let warned = |rows: &str| -> String {
        std::fs::write(
            &pay,
            format!("payment_id,date,distributor,amount,currency,statement_id\n{rows}"),
        )
        .unwrap();
        ok(&d, &["import", "--dry-run", &pay.to_string_lossy()])
    };
    let dry = warned("P-1,2016-05-02,allegro,5000.00,USD,\n");
    assert!(
        dry.contains("payment P-1 of 5,000.00 USD from allegro is more than the 80.00 USD owed on the books: 4,920.00 USD will stand as allegro's credit"),
        "{dry}"
    );
    // Two payments of one file are judged together: the second finds nothing owed.
    let dry = warned("P-1,2016-05-02,allegro,80.00,USD,\nP-2,2016-05-03,allegro,80.00,USD,\n");
    assert!(!dry.contains("payment P-1"), "{dry}");
    assert!(
        dry.contains("payment P-2 of 80.00 USD from allegro matches no open statement"),
        "{dry}"
    );
    // Named statement in USD, paid in EUR.
    let dry = warned("P-1,2016-05-02,allegro,50.00,EUR,ST-1\n");
    assert!(
        dry.contains("payment P-1 of 50.00 EUR names statement ST-1, which is in USD"),
        "{dry}"
    );
    let dry = warned("P-1,2016-05-02,allegro,50.00,EUR,\n");
    assert!(
        dry.contains("is in EUR, but its agreement and statements are in USD"),
        "{dry}"
    );
    // Paid in full and no more: nothing to say.
    let dry = warned("P-1,2016-05-02,allegro,80.00,USD,ST-1\n");
    assert!(!dry.contains("payment P-1"), "{dry}");
    // Dated before the statement it pays was issued (2016-02-10): a mistyped date.
    let dry = warned("P-1,2015-02-05,allegro,80.00,USD,ST-1\n");
    assert!(
        dry.contains("payment P-1 of 80.00 USD is dated 2015-02-05, before statement ST-1 was issued (2016-02-10): check the payment's date"),
        "{dry}"
    );
}

#[test]
fn a_statement_selling_more_than_the_distributor_holds_is_warned() {
    // allegro was sent 300 and January's statement sold 10.
    let (tmp, d) = label();
    let f = tmp.path().join("mar.csv");
    let mar = "ST-3,allegro,2016-03-01,2016-03-31,2016-04-10,sale,MRG-001-CD,200,1600.00,USD,\n\
ST-4,allegro,2016-04-01,2016-04-30,2016-05-10,sale,MRG-001-CD,95,760.00,USD,\n";
    std::fs::write(&f, format!("{HEADER}{mar}")).unwrap();
    let dry = ok(&d, &["import", "--dry-run", &f.to_string_lossy()]);
    // 290 held: March's 200 fit, April's 95 do not (90 left after March).
    assert!(!dry.contains("statement ST-3"), "{dry}");
    assert!(
        dry.contains("statement ST-4 from allegro reports 95 × MRG-001-CD sold, more than the 90 it holds of the label's on the books by 2016-04-30"),
        "{dry}"
    );
    // Within what it holds: nothing to say.
    std::fs::write(&f, format!("{HEADER}{FEB}")).unwrap();
    let dry = ok(&d, &["import", "--dry-run", &f.to_string_lossy()]);
    assert!(!dry.contains("holds of the label's"), "{dry}");

    // A late statement (January's, received in April) sold 250 of the 290; February's,
    // received the same day, sells 100: the books as known by February's end do not
    // show January's yet, the books now do.
    let late = tmp.path().join("late-jan.csv");
    std::fs::write(
        &late,
        format!("{HEADER}ST-L1,allegro,2016-01-01,2016-01-31,2016-04-10,sale,MRG-001-CD,250,2000.00,USD,\n"),
    )
    .unwrap();
    let out = ok(&d, &["import", &late.to_string_lossy()]);
    assert!(!out.contains("holds of the label's"), "{out}");
    let feb = tmp.path().join("late-feb.csv");
    std::fs::write(
        &feb,
        format!("{HEADER}ST-L2,allegro,2016-02-01,2016-02-29,2016-04-10,sale,MRG-001-CD,100,800.00,USD,\n"),
    )
    .unwrap();
    let dry = ok(&d, &["import", "--dry-run", &feb.to_string_lossy()]);
    assert!(
        dry.contains("statement ST-L2 from allegro reports 100 × MRG-001-CD sold, more than the 40 it holds of the label's on the books now — statements recorded after 2016-02-29 sold the rest"),
        "{dry}"
    );
}

/// A distributor re-sending a statement under a new number (same period, same totals)
/// is said before it is recorded, naming the statement it repeats and the way out; the
/// same file again (same number) says nothing, nor does a different month.
#[test]
fn a_statement_resent_under_another_number_is_warned() {
    let (tmp, d) = label();
    let f = tmp.path().join("jan-again.csv");
    std::fs::write(&f, format!("{HEADER}{}", JAN.replace("ST-1", "ST-1R"))).unwrap();
    let f = f.to_string_lossy().to_string();
    let says = "statement ST-1R of allegro (2016-01-01 to 2016-01-31) has the same sales, returns and amounts as statement ST-1 (issued 2016-02-10) already on the books";
    let dry = ok(&d, &["import", "--dry-run", &f]);
    assert!(dry.contains(says), "{dry}");
    assert!(
        dry.contains("`backstock correct statement:allegro:ST-1R --reason \"sent twice\"`"),
        "{dry}"
    );
    // Twice in one file: the second is said to repeat the first.
    let g = tmp.path().join("feb-twice.csv");
    std::fs::write(&g, format!("{HEADER}{FEB}{}", FEB.replace("ST-2", "ST-2X"))).unwrap();
    let dry = ok(&d, &["import", "--dry-run", &g.to_string_lossy()]);
    assert!(
        dry.contains("statement ST-2X of allegro (2016-02-01 to 2016-02-29) has the same sales, returns and amounts as statement ST-2 (issued 2016-03-10) earlier in this file"),
        "{dry}"
    );
    // A different month, or the same statement again: nothing to say.
    let h = tmp.path().join("feb.csv");
    std::fs::write(&h, format!("{HEADER}{FEB}")).unwrap();
    let h = h.to_string_lossy().to_string();
    let out = ok(&d, &["import", &h]);
    assert!(!out.contains("same sales, returns"), "{out}");
    let again = ok(&d, &["import", "--dry-run", &h]);
    assert!(!again.contains("same sales, returns"), "{again}");
    // Corrected away, the earlier one no longer stands: the resend is the statement.
    ok(
        &d,
        &[
            "correct",
            "statement:allegro:ST-1",
            "--reason",
            "resent as ST-1R",
        ],
    );
    let dry = ok(&d, &["import", "--dry-run", &f]);
    assert!(!dry.contains("same sales, returns"), "{dry}");
}

/// A statement keyed in another currency than its distributor's agreement is said
/// before it is recorded (dry run and import), as a payment in another currency is;
/// one in the agreement's currency says nothing.
#[test]
fn a_statement_in_another_currency_than_the_agreement_is_warned() {
    let (tmp, d) = label();
    let f = tmp.path().join("feb-eur.csv");
    std::fs::write(&f, format!("{HEADER}{}", FEB.replace(",USD,", ",EUR,"))).unwrap();
    let f = f.to_string_lossy().to_string();
    let says = "statement ST-2 of allegro is in EUR, but its agreement is in USD";
    let dry = ok(&d, &["import", "--dry-run", &f]);
    assert!(dry.contains(says), "{dry}");
    let out = ok(&d, &["import", &f]);
    assert!(out.contains(says), "{out}");
    let g = tmp.path().join("feb.csv");
    std::fs::write(&g, format!("{HEADER}{}", FEB.replace("ST-2", "ST-2B"))).unwrap();
    let dry = ok(&d, &["import", "--dry-run", &g.to_string_lossy()]);
    assert!(!dry.contains("but its agreement is in"), "{dry}");
}

#[test]
fn a_dry_run_refuses_rows_recorded_with_other_details_as_the_import_does() {
    let (tmp, d) = label();
    let changed = tmp.path().join("jan-changed.csv");
    std::fs::write(&changed, format!("{HEADER}{JAN_CHANGED}{FEB}")).unwrap();
    let changed = changed.to_string_lossy().to_string();
    refused(
        &d,
        &["import", "--dry-run", &changed],
        4,
        "already recorded with different details",
    );
    refused(
        &d,
        &["import", &changed],
        4,
        "already recorded with different details",
    );
    // The rows that make the conflicting entry are named.
    let e = fail(&d, &["import", &changed], 4);
    assert!(
        e.contains("jan-changed.csv, line") && e.contains("that entry"),
        "{e}"
    );
    // The same id twice in one file is refused by the dry run too.
    let twice = tmp.path().join("twice.csv");
    std::fs::write(
        &twice,
        "payment_id,date,distributor,amount,currency,statement_id\n\
P1,2016-04-01,allegro,10.00,USD,ST-1\n\
P1,2016-04-02,allegro,10.00,USD,ST-1\n",
    )
    .unwrap();
    let twice = twice.to_string_lossy().to_string();
    let o = run(&d, &["import", "--dry-run", &twice]);
    let o2 = run(&d, &["import", &twice]);
    assert_eq!(
        o.status.success(),
        o2.status.success(),
        "the dry run predicts: {} / {}",
        String::from_utf8_lossy(&o.stderr),
        String::from_utf8_lossy(&o2.stderr)
    );
}

/// Issue 18.7 / 18.10 / 18.13: a dry run of several files counts the files before each
/// one (as the import will, one after another), and refuses what the import would.
mod a_new_labels_first_files {
    use super::common::{fail, journal_len, ok};

    const CATALOG: &str =
        "sku,upc,title,artist,format,release_date,list_price,wholesale_price,unit_cost,currency\n\
HP-001-LP,,Cedar Smoke,Ada Wren,LP,2025-09-01,25.00,13.00,6.00,USD\n\
HP-002-CD,,Cedar Smoke,Ada Wren,CD,2025-09-01,14.00,7.50,2.50,USD\n";
    const DISTRIBUTORS: &str = "distributor,legal_name,state_of_organization,agreement_start,fee_rate,payment_terms_days,statement_frequency,reserve_rate,reserve_release_days,credit_limit,currency,title_retained,ucc1_file_number,ucc1_filed_on,ucc1_state\n\
riverbend,Riverbend Distribution LLC,OR,2025-09-01,0.20,60,monthly,0.10,180,20000.00,USD,true,OR-2025-1234,2025-09-01,OR\n";
    const OPENING: &str = "record,date,party,sku,units,statement_id,period_end,amount,currency\n\
stock,2025-09-15,label,HP-001-LP,300,,,,\n\
stock,2025-09-15,label,HP-002-CD,300,,,,\n";
    const SHIPMENTS: &str = "shipment_id,date,from,to,sku,units,po_number\n\
SH-1,2025-10-01,label,riverbend,HP-001-LP,50,\n\
SH-2,2025-10-01,label,riverbend,HP-002-CD,40,\n";
    const STATEMENTS: &str = "statement_id,distributor,period_start,period_end,issued_on,kind,sku,units,amount,currency,memo\n\
RB-2025-10,riverbend,2025-10-01,2025-10-31,2025-11-10,sale,HP-001-LP,10,130.00,USD,\n\
RB-2025-10,riverbend,2025-10-01,2025-10-31,2025-11-10,fee,,,26.00,USD,\n\
RB-2025-10,riverbend,2025-10-01,2025-10-31,2025-11-10,reserve_withheld,,,13.00,USD,\n";
    const PAYMENTS: &str = "payment_id,date,distributor,amount,currency,statement_id\n\
P-1,2025-12-20,riverbend,91.00,USD,RB-2025-10\n";

    fn label() -> (tempfile::TempDir, std::path::PathBuf) {
        let tmp = tempfile::tempdir().unwrap();
        let d = tmp.path().join("data");
        ok(&d, &["init"]);
        for (name, text) in [
            ("catalog.csv", CATALOG),
            ("distributors.csv", DISTRIBUTORS),
            ("opening.csv", OPENING),
            ("shipments.csv", SHIPMENTS),
            ("statements.csv", STATEMENTS),
            ("payments.csv", PAYMENTS),
        ] {
            std::fs::write(tmp.path().join(name), text).unwrap();
        }
        let f = |n: &str| tmp.path().join(n).to_string_lossy().to_string();
        ok(&d, &["import", &f("catalog.csv"), &f("distributors.csv")]);
        (tmp, d)
    }

    fn path(tmp: &tempfile::TempDir, name: &str) -> String {
        tmp.path().join(name).to_string_lossy().to_string()
    }

    #[test]
    fn a_dry_run_of_several_files_counts_the_files_before_each() {
        let (tmp, d) = label();
        let before = journal_len(&d);
        let files = [
            "opening.csv",
            "shipments.csv",
            "statements.csv",
            "payments.csv",
        ]
        .map(|n| path(&tmp, n));
        let mut args = vec!["import", "--dry-run"];
        args.extend(files.iter().map(String::as_str));
        let dry = ok(&d, &args);
        // The payment names the statement of the same run: no "never sent", and the
        // receivable it settles is the one the statement left.
        assert!(!dry.contains("never sent"), "{dry}");
        assert!(!dry.contains("matches no open statement"), "{dry}");
        let payments = &dry[dry.find("payments.csv: would record").expect(&dry)..];
        assert!(
            payments
                .contains("riverbend      receivable                91.00 USD →         0.00 USD"),
            "{dry}"
        );
        assert_eq!(journal_len(&d), before, "a dry run records nothing");
        assert!(
            std::fs::read_dir(std::env::temp_dir())
                .unwrap()
                .flatten()
                .all(|e| !e
                    .file_name()
                    .to_string_lossy()
                    .starts_with(&format!("backstock-dry-run-{}-", std::process::id()))),
            "the scratch copy is removed"
        );
        // The import does what the dry run said.
        let mut args = vec!["import"];
        args.extend(files.iter().map(String::as_str));
        let out = ok(&d, &args);
        assert!(!out.contains("never sent"), "{out}");
        assert!(journal_len(&d) > before);
    }

    #[test]
    fn a_dry_run_refuses_a_shipment_of_stock_the_label_does_not_hold() {
        let (tmp, d) = label();
        let before = journal_len(&d);
        let err = fail(
            &d,
            &["import", "--dry-run", &path(&tmp, "shipments.csv")],
            4,
        );
        assert!(err.contains("which holds only 0"), "{err}");
        assert!(err.contains("import an opening.csv first"), "{err}");
        assert!(
            err.contains(
                "shipments.csv: the import would refuse this file (dry run: nothing changed)"
            ),
            "{err}"
        );
        assert_eq!(journal_len(&d), before);
        // With the opening stock in the same run, it would go in.
        let dry = ok(
            &d,
            &[
                "import",
                "--dry-run",
                &path(&tmp, "opening.csv"),
                &path(&tmp, "shipments.csv"),
            ],
        );
        assert!(
            dry.contains("shipments.csv: would record 2 shipments lines"),
            "{dry}"
        );
        assert_eq!(journal_len(&d), before);
    }

    #[test]
    fn a_run_that_stops_at_a_file_still_says_what_the_files_before_it_did() {
        let (tmp, d) = label();
        let before = journal_len(&d);
        std::fs::write(
            tmp.path().join("too-many.csv"),
            "shipment_id,date,from,to,sku,units,po_number\nSH-9,2025-10-02,label,riverbend,HP-001-LP,9000,\n",
        )
        .unwrap();
        let files = ["opening.csv", "shipments.csv", "too-many.csv"].map(|n| path(&tmp, n));
        let mut args = vec!["import", "--dry-run"];
        args.extend(files.iter().map(String::as_str));
        let err = fail(&d, &args, 4);
        assert!(err.contains("the files before it would do this:"), "{err}");
        assert!(
            err.contains("opening.csv: would record 2 opening lines"),
            "{err}"
        );
        assert!(
            err.contains("shipments.csv: would record 2 shipments lines"),
            "{err}"
        );
        assert_eq!(journal_len(&d), before);
        let mut args = vec!["import"];
        args.extend(files.iter().map(String::as_str));
        let err = fail(&d, &args, 4);
        assert!(err.contains("the files before it did this:"), "{err}");
        assert!(
            err.contains("shipments.csv: recorded 2 shipments lines"),
            "{err}"
        );
        assert!(journal_len(&d) > before);
        // The same bytes twice in one dry run are said to be so, not "already imported".
        std::fs::copy(tmp.path().join("payments.csv"), tmp.path().join("copy.csv")).unwrap();
        let dry = ok(
            &d,
            &[
                "import",
                "--dry-run",
                &path(&tmp, "statements.csv"),
                &path(&tmp, "payments.csv"),
                &path(&tmp, "copy.csv"),
            ],
        );
        assert!(dry.contains("copy.csv: the same file as"), "{dry}");
        assert!(dry.contains("payments.csv, earlier in this run"), "{dry}");
    }

    #[test]
    fn a_royalty_files_dry_run_lists_its_rows() {
        let (tmp, d) = label();
        std::fs::write(
            tmp.path().join("payees.csv"),
            "payee,name,email\nada-wren,Ada Wren,ada@example.com\n",
        )
        .unwrap();
        std::fs::write(
            tmp.path().join("contracts.csv"),
            "contract_id,effective_from,title,payees,skus,basis,rates,cross_collateralized,reserve_rate,reserve_release_periods,min_payout,currency\n\
C-WREN,2025-09-01,Cedar Smoke,ada-wren:100%,HP-001-LP,earned,*:net_receipts:20%,yes,,,0,USD\n",
        )
        .unwrap();
        let before = journal_len(&d);
        let dry = ok(
            &d,
            &[
                "import",
                "--dry-run",
                &path(&tmp, "payees.csv"),
                &path(&tmp, "contracts.csv"),
            ],
        );
        assert!(
            dry.contains("payee ada-wren: Ada Wren <ada@example.com>"),
            "{dry}"
        );
        assert!(
            dry.contains("contract C-WREN from 2025-09-01: Cedar Smoke (1 release), rates *:net_receipts:20%"),
            "{dry}"
        );
        assert!(dry.contains("paying ada-wren 100%"), "{dry}");
        assert_eq!(journal_len(&d), before);
        // Named with --kind, a payees file is read as one whatever its header.
        std::fs::write(
            tmp.path().join("artists.csv"),
            "Payee,Name,E-mail\nada-wren,Ada Wren,ada@example.com\n",
        )
        .unwrap();
        let err = fail(
            &d,
            &[
                "import",
                "--kind",
                "payees",
                "--dry-run",
                &path(&tmp, "artists.csv"),
            ],
            3,
        );
        assert!(
            err.contains("expected a header with the column \"email\""),
            "{err}"
        );
        let dry = ok(
            &d,
            &[
                "import",
                "--kind",
                "payees",
                "--dry-run",
                &path(&tmp, "payees.csv"),
            ],
        );
        assert!(dry.contains("payee ada-wren: Ada Wren"), "{dry}");
    }

    #[test]
    fn a_stock_report_ahead_of_the_statement_is_not_called_a_mismatch() {
        let (tmp, d) = label();
        let f = |n: &str| path(&tmp, n);
        ok(&d, &["import", &f("opening.csv"), &f("shipments.csv")]);
        // 40 of the 50 LPs on hand on 2025-10-31: October's sales (10) are not reported yet.
        std::fs::write(
            tmp.path().join("sr.csv"),
            "distributor,as_of,sku,units_on_hand\nriverbend,2025-10-31,HP-001-LP,40\nriverbend,2025-10-31,HP-002-CD,45\n",
        )
        .unwrap();
        let dry = ok(&d, &["import", "--dry-run", &f("sr.csv")]);
        assert!(
            dry.contains(
                "riverbend reports fewer units than the books hold on 1 stock line (to 2025-10-31)"
            ),
            "{dry}"
        );
        // More than was ever consigned is said at once.
        assert!(
            dry.contains("riverbend reports 45 × HP-002-CD on 2025-10-31; the books say 40 (+5)"),
            "{dry}"
        );
        assert!(
            !dry.contains("HP-001-LP on 2025-10-31; the books say"),
            "{dry}"
        );
        // With the statement in, the books agree: nothing to say of the LPs.
        ok(&d, &["import", &f("statements.csv")]);
        let dry = ok(&d, &["import", "--dry-run", &f("sr.csv")]);
        assert!(!dry.contains("fewer units than the books hold"), "{dry}");
        assert!(!dry.contains("HP-001-LP on 2025-10-31"), "{dry}");
        ok(&d, &["import", &f("sr.csv")]);
        let rec = ok(&d, &["reconcile"]);
        assert!(!rec.contains("HP-001-LP"), "{rec}");
    }
}

/// The preview of a shipments file says when a consignment goes to a distributor the
/// credit check holds (as `ship` would refuse it), not for a healthy one.
#[test]
fn a_shipment_file_to_a_distributor_on_credit_hold_is_warned_in_the_preview() {
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path().join("demo");
    common::ok(&d, &["demo"]);
    let f = tmp.path().join("ship.csv");
    std::fs::write(
        &f,
        "shipment_id,date,from,to,sku,units,po_number\nWX-9,2016-06-29,label,cascade,MRG-001-CD,10,\nWX-10,2016-06-29,label,northwind,MRG-001-CD,10,\n",
    )
    .unwrap();
    let dry = common::ok(&d, &["import", "--dry-run", f.to_str().unwrap()]);
    assert!(
        dry.contains("consigns 10 units to cascade (WX-9) while cascade is on credit hold"),
        "{dry}"
    );
    assert!(
        dry.contains("`backstock ship` refuses such a shipment"),
        "{dry}"
    );
    assert!(
        !dry.contains("to northwind (WX-10) while northwind is on credit hold"),
        "{dry}"
    );
}

/// A consignment's perfection is judged on its own date, as `legal` judges it: a
/// UCC-1 that has lapsed since does not make an old shipment unperfected.
#[test]
fn a_shipment_is_judged_perfected_on_its_own_date() {
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path().join("data");
    common::ok(&d, &["init"]);
    let write = |name: &str, text: &str| {
        let p = tmp.path().join(name);
        std::fs::write(&p, text).unwrap();
        p.to_string_lossy().to_string()
    };
    let catalog = write("catalog.csv", CATALOG);
    let dist = write(
        "distributors.csv",
        "distributor,legal_name,state_of_organization,agreement_start,fee_rate,payment_terms_days,statement_frequency,reserve_rate,reserve_release_days,credit_limit,currency,title_retained,ucc1_file_number,ucc1_filed_on,ucc1_state\n\
eastside,Eastside Music LLC,NY,2015-01-01,0.20,90,monthly,0.10,180,50000.00,USD,true,UCC-123,2015-01-05,NY\n",
    );
    let opening = write(
        "opening.csv",
        "record,date,party,sku,units,statement_id,period_end,amount,currency\nstock,2015-12-01,label,MRG-001-CD,500,,,,\n",
    );
    common::ok(&d, &["import", &catalog, &dist, &opening]);
    let old = write(
        "old.csv",
        "shipment_id,date,from,to,sku,units,po_number\nSH-1,2016-01-10,label,eastside,MRG-001-CD,100,\n",
    );
    let dry = common::ok(&d, &["import", "--dry-run", &old]);
    assert!(!dry.contains("not perfected"), "{dry}");
    let late = write(
        "late.csv",
        "shipment_id,date,from,to,sku,units,po_number\nSH-2,2021-01-10,label,eastside,MRG-001-CD,100,\n",
    );
    let dry = common::ok(&d, &["import", "--dry-run", &late]);
    assert!(
        dry.contains(
            "consigns 100 units to eastside (SH-2) while its UCC-1 had lapsed on 2020-01-05"
        ),
        "{dry}"
    );
}

#[test]
fn a_shipment_naming_a_purchase_order_not_on_file_is_warned() {
    let (tmp, d) = label();
    let po = tmp.path().join("orders.csv");
    std::fs::write(
        &po,
        "po_number,date,distributor,sku,units\nPO-7,2016-02-01,allegro,MRG-001-CD,20\n",
    )
    .unwrap();
    ok(&d, &["import", po.to_str().unwrap()]);
    let sh = tmp.path().join("more.csv");
    std::fs::write(
        &sh,
        "shipment_id,date,from,to,sku,units,po_number\n\
         S2,2016-02-03,label,allegro,MRG-001-CD,20,PO-7\n\
         S3,2016-02-04,label,allegro,MRG-001-CD,5,PO-77\n",
    )
    .unwrap();
    let dry = ok(&d, &["import", "--dry-run", sh.to_str().unwrap()]);
    assert!(
        dry.contains("names purchase order not on file: PO-77 (allegro) — import purchase_orders.csv first, or check the number"),
        "{dry}"
    );
    assert!(!dry.contains("PO-7 (allegro)"), "{dry}");
}

#[test]
fn a_payment_in_another_currency_is_shown_apart_in_receivables() {
    let (tmp, d) = label();
    let pay = tmp.path().join("eur.csv");
    std::fs::write(
        &pay,
        "payment_id,date,distributor,amount,currency,statement_id\nP-E,2016-05-02,allegro,45.20,EUR,\n",
    )
    .unwrap();
    ok(&d, &["import", pay.to_str().unwrap()]);
    let out = ok(&d, &["receivables", "--as-of", "2016-06-30"]);
    assert!(
        out.contains("allegro in EUR (kept apart from its USD agreement): 0.00 EUR open on 0 statements, 45.20 EUR paid beyond them, net receivable -45.20 EUR."),
        "{out}"
    );
}

/// A shipment from the label dated before the label held the units (made on
/// 2016-01-02, shipped "2015-12-20") is warned in the dry run and the import: the
/// ledger checks what the label holds today.
#[test]
fn a_shipment_dated_before_the_label_held_the_units_is_warned() {
    let (tmp, d) = label();
    let p = tmp.path().join("early.csv");
    std::fs::write(
        &p,
        "shipment_id,date,from,to,sku,units,po_number\nS0,2015-12-20,label,allegro,MRG-001-CD,10,\n",
    )
    .unwrap();
    let p = p.to_string_lossy().to_string();
    let dry = ok(&d, &["import", "--dry-run", &p]);
    assert!(
        dry.contains("warning: ships 10 × MRG-001-CD by 2015-12-20, when the label held 0 of them on the books by then: check the date"),
        "{dry}"
    );
    // A pressing delivered in the same file counts: no warning for a file that makes
    // the units and ships them.
    let fresh = tmp.path().join("fresh");
    ok(&fresh, &["init"]);
    let f = |name: &str, text: &str| {
        let p = tmp.path().join(name);
        std::fs::write(&p, text).unwrap();
        p.to_string_lossy().to_string()
    };
    ok(
        &fresh,
        &["import", &f("c.csv", CATALOG), &f("d.csv", DISTRIBUTORS)],
    );
    let dry = ok(&fresh, &["import", "--dry-run", &f("s.csv", SHIPMENTS)]);
    assert!(!dry.contains("warning: ships"), "{dry}");
}

/// Opening stock imported after the history it should have started is added to what
/// the books hold: the dry run (and the import) say so.
#[test]
fn opening_stock_over_existing_history_is_warned() {
    let (tmp, d) = label();
    let p = tmp.path().join("opening.csv");
    std::fs::write(
        &p,
        "record,date,party,sku,units,statement_id,period_end,amount,currency\nstock,2016-03-31,allegro,MRG-001-CD,250,,,,\n",
    )
    .unwrap();
    let p = p.to_string_lossy().to_string();
    let dry = ok(&d, &["import", "--dry-run", &p]);
    assert!(
        dry.contains("warning: opening stock of 250 × MRG-001-CD at allegro on 2016-03-31 is added to the 290 the books already hold there"),
        "{dry}"
    );
}

/// A payment larger than what is open on the statement it names is warned, with what
/// the books will apply to it; a credit note dated after the payment does not count
/// as having settled that statement first (the books apply in date order).
#[test]
fn a_payment_beyond_its_statement_is_warned_as_the_books_apply_it() {
    let (tmp, d) = label();
    // ST-1 (January, 80.00); ST-2 (February, 160.00); a March credit note of 80.00
    // (returns beyond sales) issued 2016-04-10.
    let st = tmp.path().join("more.csv");
    std::fs::write(
        &st,
        format!(
            "{HEADER}{FEB}ST-3,allegro,2016-03-01,2016-03-31,2016-04-10,return,MRG-001-CD,10,80.00,USD,\n"
        ),
    )
    .unwrap();
    ok(&d, &["import", &st.to_string_lossy()]);
    let pay = tmp.path().join("pay.csv");
    let dry = |rows: &str| -> String {
        std::fs::write(
            &pay,
            format!("payment_id,date,distributor,amount,currency,statement_id\n{rows}"),
        )
        .unwrap();
        ok(&d, &["import", "--dry-run", &pay.to_string_lossy()])
    };
    // Paid on 2016-03-20, before the credit note: ST-1's 80.00 was open then.
    let out = dry("P-1,2016-03-20,allegro,80.00,USD,ST-1\n");
    assert!(!out.contains("more than the"), "{out}");
    let out = dry("P-1,2016-03-20,allegro,100.00,USD,ST-1\n");
    assert!(
        out.contains("payment P-1 of 100.00 USD is more than the 80.00 USD open on statement ST-1 when it came: the rest, 20.00 USD, goes to allegro's other open statements"),
        "{out}"
    );
}

/// A stock row of opening.csv counts units: money written on it would be dropped
/// without a word, so it is refused, naming the cell, and nothing is recorded.
#[test]
fn money_on_an_opening_stock_row_is_refused() {
    let (tmp, d) = demo();
    let before = journal_len(&d);
    let f = write(
        tmp.path(),
        "opening.csv",
        "record,date,party,sku,units,statement_id,period_end,amount,currency\nstock,2016-06-01,northwind,MRG-001-CD,3,,,9.00,USD\n",
    );
    let e = fail(&d, &["import", &f], 3);
    assert!(
        e.contains("line 2, column 8 (amount): found \"9.00\", expected nothing on a stock row"),
        "{e}"
    );
    assert_eq!(journal_len(&d), before);
}
