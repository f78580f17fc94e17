//! Load on the real server over loopback, beside the ceilings of the same machine in the
//! same run: the server's trivial `/healthz` (the HTTP stack) and the allocation's
//! database transaction run directly, without the server, the way the server's writes
//! reach the database (the database).
//!
//! `cargo bench --features ssr --bench load`. Seeds the large warehouse (see
//! `support/warehouse.rs`), starts the release server on it, and for 8 and 64
//! connections measures for `SECONDS` each: `/healthz`, reads (`GET /allocations/{id}`),
//! writes (`POST /allocate`, distinct orders), a 90/10 mix, and an SSR page
//! (`/orders/{id}`): requests per second, p50 and p99 latency, errors, and the server's
//! peak memory. `BENCH_POSTGRES_URL` runs it on PostgreSQL; `BENCH_READ_MODEL=redis`
//! (with Redis on 127.0.0.1:6379) serves the reads from Redis.
//!
//! For profiling: `BENCH_ONLY=reads` (or `writes`, `mix`, `page`) measures that load
//! alone beside the ceilings, `BENCH_SECONDS=30` runs each measurement longer, and the
//! server's process id is printed to stderr for `perf record -p`.

#[path = "support/cpu.rs"]
mod cpu;
#[path = "support/warehouse.rs"]
mod warehouse;

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::str::FromStr;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use allocation_desk::adapters::sql::SqlStore;
use allocation_desk::bootstrap::open_store;
use allocation_desk::config::{Config, ReadModelStore};
use allocation_desk::domain::staff::{Actor, Role};
use allocation_desk::entrypoints::LISTENING_ON;
use allocation_desk::service_layer::staff::Staff;
use sqlx::sqlite::SqliteConnectOptions;
use sqlx::{AnyPool, Row};
use tokio::sync::Mutex;
use warehouse::{LINES_PER_BATCH, SKUS, database, order_id, seed, sku};

/// How long each measurement runs, unless `BENCH_SECONDS` says otherwise.
const SECONDS: u64 = 5;
const CONNECTIONS: [usize; 2] = [8, 64];
const LINES: usize = SKUS * warehouse::BATCHES_PER_SKU * LINES_PER_BATCH;
const REDIS_URL: &str = "redis://127.0.0.1:6379";

#[derive(Clone, Copy, PartialEq, Eq)]
enum Load {
    Health,
    Reads,
    Writes,
    Mix,
    Page,
}

impl Load {
    const MEASURED: [Self; 4] = [Self::Reads, Self::Writes, Self::Mix, Self::Page];

    /// The loads to measure: all of them, or the one `BENCH_ONLY` names.
    fn measured() -> Vec<Self> {
        let only = std::env::var("BENCH_ONLY").ok();
        let loads: Vec<_> = Self::MEASURED
            .into_iter()
            .filter(|load| only.as_deref().is_none_or(|only| only == load.key()))
            .collect();
        assert!(
            !loads.is_empty(),
            "BENCH_ONLY must be reads, writes, mix or page"
        );
        loads
    }

    fn key(self) -> &'static str {
        match self {
            Self::Health => "health",
            Self::Reads => "reads",
            Self::Writes => "writes",
            Self::Mix => "mix",
            Self::Page => "page",
        }
    }

    fn name(self) -> &'static str {
        match self {
            Self::Health => "`GET /healthz` (ceiling: HTTP)",
            Self::Reads => "reads `GET /allocations/{id}`",
            Self::Writes => "writes `POST /allocate`",
            Self::Mix => "90% reads, 10% writes",
            Self::Page => "SSR page `/orders/{id}`",
        }
    }
}

/// What one measurement gave.
struct Figures {
    per_second: f64,
    p50: Duration,
    p99: Duration,
    errors: u64,
    /// What went wrong first, if anything did: the figures alone cannot tell a full
    /// queue from a bad request.
    first_error: Option<String>,
    cpu: cpu::Usage,
}

/// When and how a measurement started: its clock, the CPU times then, and whose
/// (the server's process id).
struct Started {
    at: Instant,
    cpu: cpu::Sample,
    server: u32,
}

impl Started {
    fn now(server: u32) -> Self {
        Self {
            at: Instant::now(),
            cpu: cpu::Sample::take(server),
            server,
        }
    }
}

/// What a worker measured: the latency of each request answered, and the errors.
#[derive(Default)]
struct Measured {
    latencies: Vec<Duration>,
    errors: u64,
    first_error: Option<String>,
}

impl Measured {
    fn answered(&mut self, sent: Instant) {
        self.latencies.push(sent.elapsed());
    }

    /// Counts an error; `what` describes it, and is asked for only the first time.
    fn failed(&mut self, what: impl FnOnce() -> String) {
        self.errors += 1;
        self.first_error.get_or_insert_with(what);
    }
}

impl Figures {
    /// The workers' measurements together, over the time since `started`.
    async fn gather(workers: Vec<tokio::task::JoinHandle<Measured>>, started: Started) -> Self {
        let mut all = Measured::default();
        for worker in workers {
            let measured = worker.await.expect("worker");
            all.latencies.extend(measured.latencies);
            all.errors += measured.errors;
            all.first_error = all.first_error.or(measured.first_error);
        }
        let Measured {
            mut latencies,
            errors,
            first_error,
        } = all;
        let elapsed = started.at.elapsed();
        let cpu = cpu::Sample::take(started.server).since(&started.cpu, latencies.len());
        latencies.sort();
        let at = |share: f64| {
            latencies
                .get(((latencies.len() as f64 * share) as usize).min(latencies.len() - 1))
                .copied()
                .unwrap_or_default()
        };
        Self {
            per_second: latencies.len() as f64 / elapsed.as_secs_f64(),
            p50: at(0.50),
            p99: at(0.99),
            errors,
            first_error,
            cpu,
        }
    }
}

/// A simple random source: enough to spread requests over orders and SKUs.
struct Spread(u64);

impl Spread {
    fn below(&mut self, bound: usize) -> usize {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        (self.0 % bound as u64) as usize
    }
}

/// Each run keeps its read models in Redis under a prefix of its own.
const REDIS_PREFIX: &str = "bench-";

/// Deletes the read models that runs no longer running left in Redis: they piled up,
/// run after run, until Redis took longer than its timeout over a rebuild. A run in
/// progress, its process still there, keeps its own.
async fn forget_finished_runs() {
    let client = redis::Client::open(REDIS_URL).expect("a Redis URL");
    let mut connection = client
        .get_multiplexed_async_connection()
        .await
        .unwrap_or_else(|error| panic!("Redis at {REDIS_URL}: {error}"));
    let mut cursor = 0_u64;
    loop {
        let (next, keys): (u64, Vec<String>) = redis::cmd("SCAN")
            .arg(cursor)
            .arg("MATCH")
            .arg(format!("{REDIS_PREFIX}*"))
            .arg("COUNT")
            .arg(1000)
            .query_async(&mut connection)
            .await
            .expect("the keys of earlier runs");
        let keys: Vec<_> = keys.into_iter().filter(|key| !of_a_live_run(key)).collect();
        if !keys.is_empty() {
            redis::cmd("UNLINK")
                .arg(&keys)
                .query_async::<()>(&mut connection)
                .await
                .expect("the keys of earlier runs deleted");
        }
        if next == 0 {
            return;
        }
        cursor = next;
    }
}

/// Whether the key's run (its process id follows the prefix) still runs.
fn of_a_live_run(key: &str) -> bool {
    let pid: String = key[REDIS_PREFIX.len()..]
        .chars()
        .take_while(char::is_ascii_digit)
        .collect();
    !pid.is_empty() && std::path::Path::new("/proc").join(pid).exists()
}

#[tokio::main(flavor = "multi_thread")]
async fn main() {
    // Settings first: a bad one fails before the long seed.
    let loads = Load::measured();
    measuring_time();
    let (url, _dir) = database().await;
    let in_redis = std::env::var("BENCH_READ_MODEL").is_ok_and(|store| store == "redis");
    if in_redis {
        forget_finished_runs().await;
    }
    let prefix = format!("{REDIS_PREFIX}{}", std::process::id());
    let config = Config {
        database_url: url.clone(),
        redis_url: in_redis.then(|| REDIS_URL.to_owned()),
        read_model: if in_redis {
            ReadModelStore::Redis
        } else {
            ReadModelStore::Sql
        },
        redis_prefix: prefix.clone(),
        ..Config::from_env().expect("settings")
    };
    let (store, _) = open_store(&config).await.expect("open the database");
    seed(store.pool(), url.starts_with("postgres")).await;
    store.rebuild_read_models().await.expect("rebuild");
    // Every request carries a clerk's API token, as the shop's would: the pages accept
    // it too, and each request pays for looking it up.
    let token = Staff::new(Arc::new(store.clone()), Duration::from_secs(3600))
        .create_token(&Actor::system(), "load", Role::Clerk)
        .await
        .expect("an API token");
    let backend = match (url.starts_with("postgres"), in_redis) {
        (false, false) => "SQLite",
        (true, false) => "PostgreSQL",
        (false, true) => "SQLite, read models in Redis",
        (true, true) => "PostgreSQL, read models in Redis",
    };

    let direct = Direct::open(&url, store.pool());
    // On SQLite the store's checkpoint thread would go on copying the log beside the
    // server's own, on the same two cores: 7% of a core during the server's writes.
    drop(store);
    let mut server = Server::start(&config);
    let base = server.base.clone();
    let peak = Arc::new(PeakMemory::default());
    let watching = Arc::new(AtomicBool::new(true));
    let watcher = tokio::spawn(watch_memory(
        server.child.id(),
        Arc::clone(&peak),
        Arc::clone(&watching),
    ));

    println!("## {backend}\n");
    println!(
        "| load | connections | requests/s | p50 | p99 | errors | ratio \
         | CPU per request (µs) | cores busy |"
    );
    println!("| --- | ---: | ---: | ---: | ---: | ---: | --- | --- | --- |");
    let server_pid = server.child.id();
    eprintln!("server process: {server_pid}");
    let mut order = 0;
    for connections in CONNECTIONS {
        let health = run(
            &base,
            &token,
            Load::Health,
            connections,
            &mut order,
            server_pid,
        )
        .await;
        print_row(Load::Health, connections, &health, String::new());
        let raw = raw_transactions(&direct, connections, server_pid).await;
        print_row_named(
            "allocation transaction, direct (ceiling: database)",
            connections,
            &raw,
            String::new(),
        );
        for &load in &loads {
            let commits_before = Commits::read(&base).await;
            let figures = run(&base, &token, load, connections, &mut order, server_pid).await;
            let mut ratio = match load {
                Load::Writes => format!(
                    "{:.0}% of the direct transaction",
                    100.0 * figures.per_second / raw.per_second
                ),
                _ => format!(
                    "{:.0}% of `/healthz`",
                    100.0 * figures.per_second / health.per_second
                ),
            };
            if let Some(writer) = Commits::read(&base).await.since(commits_before) {
                ratio.push_str(&format!(
                    "; {:.1} writes per commit, writer busy {:.0}% ({:.0}% checkpoints)",
                    writer.units_per_commit,
                    100.0 * writer.busy,
                    100.0 * writer.checkpoints,
                ));
            }
            print_row(load, connections, &figures, ratio);
        }
    }
    watching.store(false, Ordering::Relaxed);
    watcher.await.expect("memory watcher");
    println!(
        "\nServer memory, sampled every 100 ms through the run: {} MB of its own \
         (anonymous) at most; {} MB proportional (each page once) at most; {} MB \
         resident at most.",
        peak.own.load(Ordering::Relaxed) / 1024,
        peak.proportional.load(Ordering::Relaxed) / 1024,
        peak.resident.load(Ordering::Relaxed) / 1024
    );
    server.stop();
}

/// The server's SQLite commits so far, the units of work they wrote and the time its
/// writer was held, in all and by checkpoints, from its `/metrics`: how large its
/// groups are, and how busy.
#[derive(Clone, Copy)]
struct Commits {
    commits: f64,
    units: f64,
    busy_seconds: f64,
    checkpoint_seconds: f64,
    at: Instant,
}

/// How SQLite's writer was used over a load.
struct WriterUse {
    units_per_commit: f64,
    /// Shares of the wall clock the writer was held: in all, and by checkpoints.
    busy: f64,
    checkpoints: f64,
}

impl Commits {
    async fn read(base: &str) -> Self {
        let metrics = reqwest::get(format!("{base}/metrics"))
            .await
            .and_then(reqwest::Response::error_for_status)
            .expect("the server's metrics")
            .text()
            .await
            .expect("the server's metrics");
        let series = |name: &str| -> f64 {
            metrics
                .lines()
                .find_map(|line| line.strip_prefix(name)?.strip_prefix(' ')?.parse().ok())
                .unwrap_or_else(|| panic!("no {name} in the server's metrics"))
        };
        Self {
            commits: series("desk_sqlite_commit_units_count"),
            units: series("desk_sqlite_commit_units_sum"),
            busy_seconds: series("desk_sqlite_writer_busy_seconds_total"),
            checkpoint_seconds: series("desk_sqlite_checkpoint_turn_seconds_total"),
            at: Instant::now(),
        }
    }

    /// How the writer was used since `before`, if anything was committed (on
    /// PostgreSQL, nothing is).
    fn since(self, before: Self) -> Option<WriterUse> {
        let commits = self.commits - before.commits;
        let elapsed = self.at.duration_since(before.at).as_secs_f64();
        (commits > 0.0).then(|| WriterUse {
            units_per_commit: (self.units - before.units) / commits,
            busy: (self.busy_seconds - before.busy_seconds) / elapsed,
            checkpoints: (self.checkpoint_seconds - before.checkpoint_seconds) / elapsed,
        })
    }
}

/// [`SECONDS`], or `BENCH_SECONDS`.
fn measuring_time() -> Duration {
    *MEASURING_TIME
}

static MEASURING_TIME: std::sync::LazyLock<Duration> = std::sync::LazyLock::new(|| {
    let seconds = std::env::var("BENCH_SECONDS")
        .ok()
        .map(|seconds| seconds.parse().expect("BENCH_SECONDS is a whole number"))
        .unwrap_or(SECONDS);
    Duration::from_secs(seconds)
});

fn print_row(load: Load, connections: usize, figures: &Figures, ratio: String) {
    print_row_named(load.name(), connections, figures, ratio);
}

fn print_row_named(name: &str, connections: usize, figures: &Figures, ratio: String) {
    println!(
        "| {name} | {connections} | {:.0} | {:.2} ms | {:.2} ms | {} | {ratio} | {} | {} |",
        figures.per_second,
        figures.p50.as_secs_f64() * 1e3,
        figures.p99.as_secs_f64() * 1e3,
        figures.errors,
        figures.cpu.per_request(),
        figures.cpu.cores(),
    );
    // To stderr, as the server's process id: the table on stdout stays a table.
    if let Some(error) = &figures.first_error {
        eprintln!("{name}, {connections} connections, first error: {error}");
    }
}

/// `connections` clients, each sending one request after another for [`measuring_time`].
async fn run(
    base: &str,
    token: &str,
    load: Load,
    connections: usize,
    order: &mut usize,
    server: u32,
) -> Figures {
    // Distinct order ids for the writes of this run.
    *order += 1;
    let run_id = *order;
    let mut headers = reqwest::header::HeaderMap::new();
    let bearer = format!("Bearer {token}").parse().expect("a header value");
    headers.insert(reqwest::header::AUTHORIZATION, bearer);
    let client = reqwest::Client::builder()
        .default_headers(headers)
        .pool_max_idle_per_host(connections)
        .build()
        .expect("HTTP client");
    let started = Started::now(server);
    let deadline = started.at + measuring_time();
    let workers: Vec<_> = (0..connections)
        .map(|worker| {
            let (client, base) = (client.clone(), base.to_owned());
            tokio::spawn(async move {
                let mut spread = Spread(0x9E37_79B9_7F4A_7C15 ^ ((worker as u64 + 1) * 7919));
                let mut measured = Measured::default();
                let mut n = 0;
                while Instant::now() < deadline {
                    n += 1;
                    let write = match load {
                        Load::Writes => true,
                        Load::Mix => spread.below(10) == 0,
                        _ => false,
                    };
                    let request = if write {
                        let body = serde_json::json!({
                            "orderid": format!("load-{run_id}-{worker}-{n}"),
                            "sku": sku(spread.below(SKUS)),
                            "qty": 1,
                        });
                        client.post(format!("{base}/allocate")).json(&body)
                    } else {
                        let path = match load {
                            Load::Health => "/healthz".to_owned(),
                            Load::Page => format!("/orders/{}", order_id(spread.below(LINES))),
                            _ => format!("/allocations/{}", order_id(spread.below(LINES))),
                        };
                        client.get(format!("{base}{path}"))
                    };
                    let sent = Instant::now();
                    match request.send().await {
                        Ok(response) if response.status().is_success() => {
                            let _ = response.bytes().await;
                            measured.answered(sent);
                        }
                        Ok(response) => {
                            let status = response.status();
                            let body = response.text().await.unwrap_or_default();
                            measured.failed(|| format!("{status}: {body}"));
                        }
                        Err(error) => measured.failed(|| error.to_string()),
                    }
                }
                measured
            })
        })
        .collect();
    Figures::gather(workers, started).await
}

/// Where the direct transaction runs: the way the server's units of work write.
#[derive(Clone)]
enum Direct {
    /// One connection, run in place by whoever holds its turn, as the server's writer,
    /// but mapping the file: the fastest way SQLite reads it, which the server gives up
    /// for its memory (docs/benchmarks.md, "Memory"); `url` is the file's.
    Sqlite {
        connection: Arc<Mutex<rusqlite::Connection>>,
        url: String,
    },
    /// The pool, as the server's.
    Postgres(AnyPool),
}

impl Direct {
    fn open(url: &str, pool: &AnyPool) -> Self {
        if url.starts_with("postgres") {
            return Self::Postgres(pool.clone());
        }
        let file = SqliteConnectOptions::from_str(url).expect("an SQLite URL");
        let connection = rusqlite::Connection::open(file.get_filename()).expect("the database");
        connection
            .execute_batch(
                "PRAGMA synchronous = NORMAL; PRAGMA busy_timeout = 5000; \
                 PRAGMA mmap_size = 1073741824;",
            )
            .expect("settings");
        Self::Sqlite {
            connection: Arc::new(Mutex::new(connection)),
            url: url.to_owned(),
        }
    }

    /// On SQLite, a store open while the direct transaction runs: its checkpoint thread
    /// copies the log beside the writes, as the server's does beside its writer.
    async fn checkpointing(&self) -> Option<SqlStore> {
        match self {
            Self::Sqlite { url, .. } => Some(SqlStore::connect(url).await.expect("the store")),
            Self::Postgres(_) => None,
        }
    }

    /// Takes back the direct transaction's lines (orders `raw-…`): left in, some 90,000
    /// in each 5 s it ran, they grew the seeded 200,000 lines as the run went on, and the
    /// loads measured after it met products with up to twice their lines. Their
    /// products' versions are bumped, as by any change, so that the server reads them
    /// again instead of the ones it holds.
    async fn take_back_lines(&self) {
        match self {
            Self::Sqlite { connection, .. } => {
                let mut connection = connection.lock().await;
                let transaction = connection
                    .transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)
                    .expect("a transaction");
                for statement in TAKE_BACK_LINES {
                    transaction
                        .execute(statement, [])
                        .expect("lines taken back");
                }
                transaction.commit().expect("lines taken back");
            }
            Self::Postgres(pool) => {
                let mut transaction = pool.begin().await.expect("a transaction");
                for statement in TAKE_BACK_LINES {
                    sqlx::query(statement)
                        .execute(&mut *transaction)
                        .await
                        .expect("lines taken back");
                }
                transaction.commit().await.expect("lines taken back");
            }
        }
    }

    async fn allocate(
        &self,
        product: &str,
        orderid: &str,
    ) -> Result<(), Box<dyn std::error::Error>> {
        match self {
            Self::Sqlite { connection, .. } => Ok(allocate_in_place(
                &mut *connection.lock().await,
                product,
                orderid,
            )?),
            Self::Postgres(pool) => Ok(allocate_on_pool(pool, product, orderid).await?),
        }
    }
}

/// The allocation's transaction without the server: read the product and its batches,
/// insert the line, bump the version, commit; `connections` at a time for [`measuring_time`].
async fn raw_transactions(direct: &Direct, connections: usize, server: u32) -> Figures {
    let _checkpoints = direct.checkpointing().await;
    let started = Started::now(server);
    let deadline = started.at + measuring_time();
    let workers: Vec<_> = (0..connections)
        .map(|worker| {
            let direct = direct.clone();
            tokio::spawn(async move {
                let mut spread = Spread(0x2545_F491_4F6C_DD1D ^ ((worker as u64 + 1) * 104_729));
                let mut measured = Measured::default();
                let mut n = 0;
                while Instant::now() < deadline {
                    n += 1;
                    let sent = Instant::now();
                    let product = sku(spread.below(SKUS));
                    let orderid = format!("raw-{connections}-{worker}-{n}");
                    match direct.allocate(&product, &orderid).await {
                        Ok(()) => measured.answered(sent),
                        Err(error) => measured.failed(|| error.to_string()),
                    }
                }
                measured
            })
        })
        .collect();
    let figures = Figures::gather(workers, started).await;
    direct.take_back_lines().await;
    figures
}

/// The statements of [`Direct::take_back_lines`], the same on both databases.
const TAKE_BACK_LINES: [&str; 2] = [
    "UPDATE products SET version_number = version_number + 1 \
     WHERE sku IN (SELECT sku FROM allocations WHERE orderid LIKE 'raw-%')",
    "DELETE FROM allocations WHERE orderid LIKE 'raw-%'",
];

fn allocate_in_place(
    connection: &mut rusqlite::Connection,
    product: &str,
    orderid: &str,
) -> rusqlite::Result<()> {
    let transaction =
        connection.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
    let version: i64 = transaction
        .prepare_cached("SELECT version_number FROM products WHERE sku = ?1")?
        .query_row([product], |row| row.get(0))?;
    let batches: Vec<(i64, i64, Option<String>)> = transaction
        .prepare_cached("SELECT id, purchased_quantity, eta FROM batches WHERE sku = ?1")?
        .query_map([product], |row| Ok((row.get(0)?, row.get(1)?, row.get(2)?)))?
        .collect::<Result<_, _>>()?;
    transaction
        .prepare_cached(
            "INSERT INTO allocations (batch_id, orderid, sku, qty) VALUES (?1, ?2, ?3, 1)",
        )?
        .execute(rusqlite::params![batches[0].0, orderid, product])?;
    transaction
        .prepare_cached(
            "UPDATE products SET version_number = ?2 WHERE sku = ?1 AND version_number = ?3",
        )?
        .execute(rusqlite::params![product, version + 1, version])?;
    transaction.commit()
}

async fn allocate_on_pool(pool: &AnyPool, product: &str, orderid: &str) -> Result<(), sqlx::Error> {
    let mut transaction = pool.begin().await?;
    let version: i64 = sqlx::query("SELECT version_number FROM products WHERE sku = $1")
        .bind(product)
        .fetch_one(&mut *transaction)
        .await?
        .try_get(0)?;
    let batches = sqlx::query("SELECT id, purchased_quantity, eta FROM batches WHERE sku = $1")
        .bind(product)
        .fetch_all(&mut *transaction)
        .await?;
    let batch: i64 = batches[0].try_get(0)?;
    sqlx::query("INSERT INTO allocations (batch_id, orderid, sku, qty) VALUES ($1, $2, $3, 1)")
        .bind(batch)
        .bind(orderid)
        .bind(product)
        .execute(&mut *transaction)
        .await?;
    sqlx::query("UPDATE products SET version_number = $2 WHERE sku = $1 AND version_number = $3")
        .bind(product)
        .bind(version + 1)
        .bind(version)
        .execute(&mut *transaction)
        .await?;
    transaction.commit().await
}

/// The most memory the server held (kB): resident in all, its share of that, and of
/// its own. Resident memory counts a page of the database file once for every SQLite
/// connection that maps it; the proportional set counts each page once. Those pages
/// belong to the operating system's file cache.
#[derive(Default)]
struct PeakMemory {
    resident: AtomicU64,
    proportional: AtomicU64,
    own: AtomicU64,
}

/// Samples the process's memory until told to stop; keeps the peaks.
async fn watch_memory(pid: u32, peak: Arc<PeakMemory>, watching: Arc<AtomicBool>) {
    while watching.load(Ordering::Relaxed) {
        let read = |file: &str| std::fs::read_to_string(format!("/proc/{pid}/{file}"));
        let status = read("status").unwrap_or_default();
        let rollup = read("smaps_rollup").unwrap_or_default();
        peak.resident
            .fetch_max(kb(&status, "VmRSS:"), Ordering::Relaxed);
        peak.proportional
            .fetch_max(kb(&rollup, "Pss:"), Ordering::Relaxed);
        peak.own
            .fetch_max(kb(&status, "RssAnon:"), Ordering::Relaxed);
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// The figure of `field` in a `/proc` listing such as `VmRSS:   1234 kB`.
fn kb(listing: &str, field: &str) -> u64 {
    listing
        .lines()
        .find_map(|line| line.strip_prefix(field))
        .and_then(|kb| kb.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or(0)
}

/// The release server, on a free port, over the benchmark's database.
struct Server {
    child: Child,
    base: String,
}

impl Server {
    fn start(config: &Config) -> Self {
        let mut command = Command::new(env!("CARGO_BIN_EXE_allocation-desk"));
        command
            .current_dir(env!("CARGO_MANIFEST_DIR"))
            .env("DATABASE_URL", &config.database_url)
            // Any free port: the server logs the one it took.
            .env("LEPTOS_SITE_ADDR", "127.0.0.1:0")
            .env("RUST_LOG", "error,allocation_desk::listening=info")
            .env("REDIS_CONSUMER", "off")
            .env_remove("SMTP_URL")
            .stdout(Stdio::piped());
        match &config.redis_url {
            Some(url) => command
                .env("REDIS_URL", url)
                .env("READ_MODEL", "redis")
                .env("REDIS_PREFIX", &config.redis_prefix),
            None => command.env_remove("REDIS_URL"),
        };
        let mut child = command.spawn().expect("start the server");
        let mut log = BufReader::new(child.stdout.take().expect("the server's log"));
        let base = std::iter::from_fn(|| {
            let mut line = String::new();
            (log.read_line(&mut line).ok()? > 0).then_some(line)
        })
        .find_map(|line| {
            let (_, address) = line.split_once(LISTENING_ON)?;
            Some(address.trim().to_owned())
        })
        .expect("the server to log its address");
        // The rest of its log is drained, so that the server never waits on a full pipe.
        std::thread::spawn(move || std::io::copy(&mut log, &mut std::io::sink()));
        // Logged once bound: connections wait in the listener's queue from then on.
        Self { child, base }
    }

    fn stop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
