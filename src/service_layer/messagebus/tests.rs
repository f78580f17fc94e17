//! The book's `test_handlers.py`, and the rules this project adds, on the fake store.

use std::sync::Arc;

use chrono::NaiveDate;

use super::MessageBus;
use crate::domain::commands::{Allocate, ChangeBatchQuantity, CreateBatch, Deallocate};
use crate::domain::model::{DomainError, OrderLine};
use crate::domain::values::{BatchRef, OrderId, Quantity, Sku};
use crate::service_layer::ServiceError;
use crate::service_layer::fakes::FakeStore;

fn bus() -> (MessageBus, FakeStore) {
    let store = FakeStore::default();
    (MessageBus::new(Arc::new(store.clone())), store)
}

fn sku(raw: &str) -> Sku {
    Sku::parse(raw).unwrap()
}

fn reference(raw: &str) -> BatchRef {
    BatchRef::parse(raw).unwrap()
}

fn qty(units: i64) -> Quantity {
    Quantity::new(units).unwrap()
}

fn create_batch(reference_: &str, sku_: &str, units: i64, eta: Option<&str>) -> CreateBatch {
    CreateBatch {
        reference: reference(reference_),
        sku: sku(sku_),
        qty: qty(units),
        eta: eta.map(|d| d.parse::<NaiveDate>().unwrap()),
    }
}

fn line(orderid: &str, sku_: &str, units: i64) -> OrderLine {
    OrderLine {
        orderid: OrderId::parse(orderid).unwrap(),
        sku: sku(sku_),
        qty: qty(units),
    }
}

fn change_quantity(reference_: &str, units: i64) -> ChangeBatchQuantity {
    ChangeBatchQuantity {
        reference: reference(reference_),
        qty: qty(units),
    }
}

fn allocate(orderid: &str, sku_: &str, units: i64) -> Allocate {
    Allocate {
        line: line(orderid, sku_, units),
    }
}

fn available(store: &FakeStore, sku_: &str, reference_: &str) -> i64 {
    store.state().products[&sku(sku_)]
        .batch(&reference(reference_))
        .unwrap()
        .available_quantity()
}

fn view(store: &FakeStore, orderid: &str) -> Vec<(String, String)> {
    store
        .state()
        .allocations_view
        .iter()
        .filter(|a| a.line.orderid.as_str() == orderid)
        .map(|a| (a.line.sku.to_string(), a.batchref.to_string()))
        .collect()
}

// --- add batch ---

#[tokio::test]
async fn add_batch_for_new_product() {
    let (bus, store) = bus();
    bus.handle(create_batch("b1", "CRUNCHY-ARMCHAIR", 100, None))
        .await
        .unwrap();
    let state = store.state();
    assert!(state.products.contains_key(&sku("CRUNCHY-ARMCHAIR")));
    assert_eq!(state.batches_view[&reference("b1")], 100);
    assert_eq!(state.commits, 1);
}

#[tokio::test]
async fn add_batch_for_existing_product() {
    let (bus, store) = bus();
    bus.handle(create_batch("b1", "GARISH-RUG", 100, None))
        .await
        .unwrap();
    bus.handle(create_batch("b2", "GARISH-RUG", 99, None))
        .await
        .unwrap();
    let refs: Vec<_> = store.state().products[&sku("GARISH-RUG")]
        .batches()
        .iter()
        .map(|b| b.reference().to_string())
        .collect();
    assert_eq!(refs, ["b1", "b2"]);
}

#[tokio::test]
async fn add_batch_refuses_a_reference_used_by_another_product() {
    let (bus, store) = bus();
    bus.handle(create_batch("b1", "GARISH-RUG", 100, None))
        .await
        .unwrap();
    let result = bus.handle(create_batch("b1", "OTHER-RUG", 5, None)).await;
    assert!(matches!(
        result,
        Err(ServiceError::Domain(DomainError::DuplicateBatch(r))) if r == reference("b1")
    ));
    let state = store.state();
    assert!(!state.products.contains_key(&sku("OTHER-RUG")));
    assert_eq!(state.commits, 1);
}

// --- allocate ---

#[tokio::test]
async fn allocates_and_updates_the_view() {
    let (bus, store) = bus();
    bus.handle(create_batch("batch1", "COMPLICATED-LAMP", 100, None))
        .await
        .unwrap();
    bus.handle(allocate("o1", "COMPLICATED-LAMP", 10))
        .await
        .unwrap();
    assert_eq!(available(&store, "COMPLICATED-LAMP", "batch1"), 90);
    assert_eq!(
        view(&store, "o1"),
        [("COMPLICATED-LAMP".into(), "batch1".into())]
    );
}

#[tokio::test]
async fn errors_for_invalid_sku_and_commits_nothing() {
    let (bus, store) = bus();
    bus.handle(create_batch("b1", "AREALSKU", 100, None))
        .await
        .unwrap();
    let error = bus
        .handle(allocate("o1", "NONEXISTENTSKU", 10))
        .await
        .unwrap_err();
    assert_eq!(error.to_string(), "Invalid sku NONEXISTENTSKU");
    assert_eq!(store.state().commits, 1);
}

#[tokio::test]
async fn allocate_commits() {
    let (bus, store) = bus();
    bus.handle(create_batch("b1", "OMINOUS-MIRROR", 100, None))
        .await
        .unwrap();
    bus.handle(allocate("o1", "OMINOUS-MIRROR", 10))
        .await
        .unwrap();
    assert_eq!(store.state().commits, 2);
}

#[tokio::test]
async fn records_a_notice_when_out_of_stock() {
    let (bus, store) = bus();
    bus.handle(create_batch("b1", "POPULAR-CURTAINS", 9, None))
        .await
        .unwrap();
    bus.handle(allocate("o1", "POPULAR-CURTAINS", 10))
        .await
        .unwrap();
    let state = store.state();
    assert_eq!(state.out_of_stock, [line("o1", "POPULAR-CURTAINS", 10)]);
    assert!(state.allocations_view.is_empty());
}

#[tokio::test]
async fn allocating_the_same_line_twice_gives_one_row() {
    let (bus, store) = bus();
    bus.handle(create_batch("b1", "LAMP", 100, None))
        .await
        .unwrap();
    for _ in 0..2 {
        bus.handle(allocate("o1", "LAMP", 10)).await.unwrap();
    }
    assert_eq!(view(&store, "o1").len(), 1);
    assert_eq!(available(&store, "LAMP", "b1"), 90);
}

// --- change batch quantity ---

#[tokio::test]
async fn changes_available_quantity() {
    let (bus, store) = bus();
    bus.handle(create_batch("batch1", "ADORABLE-SETTEE", 100, None))
        .await
        .unwrap();
    bus.handle(change_quantity("batch1", 50)).await.unwrap();
    assert_eq!(available(&store, "ADORABLE-SETTEE", "batch1"), 50);
    assert_eq!(store.state().batches_view[&reference("batch1")], 50);
}

#[tokio::test]
async fn reallocates_if_necessary() {
    let (bus, store) = bus();
    bus.handle(create_batch("batch1", "INDIFFERENT-TABLE", 50, None))
        .await
        .unwrap();
    bus.handle(create_batch(
        "batch2",
        "INDIFFERENT-TABLE",
        50,
        Some("2011-01-02"),
    ))
    .await
    .unwrap();
    bus.handle(allocate("order1", "INDIFFERENT-TABLE", 20))
        .await
        .unwrap();
    bus.handle(allocate("order2", "INDIFFERENT-TABLE", 20))
        .await
        .unwrap();
    assert_eq!(available(&store, "INDIFFERENT-TABLE", "batch1"), 10);

    bus.handle(change_quantity("batch1", 25)).await.unwrap();

    // order2, the newer line, moves; order1 stays.
    assert_eq!(available(&store, "INDIFFERENT-TABLE", "batch1"), 5);
    assert_eq!(available(&store, "INDIFFERENT-TABLE", "batch2"), 30);
    assert_eq!(
        view(&store, "order2"),
        [("INDIFFERENT-TABLE".into(), "batch2".into())]
    );
    assert_eq!(
        view(&store, "order1"),
        [("INDIFFERENT-TABLE".into(), "batch1".into())]
    );
}

#[tokio::test]
async fn a_freed_line_with_nowhere_to_go_is_out_of_stock() {
    let (bus, store) = bus();
    bus.handle(create_batch("batch1", "TABLE", 10, None))
        .await
        .unwrap();
    bus.handle(allocate("order1", "TABLE", 8)).await.unwrap();
    bus.handle(change_quantity("batch1", 5)).await.unwrap();
    let state = store.state();
    assert!(view(&store, "order1").is_empty());
    assert_eq!(state.out_of_stock, [line("order1", "TABLE", 8)]);
}

#[tokio::test]
async fn changing_an_unknown_batch_is_refused() {
    let (bus, _) = bus();
    let result = bus.handle(change_quantity("nope", 5)).await;
    assert!(matches!(
        result,
        Err(ServiceError::Domain(DomainError::UnknownBatch(_)))
    ));
}

// --- deallocate ---

#[tokio::test]
async fn deallocate_frees_the_units_and_does_not_reallocate() {
    let (bus, store) = bus();
    bus.handle(create_batch("b1", "LAMP", 10, None))
        .await
        .unwrap();
    bus.handle(create_batch("b2", "LAMP", 10, Some("2011-01-02")))
        .await
        .unwrap();
    bus.handle(allocate("o1", "LAMP", 4)).await.unwrap();
    bus.handle(Deallocate {
        line: line("o1", "LAMP", 4),
    })
    .await
    .unwrap();
    assert_eq!(available(&store, "LAMP", "b1"), 10);
    assert_eq!(available(&store, "LAMP", "b2"), 10);
    assert!(view(&store, "o1").is_empty());
}

#[tokio::test]
async fn deallocate_refuses_unknown_sku_and_unallocated_line() {
    let (bus, store) = bus();
    bus.handle(create_batch("b1", "LAMP", 10, None))
        .await
        .unwrap();
    let unknown = bus
        .handle(Deallocate {
            line: line("o1", "SOFA", 4),
        })
        .await;
    assert!(matches!(unknown, Err(ServiceError::InvalidSku(_))));
    let unallocated = bus
        .handle(Deallocate {
            line: line("o1", "LAMP", 4),
        })
        .await;
    assert!(matches!(
        unallocated,
        Err(ServiceError::Domain(DomainError::NotAllocated(_)))
    ));
    assert_eq!(store.state().commits, 1);
}

// --- the bus ---

#[tokio::test]
async fn a_failing_event_handler_stops_no_other_but_fails_the_command() {
    let (bus, store) = bus();
    bus.handle(create_batch("batch1", "TABLE", 10, None))
        .await
        .unwrap();
    bus.handle(create_batch("batch2", "TABLE", 10, Some("2011-01-02")))
        .await
        .unwrap();
    bus.handle(allocate("order1", "TABLE", 8)).await.unwrap();
    store.break_read_model();

    let result = bus.handle(change_quantity("batch1", 5)).await;

    assert!(matches!(
        result,
        Err(ServiceError::Store(crate::adapters::StoreError::Backend(_)))
    ));
    // Every handler ran although the read model refused each write: the quantity,
    // the freed line, and the allocation that `reallocate` made after them.
    assert_eq!(store.refused_read_model_writes(), 3);
    // Nothing was committed: the line is still on batch1, the view as it was.
    assert_eq!(available(&store, "TABLE", "batch1"), 2);
    assert_eq!(available(&store, "TABLE", "batch2"), 10);
    assert_eq!(view(&store, "order1"), [("TABLE".into(), "batch1".into())]);
}

#[tokio::test]
async fn a_command_that_loses_a_race_is_tried_again() {
    let (bus, store) = bus();
    bus.handle(create_batch("b1", "LAMP", 10, None))
        .await
        .unwrap();
    store.lose_races(super::MAX_ATTEMPTS - 1);
    bus.handle(allocate("o1", "LAMP", 4)).await.unwrap();
    assert_eq!(available(&store, "LAMP", "b1"), 6);
    assert_eq!(store.state().commits, 2);
}

#[tokio::test]
async fn a_command_that_keeps_losing_gives_up_with_a_conflict() {
    let (bus, store) = bus();
    bus.handle(create_batch("b1", "LAMP", 10, None))
        .await
        .unwrap();
    store.lose_races(super::MAX_ATTEMPTS);
    let result = bus.handle(allocate("o1", "LAMP", 4)).await;
    assert!(matches!(
        result,
        Err(ServiceError::Store(crate::adapters::StoreError::Conflict(
            _
        )))
    ));
    assert_eq!(available(&store, "LAMP", "b1"), 10);
    assert_eq!(store.state().commits, 1);
}

#[tokio::test]
async fn every_allocation_is_recorded_for_publication_when_events_are_published() {
    let store = FakeStore::default();
    let relay = Arc::new(tokio::sync::Notify::new());
    let bus = MessageBus::new(Arc::new(store.clone())).publishing_events(Arc::clone(&relay));
    bus.handle(create_batch("b1", "TABLE", 10, None))
        .await
        .unwrap();
    bus.handle(create_batch("b2", "TABLE", 10, Some("2011-01-02")))
        .await
        .unwrap();
    bus.handle(allocate("o1", "TABLE", 8)).await.unwrap();
    // The reallocation a quantity change causes is announced too.
    bus.handle(change_quantity("b1", 5)).await.unwrap();

    let messages: Vec<serde_json::Value> = store
        .state()
        .outbox
        .iter()
        .map(|(channel, payload)| {
            assert_eq!(channel, "line_allocated");
            serde_json::from_str(payload).unwrap()
        })
        .collect();
    assert_eq!(
        messages,
        [
            serde_json::json!({"orderid": "o1", "sku": "TABLE", "qty": 8, "batchref": "b1"}),
            serde_json::json!({"orderid": "o1", "sku": "TABLE", "qty": 8, "batchref": "b2"}),
        ]
    );
    // The relay was woken after the commits.
    tokio::time::timeout(std::time::Duration::from_secs(1), relay.notified())
        .await
        .unwrap();
}

#[tokio::test]
async fn nothing_is_recorded_for_publication_or_mail_when_not_configured() {
    let (bus, store) = bus();
    bus.handle(create_batch("b1", "TABLE", 10, None))
        .await
        .unwrap();
    bus.handle(allocate("o1", "TABLE", 8)).await.unwrap();
    bus.handle(allocate("o2", "TABLE", 8)).await.unwrap();
    let state = store.state();
    assert!(state.outbox.is_empty());
    assert!(state.mail.is_empty());
    assert_eq!(state.out_of_stock.len(), 1, "still stored as a notice");
}

#[tokio::test]
async fn the_stock_team_is_mailed_of_every_line_out_of_stock() {
    let store = FakeStore::default();
    let relay = Arc::new(tokio::sync::Notify::new());
    let bus = MessageBus::new(Arc::new(store.clone()))
        .mailing_stock_team("stock@made.com".into(), Arc::clone(&relay));
    bus.handle(create_batch("b1", "POPULAR-CURTAINS", 9, None))
        .await
        .unwrap();
    bus.handle(allocate("o1", "POPULAR-CURTAINS", 10))
        .await
        .unwrap();
    bus.handle(allocate("o2", "POPULAR-CURTAINS", 9))
        .await
        .unwrap();

    let mail = store.state().mail;
    assert_eq!(mail.len(), 1, "only the line that ran out");
    assert_eq!(mail[0].recipient, "stock@made.com");
    assert_eq!(mail[0].subject, "Out of stock for POPULAR-CURTAINS");
    assert!(mail[0].body.contains("o1"), "{}", mail[0].body);
    tokio::time::timeout(std::time::Duration::from_secs(1), relay.notified())
        .await
        .unwrap();
}

mod roles {
    use super::*;
    use crate::domain::commands::Command;
    use crate::domain::staff::{Actor, Permission, Role};

    fn actor(name: &str, role: Role) -> Actor {
        Actor {
            name: name.into(),
            role,
        }
    }

    #[tokio::test]
    async fn a_role_that_may_not_run_a_command_changes_nothing() {
        let (bus, store) = bus();
        let viewer = actor("vic", Role::Viewer);
        let refused = bus
            .handle_as(&viewer, create_batch("b1", "LAMP", 10, None))
            .await;
        assert!(matches!(
            refused,
            Err(ServiceError::Forbidden {
                role: Role::Viewer,
                permission: Permission::ManageStock
            })
        ));
        let clerk = actor("carl", Role::Clerk);
        let refused = bus
            .handle_as(&clerk, create_batch("b1", "LAMP", 10, None))
            .await;
        assert_eq!(
            refused.unwrap_err().to_string(),
            "A clerk may not add batches or change their quantities"
        );
        let state = store.state();
        assert_eq!((state.commits, state.products.len()), (0, 0));
        assert!(state.command_log.is_empty());
    }

    #[tokio::test]
    async fn each_command_is_logged_with_whom_it_ran_for() {
        let (bus, store) = bus();
        let batch = create_batch("b1", "LAMP", 10, None);
        let order_line = allocate("o1", "LAMP", 2);
        bus.handle_as(&actor("mia", Role::Manager), batch.clone())
            .await
            .unwrap();
        bus.handle_as(&actor("carl", Role::Clerk), order_line.clone())
            .await
            .unwrap();
        bus.handle(change_quantity("b1", 5)).await.unwrap();
        let log = store.state().command_log;
        assert_eq!(log[0], ("mia".to_owned(), Command::CreateBatch(batch)));
        assert_eq!(log[1], ("carl".to_owned(), Command::Allocate(order_line)));
        assert_eq!(log[2].0, "system");
        assert_eq!(log.len(), 3);
    }
}
