//! The outbox tables: messages for Redis, e-mail for SMTP, and (with the read models
//! in Redis) read-model updates. Rows handled are deleted, so the tables stay small.

use std::sync::{Arc, Mutex};

use async_trait::async_trait;

use super::relay_lock::RelayLock;
use super::statement::{Record, Value};
use super::{SqlStore, SqlTransaction, UnitWrites};
use crate::adapters::StoreError;
use crate::adapters::notifications::{Mail, QueuedMail};
use crate::adapters::outbox::{Message, Outbox};
use crate::adapters::redis_read_model::Update;
use crate::metrics::{self, Delivery};

#[async_trait]
impl Outbox for SqlTransaction {
    async fn record_message(&mut self, channel: &str, payload: &str) -> Result<(), StoreError> {
        self.writes
            .executor()
            .execute(
                "INSERT INTO outbox (channel, payload) VALUES ($1, $2)",
                &[channel.into(), payload.into()],
            )
            .await?;
        Ok(())
    }

    async fn record_mail(&mut self, mail: &Mail) -> Result<(), StoreError> {
        let params = [
            mail.recipient.as_str().into(),
            mail.subject.as_str().into(),
            mail.body.as_str().into(),
        ];
        self.writes
            .executor()
            .execute(
                "INSERT INTO outgoing_mail (recipient, subject, body) VALUES ($1, $2, $3)",
                &params,
            )
            .await?;
        Ok(())
    }
}

/// An outbox table, as its relay sees it.
struct Queue {
    table: &'static str,
    /// The columns of a row handed out, `id` first.
    columns: &'static str,
    /// Which rows wait to go out.
    waiting: &'static str,
    /// The assignment that marks a row given up, where the table keeps such rows.
    give_up: Option<&'static str>,
    /// What the rows are, for the count of deliveries.
    delivery: Delivery,
}

const MESSAGES: Queue = Queue {
    table: "outbox",
    columns: "id, channel, payload",
    waiting: "published = 0",
    give_up: Some("published = 2"),
    delivery: Delivery::RedisMessage,
};

const MAIL: Queue = Queue {
    table: "outgoing_mail",
    columns: "id, recipient, subject, body",
    waiting: "sent = 0",
    give_up: Some("sent = 2"),
    delivery: Delivery::Mail,
};

const READ_MODEL_UPDATES: Queue = Queue {
    table: "read_model_updates",
    columns: "id, payload",
    // Every row waits: a row applied is deleted, and none is given up.
    waiting: "TRUE",
    give_up: None,
    delivery: Delivery::ReadModelUpdate,
};

/// The ids of read-model updates already applied to Redis, still in the outbox. Only
/// a hint: an id lost (a crash, a failed delete) leaves its row for the relay to
/// apply again, which is harmless.
#[derive(Clone, Default)]
pub(super) struct AppliedUpdates(Arc<Mutex<Vec<i64>>>);

impl AppliedUpdates {
    pub(super) fn add(&self, ids: impl IntoIterator<Item = i64>) {
        self.ids().extend(ids);
    }

    fn take(&self) -> Vec<i64> {
        std::mem::take(&mut *self.ids())
    }

    fn ids(&self) -> std::sync::MutexGuard<'_, Vec<i64>> {
        self.0
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

/// How many rows one statement marks: one statement text per table, whatever the
/// number of rows, so each stays prepared.
const MARKED_AT_ONCE: usize = 100;

impl Queue {
    /// Runs `change` (`DELETE FROM table` or `UPDATE table SET ...`) on the rows of
    /// `ids`, [`MARKED_AT_ONCE`] at a time.
    async fn mark(
        &self,
        writes: &mut UnitWrites,
        change: &str,
        ids: &[i64],
    ) -> Result<(), StoreError> {
        let placeholders = (1..=MARKED_AT_ONCE)
            .map(|n| format!("${n}"))
            .collect::<Vec<_>>()
            .join(", ");
        let statement = format!("{change} WHERE id IN ({placeholders})");
        for chunk in ids.chunks(MARKED_AT_ONCE) {
            // The last chunk is filled up with its last id again: `IN` ignores repeats.
            let last = chunk[chunk.len() - 1];
            let params: Vec<Value<'_>> = (0..MARKED_AT_ONCE)
                .map(|n| chunk.get(n).copied().unwrap_or(last).into())
                .collect();
            writes.executor().execute(&statement, &params).await?;
        }
        Ok(())
    }
}

/// Rows taken from an outbox table, held until they are marked handled, so each row
/// goes out once; those not marked are released for the next round. On PostgreSQL an
/// open transaction locks them, and other servers' relays pass over them. On SQLite
/// the table's relay lock keeps other relays away ([`super::relay_lock`]), and no
/// transaction stays open: one that did would hold SQLite's only write lock, and
/// every other writer with it, while the relay waits on Redis or on the mail server.
pub struct Claimed<T> {
    hold: Hold,
    queue: &'static Queue,
    pub rows: Vec<T>,
}

/// What keeps a claim's rows from other relays.
enum Hold {
    /// PostgreSQL: the transaction that locked them, in which they are marked.
    Locked(UnitWrites),
    /// SQLite: the table's relay lock. The rows are marked in a transaction of the
    /// store's own, on the writer, as units of work write: through another
    /// connection, each claim made the writer's next transaction drop its cache.
    Relay { store: SqlStore, lock: RelayLock },
    /// SQLite: nothing claimed, another relay holding the table's lock.
    Nothing,
}

/// What became of a claimed row.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// Handled: the row is deleted.
    Sent,
    /// Refused for good: kept in the table, never tried again.
    GivenUp,
}

impl<T> Claimed<T> {
    /// Records what became of the rows named; the others are released for later.
    pub async fn finish(self, outcomes: &[(i64, Outcome)]) -> Result<(), StoreError> {
        let Queue { table, .. } = *self.queue;
        // Held until the marks are committed: the next relay must not see them unmarked.
        let (mut writes, _lock) = match self.hold {
            Hold::Locked(writes) => (writes, None),
            Hold::Relay { .. } | Hold::Nothing if outcomes.is_empty() => return Ok(()),
            Hold::Relay { store, lock } => (store.begin_unit_writes().await?, Some(lock)),
            Hold::Nothing => {
                return Err(StoreError::Backend(
                    format!("{table}: rows marked that were not claimed").into(),
                ));
            }
        };
        let with = |wanted: Outcome| -> Vec<i64> {
            outcomes
                .iter()
                .filter(|(_, outcome)| *outcome == wanted)
                .map(|(id, _)| *id)
                .collect()
        };
        let (sent, given_up) = (with(Outcome::Sent), with(Outcome::GivenUp));
        let delete = format!("DELETE FROM {table}");
        self.queue.mark(&mut writes, &delete, &sent).await?;
        if !given_up.is_empty() {
            let Some(give_up) = self.queue.give_up else {
                return Err(StoreError::Backend(
                    format!("{table} keeps no rows given up").into(),
                ));
            };
            let update = format!("UPDATE {table} SET {give_up}");
            self.queue.mark(&mut writes, &update, &given_up).await?;
        }
        writes.commit(|| ()).await?;
        metrics::delivered(self.queue.delivery, sent.len());
        Ok(())
    }

    /// The same claim, each row read as `read` reads it.
    fn read<U>(
        self,
        read: impl FnMut(T) -> Result<U, StoreError>,
    ) -> Result<Claimed<U>, StoreError> {
        Ok(Claimed {
            rows: self.rows.into_iter().map(read).collect::<Result<_, _>>()?,
            hold: self.hold,
            queue: self.queue,
        })
    }
}

impl SqlStore {
    /// The oldest messages not yet published.
    pub async fn claim_messages(&self, limit: i64) -> Result<Claimed<Message>, StoreError> {
        self.claim(&MESSAGES, limit)
            .await?
            .read(|(id, channel, payload)| {
                Ok(Message {
                    id,
                    channel,
                    payload,
                })
            })
    }

    /// The oldest e-mails not yet sent.
    pub async fn claim_mail(&self, limit: i64) -> Result<Claimed<QueuedMail>, StoreError> {
        self.claim(&MAIL, limit)
            .await?
            .read(|(id, recipient, subject, body)| {
                Ok(QueuedMail {
                    id,
                    mail: Mail {
                        recipient,
                        subject,
                        body,
                    },
                })
            })
    }

    /// The oldest read-model updates not yet taken out of the outbox.
    pub async fn claim_read_model_updates(
        &self,
        limit: i64,
    ) -> Result<Claimed<(i64, Update)>, StoreError> {
        self.claim(&READ_MODEL_UPDATES, limit)
            .await?
            .read(
                |(id, payload): (i64, String)| match serde_json::from_str(&payload) {
                    Ok(update) => Ok((id, update)),
                    Err(_) => Err(super::corrupt("read-model update", payload)),
                },
            )
    }

    /// Takes out of the outbox the read-model updates that this process's transactions
    /// applied to Redis themselves: the relay need not read and apply them again.
    pub async fn forget_applied_updates(&self) -> Result<(), StoreError> {
        let ids = self.applied_updates.take();
        if ids.is_empty() {
            return Ok(());
        }
        let mut writes = self.begin_unit_writes().await?;
        let delete = format!("DELETE FROM {}", READ_MODEL_UPDATES.table);
        READ_MODEL_UPDATES.mark(&mut writes, &delete, &ids).await?;
        writes.commit(|| ()).await?;
        metrics::delivered(READ_MODEL_UPDATES.delivery, ids.len());
        Ok(())
    }

    /// How many entries wait in each outbox table.
    pub async fn outbox_backlog(&self) -> Result<Vec<(&'static str, i64)>, StoreError> {
        let mut backlog = Vec::new();
        for queue in [&MESSAGES, &MAIL, &READ_MODEL_UPDATES] {
            let Queue { table, waiting, .. } = *queue;
            let count = format!("SELECT COUNT(*) FROM {table} WHERE {waiting}");
            let rows: i64 = sqlx::query_scalar(&count).fetch_one(&self.pool).await?;
            backlog.push((table, rows));
        }
        Ok(backlog)
    }

    /// The oldest `limit` rows waiting in the queue's table, held until the claim is
    /// finished.
    async fn claim<R: Record>(
        &self,
        queue: &'static Queue,
        limit: i64,
    ) -> Result<Claimed<R>, StoreError> {
        let Queue {
            table,
            columns,
            waiting,
            ..
        } = *queue;
        let select = format!("SELECT {columns} FROM {table} WHERE {waiting} ORDER BY id LIMIT $1");
        let Some(locks) = &self.relay_locks else {
            // PostgreSQL locks the rows it hands out and passes over those locked by
            // other servers' relays.
            let query = format!("{select} FOR UPDATE SKIP LOCKED");
            let mut writes = self.begin_unit_writes().await?;
            let rows = writes.executor().fetch_all(&query, &[limit.into()]).await?;
            return Ok(Claimed {
                hold: Hold::Locked(writes),
                queue,
                rows,
            });
        };
        let Some(lock) = locks.try_take(table)? else {
            // Another relay is delivering this table's rows.
            return Ok(Claimed {
                hold: Hold::Nothing,
                queue,
                rows: Vec::new(),
            });
        };
        // Read as the views read, outside the writer's turn: the lock is what keeps
        // these rows this relay's.
        let rows = self.reader.fetch_all(&select, &[limit.into()]).await?;
        let hold = Hold::Relay {
            store: self.clone(),
            lock,
        };
        Ok(Claimed { hold, queue, rows })
    }
}
