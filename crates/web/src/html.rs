//! HTML for people: escaping, the page layout, and [`Grid`], a table that sorts on the
//! server (`?sort=column` / `?sort=-column`) and downloads as CSV
//! (`?format=csv&table=ID`). Pages work without JavaScript.

use crate::auth::Tenant;
use crate::roles::Perm;
use axum::http::header;
use axum::response::{Html, IntoResponse, Response};
use std::cmp::Ordering;
use std::collections::HashMap;

pub use backstock_royalty_statement::esc;

pub fn url_encode(s: &str) -> String {
    let mut o = String::new();
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || b"-_.~/".contains(&b) {
            o.push(b as char);
        } else {
            o.push_str(&format!("%{b:02X}"));
        }
    }
    o
}

pub const CSS: &str = r#"
:root{--ink:#1d2330;--muted:#5b6475;--line:#d9dde5;--bg:#f7f8fa;--accent:#2456a6;--ok:#2e7d32;--watch:#b7791f;--alert:#c0392b;--critical:#7b1020}
*{box-sizing:border-box}body{margin:0;font:15px/1.45 system-ui,-apple-system,"Segoe UI",sans-serif;color:var(--ink);background:var(--bg)}
header{background:#1d2330;color:#fff;padding:.6rem 1.2rem;display:flex;gap:1.2rem;align-items:center;flex-wrap:wrap}
header a{color:#dfe6f3;text-decoration:none}header a:hover{text-decoration:underline}header .who{margin-left:auto;font-size:.9em}
header form{display:inline}header button{background:none;border:1px solid #7a8499;color:#fff;border-radius:4px;padding:.15rem .5rem;cursor:pointer}
main{max-width:1200px;margin:1rem auto;padding:0 1.2rem}h1{font-size:1.5rem;margin:.4rem 0 1rem}h2{font-size:1.15rem;margin:1.6rem 0 .5rem}
section{background:#fff;border:1px solid var(--line);border-radius:6px;padding:.8rem 1rem;margin-bottom:1rem;overflow-x:auto}
table{border-collapse:collapse;width:100%;font-size:.92em}th,td{padding:.3rem .5rem;border-bottom:1px solid var(--line);text-align:left;vertical-align:top}
th a{color:inherit;text-decoration:none}th a:hover{text-decoration:underline}td.n,th.n{text-align:right;font-variant-numeric:tabular-nums}
.tools{font-size:.85em;margin:.3rem 0;color:var(--muted)}.tools a{color:var(--accent)}
.level{display:inline-block;padding:0 .45rem;border-radius:3px;color:#fff;font-size:.85em;font-weight:600;text-transform:uppercase}
.level-ok{background:var(--ok)}.level-watch{background:var(--watch)}.level-alert{background:var(--alert)}.level-critical{background:var(--critical)}
.note{color:var(--muted);font-size:.9em}.err{background:#fdecea;border:1px solid #f5c2bd;padding:.6rem .8rem;border-radius:4px;white-space:pre-wrap;font-family:ui-monospace,monospace;font-size:.88em}
.okbox{background:#e8f5e9;border:1px solid #b7dfb9;padding:.6rem .8rem;border-radius:4px;white-space:pre-wrap;font-family:ui-monospace,monospace;font-size:.88em}
.warnbox{background:#fff4e5;border:1px solid #f3c98b;padding:.6rem .8rem;border-radius:4px}ol.steps li{margin:.3rem 0}
form.stack label{display:block;margin:.5rem 0 .15rem;font-weight:600}form.stack input,form.stack select{padding:.35rem;min-width:18rem;max-width:100%}
button.primary{background:var(--accent);color:#fff;border:0;border-radius:4px;padding:.45rem 1rem;margin-top:.8rem;cursor:pointer}
.grid2{display:grid;grid-template-columns:repeat(auto-fit,minmax(320px,1fr));gap:1rem}svg text{font:11px system-ui,sans-serif;fill:var(--muted)}
form.inline{display:inline}dl{display:grid;grid-template-columns:max-content 1fr;gap:.2rem 1rem;margin:0}dt{color:var(--muted)}dd{margin:0}
"#;

/// A whole page. `tenant` gives the navigation for the member's role.
pub fn page(title: &str, tenant: Option<&Tenant>, body: &str) -> Html<String> {
    let mut nav = String::new();
    let mut who = String::new();
    if let Some(t) = tenant {
        let s = url_encode(t.slug());
        nav.push_str(&format!("<strong>{}</strong>", esc(&t.row.name)));
        let links: [(&str, &str, Perm); 13] = [
            ("dashboard", "Dashboard", Perm::ReadLabel),
            ("distributors", "Distributors", Perm::ReadLabel),
            ("deductions", "Deductions", Perm::ReadLabel),
            ("catalog", "Catalog", Perm::Catalog),
            ("royalties", "Royalties", Perm::ReadLabel),
            ("statements", "Statements", Perm::Statements),
            ("payouts", "Payouts", Perm::Statements),
            ("shipments", "Shipments & orders", Perm::Shipments),
            ("import", "Import", Perm::Import),
            ("mappings", "Mappings", Perm::Mappings),
            ("users", "Users", Perm::Manage),
            ("thresholds", "Thresholds", Perm::Manage),
            ("audit", "Audit log", Perm::Manage),
        ];
        #[cfg(feature = "lines")]
        let links = links
            .into_iter()
            .chain([("lines", "Sales lines", Perm::Statements)]);
        for (path, label, p) in links {
            if t.may(p) {
                nav.push_str(&format!(
                    r#"<a id="nav-{path}" href="/t/{s}/{path}">{label}</a>"#
                ));
            }
        }
        who = format!(
            r#"<span class="who"><a href="/account">{}</a> · {} · <form method="post" action="/logout"><input type="hidden" name="csrf" value="{}"><button id="logout" type="submit">Sign out</button></form></span>"#,
            esc(&t.viewer.user.email),
            t.role(),
            esc(t.viewer.csrf())
        );
    }
    Html(format!(
        r#"<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1"><title>{} — backstock</title><link rel="stylesheet" href="/static/app.css"></head><body><header><a href="/"><strong>backstock</strong></a>{nav}{who}</header><main><h1>{}</h1>{body}</main></body></html>"#,
        esc(title),
        esc(title)
    ))
}

/// A page for a signed-in user outside any label (account, label chooser).
pub fn plain_page(title: &str, email: Option<(&str, &str)>, body: &str) -> Html<String> {
    let who = match email {
        Some((e, csrf)) => format!(
            r#"<span class="who"><a href="/account">{}</a> · <form method="post" action="/logout"><input type="hidden" name="csrf" value="{}"><button id="logout" type="submit">Sign out</button></form></span>"#,
            esc(e),
            esc(csrf)
        ),
        None => String::new(),
    };
    Html(format!(
        r#"<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1"><title>{} — backstock</title><link rel="stylesheet" href="/static/app.css"></head><body><header><a href="/"><strong>backstock</strong></a>{who}</header><main><h1>{}</h1>{body}</main></body></html>"#,
        esc(title),
        esc(title)
    ))
}

/// `back`: the page a refused form came from (a path of this site), linked so the
/// user returns to it (the browser's Back keeps what was typed).
pub fn error_page(status: u16, message: &str, back: Option<&str>) -> Html<String> {
    let title = match status {
        400 => "That did not work",
        403 => "Not allowed",
        404 => "Not found",
        409 => "Refused",
        429 => "Too many attempts",
        _ => "Something went wrong",
    };
    plain_page(
        title,
        None,
        &format!(
            r#"<section><p id="error-message" class="err">{}</p><p>{}<a href="/">Home</a></p></section>"#,
            esc(message),
            back.map(|b| format!(
                r#"<a id="error-back" href="{}">Back to the form</a> (or your browser's Back button, which keeps what you typed) · "#,
                esc(b)
            ))
            .unwrap_or_default()
        ),
    )
}

pub fn level_badge(level: &str) -> String {
    format!(
        r#"<span class="level level-{}">{}</span>"#,
        esc(level),
        esc(level)
    )
}

/// One cell: what is shown (HTML-escaped on output), how it sorts, what CSV gets.
#[derive(Debug, Clone)]
pub struct Cell {
    pub text: String,
    pub sort: SortKey,
    pub csv: String,
    /// Shown as raw HTML (already escaped by the caller) when set.
    pub html: Option<String>,
    /// An amount's currency (ISO code): the CSV writes the amount as a plain number
    /// and this in a `currency` column beside it ([`Cell::money`]).
    pub currency: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub enum SortKey {
    Num(i64),
    Text(String),
}

impl Cell {
    pub fn text(s: impl Into<String>) -> Cell {
        let s = s.into();
        Cell {
            sort: SortKey::Text(s.to_lowercase()),
            csv: s.clone(),
            text: s,
            html: None,
            currency: None,
        }
    }
    /// A number shown formatted, sorted and exported by its value.
    pub fn num(shown: String, value: i64, csv: String) -> Cell {
        Cell {
            text: shown,
            sort: SortKey::Num(value),
            csv,
            html: None,
            currency: None,
        }
    }
    /// An amount: shown in the label's format, sorted by its minor units, and in the
    /// CSV a plain number (no thousands separators, no sign of the currency) with its
    /// currency in a `currency` column beside it.
    pub fn money(l: &crate::format::Locale, m: backstock_domain::Money) -> Cell {
        Cell {
            currency: Some(m.currency().code().to_string()),
            ..Cell::num(l.money(m), m.minor(), m.to_decimal_string())
        }
    }
    /// A sentence from a lower crate shown in the label's formats
    /// ([`Locale::sentence`](crate::format::Locale::sentence)); the CSV keeps it as
    /// written.
    pub fn sentence(l: &crate::format::Locale, s: impl Into<String>) -> Cell {
        let s = s.into();
        Cell {
            text: l.sentence(&s),
            ..Cell::text(s)
        }
    }
    pub fn link(s: impl Into<String>, href: &str) -> Cell {
        let s: String = s.into();
        let mut c = Cell::text(s.clone());
        c.html = Some(format!(r#"<a href="{}">{}</a>"#, esc(href), esc(&s)));
        c
    }
    pub fn badge(level: &str, rank: i64) -> Cell {
        Cell {
            text: level.to_string(),
            sort: SortKey::Num(rank),
            csv: level.to_string(),
            html: Some(level_badge(level)),
            currency: None,
        }
    }
}

pub struct Grid {
    pub id: &'static str,
    pub columns: Vec<(&'static str, bool)>,
    pub rows: Vec<Vec<Cell>>,
}

impl Grid {
    /// Columns as (name, numeric).
    pub fn new(id: &'static str, columns: &[(&'static str, bool)]) -> Grid {
        Grid {
            id,
            columns: columns.to_vec(),
            rows: Vec::new(),
        }
    }

    pub fn push(&mut self, row: Vec<Cell>) {
        self.rows.push(row);
    }

    fn col_key(name: &str) -> String {
        name.to_ascii_lowercase().replace([' ', '-'], "_")
    }

    /// Sorts by `?sort=` when it names one of this grid's columns (`-` for descending,
    /// `id.column` to pick a grid on a page with several).
    pub fn sort(&mut self, q: &HashMap<String, String>) {
        let Some(s) = q.get("sort") else { return };
        let s = match s.split_once('.') {
            Some((g, c)) if g == self.id => c,
            Some(_) => return,
            None => s.as_str(),
        };
        let (desc, name) = match s.strip_prefix('-') {
            Some(n) => (true, n),
            None => (false, s),
        };
        let Some(i) = self
            .columns
            .iter()
            .position(|(c, _)| Self::col_key(c) == name)
        else {
            return;
        };
        self.rows.sort_by(|a, b| {
            let o = match (a.get(i), b.get(i)) {
                (Some(x), Some(y)) => x.sort.cmp(&y.sort),
                _ => Ordering::Equal,
            };
            if desc {
                o.reverse()
            } else {
                o
            }
        });
    }

    /// CSV of the grid, through the product's one neutralizing writer
    /// (`backstock_domain::csv`): text that a spreadsheet would run as a formula (`=`,
    /// `+`, `@`, or `-` not starting a number) is prefixed with `'`: uploaded files
    /// are not trusted. Amounts ([`Cell::money`]) are plain numbers with their
    /// currency in a `currency` column after the last amount column ([`CsvLayout`]).
    pub fn csv(&self) -> String {
        let layout = CsvLayout::of(&self.columns, &self.rows);
        let mut out = layout.header(&self.columns);
        for r in &self.rows {
            out.push_str(&layout.row(r));
        }
        out
    }

    /// The table, with sort links in the header and a CSV link. `base` is the page's
    /// path. At most [`PAGE_ROWS`](crate::paging::PAGE_ROWS) rows are shown, from
    /// `?ID.from=N` (0 by default), with links to the next and previous pages that
    /// keep the sort; the CSV has every row.
    pub fn html(&self, base: &str, q: &HashMap<String, String>) -> String {
        let current = q.get("sort").cloned().unwrap_or_default();
        // `base` may carry a query of its own (`?as_of=…`).
        let sep = if base.contains('?') { "&amp;" } else { "?" };
        let n = self.rows.len();
        let per = crate::paging::PAGE_ROWS;
        let from = q
            .get(&format!("{}.from", self.id))
            .and_then(|v| v.trim().parse::<usize>().ok())
            .unwrap_or(0)
            .min(n.saturating_sub(1) / per * per);
        let to = (from + per).min(n);
        let at = |start: usize| {
            let sort = if current.is_empty() {
                String::new()
            } else {
                format!("sort={}&amp;", url_encode(&current))
            };
            format!("{}{sep}{sort}{}.from={start}", esc(base), self.id)
        };
        let mut pager = String::new();
        if n > per {
            pager.push_str(&format!(" · showing {}–{to}", from + 1));
            if from > 0 {
                pager.push_str(&format!(
                    r#" · <a id="prev-{}" href="{}">previous {per}</a>"#,
                    self.id,
                    at(from.saturating_sub(per))
                ));
            }
            if to < n {
                pager.push_str(&format!(
                    r#" · <a id="next-{}" href="{}">next {}</a>"#,
                    self.id,
                    at(to),
                    per.min(n - to)
                ));
            }
        }
        let mut h = format!(
            r#"<div class="tools"><a id="csv-{id}" href="{base}{sep}format=csv&amp;table={id}">Download CSV</a> · {n} row{s}{pager}</div><table id="table-{id}"><thead><tr>"#,
            id = self.id,
            base = esc(base),
            s = if n == 1 { "" } else { "s" }
        );
        for (c, numeric) in &self.columns {
            let key = format!("{}.{}", self.id, Self::col_key(c));
            let next = if current == key {
                format!("-{key}")
            } else {
                key.clone()
            };
            let arrow = if current == key {
                " ▲"
            } else if current == format!("-{key}") {
                " ▼"
            } else {
                ""
            };
            h.push_str(&format!(
                r#"<th{}><a href="{}{sep}sort={}">{}{arrow}</a></th>"#,
                if *numeric { r#" class="n""# } else { "" },
                esc(base),
                url_encode(&next),
                esc(c)
            ));
        }
        h.push_str("</tr></thead><tbody>");
        if self.rows.is_empty() {
            h.push_str(&format!(
                r#"<tr><td colspan="{}" class="note">Nothing to show.</td></tr>"#,
                self.columns.len()
            ));
        }
        for r in &self.rows[from.min(n)..to] {
            h.push_str("<tr>");
            for (i, c) in r.iter().enumerate() {
                let numeric = self.columns.get(i).map(|x| x.1).unwrap_or(false);
                let inner = c.html.clone().unwrap_or_else(|| esc(&c.text));
                h.push_str(&format!(
                    "<td{}>{inner}</td>",
                    if numeric { r#" class="n""# } else { "" }
                ));
            }
            h.push_str("</tr>");
        }
        h.push_str("</tbody></table>");
        h
    }
}

/// Where a grid's CSV writes the currencies of its amounts: one `currency` column
/// after the last amount column (each row's amounts share a currency), or, when a row
/// mixes currencies, a `<column> currency` column after each amount column. A grid
/// that has a `currency` column of its own gets none added.
#[derive(Debug, Clone)]
struct CsvLayout {
    /// Columns holding amounts (a cell with a currency in some row).
    money: Vec<bool>,
    per_column: bool,
}

impl CsvLayout {
    fn of(columns: &[(&'static str, bool)], rows: &[Vec<Cell>]) -> CsvLayout {
        let n = rows.iter().map(Vec::len).max().unwrap_or(0);
        let mut money = vec![false; n.max(columns.len())];
        let mut per_column = false;
        if columns.iter().any(|(c, _)| *c == "currency") {
            return CsvLayout { money, per_column };
        }
        for r in rows {
            let mut first: Option<&str> = None;
            for (i, c) in r.iter().enumerate() {
                if let Some(cur) = c.currency.as_deref() {
                    money[i] = true;
                    match first {
                        None => first = Some(cur),
                        Some(f) if f != cur => per_column = true,
                        Some(_) => {}
                    }
                }
            }
        }
        CsvLayout { money, per_column }
    }

    fn last_amount(&self) -> Option<usize> {
        self.money.iter().rposition(|m| *m)
    }

    /// Cells (as CSV text, not yet neutralized) with the currencies put in.
    fn cells<'a>(&self, texts: impl Iterator<Item = (String, Option<&'a str>)>) -> Vec<String> {
        let texts: Vec<(String, Option<&str>)> = texts.collect();
        let row_currency = texts.iter().find_map(|(_, c)| *c).unwrap_or("");
        let last = self.last_amount();
        let mut out = Vec::new();
        for (i, (text, cur)) in texts.iter().enumerate() {
            out.push(text.clone());
            if self.money.get(i).copied().unwrap_or(false) && self.per_column {
                out.push(cur.unwrap_or("").to_string());
            } else if !self.per_column && last == Some(i) {
                out.push(row_currency.to_string());
            }
        }
        out
    }

    fn header(&self, columns: &[(&'static str, bool)]) -> String {
        let last = self.last_amount();
        let mut out = Vec::new();
        for (i, (c, _)) in columns.iter().enumerate() {
            out.push(c.to_string());
            if self.money.get(i).copied().unwrap_or(false) && self.per_column {
                out.push(format!("{c} currency"));
            } else if !self.per_column && last == Some(i) {
                out.push("currency".to_string());
            }
        }
        Self::line(out)
    }

    fn row(&self, r: &[Cell]) -> String {
        Self::line(self.cells(r.iter().map(|c| (c.csv.clone(), c.currency.as_deref()))))
    }

    fn line(cells: Vec<String>) -> String {
        let mut out = cells
            .iter()
            .map(|c| backstock_domain::csv::cell(c).into_owned())
            .collect::<Vec<_>>()
            .join(",");
        out.push('\n');
        out
    }
}

impl Grid {
    /// The CSV download of this grid, streamed: rows are written a chunk at a time as
    /// the client reads them, and dropped once written (the whole CSV is never held as
    /// one text). Each chunk goes through [`Grid::csv`], the one CSV writer.
    pub fn csv_response(self) -> Response {
        let disposition = format!("attachment; filename=\"{}.csv\"", self.id);
        let layout = CsvLayout::of(&self.columns, &self.rows);
        let header = layout.header(&self.columns);
        let body = axum::body::Body::from_stream(CsvChunks {
            layout,
            header: Some(header),
            rows: self.rows.into_iter(),
        });
        (
            [
                (header::CONTENT_TYPE, "text/csv; charset=utf-8".to_string()),
                (header::CONTENT_DISPOSITION, disposition),
            ],
            body,
        )
            .into_response()
    }
}

/// Rows written per chunk of a streamed CSV.
const CSV_CHUNK_ROWS: usize = 500;

/// A grid's CSV, [`CSV_CHUNK_ROWS`] rows at a time.
struct CsvChunks {
    layout: CsvLayout,
    header: Option<String>,
    rows: std::vec::IntoIter<Vec<Cell>>,
}

impl futures_core::Stream for CsvChunks {
    type Item = Result<String, std::convert::Infallible>;

    fn poll_next(
        mut self: std::pin::Pin<&mut Self>,
        _: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Option<Self::Item>> {
        if let Some(h) = self.header.take() {
            return std::task::Poll::Ready(Some(Ok(h)));
        }
        let rows: Vec<Vec<Cell>> = self.rows.by_ref().take(CSV_CHUNK_ROWS).collect();
        if rows.is_empty() {
            return std::task::Poll::Ready(None);
        }
        let body: String = rows.iter().map(|r| self.layout.row(r)).collect();
        std::task::Poll::Ready(Some(Ok(body)))
    }
}

/// For a page's CSV link: when the query asks for one of `grids` as CSV, its
/// download streamed ([`Grid::csv_response`]) as `Err`; otherwise the grids back.
pub fn csv_or_grids<const N: usize>(
    grids: [Grid; N],
    q: &HashMap<String, String>,
) -> Result<[Grid; N], Box<Response>> {
    if q.get("format").map(String::as_str) != Some("csv") {
        return Ok(grids);
    }
    let at = match q.get("table") {
        None => Some(0),
        Some(w) => grids.iter().position(|g| g.id == w),
    };
    match at {
        Some(i) => Err(Box::new(
            grids
                .into_iter()
                .nth(i)
                .map(Grid::csv_response)
                .unwrap_or_else(|| axum::http::StatusCode::NOT_FOUND.into_response()),
        )),
        // No such table: the download says which there are (no CSV is written).
        None => {
            let refs: Vec<&Grid> = grids.iter().collect();
            Err(Box::new(csv_download(&refs, q).unwrap_or_else(|| {
                axum::http::StatusCode::BAD_REQUEST.into_response()
            })))
        }
    }
}

/// When the query asks for one of `grids` as CSV, that download.
pub fn csv_download(grids: &[&Grid], q: &HashMap<String, String>) -> Option<Response> {
    if q.get("format").map(String::as_str) != Some("csv") {
        return None;
    }
    let want = q.get("table").map(String::as_str);
    let g = match want {
        None => grids.first()?,
        Some(w) => match grids.iter().find(|g| g.id == w) {
            Some(g) => g,
            // Never another table than the one asked for: say which there are.
            None => {
                let names: Vec<&str> = grids.iter().map(|g| g.id).collect();
                return Some(
                    (
                        axum::http::StatusCode::BAD_REQUEST,
                        [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
                        format!(
                            "There is no table {w:?} on this page; its tables are: {}.\n",
                            names.join(", ")
                        ),
                    )
                        .into_response(),
                );
            }
        },
    };
    Some(
        (
            [
                (header::CONTENT_TYPE, "text/csv; charset=utf-8".to_string()),
                (
                    header::CONTENT_DISPOSITION,
                    format!("attachment; filename=\"{}.csv\"", g.id),
                ),
            ],
            g.csv(),
        )
            .into_response(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn grid_sorts_and_exports() {
        let mut g = Grid::new("t", &[("name", false), ("open", true)]);
        g.push(vec![
            Cell::text("b"),
            Cell::num("$2".into(), 200, "2.00".into()),
        ]);
        g.push(vec![
            Cell::text("a, inc"),
            Cell::num("$10".into(), 1000, "10.00".into()),
        ]);
        let mut q = HashMap::new();
        q.insert("sort".to_string(), "-open".to_string());
        g.sort(&q);
        assert_eq!(g.rows[0][0].text, "a, inc");
        q.insert("sort".to_string(), "t.name".to_string());
        g.sort(&q);
        assert_eq!(g.rows[0][0].text, "a, inc");
        assert_eq!(g.csv(), "name,open\n\"a, inc\",10.00\nb,2.00\n");
        assert!(g.html("/x", &q).contains("sort=-t.name"));
        assert_eq!(esc("<a href=\"x\">"), "&lt;a href=&quot;x&quot;&gt;");
        let mut f = Grid::new("f", &[("memo", false), ("amount", true)]);
        f.push(vec![
            Cell::text("=HYPERLINK(1)"),
            Cell::num("-$1".into(), -100, "-1.00".into()),
        ]);
        f.push(vec![
            Cell::text("-cmd"),
            Cell::num("-1".into(), -1, "-1".into()),
        ]);
        assert_eq!(f.csv(), "memo,amount\n'=HYPERLINK(1),-1.00\n'-cmd,-1\n");
        assert_eq!(url_encode("/a b?"), "/a%20b%3F");
    }

    #[test]
    fn amounts_go_out_as_plain_numbers_with_their_currency() {
        use backstock_domain::{Currency, Money};
        let l = crate::format::Locale::new("en-US", "USD");
        let usd = |m| Money::from_minor(m, Currency::parse("USD").unwrap());
        let eur = |m| Money::from_minor(m, Currency::parse("EUR").unwrap());
        let mut g = Grid::new("t", &[("who", false), ("open", true), ("limit", true)]);
        g.push(vec![
            Cell::text("a"),
            Cell::money(&l, usd(914_520)),
            Cell::money(&l, usd(100)),
        ]);
        g.push(vec![Cell::text("b"), Cell::text(""), Cell::text("")]);
        assert_eq!(
            g.csv(),
            "who,open,limit,currency\na,9145.20,1.00,USD\nb,,,\n"
        );
        // A row mixing currencies: a currency after each amount.
        g.push(vec![
            Cell::text("c"),
            Cell::money(&l, eur(5)),
            Cell::money(&l, usd(7)),
        ]);
        assert_eq!(
            g.csv(),
            "who,open,open currency,limit,limit currency\na,9145.20,USD,1.00,USD\nb,,,,\nc,0.05,EUR,0.07,USD\n"
        );
    }
}
