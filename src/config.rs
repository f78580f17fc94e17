//! Settings from the environment, each with a default that works with no setup.

use std::time::Duration;

use crate::adapters::sql::DEFAULT_PRODUCT_CACHE_MB;
use crate::domain::staff::{Role, UnknownRole};

/// An SQLite file in the working directory, created on first start.
pub const DEFAULT_DATABASE_URL: &str = "sqlite://allocation-desk.db?mode=rwc";

/// Where out-of-stock e-mails go, as in the reference.
pub const DEFAULT_STOCK_EMAIL: &str = "stock@made.com";

/// Whom out-of-stock e-mails come from.
pub const DEFAULT_MAIL_FROM: &str = "allocations@made.com";

/// What the desk's keys in Redis start with.
pub const DEFAULT_REDIS_PREFIX: &str = "allocation-desk";

/// How long a session lasts unused, by default.
pub const DEFAULT_SESSION_IDLE_MINUTES: u64 = 60;

/// Where the read models (what pages and `GET`s show) live.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReadModelStore {
    /// Tables beside the write model, written in the same transaction.
    Sql,
    /// Redis, fed from an outbox: the book's chapter 12.11.
    Redis,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ConfigError {
    #[error("READ_MODEL must be sql or redis, not {0:?}")]
    ReadModel(String),
    #[error("ANONYMOUS_API_ROLE: {0}")]
    AnonymousRole(UnknownRole),
    #[error("SESSION_IDLE_MINUTES must be a whole number of minutes above 0, not {0:?}")]
    SessionIdle(String),
    #[error("SECURE_COOKIES must be on or off, not {0:?}")]
    SecureCookies(String),
    #[error("PRODUCT_CACHE_MB must be a whole number of megabytes, not {0:?}")]
    ProductCache(String),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Config {
    /// `DATABASE_URL`: where the write and read models live.
    pub database_url: String,
    /// `REDIS_URL`: when set, `line_allocated` is published and `change_batch_quantity`
    /// consumed there.
    pub redis_url: Option<String>,
    /// `REDIS_CONSUMER=off`: this server leaves `change_batch_quantity` to another
    /// process, so that each message is applied by one consumer only.
    pub redis_consumer: bool,
    /// `SMTP_URL` (e.g. `smtp://mail.example.com:25`): when set, the stock team is
    /// e-mailed of lines out of stock.
    pub smtp_url: Option<String>,
    /// `STOCK_EMAIL`: the stock team's address.
    pub stock_email: String,
    /// `MAIL_FROM`: the sender of the desk's e-mail.
    pub mail_from: String,
    /// `READ_MODEL`: `sql` (the default) or `redis`, which needs `REDIS_URL`.
    pub read_model: ReadModelStore,
    /// `REDIS_PREFIX`: what the read models' keys start with, so that several desks
    /// (or test runs) can share one Redis.
    pub redis_prefix: String,
    /// `ANONYMOUS_API_ROLE`: unset (the default), the JSON API needs a token; set to a
    /// role, callers without one act with it. For local experiments and the
    /// reference's test-suite only.
    pub anonymous_api_role: Option<Role>,
    /// `SESSION_IDLE_MINUTES`: a session unused this long has ended.
    pub session_idle: Duration,
    /// `SECURE_COOKIES=off`: session cookies also travel over plain HTTP to hosts
    /// other than localhost. On by default.
    pub secure_cookies: bool,
    /// `PRODUCT_CACHE_MB`: about how much memory the products last loaded or written
    /// may take, so that writes need not read them again (0: none are held).
    pub product_cache_mb: usize,
}

impl Config {
    pub fn from_env() -> Result<Self, ConfigError> {
        Self::from_lookup(|name| std::env::var(name).ok())
    }

    fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        let set = |name: &str| lookup(name).filter(|value| !value.trim().is_empty());
        let read_model = match set("READ_MODEL").as_deref().map(str::trim) {
            None | Some("sql") => ReadModelStore::Sql,
            Some("redis") => ReadModelStore::Redis,
            Some(other) => return Err(ConfigError::ReadModel(other.to_owned())),
        };
        let anonymous_api_role = set("ANONYMOUS_API_ROLE")
            .map(|raw| Role::parse(&raw).map_err(ConfigError::AnonymousRole))
            .transpose()?;
        let session_idle = match set("SESSION_IDLE_MINUTES") {
            None => DEFAULT_SESSION_IDLE_MINUTES,
            Some(raw) => raw
                .trim()
                .parse()
                .ok()
                .filter(|minutes| *minutes > 0)
                .ok_or(ConfigError::SessionIdle(raw))?,
        };
        let secure_cookies = match set("SECURE_COOKIES").as_deref().map(str::trim) {
            None | Some("on") => true,
            Some("off") => false,
            Some(other) => return Err(ConfigError::SecureCookies(other.to_owned())),
        };
        let product_cache_mb = match set("PRODUCT_CACHE_MB") {
            None => DEFAULT_PRODUCT_CACHE_MB,
            Some(raw) => raw
                .trim()
                .parse()
                .map_err(|_| ConfigError::ProductCache(raw))?,
        };
        Ok(Self {
            anonymous_api_role,
            product_cache_mb,
            session_idle: Duration::from_secs(session_idle * 60),
            secure_cookies,
            database_url: set("DATABASE_URL").unwrap_or_else(|| DEFAULT_DATABASE_URL.to_owned()),
            redis_url: set("REDIS_URL"),
            redis_consumer: set("REDIS_CONSUMER").is_none_or(|value| value != "off"),
            smtp_url: set("SMTP_URL"),
            stock_email: set("STOCK_EMAIL").unwrap_or_else(|| DEFAULT_STOCK_EMAIL.to_owned()),
            mail_from: set("MAIL_FROM").unwrap_or_else(|| DEFAULT_MAIL_FROM.to_owned()),
            read_model,
            redis_prefix: set("REDIS_PREFIX").unwrap_or_else(|| DEFAULT_REDIS_PREFIX.to_owned()),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_to_an_sqlite_file() {
        let config = Config::from_lookup(|_| None).unwrap();
        assert_eq!(config.database_url, DEFAULT_DATABASE_URL);
        assert_eq!(config.read_model, ReadModelStore::Sql);
        assert_eq!(config.product_cache_mb, DEFAULT_PRODUCT_CACHE_MB);
        assert_eq!(
            Config::from_lookup(|_| Some(" ".into()))
                .unwrap()
                .database_url,
            DEFAULT_DATABASE_URL
        );
    }

    #[test]
    fn urls_come_from_the_environment() {
        let config = Config::from_lookup(|name| match name {
            "DATABASE_URL" => Some("postgres://db/desk".to_owned()),
            "REDIS_URL" => Some("redis://127.0.0.1:6379".to_owned()),
            "REDIS_CONSUMER" => Some("off".to_owned()),
            "READ_MODEL" => Some("redis".to_owned()),
            "REDIS_PREFIX" => Some("desk-2".to_owned()),
            _ => None,
        })
        .unwrap();
        assert_eq!(config.database_url, "postgres://db/desk");
        assert_eq!(config.redis_url.as_deref(), Some("redis://127.0.0.1:6379"));
        assert!(!config.redis_consumer);
        assert_eq!(config.read_model, ReadModelStore::Redis);
        assert_eq!(config.redis_prefix, "desk-2");
    }

    #[test]
    fn access_settings_default_to_closed_and_are_checked() {
        let config = Config::from_lookup(|_| None).unwrap();
        assert_eq!(config.anonymous_api_role, None);
        assert!(config.secure_cookies);
        assert_eq!(config.session_idle, Duration::from_secs(3600));
        let config = Config::from_lookup(|name| match name {
            "ANONYMOUS_API_ROLE" => Some("clerk".into()),
            "SESSION_IDLE_MINUTES" => Some("5".into()),
            "SECURE_COOKIES" => Some("off".into()),
            _ => None,
        })
        .unwrap();
        assert_eq!(config.anonymous_api_role, Some(Role::Clerk));
        assert_eq!(config.session_idle, Duration::from_secs(300));
        assert!(!config.secure_cookies);
        let bad = |name: &'static str, value: &'static str| {
            Config::from_lookup(move |n| (n == name).then(|| value.into())).is_err()
        };
        assert!(bad("ANONYMOUS_API_ROLE", "root"));
        assert!(bad("SESSION_IDLE_MINUTES", "0"));
        assert!(bad("SECURE_COOKIES", "maybe"));
    }

    #[test]
    fn the_products_held_are_bounded_in_megabytes() {
        let sized = |value: &'static str| {
            Config::from_lookup(move |n| (n == "PRODUCT_CACHE_MB").then(|| value.into()))
                .map(|config| config.product_cache_mb)
        };
        assert_eq!(sized("512"), Ok(512));
        assert_eq!(sized("0"), Ok(0));
        assert_eq!(sized("lots"), Err(ConfigError::ProductCache("lots".into())));
        assert!(sized("-1").is_err());
    }

    #[test]
    fn an_unknown_read_model_store_is_refused() {
        let config = Config::from_lookup(|name| (name == "READ_MODEL").then(|| "mongo".into()));
        assert_eq!(config, Err(ConfigError::ReadModel("mongo".into())));
    }
}
