//! Crashes under load: the server is killed (SIGKILL) twice while allocations stream in,
//! and started again on the same database. Every allocation answered 202 is then in the
//! write model, no batch is over-allocated, and the read models equal a rebuild from the
//! write model. Runs on SQLite, and on PostgreSQL with `TEST_POSTGRES_URL`.

mod common;

use std::collections::BTreeSet;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, RwLock};
use std::time::Duration;

use common::TestDb;
use common::server::Server;
use serde_json::json;
use sqlx::AnyPool;

/// Clients sending allocations at once.
const CLIENTS: usize = 8;

/// Runs `sql` and gives its rows as text, sorted: a read model's content, ids aside.
async fn content(pool: &AnyPool, sql: &str) -> Vec<String> {
    let rows: Vec<(String,)> = sqlx::query_as(sql).fetch_all(pool).await.unwrap();
    let mut rows: Vec<String> = rows.into_iter().map(|(row,)| row).collect();
    rows.sort();
    rows
}

async fn read_models(pool: &AnyPool) -> [Vec<String>; 3] {
    [
        content(
            pool,
            "SELECT orderid || '/' || sku || '/' || CAST(qty AS TEXT) || '/' || batchref \
             FROM allocations_view",
        )
        .await,
        content(
            pool,
            "SELECT reference || '/' || CAST(purchased_quantity AS TEXT) || '/' || \
                    CAST(allocated_quantity AS TEXT) FROM batches_view",
        )
        .await,
        content(
            pool,
            "SELECT sku || '/' || CAST(batches AS TEXT) || '/' || \
                    CAST(warehouse_allocated AS TEXT) || '/' || \
                    CAST(incoming_allocated AS TEXT) || '/' || CAST(open_lines AS TEXT) \
             FROM sku_stock_view",
        )
        .await,
    ]
}

#[tokio::test]
async fn nothing_acknowledged_is_lost_when_the_server_crashes() {
    let db = TestDb::new().await;
    let mut server = Server::on(&db.url, &[]).await;
    for (reference, eta) in [("stock", None), ("ship-1", Some("2031-01-01"))] {
        let batch = json!({"ref": reference, "sku": "LAMP", "qty": 100_000, "eta": eta});
        assert_eq!(server.post("/add_batch", batch).await.status(), 201);
    }

    let base = Arc::new(RwLock::new(server.base.clone()));
    let accepted = Arc::new(Mutex::new(BTreeSet::new()));
    let sent = Arc::new(AtomicUsize::new(0));
    let stop = Arc::new(AtomicBool::new(false));
    let clients: Vec<_> = (0..CLIENTS)
        .map(|client| {
            let (base, accepted, sent, stop) = (
                Arc::clone(&base),
                Arc::clone(&accepted),
                Arc::clone(&sent),
                Arc::clone(&stop),
            );
            tokio::spawn(async move {
                let http = reqwest::Client::new();
                let mut n = 0;
                while !stop.load(Ordering::Relaxed) {
                    n += 1;
                    let orderid = format!("order-{client}-{n}");
                    let url = format!("{}/allocate", base.read().unwrap());
                    let body = json!({"orderid": orderid, "sku": "LAMP", "qty": 1 + n % 3});
                    sent.fetch_add(1, Ordering::Relaxed);
                    // A request cut off by the crash has no answer: nothing was promised.
                    let Ok(response) = http.post(url).json(&body).send().await else {
                        tokio::time::sleep(Duration::from_millis(20)).await;
                        continue;
                    };
                    let status = response.status().as_u16();
                    assert!(status == 202 || status == 409, "answered {status}");
                    if status == 202 {
                        accepted.lock().unwrap().insert(orderid);
                    }
                }
            })
        })
        .collect();

    for _ in 0..2 {
        tokio::time::sleep(Duration::from_millis(700)).await;
        server.crash();
        server = Server::on(&db.url, &[]).await;
        *base.write().unwrap() = server.base.clone();
    }
    tokio::time::sleep(Duration::from_millis(500)).await;
    stop.store(true, Ordering::Relaxed);
    for client in clients {
        client.await.unwrap();
    }

    let store = db.store().await;
    let pool = store.pool().clone();
    let allocated: BTreeSet<String> = content(&pool, "SELECT orderid FROM allocations")
        .await
        .into_iter()
        .collect();
    let accepted = accepted.lock().unwrap().clone();
    assert!(
        accepted.len() > 100,
        "only {} of {} requests accepted",
        accepted.len(),
        sent.load(Ordering::Relaxed)
    );
    let lost: Vec<_> = accepted.difference(&allocated).collect();
    assert!(lost.is_empty(), "acknowledged but lost: {lost:?}");

    let over: Vec<String> = content(
        &pool,
        "SELECT b.reference FROM batches b JOIN allocations a ON a.batch_id = b.id \
         GROUP BY b.reference, b.purchased_quantity \
         HAVING SUM(a.qty) > b.purchased_quantity",
    )
    .await;
    assert!(over.is_empty(), "over-allocated: {over:?}");

    let before = read_models(&pool).await;
    store.rebuild_read_models().await.unwrap();
    assert_eq!(read_models(&pool).await, before);
}
