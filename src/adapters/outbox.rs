//! The outbox: messages for the outside world, recorded in the transaction of the change
//! that caused them, so a message exists exactly when its change was committed. A relay
//! publishes them afterwards, in order, and again after a crash or an outage until
//! they are out: at least once.

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use tokio::sync::Notify;

use super::StoreError;
use super::redis_events::RedisPublisher;
use super::sql::SqlStore;

#[async_trait]
pub trait Outbox: Send {
    async fn record_message(&mut self, channel: &str, payload: &str) -> Result<(), StoreError>;
}

/// A recorded message not yet published.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct Message {
    pub id: i64,
    pub channel: String,
    pub payload: String,
}

/// How many messages the relay takes from the outbox at a time.
const BATCH: i64 = 100;

/// How long the relay sleeps when nothing woke it, or after a failure.
const PAUSE: Duration = Duration::from_secs(1);

/// Publishes the outbox for as long as the server runs: woken after each commit that
/// recorded messages, and every second to catch up after failures.
pub async fn relay(store: SqlStore, publisher: RedisPublisher, wake: Arc<Notify>) {
    loop {
        match publish_pending(&store, &publisher).await {
            Ok(()) => {
                let _ = tokio::time::timeout(PAUSE, wake.notified()).await;
            }
            Err(error) => {
                tracing::warn!(%error, "outbox relay: will try again");
                tokio::time::sleep(PAUSE).await;
            }
        }
    }
}

/// Publishes every message recorded so far, oldest first.
pub async fn publish_pending(
    store: &SqlStore,
    publisher: &RedisPublisher,
) -> Result<(), RelayError> {
    loop {
        let messages = store.unpublished_messages(BATCH).await?;
        if messages.is_empty() {
            return Ok(());
        }
        for message in messages {
            publisher
                .publish(&message.channel, &message.payload)
                .await?;
            store.mark_published(message.id).await?;
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum RelayError {
    #[error("reading the outbox: {0}")]
    Store(#[from] StoreError),
    #[error("publishing to Redis: {0}")]
    Redis(#[from] redis::RedisError),
}
