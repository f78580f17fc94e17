//! The JSON contract (`shared/contract.md`) through the real router, on real SQLite.

mod common;

use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use common::http::{App, Reply};
use serde_json::{Value, json};

struct Api(App);

impl Api {
    async fn new() -> Self {
        Self(App::new().await)
    }

    /// Every answer of the JSON API, success or refusal, is JSON.
    async fn send(&self, request: Request<Body>) -> Reply {
        let reply = self.0.send(request).await;
        reply.json();
        reply
    }

    async fn post_raw(&self, path: &str, content_type: Option<&str>, body: &str) -> Reply {
        let mut request = Request::post(path);
        if let Some(content_type) = content_type {
            request = request.header(header::CONTENT_TYPE, content_type);
        }
        self.send(request.body(Body::from(body.to_owned())).unwrap())
            .await
    }

    async fn post(&self, path: &str, body: Value) -> Reply {
        self.post_raw(path, Some("application/json"), &body.to_string())
            .await
    }

    async fn get(&self, path: &str) -> Reply {
        self.send(Request::get(path).body(Body::empty()).unwrap())
            .await
    }

    /// Posts each body and expects a 400 whose message names the field.
    async fn assert_refused(&self, path: &str, cases: &[(Value, &str)]) {
        for (body, field) in cases {
            let reply = self.post(path, body.clone()).await;
            assert_eq!(reply.status, StatusCode::BAD_REQUEST, "{body}");
            let message = reply.message();
            assert!(
                message.contains(field),
                "{body}: {message:?} does not name {field}"
            );
        }
    }

    async fn add_batch(&self, reference: &str, sku: &str, qty: i64, eta: Option<&str>) {
        let reply = self
            .post(
                "/add_batch",
                json!({"ref": reference, "sku": sku, "qty": qty, "eta": eta}),
            )
            .await;
        assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.json());
    }
}

#[tokio::test]
async fn happy_path_returns_202_and_allocated_batch() {
    let api = Api::new().await;
    api.add_batch("laterbatch", "SKU-1", 100, Some("2011-01-02"))
        .await;
    api.add_batch("earlybatch", "SKU-1", 100, Some("2011-01-01"))
        .await;
    api.add_batch("otherbatch", "SKU-2", 100, None).await;

    let reply = api
        .post(
            "/allocate",
            json!({"orderid": "order-1", "sku": "SKU-1", "qty": 3}),
        )
        .await;
    assert_eq!(reply.status, StatusCode::ACCEPTED);
    assert_eq!(reply.location.as_deref(), Some("/allocations/order-1"));

    let view = api.get("/allocations/order-1").await;
    assert_eq!(view.status, StatusCode::OK);
    assert_eq!(
        view.json(),
        json!([{"sku": "SKU-1", "batchref": "earlybatch"}])
    );
}

#[tokio::test]
async fn add_batch_answers_201_with_the_batch_location() {
    let api = Api::new().await;
    let reply = api
        .post(
            "/add_batch",
            json!({"ref": "b 1/x", "sku": "LAMP", "qty": 5, "eta": null}),
        )
        .await;
    assert_eq!(reply.status, StatusCode::CREATED);
    assert_eq!(reply.location.as_deref(), Some("/batches/b%201%2Fx"));
}

#[tokio::test]
async fn unhappy_path_returns_400_and_error_message() {
    let api = Api::new().await;
    let reply = api
        .post(
            "/allocate",
            json!({"orderid": "order-2", "sku": "UNKNOWN-SKU", "qty": 20}),
        )
        .await;
    assert_eq!(reply.status, StatusCode::BAD_REQUEST);
    assert_eq!(reply.message(), "Invalid sku UNKNOWN-SKU");

    let view = api.get("/allocations/order-2").await;
    assert_eq!(view.status, StatusCode::NOT_FOUND);
    assert!(view.message().contains("order-2"));
}

#[tokio::test]
async fn out_of_stock_is_still_accepted() {
    let api = Api::new().await;
    api.add_batch("b1", "LAMP", 5, None).await;
    let reply = api
        .post(
            "/allocate",
            json!({"orderid": "o1", "sku": "LAMP", "qty": 6}),
        )
        .await;
    assert_eq!(reply.status, StatusCode::ACCEPTED);
    assert_eq!(
        api.get("/allocations/o1").await.status,
        StatusCode::NOT_FOUND
    );
}

#[tokio::test]
async fn the_same_allocation_posted_twice_gives_one_row() {
    let api = Api::new().await;
    api.add_batch("b1", "LAMP", 50, None).await;
    for _ in 0..2 {
        let reply = api
            .post(
                "/allocate",
                json!({"orderid": "o1", "sku": "LAMP", "qty": 6}),
            )
            .await;
        assert_eq!(reply.status, StatusCode::ACCEPTED);
    }
    let view = api.get("/allocations/o1").await;
    assert_eq!(view.json(), json!([{"sku": "LAMP", "batchref": "b1"}]));
}

#[tokio::test]
async fn a_duplicate_batch_reference_is_a_409() {
    let api = Api::new().await;
    api.add_batch("b1", "LAMP", 50, None).await;
    let reply = api
        .post(
            "/add_batch",
            json!({"ref": "b1", "sku": "SOFA", "qty": 1, "eta": null}),
        )
        .await;
    assert_eq!(reply.status, StatusCode::CONFLICT);
    assert_eq!(reply.message(), "Batch b1 already exists");
}

#[tokio::test]
async fn an_iso_date_time_eta_is_cut_to_its_date() {
    let api = Api::new().await;
    api.add_batch("later", "LAMP", 50, Some("2011-01-02T10:00:00"))
        .await;
    api.add_batch("earlier", "LAMP", 50, Some("2011-01-01T23:59:59"))
        .await;
    api.post(
        "/allocate",
        json!({"orderid": "o1", "sku": "LAMP", "qty": 1}),
    )
    .await;
    let view = api.get("/allocations/o1").await;
    assert_eq!(view.json(), json!([{"sku": "LAMP", "batchref": "earlier"}]));
}

#[tokio::test]
async fn bad_batch_bodies_are_400s_naming_the_field() {
    let api = Api::new().await;
    let long = "x".repeat(1000);
    let cases = [
        (json!({"sku": "LAMP", "qty": 5, "eta": null}), "ref"),
        (json!({"ref": "b1", "sku": "LAMP", "qty": 5}), "eta"),
        (
            json!({"ref": "b1", "sku": "LAMP", "qty": "five", "eta": null}),
            "qty",
        ),
        (
            json!({"ref": "b1", "sku": "LAMP", "qty": 0, "eta": null}),
            "qty",
        ),
        (
            json!({"ref": "b1", "sku": "LAMP", "qty": -4, "eta": null}),
            "qty",
        ),
        (
            json!({"ref": "b1", "sku": "LAMP", "qty": 2.5, "eta": null}),
            "qty",
        ),
        (
            json!({"ref": "b1", "sku": "", "qty": 5, "eta": null}),
            "sku",
        ),
        (
            json!({"ref": long, "sku": "LAMP", "qty": 5, "eta": null}),
            "ref",
        ),
        (
            json!({"ref": "b1", "sku": "LAMP", "qty": 5, "eta": "01/02/2011"}),
            "eta",
        ),
        (
            json!({"ref": "b1", "sku": "LAMP", "qty": 5, "eta": 20110102}),
            "eta",
        ),
    ];
    api.assert_refused("/add_batch", &cases).await;
    assert_eq!(
        api.get("/allocations/anything").await.status,
        StatusCode::NOT_FOUND
    );
}

#[tokio::test]
async fn bad_allocation_bodies_are_400s_naming_the_field() {
    let api = Api::new().await;
    api.add_batch("b1", "LAMP", 50, None).await;
    let cases = [
        (json!({"sku": "LAMP", "qty": 5}), "orderid"),
        (json!({"orderid": " ", "sku": "LAMP", "qty": 5}), "orderid"),
        (json!({"orderid": "o1", "qty": 5}), "sku"),
        (json!({"orderid": "o1", "sku": "LAMP", "qty": null}), "qty"),
        (json!({"orderid": "o1", "sku": "LAMP", "qty": 0}), "qty"),
        (
            json!({"orderid": "o1", "sku": "LAMP", "qty": 99_999_999_999_i64}),
            "qty",
        ),
    ];
    api.assert_refused("/allocate", &cases).await;
    assert_eq!(
        api.get("/allocations/o1").await.status,
        StatusCode::NOT_FOUND
    );
}

#[tokio::test]
async fn bodies_that_are_not_json_get_a_json_message() {
    let api = Api::new().await;
    let malformed = api
        .post_raw("/allocate", Some("application/json"), "{\"orderid\": ")
        .await;
    assert_eq!(malformed.status, StatusCode::BAD_REQUEST);
    assert!(!malformed.message().is_empty());

    let untyped = api
        .post_raw(
            "/allocate",
            None,
            r#"{"orderid": "o1", "sku": "LAMP", "qty": 1}"#,
        )
        .await;
    assert_eq!(untyped.status, StatusCode::UNSUPPORTED_MEDIA_TYPE);
    assert!(untyped.message().contains("application/json"));

    let form = api
        .post_raw(
            "/add_batch",
            Some("application/x-www-form-urlencoded"),
            "ref=b1&sku=LAMP&qty=1",
        )
        .await;
    assert_eq!(form.status, StatusCode::UNSUPPORTED_MEDIA_TYPE);
}

#[tokio::test]
async fn an_absurd_order_id_in_the_path_is_a_400() {
    let api = Api::new().await;
    let not_utf8 = api.get("/allocations/%FF").await;
    assert_eq!(not_utf8.status, StatusCode::BAD_REQUEST);
    assert!(!not_utf8.message().is_empty());
    let reply = api.get(&format!("/allocations/{}", "x".repeat(500))).await;
    assert_eq!(reply.status, StatusCode::BAD_REQUEST);
    assert!(reply.message().contains("orderid"));
}

#[tokio::test]
async fn deallocate_returns_the_units_and_empties_the_view() {
    let api = Api::new().await;
    api.add_batch("b1", "LAMP", 10, None).await;
    api.post(
        "/allocate",
        json!({"orderid": "o1", "sku": "LAMP", "qty": 10}),
    )
    .await;

    let reply = api
        .post(
            "/deallocate",
            json!({"orderid": "o1", "sku": "LAMP", "qty": 10}),
        )
        .await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.json());
    assert_eq!(
        api.get("/allocations/o1").await.status,
        StatusCode::NOT_FOUND
    );

    // The units are back: another order of 10 fits.
    api.post(
        "/allocate",
        json!({"orderid": "o2", "sku": "LAMP", "qty": 10}),
    )
    .await;
    let view = api.get("/allocations/o2").await;
    assert_eq!(view.json(), json!([{"sku": "LAMP", "batchref": "b1"}]));
}

#[tokio::test]
async fn deallocate_refuses_unknown_sku_and_unallocated_line() {
    let api = Api::new().await;
    api.add_batch("b1", "LAMP", 10, None).await;
    let unknown = api
        .post(
            "/deallocate",
            json!({"orderid": "o1", "sku": "SOFA", "qty": 1}),
        )
        .await;
    assert_eq!(unknown.status, StatusCode::BAD_REQUEST);
    assert_eq!(unknown.message(), "Invalid sku SOFA");

    let unallocated = api
        .post(
            "/deallocate",
            json!({"orderid": "o1", "sku": "LAMP", "qty": 1}),
        )
        .await;
    assert_eq!(unallocated.status, StatusCode::NOT_FOUND);
    assert!(unallocated.message().contains("o1"));
}

#[tokio::test]
async fn readiness_reports_the_database_the_read_models_and_redis() {
    let api = Api::new().await;
    let reply = api.get("/readyz").await;
    assert_eq!(reply.status, StatusCode::OK);
    let redis = if common::read_models_in_redis() {
        "ok"
    } else {
        "not configured"
    };
    assert_eq!(
        reply.json(),
        json!({"database": "ok", "read_models": "ok", "redis": redis})
    );
}
