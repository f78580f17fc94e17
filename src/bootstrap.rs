//! Composition root: builds the message bus and the views over the configured store,
//! and the relays that carry the outbox out: to Redis (events and, with
//! `READ_MODEL=redis`, the read models) and to the SMTP server, when configured.
//! The relays live as long as the services: each holds the store, and with it the
//! database's connections.

use std::sync::Arc;

use tokio::sync::Notify;
use tokio::task::AbortHandle;

use crate::adapters::notifications::{Mailer, mail_relay, mailbox};
use crate::adapters::outbox;
use crate::adapters::redis_events::RedisPublisher;
use crate::adapters::redis_read_model::{RedisReadModel, keep_projecting};
use crate::adapters::sql::SqlStore;
use crate::config::{Config, ReadModelStore};
use crate::domain::staff::Role;
use crate::service_layer::messagebus::MessageBus;
use crate::service_layer::staff::Staff;
use crate::views::Views;
use crate::views::reports::Reports;

/// What every entry point needs: the bus for writes, the views for reads. Every
/// request takes a copy (middleware, handlers, page context), so a copy is one `Arc`:
/// copying the fields each time was a tenth of a read's time.
#[derive(Clone)]
pub struct Services(Arc<ServicesInner>);

impl std::ops::Deref for Services {
    type Target = ServicesInner;

    fn deref(&self) -> &ServicesInner {
        &self.0
    }
}

pub struct ServicesInner {
    pub bus: Arc<MessageBus>,
    pub views: Views,
    /// The reports, always over the SQL read models.
    pub reports: Reports,
    /// Set when `REDIS_URL` is: where external events come in and go out.
    pub redis: Option<redis::Client>,
    /// The write model's database, for readiness checks.
    pub store: SqlStore,
    /// Staff accounts, sessions and API tokens.
    pub staff: Staff,
    /// `ANONYMOUS_API_ROLE`: what JSON API callers without a token may do, if anything.
    pub anonymous_api_role: Option<Role>,
    /// Whether session cookies are HTTPS-only.
    pub secure_cookies: bool,
    _relays: Relays,
}

/// The relays started for these services, stopped when the services are dropped. A
/// relay stopped halfway through a round has marked nothing sent that was not: the
/// next relay over the outbox sends it, as after a crash.
#[derive(Default)]
struct Relays(Vec<AbortHandle>);

impl Relays {
    fn start(&mut self, relay: impl Future<Output = ()> + Send + 'static) {
        self.0.push(tokio::spawn(relay).abort_handle());
    }
}

impl Drop for Relays {
    fn drop(&mut self) {
        for relay in &self.0 {
            relay.abort();
        }
    }
}

pub type BootstrapError = Box<dyn std::error::Error + Send + Sync>;

/// Opens the store and wires the bus. With Redis or SMTP, also starts their relays,
/// which run as long as the services.
pub async fn bootstrap(config: &Config) -> Result<Services, BootstrapError> {
    let (store, read_model) = open_store(config).await?;
    let mut relays = Relays::default();
    let views = match &read_model {
        Some(model) => {
            relays.start(keep_projecting(store.clone(), model.clone()));
            Views::redis(model.clone())
        }
        None => Views::sql(store.reader()),
    };
    let mut bus = MessageBus::new(Arc::new(store.clone()));
    let redis = match &config.redis_url {
        Some(url) => {
            let client = redis_client(url)?;
            let wake = Arc::new(Notify::new());
            bus = bus.publishing_events(Arc::clone(&wake));
            let publisher = RedisPublisher::new(client.clone())?;
            relays.start(outbox::relay(store.clone(), publisher, wake));
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
        relays.start(mail_relay(store.clone(), mailer, wake));
    }
    if let Some(role) = config.anonymous_api_role {
        tracing::warn!(
            "ANONYMOUS_API_ROLE={role}: ANYONE WHO CAN REACH THIS SERVER MAY USE THE JSON API \
             AS A {role} WITHOUT A TOKEN. For local experiments only."
        );
    }
    Ok(Services(Arc::new(ServicesInner {
        staff: Staff::new(Arc::new(store.clone()), config.session_idle),
        anonymous_api_role: config.anonymous_api_role,
        secure_cookies: config.secure_cookies,
        _relays: relays,
        views,
        reports: Reports::new(store.read_pool().clone()),
        bus: Arc::new(bus),
        redis,
        store,
    })))
}

/// Opens the database, with the read models in Redis when so configured (and then
/// also that read model).
pub async fn open_store(
    config: &Config,
) -> Result<(SqlStore, Option<RedisReadModel>), BootstrapError> {
    let store = SqlStore::connect(&config.database_url)
        .await
        .map_err(|e| format!("cannot open the database {}: {e}", config.database_url))?
        .holding_products_within(config.product_cache_mb);
    match config.read_model {
        ReadModelStore::Sql => Ok((store, None)),
        ReadModelStore::Redis => {
            let url = config
                .redis_url
                .as_deref()
                .ok_or("READ_MODEL=redis needs REDIS_URL")?;
            let model = RedisReadModel::new(redis_client(url)?, &config.redis_prefix)
                .map_err(|e| format!("cannot use Redis at {url}: {e}"))?;
            Ok((store.with_read_model_in(model.clone()), Some(model)))
        }
    }
}

fn redis_client(url: &str) -> Result<redis::Client, BootstrapError> {
    Ok(redis::Client::open(url).map_err(|e| format!("bad REDIS_URL {url}: {e}"))?)
}
