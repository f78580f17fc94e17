//! The GET server functions the pages read through: thin wrappers over `views`.

use leptos::prelude::*;
use leptos::server_fn::codec::GetUrl;

use crate::views::reports::ReportPage;
use crate::views::{BatchAllocation, BatchSummary, OrderAllocation, OutOfStockNotice, SkuStock};

/// How many out-of-stock notices the dashboard shows.
pub const LATEST_NOTICES: i64 = 10;

#[cfg(feature = "ssr")]
fn views() -> crate::views::Views {
    expect_context::<crate::bootstrap::Services>().views.clone()
}

/// Storage that failed is logged in full; the page gets a short message.
#[cfg(feature = "ssr")]
pub(super) fn unavailable(error: impl std::fmt::Display) -> ServerFnError {
    tracing::error!(%error, "the desk's storage failed");
    ServerFnError::new("The desk cannot reach its storage; please try again shortly")
}

#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct StockOverview {
    pub stock: Vec<SkuStock>,
    pub notices: Vec<OutOfStockNotice>,
}

#[server(prefix = "/api", endpoint = "views/dashboard", input = GetUrl)]
pub async fn dashboard() -> Result<StockOverview, ServerFnError> {
    let views = views();
    Ok(StockOverview {
        stock: views.stock().await.map_err(unavailable)?,
        notices: views
            .latest_out_of_stock(LATEST_NOTICES)
            .await
            .map_err(unavailable)?,
    })
}

/// Every SKU with a batch, alphabetically.
#[server(prefix = "/api", endpoint = "views/skus", input = GetUrl)]
pub async fn skus() -> Result<Vec<String>, ServerFnError> {
    views().skus().await.map_err(unavailable)
}

/// All batches, or those of one SKU when `sku` is given and not blank.
#[server(prefix = "/api", endpoint = "views/batches", input = GetUrl)]
pub async fn batches(sku: Option<String>) -> Result<Vec<BatchSummary>, ServerFnError> {
    use crate::domain::values::Sku;
    // A filter that is no valid SKU matches nothing.
    let filter = match sku.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
        None => None,
        Some(raw) => match Sku::parse(raw) {
            Ok(sku) => Some(sku),
            Err(_) => return Ok(Vec::new()),
        },
    };
    views().batches(filter.as_ref()).await.map_err(unavailable)
}

#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct BatchDetail {
    pub batch: BatchSummary,
    pub allocations: Vec<BatchAllocation>,
}

/// One batch and the lines allocated to it; `None` for an unknown reference.
#[server(prefix = "/api", endpoint = "views/batch", input = GetUrl)]
pub async fn batch(reference: String) -> Result<Option<BatchDetail>, ServerFnError> {
    use crate::domain::values::BatchRef;
    let Ok(reference) = BatchRef::parse(&reference) else {
        return Ok(None);
    };
    let views = views();
    let Some(batch) = views.batch(&reference).await.map_err(unavailable)? else {
        return Ok(None);
    };
    let allocations = views
        .batch_allocations(&reference)
        .await
        .map_err(unavailable)?;
    Ok(Some(BatchDetail { batch, allocations }))
}

#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct OrderDetail {
    pub allocations: Vec<OrderAllocation>,
    /// Lines noticed out of stock and not allocated since.
    pub waiting: Vec<OutOfStockNotice>,
}

#[server(prefix = "/api", endpoint = "views/order", input = GetUrl)]
pub async fn order(orderid: String) -> Result<OrderDetail, ServerFnError> {
    use crate::domain::values::OrderId;
    let Ok(orderid) = OrderId::parse(&orderid) else {
        return Ok(OrderDetail {
            allocations: Vec::new(),
            waiting: Vec::new(),
        });
    };
    let views = views();
    Ok(OrderDetail {
        allocations: views.allocations(&orderid).await.map_err(unavailable)?,
        waiting: views
            .unallocated_lines(&orderid)
            .await
            .map_err(unavailable)?,
    })
}

/// One page of a report, for the query string `query` (`?...` or empty): `Ok(Err)`
/// names a bad filter; an unknown report is `Ok(None)`.
#[server(prefix = "/api", endpoint = "views/report", input = GetUrl)]
pub async fn report(
    report: String,
    query: String,
) -> Result<Option<Result<ReportPage, String>>, ServerFnError> {
    use crate::views::reports::{ReportKind, ReportQuery};
    let Some(kind) = ReportKind::from_slug(&report) else {
        return Ok(None);
    };
    let pairs: Vec<(String, String)> =
        form_urlencoded::parse(query.trim_start_matches('?').as_bytes())
            .into_owned()
            .collect();
    let query = match ReportQuery::parse(kind, &pairs) {
        Ok(query) => query,
        Err(problem) => return Ok(Some(Err(problem))),
    };
    let reports = expect_context::<crate::bootstrap::Services>()
        .reports
        .clone();
    let today = chrono::Utc::now().date_naive();
    let page = reports
        .page(kind, query, today)
        .await
        .map_err(unavailable)?;
    Ok(Some(Ok(page)))
}
