//! Import through the web: upload → preview (a dry run: what would be recorded, or
//! every error with its line) → confirm. Nothing is recorded until the confirm. The
//! uploaded bytes wait server-side under `DIR/uploads/<one-time id>/`, bound to the
//! uploader and the tenant; confirming or discarding removes them.
//!
//! A distributor member may upload only statements and stock reports (canonical,
//! mapped, EDI or DSR), and every entry must be its own: anything else refuses the
//! whole file.

use crate::auth::{Scope, Tenant};
use crate::control::{self, PendingUpload};
use crate::format::Locale;
use crate::{AppState, Fail};
use backstock_app::import::{self, ImportOptions};
use backstock_domain::Date;
use backstock_ingest::Kind;
use backstock_ledger::{Entry, Event, Fact};
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};
use std::sync::Mutex;

/// The largest upload accepted (bytes).
pub const MAX_UPLOAD: usize = 64 << 20;

/// What the uploader chose besides the file.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Choices {
    /// A file kind (`statements`, `x12` …); empty = detect from the header.
    pub kind: Option<String>,
    /// A mapping name for a distributor's own layout; empty = canonical.
    pub mapping: Option<String>,
    /// Who sent an EDI/DSR/mapped file.
    pub distributor: Option<String>,
    pub statement_id: Option<String>,
    pub period_start: Option<String>,
    pub period_end: Option<String>,
    pub issued_on: Option<String>,
    pub currency: Option<String>,
    /// Statement lines with a code the catalog does not know are held for an alias
    /// (the unmatched queue on the Record page) instead of refusing the file.
    #[serde(default)]
    pub hold_unmatched: Option<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Preview {
    /// Present when the file can be recorded: confirm with it.
    pub upload_id: Option<String>,
    pub file_name: String,
    /// What would be recorded (one line per file).
    pub report: String,
    /// Every error, one per line, each naming the file line (empty when fine).
    pub errors: Vec<String>,
    /// The entries that would be recorded (the first [`PREVIEW_ROWS`]).
    pub entries: Vec<EntryLine>,
    /// How many entries would be recorded in all.
    pub entries_total: usize,
    /// How many entries of the file the journal already holds with the same details
    /// (recorded from another file): skipped, not refused.
    pub already_recorded: usize,
    /// Their ids (the first [`PREVIEW_ROWS`]).
    pub already_recorded_ids: Vec<String>,
}

/// Seconds a previewed upload waits for its confirmation.
pub const UPLOAD_TTL: i64 = 24 * 3600;

/// Entries listed in a preview.
pub const PREVIEW_ROWS: usize = 500;

/// One entry as a preview lists it.
#[derive(Debug, Clone, Serialize)]
pub struct EntryLine {
    pub id: String,
    pub kind: &'static str,
    pub effective_on: backstock_domain::Date,
    pub known_on: backstock_domain::Date,
    pub party: Option<String>,
    pub sku: Option<String>,
    pub units: Option<i64>,
    #[serde(serialize_with = "crate::views::amount_opt")]
    pub amount: Option<backstock_domain::Money>,
}

/// What an entry is about, in one line.
pub fn describe(e: &Entry) -> EntryLine {
    use backstock_ledger::LineKind;
    let u = |n: u64| Some(i64::try_from(n).unwrap_or(i64::MAX));
    let (party, sku, units, amount) = match &e.event {
        Event::Statement(st) => {
            let mut units = 0i64;
            let mut net = 0i64;
            for l in &st.lines {
                let (du, da) = match l.kind {
                    LineKind::Sale => (l.units, l.amount_minor),
                    LineKind::Return => (-l.units, -l.amount_minor),
                    LineKind::ReserveReleased | LineKind::Adjustment => (0, l.amount_minor),
                    LineKind::Fee | LineKind::ReserveWithheld | LineKind::Chargeback => {
                        (0, -l.amount_minor)
                    }
                };
                units = units.saturating_add(du);
                net = net.saturating_add(da);
            }
            (
                Some(st.distributor.to_string()),
                None,
                Some(units),
                Some(backstock_domain::Money::from_minor(net, st.currency)),
            )
        }
        Event::Shipment { to, sku, units, .. } => {
            (Some(to.to_string()), Some(sku.to_string()), u(*units), None)
        }
        Event::PaymentReceived {
            distributor,
            amount,
            ..
        } => (Some(distributor.to_string()), None, None, Some(*amount)),
        Event::Manufacture { to, sku, units, .. } => {
            (Some(to.to_string()), Some(sku.to_string()), u(*units), None)
        }
        Event::Fact(Fact::PurchaseOrder(p)) => (
            Some(p.distributor.to_string()),
            Some(p.sku.to_string()),
            u(p.units),
            None,
        ),
        Event::Fact(Fact::StockReport(r)) => (
            Some(r.distributor.to_string()),
            Some(r.sku.to_string()),
            Some(r.units_on_hand),
            None,
        ),
        Event::Fact(Fact::CatalogItem(c)) => {
            (None, Some(c.sku.to_string()), None, Some(c.wholesale_price))
        }
        Event::Fact(Fact::Agreement(a)) => (
            Some(a.distributor.to_string()),
            None,
            None,
            Some(a.credit_limit),
        ),
        _ => (None, None, None, None),
    };
    EntryLine {
        id: e.id.to_string(),
        kind: e.event.name(),
        effective_on: e.effective_on,
        known_on: e.known_on,
        party,
        sku,
        units,
        amount,
    }
}

fn blank(s: &Option<String>) -> Option<String> {
    s.as_ref()
        .map(|x| x.trim().to_string())
        .filter(|x| !x.is_empty())
}

/// The upload page's statement values (for mapped files) typed as the label shows
/// dates (`31/12/2016` for en-GB), written in ISO as the import takes them. Only the
/// label's own format besides ISO: anything else is left for the import to refuse.
/// (The API takes ISO only, as every tool writes it.)
pub fn label_dates(l: &Locale, mut c: Choices) -> Choices {
    for v in [&mut c.period_start, &mut c.period_end, &mut c.issued_on] {
        let typed = v.as_deref().map(str::trim).unwrap_or("");
        if typed.is_empty() || Date::parse(typed).is_ok() {
            continue;
        }
        if let Some(d) = l.parse_date(typed) {
            *v = Some(d.to_string());
        }
    }
    c
}

/// An import error line as the upload page says it: when a date in the file is not
/// written YYYY-MM-DD, which format files take, and — for a date written as this label
/// shows dates — the value to write instead. The line (file, line, column, value)
/// is kept as the importer wrote it.
pub fn date_hint(l: &Locale, line: &str) -> String {
    if !line.contains("expected a date written YYYY-MM-DD") || l.date_pattern() == "YYYY-MM-DD" {
        return line.to_string();
    }
    // The importer's own suggestion knows no locale ("write 2016-05-31 if that is the
    // date meant"): the label's locale decides here instead, and never guesses another
    // order.
    let own = line.find(" (write ").and_then(|at| {
        line[at..]
            .find(" if that is the date meant)")
            .map(|end| (at, at + end + " if that is the date meant)".len()))
    });
    let stripped;
    let line = match own {
        Some((a, b)) => {
            stripped = format!("{}{}", &line[..a], &line[b..]);
            stripped.as_str()
        }
        None => line,
    };
    let Some(found) = line
        .split_once("found \"")
        .and_then(|(_, rest)| rest.split_once('"'))
        .map(|(v, _)| v.trim())
    else {
        return line.to_string();
    };
    let shows = l.date_pattern();
    let example = l.date(Date::from_ymd(2016, 12, 31).unwrap_or(Date::EARLIEST));
    match l.parse_date(found) {
        Some(d) => format!(
            "{line} — files take dates as YYYY-MM-DD, not as this label shows them ({shows}): write {d}"
        ),
        None => format!(
            "{line} — files take dates as YYYY-MM-DD (2016-12-31); this label shows dates as {shows} ({example}), and {found:?} is not a date in that format either"
        ),
    }
}

/// A file name safe to write: its last component, letters, digits, `.-_` only.
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
        .collect();
    let s = s.trim_start_matches('.').to_string();
    if s.is_empty() {
        "upload.csv".into()
    } else {
        s.chars().take(120).collect()
    }
}

fn options(t: &Tenant, c: &Choices, dry_run: bool) -> Result<ImportOptions, Fail> {
    let chosen = match blank(&c.kind) {
        Some(k) if k != "auto" => Some(import::FileKind::parse(&k).ok_or_else(|| {
            Fail::bad(format!(
                "kind {k:?}: expected one of {}, x12, dsr",
                import::FileKind::names().join(", ")
            ))
        })?),
        _ => None,
    };
    let (kind, royalty) = match chosen {
        Some(import::FileKind::Ledger(k)) => (Some(k), None),
        Some(import::FileKind::Royalty(r)) => (None, Some(r)),
        None => (None, None),
    };
    if royalty.is_some() && matches!(t.scope, Scope::Distributor(_)) {
        return Err(Fail::new(
            403,
            "forbidden",
            "a distributor may upload only statements and stock reports",
        ));
    }
    let mut distributor = blank(&c.distributor);
    if let Scope::Distributor(own) = &t.scope {
        if let Some(k) = kind {
            if !matches!(
                k,
                Kind::Statements | Kind::StockReports | Kind::X12 | Kind::Dsr
            ) {
                return Err(Fail::new(
                    403,
                    "forbidden",
                    "a distributor may upload only statements and stock reports",
                ));
            }
        }
        if distributor.as_deref().is_some_and(|d| d != own) {
            return Err(Fail::new(
                403,
                "forbidden",
                "a distributor may upload only for its own account",
            ));
        }
        distributor = Some(own.clone());
    }
    Ok(ImportOptions {
        kind,
        royalty,
        dry_run,
        encoding: None,
        hold_unmatched: blank(&c.hold_unmatched)
            .is_some_and(|v| matches!(v.as_str(), "on" | "true" | "yes" | "1")),
        overrides: backstock_mapping::Overrides {
            distributor: distributor.clone(),
            statement_id: blank(&c.statement_id),
            period_start: blank(&c.period_start),
            period_end: blank(&c.period_end),
            issued_on: blank(&c.issued_on),
            currency: blank(&c.currency),
        },
        distributor,
        mapping: blank(&c.mapping),
    })
}

/// A distributor member's upload of a kind it may not record is refused before
/// anything else is said of it (not even that its bytes were imported before): its
/// kind as the header says it, when the form left the kind to the header.
fn distributor_may_upload(t: &Tenant, opts: &ImportOptions, bytes: &[u8]) -> Result<(), Fail> {
    if !matches!(t.scope, Scope::Distributor(_)) || opts.kind.is_some() || opts.mapping.is_some() {
        return Ok(());
    }
    let head = &bytes[..bytes.len().min(16 * 1024)];
    let encoding = backstock_ingest::Encoding::sniff(head);
    let mut text = String::new();
    let _ = std::io::Read::read_to_string(
        &mut backstock_ingest::Decoder::new(head, encoding),
        &mut text,
    );
    let royalty_file =
        backstock_app::royalties::files::RoyaltyFile::detect(text.lines().next().unwrap_or(""))
            .is_some();
    let kind = Kind::sniff(head).or_else(|| import::detect_kind(head, encoding));
    // A header of no kind at all is the import's to say (400), not a refusal.
    match kind {
        Some(Kind::Statements | Kind::StockReports | Kind::X12 | Kind::Dsr) => Ok(()),
        None if !royalty_file => Ok(()),
        _ => Err(Fail::new(
            403,
            "forbidden",
            "a distributor may upload only statements and stock reports (this file's header is neither)",
        )),
    }
}

/// Whether a distributor member may record this entry.
fn own_entry(own: &str, e: &Entry) -> Result<(), String> {
    let party = match &e.event {
        Event::Statement(s) => Some(&s.distributor),
        Event::Fact(Fact::StockReport(r)) => Some(&r.distributor),
        _ => None,
    };
    match party {
        Some(p) if p.as_str() == own => Ok(()),
        Some(p) => Err(format!(
            "entry {} is for {p}; you may upload only for {own}",
            e.id
        )),
        None => Err(format!(
            "entry {} is not a statement or stock report; a distributor may upload only those",
            e.id
        )),
    }
}

/// Runs the import (or its dry run), listing what it reads into `seen`.
async fn run(
    t: &Tenant,
    path: &Path,
    opts: &ImportOptions,
    seen: &Mutex<(Vec<EntryLine>, usize)>,
) -> Result<import::ImportOutcome, backstock_app::AppError> {
    let paths = [path.to_path_buf()];
    let own = match &t.scope {
        Scope::Distributor(own) => Some(own.clone()),
        _ => None,
    };
    let check = move |e: &Entry| -> Result<(), String> {
        if let Some(own) = &own {
            own_entry(own, e)?;
        }
        if let Ok(mut s) = seen.lock() {
            s.1 += 1;
            if s.0.len() < PREVIEW_ROWS {
                s.0.push(describe(e));
            }
        }
        Ok(())
    };
    import::import_checked(t.store(), &paths, opts, &check).await
}

/// The upload directory's path written as the uploaded file's own name.
/// A report or error of the import as the uploader should read it: file names without
/// the server's upload folder, and the command line's `--kind` hint as the form's choice.
fn shown(text: &str, dir: &Path) -> String {
    let prefix = format!("{}/", dir.display());
    text.replace(&prefix, "").replace(
        "or give --kind",
        "or choose the file's kind under Kind and upload it again",
    )
}

/// Why a confirmed import was refused (the import's own message, as
/// [`confirm`] returns it), said in the app's words with the label's dates, numbers
/// and money: what was not recorded, which line of the file asked for what, and what
/// to do — without the command line's wording.
pub fn refusal_in_words(l: &Locale, message: &str) -> String {
    let mut lines = message.lines().map(str::trim);
    let first = lines.next().unwrap_or("");
    // "(NAME: nothing was recorded from this file)", the import's last line.
    let file = message
        .lines()
        .filter_map(|x| x.trim().strip_prefix('('))
        .find_map(|x| x.strip_suffix(": nothing was recorded from this file)"))
        .unwrap_or("this file");
    let said = || {
        format!(
            "Nothing was recorded from {file}: {}.",
            l.sentence(first.trim_end_matches('.'))
        )
    };
    // "entry ID (KIND on DATE): WHAT", the ledger's refusal of one entry.
    let Some((head, what)) = first
        .strip_prefix("entry ")
        .and_then(|x| x.split_once("): "))
    else {
        return said();
    };
    let Some((id, kind_on)) = head.split_once(" (") else {
        return said();
    };
    let Some((kind, on)) = kind_on.split_once(" on ") else {
        return said();
    };
    let on = Date::parse(on)
        .map(|d| l.date(d))
        .unwrap_or_else(|_| on.to_string());
    // The file's own id of the line: `shipment:S9:SKU` → S9.
    let line_id = id.split(':').nth(1).unwrap_or(id);
    let kind = kind.replace('_', " ");
    // "needs N units of SKU from HOLDER, which holds only M".
    let units = what
        .strip_prefix("needs ")
        .and_then(|x| x.split_once(" units of "))
        .and_then(|(n, rest)| {
            let (sku, rest) = rest.split_once(" from ")?;
            let (holder, held) = rest.split_once(", which holds only ")?;
            Some((
                n.parse::<i64>().ok()?,
                sku,
                holder,
                held.parse::<i64>().ok()?,
            ))
        });
    match units {
        Some((n, sku, holder, held)) => {
            let from = if holder == "label" {
                "the label's own warehouse".to_string()
            } else {
                holder.to_string()
            };
            let mut out = format!(
                "Nothing was recorded from {file}: {kind} {line_id} on {on} takes {} units of {sku} from {from}, which holds only {} of them on that day.",
                l.int(n),
                l.int(held)
            );
            if holder == "label" {
                out.push_str(" If the label had this stock before it started with backstock, upload an opening.csv first — one line stock,DATE,label,SKU,UNITS,,,, for each release, dated on or before this file's first date — then upload this file again.");
            }
            out
        }
        None => format!(
            "Nothing was recorded from {file}: {kind} {line_id} on {on} was refused: {}.",
            l.sentence(what.trim_end_matches('.'))
        ),
    }
}

fn upload_dir(state: &AppState, id: &str) -> PathBuf {
    state.config.data_dir.join("uploads").join(id)
}

/// Keeps the file, previews it, and (when it would record) registers the one-time id.
pub async fn preview(
    state: &AppState,
    t: &Tenant,
    file_name: &str,
    bytes: &[u8],
    c: &Choices,
) -> Result<Preview, Fail> {
    if bytes.is_empty() {
        return Err(Fail::bad("the file is empty (choose a file to upload)"));
    }
    let opts = options(t, c, true)?;
    distributor_may_upload(t, &opts, bytes)?;
    // Previews left a day unconfirmed are dropped with their files.
    for old in state.control.expire_uploads(UPLOAD_TTL).await? {
        let _ = std::fs::remove_dir_all(upload_dir(state, &old));
    }
    let id = control::random_token()?[..32].to_string();
    let dir = upload_dir(state, &id);
    let name = safe_name(file_name);
    std::fs::create_dir_all(&dir)
        .map_err(|e| Fail::internal(format!("keeping the upload: {e}")))?;
    let path = dir.join(&name);
    std::fs::write(&path, bytes).map_err(|e| Fail::internal(format!("keeping the upload: {e}")))?;
    let seen = Mutex::new((Vec::new(), 0));
    let result = run(t, &path, &opts, &seen).await;
    let (entries, seen_total) = seen.into_inner().unwrap_or_default();
    match result {
        Ok(outcome) => {
            // What would be recorded: the entries read less those already recorded.
            let skipped: std::collections::HashSet<&str> = outcome
                .already_recorded
                .iter()
                .map(String::as_str)
                .collect();
            let entries: Vec<EntryLine> = entries
                .into_iter()
                .filter(|e| !skipped.contains(e.id.as_str()))
                .collect();
            let entries_total = seen_total.saturating_sub(skipped.len());
            state
                .control
                .add_upload(&PendingUpload {
                    id: id.clone(),
                    user_id: t.viewer.user.id,
                    tenant: t.slug().to_string(),
                    path,
                    options: serde_json::to_string(c).unwrap_or_default(),
                })
                .await?;
            Ok(Preview {
                upload_id: Some(id),
                file_name: name,
                report: shown(&outcome.report, &dir),
                errors: Vec::new(),
                entries,
                entries_total,
                already_recorded: outcome.already_recorded.len(),
                already_recorded_ids: outcome
                    .already_recorded
                    .iter()
                    .take(PREVIEW_ROWS)
                    .cloned()
                    .collect(),
            })
        }
        Err(e) => {
            let _ = std::fs::remove_dir_all(&dir);
            if !matches!(
                e.exit(),
                backstock_app::Exit::Input | backstock_app::Exit::Refused
            ) {
                return Err(e.into());
            }
            let errors = shown(e.message(), &dir)
                .lines()
                .map(str::to_string)
                .filter(|l| !l.trim().is_empty())
                .collect();
            Ok(Preview {
                upload_id: None,
                file_name: name,
                report: String::new(),
                errors,
                entries: Vec::new(),
                entries_total: 0,
                already_recorded: 0,
                already_recorded_ids: Vec::new(),
            })
        }
    }
}

/// Records a previewed upload (once). Returns the import report.
pub async fn confirm(state: &AppState, t: &Tenant, id: &str) -> Result<String, Fail> {
    let gone =
        || Fail::not_found("no such upload waiting (already confirmed, discarded, or not yours)");
    let u = state
        .control
        .upload(id, t.viewer.user.id, t.slug())
        .await?
        .ok_or_else(gone)?;
    if !state.control.take_upload(&u.id).await? {
        return Err(gone());
    }
    let dir = upload_dir(state, &u.id);
    let c: Choices = serde_json::from_str(&u.options).unwrap_or_default();
    #[cfg(feature = "lines")]
    let before = t.store().last_seq().await?.unwrap_or(0);
    let result = match options(t, &c, false) {
        Ok(opts) => run(t, &u.path, &opts, &Mutex::new((Vec::new(), 0)))
            .await
            .map(|o| o.report)
            .map_err(Fail::from),
        Err(f) => Err(f),
    };
    // Built with the feature, the lines of the statement files recorded are written as
    // Parquet (as `backstock import` does); a file that cannot be is said, and the
    // import stands.
    #[cfg(feature = "lines")]
    let result = match result {
        Ok(mut report) => {
            report.push_str(&lines_written(state, t, before).await);
            Ok(report)
        }
        e => e,
    };
    let _ = std::fs::remove_dir_all(&dir);
    let name = u
        .path
        .file_name()
        .map(|n| n.to_string_lossy().to_string())
        .unwrap_or_default();
    match result {
        Ok(report) => {
            let report = shown(&report, &dir);
            t.audit(&state.control, "import", report.trim_end()).await?;
            Ok(report)
        }
        Err(mut f) => {
            f.message = shown(&f.message, &dir);
            t.audit(
                &state.control,
                "import_failed",
                &format!("{name}: {}", f.message),
            )
            .await?;
            Err(f)
        }
    }
}

/// The lines of the statement files recorded after entry `before`, written under the
/// label's `lines` directory; what was written or not, as report lines.
#[cfg(feature = "lines")]
pub(crate) async fn lines_written(state: &AppState, t: &Tenant, before: i64) -> String {
    let dir = state.control.label_dir(t.slug()).join("lines");
    let to = match backstock_lines::Location::default_or(&dir) {
        Ok(to) => to,
        Err(e) => return format!("Lines: not written as Parquet: {}\n", e.message()),
    };
    match backstock_lines::rebuild::write_recorded_since(t.store(), t.slug(), before, &to).await {
        Ok(r) => {
            let mut s = String::new();
            let n: u64 = r.files.iter().map(|f| f.lines).sum();
            if !r.files.is_empty() {
                s.push_str(&format!(
                    "Lines: {n} statement line{} written as Parquet for the Sales lines page.\n",
                    if n == 1 { "" } else { "s" }
                ));
            }
            for (name, why) in &r.failed {
                s.push_str(&format!("Lines: {name}: not written as Parquet: {why}\n"));
            }
            s
        }
        Err(e) => format!("Lines: not written as Parquet: {}\n", e.message()),
    }
}

/// Drops a previewed upload without recording anything.
pub async fn discard(state: &AppState, t: &Tenant, id: &str) -> Result<(), Fail> {
    let u = state
        .control
        .upload(id, t.viewer.user.id, t.slug())
        .await?
        .ok_or_else(|| Fail::not_found("no such upload waiting"))?;
    state.control.take_upload(&u.id).await?;
    let _ = std::fs::remove_dir_all(upload_dir(state, &u.id));
    Ok(())
}

/// Reads a multipart form: the `file` part and the text fields.
pub async fn read_form(
    mut m: axum::extract::Multipart,
) -> Result<(String, Vec<u8>, Choices), Fail> {
    let mut name = String::new();
    let mut bytes = Vec::new();
    let mut c = Choices::default();
    while let Some(field) = m
        .next_field()
        .await
        .map_err(|e| Fail::bad(format!("the upload form is malformed: {e}")))?
    {
        let key = field.name().unwrap_or("").to_string();
        if key == "file" {
            name = field.file_name().unwrap_or("upload.csv").to_string();
            bytes = field
                .bytes()
                .await
                .map_err(|e| Fail::new(413, "too_large", format!("reading the upload: {e}")))?
                .to_vec();
            continue;
        }
        let v = field
            .text()
            .await
            .map_err(|e| Fail::bad(format!("field {key}: {e}")))?;
        let slot = match key.as_str() {
            "kind" => &mut c.kind,
            "mapping" => &mut c.mapping,
            "distributor" => &mut c.distributor,
            "statement_id" => &mut c.statement_id,
            "period_start" => &mut c.period_start,
            "period_end" => &mut c.period_end,
            "issued_on" => &mut c.issued_on,
            "currency" => &mut c.currency,
            "hold_unmatched" => &mut c.hold_unmatched,
            _ => continue,
        };
        *slot = Some(v);
    }
    Ok((name, bytes, c))
}

/// Mapping names the uploader can choose: saved ones, then shipped ones.
pub async fn mapping_names(t: &Tenant) -> Result<Vec<String>, Fail> {
    let mut names: Vec<String> = t
        .store()
        .meta_with_prefix("mapping:")
        .await?
        .into_iter()
        .map(|(k, _)| k.trim_start_matches("mapping:").to_string())
        .collect();
    for (n, _) in backstock_mapping::builtin() {
        if !names.iter().any(|x| x == n) {
            names.push(n.to_string());
        }
    }
    Ok(names)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_made_safe() {
        assert_eq!(safe_name("../../etc/passwd"), "passwd");
        assert_eq!(safe_name("C:\\x\\stmt 2016.csv"), "stmt_2016.csv");
        assert_eq!(safe_name(".."), "upload.csv");
        assert_eq!(
            shown("/d/u/x.csv:3: bad", Path::new("/d/u")),
            "x.csv:3: bad"
        );
        assert_eq!(
            shown("/d/u/x.csv:1: no known kind (see docs), or give --kind", Path::new("/d/u")),
            "x.csv:1: no known kind (see docs), or choose the file's kind under Kind and upload it again"
        );
    }

    #[test]
    fn dates_in_the_labels_format() {
        let gb = Locale::new("en-GB", "GBP");
        let us = Locale::new("en-US", "USD");
        let line = |v: &str| {
            format!("  x.csv:line 2, column 2 (date): found \"{v}\", expected a date written YYYY-MM-DD, e.g. 2016-06-30")
        };
        assert_eq!(
            date_hint(&gb, &line("31/05/2016")),
            format!("{} — files take dates as YYYY-MM-DD, not as this label shows them (DD/MM/YYYY): write 2016-05-31", line("31/05/2016"))
        );
        assert_eq!(
            date_hint(&us, &line("31/05/2016")),
            format!("{} — files take dates as YYYY-MM-DD (2016-12-31); this label shows dates as MM/DD/YYYY (12/31/2016), and \"31/05/2016\" is not a date in that format either", line("31/05/2016"))
        );
        // ISO labels, and other errors, as the importer wrote them.
        let iso = Locale::new("iso", "USD");
        assert_eq!(date_hint(&iso, &line("31/05/2016")), line("31/05/2016"));
        let other = "x.csv:line 2, column 5 (units): found \"x\", expected a whole number";
        assert_eq!(date_hint(&gb, other), other);

        let typed = |v: &str| Choices {
            period_start: Some(v.to_string()),
            period_end: Some("2016-05-31".into()),
            issued_on: Some(" ".into()),
            ..Choices::default()
        };
        let c = label_dates(&gb, typed("01/05/2016"));
        assert_eq!(c.period_start.as_deref(), Some("2016-05-01"));
        assert_eq!(c.period_end.as_deref(), Some("2016-05-31"));
        assert_eq!(c.issued_on.as_deref(), Some(" "));
        assert_eq!(
            label_dates(&us, typed("01/05/2016"))
                .period_start
                .as_deref(),
            Some("2016-01-05")
        );
        // Not the label's format: left for the import to refuse, with its message.
        assert_eq!(
            label_dates(&gb, typed("05/31/2016"))
                .period_start
                .as_deref(),
            Some("05/31/2016")
        );
    }
}
