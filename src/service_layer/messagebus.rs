//! The message bus: a command has exactly one handler and its error reaches the caller;
//! an event has any number of handlers, and one that fails is logged without stopping
//! the others (the command then fails as a whole). The `match`es are exhaustive, so the compiler proves every message is
//! routed.

use std::collections::VecDeque;
use std::hash::{BuildHasher, RandomState};
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::Notify;

use super::ServiceError;
use super::handlers;
use super::unit_of_work::UnitOfWork;
use crate::adapters::{Store, StoreError};
use crate::domain::commands::Command;
use crate::domain::events::Event;
use crate::domain::staff::Actor;
use crate::metrics::{self, Outcome};

/// How often a command is tried when concurrent writers keep beating it to a product.
pub const MAX_ATTEMPTS: u32 = 10;

pub struct MessageBus {
    store: Arc<dyn Store>,
    /// Set when events are published: woken after each commit.
    relay: Option<Arc<Notify>>,
    /// Set when the stock team is e-mailed: who, and the relay to wake.
    stock_team: Option<(String, Arc<Notify>)>,
}

impl MessageBus {
    pub fn new(store: Arc<dyn Store>) -> Self {
        Self {
            store,
            relay: None,
            stock_team: None,
        }
    }

    /// Also e-mails `recipient` of every line out of stock, through the outbox, and
    /// wakes `relay` after each commit to send it.
    pub fn mailing_stock_team(mut self, recipient: String, relay: Arc<Notify>) -> Self {
        self.stock_team = Some((recipient, relay));
        self
    }

    /// Also records every `Allocated` event in the outbox for publication, and wakes
    /// `relay` after each commit to send it.
    pub fn publishing_events(mut self, relay: Arc<Notify>) -> Self {
        self.relay = Some(relay);
        self
    }

    /// Handles the command for `actor`, if their role allows it: what every entry point
    /// that acts for a person or a token calls.
    pub async fn handle_as(
        &self,
        actor: &Actor,
        command: impl Into<Command>,
    ) -> Result<(), ServiceError> {
        let command = command.into();
        let permission = command.permission();
        if !actor.may(permission) {
            tracing::warn!(actor = actor.name, ?command, "command refused: role");
            metrics::command_handled(&command, Outcome::Refused);
            return Err(ServiceError::Forbidden {
                role: actor.role,
                permission,
            });
        }
        self.handle_for(actor, command).await
    }

    /// Handles the command and every event that follows from it, in one unit of work:
    /// a line freed by a quantity change is reallocated, and the read models updated,
    /// in the same commit as the change itself, or not at all. When another writer
    /// changed the product first, the whole of it is tried again on fresh data, up to
    /// [`MAX_ATTEMPTS`] times.
    ///
    /// No role is checked: this is for the desk's own work (messages from Redis).
    /// People and tokens go through [`Self::handle_as`].
    pub async fn handle(&self, command: impl Into<Command>) -> Result<(), ServiceError> {
        self.handle_for(&Actor::system(), command.into()).await
    }

    async fn handle_for(&self, actor: &Actor, command: Command) -> Result<(), ServiceError> {
        tracing::debug!(?command, actor = actor.name, "handling command");
        let mut attempt = 1;
        let result = loop {
            match self.handle_once(actor, &command).await {
                Err(ServiceError::Store(StoreError::Conflict(reason))) => {
                    metrics::version_conflict();
                    if attempt == MAX_ATTEMPTS {
                        break Err(ServiceError::Store(StoreError::Conflict(reason)));
                    }
                    tracing::debug!(attempt, %reason, "concurrent change; trying again");
                    tokio::time::sleep(backoff(attempt)).await;
                    attempt += 1;
                }
                result => break result,
            }
        };
        let outcome = match &result {
            Ok(()) => Outcome::Done,
            Err(ServiceError::Store(_)) => Outcome::Failed,
            Err(_) => Outcome::Refused,
        };
        metrics::command_handled(&command, outcome);
        result
    }

    async fn handle_once(&self, actor: &Actor, command: &Command) -> Result<(), ServiceError> {
        let mut uow = UnitOfWork::begin(&*self.store, actor).await?;
        dispatch_command(command, &mut uow).await?;
        let mut queue = VecDeque::from(uow.collect_new_events());
        let mut failure = None;
        while let Some(event) = queue.pop_front() {
            if let Err(error) = self.dispatch_event(&event, &mut uow).await {
                failure.get_or_insert(error);
            }
            queue.extend(uow.collect_new_events());
        }
        if let Some(error) = failure {
            return Err(error);
        }
        uow.log_command(command).await?;
        uow.commit().await?;
        let relays = [
            self.relay.as_ref(),
            self.stock_team.as_ref().map(|(_, relay)| relay),
        ];
        for relay in relays.into_iter().flatten() {
            relay.notify_one();
        }
        Ok(())
    }

    /// Runs every handler of the event, each whatever the others did, and answers the
    /// first failure. Any failure fails the command: its unit of work rolls back rather
    /// than commit a change whose read models or messages were not written with it.
    async fn dispatch_event(
        &self,
        event: &Event,
        uow: &mut UnitOfWork,
    ) -> Result<(), ServiceError> {
        let mut failure = None;
        let mut log = |handler: &str, result: Result<(), ServiceError>| {
            if let Err(error) = result {
                tracing::error!(handler, ?event, %error, "event handler failed");
                failure.get_or_insert(error);
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
            Event::Allocated(e) => {
                log(
                    "add_allocation_to_read_model",
                    handlers::add_allocation_to_read_model(e, uow).await,
                );
                if self.relay.is_some() {
                    log(
                        "publish_line_allocated",
                        handlers::publish_line_allocated(e, uow).await,
                    );
                }
            }
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
            Event::OutOfStock(e) => {
                log(
                    "record_out_of_stock",
                    handlers::record_out_of_stock(e, uow).await,
                );
                if let Some((recipient, _)) = &self.stock_team {
                    log(
                        "mail_out_of_stock",
                        handlers::mail_out_of_stock(e, recipient, uow).await,
                    );
                }
            }
        }
        failure.map_or(Ok(()), Err)
    }
}

/// A random pause below 2, 4, 8, ... 64 ms: writers that collided spread out.
fn backoff(attempt: u32) -> Duration {
    let ceiling_micros = 1000u64 << attempt.min(6);
    Duration::from_micros(RandomState::new().hash_one(attempt) % ceiling_micros)
}

async fn dispatch_command(command: &Command, uow: &mut UnitOfWork) -> Result<(), ServiceError> {
    match command {
        Command::CreateBatch(c) => handlers::add_batch(c, uow).await,
        Command::Allocate(c) => handlers::allocate(c, uow).await,
        Command::Deallocate(c) => handlers::deallocate(c, uow).await,
        Command::ChangeBatchQuantity(c) => handlers::change_batch_quantity(c, uow).await,
    }
}

#[cfg(test)]
mod tests;
