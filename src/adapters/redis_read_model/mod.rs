//! The read models in Redis (`READ_MODEL=redis`, the book's chapter 12.11), for servers
//! that share one PostgreSQL and serve their reads from Redis.
//!
//! Changes reach Redis through an outbox: each command records its read-model updates
//! in its own transaction (`read_model_updates`), applies them to Redis right after the
//! commit, so a `202` is answered with the view up to date, and a relay applies again
//! whatever is left in the table, so a crash between the commit and Redis loses nothing.
//! Applying twice or out of order is harmless: see `apply.lua`.
//!
//! Layout (keys under `<prefix>:`; composite values joined by [`SEPARATOR`]):
//! - `lines`: hash, order line `orderid|sku|qty` to `update id|allocation id|batch`;
//! - `line-by`: hash, allocated order line `orderid|sku|qty` to who allocated it;
//! - `order-lines:<orderid>`: sorted set of `sku|qty|batch`, by allocation;
//! - `batch-lines:<batch>`: sorted set of `orderid|qty`, by allocation;
//! - `batch:<batch>`: hash of `sku`, `eta` (`""`: in the warehouse), `purchased`,
//!   `allocated`, `changed_by`; `batches`, `sku-batches:<sku>` and `skus`: sets, for listings;
//! - `notices` and `order-notices:<orderid>`: sorted sets of out-of-stock notices
//!   `id|orderid|sku|qty|noticed_at`, by id.

mod rebuild;
mod relay;

use std::sync::Arc;

use chrono::NaiveDate;
use redis::aio::ConnectionManager;
use serde::{Deserialize, Serialize};

pub use rebuild::{BatchState, LineState};
pub use relay::{keep_projecting, project_pending};

use super::StoreError;
use super::redis_connection::kept_connection;
use crate::domain::model::OrderLine;
use crate::domain::values::{BatchRef, Quantity, Sku};

/// Joins the parts of composite keys, fields and members. Identifiers never contain
/// control characters (see `domain::values`), so it cannot be confused with their text.
pub const SEPARATOR: char = '\u{1f}';

impl From<redis::RedisError> for StoreError {
    fn from(error: redis::RedisError) -> Self {
        Self::Backend(Box::new(error))
    }
}

/// One change to the read models, as recorded in the outbox.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Update {
    /// A batch's purchased quantity; with its SKU and ETA when the batch is new.
    Batch {
        reference: BatchRef,
        sku: Option<Sku>,
        eta: Option<NaiveDate>,
        qty: Quantity,
        /// Who added the batch or changed its quantity (none in updates recorded
        /// before accounts existed).
        #[serde(default)]
        by: String,
    },
    /// Where a line is allocated now: `None` when it no longer is.
    Line {
        #[serde(flatten)]
        line: OrderLine,
        batchref: Option<BatchRef>,
        /// Who allocated or freed it.
        #[serde(default)]
        by: String,
    },
    /// No batch could take the line.
    OutOfStock {
        #[serde(flatten)]
        line: OrderLine,
        /// RFC 3339, UTC.
        noticed_at: String,
    },
}

impl Update {
    /// The update's seven arguments to `apply.lua`: kind, id, four fields, and who
    /// made it (`""` for a notice).
    fn arguments(&self, id: i64) -> [String; 7] {
        let id = id.to_string();
        match self {
            Self::Batch {
                reference,
                sku,
                eta,
                qty,
                by,
            } => [
                "batch".into(),
                id,
                reference.to_string(),
                sku.as_ref().map(Sku::to_string).unwrap_or_default(),
                eta.map(|eta| eta.to_string()).unwrap_or_default(),
                qty.to_string(),
                by.clone(),
            ],
            Self::Line { line, batchref, by } => [
                "line".into(),
                id,
                line.orderid.to_string(),
                line.sku.to_string(),
                line.qty.to_string(),
                batchref
                    .as_ref()
                    .map(BatchRef::to_string)
                    .unwrap_or_default(),
                by.clone(),
            ],
            Self::OutOfStock { line, noticed_at } => [
                "notice".into(),
                id,
                line.orderid.to_string(),
                line.sku.to_string(),
                line.qty.to_string(),
                noticed_at.clone(),
                String::new(),
            ],
        }
    }
}

/// The connection to the read models in Redis. Cheap to clone; reconnects by itself
/// after Redis restarts.
#[derive(Clone)]
pub struct RedisReadModel {
    connection: ConnectionManager,
    prefix: Arc<str>,
    apply: Arc<redis::Script>,
}

impl RedisReadModel {
    /// Connects on first use, so a server may start while Redis is still down.
    pub fn new(client: redis::Client, prefix: &str) -> redis::RedisResult<Self> {
        Ok(Self {
            connection: kept_connection(client)?,
            prefix: prefix.into(),
            apply: Arc::new(redis::Script::new(include_str!("apply.lua"))),
        })
    }

    /// The full name of the key `name`.
    pub fn key(&self, name: &str) -> String {
        format!("{}:{name}", self.prefix)
    }

    pub fn connection(&self) -> ConnectionManager {
        self.connection.clone()
    }

    /// Applies `updates` (each with its outbox id) in one atomic step.
    pub async fn apply(&self, updates: &[(i64, Update)]) -> redis::RedisResult<()> {
        if updates.is_empty() {
            return Ok(());
        }
        let mut invocation = self.apply.prepare_invoke();
        invocation.arg(&*self.prefix);
        for (id, update) in updates {
            invocation.arg(&update.arguments(*id));
        }
        invocation.invoke_async(&mut self.connection()).await
    }
}

/// Joins `parts` with [`SEPARATOR`].
pub fn joined<const N: usize>(parts: [&str; N]) -> String {
    parts.join(&SEPARATOR.to_string())
}

/// Splits `value` into exactly `N` parts at [`SEPARATOR`]; `None` if it has another
/// shape. The last part keeps any further separators.
pub fn split<const N: usize>(value: &str) -> Option<[&str; N]> {
    let mut parts = value.splitn(N, SEPARATOR);
    let split: [&str; N] = std::array::from_fn(|_| parts.next().unwrap_or_default());
    (value.matches(SEPARATOR).count() >= N - 1).then_some(split)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn split_undoes_joined() {
        let value = joined(["order-1", "RED-CHAIR", "10"]);
        assert_eq!(split::<3>(&value), Some(["order-1", "RED-CHAIR", "10"]));
        assert_eq!(split::<4>(&value), None);
        assert_eq!(split::<2>(&value), Some(["order-1", "RED-CHAIR\u{1f}10"]));
    }

    #[test]
    fn an_update_reads_back_as_recorded() {
        let update = Update::Line {
            line: OrderLine {
                orderid: crate::domain::values::OrderId::parse("o1").unwrap(),
                sku: Sku::parse("LAMP").unwrap(),
                qty: Quantity::new(3).unwrap(),
            },
            batchref: None,
            by: "carl".into(),
        };
        let recorded = serde_json::to_string(&update).unwrap();
        assert_eq!(serde_json::from_str::<Update>(&recorded).unwrap(), update);
        // Recorded before accounts existed: nobody.
        let older = r#"{"kind":"line","orderid":"o1","sku":"LAMP","qty":3,"batchref":null}"#;
        let Update::Line { by, .. } = serde_json::from_str(older).unwrap() else {
            panic!("a line update");
        };
        assert_eq!(by, "");
    }
}
