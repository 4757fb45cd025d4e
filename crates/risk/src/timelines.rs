//! Whole histories as tests: healthy distributors with the everyday noise every label
//! sees (short pays, a few days late, seasons, quarterly statements with long terms)
//! must not be warned about or held; the public failures the product exists for
//! (Allegro Media 2016, Lumberjack Mordam 2009, Valley Media 2001) must be at `alert`
//! long before the day they failed, and stay there.
//!
//! The public timelines are built from what was reported (`shared/background/`): the
//! amounts and exact days are ours, the shape is theirs.

use crate::testkit::*;
use crate::{credit, signals, Level, Thresholds};
use backstock_domain::Date;
use backstock_ledger::facts::{DemandOutcome, StatementFrequency};

/// The noise is reproducible: a seeded generator.
struct Noise(backstock_seeded::Rng);

impl Noise {
    /// A whole number in `lo..=hi`.
    fn int(&mut self, lo: i64, hi: i64) -> i64 {
        self.0.range(lo, hi)
    }
    fn chance(&mut self, permille: i64) -> bool {
        self.0.chance_permille(u64::try_from(permille).unwrap_or(0))
    }
}

/// How one statement of a history is paid: `None` never; else days after the due
/// date and the share paid, per-mille.
type Pay = Option<(i64, i64)>;

/// A distributor's history, one statement per period from `start`.
struct History<'a> {
    dist: &'a str,
    start: &'a str,
    periods: i32,
    quarterly: bool,
    terms: u32,
    /// Days from period end to the statement's arrival.
    lag: i64,
    /// Units sold in period `i`.
    units: &'a dyn Fn(i32) -> i64,
    /// How period `i`'s statement is paid (before noise).
    pay: &'a dyn Fn(i32) -> Pay,
    /// Whether period `i`'s statement is sent at all.
    sent: &'a dyn Fn(i32) -> bool,
    seed: u64,
}

const WHOLESALE: i64 = 950;

impl History<'_> {
    /// Writes the history into `tl`, with everyday noise: a fifth of the statements
    /// paid 96–99.5 %, payments 0–10 days late (now and then 2–3 weeks), statements
    /// arriving a few days either side of the usual lag. The distributor is restocked
    /// (with a purchase order) whenever its stock runs low, six weeks of sales ahead.
    fn write(&self, tl: &mut Tl) {
        let mut n = Noise(backstock_seeded::Rng::new(self.seed));
        let step = if self.quarterly { 3 } else { 1 };
        let mut a = agreement(self.dist, self.start);
        a.payment_terms_days = self.terms;
        a.credit_limit = usd(40_000_000);
        if self.quarterly {
            a.statement_frequency = StatementFrequency::Quarterly;
        }
        let filed = d(self.start).add_days(-30).to_string();
        let number = format!("OR-{}", self.dist);
        let continued = d(&filed).add_months(56).to_string();
        tl.ucc(self.dist, &number, "OR", &filed, None)
            .ucc(
                self.dist,
                &format!("{number}-C"),
                "OR",
                &continued,
                Some(&number),
            )
            .agreement(a)
            .catalog("CD1", WHOLESALE, 300)
            .make(&filed, "CD1", 10_000_000);
        let first = d(self.start);
        let mut held: i64 = 0;
        for i in 0..self.periods {
            let ps = first.add_months(i * step);
            let pe = ps.add_months(step).add_days(-1);
            let units = (self.units)(i).max(0);
            // Restock at the period's start when fewer than 1.5 periods' sales are held.
            if held < units * 3 / 2 {
                let order = units * 3 - held;
                let po = format!("PO-{}-{i}", self.dist);
                let on = ps.to_string();
                tl.po(&po, &on, self.dist, "CD1", order as u64).ship_po(
                    &format!("SH-{}-{i}", self.dist),
                    &ps.add_days(2).to_string(),
                    "label",
                    self.dist,
                    "CD1",
                    order as u64,
                    Some(&po),
                );
                held += order;
            }
            held -= units;
            if !(self.sent)(i) {
                continue;
            }
            let known = pe.add_days((self.lag + n.int(-4, 4)).max(1) as i32);
            let id = format!("{}-{}", self.dist, &ps.to_string()[..7]);
            let gross = units * WHOLESALE;
            tl.statement(
                &id,
                self.dist,
                &ps.to_string(),
                &pe.to_string(),
                &known.to_string(),
                vec![sale("CD1", units, gross)],
            );
            if let Some((late, share)) = (self.pay)(i) {
                let share = if share >= 1000 && n.chance(200) {
                    n.int(960, 995)
                } else {
                    share
                };
                let noise = if n.chance(100) {
                    n.int(14, 21)
                } else {
                    n.int(0, 10)
                };
                let due = pe.add_days(self.terms as i32);
                let on = due.add_days((late + noise) as i32).max(known);
                let amount = gross * share / 1000;
                if amount > 0 {
                    tl.pay(
                        &format!("pay-{id}"),
                        &on.to_string(),
                        self.dist,
                        usd(amount),
                        Some(&id),
                    );
                }
            }
        }
        tl.sort();
    }
}

fn on_time(_: i32) -> Pay {
    Some((0, 1000))
}
fn always(_: i32) -> bool {
    true
}
/// A Q4 season: October–December sell 2.2× the rest of the year.
fn seasonal(start_month: u32, quarterly: bool) -> impl Fn(i32) -> i64 {
    move |i| {
        let months = if quarterly { 3 } else { 1 };
        let m = (start_month as i32 - 1 + i * months).rem_euclid(12) + 1;
        let base = 400 * i64::from(months);
        if m >= 10 {
            base * 22 / 10
        } else {
            base
        }
    }
}

/// Levels at every month end from `from` to `to`.
fn levels(tl: &Tl, dist: &str, from: &str, to: &str) -> Vec<(Date, Level, String)> {
    let t = Thresholds::default();
    let (mut day, to) = (d(from), d(to));
    let mut out = Vec::new();
    while day <= to {
        let a = signals::assess_one(&tl.snap(&day.to_string()), &t, &p(dist)).expect("agreement");
        let why: Vec<String> = a
            .signals
            .iter()
            .filter(|s| s.level >= Level::Alert)
            .map(|s| format!("{}: {}", s.code, s.message))
            .collect();
        out.push((day, a.level, why.join(" | ")));
        day = day.add_months(1);
    }
    out
}

fn assert_never_alert(tl: &Tl, dist: &str, from: &str, to: &str) {
    for (day, level, why) in levels(tl, dist, from, to) {
        assert!(level < Level::Alert, "{dist} on {day}: {level}: {why}");
        let hold = credit::check(
            &tl.snap(&day.to_string()),
            &Thresholds::default(),
            &p(dist),
            &sku("CD1"),
            500,
        );
        assert!(
            hold.iter().all(|r| r.code != "risk_level"),
            "{dist} on {day}: {hold:#?}"
        );
    }
}

/// The first month end from which the level stayed at `alert` or above until `until`.
fn alert_since(tl: &Tl, dist: &str, from: &str, until: &str) -> Option<Date> {
    let mut since = None;
    for (day, level, _) in levels(tl, dist, from, until) {
        if level >= Level::Alert {
            since.get_or_insert(day);
        } else {
            since = None;
        }
    }
    since
}

#[test]
fn healthy_distributors_with_everyday_noise_are_never_held() {
    for seed in 1..=4 {
        // Monthly, 90-day terms, a strong Q4, statements 20 days after the month.
        let season = seasonal(1, false);
        let mut tl = Tl::new();
        History {
            dist: "northwind",
            start: "2011-01-01",
            periods: 60,
            quarterly: false,
            terms: 90,
            lag: 20,
            units: &season,
            pay: &on_time,
            sent: &always,
            seed,
        }
        .write(&mut tl);
        assert_never_alert(&tl, "northwind", "2012-01-31", "2015-12-31");

        // Quarterly, 120-day terms, statements six weeks after the quarter.
        let season = seasonal(1, true);
        let mut tl = Tl::new();
        History {
            dist: "bigriver",
            start: "2011-01-01",
            periods: 20,
            quarterly: true,
            terms: 120,
            lag: 42,
            units: &season,
            pay: &on_time,
            sent: &always,
            seed,
        }
        .write(&mut tl);
        assert_never_alert(&tl, "bigriver", "2012-01-31", "2015-12-31");

        // Always 12–25 days late, for years: a habit.
        let flat = |_| 300;
        let late = |i: i32| Some((12 + i64::from(i % 14), 1000));
        let mut tl = Tl::new();
        History {
            dist: "slowpoke",
            start: "2011-01-01",
            periods: 60,
            quarterly: false,
            terms: 60,
            lag: 15,
            units: &flat,
            pay: &late,
            sent: &always,
            seed,
        }
        .write(&mut tl);
        assert_never_alert(&tl, "slowpoke", "2012-01-31", "2015-12-31");

        // Growing fast: sales triple over four years, stock ordered ahead.
        let growing = |i: i32| 200 + i64::from(i) * 10;
        let mut tl = Tl::new();
        History {
            dist: "rocket",
            start: "2011-01-01",
            periods: 60,
            quarterly: false,
            terms: 60,
            lag: 15,
            units: &growing,
            pay: &on_time,
            sent: &always,
            seed,
        }
        .write(&mut tl);
        assert_never_alert(&tl, "rocket", "2012-01-31", "2015-12-31");
    }
}

#[test]
fn a_short_pay_residual_never_arms_the_purchase_order_rule() {
    // The case seen in the field: a healthy distributor ordering at its selling rate,
    // "in arrears" only by short-pay residuals.
    let flat = |_| 120;
    let short = |i: i32| Some((0, if i % 3 == 0 { 975 } else { 1000 }));
    let mut tl = Tl::new();
    History {
        dist: "northwind",
        start: "2011-01-01",
        periods: 60,
        quarterly: false,
        terms: 90,
        lag: 20,
        units: &flat,
        pay: &short,
        sent: &always,
        seed: 7,
    }
    .write(&mut tl);
    tl.po("PO-LAST", "2015-12-20", "northwind", "CD1", 300)
        .sort();
    let snap = tl.snap("2015-12-31");
    let po = backstock_ledger::facts::PurchaseOrder {
        po_number: "PO-LAST".into(),
        date: d("2015-12-20"),
        distributor: p("northwind"),
        sku: sku("CD1"),
        units: 300,
    };
    let flags = credit::po_flags(&snap, &Thresholds::default(), &po);
    assert!(
        flags.iter().all(|f| f.code != "po_in_arrears"),
        "{flags:#?}"
    );
    let a = signals::assess_one(&snap, &Thresholds::default(), &p("northwind")).unwrap();
    assert!(a.level < Level::Alert, "{a:#?}");
    let ded = a.signals.iter().find(|s| s.code == "deductions").unwrap();
    assert_eq!(ded.level, Level::Ok, "{ded:#?}");
}

/// Allegro Media, 2016: late payments for years, nothing paid "since last year", a
/// label's transfer refused in May, a purchase order the day before the seizure of
/// June 3, 2016.
#[test]
fn allegro_media_2016_is_at_alert_months_before_the_seizure() {
    let units = |_| 300;
    let pay = |i: i32| match i {
        // 2012–2013: on time; 2014: 30–45 days late; 2015: 60–90 days late and short.
        0..=23 => Some((0, 1000)),
        24..=35 => Some((30 + i64::from(i - 24) * 2, 1000)),
        36..=41 => Some((60 + i64::from(i - 36) * 6, 700)),
        _ => None,
    };
    let mut tl = Tl::new();
    History {
        dist: "allegro",
        start: "2012-01-01",
        periods: 53,
        quarterly: false,
        terms: 60,
        lag: 20,
        units: &units,
        pay: &pay,
        sent: &always,
        seed: 2016,
    }
    .write(&mut tl);
    tl.demand("D-2016-05", "allegro", "2016-05-10")
        .response("D-2016-05", "2016-05-20", DemandOutcome::Refused)
        .po("PO-2016-06-02", "2016-06-02", "allegro", "CD1", 500)
        .sort();
    let since = alert_since(&tl, "allegro", "2013-01-31", "2016-05-31").expect("alerted");
    assert!(
        since.days_until(d("2016-06-03")) >= 120,
        "alert only from {since}"
    );
    // Before the trouble, not flagged.
    for (day, level, why) in levels(&tl, "allegro", "2013-01-31", "2013-12-31") {
        assert!(level < Level::Alert, "{day}: {why}");
    }
    let snap = tl.snap("2016-06-02");
    let a = signals::assess_one(&snap, &Thresholds::default(), &p("allegro")).unwrap();
    assert_eq!(a.level, Level::Critical, "{a:#?}");
    let po = backstock_ledger::facts::PurchaseOrder {
        po_number: "PO-2016-06-02".into(),
        date: d("2016-06-02"),
        distributor: p("allegro"),
        sku: sku("CD1"),
        units: 500,
    };
    let flags = credit::po_flags(&snap, &Thresholds::default(), &po);
    let f = flags
        .iter()
        .find(|f| f.code == "po_in_arrears")
        .expect("flagged");
    assert!(f.message.contains("Allegro"), "{}", f.message);
}

/// Lumberjack Mordam, 2009: staff left sixteen months before; then the cheques
/// stopped while statements kept coming; over 100 labels were owed $30–50k each.
#[test]
fn lumberjack_mordam_2009_is_at_alert_when_the_cheques_stop() {
    // Default: 2009-03-01. Payments slip from mid-2008, stop after the 2008-06
    // statement (due 2008-08-29); statements keep coming.
    let units = |_| 350;
    let pay = |i: i32| match i {
        0..=29 => Some((0, 1000)),
        30..=41 => Some((i64::from(i - 29) * 6, 1000)),
        _ => None,
    };
    let mut tl = Tl::new();
    History {
        dist: "lumberjack",
        start: "2005-01-01",
        periods: 50,
        quarterly: false,
        terms: 60,
        lag: 20,
        units: &units,
        pay: &pay,
        sent: &always,
        seed: 2009,
    }
    .write(&mut tl);
    let since = alert_since(&tl, "lumberjack", "2006-01-31", "2009-02-28").expect("alerted");
    assert!(
        since.days_until(d("2009-03-01")) >= 120,
        "alert only from {since}"
    );
    for (day, level, why) in levels(&tl, "lumberjack", "2006-01-31", "2007-06-30") {
        assert!(level < Level::Alert, "{day}: {why}");
    }
}

/// Valley Media, Chapter 11 on 2001-11-20: payments slowed through 2001 and shrank;
/// statements came later; after the petition, return of consigned stock was refused.
#[test]
fn valley_media_2001_is_at_alert_before_the_petition() {
    let units = |_| 500;
    let pay = |i: i32| match i {
        // 1999 to mid-2000 on time; from the 2000-07 statement later and smaller
        // (Valley reported losses through 2000).
        0..=17 => Some((0, 1000)),
        18..=31 => Some((15 + i64::from(i - 18) * 8, 1000 - i64::from(i - 18) * 45)),
        _ => None,
    };
    let sent = |i: i32| i < 33;
    let mut tl = Tl::new();
    History {
        dist: "valley",
        start: "1999-01-01",
        periods: 36,
        quarterly: false,
        terms: 60,
        lag: 20,
        units: &units,
        pay: &pay,
        sent: &sent,
        seed: 2001,
    }
    .write(&mut tl);
    tl.demand("D-2001-11", "valley", "2001-11-26")
        .response("D-2001-11", "2001-12-05", DemandOutcome::Refused)
        .sort();
    let since = alert_since(&tl, "valley", "2000-01-31", "2001-11-19").expect("alerted");
    assert!(
        since.days_until(d("2001-11-20")) >= 120,
        "alert only from {since}"
    );
    let after =
        signals::assess_one(&tl.snap("2001-12-06"), &Thresholds::default(), &p("valley")).unwrap();
    assert_eq!(after.level, Level::Critical);
}

/// The everyday glitch of a quarterly distributor: one statement paid three months
/// late, then back to normal. One quarterly statement is all that falls due in three
/// months, so it must not count as "payments stopped" or "ordering while in arrears"
/// before a monthly distributor's second statement would have joined it.
#[test]
fn a_quarterly_statement_paid_three_months_late_is_watched_not_held() {
    for (seed, late) in [(11, 80), (12, 90), (13, 100)] {
        let season = seasonal(1, true);
        let pay = move |i: i32| Some((if i == 9 { late } else { 0 }, 1000));
        let mut tl = Tl::new();
        History {
            dist: "bigriver",
            start: "2011-01-01",
            periods: 20,
            quarterly: true,
            terms: 120,
            lag: 40,
            units: &season,
            pay: &pay,
            sent: &always,
            seed,
        }
        .write(&mut tl);
        // Period 9 is 2013Q2, due 2013-10-28; orders keep coming while it is late.
        for (i, on) in ["2013-11-15", "2013-12-15", "2014-01-08"]
            .iter()
            .enumerate()
        {
            tl.po(&format!("PO-G{i}"), on, "bigriver", "CD1", 900);
        }
        tl.sort();
        assert_never_alert(&tl, "bigriver", "2012-01-31", "2015-12-31");
        let mid = signals::assess_one(
            &tl.snap("2014-01-10"),
            &Thresholds::default(),
            &p("bigriver"),
        )
        .unwrap();
        assert_eq!(mid.level, Level::Watch, "late {late}: {mid:#?}");
    }
}

/// The everyday glitch of a monthly distributor with long terms: one statement paid
/// three months late while the next is, as usual for it, a week or two late, and
/// purchase orders keep coming meanwhile. Two statements are past due, but it is
/// behind on one: no order is "placed while in arrears on two statements".
#[test]
fn a_monthly_glitch_beside_an_everyday_late_payment_is_not_ordering_while_in_arrears() {
    for (seed, late) in [(31, 80), (32, 89), (33, 100)] {
        let season = seasonal(1, false);
        let pay = move |i: i32| {
            Some((
                match i {
                    20 => late,
                    22 => 10,
                    _ => 0,
                },
                1000,
            ))
        };
        let mut tl = Tl::new();
        History {
            dist: "bigriver",
            start: "2011-01-01",
            periods: 48,
            quarterly: false,
            terms: 120,
            lag: 17,
            units: &season,
            pay: &pay,
            sent: &always,
            seed,
        }
        .write(&mut tl);
        // Period 20 (2012-09) was due 2013-01-28; period 22 on 2013-03-31, paid 10-20
        // days late. Orders while the first is 70-80 days past due and the second
        // 9-14 days.
        for (i, on) in ["2013-04-09", "2013-04-14"].iter().enumerate() {
            tl.po(&format!("PO-G{i}"), on, "bigriver", "CD1", 300);
        }
        tl.sort();
        assert_never_alert(&tl, "bigriver", "2012-01-31", "2014-12-31");
    }
}

/// The same quarterly distributor when it stops paying for good is at `alert` once
/// its first unpaid statement has gone unpaid for a further quarter, and stays there.
#[test]
fn a_quarterly_distributor_that_stops_paying_is_at_alert_within_two_periods() {
    let season = seasonal(1, true);
    let pay = |i: i32| if i >= 9 { None } else { Some((0, 1000)) };
    let mut tl = Tl::new();
    History {
        dist: "bigriver",
        start: "2011-01-01",
        periods: 20,
        quarterly: true,
        terms: 120,
        lag: 40,
        units: &season,
        pay: &pay,
        sent: &always,
        seed: 21,
    }
    .write(&mut tl);
    // 2013Q2 was due 2013-10-28: at alert by the end of February 2014 at the latest.
    let since = alert_since(&tl, "bigriver", "2013-06-30", "2015-12-31").expect("alerted");
    assert!(since <= d("2014-02-28"), "alert only from {since}");
}
