//! Out-of-stock e-mails, from the real server to a real (if minimal) SMTP server.

mod common;

use std::time::Duration;

use common::server::Server;
use common::smtp::{Received, SmtpSink};
use serde_json::json;
use tokio::net::TcpListener;

/// Waits at most 5 s for the sink to hold a message.
async fn first_message(sink: &SmtpSink) -> Received {
    for _ in 0..100 {
        if let Some(message) = sink.received().into_iter().next() {
            return message;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("no e-mail arrived within 5 s");
}

async fn run_out_of_stock(server: &Server) {
    let added = server
        .post(
            "/add_batch",
            json!({"ref": "b1", "sku": "POPULAR-CURTAINS", "qty": 9, "eta": null}),
        )
        .await;
    assert_eq!(added.status(), 201);
    let allocated = server
        .post(
            "/allocate",
            json!({"orderid": "o1", "sku": "POPULAR-CURTAINS", "qty": 10}),
        )
        .await;
    assert_eq!(allocated.status(), 202, "out of stock is not an error");
}

#[tokio::test]
async fn the_stock_team_is_mailed_when_a_line_runs_out() {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("smtp://{}", listener.local_addr().unwrap());
    let sink = SmtpSink::serve(listener);
    let server = Server::start(&[("SMTP_URL", &url)]).await;

    run_out_of_stock(&server).await;

    let message = first_message(&sink).await;
    assert_eq!(message.recipients, ["<stock@made.com>"]);
    assert!(
        message
            .data
            .contains("Subject: Out of stock for POPULAR-CURTAINS"),
        "{}",
        message.data
    );
    assert!(message.data.contains("Order o1"), "{}", message.data);
}

#[tokio::test]
async fn a_mail_that_cannot_be_sent_yet_is_sent_later() {
    // A port with nobody listening yet: the SMTP server is "down".
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let url = format!("smtp://127.0.0.1:{port}");
    let server = Server::start(&[("SMTP_URL", &url), ("STOCK_EMAIL", "buyers@made.com")]).await;

    run_out_of_stock(&server).await;
    tokio::time::sleep(Duration::from_millis(300)).await;

    // The SMTP server comes back; the relay's next round delivers.
    let sink = SmtpSink::serve(TcpListener::bind(("127.0.0.1", port)).await.unwrap());
    let message = first_message(&sink).await;
    assert_eq!(message.recipients, ["<buyers@made.com>"]);
}

#[tokio::test]
async fn a_mail_server_that_never_answers_holds_up_no_allocation() {
    // It takes connections and says nothing: the relay waits on its greeting.
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("smtp://{}", listener.local_addr().unwrap());
    tokio::spawn(async move {
        let mut held = Vec::new();
        while let Ok((stream, _)) = listener.accept().await {
            held.push(stream);
        }
    });
    let server = Server::start(&[("SMTP_URL", &url)]).await;
    run_out_of_stock(&server).await;
    tokio::time::sleep(Duration::from_millis(300)).await;

    // A relay holding SQLite's write lock while it waits would keep this waiting for
    // as long as the mail server does.
    let next = tokio::time::timeout(
        Duration::from_secs(5),
        server.post(
            "/allocate",
            json!({"orderid": "o2", "sku": "POPULAR-CURTAINS", "qty": 5}),
        ),
    )
    .await
    .expect("an allocation waited on the mail server");
    assert_eq!(next.status(), 202);
}

#[tokio::test]
async fn a_mail_refused_for_good_does_not_hold_up_the_next() {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("smtp://{}", listener.local_addr().unwrap());
    let sink = SmtpSink::serve_refusing(listener, 1);
    let server = Server::start(&[("SMTP_URL", &url)]).await;

    run_out_of_stock(&server).await;
    let again = server
        .post(
            "/allocate",
            json!({"orderid": "o2", "sku": "POPULAR-CURTAINS", "qty": 20}),
        )
        .await;
    assert_eq!(again.status(), 202);

    // The first mail was refused (554) and given up; the second arrives.
    let message = first_message(&sink).await;
    assert!(message.data.contains("Order o2"), "{}", message.data);
    tokio::time::sleep(Duration::from_millis(1500)).await;
    assert_eq!(
        sink.received().len(),
        1,
        "the refused mail is not sent again"
    );
}
