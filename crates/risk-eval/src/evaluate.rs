//! Runs the product over generated histories: import through `backstock import`'s own
//! path, the typed-in records through the store as `backstock legal ucc1` and
//! `backstock demand add/respond` make them, then the levels `backstock risk --as-of`
//! gives at every evaluation date and the credit check `backstock ship` makes before
//! every consignment shipment.

use crate::histories::{generate, GenOptions, LabelHistory, Record, Shape};
use crate::metrics::{self, Spread};
use crate::Real;
use backstock_app::{AppError, Exit};
use backstock_domain::{Date, PartyId, Sku};
use backstock_ledger::facts::{Demand, DemandKind, DemandOutcome, DemandResponse, Ucc1Filing};
use backstock_ledger::{Entry, Event, Fact};
use backstock_risk::{Level, Snapshot};
use backstock_store::Store;
use serde::Serialize;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Instant;

#[derive(Debug, Clone)]
pub struct EvalOptions {
    /// How many seeds (labels) to evaluate.
    pub seeds: u64,
    pub first_seed: u64,
    pub gen: GenOptions,
    /// Days between evaluation dates.
    pub step_days: i64,
    /// Keep each seed's files and database in DIR/seed-N (else a temporary directory).
    pub keep: Option<PathBuf>,
    /// Progress lines on stderr.
    pub progress: bool,
}

impl Default for EvalOptions {
    fn default() -> EvalOptions {
        EvalOptions {
            seeds: 20,
            first_seed: 1,
            gen: GenOptions::default(),
            step_days: 14,
            keep: None,
            progress: false,
        }
    }
}

impl EvalOptions {
    /// Evaluation starts a year into the history (the signals compare with a year
    /// earlier).
    pub fn eval_from(&self) -> Date {
        self.gen.start.add_months(12)
    }
}

/// One evaluation of one distributor.
#[derive(Debug, Clone, Serialize)]
pub struct Step {
    pub on: Date,
    pub level: Level,
    /// Signals at `alert` or above.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub alerting: Vec<String>,
}

/// What happened to one distributor of one seed.
#[derive(Debug, Clone, Serialize)]
pub struct Outcome {
    pub seed: u64,
    pub distributor: String,
    pub shape: Shape,
    pub default_on: Option<Date>,
    pub evaluations: usize,
    /// Days covered by the evaluations (evaluations × step).
    pub evaluated_days: i64,
    pub at_alert: usize,
    pub at_watch: usize,
    pub episodes: usize,
    pub lead_days: Option<i64>,
    pub shipments: usize,
    pub refused_risk_level: usize,
    pub refused_any: usize,
    /// Shipments refused, by hold reason code.
    pub refused_by_code: BTreeMap<String, usize>,
    /// Credit checks also made on the whole snapshot, and how many of those gave other
    /// reasons than the distributor's own view (should be none).
    pub credit_checks_compared: usize,
    pub credit_checks_differing: usize,
    #[serde(skip)]
    pub steps: Vec<Step>,
}

fn err(e: impl std::fmt::Display) -> AppError {
    AppError::new(Exit::Other, e.to_string())
}

/// The typed-in records as the CLI's `legal ucc1` and `demand add/respond` record them,
/// known on their own date (as if typed that day).
fn record_entries(h: &LabelHistory) -> Result<Vec<Entry>, AppError> {
    let mut out = Vec::new();
    for r in &h.records {
        let on = r.date();
        let e = match r {
            Record::UccContinuation {
                distributor,
                file_number,
                continues,
                state,
                filed_on,
            } => {
                let d = PartyId::parse(distributor).map_err(err)?;
                backstock_app::risk::command_entry(
                    format!("ucc1:{d}:{file_number}"),
                    *filed_on,
                    on,
                    format!("legal ucc1 --distributor {d} --file-number {file_number} --continues {continues}"),
                    Event::Fact(Fact::Ucc1Filing(Ucc1Filing {
                        distributor: d,
                        file_number: file_number.clone(),
                        state: state.clone(),
                        filed_on: *filed_on,
                        continues: Some(continues.clone()),
                    })),
                )?
            }
            Record::Demand {
                demand_id,
                distributor,
                made_on,
                via,
            } => {
                let d = PartyId::parse(distributor).map_err(err)?;
                backstock_app::risk::command_entry(
                    format!("demand:{demand_id}"),
                    *made_on,
                    on,
                    format!("demand add --distributor {d}"),
                    Event::Fact(Fact::Demand(Demand {
                        demand_id: demand_id.clone(),
                        distributor: d,
                        kind: DemandKind::Return,
                        transfer_to: None,
                        sku: None,
                        units: None,
                        made_on: *made_on,
                        via: via.clone(),
                    })),
                )?
            }
            Record::DemandRefused {
                demand_id,
                answered_on,
                note,
            } => backstock_app::risk::command_entry(
                format!("demand-response:{demand_id}"),
                *answered_on,
                on,
                format!("demand respond {demand_id}"),
                Event::Fact(Fact::DemandResponse(DemandResponse {
                    demand_id: demand_id.clone(),
                    answered_on: *answered_on,
                    outcome: DemandOutcome::Refused,
                    note: note.clone(),
                })),
            )?,
        };
        out.push(e);
    }
    Ok(out)
}

/// Writes the history's files into `dir/files`, imports them into a new store in
/// `dir/db` and records the typed-in records. Returns the store.
pub async fn load(h: &LabelHistory, dir: &Path) -> Result<Store, AppError> {
    let files = dir.join("files");
    std::fs::create_dir_all(&files).map_err(|e| err(format!("{}: {e}", files.display())))?;
    let mut paths = Vec::new();
    for (name, content) in &h.files {
        let p = files.join(name);
        std::fs::write(&p, content).map_err(|e| err(format!("{}: {e}", p.display())))?;
        paths.push(p);
    }
    let records = serde_json::to_string_pretty(&h.records).unwrap_or_default();
    let plan = serde_json::to_string_pretty(&h.distributors).unwrap_or_default();
    // Kept beside the files (not imported: they are not canonical files).
    let meta = dir.join("typed-in");
    std::fs::create_dir_all(&meta).map_err(|e| err(format!("{}: {e}", meta.display())))?;
    std::fs::write(meta.join("records.json"), records).map_err(err)?;
    std::fs::write(meta.join("plan.json"), plan).map_err(err)?;
    let store = Store::open(&dir.join("db"), true).await?;
    backstock_app::import::run(
        &store,
        &paths,
        &backstock_app::import::ImportOptions::default(),
    )
    .await
    .map_err(|e| {
        let m = format!("seed {}: import: {}", h.seed, e.message());
        AppError::new(e.exit(), m)
    })?;
    let entries = record_entries(h)?;
    if !entries.is_empty() {
        store.record(&entries, None).await?;
    }
    Ok(store)
}

/// The evaluation dates: every `step` days from `from` to the end of the history.
pub fn dates(from: Date, end: Date, step: i64) -> Vec<Date> {
    let step = step.max(1);
    let mut out = Vec::new();
    let mut d = from;
    while d <= end {
        out.push(d);
        d = d.add_days(i32::try_from(step).unwrap_or(14));
    }
    out
}

/// Evaluates one seed.
pub async fn evaluate_seed(seed: u64, o: &EvalOptions) -> Result<Vec<Outcome>, AppError> {
    let h = generate(seed, &o.gen);
    let tmp;
    let dir = match &o.keep {
        Some(k) => {
            let d = k.join(format!("seed-{seed}"));
            if d.exists() {
                std::fs::remove_dir_all(&d).map_err(|e| err(format!("{}: {e}", d.display())))?;
            }
            d
        }
        None => {
            tmp = tempfile::tempdir().map_err(err)?;
            tmp.path().to_path_buf()
        }
    };
    let t0 = Instant::now();
    let store = load(&h, &dir).await?;
    let t_import = t0.elapsed();
    let th = backstock_app::risk::thresholds(&store).await?;
    let from = o.eval_from();
    let mut outcomes: BTreeMap<String, Outcome> = h
        .distributors
        .iter()
        .map(|p| {
            (
                p.name.clone(),
                Outcome {
                    seed,
                    distributor: p.name.clone(),
                    shape: p.shape,
                    default_on: p.default_on,
                    evaluations: 0,
                    evaluated_days: 0,
                    at_alert: 0,
                    at_watch: 0,
                    episodes: 0,
                    lead_days: None,
                    shipments: 0,
                    refused_risk_level: 0,
                    refused_any: 0,
                    refused_by_code: BTreeMap::new(),
                    credit_checks_compared: 0,
                    credit_checks_differing: 0,
                    steps: Vec::new(),
                },
            )
        })
        .collect();
    let alive = |o: &Outcome, d: Date| o.default_on.is_none_or(|dd| d < dd);

    // 1. Levels at every evaluation date, as `backstock risk --as-of` gives them (its
    //    snapshot: statements as their digests).
    for day in dates(from, h.end, o.step_days) {
        let snap = backstock_app::risk::risk_snapshot(&store, day).await?;
        for a in backstock_risk::signals::assess(&snap, &th) {
            let Some(out) = outcomes.get_mut(a.distributor.as_str()) else {
                continue;
            };
            if !alive(out, day) {
                continue;
            }
            out.steps.push(Step {
                on: day,
                level: a.level,
                alerting: a
                    .signals
                    .iter()
                    .filter(|s| s.level >= Level::Alert)
                    .map(|s| s.code.to_string())
                    .collect(),
            });
        }
    }
    let t_levels = t0.elapsed();

    // 2. The credit check `backstock ship` makes, before every consignment shipment
    //    made from the first evaluation date on: the label's knowledge that day,
    //    without that day's shipments, each line added once checked.
    let mut by_day: BTreeMap<Date, Vec<&crate::histories::ShipmentRow>> = BTreeMap::new();
    for s in h.shipments.iter().filter(|s| s.date >= from) {
        by_day.entry(s.date).or_default().push(s);
    }
    // The journal, read once: a shipment day's snapshot is its entries known and
    // effective that day with the holdings they give (`Snapshot::from_entries`'s rule,
    // the label's warehouse included, as the store's snapshot has it).
    let journal: Vec<Entry> = store
        .entries(&[], None)
        .await?
        .into_iter()
        .map(|(_, e)| e)
        .collect();
    for (day_index, (day, lines)) in by_day.into_iter().enumerate() {
        let known: Vec<Entry> = journal
            .iter()
            .filter(|e| e.effective_on <= day && e.known_on <= day)
            .cloned()
            .collect();
        let mut snap = Snapshot {
            as_of: day,
            held: backstock_risk::holdings_from_entries(&known, day),
            entries: known,
        };
        without_shipments_on(&mut snap, day);
        // Each check sees the label's whole holdings but only the journal entries that
        // concern the distributor checked (not other distributors' statements,
        // payments, shipments, orders, filings, demands): the same answer for a
        // fraction of the work. Every 8th shipment day is also checked as `backstock
        // ship` checks, on the store's snapshot of the whole journal, and any
        // difference is counted (`credit_checks_differing`).
        let mut exact = None;
        if day_index.is_multiple_of(8) {
            let mut full = backstock_app::risk::snapshot(&store, day).await?;
            without_shipments_on(&mut full, day);
            exact = Some(full);
        }
        let mut own: BTreeMap<String, Snapshot> = BTreeMap::new();
        let mut refused: BTreeMap<&str, (bool, bool, Vec<String>)> = BTreeMap::new();
        for s in &lines {
            let d = PartyId::parse(&s.distributor).map_err(err)?;
            let sku = Sku::parse(&s.sku).map_err(err)?;
            let units = u64::try_from(s.units).unwrap_or(0);
            let sub = own
                .entry(s.distributor.clone())
                .or_insert_with(|| of_distributor(&snap, &d));
            sub.held.clone_from(&snap.held);
            let reasons = backstock_risk::credit::check(sub, &th, &d, &sku, units);
            let codes: Vec<String> = reasons.iter().map(|r| r.code.to_string()).collect();
            if let Some(full) = exact.as_mut() {
                let full_codes: Vec<String> =
                    backstock_risk::credit::check(full, &th, &d, &sku, units)
                        .iter()
                        .map(|r| r.code.to_string())
                        .collect();
                move_units(full, &d, &sku, s.units);
                if let Some(o) = outcomes.get_mut(&s.distributor) {
                    o.credit_checks_compared += 1;
                    if full_codes != codes {
                        o.credit_checks_differing += 1;
                    }
                }
            }
            let slot = refused.entry(s.id.as_str()).or_default();
            for c in codes {
                slot.1 = true;
                if c == "risk_level" {
                    slot.0 = true;
                }
                if !slot.2.contains(&c) {
                    slot.2.push(c);
                }
            }
            move_units(&mut snap, &d, &sku, s.units);
        }
        for (sid, (risk, any, codes)) in refused {
            let Some(s) = lines.iter().find(|s| s.id == sid) else {
                continue;
            };
            let Some(out) = outcomes.get_mut(&s.distributor) else {
                continue;
            };
            out.shipments += 1;
            if risk {
                out.refused_risk_level += 1;
            }
            if any {
                out.refused_any += 1;
            }
            for c in codes {
                *out.refused_by_code.entry(c).or_default() += 1;
            }
        }
    }
    let t_ship = t0.elapsed();

    // 3. The metrics per distributor.
    for out in outcomes.values_mut() {
        let levels: Vec<Level> = out.steps.iter().map(|s| s.level).collect();
        out.evaluations = levels.len();
        out.evaluated_days = levels.len() as i64 * o.step_days;
        out.at_alert = metrics::count_at(&levels, Level::Alert);
        out.at_watch = metrics::count_at(&levels, Level::Watch);
        out.episodes = metrics::episodes(&levels);
        if let Some(dd) = out.default_on {
            let seq: Vec<(Date, Level)> = out.steps.iter().map(|s| (s.on, s.level)).collect();
            out.lead_days = metrics::lead_days(&seq, dd);
        }
    }
    if o.progress {
        eprintln!(
            "seed {seed}: {} distributors, {} statements, {} shipments; import {:.1?}, levels {:.1?}, credit checks {:.1?}",
            h.distributors.len(),
            h.statements.len(),
            h.shipments.len(),
            t_import,
            t_levels.saturating_sub(t_import),
            t_ship.saturating_sub(t_levels)
        );
    }
    Ok(outcomes.into_values().collect())
}

/// Takes the label → distributor shipments effective on `day` out of the snapshot
/// (entries and holdings), so it is the label's knowledge just before shipping.
fn without_shipments_on(snap: &mut Snapshot, day: Date) {
    let mut moved = Vec::new();
    snap.entries.retain(|e| match &e.event {
        Event::Shipment {
            from,
            to,
            sku,
            units,
            ..
        } if e.effective_on == day && from.is_label() && !to.is_label() => {
            moved.push((to.clone(), sku.clone(), i64::try_from(*units).unwrap_or(0)));
            false
        }
        _ => true,
    });
    for (to, sku, units) in moved {
        move_units(snap, &to, &sku, -units);
    }
}

/// The snapshot without the entries that concern other distributors only (their
/// statements, payments, consignment shipments, purchase orders, UCC-1 filings and
/// demands); reference data, the label's own entries and the holdings stay.
pub fn of_distributor(snap: &Snapshot, d: &PartyId) -> Snapshot {
    let other = |p: &PartyId| p != d && !p.is_label();
    let entries = snap
        .entries
        .iter()
        .filter(|e| match &e.event {
            Event::Statement(st) => !other(&st.distributor),
            Event::PaymentReceived { distributor, .. } => !other(distributor),
            Event::Shipment { from, to, .. } => {
                !((from.is_label() && other(to)) || (to.is_label() && other(from)))
            }
            Event::Fact(Fact::PurchaseOrder(po)) => !other(&po.distributor),
            Event::Fact(Fact::Ucc1Filing(f)) => !other(&f.distributor),
            Event::Fact(Fact::Demand(x)) => !other(&x.distributor),
            _ => true,
        })
        .cloned()
        .collect();
    Snapshot {
        as_of: snap.as_of,
        entries,
        held: snap.held.clone(),
    }
}

/// Moves `units` of `sku` from the label's warehouse to `to` in the snapshot's holdings.
fn move_units(snap: &mut Snapshot, to: &PartyId, sku: &Sku, units: i64) {
    *snap.held.entry((to.clone(), sku.clone())).or_insert(0) += units;
    if let Some(w) = snap.held.get_mut(&(PartyId::label(), sku.clone())) {
        *w -= units;
    }
    snap.held.retain(|_, u| *u != 0);
}

/// Per shape (or in total): the numbers the report prints.
#[derive(Debug, Clone, Serialize)]
pub struct Summary {
    pub label: String,
    pub fails: bool,
    pub leaves_trace: bool,
    pub distributors: usize,
    // Failing distributors.
    pub detected_120: usize,
    pub detected_any: usize,
    pub lead_days: Option<Spread>,
    // Healthy distributors.
    pub distributor_years: Real,
    pub episodes: usize,
    pub episodes_per_10_years: Real,
    pub evaluations: usize,
    pub at_alert: usize,
    pub at_watch: usize,
    // Shipments checked (healthy: all in the evaluated years; failing: before the
    // default).
    pub shipments: usize,
    pub refused_risk_level: usize,
    pub refused_any: usize,
    pub refused_by_code: BTreeMap<String, usize>,
}

fn summarize(label: &str, fails: bool, trace: bool, xs: &[&Outcome]) -> Summary {
    let mut s = Summary {
        label: label.into(),
        fails,
        leaves_trace: trace,
        distributors: xs.len(),
        detected_120: 0,
        detected_any: 0,
        lead_days: None,
        distributor_years: 0.0,
        episodes: 0,
        episodes_per_10_years: 0.0,
        evaluations: 0,
        at_alert: 0,
        at_watch: 0,
        shipments: 0,
        refused_risk_level: 0,
        refused_any: 0,
        refused_by_code: BTreeMap::new(),
    };
    let mut leads = Vec::new();
    let mut days = 0;
    for x in xs {
        if let Some(l) = x.lead_days {
            s.detected_any += 1;
            if l >= 120 {
                s.detected_120 += 1;
            }
            leads.push(l as Real);
        }
        days += x.evaluated_days;
        s.episodes += x.episodes;
        s.evaluations += x.evaluations;
        s.at_alert += x.at_alert;
        s.at_watch += x.at_watch;
        s.shipments += x.shipments;
        s.refused_risk_level += x.refused_risk_level;
        s.refused_any += x.refused_any;
        for (c, n) in &x.refused_by_code {
            *s.refused_by_code.entry(c.clone()).or_default() += n;
        }
    }
    s.lead_days = metrics::spread(&leads);
    s.distributor_years = days as Real / 365.25;
    s.episodes_per_10_years = metrics::per_ten_years(s.episodes, days);
    s
}

/// A target of the issue and whether it is met.
#[derive(Debug, Clone, Serialize)]
pub struct Target {
    pub target: String,
    pub result: String,
    pub pass: bool,
}

/// A false-alarm episode or a failure not caught in time, for the detail lists.
#[derive(Debug, Clone, Serialize)]
pub struct Case {
    pub seed: u64,
    pub distributor: String,
    pub shape: Shape,
    pub from: Option<Date>,
    pub to: Option<Date>,
    pub default_on: Option<Date>,
    pub lead_days: Option<i64>,
    /// Signals at alert or above (false alarms), or the levels of the last 180 days
    /// (failures).
    pub detail: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct Report {
    pub seeds: Vec<u64>,
    pub years: i32,
    pub start: Date,
    pub eval_from: Date,
    pub step_days: i64,
    pub per_shape: usize,
    pub shapes: Vec<Summary>,
    pub failing_with_trace: Summary,
    pub sudden: Summary,
    pub healthy: Summary,
    /// Across seeds: detection (≥ 120 days) of failures that leave a trace, per-mille.
    pub per_seed_detection_120: Option<Spread>,
    /// Across seeds: false-alarm episodes per 10 healthy distributor-years.
    pub per_seed_false_alarms: Option<Spread>,
    /// Across seeds: share of healthy evaluations at alert or above (%).
    pub per_seed_healthy_alert_share: Option<Spread>,
    pub targets: Vec<Target>,
    pub false_alarms: Vec<Case>,
    pub late_or_missed: Vec<Case>,
    /// Credit checks made both ways (the distributor's own view and the whole
    /// snapshot) and how many differed.
    pub credit_checks_compared: usize,
    pub credit_checks_differing: usize,
    pub elapsed_seconds: Real,
    pub outcomes: Vec<Outcome>,
}

/// Evaluates every seed and aggregates.
pub async fn run(o: &EvalOptions) -> Result<Report, AppError> {
    if o.gen.years < 3 {
        return Err(AppError::new(
            Exit::Input,
            "--years must be at least 3 (a year before evaluation, defaults in the last two)",
        ));
    }
    if o.seeds == 0 {
        return Err(AppError::new(Exit::Input, "--seeds must be at least 1"));
    }
    let t0 = Instant::now();
    let mut all = Vec::new();
    let seeds: Vec<u64> = (0..o.seeds).map(|i| o.first_seed + i).collect();
    for &seed in &seeds {
        all.extend(evaluate_seed(seed, o).await?);
    }
    let mut r = aggregate(&all, o, &seeds);
    r.elapsed_seconds = t0.elapsed().as_secs_f64();
    Ok(r)
}

/// The report from per-distributor outcomes.
pub fn aggregate(all: &[Outcome], o: &EvalOptions, seeds: &[u64]) -> Report {
    let mut shapes = Vec::new();
    for shape in &o.gen.shapes {
        let xs: Vec<&Outcome> = all.iter().filter(|x| x.shape == *shape).collect();
        shapes.push(summarize(
            shape.name(),
            shape.fails(),
            shape.leaves_trace(),
            &xs,
        ));
    }
    let trace: Vec<&Outcome> = all.iter().filter(|x| x.shape.leaves_trace()).collect();
    let sudden: Vec<&Outcome> = all
        .iter()
        .filter(|x| x.shape.fails() && !x.shape.leaves_trace())
        .collect();
    let healthy: Vec<&Outcome> = all.iter().filter(|x| !x.shape.fails()).collect();
    let failing_with_trace = summarize("all failing with a trace", true, true, &trace);
    let sudden_s = summarize("failing with little trace", true, false, &sudden);
    let healthy_s = summarize("all healthy", false, false, &healthy);

    let mut det = Vec::new();
    let mut fa = Vec::new();
    let mut share = Vec::new();
    for seed in seeds {
        let t: Vec<&Outcome> = trace.iter().copied().filter(|x| x.seed == *seed).collect();
        if !t.is_empty() {
            let n = t
                .iter()
                .filter(|x| x.lead_days.is_some_and(|l| l >= 120))
                .count();
            det.push(n as Real * 100.0 / t.len() as Real);
        }
        let hs: Vec<&Outcome> = healthy
            .iter()
            .copied()
            .filter(|x| x.seed == *seed)
            .collect();
        if !hs.is_empty() {
            let s = summarize("", false, false, &hs);
            fa.push(s.episodes_per_10_years);
            share.push(s.at_alert as Real * 100.0 / s.evaluations.max(1) as Real);
        }
    }

    let mut targets = Vec::new();
    if failing_with_trace.distributors > 0 {
        let n = failing_with_trace.distributors;
        let k = failing_with_trace.detected_120;
        targets.push(Target {
            target: "every failure that leaves a trace at `alert` (and staying) ≥ 120 days before the default".into(),
            result: format!("{k} of {n} ({:.0} %)", k as Real * 100.0 / n as Real),
            pass: k == n,
        });
    }
    if healthy_s.distributors > 0 {
        targets.push(Target {
            target: "≤ 1 false-alarm episode per 10 healthy distributor-years".into(),
            result: format!(
                "{:.2} ({} episodes in {:.1} distributor-years)",
                healthy_s.episodes_per_10_years, healthy_s.episodes, healthy_s.distributor_years
            ),
            pass: healthy_s.episodes_per_10_years <= 1.0,
        });
        targets.push(Target {
            target: "no shipment to a healthy distributor refused for its risk level".into(),
            result: format!(
                "{} of {} refused for `risk_level` ({} for any reason)",
                healthy_s.refused_risk_level, healthy_s.shipments, healthy_s.refused_any
            ),
            pass: healthy_s.refused_risk_level == 0,
        });
    }

    let mut false_alarms = Vec::new();
    for x in &healthy {
        let seq: Vec<(Date, Level)> = x.steps.iter().map(|s| (s.on, s.level)).collect();
        for (a, b) in metrics::episode_spans(&seq) {
            let mut codes: Vec<String> = Vec::new();
            for s in x.steps.iter().filter(|s| s.on >= a && s.on <= b) {
                for c in &s.alerting {
                    if !codes.contains(c) {
                        codes.push(c.clone());
                    }
                }
            }
            false_alarms.push(Case {
                seed: x.seed,
                distributor: x.distributor.clone(),
                shape: x.shape,
                from: Some(a),
                to: Some(b),
                default_on: None,
                lead_days: None,
                detail: codes.join(", "),
            });
        }
    }
    let mut late_or_missed = Vec::new();
    for x in all.iter().filter(|x| x.shape.fails()) {
        if x.lead_days.is_some_and(|l| l >= 120) {
            continue;
        }
        let dd = x.default_on;
        let tail: Vec<String> = x
            .steps
            .iter()
            .filter(|s| dd.is_some_and(|dd| s.on.add_days(180) >= dd))
            .map(|s| match s.level {
                Level::Ok => "o",
                Level::Watch => "w",
                Level::Alert => "A",
                Level::Critical => "C",
            })
            .map(String::from)
            .collect();
        let codes: Vec<String> = x
            .steps
            .last()
            .map(|s| s.alerting.clone())
            .unwrap_or_default();
        late_or_missed.push(Case {
            seed: x.seed,
            distributor: x.distributor.clone(),
            shape: x.shape,
            from: None,
            to: None,
            default_on: dd,
            lead_days: x.lead_days,
            detail: format!(
                "last 180 days: {}{}",
                tail.concat(),
                if codes.is_empty() {
                    String::new()
                } else {
                    format!(" (at the end: {})", codes.join(", "))
                }
            ),
        });
    }

    Report {
        seeds: seeds.to_vec(),
        years: o.gen.years,
        start: o.gen.start,
        eval_from: o.eval_from(),
        step_days: o.step_days,
        per_shape: o.gen.per_shape,
        shapes,
        failing_with_trace,
        sudden: sudden_s,
        healthy: healthy_s,
        per_seed_detection_120: metrics::spread(&det),
        per_seed_false_alarms: metrics::spread(&fa),
        per_seed_healthy_alert_share: metrics::spread(&share),
        targets,
        false_alarms,
        late_or_missed,
        credit_checks_compared: all.iter().map(|x| x.credit_checks_compared).sum(),
        credit_checks_differing: all.iter().map(|x| x.credit_checks_differing).sum(),
        elapsed_seconds: 0.0,
        outcomes: all.to_vec(),
    }
}

fn pct(k: usize, n: usize) -> String {
    if n == 0 {
        return "–".into();
    }
    format!("{k}/{n} ({:.0} %)", k as Real * 100.0 / n as Real)
}

fn lead(s: &Option<Spread>) -> String {
    match s {
        Some(s) => format!("{:.0} / {:.0} / {:.0}", s.min, s.median, s.max),
        None => "–".into(),
    }
}

fn codes(m: &BTreeMap<String, usize>) -> String {
    if m.is_empty() {
        return String::new();
    }
    let v: Vec<String> = m.iter().map(|(c, n)| format!("{c} {n}")).collect();
    format!(" ({})", v.join(", "))
}

impl Report {
    /// Markdown.
    pub fn text(&self) -> String {
        let mut o = String::new();
        let first = self.seeds.first().copied().unwrap_or(0);
        let last = self.seeds.last().copied().unwrap_or(0);
        o.push_str("# Early warning, evaluated\n\n");
        o.push_str(&format!(
            "Seeds {first}–{last} ({} labels), {} years from {}, {} distributor(s) per shape; levels as `backstock risk --as-of` gives them every {} days from {}; failing distributors evaluated until their default; the credit check of `backstock ship` before every consignment shipment from {}.\n\n",
            self.seeds.len(),
            self.years,
            self.start,
            self.per_shape,
            self.step_days,
            self.eval_from,
            self.eval_from,
        ));
        o.push_str("## Failing distributors\n\n");
        o.push_str("| shape | n | at alert ≥ 120 d before default | at alert at all (lead > 0) | lead days min / median / max | shipments before default refused: risk level / any |\n|---|---|---|---|---|---|\n");
        let row = |o: &mut String, s: &Summary, bold: bool| {
            let b = if bold { "**" } else { "" };
            o.push_str(&format!(
                "| {b}{}{b} | {} | {} | {} | {} | {} / {} of {}{} |\n",
                s.label,
                s.distributors,
                pct(s.detected_120, s.distributors),
                pct(s.detected_any, s.distributors),
                lead(&s.lead_days),
                s.refused_risk_level,
                s.refused_any,
                s.shipments,
                codes(&s.refused_by_code),
            ));
        };
        for s in self.shapes.iter().filter(|s| s.fails && s.leaves_trace) {
            row(&mut o, s, false);
        }
        row(&mut o, &self.failing_with_trace, true);
        for s in self.shapes.iter().filter(|s| s.fails && !s.leaves_trace) {
            let mut s = s.clone();
            s.label = format!("{} (little trace: expected missed)", s.label);
            row(&mut o, &s, false);
        }
        o.push_str("\n## Healthy distributors\n\n");
        o.push_str("| shape | n | distributor-years | false-alarm episodes | per 10 distributor-years | evaluations at ≥ alert | at ≥ watch | shipments refused: risk level | refused: any reason |\n|---|---|---|---|---|---|---|---|---|\n");
        let hrow = |o: &mut String, s: &Summary, bold: bool| {
            let b = if bold { "**" } else { "" };
            o.push_str(&format!(
                "| {b}{}{b} | {} | {:.1} | {} | {:.2} | {} | {} | {} | {}{} |\n",
                s.label,
                s.distributors,
                s.distributor_years,
                s.episodes,
                s.episodes_per_10_years,
                pct(s.at_alert, s.evaluations),
                pct(s.at_watch, s.evaluations),
                pct(s.refused_risk_level, s.shipments),
                pct(s.refused_any, s.shipments),
                codes(&s.refused_by_code),
            ));
        };
        for s in self.shapes.iter().filter(|s| !s.fails) {
            hrow(&mut o, s, false);
        }
        hrow(&mut o, &self.healthy, true);
        o.push_str(
            "\n## Spread over seeds\n\n| per seed | min | median | max |\n|---|---|---|---|\n",
        );
        let srow = |o: &mut String, what: &str, s: &Option<Spread>, unit: &str| {
            if let Some(s) = s {
                o.push_str(&format!(
                    "| {what} | {:.1}{unit} | {:.1}{unit} | {:.1}{unit} |\n",
                    s.min, s.median, s.max
                ));
            }
        };
        srow(
            &mut o,
            "failures with a trace at alert ≥ 120 days before",
            &self.per_seed_detection_120,
            " %",
        );
        srow(
            &mut o,
            "false-alarm episodes per 10 healthy distributor-years",
            &self.per_seed_false_alarms,
            "",
        );
        srow(
            &mut o,
            "healthy evaluations at ≥ alert",
            &self.per_seed_healthy_alert_share,
            " %",
        );
        o.push_str("\n## Targets\n\n| target | result | |\n|---|---|---|\n");
        for t in &self.targets {
            o.push_str(&format!(
                "| {} | {} | {} |\n",
                t.target,
                t.result,
                if t.pass { "PASS" } else { "FAIL" }
            ));
        }
        o.push_str(&format!(
            "| failures with little trace (`sudden_stop`), reported, not a target | {} at alert ≥ 120 days, {} at alert at all | – |\n",
            pct(self.sudden.detected_120, self.sudden.distributors),
            pct(self.sudden.detected_any, self.sudden.distributors),
        ));
        const MAX: usize = 40;
        if !self.false_alarms.is_empty() {
            o.push_str(&format!(
                "\n## False-alarm episodes ({})\n\n| seed | distributor | from | to | signals at alert |\n|---|---|---|---|---|\n",
                self.false_alarms.len()
            ));
            for c in self.false_alarms.iter().take(MAX) {
                o.push_str(&format!(
                    "| {} | {} | {} | {} | {} |\n",
                    c.seed,
                    c.distributor,
                    c.from.map(|d| d.to_string()).unwrap_or_default(),
                    c.to.map(|d| d.to_string()).unwrap_or_default(),
                    c.detail
                ));
            }
            if self.false_alarms.len() > MAX {
                o.push_str(&format!(
                    "| … {} more (see --format json) | | | | |\n",
                    self.false_alarms.len() - MAX
                ));
            }
        }
        if !self.late_or_missed.is_empty() {
            o.push_str(&format!(
                "\n## Failures not at alert 120 days before ({}): levels every {} days over the last 180 (o ok, w watch, A alert, C critical)\n\n| seed | distributor | default | lead days | levels |\n|---|---|---|---|---|\n",
                self.late_or_missed.len(),
                self.step_days
            ));
            for c in self.late_or_missed.iter().take(MAX) {
                o.push_str(&format!(
                    "| {} | {} | {} | {} | {} |\n",
                    c.seed,
                    c.distributor,
                    c.default_on.map(|d| d.to_string()).unwrap_or_default(),
                    c.lead_days
                        .map(|d| d.to_string())
                        .unwrap_or_else(|| "none".into()),
                    c.detail
                ));
            }
            if self.late_or_missed.len() > MAX {
                o.push_str(&format!(
                    "| … {} more (see --format json) | | | | |\n",
                    self.late_or_missed.len() - MAX
                ));
            }
        }
        o.push_str(&format!(
            "\nCredit checks made on each distributor's own entries (read once from the journal), compared on every 8th shipment day with the check on the store's snapshot as `backstock ship` makes it: {} of {} gave other reasons.\n",
            self.credit_checks_differing, self.credit_checks_compared
        ));
        o.push_str(&format!(
            "\n{} labels evaluated in {:.1} s.\n",
            self.seeds.len(),
            self.elapsed_seconds
        ));
        o
    }

    pub fn json(&self) -> String {
        serde_json::to_string_pretty(self).unwrap_or_default() + "\n"
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use Level::{Alert as A, Critical as C, Ok as O, Watch as W};

    fn outcome(seed: u64, shape: Shape, levels: &[Level], default_on: Option<Date>) -> Outcome {
        let d0 = Date::parse("2013-01-01").unwrap();
        let steps: Vec<Step> = levels
            .iter()
            .enumerate()
            .map(|(i, l)| Step {
                on: d0.add_days(14 * i as i32),
                level: *l,
                alerting: if *l >= A {
                    vec!["payment_lateness".into()]
                } else {
                    vec![]
                },
            })
            .collect();
        let seq: Vec<(Date, Level)> = steps.iter().map(|s| (s.on, s.level)).collect();
        Outcome {
            seed,
            distributor: format!("{}-1", shape.name()),
            shape,
            default_on,
            evaluations: levels.len(),
            evaluated_days: levels.len() as i64 * 14,
            at_alert: metrics::count_at(levels, A),
            at_watch: metrics::count_at(levels, W),
            episodes: metrics::episodes(levels),
            lead_days: default_on.and_then(|dd| metrics::lead_days(&seq, dd)),
            shipments: 10,
            refused_risk_level: 0,
            refused_any: 0,
            refused_by_code: BTreeMap::new(),
            credit_checks_compared: 0,
            credit_checks_differing: 0,
            steps,
        }
    }

    #[test]
    fn totals_targets_and_cases_from_outcomes() {
        let d0 = Date::parse("2013-01-01").unwrap();
        // 26 evaluations a year (364 days): one healthy distributor-year each.
        let mut calm = vec![O; 26];
        calm[3] = W;
        let mut glitch = vec![O; 26];
        glitch[10] = A;
        glitch[11] = A;
        // Fails after the 26th evaluation: at alert for the last 12 (lead 12×14 + 4).
        let mut fail = vec![W; 14];
        fail.extend(vec![C; 12]);
        let dd = d0.add_days(14 * 25 + 4);
        let mut missed = vec![O; 26];
        missed[20] = A;
        let o = EvalOptions::default();
        let all = vec![
            outcome(1, Shape::Seasonal, &calm, None),
            outcome(1, Shape::OneGlitch, &glitch, None),
            outcome(1, Shape::SlowingPayments, &fail, Some(dd)),
            outcome(2, Shape::SlowingPayments, &missed, Some(dd)),
            outcome(2, Shape::SuddenStop, &[O; 26], Some(dd)),
        ];
        let r = aggregate(&all, &o, &[1, 2]);
        let slow = r
            .shapes
            .iter()
            .find(|s| s.label == "slowing_payments")
            .unwrap();
        assert_eq!(
            (slow.distributors, slow.detected_120, slow.detected_any),
            (2, 1, 1)
        );
        assert_eq!(slow.lead_days.unwrap().median, (11 * 14 + 4) as Real);
        assert_eq!(r.failing_with_trace.distributors, 2);
        assert_eq!(r.sudden.distributors, 1);
        assert_eq!(r.healthy.episodes, 1);
        assert_eq!(r.healthy.at_alert, 2);
        assert_eq!(r.healthy.at_watch, 3);
        // One episode in 2 × 364 days.
        assert!((r.healthy.episodes_per_10_years - 10.0 * 365.25 / 728.0).abs() < 1e-9);
        let passes: Vec<bool> = r.targets.iter().map(|t| t.pass).collect();
        assert_eq!(passes, vec![false, false, true]);
        assert_eq!(r.false_alarms.len(), 1);
        assert_eq!(r.false_alarms[0].from, Some(d0.add_days(140)));
        assert_eq!(r.false_alarms[0].detail, "payment_lateness");
        // The missed failure and the sudden stop are listed; the caught one is not.
        assert_eq!(r.late_or_missed.len(), 2);
        let det = r.per_seed_detection_120.unwrap();
        assert_eq!((det.min, det.max), (0.0, 100.0));
        let text = r.text();
        assert!(text.contains("| FAIL |") && text.contains("| PASS |"));
    }
}
