//! SQLite's checkpoints (copying the log's pages back into the database file), taken
//! on a thread of their own instead of in the writer's commits, where they were a
//! seventh of a write's time, every write waiting behind them.
//!
//! A checkpoint outside the turn copies what the log holds while writers go on, but
//! under steady writes it never catches up, and the log restarts only once all of it
//! is copied. So when the log is long, the thread takes the writer's turn and copies
//! the few pages written since: the writer's next transaction then starts the log
//! afresh. (That holds for this process's writers: another process's writing to the
//! same file meanwhile can keep the log from restarting, and each round copies on.)
//!
//! SQLite syncs the database file only in a copy that reaches the log's end, which
//! under steady writes is the one in the turn: it flushed every page copied since the
//! log began, 20-35 ms with every write waiting. So before taking the turn the thread
//! syncs the file itself, and copies again, a few rounds: the turn's sync then
//! flushes only the pages written meanwhile.

use std::fs::File;
use std::path::Path;
use std::sync::{Arc, Weak};
use std::time::{Duration, Instant};

use rusqlite::{Connection, OpenFlags};
use tokio::sync::Mutex;

use super::writer::{Turn, Writer, Writing};
use crate::adapters::StoreError;
use crate::metrics;

/// How often the thread copies the log.
const PAUSE: Duration = Duration::from_millis(20);

/// The log's length, in pages, from which the thread takes the turn to finish the
/// copy: 64 MiB of 4 KiB pages. A turn's cost grows far more slowly than the log (the
/// copy outside it has done most of the work), so a longer log means fewer turns and
/// less of the writer's time. Under steady writes, at SQLite's own 1,000 pages the
/// turns held the writer 16-20% of the time; at 16,000, 4-8% (`docs/benchmarks.md`).
const LONG_LOG: i64 = 16_000;

/// The most rounds of syncing the database file and copying the log again before the
/// turn is taken: each copies what was written during the one before.
const CATCH_UP_ROUNDS: usize = 4;

/// Pages a round may copy and end the catching up: the turn's copy is as short.
const FEW_PAGES: i64 = 128;

/// Checkpoints the database at `path` for as long as `writer` is open.
pub(super) fn keep_checkpointing(path: &Path, writer: &Writer) -> Result<(), StoreError> {
    let connection = Connection::open_with_flags(
        path,
        OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )?;
    // A checkpoint that would wait for another is skipped: the next one follows soon.
    connection.busy_timeout(Duration::ZERO)?;
    let database = File::open(path).map_err(|error| StoreError::Backend(Box::new(error)))?;
    let writer = Arc::downgrade(writer);
    std::thread::Builder::new()
        .name("sqlite-checkpoints".to_owned())
        .spawn(move || run(&connection, &database, &writer))
        .map_err(|error| StoreError::Backend(Box::new(error)))?;
    Ok(())
}

fn run(connection: &Connection, database: &File, writer: &Weak<Mutex<Writing>>) {
    let mut failing = None;
    let mut before = None;
    loop {
        std::thread::sleep(PAUSE);
        let Some(writer) = writer.upgrade() else {
            return;
        };
        let now = checkpoint(connection, &mut failing);
        // A log that has not moved since the last round is copied to its end and
        // restarts at the next write: an idle server's turn is not taken.
        if let Some((log, copied)) = now
            && log >= LONG_LOG
            && now != before
        {
            catch_up(connection, database, copied, &mut failing);
            let _turn = Turn::block_for(&writer);
            let copying = Instant::now();
            checkpoint(connection, &mut failing);
            metrics::checkpoint_turn(copying.elapsed());
        }
        before = now;
    }
}

/// Syncs the database file and copies the log again, round after round, until a round
/// copies few pages: the pages the turn's copy then syncs. `copied` is how much of the
/// log the last copy left copied.
fn catch_up(
    connection: &Connection,
    database: &File,
    mut copied: i64,
    failing: &mut Option<String>,
) {
    for _ in 0..CATCH_UP_ROUNDS {
        if let Err(error) = database.sync_data() {
            report(failing, error.to_string());
            return;
        }
        let Some((_, now)) = checkpoint(connection, failing) else {
            return;
        };
        let round = now - copied;
        copied = now;
        if round < FEW_PAGES {
            return;
        }
    }
}

/// Copies what it can of the log without waiting for anyone: the log's length and
/// how much of it is copied, in pages. A failure is logged once, until it changes.
fn checkpoint(connection: &Connection, failing: &mut Option<String>) -> Option<(i64, i64)> {
    let passive = connection.query_row("PRAGMA wal_checkpoint(PASSIVE)", [], |row| {
        Ok((row.get::<_, i64>(1)?, row.get::<_, i64>(2)?))
    });
    match passive {
        Ok(pages) => {
            *failing = None;
            Some(pages)
        }
        Err(error) => {
            report(failing, error.to_string());
            None
        }
    }
}

/// Logs a checkpoint's failure, unless it is the one logged last.
fn report(failing: &mut Option<String>, error: String) {
    if failing.as_ref() != Some(&error) {
        tracing::warn!(%error, "SQLite checkpoint");
        *failing = Some(error);
    }
}
