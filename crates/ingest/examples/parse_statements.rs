//! Times the statements reader on a generated file set.
//!
//! `cargo run --release -p backstock-ingest --example parse_statements -- FILES_DIR [THREADS]`
//!
//! Builds the context from FILES_DIR/catalog.csv and distributors.csv, then reads
//! FILES_DIR/statements.csv with [`backstock_ingest::read_statements_parallel`] on
//! THREADS threads (default: the machine's parallelism), or with the sequential
//! reader ([`backstock_ingest::read`]) when THREADS is `seq`.

use backstock_ingest::{read, read_statements_parallel, Context, Decoder, Encoding, Kind};
use std::fs::File;
use std::io::{BufReader, Seek, SeekFrom};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Instant;

fn learn(ctx: &mut Context, dir: &Path, kind: Kind) -> Result<(), String> {
    let path = dir.join(format!("{}.csv", kind.as_str()));
    let file = File::open(&path).map_err(|e| format!("{}: {e}", path.display()))?;
    let parsed = read(
        kind,
        Decoder::new(BufReader::new(file), Encoding::Utf8),
        ctx,
    )
    .map_err(|e| e.to_string())?;
    for e in &parsed.entries {
        ctx.learn(e);
    }
    Ok(())
}

fn run() -> Result<(), String> {
    let mut args = std::env::args().skip(1);
    let dir = PathBuf::from(
        args.next()
            .ok_or("usage: parse_statements FILES_DIR [THREADS|seq]")?,
    );
    let threads = args.next();
    let mut ctx = Context::default();
    learn(&mut ctx, &dir, Kind::Catalog)?;
    learn(&mut ctx, &dir, Kind::Distributors)?;
    let path = dir.join("statements.csv");
    ctx.file_name = "statements.csv".into();
    ctx.file_sha256 = "0".repeat(64);
    let len = std::fs::metadata(&path)
        .map_err(|e| format!("{}: {e}", path.display()))?
        .len();
    let open_at = |offset: u64| -> std::io::Result<File> {
        let mut f = File::open(&path)?;
        f.seek(SeekFrom::Start(offset))?;
        Ok(f)
    };
    let cpu_before = cpu_ticks();
    let start = Instant::now();
    let (how, result) = match threads.as_deref() {
        Some("seq") => {
            let f = open_at(0).map_err(|e| e.to_string())?;
            let r = read(
                Kind::Statements,
                Decoder::new(BufReader::with_capacity(1 << 20, f), Encoding::Utf8),
                &ctx,
            );
            ("sequential reader".to_string(), r)
        }
        t => {
            let n = match t {
                Some(t) => t
                    .parse::<usize>()
                    .map_err(|_| format!("THREADS: {t:?} is not a number"))?,
                None => std::thread::available_parallelism().map_or(1, |n| n.get()),
            };
            let r = read_statements_parallel(&ctx, len, &open_at, n, &|_| {})
                .map_err(|e| e.to_string())?;
            (format!("{n} thread(s)"), r)
        }
    };
    let wall = start.elapsed();
    let cpu = cpu_ticks()
        .zip(cpu_before)
        .map(|(a, b)| a.saturating_sub(b));
    let parsed = result.map_err(|e| e.to_string())?;
    let micros = wall.as_micros().max(1);
    println!(
        "{how}: {} lines, {} entries, {} unknown codes, {}.{:03} s wall, {} lines/s",
        parsed.lines,
        parsed.entries.len(),
        parsed.unknown.len(),
        wall.as_secs(),
        wall.subsec_millis(),
        u128::from(parsed.lines) * 1_000_000 / micros
    );
    if let Some(ticks) = cpu {
        // Clock ticks are hundredths of a second on Linux.
        println!(
            "  CPU (all threads, user + system): {}.{:02} s",
            ticks / 100,
            ticks % 100
        );
    }
    for m in parsed.totals.iter() {
        println!("  net due {m}");
    }
    Ok(())
}

/// This process's CPU time so far in clock ticks (Linux: from /proc/self/stat).
fn cpu_ticks() -> Option<u64> {
    let stat = std::fs::read_to_string("/proc/self/stat").ok()?;
    // Fields after the command name (which is in parentheses): utime is the 12th, stime
    // the 13th.
    let rest = stat.rsplit_once(')')?.1;
    let f: Vec<&str> = rest.split_whitespace().collect();
    Some(f.get(11)?.parse::<u64>().ok()? + f.get(12)?.parse::<u64>().ok()?)
}

fn main() -> ExitCode {
    match run() {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("{e}");
            ExitCode::FAILURE
        }
    }
}
