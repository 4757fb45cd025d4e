//! Where the Parquet lines are kept: a directory, through `object_store`.

use crate::{input, other};
use backstock_app::AppError;
use object_store::local::LocalFileSystem;
use object_store::ObjectStore;
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// A place to keep lines: an object store and the URL DataFusion reads it by.
#[derive(Clone)]
pub struct Location {
    pub(crate) store: Arc<dyn ObjectStore>,
    /// The root directory (local).
    pub(crate) root: PathBuf,
}

impl std::fmt::Debug for Location {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Location({})", self.root.display())
    }
}

impl Location {
    /// A local directory (created if missing).
    pub fn local(dir: &Path) -> Result<Location, AppError> {
        std::fs::create_dir_all(dir).map_err(|e| other(format!("{}: {e}", dir.display())))?;
        let root = dir
            .canonicalize()
            .map_err(|e| other(format!("{}: {e}", dir.display())))?;
        let store = LocalFileSystem::new_with_prefix(&root)
            .map_err(|e| other(format!("{}: {e}", root.display())))?;
        Ok(Location {
            store: Arc::new(store),
            root,
        })
    }

    /// `--out` as given: a directory or a `file://` URL. Other schemes (`s3://…`) are
    /// refused with a sentence: this build reads and writes local directories only.
    pub fn parse(text: &str) -> Result<Location, AppError> {
        if let Some(p) = text.strip_prefix("file://") {
            return Location::local(Path::new(p));
        }
        if let Some((scheme, _)) = text.split_once("://") {
            return Err(input(format!(
                "{text}: {scheme}:// object stores are not supported yet; give a directory (or file:///path)"
            )));
        }
        Location::local(Path::new(text))
    }

    /// The root directory.
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// The file URL of a path under the root (what DataFusion is given).
    pub(crate) fn url_of(&self, p: &object_store::path::Path) -> String {
        let mut s = format!("file://{}", self.root.display());
        if !s.ends_with('/') {
            s.push('/');
        }
        s.push_str(p.as_ref());
        s
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_directory_or_file_url_is_taken_other_schemes_are_refused_with_a_sentence() {
        let d = tempfile::tempdir().unwrap();
        let l = Location::parse(d.path().join("lines").to_str().unwrap()).unwrap();
        assert!(l.root().ends_with("lines") && l.root().is_dir());
        let u = format!("file://{}", d.path().join("other").display());
        assert!(Location::parse(&u).unwrap().root().ends_with("other"));
        let e = Location::parse("s3://bucket/lines").unwrap_err();
        assert!(e
            .message()
            .contains("s3:// object stores are not supported yet"));
        let p = object_store::path::Path::from("label=a/x.parquet");
        assert!(l.url_of(&p).starts_with("file:///"));
        assert!(l.url_of(&p).ends_with("/lines/label=a/x.parquet"));
    }
}
