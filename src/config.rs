//! Settings from the environment, each with a default that works with no setup.

/// An SQLite file in the working directory, created on first start.
pub const DEFAULT_DATABASE_URL: &str = "sqlite://allocation-desk.db?mode=rwc";

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Config {
    /// `DATABASE_URL`: where the write and read models live.
    pub database_url: String,
}

impl Config {
    pub fn from_env() -> Self {
        Self::from_lookup(|name| std::env::var(name).ok())
    }

    fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Self {
        let database_url = lookup("DATABASE_URL")
            .filter(|url| !url.trim().is_empty())
            .unwrap_or_else(|| DEFAULT_DATABASE_URL.to_owned());
        Self { database_url }
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
    fn database_url_comes_from_the_environment() {
        let config = Config::from_lookup(|name| {
            (name == "DATABASE_URL").then(|| "sqlite:///tmp/x.db".to_owned())
        });
        assert_eq!(config.database_url, "sqlite:///tmp/x.db");
    }
}
