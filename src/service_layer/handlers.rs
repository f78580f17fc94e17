//! One function per command and per event: the use cases of the allocation service.

use super::ServiceError;
use super::unit_of_work::UnitOfWork;
use crate::adapters::StoreError;
use crate::adapters::notifications::Mail;
use crate::adapters::redis_events::LINE_ALLOCATED;
use crate::domain::commands::{Allocate, ChangeBatchQuantity, CreateBatch, Deallocate};
use crate::domain::events::{
    Allocated, AllocationCancelled, BatchCreated, BatchQuantityChanged, Deallocated, OutOfStock,
};
use crate::domain::model::{Batch, DomainError};

// --- commands ---

pub async fn add_batch(command: &CreateBatch, uow: &mut UnitOfWork) -> Result<(), ServiceError> {
    // References are unique across products, not only within one.
    if uow.product_with_batch(&command.reference).await?.is_some() {
        return Err(DomainError::DuplicateBatch(command.reference.clone()).into());
    }
    let product = uow.product_or_new(&command.sku).await?;
    product.add_batch(Batch::new(
        command.reference.clone(),
        command.sku.clone(),
        command.qty,
        command.eta,
    ))?;
    Ok(())
}

pub async fn allocate(command: &Allocate, uow: &mut UnitOfWork) -> Result<(), ServiceError> {
    let line = &command.line;
    let product = uow
        .product(&line.sku)
        .await?
        .ok_or_else(|| ServiceError::InvalidSku(line.sku.clone()))?;
    // Out of stock is an event the product records, not an error.
    product.allocate(line.clone());
    Ok(())
}

pub async fn deallocate(command: &Deallocate, uow: &mut UnitOfWork) -> Result<(), ServiceError> {
    let line = &command.line;
    let product = uow
        .product(&line.sku)
        .await?
        .ok_or_else(|| ServiceError::InvalidSku(line.sku.clone()))?;
    product.deallocate(line)?;
    Ok(())
}

pub async fn change_batch_quantity(
    command: &ChangeBatchQuantity,
    uow: &mut UnitOfWork,
) -> Result<(), ServiceError> {
    let product = uow
        .product_with_batch(&command.reference)
        .await?
        .ok_or_else(|| DomainError::UnknownBatch(command.reference.clone()))?;
    product.change_batch_quantity(&command.reference, command.qty)?;
    Ok(())
}

// --- events ---

pub async fn add_batch_to_read_model(
    event: &BatchCreated,
    uow: &mut UnitOfWork,
) -> Result<(), ServiceError> {
    Ok(uow.read_model().add_batch(event).await?)
}

pub async fn change_batch_quantity_in_read_model(
    event: &BatchQuantityChanged,
    uow: &mut UnitOfWork,
) -> Result<(), ServiceError> {
    Ok(uow.read_model().set_batch_quantity(event).await?)
}

pub async fn add_allocation_to_read_model(
    event: &Allocated,
    uow: &mut UnitOfWork,
) -> Result<(), ServiceError> {
    Ok(uow.read_model().add_allocation(event).await?)
}

pub async fn remove_deallocated_from_read_model(
    event: &Deallocated,
    uow: &mut UnitOfWork,
) -> Result<(), ServiceError> {
    Ok(uow.read_model().remove_allocation(&event.line).await?)
}

pub async fn remove_cancelled_from_read_model(
    event: &AllocationCancelled,
    uow: &mut UnitOfWork,
) -> Result<(), ServiceError> {
    Ok(uow.read_model().remove_allocation(&event.line).await?)
}

/// A line freed by a shrinking batch goes through the normal allocation path again.
pub async fn reallocate(event: &Deallocated, uow: &mut UnitOfWork) -> Result<(), ServiceError> {
    allocate(
        &Allocate {
            line: event.line.clone(),
        },
        uow,
    )
    .await
}

/// Every allocation is announced on Redis (`line_allocated`), whatever caused it.
pub async fn publish_line_allocated(
    event: &Allocated,
    uow: &mut UnitOfWork,
) -> Result<(), ServiceError> {
    let payload = serde_json::to_string(event).map_err(|e| StoreError::Backend(e.into()))?;
    Ok(uow
        .outbox()
        .record_message(LINE_ALLOCATED, &payload)
        .await?)
}

pub async fn record_out_of_stock(
    event: &OutOfStock,
    uow: &mut UnitOfWork,
) -> Result<(), ServiceError> {
    let line = &event.line;
    tracing::warn!(sku = %line.sku, orderid = %line.orderid, qty = %line.qty, "out of stock");
    Ok(uow.read_model().record_out_of_stock(event).await?)
}

/// The stock team hears of every line that ran out (the reference e-mails
/// `stock@made.com`).
pub async fn mail_out_of_stock(
    event: &OutOfStock,
    recipient: &str,
    uow: &mut UnitOfWork,
) -> Result<(), ServiceError> {
    let line = &event.line;
    let mail = Mail {
        recipient: recipient.to_owned(),
        subject: format!("Out of stock for {}", line.sku),
        body: format!(
            "Order {} asked for {} x {}, and no batch had enough stock.",
            line.orderid, line.qty, line.sku
        ),
    };
    Ok(uow.outbox().record_mail(&mail).await?)
}
