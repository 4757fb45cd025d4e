//! Posting transfers durably into SQLite (WAL, synchronous=FULL), one transaction per
//! batch, as imports do.
//!
//! `cargo bench -p backstock-store --bench durable`

use backstock_domain::{Currency, Date, PartyId, Sku};
use backstock_ledger::{Entry, EntryId, Event, LineKind, Provenance, Statement, StatementLine};
use backstock_store::Store;
use divan::counter::ItemsCount;
use divan::Bencher;

fn main() {
    divan::main();
}

fn statement(n: usize, skus: &[Sku]) -> Entry {
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

fn payment(n: usize) -> Entry {
    let d = Date::parse("2016-01-31").unwrap_or(Date::EARLIEST);
    Entry {
        id: EntryId::new(format!("payment:bench:{n}")).unwrap_or_else(|_| unreachable!()),
        effective_on: d,
        known_on: d,
        provenance: Provenance::Demo,
        event: Event::PaymentReceived {
            payment_id: format!("P{n}"),
            distributor: PartyId::parse("northwind").unwrap_or_else(|_| PartyId::label()),
            amount: backstock_domain::Money::from_minor(1000 + n as i64, Currency::USD),
            statement_id: None,
        },
    }
}

struct Fixture {
    rt: tokio::runtime::Runtime,
    store: Store,
    _dir: tempfile::TempDir,
}

fn fixture() -> Fixture {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap_or_else(|_| unreachable!());
    let dir = tempfile::tempdir().unwrap_or_else(|_| unreachable!());
    let store = rt
        .block_on(Store::open(dir.path(), true))
        .unwrap_or_else(|_| unreachable!());
    Fixture {
        rt,
        store,
        _dir: dir,
    }
}

/// Statements of 500 SKUs (1,000 transfers each), 20 per transaction: 20,000 transfers
/// per commit.
#[divan::bench(sample_count = 10)]
fn statements_20k_transfers_per_commit(b: Bencher) {
    let f = fixture();
    let skus: Vec<Sku> = (0..500)
        .map(|i| Sku::parse(&format!("SKU-{i}")).unwrap_or_else(|_| unreachable!()))
        .collect();
    let mut n = 0;
    b.counter(ItemsCount::new(20_000usize))
        .with_inputs(|| {
            (0..20)
                .map(|_| {
                    n += 1;
                    statement(n, &skus)
                })
                .collect::<Vec<_>>()
        })
        .bench_local_refs(|entries| {
            f.rt.block_on(f.store.record(entries, None))
                .map(|_| ())
                .ok()
        });
}

/// One-transfer entries (payments), 10,000 per transaction: the per-entry cost (JSON,
/// hash chain, journal row) dominates.
#[divan::bench(sample_count = 10)]
fn payments_10k_per_commit(b: Bencher) {
    let f = fixture();
    let mut n = 0;
    b.counter(ItemsCount::new(10_000usize))
        .with_inputs(|| {
            (0..10_000)
                .map(|_| {
                    n += 1;
                    payment(n)
                })
                .collect::<Vec<_>>()
        })
        .bench_local_refs(|entries| {
            f.rt.block_on(f.store.record(entries, None))
                .map(|_| ())
                .ok()
        });
}
