//! The product repository port: aggregates in and out of storage.

use async_trait::async_trait;

use super::StoreError;
use crate::domain::model::Product;
use crate::domain::values::{BatchRef, Sku};

#[async_trait]
pub trait ProductRepository: Send {
    /// The product with all its batches and allocations, as stored.
    async fn get(&mut self, sku: &Sku) -> Result<Option<Product>, StoreError>;

    /// The SKU of the product that owns the batch.
    async fn sku_of_batch(&mut self, reference: &BatchRef) -> Result<Option<Sku>, StoreError>;

    /// Stores `product`, which was read as `loaded` (`None`: it is new). Fails with
    /// [`StoreError::Conflict`] when the stored version is no longer `loaded`'s.
    async fn save(&mut self, loaded: Option<&Product>, product: &Product)
    -> Result<(), StoreError>;
}
