//! The Redis entry point: `change_batch_quantity` messages become commands on the bus.
//! Nothing a message says can stop it: a malformed message or an unknown batch is
//! logged and skipped, and a lost connection is made again.

use std::time::Duration;

use futures_util::StreamExt;
use serde::Deserialize;

use crate::adapters::redis_events::CHANGE_BATCH_QUANTITY;
use crate::domain::commands::ChangeBatchQuantity;
use crate::domain::values::{BatchRef, Quantity};
use crate::service_layer::messagebus::MessageBus;

/// How long to wait before subscribing again after the connection is lost.
const RECONNECT_PAUSE: Duration = Duration::from_secs(1);

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
    if let Err(error) = bus.handle(command).await {
        tracing::warn!(%error, "{CHANGE_BATCH_QUANTITY} refused");
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
