//! Shared set-up for the integration tests: a database of each test's own, and the
//! real server binary.
#![allow(dead_code)] // each test crate uses its own subset of these helpers

pub mod http;
pub mod proxy;
pub mod server;
pub mod smtp;

use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, LazyLock};
use std::time::Duration;

use allocation_desk::adapters::sql::SqlStore;
use allocation_desk::bootstrap::{Services, bootstrap};
use allocation_desk::config::{Config, ReadModelStore};
use allocation_desk::domain::commands::{Allocate, ChangeBatchQuantity, CreateBatch};
use allocation_desk::domain::model::OrderLine;
use allocation_desk::domain::staff::{Actor, Role};
use allocation_desk::domain::values::{BatchRef, OrderId, Quantity, Sku, parse_date};
use allocation_desk::service_layer::messagebus::MessageBus;
use allocation_desk::service_layer::staff::Staff;
use axum::Router;
use leptos::config::LeptosOptions;
use leptos_axum::AxumRouteListing;
use sqlx::{AnyConnection, Connection, Executor};
use tempfile::TempDir;

/// The value of the series `name` (labels included) in a `/metrics` answer.
pub fn metric(metrics: &str, name: &str) -> f64 {
    metrics
        .lines()
        .find_map(|line| line.strip_prefix(name)?.strip_prefix(' '))
        .unwrap_or_else(|| panic!("no {name} in\n{metrics}"))
        .parse()
        .unwrap()
}

/// Found once for the whole test process: see `entrypoints::page_routes`.
static PAGE_ROUTES: LazyLock<Vec<AxumRouteListing>> =
    LazyLock::new(allocation_desk::entrypoints::page_routes);

/// Set to a PostgreSQL URL, the tests run there instead of on SQLite files.
pub const POSTGRES_VARIABLE: &str = "TEST_POSTGRES_URL";

/// Schema names of this test process start with it; `scripts/test.sh` drops them all.
pub const SCHEMA_PREFIX: &str = "alloc_test_";

/// Set to `redis`, the services of [`TestDb::services`] keep their read models in Redis.
pub const READ_MODEL_VARIABLE: &str = "TEST_READ_MODEL";

/// The Redis every test uses, each under keys of its own.
pub const REDIS_URL: &str = "redis://127.0.0.1:6379";

/// Redis key prefixes of the tests start with it; `scripts/test.sh` deletes them all.
pub const REDIS_PREFIX: &str = "alloc-test";

/// The password of every account the tests make.
pub const PASSWORD: &str = "correct horse battery";

static DATABASES: AtomicU32 = AtomicU32::new(0);

/// A name no other test of any run in progress uses.
fn unique(prefix: &str) -> String {
    format!(
        "{prefix}{}_{}",
        std::process::id(),
        DATABASES.fetch_add(1, Ordering::Relaxed)
    )
}

/// A database of the test's own: an SQLite file in a temporary folder (deleted with
/// it), or, when `TEST_POSTGRES_URL` is set, a schema of its own on that server.
pub struct TestDb {
    pub url: String,
    /// Where the test's read models go in Redis, when they go there.
    pub redis_prefix: String,
    _dir: Option<TempDir>,
}

impl TestDb {
    pub async fn new() -> Self {
        match std::env::var(POSTGRES_VARIABLE) {
            Ok(server) => Self::on_postgres(&server).await,
            Err(_) => {
                let dir = tempfile::tempdir().unwrap();
                let url = format!("sqlite://{}?mode=rwc", dir.path().join("test.db").display());
                Self {
                    url,
                    redis_prefix: unique(&format!("{REDIS_PREFIX}-")),
                    _dir: Some(dir),
                }
            }
        }
    }

    async fn on_postgres(server: &str) -> Self {
        let schema = unique(SCHEMA_PREFIX);
        sqlx::any::install_default_drivers();
        let mut connection = AnyConnection::connect(server).await.unwrap();
        connection
            .execute(format!("CREATE SCHEMA {schema}").as_str())
            .await
            .unwrap();
        let separator = if server.contains('?') { '&' } else { '?' };
        Self {
            url: format!("{server}{separator}options[search_path]={schema}"),
            redis_prefix: format!("{REDIS_PREFIX}-{schema}"),
            _dir: None,
        }
    }

    /// How many rows `table` holds.
    pub async fn count(&self, table: &str) -> i64 {
        let store = self.store().await;
        sqlx::query_scalar(&format!("SELECT count(*) FROM {table}"))
            .fetch_one(store.pool())
            .await
            .unwrap()
    }

    pub fn is_postgres(&self) -> bool {
        self.url.starts_with("postgres")
    }

    pub async fn store(&self) -> SqlStore {
        SqlStore::connect(&self.url).await.unwrap()
    }

    /// The services over this database, with the read models where
    /// `TEST_READ_MODEL` puts them: in SQL, or with `redis` in Redis.
    pub async fn services(&self) -> Services {
        if read_models_in_redis() {
            self.services_in(ReadModelStore::Redis).await
        } else {
            self.services_in(ReadModelStore::Sql).await
        }
    }

    /// The services over this database, with the read models in `read_model`.
    pub async fn services_in(&self, read_model: ReadModelStore) -> Services {
        bootstrap(&self.config(read_model)).await.unwrap()
    }

    /// The configuration of a server on this database: Redis only for the read models.
    pub fn config(&self, read_model: ReadModelStore) -> Config {
        Config {
            database_url: self.url.clone(),
            redis_url: (read_model == ReadModelStore::Redis).then(|| REDIS_URL.to_owned()),
            smtp_url: None,
            read_model,
            redis_prefix: self.redis_prefix.clone(),
            ..Config::from_env().unwrap()
        }
    }

    /// The server's whole router over this database.
    pub async fn router(&self) -> Router {
        router_over(self.services().await)
    }

    /// Adds an account with `role` (password `password`), and answers a session
    /// token of theirs.
    pub async fn signed_in(&self, username: &str, role: Role) -> String {
        let staff = Staff::new(Arc::new(self.store().await), Duration::from_secs(3600));
        staff
            .create_account(&Actor::system(), username, PASSWORD, role)
            .await
            .unwrap();
        staff.sign_in(username, PASSWORD).await.unwrap().0
    }

    pub async fn bus(&self) -> MessageBus {
        MessageBus::new(Arc::new(self.store().await))
    }
}

/// The server's whole router over `services`.
pub fn router_over(services: Services) -> Router {
    let options = LeptosOptions::builder()
        .output_name("allocation-desk")
        .build();
    allocation_desk::entrypoints::router(services, options, PAGE_ROUTES.clone())
}

/// Whether `TEST_READ_MODEL` puts the services' read models in Redis.
pub fn read_models_in_redis() -> bool {
    std::env::var(READ_MODEL_VARIABLE).is_ok_and(|store| store == "redis")
}

pub fn sku(raw: &str) -> Sku {
    Sku::parse(raw).unwrap()
}

pub fn reference(raw: &str) -> BatchRef {
    BatchRef::parse(raw).unwrap()
}

pub fn qty(units: i64) -> Quantity {
    Quantity::new(units).unwrap()
}

pub fn line(orderid: &str, sku_: &str, units: i64) -> OrderLine {
    OrderLine {
        orderid: OrderId::parse(orderid).unwrap(),
        sku: sku(sku_),
        qty: qty(units),
    }
}

pub fn create_batch(reference_: &str, sku_: &str, units: i64, eta: Option<&str>) -> CreateBatch {
    CreateBatch {
        reference: reference(reference_),
        sku: sku(sku_),
        qty: qty(units),
        eta: eta.map(|d| parse_date(d).unwrap()),
    }
}

pub fn allocate(orderid: &str, sku_: &str, units: i64) -> Allocate {
    Allocate {
        line: line(orderid, sku_, units),
    }
}

pub fn change_quantity(reference_: &str, units: i64) -> ChangeBatchQuantity {
    ChangeBatchQuantity {
        reference: reference(reference_),
        qty: qty(units),
    }
}
