//! EDI X12 and DDEX DSR files as a label receives them, through `edi::read_x12_lines`
//! and `edi::read_dsr_lines`: what each line is worth, which way its units move, in
//! which currency, under which statement id — checked against sums worked out by hand
//! from the file.

use backstock_domain::PartyId;
use backstock_domain::{Currency, Date};
use backstock_ingest::edi::{read_dsr_lines, read_x12_lines, SentOptions};
use backstock_ingest::Context;
use backstock_ledger::facts::StockReport;
use backstock_ledger::{Event, Fact, LineKind, Statement};

/// MRG-001-CD (UPC 859712000019, wholesale 8.00 USD) and MRG-002-LP (UPC
/// 859712000026, 11.50 USD); northwind's agreement in USD.
fn ctx() -> Context {
    let catalog = vec![
        (
            "MRG-001-CD".to_string(),
            Some("859712000019".to_string()),
            800,
            "USD".to_string(),
        ),
        (
            "MRG-002-LP".to_string(),
            Some("859712000026".to_string()),
            1150,
            "USD".to_string(),
        ),
    ];
    let mut c = Context::from_lookups(&catalog, &[], &[("northwind".into(), "USD".into())], &[]);
    c.file_name = "northwind.edi".into();
    c.file_sha256 = "cd".repeat(32);
    c
}

fn northwind() -> PartyId {
    PartyId::parse("northwind").unwrap()
}

/// An interchange of one transaction set `ST*{set}*{control}` with `body` (segments
/// separated by `~`), its SE count right.
fn x12(set: &str, control: &str, body: &[&str]) -> Vec<u8> {
    let mut segs = vec![format!("ST*{set}*{control}")];
    segs.extend(body.iter().map(|s| s.to_string()));
    segs.push(format!("SE*{}*{control}", segs.len() + 1));
    format!(
        "ISA*00*          *00*          *ZZ*NORTHWIND      *ZZ*MARIGOLD       *160705*1530*U*00401*000000905*0*P*>~\
GS*PD*NORTHWIND*MARIGOLD*20160705*1530*905*X*004010~{}~GE*1*905~IEA*1*000000905~",
        segs.join("~")
    )
    .into_bytes()
}

fn read(bytes: &[u8], opts: &SentOptions) -> Result<Vec<Event>, String> {
    read_x12_lines(bytes, &ctx(), &northwind(), opts, &mut |_| {})
        .map(|p| p.entries.into_iter().map(|e| e.event).collect())
        .map_err(|e| e.to_string())
}

fn statements(events: &[Event]) -> Vec<&Statement> {
    events
        .iter()
        .filter_map(|e| match e {
            Event::Statement(s) => Some(s),
            _ => None,
        })
        .collect()
}

/// (kind, sku) → (units, amount in minor units) of a statement.
fn line(s: &Statement, kind: LineKind, sku: &str) -> (i64, i64) {
    s.lines
        .iter()
        .filter(|l| l.kind == kind && l.sku.as_ref().map(|k| k.as_str()) == Some(sku))
        .fold((0, 0), |(u, a), l| (u + l.units, a + l.amount_minor))
}

fn net(s: &Statement) -> i64 {
    s.net_due_minor().unwrap()
}

/// A negative quantity sold is a net return: units come back to the distributor's
/// holding and the money is taken off, never added as a sale.
#[test]
fn a_negative_quantity_sold_is_a_return() {
    let events = read(
        &x12(
            "852",
            "0001",
            &[
                "XQ*H*20160601*20160630",
                "LIN*1*UP*859712000019",
                "ZA*QS*10*EA",
                "ZA*QU*1*EA",
                "LIN*2*UP*859712000026",
                "ZA*QS*-1*EA",
            ],
        ),
        &SentOptions::default(),
    )
    .unwrap();
    let st = statements(&events);
    assert_eq!(st.len(), 1);
    // 10 × 8.00 − 1 × 8.00 − 1 × 11.50, by hand.
    assert_eq!(net(st[0]), 6_050);
    assert_eq!(line(st[0], LineKind::Return, "MRG-002-LP"), (1, 1_150));
    assert_eq!(line(st[0], LineKind::Sale, "MRG-002-LP"), (0, 0));
}

/// A retail (resale) price is what the store charged: the line is valued at the
/// catalog's wholesale price. A wholesale price with more places than cents is
/// multiplied first and rounded once.
#[test]
fn prices_are_wholesale_and_rounded_once() {
    let res = read(
        &x12(
            "852",
            "0001",
            &[
                "XQ*H*20160601*20160630",
                "LIN*1*UP*859712000019",
                "CTP**RES*15.98",
                "ZA*QS*10*EA",
                "ZA*QU*1*EA",
                "LIN*2*UP*859712000026",
                "ZA*QS*4*EA",
            ],
        ),
        &SentOptions::default(),
    )
    .unwrap();
    // 10 × 8.00 − 1 × 8.00 + 4 × 11.50.
    assert_eq!(net(statements(&res)[0]), 11_800);
    // A wholesale price given after a retail one is the one taken.
    let both = read(
        &x12(
            "852",
            "0001",
            &[
                "XQ*H*20160601*20160630",
                "LIN*1*UP*859712000019",
                "CTP**RES*15.98",
                "CTP**WHL*7.50",
                "ZA*QS*10*EA",
            ],
        ),
        &SentOptions::default(),
    )
    .unwrap();
    assert_eq!(net(statements(&both)[0]), 7_500);
    let whl = read(
        &x12(
            "852",
            "0001",
            &[
                "XQ*H*20160601*20160630",
                "LIN*1*UP*859712000019",
                "CTP**WHL*7.995",
                "ZA*QS*1000*EA",
                "LIN*2*UP*859712000026",
                "ZA*QS*4*EA",
            ],
        ),
        &SentOptions::default(),
    )
    .unwrap();
    // 1,000 × 7.995 + 4 × 11.50 = 7,995.00 + 46.00.
    assert_eq!(net(statements(&whl)[0]), 804_100);
}

/// An 867's AMT is the amount of the quantity before it, not of every quantity of
/// the item; the CUR segment names the statement's currency.
#[test]
fn an_867_amount_belongs_to_its_quantity_and_its_currency_is_read() {
    let body = |cur: &str| {
        x12(
            "867",
            "0077",
            &[
                "BPT*00*RPT-2016-06*20160705*DD",
                "DTM*090*20160601",
                "DTM*091*20160630",
                &format!("CUR*SE*{cur}"),
                "PTD*SS",
                "N1*ST*Store 12*92*0012",
                "LIN**UP*859712000019",
                "UIT*EA*8.00",
                "QTY*32*14*EA",
                "AMT*1*112.00",
                "QTY*32*6*EA",
                "LIN**UP*859712000026",
                "UIT*EA*11.50",
                "QTY*32*3*EA",
                "PTD*BN",
                "LIN**UP*859712000019",
                "UIT*EA*8.00",
                "QTY*32*2*EA",
            ],
        )
    };
    let usd = read(&body("USD"), &SentOptions::default()).unwrap();
    let st = statements(&usd);
    // 112.00 + 6 × 8.00 + 3 × 11.50 − 2 × 8.00 (112.00 counted once).
    assert_eq!(net(st[0]), 17_850);
    assert_eq!(line(st[0], LineKind::Sale, "MRG-001-CD"), (20, 16_000));
    let eur = read(&body("EUR"), &SentOptions::default()).unwrap();
    assert_eq!(
        statements(&eur)[0].currency,
        Currency::parse("EUR").unwrap()
    );
    // --currency that the file contradicts is refused; one it agrees with is fine.
    let opts = |c: &str| SentOptions {
        currency: Some(Currency::parse(c).unwrap()),
        ..SentOptions::default()
    };
    let e = read(&body("EUR"), &opts("USD")).unwrap_err();
    assert!(e.contains("USD as --currency says"), "{e}");
    assert!(read(&body("EUR"), &opts("EUR")).is_ok());
    // Without a price in EUR, a line cannot be valued at the USD catalog price.
    let unpriced = x12(
        "867",
        "0078",
        &[
            "BPT*00*RPT-2016-06*20160705*DD",
            "DTM*091*20160630",
            "CUR*SE*EUR",
            "PTD*SS",
            "LIN**UP*859712000019",
            "QTY*32*2*EA",
        ],
    );
    let e = read(&unpriced, &SentOptions::default()).unwrap_err();
    assert!(
        e.contains("a price on the line or a wholesale price in EUR in the catalog (the catalog's is in USD)"),
        "{e}"
    );
}

/// What a distributor holds is one count: on hand, not on hand plus available for
/// sale.
#[test]
fn on_hand_is_counted_once_whatever_qualifiers_say_it() {
    let events = read(
        &x12(
            "846",
            "1001",
            &[
                "BIA*00*MM*INV20160630*20160630",
                "LIN*1*UP*859712000019",
                "QTY*33*20*EA",
                "QTY*17*30*EA",
                "LIN*2*UP*859712000026",
                "QTY*33*10*EA",
            ],
        ),
        &SentOptions::default(),
    )
    .unwrap();
    let reports: Vec<&StockReport> = events
        .iter()
        .filter_map(|e| match e {
            Event::Fact(Fact::StockReport(r)) => Some(r),
            _ => None,
        })
        .collect();
    let units = |sku: &str| {
        reports
            .iter()
            .find(|r| r.sku.as_str() == sku)
            .map(|r| r.units_on_hand)
    };
    assert_eq!(units("MRG-001-CD"), Some(30));
    assert_eq!(units("MRG-002-LP"), Some(10));
    let events = read(
        &x12(
            "852",
            "0001",
            &[
                "XQ*H*20160601*20160630",
                "LIN*1*UP*859712000019",
                "ZA*QA*30*EA",
                "ZA*OH*30*EA",
            ],
        ),
        &SentOptions::default(),
    )
    .unwrap();
    assert!(matches!(
        &events[..],
        [Event::Fact(Fact::StockReport(r))] if r.units_on_hand == 30
    ));
}

/// A corrected file sent again under the same control number is recorded under the
/// id the user gives; a file of several statements cannot take one id; a period
/// that ends before it starts is refused; a file without dates takes the user's.
#[test]
fn statement_id_and_period_from_the_user() {
    let one = x12(
        "852",
        "0001",
        &[
            "XQ*H*20160601*20160630",
            "LIN*1*UP*859712000019",
            "ZA*QS*12*EA",
        ],
    );
    let opts = SentOptions {
        statement_id: Some("x12-0001-R1".into()),
        ..SentOptions::default()
    };
    let events = read(&one, &opts).unwrap();
    assert_eq!(statements(&events)[0].statement_id, "x12-0001-R1");
    let parsed = read_x12_lines(&one, &ctx(), &northwind(), &opts, &mut |_| {}).unwrap();
    assert_eq!(
        parsed.entries[0].id.as_str(),
        "statement:northwind:x12-0001-R1"
    );
    let two = x12(
        "852",
        "0001",
        &[
            "XQ*H*20160601*20160630",
            "LIN*1*UP*859712000019",
            "ZA*QS*12*EA",
            "XQ*H*20160701*20160731",
            "LIN*1*UP*859712000019",
            "ZA*QS*3*EA",
        ],
    );
    let e = read(&two, &opts).unwrap_err();
    assert!(
        e.contains("--statement-id for a file of one statement: this one makes 2"),
        "{e}"
    );
    let bad = SentOptions {
        statement_id: Some("a:b".into()),
        ..SentOptions::default()
    };
    assert!(read(&one, &bad).unwrap_err().contains("--statement-id"));
    let reversed = x12(
        "852",
        "0001",
        &[
            "XQ*H*20160630*20160601",
            "LIN*1*UP*859712000019",
            "ZA*QS*12*EA",
        ],
    );
    let e = read(&reversed, &SentOptions::default()).unwrap_err();
    assert!(e.contains("2016-06-30..2016-06-01"), "{e}");
    assert!(e.contains("on or before its end"), "{e}");
    let undated = x12("852", "0001", &["LIN*1*UP*859712000019", "ZA*QS*12*EA"]);
    let e = read(&undated, &SentOptions::default()).unwrap_err();
    assert!(e.contains("--period-start and --period-end"), "{e}");
    let dated = SentOptions {
        period_start: Some(Date::parse("2016-06-01").unwrap()),
        period_end: Some(Date::parse("2016-06-30").unwrap()),
        ..SentOptions::default()
    };
    let events = read(&undated, &dated).unwrap();
    let st = statements(&events)[0];
    assert_eq!(
        (st.period_start.to_string(), st.period_end.to_string()),
        ("2016-06-01".to_string(), "2016-06-30".to_string())
    );
}

fn dsr(summaries: &[&str], blocks: &[(&str, &str)]) -> Vec<u8> {
    let mut rows = vec![
        "HEAD\tdsrf/1.1/1.4.1/1.3\tBasicAudioProfile\t1.3\tMSG-2016-06-NW\t2016-07-05T09:30:00Z\t1\t1\t2016-06-01\t2016-06-30\tPADPIDA2014111801Y\tTunestream Ltd\tTunestreamStore\tPADPIDA2024010101B\tMarigold Records\t".to_string(),
        "#SY01.02\tSummaryRecordId\tDistributionChannel\tDistributionChannelDPID\tCommercialModel\tUseType\tTerritory\tServiceDescription\tUsages\tUsers\tCurrencyOfReporting\tNetRevenue\tIndirectValue\tCurrencyOfTransaction\tExchangeRate".to_string(),
    ];
    rows.extend(summaries.iter().map(|s| s.to_string()));
    rows.push("#RE01.02\tBlockId\tReleaseReference\tDspReleaseId\tProprietaryReleaseId\tCatalogNumber\tICPN\tDisplayArtistName\tDisplayArtistPartyId\tTitle\tSubTitle\tReleaseType\tLabelName\tPLine\tDataProviderName\tReleaseDate".into());
    rows.push("#SU01.02\tBlockId\tSummaryRecordId\tSalesTransactionId\tTransactedRelease\tTransactedResource\tIsRoyaltyBearing\tSalesUpgrade\tUsages\tReturns\tPriceConsumerPaidExcSalesTax\tPromotionalActivity\tUseType".into());
    for (re, su) in blocks {
        rows.push(re.to_string());
        rows.push(su.to_string());
    }
    rows.push("#FOOT\tNumberOfLinesInFile\tNumberOfLinesInReport\tNumberOfSummaryRecords\tNumberOfBlocksInFile\tNumberOfBlocksInReport".into());
    let n = rows.len() + 1;
    rows.push(format!(
        "FOOT\t{n}\t{n}\t{}\t{}\t{}",
        summaries.len(),
        blocks.len(),
        blocks.len()
    ));
    (rows.join("\n") + "\n").into_bytes()
}

fn read_dsr(bytes: &[u8]) -> Result<Vec<Event>, String> {
    read_dsr_lines(
        bytes,
        &ctx(),
        &northwind(),
        &SentOptions::default(),
        &mut |_| {},
    )
    .map(|p| p.entries.into_iter().map(|e| e.event).collect())
    .map_err(|e| e.to_string())
}

const S1: &str = "SY01.02\tS1\tTunestream\tPADPIDA2014111801Y\tPayAsYouGoModel\tPermanentDownload\tUS\tTunestreamStore\t3\t\tUSD\t6.00\t\tUSD\t1.00";

fn block(n: u32, upc: &str, usages: u32, returns: u32) -> (String, String) {
    (
        format!("RE01.02\t{n}\tR1\tTS-{n}\t\t\t{upc}\tArtist\t\tTitle\t\tAlbum\tMarigold\t(P)\tMarigold\t2016-01-01"),
        format!("SU01.02\t{n}\tS1\tTX-{n}\tR1\t\tTRUE\tFALSE\t{usages}\t{returns}\t0.99\t\tPermanentDownload"),
    )
}

/// Usages 4 with 1 return, and 0 with 2: sales of 4 and 0, returns of 1 and 2 — the
/// returns counted once, and no sale line of negative units.
#[test]
fn dsr_returns_are_counted_once() {
    let (b1, b2) = (
        block(1, "859712000019", 4, 1),
        block(2, "859712000026", 0, 2),
    );
    let bytes = dsr(&[S1], &[(&b1.0, &b1.1), (&b2.0, &b2.1)]);
    let events = read_dsr(&bytes).unwrap();
    let st = statements(&events)[0];
    assert_eq!(line(st, LineKind::Sale, "MRG-001-CD").0, 4);
    assert_eq!(line(st, LineKind::Return, "MRG-001-CD").0, 1);
    assert_eq!(line(st, LineKind::Sale, "MRG-002-LP").0, 0);
    assert_eq!(line(st, LineKind::Return, "MRG-002-LP").0, 2);
    assert!(st.lines.iter().all(|l| l.units >= 0), "{:?}", st.lines);
    assert_eq!(net(st), 600);
}

/// A summary's revenue with no sales record under it is still owed: the statement
/// holds it on an adjustment line (it was dropped).
#[test]
fn dsr_summary_revenue_without_sales_records_is_kept() {
    let s2 = "SY01.02\tS2\tTunestream\tPADPIDA2014111801Y\tPayAsYouGoModel\tPermanentDownload\tGB\tTunestreamStore\t4\t\tUSD\t7.50\t\tUSD\t1.00";
    let b1 = block(1, "859712000019", 3, 0);
    let bytes = dsr(&[S1, s2], &[(&b1.0, &b1.1)]);
    let events = read_dsr(&bytes).unwrap();
    let st = statements(&events)[0];
    // 6.00 on the sales line + 7.50 of S2, by hand.
    assert_eq!(net(st), 1_350);
    assert!(st
        .lines
        .iter()
        .any(|l| l.kind == LineKind::Adjustment && l.sku.is_none() && l.amount_minor == 750));
}

/// Sales records that state their own revenue (`SU03`) carry their summary's: the
/// statement is their sum, with no adjustment added for the summary.
#[test]
fn dsr_sales_with_their_own_revenue_carry_their_summary() {
    let re = "RE01.02\t1\tR1\tTS-1\t\t\t859712000019\tArtist\t\tTitle\t\tAlbum\tMarigold\t(P)\tMarigold\t2016-01-01";
    let su = "SU03.03\t1\tS1\tTX-1\tR1\t3\t6.0000";
    let bytes = dsr(&[S1], &[(re, su)]);
    let events = read_dsr(&bytes).unwrap();
    let st = statements(&events)[0];
    assert_eq!(net(st), 600);
    assert!(
        st.lines.iter().all(|l| l.kind != LineKind::Adjustment),
        "{:?}",
        st.lines
    );
}

/// Each location's count is taken on its own (on hand before available), then the
/// locations add up: one warehouse reporting on hand and another only available
/// for sale is 100 + 50, not 100.
#[test]
fn on_hand_counts_are_ranked_per_location_then_added() {
    let events = read(
        &x12(
            "846",
            "1002",
            &[
                "BIA*00*MM*INV20160630*20160630",
                "LIN*1*UP*859712000019",
                "N1*WH*East*92*E1",
                "QTY*17*100*EA",
                "QTY*33*90*EA",
                "LIN*2*UP*859712000019",
                "N1*WH*West*92*W1",
                "QTY*33*50*EA",
            ],
        ),
        &SentOptions::default(),
    )
    .unwrap();
    assert!(
        matches!(&events[..], [Event::Fact(Fact::StockReport(r))] if r.units_on_hand == 150),
        "{events:?}"
    );
}

/// A DSR whose summaries are in two currencies makes two statements: `--statement-id`
/// (one statement's id) is refused for it, naming the currencies.
#[test]
fn a_statement_id_is_refused_for_a_dsr_split_per_currency() {
    let s2 = "SY01.02\tS2\tTunestream\tPADPIDA2014111801Y\tPayAsYouGoModel\tPermanentDownload\tGB\tTunestreamStore\t2\t\tGBP\t4.00\t\tGBP\t1.00";
    let (b1, b2) = (
        block(1, "859712000019", 3, 0),
        block(2, "859712000026", 2, 0),
    );
    let b2 = (b2.0, b2.1.replace("\tS1\t", "\tS2\t"));
    let bytes = dsr(&[S1, s2], &[(&b1.0, &b1.1), (&b2.0, &b2.1)]);
    let parsed = read_dsr(&bytes).unwrap();
    assert_eq!(statements(&parsed).len(), 2);
    let opts = SentOptions {
        statement_id: Some("dsr-R1".into()),
        ..SentOptions::default()
    };
    let e = read_dsr_lines(&bytes, &ctx(), &northwind(), &opts, &mut |_| {})
        .map(|_| ())
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("this one makes 2 (one per currency: USD, GBP)"),
        "{e}"
    );
}

/// A summary in a currency no sales record is in (GBP earnings with no sale listed
/// under them) is a statement of that currency, its revenue one adjustment line: no
/// currency's money is dropped.
#[test]
fn a_dsr_summary_alone_in_its_currency_is_its_own_statement() {
    let s2 = "SY01.02\tS2\tTunestream\tPADPIDA2014111801Y\tPayAsYouGoModel\tPermanentDownload\tGB\tTunestreamStore\t0\t\tGBP\t1.50\t\tGBP\t1.00";
    // And one with nothing owed in a third currency: no empty statement for it.
    let s3 = "SY01.02\tS3\tTunestream\tPADPIDA2014111801Y\tPayAsYouGoModel\tPermanentDownload\tDE\tTunestreamStore\t0\t\tEUR\t0.00\t\tEUR\t1.00";
    let b1 = block(1, "859712000019", 3, 0);
    let bytes = dsr(&[S1, s2, s3], &[(&b1.0, &b1.1)]);
    let events = read_dsr(&bytes).unwrap();
    let st = statements(&events);
    let ids: Vec<(&str, &str)> = st
        .iter()
        .map(|s| (s.statement_id.as_str(), s.currency.code()))
        .collect();
    assert_eq!(
        ids,
        [
            ("dsr-MSG-2016-06-NW-1-USD", "USD"),
            ("dsr-MSG-2016-06-NW-1-GBP", "GBP")
        ]
    );
    let gbp = st[1];
    assert_eq!(gbp.lines.len(), 1, "{gbp:?}");
    assert_eq!(gbp.lines[0].kind, LineKind::Adjustment);
    assert_eq!(gbp.lines[0].amount_minor, 150);
    let usd: i64 = st[0].lines.iter().map(|l| l.amount_minor).sum();
    assert_eq!(usd, 600);
}

/// A LIN whose ids name two different SKUs (a UPC of one release, the vendor's number
/// of another) is refused naming both, as a DSR's codes are; ids that agree are read.
#[test]
fn an_x12_item_whose_ids_name_two_skus_is_refused() {
    let e = read(
        &x12(
            "852",
            "0001",
            &[
                "XQ*H*20160601*20160630",
                "LIN*1*UP*859712000019*VN*MRG-002-LP",
                "ZA*QS*1*EA",
            ],
        ),
        &SentOptions::default(),
    )
    .unwrap_err();
    assert!(
        e.contains("UP 859712000019 (MRG-001-CD) and VN MRG-002-LP (MRG-002-LP)")
            && e.contains("ids that name one product"),
        "{e}"
    );
    let events = read(
        &x12(
            "852",
            "0001",
            &[
                "XQ*H*20160601*20160630",
                "LIN*1*UP*859712000019*VN*MRG-001-CD",
                "ZA*QS*2*EA",
            ],
        ),
        &SentOptions::default(),
    )
    .unwrap();
    assert_eq!(
        line(statements(&events)[0], LineKind::Sale, "MRG-001-CD"),
        (2, 1_600)
    );
}
