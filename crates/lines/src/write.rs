//! One original's lines → Parquet parts, one per distributor × month (× currency),
//! each named by the original's SHA-256.

use crate::schema::{month_of, Builder};
use crate::{input, other, Location};
use backstock_app::AppError;
use backstock_domain::Currency;
use backstock_ingest::lines::SourceLine;
use datafusion::parquet::arrow::ArrowWriter;
use datafusion::parquet::basic::{Compression, ZstdLevel};
use datafusion::parquet::file::properties::WriterProperties;
use object_store::path::Path as ObjPath;
use object_store::{ObjectStoreExt, PutPayload};
use std::collections::BTreeMap;

/// Rows per record batch (and Parquet row group: at most 16 batches).
const BATCH_ROWS: usize = 64 * 1024;

/// The partition of a line: distributor, month of the period end, currency.
type Key = (String, String, Currency);

struct Part {
    builder: Builder,
    writer: ArrowWriter<Vec<u8>>,
    rows: u64,
}

/// What was written for one original.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Written {
    /// Each part's path under the root and its rows.
    pub parts: Vec<(String, u64)>,
    pub rows: u64,
}

/// The lines of one original, gathered by partition.
pub struct FileParts {
    label: String,
    sha256: String,
    parts: BTreeMap<Key, Part>,
}

fn props() -> WriterProperties {
    WriterProperties::builder()
        .set_compression(Compression::ZSTD(ZstdLevel::try_new(1).unwrap_or_default()))
        .set_max_row_group_row_count(Some(BATCH_ROWS * 16))
        // Same lines, same bytes: nothing time- or host-dependent in the file.
        .set_created_by("backstock-lines".into())
        .build()
}

/// `label` and `distributor` go into paths: they must be plain short names.
fn path_safe(what: &str, v: &str) -> Result<(), AppError> {
    if v.is_empty()
        || !v
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'))
        || v.starts_with('.')
    {
        return Err(input(format!(
            "{what} {v:?}: expected a short name of letters, digits, '-', '_' or '.' (it names a directory)"
        )));
    }
    Ok(())
}

impl FileParts {
    pub fn new(label: &str, sha256: &str) -> Result<FileParts, AppError> {
        path_safe("label", label)?;
        if sha256.len() != 64 || !sha256.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Err(input(format!("{sha256:?}: expected a SHA-256 in hex")));
        }
        Ok(FileParts {
            label: label.to_string(),
            sha256: sha256.to_ascii_lowercase(),
            parts: BTreeMap::new(),
        })
    }

    pub fn push(&mut self, l: &SourceLine) -> Result<(), AppError> {
        let key = (
            l.distributor.as_str().to_string(),
            month_of(l.period_end),
            l.currency,
        );
        if !self.parts.contains_key(&key) {
            path_safe("distributor", &key.0)?;
            let scale = l.currency.exponent();
            let writer =
                ArrowWriter::try_new(Vec::new(), crate::schema::schema(scale), Some(props()))
                    .map_err(other)?;
            self.parts.insert(
                key.clone(),
                Part {
                    builder: Builder::new(l.currency),
                    writer,
                    rows: 0,
                },
            );
        }
        let Some(part) = self.parts.get_mut(&key) else {
            return Err(other("a Parquet part was not kept"));
        };
        part.builder.push(&self.label, &self.sha256, l);
        part.rows += 1;
        if part.builder.rows() >= BATCH_ROWS {
            let batch = part.builder.finish().map_err(other)?;
            part.writer.write(&batch).map_err(other)?;
        }
        Ok(())
    }

    /// The path of a part: `label=L/distributor=D/period=YYYY-MM/SHA.parquet`, or
    /// `SHA.CUR.parquet` when the original has lines in several currencies there.
    fn path(&self, key: &Key, several: bool) -> ObjPath {
        let file = if several {
            format!("{}.{}.parquet", self.sha256, key.2.code())
        } else {
            format!("{}.parquet", self.sha256)
        };
        ObjPath::from(format!(
            "label={}/distributor={}/period={}/{file}",
            self.label, key.0, key.1
        ))
    }

    /// Writes every part (each put replaces a file of the same name whole).
    pub async fn write(self, to: &Location) -> Result<Written, AppError> {
        let mut per_dir: BTreeMap<(String, String), usize> = BTreeMap::new();
        for k in self.parts.keys() {
            *per_dir.entry((k.0.clone(), k.1.clone())).or_default() += 1;
        }
        let mut written = Written {
            parts: Vec::new(),
            rows: 0,
        };
        let FileParts {
            label,
            sha256,
            parts,
        } = self;
        let me = FileParts {
            label,
            sha256,
            parts: BTreeMap::new(),
        };
        for (key, mut part) in parts {
            if part.builder.rows() > 0 {
                let batch = part.builder.finish().map_err(other)?;
                part.writer.write(&batch).map_err(other)?;
            }
            let bytes = part.writer.into_inner().map_err(other)?;
            let several = per_dir
                .get(&(key.0.clone(), key.1.clone()))
                .is_some_and(|n| *n > 1);
            let path = me.path(&key, several);
            to.store
                .put(&path, PutPayload::from(bytes))
                .await
                .map_err(|e| other(to.explain(&to.url_of(&path), &e)))?;
            written.parts.push((path.to_string(), part.rows));
            written.rows += part.rows;
        }
        Ok(written)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use backstock_domain::{Date, PartyId, Sku};
    use backstock_ledger::LineKind;

    fn line(dist: &str, end: &str, cur: &str, n: u64) -> SourceLine {
        let end = Date::parse(end).unwrap();
        SourceLine {
            line: n,
            statement_id: format!("S-{end}"),
            distributor: PartyId::parse(dist).unwrap(),
            period_start: end.first_of_month(),
            period_end: end,
            currency: Currency::parse(cur).unwrap(),
            sku: Some(Sku::parse("A-1").unwrap()),
            code: "A-1".into(),
            isrc: None,
            territory: Some("GB".into()),
            service: None,
            kind: LineKind::Sale,
            units: 1,
            amount_minor: 100 + n as i64,
        }
    }

    async fn write(dir: &std::path::Path, lines: &[SourceLine]) -> Written {
        let to = Location::local(dir).unwrap();
        let mut p = FileParts::new("marigold", &"ab".repeat(32)).unwrap();
        for l in lines {
            p.push(l).unwrap();
        }
        p.write(&to).await.unwrap()
    }

    #[tokio::test]
    async fn parts_are_partitioned_named_by_the_original_and_written_the_same_twice() {
        let d = tempfile::tempdir().unwrap();
        let lines = [
            line("northwind", "2016-05-31", "USD", 2),
            line("northwind", "2016-06-30", "USD", 3),
            line("cascade", "2016-05-31", "USD", 4),
            line("cascade", "2016-05-31", "JPY", 5),
        ];
        let w = write(d.path(), &lines).await;
        let sha = "ab".repeat(32);
        let paths: Vec<&str> = w.parts.iter().map(|(p, _)| p.as_str()).collect();
        assert_eq!(
            paths,
            [
                format!("label=marigold/distributor=cascade/period=2016-05/{sha}.JPY.parquet"),
                format!("label=marigold/distributor=cascade/period=2016-05/{sha}.USD.parquet"),
                format!("label=marigold/distributor=northwind/period=2016-05/{sha}.parquet"),
                format!("label=marigold/distributor=northwind/period=2016-06/{sha}.parquet"),
            ]
        );
        assert_eq!(w.rows, 4);
        let first = std::fs::read(d.path().join(paths[2])).unwrap();
        let again = write(d.path(), &lines).await;
        assert_eq!(again, w);
        assert_eq!(std::fs::read(d.path().join(paths[2])).unwrap(), first);
    }

    #[test]
    fn names_that_would_escape_their_directory_are_refused() {
        assert!(FileParts::new("../x", &"ab".repeat(32)).is_err());
        assert!(FileParts::new("ok", "not-a-sha").is_err());
        let e = FileParts::new("a/b", &"ab".repeat(32)).err().unwrap();
        assert!(e.message().contains("names a directory"));
    }
}
