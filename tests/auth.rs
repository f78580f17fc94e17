//! The front door and the roles, through the real router: who may do what through the
//! server functions and the JSON API, sign-in and its limits, sessions and tokens that
//! stop working, and requests forged from another site.

mod common;

use std::sync::Arc;
use std::time::Duration;

use allocation_desk::bootstrap::bootstrap;
use allocation_desk::config::{Config, ReadModelStore};
use allocation_desk::domain::staff::{Actor, Role};
use allocation_desk::service_layer::staff::{MAX_FAILED_SIGN_INS, Staff, TOKEN_RECHECK};
use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use common::http::{App, HOST, Reply};
use common::{PASSWORD, TestDb};
use serde_json::{Value, json};

/// The desk as one person sees it, with the database behind it.
struct Visit {
    app: App,
}

impl Visit {
    async fn as_role(role: Role) -> Self {
        Self {
            app: App::as_role(role).await,
        }
    }

    async fn anonymous(config: impl FnOnce(Config) -> Config) -> Self {
        let db = TestDb::new().await;
        let services = bootstrap(&config(db.config(ReadModelStore::Sql)))
            .await
            .unwrap();
        Self {
            app: App::anonymous_over(db, services),
        }
    }

    /// A server function posted by the app's own fetch.
    async fn fetch(&self, endpoint: &str, form: &str) -> Reply {
        self.app.fetch_form(endpoint, form).await
    }

    /// A plain form post from a browser on `from`, with no session of the app's.
    async fn post_form(&self, endpoint: &str, from: &str, form: &str) -> Reply {
        self.app
            .send_raw(
                Request::post(endpoint)
                    .header(header::HOST, HOST)
                    .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
                    .header(header::ACCEPT, "text/html")
                    .header(header::ORIGIN, format!("http://{HOST}"))
                    .header(header::REFERER, format!("http://{HOST}{from}"))
                    .body(Body::from(form.to_owned()))
                    .unwrap(),
            )
            .await
    }

    /// A JSON API call, with `token` as its bearer if given.
    async fn api(&self, path: &str, body: Value, token: Option<&str>) -> Reply {
        let mut request = Request::post(path).header(header::CONTENT_TYPE, "application/json");
        if let Some(token) = token {
            request = request.header(header::AUTHORIZATION, format!("Bearer {token}"));
        }
        self.app
            .send_raw(request.body(Body::from(body.to_string())).unwrap())
            .await
    }

    async fn page(&self, path: &str) -> Reply {
        self.app
            .send(
                Request::get(path)
                    .header(header::ACCEPT, "text/html")
                    .body(Body::empty())
                    .unwrap(),
            )
            .await
    }

    async fn count(&self, table: &str) -> i64 {
        self.app.db().count(table).await
    }

    async fn staff(&self) -> Staff {
        Staff::new(
            Arc::new(self.app.db().store().await),
            Duration::from_secs(3600),
        )
    }

    /// A token with `role`, made as a manager would.
    async fn token(&self, role: Role) -> String {
        self.staff()
            .await
            .create_token(&Actor::system(), "shop", role)
            .await
            .unwrap()
    }
}

const BATCH: &str = "ref=b1&sku=LAMP&qty=10&eta=";
const LINE: &str = "orderid=o1&sku=LAMP&qty=2";

fn batch_json() -> Value {
    json!({"ref": "b1", "sku": "LAMP", "qty": 10, "eta": null})
}

fn line_json() -> Value {
    json!({"orderid": "o1", "sku": "LAMP", "qty": 2})
}

#[tokio::test]
async fn through_the_pages_each_role_does_exactly_its_work() {
    let viewer = Visit::as_role(Role::Viewer).await;
    for (endpoint, form) in [
        ("/api/add_batch", BATCH),
        ("/api/allocate", LINE),
        ("/api/deallocate", LINE),
        ("/api/change_batch_quantity", "ref=b1&qty=5"),
    ] {
        let reply = viewer.fetch(endpoint, form).await;
        assert_eq!(
            reply.status,
            StatusCode::FORBIDDEN,
            "viewer {endpoint}: {}",
            reply.body
        );
        assert!(reply.body.contains("A viewer may not"), "{}", reply.body);
    }
    assert_eq!(viewer.count("batches").await, 0);
    assert_eq!(viewer.page("/batches").await.status, StatusCode::OK);

    let clerk = Visit::as_role(Role::Clerk).await;
    let refused = clerk.fetch("/api/add_batch", BATCH).await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN);
    assert_eq!(clerk.count("batches").await, 0);
    clerk
        .app
        .db()
        .services()
        .await
        .bus
        .handle(common::create_batch("b1", "LAMP", 10, None))
        .await
        .unwrap();
    assert_eq!(
        clerk.fetch("/api/allocate", LINE).await.status,
        StatusCode::OK
    );
    assert_eq!(clerk.count("allocations").await, 1);
    assert_eq!(
        clerk
            .fetch("/api/change_batch_quantity", "ref=b1&qty=5")
            .await
            .status,
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        clerk.fetch("/api/deallocate", LINE).await.status,
        StatusCode::OK
    );
    assert_eq!(clerk.count("allocations").await, 0);

    let manager = Visit::as_role(Role::Manager).await;
    assert_eq!(
        manager.fetch("/api/add_batch", BATCH).await.status,
        StatusCode::OK
    );
    assert_eq!(
        manager
            .fetch("/api/change_batch_quantity", "ref=b1&qty=5")
            .await
            .status,
        StatusCode::OK
    );
    assert_eq!(
        manager.fetch("/api/allocate", LINE).await.status,
        StatusCode::OK
    );
    assert_eq!(manager.count("allocations").await, 1);
}

#[tokio::test]
async fn the_pages_show_each_role_only_the_forms_it_may_use() {
    let viewer = Visit::as_role(Role::Viewer).await;
    let clerk = Visit::as_role(Role::Clerk).await;
    let manager = Visit::as_role(Role::Manager).await;
    for visit in [&viewer, &clerk, &manager] {
        visit
            .app
            .db()
            .services()
            .await
            .bus
            .handle(common::create_batch("b1", "LAMP", 10, None))
            .await
            .unwrap();
        visit
            .app
            .db()
            .services()
            .await
            .bus
            .handle(common::allocate("o1", "LAMP", 1))
            .await
            .unwrap();
    }
    let has = |html: &str, text: &str| html.contains(text);
    for (visit, add_batch, deallocate, accounts) in [
        (&viewer, false, false, false),
        (&clerk, false, true, false),
        (&manager, true, true, true),
    ] {
        let batches = visit.page("/batches").await.body;
        assert_eq!(has(&batches, "Add batch</button>"), add_batch);
        assert_eq!(
            has(
                &visit.page("/batches/b1").await.body,
                "Change quantity</button>"
            ),
            add_batch
        );
        let order = visit.page("/orders/o1").await.body;
        assert_eq!(has(&order, "Deallocate</button>"), deallocate);
        assert_eq!(has(&batches, r#"href="/accounts""#), accounts);
        assert!(has(&batches, "Sign out</button>"));
    }
    let accounts = viewer.page("/accounts").await;
    assert_eq!(accounts.status, StatusCode::FORBIDDEN);
    assert!(
        accounts.body.contains("Only a manager"),
        "{}",
        accounts.body
    );
}

#[tokio::test]
async fn through_the_api_each_token_does_exactly_its_role() {
    let desk = Visit::as_role(Role::Manager).await;
    let viewer = desk.token(Role::Viewer).await;
    let clerk = desk.token(Role::Clerk).await;
    let manager = desk.token(Role::Manager).await;

    let refused = desk.api("/add_batch", batch_json(), Some(&clerk)).await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN);
    assert_eq!(
        refused.message(),
        "A clerk may not add batches or change their quantities"
    );
    assert_eq!(
        desk.api("/add_batch", batch_json(), Some(&viewer))
            .await
            .status,
        StatusCode::FORBIDDEN
    );
    assert_eq!(desk.count("batches").await, 0);
    assert_eq!(
        desk.api("/add_batch", batch_json(), Some(&manager))
            .await
            .status,
        StatusCode::CREATED
    );

    assert_eq!(
        desk.api("/allocate", line_json(), Some(&viewer))
            .await
            .status,
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        desk.api("/allocate", line_json(), Some(&clerk))
            .await
            .status,
        StatusCode::ACCEPTED
    );
    assert_eq!(
        desk.api("/deallocate", line_json(), Some(&viewer))
            .await
            .status,
        StatusCode::FORBIDDEN
    );
    assert_eq!(desk.count("allocations").await, 1);

    let read = desk
        .app
        .send_raw(
            Request::get("/allocations/o1")
                .header(header::AUTHORIZATION, format!("Bearer {viewer}"))
                .body(Body::empty())
                .unwrap(),
        )
        .await;
    assert_eq!(read.status, StatusCode::OK, "{}", read.body);
    assert_eq!(read.json()[0]["batchref"], "b1");

    // The clerk takes the line back; the manager may allocate and deallocate too.
    let freed = desk.api("/deallocate", line_json(), Some(&clerk)).await;
    assert_eq!(freed.status, StatusCode::OK, "{}", freed.body);
    assert_eq!(desk.count("allocations").await, 0);
    let again = json!({"orderid": "o2", "sku": "LAMP", "qty": 2});
    assert_eq!(
        desk.api("/allocate", again.clone(), Some(&manager))
            .await
            .status,
        StatusCode::ACCEPTED
    );
    assert_eq!(
        desk.api("/deallocate", again, Some(&manager)).await.status,
        StatusCode::OK
    );
    assert_eq!(desk.count("allocations").await, 0);
}

#[tokio::test]
async fn nobody_gets_in_without_a_session_or_token() {
    let desk = Visit::as_role(Role::Manager).await;
    let anonymous = desk.api("/allocate", line_json(), None).await;
    assert_eq!(anonymous.status, StatusCode::UNAUTHORIZED);
    assert!(anonymous.message().contains("Sign in"));
    assert_eq!(anonymous.headers[header::WWW_AUTHENTICATE], "Bearer");
    let read = desk
        .app
        .send_raw(Request::get("/allocations/o1").body(Body::empty()).unwrap())
        .await;
    assert_eq!(read.status, StatusCode::UNAUTHORIZED);
    let forged = desk.api("/allocate", line_json(), Some("desk_0000")).await;
    assert_eq!(forged.status, StatusCode::UNAUTHORIZED);
    assert_eq!(forged.message(), "The API token is unknown or revoked");

    let page = desk
        .app
        .send_raw(
            Request::get("/orders/o%201")
                .header(header::ACCEPT, "text/html")
                .body(Body::empty())
                .unwrap(),
        )
        .await;
    assert_eq!(page.status, StatusCode::SEE_OTHER);
    assert_eq!(
        page.location.as_deref(),
        Some("/login?next=%2Forders%2Fo%25201")
    );
    let fetch = desk.post_form("/api/allocate", "/allocate", LINE).await;
    assert_eq!(fetch.status, StatusCode::SEE_OTHER);
    for public in ["/login", "/healthz"] {
        let reply = desk
            .app
            .send_raw(Request::get(public).body(Body::empty()).unwrap())
            .await;
        assert_eq!(reply.status, StatusCode::OK, "{public}");
    }
}

#[tokio::test]
async fn forged_and_expired_cookies_are_refused_and_cleared() {
    let desk = Visit::as_role(Role::Manager).await;
    let staff = desk.staff().await;
    staff
        .create_account(&Actor::system(), "ada", PASSWORD, Role::Manager)
        .await
        .unwrap();
    let expired = Staff::new(Arc::new(desk.app.db().store().await), Duration::ZERO)
        .sign_in("ada", PASSWORD)
        .await
        .unwrap()
        .0;
    for cookie in [
        "desk_session=forged".to_owned(),
        format!("desk_session={expired}"),
    ] {
        let reply = desk
            .app
            .send_raw(
                Request::post("/api/add_batch")
                    .header(header::HOST, HOST)
                    .header(header::ORIGIN, format!("http://{HOST}"))
                    .header(header::COOKIE, &cookie)
                    .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
                    .body(Body::from(BATCH))
                    .unwrap(),
            )
            .await;
        assert_eq!(reply.status, StatusCode::UNAUTHORIZED, "{cookie}");
        let cleared = reply.headers[header::SET_COOKIE].to_str().unwrap();
        assert!(cleared.starts_with("desk_session=; Max-Age=0"), "{cleared}");
    }
    assert_eq!(desk.count("batches").await, 0);
}

#[tokio::test]
async fn a_cross_site_form_changes_nothing() {
    let desk = Visit::as_role(Role::Manager).await;
    let forged = |origin: Option<&str>| {
        let mut request = Request::post("/api/add_batch")
            .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
            .header(header::ACCEPT, "text/html");
        if let Some(origin) = origin {
            request = request.header(header::ORIGIN, origin);
        }
        request.body(Body::from(BATCH)).unwrap()
    };
    let from_evil = desk.app.send(forged(Some("https://evil.example"))).await;
    assert_eq!(from_evil.status, StatusCode::FORBIDDEN);
    assert!(from_evil.message().contains("did not come from the desk"));
    // A browser that hides the origin still sends the cookie: refused as well.
    let mut hidden = forged(None);
    hidden
        .headers_mut()
        .insert(header::REFERER, "".parse().unwrap());
    assert_eq!(desk.app.send(hidden).await.status, StatusCode::FORBIDDEN);
    let api = desk
        .app
        .send(
            Request::post("/add_batch")
                .header(header::ORIGIN, "https://evil.example")
                .header(header::CONTENT_TYPE, "application/json")
                .body(Body::from(batch_json().to_string()))
                .unwrap(),
        )
        .await;
    assert_eq!(api.status, StatusCode::FORBIDDEN);
    assert_eq!(desk.count("batches").await, 0);
    assert_eq!(
        desk.app
            .send(forged(Some(&format!("http://{HOST}"))))
            .await
            .status,
        StatusCode::FOUND
    );
    assert_eq!(desk.count("batches").await, 1);
}

#[tokio::test]
async fn a_revoked_token_and_a_disabled_account_stop_working_at_once() {
    let desk = Visit::as_role(Role::Manager).await;
    let token = desk.token(Role::Manager).await;
    assert_eq!(
        desk.api("/add_batch", batch_json(), Some(&token))
            .await
            .status,
        StatusCode::CREATED
    );
    let overview = desk.staff().await.tokens(&Actor::system()).await.unwrap();
    let revoked = desk
        .fetch("/api/tokens/revoke", &format!("id={}", overview[0].id))
        .await;
    assert_eq!(revoked.status, StatusCode::OK, "{}", revoked.body);
    let after = desk.api("/allocate", line_json(), Some(&token)).await;
    assert_eq!(after.status, StatusCode::UNAUTHORIZED);
    assert_eq!(desk.count("allocations").await, 0);

    let clerk_session = desk.app.db().signed_in("carl", Role::Clerk).await;
    let as_clerk = |session: String| {
        Request::get("/batches")
            .header(header::ACCEPT, "application/json")
            .header(header::COOKIE, format!("desk_session={session}"))
            .body(Body::empty())
            .unwrap()
    };
    assert_eq!(
        desk.app.send(as_clerk(clerk_session.clone())).await.status,
        StatusCode::OK
    );
    let disabled = desk
        .fetch("/api/accounts/access", "username=carl&active=false")
        .await;
    assert_eq!(disabled.status, StatusCode::OK, "{}", disabled.body);
    assert_eq!(
        desk.app.send(as_clerk(clerk_session)).await.status,
        StatusCode::UNAUTHORIZED
    );
    let again = desk.staff().await.sign_in("carl", PASSWORD).await;
    assert!(again.is_err());
}

#[tokio::test]
async fn only_a_manager_manages_accounts_and_tokens() {
    let clerk = Visit::as_role(Role::Clerk).await;
    for (endpoint, form) in [
        (
            "/api/accounts/add",
            "username=eve&password=long+enough&role=manager",
        ),
        ("/api/accounts/role", "username=clerk&role=manager"),
        ("/api/tokens/create", "name=mine&role=manager"),
    ] {
        let reply = clerk.fetch(endpoint, form).await;
        assert_eq!(reply.status, StatusCode::FORBIDDEN, "{endpoint}");
    }
    assert_eq!(clerk.count("accounts").await, 1);
    assert_eq!(clerk.count("api_tokens").await, 0);

    let manager = Visit::as_role(Role::Manager).await;
    let added = manager
        .fetch(
            "/api/accounts/add",
            "username=Eve&password=long+enough&role=clerk",
        )
        .await;
    assert_eq!(added.status, StatusCode::OK, "{}", added.body);
    let taken = manager
        .fetch(
            "/api/accounts/add",
            "username=eve&password=long+enough&role=clerk",
        )
        .await;
    assert!(
        taken.body.contains("Username eve is taken"),
        "{}",
        taken.body
    );
    let short = manager
        .fetch(
            "/api/accounts/add",
            "username=fay&password=short&role=clerk",
        )
        .await;
    assert!(short.body.contains("at least 8"), "{}", short.body);
    let own = manager
        .fetch("/api/accounts/role", "username=manager&role=viewer")
        .await;
    assert!(own.body.contains("your own account"), "{}", own.body);
    assert_eq!(
        manager
            .fetch("/api/accounts/role", "username=eve&role=manager")
            .await
            .status,
        StatusCode::OK
    );
    let roles: Vec<_> = manager
        .staff()
        .await
        .accounts(&Actor::system())
        .await
        .unwrap();
    assert!(
        roles
            .iter()
            .any(|a| a.username.as_str() == "eve" && a.role == Role::Manager)
    );

    let created = manager
        .fetch("/api/tokens/create", "name=web+shop&role=clerk")
        .await;
    assert_eq!(created.status, StatusCode::OK);
    let cookie = created.headers[header::SET_COOKIE]
        .to_str()
        .unwrap()
        .to_owned();
    let token = cookie
        .strip_prefix("desk_new_token=")
        .unwrap()
        .split(';')
        .next()
        .unwrap();
    assert!(token.starts_with("desk_"));
    let stored: String = sqlx::query_scalar("SELECT token_hash FROM api_tokens")
        .fetch_one(manager.app.db().store().await.pool())
        .await
        .unwrap();
    assert!(
        !stored.contains(token.trim_start_matches("desk_")),
        "stored hashed"
    );
    let page = manager
        .app
        .send(
            Request::get("/accounts")
                .header(header::ACCEPT, "text/html")
                .header(
                    header::COOKIE,
                    format!(
                        "desk_session={}; desk_new_token={token}",
                        session_of(&manager).await
                    ),
                )
                .body(Body::empty())
                .unwrap(),
        )
        .await;
    assert!(page.body.contains(token), "the new token is shown once");
    assert!(page.headers.get_all(header::SET_COOKIE).iter().any(|c| {
        c.to_str()
            .unwrap()
            .starts_with("desk_new_token=; Max-Age=0")
    }));
    assert_eq!(
        manager
            .api("/allocate", line_json(), Some(token))
            .await
            .status,
        StatusCode::BAD_REQUEST
    );
}

/// A fresh session of the manager `App::as_role` made.
async fn session_of(visit: &Visit) -> String {
    visit
        .staff()
        .await
        .sign_in("manager", PASSWORD)
        .await
        .unwrap()
        .0
}

#[tokio::test]
async fn signing_in_sets_a_safe_cookie_and_says_nothing_of_who_exists() {
    let desk = Visit::anonymous(|config| config).await;
    desk.staff()
        .await
        .create_account(&Actor::system(), "ada", PASSWORD, Role::Clerk)
        .await
        .unwrap();
    let form = |user: &str, password: &str| {
        format!(
            "username={user}&password={}&next=%2Forders",
            password.replace(' ', "+")
        )
    };

    let signed_in = desk
        .post_form(
            "/api/login",
            "/login?next=%2Forders",
            &form("Ada", PASSWORD),
        )
        .await;
    assert_eq!(signed_in.location.as_deref(), Some("/orders"));
    let cookie = signed_in.headers[header::SET_COOKIE].to_str().unwrap();
    for attribute in [
        "desk_session=",
        "HttpOnly",
        "SameSite=Lax",
        "Secure",
        "Path=/",
    ] {
        assert!(cookie.contains(attribute), "{cookie}");
    }

    let wrong_password = desk
        .post_form("/api/login", "/login", &form("ada", "not it at all"))
        .await;
    let unknown_user = desk
        .post_form("/api/login", "/login", &form("nobody", PASSWORD))
        .await;
    for reply in [&wrong_password, &unknown_user] {
        let location = reply.location.as_deref().unwrap();
        assert!(location.starts_with("/login?refused="), "{location}");
        assert!(
            location.contains("Wrong+username+or+password"),
            "{location}"
        );
        assert!(
            !location.contains("horse"),
            "the password is never sent back"
        );
        assert!(reply.headers.get(header::SET_COOKIE).is_none());
    }

    for _ in 1..MAX_FAILED_SIGN_INS {
        desk.post_form("/api/login", "/login", &form("ada", "guess guess"))
            .await;
    }
    let locked = desk
        .post_form("/api/login", "/login", &form("ada", PASSWORD))
        .await;
    assert!(
        locked.location.unwrap().contains("Too+many"),
        "locked even with the right password"
    );
    assert!(locked.headers.get(header::SET_COOKIE).is_none());
}

#[tokio::test]
async fn a_fresh_desk_asks_for_its_first_manager_once() {
    let desk = Visit::anonymous(|config| config).await;
    let home = desk.page("/").await;
    assert_eq!(home.location.as_deref(), Some("/setup"));
    let mismatch = desk
        .post_form(
            "/api/set_up",
            "/setup",
            "username=ada&password=long+enough&confirm=other",
        )
        .await;
    assert!(mismatch.location.unwrap().contains("differ"));
    let made = desk
        .post_form(
            "/api/set_up",
            "/setup",
            "username=ada&password=long+enough&confirm=long+enough",
        )
        .await;
    assert_eq!(made.location.as_deref(), Some("/"));
    let session = made.headers[header::SET_COOKIE]
        .to_str()
        .unwrap()
        .to_owned();
    let again = desk
        .post_form(
            "/api/set_up",
            "/setup",
            "username=eve&password=long+enough&confirm=long+enough",
        )
        .await;
    assert!(again.location.unwrap().contains("first+manager+already"));
    assert_eq!(desk.count("accounts").await, 1);

    let token = session
        .strip_prefix("desk_session=")
        .unwrap()
        .split(';')
        .next()
        .unwrap();
    let home = desk
        .app
        .send_raw(
            Request::get("/")
                .header(header::ACCEPT, "text/html")
                .header(header::COOKIE, format!("desk_session={token}"))
                .body(Body::empty())
                .unwrap(),
        )
        .await;
    assert_eq!(home.status, StatusCode::OK);
    assert!(home.body.contains("ada"), "signed in as the new manager");
    assert_eq!(
        desk.page("/")
            .await
            .location
            .as_deref()
            .map(|l| l.starts_with("/login")),
        Some(true)
    );
}

#[tokio::test]
async fn an_anonymous_api_role_is_explicit_and_limited_to_the_api() {
    let closed = Visit::anonymous(|config| config).await;
    assert_eq!(
        closed.api("/add_batch", batch_json(), None).await.status,
        StatusCode::UNAUTHORIZED
    );

    let open = Visit::anonymous(|config| Config {
        anonymous_api_role: Some(Role::Clerk),
        ..config
    })
    .await;
    assert_eq!(
        open.api("/add_batch", batch_json(), None).await.status,
        StatusCode::FORBIDDEN
    );
    let allocate = open.api("/allocate", line_json(), None).await;
    assert_eq!(
        allocate.status,
        StatusCode::BAD_REQUEST,
        "allowed, but LAMP is unknown"
    );
    assert_eq!(allocate.message(), "Invalid sku LAMP");
    for page in ["/batches", "/allocate"] {
        let reply = open.page(page).await;
        assert_eq!(
            reply.status,
            StatusCode::SEE_OTHER,
            "{page} still needs a session"
        );
    }
}

#[tokio::test]
async fn oversized_bodies_are_refused_before_they_are_read() {
    let desk = Visit::as_role(Role::Manager).await;
    let huge = format!("ref=b1&sku=LAMP&qty=10&eta=&pad={}", "x".repeat(100 * 1024));
    let post = |length: Option<usize>| {
        let mut request = Request::post("/api/add_batch")
            .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded");
        if let Some(length) = length {
            request = request.header(header::CONTENT_LENGTH, length);
        }
        request.body(Body::from(huge.clone())).unwrap()
    };
    let declared = desk.app.send(post(Some(huge.len()))).await;
    assert_eq!(declared.status, StatusCode::PAYLOAD_TOO_LARGE);
    assert!(declared.message().contains("over 65536 bytes"));
    // Streamed without a length, it is cut off while being read.
    let streamed = desk.app.send(post(None)).await;
    assert!(streamed.status.is_client_error(), "{}", streamed.status);
    assert_eq!(desk.count("batches").await, 0);
}

#[tokio::test]
async fn pages_say_who_allocated_a_line_and_who_changed_a_batch() {
    let clerk = Visit::as_role(Role::Clerk).await;
    let services = clerk.app.db().services().await;
    let mia = Actor {
        name: "mia".into(),
        role: Role::Manager,
    };
    services
        .bus
        .handle_as(&mia, common::create_batch("b1", "LAMP", 10, None))
        .await
        .unwrap();
    assert_eq!(
        clerk.fetch("/api/allocate", LINE).await.status,
        StatusCode::OK
    );
    let token = clerk.token(Role::Clerk).await;
    let by_token = json!({"orderid": "o2", "sku": "LAMP", "qty": 1});
    assert_eq!(
        clerk.api("/allocate", by_token, Some(&token)).await.status,
        StatusCode::ACCEPTED
    );

    let order = clerk.page("/orders/o1").await.body;
    assert!(order.contains("<td>clerk</td>"), "{order}");
    let batch = clerk.page("/batches/b1").await.body;
    assert!(
        batch.contains(r#"data-figure="changed-by">mia<"#),
        "{batch}"
    );
    assert!(batch.contains("<td>token:shop</td>"), "{batch}");

    let activity = clerk.page("/activity?by=clerk").await.body;
    assert!(
        activity.contains("Allocated 2 × LAMP of order o1"),
        "{activity}"
    );
    assert!(!activity.contains("Added batch"), "only the clerk's");
    let everyone = clerk.page("/activity").await.body;
    assert!(everyone.contains("Added batch b1 of 10 × LAMP, in the warehouse"));
    let report = clerk
        .page("/reports/allocations?by=token%3Ashop")
        .await
        .body;
    assert!(
        report.contains(">o2<") && !report.contains(">o1<"),
        "{report}"
    );
}

#[tokio::test]
async fn a_desk_whose_first_account_came_from_the_command_line_is_set_up() {
    let desk = Visit::anonymous(|config| config).await;
    desk.staff()
        .await
        .create_account(&Actor::system(), "ada", PASSWORD, Role::Manager)
        .await
        .unwrap();
    let grab = desk
        .post_form(
            "/api/set_up",
            "/setup",
            "username=eve&password=long+enough&confirm=long+enough",
        )
        .await;
    assert!(grab.location.unwrap().contains("first+manager+already"));
    assert!(grab.headers.get(header::SET_COOKIE).is_none());
    assert_eq!(desk.count("accounts").await, 1);
}

#[tokio::test]
async fn a_token_revoked_on_another_server_stops_within_the_recheck_bound() {
    let desk = Visit::as_role(Role::Manager).await;
    // Another server's staff service, on the same database.
    let elsewhere = desk.staff().await;
    let token = elsewhere
        .create_token(&Actor::system(), "shop", Role::Manager)
        .await
        .unwrap();
    assert_eq!(
        desk.api("/add_batch", batch_json(), Some(&token))
            .await
            .status,
        StatusCode::CREATED
    );
    let id = elsewhere.tokens(&Actor::system()).await.unwrap()[0].id;
    elsewhere.revoke_token(&Actor::system(), id).await.unwrap();
    tokio::time::sleep(TOKEN_RECHECK + Duration::from_millis(100)).await;
    let after = desk.api("/allocate", line_json(), Some(&token)).await;
    assert_eq!(after.status, StatusCode::UNAUTHORIZED);
    assert_eq!(desk.count("allocations").await, 0);
}
