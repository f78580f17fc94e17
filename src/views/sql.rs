//! Queries over the SQL read models.

use super::{BatchAllocation, BatchSummary, OrderAllocation, OutOfStockNotice, SkuStock};
use crate::adapters::StoreError;
use crate::adapters::sql::Reader;
use crate::domain::values::{BatchRef, OrderId, Sku};

const BATCH_COLUMNS: &str = "reference, sku, eta, purchased_quantity AS purchased, \
     allocated_quantity AS allocated, purchased_quantity - allocated_quantity AS available, \
     changed_by";

/// A row of [`BATCH_COLUMNS`].
type BatchRow = (
    String,
    String,
    Option<String>,
    i64,
    i64,
    i64,
    Option<String>,
);

fn batch_summary(
    (reference, sku, eta, purchased, allocated, available, changed_by): BatchRow,
) -> BatchSummary {
    BatchSummary {
        reference,
        sku,
        eta,
        purchased,
        allocated,
        available,
        changed_by,
    }
}

/// A row of `orderid, sku, qty, noticed_at`.
type NoticeRow = (String, String, i64, String);

fn notice((orderid, sku, qty, noticed_at): NoticeRow) -> OutOfStockNotice {
    OutOfStockNotice {
        orderid,
        sku,
        qty,
        noticed_at,
    }
}

#[derive(Clone)]
pub struct SqlViews {
    reader: Reader,
}

impl SqlViews {
    pub fn new(reader: Reader) -> Self {
        Self { reader }
    }

    /// Whether the read models can be reached at all.
    pub async fn ping(&self) -> Result<(), StoreError> {
        self.reader.fetch_all::<(i64,)>("SELECT 1", &[]).await?;
        Ok(())
    }

    /// The order's allocated lines, in the order they were allocated.
    pub async fn allocations(&self, orderid: &OrderId) -> Result<Vec<OrderAllocation>, StoreError> {
        let rows = self
            .reader
            .fetch_all(
                "SELECT sku, qty, batchref, allocated_by FROM allocations_view \
                 WHERE orderid = $1 ORDER BY id",
                &[orderid.as_str().into()],
            )
            .await?;
        Ok(rows
            .into_iter()
            .map(|(sku, qty, batchref, allocated_by)| OrderAllocation {
                sku,
                qty,
                batchref,
                allocated_by,
            })
            .collect())
    }

    /// Stock per SKU, alphabetically.
    pub async fn stock(&self) -> Result<Vec<SkuStock>, StoreError> {
        let rows = self
            .reader
            .fetch_all(
                "SELECT sku, CAST(SUM(purchased_quantity) AS BIGINT), \
                        CAST(SUM(allocated_quantity) AS BIGINT), \
                        CAST(SUM(purchased_quantity - allocated_quantity) AS BIGINT), \
                        COUNT(*), MIN(eta) \
                 FROM batches_view GROUP BY sku ORDER BY sku",
                &[],
            )
            .await?;
        Ok(rows
            .into_iter()
            .map(
                |(sku, purchased, allocated, available, batches, next_eta)| SkuStock {
                    sku,
                    purchased,
                    allocated,
                    available,
                    batches,
                    next_eta,
                },
            )
            .collect())
    }

    pub async fn skus(&self) -> Result<Vec<String>, StoreError> {
        let rows = self
            .reader
            .fetch_all("SELECT DISTINCT sku FROM batches_view ORDER BY sku", &[])
            .await?;
        Ok(rows.into_iter().map(|(sku,)| sku).collect())
    }

    /// Batches, optionally of one SKU, by SKU then in the order allocation prefers them
    /// (warehouse stock first, then by ETA).
    pub async fn batches(&self, sku: Option<&Sku>) -> Result<Vec<BatchSummary>, StoreError> {
        let query = format!(
            "SELECT {BATCH_COLUMNS} FROM batches_view \
             WHERE $1 IS NULL OR sku = $1 \
             ORDER BY sku, eta IS NOT NULL, eta, reference"
        );
        let rows = self
            .reader
            .fetch_all(&query, &[sku.map(Sku::as_str).into()])
            .await?;
        Ok(rows.into_iter().map(batch_summary).collect())
    }

    pub async fn batch(&self, reference: &BatchRef) -> Result<Option<BatchSummary>, StoreError> {
        let query = format!("SELECT {BATCH_COLUMNS} FROM batches_view WHERE reference = $1");
        let row = self
            .reader
            .fetch_optional(&query, &[reference.as_str().into()])
            .await?;
        Ok(row.map(batch_summary))
    }

    /// The lines allocated to the batch, in the order they were allocated.
    pub async fn batch_allocations(
        &self,
        reference: &BatchRef,
    ) -> Result<Vec<BatchAllocation>, StoreError> {
        let rows = self
            .reader
            .fetch_all(
                "SELECT orderid, qty, allocated_by FROM allocations_view \
                 WHERE sku = (SELECT sku FROM batches_view WHERE reference = $1) \
                 AND batchref = $1 ORDER BY id",
                &[reference.as_str().into()],
            )
            .await?;
        Ok(rows
            .into_iter()
            .map(|(orderid, qty, allocated_by)| BatchAllocation {
                orderid,
                qty,
                allocated_by,
            })
            .collect())
    }

    /// The newest out-of-stock notices first.
    pub async fn latest_out_of_stock(
        &self,
        limit: i64,
    ) -> Result<Vec<OutOfStockNotice>, StoreError> {
        let rows = self
            .reader
            .fetch_all(
                "SELECT orderid, sku, qty, noticed_at FROM out_of_stock_notices \
                 ORDER BY id DESC LIMIT $1",
                &[limit.into()],
            )
            .await?;
        Ok(rows.into_iter().map(notice).collect())
    }

    /// The order's lines still waiting for stock: noticed out of stock and not
    /// allocated since (a notice is resolved by the allocation, not undone by a later
    /// cancellation).
    pub async fn unallocated_lines(
        &self,
        orderid: &OrderId,
    ) -> Result<Vec<OutOfStockNotice>, StoreError> {
        let rows = self
            .reader
            .fetch_all(
                "SELECT orderid, sku, qty, MAX(noticed_at) \
                 FROM out_of_stock_notices WHERE orderid = $1 AND resolved = 0 \
                 GROUP BY orderid, sku, qty ORDER BY MIN(id)",
                &[orderid.as_str().into()],
            )
            .await?;
        Ok(rows.into_iter().map(notice).collect())
    }
}
