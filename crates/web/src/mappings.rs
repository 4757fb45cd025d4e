//! Mappings in the browser (issue 14.3): upload a sample of a distributor's own file,
//! see its first rows (the header row found as the engine will read it), pick which
//! column is which, see the canonical statement rows the mapping gives (the real
//! engine and the importer's checks, their messages as `import --mapping` says them),
//! then save it — the same TOML, through the same `backstock_app::mapping::save` as
//! `backstock mapping add`, so the CLI lists it and the Import page offers it.
//!
//! The sample waits server-side for a day under
//! `DIR/mapping-samples/<tenant>/<user id>/<one-time id>` (looked up with the tenant and
//! user of the request, so another member's or label's id is not found); nothing of it
//! is recorded. At most [`MAX_PREVIEW_ROWS`] source and canonical rows are shown.
//!
//! Who: `mappings` (owner, staff, bookkeeper). Every save is audited (`mapping_saved`).
//!
//! Stable element ids: `mappings-list`, `sample-form`, `sample-rows`, `mapping-form`,
//! `mapping-preview`, `mapping-save`, `mapping-rows`, `mapping-errors`, `mapping-toml`,
//! `mapping-result`, `mapping-import`.

use crate::api::Body;
use crate::auth::Tenant;
use crate::html::{esc, page, url_encode};
use crate::{AppState, Fail};
use axum::extract::{Multipart, State};
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Response};
use axum::Json;
use backstock_app::mapping as app;
use backstock_mapping::{Format, Mapping, Overrides, Sample, COLUMNS};
use serde_json::{json, Value};
use std::collections::BTreeMap;
use std::path::PathBuf;

/// Most source rows and canonical rows a preview shows.
pub const MAX_PREVIEW_ROWS: usize = 20;

/// Seconds a sample waits for the next preview or the save.
const SAMPLE_TTL: u64 = 24 * 3600;

/// The statement-level fields, in the order the form shows them.
const STATEMENT: [(&str, &str); 6] = [
    ("statement_id", "Statement id"),
    ("distributor", "Distributor"),
    ("period_start", "Period start"),
    ("period_end", "Period end"),
    ("issued_on", "Issued on"),
    ("currency", "Currency"),
];

/// The canonical kinds a code can mean (or `skip`).
const KINDS: [&str; 8] = [
    "sale",
    "return",
    "fee",
    "reserve_withheld",
    "reserve_released",
    "chargeback",
    "adjustment",
    "skip",
];

/// The builder's fields (multipart on the pages and the preview API, JSON on the
/// save API). Every field but `name` has a default guessed from the sample.
pub const FIELDS: &[(&str, &str)] = &[
    ("file", "the sample: the distributor's file (CSV or XLSX), or leave out and give `sample`"),
    ("sample", "the id of a sample uploaded before (answered by a preview)"),
    ("name", "the mapping's name: 1-64 letters, digits, '-', '_' or '.' (what import --mapping takes)"),
    ("description", "what the layout is"),
    ("format", "csv or xlsx (default: detected)"),
    ("delimiter", "CSV: , ; tab or | (default: detected)"),
    ("sheet", "XLSX: the sheet's name or number (default: the first)"),
    ("header_row", "the line of the column names (0: no header; default: detected)"),
    ("skip_rows_after_header", "rows to ignore under the header"),
    ("date_format", "e.g. %m/%d/%Y or %d.%m.%Y (default: detected)"),
    ("decimal", ". or , (default: detected from the amounts)"),
    ("thousands", "the thousands separator(s), if not the usual"),
    ("statement_id_from", "where the statement id is: column, after (a label in the header block such as \"Statement No:\"), cell (B3), value, or empty: given at import"),
    ("statement_id", "the column, label, cell or value"),
    ("distributor_from", "as statement_id_from (empty: chosen at import)"),
    ("distributor", "the column, label, cell or value"),
    ("period_start_from", "as statement_id_from"),
    ("period_start", "the column, label, cell or value (a value as YYYY-MM-DD)"),
    ("period_end_from", "as statement_id_from"),
    ("period_end", "the column, label, cell or value"),
    ("period_split", "when one cell holds the whole period: the text between start and end (\" - \")"),
    ("issued_on_from", "as statement_id_from"),
    ("issued_on", "the column, label, cell or value"),
    ("currency_from", "as statement_id_from"),
    ("currency", "the column, label, cell or value (USD)"),
    ("kind_column", "the column of the distributor's kind codes (empty: every row is `kind`)"),
    ("kind_codes", "one `CODE = kind` per line (kinds: sale, return, fee, reserve_withheld, reserve_released, chargeback, adjustment, skip)"),
    ("kind", "the kind of every row when there is no kind column (default sale)"),
    ("sku", "the SKU/UPC column(s), the first non-empty one is used (comma-separated, or the field repeated)"),
    ("units", "the units column"),
    ("amount", "the amount column"),
    ("sign", "positive (the amount of the row's kind; negative = the opposite kind) or net (money to the label positive)"),
    ("memo", "memo column(s)"),
    ("footer", "a row whose SKU cell starts with this text ends the data (e.g. TOTAL)"),
];

// ---------------------------------------------------------------------------------
// Fields

/// The builder's fields as given: each name with its values (a multipart field may be
/// repeated).
#[derive(Debug, Clone, Default)]
pub struct Fields(BTreeMap<String, Vec<String>>);

impl Fields {
    fn given(&self, k: &str) -> bool {
        self.0.contains_key(k)
    }
    fn get(&self, k: &str) -> String {
        self.0
            .get(k)
            .and_then(|v| v.iter().find(|s| !s.trim().is_empty()))
            .map(|s| s.trim().to_string())
            .unwrap_or_default()
    }
    /// The first non-empty value as given, spaces kept.
    fn raw(&self, k: &str) -> String {
        self.0
            .get(k)
            .and_then(|v| v.iter().find(|s| !s.trim().is_empty()))
            .cloned()
            .unwrap_or_default()
    }
    /// Every non-empty value, comma-separated ones split.
    fn list(&self, k: &str) -> Vec<String> {
        self.0
            .get(k)
            .into_iter()
            .flatten()
            .flat_map(|v| v.split(','))
            .map(|s| s.trim().to_string())
            .filter(|s| !s.is_empty())
            .collect()
    }
    fn set(&mut self, k: &str, v: impl Into<String>) {
        self.0.insert(k.to_string(), vec![v.into()]);
    }
    /// `self` over `defaults`: a field given (even empty) wins.
    fn over(self, mut defaults: Fields) -> Fields {
        for (k, v) in self.0 {
            defaults.0.insert(k, v);
        }
        defaults
    }
    fn from_json(v: &Value) -> Result<Fields, Fail> {
        let Value::Object(o) = v else {
            return Err(Fail::bad("the JSON body: expected an object of fields"));
        };
        let mut f = Fields::default();
        for (k, v) in o {
            let vals = match v {
                Value::Null => Vec::new(),
                Value::String(s) => vec![s.clone()],
                Value::Number(n) => vec![n.to_string()],
                Value::Bool(b) => vec![b.to_string()],
                Value::Array(a) => a
                    .iter()
                    .map(|x| match x {
                        Value::String(s) => Ok(s.clone()),
                        Value::Number(n) => Ok(n.to_string()),
                        _ => Err(Fail::bad(format!("field {k}: expected strings"))),
                    })
                    .collect::<Result<_, _>>()?,
                Value::Object(_) => return Err(Fail::bad(format!("field {k}: expected a string"))),
            };
            f.0.insert(k.clone(), vals);
        }
        Ok(f)
    }
    fn to_json(&self) -> Value {
        let mut o = serde_json::Map::new();
        for k in self.0.keys() {
            if k == "file" || k == "csrf" {
                continue;
            }
            o.insert(
                k.clone(),
                if matches!(k.as_str(), "sku" | "memo") {
                    json!(self.list(k))
                } else if k == "period_split" {
                    // A separator's spaces are part of it (" - " splits ISO dates,
                    // "-" would cut them up).
                    json!(self.raw(k))
                } else {
                    json!(self.get(k))
                },
            );
        }
        Value::Object(o)
    }
}

/// Reads a multipart form: the `file` part (name, bytes) and the text fields.
async fn read_multipart(mut m: Multipart) -> Result<(Option<(String, Vec<u8>)>, Fields), Fail> {
    let mut file = None;
    let mut f = Fields::default();
    while let Some(field) = m
        .next_field()
        .await
        .map_err(|e| Fail::bad(format!("the form is malformed: {e}")))?
    {
        let key = field.name().unwrap_or("").to_string();
        if key == "file" {
            let name = field.file_name().unwrap_or("sample.csv").to_string();
            let bytes = field
                .bytes()
                .await
                .map_err(|e| Fail::new(413, "too_large", format!("reading the sample: {e}")))?;
            if !bytes.is_empty() {
                file = Some((name, bytes.to_vec()));
            }
            continue;
        }
        let v = field
            .text()
            .await
            .map_err(|e| Fail::bad(format!("field {key}: {e}")))?;
        f.0.entry(key).or_default().push(v);
    }
    Ok((file, f))
}

// ---------------------------------------------------------------------------------
// The sample, kept between previews

fn sample_dir(state: &AppState, t: &Tenant) -> PathBuf {
    state
        .config
        .data_dir
        .join("mapping-samples")
        .join(t.slug())
        .join(t.viewer.user.id.to_string())
}

fn valid_id(id: &str) -> bool {
    (8..=64).contains(&id.len()) && id.chars().all(|c| c.is_ascii_alphanumeric())
}

/// A file name safe to show: its last component, letters, digits, `.-_` only.
fn safe_name(name: &str) -> String {
    let base = name.rsplit(['/', '\\']).next().unwrap_or("");
    let s: String = base
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || "._-".contains(c) {
                c
            } else {
                '_'
            }
        })
        .take(120)
        .collect();
    let s = s.trim_start_matches('.').to_string();
    if s.is_empty() {
        "sample.csv".into()
    } else {
        s
    }
}

/// Keeps a new sample (dropping this member's samples older than a day) → its id.
fn keep_sample(state: &AppState, t: &Tenant, name: &str, bytes: &[u8]) -> Result<String, Fail> {
    let dir = sample_dir(state, t);
    if let Ok(rd) = std::fs::read_dir(&dir) {
        for e in rd.flatten() {
            let old = e
                .metadata()
                .and_then(|m| m.modified())
                .ok()
                .and_then(|m| m.elapsed().ok())
                .is_some_and(|age| age.as_secs() > SAMPLE_TTL);
            if old {
                let _ = std::fs::remove_dir_all(e.path());
            }
        }
    }
    let id = crate::control::random_token()?[..32].to_string();
    let d = dir.join(&id);
    let keep = || -> std::io::Result<()> {
        std::fs::create_dir_all(&d)?;
        std::fs::write(d.join("sample"), bytes)?;
        std::fs::write(d.join("name"), safe_name(name))
    };
    keep().map_err(|e| Fail::internal(format!("keeping the sample: {e}")))?;
    Ok(id)
}

fn load_sample(state: &AppState, t: &Tenant, id: &str) -> Result<(String, Vec<u8>), Fail> {
    let gone = || {
        Fail::not_found("no such sample (older than a day, or not yours): upload the file again")
    };
    if !valid_id(id) {
        return Err(gone());
    }
    let d = sample_dir(state, t).join(id);
    let bytes = std::fs::read(d.join("sample")).map_err(|_| gone())?;
    let name = std::fs::read_to_string(d.join("name")).unwrap_or_else(|_| "sample.csv".into());
    Ok((name, bytes))
}

/// The sample of a request: a new file (kept) or the id of one kept before.
fn sample_of(
    state: &AppState,
    t: &Tenant,
    file: Option<(String, Vec<u8>)>,
    f: &Fields,
) -> Result<Option<(String, String, Vec<u8>)>, Fail> {
    if let Some((name, bytes)) = file {
        let id = keep_sample(state, t, &name, &bytes)?;
        return Ok(Some((id, safe_name(&name), bytes)));
    }
    let id = f.get("sample");
    if id.is_empty() {
        return Ok(None);
    }
    let (name, bytes) = load_sample(state, t, &id)?;
    Ok(Some((id, name, bytes)))
}

// ---------------------------------------------------------------------------------
// Guessing defaults from the sample

fn norm(s: &str) -> String {
    s.split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
        .to_lowercase()
}

/// The header names (or column numbers when there is no header).
fn header_names(s: &Sample, header_row: u64) -> Vec<String> {
    let width = s.rows.iter().map(|r| r.cells.len()).max().unwrap_or(0);
    match s
        .rows
        .iter()
        .find(|r| r.line == header_row && header_row > 0)
    {
        Some(r) => (0..width)
            .map(|i| {
                r.cells
                    .get(i)
                    .filter(|c| !c.is_empty())
                    .cloned()
                    .unwrap_or_else(|| (i + 1).to_string())
            })
            .collect(),
        None => (1..=width).map(|i| i.to_string()).collect(),
    }
}

/// The first header containing one of `words` (in order of preference).
fn find_col(headers: &[String], words: &[&str]) -> Option<String> {
    words
        .iter()
        .find_map(|w| headers.iter().find(|h| norm(h).contains(w)).cloned())
}

/// The first header containing one of `words` (in order of preference) that `keep`
/// accepts.
fn find_col_where(
    headers: &[String],
    words: &[&str],
    keep: impl Fn(&str) -> bool,
) -> Option<String> {
    words.iter().find_map(|w| {
        headers
            .iter()
            .find(|h| norm(h).contains(w) && keep(&norm(h)))
            .cloned()
    })
}

/// The date format of a sample's dates: the first date-like text's, with day and
/// month in the order the others show (`13/03/2016` below `05/03/2016` says day
/// first; nothing says otherwise: month first).
fn date_format_of_all<'a>(texts: impl Iterator<Item = &'a String>) -> Option<&'static str> {
    let mut first: Option<&'static str> = None;
    let (mut day_first, mut month_first) = (false, false);
    for t in texts {
        let Some(f) = date_format_of(t) else { continue };
        first.get_or_insert(f);
        if f.starts_with("%m/") || f.starts_with("%d/") {
            let parts: Vec<u32> = t
                .trim()
                .split('/')
                .map(|p| p.parse().unwrap_or(0))
                .collect();
            day_first |= parts[0] > 12;
            month_first |= parts[1] > 12;
        }
    }
    let first = first?;
    Some(match (first, day_first, month_first) {
        ("%m/%d/%Y" | "%d/%m/%Y", true, false) => "%d/%m/%Y",
        ("%m/%d/%Y" | "%d/%m/%Y", false, true) => "%m/%d/%Y",
        ("%m/%d/%y" | "%d/%m/%y", true, false) => "%d/%m/%y",
        ("%m/%d/%y" | "%d/%m/%y", false, true) => "%m/%d/%y",
        (f, ..) => f,
    })
}

fn date_format_of(text: &str) -> Option<&'static str> {
    let t = text.trim();
    let parts: Vec<&str> = t.split(['/', '.', '-']).collect();
    if parts.len() != 3
        || !parts
            .iter()
            .all(|p| !p.is_empty() && p.chars().all(|c| c.is_ascii_digit()))
    {
        return None;
    }
    let n = |p: &str| p.parse::<u32>().unwrap_or(0);
    match (t.contains('/'), t.contains('.'), t.contains('-')) {
        (false, false, true) if parts[0].len() == 4 => Some("%Y-%m-%d"),
        (true, false, false) if parts[2].len() == 4 => {
            if n(parts[0]) > 12 {
                Some("%d/%m/%Y")
            } else {
                Some("%m/%d/%Y")
            }
        }
        (true, false, false) if parts[2].len() == 2 => {
            if n(parts[0]) > 12 {
                Some("%d/%m/%y")
            } else {
                Some("%m/%d/%y")
            }
        }
        (false, true, false) if parts[2].len() == 4 => Some("%d.%m.%Y"),
        (false, false, true) if parts[2].len() == 4 => Some("%d-%m-%Y"),
        _ => None,
    }
}

fn kind_of_code(code: &str) -> Option<&'static str> {
    let c = norm(code);
    let has = |w: &str| c.contains(w);
    Some(if has("reserve") && has("releas") {
        "reserve_released"
    } else if has("reserve") {
        "reserve_withheld"
    } else if has("return") || has("refund") || c == "r" || c == "rt" {
        "return"
    } else if has("chargeback") {
        "chargeback"
    } else if has("fee") || has("commission") || c == "f" {
        "fee"
    } else if has("adj") {
        "adjustment"
    } else if has("sale") || has("sold") || has("download") || has("stream") || c == "s" {
        "sale"
    } else {
        return None;
    })
}

/// A statement field, the header words of its column, the label words in the header block.
type StatementGuess = (
    &'static str,
    &'static [&'static str],
    &'static [&'static [&'static str]],
);

/// The defaults a sample suggests for every field.
fn guess(s: &Sample, f: &Fields) -> Fields {
    let mut g = Fields::default();
    g.set("format", s.format.as_str());
    if s.format == Format::Csv {
        g.set(
            "delimiter",
            match s.delimiter {
                '\t' => "tab".to_string(),
                d => d.to_string(),
            },
        );
    }
    let header_row = match f.get("header_row").parse::<u64>() {
        Ok(h) if f.given("header_row") => h,
        _ => backstock_mapping::detect_header_row(&s.rows),
    };
    g.set("header_row", header_row.to_string());
    let headers = header_names(s, header_row);
    let data: Vec<&backstock_mapping::SampleRow> =
        s.rows.iter().filter(|r| r.line > header_row).collect();
    let col = |words: &[&str]| find_col(&headers, words).unwrap_or_default();
    // Item codes: barcodes first, then catalog numbers.
    let mut sku: Vec<String> = Vec::new();
    for words in [
        &["upc", "ean", "barcode", "gtin"][..],
        &[
            "sku",
            "catalog",
            "cat #",
            "cat#",
            "cat no",
            "item code",
            "product code",
        ][..],
    ] {
        if let Some(c) = find_col(&headers, words) {
            if !sku.contains(&c) {
                sku.push(c);
            }
        }
    }
    g.set("sku", sku.join(","));
    // Units sold before any other count (returned, net).
    let units_words = ["units", "qty", "quantity"];
    g.set(
        "units",
        find_col_where(&headers, &units_words, |h| {
            !h.contains("return") && !h.contains("net")
        })
        .unwrap_or_else(|| col(&units_words)),
    );
    // A money column: never a count (`Net Units`), a price, a rate or a percentage.
    g.set(
        "amount",
        find_col_where(
            &headers,
            &[
                "net", "amount", "earnings", "revenue", "total", "sales", "gross",
            ],
            |h| {
                ![
                    "unit", "qty", "quantity", "count", "%", "percent", "rate", "date",
                ]
                .iter()
                .any(|w| h.contains(w))
            },
        )
        .unwrap_or_default(),
    );
    g.set(
        "memo",
        col(&["title", "description", "memo", "item name", "product"]),
    );
    g.set("sign", "positive");
    let kind_col = col(&["transaction type", "type", "kind", "category"]);
    g.set("kind_column", kind_col.clone());
    g.set("kind", "sale");
    // The kind codes seen under the kind column.
    let kind_idx = headers.iter().position(|h| *h == kind_col);
    if let Some(i) = kind_idx.filter(|_| !kind_col.is_empty()) {
        let mut codes: Vec<String> = Vec::new();
        for r in &data {
            if let Some(c) = r.cells.get(i).filter(|c| !c.is_empty()) {
                if !codes.contains(c) && codes.len() < 20 {
                    codes.push(c.clone());
                }
            }
        }
        let text: Vec<String> = codes
            .iter()
            .filter_map(|c| kind_of_code(c).map(|k| format!("{c} = {k}")))
            .collect();
        g.set("kind_codes", text.join("\n"));
    }
    // Statement values: a column of each row, else a label in the header block.
    let block: Vec<&backstock_mapping::SampleRow> =
        s.rows.iter().filter(|r| r.line < header_row).collect();
    let label = |words: &[&str]| -> Option<(String, String)> {
        block.iter().find_map(|r| {
            r.cells.iter().enumerate().find_map(|(i, c)| {
                let n = norm(c);
                if !words.iter().all(|w| n.contains(w)) {
                    return None;
                }
                let (lbl, rest) = match c.find(':') {
                    Some(p) => (c[..=p].trim().to_string(), c[p + 1..].trim().to_string()),
                    None => (c.trim().to_string(), String::new()),
                };
                let value = if rest.is_empty() {
                    r.cells[i + 1..]
                        .iter()
                        .find(|x| !x.is_empty())
                        .cloned()
                        .unwrap_or_default()
                } else {
                    rest
                };
                Some((lbl, value))
            })
        })
    };
    let mut dates: Vec<String> = Vec::new();
    let stmt: [StatementGuess; 6] = [
        (
            "statement_id",
            &[
                "statement id",
                "statement no",
                "statement #",
                "statement number",
                "report id",
            ],
            &[
                &["statement", "no"],
                &["statement", "#"],
                &["statement", "number"],
                &["statement", "id"],
            ],
        ),
        ("distributor", &[], &[]),
        (
            "period_start",
            &["period start", "start date", "from date"],
            &[&["period"]],
        ),
        (
            "period_end",
            &["period end", "end date", "to date"],
            &[&["period"]],
        ),
        (
            "issued_on",
            &["issued", "statement date", "issue date"],
            &[&["statement", "date"], &["issue"]],
        ),
        ("currency", &["currency"], &[&["currency"]]),
    ];
    for (field, cols, labels) in stmt {
        g.set(&format!("{field}_from"), "");
        g.set(field, "");
        if let Some(c) = (!cols.is_empty())
            .then(|| find_col(&headers, cols))
            .flatten()
        {
            g.set(&format!("{field}_from"), "column");
            g.set(field, c.clone());
            if let Some(i) = headers.iter().position(|h| *h == c) {
                dates.extend(data.iter().filter_map(|r| r.cells.get(i).cloned()).take(3));
            }
            continue;
        }
        if let Some((lbl, value)) = labels.iter().find_map(|w| label(w)) {
            g.set(&format!("{field}_from"), "after");
            g.set(field, lbl);
            if field.starts_with("period") {
                for sep in [" - ", " to ", " – "] {
                    if value.contains(sep) {
                        g.set("period_split", sep);
                        dates.extend(value.split(sep).map(|x| x.trim().to_string()));
                    }
                }
            } else {
                dates.push(value);
            }
        }
    }
    // Dates and decimals as the sample writes them.
    // A time after the date (`3/5/16 2:15pm`) is no part of it.
    let all_cells: Vec<String> = s
        .rows
        .iter()
        .flat_map(|r| r.cells.iter())
        .map(|c| c.split_whitespace().next().unwrap_or("").to_string())
        .collect();
    let fmt = date_format_of_all(dates.iter().chain(all_cells.iter())).unwrap_or("%Y-%m-%d");
    g.set("date_format", fmt);
    let amount_col = g.get("amount");
    let decimal = headers
        .iter()
        .position(|h| *h == amount_col)
        .map(|i| {
            data.iter().filter_map(|r| r.cells.get(i)).any(|v| {
                let v = v.trim();
                v.rfind(',').is_some_and(|p| {
                    let tail = &v[p + 1..];
                    !v[p..].contains('.')
                        && (1..=2).contains(&tail.len())
                        && tail.chars().all(|c| c.is_ascii_digit())
                })
            })
        })
        .unwrap_or(false);
    g.set("decimal", if decimal { "," } else { "." });
    // A TOTAL row under the data ends it.
    if let Some(i) = sku
        .first()
        .and_then(|c| headers.iter().position(|h| h == c))
    {
        if let Some(total) = data
            .iter()
            .filter_map(|r| r.cells.get(i))
            .find(|c| norm(c).starts_with("total"))
        {
            g.set("footer", total.split_whitespace().next().unwrap_or("TOTAL"));
        }
    }
    g
}

/// A mapping name from the sample's file name: `Northwind March.csv` → `northwind-march`.
fn name_of_file(file: &str) -> String {
    let stem = file.rsplit_once('.').map_or(file, |(s, _)| s);
    let mut n = String::new();
    for c in stem.chars() {
        if c.is_ascii_alphanumeric() {
            n.push(c.to_ascii_lowercase());
        } else if !n.ends_with('-') && !n.is_empty() {
            n.push('-');
        }
    }
    n.trim_end_matches('-').chars().take(64).collect()
}

// ---------------------------------------------------------------------------------
// Fields → TOML

fn q(s: &str) -> String {
    // A JSON string is a TOML basic string.
    serde_json::to_string(s).unwrap_or_else(|_| "\"\"".into())
}

/// What the form calls a mapping key, for messages.
fn form_label(key: &str) -> &'static str {
    let k = key.split(['.', '[']).next().unwrap_or("");
    match k {
        "name" => "Name",
        "format" => "Format",
        "delimiter" => "Delimiter",
        "sheet" => "Sheet",
        "header_row" => "Header row",
        "skip_rows_after_header" => "Rows to skip after the header",
        "decimal" => "Decimal separator",
        "thousands" => "Thousands separator",
        "date_format" => "Date format",
        "kind_column" => "Kind column and codes",
        "lines" => "Kind, amount, units and sign",
        "rules" => "Footer",
        "columns" if key.contains("sku") => "SKU/UPC column",
        "columns" => "Memo column",
        "statement" => STATEMENT
            .iter()
            .find(|(f, _)| key.ends_with(f) || key.contains(&format!(".{f}.")))
            .map(|(_, l)| *l)
            .unwrap_or("Statement values"),
        _ => "Mapping",
    }
}

/// The mapping the fields say, as TOML, and the mapping parsed from it — or what is
/// wrong, naming the form's field and the mapping key.
fn build(f: &Fields) -> (String, Result<Mapping, String>) {
    let mut t = String::new();
    let mut line = |s: String| {
        t.push_str(&s);
        t.push('\n');
    };
    let header_row = f.get("header_row").parse::<u64>().unwrap_or(1);
    let col = |c: &str| -> String {
        match c.parse::<u64>() {
            Ok(n) if header_row == 0 || c.chars().all(|x| x.is_ascii_digit()) => n.to_string(),
            _ => q(c),
        }
    };
    let cols = |v: &[String]| -> String {
        format!(
            "[{}]",
            v.iter().map(|c| col(c)).collect::<Vec<_>>().join(", ")
        )
    };
    let name = f.get("name");
    line(format!("name = {}", q(&name)));
    let description = f.get("description");
    if !description.is_empty() {
        line(format!("description = {}", q(&description)));
    }
    let format = f.get("format").to_ascii_lowercase();
    let format = if format.is_empty() {
        "csv".to_string()
    } else {
        format
    };
    line(format!("format = {}", q(&format)));
    let delimiter = f.get("delimiter");
    if format == "csv" && !delimiter.is_empty() {
        let d = if delimiter.eq_ignore_ascii_case("tab") {
            "\t".to_string()
        } else {
            delimiter
        };
        line(format!("delimiter = {}", q(&d)));
    }
    let sheet = f.get("sheet");
    if format == "xlsx" && !sheet.is_empty() {
        match sheet.parse::<u64>() {
            Ok(n) => line(format!("sheet = {n}")),
            Err(_) => line(format!("sheet = {}", q(&sheet))),
        }
    }
    let raw_header = f.get("header_row");
    if raw_header.is_empty() {
        line("header_row = 1".into());
    } else if raw_header.parse::<u64>().is_ok() {
        line(format!("header_row = {raw_header}"));
    } else {
        line(format!("header_row = {}", q(&raw_header)));
    }
    let skip = f.get("skip_rows_after_header");
    if !skip.is_empty() && skip != "0" {
        match skip.parse::<u64>() {
            Ok(n) => line(format!("skip_rows_after_header = {n}")),
            Err(_) => line(format!("skip_rows_after_header = {}", q(&skip))),
        }
    }
    let decimal = f.get("decimal");
    line(format!(
        "decimal = {}",
        q(if decimal.is_empty() { "." } else { &decimal })
    ));
    let thousands = f.get("thousands");
    if !thousands.is_empty() {
        line(format!("thousands = {}", q(&thousands)));
    }
    let date_format = f.get("date_format");
    line(format!(
        "date_format = {}",
        q(if date_format.is_empty() {
            "%Y-%m-%d"
        } else {
            &date_format
        })
    ));
    let sku = f.list("sku");
    let memo = f.list("memo");
    line(String::new());
    line("[columns]".into());
    if !sku.is_empty() {
        line(format!("sku = {}", cols(&sku)));
    }
    if !memo.is_empty() {
        line(format!("memo = {}", cols(&memo)));
    }
    let kind_column = f.get("kind_column");
    if !kind_column.is_empty() {
        line(String::new());
        line("[kind_column]".into());
        line(format!("column = {}", col(&kind_column)));
        line("[kind_column.codes]".into());
        for l in f.get("kind_codes").lines().flat_map(|l| l.split(';')) {
            let l = l.trim();
            if l.is_empty() {
                continue;
            }
            let (code, kind) = l.split_once('=').unwrap_or((l, ""));
            line(format!("{} = {}", q(code.trim()), q(kind.trim())));
        }
    }
    line(String::new());
    line("[statement]".into());
    let split = f.raw("period_split");
    for (field, _) in STATEMENT {
        let from = f.get(&format!("{field}_from")).to_ascii_lowercase();
        let v = f.get(field);
        if v.is_empty() && from != "value" {
            continue;
        }
        let mut spec = match from.as_str() {
            "column" => format!("column = {}", col(&v)),
            "after" => format!("after = {}", q(&v)),
            "cell" => format!("cell = {}", q(&v)),
            "value" => format!("value = {}", q(&v)),
            "" => {
                // A value given without where it comes from: a column if one is named so.
                format!("value = {}", q(&v))
            }
            o => format!("{o} = {}", q(&v)),
        };
        if field.starts_with("period_")
            && !split.is_empty()
            && matches!(from.as_str(), "after" | "cell" | "column")
        {
            let part = if field == "period_start" { 1 } else { 2 };
            spec.push_str(&format!(", split = {}, part = {part}", q(&split)));
        }
        if from == "value" && matches!(field, "period_start" | "period_end" | "issued_on") {
            // A plain date value is written YYYY-MM-DD, as the schema asks.
            line(format!("{field} = {}", q(&v)));
        } else {
            line(format!("{field} = {{ {spec} }}"));
        }
    }
    line(String::new());
    line("[[lines]]".into());
    if kind_column.is_empty() {
        let kind = f.get("kind");
        line(format!(
            "kind = {}",
            q(if kind.is_empty() { "sale" } else { &kind })
        ));
    }
    let amount = f.get("amount");
    if !amount.is_empty() {
        line(format!("amount = {}", col(&amount)));
    }
    let units = f.get("units");
    if !units.is_empty() {
        line(format!("units = {}", col(&units)));
    }
    let sign = f.get("sign");
    if !sign.is_empty() && sign != "positive" {
        line(format!("sign = {}", q(&sign)));
    }
    let footer = f.get("footer");
    if let (false, Some(first)) = (footer.is_empty(), sku.first()) {
        line(String::new());
        line("[[rules]]".into());
        line(format!("column = {}", col(first)));
        line(format!("starts_with = {}", q(&footer)));
        line("action = \"stop\"".into());
    }
    let parsed = Mapping::parse(&t).map_err(|e| {
        if e.key.is_empty() {
            e.to_string()
        } else {
            format!("{}: {e}", form_label(&e.key))
        }
    });
    (t, parsed)
}

// ---------------------------------------------------------------------------------
// Preview

/// Everything a preview shows.
struct Built {
    sample_id: Option<String>,
    file_name: String,
    sample: Option<Sample>,
    /// Why the sample's rows could not be read (the engine's words).
    sample_errors: Vec<String>,
    headers: Vec<String>,
    fields: Fields,
    toml: String,
    /// The mapping is not valid: why.
    mapping_error: Option<String>,
    rows: Vec<backstock_mapping::Row>,
    rows_total: usize,
    /// The engine's and the importer's problems, located.
    errors: Vec<String>,
}

/// `known`: one of the label's distributors and its currency, standing in for what is
/// given at import.
fn overrides_of(f: &Fields, known: Option<(String, String)>) -> Overrides {
    // A statement field left to the import gets a stand-in, so the preview can run.
    let stand_in = |field: &str, v: &str| -> Option<String> {
        let from = f.get(&format!("{field}_from"));
        (from.is_empty() && f.get(field).is_empty()).then(|| v.to_string())
    };
    let o = f.get("import_distributor");
    let (d, c) = known.unwrap_or_else(|| ("distributor".into(), "USD".into()));
    Overrides {
        distributor: if o.is_empty() {
            stand_in("distributor", &d)
        } else {
            Some(o)
        },
        statement_id: stand_in("statement_id", "sample"),
        period_start: stand_in("period_start", "2000-01-01"),
        period_end: stand_in("period_end", "2000-01-31"),
        issued_on: stand_in("issued_on", "2000-02-01"),
        currency: stand_in("currency", &c),
    }
}

async fn run(
    state: &AppState,
    t: &Tenant,
    file: Option<(String, Vec<u8>)>,
    given: Fields,
) -> Result<Built, Fail> {
    let sample = sample_of(state, t, file, &given)?;
    let mut b = Built {
        sample_id: None,
        file_name: String::new(),
        sample: None,
        sample_errors: Vec::new(),
        headers: Vec::new(),
        fields: given.clone(),
        toml: String::new(),
        mapping_error: None,
        rows: Vec::new(),
        rows_total: 0,
        errors: Vec::new(),
    };
    let Some((id, name, bytes)) = sample else {
        let (toml, m) = build(&b.fields);
        b.toml = toml;
        b.mapping_error = m.err();
        return Ok(b);
    };
    b.sample_id = Some(id.clone());
    b.file_name = name.clone();
    let detected = backstock_mapping::detect_format(&bytes);
    let format = match given.get("format").to_ascii_lowercase().as_str() {
        "xlsx" => Format::Xlsx,
        "csv" => Format::Csv,
        _ => detected,
    };
    let delimiter = match given.get("delimiter").as_str() {
        "" => None,
        "tab" | "\t" => Some('\t'),
        d => d.chars().next(),
    };
    let sheet = given.get("sheet");
    let sheet = (!sheet.is_empty()).then_some(sheet.as_str());
    // Rows down to the header and MAX_PREVIEW_ROWS below it (header blocks are short).
    let header_hint = given.get("header_row").parse::<usize>().unwrap_or(0);
    let want = MAX_PREVIEW_ROWS
        .saturating_add(header_hint.min(200))
        .max(60);
    match backstock_mapping::read_sample(&bytes, format, delimiter, sheet, want) {
        Ok(s) => {
            let mut g = guess(&s, &given);
            g.set("sample", id.clone());
            g.set("name", name_of_file(&name));
            b.fields = given.over(g);
            b.fields.set("sample", id);
            let header_row = b.fields.get("header_row").parse::<u64>().unwrap_or(1);
            b.headers = header_names(&s, header_row);
            b.sample = Some(s);
        }
        Err(errs) => {
            b.sample_errors = errs.iter().map(|e| format!("{name}:{e}")).collect();
            b.fields.set("sample", id);
        }
    }
    let (toml, m) = build(&b.fields);
    b.toml = toml;
    match m {
        Err(e) => b.mapping_error = Some(e),
        Ok(m) => {
            let known = t
                .store()
                .import_lookups()
                .await?
                .agreements
                .into_iter()
                .next();
            let p = app::preview(
                t.store(),
                &bytes,
                &name,
                &m,
                &overrides_of(&b.fields, known),
                MAX_PREVIEW_ROWS,
            )
            .await?;
            b.rows = p.rows;
            b.rows_total = p.total;
            b.errors = p.errors;
        }
    }
    Ok(b)
}

/// How many of the sample's rows to show: [`MAX_PREVIEW_ROWS`], or down to a few rows
/// under a header further down.
fn shown_rows(s: &Sample, header_row: u64) -> usize {
    let through_header = s.rows.iter().take_while(|r| r.line <= header_row).count();
    MAX_PREVIEW_ROWS.max(through_header.saturating_add(5))
}

fn preview_json(b: &Built) -> Value {
    let sample_rows: Vec<Value> = b
        .sample
        .as_ref()
        .map(|s| {
            s.rows
                .iter()
                .take(shown_rows(
                    s,
                    b.fields.get("header_row").parse::<u64>().unwrap_or(1),
                ))
                .map(|r| json!({"line": r.line, "cells": r.cells}))
                .collect()
        })
        .unwrap_or_default();
    let rows: Vec<Value> = b
        .rows
        .iter()
        .map(|r| {
            let mut o = serde_json::Map::new();
            o.insert("line".into(), json!(r.line));
            for (k, v) in COLUMNS.iter().zip(&r.fields) {
                o.insert((*k).into(), json!(v));
            }
            Value::Object(o)
        })
        .collect();
    json!({
        "sample": b.sample_id,
        "file_name": b.file_name,
        "sample_rows": sample_rows,
        "sample_errors": b.sample_errors,
        "header_row": b.fields.get("header_row").parse::<u64>().ok(),
        "columns": b.headers,
        "fields": b.fields.to_json(),
        "toml": b.toml,
        "mapping_error": b.mapping_error,
        "rows": rows,
        "rows_total": b.rows_total,
        "errors": b.errors,
        "ok": b.mapping_error.is_none() && b.errors.is_empty() && b.sample_errors.is_empty(),
    })
}

// ---------------------------------------------------------------------------------
// Pages

fn list_html(list: &[app::Summary]) -> String {
    let mut h = String::from(
        r#"<table id="mappings-list"><thead><tr><th>Name</th><th>Format</th><th>Source</th><th>Description</th></tr></thead><tbody>"#,
    );
    for m in list {
        h.push_str(&format!(
            "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            esc(&m.name),
            m.format,
            m.source,
            esc(&m.description)
        ));
    }
    h.push_str("</tbody></table>");
    h
}

fn upload_form(t: &Tenant) -> String {
    format!(
        r#"<form id="sample-form" class="stack" method="post" enctype="multipart/form-data" action="/t/{}/mappings/preview?csrf={}">
<label for="sample-file">A sample of the distributor's file (CSV or XLSX)</label><input id="sample-file" name="file" type="file" required>
<button class="primary" type="submit">Preview</button></form>
<p class="note">The file is only read to build the mapping: nothing is recorded. Import it afterwards on the Import page with the mapping saved here.</p>"#,
        url_encode(t.slug()),
        esc(&url_encode(t.viewer.csrf()))
    )
}

pub async fn page_get(t: Tenant) -> Result<Html<String>, Fail> {
    let list = app::summaries(t.store()).await?;
    let body = format!(
        "<section><h2>New mapping from a sample</h2>{}</section><section><h2>Mappings</h2>{}</section>",
        upload_form(&t),
        list_html(&list)
    );
    Ok(page("Mappings", Some(&t), &body))
}

fn select(id: &str, name: &str, current: &str, options: &[(String, String)]) -> String {
    let mut h = format!(r#"<select id="{id}" name="{name}">"#);
    let mut found = false;
    for (v, label) in options {
        let sel = if v == current {
            found = true;
            " selected"
        } else {
            ""
        };
        h.push_str(&format!(
            r#"<option value="{}"{sel}>{}</option>"#,
            esc(v),
            esc(label)
        ));
    }
    if !found && !current.is_empty() {
        h.push_str(&format!(
            r#"<option value="{0}" selected>{0}</option>"#,
            esc(current)
        ));
    }
    h.push_str("</select>");
    h
}

fn render(t: &Tenant, b: &Built, result: Option<&str>) -> String {
    let s = url_encode(t.slug());
    let csrf = esc(&url_encode(t.viewer.csrf()));
    let f = &b.fields;
    let mut h = String::new();
    if let Some(r) = result {
        h.push_str(&format!(
            r#"<p id="mapping-result" class="okbox">{}</p><p><a id="mapping-import" href="/t/{s}/import">Import a file with it</a></p>"#,
            esc(r)
        ));
    }
    // The sample's first rows.
    h.push_str(&format!("<section><h2>Sample: {}</h2>", esc(&b.file_name)));
    if !b.sample_errors.is_empty() {
        h.push_str(r#"<p>The sample cannot be read:</p><ol id="sample-errors" class="err">"#);
        for e in &b.sample_errors {
            h.push_str(&format!("<li>{}</li>", esc(e)));
        }
        h.push_str("</ol>");
    }
    let header_row = f.get("header_row").parse::<u64>().unwrap_or(1);
    if let Some(sample) = &b.sample {
        let width = sample.rows.iter().map(|r| r.cells.len()).max().unwrap_or(0);
        h.push_str(r#"<div class="scroll"><table id="sample-rows"><thead><tr><th>Line</th>"#);
        for i in 0..width {
            h.push_str(&format!("<th>{}</th>", i + 1));
        }
        h.push_str("</tr></thead><tbody>");
        let shown = shown_rows(sample, header_row);
        for r in sample.rows.iter().take(shown) {
            let (open, cell) = if r.line == header_row {
                (r#"<tr class="hdr" id="sample-header">"#, "th")
            } else {
                ("<tr>", "td")
            };
            h.push_str(&format!("{open}<td>{}</td>", r.line));
            for i in 0..width {
                h.push_str(&format!(
                    "<{cell}>{}</{cell}>",
                    esc(r.cells.get(i).map(String::as_str).unwrap_or(""))
                ));
            }
            h.push_str("</tr>");
        }
        h.push_str("</tbody></table></div>");
        h.push_str(&format!(
            r#"<p class="note">Header row: line {header_row} (0 = no header){}.</p>"#,
            if sample.more {
                "; the first rows only"
            } else {
                ""
            }
        ));
    }
    h.push_str("</section>");

    // The form: every choice, prefilled.
    let mut colopts: Vec<(String, String)> = vec![(String::new(), "—".into())];
    colopts.extend(b.headers.iter().map(|c| (c.clone(), c.clone())));
    let colsel = |id: &str, name: &str, cur: &str| select(id, name, cur, &colopts);
    let text = |id: &str, name: &str, v: &str, ph: &str| {
        format!(
            r#"<input id="{id}" name="{name}" value="{}" placeholder="{}" list="mapping-columns">"#,
            esc(v),
            esc(ph)
        )
    };
    let opts = |v: &[&str]| -> Vec<(String, String)> {
        v.iter().map(|x| (x.to_string(), x.to_string())).collect()
    };
    h.push_str(&format!(
        r#"<section><h2>Which column is which</h2><form id="mapping-form" class="stack" method="post" enctype="multipart/form-data" action="/t/{s}/mappings/preview?csrf={csrf}">
<input type="hidden" name="sample" value="{}">"#,
        esc(&f.get("sample"))
    ));
    h.push_str(r#"<datalist id="mapping-columns">"#);
    for c in &b.headers {
        h.push_str(&format!(r#"<option value="{}">"#, esc(c)));
    }
    h.push_str("</datalist>");
    h.push_str(&format!(
        r#"<label for="m-name">Name (what Import offers)</label><input id="m-name" name="name" value="{}" placeholder="my-distributor">
<label for="m-description">Description</label><input id="m-description" name="description" value="{}">
<fieldset><legend>The file</legend>
<label for="m-format">Format</label>{}
<label for="m-delimiter">Delimiter (CSV)</label>{}
<label for="m-sheet">Sheet (XLSX: name or number; empty = the first)</label><input id="m-sheet" name="sheet" value="{}">
<label for="m-header-row">Header row (line of the column names; 0 = none)</label><input id="m-header-row" name="header_row" value="{}" inputmode="numeric">
<label for="m-skip">Rows to skip under the header</label><input id="m-skip" name="skip_rows_after_header" value="{}" inputmode="numeric">
<label for="m-date-format">Date format</label>{}
<label for="m-decimal">Decimal separator</label>{}
<label for="m-thousands">Thousands separator (empty = usual)</label><input id="m-thousands" name="thousands" value="{}">
</fieldset>"#,
        esc(&f.get("name")),
        esc(&f.get("description")),
        select("m-format", "format", &f.get("format"), &opts(&["csv", "xlsx"])),
        select("m-delimiter", "delimiter", &f.get("delimiter"), &[(",".into(), "comma ,".into()), (";".into(), "semicolon ;".into()), ("tab".into(), "tab".into()), ("|".into(), "bar |".into())]),
        esc(&f.get("sheet")),
        esc(&f.get("header_row")),
        esc(&f.get("skip_rows_after_header")),
        select("m-date-format", "date_format", &f.get("date_format"), &[("%Y-%m-%d".into(), "2016-03-31".into()), ("%m/%d/%Y".into(), "03/31/2016".into()), ("%d/%m/%Y".into(), "31/03/2016".into()), ("%d.%m.%Y".into(), "31.03.2016".into()), ("%d-%m-%Y".into(), "31-03-2016".into())]),
        select("m-decimal", "decimal", &f.get("decimal"), &[(".".into(), "point: 1,234.56".into()), (",".into(), "comma: 1.234,56".into())]),
        esc(&f.get("thousands")),
    ));
    h.push_str(r#"<fieldset><legend>The statement</legend><p class="note">Where each value is: a column of the rows, the text after a label in the header block above the header row (such as "Statement No:"), a cell (B3), a fixed value — or given when importing.</p>"#);
    let froms: Vec<(String, String)> = vec![
        (String::new(), "given at import".into()),
        ("column".into(), "column".into()),
        ("after".into(), "after the label".into()),
        ("cell".into(), "cell".into()),
        ("value".into(), "value".into()),
    ];
    for (field, label) in STATEMENT {
        let id = field.replace('_', "-");
        h.push_str(&format!(
            r#"<label for="m-{id}">{label}</label><span class="row">{}{}</span>"#,
            select(
                &format!("m-{id}-from"),
                &format!("{field}_from"),
                &f.get(&format!("{field}_from")),
                &froms
            ),
            text(&format!("m-{id}"), field, &f.get(field), ""),
        ));
    }
    h.push_str(&format!(
        r#"<label for="m-period-split">Start and end in one cell, separated by</label><input id="m-period-split" name="period_split" value="{}" placeholder=" - "></fieldset>"#,
        esc(&f.raw("period_split"))
    ));
    let sku = f.list("sku");
    let memo = f.list("memo");
    let kinds: Vec<(String, String)> = opts(&KINDS[..7]);
    h.push_str(&format!(
        r#"<fieldset><legend>The lines</legend>
<label for="m-kind-column">Kind column (the distributor's codes)</label>{}
<label for="m-kind-codes">Codes → kinds, one per line: CODE = sale, return, fee, reserve_withheld, reserve_released, chargeback, adjustment or skip</label><textarea id="m-kind-codes" name="kind_codes" rows="4">{}</textarea>
<label for="m-kind">Without a kind column, every row is a</label>{}
<label for="m-sku">SKU / UPC column</label>{}
<label for="m-sku2">… else this one when empty</label>{}
<label for="m-units">Units</label>{}
<label for="m-amount">Amount</label>{}
<label for="m-sign">Sign of the amount</label>{}
<label for="m-memo">Memo</label>{}
<label for="m-memo2">More memo</label>{}
<label for="m-footer">A row whose SKU starts with this ends the data</label><input id="m-footer" name="footer" value="{}" placeholder="TOTAL">
</fieldset>
<label for="m-import-distributor">Preview as distributor (only for the preview, when it is given at import)</label><input id="m-import-distributor" name="import_distributor" value="{}">
<label for="m-file">Another sample (optional)</label><input id="m-file" name="file" type="file">
<button id="mapping-preview" class="primary" type="submit">Preview</button> <button id="mapping-save" class="primary" type="submit" formaction="/t/{s}/mappings?csrf={csrf}">Save mapping</button></form></section>"#,
        colsel("m-kind-column", "kind_column", &f.get("kind_column")),
        esc(&f.get("kind_codes")),
        select("m-kind", "kind", &f.get("kind"), &kinds),
        colsel("m-sku", "sku", sku.first().map(String::as_str).unwrap_or("")),
        colsel("m-sku2", "sku", sku.get(1).map(String::as_str).unwrap_or("")),
        colsel("m-units", "units", &f.get("units")),
        colsel("m-amount", "amount", &f.get("amount")),
        select("m-sign", "sign", &f.get("sign"), &[("positive".into(), "positive: the amount of the row's kind (negative = the opposite)".into()), ("net".into(), "net: money to the label positive, deductions negative".into())]),
        colsel("m-memo", "memo", memo.first().map(String::as_str).unwrap_or("")),
        colsel("m-memo2", "memo", memo.get(1).map(String::as_str).unwrap_or("")),
        esc(&f.get("footer")),
        esc(&f.get("import_distributor")),
    ));

    // What the mapping gives.
    h.push_str("<section><h2>The canonical rows it gives</h2>");
    if let Some(e) = &b.mapping_error {
        h.push_str(&format!(
            r#"<ol id="mapping-errors" class="err"><li>{}</li></ol>"#,
            esc(e)
        ));
    } else if !b.errors.is_empty() {
        h.push_str(r#"<p>Importing the sample with this mapping would fail; nothing would be recorded:</p><ol id="mapping-errors" class="err">"#);
        for e in &b.errors {
            h.push_str(&format!("<li>{}</li>", esc(e)));
        }
        h.push_str("</ol>");
    }
    if !b.rows.is_empty() {
        h.push_str(r#"<div class="scroll"><table id="mapping-rows"><thead><tr><th>Line</th>"#);
        for c in COLUMNS {
            h.push_str(&format!("<th>{c}</th>"));
        }
        h.push_str("</tr></thead><tbody>");
        for r in &b.rows {
            h.push_str(&format!("<tr><td>{}</td>", r.line));
            for v in &r.fields {
                h.push_str(&format!("<td>{}</td>", esc(v)));
            }
            h.push_str("</tr>");
        }
        h.push_str("</tbody></table></div>");
        if b.rows_total > b.rows.len() {
            h.push_str(&format!(
                r#"<p class="note">The first {} of {} rows.</p>"#,
                b.rows.len(),
                b.rows_total
            ));
        }
    }
    let asked: Vec<&str> = STATEMENT
        .iter()
        .map(|(field, _)| *field)
        .filter(|field| f.get(&format!("{field}_from")).is_empty() && f.get(field).is_empty())
        .collect();
    if !asked.is_empty() {
        h.push_str(&format!(
            r#"<p id="mapping-asked" class="note">Given at import: {} (the preview stands in the label's first distributor and sample values).</p>"#,
            asked.join(", ")
        ));
    }
    h.push_str(&format!(
        r#"</section><section><h2>The mapping (TOML, as <code>backstock mapping show</code> prints it)</h2><pre id="mapping-toml">{}</pre></section>"#,
        esc(&b.toml)
    ));
    h
}

pub async fn preview_post(
    State(state): State<AppState>,
    t: Tenant,
    m: Multipart,
) -> Result<Html<String>, Fail> {
    let (file, fields) = read_multipart(m).await?;
    if file.is_none() && fields.get("sample").is_empty() {
        return Err(Fail::bad("choose a sample file to upload"));
    }
    let b = run(&state, &t, file, fields).await?;
    Ok(page(
        "Mapping from a sample",
        Some(&t),
        &render(&t, &b, None),
    ))
}

/// Saves what the fields say: refused (with the reason) when the mapping is not valid.
async fn save(state: &AppState, t: &Tenant, b: &Built) -> Result<app::Saved, Fail> {
    if let Some(e) = &b.mapping_error {
        return Err(Fail::bad(format!("the mapping is not saved: {e}")));
    }
    let saved = app::save(t.store(), &b.toml).await?;
    t.audit(
        &state.control,
        "mapping_saved",
        &format!(
            "{} ({}){}",
            saved.name,
            b.fields.get("format"),
            if saved.replaced {
                ", replacing the one saved before"
            } else {
                ""
            }
        ),
    )
    .await?;
    Ok(saved)
}

fn saved_sentence(s: &app::Saved) -> String {
    format!(
        "Saved mapping {0}{1}. Import a file with it: choose {0} under Mapping on the Import page (or backstock import FILE --mapping {0}).",
        s.name,
        if s.replaced { " (it replaces the one saved before under that name)" } else { "" }
    )
}

pub async fn save_post(
    State(state): State<AppState>,
    t: Tenant,
    m: Multipart,
) -> Result<Response, Fail> {
    let (file, fields) = read_multipart(m).await?;
    let b = run(&state, &t, file, fields).await?;
    match save(&state, &t, &b).await {
        Ok(s) => Ok(page(
            "Mapping saved",
            Some(&t),
            &render(&t, &b, Some(&saved_sentence(&s))),
        )
        .into_response()),
        Err(e) if e.status == 400 => {
            let body = format!(
                r#"<p id="mapping-refused" class="err">{}</p>{}"#,
                esc(&e.message),
                render(&t, &b, None)
            );
            Ok((
                StatusCode::BAD_REQUEST,
                page("Mapping not saved", Some(&t), &body),
            )
                .into_response())
        }
        Err(e) => Err(e),
    }
}

// ---------------------------------------------------------------------------------
// API

pub async fn api_list(t: Tenant) -> Result<Json<Value>, Fail> {
    Ok(Json(json!({"mappings": app::summaries(t.store()).await?})))
}

pub async fn api_preview(
    State(state): State<AppState>,
    t: Tenant,
    m: Multipart,
) -> Result<Json<Value>, Fail> {
    let (file, fields) = read_multipart(m).await?;
    if file.is_none() && fields.get("sample").is_empty() {
        return Err(Fail::bad(
            "a sample is needed: the `file` part, or `sample` (an id a preview answered)",
        ));
    }
    let b = run(&state, &t, file, fields).await?;
    Ok(Json(preview_json(&b)))
}

/// Saves a mapping: `{"toml": "…"}`, or the builder's fields (with `sample` for the
/// defaults a sample suggests).
pub async fn api_save(
    State(state): State<AppState>,
    t: Tenant,
    Body(v): Body<Value>,
) -> Result<Json<Value>, Fail> {
    let fields = Fields::from_json(&v)?;
    let toml = fields.get("toml");
    if !toml.is_empty() {
        let saved = app::save(t.store(), &toml).await?;
        t.audit(
            &state.control,
            "mapping_saved",
            &format!(
                "{} (TOML){}",
                saved.name,
                if saved.replaced {
                    ", replacing the one saved before"
                } else {
                    ""
                }
            ),
        )
        .await?;
        return Ok(Json(json!({"saved": saved, "toml": toml})));
    }
    let b = run(&state, &t, None, fields).await?;
    let saved = save(&state, &t, &b).await?;
    Ok(Json(
        json!({"saved": saved, "toml": b.toml, "preview": preview_json(&b)}),
    ))
}

pub const SAVE_FIELDS: &[(&str, &str)] = &[
    (
        "toml",
        "a whole mapping as TOML (as `backstock mapping add` takes); else the builder's fields:",
    ),
    (
        "sample",
        "the id of a sample a preview answered (its defaults are used)",
    ),
    ("name", "the mapping's name"),
    ("sku", "the SKU/UPC column(s)"),
    ("amount", "the amount column"),
    ("units", "the units column"),
    ("kind_column", "the kind codes column (or `kind`)"),
    ("kind_codes", "`CODE = kind` per line"),
];

#[cfg(test)]
mod tests {
    use super::*;

    fn fields(pairs: &[(&str, &str)]) -> Fields {
        let mut f = Fields::default();
        for (k, v) in pairs {
            f.0.entry(k.to_string()).or_default().push(v.to_string());
        }
        f
    }

    #[test]
    fn a_header_block_sample_is_guessed_and_built() {
        let csv = "Statement No:,ABC-7\nStatement Period:,01/01/2016 - 01/31/2016\nCurrency:,USD\n\nUPC,Title,Type,Units,Net $\n859712000019,Harbor Lights,Sale,5,40.00\n859712000019,Harbor Lights,Return,1,8.00\nTOTAL,,,4,32.00\n";
        let s =
            backstock_mapping::read_sample(csv.as_bytes(), Format::Csv, None, None, 60).unwrap();
        let g = guess(&s, &Fields::default());
        let upc = s.rows.iter().find(|r| r.cells[0] == "UPC").unwrap().line;
        assert_eq!(g.get("header_row"), upc.to_string());
        assert_eq!(g.list("sku"), vec!["UPC"]);
        assert_eq!(g.get("amount"), "Net $");
        assert_eq!(g.get("units"), "Units");
        assert_eq!(g.get("kind_column"), "Type");
        assert_eq!(g.get("kind_codes"), "Sale = sale\nReturn = return");
        assert_eq!(
            (
                g.get("statement_id_from").as_str(),
                g.get("statement_id").as_str()
            ),
            ("after", "Statement No:")
        );
        assert_eq!(g.0["period_split"], vec![" - ".to_string()]);
        assert_eq!(g.get("date_format"), "%m/%d/%Y");
        assert_eq!(g.get("footer"), "TOTAL");
        let f = fields(&[("name", "acme")]).over(g);
        let (toml, m) = build(&f);
        let m = m.unwrap_or_else(|e| panic!("{e}\n{toml}"));
        assert_eq!(m.name(), "acme");
        let rows = backstock_mapping::convert_csv(
            &m,
            csv.as_bytes(),
            &Overrides {
                distributor: Some("acme".into()),
                issued_on: Some("2016-02-05".into()),
                ..Default::default()
            },
        )
        .unwrap_or_else(|e| panic!("{e:?}\n{toml}"));
        assert_eq!(rows.len(), 2);
        assert_eq!(rows[0].fields[0], "ABC-7");
        assert_eq!(rows[0].fields[2], "2016-01-01");
        assert_eq!(rows[1].fields[5], "return");
    }

    /// A US distributor's header (indie-dist-us's): the amount guessed is a money
    /// column, never `Net Units`; the units are those sold, not returned.
    #[test]
    fn the_amount_guessed_is_money_and_the_units_those_sold() {
        let csv = "UPC,Catalog #,Title,Units Returned,Units Sold,Net Units,Gross Sales $,Returns $,Net $\n199758300217,FR-1,X,6,120,114,\"$1,680.00\",($84.00),\"$1,276.80\"\n199758300224,FR-2,Y,0,45,45,$355.50,$0.00,$284.40\n";
        let s =
            backstock_mapping::read_sample(csv.as_bytes(), Format::Csv, None, None, 60).unwrap();
        let g = guess(&s, &Fields::default());
        assert_eq!(g.get("amount"), "Net $");
        assert_eq!(g.get("units"), "Units Sold");
    }

    /// Dates are read in the order the sample writes them: `05/03/2016` alone could be
    /// either, `13/03/2016` below it says day first (a UK statement's rows were read as
    /// May and November); two-digit years too.
    #[test]
    fn the_date_order_is_taken_from_every_date_of_the_sample() {
        let guessed = |dates: &[&str]| {
            let mut csv = String::from("Date,UPC,Units,Amount\n");
            for d in dates {
                csv.push_str(&format!("{d},199758300217,1,14.00\n"));
            }
            let s = backstock_mapping::read_sample(csv.as_bytes(), Format::Csv, None, None, 60)
                .unwrap();
            guess(&s, &Fields::default()).get("date_format")
        };
        assert_eq!(guessed(&["05/03/2016", "13/03/2016"]), "%d/%m/%Y");
        assert_eq!(guessed(&["05/03/2016", "05/13/2016"]), "%m/%d/%Y");
        assert_eq!(guessed(&["05/03/2016", "06/03/2016"]), "%m/%d/%Y");
        assert_eq!(guessed(&["3/5/16", "3/15/16"]), "%m/%d/%y");
        assert_eq!(guessed(&["05.03.2016"]), "%d.%m.%Y");
        assert_eq!(guessed(&["2016-03-05"]), "%Y-%m-%d");
    }

    #[test]
    fn a_bad_choice_names_the_field() {
        let (_, m) = build(&fields(&[("name", "x"), ("amount", "Net")]));
        let e = m.unwrap_err();
        assert!(
            e.starts_with("SKU/UPC column: mapping key `columns.sku`"),
            "{e}"
        );
        let (_, m) = build(&fields(&[
            ("name", "bad name!"),
            ("amount", "Net"),
            ("sku", "UPC"),
        ]));
        assert!(m.unwrap_err().starts_with("Name: "));
    }
}
