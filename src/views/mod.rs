//! The read side: what pages and `GET`s show, read from the read models only, never
//! from the write model. Row types are shared with the browser; queries are server-only.

use serde::{Deserialize, Serialize};

#[cfg(feature = "ssr")]
mod queries;
#[cfg(feature = "ssr")]
pub use queries::Views;

/// One allocated line of an order, as `allocations_view` holds it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(sqlx::FromRow))]
pub struct OrderAllocation {
    pub sku: String,
    pub qty: i64,
    pub batchref: String,
}
