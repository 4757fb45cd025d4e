//! Posting transfers in memory: the engine alone, and whole business events through the
//! book (expansion, account resolution, linked chains).
//!
//! `cargo bench -p backstock-ledger --bench post`

use backstock_domain::{Currency, Date, PartyId, Sku};
use backstock_ledger::engine::{
    AccountFlags, Engine, LedgerId, Transfer, TransferFlags, TransferId,
};
use backstock_ledger::{
    Book, Entry, EntryId, Event, LineKind, Provenance, Statement, StatementLine,
};
use divan::counter::ItemsCount;
use divan::Bencher;

fn main() {
    divan::main();
}

const BATCH: usize = 8190;
const ACCOUNTS: u32 = 10_000;

fn batch(start: u128, linked: bool) -> Vec<Transfer> {
    let mut x: u64 = 0x2545_f491_4f6c_dd1d;
    (0..BATCH)
        .map(|i| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            let d = (x % u64::from(ACCOUNTS)) as u32;
            let c = (d + 1 + ((x >> 32) % u64::from(ACCOUNTS - 1)) as u32) % ACCOUNTS;
            Transfer {
                id: TransferId(start + i as u128 + 1),
                debit: backstock_ledger::engine::AccountId(d),
                credit: backstock_ledger::engine::AccountId(c),
                amount: 1 + x % 1000,
                ledger: LedgerId(1),
                flags: if linked && i % 2 == 0 {
                    TransferFlags::LINKED
                } else {
                    TransferFlags::NONE
                },
                pending_id: TransferId(0),
            }
        })
        .collect()
}

fn engine(remember_ids: bool) -> Engine {
    let mut e = if remember_ids {
        Engine::new()
    } else {
        Engine::without_id_memory()
    };
    for _ in 0..ACCOUNTS {
        e.create_account(LedgerId(1), AccountFlags::NONE);
    }
    e
}

/// Independent transfers, ids remembered for idempotency (TigerBeetle's default).
#[divan::bench(sample_count = 50)]
fn engine_transfers(b: Bencher) {
    let mut e = engine(true);
    let mut start = 0u128;
    b.counter(ItemsCount::new(BATCH))
        .with_inputs(|| {
            start += BATCH as u128;
            batch(start, false)
        })
        .bench_local_refs(|t| e.create_transfers(t));
}

/// Transfers in linked pairs (all-or-nothing chains).
#[divan::bench(sample_count = 50)]
fn engine_linked_pairs(b: Bencher) {
    let mut e = engine(true);
    let mut start = 0u128;
    b.counter(ItemsCount::new(BATCH))
        .with_inputs(|| {
            start += BATCH as u128;
            batch(start, true)
        })
        .bench_local_refs(|t| e.create_transfers(t));
}

fn statement_entry(n: usize, skus: &[Sku]) -> Entry {
    let d = Date::parse("2016-01-31").unwrap_or(Date::EARLIEST);
    Entry {
        id: EntryId::new(format!("statement:bench:{n}")).unwrap_or_else(|_| unreachable!()),
        effective_on: d,
        known_on: d,
        provenance: Provenance::Demo,
        event: Event::Statement(Statement {
            statement_id: format!("S{n}"),
            distributor: PartyId::parse("northwind").unwrap_or_else(|_| PartyId::label()),
            period_start: d.first_of_month(),
            period_end: d,
            issued_on: d,
            currency: Currency::USD,
            lines: skus
                .iter()
                .map(|s| StatementLine {
                    kind: LineKind::Sale,
                    sku: Some(s.clone()),
                    units: 3,
                    amount_minor: 2400,
                    channel: Default::default(),
                })
                .collect(),
        }),
    }
}

/// Whole statements (100 SKUs → 200 transfers each) through the book.
#[divan::bench(sample_count = 30)]
fn book_statements(b: Bencher) {
    let skus: Vec<Sku> = (0..100)
        .map(|i| Sku::parse(&format!("SKU-{i}")).unwrap_or_else(|_| unreachable!()))
        .collect();
    let mut book = Book::new();
    let mut n = 0;
    b.counter(ItemsCount::new(200usize * 40))
        .with_inputs(|| {
            (0..40)
                .map(|_| {
                    n += 1;
                    statement_entry(n, &skus)
                })
                .collect::<Vec<_>>()
        })
        .bench_local_refs(|entries| {
            for e in entries.iter() {
                let _ = book.record(e);
            }
        });
}

/// A month's statement as an import meets it: 117k SKUs, each line opening its
/// accounts, into a fresh book (the import benchmark's shape per statement).
#[divan::bench(sample_count = 10)]
fn book_month_statement(b: Bencher) {
    let skus: Vec<Sku> = (0..117_000)
        .map(|i| Sku::parse(&format!("GEN-{i:06}")).unwrap_or_else(|_| unreachable!()))
        .collect();
    b.counter(ItemsCount::new(skus.len()))
        .with_inputs(|| (Book::new(), statement_entry(1, &skus)))
        .bench_local_refs(|(book, entry)| book.record(entry).map(|r| r.transfers.len()));
}
