//! The SQL read models, written in the same transaction as the change that caused
//! them: they can never disagree with the write model after a commit or a crash.

use async_trait::async_trait;

use super::{SqlTransaction, bind_line};
use crate::adapters::StoreError;
use crate::adapters::read_model::ReadModelWriter;
use crate::domain::events::{Allocated, OutOfStock};
use crate::domain::model::OrderLine;

#[async_trait]
impl ReadModelWriter for SqlTransaction {
    async fn add_allocation(&mut self, allocated: &Allocated) -> Result<(), StoreError> {
        let upsert = sqlx::query(
            "INSERT INTO allocations_view (orderid, sku, qty, batchref) VALUES ($1, $2, $3, $4) \
             ON CONFLICT (orderid, sku, qty) DO UPDATE SET batchref = excluded.batchref",
        );
        bind_line(upsert, &allocated.line)
            .bind(allocated.batchref.as_str())
            .execute(&mut *self.transaction)
            .await?;
        Ok(())
    }

    async fn remove_allocation(&mut self, line: &OrderLine) -> Result<(), StoreError> {
        let delete = sqlx::query(
            "DELETE FROM allocations_view WHERE orderid = $1 AND sku = $2 AND qty = $3",
        );
        bind_line(delete, line)
            .execute(&mut *self.transaction)
            .await?;
        Ok(())
    }

    async fn record_out_of_stock(&mut self, event: &OutOfStock) -> Result<(), StoreError> {
        let insert = sqlx::query(
            "INSERT INTO out_of_stock_notices (orderid, sku, qty, noticed_at) \
             VALUES ($1, $2, $3, $4)",
        );
        bind_line(insert, &event.line)
            .bind(chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true))
            .execute(&mut *self.transaction)
            .await?;
        Ok(())
    }
}
