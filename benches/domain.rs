//! The domain model alone, with criterion: allocating on a product with 1,000 batches,
//! and a quantity change that frees 100 lines to be allocated again (as the service
//! layer does it: each `Deallocated` event allocates its line anew).
//!
//! `cargo bench --bench domain`.

use std::hint::black_box;

use allocation_desk::domain::events::Event;
use allocation_desk::domain::model::{Batch, OrderLine, Product};
use allocation_desk::domain::values::{BatchRef, OrderId, Quantity, Sku};
use chrono::{Duration, NaiveDate};
use criterion::{BatchSize, Criterion, criterion_group, criterion_main};

fn sku() -> Sku {
    Sku::parse("LAMP").unwrap()
}

fn line(order: usize, qty: i64) -> OrderLine {
    OrderLine {
        orderid: OrderId::parse(&format!("order-{order}")).unwrap(),
        sku: sku(),
        qty: Quantity::new(qty).unwrap(),
    }
}

fn batch(n: usize, qty: i64, eta: Option<NaiveDate>) -> Batch {
    Batch::new(
        BatchRef::parse(&format!("batch-{n}")).unwrap(),
        sku(),
        Quantity::new(qty).unwrap(),
        eta,
    )
}

/// A product with one warehouse batch and `shipments` later ones, each a day apart,
/// and nothing allocated.
fn product(warehouse: i64, shipments: usize) -> Product {
    let mut product = Product::new(sku());
    product.add_batch(batch(0, warehouse, None)).unwrap();
    let first = NaiveDate::from_ymd_opt(2031, 1, 1).unwrap();
    for n in 1..=shipments {
        let eta = first + Duration::days(n as i64);
        product.add_batch(batch(n, 1_000, Some(eta))).unwrap();
    }
    product.take_events();
    product
}

fn allocate_among_1000_batches(c: &mut Criterion) {
    // The warehouse is full: the line goes to the earliest of 999 shipments.
    let mut full = product(1, 999);
    full.allocate(line(0, 1));
    full.take_events();
    c.bench_function("allocate on a product with 1,000 batches", |b| {
        b.iter_batched(
            || full.clone(),
            |mut product| black_box(product.allocate(line(1, 5))),
            BatchSize::SmallInput,
        )
    });
}

fn quantity_change_reallocating_100_lines(c: &mut Criterion) {
    let mut busy = product(200, 10);
    for order in 0..100 {
        busy.allocate(line(order, 2));
    }
    busy.take_events();
    let warehouse = BatchRef::parse("batch-0").unwrap();
    c.bench_function("change quantity that reallocates 100 lines", |b| {
        b.iter_batched(
            || busy.clone(),
            |mut product| {
                product
                    .change_batch_quantity(&warehouse, Quantity::new(1).unwrap())
                    .unwrap();
                for event in product.take_events() {
                    if let Event::Deallocated(freed) = event {
                        product.allocate(freed.line);
                    }
                }
                black_box(product)
            },
            BatchSize::SmallInput,
        )
    });
}

criterion_group!(
    benches,
    allocate_among_1000_batches,
    quantity_change_reallocating_100_lines
);
criterion_main!(benches);
