//! `/healthz`: the process answers. `/readyz`: it can also reach what it depends on,
//! so a load balancer sends it traffic.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use serde_json::{Value, json};

use crate::bootstrap::Services;

pub async fn live() -> &'static str {
    "ok"
}

pub async fn ready(State(services): State<Services>) -> (StatusCode, Json<Value>) {
    let database = match services.views.ping().await {
        Ok(()) => "ok".to_owned(),
        Err(error) => error.to_string(),
    };
    let redis = match &services.redis {
        None => "not configured".to_owned(),
        Some(client) => match ping(client).await {
            Ok(()) => "ok".to_owned(),
            Err(error) => error.to_string(),
        },
    };
    let ready = database == "ok" && matches!(redis.as_str(), "ok" | "not configured");
    let status = if ready {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    (
        status,
        Json(json!({ "database": database, "redis": redis })),
    )
}

async fn ping(client: &redis::Client) -> redis::RedisResult<()> {
    let mut connection = client.get_multiplexed_async_connection().await?;
    redis::cmd("PING").query_async(&mut connection).await
}
