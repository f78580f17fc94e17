//! Rebuilding the read models from the write model, for after a bug or a manual repair,
//! in SQL or in Redis, wherever they live.

use super::SqlStore;
use crate::adapters::StoreError;
use crate::adapters::redis_read_model::{BatchState, LineState, RedisReadModel};

/// Every batch with what is allocated to it.
const BATCHES: &str = "SELECT b.reference, b.sku, b.eta, b.purchased_quantity, \
     CAST(COALESCE(SUM(a.qty), 0) AS BIGINT) FROM batches b LEFT JOIN allocations a ON a.batch_id = b.id \
     GROUP BY b.id, b.reference, b.sku, b.eta, b.purchased_quantity";

/// Every allocated line, in the order allocated.
const LINES: &str = "SELECT a.orderid, a.sku, a.qty, b.reference \
     FROM allocations a JOIN batches b ON b.id = a.batch_id ORDER BY a.id";

impl SqlStore {
    /// Rebuilds the read models that follow from the write model (allocations and
    /// batch totals) in one transaction, no writer running meanwhile. Out-of-stock
    /// notices record events, not state, and are kept as they are.
    pub async fn rebuild_read_models(&self) -> Result<(), StoreError> {
        let mut writing = self.begin_writing().await?;
        if self.writer.is_none() {
            // PostgreSQL: no writer may change what is being rebuilt meanwhile (SQLite's
            // write lock, taken by `begin_writing`, already sees to that). Readers go on.
            sqlx::query(
                "LOCK TABLE products, allocations_view, batches_view, read_model_updates \
                 IN EXCLUSIVE MODE",
            )
            .execute(&mut *writing.transaction)
            .await?;
        }
        if let Some(redis) = &self.redis_read_model {
            return self.rebuild_in_redis(writing, redis).await;
        }
        let statements = [
            "DELETE FROM allocations_view".to_owned(),
            format!("INSERT INTO allocations_view (orderid, sku, qty, batchref) {LINES}"),
            "DELETE FROM batches_view".to_owned(),
            format!(
                "INSERT INTO batches_view \
                 (reference, sku, eta, purchased_quantity, allocated_quantity) {BATCHES}"
            ),
        ];
        for statement in statements {
            sqlx::query(&statement)
                .execute(&mut *writing.transaction)
                .await?;
        }
        Ok(writing.transaction.commit().await?)
    }

    /// Replaces the Redis read models with the write model's state, stamped with an id
    /// newer than any update recorded so far: updates still pending are covered by the
    /// new state and dropped, and any still on their way to Redis lose to it.
    async fn rebuild_in_redis(
        &self,
        mut writing: super::SqlTransaction,
        redis: &RedisReadModel,
    ) -> Result<(), StoreError> {
        let newest: i64 = sqlx::query_scalar(
            "INSERT INTO read_model_updates (payload) VALUES ('rebuilt') RETURNING id",
        )
        .fetch_one(&mut *writing.transaction)
        .await?;
        sqlx::query("DELETE FROM read_model_updates")
            .execute(&mut *writing.transaction)
            .await?;
        let batches: Vec<(String, String, Option<String>, i64, i64)> = sqlx::query_as(BATCHES)
            .fetch_all(&mut *writing.transaction)
            .await?;
        let lines: Vec<(String, String, i64, String)> = sqlx::query_as(LINES)
            .fetch_all(&mut *writing.transaction)
            .await?;
        let batches: Vec<_> = batches
            .into_iter()
            .map(|(reference, sku, eta, purchased, allocated)| BatchState {
                reference,
                sku,
                eta,
                purchased,
                allocated,
            })
            .collect();
        let lines: Vec<_> = lines
            .into_iter()
            .map(|(orderid, sku, qty, batchref)| LineState {
                orderid,
                sku,
                qty,
                batchref,
            })
            .collect();
        redis.replace(newest, &batches, &lines).await?;
        Ok(writing.transaction.commit().await?)
    }
}
