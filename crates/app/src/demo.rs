//! The demo label: Marigold Records, 2012–2016, with one distributor that stays
//! healthy (Northwind) and one that fails the way Allegro did (Cascade): payments later
//! and smaller, then none; statements late, then missing; orders rising while unpaid; a
//! purchase order the day before it closes; a refused demand to return the stock.
//!
//! Everything is generated deterministically (a fixed seed) as canonical CSV files and
//! imported through the same path as a user's files.

use backstock_domain::{Currency, Date, Money, Rate, Rounding, Upc};
use std::collections::BTreeMap;
use std::fmt::Write as _;

use crate::{AppError, Exit};
use backstock_domain::{PartyId, Sku};
use backstock_ledger::{Entry, EntryId, Event, Fact, Provenance};
use backstock_store::query::StockFilter;
use backstock_store::Store;
use std::path::Path;

/// The demo's seeded generator (also used by `gen`).
pub use backstock_seeded::Rng;

pub struct Release {
    pub sku: String,
    pub upc: Upc,
    pub title: &'static str,
    pub artist: &'static str,
    pub format: &'static str,
    pub release_date: Date,
    pub wholesale_minor: i64,
    pub list_minor: i64,
    pub cost_minor: i64,
    /// Relative popularity (units per month at a distributor, before season).
    pub weight: i64,
}

const TITLES: [(&str, &str, &str, i32); 20] = [
    ("Harbor Lights", "The Tidewater Band", "CD", 2010),
    ("Harbor Lights", "The Tidewater Band", "LP", 2010),
    ("Slow Burn", "June Okafor", "CD", 2011),
    ("Paper Moons", "Elk & Ember", "CD", 2011),
    ("Paper Moons", "Elk & Ember", "LP", 2011),
    ("Night Ferry", "Marta Villanueva Trio", "CD", 2012),
    ("Live at the Grange", "The Tidewater Band", "DVD", 2012),
    ("Copper Wire", "Static Parish", "CD", 2012),
    ("Copper Wire", "Static Parish", "LP", 2012),
    ("Blue Hour Sessions", "June Okafor", "CD", 2013),
    ("Fieldnotes", "Ada Brennan", "CD", 2013),
    ("Low Country", "The Gravel Saints", "CD", 2013),
    ("Low Country", "The Gravel Saints", "LP", 2013),
    ("Winter Tides", "The Tidewater Band", "CD", 2014),
    ("Glasshouse", "Elk & Ember", "CD", 2014),
    ("Glasshouse", "Elk & Ember", "LP", 2014),
    ("Second Story", "Marta Villanueva Trio", "CD", 2014),
    ("Tall Grass", "Ada Brennan", "CD", 2015),
    ("Road Atlas (Live)", "Static Parish", "DVD", 2015),
    ("Kindling", "The Gravel Saints", "CD", 2015),
];

pub fn releases() -> Vec<Release> {
    TITLES
        .iter()
        .enumerate()
        .filter_map(|(i, (title, artist, format, year))| {
            let (list, whole, cost) = match *format {
                "LP" => (2198, 1150, 540),
                "DVD" => (1998, 950, 220),
                _ => (1598, 800, 110),
            };
            let body = format!("85971200{:03}", i + 1);
            Some(Release {
                sku: format!("MRG-{:03}-{}", i + 1, format),
                upc: Upc::with_check_digit(&body).ok()?,
                title,
                artist,
                format,
                release_date: Date::from_ymd(*year, (i as u32 % 12) + 1, 15)
                    .unwrap_or(Date::EARLIEST),
                wholesale_minor: whole,
                list_minor: list,
                cost_minor: cost,
                weight: match *format {
                    "LP" => 6,
                    "DVD" => 3,
                    _ => 14 - (i as i64 % 5) * 2,
                },
            })
        })
        .collect()
}

/// The generated canonical files, by file name, in import order.
pub struct DemoFiles {
    pub files: Vec<(&'static str, String)>,
    /// The last day of the demo history.
    pub end: Date,
    /// Receipts the distributors confirmed: (shipment id, distributor, SKU, units, on).
    /// Cascade stops confirming in its last months.
    pub receipts: Vec<(String, &'static str, String, i64, Date)>,
}

struct Dist {
    name: &'static str,
    fee: Rate,
    reserve: Rate,
    held: BTreeMap<usize, i64>,
    /// Reserve withheld per month index, to release 6 months later.
    reserves: BTreeMap<i32, i64>,
    returns_due: BTreeMap<(i32, usize), i64>,
}

fn d(y: i32, m: u32, day: u32) -> Date {
    Date::from_ymd(y, m, day).unwrap_or(Date::EARLIEST)
}

fn money(minor: i64) -> String {
    Money::from_minor(minor, Currency::USD).to_decimal_string()
}

/// Generates the demo label's files.
pub fn generate() -> DemoFiles {
    let mut rng = Rng::new(20_160_603);
    let mut noise = Rng::new(20_120_701);
    let rel = releases();
    let mut catalog = String::from(
        "sku,upc,title,artist,format,release_date,list_price,wholesale_price,unit_cost,currency\n",
    );
    for r in &rel {
        let _ = writeln!(
            catalog,
            "{},{},{},{},{},{},{},{},{},USD",
            r.sku,
            r.upc,
            csv_text(r.title),
            csv_text(r.artist),
            r.format,
            r.release_date,
            money(r.list_minor),
            money(r.wholesale_minor),
            money(r.cost_minor)
        );
    }
    let distributors = "distributor,legal_name,state_of_organization,agreement_start,fee_rate,payment_terms_days,statement_frequency,reserve_rate,reserve_release_days,credit_limit,currency,title_retained,ucc1_file_number,ucc1_filed_on,ucc1_state\n\
northwind,\"Northwind Music Distribution, Inc.\",NC,2012-07-01,0.22,90,monthly,0.20,180,25000.00,USD,true,20121234567,2012-06-20,NC\n\
cascade,\"Cascade Media Group, LLC\",OR,2012-07-01,0.20,90,monthly,0.20,180,25000.00,USD,true,20120062511,2012-06-25,OR\n"
        .to_string();

    let mut pos = String::from("po_number,date,distributor,sku,units\n");
    let mut ships = String::from("shipment_id,date,from,to,sku,units,po_number\n");
    let mut stmts = String::from("statement_id,distributor,period_start,period_end,issued_on,kind,sku,units,amount,currency,memo\n");
    let mut stock = String::from("distributor,as_of,sku,units_on_hand\n");
    let mut pays = String::from("payment_id,date,distributor,amount,currency,statement_id\n");

    let mut label_stock: BTreeMap<usize, i64> = BTreeMap::new();
    let mut receipts = Vec::new();
    let mut dists = [
        Dist {
            name: "northwind",
            fee: Rate::parse("0.22").unwrap_or(Rate::ZERO),
            reserve: Rate::parse("0.20").unwrap_or(Rate::ZERO),
            held: BTreeMap::new(),
            reserves: BTreeMap::new(),
            returns_due: BTreeMap::new(),
        },
        Dist {
            name: "cascade",
            fee: Rate::parse("0.20").unwrap_or(Rate::ZERO),
            reserve: Rate::parse("0.20").unwrap_or(Rate::ZERO),
            held: BTreeMap::new(),
            reserves: BTreeMap::new(),
            returns_due: BTreeMap::new(),
        },
    ];
    let (mut po_n, mut ship_n, mut run_n, mut pay_n) = (1000, 5000, 100, 9000);
    let start = d(2012, 7, 1);
    let closed = d(2016, 6, 3);
    let end = d(2016, 6, 30);
    let mut month = start;
    let mut mi: i32 = 0;
    while month <= d(2016, 6, 1) {
        let (y, m) = (month.year(), month.month());
        let season = match m {
            10 => 150,
            11 => 170,
            12 => 190,
            1 => 80,
            _ => 100,
        };
        for (di, dist) in dists.iter_mut().enumerate() {
            let failing = di == 1;
            if failing && month > closed {
                continue;
            }
            // 1. The distributor orders to restock ~3 months of sales (more in Q4; the
            //    failing one "stocks up" from 2015 while its sales fall).
            let stock_factor = if failing && month >= d(2016, 1, 1) {
                330
            } else if failing && month >= d(2015, 4, 1) {
                220
            } else {
                100
            };
            let order_season = match m {
                9 => 170,
                10 => 180,
                11 => 150,
                _ => 100,
            };
            let po_day = month.add_days(4);
            let mut po_lines = Vec::new();
            for (i, r) in rel.iter().enumerate() {
                if r.release_date > month.last_of_month() {
                    continue;
                }
                let target = r.weight * 3 * order_season / 100 * stock_factor / 100;
                let held = *dist.held.get(&i).unwrap_or(&0);
                let want = target - held;
                if want >= 5 {
                    po_lines.push((i, want));
                }
            }
            if !po_lines.is_empty() {
                po_n += 1;
                let po = format!(
                    "{}-PO{po_n}",
                    dist.name.to_ascii_uppercase().get(..2).unwrap_or("PO")
                );
                let po_date = if failing && month == d(2016, 6, 1) {
                    d(2016, 6, 2)
                } else {
                    po_day
                };
                for (i, units) in &po_lines {
                    let _ = writeln!(pos, "{po},{po_date},{},{},{units}", dist.name, rel[*i].sku);
                }
                // 2. The label presses what it lacks and ships (until the failure).
                if po_date < closed {
                    let ship_day = month.add_days(9);
                    ship_n += 1;
                    for (i, units) in &po_lines {
                        let have = label_stock.entry(*i).or_insert(0);
                        if *have < *units {
                            run_n += 1;
                            let press = if rel[*i].format == "CD" { 1000 } else { 500 };
                            let _ = writeln!(
                                ships,
                                "RUN-{run_n},{},plant:optimal,label,{},{press},",
                                month.add_days(1),
                                rel[*i].sku
                            );
                            *have += press;
                        }
                        *have -= units;
                        *dist.held.entry(*i).or_insert(0) += units;
                        let _ = writeln!(
                            ships,
                            "SH-{ship_n},{ship_day},label,{},{},{units},{po}",
                            dist.name, rel[*i].sku
                        );
                        let confirmed_on = ship_day.add_days(rng.range(3, 8) as i32);
                        if !(failing && ship_day >= d(2015, 10, 1)) && confirmed_on <= end {
                            receipts.push((
                                format!("SH-{ship_n}"),
                                dist.name,
                                rel[*i].sku.clone(),
                                *units,
                                confirmed_on,
                            ));
                        }
                    }
                }
            }
            // 3. Sales and returns this month; a statement for it.
            let sales_factor = if failing && y >= 2016 {
                55
            } else if failing && y == 2015 {
                75
            } else {
                100
            };
            let pe = month.last_of_month();
            let sid = format!("{}-{:04}-{:02}", dist.name.to_ascii_uppercase(), y, m);
            let mut lines = String::new();
            let mut sales_minor = 0i64;
            let mut returns_minor = 0i64;
            for (i, r) in rel.iter().enumerate() {
                let held = *dist.held.get(&i).unwrap_or(&0);
                let want = r.weight * season / 100 * sales_factor / 100 + rng.range(-2, 2);
                let sold = want.clamp(0, held);
                if sold > 0 {
                    *dist.held.entry(i).or_insert(0) -= sold;
                    let amount = sold * r.wholesale_minor;
                    sales_minor += amount;
                    let _ = writeln!(
                        lines,
                        "{sid},{},{month},{pe},ISSUED,sale,{},{sold},{},USD,",
                        dist.name,
                        r.sku,
                        money(amount)
                    );
                    // ~8% come back from retail two months later.
                    let back = sold * 8 / 100;
                    if back > 0 {
                        *dist.returns_due.entry((mi + 2, i)).or_insert(0) += back;
                    }
                }
                if let Some(back) = dist.returns_due.remove(&(mi, i)) {
                    *dist.held.entry(i).or_insert(0) += back;
                    let amount = back * r.wholesale_minor;
                    returns_minor += amount;
                    let _ = writeln!(
                        lines,
                        "{sid},{},{month},{pe},ISSUED,return,{},{back},{},USD,retail returns",
                        dist.name,
                        r.sku,
                        money(amount)
                    );
                }
            }
            let net_sales = Money::from_minor(sales_minor - returns_minor, Currency::USD);
            let fee = net_sales
                .apply_rate(dist.fee, Rounding::HalfEven)
                .map(|m| m.minor())
                .unwrap_or(0);
            let withheld = Money::from_minor(sales_minor, Currency::USD)
                .apply_rate(dist.reserve, Rounding::HalfEven)
                .map(|m| m.minor())
                .unwrap_or(0);
            dist.reserves.insert(mi, withheld);
            let released = dist.reserves.remove(&(mi - 6)).unwrap_or(0);
            if fee != 0 {
                let _ = writeln!(
                    lines,
                    "{sid},{},{month},{pe},ISSUED,fee,,,{},USD,distribution fee",
                    dist.name,
                    money(fee)
                );
            }
            if withheld > 0 {
                let _ = writeln!(lines, "{sid},{},{month},{pe},ISSUED,reserve_withheld,,,{},USD,reserve against returns", dist.name, money(withheld));
            }
            if released > 0 {
                let _ = writeln!(
                    lines,
                    "{sid},{},{month},{pe},ISSUED,reserve_released,,,{},USD,reserve released",
                    dist.name,
                    money(released)
                );
            }
            if m == 12 && !failing {
                // Co-op advertising for the holiday catalogue.
                let _ = writeln!(lines, "{sid},{},{month},{pe},ISSUED,chargeback,,,150.00,USD,holiday co-op advertising", dist.name);
            }
            let net = sales_minor - returns_minor - fee - withheld + released
                - if m == 12 && !failing { 15000 } else { 0 };
            // When the statement arrives: late from mid-2015, none after January 2016.
            let issued = if !failing {
                Some(pe.add_days(20))
            } else if month >= d(2016, 2, 1) {
                None
            } else if month >= d(2015, 7, 1) {
                Some(pe.add_days(rng.range(45, 60) as i32))
            } else {
                Some(pe.add_days(20 + rng.range(0, 5) as i32))
            };
            if let Some(issued) = issued.filter(|i| *i <= end) {
                stmts.push_str(&lines.replace("ISSUED", &issued.to_string()));
                // 4. Payment: due 90 days after the period.
                let due = pe.add_days(90);
                let (late, pct) = if !failing {
                    // One late payment in 2014 from the healthy one.
                    if (y, m) == (2014, 5) {
                        (38, 100)
                    } else {
                        (rng.range(0, 4), 100)
                    }
                } else if month < d(2014, 1, 1) {
                    (rng.range(0, 6), 100)
                } else if month < d(2014, 7, 1) {
                    (rng.range(28, 42), 100)
                } else if month < d(2015, 1, 1) {
                    (rng.range(45, 65), 90)
                } else if month < d(2015, 5, 1) {
                    (rng.range(70, 90), 75)
                } else {
                    (rng.range(95, 130), 45)
                };
                let paid_on = due.add_days(late as i32);
                // Everyday noise: now and then the healthy one pays a statement short
                // (96–99.5 %: freight, co-op, a price dispute), so the deductions it
                // leaves are there to accept or dispute. Its own seed, so the rest of
                // the demo's data does not move.
                let permille = if !failing && noise.range(0, 99) < 22 {
                    noise.range(960, 995)
                } else {
                    1000
                };
                let amount = net * pct / 100 * permille / 1000;
                // The failing distributor's last payment reaches the label in January 2016.
                if amount > 0 && paid_on <= end && (!failing || paid_on <= d(2016, 1, 20)) {
                    pay_n += 1;
                    let _ = writeln!(
                        pays,
                        "P{pay_n},{paid_on},{},{},USD,{sid}",
                        dist.name,
                        money(amount)
                    );
                }
            }
            // 5. Quarterly stock reports (the failing one comes up short in 2016).
            // (Not the last quarter: its sales are reported after the demo ends.)
            if m % 3 == 0 && pe.add_days(20) <= end && !(failing && month >= d(2016, 4, 1)) {
                for (i, r) in rel.iter().enumerate() {
                    let held = *dist.held.get(&i).unwrap_or(&0);
                    if held == 0 {
                        continue;
                    }
                    let reported = if failing && month >= d(2016, 1, 1) && i % 4 == 0 {
                        held * 85 / 100
                    } else {
                        held
                    };
                    let _ = writeln!(stock, "{},{pe},{},{reported}", dist.name, r.sku);
                }
            }
        }
        month = month.add_months(1);
        mi += 1;
    }
    DemoFiles {
        files: vec![
            ("catalog.csv", catalog),
            ("distributors.csv", distributors),
            ("purchase_orders.csv", pos),
            ("shipments.csv", ships),
            ("statements.csv", stmts),
            ("stock_reports.csv", stock),
            ("payments.csv", pays),
            ("payees.csv", PAYEES.to_string()),
            ("contracts.csv", CONTRACTS.to_string()),
            ("costs.csv", COSTS.to_string()),
        ],
        end,
        receipts,
    }
}

/// The artists paid royalties.
const PAYEES: &str = "payee,name,email,address
tidewater-band,The Tidewater Band,band@tidewater.example,\"PO Box 41, Beaufort NC 28516\"
marta-villanueva,Marta Villanueva,marta@villanueva.example,\"221 Calle Ocho, Miami FL 33135\"
leon-brandt,Leon Brandt,leon@brandt.example,\"9 Ferry Rd, Astoria OR 97103\"
elk-and-ember,Elk & Ember,hello@elkandember.example,\"1402 Alder St, Portland OR 97205\"
june-okafor,June Okafor,june@okafor.example,\"12 Elm St, Asheville NC 28801\"
";

/// Four contracts: an advance being recouped across releases (Tidewater), a co-led
/// pair of records split 60/40 (Villanueva/Brandt), a 50/50 net-profit deal (Elk &
/// Ember), and a contract paid on collections (June Okafor). Tidewater renegotiated
/// its rate from 2015.
const CONTRACTS: &str = "contract_id,effective_from,title,payees,skus,basis,rates,cross_collateralized,reserve_rate,reserve_release_periods,min_payout,currency
C-TIDEWATER,2012-07-01,The Tidewater Band catalogue,tidewater-band:100%,MRG-001-CD;MRG-002-LP;MRG-007-DVD;MRG-014-CD,earned,*:ppd:15%;LP:ppd:12%;DVD:net_receipts:20%,yes,20%,2,50.00,USD
C-TIDEWATER,2015-01-01,The Tidewater Band catalogue (renegotiated),tidewater-band:100%,MRG-001-CD;MRG-002-LP;MRG-007-DVD;MRG-014-CD,earned,*:ppd:17%;LP:ppd:14%;DVD:net_receipts:20%,yes,20%,2,50.00,USD
C-VILLANUEVA,2012-07-01,Night Ferry and Second Story (co-led),marta-villanueva:60%;leon-brandt:40%,MRG-006-CD;MRG-017-CD,earned,*:net_receipts:20%,no,15%,2,25.00,USD
C-ELK-EMBER,2012-07-01,Elk & Ember (net profit 50/50),elk-and-ember:100%,MRG-004-CD;MRG-005-LP;MRG-015-CD;MRG-016-LP,earned,*:net_profit:50%,yes,0,0,100.00,USD
C-OKAFOR,2012-07-01,June Okafor recordings,june-okafor:100%,MRG-003-CD;MRG-010-CD,collected,*:net_receipts:22%,yes,0,0,25.00,USD
";

const COSTS: &str = "cost_id,contract_id,date,kind,amount,currency,sku,recoupable,memo
TW-ADV-1,C-TIDEWATER,2012-07-15,advance,5000.00,USD,,yes,signing advance
TW-REC-14,C-TIDEWATER,2014-02-10,recording,3000.00,USD,MRG-014-CD,yes,Winter Tides sessions
VN-REC-17,C-VILLANUEVA,2014-05-20,recording,1200.00,USD,MRG-017-CD,yes,Second Story mixing
EE-REC-04,C-ELK-EMBER,2011-03-01,recording,4000.00,USD,MRG-004-CD,yes,Paper Moons sessions
EE-MFG-15,C-ELK-EMBER,2014-03-15,manufacturing,1500.00,USD,MRG-015-CD,yes,Glasshouse first pressing
OK-ADV-1,C-OKAFOR,2013-06-01,advance,800.00,USD,,yes,Blue Hour Sessions advance
";

fn csv_text(s: &str) -> String {
    if s.contains([',', '"']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s.to_string()
    }
}

/// Create (or refresh) the demo label in `dir` and describe it.
pub async fn load(dir: &Path, write_files: Option<&Path>) -> Result<String, AppError> {
    let store = Store::open(dir, true).await?;
    if store.entry_count().await? > 0 && store.meta("demo").await?.as_deref() != Some("true") {
        return Err(AppError::new(
            Exit::Refused,
            format!("{} holds a label's own data; the demo goes in its own directory (e.g. --data-dir backstock-demo)", dir.display()),
        ));
    }
    store.set_meta("demo", "true").await?;
    let files = generate();
    // The demo label lives on its last day: "today" for risk, receivables and shipping.
    store.set_meta("today", &files.end.to_string()).await?;
    let tmp = match write_files {
        Some(p) => p.to_path_buf(),
        None => dir.join("demo-files"),
    };
    std::fs::create_dir_all(&tmp)
        .map_err(|e| AppError::new(Exit::Other, format!("{}: {e}", tmp.display())))?;
    let mut paths = Vec::new();
    for (name, content) in &files.files {
        let p = tmp.join(name);
        std::fs::write(&p, content)
            .map_err(|e| AppError::new(Exit::Other, format!("{}: {e}", p.display())))?;
        paths.push(p);
    }
    let opts = crate::import::ImportOptions::default();
    let mut out = String::from("Demo label: Marigold Records (2012-07 to 2016-06)\n\n");
    out.push_str(&crate::import::run(&store, &paths, &opts).await?);
    // What happened after the failing distributor closed: a refused demand and the
    // stock it kept.
    let mut extra = demo_aftermath(&store, files.end).await?;
    for (sid, dist, sku, units, on) in &files.receipts {
        let (Ok(d), Ok(s)) = (PartyId::parse(dist), Sku::parse(sku)) else {
            continue;
        };
        extra.push(Entry {
            id: EntryId::new(format!("receipt:{sid}:{sku}"))
                .map_err(|e| AppError::new(Exit::Other, e.to_string()))?,
            effective_on: *on,
            known_on: *on,
            provenance: Provenance::Demo,
            event: Event::Fact(Fact::ReceiptConfirmed(
                backstock_ledger::facts::ReceiptConfirmed {
                    shipment_id: sid.clone(),
                    distributor: d,
                    sku: s,
                    units: u64::try_from(*units).unwrap_or(0),
                },
            )),
        });
    }
    store.record(&extra, None).await?;
    demo_documents(&store).await?;
    store.set_meta("label_name", "Marigold Records").await?;
    out.push_str(&demo_royalties(&store, files.end).await?);
    let rows = store.stock(&StockFilter::default()).await?;
    let mut by_holder: std::collections::BTreeMap<String, i64> = Default::default();
    for r in &rows {
        *by_holder
            .entry(format!("{} ({})", r.holder, r.state))
            .or_default() += r.units;
    }
    out.push_str("\nStock owned by the label, by holder:\n");
    for (h, u) in by_holder {
        out.push_str(&format!(
            "  {h:<24} {:>8} units\n",
            crate::output::thousands(u)
        ));
    }
    let bal = store.balances(None, None).await?;
    out.push_str("\nOwed to the label (receivable) and reserves held, by distributor:\n");
    for r in bal
        .iter()
        .filter(|r| r.kind == "receivable" || r.kind == "reserve_held")
    {
        if let Some(m) = r.natural() {
            out.push_str(&format!(
                "  {:<10} {:<13} {:>16}\n",
                r.counterparty,
                r.kind,
                crate::output::money(m)
            ));
        }
    }
    out.push_str(&format!(
        "\nData directory: {}\nTry:\n  backstock --data-dir {} stock --holder cascade\n  backstock --data-dir {} balances --party cascade --as-of 2015-06-30\n  backstock --data-dir {} royalties statement --payee june-okafor --period 2016H1 --format pdf --output okafor-2016H1.pdf\n  backstock --data-dir {} verify\n",
        dir.display(),
        dir.display(),
        dir.display(),
        dir.display(),
        dir.display()
    ));
    Ok(out)
}

async fn demo_aftermath(store: &Store, end: Date) -> Result<Vec<Entry>, AppError> {
    use backstock_ledger::facts::{Demand, DemandKind, DemandOutcome, DemandResponse};
    let cascade =
        PartyId::parse("cascade").map_err(|e| AppError::new(Exit::Other, e.to_string()))?;
    let held = store
        .stock(&StockFilter {
            holder: Some("cascade".into()),
            owner: Some("label".into()),
            ..Default::default()
        })
        .await?;
    let on = |s: &str| Date::parse(s).unwrap_or(end);
    let mk = |id: &str, date: Date, event: Event| -> Result<Entry, AppError> {
        Ok(Entry {
            id: EntryId::new(id).map_err(|e| AppError::new(Exit::Other, e.to_string()))?,
            effective_on: date,
            known_on: date,
            provenance: Provenance::Demo,
            event,
        })
    };
    let mut out = vec![
        // Cascade closes and its lender liquidates the stock out of court, as
        // Allegro's did (the deadlines run from this day).
        mk(
            "insolvency:cascade:1",
            on("2016-06-03"),
            Event::Fact(Fact::Insolvency(backstock_ledger::facts::Insolvency {
                distributor: cascade.clone(),
                kind: backstock_ledger::facts::InsolvencyKind::Liquidation,
                on: on("2016-06-03"),
                petition_date: None,
                case: Some("out-of-court liquidation for the secured lender".into()),
                claims_bar_date: None,
                contact: Some("counsel to Cascade's secured lender".into()),
            })),
        )?,
        mk(
            "demand:cascade:2016-06-06",
            on("2016-06-06"),
            Event::Fact(Fact::Demand(Demand {
                demand_id: "D-2016-001".into(),
                distributor: cascade.clone(),
                kind: DemandKind::Return,
                transfer_to: None,
                sku: None,
                units: None,
                made_on: on("2016-06-06"),
                via: "certified mail and email".into(),
            })),
        )?,
        mk(
            "demand-response:D-2016-001",
            on("2016-06-10"),
            Event::Fact(Fact::DemandResponse(DemandResponse {
                demand_id: "D-2016-001".into(),
                answered_on: on("2016-06-10"),
                outcome: DemandOutcome::Refused,
                note:
                    "Estate's counsel: inventory is collateral of the secured lender; no returns."
                        .into(),
            })),
        )?,
    ];
    out.extend(demo_deductions(store, end, &mk).await?);
    for r in held.iter().filter(|r| r.state == "on_hand" && r.units > 0) {
        let sku = Sku::parse(&r.sku).map_err(|e| AppError::new(Exit::Other, e.to_string()))?;
        out.push(mk(
            &format!("detention:cascade:{}", r.sku),
            on("2016-06-10"),
            Event::Detention {
                holder: cascade.clone(),
                sku,
                units: r.units,
                reason: "return refused by the estate (demand D-2016-001)".into(),
            },
        )?);
    }
    Ok(out)
}

/// The papers the label attached to Cascade: the agreement's title clause and the
/// return demand letter (what a claim pack's `documents/` holds).
async fn demo_documents(store: &Store) -> Result<(), AppError> {
    use crate::insolvency::{add_document, AddDocument};
    use backstock_ledger::facts::DocumentKind;
    let cascade =
        PartyId::parse("cascade").map_err(|e| AppError::new(Exit::Other, e.to_string()))?;
    let docs = [
        (
            "cascade-distribution-agreement-2012.txt",
            DocumentKind::Agreement,
            "DISTRIBUTION AGREEMENT (excerpt)\n\nBetween Marigold Records (\"Label\") and Cascade Media Group, LLC, an Oregon limited\nliability company (\"Distributor\"), dated 2012-06-01.\n\n7. Consignment; title. All units delivered to Distributor are delivered on consignment.\nTitle remains with Label until Distributor sells them to a retail customer in the\nordinary course. Distributor shall keep Label's units separate and identified, shall\nreport stock monthly, and shall return all unsold units within 30 days of Label's\nwritten demand. Label may file a UCC-1 financing statement naming Label as consignor\nand Distributor as consignee.\n",
        ),
        (
            "demand-D-2016-001.txt",
            DocumentKind::Correspondence,
            "Marigold Records\n2016-06-06\n\nTo: Cascade Media Group, LLC, and counsel to its secured lender\nBy certified mail and email\n\nRe: Return of consigned inventory (demand D-2016-001)\n\nUnder section 7 of our distribution agreement of 2012-06-01, all Marigold units in your\npossession are held on consignment and remain our property. Our interest is perfected\nby UCC-1 financing statement 20120062511 filed with the Oregon Secretary of State on\n2012-06-25. We demand the return of all our units within 10 days.\n",
        ),
    ];
    for (name, kind, text) in docs {
        add_document(
            store,
            AddDocument {
                distributor: cascade.clone(),
                kind,
                name: name.into(),
                bytes: text.as_bytes().to_vec(),
                note: None,
            },
            "demo",
        )
        .await?;
    }
    Ok(())
}

/// Northwind's short pays, as a bookkeeper works them: those before 2015 accepted a
/// month after they appeared (freight, co-op, price protection in turn), the latest
/// one disputed; the rest stay open to be worked in the app.
async fn demo_deductions(
    store: &Store,
    end: Date,
    mk: &dyn Fn(&str, Date, Event) -> Result<Entry, AppError>,
) -> Result<Vec<Entry>, AppError> {
    use backstock_ledger::facts::{DeductionDispute, DeductionReason};
    use backstock_risk::deductions::{self, DeductionStatus};
    let northwind =
        PartyId::parse("northwind").map_err(|e| AppError::new(Exit::Other, e.to_string()))?;
    let snap = crate::risk::snapshot(store, end).await?;
    let t = crate::risk::thresholds(store).await?;
    let open: Vec<_> = deductions::compute(&snap, &t, Some(&northwind))
        .into_iter()
        .filter(|x| x.status == DeductionStatus::Open)
        .collect();
    let reasons = [
        DeductionReason::Freight,
        DeductionReason::CoOp,
        DeductionReason::PriceProtection,
    ];
    let cutoff = Date::from_ymd(2015, 1, 1).unwrap_or(end);
    let mut out = Vec::new();
    for (i, x) in open.iter().filter(|x| x.since < cutoff).enumerate() {
        let on = x.since.add_days(30);
        let reason = reasons[i % reasons.len()];
        out.push(mk(
            &format!("deduction-accepted:northwind:{}:1", x.statement_id),
            on,
            Event::DeductionAccepted {
                distributor: northwind.clone(),
                statement_id: x.statement_id.clone(),
                amount: x.amount,
                reason,
                note: format!("{} taken on remittance, agreed by phone", reason.as_str()),
            },
        )?);
    }
    if let Some(x) = open.iter().rfind(|x| x.since >= cutoff) {
        let on = x.since.add_days(10).min(end);
        out.push(mk(
            &format!("deduction-disputed:northwind:{}", x.statement_id),
            on,
            Event::Fact(Fact::DeductionDisputed(DeductionDispute {
                distributor: northwind.clone(),
                statement_id: x.statement_id.clone(),
                amount: x.amount,
                disputed_on: on,
                note: "no co-op was agreed for this month; asked for the back-up".into(),
            })),
        )?);
    }
    Ok(out)
}

/// Runs the royalty half-years of the demo (2012H2 to 2016H1), each dated 45 days
/// after its end (the last on the demo's last day), and describes the last one.
async fn demo_royalties(store: &Store, end: Date) -> Result<String, AppError> {
    use backstock_royalties::Period;
    let mut p =
        Period::half_year(2012, 2).map_err(|e| AppError::new(Exit::Other, e.to_string()))?;
    let mut last = None;
    while p.end() <= end {
        crate::royalties::run(
            store,
            crate::royalties::RunArgs {
                period: p.to_string(),
                dry_run: false,
                on: Some(p.end().add_days(45).min(end)),
                format: crate::output::Format::Table,
                label_name: None,
            },
        )
        .await?;
        last = Some(p);
        match p.plus(1) {
            Some(n) => p = n,
            None => break,
        }
    }
    let Some(last) = last else {
        return Ok(String::new());
    };
    let runs = crate::royalties::list_runs(store, crate::output::Format::Table).await?;
    let mut out = format!(
        "\nRoyalty periods run and locked ({} to {}):\n{runs}",
        Period::half_year(2012, 2)
            .map(|p| p.to_string())
            .unwrap_or_default(),
        last
    );
    let json = crate::royalties::statement_summaries(store, &last.to_string()).await?;
    out.push_str(&format!("\nArtists' statements for {last}:\n{json}"));
    Ok(out)
}
