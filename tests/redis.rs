//! The reference's Redis scenario (`shared/contract.md`) against the real server, the
//! real Redis on 127.0.0.1:6379 and the test's own database.

mod common;

use std::time::Duration;

use common::server::Server;
use futures_util::StreamExt;
use redis::AsyncCommands;
use serde_json::{Value, json};

const REDIS: &str = "redis://127.0.0.1:6379";

fn client() -> redis::Client {
    redis::Client::open(REDIS).unwrap()
}

async fn publish(channel: &str, payload: &str) {
    let mut connection = client().get_multiplexed_async_connection().await.unwrap();
    let _: () = connection.publish(channel, payload).await.unwrap();
}

/// Waits until someone listens on `change_batch_quantity`: the server subscribes
/// shortly after it starts answering HTTP.
async fn wait_for_consumer() {
    let mut connection = client().get_multiplexed_async_connection().await.unwrap();
    for _ in 0..100 {
        let (_, listeners): (String, u32) = redis::cmd("PUBSUB")
            .arg("NUMSUB")
            .arg("change_batch_quantity")
            .query_async::<(String, u32)>(&mut connection)
            .await
            .unwrap();
        if listeners > 0 {
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("nobody subscribed to change_batch_quantity");
}

/// Waits at most 3 s for a `line_allocated` message about `orderid`, and returns it.
async fn next_allocation_of(messages: &mut redis::aio::PubSubStream, orderid: &str) -> Value {
    let wait = async {
        while let Some(message) = messages.next().await {
            let payload: Value = serde_json::from_slice(message.get_payload_bytes()).unwrap();
            if payload["orderid"] == orderid {
                return payload;
            }
        }
        panic!("the subscription ended");
    };
    tokio::time::timeout(Duration::from_secs(3), wait)
        .await
        .expect("no line_allocated message within 3 s")
}

#[tokio::test]
async fn a_quantity_change_from_redis_reallocates_and_is_published() {
    let server = Server::start(&[("REDIS_URL", REDIS)]).await;
    let run = format!(
        "{}-{}",
        std::process::id(),
        chrono::Utc::now().timestamp_micros()
    );
    let (sku, early, late, order) = (
        format!("SKU-{run}"),
        format!("early-{run}"),
        format!("late-{run}"),
        format!("order-{run}"),
    );
    let mut pubsub = client().get_async_pubsub().await.unwrap();
    pubsub.subscribe("line_allocated").await.unwrap();
    let mut allocations = pubsub.into_on_message();
    wait_for_consumer().await;

    for (reference, eta) in [(&early, "2011-01-01"), (&late, "2011-01-02")] {
        let response = server
            .post(
                "/add_batch",
                json!({"ref": reference, "sku": sku, "qty": 10, "eta": eta}),
            )
            .await;
        assert_eq!(response.status(), 201);
    }
    let response = server
        .post(
            "/allocate",
            json!({"orderid": order, "sku": sku, "qty": 10}),
        )
        .await;
    assert_eq!(response.status(), 202);
    assert_eq!(
        next_allocation_of(&mut allocations, &order).await,
        json!({"orderid": order, "sku": sku, "qty": 10, "batchref": early})
    );

    // Messages the consumer must survive: not JSON, a missing field, an unknown batch.
    publish("change_batch_quantity", "not json").await;
    publish("change_batch_quantity", r#"{"batchref": "x"}"#).await;
    publish(
        "change_batch_quantity",
        &json!({"batchref": format!("nope-{run}"), "qty": 1}).to_string(),
    )
    .await;

    publish(
        "change_batch_quantity",
        &json!({"batchref": early, "qty": 5}).to_string(),
    )
    .await;

    assert_eq!(
        next_allocation_of(&mut allocations, &order).await,
        json!({"orderid": order, "sku": sku, "qty": 10, "batchref": late})
    );
    let view: Value = server
        .get(&format!("/allocations/{order}"))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(view, json!([{"sku": sku, "batchref": late}]));
}
