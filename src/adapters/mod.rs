//! Adapters: the ports the service layer talks through, and their implementations.

pub mod accounts;
pub mod notifications;
pub mod outbox;
pub mod read_model;
pub mod redis_connection;
pub mod redis_events;
pub mod redis_read_model;
pub mod repository;
pub mod secrets;
pub mod sql;

use async_trait::async_trait;

use self::outbox::Outbox;
use self::read_model::ReadModelWriter;
use self::repository::ProductRepository;
use crate::domain::commands::Command;
use crate::domain::staff::Actor;

/// Why storage failed. Backend-neutral, so the service layer can react without knowing
/// which database it runs on.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// Another writer changed what this one read (a product's version, a unique
    /// row) since it was read; the work can be retried on fresh data.
    #[error("concurrent change: {0}")]
    Conflict(String),
    #[error("storage failed: {0}")]
    Backend(#[source] Box<dyn std::error::Error + Send + Sync>),
}

/// Where the write model (and, when it is SQL, the read model) lives.
#[async_trait]
pub trait Store: Send + Sync {
    /// Opens a transaction for `actor`, who is recorded as the author of what it
    /// writes. Whatever it writes is all kept on `commit`, and all dropped when the
    /// transaction is dropped uncommitted.
    async fn begin(&self, actor: &Actor) -> Result<Box<dyn StoreTransaction>, StoreError>;
}

/// One open transaction: the product repository, the read-model writes and the outbox,
/// committed or rolled back together.
#[async_trait]
pub trait StoreTransaction: ProductRepository + ReadModelWriter + Outbox {
    /// Records that the command took effect, for the transaction's actor.
    async fn log_command(&mut self, command: &Command) -> Result<(), StoreError>;

    async fn commit(self: Box<Self>) -> Result<(), StoreError>;
}
