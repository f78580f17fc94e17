//! The read models in Redis (`READ_MODEL=redis`) against the real Redis: they show what
//! the SQL read models show, survive updates applied twice, late or out of order, catch
//! up after Redis missed a commit, and can be rebuilt from the write model.

mod common;

use std::time::{Duration, Instant};

use allocation_desk::adapters::redis_read_model::{RedisReadModel, Update, project_pending};
use allocation_desk::adapters::sql::SqlStore;
use allocation_desk::bootstrap::{Services, bootstrap, open_store};
use allocation_desk::config::{Config, ReadModelStore};
use allocation_desk::domain::commands::Deallocate;
use allocation_desk::domain::values::{BatchRef, OrderId, Sku};
use allocation_desk::views::{
    BatchAllocation, BatchSummary, OrderAllocation, OutOfStockNotice, SkuStock, Views,
};
use axum::body::Body;
use axum::http::{Request, StatusCode};
use common::http::App;
use common::*;
use redis::AsyncCommands;

const ORDERS: [&str; 4] = ["o1", "o2", "o3", "o4"];
const BATCHES: [&str; 4] = ["warehouse", "soon", "later", "chairs"];

/// What the views show of one order: its allocations, and its lines still waiting.
type OrderView = (Vec<OrderAllocation>, Vec<(String, i64)>);

/// Everything the views show about the scenario below, notices without their times.
#[derive(Debug, PartialEq, Eq)]
struct Snapshot {
    orders: Vec<OrderView>,
    stock: Vec<SkuStock>,
    skus: Vec<String>,
    batches: Vec<BatchSummary>,
    lamps: Vec<BatchSummary>,
    batch_lines: Vec<(Option<BatchSummary>, Vec<BatchAllocation>)>,
    notices: Vec<(String, String, i64)>,
}

async fn snapshot(views: &Views) -> Snapshot {
    let mut orders = Vec::new();
    for orderid in ORDERS {
        let orderid = OrderId::parse(orderid).unwrap();
        let waiting = views.unallocated_lines(&orderid).await.unwrap();
        orders.push((
            views.allocations(&orderid).await.unwrap(),
            waiting.into_iter().map(|n| (n.sku, n.qty)).collect(),
        ));
    }
    let mut batch_lines = Vec::new();
    for reference in BATCHES {
        let reference = BatchRef::parse(reference).unwrap();
        batch_lines.push((
            views.batch(&reference).await.unwrap(),
            views.batch_allocations(&reference).await.unwrap(),
        ));
    }
    let notices: Vec<OutOfStockNotice> = views.latest_out_of_stock(100).await.unwrap();
    Snapshot {
        orders,
        stock: views.stock().await.unwrap(),
        skus: views.skus().await.unwrap(),
        batches: views.batches(None).await.unwrap(),
        lamps: views
            .batches(Some(&Sku::parse("LAMP").unwrap()))
            .await
            .unwrap(),
        batch_lines,
        notices: notices
            .into_iter()
            .map(|n| (n.orderid, n.sku, n.qty))
            .collect(),
    }
}

/// Every kind of change: new batches, allocations, out of stock, a shrinking batch
/// whose lines move elsewhere, a cancellation, and a line allocated after a notice.
async fn run_scenario(services: &Services) {
    let bus = &services.bus;
    for (reference, sku, units, eta) in [
        ("warehouse", "LAMP", 10, None),
        ("soon", "LAMP", 10, Some("2031-01-01")),
        ("later", "LAMP", 5, Some("2031-02-01")),
        ("chairs", "CHAIR", 4, None),
    ] {
        bus.handle(create_batch(reference, sku, units, eta))
            .await
            .unwrap();
    }
    for (orderid, sku, units) in [
        ("o1", "LAMP", 6),
        ("o2", "LAMP", 4),
        ("o1", "CHAIR", 3),
        ("o3", "LAMP", 8),
        ("o4", "LAMP", 9),
        ("o4", "CHAIR", 2),
    ] {
        bus.handle(allocate(orderid, sku, units)).await.unwrap();
    }
    bus.handle(change_quantity("warehouse", 5)).await.unwrap();
    bus.handle(Deallocate {
        line: line("o3", "LAMP", 8),
    })
    .await
    .unwrap();
    bus.handle(allocate("o4", "LAMP", 9)).await.unwrap();
}

/// A read model of the test's own in Redis, for reading or damaging it directly.
fn read_model(db: &TestDb) -> RedisReadModel {
    RedisReadModel::new(redis::Client::open(REDIS_URL).unwrap(), &db.redis_prefix).unwrap()
}

#[tokio::test]
async fn redis_shows_what_sql_shows() {
    let (in_sql, in_redis) = (TestDb::new().await, TestDb::new().await);
    let sql = in_sql.services_in(ReadModelStore::Sql).await;
    let redis = in_redis.services_in(ReadModelStore::Redis).await;
    run_scenario(&sql).await;
    run_scenario(&redis).await;

    let expected = snapshot(&sql.views).await;
    assert!(
        expected
            .orders
            .iter()
            .any(|(_, waiting)| !waiting.is_empty()),
        "the scenario leaves a line waiting: {expected:?}"
    );
    // Up to date as soon as each command returned: nothing to wait for.
    assert_eq!(snapshot(&redis.views).await, expected);
}

#[tokio::test]
async fn updates_applied_twice_or_out_of_order_end_the_same() {
    let db = TestDb::new().await;
    let model = read_model(&db);
    let updates: Vec<(i64, Update)> = vec![
        (
            1,
            Update::Batch {
                reference: reference("b1"),
                sku: Some(sku("LAMP")),
                eta: None,
                qty: qty(10),
                by: "mia".into(),
            },
        ),
        (
            2,
            Update::Batch {
                reference: reference("b2"),
                sku: Some(sku("LAMP")),
                eta: None,
                qty: qty(10),
                by: "mia".into(),
            },
        ),
        (
            3,
            Update::Line {
                line: line("o1", "LAMP", 4),
                batchref: Some(reference("b1")),
                by: "carl".into(),
            },
        ),
        (
            4,
            Update::Batch {
                reference: reference("b1"),
                sku: None,
                eta: None,
                qty: qty(3),
                by: "mia".into(),
            },
        ),
        (
            5,
            Update::Line {
                line: line("o1", "LAMP", 4),
                batchref: None,
                by: "mia".into(),
            },
        ),
        (
            6,
            Update::Line {
                line: line("o1", "LAMP", 4),
                batchref: Some(reference("b2")),
                by: "mia".into(),
            },
        ),
    ];
    let views = Views::redis(model.clone());
    model.apply(&updates).await.unwrap();
    let in_order = (
        views.batches(None).await.unwrap(),
        views
            .allocations(&OrderId::parse("o1").unwrap())
            .await
            .unwrap(),
        views.batch_allocations(&reference("b1")).await.unwrap(),
    );
    assert_eq!(in_order.0[0].purchased, 3);
    assert_eq!(in_order.0[0].changed_by.as_deref(), Some("mia"));
    assert_eq!(in_order.1[0].allocated_by.as_deref(), Some("mia"));
    assert_eq!(
        (in_order.0[0].allocated, in_order.0[1].allocated),
        (0, 4),
        "{in_order:?}"
    );

    // Again, newest first, then one by one in a shuffled order: nothing changes.
    let reversed: Vec<_> = updates.iter().rev().cloned().collect();
    model.apply(&reversed).await.unwrap();
    for index in [3, 0, 5, 1, 4, 2] {
        model.apply(&updates[index..=index]).await.unwrap();
    }
    let again = (
        views.batches(None).await.unwrap(),
        views
            .allocations(&OrderId::parse("o1").unwrap())
            .await
            .unwrap(),
        views.batch_allocations(&reference("b1")).await.unwrap(),
    );
    assert_eq!(again, in_order);

    // Out of order on a fresh read model: the oldest updates arrive last.
    let fresh = TestDb::new().await;
    let late = read_model(&fresh);
    late.apply(&reversed).await.unwrap();
    let views = Views::redis(late);
    assert_eq!(
        (
            views.batches(None).await.unwrap(),
            views
                .allocations(&OrderId::parse("o1").unwrap())
                .await
                .unwrap(),
            views.batch_allocations(&reference("b1")).await.unwrap(),
        ),
        in_order
    );
}

#[tokio::test]
async fn the_relay_takes_out_what_the_commands_applied_without_applying_it_again() {
    let db = TestDb::new().await;
    let services = db.services_in(ReadModelStore::Redis).await;
    run_scenario(&services).await;
    // Each command applied its own updates. The lines' states taken away behind the
    // relay's back show whether it applies them again: each line update sets its own.
    let model = read_model(&db);
    let gone = model.key("lines");
    let mut redis = model.connection();
    let removed: i64 = redis.del(&gone).await.unwrap();
    assert_eq!(removed, 1, "the scenario allocates lines");

    project_pending(&services.store, &model).await.unwrap();
    assert_eq!(db.count("read_model_updates").await, 0);
    let exists: bool = redis.exists(&gone).await.unwrap();
    assert!(!exists, "the relay applied the commands' updates again");
}

/// Services whose read models are in a Redis that does not answer.
async fn services_without_redis(db: &TestDb) -> Services {
    bootstrap(&Config {
        redis_url: Some("redis://127.0.0.1:1".to_owned()),
        ..db.config(ReadModelStore::Redis)
    })
    .await
    .unwrap()
}

#[tokio::test]
async fn commits_redis_missed_are_applied_by_the_relay() {
    let db = TestDb::new().await;
    // Redis is unreachable when the commands commit: they succeed all the same.
    let services = services_without_redis(&db).await;
    run_scenario(&services).await;
    assert!(db.count("read_model_updates").await > 0);
    let views = Views::redis(read_model(&db));
    assert!(views.batches(None).await.unwrap().is_empty());

    // Redis is back: what the outbox kept is applied, and leaves the outbox. The
    // services' own relay, still failing against the dead Redis, may hold some rows
    // for a moment (a claimed row goes to one relay only: PostgreSQL locks it, SQLite's
    // relay lock keeps other relays away): project again until it lets go of them.
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        project_pending(&db.store().await, &read_model(&db))
            .await
            .unwrap();
        if db.count("read_model_updates").await == 0 {
            break;
        }
        assert!(Instant::now() < deadline, "the outbox is never emptied");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }

    let reference = TestDb::new().await;
    let sql = reference.services_in(ReadModelStore::Sql).await;
    run_scenario(&sql).await;
    assert_eq!(snapshot(&views).await, snapshot(&sql.views).await);
}

#[tokio::test]
async fn the_redis_read_models_are_rebuilt_from_the_write_model() {
    let db = TestDb::new().await;
    let services = db.services_in(ReadModelStore::Redis).await;
    run_scenario(&services).await;
    let before = snapshot(&services.views).await;

    // Damage the read models the way a bug would.
    let model = read_model(&db);
    let mut redis = model.connection();
    let _: () = redis.del(model.key("order-lines:o1")).await.unwrap();
    let _: () = redis
        .hset(model.key("batch:soon"), "allocated", 99)
        .await
        .unwrap();
    let _: () = redis
        .zadd(model.key("batch-lines:later"), "stray\u{1f}1", 1)
        .await
        .unwrap();
    assert_ne!(snapshot(&services.views).await, before);

    let (store, _) = open_store(&db.config(ReadModelStore::Redis)).await.unwrap();
    store.rebuild_read_models().await.unwrap();
    assert_eq!(snapshot(&services.views).await, before);

    // Later commands carry on from the rebuilt state.
    services
        .bus
        .handle(allocate("o2", "CHAIR", 1))
        .await
        .unwrap();
    let o2 = services
        .views
        .allocations(&OrderId::parse("o2").unwrap())
        .await
        .unwrap();
    assert_eq!(o2.last().map(|a| a.sku.as_str()), Some("CHAIR"));
}

#[tokio::test]
async fn a_server_whose_read_models_cannot_be_reached_is_not_ready() {
    let db = TestDb::new().await;
    let services = services_without_redis(&db).await;
    let app = App::over(db, services).await;
    let reply = app
        .send(Request::get("/readyz").body(Body::empty()).unwrap())
        .await;
    assert_eq!(reply.status, StatusCode::SERVICE_UNAVAILABLE);
    let json = reply.json();
    assert_eq!(json["database"], "ok");
    assert_ne!(json["read_models"], "ok", "{json}");
}

/// A relay's claim of read-model updates is older than a rebuild's state: a rebuild
/// waits until the relay is done, so that the relay cannot apply those updates after it.
#[tokio::test]
async fn a_rebuild_waits_for_the_read_model_relay() {
    let db = TestDb::new().await;
    // Redis unreachable as the scenario commits: its updates stay in the outbox.
    run_scenario(&services_without_redis(&db).await).await;
    // The services' own relay, failing against the dead Redis, may hold the rows for
    // a moment: claim until they are this relay's.
    let relay = db.store().await;
    let deadline = Instant::now() + Duration::from_secs(5);
    let claimed = loop {
        let claimed = relay.claim_read_model_updates(100).await.unwrap();
        if !claimed.rows.is_empty() {
            break claimed;
        }
        assert!(Instant::now() < deadline, "the updates are never claimed");
        tokio::time::sleep(Duration::from_millis(10)).await;
    };

    let (store, _) = open_store(&db.config(ReadModelStore::Redis)).await.unwrap();
    let rebuild = tokio::spawn(async move { store.rebuild_read_models().await });
    // SQLite: the relay lock; PostgreSQL: the rebuild's table lock waits for the
    // relay's row locks.
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(
        !rebuild.is_finished(),
        "the rebuild went ahead of the relay"
    );
    drop(claimed);
    rebuild.await.unwrap().unwrap();
    assert_eq!(db.count("read_model_updates").await, 0);
}

/// Services dropped stop their relays, which hold the store: before, every services
/// built and dropped kept its database connections open, and a test suite on
/// PostgreSQL was refused clients past the server's hundredth.
#[tokio::test]
async fn dropped_services_let_go_of_the_database() {
    let db = TestDb::new().await;
    let mut config = db.config(ReadModelStore::Redis);
    let name = format!("desk-drop-{}", std::process::id());
    if db.is_postgres() {
        config.database_url = format!("{}&application_name={name}", db.url);
    }
    let services = bootstrap(&config).await.unwrap();
    run_scenario(&services).await;
    let connections = Connections::watch(&db, &name).await;
    assert!(connections.open().await > 0);
    drop(services);
    let deadline = Instant::now() + Duration::from_secs(10);
    while connections.open().await > 0 {
        assert!(Instant::now() < deadline, "connections still open");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// The connections a process has open to the database.
enum Connections {
    /// PostgreSQL: the sessions called by the name, counted through one store of the
    /// test's own, opened once.
    Sessions { store: SqlStore, name: String },
    /// SQLite: this process's descriptors of the database file, its log and its shared
    /// memory, whose paths start with this (a store of the test's own would add its
    /// descriptors).
    Descriptors { file: String },
}

impl Connections {
    async fn watch(db: &TestDb, name: &str) -> Self {
        if db.is_postgres() {
            return Self::Sessions {
                store: db.store().await,
                name: name.to_owned(),
            };
        }
        let file = db
            .url
            .trim_start_matches("sqlite://")
            .trim_end_matches("?mode=rwc");
        Self::Descriptors {
            file: file.to_owned(),
        }
    }

    async fn open(&self) -> usize {
        match self {
            Self::Sessions { store, name } => {
                let sessions: i64 = sqlx::query_scalar(
                    "SELECT count(*) FROM pg_stat_activity WHERE application_name = $1",
                )
                .bind(name)
                .fetch_one(store.pool())
                .await
                .unwrap();
                usize::try_from(sessions).unwrap()
            }
            Self::Descriptors { file } => std::fs::read_dir("/proc/self/fd")
                .unwrap()
                .filter_map(|entry| std::fs::read_link(entry.ok()?.path()).ok())
                .filter(|target| target.to_string_lossy().starts_with(file.as_str()))
                .count(),
        }
    }
}
