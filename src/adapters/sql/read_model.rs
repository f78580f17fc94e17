//! The SQL read models, written in the same transaction as the change that caused
//! them: they can never disagree with the write model after a commit or a crash. With
//! the read models in Redis, the same transaction also records the updates for Redis;
//! the SQL ones are kept all the same, for the reports.

use async_trait::async_trait;

use super::{SqlTransaction, bind_line};
use crate::adapters::StoreError;
use crate::adapters::read_model::ReadModelWriter;
use crate::adapters::redis_read_model::Update;
use crate::domain::events::{Allocated, BatchCreated, BatchQuantityChanged, OutOfStock};
use crate::domain::model::OrderLine;

/// A batch as `batches_view` lists it: what a change to it means for its SKU's totals.
#[derive(sqlx::FromRow)]
struct ListedBatch {
    sku: String,
    eta: Option<String>,
    purchased_quantity: i64,
}

#[async_trait]
impl ReadModelWriter for SqlTransaction {
    async fn add_batch(&mut self, created: &BatchCreated) -> Result<(), StoreError> {
        self.record_for_redis(|by| Update::Batch {
            reference: created.reference.clone(),
            sku: Some(created.sku.clone()),
            eta: created.eta,
            qty: created.qty,
            by: by.to_owned(),
        })
        .await?;
        let eta = created.eta.map(|eta| eta.to_string());
        let qty = i64::from(created.qty.get());
        let listed = sqlx::query(
            "INSERT INTO batches_view (reference, sku, eta, purchased_quantity, changed_by) \
             VALUES ($1, $2, $3, $4, $5) ON CONFLICT (reference) DO NOTHING",
        )
        .bind(created.reference.as_str())
        .bind(created.sku.as_str())
        .bind(&eta)
        .bind(qty)
        .bind(&self.actor)
        .execute(self.connections.for_writing().await?)
        .await?
        .rows_affected();
        if listed == 0 {
            return Ok(());
        }
        sqlx::query("INSERT INTO sku_stock_view (sku) VALUES ($1) ON CONFLICT (sku) DO NOTHING")
            .bind(created.sku.as_str())
            .execute(self.connections.for_writing().await?)
            .await?;
        let (warehouse, incoming) = if eta.is_none() { (qty, 0) } else { (0, qty) };
        sqlx::query(
            "UPDATE sku_stock_view SET batches = batches + 1, \
                    warehouse_purchased = warehouse_purchased + $2, \
                    incoming_purchased = incoming_purchased + $3, \
                    next_eta = CASE WHEN next_eta IS NULL OR $4 < next_eta THEN $4 \
                                    ELSE next_eta END \
             WHERE sku = $1",
        )
        .bind(created.sku.as_str())
        .bind(warehouse)
        .bind(incoming)
        .bind(&eta)
        .execute(self.connections.for_writing().await?)
        .await?;
        Ok(())
    }

    async fn set_batch_quantity(
        &mut self,
        changed: &BatchQuantityChanged,
    ) -> Result<(), StoreError> {
        self.record_for_redis(|by| Update::Batch {
            reference: changed.reference.clone(),
            sku: None,
            eta: None,
            qty: changed.qty,
            by: by.to_owned(),
        })
        .await?;
        let Some(batch) = self.listed_batch(changed.reference.as_str()).await? else {
            return Ok(());
        };
        let qty = i64::from(changed.qty.get());
        let growth = qty - batch.purchased_quantity;
        let (warehouse, incoming) = if batch.eta.is_none() {
            (growth, 0)
        } else {
            (0, growth)
        };
        sqlx::query(
            "UPDATE sku_stock_view SET warehouse_purchased = warehouse_purchased + $2, \
                    incoming_purchased = incoming_purchased + $3 WHERE sku = $1",
        )
        .bind(&batch.sku)
        .bind(warehouse)
        .bind(incoming)
        .execute(self.connections.for_writing().await?)
        .await?;
        sqlx::query(
            "UPDATE batches_view SET purchased_quantity = $2, changed_by = $3 WHERE reference = $1",
        )
        .bind(changed.reference.as_str())
        .bind(qty)
        .bind(&self.actor)
        .execute(self.connections.for_writing().await?)
        .await?;
        Ok(())
    }

    async fn add_allocation(&mut self, allocated: &Allocated) -> Result<(), StoreError> {
        self.record_for_redis(|by| Update::Line {
            line: allocated.line.clone(),
            batchref: Some(allocated.batchref.clone()),
            by: by.to_owned(),
        })
        .await?;
        let insert = sqlx::query(
            "INSERT INTO allocations_view (orderid, sku, qty, batchref, allocated_at, allocated_by) \
             VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (orderid, sku, qty) DO NOTHING",
        );
        let inserted = bind_line(insert, &allocated.line)
            .bind(allocated.batchref.as_str())
            .bind(&self.started_at)
            .bind(&self.actor)
            .execute(self.connections.for_writing().await?)
            .await?
            .rows_affected();
        if inserted == 1 {
            self.count_line(allocated.batchref.as_str(), &allocated.line, 1)
                .await?;
        }
        let resolve = sqlx::query(
            "UPDATE out_of_stock_notices SET resolved = 1 \
             WHERE orderid = $1 AND sku = $2 AND qty = $3 AND resolved = 0",
        );
        bind_line(resolve, &allocated.line)
            .execute(self.connections.for_writing().await?)
            .await?;
        Ok(())
    }

    async fn remove_allocation(&mut self, line: &OrderLine) -> Result<(), StoreError> {
        self.record_for_redis(|by| Update::Line {
            line: line.clone(),
            batchref: None,
            by: by.to_owned(),
        })
        .await?;
        // The batch to debit is the one the view recorded.
        let delete = sqlx::query_scalar(
            "DELETE FROM allocations_view WHERE orderid = $1 AND sku = $2 AND qty = $3 \
             RETURNING batchref",
        );
        let removed: Option<String> = delete
            .bind(line.orderid.as_str())
            .bind(line.sku.as_str())
            .bind(i64::from(line.qty.get()))
            .fetch_optional(self.connections.for_writing().await?)
            .await?;
        if let Some(batchref) = removed {
            self.count_line(&batchref, line, -1).await?;
        }
        Ok(())
    }

    async fn record_out_of_stock(&mut self, event: &OutOfStock) -> Result<(), StoreError> {
        let noticed_at = self.started_at.clone();
        self.record_for_redis(|_| Update::OutOfStock {
            line: event.line.clone(),
            noticed_at: noticed_at.clone(),
        })
        .await?;
        let insert = sqlx::query(
            "INSERT INTO out_of_stock_notices (orderid, sku, qty, noticed_at) \
             VALUES ($1, $2, $3, $4)",
        );
        bind_line(insert, &event.line)
            .bind(noticed_at)
            .execute(self.connections.for_writing().await?)
            .await?;
        Ok(())
    }
}

impl SqlTransaction {
    /// With the read models in Redis, records the update for them, to apply after the
    /// commit. `update` is given the transaction's actor.
    async fn record_for_redis(
        &mut self,
        update: impl FnOnce(&str) -> Update,
    ) -> Result<(), StoreError> {
        let Some(projection) = &mut self.projection else {
            return Ok(());
        };
        let update = update(&self.actor);
        let payload = serde_json::to_string(&update).map_err(|e| StoreError::Backend(e.into()))?;
        let id: i64 =
            sqlx::query_scalar("INSERT INTO read_model_updates (payload) VALUES ($1) RETURNING id")
                .bind(payload)
                .fetch_one(self.connections.for_writing().await?)
                .await?;
        projection.recorded.push((id, update));
        Ok(())
    }

    async fn listed_batch(&mut self, reference: &str) -> Result<Option<ListedBatch>, StoreError> {
        Ok(sqlx::query_as(
            "SELECT sku, eta, purchased_quantity FROM batches_view WHERE reference = $1",
        )
        .bind(reference)
        .fetch_optional(self.connections.for_writing().await?)
        .await?)
    }

    /// Counts a line (`sign` 1) or stops counting it (-1) in its batch's and its SKU's
    /// totals.
    async fn count_line(
        &mut self,
        batchref: &str,
        line: &OrderLine,
        sign: i64,
    ) -> Result<(), StoreError> {
        let units = sign * i64::from(line.qty.get());
        let batch: Option<(String, Option<String>)> = sqlx::query_as(
            "UPDATE batches_view SET allocated_quantity = allocated_quantity + $2 \
             WHERE reference = $1 RETURNING sku, eta",
        )
        .bind(batchref)
        .bind(units)
        .fetch_optional(self.connections.for_writing().await?)
        .await?;
        let Some((sku, eta)) = batch else {
            return Ok(());
        };
        let (warehouse, incoming) = if eta.is_none() {
            (units, 0)
        } else {
            (0, units)
        };
        sqlx::query(
            "UPDATE sku_stock_view SET warehouse_allocated = warehouse_allocated + $2, \
                    incoming_allocated = incoming_allocated + $3, open_lines = open_lines + $4 \
             WHERE sku = $1",
        )
        .bind(&sku)
        .bind(warehouse)
        .bind(incoming)
        .bind(sign)
        .execute(self.connections.for_writing().await?)
        .await?;
        Ok(())
    }
}
