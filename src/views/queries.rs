//! The views over whichever store holds the read models: SQL (the default) or Redis.

use super::redis::RedisViews;
use super::sql::SqlViews;
use super::{BatchAllocation, BatchSummary, OrderAllocation, OutOfStockNotice, SkuStock};
use crate::adapters::StoreError;
use crate::adapters::redis_read_model::RedisReadModel;
use crate::adapters::sql::Reader;
use crate::domain::values::{BatchRef, OrderId, Sku};

/// Same rows, same order, from either store.
#[derive(Clone)]
pub enum Views {
    Sql(SqlViews),
    Redis(RedisViews),
}

/// Runs the same call on whichever store this is.
macro_rules! on_store {
    ($views:expr, $call:ident($($argument:expr),*)) => {
        match $views {
            Views::Sql(views) => views.$call($($argument),*).await,
            Views::Redis(views) => views.$call($($argument),*).await,
        }
    };
}

impl Views {
    pub fn sql(reader: Reader) -> Self {
        Self::Sql(SqlViews::new(reader))
    }

    pub fn redis(model: RedisReadModel) -> Self {
        Self::Redis(RedisViews::new(model))
    }

    /// Whether the read models can be reached at all.
    pub async fn ping(&self) -> Result<(), StoreError> {
        on_store!(self, ping())
    }

    /// The order's allocated lines, in the order they were allocated.
    pub async fn allocations(&self, orderid: &OrderId) -> Result<Vec<OrderAllocation>, StoreError> {
        on_store!(self, allocations(orderid))
    }

    /// Stock per SKU, alphabetically.
    pub async fn stock(&self) -> Result<Vec<SkuStock>, StoreError> {
        on_store!(self, stock())
    }

    /// Every SKU with a batch, alphabetically.
    pub async fn skus(&self) -> Result<Vec<String>, StoreError> {
        on_store!(self, skus())
    }

    /// Batches, optionally of one SKU, by SKU then in the order allocation prefers them
    /// (warehouse stock first, then by ETA, then by reference).
    pub async fn batches(&self, sku: Option<&Sku>) -> Result<Vec<BatchSummary>, StoreError> {
        on_store!(self, batches(sku))
    }

    pub async fn batch(&self, reference: &BatchRef) -> Result<Option<BatchSummary>, StoreError> {
        on_store!(self, batch(reference))
    }

    /// The lines allocated to the batch, in the order they were allocated.
    pub async fn batch_allocations(
        &self,
        reference: &BatchRef,
    ) -> Result<Vec<BatchAllocation>, StoreError> {
        on_store!(self, batch_allocations(reference))
    }

    /// The newest out-of-stock notices first.
    pub async fn latest_out_of_stock(
        &self,
        limit: i64,
    ) -> Result<Vec<OutOfStockNotice>, StoreError> {
        on_store!(self, latest_out_of_stock(limit))
    }

    /// The order's lines still waiting for stock: noticed out of stock and not
    /// allocated since (a notice is resolved by the allocation, not undone by a later
    /// cancellation), each once with its latest notice, in the order first noticed.
    pub async fn unallocated_lines(
        &self,
        orderid: &OrderId,
    ) -> Result<Vec<OutOfStockNotice>, StoreError> {
        on_store!(self, unallocated_lines(orderid))
    }
}
