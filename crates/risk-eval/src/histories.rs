//! Seeded histories of one label and its distributors, written as the canonical CSV
//! files a label would import (catalog, distributors, purchase orders, shipments,
//! statements, payments) plus the few records a label types in (UCC-1 continuations,
//! return demands and their answers).
//!
//! One distributor per [`Shape`] (or several with [`GenOptions::per_shape`]); every
//! shape's parameters (rates, onsets, durations, terms, lags) are drawn per seed within
//! the ranges documented on [`Shape`] and in the crate README, so no evaluation is tuned
//! to one history. Every shape carries the same everyday noise: short-pays of
//! 96–99.5 % on 10–25 % of statements, payments 0–10 days late and now and then 2–3
//! weeks late, issue lags that wander by a few days, sales noise and retail returns.

use crate::rng::Rng;
use crate::Real;
use backstock_domain::{Currency, Date, Money, Upc};
use serde::Serialize;
use std::collections::BTreeMap;
use std::fmt::Write as _;

/// What happens to one distributor over the history.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Shape {
    // Healthy: never default.
    /// Strong Q4 (December 2.5–3.5× a normal month), pre-season purchase orders in
    /// August–October like the year before.
    Seasonal,
    /// Quarterly statements, 120-day terms, issued 30–45 days after the quarter.
    QuarterlyLongTerms,
    /// Sales ×2–3 over the history; orders cover 4–5 months ahead of sales.
    GrowingFast,
    /// Sales fall 25–35 % a year; still pays.
    ShrinkingSteadily,
    /// Pays 10–25 days beyond terms, every time.
    AlwaysALittleLate,
    /// Once in the history: one statement paid 80–100 days late, or one statement
    /// missing and then sent 60–90 days late.
    OneGlitch,
    // Failing: default on `default_on`.
    /// Days late creep from ~0 to 90–150 over 9–18 months, then nothing.
    SlowingPayments,
    /// Paid share falls from 100 % to 15–30 % over 9–15 months, then nothing.
    ShrinkingPayments,
    /// Statements later and later (+45–75 days), then none from 6–9 months before the
    /// default; payments follow the statements.
    StatementsStopping,
    /// Stops paying 6–9 months before the default, keeps ordering (2–3× its usual
    /// orders), one last purchase order the day before.
    StockingUpUnpaid,
    /// Payments later (+40–75 days over 10–15 months); the label demands its stock
    /// back 4–8 months before the default and the demand is refused or ignored.
    RefusingReturns,
    /// Normal until 30–60 days before the default, then nothing: little trace.
    SuddenStop,
}

impl Shape {
    pub const ALL: [Shape; 12] = [
        Shape::Seasonal,
        Shape::QuarterlyLongTerms,
        Shape::GrowingFast,
        Shape::ShrinkingSteadily,
        Shape::AlwaysALittleLate,
        Shape::OneGlitch,
        Shape::SlowingPayments,
        Shape::ShrinkingPayments,
        Shape::StatementsStopping,
        Shape::StockingUpUnpaid,
        Shape::RefusingReturns,
        Shape::SuddenStop,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Shape::Seasonal => "seasonal",
            Shape::QuarterlyLongTerms => "quarterly_long_terms",
            Shape::GrowingFast => "growing_fast",
            Shape::ShrinkingSteadily => "shrinking_steadily",
            Shape::AlwaysALittleLate => "always_a_little_late",
            Shape::OneGlitch => "one_glitch",
            Shape::SlowingPayments => "slowing_payments",
            Shape::ShrinkingPayments => "shrinking_payments",
            Shape::StatementsStopping => "statements_stopping",
            Shape::StockingUpUnpaid => "stocking_up_unpaid",
            Shape::RefusingReturns => "refusing_returns",
            Shape::SuddenStop => "sudden_stop",
        }
    }

    pub fn parse(s: &str) -> Option<Shape> {
        Shape::ALL.into_iter().find(|x| x.name() == s)
    }

    /// Whether the distributor defaults.
    pub fn fails(self) -> bool {
        matches!(
            self,
            Shape::SlowingPayments
                | Shape::ShrinkingPayments
                | Shape::StatementsStopping
                | Shape::StockingUpUnpaid
                | Shape::RefusingReturns
                | Shape::SuddenStop
        )
    }

    /// Whether the failure leaves a trace in the label's own data months before the
    /// default (all failing shapes but `sudden_stop`, which is expected to be missed).
    pub fn leaves_trace(self) -> bool {
        self.fails() && self != Shape::SuddenStop
    }
}

impl std::fmt::Display for Shape {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

#[derive(Debug, Clone)]
pub struct GenOptions {
    /// First day of the history (agreements start then).
    pub start: Date,
    /// Length of the history in years.
    pub years: i32,
    /// Distributors per shape.
    pub per_shape: usize,
    /// The shapes to generate (all by default).
    pub shapes: Vec<Shape>,
}

impl Default for GenOptions {
    fn default() -> GenOptions {
        GenOptions {
            start: Date::from_ymd(2012, 1, 1).unwrap_or(Date::EARLIEST),
            years: 5,
            per_shape: 1,
            shapes: Shape::ALL.to_vec(),
        }
    }
}

impl GenOptions {
    /// The last day of the history.
    pub fn end(&self) -> Date {
        self.start.add_months(12 * self.years).add_days(-1)
    }
}

/// One distributor of a generated label and the parameters drawn for it.
#[derive(Debug, Clone, Serialize)]
pub struct DistributorPlan {
    pub name: String,
    pub shape: Shape,
    /// The day it fails (closure, petition, seizure): nothing of it is known after.
    pub default_on: Option<Date>,
    pub quarterly: bool,
    pub payment_terms_days: i64,
    pub credit_limit_minor: i64,
    /// The drawn parameters, as `name → value` text (for the record and `--keep`).
    pub params: BTreeMap<String, String>,
}

/// Records a label types in rather than imports.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Record {
    /// A UCC-1 continuation filed in the six months before the original lapses.
    UccContinuation {
        distributor: String,
        file_number: String,
        continues: String,
        state: String,
        filed_on: Date,
    },
    /// A demand to return all the label's stock (`backstock demand add --kind return`).
    Demand {
        demand_id: String,
        distributor: String,
        made_on: Date,
        via: String,
    },
    /// The distributor's answer (`backstock demand respond --outcome refused`).
    DemandRefused {
        demand_id: String,
        answered_on: Date,
        note: String,
    },
}

impl Record {
    /// The date the label records it (and knows it).
    pub fn date(&self) -> Date {
        match self {
            Record::UccContinuation { filed_on, .. } => *filed_on,
            Record::Demand { made_on, .. } => *made_on,
            Record::DemandRefused { answered_on, .. } => *answered_on,
        }
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct StatementRow {
    pub id: String,
    pub distributor: String,
    pub period_start: Date,
    pub period_end: Date,
    pub issued_on: Date,
    /// Gross sales at wholesale.
    pub sales_minor: i64,
    /// Sales less returns at wholesale (the stock value the statement takes away).
    pub net_sales_minor: i64,
    /// Reserve withheld less released.
    pub reserve_minor: i64,
    pub net_due_minor: i64,
    pub due_on: Date,
}

#[derive(Debug, Clone, Serialize)]
pub struct PaymentRow {
    pub id: String,
    pub date: Date,
    pub distributor: String,
    pub amount_minor: i64,
    pub statement_id: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct PoRow {
    pub number: String,
    pub date: Date,
    pub distributor: String,
    pub units: i64,
}

#[derive(Debug, Clone, Serialize)]
pub struct ShipmentRow {
    pub id: String,
    pub date: Date,
    pub distributor: String,
    pub sku: String,
    pub units: i64,
    pub wholesale_minor: i64,
    pub po: String,
}

/// A generated label: its files and what went into them.
#[derive(Debug, Clone)]
pub struct LabelHistory {
    pub seed: u64,
    pub start: Date,
    pub end: Date,
    /// Canonical CSV files by name.
    pub files: Vec<(String, String)>,
    pub distributors: Vec<DistributorPlan>,
    /// Typed-in records, by date.
    pub records: Vec<Record>,
    pub statements: Vec<StatementRow>,
    pub payments: Vec<PaymentRow>,
    pub purchase_orders: Vec<PoRow>,
    /// Consignment shipments (label → distributor).
    pub shipments: Vec<ShipmentRow>,
}

impl LabelHistory {
    pub fn plan(&self, name: &str) -> Option<&DistributorPlan> {
        self.distributors.iter().find(|d| d.name == name)
    }
}

struct Item {
    sku: String,
    upc: String,
    title: String,
    artist: String,
    format: &'static str,
    release: Date,
    list: i64,
    wholesale: i64,
    cost: i64,
    weight: Real,
}

#[derive(Debug, Clone, Copy)]
enum Glitch {
    LatePayment { on: Date, days: i64 },
    LateStatement { on: Date, days: i64 },
}

/// Everything drawn for one distributor, then its running state.
struct Dist {
    name: String,
    abbr: String,
    shape: Shape,
    rng: Rng,
    quarterly: bool,
    terms: i64,
    lag_base: i64,
    fee_pm: i64,
    reserve_pm: i64,
    short_pay_share: Real,
    scale: Real,
    q4: Real,
    cover: Real,
    yearly_growth: Real,
    default_on: Option<Date>,
    /// When the deterioration starts (failing shapes).
    onset: Option<Date>,
    /// Days late added at the default (slowing, refusing), linear from `onset`.
    peak_late: i64,
    /// Share paid at the default, per-mille (shrinking payments).
    floor_share_pm: i64,
    /// Extra issue lag at the last statement (statements stopping).
    peak_extra_lag: i64,
    /// No statement issued after this (statements stopping, sudden stop).
    statements_stop: Option<Date>,
    /// No payment after this (stocking up, sudden stop).
    payments_stop: Option<Date>,
    /// Orders ×this at the default, from `order_ramp_from` (stocking up).
    order_mult_peak: Real,
    order_ramp_from: Option<Date>,
    /// Sales lost by the default, linear over its last year (failing shapes).
    sales_decline: Real,
    late_habit: i64,
    glitch: Option<Glitch>,
    params: BTreeMap<String, String>,
    // State.
    held: BTreeMap<usize, i64>,
    returns_due: BTreeMap<(i32, usize), i64>,
    /// Reserve withheld: (period end, amount), until released.
    reserves: Vec<(Date, i64)>,
    period_sales: BTreeMap<usize, i64>,
    period_returns: BTreeMap<usize, i64>,
}

fn d(y: i32, m: u32, day: u32) -> Date {
    Date::from_ymd(y, m, day).unwrap_or(Date::EARLIEST)
}

fn money(minor: i64) -> String {
    Money::from_minor(minor, Currency::USD).to_decimal_string()
}

fn rate(permille: i64) -> String {
    format!("{}.{:03}", permille / 1000, permille % 1000)
}

fn csv_text(s: &str) -> String {
    if s.contains([',', '"']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s.to_string()
    }
}

fn days(a: Date, b: Date) -> i64 {
    i64::from(a.days_until(b))
}

/// Where `x` lies between `from` (0) and `to` (1), clamped.
fn frac(x: Date, from: Date, to: Date) -> Real {
    let span = days(from, to).max(1) as Real;
    (days(from, x) as Real / span).clamp(0.0, 1.0)
}

fn add_days(x: Date, n: i64) -> Date {
    x.add_days(i32::try_from(n).unwrap_or(0))
}

const STATES: [&str; 10] = ["NC", "OR", "CA", "NY", "TX", "IL", "WA", "TN", "GA", "MN"];
const WORDS: [&str; 16] = [
    "Copper", "Harbor", "Meridian", "Pine", "Lantern", "Granite", "Willow", "Summit", "River",
    "Atlas", "Beacon", "Cedar", "Delta", "Ember", "Falcon", "Juniper",
];

fn catalog(rng: &mut Rng, start: Date, years: i32) -> Vec<Item> {
    let n = 30;
    let mut out = Vec::new();
    for i in 0..n {
        let format = if i % 9 == 4 {
            "DVD"
        } else if i % 5 == 2 {
            "LP"
        } else {
            "CD"
        };
        // Two thirds of the catalog is out before the history starts; the rest is
        // released during it.
        let release = if i < 20 {
            d(rng.range(2008, 2011) as i32, rng.range(1, 12) as u32, 15).min(start.add_days(-30))
        } else {
            // On the first of a month: distributors order it that month and are
            // shipped from the release day on.
            start.add_months(rng.range(1, i64::from(years) * 12 - 8) as i32)
        };
        let (wholesale, cost) = match format {
            "LP" => (rng.range(44, 52) * 25, 540),
            "DVD" => (rng.range(36, 40) * 25, 220),
            _ => (rng.range(30, 38) * 25, 110),
        };
        let weight = match format {
            "LP" => rng.range(1, 4),
            "DVD" => rng.range(1, 3),
            _ => rng.range(2, 10),
        } as Real;
        let body = format!("85971300{:03}", i + 1);
        let upc = Upc::with_check_digit(&body)
            .map(|u| u.to_string())
            .unwrap_or_default();
        out.push(Item {
            sku: format!("EVL-{:03}-{format}", i + 1),
            upc,
            title: format!("{} {}", WORDS[i % 16], WORDS[(i * 7 + 3) % 16]),
            artist: format!("The {} Band", WORDS[(i * 5 + 1) % 16]),
            format,
            release,
            list: wholesale * 2 - 2,
            wholesale,
            cost,
            weight,
        });
    }
    out
}

impl Dist {
    fn new(shape: Shape, index: usize, rng: &mut Rng, o: &GenOptions) -> Dist {
        let mut r = rng.fork(index as u64 + 1);
        let start = o.start;
        let end = o.end();
        let name = format!("{}-{}", shape.name().replace('_', "-"), index + 1);
        let abbr: String = shape
            .name()
            .split('_')
            .filter_map(|w| w.chars().next())
            .collect::<String>()
            .to_ascii_uppercase()
            + &(index + 1).to_string();
        let quarterly = shape == Shape::QuarterlyLongTerms || r.chance(0.15);
        let terms = match shape {
            Shape::QuarterlyLongTerms => 120,
            _ if quarterly => [60, 90, 120][r.range(0, 2) as usize],
            _ => [60, 75, 90, 90, 120][r.range(0, 4) as usize],
        };
        let lag_base = if quarterly {
            r.range(30, 42)
        } else {
            r.range(12, 35)
        };
        let q4 = if shape == Shape::Seasonal {
            r.real(2.5, 3.5)
        } else {
            r.real(1.5, 2.5)
        };
        let cover = if shape == Shape::GrowingFast {
            r.real(4.0, 5.0)
        } else {
            r.real(2.5, 3.5)
        };
        let yearly_growth = match shape {
            Shape::GrowingFast => r.real(2.0, 3.0).powf(1.0 / Real::from(o.years.max(1))),
            Shape::ShrinkingSteadily => 1.0 - r.real(0.25, 0.35),
            _ => r.real(0.97, 1.05),
        };
        let mut dist = Dist {
            name,
            abbr,
            shape,
            quarterly,
            terms,
            lag_base,
            fee_pm: r.range(180, 250),
            reserve_pm: r.range(100, 250),
            short_pay_share: r.real(0.10, 0.25),
            scale: r.real(0.8, 2.2),
            q4,
            cover,
            yearly_growth,
            default_on: None,
            onset: None,
            peak_late: 0,
            floor_share_pm: 1000,
            peak_extra_lag: 0,
            statements_stop: None,
            payments_stop: None,
            order_mult_peak: 1.0,
            order_ramp_from: None,
            sales_decline: 0.0,
            late_habit: 0,
            glitch: None,
            params: BTreeMap::new(),
            held: BTreeMap::new(),
            returns_due: BTreeMap::new(),
            reserves: Vec::new(),
            period_sales: BTreeMap::new(),
            period_returns: BTreeMap::new(),
            rng: Rng::new(0),
        };
        if shape.fails() {
            // The default falls in the last 1–2 years (at least 60 days before the end,
            // so its aftermath is inside the history, and never in the first two years).
            let last = add_days(end, -60);
            let first = start.add_months(12 * (o.years - 2).max(2)).min(last);
            let dd = add_days(first, r.range(0, days(first, last).max(0)));
            dist.default_on = Some(dd);
            dist.sales_decline = if shape == Shape::SuddenStop {
                0.0
            } else {
                r.real(0.0, 0.3)
            };
            let months_before = |r: &mut Rng, lo: i64, hi: i64| {
                add_days(dd.add_months(-(r.range(lo, hi) as i32)), -r.range(0, 20))
                    .max(start.add_months(3))
            };
            match shape {
                Shape::SlowingPayments => {
                    dist.onset = Some(months_before(&mut r, 9, 18));
                    dist.peak_late = r.range(90, 150);
                }
                Shape::ShrinkingPayments => {
                    dist.onset = Some(months_before(&mut r, 9, 15));
                    dist.floor_share_pm = r.range(150, 300);
                }
                Shape::StatementsStopping => {
                    dist.onset = Some(months_before(&mut r, 12, 18));
                    dist.peak_extra_lag = r.range(45, 75);
                    dist.statements_stop = Some(months_before(&mut r, 6, 9));
                }
                Shape::StockingUpUnpaid => {
                    let stop = months_before(&mut r, 6, 9);
                    dist.payments_stop = Some(stop);
                    dist.onset = Some(stop);
                    dist.order_ramp_from = Some(months_before(&mut r, 9, 12));
                    dist.order_mult_peak = r.real(2.0, 3.0);
                }
                Shape::RefusingReturns => {
                    dist.onset = Some(months_before(&mut r, 10, 15));
                    dist.peak_late = r.range(40, 75);
                }
                Shape::SuddenStop => {
                    let stop = add_days(dd, -r.range(30, 60));
                    dist.statements_stop = Some(stop);
                    dist.payments_stop = Some(stop);
                    dist.onset = Some(stop);
                }
                _ => {}
            }
        }
        match shape {
            Shape::AlwaysALittleLate => dist.late_habit = r.range(10, 25),
            Shape::OneGlitch => {
                let from = start.add_months(12);
                let to = end.add_months(-6);
                let on = add_days(from, r.range(0, days(from, to).max(0)));
                dist.glitch = Some(if r.chance(0.5) {
                    Glitch::LatePayment {
                        on,
                        days: r.range(80, 100),
                    }
                } else {
                    Glitch::LateStatement {
                        on,
                        days: r.range(60, 90),
                    }
                });
            }
            _ => {}
        }
        let p = &mut dist.params;
        p.insert("terms_days".into(), terms.to_string());
        p.insert(
            "statements".into(),
            if quarterly { "quarterly" } else { "monthly" }.into(),
        );
        p.insert("issue_lag_days".into(), lag_base.to_string());
        p.insert("q4_peak".into(), format!("{q4:.2}"));
        p.insert("yearly_growth".into(), format!("{yearly_growth:.3}"));
        p.insert(
            "short_pay_share".into(),
            format!("{:.2}", dist.short_pay_share),
        );
        if let Some(x) = dist.default_on {
            p.insert("default_on".into(), x.to_string());
        }
        if let Some(x) = dist.onset {
            p.insert("onset".into(), x.to_string());
        }
        if dist.peak_late > 0 {
            p.insert("peak_days_late".into(), dist.peak_late.to_string());
        }
        if dist.floor_share_pm < 1000 {
            p.insert("final_paid_share".into(), rate(dist.floor_share_pm));
        }
        if dist.peak_extra_lag > 0 {
            p.insert("peak_extra_lag".into(), dist.peak_extra_lag.to_string());
        }
        if let Some(x) = dist.statements_stop {
            p.insert("statements_stop".into(), x.to_string());
        }
        if let Some(x) = dist.payments_stop {
            p.insert("payments_stop".into(), x.to_string());
        }
        if let Some(x) = dist.order_ramp_from {
            p.insert("orders_ramp_from".into(), x.to_string());
            p.insert(
                "orders_peak_mult".into(),
                format!("{:.2}", dist.order_mult_peak),
            );
        }
        if dist.sales_decline > 0.0 {
            p.insert(
                "sales_decline_last_year".into(),
                format!("{:.2}", dist.sales_decline),
            );
        }
        if dist.late_habit > 0 {
            p.insert("late_habit_days".into(), dist.late_habit.to_string());
        }
        match dist.glitch {
            Some(Glitch::LatePayment { on, days }) => {
                p.insert(
                    "glitch".into(),
                    format!("payment {days} days late near {on}"),
                );
            }
            Some(Glitch::LateStatement { on, days }) => {
                p.insert(
                    "glitch".into(),
                    format!("statement missing, sent {days} days late near {on}"),
                );
            }
            None => {}
        }
        dist.rng = r;
        dist
    }

    /// Units of `item` the distributor expects to sell in the month starting `month`.
    fn expected(&self, item: &Item, start: Date, month: Date) -> Real {
        if item.release > month.last_of_month() {
            return 0.0;
        }
        let since = (month.year() - item.release.year()) * 12 + month.month() as i32
            - item.release.month() as i32;
        let boost = if since < 3 {
            2.5
        } else if since < 6 {
            1.6
        } else {
            1.0
        };
        let season = match month.month() {
            10 => 1.0 + (self.q4 - 1.0) * 0.55,
            11 => 1.0 + (self.q4 - 1.0) * 0.8,
            12 => self.q4,
            1 => 0.8,
            2 => 0.85,
            _ => 1.0,
        };
        let years = days(start, month) as Real / 365.25;
        let trend = self.yearly_growth.powf(years);
        let decline = match self.default_on {
            Some(dd) if self.sales_decline > 0.0 => {
                1.0 - self.sales_decline * frac(month, dd.add_months(-12), dd)
            }
            _ => 1.0,
        };
        self.scale * item.weight * boost * season * trend * decline
    }

    fn order_mult(&self, on: Date) -> Real {
        match (self.order_ramp_from, self.default_on) {
            (Some(from), Some(dd)) => 1.0 + (self.order_mult_peak - 1.0) * frac(on, from, dd),
            _ => 1.0,
        }
    }

    fn alive_on(&self, x: Date) -> bool {
        self.default_on.is_none_or(|dd| x < dd)
    }
}

struct Out {
    pos: String,
    ships: String,
    stmts: String,
    pays: String,
    label_stock: BTreeMap<usize, i64>,
    po_n: u64,
    ship_n: u64,
    run_n: u64,
    pay_n: u64,
    statements: Vec<StatementRow>,
    payments: Vec<PaymentRow>,
    purchase_orders: Vec<PoRow>,
    shipments: Vec<ShipmentRow>,
}

/// Generates one label's history for `seed`.
pub fn generate(seed: u64, o: &GenOptions) -> LabelHistory {
    let mut rng = Rng::new(seed ^ 0x5eed_0000_0000_0000);
    let start = o.start;
    let end = o.end();
    let cat = catalog(&mut rng.fork(0xca7), start, o.years);
    let mut dists: Vec<Dist> = Vec::new();
    for (si, shape) in o.shapes.iter().enumerate() {
        for k in 0..o.per_shape.max(1) {
            let mut r = rng.fork((si * 1000 + k) as u64 + 17);
            dists.push(Dist::new(*shape, k, &mut r, o));
        }
    }
    let mut out = Out {
        pos: String::from("po_number,date,distributor,sku,units\n"),
        ships: String::from("shipment_id,date,from,to,sku,units,po_number\n"),
        stmts: String::from("statement_id,distributor,period_start,period_end,issued_on,kind,sku,units,amount,currency,memo\n"),
        pays: String::from("payment_id,date,distributor,amount,currency,statement_id\n"),
        label_stock: BTreeMap::new(),
        po_n: 1000,
        ship_n: 5000,
        run_n: 100,
        pay_n: 9000,
        statements: Vec::new(),
        payments: Vec::new(),
        purchase_orders: Vec::new(),
        shipments: Vec::new(),
    };
    let months = o.years * 12;
    for mi in 0..months {
        let month = start.add_months(mi);
        // The label presses at the start of a month what the month's shipments need,
        // so every run comes before every shipment it feeds.
        let mut runs: Vec<(usize, i64)> = Vec::new();
        let mark = out.ships.len();
        for dist in dists.iter_mut() {
            if !dist.alive_on(month) {
                continue;
            }
            order_and_ship(dist, &cat, start, end, month, &mut out, &mut runs);
            sell(dist, &cat, start, mi, month);
            if !dist.quarterly || month.month().is_multiple_of(3) {
                statement(dist, &cat, month, end, &mut out);
            }
        }
        // The runs go in the file before the month's shipments (an import reads the
        // file in order).
        let mut run_lines = String::new();
        for (i, units) in runs {
            out.run_n += 1;
            let _ = writeln!(
                run_lines,
                "RUN-{},{},plant:evergreen,label,{},{units},",
                out.run_n, month, cat[i].sku
            );
        }
        out.ships.insert_str(mark, &run_lines);
    }
    let mut records = Vec::new();
    let mut plans = Vec::new();
    let mut agreements = String::from("distributor,legal_name,state_of_organization,agreement_start,fee_rate,payment_terms_days,statement_frequency,reserve_rate,reserve_release_days,credit_limit,currency,title_retained,ucc1_file_number,ucc1_filed_on,ucc1_state\n");
    for (di, dist) in dists.iter_mut().enumerate() {
        let mut rng_d = std::mem::replace(&mut dist.rng, Rng::new(0));
        let r = &mut rng_d;
        let state = STATES[r.range(0, STATES.len() as i64 - 1) as usize];
        let filed = add_days(start, -r.range(10, 90));
        let file_number = format!("{}{:07}", filed.year(), r.range(0, 9_999_999));
        let lapse = filed.add_months(60);
        let cont = add_days(lapse.add_months(-(r.range(2, 5) as i32)), -r.range(0, 20));
        if cont <= end && dist.alive_on(cont) {
            records.push(Record::UccContinuation {
                distributor: dist.name.clone(),
                file_number: format!("{file_number}-C1"),
                continues: file_number.clone(),
                state: state.into(),
                filed_on: cont,
            });
        }
        if dist.shape == Shape::RefusingReturns {
            if let Some(dd) = dist.default_on {
                let made = add_days(dd.add_months(-(r.range(4, 8) as i32)), -r.range(0, 20));
                let id = format!("D-{}-{}", made.year(), di + 1);
                records.push(Record::Demand {
                    demand_id: id.clone(),
                    distributor: dist.name.clone(),
                    made_on: made,
                    via: "certified mail and email".into(),
                });
                if r.chance(0.6) {
                    let on = add_days(made, r.range(5, 30));
                    records.push(Record::DemandRefused {
                        demand_id: id,
                        answered_on: on,
                        note: "no returns while the account is under review".into(),
                    });
                    dist.params
                        .insert("demand".into(), format!("made {made}, refused {on}"));
                } else {
                    dist.params
                        .insert("demand".into(), format!("made {made}, never answered"));
                }
            }
        }
        let limit = credit_limit(dist, &out, start, end);
        let limit = (limit as Real * r.real(1.5, 2.0)) as i64;
        let limit = ((limit / 100_000) + 1) * 100_000;
        dist.params.insert("credit_limit".into(), money(limit));
        let legal = format!(
            "{} {} Distribution, Inc.",
            WORDS[(di * 3) % 16],
            WORDS[(di * 5 + 2) % 16]
        );
        let _ = writeln!(
            agreements,
            "{},{},{state},{start},{},{},{},{},180,{},USD,true,{file_number},{filed},{state}",
            dist.name,
            csv_text(&legal),
            rate(dist.fee_pm),
            dist.terms,
            if dist.quarterly {
                "quarterly"
            } else {
                "monthly"
            },
            rate(dist.reserve_pm),
            money(limit),
        );
        dist.rng = rng_d;
        plans.push(DistributorPlan {
            name: dist.name.clone(),
            shape: dist.shape,
            default_on: dist.default_on,
            quarterly: dist.quarterly,
            payment_terms_days: dist.terms,
            credit_limit_minor: limit,
            params: dist.params.clone(),
        });
    }
    records.sort_by_key(|r| r.date());
    let mut catalog_csv = String::from(
        "sku,upc,title,artist,format,release_date,list_price,wholesale_price,unit_cost,currency\n",
    );
    for it in &cat {
        let _ = writeln!(
            catalog_csv,
            "{},{},{},{},{},{},{},{},{},USD",
            it.sku,
            it.upc,
            csv_text(&it.title),
            csv_text(&it.artist),
            it.format,
            it.release,
            money(it.list),
            money(it.wholesale),
            money(it.cost)
        );
    }
    LabelHistory {
        seed,
        start,
        end,
        files: vec![
            ("catalog.csv".into(), catalog_csv),
            ("distributors.csv".into(), agreements),
            ("purchase_orders.csv".into(), out.pos),
            ("shipments.csv".into(), out.ships),
            ("statements.csv".into(), out.stmts),
            ("payments.csv".into(), out.pays),
        ],
        distributors: plans,
        records,
        statements: out.statements,
        payments: out.payments,
        purchase_orders: out.purchase_orders,
        shipments: out.shipments,
    }
}

/// The most the label had at stake with the distributor while it behaved normally
/// (consigned stock at wholesale + unpaid statements + reserves, as the label knew it at
/// each month end): the credit limit is set comfortably above it.
fn credit_limit(dist: &Dist, out: &Out, start: Date, end: Date) -> i64 {
    let normal_until = match (dist.onset, dist.default_on) {
        (Some(on), _) => on,
        (None, Some(dd)) => dd.add_months(-12),
        (None, None) => end,
    }
    .max(start.add_months(12));
    let ships: Vec<&ShipmentRow> = out
        .shipments
        .iter()
        .filter(|s| s.distributor == dist.name)
        .collect();
    let stmts: Vec<&StatementRow> = out
        .statements
        .iter()
        .filter(|s| s.distributor == dist.name)
        .collect();
    let pays: Vec<&PaymentRow> = out
        .payments
        .iter()
        .filter(|p| p.distributor == dist.name)
        .collect();
    // At every month end and every shipment day (the highs come right after a
    // shipment, before the sales are reported).
    let mut when: Vec<Date> = ships.iter().map(|s| s.date).collect();
    let mut t = start.last_of_month();
    while t <= normal_until {
        when.push(t);
        t = t.add_days(1).add_months(1).add_days(-1);
    }
    when.retain(|t| *t <= normal_until);
    when.sort();
    when.dedup();
    let mut best = 0i64;
    for t in when {
        let shipped: i64 = ships
            .iter()
            .filter(|s| s.date <= t)
            .map(|s| s.units * s.wholesale_minor)
            .sum();
        let known = stmts.iter().filter(|s| s.issued_on <= t);
        let (mut sold, mut due, mut reserve) = (0i64, 0i64, 0i64);
        for s in known {
            sold += s.net_sales_minor;
            due += s.net_due_minor;
            reserve += s.reserve_minor;
        }
        let paid: i64 = pays
            .iter()
            .filter(|p| p.date <= t)
            .map(|p| p.amount_minor)
            .sum();
        best = best.max(shipped - sold + (due - paid).max(0) + reserve);
    }
    best
}

fn round5(x: Real) -> i64 {
    ((x / 5.0).ceil() as i64) * 5
}

fn order_and_ship(
    dist: &mut Dist,
    cat: &[Item],
    start: Date,
    end: Date,
    month: Date,
    out: &mut Out,
    runs: &mut Vec<(usize, i64)>,
) {
    let po_day = month.add_days(dist.rng.range(1, 8) as i32);
    let mult = dist.order_mult(po_day);
    let whole = dist.cover.floor() as i32;
    let part = dist.cover - Real::from(whole);
    let mut lines = Vec::new();
    for (i, it) in cat.iter().enumerate() {
        if it.release > month.last_of_month() {
            continue;
        }
        let mut forecast = 0.0;
        for k in 0..whole {
            forecast += dist.expected(it, start, month.add_months(k));
        }
        forecast += part * dist.expected(it, start, month.add_months(whole));
        forecast *= mult;
        let reorder = (dist.expected(it, start, month)
            + dist.expected(it, start, month.add_months(1)))
            * mult;
        let held = *dist.held.get(&i).unwrap_or(&0);
        if (held as Real) < reorder {
            let want = round5(forecast - held as Real);
            if want >= 10 {
                lines.push((i, want));
            }
        }
    }
    let alive_po = po_day <= end && dist.alive_on(po_day);
    if alive_po && !lines.is_empty() {
        out.po_n += 1;
        let po = format!("{}-PO{}", dist.abbr, out.po_n);
        let ship_day = add_days(po_day, dist.rng.range(2, 6));
        let ships = ship_day <= end && dist.alive_on(ship_day);
        let mut total = 0;
        for (i, units) in &lines {
            total += units;
            let _ = writeln!(
                out.pos,
                "{po},{po_day},{},{},{units}",
                dist.name, cat[*i].sku
            );
        }
        out.purchase_orders.push(PoRow {
            number: po.clone(),
            date: po_day,
            distributor: dist.name.clone(),
            units: total,
        });
        if ships {
            out.ship_n += 1;
            let sid = format!("SH-{}", out.ship_n);
            for (i, units) in lines {
                let have = out.label_stock.entry(i).or_insert(0);
                if *have < units {
                    let lot = if cat[i].format == "CD" { 1000 } else { 500 };
                    let press = ((units - *have) / lot + 1) * lot;
                    runs.push((i, press));
                    *have += press;
                }
                *have -= units;
                *dist.held.entry(i).or_insert(0) += units;
                let _ = writeln!(
                    out.ships,
                    "{sid},{ship_day},label,{},{},{units},{po}",
                    dist.name, cat[i].sku
                );
                out.shipments.push(ShipmentRow {
                    id: sid.clone(),
                    date: ship_day,
                    distributor: dist.name.clone(),
                    sku: cat[i].sku.clone(),
                    units,
                    wholesale_minor: cat[i].wholesale,
                    po: po.clone(),
                });
            }
        }
    }
    // The stocking-up distributor's last order, the day before it closes (not shipped).
    if dist.shape == Shape::StockingUpUnpaid {
        if let Some(dd) = dist.default_on {
            let last = dd.add_days(-1);
            if last.first_of_month() == month && last <= end {
                out.po_n += 1;
                let po = format!("{}-PO{}", dist.abbr, out.po_n);
                let mut total = 0;
                for (i, it) in cat.iter().enumerate() {
                    let want = round5(dist.expected(it, start, month) * mult * 2.0);
                    if it.release <= month && want >= 10 {
                        total += want;
                        let _ =
                            writeln!(out.pos, "{po},{last},{},{},{want}", dist.name, cat[i].sku);
                    }
                }
                if total > 0 {
                    out.purchase_orders.push(PoRow {
                        number: po,
                        date: last,
                        distributor: dist.name.clone(),
                        units: total,
                    });
                }
            }
        }
    }
}

fn sell(dist: &mut Dist, cat: &[Item], start: Date, mi: i32, month: Date) {
    for (i, it) in cat.iter().enumerate() {
        if let Some(back) = dist.returns_due.remove(&(mi, i)) {
            *dist.held.entry(i).or_insert(0) += back;
            *dist.period_returns.entry(i).or_insert(0) += back;
        }
        let exp = dist.expected(it, start, month);
        if exp <= 0.0 {
            continue;
        }
        let noise = dist.rng.real(0.7, 1.3);
        let want = ((exp * noise).round() as i64 + dist.rng.range(-1, 1)).max(0);
        let held = dist.held.entry(i).or_insert(0);
        let sold = want.min(*held);
        if sold <= 0 {
            continue;
        }
        *held -= sold;
        *dist.period_sales.entry(i).or_insert(0) += sold;
        let back = (sold as Real * dist.rng.real(0.03, 0.10)).round() as i64;
        if back > 0 {
            let when = mi + dist.rng.range(2, 3) as i32;
            *dist.returns_due.entry((when, i)).or_insert(0) += back;
        }
    }
}

/// Usual lateness: 0–10 days, now and then (6 %) two to three weeks.
fn everyday_late(r: &mut Rng) -> i64 {
    if r.chance(0.06) {
        r.range(14, 21)
    } else if r.chance(0.6) {
        r.range(0, 3)
    } else {
        r.range(4, 10)
    }
}

fn statement(dist: &mut Dist, cat: &[Item], month: Date, end: Date, out: &mut Out) {
    let mut r = std::mem::replace(&mut dist.rng, Rng::new(0));
    statement_with(dist, &mut r, cat, month, end, out);
    dist.rng = r;
}

fn statement_with(
    dist: &mut Dist,
    r: &mut Rng,
    cat: &[Item],
    month: Date,
    end: Date,
    out: &mut Out,
) {
    let pe = month.last_of_month();
    let ps = if dist.quarterly {
        month.add_months(-2)
    } else {
        month
    };
    let sid = if dist.quarterly {
        format!(
            "{}-{}-Q{}",
            dist.name.to_ascii_uppercase(),
            pe.year(),
            pe.month().div_ceil(3)
        )
    } else {
        format!(
            "{}-{}-{:02}",
            dist.name.to_ascii_uppercase(),
            pe.year(),
            pe.month()
        )
    };
    let sales = std::mem::take(&mut dist.period_sales);
    let returns = std::mem::take(&mut dist.period_returns);
    let mut lines: Vec<(String, String, String, i64, &str)> = Vec::new();
    let (mut sales_minor, mut returns_minor) = (0i64, 0i64);
    for (i, units) in &sales {
        let amount = units * cat[*i].wholesale;
        sales_minor += amount;
        lines.push((
            "sale".into(),
            cat[*i].sku.clone(),
            units.to_string(),
            amount,
            "",
        ));
    }
    for (i, units) in &returns {
        let amount = units * cat[*i].wholesale;
        returns_minor += amount;
        lines.push((
            "return".into(),
            cat[*i].sku.clone(),
            units.to_string(),
            amount,
            "retail returns",
        ));
    }
    let fee = ((sales_minor - returns_minor).max(0) * dist.fee_pm + 500) / 1000;
    let withheld = (sales_minor * dist.reserve_pm + 500) / 1000;
    let release_before = pe.add_days(-180);
    let released: i64 = dist
        .reserves
        .iter()
        .filter(|(w, _)| *w <= release_before)
        .map(|(_, a)| a)
        .sum();
    dist.reserves.retain(|(w, _)| *w > release_before);
    if withheld > 0 {
        dist.reserves.push((pe, withheld));
    }
    if fee > 0 {
        lines.push((
            "fee".into(),
            String::new(),
            String::new(),
            fee,
            "distribution fee",
        ));
    }
    if withheld > 0 {
        lines.push((
            "reserve_withheld".into(),
            String::new(),
            String::new(),
            withheld,
            "reserve against returns",
        ));
    }
    if released > 0 {
        lines.push((
            "reserve_released".into(),
            String::new(),
            String::new(),
            released,
            "reserve released",
        ));
    }
    if lines.is_empty() {
        lines.push((
            "adjustment".into(),
            String::new(),
            String::new(),
            0,
            "nothing to report",
        ));
    }
    let net = sales_minor - returns_minor - fee - withheld + released;

    // When the statement arrives.
    let mut lag = (dist.lag_base + r.range(-5, 5)).max(7);
    if dist.shape == Shape::StatementsStopping {
        // Later and later until the last one, then none.
        if let (Some(on), Some(stop)) = (dist.onset, dist.statements_stop) {
            lag += (dist.peak_extra_lag as Real * frac(pe, on, stop)).round() as i64;
        }
    }
    let glitch_here = |on: Date| ps <= on && on <= pe;
    if let Some(Glitch::LateStatement { on, days }) = dist.glitch {
        if glitch_here(on) {
            lag += days;
        }
    }
    let issued = add_days(pe, lag);
    if dist.statements_stop.is_some_and(|s| pe > s || issued >= s)
        || !dist.alive_on(issued)
        || issued > end
    {
        return;
    }
    for (kind, sku, units, amount, memo) in &lines {
        let _ = writeln!(
            out.stmts,
            "{sid},{},{ps},{pe},{issued},{kind},{sku},{units},{},USD,{memo}",
            dist.name,
            money(*amount)
        );
    }
    let due = add_days(pe, dist.terms);
    out.statements.push(StatementRow {
        id: sid.clone(),
        distributor: dist.name.clone(),
        period_start: ps,
        period_end: pe,
        issued_on: issued,
        sales_minor,
        net_sales_minor: sales_minor - returns_minor,
        reserve_minor: withheld - released,
        net_due_minor: net,
        due_on: due,
    });

    // The payment.
    let mut late = everyday_late(r);
    let mut share_pm = if r.chance(dist.short_pay_share) {
        r.range(960, 995)
    } else {
        1000
    };
    match dist.shape {
        Shape::AlwaysALittleLate => late = (dist.late_habit + r.range(-4, 4)).max(5),
        Shape::OneGlitch => {
            if let Some(Glitch::LatePayment { on, days }) = dist.glitch {
                if glitch_here(on) {
                    late = days;
                }
            }
        }
        Shape::SlowingPayments | Shape::RefusingReturns => {
            if let (Some(on), Some(dd)) = (dist.onset, dist.default_on) {
                late += (dist.peak_late as Real * frac(due, on, dd)).round() as i64;
            }
        }
        Shape::ShrinkingPayments => {
            if let (Some(on), Some(dd)) = (dist.onset, dist.default_on) {
                let f = frac(due, on, dd);
                let cap = 1000 - ((1000 - dist.floor_share_pm) as Real * f).round() as i64;
                share_pm = share_pm.min(cap);
            }
        }
        _ => {}
    }
    let mut paid_on = add_days(due, late);
    // A statement that came late is paid a few days after it came.
    let earliest = add_days(issued, r.range(5, 15));
    if paid_on < earliest {
        paid_on = earliest;
    }
    let amount = net * share_pm / 1000;
    if amount <= 0
        || paid_on > end
        || !dist.alive_on(paid_on)
        || dist.payments_stop.is_some_and(|s| paid_on >= s)
    {
        return;
    }
    out.pay_n += 1;
    let pid = format!("P{}", out.pay_n);
    let _ = writeln!(
        out.pays,
        "{pid},{paid_on},{},{},USD,{sid}",
        dist.name,
        money(amount)
    );
    out.payments.push(PaymentRow {
        id: pid,
        date: paid_on,
        distributor: dist.name.clone(),
        amount_minor: amount,
        statement_id: sid,
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hist(seed: u64) -> LabelHistory {
        generate(seed, &GenOptions::default())
    }

    #[test]
    fn the_same_seed_gives_the_same_files_and_other_seeds_differ() {
        let a = hist(11);
        let b = hist(11);
        let c = hist(12);
        assert_eq!(a.files, b.files);
        assert_eq!(a.records, b.records);
        assert_ne!(a.files, c.files);
        let da: Vec<_> = a.distributors.iter().map(|x| x.default_on).collect();
        let dc: Vec<_> = c.distributors.iter().map(|x| x.default_on).collect();
        assert_ne!(da, dc, "default dates are drawn per seed");
    }

    #[test]
    fn twelve_shapes_six_fail_and_defaults_fall_in_the_last_two_years() {
        let h = hist(3);
        assert_eq!(h.distributors.len(), 12);
        assert_eq!(h.distributors.iter().filter(|d| d.shape.fails()).count(), 6);
        let from = h.start.add_months(36);
        for dp in &h.distributors {
            match dp.default_on {
                Some(dd) => {
                    assert!(dp.shape.fails());
                    assert!(dd >= from && dd <= h.end, "{} defaults {dd}", dp.name);
                    // Nothing of it is known after the default (but the last PO).
                    assert!(h
                        .payments
                        .iter()
                        .all(|p| p.distributor != dp.name || p.date < dd));
                    assert!(h
                        .statements
                        .iter()
                        .all(|s| s.distributor != dp.name || s.issued_on < dd));
                    assert!(h
                        .shipments
                        .iter()
                        .all(|s| s.distributor != dp.name || s.date < dd));
                }
                None => assert!(!dp.shape.fails()),
            }
        }
    }

    #[test]
    fn every_shape_has_everyday_short_pays_and_lateness() {
        for seed in [1u64, 2, 3] {
            let h = hist(seed);
            for dp in &h.distributors {
                let stmts: BTreeMap<&str, &StatementRow> = h
                    .statements
                    .iter()
                    .filter(|s| s.distributor == dp.name)
                    .map(|s| (s.id.as_str(), s))
                    .collect();
                let pays: Vec<&PaymentRow> = h
                    .payments
                    .iter()
                    .filter(|p| p.distributor == dp.name)
                    .collect();
                let short = pays
                    .iter()
                    .filter(|p| {
                        let s = stmts[p.statement_id.as_str()];
                        let pm = p.amount_minor * 1000 / s.net_due_minor.max(1);
                        (955..=996).contains(&pm)
                    })
                    .count();
                assert!(
                    short >= 1,
                    "seed {seed} {}: {short} short pays of {}",
                    dp.name,
                    pays.len()
                );
                let late = pays
                    .iter()
                    .filter(|p| stmts[p.statement_id.as_str()].due_on < p.date)
                    .count();
                assert!(late >= 1, "seed {seed} {}: never late", dp.name);
            }
        }
    }

    #[test]
    fn sales_never_exceed_what_the_distributor_was_shipped() {
        let h = hist(5);
        for dp in &h.distributors {
            let shipped: i64 = h
                .shipments
                .iter()
                .filter(|s| s.distributor == dp.name)
                .map(|s| s.units * s.wholesale_minor)
                .sum();
            let sold: i64 = h
                .statements
                .iter()
                .filter(|s| s.distributor == dp.name)
                .map(|s| s.net_sales_minor)
                .sum();
            assert!(
                sold > 0 && sold <= shipped,
                "{}: {sold} > {shipped}",
                dp.name
            );
        }
    }

    #[test]
    fn growing_grows_and_shrinking_shrinks() {
        for seed in 1..4u64 {
            let h = hist(seed);
            let year_sales = |name: &str, y: i32| -> i64 {
                h.statements
                    .iter()
                    .filter(|s| s.distributor == name && s.period_end.year() == y)
                    .map(|s| s.sales_minor)
                    .sum()
            };
            let g = year_sales("growing-fast-1", 2016) as Real
                / year_sales("growing-fast-1", 2012) as Real;
            // Sales ×2–3 over the history, less what new releases did in the first year.
            assert!(g > 1.4, "seed {seed}: growing ×{g:.2}");
            let s = year_sales("shrinking-steadily-1", 2016) as Real
                / year_sales("shrinking-steadily-1", 2012) as Real;
            assert!(s < 0.45, "seed {seed}: shrinking ×{s:.2}");
        }
    }

    /// Share of what fell due in `[from, to)` that was paid (by statement).
    fn paid_share(h: &LabelHistory, name: &str, from: Date, to: Date) -> Real {
        let (mut due, mut paid) = (0i64, 0i64);
        for s in h
            .statements
            .iter()
            .filter(|s| s.distributor == name && s.due_on >= from && s.due_on < to)
        {
            due += s.net_due_minor.max(0);
            paid += h
                .payments
                .iter()
                .filter(|p| p.statement_id == s.id)
                .map(|p| p.amount_minor)
                .sum::<i64>();
        }
        paid as Real / due.max(1) as Real
    }

    fn failing(h: &LabelHistory, shape: Shape) -> (String, Date) {
        let p = h.distributors.iter().find(|d| d.shape == shape).unwrap();
        (p.name.clone(), p.default_on.unwrap())
    }

    #[test]
    fn failing_shapes_show_their_pattern() {
        for seed in 1..=6u64 {
            let h = hist(seed);
            // Shrinking payments: under 60 % of what fell due in the last 6 months.
            let (n, dd) = failing(&h, Shape::ShrinkingPayments);
            let share = paid_share(&h, &n, dd.add_months(-6), dd);
            assert!(share < 0.6, "seed {seed}: {n} paid {share:.2}");
            assert!(paid_share(&h, &n, h.start, h.start.add_months(18)) > 0.97);

            // Stocking up: a PO within 2 days before the default, no payment in its last
            // 5 months, and more ordered in its last 6 months than a year earlier.
            let (n, dd) = failing(&h, Shape::StockingUpUnpaid);
            assert!(h
                .purchase_orders
                .iter()
                .any(|p| p.distributor == n && p.date < dd && days(p.date, dd) <= 2));
            assert!(!h
                .payments
                .iter()
                .any(|p| p.distributor == n && p.date >= dd.add_months(-5)));
            let ordered = |from: Date, to: Date| -> i64 {
                h.purchase_orders
                    .iter()
                    .filter(|p| p.distributor == n && p.date >= from && p.date < to)
                    .map(|p| p.units)
                    .sum()
            };
            let recent = ordered(dd.add_months(-6), dd);
            let before = ordered(dd.add_months(-18), dd.add_months(-12));
            assert!(recent > before, "seed {seed}: {recent} vs {before}");

            // Slowing payments: the last payments are ≥ 60 days late, the early ones not.
            let (n, dd) = failing(&h, Shape::SlowingPayments);
            let lateness = |from: Date, to: Date| -> Vec<i64> {
                h.payments
                    .iter()
                    .filter(|p| p.distributor == n && p.date >= from && p.date < to)
                    .map(|p| {
                        let s = h
                            .statements
                            .iter()
                            .find(|s| s.id == p.statement_id)
                            .unwrap();
                        days(s.due_on, p.date)
                    })
                    .collect()
            };
            let last = lateness(dd.add_months(-3), dd);
            assert!(last.iter().all(|l| *l >= 50), "seed {seed}: {last:?}");
            let early = lateness(h.start, h.start.add_months(12));
            assert!(early.iter().all(|l| *l <= 21), "seed {seed}: {early:?}");

            // Statements stopping: none issued in the last 6 months, later and later
            // before that.
            let (n, dd) = failing(&h, Shape::StatementsStopping);
            let st: Vec<&StatementRow> =
                h.statements.iter().filter(|s| s.distributor == n).collect();
            assert!(st.iter().all(|s| s.issued_on < dd.add_months(-6)));
            let lag = |s: &&StatementRow| days(s.period_end, s.issued_on);
            let last_lag = st.iter().rev().take(2).map(lag).max().unwrap();
            let first_lag = st.iter().take(6).map(lag).max().unwrap();
            assert!(
                last_lag > first_lag + 15,
                "seed {seed}: {first_lag} → {last_lag}"
            );

            // Refusing returns: a demand 4–8 months before the default.
            let (n, dd) = failing(&h, Shape::RefusingReturns);
            let demand = h.records.iter().find_map(|r| match r {
                Record::Demand {
                    distributor,
                    made_on,
                    ..
                } if *distributor == n => Some(*made_on),
                _ => None,
            });
            let made = demand.expect("a demand");
            assert!(made >= dd.add_months(-9) && made <= dd.add_months(-4));

            // Sudden stop: paid in full until two months before the default.
            let (n, dd) = failing(&h, Shape::SuddenStop);
            assert!(paid_share(&h, &n, h.start, dd.add_months(-3)) > 0.97);
            assert!(!h
                .payments
                .iter()
                .any(|p| p.distributor == n && p.date >= dd.add_days(-30)));
        }
    }

    #[test]
    fn healthy_shapes_keep_paying_and_reporting() {
        for seed in 1..=6u64 {
            let h = hist(seed);
            for dp in h.distributors.iter().filter(|d| !d.shape.fails()) {
                let share = paid_share(&h, &dp.name, h.start, h.end.add_months(-6));
                assert!(share > 0.97, "seed {seed} {}: {share:.3}", dp.name);
                let n = h
                    .statements
                    .iter()
                    .filter(|s| s.distributor == dp.name)
                    .count();
                let expected = if dp.quarterly { 19 } else { 58 };
                assert!(n >= expected, "seed {seed} {}: {n} statements", dp.name);
            }
            let q = h.plan("quarterly-long-terms-1").unwrap();
            assert!(q.quarterly && q.payment_terms_days == 120);
            let late = h.plan("always-a-little-late-1").unwrap();
            let habit: i64 = late.params["late_habit_days"].parse().unwrap();
            assert!((10..=25).contains(&habit));
        }
    }

    #[test]
    fn ucc_filed_before_the_start_and_continued_in_its_window() {
        let h = hist(9);
        let csv = &h
            .files
            .iter()
            .find(|(n, _)| n == "distributors.csv")
            .unwrap()
            .1;
        for line in csv.lines().skip(1) {
            let filed = Date::parse(line.rsplit(',').nth(1).unwrap()).unwrap();
            assert!(filed < h.start);
        }
        let conts = h
            .records
            .iter()
            .filter(|r| matches!(r, Record::UccContinuation { .. }))
            .count();
        // Every distributor alive at its continuation date continues its filing.
        assert!(conts >= 6, "{conts} continuations");
    }
}
