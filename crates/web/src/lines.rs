//! Line-level analytics in the browser and the API (cargo feature `lines`): a period's
//! statement lines, grouped by territory, service, month, ISRC, SKU, distributor or
//! kind, computed by Apache DataFusion over the label's Parquet parts and checked
//! against an exact integer sum before anything is shown (`backstock-lines`, the same
//! path as `backstock lines query`).
//!
//! Who sees what: the label's roles see every line; an artist sees only the lines of
//! the SKUs on the contracts paying their payee (the receipts they are paid on, not the
//! royalty), and asking for another payee's is "not found", as for statements. A
//! distributor member has no `statements` permission and never reaches these routes.
//!
//! The parts of a served label live in `DATA_DIR/labels/SLUG/lines` (what `backstock
//! --label SLUG import` and `lines rebuild` write there, and what an upload writes), or,
//! for a server started with `BACKSTOCK_LINES=s3://BUCKET/PREFIX`, in that object store
//! under `label=SLUG/` (imports and uploads write there too).

use crate::auth::{Scope, Tenant};
use crate::chart::bar_chart;
use crate::format::Locale;
use crate::html::{esc, page, url_encode, Cell, Grid};
use crate::{views, AppState, Fail};
use axum::extract::{Query, State};
use axum::response::{IntoResponse, Json, Response};
use backstock_domain::{Currency, Money};
use backstock_lines::query::{decimal_text, Answer, Dim, Period, Request, Row};
use backstock_lines::Location;
use serde_json::{json, Value};
use std::collections::{BTreeMap, BTreeSet, HashMap};

type Q = Query<HashMap<String, String>>;

/// Groups a page draws as bars (the largest by amount; months in order).
const CHART_BARS: usize = 15;
/// Rows a page shows (the largest by amount); the CSV download has every row.
const PAGE_ROWS: usize = 500;
/// Periods offered as links on the page (the latest first).
const PERIOD_LINKS: usize = 8;

/// Where a served label's lines are: under `BACKSTOCK_LINES` when the server was
/// started with it (parts are under `label=SLUG/`), else the label's `lines` directory.
fn location(state: &AppState, t: &Tenant) -> Result<Location, Fail> {
    Ok(Location::default_or(
        &state.control.label_dir(t.slug()).join("lines"),
    )?)
}

/// What was asked, checked.
struct Ask {
    period: Period,
    by: Vec<Dim>,
    payee: Option<String>,
}

fn param<'a>(q: &'a HashMap<String, String>, name: &str) -> Option<&'a str> {
    q.get(name).map(|s| s.trim()).filter(|s| !s.is_empty())
}

/// The half-year of the latest month with lines (none: nothing on file).
fn latest_half(months: &BTreeSet<String>) -> Option<Period> {
    let m = months.iter().next_back()?;
    let (y, mm) = m.split_once('-')?;
    let half = if mm.parse::<u32>().ok()? <= 6 { 1 } else { 2 };
    Period::parse(&format!("{y}H{half}")).ok()
}

/// The halves, quarters and months with lines, the latest first.
fn periods_on_file(months: &BTreeSet<String>) -> Vec<String> {
    let mut halves = BTreeSet::new();
    let mut quarters = BTreeSet::new();
    for m in months {
        let Some((y, mm)) = m.split_once('-') else {
            continue;
        };
        let Ok(n) = mm.parse::<u32>() else { continue };
        halves.insert(format!("{y}H{}", if n <= 6 { 1 } else { 2 }));
        quarters.insert(format!("{y}Q{}", n.div_ceil(3)));
    }
    let mut out: Vec<String> = halves.into_iter().rev().collect();
    out.extend(quarters.into_iter().rev());
    out.extend(months.iter().rev().cloned());
    out
}

fn ask(t: &Tenant, q: &HashMap<String, String>, months: &BTreeSet<String>) -> Result<Ask, Fail> {
    let period = match param(q, "period") {
        Some(p) => Period::parse(p).map_err(|e| Fail::bad(format!("period: {e}")))?,
        None => match latest_half(months) {
            Some(p) => p,
            None => Period::parse("2016H1").map_err(|e| Fail::internal(e.to_string()))?,
        },
    };
    let by = Dim::parse_list(param(q, "by").unwrap_or("territory"))
        .map_err(|e| Fail::bad(e.message().replace("--by", "by")))?;
    let asked = param(q, "payee").map(str::to_string);
    let payee = match &t.scope {
        Scope::Label => asked,
        // An artist's lines are their payee's; another payee's are not revealed.
        Scope::Payee(own) => match asked {
            Some(p) if &p != own => {
                return Err(Fail::not_found(format!("no lines for payee {p}")));
            }
            _ => Some(own.clone()),
        },
        Scope::Distributor(_) => return Err(Fail::not_found("no lines for a distributor member")),
    };
    Ok(Ask { period, by, payee })
}

/// The query's answer, or `None` when the payee has no contract in force at the period's
/// end (said on the page; an error in the API for the label's roles).
async fn answer(state: &AppState, t: &Tenant, a: &Ask) -> Result<Option<Answer>, Fail> {
    let skus = match &a.payee {
        None => None,
        Some(p) => {
            let contracts =
                backstock_app::royalties::contracts_of_payee(t.store(), p, a.period.end()).await?;
            if contracts.is_empty() {
                return Ok(None);
            }
            Some(
                contracts
                    .iter()
                    .flat_map(|c| c.skus.iter().map(|s| s.as_str().to_string()))
                    .collect(),
            )
        }
    };
    let req = Request {
        label: t.slug().to_string(),
        period: a.period,
        by: a.by.clone(),
        skus,
        reversed: backstock_app::correct::reversed_statements(t.store(), None).await?,
    };
    Ok(Some(
        backstock_lines::query::run(&location(state, t)?, &req).await?,
    ))
}

/// A row's key as text: `(none)` where the lines have no value (e.g. no ISRC).
fn key_text(v: &Option<String>) -> String {
    v.clone().unwrap_or_else(|| "(none)".into())
}

/// The amount for people, in the label's locale when it fits in `Money`.
fn money_text(l: &Locale, r: &Row) -> String {
    match (Currency::parse(&r.currency), i64::try_from(r.amount_minor)) {
        (Ok(c), Ok(m)) if c.exponent() == r.scale => l.money(Money::from_minor(m, c)),
        _ => format!("{} {}", decimal_text(r.amount_minor, r.scale), r.currency),
    }
}

/// Rows, the largest amount first (ties by key), for the table and the chart.
fn by_amount(rows: &[Row]) -> Vec<&Row> {
    let mut v: Vec<&Row> = rows.iter().collect();
    v.sort_by(|x, y| {
        y.amount_minor
            .cmp(&x.amount_minor)
            .then_with(|| x.key.cmp(&y.key))
            .then_with(|| x.currency.cmp(&y.currency))
    });
    v
}

fn grid(l: &Locale, a: &Answer, rows: &[&Row]) -> Grid {
    let mut cols: Vec<(&'static str, bool)> = a.by.iter().map(|d| (d.column(), false)).collect();
    cols.extend([
        ("currency", false),
        ("lines", true),
        ("units", true),
        ("amount", true),
    ]);
    let mut g = Grid::new("lines", &cols);
    for r in rows {
        let mut cells: Vec<Cell> = r.key.iter().map(|k| Cell::text(key_text(k))).collect();
        cells.push(Cell::text(r.currency.clone()));
        let lines = i64::try_from(r.lines).unwrap_or(i64::MAX);
        cells.push(Cell::num(l.int(lines), lines, r.lines.to_string()));
        let units = i64::try_from(r.units).unwrap_or(i64::MAX);
        cells.push(Cell::num(l.int(units), units, r.units.to_string()));
        cells.push(Cell::num(
            money_text(l, r),
            i64::try_from(r.amount_minor).unwrap_or(i64::MAX),
            decimal_text(r.amount_minor, r.scale),
        ));
        g.push(cells);
    }
    g
}

/// One bar chart per currency (the largest currency first), by the first grouping:
/// months in order, anything else its largest groups.
fn charts(l: &Locale, a: &Answer) -> String {
    let Some(first) = a.by.first() else {
        return String::new();
    };
    let mut by_cur: BTreeMap<&str, BTreeMap<String, (i128, u8)>> = BTreeMap::new();
    for r in &a.rows {
        let e = by_cur
            .entry(r.currency.as_str())
            .or_default()
            .entry(key_text(&r.key[0]))
            .or_insert((0, r.scale));
        e.0 = e.0.saturating_add(r.amount_minor);
    }
    let mut currencies: Vec<(&str, i128)> = by_cur
        .iter()
        .map(|(c, g)| (*c, g.values().map(|(v, _)| *v).sum()))
        .collect();
    currencies.sort_by(|x, y| y.1.cmp(&x.1).then_with(|| x.0.cmp(y.0)));
    let mut out = String::new();
    for (cur, _) in currencies {
        let groups = &by_cur[cur];
        let mut items: Vec<(String, i128, u8)> = groups
            .iter()
            .map(|(k, (v, s))| (k.clone(), *v, *s))
            .collect();
        if *first != Dim::Month {
            items.sort_by(|x, y| y.1.cmp(&x.1).then_with(|| x.0.cmp(&y.0)));
        }
        let more = items.len().saturating_sub(CHART_BARS);
        items.truncate(CHART_BARS);
        let scale = items.first().map_or(2, |i| i.2);
        let bars: Vec<(String, i64)> = items
            .iter()
            .map(|(k, v, _)| (k.clone(), i64::try_from(*v).unwrap_or(i64::MAX)))
            .collect();
        let fmt = |v: i64| {
            money_text(
                l,
                &Row {
                    key: Vec::new(),
                    currency: cur.to_string(),
                    scale,
                    lines: 0,
                    units: 0,
                    amount_minor: i128::from(v),
                },
            )
        };
        let title = format!("Earnings by {}, {cur}", first.column());
        let note = if more > 0 {
            format!(
                r#"<p class="note">The {} largest of {} groups; the table below has them all.</p>"#,
                CHART_BARS,
                CHART_BARS + more
            )
        } else {
            String::new()
        };
        out.push_str(&format!(
            "<div><h2>{}</h2>{}{note}</div>",
            esc(&title),
            bar_chart(&format!("lines-chart-{cur}"), &title, &bars, &fmt)
        ));
    }
    out
}

fn form(t: &Tenant, a: &Ask, periods: &[String], payees: &[(String, String)]) -> String {
    let base = format!("/t/{}/lines", url_encode(t.slug()));
    let dims = |selected: Option<Dim>, none: bool| {
        let mut o = String::new();
        if none {
            o.push_str(r#"<option value="">(nothing more)</option>"#);
        }
        for d in Dim::ALL {
            let sel = if selected == Some(d) { " selected" } else { "" };
            o.push_str(&format!(
                r#"<option value="{c}"{sel}>{c}</option>"#,
                c = d.column()
            ));
        }
        o
    };
    let payee_field = match &t.scope {
        Scope::Label => {
            let mut o = String::from(r#"<option value="">every line of the label</option>"#);
            for (id, name) in payees {
                let sel = if a.payee.as_deref() == Some(id.as_str()) {
                    " selected"
                } else {
                    ""
                };
                o.push_str(&format!(
                    r#"<option value="{}"{sel}>{} ({})</option>"#,
                    esc(id),
                    esc(name),
                    esc(id)
                ));
            }
            format!(
                r#"<label for="lines-payee">Only the releases paying</label><select id="lines-payee" name="payee">{o}</select>"#
            )
        }
        _ => String::new(),
    };
    let mut links = String::new();
    for p in periods.iter().take(PERIOD_LINKS) {
        let by: Vec<&str> = a.by.iter().map(|d| d.column()).collect();
        links.push_str(&format!(
            r#" <a href="{base}?period={}&amp;by={}">{}</a>"#,
            url_encode(p),
            url_encode(&by.join(",")),
            esc(p)
        ));
    }
    let links = if links.is_empty() {
        String::new()
    } else {
        format!(r#"<p class="tools">Periods with lines:{links}</p>"#)
    };
    format!(
        r#"<section><form class="stack" method="get" action="{base}" id="lines-form">
<label for="lines-period">Period (2016H1, 2016Q2 or 2016-05: statements whose period ends in it)</label><input id="lines-period" name="period" value="{}">
<label for="lines-by">Group by</label><select id="lines-by" name="by">{}</select>
<label for="lines-then">then by</label><select id="lines-then" name="then">{}</select>
{payee_field}
<button class="primary" type="submit">Show</button></form>{links}</section>"#,
        esc(&a.period.to_string()),
        dims(a.by.first().copied(), false),
        dims(a.by.get(1).copied(), true),
    )
}

/// `?by=territory&then=month` from the form is `by=territory,month`.
fn merged(mut q: HashMap<String, String>) -> HashMap<String, String> {
    if let Some(then) = q.remove("then").filter(|s| !s.trim().is_empty()) {
        let by = q.get("by").cloned().unwrap_or_default();
        if !by.split(',').any(|b| b.trim() == then.trim()) {
            let joined = if by.trim().is_empty() {
                then
            } else {
                format!("{by},{then}")
            };
            q.insert("by".into(), joined);
        }
    }
    q
}

/// `GET /t/{tenant}/lines`: the form, charts and the table (CSV: every row).
pub async fn lines_page(State(state): State<AppState>, t: Tenant, Query(q): Q) -> Response {
    match page_body(&state, &t, merged(q)).await {
        Ok(r) => r,
        Err(f) => {
            let body = format!(
                r#"<p class="err" id="lines-error">{}</p><p><a href="/t/{}/lines">Back to the latest period</a></p>"#,
                esc(&f.message),
                url_encode(t.slug())
            );
            let status = axum::http::StatusCode::from_u16(f.status)
                .unwrap_or(axum::http::StatusCode::BAD_REQUEST);
            (status, page("Sales lines", Some(&t), &body)).into_response()
        }
    }
}

async fn page_body(
    state: &AppState,
    t: &Tenant,
    q: HashMap<String, String>,
) -> Result<Response, Fail> {
    let l = Locale::new(&t.row.locale, &t.row.currency);
    let months = backstock_lines::query::months_on_file(&location(state, t)?, t.slug()).await?;
    let a = ask(t, &q, &months)?;
    let payees = match t.scope {
        Scope::Label => views::parties(&*views::books(t, &state.cache).await?).payees,
        _ => Vec::new(),
    };
    let periods = periods_on_file(&months);
    let mut body = String::new();
    body.push_str(&format!(
        r#"<p class="note">Every line of the statements imported for {} ({} to {}), grouped and summed by Apache DataFusion over the label's Parquet copies of the original files, and checked against an exact sum of the same lines before it is shown. These are receipts from distributors, not royalties.</p>"#,
        esc(&a.period.to_string()),
        l.date(a.period.start()),
        l.date(a.period.end()),
    ));
    body.push_str(&form(t, &a, &periods, &payees));
    let Some(ans) = answer(state, t, &a).await? else {
        let who = a.payee.clone().unwrap_or_default();
        body.push_str(&format!(
            r#"<section><p id="lines-none">No royalty contract in force on {} pays {}: there are no lines to show for them.</p></section>"#,
            l.date(a.period.end()),
            esc(&who)
        ));
        return Ok(page("Sales lines", Some(t), &body).into_response());
    };
    if q.get("format").map(String::as_str) == Some("csv") {
        let all = by_amount(&ans.rows);
        return Ok(grid(&l, &ans, &all).csv_response());
    }
    if ans.rows.is_empty() {
        let hint = if months.is_empty() {
            "No statement lines are kept as Parquet for this label yet: import statement files (they are written as they are imported), or run `backstock --label SLUG lines rebuild` for what was imported before.".to_string()
        } else {
            format!(
                "No lines in {}. Periods with lines are linked above.",
                a.period
            )
        };
        body.push_str(&format!(
            r#"<section><p id="lines-none">{}</p></section>"#,
            esc(&hint)
        ));
        return Ok(page("Sales lines", Some(t), &body).into_response());
    }
    let total_lines: u64 = ans.rows.iter().map(|r| r.lines).sum();
    body.push_str(&format!(
        r#"<section id="lines-charts">{}</section>"#,
        charts(&l, &ans)
    ));
    let all = by_amount(&ans.rows);
    let shown: Vec<&Row> = all.iter().take(PAGE_ROWS).copied().collect();
    let mut g = grid(&l, &ans, &shown);
    g.sort(&q);
    let base = format!("/t/{}/lines", url_encode(t.slug()));
    let note = if all.len() > PAGE_ROWS {
        format!(
            "The {} largest of {} groups ({} lines from {} files); the CSV download has every group.",
            l.int(PAGE_ROWS as i64),
            l.int(all.len() as i64),
            l.int(i64::try_from(total_lines).unwrap_or(i64::MAX)),
            ans.parts
        )
    } else {
        format!(
            "{} groups, {} lines from {} files.",
            l.int(all.len() as i64),
            l.int(i64::try_from(total_lines).unwrap_or(i64::MAX)),
            ans.parts
        )
    };
    body.push_str(&format!(
        r#"<section><p class="note" id="lines-count">{}</p>{}</section>"#,
        esc(&note),
        g.html(&base, &q)
    ));
    Ok(page("Sales lines", Some(t), &body).into_response())
}

fn row_json(by: &[Dim], r: &Row) -> Value {
    let mut o = serde_json::Map::new();
    for (d, v) in by.iter().zip(&r.key) {
        o.insert(d.column().into(), json!(v));
    }
    o.insert("currency".into(), json!(r.currency));
    o.insert("lines".into(), json!(r.lines));
    o.insert("units".into(), json!(r.units.to_string()));
    o.insert(
        "amount".into(),
        json!(decimal_text(r.amount_minor, r.scale)),
    );
    Value::Object(o)
}

/// `GET /api/v1/t/{tenant}/lines`: the rows of `backstock lines query --format json`
/// (in key order, a page at a time), with the period and grouping.
pub async fn api_lines(
    State(state): State<AppState>,
    t: Tenant,
    Query(q): Q,
) -> Result<Json<Value>, Fail> {
    let months = backstock_lines::query::months_on_file(&location(&state, &t)?, t.slug()).await?;
    let a = ask(&t, &q, &months)?;
    let req = crate::paging::PageReq::from_query(&q)?;
    let Some(ans) = answer(&state, &t, &a).await? else {
        return Err(Fail::bad(format!(
            "payee {}: no royalty contract in force on {} pays them",
            a.payee.unwrap_or_default(),
            a.period.end()
        )));
    };
    let by: Vec<&str> = ans.by.iter().map(|d| d.column()).collect();
    let key = |r: &&Row| {
        let mut parts: Vec<String> = r
            .key
            .iter()
            .map(|k| k.clone().unwrap_or_default())
            .collect();
        parts.push(r.currency.clone());
        let refs: Vec<&str> = parts.iter().map(String::as_str).collect();
        crate::paging::key(&refs)
    };
    let mut rows: Vec<&Row> = ans.rows.iter().collect();
    rows.sort_by_cached_key(key);
    let groups = rows.len();
    let (rows, next) = req.page(rows, key);
    Ok(Json(crate::paging::answer(
        json!({
            "period": a.period.to_string(),
            "from": a.period.start(),
            "to": a.period.end(),
            "by": by,
            "payee": a.payee,
            "parts": ans.parts,
            "groups": groups,
            "months_on_file": months,
            "rows": rows.iter().map(|r| row_json(&ans.by, r)).collect::<Vec<_>>(),
        }),
        &req,
        next,
    )))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn periods_offered_from_the_months_on_file() {
        let months: BTreeSet<String> = ["2016-05", "2016-07", "2015-12"]
            .into_iter()
            .map(String::from)
            .collect();
        assert_eq!(
            periods_on_file(&months),
            [
                "2016H2", "2016H1", "2015H2", "2016Q3", "2016Q2", "2015Q4", "2016-07", "2016-05",
                "2015-12"
            ]
        );
        assert_eq!(latest_half(&months).unwrap().to_string(), "2016H2");
        assert!(latest_half(&BTreeSet::new()).is_none());
    }

    #[test]
    fn then_by_joins_the_grouping() {
        let q = |p: &[(&str, &str)]| -> HashMap<String, String> {
            p.iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect()
        };
        assert_eq!(
            merged(q(&[("by", "territory"), ("then", "month")]))["by"],
            "territory,month"
        );
        assert_eq!(
            merged(q(&[("by", "territory"), ("then", "")]))["by"],
            "territory"
        );
        assert_eq!(
            merged(q(&[("by", "territory"), ("then", "territory")]))["by"],
            "territory"
        );
    }
}
