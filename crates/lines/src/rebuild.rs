//! `backstock lines rebuild`: every kept original that statements were recorded from,
//! re-read line by line, checked against those statements, written as Parquet.

use crate::write::FileParts;
use crate::{input, other, Location};
use backstock_app::AppError;
use backstock_domain::PartyId;
use backstock_ingest::lines::SourceLine;
use backstock_ingest::{Context, Decoder, Encoding, Kind};
use backstock_ledger::{EntryKind, Event, LineKind, Provenance, Statement};
use backstock_store::Store;
use std::collections::{BTreeMap, HashMap};

/// How an original was read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Reading {
    Canonical,
    X12,
    Dsr,
    /// Through the mapping of that name.
    Mapping(String),
}

impl std::fmt::Display for Reading {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Reading::Canonical => f.write_str("statements.csv"),
            Reading::X12 => f.write_str("x12"),
            Reading::Dsr => f.write_str("dsr"),
            Reading::Mapping(m) => write!(f, "mapping {m}"),
        }
    }
}

/// What was written for one original.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileReport {
    pub sha256: String,
    pub name: String,
    pub reading: Reading,
    /// Lines written.
    pub lines: u64,
    /// Of which lines whose code the catalog does not know (no SKU; held at import).
    pub held: u64,
    /// Parquet parts written (paths under the root).
    pub parts: Vec<String>,
}

/// What `lines rebuild` did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Report {
    pub files: Vec<FileReport>,
    /// Originals with statements but no line-level detail (opening balances).
    pub skipped: Vec<(String, String)>,
    /// Originals whose lines could not be written, with why (the others are written).
    pub failed: Vec<(String, String)>,
}

impl Report {
    pub fn text(&self, to: &Location) -> String {
        let mut s = String::new();
        let lines: u64 = self.files.iter().map(|f| f.lines).sum();
        let parts: usize = self.files.iter().map(|f| f.parts.len()).sum();
        for f in &self.files {
            s.push_str(&format!(
                "{} ({}, {}): {} line{}{} → {} part{}\n",
                f.name,
                &f.sha256[..12.min(f.sha256.len())],
                f.reading,
                f.lines,
                if f.lines == 1 { "" } else { "s" },
                if f.held > 0 {
                    format!(" ({} with codes unknown to the catalog)", f.held)
                } else {
                    String::new()
                },
                f.parts.len(),
                if f.parts.len() == 1 { "" } else { "s" },
            ));
        }
        for (name, why) in &self.skipped {
            s.push_str(&format!("{name}: skipped, {why}\n"));
        }
        for (name, why) in &self.failed {
            s.push_str(&format!("{name}: NOT WRITTEN: {why}\n"));
        }
        s.push_str(&format!(
            "Wrote {lines} line{} from {} original{} in {parts} Parquet part{} under {}; each original's lines add up to the statements recorded from it.\n",
            if lines == 1 { "" } else { "s" },
            self.files.len(),
            if self.files.len() == 1 { "" } else { "s" },
            if parts == 1 { "" } else { "s" },
            to.shown()
        ));
        s
    }
}

/// The statements recorded from each original, by its SHA-256 (with its name).
type ByFile = BTreeMap<String, (String, Vec<Statement>)>;

/// `(distributor, statement id)` of a supplementary statement that posted held lines
/// once an alias named their code (`statement:D:S:held:CODE`, `app::aliases`).
fn held_of(entry_id: &str) -> Option<(&str, &str)> {
    let (d, rest) = entry_id.strip_prefix("statement:")?.split_once(':')?;
    let (s, _code) = rest.rsplit_once(":held:")?;
    Some((d, s))
}

/// The statements recorded from each original, by its SHA-256 (with its name). A
/// supplementary statement that posted an original's held lines (recorded by a
/// command, not from a file) joins its original statement's file under that
/// statement's id: the lines, read again with the alias known, name the SKU, and add
/// up to the statement and its supplement together.
async fn statements_by_file(store: &Store) -> Result<ByFile, AppError> {
    let mut by = ByFile::new();
    let mut file_of: HashMap<(String, String), String> = HashMap::new();
    let mut held: Vec<((String, String), Statement)> = Vec::new();
    store
        .for_each_entry(&[EntryKind::Statement], None, |_, e| {
            match (e.provenance, e.event) {
                (Provenance::File { sha256, name, .. }, Event::Statement(st)) => {
                    file_of.insert(
                        (st.distributor.to_string(), st.statement_id.clone()),
                        sha256.clone(),
                    );
                    by.entry(sha256)
                        .or_insert_with(|| (name, Vec::new()))
                        .1
                        .push(st);
                }
                (_, Event::Statement(st)) => {
                    if let Some((d, s)) = held_of(e.id.as_str()) {
                        held.push(((d.to_string(), s.to_string()), st));
                    }
                }
                _ => {}
            }
            Ok(())
        })
        .await?;
    for (of, mut st) in held {
        if let Some((_, statements)) = file_of.get(&of).and_then(|sha| by.get_mut(sha)) {
            st.statement_id = of.1;
            statements.push(st);
        }
    }
    Ok(by)
}

/// Per statement × SKU × kind: units and amount, exact.
type Sums = HashMap<(String, Option<String>, LineKind), (i128, i128)>;

fn expected(statements: &[Statement]) -> Sums {
    let mut m = Sums::new();
    for st in statements {
        for l in &st.lines {
            let s = m
                .entry((
                    st.statement_id.clone(),
                    l.sku.as_ref().map(|s| s.as_str().to_string()),
                    l.kind,
                ))
                .or_default();
            s.0 += i128::from(l.units);
            s.1 += i128::from(l.amount_minor);
        }
    }
    m
}

/// The lines of one original, and their tie-out to its statements.
struct Read {
    lines: Vec<SourceLine>,
    held: u64,
}

/// Checks that `lines` (those with a SKU, or without a code) add up, per statement ×
/// SKU × kind, to `statements`; says the first difference otherwise.
fn tie_out(name: &str, lines: &[SourceLine], statements: &[Statement]) -> Result<u64, String> {
    let mut want = expected(statements);
    let mut held = 0u64;
    for l in lines {
        if l.sku.is_none() && !l.code.is_empty() {
            held += 1;
            continue;
        }
        let s = want
            .entry((
                l.statement_id.clone(),
                l.sku.as_ref().map(|s| s.as_str().to_string()),
                l.kind,
            ))
            .or_default();
        s.0 -= i128::from(l.units);
        s.1 -= i128::from(l.amount_minor);
    }
    let mut off: Vec<_> = want.into_iter().filter(|(_, v)| *v != (0, 0)).collect();
    off.sort();
    match off.first() {
        None => Ok(held),
        Some(((sid, sku, kind), (u, a))) => Err(format!(
            "{name}: its lines do not add up to the statements recorded from it: statement {sid}, {} {}: the lines minus the journal are {} units and {} minor units ({} such difference{})",
            sku.as_deref().unwrap_or("(no SKU)"),
            kind.as_str(),
            -u,
            -a,
            off.len(),
            if off.len() == 1 { "" } else { "s" }
        )),
    }
}

/// The distributor of a file's statements (X12 and DSR files are from one).
fn distributor_of(statements: &[Statement]) -> Option<PartyId> {
    statements.first().map(|s| s.distributor.clone())
}

/// Reads the lines of one original, in whichever way its statements were imported.
async fn read_original(
    store: &Store,
    ctx: &mut Context,
    name: &str,
    bytes: &[u8],
    statements: &[Statement],
) -> Result<Option<(Reading, Read)>, AppError> {
    let head = &bytes[..bytes.len().min(64 * 1024)];
    let encoding = Encoding::sniff(head);
    let kind = Kind::sniff(head).or_else(|| backstock_app::import::detect_kind(head, encoding));
    let fail = |e: backstock_ingest::FileErrors| input(e.to_string().trim_end());
    let mut lines = Vec::new();
    let reading = match kind {
        Some(Kind::X12) | Some(Kind::Dsr) => {
            let Some(d) = distributor_of(statements) else {
                return Ok(None);
            };
            // What the user said of the file at import (`--statement-id`, `--currency`,
            // the period of an undated X12 file), as its one statement recorded it.
            let opts = match statements {
                [one] => backstock_ingest::edi::SentOptions {
                    // As the user could have given it (an id made from a DSR's message
                    // id may hold what the flag refuses: read with its own id then).
                    statement_id: Some(one.statement_id.clone()).filter(|id| {
                        id.chars().count() <= 100 && !id.chars().any(|c| c.is_control() || c == ':')
                    }),
                    currency: (kind == Some(Kind::X12)).then_some(one.currency),
                    period_start: Some(one.period_start),
                    period_end: Some(one.period_end),
                },
                _ => Default::default(),
            };
            let r = if kind == Some(Kind::X12) {
                backstock_ingest::edi::read_x12_lines(bytes, ctx, &d, &opts, &mut |l| lines.push(l))
                    .map(|_| Reading::X12)
            } else {
                backstock_ingest::edi::read_dsr_lines(bytes, ctx, &d, &opts, &mut |l| lines.push(l))
                    .map(|_| Reading::Dsr)
            };
            match r {
                Ok(r) => r,
                // Codes unknown to the catalog were held at import: read them so.
                Err(_) if !ctx.hold_unmatched => {
                    lines.clear();
                    ctx.hold_unmatched = true;
                    let again = if kind == Some(Kind::X12) {
                        backstock_ingest::edi::read_x12_lines(bytes, ctx, &d, &opts, &mut |l| {
                            lines.push(l)
                        })
                        .map(|_| Reading::X12)
                    } else {
                        backstock_ingest::edi::read_dsr_lines(bytes, ctx, &d, &opts, &mut |l| {
                            lines.push(l)
                        })
                        .map(|_| Reading::Dsr)
                    };
                    ctx.hold_unmatched = false;
                    again.map_err(fail)?
                }
                Err(e) => return Err(fail(e)),
            }
        }
        Some(Kind::Statements) => {
            backstock_ingest::lines::canonical(Decoder::new(bytes, encoding), ctx, &mut |l| {
                lines.push(l)
            })
            .map_err(fail)?;
            Reading::Canonical
        }
        // Opening balances and other canonical kinds carry no statement lines.
        Some(_) => return Ok(None),
        None => {
            return read_mapped(store, ctx, name, bytes, statements).await;
        }
    };
    let held = tie_out(name, &lines, statements).map_err(other)?;
    Ok(Some((reading, Read { lines, held })))
}

/// An original in a distributor's own layout: the label's mappings are tried in turn
/// (statement-level values the mapping leaves to the import taken from the statement
/// recorded), and the one whose lines add up to the statements recorded is taken.
async fn read_mapped(
    store: &Store,
    ctx: &Context,
    name: &str,
    bytes: &[u8],
    statements: &[Statement],
) -> Result<Option<(Reading, Read)>, AppError> {
    let overrides = match statements {
        [st] => backstock_mapping::Overrides {
            distributor: Some(st.distributor.as_str().to_string()),
            statement_id: Some(st.statement_id.clone()),
            period_start: Some(st.period_start.to_string()),
            period_end: Some(st.period_end.to_string()),
            issued_on: Some(st.issued_on.to_string()),
            currency: Some(st.currency.code().to_string()),
        },
        _ => backstock_mapping::Overrides {
            distributor: distributor_of(statements).map(|d| d.as_str().to_string()),
            ..Default::default()
        },
    };
    let mut tried = Vec::new();
    for m in backstock_app::mapping::summaries(store).await? {
        let Ok(mapping) = backstock_app::mapping::find(store, &m.name).await else {
            continue;
        };
        let Ok(rows) = backstock_app::mapping::convert(bytes, name, &mapping, &overrides) else {
            continue;
        };
        let canonical = backstock_mapping::to_csv(&rows);
        let mut lines = Vec::new();
        if backstock_ingest::lines::canonical(canonical.as_bytes(), ctx, &mut |mut l| {
            // Canonical line n (header = 1) came from source line rows[n - 2].line.
            if let Some(r) = l.line.checked_sub(2).and_then(|i| rows.get(i as usize)) {
                l.line = r.line;
            }
            lines.push(l)
        })
        .is_err()
        {
            continue;
        }
        match tie_out(name, &lines, statements) {
            Ok(held) => {
                return Ok(Some((
                    Reading::Mapping(m.name.clone()),
                    Read { lines, held },
                )))
            }
            Err(_) => tried.push(m.name),
        }
    }
    Err(other(format!(
        "{name}: statements were recorded from it, but it is not a canonical, X12 or DSR file and none of the label's mappings ({}) reads it into lines that add up to them",
        if tried.is_empty() {
            "none read it at all".to_string()
        } else {
            tried.join(", ")
        }
    )))
}

/// Reads and writes one original (its statements given); `None` when it has no
/// line-level detail.
async fn one(
    store: &Store,
    ctx: &mut Context,
    label: &str,
    sha256: &str,
    name: &str,
    statements: &[Statement],
    to: &Location,
) -> Result<Option<FileReport>, AppError> {
    let Some(bytes) = store.file_bytes(sha256).await? else {
        return Err(other(format!(
            "{name}: the original ({sha256}) is not kept in the store"
        )));
    };
    ctx.file_name = name.to_string();
    ctx.file_sha256 = sha256.to_string();
    let Some((reading, read)) = read_original(store, ctx, name, &bytes, statements).await? else {
        return Ok(None);
    };
    drop(bytes);
    let mut parts = FileParts::new(label, sha256)?;
    for l in &read.lines {
        parts.push(l)?;
    }
    let n = read.lines.len() as u64;
    drop(read.lines);
    let w = parts.write(to).await?;
    Ok(Some(FileReport {
        sha256: sha256.to_string(),
        name: name.to_string(),
        reading,
        lines: n,
        held: read.held,
        parts: w.parts.into_iter().map(|(p, _)| p).collect(),
    }))
}

async fn context(store: &Store) -> Result<Context, AppError> {
    let l = store.import_lookups().await?;
    Ok(Context::from_lookups(
        &l.catalog,
        &l.aliases,
        &l.agreements,
        l.digital_skus(),
    ))
}

/// Writes the lines of every kept original statements were recorded from.
pub async fn rebuild(store: &Store, label: &str, to: &Location) -> Result<Report, AppError> {
    let by_file = statements_by_file(store).await?;
    let mut ctx = context(store).await?;
    let mut report = Report::default();
    for (sha, (name, statements)) in by_file {
        match one(store, &mut ctx, label, &sha, &name, &statements, to).await {
            Ok(Some(f)) => report.files.push(f),
            Ok(None) => report
                .skipped
                .push((name, "it has no statement lines (opening balances)".into())),
            // One original that does not read back stops nothing else.
            Err(e) if e.exit() == backstock_app::Exit::Input || e.message().contains(&name) => {
                report.failed.push((name, e.message().to_string()))
            }
            Err(e) => return Err(e),
        }
    }
    Ok(report)
}

/// Writes the lines of the originals of the statements recorded after journal entry
/// `after` (what an import just recorded), reading only those entries.
pub async fn write_recorded_since(
    store: &Store,
    label: &str,
    after: i64,
    to: &Location,
) -> Result<Report, AppError> {
    let ids: Vec<String> = store
        .journal(None, Some(EntryKind::Statement), i64::MAX)
        .await?
        .into_iter()
        .filter(|r| r.seq > after)
        .map(|r| r.entry_id)
        .collect();
    let mut report = Report::default();
    if ids.is_empty() {
        return Ok(report);
    }
    let refs: Vec<&str> = ids.iter().map(String::as_str).collect();
    let mut by_file = ByFile::new();
    // Held lines posted since (an alias named their code): their originals are
    // written again, whole, with every statement recorded from them.
    let mut held: Vec<(String, String)> = Vec::new();
    for e in store.entries_with_ids(&refs).await? {
        match (e.provenance, e.event) {
            (Provenance::File { sha256, name, .. }, Event::Statement(st)) => by_file
                .entry(sha256)
                .or_insert_with(|| (name, Vec::new()))
                .1
                .push(st),
            (_, Event::Statement(_)) => {
                if let Some((d, s)) = held_of(e.id.as_str()) {
                    held.push((d.to_string(), s.to_string()));
                }
            }
            _ => {}
        }
    }
    if !held.is_empty() {
        let originals: Vec<String> = held
            .iter()
            .map(|(d, s)| format!("statement:{d}:{s}"))
            .collect();
        let refs: Vec<&str> = originals.iter().map(String::as_str).collect();
        let mut shas: std::collections::BTreeSet<String> = by_file.keys().cloned().collect();
        for e in store.entries_with_ids(&refs).await? {
            if let Provenance::File { sha256, .. } = e.provenance {
                shas.insert(sha256);
            }
        }
        by_file = statements_by_file(store).await?;
        by_file.retain(|sha, _| shas.contains(sha));
    }
    let mut ctx = context(store).await?;
    for (sha, (name, statements)) in by_file {
        match one(store, &mut ctx, label, &sha, &name, &statements, to).await {
            Ok(Some(f)) => report.files.push(f),
            Ok(None) => {}
            Err(e) => report.failed.push((name, e.message().to_string())),
        }
    }
    Ok(report)
}

#[cfg(test)]
mod tests {
    use super::*;
    use backstock_domain::{Currency, Date, Sku};
    use backstock_ledger::{Channel, StatementLine};

    fn st() -> Statement {
        Statement {
            statement_id: "S1".into(),
            distributor: PartyId::parse("northwind").unwrap(),
            period_start: Date::parse("2016-05-01").unwrap(),
            period_end: Date::parse("2016-05-31").unwrap(),
            issued_on: Date::parse("2016-06-20").unwrap(),
            currency: Currency::USD,
            lines: vec![StatementLine {
                kind: LineKind::Sale,
                sku: Some(Sku::parse("A-1").unwrap()),
                units: 3,
                amount_minor: 3000,
                channel: Channel::Physical,
            }],
        }
    }

    fn line(units: i64, amount_minor: i64, sku: Option<&str>, code: &str) -> SourceLine {
        SourceLine {
            line: 2,
            statement_id: "S1".into(),
            distributor: PartyId::parse("northwind").unwrap(),
            period_start: Date::parse("2016-05-01").unwrap(),
            period_end: Date::parse("2016-05-31").unwrap(),
            currency: Currency::USD,
            sku: sku.map(|s| Sku::parse(s).unwrap()),
            code: code.into(),
            isrc: None,
            territory: None,
            service: None,
            kind: LineKind::Sale,
            units,
            amount_minor,
        }
    }

    #[test]
    fn lines_tie_out_to_their_statements_or_the_difference_is_named() {
        let s = [st()];
        let ok = [
            line(1, 1000, Some("A-1"), "A-1"),
            line(2, 2000, Some("A-1"), "0123"),
            line(5, 7, None, "UNKNOWN-9"),
        ];
        assert_eq!(tie_out("f.csv", &ok, &s), Ok(1));
        let off = [
            line(1, 1000, Some("A-1"), "A-1"),
            line(2, 1999, Some("A-1"), "A-1"),
        ];
        let e = tie_out("f.csv", &off, &s).unwrap_err();
        assert!(e.starts_with("f.csv: its lines do not add up"), "{e}");
        assert!(e.contains("statement S1, A-1 sale"), "{e}");
        assert!(
            e.contains("the lines minus the journal are 0 units and -1 minor units"),
            "{e}"
        );
        let extra = [
            line(3, 3000, Some("A-1"), "A-1"),
            line(1, 0, Some("B-2"), "B-2"),
        ];
        assert!(tie_out("f.csv", &extra, &s).unwrap_err().contains("B-2"));
    }
}
