//! The allocation model: order lines, batches, and the product aggregate.

use std::sync::Arc;

use chrono::NaiveDate;

use super::events::{
    Allocated, AllocationCancelled, BatchCreated, BatchQuantityChanged, Deallocated, Event,
    OutOfStock,
};
use super::values::{BatchRef, OrderId, Quantity, Sku};

/// One line of a customer order: so many units of one SKU. Two equal lines are the same
/// line, which is what makes allocation idempotent.
#[derive(Debug, Clone, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
pub struct OrderLine {
    pub orderid: OrderId,
    pub sku: Sku,
    pub qty: Quantity,
}

/// Why the model refuses a change.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DomainError {
    #[error("Batch {0} already exists")]
    DuplicateBatch(BatchRef),
    #[error("Batch {reference} holds {batch_sku}, not {product_sku}")]
    SkuMismatch {
        reference: BatchRef,
        batch_sku: Sku,
        product_sku: Sku,
    },
    #[error("Unknown batch {0}")]
    UnknownBatch(BatchRef),
    #[error("Order {} has no allocated line of {} x {}", .0.orderid, .0.qty, .0.sku)]
    NotAllocated(OrderLine),
}

/// A purchase of one SKU, in the warehouse (`eta` is `None`) or on its way.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Batch {
    reference: BatchRef,
    sku: Sku,
    eta: Option<NaiveDate>,
    purchased_quantity: Quantity,
    /// In allocation order, so that shrinking a batch frees the newest lines first.
    /// Copies of a batch share its lines until one of them changes them: a command
    /// changes one batch of a product, and copying every line of every batch with each
    /// copy of the product was most of what copying it cost (profiled).
    allocations: Arc<Vec<OrderLine>>,
}

impl Batch {
    pub fn new(reference: BatchRef, sku: Sku, qty: Quantity, eta: Option<NaiveDate>) -> Self {
        Self::restore(reference, sku, qty, eta, Vec::new())
    }

    /// Rebuilds a batch as it was stored.
    pub fn restore(
        reference: BatchRef,
        sku: Sku,
        purchased_quantity: Quantity,
        eta: Option<NaiveDate>,
        allocations: Vec<OrderLine>,
    ) -> Self {
        Self {
            reference,
            sku,
            eta,
            purchased_quantity,
            allocations: Arc::new(allocations),
        }
    }

    pub fn reference(&self) -> &BatchRef {
        &self.reference
    }

    pub fn sku(&self) -> &Sku {
        &self.sku
    }

    pub fn eta(&self) -> Option<NaiveDate> {
        self.eta
    }

    pub fn purchased_quantity(&self) -> Quantity {
        self.purchased_quantity
    }

    pub fn allocations(&self) -> &[OrderLine] {
        &self.allocations
    }

    pub fn allocated_quantity(&self) -> u64 {
        self.allocations
            .iter()
            .map(|l| u64::from(l.qty.get()))
            .sum()
    }

    /// Negative while the batch is over-allocated (only ever inside a quantity change).
    pub fn available_quantity(&self) -> i64 {
        i64::from(self.purchased_quantity.get()) - self.allocated_quantity() as i64
    }

    pub fn can_allocate(&self, line: &OrderLine) -> bool {
        self.sku == line.sku && self.available_quantity() >= i64::from(line.qty.get())
    }

    pub fn holds(&self, line: &OrderLine) -> bool {
        self.allocations.contains(line)
    }

    fn allocate(&mut self, line: OrderLine) {
        if self.holds(&line) {
            return;
        }
        match Arc::get_mut(&mut self.allocations) {
            Some(lines) => lines.push(line),
            // Shared: this copy's lines become its own, with no room to spare, as a
            // copy may be held for long.
            None => {
                let mut lines = Vec::with_capacity(self.allocations.len() + 1);
                lines.extend_from_slice(&self.allocations);
                lines.push(line);
                self.allocations = Arc::new(lines);
            }
        }
    }

    /// Frees `line`, if this batch holds it: a batch holds a line at most once.
    fn deallocate(&mut self, line: &OrderLine) -> bool {
        let Some(at) = self.allocations.iter().position(|held| held == line) else {
            return false;
        };
        Arc::make_mut(&mut self.allocations).remove(at);
        true
    }
}

/// The aggregate: one SKU, all its batches, and the version number that lets concurrent
/// writers detect each other. Every change goes through here, so the invariant (no batch
/// allocated beyond its purchased quantity) holds whatever the entry point.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Product {
    sku: Sku,
    batches: Vec<Batch>,
    version_number: u64,
    events: Vec<Event>,
    /// Lines a quantity change freed since the product was loaded. Wherever they are
    /// allocated again, even back in the same batch, that is a new allocation.
    freed: Vec<OrderLine>,
}

impl Product {
    pub fn new(sku: Sku) -> Self {
        Self::restore(sku, Vec::new(), 0)
    }

    /// Rebuilds a product as it was stored.
    pub fn restore(sku: Sku, batches: Vec<Batch>, version_number: u64) -> Self {
        Self {
            sku,
            batches,
            version_number,
            events: Vec::new(),
            freed: Vec::new(),
        }
    }

    /// The lines quantity changes freed since the product was loaded.
    pub fn freed_lines(&self) -> &[OrderLine] {
        &self.freed
    }

    pub fn sku(&self) -> &Sku {
        &self.sku
    }

    pub fn batches(&self) -> &[Batch] {
        &self.batches
    }

    pub fn batch(&self, reference: &BatchRef) -> Option<&Batch> {
        self.batches.iter().find(|b| &b.reference == reference)
    }

    pub fn version_number(&self) -> u64 {
        self.version_number
    }

    /// Events raised since the product was loaded and not yet collected.
    pub fn events(&self) -> &[Event] {
        &self.events
    }

    pub fn take_events(&mut self) -> Vec<Event> {
        std::mem::take(&mut self.events)
    }

    pub fn add_batch(&mut self, batch: Batch) -> Result<(), DomainError> {
        if batch.sku != self.sku {
            return Err(DomainError::SkuMismatch {
                reference: batch.reference,
                batch_sku: batch.sku,
                product_sku: self.sku.clone(),
            });
        }
        if self.batch(&batch.reference).is_some() {
            return Err(DomainError::DuplicateBatch(batch.reference));
        }
        self.events.push(Event::BatchCreated(BatchCreated {
            reference: batch.reference.clone(),
            sku: batch.sku.clone(),
            qty: batch.purchased_quantity,
            eta: batch.eta,
        }));
        self.batches.push(batch);
        self.version_number += 1;
        Ok(())
    }

    /// Allocates the line to the batch that will ship it soonest: warehouse stock first,
    /// then the earliest ETA; among equals, the batch added first. A line already
    /// allocated stays where it is. No batch can take the whole line: `OutOfStock`.
    pub fn allocate(&mut self, line: OrderLine) -> Option<BatchRef> {
        if let Some(batch) = self.batches.iter().find(|b| b.holds(&line)) {
            return Some(batch.reference.clone());
        }
        let Some(batch) = self
            .batches
            .iter_mut()
            .filter(|b| b.can_allocate(&line))
            .min_by_key(|b| b.eta)
        // `None` (in the warehouse) orders before any date
        else {
            self.events.push(Event::OutOfStock(OutOfStock { line }));
            return None;
        };
        let batchref = batch.reference.clone();
        batch.allocate(line.clone());
        self.version_number += 1;
        self.events.push(Event::Allocated(Allocated {
            line,
            batchref: batchref.clone(),
        }));
        Some(batchref)
    }

    /// Cancels an allocated line: its units go back to the batch, and the line is not
    /// allocated anywhere else.
    pub fn deallocate(&mut self, line: &OrderLine) -> Result<BatchRef, DomainError> {
        let batchref = self
            .batches
            .iter_mut()
            .find_map(|batch| batch.deallocate(line).then(|| batch.reference.clone()))
            .ok_or_else(|| DomainError::NotAllocated(line.clone()))?;
        self.version_number += 1;
        self.events
            .push(Event::AllocationCancelled(AllocationCancelled {
                line: line.clone(),
                batchref: batchref.clone(),
            }));
        Ok(batchref)
    }

    /// Sets a batch's purchased quantity. While the batch is then over-allocated, its
    /// newest lines are freed (`Deallocated`), to be allocated again elsewhere. Setting
    /// the quantity it already has changes nothing (a message delivered twice).
    pub fn change_batch_quantity(
        &mut self,
        reference: &BatchRef,
        qty: Quantity,
    ) -> Result<(), DomainError> {
        let batch = self
            .batches
            .iter_mut()
            .find(|b| &b.reference == reference)
            .ok_or_else(|| DomainError::UnknownBatch(reference.clone()))?;
        if batch.purchased_quantity == qty {
            return Ok(());
        }
        batch.purchased_quantity = qty;
        self.events
            .push(Event::BatchQuantityChanged(BatchQuantityChanged {
                reference: reference.clone(),
                qty,
            }));
        while batch.available_quantity() < 0 {
            let Some(line) = Arc::make_mut(&mut batch.allocations).pop() else {
                break;
            };
            self.freed.push(line.clone());
            self.events.push(Event::Deallocated(Deallocated {
                line,
                batchref: reference.clone(),
            }));
        }
        self.version_number += 1;
        Ok(())
    }
}

#[cfg(test)]
mod tests;
