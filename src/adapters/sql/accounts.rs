//! Staff accounts, sessions and API tokens in SQL.

use async_trait::async_trait;
use sqlx::Row;
use sqlx::any::AnyRow;

use super::SqlStore;
use crate::adapters::StoreError;
use crate::adapters::accounts::{
    AccountRecord, AccountStore, Credentials, SessionRecord, TokenRecord,
};
use crate::domain::staff::{Role, Username};

/// Adds an account: username, password hash, role, created at; answers its id.
const INSERT_ACCOUNT: &str = "INSERT INTO accounts (username, password_hash, role, created_at) \
     VALUES ($1, $2, $3, $4) RETURNING id";

fn decode<T, E: std::fmt::Display>(value: Result<T, E>) -> Result<T, StoreError> {
    value.map_err(|e| StoreError::Backend(format!("unreadable account data: {e}").into()))
}

fn role(row: &AnyRow, column: &str) -> Result<Role, StoreError> {
    decode(Role::parse(&row.try_get::<String, _>(column)?))
}

fn username(row: &AnyRow) -> Result<Username, StoreError> {
    decode(Username::parse(&row.try_get::<String, _>("username")?))
}

#[async_trait]
impl AccountStore for SqlStore {
    async fn count_accounts(&self) -> Result<i64, StoreError> {
        Ok(sqlx::query_scalar("SELECT count(*) FROM accounts")
            .fetch_one(&self.pool)
            .await?)
    }

    async fn insert_account(
        &self,
        username: &Username,
        password_hash: &str,
        role: Role,
        now: i64,
    ) -> Result<i64, StoreError> {
        Ok(sqlx::query_scalar(INSERT_ACCOUNT)
            .bind(username.as_str())
            .bind(password_hash)
            .bind(role.as_str())
            .bind(now)
            .fetch_one(&self.pool)
            .await?)
    }

    async fn insert_first_manager(
        &self,
        username: &Username,
        password_hash: &str,
        now: i64,
    ) -> Result<Option<i64>, StoreError> {
        let mut transaction = self.pool.begin().await?;
        // An account made otherwise (`create-user`) has set the desk up as well.
        let taken: i64 = sqlx::query_scalar(
            "SELECT (SELECT count(*) FROM first_manager) + (SELECT count(*) FROM accounts)",
        )
        .fetch_one(&mut *transaction)
        .await?;
        if taken > 0 {
            return Ok(None);
        }
        let id: i64 = sqlx::query_scalar(INSERT_ACCOUNT)
            .bind(username.as_str())
            .bind(password_hash)
            .bind(Role::Manager.as_str())
            .bind(now)
            .fetch_one(&mut *transaction)
            .await?;
        let claimed = sqlx::query("INSERT INTO first_manager (id, account_id) VALUES (1, $1)")
            .bind(id)
            .execute(&mut *transaction)
            .await;
        match claimed.map_err(StoreError::from) {
            Ok(_) => {
                transaction.commit().await?;
                Ok(Some(id))
            }
            Err(StoreError::Conflict(_)) => Ok(None),
            Err(error) => Err(error),
        }
    }

    async fn credentials(&self, username: &Username) -> Result<Option<Credentials>, StoreError> {
        let row =
            sqlx::query("SELECT id, password_hash, disabled_at FROM accounts WHERE username = $1")
                .bind(username.as_str())
                .fetch_optional(&self.pool)
                .await?;
        row.map(|row| {
            Ok(Credentials {
                account_id: row.try_get("id")?,
                password_hash: row.try_get("password_hash")?,
                active: row.try_get::<Option<i64>, _>("disabled_at")?.is_none(),
            })
        })
        .transpose()
    }

    async fn accounts(&self) -> Result<Vec<AccountRecord>, StoreError> {
        let rows = sqlx::query(
            "SELECT username, role, created_at, disabled_at FROM accounts ORDER BY username",
        )
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|row| {
                Ok(AccountRecord {
                    username: username(row)?,
                    role: role(row, "role")?,
                    created_at: row.try_get("created_at")?,
                    disabled_at: row.try_get("disabled_at")?,
                })
            })
            .collect()
    }

    async fn set_role(&self, username: &Username, role: Role) -> Result<bool, StoreError> {
        let done = sqlx::query("UPDATE accounts SET role = $1 WHERE username = $2")
            .bind(role.as_str())
            .bind(username.as_str())
            .execute(&self.pool)
            .await?;
        Ok(done.rows_affected() > 0)
    }

    async fn set_disabled(
        &self,
        username: &Username,
        disabled_at: Option<i64>,
    ) -> Result<bool, StoreError> {
        let mut transaction = self.pool.begin().await?;
        let done = sqlx::query("UPDATE accounts SET disabled_at = $1 WHERE username = $2")
            .bind(disabled_at)
            .bind(username.as_str())
            .execute(&mut *transaction)
            .await?;
        sqlx::query(
            "DELETE FROM sessions WHERE account_id IN \
             (SELECT id FROM accounts WHERE username = $1 AND disabled_at IS NOT NULL)",
        )
        .bind(username.as_str())
        .execute(&mut *transaction)
        .await?;
        transaction.commit().await?;
        Ok(done.rows_affected() > 0)
    }

    async fn insert_session(
        &self,
        digest: &str,
        account_id: i64,
        now: i64,
        expires_at: i64,
    ) -> Result<(), StoreError> {
        sqlx::query("DELETE FROM sessions WHERE expires_at <= $1")
            .bind(now)
            .execute(&self.pool)
            .await?;
        sqlx::query(
            "INSERT INTO sessions (token_hash, account_id, expires_at) VALUES ($1, $2, $3)",
        )
        .bind(digest)
        .bind(account_id)
        .bind(expires_at)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    async fn session(&self, digest: &str, now: i64) -> Result<Option<SessionRecord>, StoreError> {
        let row = sqlx::query(
            "SELECT a.username, a.role, s.expires_at FROM sessions s \
             JOIN accounts a ON a.id = s.account_id \
             WHERE s.token_hash = $1 AND s.expires_at > $2 AND a.disabled_at IS NULL",
        )
        .bind(digest)
        .bind(now)
        .fetch_optional(&self.pool)
        .await?;
        row.map(|row| {
            Ok(SessionRecord {
                username: username(&row)?,
                role: role(&row, "role")?,
                expires_at: row.try_get("expires_at")?,
            })
        })
        .transpose()
    }

    async fn extend_session(&self, digest: &str, expires_at: i64) -> Result<(), StoreError> {
        sqlx::query("UPDATE sessions SET expires_at = $1 WHERE token_hash = $2")
            .bind(expires_at)
            .bind(digest)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    async fn delete_session(&self, digest: &str) -> Result<(), StoreError> {
        sqlx::query("DELETE FROM sessions WHERE token_hash = $1")
            .bind(digest)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    async fn insert_token(
        &self,
        name: &str,
        digest: &str,
        role: Role,
        created_by: &str,
        now: i64,
    ) -> Result<i64, StoreError> {
        Ok(sqlx::query_scalar(
            "INSERT INTO api_tokens (name, token_hash, role, created_by, created_at) \
             VALUES ($1, $2, $3, $4, $5) RETURNING id",
        )
        .bind(name)
        .bind(digest)
        .bind(role.as_str())
        .bind(created_by)
        .bind(now)
        .fetch_one(&self.pool)
        .await?)
    }

    async fn token(&self, digest: &str) -> Result<Option<(String, Role)>, StoreError> {
        let row = sqlx::query(
            "SELECT name, role FROM api_tokens WHERE token_hash = $1 AND revoked_at IS NULL",
        )
        .bind(digest)
        .fetch_optional(&self.pool)
        .await?;
        row.map(|row| Ok((row.try_get("name")?, role(&row, "role")?)))
            .transpose()
    }

    async fn tokens(&self) -> Result<Vec<TokenRecord>, StoreError> {
        let rows = sqlx::query(
            "SELECT id, name, role, created_by, created_at, revoked_at FROM api_tokens ORDER BY id",
        )
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|row| {
                Ok(TokenRecord {
                    id: row.try_get("id")?,
                    name: row.try_get("name")?,
                    role: role(row, "role")?,
                    created_by: row.try_get("created_by")?,
                    created_at: row.try_get("created_at")?,
                    revoked_at: row.try_get("revoked_at")?,
                })
            })
            .collect()
    }

    async fn revoke_token(&self, id: i64, now: i64) -> Result<bool, StoreError> {
        let done = sqlx::query(
            "UPDATE api_tokens SET revoked_at = $1 WHERE id = $2 AND revoked_at IS NULL",
        )
        .bind(now)
        .bind(id)
        .execute(&self.pool)
        .await?;
        Ok(done.rows_affected() > 0)
    }
}
