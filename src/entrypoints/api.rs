//! The JSON API of the reference implementation (`shared/contract.md`), stricter on
//! bad input: every refusal is a 4xx with `{"message": ...}` naming the problem.

use axum::extract::rejection::{JsonRejection, PathRejection};
use axum::extract::{FromRequest, Path, Request, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Extension, Json, Router};
use serde::{Deserialize, Deserializer, Serialize};
use serde_json::json;

use super::ServerState;
use crate::adapters::StoreError;
use crate::bootstrap::Services;
use crate::domain::commands::{Allocate, CreateBatch, Deallocate};
use crate::domain::model::{DomainError, OrderLine};
use crate::domain::staff::Actor;
use crate::domain::values::{BatchRef, FieldError, OrderId, Quantity, Sku, parse_date};
use crate::routes;
use crate::service_layer::ServiceError;

pub fn routes() -> Router<ServerState> {
    Router::new()
        .route("/add_batch", post(add_batch))
        .route("/allocate", post(allocate))
        .route("/deallocate", post(deallocate))
        .route("/allocations/{orderid}", get(allocations))
}

// --- requests ---

#[derive(Deserialize)]
struct AddBatchRequest {
    #[serde(rename = "ref")]
    reference: String,
    sku: String,
    qty: i64,
    /// Outer `None`: the field is missing, which the contract refuses; inner `None`:
    /// `null`, in the warehouse.
    #[serde(default, deserialize_with = "present")]
    eta: Option<Option<String>>,
}

#[derive(Deserialize)]
struct OrderLineRequest {
    orderid: String,
    sku: String,
    qty: i64,
}

fn present<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Option<String>>, D::Error> {
    Option::<String>::deserialize(d).map(Some)
}

impl AddBatchRequest {
    fn into_command(self) -> Result<CreateBatch, ApiError> {
        let eta = match self.eta {
            None => {
                return Err(ApiError::bad_request(
                    "missing field `eta` (null: in the warehouse)",
                ));
            }
            Some(None) => None,
            Some(Some(raw)) => Some(parse_date(&raw).map_err(|e| e.in_field("eta"))?),
        };
        Ok(CreateBatch {
            reference: BatchRef::parse(&self.reference).map_err(|e| e.in_field("ref"))?,
            sku: Sku::parse(&self.sku).map_err(|e| e.in_field("sku"))?,
            qty: Quantity::new(self.qty).map_err(|e| e.in_field("qty"))?,
            eta,
        })
    }
}

impl OrderLineRequest {
    fn into_line(self) -> Result<OrderLine, ApiError> {
        Ok(OrderLine {
            orderid: OrderId::parse(&self.orderid).map_err(|e| e.in_field("orderid"))?,
            sku: Sku::parse(&self.sku).map_err(|e| e.in_field("sku"))?,
            qty: Quantity::new(self.qty).map_err(|e| e.in_field("qty"))?,
        })
    }
}

// --- handlers ---

async fn add_batch(
    State(services): State<Services>,
    Extension(actor): Extension<Actor>,
    JsonBody(request): JsonBody<AddBatchRequest>,
) -> Result<Response, ApiError> {
    let command = request.into_command()?;
    let location = routes::batch(command.reference.as_str());
    let message = format!("Batch {} added", command.reference);
    services.bus.handle_as(&actor, command).await?;
    Ok(created(StatusCode::CREATED, &location, message))
}

async fn allocate(
    State(services): State<Services>,
    Extension(actor): Extension<Actor>,
    JsonBody(request): JsonBody<OrderLineRequest>,
) -> Result<Response, ApiError> {
    let line = request.into_line()?;
    let location = routes::allocations_api(line.orderid.as_str());
    let message = format!("Order {} accepted", line.orderid);
    services.bus.handle_as(&actor, Allocate { line }).await?;
    Ok(created(StatusCode::ACCEPTED, &location, message))
}

async fn deallocate(
    State(services): State<Services>,
    Extension(actor): Extension<Actor>,
    JsonBody(request): JsonBody<OrderLineRequest>,
) -> Result<Json<Message>, ApiError> {
    let line = request.into_line()?;
    let message = format!(
        "Order {} no longer holds {} x {}",
        line.orderid, line.qty, line.sku
    );
    services.bus.handle_as(&actor, Deallocate { line }).await?;
    Ok(Json(Message { message }))
}

#[derive(Serialize)]
struct AllocationResponse {
    sku: String,
    batchref: String,
}

async fn allocations(
    State(services): State<Services>,
    orderid: Result<Path<String>, PathRejection>,
) -> Result<Json<Vec<AllocationResponse>>, ApiError> {
    let Path(orderid) =
        orderid.map_err(|rejection| ApiError::bad_request(rejection.body_text()))?;
    let orderid = OrderId::parse(&orderid).map_err(|e| e.in_field("orderid"))?;
    let rows = services.views.allocations(&orderid).await?;
    if rows.is_empty() {
        return Err(ApiError::new(
            StatusCode::NOT_FOUND,
            format!("Order {orderid} has no allocated line"),
        ));
    }
    Ok(Json(
        rows.into_iter()
            .map(|row| AllocationResponse {
                sku: row.sku,
                batchref: row.batchref,
            })
            .collect(),
    ))
}

// --- responses ---

#[derive(Serialize)]
struct Message {
    message: String,
}

fn created(status: StatusCode, location: &str, message: String) -> Response {
    let mut response = (status, Json(Message { message })).into_response();
    if let Ok(location) = HeaderValue::from_str(location) {
        response.headers_mut().insert(header::LOCATION, location);
    }
    response
}

/// A refusal, sent as `{"message": ...}`.
#[derive(Debug)]
pub struct ApiError {
    status: StatusCode,
    message: String,
}

impl ApiError {
    fn new(status: StatusCode, message: impl Into<String>) -> Self {
        Self {
            status,
            message: message.into(),
        }
    }

    fn bad_request(message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, message)
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        (self.status, Json(json!({ "message": self.message }))).into_response()
    }
}

impl From<FieldError> for ApiError {
    fn from(error: FieldError) -> Self {
        Self::bad_request(error.to_string())
    }
}

impl From<ServiceError> for ApiError {
    fn from(error: ServiceError) -> Self {
        let status = match &error {
            ServiceError::InvalidSku(_) => StatusCode::BAD_REQUEST,
            ServiceError::Domain(DomainError::DuplicateBatch(_)) => StatusCode::CONFLICT,
            ServiceError::Domain(DomainError::SkuMismatch { .. }) => StatusCode::CONFLICT,
            ServiceError::Domain(DomainError::UnknownBatch(_)) => StatusCode::NOT_FOUND,
            ServiceError::Domain(DomainError::NotAllocated(_)) => StatusCode::NOT_FOUND,
            ServiceError::Forbidden { .. } => StatusCode::FORBIDDEN,
            ServiceError::Store(store) => return store_failure(store),
        };
        Self::new(status, error.to_string())
    }
}

impl From<StoreError> for ApiError {
    fn from(error: StoreError) -> Self {
        store_failure(&error)
    }
}

fn store_failure(error: &StoreError) -> ApiError {
    match error {
        StoreError::Conflict(_) => ApiError::new(
            StatusCode::CONFLICT,
            "The product was changed by another request at the same time; try again",
        ),
        StoreError::Backend(_) => {
            tracing::error!(%error, "storage failed");
            ApiError::new(
                StatusCode::SERVICE_UNAVAILABLE,
                "Storage is unavailable; try again shortly",
            )
        }
    }
}

/// `Json`, with its rejections in the API's `{"message"}` shape. A well-formed body
/// with a missing or mistyped field is a 400 that names the field.
struct JsonBody<T>(T);

impl<S, T> FromRequest<S> for JsonBody<T>
where
    Json<T>: FromRequest<S, Rejection = JsonRejection>,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request(request: Request, state: &S) -> Result<Self, Self::Rejection> {
        match Json::<T>::from_request(request, state).await {
            Ok(Json(value)) => Ok(Self(value)),
            Err(rejection) => {
                let status = match rejection.status() {
                    StatusCode::UNPROCESSABLE_ENTITY => StatusCode::BAD_REQUEST,
                    status => status,
                };
                Err(ApiError::new(status, rejection.body_text()))
            }
        }
    }
}
