//! The generated files go through the product's own import, and the evaluation runs
//! over them.

use backstock_domain::Date;
use backstock_ledger::EntryKind;
use backstock_risk::Level;
use backstock_risk_eval::evaluate::{self, EvalOptions};
use backstock_risk_eval::{generate, GenOptions, Shape};

fn three_years() -> GenOptions {
    GenOptions {
        years: 3,
        ..GenOptions::default()
    }
}

#[tokio::test]
async fn every_shape_imports_and_every_distributor_is_assessed() {
    let h = generate(7, &three_years());
    let dir = tempfile::tempdir().unwrap();
    let store = evaluate::load(&h, dir.path()).await.unwrap();
    // Every statement, payment and consignment shipment is in the journal.
    let count = |kind: EntryKind| {
        let store = &store;
        async move { store.entries(&[kind], None).await.unwrap().len() }
    };
    assert_eq!(count(EntryKind::Payment).await, h.payments.len());
    assert_eq!(count(EntryKind::Statement).await, h.statements.len());
    let demands = count(EntryKind::Demand).await;
    assert_eq!(demands, 1, "the refusing distributor's demand");
    let snap = backstock_app::risk::snapshot(&store, h.end).await.unwrap();
    let th = backstock_app::risk::thresholds(&store).await.unwrap();
    let rows = backstock_risk::signals::assess(&snap, &th);
    let mut names: Vec<String> = rows.iter().map(|a| a.distributor.to_string()).collect();
    names.sort();
    let mut planned: Vec<String> = h.distributors.iter().map(|d| d.name.clone()).collect();
    planned.sort();
    assert_eq!(names, planned);
    // Healthy distributors hold stock at the end and owe about a quarter's sales.
    for p in h.distributors.iter().filter(|p| !p.shape.fails()) {
        let held: i64 = snap
            .held
            .iter()
            .filter(|((d, _), _)| d.as_str() == p.name)
            .map(|(_, u)| *u)
            .sum();
        assert!(held > 0, "{} holds nothing", p.name);
    }
    // Importing the same files again changes nothing.
    let before = store.entry_count().await.unwrap();
    let paths: Vec<_> = h
        .files
        .iter()
        .map(|(n, _)| dir.path().join("files").join(n))
        .collect();
    backstock_app::import::run(&store, &paths, &Default::default())
        .await
        .unwrap();
    assert_eq!(store.entry_count().await.unwrap(), before);
}

#[tokio::test]
async fn a_seed_is_evaluated_through_levels_and_credit_checks() {
    let o = EvalOptions {
        gen: GenOptions {
            shapes: vec![Shape::Seasonal, Shape::RefusingReturns],
            ..three_years()
        },
        step_days: 28,
        ..EvalOptions::default()
    };
    let out = evaluate::evaluate_seed(4, &o).await.unwrap();
    assert_eq!(out.len(), 2);
    let all_dates = evaluate::dates(o.eval_from(), o.gen.end(), 28).len();
    let healthy = out.iter().find(|x| x.shape == Shape::Seasonal).unwrap();
    assert_eq!(healthy.evaluations, all_dates);
    assert!(healthy.shipments > 0);
    assert!(healthy.default_on.is_none() && healthy.lead_days.is_none());

    let failing = out
        .iter()
        .find(|x| x.shape == Shape::RefusingReturns)
        .unwrap();
    let dd = failing.default_on.unwrap();
    // Evaluated only before its default.
    assert!(failing.evaluations < all_dates);
    assert!(failing.steps.iter().all(|s| s.on < dd));
    // The demand is on record from its date: shipments after it are held for it, and
    // the distributor is at alert or above at its last evaluation.
    assert!(
        failing
            .refused_by_code
            .get("open_demand")
            .copied()
            .unwrap_or(0)
            > 0,
        "{:?}",
        failing.refused_by_code
    );
    let last = failing.steps.last().unwrap();
    assert!(last.level >= Level::Alert, "{last:?}");
    assert!(failing.lead_days.is_some());

    // Checking on a distributor's own entries gives what the whole journal gives.
    let compared: usize = out.iter().map(|x| x.credit_checks_compared).sum();
    let differing: usize = out.iter().map(|x| x.credit_checks_differing).sum();
    assert!(compared > 0);
    assert_eq!(differing, 0);

    let r = evaluate::aggregate(&out, &o, &[4]);
    assert_eq!(r.healthy.distributors, 1);
    assert_eq!(r.failing_with_trace.distributors, 1);
    assert!(r.text().contains("| refusing_returns | 1 |"));
    let json: serde_json::Value = serde_json::from_str(&r.json()).unwrap();
    assert_eq!(json["seeds"], serde_json::json!([4]));
    assert!(Date::parse(json["eval_from"].as_str().unwrap()).is_ok());
}

/// `risk`, `receivables` and `ship` read each statement as its digest (summed per kind
/// and channel, no SKUs: `Store::for_each_digested_entry`). On every shape's history —
/// short pays, deductions, reserves, returns, demands, failures — and on two seeds,
/// the levels with their sentences, the receivables and the credit checks are those of
/// the whole statements, every 28 days; and again after the digests are dropped and
/// made afresh from the entries (a store from before digests were kept).
#[tokio::test]
async fn statement_digests_give_what_the_whole_statements_give() {
    for seed in [3u64, 26] {
        let h = generate(seed, &three_years());
        let dir = tempfile::tempdir().unwrap();
        let store = evaluate::load(&h, dir.path()).await.unwrap();
        let th = backstock_app::risk::thresholds(&store).await.unwrap();
        let digests = || async {
            sqlx::query_scalar::<_, i64>("SELECT COUNT(*) FROM statement_digests")
                .fetch_one(store.pool())
                .await
                .unwrap()
        };
        let statements = store
            .entries(&[EntryKind::Statement], None)
            .await
            .unwrap()
            .len() as i64;
        assert!(statements > 0);
        let mut skus: Vec<backstock_domain::Sku> = h
            .shipments
            .iter()
            .map(|s| backstock_domain::Sku::parse(&s.sku).unwrap())
            .collect();
        skus.sort();
        skus.dedup();
        skus.truncate(2);
        assert_eq!(digests().await, statements, "written with each statement");
        let all = store
            .entries(&[], None)
            .await
            .unwrap()
            .into_iter()
            .map(|(_, e)| e)
            .collect::<Vec<_>>();
        for round in 0..2 {
            let mut compared = 0;
            for day in evaluate::dates(h.start, h.end, 28) {
                let digested = backstock_app::risk::risk_snapshot(&store, day)
                    .await
                    .unwrap();
                let whole = backstock_app::risk::full_risk_snapshot(&store, day)
                    .await
                    .unwrap();
                let lines = |s: &backstock_risk::Snapshot| {
                    s.entries
                        .iter()
                        .map(|e| match &e.event {
                            backstock_ledger::Event::Statement(st) => st.lines.len(),
                            _ => 0,
                        })
                        .sum::<usize>()
                };
                assert!(lines(&digested) <= lines(&whole));
                // The level-history walk's snapshot (digests, the ledger's holdings)
                // gives the levels of the one it replaced (holdings from the lines).
                let over = backstock_risk::Snapshot::over(day, all.clone());
                assert_eq!(
                    j(&backstock_risk::signals::assess(&digested, &th)),
                    j(&backstock_risk::signals::assess(&over, &th)),
                    "seed {seed}, {day}: levels over the whole journal"
                );
                assert_eq!(
                    j(&backstock_risk::signals::assess(&digested, &th)),
                    j(&backstock_risk::signals::assess(&whole, &th)),
                    "seed {seed}, {day}: levels"
                );
                assert_eq!(
                    j(&backstock_risk::receivables::compute(&digested, None)),
                    j(&backstock_risk::receivables::compute(&whole, None)),
                    "seed {seed}, {day}: receivables"
                );
                for d in &h.distributors {
                    let party = backstock_domain::PartyId::parse(&d.name).unwrap();
                    for sku in &skus {
                        let codes = |s: &backstock_risk::Snapshot| {
                            backstock_risk::credit::check(s, &th, &party, sku, 10)
                                .iter()
                                .map(|r| format!("{}: {}", r.code, r.message))
                                .collect::<Vec<_>>()
                        };
                        assert_eq!(
                            codes(&digested),
                            codes(&whole),
                            "seed {seed}, {day}: ship to {party}"
                        );
                    }
                }
                compared += 1;
            }
            assert!(compared > 30, "{compared} days");
            if round == 0 {
                sqlx::query("DELETE FROM statement_digests")
                    .execute(store.pool())
                    .await
                    .unwrap();
                assert_eq!(digests().await, 0);
            }
        }
        assert_eq!(digests().await, statements, "made again when first read");
        assert_eq!(
            store.verify().await.unwrap().first_problem,
            None,
            "seed {seed}"
        );
    }
}

/// Results compared as JSON (the risk crate's types are `Serialize`).
fn j<T: serde::Serialize>(v: &T) -> String {
    serde_json::to_string(v).unwrap()
}
