//! Summing a sales file per artist × month × currency, in parallel chunks.
//!
//! The file is cut at line boundaries into up to 8 byte ranges per thread, which the
//! threads (`std::thread::scope`) take in turn, so one slowed by a busy machine takes
//! fewer. A thread reads a range in 4 MiB blocks (its own file handle; from the page
//! cache this is a copy), parses each line by hand ([`crate::line`]), and adds a batch
//! of 32 lines in passes: look the UPCs up in the catalog's hash table, work out each
//! line's net and royalty and where it adds, touch those rows, add — so the cache
//! misses of a pass overlap. Each thread adds into its own flat `Vec` indexed by
//! (month × currency slot, artist); the threads' totals are added at the end. Every
//! addition is checked: a total that would leave `i64` is an error, never a
//! wrap-around.

use crate::catalog::Catalog;
use crate::error::{shorten, InputError, SalesError, MAX_REPORTED};
use crate::line::{self, Layout, Role};
use backstock_domain::{Currency, Money};
use std::fs::File;
use std::io::{Read, Seek, SeekFrom};
use std::path::Path;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

const BLOCK: usize = 4 << 20;
/// The smallest byte range handed to a thread.
const MIN_RANGE: u64 = 64 << 10;
/// A longer line is refused (a sales line is ~50 bytes).
const MAX_LINE: usize = 1 << 20;
/// Accumulator memory allowed per thread; bounds the month × currency combinations.
const MAX_ACC_BYTES: usize = 512 << 20;

/// One artist × month × currency total.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TotalRow {
    /// Index into [`Totals::artists`].
    pub artist: u32,
    /// `year × 12 + month − 1` ([`crate::line::month_text`] writes it `YYYY-MM`).
    pub month: u32,
    pub lines: u64,
    pub units: i64,
    pub net: Money,
    pub royalty: Money,
}

/// The totals of a file, ordered by artist, month and currency.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Totals {
    /// Artist ids, as in the catalog.
    pub artists: Vec<String>,
    pub rows: Vec<TotalRow>,
    /// Sales lines read (blank lines not counted).
    pub lines: u64,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
struct Acc {
    lines: i64,
    units: i64,
    net: i64,
    royalty: i64,
}

/// A month × currency combination met in the file, packed for quick comparison:
/// `month << 24 | currency code bytes`, so the order is by month, then currency.
type SlotKey = u64;

fn slot_key(month: u32, currency: [u8; 3]) -> SlotKey {
    u64::from(month) << 24
        | u64::from(currency[0]) << 16
        | u64::from(currency[1]) << 8
        | u64::from(currency[2])
}

fn slot_month(key: SlotKey) -> u32 {
    (key >> 24) as u32
}

/// A problem found by a thread, located by the thread's own line count.
struct RawError {
    chunk_line: u64,
    error: InputError,
}

/// What one thread found in its byte range.
struct Partial {
    slots: Vec<(SlotKey, Currency)>,
    accs: Vec<Acc>,
    /// Lines and problems of the range being read.
    lines: u64,
    errors: Vec<RawError>,
    /// The ranges this thread read.
    ranges: Vec<RangeResult>,
}

/// One byte range's lines and problems (line numbers counted within the range).
struct RangeResult {
    index: usize,
    lines: u64,
    errors: Vec<RawError>,
}

/// Lines are parsed in batches, then looked up, then added: the catalog and total
/// lookups of a batch are independent loads the processor overlaps.
const BATCH: usize = 32;

#[derive(Clone, Copy, Default)]
struct Parsed {
    line: line::SaleLine,
    start: usize,
    end: usize,
    number: u64,
}

struct Worker<'a> {
    catalog: &'a Catalog,
    layout: &'a Layout,
    file: &'a str,
    artists: usize,
    max_slots: usize,
    part: Partial,
    /// Recently used slots, direct-mapped by a hash of the key: (key, slot, exponent).
    recent: [(SlotKey, usize, u8); 16],
}

impl Worker<'_> {
    /// Keeps problems until more than are reported (the batch in progress may add a
    /// few past that); they are put in file order and cut at the end.
    fn error(&mut self, number: u64, error: InputError) {
        if self.part.errors.len() <= MAX_REPORTED + BATCH {
            self.part.errors.push(RawError {
                chunk_line: number,
                error,
            });
        }
    }

    fn stopped(&self) -> bool {
        self.part.errors.len() > MAX_REPORTED
    }

    /// A problem in line `number` of this chunk (0-based); the file's line numbers are
    /// fixed up after all threads finish.
    fn field_error(
        &mut self,
        number: u64,
        text: &[u8],
        col: Option<usize>,
        found: &[u8],
        expected: &str,
    ) {
        let (column, name) = match col {
            Some(c) => (c + 1, self.layout.name(c).to_string()),
            None => (0, String::new()),
        };
        let found = if col.is_some() { found } else { text };
        self.error(
            number,
            InputError::new(self.file, 0, column, &name, found, expected),
        );
    }

    /// The slot of a month × currency and the currency's exponent (validating a
    /// currency code the first time it is met).
    #[inline]
    fn slot(&mut self, key: SlotKey) -> Result<(usize, u8), String> {
        let cached = &mut self.recent[(key.wrapping_mul(0x9E37_79B9_7F4A_7C15) >> 60) as usize];
        if cached.0 == key {
            return Ok((cached.1, cached.2));
        }
        if let Some(i) = self.part.slots.iter().position(|(k, _)| *k == key) {
            let exponent = self.part.slots[i].1.exponent();
            *cached = (key, i, exponent);
            return Ok((i, exponent));
        }
        let code = [(key >> 16) as u8, (key >> 8) as u8, key as u8];
        let code = std::str::from_utf8(&code).unwrap_or("");
        let currency = Currency::parse(code).map_err(|e| e.expected().to_string())?;
        if self.part.slots.len() >= self.max_slots {
            return Err(format!(
                "at most {} month × currency combinations in one file (split it by period)",
                self.max_slots
            ));
        }
        self.part.slots.push((key, currency));
        self.part
            .accs
            .resize(self.part.slots.len() * self.artists, Acc::default());
        let i = self.part.slots.len() - 1;
        self.recent[(key.wrapping_mul(0x9E37_79B9_7F4A_7C15) >> 60) as usize] =
            (key, i, currency.exponent());
        Ok((i, currency.exponent()))
    }

    /// Adds every line of `block` (whole lines, each ended by `\n`, except perhaps the
    /// file's last).
    fn add_lines(&mut self, block: &[u8]) {
        let canonical = self.layout.is_canonical();
        let mut batch = [Parsed::default(); BATCH];
        let mut n = 0;
        let mut start = 0;
        while start < block.len() {
            let number = self.part.lines;
            self.part.lines += 1;
            let slot = &mut batch[n];
            let end = match canonical
                .then(|| line::parse_canonical(block, start, &mut slot.line))
                .flatten()
            {
                Some(end) => end,
                None => {
                    let end =
                        memchr::memchr(b'\n', &block[start..]).map_or(block.len(), |i| start + i);
                    let text = &block[start..end];
                    if text.is_empty() || text == b"\r" {
                        start = end + 1;
                        continue;
                    }
                    if let Err(e) =
                        line::parse_line_into(block, start, end, self.layout, &mut slot.line)
                    {
                        let to = e.end.min(text.len());
                        let from = e.start.min(to);
                        self.field_error(number, text, e.column, &text[from..to], &e.expected);
                        start = end + 1;
                        continue;
                    }
                    end
                }
            };
            slot.start = start;
            slot.end = end;
            slot.number = number;
            start = end + 1;
            n += 1;
            if n == BATCH {
                self.add_batch(block, &batch);
                n = 0;
                if self.stopped() {
                    return;
                }
            }
        }
        self.add_batch(block, &batch[..n]);
    }

    /// Adds a batch of parsed lines in passes, so that the cache misses of one pass
    /// (catalog lookups, then the totals' rows) are independent loads the processor
    /// overlaps instead of waiting for each in turn.
    #[inline]
    fn add_batch(&mut self, block: &[u8], batch: &[Parsed]) {
        let n = batch.len().min(BATCH);
        let mut upcs = [0u64; BATCH];
        for (u, p) in upcs.iter_mut().zip(batch) {
            *u = p.line.upc;
        }
        let mut entries = [None; BATCH];
        self.catalog.get_many(&upcs[..n], &mut entries[..n]);
        // Where each line adds, its net in minor units and its royalty.
        let mut at = [usize::MAX; BATCH];
        let mut amounts = [(0i64, 0i64); BATCH];
        for k in 0..n {
            let p = &batch[k];
            let text = &block[p.start..p.end];
            let Some(entry) = entries[k] else {
                self.unknown_upc(p.number, text);
                continue;
            };
            let l = &p.line;
            let (slot, exponent) = match self.slot(slot_key(l.month, l.currency)) {
                Ok(s) => s,
                Err(expected) => {
                    self.located(p.number, text, Role::Currency, &expected);
                    continue;
                }
            };
            let Some(net) = l.net_minor(exponent) else {
                let expected = format!(
                    "an amount with at most {exponent} decimal places for {}",
                    String::from_utf8_lossy(&l.currency)
                );
                self.located(p.number, text, Role::Net, &expected);
                continue;
            };
            let Some(royalty) = line::royalty(net, entry.ppm) else {
                self.located(
                    p.number,
                    text,
                    Role::Net,
                    "an amount whose royalty fits in ±92,233,720,368,547,758.07",
                );
                continue;
            };
            at[k] = slot * self.artists + entry.artist as usize;
            amounts[k] = (net, royalty);
        }
        // Touch the rows first: independent loads.
        let mut touched = 0i64;
        for &i in &at[..n] {
            if let Some(acc) = self.part.accs.get(i) {
                touched ^= acc.lines;
            }
        }
        std::hint::black_box(touched);
        for k in 0..n {
            let Some(acc) = self.part.accs.get_mut(at[k]) else {
                continue;
            };
            let (net, royalty) = amounts[k];
            match (
                acc.units.checked_add(batch[k].line.units),
                acc.net.checked_add(net),
                acc.royalty.checked_add(royalty),
            ) {
                (Some(u), Some(n), Some(r)) => {
                    acc.lines += 1;
                    acc.units = u;
                    acc.net = n;
                    acc.royalty = r;
                }
                _ => {
                    let p = &batch[k];
                    self.located(
                        p.number,
                        &block[p.start..p.end],
                        Role::Net,
                        "totals per artist and month within ±92,233,720,368,547,758.07 (adding this line overflowed)",
                    )
                }
            }
        }
    }

    /// An error on the column of `role`, re-finding the field in the line (cold path).
    #[cold]
    fn located(&mut self, number: u64, text: &[u8], role: Role, expected: &str) {
        let text = text.strip_suffix(b"\r").unwrap_or(text);
        let col = self.layout.position(role);
        let found = col
            .and_then(|c| text.split(|&b| b == b',').nth(c))
            .unwrap_or(text);
        self.field_error(number, text, col, found, expected);
    }

    #[cold]
    fn unknown_upc(&mut self, number: u64, text: &[u8]) {
        let text = text.strip_suffix(b"\r").unwrap_or(text);
        let col = self.layout.position(Role::Upc);
        let found = col
            .and_then(|c| text.split(|&b| b == b',').nth(c))
            .unwrap_or(text);
        let expected = match backstock_domain::Upc::parse(&shorten(found)) {
            Err(e) => e.expected().to_string(),
            Ok(_) => "a UPC listed in the catalog".to_string(),
        };
        self.field_error(number, text, col, found, &expected);
    }
}

/// Reads the header line from the start of `file`; returns it and the offset of the
/// first data line.
fn read_header(file: &mut File, name: &str) -> Result<(Vec<u8>, u64), SalesError> {
    let mut head = Vec::new();
    let mut buf = vec![0u8; 64 << 10];
    loop {
        let n = file.read(&mut buf).map_err(|e| SalesError::io(name, e))?;
        if n == 0 {
            let len = head.len() as u64;
            return Ok((head, len));
        }
        let before = head.len();
        head.extend_from_slice(&buf[..n]);
        if let Some(i) = memchr::memchr(b'\n', &head[before..]) {
            let end = before + i;
            head.truncate(end);
            return Ok((head, end as u64 + 1));
        }
        if head.len() > MAX_LINE {
            return Err(SalesError::one(InputError::new(
                name,
                1,
                0,
                "",
                &head[..60],
                "a header line shorter than 1 MiB",
            )));
        }
    }
}

/// Where the next line starts at or after `offset` (the file's length if none).
fn next_line_start(file: &mut File, offset: u64, len: u64, name: &str) -> Result<u64, SalesError> {
    file.seek(SeekFrom::Start(offset))
        .map_err(|e| SalesError::io(name, e))?;
    let mut buf = vec![0u8; 64 << 10];
    let mut pos = offset;
    while pos < len {
        let n = file.read(&mut buf).map_err(|e| SalesError::io(name, e))?;
        if n == 0 {
            break;
        }
        if let Some(i) = memchr::memchr(b'\n', &buf[..n]) {
            return Ok(pos + i as u64 + 1);
        }
        pos += n as u64;
    }
    Ok(len)
}

/// Reads `[start, end)` of the file in blocks and adds every line.
fn run_range(
    file: &mut File,
    start: u64,
    end: u64,
    worker: &mut Worker<'_>,
    buf: &mut [u8],
) -> Result<(), SalesError> {
    file.seek(SeekFrom::Start(start))
        .map_err(|e| SalesError::io(worker.file, e))?;
    let mut reader = file.take(end - start);
    let mut filled = 0usize;
    loop {
        // `buf[..filled]` is one unfinished line: refused once it passes the limit (the
        // block is larger, so there is always room to read more).
        if filled > MAX_LINE {
            let number = worker.part.lines;
            let text = &buf[..60];
            worker.field_error(number, text, None, &[], "lines shorter than 1 MiB");
            break;
        }
        let n = reader
            .read(&mut buf[filled..])
            .map_err(|e| SalesError::io(worker.file, e))?;
        if n == 0 {
            // The end of the range: whatever is left is the last line.
            worker.add_lines(&buf[..filled]);
            break;
        }
        filled += n;
        let Some(last_nl) = memchr::memrchr(b'\n', &buf[..filled]) else {
            continue;
        };
        worker.add_lines(&buf[..=last_nl]);
        if worker.stopped() {
            break;
        }
        buf.copy_within(last_nl + 1..filled, 0);
        filled -= last_nl + 1;
    }
    Ok(())
}

/// Sums the sales file at `path` per artist × month × currency using `threads`
/// threads. Exact: integer minor units, each line's royalty rounded once half to even
/// (as `Money::apply_rate`), checked additions. Any invalid line and there are no
/// totals: the first 100 problems are returned, in file order.
pub fn sum_file(catalog: &Catalog, path: &Path, threads: usize) -> Result<Totals, SalesError> {
    let name = path.display().to_string();
    let mut file = File::open(path).map_err(|e| SalesError::io(&name, e))?;
    let len = file.metadata().map_err(|e| SalesError::io(&name, e))?.len();
    let (header, data_start) = read_header(&mut file, &name)?;
    let layout = Layout::from_header(&header, &name).map_err(SalesError::one)?;
    let threads = threads.clamp(1, 64);
    // More ranges than threads, taken in turn: a thread the machine slows down takes
    // fewer, so the threads finish together.
    let data = len.saturating_sub(data_start);
    let ranges = (data / MIN_RANGE).clamp(1, threads as u64 * 8);
    let mut bounds = vec![data_start];
    for k in 1..ranges {
        let target = data_start + data * k / ranges;
        let at = next_line_start(&mut file, target, len, &name)?;
        let prev = *bounds.last().unwrap_or(&data_start);
        bounds.push(at.max(prev));
    }
    bounds.push(len);
    let artists = catalog.artists().len().max(1);
    let max_slots = (MAX_ACC_BYTES / (artists * std::mem::size_of::<Acc>())).max(1);
    let next = AtomicUsize::new(0);
    let stop = AtomicBool::new(false);
    let results: Vec<Result<Partial, SalesError>> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..threads.min(ranges as usize))
            .map(|_| {
                let mut worker = Worker {
                    catalog,
                    layout: &layout,
                    file: &name,
                    artists,
                    max_slots,
                    part: Partial {
                        slots: Vec::new(),
                        accs: Vec::new(),
                        lines: 0,
                        errors: Vec::new(),
                        ranges: Vec::new(),
                    },
                    recent: [(u64::MAX, 0, 0); 16],
                };
                let (bounds, next, stop) = (&bounds, &next, &stop);
                s.spawn(move || {
                    let mut file = File::open(path).map_err(|e| SalesError::io(worker.file, e))?;
                    let mut buf = vec![0u8; BLOCK];
                    // Ranges are taken in order; after one with more problems than are
                    // reported no new one is started (all earlier ones are then
                    // finished, so its line numbers are right).
                    while !stop.load(Ordering::Relaxed) {
                        let index = next.fetch_add(1, Ordering::Relaxed);
                        let Some(&[start, end]) = bounds.get(index..index + 2) else {
                            break;
                        };
                        run_range(&mut file, start, end, &mut worker, &mut buf)?;
                        let stopped = worker.stopped();
                        let part = &mut worker.part;
                        part.ranges.push(RangeResult {
                            index,
                            lines: std::mem::take(&mut part.lines),
                            errors: std::mem::take(&mut part.errors),
                        });
                        if stopped {
                            stop.store(true, Ordering::Relaxed);
                        }
                    }
                    Ok(worker.part)
                })
            })
            .collect();
        handles
            .into_iter()
            .map(|h| {
                h.join().unwrap_or_else(|_| {
                    Err(SalesError::io(
                        &name,
                        std::io::Error::other("a summing thread failed"),
                    ))
                })
            })
            .collect()
    });
    let mut parts = Vec::with_capacity(results.len());
    for r in results {
        parts.push(r?);
    }
    merge(catalog, &name, parts)
}

fn merge(catalog: &Catalog, name: &str, mut parts: Vec<Partial>) -> Result<Totals, SalesError> {
    // Errors: number the lines (header = line 1), keep the first 100 in file order.
    let mut ranges: Vec<&mut RangeResult> =
        parts.iter_mut().flat_map(|p| p.ranges.iter_mut()).collect();
    ranges.sort_by_key(|r| r.index);
    let mut errors = Vec::new();
    let mut more = false;
    let mut before = 1u64;
    for r in ranges {
        r.errors.sort_by_key(|e| e.chunk_line);
        for e in &r.errors {
            let mut error = e.error.clone();
            error.line = before + e.chunk_line + 1;
            errors.push(error);
        }
        before += r.lines;
    }
    if !errors.is_empty() {
        if errors.len() > MAX_REPORTED {
            errors.truncate(MAX_REPORTED);
            more = true;
        }
        return Err(SalesError::Input { errors, more });
    }
    let mut keys: Vec<(SlotKey, Currency)> =
        parts.iter().flat_map(|p| p.slots.iter().copied()).collect();
    keys.sort_by_key(|k| k.0);
    keys.dedup_by_key(|k| k.0);
    // For each part, where each merged key's accumulators are.
    let offsets: Vec<Vec<Option<usize>>> = parts
        .iter()
        .map(|p| {
            keys.iter()
                .map(|(k, _)| p.slots.iter().position(|(s, _)| s == k))
                .collect()
        })
        .collect();
    let n = catalog.artists().len();
    let mut order: Vec<usize> = (0..n).collect();
    order.sort_by(|&a, &b| catalog.artists()[a].cmp(&catalog.artists()[b]));
    let overflow = || {
        SalesError::one(InputError::new(
            name,
            0,
            0,
            "",
            b"",
            "totals per artist and month within ±92,233,720,368,547,758.07",
        ))
    };
    let mut rows = Vec::new();
    let mut lines = 0u64;
    for &artist in &order {
        for (ki, (key, currency)) in keys.iter().enumerate() {
            let mut t = Acc::default();
            for (p, offs) in parts.iter().zip(&offsets) {
                let Some(slot) = offs[ki] else { continue };
                let a = p.accs[slot * n.max(1) + artist];
                t.lines += a.lines;
                t.units = t.units.checked_add(a.units).ok_or_else(overflow)?;
                t.net = t.net.checked_add(a.net).ok_or_else(overflow)?;
                t.royalty = t.royalty.checked_add(a.royalty).ok_or_else(overflow)?;
            }
            if t.lines == 0 {
                continue;
            }
            lines += t.lines as u64;
            rows.push(TotalRow {
                artist: artist as u32,
                month: slot_month(*key),
                lines: t.lines as u64,
                units: t.units,
                net: Money::from_minor(t.net, *currency),
                royalty: Money::from_minor(t.royalty, *currency),
            });
        }
    }
    Ok(Totals {
        artists: catalog.artists().to_vec(),
        rows,
        lines,
    })
}

impl Totals {
    /// The artist id of a row.
    pub fn artist(&self, row: &TotalRow) -> &str {
        self.artists
            .get(row.artist as usize)
            .map(String::as_str)
            .unwrap_or("")
    }

    /// Writes `artist,month,currency,lines,units,net,royalty` CSV, amounts as decimals
    /// (formatted by hand: ~180k rows for 10M lines).
    pub fn write_csv(&self, out: &mut impl std::io::Write) -> std::io::Result<()> {
        let mut buf: Vec<u8> = Vec::with_capacity(1 << 16);
        buf.extend_from_slice(b"artist,month,currency,lines,units,net,royalty\n");
        for r in &self.rows {
            buf.extend_from_slice(self.artist(r).as_bytes());
            buf.push(b',');
            push_month(&mut buf, r.month);
            buf.push(b',');
            buf.extend_from_slice(r.net.currency().code().as_bytes());
            buf.push(b',');
            push_u64(&mut buf, r.lines);
            buf.push(b',');
            push_int(&mut buf, r.units);
            buf.push(b',');
            push_money(&mut buf, r.net);
            buf.push(b',');
            push_money(&mut buf, r.royalty);
            buf.push(b'\n');
            if buf.len() > (1 << 16) - 256 {
                out.write_all(&buf)?;
                buf.clear();
            }
        }
        out.write_all(&buf)
    }
}

fn push_month(buf: &mut Vec<u8>, key: u32) {
    let (year, month) = (key / 12, key % 12 + 1);
    for d in [year / 1000 % 10, year / 100 % 10, year / 10 % 10, year % 10] {
        buf.push(b'0' + d as u8);
    }
    buf.extend_from_slice(&[b'-', b'0' + (month / 10) as u8, b'0' + (month % 10) as u8]);
}

fn push_int(buf: &mut Vec<u8>, v: i64) {
    if v < 0 {
        buf.push(b'-');
    }
    push_u64(buf, v.unsigned_abs());
}

fn push_u64(buf: &mut Vec<u8>, v: u64) {
    let mut digits = [0u8; 20];
    let mut n = v;
    let mut i = digits.len();
    loop {
        i -= 1;
        digits[i] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    buf.extend_from_slice(&digits[i..]);
}

/// As `Money::to_decimal_string` (a test checks they agree).
fn push_money(buf: &mut Vec<u8>, m: Money) {
    let exp = u32::from(m.currency().exponent());
    let minor = m.minor();
    if exp == 0 {
        return push_int(buf, minor);
    }
    if minor < 0 {
        buf.push(b'-');
    }
    let abs = minor.unsigned_abs();
    let scale = 10u64.pow(exp);
    push_u64(buf, abs / scale);
    buf.push(b'.');
    let mut frac = abs % scale;
    let mut digits = [b'0'; 8];
    let width = (exp as usize).min(digits.len());
    for d in digits[..width].iter_mut().rev() {
        *d = b'0' + (frac % 10) as u8;
        frac /= 10;
    }
    buf.extend_from_slice(&digits[..width]);
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #[test]
        fn money_written_as_the_domain_writes_it(minor in any::<i64>(), code in prop::sample::select(vec!["USD", "JPY", "BHD"])) {
            let m = Money::from_minor(minor, Currency::parse(code).unwrap());
            let mut buf = Vec::new();
            push_money(&mut buf, m);
            prop_assert_eq!(String::from_utf8(buf).unwrap(), m.to_decimal_string());
        }

        #[test]
        fn months_written_as_month_text(key in 1900u32 * 12..2200 * 12) {
            let mut buf = Vec::new();
            push_month(&mut buf, key);
            prop_assert_eq!(String::from_utf8(buf).unwrap(), line::month_text(key));
        }
    }
}
