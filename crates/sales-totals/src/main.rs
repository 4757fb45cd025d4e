//! `backstock-sales-totals`: the royalty benchmark's generator and the per artist ×
//! month totals of a sales file.
//!
//! ```text
//! backstock-sales-totals gen --out DIR [--lines N] [--upcs N] [--artists N] [--months N] [--seed N]
//! backstock-sales-totals sum --catalog FILE --sales FILE [--out FILE] [--threads N]
//! ```
//!
//! Exit codes as `backstock`'s: 0 done, 1 I/O, 2 command line, 3 invalid input.

use backstock_sales_totals::gen::{generate, GenOptions};
use backstock_sales_totals::{sum_file, Catalog, SalesError};
use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Instant;

const USAGE: &str = "usage:
  backstock-sales-totals gen --out DIR [--lines N] [--upcs N] [--artists N] [--months N] [--seed N]
      writes DIR/catalog.csv (upc,artist,rate) and DIR/sales.csv
      (sale_month,store,territory,upc,units,net,currency); defaults: 10,000,000 lines,
      100,000 UPCs, 10,000 artists, 6 months from 2016-01, seed 1
  backstock-sales-totals sum --catalog FILE --sales FILE [--out FILE] [--threads N]
      per artist x month x currency: lines, units, net, royalty (net x rate, rounded
      half to even once per line), as CSV to FILE or standard output";

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match run(&args) {
        Ok(()) => ExitCode::SUCCESS,
        Err(Failure::Usage(msg)) => {
            eprintln!("error: {msg}\n\n{USAGE}");
            ExitCode::from(2)
        }
        Err(Failure::Sales(e)) => {
            eprintln!("{e}");
            ExitCode::from(match e {
                SalesError::Io { .. } => 1,
                SalesError::Input { .. } => 3,
            })
        }
        Err(Failure::Io(e)) => {
            eprintln!("error: {e}");
            ExitCode::from(1)
        }
    }
}

enum Failure {
    Usage(String),
    Sales(SalesError),
    Io(std::io::Error),
}

/// `--name value` pairs after the subcommand.
struct Flags(Vec<(String, String)>);

impl Flags {
    fn parse(args: &[String], known: &[&str]) -> Result<Flags, Failure> {
        let mut out = Vec::new();
        let mut it = args.iter();
        while let Some(a) = it.next() {
            if a == "--help" || a == "-h" {
                return Err(Failure::Usage("help requested".into()));
            }
            let Some(name) = a.strip_prefix("--").filter(|n| known.contains(n)) else {
                return Err(Failure::Usage(format!("unknown argument {a:?}")));
            };
            let Some(value) = it.next() else {
                return Err(Failure::Usage(format!("--{name} needs a value")));
            };
            out.push((name.to_string(), value.clone()));
        }
        Ok(Flags(out))
    }
    fn get(&self, name: &str) -> Option<&str> {
        self.0
            .iter()
            .rev()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }
    fn required(&self, name: &str) -> Result<&str, Failure> {
        self.get(name)
            .ok_or_else(|| Failure::Usage(format!("--{name} is required")))
    }
    fn number<T: std::str::FromStr>(&self, name: &str, default: T) -> Result<T, Failure> {
        match self.get(name) {
            None => Ok(default),
            Some(v) => v.replace('_', "").parse().map_err(|_| {
                Failure::Usage(format!("--{name}: found {v:?}, expected a whole number"))
            }),
        }
    }
}

fn run(args: &[String]) -> Result<(), Failure> {
    let Some((command, rest)) = args.split_first() else {
        return Err(Failure::Usage("a command is required".into()));
    };
    match command.as_str() {
        "gen" => {
            let f = Flags::parse(rest, &["out", "lines", "upcs", "artists", "months", "seed"])?;
            let d = GenOptions::default();
            let o = GenOptions {
                lines: f.number("lines", d.lines)?,
                upcs: f.number("upcs", d.upcs)?,
                artists: f.number("artists", d.artists)?,
                months: f.number("months", d.months)?,
                seed: f.number("seed", d.seed)?,
                ..d
            };
            let dir = PathBuf::from(f.required("out")?);
            let g = generate(&dir, &o).map_err(Failure::Io)?;
            eprintln!(
                "wrote {} sales lines ({} bytes; {} UPCs, {} artists) to {}",
                g.lines,
                g.bytes,
                g.upcs,
                g.artists,
                dir.display()
            );
            Ok(())
        }
        "sum" => {
            let f = Flags::parse(rest, &["catalog", "sales", "out", "threads"])?;
            let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
            let threads: usize = f.number("threads", cores)?;
            let started = Instant::now();
            let catalog = Catalog::read(f.required("catalog")?.as_ref()).map_err(Failure::Sales)?;
            let read_catalog = started.elapsed();
            let totals = sum_file(&catalog, f.required("sales")?.as_ref(), threads)
                .map_err(Failure::Sales)?;
            let summed = started.elapsed();
            match f.get("out") {
                Some(path) => {
                    let file = std::fs::File::create(path).map_err(Failure::Io)?;
                    let mut w = std::io::BufWriter::with_capacity(1 << 20, file);
                    totals.write_csv(&mut w).map_err(Failure::Io)?;
                    w.flush().map_err(Failure::Io)?;
                }
                None => {
                    let mut w =
                        std::io::BufWriter::with_capacity(1 << 20, std::io::stdout().lock());
                    totals.write_csv(&mut w).map_err(Failure::Io)?;
                    w.flush().map_err(Failure::Io)?;
                }
            }
            let done = started.elapsed();
            eprintln!(
                "{} sales lines, {} totals, {} threads, {} ms (catalog {} ms, sum {} ms, output {} ms)",
                totals.lines,
                totals.rows.len(),
                threads,
                done.as_millis(),
                read_catalog.as_millis(),
                (summed - read_catalog).as_millis(),
                (done - summed).as_millis(),
            );
            Ok(())
        }
        "help" | "--help" | "-h" => {
            println!("{USAGE}");
            Ok(())
        }
        other => Err(Failure::Usage(format!("unknown command {other:?}"))),
    }
}
