//! Summing a sales file per artist × month × currency, in parallel chunks.
//!
//! The file is cut into one byte range per thread at line boundaries; each thread reads
//! its range in 4 MiB blocks (its own file handle; the page cache makes this a copy),
//! parses each line by hand ([`crate::line`]), looks the UPC up in the catalog's
//! hash table and adds into a flat `Vec` indexed by (month × currency slot, artist).
//! The partial totals are then added together. Every addition is checked: a total
//! that would leave `i64` is an error, never a wrap-around.

use crate::catalog::Catalog;
use crate::error::{shorten, InputError, SalesError, MAX_REPORTED};
use crate::line::{self, Layout};
use backstock_domain::{Currency, Money};
use std::fs::File;
use std::io::{Read, Seek, SeekFrom};
use std::path::Path;

const BLOCK: usize = 4 << 20;
/// A longer line is refused (a sales line is ~50 bytes).
const MAX_LINE: usize = 1 << 20;
/// Accumulator memory allowed per thread; bounds the month × currency combinations.
const MAX_ACC_BYTES: usize = 512 << 20;

/// One artist × month × currency total.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TotalRow {
    pub artist: String,
    /// `YYYY-MM`.
    pub month: String,
    pub lines: u64,
    pub units: i64,
    pub net: Money,
    pub royalty: Money,
}

/// The totals of a file, ordered by artist, month and currency.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Totals {
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

/// A month × currency combination met in the file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
struct SlotKey {
    month: u32,
    currency: [u8; 3],
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
    lines: u64,
    errors: Vec<RawError>,
}

struct Worker<'a> {
    catalog: &'a Catalog,
    layout: &'a Layout,
    file: &'a str,
    artists: usize,
    max_slots: usize,
    part: Partial,
    last_slot: (SlotKey, usize),
}

impl Worker<'_> {
    /// Keeps one problem more than is reported, so the report can say there were more.
    fn error(&mut self, error: InputError) {
        if self.stopped() {
            return;
        }
        self.part.errors.push(RawError {
            chunk_line: self.part.lines,
            error,
        });
    }

    fn stopped(&self) -> bool {
        self.part.errors.len() > MAX_REPORTED
    }

    /// Line numbers are fixed up after all threads finish; until then `line` is 0.
    fn field_error(&mut self, text: &[u8], col: Option<usize>, found: &[u8], expected: &str) {
        let (column, name) = match col {
            Some(c) => (c + 1, self.layout.name(c).to_string()),
            None => (0, String::new()),
        };
        let found = if col.is_some() { found } else { text };
        self.error(InputError::new(self.file, 0, column, &name, found, expected));
    }

    /// The slot of a month × currency (validating a currency code the first time).
    #[inline]
    fn slot(&mut self, key: SlotKey) -> Result<(usize, u8), String> {
        if self.last_slot.0 == key {
            let i = self.last_slot.1;
            return Ok((i, self.part.slots[i].1.exponent()));
        }
        if let Some(i) = self.part.slots.iter().position(|(k, _)| *k == key) {
            self.last_slot = (key, i);
            return Ok((i, self.part.slots[i].1.exponent()));
        }
        let code = std::str::from_utf8(&key.currency).unwrap_or("");
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
        self.last_slot = (key, i);
        Ok((i, currency.exponent()))
    }

    /// Adds every line of `block` (whole lines, each ended by `\n`, except perhaps the
    /// file's last).
    fn add_lines(&mut self, block: &[u8]) {
        let mut start = 0;
        let mut ends = memchr::memchr_iter(b'\n', block);
        loop {
            let end = match ends.next() {
                Some(e) => e,
                None if start < block.len() => block.len(),
                None => break,
            };
            let text = &block[start..end];
            start = end + 1;
            if text.is_empty() || text == b"\r" {
                self.part.lines += 1;
                continue;
            }
            self.add_line(text);
            self.part.lines += 1;
            if self.stopped() {
                return;
            }
        }
    }

    #[inline]
    fn add_line(&mut self, text: &[u8]) {
        let l = match line::parse_line(text, self.layout) {
            Ok(l) => l,
            Err(e) => {
                let end = e.end.min(text.len());
                let start = e.start.min(end);
                self.field_error(text, e.column, &text[start..end], &e.expected);
                return;
            }
        };
        let Some(entry) = self.catalog.get(l.upc) else {
            self.unknown_upc(text);
            return;
        };
        let key = SlotKey {
            month: l.month,
            currency: l.currency,
        };
        let (slot, exponent) = match self.slot(key) {
            Ok(s) => s,
            Err(expected) => {
                self.located(text, crate::line::Role::Currency, &expected);
                return;
            }
        };
        let Some(net) = l.net_minor(exponent) else {
            let expected = format!(
                "an amount with at most {exponent} decimal places for {}",
                String::from_utf8_lossy(&l.currency)
            );
            self.located(text, crate::line::Role::Net, &expected);
            return;
        };
        let Some(royalty) = line::royalty(net, entry.ppm) else {
            self.located(text, crate::line::Role::Net, "an amount whose royalty fits in ±92,233,720,368,547,758.07");
            return;
        };
        let acc = &mut self.part.accs[slot * self.artists + entry.artist as usize];
        match (
            acc.units.checked_add(l.units),
            acc.net.checked_add(net),
            acc.royalty.checked_add(royalty),
        ) {
            (Some(u), Some(n), Some(r)) => {
                acc.lines += 1;
                acc.units = u;
                acc.net = n;
                acc.royalty = r;
            }
            _ => self.located(
                text,
                crate::line::Role::Net,
                "totals per artist and month within ±92,233,720,368,547,758.07 (adding this line overflowed)",
            ),
        }
    }

    /// An error on the column of `role`, re-finding the field in the line (cold path).
    fn located(&mut self, text: &[u8], role: crate::line::Role, expected: &str) {
        let col = self.layout.position(role);
        let found = col
            .and_then(|c| text.split(|&b| b == b',').nth(c))
            .unwrap_or(text);
        self.field_error(text, col, found, expected);
    }

    fn unknown_upc(&mut self, text: &[u8]) {
        let col = self.layout.position(crate::line::Role::Upc);
        let found = col
            .and_then(|c| text.split(|&b| b == b',').nth(c))
            .unwrap_or(text);
        let expected = match backstock_domain::Upc::parse(&shorten(found)) {
            Err(e) => e.expected().to_string(),
            Ok(_) => "a UPC listed in the catalog".to_string(),
        };
        self.field_error(text, col, found, &expected);
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
fn run_chunk(
    path: &Path,
    start: u64,
    end: u64,
    mut worker: Worker<'_>,
) -> Result<Partial, SalesError> {
    let mut file = File::open(path).map_err(|e| SalesError::io(worker.file, e))?;
    file.seek(SeekFrom::Start(start))
        .map_err(|e| SalesError::io(worker.file, e))?;
    let mut reader = file.take(end - start);
    let mut buf = vec![0u8; BLOCK];
    let mut filled = 0usize;
    loop {
        if filled == buf.len() {
            if buf.len() >= MAX_LINE + BLOCK {
                worker.field_error(&buf[..60], None, &[], "lines shorter than 1 MiB");
                break;
            }
            buf.resize(buf.len() * 2, 0);
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
    Ok(worker.part)
}

/// Sums the sales file at `path` per artist × month × currency using `threads`
/// threads. Exact: integer minor units, each line's royalty rounded once half to even
/// (as `Money::apply_rate`), checked additions. Any invalid line and there are no
/// totals: the first 100 problems are returned, in file order.
pub fn sum_file(catalog: &Catalog, path: &Path, threads: usize) -> Result<Totals, SalesError> {
    let name = path.display().to_string();
    let mut file = File::open(path).map_err(|e| SalesError::io(&name, e))?;
    let len = file
        .metadata()
        .map_err(|e| SalesError::io(&name, e))?
        .len();
    let (header, data_start) = read_header(&mut file, &name)?;
    let layout = Layout::from_header(&header, &name).map_err(SalesError::one)?;
    let threads = threads.clamp(1, 64);
    let mut bounds = vec![data_start];
    for k in 1..threads as u64 {
        let target = data_start + (len - data_start) * k / threads as u64;
        let at = next_line_start(&mut file, target, len, &name)?;
        let prev = *bounds.last().unwrap_or(&data_start);
        bounds.push(at.max(prev));
    }
    bounds.push(len);
    let artists = catalog.artists().len().max(1);
    let max_slots = (MAX_ACC_BYTES / (artists * std::mem::size_of::<Acc>())).max(1);
    let results: Vec<Result<Partial, SalesError>> = std::thread::scope(|s| {
        let handles: Vec<_> = bounds
            .windows(2)
            .map(|w| {
                let (start, end) = (w[0], w[1]);
                let worker = Worker {
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
                    },
                    last_slot: (
                        SlotKey {
                            month: u32::MAX,
                            currency: [0; 3],
                        },
                        0,
                    ),
                };
                s.spawn(move || run_chunk(path, start, end, worker))
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

fn merge(catalog: &Catalog, name: &str, parts: Vec<Partial>) -> Result<Totals, SalesError> {
    // Errors: number the lines (header = line 1), keep the first 100 in file order.
    let mut errors = Vec::new();
    let mut more = false;
    let mut before = 1u64;
    for p in &parts {
        for e in &p.errors {
            let mut error = e.error.clone();
            error.line = before + e.chunk_line + 1;
            errors.push(error);
        }
        before += p.lines;
    }
    if !errors.is_empty() {
        if errors.len() > MAX_REPORTED {
            errors.truncate(MAX_REPORTED);
            more = true;
        }
        return Err(SalesError::Input { errors, more });
    }
    let mut keys: Vec<(SlotKey, Currency)> = parts
        .iter()
        .flat_map(|p| p.slots.iter().copied())
        .collect();
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
                artist: catalog.artists()[artist].clone(),
                month: line::month_text(key.month),
                lines: t.lines as u64,
                units: t.units,
                net: Money::from_minor(t.net, *currency),
                royalty: Money::from_minor(t.royalty, *currency),
            });
        }
    }
    Ok(Totals { rows, lines })
}

impl Totals {
    /// Writes `artist,month,currency,lines,units,net,royalty` CSV, amounts as decimals.
    pub fn write_csv(&self, out: &mut impl std::io::Write) -> std::io::Result<()> {
        writeln!(out, "artist,month,currency,lines,units,net,royalty")?;
        for r in &self.rows {
            writeln!(
                out,
                "{},{},{},{},{},{},{}",
                r.artist,
                r.month,
                r.net.currency(),
                r.lines,
                r.units,
                r.net.to_decimal_string(),
                r.royalty.to_decimal_string()
            )?;
        }
        Ok(())
    }
}
