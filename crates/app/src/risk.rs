//! Receivables, reconciliation, early warning, alerts, credit hold, legal, demands.

use crate::output::{money, thousands, Format, Table};
use crate::{user, AppError, Exit};
use backstock_domain::{Date, Money, PartyId, Sku};
use backstock_ledger::{Entry, EntryId, EntryKind, Event, Fact, Provenance};
use backstock_risk::{Level, Snapshot, Thresholds};
use backstock_store::query::{StockFilter, StockRow};
use backstock_store::Store;
use serde_json::json;
use std::collections::BTreeMap;
use std::io::{Read, Write};
use std::time::Duration;

/// The label's "today": the real date, or the date a demo label lives on.
pub async fn today(store: &Store) -> Result<Date, AppError> {
    if let Some(d) = store.meta("today").await? {
        if let Ok(d) = Date::parse(&d) {
            return Ok(d);
        }
    }
    Ok(crate::today())
}

/// The given date, or the label's today.
async fn as_of_or_today(store: &Store, as_of: Option<Date>) -> Result<Date, AppError> {
    match as_of {
        Some(d) => Ok(d),
        None => today(store).await,
    }
}

pub async fn thresholds(store: &Store) -> Result<Thresholds, AppError> {
    match store.meta("risk_thresholds").await? {
        None => Ok(Thresholds::default()),
        Some(j) => serde_json::from_str(&j).map_err(|e| {
            AppError::new(
                Exit::Other,
                format!("stored risk thresholds are unreadable: {e}"),
            )
        }),
    }
}

/// The kinds of entry the risk computations read (through `backstock_records`):
/// not payees, royalty contracts, costs, runs and payouts, tax forms, aliases or
/// unmatched lines, which a label group holds by the ten thousand.
pub const RISK_KINDS: &[EntryKind] = &[
    EntryKind::Manufacture,
    EntryKind::Shipment,
    EntryKind::Statement,
    EntryKind::Payment,
    EntryKind::WriteOff,
    EntryKind::TitleTransfer,
    EntryKind::DeductionAccepted,
    EntryKind::ReceivableWrittenOff,
    EntryKind::BuyBack,
    EntryKind::Correction,
    EntryKind::CatalogItem,
    EntryKind::Agreement,
    EntryKind::PurchaseOrder,
    EntryKind::StockReport,
    EntryKind::ReceiptConfirmed,
    EntryKind::Ucc1Filing,
    EntryKind::PmsiNotice,
    EntryKind::Demand,
    EntryKind::DemandResponse,
    EntryKind::DeductionDisputed,
    EntryKind::Insolvency,
    EntryKind::Document,
];

/// Of `entries` (a snapshot's, whole), those of [`RISK_KINDS`] with every statement
/// as its digest: what [`risk_snapshot`] reads from the store, made from entries a
/// caller already holds (the web app's books). Receivables, levels, the legal status,
/// deductions and next steps over them are those over the whole entries, without a
/// view of every statement line.
pub fn digested_for_risk(entries: &[Entry]) -> Vec<Entry> {
    entries.iter().filter_map(digest_for_risk).collect()
}

/// One entry as [`digested_for_risk`] takes it: `None` when not of [`RISK_KINDS`],
/// a statement as its digest, any other entry as it is.
pub fn digest_for_risk(e: &Entry) -> Option<Entry> {
    RISK_KINDS
        .contains(&e.event.kind())
        .then(|| e.statement_digest().unwrap_or_else(|| e.clone()))
}

/// The entries of [`RISK_KINDS`] known on `as_of` (all when `None`), in recording order.
async fn risk_entries(store: &Store, as_of: Option<Date>) -> Result<Vec<Entry>, AppError> {
    read_risk_entries(store, as_of, false).await
}

/// [`risk_entries`], each statement whole or, with `digests`, as its digest (see
/// [`risk_snapshot`]).
async fn read_risk_entries(
    store: &Store,
    as_of: Option<Date>,
    digests: bool,
) -> Result<Vec<Entry>, AppError> {
    let mut out = Vec::new();
    let push = |_, e| {
        out.push(e);
        Ok(())
    };
    if digests {
        store
            .for_each_digested_entry(RISK_KINDS, as_of, push)
            .await?;
    } else {
        store.for_each_entry(RISK_KINDS, as_of, push).await?;
    }
    Ok(out)
}

/// What the label knew on `as_of`: entries and the ledger's holdings.
pub async fn snapshot(store: &Store, as_of: Date) -> Result<Snapshot, AppError> {
    let entries: Vec<Entry> = store
        .entries(&[], Some(as_of))
        .await?
        .into_iter()
        .map(|(_, e)| e)
        .collect();
    snapshot_of(store, as_of, entries).await
}

/// [`snapshot`] with only the entries the risk computations read ([`RISK_KINDS`]),
/// each statement as its digest (its lines summed per kind × channel, no SKUs:
/// `Store::for_each_digested_entry`): the same receivables, levels, legal status
/// and credit checks, since the stock each distributor holds comes from the ledger's
/// holdings, not from the statements' lines. Not for what needs a statement's SKUs
/// (reconciliation: [`full_risk_snapshot`]; a snapshot over past days,
/// `Snapshot::over`, which derives holdings from the lines).
pub async fn risk_snapshot(store: &Store, as_of: Date) -> Result<Snapshot, AppError> {
    // The entries and the holdings are read at once, the holdings on a thread of
    // their own: on a label group's store each takes a few hundred milliseconds, and
    // decoding the entries keeps this thread busy.
    let phases = std::sync::Arc::new(crate::timing::Phases::start());
    let reader = store.reader();
    let runtime = tokio::runtime::Handle::current();
    let on_thread = phases.clone();
    let held = tokio::task::spawn_blocking(move || {
        let held = runtime
            .block_on(async move { reader.holdings_of(&PartyId::label(), Some(as_of)).await });
        on_thread.done("snapshot: holdings read (on their own thread)");
        held
    });
    let entries = digested_risk_entries(store, Some(as_of)).await;
    phases.done("snapshot: entries read");
    let held = held
        .await
        .map_err(|e| AppError::new(Exit::Other, format!("reading the holdings failed: {e}")))??;
    let entries = entries?;
    Ok(Snapshot {
        as_of,
        entries,
        held,
    })
}

/// The entries of [`RISK_KINDS`] known on `as_of` (all when `None`), in recording
/// order, statements as their digests (see [`risk_snapshot`]).
async fn digested_risk_entries(store: &Store, as_of: Option<Date>) -> Result<Vec<Entry>, AppError> {
    read_risk_entries(store, as_of, true).await
}

/// [`risk_snapshot`] with every statement whole (its lines by SKU).
pub async fn full_risk_snapshot(store: &Store, as_of: Date) -> Result<Snapshot, AppError> {
    let entries = risk_entries(store, Some(as_of)).await?;
    snapshot_of(store, as_of, entries).await
}

/// A snapshot of `entries` (those of [`RISK_KINDS`] effective and known on `as_of`,
/// in recording order, read by the caller) with the ledger's holdings on `as_of`: what
/// [`risk_snapshot`] builds, for a caller that reads the entries for its own use too.
pub(crate) async fn snapshot_of(
    store: &Store,
    as_of: Date,
    entries: Vec<Entry>,
) -> Result<Snapshot, AppError> {
    let held = store.holdings_of(&PartyId::label(), Some(as_of)).await?;
    Ok(Snapshot {
        as_of,
        entries,
        held,
    })
}

/// Label-owned stock by holder × SKU × state on `as_of`: the ledger's holdings a
/// snapshot is built with ([`snapshot_with_stock`]).
pub async fn label_stock(store: &Store, as_of: Date) -> Result<Vec<StockRow>, AppError> {
    Ok(store
        .stock(&StockFilter {
            as_of: Some(as_of),
            owner: Some(PartyId::LABEL.into()),
            ..Default::default()
        })
        .await?)
}

/// A snapshot of `entries` (effective and known on `as_of`, in recording order) with
/// the holdings of `stock` ([`label_stock`] of the same day): for a caller that shows
/// that stock too, or that keeps the entries from one computation to the next.
pub fn snapshot_with_stock(as_of: Date, entries: Vec<Entry>, stock: &[StockRow]) -> Snapshot {
    // Sorted by holder × SKU as text first and summed over states, then each parsed
    // once and the map built from the sorted list in one pass: a label group's stock
    // is 370,000 rows, and a search of the map per row was most of the time.
    let mut rows: Vec<(&str, &str, i64)> = stock
        .iter()
        .filter(|r| r.state != "origin")
        .map(|r| (r.holder.as_str(), r.sku.as_str(), r.units))
        .collect();
    rows.sort_unstable_by(|a, b| (a.0, a.1).cmp(&(b.0, b.1)));
    let mut held: Vec<((PartyId, Sku), i64)> = Vec::with_capacity(rows.len());
    let mut last: Option<(&str, &str)> = None;
    let mut holder: Option<(&str, PartyId)> = None;
    for (h, s, units) in rows {
        if last == Some((h, s)) {
            if let Some((_, n)) = held.last_mut() {
                *n += units;
            }
            continue;
        }
        if holder.as_ref().is_none_or(|(text, _)| *text != h) {
            holder = PartyId::parse(h).ok().map(|p| (h, p));
        }
        let (Some((text, p)), Ok(sku)) = (holder.as_ref(), Sku::parse(s)) else {
            continue;
        };
        if *text != h {
            continue;
        }
        last = Some((h, s));
        held.push(((p.clone(), sku), units));
    }
    Snapshot {
        as_of,
        entries,
        held: held.into_iter().collect(),
    }
}

fn party(s: &Option<String>) -> Result<Option<PartyId>, AppError> {
    s.as_deref()
        .map(PartyId::parse)
        .transpose()
        .map_err(|e| AppError::new(Exit::Input, format!("--distributor: {e}")))
}

pub async fn receivables(
    store: &Store,
    as_of: Option<Date>,
    d: Option<String>,
    format: Format,
) -> Result<String, AppError> {
    let phases = crate::timing::Phases::start();
    let as_of = as_of_or_today(store, as_of).await?;
    let snap = risk_snapshot(store, as_of).await?;
    phases.done("entries and holdings read");
    let rows = backstock_risk::receivables::compute(&snap, party(&d)?.as_ref());
    phases.done("receivables");
    let mut t = Table::new(&[
        "distributor",
        "open",
        "current",
        "1-30",
        "31-60",
        "61-90",
        "90+",
        "reserve held",
        "stock (wholesale)",
        "exposure",
        "limit",
        "used",
    ])
    .numeric(&[1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11]);
    for r in &rows {
        let a = &r.book.ageing;
        let x = &r.exposure;
        t.push(vec![
            r.distributor.to_string(),
            money(r.book.open_balance),
            money(a.current),
            money(a.days_1_30),
            money(a.days_31_60),
            money(a.days_61_90),
            money(a.days_over_90),
            money(x.reserve_held),
            money(x.stock_at_wholesale),
            money(x.total),
            money(x.credit_limit),
            x.limit_used_permille
                .map(|p| format!("{}%", p / 10))
                .unwrap_or_default(),
        ]);
    }
    if format == Format::Csv {
        let mut c = Table::new(&[
            "distributor",
            "statement_id",
            "period_end",
            "issued_on",
            "due_on",
            "net_due",
            "paid",
            "open",
            "days_past_due",
            "currency",
            // Added at the end (columns are a promise): with these a row adds up,
            // net_due − paid − credited − deducted − written_off = open.
            "credited",
            "deducted",
            "written_off",
        ]);
        for r in &rows {
            for s in &r.book.statements {
                c.push(vec![
                    r.distributor.to_string(),
                    s.statement_id.clone(),
                    s.period_end.to_string(),
                    s.issued_on.to_string(),
                    s.due_on.to_string(),
                    s.net_due.to_decimal_string(),
                    s.paid.to_decimal_string(),
                    s.open.to_decimal_string(),
                    s.days_past_due.to_string(),
                    s.net_due.currency().to_string(),
                    s.credited.to_decimal_string(),
                    s.deducted.to_decimal_string(),
                    s.written_off.to_decimal_string(),
                ]);
            }
        }
        return Ok(c.render(Format::Csv, &json!(null)));
    }
    if format == Format::Json {
        return Ok(t.render(format, &json!(rows)));
    }
    let mut out = format!("Receivables and exposure as of {as_of}\n\n");
    out.push_str(&t.text());
    // Exposure counts what is unpaid net of any credit, which the open column (what
    // statements still show) does not: say so where they differ, so the row adds up.
    for r in &rows {
        let x = &r.exposure;
        if x.unpaid == r.book.open_balance {
            continue;
        }
        let credit = Money::from_minor(
            r.book.open_balance.minor().saturating_sub(x.unpaid.minor()),
            x.unpaid.currency(),
        );
        let what =
            if credit.minor() > 0 {
                format!(
                    "{} paid beyond its statements stands as its credit",
                    money(credit)
                )
            } else {
                format!(
                "{} of payments taken back beyond what they paid is owed besides its statements",
                money(Money::from_minor(credit.minor().saturating_neg(), credit.currency()))
            )
            };
        out.push_str(&format!(
            "\n{}: {what}, so its exposure counts {} unpaid (not the {} open) + {} reserve held + {} stock = {}.\n",
            r.distributor,
            money(x.unpaid),
            money(r.book.open_balance),
            money(x.reserve_held),
            money(x.stock_at_wholesale),
            money(x.total)
        ));
    }
    // Statements or payments in another currency than the agreement's are kept apart
    // (never converted): each such book in a sentence of its own, so a payment made in
    // the wrong currency is seen as the credit it stands as.
    for r in &rows {
        for b in &r.other_currencies {
            let n = b.statements.iter().filter(|s| !s.open.is_zero()).count();
            out.push_str(&format!(
                "\n{} in {} (kept apart from its {} agreement): {} open on {n} statement{}, {} paid beyond them, net receivable {}.\n",
                r.distributor,
                b.currency,
                r.book.currency,
                money(b.open_balance),
                if n == 1 { "" } else { "s" },
                money(b.unapplied_credit),
                money(b.net_receivable)
            ));
        }
    }
    for r in &rows {
        let open: Vec<_> = r
            .book
            .statements
            .iter()
            .filter(|s| !s.open.is_zero())
            .collect();
        if open.is_empty() {
            // What the figures above leave out (stock priced in another currency, not
            // valued) is said even when nothing is open.
            if !r.warnings.is_empty() {
                out.push_str(&format!("\n{}:\n", r.distributor));
                for w in &r.warnings {
                    out.push_str(&format!("  note: {w}\n"));
                }
            }
            continue;
        }
        out.push_str(&format!("\n{} — open statements:\n", r.distributor));
        let mut st = Table::new(&[
            "statement",
            "period end",
            "due",
            "net due",
            "paid",
            "open",
            "days past due",
        ])
        .numeric(&[3, 4, 5, 6]);
        for s in open {
            st.push(vec![
                s.statement_id.clone(),
                s.period_end.to_string(),
                s.due_on.to_string(),
                money(s.net_due),
                money(s.paid),
                money(s.open),
                s.days_past_due.max(0).to_string(),
            ]);
        }
        out.push_str(&st.text());
        for w in &r.warnings {
            out.push_str(&format!("  note: {w}\n"));
        }
    }
    Ok(out)
}

pub async fn reconcile(
    store: &Store,
    as_of: Option<Date>,
    d: Option<String>,
    format: Format,
) -> Result<String, AppError> {
    let as_of = as_of_or_today(store, as_of).await?;
    let snap = full_risk_snapshot(store, as_of).await?;
    let th = thresholds(store).await?;
    let rows = backstock_risk::reconcile::compute_with(&snap, party(&d)?.as_ref(), &th);
    if format == Format::Json {
        return Ok(serde_json::to_string_pretty(&rows).unwrap_or_default() + "\n");
    }
    let mut t = Table::new(&[
        "distributor",
        "as of",
        "sku",
        "reported",
        "expected",
        "difference",
        "value",
    ])
    .numeric(&[3, 4, 5, 6]);
    for r in &rows {
        for c in r.stock_checks.iter().filter(|c| c.discrepancy_units != 0) {
            t.push(vec![
                r.distributor.to_string(),
                c.report_as_of.to_string(),
                c.sku.to_string(),
                thousands(c.reported_units),
                thousands(c.expected_units),
                thousands(c.discrepancy_units),
                c.discrepancy_value.map(money).unwrap_or_default(),
            ]);
        }
    }
    if format == Format::Csv {
        return Ok(t.render(Format::Csv, &json!(null)));
    }
    let mut out =
        format!("Reconciliation as of {as_of}\n\nStock reports that do not match the ledger:\n");
    out.push_str(&t.text());
    for r in &rows {
        let late: Vec<_> = r
            .calendar
            .iter()
            .filter(|c| {
                matches!(
                    c.status,
                    backstock_risk::reconcile::CalendarStatus::Late
                        | backstock_risk::reconcile::CalendarStatus::Missing
                )
            })
            .collect();
        out.push_str(&format!(
            "\n{}: {} statement period(s) late or missing, {} unconfirmed shipment(s), {} sale line(s) for SKUs never shipped, {} payment(s) matching no statement\n",
            r.distributor,
            late.len(),
            r.unconfirmed_shipments.len(),
            r.unshipped_sales.len(),
            r.orphan_payments.len()
        ));
        for c in late.iter().rev().take(6) {
            out.push_str(&format!(
                "  {} .. {}: {:?}{}\n",
                c.period_start,
                c.period_end,
                c.status,
                c.days_late
                    .map(|d| format!(", {d} days late"))
                    .unwrap_or_default()
            ));
        }
    }
    Ok(out)
}

fn level_name(l: Level) -> &'static str {
    l.as_str()
}

#[tracing::instrument(name = "risk", skip_all)]
pub async fn risk(store: &Store, as_of: Option<Date>, format: Format) -> Result<String, AppError> {
    let phases = crate::timing::Phases::start();
    let as_of = as_of_or_today(store, as_of).await?;
    let snap = risk_snapshot(store, as_of).await?;
    phases.done("entries and holdings read");
    let th = thresholds(store).await?;
    let rows = backstock_risk::signals::assess(&snap, &th);
    phases.done("levels assessed");
    raise_alerts(store, &rows).await?;
    phases.done("alerts raised");
    if as_of == today(store).await? {
        // Failed distributors' deadlines within two weeks, once each (from the same
        // snapshot: the journal is not read again).
        let receivables = backstock_risk::receivables::compute(&snap, None);
        let failed = crate::insolvency::standings_of(&snap, &th, &receivables);
        crate::insolvency::raise_deadline_alerts(store, &failed).await?;
    }
    if format == Format::Json {
        let v: Vec<_> = rows
            .iter()
            .map(|a| {
                json!({
                    "distributor": a.distributor,
                    "level": a.level,
                    "reason": a.reason,
                    "exposure": {"amount": a.exposure.to_decimal_string(), "amount_minor": a.exposure.minor(), "currency": a.exposure.currency().code()},
                    "units_not_valued": a.units_not_valued,
                    "payment_cycle": a.payment_cycle,
                    "signals": a.signals.iter().map(|s| json!({"code": s.code, "level": s.level, "message": s.message, "value": s.value})).collect::<Vec<_>>(),
                })
            })
            .collect();
        return Ok(serde_json::to_string_pretty(&v).unwrap_or_default() + "\n");
    }
    if format == Format::Csv {
        // One row per distributor; the signals above ok by name (the JSON has their
        // sentences), the exposure a plain number with its currency beside it.
        let mut t = Table::new(&[
            "as_of",
            "distributor",
            "level",
            "exposure",
            "reason",
            "signals",
        ])
        .numeric(&[3]);
        for a in &rows {
            t.push(vec![
                as_of.to_string(),
                a.distributor.to_string(),
                level_name(a.level).to_string(),
                money(a.exposure),
                a.reason.clone(),
                a.signals
                    .iter()
                    .filter(|s| s.level > Level::Ok)
                    .map(|s| format!("{}:{}", s.code, s.level))
                    .collect::<Vec<_>>()
                    .join(" "),
            ]);
        }
        return Ok(t.csv());
    }
    let mut out = format!("Risk as of {as_of}\n");
    for a in &rows {
        out.push_str(&format!(
            "\n{}: {}  (exposure {}{})\n  {}\n",
            a.distributor,
            level_name(a.level).to_uppercase(),
            money(a.exposure),
            not_valued(a.units_not_valued),
            a.reason
        ));
        for s in a.signals.iter().filter(|s| s.level > Level::Ok) {
            out.push_str(&format!("  [{}] {}: {}\n", s.level, s.code, s.message));
        }
    }
    Ok(out)
}

/// Said beside an exposure that leaves consigned units out (no price in its currency).
fn not_valued(units: i64) -> String {
    match units {
        0 => String::new(),
        1 => ", and 1 consigned unit not valued: no wholesale price in that currency".into(),
        n => format!(", and {n} consigned units not valued: no wholesale price in that currency"),
    }
}

pub async fn risk_history(
    store: &Store,
    from: Date,
    to: Date,
    step_months: i32,
    format: Format,
) -> Result<String, AppError> {
    if to < from {
        return Err(AppError::new(
            Exit::Input,
            "--to must be on or after --from",
        ));
    }
    let th = thresholds(store).await?;
    // Month ends, the first on or after `from` (from the 30th of November, adding
    // months gave the 30th of each month, and a February skipped).
    let mut steps = Vec::new();
    let first = from.first_of_month();
    let mut d = from.last_of_month();
    let mut n = 0;
    while d <= to && n < 600 {
        steps.push(d);
        n += 1;
        d = first.add_months(n * step_months).last_of_month();
    }
    let mut table: BTreeMap<String, Vec<Level>> = BTreeMap::new();
    let mut js = Vec::new();
    for (i, day) in steps.iter().enumerate() {
        let snap = risk_snapshot(store, *day).await?;
        for a in backstock_risk::signals::assess(&snap, &th) {
            let row = table
                .entry(a.distributor.to_string())
                .or_insert_with(|| vec![Level::Ok; steps.len()]);
            row[i] = a.level;
            js.push(json!({"as_of": day.to_string(), "distributor": a.distributor, "level": a.level,
                "signals": a.signals.iter().filter(|s| s.level > Level::Ok).map(|s| &s.code).collect::<Vec<_>>()}));
        }
    }
    if format == Format::Json {
        return Ok(serde_json::to_string_pretty(&js).unwrap_or_default() + "\n");
    }
    let mut out = String::new();
    if format == Format::Csv {
        out.push_str("as_of,distributor,level\n");
        for (i, day) in steps.iter().enumerate() {
            for (dname, levels) in &table {
                out.push_str(&format!("{day},{dname},{}\n", levels[i]));
            }
        }
        return Ok(out);
    }
    let width = table.keys().map(|k| k.len()).max().unwrap_or(8).max(10);
    out.push_str(&format!("{:<12}", "as of"));
    for k in table.keys() {
        out.push_str(&format!("{k:<width$}  "));
    }
    out.push('\n');
    for (i, day) in steps.iter().enumerate() {
        out.push_str(&format!("{:<12}", day.to_string()));
        for levels in table.values() {
            out.push_str(&format!("{:<width$}  ", levels[i].as_str()));
        }
        out.push('\n');
    }
    Ok(out)
}

fn parse_level(s: &str) -> Level {
    match s {
        "watch" => Level::Watch,
        "alert" => Level::Alert,
        "critical" => Level::Critical,
        _ => Level::Ok,
    }
}

/// The alert log as (date, recording order, distributor, level reached), sorted.
async fn level_log(store: &Store) -> Result<Vec<(Date, i64, String, Level)>, AppError> {
    let mut rows: Vec<_> = store
        .alerts()
        .await?
        .into_iter()
        .filter_map(|r| {
            let d = Date::parse(&r.as_of).ok()?;
            Some((d, r.id, r.distributor, parse_level(&r.to_level)))
        })
        .collect();
    rows.sort();
    Ok(rows)
}

/// Each distributor's level as the alert log has it on `on`: the last change recorded
/// with a date on or before it (ties in recording order).
fn levels_on(log: &[(Date, i64, String, Level)], on: Date) -> BTreeMap<&str, Level> {
    log.iter()
        .take_while(|(d, ..)| *d <= on)
        .map(|(_, _, dist, l)| (dist.as_str(), *l))
        .collect()
}

fn alert_body(a: &backstock_risk::Assessment, before: Level) -> String {
    let event = if a.level > before {
        "risk_level_rose"
    } else {
        "risk_level_fell"
    };
    json!({
        "event": event,
        "distributor": a.distributor.to_string(),
        "from": before.as_str(),
        "to": a.level,
        "as_of": a.as_of.to_string(),
        "reason": a.reason,
        "exposure": {"amount": a.exposure.to_decimal_string(), "currency": a.exposure.currency().code()},
        "signals": a.signals.iter().filter(|s| s.level > Level::Ok).map(|s| json!({"code": s.code, "level": s.level, "message": s.message, "value": s.value})).collect::<Vec<_>>(),
    })
    .to_string()
}

/// Where the level history was last walked to: `"DATE SEQ"`, the last month end
/// evaluated and the journal's last entry then.
const LEVEL_LOG_MARK: &str = "alert_log_through";

/// At most this many month ends are walked in one call (a century of history).
const LEVEL_LOG_MAX_STEPS: usize = 1200;

/// Walks each distributor's level month end by month end from where the alert log
/// last left off to the month end before `as_of`, and records every change on the
/// month end the data first showed it — with what the label knew by then, so a
/// distributor that went to watch in 2014 and alert in 2015 is logged so, not as one
/// row on the day someone first looked. Entries recorded since the last walk with an
/// earlier date (an import of history) restart the walk at their date. Nothing is
/// POSTed to the webhook for the past: only a change seen on the label's today is.
pub async fn record_level_history(
    store: &Store,
    as_of: Date,
    th: &Thresholds,
) -> Result<Vec<i64>, AppError> {
    let mark = store.meta(LEVEL_LOG_MARK).await?.and_then(|m| {
        let (d, q) = m.split_once(' ')?;
        Some((Date::parse(d).ok()?, q.parse::<i64>().ok()?))
    });
    // What decides where the walk starts is read from the journal's columns (entry
    // kinds and dates); the entries themselves are read only when there is a month
    // end to walk, and then once.
    let Some(last_seq) = store.last_seq().await? else {
        return Ok(Vec::new());
    };
    // An entry first counts on the later of its effective and known dates. Before
    // the first consignment or statement every distributor is at ok: the walk starts
    // there, not at a catalog item dated from the epoch.
    let first = store
        .first_counted_day(&[EntryKind::Shipment, EntryKind::Statement], 0)
        .await?;
    let start = match mark {
        None => first,
        Some((through, seen)) => {
            let changed = store
                .first_counted_day(&[], seen)
                .await?
                .map(|c| first.map_or(c, |f| c.max(f)));
            match changed {
                Some(c) if c <= through => Some(c),
                _ => Some(through.add_days(1)),
            }
        }
    };
    let Some(start) = start else {
        return Ok(Vec::new());
    };
    let mut log = level_log(store).await?;
    let mut recorded = Vec::new();
    let mut step = start.last_of_month();
    let mut walked = None;
    // Read once (statements as digests), moved from each month end's snapshot to the
    // next: each sees only the entries counted by its date (the records of a snapshot
    // leave later ones out), with the ledger's holdings of that date — what `risk
    // --as-of` that day reads ([`risk_snapshot`]), in memory that does not grow with
    // the statements' lines.
    // The holdings come from one walk over the transfers, each month end adding those
    // counted since the one before (`Store::stock_walk`).
    let mut entries: Option<Vec<Entry>> = None;
    let mut holdings: Option<backstock_store::query::StockWalk> = None;
    let label_owned = StockFilter {
        owner: Some(PartyId::LABEL.into()),
        ..Default::default()
    };
    for _ in 0..LEVEL_LOG_MAX_STEPS {
        if step >= as_of {
            break;
        }
        let all = match entries.take() {
            Some(e) => e,
            None => digested_risk_entries(store, None).await?,
        };
        let walk = match holdings.as_mut() {
            Some(w) => w,
            None => holdings.insert(store.stock_walk().await?),
        };
        let stock = walk.stock_at(store, step, &label_owned).await?;
        let snap = snapshot_with_stock(step, all, &stock);
        drop(stock);
        let mut changes = Vec::new();
        {
            let levels = levels_on(&log, step);
            for a in backstock_risk::signals::assess(&snap, th) {
                let before = levels
                    .get(a.distributor.as_str())
                    .copied()
                    .unwrap_or(Level::Ok);
                if a.level != before {
                    changes.push((a, before));
                }
            }
        }
        entries = Some(snap.into_entries());
        for (a, before) in changes {
            let d = a.distributor.to_string();
            let id = store
                .add_alert(
                    &step.to_string(),
                    &d,
                    before.as_str(),
                    a.level.as_str(),
                    &alert_body(&a, before),
                )
                .await?;
            recorded.push(id);
            let row = (step, id, d, a.level);
            let at = log.partition_point(|x| *x < row);
            log.insert(at, row);
        }
        walked = Some(step);
        step = step.add_days(1).last_of_month();
    }
    if let Some(w) = walked {
        store
            .set_meta(LEVEL_LOG_MARK, &format!("{w} {last_seq}"))
            .await?;
    } else if let Some((through, _)) = mark {
        store
            .set_meta(LEVEL_LOG_MARK, &format!("{through} {last_seq}"))
            .await?;
    }
    Ok(recorded)
}

/// Records the level history up to `rows`' date ([`record_level_history`]), then an
/// alert for every distributor whose level on that date differs from the level the
/// log last had; a distributor whose level is now above what the log said before this
/// call is POSTed to the webhook (if one is configured) once, from that level to now.
pub async fn raise_alerts(
    store: &Store,
    rows: &[backstock_risk::Assessment],
) -> Result<Vec<i64>, AppError> {
    let Some(as_of) = rows.first().map(|a| a.as_of) else {
        return Ok(Vec::new());
    };
    let th = thresholds(store).await?;
    // What the log said before this call: a rise from it to today's level is what the
    // webhook hears about, once, however many past changes the walk records between.
    let known_before: BTreeMap<String, Level> = levels_on(&level_log(store).await?, as_of)
        .into_iter()
        .map(|(d, l)| (d.to_string(), l))
        .collect();
    let mut raised = record_level_history(store, as_of, &th).await?;
    let log = level_log(store).await?;
    let last = levels_on(&log, as_of);
    let mut last_id: BTreeMap<String, i64> = log
        .iter()
        .filter(|(_, id, ..)| raised.contains(id))
        .map(|(_, id, d, _)| (d.clone(), *id))
        .collect();
    for a in rows {
        let d = a.distributor.to_string();
        let before_level = last.get(d.as_str()).copied().unwrap_or(Level::Ok);
        if a.level == before_level {
            continue;
        }
        let id = store
            .add_alert(
                &a.as_of.to_string(),
                &d,
                before_level.as_str(),
                a.level.as_str(),
                &alert_body(a, before_level),
            )
            .await?;
        last_id.insert(d, id);
        raised.push(id);
    }
    let Some(url) = store.meta("webhook_url").await? else {
        return Ok(raised);
    };
    for a in rows {
        let d = a.distributor.as_str();
        let was = known_before.get(d).copied().unwrap_or(Level::Ok);
        let Some(&id) = last_id.get(d) else {
            continue;
        };
        if a.level <= was {
            continue;
        }
        // Blocking I/O (up to 10 s) off the async workers: the web server keeps
        // answering while a webhook is slow.
        let (u, b) = (url.clone(), alert_body(a, was));
        let sent = tokio::task::spawn_blocking(move || post_json(&u, &b))
            .await
            .unwrap_or_else(|e| Err(format!("the webhook call failed: {e}")));
        match sent {
            Ok(status) => {
                store
                    .mark_alert_delivery(id, true, &format!("HTTP {status}"))
                    .await?
            }
            Err(e) => store.mark_alert_delivery(id, false, &e).await?,
        }
    }
    Ok(raised)
}

/// POSTs JSON over plain HTTP/1.1 (no TLS: point the webhook at a local relay for
/// https endpoints). Returns the status code. Times out after 10 s.
pub fn post_json(url: &str, body: &str) -> Result<u16, String> {
    let rest = url
        .strip_prefix("http://")
        .ok_or_else(|| format!("webhook {url}: only http:// URLs are supported"))?;
    let (hostport, path) = match rest.find('/') {
        Some(i) => (&rest[..i], &rest[i..]),
        None => (rest, "/"),
    };
    let addr = if hostport.contains(':') {
        hostport.to_string()
    } else {
        format!("{hostport}:80")
    };
    let timeout = Duration::from_secs(10);
    let sock = std::net::ToSocketAddrs::to_socket_addrs(&addr)
        .map_err(|e| format!("webhook {url}: {e}"))?
        .next()
        .ok_or_else(|| format!("webhook {url}: no address"))?;
    let mut s = std::net::TcpStream::connect_timeout(&sock, timeout)
        .map_err(|e| format!("webhook {url}: {e}"))?;
    let _ = s.set_read_timeout(Some(timeout));
    let _ = s.set_write_timeout(Some(timeout));
    let req = format!(
        "POST {path} HTTP/1.1\r\nHost: {hostport}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nUser-Agent: backstock\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    s.write_all(req.as_bytes())
        .map_err(|e| format!("webhook {url}: {e}"))?;
    let mut resp = Vec::new();
    let _ = s.take(64 * 1024).read_to_end(&mut resp);
    let text = String::from_utf8_lossy(&resp);
    let status = text
        .split_whitespace()
        .nth(1)
        .and_then(|c| c.parse::<u16>().ok())
        .ok_or_else(|| format!("webhook {url}: no HTTP response"))?;
    if (200..300).contains(&status) {
        Ok(status)
    } else {
        Err(format!("webhook {url}: HTTP {status}"))
    }
}

/// What an alert is about, in a few words: a level that changed, or a deadline of a
/// failed distributor coming due (its level unchanged).
fn alert_what(r: &backstock_store::AlertRow) -> String {
    let body: serde_json::Value = serde_json::from_str(&r.body).unwrap_or_default();
    if body["event"] == "deadline_approaching" {
        return format!(
            "deadline: {} due {}",
            body["title"].as_str().unwrap_or("a deadline"),
            body["due_on"].as_str().unwrap_or("?")
        );
    }
    format!("level {} → {}", r.from_level, r.to_level)
}

pub async fn alerts(store: &Store, format: Format) -> Result<String, AppError> {
    // The log is brought up to the label's today first (incremental: from where it
    // last left off), each change on the month end the data first showed it — so it is
    // never empty only because nobody has looked at `risk` or the dashboard yet.
    // And today's level, as `risk` records it: a failure recorded mid-month (`insolvency
    // add`) is in the log when the label looks, not only after `risk` is run.
    let today = today(store).await?;
    let snap = risk_snapshot(store, today).await?;
    let th = thresholds(store).await?;
    raise_alerts(store, &backstock_risk::signals::assess(&snap, &th)).await?;
    let rows = store.alerts().await?;
    let mut t = Table::new(&[
        "#",
        "raised",
        "as of",
        "distributor",
        "from",
        "to",
        "what",
        "webhook",
    ])
    .numeric(&[0]);
    for r in &rows {
        t.push(vec![
            r.id.to_string(),
            r.raised_at.clone(),
            r.as_of.clone(),
            r.distributor.clone(),
            r.from_level.clone(),
            r.to_level.clone(),
            alert_what(r),
            r.delivery_note.clone().unwrap_or_default(),
        ]);
    }
    Ok(t.render(format, &json!(rows)))
}

pub struct ShipArgs {
    pub to: String,
    pub sku: String,
    pub units: u64,
    pub po: Option<String>,
    pub date: Option<Date>,
    pub id: Option<String>,
    pub override_reason: Option<String>,
}

pub async fn ship(store: &Store, a: ShipArgs) -> Result<ShipOutcome, AppError> {
    ship_as(store, a, &user()).await
}

/// [`ship`] by a named user (the web app's signed-in user rather than `$USER`): the
/// name goes in the journal's provenance and in any override reason.
#[tracing::instrument(name = "ship_as", skip_all, fields(to = %a.to, sku = %a.sku, units = a.units))]
pub async fn ship_as(store: &Store, a: ShipArgs, user: &str) -> Result<ShipOutcome, AppError> {
    let ShipCheck {
        to,
        sku,
        date,
        reasons,
    } = ship_check(store, &a).await?;
    if !reasons.is_empty() && a.override_reason.is_none() {
        let mut m = format!(
            "credit hold: not shipping {} units of {sku} to {to}:\n",
            a.units
        );
        for r in &reasons {
            m.push_str(&format!("  - {} ({})\n", r.message, r.code));
        }
        m.push_str("Ship anyway with --override \"why\" (recorded in the journal with your name).");
        return Err(AppError::new(Exit::Refused, m));
    }
    let n = store.entry_count().await?;
    let sid = a.id.unwrap_or_else(|| format!("SH-{date}-{}", n + 1));
    let overridden = a.override_reason.map(|r| Override {
        by: user.to_string(),
        reason: r,
        hold_reasons: reasons.clone(),
    });
    let override_reason = overridden.as_ref().map(|o| {
        format!(
            "{} overrode: {} — hold reasons: {}",
            o.by,
            o.reason,
            o.hold_reasons
                .iter()
                .map(|x| x.code.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        )
    });
    let entry_id = format!("shipment:{sid}:{sku}");
    let entry = Entry {
        id: EntryId::new(entry_id.clone())
            .map_err(|e| AppError::new(Exit::Input, e.to_string()))?,
        effective_on: date,
        known_on: date,
        provenance: Provenance::Command {
            user: user.to_string(),
            command: format!("ship --to {to} --sku {sku} --units {}", a.units),
        },
        event: Event::Shipment {
            shipment_id: sid.clone(),
            from: PartyId::label(),
            to: to.clone(),
            sku: sku.clone(),
            units: a.units,
            po_number: a.po,
            override_reason: override_reason.clone(),
        },
    };
    crate::books::record(store, &[entry], None).await?;
    Ok(ShipOutcome {
        shipment_id: sid,
        entry_id,
        to,
        sku,
        units: a.units,
        date,
        overridden,
        override_note: override_reason,
    })
}

/// What a shipment would meet, nothing recorded: the checked distributor, SKU and
/// date, and the credit-hold reasons (empty: it would ship; an override ships anyway).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ShipCheck {
    pub to: PartyId,
    pub sku: Sku,
    pub date: Date,
    pub reasons: Vec<backstock_risk::credit::HoldReason>,
}

/// Checks a shipment as [`ship_as`] would, recording nothing. An `Err` (exit `Input`)
/// is a shipment that cannot be made at all, override or not: units out of range, a
/// distributor without an agreement, an unknown SKU — said in plain words.
pub async fn ship_check(store: &Store, a: &ShipArgs) -> Result<ShipCheck, AppError> {
    let to = PartyId::parse(&a.to)
        .map_err(|e| AppError::new(Exit::Input, format!("distributor: {e}")))?;
    let sku = Sku::parse(&a.sku).map_err(|e| AppError::new(Exit::Input, format!("SKU: {e}")))?;
    if a.units == 0 || a.units > 1_000_000_000 {
        return Err(AppError::new(
            Exit::Input,
            "units must be from 1 to 1,000,000,000",
        ));
    }
    let date = as_of_or_today(store, a.date).await?;
    let snap = risk_snapshot(store, date).await?;
    let known = snap
        .entries
        .iter()
        .any(|e| matches!(&e.event, Event::Fact(Fact::Agreement(ag)) if ag.distributor == to));
    if !known {
        return Err(AppError::new(
            Exit::Input,
            format!("{to} has no agreement on record (import distributors.csv first)"),
        ));
    }
    let in_catalog = snap
        .entries
        .iter()
        .any(|e| matches!(&e.event, Event::Fact(Fact::CatalogItem(c)) if c.sku == sku));
    if !in_catalog {
        return Err(AppError::new(
            Exit::Input,
            format!("unknown SKU {sku}: no release in the catalog has it (check the spelling, or import it in catalog.csv first)"),
        ));
    }
    let th = thresholds(store).await?;
    let mut reasons = backstock_risk::credit::check(&snap, &th, &to, &sku, a.units);
    let today = today(store).await?;
    if date < today {
        let failures: Vec<Entry> = store
            .entries(&[EntryKind::Insolvency, EntryKind::Correction], Some(today))
            .await?
            .into_iter()
            .map(|(_, e)| e)
            .collect();
        reasons.extend(backstock_risk::credit::failure_recorded_since(
            &failures, date, today, &to,
        ));
    }
    Ok(ShipCheck {
        to,
        sku,
        date,
        reasons,
    })
}

/// A consignment shipment recorded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ShipOutcome {
    pub shipment_id: String,
    pub entry_id: String,
    pub to: PartyId,
    pub sku: Sku,
    pub units: u64,
    pub date: Date,
    /// Set when it went out despite a credit hold.
    pub overridden: Option<Override>,
    /// The override as written in the journal.
    pub override_note: Option<String>,
}

/// Who shipped despite a credit hold, why, and what the hold said.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Override {
    pub by: String,
    pub reason: String,
    pub hold_reasons: Vec<backstock_risk::credit::HoldReason>,
}

impl std::fmt::Display for ShipOutcome {
    /// The sentence the CLI prints and the web app shows.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.override_note {
            Some(r) => writeln!(
                f,
                "Shipped {} units of {} to {} as {} despite a credit hold ({r}).",
                self.units, self.sku, self.to, self.shipment_id
            ),
            None => writeln!(
                f,
                "Shipped {} units of {} to {} as {}.",
                self.units, self.sku, self.to, self.shipment_id
            ),
        }
    }
}

pub async fn legal(store: &Store, as_of: Option<Date>, format: Format) -> Result<String, AppError> {
    let as_of = as_of_or_today(store, as_of).await?;
    let snap = risk_snapshot(store, as_of).await?;
    let th = thresholds(store).await?;
    let r = backstock_risk::legal::compute_with(&snap, &th);
    if format == Format::Json {
        return Ok(serde_json::to_string_pretty(&r).unwrap_or_default() + "\n");
    }
    let mut t = Table::new(&[
        "distributor",
        "title retained",
        "UCC-1",
        "filed",
        "lapses",
        "continuation from",
        "status",
        "PMSI notices",
        "warnings",
    ]);
    for a in &r.agreements {
        t.push(vec![
            a.distributor.to_string(),
            if a.title_retained { "yes" } else { "no" }.into(),
            a.current
                .as_ref()
                .map(|f| format!("{} ({})", f.file_number, f.state))
                .unwrap_or_else(|| "none".into()),
            a.current
                .as_ref()
                .map(|f| f.filed_on.to_string())
                .unwrap_or_default(),
            a.lapse_on.map(|d| d.to_string()).unwrap_or_default(),
            a.continuation_window_opens
                .map(|d| d.to_string())
                .unwrap_or_default(),
            serde_json::to_value(a.status)
                .ok()
                .and_then(|v| v.as_str().map(String::from))
                .unwrap_or_default(),
            a.pmsi_notices.len().to_string(),
            a.warnings.len().to_string(),
        ]);
    }
    if format == Format::Csv {
        return Ok(t.render(Format::Csv, &json!(null)));
    }
    let mut out = format!("UCC perfection as of {as_of}\n\n{}", t.text());
    for a in &r.agreements {
        let n = a.warnings.len();
        for w in a.warnings.iter().take(5) {
            out.push_str(&format!("  {} {}: {}\n", a.distributor, w.date, w.message));
        }
        if n > 5 {
            out.push_str(&format!(
                "  {} … and {} more warnings (see --format json)\n",
                a.distributor,
                n - 5
            ));
        }
    }
    Ok(out)
}

pub fn command_entry(
    id: String,
    on: Date,
    known: Date,
    command: String,
    event: Event,
) -> Result<Entry, AppError> {
    crate::command_entry(id, on, known, &user(), command, event)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// On the demo label (Northwind's short pays and its late payment, Cascade's
    /// failure, demands, reserves, an insolvency), the snapshot `risk`, `receivables`
    /// and `ship` read — statements as digests, risk kinds only — gives at every month
    /// end and today what the whole journal gives: levels with their sentences,
    /// receivables, the legal status, the credit checks and where the label stands
    /// with a failed distributor.
    #[tokio::test]
    async fn the_digested_snapshot_gives_what_the_whole_journal_gives() {
        let tmp = tempfile::tempdir().unwrap();
        crate::demo::load(tmp.path(), None).await.unwrap();
        let store = Store::open(tmp.path(), false).await.unwrap();
        let th = thresholds(&store).await.unwrap();
        let end = today(&store).await.unwrap();
        let mut day = Date::from_ymd(2012, 1, 31).unwrap();
        let mut days = Vec::new();
        while day < end {
            days.push(day);
            day = day.add_months(1).last_of_month();
        }
        days.push(end);
        let skus = ["MRG-014-CD", "MRG-001-LP"];
        let all = risk_entries(&store, None).await.unwrap();
        let all_digested = digested_risk_entries(&store, None).await.unwrap();
        for day in days {
            let digested = risk_snapshot(&store, day).await.unwrap();
            let whole = snapshot(&store, day).await.unwrap();
            // The level-history walk's snapshot (every entry, statements as digests,
            // the ledger's holdings of the day) against the one it replaced
            // (`Snapshot::over`: whole statements, holdings from their lines).
            let walk = snapshot_with_stock(
                day,
                all_digested.clone(),
                &label_stock(&store, day).await.unwrap(),
            );
            // The holdings a snapshot is built with, read typed, are those of the
            // stock table.
            assert_eq!(
                digested.held,
                snapshot_with_stock(day, Vec::new(), &label_stock(&store, day).await.unwrap()).held,
                "{day}: holdings"
            );
            let over = Snapshot::over(day, all.clone());
            assert_eq!(
                serde_json::to_string(&backstock_risk::signals::assess(&walk, &th)).unwrap(),
                serde_json::to_string(&backstock_risk::signals::assess(&over, &th)).unwrap(),
                "{day}: the walk's levels"
            );
            let rec = |s: &Snapshot| backstock_risk::receivables::compute(s, None);
            let of = |s: &Snapshot| {
                let mut credit = Vec::new();
                for d in ["northwind", "cascade"] {
                    let d = PartyId::parse(d).unwrap();
                    for sku in skus {
                        let sku = Sku::parse(sku).unwrap();
                        credit.push(backstock_risk::credit::check(s, &th, &d, &sku, 40));
                    }
                }
                let levels = backstock_risk::signals::assess(s, &th);
                format!(
                    "{:?}\n{:?}\n{:?}\n{:?}\n{:?}\n{:?}\n{:?}",
                    levels,
                    rec(s),
                    backstock_risk::legal::compute_with(s, &th),
                    crate::insolvency::standings_of(s, &th, &rec(s)),
                    credit,
                    backstock_risk::deductions::compute(s, &th, None),
                    backstock_risk::next_steps::compute_given(s, &th, &levels, &rec(s)),
                )
            };
            assert_eq!(of(&digested), of(&whole), "{day}");
            // The same made from whole entries already held (the web app's books).
            let made = Snapshot {
                as_of: day,
                entries: digested_for_risk(&whole.entries),
                held: whole.held.clone(),
            };
            assert_eq!(of(&made), of(&whole), "{day}: digested from entries held");
        }
    }
}
