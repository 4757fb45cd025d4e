//! `backstock lines gen`: seeded DDEX DSR files (digital sales by ISRC × territory ×
//! service) for the catalog `backstock gen` writes, for tests and benchmarks.
//!
//! Each file is one report of one distributor for one month: summary records per
//! territory × service (subscription streams, ad-supported streams, downloads), one
//! block per release (its head release with the UPC, four tracks with ISRCs) and
//! `SU03.03` sales records carrying their own net revenue (4 decimals, rounded by the
//! importer once per line). Amounts are integers throughout (ten-thousandths).

use backstock_domain::Upc;
use backstock_seeded::Rng;
use std::collections::BTreeMap;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

/// What to generate.
#[derive(Debug, Clone)]
pub struct DsrOptions {
    /// Sales records in all.
    pub lines: u64,
    /// SKUs of the catalog (`GEN-000000` …, as `backstock gen --skus` wrote it).
    pub skus: u32,
    /// Distributors `dist0` … (currencies USD, EUR, GBP in turn, as `backstock gen`).
    pub distributors: u32,
    /// Months of 2016.
    pub months: u32,
    pub seed: u64,
    /// Territories (ISO 3166 codes, the first N of a fixed list).
    pub territories: usize,
    /// At most this many sales records per file (a month's report is split).
    pub per_file: u64,
}

impl Default for DsrOptions {
    fn default() -> Self {
        DsrOptions {
            lines: 100_000,
            skus: 100_000,
            distributors: 5,
            months: 12,
            seed: 42,
            territories: 40,
            per_file: 250_000,
        }
    }
}

const CURRENCIES: [&str; 3] = ["USD", "EUR", "GBP"];
const TERRITORIES: [&str; 60] = [
    "US", "GB", "DE", "FR", "JP", "BR", "MX", "CA", "AU", "NL", "SE", "NO", "DK", "FI", "ES", "IT",
    "PT", "PL", "CZ", "AT", "CH", "BE", "IE", "NZ", "AR", "CL", "CO", "PE", "ZA", "NG", "KE", "EG",
    "TR", "GR", "RO", "HU", "UA", "IN", "ID", "PH", "TH", "VN", "MY", "SG", "KR", "TW", "HK", "IL",
    "SA", "AE", "IS", "LT", "LV", "EE", "SK", "SI", "HR", "RS", "BG", "CY",
];
/// (service, commercial model, use type, revenue per usage in ten-thousandths).
type Service = (&'static str, &'static str, &'static str, u64);
const SERVICES: [Service; 3] = [
    (
        "GenStreamPremium",
        "SubscriptionModel",
        "OnDemandStream",
        40,
    ),
    (
        "GenStreamFree",
        "AdvertisementSupportedModel",
        "OnDemandStream",
        8,
    ),
    ("GenStore", "PayAsYouGoModel", "PermanentDownload", 6_900),
];
const TRACKS: u32 = 4;

/// The UPC `backstock gen` gives SKU `i`.
pub fn upc_of(i: u32) -> String {
    Upc::with_check_digit(&format!("{:011}", 60_000_000_000u64 + u64::from(i)))
        .map(|u| u.to_string())
        .unwrap_or_default()
}

/// The ISRC of track `t` of SKU `i`: `QZ` + 3 letters or digits + 7 digits.
pub fn isrc_of(i: u32, t: u32) -> String {
    let n = u64::from(i) * u64::from(TRACKS) + u64::from(t);
    let reg = n / 10_000_000;
    let alpha = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
    let a = alpha[(reg % 36) as usize] as char;
    let b = alpha[((reg / 36) % 36) as usize] as char;
    format!("QZG{a}{b}{:07}", n % 10_000_000)
}

fn ten_thousandths(v: u64) -> String {
    format!("{}.{:04}", v / 10_000, v % 10_000)
}

/// One sales record before it is written.
struct Sale {
    sku: u32,
    track: u32,
    summary: usize,
    usages: u64,
    revenue: u64,
}

/// Writes the DSR files under `dir/dsr/DISTRIBUTOR/`; returns each file with its
/// distributor.
pub fn write_dsr(dir: &Path, o: &DsrOptions) -> std::io::Result<Vec<(PathBuf, String)>> {
    let out = dir.join("dsr");
    std::fs::create_dir_all(&out)?;
    let mut rng = Rng::new(o.seed ^ 0xd5a1);
    let skus = o.skus.max(1);
    let dists = o.distributors.clamp(1, 50);
    let months = o.months.clamp(1, 12);
    let territories = &TERRITORIES[..o.territories.clamp(1, TERRITORIES.len())];
    let reports = u64::from(dists) * u64::from(months);
    let per_report = o.lines.div_ceil(reports).max(1);
    let per_file = o.per_file.max(1);
    let mut files = Vec::new();
    let mut left = o.lines;
    for m in 1..=months {
        let last = match m {
            2 => 29,
            4 | 6 | 9 | 11 => 30,
            _ => 31,
        };
        for d in 0..dists {
            let cur = CURRENCIES[(d as usize) % CURRENCIES.len()];
            let mut in_report = per_report.min(left);
            let mut part = 0u32;
            while in_report > 0 {
                part += 1;
                let n = in_report.min(per_file);
                in_report -= n;
                left -= n;
                let msg = format!("GEN-{}-D{d}-2016{m:02}-{part}", o.seed);
                let dist_dir = out.join(format!("dist{d}"));
                std::fs::create_dir_all(&dist_dir)?;
                let path = dist_dir.join(format!("2016-{m:02}-{part:03}.tsv"));
                write_one(&path, &mut rng, &msg, (m, last), cur, skus, territories, n)?;
                files.push((path, format!("dist{d}")));
            }
        }
    }
    Ok(files)
}

#[allow(clippy::too_many_arguments)]
fn write_one(
    path: &Path,
    rng: &mut Rng,
    msg: &str,
    (m, last): (u32, u32),
    cur: &str,
    skus: u32,
    territories: &[&str],
    n: u64,
) -> std::io::Result<()> {
    let summaries: Vec<(String, &str, Service)> = territories
        .iter()
        .flat_map(|t| SERVICES.iter().map(move |s| (*t, *s)))
        .enumerate()
        .map(|(i, (t, s))| (format!("S{}", i + 1), t, s))
        .collect();
    // The sales, grouped by release (one block each).
    let mut by_sku: BTreeMap<u32, Vec<Sale>> = BTreeMap::new();
    let mut totals = vec![(0u64, 0u64); summaries.len()];
    for _ in 0..n {
        // Skewed popularity (as `backstock gen`): low indexes sell more.
        let u = |r: &mut Rng| r.next_u64() % 1_000;
        let sku = (u(rng) * u(rng) * u(rng) * u64::from(skus) / 1_000_000_000) as u32;
        let track = (rng.next_u64() % u64::from(TRACKS)) as u32;
        let summary = (rng.next_u64() % summaries.len() as u64) as usize;
        let per = summaries[summary].2 .3;
        let usages = if per >= 1_000 {
            1 + rng.next_u64() % 3
        } else {
            1 + rng.next_u64() % 2_000
        };
        // A little noise per line (never negative), so lines differ in the cents.
        let revenue = usages * per + rng.next_u64() % 50;
        totals[summary].0 += usages;
        totals[summary].1 += revenue;
        by_sku.entry(sku).or_default().push(Sale {
            sku,
            track,
            summary,
            usages,
            revenue,
        });
    }
    let mut w = BufWriter::with_capacity(1 << 20, std::fs::File::create(path)?);
    let mut lines = 0u64;
    writeln!(
        w,
        "HEAD\tdsrf/1.1/1.4.1/1.3\tBasicAudioProfile\t1.3\t{msg}\t2016-{:02}-05T00:00:00Z\t1\t1\t2016-{m:02}-01\t2016-{m:02}-{last}\tPADPIDA2014111801Y\tGen Streaming Ltd\tGenStream\tPADPIDA2024010101B\tBackstock Records\t",
        if m == 12 { 12 } else { m + 1 }
    )?;
    lines += 1;
    for (i, (id, territory, (service, model, use_type, _))) in summaries.iter().enumerate() {
        writeln!(
            w,
            "SY01.02\t{id}\tGenStream\tPADPIDA2014111801Y\t{model}\t{use_type}\t{territory}\t{service}\t{}\t\t{cur}\t{}\t0.00\t{cur}\t1.00",
            totals[i].0,
            ten_thousandths(totals[i].1)
        )?;
        lines += 1;
    }
    let mut tx = 0u64;
    for (block, (sku, sales)) in by_sku.iter().enumerate() {
        let b = block + 1;
        writeln!(
            w,
            "RE01.02\t{b}\tR1\tGEN-R-{sku}\t\tGEN-{sku:06}\t{}\tArtist {}\t\tTitle {sku}\t\tAlbum\tBackstock Records\t(P) 2016 Backstock Records\tBackstock Records\t2016-01-01",
            upc_of(*sku),
            sku % 10_000
        )?;
        lines += 1;
        for t in 0..TRACKS {
            writeln!(
                w,
                "AS02.03\t{b}\tA{t}\tGEN-T-{sku}-{t}\t{}\tTrack {t}\t\tArtist {}\t\tPT3M30S\tSoundRecording\t\t\t\t\t\t\t\t\t\tTRUE",
                isrc_of(*sku, t),
                sku % 10_000
            )?;
            lines += 1;
        }
        for s in sales {
            tx += 1;
            writeln!(
                w,
                "SU03.03\t{b}\t{}\tTX-{tx}\tGEN-T-{}-{}\t{}\t{}",
                summaries[s.summary].0,
                s.sku,
                s.track,
                s.usages,
                ten_thousandths(s.revenue)
            )?;
            lines += 1;
        }
    }
    lines += 1;
    writeln!(
        w,
        "FOOT\t{lines}\t{lines}\t{}\t{}\t{}",
        summaries.len(),
        by_sku.len(),
        by_sku.len()
    )?;
    w.flush()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn isrcs_have_the_form_of_an_isrc_and_differ() {
        let a = isrc_of(0, 0);
        assert_eq!(a.len(), 12, "{a}");
        assert!(a[..2].bytes().all(|b| b.is_ascii_uppercase()));
        assert!(a[5..].bytes().all(|b| b.is_ascii_digit()));
        assert_ne!(isrc_of(0, 1), a);
        assert_ne!(isrc_of(2_500_000, 3), isrc_of(0, 3));
        assert_eq!(upc_of(7).len(), 12);
    }

    #[test]
    fn generated_files_are_dsr_the_reader_accepts_with_every_line() {
        let d = tempfile::tempdir().unwrap();
        let o = DsrOptions {
            lines: 900,
            skus: 50,
            distributors: 2,
            months: 2,
            territories: 5,
            per_file: 200,
            ..DsrOptions::default()
        };
        let files = write_dsr(d.path(), &o).unwrap();
        // 4 reports of 225 lines, each in two files (200 + 25).
        assert_eq!(files.len(), 8);
        let mut sales = 0;
        for (f, _) in &files {
            let r = backstock_dsr::parse(&std::fs::read(f).unwrap())
                .unwrap_or_else(|e| panic!("{}: {e:?}", f.display()));
            assert!(r
                .sales
                .iter()
                .all(|s| s.isrc.is_some() && s.territory.is_some()));
            sales += r.sales.len();
        }
        assert_eq!(sales, 900);
    }
}
