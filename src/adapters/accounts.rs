//! The port to staff accounts, their sessions and the API tokens managers hand to
//! machines. Secrets cross it as hashes and digests only.

use async_trait::async_trait;

use super::StoreError;
use crate::domain::staff::{Role, Username};

/// An account as the accounts page lists it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AccountRecord {
    pub username: Username,
    pub role: Role,
    pub created_at: i64,
    pub disabled_at: Option<i64>,
}

/// What signing in checks.
pub struct Credentials {
    pub account_id: i64,
    pub password_hash: String,
    pub active: bool,
}

/// An API token as the accounts page lists it: never the token itself.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TokenRecord {
    pub id: i64,
    pub name: String,
    pub role: Role,
    pub created_by: String,
    pub created_at: i64,
    pub revoked_at: Option<i64>,
}

/// The account behind a live session.
pub struct SessionRecord {
    pub username: Username,
    pub role: Role,
    pub expires_at: i64,
}

#[async_trait]
pub trait AccountStore: Send + Sync {
    async fn count_accounts(&self) -> Result<i64, StoreError>;

    /// Adds an account. A taken username is a [`StoreError::Conflict`].
    async fn insert_account(
        &self,
        username: &Username,
        password_hash: &str,
        role: Role,
        now: i64,
    ) -> Result<i64, StoreError>;

    /// Adds the first manager, unless the desk has an account already (`None`). Of
    /// two visitors setting up at once, one wins.
    async fn insert_first_manager(
        &self,
        username: &Username,
        password_hash: &str,
        now: i64,
    ) -> Result<Option<i64>, StoreError>;

    async fn credentials(&self, username: &Username) -> Result<Option<Credentials>, StoreError>;

    async fn accounts(&self) -> Result<Vec<AccountRecord>, StoreError>;

    /// Whether the account exists.
    async fn set_role(&self, username: &Username, role: Role) -> Result<bool, StoreError>;

    /// Disables (`Some(when)`) or enables (`None`) the account; a disabled account's
    /// sessions end at once. Whether the account exists.
    async fn set_disabled(
        &self,
        username: &Username,
        disabled_at: Option<i64>,
    ) -> Result<bool, StoreError>;

    /// Starts a session; sessions expired by `now` are cleared away on the way.
    async fn insert_session(
        &self,
        digest: &str,
        account_id: i64,
        now: i64,
        expires_at: i64,
    ) -> Result<(), StoreError>;

    /// The active account of a session not expired at `now`.
    async fn session(&self, digest: &str, now: i64) -> Result<Option<SessionRecord>, StoreError>;

    async fn extend_session(&self, digest: &str, expires_at: i64) -> Result<(), StoreError>;

    async fn delete_session(&self, digest: &str) -> Result<(), StoreError>;

    async fn insert_token(
        &self,
        name: &str,
        digest: &str,
        role: Role,
        created_by: &str,
        now: i64,
    ) -> Result<i64, StoreError>;

    /// The name and role of an unrevoked token.
    async fn token(&self, digest: &str) -> Result<Option<(String, Role)>, StoreError>;

    async fn tokens(&self) -> Result<Vec<TokenRecord>, StoreError>;

    /// Whether a live token was revoked.
    async fn revoke_token(&self, id: i64, now: i64) -> Result<bool, StoreError>;
}
