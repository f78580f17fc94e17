//! Settings from the environment, each with a default that works with no setup.

/// An SQLite file in the working directory, created on first start.
pub const DEFAULT_DATABASE_URL: &str = "sqlite://allocation-desk.db?mode=rwc";

/// Where out-of-stock e-mails go, as in the reference.
pub const DEFAULT_STOCK_EMAIL: &str = "stock@made.com";

/// Whom out-of-stock e-mails come from.
pub const DEFAULT_MAIL_FROM: &str = "allocations@made.com";

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
}

impl Config {
    pub fn from_env() -> Self {
        Self::from_lookup(|name| std::env::var(name).ok())
    }

    fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Self {
        let set = |name: &str| lookup(name).filter(|value| !value.trim().is_empty());
        Self {
            database_url: set("DATABASE_URL").unwrap_or_else(|| DEFAULT_DATABASE_URL.to_owned()),
            redis_url: set("REDIS_URL"),
            redis_consumer: set("REDIS_CONSUMER").is_none_or(|value| value != "off"),
            smtp_url: set("SMTP_URL"),
            stock_email: set("STOCK_EMAIL").unwrap_or_else(|| DEFAULT_STOCK_EMAIL.to_owned()),
            mail_from: set("MAIL_FROM").unwrap_or_else(|| DEFAULT_MAIL_FROM.to_owned()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_to_an_sqlite_file() {
        assert_eq!(
            Config::from_lookup(|_| None).database_url,
            DEFAULT_DATABASE_URL
        );
        assert_eq!(
            Config::from_lookup(|_| Some(" ".into())).database_url,
            DEFAULT_DATABASE_URL
        );
    }

    #[test]
    fn urls_come_from_the_environment() {
        let config = Config::from_lookup(|name| match name {
            "DATABASE_URL" => Some("postgres://db/desk".to_owned()),
            "REDIS_URL" => Some("redis://127.0.0.1:6379".to_owned()),
            "REDIS_CONSUMER" => Some("off".to_owned()),
            _ => None,
        });
        assert_eq!(config.database_url, "postgres://db/desk");
        assert_eq!(config.redis_url.as_deref(), Some("redis://127.0.0.1:6379"));
        assert!(!config.redis_consumer);
    }
}
