//! Royalties in the web app: the periods run and running one (preview, then post and
//! lock), artists' statements as the run stored them (HTML, PDF, CSV, JSON), and the
//! artist portal (an artist member's statements and the releases they are paid on).
//!
//! Everything goes through [`Tenant`]: label roles see every payee's statements, an
//! artist only those of the payee their membership names (another payee's statement
//! is "not found", as out-of-party ids are elsewhere). Statements are never
//! recomputed: they are read from the `royalty_run` entries
//! (`backstock_app::royalties::runs_on_file`).
//!
//! Stable element ids for browser tests and scripts: `royalties`, `run-form`,
//! `run-period`, `run-preview-submit`, `run-preview`, `tie-out`, `run-confirm-form`,
//! `run-confirm`, `run-result`, `statements`, `releases`, `not-collected`,
//! `statement`, and on the statements list every PDF link has class `statement-pdf`,
//! the first also id `statement-pdf`.

use crate::api::Body;
use crate::auth::{Scope, Tenant};
use crate::format::Locale;
use crate::html::{csv_download, esc, page, url_encode, Cell, Grid};
use crate::roles::Perm;
use crate::views::amount;
use crate::{AppState, Fail};
use axum::extract::{Form, Path, Query, State};
use axum::http::header;
use axum::response::{Html, IntoResponse, Response};
use axum::Json;
use backstock_app::royalties::{self as roy, RunOnFile};
use backstock_domain::{Currency, Date, Money};
use backstock_royalty_statement as doc;
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use std::collections::{BTreeMap, BTreeSet, HashMap};

type Q = Query<HashMap<String, String>>;

/// The flag on royalties owed by a distributor in default.
const DEFAULT_BADGE: &str = r#"<span class="level level-critical">in default</span>"#;

fn locale(t: &Tenant) -> Locale {
    Locale::new(&t.row.locale, &t.row.currency)
}

fn base(t: &Tenant, rest: &str) -> String {
    format!("/t/{}/{rest}", url_encode(t.slug()))
}

fn csrf_field(t: &Tenant) -> String {
    format!(
        r#"<input type="hidden" name="csrf" value="{}">"#,
        esc(t.viewer.csrf())
    )
}

fn money_cell(l: &Locale, m: Money) -> Cell {
    Cell::money(l, m)
}

fn date_cell(l: &Locale, d: Date) -> Cell {
    Cell {
        text: l.date(d),
        sort: crate::html::SortKey::Num(i64::from(d.days_since_epoch())),
        csv: d.to_string(),
        html: None,
        currency: None,
    }
}

/// Amounts in several currencies: shown joined with "+", sorted by the first.
fn sums_cell(l: &Locale, sums: &BTreeMap<Currency, i64>) -> Cell {
    let ms: Vec<Money> = sums
        .iter()
        .map(|(c, v)| Money::from_minor(*v, *c))
        .collect();
    let Some(first) = ms.first() else {
        return Cell::num(String::new(), 0, String::new());
    };
    if ms.len() == 1 {
        return Cell::money(l, *first);
    }
    Cell::num(
        ms.iter()
            .map(|m| l.money(*m))
            .collect::<Vec<_>>()
            .join(" + "),
        first.minor(),
        ms.iter()
            .map(|m| format!("{} {}", m.to_decimal_string(), m.currency().code()))
            .collect::<Vec<_>>()
            .join(" + "),
    )
}

fn add(sums: &mut BTreeMap<Currency, i64>, m: Money) {
    let v = sums.entry(m.currency()).or_default();
    *v = v.saturating_add(m.minor());
}

// ---------------------------------------------------------------- what a member sees

/// One contract of a stored statement, as lists show it.
#[derive(Debug, Clone, Serialize)]
pub struct ContractSummary {
    pub contract_id: String,
    pub title: String,
    pub basis: String,
    pub share: String,
    #[serde(serialize_with = "amount")]
    pub opening_balance: Money,
    #[serde(serialize_with = "amount")]
    pub royalties: Money,
    #[serde(serialize_with = "amount")]
    pub costs_charged: Money,
    #[serde(serialize_with = "amount")]
    pub recouped: Money,
    #[serde(serialize_with = "amount")]
    pub payable: Money,
    #[serde(serialize_with = "amount")]
    pub closing_balance: Money,
    #[serde(serialize_with = "amount")]
    pub unrecouped: Money,
    pub carried_below_minimum: bool,
    /// Royalties on sales reported but not (fully) paid for, all periods.
    #[serde(serialize_with = "amount")]
    pub earned_not_collected: Money,
    /// Of which owed by distributors in default.
    #[serde(serialize_with = "amount")]
    pub earned_not_collected_in_default: Money,
    /// Distributors in default that owe part of it.
    pub distributors_in_default: Vec<String>,
}

/// A stored statement, as lists show it.
#[derive(Debug, Clone, Serialize)]
pub struct StatementSummary {
    pub period: String,
    pub period_start: Date,
    pub period_end: Date,
    pub issued_on: Date,
    pub payee: String,
    pub payee_name: String,
    pub contracts: Vec<ContractSummary>,
    /// Where to get it (`?format=html|pdf|csv|json`).
    pub href: String,
}

fn in_default(c: &doc::ContractStatement) -> Vec<String> {
    c.not_collected
        .iter()
        .filter(|n| n.in_default)
        .map(|n| n.distributor_name.clone())
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect()
}

fn statement_href(slug: &str, period: &str, payee: &str) -> String {
    format!(
        "/t/{}/statements/{}/{}",
        url_encode(slug),
        url_encode(period),
        url_encode(payee)
    )
}

pub fn summarize(slug: &str, s: &doc::RoyaltyStatement) -> StatementSummary {
    StatementSummary {
        period: s.period.clone(),
        period_start: s.period_start,
        period_end: s.period_end,
        issued_on: s.issued_on,
        payee: s.payee.id.clone(),
        payee_name: s.payee.name.clone(),
        href: statement_href(slug, &s.period, &s.payee.id),
        contracts: s
            .contracts
            .iter()
            .map(|c| ContractSummary {
                contract_id: c.contract_id.clone(),
                title: c.title.clone(),
                basis: c.basis.clone(),
                share: c.share.clone(),
                opening_balance: c.totals.opening_balance,
                royalties: c.totals.royalties,
                costs_charged: c.totals.costs_charged,
                recouped: c.totals.recouped,
                payable: c.totals.payable,
                closing_balance: c.totals.closing_balance,
                unrecouped: c.totals.unrecouped,
                carried_below_minimum: c.totals.carried_below_minimum,
                earned_not_collected: c.totals.earned_not_collected,
                earned_not_collected_in_default: c.totals.earned_not_collected_in_default,
                distributors_in_default: in_default(c),
            })
            .collect(),
    }
}

/// Whether the member may see this payee's statements.
fn may_see(t: &Tenant, payee: &str) -> bool {
    match &t.scope {
        Scope::Label => true,
        Scope::Payee(p) => p == payee,
        Scope::Distributor(_) => false,
    }
}

/// The statements the member may see, newest period first, filtered by the query's
/// `period` and `payee` when given.
async fn visible(
    t: &Tenant,
    q: &HashMap<String, String>,
) -> Result<(Vec<RunOnFile>, Vec<doc::RoyaltyStatement>), Fail> {
    let runs = roy::runs_on_file(t.store()).await?;
    let period = q.get("period").map(|s| s.trim()).filter(|s| !s.is_empty());
    let payee = q.get("payee").map(|s| s.trim()).filter(|s| !s.is_empty());
    let mut out = Vec::new();
    for r in runs.iter().rev() {
        if period.is_some_and(|p| !p.eq_ignore_ascii_case(&r.period)) {
            continue;
        }
        for s in &r.stored.statements {
            if may_see(t, &s.payee.id) && payee.is_none_or(|p| p == s.payee.id) {
                out.push(s.clone());
            }
        }
    }
    Ok((runs, out))
}

/// One stored statement, if the member may see it; otherwise not found (another
/// payee's statement is not revealed to an artist).
async fn find(t: &Tenant, period: &str, payee: &str) -> Result<doc::RoyaltyStatement, Fail> {
    let gone = || Fail::not_found(format!("no statement for payee {payee} in {period}"));
    if !may_see(t, payee) {
        return Err(gone());
    }
    // A keyed read of the one statement (issue 15), not a decode of every run.
    match roy::stored_statement(t.store(), period, payee).await? {
        Some(s) => Ok(s),
        None if !roy::period_run(t.store(), period).await? => Err(Fail::not_found(format!(
            "royalty period {period} has not been run"
        ))),
        None => Err(gone()),
    }
}

/// A release an artist is paid on.
#[derive(Debug, Clone, Serialize)]
pub struct PaidRelease {
    pub sku: String,
    pub title: String,
    pub artist: String,
    pub format: String,
    pub release_date: Option<Date>,
    pub contract_id: String,
    pub contract_title: String,
    /// The payee's share of the artist royalty, e.g. `60%`.
    pub share: String,
    /// `earned` or `collected`.
    pub basis: String,
}

/// The releases on the contracts (versions in force on the label's today) that pay
/// `payee`; titles from the catalog of the (cached) books.
pub async fn releases_paid_on(
    state: &AppState,
    t: &Tenant,
    payee: &str,
) -> Result<Vec<PaidRelease>, Fail> {
    let b = crate::views::books(t, &state.cache).await?;
    let contracts = roy::contracts_of_payee(t.store(), payee, b.as_of).await?;
    let skus: BTreeSet<String> = contracts
        .iter()
        .flat_map(|c| c.skus.iter().map(|s| s.to_string()))
        .collect();
    let mut catalog: HashMap<String, &backstock_ledger::facts::CatalogItem> = HashMap::new();
    for e in &b.entries {
        if let backstock_ledger::Event::Fact(backstock_ledger::Fact::CatalogItem(c)) = &e.event {
            if skus.contains(c.sku.as_str()) {
                catalog.insert(c.sku.to_string(), c);
            }
        }
    }
    let mut out = Vec::new();
    for c in &contracts {
        let share = c
            .payees
            .iter()
            .find(|s| s.payee.as_str() == payee)
            .map(|s| roy::files::percent(s.share))
            .unwrap_or_default();
        let basis = serde_json::to_value(c.basis)
            .ok()
            .and_then(|v| v.as_str().map(String::from))
            .unwrap_or_default();
        for sku in &c.skus {
            let item = catalog.get(sku.as_str());
            out.push(PaidRelease {
                sku: sku.to_string(),
                title: item.map(|i| i.title.clone()).unwrap_or_default(),
                artist: item.map(|i| i.artist.clone()).unwrap_or_default(),
                format: item.map(|i| i.format.clone()).unwrap_or_default(),
                release_date: item.and_then(|i| i.release_date),
                contract_id: c.contract_id.clone(),
                contract_title: c.title.clone(),
                share: share.clone(),
                basis: basis.clone(),
            });
        }
    }
    Ok(out)
}

// ---------------------------------------------------------------- runs

/// A tie-out row as the run stored it.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct TieOut {
    pub currency: Currency,
    pub receipts: Money,
    pub payee_royalties: Money,
    pub rounding_to_label: Money,
    pub label_share: Money,
    pub distributor_reserves: Money,
    pub fees: Money,
    pub difference: Money,
    pub ok: bool,
}

fn tie_out(stored: &roy::StoredRun) -> Vec<TieOut> {
    serde_json::from_value(stored.tie_out.clone()).unwrap_or_default()
}

fn tie_json(t: &TieOut) -> Value {
    let m = |m: Money| json!({"amount": m.to_decimal_string(), "amount_minor": m.minor(), "currency": m.currency().code()});
    json!({
        "currency": t.currency.code(),
        "receipts": m(t.receipts),
        "payee_royalties": m(t.payee_royalties),
        "rounding_to_label": m(t.rounding_to_label),
        "label_share": m(t.label_share),
        "distributor_reserves": m(t.distributor_reserves),
        "fees": m(t.fees),
        "difference": m(t.difference),
        "ok": t.ok,
    })
}

/// Per-currency totals of a run's statements: royalties, payable, earned but not
/// collected, of which in default.
type RunTotals = [BTreeMap<Currency, i64>; 4];

fn run_totals(stored: &roy::StoredRun) -> RunTotals {
    let mut t: RunTotals = Default::default();
    for s in &stored.statements {
        for c in &s.contracts {
            add(&mut t[0], c.totals.royalties);
            add(&mut t[1], c.totals.payable);
            add(&mut t[2], c.totals.earned_not_collected);
            add(&mut t[3], c.totals.earned_not_collected_in_default);
        }
    }
    t
}

fn period_arg(p: &str) -> Result<String, Fail> {
    let p = p.trim();
    backstock_royalties::Period::parse(p)
        .map(|p| p.to_string())
        // The period's own error already names the value and what was expected.
        .map_err(|e| Fail::bad(e.to_string()))
}

/// Previews (dry run) or posts and locks a period. A period already run is refused
/// (409 `refused`); a posted run is audited.
pub async fn run_period(
    state: &AppState,
    t: &Tenant,
    period: &str,
    dry_run: bool,
    previewed_journal: Option<i64>,
) -> Result<roy::RunOutcome, Fail> {
    let period = period_arg(period)?;
    // Statements carry the label's name: the one set for the store, else the tenant's.
    let label_name = match t.store().meta("label_name").await? {
        Some(n) if !n.trim().is_empty() => None,
        _ => Some(t.row.name.clone()),
    };
    // Posting is serialized (runs are rare): two confirms of the same period post it
    // once and the second is told it is locked.
    static POSTING: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());
    let _posting = if dry_run {
        None
    } else {
        Some(POSTING.lock().await)
    };
    if let Some(then) = previewed_journal {
        let now = t.store().entry_count().await?;
        let done = roy::runs_on_file(t.store())
            .await?
            .iter()
            .any(|r| r.period == period);
        if now != then && done {
            return Err(Fail::new(
                409,
                "refused",
                format!("royalty period {period} was already run and is locked"),
            ));
        }
        if now != then {
            return Err(Fail::new(
                409,
                "refused",
                format!(
                    "the books changed since the preview of {period} ({then} journal entries then, {now} now); nothing was posted: preview it again"
                ),
            ));
        }
    }
    let outcome = roy::run_outcome(
        t.store(),
        roy::RunArgs {
            period: period.clone(),
            dry_run,
            on: None,
            format: backstock_app::output::Format::Table,
            label_name,
        },
    )
    .await;
    let outcome = match outcome {
        Ok(o) => o,
        Err(e) => {
            if !dry_run {
                t.audit(
                    &state.control,
                    "royalty_run_refused",
                    &format!("{period}: {}", e.message()),
                )
                .await?;
            }
            return Err(Fail::from(e));
        }
    };
    if outcome.already_run {
        return Err(Fail::new(
            409,
            "refused",
            format!(
                "royalty period {period} was already run and is locked; its {} on file (later entries roll into the next period)",
                match outcome.run.statements.len() {
                    1 => "1 statement is".to_string(),
                    n => format!("{n} statements are"),
                }
            ),
        ));
    }
    if outcome.posted {
        let pay: Vec<String> = run_totals(&outcome.run)[1]
            .iter()
            .map(|(c, v)| format!("{} {}", Money::from_minor(*v, *c).to_decimal_string(), c))
            .collect();
        t.audit(
            &state.control,
            "royalty_run",
            &format!(
                "{period} posted and locked: {} statement{}, payable {}",
                outcome.run.statements.len(),
                if outcome.run.statements.len() == 1 {
                    ""
                } else {
                    "s"
                },
                if pay.is_empty() {
                    "0".into()
                } else {
                    pay.join(" + ")
                }
            ),
        )
        .await?;
    }
    Ok(outcome)
}

/// `GET /t/{tenant}/royalties`: periods run, and (owner, staff) the run form.
pub async fn royalties_page(t: Tenant, Query(q): Q) -> Result<Response, Fail> {
    let l = locale(&t);
    let runs = roy::runs_on_file(t.store()).await?;
    let mut g = Grid::new(
        "runs",
        &[
            ("period", false),
            ("from", false),
            ("to", false),
            ("run on", false),
            ("statements", true),
            ("royalties", true),
            ("payable", true),
            ("earned not collected", true),
            ("of which in default", true),
            ("ties out", false),
        ],
    );
    for r in runs.iter().rev() {
        let [roy_sum, pay, nc, nd] = run_totals(&r.stored);
        let ties = tie_out(&r.stored);
        let n = r.stored.statements.len() as i64;
        g.push(vec![
            Cell::link(
                r.period.clone(),
                &format!(
                    "{}?period={}",
                    base(&t, "statements"),
                    url_encode(&r.period)
                ),
            ),
            date_cell(&l, r.period_start),
            date_cell(&l, r.period_end),
            date_cell(&l, r.run_on),
            Cell::num(l.int(n), n, n.to_string()),
            sums_cell(&l, &roy_sum),
            sums_cell(&l, &pay),
            sums_cell(&l, &nc),
            sums_cell(&l, &nd),
            Cell::text(if ties.iter().all(|x| x.ok) {
                "to the cent"
            } else {
                "NO"
            }),
        ]);
    }
    g.sort(&q);
    if let Some(r) = csv_download(&[&g], &q) {
        return Ok(r);
    }
    let next = roy::next_period(&runs);
    let form = if t.may(Perm::Operate) {
        format!(
            r#"<section><h2>Run a period</h2><form id="run-form" class="stack" method="post" action="{}">{}
<label for="run-period">Period (half-year 2016H1, quarter 2016Q2 or month 2016-05)</label><input id="run-period" name="period" required value="{}" placeholder="2016H1">
<button id="run-preview-submit" class="primary" type="submit">Preview</button></form>
<p class="note">The preview computes every payee's statement and the tie-out and records nothing. Posting a period locks it: it runs once, in order after the last period run; later corrections roll into the next period and never rewrite a sent statement.</p></section>"#,
            esc(&base(&t, "royalties/preview")),
            csrf_field(&t),
            esc(next.as_deref().unwrap_or("")),
        )
    } else {
        r#"<p class="note">Owners and staff run royalty periods.</p>"#.to_string()
    };
    let warnings: String = runs
        .last()
        .map(|r| {
            r.stored
                .warnings
                .iter()
                .map(|w| format!("<li>{}</li>", esc(&l.sentence(w))))
                .collect()
        })
        .unwrap_or_default();
    let warnings = if warnings.is_empty() {
        String::new()
    } else {
        format!(
            "<section><h2>Notes on the last run ({})</h2><ul>{warnings}</ul></section>",
            esc(&runs.last().map(|r| r.period.clone()).unwrap_or_default())
        )
    };
    let body = format!(
        r#"<div id="royalties"><section><h2>Periods run and locked</h2>{}</section>{warnings}{form}</div>"#,
        g.html(&base(&t, "royalties"), &q)
    );
    Ok(page("Royalties", Some(&t), &body).into_response())
}

#[derive(Deserialize)]
pub struct PeriodForm {
    pub period: String,
    /// The journal's length when the preview was made: a confirm is refused when the
    /// books changed since (what is posted is what was previewed).
    pub journal: Option<String>,
}

/// A plain table (a POST's answer has no sortable URL).
fn table(id: &str, columns: &[(&str, bool)], rows: &[Vec<String>]) -> String {
    let mut h = format!(r#"<table id="{id}"><thead><tr>"#);
    for (c, n) in columns {
        h.push_str(&format!(
            "<th{}>{}</th>",
            if *n { r#" class="n""# } else { "" },
            esc(c)
        ));
    }
    h.push_str("</tr></thead><tbody>");
    if rows.is_empty() {
        h.push_str(&format!(
            r#"<tr><td colspan="{}" class="note">Nothing to show.</td></tr>"#,
            columns.len()
        ));
    }
    for r in rows {
        h.push_str("<tr>");
        for (i, v) in r.iter().enumerate() {
            let n = columns.get(i).is_some_and(|c| c.1);
            h.push_str(&format!(
                "<td{}>{}</td>",
                if n { r#" class="n""# } else { "" },
                esc(v)
            ));
        }
        h.push_str("</tr>");
    }
    h.push_str("</tbody></table>");
    h
}

/// The per-payee summary and tie-out of a run (preview or posted).
fn run_tables(l: &Locale, run: &roy::StoredRun) -> String {
    let mut rows = Vec::new();
    for s in &run.statements {
        for c in &s.contracts {
            let x = &c.totals;
            let rel = Money::from_minor(
                x.reserve_released
                    .minor()
                    .saturating_sub(x.reserve_held.minor()),
                c.currency,
            );
            rows.push(vec![
                format!("{} ({})", s.payee.name, s.payee.id),
                c.contract_id.clone(),
                c.basis.clone(),
                l.money(x.opening_balance),
                l.money(x.royalties),
                l.money(rel),
                l.money(x.costs_charged),
                l.money(x.recouped),
                l.money(x.payable),
                l.money(x.closing_balance),
                l.money(x.earned_not_collected),
                l.money(x.earned_not_collected_in_default),
            ]);
        }
    }
    let payees = table(
        "run-preview",
        &[
            ("payee", false),
            ("contract", false),
            ("basis", false),
            ("opening", true),
            ("royalties", true),
            ("reserve", true),
            ("costs", true),
            ("recouped", true),
            ("payable", true),
            ("closing", true),
            ("earned not collected", true),
            ("in default", true),
        ],
        &rows,
    );
    let ties: Vec<Vec<String>> = tie_out(run)
        .iter()
        .map(|x| {
            vec![
                x.currency.code().to_string(),
                l.money(x.receipts),
                l.money(x.payee_royalties),
                l.money(x.rounding_to_label),
                l.money(x.label_share),
                l.money(x.distributor_reserves),
                l.money(x.difference),
                if x.ok {
                    "ties to the cent".into()
                } else {
                    "DOES NOT TIE".into()
                },
            ]
        })
        .collect();
    let ties = table(
        "tie-out",
        &[
            ("currency", false),
            ("receipts", true),
            ("payee royalties", true),
            ("rounding to label", true),
            ("label share", true),
            ("distributor reserves", true),
            ("difference", true),
            ("", false),
        ],
        &ties,
    );
    let warnings: String = run
        .warnings
        .iter()
        .map(|w| format!("<li>{}</li>", esc(&l.sentence(w))))
        .collect();
    format!(
        r#"<section><h2>Statements per payee</h2>{payees}</section>
<section><h2>Tie-out</h2><p class="note">Receipts = payee royalties + rounding to the label + label share + distributor reserves, per currency.</p>{ties}</section>{}"#,
        if warnings.is_empty() {
            String::new()
        } else {
            format!("<section><h2>Notes</h2><ul id=\"run-warnings\">{warnings}</ul></section>")
        }
    )
}

/// `POST /t/{tenant}/royalties/preview`: the dry run, with a button to post it.
pub async fn preview(
    State(state): State<AppState>,
    t: Tenant,
    Form(f): Form<PeriodForm>,
) -> Result<Html<String>, Fail> {
    let journal = t.store().entry_count().await?;
    let o = run_period(&state, &t, &f.period, true, None).await?;
    let l = locale(&t);
    let body = match o.postable_from {
        // A period not over yet: the figures so far, and when it can be posted.
        Some(end) => format!(
            r#"<p class="okbox" id="run-dry">Preview of {p} so far: the period runs to {}, and can be posted and locked from that day. Nothing is recorded.</p>{}
<section><a href="{}">Back to royalties</a></section>"#,
            esc(&l.date(end)),
            run_tables(&l, &o.run),
            esc(&base(&t, "royalties")),
            p = esc(&o.period),
        ),
        None => format!(
            r#"<p class="okbox" id="run-dry">Dry run of {p}: nothing is recorded until you post it.</p>{}
<section><form id="run-confirm-form" class="inline" method="post" action="{}">{}<input type="hidden" name="period" value="{p}"><input type="hidden" name="journal" value="{journal}"><button id="run-confirm" class="primary" type="submit">Post {p} and lock it</button></form> <a href="{}">Cancel</a></section>"#,
            run_tables(&l, &o.run),
            esc(&base(&t, "royalties/runs")),
            csrf_field(&t),
            esc(&base(&t, "royalties")),
            p = esc(&o.period),
        ),
    };
    Ok(page(
        &format!("Royalties {}: preview", o.period),
        Some(&t),
        &body,
    ))
}

/// `POST /t/{tenant}/royalties/runs`: posts and locks the period.
pub async fn post_run(
    State(state): State<AppState>,
    t: Tenant,
    Form(f): Form<PeriodForm>,
) -> Result<Html<String>, Fail> {
    let expected = match f
        .journal
        .as_deref()
        .map(str::trim)
        .filter(|j| !j.is_empty())
    {
        Some(j) => Some(
            j.parse::<i64>()
                .map_err(|_| Fail::bad(format!("journal: found {j:?}, expected a number")))?,
        ),
        None => None,
    };
    let o = run_period(&state, &t, &f.period, false, expected).await?;
    let l = locale(&t);
    let body = format!(
        r#"<p class="okbox" id="run-result">Royalty period {p} is posted and locked: {n} statement{s} stored.</p>{}
<p><a id="run-statements" href="{}?period={p}">The statements of {p}</a> · <a href="{}">All periods</a></p>"#,
        run_tables(&l, &o.run),
        esc(&base(&t, "statements")),
        esc(&base(&t, "royalties")),
        p = esc(&o.period),
        n = o.run.statements.len(),
        s = if o.run.statements.len() == 1 { "" } else { "s" },
    );
    Ok(page(
        &format!("Royalties {}: posted", o.period),
        Some(&t),
        &body,
    ))
}

// ---------------------------------------------------------------- statements

fn links_html(href: &str, first: bool) -> String {
    let h = esc(href);
    format!(
        r#"<a href="{h}">view</a> · <a class="statement-pdf"{} href="{h}?format=pdf">PDF</a> · <a href="{h}?format=csv">CSV</a> · <a href="{h}?format=json">JSON</a>"#,
        if first { r#" id="statement-pdf""# } else { "" }
    )
}

fn flags(c: &[ContractSummary]) -> String {
    let d: BTreeSet<&str> = c
        .iter()
        .flat_map(|c| c.distributors_in_default.iter().map(String::as_str))
        .collect();
    if d.is_empty() {
        String::new()
    } else {
        format!(
            "in default: {}",
            d.into_iter().collect::<Vec<_>>().join(", ")
        )
    }
}

/// `GET /t/{tenant}/statements`: every payee's statements (label roles) or the artist
/// portal (an artist: their statements, what is not collected and why, and the
/// releases they are paid on).
pub async fn statements_page(
    State(state): State<AppState>,
    t: Tenant,
    Query(q): Q,
) -> Result<Response, Fail> {
    let l = locale(&t);
    let (runs, list) = visible(&t, &q).await?;
    let mut g = Grid::new(
        "statements",
        &[
            ("period", false),
            ("payee", false),
            ("issued", false),
            ("contracts", false),
            ("royalties", true),
            ("payable", true),
            ("earned not collected", true),
            ("of which in default", true),
            ("flags", false),
            ("download", false),
        ],
    );
    for s in &list {
        let sm = summarize(t.slug(), s);
        let mut sums: [BTreeMap<Currency, i64>; 4] = Default::default();
        for c in &sm.contracts {
            add(&mut sums[0], c.royalties);
            add(&mut sums[1], c.payable);
            add(&mut sums[2], c.earned_not_collected);
            add(&mut sums[3], c.earned_not_collected_in_default);
        }
        let f = flags(&sm.contracts);
        let flag = if f.is_empty() {
            Cell::text("")
        } else {
            Cell {
                html: Some(format!(r#"{} {}"#, DEFAULT_BADGE, esc(&f))),
                ..Cell::text(f)
            }
        };
        let mut dl = Cell::text(sm.href.clone());
        dl.html = Some(String::new());
        g.push(vec![
            Cell {
                sort: crate::html::SortKey::Num(i64::from(s.period_end.days_since_epoch())),
                ..Cell::link(sm.period.clone(), &sm.href)
            },
            Cell::text(format!("{} ({})", sm.payee_name, sm.payee)),
            date_cell(&l, sm.issued_on),
            Cell::text(
                sm.contracts
                    .iter()
                    .map(|c| c.contract_id.as_str())
                    .collect::<Vec<_>>()
                    .join(", "),
            ),
            sums_cell(&l, &sums[0]),
            sums_cell(&l, &sums[1]),
            sums_cell(&l, &sums[2]),
            sums_cell(&l, &sums[3]),
            flag,
            dl,
        ]);
    }
    g.sort(&q);
    // The download links once sorted: the first PDF link has the id.
    for (i, row) in g.rows.iter_mut().enumerate() {
        if let Some(c) = row.last_mut() {
            c.html = Some(links_html(&c.text, i == 0));
        }
    }
    let artist = match &t.scope {
        Scope::Payee(p) => Some(p.clone()),
        _ => None,
    };
    let mut releases = Grid::new(
        "releases",
        &[
            ("sku", false),
            ("title", false),
            ("format", false),
            ("released", false),
            ("contract", false),
            ("your share", false),
            ("basis", false),
        ],
    );
    if let Some(p) = &artist {
        for r in releases_paid_on(&state, &t, p).await? {
            releases.push(vec![
                Cell::text(r.sku),
                Cell::text(r.title),
                Cell::text(r.format),
                r.release_date
                    .map(|d| date_cell(&l, d))
                    .unwrap_or_else(|| Cell::text("")),
                Cell::text(format!("{} — {}", r.contract_id, r.contract_title)),
                Cell::text(r.share),
                Cell::text(r.basis),
            ]);
        }
        releases.sort(&q);
    }
    if let Some(r) = csv_download(&[&g, &releases], &q) {
        return Ok(r);
    }
    let path = base(&t, "statements");
    let filter = match q.get("period").filter(|p| !p.trim().is_empty()) {
        Some(p) => format!(
            r#"<p class="note">Period {} · <a href="{}">all periods</a></p>"#,
            esc(p),
            esc(&path)
        ),
        None => String::new(),
    };
    let body = match &artist {
        Some(p) => {
            // The latest statement's "earned but not collected", spelled out.
            let latest = list.first();
            let mut nc = String::new();
            if let Some(s) = latest {
                for c in &s.contracts {
                    nc.push_str(&format!(
                        "<h3>{} — {} ({}, {})</h3><ul>",
                        esc(&c.contract_id),
                        esc(&c.title),
                        esc(&s.period),
                        esc(c.currency.code())
                    ));
                    for line in doc::not_collected_items_in(c, &l.writing()) {
                        let default = line.in_default;
                        let line = line.text;
                        nc.push_str(&format!(
                            "<li>{}{}</li>",
                            if default {
                                format!("{} ", DEFAULT_BADGE)
                            } else {
                                String::new()
                            },
                            esc(&line)
                        ));
                    }
                    nc.push_str(&format!(
                        "</ul><p>Earned but not collected (all periods): <strong>{}</strong>{}</p>",
                        esc(&l.money(c.totals.earned_not_collected)),
                        if c.totals.earned_not_collected_in_default.is_zero() {
                            String::new()
                        } else {
                            format!(
                                ", of which owed by distributors in default: <strong>{}</strong>",
                                esc(&l.money(c.totals.earned_not_collected_in_default))
                            )
                        }
                    ));
                }
            }
            let nc = if nc.is_empty() {
                r#"<p class="note">No statement has been issued to you yet.</p>"#.to_string()
            } else {
                nc
            };
            format!(
                r#"<p class="note">Your royalty statements as the label sent them (payee {}). Each is available as PDF, CSV and JSON.</p>{filter}
<section><h2>Your statements</h2>{}</section>
<section id="not-collected"><h2>Earned but not collected</h2><p class="note">Royalties on sales a distributor reported but has not paid for. Where a distributor is in default, the label is pursuing the claim.</p>{nc}</section>
<section><h2>Releases you are paid on</h2>{}</section>"#,
                esc(p),
                g.html(&path, &q),
                releases.html(&path, &q),
            )
        }
        None => format!(
            r#"<p class="note">{} royalty period{} run. <a href="{}">Royalty runs</a></p>{filter}<section><h2>Statements</h2>{}</section>"#,
            runs.len(),
            if runs.len() == 1 { "" } else { "s" },
            esc(&base(&t, "royalties")),
            g.html(&path, &q)
        ),
    };
    let title = if artist.is_some() {
        "Your royalties"
    } else {
        "Royalty statements"
    };
    Ok(page(title, Some(&t), &body).into_response())
}

fn attachment(content_type: &str, name: String, bytes: Vec<u8>) -> Response {
    (
        [
            (header::CONTENT_TYPE, content_type.to_string()),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"{name}\""),
            ),
        ],
        bytes,
    )
        .into_response()
}

/// A file name from ids (letters, digits, `-`, `_` kept).
fn file_stem(parts: &[&str]) -> String {
    parts
        .iter()
        .map(|p| {
            p.chars()
                .map(|c| {
                    if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
                        c
                    } else {
                        '-'
                    }
                })
                .collect::<String>()
        })
        .collect::<Vec<_>>()
        .join("-")
}

/// `GET /t/{tenant}/statements/{period}/{payee}?format=html|pdf|csv|json`.
pub async fn statement_page(
    t: Tenant,
    Path((_, period, payee)): Path<(String, String, String)>,
    Query(q): Q,
) -> Result<Response, Fail> {
    let s = find(&t, &period, &payee).await?;
    // The rate on each line and the payments up to the statement date (issue 18.8).
    let checks = backstock_app::payouts::checks(t.store(), &s).await?;
    let format = q.get("format").map(String::as_str).unwrap_or("html");
    let stem = file_stem(&[t.slug(), &s.payee.id, &s.period]);
    let fmt = doc::Format::parse(format).ok_or_else(|| {
        Fail::bad(format!(
            "format: found {format:?}, expected html, pdf, csv or json"
        ))
    })?;
    match fmt {
        doc::Format::Pdf => {
            return Ok(attachment(
                "application/pdf",
                format!("{stem}.pdf"),
                // In the label's locale: its amounts, counts and dates.
                doc::render_in(&s, &checks, fmt, &locale(&t).writing()),
            ));
        }
        doc::Format::Csv if !q.contains_key("table") => {
            return Ok(attachment(
                "text/csv; charset=utf-8",
                format!("{stem}.csv"),
                doc::render_checked(&s, &checks, fmt),
            ))
        }
        doc::Format::Json => {
            return Ok((
                [(header::CONTENT_TYPE, "application/json")],
                doc::render_checked(&s, &checks, fmt),
            )
                .into_response())
        }
        _ => {}
    }
    let l = locale(&t);
    let mut costs = Grid::new(
        "costs",
        &[
            ("contract", false),
            ("date", false),
            ("kind", false),
            ("sku", false),
            ("paid by the label", true),
            ("charged to you", true),
        ],
    );
    let mut nc = Grid::new(
        "not_collected",
        &[
            ("contract", false),
            ("distributor", false),
            ("statement", false),
            ("in default", false),
            ("royalty earned", true),
            ("collected", true),
            ("not collected", true),
        ],
    );
    let mut detail = Grid::new(
        "detail",
        &[
            ("contract", false),
            ("release", false),
            ("sku", false),
            ("format", false),
            ("channel", false),
            ("distributor", false),
            ("rate", false),
            ("units sold", true),
            ("units returned", true),
            ("receipts", true),
            ("returns", true),
            ("royalty earned", true),
            ("royalty collected", true),
        ],
    );
    let int = |n: i64| Cell::num(l.int(n), n, n.to_string());
    let mut sections = String::new();
    for c in &s.contracts {
        for k in &c.costs {
            costs.push(vec![
                Cell::text(c.contract_id.clone()),
                date_cell(&l, k.date),
                Cell::text(k.kind.clone()),
                Cell::text(k.sku.clone().unwrap_or_else(|| "all releases".into())),
                money_cell(&l, k.amount),
                money_cell(&l, k.charged),
            ]);
        }
        for n in &c.not_collected {
            nc.push(vec![
                Cell::text(c.contract_id.clone()),
                Cell::text(n.distributor_name.clone()),
                Cell::text(n.statement_id.clone()),
                if n.in_default {
                    Cell {
                        html: Some(DEFAULT_BADGE.to_string()),
                        ..Cell::num("in default".into(), 1, "in default".into())
                    }
                } else {
                    Cell::num(String::new(), 0, String::new())
                },
                money_cell(&l, n.royalty_earned),
                money_cell(&l, n.royalty_collected),
                money_cell(&l, n.royalty_uncollected),
            ]);
        }
        for d in &c.detail {
            detail.push(vec![
                Cell::text(c.contract_id.clone()),
                Cell::text(d.release.clone()),
                Cell::text(d.sku.clone()),
                Cell::text(d.format.clone()),
                Cell::text(d.channel.clone()),
                Cell::text(d.distributor_name.clone()),
                Cell::text(checks.rate_of(&c.contract_id, d).to_string()),
                int(d.units_sold),
                int(d.units_returned),
                money_cell(&l, d.receipts),
                money_cell(&l, d.returns),
                money_cell(&l, d.royalty_earned),
                money_cell(&l, d.royalty_collected),
            ]);
        }
        let mut summary = String::new();
        for (k, v) in doc::summary_lines_in(c, &l.writing()) {
            let strong = k.starts_with("AMOUNT PAYABLE");
            summary.push_str(&format!(
                r#"<tr><td>{}</td><td class="n">{}</td></tr>"#,
                if strong {
                    format!("<strong>{}</strong>", esc(&k))
                } else {
                    esc(&k)
                },
                if strong {
                    format!("<strong>{}</strong>", esc(&v))
                } else {
                    esc(&v)
                }
            ));
        }
        let mut ncl = String::new();
        for item in doc::not_collected_items_in(c, &l.writing()) {
            let line = item.text;
            ncl.push_str(&format!(
                "<li>{}{}</li>",
                if item.in_default {
                    format!("{} ", DEFAULT_BADGE)
                } else {
                    String::new()
                },
                esc(&line)
            ));
        }
        // The run's word on statements counted differently this period.
        let counted = if c.notes.is_empty() {
            String::new()
        } else {
            format!(
                r#"<h3>Statements counted differently this period</h3><ul class="notes">{}</ul>"#,
                c.notes
                    .iter()
                    .map(|n| format!("<li>{}</li>", esc(n)))
                    .collect::<String>()
            )
        };
        sections.push_str(&format!(
            r#"<section><h2>Contract {} — {}</h2><p class="note">Share {} · basis {} · amounts in {}</p><table class="statement-totals">{summary}</table><h3>Earned but not collected</h3><ul>{ncl}</ul><h3>Why collected differs from earned</h3><p class="why">{}</p>{counted}</section>"#,
            esc(&c.contract_id),
            esc(&c.title),
            esc(&c.share),
            esc(&c.basis),
            esc(c.currency.code()),
            esc(&doc::why_collected_differs_in(c, &l.writing())),
        ));
    }
    let (paid_rows, paid_totals) = doc::payment_lines(&checks);
    let mut paid = String::new();
    for p in &checks.payments {
        paid.push_str(&format!(
            r#"<tr><td>{}</td><td>{}</td><td class="n">{}</td></tr>"#,
            esc(&l.date(p.date)),
            esc(&p.reference),
            esc(&l.money(p.amount))
        ));
    }
    for m in &paid_totals {
        paid.push_str(&format!(
            r#"<tr><td><strong>Total paid</strong></td><td></td><td class="n"><strong>{}</strong></td></tr>"#,
            esc(&l.money(*m))
        ));
    }
    let paid = if paid_rows.is_empty() {
        "<p>No payments made to you up to the statement date.</p>".to_string()
    } else {
        format!(
            r#"<table id="statement-payments-table"><thead><tr><th>Date</th><th>Reference</th><th class="n">Amount</th></tr></thead><tbody>{paid}</tbody></table>"#
        )
    };
    for g in [&mut costs, &mut nc, &mut detail] {
        g.sort(&q);
    }
    if let Some(r) = csv_download(&[&detail, &costs, &nc], &q) {
        return Ok(r);
    }
    let path = statement_href(t.slug(), &s.period, &s.payee.id);
    let h = esc(&path);
    let body = format!(
        r#"<div id="statement"><section><dl><dt>label</dt><dd>{}</dd><dt>payee</dt><dd>{} ({})</dd><dt>address</dt><dd>{}</dd><dt>email</dt><dd>{}</dd><dt>period</dt><dd>{} ({} to {})</dd><dt>issued</dt><dd>{}</dd></dl>
<p><a id="statement-download-pdf" href="{h}?format=pdf">Download PDF</a> · <a href="{h}?format=csv">CSV</a> · <a href="{h}?format=json">JSON</a></p></section>
{sections}<section id="statement-payments"><h2>Paid to you (up to {})</h2>{paid}</section><section><h2>Not collected, by distributor statement</h2>{}</section><section><h2>Costs charged</h2>{}</section><section><h2>Detail</h2>{}</section></div>"#,
        esc(&s.label),
        esc(&s.payee.name),
        esc(&s.payee.id),
        esc(&s.payee.address),
        esc(&s.payee.email),
        esc(&s.period),
        esc(&l.date(s.period_start)),
        esc(&l.date(s.period_end)),
        esc(&l.date(s.issued_on)),
        esc(&l.date(s.issued_on)),
        nc.html(&path, &q),
        costs.html(&path, &q),
        detail.html(&path, &q),
    );
    Ok(page(
        &format!("Statement {} — {}", s.period, s.payee.name),
        Some(&t),
        &body,
    )
    .into_response())
}

// ---------------------------------------------------------------- API

type J = Result<Json<Value>, Fail>;

fn run_json(slug: &str, o: &roy::RunOutcome, dry_run: bool) -> Value {
    json!({
        "period": o.period,
        "dry_run": dry_run,
        "posted": o.posted,
        "postable_from": o.postable_from.map(|d| d.to_string()),
        "statements": o.run.statements.iter().map(|s| summarize(slug, s)).collect::<Vec<_>>(),
        "tie_out": tie_out(&o.run).iter().map(tie_json).collect::<Vec<_>>(),
        "warnings": o.run.warnings,
    })
}

fn sums_json(sums: &BTreeMap<Currency, i64>) -> Value {
    json!(sums
        .iter()
        .map(|(c, v)| {
            let m = Money::from_minor(*v, *c);
            json!({"amount": m.to_decimal_string(), "amount_minor": m.minor(), "currency": c.code()})
        })
        .collect::<Vec<_>>())
}

/// `GET /api/v1/t/{tenant}/royalties`.
pub async fn api_runs(t: Tenant) -> J {
    let runs = roy::runs_on_file(t.store()).await?;
    let list: Vec<Value> = runs
        .iter()
        .map(|r| {
            let [a, b, c, d] = run_totals(&r.stored);
            json!({
                "period": r.period,
                "period_start": r.period_start,
                "period_end": r.period_end,
                "run_on": r.run_on,
                "statements": r.stored.statements.len(),
                "payees": r.stored.statements.iter().map(|s| s.payee.id.clone()).collect::<Vec<_>>(),
                "royalties": sums_json(&a),
                "payable": sums_json(&b),
                "earned_not_collected": sums_json(&c),
                "earned_not_collected_in_default": sums_json(&d),
                "tie_out": tie_out(&r.stored).iter().map(tie_json).collect::<Vec<_>>(),
                "warnings": r.stored.warnings,
            })
        })
        .collect();
    Ok(Json(
        json!({"runs": list, "next_period": roy::next_period(&runs)}),
    ))
}

#[derive(Deserialize)]
pub struct RunBody {
    pub period: String,
    /// Preview only (default false: post and lock).
    #[serde(default)]
    pub dry_run: bool,
}

/// `POST /api/v1/t/{tenant}/royalties/runs`.
pub async fn api_run(State(state): State<AppState>, t: Tenant, Body(b): Body<RunBody>) -> J {
    let o = run_period(&state, &t, &b.period, b.dry_run, None).await?;
    Ok(Json(run_json(t.slug(), &o, b.dry_run)))
}

/// `GET /api/v1/t/{tenant}/statements`.
pub async fn api_statements(State(state): State<AppState>, t: Tenant, Query(q): Q) -> J {
    let (_, list) = visible(&t, &q).await?;
    let statements: Vec<StatementSummary> = list.iter().map(|s| summarize(t.slug(), s)).collect();
    let mut out = json!({"statements": statements});
    if let Scope::Payee(p) = &t.scope {
        out["payee"] = json!(p);
        out["releases_paid_on"] = json!(releases_paid_on(&state, &t, p).await?);
    }
    Ok(Json(out))
}

/// `GET /api/v1/t/{tenant}/statements/{period}/{payee}`: the statement as stored (the
/// JSON of `backstock royalties statement --format json`).
pub async fn api_statement(
    t: Tenant,
    Path((_, period, payee)): Path<(String, String, String)>,
) -> J {
    let s = find(&t, &period, &payee).await?;
    let checks = backstock_app::payouts::checks(t.store(), &s).await?;
    Ok(Json(doc::to_json_value(&s, &checks)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_bad_period_is_explained_once() {
        let e = period_arg(" 2016H3 ").unwrap_err();
        assert_eq!(e.message.matches("2016H3").count(), 1, "{}", e.message);
        assert!(e.message.contains("2016Q2 (quarter)"), "{}", e.message);
        assert_eq!(period_arg(" 2016H1 ").unwrap(), "2016H1");
    }

    #[test]
    fn file_names_and_periods() {
        assert_eq!(
            file_stem(&["alpha", "june-okafor", "2016H1"]),
            "alpha-june-okafor-2016H1"
        );
        assert_eq!(file_stem(&["a b", "x\"y"]), "a-b-x-y");
        assert_eq!(period_arg(" 2016h1 ").ok().as_deref(), Some("2016H1"));
        let e = period_arg("2016X9").unwrap_err();
        assert_eq!((e.status, e.code), (400, "invalid_input"));
        assert!(e.message.contains("2016X9"), "{}", e.message);
    }

    #[test]
    fn sums_show_every_currency() {
        let l = Locale::new("en-US", "USD");
        let mut m = BTreeMap::new();
        add(&mut m, Money::from_minor(1050, Currency::USD));
        add(&mut m, Money::from_minor(-50, Currency::USD));
        let c = sums_cell(&l, &m);
        assert_eq!(c.csv, "10.00");
        add(
            &mut m,
            Money::from_minor(300, Currency::parse("EUR").unwrap()),
        );
        assert_eq!(sums_cell(&l, &m).csv, "3.00 EUR + 10.00 USD");
        assert_eq!(c.sort, crate::html::SortKey::Num(1000));
    }
}
