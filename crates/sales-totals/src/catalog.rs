//! The royalty catalog: UPC → artist and royalty rate, looked up once per sales line.

use crate::error::{InputError, SalesError, MAX_REPORTED};
use backstock_domain::{Rate, Upc};
use std::collections::HashMap;

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
        let mut artist_ids: HashMap<String, u32> = HashMap::new();
        let mut artists = Vec::new();
        let mut entries = Vec::new();
        let mut first_line: HashMap<u64, u64> = HashMap::new();
        for (i, raw) in lines.enumerate() {
            let number = i as u64 + 2;
            let line = raw.trim_end_matches('\r');
            if line.is_empty() {
                continue;
            }
            if errors.len() >= MAX_REPORTED {
                more = true;
                break;
            }
            let fields: Vec<&str> = line.split(',').collect();
            if fields.len() != names.len() || line.contains('"') {
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
            let upc = match Upc::parse(fields[upc_col]) {
                Ok(u) => u,
                Err(e) => {
                    errors.push(err(upc_col, &e));
                    continue;
                }
            };
            let rate = match Rate::parse(fields[rate_col]) {
                Ok(r) => r,
                Err(e) => {
                    errors.push(err(rate_col, &e));
                    continue;
                }
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
            let key = crate::line::parse_upc(upc.as_str().as_bytes()).unwrap_or(EMPTY);
            if let Some(first) = first_line.insert(key, number) {
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
            let index = match artist_ids.get(artist) {
                Some(&i) => i,
                None => {
                    let i = artists.len() as u32;
                    artists.push(artist.to_string());
                    artist_ids.insert(artist.to_string(), i);
                    i
                }
            };
            entries.push((
                key,
                Entry {
                    artist: index,
                    ppm: rate.ppm(),
                },
            ));
        }
        if !errors.is_empty() {
            return Err(SalesError::Input { errors, more });
        }
        let mut table = UpcTable::with_capacity(entries.len());
        for (key, entry) in &entries {
            table.insert(*key, *entry);
        }
        Ok(Catalog {
            artists,
            table,
            upcs: entries.len(),
        })
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
        assert_eq!(c.get(36_000_291_452), Some(Entry { artist: 0, ppm: 250_000 }));
        // The UPC-A form of the EAN-13 above.
        assert_eq!(c.get(190_000_000_015), Some(Entry { artist: 1, ppm: 180_000 }));
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
        fn table_finds_what_was_inserted(keys in proptest::collection::hash_set(0u64..10_000_000_000_000, 0..500), probe in 0u64..10_000_000_000_000) {
            let mut t = UpcTable::with_capacity(keys.len());
            for (i, k) in keys.iter().enumerate() {
                prop_assert_eq!(t.insert(*k, Entry { artist: i as u32, ppm: 1 }), None);
            }
            for (i, k) in keys.iter().enumerate() {
                prop_assert_eq!(t.get(*k), Some(Entry { artist: i as u32, ppm: 1 }));
            }
            prop_assert_eq!(t.get(probe).is_some(), keys.contains(&probe));
        }
    }
}
