//! Queries over the SQL read models.

use sqlx::AnyPool;

use super::{BatchAllocation, BatchSummary, OrderAllocation, OutOfStockNotice, SkuStock};
use crate::adapters::StoreError;
use crate::domain::values::{BatchRef, OrderId, Sku};

const BATCH_COLUMNS: &str = "reference, sku, eta, purchased_quantity AS purchased, \
     allocated_quantity AS allocated, purchased_quantity - allocated_quantity AS available, \
     changed_by";

#[derive(Clone)]
pub struct SqlViews {
    pool: AnyPool,
}

impl SqlViews {
    pub fn new(pool: AnyPool) -> Self {
        Self { pool }
    }

    /// Whether the read models can be reached at all.
    pub async fn ping(&self) -> Result<(), StoreError> {
        sqlx::query("SELECT 1").execute(&self.pool).await?;
        Ok(())
    }

    /// The order's allocated lines, in the order they were allocated.
    pub async fn allocations(&self, orderid: &OrderId) -> Result<Vec<OrderAllocation>, StoreError> {
        Ok(sqlx::query_as(
            "SELECT sku, qty, batchref, allocated_by FROM allocations_view \
             WHERE orderid = $1 ORDER BY id",
        )
        .bind(orderid.as_str())
        .fetch_all(&self.pool)
        .await?)
    }

    /// Stock per SKU, alphabetically.
    pub async fn stock(&self) -> Result<Vec<SkuStock>, StoreError> {
        Ok(sqlx::query_as(
            "SELECT sku, CAST(SUM(purchased_quantity) AS BIGINT) AS purchased, \
                    CAST(SUM(allocated_quantity) AS BIGINT) AS allocated, \
                    CAST(SUM(purchased_quantity - allocated_quantity) AS BIGINT) AS available, \
                    COUNT(*) AS batches, MIN(eta) AS next_eta \
             FROM batches_view GROUP BY sku ORDER BY sku",
        )
        .fetch_all(&self.pool)
        .await?)
    }

    pub async fn skus(&self) -> Result<Vec<String>, StoreError> {
        Ok(
            sqlx::query_scalar("SELECT DISTINCT sku FROM batches_view ORDER BY sku")
                .fetch_all(&self.pool)
                .await?,
        )
    }

    /// Batches, optionally of one SKU, by SKU then in the order allocation prefers them
    /// (warehouse stock first, then by ETA).
    pub async fn batches(&self, sku: Option<&Sku>) -> Result<Vec<BatchSummary>, StoreError> {
        let query = format!(
            "SELECT {BATCH_COLUMNS} FROM batches_view \
             WHERE $1 IS NULL OR sku = $1 \
             ORDER BY sku, eta IS NOT NULL, eta, reference"
        );
        Ok(sqlx::query_as(&query)
            .bind(sku.map(Sku::as_str))
            .fetch_all(&self.pool)
            .await?)
    }

    pub async fn batch(&self, reference: &BatchRef) -> Result<Option<BatchSummary>, StoreError> {
        let query = format!("SELECT {BATCH_COLUMNS} FROM batches_view WHERE reference = $1");
        Ok(sqlx::query_as(&query)
            .bind(reference.as_str())
            .fetch_optional(&self.pool)
            .await?)
    }

    /// The lines allocated to the batch, in the order they were allocated.
    pub async fn batch_allocations(
        &self,
        reference: &BatchRef,
    ) -> Result<Vec<BatchAllocation>, StoreError> {
        Ok(sqlx::query_as(
            "SELECT orderid, qty, allocated_by FROM allocations_view \
             WHERE batchref = $1 ORDER BY id",
        )
        .bind(reference.as_str())
        .fetch_all(&self.pool)
        .await?)
    }

    /// The newest out-of-stock notices first.
    pub async fn latest_out_of_stock(
        &self,
        limit: i64,
    ) -> Result<Vec<OutOfStockNotice>, StoreError> {
        Ok(sqlx::query_as(
            "SELECT orderid, sku, qty, noticed_at FROM out_of_stock_notices \
             ORDER BY id DESC LIMIT $1",
        )
        .bind(limit)
        .fetch_all(&self.pool)
        .await?)
    }

    /// The order's lines still waiting for stock: noticed out of stock and not
    /// allocated since (a notice is resolved by the allocation, not undone by a later
    /// cancellation).
    pub async fn unallocated_lines(
        &self,
        orderid: &OrderId,
    ) -> Result<Vec<OutOfStockNotice>, StoreError> {
        Ok(sqlx::query_as(
            "SELECT orderid, sku, qty, MAX(noticed_at) AS noticed_at \
             FROM out_of_stock_notices WHERE orderid = $1 AND resolved = 0 \
             GROUP BY orderid, sku, qty ORDER BY MIN(id)",
        )
        .bind(orderid.as_str())
        .fetch_all(&self.pool)
        .await?)
    }
}
