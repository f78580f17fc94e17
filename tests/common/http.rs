//! Requests through the real router, in process.

use axum::Router;

use super::TestDb;
use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use http_body_util::BodyExt;
use serde_json::Value;
use tower::ServiceExt;

pub struct Reply {
    pub status: StatusCode,
    pub location: Option<String>,
    pub headers: axum::http::HeaderMap,
    pub body: String,
}

impl Reply {
    pub fn json(&self) -> Value {
        serde_json::from_str(&self.body)
            .unwrap_or_else(|_| panic!("{}: not JSON: {}", self.status, self.body))
    }

    /// The `message` of a JSON refusal.
    pub fn message(&self) -> String {
        let json = self.json();
        json["message"]
            .as_str()
            .unwrap_or_else(|| panic!("no message in {json}"))
            .to_owned()
    }
}

/// The server's whole router over a database of its own.
pub struct App {
    router: Router,
    db: TestDb,
}

impl App {
    pub async fn new() -> Self {
        let db = TestDb::new().await;
        Self {
            router: db.router().await,
            db,
        }
    }

    /// The router over services of the test's choosing on `db`.
    pub fn over(db: TestDb, services: super::Services) -> Self {
        Self {
            router: super::router_over(services),
            db,
        }
    }

    pub async fn send(&self, request: Request<Body>) -> Reply {
        send(&self.router, request).await
    }

    pub fn db(&self) -> &TestDb {
        &self.db
    }
}

async fn send(router: &Router, request: Request<Body>) -> Reply {
    let response = router.clone().oneshot(request).await.unwrap();
    let status = response.status();
    let location = response
        .headers()
        .get(header::LOCATION)
        .map(|v| v.to_str().unwrap().to_owned());
    let headers = response.headers().clone();
    let bytes = response.into_body().collect().await.unwrap().to_bytes();
    Reply {
        status,
        location,
        headers,
        body: String::from_utf8_lossy(&bytes).into_owned(),
    }
}
