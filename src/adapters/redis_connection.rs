//! The connection each Redis adapter keeps for as long as it lives.

use std::time::Duration;

use redis::aio::{ConnectionManager, ConnectionManagerConfig};

/// How long a Redis command may take before the caller gives up on it.
const TIMEOUT: Duration = Duration::from_secs(2);

/// One multiplexed connection, opened on first use, so a server may start while Redis
/// is still down, and opened again by itself after Redis restarts. Cheap to clone.
pub fn kept_connection(client: redis::Client) -> redis::RedisResult<ConnectionManager> {
    let config = ConnectionManagerConfig::new()
        .set_connection_timeout(Some(TIMEOUT))
        .set_response_timeout(Some(TIMEOUT))
        .set_number_of_retries(1);
    ConnectionManager::new_lazy_with_config(client, config)
}
