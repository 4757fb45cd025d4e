//! A realistic Basic Audio Profile report, read end to end.

use backstock_dsr::{parse, parse_decimal, AmountSource, DsrDate, DsrReport, DsrSale};

const SAMPLE: &[u8] = include_bytes!(
    "data/DSR_PADPIDA2024010101B_PADPIDA2014111801Y_TunestreamPremium-TunestreamStore_2024-06_GB_20240705T093000.tsv"
);

fn report() -> DsrReport {
    match parse(SAMPLE) {
        Ok(report) => report,
        Err(errors) => {
            let text: Vec<String> = errors.iter().map(ToString::to_string).collect();
            panic!("sample should read cleanly:\n{}", text.join("\n"))
        }
    }
}

fn sale<'a>(report: &'a DsrReport, transaction: &str) -> &'a DsrSale {
    report
        .sales
        .iter()
        .find(|s| s.transaction_id == transaction)
        .unwrap_or_else(|| panic!("no sale {transaction}"))
}

#[test]
fn header() {
    let r = report();
    assert_eq!(r.message_version, "dsrf/1.1/1.4.1/1.3");
    assert_eq!(r.profile, "BasicAudioProfile");
    assert_eq!(r.profile_version, "1.3");
    assert_eq!(r.message_id, "MSG-2024-06-BKST-0001");
    assert_eq!(r.created, "2024-07-05T09:30:00Z");
    assert_eq!((r.file_number, r.number_of_files), (1, 1));
    assert_eq!(r.sender.as_deref(), Some("Tunestream Ltd"));
    assert_eq!(r.sender_id.as_deref(), Some("PADPIDA2014111801Y"));
    assert_eq!(r.recipient.as_deref(), Some("Backstock Records"));
    assert_eq!(r.recipient_id.as_deref(), Some("PADPIDA2024010101B"));
    assert_eq!(
        r.service_description.as_deref(),
        Some("TunestreamPremium-TunestreamStore")
    );
    assert_eq!(r.period_start, DsrDate::parse("2024-06-01").expect("date"));
    assert_eq!(r.period_end.to_string(), "2024-06-30");
    // GBP and USD summaries: no single report currency.
    assert_eq!(r.currency, None);
}

#[test]
fn summaries() {
    let r = report();
    type Row<'a> = (&'a str, Option<&'a str>, Option<&'a str>, Option<&'a str>);
    let ids: Vec<Row<'_>> = r
        .summaries
        .iter()
        .map(|s| {
            (
                s.id.as_str(),
                s.territory.as_deref(),
                s.currency.as_deref(),
                s.net_revenue.as_deref(),
            )
        })
        .collect();
    assert_eq!(
        ids,
        vec![
            ("S1", Some("GB"), Some("GBP"), Some("6.2480")),
            ("S2", Some("GB"), Some("GBP"), Some("6.3200")),
            ("S3", Some("US"), Some("USD"), Some("0.8112")),
        ]
    );
    let s3 = r.summary("S3").expect("S3");
    assert_eq!(s3.record_type, "SY02.03");
    assert_eq!(
        s3.commercial_model.as_deref(),
        Some("AdvertisementSupportedModel")
    );
    assert_eq!(s3.line, 7);
    assert_eq!(parse_decimal("6.2480"), Some((62480, 4)));
}

#[test]
fn streams_resolve_to_their_resource_and_summary() {
    let r = report();
    assert_eq!(r.sales.len(), 6);
    let s = sale(&r, "TX-0001");
    assert_eq!(s.record_type, "SU02.02");
    assert_eq!(s.release_ref, "1");
    assert_eq!(s.summary_ref.as_deref(), Some("S1"));
    assert_eq!(s.resource_reference.as_deref(), Some("A1"));
    assert_eq!(s.release_reference, None);
    assert_eq!(s.isrc.as_deref(), Some("GBKST2300101"));
    assert_eq!(s.title.as_deref(), Some("Night Drive"));
    assert_eq!(s.artist.as_deref(), Some("The Lanterns"));
    // Release context comes from the block's head release.
    assert_eq!(s.icpn.as_deref(), Some("0093624918526"));
    assert_eq!(s.catalog_number.as_deref(), Some("BKST-007LP"));
    assert_eq!(s.territory.as_deref(), Some("GB"));
    assert_eq!(s.use_type.as_deref(), Some("OnDemandStream"));
    assert_eq!(s.commercial_model.as_deref(), Some("SubscriptionModel"));
    assert_eq!((s.units, s.returns), (1200, 0));
    assert_eq!(s.net_amount, "0");
    assert_eq!(s.amount_source, AmountSource::Summary);
    assert_eq!(s.currency.as_deref(), Some("GBP"));
    assert_eq!(s.royalty_bearing, Some(true));
    assert_eq!(s.line, 15);

    // No UseType on the line: taken from the summary.
    let s = sale(&r, "TX-0005");
    assert_eq!(s.use_type.as_deref(), Some("OnDemandStream"));
    assert_eq!(s.territory.as_deref(), Some("US"));
    assert_eq!(s.currency.as_deref(), Some("USD"));
}

#[test]
fn downloads_net_their_returns() {
    let r = report();
    let album = sale(&r, "TX-0003");
    assert_eq!(album.release_reference.as_deref(), Some("R1"));
    assert_eq!(album.isrc, None);
    assert_eq!(album.title.as_deref(), Some("Midnight Tapes"));
    assert_eq!((album.units, album.returns), (2, 1));
    assert_eq!(album.unit_price.as_deref(), Some("7.99"));
    assert_eq!(album.use_type.as_deref(), Some("PermanentDownload"));

    let track = sale(&r, "TX-0004");
    assert_eq!(track.royalty_bearing, Some(true));
    assert_eq!((track.units, track.returns), (5, 0));

    // Block 2: escaped pipe in the title, several ISRCs (the first is kept).
    let single = sale(&r, "TX-0006");
    assert_eq!(single.release_ref, "2");
    assert_eq!(single.title.as_deref(), Some("Saltwater | Reprise"));
    assert_eq!(single.isrc.as_deref(), Some("GBKST2400201"));
    assert_eq!(single.icpn.as_deref(), Some("5021732123459"));
    assert_eq!(single.catalog_number, None);
    assert_eq!(single.line, 22);
}

#[test]
fn crlf_and_byte_order_mark_are_accepted() {
    let text = String::from_utf8(SAMPLE.to_vec()).expect("utf8");
    let mut bytes = b"\xEF\xBB\xBF".to_vec();
    bytes.extend(text.replace('\n', "\r\n").into_bytes());
    let r = parse(&bytes).expect("reads");
    assert_eq!(r.sales.len(), 6);
    assert_eq!(r.sales[0].title.as_deref(), Some("Night Drive"));
}
