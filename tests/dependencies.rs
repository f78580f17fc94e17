//! Dependencies failing under load, through a proxy the test cuts and restores (the
//! shared services themselves keep running for the other tests):
//! - Redis down: allocations are still accepted; once it is back, every allocation is
//!   published and shown in the read models in Redis, caught up from the outbox, and
//!   the consumer subscribes again by itself;
//! - PostgreSQL down (with `TEST_POSTGRES_URL`): requests, writes and reads, fail fast
//!   with 503, and succeed again once it is back, with no restart.

mod common;

use std::collections::BTreeSet;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use common::TestDb;
use common::proxy::Proxy;
use common::server::Server;
use futures_util::StreamExt;
use redis::AsyncCommands;
use reqwest::StatusCode;
use serde_json::{Value, json};

const REDIS: &str = "127.0.0.1:6379";

/// Waits at most 30 s for `done`, checking every 200 ms.
async fn eventually(what: &str, mut done: impl AsyncFnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(30);
    while !done().await {
        assert!(Instant::now() < deadline, "{what}: not within 30 s");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// Allocations of one unit each, sent one after another by `clients` clients until
/// `stop`, each with an order id of its own: what was answered, by status.
async fn allocate_until(
    base: &str,
    prefix: &str,
    clients: usize,
    stop: Instant,
) -> Vec<(String, StatusCode)> {
    let answers = Arc::new(Mutex::new(Vec::new()));
    let tasks: Vec<_> = (0..clients)
        .map(|client| {
            let (base, prefix, answers) =
                (base.to_owned(), prefix.to_owned(), Arc::clone(&answers));
            tokio::spawn(async move {
                let http = reqwest::Client::builder()
                    .timeout(Duration::from_secs(20))
                    .build()
                    .unwrap();
                let mut n = 0;
                while Instant::now() < stop {
                    n += 1;
                    let orderid = format!("{prefix}-{client}-{n}");
                    let body =
                        json!({"orderid": orderid, "sku": format!("{prefix}-LAMP"), "qty": 1});
                    let status = http
                        .post(format!("{base}/allocate"))
                        .json(&body)
                        .send()
                        .await
                        .map_or(StatusCode::REQUEST_TIMEOUT, |r| r.status());
                    answers.lock().unwrap().push((orderid, status));
                }
            })
        })
        .collect();
    for task in tasks {
        task.await.unwrap();
    }
    Arc::try_unwrap(answers).unwrap().into_inner().unwrap()
}

#[tokio::test]
async fn while_redis_is_down_allocations_go_on_and_are_caught_up_after() {
    let db = TestDb::new().await;
    let prefix = db.redis_prefix.clone();
    let proxy = Proxy::to(REDIS).await;
    let redis_url = format!("redis://127.0.0.1:{}", proxy.port);
    let server = Server::on(
        &db.url,
        &[
            ("REDIS_URL", redis_url.as_str()),
            ("READ_MODEL", "redis"),
            ("REDIS_PREFIX", prefix.as_str()),
        ],
    )
    .await;
    // What is published, heard straight from Redis.
    let client = redis::Client::open(format!("redis://{REDIS}")).unwrap();
    let mut pubsub = client.get_async_pubsub().await.unwrap();
    pubsub.subscribe("line_allocated").await.unwrap();
    let published = Arc::new(Mutex::new(BTreeSet::new()));
    let listening = {
        let published = Arc::clone(&published);
        tokio::spawn(async move {
            let mut messages = pubsub.into_on_message();
            while let Some(message) = messages.next().await {
                let payload: Value = serde_json::from_slice(message.get_payload_bytes()).unwrap();
                if let Some(orderid) = payload["orderid"].as_str() {
                    published.lock().unwrap().insert(orderid.to_owned());
                }
            }
        })
    };
    let batch = json!({"ref": format!("{prefix}-stock"), "sku": format!("{prefix}-LAMP"), "qty": 100_000, "eta": null});
    assert_eq!(server.post("/add_batch", batch).await.status(), 201);

    let start = Instant::now();
    let load = allocate_until(&server.base, &prefix, 4, start + Duration::from_secs(3));
    let outage = async {
        tokio::time::sleep(Duration::from_millis(500)).await;
        proxy.cut();
        tokio::time::sleep(Duration::from_millis(300)).await;
        let ready = server.get("/readyz").await.status();
        tokio::time::sleep(Duration::from_millis(1200)).await;
        proxy.restore();
        ready
    };
    let (answers, ready) = tokio::join!(load, outage);
    assert_eq!(
        ready,
        StatusCode::SERVICE_UNAVAILABLE,
        "Redis was down meanwhile"
    );

    // A lost race for the product after every retry is a 409, as ever; anything else
    // but a 202 is the outage showing through.
    let failed: Vec<_> = answers
        .iter()
        .filter(|(_, s)| ![StatusCode::ACCEPTED, StatusCode::CONFLICT].contains(s))
        .collect();
    assert!(
        failed.is_empty(),
        "writes failed while Redis was down: {failed:?}"
    );
    let accepted: BTreeSet<String> = answers
        .into_iter()
        .filter(|(_, status)| *status == StatusCode::ACCEPTED)
        .map(|(orderid, _)| orderid)
        .collect();
    assert!(accepted.len() > 20, "only {} allocations", accepted.len());

    eventually("every allocation published", async || {
        published.lock().unwrap().is_superset(&accepted)
    })
    .await;
    eventually("the outboxes emptied", async || {
        db.count("outbox").await == 0 && db.count("read_model_updates").await == 0
    })
    .await;
    // The read models in Redis show every line.
    for orderid in &accepted {
        let shown = server.get(&format!("/allocations/{orderid}")).await;
        assert_eq!(shown.status(), StatusCode::OK, "{orderid}");
    }
    // The consumer subscribed again by itself: a quantity change from Redis lands.
    let mut publisher = client.get_multiplexed_async_connection().await.unwrap();
    let change = json!({"batchref": format!("{prefix}-stock"), "qty": 99_000}).to_string();
    let store = db.store().await;
    eventually("the consumer back", async || {
        let _: () = publisher
            .publish("change_batch_quantity", &change)
            .await
            .unwrap();
        let purchased: i64 = sqlx::query_scalar("SELECT purchased_quantity FROM batches")
            .fetch_one(store.pool())
            .await
            .unwrap();
        purchased == 99_000
    })
    .await;
    listening.abort();
}

#[tokio::test]
async fn while_postgres_is_down_requests_fail_fast_and_recover_by_themselves() {
    let db = TestDb::new().await;
    if !db.is_postgres() {
        eprintln!("PostgreSQL only: set TEST_POSTGRES_URL (scripts/test.sh does)");
        return;
    }
    let proxy = Proxy::to("127.0.0.1:5432").await;
    let url = db
        .url
        .replace("127.0.0.1:5432", &format!("127.0.0.1:{}", proxy.port));
    assert_ne!(url, db.url, "the database URL goes through the proxy");
    let server = Server::on(&url, &[]).await;
    let prefix = "pg-outage";
    let batch = json!({"ref": "stock", "sku": format!("{prefix}-LAMP"), "qty": 1000, "eta": null});
    assert_eq!(server.post("/add_batch", batch).await.status(), 201);
    // The views hold a connection of their own from here on.
    assert_eq!(server.get("/allocations/after").await.status(), 404);

    proxy.cut();
    let during = allocate_until(
        &server.base,
        prefix,
        2,
        Instant::now() + Duration::from_secs(2),
    )
    .await;
    assert!(!during.is_empty());
    for (orderid, status) in &during {
        assert_eq!(*status, StatusCode::SERVICE_UNAVAILABLE, "{orderid}");
    }
    assert_eq!(
        server.get("/readyz").await.status(),
        StatusCode::SERVICE_UNAVAILABLE
    );
    assert_eq!(
        server.get("/allocations/after").await.status(),
        StatusCode::SERVICE_UNAVAILABLE,
        "the views fail fast too"
    );

    proxy.restore();
    let line = json!({"orderid": "after", "sku": format!("{prefix}-LAMP"), "qty": 1});
    eventually("requests succeed again", async || {
        server.post("/allocate", line.clone()).await.status() == StatusCode::ACCEPTED
    })
    .await;
    eventually("the views read again", async || {
        server.get("/allocations/after").await.status() == StatusCode::OK
    })
    .await;
    assert_eq!(server.get("/readyz").await.status(), StatusCode::OK);
    assert_eq!(
        db.count("allocations").await,
        1,
        "nothing refused was written"
    );
}
