//! The read side: what pages and `GET`s show, read from the read models only, never
//! from the write model. Row types are shared with the browser; queries are server-only.

use serde::{Deserialize, Serialize};

pub mod activity;
#[cfg(feature = "ssr")]
mod queries;
#[cfg(feature = "ssr")]
mod redis;
pub mod reports;
mod text;

pub use text::{eta_text, instant_text};
#[cfg(feature = "ssr")]
mod sql;
#[cfg(feature = "ssr")]
pub use queries::Views;

/// One allocated line of an order, as `allocations_view` holds it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OrderAllocation {
    pub sku: String,
    pub qty: i64,
    pub batchref: String,
    /// Who allocated it: a username, `token:<name>`, `anonymous` or `system`; `None`
    /// for lines allocated before accounts existed.
    pub allocated_by: Option<String>,
}

/// One line allocated to a batch.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BatchAllocation {
    pub orderid: String,
    pub qty: i64,
    pub allocated_by: Option<String>,
}

/// A batch with its running totals.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BatchSummary {
    pub reference: String,
    pub sku: String,
    /// `YYYY-MM-DD`; `None`: in the warehouse.
    pub eta: Option<String>,
    pub purchased: i64,
    pub allocated: i64,
    pub available: i64,
    /// Who added the batch or last changed its quantity.
    pub changed_by: Option<String>,
}

/// A SKU's stock over all its batches.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SkuStock {
    pub sku: String,
    pub purchased: i64,
    pub allocated: i64,
    pub available: i64,
    pub batches: i64,
    /// The earliest ETA among batches still on their way.
    pub next_eta: Option<String>,
}

/// An order line no batch could take.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OutOfStockNotice {
    pub orderid: String,
    pub sku: String,
    pub qty: i64,
    /// RFC 3339, UTC.
    pub noticed_at: String,
}
