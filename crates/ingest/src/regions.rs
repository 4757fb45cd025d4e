//! The canonical statements file read in regions, one thread each.
//!
//! The file is cut into N regions at line starts (the first line starting at or after
//! `len × k / N`); each region is read on its own thread in blocks of a few MB, and the
//! partial results (per statement × SKU × kind totals, unknown codes, held lines) are
//! merged in file order. The result is the one the sequential reader
//! ([`crate::read`] with [`Kind::Statements`]) gives, entry for entry:
//!
//! * A line without `"` is split on commas by hand; a line with quotes (possibly a
//!   record spanning lines, recognised by quote parity) is read by the csv crate on that
//!   record's bytes. Both go through the same row reader as the sequential path.
//! * Line numbers are counted per region and shifted by the newlines of the regions
//!   before it when merging: a record is numbered by the line it starts on, as the
//!   sequential reader numbers it (blank lines and `\r\n` endings counted as lines).
//! * Fast lines (the statement's columns repeated, a known code, plain numbers) are
//!   added 16 at a time: table slots are prefetched, then entries, then totals added.
//! * A cut inside a quoted field is detected (region k did not end where region k + 1
//!   began): the rest of the file from the end of region k is then read on one thread.
//! * Whatever the merge cannot reproduce exactly — any error in the file, a statement
//!   whose columns differ between regions, totals large enough that the order of
//!   additions could matter, a bare carriage return, an unusual header — makes the
//!   whole file go through the sequential reader, which is the reference: errors come
//!   back with the same text and lines. A file with errors therefore costs one
//!   sequential read more than a clean one.

use crate::canonical::{
    self, fast_amount, fast_kind, fast_units, joined_statement, row_of, short_code, trim,
    KindState, Row,
};
use crate::error::{Errors, FileErrors};
use crate::{Context, Decoder, Encoding, Kind, Parsed};
use backstock_domain::{Currency, Money};
use backstock_ledger::LineKind;
use rustc_hash::FxHashMap;
use std::collections::btree_map::Entry as MapEntry;
use std::io::{self, Read};
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};

/// Bytes read at a time by each region.
const BLOCK: usize = 4 << 20;
/// A record (or header) longer than this sends the file to the sequential reader.
const MAX_RECORD: usize = 16 << 20;
/// Fields of a line the fast path splits (columns beyond go through the general path).
const MAX_FIELDS: usize = 16;

/// Reads a canonical statements file (UTF-8 or ASCII; a leading BOM is skipped) of
/// `len` bytes with `threads` threads (`len` places the cuts; the last region reads on
/// to the end of the file).
///
/// `open_at(offset)` returns a reader positioned at that byte offset of the file
/// (called once per region and once more for the header; each from its own thread).
/// `progress(bytes)` is called as blocks are read with the number of bytes read so
/// far over all threads (calls from different threads may arrive slightly out of
/// order).
///
/// The outer error is an I/O error from `open_at` or a reader; the inner result is
/// exactly what [`crate::read`]`(Kind::Statements, Decoder::new(file, Encoding::Utf8),
/// ctx)` returns for the same bytes.
pub fn read_statements_parallel<R: Read>(
    ctx: &Context,
    len: u64,
    open_at: &(dyn Fn(u64) -> io::Result<R> + Sync),
    threads: usize,
    progress: &(dyn Fn(u64) + Sync),
) -> io::Result<Result<Parsed, FileErrors>> {
    let shared = Shared {
        ctx,
        open_at,
        progress,
        done: AtomicU64::new(0),
        failed_at: AtomicUsize::new(usize::MAX),
        len,
        block: BLOCK,
    };
    let result = match shared.parallel(threads.max(1))? {
        Some(r) => r,
        None => shared.sequential()?,
    };
    Ok(result.map_err(|e| e.into_file(&ctx.file_name)))
}

/// What every region's thread shares.
struct Shared<'a, R> {
    ctx: &'a Context,
    open_at: &'a (dyn Fn(u64) -> io::Result<R> + Sync),
    progress: &'a (dyn Fn(u64) + Sync),
    done: AtomicU64,
    /// The first region that gave up (the regions after it stop early).
    failed_at: AtomicUsize,
    len: u64,
    /// Bytes read at a time.
    block: usize,
}

/// Why a region did not produce a result the merge can use.
#[derive(Debug)]
enum Stop {
    /// The sequential reader must read the file (errors, or an unusual file).
    Sequential,
    /// A region before this one gave up: this one's result is not needed.
    Abandoned,
    Io(io::Error),
}

impl From<io::Error> for Stop {
    fn from(e: io::Error) -> Stop {
        Stop::Io(e)
    }
}

/// One region's partial result. Lines are numbered from 1 at the region's start (a
/// record by the line it starts on, as the sequential reader numbers it); the merge
/// shifts them by the lines of the regions before.
#[derive(Default)]
struct Region {
    start: u64,
    end: u64,
    /// `\n` bytes in `start..end`.
    newlines: u64,
    lines: u64,
    unknown: std::collections::BTreeMap<String, u64>,
    state: KindState,
    /// Sums of absolute units and amounts of every line taken: while both fit in an
    /// i64, no partial total can overflow whatever the order of additions.
    units_bound: u64,
    amount_bound: u64,
}

/// The header: where the data starts and where the columns are.
struct Header {
    data_start: u64,
    idx: Vec<usize>,
    /// The header's number of columns.
    width: usize,
}

impl<R: Read> Shared<'_, R> {
    /// The reference: the sequential reader over the whole file.
    fn sequential(&self) -> io::Result<Result<Parsed, Errors>> {
        self.done.store(0, Ordering::Relaxed);
        let input = Counted {
            inner: (self.open_at)(0)?,
            shared: self,
        };
        Ok(canonical::read(
            Kind::Statements,
            Decoder::new(input, Encoding::Utf8),
            self.ctx,
        ))
    }

    fn report(&self, n: usize) {
        let total = self.done.fetch_add(n as u64, Ordering::Relaxed) + n as u64;
        (self.progress)(total);
    }

    /// `None`: the file needs the sequential reader.
    fn parallel(&self, threads: usize) -> io::Result<Option<Result<Parsed, Errors>>> {
        let Some(header) = self.header()? else {
            return Ok(None);
        };
        let data = header.data_start;
        let span = self.len.saturating_sub(data);
        let n = threads as u64;
        // The last region reads to the end of the file, whatever `len` said.
        let cut = |k: u64| {
            if k == n {
                u64::MAX
            } else {
                data + (u128::from(span) * u128::from(k) / u128::from(n)) as u64
            }
        };
        let results: Vec<Result<Region, Stop>> = std::thread::scope(|s| {
            let handles: Vec<_> = (1..threads)
                .map(|k| {
                    let (from, stop) = (cut(k as u64), cut(k as u64 + 1));
                    let header = &header;
                    s.spawn(move || self.region(k, header, from, true, stop))
                })
                .collect();
            let mut all = vec![self.region(0, &header, data, false, cut(1))];
            for h in handles {
                all.push(h.join().unwrap_or(Err(Stop::Sequential)));
            }
            all
        });
        // Walk the regions in file order; the first misaligned cut sends the rest of the
        // file to one thread.
        let mut taken: Vec<Region> = Vec::with_capacity(results.len());
        let mut results = results.into_iter().peekable();
        while let Some(r) = results.next() {
            let r = match r {
                Ok(r) => r,
                Err(Stop::Io(e)) => return Err(e),
                Err(Stop::Sequential | Stop::Abandoned) => return Ok(None),
            };
            let end = r.end;
            taken.push(r);
            let next_start = match results.peek() {
                None => break,
                Some(Ok(next)) => Some(next.start),
                Some(Err(_)) => None,
            };
            if next_start != Some(end) {
                // Either a cut inside a quoted field, or the next region gave up
                // (possibly because it began inside a quoted field): read on from here.
                self.failed_at.store(usize::MAX, Ordering::Relaxed);
                match self.region(usize::MAX - 1, &header, end, false, u64::MAX) {
                    Ok(rest) => taken.push(rest),
                    Err(Stop::Io(e)) => return Err(e),
                    Err(_) => return Ok(None),
                }
                break;
            }
        }
        Ok(merge(self.ctx, &header, taken))
    }

    /// Reads the header line; `None` when anything about it is unusual (the sequential
    /// reader then reports it).
    fn header(&self) -> io::Result<Option<Header>> {
        let mut blocks = Blocks::new((self.open_at)(0)?, 0, 64 << 10);
        let end = loop {
            if let Some(i) = memchr::memchr(b'\n', blocks.pending()) {
                break blocks.lo + i;
            }
            if blocks.eof || blocks.hi - blocks.lo > MAX_RECORD {
                return Ok(None);
            }
            blocks.fill(self)?;
        };
        let mut line = &blocks.buf[..end];
        if let Some(rest) = line.strip_prefix(b"\xef\xbb\xbf") {
            line = rest;
        }
        let line = line.strip_suffix(b"\r").unwrap_or(line);
        if line.is_empty()
            || line.contains(&b'\r')
            || line.iter().filter(|b| **b == b'"').count() % 2 != 0
        {
            return Ok(None);
        }
        let mut rdr = csv::ReaderBuilder::new()
            .flexible(true)
            .has_headers(true)
            .from_reader(line);
        let Ok(headers) = rdr.headers() else {
            return Ok(None);
        };
        let Ok(idx) = canonical::column_index(Kind::Statements, headers) else {
            return Ok(None);
        };
        let width = headers.len();
        // The block read past the header is read again by the first region.
        self.done.store(end as u64 + 1, Ordering::Relaxed);
        Ok(Some(Header {
            data_start: end as u64 + 1,
            idx,
            width,
        }))
    }

    /// Reads the lines starting in `from..stop` (with `seek`, from the first line start
    /// at or after `from`).
    fn region(
        &self,
        k: usize,
        header: &Header,
        from: u64,
        seek: bool,
        stop: u64,
    ) -> Result<Region, Stop> {
        let r = self.region_inner(k, header, from, seek, stop);
        if r.is_err() {
            self.failed_at.fetch_min(k, Ordering::Relaxed);
        }
        r
    }

    fn region_inner(
        &self,
        k: usize,
        header: &Header,
        from: u64,
        seek: bool,
        stop: u64,
    ) -> Result<Region, Stop> {
        let at = if seek { from.saturating_sub(1) } else { from };
        let mut b = Blocks::new((self.open_at)(at)?, at, self.block);
        if seek && from > 0 {
            loop {
                if let Some(i) = memchr::memchr(b'\n', b.pending()) {
                    b.lo += i + 1;
                    break;
                }
                b.lo = b.hi;
                if b.eof {
                    break;
                }
                b.fill(self)?;
            }
        }
        let mut reader = LineReader::new(self.ctx, &header.idx, header.width);
        reader.region.start = b.offset();
        let mut line = 1u64;
        loop {
            if b.offset() >= stop {
                break;
            }
            // Find the end of the line: a newline, or a quote or carriage return first.
            let found = memchr::memchr3(b'\n', b'"', b'\r', b.pending());
            let (body, next, newlines) = match found {
                None if !b.eof => {
                    if self.failed_at.load(Ordering::Relaxed) < k {
                        return Err(Stop::Abandoned);
                    }
                    reader.flush(&b.buf)?;
                    b.fill(self)?;
                    continue;
                }
                None if b.lo == b.hi => break,
                None => ((b.lo, b.hi), b.hi, 0),
                Some(i) => {
                    let p = b.lo + i;
                    match b.buf[p] {
                        b'\n' => ((b.lo, p), p + 1, 1),
                        b'\r' if p + 1 < b.hi => {
                            if b.buf[p + 1] != b'\n' {
                                return Err(Stop::Sequential);
                            }
                            ((b.lo, p), p + 2, 1)
                        }
                        b'\r' if !b.eof => {
                            reader.flush(&b.buf)?;
                            b.fill(self)?;
                            continue;
                        }
                        b'\r' => ((b.lo, p), p + 1, 0),
                        _ => {
                            // A quoted record: up to the newline where quotes balance.
                            reader.flush(&b.buf)?;
                            let Some((end, newlines)) = quoted_end(&mut b, self)? else {
                                return Err(Stop::Sequential);
                            };
                            let rec = &b.buf[b.lo..end];
                            // Numbered by the line it starts on.
                            reader.quoted(rec, line)?;
                            b.lo = end;
                            line += newlines;
                            reader.region.newlines += newlines;
                            continue;
                        }
                    }
                }
            };
            // An empty line is no record (csv skips it); it is counted all the same.
            if body.1 > body.0 {
                reader.line(&b.buf, body.0, body.1, line)?;
            }
            b.lo = next;
            line += newlines;
            reader.region.newlines += newlines;
        }
        let mut region = reader.finish(&b.buf)?;
        region.end = b.offset();
        Ok(region)
    }
}

/// Where a quoted record that starts at `b.lo` ends (just after its newline, or at the
/// end of the file) and how many newlines it holds; `None` if it is too long.
fn quoted_end<R: Read>(
    b: &mut Blocks<R>,
    shared: &Shared<R>,
) -> Result<Option<(usize, u64)>, Stop> {
    let mut scanned = 0usize; // bytes after b.lo already looked at
    let mut open = false;
    let mut newlines = 0u64;
    loop {
        let from = b.lo + scanned;
        // Where to look again once the block holds more (a carriage return at its end:
        // lone, or the first half of a `\r\n`?).
        let mut again = None;
        for i in memchr::memchr3_iter(b'"', b'\n', b'\r', &b.buf[from..b.hi]) {
            let p = from + i;
            match b.buf[p] {
                b'"' => open = !open,
                b'\r' if p + 1 >= b.hi => {
                    if b.eof {
                        return Err(Stop::Sequential);
                    }
                    again = Some(p);
                    break;
                }
                // A lone carriage return is a line break of its own (old Mac files), as
                // the sequential reader numbers it. Rare: that reader reads the file.
                b'\r' if b.buf[p + 1] != b'\n' => return Err(Stop::Sequential),
                b'\r' => {}
                _ => {
                    newlines += 1;
                    if !open {
                        return Ok(Some((p + 1, newlines)));
                    }
                }
            }
        }
        scanned = again.map_or(b.hi, |p| p) - b.lo;
        if b.eof {
            return Ok(if open { None } else { Some((b.hi, newlines)) });
        }
        if scanned > MAX_RECORD {
            return Ok(None);
        }
        b.fill(shared)?;
    }
}

/// A reader's bytes in blocks: `buf[lo..hi]` is read and not yet consumed; `base` is
/// the file offset of `buf[0]`.
struct Blocks<R> {
    rdr: R,
    buf: Vec<u8>,
    lo: usize,
    hi: usize,
    base: u64,
    eof: bool,
    block: usize,
}

impl<R: Read> Blocks<R> {
    fn new(rdr: R, base: u64, block: usize) -> Blocks<R> {
        Blocks {
            rdr,
            buf: Vec::new(),
            lo: 0,
            hi: 0,
            base,
            eof: false,
            block,
        }
    }

    fn pending(&self) -> &[u8] {
        &self.buf[self.lo..self.hi]
    }

    fn offset(&self) -> u64 {
        self.base + self.lo as u64
    }

    /// Moves the unconsumed bytes to the front and reads up to a block more.
    fn fill(&mut self, shared: &Shared<R>) -> io::Result<()> {
        if self.lo > 0 {
            self.buf.copy_within(self.lo..self.hi, 0);
            self.base += self.lo as u64;
            self.hi -= self.lo;
            self.lo = 0;
        }
        let want = self.hi + self.block;
        if self.buf.len() < want {
            self.buf.resize(want, 0);
        }
        loop {
            match self.rdr.read(&mut self.buf[self.hi..want]) {
                Ok(0) => {
                    self.eof = true;
                    return Ok(());
                }
                Ok(n) => {
                    self.hi += n;
                    shared.report(n);
                    return Ok(());
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(e),
            }
        }
    }
}

/// Counts the bytes the sequential reader reads, for the progress callback.
struct Counted<'a, 'b, R> {
    inner: R,
    shared: &'a Shared<'b, R>,
}

impl<R: Read> Read for Counted<'_, '_, R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.shared.report(n);
        Ok(n)
    }
}

/// The statements of one region as its lines are read: the same logic as the
/// sequential reader (a run of lines repeating the statement columns of the last line
/// the general path accepted takes the fast path). Fast lines are handled in small
/// batches so the table lookups of several lines are in flight at once.
struct LineReader<'a> {
    ctx: &'a Context,
    idx: &'a [usize],
    names: &'static [&'static str],
    /// The header's number of columns.
    width: usize,
    /// Fields the fast path needs.
    need: usize,
    /// The columns are in canonical order: the statement columns are the line's first
    /// five fields (plus currency).
    leading: bool,
    /// The statement columns of the last line the general path accepted.
    cached: Option<Cached>,
    tally: Tally,
    /// Fast lines parsed but not yet added (their bytes are in the current block).
    pending: Vec<Pending>,
    run_last_line: u64,
    region: Region,
    parsed: Parsed,
    errs: Errors,
    srec: csv::StringRecord,
}

/// The statement columns of the cached line (only when none holds a comma): in
/// canonical order the first five joined by commas plus a trailing comma; and the six
/// values.
struct Cached {
    sid: String,
    exp: u32,
    prefix: Vec<u8>,
    head: [Vec<u8>; 6],
}

/// A fast line waiting in the batch.
#[derive(Clone, Copy)]
struct Pending {
    key: u128,
    slot: usize,
    code: (usize, usize),
    bytes: (usize, usize),
    line: u64,
    kind: LineKind,
    units: i64,
    amount: i64,
}

/// Lines per batch.
const BATCH: usize = 16;

/// What the fast path read from a line.
struct FastLine {
    kind: LineKind,
    code: (usize, usize),
    units: i64,
    amount: i64,
}

impl<'a> LineReader<'a> {
    fn new(ctx: &'a Context, idx: &'a [usize], width: usize) -> LineReader<'a> {
        let header_cols = [idx[0], idx[1], idx[2], idx[3], idx[4], idx[9]];
        LineReader {
            ctx,
            idx,
            names: canonical::columns(Kind::Statements),
            width,
            need: idx.iter().take(10).max().map_or(0, |m| m + 1),
            leading: header_cols[..5] == [0, 1, 2, 3, 4],
            cached: None,
            tally: Tally::default(),
            pending: Vec::with_capacity(BATCH),
            run_last_line: 0,
            region: Region::default(),
            parsed: Parsed::new(Kind::Statements),
            errs: Errors::default(),
            srec: csv::StringRecord::new(),
        }
    }

    /// A line without quotes or carriage returns: `buf[start..end]` (its newline
    /// removed), line `n` of the region. It may wait in the batch: call
    /// [`LineReader::flush`] before `buf` changes.
    fn line(&mut self, buf: &[u8], start: usize, end: usize, n: u64) -> Result<(), Stop> {
        let line = &buf[start..end];
        if let Some(f) = self.fast(line) {
            if let Some(key) = short_code(&line[f.code.0..f.code.1]) {
                self.pending.push(Pending {
                    key,
                    slot: 0,
                    code: (start + f.code.0, start + f.code.1),
                    bytes: (start, end),
                    line: n,
                    kind: f.kind,
                    units: f.units,
                    amount: f.amount,
                });
                if self.pending.len() == BATCH {
                    self.flush(buf)?;
                }
                return Ok(());
            }
        }
        // Not batched: the lines before it first (one of them may go through the
        // general path and change the cached statement), then this line afresh.
        self.flush(buf)?;
        if let Some(f) = self.fast(line) {
            let code = &line[f.code.0..f.code.1];
            let entry = match short_code(code) {
                Some(key) => match self.tally.find(self.tally.slot_of(key), key) {
                    Some(e) => Some(e),
                    None => self.new_entry(key, code),
                },
                None => match self.region.state.sku_index.get(code) {
                    Some(e) => Some(*e),
                    None => self.new_entry(0, code).inspect(|e| {
                        self.region.state.sku_index.insert(code.to_vec(), *e);
                    }),
                },
            };
            if let Some(e) = entry {
                self.add(e, f.kind, f.units, f.amount, n);
                return Ok(());
            }
        }
        self.general_line(line, n)
    }

    /// Adds the batch's lines: their table slots are fetched first, then their
    /// entries, then the totals are added, so the memory accesses overlap.
    fn flush(&mut self, buf: &[u8]) -> Result<(), Stop> {
        if self.pending.is_empty() {
            return Ok(());
        }
        let mut batch = std::mem::replace(&mut self.pending, Vec::with_capacity(BATCH));
        for p in batch.iter_mut() {
            p.slot = self.tally.slot_of(p.key);
            self.tally.prefetch_slot(p.slot);
        }
        let mut entries = [u32::MAX; BATCH];
        for (p, e) in batch.iter().zip(entries.iter_mut()) {
            if let Some(found) = self.tally.find(p.slot, p.key) {
                *e = found;
                self.tally.prefetch_entry(found);
            }
        }
        for (i, p) in batch.iter().enumerate() {
            let e = match entries[i] {
                u32::MAX => self.new_entry(p.key, &buf[p.code.0..p.code.1]),
                e => Some(e),
            };
            match e {
                Some(e) => self.add(e, p.kind, p.units, p.amount, p.line),
                None => {
                    // An unknown code: the general path for this line, then the rest
                    // of the batch line by line, as the sequential reader would.
                    self.general_line(&buf[p.bytes.0..p.bytes.1], p.line)?;
                    for q in &batch[i + 1..] {
                        self.line(buf, q.bytes.0, q.bytes.1, q.line)?;
                    }
                    self.flush(buf)?;
                    break;
                }
            }
        }
        batch.clear();
        if self.pending.is_empty() {
            self.pending = batch;
        }
        Ok(())
    }

    /// A new tally entry for a code the catalog knows (`None` if it does not).
    fn new_entry(&mut self, key: u128, code: &[u8]) -> Option<u32> {
        let sku = std::str::from_utf8(code)
            .ok()
            .and_then(|c| self.ctx.resolve_code(c))?;
        let skus = &mut self.region.state.skus;
        let e = u32::try_from(skus.len()).ok()?;
        skus.push(sku);
        self.tally.insert(key, e);
        Some(e)
    }

    fn add(&mut self, e: u32, kind: LineKind, units: i64, amount: i64, n: u64) {
        self.tally.add(e, kind, units, amount);
        self.region.lines += 1;
        self.run_last_line = n;
        self.region.units_bound = self.region.units_bound.saturating_add(units.unsigned_abs());
        self.region.amount_bound = self
            .region
            .amount_bound
            .saturating_add(amount.unsigned_abs());
    }

    /// A line the fast path does not take, without quotes.
    fn general_line(&mut self, line: &[u8], n: u64) -> Result<(), Stop> {
        if line.split(|b| *b == b',').all(|c| trim(c).is_empty()) {
            return Ok(());
        }
        let Ok(text) = std::str::from_utf8(line) else {
            return Err(Stop::Sequential);
        };
        self.srec.clear();
        for f in text.split(',') {
            self.srec.push_field(f);
        }
        self.general(n)
    }

    /// A record with quotes, as csv reads it from its own bytes.
    fn quoted(&mut self, rec: &[u8], n: u64) -> Result<(), Stop> {
        let mut rdr = csv::ReaderBuilder::new()
            .flexible(true)
            .has_headers(false)
            .from_reader(rec);
        let mut one = csv::ByteRecord::new();
        match rdr.read_byte_record(&mut one) {
            Ok(true) => {}
            Ok(false) => return Ok(()),
            Err(_) => return Err(Stop::Sequential),
        }
        let mut more = csv::ByteRecord::new();
        if !matches!(rdr.read_byte_record(&mut more), Ok(false)) {
            return Err(Stop::Sequential);
        }
        if one.iter().all(|c| trim(c).is_empty()) {
            return Ok(());
        }
        let Ok(s) = csv::StringRecord::from_byte_record(one) else {
            return Err(Stop::Sequential);
        };
        self.srec = s;
        self.general(n)
    }

    /// The fast path's reading of a line of the cached statement with plain values
    /// (`None`: the line needs the general path).
    fn fast(&self, line: &[u8]) -> Option<FastLine> {
        let c = self.cached.as_ref()?;
        let need = self.need;
        if need > MAX_FIELDS {
            return None;
        }
        // Field i is line[from[i]..to[i]].
        let mut from = [0u32; MAX_FIELDS];
        let mut to = [0u32; MAX_FIELDS];
        let first = if self.leading {
            if !same_prefix(line, &c.prefix) {
                return None;
            }
            5
        } else {
            0
        };
        if u32::try_from(line.len()).is_err() {
            return None;
        }
        let mut at = if self.leading { c.prefix.len() } else { 0 };
        for i in first..need {
            // Fields here are short: a plain loop beats a search call.
            let mut end = at;
            while end < line.len() && line[end] != b',' {
                end += 1;
            }
            if end == line.len() && i + 1 < need {
                return None;
            }
            from[i] = at as u32;
            to[i] = end as u32;
            at = end + 1;
        }
        let span = |i: usize| (from[i] as usize, to[i] as usize);
        let field = |i: usize| {
            let (f, t) = span(self.idx[i]);
            &line[f..t]
        };
        if self.leading {
            if !same_bytes(field(9), &c.head[5]) {
                return None;
            }
        } else if ![0, 1, 2, 3, 4, 9]
            .iter()
            .zip(&c.head)
            .all(|(col, h)| field(*col) == h.as_slice())
        {
            return None;
        }
        let kind = line_kind(trim(field(5)))?;
        let (cf, ct) = span(self.idx[6]);
        let code = trim(&line[cf..ct]);
        if code.is_empty() {
            return None;
        }
        // Where the trimmed code is in the line.
        let lead = line[cf..ct]
            .iter()
            .position(|b| !b.is_ascii_whitespace())
            .unwrap_or(0);
        let units = fast_units(trim(field(7)))?;
        let amount = fast_amount(trim(field(8)), c.exp)?;
        if !crate::canonical::fast_signs_hold(kind, units, amount) {
            return None;
        }
        Some(FastLine {
            kind,
            code: (cf + lead, cf + lead + code.len()),
            units,
            amount,
        })
    }

    /// Adds the run's totals to its statement.
    fn end_run(&mut self) -> Result<(), Stop> {
        let Some(c) = &self.cached else {
            return Ok(());
        };
        if self.tally.is_empty() {
            return Ok(());
        }
        let Some(acc) = self.region.state.statements.get_mut(c.sid.as_str()) else {
            return Err(Stop::Sequential);
        };
        for (k, (u, a)) in self.tally.drain() {
            let slot = acc.fast.entry(k).or_insert((0, 0));
            match (slot.0.checked_add(u), slot.1.checked_add(a)) {
                (Some(x), Some(y)) => *slot = (x, y),
                _ => return Err(Stop::Sequential),
            }
        }
        acc.last_line = acc.last_line.max(self.run_last_line);
        Ok(())
    }

    /// The general path on `self.srec` (a record with at least one non-blank cell).
    fn general(&mut self, n: u64) -> Result<(), Stop> {
        self.region.lines += 1;
        self.end_run()?;
        let row = Row {
            rec: &self.srec,
            line: n,
            idx: self.idx,
            names: self.names,
            width: self.width,
        };
        row_of(
            Kind::Statements,
            &row,
            self.ctx,
            &mut self.errs,
            &mut self.parsed,
            &mut self.region.state,
        );
        if !self.errs.is_empty() {
            return Err(Stop::Sequential);
        }
        let col = |i: usize| self.srec.get(self.idx[i]).unwrap_or("").trim();
        // The line's size, for the overflow bound.
        let Ok(cur) = Currency::parse(self.srec.get(self.idx[9]).unwrap_or("")) else {
            return Err(Stop::Sequential);
        };
        let units = if col(7).is_empty() {
            Some(0)
        } else {
            col(7).parse::<i64>().ok()
        };
        let (Some(units), Ok(amount)) = (units, Money::parse(col(8), cur)) else {
            return Err(Stop::Sequential);
        };
        self.region.units_bound = self.region.units_bound.saturating_add(units.unsigned_abs());
        self.region.amount_bound = self
            .region
            .amount_bound
            .saturating_add(amount.minor().unsigned_abs());
        // Cache the statement columns as the sequential reader does.
        let sid = col(0).to_string();
        self.cached = None;
        if self.region.state.statements.contains_key(sid.as_str())
            && joined_statement(&self.srec, self.idx, self.ctx)
        {
            let cols = [0, 1, 2, 3, 4, 9];
            let head: [Vec<u8>; 6] =
                cols.map(|c| self.srec.get(self.idx[c]).unwrap_or("").as_bytes().to_vec());
            // A cached value with a comma could match a different split of a line.
            if head.iter().all(|h| !h.contains(&b',')) {
                let mut prefix = Vec::new();
                if self.leading {
                    for h in &head[..5] {
                        prefix.extend_from_slice(h);
                        prefix.push(b',');
                    }
                }
                self.cached = Some(Cached {
                    sid,
                    exp: u32::from(cur.exponent()),
                    prefix,
                    head,
                });
            }
        }
        Ok(())
    }

    fn finish(mut self, buf: &[u8]) -> Result<Region, Stop> {
        self.flush(buf)?;
        self.end_run()?;
        if !self.errs.is_empty() {
            return Err(Stop::Sequential);
        }
        self.region.unknown = std::mem::take(&mut self.parsed.unknown);
        Ok(self.region)
    }
}

/// Totals of the current run's fast lines, by tally entry (= index into the region's
/// SKUs) × line kind. Entries are found by their code packed into an integer
/// ([`short_code`]) through an open-addressing table; an entry keeps its code and its
/// sale and return totals in one cache line, first-met codes (the busy ones) first.
/// Other kinds with a SKU (rare) are kept in a map.
#[derive(Default)]
struct Tally {
    /// Entry + 1 per slot (0: empty); a power of two long.
    table: Vec<u32>,
    entries: Vec<TallyEntry>,
    /// (entry, kind) pairs of sales and returns with a total in the current run.
    touched: Vec<(u32, LineKind)>,
    /// Totals of the other kinds in the current run.
    other: FxHashMap<(u32, LineKind), [i64; 2]>,
}

#[derive(Clone, Copy, Default)]
#[repr(C, align(64))]
struct TallyEntry {
    /// The packed code (0 for a code too long to pack, found through `sku_index`).
    key: u128,
    /// (units, amount) of sales and of returns.
    sale: [i64; 2],
    ret: [i64; 2],
    /// Bit 0: sales in the current run; bit 1: returns.
    used: u8,
}

impl Tally {
    fn slot_of(&self, key: u128) -> usize {
        if self.table.is_empty() {
            return 0;
        }
        let lo = key as u64;
        let hi = (key >> 64) as u64;
        let h = (lo.wrapping_mul(0x9e37_79b9_7f4a_7c15) ^ hi).wrapping_mul(0xff51_afd7_ed55_8ccd);
        let bits = self.table.len().trailing_zeros();
        (h >> (64 - bits)) as usize
    }

    fn find(&self, mut slot: usize, key: u128) -> Option<u32> {
        if self.table.is_empty() {
            return None;
        }
        let mask = self.table.len() - 1;
        loop {
            match self.table[slot] {
                0 => return None,
                e if self.entries[e as usize - 1].key == key => return Some(e - 1),
                _ => slot = (slot + 1) & mask,
            }
        }
    }

    fn insert(&mut self, key: u128, e: u32) {
        let e = e as usize;
        if self.entries.len() <= e {
            self.entries.resize(e + 1, TallyEntry::default());
        }
        self.entries[e].key = key;
        if key == 0 {
            return;
        }
        if (self.entries.len() + 1) * 2 > self.table.len() {
            let size = (self.table.len() * 2).max(1024);
            self.table = vec![0; size];
            for i in 0..self.entries.len() {
                let k = self.entries[i].key;
                if k != 0 && i != e {
                    self.place(k, i);
                }
            }
        }
        self.place(key, e);
    }

    fn place(&mut self, key: u128, e: usize) {
        let mask = self.table.len() - 1;
        let mut slot = self.slot_of(key);
        while self.table[slot] != 0 {
            slot = (slot + 1) & mask;
        }
        self.table[slot] = e as u32 + 1;
    }

    fn prefetch_slot(&self, slot: usize) {
        if let Some(s) = self.table.get(slot) {
            prefetch(s);
        }
    }

    fn prefetch_entry(&self, e: u32) {
        if let Some(t) = self.entries.get(e as usize) {
            prefetch(t);
        }
    }

    /// Adds a line (the region's overflow bound keeps the totals in range).
    fn add(&mut self, e: u32, kind: LineKind, units: i64, amount: i64) {
        let entry = &mut self.entries[e as usize];
        let (t, bit) = match kind {
            LineKind::Sale => (&mut entry.sale, 1),
            LineKind::Return => (&mut entry.ret, 2),
            _ => {
                let t = self.other.entry((e, kind)).or_insert([0, 0]);
                t[0] = t[0].wrapping_add(units);
                t[1] = t[1].wrapping_add(amount);
                return;
            }
        };
        t[0] = t[0].wrapping_add(units);
        t[1] = t[1].wrapping_add(amount);
        if entry.used & bit == 0 {
            entry.used |= bit;
            self.touched.push((e, kind));
        }
    }

    fn is_empty(&self) -> bool {
        self.touched.is_empty() && self.other.is_empty()
    }

    /// The run's totals by (entry, kind); leaves the run empty.
    fn drain(&mut self) -> impl Iterator<Item = ((u32, LineKind), (i64, i64))> + '_ {
        let entries = &mut self.entries;
        let hot = self.touched.drain(..).map(move |(e, kind)| {
            let entry = &mut entries[e as usize];
            entry.used = 0;
            let t = if kind == LineKind::Sale {
                std::mem::take(&mut entry.sale)
            } else {
                std::mem::take(&mut entry.ret)
            };
            ((e, kind), (t[0], t[1]))
        });
        hot.chain(self.other.drain().map(|(k, t)| (k, (t[0], t[1]))))
    }
}

/// Whether `line` starts with `prefix`, compared a word at a time (the prefix is the
/// statement's columns, some 50 bytes, compared on every line).
#[inline]
fn same_prefix(line: &[u8], prefix: &[u8]) -> bool {
    let Some(head) = line.get(..prefix.len()) else {
        return false;
    };
    let word = |b: &[u8]| {
        let mut w = [0u8; 8];
        w.copy_from_slice(b);
        u64::from_ne_bytes(w)
    };
    let (a, b) = (head.chunks_exact(8), prefix.chunks_exact(8));
    let (ra, rb) = (a.remainder(), b.remainder());
    let diff = a.zip(b).fold(0u64, |d, (x, y)| d | (word(x) ^ word(y)));
    diff == 0 && ra.iter().zip(rb).all(|(x, y)| x == y)
}

/// `a == b` for short byte strings, without a call.
#[inline]
fn same_bytes(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && same_prefix(a, b)
}

/// Up to 8 bytes packed into an integer (with the length, so "fee" ≠ "fee\0").
#[inline]
fn pack8(b: &[u8]) -> Option<u64> {
    if b.len() > 7 {
        return None;
    }
    let mut w = [0u8; 8];
    w[..b.len()].copy_from_slice(b);
    w[7] = b.len() as u8;
    Some(u64::from_le_bytes(w))
}

/// [`fast_kind`] with the common kinds compared as one integer.
#[inline]
fn line_kind(b: &[u8]) -> Option<LineKind> {
    const SALE: u64 = u64::from_le_bytes([b's', b'a', b'l', b'e', 0, 0, 0, 4]);
    const RETURN: u64 = u64::from_le_bytes([b'r', b'e', b't', b'u', b'r', b'n', 0, 6]);
    match pack8(b) {
        Some(SALE) => Some(LineKind::Sale),
        Some(RETURN) => Some(LineKind::Return),
        _ => fast_kind(b),
    }
}

/// Asks the CPU to fetch the cache line holding `t`.
#[inline]
fn prefetch<T>(t: &T) {
    #[cfg(target_arch = "x86_64")]
    // SAFETY: prefetching is a hint with no effect on memory; the pointer comes from a
    // reference.
    #[allow(unused_unsafe)]
    unsafe {
        std::arch::x86_64::_mm_prefetch::<{ std::arch::x86_64::_MM_HINT_T0 }>(
            (t as *const T).cast::<i8>(),
        );
    }
    #[cfg(not(target_arch = "x86_64"))]
    let _ = t;
}

/// Merges the regions in file order; `None` if the result could differ from the
/// sequential reader's (which then reads the file).
fn merge(ctx: &Context, header: &Header, regions: Vec<Region>) -> Option<Result<Parsed, Errors>> {
    // The merged state.
    let mut reader = LineReader::new(ctx, &header.idx, header.width);
    // Line number of the first line of the region (the header is line 1).
    let mut first = 2u64;
    let mut sku_index: FxHashMap<backstock_domain::Sku, u32> = Default::default();
    for mut r in regions {
        let shift = first - 1;
        first += r.newlines;
        let (parsed, m) = (&mut reader.parsed, &mut reader.region.state);
        reader.region.lines += r.lines;
        let bounds = (
            &mut reader.region.units_bound,
            &mut reader.region.amount_bound,
        );
        *bounds.0 = bounds.0.saturating_add(r.units_bound);
        *bounds.1 = bounds.1.saturating_add(r.amount_bound);
        if !r.unknown.is_empty() {
            parsed.code_column = Some((header.idx[6] + 1, "sku".into()));
        }
        for (code, line) in r.unknown {
            let l = parsed.unknown.entry(code).or_insert(line + shift);
            *l = (*l).min(line + shift);
        }
        // The region's SKU indices in the merged list, where each SKU is once (so the
        // totals of one SKU from several regions add up here).
        let mut remap = Vec::with_capacity(r.state.skus.len());
        for sku in std::mem::take(&mut r.state.skus) {
            let next = u32::try_from(m.skus.len()).ok()?;
            let i = *sku_index.entry(sku.clone()).or_insert_with(|| {
                m.skus.push(sku);
                next
            });
            remap.push(i);
        }
        let identity = remap.iter().enumerate().all(|(i, r)| *r as usize == i);
        for (key, mut h) in r.state.held {
            h.7 += shift;
            h.8 += shift;
            match m.held.entry(key) {
                MapEntry::Vacant(v) => {
                    v.insert(h);
                }
                MapEntry::Occupied(mut o) => {
                    let t = o.get_mut();
                    t.5 = t.5.checked_add(h.5)?;
                    t.6 = t.6.checked_add(h.6)?;
                    t.8 = h.8;
                }
            }
        }
        for sid in r.state.order {
            let mut acc = r.state.statements.remove(&sid)?;
            acc.first_line += shift;
            acc.last_line += shift;
            if !identity {
                let fast = std::mem::take(&mut acc.fast);
                acc.fast_more = fast
                    .into_iter()
                    .filter_map(|((i, kind), t)| Some(((*remap.get(i as usize)?, kind), t)))
                    .collect();
            }
            match m.statements.get_mut(&sid) {
                None => {
                    m.order.push(sid.clone());
                    m.statements.insert(sid, acc);
                }
                Some(prev) => {
                    // The sequential reader checks every line against the statement's
                    // first: a difference is an error it reports.
                    if prev.distributor != acc.distributor
                        || prev.period != acc.period
                        || prev.currency != acc.currency
                    {
                        return None;
                    }
                    prev.last_line = prev.last_line.max(acc.last_line);
                    for (k, (u, a)) in acc.lines {
                        let t = prev.lines.entry(k).or_insert((0, 0));
                        *t = (t.0.checked_add(u)?, t.1.checked_add(a)?);
                    }
                    // Repeated keys are added up when the statement is built (the
                    // overflow bound keeps that exact).
                    if identity {
                        prev.fast_more.extend(acc.fast);
                    } else {
                        prev.fast_more.append(&mut acc.fast_more);
                    }
                }
            }
        }
    }
    // Beyond the limit of any amount the sequential reader says which line.
    let limit = i64::MAX.unsigned_abs();
    if reader.region.units_bound > limit
        || reader.region.amount_bound > Money::LIMIT_MINOR.unsigned_abs()
    {
        return None;
    }
    let mut parsed = reader.parsed;
    parsed.lines = reader.region.lines;
    Some(canonical::conclude(
        Kind::Statements,
        ctx,
        Errors::default(),
        parsed,
        reader.region.state,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use std::io::Cursor;

    fn ctx() -> Context {
        let catalog: Vec<(String, Option<String>, i64, String)> = (1..=5)
            .map(|i| (format!("MRG-{i:03}-CD"), None, 800, "USD".to_string()))
            .collect();
        let mut c = Context::from_lookups(
            &catalog,
            &[("A-VERY-LONG-ALIAS-CODE-17".into(), "MRG-003-CD".into())],
            &[("allegro".into(), "USD".into())],
            &[],
        );
        c.file_name = "statements.csv".into();
        c
    }

    const HEAD: &str = "statement_id,distributor,period_start,period_end,issued_on,kind,sku,units,amount,currency,memo\n";
    const S1: &str = "S1,allegro,2016-01-01,2016-01-31,2016-02-20";

    /// The parallel reader's own result (`None`: it handed the file to the sequential
    /// reader), with blocks of `block` bytes.
    fn parallel(bytes: &[u8], threads: usize, block: usize) -> Option<Result<Parsed, Errors>> {
        let open_at = |offset: u64| Ok(Cursor::new(&bytes[offset as usize..]));
        let shared = Shared {
            ctx: &ctx(),
            open_at: &open_at,
            progress: &|_| {},
            done: AtomicU64::new(0),
            failed_at: AtomicUsize::new(usize::MAX),
            len: bytes.len() as u64,
            block,
        };
        shared.parallel(threads).unwrap()
    }

    fn sequential(bytes: &[u8]) -> Result<Parsed, Errors> {
        canonical::read(
            Kind::Statements,
            Decoder::new(bytes, Encoding::Utf8),
            &ctx(),
        )
    }

    fn shown(r: &Result<Parsed, Errors>) -> String {
        match r {
            Ok(p) => format!("{} {:?} {:?} {:?}", p.lines, p.totals, p.unknown, p.entries),
            Err(e) => format!("{:?}", e.list),
        }
    }

    #[test]
    fn a_clean_file_is_merged_from_its_regions() {
        let mut s = HEAD.to_string();
        for i in 0..400 {
            s.push_str(&format!("{S1},sale,MRG-{:03}-CD,1,8.00,USD,\n", i % 5 + 1));
        }
        for threads in [1, 2, 5] {
            let got = parallel(s.as_bytes(), threads, 1 << 10).expect("no fallback");
            assert_eq!(shown(&got), shown(&sequential(s.as_bytes())));
        }
    }

    #[test]
    fn a_quoted_memo_and_a_cut_inside_one_are_read_without_falling_back() {
        let mut s = HEAD.to_string();
        for _ in 0..30 {
            s.push_str(&format!("{S1},sale,MRG-001-CD,1,8.00,USD,\"a, b\"\r\n"));
        }
        s.push_str(&format!("{S1},sale,MRG-002-CD,1,8.00,USD,\""));
        for i in 0..30 {
            s.push_str(&format!("note {i}: MRG-003-CD, 1 unit\n"));
        }
        s.push_str("\"\n");
        for _ in 0..30 {
            s.push_str(&format!(
                "{S1},sale,A-VERY-LONG-ALIAS-CODE-17,2,16.00,USD,\n"
            ));
        }
        let want = shown(&sequential(s.as_bytes()));
        assert!(want.starts_with("61 "), "{want}");
        for threads in [1, 2, 3, 7] {
            for block in [5, 64, 1 << 20] {
                let got = parallel(s.as_bytes(), threads, block).expect("no fallback");
                assert_eq!(shown(&got), want, "{threads} threads, blocks of {block}");
            }
        }
    }

    #[test]
    fn anything_the_merge_cannot_reproduce_goes_to_the_sequential_reader() {
        let bad_units = format!("{HEAD}{S1},sale,MRG-001-CD,x,8.00,USD,\n");
        let bare_cr =
            format!("{HEAD}{S1},sale,MRG-001-CD,1,8.00,USD,\r{S1},sale,MRG-001-CD,1,8.00,USD,\n");
        let unbalanced = format!("{HEAD}{S1},sale,MRG-001-CD,1,8.00,USD,\"open\n");
        for s in [bad_units, bare_cr, unbalanced] {
            assert!(parallel(s.as_bytes(), 2, 1 << 10).is_none(), "{s}");
        }
    }

    #[test]
    fn the_tally_finds_what_it_was_given_and_empties_per_run() {
        let mut t = Tally::default();
        let keys: Vec<u128> = (0..3000u32)
            .map(|i| short_code(format!("GEN-{i:06}").as_bytes()).unwrap())
            .collect();
        for (e, k) in keys.iter().enumerate() {
            t.insert(*k, e as u32);
        }
        for (e, k) in keys.iter().enumerate() {
            assert_eq!(t.find(t.slot_of(*k), *k), Some(e as u32));
        }
        let other = short_code(b"GEN-999999").unwrap();
        assert_eq!(t.find(t.slot_of(other), other), None);
        t.add(7, LineKind::Sale, 2, 1600);
        t.add(7, LineKind::Sale, 1, 800);
        t.add(7, LineKind::Return, -1, -800);
        t.add(2999, LineKind::Adjustment, 0, 5);
        let mut got: Vec<_> = t.drain().collect();
        got.sort();
        assert_eq!(
            got,
            vec![
                ((7, LineKind::Sale), (3, 2400)),
                ((7, LineKind::Return), (-1, -800)),
                ((2999, LineKind::Adjustment), (0, 5)),
            ]
        );
        assert!(t.is_empty());
        t.add(7, LineKind::Sale, 1, 1);
        assert_eq!(
            t.drain().collect::<Vec<_>>(),
            vec![((7, LineKind::Sale), (1, 1))]
        );
    }

    /// Statement lines with quoted memos (some over several lines), blank lines and CRLF.
    fn body() -> impl Strategy<Value = String> {
        let line = prop_oneof![
            20 => (1..=5u32, 1..4u32).prop_map(|(s, u)| format!("{S1},sale,MRG-{s:03}-CD,{u},8.00,USD,\n")),
            2 => Just(format!("{S1},sale,MRG-001-CD,1,8.00,USD,\"x,\ny\"\n")),
            2 => Just(format!("{S1},fee,,,2.00,USD,\"\"\"q\"\"\"\r\n")),
            1 => Just("\n".to_string()),
            1 => Just("  \r\n".to_string()),
            1 => Just(format!("{S1},sale,A-VERY-LONG-ALIAS-CODE-17,1,8.00,USD,\n")),
        ];
        proptest::collection::vec(line, 0..60).prop_map(|l| l.concat())
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 1024, ..ProptestConfig::default() })]

        #[test]
        fn any_block_size_and_thread_count_reads_the_same(
            body in body(),
            threads in 1..6usize,
            block in 1..100usize,
        ) {
            let s = format!("{HEAD}{body}");
            let got = parallel(s.as_bytes(), threads, block).expect("a clean file");
            prop_assert_eq!(shown(&got), shown(&sequential(s.as_bytes())));
        }
    }
}
