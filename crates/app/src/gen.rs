//! `backstock gen`: a seeded generator of large, realistic statement files for
//! benchmarks (skewed SKU popularity, several distributors and currencies).

use crate::demo::Rng;
use backstock_domain::Upc;
use std::io::{BufWriter, Write};
use std::path::Path;

pub struct GenOptions {
    pub lines: u64,
    pub skus: u32,
    pub distributors: u32,
    pub seed: u64,
    /// Months covered from January 2016, 1–120 (one statement per distributor per
    /// month; the first year's statement ids are those of a 12-month file).
    pub months: u32,
}

const CURRENCIES: [&str; 3] = ["USD", "EUR", "GBP"];

/// Artists in the generated catalog (SKU `i` is by artist `i % ARTISTS`).
const ARTISTS: u32 = 10_000;

/// Writes `catalog.csv`, `distributors.csv`, `payees.csv`, `contracts.csv` (one
/// royalty contract per artist covering all their SKUs) and `statements.csv` into `dir`.
pub fn generate(dir: &Path, o: &GenOptions) -> std::io::Result<String> {
    std::fs::create_dir_all(dir)?;
    let mut rng = Rng::new(o.seed);
    let skus = o.skus.max(1);
    let dists = o.distributors.clamp(1, 50);
    {
        let mut w = BufWriter::new(std::fs::File::create(dir.join("catalog.csv"))?);
        writeln!(w, "sku,upc,title,artist,format,release_date,list_price,wholesale_price,unit_cost,currency")?;
        for i in 0..skus {
            let upc = Upc::with_check_digit(&format!("{:011}", 60_000_000_000u64 + u64::from(i)))
                .map(|u| u.to_string())
                .unwrap_or_default();
            let (fmt, whole) = match i % 5 {
                0 => ("LP", "11.50"),
                _ => ("CD", "8.00"),
            };
            writeln!(
                w,
                "GEN-{i:06},{upc},Title {i},Artist {},{fmt},,15.98,{whole},1.10,USD",
                i % ARTISTS
            )?;
        }
        w.flush()?;
    }
    {
        let artists = ARTISTS.min(skus);
        let mut p = BufWriter::new(std::fs::File::create(dir.join("payees.csv"))?);
        writeln!(p, "payee,name,email")?;
        let mut c = BufWriter::new(std::fs::File::create(dir.join("contracts.csv"))?);
        writeln!(c, "contract_id,effective_from,title,payees,skus,basis,rates,cross_collateralized,reserve_rate,reserve_release_periods,min_payout,currency")?;
        for a in 0..artists {
            writeln!(p, "artist-{a},Artist {a},artist{a}@example.com")?;
            let covered: Vec<String> = (a..skus)
                .step_by(ARTISTS as usize)
                .map(|i| format!("GEN-{i:06}"))
                .collect();
            // Four rates, so totals are not one multiple of another.
            let rate = ["15%", "18%", "20%", "25%"][(a % 4) as usize];
            writeln!(
                c,
                "C-{a},2015-01-01,Artist {a} catalogue,artist-{a}:100%,{},earned,*:net_receipts:{rate},no,,,,USD",
                covered.join(";")
            )?;
        }
        p.flush()?;
        c.flush()?;
    }
    {
        let mut w = BufWriter::new(std::fs::File::create(dir.join("distributors.csv"))?);
        writeln!(w, "distributor,legal_name,state_of_organization,agreement_start,fee_rate,payment_terms_days,statement_frequency,reserve_rate,reserve_release_days,credit_limit,currency,title_retained,ucc1_file_number,ucc1_filed_on,ucc1_state")?;
        for d in 0..dists {
            let cur = CURRENCIES[(d as usize) % CURRENCIES.len()];
            writeln!(w, "dist{d},Distributor {d} Inc.,DE,2015-01-01,0.20,90,monthly,0.20,180,1000000.00,{cur},true,,,")?;
        }
        w.flush()?;
    }
    let mut w =
        BufWriter::with_capacity(1 << 20, std::fs::File::create(dir.join("statements.csv"))?);
    writeln!(w, "statement_id,distributor,period_start,period_end,issued_on,kind,sku,units,amount,currency,memo")?;
    // Lines are spread over distributors × `months` months from January 2016; each
    // statement ends with its fee and reserve lines.
    let months = o.months.clamp(1, 120);
    let statements = u64::from(dists) * u64::from(months);
    let per = (o.lines / statements).max(1);
    let mut written = 0u64;
    'outer: for k in 0..months {
        let y = 2016 + k / 12;
        let m = k % 12 + 1;
        let last = match m {
            2 if y % 4 == 0 && (y % 100 != 0 || y % 400 == 0) => 29,
            2 => 28,
            4 | 6 | 9 | 11 => 30,
            _ => 31,
        };
        let issued_m = if m == 12 { 1 } else { m + 1 };
        let issued_y = if m == 12 { y + 1 } else { y };
        for d in 0..dists {
            let cur = CURRENCIES[(d as usize) % CURRENCIES.len()];
            let head = format!("D{d}-{y}-{m:02},dist{d},{y}-{m:02}-01,{y}-{m:02}-{last},{issued_y}-{issued_m:02}-20");
            let mut gross: i64 = 0;
            for _ in 0..per.saturating_sub(2) {
                if written + 2 >= o.lines {
                    break 'outer;
                }
                // Skewed popularity: the product of three uniforms favours low indexes.
                let u = |r: &mut Rng| r.next_u64() % 1_000;
                let idx = (u(&mut rng) * u(&mut rng) * u(&mut rng) * u64::from(skus)
                    / 1_000_000_000) as u32;
                let units = 1 + (rng.next_u64() % 3) as i64;
                let price = if idx.is_multiple_of(5) { 1150 } else { 800 };
                let amount = units * price;
                if rng.next_u64() % 100 < 8 {
                    writeln!(
                        w,
                        "{head},return,GEN-{idx:06},{units},{}.{:02},{cur},",
                        amount / 100,
                        amount % 100
                    )?;
                    gross -= amount;
                } else {
                    writeln!(
                        w,
                        "{head},sale,GEN-{idx:06},{units},{}.{:02},{cur},",
                        amount / 100,
                        amount % 100
                    )?;
                    gross += amount;
                }
                written += 1;
            }
            let fee = gross.max(0) / 5;
            writeln!(
                w,
                "{head},fee,,,{}.{:02},{cur},distribution fee",
                fee / 100,
                fee % 100
            )?;
            let reserve = gross.max(0) / 5;
            writeln!(
                w,
                "{head},reserve_withheld,,,{}.{:02},{cur},reserve",
                reserve / 100,
                reserve % 100
            )?;
            written += 2;
        }
    }
    w.flush()?;
    Ok(format!(
        "Wrote {} statement lines ({} SKUs, {} distributors) to {}\n",
        crate::output::thousands(written as i64),
        crate::output::thousands(i64::from(skus)),
        dists,
        dir.display()
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn statements(months: u32) -> String {
        let dir = tempfile::tempdir().unwrap();
        generate(
            dir.path(),
            &GenOptions {
                lines: 20 * u64::from(months),
                skus: 50,
                distributors: 2,
                seed: 7,
                months,
            },
        )
        .unwrap();
        std::fs::read_to_string(dir.path().join("statements.csv")).unwrap()
    }

    #[test]
    fn years_after_2016_follow_on_with_their_own_calendar() {
        let s = statements(26);
        // The first year as a 12-month file has it, then 2017 (not a leap year) and
        // February 2018, each issued on the 20th of the month after.
        assert!(s.contains("\nD0-2016-02,dist0,2016-02-01,2016-02-29,2016-03-20,"));
        assert!(s.contains("\nD1-2016-12,dist1,2016-12-01,2016-12-31,2017-01-20,"));
        assert!(s.contains("\nD0-2017-02,dist0,2017-02-01,2017-02-28,2017-03-20,"));
        assert!(s.contains("\nD1-2018-02,dist1,2018-02-01,2018-02-28,2018-03-20,"));
        assert!(
            !s.contains("2018-03-01"),
            "26 months end with February 2018"
        );
    }
}
