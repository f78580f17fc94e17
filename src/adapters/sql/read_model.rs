//! The SQL read models, written in the same transaction as the change that caused
//! them: they can never disagree with the write model after a commit or a crash. With
//! the read models in Redis, the same transaction also records the updates for Redis;
//! the SQL ones are kept all the same, for the reports.

use async_trait::async_trait;

use super::{SqlTransaction, line_values};
use crate::adapters::StoreError;
use crate::adapters::read_model::ReadModelWriter;
use crate::adapters::redis_read_model::Update;
use crate::domain::events::{Allocated, BatchCreated, BatchQuantityChanged, OutOfStock};
use crate::domain::model::OrderLine;

/// A batch as `batches_view` lists it, for what a change to it means for its SKU's
/// totals: SKU, ETA, purchased quantity.
type ListedBatch = (String, Option<String>, i64);

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
        let eta = eta.as_deref();
        let qty = i64::from(created.qty.get());
        let sku = created.sku.as_str();
        let params = [
            created.reference.as_str().into(),
            sku.into(),
            eta.into(),
            qty.into(),
            self.actor.as_str().into(),
        ];
        let writes = self.writes.executor();
        let listed = writes
            .execute(
                "INSERT INTO batches_view (reference, sku, eta, purchased_quantity, changed_by) \
                 VALUES ($1, $2, $3, $4, $5) ON CONFLICT (reference) DO NOTHING",
                &params,
            )
            .await?;
        if listed == 0 {
            return Ok(());
        }
        self.writes
            .executor()
            .execute(
                "INSERT INTO sku_stock_view (sku) VALUES ($1) ON CONFLICT (sku) DO NOTHING",
                &[sku.into()],
            )
            .await?;
        let (warehouse, incoming) = if eta.is_none() { (qty, 0) } else { (0, qty) };
        self.writes
            .executor()
            .execute(
                "UPDATE sku_stock_view SET batches = batches + 1, \
                        warehouse_purchased = warehouse_purchased + $2, \
                        incoming_purchased = incoming_purchased + $3, \
                        next_eta = CASE WHEN next_eta IS NULL OR $4 < next_eta THEN $4 \
                                        ELSE next_eta END \
                 WHERE sku = $1",
                &[sku.into(), warehouse.into(), incoming.into(), eta.into()],
            )
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
        let reference = changed.reference.as_str();
        let listed: Option<ListedBatch> = self
            .writes
            .executor()
            .fetch_optional(
                "SELECT sku, eta, purchased_quantity FROM batches_view WHERE reference = $1",
                &[reference.into()],
            )
            .await?;
        let Some((sku, eta, purchased_quantity)) = listed else {
            return Ok(());
        };
        let qty = i64::from(changed.qty.get());
        let growth = qty - purchased_quantity;
        let (warehouse, incoming) = if eta.is_none() {
            (growth, 0)
        } else {
            (0, growth)
        };
        self.writes
            .executor()
            .execute(
                "UPDATE sku_stock_view SET warehouse_purchased = warehouse_purchased + $2, \
                        incoming_purchased = incoming_purchased + $3 WHERE sku = $1",
                &[sku.as_str().into(), warehouse.into(), incoming.into()],
            )
            .await?;
        let params = [reference.into(), qty.into(), self.actor.as_str().into()];
        self.writes
            .executor()
            .execute(
                "UPDATE batches_view SET purchased_quantity = $2, changed_by = $3 \
                 WHERE reference = $1",
                &params,
            )
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
        let [orderid, sku, qty] = line_values(&allocated.line);
        let params = [
            orderid,
            sku,
            qty,
            allocated.batchref.as_str().into(),
            self.started_at.as_str().into(),
            self.actor.as_str().into(),
        ];
        let inserted = self
            .writes
            .executor()
            .execute(
                "INSERT INTO allocations_view \
                 (orderid, sku, qty, batchref, allocated_at, allocated_by) \
                 VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (orderid, sku, qty) DO NOTHING",
                &params,
            )
            .await?;
        if inserted == 1 {
            self.count_line(allocated.batchref.as_str(), &allocated.line, 1)
                .await?;
        }
        self.writes
            .executor()
            .execute(
                "UPDATE out_of_stock_notices SET resolved = 1 \
                 WHERE orderid = $1 AND sku = $2 AND qty = $3 AND resolved = 0",
                &line_values(&allocated.line),
            )
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
        let removed: Option<(String,)> = self
            .writes
            .executor()
            .fetch_optional(
                "DELETE FROM allocations_view WHERE orderid = $1 AND sku = $2 AND qty = $3 \
                 RETURNING batchref",
                &line_values(line),
            )
            .await?;
        if let Some((batchref,)) = removed {
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
        let [orderid, sku, qty] = line_values(&event.line);
        self.writes
            .executor()
            .execute(
                "INSERT INTO out_of_stock_notices (orderid, sku, qty, noticed_at) \
                 VALUES ($1, $2, $3, $4)",
                &[orderid, sku, qty, noticed_at.as_str().into()],
            )
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
        let id: Option<(i64,)> = self
            .writes
            .executor()
            .fetch_optional(
                "INSERT INTO read_model_updates (payload) VALUES ($1) RETURNING id",
                &[payload.as_str().into()],
            )
            .await?;
        let (id,) =
            id.ok_or_else(|| StoreError::Backend("no id for a read-model update".into()))?;
        projection.recorded.push((id, update));
        Ok(())
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
        let batch: Option<(String, Option<String>)> = self
            .writes
            .executor()
            .fetch_optional(
                "UPDATE batches_view SET allocated_quantity = allocated_quantity + $2 \
                 WHERE reference = $1 RETURNING sku, eta",
                &[batchref.into(), units.into()],
            )
            .await?;
        let Some((sku, eta)) = batch else {
            return Ok(());
        };
        let (warehouse, incoming) = if eta.is_none() {
            (units, 0)
        } else {
            (0, units)
        };
        self.writes
            .executor()
            .execute(
                "UPDATE sku_stock_view SET warehouse_allocated = warehouse_allocated + $2, \
                        incoming_allocated = incoming_allocated + $3, \
                        open_lines = open_lines + $4 \
                 WHERE sku = $1",
                &[
                    sku.as_str().into(),
                    warehouse.into(),
                    incoming.into(),
                    sign.into(),
                ],
            )
            .await?;
        Ok(())
    }
}
