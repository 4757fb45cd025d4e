//! The seeded generator of the royalty benchmark: a catalog (UPC → artist, rate) and
//! a digital sales file shaped like an aggregator's monthly DSR statements.
//!
//! * UPCs are UPC-A with correct GS1 check digits; every artist has at least one.
//! * Popularity is Zipf (exponent 1) over a random ranking of the UPCs, so a few
//!   releases sell most and the long tail sells a line now and then.
//! * Each month's lines come together (a file is several monthly reports); each line
//!   is one store × territory × release: streams (many units, fractions of a cent
//!   each, rounded to the cent by the store) or downloads (1–3 units at a price), with
//!   refunds and negative adjustments (≈1%) as negative units and amounts.
//! * Rates include 0.5 and 0.25, so many lines' royalties are exact half-cent ties.
//!
//! The same options and seed give the same bytes.

use backstock_domain::{Rounding, Upc};
use std::io::{BufWriter, Write};
use std::path::Path;

pub const CATALOG_HEADER: &str = "upc,artist,rate";
pub const SALES_HEADER: &str = "sale_month,store,territory,upc,units,net,currency";

#[derive(Debug, Clone)]
pub struct GenOptions {
    pub lines: u64,
    pub upcs: u32,
    pub artists: u32,
    pub months: u32,
    /// The first month, `year × 12 + month − 1`.
    pub first_month: u32,
    pub seed: u64,
}

impl Default for GenOptions {
    fn default() -> GenOptions {
        GenOptions {
            lines: 10_000_000,
            upcs: 100_000,
            artists: 10_000,
            months: 6,
            first_month: 2016 * 12,
            seed: 1,
        }
    }
}

/// The shared seeded generator, with the weighted draw the generator needs.
#[derive(Debug, Clone)]
pub struct Rng(backstock_seeded::Rng);

impl Rng {
    pub fn new(seed: u64) -> Rng {
        Rng(backstock_seeded::Rng::new(seed))
    }
    pub fn next_u64(&mut self) -> u64 {
        self.0.next_u64()
    }
    /// Uniform in `0..n` (`n` > 0).
    pub fn below(&mut self, n: u64) -> u64 {
        self.0.below(n)
    }
    /// An index into `weights`, with probability proportional to its weight.
    fn weighted(&mut self, weights: &[u32]) -> usize {
        let total: u64 = weights.iter().map(|&w| u64::from(w)).sum();
        let mut x = self.below(total);
        for (i, &w) in weights.iter().enumerate() {
            if x < u64::from(w) {
                return i;
            }
            x -= u64::from(w);
        }
        weights.len() - 1
    }
}

/// Royalty rates on net receipts (ppm) and their text in the catalog.
const RATES: [(u32, &str); 8] = [
    (150_000, "0.15"),
    (180_000, "0.18"),
    (200_000, "20%"),
    (250_000, "0.25"),
    (300_000, "0.3"),
    (333_333, "0.333333"),
    (350_000, "0.35"),
    (500_000, "0.5"),
];

/// (store, weight, share of its lines that are streams in %).
const STORES: [(&str, u32, u64); 7] = [
    ("spotify", 40, 100),
    ("apple", 20, 50),
    ("youtube", 15, 100),
    ("amazon", 10, 40),
    ("deezer", 5, 100),
    ("tidal", 5, 100),
    ("bandcamp", 5, 0),
];

/// (territory, currency reported in, weight).
const TERRITORIES: [(&str, &str, u32); 7] = [
    ("US", "USD", 40),
    ("GB", "GBP", 15),
    ("DE", "EUR", 15),
    ("FR", "EUR", 10),
    ("NL", "EUR", 5),
    ("CA", "USD", 8),
    ("AU", "USD", 7),
];

/// Net to the label per download unit, in cents (stores' prices less their cut).
const DOWNLOAD_NET: [i64; 6] = [48, 62, 69, 90, 489, 699];

/// What was written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Generated {
    pub lines: u64,
    pub upcs: u32,
    pub artists: u32,
    pub bytes: u64,
}

/// Writes `catalog.csv` and `sales.csv` into `dir`.
pub fn generate(dir: &Path, o: &GenOptions) -> std::io::Result<Generated> {
    std::fs::create_dir_all(dir)?;
    let upcs = o.upcs.clamp(1, 900_000_000);
    let artists = o.artists.clamp(1, upcs);
    let months = o.months.max(1);
    let mut rng = Rng::new(o.seed);

    // Catalog.
    let artist_rate: Vec<usize> = (0..artists)
        .map(|_| rng.below(RATES.len() as u64) as usize)
        .collect();
    {
        let mut w = BufWriter::new(std::fs::File::create(dir.join("catalog.csv"))?);
        writeln!(w, "{CATALOG_HEADER}")?;
        for i in 0..upcs {
            let body = format!("{:011}", 19_000_000_000u64 + u64::from(i));
            let upc = Upc::with_check_digit(&body).map_err(std::io::Error::other)?;
            let artist = if i < artists {
                i
            } else {
                rng.below(u64::from(artists)) as u32
            };
            // One release in ten on another deal than the artist's usual rate.
            let rate = if rng.below(10) == 0 {
                rng.below(RATES.len() as u64) as usize
            } else {
                artist_rate[artist as usize]
            };
            writeln!(w, "{upc},ART-{artist:05},{}", RATES[rate].1)?;
        }
        w.flush()?;
    }

    // Popularity: Zipf over a random ranking of the UPCs.
    let mut ranking: Vec<u32> = (0..upcs).collect();
    for i in (1..ranking.len()).rev() {
        let j = rng.below(i as u64 + 1) as usize;
        ranking.swap(i, j);
    }
    let mut cumulative = Vec::with_capacity(upcs as usize);
    let mut sum = 0u64;
    for r in 0..u64::from(upcs) {
        sum += (1u64 << 32) / (r + 1);
        cumulative.push(sum);
    }
    let upc_text: Vec<String> = (0..upcs)
        .map(|i| {
            Upc::with_check_digit(&format!("{:011}", 19_000_000_000u64 + u64::from(i)))
                .map(|u| u.to_string())
                .map_err(std::io::Error::other)
        })
        .collect::<Result<_, _>>()?;
    let store_weights: Vec<u32> = STORES.iter().map(|s| s.1).collect();
    let territory_weights: Vec<u32> = TERRITORIES.iter().map(|t| t.2).collect();

    let file = std::fs::File::create(dir.join("sales.csv"))?;
    let mut w = CountingWriter {
        inner: BufWriter::with_capacity(1 << 20, file),
        bytes: 0,
    };
    writeln!(w, "{SALES_HEADER}")?;
    for li in 0..o.lines {
        let m = o.first_month + (li * u64::from(months) / o.lines.max(1)) as u32;
        let x = rng.below(sum);
        let rank = cumulative.partition_point(|&c| c <= x);
        let upc = &upc_text[ranking[rank.min(ranking.len() - 1)] as usize];
        let (store, _, stream_share) = STORES[rng.weighted(&store_weights)];
        let (territory, currency, _) = TERRITORIES[rng.weighted(&territory_weights)];
        let (mut units, mut net) = if rng.below(100) < stream_share {
            // Streams: skewed counts, $0.0025–$0.0060 each, the total rounded to the cent.
            let a = rng.below(1000);
            let b = rng.below(1000);
            let c = rng.below(1000);
            let units = 1 + (a * b * c / 200_000) as i64;
            let per = 25 + rng.below(36) as i64; // hundredths of a cent
            let net = Rounding::HalfEven.divide(i128::from(units * per), 100) as i64;
            (units, net)
        } else {
            let units = 1 + rng.below(3) as i64;
            let price = DOWNLOAD_NET[rng.below(DOWNLOAD_NET.len() as u64) as usize];
            (units, units * price)
        };
        if rng.below(100) == 0 {
            // A refund or a negative adjustment.
            units = -units;
            net = -net;
        }
        let sign = if net < 0 { "-" } else { "" };
        let abs = net.unsigned_abs();
        writeln!(
            w,
            "{:04}-{:02},{store},{territory},{upc},{units},{sign}{}.{:02},{currency}",
            m / 12,
            m % 12 + 1,
            abs / 100,
            abs % 100
        )?;
    }
    w.inner.flush()?;
    Ok(Generated {
        lines: o.lines,
        upcs,
        artists,
        bytes: w.bytes,
    })
}

struct CountingWriter<W: Write> {
    inner: W,
    bytes: u64,
}

impl<W: Write> Write for CountingWriter<W> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let n = self.inner.write(buf)?;
        self.bytes += n as u64;
        Ok(n)
    }
    fn flush(&mut self) -> std::io::Result<()> {
        self.inner.flush()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_seed_same_bytes_and_valid_upcs() {
        let a = tempfile::tempdir().unwrap();
        let b = tempfile::tempdir().unwrap();
        let o = GenOptions {
            lines: 2_000,
            upcs: 300,
            artists: 40,
            months: 3,
            ..GenOptions::default()
        };
        let ga = generate(a.path(), &o).unwrap();
        generate(b.path(), &o).unwrap();
        for f in ["catalog.csv", "sales.csv"] {
            assert_eq!(
                std::fs::read(a.path().join(f)).unwrap(),
                std::fs::read(b.path().join(f)).unwrap()
            );
        }
        let sales = std::fs::read_to_string(a.path().join("sales.csv")).unwrap();
        assert_eq!(ga.bytes, sales.len() as u64);
        assert_eq!(sales.lines().count(), 2_001);
        assert!(sales.lines().any(|l| l.contains(",-")), "no negative lines");
        let catalog = std::fs::read_to_string(a.path().join("catalog.csv")).unwrap();
        for line in catalog.lines().skip(1) {
            let upc = line.split(',').next().unwrap();
            Upc::parse(upc).unwrap();
        }
        let other = tempfile::tempdir().unwrap();
        generate(other.path(), &GenOptions { seed: 2, ..o }).unwrap();
        assert_ne!(
            std::fs::read(other.path().join("sales.csv")).unwrap(),
            sales.into_bytes()
        );
    }
}
