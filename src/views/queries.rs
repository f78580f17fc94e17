//! Queries over the SQL read models.

use sqlx::AnyPool;

use super::OrderAllocation;
use crate::adapters::StoreError;
use crate::domain::values::OrderId;

#[derive(Clone)]
pub struct Views {
    pool: AnyPool,
}

impl Views {
    pub fn new(pool: AnyPool) -> Self {
        Self { pool }
    }

    /// The order's allocated lines, in the order they were allocated.
    pub async fn allocations(&self, orderid: &OrderId) -> Result<Vec<OrderAllocation>, StoreError> {
        Ok(sqlx::query_as(
            "SELECT sku, qty, batchref FROM allocations_view WHERE orderid = $1 ORDER BY id",
        )
        .bind(orderid.as_str())
        .fetch_all(&self.pool)
        .await?)
    }
}
