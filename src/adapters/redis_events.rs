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

    /// A connection for one round of publishing. None is kept between rounds, so the
    /// next round reconnects by itself after a Redis restart.
    pub async fn connect(&self) -> redis::RedisResult<MultiplexedConnection> {
        self.client.get_multiplexed_async_connection().await
    }

    pub async fn publish(
        connection: &mut MultiplexedConnection,
        channel: &str,
        payload: &str,
    ) -> redis::RedisResult<()> {
        connection.publish::<_, _, ()>(channel, payload).await
    }
}
