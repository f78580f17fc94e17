//! The outbox tables: messages for Redis, e-mail for SMTP.

use async_trait::async_trait;

use super::{SqlStore, SqlTransaction};
use crate::adapters::StoreError;
use crate::adapters::notifications::{Mail, QueuedMail};
use crate::adapters::outbox::{Message, Outbox};

#[async_trait]
impl Outbox for SqlTransaction {
    async fn record_message(&mut self, channel: &str, payload: &str) -> Result<(), StoreError> {
        sqlx::query("INSERT INTO outbox (channel, payload) VALUES ($1, $2)")
            .bind(channel)
            .bind(payload)
            .execute(&mut *self.transaction)
            .await?;
        Ok(())
    }

    async fn record_mail(&mut self, mail: &Mail) -> Result<(), StoreError> {
        sqlx::query("INSERT INTO outgoing_mail (recipient, subject, body) VALUES ($1, $2, $3)")
            .bind(&mail.recipient)
            .bind(&mail.subject)
            .bind(&mail.body)
            .execute(&mut *self.transaction)
            .await?;
        Ok(())
    }
}

/// Rows taken from an outbox table, held by an open transaction until they are marked
/// handled: another process's relay skips them (PostgreSQL) or waits (SQLite), so each
/// row goes out once. Those not marked are released for the next round.
pub struct Claimed<T> {
    writing: SqlTransaction,
    /// Marks one row as handled; `$2` is 1 (sent) or 2 (given up).
    handled: &'static str,
    pub rows: Vec<T>,
}

/// What became of a claimed row.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    Sent,
    /// Refused for good: kept in the table, never tried again.
    GivenUp,
}

impl<T> Claimed<T> {
    /// Records what became of the rows named; the others are released for later.
    pub async fn finish(mut self, outcomes: &[(i64, Outcome)]) -> Result<(), StoreError> {
        for (id, outcome) in outcomes {
            let state: i64 = match outcome {
                Outcome::Sent => 1,
                Outcome::GivenUp => 2,
            };
            sqlx::query(self.handled)
                .bind(id)
                .bind(state)
                .execute(&mut *self.writing.transaction)
                .await?;
        }
        Ok(self.writing.transaction.commit().await?)
    }
}

impl SqlStore {
    /// The oldest messages not yet published.
    pub async fn claim_messages(&self, limit: i64) -> Result<Claimed<Message>, StoreError> {
        let query = format!(
            "SELECT id, channel, payload FROM outbox WHERE published = 0 ORDER BY id LIMIT $1{}",
            self.skip_locked()
        );
        let mut writing = self.begin_writing().await?;
        let rows: Vec<Message> = sqlx::query_as(&query)
            .bind(limit)
            .fetch_all(&mut *writing.transaction)
            .await?;
        Ok(Claimed {
            writing,
            handled: "UPDATE outbox SET published = $2 WHERE id = $1",
            rows,
        })
    }

    /// The oldest e-mails not yet sent.
    pub async fn claim_mail(&self, limit: i64) -> Result<Claimed<QueuedMail>, StoreError> {
        let query = format!(
            "SELECT id, recipient, subject, body FROM outgoing_mail WHERE sent = 0 \
             ORDER BY id LIMIT $1{}",
            self.skip_locked()
        );
        let mut writing = self.begin_writing().await?;
        let rows: Vec<QueuedMail> = sqlx::query_as(&query)
            .bind(limit)
            .fetch_all(&mut *writing.transaction)
            .await?;
        Ok(Claimed {
            writing,
            handled: "UPDATE outgoing_mail SET sent = $2 WHERE id = $1",
            rows,
        })
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
