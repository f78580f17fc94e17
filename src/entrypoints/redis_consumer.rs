//! The Redis entry point: `change_batch_quantity` messages become commands on the bus.
//! Nothing a message says can stop it: a malformed message or an unknown batch is
//! logged and skipped, and a lost connection is made again.

use std::time::Duration;

use futures_util::StreamExt;
use serde::Deserialize;

use crate::adapters::redis_events::CHANGE_BATCH_QUANTITY;
use crate::domain::commands::ChangeBatchQuantity;
use crate::domain::values::{BatchRef, Quantity};
use crate::service_layer::ServiceError;
use crate::service_layer::messagebus::MessageBus;

/// How long to wait before subscribing again after the connection is lost.
const RECONNECT_PAUSE: Duration = Duration::from_secs(1);

/// Pub/sub delivers a message once: one the database failed to take is tried again,
/// this many times in all, waiting twice as long each time (0.5 s, 1 s, ... 8 s: close to
/// a minute in all), so a database restart loses nothing. Messages arriving meanwhile
/// wait in the subscription. Only then is the message logged and dropped.
const ATTEMPTS: u32 = 10;
const FIRST_PAUSE: Duration = Duration::from_millis(500);
const LONGEST_PAUSE: Duration = Duration::from_secs(8);

#[derive(Deserialize)]
struct ChangeBatchQuantityMessage {
    batchref: String,
    qty: i64,
}

/// Consumes `change_batch_quantity` for as long as the process runs.
pub async fn run(client: redis::Client, bus: &MessageBus) {
    loop {
        match consume(&client, bus).await {
            Ok(()) => tracing::warn!("Redis closed the subscription; subscribing again"),
            Err(error) => tracing::warn!(%error, "Redis subscription lost; subscribing again"),
        }
        tokio::time::sleep(RECONNECT_PAUSE).await;
    }
}

async fn consume(client: &redis::Client, bus: &MessageBus) -> redis::RedisResult<()> {
    let mut pubsub = client.get_async_pubsub().await?;
    pubsub.subscribe(CHANGE_BATCH_QUANTITY).await?;
    tracing::info!("consuming {CHANGE_BATCH_QUANTITY} from Redis");
    let mut messages = pubsub.on_message();
    while let Some(message) = messages.next().await {
        handle(bus, message.get_payload_bytes()).await;
    }
    Ok(())
}

/// Runs one message's command; whatever goes wrong is logged, never raised.
pub async fn handle(bus: &MessageBus, payload: &[u8]) {
    let command = match parse(payload) {
        Ok(command) => command,
        Err(problem) => {
            let payload = String::from_utf8_lossy(payload);
            tracing::warn!(%problem, %payload, "skipped a malformed {CHANGE_BATCH_QUANTITY} message");
            return;
        }
    };
    let mut pause = FIRST_PAUSE;
    for attempt in 1..=ATTEMPTS {
        match bus.handle(command.clone()).await {
            Ok(()) => return,
            Err(ServiceError::Store(error)) if attempt < ATTEMPTS => {
                tracing::warn!(%error, attempt, "{CHANGE_BATCH_QUANTITY}: storage failed, trying again");
                tokio::time::sleep(pause).await;
                pause = (pause * 2).min(LONGEST_PAUSE);
            }
            Err(error) => {
                tracing::warn!(%error, "{CHANGE_BATCH_QUANTITY} not applied");
                return;
            }
        }
    }
}

fn parse(payload: &[u8]) -> Result<ChangeBatchQuantity, String> {
    let message: ChangeBatchQuantityMessage =
        serde_json::from_slice(payload).map_err(|e| e.to_string())?;
    Ok(ChangeBatchQuantity {
        reference: BatchRef::parse(&message.batchref)
            .map_err(|e| e.in_field("batchref").to_string())?,
        qty: Quantity::new(message.qty).map_err(|e| e.in_field("qty").to_string())?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_message_becomes_the_command() {
        let command = parse(br#"{"batchref": "b1", "qty": 5}"#).unwrap();
        assert_eq!(command.reference.as_str(), "b1");
        assert_eq!(command.qty.get(), 5);
    }

    // Paused time: the pauses between attempts pass at once.
    #[tokio::test(start_paused = true)]
    async fn a_message_the_database_fails_to_take_is_tried_again() {
        use std::sync::Arc;

        use crate::domain::commands::CreateBatch;
        use crate::service_layer::fakes::FakeStore;

        let store = FakeStore::default();
        let bus = MessageBus::new(Arc::new(store.clone()));
        bus.handle(CreateBatch {
            reference: BatchRef::parse("b1").unwrap(),
            sku: crate::domain::values::Sku::parse("LAMP").unwrap(),
            qty: Quantity::new(10).unwrap(),
            eta: None,
        })
        .await
        .unwrap();
        store.break_read_model();

        let started = tokio::time::Instant::now();
        handle(&bus, br#"{"batchref": "b1", "qty": 5}"#).await;

        // Each attempt's quantity change reached the (broken) read model, and the
        // attempts were spread over time enough to outlast a database restart.
        assert_eq!(store.refused_read_model_writes(), ATTEMPTS as usize);
        assert!(started.elapsed() >= Duration::from_secs(40));
    }

    #[test]
    fn malformed_messages_are_refused_with_a_reason() {
        assert!(parse(b"not json").is_err());
        assert!(parse(br#"{"batchref": "b1"}"#).unwrap_err().contains("qty"));
        assert!(
            parse(br#"{"batchref": "", "qty": 5}"#)
                .unwrap_err()
                .contains("batchref")
        );
        assert!(
            parse(br#"{"batchref": "b1", "qty": -1}"#)
                .unwrap_err()
                .contains("qty")
        );
    }
}
