//! The outbox: messages for the outside world, recorded in the transaction of the change
//! that caused them, so a message exists exactly when its change was committed. A relay
//! publishes them afterwards, in order, and again after a crash or an outage until
//! they are out: at least once.

use std::fmt::Display;
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use tokio::sync::Notify;

use super::StoreError;
use super::notifications::Mail;
use super::redis_events::RedisPublisher;
use super::sql::{Outcome, SqlStore};

#[async_trait]
pub trait Outbox: Send {
    /// A message to publish on a Redis channel.
    async fn record_message(&mut self, channel: &str, payload: &str) -> Result<(), StoreError>;

    /// An e-mail to send.
    async fn record_mail(&mut self, mail: &Mail) -> Result<(), StoreError>;
}

/// A recorded message not yet published.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Message {
    pub id: i64,
    pub channel: String,
    pub payload: String,
}

/// How many messages the relay takes from the outbox at a time.
const BATCH: i64 = 100;

/// How long the relay sleeps when nothing woke it, or after a failure.
const PAUSE: Duration = Duration::from_secs(1);

/// How long a woken relay waits for the commits right behind the one that woke it.
/// Under load, a round for every commit or two took the writer's turn to delete a
/// few rows each time: a tenth of the server's time went to the events relay.
const GATHER: Duration = Duration::from_millis(10);

/// Runs `drain` for as long as the server runs: woken after each commit that recorded
/// something, and every second anyway, to catch up after a failure or a restart.
pub async fn keep_draining<F, Fut, E>(what: &str, wake: Arc<Notify>, mut drain: F)
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<(), E>>,
    E: Display,
{
    loop {
        match drain().await {
            Ok(()) => {
                if tokio::time::timeout(PAUSE, wake.notified()).await.is_ok() {
                    tokio::time::sleep(GATHER).await;
                }
            }
            Err(error) => {
                tracing::warn!(%error, "{what}: will try again");
                tokio::time::sleep(PAUSE).await;
            }
        }
    }
}

/// Publishes the outbox's Redis messages for as long as the server runs.
pub async fn relay(store: SqlStore, publisher: RedisPublisher, wake: Arc<Notify>) {
    keep_draining("outbox relay", wake, || publish_pending(&store, &publisher)).await;
}

/// Publishes every message recorded so far, oldest first.
pub async fn publish_pending(
    store: &SqlStore,
    publisher: &RedisPublisher,
) -> Result<(), RelayError> {
    loop {
        let claimed = store.claim_messages(BATCH).await?;
        if claimed.rows.is_empty() {
            return Ok(());
        }
        let messages = claimed
            .rows
            .iter()
            .map(|message| (message.channel.as_str(), message.payload.as_str()));
        // Nothing is marked sent unless all went out; some may be published twice.
        publisher.publish_all(messages).await?;
        let published: Vec<_> = claimed
            .rows
            .iter()
            .map(|message| (message.id, Outcome::Sent))
            .collect();
        claimed.finish(&published).await?;
    }
}

#[derive(Debug, thiserror::Error)]
pub enum RelayError {
    #[error("reading the outbox: {0}")]
    Store(#[from] StoreError),
    #[error("publishing to Redis: {0}")]
    Redis(#[from] redis::RedisError),
}
