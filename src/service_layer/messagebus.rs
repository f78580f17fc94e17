//! The message bus: a command has exactly one handler and its error reaches the caller;
//! an event has any number of handlers, and one that fails is logged without stopping
//! the others. The `match`es are exhaustive, so the compiler proves every message is
//! routed.

use std::collections::VecDeque;
use std::sync::Arc;

use super::ServiceError;
use super::handlers;
use super::unit_of_work::UnitOfWork;
use crate::adapters::Store;
use crate::domain::commands::Command;
use crate::domain::events::Event;

pub struct MessageBus {
    store: Arc<dyn Store>,
}

impl MessageBus {
    pub fn new(store: Arc<dyn Store>) -> Self {
        Self { store }
    }

    /// Handles the command and every event that follows from it, in one unit of work:
    /// a line freed by a quantity change is reallocated, and the read models updated,
    /// in the same commit as the change itself, or not at all.
    pub async fn handle(&self, command: impl Into<Command>) -> Result<(), ServiceError> {
        let command = command.into();
        tracing::debug!(?command, "handling command");
        let mut uow = UnitOfWork::begin(&*self.store).await?;
        dispatch_command(&command, &mut uow).await?;
        let mut queue = VecDeque::from(uow.collect_new_events());
        while let Some(event) = queue.pop_front() {
            dispatch_event(&event, &mut uow).await;
            queue.extend(uow.collect_new_events());
        }
        uow.commit().await?;
        Ok(())
    }
}

async fn dispatch_command(command: &Command, uow: &mut UnitOfWork) -> Result<(), ServiceError> {
    match command {
        Command::CreateBatch(c) => handlers::add_batch(c, uow).await,
        Command::Allocate(c) => handlers::allocate(c, uow).await,
        Command::Deallocate(c) => handlers::deallocate(c, uow).await,
        Command::ChangeBatchQuantity(c) => handlers::change_batch_quantity(c, uow).await,
    }
}

async fn dispatch_event(event: &Event, uow: &mut UnitOfWork) {
    let log = |handler: &str, result: Result<(), ServiceError>| {
        if let Err(error) = result {
            tracing::error!(handler, ?event, %error, "event handler failed");
        }
    };
    match event {
        Event::BatchCreated(e) => log(
            "add_batch_to_read_model",
            handlers::add_batch_to_read_model(e, uow).await,
        ),
        Event::BatchQuantityChanged(e) => log(
            "change_batch_quantity_in_read_model",
            handlers::change_batch_quantity_in_read_model(e, uow).await,
        ),
        Event::Allocated(e) => log(
            "add_allocation_to_read_model",
            handlers::add_allocation_to_read_model(e, uow).await,
        ),
        Event::Deallocated(e) => {
            log(
                "remove_deallocated_from_read_model",
                handlers::remove_deallocated_from_read_model(e, uow).await,
            );
            log("reallocate", handlers::reallocate(e, uow).await);
        }
        Event::AllocationCancelled(e) => log(
            "remove_cancelled_from_read_model",
            handlers::remove_cancelled_from_read_model(e, uow).await,
        ),
        Event::OutOfStock(e) => log(
            "record_out_of_stock",
            handlers::record_out_of_stock(e, uow).await,
        ),
    }
}

#[cfg(test)]
mod tests;
