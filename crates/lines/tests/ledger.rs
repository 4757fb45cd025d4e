//! Generated statement files (canonical CSV, DDEX DSR with ISRC × territory × service,
//! X12 852) imported through the product, their lines rebuilt as Parquet, and
//! DataFusion's totals per SKU × kind (and per payee's SKUs) equal to the cent to the
//! ledger's statements, read through the product's records.

use backstock_app::import::{self, ImportOptions};
use backstock_ledger::EntryKind;
use backstock_lines::query::{self, Dim, Period, Request};
use backstock_lines::Location;
use backstock_store::Store;
use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// (SKU, kind, currency) → (units, minor units).
type Totals = BTreeMap<(Option<String>, String, String), (i128, i128)>;

async fn import(store: &Store, paths: &[PathBuf], distributor: Option<&str>) {
    let opts = ImportOptions {
        distributor: distributor.map(str::to_string),
        ..ImportOptions::default()
    };
    import::run(store, paths, &opts)
        .await
        .unwrap_or_else(|e| panic!("import {paths:?}: {}", e.message()));
}

/// The ledger's statements with a period end in `p`, per SKU × kind × currency.
async fn ledger(store: &Store, p: &Period, skus: Option<&BTreeSet<String>>) -> Totals {
    let entries: Vec<_> = store
        .entries(&[EntryKind::Statement, EntryKind::Correction], None)
        .await
        .unwrap()
        .into_iter()
        .map(|(_, e)| e)
        .collect();
    let far = backstock_domain::Date::parse("2199-12-31").unwrap();
    let r = backstock_records::Records::new(&entries, far);
    let mut t = Totals::new();
    for s in &r.statements {
        if !p.contains(s.st.period_end) {
            continue;
        }
        for l in &s.st.lines {
            let sku = l.sku.as_ref().map(|s| s.as_str().to_string());
            if let Some(want) = skus {
                if !sku.as_ref().is_some_and(|s| want.contains(s)) {
                    continue;
                }
            }
            let v = t
                .entry((
                    sku,
                    l.kind.as_str().to_string(),
                    s.st.currency.code().to_string(),
                ))
                .or_default();
            v.0 += i128::from(l.units);
            v.1 += i128::from(l.amount_minor);
        }
    }
    t.retain(|_, v| *v != (0, 0));
    t
}

fn totals_of(a: &query::Answer) -> Totals {
    let mut t = Totals::new();
    for r in &a.rows {
        let v = t
            .entry((
                r.key[0].clone(),
                r.key[1].clone().unwrap(),
                r.currency.clone(),
            ))
            .or_default();
        v.0 += r.units;
        v.1 += r.amount_minor;
    }
    t.retain(|_, v| *v != (0, 0));
    t
}

fn x12_catalog(dir: &Path) -> PathBuf {
    let p = dir.join("catalog-x12.csv");
    std::fs::write(
        &p,
        "sku,upc,title,artist,format,release_date,list_price,wholesale_price,unit_cost,currency\n\
X12-A,,Midnight Tapes,The Lanterns,LP,,24.98,12.00,3.10,USD\n\
X12-B,5021732123459,Saltwater,Orla Vane,CD,,15.98,8.00,1.10,USD\n",
    )
    .unwrap();
    p
}

/// One label: `backstock gen` files, generated DSRs and an X12 852, imported.
async fn label(dir: &Path, seed: u64, months: u32, canonical: u64, dsr: u64) -> Store {
    let files = dir.join("files");
    backstock_app::gen::generate(
        &files,
        &backstock_app::gen::GenOptions {
            lines: canonical,
            skus: 400,
            distributors: 3,
            seed,
            months,
        },
    )
    .unwrap();
    let dsrs = backstock_lines::gen::write_dsr(
        &files,
        &backstock_lines::gen::DsrOptions {
            lines: dsr,
            skus: 400,
            distributors: 3,
            months,
            seed,
            territories: 7,
            per_file: 700,
        },
    )
    .unwrap();
    let store = Store::open(&dir.join("db"), true).await.unwrap();
    let names = [
        "catalog.csv",
        "distributors.csv",
        "payees.csv",
        "contracts.csv",
    ];
    let mut first: Vec<PathBuf> = names.iter().map(|n| files.join(n)).collect();
    first.push(x12_catalog(&files));
    import(&store, &first, None).await;
    // The X12 sample's codes: a UPC with a wrong check digit and a vendor item number,
    // known by alias.
    for (code, sku) in [("093624918526", "X12-A"), ("NSR-002CD", "X12-B")] {
        let sku = backstock_domain::Sku::parse(sku).unwrap();
        backstock_app::aliases::add(&store, code, sku, "test")
            .await
            .unwrap();
    }
    import(&store, &[files.join("statements.csv")], None).await;
    for (f, d) in &dsrs {
        import(&store, std::slice::from_ref(f), Some(d)).await;
    }
    let x12 = Path::new(env!("CARGO_MANIFEST_DIR")).join("../x12/tests/data/852_padded_tilde.edi");
    import(&store, &[x12], Some("dist0")).await;
    store
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn engine_totals_per_sku_equal_the_ledgers_statements_to_the_cent() {
    for (seed, months, canonical, dsr) in [(1u64, 3u32, 4_000u64, 3_000u64), (7, 6, 2_500, 5_000)] {
        let d = tempfile::tempdir().unwrap();
        let store = label(d.path(), seed, months, canonical, dsr).await;
        let to = Location::local(&d.path().join("lines")).unwrap();
        let report = backstock_lines::rebuild::rebuild(&store, "marigold", &to)
            .await
            .unwrap_or_else(|e| panic!("rebuild: {}", e.message()));
        // statements.csv, every DSR, the 852.
        assert!(report.files.len() >= 3, "{report:?}");
        let dsr_lines: u64 = report
            .files
            .iter()
            .filter(|f| f.reading == backstock_lines::rebuild::Reading::Dsr)
            .map(|f| f.lines)
            .sum();
        assert_eq!(dsr_lines, dsr);
        assert!(report
            .files
            .iter()
            .any(|f| f.reading == backstock_lines::rebuild::Reading::X12));

        // The same originals again: the same parts, byte for byte.
        let before = snapshot(to.root().expect("a directory"));
        backstock_lines::rebuild::rebuild(&store, "marigold", &to)
            .await
            .unwrap();
        assert_eq!(snapshot(to.root().expect("a directory")), before);

        for period in ["2016H1", "2016Q1", "2016-02", "2024-01"] {
            let p = Period::parse(period).unwrap();
            let req = Request {
                label: "marigold".into(),
                period: p,
                by: vec![Dim::Sku, Dim::Kind],
                skus: None,
                reversed: BTreeSet::new(),
            };
            let a = query::run(&to, &req).await.unwrap();
            let want = ledger(&store, &p, None).await;
            assert!(
                !want.is_empty(),
                "seed {seed} {period}: nothing in the ledger"
            );
            assert_eq!(totals_of(&a), want, "seed {seed} {period}");
        }

        // A payee's SKUs (contracts per SKU): the lines of their releases.
        let p = Period::parse("2016H1").unwrap();
        let contracts = backstock_app::royalties::contracts_of_payee(&store, "artist-3", p.end())
            .await
            .unwrap();
        let skus: BTreeSet<String> = contracts
            .iter()
            .flat_map(|c| c.skus.iter().map(|s| s.as_str().to_string()))
            .collect();
        assert!(!skus.is_empty());
        let req = Request {
            label: "marigold".into(),
            period: p,
            by: vec![Dim::Sku, Dim::Kind],
            skus: Some(skus.clone()),
            reversed: BTreeSet::new(),
        };
        let a = query::run(&to, &req).await.unwrap();
        let want = ledger(&store, &p, Some(&skus)).await;
        assert!(!want.is_empty());
        assert_eq!(totals_of(&a), want);

        // ISRC × territory × service × month: every DSR line is in exactly one group,
        // and the groups add up to the DSR statements.
        let req = Request {
            label: "marigold".into(),
            period: p,
            by: vec![Dim::Isrc, Dim::Territory, Dim::Service, Dim::Month],
            skus: None,
            reversed: BTreeSet::new(),
        };
        let a = query::run(&to, &req).await.unwrap();
        let with_isrc: u64 = a
            .rows
            .iter()
            .filter(|r| r.key[0].is_some())
            .map(|r| r.lines)
            .sum();
        // (All the generated months are in the first half.)
        assert_eq!(with_isrc, dsr);
        assert!(a
            .rows
            .iter()
            .any(|r| r.key[1].as_deref() == Some("GB")
                && r.key[2].as_deref() == Some("GenStreamFree")));

        // Two statements of the half-year corrected (one with ISRC lines, one
        // without): their lines stay in the parts, the query leaves them out as the
        // ledger does, and still to the cent. (One of sales only, keyed twice: the
        // generated canonical statements all have returns, whose reversal would
        // leave a holding below zero and is refused.)
        let twice = d.path().join("keyed-twice.csv");
        std::fs::write(
            &twice,
            "statement_id,distributor,period_start,period_end,issued_on,kind,sku,units,amount,currency,memo\n\
TWICE-1,dist1,2016-02-01,2016-02-29,2016-03-10,sale,GEN-000003,4,32.00,USD,\n\
TWICE-1,dist1,2016-02-01,2016-02-29,2016-03-10,sale,GEN-000005,1,8.50,USD,\n",
        )
        .unwrap();
        import(&store, std::slice::from_ref(&twice), None).await;
        backstock_lines::rebuild::rebuild(&store, "marigold", &to)
            .await
            .unwrap();
        let in_half: Vec<_> = store
            .entries(&[EntryKind::Statement], None)
            .await
            .unwrap()
            .into_iter()
            .filter_map(|(_, e)| match &e.event {
                backstock_ledger::Event::Statement(st) if p.contains(st.period_end) => {
                    Some((e.id.to_string(), st.statement_id.clone()))
                }
                _ => None,
            })
            .collect();
        // (A correction is refused when it would leave a holding below zero, as
        // the generated files, which ship nothing, do for some: the first accepted
        // of each kind.)
        let mut corrected = 0;
        for dsr in [true, false] {
            for (id, _) in in_half
                .iter()
                .rev()
                .filter(|(_, sid)| sid.starts_with("dsr-") == dsr)
            {
                let req = backstock_app::correct::CorrectRequest {
                    entry_id: id.clone(),
                    reason: "keyed twice".into(),
                    on: None,
                };
                if backstock_app::correct::correct(&store, &req, "test")
                    .await
                    .is_ok()
                {
                    corrected += 1;
                    break;
                }
            }
        }
        assert_eq!(corrected, 2, "seed {seed}: {in_half:?}");
        let reversed = backstock_app::correct::reversed_statements(&store, None)
            .await
            .unwrap();
        assert_eq!(reversed.len(), 2);
        let before = query::run(
            &to,
            &Request {
                label: "marigold".into(),
                period: p,
                by: vec![Dim::Sku, Dim::Kind],
                skus: None,
                reversed: BTreeSet::new(),
            },
        )
        .await
        .unwrap();
        let req = Request {
            label: "marigold".into(),
            period: p,
            by: vec![Dim::Sku, Dim::Kind],
            skus: None,
            reversed,
        };
        let a = query::run(&to, &req).await.unwrap();
        assert_ne!(totals_of(&a), totals_of(&before), "seed {seed}");
        assert_eq!(totals_of(&a), ledger(&store, &p, None).await, "seed {seed}");
    }
}

/// Every file under a directory with its bytes.
fn snapshot(dir: &Path) -> BTreeMap<PathBuf, Vec<u8>> {
    let mut out = BTreeMap::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                stack.push(p);
            } else {
                out.insert(
                    p.strip_prefix(dir).unwrap().to_path_buf(),
                    std::fs::read(&p).unwrap(),
                );
            }
        }
    }
    out
}

/// A code held at import is written without a SKU; once an alias names it (and posts
/// the held lines as a supplementary statement), its original is written again at
/// once with the SKU, ties out to the statement and its supplement together, and the
/// query equals the ledger again. (An original that does not tie out is named and not
/// written: `rebuild::tests`.)
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn held_lines_an_alias_names_later_are_written_again_with_their_sku() {
    let d = tempfile::tempdir().unwrap();
    let store = label(d.path(), 3, 1, 1_000, 500).await;
    let held = d.path().join("held.csv");
    std::fs::write(
        &held,
        "statement_id,distributor,period_start,period_end,issued_on,kind,sku,units,amount,currency,memo\n\
HELD-1,dist0,2016-01-01,2016-01-31,2016-02-20,sale,GEN-000001,2,16.00,USD,\n\
HELD-1,dist0,2016-01-01,2016-01-31,2016-02-20,sale,NEW-CODE-7,1,9.00,USD,not in the catalog yet\n",
    )
    .unwrap();
    let opts = ImportOptions {
        hold_unmatched: true,
        ..ImportOptions::default()
    };
    import::run(&store, std::slice::from_ref(&held), &opts)
        .await
        .unwrap();
    let to = Location::local(&d.path().join("lines")).unwrap();
    // Held: written without a SKU, and the original ties out.
    let r = backstock_lines::rebuild::rebuild(&store, "m", &to)
        .await
        .unwrap();
    assert!(r.failed.is_empty(), "{r:?}");
    let f = r
        .files
        .iter()
        .find(|f| f.name.ends_with("held.csv"))
        .unwrap();
    assert_eq!((f.lines, f.held), (2, 1));
    let january = Period::parse("2016-01").unwrap();
    let by_sku = Request {
        label: "m".into(),
        period: january,
        by: vec![Dim::Sku, Dim::Kind],
        skus: None,
        reversed: BTreeSet::new(),
    };
    // Held, the line is in the parts and not in the ledger.
    let a = query::run(&to, &by_sku).await.unwrap();
    assert_ne!(totals_of(&a), ledger(&store, &january, None).await);

    // The code now names a SKU: what the alias posted rewrites that original only.
    let before = store.last_seq().await.unwrap().unwrap();
    let sku = backstock_domain::Sku::parse("GEN-000002").unwrap();
    backstock_app::aliases::add(&store, "NEW-CODE-7", sku, "test")
        .await
        .unwrap();
    let r = backstock_lines::rebuild::write_recorded_since(&store, "m", before, &to)
        .await
        .unwrap();
    assert!(r.failed.is_empty(), "{r:?}");
    assert_eq!(r.files.len(), 1, "{r:?}");
    assert!(r.files[0].name.ends_with("held.csv"), "{r:?}");
    assert_eq!((r.files[0].lines, r.files[0].held), (2, 0));
    let a = query::run(&to, &by_sku).await.unwrap();
    assert_eq!(totals_of(&a), ledger(&store, &january, None).await);
    assert!(a
        .rows
        .iter()
        .any(|r| r.key[0].as_deref() == Some("GEN-000002") && r.amount_minor >= 900));

    // A rebuild of everything agrees, byte for byte.
    let written = snapshot(to.root().expect("a directory"));
    let r = backstock_lines::rebuild::rebuild(&store, "m", &to)
        .await
        .unwrap();
    assert!(r.failed.is_empty(), "{r:?}");
    assert!(r.files.len() >= 3, "{r:?}");
    assert_eq!(snapshot(to.root().expect("a directory")), written);

    // What the alias posted, corrected (the alias first: a posting of held lines is
    // not reversed alone while its alias stands): only that code's lines of HELD-1
    // leave the answer (the statement's other line stays), as they leave the ledger.
    backstock_app::correct::correct(
        &store,
        &backstock_app::correct::CorrectRequest {
            entry_id: "alias:NEW-CODE-7".into(),
            reason: "wrong code".into(),
            on: None,
        },
        "test",
    )
    .await
    .unwrap();
    backstock_app::correct::correct(
        &store,
        &backstock_app::correct::CorrectRequest {
            entry_id: "statement:dist0:HELD-1:held:NEW-CODE-7".into(),
            reason: "wrong code".into(),
            on: None,
        },
        "test",
    )
    .await
    .unwrap();
    let reversed = backstock_app::correct::reversed_statements(&store, None)
        .await
        .unwrap();
    assert_eq!(
        reversed.iter().collect::<Vec<_>>(),
        [&(
            "dist0".to_string(),
            "HELD-1".to_string(),
            Some("NEW-CODE-7".to_string())
        )]
    );
    let named = query::run(&to, &by_sku).await.unwrap();
    let a = query::run(&to, &Request { reversed, ..by_sku })
        .await
        .unwrap();
    assert_ne!(totals_of(&a), totals_of(&named));
    assert_eq!(totals_of(&a), ledger(&store, &january, None).await);
}
