//! The unit of work: one transaction, and the products it has seen.

use crate::adapters::outbox::Outbox;
use crate::adapters::read_model::ReadModelWriter;
use crate::adapters::{Store, StoreError, StoreTransaction};
use crate::domain::commands::Command;
use crate::domain::events::Event;
use crate::domain::model::Product;
use crate::domain::staff::Actor;
use crate::domain::values::{BatchRef, Sku};

/// A product as the unit of work holds it: as loaded, and as changed since.
struct Seen {
    loaded: Option<Product>,
    product: Product,
}

/// Everything a command changes is committed together, or not at all: dropping a unit
/// of work without [`UnitOfWork::commit`] rolls it back.
///
/// It is also the identity map: a product is loaded once and the same instance is
/// handed out again, so a command and the events it raises see one consistent state.
pub struct UnitOfWork {
    transaction: Box<dyn StoreTransaction>,
    seen: Vec<Seen>,
}

impl UnitOfWork {
    /// Begins the work of `actor`, who is recorded as its author.
    pub async fn begin(store: &dyn Store, actor: &Actor) -> Result<Self, StoreError> {
        Ok(Self {
            transaction: store.begin(actor).await?,
            seen: Vec::new(),
        })
    }

    pub async fn product(&mut self, sku: &Sku) -> Result<Option<&mut Product>, StoreError> {
        Ok(self
            .load(sku)
            .await?
            .map(|index| &mut self.seen[index].product))
    }

    /// The product, created empty when the SKU is new.
    pub async fn product_or_new(&mut self, sku: &Sku) -> Result<&mut Product, StoreError> {
        let index = match self.load(sku).await? {
            Some(index) => index,
            None => {
                self.seen.push(Seen {
                    loaded: None,
                    product: Product::new(sku.clone()),
                });
                self.seen.len() - 1
            }
        };
        Ok(&mut self.seen[index].product)
    }

    /// The product that owns the batch.
    pub async fn product_with_batch(
        &mut self,
        reference: &BatchRef,
    ) -> Result<Option<&mut Product>, StoreError> {
        let seen = self
            .seen
            .iter()
            .position(|s| s.product.batch(reference).is_some());
        let index = match seen {
            Some(index) => Some(index),
            None => match self.transaction.sku_of_batch(reference).await? {
                Some(sku) => self.load(&sku).await?,
                None => None,
            },
        };
        Ok(index.map(|index| &mut self.seen[index].product))
    }

    /// The new events of every product seen, oldest first.
    pub fn collect_new_events(&mut self) -> Vec<Event> {
        self.seen
            .iter_mut()
            .flat_map(|s| s.product.take_events())
            .collect()
    }

    pub fn read_model(&mut self) -> &mut dyn ReadModelWriter {
        &mut *self.transaction
    }

    pub fn outbox(&mut self) -> &mut dyn Outbox {
        &mut *self.transaction
    }

    /// Records that `command` took effect, in the same commit as its changes.
    pub async fn log_command(&mut self, command: &Command) -> Result<(), StoreError> {
        self.transaction.log_command(command).await
    }

    /// Stores every changed product, then commits.
    pub async fn commit(mut self) -> Result<(), StoreError> {
        for seen in &self.seen {
            let changed = seen.loaded.as_ref().map(Product::version_number)
                != Some(seen.product.version_number());
            if changed {
                self.transaction
                    .save(seen.loaded.as_ref(), &seen.product)
                    .await?;
            }
        }
        self.transaction.commit().await
    }

    /// The index of the product in `seen`, loading it on first use.
    async fn load(&mut self, sku: &Sku) -> Result<Option<usize>, StoreError> {
        if let Some(index) = self.seen.iter().position(|s| s.product.sku() == sku) {
            return Ok(Some(index));
        }
        let Some(product) = self.transaction.get(sku).await? else {
            return Ok(None);
        };
        self.seen.push(Seen {
            loaded: Some(product.clone()),
            product,
        });
        Ok(Some(self.seen.len() - 1))
    }
}
