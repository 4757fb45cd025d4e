use backstock_domain::{Currency, Date, Money, PartyId, Rate, Sku};
use backstock_ledger::facts::CatalogItem;
use backstock_ledger::{
    Channel, Entry, EntryId, Event, Fact, LineKind, Provenance, Statement, StatementLine,
};
use backstock_royalties::*;
use proptest::prelude::*;

fn d(s: &str) -> Date {
    Date::parse(s).unwrap()
}
fn usd(minor: i64) -> Money {
    Money::from_minor(minor, Currency::USD)
}
fn party(s: &str) -> PartyId {
    PartyId::parse(s).unwrap()
}
fn sku(s: &str) -> Sku {
    Sku::parse(s).unwrap()
}
fn rate(s: &str) -> Rate {
    Rate::parse(s).unwrap()
}
fn entry(id: &str, on: &str, event: Event) -> Entry {
    Entry {
        id: EntryId::new(id).unwrap(),
        effective_on: d(on),
        known_on: d(on),
        provenance: Provenance::Demo,
        event,
    }
}
fn line(kind: LineKind, s: &str, units: i64, amount_minor: i64) -> StatementLine {
    StatementLine {
        kind,
        sku: Some(sku(s)),
        units,
        amount_minor,
        channel: Channel::Physical,
    }
}
fn statement(id: &str, dist: &str, end: &str, lines: Vec<StatementLine>) -> Entry {
    entry(
        &format!("statement:{id}"),
        end,
        Event::Statement(Statement {
            statement_id: id.into(),
            distributor: party(dist),
            period_start: d(end).first_of_month(),
            period_end: d(end),
            issued_on: d(end),
            currency: Currency::USD,
            lines,
        }),
    )
}
fn payment(id: &str, dist: &str, on: &str, minor: i64, st: Option<&str>) -> Entry {
    entry(
        &format!("payment:{id}"),
        on,
        Event::PaymentReceived {
            payment_id: id.into(),
            distributor: party(dist),
            amount: usd(minor),
            statement_id: st.map(String::from),
        },
    )
}
fn catalog(s: &str, format: &str, wholesale: i64) -> Entry {
    entry(
        &format!("catalog:{s}"),
        "2015-01-01",
        Event::Fact(Fact::CatalogItem(CatalogItem {
            sku: sku(s),
            upc: None,
            title: "T".into(),
            artist: "A".into(),
            format: format.into(),
            release_date: None,
            list_price: usd(wholesale * 2),
            wholesale_price: usd(wholesale),
            unit_cost: usd(200),
        })),
    )
}
fn payee(id: &str) -> Payee {
    Payee::new(party(id), id, &format!("{id}@example.com"), "1 Main St").unwrap()
}
fn terms(id: &str, payees: &[(&str, &str)], skus: &[&str], base: Base, r: &str) -> ContractTerms {
    ContractTerms {
        id: id.into(),
        payees: payees.iter().map(|(p, s)| (party(p), rate(s))).collect(),
        skus: skus.iter().map(|s| sku(s)).collect(),
        basis: Basis::Earned,
        rules: vec![RateRule {
            channel: None,
            format: None,
            base,
            rate: rate(r),
            territory: None,
            service: None,
        }],
        cross_collateralized: true,
        reserve_rate: Rate::ZERO,
        reserve_release_periods: 0,
        min_payout: usd(0),
    }
}
fn h(s: &str) -> Period {
    Period::parse(s).unwrap()
}
fn run(inputs: &RoyaltyInputs, p: &str, opening: &OpeningBalances) -> RunResult {
    let r = compute(inputs, &h(p), opening).unwrap();
    for t in &r.tie_out {
        assert!(t.ok, "tie-out: {t:?}");
    }
    r
}
fn stmt<'a>(r: &'a RunResult, contract: &str, p: &str) -> &'a PayeeStatement {
    r.statements
        .iter()
        .find(|s| s.contract_id == contract && s.payee_id.as_str() == p)
        .unwrap()
}

#[test]
fn net_receipts_split_between_two_payees() {
    let inputs = RoyaltyInputs {
        entries: vec![
            catalog("MRG-1-CD", "CD", 800),
            statement(
                "s1",
                "allegro",
                "2016-03-31",
                vec![
                    line(LineKind::Sale, "MRG-1-CD", 125, 100_000),
                    line(LineKind::Return, "MRG-1-CD", 12, 10_001),
                    line(LineKind::Fee, "MRG-1-CD", 0, 5_000),
                    line(LineKind::ReserveWithheld, "MRG-1-CD", 0, 2_000),
                ],
            ),
        ],
        contracts: vec![Contract::new(terms(
            "c1",
            &[("ann", "0.5"), ("bob", "0.5")],
            &["MRG-1-CD"],
            Base::NetReceipts,
            "0.2",
        ))
        .unwrap()],
        payees: vec![payee("ann"), payee("bob")],
        ..Default::default()
    };
    let r = run(&inputs, "2016H1", &OpeningBalances::default());
    // net receipts 1000.00 − 100.01 − 50.00 = 849.99; × 20% = 169.998 → 170.00 (HalfEven)
    let ann = stmt(&r, "c1", "ann");
    assert_eq!(ann.royalty_earned, usd(8_500));
    assert_eq!(stmt(&r, "c1", "bob").royalty_earned, usd(8_500));
    assert_eq!(ann.payable, usd(8_500));
    let row = &ann.earnings[0];
    assert_eq!((row.units_sold, row.units_returned), (125, 12));
    assert_eq!(row.returns, usd(10_001));
    assert_eq!(row.format.as_deref(), Some("CD"));
    let t = &r.tie_out[0];
    assert_eq!(t.receipts, usd(100_000 - 10_001 - 5_000 - 2_000));
    assert_eq!(t.payee_royalties, usd(17_000));
    assert_eq!(t.distributor_reserves, usd(-2_000));
    assert_eq!(t.label_share, usd(84_999 - 17_000));
    assert_eq!(t.fees, usd(-5_000));
}

#[test]
fn ppd_per_unit() {
    let inputs = RoyaltyInputs {
        entries: vec![
            catalog("MRG-2-LP", "LP", 800),
            statement(
                "s1",
                "allegro",
                "2016-05-31",
                vec![
                    line(LineKind::Sale, "MRG-2-LP", 100, 123_456),
                    line(LineKind::Return, "MRG-2-LP", 10, 9_999),
                ],
            ),
        ],
        contracts: vec![Contract::new(terms(
            "c",
            &[("ann", "1")],
            &["MRG-2-LP"],
            Base::PpdPerUnit,
            "0.15",
        ))
        .unwrap()],
        payees: vec![payee("ann")],
        ..Default::default()
    };
    let r = run(&inputs, "2016H1", &OpeningBalances::default());
    // 100 × 8.00 × 15% = 120.00; −10 × 8.00 × 15% = −12.00
    assert_eq!(stmt(&r, "c", "ann").royalty_earned, usd(10_800));
    // without a catalog item, PPD is refused clearly
    let mut bad = inputs.clone();
    bad.entries.remove(0);
    assert!(matches!(
        compute(&bad, &h("2016H1"), &OpeningBalances::default()),
        Err(RoyaltyError::MissingWholesalePrice { .. })
    ));
    // A statement in another currency than the catalog's price: refused, naming the
    // contract, the SKU and the statement, and saying what to do.
    let mut eur = inputs.clone();
    if let Event::Statement(st) = &mut eur.entries[1].event {
        st.currency = Currency::parse("EUR").unwrap();
    }
    let e = compute(&eur, &h("2016H1"), &OpeningBalances::default())
        .unwrap_err()
        .to_string();
    for want in [
        "contract c, a rate on the wholesale price (ppd): wholesale price of MRG-2-LP for statement s1: found USD, expected EUR",
        "new version",
        "net_receipts",
    ] {
        assert!(e.contains(want), "{want} in {e}");
    }
}

#[test]
fn net_profit_fifty_fifty_after_costs() {
    let c = Contract::new(terms(
        "np",
        &[("ann", "1")],
        &["X-1"],
        Base::NetProfitSplit,
        "0.5",
    ))
    .unwrap();
    let inputs = RoyaltyInputs {
        entries: vec![statement(
            "s1",
            "allegro",
            "2016-06-30",
            vec![line(LineKind::Sale, "X-1", 100, 100_000)],
        )],
        contracts: vec![c],
        payees: vec![payee("ann")],
        costs: vec![Cost::new(
            "np",
            None,
            usd(40_000),
            CostKind::Manufacturing,
            true,
            d("2016-02-01"),
        )
        .unwrap()],
        ..Default::default()
    };
    let r = run(&inputs, "2016H1", &OpeningBalances::default());
    let s = stmt(&r, "np", "ann");
    // (1000 − 400) / 2 = 300
    assert_eq!(s.royalty_earned, usd(50_000));
    assert_eq!(s.costs_charged, usd(20_000));
    assert_eq!(s.payable, usd(30_000));
}

#[test]
fn shares_must_sum_to_one() {
    let mut t = terms(
        "c",
        &[("a", "0.6"), ("b", "0.4")],
        &["X"],
        Base::NetReceipts,
        "0.1",
    );
    assert!(Contract::new(t.clone()).is_ok());
    t.payees[1].1 = rate("0.3");
    let e = Contract::new(t.clone()).unwrap_err();
    assert!(matches!(
        e,
        RoyaltyError::SharesDoNotSumToOne {
            sum_ppm: 900_000,
            ..
        }
    ));
    assert!(e.to_string().contains("0.900000"));
    t.payees[1].1 = rate("0.400001");
    assert!(Contract::new(t).is_err());
    // three-way split of an odd amount: remainder to the label
    let inputs = RoyaltyInputs {
        entries: vec![statement(
            "s",
            "allegro",
            "2016-01-31",
            vec![line(LineKind::Sale, "X", 1, 100)],
        )],
        contracts: vec![Contract::new(terms(
            "c",
            &[("a", "0.333334"), ("b", "0.333333"), ("c", "0.333333")],
            &["X"],
            Base::NetReceipts,
            "1",
        ))
        .unwrap()],
        payees: vec![payee("a"), payee("b"), payee("c")],
        ..Default::default()
    };
    let r = run(&inputs, "2016H1", &OpeningBalances::default());
    assert_eq!(r.tie_out[0].payee_royalties, usd(99));
    assert_eq!(r.tie_out[0].rounding_to_label, usd(1));
}

fn recoup_inputs(cross: bool) -> RoyaltyInputs {
    let mut t = terms("c", &[("ann", "1")], &["A", "B"], Base::NetReceipts, "0.1");
    t.cross_collateralized = cross;
    RoyaltyInputs {
        entries: vec![statement(
            "s",
            "allegro",
            "2016-06-30",
            vec![line(LineKind::Sale, "A", 10, 100_000)],
        )],
        contracts: vec![Contract::new(t).unwrap()],
        payees: vec![payee("ann")],
        costs: vec![Cost::new(
            "c",
            Some(sku("B")),
            usd(30_000),
            CostKind::Recording,
            true,
            d("2016-01-15"),
        )
        .unwrap()],
        ..Default::default()
    }
}

/// The per-SKU contract of [`recoup_inputs`] in 2016H2: no new costs, one statement
/// of `lines`.
fn second_half(lines: Vec<StatementLine>) -> RoyaltyInputs {
    let mut next = recoup_inputs(false);
    next.costs.clear();
    next.entries = vec![statement("s2", "allegro", "2016-12-31", lines)];
    next
}

#[test]
fn recoupment_cross_collateralized() {
    let r = run(&recoup_inputs(true), "2016H1", &OpeningBalances::default());
    let s = stmt(&r, "c", "ann");
    assert_eq!(s.royalties, usd(10_000));
    assert_eq!(s.recouped, usd(10_000));
    assert_eq!(s.payable, usd(0));
    assert_eq!(s.closing_balance, usd(-20_000));
    assert_eq!(s.unrecouped, usd(20_000));
    assert_eq!(r.closing.accounts.len(), 1);
    assert_eq!(r.closing.accounts[0].pool, None);
}

#[test]
fn recoupment_per_sku() {
    let r = run(&recoup_inputs(false), "2016H1", &OpeningBalances::default());
    let s = stmt(&r, "c", "ann");
    assert_eq!(s.payable, usd(10_000));
    assert_eq!(s.recouped, usd(0));
    assert_eq!(s.unrecouped, usd(30_000));
    assert_eq!(r.closing.accounts[0].pool, Some(sku("B")));
    assert_eq!(r.closing.accounts[0].balance, usd(-30_000));
    // the carried deficit on B is recouped only from B
    let next = second_half(vec![
        line(LineKind::Sale, "A", 1, 50_000),
        line(LineKind::Sale, "B", 1, 50_000),
    ]);
    let r2 = run(&next, "2016H2", &r.closing);
    let s2 = stmt(&r2, "c", "ann");
    assert_eq!(s2.opening_balance, usd(-30_000));
    assert_eq!(s2.recouped, usd(5_000));
    assert_eq!(s2.payable, usd(5_000));
    assert_eq!(s2.unrecouped, usd(25_000));
}

/// A reserve on a per-SKU contract is held from the SKU's own royalties: what the
/// statement calls recouped is what came off the SKU's cost, and costs − recouped is
/// what stays unrecouped (reviewer's case: 20.00 earned on a SKU with a 500.00 cost,
/// 10 % reserve: 18.00 recouped, 482.00 unrecouped — not 20.00 and 482.00).
#[test]
fn a_reserve_on_a_per_sku_contract_is_held_from_the_skus_royalties() {
    let mut inputs = recoup_inputs(false);
    inputs.contracts = {
        let mut t = terms("c", &[("ann", "1")], &["A", "B"], Base::NetReceipts, "0.1");
        t.cross_collateralized = false;
        t.reserve_rate = rate("0.1");
        t.reserve_release_periods = 1;
        vec![Contract::new(t).unwrap()]
    };
    inputs.entries = vec![statement(
        "s",
        "allegro",
        "2016-06-30",
        vec![line(LineKind::Sale, "B", 10, 200_000)],
    )];
    let r = run(&inputs, "2016H1", &OpeningBalances::default());
    let s = stmt(&r, "c", "ann");
    assert_eq!(s.royalties, usd(20_000));
    assert_eq!(s.reserve_held, usd(2_000));
    assert_eq!(s.recouped, usd(18_000));
    assert_eq!(s.unrecouped, usd(12_000));
    assert_eq!(
        s.costs_charged.minor() - s.recouped.minor(),
        s.unrecouped.minor()
    );
    assert_eq!(r.closing.reserves.len(), 1);
    assert_eq!(r.closing.reserves[0].pool, Some(sku("B")));
    // Released the next period, it goes back to B's pool (recoups B's cost), not to
    // the payee past B's unrecouped cost.
    let mut next = second_half(vec![]);
    next.contracts = inputs.contracts.clone();
    let r2 = run(&next, "2016H2", &r.closing);
    let s2 = stmt(&r2, "c", "ann");
    assert_eq!(s2.reserve_released, usd(2_000));
    assert_eq!((s2.payable, s2.recouped), (usd(0), usd(2_000)));
    assert_eq!(s2.unrecouped, usd(10_000));
}

#[test]
fn a_contract_wide_cost_on_a_per_sku_contract_is_recouped_and_says_so() {
    // Not cross-collateralized, but the advance names no SKU: A's royalties flow into
    // the contract-wide pool and recoup it — the statement says what was recouped.
    let mut inputs = recoup_inputs(false);
    inputs.costs = vec![Cost::new(
        "c",
        None,
        usd(30_000),
        CostKind::Advance,
        true,
        d("2016-01-15"),
    )
    .unwrap()];
    let r = run(&inputs, "2016H1", &OpeningBalances::default());
    let s = stmt(&r, "c", "ann");
    assert_eq!(s.royalties, usd(10_000));
    assert_eq!(s.recouped, usd(10_000));
    assert_eq!(s.payable, usd(0));
    assert_eq!(s.closing_balance, usd(-20_000));
    // The next period, from the carried deficit: recouped again, then payable.
    let next = second_half(vec![line(LineKind::Sale, "A", 1, 250_000)]);
    let r2 = run(&next, "2016H2", &r.closing);
    let s2 = stmt(&r2, "c", "ann");
    assert_eq!(s2.opening_balance, usd(-20_000));
    assert_eq!(s2.recouped, usd(20_000));
    assert_eq!(s2.payable, usd(5_000));
    assert_eq!(
        s2.opening_balance.minor() + s2.royalties.minor() - s2.payable.minor(),
        s2.closing_balance.minor(),
        "the statement's own lines add up"
    );
}

#[test]
fn a_sku_the_catalog_calls_digital_earns_the_digital_rate_from_any_statement() {
    // A canonical statement has no channel column: its lines come in as physical. The
    // catalog says "Digital", so the digital rule (25%) applies, not the physical 18%,
    // and no reserve is held on it (reserves are held on physical royalties).
    let mut t = terms(
        "c",
        &[("ann", "1")],
        &["DL", "CD"],
        Base::NetReceipts,
        "0.18",
    );
    t.rules.push(RateRule {
        channel: Some(Channel::Digital),
        format: None,
        base: Base::NetReceipts,
        rate: rate("0.25"),
        territory: None,
        service: None,
    });
    t.reserve_rate = rate("0.2");
    t.reserve_release_periods = 1;
    let inputs = RoyaltyInputs {
        entries: vec![
            catalog("DL", "Digital", 700),
            catalog("CD", "CD", 700),
            statement(
                "s",
                "allegro",
                "2016-06-30",
                vec![
                    line(LineKind::Sale, "DL", 10, 10_000),
                    line(LineKind::Sale, "CD", 10, 10_000),
                ],
            ),
        ],
        contracts: vec![Contract::new(t).unwrap()],
        payees: vec![payee("ann")],
        ..Default::default()
    };
    let r = run(&inputs, "2016H1", &OpeningBalances::default());
    let s = stmt(&r, "c", "ann");
    assert_eq!(s.royalties, usd(2_500 + 1_800));
    assert_eq!(s.reserve_held, usd(360), "20% of the CD's 18.00 only");
    let digital = s.earnings.iter().find(|e| e.sku == sku("DL")).unwrap();
    assert_eq!(digital.channel, Channel::Digital);
}

#[test]
fn reserves_held_and_released_after_n_periods() {
    let mut t = terms("c", &[("ann", "1")], &["A"], Base::NetReceipts, "0.1");
    t.reserve_rate = rate("0.2");
    t.reserve_release_periods = 2;
    let inputs = RoyaltyInputs {
        entries: vec![statement(
            "s",
            "allegro",
            "2016-03-31",
            vec![line(LineKind::Sale, "A", 10, 100_000)],
        )],
        contracts: vec![Contract::new(t).unwrap()],
        payees: vec![payee("ann")],
        ..Default::default()
    };
    let r1 = run(&inputs, "2016H1", &OpeningBalances::default());
    let s1 = stmt(&r1, "c", "ann");
    assert_eq!(
        (s1.royalties, s1.reserve_held, s1.payable),
        (usd(10_000), usd(2_000), usd(8_000))
    );
    assert_eq!(r1.closing.reserves.len(), 1);
    let r2 = run(&inputs, "2016H2", &r1.closing);
    let s2 = stmt(&r2, "c", "ann");
    assert_eq!(
        (s2.reserve_released, s2.payable, s2.reserves_outstanding),
        (usd(0), usd(0), usd(2_000))
    );
    let r3 = run(&inputs, "2017H1", &r2.closing);
    let s3 = stmt(&r3, "c", "ann");
    assert_eq!((s3.reserve_released, s3.payable), (usd(2_000), usd(2_000)));
    assert!(r3.closing.reserves.is_empty());
}

#[test]
fn min_payout_carried_forward() {
    let mut t = terms("c", &[("ann", "1")], &["A"], Base::NetReceipts, "0.1");
    t.min_payout = usd(5_000);
    let c = Contract::new(t).unwrap();
    let inputs = RoyaltyInputs {
        entries: vec![
            statement(
                "s1",
                "allegro",
                "2016-03-31",
                vec![line(LineKind::Sale, "A", 1, 30_000)],
            ),
            statement(
                "s2",
                "allegro",
                "2016-09-30",
                vec![line(LineKind::Sale, "A", 1, 30_000)],
            ),
        ],
        contracts: vec![c],
        payees: vec![payee("ann")],
        ..Default::default()
    };
    let r1 = run(&inputs, "2016H1", &OpeningBalances::default());
    let s1 = stmt(&r1, "c", "ann");
    assert_eq!((s1.payable, s1.closing_balance), (usd(0), usd(3_000)));
    assert!(s1.carried_below_minimum);
    let r2 = run(&inputs, "2016H2", &r1.closing);
    let s2 = stmt(&r2, "c", "ann");
    assert_eq!(
        (s2.opening_balance, s2.royalties, s2.payable),
        (usd(3_000), usd(3_000), usd(6_000))
    );
    assert!(!s2.carried_below_minimum);
    assert!(r2.closing.accounts.is_empty());
}

#[test]
fn earned_vs_collected_partial_payment_and_default() {
    let mut earned = terms("e", &[("ann", "1")], &["A"], Base::NetReceipts, "0.2");
    earned.skus = vec![sku("A")];
    let mut collected = terms("k", &[("bob", "1")], &["A"], Base::NetReceipts, "0.2");
    collected.basis = Basis::Collected;
    let mut inputs = RoyaltyInputs {
        entries: vec![
            statement(
                "s1",
                "allegro",
                "2016-03-31",
                vec![line(LineKind::Sale, "A", 10, 100_000)],
            ),
            statement(
                "s0",
                "allegro",
                "2016-01-31",
                vec![line(LineKind::Sale, "A", 1, 10_000)],
            ),
            // named payment: 400 to s1; unnamed 100 to the oldest (s0)
            payment("p1", "allegro", "2016-05-01", 40_000, Some("s1")),
            payment("p2", "allegro", "2016-05-02", 10_000, None),
        ],
        contracts: vec![
            Contract::new(earned).unwrap(),
            Contract::new(collected).unwrap(),
        ],
        payees: vec![payee("ann"), payee("bob")],
        ..Default::default()
    };
    inputs.defaulted_distributors.insert(party("allegro"));
    let r = run(&inputs, "2016H1", &OpeningBalances::default());
    let ann = stmt(&r, "e", "ann");
    assert_eq!(ann.royalties, usd(22_000));
    assert_eq!(ann.earned_not_collected, usd(12_000));
    assert_eq!(ann.earned_not_collected_in_default, usd(12_000));
    assert_eq!(ann.uncollected.len(), 1);
    assert_eq!(ann.uncollected[0].statement_id, "s1");
    assert!(ann.uncollected[0].distributor_in_default);
    let bob = stmt(&r, "k", "bob");
    assert_eq!(bob.royalty_earned, usd(22_000));
    assert_eq!(bob.royalties, usd(10_000)); // 2000 (s0 in full) + 8000 (40% of s1)
    assert_eq!(bob.payable, usd(10_000));
    // the rest is paid next period: collected basis recognizes it then
    inputs
        .entries
        .push(payment("p3", "allegro", "2016-08-01", 60_000, None));
    let r2 = run(&inputs, "2016H2", &r.closing);
    let bob2 = stmt(&r2, "k", "bob");
    assert_eq!((bob2.royalty_earned, bob2.royalties), (usd(0), usd(12_000)));
    assert_eq!(bob2.earned_not_collected, usd(0));
    assert_eq!(stmt(&r2, "e", "ann").royalties, usd(0));
}

#[test]
fn errors_not_panics() {
    assert!(Payee::new(party("a"), " ", "a@b.c", "").is_err());
    assert!(Payee::new(party("a"), "A", "nope", "").is_err());
    assert!(Cost::new("c", None, usd(0), CostKind::Advance, true, d("2016-01-01")).is_err());
    let inputs = RoyaltyInputs {
        contracts: vec![Contract::new(terms(
            "c",
            &[("ghost", "1")],
            &["A"],
            Base::NetReceipts,
            "0.1",
        ))
        .unwrap()],
        ..Default::default()
    };
    assert!(matches!(
        compute(&inputs, &h("2016H1"), &OpeningBalances::default()),
        Err(RoyaltyError::UnknownPayee { .. })
    ));
}

#[test]
fn serializes_snake_case() {
    let r = run(&recoup_inputs(true), "2016H1", &OpeningBalances::default());
    let j = serde_json::to_string(&r).unwrap();
    assert!(j.contains("\"period\":\"2016H1\""));
    assert!(j.contains("\"tie_out\""));
    assert!(j.contains("\"basis\":\"earned\""));
    assert!(j.contains("\"kind\":\"recording\""));
}

proptest! {
    #[test]
    fn tie_out_holds(
        lines in prop::collection::vec((0usize..7, 0usize..3, 0i64..50, -1_000_000i64..10_000_000, any::<bool>()), 0..25),
        r1 in 0u32..=1_000_000,
        r2 in 0u32..=1_000_000,
        split in 0u32..=1_000_000,
        paid in 0i64..20_000_000,
    ) {
        let skus = ["A", "B", "C"];
        let st_lines = lines.iter().map(|&(k, s, u, a, digital)| StatementLine {
            kind: LineKind::ALL[k],
            sku: Some(sku(skus[s])),
            units: u,
            amount_minor: a,
            channel: if digital { Channel::Digital } else { Channel::Physical },
        }).collect();
        let mut t1 = terms("c1", &[("ann", "1")], &["A", "B"], Base::NetReceipts, "0");
        t1.payees = vec![(party("ann"), Rate::from_ppm(split).unwrap()), (party("bob"), Rate::from_ppm(1_000_000 - split).unwrap())];
        t1.rules[0].rate = Rate::from_ppm(r1).unwrap();
        t1.rules.push(RateRule { channel: Some(Channel::Physical), format: Some("lp".into()), base: Base::PpdPerUnit, rate: Rate::from_ppm(r2).unwrap(), territory: None, service: None });
        let mut t2 = terms("c2", &[("cy", "1")], &["B", "C"], Base::NetProfitSplit, "0.5");
        t2.basis = Basis::Collected;
        let inputs = RoyaltyInputs {
            entries: vec![
                catalog("A", "LP", 777),
                catalog("B", "CD", 555),
                statement("s", "allegro", "2016-02-29", st_lines),
                payment("p", "allegro", "2016-03-15", paid, Some("s")),
            ],
            contracts: vec![Contract::new(t1).unwrap(), Contract::new(t2).unwrap()],
            payees: vec![payee("ann"), payee("bob"), payee("cy")],
            ..Default::default()
        };
        let r = compute(&inputs, &h("2016H1"), &OpeningBalances::default()).unwrap();
        for t in &r.tie_out {
            prop_assert!(t.ok, "{:?}", t);
            prop_assert_eq!(
                t.receipts.minor(),
                t.payee_royalties.minor() + t.rounding_to_label.minor() + t.label_share.minor() + t.distributor_reserves.minor()
            );
        }
        for s in &r.statements {
            let row_sum: i64 = s.earnings.iter().map(|e| e.royalty_earned.minor()).sum();
            prop_assert_eq!(row_sum, s.royalty_earned.minor());
        }
    }
}

/// Issue 17.2: earned royalties from statement lines. A ledger line's lines split over
/// territories give the run's earned royalty exactly when no rule names a territory;
/// with a territory rule each rule's lines are rounded once (HalfEven) and split toward
/// zero; the run itself refuses such a contract, naming it.
#[test]
fn earned_from_lines_equals_the_run_and_applies_territory_rules() {
    use backstock_royalties::lines::{earned_from_lines, Cell, LineCells};
    let digital = |kind, s: &str, units, amount| StatementLine {
        channel: Channel::Digital,
        ..line(kind, s, units, amount)
    };
    let entries = vec![
        catalog("A", "ALBUM", 700),
        statement(
            "S1",
            "dist0",
            "2016-03-31",
            vec![
                digital(LineKind::Sale, "A", 7, 1003),
                digital(LineKind::Return, "A", 1, 101),
            ],
        ),
    ];
    let p = Period::parse("2016Q1").unwrap();
    let mut journal = Journal::new(p.end());
    for e in &entries {
        journal.push(e.clone());
    }
    let cell = |t: &str, units, amount| Cell {
        territory: Some(t.into()),
        service: Some("GenStore".into()),
        lines: 1,
        units,
        amount_minor: amount,
    };
    let cells = vec![
        LineCells {
            statement: 0,
            sku: sku("A"),
            kind: LineKind::Sale,
            channel: Channel::Digital,
            cells: vec![cell("US", 4, 501), cell("GB", 3, 502)],
        },
        LineCells {
            statement: 0,
            sku: sku("A"),
            kind: LineKind::Return,
            channel: Channel::Digital,
            cells: vec![cell("US", 1, 101)],
        },
    ];
    let flat = Contract::new(terms(
        "c1",
        &[("ann", "0.6"), ("bo", "0.4")],
        &["A"],
        Base::NetReceipts,
        "0.175",
    ))
    .unwrap();
    let inputs = RoyaltyInputs {
        entries: entries.clone(),
        contracts: vec![flat.clone()],
        payees: vec![payee("ann"), payee("bo")],
        ..Default::default()
    };
    let run = compute(&inputs, &p, &OpeningBalances::default()).unwrap();
    let from_lines = earned_from_lines(&journal, &[flat], &p, &cells).unwrap();
    let product: Vec<(String, i64)> = run
        .statements
        .iter()
        .map(|s| (s.payee_id.to_string(), s.royalty_earned.minor()))
        .collect();
    let lines: Vec<(String, i64)> = from_lines
        .rows
        .iter()
        .map(|r| (r.payee_id.to_string(), r.royalty_earned.minor()))
        .collect();
    assert_eq!(product, lines);
    // 1003 × 17.5% = 175.525 → 176; −101 × 17.5% = −17.675 → −18; 60% toward zero: 105 − 10.
    assert_eq!(product, [("ann".into(), 95), ("bo".into(), 63)]);

    // US at 25%: sale US 501 → 125.25 → 125; sale GB 502 at 17.5% → 87.85 → 88;
    // return US −101 at 25% → −25.25 → −25. Split 60/40 toward zero per line.
    let mut t = terms(
        "c1",
        &[("ann", "0.6"), ("bo", "0.4")],
        &["A"],
        Base::NetReceipts,
        "0.175",
    );
    t.rules.push(RateRule {
        channel: Some(Channel::Digital),
        format: None,
        base: Base::NetReceipts,
        rate: rate("0.25"),
        territory: Some("us".into()),
        service: None,
    });
    let by_territory = Contract::new(t).unwrap();
    let r = earned_from_lines(&journal, std::slice::from_ref(&by_territory), &p, &cells).unwrap();
    let ann: i64 = (125 * 6 / 10) + (88 * 6 / 10) + (-25 * 6 / 10);
    let bo: i64 = (125 * 4 / 10) + (88 * 4 / 10) + (-25 * 4 / 10);
    assert_eq!(
        r.rows
            .iter()
            .map(|r| r.royalty_earned.minor())
            .collect::<Vec<_>>(),
        [ann, bo]
    );
    let e = compute(
        &RoyaltyInputs {
            contracts: vec![by_territory],
            ..inputs
        },
        &p,
        &OpeningBalances::default(),
    )
    .unwrap_err();
    assert!(
        e.to_string()
            .starts_with("contract c1 has a rate by territory or service (digital@us)"),
        "{e}"
    );
}

/// An advance the label paid to a duo is charged to them whole: the cent that
/// rounding the 33.33 % / 66.67 % split leaves over goes to the share it cut most,
/// never to no one (the run posts exactly what the label paid as cash → advance).
#[test]
fn an_advance_split_between_payees_is_charged_to_the_cent() {
    let t = terms(
        "duo",
        &[("ana", "0.3333"), ("ben", "0.6667")],
        &["A"],
        Base::NetReceipts,
        "0.1",
    );
    let inputs = RoyaltyInputs {
        entries: vec![],
        contracts: vec![Contract::new(t).unwrap()],
        payees: vec![payee("ana"), payee("ben")],
        costs: vec![Cost::new(
            "duo",
            None,
            usd(50_001),
            CostKind::Advance,
            true,
            d("2016-01-15"),
        )
        .unwrap()],
        ..Default::default()
    };
    let r = run(&inputs, "2016H1", &OpeningBalances::default());
    let ana = stmt(&r, "duo", "ana");
    let ben = stmt(&r, "duo", "ben");
    assert_eq!(ana.costs_charged, usd(16_665));
    assert_eq!(ben.costs_charged, usd(33_336));
    assert_eq!(ana.unrecouped.minor() + ben.unrecouped.minor(), 50_001);
}

/// A statement collected in a locked quarter, reversed and reissued since, on a
/// collected-basis contract: its payment must not slide onto another statement of the
/// locked quarter that the previous run never credited. The charge-back takes back
/// exactly what was collected on it, the reissue earns and collects anew, and the other
/// statement's own payment is credited when it comes (reviewer's case: 20 % of 100.00,
/// then of 50.00 — 30.00 in all, 10.00 in the second quarter).
#[test]
fn a_reversed_statement_collected_in_a_locked_period_keeps_other_collections() {
    let mut t = terms("k", &[("pa", "1")], &["A"], Base::NetReceipts, "0.2");
    t.basis = Basis::Collected;
    let st = |id: &str, end: &str, issued: &str, minor: i64| -> Statement {
        match statement(id, "dist", end, vec![line(LineKind::Sale, "A", 10, minor)]).event {
            Event::Statement(mut s) => {
                s.issued_on = d(issued);
                s
            }
            _ => unreachable!(),
        }
    };
    let pay = |id: &str, on: &str, minor: i64, sid: &str| payment(id, "dist", on, minor, Some(sid));
    let inputs = RoyaltyInputs {
        contracts: vec![Contract::new(t).unwrap()],
        payees: vec![payee("pa")],
        ..Default::default()
    };
    // Q1: D-01 (January, 100.00) paid 02-20; D-02 (February, 50.00) not yet paid.
    let q1 = h("2016Q1");
    let mut j1 = Journal::new(q1.end());
    j1.push_statement(
        st("D-01", "2016-01-31", "2016-02-05", 10_000),
        d("2016-02-05"),
    );
    j1.push_statement(
        st("D-02", "2016-02-29", "2016-03-05", 5_000),
        d("2016-03-05"),
    );
    j1.push(pay("P1", "2016-02-20", 10_000, "D-01"));
    let r1 = compute_journal(&j1, &inputs, &q1, &OpeningBalances::default()).unwrap();
    assert_eq!(stmt(&r1, "k", "pa").royalties, usd(2_000));
    // Q2: D-01 reversed (charged back), reissued as D-01R; D-02 paid 04-10.
    let q2 = h("2016Q2");
    let mut j2 = Journal::new(q2.end());
    j2.push_charge_back(
        st("D-01", "2016-01-31", "2016-02-05", 10_000),
        d("2016-02-05"),
        q2.start(),
    );
    j2.push_statement(
        st("D-02", "2016-02-29", "2016-03-05", 5_000),
        d("2016-03-05"),
    );
    j2.push_statement(
        st("D-01R", "2016-01-31", "2016-05-05", 10_000),
        d("2016-05-05"),
    );
    j2.push(pay("P1", "2016-02-20", 10_000, "D-01"));
    j2.push(pay("P2", "2016-04-10", 5_000, "D-02"));
    let r2 = compute_journal(&j2, &inputs, &q2, &r1.closing).unwrap();
    let pa = stmt(&r2, "k", "pa");
    assert_eq!(pa.royalty_earned, usd(0), "{pa:?}"); // −20.00 charged back, +20.00 reissued
    assert_eq!(pa.royalties, usd(1_000), "{pa:?}"); // D-02's 10.00; D-01's 20.00 moved to D-01R
    assert_eq!(pa.earned_not_collected, usd(0), "{pa:?}");
    assert!(r2.tie_out.iter().all(|t| t.ok), "{:?}", r2.tie_out);
}

/// An advance in USD recoups only from USD royalties (nothing is converted): royalties
/// the same contract earns in EUR are held — carried, not paid — while the USD advance
/// is unrecouped, and paid once it is recouped. A per-SKU contract's deficit of one
/// SKU's own costs holds nothing back (warned).
#[test]
fn royalties_in_another_currency_are_held_while_the_advance_is_unrecouped() {
    let eur = Currency::parse("EUR").unwrap();
    let eur_statement = |id: &str, end: &str, minor: i64| {
        let mut e = statement(
            id,
            "eurodisc",
            end,
            vec![line(LineKind::Sale, "A", 10, minor)],
        );
        if let Event::Statement(st) = &mut e.event {
            st.currency = eur;
        }
        e
    };
    let c = Contract::new(terms(
        "c",
        &[("ann", "1")],
        &["A"],
        Base::NetReceipts,
        "0.1",
    ))
    .unwrap();
    let advance = |minor: i64| {
        Cost::new(
            "c",
            None,
            usd(minor),
            CostKind::Advance,
            true,
            d("2016-01-15"),
        )
        .unwrap()
    };
    let inputs = RoyaltyInputs {
        entries: vec![
            statement(
                "u1",
                "allegro",
                "2016-03-31",
                vec![line(LineKind::Sale, "A", 10, 10_000)],
            ),
            eur_statement("e1", "2016-03-31", 50_000),
            statement(
                "u2",
                "allegro",
                "2016-09-30",
                vec![line(LineKind::Sale, "A", 10, 300_000)],
            ),
        ],
        contracts: vec![c],
        payees: vec![payee("ann")],
        costs: vec![advance(20_000)],
        ..Default::default()
    };
    // 2016H1: USD 10.00 earned against a 200.00 advance (−190.00); EUR 50.00 earned:
    // held, not paid.
    let r1 = run(&inputs, "2016H1", &OpeningBalances::default());
    let usd_s = r1
        .statements
        .iter()
        .find(|s| s.currency == Currency::USD)
        .unwrap();
    let eur_s = r1.statements.iter().find(|s| s.currency == eur).unwrap();
    assert_eq!(usd_s.unrecouped, usd(19_000));
    assert_eq!(eur_s.payable, Money::zero(eur));
    assert_eq!(eur_s.closing_balance, Money::from_minor(5_000, eur));
    assert_eq!(eur_s.held_for_unrecouped, vec![usd(19_000)]);
    assert!(
        r1.warnings
            .iter()
            .any(|w| w.contains("50.00 EUR payable to ann is held")
                && w.contains("unrecouped by 190.00 USD")),
        "{:?}",
        r1.warnings
    );
    // 2016H2: USD 300.00 earned recoups the advance; the EUR balance carried is paid.
    let r2 = run(&inputs, "2016H2", &r1.closing);
    let eur_s = r2.statements.iter().find(|s| s.currency == eur).unwrap();
    assert_eq!(eur_s.opening_balance, Money::from_minor(5_000, eur));
    assert_eq!(eur_s.payable, Money::from_minor(5_000, eur));
    assert!(eur_s.held_for_unrecouped.is_empty());
    let usd_s = r2
        .statements
        .iter()
        .find(|s| s.currency == Currency::USD)
        .unwrap();
    assert_eq!(usd_s.payable, usd(30_000 - 19_000));

    // Recouped per SKU, the USD cost of SKU B holds back nothing of A's EUR royalties.
    let mut t = terms("p", &[("ann", "1")], &["A", "B"], Base::NetReceipts, "0.1");
    t.cross_collateralized = false;
    let per_sku = RoyaltyInputs {
        entries: vec![eur_statement("e1", "2016-03-31", 50_000)],
        contracts: vec![Contract::new(t).unwrap()],
        payees: vec![payee("ann")],
        costs: vec![Cost::new(
            "p",
            Some(sku("B")),
            usd(20_000),
            CostKind::Recording,
            true,
            d("2016-01-15"),
        )
        .unwrap()],
        ..Default::default()
    };
    let r = run(&per_sku, "2016H1", &OpeningBalances::default());
    let eur_s = r.statements.iter().find(|s| s.currency == eur).unwrap();
    assert_eq!(eur_s.payable, Money::from_minor(5_000, eur));
    assert!(
        r.warnings
            .iter()
            .any(|w| w.contains("unrecouped by 200.00 USD of their own costs")),
        "{:?}",
        r.warnings
    );
}

/// A band member dropped by a new version of the contract still has the reserve held
/// from their royalties released to them when due, on a statement of their own.
#[test]
fn a_payee_dropped_by_a_new_version_gets_their_reserve_released() {
    let mut v1 = terms(
        "band",
        &[("ann", "0.5"), ("bob", "0.5")],
        &["A"],
        Base::NetReceipts,
        "0.2",
    );
    v1.reserve_rate = rate("0.1");
    v1.reserve_release_periods = 1;
    let mut v2 = terms("band", &[("ann", "1")], &["A"], Base::NetReceipts, "0.2");
    v2.reserve_rate = rate("0.1");
    v2.reserve_release_periods = 1;
    let mut inputs = RoyaltyInputs {
        entries: vec![statement(
            "s1",
            "allegro",
            "2016-03-31",
            vec![line(LineKind::Sale, "A", 10, 100_000)],
        )],
        contracts: vec![Contract::new(v1).unwrap()],
        payees: vec![payee("ann"), payee("bob")],
        ..Default::default()
    };
    // 2016H1: 1000.00 × 20% = 200.00, 100.00 each; 10.00 each held.
    let r1 = run(&inputs, "2016H1", &OpeningBalances::default());
    assert_eq!(stmt(&r1, "band", "bob").reserve_held, usd(1_000));
    // 2016H2 under the new version (ann alone): bob's 10.00 is released to bob.
    inputs.contracts = vec![Contract::new(v2).unwrap()];
    let r2 = run(&inputs, "2016H2", &r1.closing);
    let bob = stmt(&r2, "band", "bob");
    assert_eq!(bob.reserve_released, usd(1_000));
    assert_eq!(bob.payable, usd(1_000));
    assert!(
        !r2.warnings.iter().any(|w| w.contains("no such account")),
        "{:?}",
        r2.warnings
    );
    assert!(r2
        .closing
        .reserves
        .iter()
        .all(|r| r.payee_id.as_str() != "bob"));
}
