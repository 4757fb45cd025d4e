//! Realistic sample interchanges from tests/data, read end to end.

use backstock_x12::{
    item_reports, parse, parse_all, Activity, Date8, ItemId, ItemIdKind, ItemReport, TransactionSet,
};

fn data(name: &str) -> Vec<u8> {
    let path = format!("{}/tests/data/{name}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read(&path).unwrap_or_else(|e| panic!("reading {path}: {e}"))
}

fn reports(name: &str) -> Vec<ItemReport> {
    match item_reports(&data(name)) {
        Ok(reports) => reports,
        Err(errors) => {
            let text: Vec<String> = errors.iter().map(ToString::to_string).collect();
            panic!("{name} should read cleanly:\n{}", text.join("\n"))
        }
    }
}

fn date(y: i32, m: u8, d: u8) -> Option<Date8> {
    Date8::new(y, m, d)
}

fn id(kind: ItemIdKind, value: &str) -> ItemId {
    ItemId {
        kind,
        value: value.to_string(),
    }
}

#[test]
fn padded_isa_with_tilde_terminators_and_two_852s() {
    let interchange = parse(&data("852_padded_tilde.edi")).expect("valid envelopes");
    assert_eq!(interchange.separators.element, b'*');
    assert_eq!(interchange.separators.component, b'>');
    assert_eq!(interchange.separators.segment, b'~');
    assert_eq!(interchange.sender_id, "DISTRIBUTORCO");
    assert_eq!(interchange.control_number, "000000905");
    assert_eq!(interchange.groups.len(), 1);
    let group = &interchange.groups[0];
    assert_eq!(group.functional_id, "PD");
    assert_eq!(group.transactions.len(), 2);
    assert_eq!(group.transactions[0].segments.len(), 20);
    assert_eq!(group.transactions[0].body().len(), 18);

    let r = reports("852_padded_tilde.edi");
    assert_eq!(r.len(), 8);
    let first = &r[0];
    assert_eq!(first.transaction_set, TransactionSet::Ts852);
    assert_eq!(first.control_number, "0001");
    assert_eq!(
        first.reporter.as_deref(),
        Some("Northside Music Distribution")
    );
    assert_eq!(first.period_start, date(2024, 1, 22));
    assert_eq!(first.period_end, date(2024, 1, 28));
    assert_eq!(first.item, id(ItemIdKind::Upc, "093624918526"));
    assert_eq!(
        first.alternates,
        vec![
            id(ItemIdKind::VendorItem, "NSR-001LP"),
            id(ItemIdKind::Ean, "0093624918526")
        ]
    );
    assert_eq!(first.description.as_deref(), Some("Midnight Tapes (LP)"));
    assert_eq!(first.activity, Activity::Sold);
    assert_eq!(first.quantity, 12);
    assert_eq!(first.unit.as_deref(), Some("EA"));
    assert_eq!(first.location.as_deref(), Some("WH-EAST"));
    assert_eq!(first.unit_price.as_deref(), Some("24.98"));
    assert_eq!(first.line, 11);

    assert_eq!((r[1].activity, r[1].quantity), (Activity::Returned, 2));

    // ZA*QA with no ZA02: one on-hand report per SDQ location, across two SDQs.
    let on_hand: Vec<(Option<&str>, i64, usize)> = r[2..5]
        .iter()
        .map(|x| (x.location.as_deref(), x.quantity, x.line))
        .collect();
    assert_eq!(
        on_hand,
        vec![
            (Some("0101"), 5, 14),
            (Some("0102"), 7, 14),
            (Some("0103"), 0, 15)
        ]
    );
    assert!(r[2..5].iter().all(|x| x.activity == Activity::OnHand));

    // ZA*QP (on order) is not an activity we report. LIN 2 prefers UP over VN.
    assert_eq!(r[5].item, id(ItemIdKind::Upc, "093624918533"));
    assert_eq!(
        r[5].alternates,
        vec![id(ItemIdKind::VendorItem, "NSR-002CD")]
    );
    assert_eq!((r[5].activity, r[5].quantity), (Activity::Sold, -1));
    assert_eq!(r[5].unit_price, None);
    assert_eq!((r[6].activity, r[6].quantity), (Activity::Received, 24));

    assert_eq!(r[7].control_number, "0002");
    assert_eq!(r[7].period_start, date(2024, 1, 29));
    assert_eq!(r[7].location, None);
    assert_eq!(r[7].quantity, 9);
    assert_eq!(r[7].segment, 27);
}

#[test]
fn unpadded_isa_with_pipes_and_newline_terminators() {
    let interchange = parse(&data("852_unpadded_pipe_newline.edi")).expect("valid envelopes");
    assert_eq!(interchange.separators.element, b'|');
    assert_eq!(interchange.separators.component, b':');
    assert_eq!(interchange.separators.segment, b'\n');
    assert_eq!(interchange.separators.repetition, Some(b'^'));
    assert_eq!(interchange.version, "00501");
    assert_eq!(interchange.usage_indicator, "T");

    let r = reports("852_unpadded_pipe_newline.edi");
    assert_eq!(r.len(), 3);
    assert_eq!(r[0].reporter.as_deref(), Some("Spinning Disc Records"));
    // YYMMDD dates are read with century 20.
    assert_eq!(r[0].period_start, date(2024, 2, 19));
    assert_eq!(r[0].period_end, date(2024, 2, 25));
    assert_eq!(r[0].item, id(ItemIdKind::Ean, "5021732123459"));
    assert_eq!(
        r[0].alternates,
        vec![id(ItemIdKind::BuyerItem, "SDR-88812")]
    );
    let sold: Vec<(Option<&str>, i64)> = r[..2]
        .iter()
        .map(|x| (x.location.as_deref(), x.quantity))
        .collect();
    assert_eq!(sold, vec![(Some("STORE01"), 3), (Some("STORE02"), 4)]);
    assert_eq!(
        (r[2].activity, r[2].quantity, r[2].line),
        (Activity::OnHand, 15, 9)
    );
}

#[test]
fn inventory_advice_846_on_one_line() {
    let r = reports("846_one_line.edi");
    assert_eq!(r.len(), 3);
    assert!(r.iter().all(|x| x.transaction_set == TransactionSet::Ts846));
    assert!(r.iter().all(|x| x.activity == Activity::OnHand));
    assert!(r.iter().all(|x| x.period_start == date(2024, 3, 10)));
    assert!(r.iter().all(|x| x.period_end == date(2024, 3, 10)));
    assert!(r.iter().all(|x| x.currency.as_deref() == Some("USD")));
    assert!(r.iter().all(|x| x.line == 1));
    // No FR/DS/BY/RL party: the reporter is the GS02 sender.
    assert_eq!(r[0].reporter.as_deref(), Some("123456789"));
    assert_eq!(r[0].item, id(ItemIdKind::Upc, "093624918526"));
    assert_eq!(
        (r[0].quantity, r[0].location.as_deref()),
        (140, Some("DC01"))
    );
    assert_eq!(r[0].unit_price.as_deref(), Some("12.50"));
    assert_eq!(r[1].item, id(ItemIdKind::Gtin, "00093624918540"));
    assert_eq!(r[1].alternates, vec![id(ItemIdKind::Isbn, "9780306406157")]);
    assert_eq!((r[1].quantity, r[1].location.as_deref()), (8, Some("DC01")));
    assert_eq!((r[2].quantity, r[2].location.as_deref()), (3, Some("DC02")));
}

#[test]
fn resale_867_in_both_loop_orders() {
    let r = reports("867_resale.edi");
    let summary: Vec<(Activity, i64, &str, Option<&str>)> = r
        .iter()
        .map(|x| {
            (
                x.activity,
                x.quantity,
                x.item.value.as_str(),
                x.location.as_deref(),
            )
        })
        .collect();
    assert_eq!(
        summary,
        vec![
            (Activity::Sold, 14, "093624918526", Some("0012")),
            (Activity::Sold, 3, "5021732123459", Some("0012")),
            (Activity::Returned, 2, "093624918526", Some("0012")),
            (Activity::Sold, 6, "093624918526", Some("0040")),
            (Activity::OnHand, 11, "093624918526", Some("0040")),
        ]
    );
    assert!(r.iter().all(|x| x.transaction_set == TransactionSet::Ts867));
    assert_eq!(r[0].reporter.as_deref(), Some("Record Chain Inc"));
    assert_eq!(r[0].currency.as_deref(), Some("USD"));
    assert_eq!(r[0].unit_price.as_deref(), Some("21.99"));
    assert_eq!(r[0].amount.as_deref(), Some("307.86"));
    assert_eq!(r[0].period_start, date(2024, 3, 1));
    assert_eq!(r[0].period_end, date(2024, 3, 31));
    assert_eq!(r[1].unit_price, None);
    assert_eq!(r[3].period_start, date(2024, 3, 15));
    assert_eq!(r[3].period_end, date(2024, 3, 31));
    assert_eq!(r[3].item.kind, ItemIdKind::Upc);
    assert_eq!(
        r[3].alternates,
        vec![id(ItemIdKind::VendorItem, "NSR-001LP")]
    );
    assert_eq!(r[3].unit_price.as_deref(), Some("22.49"));
    assert_eq!(r[3].description.as_deref(), Some("Midnight Tapes LP"));
}

#[test]
fn several_interchanges_groups_and_a_skipped_850() {
    let bytes = data("two_interchanges_with_850.edi");
    let all = parse_all(&bytes).expect("valid envelopes");
    assert_eq!(all.len(), 2);
    assert_eq!(all[0].groups.len(), 2);
    assert_eq!(all[1].separators.element, b'!');
    assert_eq!(all[1].separators.segment, b'\'');
    assert_eq!(all[1].separators.component, b'^');
    let errors = parse(&bytes).expect_err("parse wants exactly one interchange");
    assert_eq!(errors.len(), 1);
    assert_eq!(errors[0].line, 22);

    let r = reports("two_interchanges_with_850.edi");
    let summary: Vec<(&str, ItemIdKind, Activity, i64)> = r
        .iter()
        .map(|x| {
            (
                x.control_number.as_str(),
                x.item.kind.clone(),
                x.activity,
                x.quantity,
            )
        })
        .collect();
    assert_eq!(
        summary,
        vec![
            ("9111", ItemIdKind::Isbn, Activity::Sold, 4),
            ("9112", ItemIdKind::BuyerItem, Activity::Returned, 1),
            ("0003", ItemIdKind::Gtin, Activity::OnHand, 30),
            ("0003", ItemIdKind::Gtin, Activity::Sold, 2),
        ]
    );
    assert_eq!(
        r[0].alternates,
        vec![id(ItemIdKind::Other("SK".into()), "ZINE-7")]
    );
    // XQ without XQ03: a one-day period.
    assert_eq!(r[1].period_start, date(2024, 4, 29));
    assert_eq!(r[1].period_end, date(2024, 4, 29));
    assert_eq!(r[2].reporter.as_deref(), Some("SHOPNET"));
}

#[test]
fn byte_order_mark_and_leading_whitespace_are_skipped() {
    let mut bytes = b"\xEF\xBB\xBF\r\n  \n".to_vec();
    bytes.extend(data("852_unpadded_pipe_newline.edi"));
    let r = item_reports(&bytes).expect("reads");
    assert_eq!(r.len(), 3);
    assert_eq!(r[2].line, 11);
}

#[test]
fn segments_without_line_breaks_or_trailing_terminator() {
    let text = "ISA*00*          *00*          *ZZ*A              *ZZ*B              *240101*0000*U*00401*000000001*0*P*:~GS*PD*A*B*20240101*0000*1*X*004010~ST*852*1~XQ*H*20240101~LIN**UP*012345678905~ZA*QS*1~SE*5*1~GE*1*1~IEA*1*1";
    let r = item_reports(text.as_bytes()).expect("reads");
    assert_eq!(r.len(), 1);
    assert_eq!(r[0].quantity, 1);
    assert_eq!(r[0].unit, None);
}
