//! Every request gets an id (the caller's `x-request-id` when it sends a sane one), a
//! `tracing` span carrying it, so that every log line of the request names it, a log
//! line with its status and duration, and a place in the latency histogram.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Instant;

use axum::extract::Request;
use axum::http::HeaderValue;
use axum::middleware::Next;
use axum::response::Response;
use tracing::Instrument;

use crate::metrics;

pub const REQUEST_ID: &str = "x-request-id";

/// Longest request id taken from a caller.
const MAX_ID_LEN: usize = 64;

static NEXT_ID: AtomicU64 = AtomicU64::new(1);

/// The caller's id if it is short and plain, else a new one: unique within the process,
/// and across restarts thanks to the start time.
fn request_id(request: &Request) -> String {
    let given = request
        .headers()
        .get(REQUEST_ID)
        .and_then(|value| value.to_str().ok())
        .filter(|id| {
            !id.is_empty()
                && id.len() <= MAX_ID_LEN
                && id
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c))
        });
    match given {
        Some(id) => id.to_owned(),
        None => {
            static STARTED: std::sync::LazyLock<u64> = std::sync::LazyLock::new(|| {
                std::time::SystemTime::now()
                    .duration_since(std::time::UNIX_EPOCH)
                    .map_or(0, |since| since.as_secs())
            });
            format!("{:x}-{}", *STARTED, NEXT_ID.fetch_add(1, Ordering::Relaxed))
        }
    }
}

pub async fn observe(request: Request, next: Next) -> Response {
    let id = request_id(&request);
    let span = tracing::info_span!(
        "request",
        id = %id,
        method = %request.method(),
        path = %request.uri().path()
    );
    let started = Instant::now();
    let mut response = next.run(request).instrument(span.clone()).await;
    let elapsed = started.elapsed();
    metrics::request_took(elapsed);
    span.in_scope(|| {
        tracing::debug!(
            status = response.status().as_u16(),
            micros = elapsed.as_micros(),
            "answered"
        );
    });
    if let Ok(value) = HeaderValue::from_str(&id) {
        response.headers_mut().insert(REQUEST_ID, value);
    }
    response
}
