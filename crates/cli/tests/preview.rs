//! Issue 19.5: a dry run predicts the import. Rows already recorded from another file
//! (distributors re-send cumulative exports) are reported as already recorded and
//! skipped, not refused as "different details"; rows that do differ are refused by the
//! dry run exactly as the import refuses them.

mod common;
use common::{journal_len, ok, refused, run};

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
    ok(&d, &["import", &again]);
    assert_eq!(journal_len(&d), before + 1);
    let v = ok(&d, &["verify"]);
    assert!(v.starts_with("OK"), "{v}");
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
