//! What has happened to a product. Handlers on the message bus react to these.

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use super::model::OrderLine;
use super::values::{BatchRef, Quantity, Sku};

/// A purchase batch was added to its product.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BatchCreated {
    pub reference: BatchRef,
    pub sku: Sku,
    pub qty: Quantity,
    pub eta: Option<NaiveDate>,
}

/// A batch's purchased quantity was set; any lines it freed follow as [`Deallocated`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BatchQuantityChanged {
    pub reference: BatchRef,
    pub qty: Quantity,
}

/// A line was allocated to a batch.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Allocated {
    #[serde(flatten)]
    pub line: OrderLine,
    pub batchref: BatchRef,
}

/// A line was freed because its batch shrank; it is to be allocated again.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Deallocated {
    #[serde(flatten)]
    pub line: OrderLine,
    pub batchref: BatchRef,
}

/// A line was cancelled on request; unlike [`Deallocated`], it is not allocated again.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AllocationCancelled {
    #[serde(flatten)]
    pub line: OrderLine,
    pub batchref: BatchRef,
}

/// No batch could take the whole line.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OutOfStock {
    #[serde(flatten)]
    pub line: OrderLine,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum Event {
    BatchCreated(BatchCreated),
    BatchQuantityChanged(BatchQuantityChanged),
    Allocated(Allocated),
    Deallocated(Deallocated),
    AllocationCancelled(AllocationCancelled),
    OutOfStock(OutOfStock),
}
