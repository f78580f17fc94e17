//! Where the views read: on PostgreSQL connections of their own (see
//! [`super::postgres`]); on SQLite connections of their own, which run a query in
//! place, on the task's own thread.
//!
//! A view's query takes microseconds on SQLite, against its page cache;
//! sqlx would hand it to the connection's worker thread and wake the task when the
//! rows came back, which cost more than the query (profiled under reads: `futex` and
//! the scheduler's task switches).

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, PoisonError};

use rusqlite::{Connection, OpenFlags};

use super::postgres::Connections;
use super::statement::{Record, Value, fetch_in_place};
use crate::adapters::StoreError;

#[derive(Clone)]
pub enum Reader {
    Postgres(Arc<Connections>),
    InPlace(Arc<Readers>),
}

impl Reader {
    /// Every row the query returns.
    pub async fn fetch_all<R: Record>(
        &self,
        sql: &str,
        params: &[Value<'_>],
    ) -> Result<Vec<R>, StoreError> {
        match self {
            Self::Postgres(connections) => connections.fetch_all(sql, params).await,
            Self::InPlace(readers) => {
                readers.with(|connection| fetch_in_place(connection, sql, params))
            }
        }
    }

    /// The first row the query returns, if any.
    pub async fn fetch_optional<R: Record>(
        &self,
        sql: &str,
        params: &[Value<'_>],
    ) -> Result<Option<R>, StoreError> {
        Ok(self.fetch_all(sql, params).await?.into_iter().next())
    }
}

/// SQLite's read connections for the views: as many as have been in use at once, which
/// is at most the number of threads running requests, since each is used in place.
pub struct Readers {
    path: PathBuf,
    idle: Mutex<Vec<Connection>>,
}

impl Readers {
    pub(super) fn new(path: &Path) -> Self {
        Self {
            path: path.to_owned(),
            idle: Mutex::new(Vec::new()),
        }
    }

    fn with<T>(
        &self,
        read: impl FnOnce(&Connection) -> Result<T, StoreError>,
    ) -> Result<T, StoreError> {
        let idle = self.idle().pop();
        let connection = match idle {
            Some(connection) => connection,
            None => self.open()?,
        };
        let result = read(&connection);
        self.idle().push(connection);
        result
    }

    /// The idle connections. A panic while the list was held cannot leave it half
    /// changed (a push or a pop), so a poisoned lock is taken all the same.
    fn idle(&self) -> std::sync::MutexGuard<'_, Vec<Connection>> {
        self.idle.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn open(&self) -> Result<Connection, StoreError> {
        let connection = Connection::open_with_flags(
            &self.path,
            OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
        )?;
        // Not mapped, as the pool's readers (see `pool_options`). In WAL mode a reader
        // never waits for the writer; a short busy timeout covers SQLite's rare waits
        // (a checkpoint resetting the log) without holding the thread for long.
        connection.execute_batch("PRAGMA busy_timeout = 100;")?;
        connection.set_prepared_statement_cache_capacity(32);
        Ok(connection)
    }
}
