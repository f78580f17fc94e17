//! SQLite's writer: the one connection this process's units of work write through,
//! behind the turn that every writer of the process takes.
//!
//! Its statements run in place, on the task's own thread, instead of on a worker thread
//! as sqlx runs them: inside the turn a statement takes 6-70 µs, and sqlx's hand-off to
//! its worker and back cost more than that, ten times per write, while every other
//! writer waited (profiled: 57 context switches per write).
//!
//! Units of work commit in groups. Each writes in a savepoint of a transaction that the
//! units queued behind it join in turn, and the group commits once, when the first of
//! them has the turn again: by then every unit that was waiting has written. Units
//! mostly change the same pages (the tails of the tables and indexes they append to),
//! which one commit writes to the log once for all of them. No unit is answered before
//! its group's commit; a unit that fails, or is dropped halfway, undoes its savepoint
//! alone. Only the unit that first finishes writing waits for the turn again to commit
//! the group; the others wait for the commit alone. Were they all queued for the
//! turn, each would have to be woken and have its turn, with nothing left to do,
//! before the next writer could write: the writer stood idle a quarter of the time.

use std::ops::{Deref, DerefMut};
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};

use rusqlite::{Connection, ErrorCode, OpenFlags};
use tokio::sync::{Mutex, Notify, OwnedMutexGuard};

use super::checkpoint;
use crate::adapters::StoreError;
use crate::metrics;

/// The writer, and the turn: whoever holds the lock may write. The lock is fair:
/// writers have their turn in the order they asked for it.
pub(super) type Writer = Arc<Mutex<Writing>>;

/// How long a write waits for another process's writer before it gives up.
const BUSY_TIMEOUT: Duration = Duration::from_secs(5);

/// How often a waiting write looks again whether another process's writer is done.
const BUSY_POLL: Duration = Duration::from_millis(1);

/// The most units of work one commit holds: a longer queue makes a group of its own.
const GROUP_LIMIT: usize = 64;

/// The writer connection, and the group its open transaction holds, if any.
pub(super) struct Writing {
    connection: Connection,
    open: Option<Open>,
}

/// The group in the writer's open transaction.
struct Open {
    group: Arc<Group>,
    /// Units of work written in it, done or still writing.
    members: usize,
}

/// Units of work committed together. Their outcome is set once, when the transaction
/// commits or is rolled back, and they are woken then.
#[derive(Default)]
struct Group {
    outcome: OnceLock<Result<(), String>>,
    settled: Notify,
    /// Whether one of the units, done writing, waits for the turn to commit the group.
    committer: AtomicBool,
}

impl Group {
    fn settle(&self, outcome: Result<(), String>) {
        // Set once: the group was open until now.
        let _ = self.outcome.set(outcome);
        self.settled.notify_waiters();
    }
}

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
    // As sqlx's connections (`pool_options`). The file is not mapped: the products are
    // cached (`PRODUCT_CACHE_MB`), so the writer reads few pages, and reading them
    // through its page cache costs a few percent of writes, where a mapping would hold
    // every page it ever read in the server's resident memory (docs/benchmarks.md,
    // "Memory").
    // Its commits take no checkpoints: a thread of their own does (`checkpoint`).
    // A unit of work's savepoint keeps the pages it changes as they were, to undo them:
    // in memory, not in a temporary file (profiled: an eighth of a write).
    connection.execute_batch(
        "PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL; PRAGMA foreign_keys = ON; \
         PRAGMA wal_autocheckpoint = 0; PRAGMA temp_store = MEMORY;",
    )?;
    // Every statement a unit of work runs stays prepared.
    connection.set_prepared_statement_cache_capacity(64);
    let writer = Arc::new(Mutex::new(Writing {
        connection,
        open: None,
    }));
    checkpoint::keep_checkpointing(path, &writer)?;
    Ok(writer)
}

/// A hold of the writer's turn. Its drop counts the time held (`/metrics`): the
/// share of time the writer is busy.
struct Held {
    writing: OwnedMutexGuard<Writing>,
    since: Instant,
}

impl Held {
    async fn lock(writer: &Writer) -> Self {
        Self::new(Arc::clone(writer).lock_owned().await)
    }

    /// As [`Held::lock`], blocking the thread: for threads outside the runtime.
    fn blocking_lock(writer: &Writer) -> Self {
        Self::new(Arc::clone(writer).blocking_lock_owned())
    }

    fn try_lock(writer: &Writer) -> Option<Self> {
        Arc::clone(writer).try_lock_owned().ok().map(Self::new)
    }

    fn new(writing: OwnedMutexGuard<Writing>) -> Self {
        Self {
            writing,
            since: Instant::now(),
        }
    }
}

impl Deref for Held {
    type Target = Writing;

    fn deref(&self) -> &Writing {
        &self.writing
    }
}

impl DerefMut for Held {
    fn deref_mut(&mut self) -> &mut Writing {
        &mut self.writing
    }
}

impl Drop for Held {
    fn drop(&mut self) {
        metrics::writer_held(self.since.elapsed());
    }
}

impl Writing {
    /// Commits the open group, if any, and tells its units how that went.
    fn settle(&mut self) {
        let Some(open) = self.open.take() else {
            return;
        };
        let outcome = self.connection.execute_batch("COMMIT").map_err(|error| {
            self.roll_back();
            error.to_string()
        });
        if outcome.is_ok() {
            metrics::group_committed(open.members);
        }
        open.group.settle(outcome);
    }

    /// Commits `group` if it is the one still open.
    fn settle_group(&mut self, group: &Arc<Group>) {
        if self
            .open
            .as_ref()
            .is_some_and(|open| Arc::ptr_eq(&open.group, group))
        {
            self.settle();
        }
    }

    /// Rolls the open transaction back: every unit of its group fails.
    fn abandon(&mut self, why: &str) {
        self.roll_back();
        if let Some(open) = self.open.take() {
            open.group.settle(Err(why.to_owned()));
        }
    }

    fn roll_back(&self) {
        if !self.connection.is_autocommit()
            && let Err(error) = self.connection.execute_batch("ROLLBACK")
        {
            tracing::error!(%error, "SQLite's writer could not roll back");
        }
    }

    /// Opens a unit of work's savepoint in the open transaction.
    fn join(&mut self) -> Result<Arc<Group>, StoreError> {
        let Some(open) = self.open.as_mut() else {
            return Err(StoreError::Backend("no transaction to join".into()));
        };
        open.members += 1;
        let group = Arc::clone(&open.group);
        if let Err(error) = self.connection.execute_batch("SAVEPOINT unit") {
            self.leave();
            return Err(error.into());
        }
        Ok(group)
    }

    /// Undoes the savepoint of the unit of work writing now, and the transaction with it
    /// when no other unit wrote in it.
    fn leave(&mut self) {
        if self.connection.is_autocommit() {
            // SQLite rolled the whole transaction back itself (after an I/O error, say).
            self.abandon("SQLite rolled the transaction back");
            return;
        }
        let undone = self
            .connection
            .execute_batch("ROLLBACK TO unit; RELEASE unit");
        let alone = self.open.as_mut().is_none_or(|open| {
            open.members -= 1;
            open.members == 0
        });
        match undone {
            Err(error) => self.abandon(&error.to_string()),
            Ok(()) if alone => self.abandon("nothing was written"),
            Ok(()) => {}
        }
    }
}

/// The writer's turn, with no transaction open on it: for writers through other
/// connections, which need SQLite's write lock free, and for checkpoints.
pub(super) struct Turn {
    _writing: Held,
}

impl Turn {
    /// Waits for the turn, then commits any group left open.
    pub(super) async fn take(writer: &Writer) -> Self {
        let mut writing = Held::lock(writer).await;
        writing.settle();
        Self { _writing: writing }
    }

    /// As [`Turn::take`], blocking the thread: for threads outside the runtime.
    pub(super) fn block_for(writer: &Writer) -> Self {
        let mut writing = Held::blocking_lock(writer);
        writing.settle();
        Self { _writing: writing }
    }
}

/// A unit of work's writes on the writer, open while its turn is held: a savepoint in
/// its group's transaction. Dropped uncommitted, the savepoint is rolled back in place,
/// so a cancelled request leaves nothing behind for the next turn.
pub(super) struct InlineWrites {
    writer: Writer,
    group: Arc<Group>,
    turn: Held,
    released: bool,
}

impl InlineWrites {
    /// Waits for this process's turn and joins the open group; with none open, waits
    /// for any other process's writer and begins one: IMMEDIATE takes SQLite's write
    /// lock now, so that what the group reads cannot change before it commits.
    pub(super) async fn begin(writer: &Writer) -> Result<Self, StoreError> {
        let mut turn = Held::lock(writer).await;
        if turn
            .open
            .as_ref()
            .is_none_or(|open| open.members >= GROUP_LIMIT)
        {
            turn.settle();
            begin_immediate(&mut turn.connection).await?;
            turn.open = Some(Open {
                group: Arc::default(),
                members: 0,
            });
        }
        let group = turn.join()?;
        Ok(Self {
            writer: Arc::clone(writer),
            group,
            turn,
            released: false,
        })
    }

    pub(super) fn connection(&mut self) -> &mut Connection {
        &mut self.turn.connection
    }

    /// Releases the unit's savepoint and gives up the turn, then waits for the group's
    /// commit: the units queued meanwhile write first, and join the group.
    pub(super) async fn commit(mut self) -> Result<(), StoreError> {
        self.turn.connection.execute_batch("RELEASE unit")?;
        self.released = true;
        let committing = Committing {
            writer: Arc::clone(&self.writer),
            group: Arc::clone(&self.group),
        };
        drop(self);
        committing.outcome().await
    }
}

impl Drop for InlineWrites {
    fn drop(&mut self) {
        if !self.released {
            self.turn.leave();
        }
    }
}

/// A unit of work written and released, waiting for its group's commit.
struct Committing {
    writer: Writer,
    group: Arc<Group>,
}

impl Committing {
    /// Waits for the group's commit. The first unit of the group to get here waits for
    /// the turn again as well, behind the units queued since, to commit the group,
    /// unless a writer before it in the queue commits it meanwhile.
    async fn outcome(self) -> Result<(), StoreError> {
        let settled = self.group.settled.notified();
        tokio::pin!(settled);
        // Woken by a commit from now on, even one before the first poll.
        settled.as_mut().enable();
        if self.group.outcome.get().is_none() {
            if self.group.committer.swap(true, Ordering::AcqRel) {
                settled.await;
            } else {
                tokio::select! {
                    () = &mut settled => {}
                    mut writing = Held::lock(&self.writer) => {
                        writing.settle_group(&self.group);
                    }
                }
            }
        }
        match self.group.outcome.get() {
            Some(Ok(())) => Ok(()),
            Some(Err(error)) => Err(StoreError::Backend(error.clone().into())),
            None => Err(StoreError::Backend("the group was never committed".into())),
        }
    }
}

impl Drop for Committing {
    /// A unit dropped while it waits (a cancelled request) still sees its group
    /// committed, so that the other units' waits, and SQLite's write lock, end.
    fn drop(&mut self) {
        if self.group.outcome.get().is_some() {
            return;
        }
        let (writer, group) = (Arc::clone(&self.writer), Arc::clone(&self.group));
        if let Ok(runtime) = tokio::runtime::Handle::try_current() {
            runtime.spawn(async move { Held::lock(&writer).await.settle_group(&group) });
        } else if let Some(mut writing) = Held::try_lock(&writer) {
            writing.settle_group(&group);
        }
    }
}

/// Begins the writer's transaction, waiting asleep, as a task, while another process
/// holds SQLite's write lock.
async fn begin_immediate(connection: &mut Connection) -> Result<(), StoreError> {
    let deadline = Instant::now() + BUSY_TIMEOUT;
    loop {
        match connection.execute_batch("BEGIN IMMEDIATE") {
            Ok(()) => return Ok(()),
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
