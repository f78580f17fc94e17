//! Server functions answer every error with a 500, even a request they could not read
//! (a field missing, a body that is no form). Those are the client's fault: a 400.

use axum::body::Body;
use axum::http::{Response, StatusCode};
use leptos::server_fn::error::SERVER_FN_ERROR_HEADER;

/// Longest error body read to tell a bad request from a failure.
const LIMIT: usize = 64 * 1024;

/// How server functions name the errors of reading their arguments.
const BAD_REQUEST_KINDS: [&str; 2] = ["Args|", "Deserialization|"];

pub async fn bad_requests_are_400(response: Response<Body>) -> Response<Body> {
    if response.status() != StatusCode::INTERNAL_SERVER_ERROR
        || !response.headers().contains_key(SERVER_FN_ERROR_HEADER)
    {
        return response;
    }
    let (mut parts, body) = response.into_parts();
    let Ok(bytes) = axum::body::to_bytes(body, LIMIT).await else {
        return Response::from_parts(parts, Body::empty());
    };
    if BAD_REQUEST_KINDS
        .iter()
        .any(|kind| bytes.starts_with(kind.as_bytes()))
    {
        parts.status = StatusCode::BAD_REQUEST;
    }
    Response::from_parts(parts, Body::from(bytes))
}
