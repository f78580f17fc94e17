//! The outbox tables: messages for Redis, e-mail for SMTP, and (with the read models
//! in Redis) read-model updates. Rows handled are deleted, so the tables stay small.

use async_trait::async_trait;

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

/// Rows taken from an outbox table, held by an open transaction until they are marked
/// handled: another process's relay skips them (PostgreSQL) or waits (SQLite), so each
/// row goes out once. Those not marked are released for the next round. On SQLite the
/// transaction is on the writer, as a unit of work's: through another connection, each
/// claim made the writer's next transaction drop its cache and its mapping of the file
/// (profiled with the read models in Redis, whose relays claim after every commit).
pub struct Claimed<T> {
    writes: UnitWrites,
    table: &'static str,
    /// Marks a row given up, where the table keeps such rows.
    give_up: Option<&'static str>,
    /// What the rows are, for the count of deliveries.
    delivery: Delivery,
    pub rows: Vec<T>,
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
    pub async fn finish(mut self, outcomes: &[(i64, Outcome)]) -> Result<(), StoreError> {
        let delete = format!("DELETE FROM {} WHERE id = $1", self.table);
        for (id, outcome) in outcomes {
            let statement = match outcome {
                Outcome::Sent => delete.as_str(),
                Outcome::GivenUp => self.give_up.ok_or_else(|| {
                    StoreError::Backend(format!("{} keeps no rows given up", self.table).into())
                })?,
            };
            self.writes
                .executor()
                .execute(statement, &[(*id).into()])
                .await?;
        }
        self.writes.commit(|| ()).await?;
        let sent = outcomes.iter().filter(|(_, o)| *o == Outcome::Sent).count();
        metrics::delivered(self.delivery, sent);
        Ok(())
    }
}

impl SqlStore {
    /// The oldest messages not yet published.
    pub async fn claim_messages(&self, limit: i64) -> Result<Claimed<Message>, StoreError> {
        let (writes, rows) = self
            .claim(
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
            writes,
            table: "outbox",
            give_up: Some("UPDATE outbox SET published = 2 WHERE id = $1"),
            delivery: Delivery::RedisMessage,
            rows,
        })
    }

    /// The oldest e-mails not yet sent.
    pub async fn claim_mail(&self, limit: i64) -> Result<Claimed<QueuedMail>, StoreError> {
        let (writes, rows) = self
            .claim(
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
            writes,
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
        let (writes, recorded): (_, Vec<(i64, String)>) = self
            .claim(
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
            writes,
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

    /// The first `limit` rows of `select` (ordered, without `LIMIT`), in a writing
    /// transaction that holds them until the claim is finished.
    async fn claim<R: Record>(
        &self,
        select: &str,
        limit: i64,
    ) -> Result<(UnitWrites, Vec<R>), StoreError> {
        let query = format!("{select} LIMIT $1{}", self.skip_locked());
        let mut writes = self.begin_unit_writes().await?;
        let rows = writes.executor().fetch_all(&query, &[limit.into()]).await?;
        Ok((writes, rows))
    }

    /// PostgreSQL locks the rows it hands out and passes over those locked by others;
    /// SQLite's write lock already keeps relays apart.
    fn skip_locked(&self) -> &'static str {
        if self.writer.is_some() {
            ""
        } else {
            " FOR UPDATE SKIP LOCKED"
        }
    }
}
