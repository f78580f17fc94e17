//! Two server processes on one database under a stream of concurrent allocations of
//! one SKU: every request is answered 202 or 409, none fails, and no batch is ever
//! allocated beyond its quantity. The read models agree with the write model after.
//! Then the whole scaled-out deployment: read models in Redis, quantity changes coming
//! in over Redis, `line_allocated` going out, out-of-stock e-mail.

mod common;

use std::collections::HashSet;
use std::sync::Arc;
use std::time::Duration;

use allocation_desk::bootstrap::open_store;
use allocation_desk::config::ReadModelStore;
use allocation_desk::domain::values::OrderId;
use allocation_desk::views::Views;
use common::server::Server;
use common::smtp::SmtpSink;
use common::{REDIS_URL, TestDb};
use futures_util::StreamExt;
use redis::AsyncCommands;
use serde_json::{Value, json};
use sqlx::Row;
use tokio::net::TcpListener;
use tokio::sync::Semaphore;

const ORDERS: usize = 240;
const IN_FLIGHT: usize = 16;

#[tokio::test]
async fn two_servers_on_one_database_never_oversell() {
    let db = TestDb::new().await;
    let servers = [
        Server::on(&db.url, &[]).await,
        Server::on(&db.url, &[]).await,
    ];
    for (reference, eta) in [
        ("hot-1", None),
        ("hot-2", Some("2031-01-01")),
        ("hot-3", Some("2031-02-01")),
    ] {
        let response = servers[0]
            .post(
                "/add_batch",
                json!({"ref": reference, "sku": "HOT-ITEM", "qty": 100, "eta": eta}),
            )
            .await;
        assert_eq!(response.status(), 201);
    }

    let client = reqwest::Client::new();
    let slots = Arc::new(Semaphore::new(IN_FLIGHT));
    let requests: Vec<_> = (0..ORDERS)
        .map(|n| {
            let url = format!("{}/allocate", servers[n % 2].base);
            let client = client.clone();
            let slots = Arc::clone(&slots);
            tokio::spawn(async move {
                let _slot = slots.acquire_owned().await.unwrap();
                let body =
                    json!({"orderid": format!("order-{n}"), "sku": "HOT-ITEM", "qty": 1 + n % 3});
                client.post(url).json(&body).send().await.unwrap().status()
            })
        })
        .collect();
    let mut accepted = 0;
    let mut conflicts = 0;
    for request in requests {
        match request.await.unwrap().as_u16() {
            202 => accepted += 1,
            409 => conflicts += 1,
            status => panic!("an allocation was answered {status}"),
        }
    }
    assert_eq!(accepted + conflicts, ORDERS);
    assert!(
        accepted > ORDERS / 2,
        "only {accepted} of {ORDERS} accepted"
    );

    let pool = db.store().await.pool().clone();
    let batches = sqlx::query(
        "SELECT b.reference, b.purchased_quantity AS purchased, \
                CAST(COALESCE(SUM(a.qty), 0) AS BIGINT) AS allocated, \
                v.allocated_quantity AS listed \
         FROM batches b \
         LEFT JOIN allocations a ON a.batch_id = b.id \
         JOIN batches_view v ON v.reference = b.reference \
         GROUP BY b.reference, b.purchased_quantity, v.allocated_quantity",
    )
    .fetch_all(&pool)
    .await
    .unwrap();
    assert_eq!(batches.len(), 3);
    for batch in &batches {
        let reference: String = batch.get("reference");
        let (purchased, allocated, listed): (i64, i64, i64) = (
            batch.get("purchased"),
            batch.get("allocated"),
            batch.get("listed"),
        );
        assert!(
            allocated <= purchased,
            "{reference}: {allocated} of {purchased}"
        );
        assert_eq!(listed, allocated, "{reference}: batches_view agrees");
    }
    let lines = db.count("allocations").await;
    assert_eq!(
        db.count("allocations_view").await,
        lines,
        "allocations_view agrees"
    );
    assert_eq!(
        lines + db.count("out_of_stock_notices").await,
        accepted as i64,
        "every accepted order is allocated or noticed out of stock"
    );
}

/// Sends `orders` allocations of `sku`, `IN_FLIGHT` at a time, alternating between the
/// servers, and counts the answers: `(accepted, conflicts)`. Panics on any other.
async fn allocate_concurrently(
    servers: &[Server; 2],
    orders: &[String],
    sku: &str,
) -> (usize, usize) {
    let client = reqwest::Client::new();
    let slots = Arc::new(Semaphore::new(IN_FLIGHT));
    let requests: Vec<_> = orders
        .iter()
        .enumerate()
        .map(|(n, orderid)| {
            let url = format!("{}/allocate", servers[n % 2].base);
            let body = json!({"orderid": orderid, "sku": sku, "qty": 1 + n % 5});
            let (client, slots) = (client.clone(), Arc::clone(&slots));
            tokio::spawn(async move {
                let _slot = slots.acquire_owned().await.unwrap();
                client.post(url).json(&body).send().await.unwrap().status()
            })
        })
        .collect();
    let (mut accepted, mut conflicts) = (0, 0);
    for request in requests {
        match request.await.unwrap().as_u16() {
            202 => accepted += 1,
            409 => conflicts += 1,
            status => panic!("an allocation was answered {status}"),
        }
    }
    (accepted, conflicts)
}

/// Waits at most 10 s for `done`.
async fn eventually<F: AsyncFnMut() -> bool>(what: &str, mut done: F) {
    for _ in 0..200 {
        if done().await {
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("{what}: not within 10 s");
}

#[tokio::test]
async fn the_scaled_out_deployment_keeps_every_promise() {
    let db = TestDb::new().await;
    // Names of the test's own: other tests share Redis's channels.
    let tag = db.redis_prefix.clone();
    let sku = format!("{tag}-LAMP");
    let refs = [0, 1, 2].map(|n| format!("{tag}-batch-{n}"));
    let orders: Vec<String> = (0..ORDERS / 2)
        .map(|n| format!("{tag}-order-{n}"))
        .collect();

    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let smtp = format!("smtp://{}", listener.local_addr().unwrap());
    let sink = SmtpSink::serve(listener);
    let mut published = redis::Client::open(REDIS_URL)
        .unwrap()
        .get_async_pubsub()
        .await
        .unwrap();
    published.subscribe("line_allocated").await.unwrap();
    let mut published = published.into_on_message();

    let shared = [
        ("REDIS_URL", REDIS_URL),
        ("READ_MODEL", "redis"),
        ("REDIS_PREFIX", tag.as_str()),
        ("SMTP_URL", smtp.as_str()),
    ];
    // One consumer: each `change_batch_quantity` message is one command.
    let servers = [
        Server::on(
            &db.url,
            &[&shared[..], &[("REDIS_CONSUMER", "on")]].concat(),
        )
        .await,
        Server::on(
            &db.url,
            &[&shared[..], &[("REDIS_CONSUMER", "off")]].concat(),
        )
        .await,
    ];
    for (reference, eta) in refs
        .iter()
        .zip([None, Some("2031-01-01"), Some("2031-02-01")])
    {
        let batch = json!({"ref": reference, "sku": sku, "qty": 100, "eta": eta});
        assert_eq!(servers[1].post("/add_batch", batch).await.status(), 201);
    }

    // Quantity changes come in over Redis while the allocations stream in.
    let redis = redis::Client::open(REDIS_URL)
        .unwrap()
        .get_multiplexed_async_connection()
        .await
        .unwrap();
    let changes = {
        let (mut redis, reference) = (redis.clone(), refs[0].clone());
        tokio::spawn(async move {
            for qty in [80, 50, 70, 40] {
                tokio::time::sleep(Duration::from_millis(50)).await;
                let message = json!({"batchref": reference, "qty": qty}).to_string();
                let _: () = redis
                    .publish("change_batch_quantity", message)
                    .await
                    .unwrap();
            }
        })
    };
    let (accepted, _) = allocate_concurrently(&servers, &orders, &sku).await;
    changes.await.unwrap();
    assert!(accepted > orders.len() / 2, "only {accepted} accepted");
    // Lines the race let through may all fit; one larger than any batch never does.
    let too_large = json!({"orderid": format!("{tag}-too-large"), "sku": sku, "qty": 101});
    assert_eq!(servers[0].post("/allocate", too_large).await.status(), 202);

    // Everything has settled once the last change is in and every outbox is empty.
    let store = db.store().await;
    let pool = store.pool().clone();
    eventually("the last quantity change applied", async || {
        let purchased: i64 =
            sqlx::query_scalar("SELECT purchased_quantity FROM batches WHERE reference = $1")
                .bind(&refs[0])
                .fetch_one(&pool)
                .await
                .unwrap();
        purchased == 40
    })
    .await;
    for outbox in ["read_model_updates", "outbox", "outgoing_mail"] {
        eventually(outbox, async || db.count(outbox).await == 0).await;
    }

    // No batch over-allocated.
    let allocations: Vec<(String, String, i64)> = sqlx::query_as(
        "SELECT a.orderid, b.reference, a.qty FROM allocations a \
         JOIN batches b ON b.id = a.batch_id",
    )
    .fetch_all(&pool)
    .await
    .unwrap();
    let views = Views::redis(
        allocation_desk::adapters::redis_read_model::RedisReadModel::new(
            redis::Client::open(REDIS_URL).unwrap(),
            &tag,
        )
        .unwrap(),
    );
    for batch in views.batches(None).await.unwrap() {
        assert!(batch.allocated <= batch.purchased, "{batch:?}");
    }

    // Every allocation, first or after a quantity change, was published.
    let mut announced = HashSet::new();
    while let Ok(Some(message)) =
        tokio::time::timeout(Duration::from_millis(200), published.next()).await
    {
        let payload: Value = serde_json::from_slice(message.get_payload_bytes()).unwrap();
        announced.insert((
            payload["orderid"].to_string(),
            payload["batchref"].to_string(),
        ));
    }
    for (orderid, reference, _) in &allocations {
        let key = (json!(orderid).to_string(), json!(reference).to_string());
        assert!(announced.contains(&key), "{key:?} was never published");
    }

    // The read models in Redis equal the write model, and a rebuild from it.
    let snapshot = async || {
        let mut by_order = Vec::new();
        for orderid in &orders {
            let orderid = OrderId::parse(orderid).unwrap();
            by_order.push(views.allocations(&orderid).await.unwrap());
        }
        (views.batches(None).await.unwrap(), by_order)
    };
    let before = snapshot().await;
    let shown: usize = before.1.iter().map(Vec::len).sum();
    assert_eq!(shown, allocations.len());
    for (reference, allocated) in before.0.iter().map(|b| (&b.reference, b.allocated)) {
        let total: i64 = allocations
            .iter()
            .filter(|(_, batch, _)| batch == reference)
            .map(|(_, _, qty)| qty)
            .sum();
        assert_eq!(allocated, total, "{reference}");
    }
    let (rebuilding, _) = open_store(&db.config(ReadModelStore::Redis)).await.unwrap();
    rebuilding.rebuild_read_models().await.unwrap();
    assert_eq!(snapshot().await, before);

    // One e-mail per line that ran out.
    let notices = views.latest_out_of_stock(i64::MAX).await.unwrap();
    assert!(!notices.is_empty(), "the line too large ran out");
    eventually("one e-mail per notice", async || {
        sink.received().len() == notices.len()
    })
    .await;
    let subject = format!("Subject: Out of stock for {sku}");
    assert!(
        sink.received()
            .iter()
            .all(|mail| mail.data.contains(&subject))
    );
}
