//! Composition root: builds the message bus and the views over the configured store.

use std::sync::Arc;

use crate::adapters::StoreError;
use crate::adapters::sql::SqlStore;
use crate::config::Config;
use crate::service_layer::messagebus::MessageBus;
use crate::views::Views;

/// What every entry point needs: the bus for writes, the views for reads.
#[derive(Clone)]
pub struct Services {
    pub bus: Arc<MessageBus>,
    pub views: Views,
}

pub async fn bootstrap(config: &Config) -> Result<Services, StoreError> {
    let store = SqlStore::connect(&config.database_url).await?;
    Ok(Services {
        views: Views::new(store.pool().clone()),
        bus: Arc::new(MessageBus::new(Arc::new(store))),
    })
}
