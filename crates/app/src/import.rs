//! `backstock import`: files → entries → one transaction per file.

use crate::{AppError, Exit};
use backstock_ingest::{Context, Decoder, Encoding, Kind, Parsed};
use backstock_store::{RecordOutcome, SourceFile, Store};
use sha2::{Digest, Sha256};
use std::io::{BufReader, Read};
use std::path::{Path, PathBuf};

/// Default: every kind detected from its header, recorded (not a dry run), encoding
/// sniffed, no mapping.
#[derive(Default)]
pub struct ImportOptions {
    pub kind: Option<Kind>,
    pub dry_run: bool,
    pub encoding: Option<Encoding>,
    pub hold_unmatched: bool,
    /// Who sent the file (EDI and DSR files name their sender in their own terms).
    pub distributor: Option<String>,
    /// A mapping to read distributors' own layouts with.
    pub mapping: Option<String>,
    /// Statement-level values for mapped files.
    pub overrides: backstock_mapping::Overrides,
    /// Read every file as this royalty file (payees, contracts, costs), whatever its
    /// header says (`--kind payees`).
    pub royalty: Option<crate::royalties::files::RoyaltyFile>,
}

/// A kind a user may name for a file (`--kind`, the upload form): one the ledger
/// imports, or a royalty file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FileKind {
    Ledger(Kind),
    Royalty(crate::royalties::files::RoyaltyFile),
}

impl FileKind {
    pub fn parse(s: &str) -> Option<FileKind> {
        Kind::parse(s)
            .map(FileKind::Ledger)
            .or_else(|| crate::royalties::files::RoyaltyFile::parse(s).map(FileKind::Royalty))
    }
    /// Every name [`FileKind::parse`] takes, the ledger's kinds first.
    pub fn names() -> Vec<&'static str> {
        FileKind::headers()
            .into_iter()
            .map(|(name, _)| name)
            .collect()
    }
    /// Every kind told by its header: its name and its columns, the ledger's kinds
    /// first, then the royalty files (payees, contracts, costs).
    pub fn headers() -> Vec<(&'static str, &'static [&'static str])> {
        Kind::ALL
            .into_iter()
            .map(|k| (k.as_str(), backstock_ingest::canonical::columns(k)))
            .chain(
                crate::royalties::files::RoyaltyFile::ALL
                    .into_iter()
                    .map(|r| (r.as_str(), r.columns())),
            )
            .collect()
    }
}

/// File extensions taken from a directory.
const IMPORTABLE: [&str; 9] = [
    "csv", "xlsx", "tsv", "txt", "edi", "x12", "852", "846", "867",
];

/// Expands directories (their importable files, sorted): the files, and a line for
/// each folder inside one, which is not searched (its files are imported by naming it).
/// Hidden files (`.DS_Store`, the `._name.csv` copies macOS leaves on shared drives)
/// are skipped.
pub fn collect(paths: &[PathBuf]) -> Result<(Vec<PathBuf>, Vec<String>), AppError> {
    let mut out = Vec::new();
    let mut notes = Vec::new();
    for p in paths {
        if p.is_dir() {
            let mut files = Vec::new();
            let mut folders = Vec::new();
            for e in std::fs::read_dir(p)
                .map_err(|e| AppError::new(Exit::Input, format!("{}: {e}", p.display())))?
            {
                let Ok(e) = e else { continue };
                let f = e.path();
                let hidden = e.file_name().to_string_lossy().starts_with('.');
                if hidden {
                    continue;
                }
                if f.is_dir() {
                    folders.push(f);
                } else if f.is_file()
                    && f.extension()
                        .and_then(|e| e.to_str())
                        .is_some_and(|e| IMPORTABLE.iter().any(|x| e.eq_ignore_ascii_case(x)))
                {
                    files.push(f);
                }
            }
            files.sort();
            folders.sort();
            notes.extend(folders.iter().map(|f| {
                format!(
                    "{}: passed over: a folder inside {} (import its files by naming it: backstock import {})\n",
                    f.display(),
                    p.display(),
                    f.display()
                )
            }));
            out.extend(files);
        } else if p.is_file() {
            out.push(p.clone());
        } else {
            return Err(AppError::new(
                Exit::Input,
                format!("{}: no such file or directory", p.display()),
            ));
        }
    }
    Ok((out, notes))
}

/// Why a file whose kind could not be told is not a canonical CSV file at all, when its
/// first bytes say so (empty, a workbook, UTF-16, another separator…): the reason and
/// what to do, instead of "the header matches no known file kind".
fn not_a_kind(head: &[u8]) -> Option<String> {
    const MAPPING: &str = "read a distributor's own layout through a mapping: backstock import --mapping NAME FILE (see backstock mapping --help)";
    let text = head
        .strip_prefix(b"\xef\xbb\xbf".as_slice())
        .unwrap_or(head);
    if text.iter().all(u8::is_ascii_whitespace) {
        return Some("the file is empty (no header line, no data)".into());
    }
    if head.starts_with(b"PK\x03\x04") {
        return Some(format!("this is an XLSX workbook (or another zip archive), not a CSV file: {MAPPING}, or save the sheet as CSV in the canonical columns (docs/formats.md)"));
    }
    if head.starts_with(b"\xff\xfe") || head.starts_with(b"\xfe\xff") {
        return Some("this is UTF-16 text (Excel's \"Unicode Text\"): save it as \"CSV UTF-8 (comma delimited)\" and import that".into());
    }
    if head.starts_with(b"\xd0\xcf\x11\xe0") {
        return Some(format!("this is an old Excel (.xls) workbook: save it as \"CSV UTF-8 (comma delimited)\" or as .xlsx ({MAPPING})"));
    }
    if head.iter().take(4096).any(|b| *b == 0) {
        return Some(
            "this is not a text file (it holds NUL bytes): give the CSV export, not a binary file"
                .into(),
        );
    }
    let first = text
        .split(|b| *b == b'\n')
        .find(|l| !l.iter().all(u8::is_ascii_whitespace))
        .unwrap_or_default();
    let first = String::from_utf8_lossy(first);
    let first = first.trim();
    if first.to_ascii_lowercase().starts_with("sep=") {
        return Some(format!("the first line is {first:?} (Excel writes it): remove that line so the header comes first"));
    }
    let count = |c: char| first.matches(c).count();
    if count(',') == 0 {
        if count(';') > 0 {
            return Some(format!("the header is separated by semicolons; backstock's own formats are comma-separated: save it as CSV with commas, or {MAPPING}"));
        }
        if count('\t') > 0 {
            return Some(format!("the header is separated by tabs; backstock's own formats are comma-separated: save it as CSV with commas, or {MAPPING}"));
        }
    }
    None
}

/// A file found in a directory given to import (not named itself) that is not a
/// `.csv`: a README, a workbook, a tab-separated export. One that matches no file kind
/// is passed over with the reason; an unknown `.csv` there is still an error (it is
/// most likely a statement the user means to import).
fn loose(path: &Path, given: &[PathBuf]) -> bool {
    !path
        .extension()
        .and_then(|e| e.to_str())
        .is_some_and(|e| e.eq_ignore_ascii_case("csv"))
        && !given.iter().any(|g| g == path)
}

/// The first bytes of a file (to detect kind and encoding) and its size.
struct Peek {
    size: u64,
    head: Vec<u8>,
}

fn peek(path: &Path) -> Result<Peek, AppError> {
    let io = |e: std::io::Error| AppError::new(Exit::Input, format!("{}: {e}", path.display()));
    let f = std::fs::File::open(path).map_err(io)?;
    let size = f.metadata().map_err(io)?.len();
    let mut head = Vec::with_capacity(64 * 1024);
    f.take(64 * 1024).read_to_end(&mut head).map_err(io)?;
    Ok(Peek { size, head })
}

/// What one pass over a file's bytes gives: its SHA-256 (its identity in the store),
/// its line count and, unless previewing, the compressed copy the store keeps.
struct Kept {
    sha: String,
    lines: u64,
    parts: Option<Vec<Vec<u8>>>,
}

/// Reads the file once on its own thread, hashing it and counting its lines, while a
/// second thread compresses the parts it has read: both run beside the parse, and when
/// the parse is done first they finish on both cores. Three part buffers at most are in
/// use (one hashed, one waiting, one compressed); they are passed back and reused.
fn keep(path: PathBuf, compress: bool) -> std::thread::JoinHandle<std::io::Result<Kept>> {
    keep_in_parts(path, compress, backstock_store::PART_BYTES)
}

/// [`keep`] with parts of `part_bytes` (≤ the store's part size; tests use small ones).
fn keep_in_parts(
    path: PathBuf,
    compress: bool,
    part_bytes: usize,
) -> std::thread::JoinHandle<std::io::Result<Kept>> {
    use std::sync::mpsc::{channel, sync_channel};
    std::thread::spawn(move || {
        let mut f = std::fs::File::open(&path)?;
        let mut h = Sha256::new();
        let mut lines = 0u64;
        // Parts to compress go one way, emptied buffers come back.
        let (to_compress, parts_in) = sync_channel::<Vec<u8>>(1);
        let (give_back, buffers) = channel::<Vec<u8>>();
        let compressor = compress.then(|| {
            std::thread::spawn(move || -> std::io::Result<Vec<Vec<u8>>> {
                let mut z = backstock_store::PartCompressor::new()?;
                let mut parts = Vec::new();
                for part in parts_in {
                    parts.push(z.part(&part)?);
                    let _ = give_back.send(part);
                }
                if parts.is_empty() {
                    // An empty file is kept as one empty frame.
                    parts.push(z.part(&[])?);
                }
                Ok(parts)
            })
        });
        let mut spare = 3usize;
        // Without compression the one buffer is reused here.
        let mut own: Option<Vec<u8>> = None;
        loop {
            let mut buf = match own
                .take()
                .map_or_else(|| buffers.try_recv().map_err(|_| ()), Ok)
            {
                Ok(b) => b,
                Err(()) if spare > 0 => {
                    spare -= 1;
                    Vec::with_capacity(part_bytes)
                }
                Err(()) => match buffers.recv() {
                    Ok(b) => b,
                    // The compressor stopped (on an error it reports when joined).
                    Err(_) => break,
                },
            };
            buf.resize(part_bytes, 0);
            // Fill a whole part (reads may return less).
            let mut n = 0;
            while n < buf.len() {
                match f.read(&mut buf[n..]) {
                    Ok(0) => break,
                    Ok(k) => n += k,
                    Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                    Err(e) => return Err(e),
                }
            }
            buf.truncate(n);
            if n == 0 {
                break;
            }
            h.update(&buf);
            lines += memchr::memchr_iter(b'\n', &buf).count() as u64;
            let last = n < part_bytes;
            if !compress {
                own = Some(buf);
            } else if to_compress.send(buf).is_err() {
                break;
            }
            if last {
                break;
            }
        }
        drop(to_compress);
        let parts = match compressor {
            Some(c) => Some(
                c.join()
                    .map_err(|_| std::io::Error::other("compressing the original failed"))??,
            ),
            None => None,
        };
        Ok(Kept {
            sha: h.finalize().iter().map(|b| format!("{b:02x}")).collect(),
            lines,
            parts,
        })
    })
}

fn kept(shown: &str, h: std::thread::JoinHandle<std::io::Result<Kept>>) -> Result<Kept, AppError> {
    match h.join() {
        Ok(Ok(k)) => Ok(k),
        Ok(Err(e)) => Err(AppError::new(Exit::Input, format!("{shown}: {e}"))),
        Err(_) => Err(AppError::new(
            Exit::Other,
            format!("{shown}: reading the file to keep it failed"),
        )),
    }
}

pub fn detect_kind(head: &[u8], encoding: Encoding) -> Option<Kind> {
    let mut s = String::new();
    let _ = Decoder::new(head, encoding)
        .take(16 * 1024)
        .read_to_string(&mut s);
    let first = s.lines().next().unwrap_or("");
    Kind::detect(first)
}

/// Imports (or previews) files in order. Stops at the first file that fails: files
/// before it stay recorded (each is its own transaction), nothing of it is.
#[tracing::instrument(name = "run", skip_all)]
pub async fn run(
    store: &Store,
    paths: &[PathBuf],
    opts: &ImportOptions,
) -> Result<String, AppError> {
    run_checked(store, paths, opts, &|_| Ok(())).await
}

/// What an import did, or what its dry run says it would do (the same checks run).
#[derive(Debug, Default, Clone)]
pub struct ImportOutcome {
    /// What the user is told, one line per file (and warnings after).
    pub report: String,
    /// Entries skipped because the journal already holds them with the same details
    /// (recorded from another file: distributors re-send cumulative exports), by id.
    pub already_recorded: Vec<String>,
}

/// What an uploader may record: called on every parsed entry before anything of its
/// file is previewed or recorded; an `Err` refuses the whole file with that reason.
/// (The web app uses it to keep a distributor's uploads to its own account.)
pub type EntryCheck<'a> = dyn Fn(&backstock_ledger::Entry) -> Result<(), String> + Sync + 'a;

/// [`run`], refusing any file with an entry `check` rejects.
pub async fn run_checked(
    store: &Store,
    paths: &[PathBuf],
    opts: &ImportOptions,
    check: &EntryCheck<'_>,
) -> Result<String, AppError> {
    Ok(import_checked(store, paths, opts, check).await?.report)
}

/// [`run_checked`], saying which entries were skipped as already recorded.
#[tracing::instrument(name = "run_checked", skip_all)]
pub async fn import_checked(
    store: &Store,
    paths: &[PathBuf],
    opts: &ImportOptions,
    check: &EntryCheck<'_>,
) -> Result<ImportOutcome, AppError> {
    // BACKSTOCK_TIMING=1 prints how long each phase took (for benchmarks).
    let phases = crate::timing::Phases::start();
    let phase = |what: &str| phases.done(what);
    let (files, folders) = collect(paths)?;
    if files.is_empty() {
        return Err(AppError::new(
            Exit::Input,
            format!(
                "no files to import (give CSV files or a directory holding them){}",
                folders
                    .iter()
                    .map(|f| format!("\n  {}", f.trim_end()))
                    .collect::<String>()
            ),
        ));
    }
    // Royalty reference data (payees, contracts, costs) goes in after the rest.
    let (royalty_files, files) = match (opts.royalty, opts.kind, &opts.mapping) {
        (Some(r), _, _) => (files.into_iter().map(|f| (f, r)).collect(), Vec::new()),
        (None, None, None) => crate::royalties::split_files(files, opts.encoding)?,
        _ => (Vec::new(), files),
    };
    let mapping = match &opts.mapping {
        Some(name) => Some(crate::mapping::find(store, name).await?),
        None => None,
    };
    // A dry run records every file of the run into a scratch copy of the books, as the
    // import would: what it says of a file counts the files before it in the run (a
    // payment naming a statement of the same run, balances before → after), and it
    // refuses what the import would refuse (stock short, a closed royalty period, an
    // id recorded with other details) — the same code path, nothing kept.
    let scratch = if opts.dry_run {
        Some(Scratch::of(store).await?)
    } else {
        None
    };
    let books: &Store = match &scratch {
        Some(s) => &s.store,
        None => store,
    };
    let mut plan = Vec::new();
    // A text file found in a directory that matches no file kind (a README, notes kept
    // beside the statements) is passed over and said so; named on its own, or with any
    // other extension, it is an error.
    let mut passed_over = folders;
    for path in files {
        let Peek { size, head } = peek(&path)?;
        // Text only: a workbook (a zip) or other binary file is no text in any encoding.
        let text = !head.starts_with(b"PK\x03\x04") && !head.contains(&0);
        if opts.encoding.is_none() && text {
            if let Some((utf8, c, other)) = backstock_ingest::encoding::mixed(&head) {
                return Err(AppError::new(
                    Exit::Input,
                    format!(
                        "{}: the file mixes two encodings: line {utf8} has {c:?} written in UTF-8, line {other} text in another encoding (Windows-1252); read either way one of them would be stored garbled, so nothing was imported — save the file again as \"CSV UTF-8\", or give --encoding to read it all one way",
                        path.display()
                    ),
                ));
            }
        }
        let encoding = opts.encoding.unwrap_or_else(|| Encoding::sniff(&head));
        let kind = match opts
            .kind
            .or_else(|| mapping.as_ref().map(|_| Kind::Statements))
            .or_else(|| Kind::sniff(&head))
            .or_else(|| detect_kind(&head, encoding))
        {
            Some(k) => k,
            None if loose(&path, paths) => {
                passed_over.push(format!(
                    "{}: passed over: {}\n",
                    path.display(),
                    not_a_kind(&head)
                        .unwrap_or("its first line matches no file kind backstock imports".into())
                ));
                continue;
            }
            None if not_a_kind(&head).is_some() => {
                return Err(AppError::new(
                    Exit::Input,
                    format!(
                        "{}:1: {}; nothing was imported from it",
                        path.display(),
                        not_a_kind(&head).unwrap_or_default()
                    ),
                ));
            }
            None => {
                let mut first = String::new();
                let _ = Decoder::new(&head[..], encoding)
                    .take(16 * 1024)
                    .read_to_string(&mut first);
                let files = FileKind::headers();
                let closest =
                    backstock_ingest::closest_among(first.lines().next().unwrap_or(""), &files)
                        .map(|c| format!("; {c}"))
                        .unwrap_or_default();
                return Err(AppError::new(
                    Exit::Input,
                    format!(
                        "{}:1: the header matches no known file kind{closest}; expected the columns of one of: {} (see docs/formats.md), or give --kind",
                        path.display(),
                        files.iter().map(|(f, _)| *f).collect::<Vec<_>>().join(", ")
                    ),
                ));
            }
        };
        plan.push((path, size, encoding, kind));
    }
    if plan.is_empty() && royalty_files.is_empty() {
        return Err(AppError::new(
            Exit::Input,
            format!(
                "no files to import: {}give CSV files or a directory holding them",
                passed_over.concat().replace('\n', "; ")
            ),
        ));
    }
    plan.sort_by_key(|p| p.3.import_rank());
    phase("files detected");
    // The first file's bytes are hashed and compressed on the other core while the
    // catalog is loaded (a second or so for 100k SKUs).
    let mut first_keeper = plan.first().map(|p| keep(p.0.clone(), !opts.dry_run));
    let l = store.import_lookups().await?;
    let mut ctx = Context::from_lookups(&l.catalog, &l.aliases, &l.agreements, l.digital_skus());
    drop(l);
    ctx.hold_unmatched = opts.hold_unmatched;
    phase("context loaded");
    let mut report = passed_over.concat();
    let mut already_recorded = Vec::new();
    let mut new_pos = Vec::new();
    let mut refresh_lookups = false;
    // When a file fails, the files after it are not imported: the error names them
    // (and what was recorded before it stays, each file its own transaction).
    let planned: Vec<String> = plan.iter().map(|p| p.0.display().to_string()).collect();
    let mut at = 0usize;
    // A dry run's files by SHA-256: the same bytes twice in one run are said so.
    let mut run_files: std::collections::HashMap<String, String> = Default::default();
    let files_done: Result<(), AppError> = async {
        for (path, size, encoding, kind) in plan {
            at += 1;
            let name = path
                .file_name()
                .map(|n| n.to_string_lossy().to_string())
                .unwrap_or_default();
            let shown = path.display().to_string();
            let mut keeper = Some(
                first_keeper
                    .take()
                    .unwrap_or_else(|| keep(path.clone(), !opts.dry_run)),
            );
            // Entries of most kinds name their file (catalog ids carry its hash), so the
            // hash comes first. A canonical statements file — the big one, millions of
            // lines — is parsed while the other core hashes and compresses it; its
            // entries learn the hash afterwards.
            let late = kind == Kind::Statements && mapping.is_none();
            let mut early = None;
            // Set when these bytes were imported before and everything recorded from
            // them has since been reversed (when): imported again, the new entries are
            // recorded without the file, which is kept once already.
            let mut reimport: Option<String> = None;
            if let Some(h) = keeper.take_if(|_| !late) {
                let k = kept(&shown, h)?;
                if let Some(first) = opts.dry_run.then(|| run_files.get(&k.sha)).flatten() {
                    report.push_str(&same_as(&shown, first));
                    continue;
                }
                let (standing, again) = earlier_import(books, &k.sha).await?.split();
                if let Some(at) = standing {
                    report.push_str(&already(&shown, &at));
                    continue;
                }
                reimport = again;
                early = Some(k);
            }
            ctx.file_name = shown.clone();
            ctx.file_sha256 = early.as_ref().map(|k| k.sha.clone()).unwrap_or_default();
            let parsed: Result<Parsed, AppError> = if let Some(m) = &mapping {
                crate::mapping::read(&path, &shown, m, &opts.overrides, &ctx)
            } else if kind.needs_distributor() {
                read_sent_file(
                    &path,
                    &shown,
                    kind,
                    &ctx,
                    opts.distributor.as_deref(),
                    &opts.overrides,
                )
            } else if kind == Kind::Statements && encoding == Encoding::Utf8 {
                read_statements(&path, &shown, size, &name, &ctx)
            } else {
                let f = std::fs::File::open(&path)
                    .map_err(|e| AppError::new(Exit::Input, format!("{shown}: {e}")))?;
                let bar = progress_bar(size, &name);
                let reader = bar.wrap_read(f);
                let r = backstock_ingest::read(
                    kind,
                    Decoder::new(BufReader::with_capacity(1 << 20, reader), encoding),
                    &ctx,
                );
                bar.finish_and_clear();
                r.map_err(|e| AppError::new(Exit::Input, e.to_string().trim_end().to_string()))
            };
            phase("parsed");
            let (k, parsed) = match early {
                Some(k) => (k, parsed?),
                None => {
                    let Some(h) = keeper.take() else {
                        return Err(AppError::new(Exit::Other, format!("{shown}: not read")));
                    };
                    let k = kept(&shown, h)?;
                    if let Some(first) = opts.dry_run.then(|| run_files.get(&k.sha)).flatten() {
                        report.push_str(&same_as(&shown, first));
                        continue;
                    }
                    // The same bytes again: "already imported", whether or not they
                    // still parse against today's catalog.
                    let (standing, again) = earlier_import(books, &k.sha).await?.split();
                    if let Some(at) = standing {
                        report.push_str(&already(&shown, &at));
                        continue;
                    }
                    reimport = again;
                    let mut parsed = parsed?;
                    for e in &mut parsed.entries {
                        if let backstock_ledger::Provenance::File { sha256, .. } = &mut e.provenance
                        {
                            sha256.clone_from(&k.sha);
                        }
                    }
                    (k, parsed)
                }
            };
            phase("original hashed and compressed");
            if let Some(why) = parsed.entries.iter().find_map(|e| check(e).err()) {
                return Err(AppError::new(
                    Exit::Input,
                    format!("{shown}: {why}; nothing was recorded from this file"),
                ));
            }
            // The journal's idempotency, checked before anything is previewed or recorded,
            // so a dry run says what the import will do: an entry recorded before with the
            // same details is skipped (counted), with other details it refuses the file.
            let mut parsed = parsed;
            // The file's statement, when it makes one (`--statement-id` names one).
            let mut made = parsed.entries.iter().filter_map(|e| match &e.event {
                backstock_ledger::Event::Statement(st) => Some(st.statement_id.clone()),
                _ => None,
            });
            let first_statement = match (made.next(), made.next()) {
                (Some(id), None) => Some(id),
                _ => None,
            };
            let skipped = split_recorded(books, &shown, &mut parsed.entries, opts.dry_run)
                .await
                .map_err(|e| match (&first_statement, kind.needs_distributor()) {
                    // A distributor's corrected file, sent again under the same
                    // control number or message id: the flag that records it.
                    (Some(id), true) if e.to_string().contains("already recorded with different details") => e.context(format!(
                        "a corrected {kind} file sent again under the same number replaces the first: reverse the one on file (backstock correct statement:{d}:{id} --reason \"corrected by the distributor\"), then record this one under an id of its own (backstock import {shown} --distributor {d} --statement-id {id}-R1) — without the reversal both would count",
                        kind = kind.as_str(),
                        d = opts.distributor.as_deref().unwrap_or("D")
                    )),
                    _ => e,
                })?;
            let n_new = parsed.entries.len();
            let n_skipped = skipped.len();
            // Entries of this file on record but reversed since: not recorded again (a
            // distributor's cumulative file re-sends what the label reversed on
            // purpose), said so with the way to record one again.
            let mut reversed_note = String::new();
            if !skipped.is_empty() {
                let gone = crate::correct::reversed_ids(books, None).await?;
                let again: Vec<&String> = skipped.iter().filter(|id| gone.contains(*id)).collect();
                if !again.is_empty() {
                    let named: Vec<&str> = again.iter().take(5).map(|s| s.as_str()).collect();
                    let more = if again.len() > 5 {
                        format!(" and {} more", again.len() - 5)
                    } else {
                        String::new()
                    };
                    reversed_note = format!(
                        "  note: {} reversed on record ({}{more}): not recorded again — to record {} again, give it an id of its own (a mapped or distributor's statement: --statement-id ID-R1; otherwise a new id in the file)\n",
                        if again.len() == 1 {
                            "this file's entry is".to_string()
                        } else {
                            format!("{} of this file's entries are", again.len())
                        },
                        named.join(", "),
                        if again.len() == 1 { "it" } else { "one" },
                    );
                }
            }
            already_recorded.extend(skipped);
            phase("checked against the journal");
            let totals: Vec<String> = parsed.totals.iter().map(crate::output::money).collect();
            let summary = format!(
                "{} {} line{} → {} entr{}{}{}",
                crate::output::thousands(parsed.lines as i64),
                kind.as_str(),
                if parsed.lines == 1 { "" } else { "s" },
                crate::output::thousands((n_new + n_skipped) as i64),
                if n_new + n_skipped == 1 { "y" } else { "ies" },
                if totals.is_empty() {
                    String::new()
                } else {
                    format!(", total {}", totals.join(" + "))
                },
                if parsed.unknown.is_empty() {
                    String::new()
                } else {
                    format!(
                        ", {} unknown code(s): {}",
                        parsed.unknown.len(),
                        parsed.unknown.keys().cloned().collect::<Vec<_>>().join(" ")
                    )
                }
            );
            // What deserves a second look, said before anything is recorded.
            let warned = crate::preview::warnings(books, kind, &parsed.entries).await?;
            let warned: String = parsed
                .notes
                .iter()
                .map(|n| format!("  note: {n}\n"))
                .chain(std::iter::once(reversed_note).filter(|n| !n.is_empty()))
                .chain(warned.iter().map(|w| format!("  warning: {w}\n")))
                .collect();
            if opts.dry_run {
                // Said once the scratch books took the file: a file the import would
                // refuse is not also listed among what the files before it would do.
                let mut said = format!(
                    "{shown}: would record {summary}{} (dry run: nothing changed)\n",
                    skipped_note(n_skipped, n_new)
                );
                said.push_str(&crate::preview::changes(books, kind, &parsed.entries).await?);
                said.push_str(&warned);
                for e in &parsed.entries {
                    ctx.learn(e);
                }
                if kind == Kind::PurchaseOrders {
                    new_pos.extend(parsed.entries.iter().cloned());
                }
                if let Err(e) = crate::books::refuse_closed(books, &parsed.entries).await {
                    return Err(would_refuse(e, &shown));
                }
                run_files.insert(k.sha.clone(), shown.clone());
                // Into the scratch copy only; the original is not kept there.
                let file = SourceFile {
                    sha256: k.sha,
                    name,
                    kind: kind.as_str().into(),
                    size,
                    parts: Vec::new(),
                    lines: k.lines,
                };
                let file = if reimport.is_some() { None } else { Some(file) };
                if let Err(e) = books.record_all(parsed.entries, file).await {
                    return Err(would_refuse(e.into(), &shown));
                }
                report.push_str(&said);
                continue;
            }
            let Some(parts) = k.parts else {
                return Err(AppError::new(
                    Exit::Other,
                    format!("{shown}: the compressed original is missing"),
                ));
            };
            let file = SourceFile {
                sha256: k.sha,
                name,
                kind: kind.as_str().into(),
                size,
                parts,
                lines: k.lines,
            };
            // What later files of this run need from this one is taken first: the store
            // takes the entries and drops each as soon as its rows are built.
            for e in &parsed.entries {
                ctx.learn(e);
            }
            if kind == Kind::PurchaseOrders {
                new_pos.extend(parsed.entries.iter().cloned());
            }
            crate::books::refuse_closed(store, &parsed.entries).await?;
            let reread_key_of = reread_key(&file.sha256);
            let reread_ids: Vec<String> = if reimport.is_some() {
                parsed.entries.iter().map(|e| e.id.to_string()).collect()
            } else {
                Vec::new()
            };
            let recorded = store
                .record_all(parsed.entries, if reimport.is_some() { None } else { Some(file) })
                .await;
            phase("recorded");
            if recorded.is_ok() && !reread_ids.is_empty() {
                // What this reading recorded stands for these bytes from now on: the
                // same bytes again are "already imported" until it is reversed too.
                let key = reread_key_of;
                let mut list = store.meta(&key).await?.unwrap_or_default();
                for id in &reread_ids {
                    list.push_str(id);
                    list.push('\n');
                }
                store.set_meta(&key, &list).await?;
            }
            if let Some(at) = &reimport {
                report.push_str(&format!(
                    "{shown}: imported before on {}; everything recorded from it then had been reversed, so it is read again (the original is kept once)\n",
                    &at[..at.len().min(10)]
                ));
            }
            report.push_str(&recorded_report_skipping(
                &shown, &summary, recorded, n_skipped,
            )?);
            report.push_str(&warned);
            refresh_lookups |= matches!(kind, Kind::Catalog | Kind::Distributors);
        }
        Ok(())
    }
    .await;
    if let Err(e) = files_done {
        let rest = planned.get(at..).unwrap_or_default();
        let done = planned.get(..at.saturating_sub(1)).unwrap_or_default();
        let mut e = e;
        if !rest.is_empty() {
            e = e.context(format!(
                "not imported because of this: {} (import {} again once this file is fixed)",
                rest.join(", "),
                if rest.len() == 1 { "it" } else { "them" }
            ));
        }
        if !done.is_empty() && !opts.dry_run {
            e = e.context(format!("already recorded before it: {}", done.join(", ")));
        }
        return Err(with_report_so_far(e, &report, opts.dry_run));
    }
    if refresh_lookups {
        // The store keeps what imports need of the catalog and agreements as a derived
        // snapshot; building it now, with the catalog, spares the next statements file
        // reading 100k items out of the journal. (It is rebuilt on demand otherwise.)
        let _ = store.import_lookups().await;
        phase("catalog lookups kept");
    }
    // Judged once everything of this run is in (statements and payments may come in
    // the same run, after the orders).
    report.push_str(&flag_purchase_orders(books, &new_pos).await?);
    phase("purchase orders checked");
    report.push_str(
        &crate::royalties::import_files(
            books,
            &royalty_files,
            opts.encoding,
            opts.dry_run,
            Some(&ctx),
            check,
        )
        .await
        .map_err(|e| with_report_so_far(e, &report, opts.dry_run))?,
    );
    phase("royalty files read");
    if let Some(s) = scratch {
        s.close().await;
    }
    Ok(ImportOutcome {
        report,
        already_recorded,
    })
}

/// An import that stops at a file still says what the files before it did (or, in a
/// dry run, would do): their reports follow the error.
fn with_report_so_far(e: AppError, report: &str, dry_run: bool) -> AppError {
    if report.trim().is_empty() {
        return e;
    }
    e.context(format!(
        "the files before it {}:\n{}",
        if dry_run { "would do this" } else { "did this" },
        report.trim_end()
    ))
}

/// What a dry run says of a file the import would refuse.
pub(crate) fn would_refuse(e: AppError, shown: &str) -> AppError {
    e.context(format!(
        "{shown}: the import would refuse this file (dry run: nothing changed)"
    ))
}

/// A dry run's scratch books: a copy of the label's database in a private temporary
/// directory, removed when dropped (also when the run fails).
struct Scratch {
    // Declared first: the store's connections go before the directory.
    store: Store,
    _dir: ScratchDir,
}

/// A directory removed with everything in it when dropped.
struct ScratchDir(PathBuf);

impl Drop for ScratchDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

impl Scratch {
    async fn of(store: &Store) -> Result<Scratch, AppError> {
        use std::sync::atomic::{AtomicU64, Ordering};
        static NEXT: AtomicU64 = AtomicU64::new(0);
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.subsec_nanos())
            .unwrap_or_default();
        let path = std::env::temp_dir().join(format!(
            "backstock-dry-run-{}-{nanos}-{}",
            std::process::id(),
            NEXT.fetch_add(1, Ordering::Relaxed)
        ));
        let mut builder = std::fs::DirBuilder::new();
        #[cfg(unix)]
        std::os::unix::fs::DirBuilderExt::mode(&mut builder, 0o700);
        builder.create(&path).map_err(|e| {
            AppError::new(
                Exit::Other,
                format!(
                    "the dry run needs a scratch copy of the books in {}: {e}",
                    path.display()
                ),
            )
        })?;
        // From here on the directory is removed whatever fails.
        let dir = ScratchDir(path);
        let store = store.scratch_copy(&dir.0).await?;
        Ok(Scratch { store, _dir: dir })
    }

    /// Closes the copy's connections before its directory goes.
    async fn close(self) {
        self.store.pool().close().await;
    }
}

/// Takes out of `entries` those the journal already holds with the same details
/// (dates and event; where they were read from may differ) and returns their ids. An
/// id recorded with other details, or given twice in the file, refuses the file with
/// the store's own words — what the import would say, said by its dry run too.
async fn split_recorded(
    store: &Store,
    shown: &str,
    entries: &mut Vec<backstock_ledger::Entry>,
    dry_run: bool,
) -> Result<Vec<String>, AppError> {
    let refuse = |id: &str, why: backstock_store::StoreError| {
        tracing::debug!(entry = id, "refused by the journal's idempotency");
        if dry_run {
            would_refuse(AppError::from(why), shown)
        } else {
            AppError::from(why).context(format!("{shown}: nothing was recorded from this file"))
        }
    };
    let mut ids = std::collections::HashSet::with_capacity(entries.len());
    for e in entries.iter() {
        if !ids.insert(e.id.as_str()) {
            return Err(refuse(
                e.id.as_str(),
                backstock_store::StoreError::Conflict {
                    entry_id: e.id.to_string(),
                },
            ));
        }
    }
    let ids: Vec<&str> = ids.into_iter().collect();
    let recorded: std::collections::HashMap<String, backstock_ledger::Entry> = store
        .entries_with_ids(&ids)
        .await?
        .into_iter()
        .map(|e| (e.id.to_string(), e))
        .collect();
    if recorded.is_empty() {
        return Ok(Vec::new());
    }
    for e in entries.iter() {
        if let Some(old) = recorded.get(e.id.as_str()) {
            if (old.effective_on, old.known_on, &old.event)
                != (e.effective_on, e.known_on, &e.event)
            {
                // Where in the file the entry comes from, so the rows can be found.
                let rows = match &e.provenance {
                    backstock_ledger::Provenance::File {
                        first_line,
                        last_line,
                        ..
                    } if first_line == last_line => format!("{shown}, line {first_line}"),
                    backstock_ledger::Provenance::File {
                        first_line,
                        last_line,
                        ..
                    } => format!("{shown}, lines {first_line}-{last_line}"),
                    _ => shown.to_string(),
                };
                let mut err = refuse(
                    e.id.as_str(),
                    backstock_store::StoreError::Conflict {
                        entry_id: e.id.to_string(),
                    },
                );
                if crate::correct::reversed_ids(store, None)
                    .await?
                    .contains(e.id.as_str())
                {
                    // Reversed already: the only step left is the id of its own.
                    let statement_id = match &e.event {
                        backstock_ledger::Event::Statement(st) => Some(st.statement_id.clone()),
                        _ => None,
                    };
                    err = err.context(format!(
                        "{} is reversed already (correction:{}): record this one under an id of its own{}",
                        e.id,
                        e.id,
                        match statement_id {
                            Some(sid) => format!(" — for a mapped or distributor's file, `--statement-id {sid}-R1` on the import; for a canonical file, a new statement_id in it"),
                            None => " (a new id in the file, such as the old one with -R1)".to_string(),
                        }
                    ));
                }
                return Err(err.context(format!(
                    "{rows} make{} that entry",
                    if rows.contains(", lines ") { "" } else { "s" }
                )));
            }
        }
    }
    let mut skipped = Vec::new();
    entries.retain(|e| {
        if recorded.contains_key(e.id.as_str()) {
            skipped.push(e.id.to_string());
            false
        } else {
            true
        }
    });
    Ok(skipped)
}

/// ` (N already recorded, M new)` when some entries were already recorded.
fn skipped_note(skipped: usize, new: usize) -> String {
    if skipped == 0 {
        String::new()
    } else {
        format!(" ({skipped} already recorded, {new} new)")
    }
}

/// Reads a canonical statements file (UTF-8) on every core: one region of the file per
/// thread, each opening the file at its own offset. The result is exactly the
/// sequential reader's (same entries, same errors).
fn read_statements(
    path: &Path,
    shown: &str,
    size: u64,
    name: &str,
    ctx: &Context,
) -> Result<Parsed, AppError> {
    use std::io::{Seek, SeekFrom};
    let open_at = |offset: u64| -> std::io::Result<std::fs::File> {
        let mut f = std::fs::File::open(path)?;
        f.seek(SeekFrom::Start(offset))?;
        Ok(f)
    };
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
    let bar = progress_bar(size, name);
    // Threads report their bytes read so far; reports may arrive out of order.
    let done = std::sync::atomic::AtomicU64::new(0);
    let progress = |n: u64| {
        let before = done.fetch_max(n, std::sync::atomic::Ordering::Relaxed);
        if n > before {
            bar.set_position(n);
        }
    };
    let r = backstock_ingest::read_statements_parallel(ctx, size, &open_at, threads, &progress);
    bar.finish_and_clear();
    match r {
        Err(e) => Err(AppError::new(Exit::Input, format!("{shown}: {e}"))),
        Ok(r) => r.map_err(|e| AppError::new(Exit::Input, e.to_string().trim_end().to_string())),
    }
}

/// Reads an EDI or DSR file, which names its sender in its own terms: the user says
/// which distributor sent it.
fn read_sent_file(
    path: &Path,
    shown: &str,
    kind: Kind,
    ctx: &Context,
    distributor: Option<&str>,
    overrides: &backstock_mapping::Overrides,
) -> Result<Parsed, AppError> {
    let Some(d) = distributor else {
        return Err(AppError::new(
            Exit::Input,
            format!(
                "{shown}: {} files name their sender in their own terms; say which distributor sent it with --distributor NAME",
                kind.as_str()
            ),
        ));
    };
    let d = backstock_domain::PartyId::parse(d)
        .map_err(|e| AppError::new(Exit::Input, format!("--distributor: {e}")))?;
    let opts = sent_options(kind, overrides)?;
    let bytes =
        std::fs::read(path).map_err(|e| AppError::new(Exit::Input, format!("{shown}: {e}")))?;
    let r = if kind == Kind::X12 {
        backstock_ingest::edi::read_x12_lines(&bytes, ctx, &d, &opts, &mut |_| {})
    } else {
        backstock_ingest::edi::read_dsr_lines(&bytes, ctx, &d, &opts, &mut |_| {})
    };
    r.map_err(|e| AppError::new(Exit::Input, e.to_string().trim_end().to_string()))
}

/// What `--statement-id`, `--currency`, `--period-start` and `--period-end` say of an
/// EDI or DSR file; a flag such a file does not take (`--issued-on`; a DSR's currency
/// and period, which it always gives) is refused rather than ignored.
fn sent_options(
    kind: Kind,
    o: &backstock_mapping::Overrides,
) -> Result<backstock_ingest::edi::SentOptions, AppError> {
    let bad = |flag: &str, e: String| AppError::new(Exit::Input, format!("{flag}: {e}"));
    let ignored = if o.issued_on.is_some() {
        Some("--issued-on")
    } else if kind == Kind::Dsr && o.currency.is_some() {
        Some("--currency")
    } else if kind == Kind::Dsr && (o.period_start.is_some() || o.period_end.is_some()) {
        Some("--period-start/--period-end")
    } else {
        None
    };
    if let Some(flag) = ignored {
        return Err(AppError::new(
            Exit::Input,
            format!(
                "{flag} is not taken for a {} file: it says that itself (HEAD, CUR, GS04); the flags it takes are --distributor and --statement-id{}",
                kind.as_str(),
                if kind == Kind::X12 { ", --currency (when it has no CUR), --period-start and --period-end (when it gives no dates)" } else { "" }
            ),
        ));
    }
    let date = |flag: &str, v: &Option<String>| {
        v.as_deref()
            .map(|t| backstock_domain::Date::parse(t).map_err(|e| bad(flag, e.to_string())))
            .transpose()
    };
    Ok(backstock_ingest::edi::SentOptions {
        statement_id: o.statement_id.clone(),
        currency: o
            .currency
            .as_deref()
            .map(|c| {
                backstock_domain::Currency::parse(c).map_err(|e| bad("--currency", e.to_string()))
            })
            .transpose()?,
        period_start: date("--period-start", &o.period_start)?,
        period_end: date("--period-end", &o.period_end)?,
    })
}

/// What the user is told about one file's `Store::record`: recorded (and how many of
/// its entries were already on file), or already imported; an error says nothing of it
/// was recorded.
pub(crate) fn recorded_report(
    shown: &str,
    summary: &str,
    recorded: Result<RecordOutcome, backstock_store::StoreError>,
) -> Result<String, AppError> {
    recorded_report_skipping(shown, summary, recorded, 0)
}

/// [`recorded_report`] for a file of which `skipped` entries were taken out before
/// recording as already recorded.
fn recorded_report_skipping(
    shown: &str,
    summary: &str,
    recorded: Result<RecordOutcome, backstock_store::StoreError>,
    skipped: usize,
) -> Result<String, AppError> {
    match recorded {
        Ok(RecordOutcome::Recorded {
            recorded,
            unchanged,
            ..
        }) => {
            let on_file = unchanged + skipped;
            let out = if recorded == 0 && on_file == 0 {
                format!("{shown}: no lines after its header; nothing to record (the file is kept as imported)\n")
            } else if recorded == 0 {
                format!(
                    "{shown}: read {summary}; nothing new: {} already recorded from another file (this copy is kept as imported)\n",
                    if on_file == 1 { "its entry was".to_string() } else { format!("all {on_file} of its entries were") }
                )
            } else {
                format!(
                    "{shown}: recorded {summary}{}\n",
                    skipped_note(on_file, recorded)
                )
            };
            Ok(out)
        }
        Ok(RecordOutcome::AlreadyImported { imported_at, .. }) => Ok(already(shown, &imported_at)),
        Err(e) => {
            Err(AppError::from(e).context(format!("{shown}: nothing was recorded from this file")))
        }
    }
}

/// What became of an earlier import of the same bytes.
enum Earlier {
    /// Never imported.
    New,
    /// Imported on this day, and what it recorded stands (or it recorded nothing).
    Standing(String),
    /// Imported on this day, and every entry it recorded was reversed since: the file
    /// may be read again (with another mapping, distributor or statement id).
    Reversed(String),
}

impl Earlier {
    /// (imported on, when what it recorded stands: "already imported"; imported on,
    /// when all of it was reversed: read again).
    fn split(self) -> (Option<String>, Option<String>) {
        match self {
            Earlier::New => (None, None),
            Earlier::Standing(at) => (Some(at), None),
            Earlier::Reversed(at) => (None, Some(at)),
        }
    }
}

/// The meta key listing the entries recorded by reading again bytes imported before
/// (recorded without the file, which is kept once): what they recorded stands too.
fn reread_key(sha: &str) -> String {
    format!("reread:{sha}")
}

async fn earlier_import(books: &Store, sha: &str) -> Result<Earlier, AppError> {
    let Some((at, _)) = books.file_imported(sha).await? else {
        return Ok(Earlier::New);
    };
    let mut ids = books.entry_ids_of_file(sha).await?;
    if let Some(list) = books.meta(&reread_key(sha)).await? {
        ids.extend(list.lines().map(str::to_string));
    }
    if ids.is_empty() {
        return Ok(Earlier::Standing(at));
    }
    let gone = crate::correct::reversed_ids(books, None).await?;
    Ok(if ids.iter().all(|id| gone.contains(id)) {
        Earlier::Reversed(at)
    } else {
        Earlier::Standing(at)
    })
}

/// A file of a dry run with the same bytes as one before it in the run.
fn same_as(shown: &str, first: &str) -> String {
    format!("{shown}: the same file as {first}, earlier in this run; it would change nothing\n")
}

pub(crate) fn already(shown: &str, at: &str) -> String {
    format!(
        "{shown}: already imported on {}; nothing changed\n",
        &at[..at.len().min(10)]
    )
}

/// A progress bar on stderr for files over 8 MB when stderr is a terminal; hidden
/// otherwise (scripts and CI stay quiet).
fn progress_bar(size: u64, name: &str) -> indicatif::ProgressBar {
    use std::io::IsTerminal;
    if size < 8 << 20 || !std::io::stderr().is_terminal() {
        return indicatif::ProgressBar::hidden();
    }
    let bar = indicatif::ProgressBar::new(size);
    if let Ok(style) = indicatif::ProgressStyle::with_template(
        "{msg} [{bar:40}] {bytes}/{total_bytes} ({bytes_per_sec}, {eta} left)",
    ) {
        bar.set_style(style.progress_chars("=> "));
    }
    bar.set_message(format!("reading {name}"));
    bar
}

/// Purchase orders that arrived while their distributor was in arrears (the Allegro
/// pattern: ordering more while not paying), one line per PO.
async fn flag_purchase_orders(
    store: &Store,
    entries: &[backstock_ledger::Entry],
) -> Result<String, AppError> {
    use backstock_ledger::{Event, Fact};
    // Each PO once, with what all its lines order: (first line, units, SKUs).
    let mut pos: std::collections::BTreeMap<
        (String, String),
        (backstock_ledger::facts::PurchaseOrder, u64, usize),
    > = Default::default();
    for e in entries {
        if let Event::Fact(Fact::PurchaseOrder(p)) = &e.event {
            let po = pos
                .entry((p.distributor.to_string(), p.po_number.clone()))
                .or_insert_with(|| (p.clone(), 0, 0));
            po.1 = po.1.saturating_add(p.units);
            po.2 += 1;
        }
    }
    if pos.is_empty() {
        return Ok(String::new());
    }
    let all: Vec<backstock_ledger::Entry> = store
        .entries(&[], None)
        .await?
        .into_iter()
        .map(|(_, e)| e)
        .collect();
    let th = crate::risk::thresholds(store).await?;
    let mut flagged = Vec::new();
    for (po, units, skus) in pos.values() {
        let snap = backstock_risk::Snapshot::from_entries(po.date, all.iter().cloned());
        let reasons = backstock_risk::credit::po_flags(&snap, &th, po);
        if let Some(first) = reasons.first() {
            // The first reason's first clause; `backstock risk --as-of DATE` has the rest.
            let short = first.message.split(" — ").next().unwrap_or(&first.message);
            // The whole order, not its first line.
            let short = if *skus > 1 {
                short.replace(
                    &format!("for {} × {}", po.units, po.sku),
                    &format!("for {units} units of {skus} SKUs"),
                )
            } else {
                short.to_string()
            };
            flagged.push((
                po.date,
                format!(
                    "  {} {} from {}: {short}",
                    po.date, po.po_number, po.distributor
                ),
            ));
        }
    }
    flagged.sort();
    let flagged: Vec<String> = flagged.into_iter().map(|(_, f)| f).collect();
    if flagged.is_empty() {
        return Ok(String::new());
    }
    let n = flagged.len();
    let mut out = format!(
        "warning: {n} purchase order{} arrived while the distributor was in arrears:\n",
        if n == 1 { "" } else { "s" }
    );
    let skip = n.saturating_sub(5);
    if skip > 0 {
        out.push_str(&format!("  … {skip} earlier, then:\n"));
    }
    for f in flagged.into_iter().skip(skip) {
        out.push_str(&f);
        out.push('\n');
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The original is hashed, counted and kept whole whatever the number of parts,
    /// compressed or not (a dry run once stopped hashing after three parts).
    #[test]
    fn keeping_a_file_of_many_parts_hashes_and_keeps_all_of_it() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("f.csv");
        let bytes: Vec<u8> = (0..5000u32)
            .flat_map(|i| format!("line {i},{}\n", i * 7).into_bytes())
            .collect();
        std::fs::write(&path, &bytes).unwrap();
        let sha: String = Sha256::digest(&bytes)
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect();
        for part_bytes in [64, 1000, bytes.len(), bytes.len() + 1] {
            for compress in [false, true] {
                let k = keep_in_parts(path.clone(), compress, part_bytes)
                    .join()
                    .unwrap()
                    .unwrap();
                assert_eq!(k.sha, sha, "parts of {part_bytes}, compressed {compress}");
                assert_eq!(k.lines, 5000);
                match k.parts {
                    Some(parts) => {
                        assert_eq!(parts.len(), bytes.len().div_ceil(part_bytes));
                        let back = backstock_store::decompress(&parts.concat()).unwrap();
                        assert_eq!(back, bytes);
                    }
                    None => assert!(!compress),
                }
            }
        }
        // An empty file: one empty frame.
        std::fs::write(&path, b"").unwrap();
        let k = keep_in_parts(path, true, 64).join().unwrap().unwrap();
        assert_eq!((k.lines, k.parts.map(|p| p.len())), (0, Some(1)));
    }
}
