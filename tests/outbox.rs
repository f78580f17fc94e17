//! The outbox's claims, on the real database: two relays (two servers' worth) never
//! hand out the same row, and a relay's claim never holds up the writers.

mod common;

use std::time::Duration;

use allocation_desk::adapters::sql::Outcome;
use common::*;

/// Records `count` e-mails, as allocations that ran out of stock do.
async fn record_mail(db: &TestDb, count: usize) {
    let store = db.store().await;
    for n in 0..count {
        sqlx::query("INSERT INTO outgoing_mail (recipient, subject, body) VALUES ($1, $2, $3)")
            .bind("stock@made.com")
            .bind(format!("Out of stock {n}"))
            .bind("")
            .execute(store.pool())
            .await
            .unwrap();
    }
}

#[tokio::test]
async fn two_relays_never_hand_out_the_same_row() {
    let db = TestDb::new().await;
    record_mail(&db, 3).await;
    let (one, other) = (db.store().await, db.store().await);

    let claimed = one.claim_mail(100).await.unwrap();
    assert_eq!(claimed.rows.len(), 3);
    assert!(
        other.claim_mail(100).await.unwrap().rows.is_empty(),
        "the rows are the first relay's until it is done"
    );

    // The first relay sent one mail, then lost the mail server.
    let sent = claimed.rows[0].id;
    claimed.finish(&[(sent, Outcome::Sent)]).await.unwrap();
    let rest = other.claim_mail(100).await.unwrap();
    let subjects: Vec<_> = rest
        .rows
        .iter()
        .map(|row| row.mail.subject.as_str())
        .collect();
    assert_eq!(subjects, ["Out of stock 1", "Out of stock 2"]);
}

#[tokio::test]
async fn a_claim_held_while_a_relay_delivers_holds_up_no_command() {
    let db = TestDb::new().await;
    record_mail(&db, 1).await;
    let relay = db.store().await;
    let claimed = relay.claim_mail(100).await.unwrap();
    assert_eq!(claimed.rows.len(), 1);

    // With the claim still held, as while the relay waits on the mail server.
    let bus = db.bus().await;
    let handled = tokio::time::timeout(
        Duration::from_secs(3),
        bus.handle(create_batch("b1", "LAMP", 10, None)),
    )
    .await
    .expect("a command waited on the relay's claim");
    handled.unwrap();
    drop(claimed);
}
