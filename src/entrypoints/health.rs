//! `/healthz`: the process answers. `/readyz`: it can reach its database and its read
//! models, so a load balancer may send it traffic. `/metrics`: counters for Prometheus. Redis is reported too; unless it holds
//! the read models, an outage does not make the server unready: commands go on, and
//! the outbox catches up when Redis is back.

use std::time::Duration;

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use axum::http::header::{CONTENT_TYPE, HeaderName};
use serde_json::{Value, json};

use crate::bootstrap::Services;

pub async fn live() -> &'static str {
    "ok"
}

pub async fn ready(State(services): State<Services>) -> (StatusCode, Json<Value>) {
    let outcome = |result: Result<(), crate::adapters::StoreError>| match result {
        Ok(()) => "ok".to_owned(),
        Err(error) => error.to_string(),
    };
    let database = outcome(services.store.ping().await);
    let read_models = outcome(services.views.ping().await);
    let redis = match &services.redis {
        None => "not configured".to_owned(),
        Some(client) => match ping(client).await {
            Ok(()) => "ok".to_owned(),
            Err(error) => error,
        },
    };
    let status = if database == "ok" && read_models == "ok" {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    (
        status,
        Json(json!({ "database": database, "read_models": read_models, "redis": redis })),
    )
}

/// How long Redis has to answer before it counts as unreachable.
const REDIS_TIMEOUT: Duration = Duration::from_secs(1);

async fn ping(client: &redis::Client) -> Result<(), String> {
    let ping = async {
        let mut connection = client.get_multiplexed_async_connection().await?;
        redis::cmd("PING").query_async::<()>(&mut connection).await
    };
    match tokio::time::timeout(REDIS_TIMEOUT, ping).await {
        Ok(result) => result.map_err(|error| error.to_string()),
        Err(_) => Err("no answer within 1 s".to_owned()),
    }
}

/// The process's counters and the outbox backlog, in Prometheus's text format.
pub async fn metrics(
    State(services): State<Services>,
) -> (StatusCode, [(HeaderName, &'static str); 1], String) {
    let backlog = match services.store.outbox_backlog().await {
        Ok(backlog) => backlog,
        Err(error) => {
            tracing::warn!(%error, "metrics without the outbox backlog");
            Vec::new()
        }
    };
    (
        StatusCode::OK,
        [(CONTENT_TYPE, "text/plain; version=0.0.4; charset=utf-8")],
        crate::metrics::render(&backlog),
    )
}
