//! Stopping gracefully: on SIGTERM the server finishes the requests it has begun and
//! exits cleanly; with two servers on one database, restarting one under load costs
//! the other nothing.

mod common;

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::Duration;

use common::TestDb;
use common::server::Server;
use serde_json::json;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

#[tokio::test]
async fn a_request_begun_before_sigterm_is_answered_before_the_server_exits() {
    let mut server = Server::start(&[]).await;
    let address = server.base.trim_start_matches("http://").to_owned();
    let body = json!({"ref": "b1", "sku": "LAMP", "qty": 10, "eta": null}).to_string();
    let (first, rest) = body.split_at(body.len() / 2);

    // The request is under way: headers and half its body are in.
    let mut connection = TcpStream::connect(&address).await.unwrap();
    let head = format!(
        "POST /add_batch HTTP/1.1\r\nHost: {address}\r\nContent-Type: application/json\r\n\
         Content-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    );
    connection.write_all(head.as_bytes()).await.unwrap();
    connection.write_all(first.as_bytes()).await.unwrap();
    tokio::time::sleep(Duration::from_millis(200)).await;

    server.terminate();
    tokio::time::sleep(Duration::from_millis(300)).await;
    connection.write_all(rest.as_bytes()).await.unwrap();
    let mut response = String::new();
    connection.read_to_string(&mut response).await.unwrap();
    assert!(response.starts_with("HTTP/1.1 201"), "{response}");

    let status = server.exit_status(Duration::from_secs(10));
    assert!(status.success(), "exited with {status}");
    assert!(
        TcpStream::connect(&address).await.is_err(),
        "still accepting connections"
    );
}

#[tokio::test]
async fn restarting_one_server_costs_the_other_nothing() {
    let db = TestDb::new().await;
    let mut restarted = Server::on(&db.url, &[]).await;
    let steady = Server::on(&db.url, &[]).await;
    let batch = json!({"ref": "b1", "sku": "LAMP", "qty": 1_000_000, "eta": null});
    assert_eq!(steady.post("/add_batch", batch).await.status(), 201);
    // The restarted server's own check allocates another product: on the one the
    // clients keep changing it could lose every race (a 409), which says nothing of
    // the restart.
    let other = json!({"ref": "b2", "sku": "DESK", "qty": 10, "eta": null});
    assert_eq!(steady.post("/add_batch", other).await.status(), 201);

    let stop = Arc::new(AtomicBool::new(false));
    let answered = Arc::new(AtomicUsize::new(0));
    let clients: Vec<_> = (0..4)
        .map(|client| {
            let url = format!("{}/allocate", steady.base);
            let (stop, answered) = (Arc::clone(&stop), Arc::clone(&answered));
            tokio::spawn(async move {
                let http = reqwest::Client::new();
                let mut n = 0;
                while !stop.load(Ordering::Relaxed) {
                    n += 1;
                    let body =
                        json!({"orderid": format!("o-{client}-{n}"), "sku": "LAMP", "qty": 1});
                    let status = http.post(&url).json(&body).send().await.unwrap().status();
                    assert!(
                        status.as_u16() == 202 || status.as_u16() == 409,
                        "the steady server answered {status}"
                    );
                    answered.fetch_add(1, Ordering::Relaxed);
                }
            })
        })
        .collect();

    tokio::time::sleep(Duration::from_millis(300)).await;
    restarted.terminate();
    assert!(restarted.exit_status(Duration::from_secs(10)).success());
    let restarted = Server::on(&db.url, &[]).await;
    let after = json!({"orderid": "after-restart", "sku": "DESK", "qty": 1});
    assert_eq!(restarted.post("/allocate", after).await.status(), 202);
    tokio::time::sleep(Duration::from_millis(300)).await;

    stop.store(true, Ordering::Relaxed);
    for client in clients {
        client.await.unwrap();
    }
    assert!(answered.load(Ordering::Relaxed) > 20);
}
