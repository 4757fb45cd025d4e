//! `backstock lines query`: a period's lines grouped through DataFusion, every total
//! checked against an exact sum of the same lines computed here.
//!
//! DataFusion sums `Decimal128(19, s)` into `Decimal128(29, s)` and `Int64` into
//! `Int64`; engines have shipped silent overflows in such sums. So the same Parquet
//! parts are read a second time with the `parquet` crate and summed per group in
//! `i128` with overflow checks; the answer is printed only when both agree on every
//! group, every count, every unit and every minor unit.

use crate::HashMap;
use crate::{input, other, Location};
use backstock_app::AppError;
pub use backstock_royalties::Period;
use datafusion::arrow::array::{Array, ArrayRef, AsArray, RecordBatch};
use datafusion::arrow::compute::cast;
use datafusion::arrow::datatypes::{DataType, Decimal128Type, Int64Type};
use datafusion::functions_aggregate::expr_fn::{count, sum};
use datafusion::parquet::arrow::arrow_reader::{
    ParquetRecordBatchReader, ParquetRecordBatchReaderBuilder,
};
use datafusion::parquet::arrow::ProjectionMask;
use datafusion::prelude::{col, lit, Expr, ParquetReadOptions, SessionContext};
use futures::TryStreamExt;
use object_store::{ObjectStore, ObjectStoreExt};
use std::collections::{BTreeMap, BTreeSet};

/// What lines can be grouped by.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Dim {
    Isrc,
    Territory,
    Service,
    Month,
    Sku,
    Distributor,
    Kind,
}

impl Dim {
    pub const ALL: [Dim; 7] = [
        Dim::Isrc,
        Dim::Territory,
        Dim::Service,
        Dim::Month,
        Dim::Sku,
        Dim::Distributor,
        Dim::Kind,
    ];
    pub fn column(&self) -> &'static str {
        match self {
            Dim::Isrc => "isrc",
            Dim::Territory => "territory",
            Dim::Service => "service",
            Dim::Month => "month",
            Dim::Sku => "sku",
            Dim::Distributor => "distributor",
            Dim::Kind => "kind",
        }
    }

    /// `--by isrc,territory,month`.
    pub fn parse_list(text: &str) -> Result<Vec<Dim>, AppError> {
        let mut out = Vec::new();
        for part in text.split(',').map(str::trim).filter(|p| !p.is_empty()) {
            let p = part.to_ascii_lowercase();
            let Some(d) = Dim::ALL.into_iter().find(|d| d.column() == p) else {
                return Err(input(format!(
                    "--by: found {part:?}, expected a comma-separated list of {}",
                    Dim::ALL.map(|d| d.column()).join(", ")
                )));
            };
            if out.contains(&d) {
                return Err(input(format!("--by: {part} is given twice")));
            }
            out.push(d);
        }
        Ok(out)
    }
}

/// Where the query runs: DataFusion in this process, or the same plan on an Apache
/// Ballista cluster (built with the feature `ballista`). The exact check always runs
/// here, on the same parts.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum Engine {
    #[default]
    Local,
    /// The scheduler's `HOST:PORT`.
    Ballista(String),
}

impl Engine {
    /// `local` or `ballista://HOST:PORT`; anything else is refused with what is
    /// expected, and Ballista in a build without it says how to get it.
    pub fn parse(text: &str) -> Result<Engine, AppError> {
        let t = text.trim();
        if t.is_empty() || t == "local" {
            return Ok(Engine::Local);
        }
        let Some(hostport) = t.strip_prefix("ballista://") else {
            return Err(input(format!(
                "--engine: found {t:?}, expected `local` or `ballista://HOST:PORT`"
            )));
        };
        let hostport = hostport.trim_end_matches('/');
        let port_ok = hostport
            .rsplit_once(':')
            .is_some_and(|(h, p)| !h.is_empty() && p.parse::<u16>().is_ok_and(|p| p > 0));
        if !port_ok {
            return Err(input(format!(
                "--engine: found {t:?}, expected ballista://HOST:PORT (the scheduler's address, e.g. ballista://10.0.0.5:50050)"
            )));
        }
        if !cfg!(feature = "ballista") {
            return Err(input(format!(
                "--engine {t}: this backstock was built without Ballista; build it with `cargo build --release --features backstock/ballista` (see README, Line-level analytics)"
            )));
        }
        Ok(Engine::Ballista(hostport.to_string()))
    }
}

/// A query over one label's lines.
#[derive(Debug, Clone)]
pub struct Request {
    pub label: String,
    pub period: Period,
    pub by: Vec<Dim>,
    /// Only lines of these SKUs (the SKUs on a payee's contracts).
    pub skus: Option<BTreeSet<String>>,
    /// Statements a correction reversed, as (distributor, statement id, code): their
    /// lines (only those with the code, when one is given: held lines an alias
    /// posted) stay in the parts (a part is its original's, whole) and are left out
    /// here, as the ledger leaves the statements out.
    pub reversed: BTreeSet<(String, String, Option<String>)>,
}

/// One group's totals.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Row {
    /// The value of each `by` column (None: the lines have none, e.g. no ISRC).
    pub key: Vec<Option<String>>,
    pub currency: String,
    /// Decimal places of the currency.
    pub scale: u8,
    pub lines: u64,
    pub units: i128,
    /// Exact, in minor units.
    pub amount_minor: i128,
}

/// The answer, identical from the engine and from the exact sums.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Answer {
    pub by: Vec<Dim>,
    pub rows: Vec<Row>,
    /// Parquet parts read.
    pub parts: usize,
    /// Time in DataFusion and in the exact check.
    pub engine: std::time::Duration,
    pub check: std::time::Duration,
}

/// Whether a line of statement `statement` (of `distributor`, with `code`) was taken
/// out of the ledger by a correction: its statement, or its code's held lines.
fn is_reversed(
    reversed: &BTreeSet<(String, String, Option<String>)>,
    distributor: &str,
    statement: &str,
    code: &str,
) -> bool {
    let mut key = (distributor.to_string(), statement.to_string(), None);
    if reversed.contains(&key) {
        return true;
    }
    key.2 = Some(code.to_string());
    reversed.contains(&key)
}

/// `-1234567.89` from minor units and a scale.
pub fn decimal_text(minor: i128, scale: u8) -> String {
    let neg = minor < 0;
    let digits = minor.unsigned_abs().to_string();
    let s = scale as usize;
    let body = if s == 0 {
        digits
    } else if digits.len() > s {
        format!(
            "{}.{}",
            &digits[..digits.len() - s],
            &digits[digits.len() - s..]
        )
    } else {
        format!("0.{}{}", "0".repeat(s - digits.len()), digits)
    };
    if neg {
        format!("-{body}")
    } else {
        body
    }
}

/// The months of a period, as the partitions name them.
fn months(p: &Period) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    let mut d = p.start();
    while d <= p.end() {
        out.insert(crate::schema::month_of(d));
        let next = d.last_of_month().add_days(1);
        if next <= d {
            break;
        }
        d = next;
    }
    out
}

/// The months (`YYYY-MM`, the month of each statement's period end) the label has lines
/// for, from the partition names alone (no part is read): what a page offers to query.
pub async fn months_on_file(to: &Location, label: &str) -> Result<BTreeSet<String>, AppError> {
    let prefix = object_store::path::Path::from(format!("label={label}"));
    let found: Vec<String> = to
        .store
        .list(Some(&prefix))
        .map_err(|e| other(to.explain(&to.shown(), &e)))
        .try_filter_map(|m| {
            let month = m
                .location
                .as_ref()
                .ends_with(".parquet")
                .then(|| {
                    m.location
                        .parts()
                        .find_map(|part| part.as_ref().strip_prefix("period=").map(str::to_string))
                })
                .flatten();
            futures::future::ready(Ok(month))
        })
        .try_collect()
        .await?;
    Ok(found.into_iter().collect())
}

/// The parts of the label's lines in the period's months.
async fn parts(
    to: &Location,
    label: &str,
    p: &Period,
) -> Result<Vec<object_store::path::Path>, AppError> {
    let months = months(p);
    let prefix = object_store::path::Path::from(format!("label={label}"));
    let mut found: Vec<object_store::path::Path> = to
        .store
        .list(Some(&prefix))
        .map_err(|e| other(to.explain(&to.shown(), &e)))
        .try_filter_map(|m| {
            let keep = m.location.as_ref().ends_with(".parquet")
                && m.location.parts().any(|part| {
                    part.as_ref()
                        .strip_prefix("period=")
                        .is_some_and(|v| months.contains(v))
                });
            futures::future::ready(Ok(keep.then_some(m.location)))
        })
        .try_collect()
        .await?;
    found.sort();
    Ok(found)
}

/// Interned values of one column.
#[derive(Default)]
pub(crate) struct Intern {
    ids: HashMap<String, u32>,
    values: Vec<String>,
}

impl Intern {
    /// 0 is "no value"; others are 1 + index.
    pub(crate) fn id(&mut self, v: Option<&str>) -> u32 {
        let Some(v) = v else { return 0 };
        if let Some(i) = self.ids.get(v) {
            return *i;
        }
        self.values.push(v.to_string());
        let i = self.values.len() as u32;
        self.ids.insert(v.to_string(), i);
        i
    }
    pub(crate) fn get(&self, v: &str) -> Option<u32> {
        self.ids.get(v).copied()
    }
    pub(crate) fn text(&self, id: u32) -> Option<&str> {
        id.checked_sub(1)
            .and_then(|i| self.values.get(i as usize))
            .map(String::as_str)
    }
    /// Each id's rank among the values in text order (index: id; 0, no value, ranks
    /// first).
    fn ranks(&self) -> Vec<u32> {
        let mut order: Vec<u32> = (1..=self.values.len() as u32).collect();
        order.sort_unstable_by(|a, b| {
            self.values[*a as usize - 1].cmp(&self.values[*b as usize - 1])
        });
        let mut ranks = vec![0u32; self.values.len() + 1];
        for (r, id) in order.into_iter().enumerate() {
            ranks[id as usize] = r as u32 + 1;
        }
        ranks
    }
    fn value(&self, id: u32) -> Option<String> {
        id.checked_sub(1)
            .and_then(|i| self.values.get(i as usize).cloned())
    }
}

/// Up to 7 dimensions and the currency.
type Key = [u32; 8];

#[derive(Default, Clone, Copy, PartialEq, Eq, Debug)]
pub(crate) struct Acc {
    pub(crate) lines: u64,
    pub(crate) units: i128,
    pub(crate) amount: i128,
}

/// The exact side: every part read with the `parquet` crate, summed per group in i128.
struct Exact {
    dims: Vec<Intern>,
    currency: Intern,
    scale_of: BTreeMap<String, u8>,
    groups: HashMap<Key, Acc>,
    /// Parts by the scale of their amounts.
    by_scale: BTreeMap<u8, Vec<String>>,
}

pub(crate) fn strings(a: &ArrayRef) -> Result<ArrayRef, AppError> {
    cast(a, &DataType::Utf8).map_err(other)
}

impl Exact {
    fn new(by: &[Dim]) -> Exact {
        Exact {
            dims: by.iter().map(|_| Intern::default()).collect(),
            currency: Intern::default(),
            scale_of: BTreeMap::new(),
            groups: HashMap::default(),
            by_scale: BTreeMap::new(),
        }
    }

    async fn part(
        &mut self,
        to: &Location,
        path: &object_store::path::Path,
        req: &Request,
    ) -> Result<(), AppError> {
        let mut want: Vec<&str> = req.by.iter().map(|d| d.column()).collect();
        want.extend(["currency", "units", "amount", "sku"]);
        if !req.reversed.is_empty() {
            want.extend(["distributor", "statement_id", "code"]);
        }
        let (url, reader, scale) = open_part(to, path, &want).await?;
        self.by_scale.entry(scale).or_default().push(url.clone());
        let overflow = || {
            other(format!(
                "{url}: a total passes the range of exact sums (i128)"
            ))
        };
        for batch in reader {
            let batch: RecordBatch = batch.map_err(|e| other(format!("{url}: {e}")))?;
            let by_name = |c: &str| {
                batch
                    .column_by_name(c)
                    .cloned()
                    .ok_or_else(|| other(format!("{url}: no column {c}")))
            };
            let dims: Vec<ArrayRef> = req
                .by
                .iter()
                .map(|d| by_name(d.column()).and_then(|a| strings(&a)))
                .collect::<Result<_, _>>()?;
            let dims: Vec<_> = dims.iter().map(|a| a.as_string::<i32>()).collect();
            let cur = strings(&by_name("currency")?)?;
            let cur = cur.as_string::<i32>();
            let sku = strings(&by_name("sku")?)?;
            let sku = sku.as_string::<i32>();
            let units = by_name("units")?;
            let units = units
                .as_primitive_opt::<Int64Type>()
                .ok_or_else(|| other(format!("{url}: units is not Int64")))?
                .clone();
            let amount = by_name("amount")?;
            let amount = amount
                .as_primitive_opt::<Decimal128Type>()
                .ok_or_else(|| other(format!("{url}: amount is not Decimal128")))?
                .clone();
            // (distributor, statement id, code) of each row, read only when some
            // statements are reversed.
            let statement = if req.reversed.is_empty() {
                None
            } else {
                Some((
                    strings(&by_name("distributor")?)?,
                    strings(&by_name("statement_id")?)?,
                    strings(&by_name("code")?)?,
                ))
            };
            let statement = statement.as_ref().map(|(d, s, c)| {
                (
                    d.as_string::<i32>(),
                    s.as_string::<i32>(),
                    c.as_string::<i32>(),
                )
            });
            let reversed_ids: std::collections::HashSet<&str> =
                req.reversed.iter().map(|(_, s, _)| s.as_str()).collect();
            for r in 0..batch.num_rows() {
                if let Some(skus) = &req.skus {
                    if sku.is_null(r) || !skus.contains(sku.value(r)) {
                        continue;
                    }
                }
                if let Some((d, st, code)) = &statement {
                    // Most rows are of no reversed statement: no allocation for them.
                    if reversed_ids.contains(st.value(r))
                        && is_reversed(&req.reversed, d.value(r), st.value(r), code.value(r))
                    {
                        continue;
                    }
                }
                let mut key: Key = [0; 8];
                for (i, a) in dims.iter().enumerate() {
                    key[i] = self.dims[i].id((!a.is_null(r)).then(|| a.value(r)));
                }
                let c = cur.value(r);
                key[7] = self.currency.id(Some(c));
                match self.scale_of.get(c) {
                    Some(s) if *s != scale => {
                        return Err(other(format!(
                            "{url}: {c} amounts with {scale} decimal places, elsewhere with {s}"
                        )))
                    }
                    Some(_) => {}
                    None => {
                        self.scale_of.insert(c.to_string(), scale);
                    }
                }
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

    /// A group's values as the user reads them (`GB × GenStore × USD`).
    fn show(&self, k: &Key) -> String {
        let mut parts: Vec<&str> = (0..self.dims.len())
            .map(|i| self.dims[i].text(k[i]).unwrap_or("(none)"))
            .collect();
        parts.push(self.currency.text(k[7]).unwrap_or(""));
        parts.join(" × ")
    }

    /// The groups as rows, ordered by their values (no value first), then currency.
    fn rows(&self) -> Vec<Row> {
        // In the order of the values' texts (no value first): each column's values are
        // ranked once and the groups sorted by their ranks (millions of groups compared
        // text by text took longer than the engine).
        let ranks: Vec<Vec<u32>> = self
            .dims
            .iter()
            .chain(std::iter::once(&self.currency))
            .map(Intern::ranks)
            .collect();
        let n = self.dims.len();
        let rank_of = |k: &Key| {
            let mut r = [0u32; 8];
            for i in 0..n {
                r[i] = ranks[i][k[i] as usize];
            }
            r[7] = ranks[n][k[7] as usize];
            r
        };
        let mut keys: Vec<([u32; 8], &Key, &Acc)> = self
            .groups
            .iter()
            .map(|(k, a)| (rank_of(k), k, a))
            .collect();
        keys.sort_unstable_by_key(|a| a.0);
        keys.into_iter()
            .map(|(_, k, a)| {
                let currency = self.currency.value(k[7]).unwrap_or_default();
                Row {
                    key: (0..self.dims.len())
                        .map(|i| self.dims[i].value(k[i]))
                        .collect(),
                    scale: self.scale_of.get(&currency).copied().unwrap_or(0),
                    currency,
                    lines: a.lines,
                    units: a.units,
                    amount_minor: a.amount,
                }
            })
            .collect()
    }
}

/// The same groups through DataFusion: one read per amount scale (parts of different
/// scales have different schemas).
/// Its groups are keyed by the exact side's interned values: a value the exact side
/// never saw is a difference, said as such.
/// A session on the engine asked for.
async fn session(to: &Location, on: &Engine) -> Result<SessionContext, AppError> {
    match on {
        Engine::Local => {
            let ctx = SessionContext::new();
            to.register(&ctx);
            Ok(ctx)
        }
        #[cfg(feature = "ballista")]
        Engine::Ballista(hostport) => {
            use ballista::prelude::SessionContextExt;
            SessionContext::remote(&format!("df://{hostport}"))
                .await
                .map_err(|e| other(format!("Ballista scheduler at {hostport}: {e}")))
        }
        #[cfg(not(feature = "ballista"))]
        Engine::Ballista(hostport) => Err(input(format!(
            "--engine ballista://{hostport}: this backstock was built without Ballista"
        ))),
    }
}

async fn engine(
    to: &Location,
    exact: &Exact,
    req: &Request,
    on: &Engine,
) -> Result<HashMap<Key, Acc>, AppError> {
    let by_scale = &exact.by_scale;
    let ctx = session(to, on).await?;
    let mut out = HashMap::with_capacity_and_hasher(exact.groups.len(), Default::default());
    let unseen = |v: &str| {
        other(format!(
            "refused: the engine gives a group with {v:?}, which no line of the parts has; nothing printed"
        ))
    };
    let df_err = |e: datafusion::error::DataFusionError| match on {
        Engine::Local => other(format!("DataFusion: {e}")),
        Engine::Ballista(at) => {
            let e = e.to_string();
            if e.contains("Connection refused") || e.contains("tcp connect error") {
                other(format!(
                    "Ballista scheduler at {at}: nothing answers there (connection refused); start the scheduler or check --engine"
                ))
            } else {
                other(format!("Ballista scheduler at {at}: {e}"))
            }
        }
    };
    for urls in by_scale.values() {
        let mut df = ctx
            .read_parquet(urls.clone(), ParquetReadOptions::default())
            .await
            .map_err(df_err)?;
        if let Some(skus) = &req.skus {
            let list: Vec<Expr> = skus.iter().map(|s| lit(s.clone())).collect();
            df = df.filter(col("sku").in_list(list, false)).map_err(df_err)?;
        }
        let reversed = req.reversed.iter().map(|(d, st, code)| {
            let statement = col("distributor")
                .eq(lit(d.clone()))
                .and(col("statement_id").eq(lit(st.clone())));
            match code {
                None => statement,
                Some(c) => statement.and(col("code").eq(lit(c.clone()))),
            }
        });
        if let Some(any) = reversed.reduce(Expr::or) {
            df = df.filter(!any).map_err(df_err)?;
        }
        let mut group: Vec<Expr> = req.by.iter().map(|d| col(d.column())).collect();
        group.push(col("currency"));
        let df = df
            .aggregate(
                group,
                vec![
                    count(lit(1i64)).alias("lines"),
                    sum(col("units")).alias("units"),
                    sum(col("amount")).alias("amount"),
                ],
            )
            .map_err(df_err)?;
        for batch in df.collect().await.map_err(df_err)? {
            let keys: Vec<ArrayRef> = req
                .by
                .iter()
                .map(|d| {
                    batch
                        .column_by_name(d.column())
                        .ok_or_else(|| other(format!("DataFusion: no column {}", d.column())))
                        .and_then(strings)
                })
                .collect::<Result<_, _>>()?;
            let cur = batch
                .column_by_name("currency")
                .ok_or_else(|| other("DataFusion: no currency column"))
                .and_then(strings)?;
            let cur = cur.as_string::<i32>();
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
            let keys: Vec<_> = keys.iter().map(|a| a.as_string::<i32>()).collect();
            for r in 0..batch.num_rows() {
                let mut key: Key = [0; 8];
                for (i, a) in keys.iter().enumerate() {
                    if !a.is_null(r) {
                        key[i] = exact.dims[i]
                            .get(a.value(r))
                            .ok_or_else(|| unseen(a.value(r)))?;
                    }
                }
                key[7] = exact
                    .currency
                    .get(cur.value(r))
                    .ok_or_else(|| unseen(cur.value(r)))?;
                // A null sum (an overflow some engines give as null) is a difference.
                let acc = Acc {
                    lines: u64::try_from(lines.value(r)).unwrap_or(u64::MAX),
                    units: if units.is_null(r) {
                        i128::MIN
                    } else {
                        i128::from(units.value(r))
                    },
                    amount: if amount.is_null(r) {
                        i128::MIN
                    } else {
                        amount.value(r)
                    },
                };
                if out.insert(key, acc).is_some() {
                    return Err(other("DataFusion gave one group twice"));
                }
            }
        }
    }
    Ok(out)
}

/// Runs a query in this process; refuses (exit 1, naming the first difference) if the
/// engine's answer differs from the exact sums in any group.
pub async fn run(to: &Location, req: &Request) -> Result<Answer, AppError> {
    run_on(to, req, &Engine::Local).await
}

/// [`run`] on the given engine.
pub async fn run_on(to: &Location, req: &Request, on: &Engine) -> Result<Answer, AppError> {
    // Ballista's executors read the parts themselves, by URL: they would need the
    // object store's credentials, which this build does not hand them.
    if let (Engine::Ballista(hostport), true) = (on, to.is_remote()) {
        return Err(input(format!(
            "--engine ballista://{hostport} reads the parts on the cluster's own disks (file:// paths); the lines at {} are in an object store: query them with --engine local",
            to.shown()
        )));
    }
    let found = parts(to, &req.label, &req.period).await?;
    let t0 = std::time::Instant::now();
    let mut exact = Exact::new(&req.by);
    for p in &found {
        exact.part(to, p, req).await?;
    }
    let check = t0.elapsed();
    let t1 = std::time::Instant::now();
    let got = if found.is_empty() {
        HashMap::default()
    } else {
        engine(to, &exact, req, on).await?
    };
    let engine_time = t1.elapsed();
    compare(&got, &exact.groups, |k| exact.show(k))?;
    drop(got);
    let rows = exact.rows();
    Ok(Answer {
        by: req.by.clone(),
        rows,
        parts: found.len(),
        engine: engine_time,
        check,
    })
}

/// Every group of `want` in `got` with the same totals, and no other; the first
/// difference (in key order) refuses, said with `show`.
pub(crate) fn compare<K: Eq + std::hash::Hash + Ord>(
    got: &HashMap<K, Acc>,
    want: &HashMap<K, Acc>,
    show: impl Fn(&K) -> String,
) -> Result<(), AppError> {
    let differ = want
        .iter()
        .filter(|(k, w)| got.get(k) != Some(w))
        .map(|(k, _)| k)
        .min();
    if let Some(k) = differ {
        let w = &want[k];
        return Err(match got.get(k) {
            Some(g) => other(format!(
                "refused: the engine's totals for {} differ from the exact sum of the same lines ({} lines, {} units, {} minor units from DataFusion; {} lines, {} units, {} minor units exact); nothing printed",
                show(k), g.lines, g.units, g.amount, w.lines, w.units, w.amount
            )),
            None => other(format!(
                "refused: the engine has no group {} that the exact sums have; nothing printed",
                show(k)
            )),
        });
    }
    // Every group of `want` is in `got`: with as many groups, there is no other.
    if got.len() == want.len() {
        return Ok(());
    }
    if let Some(k) = got.keys().filter(|k| !want.contains_key(*k)).min() {
        return Err(other(format!(
            "refused: the engine gives a group {} the exact sums do not have; nothing printed",
            show(k)
        )));
    }
    Ok(())
}

/// A Parquet part of the lines, opened for reading `columns` (batches of 64k rows):
/// its URL (for messages), the reader, and the scale of its `amount` column
/// (Decimal128, 0–18 decimals), checked.
pub(crate) async fn open_part(
    to: &Location,
    path: &object_store::path::Path,
    columns: &[&str],
) -> Result<(String, ParquetRecordBatchReader, u8), AppError> {
    let url = to.url_of(path);
    let bytes = to
        .store
        .get(path)
        .await
        .map_err(|e| other(to.explain(&url, &e)))?
        .bytes()
        .await
        .map_err(|e| other(format!("{url}: {e}")))?;
    let builder = ParquetRecordBatchReaderBuilder::try_new(bytes)
        .map_err(|e| other(format!("{url}: {e}")))?;
    let schema = builder.schema().clone();
    let scale = match schema
        .field_with_name("amount")
        .map(|f| f.data_type().clone())
    {
        Ok(DataType::Decimal128(_, s)) if (0..=18).contains(&s) => s as u8,
        found => {
            return Err(other(format!(
                "{url}: expected an amount column of Decimal128, found {found:?}"
            )))
        }
    };
    let idx: Vec<usize> = columns
        .iter()
        .map(|c| {
            schema
                .index_of(c)
                .map_err(|_| other(format!("{url}: no column {c}")))
        })
        .collect::<Result<_, _>>()?;
    let mask = ProjectionMask::roots(builder.parquet_schema(), idx);
    let reader = builder
        .with_projection(mask)
        .with_batch_size(64 * 1024)
        .build()
        .map_err(|e| other(format!("{url}: {e}")))?;
    Ok((url, reader, scale))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decimals_are_written_from_minor_units_exactly() {
        assert_eq!(decimal_text(0, 2), "0.00");
        assert_eq!(decimal_text(5, 2), "0.05");
        assert_eq!(decimal_text(-5, 2), "-0.05");
        assert_eq!(decimal_text(123456, 2), "1234.56");
        assert_eq!(decimal_text(-1500, 0), "-1500");
        assert_eq!(decimal_text(i128::MAX, 2).len(), 40);
        assert!(decimal_text(i128::MIN, 2).ends_with(".28"));
        assert_eq!(decimal_text(7, 3), "0.007");
    }

    #[test]
    fn by_takes_known_columns_once() {
        assert_eq!(
            Dim::parse_list("isrc, territory,Service,month").unwrap(),
            [Dim::Isrc, Dim::Territory, Dim::Service, Dim::Month]
        );
        assert!(Dim::parse_list("").unwrap().is_empty());
        let e = Dim::parse_list("isrc,country").unwrap_err();
        assert!(e.message().contains("found \"country\""), "{}", e.message());
        assert!(Dim::parse_list("isrc,isrc")
            .unwrap_err()
            .message()
            .contains("twice"));
    }

    #[test]
    fn a_period_is_its_months() {
        let m = months(&Period::parse("2016Q2").unwrap());
        assert_eq!(
            m.into_iter().collect::<Vec<_>>(),
            ["2016-04", "2016-05", "2016-06"]
        );
        assert_eq!(months(&Period::parse("2016H2").unwrap()).len(), 6);
    }

    #[test]
    fn any_difference_between_engine_and_exact_sums_refuses() {
        type Groups = HashMap<(Vec<Option<String>>, String), Acc>;
        let show = |k: &(Vec<Option<String>>, String)| {
            let mut p: Vec<String> =
                k.0.iter()
                    .map(|v| v.clone().unwrap_or("(none)".into()))
                    .collect();
            p.push(k.1.clone());
            p.join(" × ")
        };
        let k = (vec![Some("GB".to_string())], "USD".to_string());
        let a = Acc {
            lines: 2,
            units: 3,
            amount: 500,
        };
        let want: Groups = [(k.clone(), a)].into_iter().collect();
        assert!(compare(&want.clone(), &want, show).is_ok());
        let off: Groups = [(k.clone(), Acc { amount: 501, ..a })]
            .into_iter()
            .collect();
        let e = compare(&off, &want, show).unwrap_err();
        assert!(
            e.message()
                .starts_with("refused: the engine's totals for GB × USD differ"),
            "{}",
            e.message()
        );
        assert!(compare(&Groups::default(), &want, show).is_err());
        let extra: Groups = [(k, a), ((vec![None], "USD".into()), a)]
            .into_iter()
            .collect();
        assert!(compare(&extra, &want, show)
            .unwrap_err()
            .message()
            .contains("(none) × USD"));
    }
}
