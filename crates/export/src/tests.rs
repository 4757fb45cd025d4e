use super::*;
use backstock_domain::PartyId;

fn acct(kind: MoneyKind, cp: &str, cur: &str) -> MoneyAccount {
    MoneyAccount::new(
        PartyId::parse("label").unwrap(),
        PartyId::parse(cp).unwrap(),
        kind,
        Currency::parse(cur).unwrap(),
    )
}

fn d(s: &str) -> Date {
    Date::parse(s).unwrap()
}

/// A statement (sale 400.00, fee 80.00), a payment of 312.00, a royalty run over two
/// payees, and a pending reserve that posted nothing (left out by the caller).
fn sample() -> (Opening, Vec<Txn>) {
    use MoneyKind::*;
    let rec = acct(Receivable, "northwind", "USD");
    let rev = acct(Revenue, "northwind", "USD");
    let fee = acct(DistributionFee, "northwind", "USD");
    let cash = acct(Cash, "northwind", "USD");
    let exp_a = acct(RoyaltyExpense, "june-okafor", "USD");
    let pay_a = acct(RoyaltyPayable, "june-okafor", "USD");
    let exp_b = acct(RoyaltyExpense, "ada-brennan", "USD");
    let pay_b = acct(RoyaltyPayable, "ada-brennan", "USD");
    let opening = Opening::from_postings([(&rec, &rev, 10_000u64), (&cash, &rec, 2_500)]).unwrap();
    let t1 = Txn::from_postings(
        7,
        d("2016-02-05"),
        "statement:ST1",
        "statement",
        "Statement ST1 from northwind".into(),
        [(&rec, &rev, 40_000u64), (&fee, &rec, 8_000)],
    )
    .unwrap()
    .unwrap();
    let t2 = Txn::from_postings(
        8,
        d("2016-03-01"),
        "payment:P1",
        "payment",
        "Payment \"P1\" from northwind".into(),
        [(&cash, &rec, 31_200u64)],
    )
    .unwrap()
    .unwrap();
    let t3 = Txn::from_postings(
        9,
        d("2016-03-31"),
        "royalty-run:2016Q1",
        "royalty_run",
        "Royalty run 2016Q1".into(),
        [(&exp_a, &pay_a, 1_234u64), (&exp_b, &pay_b, 567)],
    )
    .unwrap()
    .unwrap();
    (opening, vec![t1, t2, t3])
}

fn range() -> Range {
    Range {
        from: d("2016-01-01"),
        to: d("2016-03-31"),
        title: "Marigold Records".into(),
    }
}

#[test]
fn postings_are_netted_per_account_and_balance() {
    let (_, txns) = sample();
    let t = &txns[0];
    // receivable +400.00 − 80.00, revenue −400.00, fee +80.00
    assert_eq!(t.lines.len(), 3);
    let rec = t
        .lines
        .iter()
        .find(|l| l.kind == MoneyKind::Receivable)
        .unwrap();
    assert_eq!(rec.amount_minor, 32_000);
    for t in &txns {
        assert!(t.sums().values().all(|s| *s == 0), "{t:?}");
    }
}

#[test]
fn money_that_moves_back_within_an_entry_is_no_transaction() {
    let a = acct(MoneyKind::Receivable, "northwind", "USD");
    let b = acct(MoneyKind::ReserveHeld, "northwind", "USD");
    let t = Txn::from_postings(
        1,
        d("2016-01-01"),
        "x",
        "statement",
        "x".into(),
        [(&b, &a, 500u64), (&a, &b, 500u64)],
    )
    .unwrap();
    assert!(t.is_none());
}

#[test]
fn an_unbalanced_transaction_is_refused() {
    let (o, mut txns) = sample();
    txns[1].lines[0].amount_minor += 1;
    let e = render(Format::Beancount, &range(), &Chart::default(), &o, &txns).unwrap_err();
    assert!(
        e.0.contains("payment:P1") && e.0.contains("does not balance"),
        "{e}"
    );
}

#[test]
fn beancount_document() {
    let (o, txns) = sample();
    let s = render(Format::Beancount, &range(), &Chart::default(), &o, &txns).unwrap();
    // The receivable: 100.00 − 25.00 brought forward + 320.00 − 312.00 = 83.00.
    assert!(
        s.contains("2016-04-01 balance Assets:Receivable:Northwind"),
        "{s}"
    );
    let line = s
        .lines()
        .find(|l| l.starts_with("2016-04-01 balance Assets:Receivable:Northwind"))
        .unwrap();
    assert!(line.trim_end().ends_with("83.00 USD"), "{line}");
    insta::assert_snapshot!("beancount", s);
}

#[test]
fn csv_journal_document() {
    let (o, txns) = sample();
    let s = render(Format::CsvJournal, &range(), &Chart::default(), &o, &txns).unwrap();
    insta::assert_snapshot!("csv_journal", s);
}

/// Every journal's rows sum to zero: Xero's amounts signed, QuickBooks' debits =
/// credits.
#[test]
fn xero_and_quickbooks_documents_balance() {
    let (o, txns) = sample();
    let x = render(Format::Xero, &range(), &Chart::default(), &o, &txns).unwrap();
    let mut r = csv::Reader::from_reader(x.as_bytes());
    assert_eq!(
        r.headers().unwrap().iter().collect::<Vec<_>>(),
        [
            "*Narration",
            "*Date",
            "Description",
            "*AccountCode",
            "*TaxRate",
            "*Amount",
            "TrackingName1",
            "TrackingOption1",
            "TrackingName2",
            "TrackingOption2"
        ]
    );
    let mut sums: BTreeMap<(String, String), i64> = BTreeMap::new();
    for rec in r.records() {
        let rec = rec.unwrap();
        let minor = Money::parse(&rec[5], Currency::USD).unwrap().minor();
        *sums
            .entry((rec[0].to_string(), rec[1].to_string()))
            .or_default() += minor;
    }
    assert_eq!(sums.len(), 3);
    assert!(sums.values().all(|v| *v == 0), "{sums:?}");
    assert!(sums.keys().any(|(_, date)| date == "05/02/2016"));
    insta::assert_snapshot!("xero", x);

    let q = render(Format::QuickBooks, &range(), &Chart::default(), &o, &txns).unwrap();
    let mut r = csv::Reader::from_reader(q.as_bytes());
    let mut sums: BTreeMap<String, i64> = BTreeMap::new();
    for rec in r.records() {
        let rec = rec.unwrap();
        let v = |s: &str| {
            if s.is_empty() {
                0
            } else {
                Money::parse(s, Currency::USD).unwrap().minor()
            }
        };
        *sums.entry(rec[0].to_string()).or_default() += v(&rec[3]) - v(&rec[4]);
        assert_eq!(&rec[1][..2], if rec[0] == *"BS-7" { "02" } else { "03" });
    }
    assert_eq!(sums.len(), 3);
    assert!(sums.values().all(|v| *v == 0), "{sums:?}");
    insta::assert_snapshot!("quickbooks", q);
}

#[test]
fn one_currency_for_xero_and_quickbooks() {
    let (o, mut txns) = sample();
    let a = acct(MoneyKind::Receivable, "euro", "EUR");
    let b = acct(MoneyKind::Revenue, "euro", "EUR");
    txns.push(
        Txn::from_postings(
            10,
            d("2016-03-02"),
            "s2",
            "statement",
            "s".into(),
            [(&a, &b, 100u64)],
        )
        .unwrap()
        .unwrap(),
    );
    for f in [Format::Xero, Format::QuickBooks] {
        let e = render(f, &range(), &Chart::default(), &o, &txns).unwrap_err();
        assert!(
            e.0.contains("EUR, USD") && e.0.contains("--currency"),
            "{e}"
        );
    }
    // beancount and the plain journal keep each currency.
    let s = render(Format::Beancount, &range(), &Chart::default(), &o, &txns).unwrap();
    assert!(s.contains("1.00 EUR"));
}

#[test]
fn a_zero_decimal_currency_is_written_without_decimals() {
    let a = acct(MoneyKind::Receivable, "tokyo", "JPY");
    let b = acct(MoneyKind::Revenue, "tokyo", "JPY");
    let t = Txn::from_postings(
        1,
        d("2016-01-02"),
        "s",
        "statement",
        "s".into(),
        [(&a, &b, 1500u64)],
    )
    .unwrap()
    .unwrap();
    let s = render(
        Format::Xero,
        &range(),
        &Chart::default(),
        &Opening::default(),
        &[t],
    )
    .unwrap();
    assert!(s.contains(",1500,") && s.contains(",-1500,"), "{s}");
}
