//! The large warehouse both benchmarks run on: 1,000 SKUs, 20,000 batches (half in the
//! warehouse, half arriving over a year), 200,000 allocated lines and 10,000 out-of-stock
//! notices, written straight into the write model (then `rebuild_read_models`).
#![allow(dead_code)] // each benchmark uses its own subset

use sqlx::{AnyPool, Executor};

pub const SKUS: usize = 1_000;
pub const BATCHES_PER_SKU: usize = 20;
pub const LINES_PER_BATCH: usize = 10;
/// Rows per multi-row `INSERT`.
const CHUNK: usize = 500;

/// The allocated lines' order ids: `order-000000` to `order-199999`.
pub fn order_id(n: usize) -> String {
    format!("order-{n:06}")
}

pub fn sku(n: usize) -> String {
    format!("SKU-{n:04}")
}

/// The database to fill: a temporary SQLite file, or a fresh schema on PostgreSQL.
pub async fn database() -> (String, Option<tempfile::TempDir>) {
    sqlx::any::install_default_drivers();
    match std::env::var("BENCH_POSTGRES_URL") {
        Ok(server) => {
            let schema = format!("bench_{}", std::process::id());
            let pool = AnyPool::connect(&server).await.expect("PostgreSQL");
            pool.execute(format!("CREATE SCHEMA {schema}").as_str())
                .await
                .expect("create the schema");
            let separator = if server.contains('?') { '&' } else { '?' };
            (
                format!("{server}{separator}options[search_path]={schema}"),
                None,
            )
        }
        Err(_) => {
            let dir = tempfile::tempdir().expect("a temporary folder");
            let url = format!(
                "sqlite://{}?mode=rwc",
                dir.path().join("bench.db").display()
            );
            (url, Some(dir))
        }
    }
}

/// Writes `rows` (each a parenthesised tuple of literals) into `table` in chunks;
/// `values` is `VALUES`, or on PostgreSQL what lets explicit ids in.
async fn insert(pool: &AnyPool, table: &str, columns: &str, values: &str, rows: &[String]) {
    let mut transaction = pool.begin().await.expect("begin");
    for chunk in rows.chunks(CHUNK) {
        let sql = format!(
            "INSERT INTO {table} ({columns}) {values} {}",
            chunk.join(",")
        );
        transaction.execute(sql.as_str()).await.expect("insert");
    }
    transaction.commit().await.expect("commit");
}

pub async fn seed(pool: &AnyPool, postgres: bool) {
    let products: Vec<String> = (0..SKUS).map(|s| format!("('{}', 1)", sku(s))).collect();
    insert(pool, "products", "sku, version_number", "VALUES", &products).await;

    let mut batches = Vec::new();
    let mut lines = Vec::new();
    for s in 0..SKUS {
        for b in 0..BATCHES_PER_SKU {
            let id = s * BATCHES_PER_SKU + b + 1;
            // Half in the warehouse, half arriving over the next year.
            let eta = if b % 2 == 0 {
                "NULL".to_owned()
            } else {
                let day = chrono::NaiveDate::from_ymd_opt(2031, 1, 1).unwrap()
                    + chrono::Duration::days(((id * 7) % 365) as i64);
                format!("'{day}'")
            };
            batches.push(format!("({id}, 'batch-{id:05}', '{}', 60, {eta})", sku(s)));
            for l in 0..LINES_PER_BATCH {
                let n = (id - 1) * LINES_PER_BATCH + l;
                let when = chrono::DateTime::from_timestamp(1_900_000_000 + (n as i64) * 37, 0)
                    .unwrap()
                    .to_rfc3339_opts(chrono::SecondsFormat::Millis, true);
                lines.push(format!(
                    "({id}, '{}', '{}', {}, '{when}')",
                    order_id(n),
                    sku(s),
                    1 + n % 5
                ));
            }
        }
    }
    insert(
        pool,
        "batches",
        "id, reference, sku, purchased_quantity, eta",
        if postgres {
            "OVERRIDING SYSTEM VALUE VALUES"
        } else {
            "VALUES"
        },
        &batches,
    )
    .await;
    // One line in twenty ran out of stock once.
    let notices: Vec<String> = (0..lines.len() / 20)
        .map(|n| {
            let when = chrono::DateTime::from_timestamp(1_900_000_000 + (n as i64) * 740, 0)
                .unwrap()
                .to_rfc3339_opts(chrono::SecondsFormat::Millis, true);
            let s = n % SKUS;
            format!("('{}', 'late-{n:06}', {}, '{when}')", sku(s), 1 + n % 5)
        })
        .collect();
    insert(
        pool,
        "out_of_stock_notices",
        "sku, orderid, qty, noticed_at",
        "VALUES",
        &notices,
    )
    .await;
    insert(
        pool,
        "allocations",
        "batch_id, orderid, sku, qty, allocated_at",
        "VALUES",
        &lines,
    )
    .await;
    if postgres {
        // Statistics, as autovacuum would gather them on a database in service: without
        // them the planner takes the bulk-loaded tables for empty.
        pool.execute("ANALYZE").await.expect("analyze");
    }
}
