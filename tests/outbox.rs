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

#[tokio::test]
async fn a_relay_marks_every_row_it_names_and_only_those() {
    let db = TestDb::new().await;
    // More rows than one statement marks, so the marks go out in several.
    record_mail(&db, 250).await;
    let relay = db.store().await;
    let claimed = relay.claim_mail(250).await.unwrap();
    let ids: Vec<_> = claimed.rows.iter().map(|row| row.id).collect();
    assert_eq!(ids.len(), 250);
    // Every third mail refused for good, the last ten left for the next round.
    let outcomes: Vec<_> = ids[..240]
        .iter()
        .enumerate()
        .map(|(n, id)| {
            let outcome = if n % 3 == 0 {
                Outcome::GivenUp
            } else {
                Outcome::Sent
            };
            (*id, outcome)
        })
        .collect();
    claimed.finish(&outcomes).await.unwrap();

    let left: Vec<(i64, i64)> = sqlx::query_as("SELECT id, sent FROM outgoing_mail ORDER BY id")
        .fetch_all(relay.pool())
        .await
        .unwrap();
    let given_up = ids[..240].iter().step_by(3).map(|id| (*id, 2));
    let waiting = ids[240..].iter().map(|id| (*id, 0));
    assert_eq!(left, given_up.chain(waiting).collect::<Vec<_>>());
    let next = relay.claim_mail(250).await.unwrap();
    assert_eq!(
        next.rows.iter().map(|row| row.id).collect::<Vec<_>>(),
        ids[240..]
    );
}
