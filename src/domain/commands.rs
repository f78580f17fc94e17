//! What someone asks the system to do. Each command has exactly one handler.

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use super::model::OrderLine;
use super::values::{BatchRef, Quantity, Sku};

/// A purchase batch arrives or is announced.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CreateBatch {
    pub reference: BatchRef,
    pub sku: Sku,
    pub qty: Quantity,
    /// `None`: already in the warehouse.
    pub eta: Option<NaiveDate>,
}

/// Allocate an order line to the best batch of its SKU.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Allocate {
    pub line: OrderLine,
}

/// Cancel an allocated order line; its units return to the batch.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Deallocate {
    pub line: OrderLine,
}

/// A batch's purchased quantity turns out different (a short delivery, a recount).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChangeBatchQuantity {
    pub reference: BatchRef,
    pub qty: Quantity,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum Command {
    CreateBatch(CreateBatch),
    Allocate(Allocate),
    Deallocate(Deallocate),
    ChangeBatchQuantity(ChangeBatchQuantity),
}

impl From<CreateBatch> for Command {
    fn from(command: CreateBatch) -> Self {
        Self::CreateBatch(command)
    }
}

impl From<Allocate> for Command {
    fn from(command: Allocate) -> Self {
        Self::Allocate(command)
    }
}

impl From<Deallocate> for Command {
    fn from(command: Deallocate) -> Self {
        Self::Deallocate(command)
    }
}

impl From<ChangeBatchQuantity> for Command {
    fn from(command: ChangeBatchQuantity) -> Self {
        Self::ChangeBatchQuantity(command)
    }
}
