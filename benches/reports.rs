//! How fast the reports are on a large warehouse: 1,000 SKUs, 20,000 batches and
//! 200,000 allocated lines, on a fresh SQLite file (or the PostgreSQL database at
//! `BENCH_POSTGRES_URL`, in a schema of its own), with 10,000 out-of-stock notices.
//!
//! `cargo bench --features ssr --bench reports`. The data set is written straight into
//! the write model, then the read models are built by `rebuild_read_models`, as an
//! operator would after an import. Prints the time of each step and of each report
//! (first page, and the full CSV), and the process's peak memory.

#[path = "support/warehouse.rs"]
mod warehouse;

use std::time::{Duration, Instant};

use allocation_desk::adapters::sql::SqlStore;
use allocation_desk::views::reports::{ReportKind, ReportQuery, Reports};
use futures_util::StreamExt;
use warehouse::{database, seed};

/// Times each report is made; the median and the slowest are shown.
const RUNS: usize = 9;

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

    // As the server makes them: on the read side's connections.
    let reports = Reports::new(store.read_pool().clone());
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
