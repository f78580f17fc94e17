//! Random sequences of commands (create batch, allocate, change quantity, deallocate)
//! against the real store, checking the allocation service's invariants after every one:
//! no batch is ever over-allocated, a line is allocated at most once, a new line goes to
//! warehouse stock before shipments and to earlier shipments before later ones, version
//! numbers only grow, and every read model agrees with the write model.

mod common;

use std::collections::BTreeMap;

use allocation_desk::bootstrap::Services;
use allocation_desk::config::ReadModelStore;
use allocation_desk::domain::commands::{Command, Deallocate};
use common::*;
use proptest::prelude::*;
use sqlx::AnyPool;

const SKUS: [&str; 2] = ["LAMP", "SOFA"];

#[derive(Debug, Clone)]
enum Step {
    CreateBatch {
        batch: usize,
        sku: usize,
        qty: i64,
        /// Days from 2031-01-01; none: in the warehouse.
        eta: Option<u32>,
    },
    Allocate {
        order: usize,
        sku: usize,
        qty: i64,
    },
    ChangeQuantity {
        batch: usize,
        qty: i64,
    },
    Deallocate {
        order: usize,
        sku: usize,
        qty: i64,
    },
}

fn step() -> impl Strategy<Value = Step> {
    prop_oneof![
        1 => (0..6usize, 0..2usize, 1..30i64, proptest::option::of(0..5u32))
            .prop_map(|(batch, sku, qty, eta)| Step::CreateBatch { batch, sku, qty, eta }),
        4 => (0..8usize, 0..2usize, 1..12i64)
            .prop_map(|(order, sku, qty)| Step::Allocate { order, sku, qty }),
        1 => (0..6usize, 1..30i64).prop_map(|(batch, qty)| Step::ChangeQuantity { batch, qty }),
        1 => (0..8usize, 0..2usize, 1..12i64)
            .prop_map(|(order, sku, qty)| Step::Deallocate { order, sku, qty }),
    ]
}

impl Step {
    fn command(&self) -> Command {
        match *self {
            Self::CreateBatch {
                batch,
                sku,
                qty,
                eta,
            } => {
                let eta = eta.map(|days| format!("2031-01-{:02}", 1 + days));
                create_batch(&format!("b{batch}"), SKUS[sku], qty, eta.as_deref()).into()
            }
            Self::Allocate { order, sku, qty } => {
                allocate(&format!("o{order}"), SKUS[sku], qty).into()
            }
            Self::ChangeQuantity { batch, qty } => {
                change_quantity(&format!("b{batch}"), qty).into()
            }
            Self::Deallocate { order, sku, qty } => Deallocate {
                line: line(&format!("o{order}"), SKUS[sku], qty),
            }
            .into(),
        }
    }
}

/// A batch as the write model holds it: `(sku, eta, purchased, allocated)`.
type Batch = (String, Option<String>, i64, i64);

type Batches = BTreeMap<String, Batch>;

async fn batches(pool: &AnyPool) -> Batches {
    let rows: Vec<(String, String, Option<String>, i64, i64)> = sqlx::query_as(
        "SELECT b.reference, b.sku, b.eta, b.purchased_quantity, \
                CAST(COALESCE(SUM(a.qty), 0) AS BIGINT) \
         FROM batches b LEFT JOIN allocations a ON a.batch_id = b.id \
         GROUP BY b.reference, b.sku, b.eta, b.purchased_quantity",
    )
    .fetch_all(pool)
    .await
    .unwrap();
    rows.into_iter()
        .map(|(reference, sku, eta, purchased, allocated)| {
            (reference, (sku, eta, purchased, allocated))
        })
        .collect()
}

async fn versions(pool: &AnyPool) -> BTreeMap<String, i64> {
    let rows: Vec<(String, i64)> = sqlx::query_as("SELECT sku, version_number FROM products")
        .fetch_all(pool)
        .await
        .unwrap();
    rows.into_iter().collect()
}

/// Where each line is allocated: `(orderid, sku, qty) -> batch`.
async fn lines(pool: &AnyPool, sql: &str) -> BTreeMap<(String, String, i64), String> {
    let rows: Vec<(String, String, i64, String)> =
        sqlx::query_as(sql).fetch_all(pool).await.unwrap();
    rows.into_iter()
        .map(|(orderid, sku, qty, batch)| ((orderid, sku, qty), batch))
        .collect()
}

/// Allocation prefers warehouse stock (no ETA), then the earliest ETA.
fn preference(eta: &Option<String>) -> (bool, String) {
    (eta.is_some(), eta.clone().unwrap_or_default())
}

async fn check_read_models(pool: &AnyPool, written: &Batches) {
    let allocated = lines(
        pool,
        "SELECT a.orderid, a.sku, a.qty, b.reference FROM allocations a \
         JOIN batches b ON b.id = a.batch_id",
    )
    .await;
    let rows: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM allocations")
        .fetch_one(pool)
        .await
        .unwrap();
    assert_eq!(rows, allocated.len() as i64, "a line allocated twice");
    let viewed = lines(
        pool,
        "SELECT orderid, sku, qty, batchref FROM allocations_view",
    )
    .await;
    assert_eq!(viewed, allocated, "allocations_view");

    let listed: Vec<(String, String, Option<String>, i64, i64)> = sqlx::query_as(
        "SELECT reference, sku, eta, purchased_quantity, allocated_quantity FROM batches_view",
    )
    .fetch_all(pool)
    .await
    .unwrap();
    let listed: Batches = listed
        .into_iter()
        .map(|(reference, sku, eta, purchased, allocated)| {
            (reference, (sku, eta, purchased, allocated))
        })
        .collect();
    assert_eq!(&listed, written, "batches_view");

    let stock: Vec<(String, i64, i64, i64, i64, i64, i64)> = sqlx::query_as(
        "SELECT sku, batches, warehouse_purchased, warehouse_allocated, incoming_purchased, \
                incoming_allocated, open_lines FROM sku_stock_view",
    )
    .fetch_all(pool)
    .await
    .unwrap();
    for (
        sku,
        count,
        warehouse_purchased,
        warehouse_allocated,
        incoming_purchased,
        incoming_allocated,
        open_lines,
    ) in stock
    {
        let of_sku = || written.values().filter(|(s, ..)| *s == sku);
        let sum = |warehouse: bool, pick: fn(&Batch) -> i64| {
            of_sku()
                .filter(|batch| batch.1.is_none() == warehouse)
                .map(pick)
                .sum::<i64>()
        };
        assert_eq!(count, of_sku().count() as i64, "{sku}: batches");
        assert_eq!(
            (
                warehouse_purchased,
                warehouse_allocated,
                incoming_purchased,
                incoming_allocated
            ),
            (
                sum(true, |b| b.2),
                sum(true, |b| b.3),
                sum(false, |b| b.2),
                sum(false, |b| b.3)
            ),
            "{sku}: sku_stock_view"
        );
        let lines_of_sku = allocated.keys().filter(|(_, s, _)| *s == sku).count();
        assert_eq!(open_lines, lines_of_sku as i64, "{sku}: open lines");
    }
}

async fn run(steps: Vec<Step>) {
    let db = TestDb::new().await;
    let services: Services = db.services_in(ReadModelStore::Sql).await;
    let store = db.store().await;
    let pool = store.pool().clone();
    for step in steps {
        let before = batches(&pool).await;
        let versions_before = versions(&pool).await;
        // Refusals (an unknown SKU or batch, a line not allocated) are part of the game.
        let _ = services.bus.handle(step.command()).await;
        let after = batches(&pool).await;

        for (reference, (_, _, purchased, allocated)) in &after {
            assert!(
                allocated <= purchased,
                "{reference} over-allocated after {step:?}"
            );
        }
        let versions_after = versions(&pool).await;
        for (sku, version) in &versions_before {
            assert!(versions_after[sku] >= *version, "{sku}'s version went back");
        }
        if let Step::Allocate { order, sku, qty } = step {
            let key = (format!("o{order}"), SKUS[sku].to_owned(), qty);
            let placed = lines(
                &pool,
                "SELECT a.orderid, a.sku, a.qty, b.reference FROM allocations a \
                 JOIN batches b ON b.id = a.batch_id",
            )
            .await;
            let was_placed = before.iter().any(|(reference, (_, _, _, allocated))| {
                after.get(reference).is_some_and(|b| b.3 != *allocated)
            });
            if let (Some(chosen), true) = (placed.get(&key), was_placed) {
                let (_, chosen_eta, ..) = &before[chosen];
                for (reference, (batch_sku, eta, purchased, allocated)) in &before {
                    if batch_sku == SKUS[sku]
                        && preference(eta) < preference(chosen_eta)
                        && purchased - allocated >= qty
                    {
                        panic!("{key:?} went to {chosen}, though {reference} came first");
                    }
                }
            }
        }
        check_read_models(&pool, &after).await;
    }
}

/// One runtime for every case, as a server has: Leptos keeps process-wide state (its
/// executor, its reactive owners) that outlives a runtime made and dropped per case.
static RUNTIME: std::sync::LazyLock<tokio::runtime::Runtime> =
    std::sync::LazyLock::new(|| tokio::runtime::Runtime::new().unwrap());

proptest! {
    #![proptest_config(ProptestConfig {
        cases: 48,
        ..ProptestConfig::default()
    })]

    #[test]
    fn any_sequence_of_commands_keeps_the_invariants(
        steps in proptest::collection::vec(step(), 1..40)
    ) {
        RUNTIME.block_on(run(steps));
    }
}
