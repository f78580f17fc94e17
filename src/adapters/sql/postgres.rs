//! PostgreSQL connections for the views, lent without sqlx's pool: the pool pings
//! every connection as it comes back, so each view's one query was two round trips to
//! the database. Here a connection goes back as it is, unless its query failed other
//! than by the database's own answer; one idle for a while is pinged before it is lent.
//! A read dropped halfway (a request cancelled) drops its connection with it, so no
//! connection goes back with a query in flight.

use std::sync::{Mutex, PoisonError};
use std::time::Instant;

use sqlx::any::AnyConnectOptions;
use sqlx::{AnyConnection, ConnectOptions, Connection};
use tokio::sync::Semaphore;

use super::statement::{Executor, Record, Value};
use super::{ACQUIRE_TIMEOUT, MAX_CONNECTIONS, STALE_AFTER};
use crate::adapters::StoreError;

pub struct Connections {
    options: AnyConnectOptions,
    idle: Mutex<Vec<Idle>>,
    /// One for each connection open or opening.
    permits: Semaphore,
}

struct Idle {
    connection: AnyConnection,
    since: Instant,
}

impl Connections {
    pub(super) fn new(options: AnyConnectOptions) -> Self {
        Self {
            options,
            idle: Mutex::new(Vec::new()),
            permits: Semaphore::new(MAX_CONNECTIONS as usize),
        }
    }

    /// Every row the query returns. Waits at most [`ACQUIRE_TIMEOUT`] for a
    /// connection, as the pool does, so that a database outage fails fast.
    pub(super) async fn fetch_all<R: Record>(
        &self,
        sql: &str,
        params: &[Value<'_>],
    ) -> Result<Vec<R>, StoreError> {
        let deadline = tokio::time::Instant::now() + ACQUIRE_TIMEOUT;
        let lent = async {
            // The permits are never closed.
            let permit = self
                .permits
                .acquire()
                .await
                .map_err(|_| sqlx::Error::PoolClosed)?;
            Ok::<_, StoreError>((permit, self.connection().await?))
        };
        let (_permit, mut connection) = tokio::time::timeout_at(deadline, lent)
            .await
            .map_err(|_| sqlx::Error::PoolTimedOut)??;
        let rows = Executor::Sqlx(&mut connection).fetch_all(sql, params).await;
        if answered(&rows) {
            self.idle().push(Idle {
                connection,
                since: Instant::now(),
            });
        }
        rows
    }

    /// An idle connection that still answers, or a new one.
    async fn connection(&self) -> Result<AnyConnection, StoreError> {
        loop {
            let Some(Idle {
                mut connection,
                since,
            }) = self.idle().pop()
            else {
                return Ok(self.options.connect().await?);
            };
            // PostgreSQL may have gone away meanwhile: a broken connection is closed.
            if since.elapsed() <= STALE_AFTER || connection.ping().await.is_ok() {
                return Ok(connection);
            }
        }
    }

    /// A panic while the list was held cannot leave it half changed (a push or a
    /// pop), so a poisoned lock is taken all the same.
    fn idle(&self) -> std::sync::MutexGuard<'_, Vec<Idle>> {
        self.idle.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// Whether a query's connection can be lent again: it answered, with rows or with a
/// refusal of the database's own, which leaves the connection ready; not when the
/// connection or the protocol failed.
fn answered<T>(result: &Result<T, StoreError>) -> bool {
    match result {
        Ok(_) | Err(StoreError::Conflict(_)) => true,
        Err(StoreError::Backend(error)) => matches!(
            error.downcast_ref::<sqlx::Error>(),
            Some(sqlx::Error::Database(_))
        ),
    }
}
