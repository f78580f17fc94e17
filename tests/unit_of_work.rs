//! The SQL repository and unit of work against a real database (SQLite file, or
//! PostgreSQL with `TEST_POSTGRES_URL`).

mod common;

use std::sync::Arc;
use std::time::Duration;

use allocation_desk::adapters::sql::SqlStore;
use allocation_desk::adapters::{Store, StoreError, StoreTransaction};
use allocation_desk::domain::model::{Batch, Product};
use allocation_desk::domain::staff::Actor;
use allocation_desk::domain::values::parse_date;
use allocation_desk::service_layer::ServiceError;
use allocation_desk::service_layer::messagebus::MessageBus;
use allocation_desk::service_layer::unit_of_work::UnitOfWork;
use common::*;

async fn stored_product(db: &TestDb, sku_: &str) -> Option<Product> {
    let store = db.store().await;
    let mut uow = UnitOfWork::begin(&store, &Actor::system()).await.unwrap();
    uow.product(&sku(sku_)).await.unwrap().cloned()
}

#[tokio::test]
async fn a_product_round_trips_with_its_batches_and_allocations() {
    let db = TestDb::new().await;
    let store = db.store().await;
    let mut uow = UnitOfWork::begin(&store, &Actor::system()).await.unwrap();
    let product = uow.product_or_new(&sku("GENERIC-SOFA")).await.unwrap();
    // "later" is never needed: a batch without lines.
    for (reference_, units, eta) in [
        ("shipment", 100, Some("2011-01-02")),
        ("in-stock", 50, None),
        ("later", 20, Some("2011-02-01")),
    ] {
        let eta = eta.map(|eta| parse_date(eta).unwrap());
        product
            .add_batch(Batch::new(
                reference(reference_),
                sku("GENERIC-SOFA"),
                qty(units),
                eta,
            ))
            .unwrap();
    }
    product.allocate(line("o1", "GENERIC-SOFA", 10));
    product.allocate(line("o2", "GENERIC-SOFA", 45));
    product.allocate(line("o3", "GENERIC-SOFA", 5));
    product.take_events();
    let expected = product.clone();
    uow.commit().await.unwrap();

    let loaded = stored_product(&db, "GENERIC-SOFA").await.unwrap();

    assert_eq!(loaded, expected, "batches and their lines, in order");
    assert_eq!(loaded.version_number(), 6);
    assert_eq!(
        loaded
            .batch(&reference("in-stock"))
            .unwrap()
            .available_quantity(),
        35
    );
    assert_eq!(loaded.batch(&reference("later")).unwrap().allocations(), []);
    assert_eq!(
        loaded
            .batch(&reference("shipment"))
            .unwrap()
            .available_quantity(),
        55
    );
}

#[tokio::test]
async fn a_unit_of_work_not_committed_writes_nothing() {
    let db = TestDb::new().await;
    let store = db.store().await;
    let mut uow = UnitOfWork::begin(&store, &Actor::system()).await.unwrap();
    uow.product_or_new(&sku("LAMP"))
        .await
        .unwrap()
        .add_batch(Batch::new(reference("b1"), sku("LAMP"), qty(5), None))
        .unwrap();
    drop(uow);

    assert_eq!(stored_product(&db, "LAMP").await, None);
}

/// A request cancelled halfway drops its transaction after some of its writes: they
/// are undone, and the next writer finds the database free.
#[tokio::test]
async fn a_transaction_dropped_after_writing_is_rolled_back() {
    let db = TestDb::new().await;
    let store = db.store().await;
    let mut product = Product::new(sku("LAMP"));
    product
        .add_batch(Batch::new(reference("b1"), sku("LAMP"), qty(5), None))
        .unwrap();
    let mut transaction = store.begin(&Actor::system()).await.unwrap();
    transaction.save(None, &product).await.unwrap();
    drop(transaction);

    assert_eq!(stored_product(&db, "LAMP").await, None);
    assert_eq!(db.count("batches").await, 0);
    let bus = db.bus().await;
    bus.handle(create_batch("b2", "LAMP", 5, None))
        .await
        .unwrap();
    assert_eq!(db.count("batches").await, 1);
}

fn product_with_batch(sku_: &str, batch: &str) -> Product {
    let mut product = Product::new(sku(sku_));
    product
        .add_batch(Batch::new(reference(batch), sku(sku_), qty(5), None))
        .unwrap();
    product
}

/// A transaction that has saved LAMP, and a task whose transaction, begun after it,
/// saves RUG, holds on for `linger`, and is dropped uncommitted. Returned once the task
/// waits for the turn.
async fn lamp_then_rug_dropped(
    store: &SqlStore,
    linger: Duration,
) -> (Box<dyn StoreTransaction>, tokio::task::JoinHandle<()>) {
    let mut first = store.begin(&Actor::system()).await.unwrap();
    first
        .save(None, &product_with_batch("LAMP", "b1"))
        .await
        .unwrap();
    let second = tokio::spawn({
        let store = store.clone();
        async move {
            let mut second = store.begin(&Actor::system()).await.unwrap();
            second
                .save(None, &product_with_batch("RUG", "b2"))
                .await
                .unwrap();
            tokio::time::sleep(linger).await;
        }
    });
    tokio::time::sleep(Duration::from_millis(50)).await;
    (first, second)
}

/// On SQLite, a unit of work that waits for the turn joins the transaction of the one
/// before it, which commits them together. One of them dropped halfway undoes its own
/// writes, not the others'.
#[tokio::test]
async fn a_transaction_dropped_halfway_undoes_only_its_own_writes() {
    let db = TestDb::new().await;
    let store = db.store().await;
    let (first, second) = lamp_then_rug_dropped(&store, Duration::ZERO).await;
    first.commit().await.unwrap();
    second.await.unwrap();

    assert!(stored_product(&db, "LAMP").await.is_some());
    assert_eq!(stored_product(&db, "RUG").await, None);
    assert_eq!(db.count("batches").await, 1);
}

/// A request cancelled while its writes wait to be committed with the others queued
/// behind it: they are committed all the same, and SQLite's write lock is let go,
/// though no unit of work of their group is left to see to it.
#[tokio::test]
async fn writes_waiting_for_their_commit_are_committed_when_the_request_is_cancelled() {
    let db = TestDb::new().await;
    if db.is_postgres() {
        // PostgreSQL's transactions commit one by one; a commit cancelled on the way
        // may or may not have reached the server.
        return;
    }
    let store = db.store().await;
    let (first, second) = lamp_then_rug_dropped(&store, Duration::from_millis(100)).await;
    // Polled once: the first's writes are done and wait behind the second's turn.
    let cancelled = tokio::time::timeout(Duration::ZERO, first.commit()).await;
    assert!(cancelled.is_err(), "the commit waits for the second's turn");
    second.await.unwrap();

    // Read through another connection: only what is committed.
    let deadline = std::time::Instant::now() + Duration::from_secs(5);
    while db.count("batches").await == 0 {
        assert!(
            std::time::Instant::now() < deadline,
            "the writes were never committed"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    assert_eq!(db.count("batches").await, 1);
    let bus = db.bus().await;
    bus.handle(create_batch("b3", "CHAIR", 5, None))
        .await
        .unwrap();
    assert_eq!(db.count("batches").await, 2);
}

/// Another connection (another process, in service) holds SQLite's write lock while a
/// command waits for it. The command waits asleep, as a task: waiting in SQLite's busy
/// handler would hold the thread, and on this single-threaded runtime the holder could
/// not finish, so both would be stuck until the wait ran out.
#[tokio::test]
async fn a_command_waiting_for_the_write_lock_lets_the_holder_finish() {
    let db = TestDb::new().await;
    if db.is_postgres() {
        // PostgreSQL's transactions do not wait for one another to begin.
        return;
    }
    let bus = db.bus().await;
    bus.handle(create_batch("b1", "LAMP", 10, None))
        .await
        .unwrap();
    let other = db.store().await;
    let mut held = other.pool().begin_with("BEGIN IMMEDIATE").await.unwrap();
    sqlx::query("UPDATE batches SET changed_by = 'other' WHERE reference = 'b1'")
        .execute(&mut *held)
        .await
        .unwrap();

    let (allocated, ()) = tokio::join!(bus.handle(allocate("o1", "LAMP", 1)), async move {
        tokio::time::sleep(Duration::from_millis(200)).await;
        held.commit().await.unwrap();
    });

    allocated.unwrap();
    let product = stored_product(&db, "LAMP").await.unwrap();
    assert_eq!(product.batches()[0].allocations().len(), 1);
}

#[tokio::test]
async fn a_failed_commit_rolls_back_everything() {
    let db = TestDb::new().await;
    let bus = db.bus().await;
    bus.handle(create_batch("taken", "CHAIR", 5, None))
        .await
        .unwrap();

    // Bypass the handler's check, so that the database refuses the duplicate reference
    // after the new product's row has already been written in the same transaction:
    // to the store that is another writer's row, a conflict.
    let store = db.store().await;
    let mut uow = UnitOfWork::begin(&store, &Actor::system()).await.unwrap();
    uow.product_or_new(&sku("LAMP"))
        .await
        .unwrap()
        .add_batch(Batch::new(reference("taken"), sku("LAMP"), qty(5), None))
        .unwrap();
    assert!(matches!(uow.commit().await, Err(StoreError::Conflict(_))));

    assert_eq!(stored_product(&db, "LAMP").await, None);
    assert_eq!(db.count("products").await, 1);
}

#[tokio::test]
async fn saving_a_stale_product_is_a_conflict() {
    let db = TestDb::new().await;
    let bus = db.bus().await;
    bus.handle(create_batch("b1", "LAMP", 10, None))
        .await
        .unwrap();
    let stale = stored_product(&db, "LAMP").await.unwrap();
    bus.handle(allocate("o1", "LAMP", 1)).await.unwrap();

    let mut changed = stale.clone();
    changed.allocate(line("o2", "LAMP", 2));
    let store = db.store().await;
    let mut transaction = store.begin(&Actor::system()).await.unwrap();
    let result = transaction.save(Some(&stale), &changed).await;

    assert!(matches!(result, Err(StoreError::Conflict(_))));
}

/// A store holds the products it loaded or committed; what another store (another
/// server) commits, or what a unit of work dropped uncommitted changed, must not be
/// served from there.
#[tokio::test]
async fn a_product_is_read_as_stored_whoever_changed_it() {
    let db = TestDb::new().await;
    let (here, there) = (db.store().await, db.store().await);
    let mut uow = UnitOfWork::begin(&here, &Actor::system()).await.unwrap();
    let product = uow.product_or_new(&sku("LAMP")).await.unwrap();
    product
        .add_batch(Batch::new(reference("b1"), sku("LAMP"), qty(10), None))
        .unwrap();
    product.allocate(line("o1", "LAMP", 5));
    uow.commit().await.unwrap();

    let mut uow = UnitOfWork::begin(&there, &Actor::system()).await.unwrap();
    let product = uow.product(&sku("LAMP")).await.unwrap().unwrap();
    product.allocate(line("o2", "LAMP", 3));
    uow.commit().await.unwrap();
    let mut dropped = UnitOfWork::begin(&here, &Actor::system()).await.unwrap();
    let product = dropped.product(&sku("LAMP")).await.unwrap().unwrap();
    product.allocate(line("o3", "LAMP", 1));
    drop(dropped);

    let mut uow = UnitOfWork::begin(&here, &Actor::system()).await.unwrap();
    let product = uow.product(&sku("LAMP")).await.unwrap().unwrap();
    let batch = product.batch(&reference("b1")).unwrap();
    assert_eq!(
        batch.allocations(),
        [line("o1", "LAMP", 5), line("o2", "LAMP", 3)]
    );
    assert_eq!(product.version_number(), 3);
}

/// Two stores on one database stand for two server processes: each has its own pool
/// (and, on SQLite, its own writer queue), so only the database keeps them apart.
#[tokio::test]
async fn concurrent_allocations_never_oversell_a_batch() {
    let db = TestDb::new().await;
    let buses = [Arc::new(db.bus().await), Arc::new(db.bus().await)];
    buses[0]
        .handle(create_batch("in-stock", "POPULAR-LAMP", 30, None))
        .await
        .unwrap();
    buses[1]
        .handle(create_batch(
            "shipment",
            "POPULAR-LAMP",
            25,
            Some("2030-01-01"),
        ))
        .await
        .unwrap();

    let orders = 40;
    let tasks: Vec<_> = (0..orders)
        .map(|n| {
            let bus: Arc<MessageBus> = Arc::clone(&buses[n as usize % 2]);
            tokio::spawn(async move {
                bus.handle(allocate(&format!("order-{n}"), "POPULAR-LAMP", 1 + n % 3))
                    .await
            })
        })
        .collect();
    // Every request gets an answer: done, or (PostgreSQL, after the bus's retries) a
    // conflict that the entry points turn into a 409.
    let mut conflicts = 0;
    for task in tasks {
        match task.await.unwrap() {
            Ok(()) => {}
            Err(ServiceError::Store(StoreError::Conflict(_))) => conflicts += 1,
            Err(error) => panic!("{error}"),
        }
    }

    let product = stored_product(&db, "POPULAR-LAMP").await.unwrap();
    for batch in product.batches() {
        assert!(batch.available_quantity() >= 0, "{batch:?} is oversold");
    }
    let lines: usize = product
        .batches()
        .iter()
        .map(|b| b.allocations().len())
        .sum();
    assert!(lines > 0 && lines < orders as usize, "demand exceeds stock");
    assert_eq!(product.version_number(), 2 + lines as u64);

    assert_eq!(
        db.count("allocations_view").await,
        lines as i64,
        "view = write model"
    );
    assert_eq!(
        db.count("out_of_stock_notices").await,
        orders - lines as i64 - conflicts,
        "every order neither allocated nor refused was noticed"
    );
}

async fn allocate_slowly(store: SqlStore, orderid: &str) -> Result<(), StoreError> {
    let mut uow = UnitOfWork::begin(&store, &Actor::system()).await?;
    let product = uow.product(&sku("LAMP")).await?.unwrap();
    product.allocate(line(orderid, "LAMP", 1));
    tokio::time::sleep(Duration::from_millis(200)).await;
    uow.commit().await
}

/// The book's `test_concurrent_updates_to_version_are_not_allowed`: two units of work
/// change one product at once, and no update is lost. On PostgreSQL both read the same
/// version and exactly one commits. On SQLite a unit of work holds the writer's turn
/// from its first read, so the second reads what the first wrote, and both commit.
#[tokio::test]
async fn concurrent_updates_to_one_product_lose_nothing() {
    let db = TestDb::new().await;
    let store = db.store().await;
    MessageBus::new(Arc::new(store.clone()))
        .handle(create_batch("b1", "LAMP", 10, None))
        .await
        .unwrap();

    let (first, second) = tokio::join!(
        allocate_slowly(store.clone(), "o1"),
        allocate_slowly(store.clone(), "o2")
    );

    for result in [&first, &second] {
        assert!(
            matches!(result, Ok(()) | Err(StoreError::Conflict(_))),
            "{result:?}"
        );
    }
    let committed = [&first, &second].iter().filter(|r| r.is_ok()).count();
    assert_eq!(committed, if db.is_postgres() { 1 } else { 2 });
    let product = stored_product(&db, "LAMP").await.unwrap();
    assert_eq!(product.version_number(), 1 + committed as u64);
    assert_eq!(product.batches()[0].allocations().len(), committed);
}

/// SQLite's log is copied back into the database and started afresh while writers
/// keep the writer busy: left to grow, it would slow every read, and fill the disk.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_log_stays_short_under_steady_writes() {
    const SKUS: usize = 50;
    let db = TestDb::new().await;
    let Some(file) = db.url.strip_prefix("sqlite://") else {
        return; // PostgreSQL keeps its own log.
    };
    let log = format!("{}-wal", file.trim_end_matches("?mode=rwc"));
    let bus = Arc::new(db.bus().await);
    // Many products, so that each write stays as small as the server's usually are.
    for sku in 0..SKUS {
        bus.handle(create_batch(
            &format!("b{sku}"),
            &format!("LAMP-{sku}"),
            1_000,
            None,
        ))
        .await
        .unwrap();
    }
    let turns = || {
        metric(
            &allocation_desk::metrics::render(&[]),
            "desk_sqlite_checkpoint_turns_total",
        )
    };
    let turns_before = turns();

    let writers: Vec<_> = (0..8)
        .map(|writer| {
            let bus = Arc::clone(&bus);
            tokio::spawn(async move {
                for n in 0..750 {
                    let order = format!("order-{writer}-{n}");
                    let sku = format!("LAMP-{}", (writer * 750 + n) % SKUS);
                    bus.handle(allocate(&order, &sku, 1)).await.unwrap();
                }
            })
        })
        .collect();
    for writer in writers {
        writer.await.unwrap();
    }

    // 6,000 writes put over 32,000 pages (4 KiB each) in the log. It reached 16,000
    // (`LONG_LOG`), so a checkpoint took the writer's turn, and it restarted from
    // there: it holds not much more than that. (Other tests' writers, in this
    // process, may take turns too: the count only grows.)
    assert!(
        turns() > turns_before,
        "no checkpoint took the writer's turn"
    );
    let bytes = std::fs::metadata(&log).unwrap().len();
    assert!(bytes < 100 << 20, "the log has grown to {bytes} bytes");
}
