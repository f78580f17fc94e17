//! The service layer: use cases as command and event handlers on a message bus, each
//! command in one unit of work.

pub mod handlers;
pub mod messagebus;
pub mod staff;
pub mod unit_of_work;

#[cfg(test)]
pub(crate) mod fakes;

use crate::adapters::StoreError;
use crate::domain::model::DomainError;
use crate::domain::staff::{Permission, Role};
use crate::domain::values::Sku;

/// Why a command was refused or failed. Each entry point maps these once (HTTP status,
/// form message).
#[derive(Debug, thiserror::Error)]
pub enum ServiceError {
    /// The reference's wording, which its clients match.
    #[error("Invalid sku {0}")]
    InvalidSku(Sku),
    #[error(transparent)]
    Domain(#[from] DomainError),
    /// The actor's role does not allow the command.
    #[error("A {role} may not {}", .permission.action())]
    Forbidden { role: Role, permission: Permission },
    #[error(transparent)]
    Store(#[from] StoreError),
}
