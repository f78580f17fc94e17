//! The reports against a real database: their numbers agree with what the commands did
//! (quantity changes and reallocations included), their CSV holds the same rows as
//! their pages, and bad filters get a 400.

mod common;

use allocation_desk::bootstrap::{Services, open_store};
use allocation_desk::domain::commands::Deallocate;
use allocation_desk::views::reports::{ReportKind, ReportPage, ReportQuery};
use axum::body::Body;
use axum::http::{Request, StatusCode};
use chrono::NaiveDate;
use common::http::{App, Reply};
use common::*;

const TODAY: &str = "2031-01-15";

fn today() -> NaiveDate {
    NaiveDate::parse_from_str(TODAY, "%Y-%m-%d").unwrap()
}

async fn page(services: &Services, kind: ReportKind, query: &[(&str, &str)]) -> ReportPage {
    let pairs: Vec<(String, String)> = query
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect();
    let query = ReportQuery::parse(kind, &pairs).unwrap();
    services.reports.page(kind, query, today()).await.unwrap()
}

fn cells(page: &ReportPage) -> Vec<Vec<&str>> {
    page.rows
        .iter()
        .map(|row| row.cells.iter().map(String::as_str).collect())
        .collect()
}

/// Two SKUs; warehouse stock and shipments, one overdue; lines allocated, moved by a
/// shrinking batch, cancelled, and one out of stock.
async fn run_warehouse(services: &Services) {
    let bus = &services.bus;
    for (reference, sku, units, eta) in [
        ("lamp-stock", "LAMP", 10, None),
        ("lamp-ship-1", "LAMP", 20, Some("2031-01-10")),
        ("lamp-ship-2", "LAMP", 5, Some("2031-01-21")),
        ("chair-stock", "CHAIR", 4, None),
    ] {
        bus.handle(create_batch(reference, sku, units, eta))
            .await
            .unwrap();
    }
    for (orderid, sku, units) in [
        ("o1", "LAMP", 6),
        ("o2", "LAMP", 3),
        ("o3", "CHAIR", 4),
        ("o4", "CHAIR", 1),
        ("o5", "LAMP", 2),
    ] {
        bus.handle(allocate(orderid, sku, units)).await.unwrap();
    }
    // Frees o2 (3), the batch's newest line; it moves to the first shipment, where
    // o5 (2) already went.
    bus.handle(change_quantity("lamp-stock", 7)).await.unwrap();
    bus.handle(Deallocate {
        line: line("o1", "LAMP", 6),
    })
    .await
    .unwrap();
}

#[tokio::test]
async fn the_stock_position_adds_up_after_moves_and_cancellations() {
    let db = TestDb::new().await;
    let services = db.services().await;
    run_warehouse(&services).await;

    let stock = page(&services, ReportKind::Stock, &[]).await;
    // SKU, purchased, allocated, available, in warehouse, incoming, open lines, next ETA.
    assert_eq!(
        cells(&stock),
        [
            ["CHAIR", "4", "4", "0", "0", "0", "1", ""],
            ["LAMP", "32", "5", "27", "7", "20", "2", "2031-01-10"],
        ]
    );
    assert_eq!(stock.rows[0].flag.as_deref(), Some("Nothing available"));
    assert_eq!(stock.rows[1].flag, None);
    let totals = stock.totals.unwrap();
    assert_eq!(totals[..4], ["2 SKUs", "36", "9", "27"]);

    let short = page(&services, ReportKind::Stock, &[("short", "1")]).await;
    assert_eq!(short.matching, 1);
    let sorted = page(
        &services,
        ReportKind::Stock,
        &[("sku", "am"), ("sort", "available"), ("dir", "desc")],
    )
    .await;
    assert_eq!(cells(&sorted)[0][0], "LAMP");
    assert_eq!(sorted.matching, 1);

    // The chart shows allocated and available units of the SKUs listed.
    let chart = stock.chart.unwrap();
    assert_eq!(chart.bars[1].label, "LAMP");
    assert_eq!(chart.bars[1].values, [5, 27]);

    // A rebuild from the write model gives the same figures.
    let (store, _) = open_store(&db.config(allocation_desk::config::ReadModelStore::Sql))
        .await
        .unwrap();
    store.rebuild_read_models().await.unwrap();
    assert_eq!(
        page(&services, ReportKind::Stock, &[]).await.rows,
        stock.rows
    );
}

#[tokio::test]
async fn the_incoming_schedule_groups_weeks_and_flags_overdue_batches() {
    let db = TestDb::new().await;
    let services = db.services().await;
    run_warehouse(&services).await;

    let incoming = page(&services, ReportKind::Incoming, &[]).await;
    assert_eq!(
        cells(&incoming),
        [
            ["2031-01-10", "lamp-ship-1", "LAMP", "20", "5", "15"],
            ["2031-01-21", "lamp-ship-2", "LAMP", "5", "0", "5"],
        ]
    );
    assert_eq!(
        incoming.rows[0].group.as_deref(),
        Some("Week of 2031-01-06")
    );
    assert_eq!(
        incoming.rows[1].group.as_deref(),
        Some("Week of 2031-01-20")
    );
    assert_eq!(incoming.rows[0].flag.as_deref(), Some("Overdue"));
    assert_eq!(incoming.rows[1].flag, None);
    let chart = incoming.chart.unwrap();
    assert_eq!(chart.bars.len(), 2);
    assert_eq!(chart.bars[0].values, [5, 15]);

    let later = page(&services, ReportKind::Incoming, &[("from", "2031-01-11")]).await;
    assert_eq!(cells(&later)[0][1], "lamp-ship-2");
    assert_eq!(later.matching, 1);
}

#[tokio::test]
async fn the_allocations_report_shows_where_each_line_waits() {
    let db = TestDb::new().await;
    let services = db.services().await;
    run_warehouse(&services).await;

    let all = page(
        &services,
        ReportKind::Allocations,
        &[("sort", "orderid"), ("dir", "asc")],
    )
    .await;
    let rows: Vec<Vec<&str>> = cells(&all)
        .into_iter()
        .map(|row| row[1..].to_vec())
        .collect();
    // Order, SKU, qty, batch, expected, by.
    assert_eq!(
        rows,
        [
            ["o2", "LAMP", "3", "lamp-ship-1", "2031-01-10", "system"],
            ["o3", "CHAIR", "4", "chair-stock", "in warehouse", "system"],
            ["o5", "LAMP", "2", "lamp-ship-1", "2031-01-10", "system"],
        ]
    );
    assert!(
        all.rows.iter().all(|row| row.cells[0].len() == 16),
        "{all:?}"
    );
    assert_eq!(all.totals.unwrap()[..4], ["3 lines", "", "", "9"]);

    let batch = page(
        &services,
        ReportKind::Allocations,
        &[("batch", "lamp-ship-1")],
    )
    .await;
    assert_eq!(batch.matching, 2);
    let order = page(&services, ReportKind::Allocations, &[("order", "o3")]).await;
    assert_eq!(order.matching, 1);
    let now = chrono::Utc::now().date_naive().to_string();
    let today = page(
        &services,
        ReportKind::Allocations,
        &[("from", &now), ("to", &now)],
    )
    .await;
    assert_eq!(today.matching, 3);
    assert_eq!(today.chart.unwrap().bars[0].values, [9]);
    let before = page(&services, ReportKind::Allocations, &[("to", "2020-01-01")]).await;
    assert_eq!(before.matching, 0);
}

#[tokio::test]
async fn the_out_of_stock_report_counts_per_sku() {
    let db = TestDb::new().await;
    let services = db.services().await;
    run_warehouse(&services).await;
    services
        .bus
        .handle(allocate("o6", "CHAIR", 2))
        .await
        .unwrap();
    services
        .bus
        .handle(allocate("o7", "CHAIR", 3))
        .await
        .unwrap();

    let notices = page(
        &services,
        ReportKind::OutOfStock,
        &[("sort", "orderid"), ("dir", "asc")],
    )
    .await;
    let rows: Vec<Vec<&str>> = cells(&notices)
        .into_iter()
        .map(|row| row[1..].to_vec())
        .collect();
    assert_eq!(
        rows,
        [
            ["CHAIR", "1", "o4", "waiting"],
            ["CHAIR", "2", "o6", "waiting"],
            ["CHAIR", "3", "o7", "waiting"],
        ]
    );
    let chart = notices.chart.unwrap();
    assert_eq!(
        (chart.bars[0].label.as_str(), chart.bars[0].values[0]),
        ("CHAIR", 3)
    );
}

async fn get(app: &App, path: &str) -> Reply {
    app.send(Request::get(path).body(Body::empty()).unwrap())
        .await
}

/// The CSV's records, header first.
fn records(csv: &str) -> Vec<Vec<String>> {
    csv::ReaderBuilder::new()
        .has_headers(false)
        .from_reader(csv.as_bytes())
        .records()
        .map(|record| record.unwrap().iter().map(str::to_owned).collect())
        .collect()
}

#[tokio::test]
async fn the_csv_holds_every_row_of_every_page() {
    let db = TestDb::new().await;
    let services = db.services().await;
    services
        .bus
        .handle(create_batch("big", "SOFA, \"LARGE\"", 1_000, None))
        .await
        .unwrap();
    for n in 0..150 {
        services
            .bus
            .handle(allocate(&format!("order-{n:03}"), "SOFA, \"LARGE\"", 1))
            .await
            .unwrap();
    }
    let query = [("sort", "orderid"), ("dir", "asc")];
    let first = page(&services, ReportKind::Allocations, &query).await;
    let second = page(
        &services,
        ReportKind::Allocations,
        &[query[0], query[1], ("page", "2")],
    )
    .await;
    assert_eq!(
        (first.pages, first.rows.len(), second.rows.len()),
        (2, 100, 50)
    );

    let app = App::over(db, services).await;
    let reply = get(&app, "/reports/allocations.csv?sort=orderid&dir=asc&page=2").await;
    assert_eq!(reply.status, StatusCode::OK);
    let records = records(&reply.body);
    assert_eq!(
        records[0],
        [
            "Allocated",
            "Order",
            "SKU",
            "Qty",
            "Batch",
            "Expected",
            "By"
        ]
    );
    let paged: Vec<Vec<String>> = first
        .rows
        .iter()
        .chain(&second.rows)
        .map(|row| row.cells.clone())
        .collect();
    assert_eq!(records[1..], paged[..]);
    assert_eq!(records[1][2], "SOFA, \"LARGE\"");
}

#[tokio::test]
async fn reports_render_whole_and_refuse_bad_filters_with_400() {
    let db = TestDb::new().await;
    let services = db.services().await;
    run_warehouse(&services).await;
    let app = App::over(db, services).await;

    let index = get(&app, "/reports").await;
    assert_eq!(index.status, StatusCode::OK);
    for kind in ReportKind::ALL {
        assert!(index.body.contains(&kind.path()), "{}", kind.path());
        let report = get(&app, &kind.path()).await;
        assert_eq!(report.status, StatusCode::OK, "{}", kind.path());
        assert!(
            report.body.contains("<table class=\"report\""),
            "{}",
            report.body
        );
        assert!(report.body.contains("<svg"), "{}: a chart", kind.path());
        assert!(report.body.contains(&kind.csv_path()));
    }

    let refused = get(&app, "/reports/allocations?from=last+week").await;
    assert_eq!(refused.status, StatusCode::BAD_REQUEST);
    assert!(
        refused
            .body
            .contains("Allocated from must be a date as YYYY-MM-DD"),
        "{}",
        refused.body
    );
    let refused_csv = get(&app, "/reports/stock.csv?sort=colour").await;
    assert_eq!(refused_csv.status, StatusCode::BAD_REQUEST);
    assert!(refused_csv.message().starts_with("sort must be one of"));
    assert_eq!(
        get(&app, "/reports/nonsense").await.status,
        StatusCode::NOT_FOUND
    );
}
