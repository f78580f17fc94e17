//! Requests through the real router, in process.

use axum::Router;

use super::TestDb;
use allocation_desk::domain::staff::Role;
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

/// Where the tests' requests say they go, and come from.
pub const HOST: &str = "localhost:3000";

/// The server's whole router over a database of its own, and whom requests are sent
/// as: a signed-in manager unless the test says otherwise.
pub struct App {
    router: Router,
    db: TestDb,
    /// The session token sent with every request, if any.
    session: Option<String>,
}

impl App {
    /// Requests from a signed-in manager.
    pub async fn new() -> Self {
        Self::as_role(Role::Manager).await
    }

    /// Requests from a signed-in account with `role`.
    pub async fn as_role(role: Role) -> Self {
        let db = TestDb::new().await;
        let router = db.router().await;
        let session = db.signed_in(role.as_str(), role).await;
        Self {
            router,
            db,
            session: Some(session),
        }
    }

    /// The router over services of the test's choosing on `db`, with requests from a
    /// signed-in manager.
    pub async fn over(db: TestDb, services: super::Services) -> Self {
        let session = db.signed_in("manager", Role::Manager).await;
        Self {
            router: super::router_over(services),
            db,
            session: Some(session),
        }
    }

    /// The router over services of the test's choosing on `db`, with requests from
    /// nobody.
    pub fn anonymous_over(db: TestDb, services: super::Services) -> Self {
        Self {
            router: super::router_over(services),
            db,
            session: None,
        }
    }

    /// Sends `request` as a browser on the desk's own pages would: to [`HOST`], with
    /// the session cookie, and, when it posts, from the desk's own origin. Headers
    /// the request has already are left alone.
    pub async fn send(&self, mut request: Request<Body>) -> Reply {
        let headers = request.headers_mut();
        if !headers.contains_key(header::HOST) {
            headers.insert(header::HOST, HOST.parse().unwrap());
        }
        if let Some(session) = &self.session
            && !headers.contains_key(header::COOKIE)
        {
            headers.insert(
                header::COOKIE,
                format!("desk_session={session}").parse().unwrap(),
            );
        }
        let posts = request.method() != axum::http::Method::GET;
        let headers = request.headers_mut();
        if posts && !headers.contains_key(header::ORIGIN) && !headers.contains_key(header::REFERER)
        {
            headers.insert(header::ORIGIN, format!("http://{HOST}").parse().unwrap());
        }
        send(&self.router, request).await
    }

    /// A form posted by the app's own fetch (a server function called with
    /// JavaScript on).
    pub async fn fetch_form(&self, endpoint: &str, form: &str) -> Reply {
        self.send(
            Request::post(endpoint)
                .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
                .header(header::ACCEPT, "application/json")
                .body(Body::from(form.to_owned()))
                .unwrap(),
        )
        .await
    }

    /// Sends `request` exactly as it is: no host, cookie or origin added.
    pub async fn send_raw(&self, request: Request<Body>) -> Reply {
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
