//! What the pages and the API show, computed once per label state and shared: the
//! label's books as of its "today" (receivables, risk, UCC status, stock) and a
//! monthly history (exposure and risk level per distributor) for the chart and the
//! signal timeline. Cached per tenant until the journal grows or the day changes.
//!
//! Everything here takes a [`Tenant`], so a view can only be of the tenant the viewer
//! is a member of; limited roles get their own slice ([`catalog`], [`shipments`]).

use crate::auth::{Scope, Tenant};
use crate::Fail;
use backstock_domain::{Date, Money, PartyId};
use backstock_ledger::Entry;
use backstock_records::Records;
use backstock_risk::legal::LegalReport;
use backstock_risk::receivables::DistributorReceivables;
use backstock_risk::{Assessment, Level, Snapshot};
use backstock_store::query::StockRow;
use serde::Serialize;
use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

/// Months of history on the chart and the timeline.
pub const HISTORY_MONTHS: i32 = 24;

/// One slot per tenant: a tenant's recomputation waits for no other tenant.
#[derive(Default)]
pub struct Cache {
    slots: std::sync::Mutex<HashMap<String, Slot>>,
}

type Slot = Arc<tokio::sync::Mutex<Option<Arc<Books>>>>;

/// A label's books as of its today.
pub struct Books {
    pub journal_len: i64,
    /// The last entry's sequence number when computed: the next computation reads only
    /// the entries after it, and keeps the history points they cannot change.
    pub last_seq: i64,
    /// The label's risk thresholds as stored when computed (a change recomputes).
    pub thresholds: Option<String>,
    pub as_of: Date,
    /// Entries known and effective on `as_of`, in recording order.
    pub entries: Vec<Entry>,
    /// Those of the risk kinds with each statement as its digest
    /// ([`backstock_app::risk::digested_for_risk`]): today's figures are computed over
    /// them, and the next books of the same day extend them by the new entries alone
    /// rather than digesting every statement again.
    pub digests: Vec<Entry>,
    pub receivables: Vec<DistributorReceivables>,
    pub risk: Vec<Assessment>,
    pub legal: LegalReport,
    /// Label-owned stock by holder × SKU × state.
    pub stock: Vec<StockRow>,
    /// The same summed by holder and state (origin left out, zeros dropped), made once
    /// here: every dashboard shows it, and summing 100k SKUs per request is slow.
    pub stock_by_holder: Vec<(String, String, i64)>,
    pub history: Vec<HistoryPoint>,
    /// Every deduction (outstanding first, then accepted or written off).
    pub deductions: Vec<backstock_risk::deductions::Deduction>,
    /// Every failed distributor on record and where the label stands with it (the
    /// dashboard's deadlines), from the same snapshot.
    pub standings: Vec<backstock_app::insolvency::Standing>,
    /// Distributors on credit hold or at alert or above, with what to do next.
    pub next_steps: Vec<backstock_risk::next_steps::NextSteps>,
    /// The catalog by SKU with units owned and sold, made on the first catalog request
    /// of these books and kept with them: a page is then a binary search and a copy
    /// of its rows.
    pub catalog_index: std::sync::OnceLock<CatalogIndex>,
}

/// The catalog as the books know it (corrections applied), in SKU order.
pub struct CatalogIndex {
    pub items: Vec<CatalogRow>,
    /// The payee each release's artist is ([`payee_of_artist`]), by position.
    pub payees: Vec<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct HistoryPoint {
    pub on: Date,
    pub distributors: Vec<HistoryRow>,
}

#[derive(Debug, Clone, Serialize)]
pub struct HistoryRow {
    pub distributor: PartyId,
    #[serde(serialize_with = "amount")]
    pub exposure: Money,
    pub level: Level,
    /// Codes of the signals above `ok`.
    pub signals: Vec<String>,
}

/// Money in JSON: `{"amount": "1234.56", "amount_minor": 123456, "currency": "USD"}`.
pub fn amount<S: serde::Serializer>(m: &Money, s: S) -> Result<S::Ok, S::Error> {
    use serde::ser::SerializeStruct;
    let mut st = s.serialize_struct("Money", 3)?;
    st.serialize_field("amount", &m.to_decimal_string())?;
    st.serialize_field("amount_minor", &m.minor())?;
    st.serialize_field("currency", m.currency().code())?;
    st.end()
}

pub fn amount_opt<S: serde::Serializer>(m: &Option<Money>, s: S) -> Result<S::Ok, S::Error> {
    match m {
        Some(m) => amount(m, s),
        None => s.serialize_none(),
    }
}

pub fn level_rank(l: Level) -> i64 {
    match l {
        Level::Ok => 0,
        Level::Watch => 1,
        Level::Alert => 2,
        Level::Critical => 3,
    }
}

/// The tenant's books as of its today, from the cache when the journal has not changed.
pub async fn books(t: &Tenant, cache: &Cache) -> Result<Arc<Books>, Fail> {
    books_at(t, cache, None).await
}

impl Cache {
    /// Drops what is cached of `tenant` (its store was made again: the next
    /// computation starts from nothing).
    pub fn forget(&self, tenant: &str) {
        if let Ok(mut slots) = self.slots.lock() {
            slots.remove(tenant);
        }
    }
}

/// The tenant's books as of `as_of` (its today when `None`). Past days are computed
/// as the label knew them then and not cached; only today's books raise alerts.
pub async fn books_at(t: &Tenant, cache: &Cache, as_of: Option<Date>) -> Result<Arc<Books>, Fail> {
    let store = t.store();
    let today = backstock_app::risk::today(store).await?;
    let len = store.entry_count().await?;
    let thresholds = store.meta("risk_thresholds").await?;
    if let Some(d) = as_of.filter(|d| *d != today) {
        return Ok(Arc::new(compute(t, d, len, thresholds, None).await?));
    }
    let slot: Slot = cache
        .slots
        .lock()
        .map_err(|_| Fail::internal("the cache lock is poisoned"))?
        .entry(t.slug().to_string())
        .or_default()
        .clone();
    let mut slot = slot.lock().await;
    if let Some(b) = slot.as_ref() {
        if b.journal_len == len && b.as_of == today && b.thresholds == thresholds {
            return Ok(b.clone());
        }
    }
    // What the last books computed and a new entry cannot change is kept (see
    // [`compute`]); other thresholds change every level, so nothing is kept then.
    let prev = slot
        .as_ref()
        .filter(|b| b.thresholds == thresholds)
        .cloned();
    let books = compute(t, today, len, thresholds, prev.as_deref()).await?;
    // A level that rose since the last alert is an alert (recorded, and POSTed to the
    // label's webhook if it has one), as `backstock risk` does.
    backstock_app::risk::raise_alerts(store, &books.risk).await?;
    let books = Arc::new(books);
    *slot = Some(books.clone());
    Ok(books)
}

/// The books as of `as_of`. With `prev` (the last books of this label, computed with
/// the same thresholds) only what entries recorded since can change is computed again:
/// on the same day its entries are kept and the new ones read after them; a history
/// point on a past day is kept when no new entry counts by that day (each point sees
/// only the entries effective and known by its day, so later entries cannot move it).
/// The stock and today's figures are always computed afresh.
async fn compute(
    t: &Tenant,
    as_of: Date,
    len: i64,
    thresholds: Option<String>,
    prev: Option<&Books>,
) -> Result<Books, Fail> {
    let store = t.store();
    // BACKSTOCK_TIMING=1 prints how long each phase took (for benchmarks).
    let started = std::time::Instant::now();
    let timing = std::env::var_os("BACKSTOCK_TIMING").is_some();
    let phase = move |what: &str| {
        if timing {
            eprintln!(
                "[{:>8.3}s] books of {as_of}: {what}",
                started.elapsed().as_secs_f64()
            );
        }
    };
    let last_seq = store.last_seq().await?.unwrap_or(0);
    let th = backstock_app::risk::thresholds(store).await?;
    // The ledger's book kept in the label's store between computations: the stock as of
    // today is then its balances, and entries recorded since (here or by a CLI import)
    // are replayed onto it rather than every transfer summed again.
    store.cache_book().await?;
    phase("book brought up to date");
    let stock = backstock_app::risk::label_stock(store, as_of).await?;
    phase("stock read");
    let mut kept_entries = None;
    let mut kept_digests = None;
    let mut kept_points = Vec::new();
    if let Some(p) = prev.filter(|p| p.last_seq <= last_seq) {
        let first_new = store.first_counted_day(&[], p.last_seq).await?;
        kept_points = p
            .history
            .iter()
            .filter(|h| h.on < p.as_of && first_new.is_none_or(|f| h.on < f))
            .cloned()
            .collect();
        if p.as_of == as_of {
            let mut entries = p.entries.clone();
            let mut digests = p.digests.clone();
            store
                .for_each_entry_after(&[], Some(as_of), p.last_seq, |seq, e| {
                    // Entries recorded since `last_seq` was read wait for the next
                    // computation, which reads on from `last_seq` (never twice).
                    if seq <= last_seq {
                        digests.extend(backstock_app::risk::digest_for_risk(&e));
                        entries.push(e);
                    }
                    Ok(())
                })
                .await?;
            kept_entries = Some(entries);
            kept_digests = Some(digests);
        }
    }
    let entries = match kept_entries {
        Some(e) => e,
        None => store
            .entries(&[], Some(as_of))
            .await?
            .into_iter()
            .filter(|(seq, _)| *seq <= last_seq)
            .map(|(_, e)| e)
            .collect(),
    };
    phase("entries read");
    tokio::task::spawn_blocking(move || {
        // Today's figures over the risk kinds with statements as their digests (the
        // same figures: `app::risk` tests it at every month end of the demo), not
        // over every statement line; the past month ends need the lines.
        let digests =
            kept_digests.unwrap_or_else(|| backstock_app::risk::digested_for_risk(&entries));
        let today = backstock_app::risk::snapshot_with_stock(as_of, digests.clone(), &stock);
        phase("digests");
        let receivables = backstock_risk::receivables::compute(&today, None);
        phase("receivables");
        let risk = backstock_risk::signals::assess(&today, &th);
        phase("levels");
        let legal = backstock_risk::legal::compute_with(&today, &th);
        let standings = backstock_app::insolvency::standings_of(&today, &th, &receivables);
        phase("legal and failures");
        let deductions = backstock_risk::deductions::compute(&today, &th, None);
        phase("deductions");
        let next_steps =
            backstock_risk::next_steps::compute_given(&today, &th, &risk, &receivables);
        let stock_by_holder = sum_by_holder(&stock);
        phase("next steps");
        let snap = Snapshot {
            as_of,
            entries,
            held: today.held,
        };
        let (history, snap) = history(snap, &th, kept_points, &receivables, &risk);
        phase("history");
        Books {
            catalog_index: std::sync::OnceLock::new(),
            next_steps,
            journal_len: len,
            last_seq,
            thresholds,
            as_of,
            entries: snap.entries,
            digests,
            receivables,
            risk,
            legal,
            stock,
            stock_by_holder,
            standings,
            history,
            deductions,
        }
    })
    .await
    .map_err(|e| Fail::internal(format!("computing the books: {e}")))
}

/// `?as_of=YYYY-MM-DD` of a query, checked.
pub fn as_of_param(q: &HashMap<String, String>) -> Result<Option<Date>, Fail> {
    match q.get("as_of").map(|s| s.trim()).filter(|s| !s.is_empty()) {
        None => Ok(None),
        Some(s) => Date::parse(s)
            .map(Some)
            .map_err(|e| Fail::bad(format!("as_of: {e}"))),
    }
}

/// Month ends over the last [`HISTORY_MONTHS`], then the as-of day itself; the
/// snapshot is handed back as it came. A point of `kept` (same day, computed before
/// from the same entries) is taken as it is; the as-of day's point is made from
/// `receivables` and `risk`, already computed on this snapshot.
fn history(
    snap: Snapshot,
    th: &backstock_risk::Thresholds,
    kept: Vec<HistoryPoint>,
    receivables: &[DistributorReceivables],
    risk: &[Assessment],
) -> (Vec<HistoryPoint>, Snapshot) {
    let as_of = snap.as_of;
    let mut days: Vec<Date> = (1..=HISTORY_MONTHS)
        .rev()
        .map(|k| as_of.add_months(-k).last_of_month())
        .filter(|d| *d < as_of)
        .collect();
    days.push(as_of);
    let mut kept: BTreeMap<Date, HistoryPoint> = kept.into_iter().map(|p| (p.on, p)).collect();
    let mut entries = Some(snap.entries);
    let points = days
        .into_iter()
        .map(|d| {
            if d == as_of {
                return point_of(d, receivables, risk);
            }
            if let Some(p) = kept.remove(&d) {
                return p;
            }
            // Past month ends from the journal alone. One vector of entries moves from
            // point to point (no copy of the journal per month end): each past snapshot
            // sees only what was known by its day.
            let s = Snapshot::over(d, entries.take().unwrap_or_default());
            let point = point_of(
                d,
                &backstock_risk::receivables::compute(&s, None),
                &backstock_risk::signals::assess(&s, th),
            );
            entries = Some(s.into_entries());
            point
        })
        .collect();
    let snap = Snapshot {
        as_of,
        entries: entries.unwrap_or_default(),
        held: snap.held,
    };
    (points, snap)
}

/// One point of [`history`]: exposure and level per distributor on day `d`, from the
/// receivables and the assessment of that day's snapshot.
fn point_of(d: Date, receivables: &[DistributorReceivables], risk: &[Assessment]) -> HistoryPoint {
    let exposure: BTreeMap<&PartyId, Money> = receivables
        .iter()
        .map(|r| (&r.distributor, r.exposure.total))
        .collect();
    let distributors = risk
        .iter()
        .map(|a| HistoryRow {
            exposure: exposure.get(&a.distributor).copied().unwrap_or(a.exposure),
            distributor: a.distributor.clone(),
            level: a.level,
            signals: a
                .signals
                .iter()
                .filter(|x| x.level > Level::Ok)
                .map(|x| x.code.to_string())
                .collect(),
        })
        .collect();
    HistoryPoint {
        on: d,
        distributors,
    }
}

/// Stock by holder and state (units), label-owned, as of the books' day.
pub fn stock_by_holder(b: &Books) -> &[(String, String, i64)] {
    &b.stock_by_holder
}

fn sum_by_holder(stock: &[StockRow]) -> Vec<(String, String, i64)> {
    let mut m: BTreeMap<(&str, &str), i64> = BTreeMap::new();
    for r in stock {
        if r.state == "origin" {
            continue;
        }
        *m.entry((&r.holder, &r.state)).or_default() += r.units;
    }
    m.into_iter()
        .filter(|(_, u)| *u != 0)
        .map(|((h, s), u)| (h.to_string(), s.to_string(), u))
        .collect()
}

#[derive(Debug, Clone, Serialize)]
pub struct CatalogRow {
    pub sku: String,
    pub upc: Option<String>,
    pub title: String,
    pub artist: String,
    pub format: String,
    pub release_date: Option<Date>,
    #[serde(serialize_with = "amount")]
    pub list_price: Money,
    #[serde(serialize_with = "amount")]
    pub wholesale_price: Money,
    /// Units the label owns (any holder) as of the books' day.
    pub units_owned: i64,
    /// Units sold (net of returns) on statements as of the books' day.
    pub units_sold: i64,
}

/// The payee a catalog artist name belongs to: the name as a party id
/// ("June Okafor" → `june-okafor`).
///
/// Extension point: until royalty contracts are in the store, an artist member sees
/// the releases whose artist name is their payee id. When contracts land (issue 5),
/// replace this with "SKUs on a contract that pays this payee".
pub fn payee_of_artist(artist: &str) -> String {
    let mut s = String::new();
    let mut dash = false;
    for c in artist.chars().flat_map(char::to_lowercase) {
        if c.is_ascii_alphanumeric() {
            s.push(c);
            dash = false;
        } else if !dash && !s.is_empty() {
            s.push('-');
            dash = true;
        }
    }
    s.trim_end_matches('-').to_string()
}

/// The parties a limited membership can name, each (id, name), by id: the label's
/// payees on file (payees.csv) for an artist and its distributors (those with an
/// agreement) for a distributor member. The one list the pick lists offer and
/// [`Parties::check`] accepts (web invitations, role changes, `backstock user`).
pub struct Parties {
    pub payees: Vec<(String, String)>,
    pub distributors: Vec<(String, String)>,
}

pub fn parties(b: &Books) -> Parties {
    parties_of(&b.entries, b.as_of)
}

/// [`parties`] from a label's entries known and effective on `as_of`.
pub fn parties_of(entries: &[Entry], as_of: Date) -> Parties {
    let r = Records::new(entries, as_of);
    let mut payees: BTreeMap<String, String> = BTreeMap::new();
    for e in entries {
        if let backstock_ledger::Event::Fact(backstock_ledger::Fact::Payee(p)) = &e.event {
            payees.insert(p.payee.to_string(), p.name.clone());
        }
    }
    Parties {
        payees: payees.into_iter().collect(),
        distributors: r
            .agreements
            .iter()
            .map(|(id, a)| (id.to_string(), a.legal_name.clone()))
            .collect(),
    }
}

/// The party a limited role's membership names, to be checked by [`Parties::check`]:
/// none for a role not limited to one, or when none is given (the membership rule
/// says that one is needed).
pub fn party_to_check(role: crate::roles::Role, party: Option<&str>) -> Option<&str> {
    party
        .map(str::trim)
        .filter(|p| !p.is_empty() && role.needs_party())
}

impl Parties {
    /// Refuses a party that is not the label's, with a sentence naming those it has.
    pub fn check(&self, role: crate::roles::Role, party: &str) -> Result<(), String> {
        let (kind, known, file) = match role {
            crate::roles::Role::Artist => ("payee", &self.payees, "payees.csv"),
            crate::roles::Role::Distributor => {
                ("distributor", &self.distributors, "distributors.csv")
            }
            _ => return Ok(()),
        };
        if known.iter().any(|(id, _)| id == party) {
            return Ok(());
        }
        if known.is_empty() {
            return Err(format!(
                "this label has no {kind} {party}: it has no {kind}s yet (import {file} first)"
            ));
        }
        let listed: Vec<String> = known
            .iter()
            .take(20)
            .map(|(id, name)| format!("{id} ({name})"))
            .collect();
        Err(format!(
            "this label has no {kind} {party}; pick one of its {kind}s: {}{}",
            listed.join(", "),
            if known.len() > 20 { ", …" } else { "" }
        ))
    }
}

/// The catalog as the member may see it: everything, or an artist's own releases.
pub fn catalog(t: &Tenant, b: &Books) -> Vec<CatalogRow> {
    catalog_page(
        t,
        b,
        &crate::paging::PageReq {
            cursor: None,
            limit: usize::MAX,
        },
    )
    .0
}

/// One page of [`catalog`], by SKU, and the cursor of the next (from the books'
/// [`CatalogIndex`]).
pub fn catalog_page(
    t: &Tenant,
    b: &Books,
    req: &crate::paging::PageReq,
) -> (Vec<CatalogRow>, Option<String>) {
    let index = b.catalog_index.get_or_init(|| catalog_index(b));
    let start = match &req.cursor {
        Some(c) => index
            .items
            .partition_point(|r| r.sku.as_str() <= c.as_str()),
        None => 0,
    };
    let visible = index.items[start..]
        .iter()
        .zip(&index.payees[start..])
        .filter(|(_, payee)| match &t.scope {
            Scope::Label => true,
            Scope::Payee(p) => *payee == p,
            Scope::Distributor(_) => false,
        })
        .map(|(r, _)| r);
    let (rows, next) = crate::paging::PageReq {
        cursor: None,
        limit: req.limit,
    }
    .page(visible, |r| r.sku.clone());
    (rows.into_iter().cloned().collect(), next)
}

fn catalog_index(b: &Books) -> CatalogIndex {
    let records = Records::new(&b.entries, b.as_of);
    let mut owned: HashMap<&str, i64> = HashMap::new();
    for r in &b.stock {
        if r.state != "origin" {
            *owned.entry(r.sku.as_str()).or_default() += r.units;
        }
    }
    // Units sold per SKU from the statements that stand (corrections applied).
    let mut sold: HashMap<&str, i64> = HashMap::new();
    for s in &records.statements {
        for l in &s.st.lines {
            if let Some(sku) = &l.sku {
                let sign = match l.kind {
                    backstock_ledger::LineKind::Sale => 1,
                    backstock_ledger::LineKind::Return => -1,
                    _ => 0,
                };
                *sold.entry(sku.as_str()).or_default() += sign * l.units;
            }
        }
    }
    let mut items: Vec<CatalogRow> = records
        .catalog
        .iter()
        .map(|(sku, c)| CatalogRow {
            units_owned: owned.get(sku.as_str()).copied().unwrap_or(0),
            units_sold: sold.get(sku.as_str()).copied().unwrap_or(0),
            sku: sku.to_string(),
            upc: c.upc.as_ref().map(|u| u.as_str().to_string()),
            title: c.title.clone(),
            artist: c.artist.clone(),
            format: c.format.clone(),
            release_date: c.release_date,
            list_price: c.list_price,
            wholesale_price: c.wholesale_price,
        })
        .collect();
    // Paging compares SKUs as text: keep that order whatever the map's.
    items.sort_by(|a, b| a.sku.cmp(&b.sku));
    let payees = items.iter().map(|r| payee_of_artist(&r.artist)).collect();
    CatalogIndex { items, payees }
}

#[derive(Debug, Clone, Serialize)]
pub struct ShipmentRow {
    pub shipment_id: String,
    pub date: Date,
    pub from: String,
    pub to: String,
    pub sku: String,
    pub units: u64,
    pub po_number: Option<String>,
    pub override_reason: Option<String>,
    /// Set when a correction reversed it: it moves nothing and counts nowhere.
    pub reversed: Option<ReversalRow>,
}

#[derive(Debug, Clone, Serialize)]
pub struct OrderRow {
    pub po_number: String,
    pub date: Date,
    pub distributor: String,
    pub sku: String,
    pub units: u64,
    pub reversed: Option<ReversalRow>,
}

/// A correction that reversed a record: when it became known, which entry, why.
#[derive(Debug, Clone, Serialize)]
pub struct ReversalRow {
    pub on: Date,
    pub by: String,
    pub reason: String,
}

impl ReversalRow {
    fn of(r: Option<backstock_records::Reversal<'_>>) -> Option<ReversalRow> {
        r.map(|r| ReversalRow {
            on: r.on,
            by: r.by.to_string(),
            reason: r.reason.to_string(),
        })
    }
}

/// Shipments and purchase orders: all, or one distributor's own; corrected ones are
/// listed with their reversal.
pub fn shipments(t: &Tenant, b: &Books) -> (Vec<ShipmentRow>, Vec<OrderRow>) {
    let mine = |p: &PartyId| match &t.scope {
        Scope::Label => true,
        Scope::Distributor(d) => p.as_str() == d,
        Scope::Payee(_) => false,
    };
    let records = Records::with_reversed(&b.entries, b.as_of);
    let ships = records
        .shipments
        .iter()
        .filter(|s| mine(s.from) || mine(s.to))
        .map(|s| ShipmentRow {
            shipment_id: s.shipment_id.to_string(),
            date: s.date,
            from: s.from.to_string(),
            to: s.to.to_string(),
            sku: s.sku.to_string(),
            units: s.units,
            po_number: s.po_number.map(str::to_string),
            override_reason: if t.scope == Scope::Label {
                s.override_reason.map(str::to_string)
            } else {
                None
            },
            reversed: ReversalRow::of(s.reversed),
        })
        .collect();
    let orders = records
        .pos
        .iter()
        .filter(|p| mine(&p.distributor))
        .map(|p| OrderRow {
            po_number: p.po_number.clone(),
            date: p.date,
            distributor: p.distributor.to_string(),
            sku: p.sku.to_string(),
            units: p.units,
            reversed: ReversalRow::of(p.reversed),
        })
        .collect();
    (ships, orders)
}

/// Everything the distributor page shows about one distributor.
pub struct DistributorDetail<'a> {
    pub agreement: &'a backstock_ledger::facts::Agreement,
    pub receivables: Option<&'a DistributorReceivables>,
    pub risk: Option<&'a Assessment>,
    pub legal: Option<&'a backstock_risk::legal::AgreementLegal>,
    pub payments: Vec<(Date, String, Money, Option<String>)>,
    pub demands: Vec<DemandRow>,
    pub timeline: Vec<(Date, Level, Vec<String>)>,
}

#[derive(Debug, Clone, Serialize)]
pub struct DemandRow {
    pub demand_id: String,
    pub made_on: Date,
    pub kind: String,
    pub via: String,
    pub answered_on: Option<Date>,
    pub outcome: Option<String>,
    pub note: Option<String>,
}

pub fn distributor<'a>(b: &'a Books, id: &str) -> Option<DistributorDetail<'a>> {
    let records = Records::new(&b.entries, b.as_of);
    let (_, agreement) = records.agreements.iter().find(|(d, _)| d.as_str() == id)?;
    let agreement: &'a backstock_ledger::facts::Agreement = agreement;
    let payments = records
        .payments
        .iter()
        .filter(|p| p.distributor.as_str() == id)
        .map(|p| {
            (
                p.date,
                p.payment_id.to_string(),
                p.amount,
                p.statement_id.map(str::to_string),
            )
        })
        .collect();
    let demands: Vec<DemandRow> = records
        .demands
        .iter()
        .filter(|d| d.distributor.as_str() == id)
        .map(|d| {
            let answer = records
                .responses
                .iter()
                .filter(|r| r.demand_id == d.demand_id)
                .max_by_key(|r| r.answered_on);
            DemandRow {
                demand_id: d.demand_id.clone(),
                made_on: d.made_on,
                kind: serde_json::to_value(d.kind)
                    .ok()
                    .and_then(|v| v.as_str().map(String::from))
                    .unwrap_or_default(),
                via: d.via.clone(),
                answered_on: answer.map(|r| r.answered_on),
                outcome: answer.and_then(|r| {
                    serde_json::to_value(r.outcome)
                        .ok()
                        .and_then(|v| v.as_str().map(String::from))
                }),
                note: answer.map(|r| r.note.clone()),
            }
        })
        .collect();
    let timeline = b
        .history
        .iter()
        .filter_map(|p| {
            p.distributors
                .iter()
                .find(|r| r.distributor.as_str() == id)
                .map(|r| (p.on, r.level, r.signals.clone()))
        })
        .collect();
    Some(DistributorDetail {
        agreement,
        receivables: b.receivables.iter().find(|r| r.distributor.as_str() == id),
        risk: b.risk.iter().find(|r| r.distributor.as_str() == id),
        legal: b
            .legal
            .agreements
            .iter()
            .find(|a| a.distributor.as_str() == id),
        payments,
        demands,
        timeline,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_bad_as_of_names_the_value_once() {
        let q = HashMap::from([("as_of".to_string(), "2015-13-01".to_string())]);
        let e = as_of_param(&q).unwrap_err();
        assert_eq!(
            e.message,
            "as_of: found \"2015-13-01\", expected a date that exists, written YYYY-MM-DD, between 1900-01-01 and 2199-12-31"
        );
    }

    #[test]
    fn payees_from_artist_names() {
        assert_eq!(payee_of_artist("June Okafor"), "june-okafor");
        assert_eq!(payee_of_artist("Elk & Ember"), "elk-ember");
        assert_eq!(payee_of_artist("  The Band! "), "the-band");
    }
}
