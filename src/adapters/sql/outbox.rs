//! The outbox table.

use async_trait::async_trait;

use super::{SqlStore, SqlTransaction};
use crate::adapters::StoreError;
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
}
