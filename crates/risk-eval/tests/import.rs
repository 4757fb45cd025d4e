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
