//! Shared set-up for the integration tests: a database of each test's own, and the
//! real server binary.
#![allow(dead_code)] // each test crate uses its own subset of these helpers

pub mod http;
pub mod server;
pub mod smtp;

use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, LazyLock};

use allocation_desk::adapters::sql::SqlStore;
use allocation_desk::bootstrap::{Services, bootstrap};
use allocation_desk::config::Config;
use allocation_desk::domain::commands::{Allocate, ChangeBatchQuantity, CreateBatch};
use allocation_desk::domain::model::OrderLine;
use allocation_desk::domain::values::{BatchRef, OrderId, Quantity, Sku, parse_date};
use allocation_desk::service_layer::messagebus::MessageBus;
use axum::Router;
use leptos::config::LeptosOptions;
use leptos_axum::AxumRouteListing;
use sqlx::{AnyConnection, Connection, Executor};
use tempfile::TempDir;

/// Found once for the whole test process: see `entrypoints::page_routes`.
static PAGE_ROUTES: LazyLock<Vec<AxumRouteListing>> =
    LazyLock::new(allocation_desk::entrypoints::page_routes);

/// Set to a PostgreSQL URL, the tests run there instead of on SQLite files.
pub const POSTGRES_VARIABLE: &str = "TEST_POSTGRES_URL";

/// Schema names of this test process start with it; `scripts/test.sh` drops them all.
pub const SCHEMA_PREFIX: &str = "alloc_test_";

static SCHEMAS: AtomicU32 = AtomicU32::new(0);

/// A database of the test's own: an SQLite file in a temporary folder (deleted with
/// it), or, when `TEST_POSTGRES_URL` is set, a schema of its own on that server.
pub struct TestDb {
    pub url: String,
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
                    _dir: Some(dir),
                }
            }
        }
    }

    async fn on_postgres(server: &str) -> Self {
        let schema = format!(
            "{SCHEMA_PREFIX}{}_{}",
            std::process::id(),
            SCHEMAS.fetch_add(1, Ordering::Relaxed)
        );
        sqlx::any::install_default_drivers();
        let mut connection = AnyConnection::connect(server).await.unwrap();
        connection
            .execute(format!("CREATE SCHEMA {schema}").as_str())
            .await
            .unwrap();
        let separator = if server.contains('?') { '&' } else { '?' };
        Self {
            url: format!("{server}{separator}options[search_path]={schema}"),
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

    pub async fn services(&self) -> Services {
        bootstrap(&Config {
            database_url: self.url.clone(),
            redis_url: None,
            smtp_url: None,
            ..Config::from_env()
        })
        .await
        .unwrap()
    }

    /// The server's whole router over this database.
    pub async fn router(&self) -> Router {
        let options = LeptosOptions::builder()
            .output_name("allocation-desk")
            .build();
        allocation_desk::entrypoints::router(self.services().await, options, PAGE_ROUTES.clone())
    }

    pub async fn bus(&self) -> MessageBus {
        MessageBus::new(Arc::new(self.store().await))
    }
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
