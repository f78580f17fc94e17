//! Rebuilding the read models from the write model, for after a bug or a manual repair,
//! in SQL or in Redis, wherever they live.

use super::SqlStore;
use crate::adapters::StoreError;
use crate::adapters::redis_read_model::{BatchState, LineState, RedisReadModel};

/// Every batch with what is allocated to it.
const BATCHES: &str = "SELECT b.reference, b.sku, b.eta, b.purchased_quantity, \
     CAST(COALESCE(SUM(a.qty), 0) AS BIGINT), b.changed_by \
     FROM batches b LEFT JOIN allocations a ON a.batch_id = b.id \
     GROUP BY b.id, b.reference, b.sku, b.eta, b.purchased_quantity, b.changed_by";

/// Every allocated line, in the order allocated.
const LINES: &str = "SELECT a.orderid, a.sku, a.qty, b.reference, a.allocated_at, a.allocated_by \
     FROM allocations a JOIN batches b ON b.id = a.batch_id ORDER BY a.id";

/// A row of [`BATCHES`]: reference, SKU, ETA, purchased, allocated, changed by.
type BatchRow = (String, String, Option<String>, i64, i64, Option<String>);

/// A row of [`LINES`]: order, SKU, quantity, batch, allocated at, allocated by.
type LineRow = (String, String, i64, String, Option<String>, Option<String>);

/// Every SKU's totals, from `batches_view` and `allocations_view` as rebuilt.
const SKU_STOCK: &str = "SELECT b.sku, COUNT(*), \
     SUM(CASE WHEN b.eta IS NULL THEN b.purchased_quantity ELSE 0 END), \
     SUM(CASE WHEN b.eta IS NULL THEN b.allocated_quantity ELSE 0 END), \
     SUM(CASE WHEN b.eta IS NULL THEN 0 ELSE b.purchased_quantity END), \
     SUM(CASE WHEN b.eta IS NULL THEN 0 ELSE b.allocated_quantity END), \
     (SELECT COUNT(*) FROM allocations_view a WHERE a.sku = b.sku), MIN(b.eta) \
     FROM batches_view b GROUP BY b.sku";

impl SqlStore {
    /// Rebuilds the read models that follow from the write model (allocations, batch
    /// and SKU totals; in SQL, and in Redis when it holds them too) in one transaction,
    /// no writer running meanwhile. Out-of-stock notices record events, not state, and
    /// are kept as they are.
    pub async fn rebuild_read_models(&self) -> Result<(), StoreError> {
        // SQLite: a relay applying read-model updates holds the table's relay lock, not
        // the write lock, while it talks to Redis. Taken first (as the relay takes it
        // before the turn), it keeps any relay from applying, after the rebuild,
        // updates that the rebuild has superseded.
        let _relay = match (&self.relay_locks, &self.redis_read_model) {
            (Some(locks), Some(_)) => Some(locks.take("read_model_updates").await?),
            _ => None,
        };
        let mut writes = self.begin_writes().await?;
        if self.writer.is_none() {
            // PostgreSQL: no writer may change what is being rebuilt meanwhile (SQLite's
            // write lock, taken by `begin_writes`, already sees to that; the relays'
            // `FOR UPDATE` waits for the table lock). Readers go on.
            sqlx::query(
                "LOCK TABLE products, allocations_view, batches_view, sku_stock_view, \
                 read_model_updates IN EXCLUSIVE MODE",
            )
            .execute(writes.connection())
            .await?;
        }
        let statements = [
            "DELETE FROM allocations_view".to_owned(),
            format!(
                "INSERT INTO allocations_view \
                 (orderid, sku, qty, batchref, allocated_at, allocated_by) {LINES}"
            ),
            "DELETE FROM batches_view".to_owned(),
            format!(
                "INSERT INTO batches_view \
                 (reference, sku, eta, purchased_quantity, allocated_quantity, changed_by) \
                 {BATCHES}"
            ),
            "DELETE FROM sku_stock_view".to_owned(),
            format!(
                "INSERT INTO sku_stock_view (sku, batches, warehouse_purchased, \
                 warehouse_allocated, incoming_purchased, incoming_allocated, open_lines, \
                 next_eta) {SKU_STOCK}"
            ),
        ];
        for statement in statements {
            sqlx::query(&statement).execute(writes.connection()).await?;
        }
        if let Some(redis) = &self.redis_read_model {
            return self.rebuild_in_redis(writes, redis).await;
        }
        writes.commit().await
    }

    /// Replaces the Redis read models with the write model's state, stamped with an id
    /// newer than any update recorded so far: updates still pending are covered by the
    /// new state and dropped, and any still on their way to Redis lose to it.
    async fn rebuild_in_redis(
        &self,
        mut writes: super::Writes,
        redis: &RedisReadModel,
    ) -> Result<(), StoreError> {
        let newest: i64 = sqlx::query_scalar(
            "INSERT INTO read_model_updates (payload) VALUES ('rebuilt') RETURNING id",
        )
        .fetch_one(writes.connection())
        .await?;
        sqlx::query("DELETE FROM read_model_updates")
            .execute(writes.connection())
            .await?;
        let batches: Vec<BatchRow> = sqlx::query_as(BATCHES)
            .fetch_all(writes.connection())
            .await?;
        let lines: Vec<LineRow> = sqlx::query_as(LINES).fetch_all(writes.connection()).await?;
        let batches: Vec<_> = batches
            .into_iter()
            .map(
                |(reference, sku, eta, purchased, allocated, changed_by)| BatchState {
                    reference,
                    sku,
                    eta,
                    purchased,
                    allocated,
                    changed_by,
                },
            )
            .collect();
        let lines: Vec<_> = lines
            .into_iter()
            .map(|(orderid, sku, qty, batchref, _, allocated_by)| LineState {
                orderid,
                sku,
                qty,
                batchref,
                allocated_by,
            })
            .collect();
        redis.replace(newest, &batches, &lines).await?;
        writes.commit().await
    }
}
