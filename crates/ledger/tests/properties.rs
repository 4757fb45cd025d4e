//! Property tests for the ledger's invariants:
//! * debits = credits on every ledger after any sequence of events;
//! * every non-title event leaves each owner's units of each SKU unchanged;
//! * a refused entry changes nothing;
//! * replaying the recorded postings gives the same balances;
//! * resubmitting a transfer id is idempotent.

use backstock_domain::{Currency, Date, Money, PartyId, Sku};
use backstock_ledger::engine::{
    AccountFlags, Engine, LedgerId, Transfer, TransferError, TransferFlags, TransferId,
};
use backstock_ledger::{
    AccountKey, Book, Entry, EntryId, Event, LineKind, Posting, Provenance, Statement,
    StatementLine,
};
use proptest::prelude::*;
use std::collections::BTreeMap;

#[derive(Debug, Clone)]
enum Op {
    Make {
        sku: usize,
        units: u64,
    },
    Ship {
        from: usize,
        to: usize,
        sku: usize,
        units: u64,
    },
    Detain {
        holder: usize,
        sku: usize,
        units: i64,
    },
    Statement {
        dist: usize,
        lines: Vec<(usize, u8, i64, i64)>,
    },
    Pay {
        dist: usize,
        minor: i64,
    },
    WriteOff {
        holder: usize,
        sku: usize,
        units: u64,
    },
    Correct {
        target: usize,
    },
    Deduct {
        dist: usize,
        minor: i64,
    },
    WriteOffReceivable {
        dist: usize,
        minor: i64,
    },
    BuyBack {
        holder: usize,
        sku: usize,
        units: u64,
        detained: bool,
        paid_minor: i64,
    },
}

const HOLDERS: [&str; 3] = ["label", "allegro", "redeye"];

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        (0usize..3, 1u64..500).prop_map(|(sku, units)| Op::Make { sku, units }),
        (0usize..3, 0usize..3, 0usize..3, 1u64..300).prop_map(|(from, to, sku, units)| Op::Ship {
            from,
            to,
            sku,
            units
        }),
        (1usize..3, 0usize..3, -20i64..20).prop_map(|(holder, sku, units)| Op::Detain {
            holder,
            sku,
            units
        }),
        (
            1usize..3,
            prop::collection::vec((0usize..3, 0u8..7, -50i64..200, -10_000i64..100_000), 0..6)
        )
            .prop_map(|(dist, lines)| Op::Statement { dist, lines }),
        (1usize..3, -1000i64..100_000).prop_map(|(dist, minor)| Op::Pay { dist, minor }),
        (0usize..3, 0usize..3, 1u64..50).prop_map(|(holder, sku, units)| Op::WriteOff {
            holder,
            sku,
            units
        }),
        (0usize..40).prop_map(|target| Op::Correct { target }),
        (1usize..3, -100i64..5_000).prop_map(|(dist, minor)| Op::Deduct { dist, minor }),
        (1usize..3, -100i64..50_000)
            .prop_map(|(dist, minor)| Op::WriteOffReceivable { dist, minor }),
        (
            0usize..3,
            0usize..3,
            1u64..100,
            any::<bool>(),
            -100i64..10_000
        )
            .prop_map(|(holder, sku, units, detained, paid_minor)| Op::BuyBack {
                holder,
                sku,
                units,
                detained,
                paid_minor
            }),
    ]
}

fn p(s: &str) -> PartyId {
    PartyId::parse(s).unwrap()
}
fn sku(i: usize) -> Sku {
    Sku::parse(&format!("CAT-{i}")).unwrap()
}

fn entry(n: usize, event: Event) -> Entry {
    let d = Date::parse("2016-01-01").unwrap().add_days(n as i32);
    Entry {
        id: EntryId::new(format!("e{n}")).unwrap(),
        effective_on: d,
        known_on: d,
        provenance: Provenance::Demo,
        event,
    }
}

fn to_event(op: &Op, history: &[(Entry, Vec<Posting>)]) -> Option<Event> {
    let usd = Currency::USD;
    Some(match op {
        Op::Make { sku: s, units } => Event::Manufacture {
            run_id: "r".into(),
            plant: p("plant:optimal"),
            to: p("label"),
            sku: sku(*s),
            units: *units,
        },
        Op::Ship {
            from,
            to,
            sku: s,
            units,
        } => Event::Shipment {
            shipment_id: "s".into(),
            from: p(HOLDERS[*from]),
            to: p(HOLDERS[*to]),
            sku: sku(*s),
            units: *units,
            po_number: None,
            override_reason: None,
        },
        Op::Detain {
            holder,
            sku: s,
            units,
        } => Event::Detention {
            holder: p(HOLDERS[*holder]),
            sku: sku(*s),
            units: *units,
            reason: "estate".into(),
        },
        Op::Statement { dist, lines } => Event::Statement(Statement {
            statement_id: "st".into(),
            distributor: p(HOLDERS[*dist]),
            period_start: Date::parse("2016-01-01").unwrap(),
            period_end: Date::parse("2016-01-31").unwrap(),
            issued_on: Date::parse("2016-02-15").unwrap(),
            currency: usd,
            lines: lines
                .iter()
                .map(|(s, k, units, amount)| StatementLine {
                    kind: LineKind::ALL[*k as usize],
                    sku: Some(sku(*s)),
                    units: *units,
                    amount_minor: if LineKind::ALL[*k as usize] == LineKind::ReserveReleased {
                        amount.abs()
                    } else {
                        *amount
                    },
                    channel: Default::default(),
                })
                .collect(),
        }),
        Op::Pay { dist, minor } => Event::PaymentReceived {
            payment_id: "pay".into(),
            distributor: p(HOLDERS[*dist]),
            amount: Money::from_minor(*minor, usd),
            statement_id: None,
        },
        Op::WriteOff {
            holder,
            sku: s,
            units,
        } => Event::WriteOff {
            holder: p(HOLDERS[*holder]),
            sku: sku(*s),
            units: *units,
            reason: "damaged".into(),
        },
        Op::Deduct { dist, minor } => Event::DeductionAccepted {
            distributor: p(HOLDERS[*dist]),
            statement_id: "s".into(),
            amount: Money::from_minor(*minor, usd),
            reason: backstock_ledger::facts::DeductionReason::Freight,
            note: String::new(),
        },
        Op::WriteOffReceivable { dist, minor } => Event::ReceivableWrittenOff {
            distributor: p(HOLDERS[*dist]),
            statement_id: None,
            amount: Money::from_minor(*minor, usd),
            reason: "closed".into(),
        },
        Op::BuyBack {
            holder,
            sku: s,
            units,
            detained,
            paid_minor,
        } => Event::BuyBack {
            buyback_id: "bb".into(),
            holder: p(HOLDERS[*holder]),
            sku: sku(*s),
            units: *units,
            detained: *detained,
            paid: Money::from_minor(*paid_minor, usd),
            paid_to: "liquidator".into(),
        },
        Op::Correct { target } => {
            let (e, postings) = history.get(*target)?;
            Event::Correction {
                reverses: e.id.clone(),
                reason: "typo".into(),
                postings: postings.clone(),
            }
        }
    })
}

/// Units per (owner, sku), excluding nothing: origin accounts are negative so the
/// total per owner counts what was made.
fn owner_units(book: &Book) -> BTreeMap<(String, String), i128> {
    let mut m = BTreeMap::new();
    for (_, key, bal) in book.accounts() {
        if let AccountKey::Units(u) = key {
            *m.entry((u.owner().to_string(), u.sku().to_string()))
                .or_insert(0) += bal.net_debit();
        }
    }
    m.retain(|_, v| *v != 0);
    m
}

fn balances(book: &Book) -> Vec<(AccountKey, i128, u128, u128)> {
    let mut v: Vec<_> = book
        .accounts()
        .map(|(_, k, b)| {
            (
                k.clone(),
                b.net_debit(),
                b.debits_pending,
                b.credits_pending,
            )
        })
        .filter(|(_, n, dp, cp)| *n != 0 || *dp != 0 || *cp != 0)
        .collect();
    v.sort_by(|a, b| a.0.cmp(&b.0));
    v
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(300))]

    #[test]
    fn ledger_invariants(ops in prop::collection::vec(op(), 1..40)) {
        let mut book = Book::new();
        let mut history: Vec<(Entry, Vec<Posting>)> = Vec::new();
        for (n, op) in ops.iter().enumerate() {
            let Some(event) = to_event(op, &history) else { continue };
            let e = entry(n, event);
            // Every event reads back from its JSON exactly (the journal's body).
            let json = serde_json::to_string(&e).unwrap();
            prop_assert_eq!(&serde_json::from_str::<Entry>(&json).unwrap(), &e, "{}", json);
            let before_owner = owner_units(&book);
            let before = balances(&book);
            match book.record(&e) {
                Ok(rec) => {
                    if !e.event.is_title_event() {
                        prop_assert_eq!(&before_owner, &owner_units(&book), "owner changed by {:?}", e.event.name());
                    }
                    // Every unit posting of a non-title event keeps the owner.
                    for p in &rec.postings {
                        if let (AccountKey::Units(d), AccountKey::Units(c)) = (&p.debit, &p.credit) {
                            prop_assert!(e.event.is_title_event() || d.owner() == c.owner());
                        }
                    }
                    history.push((e, rec.postings));
                }
                Err(_) => prop_assert_eq!(&before, &balances(&book), "a refused entry changed balances"),
            }
            prop_assert!(book.is_balanced(), "debits != credits after {:?}", op);
        }
        // Replay: the recorded postings, applied to a fresh book, give the same balances.
        let mut replay = Book::new();
        for (e, postings) in &history {
            replay.apply_postings(e, postings.clone()).unwrap();
        }
        prop_assert_eq!(balances(&book), balances(&replay));
    }

    #[test]
    fn idempotent_transfer_ids(amounts in prop::collection::vec(1u64..1000, 1..50)) {
        let mut e = Engine::new();
        let a = e.create_account(LedgerId(1), AccountFlags::NONE);
        let b = e.create_account(LedgerId(1), AccountFlags::NONE);
        let batch: Vec<Transfer> = amounts.iter().enumerate().map(|(i, amount)| Transfer {
            id: TransferId(i as u128 + 1), debit: a, credit: b, amount: *amount,
            ledger: LedgerId(1), flags: TransferFlags::NONE, pending_id: TransferId(0),
        }).collect();
        prop_assert!(e.create_transfers(&batch).is_empty());
        let after_first = e.account(a).unwrap().balance;
        let again = e.create_transfers(&batch);
        prop_assert!(again.iter().all(|(_, err)| *err == TransferError::Exists));
        prop_assert_eq!(again.len(), batch.len());
        prop_assert_eq!(after_first, e.account(a).unwrap().balance);
        prop_assert_eq!(after_first.debits_posted, amounts.iter().map(|x| u128::from(*x)).sum::<u128>());
    }
}

#[test]
fn shipping_more_than_held_is_refused_with_reason() {
    let mut book = Book::new();
    book.record(&entry(
        0,
        Event::Manufacture {
            run_id: "r".into(),
            plant: p("plant:optimal"),
            to: p("label"),
            sku: sku(0),
            units: 100,
        },
    ))
    .unwrap();
    let err = book
        .record(&entry(
            1,
            Event::Shipment {
                shipment_id: "S-1".into(),
                from: p("label"),
                to: p("allegro"),
                sku: sku(0),
                units: 150,
                po_number: None,
                override_reason: None,
            },
        ))
        .unwrap_err();
    assert!(
        err.to_string()
            .contains("needs 150 units of CAT-0 from label, which holds only 100"),
        "{err}"
    );
}

#[test]
fn reserves_are_two_phase_and_released_oldest_first() {
    let mut book = Book::new();
    let st = |id: &str, kind: LineKind, amount: i64| {
        Event::Statement(Statement {
            statement_id: id.into(),
            distributor: p("allegro"),
            period_start: Date::parse("2016-01-01").unwrap(),
            period_end: Date::parse("2016-01-31").unwrap(),
            issued_on: Date::parse("2016-02-15").unwrap(),
            currency: Currency::USD,
            lines: vec![StatementLine {
                kind,
                sku: None,
                units: 0,
                amount_minor: amount,
                channel: Default::default(),
            }],
        })
    };
    book.record(&entry(0, st("a", LineKind::ReserveWithheld, 1000)))
        .unwrap();
    book.record(&entry(1, st("b", LineKind::ReserveWithheld, 500)))
        .unwrap();
    let rec = book
        .record(&entry(2, st("c", LineKind::ReserveReleased, 1200)))
        .unwrap();
    // 1000 posted from the first, 200 of the second, the remaining 300 rescheduled.
    assert_eq!(rec.postings.len(), 3);
    let reserve = book
        .accounts()
        .find(|(_, k, _)| matches!(k, AccountKey::Money(m) if m.kind() == backstock_ledger::MoneyKind::ReserveHeld))
        .map(|(_, _, b)| *b)
        .unwrap();
    assert_eq!(reserve.net_debit(), 300);
    assert_eq!(reserve.credits_pending, 300);
    assert!(book.is_balanced());
}

proptest! {
    /// A royalty run balances on its ledger whatever the (signed) amounts, moves no
    /// units, and leaves the advance account at costs charged − recouped.
    #[test]
    fn royalty_runs_balance(lines in prop::collection::vec((-50_000i64..50_000, 0i64..20_000, -20_000i64..20_000), 1..6)) {
        use backstock_ledger::{MoneyKind, RoyaltyPosting, RoyaltyRun};
        let usd = |m: i64| Money::from_minor(m, Currency::USD);
        let postings: Vec<RoyaltyPosting> = lines
            .iter()
            .enumerate()
            .map(|(i, (r, c, x))| RoyaltyPosting {
                contract_id: "C1".into(),
                payee: p(&format!("artist-{i}")),
                royalties: usd(*r),
                costs_charged: usd(*c),
                recouped: usd(*x),
            })
            .collect();
        let mut book = Book::new();
        let e = entry(0, Event::RoyaltyRun(RoyaltyRun {
            period: "2016H1".into(),
            period_start: Date::parse("2016-01-01").unwrap(),
            period_end: Date::parse("2016-06-30").unwrap(),
            postings,
            result: backstock_ledger::RunDocument::of(&serde_json::Value::Null).unwrap(),
        }));
        book.record(&e).unwrap();
        prop_assert!(book.is_balanced());
        prop_assert!(owner_units(&book).values().all(|u| *u == 0));
        for (i, (_, c, x)) in lines.iter().enumerate() {
            let adv: i128 = book
                .accounts()
                .filter(|(_, k, _)| matches!(k, AccountKey::Money(m) if m.kind() == MoneyKind::Advance && m.counterparty().as_str() == format!("artist-{i}")))
                .map(|(_, _, b)| b.net_debit())
                .sum();
            prop_assert_eq!(adv, i128::from(*c - *x));
        }
    }
}

#[test]
fn a_royalty_run_in_two_currencies_for_one_payee_is_refused() {
    use backstock_ledger::{RoyaltyPosting, RoyaltyRun};
    let eur = Currency::parse("EUR").unwrap();
    let e = entry(
        0,
        Event::RoyaltyRun(RoyaltyRun {
            period: "2016H1".into(),
            period_start: Date::parse("2016-01-01").unwrap(),
            period_end: Date::parse("2016-06-30").unwrap(),
            postings: vec![RoyaltyPosting {
                contract_id: "C1".into(),
                payee: p("june"),
                royalties: Money::from_minor(100, Currency::USD),
                costs_charged: Money::from_minor(100, eur),
                recouped: Money::from_minor(0, Currency::USD),
            }],
            result: backstock_ledger::RunDocument::of(&serde_json::Value::Null).unwrap(),
        }),
    );
    let err = Book::new().record(&e).unwrap_err().to_string();
    assert!(err.contains("two currencies"), "{err}");
}

/// Issue 19.1: an entry that would take the total recorded in a currency past the
/// limit is refused whole (the book unchanged), a book restored from its balances
/// judges the next entry the same way, and releasing pending reserves lowers the
/// total.
#[test]
fn entries_past_the_money_limit_are_refused_and_a_restored_book_agrees() {
    use backstock_ledger::book::LIMIT;
    let st = |id: &str, kind: LineKind, amount: i64| {
        Event::Statement(Statement {
            statement_id: id.into(),
            distributor: p("allegro"),
            period_start: Date::parse("2016-01-01").unwrap(),
            period_end: Date::parse("2016-01-31").unwrap(),
            issued_on: Date::parse("2016-02-15").unwrap(),
            currency: Currency::USD,
            lines: vec![StatementLine {
                kind,
                sku: None,
                units: 0,
                amount_minor: amount,
                channel: Default::default(),
            }],
        })
    };
    let big = Money::LIMIT_MINOR / 10 * 6; // 6e14
    let mut book = Book::new();
    book.record(&entry(0, st("a", LineKind::Adjustment, big)))
        .unwrap();
    let before: Vec<_> = balances(&book);
    let err = book
        .record(&entry(1, st("b", LineKind::Adjustment, big)))
        .unwrap_err();
    let msg = err.to_string();
    assert!(matches!(err, backstock_ledger::RecordError::Limit { .. }));
    assert!(
        msg.contains("entry e1") && msg.contains("10,000,000,000,000.00 USD"),
        "{msg}"
    );
    assert_eq!(balances(&book), before, "nothing changed");
    // Another currency has a limit of its own.
    let eur = Currency::parse("EUR").unwrap();
    let mut e = entry(2, st("c", LineKind::Adjustment, big));
    if let Event::Statement(s) = &mut e.event {
        s.currency = eur;
    }
    book.record(&e).unwrap();
    // A book restored from the balances refuses the same entry.
    let mut restored = Book::new();
    for (_, k, b) in book.accounts() {
        restored.restore_account(k.clone(), *b);
    }
    assert!(matches!(
        restored.record(&entry(1, st("b", LineKind::Adjustment, big))),
        Err(backstock_ledger::RecordError::Limit { .. })
    ));
    // Up to the limit exactly is fine.
    let rest = i64::try_from(LIMIT).unwrap() - big;
    restored
        .record(&entry(3, st("d", LineKind::Adjustment, rest)))
        .unwrap();
    assert!(restored
        .record(&entry(4, st("e", LineKind::Adjustment, 1)))
        .is_err());

    // A reserve withheld counts its posting and its pending release; posting the
    // release adds nothing more, and a restored book counts the same.
    let quarter = Money::LIMIT_MINOR / 4;
    let mut book = Book::new();
    book.record(&entry(0, st("a", LineKind::ReserveWithheld, quarter)))
        .unwrap();
    book.record(&entry(1, st("b", LineKind::ReserveReleased, quarter)))
        .unwrap();
    assert!(book.is_balanced());
    let mut restored = Book::new();
    for (_, k, b) in book.accounts() {
        restored.restore_account(k.clone(), *b);
    }
    for b in [&mut book, &mut restored] {
        b.record(&entry(2, st("c", LineKind::Adjustment, quarter)))
            .unwrap();
        assert!(b
            .record(&entry(3, st("d", LineKind::Adjustment, quarter + 1)))
            .is_err());
        // Exactly up to the limit: 2 × q (withheld, its release) + q + q.
        b.record(&entry(4, st("e", LineKind::Adjustment, quarter)))
            .unwrap();
    }
}

proptest! {
    /// A royalty payment moves exactly its amount from cash to the payee's royalty
    /// payable (one transfer), balances, moves no units, and reads back from its JSON
    /// unchanged (the reference and period left out when absent).
    #[test]
    fn a_royalty_payment_debits_payable_and_credits_cash(
        earned in 1i64..5_000_000,
        paid in 1i64..5_000_000,
        reference in prop::option::of("[A-Z0-9-]{1,12}"),
        period in prop::option::of(Just("2016H1".to_string())),
    ) {
        use backstock_ledger::{MoneyKind, RoyaltyPayment, RoyaltyPosting, RoyaltyRun};
        let usd = |m: i64| Money::from_minor(m, Currency::USD);
        let mut book = Book::new();
        book.record(&entry(0, Event::RoyaltyRun(RoyaltyRun {
            period: "2016H1".into(),
            period_start: Date::parse("2016-01-01").unwrap(),
            period_end: Date::parse("2016-06-30").unwrap(),
            postings: vec![RoyaltyPosting {
                contract_id: "C1".into(),
                payee: p("june"),
                royalties: usd(earned),
                costs_charged: usd(0),
                recouped: usd(0),
            }],
            result: backstock_ledger::RunDocument::of(&serde_json::Value::Null).unwrap(),
        }))).unwrap();
        let event = Event::RoyaltyPaid(RoyaltyPayment {
            payout_id: "june:2016-07-15".into(),
            payee: p("june"),
            amount: usd(paid),
            reference: reference.clone(),
            period,
        });
        let json = serde_json::to_string(&event).unwrap();
        prop_assert!(json.starts_with(r#"{"event":"royalty_paid""#), "{}", json);
        prop_assert_eq!(json.contains("reference"), reference.is_some());
        let back: Event = serde_json::from_str(&json).unwrap();
        prop_assert_eq!(&back, &event);
        prop_assert_eq!(event.kind().as_str(), "royalty_paid");
        let e = entry(1, event);
        let postings = e.postings(&book).unwrap();
        prop_assert_eq!(postings.len(), 1);
        let tr = &postings[0];
        prop_assert!(matches!(&tr.debit, AccountKey::Money(m) if m.kind() == MoneyKind::RoyaltyPayable && m.counterparty().as_str() == "june"));
        prop_assert!(matches!(&tr.credit, AccountKey::Money(m) if m.kind() == MoneyKind::Cash && m.counterparty().is_label()));
        prop_assert_eq!(tr.amount, paid.unsigned_abs());
        book.record(&e).unwrap();
        prop_assert!(book.is_balanced());
        prop_assert!(owner_units(&book).values().all(|u| *u == 0));
        let payable: i128 = book
            .accounts()
            .filter(|(_, k, _)| matches!(k, AccountKey::Money(m) if m.kind() == MoneyKind::RoyaltyPayable))
            .map(|(_, _, b)| b.net_debit())
            .sum();
        prop_assert_eq!(payable, i128::from(paid) - i128::from(earned));
    }
}

#[test]
fn a_royalty_payment_of_nothing_or_to_the_label_is_refused() {
    use backstock_ledger::RoyaltyPayment;
    for (payee, minor, says) in [
        ("june", 0, "more than zero"),
        ("june", -5, "more than zero"),
        ("label", 100, "not to the label"),
    ] {
        let e = entry(
            0,
            Event::RoyaltyPaid(RoyaltyPayment {
                payout_id: "x".into(),
                payee: p(payee),
                amount: Money::from_minor(minor, Currency::USD),
                reference: None,
                period: None,
            }),
        );
        let err = Book::new().record(&e).unwrap_err().to_string();
        assert!(err.contains(says), "{err}");
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]
    /// A statement's digest (summed per kind × channel, no SKUs) keeps what early
    /// warning reads of it: the net due, each kind's amount and units per channel, and
    /// the header; at most one line per kind and channel.
    #[test]
    fn a_statement_digest_keeps_its_totals(
        lines in prop::collection::vec((0usize..4, 0u8..7, any::<bool>(), -1_000i64..100_000, -1_000_000_000i64..1_000_000_000), 0..40)
    ) {
        let lines: Vec<StatementLine> = lines
            .into_iter()
            .map(|(s, k, digital, units, amount_minor)| StatementLine {
                kind: LineKind::ALL[usize::from(k)],
                sku: (s < 3).then(|| sku(s)),
                units,
                amount_minor,
                channel: if digital { backstock_ledger::Channel::Digital } else { Default::default() },
            })
            .collect();
        let st = Statement {
            statement_id: "S1".into(),
            distributor: p("allegro"),
            period_start: Date::parse("2016-01-01").unwrap(),
            period_end: Date::parse("2016-01-31").unwrap(),
            issued_on: Date::parse("2016-02-10").unwrap(),
            currency: Currency::USD,
            lines,
        };
        let e = entry(1, Event::Statement(st.clone()));
        let d = e.statement_digest().expect("no sum overflows here");
        prop_assert_eq!((&d.id, d.effective_on, d.known_on, &d.provenance), (&e.id, e.effective_on, e.known_on, &e.provenance));
        let Event::Statement(g) = &d.event else { panic!("a statement") };
        prop_assert_eq!(g.net_due_minor(), st.net_due_minor());
        prop_assert_eq!((&g.statement_id, &g.distributor, g.period_start, g.period_end, g.issued_on, g.currency),
            (&st.statement_id, &st.distributor, st.period_start, st.period_end, st.issued_on, st.currency));
        prop_assert!(g.lines.iter().all(|l| l.sku.is_none()));
        for kind in LineKind::ALL {
            for channel in [backstock_ledger::Channel::Physical, backstock_ledger::Channel::Digital] {
                let of = |ls: &[StatementLine]| {
                    let v: Vec<&StatementLine> = ls.iter().filter(|l| l.kind == kind && l.channel == channel).collect();
                    (v.len(), v.iter().map(|l| l.units).sum::<i64>(), v.iter().map(|l| l.amount_minor).sum::<i64>())
                };
                let (n, units, amount) = of(&g.lines);
                let (n_whole, units_whole, amount_whole) = of(&st.lines);
                prop_assert_eq!(n, usize::from(n_whole > 0));
                prop_assert_eq!((units, amount), (units_whole, amount_whole));
            }
        }
        let mut big = st.clone();
        big.lines = vec![
            StatementLine { kind: LineKind::Sale, sku: Some(sku(0)), units: 1, amount_minor: i64::MAX, channel: Default::default() },
            StatementLine { kind: LineKind::Sale, sku: Some(sku(1)), units: 1, amount_minor: 1, channel: Default::default() },
        ];
        prop_assert!(big.digest().is_none(), "an overflowing sum: read whole");
    }
}
