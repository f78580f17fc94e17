//! The SQL read models, written in the same transaction as the change that caused
//! them: they can never disagree with the write model after a commit or a crash. With
//! the read models in Redis, the same transaction records the updates for Redis instead.

use async_trait::async_trait;
use sqlx::Row;

use super::{SqlTransaction, bind_line};
use crate::adapters::StoreError;
use crate::adapters::read_model::ReadModelWriter;
use crate::adapters::redis_read_model::Update;
use crate::domain::events::{Allocated, BatchCreated, BatchQuantityChanged, OutOfStock};
use crate::domain::model::OrderLine;

#[async_trait]
impl ReadModelWriter for SqlTransaction {
    async fn add_batch(&mut self, created: &BatchCreated) -> Result<(), StoreError> {
        let update = || Update::Batch {
            reference: created.reference.clone(),
            sku: Some(created.sku.clone()),
            eta: created.eta,
            qty: created.qty,
        };
        if self.recorded_for_redis(update).await? {
            return Ok(());
        }
        sqlx::query(
            "INSERT INTO batches_view (reference, sku, eta, purchased_quantity) \
             VALUES ($1, $2, $3, $4) ON CONFLICT (reference) DO NOTHING",
        )
        .bind(created.reference.as_str())
        .bind(created.sku.as_str())
        .bind(created.eta.map(|eta| eta.to_string()))
        .bind(i64::from(created.qty.get()))
        .execute(&mut *self.transaction)
        .await?;
        Ok(())
    }

    async fn set_batch_quantity(
        &mut self,
        changed: &BatchQuantityChanged,
    ) -> Result<(), StoreError> {
        let update = || Update::Batch {
            reference: changed.reference.clone(),
            sku: None,
            eta: None,
            qty: changed.qty,
        };
        if self.recorded_for_redis(update).await? {
            return Ok(());
        }
        sqlx::query("UPDATE batches_view SET purchased_quantity = $2 WHERE reference = $1")
            .bind(changed.reference.as_str())
            .bind(i64::from(changed.qty.get()))
            .execute(&mut *self.transaction)
            .await?;
        Ok(())
    }

    async fn add_allocation(&mut self, allocated: &Allocated) -> Result<(), StoreError> {
        let update = || Update::Line {
            line: allocated.line.clone(),
            batchref: Some(allocated.batchref.clone()),
        };
        if self.recorded_for_redis(update).await? {
            return Ok(());
        }
        let insert = sqlx::query(
            "INSERT INTO allocations_view (orderid, sku, qty, batchref) VALUES ($1, $2, $3, $4) \
             ON CONFLICT (orderid, sku, qty) DO NOTHING",
        );
        let inserted = bind_line(insert, &allocated.line)
            .bind(allocated.batchref.as_str())
            .execute(&mut *self.transaction)
            .await?
            .rows_affected();
        if inserted == 1 {
            self.add_to_batch_total(allocated.batchref.as_str(), allocated.line.qty.get().into())
                .await?;
        }
        let resolve = sqlx::query(
            "UPDATE out_of_stock_notices SET resolved = 1 \
             WHERE orderid = $1 AND sku = $2 AND qty = $3 AND resolved = 0",
        );
        bind_line(resolve, &allocated.line)
            .execute(&mut *self.transaction)
            .await?;
        Ok(())
    }

    async fn remove_allocation(&mut self, line: &OrderLine) -> Result<(), StoreError> {
        let update = || Update::Line {
            line: line.clone(),
            batchref: None,
        };
        if self.recorded_for_redis(update).await? {
            return Ok(());
        }
        // The batch to debit is the one the view recorded.
        let delete = sqlx::query(
            "DELETE FROM allocations_view WHERE orderid = $1 AND sku = $2 AND qty = $3 \
             RETURNING batchref",
        );
        let removed = bind_line(delete, line)
            .fetch_optional(&mut *self.transaction)
            .await?;
        if let Some(row) = removed {
            let batchref: String = row.try_get("batchref")?;
            self.add_to_batch_total(&batchref, -i64::from(line.qty.get()))
                .await?;
        }
        Ok(())
    }

    async fn record_out_of_stock(&mut self, event: &OutOfStock) -> Result<(), StoreError> {
        let noticed_at = chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true);
        let update = || Update::OutOfStock {
            line: event.line.clone(),
            noticed_at: noticed_at.clone(),
        };
        if self.recorded_for_redis(update).await? {
            return Ok(());
        }
        let insert = sqlx::query(
            "INSERT INTO out_of_stock_notices (orderid, sku, qty, noticed_at) \
             VALUES ($1, $2, $3, $4)",
        );
        bind_line(insert, &event.line)
            .bind(noticed_at)
            .execute(&mut *self.transaction)
            .await?;
        Ok(())
    }
}

impl SqlTransaction {
    /// With the read models in Redis, records the update for them (to apply after the
    /// commit) and answers true; otherwise answers false, for the SQL views to be written.
    async fn recorded_for_redis(
        &mut self,
        update: impl FnOnce() -> Update,
    ) -> Result<bool, StoreError> {
        let Some(projection) = &mut self.projection else {
            return Ok(false);
        };
        let update = update();
        let payload = serde_json::to_string(&update).map_err(|e| StoreError::Backend(e.into()))?;
        let id: i64 =
            sqlx::query_scalar("INSERT INTO read_model_updates (payload) VALUES ($1) RETURNING id")
                .bind(payload)
                .fetch_one(&mut *self.transaction)
                .await?;
        projection.recorded.push((id, update));
        Ok(true)
    }

    async fn add_to_batch_total(&mut self, batchref: &str, units: i64) -> Result<(), StoreError> {
        sqlx::query(
            "UPDATE batches_view SET allocated_quantity = allocated_quantity + $2 \
             WHERE reference = $1",
        )
        .bind(batchref)
        .bind(units)
        .execute(&mut *self.transaction)
        .await?;
        Ok(())
    }
}
