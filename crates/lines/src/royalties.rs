//! `backstock lines royalties` (issue 17.2): a period's earned royalties per payee ×
//! contract × currency computed from the statement lines, so that rates by territory
//! or service apply.
//!
//! 1. The journal gives what the product's run of the period would account
//!    (`backstock_app::royalties::line_basis`: the same statements, late ones rolled
//!    forward, reversed ones out; the contracts in force at the period's end; the
//!    catalog).
//! 2. Their lines are summed through DataFusion per statement × code × SKU × kind ×
//!    territory × service (the Parquet parts of the months those statements end in;
//!    `Decimal128` sums) and, again, here in `i128` with overflow checks from the same
//!    parts read with the `parquet` crate; any difference refuses, naming the group.
//! 3. Per statement × SKU × kind the lines must add up to the ledger's statement line
//!    (units and amount) for every SKU a contract covers: lines missing or stale refuse,
//!    naming the statement (run `lines rebuild`).
//! 4. `backstock_royalties::lines::earned_from_lines` applies the rules: per ledger
//!    line and contract, the lines under one rule rounded once with the run's own
//!    function (HalfEven), split between payees as the run splits. Without territory or
//!    service rules this is the run's earned royalty to the minor unit.

use crate::query::{compare, strings, Acc, Intern, Period};
use crate::HashMap;
use crate::{input, other, Location};
use backstock_app::AppError;
use backstock_ledger::{Channel, LineKind};
pub use backstock_royalties::lines::EarnedFromLines;
use backstock_royalties::lines::{earned_from_lines, Cell, LineCells};
use backstock_store::Store;
use datafusion::arrow::array::{Array, AsArray, RecordBatch};
use datafusion::arrow::datatypes::{Decimal128Type, Int64Type};
use datafusion::functions_aggregate::expr_fn::{count, sum};
use datafusion::prelude::{col, lit, Expr, ParquetReadOptions, SessionContext};
use futures::TryStreamExt;
use object_store::ObjectStore;
use std::collections::{BTreeMap, BTreeSet};

/// A line-level royalty computation.
#[derive(Debug, Clone)]
pub struct Request {
    pub label: String,
    pub period: Period,
    /// Only this payee's rows (the payee must be on a contract in force).
    pub payee: Option<String>,
}

/// The earned royalties, checked.
#[derive(Debug, Clone)]
pub struct Answer {
    pub period: Period,
    pub rows: Vec<EarnedFromLines>,
    pub payee_names: BTreeMap<String, String>,
    pub warnings: Vec<String>,
    /// Parquet parts read, statement lines counted (those of SKUs), statements.
    pub parts: usize,
    pub lines: u64,
    pub statements: usize,
    pub engine: std::time::Duration,
    pub check: std::time::Duration,
}

/// (statement index, SKU, kind, territory, service), interned.
type Key = [u32; 5];

const COLUMNS: [&str; 10] = [
    "distributor",
    "statement_id",
    "code",
    "sku",
    "kind",
    "territory",
    "service",
    "units",
    "amount",
    "currency",
];

/// Which statement of the period a line belongs to.
struct Statements {
    /// (distributor, statement id) → index in `statements_in`.
    index: HashMap<(String, String), usize>,
    /// Codes held at import: (distributor, statement id, code).
    held: BTreeSet<(String, String, String)>,
    /// Statement ids as the lines carry them (a supplement's original id).
    ids: BTreeSet<String>,
    distributors: BTreeSet<String>,
    currency: Vec<String>,
}

impl Statements {
    fn of(d: &str, s: &str, code: &str, this: &Statements) -> Option<usize> {
        let key = (d.to_string(), s.to_string(), code.to_string());
        if this.held.contains(&key) {
            // Held at import: only in the statement an alias posted later, if it counts.
            this.index
                .get(&(d.to_string(), format!("{s}+{code}")))
                .copied()
        } else {
            this.index.get(&(d.to_string(), s.to_string())).copied()
        }
    }
}

#[derive(Default)]
struct Exact {
    sku: Intern,
    kind: Intern,
    territory: Intern,
    service: Intern,
    groups: HashMap<Key, Acc>,
    by_scale: BTreeMap<u8, Vec<String>>,
}

fn kind_of(text: &str) -> Option<LineKind> {
    LineKind::ALL.into_iter().find(|k| k.as_str() == text)
}

impl Exact {
    fn show(&self, k: &Key, stmts: &[(String, String)]) -> String {
        let (d, s) = stmts
            .get(k[0] as usize)
            .cloned()
            .unwrap_or_else(|| ("?".into(), "?".into()));
        format!(
            "statement {s} of {d} × {} × {} × {} × {}",
            self.sku.text(k[1]).unwrap_or("(none)"),
            self.kind.text(k[2]).unwrap_or("(none)"),
            self.territory.text(k[3]).unwrap_or("(none)"),
            self.service.text(k[4]).unwrap_or("(none)"),
        )
    }

    async fn part(
        &mut self,
        to: &Location,
        path: &object_store::path::Path,
        st: &Statements,
    ) -> Result<(), AppError> {
        let (url, reader, scale) = crate::query::open_part(to, path, &COLUMNS).await?;
        self.by_scale.entry(scale).or_default().push(url.clone());
        let overflow = || {
            other(format!(
                "{url}: a total passes the range of exact sums (i128)"
            ))
        };
        for batch in reader {
            let batch: RecordBatch = batch.map_err(|e| other(format!("{url}: {e}")))?;
            let text = |c: &str| {
                batch
                    .column_by_name(c)
                    .cloned()
                    .ok_or_else(|| other(format!("{url}: no column {c}")))
                    .and_then(|a| strings(&a))
            };
            let (d, s, code, sku, kind, ter, svc, cur) = (
                text("distributor")?,
                text("statement_id")?,
                text("code")?,
                text("sku")?,
                text("kind")?,
                text("territory")?,
                text("service")?,
                text("currency")?,
            );
            let (d, s, code, sku, kind, ter, svc, cur) = (
                d.as_string::<i32>(),
                s.as_string::<i32>(),
                code.as_string::<i32>(),
                sku.as_string::<i32>(),
                kind.as_string::<i32>(),
                ter.as_string::<i32>(),
                svc.as_string::<i32>(),
                cur.as_string::<i32>(),
            );
            let units = batch
                .column_by_name("units")
                .and_then(|a| a.as_primitive_opt::<Int64Type>().cloned())
                .ok_or_else(|| other(format!("{url}: units is not Int64")))?;
            let amount = batch
                .column_by_name("amount")
                .and_then(|a| a.as_primitive_opt::<Decimal128Type>().cloned())
                .ok_or_else(|| other(format!("{url}: amount is not Decimal128")))?;
            for r in 0..batch.num_rows() {
                if sku.is_null(r) || !st.ids.contains(s.value(r)) {
                    continue;
                }
                let Some(si) = Statements::of(d.value(r), s.value(r), code.value(r), st) else {
                    continue;
                };
                if st.currency[si] != cur.value(r) {
                    return Err(other(format!(
                        "{url}: a line of statement {} of {} is in {}, the statement in {}",
                        s.value(r),
                        d.value(r),
                        cur.value(r),
                        st.currency[si]
                    )));
                }
                let key: Key = [
                    si as u32,
                    self.sku.id(Some(sku.value(r))),
                    self.kind.id(Some(kind.value(r))),
                    self.territory.id((!ter.is_null(r)).then(|| ter.value(r))),
                    self.service.id((!svc.is_null(r)).then(|| svc.value(r))),
                ];
                let acc = self.groups.entry(key).or_default();
                acc.lines += 1;
                acc.units = acc
                    .units
                    .checked_add(i128::from(units.value(r)))
                    .ok_or_else(overflow)?;
                acc.amount = acc
                    .amount
                    .checked_add(amount.value(r))
                    .ok_or_else(overflow)?;
            }
        }
        Ok(())
    }
}

/// The same groups through DataFusion (in this process): the parts of each scale
/// read, lines of other statements and without a SKU filtered out, grouped by
/// distributor × statement × code × SKU × kind × territory × service (the code picks
/// a held line's statement), then keyed as the exact side keys them.
async fn engine(
    to: &Location,
    exact: &Exact,
    st: &Statements,
) -> Result<HashMap<Key, Acc>, AppError> {
    let ctx = SessionContext::new();
    to.register(&ctx);
    let df_err = |e: datafusion::error::DataFusionError| other(format!("DataFusion: {e}"));
    let unseen = |v: &str| {
        other(format!(
            "refused: the engine gives a group with {v:?}, which no line of the parts has; nothing printed"
        ))
    };
    let mut out: HashMap<Key, Acc> = HashMap::default();
    for urls in exact.by_scale.values() {
        let ids: Vec<Expr> = st.ids.iter().map(|s| lit(s.clone())).collect();
        let dists: Vec<Expr> = st.distributors.iter().map(|s| lit(s.clone())).collect();
        let df = ctx
            .read_parquet(urls.clone(), ParquetReadOptions::default())
            .await
            .map_err(df_err)?
            .filter(
                col("sku")
                    .is_not_null()
                    .and(col("statement_id").in_list(ids, false))
                    .and(col("distributor").in_list(dists, false)),
            )
            .map_err(df_err)?
            .aggregate(
                [
                    "distributor",
                    "statement_id",
                    "code",
                    "sku",
                    "kind",
                    "territory",
                    "service",
                ]
                .into_iter()
                .map(col)
                .collect(),
                vec![
                    count(lit(1i64)).alias("lines"),
                    sum(col("units")).alias("units"),
                    sum(col("amount")).alias("amount"),
                ],
            )
            .map_err(df_err)?;
        for batch in df.collect().await.map_err(df_err)? {
            let text = |c: &str| {
                batch
                    .column_by_name(c)
                    .cloned()
                    .ok_or_else(|| other(format!("DataFusion: no column {c}")))
                    .and_then(|a| strings(&a))
            };
            let (d, s, code, sku, kind, ter, svc) = (
                text("distributor")?,
                text("statement_id")?,
                text("code")?,
                text("sku")?,
                text("kind")?,
                text("territory")?,
                text("service")?,
            );
            let (d, s, code, sku, kind, ter, svc) = (
                d.as_string::<i32>(),
                s.as_string::<i32>(),
                code.as_string::<i32>(),
                sku.as_string::<i32>(),
                kind.as_string::<i32>(),
                ter.as_string::<i32>(),
                svc.as_string::<i32>(),
            );
            let lines = batch
                .column_by_name("lines")
                .and_then(|a| a.as_primitive_opt::<Int64Type>().cloned())
                .ok_or_else(|| other("DataFusion: the count is not Int64"))?;
            let units = batch
                .column_by_name("units")
                .and_then(|a| a.as_primitive_opt::<Int64Type>().cloned())
                .ok_or_else(|| other("DataFusion: the units sum is not Int64"))?;
            let amount = batch
                .column_by_name("amount")
                .and_then(|a| a.as_primitive_opt::<Decimal128Type>().cloned())
                .ok_or_else(|| other("DataFusion: the amount sum is not Decimal128"))?;
            for r in 0..batch.num_rows() {
                let Some(si) = Statements::of(d.value(r), s.value(r), code.value(r), st) else {
                    continue;
                };
                let id = |i: &Intern, a: &datafusion::arrow::array::StringArray| {
                    if a.is_null(r) {
                        Ok(0)
                    } else {
                        i.get(a.value(r)).ok_or_else(|| unseen(a.value(r)))
                    }
                };
                let key: Key = [
                    si as u32,
                    id(&exact.sku, sku)?,
                    id(&exact.kind, kind)?,
                    id(&exact.territory, ter)?,
                    id(&exact.service, svc)?,
                ];
                // A null sum (an overflow some engines give as null) is a difference.
                let (u, a) = if units.is_null(r) || amount.is_null(r) {
                    (i128::MIN, i128::MIN)
                } else {
                    (i128::from(units.value(r)), amount.value(r))
                };
                let acc = out.entry(key).or_default();
                // Codes of one statement × SKU add up here, overflow-checked too.
                acc.lines = acc
                    .lines
                    .saturating_add(u64::try_from(lines.value(r)).unwrap_or(u64::MAX));
                acc.units = acc.units.checked_add(u).unwrap_or(i128::MIN);
                acc.amount = acc.amount.checked_add(a).unwrap_or(i128::MIN);
            }
        }
    }
    Ok(out)
}

/// The label's parts in the given months (`YYYY-MM`) and of the given distributors.
async fn parts(
    to: &Location,
    label: &str,
    months: &BTreeSet<String>,
    distributors: &BTreeSet<String>,
) -> Result<Vec<object_store::path::Path>, AppError> {
    let prefix = object_store::path::Path::from(format!("label={label}"));
    let mut found: Vec<object_store::path::Path> = to
        .store
        .list(Some(&prefix))
        .map_err(|e| other(to.explain(&to.shown(), &e)))
        .try_filter_map(|m| {
            let p = &m.location;
            let mut month = false;
            let mut dist = false;
            for part in p.parts() {
                if let Some(v) = part.as_ref().strip_prefix("period=") {
                    month = months.contains(v);
                }
                if let Some(v) = part.as_ref().strip_prefix("distributor=") {
                    dist = distributors.contains(v);
                }
            }
            let keep = p.as_ref().ends_with(".parquet") && month && dist;
            futures::future::ready(Ok(keep.then_some(m.location)))
        })
        .try_collect()
        .await?;
    found.sort();
    Ok(found)
}

/// Computes the period's earned royalties from its statements' lines; refuses when the
/// engine and the exact sums differ anywhere, or when the lines do not add up to the
/// ledger's statements.
pub async fn run(store: &Store, to: &Location, req: &Request) -> Result<Answer, AppError> {
    let basis = backstock_app::royalties::line_basis(store, &req.period).await?;
    if basis.contracts.is_empty() {
        return Err(input(format!(
            "no royalty contract is in force on {}: import payees.csv and contracts.csv before computing royalties of {}",
            req.period.end(),
            req.period
        )));
    }
    if let Some(p) = &req.payee {
        if !basis
            .contracts
            .iter()
            .any(|c| c.payees().iter().any(|(q, _)| q.as_str() == p))
        {
            return Err(input(format!(
                "--payee {p}: no royalty contract in force on {} pays {p} (see backstock payee list)",
                req.period.end()
            )));
        }
    }
    let stmts = basis.journal.statements_in(&req.period);
    let mut st = Statements {
        index: HashMap::default(),
        held: basis.held.clone(),
        ids: BTreeSet::new(),
        distributors: BTreeSet::new(),
        currency: Vec::new(),
    };
    let mut months = BTreeSet::new();
    let mut names: Vec<(String, String)> = Vec::new();
    for (i, s) in stmts.iter().enumerate() {
        let d = s.distributor.to_string();
        st.index.insert((d.clone(), s.statement_id.to_string()), i);
        st.ids.insert(s.statement_id.to_string());
        st.distributors.insert(d.clone());
        st.currency.push(s.currency.code().to_string());
        months.insert(crate::schema::month_of(s.period_end));
        names.push((d, s.statement_id.to_string()));
    }
    // A supplement `S+CODE` (held lines an alias posted) is in the lines as S.
    for (d, s, code) in &basis.held {
        if st.index.contains_key(&(d.clone(), format!("{s}+{code}"))) {
            st.ids.insert(s.clone());
        }
    }
    let found = parts(to, &req.label, &months, &st.distributors).await?;
    let t0 = std::time::Instant::now();
    let mut exact = Exact::default();
    for p in &found {
        exact.part(to, p, &st).await?;
    }
    let check = t0.elapsed();
    let t1 = std::time::Instant::now();
    let got = if found.is_empty() {
        HashMap::default()
    } else {
        engine(to, &exact, &st).await?
    };
    let engine_time = t1.elapsed();
    compare(&got, &exact.groups, |k| exact.show(k, &names))?;
    drop(got);

    // The lines of each ledger line, by territory × service.
    let mut by_line: BTreeMap<(usize, u32, u32), Vec<Cell>> = BTreeMap::new();
    for (k, a) in &exact.groups {
        by_line
            .entry((k[0] as usize, k[1], k[2]))
            .or_default()
            .push(Cell {
                territory: exact.territory.text(k[3]).map(str::to_string),
                service: exact.service.text(k[4]).map(str::to_string),
                lines: a.lines,
                units: a.units,
                amount_minor: a.amount,
            });
    }
    // Tie-out with the ledger, for every SKU a contract covers: the ledger's line per
    // statement × SKU × kind (its channel) against the lines' totals.
    let covered: BTreeSet<&str> = basis
        .contracts
        .iter()
        .flat_map(|c| c.skus().iter().map(|s| s.as_str()))
        .collect();
    let mut cells = Vec::new();
    let mut ledger: BTreeMap<(usize, &str, LineKind), (Channel, i128, i128)> = BTreeMap::new();
    for (i, s) in stmts.iter().enumerate() {
        for l in &s.lines {
            let Some(sku) = l.sku.filter(|k| covered.contains(k.as_str())) else {
                continue;
            };
            let v = ledger
                .entry((i, sku.as_str(), l.kind))
                .or_insert((l.channel, 0, 0));
            if v.0 != l.channel {
                return Err(other(format!(
                    "statement {} of {} has {} {} lines both physical and digital: its lines cannot say which is which; nothing computed",
                    s.statement_id, s.distributor, sku, l.kind.as_str()
                )));
            }
            v.1 += i128::from(l.units);
            v.2 += i128::from(l.amount_minor);
        }
    }
    let stale = |i: usize, sku: &str, kind: LineKind, want: (i128, i128), have: (i128, i128)| {
        let s = &stmts[i];
        other(format!(
            "statement {} of {} ({sku}, {}): the ledger has {} units and {} minor units, its lines under {} {} units and {} minor units — the lines are missing or stale: run `backstock lines rebuild`; nothing computed",
            s.statement_id,
            s.distributor,
            kind.as_str(),
            want.0,
            want.1,
            to.shown(),
            have.0,
            have.1
        ))
    };
    let mut seen = BTreeSet::new();
    for ((i, sku_id, kind_id), line_cells) in by_line {
        let sku = exact.sku.text(sku_id).unwrap_or_default();
        let kind = exact
            .kind
            .text(kind_id)
            .and_then(kind_of)
            .ok_or_else(|| other(format!("a line of kind {:?}", exact.kind.text(kind_id))))?;
        if !covered.contains(sku) {
            continue;
        }
        let have = line_cells
            .iter()
            .fold((0i128, 0i128), |a, c| (a.0 + c.units, a.1 + c.amount_minor));
        let Some((channel, units, amount)) = ledger.get(&(i, sku, kind)).copied() else {
            return Err(stale(i, sku, kind, (0, 0), have));
        };
        if (units, amount) != have {
            return Err(stale(i, sku, kind, (units, amount), have));
        }
        seen.insert((i, sku.to_string(), kind));
        cells.push(LineCells {
            statement: i,
            sku: backstock_domain::Sku::parse(sku).map_err(|e| other(format!("SKU {sku}: {e}")))?,
            kind,
            channel,
            cells: line_cells,
        });
    }
    for ((i, sku, kind), (_, units, amount)) in &ledger {
        if (*units, *amount) != (0, 0) && !seen.contains(&(*i, sku.to_string(), *kind)) {
            return Err(stale(*i, sku, *kind, (*units, *amount), (0, 0)));
        }
    }
    let lines: u64 = cells
        .iter()
        .flat_map(|c| c.cells.iter())
        .map(|c| c.lines)
        .sum();
    let mut result = earned_from_lines(&basis.journal, &basis.contracts, &req.period, &cells)
        .map_err(|e| other(format!("royalties of {} from the lines: {e}", req.period)))?;
    if let Some(p) = &req.payee {
        result.rows.retain(|r| r.payee_id.as_str() == p);
    }
    Ok(Answer {
        period: req.period,
        rows: result.rows,
        payee_names: basis
            .payee_names
            .iter()
            .map(|(k, v)| (k.to_string(), v.clone()))
            .collect(),
        warnings: result.warnings,
        parts: found.len(),
        lines,
        statements: stmts.len(),
        engine: engine_time,
        check,
    })
}
