//! Distributors' own layouts: saved mappings (`backstock mapping`) and importing
//! through them (`backstock import FILE --mapping NAME`).

use crate::{AppError, Exit};
use backstock_ingest::{Context, Kind, LineError, Parsed};
use backstock_mapping::{Mapping, Overrides, Row};
use backstock_store::Store;
use std::path::Path;

const META_PREFIX: &str = "mapping:";

/// A mapping by name: one saved with `mapping add`, else a shipped one.
pub async fn find(store: &Store, name: &str) -> Result<Mapping, AppError> {
    let key = format!("{META_PREFIX}{}", name.trim().to_ascii_lowercase());
    if let Some(text) = store.meta(&key).await?.filter(|t| !t.is_empty()) {
        return Mapping::parse(&text)
            .map_err(|e| AppError::new(Exit::Other, format!("saved mapping {name}: {e}")));
    }
    backstock_mapping::find_builtin(name).ok_or_else(|| {
        AppError::new(
            Exit::Input,
            format!("no mapping named {name:?} (see backstock mapping list; add one with backstock mapping add FILE.toml)"),
        )
    })
}

pub async fn add(store: &Store, path: &Path) -> Result<String, AppError> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| AppError::new(Exit::Input, format!("{}: {e}", path.display())))?;
    let saved = save(store, &text)
        .await
        .map_err(|e| AppError::new(e.exit(), format!("{}: {}", path.display(), e.message())))?;
    let instead = if saved.replaced {
        format!(" It replaces the mapping {} saved before.", saved.name)
    } else if backstock_mapping::find_builtin(&saved.name).is_some() {
        format!(
            " It takes the place of the shipped mapping {0} for this label (to keep both, give yours another name).",
            saved.name
        )
    } else {
        String::new()
    };
    Ok(format!(
        "Saved mapping {0}.{instead} Use it with: backstock import FILE --mapping {0}\n",
        saved.name
    ))
}

/// A mapping saved for the label.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Saved {
    /// Its name, lowercased: what `import --mapping` and the import form take.
    pub name: String,
    /// Whether a mapping saved before under that name was replaced.
    pub replaced: bool,
}

/// Saves a mapping's TOML for the label (`mapping add` and the web app's mapping
/// builder): refused, with the key and what was expected there, unless it parses.
pub async fn save(store: &Store, toml_text: &str) -> Result<Saved, AppError> {
    let m = Mapping::parse(toml_text).map_err(|e| AppError::new(Exit::Input, e.to_string()))?;
    let name = m.name().to_ascii_lowercase();
    let key = format!("{META_PREFIX}{name}");
    let replaced = store.meta(&key).await?.is_some_and(|t| !t.is_empty());
    store.set_meta(&key, toml_text).await?;
    Ok(Saved { name, replaced })
}

/// One mapping the label can import with, as `mapping list` shows it.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Summary {
    pub name: String,
    /// `csv` or `xlsx`.
    pub format: &'static str,
    /// `saved` (this label's) or `shipped` (with backstock).
    pub source: &'static str,
    pub description: String,
}

/// The label's saved mappings, then the shipped ones it has not replaced.
pub async fn summaries(store: &Store) -> Result<Vec<Summary>, AppError> {
    let saved: Vec<(String, String)> = sqlx_free_meta_list(store).await?;
    let mut out = Vec::new();
    for (name, text) in &saved {
        if let Ok(m) = Mapping::parse(text) {
            out.push(Summary {
                name: name.clone(),
                format: m.format().as_str(),
                source: "saved",
                description: m.description().into(),
            });
        }
    }
    for (name, text) in backstock_mapping::builtin() {
        if saved.iter().any(|(n, _)| n == name) {
            continue;
        }
        if let Ok(m) = Mapping::parse(text) {
            out.push(Summary {
                name: name.into(),
                format: m.format().as_str(),
                source: "shipped",
                description: m.description().into(),
            });
        }
    }
    Ok(out)
}

pub async fn list(store: &Store) -> Result<String, AppError> {
    let mut t = crate::output::Table::new(&["name", "format", "source", "description"]);
    for m in summaries(store).await? {
        t.push(vec![
            m.name,
            m.format.into(),
            m.source.into(),
            m.description,
        ]);
    }
    Ok(t.text())
}

async fn sqlx_free_meta_list(store: &Store) -> Result<Vec<(String, String)>, AppError> {
    Ok(store
        .meta_with_prefix(META_PREFIX)
        .await?
        .into_iter()
        .filter(|(_, v)| !v.is_empty())
        .map(|(k, v)| (k.trim_start_matches(META_PREFIX).to_string(), v))
        .collect())
}

pub async fn show(store: &Store, name: &str) -> Result<String, AppError> {
    let m = find(store, name).await?;
    Ok(m.to_toml())
}

/// Reads a file through a mapping into canonical statements. Errors and provenance
/// name the lines of the original file.
pub fn read(
    path: &Path,
    shown: &str,
    mapping: &Mapping,
    overrides: &Overrides,
    ctx: &Context,
) -> Result<Parsed, AppError> {
    let bytes =
        std::fs::read(path).map_err(|e| AppError::new(Exit::Input, format!("{shown}: {e}")))?;
    let converted = convert_noted(&bytes, shown, mapping, overrides).map_err(|e| {
        // `--mapping` applies to every file of the command: a canonical file given
        // beside the distributor's (its payments, say) is read through it too.
        let first = String::from_utf8_lossy(&bytes[..bytes.len().min(4096)])
            .lines()
            .next()
            .unwrap_or_default()
            .to_string();
        match backstock_ingest::Kind::detect(&first) {
            Some(kind) => e.context(format!(
                "{shown} is a canonical {} file, not one in the layout of mapping {}: --mapping applies to every file of the command — import it in a command of its own, without --mapping",
                kind.as_str(),
                mapping.name()
            )),
            None => e,
        }
    })?;
    let mut parsed = from_rows_of(converted.rows, mapping, ctx, &bytes)?;
    parsed.notes = converted
        .notes
        .iter()
        .map(|n| format!("{shown}:{n}"))
        .collect();
    Ok(parsed)
}

/// A file's bytes through a mapping into canonical statement rows (with the source
/// line of each), or the engine's problems as the importer says them: one message,
/// a line per problem, each `shown:line N, column C (name): found …, expected …`.
pub fn convert(
    bytes: &[u8],
    shown: &str,
    mapping: &Mapping,
    overrides: &Overrides,
) -> Result<Vec<Row>, AppError> {
    convert_noted(bytes, shown, mapping, overrides).map(|c| c.rows)
}

/// [`convert`], with what the engine noted on the way (a repeated header row
/// skipped, hidden rows read).
pub fn convert_noted(
    bytes: &[u8],
    shown: &str,
    mapping: &Mapping,
    overrides: &Overrides,
) -> Result<backstock_mapping::Converted, AppError> {
    let rows = match mapping.format() {
        backstock_mapping::Format::Xlsx => {
            backstock_mapping::convert_xlsx_noted(mapping, bytes, overrides)
        }
        _ => backstock_mapping::convert_csv_noted(mapping, bytes, overrides),
    };
    rows.map_err(|errs| {
        let mut m = format!(
            "{shown}: {} problem{} reading it with mapping {}; nothing was recorded from this file\n",
            errs.len(),
            if errs.len() == 1 { "" } else { "s" },
            mapping.name()
        );
        for e in &errs {
            m.push_str(&format!("  {shown}:{e}\n"));
        }
        AppError::new(Exit::Input, m.trim_end().to_string())
    })
}

/// Canonical rows (from [`convert`]) read as the importer reads a statements file:
/// errors and provenance name the lines of the original file.
pub fn from_rows(rows: Vec<Row>, mapping: &Mapping, ctx: &Context) -> Result<Parsed, AppError> {
    from_rows_of(rows, mapping, ctx, &[])
}

/// [`from_rows`] for rows converted from `bytes` (the original file): a problem with a
/// value read from one column names that column of the original file (`column 5
/// (UPC)`), as the engine's own problems do.
pub fn from_rows_of(
    rows: Vec<Row>,
    mapping: &Mapping,
    ctx: &Context,
    bytes: &[u8],
) -> Result<Parsed, AppError> {
    let canonical = backstock_mapping::to_csv(&rows);
    // The canonical line each row starts on (header = 1): one line per row, unless a
    // value holds a line break (a memo written on two lines), which the canonical
    // reader counts too.
    let starts: Vec<u64> = {
        let mut reader = csv::ReaderBuilder::new()
            .has_headers(true)
            .from_reader(canonical.as_bytes());
        let mut rec = csv::StringRecord::new();
        let mut v = Vec::with_capacity(rows.len());
        while let Ok(true) = reader.read_record(&mut rec) {
            v.push(rec.position().map_or(0, |p| p.line()));
        }
        v
    };
    let row_of = |n: u64| -> Option<&Row> {
        match starts.len() == rows.len() {
            true => starts.binary_search(&n).ok().and_then(|i| rows.get(i)),
            false => n.checked_sub(2).and_then(|i| rows.get(i as usize)),
        }
    };
    let source_line = |n: u64| -> u64 { row_of(n).map(|r| r.line).unwrap_or(n) };
    let mut parsed =
        backstock_ingest::read(Kind::Statements, canonical.as_bytes(), ctx).map_err(|mut e| {
            // Canonical columns mean nothing in the original layout: name the original
            // column the value came from (else the field), and say each problem once
            // per original line.
            let mut header: Option<Vec<String>> = None;
            let mut source_column = |line: u64, canonical_col: usize| -> Option<(usize, String)> {
                let n = *row_of(line)?.columns.get(canonical_col.checked_sub(1)?)? as usize;
                if n == 0 || bytes.is_empty() {
                    return None;
                }
                let names =
                    header.get_or_insert_with(|| backstock_mapping::header_names(mapping, bytes));
                let name = names
                    .get(n - 1)
                    .map(|s| s.trim().to_string())
                    .filter(|s| !s.is_empty())
                    .unwrap_or_else(|| format!("column {n}"));
                Some((n, name))
            };
            let mut seen = std::collections::HashSet::new();
            e.errors = e
                .errors
                .iter()
                .map(|err| {
                    let source = match &err.column {
                        Some((n, _)) => source_column(err.line, *n),
                        // An unknown item code is said without a column: it is the
                        // line's code.
                        None if row_of(err.line).is_some_and(|r| r.fields[6] == err.found) => {
                            source_column(err.line, 7)
                        }
                        None => None,
                    };
                    LineError {
                        line: source_line(err.line),
                        expected: match (&err.column, &source) {
                            (Some((_, name)), None) => {
                                format!("{} (the {name} field)", err.expected)
                            }
                            _ => err.expected.clone(),
                        },
                        column: source,
                        found: err.found.clone(),
                    }
                })
                .filter(|err| seen.insert((err.line, err.found.clone(), err.expected.clone())))
                .collect();
            AppError::new(
                Exit::Input,
                format!(
                    "{}\n  (line numbers are the original file's; mapping {})",
                    e.to_string().trim_end(),
                    mapping.name()
                ),
            )
        })?;
    for e in &mut parsed.entries {
        if let backstock_ledger::Provenance::File {
            first_line,
            last_line,
            ..
        } = &mut e.provenance
        {
            let (a, b) = (source_line(*first_line), source_line(*last_line));
            (*first_line, *last_line) = (a.min(b), a.max(b));
        }
        // Lines held for an unknown code say where they are in the original too.
        if let backstock_ledger::Event::Fact(backstock_ledger::facts::Fact::Unmatched(u)) =
            &mut e.event
        {
            let (a, b) = (source_line(u.first_line), source_line(u.last_line));
            (u.first_line, u.last_line) = (a.min(b), a.max(b));
        }
    }
    Ok(parsed)
}

/// What a mapping makes of a sample file, before it is saved.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Preview {
    /// The first canonical rows (each with its source line).
    pub rows: Vec<Row>,
    /// How many canonical rows the sample gives in all.
    pub total: usize,
    /// Every problem, one per item, as `import --mapping` says it (the engine's
    /// problems, else the importer's reading of the canonical rows); empty when the
    /// sample would import.
    pub errors: Vec<String>,
}

/// Runs a mapping on a sample the way `import --mapping` would read it: the engine,
/// then the importer's checks against the label's catalog and agreements. Records
/// nothing. `shown` names the file in messages.
pub async fn preview(
    store: &Store,
    bytes: &[u8],
    shown: &str,
    mapping: &Mapping,
    overrides: &Overrides,
    max_rows: usize,
) -> Result<Preview, AppError> {
    let lines = |e: &AppError| -> Vec<String> {
        e.message()
            .lines()
            .map(str::trim)
            .filter(|l| !l.is_empty())
            .map(str::to_string)
            .collect()
    };
    let rows = match convert(bytes, shown, mapping, overrides) {
        Ok(rows) => rows,
        Err(e) if e.exit() == Exit::Input => {
            return Ok(Preview {
                rows: Vec::new(),
                total: 0,
                errors: lines(&e),
            })
        }
        Err(e) => return Err(e),
    };
    let total = rows.len();
    let first: Vec<Row> = rows.iter().take(max_rows).cloned().collect();
    let l = store.import_lookups().await?;
    let ctx = Context::from_lookups(&l.catalog, &l.aliases, &l.agreements, l.digital_skus());
    drop(l);
    let errors = match from_rows_of(rows, mapping, &ctx, bytes) {
        Ok(_) => Vec::new(),
        Err(e) if e.exit() == Exit::Input => lines(&e),
        Err(e) => return Err(e),
    };
    Ok(Preview {
        rows: first,
        total,
        errors,
    })
}

#[cfg(test)]
mod tests {
    /// The mapping crate writes canonical statement rows without depending on the
    /// importer (it stays free of the ledger); the two lists of columns are one
    /// promise to users and are held equal here.
    #[test]
    fn mapped_rows_have_the_canonical_statement_columns() {
        assert_eq!(
            backstock_mapping::COLUMNS[..],
            *backstock_ingest::canonical::columns(backstock_ingest::Kind::Statements)
        );
    }
}
