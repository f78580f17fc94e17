//! The relay: applies to Redis whatever read-model updates the outbox still holds, after
//! a crash, a Redis outage or a server stopped between commit and Redis.

use std::sync::Arc;

use tokio::sync::Notify;

use super::RedisReadModel;
use crate::adapters::outbox::{RelayError, keep_draining};
use crate::adapters::sql::{Outcome, SqlStore};

/// How many updates are applied at a time.
const BATCH: i64 = 500;

/// Applies what is left in the outbox, every second for as long as the server runs.
/// Nothing wakes it sooner: each command applies its own updates as it commits.
pub async fn keep_projecting(store: SqlStore, model: RedisReadModel) {
    keep_draining("read-model relay", Arc::new(Notify::new()), || {
        project_pending(&store, &model)
    })
    .await;
}

/// Applies every update recorded so far, and takes it out of the outbox.
pub async fn project_pending(store: &SqlStore, model: &RedisReadModel) -> Result<(), RelayError> {
    // Most were applied by the transactions that recorded them.
    store.forget_applied_updates().await?;
    loop {
        let claimed = store.claim_read_model_updates(BATCH).await?;
        if claimed.rows.is_empty() {
            return Ok(());
        }
        model.apply(&claimed.rows).await?;
        let applied: Vec<_> = claimed
            .rows
            .iter()
            .map(|(id, _)| (*id, Outcome::Sent))
            .collect();
        claimed.finish(&applied).await?;
    }
}
