//! How fast the reports are on a large warehouse: 1,000 SKUs, 20,000 batches and
//! 200,000 allocated lines, on a fresh SQLite file (or the PostgreSQL database at
//! `BENCH_POSTGRES_URL`, in a schema of its own), with 10,000 out-of-stock notices.
//!
//! `cargo bench --features ssr --bench reports`. The data set is written straight into
//! the write model, then the read models are built by `rebuild_read_models`, as an
//! operator would after an import. Prints the time of each step and of each report
//! (first page, and the full CSV), and the process's peak memory.

use std::time::{Duration, Instant};

use allocation_desk::adapters::sql::SqlStore;
use allocation_desk::views::reports::{ReportKind, ReportQuery, Reports};
use futures_util::StreamExt;
use sqlx::{AnyPool, Executor};

const SKUS: usize = 1_000;
const BATCHES_PER_SKU: usize = 20;
const LINES_PER_BATCH: usize = 10;
/// Times each report is made; the median and the slowest are shown.
const RUNS: usize = 9;
/// Rows per multi-row `INSERT`.
const CHUNK: usize = 500;

#[tokio::main(flavor = "multi_thread")]
async fn main() {
    let (url, _dir) = database().await;
    let store = SqlStore::connect(&url).await.expect("open the database");
    let pool = store.pool().clone();

    let started = Instant::now();
    seed(&pool, url.starts_with("postgres")).await;
    println!(
        "seeded the write model: {:.1} s",
        started.elapsed().as_secs_f64()
    );
    let started = Instant::now();
    store.rebuild_read_models().await.expect("rebuild");
    println!(
        "rebuilt the read models: {:.1} s",
        started.elapsed().as_secs_f64()
    );

    let reports = Reports::new(pool);
    let today = chrono::NaiveDate::from_ymd_opt(2031, 1, 1).unwrap();
    println!("\n| report | first page: median | slowest | full CSV: median | slowest | CSV rows |");
    println!("| --- | ---: | ---: | ---: | ---: | ---: |");
    for kind in ReportKind::ALL {
        let query = ReportQuery::new(kind);
        let pages = measure(|| async {
            let page = reports
                .page(kind, query.clone(), today)
                .await
                .expect("page");
            assert!(!page.rows.is_empty());
        })
        .await;
        let csv = measure(|| async {
            let mut chunks = std::pin::pin!(reports.csv(kind, query.clone(), today));
            let mut lines = 0;
            while let Some(chunk) = chunks.next().await {
                lines += chunk.expect("csv").iter().filter(|b| **b == b'\n').count();
            }
            lines
        })
        .await;
        println!(
            "| {} | {} | {} | {} | {} | {} |",
            kind.title(),
            ms(pages.0),
            ms(pages.1),
            ms(csv.0),
            ms(csv.1),
            csv.2.saturating_sub(1)
        );
    }
    println!("\npeak memory (VmHWM): {}", peak_memory());
}

/// The median and the slowest of [`RUNS`] runs of `run`, and what the last one gave.
async fn measure<F, Fut, T>(mut run: F) -> (Duration, Duration, T)
where
    F: FnMut() -> Fut,
    Fut: Future<Output = T>,
{
    let mut times = Vec::with_capacity(RUNS);
    let mut last = None;
    for _ in 0..RUNS {
        let started = Instant::now();
        last = Some(run().await);
        times.push(started.elapsed());
    }
    times.sort();
    let last = last.expect("RUNS is not 0");
    (times[RUNS / 2], times[RUNS - 1], last)
}

fn ms(duration: Duration) -> String {
    format!("{:.1} ms", duration.as_secs_f64() * 1000.0)
}

fn peak_memory() -> String {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|status| {
            status
                .lines()
                .find(|line| line.starts_with("VmHWM:"))
                .map(|line| line["VmHWM:".len()..].trim().to_owned())
        })
        .unwrap_or_else(|| "unknown".to_owned())
}

/// The database to fill: a temporary SQLite file, or a fresh schema on PostgreSQL.
async fn database() -> (String, Option<tempfile::TempDir>) {
    sqlx::any::install_default_drivers();
    match std::env::var("BENCH_POSTGRES_URL") {
        Ok(server) => {
            let schema = format!("bench_reports_{}", std::process::id());
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

async fn seed(pool: &AnyPool, postgres: bool) {
    let products: Vec<String> = (0..SKUS).map(|s| format!("('SKU-{s:04}', 1)")).collect();
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
            batches.push(format!("({id}, 'batch-{id:05}', 'SKU-{s:04}', 60, {eta})"));
            for l in 0..LINES_PER_BATCH {
                let n = (id - 1) * LINES_PER_BATCH + l;
                let when = chrono::DateTime::from_timestamp(1_900_000_000 + (n as i64) * 37, 0)
                    .unwrap()
                    .to_rfc3339_opts(chrono::SecondsFormat::Millis, true);
                lines.push(format!(
                    "({id}, 'order-{n:06}', 'SKU-{s:04}', {}, '{when}')",
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
            format!("('SKU-{s:04}', 'late-{n:06}', {}, '{when}')", 1 + n % 5)
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
}
