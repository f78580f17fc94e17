//! Redis pub/sub: where the service's external events go out.

use redis::AsyncCommands;
use redis::aio::MultiplexedConnection;

/// The channel every `Allocated` event is published on.
pub const LINE_ALLOCATED: &str = "line_allocated";

/// The channel the service takes "change batch quantity" commands from.
pub const CHANGE_BATCH_QUANTITY: &str = "change_batch_quantity";

#[derive(Clone)]
pub struct RedisPublisher {
    client: redis::Client,
}

impl RedisPublisher {
    pub fn new(client: redis::Client) -> Self {
        Self { client }
    }

    pub async fn publish(&self, channel: &str, payload: &str) -> redis::RedisResult<()> {
        // The client keeps no connection open between outbox batches: one per call
        // reconnects by itself after a Redis restart.
        let mut connection: MultiplexedConnection =
            self.client.get_multiplexed_async_connection().await?;
        connection.publish::<_, _, ()>(channel, payload).await
    }
}
