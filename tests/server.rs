//! The contract's HTTP scenarios against the real server binary, over TCP.

mod common;

use common::server::Server;
use common::{PASSWORD, TestDb};
use reqwest::StatusCode;
use serde_json::{Value, json};

#[tokio::test]
async fn the_reference_scenarios_pass_against_the_running_server() {
    let server = Server::start(&[]).await;

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

/// `create-user` makes the first manager from the command line, with the password on
/// standard input; signing in with it on the login form starts a session.
async fn first_manager(db: &TestDb, server: &Server) -> String {
    let mut create = std::process::Command::new(env!("CARGO_BIN_EXE_allocation-desk"))
        .args(["create-user", "--role", "manager", "ada"])
        .env("DATABASE_URL", &db.url)
        .env("RUST_LOG", "warn")
        .stdin(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    {
        use std::io::Write;
        let mut stdin = create.stdin.take().unwrap();
        writeln!(stdin, "{PASSWORD}").unwrap();
    }
    assert!(create.wait().unwrap().success());
    let signed_in = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
        .post(format!("{}/api/login", server.base))
        .header("origin", &server.base)
        .header("accept", "text/html")
        .form(&[("username", "ada"), ("password", PASSWORD)])
        .send()
        .await
        .unwrap();
    assert_eq!(signed_in.status(), StatusCode::FOUND);
    let cookie = signed_in.headers()["set-cookie"].to_str().unwrap();
    cookie
        .strip_prefix("desk_session=")
        .and_then(|rest| rest.split(';').next())
        .unwrap()
        .to_owned()
}

#[tokio::test]
async fn the_server_renders_the_home_page_to_a_manager_made_on_the_command_line() {
    let db = TestDb::new().await;
    let server = Server::on(&db.url, &[]).await;
    let session = first_manager(&db, &server).await;
    let page = server.get_as(&session, "/").await;
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
        server.get_as(&session, "/no/such/page").await.status(),
        StatusCode::NOT_FOUND
    );
}

#[tokio::test]
async fn a_server_that_cannot_reach_redis_stays_ready_and_says_so() {
    // Nothing listens on port 1.
    let server = Server::start(&[("REDIS_URL", "redis://127.0.0.1:1")]).await;
    let reply = server.get("/readyz").await;
    assert_eq!(reply.status(), StatusCode::OK);
    let body: Value = reply.json().await.unwrap();
    assert_eq!(body["database"], "ok");
    assert_ne!(body["redis"], "ok");
}
