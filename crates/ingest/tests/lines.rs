//! Statement lines one at a time: summed per statement × SKU × kind they are exactly
//! what the readers record (canonical CSV, X12 867, DDEX DSR).

use backstock_domain::PartyId;
use backstock_ingest::lines::SourceLine;
use backstock_ingest::{read, Context, Kind, Parsed};
use backstock_ledger::{Event, LineKind};
use std::collections::BTreeMap;

fn ctx() -> Context {
    let mut c = ctx_with_aliases(&[
        ("NW-ITEM-9", "MRG-002-LP"),
        // The X12 and DSR samples' UPC has a wrong check digit: known by alias.
        ("093624918526", "MRG-001-CD"),
        ("0093624918526", "MRG-001-CD"),
    ]);
    c.file_name = "statements.csv".into();
    c.file_sha256 = "ab".repeat(32);
    c
}

/// The two-item catalog (MRG-001-CD, MRG-002-LP with EAN 5021732123459), allegro's
/// USD agreement, and these aliases (code, SKU).
fn ctx_with_aliases(aliases: &[(&str, &str)]) -> Context {
    let catalog = vec![
        ("MRG-001-CD".to_string(), None, 800, "USD".to_string()),
        (
            "MRG-002-LP".to_string(),
            Some("5021732123459".to_string()),
            1150,
            "USD".to_string(),
        ),
    ];
    let aliases: Vec<(String, String)> = aliases
        .iter()
        .map(|(c, s)| (c.to_string(), s.to_string()))
        .collect();
    Context::from_lookups(&catalog, &aliases, &[("allegro".into(), "USD".into())], &[])
}

/// The DDEX DSR sample (summaries in GBP and USD, an album and a single).
fn dsr_sample() -> Vec<u8> {
    std::fs::read(std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join(
        "../dsr/tests/data/DSR_PADPIDA2024010101B_PADPIDA2014111801Y_TunestreamPremium-TunestreamStore_2024-06_GB_20240705T093000.tsv",
    ))
    .unwrap()
}

type Sums = BTreeMap<(String, Option<String>, LineKind), (i64, i64)>;

fn sums_of_lines(lines: &[SourceLine]) -> Sums {
    let mut m = Sums::new();
    for l in lines {
        let s = m
            .entry((
                l.statement_id.clone(),
                l.sku.as_ref().map(|s| s.to_string()),
                l.kind,
            ))
            .or_default();
        s.0 += l.units;
        s.1 += l.amount_minor;
    }
    m.retain(|_, v| *v != (0, 0));
    m
}

fn sums_of_entries(p: &Parsed) -> Sums {
    let mut m = Sums::new();
    for e in &p.entries {
        if let Event::Statement(st) = &e.event {
            for l in &st.lines {
                let s = m
                    .entry((
                        st.statement_id.clone(),
                        l.sku.as_ref().map(|s| s.to_string()),
                        l.kind,
                    ))
                    .or_default();
                s.0 += l.units;
                s.1 += l.amount_minor;
            }
        }
    }
    m.retain(|_, v| *v != (0, 0));
    m
}

#[test]
fn canonical_lines_add_up_to_the_statements_recorded() {
    let text = "statement_id,distributor,period_start,period_end,issued_on,kind,sku,units,amount,currency,memo\n\
S1,allegro,2016-01-01,2016-01-31,2016-02-20,sale,MRG-001-CD,10,80.00,USD,\n\
S1,allegro,2016-01-01,2016-01-31,2016-02-20,sale,093624918526,5,40,USD,by UPC\n\
\n\
S1,allegro,2016-01-01,2016-01-31,2016-02-20,return,MRG-001-CD,2,16.00,USD,\n\
S1,allegro,2016-01-01,2016-01-31,2016-02-20,sale,NW-ITEM-9,3,34.50,USD,alias\n\
S1,allegro,2016-01-01,2016-01-31,2016-02-20,fee,,,30.00,USD,\n\
S2,allegro,2016-02-01,2016-02-29,2016-03-20,sale,MRG-001-CD,1,8.01,USD,\n";
    let parsed = read(Kind::Statements, text.as_bytes(), &ctx()).unwrap();
    let mut lines = Vec::new();
    let n = backstock_ingest::lines::canonical(text.as_bytes(), &ctx(), &mut |l| lines.push(l))
        .unwrap();
    assert_eq!(n, 6);
    assert_eq!(lines.len(), 6);
    // Lines keep the original's numbering (the blank line counts).
    assert_eq!(
        lines.iter().map(|l| l.line).collect::<Vec<_>>(),
        [2, 3, 5, 6, 7, 8]
    );
    assert_eq!(lines[1].code, "093624918526");
    assert_eq!(lines[1].sku.as_ref().unwrap().as_str(), "MRG-001-CD");
    assert_eq!(lines[5].amount_minor, 801);
    assert!(lines[4].sku.is_none() && lines[4].kind == LineKind::Fee);
    assert_eq!(sums_of_lines(&lines), sums_of_entries(&parsed));
}

#[test]
fn a_bad_canonical_line_is_named_and_no_line_is_given_after_it() {
    let text = "statement_id,distributor,period_start,period_end,issued_on,kind,sku,units,amount,currency,memo\n\
S1,allegro,2016-01-01,2016-01-31,2016-02-20,sale,MRG-001-CD,10,80.00,USD,\n\
S1,allegro,2016-01-01,2016-01-31,2016-02-20,sale,MRG-001-CD,ten,80.00,USD,\n\
S1,allegro,2016-01-01,2016-01-31,2016-02-20,sale,MRG-001-CD,1,8.00,USD,\n";
    let mut lines = Vec::new();
    let e = backstock_ingest::lines::canonical(text.as_bytes(), &ctx(), &mut |l| lines.push(l))
        .unwrap_err();
    let msg = e.to_string();
    assert!(msg.contains("statements.csv"), "{msg}");
    assert!(msg.contains("line 3") || msg.contains(":3"), "{msg}");
    assert!(msg.contains("ten"), "{msg}");
    assert_eq!(lines.len(), 1);
}

#[test]
fn dsr_lines_carry_isrc_territory_and_service_and_add_up_to_the_statement() {
    let bytes = dsr_sample();
    let d = PartyId::parse("allegro").unwrap();
    let parsed = backstock_ingest::edi::read_dsr(&bytes, &ctx(), &d).unwrap();
    let mut lines = Vec::new();
    let again =
        backstock_ingest::edi::read_dsr_lines(&bytes, &ctx(), &d, &Default::default(), &mut |l| {
            lines.push(l)
        })
        .unwrap();
    assert_eq!(sums_of_entries(&again), sums_of_entries(&parsed));
    assert_eq!(sums_of_lines(&lines), sums_of_entries(&parsed));
    let l = lines
        .iter()
        .find(|l| l.isrc.as_deref() == Some("GBKST2300101"))
        .unwrap();
    assert_eq!(l.territory.as_deref(), Some("GB"));
    assert_eq!(l.service.as_deref(), Some("TunestreamPremium"));
    assert!(lines
        .iter()
        .any(|l| l.territory.as_deref() == Some("US")
            && l.service.as_deref() == Some("TunestreamFree")));
    // Summary revenue split over its lines: the lines of S1 add up to 6.2480 GBP → 625
    // minor units (rounded half to even once, then split by units).
    let s1: i64 = lines
        .iter()
        .filter(|l| l.service.as_deref() == Some("TunestreamPremium"))
        .map(|l| l.amount_minor)
        .sum();
    assert_eq!(s1, 625);

    // Summaries in GBP (S1, S2) and USD (S3): one statement per currency, each line in
    // its summary's currency — no dollar recorded as a pound.
    let statements: Vec<_> = parsed
        .entries
        .iter()
        .filter_map(|e| match &e.event {
            Event::Statement(st) => Some(st),
            _ => None,
        })
        .collect();
    let said: Vec<(String, String, Option<i64>)> = statements
        .iter()
        .map(|st| {
            (
                st.statement_id.clone(),
                st.currency.to_string(),
                st.net_due_minor(),
            )
        })
        .collect();
    assert_eq!(
        said,
        vec![
            (
                "dsr-MSG-2024-06-BKST-0001-1-GBP".to_string(),
                "GBP".to_string(),
                Some(625 + 632)
            ),
            (
                "dsr-MSG-2024-06-BKST-0001-1-USD".to_string(),
                "USD".to_string(),
                Some(81)
            ),
        ]
    );
    assert!(lines
        .iter()
        .filter(|l| l.service.as_deref() == Some("TunestreamFree"))
        .all(|l| l.currency.to_string() == "USD" && l.statement_id.ends_with("-USD")));
}

#[test]
fn x12_lines_are_priced_as_the_statement_is() {
    let path =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../x12/tests/data/867_resale.edi");
    let bytes = std::fs::read(path).unwrap();
    let d = PartyId::parse("allegro").unwrap();
    let parsed = backstock_ingest::edi::read_x12(&bytes, &ctx(), &d).unwrap();
    let mut lines = Vec::new();
    backstock_ingest::edi::read_x12_lines(&bytes, &ctx(), &d, &Default::default(), &mut |l| {
        lines.push(l)
    })
    .unwrap();
    assert!(lines.len() >= 3, "{lines:?}");
    assert!(lines.iter().all(|l| l.statement_id.starts_with("x12-")));
    assert_eq!(sums_of_lines(&lines), sums_of_entries(&parsed));
}

/// One 867 transaction set reporting two periods that end the same day (the month,
/// and a store's second half of it) gives two statements with two ids — before, both
/// were named `x12-0077-2024-03-31`, and the file could not be imported ("already
/// recorded with different details"). A set with one period keeps its old name.
#[test]
fn x12_periods_sharing_an_end_are_two_statements() {
    let path =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../x12/tests/data/867_resale.edi");
    let bytes = std::fs::read(path).unwrap();
    let d = PartyId::parse("allegro").unwrap();
    let parsed = backstock_ingest::edi::read_x12(&bytes, &ctx(), &d).unwrap();
    let mut ids: Vec<String> = parsed.entries.iter().map(|e| e.id.to_string()).collect();
    ids.sort();
    let n = ids.len();
    ids.dedup();
    assert_eq!(ids.len(), n, "entry ids repeat: {ids:?}");
    assert!(
        ids.contains(&"statement:allegro:x12-0077-2024-03-01-2024-03-31".to_string()),
        "{ids:?}"
    );
    assert!(
        ids.contains(&"statement:allegro:x12-0077-2024-03-15-2024-03-31".to_string()),
        "{ids:?}"
    );
}

/// A SKU the catalog gives a digital format is digital income in a file without a
/// channel: its statement lines move money, never units (before, a canonical statement
/// "sold" units of a download from a distributor that never held any).
#[test]
fn a_digital_skus_lines_in_a_canonical_statement_are_digital() {
    use backstock_ledger::Channel;
    let mut c = ctx();
    let item = |sku: &str, format: &str| backstock_ledger::Entry {
        id: backstock_ledger::EntryId::new(format!("catalog:{sku}")).unwrap(),
        effective_on: backstock_domain::Date::EARLIEST,
        known_on: backstock_domain::Date::EARLIEST,
        provenance: backstock_ledger::Provenance::Command {
            user: "t".into(),
            command: "t".into(),
        },
        event: Event::Fact(backstock_ledger::Fact::CatalogItem(
            backstock_ledger::facts::CatalogItem {
                sku: backstock_domain::Sku::parse(sku).unwrap(),
                upc: None,
                title: "T".into(),
                artist: "A".into(),
                format: format.into(),
                release_date: None,
                list_price: backstock_domain::Money::from_minor(
                    999,
                    backstock_domain::Currency::USD,
                ),
                wholesale_price: backstock_domain::Money::from_minor(
                    600,
                    backstock_domain::Currency::USD,
                ),
                unit_cost: backstock_domain::Money::from_minor(0, backstock_domain::Currency::USD),
            },
        )),
    };
    c.learn(&item("MRG-900-DL", "Digital Album"));
    let text = "statement_id,distributor,period_start,period_end,issued_on,kind,sku,units,amount,currency,memo\n\
S1,allegro,2016-01-01,2016-01-31,2016-02-20,sale,MRG-001-CD,10,80.00,USD,\n\
S1,allegro,2016-01-01,2016-01-31,2016-02-20,sale,MRG-900-DL,7,42.00,USD,\n";
    let parsed = read(Kind::Statements, text.as_bytes(), &c).unwrap();
    let Event::Statement(st) = &parsed.entries[0].event else {
        panic!()
    };
    let channel = |sku: &str| {
        st.lines
            .iter()
            .find(|l| l.sku.as_ref().map(|s| s.as_str()) == Some(sku))
            .unwrap()
            .channel
    };
    assert_eq!(channel("MRG-900-DL"), Channel::Digital);
    assert_eq!(channel("MRG-001-CD"), Channel::Physical);
    // The catalog recorded again with a physical format: physical again.
    c.learn(&item("MRG-900-DL", "CD"));
    let parsed = read(Kind::Statements, text.as_bytes(), &c).unwrap();
    let Event::Statement(st) = &parsed.entries[0].event else {
        panic!()
    };
    assert!(st.lines.iter().all(|l| l.channel == Channel::Physical));
    // From the store's lookups the same.
    let c = Context::from_lookups(
        &[("MRG-900-DL".into(), None, 600, "USD".into())],
        &[],
        &[("allegro".into(), "USD".into())],
        &["MRG-900-DL".into()],
    );
    let parsed = read(
        Kind::Statements,
        "statement_id,distributor,period_start,period_end,issued_on,kind,sku,units,amount,currency,memo\n\
S1,allegro,2016-01-01,2016-01-31,2016-02-20,sale,MRG-900-DL,7,42.00,USD,\n"
            .as_bytes(),
        &c,
    )
    .unwrap();
    let Event::Statement(st) = &parsed.entries[0].event else {
        panic!()
    };
    assert_eq!(st.lines[0].channel, Channel::Digital);
}

/// With --hold-unmatched a DSR's lines whose code the catalog does not know are held
/// aside (digital, with their money) until `alias add` names the code — before, they
/// were dropped from the statement and from the books, unsaid. Without it the file is
/// refused, naming the code.
#[test]
fn a_dsrs_unknown_codes_are_held_with_their_money_not_dropped() {
    let bytes = dsr_sample();
    let d = PartyId::parse("allegro").unwrap();
    let mut lines = Vec::new();
    let all =
        backstock_ingest::edi::read_dsr_lines(&bytes, &ctx(), &d, &Default::default(), &mut |l| {
            lines.push(l)
        })
        .unwrap();
    let total: i64 = lines
        .iter()
        .map(|l| l.amount_minor * l.kind.net_sign())
        .sum();
    // Without the EAN of the single (5021732123459) and its alias.
    let mut c = Context::from_lookups(
        &[("MRG-001-CD".to_string(), None, 800, "USD".to_string())],
        &[
            ("093624918526".into(), "MRG-001-CD".into()),
            ("0093624918526".into(), "MRG-001-CD".into()),
        ],
        &[("allegro".into(), "USD".into())],
        &[],
    );
    c.file_name = "dsr.tsv".into();
    let e = backstock_ingest::edi::read_dsr(&bytes, &c, &d).unwrap_err();
    assert!(e.to_string().contains("5021732123459"), "{e}");
    c.hold_unmatched = true;
    let parsed = backstock_ingest::edi::read_dsr(&bytes, &c, &d).unwrap();
    let mut held = 0i64;
    let mut recorded = 0i64;
    for e in &parsed.entries {
        match &e.event {
            Event::Fact(backstock_ledger::Fact::Unmatched(u)) => {
                assert_eq!(u.code, "5021732123459");
                assert_eq!(u.channel, backstock_ledger::Channel::Digital);
                assert!(u.first_line >= 1 && u.last_line >= u.first_line);
                held += u.amount_minor * u.kind.net_sign();
            }
            Event::Statement(st) => recorded += st.net_due_minor().unwrap(),
            _ => {}
        }
    }
    assert!(held > 0);
    // Nothing lost: what is recorded and what is held is the whole file.
    let whole: i64 = all
        .entries
        .iter()
        .filter_map(|e| match &e.event {
            Event::Statement(st) => st.net_due_minor(),
            _ => None,
        })
        .sum();
    assert_eq!(whole, total);
    assert_eq!(recorded + held, total);
}

/// An X12 line of an unknown code is never dropped: the file is refused, even with
/// --hold-unmatched (its value would come from the catalog's wholesale price).
#[test]
fn an_x12_unknown_code_is_refused_even_when_holding_unmatched_lines() {
    let path =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../x12/tests/data/867_resale.edi");
    let bytes = std::fs::read(path).unwrap();
    let d = PartyId::parse("allegro").unwrap();
    let mut c = Context::from_lookups(&[], &[], &[("allegro".into(), "USD".into())], &[]);
    c.file_name = "867.edi".into();
    c.hold_unmatched = true;
    let e = backstock_ingest::edi::read_x12(&bytes, &c, &d).unwrap_err();
    assert!(e.to_string().contains("alias add"), "{e}");
    assert!(e.to_string().contains("not held aside"), "{e}");
}

/// A quantity in cases is not a count of units: refused, naming the line and the unit.
#[test]
fn an_x12_quantity_in_cases_is_refused() {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../x12/tests/data/852_padded_tilde.edi");
    let text = std::fs::read_to_string(path).unwrap();
    assert!(text.contains("ZA*QS*12*EA~"));
    let cases = text.replace("ZA*QS*12*EA~", "ZA*QS*12*CA~");
    let d = PartyId::parse("allegro").unwrap();
    let e = backstock_ingest::edi::read_x12(cases.as_bytes(), &ctx(), &d).unwrap_err();
    let shown = e.to_string();
    assert!(shown.contains("line 11"), "{shown}");
    assert!(
        shown.contains("found \"CA\", expected EA (each)"),
        "{shown}"
    );
    // The same report on one line (segments end with ~ alone, as most X12 files come):
    // the line is 1 for every segment, so the error names its column and segment.
    let one_line: String = cases.lines().map(str::trim_end).collect();
    let e = backstock_ingest::edi::read_x12(one_line.as_bytes(), &ctx(), &d).unwrap_err();
    let shown = e.to_string();
    let at = one_line.find("ZA*QS*12*CA").unwrap() + 1;
    assert!(
        shown.contains(&format!("line 1, column {at} (segment 11 ZA)")),
        "{shown}"
    );
}

/// A DSR sale whose ICPN and catalogue number the catalog gives to two different SKUs
/// is refused, naming both, not credited to whichever code comes first.
#[test]
fn a_dsr_sale_naming_two_products_is_refused() {
    let bytes = dsr_sample();
    let d = PartyId::parse("allegro").unwrap();
    // The album's catalogue number, given to the other SKU by mistake.
    let mut c = ctx_with_aliases(&[
        ("0093624918526", "MRG-001-CD"),
        ("BKST-007LP", "MRG-002-LP"),
    ]);
    c.file_name = "dsr.tsv".into();
    let e = backstock_ingest::edi::read_dsr(&bytes, &c, &d).unwrap_err();
    let shown = e.to_string();
    assert!(
        shown
            .contains("ICPN 0093624918526 (MRG-001-CD) and catalog number BKST-007LP (MRG-002-LP)"),
        "{shown}"
    );
}

/// An X12 report is issued, and known to the label, on the day its group was sent
/// (GS04), not at its period's end: `--as-of` a day between sees it not yet come.
#[test]
fn an_x12_statement_is_known_from_the_day_it_was_sent() {
    let path =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../x12/tests/data/867_resale.edi");
    let bytes = std::fs::read(path).unwrap();
    let d = PartyId::parse("allegro").unwrap();
    let parsed = backstock_ingest::edi::read_x12(&bytes, &ctx(), &d).unwrap();
    let mut n = 0;
    for e in &parsed.entries {
        if let Event::Statement(st) = &e.event {
            n += 1;
            assert_eq!(
                st.issued_on.to_string(),
                "2024-04-05",
                "{}",
                st.statement_id
            );
            assert_eq!(e.known_on.to_string(), "2024-04-05");
            assert!(st.period_end.to_string().as_str() <= "2024-03-31");
        }
    }
    assert!(n >= 1);
}
