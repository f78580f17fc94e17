//! The read-model port: the denormalised tables the pages and `GET`s read, written
//! only by event handlers.

use async_trait::async_trait;

use super::StoreError;
use crate::domain::events::{Allocated, BatchCreated, BatchQuantityChanged, OutOfStock};
use crate::domain::model::OrderLine;

#[async_trait]
pub trait ReadModelWriter: Send {
    /// Lists the new batch, nothing allocated yet.
    async fn add_batch(&mut self, created: &BatchCreated) -> Result<(), StoreError>;

    async fn set_batch_quantity(
        &mut self,
        changed: &BatchQuantityChanged,
    ) -> Result<(), StoreError>;

    /// Records the line against its order and its batch's totals, and resolves its
    /// out-of-stock notices; recording a line already recorded changes nothing.
    async fn add_allocation(&mut self, allocated: &Allocated) -> Result<(), StoreError>;

    /// Takes the line off its order and its batch's totals, if it was recorded.
    async fn remove_allocation(&mut self, line: &OrderLine) -> Result<(), StoreError>;

    async fn record_out_of_stock(&mut self, event: &OutOfStock) -> Result<(), StoreError>;
}
