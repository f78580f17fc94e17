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

impl SqlStore {
    /// The oldest messages not yet published.
    pub async fn unpublished_messages(&self, limit: i64) -> Result<Vec<Message>, StoreError> {
        Ok(sqlx::query_as(
            "SELECT id, channel, payload FROM outbox WHERE published = 0 ORDER BY id LIMIT $1",
        )
        .bind(limit)
        .fetch_all(&self.pool)
        .await?)
    }

    pub async fn mark_published(&self, id: i64) -> Result<(), StoreError> {
        sqlx::query("UPDATE outbox SET published = 1 WHERE id = $1")
            .bind(id)
            .execute(&self.pool)
            .await?;
        Ok(())
    }
    /// The oldest e-mails not yet sent.
    pub async fn unsent_mail(&self, limit: i64) -> Result<Vec<QueuedMail>, StoreError> {
        Ok(sqlx::query_as(
            "SELECT id, recipient, subject, body FROM outgoing_mail WHERE sent = 0 \
             ORDER BY id LIMIT $1",
        )
        .bind(limit)
        .fetch_all(&self.pool)
        .await?)
    }

    pub async fn mark_mail_sent(&self, id: i64) -> Result<(), StoreError> {
        sqlx::query("UPDATE outgoing_mail SET sent = 1 WHERE id = $1")
            .bind(id)
            .execute(&self.pool)
            .await?;
        Ok(())
    }
}
