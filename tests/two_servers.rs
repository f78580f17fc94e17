//! Two server processes on one database under a stream of concurrent allocations of
//! one SKU: every request is answered 202 or 409, none fails, and no batch is ever
//! allocated beyond its quantity. The read models agree with the write model after.

mod common;

use std::sync::Arc;

use common::TestDb;
use common::server::Server;
use serde_json::json;
use sqlx::Row;
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
