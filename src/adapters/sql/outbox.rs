//! The outbox tables: messages for Redis, e-mail for SMTP, and (with the read models
//! in Redis) read-model updates. Rows handled are deleted, so the tables stay small.

use async_trait::async_trait;

use super::relay_lock::RelayLock;
use super::statement::Record;
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

/// Rows taken from an outbox table, held until they are marked handled, so each row
/// goes out once; those not marked are released for the next round. On PostgreSQL an
/// open transaction locks them, and other servers' relays pass over them. On SQLite
/// the table's relay lock keeps other relays away ([`super::relay_lock`]), and no
/// transaction stays open: one that did would hold SQLite's only write lock, and
/// every other writer with it, while the relay waits on Redis or on the mail server.
pub struct Claimed<T> {
    hold: Hold,
    table: &'static str,
    /// Marks a row given up, where the table keeps such rows.
    give_up: Option<&'static str>,
    /// What the rows are, for the count of deliveries.
    delivery: Delivery,
    pub rows: Vec<T>,
}

/// What keeps a claim's rows from other relays.
enum Hold {
    /// PostgreSQL: the transaction that locked them, in which they are marked.
    Locked(UnitWrites),
    /// SQLite: the table's relay lock. The rows are marked in a transaction of the
    /// store's own, on the writer, as units of work write: through another
    /// connection, each claim made the writer's next transaction drop its cache and
    /// its mapping of the file.
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
        // Held until the marks are committed: the next relay must not see them unmarked.
        let (mut writes, _lock) = match self.hold {
            Hold::Locked(writes) => (writes, None),
            Hold::Relay { .. } | Hold::Nothing if outcomes.is_empty() => return Ok(()),
            Hold::Relay { store, lock } => (store.begin_unit_writes().await?, Some(lock)),
            Hold::Nothing => {
                return Err(StoreError::Backend(
                    format!("{}: rows marked that were not claimed", self.table).into(),
                ));
            }
        };
        let delete = format!("DELETE FROM {} WHERE id = $1", self.table);
        for (id, outcome) in outcomes {
            let statement = match outcome {
                Outcome::Sent => delete.as_str(),
                Outcome::GivenUp => self.give_up.ok_or_else(|| {
                    StoreError::Backend(format!("{} keeps no rows given up", self.table).into())
                })?,
            };
            writes
                .executor()
                .execute(statement, &[(*id).into()])
                .await?;
        }
        writes.commit(|| ()).await?;
        let sent = outcomes.iter().filter(|(_, o)| *o == Outcome::Sent).count();
        metrics::delivered(self.delivery, sent);
        Ok(())
    }
}

impl SqlStore {
    /// The oldest messages not yet published.
    pub async fn claim_messages(&self, limit: i64) -> Result<Claimed<Message>, StoreError> {
        let (hold, rows) = self
            .claim(
                "outbox",
                "SELECT id, channel, payload FROM outbox WHERE published = 0 ORDER BY id",
                limit,
            )
            .await?;
        let rows = rows
            .into_iter()
            .map(|(id, channel, payload)| Message {
                id,
                channel,
                payload,
            })
            .collect();
        Ok(Claimed {
            hold,
            table: "outbox",
            give_up: Some("UPDATE outbox SET published = 2 WHERE id = $1"),
            delivery: Delivery::RedisMessage,
            rows,
        })
    }

    /// The oldest e-mails not yet sent.
    pub async fn claim_mail(&self, limit: i64) -> Result<Claimed<QueuedMail>, StoreError> {
        let (hold, rows) = self
            .claim(
                "outgoing_mail",
                "SELECT id, recipient, subject, body FROM outgoing_mail WHERE sent = 0 \
                 ORDER BY id",
                limit,
            )
            .await?;
        let rows = rows
            .into_iter()
            .map(|(id, recipient, subject, body)| QueuedMail {
                id,
                mail: Mail {
                    recipient,
                    subject,
                    body,
                },
            })
            .collect();
        Ok(Claimed {
            hold,
            table: "outgoing_mail",
            give_up: Some("UPDATE outgoing_mail SET sent = 2 WHERE id = $1"),
            delivery: Delivery::Mail,
            rows,
        })
    }

    /// The oldest read-model updates not yet taken out of the outbox.
    pub async fn claim_read_model_updates(
        &self,
        limit: i64,
    ) -> Result<Claimed<(i64, Update)>, StoreError> {
        let (hold, recorded): (_, Vec<(i64, String)>) = self
            .claim(
                "read_model_updates",
                "SELECT id, payload FROM read_model_updates ORDER BY id",
                limit,
            )
            .await?;
        let rows = recorded
            .into_iter()
            .map(|(id, payload)| match serde_json::from_str(&payload) {
                Ok(update) => Ok((id, update)),
                Err(_) => Err(super::corrupt("read-model update", payload)),
            })
            .collect::<Result<_, _>>()?;
        Ok(Claimed {
            hold,
            table: "read_model_updates",
            give_up: None,
            delivery: Delivery::ReadModelUpdate,
            rows,
        })
    }

    /// How many entries wait in each outbox table.
    pub async fn outbox_backlog(&self) -> Result<Vec<(&'static str, i64)>, StoreError> {
        let mut backlog = Vec::new();
        for (table, pending) in [
            ("outbox", "SELECT COUNT(*) FROM outbox WHERE published = 0"),
            (
                "outgoing_mail",
                "SELECT COUNT(*) FROM outgoing_mail WHERE sent = 0",
            ),
            (
                "read_model_updates",
                "SELECT COUNT(*) FROM read_model_updates",
            ),
        ] {
            let rows: i64 = sqlx::query_scalar(pending).fetch_one(&self.pool).await?;
            backlog.push((table, rows));
        }
        Ok(backlog)
    }

    /// The first `limit` rows of `select` (ordered, without `LIMIT`) from `table`,
    /// held until the claim is finished.
    async fn claim<R: Record>(
        &self,
        table: &str,
        select: &str,
        limit: i64,
    ) -> Result<(Hold, Vec<R>), StoreError> {
        let Some(locks) = &self.relay_locks else {
            // PostgreSQL locks the rows it hands out and passes over those locked by
            // other servers' relays.
            let query = format!("{select} LIMIT $1 FOR UPDATE SKIP LOCKED");
            let mut writes = self.begin_unit_writes().await?;
            let rows = writes.executor().fetch_all(&query, &[limit.into()]).await?;
            return Ok((Hold::Locked(writes), rows));
        };
        let Some(lock) = locks.try_take(table)? else {
            // Another relay is delivering this table's rows.
            return Ok((Hold::Nothing, Vec::new()));
        };
        // Read as the views read, outside the writer's turn: the lock is what keeps
        // these rows this relay's.
        let query = format!("{select} LIMIT $1");
        let rows = self.reader.fetch_all(&query, &[limit.into()]).await?;
        let hold = Hold::Relay {
            store: self.clone(),
            lock,
        };
        Ok((hold, rows))
    }
}
