//! The read-model port: the denormalised tables the pages and `GET`s read, written
//! only by event handlers.

use async_trait::async_trait;

use super::StoreError;
use crate::domain::events::{Allocated, OutOfStock};
use crate::domain::model::OrderLine;

#[async_trait]
pub trait ReadModelWriter: Send {
    /// Records the line in `allocations_view`; recording it again changes nothing.
    async fn add_allocation(&mut self, allocated: &Allocated) -> Result<(), StoreError>;

    async fn remove_allocation(&mut self, line: &OrderLine) -> Result<(), StoreError>;

    async fn record_out_of_stock(&mut self, event: &OutOfStock) -> Result<(), StoreError>;
}
