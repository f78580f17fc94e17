//! Which relay delivers an outbox table's rows of an SQLite file: the one that holds
//! the table's lock file beside it. The lock lets the relay read its rows, deliver
//! them and record which went out with no SQLite lock held while it waits on Redis or
//! on the mail server, so every other writer goes on meanwhile. It is the operating
//! system's: it goes with the process that held it, however that process ends.

use std::fs::{File, OpenOptions, TryLockError};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::adapters::StoreError;

/// How long [`RelayLocks::take`] waits for a relay to let go.
const WAIT: Duration = Duration::from_secs(120);

/// How often it looks again.
const POLL: Duration = Duration::from_millis(10);

/// Where the lock files of one database go: `<database>-<table>.relay`.
#[derive(Clone, Debug)]
pub(super) struct RelayLocks {
    database: Arc<Path>,
}

/// One table's lock, held until dropped.
#[derive(Debug)]
pub(super) struct RelayLock {
    _file: File,
}

impl RelayLocks {
    /// The locks of the database file at `database`: by its real path, so that
    /// servers naming one file by different paths (a link) share its locks, as they
    /// share its log.
    pub(super) fn beside(database: &Path) -> Self {
        let real = std::fs::canonicalize(database).unwrap_or_else(|_| database.to_owned());
        Self {
            database: Arc::from(real),
        }
    }

    /// The lock of `table`, or `None` while another relay, of this process or
    /// another, holds it. Each call opens the file afresh: a lock belongs to an open
    /// file, so two relays sharing one would both hold it.
    pub(super) fn try_take(&self, table: &str) -> Result<Option<RelayLock>, StoreError> {
        let file = OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(self.path(table))
            .map_err(|error| StoreError::Backend(Box::new(error)))?;
        match file.try_lock() {
            Ok(()) => Ok(Some(RelayLock { _file: file })),
            Err(TryLockError::WouldBlock) => Ok(None),
            Err(TryLockError::Error(error)) => Err(StoreError::Backend(Box::new(error))),
        }
    }

    /// The lock of `table`, once the relay holding it lets go: within a relay's
    /// round (its Redis and SMTP calls time out), or after [`WAIT`] an error.
    pub(super) async fn take(&self, table: &str) -> Result<RelayLock, StoreError> {
        let deadline = Instant::now() + WAIT;
        loop {
            if let Some(lock) = self.try_take(table)? {
                return Ok(lock);
            }
            if Instant::now() >= deadline {
                return Err(StoreError::Backend(
                    format!("the {table} relay has held its lock for {WAIT:?}").into(),
                ));
            }
            tokio::time::sleep(POLL).await;
        }
    }

    fn path(&self, table: &str) -> PathBuf {
        let mut name = self.database.as_os_str().to_owned();
        name.push(format!("-{table}.relay"));
        PathBuf::from(name)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_relay_holds_a_table_until_it_lets_go() {
        let dir = tempfile::tempdir().unwrap();
        let locks = RelayLocks::beside(&dir.path().join("desk.db"));
        let other_process = RelayLocks::beside(&dir.path().join("desk.db"));

        let held = locks.try_take("outbox").unwrap();
        assert!(held.is_some());
        assert!(other_process.try_take("outbox").unwrap().is_none());
        assert!(
            locks.try_take("outbox").unwrap().is_none(),
            "not even twice here"
        );
        assert!(other_process.try_take("outgoing_mail").unwrap().is_some());

        drop(held);
        assert!(other_process.try_take("outbox").unwrap().is_some());
        assert!(dir.path().join("desk.db-outbox.relay").exists());
    }
}
