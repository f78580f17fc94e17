//! `/`: stock per SKU and the latest out-of-stock notices.

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::components::A;

use super::common::{Column, failure, instant_text, listing, loading};
use super::reads::dashboard;
use crate::routes;
use crate::views::{OutOfStockNotice, SkuStock};

#[component]
pub fn DashboardPage() -> impl IntoView {
    let data = Resource::new(|| (), |()| dashboard());
    view! {
        <Title text="Stock" />
        <h1>"Stock"</h1>
        <nav class="actions" aria-label="Tasks">
            <A href="/batches">"Add batch"</A>
            <A href="/allocate">"Allocate order line"</A>
            <A href="/orders">"Find order"</A>
            <A href="/reports">"Reports"</A>
        </nav>
        <Suspense fallback=loading>
            {move || Suspend::new(async move {
                match data.await {
                    Ok(data) => {
                        view! {
                            <StockTable stock=data.stock />
                            <Notices notices=data.notices />
                        }
                            .into_any()
                    }
                    Err(error) => failure(error),
                }
            })}
        </Suspense>
    }
}

#[component]
fn StockTable(stock: Vec<SkuStock>) -> impl IntoView {
    let rows = stock
        .into_iter()
        .map(|row| {
            let sold_out = row.available <= 0;
            view! {
                <tr class:sold-out=sold_out>
                    <td>
                        <A href=routes::batches_of(&row.sku)>{row.sku.clone()}</A>
                    </td>
                    <td class="number">{row.purchased}</td>
                    <td class="number">{row.allocated}</td>
                    <td class="number">{row.available}</td>
                    <td class="number">{row.batches}</td>
                    <td>{row.next_eta.unwrap_or_else(|| "—".to_owned())}</td>
                </tr>
            }
        })
        .collect();
    let columns = [
        Column::Text("SKU"),
        Column::Number("Purchased"),
        Column::Number("Allocated"),
        Column::Number("Available"),
        Column::Number("Batches"),
        Column::Text("Next ETA"),
    ];
    let empty = view! { "No batches yet. " <A href="/batches">"Add the first batch"</A> "." };
    listing("stock", &columns, rows, empty)
}

#[component]
fn Notices(notices: Vec<OutOfStockNotice>) -> impl IntoView {
    let rows = notices
        .into_iter()
        .map(|notice| {
            view! {
                <tr>
                    <td>{instant_text(&notice.noticed_at)}</td>
                    <td>
                        <A href=routes::order(&notice.orderid)>{notice.orderid.clone()}</A>
                    </td>
                    <td>{notice.sku}</td>
                    <td class="number">{notice.qty}</td>
                </tr>
            }
        })
        .collect();
    let columns = [
        Column::Text("When (UTC)"),
        Column::Text("Order"),
        Column::Text("SKU"),
        Column::Number("Quantity"),
    ];
    let body = listing("notices", &columns, rows, "No order has run out of stock.");
    view! {
        <section aria-labelledby="notices-heading">
            <h2 id="notices-heading">"Latest out-of-stock notices"</h2>
            {body}
        </section>
    }
}
