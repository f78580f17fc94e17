//! What operators see: Prometheus metrics at `/metrics`, and a request id on every
//! answer (the caller's, when it sends a sane one), which every log line of the request
//! carries.

mod common;

use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use common::http::{App, Reply};
use common::metric;
use serde_json::json;

async fn get(app: &App, path: &str, request_id: Option<&str>) -> Reply {
    let mut request = Request::get(path);
    if let Some(id) = request_id {
        request = request.header("x-request-id", id);
    }
    app.send(request.body(Body::empty()).unwrap()).await
}

async fn post(app: &App, path: &str, body: serde_json::Value) -> Reply {
    app.send(
        Request::post(path)
            .header(header::CONTENT_TYPE, "application/json")
            .body(Body::from(body.to_string()))
            .unwrap(),
    )
    .await
}

const ALLOCATED: &str = "desk_commands_total{command=\"allocate\",outcome=\"done\"}";
const REFUSED: &str = "desk_commands_total{command=\"allocate\",outcome=\"refused\"}";
const REQUESTS: &str = "desk_http_request_duration_seconds_count";
const COMMITS: &str = "desk_sqlite_commit_units_count";
const COMMITTED_UNITS: &str = "desk_sqlite_commit_units_sum";
const WRITER_BUSY: &str = "desk_sqlite_writer_busy_seconds_total";
const CHECKPOINT_TURNS: &str = "desk_sqlite_checkpoint_turns_total";

#[tokio::test]
async fn metrics_count_commands_requests_and_the_outbox() {
    let app = App::new().await;
    let before = get(&app, "/metrics", None).await;
    assert_eq!(before.status, StatusCode::OK);
    assert!(
        before.headers[header::CONTENT_TYPE]
            .to_str()
            .unwrap()
            .starts_with("text/plain; version=0.0.4")
    );

    let batch = json!({"ref": "b1", "sku": "LAMP", "qty": 10, "eta": null});
    assert_eq!(
        post(&app, "/add_batch", batch).await.status,
        StatusCode::CREATED
    );
    let line = json!({"orderid": "o1", "sku": "LAMP", "qty": 2});
    assert_eq!(
        post(&app, "/allocate", line).await.status,
        StatusCode::ACCEPTED
    );
    let unknown = json!({"orderid": "o1", "sku": "NOPE", "qty": 2});
    assert_eq!(
        post(&app, "/allocate", unknown).await.status,
        StatusCode::BAD_REQUEST
    );

    // Counters are the process's: other tests running alongside add to them too.
    let after = get(&app, "/metrics", None).await.body;
    assert!(metric(&after, ALLOCATED) >= metric(&before.body, ALLOCATED) + 1.0);
    assert!(metric(&after, REFUSED) >= metric(&before.body, REFUSED) + 1.0);
    assert!(metric(&after, REQUESTS) >= metric(&before.body, REQUESTS) + 4.0);
    assert_eq!(
        metric(&after, "desk_outbox_backlog{table=\"read_model_updates\"}"),
        0.0
    );
    assert!(after.contains("# TYPE desk_http_request_duration_seconds histogram"));
    // The batch and the allocation were units of work, each committed by SQLite's
    // writer, alone or in a group; PostgreSQL commits each on a connection of the pool.
    let committed = |series| metric(&after, series) - metric(&before.body, series);
    if app.db().is_postgres() {
        assert_eq!(committed(COMMITS), 0.0);
        assert_eq!(committed(WRITER_BUSY), 0.0);
        assert_eq!(committed(CHECKPOINT_TURNS), 0.0);
    } else {
        assert!(committed(COMMITS) >= 1.0);
        assert!(committed(COMMITTED_UNITS) >= 2.0);
        assert!(committed(WRITER_BUSY) > 0.0);
    }
}

#[tokio::test]
async fn every_answer_carries_a_request_id() {
    let app = App::new().await;
    let given = get(&app, "/healthz", Some("trace-42")).await;
    assert_eq!(given.headers["x-request-id"], "trace-42");

    let first = get(&app, "/healthz", None).await;
    let second = get(&app, "/healthz", None).await;
    let (first, second) = (
        &first.headers["x-request-id"],
        &second.headers["x-request-id"],
    );
    assert!(!first.is_empty());
    assert_ne!(first, second);

    // An id that could garble the logs is replaced.
    let garbled = get(&app, "/healthz", Some("a b\"c")).await;
    assert_ne!(garbled.headers["x-request-id"], "a b\"c");
}
