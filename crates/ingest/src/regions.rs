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
//!   before it when merging.
//! * A cut inside a quoted field is detected (region k did not end where region k + 1
//!   began): the rest of the file from the end of region k is then read on one thread.
//! * Whatever the merge cannot reproduce exactly — any error in the file, a statement
//!   whose columns differ between regions, totals large enough that the order of
//!   additions could matter, a bare carriage return, an unusual header — makes the
//!   whole file go through the sequential reader, which is the reference: errors come
//!   back with the same text and lines. A file with errors therefore costs one
//!   sequential read more than a clean one.

use crate::canonical::{
    self, end_run, fast_amount, fast_kind, fast_units, joined_statement, row_of, short_code,
    trim, KindState, Row, Run,
};
use crate::error::{Errors, FileErrors};
use crate::{Context, Decoder, Encoding, Kind, Parsed};
use backstock_domain::{Currency, Money};
use std::collections::btree_map::Entry as MapEntry;
use std::io::{self, Read};
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};

/// Bytes read at a time by each region.
const BLOCK: usize = 4 << 20;
/// A record (or header) longer than this sends the file to the sequential reader.
const MAX_RECORD: usize = 16 << 20;
/// Fields of a line the fast path splits (columns beyond go through the general path).
const MAX_FIELDS: usize = 24;

/// Reads a canonical statements file (UTF-8 or ASCII; a leading BOM is skipped) of
/// `len` bytes with `threads` threads.
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

/// One region's partial result. Lines are numbered from 1 at the region's start.
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
        let cut = |k: u64| data + (u128::from(span) * u128::from(k) / u128::from(n)) as u64;
        let results: Vec<Result<Region, Stop>> = std::thread::scope(|s| {
            let handles: Vec<_> = (1..threads)
                .map(|k| {
                    let (from, stop) = (cut(k as u64), cut(k as u64 + 1));
                    let idx = &header.idx;
                    s.spawn(move || self.region(k, idx, from, true, stop))
                })
                .collect();
            let mut all = vec![self.region(0, &header.idx, data, false, cut(1))];
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
                match self.region(usize::MAX - 1, &header.idx, end, false, self.len) {
                    Ok(rest) => taken.push(rest),
                    Err(Stop::Io(e)) => return Err(e),
                    Err(_) => return Ok(None),
                }
                break;
            }
        }
        Ok(merge(self.ctx, taken))
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
        // The header's block is read again by the first region: count it once.
        self.done.store(0, Ordering::Relaxed);
        Ok(Some(Header {
            data_start: end as u64 + 1,
            idx,
        }))
    }

    /// Reads the lines starting in `from..stop` (with `seek`, from the first line start
    /// at or after `from`).
    fn region(
        &self,
        k: usize,
        idx: &[usize],
        from: u64,
        seek: bool,
        stop: u64,
    ) -> Result<Region, Stop> {
        let r = self.region_inner(k, idx, from, seek, stop);
        if r.is_err() {
            self.failed_at.fetch_min(k, Ordering::Relaxed);
        }
        r
    }

    fn region_inner(
        &self,
        k: usize,
        idx: &[usize],
        from: u64,
        seek: bool,
        stop: u64,
    ) -> Result<Region, Stop> {
        let at = if seek { from.saturating_sub(1) } else { from };
        let mut b = Blocks::new((self.open_at)(at)?, at, BLOCK);
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
        let mut reader = LineReader::new(self.ctx, idx);
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
                            b.fill(self)?;
                            continue;
                        }
                        b'\r' => ((b.lo, p), p + 1, 0),
                        _ => {
                            // A quoted record: up to the newline where quotes balance.
                            let Some((end, newlines)) = quoted_end(&mut b, self)? else {
                                return Err(Stop::Sequential);
                            };
                            let rec = &b.buf[b.lo..end];
                            reader.quoted(rec, line)?;
                            b.lo = end;
                            line += newlines;
                            reader.region.newlines += newlines;
                            continue;
                        }
                    }
                }
            };
            reader.simple(&b.buf[body.0..body.1], line)?;
            b.lo = next;
            line += newlines;
            reader.region.newlines += newlines;
        }
        let mut region = reader.finish()?;
        region.end = b.offset();
        Ok(region)
    }
}

/// Where a quoted record that starts at `b.lo` ends (just after its newline, or at the
/// end of the file) and how many newlines it holds; `None` if it is too long.
fn quoted_end<R: Read>(b: &mut Blocks<R>, shared: &Shared<R>) -> Result<Option<(usize, u64)>, Stop> {
    let mut scanned = 0usize; // bytes after b.lo already looked at
    let mut open = false;
    let mut newlines = 0u64;
    loop {
        let from = b.lo + scanned;
        for i in memchr::memchr2_iter(b'"', b'\n', &b.buf[from..b.hi]) {
            let p = from + i;
            if b.buf[p] == b'"' {
                open = !open;
            } else {
                newlines += 1;
                if !open {
                    return Ok(Some((p + 1, newlines)));
                }
            }
        }
        scanned = b.hi - b.lo;
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
/// the general path accepted takes the fast path).
struct LineReader<'a> {
    ctx: &'a Context,
    idx: &'a [usize],
    names: &'static [&'static str],
    /// Fields the fast path needs.
    need: usize,
    /// The columns are in canonical order: the statement columns are the line's first
    /// five fields (plus currency).
    leading: bool,
    /// The cached statement columns (only when none holds a comma): in canonical order
    /// the first five joined by commas plus a trailing comma, then the currency; else
    /// the six values.
    cached: Option<Cached>,
    run: Run,
    run_last_line: u64,
    region: Region,
    parsed: Parsed,
    errs: Errors,
    srec: csv::StringRecord,
}

struct Cached {
    sid: String,
    exp: u32,
    prefix: Vec<u8>,
    head: [Vec<u8>; 6],
}

impl<'a> LineReader<'a> {
    fn new(ctx: &'a Context, idx: &'a [usize]) -> LineReader<'a> {
        let header_cols = [idx[0], idx[1], idx[2], idx[3], idx[4], idx[9]];
        LineReader {
            ctx,
            idx,
            names: canonical::columns(Kind::Statements),
            need: idx.iter().take(10).max().map_or(0, |m| m + 1),
            leading: header_cols[..5] == [0, 1, 2, 3, 4],
            cached: None,
            run: Run::default(),
            run_last_line: 0,
            region: Region::default(),
            parsed: Parsed::new(Kind::Statements),
            errs: Errors::default(),
            srec: csv::StringRecord::new(),
        }
    }

    /// A line without quotes or carriage returns (its newline removed).
    fn simple(&mut self, line: &[u8], n: u64) -> Result<(), Stop> {
        if self.fast(line) {
            self.region.lines += 1;
            self.run_last_line = n;
            return Ok(());
        }
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

    /// The fast path: a line of the cached statement with a known code and plain
    /// numbers. `false`: the line needs the general path (nothing was changed).
    fn fast(&mut self, line: &[u8]) -> bool {
        let Some(c) = &self.cached else {
            return false;
        };
        let mut f: [&[u8]; MAX_FIELDS] = [&[]; MAX_FIELDS];
        let need = self.need;
        if need > MAX_FIELDS {
            return false;
        }
        if self.leading {
            let Some(rest) = line.strip_prefix(c.prefix.as_slice()) else {
                return false;
            };
            let mut n = 5;
            for (i, part) in rest.splitn(need - 4, |b| *b == b',').enumerate() {
                f[5 + i] = part;
                n = 6 + i;
            }
            if n < need {
                return false;
            }
            if f[self.idx[9]] != c.head[5].as_slice() {
                return false;
            }
        } else {
            let mut n = 0;
            for (i, part) in line.splitn(need + 1, |b| *b == b',').enumerate() {
                if i < MAX_FIELDS {
                    f[i] = part;
                }
                n = i + 1;
            }
            if n < need {
                return false;
            }
            let cols = [0, 1, 2, 3, 4, 9];
            if !cols
                .iter()
                .zip(&c.head)
                .all(|(col, h)| f[self.idx[*col]] == h.as_slice())
            {
                return false;
            }
        }
        let Some(kind) = fast_kind(trim(f[self.idx[5]])) else {
            return false;
        };
        let code = trim(f[self.idx[6]]);
        if code.is_empty() {
            return false;
        }
        let Some(units) = fast_units(trim(f[self.idx[7]])) else {
            return false;
        };
        let Some(amount) = fast_amount(trim(f[self.idx[8]]), c.exp) else {
            return false;
        };
        let st = &mut self.region.state;
        let short = short_code(code);
        let known = match short {
            Some(k) => st.sku_short.get(&k),
            None => st.sku_index.get(code),
        };
        let sku = match known {
            Some(i) => *i,
            None => {
                let Some(s) = std::str::from_utf8(code)
                    .ok()
                    .and_then(|c| self.ctx.resolve_code(c))
                else {
                    return false;
                };
                let Ok(i) = u32::try_from(st.skus.len()) else {
                    return false;
                };
                st.skus.push(s);
                match short {
                    Some(k) => st.sku_short.insert(k, i),
                    None => st.sku_index.insert(code.to_vec(), i),
                };
                i
            }
        };
        if self.run.add(sku, kind, units, amount).is_none() {
            return false;
        }
        self.region.units_bound = self
            .region
            .units_bound
            .saturating_add(units.unsigned_abs());
        self.region.amount_bound = self
            .region
            .amount_bound
            .saturating_add(amount.unsigned_abs());
        true
    }

    /// The general path on `self.srec` (a record with at least one non-blank cell).
    fn general(&mut self, n: u64) -> Result<(), Stop> {
        self.region.lines += 1;
        if let Some(c) = &self.cached {
            end_run(
                &mut self.region.state,
                &c.sid,
                &mut self.run,
                self.run_last_line,
                &mut self.errs,
            );
        }
        let row = Row {
            rec: &self.srec,
            line: n,
            idx: self.idx,
            names: self.names,
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
        self.region.units_bound = self
            .region
            .units_bound
            .saturating_add(units.unsigned_abs());
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

    fn finish(mut self) -> Result<Region, Stop> {
        if let Some(c) = &self.cached {
            end_run(
                &mut self.region.state,
                &c.sid,
                &mut self.run,
                self.run_last_line,
                &mut self.errs,
            );
        }
        if !self.errs.is_empty() {
            return Err(Stop::Sequential);
        }
        self.region.unknown = std::mem::take(&mut self.parsed.unknown);
        Ok(self.region)
    }
}

/// Merges the regions in file order; `None` if the result could differ from the
/// sequential reader's (which then reads the file).
fn merge(ctx: &Context, regions: Vec<Region>) -> Option<Result<Parsed, Errors>> {
    let mut parsed = Parsed::new(Kind::Statements);
    let mut m = KindState::default();
    let (mut units_bound, mut amount_bound) = (0u64, 0u64);
    // Line number of the first line of the region (the header is line 1).
    let mut first = 2u64;
    for mut r in regions {
        let shift = first - 1;
        first += r.newlines;
        parsed.lines += r.lines;
        units_bound = units_bound.saturating_add(r.units_bound);
        amount_bound = amount_bound.saturating_add(r.amount_bound);
        for (code, line) in r.unknown {
            let l = parsed.unknown.entry(code).or_insert(line + shift);
            *l = (*l).min(line + shift);
        }
        let base = u32::try_from(m.skus.len()).ok()?;
        m.skus.append(&mut r.state.skus);
        u32::try_from(m.skus.len()).ok()?;
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
            let fast = std::mem::take(&mut acc.fast);
            let fast = fast
                .into_iter()
                .map(|((i, kind), t)| ((i + base, kind), t));
            match m.statements.get_mut(&sid) {
                None => {
                    acc.fast = fast.collect();
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
                    for (k, (u, a)) in fast {
                        let t = prev.fast.entry(k).or_insert((0, 0));
                        *t = (t.0.checked_add(u)?, t.1.checked_add(a)?);
                    }
                }
            }
        }
    }
    let limit = i64::MAX.unsigned_abs();
    if units_bound > limit || amount_bound > limit {
        return None;
    }
    Some(canonical::conclude(
        Kind::Statements,
        ctx,
        Errors::default(),
        parsed,
        m,
    ))
}
