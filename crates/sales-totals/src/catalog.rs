//! The royalty catalog: UPC → artist and royalty rate, looked up once per sales line.

use crate::error::{InputError, SalesError, MAX_REPORTED};
use backstock_domain::{Rate, Upc};
use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};

/// A fast hash for artist ids (the label's own catalog, not adversarial input): eight
/// bytes at a time, multiply and rotate (the FxHash step).
#[derive(Default)]
struct IdHasher(u64);

impl Hasher for IdHasher {
    fn write(&mut self, bytes: &[u8]) {
        for chunk in bytes.chunks(8) {
            let mut word = [0u8; 8];
            word[..chunk.len()].copy_from_slice(chunk);
            self.0 = (self.0.rotate_left(5) ^ u64::from_le_bytes(word))
                .wrapping_mul(0x517c_c1b7_2722_0a95);
        }
    }
    fn finish(&self) -> u64 {
        self.0
    }
}

/// A rate written plainly (`0.25`, `0.333333`, `25%`, `12.5%`) in ppm; `None` sends
/// the text to `Rate::parse` (which also trims, and words the error). A test checks
/// the two agree.
fn rate_ppm(text: &str) -> Option<u32> {
    let b = text.as_bytes();
    let (b, scale) = match b.split_last() {
        Some((b'%', rest)) => (rest, 4u32),
        _ => (b, 6u32),
    };
    let (mut int, mut frac, mut places, mut digits) = (0u64, 0u64, 0u32, 0u32);
    let mut dot = false;
    for &c in b {
        if c == b'.' && !dot {
            dot = true;
            continue;
        }
        let d = c.wrapping_sub(b'0');
        if d > 9 || digits == 12 {
            return None;
        }
        digits += 1;
        if dot {
            places += 1;
            if places > scale {
                return None;
            }
            frac = frac * 10 + u64::from(d);
        } else {
            int = int * 10 + u64::from(d);
        }
    }
    if digits == 0 {
        return None;
    }
    let ppm = int * 10u64.pow(scale) + frac * 10u64.pow(scale - places);
    u32::try_from(ppm).ok().filter(|&p| p <= 1_000_000_000)
}

/// Where a UPC's sales go: a dense artist index and the royalty rate in ppm.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Entry {
    pub artist: u32,
    pub ppm: u32,
}

/// An open-addressing hash table from a UPC's value to its [`Entry`]: linear
/// probing, Fibonacci hashing, at most half full. (A UPC is at most 13 digits, so
/// `u64::MAX` marks an empty slot.)
#[derive(Debug, Clone)]
struct UpcTable {
    slots: Vec<(u64, Entry)>,
    shift: u32,
}

const EMPTY: u64 = u64::MAX;

impl UpcTable {
    fn with_capacity(n: usize) -> UpcTable {
        // At most half full (measured a little faster than 80% full at 100,000 UPCs).
        let size = (n.max(8) * 2).next_power_of_two();
        UpcTable {
            slots: vec![(EMPTY, Entry { artist: 0, ppm: 0 }); size],
            shift: 64 - size.trailing_zeros(),
        }
    }

    #[inline]
    fn home(&self, key: u64) -> usize {
        (key.wrapping_mul(0x9E37_79B9_7F4A_7C15) >> self.shift) as usize
    }

    /// Inserts `key` unless present; returns the entry already there otherwise.
    fn insert(&mut self, key: u64, entry: Entry) -> Option<Entry> {
        let mask = self.slots.len() - 1;
        let mut i = self.home(key);
        loop {
            let slot = &mut self.slots[i];
            if slot.0 == EMPTY {
                *slot = (key, entry);
                return None;
            }
            if slot.0 == key {
                return Some(slot.1);
            }
            i = (i + 1) & mask;
        }
    }

    /// Looks up many keys: first the home slot of each (independent loads whose cache
    /// misses overlap), then the probing, which then mostly hits the cache.
    #[inline]
    fn get_many(&self, keys: &[u64], out: &mut [Option<Entry>]) {
        let mut homes = [(EMPTY, Entry { artist: 0, ppm: 0 }); 64];
        for (h, &key) in homes.iter_mut().zip(keys) {
            *h = self.slots[self.home(key)];
        }
        for ((o, &key), h) in out.iter_mut().zip(keys).zip(&homes) {
            *o = if h.0 == key { Some(h.1) } else { self.get(key) };
        }
    }

    #[inline]
    fn get(&self, key: u64) -> Option<Entry> {
        let mask = self.slots.len() - 1;
        let mut i = self.home(key);
        loop {
            let (k, e) = self.slots[i];
            if k == key {
                return Some(e);
            }
            if k == EMPTY {
                return None;
            }
            i = (i + 1) & mask;
        }
    }
}

/// The value of a UPC-A / EAN-13 written exactly (12 or 13 digits, nothing else) with
/// a correct GS1 check digit; `None` sends the text to `Upc::parse` (which also trims,
/// and words the error). A test checks the two agree.
fn upc_key(text: &str) -> Option<u64> {
    let value = crate::line::parse_upc(text.as_bytes())?;
    let digits = text.as_bytes();
    let (body, check) = digits.split_at(digits.len() - 1);
    let sum: u32 = body
        .iter()
        .rev()
        .enumerate()
        .map(|(i, b)| u32::from(b - b'0') * if i % 2 == 0 { 3 } else { 1 })
        .sum();
    (u32::from(check[0] - b'0') == (10 - sum % 10) % 10).then_some(value)
}

/// The catalog read from `catalog.csv` (`upc,artist,rate`).
#[derive(Debug, Clone)]
pub struct Catalog {
    artists: Vec<String>,
    table: UpcTable,
    upcs: usize,
}

impl Catalog {
    /// Reads a catalog file. See [`Catalog::parse`].
    pub fn read(path: &std::path::Path) -> Result<Catalog, SalesError> {
        let name = path.display().to_string();
        let bytes = std::fs::read(path).map_err(|e| SalesError::io(&name, e))?;
        Catalog::parse(&bytes, &name)
    }

    /// Parses catalog CSV: a header naming `upc`, `artist` and `rate` (any order,
    /// other columns ignored), then one line per product: a UPC-A or EAN-13 with a
    /// correct check digit, listed once; the artist (payee) id; the royalty rate on
    /// net receipts as a decimal (`0.25`) or a percentage (`25%`), at most 6 places.
    pub fn parse(bytes: &[u8], file: &str) -> Result<Catalog, SalesError> {
        let text = std::str::from_utf8(bytes).map_err(|e| {
            let line = 1 + bytes[..e.valid_up_to()]
                .iter()
                .filter(|&&b| b == b'\n')
                .count() as u64;
            SalesError::one(InputError::new(
                file,
                line,
                0,
                "",
                &bytes[e.valid_up_to()..(e.valid_up_to() + 4).min(bytes.len())],
                "UTF-8 text",
            ))
        })?;
        let text = text.strip_prefix('\u{feff}').unwrap_or(text);
        let mut lines = text.split('\n');
        let header = lines.next().unwrap_or("").trim_end_matches('\r');
        let names: Vec<String> = header
            .split(',')
            .map(|n| n.trim().to_ascii_lowercase())
            .collect();
        let find = |want: &str| names.iter().position(|n| n == want);
        let (Some(upc_col), Some(artist_col), Some(rate_col)) =
            (find("upc"), find("artist"), find("rate"))
        else {
            return Err(SalesError::one(InputError::new(
                file,
                1,
                0,
                "",
                header.as_bytes(),
                "a header naming the columns upc, artist and rate",
            )));
        };
        let mut errors = Vec::new();
        let mut more = false;
        let mut artist_ids: HashMap<&str, u32, BuildHasherDefault<IdHasher>> = HashMap::default();
        let mut artists = Vec::new();
        let expected_lines = memchr::memchr_iter(b'\n', text.as_bytes()).count();
        let mut table = UpcTable::with_capacity(expected_lines);
        // (UPC value, line) of every entry, to name the first line of a duplicate.
        let mut lines_of: Vec<(u64, u64)> = Vec::with_capacity(expected_lines);
        let mut fields: Vec<&str> = Vec::with_capacity(names.len());
        for (i, raw) in lines.enumerate() {
            let number = i as u64 + 2;
            let line = raw.strip_suffix('\r').unwrap_or(raw);
            if line.is_empty() {
                continue;
            }
            if errors.len() >= MAX_REPORTED {
                more = true;
                break;
            }
            fields.clear();
            let mut from = 0;
            let mut quoted = false;
            for (k, &b) in line.as_bytes().iter().enumerate() {
                if b == b',' {
                    fields.push(&line[from..k]);
                    from = k + 1;
                } else if b == b'"' {
                    quoted = true;
                }
            }
            fields.push(&line[from..]);
            if fields.len() != names.len() || quoted {
                errors.push(InputError::new(
                    file,
                    number,
                    0,
                    "",
                    line.as_bytes(),
                    format!(
                        "{} comma-separated fields as in the header, without quotes",
                        names.len()
                    ),
                ));
                continue;
            }
            let err = |col: usize, e: &backstock_domain::DomainError| {
                InputError::new(
                    file,
                    number,
                    col + 1,
                    &names[col],
                    fields[col].as_bytes(),
                    e.expected(),
                )
            };
            let key = match upc_key(fields[upc_col]) {
                Some(k) => k,
                None => match Upc::parse(fields[upc_col]) {
                    Ok(u) => crate::line::parse_upc(u.as_str().as_bytes()).unwrap_or(EMPTY),
                    Err(e) => {
                        errors.push(err(upc_col, &e));
                        continue;
                    }
                },
            };
            let ppm = match rate_ppm(fields[rate_col]) {
                Some(ppm) => ppm,
                None => match Rate::parse(fields[rate_col]) {
                    Ok(r) => r.ppm(),
                    Err(e) => {
                        errors.push(err(rate_col, &e));
                        continue;
                    }
                },
            };
            let artist = fields[artist_col].trim();
            if artist.is_empty() || artist.len() > 200 {
                errors.push(InputError::new(
                    file,
                    number,
                    artist_col + 1,
                    &names[artist_col],
                    artist.as_bytes(),
                    "the artist's id, 1 to 200 characters",
                ));
                continue;
            }
            let next = artists.len() as u32;
            let index = *artist_ids.entry(artist).or_insert(next);
            let entry = Entry { artist: index, ppm };
            if table.insert(key, entry).is_some() {
                let first = lines_of
                    .iter()
                    .find(|(k, _)| *k == key)
                    .map_or(0, |(_, l)| *l);
                errors.push(InputError::new(
                    file,
                    number,
                    upc_col + 1,
                    &names[upc_col],
                    fields[upc_col].as_bytes(),
                    format!("each UPC listed once (it is also on line {first})"),
                ));
                continue;
            }
            if index == next {
                artists.push(artist.to_string());
            }
            lines_of.push((key, number));
        }
        if !errors.is_empty() {
            return Err(SalesError::Input { errors, more });
        }
        Ok(Catalog {
            artists,
            table,
            upcs: lines_of.len(),
        })
    }

    /// [`Catalog::get`] of up to 64 UPCs at once, into `out` (faster: the cache misses
    /// of the lookups overlap).
    #[inline]
    pub fn get_many(&self, upcs: &[u64], out: &mut [Option<Entry>]) {
        for (keys, out) in upcs.chunks(64).zip(out.chunks_mut(64)) {
            self.table.get_many(keys, out);
        }
    }

    /// The artist and rate of a UPC, by its digits' value.
    #[inline]
    pub fn get(&self, upc: u64) -> Option<Entry> {
        self.table.get(upc)
    }

    /// Artist ids by dense index.
    pub fn artists(&self) -> &[String] {
        &self.artists
    }

    pub fn upcs(&self) -> usize {
        self.upcs
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn reads_a_catalog() {
        let c = Catalog::parse(
            b"\xEF\xBB\xBFupc,title,artist,rate\r\n036000291452,A,ART-1,0.25\r\n0190000000015,B,ART-2,18%\n\n",
            "catalog.csv",
        )
        .unwrap();
        assert_eq!(c.upcs(), 2);
        assert_eq!(c.artists(), ["ART-1", "ART-2"]);
        assert_eq!(
            c.get(36_000_291_452),
            Some(Entry {
                artist: 0,
                ppm: 250_000
            })
        );
        // The UPC-A form of the EAN-13 above.
        assert_eq!(
            c.get(190_000_000_015),
            Some(Entry {
                artist: 1,
                ppm: 180_000
            })
        );
        assert_eq!(c.get(190_000_000_016), None);
    }

    #[test]
    fn every_problem_located() {
        let e = Catalog::parse(
            b"upc,artist,rate\n036000291453,A,0.1\n036000291452,A,x\n036000291452,,0.1\n036000291452,B,0.1\n036000291452,B,0.1\n\"1\",B,0.1\n",
            "catalog.csv",
        )
        .unwrap_err();
        let SalesError::Input { errors, more } = e else {
            panic!("not an input error")
        };
        assert!(!more);
        let got: Vec<(u64, usize)> = errors.iter().map(|e| (e.line, e.column)).collect();
        assert_eq!(got, [(2, 1), (3, 3), (4, 2), (6, 1), (7, 0)]);
        assert!(errors[0].expected.contains("should be 2"), "{}", errors[0]);
        assert!(errors[3].expected.contains("line 5"), "{}", errors[3]);
        assert!(Catalog::parse(b"upc,artist\n", "c.csv").is_err());
    }

    proptest! {
        #[test]
        fn upc_key_agrees_with_upc_parse(text in "[0-9]{11,14}") {
            let theirs = Upc::parse(&text).ok();
            prop_assert_eq!(upc_key(&text).is_some(), theirs.is_some());
            if let Some(u) = theirs {
                prop_assert_eq!(upc_key(&text), crate::line::parse_upc(u.as_str().as_bytes()));
            }
        }

        #[test]
        fn rate_ppm_agrees_with_rate_parse(text in "[0-9]{0,5}\\.?[0-9]{0,8}%?") {
            if let Some(ppm) = rate_ppm(&text) {
                prop_assert_eq!(Rate::parse(&text).map(|r| r.ppm()), Ok(ppm), "{}", text);
            }
        }

        #[test]
        fn plain_rates_take_the_fast_path(ppm in 0u32..=1_000_000_000) {
            let r = Rate::from_ppm(ppm).unwrap();
            prop_assert_eq!(rate_ppm(&r.to_string()), Some(ppm));
        }

        #[test]
        fn table_finds_what_was_inserted(keys in proptest::collection::hash_set(0u64..10_000_000_000_000, 0..500), probe in 0u64..10_000_000_000_000) {
            let mut t = UpcTable::with_capacity(keys.len());
            for (i, k) in keys.iter().enumerate() {
                prop_assert_eq!(t.insert(*k, Entry { artist: i as u32, ppm: 1 }), None);
            }
            for (i, k) in keys.iter().enumerate() {
                prop_assert_eq!(t.get(*k), Some(Entry { artist: i as u32, ppm: 1 }));
            }
            let all: Vec<u64> = keys.iter().copied().chain([probe]).collect();
            let mut many = vec![None; all.len()];
            for (k, o) in all.chunks(64).zip(many.chunks_mut(64)) {
                t.get_many(k, o);
            }
            let one: Vec<Option<Entry>> = all.iter().map(|k| t.get(*k)).collect();
            prop_assert_eq!(many, one);
            prop_assert_eq!(t.get(probe).is_some(), keys.contains(&probe));
        }
    }
}
