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
    let m = Mapping::parse(&text)
        .map_err(|e| AppError::new(Exit::Input, format!("{}: {e}", path.display())))?;
    let name = m.name().to_ascii_lowercase();
    store
        .set_meta(&format!("{META_PREFIX}{name}"), &text)
        .await?;
    Ok(format!(
        "Saved mapping {name}. Use it with: backstock import FILE --mapping {name}\n"
    ))
}

pub async fn list(store: &Store) -> Result<String, AppError> {
    let mut t = crate::output::Table::new(&["name", "format", "source", "description"]);
    let saved: Vec<(String, String)> = sqlx_free_meta_list(store).await?;
    for (name, text) in &saved {
        if let Ok(m) = Mapping::parse(text) {
            t.push(vec![
                name.clone(),
                format!("{:?}", m.format()).to_lowercase(),
                "saved".into(),
                m.description().into(),
            ]);
        }
    }
    for (name, text) in backstock_mapping::builtin() {
        if saved.iter().any(|(n, _)| n == name) {
            continue;
        }
        if let Ok(m) = Mapping::parse(text) {
            t.push(vec![
                name.into(),
                format!("{:?}", m.format()).to_lowercase(),
                "shipped".into(),
                m.description().into(),
            ]);
        }
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
    let rows = match mapping.format() {
        backstock_mapping::Format::Xlsx => {
            backstock_mapping::convert_xlsx(mapping, &bytes, overrides)
        }
        _ => backstock_mapping::convert_csv(mapping, bytes.as_slice(), overrides),
    };
    let rows: Vec<Row> = rows.map_err(|errs| {
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
    })?;
    // Canonical line n (header = 1) came from source line rows[n - 2].line.
    let source_line = |n: u64| -> u64 {
        n.checked_sub(2)
            .and_then(|i| rows.get(i as usize))
            .map(|r| r.line)
            .unwrap_or(n)
    };
    let canonical = backstock_mapping::to_csv(&rows);
    let mut parsed =
        backstock_ingest::read(Kind::Statements, canonical.as_bytes(), ctx).map_err(|mut e| {
            // Canonical columns mean nothing in the original layout: name the field instead,
            // and say each problem once per original line.
            let mut seen = std::collections::HashSet::new();
            e.errors = e
                .errors
                .iter()
                .map(|err| LineError {
                    line: source_line(err.line),
                    column: None,
                    found: err.found.clone(),
                    expected: match &err.column {
                        Some((_, name)) => format!("{} (the {name} field)", err.expected),
                        None => err.expected.clone(),
                    },
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
            *first_line = source_line(*first_line);
            *last_line = source_line(*last_line);
        }
    }
    Ok(parsed)
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
