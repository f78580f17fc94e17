//! The contract's HTTP scenarios against the real server binary, over TCP.

mod common;

use std::net::TcpListener;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use reqwest::StatusCode;
use serde_json::{Value, json};

/// The server process, killed when the test ends however it ends.
struct Server {
    child: Child,
    base: String,
    _db: common::TestDb,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Server {
    async fn start() -> Self {
        let db = common::TestDb::new().await;
        let port = TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let child = Command::new(env!("CARGO_BIN_EXE_allocation-desk"))
            .env("DATABASE_URL", &db.url)
            .env("LEPTOS_SITE_ADDR", format!("127.0.0.1:{port}"))
            .env("RUST_LOG", "warn")
            .stdout(Stdio::null())
            .spawn()
            .unwrap();
        let server = Self {
            child,
            base: format!("http://127.0.0.1:{port}"),
            _db: db,
        };
        server.wait_until_ready().await;
        server
    }

    async fn wait_until_ready(&self) {
        let deadline = Instant::now() + Duration::from_secs(30);
        while Instant::now() < deadline {
            let response = reqwest::get(format!("{}/healthz", self.base)).await;
            if response.is_ok_and(|r| r.status().is_success()) {
                return;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        panic!("the server did not answer /healthz within 30 s");
    }

    async fn post(&self, path: &str, body: Value) -> reqwest::Response {
        reqwest::Client::new()
            .post(format!("{}{path}", self.base))
            .json(&body)
            .send()
            .await
            .unwrap()
    }

    async fn get(&self, path: &str) -> reqwest::Response {
        reqwest::get(format!("{}{path}", self.base)).await.unwrap()
    }
}

#[tokio::test]
async fn the_reference_scenarios_pass_against_the_running_server() {
    let server = Server::start().await;

    for (reference, eta) in [("laterbatch", "2011-01-02"), ("earlybatch", "2011-01-01")] {
        let response = server
            .post(
                "/add_batch",
                json!({"ref": reference, "sku": "RED-CHAIR", "qty": 100, "eta": eta}),
            )
            .await;
        assert_eq!(response.status(), StatusCode::CREATED);
        assert_eq!(
            response.headers()["location"],
            format!("/batches/{reference}").as_str()
        );
    }

    let response = server
        .post(
            "/allocate",
            json!({"orderid": "order1", "sku": "RED-CHAIR", "qty": 3}),
        )
        .await;
    assert_eq!(response.status(), StatusCode::ACCEPTED);
    let view = server.get("/allocations/order1").await;
    assert_eq!(view.status(), StatusCode::OK);
    assert_eq!(
        view.json::<Value>().await.unwrap(),
        json!([{"sku": "RED-CHAIR", "batchref": "earlybatch"}])
    );

    let unknown = server
        .post(
            "/allocate",
            json!({"orderid": "order2", "sku": "NO-SUCH-SKU", "qty": 1}),
        )
        .await;
    assert_eq!(unknown.status(), StatusCode::BAD_REQUEST);
    assert_eq!(
        unknown.json::<Value>().await.unwrap(),
        json!({"message": "Invalid sku NO-SUCH-SKU"})
    );
    assert_eq!(
        server.get("/allocations/order2").await.status(),
        StatusCode::NOT_FOUND
    );

    let bad = server
        .post(
            "/add_batch",
            json!({"ref": "b", "sku": "RED-CHAIR", "qty": "lots", "eta": null}),
        )
        .await;
    assert_eq!(bad.status(), StatusCode::BAD_REQUEST);
    let message = bad.json::<Value>().await.unwrap()["message"].clone();
    assert!(message.as_str().unwrap().contains("qty"), "{message}");
}

#[tokio::test]
async fn the_server_renders_the_home_page() {
    let server = Server::start().await;
    let page = server.get("/").await;
    assert_eq!(page.status(), StatusCode::OK);
    let html = page.text().await.unwrap();
    assert!(
        html.contains("<title>Stock · Allocation desk</title>"),
        "{html}"
    );
    assert!(
        html.contains("/pkg/allocation-desk"),
        "hydration scripts linked"
    );

    assert_eq!(
        server.get("/no/such/page").await.status(),
        StatusCode::NOT_FOUND
    );
}
