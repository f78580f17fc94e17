//! The book's `test_views.py`: the read model, kept by event handlers, on real SQLite.

mod common;

use allocation_desk::domain::commands::Deallocate;
use allocation_desk::domain::values::OrderId;
use allocation_desk::views::OrderAllocation;
use common::*;

fn row(sku: &str, qty: i64, batchref: &str) -> OrderAllocation {
    OrderAllocation {
        sku: sku.into(),
        qty,
        batchref: batchref.into(),
    }
}

fn order(raw: &str) -> OrderId {
    OrderId::parse(raw).unwrap()
}

#[tokio::test]
async fn allocations_view_shows_only_that_orders_lines_in_order() {
    let db = TestDb::new();
    let services = db.services().await;
    let bus = &services.bus;
    bus.handle(create_batch("sku1batch", "sku1", 50, None))
        .await
        .unwrap();
    bus.handle(create_batch("sku2batch", "sku2", 50, Some("2011-01-01")))
        .await
        .unwrap();
    bus.handle(allocate("order1", "sku1", 20)).await.unwrap();
    bus.handle(allocate("order1", "sku2", 20)).await.unwrap();
    // A spurious batch and order, to be sure the view picks the right rows.
    bus.handle(create_batch(
        "sku1batch-later",
        "sku1",
        50,
        Some("2011-01-01"),
    ))
    .await
    .unwrap();
    bus.handle(allocate("otherorder", "sku1", 30))
        .await
        .unwrap();
    bus.handle(allocate("otherorder", "sku2", 10))
        .await
        .unwrap();

    assert_eq!(
        services.views.allocations(&order("order1")).await.unwrap(),
        [row("sku1", 20, "sku1batch"), row("sku2", 20, "sku2batch")]
    );
    assert!(
        services
            .views
            .allocations(&order("nobody"))
            .await
            .unwrap()
            .is_empty()
    );
}

#[tokio::test]
async fn after_a_quantity_change_the_view_shows_the_new_batch() {
    let db = TestDb::new();
    let services = db.services().await;
    let bus = &services.bus;
    bus.handle(create_batch("b1", "sku1", 50, None))
        .await
        .unwrap();
    bus.handle(create_batch("b2", "sku1", 50, Some("2011-01-01")))
        .await
        .unwrap();
    bus.handle(allocate("o1", "sku1", 40)).await.unwrap();
    bus.handle(change_quantity("b1", 10)).await.unwrap();

    assert_eq!(
        services.views.allocations(&order("o1")).await.unwrap(),
        [row("sku1", 40, "b2")]
    );
}

#[tokio::test]
async fn a_cancelled_line_leaves_the_view() {
    let db = TestDb::new();
    let services = db.services().await;
    let bus = &services.bus;
    bus.handle(create_batch("b1", "sku1", 50, None))
        .await
        .unwrap();
    bus.handle(allocate("o1", "sku1", 5)).await.unwrap();
    bus.handle(allocate("o1", "sku1", 7)).await.unwrap();
    bus.handle(Deallocate {
        line: line("o1", "sku1", 5),
    })
    .await
    .unwrap();

    assert_eq!(
        services.views.allocations(&order("o1")).await.unwrap(),
        [row("sku1", 7, "b1")]
    );
}
