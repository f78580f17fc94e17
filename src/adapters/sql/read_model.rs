//! The SQL read models, written in the same transaction as the change that caused
//! them: they can never disagree with the write model after a commit or a crash.

use async_trait::async_trait;

use super::SqlTransaction;
use crate::adapters::StoreError;
use crate::adapters::read_model::ReadModelWriter;
use crate::domain::events::{Allocated, OutOfStock};
use crate::domain::model::OrderLine;

#[async_trait]
impl ReadModelWriter for SqlTransaction {
    async fn add_allocation(&mut self, allocated: &Allocated) -> Result<(), StoreError> {
        let line = &allocated.line;
        sqlx::query(
            "INSERT INTO allocations_view (orderid, sku, qty, batchref) VALUES ($1, $2, $3, $4) \
             ON CONFLICT (orderid, sku, qty) DO UPDATE SET batchref = excluded.batchref",
        )
        .bind(line.orderid.as_str())
        .bind(line.sku.as_str())
        .bind(i64::from(line.qty.get()))
        .bind(allocated.batchref.as_str())
        .execute(&mut *self.transaction)
        .await?;
        Ok(())
    }

    async fn remove_allocation(&mut self, line: &OrderLine) -> Result<(), StoreError> {
        sqlx::query("DELETE FROM allocations_view WHERE orderid = $1 AND sku = $2 AND qty = $3")
            .bind(line.orderid.as_str())
            .bind(line.sku.as_str())
            .bind(i64::from(line.qty.get()))
            .execute(&mut *self.transaction)
            .await?;
        Ok(())
    }

    async fn record_out_of_stock(&mut self, event: &OutOfStock) -> Result<(), StoreError> {
        let line = &event.line;
        sqlx::query(
            "INSERT INTO out_of_stock_notices (sku, orderid, qty, noticed_at) \
             VALUES ($1, $2, $3, $4)",
        )
        .bind(line.sku.as_str())
        .bind(line.orderid.as_str())
        .bind(i64::from(line.qty.get()))
        .bind(chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true))
        .execute(&mut *self.transaction)
        .await?;
        Ok(())
    }
}
