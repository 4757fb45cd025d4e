//! Where the Parquet lines are kept: a directory, or an S3-compatible object store by
//! URL, both through `object_store`.

use crate::{input, other};
use backstock_app::AppError;
use object_store::aws::AmazonS3Builder;
use object_store::local::LocalFileSystem;
use object_store::prefix::PrefixStore;
use object_store::ObjectStore;
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// The environment variable naming where lines are kept when no `--out`/`--dir` is
/// given: a directory or `s3://BUCKET[/PREFIX]`. One root serves many labels (parts are
/// under `label=SLUG/`), so the web app's labels and the CLI's can share a bucket.
pub const LINES_ENV: &str = "BACKSTOCK_LINES";

/// The longest `--out`/`--dir`/`BACKSTOCK_LINES` taken (a bound on what is parsed).
const MAX_LOCATION_LEN: usize = 2048;
/// Retries of a failed request to an object store, and how long they may take in all.
const S3_RETRIES: usize = 3;
const S3_RETRY_TIMEOUT_S: u64 = 30;

/// A place to keep lines: an object store rooted at the place (paths under it are
/// `label=…/distributor=…/period=…/SHA.parquet`), and how DataFusion reaches the same
/// objects by URL.
#[derive(Clone)]
pub struct Location {
    /// Rooted at the place: our own reads, writes and listings.
    pub(crate) store: Arc<dyn ObjectStore>,
    /// The URL of the root, without a trailing slash: `file:///abs/dir` or
    /// `s3://bucket/prefix` (what messages say and DataFusion is given).
    base: String,
    /// The local directory, for a local place.
    root: Option<PathBuf>,
    /// For an object store: the store of the whole bucket and its URL (`s3://bucket`),
    /// registered with DataFusion's session so it reads the parts by their URLs.
    bucket: Option<(url::Url, Arc<dyn ObjectStore>)>,
}

impl std::fmt::Debug for Location {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Location({})", self.shown())
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
        let mut base = format!("file://{}", root.display());
        while base.ends_with('/') && base.len() > "file:///".len() {
            base.pop();
        }
        Ok(Location {
            store: Arc::new(store),
            base,
            root: Some(root),
            bucket: None,
        })
    }

    /// `--out`/`--dir` as given: a directory, a `file://` URL, or `s3://BUCKET[/PREFIX]`
    /// (an S3-compatible object store, configured by the usual `AWS_*` environment
    /// variables: `AWS_ACCESS_KEY_ID`, `AWS_SECRET_ACCESS_KEY`, `AWS_REGION`, and for a
    /// store other than Amazon's `AWS_ENDPOINT`, with `AWS_ALLOW_HTTP=true` for a plain
    /// `http://` endpoint). Other schemes are refused with a sentence. Nothing is
    /// contacted here: a store that cannot be reached is said by the first read or write.
    pub fn parse(text: &str) -> Result<Location, AppError> {
        if text.len() > MAX_LOCATION_LEN {
            return Err(input(format!(
                "a place for lines of {} characters: expected a directory or s3://BUCKET/PREFIX of at most {MAX_LOCATION_LEN}",
                text.len()
            )));
        }
        if let Some(p) = text.strip_prefix("file://") {
            return Location::local(Path::new(p));
        }
        if let Some(rest) = text.strip_prefix("s3://") {
            return Location::s3(text, rest);
        }
        if let Some((scheme, _)) = text.split_once("://") {
            return Err(input(format!(
                "{text}: {scheme}:// is not a place backstock keeps lines; give a directory, file:///path or s3://BUCKET/PREFIX"
            )));
        }
        Location::local(Path::new(text))
    }

    /// Where lines are kept by default: `BACKSTOCK_LINES` when set (a directory or a
    /// URL, as [`Location::parse`] takes), else `dir`.
    /// An object store named so is made once per process and shared (a server's
    /// requests reuse its connections instead of opening new ones each time).
    pub fn default_or(dir: &Path) -> Result<Location, AppError> {
        static REMOTE: std::sync::Mutex<Option<(String, Location)>> = std::sync::Mutex::new(None);
        let v = match std::env::var(LINES_ENV) {
            Ok(v) if !v.trim().is_empty() => v.trim().to_string(),
            _ => return Location::local(dir),
        };
        let mut kept = REMOTE.lock().unwrap_or_else(|p| p.into_inner());
        if let Some((text, at)) = kept.as_ref() {
            if *text == v {
                return Ok(at.clone());
            }
        }
        let at = Location::parse(&v).map_err(|e| input(format!("{LINES_ENV}: {}", e.message())))?;
        if at.is_remote() {
            *kept = Some((v, at.clone()));
        }
        Ok(at)
    }

    fn s3(text: &str, rest: &str) -> Result<Location, AppError> {
        let (bucket, prefix) = rest.split_once('/').unwrap_or((rest, ""));
        // S3's rule for bucket names: 3-63 of a-z, 0-9, '.', '-', starting and ending
        // with a letter or digit.
        let fine = (3..=63).contains(&bucket.len())
            && bucket
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '.' || c == '-')
            && bucket.starts_with(|c: char| c.is_ascii_alphanumeric())
            && bucket.ends_with(|c: char| c.is_ascii_alphanumeric());
        if !fine {
            return Err(input(format!(
                "{text}: expected s3://BUCKET/PREFIX with a bucket name of 3-63 lowercase letters, digits, dots and hyphens, found {bucket:?}"
            )));
        }
        let prefix = prefix.trim_matches('/');
        let prefix_path = object_store::path::Path::parse(prefix).map_err(|e| {
            input(format!(
                "{text}: the prefix after the bucket is not a path of an object store: {e}"
            ))
        })?;
        let bucket_store: Arc<dyn ObjectStore> = Arc::new(
            AmazonS3Builder::from_env()
                .with_bucket_name(bucket)
                // A store that does not answer is said in seconds: the default retries
                // for three minutes before an import says its lines were not written.
                .with_retry(object_store::RetryConfig {
                    max_retries: S3_RETRIES,
                    retry_timeout: std::time::Duration::from_secs(S3_RETRY_TIMEOUT_S),
                    ..Default::default()
                })
                .build()
                .map_err(|e| {
                    input(format!(
                        "{text}: {e} (the store is configured by AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_REGION, AWS_ENDPOINT, AWS_ALLOW_HTTP)"
                    ))
                })?,
        );
        let store: Arc<dyn ObjectStore> = if prefix.is_empty() {
            Arc::clone(&bucket_store)
        } else {
            Arc::new(PrefixStore::new(Arc::clone(&bucket_store), prefix_path))
        };
        let bucket_url = url::Url::parse(&format!("s3://{bucket}"))
            .map_err(|e| input(format!("{text}: {e}")))?;
        let base = if prefix.is_empty() {
            format!("s3://{bucket}")
        } else {
            format!("s3://{bucket}/{prefix}")
        };
        Ok(Location {
            store,
            base,
            root: None,
            bucket: Some((bucket_url, bucket_store)),
        })
    }

    /// The local directory, for a local place.
    pub fn root(&self) -> Option<&Path> {
        self.root.as_deref()
    }

    /// The place as a user reads it: the directory, or the store's URL.
    pub fn shown(&self) -> String {
        match &self.root {
            Some(r) => r.display().to_string(),
            None => self.base.clone(),
        }
    }

    /// Whether the place is an object store reached over the network.
    pub fn is_remote(&self) -> bool {
        self.bucket.is_some()
    }

    /// The URL of a path under the root (what DataFusion is given and messages say).
    pub(crate) fn url_of(&self, p: &object_store::path::Path) -> String {
        format!("{}/{}", self.base, p.as_ref())
    }

    /// A failed read or write of `what` (the place or a part's URL) as a sentence: a
    /// missing bucket, refused credentials and a store that does not answer are said
    /// as such (with what to check); anything else with the store's own words.
    pub(crate) fn explain(&self, what: &str, e: &object_store::Error) -> String {
        let text = e.to_string();
        if !self.is_remote() {
            return format!("{what}: {text}");
        }
        let bucket = self
            .base
            .trim_start_matches("s3://")
            .split('/')
            .next()
            .unwrap_or_default();
        if text.contains("NoSuchBucket") {
            format!("{what}: the object store has no bucket {bucket:?}; make it first (backstock writes into an existing bucket)")
        } else if [
            "InvalidAccessKeyId",
            "SignatureDoesNotMatch",
            "AccessDenied",
            "403 Forbidden",
        ]
        .iter()
        .any(|c| text.contains(c))
        {
            format!("{what}: the object store refused access to bucket {bucket:?}; check AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY and the bucket's policy")
        } else if text.contains("error sending request") || text.contains("onnection refused") {
            let endpoint = std::env::var("AWS_ENDPOINT")
                .or_else(|_| std::env::var("AWS_ENDPOINT_URL"))
                .map(|u| format!(" at {u}"))
                .unwrap_or_default();
            format!("{what}: the object store{endpoint} did not answer (after {S3_RETRIES} retries); check AWS_ENDPOINT, AWS_REGION and the network")
        } else {
            format!("{what}: {text}")
        }
    }

    /// Makes the place readable by URL in a DataFusion session (an object store's
    /// bucket is registered; local files need nothing).
    pub(crate) fn register(&self, ctx: &datafusion::prelude::SessionContext) {
        if let Some((url, store)) = &self.bucket {
            ctx.register_object_store(url, Arc::clone(store));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_directory_a_file_url_or_an_s3_url_is_taken_other_schemes_are_refused_with_a_sentence() {
        let d = tempfile::tempdir().unwrap();
        let l = Location::parse(d.path().join("lines").to_str().unwrap()).unwrap();
        assert!(l.root().unwrap().ends_with("lines") && l.root().unwrap().is_dir());
        assert!(!l.is_remote());
        let u = format!("file://{}", d.path().join("other").display());
        assert!(Location::parse(&u)
            .unwrap()
            .root()
            .unwrap()
            .ends_with("other"));
        let p = object_store::path::Path::from("label=a/x.parquet");
        assert!(l.url_of(&p).starts_with("file:///"));
        assert!(l.url_of(&p).ends_with("/lines/label=a/x.parquet"));

        let s = Location::parse("s3://label-lines/backstock/").unwrap();
        assert!(s.is_remote() && s.root().is_none());
        assert_eq!(s.shown(), "s3://label-lines/backstock");
        assert_eq!(s.url_of(&p), "s3://label-lines/backstock/label=a/x.parquet");
        assert_eq!(
            Location::parse("s3://label-lines").unwrap().url_of(&p),
            "s3://label-lines/label=a/x.parquet"
        );

        for (bad, says) in [
            (
                "gs://bucket/lines",
                "gs:// is not a place backstock keeps lines",
            ),
            ("s3://", "bucket name of 3-63"),
            ("s3://Bucket_Name/x", "found \"Bucket_Name\""),
            ("s3://ab/x", "found \"ab\""),
        ] {
            let e = Location::parse(bad).unwrap_err();
            assert!(e.message().contains(says), "{bad}: {}", e.message());
        }
        let long = format!("s3://bucket/{}", "x".repeat(3000));
        assert!(Location::parse(&long)
            .unwrap_err()
            .message()
            .contains("at most 2048"));
    }
}
