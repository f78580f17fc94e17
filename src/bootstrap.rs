//! Composition root: builds the message bus and the views over the configured store,
//! and the relays that carry the outbox out: to Redis and to the SMTP server, when
//! they are configured.

use std::sync::Arc;

use tokio::sync::Notify;

use crate::adapters::notifications::{Mailer, mail_relay, mailbox};
use crate::adapters::outbox;
use crate::adapters::redis_events::RedisPublisher;
use crate::adapters::sql::SqlStore;
use crate::config::Config;
use crate::service_layer::messagebus::MessageBus;
use crate::views::Views;

/// What every entry point needs: the bus for writes, the views for reads.
#[derive(Clone)]
pub struct Services {
    pub bus: Arc<MessageBus>,
    pub views: Views,
    /// Set when `REDIS_URL` is: where external events come in and go out.
    pub redis: Option<redis::Client>,
}

pub type BootstrapError = Box<dyn std::error::Error + Send + Sync>;

/// Opens the store and wires the bus. With Redis or SMTP, also starts their relays,
/// which run for the life of the process.
pub async fn bootstrap(config: &Config) -> Result<Services, BootstrapError> {
    let store = SqlStore::connect(&config.database_url)
        .await
        .map_err(|e| format!("cannot open the database {}: {e}", config.database_url))?;
    let mut bus = MessageBus::new(Arc::new(store.clone()));
    let redis = match &config.redis_url {
        Some(url) => {
            let client = redis::Client::open(url.as_str())
                .map_err(|e| format!("bad REDIS_URL {url}: {e}"))?;
            let wake = Arc::new(Notify::new());
            bus = bus.publishing_events(Arc::clone(&wake));
            let publisher = RedisPublisher::new(client.clone());
            tokio::spawn(outbox::relay(store.clone(), publisher, wake));
            Some(client)
        }
        None => None,
    };
    if let Some(url) = &config.smtp_url {
        let mailer = Mailer::new(url, &config.mail_from)
            .map_err(|e| format!("bad SMTP_URL or MAIL_FROM: {e}"))?;
        mailbox(&config.stock_email).map_err(|e| format!("bad STOCK_EMAIL: {e}"))?;
        let wake = Arc::new(Notify::new());
        bus = bus.mailing_stock_team(config.stock_email.clone(), Arc::clone(&wake));
        tokio::spawn(mail_relay(store.clone(), mailer, wake));
    }
    Ok(Services {
        views: Views::new(store.pool().clone()),
        bus: Arc::new(bus),
        redis,
    })
}
