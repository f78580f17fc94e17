//! The book's `test_views.py`: the read models, kept by event handlers, on a real
//! database, and with `TEST_READ_MODEL=redis` in a real Redis.

mod common;

use allocation_desk::config::ReadModelStore;
use allocation_desk::domain::commands::Deallocate;
use allocation_desk::domain::staff::{Actor, Role};
use allocation_desk::domain::values::OrderId;
use allocation_desk::views::{BatchAllocation, BatchSummary, OrderAllocation, SkuStock};
use common::*;

fn row(sku: &str, qty: i64, batchref: &str) -> OrderAllocation {
    OrderAllocation {
        sku: sku.into(),
        qty,
        batchref: batchref.into(),
        allocated_by: Some("system".into()),
    }
}

fn order(raw: &str) -> OrderId {
    OrderId::parse(raw).unwrap()
}

#[tokio::test]
async fn allocations_view_shows_only_that_orders_lines_in_order() {
    let db = TestDb::new().await;
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
    let db = TestDb::new().await;
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
    let db = TestDb::new().await;
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

fn batch_row(
    reference: &str,
    sku: &str,
    eta: Option<&str>,
    purchased: i64,
    allocated: i64,
) -> BatchSummary {
    BatchSummary {
        reference: reference.into(),
        sku: sku.into(),
        eta: eta.map(Into::into),
        purchased,
        allocated,
        available: purchased - allocated,
        changed_by: Some("system".into()),
    }
}

#[tokio::test]
async fn batch_listings_and_stock_follow_every_command() {
    let db = TestDb::new().await;
    let services = db.services().await;
    let (bus, views) = (&services.bus, &services.views);
    bus.handle(create_batch("ship-2", "LAMP", 10, Some("2011-01-03")))
        .await
        .unwrap();
    bus.handle(create_batch("ship-1", "LAMP", 10, Some("2011-01-02")))
        .await
        .unwrap();
    bus.handle(create_batch("stock", "LAMP", 10, None))
        .await
        .unwrap();
    bus.handle(create_batch("chairs", "CHAIR", 4, None))
        .await
        .unwrap();
    bus.handle(allocate("o1", "LAMP", 8)).await.unwrap();
    bus.handle(allocate("o2", "LAMP", 6)).await.unwrap();
    bus.handle(allocate("o3", "CHAIR", 4)).await.unwrap();
    // o1 took the warehouse batch, o2 the earliest shipment. The warehouse batch now
    // shrinks below o1's 8: o1 is freed and moves to ship-2, the only batch with 8 left.
    bus.handle(change_quantity("stock", 5)).await.unwrap();

    assert_eq!(
        views.batches(Some(&sku("LAMP"))).await.unwrap(),
        [
            batch_row("stock", "LAMP", None, 5, 0),
            batch_row("ship-1", "LAMP", Some("2011-01-02"), 10, 6),
            batch_row("ship-2", "LAMP", Some("2011-01-03"), 10, 8),
        ]
    );
    assert_eq!(views.batches(None).await.unwrap().len(), 4);
    assert_eq!(
        views.batch(&reference("chairs")).await.unwrap(),
        Some(batch_row("chairs", "CHAIR", None, 4, 4))
    );
    assert_eq!(views.batch(&reference("nope")).await.unwrap(), None);
    assert_eq!(
        views.batch_allocations(&reference("ship-2")).await.unwrap(),
        [BatchAllocation {
            orderid: "o1".into(),
            qty: 8,
            allocated_by: Some("system".into()),
        }]
    );
    assert_eq!(
        views.stock().await.unwrap(),
        [
            SkuStock {
                sku: "CHAIR".into(),
                purchased: 4,
                allocated: 4,
                available: 0,
                batches: 1,
                next_eta: None,
            },
            SkuStock {
                sku: "LAMP".into(),
                purchased: 25,
                allocated: 14,
                available: 11,
                batches: 3,
                next_eta: Some("2011-01-02".into()),
            },
        ]
    );
}

#[tokio::test]
async fn out_of_stock_notices_and_lines_still_waiting() {
    let db = TestDb::new().await;
    let services = db.services().await;
    let (bus, views) = (&services.bus, &services.views);
    bus.handle(create_batch("b1", "LAMP", 5, None))
        .await
        .unwrap();
    bus.handle(allocate("o1", "LAMP", 9)).await.unwrap();
    // An unknown SKU is refused, not noticed.
    assert!(bus.handle(allocate("o1", "NO-SUCH-SKU", 1)).await.is_err());
    bus.handle(allocate("o2", "LAMP", 7)).await.unwrap();

    let latest = views.latest_out_of_stock(10).await.unwrap();
    let noticed: Vec<_> = latest.iter().map(|n| (n.orderid.as_str(), n.qty)).collect();
    assert_eq!(noticed, [("o2", 7), ("o1", 9)]);
    assert_eq!(views.latest_out_of_stock(1).await.unwrap().len(), 1);

    let waiting = views.unallocated_lines(&order("o1")).await.unwrap();
    assert_eq!(waiting.len(), 1);
    assert_eq!((waiting[0].sku.as_str(), waiting[0].qty), ("LAMP", 9));

    // Stock arrives; the line is allocated and no longer waits.
    bus.handle(create_batch("b2", "LAMP", 20, None))
        .await
        .unwrap();
    bus.handle(allocate("o1", "LAMP", 9)).await.unwrap();
    assert!(
        views
            .unallocated_lines(&order("o1"))
            .await
            .unwrap()
            .is_empty()
    );
}

#[tokio::test]
async fn read_models_rebuilt_from_the_write_model_are_the_same() {
    // `allocation-desk rebuild-read-models`, run as an operator would; the Redis read
    // models have their own test.
    let db = TestDb::new().await;
    let services = db.services_in(ReadModelStore::Sql).await;
    let (bus, views) = (&services.bus, &services.views);
    bus.handle(create_batch("stock", "LAMP", 10, None))
        .await
        .unwrap();
    bus.handle(create_batch("ship", "LAMP", 10, Some("2011-01-02")))
        .await
        .unwrap();
    for (orderid, units) in [("o1", 6), ("o2", 3), ("o3", 4)] {
        bus.handle(allocate(orderid, "LAMP", units)).await.unwrap();
    }
    bus.handle(change_quantity("stock", 7)).await.unwrap();
    let snapshot = (
        views.batches(None).await.unwrap(),
        views.batch_allocations(&reference("ship")).await.unwrap(),
        views.allocations(&order("o2")).await.unwrap(),
    );

    // Damage the read models the way a bug would.
    let pool = db.store().await.pool().clone();
    sqlx::query("DELETE FROM allocations_view WHERE orderid = 'o2'")
        .execute(&pool)
        .await
        .unwrap();
    sqlx::query("UPDATE batches_view SET allocated_quantity = 99")
        .execute(&pool)
        .await
        .unwrap();
    assert_ne!(views.batches(None).await.unwrap(), snapshot.0);

    let rebuilt = std::process::Command::new(env!("CARGO_BIN_EXE_allocation-desk"))
        .arg("rebuild-read-models")
        .env("DATABASE_URL", &db.url)
        .env("RUST_LOG", "warn")
        .status()
        .unwrap();
    assert!(rebuilt.success());

    assert_eq!(
        (
            views.batches(None).await.unwrap(),
            views.batch_allocations(&reference("ship")).await.unwrap(),
            views.allocations(&order("o2")).await.unwrap(),
        ),
        snapshot
    );
}

#[tokio::test]
async fn the_views_say_who_allocated_each_line_and_who_changed_each_batch() {
    let db = TestDb::new().await;
    let services = db.services().await;
    let bus = &services.bus;
    let (mia, carl) = (
        Actor {
            name: "mia".into(),
            role: Role::Manager,
        },
        Actor {
            name: "token:shop".into(),
            role: Role::Clerk,
        },
    );
    bus.handle_as(&mia, create_batch("b1", "LAMP", 10, None))
        .await
        .unwrap();
    bus.handle_as(&mia, create_batch("b2", "LAMP", 10, Some("2011-01-01")))
        .await
        .unwrap();
    for (orderid, units) in [("o1", 3), ("o2", 4), ("o3", 1)] {
        bus.handle_as(&carl, allocate(orderid, "LAMP", units))
            .await
            .unwrap();
    }
    assert_eq!(
        services.views.allocations(&order("o2")).await.unwrap()[0]
            .allocated_by
            .as_deref(),
        Some("token:shop")
    );
    // Mia's shrinking of b1 to 6 frees o3, then o2. She thereby allocates them again:
    // o3 back into b1, o2 into b2.
    bus.handle_as(&mia, change_quantity("b1", 6)).await.unwrap();

    let check = async || {
        let o2 = services.views.allocations(&order("o2")).await.unwrap();
        assert_eq!(
            (o2[0].batchref.as_str(), o2[0].allocated_by.as_deref()),
            ("b2", Some("mia"))
        );
        let b1 = services
            .views
            .batch(&reference("b1"))
            .await
            .unwrap()
            .unwrap();
        assert_eq!(b1.changed_by.as_deref(), Some("mia"));
        let lines = services
            .views
            .batch_allocations(&reference("b1"))
            .await
            .unwrap();
        let lines: Vec<_> = lines
            .iter()
            .map(|l| (l.orderid.as_str(), l.allocated_by.as_deref()))
            .collect();
        assert_eq!(lines, [("o1", Some("token:shop")), ("o3", Some("mia"))]);
    };
    check().await;
    // Rebuilt from the write model (in Redis too, when the views live there).
    services.store.rebuild_read_models().await.unwrap();
    check().await;

    let log: Vec<(String, String)> =
        sqlx::query_as("SELECT actor, command FROM command_log ORDER BY id")
            .fetch_all(db.store().await.pool())
            .await
            .unwrap();
    let log: Vec<_> = log.iter().map(|(a, c)| (a.as_str(), c.as_str())).collect();
    assert_eq!(
        log,
        [
            ("mia", "CreateBatch"),
            ("mia", "CreateBatch"),
            ("token:shop", "Allocate"),
            ("token:shop", "Allocate"),
            ("token:shop", "Allocate"),
            ("mia", "ChangeBatchQuantity"),
        ]
    );
}
