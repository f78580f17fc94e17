//! `/reports/<report>.csv`: every row of a report that matches the query string, as CSV
//! (RFC 4180, UTF-8, header row), streamed from the database as it is written.

use axum::Json;
use axum::body::Body;
use axum::extract::{RawQuery, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use serde_json::json;

use super::ServerState;
use crate::bootstrap::Services;
use crate::views::reports::{ReportKind, ReportQuery};

pub fn routes() -> axum::Router<ServerState> {
    ReportKind::ALL
        .into_iter()
        .fold(axum::Router::new(), |router, kind| {
            router.route(
                &kind.csv_path(),
                get(move |state, query| csv(kind, state, query)),
            )
        })
}

async fn csv(
    kind: ReportKind,
    State(services): State<Services>,
    RawQuery(query): RawQuery,
) -> Response {
    let pairs: Vec<(String, String)> = form_urlencoded::parse(query.unwrap_or_default().as_bytes())
        .into_owned()
        .collect();
    let query = match ReportQuery::parse(kind, &pairs) {
        Ok(query) => query,
        Err(message) => {
            return (StatusCode::BAD_REQUEST, Json(json!({ "message": message }))).into_response();
        }
    };
    let today = chrono::Utc::now().date_naive();
    let file = format!("attachment; filename=\"{}-{today}.csv\"", kind.slug());
    let rows = services.reports.csv(kind, query, today);
    (
        [
            (header::CONTENT_TYPE, "text/csv; charset=utf-8".to_owned()),
            (header::CONTENT_DISPOSITION, file),
        ],
        Body::from_stream(rows),
    )
        .into_response()
}
