//! Redis pub/sub: where the service's external events go out.

use redis::aio::ConnectionManager;

use super::redis_connection::kept_connection;

/// The channel every `Allocated` event is published on.
pub const LINE_ALLOCATED: &str = "line_allocated";

/// The channel the service takes "change batch quantity" commands from.
pub const CHANGE_BATCH_QUANTITY: &str = "change_batch_quantity";

/// Publishes on one connection, kept as long as the publisher: a connection per
/// round of publishing cost a connect and a handshake with Redis for every few
/// messages.
#[derive(Clone)]
pub struct RedisPublisher {
    connection: ConnectionManager,
}

impl RedisPublisher {
    pub fn new(client: redis::Client) -> redis::RedisResult<Self> {
        Ok(Self {
            connection: kept_connection(client)?,
        })
    }

    /// Publishes each `(channel, payload)` in order, all in one round trip. On an error
    /// any of them may have gone out: the caller publishes them all again later.
    pub async fn publish_all<'a>(
        &self,
        messages: impl IntoIterator<Item = (&'a str, &'a str)>,
    ) -> redis::RedisResult<()> {
        let mut pipeline = redis::pipe();
        for (channel, payload) in messages {
            pipeline.publish(channel, payload).ignore();
        }
        pipeline.query_async(&mut self.connection.clone()).await
    }
}
