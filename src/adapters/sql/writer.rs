//! SQLite's writer: the one connection this process's units of work write through,
//! behind the turn that every writer of the process takes.
//!
//! Its statements run in place, on the task's own thread, instead of on a worker thread
//! as sqlx runs them: inside the turn a statement takes 6-70 µs, and sqlx's hand-off to
//! its worker and back cost more than that, ten times per write, while every other
//! writer waited (profiled: 57 context switches per write).

use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use rusqlite::{Connection, ErrorCode, OpenFlags};
use tokio::sync::{Mutex, OwnedMutexGuard};

use super::checkpoint;
use crate::adapters::StoreError;

/// The writer connection, and the turn: whoever holds the lock may write.
pub(super) type Writer = Arc<Mutex<Connection>>;

/// How long a write waits for another process's writer before it gives up.
const BUSY_TIMEOUT: Duration = Duration::from_secs(5);

/// How often a waiting write looks again whether another process's writer is done.
const BUSY_POLL: Duration = Duration::from_millis(1);

/// Opens the writer on the database file at `path`, which sqlx has created and migrated.
pub(super) fn open(path: &Path) -> Result<Writer, StoreError> {
    let connection = Connection::open_with_flags(
        path,
        OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )?;
    // No busy timeout (rusqlite's default is 5 s): SQLite's busy handler sleeps on the
    // thread, which here is one of the few that run every request, and on a
    // single-threaded runtime the one that would finish the transaction it waits for.
    // Waiting for another writer is done in `begin` instead, asleep as a task.
    connection.busy_timeout(Duration::ZERO)?;
    // As sqlx's connections (`pool_options`). The file is mapped, as the readers map
    // it: the writer reads each product it changes, and with a cache of its own it
    // copied pages in by read calls (a sixth of its time). Its own commits keep the
    // mapping; only another connection's drop it.
    // Its commits take no checkpoints: a thread of their own does (`checkpoint`).
    connection.execute_batch(
        "PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL; PRAGMA foreign_keys = ON; \
         PRAGMA mmap_size = 1073741824; PRAGMA wal_autocheckpoint = 0;",
    )?;
    // Every statement a unit of work runs stays prepared.
    connection.set_prepared_statement_cache_capacity(64);
    let writer = Arc::new(Mutex::new(connection));
    checkpoint::keep_checkpointing(path, &writer)?;
    Ok(writer)
}

/// A write transaction on the writer, open while its turn is held. Dropped
/// uncommitted, it is rolled back in place, so a cancelled request leaves nothing
/// behind for the next turn.
pub(super) struct InlineWrites {
    turn: OwnedMutexGuard<Connection>,
}

impl InlineWrites {
    /// Waits for this process's turn, then for any other process's writer, and
    /// begins: IMMEDIATE takes SQLite's write lock now, so that what the transaction
    /// reads cannot change before it commits.
    pub(super) async fn begin(writer: &Writer) -> Result<Self, StoreError> {
        let turn = Arc::clone(writer).lock_owned().await;
        let deadline = Instant::now() + BUSY_TIMEOUT;
        loop {
            match turn.execute_batch("BEGIN IMMEDIATE") {
                Ok(()) => return Ok(Self { turn }),
                Err(error)
                    if error.sqlite_error_code() == Some(ErrorCode::DatabaseBusy)
                        && Instant::now() < deadline =>
                {
                    tokio::time::sleep(BUSY_POLL).await;
                }
                Err(error) => return Err(error.into()),
            }
        }
    }

    pub(super) fn connection(&mut self) -> &mut Connection {
        &mut self.turn
    }

    /// Commits; the turn passes on when `self` is dropped.
    pub(super) fn commit(&mut self) -> Result<(), StoreError> {
        self.turn.execute_batch("COMMIT")?;
        Ok(())
    }
}

impl Drop for InlineWrites {
    fn drop(&mut self) {
        if !self.turn.is_autocommit()
            && let Err(error) = self.turn.execute_batch("ROLLBACK")
        {
            tracing::error!(%error, "SQLite's writer could not roll back");
        }
    }
}
