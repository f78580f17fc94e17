//! The SQL store: the write model and the SQL read models over sqlx, on an embedded
//! SQLite file or on PostgreSQL, chosen by the URL at run time. The SQL is shared; the
//! two differ in schema types (see `migrations/`) and in how writers are kept apart:
//! on SQLite, units of work write through a connection of their own (`writer`).

mod accounts;
mod checkpoint;
mod outbox;
mod postgres;
mod products;
mod read_model;
mod reader;
mod rebuild;
mod relay_lock;
mod repository;
mod statement;
mod writer;

pub use outbox::{Claimed, Outcome};
pub use products::DEFAULT_PRODUCT_CACHE_MB;
pub use reader::{Reader, Readers};
pub use statement::{Column, Record, Value};

use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use sqlx::any::{AnyConnectOptions, AnyPoolOptions};
use sqlx::sqlite::SqliteConnectOptions;
use sqlx::{Any, AnyConnection, AnyPool, Connection, Executor as _};

use self::outbox::AppliedUpdates;
use self::postgres::Connections;
use self::products::Products;
use self::relay_lock::RelayLocks;
use self::statement::Executor;
use self::writer::{InlineWrites, Turn, Writer};
use super::redis_read_model::{RedisReadModel, Update};
use super::{Store, StoreError, StoreTransaction};
use crate::domain::commands::Command;
use crate::domain::model::{OrderLine, Product};
use crate::domain::staff::Actor;

impl From<sqlx::Error> for StoreError {
    fn from(error: sqlx::Error) -> Self {
        match &error {
            // Another writer inserted the same key first (a new product, a batch
            // reference): the loser retries on fresh data.
            sqlx::Error::Database(database) if database.is_unique_violation() => {
                Self::Conflict(database.message().to_owned())
            }
            // PostgreSQL broke a deadlock or a serialization clash by aborting this
            // transaction: a lost race like any other.
            sqlx::Error::Database(database)
                if matches!(database.code().as_deref(), Some("40P01" | "40001")) =>
            {
                Self::Conflict(database.message().to_owned())
            }
            _ => Self::Backend(Box::new(error)),
        }
    }
}

impl From<sqlx::migrate::MigrateError> for StoreError {
    fn from(error: sqlx::migrate::MigrateError) -> Self {
        Self::Backend(Box::new(error))
    }
}

/// Connections per pool: readers run side by side, writers take turns (SQLite) or
/// meet at the version check (PostgreSQL).
const MAX_CONNECTIONS: u32 = 16;

/// How long a request waits for a connection before it is answered 503: long enough
/// for a queue under load, short enough that a database outage fails fast.
const ACQUIRE_TIMEOUT: Duration = Duration::from_secs(5);

/// A connection idle longer than this is pinged before it is handed out: PostgreSQL
/// may have gone away meanwhile. sqlx already pings every connection as it returns to
/// the pool, so its default, a ping also as it is handed out, made every query three
/// round trips instead of two.
const STALE_AFTER: Duration = Duration::from_secs(1);

/// Which side of the store a pool serves.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Side {
    Write,
    Read,
}

fn pool_options(backend: Backend, side: Side) -> AnyPoolOptions {
    let pool = AnyPoolOptions::new()
        .max_connections(MAX_CONNECTIONS)
        .acquire_timeout(ACQUIRE_TIMEOUT)
        .test_before_acquire(false)
        .before_acquire(|connection, meta| {
            Box::pin(async move {
                if meta.idle_for > STALE_AFTER {
                    connection.ping().await?;
                }
                Ok(true)
            })
        });
    if backend == Backend::Postgres {
        return pool;
    }
    // WAL: readers never wait for the writer. NORMAL: durable across a process crash,
    // one fsync per checkpoint instead of per commit. No checkpoints in commits: the
    // writer's thread takes them (`checkpoint`).
    const SETTINGS: &str = "PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL; \
        PRAGMA foreign_keys = ON; PRAGMA busy_timeout = 5000; PRAGMA wal_autocheckpoint = 0;";
    // No connection maps the file: reading it mapped is faster (a read took a fifth
    // less CPU), but the server's resident memory then counts every page read once
    // per connection that mapped it, growing with the file (docs/benchmarks.md,
    // "Memory"). Through read calls, each connection holds its page cache alone.
    const READER: &str = "PRAGMA query_only = ON;";
    pool.after_connect(move |connection, _| {
        Box::pin(async move {
            connection.execute(SETTINGS).await?;
            if side == Side::Read {
                connection.execute(READER).await?;
            }
            Ok(())
        })
    })
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Backend {
    Sqlite,
    Postgres,
}

impl Backend {
    fn of(url: &str) -> Result<Self, StoreError> {
        if url.starts_with("sqlite:") {
            Ok(Self::Sqlite)
        } else if url.starts_with("postgres:") || url.starts_with("postgresql:") {
            Ok(Self::Postgres)
        } else {
            Err(StoreError::Backend(
                "the database URL must start with sqlite: or postgres:".into(),
            ))
        }
    }
}

#[derive(Clone)]
pub struct SqlStore {
    pool: AnyPool,
    /// The same pool on PostgreSQL; see [`Self::read_pool`].
    read_pool: AnyPool,
    /// SQLite only: it has one writer at a time, and queuing writers here rather than
    /// in SQLite's busy handler keeps them in order and off its polling sleep. Units of
    /// work write through this connection; the other writers take its turn and write
    /// through the pool. PostgreSQL's writers run side by side.
    writer: Option<Writer>,
    /// SQLite only: which relay delivers each outbox table's rows.
    relay_locks: Option<RelayLocks>,
    /// The views' connections: on SQLite they read in place, on PostgreSQL they are
    /// lent without a ping as they come back.
    reader: Reader,
    /// Set when the read models live in Redis: transactions then record read-model
    /// updates in the outbox as well as writing the SQL views, and apply them there.
    redis_read_model: Option<RedisReadModel>,
    /// The outbox's read-model updates this process's transactions applied to Redis
    /// themselves, for the relay to take out without applying them again.
    applied_updates: AppliedUpdates,
    /// Products as last loaded or committed here, read again only once changed.
    products: Arc<Products>,
}

impl SqlStore {
    /// Opens the database at `url` (`sqlite://path`, created with `?mode=rwc`, or
    /// `postgres://...`) and brings its schema up to date.
    pub async fn connect(url: &str) -> Result<Self, StoreError> {
        sqlx::any::install_default_drivers();
        let backend = Backend::of(url)?;
        let options = AnyConnectOptions::from_str(url)?;
        let pool = pool_options(backend, Side::Write)
            .connect_with(options.clone())
            .await?;
        // Migrations take a lock of their own, so servers may start together.
        match backend {
            Backend::Sqlite => sqlx::migrate!("./migrations/sqlite").run(&pool).await?,
            Backend::Postgres => sqlx::migrate!("./migrations/postgres").run(&pool).await?,
        }
        let (read_pool, writer, relay_locks, reader) = match backend {
            Backend::Sqlite => {
                let file = SqliteConnectOptions::from_str(url)?;
                let writer = writer::open(file.get_filename())?;
                let relay_locks = RelayLocks::beside(file.get_filename());
                let readers = Arc::new(Readers::new(file.get_filename()));
                let read_pool = pool_options(backend, Side::Read)
                    .connect_with(options)
                    .await?;
                (
                    read_pool,
                    Some(writer),
                    Some(relay_locks),
                    Reader::InPlace(readers),
                )
            }
            Backend::Postgres => {
                let connections = Arc::new(Connections::new(options));
                (pool.clone(), None, None, Reader::Postgres(connections))
            }
        };
        Ok(Self {
            pool,
            read_pool,
            writer,
            relay_locks,
            reader,
            redis_read_model: None,
            applied_updates: AppliedUpdates::default(),
            products: Arc::default(),
        })
    }

    /// Keeps the read models in Redis from now on.
    pub fn with_read_model_in(mut self, redis: RedisReadModel) -> Self {
        self.redis_read_model = Some(redis);
        self
    }

    /// Holds the products loaded or committed in about `megabytes` of memory (by
    /// default [`DEFAULT_PRODUCT_CACHE_MB`]), to spare writes reading their rows again.
    pub fn holding_products_within(mut self, megabytes: usize) -> Self {
        self.products = Arc::new(Products::within(megabytes));
        self
    }

    /// The pool of the write side: rebuilds, accounts, and on PostgreSQL commands and
    /// outbox relays too.
    pub fn pool(&self) -> &AnyPool {
        &self.pool
    }

    /// Where the views read (see [`Reader`]).
    pub fn reader(&self) -> Reader {
        self.reader.clone()
    }

    /// The pool of the read side: reports. On SQLite, connections of their own that
    /// map the file and cannot write.
    pub fn read_pool(&self) -> &AnyPool {
        &self.read_pool
    }

    /// Whether the database can be reached at all.
    pub async fn ping(&self) -> Result<(), StoreError> {
        sqlx::query("SELECT 1").execute(&self.pool).await?;
        Ok(())
    }
}

#[async_trait]
impl Store for SqlStore {
    async fn begin(&self, actor: &Actor) -> Result<Box<dyn StoreTransaction>, StoreError> {
        Ok(Box::new(SqlTransaction {
            writes: self.begin_unit_writes().await?,
            started_at: chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
            actor: actor.name.clone(),
            projection: self.redis_read_model.clone().map(|redis| Projection {
                redis,
                recorded: Vec::new(),
                applied: self.applied_updates.clone(),
            }),
            products: Arc::clone(&self.products),
            saved: Vec::new(),
        }))
    }
}

impl SqlStore {
    /// A unit of work's write transaction: on SQLite, on the writer, once it is this
    /// unit's turn.
    async fn begin_unit_writes(&self) -> Result<UnitWrites, StoreError> {
        Ok(match &self.writer {
            Some(writer) => UnitWrites::Inline(InlineWrites::begin(writer).await?),
            None => UnitWrites::Pooled(self.begin_writes().await?),
        })
    }

    /// A write transaction on the pool; on SQLite, once it is this writer's turn.
    async fn begin_writes(&self) -> Result<Writes, StoreError> {
        Ok(match &self.writer {
            Some(writer) => {
                let turn = Turn::take(writer).await;
                // IMMEDIATE takes SQLite's write lock now, so a read-then-write
                // transaction cannot lose its snapshot to another process halfway.
                let transaction = self.pool.begin_with("BEGIN IMMEDIATE").await?;
                Writes {
                    transaction,
                    turn: Some(turn),
                }
            }
            None => Writes {
                transaction: self.pool.begin().await?,
                turn: None,
            },
        })
    }
}

/// A write transaction. Dropped uncommitted, sqlx rolls it back; then the writer's
/// turn passes on (fields drop in order).
struct Writes {
    transaction: sqlx::Transaction<'static, Any>,
    turn: Option<Turn>,
}

impl Writes {
    fn connection(&mut self) -> &mut AnyConnection {
        &mut self.transaction
    }

    async fn commit(self) -> Result<(), StoreError> {
        let Self { transaction, turn } = self;
        transaction.commit().await?;
        drop(turn);
        Ok(())
    }
}

/// A unit of work's writes: on SQLite's writer, or on a pooled connection.
enum UnitWrites {
    Inline(InlineWrites),
    Pooled(Writes),
}

impl UnitWrites {
    fn executor(&mut self) -> Executor<'_> {
        match self {
            Self::Inline(writes) => Executor::Sqlite(writes.connection()),
            Self::Pooled(writes) => Executor::Sqlx(writes.connection()),
        }
    }

    /// Commits, then runs `committed`.
    async fn commit(self, committed: impl FnOnce() + Send) -> Result<(), StoreError> {
        match self {
            Self::Inline(writes) => {
                writes.commit().await?;
                committed();
            }
            Self::Pooled(Writes { transaction, turn }) => {
                transaction.commit().await?;
                committed();
                drop(turn);
            }
        }
        Ok(())
    }
}

/// A unit of work's transaction. On SQLite it holds the writer's turn from the start:
/// its reads and writes run in place on the writer, and no other writer, of this
/// process or another, can change what it read before it commits. On PostgreSQL
/// writers run side by side, and meet at the product's version compare-and-set.
pub struct SqlTransaction {
    writes: UnitWrites,
    /// When the transaction began (RFC 3339, UTC): the time its changes are recorded
    /// at, the same in the write model and in the read models.
    started_at: String,
    /// Who the transaction's changes are recorded as made by.
    actor: String,
    projection: Option<Projection>,
    products: Arc<Products>,
    /// The products saved, as stored: held in `products` once committed.
    saved: Vec<Product>,
}

/// The read-model updates a transaction recorded, to apply to Redis once committed.
struct Projection {
    redis: RedisReadModel,
    recorded: Vec<(i64, Update)>,
    applied: AppliedUpdates,
}

#[async_trait]
impl StoreTransaction for SqlTransaction {
    async fn log_command(&mut self, command: &Command) -> Result<(), StoreError> {
        let payload =
            serde_json::to_value(command).map_err(|error| StoreError::Backend(Box::new(error)))?;
        // Externally tagged: `{"Allocate": {...}}`.
        let (name, fields) = payload
            .as_object()
            .and_then(|tagged| tagged.iter().next())
            .map(|(name, fields)| (name.clone(), fields.to_string()))
            .unwrap_or_default();
        let params = [
            self.started_at.as_str().into(),
            self.actor.as_str().into(),
            name.as_str().into(),
            fields.as_str().into(),
        ];
        self.writes
            .executor()
            .execute(
                "INSERT INTO command_log (at, actor, command, payload) VALUES ($1, $2, $3, $4)",
                &params,
            )
            .await?;
        Ok(())
    }

    async fn commit(self: Box<Self>) -> Result<(), StoreError> {
        let Self {
            writes,
            projection,
            products,
            saved,
            ..
        } = *self;
        writes
            .commit(|| saved.into_iter().for_each(|product| products.hold(product)))
            .await?;
        if let Some(Projection {
            redis,
            recorded,
            applied,
        }) = projection
        {
            match redis.apply(&recorded).await {
                Ok(()) => applied.add(recorded.iter().map(|(id, _)| *id)),
                // Committed all the same: the relay applies the updates when Redis is back.
                Err(error) => tracing::warn!(
                    %error,
                    "read models in Redis are behind until the relay catches up"
                ),
            }
        }
        Ok(())
    }
}

/// A stored value the domain refuses: the database was changed behind our back.
fn corrupt(what: &str, value: impl std::fmt::Debug) -> StoreError {
    StoreError::Backend(format!("stored {what} {value:?} is invalid").into())
}

type Query<'q> = sqlx::query::Query<'q, Any, sqlx::any::AnyArguments<'q>>;

/// A line's identity, `(orderid, sku, qty)`, as three parameters.
fn line_values(line: &OrderLine) -> [Value<'_>; 3] {
    [
        line.orderid.as_str().into(),
        line.sku.as_str().into(),
        i64::from(line.qty.get()).into(),
    ]
}
